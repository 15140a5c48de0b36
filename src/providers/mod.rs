//! Provider resolution: which provider serves `model`, at which base URL, with which key,
//! and the types every adapter shares (`Endpointkind`, `ChatContext`, `Decoded`).
//!
//! One file per wire format lives beside this one, each holding its request building,
//! reply parsing, stream decoding and error mapping:
//! - `openai.rs`: the OpenAI format and `COMPATIBLE_PROVIDERS`, the registry of every
//!   provider that speaks it (OpenAI, Groq, DeepSeek, OpenRouter, local servers, ...);
//! - `anthropic.rs` (Messages API), `azure.rs` (the OpenAI body on deployment URLs),
//!   `bedrock.rs` (Converse), `cohere.rs` (v2 chat), `gemini.rs` (generateContent),
//!   `vertex.rs` (Gemini's or Anthropic's body with OAuth), `ollama.rs` (`/api/chat`,
//!   `/api/generate`), `sagemaker.rs` (TGI's body or the OpenAI body on SageMaker
//!   endpoints, SigV4), `huggingface.rs` (the router and TGI servers), `replicate.rs` (predictions); each has its `SPEC` line in `NATIVE_PROVIDERS`.
//!
//! Providers LiteLLM knows but rustllm does not route yet (`OTHER_PROVIDERS`) are
//! recognised, so their users get a clear error instead of a request to the wrong place.
//!
//! Layering: nothing here imports `call`, which sits above and drives the adapters
//! (`tests/layering.rs` keeps it so).

pub mod anthropic;
pub mod anthropic_messages;
pub mod azure;
pub mod bedrock;
pub mod cohere;
pub mod gemini;
pub mod huggingface;
pub mod imagen;
pub mod images;
pub mod multipart;
pub mod ollama;
pub mod openai;
pub mod replicate;
pub mod rerank;
pub mod responses;
pub mod sagemaker;
pub mod speech;
pub mod transcription;
pub mod vertex;

use serde_json::{Map, Value};

use crate::error::{map_http_error, provider_exception_name, ErrorKind, LlmError};
use crate::stream::sse::SseEvent;
use crate::types::CallOptions;
pub use openai::{compatible, COMPATIBLE_PROVIDERS};

/// Which OpenAI endpoint a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpointkind {
    Chat,
    Embeddings,
    TextCompletion,
    /// `POST .../rerank` in Cohere's, Jina's or Voyage's format (`rerank.rs`).
    Rerank,
    /// OpenAI's `POST {base}/moderations`.
    Moderation,
    /// OpenAI's Responses API (`POST {base}/responses`), native on OpenAI and Azure;
    /// other providers get it bridged over chat (`crate::responses`).
    Responses,
    /// OpenAI's `POST {base}/images/generations` (`images.rs`).
    ImageGeneration,
    /// OpenAI's `POST {base}/audio/speech`: the reply is audio (`speech.rs`).
    Speech,
    /// Anthropic's `POST {base}/v1/messages` with the caller's body, native on Anthropic
    /// and Vertex AI's Claude (`anthropic_messages.rs`); other providers get it
    /// translated over chat (`crate::messages`).
    AnthropicMessages,
    /// OpenAI's `POST {base}/audio/transcriptions`, multipart (`transcription.rs`).
    Transcription,
    /// OpenAI's `POST {base}/images/edits`, multipart (`images.rs`).
    ImageEdit,
}

impl Endpointkind {
    /// The OpenAI path of this endpoint, under the base URL.
    pub fn path(self) -> &'static str {
        match self {
            Endpointkind::Chat => "chat/completions",
            Endpointkind::Embeddings => "embeddings",
            Endpointkind::TextCompletion => "completions",
            Endpointkind::Rerank => "rerank",
            Endpointkind::Moderation => "moderations",
            Endpointkind::Responses => "responses",
            Endpointkind::ImageGeneration => "images/generations",
            Endpointkind::Speech => "audio/speech",
            Endpointkind::AnthropicMessages => "v1/messages",
            Endpointkind::Transcription => "audio/transcriptions",
            Endpointkind::ImageEdit => "images/edits",
        }
    }

    /// Whether the request is a multipart upload (`multipart.rs`) rather than JSON.
    pub fn is_upload(self) -> bool {
        matches!(self, Endpointkind::Transcription | Endpointkind::ImageEdit)
    }
}

