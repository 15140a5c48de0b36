//! Guardrail classes for the proxy started from Python (`rustllm proxy`): a config entry
//! with `guardrail: my_module.MyGuardrail` imports the class and makes one instance, as
//! LiteLLM does (`guardrail_name`, `event_hook` (the mode), `default_on` and the entry's
//! other `litellm_params` as keyword arguments). Its LiteLLM hooks run on a blocking
//! thread with the GIL: `async_pre_call_hook(user_api_key_dict, cache, data, call_type)`
//! before the call (`mode: pre_call`), `async_moderation_hook(data, user_api_key_dict,
//! call_type)` for `mode: during_call` (run before the call too: it may block, not change)
//! and `async_post_call_success_hook(data, user_api_key_dict, response)`
//! after it (coroutines are run to completion there); raising blocks the request, a
//! returned dict (or `data` changed in place) replaces it. A class with
//! `async_post_call_streaming_iterator_hook` gets a held stream's chunks through
//! `rustllm.proxy._stream_hook` (what it yields goes out instead).
//!
//! The request and reply cross as JSON (`json.loads` / `json.dumps`): plain dicts, the
//! shapes the proxy serves. `user_api_key_dict` is a `UserAPIKeyAuth` (from
//! `rustllm.proxy._types`, which `litellm.proxy._types` is under the alias) with the
//! caller's `api_key` (its hash), `key_alias`, `user_id` and `team_id`; `cache` is `None`.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{Map, Value};

use crate::proxy::guardrails::external::{
    self, ExternalGuardrail, ExternalLoader, HookError, HookFuture, StreamFuture, StreamItem,
};

/// Imports guardrail classes for [`external::load`].
struct PyLoader;

/// One instance of a guardrail class.
struct PyGuardrail {
    obj: Py<PyAny>,
    /// Whether the class has `async_post_call_streaming_iterator_hook` of its own.
    streams: bool,
}

fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (v.to_string(),))
}

fn from_py(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    let kwargs = PyDict::new(py);
    kwargs.set_item("default", py.import("builtins")?.getattr("str")?)?;
    let text: String = py
        .import("json")?
        .call_method("dumps", (obj,), Some(&kwargs))?
        .extract()?;
    serde_json::from_str(&text).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

/// The message a raised exception blocks with: its `detail` (FastAPI's
/// `HTTPException`) or its text.
fn reason(py: Python<'_>, e: &PyErr) -> HookError {
    let value = e.value(py);
    let error_type = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    if let Ok(detail) = value.getattr("detail") {
        if let Ok(v) = from_py(py, &detail) {
            let message = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            return HookError::new(error_type, message);
        }
    }
    HookError::new(
        error_type,
        value.str().map(|s| s.to_string()).unwrap_or_default(),
    )
}

impl ExternalLoader for PyLoader {
    fn load(
        &self,
        class: &str,
        name: &str,
        params: &Map<String, Value>,
    ) -> Result<Arc<dyn ExternalGuardrail>, String> {
        let (module, attr) = class
            .rsplit_once('.')
            .ok_or_else(|| format!("{class:?}: expected module.Class"))?;
        Python::attach(|py| {
            let cls = py
                .import(module)
                .and_then(|m| m.getattr(attr))
                .map_err(|e| format!("cannot load {class}: {e}"))?;
            let kwargs = PyDict::new(py);
            let set = |k: &str, v: &Value| -> PyResult<()> { kwargs.set_item(k, to_py(py, v)?) };
            let fail = |e: PyErr| format!("cannot make {class}: {e}");
            set("guardrail_name", &Value::String(name.to_string())).map_err(fail)?;
            for (k, v) in params {
                match k.as_str() {
                    "guardrail" => {}
                    "mode" => set("event_hook", v).map_err(fail)?,
                    _ => set(k, v).map_err(fail)?,
                }
            }
            let obj = cls
                .call((), Some(&kwargs))
                .map_err(|e| format!("cannot make {class}: {e}"))?;
            let streams = py
                .import("rustllm.proxy._stream_hook")
                .and_then(|m| m.call_method1("overrides", (&obj,)))
                .and_then(|b| b.extract::<bool>())
                .map_err(|e| format!("cannot make {class}: {e}"))?;
            Ok(Arc::new(PyGuardrail {
                obj: obj.unbind(),
                streams,
            }) as Arc<dyn ExternalGuardrail>)
        })
    }
}

/// What LiteLLM hands hooks as `user_api_key_dict`: a `UserAPIKeyAuth` of the caller's
/// fields, not a dict.
fn user_auth<'py>(py: Python<'py>, caller: &Value) -> PyResult<Bound<'py, PyAny>> {
    let fields = to_py(py, caller)?.cast_into::<PyDict>()?;
    py.import("rustllm.proxy._types")?
        .getattr("UserAPIKeyAuth")?
        .call((), Some(&fields))
}

