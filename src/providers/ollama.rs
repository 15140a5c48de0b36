//! Ollama's native API: `ollama_chat/` on `POST {base}/api/chat` and `ollama/` on
//! `POST {base}/api/generate`. Streams are NDJSON (one JSON object per line); the last
//! line has `done: true`, the `done_reason` and the token counts.
//!
//! Sampling parameters go into `options` (`max_tokens` → `num_predict`); keyword
//! arguments rustllm does not know (`num_ctx=`, `top_k=`, `mirostat=`) go there too, as
//! in LiteLLM, except Ollama's own top-level fields (`keep_alive`, `format`, `think`).
//! Ollama defaults to streaming, so `stream` is always sent.

use serde_json::{json, Map, Value};

use super::gemini::{parse_data_url, python_dumps};
use super::{
    check_params, new_tool_call_id, unix_now, Adapter, ChatContext, Decoded, HttpRequest,
    ProviderSpec, StreamDecoder, WireFormat,
};
use crate::error::{map_http_error, LlmError};
use crate::stream::sse::SseEvent;

const fn spec(name: &'static str, format: WireFormat) -> ProviderSpec {
    ProviderSpec {
        name,
        format,
        default_base: Some("http://localhost:11434"),
        base_env: &["OLLAMA_API_BASE"],
        key_env: &["OLLAMA_API_KEY"],
        // A local server needs no key; one set is sent as a Bearer token (proxies, Turbo).
        default_key: Some(""),
    }
}

pub const CHAT_SPEC: ProviderSpec = spec("ollama_chat", WireFormat::OllamaChat);
pub const GENERATE_SPEC: ProviderSpec = spec("ollama", WireFormat::OllamaGenerate);

/// The OpenAI parameters Ollama takes (LiteLLM's list, plus `presence_penalty`, which
/// Ollama's options have).
const SUPPORTED_PARAMS: &[&str] = &[
    "max_tokens",
    "max_completion_tokens",
    "stream",
    "stream_options",
    "top_p",
    "temperature",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "tools",
    "tool_choice",
    "functions",
    "response_format",
    "reasoning_effort",
    "parallel_tool_calls",
];

/// Ollama request fields that sit beside `options`, not inside it.
const TOP_LEVEL: &[&str] = &[
    "keep_alive",
    "format",
    "think",
    "template",
    "raw",
    "suffix",
    "context",
    "system",
    "images",
];

fn bad(message: impl Into<String>) -> LlmError {
    LlmError::bad_request(message)
}

/// The text and base64 images of a message `content` (Ollama wants images without the
/// data-URL prefix, in a list beside the text).
fn text_and_images(content: Option<&Value>) -> Result<(String, Vec<Value>), LlmError> {
    match content {
        None | Some(Value::Null) => Ok((String::new(), Vec::new())),
        Some(Value::String(s)) => Ok((s.clone(), Vec::new())),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            let mut images = Vec::new();
            for part in parts {
                match part.get("type").and_then(Value::as_str).unwrap_or("text") {
                    "text" => text.push_str(part.get("text").and_then(Value::as_str).unwrap_or("")),
                    "image_url" => {
                        let url = match part.get("image_url") {
                            Some(Value::String(u)) => Some(u.as_str()),
                            Some(o) => o.get("url").and_then(Value::as_str),
                            None => None,
                        }
                        .ok_or_else(|| bad("an image_url part needs image_url.url"))?;
                        let data = match parse_data_url(url) {
                            Some((_, data)) => data,
                            None => {
                                return Err(bad(
                                    "Ollama takes images as base64 data URLs (data:image/png;base64,...); it cannot fetch image URLs",
                                ))
                            }
                        };
                        images.push(Value::String(data.to_string()));
                    }
                    other => {
                        return Err(bad(format!(
                            "content part type {other:?} is not supported by Ollama (text and image_url are)"
                        )))
                    }
                }
            }
            Ok((text, images))
        }
        Some(other) => Err(bad(format!(
            "message content must be a string or a list of parts, got {}",
            crate::types::type_name(other)
        ))),
    }
}

