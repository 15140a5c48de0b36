//! `rustllm._core.Router`: the Rust Router behind `rustllm.Router`.
//!
//! One Python call crosses into Rust once; selection, retries, cooldowns and fallbacks
//! all happen inside it. Results come back in the same shape as direct calls, with the
//! Router's fields added to `_hidden_params`.

use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use serde_json::{Map, Value};

use super::blocking::{block_on, block_on_call};
use super::bridge::{Convert, LoopWaker};
use super::completion::{hidden_params, run, run_stream};
use super::convert::{map_to_py, to_py, to_value};
use super::custom::{body_of, call_custom, custom_providers, is_custom, PyContext, PyPicker};
use super::errors::to_pyerr;
use super::stream::ChatStream;
use crate::cache::link::{EventLevel, EventSink};
use crate::call::{self, OpenStream, Reply};
use crate::error::LlmError;
use crate::providers::Endpointkind;
use crate::router::config::RouterConfig;
use crate::router::custom::DeploymentPicker;
use crate::router::{Attempt, AttemptLog, CallGuard, RouteInfo, Routed, Router as CoreRouter};

/// Redis going away or coming back, logged on `logging.getLogger("rustllm")`. This runs
/// once per outage, so taking the GIL here costs nothing that matters.
fn log_event(level: EventLevel, message: &str) {
    Python::attach(|py| {
        let log = || -> PyResult<()> {
            let logger = py
                .import("logging")?
                .call_method1("getLogger", ("rustllm",))?;
            let method = match level {
                EventLevel::Warning => "warning",
                EventLevel::Info => "info",
            };
            logger.call_method1(method, ("rustllm.Router: %s", message))?;
            Ok(())
        };
        if let Err(e) = log() {
            e.print(py);
        }
    });
}

/// The Rust Router.
#[pyclass(module = "rustllm._core", name = "Router", frozen)]
pub struct PyRouter {
    inner: Arc<CoreRouter>,
    skipped: Vec<String>,
    /// `rustllm._custom_routing.Picker` over the user's strategy, once
    /// `set_custom_routing_strategy` was called.
    picker: Mutex<Option<Arc<Py<PyAny>>>>,
}

/// The Python hooks of one Router call (src/py/custom.rs); both `None` unless the user
/// set a routing strategy or registered custom providers.
#[derive(Default)]
struct Hooks {
    picker: Option<PyPicker>,
    custom: Option<(Arc<Vec<String>>, PyContext)>,
}

/// A stream from a provider, or the Python handle of a custom provider's stream.
enum RoutedStream {
    Native(OpenStream),
    Custom(Py<PyAny>, Reply),
}

impl Routed for RoutedStream {
    fn tokens(&self) -> (Option<u64>, Option<u64>) {
        (None, None)
    }
}

/// The reply metadata of a custom provider's answer (its provider is the model prefix).
fn custom_reply(merged: &Map<String, Value>, body: Map<String, Value>, ms: f64) -> Reply {
    let model = merged.get("model").and_then(Value::as_str).unwrap_or("");
    let provider = merged
        .get("custom_llm_provider")
        .and_then(Value::as_str)
        .or_else(|| model.split_once('/').map(|(p, _)| p))
        .unwrap_or("");
    Reply {
        body,
        provider: provider.to_string(),
        api_base: String::new(),
        requested_model: model.to_string(),
        headers: Vec::new(),
        response_ms: ms,
    }
}

