//! What rustllm knows about models without asking anyone: token counting today; the
//! bundled price and context-window map will join it here.

pub mod tokens;
