//! The tokio runtimes and the HTTP clients.
//!
//! Async calls, every stream and the in-process MockServer run on one process-wide
//! multi-threaded runtime with shared connection pools. A blocking (sync) call that is not a
//! stream runs instead on a current-thread runtime owned by the calling thread, with that
//! thread's own client: the request, the connection task and the reply then all stay on
//! one thread, saving two cross-thread wake-ups per call (about 100 µs on 2 cores). The
//! two pools never share a connection, because a connection's task lives on the runtime
//! that opened it and must be driven by it.

use std::cell::{Cell, OnceCell};
use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::runtime::Runtime;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
static INSECURE_CLIENT: OnceLock<reqwest::Client> = OnceLock::new();

/// The process-wide multi-threaded runtime, built on first use.
// Not reachable from user input: failing to start two OS threads leaves nothing to do.
#[allow(clippy::expect_used)]
pub fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        // Two workers match the machines we target; more buys nothing for I/O-bound work.
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("rustllm-io")
            .enable_all()
            .build()
            .expect("rustllm: cannot start the tokio runtime")
    })
}

fn build_client(verify_tls: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        // Per-request timeouts are set on each request; this only bounds connecting.
        .connect_timeout(Duration::from_secs(30))
        .danger_accept_invalid_certs(!verify_tls);
    // `build` fails only if the TLS backend cannot initialise; the default client is
    // then still usable for plain-HTTP endpoints such as local servers.
    builder.build().unwrap_or_else(|_| reqwest::Client::new())
}

/// One thread's own runtime and clients, for blocking calls.
struct LocalTransport {
    runtime: Runtime,
    client: OnceCell<reqwest::Client>,
    insecure: OnceCell<reqwest::Client>,
}

thread_local! {
    static LOCAL: OnceCell<Option<LocalTransport>> = const { OnceCell::new() };
    /// Set while this thread drives its own runtime, so `client()` hands out its clients.
    static ON_LOCAL: Cell<bool> = const { Cell::new(false) };
}

/// The HTTP client for the runtime the caller is on. TLS certificates are verified unless
/// `verify_tls` is false (LiteLLM's `ssl_verify=False`), which uses a separate client so
/// the two never mix.
pub fn client(verify_tls: bool) -> reqwest::Client {
    if ON_LOCAL.with(Cell::get) {
        let local = LOCAL.with(|l| {
            l.get().and_then(|t| t.as_ref()).map(|t| {
                let cell = if verify_tls { &t.client } else { &t.insecure };
                cell.get_or_init(|| build_client(verify_tls)).clone()
            })
        });
        if let Some(c) = local {
            return c;
        }
    }
    if verify_tls {
        CLIENT.get_or_init(|| build_client(true)).clone()
    } else {
        INSECURE_CLIENT.get_or_init(|| build_client(false)).clone()
    }
}

/// Run a future to completion on the calling thread's own current-thread runtime (built
/// on first use). Falls back to the shared runtime if the thread cannot have one. Must
/// not be used for work that outlives the call (streams): nothing drives this runtime
/// between calls.
pub fn block_on_local<F: Future>(fut: F) -> F::Output {
    LOCAL.with(|cell| {
        let local = cell.get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()
                .map(|runtime| LocalTransport {
                    runtime,
                    client: OnceCell::new(),
                    insecure: OnceCell::new(),
                })
        });
        match local {
            Some(t) => {
                let was = ON_LOCAL.with(|f| f.replace(true));
                let out = t.runtime.block_on(fut);
                ON_LOCAL.with(|f| f.set(was));
                out
            }
            None => runtime().block_on(fut),
        }
    })
}