/// The wire format a provider speaks; each has one file in this folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireFormat {
    OpenAi,
    /// Anthropic's Messages API (`anthropic.rs`).
    Anthropic,
    /// Azure OpenAI: the OpenAI body on deployment URLs (`azure.rs`).
    Azure,
    /// Cohere's v2 chat API (`cohere.rs`).
    Cohere,
    /// Google AI Studio's generateContent (`gemini.rs`).
    Gemini,
    /// Vertex AI: the Gemini body (or Anthropic's for `claude-*`) with OAuth (`vertex.rs`).
    Vertex,
    /// Ollama's `/api/chat` and `/api/generate` (`ollama.rs`).
    OllamaChat,
    OllamaGenerate,
    /// AWS Bedrock's Converse API with SigV4 (`bedrock.rs`).
    Bedrock,
    /// SageMaker endpoints with SigV4: TGI's body (`sagemaker/`) and the OpenAI body of
    /// Messages API containers (`sagemaker_chat/`) (`sagemaker.rs`).
    Sagemaker,
    SagemakerChat,
    /// Hugging Face: the OpenAI body on the Inference Providers router or a TGI server,
    /// feature extraction for embeddings (`huggingface.rs`).
    Huggingface,
    /// Replicate's predictions API: create, then poll or stream (`replicate.rs`).
    Replicate,
}

/// How to reach one provider: its format, base URL and key.
#[derive(Debug, Clone, Copy)]
pub struct ProviderSpec {
    pub name: &'static str,
    pub format: WireFormat,
    /// Used when neither `api_base` nor a base environment variable is set. `None` means
    /// the provider has no public endpoint and the base must be given.
    pub default_base: Option<&'static str>,
    /// Environment variables for the base URL, first set wins.
    pub base_env: &'static [&'static str],
    /// Environment variables for the key, first set wins.
    pub key_env: &'static [&'static str],
    /// Key used when none is configured (local servers that ignore it). `None` means a key
    /// is required.
    pub default_key: Option<&'static str>,
}

/// Providers with a wire format of their own (one line per provider, beside its file).
pub const NATIVE_PROVIDERS: &[ProviderSpec] = &[
    anthropic::SPEC,
    azure::SPEC,
    bedrock::SPEC,
    cohere::SPEC,
    cohere::CHAT_SPEC,
    gemini::SPEC,
    vertex::SPEC,
    ollama::CHAT_SPEC,
    ollama::GENERATE_SPEC,
    sagemaker::SPEC,
    sagemaker::CHAT_SPEC,
    huggingface::SPEC,
    replicate::SPEC,
];

/// The spec of every provider rustllm routes.
pub fn spec(name: &str) -> Option<&'static ProviderSpec> {
    compatible(name).or_else(|| NATIVE_PROVIDERS.iter().find(|p| p.name == name))
}

/// Everything an adapter may read while building a request or decoding a reply.
pub struct ChatContext<'a> {
    pub kind: Endpointkind,
    pub provider: &'a str,
    /// The model as the provider knows it (prefix removed).
    pub model: &'a str,
    /// The model string the caller passed (for error messages).
    pub requested_model: &'a str,
    pub endpoint: &'a Endpoint,
    pub options: &'a CallOptions,
    pub stream: bool,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// A request ready to send: the caller's own headers are added on top.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Map<String, Value>,
}

/// How a provider frames its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Server-sent events (`data: ...`).
    Sse,
    /// One JSON object per line (Ollama).
    Ndjson,
    /// AWS event-stream binary frames (Bedrock's ConverseStream).
    AwsEventStream,
}

/// What one stream event decodes to.
#[derive(Debug)]
pub enum Decoded {
    /// OpenAI-format `chat.completion.chunk` objects (possibly none).
    Chunks(Vec<Map<String, Value>>),
    /// One common text chunk, typed (the fast path; see `stream::chunk`).
    Simple(crate::stream::SimpleChunk),
    /// One Responses delta event, typed (the fast path; see `stream::chunk`).
    Delta(crate::stream::DeltaEvent),
    /// Events passed on as they are, unshaped (the Responses API's typed events); `last`
    /// when this one ends the stream (`response.completed`, `response.incomplete`).
    Events {
        events: Vec<Map<String, Value>>,
        last: bool,
    },
    /// The provider said the stream is complete.
    Done,
}

/// Turns one provider stream event into OpenAI chunks. Stateful: one per stream.
/// (NDJSON lines arrive as events whose `data` is the line.)
pub trait StreamDecoder: Send {
    fn decode(&mut self, event: &SseEvent) -> Result<Decoded, LlmError>;
}

