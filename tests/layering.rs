//! The layering rule, checked on the source: a module imports only from modules below it,
//! so the call path (which the proxy reuses) has no import cycles for a change to snag on.
//!
//! From the bottom: `time`, `transport` → `error` → `types` → `providers` (the adapters)
//! → `call` → `router` → `proxy` (plain Rust) → `py` (the only pyo3). Each rule below is
//! a cycle that existed once or a boundary the design depends on; the message says which.

use std::fs;
use std::path::{Path, PathBuf};

/// `(files, forbidden module, why)`: no file under `files` may name `forbidden` (`""`:
/// any module of the crate).
const RULES: &[(&str, &str, &str)] = &[
    (
        "src/providers",
        "call",
        "adapters sit below `call`; shared types (`Endpointkind`) live in `providers`",
    ),
    (
        "src/catalogue/models.rs",
        "catalogue::cost",
        "pricing reads the model map, not the other way round",
    ),
    (
        "src/error.rs",
        "types",
        "`types` builds `LlmError`s; shared helpers go below both (`time.rs`)",
    ),
    (
        "src/time.rs",
        "",
        "`time` is the floor: it imports nothing from the crate",
    ),
    (
        "src/proxy",
        "py",
        "the proxy is plain Rust; Python bindings sit above it",
    ),
];

/// Modules allowed to use the proxy: the bindings and the binary that start it.
const PROXY_USERS: &[&str] = &["src/proxy", "src/py", "src/bin"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(path) else {
        return out;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The file's module path (`src/catalogue/models.rs` → `["catalogue", "models"]`).
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(root().join("src")).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
        parts.pop();
    }
    parts
}

/// The code with `//` comments removed (doc text may name any module).
fn code_only(src: &str) -> String {
    src.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every crate path the code names, as `a::b::c`, with `use crate::{a, b::{c}}` groups
/// expanded and `super::` resolved against the file's module.
fn crate_paths(file: &Path, src: &str) -> Vec<String> {
    let module = module_of(file);
    let code = code_only(src);
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < code.len() {
        let rest = &code[i..];
        let preceded_by_ident = i > 0
            && (bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b':');
        let prefix = if preceded_by_ident {
            None
        } else if let Some(r) = rest.strip_prefix("crate::") {
            Some((Vec::new(), r))
        } else if rest.starts_with("super::") {
            // `super` of a file module is its folder's module; each further `super` goes up.
            let mut base = module.clone();
            let mut r = rest;
            while let Some(after) = r.strip_prefix("super::") {
                base.pop();
                r = after;
            }
            Some((base, r))
        } else {
            None
        };
        match prefix {
            Some((base, r)) => {
                let consumed = code.len() - i - r.len();
                let tree = path_tree(r);
                expand(&base.join("::"), tree, &mut out);
                i += consumed.max(1);
            }
            None => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    out
}

/// The path or `{...}` group at the start of `s`.
fn path_tree(s: &str) -> &str {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return &s[..i],
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &s[..=i];
                }
            }
            c if depth == 0 && !(c.is_alphanumeric() || c == '_' || c == ':' || c == '*') => {
                return &s[..i];
            }
            _ => {}
        }
    }
    s
}

fn expand(base: &str, tree: &str, out: &mut Vec<String>) {
    let join = |a: &str, b: &str| match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}::{b}"),
    };
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        out.push(join(base, tree.trim_end_matches("::")));
        return;
    };
    let head = join(base, tree[..open].trim_end_matches("::"));
    let inner = &tree[open + 1..tree.len().saturating_sub(1)];
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                expand(&head, &inner[start..i], out);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !inner[start..].trim().is_empty() {
        expand(&head, &inner[start..], out);
    }
}

/// Whether `path` is `module` or something inside it (`""` is the whole crate).
fn names(path: &str, module: &str) -> bool {
    module.is_empty()
        || path == module
        || path
            .strip_prefix(module)
            .is_some_and(|rest| rest.starts_with("::"))
}

fn violations(files: &str, forbidden: &str) -> Vec<String> {
    let mut found = Vec::new();
    for file in rust_files(&root().join(files)) {
        let Ok(src) = fs::read_to_string(&file) else {
            found.push(format!("{}: unreadable", file.display()));
            continue;
        };
        for p in crate_paths(&file, &src) {
            if names(&p, forbidden) {
                found.push(format!("{} names crate::{p}", file.display()));
            }
        }
    }
    found
}

#[test]
fn every_module_imports_only_from_below() {
    let mut broken = Vec::new();
    for (files, forbidden, why) in RULES {
        for v in violations(files, forbidden) {
            broken.push(format!("{v} ({why})"));
        }
    }
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

#[test]
fn only_the_bindings_and_the_binary_start_the_proxy() {
    let mut broken = Vec::new();
    for file in rust_files(&root().join("src")) {
        let rel = file
            .strip_prefix(root())
            .unwrap_or(&file)
            .to_string_lossy()
            .into_owned();
        if PROXY_USERS.iter().any(|u| rel.starts_with(u)) {
            continue;
        }
        let src = fs::read_to_string(&file).unwrap_or_default();
        if crate_paths(&file, &src).iter().any(|p| names(p, "proxy")) {
            broken.push(rel);
        }
    }
    assert!(
        broken.is_empty(),
        "below the proxy but importing it: {broken:?}"
    );
}

#[test]
fn pyo3_stays_in_the_bindings() {
    let mut broken = Vec::new();
    for file in rust_files(&root().join("src/proxy")) {
        let src = fs::read_to_string(&file).unwrap_or_default();
        if code_only(&src).contains("pyo3") {
            broken.push(file.display().to_string());
        }
    }
    assert!(broken.is_empty(), "pyo3 outside src/py: {broken:?}");
}

/// The checker itself: grouped imports and `super::` are seen, comments are not.
#[test]
fn the_checker_reads_grouped_imports_and_super() {
    let file = root().join("src/catalogue/models.rs");
    let src = "use crate::{call::{self, Endpointkind}, error::LlmError};\n\
               // crate::types is only mentioned\n\
               let x = super::cost::not_mapped(m, p);\n";
    let paths = crate_paths(&file, src);
    assert!(paths.iter().any(|p| names(p, "call")), "{paths:?}");
    assert!(paths.iter().any(|p| p == "error::LlmError"), "{paths:?}");
    assert!(
        paths.iter().any(|p| names(p, "catalogue::cost")),
        "{paths:?}"
    );
    assert!(!paths.iter().any(|p| names(p, "types")), "{paths:?}");
}
