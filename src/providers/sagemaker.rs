//! Amazon SageMaker endpoints, as LiteLLM calls them:
//!
//! - `sagemaker/<endpoint>`: a Hugging Face text-generation container (TGI, JumpStart):
//!   `POST {runtime}/endpoints/{endpoint}/invocations` with `{"inputs": prompt,
//!   "parameters": {...}}`, the chat turned into one prompt as LiteLLM's `prompt_factory`
//!   does (the Llama-2 chat template for `llama-2` + `chat` endpoints or
//!   `hf_model_name="meta-llama/Llama-2-7b-chat-hf"`, else the contents joined by spaces).
//!   The reply is `[{"generated_text": ...}]`; usage is counted from the prompt and the
//!   text, as LiteLLM counts it. Streams go to `/invocations-response-stream`, whose
//!   `PayloadPart` event-stream frames carry TGI's `data:{"token": ...}` lines.
//!   Embeddings (`sagemaker/<embedding endpoint>`) send `{"text_inputs": [...]}` and read
//!   `{"embedding": [[...]]}` (or a bare list, as TEI answers).
//! - `sagemaker_chat/<endpoint>`: a container serving the Messages API: the OpenAI chat
//!   body (no `stream` flag: the path asks for a stream) and an OpenAI reply; stream
//!   frames carry OpenAI `data: {chunk}` lines.
//!
//! Auth is SigV4 with service `sagemaker`, Bedrock's signer and credentials
//! (`aws_access_key_id`/`aws_secret_access_key`/`aws_session_token`/`aws_region_name`
//! or their environment variables), signed per attempt in `call.rs::open`. `model_id=`
//! names an inference component (`X-Amzn-SageMaker-Inference-Component`). `api_base`
//! replaces the runtime host `https://runtime.sagemaker.{region}.amazonaws.com`; the
//! `/endpoints/...` path is added to it.

use serde_json::{json, Map, Value};

use super::bedrock::{self, uri_encode};
use super::openai::OpenAiAdapter;
use super::{
    check_params, completion_id, malformed_reply, unix_now, Adapter, ChatContext, Decoded,
    Endpointkind, Framing, HttpRequest, ProviderSpec, StreamDecoder, WireFormat,
};
use crate::catalogue::tokens::Encoding;
use crate::error::{ErrorKind, LlmError};
use crate::stream::eventstream::FRAMING_ERROR;
use crate::stream::sse::SseEvent;

/// `{region}` is filled in from the resolved region.
const DEFAULT_BASE: &str = "https://runtime.sagemaker.{region}.amazonaws.com";

const fn spec(name: &'static str, format: WireFormat) -> ProviderSpec {
    ProviderSpec {
        name,
        format,
        default_base: Some(DEFAULT_BASE),
        base_env: &[],
        key_env: &[],
        // No key: SigV4 credentials are checked in `build_request`.
        default_key: Some(""),
    }
}

pub const SPEC: ProviderSpec = spec("sagemaker", WireFormat::Sagemaker);
pub const CHAT_SPEC: ProviderSpec = spec("sagemaker_chat", WireFormat::SagemakerChat);

/// The OpenAI parameters LiteLLM maps for a TGI endpoint.
const SUPPORTED_PARAMS: &[&str] = &[
    "stream",
    "stream_options",
    "temperature",
    "max_tokens",
    "max_completion_tokens",
    "top_p",
    "stop",
    "n",
];

/// The event type of a stream frame that carries the container's bytes.
const PAYLOAD_PART: &str = "PayloadPart";

/// The header naming an inference component of a multi-model endpoint.
const INFERENCE_COMPONENT: &str = "x-amzn-sagemaker-inference-component";

/// The key under which a JSON list reply (TGI's `[{"generated_text": ...}]`, TEI's
/// embeddings) reaches `parse_response`, which takes an object.
pub const LIST_REPLY: &str = "_list";

fn bad(message: impl Into<String>) -> LlmError {
    LlmError::bad_request(message.into())
}

/// The runtime URL of the endpoint: `api_base`, else the region's public host.
fn url(ctx: &ChatContext<'_>, stream: bool) -> String {
    let base = if ctx
        .options
        .api_base
        .as_deref()
        .is_some_and(|b| !b.is_empty())
    {
        ctx.endpoint.base.clone()
    } else {
        ctx.endpoint
            .base
            .replace("{region}", &bedrock::region(ctx.options, ctx.env))
    };
    let op = if stream {
        "invocations-response-stream"
    } else {
        "invocations"
    };
    format!(
        "{}/endpoints/{}/{op}",
        base.trim_end_matches('/'),
        uri_encode(ctx.model, false)
    )
}

