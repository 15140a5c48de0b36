//! Google's generateContent format, as Google AI Studio (`gemini/`) serves it. Vertex AI
//! (`vertex.rs`) sends the same body to other URLs, so the body, reply and stream functions
//! here are shared.
//!
//! Request: system messages become `system_instruction`; user/assistant turns become
//! `contents` with roles `user`/`model` (consecutive turns of one role merged, as the API
//! wants); images become `inline_data`; tools become `function_declarations`; tool calls
//! and results become `function_call`/`function_response` parts; sampling parameters go
//! into `generationConfig`. Reply: text parts joined, thought parts as
//! `reasoning_content`, `functionCall` parts as tool calls with fresh `call_<hex>` ids,
//! `usageMetadata` as usage.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::{
    check_params, new_tool_call_id, unix_now, Adapter, ChatContext, Decoded, Endpointkind,
    HttpRequest, ProviderSpec, StreamDecoder, WireFormat,
};
use crate::error::{map_http_error, provider_exception_name, ErrorKind, LlmError};
use crate::stream::sse::SseEvent;
use crate::stream::SimpleChunk;
use std::sync::Arc;

pub const SPEC: ProviderSpec = ProviderSpec {
    name: "gemini",
    format: WireFormat::Gemini,
    default_base: Some("https://generativelanguage.googleapis.com/v1beta"),
    base_env: &["GEMINI_API_BASE"],
    key_env: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    default_key: None,
};

/// The OpenAI parameters Gemini takes (LiteLLM's list for Gemini, plus `seed` and the
/// penalties, which generateContent accepts). `user` and `logit_bias` are not among them.
pub const SUPPORTED_PARAMS: &[&str] = &[
    "temperature",
    "top_p",
    "n",
    "stream",
    "stream_options",
    "stop",
    "max_completion_tokens",
    "max_tokens",
    "modalities",
    "presence_penalty",
    "frequency_penalty",
    "reasoning_effort",
    "thinking",
    "response_format",
    "seed",
    "tools",
    "tool_choice",
    "functions",
    "function_call",
    "logprobs",
    "top_logprobs",
    "parallel_tool_calls",
    "web_search_options",
];

/// `generationConfig` fields, so provider-specific keyword arguments (`top_k=`,
/// `response_mime_type=`) land there rather than at the top level.
const GENERATION_CONFIG_FIELDS: &[&str] = &[
    "stopSequences",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "responseModalities",
    "candidateCount",
    "maxOutputTokens",
    "topK",
    "responseLogprobs",
    "enableEnhancedCivicAnswers",
    "speechConfig",
    "thinkingConfig",
    "imageConfig",
    "mediaResolution",
];

/// The JSON-schema keys Gemini's `Schema` accepts; anything else (`additionalProperties`,
/// `$schema`, `strict`, ...) makes it reject the request.
const SCHEMA_KEYS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

fn bad(message: impl Into<String>) -> LlmError {
    LlmError::bad_request(message)
}

/// `top_k` → `topK`.
fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The text of a message `content`: a string, or its text parts joined.
fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// `data:image/png;base64,AAAA` → (`image/png`, `AAAA`).
pub fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let mime = meta.strip_suffix(";base64")?;
    Some((if mime.is_empty() { "image/jpeg" } else { mime }, data))
}

/// A MIME type from a URL's extension, for `file_data` parts.
fn mime_from_url(url: &str) -> &'static str {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    let ext = path.rsplit('.').next().unwrap_or("");
    match ext {
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "pdf" => "application/pdf",
        "mp3" => "audio/mp3",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "txt" => "text/plain",
        _ => "image/jpeg",
    }
}

/// A media reference as a part: data URLs are sent inline; other URLs (`gs://`, Files
/// API, YouTube) as `file_data` for Google to fetch.
fn media_part(url: &str, mime_hint: Option<&str>) -> Value {
    match parse_data_url(url) {
        Some((mime, data)) => json!({"inline_data": {"mime_type": mime, "data": data}}),
        None => json!({"file_data": {
            "mime_type": mime_hint.unwrap_or_else(|| mime_from_url(url)),
            "file_uri": url,
        }}),
    }
}

/// The parts of a user (or assistant) `content`.
fn content_parts(content: Option<&Value>) -> Result<Vec<Value>, LlmError> {
    let parts = match content {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) if s.is_empty() => return Ok(Vec::new()),
        Some(Value::String(s)) => return Ok(vec![json!({"text": s})]),
        Some(Value::Array(parts)) => parts,
        Some(other) => {
            return Err(bad(format!(
                "message content must be a string or a list of parts, got {}",
                crate::types::type_name(other)
            )))
        }
    };
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        let kind = part.get("type").and_then(Value::as_str).unwrap_or("text");
        match kind {
            "text" => {
                let text = part.get("text").and_then(Value::as_str).unwrap_or("");
                if !text.is_empty() {
                    out.push(json!({"text": text}));
                }
            }
            "image_url" => {
                let url = match part.get("image_url") {
                    Some(Value::String(u)) => Some(u.as_str()),
                    Some(obj) => obj.get("url").and_then(Value::as_str),
                    None => None,
                };
                let url = url.ok_or_else(|| bad("an image_url part needs image_url.url"))?;
                let format = part
                    .get("image_url")
                    .and_then(|i| i.get("format"))
                    .and_then(Value::as_str);
                out.push(media_part(url, format));
            }
            "input_audio" => {
                let audio = part.get("input_audio");
                let data = audio
                    .and_then(|a| a.get("data"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("an input_audio part needs input_audio.data"))?;
                let format = audio
                    .and_then(|a| a.get("format"))
                    .and_then(Value::as_str)
                    .unwrap_or("wav");
                out.push(json!({"inline_data": {"mime_type": format!("audio/{format}"), "data": data}}));
            }
            "file" => {
                let file = part.get("file");
                let format = file.and_then(|f| f.get("format")).and_then(Value::as_str);
                let url = file
                    .and_then(|f| f.get("file_data").or_else(|| f.get("file_id")))
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("a file part needs file.file_data or file.file_id"))?;
                out.push(media_part(url, format));
            }
            other => {
                return Err(bad(format!(
                    "content part type {other:?} is not supported by Gemini (text, image_url, input_audio and file are)"
                )))
            }
        }
    }
    Ok(out)
}

/// Appends a turn, merging it into the previous one when the role repeats.
fn push_turn(contents: &mut Vec<Value>, role: &str, parts: Vec<Value>) {
    if parts.is_empty() {
        return;
    }
    if let Some(last) = contents.last_mut() {
        if last.get("role").and_then(Value::as_str) == Some(role) {
            if let Some(Value::Array(existing)) = last.get_mut("parts") {
                existing.extend(parts);
                return;
            }
        }
    }
    contents.push(json!({"role": role, "parts": parts}));
}

