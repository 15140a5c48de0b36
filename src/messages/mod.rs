//! Anthropic's Messages API (`anthropic_messages`, `POST /v1/messages`) for every provider.
//!
//! Anthropic, and Vertex AI's Claude models, take the caller's body as it is
//! (`call::prepare` with [`Endpointkind::AnthropicMessages`](crate::providers::Endpointkind);
//! `providers::anthropic_messages` decodes their replies and events). Every other provider
//! is reached over chat completions, as LiteLLM's `LiteLLMAnthropicMessagesAdapter` does:
//! [`to_chat`] turns the request into chat keyword arguments (content blocks → messages
//! and parts, `tool_use` → `tool_calls`, `tool_result` → tool messages, `system` → a
//! system message, `thinking` → `reasoning_effort`), [`Bridge::reply`] turns the chat reply
//! into an Anthropic message, and [`events`] turns a chat stream into Anthropic's events.
//!
//! Layering: this sits between `providers` and `call` (which drives it); it never imports
//! `call`.

pub mod events;

use serde_json::{json, Map, Value};

use crate::error::LlmError;

/// Providers that take Anthropic's body themselves: Vertex AI for `claude-*` models,
/// Bedrock for `anthropic.claude-*` ones on InvokeModel (not with LiteLLM's `converse/`
/// route prefix), see [`is_native`].
pub const NATIVE_PROVIDERS: &[&str] = &["anthropic", "vertex_ai", "bedrock"];

/// Whether `provider` serves `model` in Anthropic's format.
pub fn is_native(provider: &str, model: &str) -> bool {
    match provider {
        "anthropic" => true,
        "vertex_ai" => crate::providers::vertex::is_claude(model),
        "bedrock" => {
            let model = model.strip_prefix("invoke/").unwrap_or(model);
            !model.starts_with("converse/") && model.contains("anthropic.claude")
        }
        _ => false,
    }
}

/// The Messages parameters checked here rather than by the chat checks (their shapes are
/// Anthropic's), sent as they are to a native provider.
pub const OWN_FIELDS: &[&str] = &[
    "messages",
    "system",
    "max_tokens",
    "tools",
    "tool_choice",
    "thinking",
    "stop_sequences",
    "top_k",
    "metadata",
];

/// An `msg_` id for a translated reply.
pub fn new_id() -> String {
    format!("msg_{}", uuid::Uuid::new_v4().simple())
}

fn bad(message: String) -> LlmError {
    LlmError::bad_request(message)
}

fn type_name(v: &Value) -> &'static str {
    crate::types::type_name(v)
}

/// The block types a message's `content` may hold, by role.
const USER_BLOCKS: &[&str] = &["text", "image", "document", "tool_result"];
const ASSISTANT_BLOCKS: &[&str] = &["text", "tool_use", "thinking", "redacted_thinking"];

