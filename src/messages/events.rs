//! A chat stream as Anthropic's stream of events, for translated providers:
//! `message_start` first; then per content block `content_block_start`, its deltas
//! (`text_delta`, `thinking_delta`, `input_json_delta`) and `content_block_stop`; last
//! `message_delta` (the `stop_reason` and the usage, which a chat stream reports after its
//! finish chunk) and `message_stop`. Blocks are closed in order, as Anthropic sends them:
//! one opening closes the one before. An error from the chat stream is passed on as it is
//! (raised by the iterator, or an `error` event on the proxy).

use std::sync::Arc;

use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use super::{new_id, stop_reason, usage_from_chat, Bridge};
use crate::stream::{Batch, Chunk, SimpleChunk};

/// The kind of the block being written.
#[derive(Debug, PartialEq, Eq)]
enum Open {
    Text,
    Thinking,
    /// A tool call, by its chat stream index.
    Tool(u64),
}

/// The translation state of one stream.
pub struct EventWriter {
    bridge: Arc<Bridge>,
    id: String,
    started: bool,
    /// The index the next block gets.
    next_index: u64,
    open: Option<Open>,
    finish_reason: Option<String>,
    usage: Option<Value>,
}

fn event(kind: &str, fields: Value) -> Chunk {
    let mut e = Map::with_capacity(4);
    e.insert("type".into(), Value::String(kind.into()));
    if let Value::Object(fields) = fields {
        e.extend(fields);
    }
    Chunk::Full(e)
}

impl EventWriter {
    pub fn new(bridge: Arc<Bridge>) -> Self {
        EventWriter {
            bridge,
            id: new_id(),
            started: false,
            next_index: 0,
            open: None,
            finish_reason: None,
            usage: None,
        }
    }

    fn start(&mut self, out: &mut Vec<Chunk>) {
        if self.started {
            return;
        }
        self.started = true;
        out.push(event(
            "message_start",
            json!({"message": {
                "id": self.id,
                "type": "message",
                "role": "assistant",
                "model": self.bridge.model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": {"input_tokens": 0, "output_tokens": 0},
            }}),
        ));
    }

    fn close(&mut self, out: &mut Vec<Chunk>) {
        if self.open.take().is_some() {
            out.push(event(
                "content_block_stop",
                json!({"index": self.next_index - 1}),
            ));
        }
    }

    /// Make `kind` the open block, closing another one first; true when it was opened now.
    fn open(&mut self, kind: Open, block: Value, out: &mut Vec<Chunk>) -> bool {
        if self.open.as_ref() == Some(&kind) {
            return false;
        }
        self.close(out);
        out.push(event(
            "content_block_start",
            json!({"index": self.next_index, "content_block": block}),
        ));
        self.next_index += 1;
        self.open = Some(kind);
        true
    }

    fn delta(&self, delta: Value, out: &mut Vec<Chunk>) {
        out.push(event(
            "content_block_delta",
            json!({"index": self.next_index - 1, "delta": delta}),
        ));
    }

    fn text(&mut self, text: &str, out: &mut Vec<Chunk>) {
        if text.is_empty() {
            return;
        }
        self.open(Open::Text, json!({"type": "text", "text": ""}), out);
        self.delta(json!({"type": "text_delta", "text": text}), out);
    }

    /// One common text chunk.
    pub fn simple(&mut self, c: &SimpleChunk, out: &mut Vec<Chunk>) {
        self.start(out);
        if let Some(text) = &c.content {
            self.text(text, out);
        }
        if let Some(f) = c.finish_reason {
            self.finish_reason = Some(f.to_string());
            self.close(out);
        }
    }

    /// Any other chat chunk: reasoning, tool calls, the finish reason, the usage.
    pub fn chunk(&mut self, m: Map<String, Value>, out: &mut Vec<Chunk>) {
        self.start(out);
        if let Some(u) = m.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(u.clone());
        }
        let Some(choice) = m.get("choices").and_then(|c| c.get(0)) else {
            return;
        };
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        if let Some(thinking) = delta
            .get("reasoning_content")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            self.open(
                Open::Thinking,
                json!({"type": "thinking", "thinking": "", "signature": ""}),
                out,
            );
            self.delta(json!({"type": "thinking_delta", "thinking": thinking}), out);
        }
        if let Some(text) = delta.get("content").and_then(Value::as_str) {
            self.text(text, out);
        }
        for call in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let index = call.get("index").and_then(Value::as_u64).unwrap_or(0);
            let block = json!({
                "type": "tool_use",
                "id": call.get("id").and_then(Value::as_str).map_or_else(
                    || format!("toolu_{}", uuid::Uuid::new_v4().simple()),
                    str::to_string,
                ),
                "name": call.pointer("/function/name").cloned().unwrap_or_default(),
                "input": {},
            });
            self.open(Open::Tool(index), block, out);
            if let Some(args) = call
                .pointer("/function/arguments")
                .and_then(Value::as_str)
                .filter(|a| !a.is_empty())
            {
                self.delta(
                    json!({"type": "input_json_delta", "partial_json": args}),
                    out,
                );
            }
        }
        if let Some(f) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish_reason = Some(f.to_string());
            self.close(out);
        }
    }

    /// The end of the chat stream: `message_delta` with the stop reason and usage, then
    /// `message_stop`.
    pub fn finish(&mut self, out: &mut Vec<Chunk>) {
        self.start(out);
        self.close(out);
        out.push(event(
            "message_delta",
            json!({
                "delta": {"stop_reason": stop_reason(self.finish_reason.as_deref()), "stop_sequence": null},
                "usage": usage_from_chat(self.usage.as_ref()),
            }),
        ));
        out.push(event("message_stop", json!({})));
    }
}

/// How many event batches may wait unread (as for chat streams).
const BUFFER: usize = 64;

/// Translate a chat stream's batches into Anthropic events on a new channel. The task
/// ends when either side does: a closed reader drops the chat stream (and its connection)
/// with it.
pub fn translate(mut chat: mpsc::Receiver<Batch>, bridge: Arc<Bridge>) -> mpsc::Receiver<Batch> {
    let (tx, rx) = mpsc::channel(BUFFER);
    crate::transport::runtime().spawn(async move {
        let mut writer = EventWriter::new(bridge);
        loop {
            let next = tokio::select! {
                _ = tx.closed() => return,
                n = chat.recv() => n,
            };
            let mut out = Vec::new();
            match next {
                Some(Ok(chunks)) => {
                    for c in chunks {
                        match c {
                            Chunk::Simple(c) => writer.simple(&c, &mut out),
                            // A chat stream's chunks are never Responses deltas.
                            other => writer.chunk(other.into_map(), &mut out),
                        }
                    }
                    if !out.is_empty() && tx.send(Ok(out)).await.is_err() {
                        return;
                    }
                }
                Some(Err(e)) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
                None => {
                    writer.finish(&mut out);
                    let _ = tx.send(Ok(out)).await;
                    return;
                }
            }
        }
    });
    rx
}
