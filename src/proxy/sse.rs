//! The SSE writer: a stream's chunks as `data: <json>\n\n` events, as soon as they
//! arrive (never buffered), then `data: [DONE]\n\n`. A provider error after the 200 went
//! out becomes one `data: {"error": {...}}` event and ends the stream without `[DONE]`,
//! as LiteLLM's `async_data_generator` does: a client never mistakes a cut stream for a
//! finished one.
//!
//! The body owns the stream's receiver, the Router's call guard (the deployment's
//! in-flight mark and parallel slot) and the limits permit. When the client goes away,
//! hyper drops the body: the receiver closes, the task reading the provider sees it and
//! drops the provider connection, and the guard and permit are released.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::errors::ProxyError;
use super::limits::Permit;
use super::spend::SpendEvent;
use crate::router::CallGuard;
use crate::stream::{Batch, Chunk, SimpleChunk};
use std::sync::Arc;

/// The shape chunks go out in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `chat.completion.chunk`, as the stream made them.
    Chat,
    /// `/completions`: `text_completion` chunks (`choices[].text`); chat-shaped chunks
    /// (a chat model serving a prompt, a mock) are converted.
    Text,
    /// `/responses`: the Responses API's typed events as `event: <type>` + `data:`, no
    /// `[DONE]` (the final `response.completed` carries the usage); an error is an
    /// `event: error`.
    Responses,
    /// `/v1/messages`: Anthropic's events as `event: <type>` + `data:`, no `[DONE]`
    /// (`message_stop` ends it; `message_start` carries the input tokens and
    /// `message_delta` the output tokens); an error is an `event: error` in Anthropic's
    /// shape.
    Anthropic,
}

const DONE: &[u8] = b"data: [DONE]\n\n";

/// A text chunk of the common shape, serialized straight from its fields (no map).
#[derive(Serialize)]
struct SimpleOut<'a> {
    id: &'a str,
    object: &'static str,
    created: i64,
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_tier: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_fingerprint: Option<&'a str>,
    choices: [SimpleChoice<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    obfuscation: Option<Option<&'a str>>,
}

#[derive(Serialize)]
struct SimpleChoice<'a> {
    index: i64,
    delta: SimpleDelta<'a>,
    finish_reason: Option<&'static str>,
}

#[derive(Serialize)]
struct SimpleDelta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
}

/// `/completions` chunk of the common shape.
#[derive(Serialize)]
struct TextOut<'a> {
    id: &'a str,
    object: &'static str,
    created: i64,
    model: Option<&'a str>,
    choices: [TextChoice<'a>; 1],
}

#[derive(Serialize)]
struct TextChoice<'a> {
    text: &'a str,
    index: i64,
    logprobs: Option<()>,
    finish_reason: Option<&'static str>,
}

/// `event: <type>\ndata: <json>\n\n`, as the Responses API frames its events.
fn named_event(buf: &mut Vec<u8>, name: &str, value: &impl Serialize) {
    buf.extend_from_slice(b"event: ");
    buf.extend_from_slice(name.as_bytes());
    buf.push(b'\n');
    event(buf, value);
}

/// The usage and model a chunk reports: a chat chunk's own, or the Response a final
/// Responses event carries.
fn usage_and_model(m: &Map<String, Value>) -> Option<(&Value, &str)> {
    let carrier = match m.get("response") {
        Some(Value::Object(r)) => r,
        _ => m,
    };
    let usage = carrier.get("usage").filter(|u| u.is_object())?;
    Some((
        usage,
        carrier.get("model").and_then(Value::as_str).unwrap_or(""),
    ))
}

fn event(buf: &mut Vec<u8>, value: &impl Serialize) {
    buf.extend_from_slice(b"data: ");
    // Serializing owned JSON values and plain structs into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buf, value);
    buf.extend_from_slice(b"\n\n");
}

