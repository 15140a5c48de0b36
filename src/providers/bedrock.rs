//! AWS Bedrock's Converse API (`bedrock/`): `POST {endpoint}/model/{modelId}/converse`,
//! or `/converse-stream` for a stream (AWS event-stream frames, `stream/eventstream.rs`).
//!
//! Request: system messages become `system` blocks; user/assistant turns become
//! `messages` with `content` blocks (consecutive turns of one role merged, as the API
//! wants): text, images from data URLs (`image.source.bytes`), `toolUse` for tool calls,
//! `toolResult` for tool messages (in a user turn); sampling parameters go into
//! `inferenceConfig`, tools into `toolConfig`, other keyword arguments (`top_k=`) into
//! `additionalModelRequestFields`. Reply: text blocks joined, `toolUse` blocks as tool
//! calls (their ids kept), `usage` with the cache counts.
//!
//! Auth: `AWS_BEARER_TOKEN_BEDROCK` (or `api_key`) as `Authorization: Bearer`, else SigV4
//! over the final body bytes, signed per attempt in `call.rs::open` through [`sign`].

use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};

use super::{
    check_params, python_json, reclassify, unix_now, Adapter, ChatContext, Decoded, Endpoint,
    Framing, HttpRequest, ProviderSpec, StreamDecoder, WireFormat,
};
use crate::error::{map_http_error, ErrorKind, LlmError};
use crate::providers::Endpointkind;
use crate::stream::eventstream::FRAMING_ERROR;
use crate::stream::sse::SseEvent;
use crate::types::CallOptions;

/// `{region}` is filled in from the resolved region.
const DEFAULT_BASE: &str = "https://bedrock-runtime.{region}.amazonaws.com";

pub const SPEC: ProviderSpec = ProviderSpec {
    name: "bedrock",
    format: WireFormat::Bedrock,
    default_base: Some(DEFAULT_BASE),
    base_env: &["AWS_BEDROCK_RUNTIME_ENDPOINT"],
    key_env: &["AWS_BEARER_TOKEN_BEDROCK"],
    // No bearer token is fine: SigV4 credentials are checked in `build_request`.
    default_key: Some(""),
};

/// The OpenAI parameters Converse takes.
pub const SUPPORTED_PARAMS: &[&str] = &[
    "temperature",
    "top_p",
    "stream",
    "stream_options",
    "stop",
    "max_completion_tokens",
    "max_tokens",
    "tools",
    "tool_choice",
    "response_format",
];

/// Also taken by Claude models, whose extended thinking Converse passes through.
const CLAUDE_PARAMS: &[&str] = &["reasoning_effort", "thinking"];

/// The forced tool that carries `response_format` JSON (LiteLLM's
/// `RESPONSE_FORMAT_TOOL_NAME`); its input comes back as the message content.
pub const JSON_TOOL_NAME: &str = "json_tool_call";

/// Converse request fields passed through as given.
const TOP_LEVEL_FIELDS: &[&str] = &[
    "guardrailConfig",
    "performanceConfig",
    "requestMetadata",
    "promptVariables",
    "additionalModelResponseFieldPaths",
];

/// LiteLLM's default region when none is configured.
const DEFAULT_REGION: &str = "us-west-2";

fn bad(message: impl Into<String>) -> LlmError {
    LlmError::bad_request(message.into())
}

/// How a request is authorised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Bearer(String),
    SigV4(Credentials),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub region: String,
}

fn first_set(
    arg: Option<&String>,
    names: &[&str],
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    arg.filter(|v| !v.is_empty())
        .cloned()
        .or_else(|| names.iter().find_map(|n| env(n).filter(|v| !v.is_empty())))
}

/// The region: `aws_region_name`, else `AWS_REGION_NAME`/`AWS_REGION`/`AWS_DEFAULT_REGION`.
pub fn region(options: &CallOptions, env: &dyn Fn(&str) -> Option<String>) -> String {
    first_set(
        options.aws_region_name.as_ref(),
        &["AWS_REGION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION"],
        env,
    )
    .unwrap_or_else(|| DEFAULT_REGION.to_string())
}

/// The bearer token (`api_key` or `AWS_BEARER_TOKEN_BEDROCK`, already in the endpoint's
/// key) or the SigV4 credentials from the arguments or the environment. Missing ones raise
/// `AuthenticationError` naming what to set.
pub fn auth(
    options: &CallOptions,
    endpoint: &Endpoint,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Auth, LlmError> {
    if let Some(key) = endpoint.key.as_deref().filter(|k| !k.is_empty()) {
        return Ok(Auth::Bearer(key.to_string()));
    }
    credentials(options, env, "bedrock").map(Auth::SigV4)
}

/// The SigV4 credentials and region of a call to an AWS service (`provider` names it in
/// the error): `aws_access_key_id`/`aws_secret_access_key`/`aws_session_token`, else
/// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`. Missing ones raise
/// `AuthenticationError` naming what to set (never a value).
pub fn credentials(
    options: &CallOptions,
    env: &dyn Fn(&str) -> Option<String>,
    provider: &str,
) -> Result<Credentials, LlmError> {
    let access = first_set(
        options.aws_access_key_id.as_ref(),
        &["AWS_ACCESS_KEY_ID"],
        env,
    );
    let secret = first_set(
        options.aws_secret_access_key.as_ref(),
        &["AWS_SECRET_ACCESS_KEY"],
        env,
    );
    let (Some(access_key_id), Some(secret_access_key)) = (access, secret) else {
        let bearer = if provider == "bedrock" {
            ", or set AWS_BEARER_TOKEN_BEDROCK / pass api_key= for a Bedrock API key"
        } else {
            ""
        };
        let mut err = LlmError::new(
            ErrorKind::Authentication,
            format!("AuthenticationError: Missing AWS credentials for {provider}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), or pass aws_access_key_id=/aws_secret_access_key={bearer}."),
        );
        err.provider = provider.into();
        err.status = 401;
        return Err(err);
    };
    Ok(Credentials {
        access_key_id,
        secret_access_key,
        session_token: first_set(
            options.aws_session_token.as_ref(),
            &["AWS_SESSION_TOKEN"],
            env,
        ),
        region: region(options, env),
    })
}

// ---------------------------------------------------------------------------------------
// SigV4

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// HMAC-SHA256 (ring's, already linked through rustls).
fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    ring::hmac::sign(&key, data).as_ref().to_vec()
}

