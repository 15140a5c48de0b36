//! Listening and stopping: bind (failing loudly when the port is taken, where LiteLLM
//! silently moves to a random port), serve on hyper through axum, and on SIGTERM or
//! SIGINT stop accepting, let in-flight requests finish up to a deadline, then close
//! what is left.
//!
//! A client that goes away mid-request makes hyper drop the request's future (HTTP/1
//! half-closed connections are not kept), which drops the provider call with it: no
//! orphaned upstream request keeps running.

use std::future::Future;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use super::log;
use super::routes;
use super::spin::Spin;
use super::state::AppState;

/// Whether `host` only reaches this machine.
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// Bind `host:port`. A port in use is an error that says so.
pub fn bind(host: &str, port: u16) -> Result<TcpListener, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = (bare, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve --host {host:?}: {e}"))?
        .collect();
    let mut last = String::from("no address");
    for addr in addrs {
        match std::net::TcpListener::bind(addr) {
            Ok(l) => {
                l.set_nonblocking(true)
                    .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
                return TcpListener::from_std(l)
                    .map_err(|e| format!("cannot listen on {addr}: {e}"));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                return Err(format!(
                    "port {port} is already in use on {host}: stop what listens there or choose another port with --port (rustllm does not move to a random port as LiteLLM does)"
                ));
            }
            Err(e) => last = format!("cannot listen on {addr}: {e}"),
        }
    }
    Err(last)
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Serve `state` on `listener` with `threads` serving threads until `stop` resolves;
/// then finish in-flight requests for at most `deadline`.
///
/// Each serving thread drives its own current-thread runtime with its own provider
/// clients ([`crate::transport::serve_on_this_thread`]), and a connection lives on one
/// thread from accept to close: its requests, their provider connections and their
/// streams never wake another thread. On a work-stealing runtime one request at a time
/// bounced between the workers (five thread switches per request instead of two, +70 µs
/// at p50 on 2 cores: bench/proxy/README.md). Connections go to the thread with the
/// fewest open ones, so a burst of new connections spreads evenly. At low concurrency a
/// thread polls instead of parking for a moment after each request starts
/// ([`super::spin`]).
pub async fn serve(
    state: Arc<AppState>,
    listener: TcpListener,
    stop: impl Future<Output = ()> + Send + 'static,
    deadline: Duration,
    threads: usize,
    spin: Spin,
) -> std::io::Result<()> {
    let mut app = routes::app(state);
    if log::debug_enabled() {
        // Only with --detailed_debug: a layer per request costs a boxed future.
        app = app.layer(axum::middleware::from_fn(log_request));
    }
    let (stopping_tx, stopping_rx) = tokio::sync::watch::channel(false);
    let mut workers = Vec::new();
    for _ in 0..threads.max(1) {
        workers.push(ServingThread::start(
            app.clone(),
            stopping_rx.clone(),
            deadline,
            spin,
        )?);
    }
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    // Out of file descriptors and the like: wait a moment instead of
                    // spinning (hyper's and axum's accept loops do the same).
                    Err(e) => {
                        log::debug(&format!("accept failed: {e}"));
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                // Nagle's algorithm would hold back the small writes of a stream (and of
                // a reply written in two parts) until the client's delayed ACK: tens of
                // milliseconds.
                let _ = stream.set_nodelay(true);
                let Ok(mut stream) = stream.into_std() else { continue };
                // The least-loaded thread still serving; one whose loop ended (it cannot,
                // short of a bug) is passed over from then on instead of being handed
                // every new connection for having none open.
                while let Some(w) = workers
                    .iter_mut()
                    .filter(|w| w.connections.is_some())
                    .min_by_key(|w| w.open.load(Ordering::Relaxed))
                {
                    match w.connections.as_ref().map(|tx| tx.send(stream)) {
                        Some(Err(refused)) => {
                            log::warn("a serving thread stopped; its share goes to the others");
                            w.connections = None;
                            stream = refused.0;
                        }
                        _ => break,
                    }
                }
            }
            () = &mut stop => break,
        }
    }
    log::info("shutting down: no new connections; finishing in-flight requests");
    drop(listener);
    let _ = stopping_tx.send(true);
    let mut finished = Vec::new();
    for w in &mut workers {
        // Closing the channel ends the thread's accept loop; its `done` fires when its
        // connections are finished or the deadline cut them.
        w.connections = None;
        if let Some(done) = w.done.take() {
            finished.push(done);
        }
    }
    let mut cut = false;
    for done in finished {
        cut |= done.await.unwrap_or(false);
    }
    if cut {
        log::warn(&format!(
            "requests still open after the {:.0} s shutdown deadline are cut",
            deadline.as_secs_f64()
        ));
    }
    Ok(())
}

