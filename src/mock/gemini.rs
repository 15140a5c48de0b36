//! Google's generateContent format as the mock speaks it (AI Studio and Vertex AI share
//! it): the request is read into the OpenAI request the mock already answers, so the
//! model-name directives work here too (the model is the last path segment before
//! `:generateContent`), and the answer is written back as a `GenerateContentResponse`
//! or its SSE stream. Also the OAuth token endpoint Vertex AI credentials point at.

use serde_json::{json, Map, Value};

use super::openai::{ChatAnswer, Reject};

/// `.../models/{model}:generateContent` or `:streamGenerateContent`.
pub(crate) fn is_generate_content(path: &str) -> bool {
    path.ends_with(":generateContent") || path.ends_with(":streamGenerateContent")
}

/// Whether the path asks for a stream.
pub(crate) fn is_stream(path: &str) -> bool {
    path.ends_with(":streamGenerateContent")
}

/// The model named in a generateContent path.
pub(crate) fn model_from_path(path: &str) -> Option<String> {
    let (before, _) = path.rsplit_once(':')?;
    let model = before.rsplit('/').next()?;
    Some(model.to_string())
}

/// Google's name for an HTTP status (`google.rpc.Code`).
fn status_name(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        500 => "INTERNAL",
        501 => "NOT_IMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "UNKNOWN",
    }
}

/// `{"error": {"code", "message", "status"}}`.
pub(crate) fn error_body(status: u16, message: &str) -> Value {
    json!({"error": {"code": status, "message": message, "status": status_name(status)}})
}

/// An OpenAI-shaped rejection in Google's shape; an over-long prompt in Google's words.
pub(crate) fn translate_error((status, body): Reject) -> Reject {
    let code = body.pointer("/error/code").and_then(Value::as_str);
    let message = if code == Some("context_length_exceeded") {
        "The input token count (9000) exceeds the maximum number of tokens allowed (8192)."
            .to_string()
    } else {
        body.pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("error")
            .to_string()
    };
    (status, error_body(status, &message))
}

/// Google's answer to a blocked prompt: 200, no candidates, `promptFeedback.blockReason`.
pub(crate) fn blocked_prompt() -> Value {
    json!({
        "promptFeedback": {
            "blockReason": "SAFETY",
            "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}],
        },
        "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 3},
    })
}

fn parts_text(parts: &[Value]) -> String {
    parts
        .iter()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("")
}

/// The generateContent request as the OpenAI chat request the mock answers.
pub(crate) fn to_openai(
    path: &str,
    req: &Map<String, Value>,
) -> Result<Map<String, Value>, Reject> {
    let bad = |m: &str| (400, error_body(400, m));
    let mut messages = Vec::new();
    let system = req
        .get("system_instruction")
        .or_else(|| req.get("systemInstruction"));
    if let Some(parts) = system
        .and_then(|s| s.get("parts"))
        .and_then(Value::as_array)
    {
        messages.push(json!({"role": "system", "content": parts_text(parts)}));
    }
    let Some(contents) = req.get("contents").and_then(Value::as_array) else {
        return Err(bad(
            "* GenerateContentRequest.contents: contents is not specified",
        ));
    };
    for content in contents {
        let parts = content
            .get("parts")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let role = content
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("user");
        let mut calls = Vec::new();
        for part in parts {
            let call = part
                .get("function_call")
                .or_else(|| part.get("functionCall"));
            if let Some(call) = call {
                calls.push(json!({"id": format!("call_{}", calls.len()), "type": "function",
                    "function": {"name": call.get("name"), "arguments": call.get("args").map(Value::to_string).unwrap_or_default()}}));
            }
            let response = part
                .get("function_response")
                .or_else(|| part.get("functionResponse"));
            if let Some(r) = response {
                let content = r
                    .pointer("/response/content")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| r.get("response").map(Value::to_string).unwrap_or_default());
                messages.push(
                    json!({"role": "tool", "tool_call_id": r.get("name"), "content": content}),
                );
            }
        }
        let text = parts_text(parts);
        let openai_role = if role == "model" { "assistant" } else { "user" };
        if !calls.is_empty() {
            messages.push(json!({"role": "assistant", "content": text, "tool_calls": calls}));
        } else if !text.is_empty()
            || parts
                .iter()
                .any(|p| p.get("inline_data").is_some() || p.get("file_data").is_some())
        {
            messages.push(json!({"role": openai_role, "content": text}));
        }
    }
    let mut out = Map::new();
    out.insert(
        "model".into(),
        json!(model_from_path(path).unwrap_or_default()),
    );
    out.insert("messages".into(), Value::Array(messages));
    let mut tools = Vec::new();
    for tool in req
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let decls = tool
            .get("function_declarations")
            .or_else(|| tool.get("functionDeclarations"))
            .and_then(Value::as_array);
        for decl in decls.into_iter().flatten() {
            tools.push(json!({"type": "function", "function": decl}));
        }
    }
    if !tools.is_empty() {
        out.insert("tools".into(), Value::Array(tools));
    }
    let calling = req
        .get("toolConfig")
        .or_else(|| req.get("tool_config"))
        .and_then(|t| {
            t.get("functionCallingConfig")
                .or_else(|| t.get("function_calling_config"))
        });
    if let Some(calling) = calling {
        let allowed = calling
            .get("allowed_function_names")
            .or_else(|| calling.get("allowedFunctionNames"))
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .cloned();
        let choice = match (calling.get("mode").and_then(Value::as_str), allowed) {
            (Some("ANY"), Some(name)) => json!({"type": "function", "function": {"name": name}}),
            (Some("ANY"), None) => json!("required"),
            (Some("NONE"), _) => json!("none"),
            _ => json!("auto"),
        };
        out.insert("tool_choice".into(), choice);
    }
    if let Some(config) = req
        .get("generationConfig")
        .or_else(|| req.get("generation_config"))
    {
        let field =
            |camel: &str, snake: &str| config.get(camel).or_else(|| config.get(snake)).cloned();
        if let Some(v) = field("maxOutputTokens", "max_output_tokens") {
            out.insert("max_tokens".into(), v);
        }
        if let Some(v) = field("candidateCount", "candidate_count") {
            out.insert("n".into(), v);
        }
    }
    out.insert("stream".into(), json!(is_stream(path)));
    Ok(out)
}