fn write_simple(buf: &mut Vec<u8>, c: &SimpleChunk, style: Style) {
    match style {
        // A Responses stream never carries chat chunks; were one to, it goes as it is.
        Style::Chat | Style::Responses | Style::Anthropic => event(
            buf,
            &SimpleOut {
                id: &c.id,
                object: "chat.completion.chunk",
                created: c.created,
                model: c.model.as_deref(),
                service_tier: c.service_tier.as_ref().map(|t| t.as_deref()),
                system_fingerprint: c.system_fingerprint.as_deref(),
                choices: [SimpleChoice {
                    index: c.index,
                    delta: SimpleDelta {
                        content: c.content.as_deref(),
                        role: c.role.then_some("assistant"),
                    },
                    finish_reason: c.finish_reason,
                }],
                obfuscation: c.obfuscation.as_ref().map(|o| o.as_deref()),
            },
        ),
        Style::Text => event(
            buf,
            &TextOut {
                id: &c.id,
                object: "text_completion",
                created: c.created,
                model: c.model.as_deref(),
                choices: [TextChoice {
                    text: c.content.as_deref().unwrap_or(""),
                    index: c.index,
                    logprobs: None,
                    finish_reason: c.finish_reason,
                }],
            },
        ),
    }
}

/// A chat chunk (`choices[].delta`) as a `text_completion` chunk; text chunks as they are.
pub fn text_chunk(mut m: Map<String, Value>) -> Map<String, Value> {
    let Some(Value::Array(choices)) = m.get_mut("choices") else {
        return m;
    };
    let mut changed = false;
    for choice in choices.iter_mut() {
        let Value::Object(c) = choice else { continue };
        if c.contains_key("text") {
            continue;
        }
        let Some(delta) = c.remove("delta") else {
            continue;
        };
        let text = delta
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let mut out = Map::new();
        out.insert("text".into(), Value::String(text));
        out.insert(
            "index".into(),
            c.get("index").cloned().unwrap_or(Value::from(0)),
        );
        out.insert(
            "logprobs".into(),
            c.get("logprobs").cloned().unwrap_or(Value::Null),
        );
        out.insert(
            "finish_reason".into(),
            c.get("finish_reason").cloned().unwrap_or(Value::Null),
        );
        *c = out;
        changed = true;
    }
    if changed {
        m.insert("object".into(), Value::String("text_completion".into()));
    }
    m
}

/// What the spend event of a stream needs, filled in as the stream goes.
pub struct StreamSpend {
    pub sink_event: SpendEvent,
    pub started: std::time::Instant,
    /// The proxy's time before the provider call (auth, routing): the LLM API latency
    /// and time to first token count from the call, as LiteLLM's do.
    pub before_call: std::time::Duration,
    pub prices: crate::catalogue::cost::CustomPrices,
}

/// The response body of a streaming request.
pub struct SseBody {
    rx: mpsc::Receiver<Batch>,
    style: Style,
    finished: bool,
    /// Held until the stream ends or the client goes away.
    _guard: Option<CallGuard>,
    permit: Option<Permit>,
    spend: Option<(Arc<super::state::AppState>, StreamSpend)>,
    /// A Responses stream's deployment (empty: none) and the caller's key hash: once
    /// `response.created` names the id, its Response is pinned to the deployment (see
    /// `crate::responses::store::pin`) and recorded as the key's.
    pin_to: Option<(String, Option<Arc<str>>)>,
    /// An Anthropic stream's `message_start` usage and model, completed by its
    /// `message_delta`.
    anthropic_start: Option<(Value, String)>,
    /// Guardrail records made while the stream ran (post-call decisions at its end),
    /// added to the spend row when it is sent.
    late_records: Option<LateRecords>,
}

/// Guardrail records a stream's guardrail task leaves for its spend row.
pub type LateRecords = Arc<std::sync::Mutex<Vec<super::guardrails::Record>>>;