/// RFC 3986 encoding with SigV4's unreserved set; `/` kept when `keep_slash`.
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `YYYYMMDDTHHMMSSZ` for seconds since the epoch.
pub fn amz_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// What to sign: the request line, the headers to sign (any case) and the payload hash.
pub struct SignInput<'a> {
    pub method: &'a str,
    /// The path as sent (already percent-encoded); it is encoded once more, as SigV4
    /// wants for every service but S3.
    pub path: &'a str,
    /// The raw query string (without `?`).
    pub query: &'a str,
    pub headers: &'a [(String, String)],
    pub payload_hash: &'a str,
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub amz_date: &'a str,
}

/// The SigV4 `Authorization` header value for a request.
pub fn authorization(input: &SignInput<'_>) -> String {
    let path = if input.path.is_empty() {
        "/".to_string()
    } else {
        uri_encode(input.path, true)
    };
    let mut query: Vec<(String, String)> = input
        .query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (uri_encode(k, false), uri_encode(v, false))
        })
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(k, v)| {
            let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
            (k.to_lowercase(), v)
        })
        .collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical = format!(
        "{}\n{path}\n{query}\n{canonical_headers}\n{signed}\n{}",
        input.method, input.payload_hash
    );
    let date = &input.amz_date[..input.amz_date.len().min(8)];
    let scope = format!("{date}/{}/{}/aws4_request", input.region, input.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        input.amz_date,
        sha256_hex(canonical.as_bytes())
    );
    let key = [date, input.region, input.service, "aws4_request"]
        .iter()
        .fold(
            format!("AWS4{}", input.secret_access_key).into_bytes(),
            |k, part| hmac(&k, part.as_bytes()),
        );
    let signature = hex(&hmac(&key, to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
        input.access_key_id
    )
}

/// `scheme://host[:port]/path?query` → (host header, path, query).
fn split_url(url: &str) -> (String, String, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (authority, path_query) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    (authority.to_string(), path.to_string(), query.to_string())
}

/// The headers a SigV4-signed POST of `payload` to `url` adds (`x-amz-date`,
/// `x-amz-content-sha256`, `x-amz-security-token`, `authorization`), signed with the
/// `content-type` the request carries. Nothing for a bearer token (already a header).
pub fn sign(
    options: &CallOptions,
    endpoint: &Endpoint,
    url: &str,
    payload: &[u8],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, LlmError> {
    match auth(options, endpoint, env)? {
        Auth::Bearer(_) => Ok(Vec::new()),
        Auth::SigV4(creds) => Ok(sign_with(&creds, "bedrock", url, payload)),
    }
}

/// The SigV4 headers of a POST of `payload` (JSON) to `url` for AWS `service`
/// (`x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token`, `authorization`).
pub fn sign_with(
    creds: &Credentials,
    service: &str,
    url: &str,
    payload: &[u8],
) -> Vec<(String, String)> {
    let (host, path, query) = split_url(url);
    let date = amz_date(unix_now());
    let payload_hash = sha256_hex(payload);
    let mut signed = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("host".to_string(), host),
        ("x-amz-content-sha256".to_string(), payload_hash.clone()),
        ("x-amz-date".to_string(), date.clone()),
    ];
    if let Some(token) = &creds.session_token {
        signed.push(("x-amz-security-token".to_string(), token.clone()));
    }
    let authorization = authorization(&SignInput {
        method: "POST",
        path: &path,
        query: &query,
        headers: &signed,
        payload_hash: &payload_hash,
        access_key_id: &creds.access_key_id,
        secret_access_key: &creds.secret_access_key,
        region: &creds.region,
        service,
        amz_date: &date,
    });
    let mut out: Vec<(String, String)> = signed
        .into_iter()
        .filter(|(k, _)| k != "host" && k != "content-type")
        .collect();
    out.push(("authorization".to_string(), authorization));
    out
}

// ---------------------------------------------------------------------------------------
// Request

fn text_blocks(content: Option<&Value>) -> Result<Vec<Value>, LlmError> {
    match content {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![json!({"text": s})]),
        Some(Value::Array(parts)) => {
            let mut out = Vec::with_capacity(parts.len());
            for part in parts {
                match part.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        let text = part.get("text").and_then(Value::as_str).unwrap_or("");
                        if !text.is_empty() {
                            out.push(json!({"text": text}));
                        }
                    }
                    Some("image_url") => {
                        let url = match part.get("image_url") {
                            Some(Value::String(u)) => u.as_str(),
                            Some(v) => v.get("url").and_then(Value::as_str).unwrap_or(""),
                            None => "",
                        };
                        let Some((mime, data)) = super::gemini::parse_data_url(url) else {
                            return Err(bad(
                                "bedrock takes images as base64 data URLs (data:image/png;base64,...); fetch the image and pass its bytes",
                            ));
                        };
                        let format = mime.rsplit('/').next().unwrap_or("jpeg");
                        let format = if format == "jpg" { "jpeg" } else { format };
                        out.push(json!({"image": {"format": format, "source": {"bytes": data}}}));
                    }
                    Some(other) => {
                        return Err(bad(format!(
                            "bedrock does not take content parts of type {other:?}"
                        )))
                    }
                    None => {}
                }
            }
            Ok(out)
        }
        Some(other) => Err(bad(format!(
            "message content must be a string or a list of parts, got {other}"
        ))),
    }
}

fn push_turn(messages: &mut Vec<Value>, role: &str, blocks: Vec<Value>) {
    if blocks.is_empty() {
        return;
    }
    if let Some(last) = messages.last_mut() {
        if last.get("role").and_then(Value::as_str) == Some(role) {
            if let Some(Value::Array(content)) = last.get_mut("content") {
                content.extend(blocks);
                return;
            }
        }
    }
    messages.push(json!({"role": role, "content": blocks}));
}

fn tool_input(args: Option<&Value>) -> Result<Value, LlmError> {
    match args {
        None | Some(Value::Null) => Ok(json!({})),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(json!({})),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map_err(|e| bad(format!("tool call arguments are not valid JSON ({e}): {s}"))),
        Some(v) => Ok(v.clone()),
    }
}

