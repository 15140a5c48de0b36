//! The PyO3 binding layer: converts, calls the plain-Rust core, raises. Nothing else.

use pyo3::prelude::*;

mod blocking;
mod bridge;
mod cache;
mod catalogue;
mod completion;
mod convert;
mod custom;
mod errors;
mod files;
mod guardrails;
mod images;
mod logging;
mod messages;
mod mock;
mod objects;
mod proxy;
mod proxy_guardrails;
mod rerank;
mod responses;
mod router;
mod stream;
mod tokens;

/// The compiled module `rustllm._core`.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    bridge::register(m)?;
    completion::register(m)?;
    rerank::register(m)?;
    images::register(m)?;
    catalogue::register(m)?;
    router::register(m)?;
    cache::register(m)?;
    stream::register(m)?;
    tokens::register(m)?;
    mock::register(m)?;
    logging::register(m)?;
    objects::register(m)?;
    proxy::register(m)?;
    responses::register(m)?;
    messages::register(m)?;
    files::register(m)?;
    guardrails::register(m)?;
    m.add_function(wrap_pyfunction!(blocking::_after_fork_in_child, m)?)?;
    Ok(())
}
