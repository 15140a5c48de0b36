//! Anthropic's Messages API (`POST {base}/v1/messages`), translated to and from the
//! OpenAI chat format the way LiteLLM translates it (litellm-behaviour.md §1.4, §4):
//! system messages become the top-level `system`, consecutive turns of one role are merged
//! (Anthropic requires alternation), tool results join the next user turn, tools and
//! `tool_choice` change shape, `response_format` becomes a forced `json_tool_call` tool
//! whose input is handed back as the message content, and thinking blocks come back as
//! `reasoning_content`.

use serde_json::{json, Map, Value};

use super::{
    check_params, python_json, reclassify, unix_now, Adapter, ChatContext, Decoded, HttpRequest,
    ProviderSpec, StreamDecoder, WireFormat,
};
use crate::error::{map_http_error, redact_key, ErrorKind, LlmError};
use crate::providers::Endpointkind;
use crate::stream::sse::SseEvent;
use crate::stream::SimpleChunk;
use std::sync::Arc;

/// `anthropic/<model>`: key, base and default endpoint as LiteLLM reads them.
pub const SPEC: ProviderSpec = ProviderSpec {
    name: "anthropic",
    format: WireFormat::Anthropic,
    default_base: Some("https://api.anthropic.com"),
    base_env: &["ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"],
    key_env: &["ANTHROPIC_API_KEY"],
    default_key: None,
};

/// The API version LiteLLM pins.
pub const API_VERSION: &str = "2023-06-01";
/// Anthropic requires `max_tokens`; LiteLLM sends this when the caller gives none.
pub const DEFAULT_MAX_TOKENS: u64 = 4096;
/// The forced tool that carries `response_format` JSON (LiteLLM's `RESPONSE_FORMAT_TOOL_NAME`).
pub const JSON_TOOL_NAME: &str = "json_tool_call";

/// The OpenAI parameters LiteLLM translates for Anthropic (`n` is handled apart: only 1).
const SUPPORTED: &[&str] = &[
    "stream",
    "stream_options",
    "stop",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "user",
    "web_search_options",
    "thinking",
    "reasoning_effort",
];

fn bad(message: impl Into<String>) -> LlmError {
    LlmError::bad_request(message)
}

/// `{base}/v1/messages`, accepting bases that already end in `/v1` or the full path.
pub fn messages_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/v1/messages") {
        base.to_string()
    } else if base.ends_with("/v1") {
        format!("{base}/messages")
    } else {
        format!("{base}/v1/messages")
    }
}

/// Anthropic's headers: `x-api-key` and the pinned `anthropic-version`.
pub fn headers(key: Option<&str>) -> Vec<(String, String)> {
    let mut h = Vec::with_capacity(3);
    if let Some(key) = key.filter(|k| !k.trim().is_empty()) {
        h.push(("x-api-key".to_string(), key.to_string()));
    }
    h.push(("anthropic-version".to_string(), API_VERSION.to_string()));
    h.push(("accept".to_string(), "application/json".to_string()));
    h
}

pub struct AnthropicAdapter;

impl Adapter for AnthropicAdapter {
    fn build_request(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
    ) -> Result<HttpRequest, LlmError> {
        if ctx.kind == Endpointkind::AnthropicMessages {
            return Ok(super::anthropic_messages::build_request(ctx, body));
        }
        if ctx.kind != Endpointkind::Chat {
            return Err(bad(format!(
                "anthropic serves chat completions only, not {}",
                ctx.kind.path()
            )));
        }
        let mut headers = headers(ctx.endpoint.key.as_deref());
        let body = translate_request(ctx, body, &mut headers)?;
        Ok(HttpRequest {
            url: messages_url(&ctx.endpoint.base),
            headers,
            body,
        })
    }

