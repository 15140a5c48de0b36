//! `rustllm._core.serve_proxy`: the Proxy Server started from Python (`rustllm proxy`).
//! Python only hands the arguments over; the server is `crate::proxy`, run with the GIL
//! released until SIGTERM or SIGINT.

use pyo3::prelude::*;

/// Run the proxy with command-line arguments (`["proxy", "--config", "c.yaml", ...]` or
/// `["--config", "c.yaml", ...]`) until SIGTERM or SIGINT; returns the exit code.
#[pyfunction]
fn serve_proxy(py: Python<'_>, argv: Vec<String>) -> i32 {
    // Config entries may name guardrail classes: they are imported from here.
    super::proxy_guardrails::install();
    py.detach(|| crate::proxy::main(&argv))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(serve_proxy, m)?)
}
