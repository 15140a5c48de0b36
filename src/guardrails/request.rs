//! Built-in guardrails applied to whole requests and replies, the same for the SDK and the
//! proxy: [`apply`] walks every text a request sends a model (chat messages as strings or
//! content parts, tool-call arguments, tool results, Anthropic `system`/`tool_use`/
//! `tool_result` blocks, Responses `input`/`instructions`, completion `prompt`, embedding
//! `input`) and blocks, masks or logs what each guardrail's detectors find; [`restore_reply`]
//! and [`StreamRestorer`] put masked values back into the reply.
//!
//! A [`Decision`] names the guardrail, the action and the kinds found with their counts,
//! never a matched value: it is what goes to logs, audit rows and metrics.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::detect::{find, Detector};
use super::mask::Masker;
use super::Action;

/// One configured built-in guardrail.
#[derive(Debug, Clone)]
pub struct Guardrail {
    /// `guardrail_name` in the config; named in decisions and errors.
    pub name: String,
    pub detectors: Vec<Detector>,
    pub action: Action,
    /// For [`Action::Mask`]: put the values back into the reply.
    pub restore: bool,
}

/// What one guardrail did on one request: never the values themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub guardrail: String,
    pub action: Action,
    /// Each kind found (its placeholder label: `EMAIL`, `CREDIT_CARD`, ...) and how many
    /// times, in the order first seen.
    pub kinds: Vec<(String, usize)>,
}

impl Decision {
    fn count(&mut self, label: String) {
        match self.kinds.iter_mut().find(|(k, _)| *k == label) {
            Some((_, n)) => *n += 1,
            None => self.kinds.push((label, 1)),
        }
    }

