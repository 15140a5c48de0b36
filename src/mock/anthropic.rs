//! The mock's Anthropic Messages API (`POST /v1/messages`): the request is read as the
//! OpenAI request the mock already answers (so model-name directives work unchanged), and
//! the answer is written back as an Anthropic message, its SSE events (named by their
//! `type`), or an
//! Anthropic error body.
//!
//! Prompt caching is imitated so usage details can be tested: the words of every block
//! marked `cache_control` are reported as `cache_read_input_tokens`, the rest as
//! `input_tokens`.

use serde_json::{json, Map, Value};

use super::openai::{words, Reject};

/// Anthropic's error `type` for an HTTP status.
fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

/// `{"type": "error", "error": {"type", "message"}}`.
pub(crate) fn error_body(status: u16, message: &str) -> Value {
    json!({"type": "error", "error": {"type": error_type(status), "message": message}})
}

/// An OpenAI-shaped rejection in Anthropic's words.
pub(crate) fn reject((status, body): Reject) -> Reject {
    let code = body.pointer("/error/code").and_then(Value::as_str);
    let message = match code {
        Some("context_length_exceeded") => "prompt is too long: 9000 tokens > 8192 maximum".into(),
        Some("content_policy_violation") => "Output blocked by content filtering policy".into(),
        _ => body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("Mock error")
            .to_string(),
    };
    (status, error_body(status, &message))
}

fn invalid(message: &str) -> Reject {
    (400, error_body(400, message))
}

/// The text of Anthropic content: a string, or its text blocks joined by newlines.
fn block_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// Words in blocks marked `cache_control`, anywhere in `system` or the messages.
pub(crate) fn cached_words(req: &Map<String, Value>) -> u64 {
    fn walk(v: &Value) -> u64 {
        match v {
            Value::Array(items) => items.iter().map(walk).sum(),
            Value::Object(block) if block.contains_key("cache_control") => {
                block.get("text").and_then(Value::as_str).map_or(0, words)
            }
            Value::Object(block) => block.get("content").map_or(0, walk),
            _ => 0,
        }
    }
    let system = req.get("system").map_or(0, walk);
    let messages = req.get("messages").map_or(0, walk);
    system + messages
}

