//! Waiting on the runtime from a synchronous Python call.

use std::future::Future;
use std::time::Duration;

use pyo3::prelude::*;

use super::errors::to_pyerr;
use crate::error::LlmError;
use crate::transport::runtime;

/// Block on a future with the GIL released, while still letting Ctrl-C interrupt the
/// wait (the signal is checked every 100 ms; the future is dropped, which cancels it).
pub fn block_on<T: Send>(
    py: Python<'_>,
    fut: impl Future<Output = Result<T, LlmError>> + Send,
) -> PyResult<T> {
    enum Outcome<T> {
        Done(Result<T, LlmError>),
        Interrupted(PyErr),
    }
    let outcome = py.detach(|| {
        runtime().block_on(async {
            let signals = async {
                let mut tick = tokio::time::interval(Duration::from_millis(100));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        return e;
                    }
                }
            };
            tokio::select! {
                r = fut => Outcome::Done(r),
                e = signals => Outcome::Interrupted(e),
            }
        })
    });
    match outcome {
        Outcome::Done(r) => r.map_err(|e| to_pyerr(py, e)),
        Outcome::Interrupted(e) => Err(e),
    }
}