fn add_route_info<'py>(
    py: Python<'py>,
    hidden: &Bound<'py, PyDict>,
    info: &RouteInfo,
) -> PyResult<()> {
    if info.cache_hit {
        // A hit called no deployment and cost nothing.
        hidden.set_item(pyo3::intern!(py, "cache_hit"), true)?;
        hidden.set_item(pyo3::intern!(py, "model_id"), py.None())?;
        hidden.set_item(pyo3::intern!(py, "response_cost"), 0.0)?;
    } else {
        hidden.set_item(pyo3::intern!(py, "model_id"), &info.model_id)?;
    }
    hidden.set_item(pyo3::intern!(py, "model_group"), &info.model_group)?;
    let headers = match hidden.get_item(pyo3::intern!(py, "additional_headers"))? {
        Some(h) => h.cast_into::<PyDict>()?,
        None => {
            let h = PyDict::new(py);
            hidden.set_item(pyo3::intern!(py, "additional_headers"), &h)?;
            h
        }
    };
    headers.set_item(
        pyo3::intern!(py, "x-litellm-model-group"),
        &info.model_group,
    )?;
    if !info.cache_hit {
        headers.set_item(pyo3::intern!(py, "x-litellm-model-id"), &info.model_id)?;
    }
    headers.set_item(
        pyo3::intern!(py, "x-litellm-attempted-retries"),
        info.attempted_retries,
    )?;
    headers.set_item(pyo3::intern!(py, "x-litellm-max-retries"), info.max_retries)?;
    headers.set_item(
        pyo3::intern!(py, "x-litellm-attempted-fallbacks"),
        info.attempted_fallbacks,
    )?;
    Ok(())
}

fn reply_to_py(
    py: Python<'_>,
    kind: Endpointkind,
    reply: Reply,
    info: &RouteInfo,
) -> PyResult<Py<PyAny>> {
    let hidden = hidden_params(py, &reply)?;
    add_route_info(py, &hidden, info)?;
    super::completion::reply_tuple(py, kind, reply, hidden)
}

fn stream_to_py(
    py: Python<'_>,
    open: RoutedStream,
    guard: CallGuard,
    info: &RouteInfo,
) -> PyResult<Py<PyAny>> {
    let open = match open {
        RoutedStream::Native(open) => open,
        RoutedStream::Custom(handle, reply) => {
            // The handler's iterator is Python: the deployment's in-flight mark ends once
            // the stream is open.
            drop(guard);
            let hidden = hidden_params(py, &reply)?;
            add_route_info(py, &hidden, info)?;
            return Ok(
                PyTuple::new(py, [handle.into_bound(py), hidden.into_any()])?
                    .into_any()
                    .unbind(),
            );
        }
    };
    let hidden = hidden_params(py, &open.reply)?;
    add_route_info(py, &hidden, info)?;
    let handle = Py::new(py, ChatStream::with_guard(open.chunks, Box::new(guard)))?;
    Ok(
        PyTuple::new(py, [handle.into_any().into_bound(py), hidden.into_any()])?
            .into_any()
            .unbind(),
    )
}

/// Seconds since the epoch, as `time.time()` gives them.
fn epoch(t: std::time::SystemTime) -> f64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The call's attempts, appended to `sink` as dicts (`rustllm._hooks` replays them to the
/// callbacks): the deployment, its group, the model and api_base sent, the times, and the
/// error raised (`None` for the attempt that answered).
fn attempts_to_py(
    py: Python<'_>,
    sink: &Bound<'_, PyList>,
    attempts: Vec<Attempt>,
) -> PyResult<()> {
    for a in attempts {
        let d = PyDict::new(py);
        d.set_item("model_id", &a.deployment)?;
        d.set_item("model_group", &a.group)?;
        d.set_item("model_group_size", a.group_size)?;
        d.set_item("model", &a.model)?;
        d.set_item("api_base", &a.api_base)?;
        d.set_item("start_time", epoch(a.started))?;
        d.set_item("end_time", epoch(a.ended))?;
        match a.error {
            Some(e) => d.set_item("exception", to_pyerr(py, e).value(py))?,
            None => d.set_item("exception", py.None())?,
        }
        sink.append(d)?;
    }
    Ok(())
}

/// The attempt log a call records into: only when the caller passed a sink for it.
fn attempt_log(sink: &Option<Py<PyList>>) -> Option<Arc<AttemptLog>> {
    sink.as_ref().map(|_| Arc::new(AttemptLog::default()))
}

/// Hand the recorded attempts to the caller's sink, whatever the call's outcome.
fn deliver_attempts(
    py: Python<'_>,
    sink: Option<Py<PyList>>,
    log: Option<Arc<AttemptLog>>,
) -> PyResult<()> {
    if let (Some(sink), Some(log)) = (sink, log) {
        attempts_to_py(py, sink.bind(py), log.take())?;
    }
    Ok(())
}

