//! Cohere's v2 chat API (`POST {base}/v2/chat`). Its messages and tools are close to
//! OpenAI's (roles, `tool_calls` with JSON-string arguments, `tool` results by
//! `tool_call_id`); the differences are parameter names (`p`, `stop_sequences`),
//! upper-case `tool_choice`, the assistant's `tool_plan`, replies whose `message.content`
//! is a list of parts, upper-case finish reasons, and named SSE events.

use serde_json::{json, Map, Value};

use super::{
    check_params, reclassify, unix_now, Adapter, ChatContext, Decoded, HttpRequest, ProviderSpec,
    StreamDecoder, WireFormat,
};
use crate::error::{map_http_error, redact_key, ErrorKind, LlmError};
use crate::providers::Endpointkind;
use crate::stream::sse::SseEvent;

const fn spec(name: &'static str) -> ProviderSpec {
    ProviderSpec {
        name,
        format: WireFormat::Cohere,
        default_base: Some("https://api.cohere.com"),
        base_env: &["COHERE_API_BASE"],
        key_env: &["COHERE_API_KEY", "CO_API_KEY"],
        default_key: None,
    }
}

/// `cohere/<model>`.
pub const SPEC: ProviderSpec = spec("cohere");
/// `cohere_chat/<model>`, the name LiteLLM routes Cohere chat models under.
pub const CHAT_SPEC: ProviderSpec = spec("cohere_chat");

/// The OpenAI parameters Cohere's v2 chat takes (`n` is handled apart: only 1).
const SUPPORTED: &[&str] = &[
    "stream",
    "stream_options",
    "temperature",
    "max_tokens",
    "max_completion_tokens",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "tools",
    "tool_choice",
    "seed",
    "response_format",
    "logprobs",
];

fn bad(message: impl Into<String>) -> LlmError {
    LlmError::bad_request(message)
}

/// `{base}/v2/chat`. A base that already names the path is kept; LiteLLM-style v1 chat URLs
/// (`COHERE_API_BASE=https://api.cohere.ai/v1/chat`) are moved to v2, which is what we speak.
pub fn chat_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/v2/chat") {
        base.to_string()
    } else if let Some(root) = base.strip_suffix("/v1/chat") {
        format!("{root}/v2/chat")
    } else if base.ends_with("/v2") {
        format!("{base}/chat")
    } else {
        format!("{base}/v2/chat")
    }
}

pub struct CohereAdapter;

impl Adapter for CohereAdapter {
    fn build_request(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
    ) -> Result<HttpRequest, LlmError> {
        if ctx.kind != Endpointkind::Chat {
            return Err(bad(format!(
                "{} serves chat completions only in rustllm, not {}",
                ctx.provider,
                ctx.kind.path()
            )));
        }
        let mut headers = Vec::with_capacity(2);
        if let Some(key) = ctx.endpoint.key.as_deref().filter(|k| !k.trim().is_empty()) {
            headers.push(("authorization".to_string(), format!("Bearer {key}")));
        }
        if !ctx.stream {
            headers.push(("accept".to_string(), "application/json".to_string()));
        }
        Ok(HttpRequest {
            url: chat_url(&ctx.endpoint.base),
            headers,
            body: translate_request(ctx, body)?,
        })
    }