/// Tool-call arguments (a JSON string in OpenAI's format) as the object Gemini wants.
fn parse_arguments(args: Option<&Value>) -> Result<Value, LlmError> {
    match args {
        None | Some(Value::Null) => Ok(json!({})),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(json!({})),
        Some(Value::String(s)) => serde_json::from_str(s).map_err(|e| {
            bad(format!(
                "tool call arguments must be a JSON object string; could not parse {s:?}: {e}"
            ))
        }),
        Some(v) => Ok(v.clone()),
    }
}

/// OpenAI messages → (`system_instruction`, `contents`).
pub fn contents_from_messages(messages: &[Value]) -> Result<(Option<Value>, Vec<Value>), LlmError> {
    let mut system_parts: Vec<Value> = Vec::new();
    let mut contents: Vec<Value> = Vec::with_capacity(messages.len());
    // Tool results name their function by call id; Gemini wants the name.
    let mut names_by_id: HashMap<String, String> = HashMap::new();
    for message in messages {
        let role = message
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("user");
        match role {
            "system" | "developer" => {
                let text = text_of(message.get("content"));
                if !text.is_empty() {
                    system_parts.push(json!({"text": text}));
                }
            }
            "user" => push_turn(&mut contents, "user", content_parts(message.get("content"))?),
            "assistant" => {
                let mut parts = content_parts(message.get("content"))?;
                let calls = message
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                for call in calls {
                    let function = call.get("function");
                    let name = function
                        .and_then(|f| f.get("name"))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if let Some(id) = call.get("id").and_then(Value::as_str) {
                        names_by_id.insert(id.to_string(), name.to_string());
                    }
                    let args = parse_arguments(function.and_then(|f| f.get("arguments")))?;
                    parts.push(json!({"function_call": {"name": name, "args": args}}));
                }
                if let Some(fc) = message.get("function_call").filter(|v| v.is_object()) {
                    let name = fc.get("name").and_then(Value::as_str).unwrap_or_default();
                    let args = parse_arguments(fc.get("arguments"))?;
                    parts.push(json!({"function_call": {"name": name, "args": args}}));
                }
                push_turn(&mut contents, "model", parts);
            }
            "tool" | "function" => {
                let id = message.get("tool_call_id").and_then(Value::as_str);
                let name = id
                    .and_then(|id| names_by_id.get(id).cloned())
                    .or_else(|| {
                        message
                            .get("name")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .ok_or_else(|| {
                        bad(format!(
                            "tool message with tool_call_id={:?} has no matching tool call in an earlier assistant message; Gemini needs the function name",
                            id.unwrap_or_default()
                        ))
                    })?;
                let part = json!({"function_response": {
                    "name": name,
                    "response": {"content": text_of(message.get("content"))},
                }});
                push_turn(&mut contents, "user", vec![part]);
            }
            other => {
                return Err(bad(format!(
                    "message role {other:?} is not supported (system, developer, user, assistant, tool)"
                )))
            }
        }
    }
    let system = (!system_parts.is_empty()).then(|| json!({"parts": system_parts}));
    Ok((system, contents))
}

/// A JSON schema reduced to what Gemini's `Schema` accepts: `$ref`s inlined,
/// `type: [T, "null"]` as `nullable`, `const` as a one-value `enum`, unknown keys dropped.
pub fn clean_schema(schema: &Value) -> Value {
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .cloned()
        .unwrap_or(Value::Null);
    clean_node(schema, &defs, 0)
}

fn clean_node(node: &Value, defs: &Value, depth: u32) -> Value {
    let Value::Object(obj) = node else {
        return node.clone();
    };
    // Recursive models cannot be inlined forever; Gemini has no references.
    if depth > 24 {
        return json!({"type": "object"});
    }
    if let Some(target) = obj.get("$ref").and_then(Value::as_str) {
        let name = target.rsplit('/').next().unwrap_or_default();
        if let Some(def) = defs.get(name) {
            let mut resolved = clean_node(def, defs, depth + 1);
            if let (Value::Object(r), Some(desc)) = (&mut resolved, obj.get("description")) {
                r.insert("description".into(), desc.clone());
            }
            return resolved;
        }
    }
    let mut out = Map::new();
    for (key, value) in obj {
        match key.as_str() {
            "type" => match value {
                Value::Array(types) => {
                    let non_null: Vec<&Value> = types
                        .iter()
                        .filter(|t| t.as_str() != Some("null"))
                        .collect();
                    if let Some(first) = non_null.first() {
                        out.insert("type".into(), (*first).clone());
                    }
                    if non_null.len() < types.len() {
                        out.insert("nullable".into(), Value::Bool(true));
                    }
                }
                other => {
                    out.insert("type".into(), other.clone());
                }
            },
            "properties" => {
                let props: Map<String, Value> = value
                    .as_object()
                    .map(|p| {
                        p.iter()
                            .map(|(k, v)| (k.clone(), clean_node(v, defs, depth + 1)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert("properties".into(), Value::Object(props));
            }
            "items" => {
                out.insert("items".into(), clean_node(value, defs, depth + 1));
            }
            "anyOf" | "oneOf" => {
                let mut options = Vec::new();
                for option in value.as_array().map(Vec::as_slice).unwrap_or_default() {
                    if option.get("type").and_then(Value::as_str) == Some("null") {
                        out.insert("nullable".into(), Value::Bool(true));
                    } else {
                        options.push(clean_node(option, defs, depth + 1));
                    }
                }
                if options.len() == 1 {
                    if let Some(Value::Object(only)) = options.pop() {
                        for (k, v) in only {
                            out.entry(k).or_insert(v);
                        }
                    }
                } else if !options.is_empty() {
                    out.insert("anyOf".into(), Value::Array(options));
                }
            }
            "const" => {
                out.insert("enum".into(), json!([value]));
            }
            k if SCHEMA_KEYS.contains(&k) => {
                out.insert(key.clone(), value.clone());
            }
            _ => {}
        }
    }
    Value::Object(out)
}

/// One OpenAI function definition as a Gemini `function_declaration`.
fn declaration(function: &Value) -> Result<Value, LlmError> {
    let name = function
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("every tool needs function.name"))?;
    let mut decl = Map::new();
    decl.insert("name".into(), Value::String(name.to_string()));
    if let Some(desc) = function.get("description").filter(|d| d.is_string()) {
        decl.insert("description".into(), desc.clone());
    }
    if let Some(params) = function.get("parameters").filter(|p| p.is_object()) {
        let cleaned = clean_schema(params);
        // Gemini rejects an OBJECT schema without properties: a function without
        // arguments is declared without `parameters`.
        let empty_object = cleaned.get("type").and_then(Value::as_str) == Some("object")
            && cleaned
                .get("properties")
                .and_then(Value::as_object)
                .is_none_or(Map::is_empty);
        if !empty_object {
            decl.insert("parameters".into(), cleaned);
        }
    }
    Ok(Value::Object(decl))
}

/// OpenAI `tools` (and legacy `functions`) as Gemini `tools`: the functions in one
/// `function_declarations` entry; other entries (`{"googleSearch": {}}`, ...) kept as given.
fn gemini_tools(tools: Option<&Value>, functions: Option<&Value>) -> Result<Vec<Value>, LlmError> {
    let mut declarations = Vec::new();
    let mut others = Vec::new();
    for tool in tools.and_then(Value::as_array).into_iter().flatten() {
        match tool.get("function") {
            Some(function) => declarations.push(declaration(function)?),
            None => others.push(tool.clone()),
        }
    }
    for function in functions.and_then(Value::as_array).into_iter().flatten() {
        declarations.push(declaration(function)?);
    }
    let mut out = Vec::with_capacity(1 + others.len());
    if !declarations.is_empty() {
        out.push(json!({"function_declarations": declarations}));
    }
    out.extend(others);
    Ok(out)
}

/// `tool_choice` (or legacy `function_call`) as `toolConfig` (§4).
fn tool_config(choice: &Value) -> Result<Option<Value>, LlmError> {
    let (mode, names) = match choice {
        Value::String(s) => match s.as_str() {
            "auto" => ("AUTO", None),
            "none" => ("NONE", None),
            "required" | "any" => ("ANY", None),
            other => {
                return Err(bad(format!(
                    "tool_choice must be \"auto\", \"none\", \"required\" or {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}, got {other:?}"
                )))
            }
        },
        Value::Object(o) => {
            let name = o
                .get("function")
                .and_then(|f| f.get("name"))
                .or_else(|| o.get("name"))
                .and_then(Value::as_str)
                .ok_or_else(|| bad("tool_choice as a dict needs function.name"))?;
            ("ANY", Some(vec![name.to_string()]))
        }
        Value::Null => return Ok(None),
        _ => return Err(bad("tool_choice must be a string or a dict")),
    };
    let mut config = json!({"mode": mode});
    if let Some(names) = names {
        config["allowed_function_names"] = json!(names);
    }
    Ok(Some(json!({"functionCallingConfig": config})))
}

/// `reasoning_effort` as a thinking budget (LiteLLM's figures).
fn thinking_from_effort(effort: &str) -> Result<Value, LlmError> {
    let budget = match effort {
        "none" | "disable" => return Ok(json!({"thinkingBudget": 0})),
        "minimal" => 128,
        "low" => 1024,
        "medium" => 2048,
        "high" => 4096,
        other => {
            return Err(bad(format!(
                "reasoning_effort must be one of none, minimal, low, medium, high; got {other:?}"
            )))
        }
    };
    Ok(json!({"thinkingBudget": budget, "includeThoughts": true}))
}

/// The generateContent body for an OpenAI chat body (`model` already in the URL).
pub fn build_body(
    ctx: &ChatContext<'_>,
    mut body: Map<String, Value>,
) -> Result<Map<String, Value>, LlmError> {
    check_params(ctx, &mut body, SUPPORTED_PARAMS)?;
    body.remove("model");
    body.remove("stream");
    body.remove("stream_options");
    // Gemini has no switch for parallel calls; LiteLLM accepts and ignores it.
    body.remove("parallel_tool_calls");
    let messages = match body.remove("messages") {
        Some(Value::Array(m)) => m,
        _ => Vec::new(),
    };
    let (system, contents) = contents_from_messages(&messages)?;

    let mut out = Map::new();
    out.insert("contents".into(), Value::Array(contents));
    if let Some(system) = system {
        out.insert("system_instruction".into(), system);
    }
    let mut tools = gemini_tools(body.get("tools"), body.get("functions"))?;
    if body.remove("web_search_options").is_some() {
        tools.push(json!({"googleSearch": {}}));
    }
    body.remove("tools");
    body.remove("functions");
    if !tools.is_empty() {
        out.insert("tools".into(), Value::Array(tools));
    }
    let choice = body.remove("tool_choice");
    let function_call = body.remove("function_call");
    if let Some(choice) = choice.or(function_call) {
        if let Some(config) = tool_config(&choice)? {
            out.insert("toolConfig".into(), config);
        }
    }

    let mut config = Map::new();
    let mut put = |k: &str, v: Value| {
        config.insert(k.to_string(), v);
    };
    if let Some(v) = body.remove("temperature") {
        put("temperature", v);
    }
    if let Some(v) = body.remove("top_p") {
        put("topP", v);
    }
    let max_completion = body.remove("max_completion_tokens");
    if let Some(v) = body.remove("max_tokens").or(max_completion) {
        put("maxOutputTokens", v);
    }
    match body.remove("stop") {
        Some(Value::String(s)) => put("stopSequences", json!([s])),
        Some(v @ Value::Array(_)) => put("stopSequences", v),
        _ => {}
    }
    if let Some(v) = body.remove("n") {
        put("candidateCount", v);
    }
    if let Some(v) = body.remove("seed") {
        put("seed", v);
    }
    if let Some(v) = body.remove("presence_penalty") {
        put("presencePenalty", v);
    }
    if let Some(v) = body.remove("frequency_penalty") {
        put("frequencyPenalty", v);
    }
    if let Some(v) = body.remove("logprobs") {
        put("responseLogprobs", v);
    }
    if let Some(v) = body.remove("top_logprobs") {
        put("logprobs", v);
    }
    if let Some(Value::Array(modalities)) = body.remove("modalities") {
        let upper: Vec<Value> = modalities
            .iter()
            .filter_map(Value::as_str)
            .map(|m| Value::String(m.to_uppercase()))
            .collect();
        put("responseModalities", Value::Array(upper));
    }
    if let Some(format) = body.remove("response_format") {
        match format.get("type").and_then(Value::as_str) {
            Some("json_object") => put("responseMimeType", json!("application/json")),
            Some("json_schema") => {
                put("responseMimeType", json!("application/json"));
                if let Some(schema) = format
                    .get("json_schema")
                    .and_then(|s| s.get("schema"))
                    .filter(|s| s.is_object())
                {
                    put("responseSchema", clean_schema(schema));
                }
            }
            Some("text") | None => {}
            Some(other) => {
                return Err(bad(format!(
                "response_format type {other:?} is not supported (text, json_object, json_schema)"
            )))
            }
        }
    }
    if let Some(effort) = body.remove("reasoning_effort") {
        if let Some(effort) = effort.as_str() {
            put("thinkingConfig", thinking_from_effort(effort)?);
        }
    }
    if let Some(thinking) = body.remove("thinking") {
        let budget = thinking.get("budget_tokens").cloned();
        match thinking.get("type").and_then(Value::as_str) {
            Some("disabled") => put("thinkingConfig", json!({"thinkingBudget": 0})),
            _ => {
                let mut t = json!({"includeThoughts": true});
                if let Some(b) = budget {
                    t["thinkingBudget"] = b;
                }
                put("thinkingConfig", t);
            }
        }
    }
    // Provider-specific keywords: generationConfig fields there, the rest (safety_settings,
    // cached_content, labels, ...) at the top level as given.
    for (key, value) in body {
        let name = camel(&key);
        if GENERATION_CONFIG_FIELDS.contains(&name.as_str()) {
            config.insert(name, value);
        } else {
            out.insert(key, value);
        }
    }
    if !config.is_empty() {
        out.insert("generationConfig".into(), Value::Object(config));
    }
    Ok(out)
}

/// A finish reason in OpenAI's vocabulary. Unknown Gemini reasons (`OTHER`,
/// `LANGUAGE`, ...) end the reply normally.
fn finish_reason(reason: &str, has_tool_calls: bool) -> &'static str {
    match reason {
        "MAX_TOKENS" => "length",
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            "content_filter"
        }
        _ if has_tool_calls => "tool_calls",
        _ => "stop",
    }
}

/// `usageMetadata` as OpenAI usage. Thought tokens count as completion tokens (they are
/// billed as output) and are reported again as reasoning tokens.
pub fn usage_from_metadata(meta: &Value) -> Value {
    let n = |k: &str| meta.get(k).and_then(Value::as_u64).unwrap_or(0);
    let prompt = n("promptTokenCount");
    let thoughts = n("thoughtsTokenCount");
    let completion = n("candidatesTokenCount") + thoughts;
    let total = meta
        .get("totalTokenCount")
        .and_then(Value::as_u64)
        .unwrap_or(prompt + completion);
    let mut usage = json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": total,
    });
    if let Some(cached) = meta.get("cachedContentTokenCount").and_then(Value::as_u64) {
        usage["prompt_tokens_details"] = json!({"cached_tokens": cached});
    }
    if meta.get("thoughtsTokenCount").is_some() {
        usage["completion_tokens_details"] = json!({"reasoning_tokens": thoughts});
    }
    usage
}

/// Python's `json.dumps(value, ensure_ascii=False)`: `", "` and `": "` separators.
/// LiteLLM writes tool-call `arguments` from a parsed `args` object this way, so users
/// comparing argument strings see the same text.
pub fn python_dumps(value: &Value) -> String {
    struct PythonStyle;
    impl serde_json::ser::Formatter for PythonStyle {
        fn begin_array_value<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            if first {
                Ok(())
            } else {
                writer.write_all(b", ")
            }
        }
        fn begin_object_key<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            if first {
                Ok(())
            } else {
                writer.write_all(b", ")
            }
        }
        fn begin_object_value<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
        ) -> std::io::Result<()> {
            writer.write_all(b": ")
        }
    }
    let mut out = Vec::with_capacity(64);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonStyle);
    match serde::Serialize::serialize(value, &mut ser) {
        Ok(()) => String::from_utf8(out).unwrap_or_else(|_| value.to_string()),
        Err(_) => value.to_string(),
    }
}