/// One wire format: OpenAI-format request in, OpenAI-format reply out.
pub trait Adapter: Send + Sync {
    /// The provider request for an OpenAI-format body (`model`, `messages`, params).
    fn build_request(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
    ) -> Result<HttpRequest, LlmError>;
    /// The provider's JSON reply as an OpenAI-format reply.
    fn parse_response(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
        headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError>;
    /// [`Adapter::parse_response`] for a format whose reply can only be read with the
    /// request it answers (SageMaker's TGI reply echoes the prompt and has no usage).
    fn parse_reply_to(
        &self,
        ctx: &ChatContext<'_>,
        request: &Map<String, Value>,
        body: Map<String, Value>,
        headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError> {
        let _ = request;
        self.parse_response(ctx, body, headers)
    }
    /// Whether a 2xx JSON list is a reply (SageMaker's TGI and TEI containers answer
    /// with one); it reaches `parse_response` as `{"_list": [...]}`.
    fn accepts_list_reply(&self) -> bool {
        false
    }
    /// For an API that answers with a job to poll (Replicate's predictions): the URL to
    /// `GET` next for the reply `body` of a request to `url`, or `None` when `body` is
    /// the final reply. A failed job is an error.
    fn poll_url(
        &self,
        ctx: &ChatContext<'_>,
        url: &str,
        body: &Map<String, Value>,
    ) -> Result<Option<String>, LlmError> {
        let _ = (ctx, url, body);
        Ok(None)
    }
    fn framing(&self) -> Framing {
        Framing::Sse
    }
    fn stream_decoder(&self, ctx: &ChatContext<'_>) -> Box<dyn StreamDecoder>;
    /// [`Adapter::stream_decoder`] for a format whose stream is read with the request
    /// (SageMaker's TGI stream counts the prompt's tokens for its usage chunk).
    fn stream_decoder_for(
        &self,
        ctx: &ChatContext<'_>,
        request: &Map<String, Value>,
    ) -> Box<dyn StreamDecoder> {
        let _ = request;
        self.stream_decoder(ctx)
    }
    /// A non-2xx reply as an error.
    fn map_error(
        &self,
        ctx: &ChatContext<'_>,
        status: u16,
        raw: &str,
        json: Option<Value>,
        headers: Vec<(String, String)>,
    ) -> LlmError {
        map_http_error(
            status,
            ctx.provider,
            ctx.requested_model,
            raw,
            json,
            headers,
        )
    }
}

/// The adapter for a wire format.
pub fn adapter(format: WireFormat) -> &'static dyn Adapter {
    match format {
        WireFormat::OpenAi => &openai::OpenAiAdapter,
        WireFormat::Anthropic => &anthropic::AnthropicAdapter,
        WireFormat::Azure => &azure::AzureAdapter,
        WireFormat::Cohere => &cohere::CohereAdapter,
        WireFormat::Gemini => &gemini::GeminiAdapter,
        WireFormat::Vertex => &vertex::VertexAdapter,
        WireFormat::OllamaChat => &ollama::OllamaChatAdapter,
        WireFormat::OllamaGenerate => &ollama::OllamaGenerateAdapter,
        WireFormat::Bedrock => &bedrock::BedrockAdapter,
        WireFormat::Sagemaker => &sagemaker::SagemakerAdapter,
        WireFormat::SagemakerChat => &sagemaker::SagemakerChatAdapter,
        WireFormat::Huggingface => &huggingface::HuggingfaceAdapter,
        WireFormat::Replicate => &replicate::ReplicateAdapter,
    }
}

/// The OpenAI chat parameters (LiteLLM's `completion` signature, §1.1) that are checked
/// against what a native provider supports. Other body keys are provider-specific and
/// left to the adapter.
pub const OPENAI_CHAT_PARAMS: &[&str] = &[
    "temperature",
    "top_p",
    "n",
    "stream",
    "stream_options",
    "stop",
    "max_completion_tokens",
    "max_tokens",
    "modalities",
    "prediction",
    "audio",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "user",
    "reasoning_effort",
    "response_format",
    "seed",
    "tools",
    "tool_choice",
    "logprobs",
    "top_logprobs",
    "parallel_tool_calls",
    "web_search_options",
    "functions",
    "function_call",
    "thinking",
    "service_tier",
    "store",
];

/// LiteLLM's drop_params rule for a provider with its own format (§1.5): OpenAI
/// parameters missing from `supported` raise `UnsupportedParamsError`, or are dropped with
/// `drop_params=True`; `additional_drop_params` are always dropped; `allowed_openai_params`
/// are let through.
pub fn check_params(
    ctx: &ChatContext<'_>,
    body: &mut Map<String, Value>,
    supported: &[&str],
) -> Result<(), LlmError> {
    for name in &ctx.options.additional_drop_params {
        body.remove(name);
    }
    let unsupported: Vec<String> = body
        .keys()
        .filter(|k| OPENAI_CHAT_PARAMS.contains(&k.as_str()) && !supported.contains(&k.as_str()))
        .filter(|k| !ctx.options.allowed_openai_params.contains(k))
        .cloned()
        .collect();
    if unsupported.is_empty() {
        return Ok(());
    }
    if ctx.options.drop_params {
        for name in &unsupported {
            body.remove(name);
        }
        return Ok(());
    }
    let list = unsupported
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut err = LlmError::new(
        ErrorKind::UnsupportedParams,
        format!(
            "{} does not support parameters: [{list}], for model={}. To drop these, set `litellm.drop_params=True` or for proxy:\n\n`litellm_settings:\n drop_params: true`\n. \n If you want to use these params dynamically send allowed_openai_params=[{list}] in your request.",
            ctx.provider, ctx.model
        ),
    );
    err.provider = ctx.provider.to_string();
    err.model = ctx.requested_model.to_string();
    Err(err)
}

/// A 2xx reply body without what the provider's format requires: `what` names it (see
/// [`LlmError::malformed_reply`]); the message quotes the body, key redacted.
pub fn malformed_reply(
    ctx: &ChatContext<'_>,
    what: &str,
    body: &impl serde::Serialize,
) -> LlmError {
    let received = serde_json::to_string(body).unwrap_or_default();
    LlmError::malformed_reply(
        ctx.provider,
        ctx.requested_model,
        what,
        &received,
        ctx.endpoint.key.as_deref(),
    )
}

/// A `call_<32 hex>` tool-call id, for providers that send none (Gemini, Ollama).
pub fn new_tool_call_id() -> String {
    format!("call_{}", uuid::Uuid::new_v4().simple())
}

/// Seconds since the epoch, for `created`.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A `chatcmpl-<uuid4>` id: LiteLLM gives replies from non-OpenAI providers its own id.
pub fn completion_id() -> String {
    format!("chatcmpl-{}", uuid::Uuid::new_v4())
}

/// An error re-classified after a provider-specific check (Anthropic's `overloaded_error`,
/// Azure's content filter): the class label in the message follows the new kind.
pub fn reclassify(mut err: LlmError, kind: ErrorKind, status: u16) -> LlmError {
    let exc = format!("{} - ", provider_exception_name(&err.provider));
    if let Some(pos) = err.message.find(&exc) {
        let rest = &err.message[pos..];
        err.message = match kind {
            ErrorKind::BadRequest | ErrorKind::UnsupportedParams => rest.to_string(),
            ErrorKind::Timeout => format!("Timeout Error: {rest}"),
            other => format!("{}: {rest}", other.class_name()),
        };
    }
    err.kind = kind;
    err.status = status;
    err
}

/// `json.dumps(value)` as Python writes it (`", "` and `": "` separators, non-ASCII
/// escaped): LiteLLM builds tool-call `arguments` from a provider's parsed input this way.
pub fn python_json(value: &Value) -> String {
    let mut out = String::new();
    write_python_json(value, &mut out);
    out
}

fn write_python_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '\u{8}' => out.push_str("\\b"),
                    '\u{c}' => out.push_str("\\f"),
                    c if !(' '..='~').contains(&c) => {
                        let mut units = [0u16; 2];
                        for unit in c.encode_utf16(&mut units) {
                            out.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_python_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_python_json(&Value::String(k.clone()), out);
                out.push_str(": ");
                write_python_json(v, out);
            }
            out.push('}');
        }
    }
}

