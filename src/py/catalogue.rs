//! The model catalogue and cost functions: `rustllm.catalogue` wraps these with LiteLLM's
//! signatures. Unknown models raise a plain `Exception` with LiteLLM's text, as LiteLLM
//! does.

use pyo3::exceptions::{PyException, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use super::convert::{map_to_py, to_value};
use crate::catalogue::cost::{self, CustomPrices, TokenUsage};
use crate::catalogue::models;

/// Whether any bundled catalogue entry has been parsed (each is parsed on first use only).
#[pyfunction]
fn catalogue_loaded() -> bool {
    models::is_loaded()
}

/// `get_model_info`: the entry with `key`, every `supports_*` flag and
/// `supported_openai_params`. Raises `Exception` for a model the catalogue does not know.
#[pyfunction]
#[pyo3(signature = (model, custom_llm_provider=None))]
fn model_info<'py>(
    py: Python<'py>,
    model: &str,
    custom_llm_provider: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    match py.detach(|| models::model_info(model, custom_llm_provider)) {
        Ok(info) => map_to_py(py, &info),
        Err(msg) => Err(PyException::new_err(msg)),
    }
}

/// Every catalogue entry as `{name: entry}` (registered models included), for
/// `rustllm.model_cost`.
#[pyfunction]
fn model_cost<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
    let entries = py.detach(models::all_entries);
    let out = PyDict::new(py);
    for (name, entry) in entries {
        out.set_item(name, map_to_py(py, &entry)?)?;
    }
    Ok(out)
}

/// Every model name in the catalogue, for `rustllm.model_list`.
#[pyfunction]
fn model_names(py: Python<'_>) -> Vec<String> {
    py.detach(models::names)
}

/// `register_model` for one model: merge `fields` into the entry `name` resolves to (or
/// add it). Returns the entry `(key, entry)` as stored.
#[pyfunction]
fn register_model<'py>(
    py: Python<'py>,
    name: &str,
    fields: &Bound<'py, PyAny>,
) -> PyResult<(String, Bound<'py, PyDict>)> {
    let Value::Object(fields) = to_value(fields, name)? else {
        return Err(PyTypeError::new_err(format!(
            "register_model: the entry for {name:?} must be a dict of model facts"
        )));
    };
    let key = py.detach(|| models::register(name, fields));
    let entry = models::entry_exact(&key).unwrap_or_default();
    Ok((key, map_to_py(py, &entry)?))
}

/// `supports_<capability>`: `True` only when the catalogue says so.
#[pyfunction]
#[pyo3(signature = (model, custom_llm_provider, key))]
fn supports(py: Python<'_>, model: &str, custom_llm_provider: Option<&str>, key: &str) -> bool {
    py.detach(|| models::supports(model, custom_llm_provider, key))
}

/// `get_max_tokens`: the model's output-token limit. Raises `Exception` when unknown.
#[pyfunction]
fn max_tokens(py: Python<'_>, model: &str) -> PyResult<Option<u64>> {
    py.detach(|| models::max_tokens(model))
        .map_err(PyException::new_err)
}

/// `get_supported_openai_params`; `None` when the provider cannot be determined.
#[pyfunction]
#[pyo3(signature = (model, custom_llm_provider=None))]
fn supported_openai_params(
    model: &str,
    custom_llm_provider: Option<&str>,
) -> Option<Vec<&'static str>> {
    models::supported_openai_params(model, custom_llm_provider)
}

/// `(prompt_cost, completion_cost)` in USD for an OpenAI-format `usage` dict. Custom
/// prices win over the catalogue. Raises `Exception` for a model it cannot price.
#[pyfunction]
#[pyo3(signature = (
    model,
    usage,
    custom_llm_provider=None,
    response_time_ms=None,
    input_cost_per_token=None,
    output_cost_per_token=None,
    input_cost_per_second=None,
    output_cost_per_second=None,
))]
#[allow(clippy::too_many_arguments)]
fn cost_per_token(
    py: Python<'_>,
    model: &str,
    usage: &Bound<'_, PyAny>,
    custom_llm_provider: Option<&str>,
    response_time_ms: Option<f64>,
    input_cost_per_token: Option<f64>,
    output_cost_per_token: Option<f64>,
    input_cost_per_second: Option<f64>,
    output_cost_per_second: Option<f64>,
) -> PyResult<(f64, f64)> {
    let usage = TokenUsage::from_json(&to_value(usage, "usage")?)
        .ok_or_else(|| PyTypeError::new_err("usage must be a dict of token counts"))?;
    let custom = CustomPrices {
        input_cost_per_token,
        output_cost_per_token,
        input_cost_per_second,
        output_cost_per_second,
        input_cost_per_query: None,
    };
    py.detach(|| {
        cost::cost_per_token(
            model,
            custom_llm_provider,
            &usage,
            response_time_ms,
            &custom,
        )
    })
    .map_err(PyException::new_err)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(catalogue_loaded, m)?)?;
    m.add_function(wrap_pyfunction!(model_info, m)?)?;
    m.add_function(wrap_pyfunction!(model_cost, m)?)?;
    m.add_function(wrap_pyfunction!(model_names, m)?)?;
    m.add_function(wrap_pyfunction!(register_model, m)?)?;
    m.add_function(wrap_pyfunction!(supports, m)?)?;
    m.add_function(wrap_pyfunction!(max_tokens, m)?)?;
    m.add_function(wrap_pyfunction!(supported_openai_params, m)?)?;
    m.add_function(wrap_pyfunction!(cost_per_token, m)?)?;
    Ok(())
}