fn finish(reason: &str) -> &'static str {
    match reason {
        "length" => "MAX_TOKENS",
        "content_filter" => "SAFETY",
        _ => "STOP",
    }
}

fn usage_metadata(answer: &ChatAnswer) -> Value {
    let usage = answer.completion()["usage"].clone();
    json!({
        "promptTokenCount": usage["prompt_tokens"],
        "candidatesTokenCount": usage["completion_tokens"],
        "totalTokenCount": usage["total_tokens"],
    })
}

fn call_parts(tool_calls: &[Value]) -> Vec<Value> {
    tool_calls
        .iter()
        .map(|c| {
            let args = c
                .pointer("/function/arguments")
                .and_then(Value::as_str)
                .and_then(|a| serde_json::from_str::<Value>(a).ok())
                .unwrap_or_else(|| json!({}));
            json!({"functionCall": {"name": c.pointer("/function/name"), "args": args}})
        })
        .collect()
}

/// The `GenerateContentResponse` for a decided answer.
pub(crate) fn reply(answer: &ChatAnswer) -> Value {
    let completion = answer.completion();
    let candidates: Vec<Value> = completion["choices"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|choice| {
            let message = &choice["message"];
            let mut parts = Vec::new();
            if let Some(text) = message["content"].as_str() {
                parts.push(json!({"text": text}));
            }
            if let Some(calls) = message["tool_calls"].as_array() {
                parts.extend(call_parts(calls));
            }
            json!({
                "content": {"parts": parts, "role": "model"},
                "finishReason": finish(choice["finish_reason"].as_str().unwrap_or("stop")),
                "index": choice["index"],
            })
        })
        .collect();
    json!({
        "candidates": candidates,
        "usageMetadata": usage_metadata(answer),
        "modelVersion": answer.model,
        "responseId": answer.id,
    })
}

/// The stream events: one per content piece, then per candidate a last event with its
/// (whole) function calls and finish reason; usage on the last one.
pub(crate) fn stream_events(answer: &ChatAnswer) -> Vec<Value> {
    let event = |index: &Value, parts: Vec<Value>, reason: Option<&str>| {
        let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": index});
        if let Some(r) = reason {
            candidate["finishReason"] = json!(finish(r));
        }
        json!({"candidates": [candidate], "modelVersion": answer.model, "responseId": answer.id})
    };
    let mut out = Vec::new();
    // Tool calls arrive whole in Gemini: gather OpenAI's fragments per choice.
    let mut calls: Vec<(String, String)> = Vec::new();
    for chunk in answer.chunks() {
        let Some(choice) = chunk["choices"].get(0) else {
            continue;
        };
        let index = &choice["index"];
        let delta = &choice["delta"];
        if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
            out.push(event(index, vec![json!({"text": text})], None));
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
        if let Some(reason) = choice["finish_reason"].as_str() {
            let whole: Vec<Value> = calls
                .drain(..)
                .map(|(name, args)| json!({"function": {"name": name, "arguments": args}}))
                .collect();
            out.push(event(index, call_parts(&whole), Some(reason)));
        }
    }
    if let Some(last) = out.last_mut() {
        last["usageMetadata"] = usage_metadata(answer);
    }
    out
}

