//! One direct call, end to end: resolve, check, send (with retries), map the reply.
//!
//! Everything here runs before or after the network without Python: the binding layer
//! hands in JSON values and gets back the provider's JSON plus the hidden parameters.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use tokio::sync::mpsc;

use crate::catalogue::cost::{self, CustomPrices};
use crate::error::{map_http_error, redact_key, ErrorKind, LlmError};
use crate::logging::{self, HttpLog, Level, Target};
use crate::messages;
use crate::providers::{self, ChatContext, Endpoint, Endpointkind, ProviderSpec, WireFormat};
use crate::responses::{self, bridge::Bridge};
use crate::router::{Cacheable, Routed};
use crate::stream::{self, Batch, StreamContext};
use crate::transport;
use crate::types::messages::normalise_messages;
use crate::types::{check, split_kwargs, CallOptions};

/// LiteLLM's default for direct calls (the openai SDK's `x-stainless-read-timeout: 600`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// The openai SDK's default, which LiteLLM keeps on OpenAI-compatible routes.
pub const DEFAULT_RETRIES: u32 = 2;

/// A prepared request: everything checked, nothing sent yet.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub kind: Endpointkind,
    pub provider: String,
    pub format: WireFormat,
    /// The model as the provider sees it (prefix removed).
    pub model: String,
    /// The model string the caller passed (`litellm_model_name`).
    pub requested_model: String,
    pub endpoint: Endpoint,
    /// The provider request: URL, headers (the caller's on top), body.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Map<String, Value>,
    pub options: CallOptions,
    /// `stream=True` was asked for.
    pub stream: bool,
    /// `n` (choices asked for) and `stream_options.include_usage`, read by mocks.
    pub n: u64,
    pub include_usage: bool,
    /// Set for a Responses call bridged over chat completions (`crate::responses`): the
    /// request is chat; the reply and stream are turned back into a Response.
    pub bridge: Option<Arc<Bridge>>,
    /// Set for an Anthropic Messages call translated over chat completions
    /// (`crate::messages`): the reply and stream are turned back into Anthropic's.
    pub messages_bridge: Option<Arc<messages::Bridge>>,
}

impl Prepared {
    /// What the provider adapter reads.
    pub fn context(&self) -> ChatContext<'_> {
        ChatContext {
            kind: self.kind,
            provider: &self.provider,
            model: &self.model,
            requested_model: &self.requested_model,
            endpoint: &self.endpoint,
            options: &self.options,
            stream: self.stream,
            env: &env_var,
        }
    }

    fn adapter(&self) -> &'static dyn providers::Adapter {
        providers::adapter(self.format)
    }
}