/// OpenAI messages → (`system` blocks, Converse `messages`).
pub fn converse_messages(messages: &[Value]) -> Result<(Vec<Value>, Vec<Value>), LlmError> {
    let mut system = Vec::new();
    let mut out: Vec<Value> = Vec::with_capacity(messages.len());
    for message in messages {
        let role = message.get("role").and_then(Value::as_str).unwrap_or("");
        match role {
            "system" | "developer" => system.extend(text_blocks(message.get("content"))?),
            "user" => push_turn(&mut out, "user", text_blocks(message.get("content"))?),
            "assistant" => {
                // Claude wants its thinking back first when tools were called while thinking.
                let mut blocks: Vec<Value> = message
                    .get("thinking_blocks")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|b| match b.get("type").and_then(Value::as_str) {
                        Some("thinking") => {
                            let mut text =
                                json!({"text": b.get("thinking").cloned().unwrap_or(json!(""))});
                            if let Some(sig) = b.get("signature") {
                                text["signature"] = sig.clone();
                            }
                            Some(json!({"reasoningContent": {"reasoningText": text}}))
                        }
                        Some("redacted_thinking") => {
                            Some(json!({"reasoningContent": {"redactedContent": b.get("data")}}))
                        }
                        _ => None,
                    })
                    .collect();
                blocks.extend(text_blocks(message.get("content"))?);
                for call in message
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let function = call.get("function");
                    blocks.push(json!({"toolUse": {
                        "toolUseId": call.get("id").and_then(Value::as_str).unwrap_or(""),
                        "name": function.and_then(|f| f.get("name")).and_then(Value::as_str).unwrap_or(""),
                        "input": tool_input(function.and_then(|f| f.get("arguments")))?,
                    }}));
                }
                push_turn(&mut out, "assistant", blocks);
            }
            "tool" | "function" => {
                let text = match message.get("content") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Array(parts)) => parts
                        .iter()
                        .filter_map(|p| p.get("text").and_then(Value::as_str))
                        .collect::<Vec<_>>()
                        .join(""),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                let id = message
                    .get("tool_call_id")
                    .or_else(|| message.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                push_turn(
                    &mut out,
                    "user",
                    vec![json!({"toolResult": {"toolUseId": id, "content": [{"text": text}]}})],
                );
            }
            other => return Err(bad(format!("unknown message role {other:?}"))),
        }
    }
    Ok((system, out))
}

fn tool_config(tools: Option<&Value>, choice: Option<&Value>) -> Result<Option<Value>, LlmError> {
    let Some(Value::Array(tools)) = tools else {
        return Ok(None);
    };
    if tools.is_empty() {
        return Ok(None);
    }
    let mut specs = Vec::with_capacity(tools.len());
    for tool in tools {
        let f = tool.get("function").unwrap_or(tool);
        let Some(name) = f.get("name").and_then(Value::as_str) else {
            return Err(bad("each tool needs function.name"));
        };
        let mut spec = Map::new();
        spec.insert("name".into(), json!(name));
        if let Some(d) = f.get("description").and_then(Value::as_str) {
            spec.insert("description".into(), json!(d));
        }
        let schema = f
            .get("parameters")
            .filter(|p| !p.is_null())
            .cloned()
            .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
        spec.insert("inputSchema".into(), json!({"json": schema}));
        specs.push(json!({"toolSpec": spec}));
    }
    let mut config = Map::new();
    config.insert("tools".into(), Value::Array(specs));
    let choice = match choice {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match s.as_str() {
            "auto" | "none" => Some(json!({"auto": {}})),
            "required" | "any" => Some(json!({"any": {}})),
            other => return Err(bad(format!("tool_choice {other:?} is not supported"))),
        },
        Some(v) => match v.pointer("/function/name").and_then(Value::as_str) {
            Some(name) => Some(json!({"tool": {"name": name}})),
            None => return Err(bad(format!("tool_choice {v} names no function"))),
        },
    };
    if let Some(c) = choice {
        config.insert("toolChoice".into(), c);
    }
    Ok(Some(Value::Object(config)))
}

/// The Converse body for an OpenAI-format body.
pub fn build_body(
    ctx: &ChatContext<'_>,
    mut body: Map<String, Value>,
) -> Result<Map<String, Value>, LlmError> {
    let claude = ctx.model.contains("anthropic.claude");
    let supported: Vec<&str> = SUPPORTED_PARAMS
        .iter()
        .chain(if claude { CLAUDE_PARAMS } else { &[] })
        .copied()
        .collect();
    check_params(ctx, &mut body, &supported)?;
    body.remove("model");
    body.remove("stream");
    body.remove("stream_options");
    let messages = match body.remove("messages") {
        Some(Value::Array(m)) => m,
        _ => Vec::new(),
    };
    let (system, messages) = converse_messages(&messages)?;
    let mut out = Map::new();
    out.insert("messages".into(), Value::Array(messages));
    if !system.is_empty() {
        out.insert("system".into(), Value::Array(system));
    }
    let mut inference = Map::new();
    let max = body
        .remove("max_completion_tokens")
        .filter(|v| !v.is_null())
        .or_else(|| body.remove("max_tokens"));
    body.remove("max_tokens");
    if let Some(v) = max.filter(|v| !v.is_null()) {
        inference.insert("maxTokens".into(), v);
    }
    if let Some(v) = body.remove("temperature").filter(|v| !v.is_null()) {
        inference.insert("temperature".into(), v);
    }
    if let Some(v) = body.remove("top_p").filter(|v| !v.is_null()) {
        inference.insert("topP".into(), v);
    }
    match body.remove("stop") {
        Some(Value::String(s)) => {
            inference.insert("stopSequences".into(), json!([s]));
        }
        Some(Value::Array(a)) if !a.is_empty() => {
            inference.insert("stopSequences".into(), Value::Array(a));
        }
        _ => {}
    }
    if !inference.is_empty() {
        out.insert("inferenceConfig".into(), Value::Object(inference));
    }
    let thinking = match (body.remove("thinking"), body.remove("reasoning_effort")) {
        (Some(t), _) if t.is_object() => Some(t),
        (_, Some(Value::String(effort))) => super::anthropic::thinking_for_effort(&effort)?,
        _ => None,
    };
    let mut tools = match body.remove("tools") {
        Some(Value::Array(t)) => t,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(bad("tools must be a list of tool definitions")),
    };
    let mut choice = body.remove("tool_choice");
    if let Some(schema) = body
        .remove("response_format")
        .as_ref()
        .and_then(super::anthropic::response_format_schema)
    {
        tools.push(
            json!({"type": "function", "function": {"name": JSON_TOOL_NAME, "parameters": schema}}),
        );
        // Claude refuses a forced tool while thinking.
        if thinking.is_none() {
            choice = Some(json!({"type": "function", "function": {"name": JSON_TOOL_NAME}}));
        }
    }
    if let Some(config) = tool_config(Some(&Value::Array(tools)), choice.as_ref())? {
        out.insert("toolConfig".into(), config);
    }
    if let Some(t) = thinking {
        match body.get_mut("additionalModelRequestFields") {
            Some(Value::Object(fields)) => {
                fields.insert("thinking".into(), t);
            }
            _ => {
                body.insert(
                    "additionalModelRequestFields".into(),
                    json!({"thinking": t}),
                );
            }
        }
    }
    for field in TOP_LEVEL_FIELDS {
        if let Some(v) = body.remove(*field) {
            out.insert((*field).to_string(), v);
        }
    }
    // Whatever is left (e.g. `top_k=`), minus OpenAI parameters let through by
    // `allowed_openai_params`, is model-specific.
    let mut extra = match body.remove("additionalModelRequestFields") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (k, v) in body {
        extra.insert(k, v);
    }
    if !extra.is_empty() {
        out.insert("additionalModelRequestFields".into(), Value::Object(extra));
    }
    Ok(out)
}