/// The pieces of one candidate's content.
#[derive(Default)]
struct CandidateParts {
    text: Option<String>,
    reasoning: Option<String>,
    calls: Vec<(String, String)>,
}

fn candidate_parts(candidate: &Value) -> CandidateParts {
    let mut out = CandidateParts::default();
    let parts = candidate
        .pointer("/content/parts")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for part in parts {
        if let Some(text) = part.get("text").and_then(Value::as_str) {
            let slot = if part.get("thought").and_then(Value::as_bool) == Some(true) {
                &mut out.reasoning
            } else {
                &mut out.text
            };
            slot.get_or_insert_with(String::new).push_str(text);
        }
        let call = part
            .get("functionCall")
            .or_else(|| part.get("function_call"));
        if let Some(call) = call {
            let name = call.get("name").and_then(Value::as_str).unwrap_or_default();
            let args = call.get("args").cloned().unwrap_or_else(|| json!({}));
            out.calls.push((name.to_string(), python_dumps(&args)));
        }
    }
    out
}

fn exception_name(ctx_provider: &str) -> String {
    provider_exception_name(ctx_provider)
}

/// A prompt blocked before any candidate was produced.
fn blocked(provider: &str, model: &str, feedback: &Value) -> Option<LlmError> {
    let reason = feedback.get("blockReason").and_then(Value::as_str)?;
    let mut err = LlmError::new(
        ErrorKind::ContentPolicyViolation,
        format!(
            "ContentPolicyViolationError: {} - The prompt was blocked by Google's safety filters (promptFeedback.blockReason={reason}). {}",
            exception_name(provider),
            feedback
        ),
    );
    err.provider = provider.to_string();
    err.model = model.to_string();
    err.body = Some(json!({"promptFeedback": feedback}));
    Some(err)
}

