//! `completion`, `acompletion`, `embedding`, `aembedding` and `get_llm_provider`
//! (`rerank.rs` adds rerank and moderation on the same two paths).
//!
//! Each call converts its arguments once, releases the GIL for the whole network part,
//! and hands back `(response_json, hidden_params)` as plain Python dicts; the Python layer
//! wraps them in LiteLLM's response classes.

use pyo3::prelude::*;
use pyo3::sync::MutexExt;
use pyo3::types::{PyDict, PyString, PyTuple};
use serde_json::{Map, Value};

use super::blocking::{block_on, block_on_call};
use super::bridge::{Convert, LoopWaker};
use super::convert::{kwargs_to_map, map_to_py};
use super::errors::to_pyerr;
use super::stream::ChatStream;
use crate::call::{self, Prepared, Reply};
use crate::catalogue::cost::CustomPrices;
use crate::error::{ErrorKind, LlmError};
use crate::providers::Endpointkind;

pub(super) fn prepare(
    py: Python<'_>,
    kind: Endpointkind,
    kwargs: &Bound<'_, PyDict>,
) -> PyResult<Prepared> {
    let map = call_map(py, kwargs)?;
    call::prepare(kind, map).map_err(|e| to_pyerr(py, e))
}

/// A call's arguments as one map. When Python handed the call built-in guardrails to run
/// inside it (`_rustllm_guardrails`: they are all it runs and nothing observes it), they
/// check and mask its texts here, in order, before anything is sent; a block raises
/// `BlockedPiiEntityError`, as the guardrails' Python path does.
pub(super) fn call_map(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Map<String, Value>> {
    let guardrails = super::guardrails::take_inline(kwargs)?;
    let mut map = kwargs_to_map(kwargs)
        .map_err(|e| to_pyerr(py, LlmError::bad_request(e.value(py).to_string())))?;
    if let Some(guardrails) = guardrails {
        super::guardrails::check_inline(py, &guardrails, &mut map)?;
    }
    Ok(map)
}

/// The prices a call passed (`input_cost_per_token=...`); they win over the catalogue.
fn custom_prices(p: &Prepared) -> CustomPrices {
    CustomPrices {
        input_cost_per_token: p.options.input_cost_per_token,
        output_cost_per_token: p.options.output_cost_per_token,
        ..CustomPrices::default()
    }
}

/// `response_cost` of a reply (see [`Reply::cost`]).
fn reply_cost(r: &Reply, custom: &CustomPrices) -> Option<f64> {
    r.cost(custom)
}

/// What LiteLLM keeps in `_hidden_params`, as a Python dict, `response_cost` priced from
/// the catalogue.
pub(super) fn hidden_params<'py>(py: Python<'py>, r: &Reply) -> PyResult<Bound<'py, PyDict>> {
    hidden_params_priced(py, r, reply_cost(r, &CustomPrices::default()))
}

fn hidden_params_priced<'py>(
    py: Python<'py>,
    r: &Reply,
    response_cost: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    use pyo3::intern;
    let none = py.None();
    let hidden = PyDict::new(py);
    hidden.set_item(intern!(py, "custom_llm_provider"), &r.provider)?;
    hidden.set_item(intern!(py, "region_name"), &none)?;
    let headers = PyDict::new(py);
    for (k, v) in &r.headers {
        headers.set_item(header_key(py, k), v)?;
    }
    hidden.set_item(intern!(py, "additional_headers"), headers)?;
    hidden.set_item(intern!(py, "api_base"), &r.api_base)?;
    hidden.set_item(intern!(py, "model_id"), &none)?;
    hidden.set_item(intern!(py, "response_cost"), response_cost)?;
    hidden.set_item(intern!(py, "litellm_model_name"), &r.requested_model)?;
    hidden.set_item(intern!(py, "_response_ms"), r.response_ms)?;
    Ok(hidden)
}