/// The provider's reply and what LiteLLM keeps in `_hidden_params`.
#[derive(Debug, Clone)]
pub struct Reply {
    pub body: Map<String, Value>,
    pub provider: String,
    pub api_base: String,
    pub requested_model: String,
    /// Response headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    pub response_ms: f64,
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Resolve the provider of a call and check that rustllm can route it.
pub fn resolve(options: &CallOptions) -> Result<(String, String, &'static ProviderSpec), LlmError> {
    let (model, provider) = providers::get_llm_provider(
        &options.model,
        options.custom_llm_provider.as_deref(),
        options.api_base.as_deref(),
    )
    .map_err(|e| providers::explain_unresolved(e, &options.model))?;
    match providers::spec(&provider) {
        Some(spec) => Ok((model, provider, spec)),
        None => Err(LlmError::bad_request(format!(
            "rustllm does not route provider '{provider}' yet (model={}). Providers that speak the OpenAI format work today; for an OpenAI-compatible server pass custom_llm_provider=\"openai\" and api_base=...",
            options.model
        ))
        .with_context(&provider, &options.model)),
    }
}

/// Providers whose `/completions` endpoint serves a prompt as it is.
const OPENAI_FAMILY: &[&str] = &["openai", "custom_openai", "text-completion-openai"];

/// Where a text completion goes, as LiteLLM decides it: `(true, _)` for the chat endpoint
/// (every provider outside the OpenAI family, and catalogued OpenAI chat models), `(false,
/// _)` for `/completions`. An `openai` model bound for `/completions` comes back renamed
/// `text-completion-openai/<model>` (same endpoint and key; the catalogue prices it under
/// that name), which the caller substitutes, dropping `custom_llm_provider`. A model whose
/// provider cannot be resolved goes to `/completions`, where the call reports the error.
/// The SDK's `text_completion` and the proxy's `/completions` both ask here.
pub fn text_route(
    model: &str,
    custom_llm_provider: Option<&str>,
    api_base: Option<&str>,
) -> (bool, Option<String>) {
    let Ok((stripped, provider)) =
        providers::get_llm_provider(model, custom_llm_provider, api_base)
    else {
        return (false, None);
    };
    if provider == "text-completion-openai" {
        return (false, None);
    }
    if !OPENAI_FAMILY.contains(&provider.as_str()) {
        return (true, None);
    }
    if let Ok(info) = crate::catalogue::models::model_info(&stripped, Some("openai")) {
        let is = |k: &str, v: &str| info.get(k).and_then(Value::as_str) == Some(v);
        if is("mode", "chat") && is("litellm_provider", "openai") {
            return (true, None);
        }
    }
    let renamed = (provider == "openai").then(|| format!("text-completion-openai/{stripped}"));
    (false, renamed)
}

/// Split the keyword arguments, check the inputs and build the request. Every input
/// error surfaces here, before any network I/O.
pub fn prepare(kind: Endpointkind, kwargs: Map<String, Value>) -> Result<Prepared, LlmError> {
    prepare_with_env(kind, kwargs, &env_var)
}

pub fn prepare_with_env(
    kind: Endpointkind,
    mut kwargs: Map<String, Value>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Prepared, LlmError> {
    let mut own = Map::new();
    if kind == Endpointkind::AnthropicMessages {
        messages::check_request(&kwargs).map_err(|e| call_context(e, &kwargs))?;
        match messages_served_natively(&kwargs) {
            Native::Yes => {
                // Anthropic's shapes, checked above and sent as they are.
                for name in messages::OWN_FIELDS {
                    if let Some(v) = kwargs.remove(*name).filter(|v| !v.is_null()) {
                        own.insert((*name).into(), v);
                    }
                }
            }
            Native::No { reasoning } => {
                let context = context_keys(&kwargs);
                let (chat, bridge) =
                    messages::to_chat(kwargs, reasoning).map_err(|e| call_context(e, &context))?;
                let mut p = prepare_with_env(Endpointkind::Chat, chat, env)?;
                p.messages_bridge = Some(Arc::new(bridge));
                return Ok(p);
            }
        }
    }
    if kind == Endpointkind::Responses {
        responses::check_request(&kwargs).map_err(|e| call_context(e, &kwargs))?;
        if !responses_served_natively(&kwargs) {
            let context = context_keys(&kwargs);
            let (chat, bridge) =
                responses::bridge::to_chat(kwargs).map_err(|e| call_context(e, &context))?;
            let mut p = prepare_with_env(Endpointkind::Chat, chat, env)?;
            p.bridge = Some(Arc::new(bridge));
            return Ok(p);
        }
        // Their shapes are the Responses API's, not chat's: checked above, sent as they are.
        for name in responses::OWN_FIELDS {
            if let Some(v) = kwargs.remove(*name).filter(|v| !v.is_null()) {
                own.insert((*name).into(), v);
            }
        }
    }
    // An image's `response_format` is "url" or "b64_json", speech's "mp3", ...: not
    // chat's object (`images.rs` and `speech.rs` check them).
    let media_format = match kind {
        Endpointkind::ImageGeneration
        | Endpointkind::ImageEdit
        | Endpointkind::Speech
        | Endpointkind::Transcription => kwargs.remove("response_format"),
        _ => None,
    };
    check::kwargs(&kwargs).map_err(|e| call_context(e, &kwargs))?;
    if let Some(format) = media_format.filter(|f| !f.is_null()) {
        if matches!(
            kind,
            Endpointkind::ImageGeneration | Endpointkind::ImageEdit
        ) {
            providers::images::check_response_format(&format)
                .map_err(|e| call_context(e, &kwargs))?;
        }
        kwargs.insert("response_format".into(), format);
    }
    // The file to upload (`{"path", "filename"?, "content_type"?}`, see `multipart.rs`).
    let file = match kind {
        Endpointkind::Transcription => kwargs.remove("file"),
        Endpointkind::ImageEdit => kwargs.remove("image"),
        _ => None,
    };
    let mask = match kind {
        Endpointkind::ImageEdit => kwargs.remove("mask"),
        _ => None,
    };
    let messages = kwargs.remove("messages");
    let input = kwargs.remove("input");
    let prompt = kwargs.remove("prompt");
    let (query, documents) = match kind {
        Endpointkind::Rerank => (kwargs.remove("query"), kwargs.remove("documents")),
        _ => (None, None),
    };
    // `model` is optional for a moderation, as in LiteLLM: OpenAI then picks its default
    // model, so none is sent.
    let omit_model = kind == Endpointkind::Moderation
        && kwargs.get("model").is_none_or(|m| m.is_null() || m == "");
    if omit_model {
        kwargs.insert(
            "model".into(),
            Value::String("omni-moderation-latest".into()),
        );
        kwargs
            .entry("custom_llm_provider")
            .or_insert(Value::String("openai".into()));
    }
    let split = split_kwargs(kwargs)?;
    let options = split.options;
    let (model, provider, spec) = resolve(&options)?;
    let ctx = |e: LlmError| e.with_context(&provider, &options.model);

    let mut body = Map::with_capacity(split.body.len() + 2);
    body.insert("model".into(), Value::String(model.clone()));
    match kind {
        Endpointkind::Chat => {
            let messages =
                normalise_messages(messages, check::part_types(spec.format)).map_err(ctx)?;
            body.insert("messages".into(), Value::Array(messages));
        }
        Endpointkind::Embeddings => {
            let input = input.unwrap_or(Value::Null);
            check::embedding_input(&input).map_err(ctx)?;
            body.insert("input".into(), input);
        }
        Endpointkind::TextCompletion => {
            body.insert(
                "prompt".into(),
                prompt.unwrap_or(Value::String(String::new())),
            );
        }
        Endpointkind::Rerank => {
            providers::rerank::check_inputs(query.as_ref(), documents.as_ref()).map_err(ctx)?;
            body.insert("query".into(), query.unwrap_or(Value::Null));
            body.insert("documents".into(), documents.unwrap_or(Value::Null));
        }
        Endpointkind::Moderation => {
            if spec.format != WireFormat::OpenAi {
                return Err(ctx(LlmError::bad_request(format!(
                    "rustllm serves moderation for OpenAI-format providers only (OpenAI's /moderations), not '{provider}'"
                ))));
            }
            providers::rerank::check_moderation_input(input.as_ref()).map_err(ctx)?;
            if omit_model {
                body.shift_remove("model");
            }
            body.insert("input".into(), input.unwrap_or(Value::Null));
        }
        Endpointkind::Responses | Endpointkind::AnthropicMessages => body.extend(own),
        Endpointkind::ImageGeneration => {
            providers::images::check_generation_format(&provider, spec.format, &model)
                .map_err(ctx)?;
            providers::images::check_prompt(prompt.as_ref()).map_err(ctx)?;
            providers::images::check_params(&split.body).map_err(ctx)?;
            body.insert("prompt".into(), prompt.unwrap_or(Value::Null));
        }
        Endpointkind::ImageEdit => {
            providers::images::check_format(&provider, spec.format).map_err(ctx)?;
            providers::images::check_prompt(prompt.as_ref()).map_err(ctx)?;
            providers::images::check_params(&split.body).map_err(ctx)?;
            providers::images::check_edit_files(file.as_ref(), mask.as_ref()).map_err(ctx)?;
            body.insert("prompt".into(), prompt.unwrap_or(Value::Null));
            body.insert("image".into(), file.unwrap_or(Value::Null));
            if let Some(mask) = mask.filter(|m| !m.is_null()) {
                body.insert("mask".into(), mask);
            }
        }
        Endpointkind::Transcription => {
            providers::transcription::check_format(&provider, spec.format).map_err(ctx)?;
            providers::transcription::check_request(file.as_ref(), prompt.as_ref(), &split.body)
                .map_err(ctx)?;
            if let Some(prompt) = prompt.filter(|p| !p.is_null()) {
                body.insert("prompt".into(), prompt);
            }
            body.insert("file".into(), file.unwrap_or(Value::Null));
        }
        Endpointkind::Speech => {
            providers::speech::check_format(&provider, spec.format).map_err(ctx)?;
            providers::speech::check_request(input.as_ref(), &split.body).map_err(ctx)?;
            body.insert("input".into(), input.unwrap_or(Value::Null));
        }
    }
    body.extend(split.body);

    let endpoint = match providers::resolve_endpoint(
        spec,
        options.api_base.as_deref(),
        options.api_key.as_deref(),
        env,
    ) {
        Ok(e) => e,
        // A mocked call never reaches the provider, so it needs no key (as in LiteLLM).
        Err(_) if options.mock_response.is_some() || options.mock_timeout => Endpoint {
            base: options
                .api_base
                .clone()
                .or(spec.default_base.map(str::to_string))
                .unwrap_or_default(),
            key: None,
        },
        Err(e) => return Err(ctx(e)),
    };
    let stream = body.get("stream").and_then(Value::as_bool) == Some(true);
    let n = body.get("n").and_then(Value::as_u64).unwrap_or(1);
    let include_usage = options.include_usage;
    if !stream {
        // OpenAI and vLLM refuse `stream_options` without `stream=True`; frameworks often
        // set it on every call (LiteLLM forwards it and the call fails), so it is not sent.
        body.shift_remove("stream_options");
    }
    let mut p = Prepared {
        kind,
        requested_model: options.model.clone(),
        provider,
        format: spec.format,
        model,
        endpoint,
        url: String::new(),
        headers: Vec::new(),
        body: Map::new(),
        options,
        stream,
        n,
        include_usage,
        bridge: None,
        messages_bridge: None,
    };
    let request = {
        let ctx = ChatContext { env, ..p.context() };
        match kind {
            Endpointkind::Rerank => providers::rerank::build_request(&ctx, p.format, body),
            _ => p.adapter().build_request(&ctx, body),
        }
        .map_err(|e| e.with_context(&p.provider, &p.requested_model))?
    };
    let mut headers = request.headers;
    for (k, v) in &p.options.headers {
        headers.retain(|(existing, _)| existing != k);
        headers.push((k.clone(), v.clone()));
    }
    // A key from the environment (or a config file) can end in a line break; the transport
    // would fail with a misleading connection error. Values are never shown (keys).
    if let Some((name, _)) = headers.iter().find(|(_, v)| !check::is_header_value(v)) {
        return Err(LlmError::bad_request(format!(
            "the {name:?} header of this call contains a line break or another character not allowed in HTTP headers (the value is not shown); if it carries an API key, check the key (api_key or the provider's environment variable)"
        ))
        .with_context(&p.provider, &p.requested_model));
    }
    p.url = request.url;
    p.headers = headers;
    p.body = request.body;
    Ok(p)
}

/// Whether a Responses call goes to the provider's own Responses API (OpenAI, Azure) or
/// over chat completions. A mocked call is bridged: its mock is a chat reply.
fn responses_served_natively(kwargs: &Map<String, Value>) -> bool {
    let text = |k: &str| kwargs.get(k).and_then(Value::as_str);
    if kwargs.get("mock_response").is_some_and(|m| !m.is_null()) {
        return false;
    }
    providers::get_llm_provider(
        text("model").unwrap_or_default(),
        text("custom_llm_provider"),
        text("base_url").or(text("api_base")),
    )
    .is_ok_and(|(_, provider)| responses::is_native(&provider))
}

/// Whether an Anthropic Messages call goes to the provider as it is.
enum Native {
    Yes,
    /// Translated over chat; `reasoning` when the model takes `reasoning_effort`.
    No {
        reasoning: bool,
    },
}

/// Whether an Anthropic Messages call goes as it is (Anthropic, Vertex AI's Claude) or
/// over chat completions. A mocked call is translated: its mock is a chat reply.
fn messages_served_natively(kwargs: &Map<String, Value>) -> Native {
    let text = |k: &str| kwargs.get(k).and_then(Value::as_str);
    let resolved = providers::get_llm_provider(
        text("model").unwrap_or_default(),
        text("custom_llm_provider"),
        text("base_url").or(text("api_base")),
    );
    let mocked = kwargs.get("mock_response").is_some_and(|m| !m.is_null());
    match resolved {
        Ok((model, provider)) if !mocked && messages::is_native(&provider, &model) => Native::Yes,
        Ok((model, provider)) => Native::No {
            reasoning: crate::catalogue::models::model_info(&model, Some(&provider))
                .is_ok_and(|info| info.get("supports_reasoning") == Some(&Value::Bool(true))),
        },
        Err(_) => Native::No { reasoning: false },
    }
}

/// The provider and model of a call that failed its checks, as far as they resolve.
/// The keys [`call_context`] reads, for a call whose kwargs are handed on (not cloned:
/// they hold the whole conversation).
fn context_keys(kwargs: &Map<String, Value>) -> Map<String, Value> {
    ["model", "custom_llm_provider", "base_url", "api_base"]
        .iter()
        .filter_map(|k| kwargs.get(*k).map(|v| ((*k).to_string(), v.clone())))
        .collect()
}

fn call_context(e: LlmError, kwargs: &Map<String, Value>) -> LlmError {
    let text = |k: &str| kwargs.get(k).and_then(Value::as_str);
    let model = text("model").unwrap_or_default();
    let provider = providers::get_llm_provider(
        model,
        text("custom_llm_provider"),
        text("base_url").or(text("api_base")),
    )
    .map(|(_, p)| p)
    .unwrap_or_default();
    e.with_context(&provider, model)
}

/// How long to wait before retry number `attempt` (0-based), as the openai SDK does:
/// the provider's `Retry-After` when it is within a minute, else 0.5 s doubling up to 8 s,
/// less up to 25 % jitter.
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(ra) = retry_after.filter(|d| *d <= Duration::from_secs(60)) {
        return ra;
    }
    let base = (0.5 * 2f64.powi(attempt.min(10) as i32)).min(8.0);
    Duration::from_secs_f64(base * (1.0 - 0.25 * fastrand::f64()))
}

pub(crate) fn lower_headers(map: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_string(), v.to_string()))
        })
        .collect()
}