/// The text of a message's `content` (a string or text parts).
fn content_text(content: Option<&Value>) -> Result<String, LlmError> {
    match content {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for part in parts {
                match part.get("type").and_then(Value::as_str).unwrap_or("text") {
                    "text" => text.push_str(part.get("text").and_then(Value::as_str).unwrap_or("")),
                    other => {
                        return Err(bad(format!(
                            "content part type {other:?} is not supported by sagemaker text-generation endpoints (text only; use sagemaker_chat/ for a Messages API container)"
                        )))
                    }
                }
            }
            Ok(text)
        }
        Some(other) => Err(bad(format!(
            "message content must be a string or a list of parts, got {}",
            crate::types::type_name(other)
        ))),
    }
}

/// LiteLLM's `llama_2_chat_pt`: `<s>[INST] <<SYS>>\n...\n<</SYS>>\n [/INST]\n`, user turns
/// in `[INST] ... [/INST]\n`, assistant turns closed with `</s>` (a new `<s>` before the
/// next system turn).
fn llama_2_chat_prompt(messages: &[Value]) -> Result<String, LlmError> {
    let mut prompt = String::from("<s>");
    let mut bos_open = true;
    for message in messages {
        let role = message
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("user");
        if matches!(role, "system" | "human") && !bos_open {
            prompt.push_str("<s>");
            bos_open = true;
        }
        let (pre, post) = match role {
            "system" => ("[INST] <<SYS>>\n", "\n<</SYS>>\n [/INST]\n"),
            "user" => ("[INST] ", " [/INST]\n"),
            "assistant" => ("", "\n"),
            _ => ("", ""),
        };
        prompt.push_str(pre);
        prompt.push_str(&content_text(message.get("content"))?);
        prompt.push_str(post);
        if role == "assistant" {
            prompt.push_str("</s>");
            bos_open = false;
        }
    }
    Ok(prompt)
}

/// The prompt LiteLLM builds for a TGI endpoint: the Llama-2 chat template when the
/// endpoint (or `hf_model_name`) names a Llama-2 chat model, else LiteLLM's `default_pt`
/// (the contents joined by spaces). LiteLLM would try to download other models' chat
/// templates from the Hugging Face Hub first; rustllm makes no such call.
pub fn prompt(
    model: &str,
    hf_model_name: Option<&str>,
    messages: &[Value],
) -> Result<String, LlmError> {
    let name = hf_model_name.unwrap_or(model).to_lowercase();
    let llama_2_chat = name.contains("llama-2") && name.contains("chat");
    if llama_2_chat {
        return llama_2_chat_prompt(messages);
    }
    let texts = messages
        .iter()
        .map(|m| content_text(m.get("content")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(texts.join(" "))
}

/// LiteLLM's `SagemakerConfig.map_openai_params`, plus the provider's own parameters
/// (`top_k=`, `details=`, ...) kept in `parameters`.
fn parameters(body: &mut Map<String, Value>) -> Map<String, Value> {
    let allow_zero = body
        .remove("aws_sagemaker_allow_zero_temp")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let mut out = Map::new();
    if let Some(t) = body.remove("temperature") {
        // TGI refuses a zero temperature ("must be strictly positive").
        let zero = t.as_f64() == Some(0.0);
        out.insert(
            "temperature".into(),
            if zero && !allow_zero { json!(0.01) } else { t },
        );
    }
    if let Some(v) = body.remove("top_p") {
        out.insert("top_p".into(), v);
    }
    if let Some(n) = body.remove("n") {
        out.insert("best_of".into(), n);
        out.insert("do_sample".into(), json!(true));
    }
    if let Some(stop) = body.remove("stop") {
        out.insert("stop".into(), stop);
    }
    if let Some(m) = body.remove("max_tokens") {
        // ... and a zero max_new_tokens.
        let m = if m.as_u64() == Some(0) { json!(1) } else { m };
        out.insert("max_new_tokens".into(), m);
    }
    if let Some(m) = body.remove("max_completion_tokens") {
        out.insert("max_new_tokens".into(), m);
    }
    out.extend(std::mem::take(body));
    out
}

/// The inference component header of `model_id=`, if given.
fn component_header(body: &mut Map<String, Value>) -> Result<Vec<(String, String)>, LlmError> {
    match body.remove("model_id") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(id)) if !id.is_empty() => Ok(vec![(INFERENCE_COMPONENT.into(), id)]),
        Some(other) => Err(bad(format!(
            "model_id (the SageMaker inference component) must be a non-empty string, got {other}"
        ))),
    }
}