/// The model id as Converse (or InvokeModel) wants it in the path: LiteLLM's `converse/`
/// or `invoke/` route prefix removed, then percent-encoded (ARNs and `:0` suffixes).
fn model_path(model: &str) -> String {
    let model = model.strip_prefix("converse/").unwrap_or(model);
    let model = model.strip_prefix("invoke/").unwrap_or(model);
    uri_encode(model, false)
}

/// The runtime endpoint: `api_base`, else `aws_bedrock_runtime_endpoint`, else
/// `AWS_BEDROCK_RUNTIME_ENDPOINT`, else the region's public endpoint.
fn base_url(ctx: &ChatContext<'_>) -> String {
    let o = ctx.options;
    if o.api_base.as_deref().is_some_and(|b| !b.is_empty()) {
        return ctx.endpoint.base.clone();
    }
    if let Some(e) = o
        .aws_bedrock_runtime_endpoint
        .as_deref()
        .filter(|e| !e.is_empty())
    {
        return e.to_string();
    }
    ctx.endpoint.base.replace("{region}", &region(o, ctx.env))
}

// ---------------------------------------------------------------------------------------
// Reply

fn finish_reason(reason: &str) -> &str {
    match reason {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        other => other,
    }
}

/// Converse `usage` as OpenAI usage; cache reads and writes count as prompt tokens, as
/// LiteLLM counts them.
pub fn usage(u: &Value) -> Value {
    let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
    let read = n("cacheReadInputTokens");
    let write = n("cacheWriteInputTokens");
    let prompt = n("inputTokens") + read + write;
    let completion = n("outputTokens");
    let total = u
        .get("totalTokens")
        .and_then(Value::as_u64)
        .unwrap_or(prompt + completion);
    let mut out = json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": total,
    });
    if u.get("cacheReadInputTokens").is_some() || u.get("cacheWriteInputTokens").is_some() {
        out["prompt_tokens_details"] = json!({"cached_tokens": read});
        out["cache_read_input_tokens"] = json!(read);
        out["cache_creation_input_tokens"] = json!(write);
    }
    out
}