/// Provider prefixes LiteLLM accepts (`litellm.provider_list`) that are not in the
/// OpenAI-compatible registry. A `name/model` with one of these is recognised but refused
/// until its adapter lands.
pub const OTHER_PROVIDERS: &[&str] = &[
    "anthropic_text",
    "azure_text",
    "vertex_ai_beta",
    "clarifai",
    "baseten",
    "vllm",
    "nlp_cloud",
    "petals",
    "oobabooga",
    "maritalk",
    "cloudflare",
    "watsonx",
    "watsonx_text",
    "triton",
    "predibase",
    "databricks",
    "custom",
    "github_copilot",
    "text-completion-codestral",
    "aiohttp_openai",
    "topaz",
    "assemblyai",
    "snowflake",
    "datarobot",
    "recraft",
    "bytez",
    "heroku",
    "oci",
    "aleph_alpha",
    "palm",
    "aws_polly",
    "elevenlabs",
    "deepgram",
    "fal_ai",
    "stability",
    "lemonade",
    "gradient_ai",
    "wandb",
    "dotprompt",
    "cometapi",
    "ovhcloud",
    "openai_like",
];

/// The start of LiteLLM's message when no provider can be determined.
const PROVIDER_NOT_PROVIDED: &str =
    "LLM Provider NOT provided. Pass in the LLM provider you are trying to call.";

/// The message LiteLLM gives when no provider can be determined (kept word for word:
/// users match on it).
pub fn provider_not_provided(model: &str) -> LlmError {
    LlmError::bad_request(format!(
        "{PROVIDER_NOT_PROVIDED} You passed model={model}\n Pass model as E.g. For 'Huggingface' inference endpoints pass in `completion(model='huggingface/starcoder',..)` Learn more: https://docs.litellm.ai/docs/providers"
    ))
    .with_context("", model)
}