/// LiteLLM's call type names, as `supported_call_types` lists them.
fn call_type(kind: Endpointkind, is_async: bool) -> &'static str {
    match (kind, is_async) {
        (Endpointkind::Embeddings, false) => "embedding",
        (Endpointkind::Embeddings, true) => "aembedding",
        (Endpointkind::Rerank, false) => "rerank",
        (Endpointkind::Rerank, true) => "arerank",
        (Endpointkind::Moderation, false) => "moderation",
        (Endpointkind::Moderation, true) => "amoderation",
        (Endpointkind::Responses, false) => "responses",
        (Endpointkind::Responses, true) => "aresponses",
        (Endpointkind::ImageGeneration, false) => "image_generation",
        (Endpointkind::ImageGeneration, true) => "aimage_generation",
        (Endpointkind::Speech, false) => "speech",
        (Endpointkind::Speech, true) => "aspeech",
        // LiteLLM has one call type for both (its `anthropic_messages` is async).
        (Endpointkind::AnthropicMessages, _) => "anthropic_messages",
        (Endpointkind::Transcription, false) => "transcription",
        (Endpointkind::Transcription, true) => "atranscription",
        (Endpointkind::ImageEdit, false) => "image_edit",
        (Endpointkind::ImageEdit, true) => "aimage_edit",
        (_, false) => "completion",
        (_, true) => "acompletion",
    }
}

async fn route_reply(
    router: Arc<CoreRouter>,
    kind: Endpointkind,
    is_async: bool,
    kwargs: Map<String, Value>,
    hooks: Hooks,
    attempts: Option<Arc<AttemptLog>>,
) -> Result<(Reply, RouteInfo), LlmError> {
    let Hooks { picker, custom } = hooks;
    let picker = picker.as_ref().map(|p| p as &dyn DeploymentPicker);
    let custom = &custom;
    router
        .route_cached_with(
            call_type(kind, is_async),
            kwargs,
            picker,
            attempts.as_deref(),
            move |merged| async move {
                if let Some((names, context)) = custom {
                    if is_custom(names, &merged) {
                        if matches!(
                            kind,
                            Endpointkind::Responses | Endpointkind::AnthropicMessages
                        ) {
                            return Err(LlmError::bad_request(format!(
                                "a custom provider (custom_provider_map) serves completion and embedding calls; {} needs a provider rustllm routes",
                                kind.path()
                            )));
                        }
                        let started = std::time::Instant::now();
                        let what = match kind {
                            Endpointkind::Embeddings => "embedding",
                            Endpointkind::Rerank
                            | Endpointkind::Moderation
                            | Endpointkind::ImageGeneration
                            | Endpointkind::Speech
                            | Endpointkind::Transcription
                            | Endpointkind::ImageEdit => {
                                return Err(LlmError::bad_request(format!(
                                    "a custom provider serves completion and embedding calls only, not {}",
                                    kind.path()
                                )));
                            }
                            _ => "completion",
                        };
                        let reply = call_custom(context, what, merged.clone()).await?;
                        let ms = started.elapsed().as_secs_f64() * 1000.0;
                        return Ok(custom_reply(&merged, body_of(&reply)?, ms));
                    }
                }
                run(call::prepare(kind, merged)?).await
            },
        )
        .await
}

async fn route_stream(
    router: Arc<CoreRouter>,
    kind: Endpointkind,
    is_async: bool,
    kwargs: Map<String, Value>,
    hooks: Hooks,
    attempts: Option<Arc<AttemptLog>>,
) -> Result<(RoutedStream, CallGuard, RouteInfo), LlmError> {
    let Hooks { picker, custom } = hooks;
    let picker = picker.as_ref().map(|p| p as &dyn DeploymentPicker);
    let custom = &custom;
    router
        .route_with(
            call_type(kind, is_async),
            kwargs,
            true,
            picker,
            attempts.as_deref(),
            move |merged| async move {
                if let Some((names, context)) = custom {
                    if is_custom(names, &merged) {
                        let handle = call_custom(context, "completion", merged.clone()).await?;
                        return Ok(RoutedStream::Custom(
                            handle,
                            custom_reply(&merged, Map::new(), 0.0),
                        ));
                    }
                }
                let open = run_stream(call::prepare(kind, merged)?).await?;
                Ok(RoutedStream::Native(open))
            },
        )
        .await
}