pub fn parse_reply(
    ctx: &ChatContext<'_>,
    body: Map<String, Value>,
) -> Result<Map<String, Value>, LlmError> {
    // A Converse reply is `{"output": {"message": {...}}, "stopReason", "usage"}`; the
    // old InvokeModel shapes and `{}` are not.
    if !body
        .get("output")
        .and_then(|o| o.get("message"))
        .is_some_and(Value::is_object)
    {
        return Err(super::malformed_reply(
            ctx,
            "no 'output.message' object",
            &body,
        ));
    }
    let blocks = body
        .get("output")
        .and_then(|o| o.pointer("/message/content"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut text = String::new();
    let mut json_mode = false;
    let mut reasoning = String::new();
    let mut thinking_blocks = Vec::new();
    let mut calls = Vec::new();
    for block in blocks {
        if let Some(t) = block.get("text").and_then(Value::as_str) {
            text.push_str(t);
        } else if let Some(use_) = block
            .get("toolUse")
            .filter(|u| u.get("name").and_then(Value::as_str) == Some(JSON_TOOL_NAME))
        {
            json_mode = true;
            text.push_str(&super::anthropic::json_mode_content(
                use_.get("input").unwrap_or(&json!({})),
            ));
        } else if let Some(use_) = block.get("toolUse") {
            calls.push(json!({
                "id": use_.get("toolUseId").and_then(Value::as_str).unwrap_or(""),
                "type": "function",
                "function": {
                    "name": use_.get("name").and_then(Value::as_str).unwrap_or(""),
                    "arguments": python_json(use_.get("input").unwrap_or(&json!({}))),
                },
            }));
        } else if let Some(r) = block.get("reasoningContent") {
            if let Some(t) = r.pointer("/reasoningText/text").and_then(Value::as_str) {
                reasoning.push_str(t);
                let mut tb = json!({"type": "thinking", "thinking": t});
                if let Some(sig) = r.pointer("/reasoningText/signature") {
                    tb["signature"] = sig.clone();
                }
                thinking_blocks.push(tb);
            } else if let Some(data) = r.get("redactedContent") {
                thinking_blocks.push(json!({"type": "redacted_thinking", "data": data}));
            }
        }
    }
    let has_calls = !calls.is_empty();
    let mut message = Map::new();
    message.insert(
        "content".into(),
        if text.is_empty() && !calls.is_empty() {
            Value::Null
        } else {
            Value::String(text)
        },
    );
    message.insert("role".into(), json!("assistant"));
    if !calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(calls));
    }
    if !reasoning.is_empty() {
        message.insert("reasoning_content".into(), Value::String(reasoning));
    }
    if !thinking_blocks.is_empty() {
        message.insert("thinking_blocks".into(), Value::Array(thinking_blocks));
    }
    let reason = match body.get("stopReason").and_then(Value::as_str) {
        Some("tool_use") if json_mode && !has_calls => "end_turn",
        Some(r) => r,
        None => "end_turn",
    };
    let mut out = Map::new();
    out.insert("id".into(), json!(super::completion_id()));
    out.insert("created".into(), json!(unix_now()));
    out.insert("model".into(), json!(ctx.model));
    out.insert("object".into(), json!("chat.completion"));
    out.insert("system_fingerprint".into(), Value::Null);
    out.insert(
        "choices".into(),
        json!([{"finish_reason": finish_reason(reason), "index": 0, "message": message}]),
    );
    out.insert(
        "usage".into(),
        body.get("usage").map(usage).unwrap_or_else(
            || json!({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}),
        ),
    );
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Errors

/// The HTTP status an AWS error type stands for (AWS sends some with another status:
/// `UnrecognizedClientException` arrives as 403 but is an authentication failure).
fn status_for(error_type: &str, status: u16) -> u16 {
    match error_type {
        "ThrottlingException" | "TooManyRequestsException" | "ServiceQuotaExceededException" => 429,
        "AccessDeniedException" => 403,
        "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "IncompleteSignature"
        | "ExpiredTokenException"
        | "InvalidClientTokenId"
        | "MissingAuthenticationTokenException" => 401,
        "ModelNotReadyException" | "ServiceUnavailableException" => 503,
        "ResourceNotFoundException" => 404,
        "ModelTimeoutException" => 408,
        "InternalServerException" => 500,
        "ValidationException" | "ModelErrorException" => 400,
        _ => status,
    }
}

/// `ThrottlingException:http://internal.amazon.com/...` → `ThrottlingException`.
fn error_type(headers: &[(String, String)], json: Option<&Value>) -> String {
    let raw = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-amzn-errortype"))
        .map(|(_, v)| v.as_str())
        .or_else(|| {
            json.and_then(|j| j.get("__type").or_else(|| j.get("type")))
                .and_then(Value::as_str)
        })
        .unwrap_or("");
    let raw = raw.split(':').next().unwrap_or(raw);
    let raw = raw.rsplit('#').next().unwrap_or(raw);
    // Stream exceptions are lowerCamelCase (`throttlingException`).
    let mut chars = raw.chars();
    match chars.next() {
        Some(first) => format!("{}{}", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

pub fn map_error(
    provider: &str,
    model: &str,
    status: u16,
    raw: &str,
    json: Option<Value>,
    headers: Vec<(String, String)>,
) -> LlmError {
    let kind = error_type(&headers, json.as_ref());
    // AWS writes `message` or `Message`.
    let json = json.map(|mut j| {
        if let Some(m) = j.get("Message").cloned() {
            if j.get("message").is_none() {
                j["message"] = m;
            }
        }
        j
    });
    let text = crate::error::error_text(json.as_ref(), raw).to_lowercase();
    let effective = status_for(&kind, status);
    let err = map_http_error(effective, provider, model, raw, json, headers);
    let too_long = text.contains("too long")
        || text.contains("input is too long")
        || text.contains("too many input tokens")
        || text.contains("exceeds the maximum");
    if kind == "ValidationException" && too_long && err.kind != ErrorKind::ContextWindowExceeded {
        return reclassify(err, ErrorKind::ContextWindowExceeded, 400);
    }
    err
}

// ---------------------------------------------------------------------------------------
// Stream

/// ConverseStream events (one per event-stream frame) → OpenAI chunks.
pub struct BedrockStreamDecoder {
    provider: String,
    model: String,
    requested_model: String,
    id: String,
    created: u64,
    include_usage: bool,
    /// Content block index → tool-call index, for blocks that are tool uses.
    tool_blocks: Vec<(u64, usize)>,
    /// The content block of the forced `json_tool_call`, whose input is the reply text.
    json_block: Option<u64>,
}

impl BedrockStreamDecoder {
    pub fn new(ctx: &ChatContext<'_>) -> Self {
        BedrockStreamDecoder {
            provider: ctx.provider.to_string(),
            model: ctx.model.to_string(),
            requested_model: ctx.requested_model.to_string(),
            id: super::completion_id(),
            created: unix_now(),
            include_usage: ctx.options.include_usage,
            tool_blocks: Vec::new(),
            json_block: None,
        }
    }

    fn chunk(&self, delta: Value, finish: Value) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("created".into(), json!(self.created));
        m.insert("model".into(), json!(self.model));
        m.insert("object".into(), json!("chat.completion.chunk"));
        m.insert(
            "choices".into(),
            json!([{"index": 0, "delta": delta, "finish_reason": finish}]),
        );
        m
    }

    fn stream_error(&self, status: u16, kind: &str, data: &str) -> LlmError {
        let json = serde_json::from_str::<Value>(data)
            .ok()
            .filter(Value::is_object);
        let json = json.or_else(|| Some(json!({"message": data})));
        map_error(
            &self.provider,
            &self.requested_model,
            status,
            data,
            json,
            vec![("x-amzn-errortype".into(), kind.to_string())],
        )
    }
}

impl StreamDecoder for BedrockStreamDecoder {
    fn decode(&mut self, ev: &SseEvent) -> Result<Decoded, LlmError> {
        let name = ev.event.as_deref().unwrap_or("");
        if name == FRAMING_ERROR {
            return Err(LlmError::connection(
                &self.provider,
                &self.requested_model,
                &format!("corrupt event-stream frame: {}", ev.data),
            ));
        }
        if let Some(kind) = name.strip_prefix("exception:") {
            return Err(self.stream_error(500, kind, &ev.data));
        }
        if let Some(kind) = name.strip_prefix("error:") {
            return Err(self.stream_error(500, kind, &ev.data));
        }
        let malformed = |what: &str| {
            LlmError::malformed_event(&self.provider, &self.requested_model, what, &ev.data, None)
        };
        let data: Value = serde_json::from_str(ev.data.trim())
            .map_err(|e| malformed(&format!("not JSON ({e})")))?;
        // Every ConverseStream event is named (`:event-type`) and holds an object; event
        // types added later are skipped.
        if name.is_empty() || !data.is_object() {
            return Err(malformed(
                "not a ConverseStream event (no event type or no object)",
            ));
        }
        let block = data.get("contentBlockIndex").and_then(Value::as_u64);
        let out = match name {
            "messageStart" => vec![self.chunk(
                json!({"role": data.get("role").and_then(Value::as_str).unwrap_or("assistant"), "content": ""}),
                Value::Null,
            )],
            "contentBlockStart" => match data.pointer("/start/toolUse") {
                Some(use_)
                    if use_.get("name").and_then(Value::as_str) == Some(JSON_TOOL_NAME) =>
                {
                    self.json_block = Some(block.unwrap_or(0));
                    Vec::new()
                }
                Some(use_) => {
                    let index = self.tool_blocks.len();
                    self.tool_blocks.push((block.unwrap_or(0), index));
                    vec![self.chunk(
                        json!({"tool_calls": [{"index": index, "id": use_.get("toolUseId"), "type": "function",
                            "function": {"name": use_.get("name"), "arguments": ""}}]}),
                        Value::Null,
                    )]
                }
                None => Vec::new(),
            },
            "contentBlockDelta" => {
                let delta = data.get("delta").cloned().unwrap_or(Value::Null);
                if let Some(text) = delta.get("text").and_then(Value::as_str) {
                    vec![self.chunk(json!({"content": text}), Value::Null)]
                } else if let Some(input) = delta
                    .pointer("/toolUse/input")
                    .and_then(Value::as_str)
                    .filter(|_| self.json_block.is_some() && self.json_block == block)
                {
                    vec![self.chunk(json!({"content": input}), Value::Null)]
                } else if let Some(input) = delta.pointer("/toolUse/input").and_then(Value::as_str)
                {
                    let index = self
                        .tool_blocks
                        .iter()
                        .find(|(b, _)| Some(*b) == block)
                        .map_or(self.tool_blocks.len().saturating_sub(1), |(_, i)| *i);
                    vec![self.chunk(
                        json!({"tool_calls": [{"index": index, "function": {"arguments": input}}]}),
                        Value::Null,
                    )]
                } else if let Some(text) = delta
                    .pointer("/reasoningContent/text")
                    .and_then(Value::as_str)
                {
                    vec![self.chunk(json!({"reasoning_content": text}), Value::Null)]
                } else {
                    Vec::new()
                }
            }
            "messageStop" => {
                let reason = data
                    .get("stopReason")
                    .and_then(Value::as_str)
                    .unwrap_or("end_turn");
                let reason = if reason == "tool_use"
                    && self.json_block.is_some()
                    && self.tool_blocks.is_empty()
                {
                    "end_turn"
                } else {
                    reason
                };
                vec![self.chunk(json!({}), json!(finish_reason(reason)))]
            }
            "metadata" => match data.get("usage") {
                Some(u) if self.include_usage => {
                    let mut c = self.chunk(json!({}), Value::Null);
                    c.insert("choices".into(), json!([]));
                    c.insert("usage".into(), usage(u));
                    vec![c]
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        Ok(Decoded::Chunks(out))
    }
}

// ---------------------------------------------------------------------------------------
// Adapter

pub struct BedrockAdapter;

impl Adapter for BedrockAdapter {
    fn build_request(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
    ) -> Result<HttpRequest, LlmError> {
        let invoke = ctx.kind == Endpointkind::AnthropicMessages;
        if ctx.kind != Endpointkind::Chat && !invoke {
            return Err(bad(format!(
                "bedrock serves chat completions only (Converse), not {}",
                ctx.kind.path()
            )));
        }
        // Anthropic's Messages API goes to Claude as it is, on InvokeModel.
        let body = if invoke {
            super::anthropic_messages::bedrock_body(body, &ctx.options.headers)
        } else {
            build_body(ctx, body)?
        };
        let mocked = ctx.options.mock_response.is_some() || ctx.options.mock_timeout;
        let mut headers = Vec::new();
        if !mocked {
            // Fail before any request when there are no credentials; SigV4 itself is
            // computed per attempt over the final bytes (`call.rs::open`).
            if let Auth::Bearer(token) = auth(ctx.options, ctx.endpoint, ctx.env)? {
                headers.push(("authorization".to_string(), format!("Bearer {token}")));
            }
        }
        let base = base_url(ctx);
        let base = base.trim_end_matches('/');
        let op = match (invoke, ctx.stream) {
            (false, true) => "converse-stream",
            (false, false) => "converse",
            (true, true) => "invoke-with-response-stream",
            (true, false) => "invoke",
        };
        let url = format!("{base}/model/{}/{op}", model_path(ctx.model));
        Ok(HttpRequest { url, headers, body })
    }

    fn parse_response(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
        _headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError> {
        if ctx.kind == Endpointkind::AnthropicMessages {
            return super::anthropic_messages::parse_reply(ctx, body);
        }
        parse_reply(ctx, body)
    }

    fn framing(&self) -> Framing {
        Framing::AwsEventStream
    }

    fn stream_decoder(&self, ctx: &ChatContext<'_>) -> Box<dyn StreamDecoder> {
        if ctx.kind == Endpointkind::AnthropicMessages {
            return Box::new(super::anthropic_messages::BedrockEventDecoder::new(ctx));
        }
        Box::new(BedrockStreamDecoder::new(ctx))
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
    use crate::providers::Endpointkind;
    use crate::stream::eventstream::{encode_frame, event_frame, EventStreamDecoder};
    use crate::test_support::{assert_malformed, foreign_replies, obj, with_chat_ctx};

    fn env(name: &str) -> Option<String> {
        match name {
            "AWS_ACCESS_KEY_ID" => Some("AKID".into()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret".into()),
            "AWS_REGION" => Some("eu-west-1".into()),
            _ => None,
        }
    }

    fn with_ctx<T>(stream: bool, options: CallOptions, f: impl FnOnce(&ChatContext<'_>) -> T) -> T {
        let endpoint = Endpoint {
            base: DEFAULT_BASE.into(),
            key: Some(String::new()),
        };
        let ctx = ChatContext {
            kind: Endpointkind::Chat,
            provider: "bedrock",
            model: "anthropic.claude-3-haiku-20240307-v1:0",
            requested_model: "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
            endpoint: &endpoint,
            options: &options,
            stream,
            env: &env,
        };
        f(&ctx)
    }

    #[test]
    fn sigv4_matches_the_aws_test_suite() {
        // AWS's SigV4 test suite (aws-c-auth aws-sig-v4-test-suite): get-vanilla and
        // post-vanilla, with the suite's example credentials.
        let headers = vec![
            ("Host".to_string(), "example.amazonaws.com".to_string()),
            ("X-Amz-Date".to_string(), "20150830T123600Z".to_string()),
        ];
        let empty = sha256_hex(b"");
        assert_eq!(
            empty,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let input = |method| SignInput {
            method,
            path: "/",
            query: "",
            headers: &headers,
            payload_hash: &empty,
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            service: "service",
            amz_date: "20150830T123600Z",
        };
        assert_eq!(
            authorization(&input("GET")),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert!(authorization(&input("POST")).ends_with(
            "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        ));
        // get-vanilla-query-order-key-case: the query is sorted before signing.
        let sorted = SignInput {
            query: "Param2=value2&Param1=value1",
            ..input("GET")
        };
        assert!(authorization(&sorted).ends_with(
            "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        ));
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(amz_date(0), "19700101T000000Z");
    }

    #[test]
    fn signed_headers_for_a_request() {
        let o = CallOptions {
            aws_session_token: Some("tok".into()),
            ..CallOptions::default()
        };
        let endpoint = Endpoint {
            base: String::new(),
            key: Some(String::new()),
        };
        let headers = sign(
            &o,
            &endpoint,
            "http://127.0.0.1:9/model/m%3A0/converse",
            b"{}",
            &env,
        )
        .unwrap_or_default();
        let get = |k: &str| {
            headers
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert_eq!(get("x-amz-security-token"), "tok");
        assert_eq!(get("x-amz-content-sha256"), sha256_hex(b"{}"));
        let auth = get("authorization");
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKID/"));
        assert!(auth.contains("/eu-west-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature="));
        // Bearer tokens are not signed.
        let bearer = Endpoint {
            base: String::new(),
            key: Some("bt".into()),
        };
        assert_eq!(
            sign(&o, &bearer, "http://h/x", b"", &env).ok(),
            Some(vec![])
        );
        // No credentials at all.
        let none = |_: &str| None;
        let err = sign(&CallOptions::default(), &endpoint, "http://h/x", b"", &none).err();
        assert_eq!(err.map(|e| e.kind), Some(ErrorKind::Authentication));
    }

    #[test]
    fn request_translation() {
        let body = obj(json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "t1", "type": "function", "function": {"name": "get", "arguments": "{\"q\": 1}"}}]},
                {"role": "tool", "tool_call_id": "t1", "content": "42"},
                {"role": "user", "content": "thanks"},
            ],
            "max_tokens": 10, "temperature": 0.5, "top_p": 0.9, "stop": "END", "top_k": 5,
            "tools": [{"type": "function", "function": {"name": "get", "description": "d",
                       "parameters": {"type": "object"}}}],
            "tool_choice": "required",
        }));
        let req = with_ctx(false, CallOptions::default(), |ctx| {
            BedrockAdapter.build_request(ctx, body)
        });
        let req = req.ok().map(|r| (r.url, r.headers, Value::Object(r.body)));
        assert_eq!(
            req,
            Some((
                "https://bedrock-runtime.eu-west-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse".into(),
                vec![],
                json!({
                    "messages": [
                        {"role": "user", "content": [{"text": "what is this?"},
                            {"image": {"format": "png", "source": {"bytes": "AAAA"}}}]},
                        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "get", "input": {"q": 1}}}]},
                        {"role": "user", "content": [
                            {"toolResult": {"toolUseId": "t1", "content": [{"text": "42"}]}},
                            {"text": "thanks"}]},
                    ],
                    "system": [{"text": "be brief"}],
                    "inferenceConfig": {"maxTokens": 10, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]},
                    "toolConfig": {"tools": [{"toolSpec": {"name": "get", "description": "d",
                        "inputSchema": {"json": {"type": "object"}}}}], "toolChoice": {"any": {}}},
                    "additionalModelRequestFields": {"top_k": 5},
                })
            ))
        );
    }

    #[test]
    fn unsupported_params_and_endpoints() {
        let body = || {
            obj(
                json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "logit_bias": {"1": 1}}),
            )
        };
        let err = with_ctx(false, CallOptions::default(), |ctx| {
            BedrockAdapter.build_request(ctx, body()).err()
        });
        assert_eq!(err.map(|e| e.kind), Some(ErrorKind::UnsupportedParams));
        let opts = CallOptions {
            drop_params: true,
            aws_bedrock_runtime_endpoint: Some("https://vpce.example/".into()),
            ..CallOptions::default()
        };
        let req = with_ctx(true, opts, |ctx| {
            BedrockAdapter.build_request(ctx, body()).ok()
        });
        assert_eq!(
            req.map(|r| (r.url, r.body.contains_key("logit_bias"))),
            Some((
                "https://vpce.example/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"
                    .into(),
                false
            ))
        );
    }

    #[test]
    fn json_mode_and_thinking() {
        let body = obj(json!({
            "model": "m", "messages": [{"role": "user", "content": "hi"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "P",
                "schema": {"properties": {"a": {"type": "integer"}}}}},
        }));
        let req = with_ctx(false, CallOptions::default(), |ctx| build_body(ctx, body))
            .map(Value::Object)
            .unwrap_or_default();
        assert_eq!(
            req["toolConfig"],
            json!({"tools": [{"toolSpec": {"name": "json_tool_call", "inputSchema": {"json":
                {"type": "object", "properties": {"a": {"type": "integer"}}}}}}],
                "toolChoice": {"tool": {"name": "json_tool_call"}}})
        );
        let body = obj(
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
            "reasoning_effort": "low", "top_k": 2}),
        );
        let req = with_ctx(false, CallOptions::default(), |ctx| build_body(ctx, body))
            .map(Value::Object)
            .unwrap_or_default();
        assert_eq!(
            req["additionalModelRequestFields"],
            json!({"thinking": {"type": "enabled", "budget_tokens": 1024}, "top_k": 2})
        );
        let reply = obj(json!({
            "output": {"message": {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "s"}}},
                {"toolUse": {"toolUseId": "t", "name": "json_tool_call", "input": {"a": 1}}}]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
        }));
        let out = with_ctx(false, CallOptions::default(), |ctx| parse_reply(ctx, reply))
            .map(Value::Object)
            .unwrap_or_default();
        assert_eq!(out["choices"][0]["message"]["content"], json!("{\"a\": 1}"));
        assert_eq!(
            out["choices"][0]["message"]["reasoning_content"],
            json!("hmm")
        );
        assert!(out["choices"][0]["message"].get("tool_calls").is_none());
        let thinking = out["choices"][0]["message"]["thinking_blocks"].clone();
        assert_eq!(
            thinking,
            json!([{"type": "thinking", "thinking": "hmm", "signature": "s"}])
        );
        let history = [json!({"role": "assistant", "content": "ok", "thinking_blocks": thinking})];
        assert_eq!(
            converse_messages(&history).ok().map(|(_, m)| m),
            Some(vec![json!({"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "s"}}},
                {"text": "ok"}]})])
        );
        assert_eq!(out["choices"][0]["finish_reason"], json!("stop"));
    }

    #[test]
    fn reply_translation() {
        let reply = obj(json!({
            "output": {"message": {"role": "assistant", "content": [
                {"text": "Let me look."},
                {"toolUse": {"toolUseId": "tooluse_1", "name": "get", "input": {"q": "x"}}}]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 19,
                      "cacheReadInputTokens": 3, "cacheWriteInputTokens": 1},
        }));
        let out = with_ctx(false, CallOptions::default(), |ctx| parse_reply(ctx, reply))
            .map(Value::Object)
            .unwrap_or_default();
        assert_eq!(out["choices"][0]["finish_reason"], json!("tool_calls"));
        assert_eq!(
            out["choices"][0]["message"]["content"],
            json!("Let me look.")
        );
        assert_eq!(
            out["choices"][0]["message"]["tool_calls"],
            json!([{"id": "tooluse_1", "type": "function", "function": {"name": "get", "arguments": "{\"q\": \"x\"}"}}])
        );
        assert_eq!(out["usage"]["prompt_tokens"], json!(14));
        assert_eq!(out["usage"]["completion_tokens"], json!(5));
        assert_eq!(out["usage"]["total_tokens"], json!(19));
        assert_eq!(
            out["usage"]["prompt_tokens_details"]["cached_tokens"],
            json!(3)
        );
        for (r, f) in [
            ("end_turn", "stop"),
            ("stop_sequence", "stop"),
            ("max_tokens", "length"),
            ("guardrail_intervened", "content_filter"),
            ("content_filtered", "content_filter"),
        ] {
            assert_eq!(finish_reason(r), f);
        }
    }

    #[test]
    fn errors_by_aws_type() {
        let cases = [
            (
                "ThrottlingException",
                400,
                "Too many requests",
                ErrorKind::RateLimit,
            ),
            (
                "ValidationException",
                400,
                "Input is too long for requested model.",
                ErrorKind::ContextWindowExceeded,
            ),
            (
                "ValidationException",
                400,
                "bad field",
                ErrorKind::BadRequest,
            ),
            (
                "AccessDeniedException",
                403,
                "no access",
                ErrorKind::PermissionDenied,
            ),
            (
                "UnrecognizedClientException",
                403,
                "The security token included in the request is invalid.",
                ErrorKind::Authentication,
            ),
            (
                "InvalidSignatureException",
                403,
                "signature",
                ErrorKind::Authentication,
            ),
            (
                "ModelNotReadyException",
                429,
                "warming",
                ErrorKind::ServiceUnavailable,
            ),
            (
                "ResourceNotFoundException",
                404,
                "no model",
                ErrorKind::NotFound,
            ),
        ];
        for (kind, status, message, expected) in cases {
            let err = map_error(
                "bedrock",
                "bedrock/m",
                status,
                "",
                Some(json!({"message": message})),
                vec![(
                    "x-amzn-errortype".into(),
                    format!("{kind}:http://internal.amazon.com/coral/"),
                )],
            );
            assert_eq!(err.kind, expected, "{kind}");
            assert!(err.message.contains("BedrockException"), "{}", err.message);
        }
    }

    fn decode_all(bytes: &[u8], include_usage: bool) -> Result<Vec<Map<String, Value>>, LlmError> {
        let opts = CallOptions {
            include_usage,
            ..CallOptions::default()
        };
        with_ctx(true, opts, |ctx| {
            let mut framer = EventStreamDecoder::new();
            let mut events = Vec::new();
            framer.push(bytes, &mut events);
            framer.finish(&mut events);
            let mut d = BedrockStreamDecoder::new(ctx);
            let mut out = Vec::new();
            for ev in &events {
                if let Decoded::Chunks(c) = d.decode(ev)? {
                    out.extend(c);
                }
            }
            Ok(out)
        })
    }

    #[test]
    fn replies_without_output_message_are_errors() {
        let parse = |body: Map<String, Value>| {
            with_chat_ctx(
                Endpointkind::Chat,
                "bedrock",
                "anthropic.claude-x",
                false,
                |ctx| BedrockAdapter.parse_response(ctx, body, &[]),
            )
        };
        // The InvokeModel shape of a Claude model is not a Converse reply.
        let mut bad = foreign_replies(&["bedrock"]);
        bad.push(obj(json!({"output": {}})));
        for body in bad {
            assert_malformed(
                parse(body).err(),
                "BedrockException - Invalid response from the provider: no 'output.message' object. Received: {",
            );
        }
        let ok = parse(obj(
            json!({"output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}}}),
        ));
        assert_eq!(
            ok.ok()
                .map(|r| r["choices"][0]["message"]["content"].clone()),
            Some(json!("hi"))
        );
    }

    #[test]
    fn stream_events_of_the_wrong_shape_are_errors() {
        let unnamed = encode_frame(&[(":message-type", "event")], b"{}");
        for bytes in [
            unnamed,
            event_frame("contentBlockDelta", b"[1]"),
            event_frame("messageStop", b"<html>"),
        ] {
            let err = decode_all(&bytes, false).err();
            assert_eq!(
                err.as_ref().map(|e| (e.kind, e.status)),
                Some((ErrorKind::Api, 500))
            );
            assert!(err.is_some_and(|e| e
                .message
                .contains("BedrockException - Invalid chunk in the stream")));
        }
        // Event types added later are skipped.
        assert!(decode_all(&event_frame("futureEvent", b"{}"), false).is_ok());
    }

    #[test]
    fn stream_events_become_chunks() {
        let mut bytes = Vec::new();
        for (name, payload) in [
            ("messageStart", json!({"role": "assistant"})),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"text": "Hi"}}),
            ),
            ("contentBlockStop", json!({"contentBlockIndex": 0})),
            (
                "contentBlockStart",
                json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tu1", "name": "get"}}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"q\":"}}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "1}"}}}),
            ),
            ("contentBlockStop", json!({"contentBlockIndex": 1})),
            ("messageStop", json!({"stopReason": "tool_use"})),
            (
                "metadata",
                json!({"usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}, "metrics": {"latencyMs": 5}}),
            ),
        ] {
            bytes.extend(event_frame(name, payload.to_string().as_bytes()));
        }
        let chunks = decode_all(&bytes, true).unwrap_or_default();
        let deltas: Vec<Value> = chunks
            .iter()
            .map(|c| {
                c["choices"]
                    .get(0)
                    .map(|ch| ch["delta"].clone())
                    .unwrap_or(Value::Null)
            })
            .collect();
        assert_eq!(deltas[1], json!({"content": "Hi"}));
        assert_eq!(
            deltas[2],
            json!({"tool_calls": [{"index": 0, "id": "tu1", "type": "function", "function": {"name": "get", "arguments": ""}}]})
        );
        assert_eq!(
            deltas[3],
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"q\":"}}]})
        );
        assert_eq!(
            chunks[5]["choices"][0]["finish_reason"],
            json!("tool_calls")
        );
        assert_eq!(chunks[6]["usage"]["total_tokens"], json!(7));
        assert_eq!(chunks.len(), 7);
        assert_eq!(decode_all(&bytes, false).map(|c| c.len()).ok(), Some(6));
    }

    #[test]
    fn stream_exceptions_and_bad_frames_are_errors() {
        let mut bytes = event_frame("messageStart", br#"{"role":"assistant"}"#);
        bytes.extend(encode_frame(
            &[
                (":message-type", "exception"),
                (":exception-type", "throttlingException"),
                (":content-type", "application/json"),
            ],
            br#"{"message":"Too many tokens, please wait before trying again."}"#,
        ));
        let err = decode_all(&bytes, false).err();
        assert_eq!(err.map(|e| e.kind), Some(ErrorKind::RateLimit));

        let mut bad = event_frame("messageStop", br#"{"stopReason":"end_turn"}"#);
        let n = bad.len();
        bad[n - 1] ^= 1;
        let err = decode_all(&bad, false).err();
        assert_eq!(err.map(|e| e.kind), Some(ErrorKind::ApiConnection));
    }
}