/// `llm_provider-<name>` for a response header, made once per header name: every reply
/// repeats the same few (content-type, date, x-request-id, rate-limit headers, ...).
fn header_key<'py>(py: Python<'py>, name: &str) -> Bound<'py, PyString> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static KEYS: Mutex<Option<HashMap<String, Py<PyString>>>> = Mutex::new(None);
    {
        let mut keys = KEYS.lock_py_attached(py).unwrap_or_else(|e| e.into_inner());
        if let Some(key) = keys.get_or_insert_with(HashMap::new).get(name) {
            return key.bind(py).clone();
        }
    }
    // Made with the lock released (making an object may run the collector).
    let key = PyString::new(py, &format!("llm_provider-{name}"));
    let mut keys = KEYS.lock_py_attached(py).unwrap_or_else(|e| e.into_inner());
    let keys = keys.get_or_insert_with(HashMap::new);
    if keys.len() < 256 {
        keys.entry(name.to_string())
            .or_insert_with(|| key.clone().unbind());
    }
    key
}

pub(super) fn reply_to_py(
    py: Python<'_>,
    kind: Endpointkind,
    r: Reply,
    response_cost: Option<f64>,
) -> PyResult<Py<PyAny>> {
    let hidden = hidden_params_priced(py, &r, response_cost)?;
    reply_tuple(py, kind, r, hidden)
}

/// `(body, hidden_params, response_ms)` for Python: a common chat reply as its
/// ModelResponse, anything else as a dict (text completion reshapes chat replies itself).
/// The SDK's calls and the Router's share it; the Router adds its route to `hidden`.
pub(super) fn reply_tuple(
    py: Python<'_>,
    kind: Endpointkind,
    r: Reply,
    hidden: Bound<'_, PyDict>,
) -> PyResult<Py<PyAny>> {
    let built = match kind {
        Endpointkind::Chat => super::objects::reply_object(py, &r.body, &hidden, r.response_ms)?,
        _ => None,
    };
    let body = match built {
        Some(obj) => obj,
        None => map_to_py(py, &r.body)?.into_any(),
    };
    let ms = r.response_ms.into_pyobject(py)?;
    super::bridge::drop_after_drain(r);
    Ok(
        PyTuple::new(py, [body.into_any(), hidden.into_any(), ms.into_any()])?
            .into_any()
            .unbind(),
    )
}

// The network part of a call is plain Rust (the proxy runs it too).
pub(super) use crate::call::{run, run_stream};

pub(super) fn stream_to_py(py: Python<'_>, open: call::OpenStream) -> PyResult<Py<PyAny>> {
    let hidden = hidden_params(py, &open.reply)?;
    let handle = Py::new(py, ChatStream::new(open.chunks))?;
    Ok(
        PyTuple::new(py, [handle.into_any().into_bound(py), hidden.into_any()])?
            .into_any()
            .unbind(),
    )
}

/// Streaming chat completion, blocking until the provider accepts the request; returns
/// `(ChatStream, hidden_params)`.
#[pyfunction]
fn completion_stream(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    let p = prepare(py, Endpointkind::Chat, kwargs)?;
    let open = block_on(py, run_stream(p))?;
    stream_to_py(py, open)
}

pub(super) fn call_sync(
    py: Python<'_>,
    kind: Endpointkind,
    kwargs: &Bound<'_, PyDict>,
) -> PyResult<Py<PyAny>> {
    let p = prepare(py, kind, kwargs)?;
    let custom = custom_prices(&p);
    let reply = block_on_call(py, run(p))?;
    let response_cost = py.detach(|| reply_cost(&reply, &custom));
    reply_to_py(py, kind, reply, response_cost)
}

/// Chat completion, blocking. Takes LiteLLM's keyword arguments as one dict and returns
/// `(response_json, hidden_params, response_ms)`.
#[pyfunction]
fn completion(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    call_sync(py, Endpointkind::Chat, kwargs)
}

/// Embeddings, blocking; returns `(response_json, hidden_params, response_ms)`.
#[pyfunction]
fn embedding(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    call_sync(py, Endpointkind::Embeddings, kwargs)
}

/// Text completion (`POST {base}/completions`), blocking: `(response_json, hidden_params, ms)`.
#[pyfunction]
fn text_completion(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    call_sync(py, Endpointkind::TextCompletion, kwargs)
}

