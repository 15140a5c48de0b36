//! An in-process mock of the OpenAI HTTP API, behind `rustllm.testing.MockServer`.
//!
//! The server binds `127.0.0.1:0` (loopback only: a test double must never be reachable
//! from elsewhere), speaks HTTP/1.1 with keep-alive on the shared runtime and records
//! every request it receives. What it answers is decided, for each request, by:
//!
//! 1. the scripted FIFO queue ([`MockServer::push`]): a script decides the outcome (status,
//!    body, error, disconnect, delay, stream shape); what it leaves unset still follows
//!    the model name, except the model name's error directives;
//! 2. directives in the model name (see [`openai::Directives`]): `echo`, `error-429`,
//!    `context-window-error`, `content-policy-error`, `slow-250`, `tool`, `chunks-5`;
//! 3. the server defaults: reply text ([`MockServer::set_default_text`]) and latency
//!    ([`MockServer::set_latency`]).
//!
//! Besides OpenAI's routes it speaks each native provider's (Anthropic, Gemini, Cohere,
//! Ollama, Bedrock, SageMaker, Hugging Face feature extraction, Replicate's predictions), told by the path.

mod anthropic;
mod audio;
mod bedrock;
mod cohere;
mod files;
mod gemini;
mod huggingface;
mod images;
mod multipart;
mod ollama;
mod openai;
mod replicate;
mod rerank;
mod responses;
mod sagemaker;
mod server;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

pub use openai::{Directives, DEFAULT_TEXT};

/// The parts of a multipart body `(name, filename, content type, bytes)`, for tests of
/// what the call path sends.
#[cfg(test)]
pub(crate) async fn multipart_fields(bytes: &[u8], boundary: &str) -> Vec<multipart::Field> {
    multipart::fields(bytes::Bytes::copy_from_slice(bytes), boundary)
        .await
        .unwrap_or_default()
}

/// One request as the server received it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path without the query string, e.g. `/v1/chat/completions`.
    pub path: String,
    /// The raw query string without `?`; empty when there was none.
    pub query: String,
    /// Header names lower-cased, in the order received; repeated headers appear repeatedly.
    pub headers: Vec<(String, String)>,
    /// The JSON body; `Value::String` of the raw text when it was not JSON; `Null` when empty.
    pub body: Value,
}

impl RecordedRequest {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A scripted answer for the next request(s), served in FIFO order before anything else.
///
/// Fields left at their defaults leave the decision to the model name and the server
/// defaults, so `ScriptedResponse { delay, ..Default::default() }` only slows a request.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptedResponse {
    /// HTTP status (default 200). With no `body`, a status >= 400 builds an OpenAI error body.
    pub status: u16,
    /// Sent verbatim: a JSON value, or raw text (`text/plain`) when it is a `Value::String`.
    pub body: Option<Value>,
    /// The reply content of a normal completion.
    pub text: Option<String>,
    /// Extra response headers, e.g. `("retry-after", "1")`.
    pub headers: Vec<(String, String)>,
    /// Wait this long before answering; zero falls back to `slow-<ms>` or the server latency.
    pub delay: Duration,
    /// The error message when `status >= 400` (default `Mock error <status>`).
    pub error_message: Option<String>,
    /// Close the connection without answering (after `delay`): a connection error.
    pub disconnect: bool,
    /// How many requests this script serves (default 1); 0 serves every request until cleared.
    pub times: u32,
    /// Split a streamed reply into this many content chunks (default: one per word).
    pub stream_chunks: Option<u32>,
    /// Pause between streamed chunks.
    pub chunk_delay: Duration,
    /// Send this many stream events (the first, role-only chunk counts), then drop the
    /// connection without `[DONE]`.
    pub break_after: Option<u32>,
}

impl Default for ScriptedResponse {
    fn default() -> Self {
        ScriptedResponse {
            status: 200,
            body: None,
            text: None,
            headers: Vec::new(),
            delay: Duration::ZERO,
            error_message: None,
            disconnect: false,
            times: 1,
            stream_chunks: None,
            chunk_delay: Duration::ZERO,
            break_after: None,
        }
    }
}

