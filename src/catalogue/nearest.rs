//! The catalogue names nearest a model name that resolves to no provider, for the
//! "Did you mean" part of that error (`gpt-4o-mnii` -> `gpt-4o-mini`).
//!
//! It scans every name in the map (a few milliseconds), so it runs on that error path
//! only, never on a call that resolves.

use super::models;

/// How many names an error suggests at most.
pub const MAX_SUGGESTIONS: usize = 3;

/// Up to [`MAX_SUGGESTIONS`] names a call could use instead of `model`, nearest first.
///
/// Candidates are the names that work as given: bare names LiteLLM resolves without a
/// prefix, and `provider/model` names whose provider `routable` accepts. Closeness is the
/// edit distance (a swap of two neighbours counts as one edit), case ignored, between
/// `model` and the name, or the part after its `provider/`; a name that only adds a
/// suffix to a near spelling (`claude-3-5-sonnet-20240620` for `claud-3-5-sonnet`) counts
/// one edit more than that spelling. Only names within a quarter of `model`'s length (one
/// to three edits) are offered, bare names before prefixed ones.
pub fn nearest_names(model: &str, routable: &dyn Fn(&str) -> bool) -> Vec<String> {
    let wanted: Vec<u8> = model
        .trim()
        .bytes()
        .map(|b| b.to_ascii_lowercase())
        .collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let limit = (wanted.len() / 4).clamp(1, 3);
    // (prefixed, score, provider not named in the model, full distance, name): sorted,
    // this is the order of preference (`mistral/mistral-large-latest` before
    // `azure/mistral-large-latest` for `mistral-large-latst`).
    let mut found: Vec<(bool, usize, bool, usize, String)> = Vec::new();
    let mut table = Table::default();
    let mut candidate: Vec<u8> = Vec::new();
    for name in models::names() {
        let (prefix, compared) = match name.split_once('/') {
            None => (None, name.as_str()),
            Some((prefix, rest)) => (Some(prefix), rest),
        };
        // Neither the name nor a prefix of it can be near: skip the table.
        if compared.len() + limit < wanted.len() {
            continue;
        }
        candidate.clear();
        candidate.extend(compared.bytes().map(|b| b.to_ascii_lowercase()));
        let Some((full, best_prefix)) = table.distances(&wanted, &candidate, limit) else {
            continue;
        };
        let score = full.min(best_prefix + 1);
        let usable = || match prefix {
            None => models::bare_name_provider(&name).is_some_and(routable),
            Some(p) => routable(p),
        };
        if score <= limit && usable() {
            let unnamed = prefix.is_some_and(|p| !compared.starts_with(p));
            found.push((prefix.is_some(), score, unnamed, full, name));
        }
    }
    found.sort();
    found
        .into_iter()
        .map(|(_, _, _, _, name)| name)
        .take(MAX_SUGGESTIONS)
        .collect()
}

/// Three rows of the edit-distance table, reused across candidates.
#[derive(Default)]
struct Table {
    before: Vec<usize>,
    previous: Vec<usize>,
    current: Vec<usize>,
}

impl Table {
    /// `(distance(a, b), min over prefixes p of b of distance(a, p))`, where distance is
    /// the optimal-string-alignment edit distance (insert, delete, substitute, swap two
    /// neighbours), on bytes: model names are ASCII. `None` as soon as both are sure to
    /// exceed `limit` (most names are dismissed after a few characters).
    fn distances(&mut self, a: &[u8], b: &[u8], limit: usize) -> Option<(usize, usize)> {
        let width = b.len() + 1;
        let Table {
            before,
            previous,
            current,
        } = self;
        before.clear();
        before.resize(width, 0);
        previous.clear();
        previous.extend(0..width);
        current.clear();
        current.resize(width, 0);
        let mut previous_min = 0;
        for i in 1..=a.len() {
            current[0] = i;
            let mut row_min = i;
            for j in 1..width {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut d = (previous[j] + 1)
                    .min(current[j - 1] + 1)
                    .min(previous[j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d = d.min(before[j - 2] + 1);
                }
                current[j] = d;
                row_min = row_min.min(d);
            }
            // A cell is at least the smallest of the two rows above it: once two rows
            // in a row exceed the limit, every later one does.
            if row_min > limit && previous_min > limit {
                return None;
            }
            previous_min = row_min;
            std::mem::swap(before, previous);
            std::mem::swap(previous, current);
        }
        // `previous` now holds the last row: distance(a, b[..j]) for every j.
        let full = previous[b.len()];
        let best_prefix = previous.iter().copied().min().unwrap_or(full);
        Some((full, best_prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distances(a: &str, b: &str) -> (usize, usize) {
        let unbounded = usize::MAX / 2;
        let found = Table::default().distances(a.as_bytes(), b.as_bytes(), unbounded);
        found.unwrap_or((unbounded, unbounded))
    }

    #[test]
    fn distances_count_swaps_as_one_edit_and_see_prefixes() {
        assert_eq!(distances("gpt-4o-mnii", "gpt-4o-mini"), (1, 1));
        assert_eq!(distances("abc", "abc"), (0, 0));
        assert_eq!(distances("abc", ""), (3, 3));
        assert_eq!(distances("kitten", "sitting").0, 3);
        // A suffix the user left out costs nothing against the prefix.
        assert_eq!(
            distances("claud-3-5-sonnet", "claude-3-5-sonnet-20240620"),
            (10, 1)
        );
        // Far apart: given up early rather than computed.
        let mut table = Table::default();
        assert_eq!(table.distances(b"gpt-4o-mnii", b"claude-3-opus", 2), None);
        assert!(table.distances(b"gpt-4o-mnii", b"gpt-4o-mini", 2).is_some());
    }

    #[test]
    fn misspellings_find_the_names_meant() {
        let any = |_: &str| true;
        let gpt = nearest_names("gpt-4o-mnii", &any);
        assert_eq!(gpt.first().map(String::as_str), Some("gpt-4o-mini"));
        assert!(gpt.len() <= MAX_SUGGESTIONS);
        assert_eq!(
            nearest_names("GPT-4o", &any).first().map(String::as_str),
            Some("gpt-4o")
        );
        let claude = nearest_names("claud-3-5-sonnet", &any);
        assert!(
            !claude.is_empty() && claude.iter().all(|n| n.starts_with("claude-3-5-sonnet")),
            "{claude:?}"
        );
        // Far from every name: nothing is offered rather than something unrelated.
        assert!(nearest_names("zzzz-qqqq-xxxx", &any).is_empty());
        assert!(nearest_names("", &any).is_empty());
    }

    #[test]
    fn prefixed_names_only_for_routable_providers_and_after_bare_ones() {
        let only_mistral = |p: &str| p == "mistral";
        let found = nearest_names("mistral-large-latst", &only_mistral);
        assert_eq!(
            found.first().map(String::as_str),
            Some("mistral/mistral-large-latest")
        );
        assert!(found.iter().all(|n| n.starts_with("mistral/")), "{found:?}");
        // Among equally near names, the provider the model is named after comes first.
        let any = |_: &str| true;
        assert_eq!(
            nearest_names("mistral-large-latst", &any)
                .first()
                .map(String::as_str),
            Some("mistral/mistral-large-latest")
        );
        let none = |_: &str| false;
        assert!(nearest_names("gpt-4o-mnii", &none).is_empty());
    }
}