impl PyRouter {
    /// A stream of `kind` through the Router, blocking until it opens.
    fn stream_kind(
        &self,
        py: Python<'_>,
        kind: Endpointkind,
        kwargs: &Bound<'_, PyDict>,
        attempts: Option<Py<PyList>>,
    ) -> PyResult<Py<PyAny>> {
        let map = self.kwargs(py, kwargs)?;
        let hooks = self.hooks(py, false)?;
        let log = attempt_log(&attempts);
        let result = block_on(
            py,
            route_stream(self.inner.clone(), kind, false, map, hooks, log.clone()),
        );
        deliver_attempts(py, attempts, log)?;
        let (open, guard, info) = result?;
        stream_to_py(py, open, guard, &info)
    }

    /// The Python hooks for a call (made on the caller's thread, with the GIL).
    fn hooks(&self, py: Python<'_>, is_async: bool) -> PyResult<Hooks> {
        let picker = self.picker.lock().ok().and_then(|p| p.clone());
        let custom = custom_providers(py);
        if picker.is_none() && custom.is_none() {
            return Ok(Hooks::default());
        }
        let context = if is_async {
            PyContext::running_loop(py)?
        } else {
            PyContext::Sync
        };
        Ok(Hooks {
            picker: picker.map(|picker| PyPicker {
                picker,
                context: context.clone(),
            }),
            custom: custom.map(|names| (names, context)),
        })
    }