/// Streaming text completion, blocking until the provider accepts the request:
/// `(ChatStream, hidden_params)`; the chunks are `text_completion` objects.
#[pyfunction]
fn text_completion_stream(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    let p = prepare(py, Endpointkind::TextCompletion, kwargs)?;
    let open = block_on(py, run_stream(p))?;
    stream_to_py(py, open)
}

/// Where a text completion goes: `(to the chat endpoint, the model renamed for
/// `/completions` or None)`; the rule is [`crate::call::text_route`], shared with the proxy.
#[pyfunction]
#[pyo3(signature = (model, custom_llm_provider=None, api_base=None))]
fn text_route(
    model: &str,
    custom_llm_provider: Option<&str>,
    api_base: Option<&str>,
) -> (bool, Option<String>) {
    crate::call::text_route(model, custom_llm_provider, api_base)
}

/// LiteLLM's `get_llm_provider`: `(model, provider, api_key, api_base)` for a model string.
#[pyfunction]
#[pyo3(signature = (model, custom_llm_provider=None, api_base=None, api_key=None))]
fn get_llm_provider(
    py: Python<'_>,
    model: &str,
    custom_llm_provider: Option<&str>,
    api_base: Option<&str>,
    api_key: Option<&str>,
) -> PyResult<(String, String, Option<String>, Option<String>)> {
    let (model_out, provider) =
        crate::providers::get_llm_provider(model, custom_llm_provider, api_base)
            .map_err(|e| to_pyerr(py, e))?;
    let env = |name: &str| std::env::var(name).ok();
    let (key, base) = match crate::providers::compatible(&provider) {
        Some(spec) => match crate::providers::resolve_endpoint(spec, api_base, api_key, &env) {
            Ok(ep) => (ep.key, Some(ep.base)),
            Err(e) if e.kind == ErrorKind::Authentication => (
                None,
                api_base
                    .map(str::to_string)
                    .or(spec.default_base.map(str::to_string)),
            ),
            Err(_) => (api_key.map(str::to_string), api_base.map(str::to_string)),
        },
        None => (api_key.map(str::to_string), api_base.map(str::to_string)),
    };
    let provider = crate::providers::reported_provider(&provider, &model_out);
    Ok((model_out, provider, key, base))
}

/// The names of every OpenAI-compatible provider rustllm routes.
#[pyfunction]
fn openai_compatible_providers() -> Vec<&'static str> {
    crate::providers::COMPATIBLE_PROVIDERS
        .iter()
        .map(|p| p.name)
        .collect()
}

/// Every provider prefix rustllm recognises (LiteLLM's `provider_list`): the
/// OpenAI-compatible ones, those with a format of their own, and those it names but does
/// not route.
#[pyfunction]
fn provider_list() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = crate::providers::COMPATIBLE_PROVIDERS
        .iter()
        .chain(crate::providers::NATIVE_PROVIDERS)
        .map(|p| p.name)
        .chain(crate::providers::OTHER_PROVIDERS.iter().copied())
        .collect();
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(*n));
    names
}

/// LiteLLM's own keyword arguments, never sent to a provider (`all_litellm_params`).
#[pyfunction]
fn litellm_params() -> Vec<&'static str> {
    crate::types::litellm_params::LITELLM_PARAMS.to_vec()
}

/// Start a call on the shared runtime; its result resolves `future` through `waker`'s loop
/// (see `bridge.rs`: no GIL is taken off the loop's thread).
pub(super) fn submit(
    py: Python<'_>,
    kind: Endpointkind,
    kwargs: &Bound<'_, PyDict>,
    waker: &Bound<'_, LoopWaker>,
    future: Py<PyAny>,
) -> PyResult<bool> {
    // Only the conversion needs the GIL; checking and building the request happen in the
    // task, off the event loop's thread (a bad input still fails the await).
    let map = call_map(py, kwargs)?;
    waker.get().start(
        py,
        future,
        Box::pin(async move {
            let convert: Convert = match call::prepare(kind, map) {
                Err(e) => Box::new(move |py| Err(to_pyerr(py, e))),
                Ok(p) if p.stream && kind != Endpointkind::Embeddings => {
                    let result = run_stream(p).await;
                    Box::new(move |py| match result {
                        Ok(open) => stream_to_py(py, open),
                        Err(e) => Err(to_pyerr(py, e)),
                    })
                }
                Ok(p) => {
                    let custom = custom_prices(&p);
                    let result = run(p).await;
                    let cost = result.as_ref().ok().and_then(|r| reply_cost(r, &custom));
                    Box::new(move |py| match result {
                        Ok(reply) => reply_to_py(py, kind, reply, cost),
                        Err(e) => Err(to_pyerr(py, e)),
                    })
                }
            };
            convert
        }),
    )
}