    fn parse_response(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
        headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError> {
        if body.get("type").and_then(Value::as_str) == Some("error") {
            let raw = Value::Object(body.clone()).to_string();
            let status = status_for_error_type(error_type(&Value::Object(body.clone())));
            return Err(self.map_error(
                ctx,
                status,
                &raw,
                Some(Value::Object(body)),
                headers.to_vec(),
            ));
        }
        if ctx.kind == Endpointkind::AnthropicMessages {
            return super::anthropic_messages::parse_reply(ctx, body);
        }
        // A Messages API reply is `"type": "message"` with a `content` list (possibly
        // empty); `{}` or another provider's reply is not one.
        let is_message = matches!(body.get("content"), Some(Value::Array(_)))
            && body
                .get("type")
                .and_then(Value::as_str)
                .is_none_or(|t| t == "message");
        if !is_message {
            return Err(super::malformed_reply(
                ctx,
                "not an Anthropic message (no \"type\": \"message\" with a 'content' list)",
                &body,
            ));
        }
        Ok(parse_message(&body))
    }

    fn stream_decoder(&self, ctx: &ChatContext<'_>) -> Box<dyn StreamDecoder> {
        if ctx.kind == Endpointkind::AnthropicMessages {
            return Box::new(super::anthropic_messages::EventDecoder::new(ctx));
        }
        Box::new(AnthropicStreamDecoder::new(
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

/// `error.type` of an Anthropic error body (`{"type": "error", "error": {"type", "message"}}`).
fn error_type(body: &Value) -> &str {
    body.pointer("/error/type")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The HTTP status Anthropic uses for an error type (stream `error` events carry no status).
fn status_for_error_type(kind: &str) -> u16 {
    match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,
    }
}

/// The generic mapping, plus Anthropic's own: `overloaded_error` (HTTP 529) is a
/// retryable `InternalServerError`, as LiteLLM raises it.
pub fn map_error(
    provider: &str,
    model: &str,
    status: u16,
    raw: &str,
    json: Option<Value>,
    headers: Vec<(String, String)>,
) -> LlmError {
    let overloaded = json
        .as_ref()
        .is_some_and(|j| error_type(j) == "overloaded_error")
        || status == 529;
    let err = map_http_error(status, provider, model, raw, json, headers);
    if overloaded && err.kind == ErrorKind::Api {
        reclassify(err, ErrorKind::InternalServer, status)
    } else {
        err
    }
}

// ---------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------

/// The Messages API body for an OpenAI-format body.
fn translate_request(
    ctx: &ChatContext<'_>,
    mut body: Map<String, Value>,
    headers: &mut Vec<(String, String)>,
) -> Result<Map<String, Value>, LlmError> {
    // Anthropic has no `n`; one choice is what it always returns.
    if body.get("n").and_then(Value::as_u64) == Some(1) {
        body.remove("n");
    }
    check_params(ctx, &mut body, SUPPORTED)?;
    let messages = match body.remove("messages") {
        Some(Value::Array(m)) => m,
        _ => Vec::new(),
    };
    let model = body
        .remove("model")
        .unwrap_or_else(|| Value::String(ctx.model.to_string()));
    let translated = translate_messages(messages)?;
    if translated.uses_files_api {
        headers.push(("anthropic-beta".into(), "files-api-2025-04-14".into()));
    }

    let mut out = Map::with_capacity(body.len() + 4);
    out.insert("model".into(), model);
    out.insert("messages".into(), Value::Array(translated.messages));
    if !translated.system.is_empty() {
        out.insert("system".into(), Value::Array(translated.system));
    }

    body.remove("stream");
    body.remove("stream_options");
    let max_tokens = body
        .remove("max_completion_tokens")
        .into_iter()
        .chain(body.remove("max_tokens"))
        .find(|v| !v.is_null());

    let thinking = match (body.remove("thinking"), body.remove("reasoning_effort")) {
        (Some(t), _) if !t.is_null() => Some(t),
        (_, Some(Value::String(effort))) => thinking_for_effort(&effort)?,
        _ => None,
    };
    let thinking_enabled = thinking
        .as_ref()
        .and_then(|t| t.get("type"))
        .and_then(Value::as_str)
        == Some("enabled");

    let mut tools: Vec<Value> = Vec::new();
    if let Some(list) = body.remove("tools") {
        let Value::Array(list) = list else {
            return Err(bad("tools must be a list of tool definitions"));
        };
        for tool in list {
            tools.push(translate_tool(tool)?);
        }
    }
    let parallel = body.remove("parallel_tool_calls").and_then(|v| v.as_bool());
    let mut tool_choice = map_tool_choice(body.remove("tool_choice"), parallel);

    if let Some(format) = body.remove("response_format") {
        if let Some(tool) = json_tool(&format) {
            tools.push(tool);
            if !thinking_enabled {
                tool_choice = Some(json!({"name": JSON_TOOL_NAME, "type": "tool"}));
            }
        }
    }
    if let Some(Value::Object(options)) = body.remove("web_search_options") {
        tools.push(web_search_tool(&options));
    }
    if !tools.is_empty() {
        out.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = tool_choice {
        out.insert("tool_choice".into(), choice);
    }
    if let Some(stop) = body
        .remove("stop")
        .and_then(|s| stop_sequences(s, ctx.options.drop_params))
    {
        out.insert("stop_sequences".into(), stop);
    }
    for key in ["temperature", "top_p"] {
        if let Some(v) = body.remove(key) {
            out.insert(key.into(), v);
        }
    }
    if let Some(Value::String(user)) = body.remove("user") {
        // Anthropic refuses e-mail addresses and phone numbers as user ids; LiteLLM drops them.
        if valid_user_id(&user) {
            out.insert("metadata".into(), json!({"user_id": user}));
        }
    }
    let budget = thinking
        .as_ref()
        .and_then(|t| t.get("budget_tokens"))
        .and_then(Value::as_u64);
    if let Some(t) = thinking {
        out.insert("thinking".into(), t);
    }
    // Provider-specific parameters (top_k, metadata, ...) pass through unchanged.
    for (k, v) in body {
        out.insert(k, v);
    }
    let max_tokens = match (max_tokens, budget) {
        (Some(m), _) => m,
        // With thinking on, the reply needs room beyond the thinking budget.
        (None, Some(b)) if thinking_enabled => Value::from(b + DEFAULT_MAX_TOKENS),
        (None, _) => Value::from(DEFAULT_MAX_TOKENS),
    };
    out.insert("max_tokens".into(), max_tokens);
    if ctx.stream {
        out.insert("stream".into(), Value::Bool(true));
    }
    Ok(out)
}

/// LiteLLM's budgets for `reasoning_effort` (Claude on Bedrock takes the same).
pub(crate) fn thinking_for_effort(effort: &str) -> Result<Option<Value>, LlmError> {
    let budget = match effort {
        "none" | "disable" => return Ok(None),
        "minimal" | "low" => 1024,
        "medium" => 2048,
        "high" => 4096,
        other => {
            return Err(bad(format!(
                "Unmapped reasoning effort: {other}. Use \"low\", \"medium\" or \"high\"."
            )))
        }
    };
    Ok(Some(json!({"type": "enabled", "budget_tokens": budget})))
}

/// `stop` as `stop_sequences`: a string becomes a list; whitespace-only sequences, which
/// Anthropic refuses, are dropped with `drop_params`.
fn stop_sequences(stop: Value, drop_params: bool) -> Option<Value> {
    let keep = |s: &str| !(drop_params && s.trim().is_empty() && !s.is_empty());
    let list: Vec<Value> = match stop {
        Value::String(s) => vec![Value::String(s)],
        Value::Array(items) => items,
        _ => return None,
    };
    let list: Vec<Value> = list
        .into_iter()
        .filter(|v| v.as_str().is_none_or(keep))
        .collect();
    (!list.is_empty()).then_some(Value::Array(list))
}

/// LiteLLM's `_valid_user_id`: not an e-mail address and not a phone number.
fn valid_user_id(user: &str) -> bool {
    let email = user.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !local.contains(char::is_whitespace)
            && domain
                .rsplit_once('.')
                .is_some_and(|(host, tld)| !host.is_empty() && tld.len() >= 2)
    });
    let digits = user.trim_start_matches('+');
    let phone = user.len() >= 7
        && digits.len() >= 7
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '(' | ')' | '-'));
    !email && !phone
}

/// An OpenAI tool as an Anthropic tool: `{name, description, input_schema}`. Tools already
/// in Anthropic's shape (an `input_schema`, or a hosted tool type) pass unchanged.
fn translate_tool(tool: Value) -> Result<Value, LlmError> {
    let Value::Object(mut tool) = tool else {
        return Err(bad("each tool must be a dict"));
    };
    if tool.contains_key("input_schema") {
        return Ok(Value::Object(tool));
    }
    let kind = tool
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("function")
        .to_string();
    if kind != "function" && kind != "custom" {
        return Ok(Value::Object(tool));
    }
    let Some(Value::Object(mut function)) = tool.remove("function") else {
        return Err(bad(
            "a function tool needs a 'function' dict with a 'name' (OpenAI's tool format)",
        ));
    };
    let Some(name) = function.remove("name").filter(Value::is_string) else {
        return Err(bad("tool function must have a string 'name'"));
    };
    let schema = match function.remove("parameters") {
        Some(Value::Object(p)) => Value::Object(p),
        _ => json!({"type": "object", "properties": {}}),
    };
    let mut out = Map::new();
    out.insert("name".into(), name);
    if let Some(d) = function.remove("description").filter(|d| !d.is_null()) {
        out.insert("description".into(), d);
    }
    out.insert("input_schema".into(), schema);
    if let Some(cc) = tool
        .remove("cache_control")
        .or_else(|| function.remove("cache_control"))
    {
        out.insert("cache_control".into(), cc);
    }
    Ok(Value::Object(out))
}

/// LiteLLM's `_map_tool_choice` (litellm-behaviour.md §4), with `parallel_tool_calls`
/// folded in as `disable_parallel_tool_use`.
fn map_tool_choice(choice: Option<Value>, parallel: Option<bool>) -> Option<Value> {
    let is_none = matches!(&choice, Some(Value::String(s)) if s == "none");
    let mut mapped = match choice {
        Some(Value::String(s)) => match s.as_str() {
            "auto" => Some(json!({"type": "auto"})),
            "required" => Some(json!({"type": "any"})),
            "none" => Some(json!({"type": "none"})),
            _ => None,
        },
        Some(Value::Object(c)) => {
            let mut t = Map::new();
            t.insert("type".into(), json!("tool"));
            if let Some(name) = c.get("function").and_then(|f| f.get("name")) {
                t.insert("name".into(), name.clone());
            }
            Some(Value::Object(t))
        }
        _ => None,
    };
    if let (Some(parallel), false) = (parallel, is_none) {
        let choice = mapped.get_or_insert_with(|| json!({"type": "auto"}));
        if let Value::Object(c) = choice {
            c.insert("disable_parallel_tool_use".into(), Value::Bool(!parallel));
        }
    }
    mapped
}

/// The JSON schema a `response_format` asks for (an open object for `json_object`);
/// `None` for `{"type": "text"}`. Bedrock's forced tool takes the same schema.
pub(crate) fn response_format_schema(format: &Value) -> Option<Value> {
    let kind = format.get("type").and_then(Value::as_str)?;
    if kind == "text" {
        return None;
    }
    let schema = format
        .get("response_schema")
        .or_else(|| format.pointer("/json_schema/schema"))
        .and_then(Value::as_object);
    let mut out = Map::new();
    out.insert("type".into(), json!("object"));
    match schema {
        Some(schema) => out.extend(schema.clone()),
        None => {
            // Anthropic refuses `properties: null`; an open object takes any JSON.
            out.insert("additionalProperties".into(), Value::Bool(true));
            out.insert("properties".into(), json!({}));
        }
    }
    Some(Value::Object(out))
}

/// `response_format` JSON as the forced tool LiteLLM uses; `None` for `{"type": "text"}`.
fn json_tool(format: &Value) -> Option<Value> {
    let input_schema = response_format_schema(format)?;
    Some(json!({"name": JSON_TOOL_NAME, "input_schema": input_schema}))
}

/// `web_search_options` as Anthropic's hosted web search tool.
fn web_search_tool(options: &Map<String, Value>) -> Value {
    let mut tool = Map::new();
    tool.insert("type".into(), json!("web_search_20250305"));
    tool.insert("name".into(), json!("web_search"));
    if let Some(Value::Object(approx)) = options
        .get("user_location")
        .and_then(|l| l.get("approximate"))
    {
        let mut loc = Map::new();
        loc.insert("type".into(), json!("approximate"));
        for key in ["city", "region", "country", "timezone"] {
            if let Some(v) = approx.get(key) {
                loc.insert(key.into(), v.clone());
            }
        }
        tool.insert("user_location".into(), Value::Object(loc));
    }
    let max_uses = match options.get("search_context_size").and_then(Value::as_str) {
        Some("low") => Some(1),
        Some("medium") => Some(5),
        Some("high") => Some(10),
        _ => None,
    };
    if let Some(n) = max_uses {
        tool.insert("max_uses".into(), json!(n));
    }
    Value::Object(tool)
}

/// Translated messages: the top-level `system` blocks and the alternating turns.
#[derive(Debug, Default)]
struct Translated {
    system: Vec<Value>,
    messages: Vec<Value>,
    /// A part refers to an uploaded file (`file_id`), which needs the files-API beta.
    uses_files_api: bool,
}

/// The turns being built: consecutive messages of one role become one turn.
#[derive(Default)]
struct Turns {
    turns: Vec<(&'static str, Vec<Value>)>,
}

impl Turns {
    fn push(&mut self, role: &'static str, blocks: Vec<Value>) {
        if blocks.is_empty() {
            return;
        }
        match self.turns.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => self.turns.push((role, blocks)),
        }
    }
}

/// A message-level `cache_control` applies to the message's last block (LiteLLM's rule).
fn apply_cache_control(message: &Map<String, Value>, blocks: &mut [Value]) {
    if let (Some(cc), Some(Value::Object(last))) = (message.get("cache_control"), blocks.last_mut())
    {
        last.entry("cache_control").or_insert_with(|| cc.clone());
    }
}

fn text_block(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

/// OpenAI messages as Anthropic's `system` and turns.
fn translate_messages(messages: Vec<Value>) -> Result<Translated, LlmError> {
    let mut out = Translated::default();
    let mut turns = Turns::default();
    for (i, message) in messages.into_iter().enumerate() {
        let Value::Object(m) = message else {
            return Err(bad(format!("Invalid messages[{i}]: must be a dict")));
        };
        let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
        match role {
            "system" | "developer" => {
                let mut blocks = match m.get("content") {
                    Some(Value::String(s)) if !s.is_empty() => vec![text_block(s)],
                    Some(Value::Array(parts)) => parts
                        .iter()
                        .filter_map(|p| {
                            let text = p.get("text")?;
                            let mut b = Map::new();
                            b.insert(
                                "type".into(),
                                p.get("type").cloned().unwrap_or_else(|| json!("text")),
                            );
                            b.insert("text".into(), text.clone());
                            if let Some(cc) = p.get("cache_control") {
                                b.insert("cache_control".into(), cc.clone());
                            }
                            Some(Value::Object(b))
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                apply_cache_control(&m, &mut blocks);
                out.system.extend(blocks);
            }
            "user" => {
                let mut blocks = content_blocks(i, m.get("content"), &mut out.uses_files_api)?;
                apply_cache_control(&m, &mut blocks);
                turns.push("user", blocks);
            }
            "tool" | "function" => {
                let mut blocks = vec![tool_result(i, &m, &mut out.uses_files_api)?];
                apply_cache_control(&m, &mut blocks);
                turns.push("user", blocks);
            }
            "assistant" => {
                let mut blocks = assistant_blocks(i, &m)?;
                apply_cache_control(&m, &mut blocks);
                turns.push("assistant", blocks);
            }
            other => {
                return Err(bad(format!(
                    "Invalid messages[{i}]: role {other:?} is not supported by anthropic"
                )))
            }
        }
    }
    // Anthropic refuses a final assistant turn (a prefill) that ends in whitespace.
    if let Some(("assistant", blocks)) = turns.turns.last_mut() {
        if let Some(Value::Object(last)) = blocks.last_mut() {
            if let Some(Value::String(text)) = last.get_mut("text") {
                let trimmed = text.trim_end().len();
                text.truncate(trimmed);
            }
        }
    }
    out.messages = turns
        .turns
        .into_iter()
        .map(|(role, blocks)| json!({"role": role, "content": blocks}))
        .collect();
    Ok(out)
}

/// A user message's content as blocks: text, images, documents.
fn content_blocks(
    index: usize,
    content: Option<&Value>,
    files_api: &mut bool,
) -> Result<Vec<Value>, LlmError> {
    match content {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![text_block(s)]),
        Some(Value::Array(parts)) => parts
            .iter()
            .map(|p| content_part(index, p, files_api))
            .collect(),
        Some(other) => Err(bad(format!(
            "Invalid messages[{index}]: content must be a string or a list of parts, got {}",
            crate::types::type_name(other)
        ))),
    }
}

fn content_part(index: usize, part: &Value, files_api: &mut bool) -> Result<Value, LlmError> {
    let Value::Object(p) = part else {
        return Ok(part.clone());
    };
    let mut block = match p.get("type").and_then(Value::as_str) {
        Some("text") => {
            let text = p.get("text").cloned().unwrap_or_else(|| json!(""));
            json!({"type": "text", "text": text})
        }
        Some("image_url") => {
            let url = match p.get("image_url") {
                Some(Value::String(u)) => u.as_str(),
                Some(Value::Object(o)) => o.get("url").and_then(Value::as_str).unwrap_or_default(),
                _ => "",
            };
            json!({"type": "image", "source": source(index, url, "image_url")?})
        }
        Some("file") => {
            let file = p.get("file").and_then(Value::as_object);
            let data = file
                .and_then(|f| f.get("file_data"))
                .and_then(Value::as_str);
            let id = file.and_then(|f| f.get("file_id")).and_then(Value::as_str);
            match (data, id) {
                (Some(data), _) => json!({"type": "document", "source": source(index, data, "file_data")?}),
                (None, Some(id)) => {
                    *files_api = true;
                    json!({"type": "document", "source": {"type": "file", "file_id": id}})
                }
                _ => {
                    return Err(bad(format!(
                        "Invalid messages[{index}]: a file part needs file.file_data (a data: URL) or file.file_id"
                    )))
                }
            }
        }
        // Anthropic-shaped blocks (image, document, tool_result, ...) pass unchanged.
        _ => Value::Object(p.clone()),
    };
    if let (Some(cc), Value::Object(b)) = (p.get("cache_control"), &mut block) {
        b.insert("cache_control".into(), cc.clone());
    }
    Ok(block)
}

/// An image or document source: a base64 `data:` URL, or an http(s) URL Anthropic fetches.
fn source(index: usize, url: &str, what: &str) -> Result<Value, LlmError> {
    if let Some(rest) = url.strip_prefix("data:") {
        if let Some((meta, data)) = rest.split_once(',') {
            if let Some(media_type) = meta.strip_suffix(";base64") {
                return Ok(json!({"type": "base64", "media_type": media_type, "data": data}));
            }
        }
        return Err(bad(format!(
            "Invalid messages[{index}]: {what} must be a base64 data URL (data:<media type>;base64,<data>)"
        )));
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        return Ok(json!({"type": "url", "url": url}));
    }
    Err(bad(format!(
        "Invalid messages[{index}]: {what} must be an http(s) URL or a base64 data URL"
    )))
}

/// A `role: "tool"` message as a `tool_result` block.
fn tool_result(
    index: usize,
    m: &Map<String, Value>,
    files_api: &mut bool,
) -> Result<Value, LlmError> {
    let id = m
        .get("tool_call_id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad(format!(
                "Invalid messages[{index}]: a tool message needs the 'tool_call_id' of the call it answers"
            ))
        })?;
    let content = match m.get("content") {
        Some(Value::Array(_)) => Value::Array(content_blocks(index, m.get("content"), files_api)?),
        Some(Value::String(s)) => Value::String(s.clone()),
        None | Some(Value::Null) => Value::String(String::new()),
        Some(other) => Value::String(other.to_string()),
    };
    Ok(json!({"type": "tool_result", "tool_use_id": id, "content": content}))
}

/// An assistant message as blocks: earlier thinking blocks first (Anthropic checks them
/// when tools are used with thinking), then text, then `tool_use` with parsed arguments.
fn assistant_blocks(index: usize, m: &Map<String, Value>) -> Result<Vec<Value>, LlmError> {
    let mut blocks = Vec::new();
    if let Some(Value::Array(thinking)) = m.get("thinking_blocks") {
        blocks.extend(thinking.iter().cloned());
    }
    match m.get("content") {
        Some(Value::String(s)) if !s.is_empty() => blocks.push(text_block(s)),
        Some(Value::Array(parts)) => {
            for p in parts {
                match p.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        let text = p.get("text").and_then(Value::as_str).unwrap_or_default();
                        if !text.is_empty() {
                            let mut b = text_block(text);
                            if let (Some(cc), Value::Object(o)) = (p.get("cache_control"), &mut b) {
                                o.insert("cache_control".into(), cc.clone());
                            }
                            blocks.push(b);
                        }
                    }
                    _ => blocks.push(p.clone()),
                }
            }
        }
        _ => {}
    }
    if let Some(Value::Array(calls)) = m.get("tool_calls") {
        for (j, call) in calls.iter().enumerate() {
            let id = call.get("id").and_then(Value::as_str).unwrap_or_default();
            let function = call.get("function");
            let name = function
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let input = match function.and_then(|f| f.get("arguments")) {
                Some(Value::String(s)) if s.trim().is_empty() => json!({}),
                Some(Value::String(s)) => serde_json::from_str::<Value>(s).map_err(|e| {
                    bad(format!(
                        "Invalid messages[{index}]: tool_calls[{j}].function.arguments is not valid JSON ({e})"
                    ))
                })?,
                Some(Value::Object(o)) => Value::Object(o.clone()),
                _ => json!({}),
            };
            blocks.push(json!({"type": "tool_use", "id": id, "name": name, "input": input}));
        }
    }
    Ok(blocks)
}