/// Check a Messages request before anything is sent: `max_tokens` a positive integer,
/// `messages` a list of `{"role": "user"|"assistant", "content": str | [blocks]}`,
/// `system` a string or text blocks, tools with a `name`, `tool_choice` one of
/// Anthropic's, `thinking` enabled with a budget or disabled, `stop_sequences` strings.
pub fn check_request(kwargs: &Map<String, Value>) -> Result<(), LlmError> {
    match kwargs.get("max_tokens") {
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n > 0) => {}
        None | Some(Value::Null) => return Err(bad(
            "anthropic_messages() needs max_tokens= (a positive integer), as Anthropic's API does"
                .into(),
        )),
        Some(other) => {
            return Err(bad(format!(
                "max_tokens must be a positive integer, got {other}"
            )))
        }
    }
    let messages = match kwargs.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => m,
        Some(Value::Array(_)) => return Err(bad("messages must not be empty".into())),
        None | Some(Value::Null) => {
            return Err(bad(
                "anthropic_messages() needs messages=: a list like [{\"role\": \"user\", \"content\": \"...\"}]".into(),
            ))
        }
        Some(other) => {
            return Err(bad(format!(
                "messages must be a list of {{\"role\", \"content\"}} dicts, got {}",
                type_name(other)
            )))
        }
    };
    for (i, m) in messages.iter().enumerate() {
        let Value::Object(m) = m else {
            return Err(bad(format!(
                "messages[{i}] must be a dict like {{\"role\": \"user\", \"content\": \"...\"}}, got {}",
                type_name(m)
            )));
        };
        let allowed = match m.get("role").and_then(Value::as_str) {
            Some("user") => USER_BLOCKS,
            Some("assistant") => ASSISTANT_BLOCKS,
            Some(other) => {
                return Err(bad(format!(
                    "messages[{i}].role must be \"user\" or \"assistant\" (the system prompt goes in system=), got {other:?}"
                )))
            }
            None => return Err(bad(format!("messages[{i}] needs a \"role\""))),
        };
        match m.get("content") {
            Some(Value::String(_)) => {}
            Some(Value::Array(blocks)) => {
                for (j, b) in blocks.iter().enumerate() {
                    check_block(&format!("messages[{i}].content[{j}]"), b, allowed)?;
                }
            }
            None | Some(Value::Null) => {
                return Err(bad(format!("messages[{i}] needs \"content\"")))
            }
            Some(other) => {
                return Err(bad(format!(
                    "messages[{i}].content must be a string or a list of content blocks, got {}",
                    type_name(other)
                )))
            }
        }
    }
    match kwargs.get("system") {
        None | Some(Value::Null | Value::String(_)) => {}
        Some(Value::Array(blocks)) => {
            for (j, b) in blocks.iter().enumerate() {
                check_block(&format!("system[{j}]"), b, &["text"])?;
            }
        }
        Some(other) => {
            return Err(bad(format!(
                "system must be a string or a list of text blocks, got {}",
                type_name(other)
            )))
        }
    }
    match kwargs.get("tools") {
        None | Some(Value::Null) => {}
        Some(Value::Array(tools)) => {
            for (i, t) in tools.iter().enumerate() {
                let named = t
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| !n.is_empty());
                if !t.is_object() || !named {
                    return Err(bad(format!(
                        "tools[{i}] must be a dict like {{\"name\": ..., \"description\": ..., \"input_schema\": {{...}}}}"
                    )));
                }
            }
        }
        Some(other) => {
            return Err(bad(format!(
                "tools must be a list of tool definitions, got {}",
                type_name(other)
            )))
        }
    }
    match kwargs.get("tool_choice") {
        None | Some(Value::Null) => {}
        Some(Value::Object(c)) => match c.get("type").and_then(Value::as_str) {
            Some("auto" | "any" | "none") => {}
            Some("tool") if c.get("name").and_then(Value::as_str).is_some() => {}
            _ => {
                return Err(bad(format!(
                    "tool_choice must be {{\"type\": \"auto\"}}, {{\"type\": \"any\"}}, {{\"type\": \"none\"}} or {{\"type\": \"tool\", \"name\": ...}}, got {}",
                    Value::Object(c.clone())
                )))
            }
        },
        Some(other) => {
            return Err(bad(format!(
                "tool_choice must be a dict like {{\"type\": \"auto\"}}, got {other}"
            )))
        }
    }
    match kwargs.get("thinking") {
        None | Some(Value::Null) => {}
        Some(Value::Object(t)) => match t.get("type").and_then(Value::as_str) {
            Some("disabled") => {}
            Some("enabled")
                if t.get("budget_tokens")
                    .and_then(Value::as_u64)
                    .is_some_and(|n| n > 0) => {}
            _ => {
                return Err(bad(
                    "thinking must be {\"type\": \"enabled\", \"budget_tokens\": N} or {\"type\": \"disabled\"}".into(),
                ))
            }
        },
        Some(other) => {
            return Err(bad(format!(
                "thinking must be a dict like {{\"type\": \"enabled\", \"budget_tokens\": 1024}}, got {}",
                type_name(other)
            )))
        }
    }
    match kwargs.get("stop_sequences") {
        None | Some(Value::Null) => {}
        Some(Value::Array(s)) if s.iter().all(Value::is_string) => {}
        Some(other) => {
            return Err(bad(format!(
                "stop_sequences must be a list of strings, got {other}"
            )))
        }
    }
    match kwargs.get("metadata") {
        None | Some(Value::Null | Value::Object(_)) => {}
        Some(other) => {
            return Err(bad(format!(
                "metadata must be a dict like {{\"user_id\": ...}}, got {}",
                type_name(other)
            )))
        }
    }
    Ok(())
}

