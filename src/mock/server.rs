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
use super::{
    anthropic, bedrock, cohere, gemini, huggingface, ollama, replicate, responses, sagemaker,
};
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
    /// A binary body of the given media type (speech audio).
    Binary(u16, &'static str, Vec<u8>),
    /// SSE events (each a JSON value), then `[DONE]` unless broken off.
    Stream {
        status: u16,
        events: Vec<Value>,
        chunk_delay: Duration,
        break_after: Option<u32>,
        style: StreamStyle,
    },
}

/// How stream events are framed on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StreamStyle {
    /// `data: {json}` events, then `data: [DONE]` (OpenAI).
    OpenAiSse,
    /// `data: {json}` events, no terminator (Gemini).
    Sse,
    /// One JSON object per line (Ollama).
    Ndjson,
    /// `event: {type}` + `data: {json}` events named by their data's `type`, no
    /// terminator (Anthropic, Cohere).
    NamedSse,
    /// AWS event-stream frames, one per `{"<eventType>": payload}` (Bedrock).
    AwsEventStream,
    /// AWS event-stream `PayloadPart` frames, one per string of the container's bytes
    /// (SageMaker).
    AwsPayloadParts,
    /// `event: {event}` + `data: {data}` for `{"event", "data"}` values whose data is
    /// text, no terminator (Replicate's prediction streams).
    TextSse,
}

/// The provider format a request speaks, told by its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialect {
    OpenAi,
    /// `.../models/{m}:generateContent` (AI Studio and Vertex AI).
    Gemini,
    Ollama(ollama::Endpoint),
    /// `/v1/messages`.
    Anthropic,
    /// `/v2/chat`.
    Cohere,
    /// `.../model/{id}/converse` and `/converse-stream`.
    Bedrock,
    /// `.../endpoints/{name}/invocations` and `/invocations-response-stream`.
    Sagemaker,
    /// Replicate's create-a-prediction calls (`.../predictions`).
    Replicate,
    /// An OAuth token endpoint (`/token`, `/token-error-401`): what a Vertex AI service
    /// account's `token_uri` points at in tests. It never takes a script.
    Token,
}

