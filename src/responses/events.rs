//! A chat stream as the Responses API's stream of typed events, for bridged providers:
//! `response.created` and `response.in_progress` first; then per output item
//! `response.output_item.added`, its deltas (`response.output_text.delta`,
//! `response.function_call_arguments.delta`, `response.reasoning_summary_text.delta`),
//! their `.done` events and `response.output_item.done`; last `response.completed` (or
//! `response.incomplete` when the reply was cut) with the whole Response and its usage.
//! Items are closed in order, as OpenAI sends them: one opening closes the one before.
//! An error from the chat stream is passed on as it is (raised by the iterator).

use std::sync::Arc;

use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use super::bridge::{
    assistant_message, function_call_item, message_item, reasoning_item, status_of, Bridge,
};
use super::{new_id, usage_from_chat};
use crate::stream::{Batch, Chunk, DeltaEvent, DeltaKind, SimpleChunk};

/// The item being written.
#[derive(Debug)]
enum Open {
    Reasoning {
        index: usize,
        id: String,
        text: String,
    },
    Message {
        index: usize,
        /// Shared by the item's delta events.
        id: Arc<str>,
        text: String,
    },
}

#[derive(Debug)]
struct Call {
    /// The chat stream's tool-call index.
    chat_index: u64,
    output_index: usize,
    /// Shared by the call's delta events.
    id: Arc<str>,
    call_id: String,
    name: String,
    arguments: String,
    done: bool,
}

/// The translation state of one stream.
pub struct EventWriter {
    bridge: Arc<Bridge>,
    seq: u64,
    started: bool,
    model: Value,
    created_at: Value,
    /// Finished items by output index (`Null` while one is open).
    output: Vec<Value>,
    open: Option<Open>,
    calls: Vec<Call>,
    finish_reason: Option<String>,
    usage: Value,
    /// The reply as chat, for the stored turn.
    text: String,
}

impl EventWriter {
    pub fn new(bridge: Arc<Bridge>) -> Self {
        EventWriter {
            bridge,
            seq: 0,
            started: false,
            model: Value::Null,
            created_at: json!(crate::providers::unix_now()),
            output: Vec::new(),
            open: None,
            calls: Vec::new(),
            finish_reason: None,
            usage: Value::Null,
            text: String::new(),
        }
    }

    fn emit(&mut self, out: &mut Vec<Chunk>, kind: &str, fields: Value) {
        let mut event = Map::with_capacity(8);
        event.insert("type".into(), Value::String(kind.into()));
        if let Value::Object(fields) = fields {
            event.extend(fields);
        }
        event.insert("sequence_number".into(), json!(self.seq));
        self.seq += 1;
        out.push(Chunk::Full(event));
    }

    fn snapshot(&self, status: &str, incomplete: Value, usage: Value) -> Value {
        let output = self
            .output
            .iter()
            .filter(|v| !v.is_null())
            .cloned()
            .collect();
        Value::Object(self.bridge.response(
            &self.model,
            self.created_at.clone(),
            status,
            incomplete,
            output,
            usage,
        ))
    }

    fn start(&mut self, out: &mut Vec<Chunk>) {
        if self.started {
            return;
        }
        self.started = true;
        let response = self.snapshot("in_progress", Value::Null, Value::Null);
        self.emit(out, "response.created", json!({"response": response}));
        let response = self.snapshot("in_progress", Value::Null, Value::Null);
        self.emit(out, "response.in_progress", json!({"response": response}));
    }

    fn close_open(&mut self, out: &mut Vec<Chunk>) {
        match self.open.take() {
            None => {}
            Some(Open::Reasoning { index, id, text }) => {
                self.emit(
                    out,
                    "response.reasoning_summary_text.done",
                    json!({"item_id": id, "output_index": index, "summary_index": 0, "text": text}),
                );
                let item = reasoning_item(&id, &text);
                self.output[index] = item.clone();
                self.emit(
                    out,
                    "response.output_item.done",
                    json!({"output_index": index, "item": item}),
                );
            }
            Some(Open::Message { index, id, text }) => {
                self.emit(
                    out,
                    "response.output_text.done",
                    json!({"item_id": &*id, "output_index": index, "content_index": 0, "text": text}),
                );
                self.emit(
                    out,
                    "response.content_part.done",
                    json!({"item_id": &*id, "output_index": index, "content_index": 0,
                           "part": {"type": "output_text", "text": text, "annotations": []}}),
                );
                let item = message_item(&id, &text, "completed");
                self.output[index] = item.clone();
                self.emit(
                    out,
                    "response.output_item.done",
                    json!({"output_index": index, "item": item}),
                );
            }
        }
    }

