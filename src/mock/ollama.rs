//! Ollama's `/api/chat` and `/api/generate` as the mock speaks them: the request is read
//! into the OpenAI request the mock already answers (so model-name directives work), the
//! answer is written back as Ollama's reply or its NDJSON stream (one object per line,
//! the last with `done: true`, `done_reason` and the token counts).

use serde_json::{json, Map, Value};

use super::openai::{ChatAnswer, Reject};

/// Which Ollama endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Chat,
    Generate,
}

impl Endpoint {
    pub(crate) fn of(path: &str) -> Option<Endpoint> {
        if path.ends_with("/api/chat") {
            Some(Endpoint::Chat)
        } else if path.ends_with("/api/generate") {
            Some(Endpoint::Generate)
        } else {
            None
        }
    }
}

/// Ollama's error body.
pub(crate) fn error_body(message: &str) -> Value {
    json!({"error": message})
}

pub(crate) fn translate_error((status, body): Reject) -> Reject {
    let message = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("error");
    (status, error_body(message))
}

/// A fixed timestamp in Ollama's format; tests never read it.
const CREATED_AT: &str = "2025-01-01T00:00:00.000000Z";

/// The Ollama request as the OpenAI chat request the mock answers.
pub(crate) fn to_openai(
    endpoint: Endpoint,
    req: &Map<String, Value>,
) -> Result<Map<String, Value>, Reject> {
    let bad = |m: &str| (400, error_body(m));
    let Some(model) = req.get("model").and_then(Value::as_str) else {
        return Err(bad("model is required"));
    };
    let mut out = Map::new();
    out.insert("model".into(), json!(model));
    let messages = match endpoint {
        Endpoint::Chat => {
            let Some(messages) = req.get("messages").and_then(Value::as_array) else {
                return Err(bad("messages is required"));
            };
            messages
                .iter()
                .map(|m| {
                    let mut m = m.clone();
                    // Ollama sends arguments as objects; OpenAI as JSON strings.
                    if let Some(calls) = m.get_mut("tool_calls").and_then(Value::as_array_mut) {
                        for call in calls {
                            if let Some(args) = call.pointer_mut("/function/arguments") {
                                if !args.is_string() {
                                    *args = Value::String(args.to_string());
                                }
                            }
                        }
                    }
                    m
                })
                .collect()
        }
        Endpoint::Generate => {
            let prompt = req
                .get("prompt")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let mut messages = Vec::new();
            if let Some(system) = req.get("system").and_then(Value::as_str) {
                messages.push(json!({"role": "system", "content": system}));
            }
            messages.push(json!({"role": "user", "content": prompt}));
            messages
        }
    };
    out.insert("messages".into(), Value::Array(messages));
    if let Some(tools) = req.get("tools").filter(|t| t.is_array()) {
        out.insert("tools".into(), tools.clone());
    }
    if let Some(n) = req.get("options").and_then(|o| o.get("num_predict")) {
        out.insert("max_tokens".into(), n.clone());
    }
    // Ollama streams unless told not to.
    let stream = req.get("stream").and_then(Value::as_bool).unwrap_or(true);
    out.insert("stream".into(), json!(stream));
    Ok(out)
}

fn done_reason(answer: &ChatAnswer) -> &'static str {
    if answer.finish_reason == "length" {
        "length"
    } else {
        "stop"
    }
}

fn counts(answer: &ChatAnswer) -> (Value, Value) {
    let usage = answer.completion()["usage"].clone();
    (
        usage["prompt_tokens"].clone(),
        usage["completion_tokens"].clone(),
    )
}

fn ollama_calls(calls: &[Value]) -> Vec<Value> {
    calls
        .iter()
        .map(|c| {
            let args = c
                .pointer("/function/arguments")
                .and_then(Value::as_str)
                .and_then(|a| serde_json::from_str::<Value>(a).ok())
                .unwrap_or_else(|| json!({}));
            json!({"function": {"name": c.pointer("/function/name"), "arguments": args}})
        })
        .collect()
}

