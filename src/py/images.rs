//! `image_generation` / `aimage_generation` and `speech` / `aspeech`: the direct-call
//! paths of `completion.rs`, on OpenAI's `/images/generations` and `/audio/speech`
//! (Azure's deployment URLs alike).

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

/// Speech, blocking: `(reply, hidden_params, response_ms)`, the reply holding the audio
/// in base64 under `audio_base64` and its `content_type` (decoded by the Python layer).
#[pyfunction]
fn speech(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    call_sync(py, Endpointkind::Speech, kwargs)
}

/// Speech resolving `future` on the loop that owns `waker`.
#[pyfunction]
fn aspeech_submit(
    py: Python<'_>,
    kwargs: &Bound<'_, PyDict>,
    waker: &Bound<'_, LoopWaker>,
    future: Py<PyAny>,
) -> PyResult<bool> {
    submit(py, Endpointkind::Speech, kwargs, waker, future)
}

/// What an image generation with this reply `body` cost (the first of `models` the
/// catalogue prices), or None: `completion_cost` of an `ImageResponse`.
#[pyfunction]
fn image_cost(
    body: &Bound<'_, PyDict>,
    provider: &str,
    models: Vec<String>,
) -> PyResult<Option<f64>> {
    let body = match super::convert::to_value(body.as_any(), "body")? {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    Ok(models
        .iter()
        .find_map(|m| crate::providers::images::cost(&body, provider, m)))
}

/// Transcription, blocking: `(reply, hidden_params, response_ms)`; `kwargs["file"]` is
/// `{"path", "filename"}` (the Python layer spools bytes and file objects to disk).
#[pyfunction]
fn transcription(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    call_sync(py, Endpointkind::Transcription, kwargs)
}

/// Transcription resolving `future` on the loop that owns `waker`.
#[pyfunction]
fn atranscription_submit(
    py: Python<'_>,
    kwargs: &Bound<'_, PyDict>,
    waker: &Bound<'_, LoopWaker>,
    future: Py<PyAny>,
) -> PyResult<bool> {
    submit(py, Endpointkind::Transcription, kwargs, waker, future)
}

/// Image edit, blocking: `(reply, hidden_params, response_ms)`; `kwargs["image"]` (and
/// `"mask"`) are `{"path", "filename"}` file objects.
#[pyfunction]
fn image_edit(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    call_sync(py, Endpointkind::ImageEdit, kwargs)
}

/// Image edit resolving `future` on the loop that owns `waker`.
#[pyfunction]
fn aimage_edit_submit(
    py: Python<'_>,
    kwargs: &Bound<'_, PyDict>,
    waker: &Bound<'_, LoopWaker>,
    future: Py<PyAny>,
) -> PyResult<bool> {
    submit(py, Endpointkind::ImageEdit, kwargs, waker, future)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(image_edit, m)?)?;
    m.add_function(wrap_pyfunction!(aimage_edit_submit, m)?)?;
    m.add_function(wrap_pyfunction!(transcription, m)?)?;
    m.add_function(wrap_pyfunction!(atranscription_submit, m)?)?;
    m.add_function(wrap_pyfunction!(image_cost, m)?)?;
    m.add_function(wrap_pyfunction!(speech, m)?)?;
    m.add_function(wrap_pyfunction!(aspeech_submit, m)?)?;
    m.add_function(wrap_pyfunction!(image_generation, m)?)?;
    m.add_function(wrap_pyfunction!(aimage_generation_submit, m)?)?;
    Ok(())
}