impl SseBody {
    /// The body over a stream's chunks; `guard` and `permit` are held until it ends.
    pub fn new(
        rx: mpsc::Receiver<Batch>,
        style: Style,
        guard: Option<CallGuard>,
        permit: Option<Permit>,
        spend: Option<(Arc<super::state::AppState>, StreamSpend)>,
    ) -> Self {
        SseBody {
            rx,
            style,
            finished: false,
            _guard: guard,
            permit,
            spend,
            pin_to: None,
            anthropic_start: None,
            late_records: None,
        }
    }

    /// Add the records left in `late` to the spend row when the stream ends (the
    /// post-call guardrails of a stream decide at its end, after the row was begun).
    pub fn with_late_records(mut self, late: LateRecords) -> Self {
        self.late_records = Some(late);
        self
    }

    /// Pin the stream's Response to deployment `model_id` (Responses streams routed by
    /// the Router), so a `previous_response_id` follow-up goes back to it, and record it
    /// as made by the key whose hash is `key_hash`.
    pub fn pin_responses_to(mut self, model_id: String, key_hash: Option<Arc<str>>) -> Self {
        self.pin_to = Some((model_id, key_hash));
        self
    }

    fn encode(&mut self, chunks: Vec<Chunk>) -> Bytes {
        if let Some((_, spend)) = &mut self.spend {
            if spend.sink_event.time_to_first_token.is_none() {
                spend.sink_event.time_to_first_token =
                    Some(spend.started.elapsed().saturating_sub(spend.before_call));
            }
        }
        let mut buf = Vec::with_capacity(chunks.len() * 192);
        for chunk in chunks {
            match chunk {
                Chunk::Simple(c) => write_simple(&mut buf, &c, self.style),
                // Only Responses streams carry these (no usage in them).
                Chunk::Delta(d) => named_event(&mut buf, d.kind.name(), &d),
                Chunk::Full(m) => {
                    // The last chunk's usage (`include_usage`, the Response of
                    // `response.completed`, Anthropic's `message_delta`) settles the
                    // limits' reservation and the spend.
                    let anthropic = if self.style == Style::Anthropic {
                        self.anthropic_usage(&m)
                    } else {
                        None
                    };
                    let settled = match &anthropic {
                        Some((usage, model)) => Some((usage, model.as_str())),
                        None if self.style == Style::Anthropic => None,
                        None => usage_and_model(&m),
                    };
                    if let Some((usage, model)) = settled {
                        if let Some(permit) = &mut self.permit {
                            let t = crate::catalogue::cost::TokenUsage::from_json(usage)
                                .unwrap_or_default();
                            permit.record_usage(t.prompt_tokens, t.completion_tokens);
                        }
                        if let Some((_, spend)) = &mut self.spend {
                            let tokens = crate::catalogue::cost::TokenUsage::from_json(usage)
                                .unwrap_or_default();
                            spend.sink_event.prompt_tokens = tokens.prompt_tokens;
                            spend.sink_event.completion_tokens = tokens.completion_tokens;
                            spend.sink_event.cost = crate::catalogue::cost::response_cost(
                                &[model, &spend.sink_event.requested_model],
                                &spend.sink_event.provider,
                                usage,
                                None,
                                &spend.prices,
                            );
                        }
                    }
                    match self.style {
                        Style::Chat => event(&mut buf, &m),
                        Style::Text => event(&mut buf, &text_chunk(m)),
                        Style::Responses => {
                            let name = m.get("type").and_then(Value::as_str).unwrap_or("message");
                            if name == "response.created" {
                                if let (Some((dep, owner)), Some(id)) = (
                                    self.pin_to.take(),
                                    m.get("response")
                                        .and_then(|r| r.get("id"))
                                        .and_then(Value::as_str),
                                ) {
                                    if !dep.is_empty() {
                                        crate::responses::store::pin(id, &dep);
                                    }
                                    super::routes::responses::record_owner(id, owner.as_ref());
                                }
                            }
                            named_event(&mut buf, name, &m);
                        }
                        Style::Anthropic => {
                            let name = m.get("type").and_then(Value::as_str).unwrap_or("message");
                            named_event(&mut buf, name, &m);
                        }
                    }
                }
            }
        }
        Bytes::from(buf)
    }

