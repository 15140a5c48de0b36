//! The upstream the proxy bench puts behind both proxies: an OpenAI chat endpoint that
//! answers from canned bytes, so that as little of the two shared cores as possible goes
//! to the mock (bench/proxy/README.md compares it with rustllm's `MockServer`).
//!
//! `rustllm-bench-mock [--port N] [--threads N] [--chunks N]` prints its base URL
//! (`http://127.0.0.1:PORT/v1`) on one line, then serves until killed.
//!
//! - `POST .../chat/completions` without `"stream": true`: one `chat.completion` with usage.
//! - with `"stream": true`: a role chunk, N content chunks (default 100), a finish chunk
//!   and a usage chunk, then `data: [DONE]`, written as fast as the socket takes them.
//! - `GET /health`: 200. Anything else: 404.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

struct Canned {
    json: Bytes,
    sse: Bytes,
}

fn canned(chunks: usize) -> Canned {
    let json = Bytes::from_static(
        br#"{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the bench mock!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":6,"total_tokens":7}}"#,
    );
    let head = r#"data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench","choices":[{"index":0,"delta":"#;
    let mut sse = String::new();
    sse.push_str(head);
    sse.push_str(r#"{"role":"assistant","content":""},"finish_reason":null}]}"#);
    sse.push_str("\n\n");
    for i in 0..chunks {
        sse.push_str(head);
        sse.push_str(&format!(
            r#"{{"content":"tok{i} "}},"finish_reason":null}}]}}"#
        ));
        sse.push_str("\n\n");
    }
    sse.push_str(head);
    sse.push_str(r#"{},"finish_reason":"stop"}]}"#);
    sse.push_str("\n\n");
    sse.push_str(&format!(
        r#"data: {{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench","choices":[],"usage":{{"prompt_tokens":1,"completion_tokens":{chunks},"total_tokens":{}}}}}"#,
        chunks + 1
    ));
    sse.push_str("\n\ndata: [DONE]\n\n");
    Canned {
        json,
        sse: Bytes::from(sse),
    }
}

fn wants_stream(body: &[u8]) -> bool {
    // The proxies write `"stream":true` (serde_json, httpx) or `"stream": true`.
    let find = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    find(b"\"stream\":true") || find(b"\"stream\": true")
}

fn reply(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

async fn handle(
    canned: &'static Canned,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let bytes = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let path = parts.uri.path();
    Ok(if parts.method == Method::POST && path.ends_with("/chat/completions") {
        if wants_stream(&bytes) {
            reply(StatusCode::OK, "text/event-stream", canned.sse.clone())
        } else {
            reply(StatusCode::OK, "application/json", canned.json.clone())
        }
    } else if path == "/health" {
        reply(StatusCode::OK, "application/json", Bytes::from_static(b"{}"))
    } else {
        reply(
            StatusCode::NOT_FOUND,
            "application/json",
            Bytes::from_static(br#"{"error":{"message":"not found"}}"#),
        )
    })
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = arg(&args, "--port", 0) as u16;
    let threads = arg(&args, "--threads", 2).max(1);
    let canned: &'static Canned = Box::leak(Box::new(canned(arg(&args, "--chunks", 100))));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_io()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("the bound address");
        println!("http://{addr}/v1");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(move |req| handle(canned, req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}
