//! Raising core errors in Python.
//!
//! The core raises one private class, `_core.RustLLMError`, carrying every field of
//! [`LlmError`]; `rustllm.exceptions._from_core` turns it into the public LiteLLM class
//! (built lazily there, so `import rustllm` never imports openai).

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::convert::to_py;
use crate::error::LlmError;

create_exception!(
    _core,
    RustLLMError,
    PyException,
    "A failure inside the Rust core; rustllm re-raises it as the matching LiteLLM exception."
);

/// The Python exception for a core error.
pub fn to_pyerr(py: Python<'_>, e: LlmError) -> PyErr {
    let err = PyErr::new::<RustLLMError, _>(e.to_string());
    let value = err.value(py);
    let fill = || -> PyResult<()> {
        value.setattr("kind", e.kind.class_name())?;
        value.setattr("message", &e.message)?;
        value.setattr("status_code", e.status)?;
        value.setattr("llm_provider", &e.provider)?;
        value.setattr("model", &e.model)?;
        let body = match &e.body {
            Some(b) => to_py(py, b)?,
            None => py.None().into_bound(py),
        };
        value.setattr("body", body)?;
        let headers = PyDict::new(py);
        for (k, v) in &e.headers {
            headers.set_item(k, v)?;
        }
        value.setattr("headers", headers)?;
        value.setattr("num_retries", e.num_retries)?;
        value.setattr("max_retries", e.max_retries)?;
        value.setattr("retry_after", e.retry_after.map(|d| d.as_secs_f64()))?;
        Ok(())
    };
    match fill() {
        Ok(()) => err,
        Err(other) => other,
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("RustLLMError", m.py().get_type::<RustLLMError>())
}
