//! rustllm: the Rust core behind the `rustllm` Python package.
//!
//! Everything outside `py/` is plain Rust with no pyo3 in it: provider adapters, errors,
//! transport and the mock server are tested with `cargo test` alone.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod cache;
pub mod call;
pub mod catalogue;
pub mod error;
pub mod files;
pub mod guardrails;
pub mod logging;
pub mod messages;
pub mod mock;
pub mod providers;
pub mod proxy;
pub mod responses;
pub mod router;
pub mod stream;
pub mod time;
pub mod transport;
pub mod types;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod upload_tests;

#[cfg(feature = "python")]
mod py;