/// Send the request and wait for the status line and headers. A non-2xx reply is read
/// to the end and mapped to its error.
async fn open(
    p: &Prepared,
    payload: bytes::Bytes,
    total_timeout: Option<Duration>,
) -> Result<(reqwest::Response, Option<HttpLog>), LlmError> {
    let client = transport::client(&p.options.tls, &p.url).map_err(|e| {
        LlmError::bad_request(format!("ssl settings: {}", e.0))
            .with_context(&p.provider, &p.requested_model)
    })?;
    let mut req = match transport::parsed_url(&p.url) {
        Some(url) => client.post(url),
        None => client.post(&p.url),
    };
    if let Some(t) = total_timeout {
        req = req.timeout(t);
    }
    for (k, v) in &p.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    // Vertex AI's OAuth token is minted (or taken from its cache) per attempt, so a
    // retry after expiry gets a fresh one; a caller's own Authorization header wins.
    if p.format == WireFormat::Vertex && !p.headers.iter().any(|(k, _)| k == "authorization") {
        let token = providers::vertex::access_token(&p.options, env_var)
            .await
            .map_err(|e| e.with_context(&p.provider, &p.requested_model))?;
        req = req.header("authorization", format!("Bearer {token}"));
    }
    // Bedrock's SigV4 signature covers these exact bytes and the time, so it is made per
    // attempt; a caller's own Authorization header (or a bearer token) is sent as is.
    if p.format == WireFormat::Bedrock && !p.headers.iter().any(|(k, _)| k == "authorization") {
        let signed = providers::bedrock::sign(&p.options, &p.endpoint, &p.url, &payload, &env_var)
            .map_err(|e| e.with_context(&p.provider, &p.requested_model))?;
        for (k, v) in signed {
            req = req.header(k, v);
        }
    }
    // SageMaker's the same way, as service `sagemaker` (it has no bearer tokens).
    if matches!(p.format, WireFormat::Sagemaker | WireFormat::SagemakerChat)
        && !p.headers.iter().any(|(k, _)| k == "authorization")
    {
        let creds = providers::bedrock::credentials(&p.options, &env_var, &p.provider)
            .map_err(|e| e.with_context(&p.provider, &p.requested_model))?;
        for (k, v) in providers::bedrock::sign_with(&creds, "sagemaker", &p.url, &payload) {
            req = req.header(k, v);
        }
    }
    let req = if p.kind.is_upload() {
        // The file is read from disk as it is sent (`multipart.rs`), per attempt.
        let form = providers::multipart::Form::from_body(&p.body)
            .map_err(|e| e.with_context(&p.provider, &p.requested_model))?;
        req.header("content-type", form.content_type())
            .header("content-length", form.len())
            .body(reqwest::Body::wrap_stream(form.into_stream()))
    } else {
        req.header("content-type", "application/json").body(payload)
    };
    let (sent, log) = if logging::enabled(Target::Calls, Level::Debug) {
        send_logged(p, req).await
    } else {
        (req.send().await, None)
    };
    let resp = sent.map_err(|e| transport_error(p, &e, total_timeout))?;
    let status = resp.status().as_u16();
    if (200..300).contains(&status) {
        return Ok((resp, log));
    }
    let headers = lower_headers(resp.headers());
    if (300..400).contains(&status) {
        if let Some(log) = &log {
            log.response(status, b"");
        }
        return Err(redirect_error(p, status, headers));
    }
    let key = p.endpoint.key.as_deref();
    let bytes = resp.bytes().await.map_err(|e| {
        if let Some(log) = &log {
            log.failed(&transport::transport_detail(&e));
        }
        transport_error(p, &e, total_timeout)
    })?;
    if let Some(log) = &log {
        log.response(status, &bytes);
    }
    let raw = redact_key(&String::from_utf8_lossy(&bytes), key);
    let json = serde_json::from_str::<Value>(&raw).ok();
    let mut err = p
        .adapter()
        .map_error(&p.context(), status, &raw, json, headers);
    if err.kind == ErrorKind::NotFound && status == 404 {
        // A 404 is as often a wrong api_base (`/v2` for `/v1`, a missing `/openai`) as an
        // unknown model, and the body rarely says which: name the URL that was called.
        err.message.push_str(&format!(
            " (POST {})",
            crate::error::display_url(&p.url, key)
        ));
    }
    Err(err)
}

/// `req.send()` with the request logged first, as it goes over the wire (the headers the
/// adapter, the caller and the signer set), every credential masked; a request that gets
/// no reply is logged too. Only while `LiteLLM` logs at DEBUG.
async fn send_logged(
    p: &Prepared,
    req: reqwest::RequestBuilder,
) -> (reqwest::Result<reqwest::Response>, Option<HttpLog>) {
    let (client, request) = req.build_split();
    let request = match request {
        Ok(r) => r,
        Err(e) => return (Err(e), None),
    };
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(k, v)| {
            let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (k.as_str().to_string(), value)
        })
        .collect();
    let body = request
        .body()
        .and_then(|b| b.as_bytes())
        .unwrap_or_default();
    let mut secrets = logging::Secrets::new();
    if let Some(key) = p.endpoint.key.as_deref() {
        secrets.add(key);
    }
    // The transport moves a password in the URL to an `Authorization: Basic` header; the
    // password itself is masked wherever else it turns up.
    logging::mask_url(&p.url, &mut secrets);
    let log = HttpLog::request(request.url().as_str(), &headers, body, secrets);
    let result = client.execute(request).await;
    if let Err(e) = &result {
        log.failed(&transport::transport_detail(e));
    }
    (result, Some(log))
}