    fn parse_response(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
        _headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError> {
        // A v2 chat reply always has its `message` object (v1 replies, with `text`, and
        // other providers' shapes do not).
        if !body.get("message").is_some_and(Value::is_object) {
            return Err(super::malformed_reply(ctx, "no 'message' object", &body));
        }
        Ok(parse_reply(&body, ctx.model))
    }

    fn stream_decoder(&self, ctx: &ChatContext<'_>) -> Box<dyn StreamDecoder> {
        Box::new(CohereStreamDecoder::new(
            ctx.provider,
            ctx.requested_model,
            ctx.model,
            ctx.options.include_usage,
            ctx.endpoint.key.clone(),
        ))
    }

    fn map_error(
        &self,
        ctx: &ChatContext<'_>,
        status: u16,
        raw: &str,
        json: Option<Value>,
        headers: Vec<(String, String)>,
    ) -> LlmError {
        map_error(
            ctx.provider,
            ctx.requested_model,
            status,
            raw,
            json,
            headers,
        )
    }
}

/// The generic mapping, plus Cohere's wording: "too many tokens" is a context-window error
/// and 498 (invalid token) an authentication failure.
pub fn map_error(
    provider: &str,
    model: &str,
    status: u16,
    raw: &str,
    json: Option<Value>,
    headers: Vec<(String, String)>,
) -> LlmError {
    let err = map_http_error(status, provider, model, raw, json, headers);
    let lower = err.message.to_lowercase();
    if lower.contains("too many tokens") && err.kind == ErrorKind::BadRequest {
        reclassify(err, ErrorKind::ContextWindowExceeded, 400)
    } else if status == 498 {
        reclassify(err, ErrorKind::Authentication, 401)
    } else {
        err
    }
}

// ---------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------

fn translate_request(
    ctx: &ChatContext<'_>,
    mut body: Map<String, Value>,
) -> Result<Map<String, Value>, LlmError> {
    if body.get("n").and_then(Value::as_u64) == Some(1) {
        body.remove("n");
    }
    check_params(ctx, &mut body, SUPPORTED)?;
    let messages = match body.remove("messages") {
        Some(Value::Array(m)) => m,
        _ => Vec::new(),
    };
    let mut out = Map::with_capacity(body.len() + 2);
    out.insert(
        "model".into(),
        body.remove("model")
            .unwrap_or_else(|| json!(ctx.model.to_string())),
    );
    let messages = messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| translate_message(i, m))
        .collect::<Result<Vec<_>, _>>()?;
    out.insert("messages".into(), Value::Array(messages));
    body.remove("stream");
    body.remove("stream_options");

    let max_tokens = body
        .remove("max_completion_tokens")
        .into_iter()
        .chain(body.remove("max_tokens"))
        .find(|v| !v.is_null());
    let mut tools = body.remove("tools");
    let tool_choice = match body.remove("tool_choice") {
        Some(Value::String(s)) if s == "required" => Some("REQUIRED"),
        Some(Value::String(s)) if s == "none" => Some("NONE"),
        // Cohere cannot name a tool: offer only that one, and require a call.
        Some(Value::Object(c)) => {
            let name = c
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if let Some(Value::Array(list)) = &mut tools {
                list.retain(|t| t.pointer("/function/name").and_then(Value::as_str) == Some(&name));
            }
            Some("REQUIRED")
        }
        _ => None,
    };
    for (from, to) in [
        ("temperature", "temperature"),
        ("top_p", "p"),
        ("frequency_penalty", "frequency_penalty"),
        ("presence_penalty", "presence_penalty"),
        ("seed", "seed"),
        ("logprobs", "logprobs"),
    ] {
        if let Some(v) = body.remove(from) {
            out.insert(to.into(), v);
        }
    }
    if let Some(m) = max_tokens {
        out.insert("max_tokens".into(), m);
    }
    match body.remove("stop") {
        Some(Value::String(s)) => {
            out.insert("stop_sequences".into(), json!([s]));
        }
        Some(v @ Value::Array(_)) => {
            out.insert("stop_sequences".into(), v);
        }
        _ => {}
    }
    if let Some(tools) = tools.filter(|t| t.as_array().is_some_and(|a| !a.is_empty())) {
        out.insert("tools".into(), tools);
    }
    if let Some(choice) = tool_choice {
        out.insert("tool_choice".into(), json!(choice));
    }
    if let Some(format) = body.remove("response_format") {
        match format.get("type").and_then(Value::as_str) {
            Some("json_object") => {
                out.insert("response_format".into(), json!({"type": "json_object"}));
            }
            Some("json_schema") => {
                let schema = format
                    .pointer("/json_schema/schema")
                    .cloned()
                    .unwrap_or_else(|| json!({"type": "object"}));
                out.insert(
                    "response_format".into(),
                    json!({"type": "json_object", "json_schema": schema}),
                );
            }
            _ => {}
        }
    }
    // Provider-specific parameters (k, documents, safety_mode, ...) pass through.
    for (k, v) in body {
        out.insert(k, v);
    }
    if ctx.stream {
        out.insert("stream".into(), Value::Bool(true));
    }
    Ok(out)
}