/// The text inputs of an embedding call, as a list of strings.
fn text_inputs(input: Option<Value>) -> Result<Vec<Value>, LlmError> {
    let items = match input {
        Some(Value::String(s)) => vec![Value::String(s)],
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    if items.iter().any(|i| !i.is_string()) {
        return Err(bad(
            "sagemaker embedding endpoints take text: input must be a string or a list of strings (token arrays are not supported)",
        ));
    }
    Ok(items)
}

fn build(ctx: &ChatContext<'_>, mut body: Map<String, Value>) -> Result<HttpRequest, LlmError> {
    let chat_api = ctx.provider == "sagemaker_chat";
    if !matches!(ctx.kind, Endpointkind::Chat | Endpointkind::Embeddings)
        || (chat_api && ctx.kind != Endpointkind::Chat)
    {
        return Err(bad(format!(
            "{} serves {}, not {}",
            ctx.provider,
            if chat_api {
                "chat completions"
            } else {
                "chat completions and embeddings"
            },
            ctx.kind.path()
        )));
    }
    let mocked = ctx.options.mock_response.is_some() || ctx.options.mock_timeout;
    if !mocked {
        // Fail before any request without credentials; the signature itself is made per
        // attempt over the final bytes (`call.rs::open`).
        bedrock::credentials(ctx.options, ctx.env, ctx.provider)?;
    }
    let headers = component_header(&mut body)?;
    let stream = ctx.stream && ctx.kind == Endpointkind::Chat;
    let out = if ctx.kind == Endpointkind::Embeddings {
        let inputs = text_inputs(body.remove("input"))?;
        body.remove("model");
        body.remove("encoding_format");
        let mut out = Map::new();
        out.insert("text_inputs".into(), Value::Array(inputs));
        out.extend(body);
        out
    } else if chat_api {
        // The Messages API container takes the OpenAI body; the path asks for a stream.
        body.remove("stream");
        body.remove("stream_options");
        body
    } else {
        check_params(ctx, &mut body, SUPPORTED_PARAMS)?;
        body.remove("model");
        body.remove("stream");
        body.remove("stream_options");
        let messages = match body.remove("messages") {
            Some(Value::Array(m)) => m,
            _ => Vec::new(),
        };
        let prompt = prompt(ctx.model, ctx.options.hf_model_name.as_deref(), &messages)?;
        let mut out = Map::new();
        out.insert("parameters".into(), Value::Object(parameters(&mut body)));
        if stream {
            out.insert("stream".into(), json!(true));
        }
        out.insert("inputs".into(), json!(prompt));
        out
    };
    Ok(HttpRequest {
        url: url(ctx, stream),
        headers,
        body: out,
    })
}

fn count(text: &str) -> u64 {
    Encoding::for_model("").count(text) as u64
}

/// TGI's `finish_reason` (`details.finish_reason`) in OpenAI's vocabulary.
fn finish_reason(details: Option<&Value>) -> &'static str {
    match details
        .and_then(|d| d.get("finish_reason"))
        .and_then(Value::as_str)
    {
        Some("length") => "length",
        _ => "stop",
    }
}

