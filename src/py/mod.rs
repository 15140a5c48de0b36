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
///
/// `gil_used = false`: a free-threaded CPython (3.13t, 3.14t) may keep the GIL off when it
/// imports this module. Every class is frozen (its state behind a `Mutex`, `OnceLock` or
/// atomics), no lock is held while Python code runs, and nothing uses the GIL as a lock;
/// README "Free-threaded Python" says what was checked and what a free-threaded build gains.
#[pymodule(gil_used = false)]
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