// ---------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------

/// Anthropic's `stop_reason` as an OpenAI finish reason.
pub fn finish_reason(stop_reason: &str) -> &str {
    match stop_reason {
        "end_turn" | "stop_sequence" | "pause_turn" => "stop",
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        other => other,
    }
}

fn count(v: Option<&Value>) -> u64 {
    v.and_then(Value::as_u64).unwrap_or(0)
}

/// Anthropic's usage in OpenAI terms, as LiteLLM's `calculate_usage` builds it: cache reads
/// count as prompt tokens and appear as `prompt_tokens_details.cached_tokens`; cache
/// writes and reads are also kept under their Anthropic names.
fn usage(u: &Map<String, Value>, reasoning: Option<&str>) -> Value {
    let input = count(u.get("input_tokens"));
    let output = count(u.get("output_tokens"));
    let created = count(u.get("cache_creation_input_tokens"));
    let read = count(u.get("cache_read_input_tokens"));
    let prompt = input + read;
    let mut out = Map::new();
    out.insert("prompt_tokens".into(), json!(prompt));
    out.insert("completion_tokens".into(), json!(output));
    out.insert("total_tokens".into(), json!(prompt + output));
    out.insert(
        "prompt_tokens_details".into(),
        json!({"cached_tokens": read}),
    );
    if let Some(text) = reasoning.filter(|t| !t.is_empty()) {
        let tokens = crate::catalogue::tokens::Encoding::for_model("gpt-3.5-turbo").count(text);
        out.insert(
            "completion_tokens_details".into(),
            json!({"reasoning_tokens": tokens}),
        );
    }
    out.insert("cache_creation_input_tokens".into(), json!(created));
    out.insert("cache_read_input_tokens".into(), json!(read));
    if let Some(n) = u
        .get("server_tool_use")
        .and_then(|s| s.get("web_search_requests"))
        .filter(|n| n.is_u64())
    {
        out.insert("server_tool_use".into(), json!({"web_search_requests": n}));
    }
    Value::Object(out)
}

