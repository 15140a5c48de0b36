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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::guardrails::{Action, Detector, Kind};

    fn guard(action: Action) -> Guardrail {
        Guardrail {
            name: "out".into(),
            detectors: vec![Detector::Builtin(Kind::Email)],
            action,
            restore: false,
        }
    }

    #[test]
    fn masks_chat_text_completion_and_tool_arguments_in_place() {
        let mut reply = json!({
            "id": "r1",
            "choices": [
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
                 "content": "mail a@b.co",
                 "tool_calls": [{"id": "t", "type": "function",
                                 "function": {"name": "f", "arguments": "{\"to\":\"c@d.io\"}"}}]}},
                {"index": 1, "text": "or a@b.co"}
            ],
            "usage": {"total_tokens": 3}
        });
        let g = guard(Action::Mask);
        let applied = apply_reply(&mut reply, &[&g]).expect("not blocked");
        assert_eq!(applied.decisions[0].kinds, vec![("EMAIL".to_string(), 3)]);
        assert!(applied.restore.is_none(), "a reply is never restored");
        assert_eq!(reply["choices"][0]["message"]["content"], "mail <EMAIL_1>");
        assert_eq!(
            reply["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
            "{\"to\":\"<EMAIL_2>\"}"
        );
        assert_eq!(reply["choices"][1]["text"], "or <EMAIL_1>");
        // Everything else is kept.
        assert_eq!(reply["id"], "r1");
        assert_eq!(reply["choices"][0]["finish_reason"], "stop");
        assert_eq!(reply["usage"]["total_tokens"], 3);
    }

    #[test]
    fn blocks_and_leaves_the_reply_whole() {
        let mut reply = json!({"content": [{"type": "text", "text": "x a@b.co"}]});
        let before = reply.clone();
        let g = guard(Action::Block);
        let blocked = apply_reply(&mut reply, &[&g]).expect_err("blocked");
        assert_eq!(blocked.0.kinds_text(), "EMAIL");
        assert_eq!(reply, before);
        // Nothing found: let through, unchanged, no decision.
        let mut clean = json!({"output": [{"type": "message", "content": [{"type": "output_text", "text": "hi"}]}]});
        let applied = apply_reply(&mut clean, &[&g]).expect("clean");
        assert!(applied.decisions.is_empty());
        assert_eq!(clean["output"][0]["content"][0]["text"], "hi");
    }

    #[test]
    fn a_reply_that_is_not_an_object_is_let_through() {
        let g = guard(Action::Block);
        assert!(apply_reply(&mut json!("text a@b.co"), &[&g]).is_ok());
        assert!(apply_reply(&mut json!({"choices": "x"}), &[&g]).is_ok());
    }
}