/// A call's unresolved-model error with what rustllm adds to LiteLLM's text: the nearest
/// catalogue names (`Did you mean: gpt-4o-mini, ...?`) and how to call a model the
/// catalogue does not list. Other errors pass through unchanged. The search scans the
/// catalogue, so this runs on that error path only (see `call::resolve`), never inside
/// [`get_llm_provider`], which helpers call on names that may not resolve.
pub fn explain_unresolved(mut err: LlmError, model: &str) -> LlmError {
    if err.kind != ErrorKind::BadRequest || !err.message.starts_with(PROVIDER_NOT_PROVIDED) {
        return err;
    }
    let suggestions = crate::catalogue::nearest::nearest_names(model, &|p: &str| spec(p).is_some());
    if !suggestions.is_empty() {
        err.message
            .push_str(&format!("\nDid you mean: {}?", suggestions.join(", ")));
    }
    // The family a name looks like tells the prefix its user most likely needs.
    let how = match provider_for_family(model).filter(|p| spec(p).is_some()) {
        Some("openai") => format!(
            "model='openai/{model}' (or custom_llm_provider='openai'), with api_base=... for your own OpenAI-compatible server"
        ),
        Some(p) => format!(
            "model='{p}/{model}' (or custom_llm_provider='{p}'), or model='openai/{model}' with api_base=... for your own OpenAI-compatible server"
        ),
        None => format!(
            "model='openai/{model}' for OpenAI or any OpenAI-compatible server (with api_base=...), 'anthropic/{model}', 'ollama_chat/{model}', ... (or custom_llm_provider=...)"
        ),
    };
    err.message.push_str(&format!(
        "\nrustllm's model catalogue does not list '{model}'. To call a model it does not list, name its provider: {how}"
    ));
    err
}

fn is_known_provider(name: &str) -> bool {
    spec(name).is_some() || OTHER_PROVIDERS.contains(&name)
}

/// The provider for a bare model name: the `litellm_provider` of its catalogue entry, as
/// LiteLLM resolves it, else the name's family (a guess: see [`provider_for_lookup`]).
fn provider_for_bare_name(model: &str) -> Option<&'static str> {
    crate::catalogue::models::bare_name_provider(model).or_else(|| provider_for_family(model))
}

/// OpenAI names LiteLLM resolves bare that the catalogue cannot list: fine-tunes
/// (`ft:gpt-4o-mini:org::id`, LiteLLM's `"ft:gpt-4" in model`) whatever the base model,
/// and the image models of its `openai_image_generation_models` (priced per size, so the
/// map keys them as `1024-x-1024/dall-e-3`).
fn is_unlisted_openai_name(model: &str) -> bool {
    model.starts_with("ft:gpt") || matches!(model, "dall-e-2" | "dall-e-3")
}

/// The provider a bare name's family implies (`gpt-`, `claude-`, `gemini-`, ...).
fn provider_for_family(model: &str) -> Option<&'static str> {
    const TEXT_COMPLETION: &[&str] = &["gpt-3.5-turbo-instruct", "babbage-002", "davinci-002"];
    const OPENAI: &[&str] = &[
        "gpt-",
        "o1",
        "o3",
        "o4",
        "chatgpt-",
        "text-embedding-",
        "omni-moderation",
        "text-moderation",
        "dall-e",
        "whisper",
        "tts-",
        "codex-",
        "computer-use",
        "ft:gpt",
    ];
    if TEXT_COMPLETION.iter().any(|p| model.starts_with(p)) {
        return Some("text-completion-openai");
    }
    if OPENAI.iter().any(|p| model.starts_with(p)) {
        return Some("openai");
    }
    if model.starts_with("claude-") {
        return Some("anthropic");
    }
    if model.starts_with("gemini-") {
        return Some("vertex_ai");
    }
    if model.starts_with("command-r") || model == "command" || model.starts_with("command-a") {
        return Some("cohere_chat");
    }
    const BEDROCK: &[&str] = &[
        "anthropic.",
        "amazon.",
        "meta.",
        "mistral.",
        "cohere.",
        "ai21.",
        "us.",
        "eu.",
    ];
    if BEDROCK.iter().any(|p| model.starts_with(p)) {
        return Some("bedrock");
    }
    None
}

/// The provider whose public endpoint `api_base` points at, if any.
fn provider_for_base(api_base: &str) -> Option<&'static str> {
    let base = api_base.trim_end_matches('/');
    let strip = |u: &'static str| u.split_once("://").map(|(_, rest)| rest).unwrap_or(u);
    COMPATIBLE_PROVIDERS
        .iter()
        .filter(|p| {
            !matches!(
                p.name,
                "openai" | "text-completion-openai" | "custom_openai"
            )
        })
        .filter_map(|p| p.default_base.map(|b| (p.name, strip(b))))
        .filter(|(_, host_path)| {
            !host_path.starts_with("127.0.0.1") && !host_path.starts_with("localhost")
        })
        .find(|(_, host_path)| {
            let host = host_path.split('/').next().unwrap_or(host_path);
            base.contains(host)
        })
        .map(|(name, _)| name)
}