    /// An Anthropic event's part of the usage: `message_start` is remembered (input
    /// tokens, model); `message_delta` completes it and is the stream's whole usage.
    fn anthropic_usage(&mut self, m: &Map<String, Value>) -> Option<(Value, String)> {
        match m.get("type").and_then(Value::as_str) {
            Some("message_start") => {
                let message = m.get("message");
                let usage = message
                    .and_then(|x| x.get("usage"))
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Map::new()));
                let model = message
                    .and_then(|x| x.get("model"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                self.anthropic_start = Some((usage, model));
                None
            }
            Some("message_delta") => {
                let (mut usage, model) = self
                    .anthropic_start
                    .take()
                    .unwrap_or_else(|| (Value::Object(Map::new()), String::new()));
                if let (Value::Object(total), Some(Value::Object(delta))) =
                    (&mut usage, m.get("usage"))
                {
                    for (k, v) in delta {
                        // A translated stream reports every count here; a native one
                        // only `output_tokens` (the rest came in `message_start`).
                        if !v.is_null() {
                            total.insert(k.clone(), v.clone());
                        }
                    }
                }
                Some((usage, model))
            }
            _ => None,
        }
    }

    /// The stream is over: release the guard and permit, send the spend event.
    fn finish(&mut self) {
        self.finished = true;
        self._guard = None;
        if let Some((state, mut spend)) = self.spend.take() {
            spend.sink_event.duration = spend.started.elapsed();
            spend.sink_event.llm_api_duration =
                Some(spend.sink_event.duration.saturating_sub(spend.before_call));
            if let Some(p) = &self.permit {
                spend.sink_event.rate_limit_remaining = Some(p.remaining());
            }
            if let Some(late) = &self.late_records {
                let mut late = late.lock().unwrap_or_else(|e| e.into_inner());
                spend.sink_event.guardrails.append(&mut late);
            }
            // The permit is released before the event is counted, as for JSON replies.
            self.permit = None;
            super::ops::finish(&state, spend.sink_event);
        }
        self.permit = None;
    }
}

/// A client that leaves mid-stream still had a call made for it: its spend event goes
/// out with status 499 (LiteLLM's and nginx's "client closed request").
impl Drop for SseBody {
    fn drop(&mut self) {
        if !self.finished {
            if let Some((_, spend)) = &mut self.spend {
                spend.sink_event.status = 499;
            }
            self.finish();
        }
    }
}

