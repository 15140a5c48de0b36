//! The Python side of the Router's two user hooks: a custom routing strategy
//! (`router::custom::DeploymentPicker`) and custom providers (`CustomLLM` handlers
//! registered in `rustllm.custom_provider_map`).
//!
//! Both are Python callables the Rust Router reaches mid-call. A sync Router call runs
//! them on the calling thread (its Rust work is on that thread's runtime, GIL released);
//! an async one hands their coroutine to the caller's event loop
//! (`asyncio.run_coroutine_threadsafe`) and awaits the result without holding the GIL,
//! so `async_get_available_deployment` and `acompletion` run where the user's code
//! expects them. Neither is built when no strategy is set and no custom provider is
//! registered: the Router's path then has no Python in it.

use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyCFunction, PyDict, PyModule, PyTuple};
use serde_json::{Map, Value};

use super::convert::{map_to_py, to_value};
use crate::error::{ErrorKind, LlmError};
use crate::router::custom::{DeploymentPicker, PickFuture};

/// Where the Python hooks of one Router call run.
#[derive(Clone)]
pub enum PyContext {
    /// A sync call: on the calling thread.
    Sync,
    /// An async call: as coroutines on this event loop.
    Loop(Arc<Py<PyAny>>),
}

impl PyContext {
    /// The running loop (for an async call, made on the loop's thread).
    pub fn running_loop(py: Python<'_>) -> PyResult<Self> {
        let lp = py.import("asyncio")?.call_method0("get_running_loop")?;
        Ok(PyContext::Loop(Arc::new(lp.unbind())))
    }

    /// Call `sync_fn` (sync calls) or await `async_fn`'s coroutine on the loop (async
    /// calls) on `module`, with `args`. `other_kind` is the error kind of an exception
    /// that is not one of LiteLLM's classes.
    async fn call(
        &self,
        module: &'static str,
        sync_fn: &'static str,
        async_fn: &'static str,
        args: impl for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyTuple>> + Send,
        other_kind: &'static str,
    ) -> Result<Py<PyAny>, LlmError> {
        match self {
            PyContext::Sync => Python::attach(|py| {
                let run = || -> PyResult<Py<PyAny>> {
                    let args = args(py)?;
                    Ok(py.import(module)?.call_method1(sync_fn, args)?.unbind())
                };
                run().map_err(|e| to_llm_error(py, &e, other_kind))
            }),
            PyContext::Loop(lp) => {
                let (tx, rx) = tokio::sync::oneshot::channel::<PyResult<Py<PyAny>>>();
                Python::attach(|py| {
                    let start = || -> PyResult<()> {
                        let args = args(py)?;
                        let coro = py.import(module)?.call_method1(async_fn, args)?;
                        let done = py
                            .import("asyncio")?
                            .call_method1("run_coroutine_threadsafe", (coro, lp.bind(py)))?;
                        let tx = Mutex::new(Some(tx));
                        let deliver = PyCFunction::new_closure(
                            py,
                            None,
                            None,
                            move |args: &Bound<'_, PyTuple>,
                                  _kw: Option<&Bound<'_, PyDict>>|
                                  -> PyResult<()> {
                                let result = args
                                    .get_item(0)
                                    .and_then(|f| f.call_method0("result"))
                                    .map(Bound::unbind);
                                if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
                                    let _ = tx.send(result);
                                }
                                Ok(())
                            },
                        )?;
                        done.call_method1("add_done_callback", (deliver,))?;
                        Ok(())
                    };
                    start().map_err(|e| to_llm_error(py, &e, other_kind))
                })?;
                match rx.await {
                    Ok(Ok(v)) => Ok(v),
                    Ok(Err(e)) => Err(Python::attach(|py| to_llm_error(py, &e, other_kind))),
                    Err(_) => Err(LlmError::new(
                        ErrorKind::ApiConnection,
                        "the event loop running the call's Python hook went away",
                    )),
                }
            }
        }
    }
}

/// The error kinds an exception from a hook can carry (LiteLLM's class names).
fn kind_named(name: &str) -> ErrorKind {
    match name {
        "BadRequestError" => ErrorKind::BadRequest,
        "ContextWindowExceededError" => ErrorKind::ContextWindowExceeded,
        "ContentPolicyViolationError" => ErrorKind::ContentPolicyViolation,
        "UnsupportedParamsError" => ErrorKind::UnsupportedParams,
        "AuthenticationError" => ErrorKind::Authentication,
        "PermissionDeniedError" => ErrorKind::PermissionDenied,
        "NotFoundError" => ErrorKind::NotFound,
        "UnprocessableEntityError" => ErrorKind::UnprocessableEntity,
        "Timeout" => ErrorKind::Timeout,
        "RateLimitError" => ErrorKind::RateLimit,
        "InternalServerError" => ErrorKind::InternalServer,
        "ServiceUnavailableError" => ErrorKind::ServiceUnavailable,
        "BadGatewayError" => ErrorKind::BadGateway,
        "APIConnectionError" => ErrorKind::ApiConnection,
        "ValueError" => ErrorKind::Value,
        _ => ErrorKind::Api,
    }
}