    fn close_calls(&mut self, out: &mut Vec<Chunk>) {
        for i in 0..self.calls.len() {
            if self.calls[i].done {
                continue;
            }
            self.calls[i].done = true;
            let (index, id, call_id, name, arguments) = {
                let c = &self.calls[i];
                (
                    c.output_index,
                    c.id.clone(),
                    c.call_id.clone(),
                    c.name.clone(),
                    c.arguments.clone(),
                )
            };
            self.emit(
                out,
                "response.function_call_arguments.done",
                json!({"item_id": &*id, "output_index": index, "name": name, "arguments": arguments}),
            );
            let item = function_call_item(&id, &call_id, &name, &arguments, "completed");
            self.output[index] = item.clone();
            self.emit(
                out,
                "response.output_item.done",
                json!({"output_index": index, "item": item}),
            );
        }
    }

    fn reasoning_delta(&mut self, out: &mut Vec<Chunk>, delta: &str) {
        if !matches!(self.open, Some(Open::Reasoning { .. })) {
            self.close_open(out);
            let index = self.output.len();
            let id = new_id("rs");
            self.output.push(Value::Null);
            self.emit(
                out,
                "response.output_item.added",
                json!({"output_index": index, "item": reasoning_item(&id, "")}),
            );
            self.open = Some(Open::Reasoning {
                index,
                id,
                text: String::new(),
            });
        }
        if let Some(Open::Reasoning { index, id, text }) = &mut self.open {
            text.push_str(delta);
            let fields =
                json!({"item_id": id, "output_index": index, "summary_index": 0, "delta": delta});
            self.emit(out, "response.reasoning_summary_text.delta", fields);
        }
    }

    fn text_delta(&mut self, out: &mut Vec<Chunk>, delta: &str) {
        if !matches!(self.open, Some(Open::Message { .. })) {
            self.close_open(out);
            let index = self.output.len();
            let id: Arc<str> = Arc::from(new_id("msg"));
            self.output.push(Value::Null);
            self.emit(
                out,
                "response.output_item.added",
                json!({"output_index": index, "item": message_item(&id, "", "in_progress")}),
            );
            self.emit(
                out,
                "response.content_part.added",
                json!({"item_id": &*id, "output_index": index, "content_index": 0,
                       "part": {"type": "output_text", "text": "", "annotations": []}}),
            );
            self.open = Some(Open::Message {
                index,
                id,
                text: String::new(),
            });
        }
        self.text.push_str(delta);
        if let Some(Open::Message { index, id, text }) = &mut self.open {
            text.push_str(delta);
            // Typed, no map: most events of a stream are these.
            out.push(Chunk::Delta(DeltaEvent {
                kind: DeltaKind::OutputText,
                item_id: Arc::clone(id),
                output_index: *index as i64,
                content_index: Some(0),
                delta: delta.to_string(),
                logprobs: true,
                obfuscation: None,
                sequence_number: Some(self.seq as i64),
                sequence_first: false,
            }));
            self.seq += 1;
        }
    }

