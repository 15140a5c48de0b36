//! The proxy's log: one line per event on stderr, `rustllm proxy: LEVEL message`.
//! Keys never reach it (the auth code never passes one, and errors do not quote them).

use std::sync::atomic::{AtomicU8, Ordering};

/// 0: warnings and start/stop lines; 1: `--detailed_debug` / `set_verbose` (every request,
/// routing decisions).
static LEVEL: AtomicU8 = AtomicU8::new(0);

pub fn set_debug(on: bool) {
    LEVEL.store(u8::from(on), Ordering::Relaxed);
}

pub fn debug_enabled() -> bool {
    LEVEL.load(Ordering::Relaxed) > 0
}

#[allow(clippy::print_stderr)]
fn line(level: &str, message: &str) {
    eprintln!("rustllm proxy: {level}{message}");
}

pub fn info(message: &str) {
    line("", message);
}

pub fn warn(message: &str) {
    line("WARNING: ", message);
}

pub fn error(message: &str) {
    line("ERROR: ", message);
}

pub fn debug(message: &str) {
    if debug_enabled() {
        line("DEBUG: ", message);
    }
}
