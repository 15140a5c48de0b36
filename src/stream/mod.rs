//! Streaming: framing, LiteLLM's chunk rules, and the task that feeds a stream object.
//!
//! A background task on the shared runtime reads the provider's bytes, frames them,
//! parses and shapes each chunk, and sends them in batches (everything one read yielded)
//! over a bounded channel. The Python side takes a whole batch per wakeup. Dropping the
//! receiver (the stream object closed or collected) ends the task, which drops the
//! response and so the connection.

pub mod assemble;
pub mod chunk;
pub mod eventstream;
pub mod sse;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::error::LlmError;
use crate::providers::{Decoded, Framing, StreamDecoder};
pub use chunk::{Chunk, DeltaEvent, DeltaKind, SimpleChunk};
use sse::{SseDecoder, SseEvent};

/// LiteLLM's `map_finish_reason`, for every provider's vocabulary.
pub fn map_finish_reason(reason: &str) -> &str {
    match reason {
        "end_turn"
        | "stop_sequence"
        | "STOP"
        | "eos"
        | "eos_token"
        | "FINISH_REASON_UNSPECIFIED" => "stop",
        "max_tokens" | "MAX_TOKENS" => "length",
        "tool_use" => "tool_calls",
        "SAFETY" | "RECITATION" | "content_filtered" | "PROHIBITED_CONTENT" | "SPII"
        | "BLOCKLIST" => "content_filter",
        other => other,
    }
}

/// LiteLLM's per-chunk rules (litellm-behaviour.md §3):
/// the same id on every chunk; the first chunk passed on carries `role="assistant"` and no
/// later one does; chunks with nothing in them are dropped; finish reasons are mapped;
/// `usage` appears only on the chunk that carries it.
#[derive(Debug, Default)]
pub struct ChunkShaper {
    id: Option<Arc<str>>,
    created: Option<Value>,
    sent_first: bool,
    /// A finish reason was seen: the stream ended properly even without `[DONE]`.
    pub finished: bool,
}

fn delta_is_empty(delta: &Map<String, Value>) -> bool {
    delta.iter().all(|(k, v)| match (k.as_str(), v) {
        (_, Value::Null) => true,
        ("role", _) => true,
        ("content", Value::String(s)) => s.is_empty(),
        ("tool_calls", Value::Array(a)) => a.is_empty(),
        _ => false,
    })
}

impl ChunkShaper {
    pub fn new() -> Self {
        ChunkShaper::default()
    }

    /// Shape one parsed chunk; `None` when it carries nothing and is dropped.
    pub fn shape(&mut self, mut chunk: Map<String, Value>) -> Option<Map<String, Value>> {
        // One id and one created for the whole stream.
        match (&self.id, chunk.get("id")) {
            (None, Some(Value::String(id))) if !id.is_empty() => {
                self.id = Some(Arc::from(id.as_str()))
            }
            (Some(id), _) => {
                chunk.insert("id".into(), Value::String(id.to_string()));
            }
            _ => {}
        }
        match &self.created {
            None => self.created = chunk.get("created").cloned(),
            Some(c) => {
                chunk.insert("created".into(), c.clone());
            }
        }
        let has_usage = matches!(chunk.get("usage"), Some(Value::Object(_)));
        if !has_usage {
            chunk.remove("usage");
        }
        let mut carries_something = has_usage;
        if let Some(Value::Array(choices)) = chunk.get_mut("choices") {
            for choice in choices.iter_mut() {
                let Value::Object(choice) = choice else {
                    continue;
                };
                if let Some(Value::String(reason)) = choice.get("finish_reason") {
                    let mapped = map_finish_reason(reason).to_string();
                    choice.insert("finish_reason".into(), Value::String(mapped));
                    self.finished = true;
                    carries_something = true;
                }
                // Legacy text completions (`/completions`) stream `text`, not `delta`.
                if let Some(Value::String(text)) = choice.get("text") {
                    carries_something |= !text.is_empty();
                    continue;
                }
                match choice.get_mut("delta") {
                    Some(Value::Object(delta)) => {
                        if !delta_is_empty(delta) {
                            carries_something = true;
                        }
                    }
                    _ => {
                        choice.insert("delta".into(), Value::Object(Map::new()));
                    }
                }
            }
            if choices.is_empty() && has_usage {
                // LiteLLM 1.75.8 gives the usage chunk one empty choice, so the common
                // `chunk.choices[0].delta.content` loop never hits an IndexError.
                let mut choice = Map::new();
                choice.insert("index".into(), Value::from(0));
                choice.insert("delta".into(), Value::Object(Map::new()));
                choice.insert("finish_reason".into(), Value::Null);
                choices.push(Value::Object(choice));
            }
        }
        if !carries_something {
            return None;
        }
        // Role: forced on the first chunk passed on, stripped from every later one.
        let first = !self.sent_first;
        self.sent_first = true;
        if let Some(Value::Array(choices)) = chunk.get_mut("choices") {
            for choice in choices.iter_mut() {
                if let Some(Value::Object(delta)) = choice.get_mut("delta") {
                    if first {
                        delta.insert("role".into(), Value::String("assistant".into()));
                    } else {
                        delta.remove("role");
                    }
                }
            }
        }
        Some(chunk)
    }