/// OpenAI messages as `/api/chat` messages: tool-call arguments as objects, tool results
/// with the function's name (`tool_name`), images beside the text.
fn chat_messages(messages: &[Value]) -> Result<Vec<Value>, LlmError> {
    let mut names_by_id = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(messages.len());
    for message in messages {
        let role = message
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("user");
        let (text, images) = text_and_images(message.get("content"))?;
        let mut m = Map::new();
        let role = if role == "developer" { "system" } else { role };
        m.insert("role".into(), json!(role));
        m.insert("content".into(), json!(text));
        if !images.is_empty() {
            m.insert("images".into(), Value::Array(images));
        }
        if let Some(calls) = message.get("tool_calls").and_then(Value::as_array) {
            let mut converted = Vec::with_capacity(calls.len());
            for call in calls {
                let f = call.get("function");
                let name = f
                    .and_then(|f| f.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if let Some(id) = call.get("id").and_then(Value::as_str) {
                    names_by_id.insert(id.to_string(), name.to_string());
                }
                let args = match f.and_then(|f| f.get("arguments")) {
                    Some(Value::String(s)) if s.trim().is_empty() => json!({}),
                    Some(Value::String(s)) => serde_json::from_str(s).map_err(|e| {
                        bad(format!("tool call arguments must be a JSON object string; could not parse {s:?}: {e}"))
                    })?,
                    Some(v) => v.clone(),
                    None => json!({}),
                };
                converted.push(json!({"function": {"name": name, "arguments": args}}));
            }
            m.insert("tool_calls".into(), Value::Array(converted));
        }
        if role == "tool" {
            let id = message.get("tool_call_id").and_then(Value::as_str);
            if let Some(id) = id {
                // LiteLLM sends the call id; Ollama itself reads the function's name.
                m.insert("tool_call_id".into(), json!(id));
            }
            let name = id.and_then(|id| names_by_id.get(id).cloned()).or_else(|| {
                message
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
            if let Some(name) = name {
                m.insert("tool_name".into(), json!(name));
            }
        }
        out.push(Value::Object(m));
    }
    Ok(out)
}

/// LiteLLM's `ollama_pt` prompt for `/api/generate`:
/// `### System:\n...\n\n### User:\n...\n\n`, images collected beside it.
fn generate_prompt(messages: &[Value]) -> Result<(String, Vec<Value>), LlmError> {
    let mut prompt = String::new();
    let mut all_images = Vec::new();
    for message in messages {
        let role = message
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("user");
        let (text, images) = text_and_images(message.get("content"))?;
        all_images.extend(images);
        let heading = match role {
            "system" | "developer" => "System",
            "assistant" => "Assistant",
            _ => "User",
        };
        if let Some(calls) = message.get("tool_calls").filter(|c| c.is_array()) {
            prompt.push_str(&format!("### Assistant:\nTool Calls: {calls}\n\n"));
            continue;
        }
        if !text.is_empty() {
            prompt.push_str(&format!("### {heading}:\n{text}\n\n"));
        }
    }
    Ok((prompt, all_images))
}

/// Splits the OpenAI parameters into Ollama's `options` and top-level fields.
fn options_and_fields(
    body: &mut Map<String, Value>,
    chat: bool,
) -> (Map<String, Value>, Map<String, Value>) {
    let mut options = Map::new();
    let mut fields = Map::new();
    let max_completion = body.remove("max_completion_tokens");
    if let Some(v) = body.remove("max_tokens").or(max_completion) {
        options.insert("num_predict".into(), v);
    }
    for key in [
        "temperature",
        "top_p",
        "seed",
        "frequency_penalty",
        "presence_penalty",
    ] {
        if let Some(v) = body.remove(key) {
            options.insert(key.into(), v);
        }
    }
    match body.remove("stop") {
        Some(Value::String(s)) => {
            options.insert("stop".into(), json!([s]));
        }
        Some(v @ Value::Array(_)) => {
            options.insert("stop".into(), v);
        }
        _ => {}
    }
    if let Some(format) = body.remove("response_format") {
        match format.get("type").and_then(Value::as_str) {
            Some("json_object") => {
                fields.insert("format".into(), json!("json"));
            }
            Some("json_schema") => {
                let schema = format
                    .get("json_schema")
                    .and_then(|s| s.get("schema"))
                    .cloned()
                    .unwrap_or_else(|| json!("json"));
                fields.insert("format".into(), schema);
            }
            _ => {}
        }
    }
    if let Some(effort) = body.remove("reasoning_effort") {
        let off = matches!(effort.as_str(), Some("none" | "disable"));
        fields.insert("think".into(), json!(!off));
    }
    if chat {
        let mut tools: Vec<Value> = body
            .remove("tools")
            .and_then(|t| t.as_array().cloned())
            .unwrap_or_default();
        if let Some(Value::Array(functions)) = body.remove("functions") {
            tools.extend(
                functions
                    .into_iter()
                    .map(|f| json!({"type": "function", "function": f})),
            );
        }
        if !tools.is_empty() {
            fields.insert("tools".into(), Value::Array(tools));
        }
    }
    // Ollama has no tool_choice or parallel-call switch; LiteLLM accepts and ignores them.
    for key in ["tool_choice", "parallel_tool_calls", "tools", "functions"] {
        body.remove(key);
    }
    for (key, value) in std::mem::take(body) {
        if TOP_LEVEL.contains(&key.as_str()) {
            fields.insert(key, value);
        } else {
            options.insert(key, value);
        }
    }
    (options, fields)
}

fn request(
    ctx: &ChatContext<'_>,
    mut body: Map<String, Value>,
    chat: bool,
) -> Result<HttpRequest, LlmError> {
    check_params(ctx, &mut body, SUPPORTED_PARAMS)?;
    body.remove("model");
    body.remove("stream");
    body.remove("stream_options");
    let messages = match body.remove("messages") {
        Some(Value::Array(m)) => m,
        _ => Vec::new(),
    };
    let (options, fields) = options_and_fields(&mut body, chat);
    let mut out = Map::new();
    out.insert("model".into(), json!(ctx.model));
    if chat {
        out.insert("messages".into(), Value::Array(chat_messages(&messages)?));
    } else {
        let (prompt, images) = generate_prompt(&messages)?;
        out.insert("prompt".into(), json!(prompt));
        out.insert("images".into(), Value::Array(images));
    }
    out.insert("options".into(), Value::Object(options));
    out.insert("stream".into(), json!(ctx.stream));
    out.extend(fields);
    let path = if chat { "api/chat" } else { "api/generate" };
    let mut headers = Vec::new();
    if let Some(key) = ctx.endpoint.key.as_deref().filter(|k| !k.trim().is_empty()) {
        headers.push(("authorization".to_string(), format!("Bearer {key}")));
    }
    Ok(HttpRequest {
        url: super::openai::endpoint_url(&ctx.endpoint.base, path),
        headers,
        body: out,
    })
}

/// `done_reason` in OpenAI's vocabulary.
fn finish_reason(done_reason: Option<&str>, has_tool_calls: bool) -> &'static str {
    match done_reason {
        Some("length") => "length",
        _ if has_tool_calls => "tool_calls",
        _ => "stop",
    }
}

fn usage(reply: &Value) -> Value {
    let prompt = reply
        .get("prompt_eval_count")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let completion = reply.get("eval_count").and_then(Value::as_u64).unwrap_or(0);
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

/// Ollama's tool calls (arguments as objects, no ids) in OpenAI's shape.
fn tool_calls(message: &Value, first_index: usize) -> Vec<Value> {
    message
        .get("tool_calls")
        .and_then(Value::as_array)
        .map(|calls| {
            calls
                .iter()
                .enumerate()
                .map(|(i, call)| {
                    let f = call.get("function");
                    let name = f
                        .and_then(|f| f.get("name"))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let args = match f.and_then(|f| f.get("arguments")) {
                        Some(Value::String(s)) => s.clone(),
                        Some(v) => python_dumps(v),
                        None => "{}".to_string(),
                    };
                    json!({"index": first_index + i, "id": new_tool_call_id(), "type": "function",
                           "function": {"name": name, "arguments": args}})
                })
                .collect()
        })
        .unwrap_or_default()
}

fn error_in_body(ctx_provider: &str, model: &str, body: &Value) -> Option<LlmError> {
    let text = body.get("error").and_then(Value::as_str)?;
    let status = if text.contains("not found") { 404 } else { 500 };
    Some(map_http_error(
        status,
        ctx_provider,
        model,
        &body.to_string(),
        Some(body.clone()),
        Vec::new(),
    ))
}

fn parse(
    ctx: &ChatContext<'_>,
    body: Map<String, Value>,
    chat: bool,
) -> Result<Map<String, Value>, LlmError> {
    let body = Value::Object(body);
    if let Some(err) = error_in_body(ctx.provider, ctx.requested_model, &body) {
        return Err(err);
    }
    // `/api/chat` answers with a `message` object, `/api/generate` with a `response`
    // string; without them the body is not an Ollama reply.
    let shaped = if chat {
        body.get("message").is_some_and(Value::is_object)
    } else {
        body.get("response").is_some_and(Value::is_string)
    };
    if !shaped {
        let what = if chat {
            "no 'message' object"
        } else {
            "no 'response' text"
        };
        return Err(super::malformed_reply(ctx, what, &body));
    }
    let mut message = Map::new();
    let mut calls = Vec::new();
    if chat {
        let m = body.get("message").cloned().unwrap_or(Value::Null);
        let text = m.get("content").and_then(Value::as_str).unwrap_or("");
        calls = tool_calls(&m, 0);
        for call in &mut calls {
            if let Value::Object(c) = call {
                c.remove("index");
            }
        }
        message.insert(
            "content".into(),
            if text.is_empty() && !calls.is_empty() {
                Value::Null
            } else {
                json!(text)
            },
        );
        message.insert("role".into(), json!("assistant"));
        if !calls.is_empty() {
            message.insert("tool_calls".into(), Value::Array(calls.clone()));
        }
        if let Some(thinking) = m
            .get("thinking")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            message.insert("reasoning_content".into(), json!(thinking));
        }
    } else {
        let text = body.get("response").and_then(Value::as_str).unwrap_or("");
        message.insert("content".into(), json!(text));
        message.insert("role".into(), json!("assistant"));
        if let Some(thinking) = body
            .get("thinking")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            message.insert("reasoning_content".into(), json!(thinking));
        }
    }
    let reason = finish_reason(
        body.get("done_reason").and_then(Value::as_str),
        !calls.is_empty(),
    );
    let mut out = Map::new();
    out.insert(
        "id".into(),
        json!(format!("chatcmpl-{}", uuid::Uuid::new_v4())),
    );
    out.insert("created".into(), json!(unix_now()));
    out.insert("model".into(), json!(ctx.model));
    out.insert("object".into(), json!("chat.completion"));
    out.insert("system_fingerprint".into(), Value::Null);
    out.insert(
        "choices".into(),
        json!([{"finish_reason": reason, "index": 0, "message": message}]),
    );
    out.insert("usage".into(), usage(&body));
    Ok(out)
}

/// Ollama's NDJSON stream: each line holds the next piece (`message.content` for chat,
/// `response` for generate); tool calls arrive whole; `done: true` ends it.
pub struct OllamaStreamDecoder {
    chat: bool,
    provider: String,
    model: String,
    requested_model: String,
    id: String,
    created: u64,
    include_usage: bool,
    tool_calls: usize,
    /// Redacted from quoted lines.
    api_key: Option<String>,
}

impl OllamaStreamDecoder {
    fn new(ctx: &ChatContext<'_>, chat: bool) -> Self {
        OllamaStreamDecoder {
            chat,
            provider: ctx.provider.to_string(),
            model: ctx.model.to_string(),
            requested_model: ctx.requested_model.to_string(),
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4()),
            created: unix_now(),
            include_usage: ctx.options.include_usage,
            tool_calls: 0,
            api_key: ctx.endpoint.key.clone(),
        }
    }

    fn chunk(&self, choices: Value) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("created".into(), json!(self.created));
        m.insert("model".into(), json!(self.model));
        m.insert("object".into(), json!("chat.completion.chunk"));
        m.insert("choices".into(), choices);
        m
    }
}

