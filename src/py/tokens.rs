//! `token_counter`, `encode`, `decode`.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde_json::Value;

use super::convert::to_value;
use crate::catalogue::tokens::{count_messages, Encoding};

/// Tokens in `text`, or in `messages` with LiteLLM's chat accounting, for `model`'s encoding.
#[pyfunction]
#[pyo3(signature = (model, text=None, messages=None))]
fn token_counter(
    py: Python<'_>,
    model: &str,
    text: Option<String>,
    messages: Option<&Bound<'_, PyAny>>,
) -> PyResult<usize> {
    let messages = match messages {
        Some(m) if !m.is_none() => match to_value(m, "messages")? {
            Value::Array(items) => Some(items),
            _ => {
                return Err(PyValueError::new_err(
                    "messages must be a list of message dicts",
                ))
            }
        },
        _ => None,
    };
    let model = model.to_string();
    Ok(py.detach(move || match (messages, text) {
        (Some(items), _) => count_messages(&model, &items),
        (None, Some(t)) => Encoding::for_model(&model).count(&t),
        (None, None) => 0,
    }))
}

/// Token ids of `text` in `model`'s encoding.
#[pyfunction]
fn encode(py: Python<'_>, model: &str, text: String) -> Vec<u32> {
    let enc = Encoding::for_model(model);
    py.detach(move || enc.encode(&text))
}

/// The text of token ids in `model`'s encoding.
#[pyfunction]
fn decode(model: &str, tokens: Vec<u32>) -> PyResult<String> {
    Encoding::for_model(model)
        .decode(&tokens)
        .ok_or_else(|| PyValueError::new_err("tokens contain an id that is not in the vocabulary"))
}

/// The name of the encoding used for `model` (`o200k_base` or `cl100k_base`).
#[pyfunction]
fn encoding_name(model: &str) -> &'static str {
    Encoding::for_model(model).name()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(token_counter, m)?)?;
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(encoding_name, m)?)?;
    Ok(())
}