/// The JSON text a `json_tool_call` input stands for: its `values` when it wrapped them
/// (a habit LiteLLM copes with), else the whole input. Bedrock's forced tool reads the same.
pub(crate) fn json_mode_content(input: &Value) -> String {
    match input.get("values") {
        Some(values) if input.is_object() => python_json(values),
        _ => python_json(input),
    }
}

/// A Messages API reply as an OpenAI `chat.completion`.
pub fn parse_message(body: &Map<String, Value>) -> Map<String, Value> {
    let empty = Vec::new();
    let blocks = body
        .get("content")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let mut text = String::new();
    let mut tool_calls: Vec<Value> = Vec::new();
    let mut tool_inputs: Vec<(&str, &Value)> = Vec::new();
    let mut thinking_blocks: Vec<Value> = Vec::new();
    let mut citations: Vec<Value> = Vec::new();
    for (idx, block) in blocks.iter().enumerate() {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(block.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("tool_use") => {
                let name = block
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let input = block.get("input").unwrap_or(&Value::Null);
                tool_inputs.push((name, input));
                tool_calls.push(json!({
                    "index": idx,
                    "function": {"arguments": python_json(input), "name": name},
                    "id": block.get("id").cloned().unwrap_or(Value::Null),
                    "type": "function",
                }));
            }
            Some("redacted_thinking") => thinking_blocks.push(block.clone()),
            _ if block.get("thinking").is_some_and(|t| !t.is_null()) => {
                thinking_blocks.push(block.clone())
            }
            _ => {}
        }
        if let Some(c) = block.get("citations").filter(|c| !c.is_null()) {
            citations.push(c.clone());
        }
    }
    let reasoning: Option<String> = (!thinking_blocks.is_empty()).then(|| {
        thinking_blocks
            .iter()
            .filter_map(|b| b.get("thinking").and_then(Value::as_str))
            .collect()
    });
    let stop_reason = body
        .get("stop_reason")
        .and_then(Value::as_str)
        .unwrap_or("end_turn");
    let mut finish = finish_reason(stop_reason).to_string();
    let mut content = (!text.is_empty()).then(|| Value::String(text));
    // JSON mode: the forced tool's input is the reply.
    if let [(name, input)] = tool_inputs.as_slice() {
        if *name == JSON_TOOL_NAME {
            content = Some(Value::String(json_mode_content(input)));
            tool_calls.clear();
            finish = "stop".into();
        }
    }
    let thinking = (!thinking_blocks.is_empty()).then(|| Value::Array(thinking_blocks));
    let mut message = Map::new();
    message.insert("content".into(), content.unwrap_or(Value::Null));
    message.insert("role".into(), json!("assistant"));
    message.insert(
        "tool_calls".into(),
        if tool_calls.is_empty() {
            Value::Null
        } else {
            Value::Array(tool_calls)
        },
    );
    message.insert("function_call".into(), Value::Null);
    if let Some(r) = &reasoning {
        message.insert("reasoning_content".into(), json!(r));
    }
    if let Some(t) = &thinking {
        message.insert("thinking_blocks".into(), t.clone());
    }
    message.insert(
        "provider_specific_fields".into(),
        json!({
            "citations": if citations.is_empty() { Value::Null } else { Value::Array(citations) },
            "thinking_blocks": thinking.unwrap_or(Value::Null),
        }),
    );
    let usage = match body.get("usage") {
        Some(Value::Object(u)) => usage(u, reasoning.as_deref()),
        _ => usage(&Map::new(), reasoning.as_deref()),
    };
    let mut out = Map::new();
    out.insert("id".into(), json!(super::completion_id()));
    out.insert("created".into(), json!(unix_now()));
    out.insert(
        "model".into(),
        body.get("model").cloned().unwrap_or(Value::Null),
    );
    out.insert("object".into(), json!("chat.completion"));
    out.insert(
        "choices".into(),
        json!([{"finish_reason": finish, "index": 0, "message": message}]),
    );
    out.insert("usage".into(), usage);
    out
}