/// `work` (a class's hook, which holds the GIL and may block) on a blocking thread.
async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, HookError> + Send + 'static,
) -> Result<T, HookError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| HookError::new("JoinError", e.to_string()))?
}

/// Call `method` with `kwargs` (JSON values), run a coroutine it returns, and return
/// what it answered (`None` for `None`).
fn call_hook(
    obj: &Py<PyAny>,
    method: &str,
    args: &[(&str, Option<&Value>)],
    changed: &str,
) -> Result<Option<Value>, HookError> {
    Python::attach(|py| {
        let run = || -> PyResult<Option<Value>> {
            let bound = obj.bind(py);
            if !bound.hasattr(method)? {
                return Ok(None);
            }
            let kwargs = PyDict::new(py);
            let mut watched = None;
            for (k, v) in args {
                let value = match v {
                    // LiteLLM hands hooks a `UserAPIKeyAuth`, not a dict.
                    Some(v) if *k == "user_api_key_dict" => user_auth(py, v)?,
                    Some(v) => to_py(py, v)?,
                    // LiteLLM hands `async_pre_call_hook` its in-memory key cache; here
                    // the process's one cache that SDK guardrails get too.
                    None if *k == "cache" => {
                        py.import("rustllm._guardrails")?.call_method0("_cache")?
                    }
                    None => py.None().into_bound(py),
                };
                if *k == changed {
                    watched = Some(value.clone());
                }
                kwargs.set_item(*k, value)?;
            }
            let mut result = bound.call_method(method, (), Some(&kwargs))?;
            if py
                .import("inspect")?
                .call_method1("isawaitable", (&result,))?
                .extract::<bool>()?
            {
                result = py.import("asyncio")?.call_method1("run", (result,))?;
            }
            // A dict answer replaces; otherwise the argument, changed in place or not.
            let out = if result.is_instance_of::<PyDict>() {
                Some(result)
            } else {
                watched
            };
            out.map(|o| from_py(py, &o)).transpose()
        };
        run().map_err(|e| reason(py, &e))
    })
}

impl PyGuardrail {
    /// Call the class's `method` on a blocking thread with keyword `args` (`None`:
    /// Python's `None`). The answer is the `changed` argument when the hook replaced it
    /// or changed it in place (an object), otherwise nothing.
    fn hook(
        &self,
        method: &'static str,
        args: Vec<(&'static str, Option<Value>)>,
        changed: &'static str,
    ) -> HookFuture<'static> {
        let obj = Python::attach(|py| self.obj.clone_ref(py));
        Box::pin(async move {
            let answer = off_thread(move || {
                let refs: Vec<(&str, Option<&Value>)> =
                    args.iter().map(|(k, v)| (*k, v.as_ref())).collect();
                let out = call_hook(&obj, method, &refs, changed)?;
                let before = args
                    .iter()
                    .find(|(k, _)| *k == changed)
                    .and_then(|(_, v)| v.as_ref());
                Ok(out.filter(|v| Some(v) != before))
            })
            .await?;
            Ok(match answer {
                Some(Value::Object(m)) => Some(m),
                _ => None,
            })
        })
    }
}