    /// A call's arguments, after the built-in guardrails Python handed it (see
    /// `completion::call_map`).
    fn kwargs(&self, py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Map<String, Value>> {
        super::completion::call_map(py, kwargs)
    }

    fn call_sync(
        &self,
        py: Python<'_>,
        kind: Endpointkind,
        kwargs: &Bound<'_, PyDict>,
        sink: Option<Py<PyList>>,
    ) -> PyResult<Py<PyAny>> {
        let map = self.kwargs(py, kwargs)?;
        let hooks = self.hooks(py, false)?;
        let log = attempt_log(&sink);
        let work = route_reply(self.inner.clone(), kind, false, map, hooks, log.clone());
        // Without Redis nothing outlives the call, so it can stay on this thread's own
        // runtime (see transport.rs); Redis connections live on the shared runtime.
        let local = self.inner.state.link().is_none()
            && self.inner.cache.as_ref().is_none_or(|c| !c.is_redis());
        let result = if local {
            block_on_call(py, work)
        } else {
            block_on(py, work)
        };
        deliver_attempts(py, sink, log)?;
        let (reply, info) = result?;
        reply_to_py(py, kind, reply, &info)
    }

    /// Queue a call on `waker` (see `bridge.rs`); its result resolves `future` on the
    /// waker's loop. True when the caller must schedule `waker.flush`.
    fn submit(
        &self,
        py: Python<'_>,
        kind: Endpointkind,
        kwargs: &Bound<'_, PyDict>,
        waker: &Bound<'_, LoopWaker>,
        future: Py<PyAny>,
        sink: Option<Py<PyList>>,
    ) -> PyResult<bool> {
        let map = self.kwargs(py, kwargs)?;
        let hooks = self.hooks(py, true)?;
        let router = self.inner.clone();
        let log = attempt_log(&sink);
        waker.get().start(
            py,
            future,
            Box::pin(async move {
                let convert: Convert = if map.get("stream").and_then(Value::as_bool) == Some(true)
                    && matches!(
                        kind,
                        Endpointkind::Chat
                            | Endpointkind::Responses
                            | Endpointkind::AnthropicMessages
                    ) {
                    let result = route_stream(router, kind, true, map, hooks, log.clone()).await;
                    Box::new(move |py| {
                        deliver_attempts(py, sink, log)?;
                        match result {
                            Ok((open, guard, info)) => stream_to_py(py, open, guard, &info),
                            Err(e) => Err(to_pyerr(py, e)),
                        }
                    })
                } else {
                    let result = route_reply(router, kind, true, map, hooks, log.clone()).await;
                    Box::new(move |py| {
                        deliver_attempts(py, sink, log)?;
                        match result {
                            Ok((reply, info)) => reply_to_py(py, kind, reply, &info),
                            Err(e) => Err(to_pyerr(py, e)),
                        }
                    })
                };
                convert
            }),
        )
    }
}

#[pymethods]
impl PyRouter {
    /// Build from the constructor's keyword arguments (LiteLLM's names). Raises
    /// `ValueError` for an invalid configuration.
    #[new]
    fn new(py: Python<'_>, config: &Bound<'_, PyDict>) -> PyResult<Self> {
        let map = match to_value(config.as_any(), "Router config")? {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let (cfg, skipped) = RouterConfig::from_json(&map).map_err(|e| to_pyerr(py, e))?;
        let inner = CoreRouter::new(cfg).map_err(|e| to_pyerr(py, e))?;
        let sink: EventSink = Arc::new(log_event);
        inner.set_event_sink(sink);
        Ok(PyRouter {
            inner,
            skipped,
            picker: Mutex::new(None),
        })
    }

    /// Chat completion through the Router, blocking: `(response_json, hidden_params, ms)`.
    /// With `attempts` (a list), each deployment call is appended to it as a dict, whether
    /// the call succeeds or raises.
    #[pyo3(signature = (kwargs, attempts=None))]
    fn completion(
        &self,
        py: Python<'_>,
        kwargs: &Bound<'_, PyDict>,
        attempts: Option<Py<PyList>>,
    ) -> PyResult<Py<PyAny>> {
        self.call_sync(py, Endpointkind::Chat, kwargs, attempts)
    }

    /// Chat completion through the Router (or a stream, with `stream=True` in `kwargs`),
    /// resolving `future` on `waker`'s loop: `(response_json, hidden_params, ms)` or
    /// `(ChatStream, hidden_params)`. True when the caller must schedule `waker.flush`.
    /// `attempts`: as for `completion`, filled before `future` resolves.
    #[pyo3(signature = (kwargs, waker, future, attempts=None))]
    fn acompletion_submit(
        &self,
        py: Python<'_>,
        kwargs: &Bound<'_, PyDict>,
        waker: &Bound<'_, LoopWaker>,
        future: Py<PyAny>,
        attempts: Option<Py<PyList>>,
    ) -> PyResult<bool> {
        self.submit(py, Endpointkind::Chat, kwargs, waker, future, attempts)
    }

    /// Embeddings through the Router, blocking.
    #[pyo3(signature = (kwargs, attempts=None))]
    fn embedding(
        &self,
        py: Python<'_>,
        kwargs: &Bound<'_, PyDict>,
        attempts: Option<Py<PyList>>,
    ) -> PyResult<Py<PyAny>> {
        self.call_sync(py, Endpointkind::Embeddings, kwargs, attempts)
    }

    /// Embeddings through the Router, resolving `future` on `waker`'s loop.
    #[pyo3(signature = (kwargs, waker, future, attempts=None))]
    fn aembedding_submit(
        &self,
        py: Python<'_>,
        kwargs: &Bound<'_, PyDict>,
        waker: &Bound<'_, LoopWaker>,
        future: Py<PyAny>,
        attempts: Option<Py<PyList>>,
    ) -> PyResult<bool> {
        self.submit(
            py,
            Endpointkind::Embeddings,
            kwargs,
            waker,
            future,
            attempts,
        )
    }

    /// Rerank (`kind="rerank"`) or moderation (`kind="moderation"`) through the Router,
    /// blocking.
    #[pyo3(signature = (kind, kwargs, attempts=None))]
    fn call_kind(
        &self,
        py: Python<'_>,
        kind: &str,
        kwargs: &Bound<'_, PyDict>,
        attempts: Option<Py<PyList>>,
    ) -> PyResult<Py<PyAny>> {
        let kind = super::rerank::kind_named(py, kind)?;
        self.call_sync(py, kind, kwargs, attempts)
    }

    /// [`Self::call_kind`] resolving `future` on `waker`'s loop.
    #[pyo3(signature = (kind, kwargs, waker, future, attempts=None))]
    fn call_kind_submit(
        &self,
        py: Python<'_>,
        kind: &str,
        kwargs: &Bound<'_, PyDict>,
        waker: &Bound<'_, LoopWaker>,
        future: Py<PyAny>,
        attempts: Option<Py<PyList>>,
    ) -> PyResult<bool> {
        let kind = super::rerank::kind_named(py, kind)?;
        self.submit(py, kind, kwargs, waker, future, attempts)
    }

    /// A stream through the Router (retries and fallbacks before the first chunk):
    /// `(ChatStream, hidden_params)`. `attempts`: the deployment calls up to the one that
    /// opened the stream, as for `completion`.
    #[pyo3(signature = (kwargs, attempts=None))]
    fn completion_stream(
        &self,
        py: Python<'_>,
        kwargs: &Bound<'_, PyDict>,
        attempts: Option<Py<PyList>>,
    ) -> PyResult<Py<PyAny>> {
        let map = self.kwargs(py, kwargs)?;
        let hooks = self.hooks(py, false)?;
        let log = attempt_log(&attempts);
        let result = block_on(
            py,
            route_stream(
                self.inner.clone(),
                Endpointkind::Chat,
                false,
                map,
                hooks,
                log.clone(),
            ),
        );
        deliver_attempts(py, attempts, log)?;
        let (open, guard, info) = result?;
        stream_to_py(py, open, guard, &info)
    }

    /// A Responses API call through the Router, blocking: `(response_json, hidden_params,
    /// ms)`, with the same retries, fallbacks and limits as chat.
    #[pyo3(signature = (kwargs, attempts=None))]
    fn responses(
        &self,
        py: Python<'_>,
        kwargs: &Bound<'_, PyDict>,
        attempts: Option<Py<PyList>>,
    ) -> PyResult<Py<PyAny>> {
        self.call_sync(py, Endpointkind::Responses, kwargs, attempts)
    }

    /// A Responses API call (or stream) through the Router, resolving `future` on
    /// `waker`'s loop.
    #[pyo3(signature = (kwargs, waker, future, attempts=None))]
    fn aresponses_submit(
        &self,
        py: Python<'_>,
        kwargs: &Bound<'_, PyDict>,
        waker: &Bound<'_, LoopWaker>,
        future: Py<PyAny>,
        attempts: Option<Py<PyList>>,
    ) -> PyResult<bool> {
        self.submit(py, Endpointkind::Responses, kwargs, waker, future, attempts)
    }

    /// An Anthropic Messages stream through the Router (retries and fallbacks before the
    /// first event): `(ChatStream, hidden_params)` whose items are Anthropic's event dicts.
    #[pyo3(signature = (kwargs, attempts=None))]
    fn anthropic_messages_stream(
        &self,
        py: Python<'_>,
        kwargs: &Bound<'_, PyDict>,
        attempts: Option<Py<PyList>>,
    ) -> PyResult<Py<PyAny>> {
        self.stream_kind(py, Endpointkind::AnthropicMessages, kwargs, attempts)
    }

    /// A Responses stream through the Router (retries and fallbacks before the first
    /// event): `(ChatStream, hidden_params)` whose items are the event dicts.
    #[pyo3(signature = (kwargs, attempts=None))]
    fn responses_stream(
        &self,
        py: Python<'_>,
        kwargs: &Bound<'_, PyDict>,
        attempts: Option<Py<PyList>>,
    ) -> PyResult<Py<PyAny>> {
        let map = self.kwargs(py, kwargs)?;
        let hooks = self.hooks(py, false)?;
        let log = attempt_log(&attempts);
        let result = block_on(
            py,
            route_stream(
                self.inner.clone(),
                Endpointkind::Responses,
                false,
                map,
                hooks,
                log.clone(),
            ),
        );
        deliver_attempts(py, attempts, log)?;
        let (open, guard, info) = result?;
        stream_to_py(py, open, guard, &info)
    }

    /// Let `picker` (`rustllm._custom_routing.Picker`) choose each try's deployment, or
    /// go back to the routing strategy with None.
    #[pyo3(signature = (picker=None))]
    fn set_custom_routing_strategy(&self, picker: Option<Py<PyAny>>) {
        let old = match self.picker.lock() {
            Ok(mut slot) => std::mem::replace(&mut *slot, picker.map(Arc::new)),
            Err(_) => return,
        };
        // Dropped with the lock released: the last reference to a picker runs its
        // `__del__`, and calls wait on this lock without leaving the interpreter, so its
        // holder must never run Python.
        drop(old);
    }

    /// The deployments, as `model_list` entries with their ids filled in.
    fn model_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for d in self.inner.deployments() {
            let entry = PyDict::new(py);
            entry.set_item("model_name", &d.group)?;
            entry.set_item("litellm_params", map_to_py(py, &d.params)?)?;
            entry.set_item("model_info", map_to_py(py, &d.model_info)?)?;
            list.append(entry)?;
        }
        Ok(list)
    }