    fn tool_call_delta(&mut self, out: &mut Vec<Chunk>, call: &Value) {
        let chat_index = call.get("index").and_then(Value::as_u64).unwrap_or(0);
        let pos = match self
            .calls
            .iter()
            .position(|c| c.chat_index == chat_index && !c.done)
        {
            Some(pos) => pos,
            None => {
                self.close_open(out);
                let output_index = self.output.len();
                self.output.push(Value::Null);
                let c = Call {
                    chat_index,
                    output_index,
                    id: Arc::from(new_id("fc")),
                    call_id: call
                        .get("id")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(crate::providers::new_tool_call_id),
                    name: call
                        .pointer("/function/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    arguments: String::new(),
                    done: false,
                };
                let item = function_call_item(&c.id, &c.call_id, &c.name, "", "in_progress");
                self.emit(
                    out,
                    "response.output_item.added",
                    json!({"output_index": output_index, "item": item}),
                );
                self.calls.push(c);
                self.calls.len() - 1
            }
        };
        if let Some(piece) = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
        {
            let call = &mut self.calls[pos];
            call.arguments.push_str(piece);
            out.push(Chunk::Delta(DeltaEvent {
                kind: DeltaKind::FunctionCallArguments,
                item_id: Arc::clone(&call.id),
                output_index: call.output_index as i64,
                content_index: None,
                delta: piece.to_string(),
                logprobs: false,
                obfuscation: None,
                sequence_number: Some(self.seq as i64),
                sequence_first: false,
            }));
            self.seq += 1;
        }
    }

    /// The events for one chat chunk.
    pub fn chunk(&mut self, chunk: Map<String, Value>, out: &mut Vec<Chunk>) {
        if self.model.is_null() {
            if let Some(m) = chunk.get("model") {
                self.model = m.clone();
            }
            if let Some(c) = chunk.get("created").filter(|c| c.is_number()) {
                self.created_at = c.clone();
            }
        }
        self.start(out);
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = usage_from_chat(usage);
        }
        let Some(Value::Array(choices)) = chunk.get("choices") else {
            return;
        };
        for choice in choices {
            if let Some(delta) = choice.get("delta") {
                if let Some(r) = delta
                    .get("reasoning_content")
                    .and_then(Value::as_str)
                    .filter(|r| !r.is_empty())
                {
                    self.reasoning_delta(out, r);
                }
                if let Some(t) = delta
                    .get("content")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                {
                    self.text_delta(out, t);
                }
                if let Some(Value::Array(calls)) = delta.get("tool_calls") {
                    for call in calls {
                        self.tool_call_delta(out, call);
                    }
                }
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                self.finish_reason = Some(reason.to_string());
            }
        }
    }

    /// The events for one chat chunk of the common text shape, read from its fields
    /// (most chunks of a stream: no map is made for them).
    pub fn simple(&mut self, chunk: &SimpleChunk, out: &mut Vec<Chunk>) {
        if self.model.is_null() {
            if let Some(m) = &chunk.model {
                self.model = Value::String(m.to_string());
            }
            self.created_at = json!(chunk.created);
        }
        self.start(out);
        if let Some(t) = chunk.content.as_deref().filter(|t| !t.is_empty()) {
            self.text_delta(out, t);
        }
        if let Some(reason) = chunk.finish_reason {
            self.finish_reason = Some(reason.to_string());
        }
    }