/// An exception raised by a hook, as the Router's error (so retries, cooldowns and
/// fallbacks treat it like a provider's): `rustllm.custom_llm._error_fields` reads it.
fn to_llm_error(py: Python<'_>, e: &PyErr, other_kind: &str) -> LlmError {
    let fields = py.import("rustllm.custom_llm").and_then(|m| {
        m.call_method1("_error_fields", (e.value(py), other_kind))?
            .extract::<(String, u16, String, String, String)>()
    });
    match fields {
        Ok((kind, status, message, provider, model)) => {
            let mut err = LlmError::new(kind_named(&kind), message);
            err.status = status;
            err.provider = provider;
            err.model = model;
            err
        }
        Err(_) => LlmError::new(ErrorKind::Api, e.to_string()),
    }
}

/// The user's `CustomRoutingStrategyBase`, behind `rustllm._custom_routing.Picker`.
pub struct PyPicker {
    pub picker: Arc<Py<PyAny>>,
    pub context: PyContext,
}

impl DeploymentPicker for PyPicker {
    fn pick<'a>(&'a self, requested: &'a str, kwargs: &'a Map<String, Value>) -> PickFuture<'a> {
        Box::pin(async move {
            let picker = self.picker.clone();
            let id = self
                .context
                .call(
                    "rustllm._custom_routing",
                    "_pick",
                    "_apick",
                    move |py| {
                        PyTuple::new(
                            py,
                            [
                                picker.bind(py).clone(),
                                requested.into_pyobject(py)?.into_any(),
                                map_to_py(py, kwargs)?.into_any(),
                            ],
                        )
                    },
                    "ValueError",
                )
                .await?;
            Python::attach(|py| id.bind(py).extract::<String>())
                .map_err(|e| LlmError::new(ErrorKind::Value, e.to_string()))
        })
    }
}

/// The registered custom provider names (`rustllm.custom_provider_map`), read at each
/// Router call: None (the common case) when there are none.
pub fn custom_providers(py: Python<'_>) -> Option<Arc<Vec<String>>> {
    // Every Router call asks: the module is looked up once, not imported each time.
    static RUSTLLM: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let module = RUSTLLM
        .get_or_try_init(py, || py.import("rustllm").map(Bound::unbind))
        .ok()?;
    let list = module
        .bind(py)
        .getattr(pyo3::intern!(py, "custom_provider_map"))
        .ok()?;
    if !list.is_truthy().unwrap_or(false) {
        return None;
    }
    let names: Vec<String> = py
        .import("rustllm.custom_llm")
        .and_then(|m| m.call_method0("providers"))
        .and_then(|n| n.extract())
        .ok()?;
    (!names.is_empty()).then(|| Arc::new(names))
}

/// Whether a deployment's merged call arguments go to a custom provider.
pub fn is_custom(providers: &[String], merged: &Map<String, Value>) -> bool {
    if let Some(p) = merged.get("custom_llm_provider").and_then(Value::as_str) {
        return providers.iter().any(|n| n == p);
    }
    merged
        .get("model")
        .and_then(Value::as_str)
        .and_then(|m| m.split_once('/'))
        .is_some_and(|(prefix, _)| providers.iter().any(|n| n == prefix))
}

/// One try of a Router call on a custom deployment: the handler's reply body (a dict)
/// or, for a stream, the Python handle a `CustomStreamWrapper` reads.
pub async fn call_custom(
    context: &PyContext,
    kind: &'static str,
    merged: Map<String, Value>,
) -> Result<Py<PyAny>, LlmError> {
    context
        .call(
            "rustllm.custom_llm",
            "_routed",
            "_arouted",
            move |py| {
                PyTuple::new(
                    py,
                    [
                        kind.into_pyobject(py)?.into_any(),
                        map_to_py(py, &merged)?.into_any(),
                    ],
                )
            },
            "APIConnectionError",
        )
        .await
}

/// A custom handler's reply body as JSON.
pub fn body_of(obj: &Py<PyAny>) -> Result<Map<String, Value>, LlmError> {
    Python::attach(|py| match to_value(obj.bind(py), "custom provider reply") {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(LlmError::new(
            ErrorKind::ApiConnection,
            "custom provider reply is not a response object",
        )),
        Err(e) => Err(LlmError::new(ErrorKind::ApiConnection, e.to_string())),
    })
}
