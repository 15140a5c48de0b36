//! Guardrails that are not rustllm's built-in detectors: LiteLLM's way of naming a class,
//! `guardrail: my_module.MyGuardrail`, in the proxy's `guardrails:` list.
//!
//! The proxy is plain Rust; such a guardrail comes from whoever embeds it. When the proxy
//! runs inside the Python process (`rustllm proxy`), the Python layer can install an
//! [`ExternalLoader`] that imports the class and wraps an instance as an
//! [`ExternalGuardrail`]; until one is installed, a config naming a class fails at start
//! ([`NOT_SUPPORTED`]), never at request time.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use serde_json::{Map, Value};

/// A boxed future of a guardrail hook.
pub type HookFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Map<String, Value>>, HookError>> + Send + 'a>>;

/// What a class's stream hook sends instead of a held stream, chunk by chunk.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    /// The stream's chunk at this index, unchanged.
    Kept(usize),
    /// A chunk the hook made or changed, as its JSON object.
    New(Map<String, Value>),
}

/// A boxed future of a class's stream hook: `None` when the stream is unchanged.
pub type StreamFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Vec<StreamItem>>, HookError>> + Send + 'a>>;

/// Why a hook refused: what it raised (the class name, the guardrail metrics'
/// `error_type`, as LiteLLM labels them) and its message (the client's 400).
#[derive(Debug, Clone, PartialEq)]
pub struct HookError {
    pub error_type: String,
    pub message: String,
}

impl HookError {
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        HookError {
            error_type: error_type.into(),
            message: message.into(),
        }
    }
}

/// One guardrail implemented outside rustllm (a LiteLLM `CustomGuardrail` class).
///
/// Each hook gets the request body (and, after the call, the reply), and the caller as
/// LiteLLM's `UserAPIKeyAuth` fields (`api_key`: the key's hash, `key_alias`, `user_id`,
/// `team_id`; none without a virtual key), and answers
/// `Ok(None)` to let it through unchanged, `Ok(Some(new))` to replace it, or `Err(error)`
/// to block it: the client gets a 400 with its message, and before the call nothing
/// reaches the provider.
pub trait ExternalGuardrail: Send + Sync {
    /// Before the call (`pre_call`): `call_type` is LiteLLM's (`acompletion`,
    /// `aembedding`, ...).
    fn pre_call<'a>(
        &'a self,
        body: &'a Map<String, Value>,
        call_type: &'a str,
        caller: &'a Map<String, Value>,
    ) -> HookFuture<'a>;

    /// `during_call` (LiteLLM's moderation hook, which may block but not change the
    /// request): run before the call here, as the built-in guardrails' are. By default
    /// the same as [`ExternalGuardrail::pre_call`].
    fn during_call<'a>(
        &'a self,
        body: &'a Map<String, Value>,
        call_type: &'a str,
        caller: &'a Map<String, Value>,
    ) -> HookFuture<'a> {
        self.pre_call(body, call_type, caller)
    }

    /// After a successful call (`post_call`), on the reply (JSON replies).
    fn post_call<'a>(
        &'a self,
        request: &'a Map<String, Value>,
        reply: &'a Map<String, Value>,
        caller: &'a Map<String, Value>,
    ) -> HookFuture<'a>;

    /// Whether it rewrites streams (LiteLLM's `async_post_call_streaming_iterator_hook`):
    /// a stream it is selected for is held and given to [`ExternalGuardrail::stream`].
    fn streams(&self) -> bool {
        false
    }

    /// After a streamed call (`post_call`), a held stream's chunks (as the route sends
    /// them: `chat`, chat completion chunks; otherwise the route's events) through the
    /// class's stream hook: what goes out instead, or `None` when it changed nothing.
    fn stream<'a>(
        &'a self,
        _request: &'a Map<String, Value>,
        _chunks: Vec<Map<String, Value>>,
        _chat: bool,
        _caller: &'a Map<String, Value>,
    ) -> StreamFuture<'a> {
        Box::pin(async { Ok(None) })
    }
}

/// Makes the [`ExternalGuardrail`] a config entry names.
pub trait ExternalLoader: Send + Sync {
    /// `class`: the entry's `litellm_params.guardrail` (`my_module.MyGuardrail`); `name`:
    /// its `guardrail_name`; `params`: its whole `litellm_params` (the class's keyword
    /// arguments, as LiteLLM passes them).
    fn load(
        &self,
        class: &str,
        name: &str,
        params: &Map<String, Value>,
    ) -> Result<Arc<dyn ExternalGuardrail>, String>;
}

/// The error a config gets for a class guardrail when no loader is installed.
pub const NOT_SUPPORTED: &str = "Python guardrail classes are not supported yet: use the built-in detectors (guardrail: rustllm, builtin or presidio)";

static LOADER: RwLock<Option<Arc<dyn ExternalLoader>>> = RwLock::new(None);

/// Install the loader config entries with a class name go to (the Python layer calls
/// this before the proxy reads its config). Replaces any earlier one.
pub fn set_loader(loader: Arc<dyn ExternalLoader>) {
    *LOADER.write().unwrap_or_else(|e| e.into_inner()) = Some(loader);
}

/// Remove the loader (class guardrails fail at start again).
pub fn clear_loader() {
    *LOADER.write().unwrap_or_else(|e| e.into_inner()) = None;
}

/// The guardrail a config entry names, through the installed loader.
pub fn load(
    class: &str,
    name: &str,
    params: &Map<String, Value>,
) -> Result<Arc<dyn ExternalGuardrail>, String> {
    let loader = LOADER.read().unwrap_or_else(|e| e.into_inner()).clone();
    match loader {
        Some(l) => l.load(class, name, params),
        None => Err(NOT_SUPPORTED.to_string()),
    }
}
