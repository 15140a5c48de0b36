//! AWS Bedrock's Converse API as the mock speaks it (`POST .../model/{id}/converse` and
//! `/converse-stream`): the request is read into the OpenAI request the mock already
//! answers (the model-name directives work on the model id in the path), and the answer
//! is written back as a Converse reply or as ConverseStream events, which the server
//! frames as AWS event-stream messages ([`frame`]). Errors are `{"message": ...}` with
//! the AWS error type in `x-amzn-errortype` ([`error_type`]).

use serde_json::{json, Map, Value};

use super::openai::Reject;

/// `.../model/{id}/converse` or `.../converse-stream`.
pub(crate) fn is_converse(path: &str) -> bool {
    path.contains("/model/") && (path.ends_with("/converse") || path.ends_with("/converse-stream"))
}

pub(crate) fn is_stream(path: &str) -> bool {
    path.ends_with("/converse-stream") || path.ends_with("/invoke-with-response-stream")
}

/// `.../model/{id}/invoke` or `.../invoke-with-response-stream`: Claude's Anthropic body
/// (answered as the mock's Anthropic Messages API, see `server.rs`).
pub(crate) fn is_invoke(path: &str) -> bool {
    path.contains("/model/")
        && (path.ends_with("/invoke") || path.ends_with("/invoke-with-response-stream"))
}

/// Anthropic's stream events as InvokeModel's `chunk` events, each event's JSON in
/// base64 `bytes`.
pub(crate) fn invoke_chunks(events: Vec<Value>) -> Vec<Value> {
    use base64::Engine as _;
    events
        .iter()
        .map(|e| {
            let bytes = base64::engine::general_purpose::STANDARD.encode(e.to_string());
            json!({"chunk": {"bytes": bytes}})
        })
        .collect()
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The model id in the path, percent-decoded.
pub(crate) fn model_from_path(path: &str) -> Option<String> {
    let (_, rest) = path.split_once("/model/")?;
    let (id, _) = rest.rsplit_once('/')?;
    Some(percent_decode(id))
}

/// The AWS error type for a status.
pub(crate) fn error_type(status: u16) -> &'static str {
    match status {
        401 => "UnrecognizedClientException",
        403 => "AccessDeniedException",
        404 => "ResourceNotFoundException",
        408 => "ModelTimeoutException",
        424 => "ModelErrorException",
        429 => "ThrottlingException",
        503 => "ServiceUnavailableException",
        400..=499 => "ValidationException",
        _ => "InternalServerException",
    }
}

/// `{"message": ...}`.
pub(crate) fn error_body(message: &str) -> Value {
    json!({"message": message})
}

/// An OpenAI-shaped rejection in Bedrock's words.
pub(crate) fn reject((status, body): Reject) -> Reject {
    let code = body.pointer("/error/code").and_then(Value::as_str);
    let message = match code {
        Some("context_length_exceeded") => "Input is too long for requested model.".to_string(),
        _ => body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("Mock error")
            .to_string(),
    };
    (status, error_body(&message))
}

fn text_of(blocks: &[Value]) -> String {
    blocks
        .iter()
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("")
}

/// The Converse request as the OpenAI chat request the mock answers.
pub(crate) fn to_openai(
    path: &str,
    req: &Map<String, Value>,
) -> Result<Map<String, Value>, Reject> {
    let bad = |m: &str| (400, error_body(m));
    let mut messages = Vec::new();
    if let Some(system) = req.get("system").and_then(Value::as_array) {
        messages.push(json!({"role": "system", "content": text_of(system)}));
    }
    let Some(turns) = req.get("messages").and_then(Value::as_array) else {
        return Err(bad("1 validation error detected: Value null at 'messages' failed to satisfy constraint: Member must not be null"));
    };
    for turn in turns {
        let role = turn.get("role").and_then(Value::as_str).unwrap_or("user");
        let blocks = turn
            .get("content")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut calls = Vec::new();
        for block in blocks {
            if let Some(result) = block.get("toolResult") {
                let content = result
                    .get("content")
                    .and_then(Value::as_array)
                    .map(|c| text_of(c))
                    .unwrap_or_default();
                messages.push(json!({"role": "tool", "tool_call_id": result.get("toolUseId"), "content": content}));
            }
            if let Some(use_) = block.get("toolUse") {
                calls.push(json!({"id": use_.get("toolUseId"), "type": "function",
                    "function": {"name": use_.get("name"),
                                 "arguments": use_.get("input").map(Value::to_string).unwrap_or_default()}}));
            }
        }
        let text = text_of(blocks);
        let has_image = blocks.iter().any(|b| b.get("image").is_some());
        if role == "assistant" {
            if !calls.is_empty() {
                messages.push(json!({"role": "assistant", "content": text, "tool_calls": calls}));
            } else {
                messages.push(json!({"role": "assistant", "content": text}));
            }
        } else if !text.is_empty() || has_image {
            messages.push(json!({"role": "user", "content": text}));
        }
    }
    let mut out = Map::new();
    out.insert(
        "model".into(),
        json!(model_from_path(path).unwrap_or_default()),
    );
    out.insert("messages".into(), Value::Array(messages));
    if let Some(config) = req.get("inferenceConfig") {
        for (from, to) in [
            ("maxTokens", "max_tokens"),
            ("temperature", "temperature"),
            ("topP", "top_p"),
            ("stopSequences", "stop"),
        ] {
            if let Some(v) = config.get(from) {
                out.insert(to.into(), v.clone());
            }
        }
    }
    if let Some(config) = req.get("toolConfig") {
        let tools: Vec<Value> = config
            .get("tools")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.get("toolSpec"))
            .map(|s| {
                json!({"type": "function", "function": {"name": s.get("name"),
                    "description": s.get("description"),
                    "parameters": s.pointer("/inputSchema/json")}})
            })
            .collect();
        if !tools.is_empty() {
            out.insert("tools".into(), Value::Array(tools));
        }
        let choice = config.get("toolChoice");
        if let Some(name) = choice.and_then(|c| c.pointer("/tool/name")) {
            out.insert(
                "tool_choice".into(),
                json!({"type": "function", "function": {"name": name}}),
            );
        } else if choice.and_then(|c| c.get("any")).is_some() {
            out.insert("tool_choice".into(), json!("required"));
        }
    }
    out.insert("stream".into(), json!(is_stream(path)));
    Ok(out)
}

