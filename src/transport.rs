//! The one process-wide tokio runtime and the shared HTTP clients.
//!
//! Every request, every stream and the in-process MockServer run on this runtime, so
//! connections are pooled across sync and async calls alike.

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

/// The shared HTTP client. TLS certificates are verified unless `verify_tls` is false
/// (LiteLLM's `ssl_verify=False`), which uses a separate client so the two never mix.
pub fn client(verify_tls: bool) -> &'static reqwest::Client {
    if verify_tls {
        CLIENT.get_or_init(|| build_client(true))
    } else {
        INSECURE_CLIENT.get_or_init(|| build_client(false))
    }
}