// ---------------------------------------------------------------------------------------
// Stream
// ---------------------------------------------------------------------------------------

/// What an open content block is, by its Anthropic index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    /// A tool call, with its OpenAI `tool_calls` index.
    Tool(usize),
    /// The forced `json_tool_call`: its input fragments are the reply text.
    JsonTool,
    Thinking,
    Other,
}

/// Anthropic's stream: `message_start`, then per block `content_block_start`,
/// `content_block_delta`s and `content_block_stop`, then `message_delta` (stop reason and
/// output usage) and `message_stop`; `ping`s anywhere, `error` events on failure.
pub struct AnthropicStreamDecoder {
    provider: String,
    model: String,
    /// The model as sent, reported on every chunk.
    chunk_model: String,
    include_usage: bool,
    api_key: Option<String>,
    id: String,
    created: u64,
    blocks: Vec<(u64, Block)>,
    next_tool: usize,
    usage: Map<String, Value>,
    json_mode: bool,
    /// `id` and `chunk_model` shared by the typed text chunks.
    shared: (Arc<str>, Arc<str>),
}

/// The event nearly every Anthropic stream is made of: a piece of text.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TextDeltaEvent<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[allow(dead_code)]
    index: u64,
    #[serde(borrow)]
    delta: TextDelta<'a>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TextDelta<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow)]
    text: std::borrow::Cow<'a, str>,
}

impl AnthropicStreamDecoder {
    pub fn new(
        provider: &str,
        model: &str,
        chunk_model: &str,
        include_usage: bool,
        api_key: Option<String>,
    ) -> Self {
        let id = super::completion_id();
        AnthropicStreamDecoder {
            shared: (Arc::from(id.as_str()), Arc::from(chunk_model)),
            provider: provider.to_string(),
            model: model.to_string(),
            chunk_model: chunk_model.to_string(),
            include_usage,
            api_key,
            id,
            created: unix_now(),
            blocks: Vec::new(),
            next_tool: 0,
            usage: Map::new(),
            json_mode: false,
        }
    }