fn stop_reason(finish: &str) -> &'static str {
    match finish {
        "length" => "max_tokens",
        "tool_calls" => "tool_use",
        "content_filter" => "content_filtered",
        _ => "end_turn",
    }
}

fn usage(completion: &Value) -> Value {
    let u = &completion["usage"];
    json!({"inputTokens": u["prompt_tokens"], "outputTokens": u["completion_tokens"],
           "totalTokens": u["total_tokens"]})
}

fn tool_input(call: &Value) -> Value {
    call.pointer("/function/arguments")
        .and_then(Value::as_str)
        .and_then(|a| serde_json::from_str::<Value>(a).ok())
        .unwrap_or_else(|| json!({}))
}

/// The Converse reply for an OpenAI `chat.completion`.
pub(crate) fn reply(completion: &Value) -> Value {
    let choice = &completion["choices"][0];
    let message = &choice["message"];
    let mut content = Vec::new();
    if let Some(text) = message.get("content").and_then(Value::as_str) {
        if !text.is_empty() {
            content.push(json!({"text": text}));
        }
    }
    for call in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        content.push(
            json!({"toolUse": {"toolUseId": call["id"], "name": call.pointer("/function/name"),
                                        "input": tool_input(call)}}),
        );
    }
    json!({
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason(choice["finish_reason"].as_str().unwrap_or("stop")),
        "usage": usage(completion),
        "metrics": {"latencyMs": 1},
    })
}

/// ConverseStream events (`{"<eventType>": payload}`) for OpenAI chunks of one choice.
pub(crate) fn events(chunks: &[Value], completion: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut text_open = false;
    let mut next_block = 0u64;
    // OpenAI tool-call index → content block index.
    let mut tool_blocks: Vec<(u64, u64)> = Vec::new();
    let mut open: Option<u64> = None;
    for chunk in chunks {
        let Some(choice) = chunk.pointer("/choices/0") else {
            continue;
        };
        let delta = &choice["delta"];
        if delta.get("role").is_some() {
            out.push(json!({"messageStart": {"role": "assistant"}}));
        }
        if let Some(text) = delta.get("content").and_then(Value::as_str) {
            if !text.is_empty() {
                if !text_open {
                    text_open = true;
                    open = Some(next_block);
                    next_block += 1;
                }
                out.push(json!({"contentBlockDelta": {"contentBlockIndex": open, "delta": {"text": text}}}));
            }
        }
        for call in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let index = call.get("index").and_then(Value::as_u64).unwrap_or(0);
            if let Some(id) = call.get("id") {
                if let Some(block) = open.take() {
                    out.push(json!({"contentBlockStop": {"contentBlockIndex": block}}));
                }
                let block = next_block;
                next_block += 1;
                tool_blocks.push((index, block));
                open = Some(block);
                out.push(json!({"contentBlockStart": {"contentBlockIndex": block,
                    "start": {"toolUse": {"toolUseId": id, "name": call.pointer("/function/name")}}}}));
            }
            let args = call
                .pointer("/function/arguments")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !args.is_empty() {
                let block = tool_blocks
                    .iter()
                    .find(|(i, _)| *i == index)
                    .map_or(0, |(_, b)| *b);
                out.push(json!({"contentBlockDelta": {"contentBlockIndex": block,
                    "delta": {"toolUse": {"input": args}}}}));
            }
        }
        if let Some(finish) = choice.get("finish_reason").and_then(Value::as_str) {
            if let Some(block) = open.take() {
                out.push(json!({"contentBlockStop": {"contentBlockIndex": block}}));
            }
            out.push(json!({"messageStop": {"stopReason": stop_reason(finish)}}));
        }
    }
    out.push(json!({"metadata": {"usage": usage(completion), "metrics": {"latencyMs": 1}}}));
    out
}

/// One event (`{"<eventType>": payload}`) as an event-stream frame.
pub(crate) fn frame(event: &Value) -> Vec<u8> {
    let (name, payload) = event
        .as_object()
        .and_then(|m| m.iter().next())
        .map(|(k, v)| (k.as_str(), v.to_string()))
        .unwrap_or(("unknown", "{}".to_string()));
    crate::stream::eventstream::event_frame(name, payload.as_bytes())
}