    /// The id of the deployment the next call for `model` would most likely use.
    #[pyo3(signature = (model, kwargs=None))]
    fn available_deployment(
        &self,
        py: Python<'_>,
        model: &str,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<String> {
        let map = match kwargs {
            Some(k) => self.kwargs(py, k)?,
            None => Map::new(),
        };
        let router = self.inner.clone();
        let i = block_on(py, async move { router.preview(model, &map).await })?;
        Ok(self.inner.deployments()[i].id.clone())
    }

    /// For a sensitive call (its tags hold a sensitive tag), the ids of the deployments
    /// allowed to serve it (`model_info.data_residency`); `None` for any other call.
    fn sensitive_allowed(
        &self,
        py: Python<'_>,
        kwargs: &Bound<'_, PyDict>,
    ) -> PyResult<Option<Vec<String>>> {
        let map = self.kwargs(py, kwargs)?;
        let policy = &self.inner.config.sensitive;
        if !policy.is_sensitive(&map) {
            return Ok(None);
        }
        Ok(Some(
            self.inner
                .deployments()
                .iter()
                .filter(|d| policy.allows(d))
                .map(|d| d.id.clone())
                .collect(),
        ))
    }

    /// Per-deployment state: id, group, in-flight requests, this minute's requests and
    /// tokens, seconds of cooldown left, mean latency.
    fn deployment_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        let router = self.inner.clone();
        let stats = block_on(py, async move { Ok(router.stats().await) })?;
        for (d, st) in self.inner.deployments().iter().zip(stats) {
            let usage = st.usage;
            let entry = PyDict::new(py);
            entry.set_item("id", &d.id)?;
            entry.set_item("model_name", &d.group)?;
            entry.set_item(
                "model",
                d.params.get("model").map(|m| to_py(py, m)).transpose()?,
            )?;
            entry.set_item("in_flight", st.in_flight)?;
            entry.set_item("rpm_used", usage.requests)?;
            entry.set_item("tpm_used", usage.tokens)?;
            entry.set_item(
                "cooldown_remaining",
                st.cooldown_left.map(|c| c.as_secs_f64()),
            )?;
            entry.set_item("mean_latency", st.mean_latency)?;
            list.append(entry)?;
        }
        Ok(list)
    }