impl ExternalGuardrail for PyGuardrail {
    fn pre_call<'a>(
        &'a self,
        body: &'a Map<String, Value>,
        call_type: &'a str,
        caller: &'a Map<String, Value>,
    ) -> HookFuture<'a> {
        self.hook(
            "async_pre_call_hook",
            vec![
                ("user_api_key_dict", Some(Value::Object(caller.clone()))),
                ("cache", None),
                ("data", Some(Value::Object(body.clone()))),
                ("call_type", Some(Value::String(call_type.to_string()))),
            ],
            "data",
        )
    }

    fn during_call<'a>(
        &'a self,
        body: &'a Map<String, Value>,
        call_type: &'a str,
        caller: &'a Map<String, Value>,
    ) -> HookFuture<'a> {
        // LiteLLM's moderation hook answers nothing: it lets the request through or
        // raises to block it; what it returns is not used.
        let call = self.hook(
            "async_moderation_hook",
            vec![
                ("data", Some(Value::Object(body.clone()))),
                ("user_api_key_dict", Some(Value::Object(caller.clone()))),
                ("call_type", Some(Value::String(call_type.to_string()))),
            ],
            "data",
        );
        Box::pin(async move { call.await.map(|_| None) })
    }

    fn post_call<'a>(
        &'a self,
        request: &'a Map<String, Value>,
        reply: &'a Map<String, Value>,
        caller: &'a Map<String, Value>,
    ) -> HookFuture<'a> {
        self.hook(
            "async_post_call_success_hook",
            vec![
                ("data", Some(Value::Object(request.clone()))),
                ("user_api_key_dict", Some(Value::Object(caller.clone()))),
                ("response", Some(Value::Object(reply.clone()))),
            ],
            "response",
        )
    }

    fn streams(&self) -> bool {
        self.streams
    }

    fn stream<'a>(
        &'a self,
        request: &'a Map<String, Value>,
        chunks: Vec<Map<String, Value>>,
        chat: bool,
        caller: &'a Map<String, Value>,
    ) -> StreamFuture<'a> {
        let obj = Python::attach(|py| self.obj.clone_ref(py));
        let (request, caller) = (request.clone(), caller.clone());
        Box::pin(off_thread(move || {
            call_stream_hook(&obj, &request, &chunks, chat, &caller)
        }))
    }
}

/// The class's stream hook over `chunks` (`rustllm.proxy._stream_hook.run`).
fn call_stream_hook(
    obj: &Py<PyAny>,
    request: &Map<String, Value>,
    chunks: &[Map<String, Value>],
    chat: bool,
    caller: &Map<String, Value>,
) -> Result<Option<Vec<StreamItem>>, HookError> {
    Python::attach(|py| {
        let run = || -> PyResult<Option<Vec<StreamItem>>> {
            let user = user_auth(py, &Value::Object(caller.clone()))?;
            let list: Vec<Value> = chunks.iter().cloned().map(Value::Object).collect();
            let answer = py.import("rustllm.proxy._stream_hook")?.call_method1(
                "run",
                (
                    obj.bind(py),
                    user,
                    to_py(py, &Value::Object(request.clone()))?,
                    to_py(py, &Value::Array(list))?,
                    chat,
                ),
            )?;
            if answer.is_none() {
                return Ok(None);
            }
            let items = from_py(py, &answer)?;
            let Value::Array(items) = items else {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "the stream hook's answer is not a list",
                ));
            };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(match item {
                    Value::Number(n) => StreamItem::Kept(n.as_u64().unwrap_or(u64::MAX) as usize),
                    Value::Object(m) => StreamItem::New(m),
                    other => {
                        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                            "the stream hook yielded {other}: expected a chunk"
                        )))
                    }
                });
            }
            Ok(Some(out))
        };
        run().map_err(|e| reason(py, &e))
    })
}

/// Let the proxy's config name guardrail classes (called before the proxy starts).
pub fn install() {
    external::set_loader(Arc::new(PyLoader));
}