fn check_block(at: &str, block: &Value, allowed: &[&str]) -> Result<(), LlmError> {
    let Value::Object(b) = block else {
        return Err(bad(format!(
            "{at} must be a content block dict like {{\"type\": \"text\", \"text\": \"...\"}}, got {}",
            type_name(block)
        )));
    };
    let kind = b.get("type").and_then(Value::as_str).unwrap_or_default();
    if !allowed.contains(&kind) {
        return Err(bad(format!(
            "{at} has type {kind:?}; this role's blocks are {}",
            allowed.join(", ")
        )));
    }
    let needs = |field: &str, what: &str| -> Result<(), LlmError> {
        match b.get(field) {
            Some(v) if what == "str" && v.is_string() => Ok(()),
            Some(v) if what == "dict" && v.is_object() => Ok(()),
            _ => Err(bad(format!("{at} ({kind}) needs {field:?} ({what})"))),
        }
    };
    match kind {
        "text" => needs("text", "str"),
        "image" | "document" => needs("source", "dict"),
        "tool_use" => {
            needs("id", "str")?;
            needs("name", "str")?;
            needs("input", "dict")
        }
        "tool_result" => needs("tool_use_id", "str"),
        "thinking" => needs("thinking", "str"),
        _ => Ok(()),
    }
}

/// What a translated call must remember to answer as an Anthropic message: the model the
/// caller asked for (Anthropic echoes it).
#[derive(Debug, Clone)]
pub struct Bridge {
    pub model: String,
}

/// The text of a `system` value or of a `tool_result`'s content: a string, or its text
/// blocks joined by blank lines.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n\n"),
        _ => String::new(),
    }
}

/// An `image` or `document` block's `source` as a URL: a `data:` URL for base64 data.
fn source_url(at: &str, source: &Value) -> Result<String, LlmError> {
    match source.get("type").and_then(Value::as_str) {
        Some("base64") => {
            let media = source
                .get("media_type")
                .and_then(Value::as_str)
                .unwrap_or("application/octet-stream");
            let data = source.get("data").and_then(Value::as_str).unwrap_or("");
            Ok(format!("data:{media};base64,{data}"))
        }
        Some("url") => match source.get("url").and_then(Value::as_str) {
            Some(url) => Ok(url.to_string()),
            None => Err(bad(format!("{at}.source of type \"url\" needs a \"url\""))),
        },
        other => Err(bad(format!(
            "{at}.source type {:?} has no chat form here (only \"base64\" and \"url\" sources translate; files-API ids need an Anthropic deployment)",
            other.unwrap_or("")
        ))),
    }
}

/// A user block as a chat content part.
fn user_part(at: &str, block: &Map<String, Value>) -> Result<Value, LlmError> {
    let mut part = match block.get("type").and_then(Value::as_str) {
        Some("text") => {
            json!({"type": "text", "text": block.get("text").cloned().unwrap_or_default()})
        }
        Some("image") => {
            let url = source_url(at, block.get("source").unwrap_or(&Value::Null))?;
            json!({"type": "image_url", "image_url": {"url": url}})
        }
        Some("document") => {
            let source = block.get("source").unwrap_or(&Value::Null);
            if source.get("type").and_then(Value::as_str) == Some("text") {
                json!({"type": "text", "text": source.get("data").cloned().unwrap_or_default()})
            } else {
                let url = source_url(at, source)?;
                json!({"type": "file", "file": {"file_data": url}})
            }
        }
        other => {
            return Err(bad(format!(
                "{at} of type {:?} has no chat form",
                other.unwrap_or("")
            )))
        }
    };
    if let (Some(cc), Value::Object(p)) = (block.get("cache_control"), &mut part) {
        p.insert("cache_control".into(), cc.clone());
    }
    Ok(part)
}

/// A `tool_result` block as a chat tool message; an error result is marked as Anthropic
/// marks it, since chat has no `is_error`.
fn tool_message(block: &Map<String, Value>) -> Value {
    let mut text = text_of(block.get("content").unwrap_or(&Value::Null));
    if block.get("is_error").and_then(Value::as_bool) == Some(true) {
        text = format!("Error: {text}");
    }
    json!({
        "role": "tool",
        "tool_call_id": block.get("tool_use_id").cloned().unwrap_or_default(),
        "content": text,
    })
}

