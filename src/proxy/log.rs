//! The proxy's log: one line per event on stderr, `rustllm proxy: LEVEL message`.
//! Keys never reach it (the auth code never passes one, and errors do not quote them).

use std::sync::atomic::{AtomicU8, Ordering};

/// 0: warnings and start/stop lines; 1: `--detailed_debug` / `set_verbose` (every request,
/// routing decisions).
static LEVEL: AtomicU8 = AtomicU8::new(0);

/// Turn request and routing-decision logging on or off.
pub fn set_debug(on: bool) {
    LEVEL.store(u8::from(on), Ordering::Relaxed);
}

/// Whether debug lines are written.
pub fn debug_enabled() -> bool {
    LEVEL.load(Ordering::Relaxed) > 0
}

#[allow(clippy::print_stderr)]
fn line(level: &str, message: &str) {
    eprintln!("rustllm proxy: {level}{message}");
}

/// A start/stop line.
pub fn info(message: &str) {
    line("", message);
}

/// Something the operator should fix.
pub fn warn(message: &str) {
    line("WARNING: ", message);
}

/// Why the proxy stopped or refused to start.
pub fn error(message: &str) {
    line("ERROR: ", message);
}

/// A line written only with `--detailed_debug` or `set_verbose`.
pub fn debug(message: &str) {
    if debug_enabled() {
        line("DEBUG: ", message);
    }
}