    /// [`ChunkShaper::shape`] for a typed chunk, by the same rules; a chunk that cannot
    /// stay typed (the stream's `created` is not an integer) is shaped as a map.
    pub fn shape_simple(&mut self, mut chunk: SimpleChunk) -> Option<Chunk> {
        match &self.id {
            None if !chunk.id.is_empty() => self.id = Some(chunk.id.clone()),
            Some(id) => chunk.id = id.clone(),
            None => {}
        }
        match &self.created {
            None => self.created = Some(Value::from(chunk.created)),
            Some(c) => match c.as_i64() {
                Some(c) => chunk.created = c,
                None => {
                    let mut m = chunk.to_map();
                    m.insert("created".into(), c.clone());
                    return self.shape(m).map(Chunk::Full);
                }
            },
        }
        if chunk.finish_reason.is_some() {
            self.finished = true;
        }
        if chunk.is_empty() {
            return None;
        }
        chunk.role = !self.sent_first;
        self.sent_first = true;
        Some(Chunk::Simple(chunk))
    }
}

/// What the stream task sends: a batch of shaped chunks, or the error that ended it.
pub type Batch = Result<Vec<Chunk>, LlmError>;

/// Who and what, for error messages raised mid-stream.
#[derive(Debug, Clone)]
pub struct StreamContext {
    pub provider: String,
    pub model: String,
    /// Bound on the wait for the first chunk and for each gap after it.
    pub idle_timeout: Duration,
    pub framing: Framing,
    /// Redacted from the bytes an error quotes.
    pub api_key: Option<String>,
    /// Set when the request was logged (`LiteLLM` at DEBUG): each read's events are too.
    pub log: Option<Arc<crate::logging::HttpLog>>,
}

/// How much of the body's start is kept, to quote when it held no events at all.
const HEAD_BYTES: usize = 1024;

/// Splits the body into events: SSE events, or NDJSON lines as events.
enum Framer {
    Sse(SseDecoder),
    Ndjson(Vec<u8>),
    AwsEventStream(eventstream::EventStreamDecoder),
}

impl Framer {
    fn new(framing: Framing) -> Self {
        match framing {
            Framing::Sse => Framer::Sse(SseDecoder::new()),
            Framing::Ndjson => Framer::Ndjson(Vec::new()),
            Framing::AwsEventStream => {
                Framer::AwsEventStream(eventstream::EventStreamDecoder::new())
            }
        }
    }