/// The OAuth token endpoint's answer (`token_uri` of a service account).
pub(crate) fn token(serial: u64) -> Value {
    json!({"access_token": format!("ya29.mock-token-{serial}"), "expires_in": 3600, "token_type": "Bearer"})
}

/// The token endpoint's refusal, in OAuth's shape.
pub(crate) fn token_error(message: &str) -> Value {
    json!({"error": "invalid_grant", "error_description": message})
}

/// `.../models/{model}:predict`: Imagen's image generation (AI Studio and Vertex AI).
pub(crate) fn is_predict(path: &str) -> bool {
    path.ends_with(":predict")
}

/// An Imagen `predict` request as the OpenAI images request the mock answers:
/// `instances[0].prompt` and `parameters.sampleCount` (1 to 4, as Imagen allows).
pub(crate) fn imagen_to_openai(
    path: &str,
    req: &Map<String, Value>,
) -> Result<Map<String, Value>, Reject> {
    let bad = |message: &str| (400, error_body(400, message));
    let prompt = req
        .get("instances")
        .and_then(Value::as_array)
        .and_then(|i| i.first())
        .and_then(|i| i.get("prompt"))
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| bad("instances[0].prompt is required"))?;
    let n = match req.get("parameters").and_then(|p| p.get("sampleCount")) {
        None | Some(Value::Null) => 1,
        Some(n) => match n.as_u64() {
            Some(n @ 1..=4) => n,
            _ => return Err(bad("sampleCount must be between 1 and 4")),
        },
    };
    let mut out = Map::new();
    out.insert(
        "model".into(),
        Value::String(model_from_path(path).unwrap_or_default()),
    );
    out.insert("prompt".into(), Value::String(prompt.to_string()));
    out.insert("n".into(), json!(n));
    out.insert("response_format".into(), json!("b64_json"));
    Ok(out)
}

/// An OpenAI images answer as Imagen's `predictions`.
pub(crate) fn imagen_reply(images: &Value) -> Value {
    let predictions: Vec<Value> = images
        .get("data")
        .and_then(Value::as_array)
        .map(|d| {
            d.iter()
                .map(|i| json!({"bytesBase64Encoded": i.get("b64_json").cloned().unwrap_or(Value::Null), "mimeType": "image/png"}))
                .collect()
        })
        .unwrap_or_default();
    json!({ "predictions": predictions })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_and_stream_come_from_the_path() {
        let p =
            "/v1/projects/p/locations/l/publishers/google/models/gemini-echo:streamGenerateContent";
        assert!(is_generate_content(p) && is_stream(p));
        assert_eq!(model_from_path(p).as_deref(), Some("gemini-echo"));
        assert_eq!(
            model_from_path("/v1beta/models/gemini-2.0-flash:generateContent").as_deref(),
            Some("gemini-2.0-flash")
        );
    }

    #[test]
    fn requests_read_as_openai() {
        let req = json!({
            "contents": [
                {"role": "user", "parts": [{"text": "weather?"}]},
                {"role": "model", "parts": [{"function_call": {"name": "w", "args": {"c": "P"}}}]},
                {"role": "user", "parts": [{"function_response": {"name": "w", "response": {"content": "sunny"}}}]},
            ],
            "system_instruction": {"parts": [{"text": "be brief"}]},
            "tools": [{"function_declarations": [{"name": "w"}]}],
            "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowed_function_names": ["w"]}},
            "generationConfig": {"maxOutputTokens": 5, "candidateCount": 2},
        });
        let Value::Object(req) = req else { return };
        let out = to_openai("/v1beta/models/m:generateContent", &req).unwrap_or_default();
        assert_eq!(out["model"], json!("m"));
        assert_eq!(
            out["messages"][0],
            json!({"role": "system", "content": "be brief"})
        );
        assert_eq!(
            out["messages"][2]["tool_calls"][0]["function"]["arguments"],
            json!("{\"c\":\"P\"}")
        );
        assert_eq!(out["messages"][3]["role"], json!("tool"));
        assert_eq!(out["tool_choice"]["function"]["name"], json!("w"));
        assert_eq!(
            (out["max_tokens"].clone(), out["n"].clone()),
            (json!(5), json!(2))
        );
    }
}