    /// Log this Router's decisions (deployment chosen, each deployment call's outcome,
    /// retries, cooldowns, fallbacks) on `logging.getLogger("LiteLLM Router")` at `level`
    /// (a Python level number: 20 for INFO, 10 for DEBUG) and above; None stops.
    #[pyo3(signature = (level=None))]
    fn set_verbose(&self, level: Option<u8>) {
        self.inner.set_verbosity(level);
    }

    /// Messages about `model_list` entries skipped with `ignore_invalid_deployments`.
    #[getter]
    fn skipped_deployments(&self) -> Vec<String> {
        self.skipped.clone()
    }

    /// `host:port` of the Redis holding the shared state, or None for local state only.
    #[getter]
    fn redis_address(&self) -> Option<String> {
        self.inner.state.link().map(|l| l.label().to_string())
    }

    /// Whether the Redis link is down (the Router is on local state until it is back).
    #[getter]
    fn redis_down(&self) -> bool {
        self.inner.state.link().is_some_and(|l| l.is_down())
    }

    /// `"memory"`, `"redis"`, or None without `cache_responses`.
    #[getter]
    fn cache_type(&self) -> Option<&'static str> {
        self.inner
            .cache
            .as_ref()
            .map(|c| if c.is_redis() { "redis" } else { "memory" })
    }

