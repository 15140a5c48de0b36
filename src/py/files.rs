//! The Files and Batches APIs (`create_file`, `file_retrieve`, ..., `cancel_batch`):
//! one entry point each way, naming the operation; the plain-Rust core is `crate::files`.
//! Replies come back as `(response_json, hidden_params, ms)`; a file's content as the
//! binary reply body the Python layer reads as `HttpxBinaryResponseContent`.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::blocking::block_on_call;
use super::bridge::{Convert, LoopWaker};
use super::completion::reply_to_py;
use super::convert::kwargs_to_map;
use super::errors::to_pyerr;
use crate::error::LlmError;
use crate::files::{self, FilesOp};
use crate::providers::Endpointkind;

fn op_named(py: Python<'_>, op: &str) -> PyResult<FilesOp> {
    FilesOp::named(op).ok_or_else(|| {
        to_pyerr(
            py,
            LlmError::bad_request(format!("unknown files operation {op:?}")),
        )
    })
}

/// A files or batches operation `op` (`"create_file"`, `"file_retrieve"`, ...),
/// blocking: `(response_json, hidden_params, ms)`.
#[pyfunction]
fn files_call(py: Python<'_>, op: &str, kwargs: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
    let op = op_named(py, op)?;
    let map = kwargs_to_map(kwargs)
        .map_err(|e| to_pyerr(py, LlmError::bad_request(e.value(py).to_string())))?;
    let reply = block_on_call(py, files::run(op, map))?;
    reply_to_py(py, Endpointkind::Responses, reply, None)
}

/// [`files_call`] resolving `future` on the loop that owns `waker`.
#[pyfunction]
fn afiles_call_submit(
    py: Python<'_>,
    op: &str,
    kwargs: &Bound<'_, PyDict>,
    waker: &Bound<'_, LoopWaker>,
    future: Py<PyAny>,
) -> PyResult<bool> {
    let op = op_named(py, op)?;
    let map = kwargs_to_map(kwargs)
        .map_err(|e| to_pyerr(py, LlmError::bad_request(e.value(py).to_string())))?;
    waker.get().start(
        py,
        future,
        Box::pin(async move {
            let result = files::run(op, map).await;
            let convert: Convert = Box::new(move |py| match result {
                Ok(reply) => reply_to_py(py, Endpointkind::Responses, reply, None),
                Err(e) => Err(to_pyerr(py, e)),
            });
            convert
        }),
    )
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(files_call, m)?)?;
    m.add_function(wrap_pyfunction!(afiles_call_submit, m)?)?;
    Ok(())
}