impl Stream for SseBody {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.finished {
            return Poll::Ready(None);
        }
        match self.rx.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunks))) => {
                let bytes = self.encode(chunks);
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(Some(Err(e))) => {
                let err = ProxyError::from_llm(&e);
                let mut buf = Vec::with_capacity(256);
                if self.style == Style::Responses {
                    // The Responses API's error event, its `error` object kept too (the
                    // openai SDK raises on either).
                    let mut body = err.to_json();
                    if let Value::Object(b) = &mut body {
                        let inner = b.get("error").cloned().unwrap_or(Value::Null);
                        b.insert("type".into(), Value::String("error".into()));
                        for key in ["code", "message", "param"] {
                            b.insert(key.into(), inner.get(key).cloned().unwrap_or(Value::Null));
                        }
                    }
                    named_event(&mut buf, "error", &body);
                } else if self.style == Style::Anthropic {
                    let body =
                        super::routes::messages::error_body(err.status.as_u16(), &err.message);
                    named_event(&mut buf, "error", &body);
                } else {
                    event(&mut buf, &err.to_json());
                }
                if let Some((_, spend)) = &mut self.spend {
                    spend.sink_event.status = err.status.as_u16();
                }
                self.finish();
                Poll::Ready(Some(Ok(Bytes::from(buf))))
            }
            Poll::Ready(None) => {
                self.finish();
                if matches!(self.style, Style::Responses | Style::Anthropic) {
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Ok(Bytes::from_static(DONE))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use serde_json::json;

    fn simple(content: &str, role: bool, finish: Option<&'static str>) -> Chunk {
        Chunk::Simple(SimpleChunk {
            id: Arc::from("chatcmpl-1"),
            created: 7,
            model: Some(Arc::from("gpt-4o")),
            system_fingerprint: None,
            service_tier: None,
            obfuscation: None,
            index: 0,
            finish_reason: finish,
            content: Some(content.to_string()),
            role,
        })
    }

    async fn body_of(batches: Vec<Batch>, style: Style) -> String {
        let (tx, rx) = mpsc::channel(batches.len().max(1));
        for b in batches {
            tx.send(b).await.unwrap();
        }
        drop(tx);
        let body = SseBody::new(rx, style, None, None, None);
        let parts: Vec<Bytes> = body.map(|r| r.unwrap()).collect().await;
        parts
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }

    fn events(text: &str) -> Vec<&str> {
        text.split("\n\n")
            .filter(|e| !e.is_empty())
            .map(|e| e.strip_prefix("data: ").unwrap())
            .collect()
    }

    #[tokio::test]
    async fn chunks_are_data_events_then_done() {
        let text = body_of(
            vec![
                Ok(vec![simple("Hel", true, None), simple("lo", false, None)]),
                Ok(vec![simple("", false, Some("stop"))]),
            ],
            Style::Chat,
        )
        .await;
        let ev = events(&text);
        assert_eq!(ev.len(), 4);
        assert_eq!(ev[3], "[DONE]");
        // The typed fast path writes what the map path would.
        let first: Value = serde_json::from_str(ev[0]).unwrap();
        let expected = match simple("Hel", true, None) {
            Chunk::Simple(c) => Value::Object(c.to_map()),
            _ => unreachable!(),
        };
        assert_eq!(first, expected);
        let second: Value = serde_json::from_str(ev[1]).unwrap();
        assert_eq!(second["choices"][0]["delta"], json!({"content": "lo"}));
        let last: Value = serde_json::from_str(ev[2]).unwrap();
        assert_eq!(last["choices"][0]["finish_reason"], json!("stop"));
    }

    #[tokio::test]
    async fn responses_events_are_named_with_no_done_and_errors_are_error_events() {
        let ev = |v: Value| match v {
            Value::Object(m) => Chunk::Full(m),
            _ => unreachable!(),
        };
        let delta =
            json!({"type": "response.output_text.delta", "delta": "Hi", "sequence_number": 2});
        let done = json!({"type": "response.completed", "response": {"id": "resp_1", "usage": {"input_tokens": 1}}});
        let text = body_of(
            vec![Ok(vec![ev(delta.clone()), ev(done)])],
            Style::Responses,
        )
        .await;
        let parts: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
        assert_eq!(parts.len(), 2, "{text}");
        let (name, data) = parts[0].split_once('\n').unwrap();
        assert_eq!(name, "event: response.output_text.delta");
        let data: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(data, delta);
        assert!(parts[1].starts_with("event: response.completed\n"));
        assert!(!text.contains("[DONE]"));

        let err =
            crate::error::map_http_error(429, "openai", "gpt-4o", "slow down", None, Vec::new());
        let text = body_of(
            vec![Ok(vec![ev(json!({"type": "response.created"}))]), Err(err)],
            Style::Responses,
        )
        .await;
        let last = text.split("\n\n").filter(|e| !e.is_empty()).last().unwrap();
        let (name, data) = last.split_once('\n').unwrap();
        assert_eq!(name, "event: error");
        let data: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(data["type"], json!("error"));
        assert_eq!(data["code"], data["error"]["code"]);
        assert!(data["message"].as_str().unwrap().contains("slow down"));
        assert!(!text.contains("[DONE]"));
    }

    #[tokio::test]
    async fn anthropic_events_are_named_with_no_done_and_errors_in_anthropic_shape() {
        let ev = |v: Value| match v {
            Value::Object(m) => Chunk::Full(m),
            _ => unreachable!(),
        };
        let start = json!({"type": "message_start", "message": {"id": "msg_1", "model": "claude-x", "usage": {"input_tokens": 9, "output_tokens": 1}}});
        let delta = json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 4}});
        let stop = json!({"type": "message_stop"});
        let mut body = SseBody::new(
            {
                let (tx, rx) = mpsc::channel(4);
                tx.try_send(Ok(vec![ev(start.clone()), ev(delta), ev(stop)]))
                    .unwrap();
                rx
            },
            Style::Anthropic,
            None,
            None,
            None,
        );
        // The input tokens of `message_start` and the output of `message_delta` make
        // the stream's usage.
        let mut seen = None;
        if let Chunk::Full(m) = ev(start) {
            body.anthropic_usage(&m);
        }
        if let Chunk::Full(m) = ev(json!({"type": "message_delta", "usage": {"output_tokens": 4}}))
        {
            seen = body.anthropic_usage(&m);
        }
        let (usage, model) = seen.unwrap();
        assert_eq!(usage, json!({"input_tokens": 9, "output_tokens": 4}));
        assert_eq!(model, "claude-x");
        let mut text = String::new();
        while let Some(Ok(b)) = body.next().await {
            text.push_str(&String::from_utf8_lossy(&b));
        }
        let names: Vec<&str> = text
            .split("\n\n")
            .filter(|e| !e.is_empty())
            .map(|e| e.lines().next().unwrap_or(""))
            .collect();
        assert_eq!(
            names,
            [
                "event: message_start",
                "event: message_delta",
                "event: message_stop"
            ]
        );
        assert!(!text.contains("[DONE]"));

        let err = crate::error::map_http_error(
            529,
            "anthropic",
            "claude-x",
            "Overloaded",
            None,
            Vec::new(),
        );
        let text = body_of(
            vec![Ok(vec![ev(json!({"type": "ping"}))]), Err(err)],
            Style::Anthropic,
        )
        .await;
        let last = text.split("\n\n").filter(|e| !e.is_empty()).last().unwrap();
        let (name, data) = last.split_once('\n').unwrap();
        assert_eq!(name, "event: error");
        let data: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(data["type"], json!("error"));
        assert!(data["error"]["type"].is_string());
        assert!(data["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Overloaded"));
        assert!(!text.contains("[DONE]"));
    }

    #[tokio::test]
    async fn an_error_mid_stream_is_an_error_event_and_no_done() {
        let err = crate::error::map_http_error(500, "openai", "gpt-4o", "boom", None, Vec::new());
        let text = body_of(
            vec![Ok(vec![simple("Hi", true, None)]), Err(err)],
            Style::Chat,
        )
        .await;
        let ev = events(&text);
        assert_eq!(ev.len(), 2, "{text}");
        let e: Value = serde_json::from_str(ev[1]).unwrap();
        assert_eq!(e["error"]["code"], json!("500"));
        assert!(e["error"]["message"].as_str().unwrap().contains("boom"));
        assert!(!text.contains("[DONE]"));
    }

    #[tokio::test]
    async fn text_style_sends_text_completion_chunks() {
        let full = json!({"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": "yo"}, "finish_reason": null}]});
        let Value::Object(full) = full else {
            unreachable!()
        };
        let text = body_of(
            vec![Ok(vec![simple("a", true, None), Chunk::Full(full)])],
            Style::Text,
        )
        .await;
        let ev = events(&text);
        let a: Value = serde_json::from_str(ev[0]).unwrap();
        assert_eq!(a["object"], json!("text_completion"));
        assert_eq!(a["choices"][0]["text"], json!("a"));
        let b: Value = serde_json::from_str(ev[1]).unwrap();
        assert_eq!(b["object"], json!("text_completion"));
        assert_eq!(b["choices"][0]["text"], json!("yo"));
        assert_eq!(ev[2], "[DONE]");
    }
}
