//! Keeping a serving thread awake for a moment after a request starts, at low
//! concurrency.
//!
//! On a virtual machine a halted vCPU takes tens of microseconds to wake (measured on
//! this project's 2-core VM: the bench mock alone answers at 57 µs p50 when the machine
//! is idle and 19 µs when it is busy). A proxied request sleeps twice where a direct one
//! does not (waiting for the client's request, waiting for the provider's reply), so at
//! concurrency 1 those wake-ups were most of the proxy's added latency. For
//! [`Spin::window`] after each request starts, a serving thread with few open connections
//! polls for I/O without blocking instead of parking (Go's scheduler and kernel busy
//! polling do the same): the reply, and the client's next request, are picked up at once.
//!
//! It costs CPU only while requests come: at most one window per request, and never once
//! a thread has more than [`Spin::max_connections`] open (there its wake-ups are shared
//! by many requests and spinning would take CPU from the work itself). `RUSTLLM_PROXY_SPIN_US`
//! sets the window (default [`DEFAULT_WINDOW_US`]; `0` turns it off).

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// The default window, µs: a request to a fast upstream and the client's next request fit
/// in it at concurrency 1.
pub const DEFAULT_WINDOW_US: u64 = 300;
/// Open connections on a thread above which it never spins.
const MAX_CONNECTIONS: usize = 4;

/// How serving threads spin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spin {
    /// How long after a request starts its thread keeps polling; zero: never.
    pub window: Duration,
    /// Open connections on a thread above which it does not spin.
    pub max_connections: usize,
}

impl Default for Spin {
    /// [`DEFAULT_WINDOW_US`], up to [`MAX_CONNECTIONS`] open connections.
    fn default() -> Spin {
        Spin {
            window: Duration::from_micros(DEFAULT_WINDOW_US),
            max_connections: MAX_CONNECTIONS,
        }
    }
}

impl Spin {
    /// From `RUSTLLM_PROXY_SPIN_US` (µs; `0` turns spinning off), else the default. A value
    /// that is not a number is an error naming it.
    pub fn from_env() -> Result<Spin, String> {
        let us = match std::env::var("RUSTLLM_PROXY_SPIN_US") {
            Ok(v) => v.trim().parse::<u64>().map_err(|_| {
                format!("RUSTLLM_PROXY_SPIN_US: expected a number of microseconds, got {v:?}")
            })?,
            Err(_) => DEFAULT_WINDOW_US,
        };
        Ok(Spin {
            window: Duration::from_micros(us),
            ..Spin::default()
        })
    }

    /// Never spin.
    pub fn off() -> Spin {
        Spin {
            window: Duration::ZERO,
            max_connections: 0,
        }
    }
}

thread_local! {
    /// Until when this serving thread polls instead of parking.
    static WARM_UNTIL: Cell<Option<Instant>> = const { Cell::new(None) };
    /// This thread's window (zero when it does not spin: not a serving thread, or off).
    static WINDOW: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    /// Wakes this thread's spinner from its sleep.
    static WAKE: Cell<Option<Arc<Notify>>> = const { Cell::new(None) };
}

/// A request started on this thread: keep it awake for the window. Costs a clock read on
/// a serving thread and nothing elsewhere.
pub fn mark() {
    let window = WINDOW.get();
    if window.is_zero() {
        return;
    }
    let asleep = WARM_UNTIL.get().is_none();
    WARM_UNTIL.set(Some(Instant::now() + window));
    if asleep {
        if let Some(wake) = WAKE.take() {
            wake.notify_one();
            WAKE.set(Some(wake));
        }
    }
}

/// The spinner of the current serving thread: sleeps until [`mark`], then yields to the
/// runtime (which polls its I/O driver without blocking each time it runs out of tasks)
/// until the window passes or the thread has more than `max_connections` open. Runs for
/// the life of the thread's loop.
pub async fn run(spin: Spin, open: Arc<AtomicUsize>) {
    if spin.window.is_zero() {
        return std::future::pending().await;
    }
    let wake = Arc::new(Notify::new());
    WINDOW.set(spin.window);
    WAKE.set(Some(Arc::clone(&wake)));
    loop {
        match WARM_UNTIL.get() {
            Some(until)
                if Instant::now() < until
                    && open.load(Ordering::Relaxed) <= spin.max_connections =>
            {
                tokio::task::yield_now().await;
            }
            _ => {
                WARM_UNTIL.set(None);
                wake.notified().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_comes_from_the_environment() {
        // One test touches the variable (tests run in parallel in one process).
        std::env::remove_var("RUSTLLM_PROXY_SPIN_US");
        assert_eq!(
            Spin::from_env().unwrap().window,
            Duration::from_micros(DEFAULT_WINDOW_US)
        );
        std::env::set_var("RUSTLLM_PROXY_SPIN_US", "0");
        assert!(Spin::from_env().unwrap().window.is_zero());
        std::env::set_var("RUSTLLM_PROXY_SPIN_US", "50");
        assert_eq!(Spin::from_env().unwrap().window, Duration::from_micros(50));
        std::env::set_var("RUSTLLM_PROXY_SPIN_US", "fast");
        let e = Spin::from_env().unwrap_err();
        assert!(
            e.contains("RUSTLLM_PROXY_SPIN_US") && e.contains("\"fast\""),
            "{e}"
        );
        std::env::remove_var("RUSTLLM_PROXY_SPIN_US");
    }

    /// How often this thread has blocked so far (its voluntary context switches).
    fn blocked() -> u64 {
        let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("voluntary_ctxt_switches:"))
            .unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// A marked thread keeps polling instead of blocking for its window, then sleeps until
    /// the next mark; a thread with more open connections than allowed does not spin.
    #[test]
    fn a_mark_keeps_the_thread_polling_for_the_window_only() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let spin = Spin {
            window: Duration::from_millis(400),
            max_connections: 2,
        };
        // How often the thread blocked over 50 sleeps of 1 ms after a mark, with `open`
        // connections, and whether the spinner was asleep again after the window.
        let run_with = |open: usize| {
            rt.block_on(async {
                let spinner = tokio::spawn(run(spin, Arc::new(AtomicUsize::new(open))));
                tokio::task::yield_now().await;
                mark();
                let before = blocked();
                for _ in 0..50 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                let during = blocked() - before;
                tokio::time::sleep(spin.window).await;
                let asleep = WARM_UNTIL.get().is_none();
                spinner.abort();
                let _ = spinner.await;
                (during, asleep)
            })
        };
        let (spinning, asleep) = run_with(1);
        assert!(spinning < 10, "blocked {spinning} times while spinning");
        assert!(asleep, "still spinning after the window");
        let (crowded, _) = run_with(3);
        assert!(
            crowded >= 40,
            "blocked only {crowded} times without spinning"
        );
        WINDOW.set(Duration::ZERO);
    }
}