fn last_line(endpoint: Endpoint, answer: &ChatAnswer, message: Value, response: &str) -> Value {
    let (prompt, completion) = counts(answer);
    let mut line = json!({"model": answer.model, "created_at": CREATED_AT});
    match endpoint {
        Endpoint::Chat => line["message"] = message,
        Endpoint::Generate => {
            line["response"] = json!(response);
        }
    }
    line["done_reason"] = json!(done_reason(answer));
    line["done"] = json!(true);
    if endpoint == Endpoint::Generate {
        line["context"] = json!([1, 2, 3]);
    }
    line["total_duration"] = json!(1_000_000);
    line["prompt_eval_count"] = prompt;
    line["eval_count"] = completion;
    line
}

/// The whole reply (`stream: false`); Ollama has one choice.
pub(crate) fn reply(endpoint: Endpoint, answer: &ChatAnswer) -> Value {
    let completion = answer.completion();
    let message = &completion["choices"][0]["message"];
    let text = message["content"].as_str().unwrap_or("");
    let mut m = json!({"role": "assistant", "content": text});
    if let Some(calls) = message["tool_calls"].as_array() {
        m["tool_calls"] = Value::Array(ollama_calls(calls));
    }
    last_line(endpoint, answer, m, text)
}

/// The NDJSON lines: one per content piece, the tool calls whole in one line, then the
/// `done` line.
pub(crate) fn stream_lines(endpoint: Endpoint, answer: &ChatAnswer) -> Vec<Value> {
    let piece = |text: &str| match endpoint {
        Endpoint::Chat => json!({"model": answer.model, "created_at": CREATED_AT,
                                 "message": {"role": "assistant", "content": text}, "done": false}),
        Endpoint::Generate => json!({"model": answer.model, "created_at": CREATED_AT,
                                     "response": text, "done": false}),
    };
    let mut out = Vec::new();
    let mut calls: Vec<(String, String)> = Vec::new();
    for chunk in answer.chunks() {
        let Some(choice) = chunk["choices"].get(0) else {
            continue;
        };
        if choice["index"].as_u64().unwrap_or(0) != 0 {
            continue;
        }
        let delta = &choice["delta"];
        if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
            out.push(piece(text));
        }
        for fragment in delta["tool_calls"].as_array().into_iter().flatten() {
            let i = fragment["index"].as_u64().unwrap_or(0) as usize;
            if calls.len() <= i {
                calls.resize(i + 1, (String::new(), String::new()));
            }
            if let Some(name) = fragment.pointer("/function/name").and_then(Value::as_str) {
                calls[i].0 = name.to_string();
            }
            if let Some(args) = fragment
                .pointer("/function/arguments")
                .and_then(Value::as_str)
            {
                calls[i].1.push_str(args);
            }
        }
    }
    if !calls.is_empty() {
        let whole: Vec<Value> = calls
            .into_iter()
            .map(|(name, args)| json!({"function": {"name": name, "arguments": args}}))
            .collect();
        let mut line = piece("");
        line["message"]["tool_calls"] = Value::Array(ollama_calls(&whole));
        out.push(line);
    }
    out.push(last_line(
        endpoint,
        answer,
        json!({"role": "assistant", "content": ""}),
        "",
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_requests_read_as_openai() {
        let req = json!({"model": "llama3-echo", "messages": [
            {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]},
            {"role": "user", "content": "hi"}], "options": {"num_predict": 3}});
        let Value::Object(req) = req else { return };
        let out = to_openai(Endpoint::Chat, &req).unwrap_or_default();
        assert_eq!(
            out["messages"][0]["tool_calls"][0]["function"]["arguments"],
            json!("{\"a\":1}")
        );
        assert_eq!(out["max_tokens"], json!(3));
        assert_eq!(out["stream"], json!(true));
        assert_eq!(Endpoint::of("/api/generate"), Some(Endpoint::Generate));
        assert_eq!(Endpoint::of("/v1/chat/completions"), None);
    }
}