/// An error object inside a 200 reply or a stream event.
fn embedded_error(provider: &str, model: &str, body: &Value) -> Option<LlmError> {
    let error = body.get("error").filter(|e| e.is_object())?;
    let status = error
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| *c >= 400)
        .unwrap_or(500);
    Some(map_error(
        provider,
        model,
        status,
        &body.to_string(),
        Some(body.clone()),
        Vec::new(),
    ))
}

/// A generateContent reply as an OpenAI `chat.completion`.
pub fn parse_reply(
    ctx: &ChatContext<'_>,
    body: Map<String, Value>,
) -> Result<Map<String, Value>, LlmError> {
    let body = Value::Object(body);
    if let Some(err) = embedded_error(ctx.provider, ctx.requested_model, &body) {
        return Err(err);
    }
    let candidates = body
        .get("candidates")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if candidates.is_empty() {
        // Google sends no candidates when it blocked the prompt, and says why.
        if let Some(err) = body
            .get("promptFeedback")
            .and_then(|f| blocked(ctx.provider, ctx.requested_model, f))
        {
            return Err(err);
        }
        // Otherwise a reply without candidates (`{}`, another provider's shape) is no
        // reply at all.
        let what = if body.get("candidates").is_some_and(Value::is_array) {
            "an empty 'candidates' list and no promptFeedback.blockReason"
        } else {
            "no 'candidates' list"
        };
        return Err(super::malformed_reply(ctx, what, &body));
    }
    let mut choices = Vec::with_capacity(candidates.len().max(1));
    for (i, candidate) in candidates.iter().enumerate() {
        let parts = candidate_parts(candidate);
        let mut message = Map::new();
        message.insert(
            "content".into(),
            parts.text.map(Value::String).unwrap_or(Value::Null),
        );
        message.insert("role".into(), json!("assistant"));
        if !parts.calls.is_empty() {
            let calls: Vec<Value> = parts
                .calls
                .iter()
                .map(|(name, args)| {
                    json!({"id": new_tool_call_id(), "type": "function",
                           "function": {"name": name, "arguments": args}})
                })
                .collect();
            message.insert("tool_calls".into(), Value::Array(calls));
        }
        if let Some(reasoning) = parts.reasoning {
            message.insert("reasoning_content".into(), Value::String(reasoning));
        }
        let reason = candidate
            .get("finishReason")
            .and_then(Value::as_str)
            .unwrap_or("STOP");
        let index = candidate
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(i as u64);
        choices.push(json!({
            "finish_reason": finish_reason(reason, !parts.calls.is_empty()),
            "index": index,
            "message": message,
        }));
    }
    let usage = body
        .get("usageMetadata")
        .map(usage_from_metadata)
        .unwrap_or_else(|| json!({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}));
    let mut out = Map::new();
    out.insert(
        "id".into(),
        Value::String(format!("chatcmpl-{}", uuid::Uuid::new_v4())),
    );
    out.insert("created".into(), json!(unix_now()));
    out.insert("model".into(), json!(ctx.model));
    out.insert("object".into(), json!("chat.completion"));
    out.insert("system_fingerprint".into(), Value::Null);
    out.insert("choices".into(), Value::Array(choices));
    out.insert("usage".into(), usage);
    Ok(out)
}

