//! Built-in guardrails on a model's reply (`mode: post_call`): the same detectors and
//! actions as on a request, over every text the reply shows the user (chat
//! `choices[].message` content and tool-call arguments, text-completion
//! `choices[].text`, Anthropic `content`, Responses `output`).
//!
//! The reply is walked as if it were a request of its messages, so [`super::apply`]'s
//! rules hold unchanged: blocking guardrails first on the untouched texts, masking in
//! place, decisions that name kinds and counts, never values.

use serde_json::{Map, Value};

use super::request::{apply, Applied, Blocked, Guardrail};

/// Runs `guardrails` over the texts of `reply`, masking them in place. A masked reply is
/// never restored (the values came from the model, and the user must not see them).
pub fn apply_reply(reply: &mut Value, guardrails: &[&Guardrail]) -> Result<Applied, Blocked> {
    if guardrails.is_empty() {
        return Ok(Applied::default());
    }
    let Some(obj) = reply.as_object_mut() else {
        return Ok(Applied::default());
    };
    // Take the texts out as a request of messages (remembering where each came from),
    // apply, and put them back.
    let mut slots: Vec<Value> = Vec::new();
    let mut from: Vec<Slot> = Vec::new();
    if let Some(choices) = obj.get_mut("choices").and_then(Value::as_array_mut) {
        for (i, c) in choices.iter_mut().enumerate() {
            if let Some(m) = c.get_mut("message") {
                slots.push(std::mem::take(m));
                from.push(Slot::Message(i));
            }
            if let Some(t @ Value::String(_)) = c.get_mut("text") {
                slots.push(content(std::mem::take(t)));
                from.push(Slot::Text(i));
            }
        }
    }
    for key in ["content", "output"] {
        if let Some(items @ Value::Array(_)) = obj.get_mut(key) {
            slots.push(content(std::mem::take(items)));
            from.push(Slot::Top(key));
        }
    }
    let mut body = Value::Object(Map::from_iter([(
        "messages".to_string(),
        Value::Array(slots),
    )]));
    let result = apply(&mut body, guardrails);
    // Put every text back, masked or not (a blocked reply is left as it was).
    let slots = match body.get_mut("messages") {
        Some(Value::Array(a)) => std::mem::take(a),
        _ => Vec::new(),
    };
    for (slot, mut value) in from.into_iter().zip(slots) {
        match slot {
            Slot::Message(i) => {
                if let Some(m) = obj.get_mut("choices").and_then(|c| c.get_mut(i)) {
                    m["message"] = value;
                }
            }
            Slot::Text(i) => {
                if let Some(c) = obj.get_mut("choices").and_then(|c| c.get_mut(i)) {
                    c["text"] = value["content"].take();
                }
            }
            Slot::Top(key) => {
                obj.insert(key.to_string(), value["content"].take());
            }
        }
    }
    result
}

/// Where a text of the reply was taken from.
enum Slot {
    Message(usize),
    Text(usize),
    Top(&'static str),
}

fn content(v: Value) -> Value {
    Value::Object(Map::from_iter([("content".to_string(), v)]))
}
