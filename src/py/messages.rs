//! `anthropic_messages` and `aanthropic_messages` (Anthropic's Messages API, any provider).
//!
//! Replies come back as `(message_json, hidden_params, response_ms)` and streams as
//! `(ChatStream, hidden_params)` whose items are Anthropic's event dicts; the Python layer
//! (`rustllm._anthropic_messages`) wraps them.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::blocking::block_on;
use super::bridge::LoopWaker;
use super::completion::{call_sync, prepare, stream_to_py, submit};
use crate::call;
use crate::providers::Endpointkind;

/// An Anthropic Messages call, blocking: `(message_json, hidden_params, ms)`.
#[pyfunction]
fn anthropic_messages(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    call_sync(py, Endpointkind::AnthropicMessages, kwargs)
}

/// A streaming Anthropic Messages call, blocking until the provider accepts it:
/// `(ChatStream, hidden_params)`; the stream's items are Anthropic's event dicts.
#[pyfunction]
fn anthropic_messages_stream(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    let p = prepare(py, Endpointkind::AnthropicMessages, kwargs)?;
    let open = block_on(py, call::run_stream(p))?;
    stream_to_py(py, open)
}

/// An Anthropic Messages call (or, with `stream=True`, a stream) resolving `future` on
/// the loop that owns `waker`. True when the caller must schedule `waker.flush`.
#[pyfunction]
fn aanthropic_messages_submit(
    py: Python<'_>,
    kwargs: &Bound<'_, PyDict>,
    waker: &Bound<'_, LoopWaker>,
    future: Py<PyAny>,
) -> PyResult<bool> {
    submit(py, Endpointkind::AnthropicMessages, kwargs, waker, future)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(anthropic_messages, m)?)?;
    m.add_function(wrap_pyfunction!(anthropic_messages_stream, m)?)?;
    m.add_function(wrap_pyfunction!(aanthropic_messages_submit, m)?)?;
    Ok(())
}