/// One serving thread, as the accept loop sees it.
struct ServingThread {
    /// Accepted connections go here; `None` once stopping.
    connections: Option<tokio::sync::mpsc::UnboundedSender<std::net::TcpStream>>,
    /// Connections open on it now.
    open: Arc<AtomicUsize>,
    /// Resolves when the thread is done: true if the deadline cut open requests.
    done: Option<tokio::sync::oneshot::Receiver<bool>>,
}

impl ServingThread {
    fn start(
        app: axum::Router,
        stopping: tokio::sync::watch::Receiver<bool>,
        deadline: Duration,
        spin: Spin,
    ) -> std::io::Result<ServingThread> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let open = Arc::new(AtomicUsize::new(0));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let count = Arc::clone(&open);
        std::thread::Builder::new()
            .name("rustllm-serve".into())
            .spawn(move || {
                crate::transport::serve_on_this_thread();
                let cut =
                    runtime.block_on(serve_connections(app, rx, count, stopping, deadline, spin));
                let _ = done_tx.send(cut);
                // Tasks still on this runtime (connections cut at the deadline) are
                // dropped here, closing their sockets.
                runtime.shutdown_background();
            })?;
        Ok(ServingThread {
            connections: Some(tx),
            open,
            done: Some(done_rx),
        })
    }
}

/// A serving thread's loop: serve each connection it is handed (HTTP/1.1 with
/// keep-alive) until stopping, then let open requests finish for at most `deadline`.
/// Returns true if the deadline cut some.
async fn serve_connections(
    app: axum::Router,
    mut connections: tokio::sync::mpsc::UnboundedReceiver<std::net::TcpStream>,
    open: Arc<AtomicUsize>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
    deadline: Duration,
    spin: Spin,
) -> bool {
    let spinner = tokio::spawn(super::spin::run(spin, Arc::clone(&open)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let http = hyper::server::conn::http1::Builder::new();
    loop {
        tokio::select! {
            next = connections.recv() => {
                let Some(stream) = next else { break };
                let Ok(stream) = tokio::net::TcpStream::from_std(stream) else { continue };
                let service = hyper_util::service::TowerToHyperService::new(app.clone());
                let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                let watched = graceful.watch(connection);
                let open = Arc::clone(&open);
                open.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    // A connection error is the client's (reset, bad request line): hyper
                    // already answered what could be answered.
                    let _ = watched.await;
                    open.fetch_sub(1, Ordering::Relaxed);
                });
            }
            _ = stopping.wait_for(|s| *s) => break,
        }
    }
    spinner.abort();
    // Idle keep-alive connections close now; busy ones after their current response.
    tokio::select! {
        () = graceful.shutdown() => false,
        () = tokio::time::sleep(deadline) => true,
    }
}

async fn log_request(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = request.method().clone();
    // `/key/{key}/regenerate` carries a key in the path.
    let path = mask_keys(request.uri().path());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    log::debug(&format!(
        "{method} {path} -> {} in {:.2} ms",
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    ));
    response
}

/// `path` with every path segment that starts with `sk-` shortened to `sk-...` and its
/// last four characters, as LiteLLM abbreviates keys.
fn mask_keys(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with("sk-") && segment.len() > 10 {
                let tail: String = segment
                    .chars()
                    .rev()
                    .take(4)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                format!("sk-...{tail}")
            } else {
                segment.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_paths_are_masked_in_the_request_log() {
        assert_eq!(
            mask_keys("/key/sk-abcdefghijklmnop1234/regenerate"),
            "/key/sk-...1234/regenerate"
        );
        assert_eq!(mask_keys("/chat/completions"), "/chat/completions");
    }

    #[test]
    fn loopback_addresses() {
        for h in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["0.0.0.0", "::", "192.168.1.4", "example.com"] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[tokio::test]
    async fn a_taken_port_is_an_error_naming_it() {
        let first = bind("127.0.0.1", 0).unwrap();
        let port = first.local_addr().unwrap().port();
        let e = bind("127.0.0.1", port).unwrap_err();
        assert!(e.contains(&format!("port {port} is already in use")), "{e}");
    }
}