/// A 3xx the transport did not follow (see `transport`'s module docs): an error naming
/// where it pointed (without its query, which may hold a token) and what to change.
fn redirect_error(p: &Prepared, status: u16, headers: Vec<(String, String)>) -> LlmError {
    let target = headers
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.split(['?', '#']).next().unwrap_or_default().to_string())
        .unwrap_or_else(|| "nowhere (no Location header)".to_string());
    let text = format!(
        "the provider answered {status} redirecting {} to {target}. rustllm follows only 307/308 redirects on the same scheme, host and port: any other would send your API key to another server or drop the request body. Set api_base to the final URL.",
        p.url.split('?').next().unwrap_or_default()
    );
    let mut e = LlmError::new(ErrorKind::Api, text).with_context(&p.provider, &p.requested_model);
    e.message = format!(
        "APIError: {} - {}",
        crate::error::provider_exception_name(&p.provider),
        e.message
    );
    e.status = status;
    e.headers = headers;
    e
}

pub(crate) fn transport_error(
    p: &Prepared,
    e: &reqwest::Error,
    timeout: Option<Duration>,
) -> LlmError {
    if e.is_timeout() {
        LlmError::timeout(&p.provider, &p.requested_model, timeout)
    } else {
        let detail = redact_key(&transport::transport_detail(e), p.endpoint.key.as_deref());
        LlmError::connection(&p.provider, &p.requested_model, &detail)
    }
}

fn serialise(body: &Map<String, Value>) -> Result<bytes::Bytes, LlmError> {
    serde_json::to_vec(body)
        .map(bytes::Bytes::from)
        .map_err(|e| LlmError::bad_request(format!("request body is not JSON-serialisable: {e}")))
}

/// One complete request/response exchange.
async fn attempt(
    p: &Prepared,
    payload: bytes::Bytes,
    timeout: Duration,
) -> Result<(Map<String, Value>, Vec<(String, String)>), LlmError> {
    let (resp, log) = open(p, payload, Some(timeout)).await?;
    let headers = lower_headers(resp.headers());
    let key = p.endpoint.key.as_deref();
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.map_err(|e| {
        if let Some(log) = &log {
            log.failed(&transport::transport_detail(&e));
        }
        transport_error(p, &e, Some(timeout))
    })?;
    if let Some(log) = &log {
        log.response(status, &bytes);
    }
    if p.kind == Endpointkind::Transcription {
        let content_type = headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map_or("", |(_, v)| v.as_str());
        return match providers::transcription::parse_reply(&bytes, content_type) {
            Some(body) => Ok((body, headers)),
            None => Err(LlmError::malformed_reply(
                &p.provider,
                &p.requested_model,
                "not a transcription (a JSON object with text, or plain text)",
                &String::from_utf8_lossy(&bytes),
                key,
            )),
        };
    }
    if p.kind == Endpointkind::Speech {
        let content_type = headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map_or("application/octet-stream", |(_, v)| v.as_str());
        let characters = p
            .body
            .get("input")
            .and_then(Value::as_str)
            .map_or(0, |s| s.chars().count());
        let body = providers::speech::reply_body(&bytes, content_type, characters);
        return Ok((body, headers));
    }
    let body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => map,
        Ok(list @ Value::Array(_)) if p.adapter().accepts_list_reply() => {
            let mut map = Map::new();
            map.insert(providers::sagemaker::LIST_REPLY.into(), list);
            map
        }
        // An HTML page, an empty body, a JSON array: a 2xx that is not a reply. Adapters
        // check the object's shape the same way (`LlmError::malformed_reply`).
        _ => {
            return Err(LlmError::malformed_reply(
                &p.provider,
                &p.requested_model,
                "not a JSON object",
                &String::from_utf8_lossy(&bytes),
                key,
            ));
        }
    };
    let body = poll(p, body, timeout).await?;
    let body = match p.kind {
        Endpointkind::Rerank => providers::rerank::parse_reply(&p.context(), &p.url, body)?,
        Endpointkind::ImageGeneration | Endpointkind::ImageEdit => {
            let body = p.adapter().parse_response(&p.context(), body, &headers)?;
            providers::images::parse_reply(&p.context(), &p.body, body)?
        }
        _ => p
            .adapter()
            .parse_reply_to(&p.context(), &p.body, body, &headers)?,
    };
    Ok((body, headers))
}

/// `GET url` with the call's headers (its credentials), for a job's poll or stream; a
/// non-2xx reply is mapped as the provider's error, a redirect is not followed.
async fn get(
    p: &Prepared,
    url: &str,
    accept: &str,
    timeout: Option<Duration>,
) -> Result<reqwest::Response, LlmError> {
    let client = transport::client(&p.options.tls, url).map_err(|e| {
        LlmError::bad_request(format!("ssl settings: {}", e.0))
            .with_context(&p.provider, &p.requested_model)
    })?;
    let mut req = match transport::parsed_url(url) {
        Some(u) => client.get(u),
        None => client.get(url),
    };
    if let Some(t) = timeout {
        req = req.timeout(t);
    }
    for (k, v) in &p.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let resp = req
        .header("accept", accept)
        .send()
        .await
        .map_err(|e| transport_error(p, &e, timeout))?;
    let status = resp.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(resp);
    }
    let headers = lower_headers(resp.headers());
    if (300..400).contains(&status) {
        return Err(redirect_error(p, status, headers));
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| transport_error(p, &e, timeout))?;
    let raw = redact_key(&String::from_utf8_lossy(&bytes), p.endpoint.key.as_deref());
    let json = serde_json::from_str::<Value>(&raw).ok();
    Err(p
        .adapter()
        .map_error(&p.context(), status, &raw, json, headers))
}

/// A 2xx body that must be a JSON object.
async fn json_object(
    p: &Prepared,
    resp: reqwest::Response,
) -> Result<Map<String, Value>, LlmError> {
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| transport_error(p, &e, None))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(LlmError::malformed_reply(
            &p.provider,
            &p.requested_model,
            "not a JSON object",
            &String::from_utf8_lossy(&bytes),
            p.endpoint.key.as_deref(),
        )),
    }
}

/// Poll a job (Replicate's prediction) until its reply is final, as long as `timeout`
/// allows. A poll that fails with a retryable error is polled again (the job goes on,
/// as LiteLLM keeps polling); other errors end the call.
async fn poll(
    p: &Prepared,
    mut body: Map<String, Value>,
    timeout: Duration,
) -> Result<Map<String, Value>, LlmError> {
    let deadline = Instant::now() + timeout;
    loop {
        // (A statement of its own: the context must not live across the awaits below.)
        let next = p.adapter().poll_url(&p.context(), &p.url, &body)?;
        let Some(url) = next else { break };
        if Instant::now() + providers::replicate::POLL_INTERVAL > deadline {
            return Err(LlmError::timeout(
                &p.provider,
                &p.requested_model,
                Some(timeout),
            ));
        }
        tokio::time::sleep(providers::replicate::POLL_INTERVAL).await;
        let left = deadline.saturating_duration_since(Instant::now());
        let polled = match get(p, &url, "application/json", Some(left)).await {
            Ok(resp) => json_object(p, resp).await,
            Err(e) => Err(e),
        };
        match polled {
            Ok(next) => body = next,
            Err(e) if e.kind.is_retryable() => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(body)
}

/// Run `op` until it succeeds, fails with an error that is not retryable, or the retries
/// run out; waits [`backoff`] between tries. The final error records the retry counts.
pub(crate) async fn with_retries<T, F, Fut>(retries: u32, mut op: F) -> Result<T, LlmError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, LlmError>>,
{
    let mut tries = 0u32;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if e.kind.is_retryable() && tries < retries => {
                tokio::time::sleep(backoff(tries, e.retry_after)).await;
                tries += 1;
            }
            Err(mut e) => {
                if tries > 0 {
                    e.num_retries = Some(tries);
                    e.max_retries = Some(retries);
                }
                return Err(e);
            }
        }
    }
}