/// Gemini's stream: every SSE event is a whole `GenerateContentResponse` holding the next
/// piece of each candidate. Function calls arrive whole (never as argument fragments);
/// `usageMetadata` is cumulative, so the one on the finishing event is the total.
pub struct GeminiStreamDecoder {
    provider: String,
    model: String,
    requested_model: String,
    id: String,
    created: u64,
    include_usage: bool,
    /// Tool calls seen so far, per candidate: the next index, and whether any.
    tool_calls: HashMap<u64, usize>,
    usage_sent: bool,
    /// `id` and `model` shared by the typed text chunks.
    shared: (Arc<str>, Arc<str>),
    /// Redacted from quoted events.
    api_key: Option<String>,
}

/// The event nearly every Gemini stream is made of: one candidate with text parts and no
/// finish reason. Only the fields the general path reads are looked at; any that would
/// change its answer (an error, a finish reason, thoughts, function calls) sends the
/// event down that path instead.
#[derive(serde::Deserialize)]
struct TextEvent<'a> {
    #[serde(borrow)]
    candidates: [TextCandidate<'a>; 1],
    error: Option<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize)]
struct TextCandidate<'a> {
    index: Option<u64>,
    #[serde(borrow)]
    content: TextContent<'a>,
    #[serde(rename = "finishReason")]
    finish_reason: Option<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize)]
struct TextContent<'a> {
    #[serde(borrow)]
    parts: Vec<TextPart<'a>>,
}

#[derive(serde::Deserialize)]
struct TextPart<'a> {
    #[serde(borrow)]
    text: Option<std::borrow::Cow<'a, str>>,
    thought: Option<serde::de::IgnoredAny>,
    #[serde(rename = "functionCall")]
    function_call: Option<serde::de::IgnoredAny>,
    #[serde(rename = "function_call")]
    function_call_snake: Option<serde::de::IgnoredAny>,
}

impl GeminiStreamDecoder {
    /// The typed chunk for a plain text event, or `None` for anything else.
    fn text_chunk(&self, data: &str) -> Option<SimpleChunk> {
        let ev: TextEvent<'_> = serde_json::from_str(data).ok()?;
        let [candidate] = ev.candidates;
        if ev.error.is_some() || candidate.finish_reason.is_some() {
            return None;
        }
        let mut text: Option<String> = None;
        for part in candidate.content.parts {
            if part.thought.is_some()
                || part.function_call.is_some()
                || part.function_call_snake.is_some()
            {
                return None;
            }
            if let Some(t) = part.text {
                match &mut text {
                    Some(s) => s.push_str(&t),
                    None => text = Some(t.into_owned()),
                }
            }
        }
        let mut chunk = SimpleChunk::text(
            self.shared.0.clone(),
            self.created as i64,
            Some(self.shared.1.clone()),
            String::new(),
        );
        chunk.content = text;
        chunk.index = i64::try_from(candidate.index.unwrap_or(0)).ok()?;
        Some(chunk)
    }

