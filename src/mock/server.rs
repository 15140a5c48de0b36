//! The HTTP side of the mock: accepting connections, reading and recording requests,
//! choosing an outcome and writing it (JSON, raw text, an SSE stream or a dropped socket).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{mpsc as std_mpsc, Arc};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::http::request::Parts;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Notify};

use super::openai::{self, Directives, Reject, ReplySource};
use super::{RecordedRequest, ScriptedResponse, State};

/// Request bodies beyond this are refused by closing the connection; no test needs more.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Accepts connections until every `shutdown` sender is dropped; dropping `stopped`
/// (when this returns) tells `MockServer::stop` that the port is released.
pub(super) async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    mut shutdown: watch::Receiver<()>,
    stopped: std_mpsc::Sender<()>,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(stream, Arc::clone(&state), shutdown.clone()));
                }
                // Out of file descriptors and the like: back off rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
        }
    }
    drop(listener);
    drop(stopped);
}

async fn serve_connection(stream: TcpStream, state: Arc<State>, mut shutdown: watch::Receiver<()>) {
    // Small SSE writes must leave at once; Nagle would hold them for the peer's ACK.
    let _ = stream.set_nodelay(true);
    // A request can ask for its connection to be dropped (`disconnect`); the service
    // cannot close the socket itself, so it signals the task that owns it.
    let abort = Arc::new(Notify::new());
    let service = {
        let abort = Arc::clone(&abort);
        service_fn(move |req| handle(Arc::clone(&state), Arc::clone(&abort), req))
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = conn => {}
        _ = abort.notified() => {}
        _ = shutdown.changed() => {}
    }
}

/// The response body: a whole buffer, or stream events fed by a producer task.
pub(crate) enum MockBody {
    Full(Option<Bytes>),
    Stream {
        rx: mpsc::Receiver<StreamEvent>,
        breaking: bool,
    },
}

pub(crate) enum StreamEvent {
    Data(Bytes),
    /// Drop the connection mid-stream (`break_after`).
    Break,
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            MockBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            MockBody::Stream { rx, breaking } => {
                if *breaking {
                    return Poll::Ready(Some(Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "mock stream broken on purpose (break_after)",
                    ))));
                }
                match rx.poll_recv(cx) {
                    Poll::Ready(Some(StreamEvent::Data(b))) => {
                        Poll::Ready(Some(Ok(Frame::data(b))))
                    }
                    Poll::Ready(Some(StreamEvent::Break)) => {
                        // hyper writes frames into a buffer and flushes only when the body
                        // is pending; failing right away would lose the chunks before the
                        // break. Pend once (waking ourselves) so they reach the client.
                        *breaking = true;
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                    Poll::Ready(None) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, MockBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            MockBody::Full(None) => SizeHint::with_exact(0),
            MockBody::Stream { .. } => SizeHint::default(),
        }
    }
}

/// What to send back.
enum Outcome {
    Disconnect,
    Json(u16, Value),
    Text(u16, String),
    /// SSE events (each a JSON value), then `[DONE]` unless broken off.
    Stream {
        status: u16,
        events: Vec<Value>,
        chunk_delay: Duration,
        break_after: Option<u32>,
    },
}

impl From<Reject> for Outcome {
    fn from((status, body): Reject) -> Self {
        Outcome::Json(status, body)
    }
}

struct Plan {
    delay: Duration,
    headers: Vec<(String, String)>,
    outcome: Outcome,
}

async fn handle(
    state: Arc<State>,
    abort: Arc<Notify>,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, Infallible> {
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            // The client broke off or sent too much: nothing sensible to answer.
            abort.notify_one();
            return std::future::pending().await;
        }
    };
    let parsed = parse_body(&bytes);
    state.record(|| record(&parts, &bytes, &parsed));

    let plan = decide(&state, &parts.method, parts.uri.path(), parsed);
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    let response = match plan.outcome {
        Outcome::Disconnect => {
            abort.notify_one();
            return std::future::pending().await;
        }
        Outcome::Json(status, value) => full(status, "application/json", value.to_string().into()),
        Outcome::Text(status, text) => full(status, "text/plain; charset=utf-8", text.into()),
        Outcome::Stream {
            status,
            events,
            chunk_delay,
            break_after,
        } => stream(status, events, chunk_delay, break_after),
    };
    Ok(with_headers(response, &plan.headers))
}

/// The body as JSON; `Err` when empty or not JSON.
fn parse_body(bytes: &Bytes) -> Result<Value, ()> {
    if bytes.is_empty() {
        return Err(());
    }
    serde_json::from_slice::<Value>(bytes).map_err(|_| ())
}

fn record(parts: &Parts, bytes: &Bytes, parsed: &Result<Value, ()>) -> RecordedRequest {
    let body = match parsed {
        Ok(v) => v.clone(),
        Err(()) if bytes.is_empty() => Value::Null,
        Err(()) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
    };
    RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    }
}

