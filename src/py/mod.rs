//! The PyO3 binding layer: converts, calls the plain-Rust core, raises. Nothing else.

use pyo3::prelude::*;

/// The compiled module `rustllm._core`.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