impl Dialect {
    fn of(method: &Method, path: &str) -> Dialect {
        if *method != Method::POST {
            return Dialect::OpenAi;
        }
        if gemini::is_generate_content(path) || gemini::is_predict(path) {
            return Dialect::Gemini;
        }
        if bedrock::is_converse(path) {
            return Dialect::Bedrock;
        }
        if sagemaker::is_invocation(path) {
            return Dialect::Sagemaker;
        }
        if replicate::is_create(path) {
            return Dialect::Replicate;
        }
        if let Some(endpoint) = ollama::Endpoint::of(path) {
            return Dialect::Ollama(endpoint);
        }
        // Vertex AI serves Anthropic's format on `.../models/{m}:rawPredict`, Bedrock on
        // `.../model/{id}/invoke`.
        if path.ends_with("/v1/messages")
            || bedrock::is_invoke(path)
            || path.ends_with(":rawPredict")
            || path.ends_with(":streamRawPredict")
        {
            return Dialect::Anthropic;
        }
        if path.ends_with("/v2/chat") {
            return Dialect::Cohere;
        }
        if path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.starts_with("token"))
        {
            return Dialect::Token;
        }
        Dialect::OpenAi
    }

    /// An error body in this format.
    fn error_body(self, status: u16, message: &str) -> Value {
        match self {
            Dialect::OpenAi => openai::status_error(status, message),
            Dialect::Gemini => gemini::error_body(status, message),
            Dialect::Ollama(_) => ollama::error_body(message),
            Dialect::Anthropic => anthropic::error_body(status, message),
            Dialect::Cohere => cohere::error_body(message),
            Dialect::Bedrock | Dialect::Sagemaker => bedrock::error_body(message),
            Dialect::Replicate => replicate::error_body(status, message),
            Dialect::Token => gemini::token_error(message),
        }
    }

    /// An OpenAI-shaped rejection in this format.
    fn translate(self, reject: Reject) -> Reject {
        match self {
            Dialect::OpenAi | Dialect::Token => reject,
            Dialect::Gemini => gemini::translate_error(reject),
            Dialect::Ollama(_) => ollama::translate_error(reject),
            Dialect::Anthropic => anthropic::reject(reject),
            Dialect::Cohere => cohere::reject(reject),
            Dialect::Bedrock | Dialect::Sagemaker => bedrock::reject(reject),
            Dialect::Replicate => replicate::reject(reject),
        }
    }
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
    // A multipart body (an upload) is read into its fields, files described by their
    // name, size and digest, and then answered and recorded as a JSON body would be.
    let boundary = parts
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(super::multipart::boundary_of);
    let parsed = match boundary {
        Some(b) => super::multipart::fields(bytes.clone(), &b)
            .await
            .map(|f| super::multipart::record(&f))
            .ok_or(()),
        None => parse_body(&bytes),
    };
    state.record(|| record(&parts, &bytes, &parsed));

    let mut plan = decide(&state, &parts.method, parts.uri.path(), parsed);
    // A prediction names its URLs on this server.
    if let Outcome::Json(_, body) = &mut plan.outcome {
        if let Some(host) = parts.headers.get("host").and_then(|h| h.to_str().ok()) {
            replicate::absolute_urls(body, &format!("http://{host}"));
        }
    }
    // Bedrock and SageMaker name their error in a header.
    if let (Dialect::Bedrock | Dialect::Sagemaker, Outcome::Json(status @ 400.., _)) =
        (Dialect::of(&parts.method, parts.uri.path()), &plan.outcome)
    {
        if !plan
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("x-amzn-errortype"))
        {
            let kind = bedrock::error_type(*status);
            plan.headers.push((
                "x-amzn-errortype".into(),
                format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
            ));
        }
    }
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
        Outcome::Binary(status, media_type, bytes) => full(status, media_type, bytes.into()),
        Outcome::Stream {
            status,
            events,
            chunk_delay,
            break_after,
            style,
        } => stream(status, events, chunk_delay, break_after, style),
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
    let dialect = Dialect::of(method, path);
    if dialect == Dialect::Token {
        return Plan {
            delay: Duration::ZERO,
            headers: Vec::new(),
            outcome: token(state, path),
        };
    }
    let script = state.next_script();
    let path_model = match dialect {
        Dialect::Gemini | Dialect::Anthropic => gemini::model_from_path(path),
        Dialect::Bedrock => bedrock::model_from_path(path),
        Dialect::Sagemaker => sagemaker::endpoint_from_path(path),
        Dialect::Replicate => replicate::model_from_path(path),
        _ => None,
    };
    let model = path_model.as_deref().unwrap_or_else(|| {
        parsed
            .as_ref()
            .ok()
            .and_then(|v| v.get("model"))
            .and_then(Value::as_str)
            .unwrap_or_default()
    });
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
        Outcome::Json(script.status, dialect.error_body(script.status, &message))
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
        Rerank,
        Moderations,
        Responses,
        Images,
        Speech,
        FeatureExtraction,
        Transcription,
        ImageEdit,
    }
    if *method == Method::GET && path.ends_with("/models") {
        return Outcome::Json(200, openai::models());
    }
    if super::files::is_files_path(path) {
        let mut store = super::lock(&state.files);
        return match super::files::handle(&mut store, method.as_str(), path, &parsed) {
            Ok((_, Some(bytes))) => Outcome::Binary(200, "application/octet-stream", bytes),
            Ok((json, None)) => Outcome::Json(200, json),
            Err(reject) => reject.into(),
        };
    }
    if let Some(id) = responses::id_in_path(path) {
        if *method == Method::GET || *method == Method::DELETE {
            return responses::by_id(&state.responses, *method == Method::DELETE, id).into();
        }
    }
    if *method == Method::GET {
        if let Some(reply) = replicate::poll(path) {
            return reply.into();
        }
        if let Some(events) = replicate::stream_events(path) {
            return match events {
                Ok(events) => Outcome::Stream {
                    status: script.map_or(200, |s| s.status),
                    events,
                    chunk_delay: script.map_or(Duration::ZERO, |s| s.chunk_delay),
                    break_after: script.and_then(|s| s.break_after),
                    style: StreamStyle::TextSse,
                },
                Err(reject) => reject.into(),
            };
        }
    }
    let dialect = Dialect::of(method, path);
    if dialect != Dialect::OpenAi {
        return native_route(state, dialect, path, parsed, directives, script);
    }
    let route = if *method != Method::POST {
        None
    } else if path.ends_with("/chat/completions") {
        Some(Route::Chat)
    } else if path.ends_with("/completions") {
        Some(Route::Completions)
    } else if path.ends_with("/embeddings") {
        Some(Route::Embeddings)
    } else if path.ends_with("/rerank") {
        Some(Route::Rerank)
    } else if path.ends_with("/moderations") {
        Some(Route::Moderations)
    } else if path.ends_with("/responses") {
        Some(Route::Responses)
    } else if path.ends_with("/images/generations") {
        Some(Route::Images)
    } else if path.ends_with("/audio/speech") {
        Some(Route::Speech)
    } else if huggingface::is_feature_extraction(path) {
        Some(Route::FeatureExtraction)
    } else if path.ends_with("/audio/transcriptions") {
        Some(Route::Transcription)
    } else if path.ends_with("/images/edits") {
        Some(Route::ImageEdit)
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
                    style: StreamStyle::OpenAiSse,
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
                        style: StreamStyle::OpenAiSse,
                    }
                } else {
                    Outcome::Json(status, events.pop().unwrap_or(Value::Null))
                }
            })
        }
        Route::Embeddings => openai::embeddings(&req).map(|body| Outcome::Json(status, body)),
        Route::Rerank => super::rerank::rerank(path, &req, state.next_id())
            .map(|body| Outcome::Json(status, body)),
        Route::Moderations => {
            super::rerank::moderation(&req, state.next_id()).map(|body| Outcome::Json(status, body))
        }
        Route::Responses => responses::to_chat(&req).and_then(|(chat, bridge)| {
            let answer = openai::chat(&chat, state.next_id(), &src)?;
            Ok(if answer.stream {
                Outcome::Stream {
                    status,
                    events: responses::events(&state.responses, bridge, &answer),
                    chunk_delay,
                    break_after,
                    style: StreamStyle::NamedSse,
                }
            } else {
                Outcome::Json(status, responses::reply(&state.responses, &bridge, &answer))
            })
        }),
        Route::Images => {
            super::images::generation(&req, state.next_id(), super::openai::now_secs())
                .map(|body| Outcome::Json(status, body))
        }
        Route::FeatureExtraction => {
            huggingface::feature_extraction(path, &req).map(|body| Outcome::Json(status, body))
        }
        Route::Speech => super::audio::speech(&req)
            .map(|(media_type, audio)| Outcome::Binary(status, media_type, audio)),
        Route::ImageEdit => super::images::edit(&req, state.next_id(), super::openai::now_secs())
            .map(|body| Outcome::Json(status, body)),
        Route::Transcription => super::audio::transcription(&req).map(|answer| match answer {
            Ok(json) => Outcome::Json(status, json),
            Err(text) => Outcome::Text(status, text),
        }),
    };
    result.unwrap_or_else(Outcome::from)
}

