//! Guardrails on a streamed reply: between the provider's stream and the SSE writer, a
//! task that restores masked values in the text deltas (a [`StreamRestorer`] slot per
//! choice, tool call, Responses content part or Anthropic block: a placeholder split
//! across chunks is held until it is whole, and what is still held goes out before the
//! slot's end), and runs post-call guardrails.
//!
//! A post-call guardrail needs the whole reply to judge it: with one selected, the
//! stream is held until it ends, then checked as one text per slot. A block ends the
//! stream with an error event (the 200 is already sent); a mask rewrites the held text
//! (each slot's whole masked text goes out in its first delta); then the classes' post-call
//! hooks judge it, those with a stream hook (LiteLLM's
//! `async_post_call_streaming_iterator_hook`) rewrite its chunks, and the chunks go out.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use super::{Record, RequestGuardrails};
use crate::error::LlmError;
use crate::guardrails::request::{apply_reply, apply_reply_after};
use crate::guardrails::{Action, Blocked, StreamRestorer};
use crate::proxy::sse::Style;
use crate::stream::{Batch, Chunk, DeltaKind};

/// Where a stream's records go when it is over: called before the stream's last batch
/// or error is sent, so that whoever writes its spend row when the stream ends has them.
pub type OnRecords = Box<dyn FnOnce(Vec<Record>) + Send>;