/// A Messages API request as the OpenAI request the mock answers.
pub(crate) fn to_openai(req: &Map<String, Value>) -> Result<Map<String, Value>, Reject> {
    let Some(model) = req.get("model").and_then(Value::as_str) else {
        return Err(invalid("model: Field required"));
    };
    let Some(messages) = req.get("messages").and_then(Value::as_array) else {
        return Err(invalid("messages: Field required"));
    };
    let Some(max_tokens) = req.get("max_tokens").and_then(Value::as_u64) else {
        return Err(invalid("max_tokens: Field required"));
    };
    let mut out_messages = Vec::new();
    if let Some(system) = req.get("system") {
        out_messages.push(json!({"role": "system", "content": block_text(Some(system))}));
    }
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
        if role != "user" && role != "assistant" {
            return Err(invalid(&format!(
                "messages.{i}.role: Input should be 'user' or 'assistant'"
            )));
        }
        let content = m.get("content");
        let blocks: Vec<Value> = match content {
            Some(Value::String(s)) => vec![json!({"type": "text", "text": s})],
            Some(Value::Array(b)) => b.clone(),
            _ => return Err(invalid(&format!("messages.{i}.content: Field required"))),
        };
        let mut texts = Vec::new();
        let mut calls = Vec::new();
        for b in &blocks {
            match b.get("type").and_then(Value::as_str) {
                Some("text") => texts.push(b.get("text").and_then(Value::as_str).unwrap_or("")),
                Some("tool_result") => out_messages.push(json!({
                    "role": "tool",
                    "tool_call_id": b.get("tool_use_id").cloned().unwrap_or(Value::Null),
                    "content": block_text(b.get("content")),
                })),
                Some("tool_use") => calls.push(json!({
                    "id": b.get("id").cloned().unwrap_or(Value::Null),
                    "type": "function",
                    "function": {
                        "name": b.get("name").cloned().unwrap_or(Value::Null),
                        "arguments": b.get("input").map(Value::to_string).unwrap_or_default(),
                    },
                })),
                _ => {}
            }
        }
        if texts.is_empty() && calls.is_empty() {
            continue;
        }
        let mut msg = Map::new();
        msg.insert("role".into(), json!(role));
        msg.insert("content".into(), json!(texts.join("\n")));
        if !calls.is_empty() {
            msg.insert("tool_calls".into(), Value::Array(calls));
        }
        out_messages.push(Value::Object(msg));
    }
    let mut out = Map::new();
    out.insert("model".into(), json!(model));
    out.insert("messages".into(), Value::Array(out_messages));
    out.insert("max_tokens".into(), json!(max_tokens));
    if let Some(Value::Array(tools)) = req.get("tools") {
        let tools: Vec<Value> = tools
            .iter()
            .filter(|t| t.get("input_schema").is_some())
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.get("name").cloned().unwrap_or(Value::Null),
                    "description": t.get("description").cloned().unwrap_or(Value::Null),
                    "parameters": t.get("input_schema").cloned().unwrap_or(Value::Null),
                }})
            })
            .collect();
        out.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = req.get("tool_choice") {
        let mapped = match choice.get("type").and_then(Value::as_str) {
            Some("any") => json!("required"),
            Some("none") => json!("none"),
            Some("tool") => {
                json!({"type": "function", "function": {"name": choice.get("name").cloned().unwrap_or(Value::Null)}})
            }
            _ => json!("auto"),
        };
        out.insert("tool_choice".into(), mapped);
        if choice.get("disable_parallel_tool_use") == Some(&Value::Bool(true)) {
            out.insert("parallel_tool_calls".into(), Value::Bool(false));
        }
    }
    if let Some(stream) = req.get("stream") {
        out.insert("stream".into(), stream.clone());
    }
    Ok(out)
}

fn stop_reason(finish: &str) -> &'static str {
    match finish {
        "length" => "max_tokens",
        "tool_calls" => "tool_use",
        _ => "end_turn",
    }
}

/// `chatcmpl-mock-7` → `msg_mock-7`; `call_abc` → `toolu_abc`.
fn renamed(id: &Value, from: &str, to: &str) -> String {
    let id = id.as_str().unwrap_or_default();
    format!("{to}{}", id.strip_prefix(from).unwrap_or(id))
}