/// Chat completion (or, with `stream=True` in `kwargs`, a stream) resolving `future` on
/// the loop that owns `waker`: `(response_json, hidden_params, ms)` or `(ChatStream, hidden_params)`.
/// The call is queued on `waker`; True means the caller must schedule `waker.flush`.
#[pyfunction]
fn acompletion_submit(
    py: Python<'_>,
    kwargs: &Bound<'_, PyDict>,
    waker: &Bound<'_, LoopWaker>,
    future: Py<PyAny>,
) -> PyResult<bool> {
    submit(py, Endpointkind::Chat, kwargs, waker, future)
}

/// Embeddings resolving `future` on the loop that owns `waker`.
#[pyfunction]
fn aembedding_submit(
    py: Python<'_>,
    kwargs: &Bound<'_, PyDict>,
    waker: &Bound<'_, LoopWaker>,
    future: Py<PyAny>,
) -> PyResult<bool> {
    submit(py, Endpointkind::Embeddings, kwargs, waker, future)
}

/// Text completion (or, with `stream=True`, a stream) resolving `future` on the loop that
/// owns `waker`.
#[pyfunction]
fn atext_completion_submit(
    py: Python<'_>,
    kwargs: &Bound<'_, PyDict>,
    waker: &Bound<'_, LoopWaker>,
    future: Py<PyAny>,
) -> PyResult<bool> {
    submit(py, Endpointkind::TextCompletion, kwargs, waker, future)
}

/// Set the module-wide TLS settings (`rustllm.ssl_verify`, `rustllm.ssl_certificate`):
/// used by every call and Router deployment that does not set its own.
#[pyfunction]
#[pyo3(signature = (ssl_verify=None, ssl_certificate=None))]
fn set_module_tls(
    py: Python<'_>,
    ssl_verify: Option<&Bound<'_, PyAny>>,
    ssl_certificate: Option<String>,
) -> PyResult<()> {
    let verify = match ssl_verify {
        None => serde_json::Value::Null,
        Some(v) => super::convert::to_value(v, "ssl_verify")?,
    };
    let verify = crate::types::parse_ssl_verify(&verify).map_err(|e| to_pyerr(py, e))?;
    crate::transport::set_module_tls(crate::transport::TlsSettings {
        verify,
        client_cert: ssl_certificate,
    });
    Ok(())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(set_module_tls, m)?)?;
    m.add_function(wrap_pyfunction!(text_completion, m)?)?;
    m.add_function(wrap_pyfunction!(text_completion_stream, m)?)?;
    m.add_function(wrap_pyfunction!(atext_completion_submit, m)?)?;
    m.add_function(wrap_pyfunction!(acompletion_submit, m)?)?;
    m.add_function(wrap_pyfunction!(aembedding_submit, m)?)?;
    m.add_function(wrap_pyfunction!(completion, m)?)?;
    m.add_function(wrap_pyfunction!(completion_stream, m)?)?;
    m.add_function(wrap_pyfunction!(embedding, m)?)?;
    m.add_function(wrap_pyfunction!(get_llm_provider, m)?)?;
    m.add_function(wrap_pyfunction!(text_route, m)?)?;
    m.add_function(wrap_pyfunction!(openai_compatible_providers, m)?)?;
    m.add_function(wrap_pyfunction!(provider_list, m)?)?;
    m.add_function(wrap_pyfunction!(litellm_params, m)?)?;
    // The Azure api-version sent when neither `api_version=` nor AZURE_API_VERSION is set
    // (re-exported as `rustllm.AZURE_DEFAULT_API_VERSION`).
    m.add(
        "AZURE_DEFAULT_API_VERSION",
        crate::providers::azure::DEFAULT_API_VERSION,
    )?;
    Ok(())
}