/// The stream `rx` with the request's guardrails applied (see the module docs).
pub fn wrap(
    mut rx: mpsc::Receiver<Batch>,
    mut ctx: RequestGuardrails,
    style: Style,
    request: Option<Map<String, Value>>,
    on_records: OnRecords,
) -> mpsc::Receiver<Batch> {
    let (tx, out) = mpsc::channel::<Batch>(16);
    tokio::spawn(async move {
        let mut restorer = ctx.restore.clone().map(StreamRestorer::new);
        let hold = ctx.has_post_call();
        let mut held: Vec<Chunk> = Vec::new();
        let before = ctx.records.len();
        while let Some(batch) = rx.recv().await {
            match batch {
                Ok(chunks) if hold => held.extend(chunks),
                Ok(chunks) => {
                    let chunks = restore_batch(chunks, restorer.as_mut(), style);
                    if tx.send(Ok(chunks)).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    if hold && !held.is_empty() {
                        // What came before the error is not judged: it is not sent.
                        held.clear();
                    }
                    on_records(ctx.records.split_off(before));
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
        }
        if hold {
            let judged = match judge(&mut ctx, &mut held, style) {
                Ok(()) => judge_classes(&mut ctx, &mut held, request.as_ref()).await,
                Err(e) => Err(e),
            };
            let judged = match judged {
                Ok(()) => stream_classes(&mut ctx, &mut held, request.as_ref(), style).await,
                Err(e) => Err(e),
            };
            if let Err(e) = judged {
                on_records(ctx.records.split_off(before));
                let _ = tx.send(Err(e)).await;
                return;
            }
            let chunks = restore_batch(held, restorer.as_mut(), style);
            if tx.send(Ok(chunks)).await.is_err() {
                on_records(ctx.records.split_off(before));
                return;
            }
        }
        if let Some(r) = restorer.as_mut() {
            let rest = flush(r, style);
            if !rest.is_empty() {
                let _ = tx.send(Ok(rest)).await;
            }
        }
        on_records(ctx.records.split_off(before));
    });
    out
}

/// The text fields of a chunk a model wrote, each with its slot.
fn texts<'a>(chunk: &'a mut Chunk, out: &mut Vec<(String, &'a mut String)>) {
    match chunk {
        Chunk::Simple(c) => {
            if let Some(s) = c.content.as_mut() {
                out.push((format!("c{}", c.index), s));
            }
        }
        Chunk::Full(m) => full_texts(m, out),
        Chunk::Delta(d) if d.kind == DeltaKind::OutputText => {
            let slot = format!("r{}.{}", d.output_index, d.content_index.unwrap_or(0));
            out.push((slot, &mut d.delta));
        }
        // Function-call arguments are not text a model wrote for the user.
        Chunk::Delta(_) => {}
    }
}

fn full_texts<'a>(m: &'a mut Map<String, Value>, out: &mut Vec<(String, &'a mut String)>) {
    let kind = m
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match kind.as_str() {
        "response.output_text.delta" => {
            let slot = responses_slot(m);
            if let Some(Value::String(s)) = m.get_mut("delta") {
                out.push((slot, s));
            }
        }
        "content_block_delta" => {
            let index = m.get("index").and_then(Value::as_i64).unwrap_or(0);
            if let Some(Value::Object(d)) = m.get_mut("delta") {
                for (k, v) in d.iter_mut() {
                    match (k.as_str(), v) {
                        ("text", Value::String(s)) => out.push((format!("a{index}"), s)),
                        ("partial_json", Value::String(s)) => out.push((format!("a{index}j"), s)),
                        _ => {}
                    }
                }
            }
        }
        _ => {
            let Some(Value::Array(choices)) = m.get_mut("choices") else {
                return;
            };
            for c in choices {
                let index = c.get("index").and_then(Value::as_i64).unwrap_or(0);
                let Value::Object(c) = c else { continue };
                // Several fields of one map: one pass splits the borrows.
                let mut content = None;
                let mut calls = None;
                for (k, v) in c.iter_mut() {
                    match (k.as_str(), v) {
                        ("text", Value::String(s)) => out.push((format!("c{index}"), s)),
                        ("delta", Value::Object(d)) => {
                            for (k, v) in d.iter_mut() {
                                match k.as_str() {
                                    "content" => content = Some(v),
                                    "tool_calls" => calls = Some(v),
                                    _ => {}
                                }
                            }
                        }
                        _ => {}
                    }
                }
                if let Some(Value::String(s)) = content {
                    out.push((format!("c{index}"), s));
                }
                if let Some(Value::Array(calls)) = calls {
                    for call in calls {
                        let t = call.get("index").and_then(Value::as_i64).unwrap_or(0);
                        if let Some(Value::String(s)) = call.pointer_mut("/function/arguments") {
                            out.push((format!("c{index}t{t}"), s));
                        }
                    }
                }
            }
        }
    }
}

fn responses_slot(m: &Map<String, Value>) -> String {
    let n = |k: &str| m.get(k).and_then(Value::as_i64).unwrap_or(0);
    format!("r{}.{}", n("output_index"), n("content_index"))
}

/// The restored batch: each text delta restored as far as it can be, and what a slot
/// still holds sent out before the slot ends (its finish reason, Responses'
/// `output_text.done`, Anthropic's `content_block_stop`).
fn restore_batch(
    chunks: Vec<Chunk>,
    restorer: Option<&mut StreamRestorer>,
    style: Style,
) -> Vec<Chunk> {
    let Some(r) = restorer else {
        return chunks;
    };
    let mut out = Vec::with_capacity(chunks.len() + 1);
    for mut chunk in chunks {
        {
            let mut spots = Vec::new();
            texts(&mut chunk, &mut spots);
            for (slot, text) in spots {
                *text = r.push(&slot, text);
            }
        }
        match &mut chunk {
            Chunk::Simple(c) if c.finish_reason.is_some() => {
                let rest = r.finish(&format!("c{}", c.index));
                if !rest.is_empty() {
                    c.content.get_or_insert_with(String::new).push_str(&rest);
                }
            }
            Chunk::Full(m) => finish_full(m, r, style, &mut out),
            Chunk::Simple(_) | Chunk::Delta(_) => {}
        }
        out.push(chunk);
    }
    out
}

/// Restores what a full chunk closes: a chat choice's held text when it finishes (into
/// its own delta), a Responses part or an Anthropic block (a delta event before it),
/// and the whole texts a Responses `done` or `completed` event repeats.
fn finish_full(
    m: &mut Map<String, Value>,
    r: &mut StreamRestorer,
    style: Style,
    out: &mut Vec<Chunk>,
) {
    match m.get("type").and_then(Value::as_str).unwrap_or("") {
        "response.output_text.done" => {
            let slot = responses_slot(m);
            let rest = r.finish(&slot);
            if !rest.is_empty() {
                let mut delta = Map::new();
                delta.insert("type".into(), json!("response.output_text.delta"));
                for k in ["item_id", "output_index", "content_index"] {
                    if let Some(v) = m.get(k) {
                        delta.insert(k.into(), v.clone());
                    }
                }
                delta.insert("delta".into(), Value::String(rest));
                out.push(Chunk::Full(delta));
            }
            if let Some(Value::String(s)) = m.get_mut("text") {
                *s = r.restore_text(s);
            }
        }
        "response.completed" | "response.output_item.done" | "response.content_part.done" => {
            for key in ["response", "item", "part"] {
                if let Some(v) = m.get_mut(key) {
                    r.restore_value(v);
                }
            }
        }
        "content_block_stop" => {
            let index = m.get("index").and_then(Value::as_i64).unwrap_or(0);
            for (slot, kind, field) in [
                (format!("a{index}"), "text_delta", "text"),
                (format!("a{index}j"), "input_json_delta", "partial_json"),
            ] {
                let rest = r.finish(&slot);
                if !rest.is_empty() {
                    out.push(Chunk::Full(
                        json!({"type": "content_block_delta", "index": index,
                            "delta": {"type": kind, field: rest}})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    ));
                }
            }
        }
        _ if matches!(style, Style::Chat | Style::Text) => {
            let Some(Value::Array(choices)) = m.get_mut("choices") else {
                return;
            };
            for c in choices {
                if c.get("finish_reason").is_none_or(Value::is_null) {
                    continue;
                }
                let index = c.get("index").and_then(Value::as_i64).unwrap_or(0);
                let rest = r.finish(&format!("c{index}"));
                if rest.is_empty() {
                    continue;
                }
                let Value::Object(c) = c else { continue };
                if let Some(Value::String(t)) = c.get_mut("text") {
                    t.push_str(&rest);
                    continue;
                }
                let delta = c
                    .entry("delta")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(d) = delta {
                    match d.get_mut("content") {
                        Some(Value::String(t)) => t.push_str(&rest),
                        _ => {
                            d.insert("content".into(), Value::String(rest));
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

/// Each text slot of a held stream and its whole text, in the order first seen.
fn slot_texts(held: &mut [Chunk]) -> Vec<(String, String)> {
    let mut slots: Vec<(String, String)> = Vec::new();
    for chunk in held.iter_mut() {
        let mut spots = Vec::new();
        texts(chunk, &mut spots);
        for (slot, text) in spots {
            match slots.iter_mut().find(|(s, _)| *s == slot) {
                Some((_, all)) => all.push_str(text),
                None => slots.push((slot, text.clone())),
            }
        }
    }
    slots
}

/// A held stream's reply as a chat completion for the post-call guardrails: one choice
/// per text slot (each choice's text, and each tool call's and Responses part's), in
/// order.
fn reply_of(slots: &[(String, String)]) -> Map<String, Value> {
    let choices: Vec<Value> = slots
        .iter()
        .enumerate()
        .map(|(i, (_, text))| {
            json!({"index": i, "message": {"role": "assistant", "content": text},
                "finish_reason": "stop"})
        })
        .collect();
    let mut reply = Map::new();
    reply.insert("object".into(), json!("chat.completion"));
    reply.insert("choices".into(), Value::Array(choices));
    reply
}

/// Rewrite a held stream with the texts of `reply` (as [`reply_of`] made it, changed):
/// each slot's new text goes out whole in its first delta, its later deltas empty.
fn rewrite(held: &mut [Chunk], slots: &[(String, String)], reply: &Value) {
    let new: Vec<String> = (0..slots.len())
        .map(|i| {
            reply
                .pointer(&format!("/choices/{i}/message/content"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let mut first = vec![true; slots.len()];
    for chunk in held.iter_mut() {
        let mut spots = Vec::new();
        texts(chunk, &mut spots);
        for (slot, text) in spots {
            if let Some(i) = slots.iter().position(|(s, _)| *s == slot) {
                *text = if first[i] {
                    first[i] = false;
                    new[i].clone()
                } else {
                    String::new()
                };
            }
        }
    }
}

/// The post-call guardrail classes over a held stream (after the built-ins): they get
/// the request and the reply so far as a chat completion ([`reply_of`]) in
/// `async_post_call_success_hook`; raising blocks the stream (an error event instead of
/// the reply), a changed reply rewrites it.
async fn judge_classes(
    ctx: &mut RequestGuardrails,
    held: &mut [Chunk],
    request: Option<&Map<String, Value>>,
) -> Result<(), LlmError> {
    if !ctx.needs_request() {
        return Ok(()); // no class selected after the call
    }
    let empty = Map::new();
    let slots = slot_texts(held);
    let mut reply = reply_of(&slots);
    let changed = ctx
        .post_classes(request.unwrap_or(&empty), &mut reply)
        .await
        .map_err(LlmError::bad_request)?;
    if changed {
        rewrite(held, &slots, &Value::Object(reply));
    }
    Ok(())
}

/// The post-call classes with a stream hook (LiteLLM's
/// `async_post_call_streaming_iterator_hook`) over a held stream, after the other
/// post-call guardrails: what they yield is what goes out; raising ends the stream with
/// an error event instead.
async fn stream_classes(
    ctx: &mut RequestGuardrails,
    held: &mut Vec<Chunk>,
    request: Option<&Map<String, Value>>,
    style: Style,
) -> Result<(), LlmError> {
    if !ctx.needs_request() {
        return Ok(()); // no class selected after the call
    }
    let empty = Map::new();
    ctx.stream_classes(request.unwrap_or(&empty), held, style == Style::Chat)
        .await
        .map_err(LlmError::bad_request)
}

/// What is still held when the stream ends, as chunks of the stream's style.
fn flush(r: &mut StreamRestorer, style: Style) -> Vec<Chunk> {
    let mut out = Vec::new();
    for slot in r.pending() {
        let rest = r.finish(&slot);
        if rest.is_empty() {
            continue;
        }
        let chunk = match (style, slot.chars().next()) {
            (Style::Responses, Some('r')) => {
                let (o, c) = slot[1..].split_once('.').unwrap_or(("0", "0"));
                json!({"type": "response.output_text.delta",
                    "output_index": o.parse::<i64>().unwrap_or(0),
                    "content_index": c.parse::<i64>().unwrap_or(0), "delta": rest})
            }
            (Style::Anthropic, Some('a')) => {
                let index: i64 = slot[1..].trim_end_matches('j').parse().unwrap_or(0);
                json!({"type": "content_block_delta", "index": index,
                    "delta": {"type": "text_delta", "text": rest}})
            }
            _ => {
                let index: i64 = slot[1..]
                    .split('t')
                    .next()
                    .and_then(|i| i.parse().ok())
                    .unwrap_or(0);
                json!({"object": "chat.completion.chunk",
                    "choices": [{"index": index, "delta": {"content": rest}, "finish_reason": null}]})
            }
        };
        if let Value::Object(m) = chunk {
            out.push(Chunk::Full(m));
        }
    }
    out
}

/// Post-call guardrails over a held stream: each slot's text as one reply choice.
fn judge(ctx: &mut RequestGuardrails, held: &mut [Chunk], _style: Style) -> Result<(), LlmError> {
    let owner = Arc::clone(&ctx.owner);
    let rules = ctx.post_rules();
    if rules.is_empty() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let slots = slot_texts(held);
    let mut reply = Value::Object(reply_of(&slots));
    let result = match &ctx.restore {
        Some(masked) => apply_reply_after(&mut reply, &rules, masked),
        None => apply_reply(&mut reply, &rules),
    };
    let took = started.elapsed();
    let selected = ctx.selected.clone();
    match result {
        Ok(applied) => {
            owner.record_builtins(&selected, true, &applied.decisions, took, &mut ctx.records);
            if !applied.decisions.iter().any(|d| d.action == Action::Mask) {
                return Ok(());
            }
            rewrite(held, &slots, &reply);
            Ok(())
        }
        Err(Blocked(d)) => {
            let message = Blocked(d.clone()).message();
            owner.record_builtins(
                &selected,
                true,
                std::slice::from_ref(&d),
                took,
                &mut ctx.records,
            );
            Err(LlmError::bad_request(message))
        }
    }
}