/// A Gemini or Ollama request: read into the OpenAI request the mock answers, decided
/// the same way (directives, scripts, defaults), written back in the provider's format.
fn native_route(
    state: &State,
    dialect: Dialect,
    path: &str,
    parsed: Result<Value, ()>,
    directives: &Directives,
    script: Option<&ScriptedResponse>,
) -> Outcome {
    let mut req: Map<String, Value> = match parsed {
        Ok(Value::Object(map)) => map,
        _ => return dialect.translate(openai::invalid_json()).into(),
    };
    // Vertex AI's Anthropic body has no `model`: it is in the URL.
    if let (Dialect::Anthropic, Some(model)) = (dialect, gemini::model_from_path(path)) {
        req.entry("model").or_insert(Value::String(model));
    }
    // Nor has Bedrock's, which asks for a stream by its path.
    if dialect == Dialect::Anthropic && bedrock::is_invoke(path) {
        if let Some(model) = bedrock::model_from_path(path) {
            req.entry("model").or_insert(Value::String(model));
        }
        if bedrock::is_stream(path) {
            req.insert("stream".into(), Value::Bool(true));
        }
    }
    // Anthropic reports prompt-cache reads; the mock counts the words marked cache_control.
    let cached = match dialect {
        Dialect::Anthropic => anthropic::cached_words(&req),
        _ => 0,
    };
    if dialect == Dialect::Gemini && gemini::is_predict(path) {
        return imagen(state, path, &req, directives, script);
    }
    let mut tgi = false;
    let req_streams = req.get("stream") == Some(&Value::Bool(true));
    let translated = match dialect {
        Dialect::Sagemaker => match sagemaker::to_openai(path, &req) {
            Ok(sagemaker::Body::Chat { req, tgi: is_tgi }) => {
                tgi = is_tgi;
                Ok(req)
            }
            Ok(sagemaker::Body::Embedding(req)) => {
                if script.is_none() {
                    if let Some(error) = directives.error() {
                        return dialect.translate(error).into();
                    }
                }
                let status = script.map_or(200, |s| s.status);
                return match openai::embeddings(&req) {
                    Ok(body) => Outcome::Json(status, sagemaker::embedding_reply(&body)),
                    Err(reject) => dialect.translate(reject).into(),
                };
            }
            Err(reject) => Err(reject),
        },
        Dialect::Gemini => gemini::to_openai(path, &req),
        Dialect::Ollama(endpoint) => ollama::to_openai(endpoint, &req),
        Dialect::Anthropic => anthropic::to_openai(&req),
        Dialect::Cohere => cohere::to_openai(&req),
        Dialect::Bedrock => bedrock::to_openai(path, &req),
        Dialect::Replicate => replicate::to_openai(path, &req),
        Dialect::OpenAi | Dialect::Token => Ok(req),
    };
    let openai_req = match translated {
        Ok(r) => r,
        Err(reject) => return reject.into(),
    };
    if script.is_none() {
        // Google blocks an unsafe prompt with a 200 and no candidates.
        if dialect == Dialect::Gemini && directives.content_policy_error {
            let body = gemini::blocked_prompt();
            return if gemini::is_stream(path) {
                Outcome::Stream {
                    status: 200,
                    events: vec![body],
                    chunk_delay: Duration::ZERO,
                    break_after: None,
                    style: StreamStyle::Sse,
                }
            } else {
                Outcome::Json(200, body)
            };
        }
        if let Some(error) = directives.error() {
            return dialect.translate(error).into();
        }
    }
    let src = ReplySource {
        text_override: script.and_then(|s| s.text.clone()),
        default_text: state.default_text(),
        directives,
        stream_chunks: script.and_then(|s| s.stream_chunks),
    };
    let answer = match openai::chat(&openai_req, state.next_id(), &src) {
        Ok(a) => a,
        Err(reject) => return dialect.translate(reject).into(),
    };
    let status = script.map_or(200, |s| s.status);
    let (events, style) = match (dialect, answer.stream) {
        (Dialect::Gemini, false) => return Outcome::Json(status, gemini::reply(&answer)),
        (Dialect::Gemini, true) => (gemini::stream_events(&answer), StreamStyle::Sse),
        (Dialect::Ollama(e), false) => return Outcome::Json(status, ollama::reply(e, &answer)),
        (Dialect::Ollama(e), true) => (ollama::stream_lines(e, &answer), StreamStyle::Ndjson),
        (Dialect::Anthropic, false) => {
            return Outcome::Json(status, anthropic::message(&answer.completion(), cached))
        }
        (Dialect::Anthropic, true) if bedrock::is_invoke(path) => (
            bedrock::invoke_chunks(anthropic::events(
                &answer.chunks(),
                &answer.completion(),
                cached,
            )),
            StreamStyle::AwsEventStream,
        ),
        (Dialect::Anthropic, true) => (
            anthropic::events(&answer.chunks(), &answer.completion(), cached),
            StreamStyle::NamedSse,
        ),
        (Dialect::Cohere, false) => {
            return Outcome::Json(status, cohere::reply(&answer.completion()))
        }
        (Dialect::Cohere, true) => (
            cohere::events(&answer.chunks(), &answer.completion()),
            StreamStyle::NamedSse,
        ),
        (Dialect::Bedrock, false) => {
            return Outcome::Json(status, bedrock::reply(&answer.completion()))
        }
        (Dialect::Bedrock, true) => (
            bedrock::events(&answer.chunks(), &answer.completion()),
            StreamStyle::AwsEventStream,
        ),
        (Dialect::Sagemaker, false) if tgi => {
            return Outcome::Json(status, sagemaker::tgi_reply(&answer.completion()))
        }
        (Dialect::Sagemaker, true) if tgi => (
            sagemaker::tgi_parts(&answer.chunks(), &answer.completion()),
            StreamStyle::AwsPayloadParts,
        ),
        (Dialect::Sagemaker, true) => (
            sagemaker::openai_parts(&answer.chunks()),
            StreamStyle::AwsPayloadParts,
        ),
        (Dialect::Replicate, _) => {
            let completion = answer.completion();
            let text = completion
                .pointer("/choices/0/message/content")
                .and_then(Value::as_str)
                .unwrap_or("");
            let stream = req_streams;
            return Outcome::Json(
                script.map_or(201, |s| s.status),
                replicate::created(text, stream),
            );
        }
        (Dialect::OpenAi | Dialect::Token | Dialect::Sagemaker, _) => {
            return Outcome::Json(status, answer.completion())
        }
    };
    Outcome::Stream {
        status,
        events,
        chunk_delay: script.map_or(Duration::ZERO, |s| s.chunk_delay),
        break_after: script.and_then(|s| s.break_after),
        style,
    }
}

