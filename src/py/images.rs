//! `image_generation` and `aimage_generation`: the direct-call paths of `completion.rs`,
//! on OpenAI's `/images/generations` (Azure's deployment URLs alike).

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::bridge::LoopWaker;
use super::completion::{call_sync, submit};
use crate::providers::Endpointkind;

/// Image generation, blocking: `(response_json, hidden_params, response_ms)`.
#[pyfunction]
fn image_generation(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    call_sync(py, Endpointkind::ImageGeneration, kwargs)
}

/// Image generation resolving `future` on the loop that owns `waker`.
#[pyfunction]
fn aimage_generation_submit(
    py: Python<'_>,
    kwargs: &Bound<'_, PyDict>,
    waker: &Bound<'_, LoopWaker>,
    future: Py<PyAny>,
) -> PyResult<bool> {
    submit(py, Endpointkind::ImageGeneration, kwargs, waker, future)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(image_generation, m)?)?;
    m.add_function(wrap_pyfunction!(aimage_generation_submit, m)?)?;
    Ok(())
}
