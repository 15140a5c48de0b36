//! rustllm: the Rust core behind the `rustllm` Python package.
//!
//! Everything outside `py/` is plain Rust with no pyo3 in it: provider adapters, errors,
//! transport and the mock server are tested with `cargo test` alone.

pub mod transport;

#[cfg(feature = "python")]
mod py;