/// User and system content: a string, or text and image parts.
fn content(c: Option<&Value>) -> Value {
    match c {
        Some(Value::Array(parts)) => Value::Array(
            parts
                .iter()
                .map(|p| match p.get("type").and_then(Value::as_str) {
                    Some("text") => json!({"type": "text", "text": p.get("text").cloned().unwrap_or_else(|| json!(""))}),
                    Some("image_url") => match p.get("image_url") {
                        Some(Value::String(u)) => json!({"type": "image_url", "image_url": {"url": u}}),
                        Some(other) => json!({"type": "image_url", "image_url": other}),
                        None => p.clone(),
                    },
                    _ => p.clone(),
                })
                .collect(),
        ),
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Null) | None => Value::String(String::new()),
        Some(other) => Value::String(other.to_string()),
    }
}

/// The plain text of OpenAI content (a string, or its text parts joined).
fn text_of(c: Option<&Value>) -> String {
    match c {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

fn translate_message(index: usize, message: Value) -> Result<Value, LlmError> {
    let Value::Object(m) = message else {
        return Err(bad(format!("Invalid messages[{index}]: must be a dict")));
    };
    let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
    Ok(match role {
        "system" | "developer" => json!({"role": "system", "content": content(m.get("content"))}),
        "user" => json!({"role": "user", "content": content(m.get("content"))}),
        "tool" | "function" => {
            let id = m
                .get("tool_call_id")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    bad(format!(
                        "Invalid messages[{index}]: a tool message needs the 'tool_call_id' of the call it answers"
                    ))
                })?;
            json!({"role": "tool", "tool_call_id": id, "content": content(m.get("content"))})
        }
        "assistant" => {
            let mut out = Map::new();
            out.insert("role".into(), json!("assistant"));
            let calls: Vec<Value> = m
                .get("tool_calls")
                .and_then(Value::as_array)
                .map(|calls| {
                    calls
                        .iter()
                        .map(|c| {
                            let args = match c.pointer("/function/arguments") {
                                Some(Value::String(s)) => s.clone(),
                                Some(Value::Null) | None => "{}".to_string(),
                                Some(other) => other.to_string(),
                            };
                            json!({
                                "id": c.get("id").cloned().unwrap_or(Value::Null),
                                "type": "function",
                                "function": {
                                    "name": c.pointer("/function/name").cloned().unwrap_or(Value::Null),
                                    "arguments": args,
                                },
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            let text = text_of(m.get("content"));
            if calls.is_empty() {
                out.insert("content".into(), content(m.get("content")));
            } else {
                // Cohere keeps an assistant's words before its tool calls as `tool_plan`.
                if !text.is_empty() {
                    out.insert("tool_plan".into(), json!(text));
                }
                out.insert("tool_calls".into(), Value::Array(calls));
            }
            Value::Object(out)
        }
        other => {
            return Err(bad(format!(
                "Invalid messages[{index}]: role {other:?} is not supported by cohere"
            )))
        }
    })
}

// ---------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------

/// Cohere's finish reasons as OpenAI's.
pub fn finish_reason(reason: &str) -> String {
    match reason {
        "COMPLETE" | "STOP_SEQUENCE" | "ERROR" => "stop".into(),
        "MAX_TOKENS" => "length".into(),
        "TOOL_CALL" => "tool_calls".into(),
        "ERROR_TOXIC" => "content_filter".into(),
        other => other.to_lowercase(),
    }
}

/// `usage.tokens` (what the model processed), else `usage.billed_units`.
fn usage(u: Option<&Value>) -> Value {
    let pick = |key: &str| {
        u.and_then(|u| {
            u.pointer(&format!("/tokens/{key}"))
                .or_else(|| u.pointer(&format!("/billed_units/{key}")))
        })
        .and_then(Value::as_f64)
        .map_or(0, |n| n as u64)
    };
    let (prompt, completion) = (pick("input_tokens"), pick("output_tokens"));
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

fn tool_call(index: usize, call: &Value) -> Value {
    let args = match call.pointer("/function/arguments") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    json!({
        "index": index,
        "function": {"arguments": args, "name": call.pointer("/function/name").cloned().unwrap_or(Value::Null)},
        "id": call.get("id").cloned().unwrap_or(Value::Null),
        "type": "function",
    })
}

/// A v2 chat reply as an OpenAI `chat.completion`.
pub fn parse_reply(body: &Map<String, Value>, model: &str) -> Map<String, Value> {
    let message = body.get("message").unwrap_or(&Value::Null);
    let text: Option<String> = message
        .get("content")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter(|p| {
                    p.get("type")
                        .and_then(Value::as_str)
                        .is_none_or(|t| t == "text")
                })
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect()
        });
    let calls: Vec<Value> = message
        .get("tool_calls")
        .and_then(Value::as_array)
        .map(|c| c.iter().enumerate().map(|(i, c)| tool_call(i, c)).collect())
        .unwrap_or_default();
    let mut msg = Map::new();
    let content = match (&text, calls.is_empty()) {
        (Some(t), true) => json!(t),
        _ => Value::Null,
    };
    msg.insert("content".into(), content);
    msg.insert("role".into(), json!("assistant"));
    msg.insert(
        "tool_calls".into(),
        if calls.is_empty() {
            Value::Null
        } else {
            Value::Array(calls)
        },
    );
    msg.insert("function_call".into(), Value::Null);
    let mut extra = Map::new();
    for key in ["tool_plan", "citations"] {
        if let Some(v) = message.get(key).filter(|v| !v.is_null()) {
            extra.insert(key.into(), v.clone());
        }
    }
    if !extra.is_empty() {
        msg.insert("provider_specific_fields".into(), Value::Object(extra));
    }
    let finish = finish_reason(
        body.get("finish_reason")
            .and_then(Value::as_str)
            .unwrap_or("COMPLETE"),
    );
    let mut out = Map::new();
    out.insert("id".into(), json!(super::completion_id()));
    out.insert("created".into(), json!(unix_now()));
    out.insert("model".into(), json!(model));
    out.insert("object".into(), json!("chat.completion"));
    out.insert(
        "choices".into(),
        json!([{"finish_reason": finish, "index": 0, "message": msg}]),
    );
    out.insert("usage".into(), usage(body.get("usage")));
    out
}

// ---------------------------------------------------------------------------------------
// Stream
// ---------------------------------------------------------------------------------------

/// Cohere's v2 stream: `message-start`, `content-start`/`content-delta`/`content-end`,
/// `tool-plan-delta`, `tool-call-start`/`tool-call-delta`/`tool-call-end`, citations, and
/// `message-end` with the finish reason and usage. Each event's data names its `type`.
pub struct CohereStreamDecoder {
    provider: String,
    model: String,
    chunk_model: String,
    include_usage: bool,
    api_key: Option<String>,
    id: String,
    created: u64,
}

impl CohereStreamDecoder {
    pub fn new(
        provider: &str,
        model: &str,
        chunk_model: &str,
        include_usage: bool,
        api_key: Option<String>,
    ) -> Self {
        CohereStreamDecoder {
            provider: provider.to_string(),
            model: model.to_string(),
            chunk_model: chunk_model.to_string(),
            include_usage,
            api_key,
            id: super::completion_id(),
            created: unix_now(),
        }
    }

    fn chunk(&self, delta: Value, finish: Option<String>) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("object".into(), json!("chat.completion.chunk"));
        m.insert("created".into(), json!(self.created));
        m.insert("model".into(), json!(self.chunk_model));
        m.insert(
            "choices".into(),
            json!([{"index": 0, "delta": delta, "finish_reason": finish}]),
        );
        m
    }
}

impl StreamDecoder for CohereStreamDecoder {
    fn decode(&mut self, ev: &SseEvent) -> Result<Decoded, LlmError> {
        let data = ev.data.trim();
        if data.is_empty() {
            return Ok(Decoded::Chunks(Vec::new()));
        }
        if data == "[DONE]" {
            return Ok(Decoded::Done);
        }
        let malformed = |what: &str| {
            LlmError::malformed_event(
                &self.provider,
                &self.model,
                what,
                data,
                self.api_key.as_deref(),
            )
        };
        let parsed: Value =
            serde_json::from_str(data).map_err(|e| malformed(&format!("not JSON ({e})")))?;
        let kind = parsed
            .get("type")
            .and_then(Value::as_str)
            .or(ev.event.as_deref())
            .unwrap_or_default();
        // Every v2 event names its type; unknown types are skipped (Cohere adds some),
        // an event without one is not a Cohere event.
        if kind.is_empty() || !parsed.is_object() {
            return Err(malformed("no \"type\" (not a Cohere stream event)"));
        }
        let index = parsed.get("index").and_then(Value::as_u64).unwrap_or(0);
        let mut out = Vec::new();
        match kind {
            "content-start" | "content-delta" => {
                if let Some(text) = parsed
                    .pointer("/delta/message/content/text")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                {
                    out.push(self.chunk(json!({"content": text}), None));
                }
            }
            "tool-call-start" => {
                let call = parsed
                    .pointer("/delta/message/tool_calls")
                    .unwrap_or(&Value::Null);
                out.push(self.chunk(
                    json!({"content": null, "tool_calls": [{
                        "id": call.get("id").cloned().unwrap_or(Value::Null),
                        "function": {
                            "arguments": call.pointer("/function/arguments").and_then(Value::as_str).unwrap_or(""),
                            "name": call.pointer("/function/name").cloned().unwrap_or(Value::Null),
                        },
                        "type": "function",
                        "index": index,
                    }]}),
                    None,
                ));
            }
            "tool-call-delta" => {
                if let Some(args) = parsed
                    .pointer("/delta/message/tool_calls/function/arguments")
                    .and_then(Value::as_str)
                {
                    out.push(self.chunk(
                        json!({"content": null, "tool_calls": [{
                            "id": null,
                            "function": {"arguments": args, "name": null},
                            "type": "function",
                            "index": index,
                        }]}),
                        None,
                    ));
                }
            }
            "message-end" => {
                let reason = parsed
                    .pointer("/delta/finish_reason")
                    .and_then(Value::as_str)
                    .unwrap_or("COMPLETE");
                out.push(self.chunk(json!({}), Some(finish_reason(reason))));
                if self.include_usage {
                    let mut c = self.chunk(json!({}), None);
                    c.insert("choices".into(), json!([]));
                    c.insert("usage".into(), usage(parsed.pointer("/delta/usage")));
                    out.push(c);
                }
            }
            "error" => {
                let raw = redact_key(data, self.api_key.as_deref());
                let status = parsed
                    .get("status_code")
                    .or_else(|| parsed.get("code"))
                    .and_then(Value::as_u64)
                    .and_then(|c| u16::try_from(c).ok())
                    .filter(|c| *c >= 400)
                    .unwrap_or(500);
                return Err(map_error(
                    &self.provider,
                    &self.model,
                    status,
                    &raw,
                    Some(parsed),
                    Vec::new(),
                ));
            }
            // message-start, content-end, tool-plan-delta, tool-call-end, citation-*.
            _ => {}
        }
        Ok(Decoded::Chunks(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::Endpoint;
    use crate::test_support::{assert_malformed, foreign_replies, no_env, obj, with_chat_ctx};
    use crate::types::CallOptions;

    #[test]
    fn replies_without_a_message_are_errors() {
        let parse = |body: Map<String, Value>| {
            with_chat_ctx(
                Endpointkind::Chat,
                "cohere_chat",
                "command-r",
                false,
                |ctx| CohereAdapter.parse_response(ctx, body, &[]),
            )
        };
        // A v1 reply (`text`, no `message`) is not a v2 reply either. (Ollama's chat
        // reply also has a `message` object, so it is not in the list.)
        let mut bad = foreign_replies(&["cohere", "ollama"]);
        bad.push(obj(
            json!({"text": "hi", "generation_id": "g", "finish_reason": "COMPLETE"}),
        ));
        for body in bad {
            assert_malformed(
                parse(body).err(),
                "Cohere_chatException - Invalid response from the provider: no 'message' object. Received: {",
            );
        }
        let ok = parse(obj(
            json!({"message": {"role": "assistant", "content": [{"type": "text", "text": "hi"}]}}),
        ));
        assert_eq!(
            ok.ok()
                .map(|r| r["choices"][0]["message"]["content"].clone()),
            Some(json!("hi"))
        );
    }

    #[test]
    fn stream_events_without_a_type_are_errors() {
        for data in [
            json!({}),
            json!({"foo": 1}),
            json!([1]),
            json!({"id": "x", "choices": [{"index": 0, "delta": {"content": "hi"}}]}),
        ] {
            let mut d =
                CohereStreamDecoder::new("cohere_chat", "command-r", "command-r", false, None);
            let err = d
                .decode(&SseEvent {
                    event: None,
                    data: data.to_string(),
                })
                .err();
            let err = err.unwrap_or_else(|| panic!("{data} was accepted"));
            assert_eq!((err.kind, err.status), (ErrorKind::Api, 500));
            assert!(
                err.message
                    .contains("Cohere_chatException - Invalid chunk in the stream: no \"type\""),
                "{}",
                err.message
            );
        }
        let mut d = CohereStreamDecoder::new("cohere_chat", "command-r", "command-r", false, None);
        for data in [
            json!({"type": "message-start", "id": "x"}),
            json!({"type": "debug"}),
            json!({"type": "future-event"}),
        ] {
            assert!(
                d.decode(&SseEvent {
                    event: None,
                    data: data.to_string()
                })
                .is_ok(),
                "{data}"
            );
        }
    }

    fn build(body: Value, options: &CallOptions, stream: bool) -> Result<HttpRequest, LlmError> {
        let endpoint = Endpoint {
            base: "https://api.cohere.com".into(),
            key: Some("co-key".into()),
        };
        let ctx = ChatContext {
            kind: Endpointkind::Chat,
            provider: "cohere_chat",
            model: "command-r",
            requested_model: "cohere_chat/command-r",
            endpoint: &endpoint,
            options,
            stream,
            env: &no_env,
        };
        CohereAdapter.build_request(&ctx, obj(body))
    }

    #[test]
    fn request_translation() {
        let r = build(
            json!({
                "model": "command-r",
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "weather?"},
                    {"role": "assistant", "content": "I will check.", "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
                    {"role": "tool", "tool_call_id": "c1", "content": "sunny", "name": "get_weather"},
                ],
                "top_p": 0.5, "stop": "END", "max_completion_tokens": 20, "seed": 1,
                "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
                "tool_choice": "required", "k": 5,
            }),
            &CallOptions::default(),
            false,
        );
        let r = r.map(|r| (r.url, r.headers, r.body)).ok();
        let (url, headers, body) = r.unwrap_or_default();
        assert_eq!(url, "https://api.cohere.com/v2/chat");
        assert!(headers.contains(&("authorization".into(), "Bearer co-key".into())));
        assert_eq!(
            Value::Object(body),
            json!({
                "model": "command-r",
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "weather?"},
                    {"role": "assistant", "tool_plan": "I will check.", "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
                    {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
                ],
                "p": 0.5,
                "seed": 1,
                "max_tokens": 20,
                "stop_sequences": ["END"],
                "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
                "tool_choice": "REQUIRED",
                "k": 5,
            })
        );
        assert_eq!(
            chat_url("https://api.cohere.ai/v1/chat"),
            "https://api.cohere.ai/v2/chat"
        );
        assert_eq!(chat_url("http://h/v2/"), "http://h/v2/chat");
    }

    #[test]
    fn unsupported_params() {
        let e = build(
            json!({"model": "command-r", "messages": [], "logit_bias": {"1": 1}}),
            &CallOptions::default(),
            false,
        )
        .err();
        assert!(e.is_some_and(|e| e.kind == ErrorKind::UnsupportedParams
            && e.message
                .starts_with("cohere_chat does not support parameters: ['logit_bias']")));
        let opts = CallOptions {
            drop_params: true,
            ..CallOptions::default()
        };
        let b = build(
            json!({"model": "command-r", "messages": [], "logit_bias": {"1": 1}, "stream": true}),
            &opts,
            true,
        )
        .map(|r| r.body)
        .unwrap_or_default();
        assert!(!b.contains_key("logit_bias"));
        assert_eq!(b.get("stream"), Some(&json!(true)));
    }

    #[test]
    fn replies_with_text_and_tool_calls() {
        let r = parse_reply(
            &obj(json!({"id": "x", "finish_reason": "COMPLETE",
                "message": {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]},
                "usage": {"billed_units": {"input_tokens": 3, "output_tokens": 1}, "tokens": {"input_tokens": 70, "output_tokens": 1}}})),
            "command-r",
        );
        assert_eq!(r["choices"][0]["message"]["content"], json!("Hello"));
        assert_eq!(r["choices"][0]["finish_reason"], json!("stop"));
        assert_eq!(
            r["usage"],
            json!({"prompt_tokens": 70, "completion_tokens": 1, "total_tokens": 71})
        );
        let r = parse_reply(
            &obj(json!({"finish_reason": "TOOL_CALL",
                "message": {"role": "assistant", "tool_plan": "I will check.", "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
                "usage": {"billed_units": {"input_tokens": 3, "output_tokens": 4}}})),
            "command-r",
        );
        assert_eq!(r["choices"][0]["finish_reason"], json!("tool_calls"));
        assert_eq!(r["choices"][0]["message"]["content"], Value::Null);
        assert_eq!(
            r["choices"][0]["message"]["tool_calls"],
            json!([{"index": 0, "function": {"arguments": "{\"a\":1}", "name": "f"}, "id": "c1", "type": "function"}])
        );
        assert_eq!(r["usage"]["total_tokens"], json!(7));
        assert_eq!(finish_reason("MAX_TOKENS"), "length");
    }

    #[test]
    fn stream_events() {
        let mut d = CohereStreamDecoder::new(
            "cohere_chat",
            "cohere_chat/command-r",
            "command-r",
            true,
            None,
        );
        let events = [
            json!({"type": "message-start", "id": "x", "delta": {"message": {"role": "assistant"}}}),
            json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Hi"}}}}),
            json!({"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": {"id": "c1", "type": "function", "function": {"name": "f", "arguments": ""}}}}}),
            json!({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": "{}"}}}}}),
            json!({"type": "message-end", "delta": {"finish_reason": "TOOL_CALL", "usage": {"tokens": {"input_tokens": 5, "output_tokens": 2}}}}),
        ];
        let mut chunks = Vec::new();
        for e in events {
            let ev = SseEvent {
                event: e.get("type").and_then(Value::as_str).map(str::to_string),
                data: e.to_string(),
            };
            if let Ok(Decoded::Chunks(c)) = d.decode(&ev) {
                chunks.extend(c);
            }
        }
        assert_eq!(chunks.len(), 5);
        assert_eq!(chunks[0]["choices"][0]["delta"]["content"], json!("Hi"));
        assert_eq!(
            chunks[1]["choices"][0]["delta"]["tool_calls"][0]["id"],
            json!("c1")
        );
        assert_eq!(
            chunks[2]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"],
            json!("{}")
        );
        assert_eq!(
            chunks[3]["choices"][0]["finish_reason"],
            json!("tool_calls")
        );
        assert_eq!(chunks[4]["usage"]["total_tokens"], json!(7));
    }

    #[test]
    fn errors() {
        let body = json!({"message": "too many tokens: total number of tokens in the prompt cannot exceed 4081"});
        let e = map_error(
            "cohere_chat",
            "cohere_chat/command-r",
            400,
            &body.to_string(),
            Some(body),
            vec![],
        );
        assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);
        assert!(e.message.contains("Cohere_chatException - too many tokens"));
        let body = json!({"message": "invalid api token"});
        let e = map_error(
            "cohere_chat",
            "m",
            401,
            &body.to_string(),
            Some(body),
            vec![],
        );
        assert_eq!(e.kind, ErrorKind::Authentication);
        let body = json!({"message": "You are using a Trial key, which is limited to 10 API calls / minute."});
        let e = map_error(
            "cohere_chat",
            "m",
            429,
            &body.to_string(),
            Some(body),
            vec![],
        );
        assert_eq!(e.kind, ErrorKind::RateLimit);
    }
}