impl StreamDecoder for OllamaStreamDecoder {
    fn decode(&mut self, ev: &SseEvent) -> Result<Decoded, LlmError> {
        let line = ev.data.trim();
        if line.is_empty() {
            return Ok(Decoded::Chunks(Vec::new()));
        }
        let malformed = |what: &str| {
            LlmError::malformed_event(
                &self.provider,
                &self.requested_model,
                what,
                line,
                self.api_key.as_deref(),
            )
        };
        let event: Value =
            serde_json::from_str(line).map_err(|e| malformed(&format!("not JSON ({e})")))?;
        if let Some(err) = error_in_body(&self.provider, &self.requested_model, &event) {
            return Err(err);
        }
        // Each line carries the next piece (`message` for chat, `response` for generate)
        // or ends the stream (`done: true`); a line with neither is not an Ollama line.
        let done = event.get("done").and_then(Value::as_bool) == Some(true);
        let shaped = if self.chat {
            event.get("message").is_some_and(Value::is_object)
        } else {
            event.get("response").is_some_and(Value::is_string)
        };
        if !done && !shaped {
            return Err(malformed(if self.chat {
                "no 'message' object and not \"done\""
            } else {
                "no 'response' text and not \"done\""
            }));
        }
        let mut delta = Map::new();
        if self.chat {
            let m = event.get("message").cloned().unwrap_or(Value::Null);
            if let Some(text) = m
                .get("content")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                delta.insert("content".into(), json!(text));
            }
            if let Some(t) = m
                .get("thinking")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                delta.insert("reasoning_content".into(), json!(t));
            }
            let calls = tool_calls(&m, self.tool_calls);
            if !calls.is_empty() {
                self.tool_calls += calls.len();
                delta.insert("tool_calls".into(), Value::Array(calls));
            }
        } else {
            if let Some(text) = event
                .get("response")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                delta.insert("content".into(), json!(text));
            }
            if let Some(t) = event
                .get("thinking")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
            {
                delta.insert("reasoning_content".into(), json!(t));
            }
        }
        let mut out = Vec::with_capacity(2);
        let reason = done.then(|| {
            finish_reason(
                event.get("done_reason").and_then(Value::as_str),
                self.tool_calls > 0,
            )
        });
        out.push(self.chunk(json!([{"index": 0, "delta": delta, "finish_reason": reason}])));
        if done && self.include_usage {
            let mut u = self.chunk(json!([]));
            u.insert("usage".into(), usage(&event));
            out.push(u);
        }
        // The `done` line carries a finish reason, so the stream counts as complete when
        // the server closes it.
        Ok(Decoded::Chunks(out))
    }
}