    fn chunk(&self, delta: Value, finish: Option<&str>) -> Map<String, Value> {
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

    fn block(&self, index: u64) -> Block {
        self.blocks
            .iter()
            .rev()
            .find(|(i, _)| *i == index)
            .map_or(Block::Other, |(_, b)| *b)
    }

    fn merge_usage(&mut self, u: Option<&Value>) {
        if let Some(Value::Object(u)) = u {
            for (k, v) in u {
                if !v.is_null() {
                    self.usage.insert(k.clone(), v.clone());
                }
            }
        }
    }

    fn invalid(&self, data: &str, what: &str) -> LlmError {
        LlmError::malformed_event(
            &self.provider,
            &self.model,
            what,
            data,
            self.api_key.as_deref(),
        )
    }
}

impl StreamDecoder for AnthropicStreamDecoder {
    fn decode(&mut self, ev: &SseEvent) -> Result<Decoded, LlmError> {
        let data = ev.data.trim();
        if data.is_empty() {
            return Ok(Decoded::Chunks(Vec::new()));
        }
        if let Ok(ev) = serde_json::from_str::<TextDeltaEvent<'_>>(data) {
            if ev.kind == "content_block_delta" && ev.delta.kind == "text_delta" {
                return Ok(Decoded::Simple(SimpleChunk::text(
                    self.shared.0.clone(),
                    self.created as i64,
                    Some(self.shared.1.clone()),
                    ev.delta.text.into_owned(),
                )));
            }
        }
        let parsed: Value = serde_json::from_str(data)
            .map_err(|e| self.invalid(data, &format!("not JSON ({e})")))?;
        let kind = parsed
            .get("type")
            .and_then(Value::as_str)
            .or(ev.event.as_deref())
            .unwrap_or_default();
        // Every Anthropic event names its type (in the data, and as the SSE event name).
        // Unknown types are skipped, as Anthropic asks clients to do; an event with no
        // type at all (`{}`, another provider's chunk) is not an Anthropic event.
        if kind.is_empty() || !parsed.is_object() {
            return Err(self.invalid(data, "no \"type\" (not an Anthropic stream event)"));
        }
        let index = parsed.get("index").and_then(Value::as_u64).unwrap_or(0);
        let mut out = Vec::new();
        match kind {
            "message_start" => {
                self.merge_usage(parsed.pointer("/message/usage"));
            }
            "content_block_start" => {
                let block = parsed.get("content_block").unwrap_or(&Value::Null);
                let kind = match block.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        let text = block.get("text").and_then(Value::as_str).unwrap_or("");
                        if !text.is_empty() {
                            out.push(self.chunk(json!({"content": text}), None));
                        }
                        Block::Text
                    }
                    Some("tool_use") => {
                        let name = block.get("name").and_then(Value::as_str).unwrap_or("");
                        if name == JSON_TOOL_NAME {
                            self.json_mode = true;
                            Block::JsonTool
                        } else {
                            let i = self.next_tool;
                            self.next_tool += 1;
                            out.push(self.chunk(
                                json!({"content": null, "tool_calls": [{
                                    "id": block.get("id").cloned().unwrap_or(Value::Null),
                                    "function": {"arguments": "", "name": name},
                                    "type": "function",
                                    "index": i,
                                }]}),
                                None,
                            ));
                            Block::Tool(i)
                        }
                    }
                    Some("thinking") => Block::Thinking,
                    Some("redacted_thinking") => {
                        out.push(self.chunk(json!({"thinking_blocks": [block]}), None));
                        Block::Other
                    }
                    _ => Block::Other,
                };
                self.blocks.push((index, kind));
            }
            "content_block_delta" => {
                let delta = parsed.get("delta").unwrap_or(&Value::Null);
                let text = |key: &str| delta.get(key).and_then(Value::as_str).unwrap_or("");
                match (delta.get("type").and_then(Value::as_str), self.block(index)) {
                    (Some("text_delta"), _) => {
                        out.push(self.chunk(json!({"content": text("text")}), None))
                    }
                    (Some("input_json_delta"), Block::JsonTool) => {
                        out.push(self.chunk(json!({"content": text("partial_json")}), None))
                    }
                    (Some("input_json_delta"), Block::Tool(i)) => out.push(self.chunk(
                        json!({"content": null, "tool_calls": [{
                            "id": null,
                            "function": {"arguments": text("partial_json"), "name": null},
                            "type": "function",
                            "index": i,
                        }]}),
                        None,
                    )),
                    (Some("thinking_delta"), _) => {
                        let t = text("thinking");
                        out.push(self.chunk(
                            json!({"reasoning_content": t, "thinking_blocks": [
                                {"type": "thinking", "thinking": t, "signature": ""}
                            ]}),
                            None,
                        ))
                    }
                    (Some("signature_delta"), _) => out.push(self.chunk(
                        json!({"thinking_blocks": [
                            {"type": "thinking", "thinking": "", "signature": text("signature")}
                        ]}),
                        None,
                    )),
                    _ => {}
                }
            }
            "message_delta" => {
                self.merge_usage(parsed.get("usage"));
                if let Some(reason) = parsed.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    let finish = if self.json_mode && reason == "tool_use" {
                        "stop"
                    } else {
                        finish_reason(reason)
                    };
                    out.push(self.chunk(json!({}), Some(finish)));
                }
                if self.include_usage {
                    let mut c = self.chunk(json!({}), None);
                    c.insert("choices".into(), json!([]));
                    c.insert("usage".into(), usage(&self.usage, None));
                    out.push(c);
                }
            }
            "message_stop" => return Ok(Decoded::Done),
            "error" => {
                let status = status_for_error_type(error_type(&parsed));
                let raw = redact_key(data, self.api_key.as_deref());
                return Err(map_error(
                    &self.provider,
                    &self.model,
                    status,
                    &raw,
                    Some(parsed),
                    Vec::new(),
                ));
            }
            // ping, content_block_stop, and event types added later.
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

    fn build_with(
        body: Value,
        options: &CallOptions,
        stream: bool,
    ) -> Result<HttpRequest, LlmError> {
        let endpoint = Endpoint {
            base: "http://h".into(),
            key: Some("sk-ant".into()),
        };
        let ctx = ChatContext {
            kind: Endpointkind::Chat,
            provider: "anthropic",
            model: "claude-x",
            requested_model: "anthropic/claude-x",
            endpoint: &endpoint,
            options,
            stream,
            env: &no_env,
        };
        AnthropicAdapter.build_request(&ctx, obj(body))
    }

    fn build(body: Value) -> Map<String, Value> {
        build_with(body, &CallOptions::default(), false)
            .map(|r| r.body)
            .unwrap_or_default()
    }

    #[test]
    fn url_and_headers() {
        let r = build_with(
            json!({"model": "claude-x", "messages": [{"role": "user", "content": "hi"}]}),
            &CallOptions::default(),
            false,
        )
        .ok();
        let r = r.map(|r| (r.url, r.headers));
        let (url, headers) = r.unwrap_or_default();
        assert_eq!(url, "http://h/v1/messages");
        assert!(headers.contains(&("x-api-key".into(), "sk-ant".into())));
        assert!(headers.contains(&("anthropic-version".into(), "2023-06-01".into())));
        assert_eq!(messages_url("http://h/v1/"), "http://h/v1/messages");
        assert_eq!(messages_url("http://h/v1/messages"), "http://h/v1/messages");
    }

    #[test]
    fn system_merging_and_defaults() {
        let body = build(json!({
            "model": "claude-x",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "a"},
                {"role": "user", "content": [{"type": "text", "text": "b"}]},
                {"role": "assistant", "content": "c"},
                {"role": "assistant", "content": "d  "},
            ],
            "stop": "END", "user": "u-1", "top_k": 3, "temperature": 0.2,
        }));
        assert_eq!(
            Value::Object(body),
            json!({
                "model": "claude-x",
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                    {"role": "assistant", "content": [{"type": "text", "text": "c"}, {"type": "text", "text": "d"}]},
                ],
                "system": [{"type": "text", "text": "be brief"}],
                "stop_sequences": ["END"],
                "temperature": 0.2,
                "metadata": {"user_id": "u-1"},
                "top_k": 3,
                "max_tokens": 4096,
            })
        );
    }

    #[test]
    fn tools_calls_and_results() {
        let body = build(json!({
            "model": "claude-x",
            "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "toolu_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"},
                {"role": "user", "content": "thanks"},
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather", "description": "d",
                       "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
            "tool_choice": "required",
            "parallel_tool_calls": false,
            "max_tokens": 10,
        }));
        assert_eq!(
            body["messages"],
            json!([
                {"role": "user", "content": [{"type": "text", "text": "weather?"}]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                    {"type": "text", "text": "thanks"},
                ]},
            ])
        );
        assert_eq!(
            body["tools"],
            json!([{"name": "get_weather", "description": "d",
                    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}])
        );
        assert_eq!(
            body["tool_choice"],
            json!({"type": "any", "disable_parallel_tool_use": true})
        );
        assert_eq!(body["max_tokens"], json!(10));
    }

    #[test]
    fn tool_choice_mapping() {
        assert_eq!(
            map_tool_choice(Some(json!("auto")), None),
            Some(json!({"type": "auto"}))
        );
        assert_eq!(
            map_tool_choice(Some(json!("none")), Some(false)),
            Some(json!({"type": "none"}))
        );
        assert_eq!(
            map_tool_choice(
                Some(json!({"type": "function", "function": {"name": "f"}})),
                None
            ),
            Some(json!({"type": "tool", "name": "f"}))
        );
        assert_eq!(
            map_tool_choice(None, Some(false)),
            Some(json!({"type": "auto", "disable_parallel_tool_use": true}))
        );
        assert_eq!(map_tool_choice(None, None), None);
    }

    #[test]
    fn images_become_image_blocks() {
        let body = build(
            json!({"model": "claude-x", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "what?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}},
                {"type": "image_url", "image_url": "https://x.test/cat.jpg"},
            ]}]}),
        );
        assert_eq!(
            body["messages"][0]["content"],
            json!([
                {"type": "text", "text": "what?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}},
                {"type": "image", "source": {"type": "url", "url": "https://x.test/cat.jpg"}},
            ])
        );
        let bad = build_with(
            json!({"model": "claude-x", "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]}]}),
            &CallOptions::default(),
            false,
        );
        assert_eq!(bad.err().map(|e| e.kind), Some(ErrorKind::BadRequest));
    }

    #[test]
    fn pdf_files_become_documents() {
        let r = build_with(
            json!({"model": "claude-x", "messages": [{"role": "user", "content": [
                {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0"}},
                {"type": "file", "file": {"file_id": "file_abc"}},
            ]}]}),
            &CallOptions::default(),
            false,
        )
        .ok();
        let (headers, body) = r.map(|r| (r.headers, r.body)).unwrap_or_default();
        assert_eq!(
            body["messages"][0]["content"],
            json!([
                {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0"}},
                {"type": "document", "source": {"type": "file", "file_id": "file_abc"}},
            ])
        );
        assert!(headers.contains(&("anthropic-beta".into(), "files-api-2025-04-14".into())));
    }

    #[test]
    fn json_mode_thinking_and_stream() {
        let body = build(
            json!({"model": "claude-x", "messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_object"}}),
        );
        assert_eq!(
            body["tools"],
            json!([{"name": "json_tool_call", "input_schema": {"type": "object", "additionalProperties": true, "properties": {}}}])
        );
        assert_eq!(
            body["tool_choice"],
            json!({"name": "json_tool_call", "type": "tool"})
        );
        let body = build(
            json!({"model": "claude-x", "messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "P", "schema": {"properties": {"a": {"type": "integer"}}, "required": ["a"]}}}}),
        );
        assert_eq!(
            body["tools"][0]["input_schema"],
            json!({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]})
        );
        let body = build(
            json!({"model": "claude-x", "messages": [{"role": "user", "content": "x"}],
            "reasoning_effort": "low"}),
        );
        assert_eq!(
            body["thinking"],
            json!({"type": "enabled", "budget_tokens": 1024})
        );
        assert_eq!(body["max_tokens"], json!(1024 + 4096));
        let streamed = build_with(
            json!({"model": "claude-x", "messages": [], "stream": true, "stream_options": {"include_usage": true}}),
            &CallOptions::default(),
            true,
        )
        .map(|r| r.body)
        .unwrap_or_default();
        assert_eq!(streamed.get("stream"), Some(&json!(true)));
        assert!(!streamed.contains_key("stream_options"));
    }

    #[test]
    fn unsupported_params_and_drop_params() {
        let err = build_with(
            json!({"model": "claude-x", "messages": [], "logit_bias": {"1": 2}, "seed": 3}),
            &CallOptions::default(),
            false,
        )
        .err();
        let err = err.map(|e| (e.kind, e.status, e.message));
        let (kind, status, message) = err.unwrap_or((ErrorKind::Api, 0, String::new()));
        assert_eq!((kind, status), (ErrorKind::UnsupportedParams, 400));
        assert!(message.starts_with(
            "anthropic does not support parameters: ['logit_bias', 'seed'], for model=claude-x. To drop these"
        ));
        let opts = CallOptions {
            drop_params: true,
            ..CallOptions::default()
        };
        let body = build_with(
            json!({"model": "claude-x", "messages": [], "logit_bias": {"1": 2}, "n": 2}),
            &opts,
            false,
        )
        .map(|r| r.body)
        .unwrap_or_default();
        assert!(!body.contains_key("logit_bias") && !body.contains_key("n"));
        // n=1 is what Anthropic does anyway.
        assert!(build_with(
            json!({"model": "claude-x", "messages": [], "n": 1}),
            &CallOptions::default(),
            false
        )
        .is_ok());
    }

    #[test]
    fn user_ids_that_look_personal_are_dropped() {
        assert!(valid_user_id("user-123"));
        assert!(!valid_user_id("a@b.com"));
        assert!(!valid_user_id("+1 (555) 123-4567"));
    }

    #[test]
    fn reply_with_text_tools_thinking_and_cache_usage() {
        let reply = parse_message(&obj(json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x-2025",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {"city": "Paris"}},
            ],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 10, "output_tokens": 5, "cache_creation_input_tokens": 3, "cache_read_input_tokens": 7},
        })));
        let choice = &reply["choices"][0];
        assert_eq!(choice["finish_reason"], json!("tool_calls"));
        assert_eq!(choice["message"]["content"], json!("Let me check."));
        assert_eq!(
            choice["message"]["tool_calls"],
            json!([{"index": 2, "function": {"arguments": "{\"city\": \"Paris\"}", "name": "get_weather"}, "id": "toolu_9", "type": "function"}])
        );
        assert_eq!(choice["message"]["reasoning_content"], json!("hmm"));
        assert_eq!(reply["model"], json!("claude-x-2025"));
        assert_eq!(reply["usage"]["prompt_tokens"], json!(17));
        assert_eq!(reply["usage"]["total_tokens"], json!(22));
        assert_eq!(
            reply["usage"]["prompt_tokens_details"],
            json!({"cached_tokens": 7})
        );
        assert_eq!(reply["usage"]["cache_creation_input_tokens"], json!(3));
        assert!(reply["id"]
            .as_str()
            .is_some_and(|s| s.starts_with("chatcmpl-")));
    }

    #[test]
    fn json_tool_reply_becomes_content() {
        let reply = parse_message(&obj(json!({
            "content": [{"type": "tool_use", "id": "t", "name": "json_tool_call", "input": {"a": 1, "b": "é"}}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 1, "output_tokens": 1},
        })));
        assert_eq!(
            reply["choices"][0]["message"]["content"],
            json!("{\"a\": 1, \"b\": \"\\u00e9\"}")
        );
        assert_eq!(reply["choices"][0]["message"]["tool_calls"], Value::Null);
        assert_eq!(reply["choices"][0]["finish_reason"], json!("stop"));
    }

    fn decode_all(
        events: &[(&str, Value)],
        include_usage: bool,
    ) -> Result<Vec<Map<String, Value>>, LlmError> {
        let mut d = AnthropicStreamDecoder::new(
            "anthropic",
            "anthropic/claude-x",
            "claude-x",
            include_usage,
            Some("sk-ant".into()),
        );
        let mut out = Vec::new();
        for (name, data) in events {
            match d.decode(&SseEvent {
                event: Some(name.to_string()),
                data: data.to_string(),
            })? {
                Decoded::Chunks(c) => out.extend(c),
                Decoded::Simple(c) => out.push(c.to_map()),
                Decoded::Delta(e) => out.push(e.to_map()),
                Decoded::Events { events, .. } => out.extend(events),
                Decoded::Done => break,
            }
        }
        Ok(out)
    }

    #[test]
    fn stream_of_text_and_a_tool_call() {
        let chunks = decode_all(
            &[
                ("message_start", json!({"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 9, "output_tokens": 1, "cache_read_input_tokens": 2}}})),
                ("content_block_start", json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})),
                ("ping", json!({"type": "ping"})),
                ("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}})),
                ("content_block_stop", json!({"type": "content_block_stop", "index": 0})),
                ("content_block_start", json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}})),
                ("content_block_delta", json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"a\":"}})),
                ("content_block_delta", json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": " 1}"}})),
                ("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 12}})),
                ("message_stop", json!({"type": "message_stop"})),
            ],
            true,
        )
        .unwrap_or_default();
        assert_eq!(chunks.len(), 6);
        assert_eq!(chunks[0]["choices"][0]["delta"]["content"], json!("Hi"));
        assert_eq!(
            chunks[1]["choices"][0]["delta"]["tool_calls"][0]["id"],
            json!("toolu_1")
        );
        assert_eq!(
            chunks[3]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"],
            json!(" 1}")
        );
        assert_eq!(
            chunks[4]["choices"][0]["finish_reason"],
            json!("tool_calls")
        );
        assert_eq!(chunks[5]["usage"]["prompt_tokens"], json!(11));
        assert_eq!(chunks[5]["usage"]["completion_tokens"], json!(12));
        assert!(chunks.iter().all(|c| c["id"] == chunks[0]["id"]));
    }

    #[test]
    fn stream_thinking_json_mode_and_errors() {
        let chunks = decode_all(
            &[
                ("content_block_start", json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}})),
                ("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}})),
                ("content_block_start", json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "t", "name": "json_tool_call", "input": {}}})),
                ("content_block_delta", json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"a\": 1}"}})),
                ("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 3}})),
            ],
            false,
        )
        .unwrap_or_default();
        assert_eq!(chunks.len(), 3);
        assert_eq!(
            chunks[0]["choices"][0]["delta"]["reasoning_content"],
            json!("hmm")
        );
        assert_eq!(
            chunks[1]["choices"][0]["delta"]["content"],
            json!("{\"a\": 1}")
        );
        assert_eq!(chunks[2]["choices"][0]["finish_reason"], json!("stop"));

        let err = decode_all(
            &[("error", json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))],
            false,
        )
        .err();
        let err = err.map(|e| (e.kind, e.status, e.message));
        assert_eq!(
            err,
            Some((
                ErrorKind::InternalServer,
                529,
                "InternalServerError: AnthropicException - Overloaded".to_string()
            ))
        );
    }

    #[test]
    fn replies_that_are_not_messages_are_errors() {
        let parse = |body: Map<String, Value>| {
            with_chat_ctx(Endpointkind::Chat, "anthropic", "claude-x", false, |ctx| {
                AnthropicAdapter.parse_response(ctx, body, &[])
            })
        };
        let mut bad = foreign_replies(&["anthropic"]);
        bad.push(obj(json!({"type": "completion", "content": []})));
        bad.push(obj(json!({"type": "message", "content": "hi"})));
        for body in bad {
            assert_malformed(
                parse(body).err(),
                "AnthropicException - Invalid response from the provider: not an Anthropic message (no \"type\": \"message\" with a 'content' list). Received: {",
            );
        }
        let ok = parse(obj(
            json!({"type": "message", "content": [{"type": "text", "text": "hi"}]}),
        ));
        assert_eq!(
            ok.ok()
                .map(|r| r["choices"][0]["message"]["content"].clone()),
            Some(json!("hi"))
        );
        // An empty content list is a real (empty) reply, e.g. max_tokens 0 or a bare stop.
        assert!(parse(obj(
            json!({"type": "message", "content": [], "stop_reason": "end_turn"})
        ))
        .is_ok());
    }

    #[test]
    fn stream_events_without_a_type_are_errors() {
        for data in [
            json!({}),
            json!({"foo": 1}),
            json!([1]),
            json!({"id": "x", "choices": [{"index": 0, "delta": {"content": "hi"}}]}),
        ] {
            let mut d = AnthropicStreamDecoder::new(
                "anthropic",
                "anthropic/claude-x",
                "claude-x",
                false,
                None,
            );
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
                    .contains("Invalid chunk in the stream: no \"type\""),
                "{}",
                err.message
            );
        }
        // Named events, pings, and types added later are fine.
        let ok = decode_all(
            &[
                ("ping", json!({"type": "ping"})),
                ("ping", json!({})),
                ("future_event", json!({"type": "future_event"})),
            ],
            false,
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn error_bodies_map_to_litellm_classes() {
        let map = |status: u16, kind: &str, message: &str| {
            let body = json!({"type": "error", "error": {"type": kind, "message": message}});
            map_error(
                "anthropic",
                "anthropic/claude-x",
                status,
                &body.to_string(),
                Some(body),
                Vec::new(),
            )
        };
        assert_eq!(
            map(429, "rate_limit_error", "slow down").kind,
            ErrorKind::RateLimit
        );
        assert_eq!(
            map(401, "authentication_error", "invalid x-api-key").kind,
            ErrorKind::Authentication
        );
        let e = map(
            400,
            "invalid_request_error",
            "prompt is too long: 210000 tokens > 200000 maximum",
        );
        assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);
        assert_eq!(
            map(529, "overloaded_error", "Overloaded").kind,
            ErrorKind::InternalServer
        );
        assert_eq!(
            map(404, "not_found_error", "model: x").kind,
            ErrorKind::NotFound
        );
    }
}