    /// The kinds found, comma-separated (`EMAIL, CREDIT_CARD`).
    pub fn kinds_text(&self) -> String {
        self.kinds
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A request a guardrail refused: its decision (the kinds that tripped it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked(pub Decision);

impl Blocked {
    /// The error message users see (LiteLLM's wording for blocked entities, no values).
    pub fn message(&self) -> String {
        format!(
            "Blocked entity detected: {} by Guardrail: {}. This entity is not allowed to be used in this request.",
            self.0.kinds_text(),
            self.0.guardrail
        )
    }
}

/// What [`apply`] did to a request it let through.
#[derive(Debug, Default, Clone)]
pub struct Applied {
    /// One per guardrail that found something (mask, log or route), in config order.
    pub decisions: Vec<Decision>,
    /// The placeholders to restore in the reply: set when a masking guardrail with
    /// `restore` replaced something.
    pub restore: Option<Arc<Masker>>,
    /// A guardrail with [`Action::Route`] found something: only deployments allowed for
    /// sensitive data may serve this request.
    pub sensitive: bool,
}

/// Runs `guardrails` over every text of `body` (a request in OpenAI, Anthropic or
/// Responses shape), in order. The first blocking guardrail that finds anything refuses
/// the whole request (and nothing is changed); masking guardrails rewrite the texts in
/// place, one placeholder per distinct value across the whole request.
pub fn apply(body: &mut Value, guardrails: &[&Guardrail]) -> Result<Applied, Blocked> {
    apply_over(
        body,
        guardrails,
        &mut |b, mut f| for_each_text(b, &mut f),
        Masker::default(),
    )
}

/// [`apply`] over the texts of a model's reply ([`for_each_reply_text`]): what a
/// `post_call` guardrail checks, blocks or masks.
pub fn apply_reply(body: &mut Value, guardrails: &[&Guardrail]) -> Result<Applied, Blocked> {
    apply_over(
        body,
        guardrails,
        &mut |b, f| for_each_reply_text(b, f),
        Masker::default(),
    )
}

/// [`apply_reply`] for the reply of a request whose values `masked` holds: a value it
/// already has keeps its placeholder, a new one is numbered after them, so that putting
/// the request's values back ([`restore_reply`] with `masked`) never turns a placeholder
/// of the reply into a value of the request.
pub fn apply_reply_after(
    body: &mut Value,
    guardrails: &[&Guardrail],
    masked: &Masker,
) -> Result<Applied, Blocked> {
    apply_over(
        body,
        guardrails,
        &mut |b, f| for_each_reply_text(b, f),
        masked.clone(),
    )
}

/// Calls `f` on every text of a model's reply: chat `choices[].message` (content, tool
/// call arguments), text-completion `choices[].text`, Anthropic `content` blocks,
/// Responses `output` items, a transcription's `text` (and its `segments[].text` and
/// `words[].word`) and an image's `revised_prompt`.
pub fn for_each_reply_text(body: &mut Value, f: &mut dyn FnMut(&mut String)) {
    let Some(obj) = body.as_object_mut() else {
        return;
    };
    let mut f = f;
    // A transcription (a Responses reply's `text` is its format, an object).
    if let Some(Value::String(s)) = obj.get_mut("text") {
        f(s);
    }
    for (list, field) in [
        ("segments", "text"),
        ("words", "word"),
        ("data", "revised_prompt"),
    ] {
        if let Some(Value::Array(items)) = obj.get_mut(list) {
            for item in items {
                if let Some(Value::String(s)) = item.get_mut(field) {
                    f(s);
                }
            }
        }
    }
    if let Some(choices) = obj.get_mut("choices").and_then(Value::as_array_mut) {
        for c in choices {
            if let Some(Value::String(s)) = c.get_mut("text") {
                f(s);
            }
            if let Some(m) = c.get_mut("message") {
                message_texts(m, &mut f);
            }
        }
    }
    for key in ["content", "output"] {
        if let Some(Value::Array(items)) = obj.get_mut(key) {
            for item in items {
                if let Value::Object(o) = item {
                    part_texts(o, &mut f);
                }
            }
        }
    }
}

type Walker<'w> = dyn FnMut(&mut Value, &mut dyn FnMut(&mut String)) + 'w;

fn apply_over(
    body: &mut Value,
    guardrails: &[&Guardrail],
    walk: &mut Walker<'_>,
    mut masker: Masker,
) -> Result<Applied, Blocked> {
    let mut applied = Applied::default();
    if guardrails.is_empty() {
        return Ok(applied);
    }
    // Blocking guardrails first, on the untouched texts: a refused request is refused
    // whole and whatever a masking guardrail would have changed does not matter.
    for g in guardrails.iter().filter(|g| g.action == Action::Block) {
        let mut decision = Decision {
            guardrail: g.name.clone(),
            action: Action::Block,
            kinds: Vec::new(),
        };
        walk(body, &mut |text| {
            for f in find(text, &g.detectors) {
                decision.count(f.kind.label());
            }
        });
        if !decision.kinds.is_empty() {
            return Err(Blocked(decision));
        }
    }
    let mut restore = false;
    for g in guardrails.iter().filter(|g| g.action != Action::Block) {
        let mut decision = Decision {
            guardrail: g.name.clone(),
            action: g.action,
            kinds: Vec::new(),
        };
        walk(body, &mut |text| {
            let findings = find(text, &g.detectors);
            if findings.is_empty() {
                return;
            }
            for f in &findings {
                decision.count(f.kind.label());
            }
            if g.action == Action::Mask {
                *text = masker.mask(text, &findings);
            }
        });
        if !decision.kinds.is_empty() {
            restore |= g.action == Action::Mask && g.restore;
            applied.sensitive |= g.action == Action::Route;
            applied.decisions.push(decision);
        }
    }
    if restore && !masker.is_empty() {
        applied.restore = Some(Arc::new(masker));
    }
    Ok(applied)
}

/// The fields of a request that hold what a model reads, in reading order (so that
/// placeholders are numbered as the model meets them). Rerank's `query` and `documents`
/// (strings or `{"text"}` objects) and Cohere chat's `documents` are texts a model reads
/// too.
pub const TEXT_FIELDS: [&str; 7] = [
    "system",
    "instructions",
    "messages",
    "prompt",
    "input",
    "query",
    "documents",
];

/// Calls `f` on every text of a request a model reads (the [`TEXT_FIELDS`]). Ids, roles,
/// names, types, URLs and base64 data are not texts; neither are token-id inputs.
pub fn for_each_text(body: &mut Value, f: &mut impl FnMut(&mut String)) {
    let Some(obj) = body.as_object_mut() else {
        return;
    };
    for key in TEXT_FIELDS {
        if let Some(v) = obj.get_mut(key) {
            match v {
                Value::String(s) => f(s),
                Value::Array(items) => {
                    for item in items {
                        match item {
                            Value::String(s) => f(s),
                            Value::Object(_) => message_texts(item, f),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// The texts of one message, content part or Responses input item.
fn message_texts(m: &mut Value, f: &mut impl FnMut(&mut String)) {
    let Some(obj) = m.as_object_mut() else {
        return;
    };
    part_texts(obj, f);
    if let Some(calls) = obj.get_mut("tool_calls").and_then(Value::as_array_mut) {
        for call in calls {
            if let Some(Value::String(args)) = call.pointer_mut("/function/arguments") {
                f(args);
            }
        }
    }
    if let Some(Value::String(args)) = m.pointer_mut("/function_call/arguments") {
        f(args);
    }
}

/// Texts of an object that may carry `content` (string or parts), `text`, tool input or
/// output, recursively through nested parts (Anthropic `tool_result` content).
fn part_texts(obj: &mut Map<String, Value>, f: &mut impl FnMut(&mut String)) {
    for key in ["content", "text", "arguments", "output", "refusal"] {
        match obj.get_mut(key) {
            Some(Value::String(s)) => f(s),
            Some(Value::Array(parts)) if key == "content" || key == "output" => {
                for p in parts {
                    match p {
                        Value::String(s) => f(s),
                        Value::Object(po) => part_texts(po, f),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    // Anthropic tool_use input: every string in the arguments object.
    if let Some(input @ Value::Object(_)) = obj.get_mut("input") {
        strings_in(input, f);
    }
}

/// Calls `f` on every string value in `v` (not the keys), in order.
pub(crate) fn strings_in(v: &mut Value, f: &mut impl FnMut(&mut String)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter_mut().for_each(|x| strings_in(x, f)),
        Value::Object(o) => o.values_mut().for_each(|x| strings_in(x, f)),
        _ => {}
    }
}

/// Puts masked values back into a reply's texts (those [`for_each_reply_text`] reads).
pub fn restore_reply(body: &mut Value, masker: &Masker) {
    for_each_reply_text(body, &mut |s: &mut String| {
        if s.contains('<') {
            *s = masker.restore(s);
        }
    });
}

/// Restores a streamed reply's text deltas, one [`super::mask::Restorer`] per choice
/// index (and per tool call), holding back only what could still become a placeholder.
#[derive(Debug)]
pub struct StreamRestorer {
    masker: Arc<Masker>,
    held: Vec<(String, String)>,
}

impl StreamRestorer {
    /// A restorer for one streamed reply.
    pub fn new(masker: Arc<Masker>) -> StreamRestorer {
        StreamRestorer {
            masker,
            held: Vec::new(),
        }
    }

    /// The restored text of `delta` for the stream named `slot` (a choice index, a tool
    /// call's index) that can be shown now; the rest is held.
    pub fn push(&mut self, slot: &str, delta: &str) -> String {
        let held = match self.held.iter().position(|(s, _)| s == slot) {
            Some(i) => &mut self.held[i].1,
            None => {
                self.held.push((slot.to_string(), String::new()));
                let last = self.held.len() - 1;
                &mut self.held[last].1
            }
        };
        held.push_str(delta);
        let cut = self.masker.held_from(held);
        let ready: String = held.drain(..cut).collect();
        self.masker.restore(&ready)
    }

    /// What is still held for `slot` at the end of its stream (or of the whole stream),
    /// restored.
    pub fn finish(&mut self, slot: &str) -> String {
        match self.held.iter().position(|(s, _)| s == slot) {
            Some(i) => {
                let (_, rest) = self.held.remove(i);
                self.masker.restore(&rest)
            }
            None => String::new(),
        }
    }

    /// A whole `text` with every placeholder restored (nothing held).
    pub fn restore_text(&self, text: &str) -> String {
        self.masker.restore(text)
    }

    /// A whole reply object (or one of its items or parts) restored, as
    /// [`restore_reply`] does, its own `text` included.
    pub fn restore_value(&self, v: &mut Value) {
        restore_reply(v, &self.masker);
        if let Some(Value::String(s)) = v.get_mut("text") {
            *s = self.masker.restore(s);
        }
    }

    /// The slots still holding text, for a stream's end.
    pub fn pending(&self) -> Vec<String> {
        self.held
            .iter()
            .filter(|(_, h)| !h.is_empty())
            .map(|(s, _)| s.clone())
            .collect()
    }
}
