//! Masking findings with typed placeholders (`<EMAIL_1>`, `<PHONE_2>`) and restoring
//! them in the reply: the model never sees the values, the user sees them back.
//!
//! One [`Masker`] serves one request: the same value gets the same placeholder wherever
//! it appears (in every message, tool argument and tool result), so the model can still
//! refer to "the same address". A streamed reply is restored chunk by chunk
//! ([`Restorer`]), holding back only what could be the start of a placeholder.

use std::collections::HashMap;

use super::detect::Finding;

/// The placeholders of one request and the values behind them.
#[derive(Debug, Default, Clone)]
pub struct Masker {
    by_value: HashMap<String, String>,
    by_placeholder: HashMap<String, String>,
    counts: HashMap<String, usize>,
    longest: usize,
}

impl Masker {
    /// `text` with each finding replaced by its placeholder (`findings` in order, without
    /// overlaps, as [`super::detect::find`] returns them).
    pub fn mask(&mut self, text: &str, findings: &[Finding]) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for f in findings {
            let Some(value) = text.get(f.range.clone()) else {
                continue;
            };
            if f.range.start < at {
                continue;
            }
            out.push_str(&text[at..f.range.start]);
            out.push_str(&self.placeholder(&f.kind.label(), value));
            at = f.range.end;
        }
        out.push_str(&text[at..]);
        out
    }

    fn placeholder(&mut self, label: &str, value: &str) -> String {
        if let Some(p) = self.by_value.get(value) {
            return p.clone();
        }
        let n = self.counts.entry(label.to_string()).or_insert(0);
        *n += 1;
        let p = format!("<{label}_{n}>");
        self.longest = self.longest.max(p.len());
        self.by_value.insert(value.to_string(), p.clone());
        self.by_placeholder.insert(p.clone(), value.to_string());
        p
    }

    /// How many values were masked.
    pub fn len(&self) -> usize {
        self.by_value.len()
    }

    /// Whether nothing was masked.
    pub fn is_empty(&self) -> bool {
        self.by_value.is_empty()
    }

    /// `text` with every placeholder of this request put back to its value (other text in
    /// angle brackets is left as it is).
    pub fn restore(&self, text: &str) -> String {
        if self.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find('<') {
            out.push_str(&rest[..open]);
            let tail = &rest[open..];
            match tail.find('>').map(|close| &tail[..=close]) {
                Some(candidate) if self.by_placeholder.contains_key(candidate) => {
                    out.push_str(&self.by_placeholder[candidate]);
                    rest = &tail[candidate.len()..];
                }
                _ => {
                    out.push('<');
                    rest = &tail[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Where the text that must be held back of a streamed `text` starts: at the last
    /// `<` with no `>` after it, if what follows could still become a placeholder;
    /// otherwise `text.len()` (nothing held).
    pub fn held_from(&self, text: &str) -> usize {
        match text.rfind('<') {
            Some(open)
                if !text[open..].contains('>')
                    && text.len() - open < self.longest
                    && could_be_placeholder(&text[open..]) =>
            {
                open
            }
            _ => text.len(),
        }
    }

    /// A restorer for a streamed reply.
    pub fn restorer(&self) -> Restorer<'_> {
        Restorer {
            masker: self,
            held: String::new(),
        }
    }
}

/// Restores placeholders in a stream of text chunks: a placeholder split across chunks
/// is held back until it is whole (or shown to be something else).
#[derive(Debug)]
pub struct Restorer<'a> {
    masker: &'a Masker,
    held: String,
}

impl Restorer<'_> {
    /// The restored text of `chunk` that can be shown now.
    pub fn push(&mut self, chunk: &str) -> String {
        self.held.push_str(chunk);
        let cut = self.masker.held_from(&self.held);
        let ready: String = self.held.drain(..cut).collect();
        self.masker.restore(&ready)
    }

    /// What is still held at the end of the stream.
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.held);
        self.masker.restore(&rest)
    }
}

/// Whether `s` (starting with `<`) is a prefix of some `<LABEL_N>`.
fn could_be_placeholder(s: &str) -> bool {
    s[1..]
        .bytes()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
}