impl ScriptedResponse {
    /// A normal completion whose reply is `text`.
    pub fn text(text: impl Into<String>) -> Self {
        ScriptedResponse {
            text: Some(text.into()),
            ..Default::default()
        }
    }

    /// An OpenAI-style error with this status and message.
    pub fn error(status: u16, message: impl Into<String>) -> Self {
        ScriptedResponse {
            status,
            error_message: Some(message.into()),
            ..Default::default()
        }
    }
}

/// What the running server shares with its connection tasks.
pub(crate) struct State {
    requests: Mutex<Vec<RecordedRequest>>,
    /// Off for long benchmarks, where keeping every request would grow memory.
    recording: AtomicBool,
    /// Requests received since the last `clear`, recorded or not.
    received: AtomicU64,
    scripts: Mutex<VecDeque<ScriptedResponse>>,
    default_text: RwLock<String>,
    latency_us: AtomicU64,
    counter: AtomicU64,
    /// The Responses given, for `GET`/`DELETE /v1/responses/{id}`.
    responses: Mutex<responses::Given>,
    /// The Files and Batches APIs' objects.
    files: Mutex<files::Store>,
}

/// A poisoned lock only means another thread panicked mid-update of a plain list; the
/// data is still usable, and a test double must not turn that into a second failure.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl State {
    fn new() -> Self {
        State {
            requests: Mutex::new(Vec::new()),
            recording: AtomicBool::new(true),
            received: AtomicU64::new(0),
            scripts: Mutex::new(VecDeque::new()),
            default_text: RwLock::new(DEFAULT_TEXT.to_string()),
            latency_us: AtomicU64::new(0),
            counter: AtomicU64::new(0),
            responses: Mutex::default(),
            files: Mutex::default(),
        }
    }

    pub(crate) fn is_recording(&self) -> bool {
        self.recording.load(Ordering::Relaxed)
    }

    /// Counts a request, and keeps it when recording (`make` is not called otherwise).
    pub(crate) fn record(&self, make: impl FnOnce() -> RecordedRequest) {
        self.received.fetch_add(1, Ordering::Relaxed);
        if self.is_recording() {
            let r = make();
            lock(&self.requests).push(r);
        }
    }

    /// Takes the script for this request, keeping it queued while it has uses left.
    pub(crate) fn next_script(&self) -> Option<ScriptedResponse> {
        let mut scripts = lock(&self.scripts);
        let front = scripts.front_mut()?;
        match front.times {
            0 => Some(front.clone()),
            1 => scripts.pop_front(),
            _ => {
                front.times -= 1;
                Some(front.clone())
            }
        }
    }

    pub(crate) fn default_text(&self) -> String {
        self.default_text
            .read()
            .map(|t| t.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_micros(self.latency_us.load(Ordering::Relaxed))
    }

    /// A per-server sequence number for response ids (`chatcmpl-mock-<n>`).
    pub(crate) fn next_id(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// The listening half: dropping `shutdown` stops the accept loop and every connection.
struct Running {
    shutdown: watch::Sender<()>,
    /// Disconnects when the accept loop has exited and released the port.
    stopped: mpsc::Receiver<()>,
}

/// The mock OpenAI server. Stops on drop.
pub struct MockServer {
    state: Arc<State>,
    running: Mutex<Option<Running>>,
    port: AtomicU16,
}

impl Default for MockServer {
    fn default() -> Self {
        Self::new()
    }
}

impl MockServer {
    /// A server that is configured but not yet listening; see [`MockServer::listen`].
    /// (Python creates the object first and starts it in `start()` or `__enter__`.)
    pub fn new() -> Self {
        MockServer {
            state: Arc::new(State::new()),
            running: Mutex::new(None),
            port: AtomicU16::new(0),
        }
    }

    /// Binds a fresh loopback port and serves on the shared runtime.
    pub fn start() -> std::io::Result<MockServer> {
        let server = MockServer::new();
        server.listen()?;
        Ok(server)
    }

    /// Starts listening if not already; returns the port. After [`MockServer::stop`] this
    /// binds a new port; recorded requests, scripts and settings are kept.
    pub fn listen(&self) -> std::io::Result<u16> {
        let mut running = lock(&self.running);
        if running.is_some() {
            return Ok(self.port());
        }
        let std_listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        std_listener.set_nonblocking(true)?;
        let port = std_listener.local_addr()?.port();
        let rt = crate::transport::runtime();
        let listener = {
            let _entered = rt.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let (shutdown, shutdown_rx) = watch::channel(());
        let (stopped_tx, stopped) = mpsc::channel();
        rt.spawn(server::accept_loop(
            listener,
            Arc::clone(&self.state),
            shutdown_rx,
            stopped_tx,
        ));
        self.port.store(port, Ordering::Relaxed);
        *running = Some(Running { shutdown, stopped });
        Ok(port)
    }

    /// Whether the server is listening.
    pub fn is_running(&self) -> bool {
        lock(&self.running).is_some()
    }

    /// The port it listens on (or last listened on; 0 if never started).
    pub fn port(&self) -> u16 {
        self.port.load(Ordering::Relaxed)
    }

    /// `http://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// `http://127.0.0.1:{port}/v1`: what clients take as `api_base`.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.url())
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// How many requests were received since the last [`MockServer::clear`], recorded
    /// or not.
    pub fn request_count(&self) -> u64 {
        self.state.received.load(Ordering::Relaxed)
    }

    /// Whether requests are kept for [`MockServer::requests`] (default true). Turn it off
    /// for long benchmarks: every kept request holds its body in memory.
    pub fn set_recording(&self, on: bool) {
        self.state.recording.store(on, Ordering::Relaxed);
    }

    /// Whether requests are being kept.
    pub fn is_recording(&self) -> bool {
        self.state.is_recording()
    }

    /// The most recent request.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        lock(&self.state.requests).last().cloned()
    }

    /// Forgets recorded requests and pending scripts (settings are kept).
    pub fn clear(&self) {
        lock(&self.state.requests).clear();
        self.state.received.store(0, Ordering::Relaxed);
        lock(&self.state.scripts).clear();
    }

    /// Queues a scripted response: the next request not served by an earlier script gets it.
    pub fn push(&self, script: ScriptedResponse) {
        lock(&self.state.scripts).push_back(script);
    }

    /// How many scripts are still queued.
    pub fn pending_scripts(&self) -> usize {
        lock(&self.state.scripts).len()
    }

    /// The reply text when neither a script nor `echo` decides it.
    pub fn set_default_text(&self, text: impl Into<String>) {
        let text = text.into();
        match self.state.default_text.write() {
            Ok(mut t) => *t = text,
            Err(e) => *e.into_inner() = text,
        }
    }

    /// The current default reply text.
    pub fn default_text(&self) -> String {
        self.state.default_text()
    }

    /// A delay before every answer that no script or `slow-<ms>` model overrides.
    pub fn set_latency(&self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.state.latency_us.store(us, Ordering::Relaxed);
    }

    /// The current default latency.
    pub fn latency(&self) -> Duration {
        self.state.latency()
    }

    /// Stops listening and closes open connections. Idempotent; also runs on drop.
    ///
    /// Outside a runtime it waits (up to 2 s) until the port is released, so a client
    /// connecting afterwards is refused; inside one it cannot block, and returns at once.
    pub fn stop(&self) {
        let Some(Running { shutdown, stopped }) = lock(&self.running).take() else {
            return;
        };
        drop(shutdown);
        if tokio::runtime::Handle::try_current().is_err() {
            let _ = stopped.recv_timeout(Duration::from_secs(2));
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop();
    }
}