fn parse_generation(
    ctx: &ChatContext<'_>,
    body: Map<String, Value>,
    prompt_text: &str,
) -> Result<Map<String, Value>, LlmError> {
    let first = match body.get(LIST_REPLY) {
        Some(Value::Array(items)) => items.first().cloned(),
        Some(_) => None,
        None => Some(Value::Object(body.clone())),
    };
    let text = first.as_ref().and_then(|f| {
        f.get("generation")
            .or_else(|| f.get("generated_text"))
            .and_then(Value::as_str)
    });
    let Some(text) = text else {
        let shown = body.get(LIST_REPLY).cloned().unwrap_or(Value::Object(body));
        return Err(malformed_reply(ctx, "no 'generated_text'", &shown));
    };
    let mut text = text.to_string();
    // An endpoint that echoes the templated prompt (`return_full_text`) has it removed,
    // as LiteLLM does.
    if !prompt_text.is_empty() && prompt_text.contains("<s>") && text.starts_with(prompt_text) {
        text = text[prompt_text.len()..].to_string();
    }
    let details = first.as_ref().and_then(|f| f.get("details"));
    let prompt_tokens = count(prompt_text);
    let completion_tokens = details
        .and_then(|d| d.get("generated_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or_else(|| count(&text));
    let mut out = Map::new();
    out.insert("id".into(), json!(completion_id()));
    out.insert("created".into(), json!(unix_now()));
    out.insert("model".into(), json!(ctx.model));
    out.insert("object".into(), json!("chat.completion"));
    out.insert("system_fingerprint".into(), Value::Null);
    out.insert(
        "choices".into(),
        json!([{"finish_reason": finish_reason(details), "index": 0,
                "message": {"content": text, "role": "assistant"}}]),
    );
    out.insert(
        "usage".into(),
        json!({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
               "total_tokens": prompt_tokens + completion_tokens}),
    );
    Ok(out)
}

fn parse_embeddings(
    ctx: &ChatContext<'_>,
    body: Map<String, Value>,
) -> Result<Map<String, Value>, LlmError> {
    let vectors = match body.get(LIST_REPLY).or_else(|| body.get("embedding")) {
        Some(Value::Array(v)) if v.iter().all(Value::is_array) => v.clone(),
        _ => {
            let shown = body.get(LIST_REPLY).cloned().unwrap_or(Value::Object(body));
            return Err(malformed_reply(
                ctx,
                "no 'embedding' list of vectors",
                &shown,
            ));
        }
    };
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .map(|(i, e)| json!({"object": "embedding", "index": i, "embedding": e}))
        .collect();
    let mut out = Map::new();
    out.insert("object".into(), json!("list"));
    out.insert("data".into(), Value::Array(data));
    out.insert("model".into(), json!(ctx.model));
    out.insert("usage".into(), Value::Null);
    Ok(out)
}

/// Usage of an embedding call: the input's tokens (LiteLLM counts them with its default
/// encoding, as here).
pub fn embedding_usage(inputs: &[Value]) -> Value {
    let tokens: u64 = inputs.iter().filter_map(Value::as_str).map(count).sum();
    json!({"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens})
}

/// SageMaker's errors: AWS's (`x-amzn-errortype` with `{"message"}`, as Bedrock's), and a
/// container's failure (`ModelError`, 424, `{"OriginalStatusCode", "OriginalMessage"}`),
/// mapped by the status the container gave. TGI's prompt-too-long message is a
/// `ContextWindowExceededError`, as in LiteLLM.
pub fn map_error(
    provider: &str,
    model: &str,
    status: u16,
    raw: &str,
    json: Option<Value>,
    headers: Vec<(String, String)>,
) -> LlmError {
    let original = json
        .as_ref()
        .and_then(|j| j.get("OriginalStatusCode"))
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (400..600).contains(s));
    let status = original.unwrap_or(status);
    let mut headers = headers;
    if original.is_some() {
        // The container's status decides, not the ModelError wrapper's.
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case("x-amzn-errortype"));
    }
    let text = raw.to_lowercase();
    let err = bedrock::map_error(provider, model, status, raw, json, headers);
    let too_long = text.contains("`inputs` tokens + `max_new_tokens` must be <=")
        || text.contains("instance type with more cpu capacity or memory")
        || text.contains("input validation error: `inputs` must have less than");
    if too_long && err.kind != ErrorKind::ContextWindowExceeded {
        return super::reclassify(err, ErrorKind::ContextWindowExceeded, 400);
    }
    err
}

// ---------------------------------------------------------------------------------------
// Stream

/// The container's bytes inside `PayloadPart` frames, cut into lines (a line may span
/// frames); each non-empty line is one JSON event, with or without a `data:` prefix.
#[derive(Default)]
struct Lines {
    buf: String,
}

impl Lines {
    /// The complete events in `data` (and in what was buffered).
    fn push(&mut self, data: &str) -> Vec<String> {
        self.buf.push_str(data);
        let mut out = Vec::new();
        while let Some(i) = self.buf.find('\n') {
            let line: String = self.buf.drain(..=i).collect();
            let line = line.trim();
            if !line.is_empty() {
                out.push(strip_data(line).to_string());
            }
        }
        // A container that writes bare JSON without a line break: a whole object is an
        // event already.
        let rest = strip_data(self.buf.trim());
        if !rest.is_empty() && serde_json::from_str::<Value>(rest).is_ok() {
            out.push(rest.to_string());
            self.buf.clear();
        }
        out
    }
}

fn strip_data(line: &str) -> &str {
    line.strip_prefix("data:").map_or(line, str::trim_start)
}

/// What every SageMaker stream decoder shares: frames in, events out, AWS exceptions as
/// errors.
struct Frames {
    provider: String,
    requested_model: String,
    api_key: Option<String>,
    lines: Lines,
}

impl Frames {
    fn new(ctx: &ChatContext<'_>) -> Self {
        Frames {
            provider: ctx.provider.to_string(),
            requested_model: ctx.requested_model.to_string(),
            api_key: ctx.endpoint.key.clone(),
            lines: Lines::default(),
        }
    }

    /// The events of one frame; `ModelStreamError`/`InternalStreamFailure` as errors.
    fn events(&mut self, ev: &SseEvent) -> Result<Vec<String>, LlmError> {
        let name = ev.event.as_deref().unwrap_or("");
        if name == FRAMING_ERROR {
            return Err(LlmError::connection(
                &self.provider,
                &self.requested_model,
                &format!("corrupt event-stream frame: {}", ev.data),
            ));
        }
        if let Some(kind) = name
            .strip_prefix("exception:")
            .or_else(|| name.strip_prefix("error:"))
        {
            let json = serde_json::from_str::<Value>(&ev.data)
                .ok()
                .filter(Value::is_object)
                .or_else(|| Some(json!({"message": ev.data})));
            return Err(map_error(
                &self.provider,
                &self.requested_model,
                500,
                &ev.data,
                json,
                vec![("x-amzn-errortype".into(), kind.to_string())],
            ));
        }
        if name != PAYLOAD_PART {
            return Ok(Vec::new());
        }
        Ok(self.lines.push(&ev.data))
    }

    fn malformed(&self, what: &str, data: &str) -> LlmError {
        LlmError::malformed_event(
            &self.provider,
            &self.requested_model,
            what,
            data,
            self.api_key.as_deref(),
        )
    }
}

/// TGI's stream (`{"token": {"text", "special"}, "generated_text", "details"}` per
/// token) as OpenAI chunks. Special tokens (`</s>`) are not text and are left out.
pub struct TgiStreamDecoder {
    frames: Frames,
    model: String,
    id: String,
    created: u64,
    include_usage: bool,
    prompt_tokens: u64,
    completion_tokens: u64,
    started: bool,
    finished: bool,
}

impl TgiStreamDecoder {
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

    fn event(&mut self, data: &str, out: &mut Vec<Map<String, Value>>) -> Result<(), LlmError> {
        let event: Value = serde_json::from_str(data)
            .map_err(|e| self.frames.malformed(&format!("not JSON ({e})"), data))?;
        if let Some(message) = event.get("error").filter(|e| !e.is_null()) {
            let text = message
                .as_str()
                .map_or_else(|| message.to_string(), str::to_string);
            let kind = event
                .get("error_type")
                .and_then(Value::as_str)
                .unwrap_or("");
            let status = if kind == "validation" { 422 } else { 500 };
            return Err(map_error(
                &self.frames.provider,
                &self.frames.requested_model,
                status,
                &text,
                Some(json!({"message": text})),
                Vec::new(),
            ));
        }
        let Some(token) = event.get("token").filter(|t| t.is_object()) else {
            return Err(self.frames.malformed("no 'token' object", data));
        };
        let special = token.get("special").and_then(Value::as_bool) == Some(true);
        let text = token.get("text").and_then(Value::as_str).unwrap_or("");
        self.completion_tokens += 1;
        if !special && !text.is_empty() && text != "<|endoftext|>" {
            let delta = if self.started {
                json!({"content": text})
            } else {
                json!({"role": "assistant", "content": text})
            };
            self.started = true;
            out.push(self.chunk(delta, Value::Null));
        }
        let details = event.get("details").filter(|d| d.is_object());
        if details.is_some() || text == "<|endoftext|>" {
            self.finished = true;
            if let Some(n) = details
                .and_then(|d| d.get("generated_tokens"))
                .and_then(Value::as_u64)
            {
                self.completion_tokens = n;
            }
            out.push(self.chunk(json!({}), json!(finish_reason(details))));
            if self.include_usage {
                let mut c = self.chunk(json!({}), Value::Null);
                c.insert("choices".into(), json!([]));
                c.insert(
                    "usage".into(),
                    json!({"prompt_tokens": self.prompt_tokens,
                           "completion_tokens": self.completion_tokens,
                           "total_tokens": self.prompt_tokens + self.completion_tokens}),
                );
                out.push(c);
            }
        }
        Ok(())
    }
}

impl StreamDecoder for TgiStreamDecoder {
    fn decode(&mut self, ev: &SseEvent) -> Result<Decoded, LlmError> {
        let mut out = Vec::new();
        for data in self.frames.events(ev)? {
            if self.finished {
                continue;
            }
            self.event(&data, &mut out)?;
        }
        Ok(Decoded::Chunks(out))
    }
}

/// A Messages API container's stream: OpenAI chunks in `data:` lines.
pub struct MessagesStreamDecoder {
    frames: Frames,
    inner: Box<dyn StreamDecoder>,
}

impl StreamDecoder for MessagesStreamDecoder {
    fn decode(&mut self, ev: &SseEvent) -> Result<Decoded, LlmError> {
        let mut out = Vec::new();
        let mut done = false;
        for data in self.frames.events(ev)? {
            let line = SseEvent { event: None, data };
            match self.inner.decode(&line)? {
                Decoded::Chunks(chunks) => out.extend(chunks),
                Decoded::Simple(chunk) => out.push(chunk.to_map()),
                Decoded::Delta(event) => out.push(event.to_map()),
                Decoded::Events { events, .. } => out.extend(events),
                Decoded::Done => done = true,
            }
        }
        if done && out.is_empty() {
            return Ok(Decoded::Done);
        }
        Ok(Decoded::Chunks(out))
    }
}

// ---------------------------------------------------------------------------------------
// Adapters

/// `sagemaker/`: TGI's body both ways.
pub struct SagemakerAdapter;

impl Adapter for SagemakerAdapter {
    fn build_request(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
    ) -> Result<HttpRequest, LlmError> {
        build(ctx, body)
    }

    fn parse_response(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
        headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError> {
        self.parse_reply_to(ctx, &Map::new(), body, headers)
    }

    fn parse_reply_to(
        &self,
        ctx: &ChatContext<'_>,
        request: &Map<String, Value>,
        body: Map<String, Value>,
        _headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError> {
        match ctx.kind {
            Endpointkind::Embeddings => {
                let mut out = parse_embeddings(ctx, body)?;
                if let Some(Value::Array(inputs)) = request.get("text_inputs") {
                    out.insert("usage".into(), embedding_usage(inputs));
                }
                Ok(out)
            }
            _ => {
                let prompt_text = request.get("inputs").and_then(Value::as_str).unwrap_or("");
                parse_generation(ctx, body, prompt_text)
            }
        }
    }

    fn accepts_list_reply(&self) -> bool {
        true
    }

    fn framing(&self) -> Framing {
        Framing::AwsEventStream
    }

    fn stream_decoder(&self, ctx: &ChatContext<'_>) -> Box<dyn StreamDecoder> {
        self.stream_decoder_for(ctx, &Map::new())
    }

    fn stream_decoder_for(
        &self,
        ctx: &ChatContext<'_>,
        request: &Map<String, Value>,
    ) -> Box<dyn StreamDecoder> {
        let prompt_text = request.get("inputs").and_then(Value::as_str).unwrap_or("");
        Box::new(TgiStreamDecoder {
            frames: Frames::new(ctx),
            model: ctx.model.to_string(),
            id: completion_id(),
            created: unix_now(),
            include_usage: ctx.options.include_usage,
            prompt_tokens: count(prompt_text),
            completion_tokens: 0,
            started: false,
            finished: false,
        })
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

/// `sagemaker_chat/`: the OpenAI body both ways, SageMaker's URL, auth and stream frames.
pub struct SagemakerChatAdapter;

impl Adapter for SagemakerChatAdapter {
    fn build_request(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
    ) -> Result<HttpRequest, LlmError> {
        build(ctx, body)
    }

    fn parse_response(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
        headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError> {
        OpenAiAdapter.parse_response(ctx, body, headers)
    }

    fn framing(&self) -> Framing {
        Framing::AwsEventStream
    }

    fn stream_decoder(&self, ctx: &ChatContext<'_>) -> Box<dyn StreamDecoder> {
        Box::new(MessagesStreamDecoder {
            frames: Frames::new(ctx),
            inner: OpenAiAdapter.stream_decoder(ctx),
        })
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
    use crate::test_support::{assert_malformed, obj, with_chat_ctx, TEST_KEY};
    use crate::types::CallOptions;

    fn env(name: &str) -> Option<String> {
        match name {
            "AWS_ACCESS_KEY_ID" => Some("AKID".into()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret".into()),
            "AWS_REGION_NAME" => Some("eu-central-1".into()),
            _ => None,
        }
    }

    fn with_ctx<T>(
        provider: &str,
        kind: Endpointkind,
        stream: bool,
        options: CallOptions,
        f: impl FnOnce(&ChatContext<'_>) -> T,
    ) -> T {
        let endpoint = super::super::Endpoint {
            base: DEFAULT_BASE.into(),
            key: Some(String::new()),
        };
        let ctx = ChatContext {
            kind,
            provider,
            model: "my endpoint",
            requested_model: "sagemaker/my endpoint",
            endpoint: &endpoint,
            options: &options,
            stream,
            env: &env,
        };
        f(&ctx)
    }

    #[test]
    fn prompts_follow_litellms_templates() {
        let messages = [
            json!({"role": "system", "content": "S"}),
            json!({"role": "user", "content": [{"type": "text", "text": "U1"}]}),
            json!({"role": "assistant", "content": "A"}),
            json!({"role": "user", "content": "U2"}),
        ];
        assert_eq!(
            prompt("ep", None, &messages).ok().as_deref(),
            Some("S U1 A U2")
        );
        assert_eq!(
            prompt("jumpstart-llama-2-7b-chat", None, &messages).ok().as_deref(),
            Some("<s>[INST] <<SYS>>\nS\n<</SYS>>\n [/INST]\n[INST] U1 [/INST]\nA\n</s>[INST] U2 [/INST]\n")
        );
        // A llama-2 base model has no chat template: the contents are joined.
        assert_eq!(
            prompt("llama-2-7b", None, &messages).ok().as_deref(),
            Some("S U1 A U2")
        );
        assert!(
            prompt("ep", Some("meta-llama/Llama-2-13b-chat-hf"), &messages[..1])
                .is_ok_and(|p| p.starts_with("<s>[INST] <<SYS>>"))
        );
        let image = [
            json!({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}),
        ];
        assert!(prompt("ep", None, &image).is_err());
    }

    #[test]
    fn parameters_are_mapped_as_litellm_maps_them() {
        let mut body =
            obj(json!({"temperature": 0, "max_tokens": 0, "n": 3, "stop": "x", "top_k": 4}));
        assert_eq!(
            Value::Object(parameters(&mut body)),
            json!({"temperature": 0.01, "best_of": 3, "do_sample": true, "stop": "x", "max_new_tokens": 1, "top_k": 4})
        );
        let mut body = obj(
            json!({"temperature": 0, "aws_sagemaker_allow_zero_temp": true, "max_completion_tokens": 7}),
        );
        assert_eq!(
            Value::Object(parameters(&mut body)),
            json!({"temperature": 0, "max_new_tokens": 7})
        );
    }

    #[test]
    fn requests_go_to_the_regions_runtime_or_api_base() {
        let body = obj(
            json!({"model": "my endpoint", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}),
        );
        let req = with_ctx(
            "sagemaker",
            Endpointkind::Chat,
            false,
            CallOptions::default(),
            |ctx| build(ctx, body.clone()),
        );
        let req = req.expect("request");
        assert_eq!(
            req.url,
            "https://runtime.sagemaker.eu-central-1.amazonaws.com/endpoints/my%20endpoint/invocations"
        );
        assert_eq!(
            Value::Object(req.body),
            json!({"parameters": {"max_new_tokens": 5}, "inputs": "hi"})
        );
        let options = CallOptions {
            api_base: Some("http://127.0.0.1:9/".into()),
            ..CallOptions::default()
        };
        let req = with_ctx("sagemaker", Endpointkind::Chat, true, options, |ctx| {
            let ctx = ChatContext {
                endpoint: &super::super::Endpoint {
                    base: "http://127.0.0.1:9/".into(),
                    key: None,
                },
                ..*ctx
            };
            build(&ctx, body.clone())
        })
        .expect("request");
        assert_eq!(
            req.url,
            "http://127.0.0.1:9/endpoints/my%20endpoint/invocations-response-stream"
        );
        assert_eq!(req.body.get("stream"), Some(&json!(true)));
        // The Messages API body is OpenAI's, without the stream flag.
        let chat = with_ctx(
            "sagemaker_chat",
            Endpointkind::Chat,
            true,
            CallOptions::default(),
            |ctx| {
                let mut b = body.clone();
                b.insert("stream".into(), json!(true));
                build(ctx, b)
            },
        )
        .expect("request");
        assert_eq!(chat.body.get("model"), Some(&json!("my endpoint")));
        assert!(!chat.body.contains_key("stream"));
    }

    #[test]
    fn missing_credentials_are_an_authentication_error() {
        let endpoint = super::super::Endpoint {
            base: DEFAULT_BASE.into(),
            key: None,
        };
        let options = CallOptions::default();
        let ctx = ChatContext {
            kind: Endpointkind::Chat,
            provider: "sagemaker",
            model: "ep",
            requested_model: "sagemaker/ep",
            endpoint: &endpoint,
            options: &options,
            stream: false,
            env: &crate::test_support::no_env,
        };
        let err = build(&ctx, obj(json!({"messages": []}))).err();
        let err = err.expect("an error");
        assert_eq!(err.kind, ErrorKind::Authentication);
        assert!(err.message.contains("AWS_ACCESS_KEY_ID"));
        assert!(!err.message.contains("BEDROCK"));
    }

    #[test]
    fn tgi_replies_and_embeddings_are_read() {
        with_chat_ctx(Endpointkind::Chat, "sagemaker", "ep", false, |ctx| {
            let list = obj(
                json!({LIST_REPLY: [{"generated_text": "<s>P ok", "details": {"finish_reason": "length", "generated_tokens": 7}}]}),
            );
            let out = parse_generation(ctx, list, "<s>P ").expect("reply");
            assert_eq!(out["choices"][0]["message"]["content"], json!("ok"));
            assert_eq!(out["choices"][0]["finish_reason"], json!("length"));
            assert_eq!(out["usage"]["completion_tokens"], json!(7));
            // Without `<s>` the echoed text is kept, as LiteLLM keeps it.
            let list = obj(json!({LIST_REPLY: [{"generated_text": "P ok"}]}));
            let out = parse_generation(ctx, list, "P ").expect("reply");
            assert_eq!(out["choices"][0]["message"]["content"], json!("P ok"));
            let single = obj(json!({"generation": "g"}));
            assert!(parse_generation(ctx, single, "").is_ok());
            for bad in crate::test_support::foreign_replies(&[]) {
                assert_malformed(parse_generation(ctx, bad, "").err(), "generated_text");
            }
            let echo = obj(json!({LIST_REPLY: [{"x": TEST_KEY}]}));
            assert_malformed(parse_generation(ctx, echo, "").err(), "generated_text");
        });
        with_chat_ctx(Endpointkind::Embeddings, "sagemaker", "emb", false, |ctx| {
            let out =
                parse_embeddings(ctx, obj(json!({"embedding": [[1.0], [2.0]]}))).expect("reply");
            assert_eq!(
                out["data"][1],
                json!({"object": "embedding", "index": 1, "embedding": [2.0]})
            );
            let out = parse_embeddings(ctx, obj(json!({LIST_REPLY: [[3.0]]}))).expect("reply");
            assert_eq!(out["data"][0]["embedding"], json!([3.0]));
            assert_malformed(
                parse_embeddings(ctx, obj(json!({"embedding": [1.0]}))).err(),
                "embedding",
            );
            assert_malformed(parse_embeddings(ctx, obj(json!({}))).err(), "embedding");
        });
        assert_eq!(
            embedding_usage(&[json!("hello world")])["prompt_tokens"],
            json!(2)
        );
    }

    #[test]
    fn errors_map_by_aws_type_and_the_containers_status() {
        let err = map_error(
            "sagemaker",
            "m",
            424,
            "{}",
            Some(json!({"OriginalStatusCode": 429, "Message": "busy"})),
            vec![("x-amzn-errortype".into(), "ModelError".into())],
        );
        assert_eq!(err.kind, ErrorKind::RateLimit);
        let raw = "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048";
        let err = map_error(
            "sagemaker",
            "m",
            424,
            raw,
            Some(json!({"OriginalStatusCode": 422, "Message": raw})),
            Vec::new(),
        );
        assert_eq!(err.kind, ErrorKind::ContextWindowExceeded);
        let err = map_error(
            "sagemaker",
            "m",
            400,
            "{}",
            Some(json!({"message": "throttled"})),
            vec![("x-amzn-errortype".into(), "ThrottlingException".into())],
        );
        assert_eq!(err.kind, ErrorKind::RateLimit);
        assert!(
            err.message.contains("SagemakerException"),
            "{}",
            err.message
        );
    }

    fn part(data: &str) -> SseEvent {
        SseEvent {
            event: Some(PAYLOAD_PART.into()),
            data: data.into(),
        }
    }

    fn texts(out: Decoded) -> Vec<Map<String, Value>> {
        match out {
            Decoded::Chunks(c) => c,
            other => panic!("expected chunks, got {other:?}"),
        }
    }

    #[test]
    fn tgi_streams_join_lines_split_across_frames() {
        let options = CallOptions {
            include_usage: true,
            ..CallOptions::default()
        };
        with_ctx("sagemaker", Endpointkind::Chat, true, options, |ctx| {
            let request = obj(json!({"inputs": "hello world"}));
            let mut d = SagemakerAdapter.stream_decoder_for(ctx, &request);
            let first = texts(
                d.decode(&part("data:{\"token\": {\"text\": \"He\", \"spe"))
                    .expect("ok"),
            );
            assert!(first.is_empty());
            let out = texts(d.decode(&part("cial\": false}}\n\ndata:{\"token\": {\"text\": \"y\", \"special\": false}}\n\n")).expect("ok"));
            assert_eq!(out.len(), 2);
            assert_eq!(
                out[0]["choices"][0]["delta"],
                json!({"role": "assistant", "content": "He"})
            );
            assert_eq!(out[1]["choices"][0]["delta"], json!({"content": "y"}));
            let end = "data:{\"token\": {\"text\": \"</s>\", \"special\": true}, \"generated_text\": \"Hey\", \"details\": {\"finish_reason\": \"eos_token\", \"generated_tokens\": 3}}\n\n";
            let out = texts(d.decode(&part(end)).expect("ok"));
            assert_eq!(out.len(), 2);
            assert_eq!(out[0]["choices"][0]["finish_reason"], json!("stop"));
            assert_eq!(
                out[1]["usage"],
                json!({"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5})
            );
            // Other frame types are skipped; AWS exceptions are errors; junk is malformed.
            let other = SseEvent {
                event: Some("initial-response".into()),
                data: "{}".into(),
            };
            assert!(texts(d.decode(&other).expect("ok")).is_empty());
        });
        with_ctx(
            "sagemaker",
            Endpointkind::Chat,
            true,
            CallOptions::default(),
            |ctx| {
                let mut d = SagemakerAdapter.stream_decoder(ctx);
                let exc = SseEvent {
                    event: Some("exception:ModelStreamError".into()),
                    data: "{\"Message\": \"boom\", \"ErrorCode\": \"x\"}".into(),
                };
                let err = d.decode(&exc).expect_err("an error");
                assert_eq!(err.kind, ErrorKind::InternalServer);
                let err = d.decode(&part("data: not json\n")).expect_err("an error");
                assert!(err.message.contains("not JSON"), "{}", err.message);
                let err = d.decode(&part("data:{\"error\": \"Input validation error: bad\", \"error_type\": \"validation\"}\n")).expect_err("an error");
                assert_eq!(err.kind, ErrorKind::UnprocessableEntity);
            },
        );
    }

    #[test]
    fn messages_streams_carry_openai_chunks() {
        with_ctx(
            "sagemaker_chat",
            Endpointkind::Chat,
            true,
            CallOptions::default(),
            |ctx| {
                let mut d = SagemakerChatAdapter.stream_decoder(ctx);
                let chunk = json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": null}]});
                let out = texts(
                    d.decode(&part(&format!("data: {chunk}\n\ndata: {chunk}\n\n")))
                        .expect("ok"),
                );
                assert_eq!(out.len(), 2);
                assert_eq!(out[0]["choices"][0]["delta"]["content"], json!("hi"));
                assert!(matches!(
                    d.decode(&part("data: [DONE]\n\n")),
                    Ok(Decoded::Done)
                ));
            },
        );
    }
}