    fn push(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) {
        match self {
            Framer::Sse(d) => d.push(bytes, out),
            Framer::AwsEventStream(d) => d.push(bytes, out),
            Framer::Ndjson(buf) => {
                buf.extend_from_slice(bytes);
                while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=pos).collect();
                    let text = String::from_utf8_lossy(&line).trim().to_string();
                    if !text.is_empty() {
                        out.push(SseEvent {
                            event: None,
                            data: text,
                        });
                    }
                }
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<SseEvent>) {
        match self {
            Framer::Sse(d) => d.finish(out),
            Framer::AwsEventStream(d) => d.finish(out),
            Framer::Ndjson(buf) => {
                let text = String::from_utf8_lossy(buf).trim().to_string();
                buf.clear();
                if !text.is_empty() {
                    out.push(SseEvent {
                        event: None,
                        data: text,
                    });
                }
            }
        }
    }
}

/// Stream-reading tasks alive right now (tests check it returns to zero).
static ACTIVE_STREAMS: AtomicUsize = AtomicUsize::new(0);

/// How many stream-reading tasks are running.
pub fn active_streams() -> usize {
    ACTIVE_STREAMS.load(Ordering::Relaxed)
}

struct ActiveGuard;

impl ActiveGuard {
    fn new() -> Self {
        ACTIVE_STREAMS.fetch_add(1, Ordering::Relaxed);
        ActiveGuard
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        ACTIVE_STREAMS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Read a streamed response to the end, decoding each event with the provider's decoder
/// and sending LiteLLM-shaped chunks in batches. Stops early, and drops the response, as
/// soon as the receiver is gone.
pub async fn pump(
    resp: reqwest::Response,
    tx: mpsc::Sender<Batch>,
    ctx: StreamContext,
    mut provider_decoder: Box<dyn StreamDecoder>,
) {
    let _active = ActiveGuard::new();
    let mut body = resp.bytes_stream();
    let mut decoder = Framer::new(ctx.framing);
    let mut shaper = ChunkShaper::new();
    let mut strings = chunk::Interner::default();
    let mut events = Vec::new();
    // What the stream has shown so far: the start of its bytes, whether any event was
    // framed, whether any chunk was passed on. A stream that ends having produced
    // nothing is an error, never an empty success.
    let mut head: Vec<u8> = Vec::new();
    let mut framed_any = false;
    let mut sent_any = false;
    loop {
        let next = tokio::select! {
            // The consumer went away: stop reading, drop the connection.
            _ = tx.closed() => return,
            n = tokio::time::timeout(ctx.idle_timeout, body.next()) => n,
        };
        let mut batch = Vec::new();
        let mut done = false;
        let result: Result<(), LlmError> = match next {
            Err(_) => Err(LlmError::timeout(
                &ctx.provider,
                &ctx.model,
                Some(ctx.idle_timeout),
            )),
            Ok(Some(Err(e))) => Err(LlmError::connection(
                &ctx.provider,
                &ctx.model,
                &format!(
                    "the stream broke before it finished ({})",
                    crate::transport::transport_detail(&e)
                ),
            )),
            Ok(Some(Ok(bytes))) => {
                if head.len() < HEAD_BYTES {
                    let room = HEAD_BYTES - head.len();
                    head.extend_from_slice(&bytes[..bytes.len().min(room)]);
                }
                decoder.push(&bytes, &mut events);
                if let Some(log) = &ctx.log {
                    log.stream_events(events.iter().map(|e| (e.event.as_deref(), &*e.data)));
                }
                match not_an_event_stream(&events, framed_any, &head, &ctx) {
                    Some(e) => Err(e),
                    None => {
                        framed_any |= !events.is_empty();
                        drain(
                            &mut events,
                            &mut shaper,
                            provider_decoder.as_mut(),
                            &mut strings,
                            &mut batch,
                            &mut done,
                        )
                    }
                }
            }
            Ok(None) => {
                decoder.finish(&mut events);
                if let Some(log) = &ctx.log {
                    log.stream_events(events.iter().map(|e| (e.event.as_deref(), &*e.data)));
                }
                let not_a_stream = not_an_event_stream(&events, framed_any, &head, &ctx);
                framed_any |= !events.is_empty();
                let r = match not_a_stream {
                    Some(e) => Err(e),
                    None => drain(
                        &mut events,
                        &mut shaper,
                        provider_decoder.as_mut(),
                        &mut strings,
                        &mut batch,
                        &mut done,
                    ),
                };
                if r.is_ok() && !done && !shaper.finished {
                    // (A stream of SSE comments only, `: keep-alive`, was cut, not wrong.)
                    let comments_only = head.trim_ascii_start().first() == Some(&b':');
                    if !framed_any && !head.is_empty() && !comments_only {
                        // Bytes came but not one event: an HTML page, or a plain JSON
                        // body from a server that ignored the stream request.
                        Err(LlmError::malformed_event(
                            &ctx.provider,
                            &ctx.model,
                            &format!("the stream held no {} events", framing_name(ctx.framing)),
                            &String::from_utf8_lossy(&head),
                            ctx.api_key.as_deref(),
                        ))
                    } else {
                        // Closed without [DONE] and without a finish reason: truncated.
                        Err(LlmError::connection(
                            &ctx.provider,
                            &ctx.model,
                            "the stream ended before the provider finished the reply",
                        ))
                    }
                } else {
                    done = true;
                    r
                }
            }
        };
        sent_any |= !batch.is_empty();
        let result = match result {
            // `[DONE]` (or `message_stop`) with not one chunk before it: the provider
            // said the reply is complete but sent none.
            Ok(()) if done && !sent_any && !shaper.finished => Err(LlmError::malformed_event(
                &ctx.provider,
                &ctx.model,
                "the provider ended the stream without sending any chunk",
                &String::from_utf8_lossy(&head),
                ctx.api_key.as_deref(),
            )),
            other => other,
        };
        if !batch.is_empty() && tx.send(Ok(batch)).await.is_err() {
            return;
        }
        if let Err(e) = result {
            let _ = tx.send(Err(e)).await;
            return;
        }
        if done {
            return;
        }
    }
}

/// An AWS event-stream whose very first frame does not parse is not an event-stream at
/// all (an HTML page, a JSON reply): a malformed reply quoting the body, where a frame
/// corrupted later is a broken connection (the decoder's `APIConnectionError`).
fn not_an_event_stream(
    events: &[SseEvent],
    framed_any: bool,
    head: &[u8],
    ctx: &StreamContext,
) -> Option<LlmError> {
    let first = events.first()?;
    if framed_any || first.event.as_deref() != Some(eventstream::FRAMING_ERROR) {
        return None;
    }
    Some(LlmError::malformed_event(
        &ctx.provider,
        &ctx.model,
        &format!("not an AWS event-stream ({})", first.data),
        &String::from_utf8_lossy(head),
        ctx.api_key.as_deref(),
    ))
}

fn framing_name(framing: Framing) -> &'static str {
    match framing {
        Framing::Sse => "server-sent",
        Framing::Ndjson => "NDJSON",
        Framing::AwsEventStream => "AWS event-stream",
    }
}

fn drain(
    events: &mut Vec<SseEvent>,
    shaper: &mut ChunkShaper,
    decoder: &mut dyn StreamDecoder,
    strings: &mut chunk::Interner,
    batch: &mut Vec<Chunk>,
    done: &mut bool,
) -> Result<(), LlmError> {
    for ev in events.drain(..) {
        if *done {
            continue;
        }
        match decoder.decode(&ev)? {
            Decoded::Done => *done = true,
            Decoded::Chunks(chunks) => {
                for c in chunks {
                    // Providers' own formats arrive as maps: the simple ones go typed.
                    let shaped = match SimpleChunk::from_map(c, strings) {
                        Ok(typed) => shaper.shape_simple(typed),
                        Err(map) => shaper.shape(map).map(Chunk::Full),
                    };
                    batch.extend(shaped);
                }
            }
            Decoded::Simple(chunk) => batch.extend(shaper.shape_simple(chunk)),
            Decoded::Delta(event) => batch.push(Chunk::Delta(event)),
            Decoded::Events { events, last } => {
                batch.extend(events.into_iter().map(Chunk::Full));
                *done |= last;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::obj;
    use serde_json::json;

    fn chunk(id: &str, delta: Value, finish: Value) -> Map<String, Value> {
        obj(
            json!({"id": id, "created": 1, "model": "m", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}),
        )
    }

    #[test]
    fn text_completion_chunks_keep_their_text() {
        let mut s = ChunkShaper::new();
        let text = |t: &str, finish: Value| {
            obj(
                json!({"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m",
                "choices": [{"text": t, "index": 0, "logprobs": null, "finish_reason": finish}]}),
            )
        };
        let first = s.shape(text("Hel", Value::Null)).unwrap();
        assert_eq!(first["choices"][0]["text"], json!("Hel"));
        assert!(first["choices"][0].get("delta").is_none());
        assert!(s.shape(text("", Value::Null)).is_none());
        let fin = s.shape(text("", json!("stop"))).unwrap();
        assert_eq!(fin["choices"][0]["finish_reason"], json!("stop"));
        assert!(s.finished);
    }

    #[test]
    fn litellm_chunk_rules() {
        let mut s = ChunkShaper::new();
        // The empty role-only first chunk is swallowed...
        assert!(s
            .shape(chunk(
                "a",
                json!({"role": "assistant", "content": ""}),
                Value::Null
            ))
            .is_none());
        // ...and the first chunk passed on gets the role.
        let first = s
            .shape(chunk("a", json!({"content": "Hel"}), Value::Null))
            .unwrap();
        assert_eq!(
            first["choices"][0]["delta"],
            json!({"content": "Hel", "role": "assistant"})
        );
        // Later chunks lose any role and keep the stream's id.
        let second = s
            .shape(chunk(
                "other",
                json!({"content": "lo", "role": "assistant"}),
                Value::Null,
            ))
            .unwrap();
        assert_eq!(second["choices"][0]["delta"], json!({"content": "lo"}));
        assert_eq!(second["id"], json!("a"));
        // Finish reasons are mapped and an empty delta with a reason is kept.
        let fin = s.shape(chunk("a", json!({}), json!("end_turn"))).unwrap();
        assert_eq!(fin["choices"][0]["finish_reason"], json!("stop"));
        assert!(s.finished);
        // The usage chunk gets one empty choice.
        let usage = s
            .shape(obj(json!({"id": "a", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}})))
            .unwrap();
        assert_eq!(usage["choices"][0]["delta"], json!({}));
        assert_eq!(usage["usage"]["total_tokens"], json!(9));
    }

    #[test]
    fn null_usage_is_removed_and_tool_deltas_kept() {
        let mut s = ChunkShaper::new();
        let mut c = chunk(
            "a",
            json!({"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "f", "arguments": ""}}]}),
            Value::Null,
        );
        c.insert("usage".into(), Value::Null);
        let out = s.shape(c).unwrap();
        assert!(!out.contains_key("usage"));
        assert_eq!(
            out["choices"][0]["delta"]["tool_calls"][0]["id"],
            json!("call_1")
        );
    }

    #[test]
    fn finish_reasons() {
        assert_eq!(map_finish_reason("tool_use"), "tool_calls");
        assert_eq!(map_finish_reason("MAX_TOKENS"), "length");
        assert_eq!(map_finish_reason("SAFETY"), "content_filter");
        assert_eq!(map_finish_reason("stop"), "stop");
    }

    /// Run the stream task over `body` with the OpenAI decoder; what the consumer gets.
    fn pump_body(body: &'static str) -> Vec<Batch> {
        pump_with(&crate::providers::openai::OpenAiAdapter, "openai", body)
    }

    /// Run the stream task over `body` with `adapter`'s framing and decoder.
    fn pump_with(
        adapter: &dyn crate::providers::Adapter,
        provider: &str,
        body: &'static str,
    ) -> Vec<Batch> {
        use crate::providers::Endpointkind;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let decoder = crate::test_support::with_chat_ctx(
                Endpointkind::Chat,
                provider,
                "gpt-x",
                true,
                |ctx| adapter.stream_decoder(ctx),
            );
            let ctx = StreamContext {
                provider: provider.into(),
                model: "gpt-x".into(),
                idle_timeout: Duration::from_secs(5),
                framing: adapter.framing(),
                api_key: Some(crate::test_support::TEST_KEY.into()),
                log: None,
            };
            let resp = reqwest::Response::from(hyper::Response::new(body));
            let (tx, mut rx) = mpsc::channel(16);
            pump(resp, tx, ctx, decoder).await;
            let mut out = Vec::new();
            while let Some(b) = rx.recv().await {
                out.push(b);
            }
            out
        })
    }

    fn last_error(batches: &[Batch]) -> &LlmError {
        match batches.last() {
            Some(Err(e)) => e,
            other => panic!("expected an error last, got {other:?}"),
        }
    }

    const CHUNK: &str = "data: {\"id\":\"a\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n";

    #[test]
    fn a_stream_that_produced_nothing_is_an_error() {
        use crate::error::ErrorKind;
        // [DONE] with not one chunk before it.
        let out = pump_body("data: [DONE]\n\n");
        let e = last_error(&out);
        assert_eq!((e.kind, e.status), (ErrorKind::Api, 500));
        assert!(e
            .message
            .contains("the provider ended the stream without sending any chunk"));
        // An HTML page (with the key in it) where the stream should be.
        let out = pump_body("<html><body>Gateway sk-test-secret</body></html>");
        let e = last_error(&out);
        assert_eq!(e.kind, ErrorKind::Api);
        assert!(
            e.message
                .contains("the stream held no server-sent events. Received: <html>"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("sk-test-secret"));
        // Nothing at all, or keep-alive comments only: the stream was cut.
        for body in ["", ": keep-alive\n\n"] {
            let out = pump_body(body);
            assert_eq!(out.len(), 1);
            let e = last_error(&out);
            assert_eq!(e.kind, ErrorKind::ApiConnection);
            assert!(e
                .message
                .contains("the stream ended before the provider finished the reply"));
        }
    }

    #[test]
    fn a_body_that_is_not_an_event_stream_is_a_malformed_reply() {
        use crate::error::ErrorKind;
        let bedrock = &crate::providers::bedrock::BedrockAdapter;
        for body in ["<html><body>Gateway</body></html>", "{}"] {
            let out = pump_with(bedrock, "bedrock", body);
            let e = last_error(&out);
            assert_eq!((e.kind, e.status), (ErrorKind::Api, 500));
            assert!(
                e.message.contains(
                    "BedrockException - Invalid chunk in the stream: not an AWS event-stream ("
                ) && e.message.contains(&format!("Received: {body}")),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn a_stream_cut_after_chunks_delivers_them_then_raises() {
        use crate::error::ErrorKind;
        let out = pump_body(CHUNK);
        assert!(matches!(&out[0], Ok(chunks) if chunks.len() == 1));
        assert_eq!(last_error(&out).kind, ErrorKind::ApiConnection);
        // A chunk of the wrong shape mid-way is raised after what came before it.
        let out = pump_body(concat!(
            "data: {\"id\":\"a\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n",
            "data: {\"foo\": 1}\n\n"
        ));
        assert!(out.iter().any(|b| matches!(b, Ok(c) if !c.is_empty())));
        assert!(last_error(&out).message.contains("no 'choices' list"));
        // A complete stream is no error.
        let out = pump_body(concat!(
            "data: {\"id\":\"a\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n",
            "data: [DONE]\n\n"
        ));
        assert!(out.iter().all(Result::is_ok));
    }

    #[test]
    fn ndjson_lines_are_events_across_reads() {
        let mut f = Framer::new(Framing::Ndjson);
        let mut out = Vec::new();
        f.push(b"{\"a\":1}\n{\"b\"", &mut out);
        f.push(b":2}\n\n{\"c\":3}", &mut out);
        f.finish(&mut out);
        let data: Vec<&str> = out.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(data, ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
    }
}