/// An assistant turn as one chat message: text joined, `tool_use` blocks as
/// `tool_calls`. Thinking blocks of earlier turns stay out: another provider refuses
/// (or cannot check the signature of) Anthropic's reasoning.
fn assistant_message(content: &Value) -> Value {
    let blocks = match content {
        Value::String(s) => return json!({"role": "assistant", "content": s}),
        Value::Array(b) => b,
        _ => return json!({"role": "assistant", "content": ""}),
    };
    let mut text = Vec::new();
    let mut calls = Vec::new();
    for b in blocks {
        match b.get("type").and_then(Value::as_str) {
            Some("text") => text.push(b.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("tool_use") => calls.push(json!({
                "id": b.get("id").cloned().unwrap_or_default(),
                "type": "function",
                "function": {
                    "name": b.get("name").cloned().unwrap_or_default(),
                    "arguments": b.get("input").map_or_else(|| "{}".to_string(), Value::to_string),
                },
            })),
            _ => {}
        }
    }
    let mut m = json!({"role": "assistant", "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { Value::String(text.join("")) }});
    if !calls.is_empty() {
        m["tool_calls"] = Value::Array(calls);
    }
    m
}

/// A `thinking` budget as chat's `reasoning_effort`, by LiteLLM's thresholds.
pub fn reasoning_effort(budget_tokens: u64) -> &'static str {
    match budget_tokens {
        0..2048 => "low",
        2048..8192 => "medium",
        _ => "high",
    }
}

/// Chat keyword arguments for a Messages request, and the [`Bridge`] that turns the reply
/// back. `reasoning` says whether the target model takes `reasoning_effort` (a
/// reasoning model); `thinking` is dropped for one that does not, as LiteLLM drops it.
/// Keys that are not Anthropic's (`api_key`, `num_retries`, `mock_response`, ...) are
/// passed on as they are. The request is checked by [`check_request`] first.
pub fn to_chat(
    mut kwargs: Map<String, Value>,
    reasoning: bool,
) -> Result<(Map<String, Value>, Bridge), LlmError> {
    let take = |k: &mut Map<String, Value>, name: &str| k.remove(name).filter(|v| !v.is_null());
    let messages = take(&mut kwargs, "messages").unwrap_or(Value::Null);
    let system = take(&mut kwargs, "system");
    let tools = take(&mut kwargs, "tools");
    let tool_choice = take(&mut kwargs, "tool_choice");
    let thinking = take(&mut kwargs, "thinking");
    let stop_sequences = take(&mut kwargs, "stop_sequences");
    let metadata = take(&mut kwargs, "metadata");
    let model = kwargs
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();

    let mut chat = Vec::new();
    if let Some(system) = system {
        let content = match &system {
            Value::Array(blocks) => Value::Array(
                blocks
                    .iter()
                    .filter_map(Value::as_object)
                    .map(|b| user_part("system", b))
                    .collect::<Result<_, _>>()?,
            ),
            other => Value::String(text_of(other)),
        };
        chat.push(json!({"role": "system", "content": content}));
    }
    for (i, m) in messages.as_array().into_iter().flatten().enumerate() {
        let content = m.get("content").unwrap_or(&Value::Null);
        if m.get("role").and_then(Value::as_str) == Some("assistant") {
            chat.push(assistant_message(content));
            continue;
        }
        let Value::Array(blocks) = content else {
            chat.push(json!({"role": "user", "content": content}));
            continue;
        };
        // Tool results answer the previous assistant turn's calls, so they go first, as
        // tool messages; the rest of the turn follows as one user message.
        let mut parts = Vec::new();
        for (j, b) in blocks.iter().filter_map(Value::as_object).enumerate() {
            if b.get("type").and_then(Value::as_str) == Some("tool_result") {
                chat.push(tool_message(b));
            } else {
                parts.push(user_part(&format!("messages[{i}].content[{j}]"), b)?);
            }
        }
        if !parts.is_empty() {
            chat.push(json!({"role": "user", "content": parts}));
        }
    }
    kwargs.insert("messages".into(), Value::Array(chat));

    if let Some(Value::Array(tools)) = tools {
        let tools: Vec<Value> = tools
            .iter()
            .map(|t| {
                let mut f = Map::new();
                f.insert("name".into(), t.get("name").cloned().unwrap_or_default());
                if let Some(d) = t.get("description") {
                    f.insert("description".into(), d.clone());
                }
                f.insert(
                    "parameters".into(),
                    t.get("input_schema")
                        .cloned()
                        .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                );
                json!({"type": "function", "function": f})
            })
            .collect();
        kwargs.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = tool_choice {
        let mapped = match choice.get("type").and_then(Value::as_str) {
            Some("any") => json!("required"),
            Some("none") => json!("none"),
            Some("tool") => {
                json!({"type": "function", "function": {"name": choice.get("name").cloned().unwrap_or_default()}})
            }
            _ => json!("auto"),
        };
        kwargs.insert("tool_choice".into(), mapped);
        if choice
            .get("disable_parallel_tool_use")
            .and_then(Value::as_bool)
            == Some(true)
        {
            kwargs.insert("parallel_tool_calls".into(), Value::Bool(false));
        }
    }
    if let Some(budget) = thinking
        .as_ref()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("enabled"))
        .and_then(|t| t.get("budget_tokens"))
        .and_then(Value::as_u64)
    {
        if reasoning {
            kwargs.insert("reasoning_effort".into(), json!(reasoning_effort(budget)));
        }
    }
    if let Some(stop) = stop_sequences {
        kwargs.insert("stop".into(), stop);
    }
    if let Some(user) = metadata.as_ref().and_then(|m| m.get("user_id")) {
        if user.is_string() {
            kwargs.insert("user".into(), user.clone());
        }
    }
    if kwargs.get("stream").and_then(Value::as_bool) == Some(true) {
        // The usage goes in `message_delta`: ask for it.
        kwargs.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Ok((kwargs, Bridge { model }))
}

/// Anthropic's `stop_reason` for a chat `finish_reason`.
pub fn stop_reason(finish_reason: Option<&str>) -> &'static str {
    match finish_reason {
        Some("length") => "max_tokens",
        Some("tool_calls" | "function_call") => "tool_use",
        Some("content_filter") => "refusal",
        _ => "end_turn",
    }
}

/// Anthropic's `usage` for a chat reply's usage: `input_tokens` excludes the cached
/// prompt tokens, which Anthropic reports apart as `cache_read_input_tokens`.
pub fn usage_from_chat(usage: Option<&Value>) -> Value {
    let n = |p: &str| {
        usage
            .and_then(|u| u.pointer(p))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let cached = n("/prompt_tokens_details/cached_tokens");
    let mut u = json!({
        "input_tokens": n("/prompt_tokens").saturating_sub(cached),
        "output_tokens": n("/completion_tokens"),
    });
    if cached > 0 {
        u["cache_read_input_tokens"] = json!(cached);
    }
    u
}

/// A tool call's JSON `arguments` as a `tool_use` block's `input`: an object; arguments
/// that are not one are kept under `"arguments"`, never lost.
fn tool_input(arguments: Option<&Value>) -> Value {
    match arguments {
        Some(Value::String(s)) if s.trim().is_empty() => json!({}),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) => v,
            _ => json!({"arguments": s}),
        },
        Some(v @ Value::Object(_)) => v.clone(),
        _ => json!({}),
    }
}

impl Bridge {
    /// The Anthropic message for a chat reply.
    pub fn reply(&self, chat: &Map<String, Value>) -> Map<String, Value> {
        let choice = chat.get("choices").and_then(|c| c.get(0));
        let message = choice.and_then(|c| c.get("message"));
        let mut content = Vec::new();
        if let Some(thinking) = message
            .and_then(|m| m.get("reasoning_content"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            content.push(json!({"type": "thinking", "thinking": thinking, "signature": ""}));
        }
        if let Some(text) = message
            .and_then(|m| m.get("content"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            content.push(json!({"type": "text", "text": text}));
        }
        for call in message
            .and_then(|m| m.get("tool_calls"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            content.push(json!({
                "type": "tool_use",
                "id": call.get("id").cloned().unwrap_or_else(|| json!(format!("toolu_{}", uuid::Uuid::new_v4().simple()))),
                "name": call.pointer("/function/name").cloned().unwrap_or_default(),
                "input": tool_input(call.pointer("/function/arguments")),
            }));
        }
        let finish = choice
            .and_then(|c| c.get("finish_reason"))
            .and_then(Value::as_str);
        let mut m = Map::with_capacity(8);
        m.insert(
            "id".into(),
            chat.get("id")
                .and_then(Value::as_str)
                .filter(|id| id.starts_with("msg_"))
                .map_or_else(new_id, str::to_string)
                .into(),
        );
        m.insert("type".into(), json!("message"));
        m.insert("role".into(), json!("assistant"));
        m.insert("model".into(), json!(self.model));
        m.insert("content".into(), Value::Array(content));
        m.insert("stop_reason".into(), json!(stop_reason(finish)));
        m.insert("stop_sequence".into(), Value::Null);
        m.insert("usage".into(), usage_from_chat(chat.get("usage")));
        m
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod wire_tests;