/// `ollama_chat/`: `POST {base}/api/chat`.
pub struct OllamaChatAdapter;
/// `ollama/`: `POST {base}/api/generate` with LiteLLM's prompt template.
pub struct OllamaGenerateAdapter;

impl Adapter for OllamaChatAdapter {
    fn build_request(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
    ) -> Result<HttpRequest, LlmError> {
        request(ctx, body, true)
    }

    fn parse_response(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
        _headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError> {
        parse(ctx, body, true)
    }

    fn framing(&self) -> super::Framing {
        super::Framing::Ndjson
    }

    fn stream_decoder(&self, ctx: &ChatContext<'_>) -> Box<dyn StreamDecoder> {
        Box::new(OllamaStreamDecoder::new(ctx, true))
    }
}

impl Adapter for OllamaGenerateAdapter {
    fn build_request(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
    ) -> Result<HttpRequest, LlmError> {
        request(ctx, body, false)
    }

    fn parse_response(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
        _headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError> {
        parse(ctx, body, false)
    }

    fn framing(&self) -> super::Framing {
        super::Framing::Ndjson
    }

    fn stream_decoder(&self, ctx: &ChatContext<'_>) -> Box<dyn StreamDecoder> {
        Box::new(OllamaStreamDecoder::new(ctx, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::providers::Endpoint;
    use crate::providers::Endpointkind;
    use crate::test_support::{assert_malformed, foreign_replies, no_env, obj, with_chat_ctx};
    use crate::types::CallOptions;

    fn with_ctx<T>(
        provider: &str,
        stream: bool,
        options: CallOptions,
        f: impl FnOnce(&ChatContext<'_>) -> T,
    ) -> T {
        let endpoint = Endpoint {
            base: "http://localhost:11434/".into(),
            key: Some(String::new()),
        };
        let ctx = ChatContext {
            kind: Endpointkind::Chat,
            provider,
            model: "llama3",
            requested_model: "ollama_chat/llama3",
            endpoint: &endpoint,
            options: &options,
            stream,
            env: &no_env,
        };
        f(&ctx)
    }

    #[test]
    fn replies_without_their_payload_are_errors() {
        let chat = |body: Map<String, Value>| {
            with_chat_ctx(Endpointkind::Chat, "ollama_chat", "llama3", false, |ctx| {
                OllamaChatAdapter.parse_response(ctx, body, &[])
            })
        };
        let generate = |body: Map<String, Value>| {
            with_chat_ctx(Endpointkind::Chat, "ollama", "llama3", false, |ctx| {
                OllamaGenerateAdapter.parse_response(ctx, body, &[])
            })
        };
        // Cohere's v2 reply also has a `message` object: chat cannot tell them apart.
        for body in foreign_replies(&["cohere"]) {
            assert_malformed(
                chat(body).err(),
                "Ollama_chatException - Invalid response from the provider: no 'message' object. Received: {",
            );
        }
        for body in foreign_replies(&["ollama"]) {
            assert_malformed(
                generate(body).err(),
                "OllamaException - Invalid response from the provider: no 'response' text. Received: {",
            );
        }
        let ok = chat(obj(
            json!({"message": {"role": "assistant", "content": "hi"}, "done": true}),
        ));
        assert_eq!(
            ok.ok()
                .map(|r| r["choices"][0]["message"]["content"].clone()),
            Some(json!("hi"))
        );
        let ok = generate(obj(json!({"response": "hi", "done": true})));
        assert_eq!(
            ok.ok()
                .map(|r| r["choices"][0]["message"]["content"].clone()),
            Some(json!("hi"))
        );
    }

    #[test]
    fn stream_lines_of_the_wrong_shape_are_errors() {
        let line = |data: &str| SseEvent {
            event: None,
            data: data.into(),
        };
        for (provider, chat) in [("ollama_chat", true), ("ollama", false)] {
            let mut d = with_ctx(provider, true, CallOptions::default(), |ctx| {
                OllamaStreamDecoder::new(ctx, chat)
            });
            for bad in [
                "{}",
                r#"{"foo": 1}"#,
                "[1]",
                r#"{"choices": [{"delta": {"content": "hi"}}]}"#,
            ] {
                let err = d.decode(&line(bad)).err();
                let err = err.unwrap_or_else(|| panic!("{provider}: {bad} was accepted"));
                assert_eq!((err.kind, err.status), (ErrorKind::Api, 500));
                assert!(
                    err.message.contains("Invalid chunk in the stream: no '"),
                    "{}",
                    err.message
                );
            }
            // The last line may carry only `done` and the counts.
            assert!(d
                .decode(&line(r#"{"done": true, "eval_count": 3}"#))
                .is_ok());
        }
    }

    #[test]
    fn chat_body_options_and_tools() {
        let req = with_ctx("ollama_chat", false, CallOptions::default(), |ctx| {
            OllamaChatAdapter.build_request(
                ctx,
                obj(json!({
                    "model": "llama3",
                    "messages": [{"role": "developer", "content": "d"}, {"role": "user", "content": "hi"}],
                    "max_tokens": 5, "frequency_penalty": 0.5, "stop": "x", "mirostat": 2,
                    "functions": [{"name": "f"}], "tool_choice": "auto", "reasoning_effort": "low",
                })),
            )
        })
        .unwrap();
        assert_eq!(req.url, "http://localhost:11434/api/chat");
        assert!(req.headers.is_empty());
        assert_eq!(
            Value::Object(req.body),
            json!({
                "model": "llama3",
                "messages": [{"role": "system", "content": "d"}, {"role": "user", "content": "hi"}],
                "options": {"num_predict": 5, "frequency_penalty": 0.5, "stop": ["x"], "mirostat": 2},
                "stream": false,
                "think": true,
                "tools": [{"type": "function", "function": {"name": "f"}}],
            })
        );
        let err = with_ctx("ollama_chat", false, CallOptions::default(), |ctx| {
            OllamaChatAdapter.build_request(ctx, obj(json!({"messages": [], "n": 2})))
        })
        .err()
        .unwrap();
        assert_eq!(err.kind, ErrorKind::UnsupportedParams);
    }

    #[test]
    fn generate_prompt_follows_litellm() {
        let (prompt, images) = generate_prompt(&[
            json!({"role": "system", "content": "sys"}),
            json!({"role": "user", "content": "hi"}),
            json!({"role": "assistant", "content": "hello"}),
            json!({"role": "user", "content": [{"type": "text", "text": "and"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}}]}),
        ])
        .unwrap();
        assert_eq!(
            prompt,
            "### System:\nsys\n\n### User:\nhi\n\n### Assistant:\nhello\n\n### User:\nand\n\n"
        );
        assert_eq!(images, vec![json!("QUJD")]);
    }

    #[test]
    fn replies_with_tool_calls_and_counts() {
        let reply = with_ctx("ollama_chat", false, CallOptions::default(), |ctx| {
            parse(
                ctx,
                obj(
                    json!({"model": "llama3", "message": {"role": "assistant", "content": "",
                    "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]},
                    "done": true, "done_reason": "stop", "prompt_eval_count": 7, "eval_count": 2}),
                ),
                true,
            )
        })
        .unwrap();
        let choice = &reply["choices"][0];
        assert_eq!(choice["finish_reason"], json!("tool_calls"));
        assert_eq!(choice["message"]["content"], Value::Null);
        assert_eq!(
            choice["message"]["tool_calls"][0]["function"],
            json!({"name": "f", "arguments": "{\"a\": 1}"})
        );
        assert!(choice["message"]["tool_calls"][0].get("index").is_none());
        assert_eq!(
            reply["usage"],
            json!({"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9})
        );
        let generated = with_ctx("ollama", false, CallOptions::default(), |ctx| {
            parse(
                ctx,
                obj(json!({"response": "hey", "done": true, "done_reason": "length"})),
                false,
            )
        })
        .unwrap();
        assert_eq!(generated["choices"][0]["message"]["content"], json!("hey"));
        assert_eq!(generated["choices"][0]["finish_reason"], json!("length"));
        let err = with_ctx("ollama_chat", false, CallOptions::default(), |ctx| {
            parse(ctx, obj(json!({"error": "model 'x' not found"})), true)
        })
        .err()
        .unwrap();
        assert_eq!(err.kind, ErrorKind::NotFound);
    }

    #[test]
    fn ndjson_lines_become_chunks() {
        let options = CallOptions {
            include_usage: true,
            ..CallOptions::default()
        };
        let mut d = with_ctx("ollama_chat", true, options, |ctx| {
            OllamaStreamDecoder::new(ctx, true)
        });
        let line = |v: Value| SseEvent {
            event: None,
            data: v.to_string(),
        };
        let chunks = |r: Result<Decoded, LlmError>| match r {
            Ok(Decoded::Chunks(c)) => c,
            _ => Vec::new(),
        };
        let a = chunks(d.decode(&line(
            json!({"message": {"role": "assistant", "content": "Hi"}, "done": false}),
        )));
        assert_eq!(a[0]["choices"][0]["delta"], json!({"content": "Hi"}));
        let b = chunks(d.decode(&line(
            json!({"message": {"role": "assistant", "content": "",
            "tool_calls": [{"function": {"name": "f", "arguments": {}}}]}, "done": false}),
        )));
        assert_eq!(
            b[0]["choices"][0]["delta"]["tool_calls"][0]["index"],
            json!(0)
        );
        let c = chunks(d.decode(&line(
            json!({"message": {"role": "assistant", "content": ""}, "done": true,
            "done_reason": "stop", "prompt_eval_count": 1, "eval_count": 2}),
        )));
        assert_eq!(c[0]["choices"][0]["finish_reason"], json!("tool_calls"));
        assert_eq!(c[1]["usage"]["total_tokens"], json!(3));
        let err = d.decode(&line(json!({"error": "boom"}))).err().unwrap();
        assert!(err.message.contains("Ollama_chatException") && err.message.contains("boom"));
    }
}