/// LiteLLM's `get_llm_provider`: `(model sent to the provider, provider name)`.
///
/// Order: an explicit `custom_llm_provider` (model kept whole); a known `provider/`
/// prefix (everything after the first `/` is the model); a bare name the catalogue lists,
/// an OpenAI fine-tune (`ft:gpt-...`) or image model; a known `api_base`. Otherwise
/// `BadRequestError` with LiteLLM's guidance text, as LiteLLM raises for unknown bare
/// names: a misspelt `gpt-4o-mnii` fails here, before any network call, instead of being
/// sent to OpenAI.
///
/// With an explicit `api_base`, a bare name the catalogue does not list still routes by
/// its family (`gpt-*` to OpenAI's format, `claude-*` to Anthropic's, ...): the caller
/// named the server, so the name is whatever that server serves.
pub fn get_llm_provider(
    model: &str,
    custom_llm_provider: Option<&str>,
    api_base: Option<&str>,
) -> Result<(String, String), LlmError> {
    let by_family = api_base.is_some_and(|b| !b.is_empty());
    resolve_provider(model, custom_llm_provider, api_base, by_family)
}

/// [`get_llm_provider`] for catalogue look-ups (prices, `get_model_info`, `supports_*`):
/// no request is sent, so a bare name the catalogue does not list may still take its
/// family's provider, whose naming rules find its base entry (`gemini-2.5-pro-003` as
/// `gemini-2.5-pro`).
pub fn provider_for_lookup(
    model: &str,
    custom_llm_provider: Option<&str>,
) -> Result<(String, String), LlmError> {
    resolve_provider(model, custom_llm_provider, None, true)
}

fn resolve_provider(
    model: &str,
    custom_llm_provider: Option<&str>,
    api_base: Option<&str>,
    by_family: bool,
) -> Result<(String, String), LlmError> {
    if model.trim().is_empty() {
        return Err(LlmError::bad_request(
            "model must be a non-empty string, e.g. model=\"openai/gpt-4o\"",
        ));
    }
    if let Some(provider) = custom_llm_provider.filter(|p| !p.is_empty()) {
        if !is_known_provider(provider) {
            return Err(LlmError::bad_request(format!(
                "Unknown custom_llm_provider={provider:?}. Pass a provider from https://docs.litellm.ai/docs/providers, e.g. custom_llm_provider=\"openai\" for any OpenAI-compatible server."
            ))
            .with_context(provider, model));
        }
        // LiteLLM strips a redundant `provider/` prefix when it matches.
        let stripped = model
            .strip_prefix(provider)
            .and_then(|m| m.strip_prefix('/'))
            .unwrap_or(model);
        return Ok((stripped.to_string(), provider.to_string()));
    }
    if let Some((prefix, rest)) = model.split_once('/') {
        if is_known_provider(prefix) {
            return Ok((rest.to_string(), prefix.to_string()));
        }
    }
    let bare = crate::catalogue::models::bare_name_provider(model)
        .or_else(|| is_unlisted_openai_name(model).then_some("openai"))
        .or_else(|| by_family.then(|| provider_for_family(model)).flatten());
    if let Some(provider) = bare {
        return Ok((model.to_string(), provider.to_string()));
    }
    if let Some(provider) = api_base.and_then(provider_for_base) {
        return Ok((model.to_string(), provider.to_string()));
    }
    Err(provider_not_provided(model))
}

/// The provider name LiteLLM's `get_llm_provider` reports for a resolved `provider` and
/// `model`: `cohere/<chat model>` is `cohere_chat` and `anthropic/claude-2` (or
/// `claude-instant-1`) is `anthropic_text`. Routing keeps the prefix's provider.
pub fn reported_provider(provider: &str, model: &str) -> String {
    match provider {
        "cohere" if provider_for_bare_name(model) == Some("cohere_chat") => "cohere_chat".into(),
        "anthropic" if model == "claude-2" || model == "claude-instant-1" => {
            "anthropic_text".into()
        }
        other => other.to_string(),
    }
}

/// Where and how to call a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub base: String,
    /// `None` or blank: no `Authorization` header.
    pub key: Option<String>,
}