fn usage(completion: &Value, cached: u64) -> Value {
    let prompt = completion
        .pointer("/usage/prompt_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let output = completion
        .pointer("/usage/completion_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let cached = cached.min(prompt);
    json!({
        "input_tokens": prompt - cached,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
        "output_tokens": output,
    })
}

/// The mock's OpenAI `chat.completion` as an Anthropic message.
pub(crate) fn message(completion: &Value, cached: u64) -> Value {
    let msg = completion
        .pointer("/choices/0/message")
        .unwrap_or(&Value::Null);
    let mut content = Vec::new();
    if let Some(text) = msg.get("content").and_then(Value::as_str) {
        content.push(json!({"type": "text", "text": text}));
    }
    for call in msg
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let input: Value = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .and_then(|a| serde_json::from_str(a).ok())
            .unwrap_or_else(|| json!({}));
        content.push(json!({
            "type": "tool_use",
            "id": renamed(call.get("id").unwrap_or(&Value::Null), "call_", "toolu_"),
            "name": call.pointer("/function/name").cloned().unwrap_or(Value::Null),
            "input": input,
        }));
    }
    let finish = completion
        .pointer("/choices/0/finish_reason")
        .and_then(Value::as_str)
        .unwrap_or("stop");
    json!({
        "id": renamed(completion.get("id").unwrap_or(&Value::Null), "chatcmpl-", "msg_"),
        "type": "message",
        "role": "assistant",
        "model": completion.get("model").cloned().unwrap_or(Value::Null),
        "content": content,
        "stop_reason": stop_reason(finish),
        "stop_sequence": null,
        "usage": usage(completion, cached),
    })
}

/// The mock's OpenAI stream chunks (first choice) as Anthropic's named events.
pub(crate) fn events(chunks: &[Value], completion: &Value, cached: u64) -> Vec<Value> {
    let mut start = message(completion, cached);
    if let Value::Object(m) = &mut start {
        m.insert("content".into(), json!([]));
        m.insert("stop_reason".into(), Value::Null);
        if let Some(Value::Object(u)) = m.get_mut("usage") {
            u.insert("output_tokens".into(), json!(1));
        }
    }
    let mut out = vec![
        json!({"type": "message_start", "message": start}),
        json!({"type": "ping"}),
    ];
    let mut open: Option<u64> = None;
    let mut next = 0u64;
    let close = |open: &mut Option<u64>, out: &mut Vec<Value>| {
        if let Some(i) = open.take() {
            out.push(json!({"type": "content_block_stop", "index": i}));
        }
    };
    for chunk in chunks {
        let Some(choice) = chunk.pointer("/choices/0") else {
            continue;
        };
        if choice.get("index").and_then(Value::as_u64).unwrap_or(0) != 0 {
            continue;
        }
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        if let Some(text) = delta.get("content").and_then(Value::as_str) {
            if !text.is_empty() {
                if open.is_none() {
                    out.push(json!({"type": "content_block_start", "index": next,
                        "content_block": {"type": "text", "text": ""}}));
                    open = Some(next);
                    next += 1;
                }
                out.push(json!({"type": "content_block_delta", "index": open,
                    "delta": {"type": "text_delta", "text": text}}));
            }
        }
        for call in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(id) = call.get("id") {
                close(&mut open, &mut out);
                out.push(json!({"type": "content_block_start", "index": next,
                    "content_block": {"type": "tool_use", "id": renamed(id, "call_", "toolu_"),
                        "name": call.pointer("/function/name").cloned().unwrap_or(Value::Null),
                        "input": {}}}));
                open = Some(next);
                next += 1;
            }
            let args = call
                .pointer("/function/arguments")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !args.is_empty() {
                out.push(json!({"type": "content_block_delta", "index": open,
                    "delta": {"type": "input_json_delta", "partial_json": args}}));
            }
        }
        if let Some(finish) = choice.get("finish_reason").and_then(Value::as_str) {
            close(&mut open, &mut out);
            let output = completion
                .pointer("/usage/completion_tokens")
                .cloned()
                .unwrap_or(json!(0));
            out.push(json!({"type": "message_delta",
                "delta": {"stop_reason": stop_reason(finish), "stop_sequence": null},
                "usage": {"output_tokens": output}}));
            out.push(json!({"type": "message_stop"}));
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::obj;

    #[test]
    fn requests_read_as_openai() {
        let req = obj(json!({
            "model": "claude-tool", "max_tokens": 10,
            "system": [{"type": "text", "text": "cached words", "cache_control": {"type": "ephemeral"}}],
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}, {"type": "text", "text": "next"}]},
            ],
            "tools": [{"name": "f", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
        }));
        let out = to_openai(&req).unwrap_or_default();
        assert_eq!(
            out["messages"][2]["tool_calls"][0]["function"]["arguments"],
            json!("{\"a\":1}")
        );
        assert_eq!(
            out["messages"][3],
            json!({"role": "tool", "tool_call_id": "toolu_1", "content": "ok"})
        );
        assert_eq!(
            out["messages"][4],
            json!({"role": "user", "content": "next"})
        );
        assert_eq!(out["tool_choice"], json!("required"));
        assert_eq!(out["parallel_tool_calls"], json!(false));
        assert_eq!(cached_words(&req), 2);
        let missing = obj(json!({"model": "m", "messages": []}));
        let err = to_openai(&missing).err();
        assert_eq!(
            err.map(|(s, b)| (s, b["error"]["type"].clone())),
            Some((400, json!("invalid_request_error")))
        );
    }

    #[test]
    fn errors_keep_anthropics_shape() {
        assert_eq!(
            error_body(529, "Overloaded"),
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
        );
        assert_eq!(error_type(429), "rate_limit_error");
    }
}