/// Send a prepared request, retrying 408/429/5xx, timeouts and connection failures.
pub async fn send(p: Prepared) -> Result<Reply, LlmError> {
    let started = Instant::now();
    let timeout = p.options.timeout.unwrap_or(DEFAULT_TIMEOUT);
    // An upload's body is built per attempt from its files (`open`).
    let payload = if p.kind.is_upload() {
        bytes::Bytes::new()
    } else {
        serialise(&p.body)?
    };
    let (body, headers) = with_retries(p.options.retries.unwrap_or(DEFAULT_RETRIES), || {
        attempt(&p, payload.clone(), timeout)
    })
    .await?;
    Ok(Reply {
        body,
        provider: p.provider.clone(),
        api_base: p.endpoint.base.clone(),
        requested_model: p.requested_model.clone(),
        headers,
        response_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// The whole network part of a call: mocks, then the provider. A bridged Responses call
/// comes back as a Response.
pub async fn run(mut p: Prepared) -> Result<Reply, LlmError> {
    if let Some(bridge) = p.messages_bridge.take() {
        let mut reply = Box::pin(run(p)).await?;
        reply.body = bridge.reply(&reply.body);
        return Ok(reply);
    }
    if let Some(bridge) = p.bridge.take() {
        let mut reply = Box::pin(run(p)).await?;
        reply.body = bridge.reply(&reply.body);
        return Ok(reply);
    }
    if let Some(delay) = p.options.mock_delay {
        tokio::time::sleep(delay).await;
    }
    if p.options.mock_timeout {
        let wait = p.options.timeout.unwrap_or(Duration::from_secs(1));
        tokio::time::sleep(wait).await;
        let mut e = LlmError::timeout(&p.provider, &p.requested_model, None);
        e.message = "This is a mock timeout error".into();
        return Err(e);
    }
    if let Some(mock) = p.options.mock_response.clone() {
        if p.kind == Endpointkind::Speech {
            return mock_speech_reply(&p, mock);
        }
        if p.kind == Endpointkind::Transcription {
            return mock_transcription_reply(&p, mock);
        }
        if matches!(
            p.kind,
            Endpointkind::Rerank
                | Endpointkind::Moderation
                | Endpointkind::ImageGeneration
                | Endpointkind::ImageEdit
        ) {
            return mock_object_reply(&p, mock);
        }
        return mock_reply(&p, &mock);
    }
    send(p).await
}

/// A speech call's `mock_response`: a string, whose UTF-8 bytes are the audio.
fn mock_speech_reply(p: &Prepared, mock: Value) -> Result<Reply, LlmError> {
    let Value::String(audio) = mock else {
        return Err(LlmError::bad_request(
            "mock_response for speech must be a string (its bytes are the audio)",
        )
        .with_context(&p.provider, &p.requested_model));
    };
    let characters = p
        .body
        .get("input")
        .and_then(Value::as_str)
        .map_or(0, |s| s.chars().count());
    Ok(Reply {
        body: providers::speech::reply_body(audio.as_bytes(), "audio/mpeg", characters),
        provider: p.provider.clone(),
        api_base: p.endpoint.base.clone(),
        requested_model: p.requested_model.clone(),
        headers: Vec::new(),
        response_ms: 0.0,
    })
}

/// A transcription's `mock_response`: a string is the text; a dict the reply itself
/// (`{"text": ..., "duration": ...}`).
fn mock_transcription_reply(p: &Prepared, mock: Value) -> Result<Reply, LlmError> {
    let body =
        match mock {
            Value::String(text) => {
                let mut body = Map::with_capacity(1);
                body.insert("text".into(), Value::String(text));
                body
            }
            Value::Object(body) if body.get("text").is_some_and(Value::is_string) => body,
            _ => return Err(LlmError::bad_request(
                "mock_response for transcription must be a string (the text) or a dict with text",
            )
            .with_context(&p.provider, &p.requested_model)),
        };
    Ok(Reply {
        body,
        provider: p.provider.clone(),
        api_base: p.endpoint.base.clone(),
        requested_model: p.requested_model.clone(),
        headers: Vec::new(),
        response_ms: 0.0,
    })
}

/// A rerank's or moderation's `mock_response`: the reply object itself (a dict), read as
/// the provider's reply would be; anything else is refused.
fn mock_object_reply(p: &Prepared, mock: Value) -> Result<Reply, LlmError> {
    let Value::Object(body) = mock else {
        return Err(LlmError::bad_request(format!(
            "mock_response for {} must be a dict of the reply (e.g. {{\"results\": [...]}})",
            p.kind.path()
        ))
        .with_context(&p.provider, &p.requested_model));
    };
    let body = match p.kind {
        Endpointkind::Rerank => providers::rerank::parse_reply(&p.context(), &p.url, body)?,
        Endpointkind::ImageGeneration | Endpointkind::ImageEdit => {
            providers::images::parse_reply(&p.context(), &p.body, body)?
        }
        _ => body,
    };
    Ok(Reply {
        body,
        provider: p.provider.clone(),
        api_base: p.endpoint.base.clone(),
        requested_model: p.requested_model.clone(),
        headers: Vec::new(),
        response_ms: 0.0,
    })
}

/// Open a stream: a mock, or the provider's SSE. A bridged Responses call streams the
/// Responses API's events.
pub async fn run_stream(mut p: Prepared) -> Result<OpenStream, LlmError> {
    if let Some(bridge) = p.messages_bridge.take() {
        let mut open = Box::pin(run_stream(p)).await?;
        open.chunks = messages::events::translate(open.chunks, bridge);
        return Ok(open);
    }
    if let Some(bridge) = p.bridge.take() {
        let mut open = Box::pin(run_stream(p)).await?;
        open.chunks = responses::events::translate(open.chunks, bridge);
        return Ok(open);
    }
    if let Some(delay) = p.options.mock_delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(mock) = p.options.mock_response.clone() {
        return mock_stream(&p, &mock);
    }
    send_stream(p).await
}

/// `GET` (or with `delete`, `DELETE`) `{base}/responses/{response_id}`: a stored Response,
/// or the deletion notice. `custom_llm_provider` (default `openai`; `azure` too) and the
/// connection keywords say where. A Response bridged over chat completions is answered
/// from this process's store (see `responses::store`) whatever the provider.
pub async fn response_by_id(
    mut kwargs: Map<String, Value>,
    delete: bool,
) -> Result<Reply, LlmError> {
    let started = Instant::now();
    let id = match kwargs.remove("response_id") {
        Some(Value::String(id)) if !id.is_empty() && !id.contains(['/', '?', '#', ' ']) => id,
        other => {
            return Err(LlmError::bad_request(format!(
                "response_id must be the id of a Response (\"resp_...\"), got {}",
                other.unwrap_or(Value::Null)
            )))
        }
    };
    let provider = kwargs
        .get("custom_llm_provider")
        .and_then(Value::as_str)
        .unwrap_or("openai")
        .to_string();
    let stored = responses::store::get(&id);
    if stored.is_some() || !responses::is_native(&provider) {
        let Some(turn) = stored else {
            let mut e = LlmError::new(
                ErrorKind::NotFound,
                format!("Response {id:?} is not known to this process: {provider} has no Responses API of its own, and responses bridged over chat completions are kept in memory here (the last {} of them)", responses::store::CAPACITY),
            );
            e.status = 404;
            return Err(e.with_context(&provider, ""));
        };
        let body = if delete {
            responses::store::remove(&id);
            json!({"id": id, "object": "response.deleted", "deleted": true})
        } else {
            Value::Object(turn.response.clone())
        };
        let model = turn
            .response
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Ok(Reply {
            body: match body {
                Value::Object(m) => m,
                _ => Map::new(),
            },
            provider,
            api_base: String::new(),
            requested_model: model.to_string(),
            headers: Vec::new(),
            response_ms: started.elapsed().as_secs_f64() * 1000.0,
        });
    }
    // The request is built as a Responses call would be (URL, key, api-version, headers)
    // and the id goes under it.
    let model = kwargs
        .remove("model")
        .and_then(|m| m.as_str().map(str::to_string))
        .unwrap_or_else(|| "responses".to_string());
    kwargs.insert("model".into(), Value::String(model));
    kwargs.insert("custom_llm_provider".into(), Value::String(provider));
    kwargs.insert("input".into(), Value::String(String::new()));
    let p = prepare(Endpointkind::Responses, kwargs)?;
    let url = match p.url.split_once('?') {
        Some((path, query)) => format!("{path}/{id}?{query}"),
        None => format!("{}/{id}", p.url),
    };
    let timeout = p.options.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let client = transport::client(&p.options.tls, &url).map_err(|e| {
        LlmError::bad_request(format!("ssl settings: {}", e.0))
            .with_context(&p.provider, &p.requested_model)
    })?;
    let (body, headers) = with_retries(p.options.retries.unwrap_or(DEFAULT_RETRIES), || {
        let mut req = if delete {
            client.delete(&url)
        } else {
            client.get(&url)
        };
        req = req.timeout(timeout);
        for (k, v) in &p.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let p = &p;
        async move {
            let resp = req
                .send()
                .await
                .map_err(|e| transport_error(p, &e, Some(timeout)))?;
            let status = resp.status().as_u16();
            let headers = lower_headers(resp.headers());
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| transport_error(p, &e, Some(timeout)))?;
            let key = p.endpoint.key.as_deref();
            let raw = redact_key(&String::from_utf8_lossy(&bytes), key);
            let json = serde_json::from_str::<Value>(&raw).ok();
            if !(200..300).contains(&status) {
                return Err(p
                    .adapter()
                    .map_error(&p.context(), status, &raw, json, headers));
            }
            match json {
                Some(Value::Object(body)) => Ok((body, headers)),
                _ => Err(LlmError::malformed_reply(
                    &p.provider,
                    &p.requested_model,
                    "not a JSON object",
                    &raw,
                    key,
                )),
            }
        }
    })
    .await?;
    Ok(Reply {
        body,
        provider: p.provider.clone(),
        api_base: p.endpoint.base.clone(),
        requested_model: p.requested_model.clone(),
        headers,
        response_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

impl Reply {
    /// `response_cost` from the reply's usage and model: the model the provider reported,
    /// then the one requested; `custom` prices win over the catalogue. The catalogue is
    /// parsed by the first call that prices a reply; after that this is a few hash
    /// lookups. `None` for a model it cannot price.
    pub fn cost(&self, custom: &CustomPrices) -> Option<f64> {
        let reported = self.body.get("model").and_then(Value::as_str).unwrap_or("");
        if providers::transcription::is_transcription_reply(&self.body) {
            return providers::transcription::cost(
                &self.body,
                &self.provider,
                &self.requested_model,
                custom,
            );
        }
        if providers::speech::is_speech_reply(&self.body) {
            return providers::speech::cost(&self.body, &self.provider, &self.requested_model);
        }
        if providers::images::is_images_reply(&self.body) {
            return providers::images::cost(&self.body, &self.provider, &self.requested_model);
        }
        let Some(usage) = self.body.get("usage") else {
            // A rerank reply carries `meta` instead, priced per query (or token); OpenAI's
            // moderations are free.
            if self.body.contains_key("meta") {
                return providers::rerank::cost(
                    &self.body,
                    &self.provider,
                    &[&self.requested_model],
                    custom,
                );
            }
            return self.body.contains_key("results").then_some(0.0);
        };
        cost::response_cost(
            &[reported, &self.requested_model],
            &self.provider,
            usage,
            Some(self.response_ms),
            custom,
        )
    }
}

impl Routed for Reply {
    fn tokens(&self) -> (Option<u64>, Option<u64>) {
        let usage = self.body.get("usage");
        let get = |k: &str| usage.and_then(|u| u.get(k)).and_then(Value::as_u64);
        // A Response reports `output_tokens` where chat reports `completion_tokens`; an
        // Anthropic message has no total.
        let total = get("total_tokens")
            .or_else(|| Some(get("input_tokens")? + get("output_tokens").unwrap_or(0)));
        (
            total,
            get("completion_tokens").or_else(|| get("output_tokens")),
        )
    }

    fn response_id(&self) -> Option<&str> {
        (self.body.get("object").and_then(Value::as_str) == Some("response"))
            .then(|| self.body.get("id").and_then(Value::as_str))
            .flatten()
    }
}

impl Cacheable for Reply {
    fn cache_body(&self) -> Option<&Map<String, Value>> {
        Some(&self.body)
    }
    fn from_cache(body: Map<String, Value>) -> Self {
        Reply {
            body,
            provider: String::new(),
            api_base: String::new(),
            requested_model: String::new(),
            headers: Vec::new(),
            response_ms: 0.0,
        }
    }
}

/// A stream's usage arrives with its last chunk, after routing has finished.
impl Routed for OpenStream {
    fn tokens(&self) -> (Option<u64>, Option<u64>) {
        (None, None)
    }
}

/// How many chunk batches may wait unread before the reader pauses (backpressure).
const STREAM_BUFFER: usize = 64;

/// An open stream: chunks arrive on `chunks`; the rest is what `_hidden_params` keeps.
pub struct OpenStream {
    pub chunks: mpsc::Receiver<Batch>,
    pub reply: Reply,
}

/// Open a streaming request (retrying until the provider accepts it) and start the task
/// that reads it. Errors before the first byte of the body are raised here, as LiteLLM
/// raises them from the call; later ones come out of the stream.
pub async fn send_stream(mut p: Prepared) -> Result<OpenStream, LlmError> {
    if !p.stream {
        // Callers that open a stream always ask for one; make the body agree.
        p.stream = true;
        // These formats ask for a stream with a body flag (others by URL).
        if matches!(
            p.format,
            WireFormat::OpenAi
                | WireFormat::Azure
                | WireFormat::Anthropic
                | WireFormat::Cohere
                | WireFormat::Huggingface
                | WireFormat::Replicate
        ) {
            p.body.insert("stream".into(), Value::Bool(true));
        }
        // `prepare` left `stream_options` out of a body that did not stream.
        if p.options.include_usage
            && matches!(
                p.format,
                WireFormat::OpenAi | WireFormat::Azure | WireFormat::Huggingface
            )
        {
            p.body
                .insert("stream_options".into(), json!({"include_usage": true}));
        }
        // Bedrock asks for a stream by its path.
        if p.format == WireFormat::Bedrock {
            if let Some(base) = p.url.strip_suffix("/converse") {
                p.url = format!("{base}/converse-stream");
            } else if let Some(base) = p.url.strip_suffix("/invoke") {
                p.url = format!("{base}/invoke-with-response-stream");
            }
        }
        // So does SageMaker; TGI's body says so too.
        if matches!(p.format, WireFormat::Sagemaker | WireFormat::SagemakerChat) {
            if let Some(base) = p.url.strip_suffix("/invocations") {
                p.url = format!("{base}/invocations-response-stream");
            }
            if p.format == WireFormat::Sagemaker && p.kind == Endpointkind::Chat {
                p.body.insert("stream".into(), Value::Bool(true));
            }
        }
    }
    let started = Instant::now();
    let idle = p
        .options
        .stream_timeout
        .or(p.options.timeout)
        .unwrap_or(DEFAULT_TIMEOUT);
    let payload = serialise(&p.body)?;
    let resp = with_retries(p.options.retries.unwrap_or(DEFAULT_RETRIES), || {
        let payload = payload.clone();
        let p = &p;
        async move {
            match tokio::time::timeout(idle, open(p, payload, None)).await {
                Ok(r) => r,
                Err(_) => Err(LlmError::timeout(
                    &p.provider,
                    &p.requested_model,
                    Some(idle),
                )),
            }
        }
    })
    .await?;
    let (resp, log) = resp;
    // Replicate answers with a prediction; its stream is at the URL it names.
    let resp = if p.format == WireFormat::Replicate {
        let created = json_object(&p, resp).await?;
        let url = providers::replicate::stream_url(&p.context(), &p.url, &created)?;
        match tokio::time::timeout(idle, get(&p, &url, "text/event-stream", None)).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(LlmError::timeout(
                    &p.provider,
                    &p.requested_model,
                    Some(idle),
                ))
            }
        }
    } else {
        resp
    };
    if let Some(log) = &log {
        log.stream_opened(resp.status().as_u16());
    }
    let headers = lower_headers(resp.headers());
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    let ctx = StreamContext {
        provider: p.provider.clone(),
        model: p.requested_model.clone(),
        idle_timeout: idle,
        framing: p.adapter().framing(),
        api_key: p.endpoint.key.clone(),
        log: log.map(Arc::new),
    };
    let decoder = p.adapter().stream_decoder_for(&p.context(), &p.body);
    transport::spawn_call_task(stream::pump(resp, tx, ctx, decoder));
    Ok(OpenStream {
        chunks: rx,
        reply: Reply {
            body: Map::new(),
            provider: p.provider.clone(),
            api_base: p.endpoint.base.clone(),
            requested_model: p.requested_model.clone(),
            headers,
            response_ms: started.elapsed().as_secs_f64() * 1000.0,
        },
    })
}

/// LiteLLM's streaming `mock_response`: the text in 3-character chunks, the first with the
/// role, a finish chunk, and a usage chunk when `stream_options.include_usage` is set.
/// `"Exception: mock_streaming_error"` fails part-way with status 529, as in LiteLLM.
pub fn mock_stream(p: &Prepared, mock: &Value) -> Result<OpenStream, LlmError> {
    // Errors a non-streaming mock raises are raised by the call here too.
    let fails_midway = matches!(mock, Value::String(s) if s == "Exception: mock_streaming_error");
    let reply = if fails_midway {
        mock_reply(p, &Value::String("This is a mock stream".into()))?
    } else {
        mock_reply(p, mock)?
    };
    let text = reply.body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let id = reply.body["id"].clone();
    let created = reply.body["created"].clone();
    let model = reply.body["model"].clone();
    let mk = |delta: Value, finish: Value| {
        let mut m = Map::new();
        m.insert("id".into(), id.clone());
        m.insert("created".into(), created.clone());
        m.insert("model".into(), model.clone());
        m.insert(
            "object".into(),
            Value::String("chat.completion.chunk".into()),
        );
        m.insert(
            "choices".into(),
            json!([{"index": 0, "delta": delta, "finish_reason": finish}]),
        );
        m
    };
    let mut shaper = stream::ChunkShaper::new();
    let mut chunks = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    for piece in chars.chunks(3) {
        let piece: String = piece.iter().collect();
        chunks.extend(shaper.shape(mk(json!({"content": piece}), Value::Null)));
    }
    if let Some(calls) = &p.options.mock_tool_calls {
        let indexed: Vec<Value> = calls
            .as_array()
            .map(|a| {
                a.iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let mut c = c.clone();
                        if let Value::Object(m) = &mut c {
                            m.insert("index".into(), Value::from(i));
                        }
                        c
                    })
                    .collect()
            })
            .unwrap_or_default();
        chunks.extend(shaper.shape(mk(json!({"tool_calls": indexed}), Value::Null)));
    }
    let finish = if p.options.mock_tool_calls.is_some() {
        "tool_calls"
    } else {
        "stop"
    };
    chunks.extend(shaper.shape(mk(json!({}), Value::String(finish.into()))));
    if p.include_usage {
        let mut usage = mk(json!({}), Value::Null);
        usage.insert("choices".into(), json!([]));
        usage.insert("usage".into(), reply.body["usage"].clone());
        chunks.extend(shaper.shape(usage));
    }
    // Shaped as a provider's stream would be: the plain text chunks go typed.
    let mut strings = stream::chunk::Interner::default();
    let chunks: Vec<stream::Chunk> = chunks
        .into_iter()
        .map(|c| match stream::SimpleChunk::from_map(c, &mut strings) {
            Ok(typed) => stream::Chunk::Simple(typed),
            Err(map) => stream::Chunk::Full(map),
        })
        .collect();
    let (tx, rx) = mpsc::channel(2);
    if fails_midway {
        let half: Vec<stream::Chunk> = chunks.into_iter().take(2).collect();
        let mut err = map_http_error(
            529,
            &p.provider,
            &p.requested_model,
            "mock_streaming_error",
            None,
            Vec::new(),
        );
        err.kind = ErrorKind::Api;
        let _ = tx.try_send(Ok(half));
        let _ = tx.try_send(Err(err));
    } else {
        let _ = tx.try_send(Ok(chunks));
    }
    Ok(OpenStream { chunks: rx, reply })
}

/// LiteLLM's `mock_response`: a reply built without any network call. Magic strings
/// raise the error they name, as LiteLLM's do.
pub fn mock_reply(p: &Prepared, mock: &Value) -> Result<Reply, LlmError> {
    let started = Instant::now();
    let provider = p.provider.as_str();
    let model = p.requested_model.as_str();
    let text = match mock {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let raise = |kind: ErrorKind, status: u16, msg: &str| {
        let mut e = map_http_error(status, provider, model, msg, None, Vec::new());
        e.kind = kind;
        e.status = status;
        Err(e)
    };
    match text.as_str() {
        "litellm.RateLimitError" => {
            return raise(ErrorKind::RateLimit, 429, "this is a mock rate limit error")
        }
        "litellm.ContextWindowExceededError" => {
            return raise(
                ErrorKind::ContextWindowExceeded,
                400,
                "this is a mock context window exceeded error",
            )
        }
        "litellm.InternalServerError" => {
            return raise(
                ErrorKind::InternalServer,
                500,
                "this is a mock internal server error",
            )
        }
        t if t.starts_with("Exception: content_filter_policy") => {
            return raise(
                ErrorKind::ContentPolicyViolation,
                400,
                t.trim_start_matches("Exception: "),
            )
        }
        _ => {}
    }
    if p.kind == Endpointkind::Embeddings {
        return mock_embedding(p, mock, started);
    }
    let n = p
        .body
        .get("n")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, 128);
    let tool_calls = p.options.mock_tool_calls.clone();
    let finish = if tool_calls.is_some() {
        "tool_calls"
    } else {
        "stop"
    };
    let choices: Vec<Value> = (0..n)
        .map(|i| {
            let mut message = json!({"content": text, "role": "assistant"});
            if let (Some(calls), Value::Object(m)) = (&tool_calls, &mut message) {
                m.insert("tool_calls".into(), calls.clone());
            }
            json!({"finish_reason": finish, "index": i, "message": message})
        })
        .collect();
    let body = json!({
        "id": format!("chatcmpl-{}", uuid::Uuid::new_v4()),
        "created": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        "model": model,
        "object": "chat.completion",
        "choices": choices,
        "usage": {"completion_tokens": 20, "prompt_tokens": 10, "total_tokens": 30},
    });
    let Value::Object(body) = body else {
        return Err(LlmError::new(
            ErrorKind::Api,
            "internal: mock body is not an object",
        ));
    };
    Ok(Reply {
        body,
        provider: provider.to_string(),
        api_base: p.endpoint.base.clone(),
        requested_model: model.to_string(),
        headers: Vec::new(),
        response_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// LiteLLM's embedding `mock_response`: the given vector as the embedding (of each input:
/// LiteLLM returns it once whatever the input count, which breaks callers that zip inputs
/// with vectors), and `"error"` raises.
fn mock_embedding(p: &Prepared, mock: &Value, started: Instant) -> Result<Reply, LlmError> {
    let vector = match mock {
        Value::Array(v) if v.iter().all(Value::is_number) => mock.clone(),
        Value::String(s) if s == "error" => {
            let mut e = map_http_error(
                500,
                &p.provider,
                &p.requested_model,
                "Mock error",
                None,
                Vec::new(),
            );
            e.kind = ErrorKind::InternalServer;
            return Err(e);
        }
        other => {
            return Err(LlmError::bad_request(format!(
                "an embedding's mock_response must be a list of numbers or \"error\", got {other}"
            )))
        }
    };
    let inputs = match p.body.get("input") {
        // A list of strings or of token lists is one input each; a string or one token
        // list is one input.
        Some(Value::Array(items)) if items.iter().all(|x| !x.is_number()) => items.len().max(1),
        _ => 1,
    };
    let data: Vec<Value> = (0..inputs)
        .map(|i| json!({"embedding": vector, "index": i, "object": "embedding"}))
        .collect();
    let body = json!({
        "object": "list",
        "data": data,
        "model": p.model,
        "usage": {"prompt_tokens": 10, "total_tokens": 10},
    });
    let Value::Object(body) = body else {
        return Err(LlmError::new(
            ErrorKind::Api,
            "internal: mock body is not an object",
        ));
    };
    Ok(Reply {
        body,
        provider: p.provider.clone(),
        api_base: p.endpoint.base.clone(),
        requested_model: p.requested_model.clone(),
        headers: Vec::new(),
        response_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{no_env, obj as kwargs};

    #[test]
    fn prepare_builds_the_openai_request() {
        let p = prepare_with_env(
            Endpointkind::Chat,
            kwargs(json!({
                "model": "groq/llama-3", "messages": [{"role": "user", "content": "hi"}],
                "temperature": 0.1, "api_key": "gk", "extra_headers": {"X-Trace": "1"}, "organization": "org"
            })),
            &no_env,
        )
        .unwrap();
        assert_eq!(p.url, "https://api.groq.com/openai/v1/chat/completions");
        assert_eq!(p.provider, "groq");
        assert_eq!(
            Value::Object(p.body.clone()),
            json!({"model": "llama-3", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.1})
        );
        assert!(p
            .headers
            .contains(&("authorization".into(), "Bearer gk".into())));
        assert!(p.headers.contains(&("x-trace".into(), "1".into())));
        assert!(p
            .headers
            .contains(&("openai-organization".into(), "org".into())));
    }

    #[test]
    fn missing_key_fails_before_the_network() {
        let e = prepare_with_env(
            Endpointkind::Chat,
            kwargs(json!({"model": "deepseek/deepseek-chat", "messages": [{"role": "user", "content": "x"}]})),
            &no_env,
        )
        .err()
        .unwrap();
        assert_eq!(e.kind, ErrorKind::Authentication);
        assert!(e.message.contains("DEEPSEEK_API_KEY"));
        assert_eq!(e.provider, "deepseek");
    }

    #[test]
    fn unrouted_providers_are_refused_clearly() {
        let e = prepare_with_env(
            Endpointkind::Chat,
            kwargs(json!({"model": "watsonx/llama", "messages": []})),
            &no_env,
        )
        .err()
        .unwrap();
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert!(e.message.contains("does not route provider 'watsonx'"));
    }

    #[test]
    fn embedding_input_is_checked() {
        for bad in [json!([]), json!(5), json!([1, "a"]), json!(null)] {
            let e = prepare_with_env(
                Endpointkind::Embeddings,
                kwargs(json!({"model": "openai/e", "input": bad, "api_key": "k"})),
                &no_env,
            );
            assert!(e.is_err());
        }
        let p = prepare_with_env(
            Endpointkind::Embeddings,
            kwargs(
                json!({"model": "openai/e", "input": ["a", "b"], "dimensions": 4, "api_key": "k"}),
            ),
            &no_env,
        )
        .unwrap();
        assert_eq!(p.url, "https://api.openai.com/v1/embeddings");
        assert_eq!(
            Value::Object(p.body),
            json!({"model": "e", "input": ["a", "b"], "dimensions": 4})
        );
    }

    #[test]
    fn rerank_requests_are_built_per_provider() {
        let p = prepare_with_env(
            Endpointkind::Rerank,
            kwargs(json!({
                "model": "cohere/rerank-v3.5", "query": "q", "documents": ["a", {"text": "b"}],
                "top_n": 1, "api_key": "k",
            })),
            &no_env,
        )
        .unwrap();
        assert_eq!(p.url, "https://api.cohere.com/v2/rerank");
        assert_eq!(
            Value::Object(p.body),
            json!({"model": "rerank-v3.5", "query": "q", "documents": ["a", {"text": "b"}], "top_n": 1})
        );
        let env = |k: &str| (k == "VOYAGE_API_KEY").then(|| "pa".to_string());
        let p = prepare_with_env(
            Endpointkind::Rerank,
            kwargs(json!({"model": "voyage/rerank-2", "query": "q", "documents": ["a"]})),
            &env,
        )
        .unwrap();
        assert_eq!(p.url, "https://api.voyageai.com/v1/rerank");
        assert!(p
            .headers
            .contains(&("authorization".into(), "Bearer pa".into())));
        let e = prepare_with_env(
            Endpointkind::Rerank,
            kwargs(json!({"model": "cohere/rerank-v3.5", "query": "q", "api_key": "k"})),
            &no_env,
        );
        assert!(e.is_err_and(|e| e.message.contains("documents is required")));
    }

    #[test]
    fn moderation_model_is_optional_and_openai_format_only() {
        let p = prepare_with_env(
            Endpointkind::Moderation,
            kwargs(json!({"input": "hi", "api_key": "k"})),
            &no_env,
        )
        .unwrap();
        assert_eq!(p.url, "https://api.openai.com/v1/moderations");
        assert_eq!(Value::Object(p.body), json!({"input": "hi"}));
        let p = prepare_with_env(
            Endpointkind::Moderation,
            kwargs(json!({"model": "omni-moderation-latest", "input": ["a"], "api_key": "k"})),
            &no_env,
        )
        .unwrap();
        assert_eq!(
            Value::Object(p.body),
            json!({"model": "omni-moderation-latest", "input": ["a"]})
        );
        let e = prepare_with_env(
            Endpointkind::Moderation,
            kwargs(json!({"model": "anthropic/claude-x", "input": "a", "api_key": "k"})),
            &no_env,
        );
        assert!(e.is_err_and(|e| e.message.contains("OpenAI-format providers only")));
    }

    #[test]
    fn backoff_follows_the_openai_sdk() {
        for attempt in 0..6 {
            let d = backoff(attempt, None).as_secs_f64();
            let base = (0.5 * 2f64.powi(attempt as i32)).min(8.0);
            assert!(d <= base && d >= base * 0.75, "{attempt}: {d}");
        }
        assert_eq!(
            backoff(3, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert!(backoff(0, Some(Duration::from_secs(600))) < Duration::from_secs(1));
    }

    #[test]
    fn mock_responses_and_magic_strings() {
        let p = prepare_with_env(
            Endpointkind::Chat,
            kwargs(json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "n": 2, "api_key": "k"})),
            &no_env,
        )
        .unwrap();
        let r = mock_reply(&p, &json!("hello")).unwrap();
        assert_eq!(r.body["choices"].as_array().map(Vec::len), Some(2));
        assert_eq!(r.body["choices"][1]["message"]["content"], json!("hello"));
        assert_eq!(r.body["usage"]["total_tokens"], json!(30));
        assert_eq!(r.body["model"], json!("gpt-4o"));
        let e = mock_reply(&p, &json!("litellm.RateLimitError"))
            .err()
            .unwrap();
        assert_eq!((e.kind, e.status), (ErrorKind::RateLimit, 429));
        assert!(e.message.contains("this is a mock rate limit error"));
        let e = mock_reply(&p, &json!("litellm.ContextWindowExceededError"))
            .err()
            .unwrap();
        assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);
    }
}
