//! Handing the core's log records to Python's `logging`.
//!
//! The core makes records only while a switch asked for them (see `crate::logging`), so
//! this runs only then. A record is made wherever the work happens: on the caller's thread
//! for a sync call (which released the GIL while waiting and takes it back here), on a
//! runtime thread for async calls and streams. Either way the core holds no lock of its
//! own when it logs, and nothing waits for the GIL while holding one; a Python thread
//! that waits on the core (a sync call, a stream's `next_batch`) has released the GIL.
//!
//! The record is built with the core's source location (`call.rs:412`), so LiteLLM's
//! format `%(filename)s:%(lineno)s` says where in rustllm it came from, and passed to
//! `Logger.handle`: the logger's level, filters and handlers (pytest's `caplog` among them)
//! apply as to any record.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;

use crate::logging::{self, Record, Target};

/// `logging.getLogger("LiteLLM")` and `logging.getLogger("LiteLLM Router")`.
static LOGGERS: PyOnceLock<[Py<PyAny>; 2]> = PyOnceLock::new();

fn loggers(py: Python<'_>) -> PyResult<&[Py<PyAny>; 2]> {
    LOGGERS.get_or_try_init(py, || {
        let logging = py.import("logging")?;
        let get = |t: Target| -> PyResult<Py<PyAny>> {
            Ok(logging
                .call_method1("getLogger", (t.logger_name(),))?
                .unbind())
        };
        Ok([get(Target::Calls)?, get(Target::Router)?])
    })
}

fn handle(py: Python<'_>, record: &Record<'_>) -> PyResult<()> {
    let logger = loggers(py)?[record.target as usize].bind(py);
    let level = record.level as u8;
    if !logger.call_method1("isEnabledFor", (level,))?.is_truthy()? {
        return Ok(());
    }
    // makeRecord(name, level, fn, lno, msg, args, exc_info): no args, so the message is
    // never %-formatted.
    let made = logger.call_method1(
        "makeRecord",
        (
            record.target.logger_name(),
            level,
            record.file,
            record.line,
            record.message,
            PyTuple::empty(py),
            py.None(),
        ),
    )?;
    // `router/mod.rs` says more than Python's basename `mod.rs`.
    let file = record.file.strip_prefix("src/").unwrap_or(record.file);
    made.setattr("filename", file)?;
    logger.call_method1("handle", (made,))?;
    Ok(())
}

fn to_python(record: &Record<'_>) {
    Python::attach(|py| {
        if let Err(e) = handle(py, record) {
            // A broken handler is the program's to see, as `logging` shows it; never the
            // call's failure.
            e.print(py);
        }
    });
}

/// Let the core's records for `logger` (`"LiteLLM"` or `"LiteLLM Router"`) at `level` (a
/// Python level number) and above through; None turns them off. The Python layer calls
/// this when `set_verbose`, `LITELLM_LOG` or `turn_on_debug()` changes what is asked for.
#[pyfunction]
#[pyo3(signature = (logger, level=None))]
fn set_log_level(logger: &str, level: Option<u8>) -> PyResult<()> {
    let target = logging::Target::from_logger_name(logger).ok_or_else(|| {
        pyo3::exceptions::PyValueError::new_err(format!(
            "no rustllm log target is called {logger:?}"
        ))
    })?;
    logging::set_threshold(target, level);
    Ok(())
}

/// `text` with credentials masked as the logs mask them: credential query parameters
/// and a password in a URL (for log lines the Python layer writes).
#[pyfunction]
fn mask_url(text: &str) -> String {
    logging::mask_url(text, &mut logging::Secrets::new())
}

/// `text` with every one of `secrets` masked as the logs mask them (for the call lines the
/// Python layer writes, which may quote the call's key in an argument).
#[pyfunction]
fn scrub(text: &str, secrets: Vec<String>) -> String {
    let mut known = logging::Secrets::new();
    for s in &secrets {
        known.add(s);
    }
    known.scrub(text)
}

/// Whether a header or parameter of this name carries a credential (`api_key`,
/// `Authorization`, `aws_secret_access_key`, `vertex_credentials`, ...), as the logs judge it.
#[pyfunction]
fn is_secret_name(name: &str) -> bool {
    logging::is_secret_name(name)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::set_sink(std::sync::Arc::new(to_python));
    m.add_function(wrap_pyfunction!(set_log_level, m)?)?;
    m.add_function(wrap_pyfunction!(mask_url, m)?)?;
    m.add_function(wrap_pyfunction!(is_secret_name, m)?)?;
    m.add_function(wrap_pyfunction!(scrub, m)?)?;
    Ok(())
}
