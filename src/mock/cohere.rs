//! The mock's Cohere v2 chat API (`POST /v2/chat`): the request is read as the OpenAI
//! request the mock already answers, and the answer is written back as a v2 reply, its
//! named SSE events (no `[DONE]`: Cohere ends with `message-end`), or `{"message": ...}`.

use serde_json::{json, Map, Value};

use super::openai::Reject;

/// Cohere's error body.
pub(crate) fn error_body(message: &str) -> Value {
    json!({"message": message})
}

/// An OpenAI-shaped rejection in Cohere's words.
pub(crate) fn reject((status, body): Reject) -> Reject {
    let message = match body.pointer("/error/code").and_then(Value::as_str) {
        Some("context_length_exceeded") => "too many tokens: total number of tokens in the prompt cannot exceed 8192 - received 9000. Try using a shorter prompt, or enabling prompt truncating.".to_string(),
        _ => body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("Mock error")
            .to_string(),
    };
    (status, error_body(&message))
}

/// A v2 chat request as the OpenAI request the mock answers (the shapes are close:
/// only `tool_choice` is spelled differently).
pub(crate) fn to_openai(req: &Map<String, Value>) -> Result<Map<String, Value>, Reject> {
    let invalid = |m: &str| (400, error_body(m));
    let Some(model) = req.get("model").and_then(Value::as_str) else {
        return Err(invalid("invalid request: model must be specified"));
    };
    let Some(messages) = req.get("messages").and_then(Value::as_array) else {
        return Err(invalid("invalid request: messages must be specified"));
    };
    let mut out = Map::new();
    out.insert("model".into(), json!(model));
    out.insert("messages".into(), Value::Array(messages.clone()));
    for key in ["tools", "max_tokens", "stream"] {
        if let Some(v) = req.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    match req.get("tool_choice").and_then(Value::as_str) {
        Some("REQUIRED") => {
            out.insert("tool_choice".into(), json!("required"));
        }
        Some("NONE") => {
            out.insert("tool_choice".into(), json!("none"));
        }
        _ => {}
    }
    Ok(out)
}

fn finish(reason: &str) -> &'static str {
    match reason {
        "length" => "MAX_TOKENS",
        "tool_calls" => "TOOL_CALL",
        _ => "COMPLETE",
    }
}

fn usage(completion: &Value) -> Value {
    let get = |k: &str| {
        completion
            .pointer(&format!("/usage/{k}"))
            .cloned()
            .unwrap_or(json!(0))
    };
    let (input, output) = (get("prompt_tokens"), get("completion_tokens"));
    json!({
        "billed_units": {"input_tokens": input, "output_tokens": output},
        "tokens": {"input_tokens": input, "output_tokens": output},
    })
}

fn id(completion: &Value) -> String {
    let id = completion.get("id").and_then(Value::as_str).unwrap_or("");
    id.strip_prefix("chatcmpl-").unwrap_or(id).to_string()
}

/// The mock's OpenAI `chat.completion` as a v2 chat reply.
pub(crate) fn reply(completion: &Value) -> Value {
    let msg = completion
        .pointer("/choices/0/message")
        .unwrap_or(&Value::Null);
    let mut message = Map::new();
    message.insert("role".into(), json!("assistant"));
    match msg.get("tool_calls") {
        Some(calls @ Value::Array(_)) => {
            message.insert("tool_plan".into(), json!("I will use the tool."));
            message.insert("tool_calls".into(), calls.clone());
        }
        _ => {
            let text = msg.get("content").and_then(Value::as_str).unwrap_or("");
            message.insert("content".into(), json!([{"type": "text", "text": text}]));
        }
    }
    let reason = completion
        .pointer("/choices/0/finish_reason")
        .and_then(Value::as_str)
        .unwrap_or("stop");
    json!({
        "id": id(completion),
        "finish_reason": finish(reason),
        "message": message,
        "usage": usage(completion),
    })
}

/// An event's data carries its name as `type`; the server names the SSE event after it.
fn frame(name: &'static str, mut data: Value) -> Value {
    if let Value::Object(m) = &mut data {
        m.insert("type".into(), json!(name));
    }
    data
}

/// The mock's OpenAI stream chunks (first choice) as v2 stream events.
pub(crate) fn events(chunks: &[Value], completion: &Value) -> Vec<Value> {
    let mut out = vec![frame(
        "message-start",
        json!({"id": id(completion), "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
    )];
    let mut text_open = false;
    let mut tool_open: Option<u64> = None;
    for chunk in chunks {
        let Some(choice) = chunk.pointer("/choices/0") else {
            continue;
        };
        if choice.get("index").and_then(Value::as_u64).unwrap_or(0) != 0 {
            continue;
        }
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        if let Some(text) = delta
            .get("content")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            if !text_open {
                out.push(frame("content-start", json!({"index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}})));
                text_open = true;
            }
            out.push(frame(
                "content-delta",
                json!({"index": 0, "delta": {"message": {"content": {"text": text}}}}),
            ));
        }
        for call in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let index = call.get("index").and_then(Value::as_u64).unwrap_or(0);
            if call.get("id").is_some() {
                if let Some(i) = tool_open.take() {
                    out.push(frame("tool-call-end", json!({"index": i})));
                } else {
                    out.push(frame(
                        "tool-plan-delta",
                        json!({"delta": {"message": {"tool_plan": "I will use the tool."}}}),
                    ));
                }
                out.push(frame("tool-call-start", json!({"index": index, "delta": {"message": {"tool_calls": {
                    "id": call.get("id").cloned().unwrap_or(Value::Null),
                    "type": "function",
                    "function": {"name": call.pointer("/function/name").cloned().unwrap_or(Value::Null), "arguments": ""},
                }}}})));
                tool_open = Some(index);
            }
            let args = call
                .pointer("/function/arguments")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !args.is_empty() {
                out.push(frame("tool-call-delta", json!({"index": index, "delta": {"message": {"tool_calls": {"function": {"arguments": args}}}}})));
            }
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            if text_open {
                out.push(frame("content-end", json!({"index": 0})));
            }
            if let Some(i) = tool_open.take() {
                out.push(frame("tool-call-end", json!({"index": i})));
            }
            out.push(frame(
                "message-end",
                json!({"delta": {"finish_reason": finish(reason), "usage": usage(completion)}}),
            ));
            break;
        }
    }
    out
}