/// The base URL and key for an OpenAI-compatible provider: the explicit values, else the
/// provider's environment variables, else its defaults. A missing key raises
/// `AuthenticationError` naming the variable to set, before any network call.
pub fn resolve_endpoint(
    spec: &ProviderSpec,
    api_base: Option<&str>,
    api_key: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Endpoint, LlmError> {
    let from_env = |names: &[&str]| names.iter().find_map(|n| env(n).filter(|v| !v.is_empty()));
    let base = api_base
        .filter(|b| !b.is_empty())
        .map(str::to_string)
        .or_else(|| from_env(spec.base_env))
        .or_else(|| spec.default_base.map(str::to_string));
    let Some(base) = base else {
        let vars = spec.base_env.join(" or ");
        return Err(LlmError::bad_request(format!(
            "{} has no default endpoint: pass api_base=\"http://host:port/v1\" or set {vars}.",
            spec.name
        ))
        .with_context(spec.name, ""));
    };
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(LlmError::bad_request(format!(
            "api_base must be an http:// or https:// URL, got {base:?}"
        ))
        .with_context(spec.name, ""));
    }
    let key = api_key
        .map(str::to_string)
        .or_else(|| from_env(spec.key_env))
        .or_else(|| spec.default_key.map(str::to_string));
    let Some(key) = key else {
        let vars = spec.key_env.join(" or ");
        let mut err = LlmError::new(
            ErrorKind::Authentication,
            format!(
                "AuthenticationError: Missing API key for {}: set the {vars} environment variable or pass api_key=...",
                spec.name
            ),
        );
        err.provider = spec.name.to_string();
        return Err(err);
    };
    Ok(Endpoint {
        base,
        key: Some(key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(model: &str) -> Result<(String, String), LlmError> {
        get_llm_provider(model, None, None)
    }

    #[test]
    fn prefixes_split_at_the_first_slash() {
        assert_eq!(
            resolve("openrouter/openai/gpt-4o").ok(),
            Some(("openai/gpt-4o".into(), "openrouter".into()))
        );
        assert_eq!(
            resolve("openai/anthropic/claude").ok(),
            Some(("anthropic/claude".into(), "openai".into()))
        );
        assert_eq!(
            resolve("deepseek/deepseek-chat").ok(),
            Some(("deepseek-chat".into(), "deepseek".into()))
        );
        assert_eq!(
            resolve("fireworks_ai/accounts/fireworks/models/llama").ok(),
            Some((
                "accounts/fireworks/models/llama".into(),
                "fireworks_ai".into()
            ))
        );
    }

    #[test]
    fn bare_names_resolve_by_the_catalogue() {
        assert_eq!(resolve("gpt-4o").ok().map(|r| r.1), Some("openai".into()));
        assert_eq!(
            resolve("text-embedding-3-small").ok().map(|r| r.1),
            Some("openai".into())
        );
        assert_eq!(
            resolve("gpt-3.5-turbo-instruct").ok().map(|r| r.1),
            Some("text-completion-openai".into())
        );
        assert_eq!(
            resolve("claude-3-5-sonnet-20240620").ok().map(|r| r.1),
            Some("anthropic".into())
        );
        assert_eq!(
            resolve("gemini-1.5-pro").ok().map(|r| r.1),
            Some("vertex_ai".into())
        );
        assert_eq!(
            resolve("command-r").ok().map(|r| r.1),
            Some("cohere_chat".into())
        );
        assert_eq!(
            resolve("anthropic.claude-3-5-sonnet-20240620-v1:0")
                .ok()
                .map(|r| r.1),
            Some("bedrock".into())
        );
        assert_eq!(
            resolve("ft:gpt-4o-mini-2024-07-18:org::abc123").ok(),
            Some((
                "ft:gpt-4o-mini-2024-07-18:org::abc123".into(),
                "openai".into()
            ))
        );
        assert_eq!(resolve("dall-e-3").ok().map(|r| r.1), Some("openai".into()));
    }

    #[test]
    fn unlisted_bare_names_fail_unless_the_call_names_a_server() {
        // LiteLLM raises for any bare name its lists lack; so does rustllm, before any
        // request: a typo must not reach OpenAI (and its retries) as a model name.
        for name in ["gpt-4o-mnii", "claud-3-5-sonnet", "anthropic.claude-3-v1:0"] {
            let err = resolve(name).err().map(|e| (e.kind, e.message));
            let (kind, message) = err.expect("an unlisted bare name must fail");
            assert_eq!(kind, ErrorKind::BadRequest);
            assert!(message.contains(&format!("You passed model={name}")));
        }
        // With an api_base the caller named the server: the family still routes.
        assert_eq!(
            get_llm_provider("gpt-4o-mnii", None, Some("http://127.0.0.1:9/v1")).ok(),
            Some(("gpt-4o-mnii".into(), "openai".into()))
        );
        assert_eq!(
            get_llm_provider("claude-next", None, Some("http://127.0.0.1:9"))
                .ok()
                .map(|r| r.1),
            Some("anthropic".into())
        );
        // Catalogue look-ups may still guess by family (no request is sent).
        assert_eq!(
            provider_for_lookup("gpt-4o-mnii", None).ok().map(|r| r.1),
            Some("openai".into())
        );
    }

    #[test]
    fn unresolved_calls_suggest_near_names_and_the_prefix_to_use() {
        let err = explain_unresolved(provider_not_provided("gpt-4o-mnii"), "gpt-4o-mnii");
        assert!(err.message.starts_with("LLM Provider NOT provided. Pass in the LLM provider you are trying to call. You passed model=gpt-4o-mnii"));
        assert!(
            err.message.contains("\nDid you mean: gpt-4o-mini"),
            "{}",
            err.message
        );
        assert!(err.message.contains("model='openai/gpt-4o-mnii'"));
        let far = explain_unresolved(provider_not_provided("zzzz-qqqq"), "zzzz-qqqq");
        assert!(!far.message.contains("Did you mean"));
        assert!(far.message.contains("model='openai/zzzz-qqqq'"));
        // Any other error is left as it is.
        let other = LlmError::bad_request("something else");
        assert_eq!(
            explain_unresolved(other, "gpt-4o-mnii").message,
            "something else"
        );
    }

    #[test]
    fn unknown_models_get_litellm_guidance() {
        let err = resolve("mistral-large-latest").err();
        let err = err.map(|e| (e.kind, e.status, e.message));
        let (kind, status, message) = err.expect("expected an error");
        assert_eq!(kind, ErrorKind::BadRequest);
        assert_eq!(status, 400);
        assert!(message.starts_with("LLM Provider NOT provided. Pass in the LLM provider you are trying to call. You passed model=mistral-large-latest"));
        assert!(resolve("  ").is_err());
        assert!(resolve("nosuchprovider/model").is_err());
    }

    #[test]
    fn custom_provider_wins_and_keeps_the_model() {
        assert_eq!(
            get_llm_provider("my/model", Some("openai"), None).ok(),
            Some(("my/model".into(), "openai".into()))
        );
        assert_eq!(
            get_llm_provider("groq/llama", Some("groq"), None).ok(),
            Some(("llama".into(), "groq".into()))
        );
        assert!(get_llm_provider("m", Some("not-a-provider"), None).is_err());
    }

    #[test]
    fn known_api_bases_infer_the_provider() {
        assert_eq!(
            get_llm_provider("llama-3", None, Some("https://api.groq.com/openai/v1"))
                .ok()
                .map(|r| r.1),
            Some("groq".into())
        );
        assert_eq!(
            get_llm_provider("sonar", None, Some("https://api.perplexity.ai"))
                .ok()
                .map(|r| r.1),
            Some("perplexity".into())
        );
        assert!(get_llm_provider("my-model", None, Some("http://127.0.0.1:9/v1")).is_err());
    }

    #[test]
    fn endpoints_from_arguments_env_and_defaults() {
        let env = |name: &str| match name {
            "GROQ_API_KEY" => Some("gk".to_string()),
            "DEEPSEEK_API_BASE" => Some("http://ds.local/v1".to_string()),
            "DEEPSEEK_API_KEY" => Some(String::new()),
            _ => None,
        };
        let groq = compatible("groq").map(|s| resolve_endpoint(s, None, None, &env));
        assert_eq!(
            groq.and_then(Result::ok),
            Some(Endpoint {
                base: "https://api.groq.com/openai/v1".into(),
                key: Some("gk".into())
            })
        );
        let explicit =
            compatible("groq").map(|s| resolve_endpoint(s, Some("http://x/v1"), Some("k2"), &env));
        assert_eq!(
            explicit.and_then(Result::ok),
            Some(Endpoint {
                base: "http://x/v1".into(),
                key: Some("k2".into())
            })
        );
        // An empty variable counts as unset: the key is missing.
        let ds = compatible("deepseek").map(|s| resolve_endpoint(s, None, None, &env));
        let err = ds.and_then(Result::err);
        assert_eq!(
            err.as_ref().map(|e| e.kind),
            Some(ErrorKind::Authentication)
        );
        assert!(err
            .map(|e| e.message.contains("DEEPSEEK_API_KEY"))
            .unwrap_or(false));
        let vllm = compatible("hosted_vllm").map(|s| resolve_endpoint(s, None, None, &env));
        let err = vllm.and_then(Result::err);
        assert!(err
            .map(|e| e.message.contains("HOSTED_VLLM_API_BASE"))
            .unwrap_or(false));
        let vllm = compatible("hosted_vllm")
            .map(|s| resolve_endpoint(s, Some("http://h:8000/v1"), None, &env));
        assert_eq!(
            vllm.and_then(Result::ok).and_then(|e| e.key),
            Some("fake-api-key".into())
        );
        let bad =
            compatible("openai").map(|s| resolve_endpoint(s, Some("ftp://x"), Some("k"), &env));
        assert!(bad.map(|r| r.is_err()).unwrap_or(false));
    }
}