/// Imagen's `predict` (AI Studio and Vertex AI): answered as an OpenAI images request
/// in base64, written back as `predictions`; errors in Google's shape.
fn imagen(
    state: &State,
    path: &str,
    req: &Map<String, Value>,
    directives: &Directives,
    script: Option<&ScriptedResponse>,
) -> Outcome {
    if script.is_none() {
        if let Some(error) = directives.error() {
            return Dialect::Gemini.translate(error).into();
        }
    }
    let answer = gemini::imagen_to_openai(path, req)
        .and_then(|r| super::images::generation(&r, state.next_id(), super::openai::now_secs()));
    match answer {
        Ok(images) => Outcome::Json(
            script.map_or(200, |s| s.status),
            gemini::imagen_reply(&images),
        ),
        Err(reject) => Dialect::Gemini.translate(reject).into(),
    }
}

/// The OAuth token endpoint: a fresh token, or the error a `error-<status>` in the path
/// asks for.
fn token(state: &State, path: &str) -> Outcome {
    match Directives::parse(path).error_status {
        Some(status) => Outcome::Json(
            status,
            gemini::token_error(&format!("Mock token error {status}")),
        ),
        None => Outcome::Json(200, gemini::token(state.next_id())),
    }
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
    style: StreamStyle,
) -> Response<MockBody> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let limit = break_after.map_or(usize::MAX, |n| n as usize);
        let mut pending: Vec<u8> = Vec::new();
        for (i, event) in events.iter().enumerate() {
            if i >= limit {
                break;
            }
            if i > 0 && !chunk_delay.is_zero() {
                tokio::time::sleep(chunk_delay).await;
            }
            let frame = match style {
                StreamStyle::Ndjson => Bytes::from(format!("{event}\n")),
                StreamStyle::AwsEventStream => Bytes::from(bedrock::frame(event)),
                StreamStyle::AwsPayloadParts => Bytes::from(sagemaker::frame(event)),
                StreamStyle::TextSse => Bytes::from(replicate::sse(event)),
                StreamStyle::NamedSse => {
                    let name = event
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("message");
                    Bytes::from(format!("event: {name}\ndata: {event}\n\n"))
                }
                StreamStyle::OpenAiSse | StreamStyle::Sse => {
                    Bytes::from(format!("data: {event}\n\n"))
                }
            };
            if !chunk_delay.is_zero() {
                if tx.send(StreamEvent::Data(frame)).await.is_err() {
                    return; // the client went away
                }
                continue;
            }
            // No pacing asked for: write events in batches of about 16 KiB, as a busy
            // server's socket buffer delivers them, so a client is measured by its own
            // cost per chunk rather than by one write per chunk here.
            pending.extend_from_slice(&frame);
            if pending.len() >= 16 * 1024 {
                let batch = Bytes::from(std::mem::take(&mut pending));
                if tx.send(StreamEvent::Data(batch)).await.is_err() {
                    return;
                }
            }
        }
        if !pending.is_empty()
            && tx
                .send(StreamEvent::Data(Bytes::from(pending)))
                .await
                .is_err()
        {
            return;
        }
        let last = if break_after.is_some() {
            StreamEvent::Break
        } else if style == StreamStyle::OpenAiSse {
            StreamEvent::Data(Bytes::from_static(b"data: [DONE]\n\n"))
        } else {
            return;
        };
        let _ = tx.send(last).await;
    });
    let mut response = Response::new(MockBody::Stream {
        rx,
        breaking: false,
    });
    *response.status_mut() = status_code(status);
    let headers = response.headers_mut();
    let content_type = match style {
        StreamStyle::Ndjson => "application/x-ndjson",
        StreamStyle::AwsEventStream | StreamStyle::AwsPayloadParts => {
            "application/vnd.amazon.eventstream"
        }
        StreamStyle::OpenAiSse
        | StreamStyle::Sse
        | StreamStyle::NamedSse
        | StreamStyle::TextSse => "text/event-stream",
    };
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
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