    /// The closing events once the chat stream has ended; the turn is stored.
    pub fn finish(&mut self, out: &mut Vec<Chunk>) {
        self.start(out);
        self.close_open(out);
        self.close_calls(out);
        let (status, incomplete) = status_of(self.finish_reason.as_deref());
        let response = self.snapshot(status, incomplete, self.usage.clone());
        let kind = if status == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        let calls: Vec<Value> = self
            .calls
            .iter()
            .map(|c| json!({"id": c.call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
            .collect();
        let mut message = json!({"content": if self.text.is_empty() && !calls.is_empty() { Value::Null } else { json!(self.text) }});
        if !calls.is_empty() {
            message["tool_calls"] = Value::Array(calls);
        }
        if let Value::Object(r) = &response {
            self.bridge.remember(assistant_message(&message), r);
        }
        self.emit(out, kind, json!({"response": response}));
    }
}

/// How many event batches may wait unread (as for chat streams).
const BUFFER: usize = 64;

/// Translate a chat stream's batches into Responses events on a new channel. The task
/// ends when either side does: a closed reader drops the chat stream (and its
/// connection) with it.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::responses::bridge::to_chat;
    use crate::test_support::obj;

    fn chunk(delta: Value, finish: Value) -> Map<String, Value> {
        obj(
            json!({"id": "c", "created": 3, "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}),
        )
    }

    fn events(chunks: Vec<Map<String, Value>>) -> (Vec<Map<String, Value>>, String) {
        let (_, bridge) = to_chat(obj(json!({"input": "hi", "stream": true}))).unwrap();
        let id = bridge.id.clone();
        let mut w = EventWriter::new(Arc::new(bridge));
        let mut out = Vec::new();
        for c in chunks {
            w.chunk(c, &mut out);
        }
        w.finish(&mut out);
        (out.into_iter().map(Chunk::into_map).collect(), id)
    }

    #[test]
    fn text_and_tool_calls_become_typed_events_in_order() {
        let (out, id) = events(vec![
            chunk(json!({"role": "assistant", "content": "Hel"}), Value::Null),
            chunk(json!({"content": "lo"}), Value::Null),
            chunk(
                json!({"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "f", "arguments": "{\"a\""}}]}),
                Value::Null,
            ),
            chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": ":1}"}}]}),
                json!("tool_calls"),
            ),
            obj(
                json!({"id": "c", "choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10}}),
            ),
        ]);
        let types: Vec<&str> = out.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
        let seqs: Vec<u64> = out
            .iter()
            .map(|e| e["sequence_number"].as_u64().unwrap())
            .collect();
        assert_eq!(seqs, (0..15).collect::<Vec<_>>());
        assert_eq!(out[6]["text"], json!("Hello"));
        assert_eq!(out[12]["arguments"], json!("{\"a\":1}"));
        let done = &out[14]["response"];
        assert_eq!(done["id"], json!(id));
        assert_eq!(done["status"], json!("completed"));
        assert_eq!(done["usage"]["output_tokens"], json!(6));
        assert_eq!(done["output"][1]["call_id"], json!("call_1"));
        // The turn is kept for previous_response_id.
        let turn = crate::responses::store::get(&id).unwrap();
        assert_eq!(
            turn.messages.last().unwrap()["tool_calls"][0]["function"]["arguments"],
            json!("{\"a\":1}")
        );
    }

    #[test]
    fn typed_text_chunks_give_the_same_events_as_maps() {
        let (_, bridge) = to_chat(obj(json!({"input": "hi", "store": false}))).unwrap();
        let mut w = EventWriter::new(Arc::new(bridge));
        let mut out = Vec::new();
        for piece in ["Hel", "lo"] {
            let c = SimpleChunk::text(Arc::from("c"), 3, Some(Arc::from("m")), piece.into());
            w.simple(&c, &mut out);
        }
        let mut fin = SimpleChunk::text(Arc::from("c"), 3, Some(Arc::from("m")), String::new());
        fin.finish_reason = Some("length");
        w.simple(&fin, &mut out);
        w.finish(&mut out);
        let out: Vec<Map<String, Value>> = out.into_iter().map(Chunk::into_map).collect();
        let deltas: Vec<&str> = out
            .iter()
            .filter(|e| e["type"] == "response.output_text.delta")
            .map(|e| e["delta"].as_str().unwrap())
            .collect();
        assert_eq!(deltas, ["Hel", "lo"]);
        let last = out.last().unwrap();
        assert_eq!(last["type"], json!("response.incomplete"));
        assert_eq!(last["response"]["model"], json!("m"));
        assert_eq!(last["response"]["created_at"], json!(3));
        assert_eq!(
            last["response"]["output"][0]["content"][0]["text"],
            json!("Hello")
        );
    }

    #[test]
    fn reasoning_comes_first_and_a_cut_reply_is_incomplete() {
        let (out, _) = events(vec![
            chunk(json!({"reasoning_content": "hmm"}), Value::Null),
            chunk(json!({"content": "x"}), json!("length")),
        ]);
        let types: Vec<&str> = out.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types[2], "response.output_item.added");
        assert_eq!(out[2]["item"]["type"], json!("reasoning"));
        assert_eq!(types[3], "response.reasoning_summary_text.delta");
        assert_eq!(*types.last().unwrap(), "response.incomplete");
        assert_eq!(
            out.last().unwrap()["response"]["output"][0]["summary"][0]["text"],
            json!("hmm")
        );
    }
}
