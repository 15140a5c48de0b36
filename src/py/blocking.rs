//! Waiting on the runtime from a synchronous Python call.

use std::future::Future;
use std::time::Duration;

use pyo3::prelude::*;

use super::errors::to_pyerr;
use crate::error::LlmError;
use crate::transport::{block_on_local, reset_local, runtime};

/// Block on a future with the GIL released, while still letting Ctrl-C interrupt the
/// wait (the signal is checked every 100 ms; the future is dropped, which cancels it).
/// Runs on the shared runtime: use it for anything that lives on after the call (streams).
pub fn block_on<T: Send>(
    py: Python<'_>,
    fut: impl Future<Output = Result<T, LlmError>> + Send,
) -> PyResult<T> {
    block_on_with(py, fut, false)
}

/// [`block_on`] for a call that is complete when it returns (no stream): it runs on the
/// calling thread's own runtime, which keeps request and reply on one thread.
pub fn block_on_call<T: Send>(
    py: Python<'_>,
    fut: impl Future<Output = Result<T, LlmError>> + Send,
) -> PyResult<T> {
    block_on_with(py, fut, true)
}

fn block_on_with<T: Send>(
    py: Python<'_>,
    fut: impl Future<Output = Result<T, LlmError>> + Send,
    local: bool,
) -> PyResult<T> {
    enum Outcome<T> {
        Done(Result<T, LlmError>),
        Interrupted(PyErr),
    }
    // Boxed once here: a call's future is kilobytes (a Router call's holds every step of
    // its retries and fallbacks), and each hand-over below (into the closure, the select,
    // the runtime's `block_on`) would otherwise copy all of it: about a tenth of a mocked
    // Router call's time went to those copies.
    let fut = Box::pin(fut);
    let outcome = py.detach(|| {
        let work = async {
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
        };
        if local {
            block_on_local(work)
        } else {
            runtime().block_on(work)
        }
    });
    match outcome {
        Outcome::Done(r) => r.map_err(|e| to_pyerr(py, e)),
        Outcome::Interrupted(e) => {
            if local {
                // The abandoned request's connection task sits on this thread's runtime,
                // which nothing drives until the next call: drop it now so the socket
                // closes at once and the server stops working on a reply nobody reads.
                reset_local();
            }
            Err(e)
        }
    }
}

/// Called in a forked child (Python's `os.register_at_fork`): the child leaves the
/// parent's runtime, connections and pending calls behind and builds its own on first use.
#[pyfunction]
pub fn _after_fork_in_child() {
    crate::transport::after_fork_in_child();
}
