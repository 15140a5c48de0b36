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
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use super::log;
use super::routes;
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

/// Serve `state` on `listener` until `stop` resolves; then finish in-flight requests for
/// at most `deadline`.
pub async fn serve(
    state: Arc<AppState>,
    listener: TcpListener,
    stop: impl Future<Output = ()> + Send + 'static,
    deadline: Duration,
) -> std::io::Result<()> {
    let mut app = routes::app(state);
    if log::debug_enabled() {
        // Only with --detailed_debug: a layer per request costs a boxed future.
        app = app.layer(axum::middleware::from_fn(log_request));
    }
    let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
    let signal = async move {
        stop.await;
        log::info("shutting down: no new connections; finishing in-flight requests");
        let _ = stopping_tx.send(true);
    };
    // Nagle's algorithm would hold back the small writes of a stream (and of a reply
    // written in two parts) until the client's delayed ACK: tens of milliseconds.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let server = axum::serve(listener, app).with_graceful_shutdown(signal);
    let expired = async move {
        let _ = stopping_rx.wait_for(|s| *s).await;
        tokio::time::sleep(deadline).await;
    };
    tokio::select! {
        r = server => r,
        _ = expired => {
            log::warn(&format!(
                "requests still open after the {:.0} s shutdown deadline are cut",
                deadline.as_secs_f64()
            ));
            Ok(())
        }
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