    pub fn new(ctx: &ChatContext<'_>) -> Self {
        let id = format!("chatcmpl-{}", uuid::Uuid::new_v4());
        GeminiStreamDecoder {
            provider: ctx.provider.to_string(),
            model: ctx.model.to_string(),
            requested_model: ctx.requested_model.to_string(),
            id: id.clone(),
            created: unix_now(),
            include_usage: ctx.options.include_usage,
            tool_calls: HashMap::new(),
            usage_sent: false,
            shared: (Arc::from(id.as_str()), Arc::from(ctx.model)),
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

impl StreamDecoder for GeminiStreamDecoder {
    fn decode(&mut self, ev: &SseEvent) -> Result<Decoded, LlmError> {
        let data = ev.data.trim();
        if data.is_empty() || data == "[DONE]" {
            return Ok(Decoded::Chunks(Vec::new()));
        }
        if let Some(chunk) = self.text_chunk(data) {
            return Ok(Decoded::Simple(chunk));
        }
        let malformed = |what: &str| {
            LlmError::malformed_event(
                &self.provider,
                &self.requested_model,
                what,
                data,
                self.api_key.as_deref(),
            )
        };
        let event: Value =
            serde_json::from_str(data).map_err(|e| malformed(&format!("not JSON ({e})")))?;
        if !event.is_object() {
            return Err(malformed("not a JSON object"));
        }
        if let Some(err) = embedded_error(&self.provider, &self.requested_model, &event) {
            return Err(err);
        }
        let candidates = event
            .get("candidates")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if candidates.is_empty() {
            if let Some(err) = event
                .get("promptFeedback")
                .and_then(|f| blocked(&self.provider, &self.requested_model, f))
            {
                return Err(err);
            }
            // Events without candidates are legitimate when they carry only usage (the
            // last one may) or prompt feedback; anything else is not a Gemini event.
            let legitimate = event.get("candidates").is_some_and(Value::is_array)
                || event.get("usageMetadata").is_some_and(Value::is_object)
                || event.get("promptFeedback").is_some_and(Value::is_object);
            if !legitimate {
                return Err(malformed("no 'candidates' list"));
            }
        }
        let mut choices = Vec::with_capacity(candidates.len());
        let mut finished = false;
        for (i, candidate) in candidates.iter().enumerate() {
            let index = candidate
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(i as u64);
            let parts = candidate_parts(candidate);
            let mut delta = Map::new();
            if let Some(text) = parts.text {
                delta.insert("content".into(), Value::String(text));
            }
            if let Some(reasoning) = parts.reasoning {
                delta.insert("reasoning_content".into(), Value::String(reasoning));
            }
            if !parts.calls.is_empty() {
                let next = self.tool_calls.entry(index).or_insert(0);
                let calls: Vec<Value> = parts
                    .calls
                    .iter()
                    .map(|(name, args)| {
                        let call = json!({"index": *next, "id": new_tool_call_id(), "type": "function",
                                          "function": {"name": name, "arguments": args}});
                        *next += 1;
                        call
                    })
                    .collect();
                delta.insert("tool_calls".into(), Value::Array(calls));
            }
            let reason = candidate
                .get("finishReason")
                .and_then(Value::as_str)
                .map(|r| finish_reason(r, self.tool_calls.get(&index).is_some_and(|n| *n > 0)));
            finished |= reason.is_some();
            choices.push(json!({"index": index, "delta": delta, "finish_reason": reason}));
        }
        let mut out = Vec::with_capacity(2);
        if !choices.is_empty() {
            out.push(self.chunk(Value::Array(choices)));
        }
        if finished && self.include_usage && !self.usage_sent {
            if let Some(meta) = event.get("usageMetadata") {
                let mut usage = self.chunk(json!([]));
                usage.insert("usage".into(), usage_from_metadata(meta));
                out.push(usage);
                self.usage_sent = true;
            }
        }
        Ok(Decoded::Chunks(out))
    }
}

/// Google's error body `{"error": {"code", "message", "status"}}` mapped as LiteLLM maps
/// it, plus the cases whose status says less than the text: an invalid API key (sent as
/// 400), a quota (`RESOURCE_EXHAUSTED`) and an over-long prompt.
pub fn map_error(
    provider: &str,
    model: &str,
    status: u16,
    raw: &str,
    json: Option<Value>,
    headers: Vec<(String, String)>,
) -> LlmError {
    let google_status = json
        .as_ref()
        .and_then(|j| j.pointer("/error/status"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let text = crate::error::error_text(json.as_ref(), raw).to_lowercase();
    let effective = if text.contains("api key not valid")
        || text.contains("api_key_invalid")
        || google_status == "UNAUTHENTICATED"
    {
        401
    } else if google_status == "RESOURCE_EXHAUSTED" {
        429
    } else {
        status
    };
    let mut err = map_http_error(effective, provider, model, raw, json, headers);
    let too_long = (text.contains("input token count") && text.contains("exceeds"))
        || text.contains("exceeds the maximum number of tokens");
    if too_long && err.kind == ErrorKind::BadRequest {
        let exc = exception_name(provider);
        if let Some(at) = err.message.find(&exc) {
            err.message = format!("ContextWindowExceededError: {}", &err.message[at..]);
        }
        err.kind = ErrorKind::ContextWindowExceeded;
        err.status = 400;
    }
    err
}

/// Google AI Studio: `POST {base}/models/{model}:generateContent` (or
/// `:streamGenerateContent?alt=sse`) with the key in `x-goog-api-key`, never in the URL.
pub struct GeminiAdapter;

impl Adapter for GeminiAdapter {
    fn build_request(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
    ) -> Result<HttpRequest, LlmError> {
        let base = ctx.endpoint.base.trim_end_matches('/');
        let model = ctx.model.strip_prefix("models/").unwrap_or(ctx.model);
        let (url, body) = if ctx.kind == Endpointkind::ImageGeneration {
            (
                format!("{base}/models/{model}:predict"),
                super::imagen::body(ctx, body)?,
            )
        } else if ctx.stream {
            (
                format!("{base}/models/{model}:streamGenerateContent?alt=sse"),
                build_body(ctx, body)?,
            )
        } else {
            (
                format!("{base}/models/{model}:generateContent"),
                build_body(ctx, body)?,
            )
        };
        let mut headers = Vec::with_capacity(1);
        if let Some(key) = ctx.endpoint.key.as_deref().filter(|k| !k.is_empty()) {
            headers.push(("x-goog-api-key".to_string(), key.to_string()));
        }
        Ok(HttpRequest { url, headers, body })
    }

    fn parse_response(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
        _headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError> {
        if ctx.kind == Endpointkind::ImageGeneration {
            return super::imagen::reply(ctx, body);
        }
        parse_reply(ctx, body)
    }

    fn stream_decoder(&self, ctx: &ChatContext<'_>) -> Box<dyn StreamDecoder> {
        Box::new(GeminiStreamDecoder::new(ctx))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::Endpoint;
    use crate::providers::Endpointkind;
    use crate::test_support::{assert_malformed, foreign_replies, no_env, obj, with_chat_ctx};
    use crate::types::CallOptions;

    fn with_ctx<T>(stream: bool, options: CallOptions, f: impl FnOnce(&ChatContext<'_>) -> T) -> T {
        let endpoint = Endpoint {
            base: "https://g.example/v1beta/".into(),
            key: Some("gk".into()),
        };
        let ctx = ChatContext {
            kind: Endpointkind::Chat,
            provider: "gemini",
            model: "gemini-2.0-flash",
            requested_model: "gemini/gemini-2.0-flash",
            endpoint: &endpoint,
            options: &options,
            stream,
            env: &no_env,
        };
        f(&ctx)
    }

    fn build(body: Value) -> Result<HttpRequest, LlmError> {
        with_ctx(false, CallOptions::default(), |ctx| {
            GeminiAdapter.build_request(ctx, obj(body))
        })
    }

    #[test]
    fn request_url_key_and_body() {
        let req = build(json!({
            "model": "gemini-2.0-flash",
            "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}],
            "max_completion_tokens": 9, "stop": ["a", "b"], "n": 2, "top_k": 3,
            "safety_settings": [{"category": "X", "threshold": "BLOCK_NONE"}],
        }))
        .unwrap();
        assert_eq!(
            req.url,
            "https://g.example/v1beta/models/gemini-2.0-flash:generateContent"
        );
        assert_eq!(
            req.headers,
            vec![("x-goog-api-key".to_string(), "gk".to_string())]
        );
        assert_eq!(
            Value::Object(req.body),
            json!({
                "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                "system_instruction": {"parts": [{"text": "s"}]},
                "safety_settings": [{"category": "X", "threshold": "BLOCK_NONE"}],
                "generationConfig": {"maxOutputTokens": 9, "stopSequences": ["a", "b"], "candidateCount": 2, "topK": 3},
            })
        );
        let streamed = with_ctx(true, CallOptions::default(), |ctx| {
            GeminiAdapter.build_request(ctx, obj(json!({"messages": []})))
        })
        .unwrap();
        assert!(streamed.url.ends_with(":streamGenerateContent?alt=sse"));
    }

    #[test]
    fn history_with_tool_calls_and_results() {
        let (_, contents) = contents_from_messages(&[
            json!({"role": "user", "content": "w?"}),
            json!({"role": "assistant", "content": "checking", "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "w", "arguments": "{\"c\": \"P\"}"}},
                {"id": "call_b", "type": "function", "function": {"name": "t", "arguments": ""}}]}),
            json!({"role": "tool", "tool_call_id": "call_a", "content": "sun"}),
            json!({"role": "tool", "tool_call_id": "call_b", "content": [{"type": "text", "text": "12:00"}]}),
        ])
        .unwrap();
        assert_eq!(
            Value::Array(contents),
            json!([
                {"role": "user", "parts": [{"text": "w?"}]},
                {"role": "model", "parts": [{"text": "checking"},
                    {"function_call": {"name": "w", "args": {"c": "P"}}},
                    {"function_call": {"name": "t", "args": {}}}]},
                {"role": "user", "parts": [
                    {"function_response": {"name": "w", "response": {"content": "sun"}}},
                    {"function_response": {"name": "t", "response": {"content": "12:00"}}}]},
            ])
        );
        let bad_args = contents_from_messages(&[json!({"role": "assistant", "tool_calls": [
            {"id": "x", "function": {"name": "w", "arguments": "{not json"}}]})]);
        assert!(bad_args.is_err());
    }

    #[test]
    fn schemas_lose_what_gemini_rejects() {
        let schema = json!({
            "$schema": "x", "type": "object", "additionalProperties": false,
            "properties": {
                "kind": {"const": "a"},
                "when": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
                "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
            },
            "$defs": {"Item": {"type": "object", "title": "Item", "properties": {"n": {"type": "integer"}}, "additionalProperties": false}},
        });
        assert_eq!(
            clean_schema(&schema),
            json!({"type": "object", "properties": {
                "kind": {"enum": ["a"]},
                "when": {"nullable": true, "type": "string", "format": "date-time"},
                "items": {"type": "array", "items": {"type": "object", "title": "Item", "properties": {"n": {"type": "integer"}}}},
            }})
        );
        // A self-referencing model stops instead of recursing forever.
        let looped = json!({"$ref": "#/$defs/N", "$defs": {"N": {"type": "object", "properties": {"next": {"$ref": "#/$defs/N"}}}}});
        assert!(clean_schema(&looped).is_object());
    }

    #[test]
    fn unsupported_params_are_named_or_dropped() {
        let err = build(json!({"messages": [], "logit_bias": {}, "user": "u"}))
            .err()
            .unwrap();
        assert_eq!(err.kind, ErrorKind::UnsupportedParams);
        assert!(err
            .message
            .starts_with("gemini does not support parameters: ['logit_bias', 'user'], for model=gemini-2.0-flash."));
        let options = CallOptions {
            drop_params: true,
            ..CallOptions::default()
        };
        let req = with_ctx(false, options, |ctx| {
            GeminiAdapter.build_request(ctx, obj(json!({"messages": [], "user": "u"})))
        })
        .unwrap();
        assert_eq!(Value::Object(req.body), json!({"contents": []}));
    }

    #[test]
    fn reply_with_thoughts_tools_and_usage() {
        let reply = with_ctx(false, CallOptions::default(), |ctx| {
            parse_reply(
                ctx,
                obj(json!({
                    "candidates": [{"content": {"role": "model", "parts": [
                        {"text": "plan", "thought": true}, {"text": "Hi "}, {"text": "there"},
                        {"functionCall": {"name": "f", "args": {"a": 1}}}]},
                        "finishReason": "STOP", "index": 0}],
                    "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 3,
                        "thoughtsTokenCount": 2, "cachedContentTokenCount": 1, "totalTokenCount": 9},
                })),
            )
        })
        .unwrap();
        let choice = &reply["choices"][0];
        assert_eq!(choice["finish_reason"], json!("tool_calls"));
        assert_eq!(choice["message"]["content"], json!("Hi there"));
        assert_eq!(choice["message"]["reasoning_content"], json!("plan"));
        let call = &choice["message"]["tool_calls"][0];
        assert_eq!(
            call["function"],
            json!({"name": "f", "arguments": "{\"a\": 1}"})
        );
        let id = call["id"].as_str().unwrap_or_default();
        assert!(id.starts_with("call_") && id.len() == 37);
        assert_eq!(
            reply["usage"],
            json!({"prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9,
                   "prompt_tokens_details": {"cached_tokens": 1},
                   "completion_tokens_details": {"reasoning_tokens": 2}})
        );
        assert_eq!(reply["model"], json!("gemini-2.0-flash"));
    }

    #[test]
    fn finish_reasons_and_blocked_prompts() {
        assert_eq!(finish_reason("MAX_TOKENS", true), "length");
        assert_eq!(finish_reason("SAFETY", false), "content_filter");
        assert_eq!(finish_reason("RECITATION", false), "content_filter");
        assert_eq!(finish_reason("OTHER", false), "stop");
        let err = with_ctx(false, CallOptions::default(), |ctx| {
            parse_reply(
                ctx,
                obj(json!({"promptFeedback": {"blockReason": "SAFETY"}})),
            )
        })
        .err()
        .unwrap();
        assert_eq!(
            (err.kind, err.status),
            (ErrorKind::ContentPolicyViolation, 400)
        );
        assert!(err.message.contains("GeminiException") && err.message.contains("SAFETY"));
    }

    #[test]
    fn replies_without_candidates_are_errors() {
        for provider in ["gemini", "vertex_ai"] {
            let parse = |body: Map<String, Value>| {
                with_chat_ctx(Endpointkind::Chat, provider, "gemini-x", false, |ctx| {
                    GeminiAdapter.parse_response(ctx, body, &[])
                })
            };
            let exc = if provider == "gemini" {
                "GeminiException"
            } else {
                "Vertex_aiException"
            };
            for body in foreign_replies(&["gemini"]) {
                assert_malformed(
                    parse(body).err(),
                    &format!("{exc} - Invalid response from the provider: no 'candidates' list. Received: {{"),
                );
            }
            // Candidates present but none, and no block reason: still no reply.
            let empty = obj(json!({"candidates": [], "usageMetadata": {"promptTokenCount": 3}}));
            assert_malformed(
                parse(empty).err(),
                "an empty 'candidates' list and no promptFeedback.blockReason",
            );
            // A blocked prompt stays a content-policy error.
            let blocked = parse(obj(
                json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}),
            ));
            assert_eq!(
                blocked.err().map(|e| e.kind),
                Some(ErrorKind::ContentPolicyViolation)
            );
            let ok = parse(obj(
                json!({"candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP"}]}),
            ));
            assert_eq!(
                ok.ok()
                    .map(|r| r["choices"][0]["message"]["content"].clone()),
                Some(json!("hi"))
            );
        }
    }

    #[test]
    fn stream_events_without_candidates_are_errors() {
        let decoder = || with_ctx(true, CallOptions::default(), GeminiStreamDecoder::new);
        for data in [
            json!({}),
            json!({"foo": 1}),
            json!([1]),
            json!("text"),
            json!({"id": "x", "choices": [{"index": 0, "delta": {"content": "hi"}}]}),
        ] {
            let err = decoder().decode(&event(data.clone())).err();
            let err = err.unwrap_or_else(|| panic!("{data} was accepted"));
            assert_eq!((err.kind, err.status), (ErrorKind::Api, 500), "{data}");
            assert!(
                err.message
                    .starts_with("APIError: GeminiException - Invalid chunk in the stream: "),
                "{}",
                err.message
            );
        }
        // Legitimate without candidates: usage alone, prompt feedback alone.
        for data in [
            json!({"usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 3}}),
            json!({"promptFeedback": {"safetyRatings": []}}),
            json!({"candidates": []}),
        ] {
            assert!(decoder().decode(&event(data.clone())).is_ok(), "{data}");
        }
    }

    fn event(data: Value) -> SseEvent {
        SseEvent {
            event: None,
            data: data.to_string(),
        }
    }

    #[test]
    fn plain_text_events_take_the_typed_path() {
        let mut d = with_ctx(true, CallOptions::default(), GeminiStreamDecoder::new);
        let text = d.decode(&event(json!({"candidates": [{"content": {"parts": [{"text": "a\n"}, {"text": "b"}],
            "role": "model"}, "index": 0, "safetyRatings": []}], "usageMetadata": {"promptTokenCount": 2},
            "modelVersion": "gemini-x", "responseId": "r1"})));
        let Ok(Decoded::Simple(c)) = text else {
            panic!("not typed: {text:?}");
        };
        assert_eq!(c.content.as_deref(), Some("a\nb"));
        // Thoughts, function calls and finish reasons take the general path.
        for candidate in [
            json!({"content": {"parts": [{"text": "hm", "thought": true}]}}),
            json!({"content": {"parts": [{"functionCall": {"name": "f", "args": {}}}]}}),
            json!({"content": {"parts": [{"text": "x"}]}, "finishReason": "STOP"}),
        ] {
            let r = d.decode(&event(json!({"candidates": [candidate]})));
            assert!(matches!(r, Ok(Decoded::Chunks(_))), "{r:?}");
        }
    }

    #[test]
    fn stream_events_become_chunks() {
        let options = CallOptions {
            include_usage: true,
            ..CallOptions::default()
        };
        let mut d = with_ctx(true, options, GeminiStreamDecoder::new);
        let chunks = |r: Result<Decoded, LlmError>| match r {
            Ok(Decoded::Chunks(c)) => c,
            Ok(Decoded::Simple(c)) => vec![c.to_map()],
            _ => Vec::new(),
        };
        let first = chunks(d.decode(&event(
            json!({"candidates": [{"content": {"parts": [{"text": "Hel"}]}, "index": 0}]}),
        )));
        assert_eq!(first[0]["choices"][0]["delta"], json!({"content": "Hel"}));
        assert_eq!(first[0]["choices"][0]["finish_reason"], Value::Null);
        let last = chunks(d.decode(&event(json!({
            "candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": {}}}]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 2, "candidatesTokenCount": 1, "totalTokenCount": 3}}))));
        assert_eq!(last.len(), 2);
        let delta = &last[0]["choices"][0]["delta"];
        assert_eq!(delta["tool_calls"][0]["index"], json!(0));
        assert_eq!(delta["tool_calls"][0]["function"]["arguments"], json!("{}"));
        assert_eq!(last[0]["choices"][0]["finish_reason"], json!("tool_calls"));
        assert_eq!(last[1]["usage"]["total_tokens"], json!(3));
        assert_eq!(last[0]["id"], first[0]["id"]);
        let err = d
            .decode(&event(json!({"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}})))
            .err()
            .unwrap();
        assert_eq!(err.kind, ErrorKind::RateLimit);
        assert!(d
            .decode(&SseEvent {
                event: None,
                data: "{oops".into()
            })
            .is_err());
    }

    #[test]
    fn google_error_bodies() {
        let map = |status: u16, body: Value| {
            map_error(
                "gemini",
                "gemini/m",
                status,
                &body.to_string(),
                Some(body),
                Vec::new(),
            )
        };
        let e = map(
            400,
            json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT"}}),
        );
        assert_eq!((e.kind, e.status), (ErrorKind::Authentication, 401));
        let e = map(
            400,
            json!({"error": {"code": 400, "message": "The input token count (9000) exceeds the maximum number of tokens allowed (8192).", "status": "INVALID_ARGUMENT"}}),
        );
        assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);
        assert!(e
            .message
            .starts_with("ContextWindowExceededError: GeminiException - The input token count"));
        let e = map(
            503,
            json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}),
        );
        assert_eq!(e.kind, ErrorKind::ServiceUnavailable);
        let e = map(
            404,
            json!({"error": {"code": 404, "message": "models/x is not found", "status": "NOT_FOUND"}}),
        );
        assert_eq!(e.kind, ErrorKind::NotFound);
    }
}