    /// Drop every entry of an in-memory response cache.
    fn flush_cache(&self, py: Python<'_>) -> PyResult<()> {
        let router = self.inner.clone();
        block_on(py, async move {
            if let Some(c) = &router.cache {
                c.clear().await;
            }
            Ok(())
        })
    }

    /// `Router.cache` on the Router's Redis: the text stored under `key`. Returns
    /// `(answered, value)`; `answered` is False when Redis is not configured or did not
    /// answer, and the caller uses its in-memory store instead.
    fn redis_get(&self, py: Python<'_>, key: String) -> PyResult<(bool, Option<String>)> {
        let Some(link) = self.inner.state.link().cloned() else {
            return Ok((false, None));
        };
        let got = block_on(py, async move { Ok(link.get(&key).await) })?;
        Ok((got.is_some(), got.flatten()))
    }

    /// `MGET` on the Router's Redis; None when Redis is not configured or did not answer.
    fn redis_get_many(
        &self,
        py: Python<'_>,
        keys: Vec<String>,
    ) -> PyResult<Option<Vec<Option<String>>>> {
        let Some(link) = self.inner.state.link().cloned() else {
            return Ok(None);
        };
        block_on(py, async move { Ok(link.get_many(&keys).await) })
    }

    /// `SET` (with a ttl in seconds) on the Router's Redis; False when it did not answer.
    #[pyo3(signature = (key, value, ttl=None))]
    fn redis_set(
        &self,
        py: Python<'_>,
        key: String,
        value: String,
        ttl: Option<f64>,
    ) -> PyResult<bool> {
        let Some(link) = self.inner.state.link().cloned() else {
            return Ok(false);
        };
        let ttl = ttl.and_then(|t| std::time::Duration::try_from_secs_f64(t).ok());
        block_on(py, async move {
            Ok(link.set(&key, &value, ttl).await.is_some())
        })
    }

    /// `INCRBYFLOAT` on the Router's Redis: the new value, or None when it did not answer.
    #[pyo3(signature = (key, by, ttl=None))]
    fn redis_increment(
        &self,
        py: Python<'_>,
        key: String,
        by: f64,
        ttl: Option<f64>,
    ) -> PyResult<Option<f64>> {
        let Some(link) = self.inner.state.link().cloned() else {
            return Ok(None);
        };
        let ttl = ttl.and_then(|t| std::time::Duration::try_from_secs_f64(t).ok());
        block_on(py, async move { Ok(link.increment(&key, by, ttl).await) })
    }

    /// `DEL` on the Router's Redis; False when it did not answer.
    fn redis_delete(&self, py: Python<'_>, key: String) -> PyResult<bool> {
        let Some(link) = self.inner.state.link().cloned() else {
            return Ok(false);
        };
        block_on(py, async move { Ok(link.delete(&key).await.is_some()) })
    }

    /// The routing strategy's name.
    #[getter]
    fn routing_strategy(&self) -> &'static str {
        self.inner.config.strategy.name()
    }

    /// Resolved settings, as `Router.get_settings()` reports them.
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = &self.inner.config;
        let d = PyDict::new(py);
        d.set_item("routing_strategy", c.strategy.name())?;
        d.set_item("num_retries", c.num_retries)?;
        d.set_item("allowed_fails", c.allowed_fails)?;
        d.set_item("cooldown_time", c.cooldown_time.as_secs_f64())?;
        d.set_item("timeout", c.timeout.map(|t| t.as_secs_f64()))?;
        d.set_item("retry_after", c.retry_after.as_secs_f64())?;
        d.set_item("max_fallbacks", c.max_fallbacks)?;
        d.set_item("sensitive_tags", &c.sensitive.tags)?;
        d.set_item("sensitive_data_residency", &c.sensitive.data_residency)?;
        Ok(d)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRouter>()
}