/// Script first, then the model name, then the server defaults.
fn decide(state: &State, method: &Method, path: &str, parsed: Result<Value, ()>) -> Plan {
    let script = state.next_script();
    let model = parsed
        .as_ref()
        .ok()
        .and_then(|v| v.get("model"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let directives = Directives::parse(model);
    let fallback_delay = directives
        .slow_ms
        .map(Duration::from_millis)
        .unwrap_or_else(|| state.latency());

    let Some(script) = script else {
        return Plan {
            delay: fallback_delay,
            headers: Vec::new(),
            outcome: route(state, method, path, parsed, &directives, None),
        };
    };
    let delay = if script.delay.is_zero() {
        fallback_delay
    } else {
        script.delay
    };
    let outcome = if script.disconnect {
        Outcome::Disconnect
    } else if let Some(body) = &script.body {
        match body {
            Value::String(text) => Outcome::Text(script.status, text.clone()),
            other => Outcome::Json(script.status, other.clone()),
        }
    } else if script.status >= 400 {
        let message = script
            .error_message
            .clone()
            .unwrap_or_else(|| format!("Mock error {}", script.status));
        Outcome::Json(script.status, openai::status_error(script.status, &message))
    } else {
        route(state, method, path, parsed, &directives, Some(&script))
    };
    Plan {
        delay,
        headers: script.headers,
        outcome,
    }
}

/// A normal answer for the route. With a script, the model name's error directives are
/// ignored: the script already chose the status.
fn route(
    state: &State,
    method: &Method,
    path: &str,
    parsed: Result<Value, ()>,
    directives: &Directives,
    script: Option<&ScriptedResponse>,
) -> Outcome {
    enum Route {
        Chat,
        Completions,
        Embeddings,
    }
    if *method == Method::GET && path.ends_with("/models") {
        return Outcome::Json(200, openai::models());
    }
    let route = if *method != Method::POST {
        None
    } else if path.ends_with("/chat/completions") {
        Some(Route::Chat)
    } else if path.ends_with("/completions") {
        Some(Route::Completions)
    } else if path.ends_with("/embeddings") {
        Some(Route::Embeddings)
    } else {
        None
    };
    let Some(route) = route else {
        return openai::invalid_url(method.as_str(), path).into();
    };
    let req: Map<String, Value> = match parsed {
        Ok(Value::Object(map)) => map,
        _ => return openai::invalid_json().into(),
    };
    if script.is_none() {
        if let Some(error) = directives.error() {
            return error.into();
        }
    }
    let status = script.map_or(200, |s| s.status);
    let chunk_delay = script.map_or(Duration::ZERO, |s| s.chunk_delay);
    let break_after = script.and_then(|s| s.break_after);
    let src = ReplySource {
        text_override: script.and_then(|s| s.text.clone()),
        default_text: state.default_text(),
        directives,
        stream_chunks: script.and_then(|s| s.stream_chunks),
    };
    let result = match route {
        Route::Chat => openai::chat(&req, state.next_id(), &src).map(|answer| {
            if answer.stream {
                Outcome::Stream {
                    status,
                    events: answer.chunks(),
                    chunk_delay,
                    break_after,
                }
            } else {
                Outcome::Json(status, answer.completion())
            }
        }),
        Route::Completions => {
            openai::text_completion(&req, state.next_id(), &src).map(|(stream, mut events)| {
                if stream {
                    Outcome::Stream {
                        status,
                        events,
                        chunk_delay,
                        break_after,
                    }
                } else {
                    Outcome::Json(status, events.pop().unwrap_or(Value::Null))
                }
            })
        }
        Route::Embeddings => openai::embeddings(&req).map(|body| Outcome::Json(status, body)),
    };
    result.unwrap_or_else(Outcome::from)
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn full(status: u16, content_type: &'static str, body: Bytes) -> Response<MockBody> {
    let mut response = Response::new(MockBody::Full(Some(body)));
    *response.status_mut() = status_code(status);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn stream(
    status: u16,
    events: Vec<Value>,
    chunk_delay: Duration,
    break_after: Option<u32>,
) -> Response<MockBody> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let limit = break_after.map_or(usize::MAX, |n| n as usize);
        for (i, event) in events.iter().enumerate() {
            if i >= limit {
                break;
            }
            if i > 0 && !chunk_delay.is_zero() {
                tokio::time::sleep(chunk_delay).await;
            }
            let frame = Bytes::from(format!("data: {event}\n\n"));
            if tx.send(StreamEvent::Data(frame)).await.is_err() {
                return; // the client went away
            }
        }
        let last = if break_after.is_some() {
            StreamEvent::Break
        } else {
            StreamEvent::Data(Bytes::from_static(b"data: [DONE]\n\n"))
        };
        let _ = tx.send(last).await;
    });
    let mut response = Response::new(MockBody::Stream {
        rx,
        breaking: false,
    });
    *response.status_mut() = status_code(status);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(
        hyper::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    response
}

/// Adds a script's headers, replacing defaults of the same name (so a script can set its
/// own `content-type`); ones that are not valid HTTP are skipped rather than failing.
fn with_headers(
    mut response: Response<MockBody>,
    extra: &[(String, String)],
) -> Response<MockBody> {
    for (name, value) in extra {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
