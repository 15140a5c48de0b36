//! `rerank`, `arerank`, `moderation` and `amoderation`: the direct-call paths of
//! `completion.rs`, on the rerank and moderation endpoints.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::bridge::LoopWaker;
use super::completion::{call_sync, submit};
use super::errors::to_pyerr;
use crate::error::LlmError;
use crate::providers::Endpointkind;

/// The endpoint a Router call names (`"rerank"`, `"moderation"`, `"image_generation"`, `"speech"` or
/// `"transcription"`).
pub(super) fn kind_named(py: Python<'_>, kind: &str) -> PyResult<Endpointkind> {
    match kind {
        "rerank" => Ok(Endpointkind::Rerank),
        "moderation" => Ok(Endpointkind::Moderation),
        "image_generation" => Ok(Endpointkind::ImageGeneration),
        "speech" => Ok(Endpointkind::Speech),
        "anthropic_messages" => Ok(Endpointkind::AnthropicMessages),
        "transcription" => Ok(Endpointkind::Transcription),
        "image_edit" => Ok(Endpointkind::ImageEdit),
        other => Err(to_pyerr(
            py,
            LlmError::bad_request(format!("unknown call kind {other:?}")),
        )),
    }
}

/// Rerank, blocking: `(response_json, hidden_params, response_ms)`.
#[pyfunction]
fn rerank(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    call_sync(py, Endpointkind::Rerank, kwargs)
}

/// Rerank resolving `future` on the loop that owns `waker`.
#[pyfunction]
fn arerank_submit(
    py: Python<'_>,
    kwargs: &Bound<'_, PyDict>,
    waker: &Bound<'_, LoopWaker>,
    future: Py<PyAny>,
) -> PyResult<bool> {
    submit(py, Endpointkind::Rerank, kwargs, waker, future)
}

/// Moderation, blocking: `(response_json, hidden_params, response_ms)`.
#[pyfunction]
fn moderation(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    call_sync(py, Endpointkind::Moderation, kwargs)
}

/// Moderation resolving `future` on the loop that owns `waker`.
#[pyfunction]
fn amoderation_submit(
    py: Python<'_>,
    kwargs: &Bound<'_, PyDict>,
    waker: &Bound<'_, LoopWaker>,
    future: Py<PyAny>,
) -> PyResult<bool> {
    submit(py, Endpointkind::Moderation, kwargs, waker, future)
}

/// What a rerank with this `meta` cost (the first of `models` the catalogue prices), or
/// None: `completion_cost` of a `RerankResponse`.
#[pyfunction]
fn rerank_cost(
    meta: &Bound<'_, PyDict>,
    provider: &str,
    models: Vec<String>,
) -> PyResult<Option<f64>> {
    let meta = super::convert::to_value(meta.as_any(), "meta")?;
    let mut body = serde_json::Map::new();
    body.insert("meta".into(), meta);
    let names: Vec<&str> = models.iter().map(String::as_str).collect();
    Ok(crate::providers::rerank::cost(
        &body,
        provider,
        &names,
        &crate::catalogue::cost::CustomPrices::default(),
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(rerank_cost, m)?)?;
    m.add_function(wrap_pyfunction!(rerank, m)?)?;
    m.add_function(wrap_pyfunction!(arerank_submit, m)?)?;
    m.add_function(wrap_pyfunction!(moderation, m)?)?;
    m.add_function(wrap_pyfunction!(amoderation_submit, m)?)?;
    Ok(())
}
