//! What rustllm knows about models without asking anyone: the bundled price and
//! context-window map (`models`), what a call cost (`cost`), and token counting (`tokens`).

mod bpe;
// The rank table's layout, shared with build.rs, which alone uses its filling half.
#[allow(dead_code)]
mod bpe_hash;
pub mod cost;
pub mod models;
pub mod nearest;
pub mod tokens;

/// `(input, output)` price per token for a model, from the bundled catalogue.
pub fn prices(model: &str) -> Option<(f64, f64)> {
    cost::prices(model)
}
