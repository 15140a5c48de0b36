//! `responses`, `aresponses`, `get_response` and `delete_response` (the Responses API).
//!
//! Replies come back as `(response_json, hidden_params, response_ms)` and streams as
//! `(ChatStream, hidden_params)` whose items are the event dicts; the Python layer
//! (`rustllm._responses`) wraps them in `ResponsesAPIResponse` and the event classes.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::blocking::{block_on, block_on_call};
use super::bridge::{Convert, LoopWaker};
use super::completion::{call_sync, prepare, reply_to_py, stream_to_py, submit};
use super::convert::kwargs_to_map;
use super::errors::to_pyerr;
use crate::call;
use crate::error::LlmError;
use crate::providers::Endpointkind;

/// A Responses API call, blocking: `(response_json, hidden_params, ms)`.
#[pyfunction]
fn responses(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    call_sync(py, Endpointkind::Responses, kwargs)
}

/// A streaming Responses API call, blocking until the provider accepts it:
/// `(ChatStream, hidden_params)`; the stream's items are the typed event dicts.
#[pyfunction]
fn responses_stream(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    let p = prepare(py, Endpointkind::Responses, kwargs)?;
    let open = block_on(py, call::run_stream(p))?;
    stream_to_py(py, open)
}

/// A Responses API call (or, with `stream=True`, a stream) resolving `future` on the loop
/// that owns `waker`. True when the caller must schedule `waker.flush`.
#[pyfunction]
fn aresponses_submit(
    py: Python<'_>,
    kwargs: &Bound<'_, PyDict>,
    waker: &Bound<'_, LoopWaker>,
    future: Py<PyAny>,
) -> PyResult<bool> {
    submit(py, Endpointkind::Responses, kwargs, waker, future)
}

/// `GET` (or with `delete`, `DELETE`) a Response by `response_id`, blocking:
/// `(response_json, hidden_params, ms)`.
#[pyfunction]
fn response_by_id(py: Python<'_>, kwargs: &Bound<'_, PyDict>, delete: bool) -> PyResult<Py<PyAny>> {
    let map = kwargs_to_map(kwargs)
        .map_err(|e| to_pyerr(py, LlmError::bad_request(e.value(py).to_string())))?;
    let reply = block_on_call(py, call::response_by_id(map, delete))?;
    reply_to_py(py, Endpointkind::Responses, reply, None)
}

/// [`response_by_id`] resolving `future` on the loop that owns `waker`.
#[pyfunction]
fn aresponse_by_id_submit(
    py: Python<'_>,
    kwargs: &Bound<'_, PyDict>,
    delete: bool,
    waker: &Bound<'_, LoopWaker>,
    future: Py<PyAny>,
) -> PyResult<bool> {
    let map = kwargs_to_map(kwargs)
        .map_err(|e| to_pyerr(py, LlmError::bad_request(e.value(py).to_string())))?;
    waker.get().start(
        py,
        future,
        Box::pin(async move {
            let result = call::response_by_id(map, delete).await;
            let convert: Convert = Box::new(move |py| match result {
                Ok(reply) => reply_to_py(py, Endpointkind::Responses, reply, None),
                Err(e) => Err(to_pyerr(py, e)),
            });
            convert
        }),
    )
}

/// Remember that the Router's deployment `model_id` made Response `response_id` (a
/// stream's id arrives after routing; `rustllm._responses` reports it from
/// `response.created`), so a `previous_response_id` follow-up goes back to it.
#[pyfunction]
fn pin_response(response_id: &str, model_id: &str) {
    crate::responses::store::pin(response_id, model_id);
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(pin_response, m)?)?;
    m.add_function(wrap_pyfunction!(responses, m)?)?;
    m.add_function(wrap_pyfunction!(responses_stream, m)?)?;
    m.add_function(wrap_pyfunction!(aresponses_submit, m)?)?;
    m.add_function(wrap_pyfunction!(response_by_id, m)?)?;
    m.add_function(wrap_pyfunction!(aresponse_by_id_submit, m)?)?;
    Ok(())
}
