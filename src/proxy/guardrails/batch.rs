//! A batch's input file (`POST /files` with `purpose=batch`): every JSONL line is a
//! request the provider runs later, with no proxy in between, so the guardrails run over
//! each line's `body` before the file leaves the proxy, with the line's `url` as the call
//! type and the same selection as a request (`default_on`, the key's and team's, names in
//! the line's body). A block refuses the upload (400 naming the line); a mask rewrites
//! the line (the provider only ever sees the placeholder; a batch's output comes back
//! later through `/files/{id}/content`, where nothing is restored); a line a guardrail
//! marks sensitive, or the client tagged so, refuses the upload: a batch goes to one
//! deployment whole and cannot be routed by sensitivity. The file is read and written a
//! line at a time, never held whole.
//!
//! A fine-tuning file (`purpose=fine-tune`) is training text the provider keeps: every
//! string of each line (chat examples' messages, preference pairs' outputs, tool
//! arguments) is guarded as one request's messages, in the line's order, and a masked
//! string is written back in its place.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};

use super::{ProxyGuardrails, Record, Refusal, SENSITIVE_TAG};
use crate::guardrails::request::strings_in;
use crate::guardrails::Action;
use crate::proxy::auth::KeyGrant;
use crate::proxy::errors::ProxyError;

/// Guard the batch input or fine-tuning file an upload's `body` names (`file.path`,
/// written by `routes::uploads`): the records of what ran, one per guardrail, hook and
/// action, with the kinds found summed over the lines. Nothing for another `purpose`.
pub async fn guard_input_file(
    guardrails: &Arc<ProxyGuardrails>,
    body: &Map<String, Value>,
    grant: Option<&KeyGrant>,
    key_hash: Option<&str>,
) -> Result<Vec<Record>, Refusal> {
    let layout = match body.get("purpose").and_then(Value::as_str) {
        Some("batch") => Layout::Batch,
        Some("fine-tune") => Layout::Training,
        _ => return Ok(Vec::new()),
    };
    let Some(path) = body
        .get("file")
        .and_then(|f| f.get("path"))
        .and_then(Value::as_str)
    else {
        return Ok(Vec::new());
    };
    let path = PathBuf::from(path);
    let guarded = path.with_extension("guarded");
    let result = rewrite(guardrails, layout, &path, &guarded, grant, key_hash).await;
    match result {
        Ok((records, true)) => {
            tokio::fs::rename(&guarded, &path)
                .await
                .map_err(|e| unreadable(&e.to_string(), Vec::new()))?;
            Ok(records)
        }
        Ok((records, false)) => {
            let _ = tokio::fs::remove_file(&guarded).await;
            Ok(records)
        }
        Err(refusal) => {
            let _ = tokio::fs::remove_file(&guarded).await;
            Err(refusal)
        }
    }
}

/// What a file's lines are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Batch requests: `{custom_id, method, url, body}`.
    Batch,
    /// Fine-tuning examples: every string is training text.
    Training,
}

/// Each line of `path` guarded into `out`: the merged records, and whether any line
/// changed.
async fn rewrite(
    guardrails: &Arc<ProxyGuardrails>,
    layout: Layout,
    path: &Path,
    out: &Path,
    grant: Option<&KeyGrant>,
    key_hash: Option<&str>,
) -> Result<(Vec<Record>, bool), Refusal> {
    let io = |e: std::io::Error| unreadable(&e.to_string(), Vec::new());
    let input = tokio::fs::File::open(path).await.map_err(io)?;
    let mut lines = BufReader::new(input).lines();
    let mut writer = BufWriter::new(tokio::fs::File::create(out).await.map_err(io)?);
    let mut records: Vec<Record> = Vec::new();
    let mut changed = false;
    let mut n = 0usize;
    while let Some(line) = lines.next_line().await.map_err(io)? {
        n += 1;
        let guarded = match layout {
            Layout::Batch => guard_line(guardrails, &line, n, grant, key_hash).await,
            Layout::Training => guard_example(guardrails, &line, n, grant, key_hash).await,
        };
        let written = match guarded {
            Ok((line_records, rewritten)) => {
                merge(&mut records, line_records);
                rewritten
            }
            Err(mut refusal) => {
                merge(&mut records, std::mem::take(&mut refusal.records));
                refusal.records = records;
                return Err(refusal);
            }
        };
        changed |= written.is_some();
        let text = written.as_deref().unwrap_or(&line);
        writer.write_all(text.as_bytes()).await.map_err(io)?;
        writer.write_all(b"\n").await.map_err(io)?;
    }
    writer.flush().await.map_err(io)?;
    Ok((records, changed))
}

/// One line: its records, and its new text when a guardrail changed its body.
async fn guard_line(
    guardrails: &Arc<ProxyGuardrails>,
    line: &str,
    n: usize,
    grant: Option<&KeyGrant>,
    key_hash: Option<&str>,
) -> Result<(Vec<Record>, Option<String>), Refusal> {
    // Blank and malformed lines go as they are: the provider refuses them, and there is
    // no request in them to guard.
    let Ok(Value::Object(mut request)) = serde_json::from_str::<Value>(line) else {
        return Ok((Vec::new(), None));
    };
    let Some(Value::Object(mut body)) = request.remove("body") else {
        return Ok((Vec::new(), None));
    };
    let call_type = call_type(request.get("url").and_then(Value::as_str).unwrap_or(""));
    let which = |request: &Map<String, Value>| match request.get("custom_id") {
        Some(Value::String(id)) => format!("line {n} (custom_id {id:?})"),
        _ => format!("line {n}"),
    };
    let ctx = match guardrails
        .before_call(&mut body, grant, key_hash, call_type)
        .await
    {
        Ok(ctx) => ctx,
        Err(mut refusal) => {
            refusal.error.message = format!(
                "{}: {} (a batch's input file is guarded line by line)",
                which(&request),
                refusal.error.message
            );
            return Err(refusal);
        }
    };
    let Some(ctx) = ctx else {
        return Ok((Vec::new(), None));
    };
    if is_sensitive(&body) {
        return Err(Refusal {
            error: ProxyError::bad_param(
                "file",
                format!(
                    "{}: the request is sensitive (tagged {SENSITIVE_TAG:?}, or a guardrail routed it): a batch goes to one deployment as a whole and cannot be routed by sensitivity. Send it as a request, which goes only to deployments allowed sensitive data.",
                    which(&request)
                ),
            ),
            records: ctx.records,
        });
    }
    // Masked by a built-in, or changed by a class.
    let changed = ctx
        .records
        .iter()
        .any(|r| matches!(r.action, Some(Action::Mask | Action::Modify)));
    let text = changed.then(|| {
        request.insert("body".into(), Value::Object(body));
        Value::Object(request).to_string()
    });
    Ok((ctx.records, text))
}

/// One fine-tuning example: its strings guarded as the messages of one request, and the
/// line's new text when a guardrail changed any of them.
async fn guard_example(
    guardrails: &Arc<ProxyGuardrails>,
    line: &str,
    n: usize,
    grant: Option<&KeyGrant>,
    key_hash: Option<&str>,
) -> Result<(Vec<Record>, Option<String>), Refusal> {
    let Ok(mut example) = serde_json::from_str::<Value>(line) else {
        return Ok((Vec::new(), None));
    };
    let mut texts = Vec::new();
    strings_in(&mut example, &mut |s: &mut String| texts.push(s.clone()));
    if texts.is_empty() {
        return Ok((Vec::new(), None));
    }
    let count = texts.len();
    let messages: Vec<Value> = texts
        .into_iter()
        .map(|t| json!({"role": "user", "content": t}))
        .collect();
    let mut body = Map::new();
    body.insert("messages".into(), Value::Array(messages));
    let ctx = match guardrails
        .before_call(&mut body, grant, key_hash, "acompletion")
        .await
    {
        Ok(Some(ctx)) => ctx,
        Ok(None) => return Ok((Vec::new(), None)),
        Err(mut refusal) => {
            refusal.error.message = format!(
                "line {n}: {} (a fine-tuning file is guarded line by line)",
                refusal.error.message
            );
            return Err(refusal);
        }
    };
    if is_sensitive(&body) {
        return Err(Refusal {
            error: ProxyError::bad_param(
                "file",
                format!(
                    "line {n}: the example is sensitive (a guardrail routed it): a fine-tuning file goes to one provider as a whole and cannot be routed by sensitivity."
                ),
            ),
            records: ctx.records,
        });
    }
    let changed = ctx
        .records
        .iter()
        .any(|r| matches!(r.action, Some(Action::Mask | Action::Modify)));
    if !changed {
        return Ok((ctx.records, None));
    }
    // Each string back in its place, in the order read.
    let new: Vec<String> = match body.get("messages") {
        Some(Value::Array(m)) => m
            .iter()
            .filter_map(|m| m.get("content").and_then(Value::as_str))
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    if new.len() != count {
        return Err(Refusal {
            error: ProxyError::bad_param(
                "file",
                format!("line {n}: a guardrail changed the shape of the example's text (from {count} strings to {}), which cannot be written back", new.len()),
            ),
            records: ctx.records,
        });
    }
    let mut new = new.into_iter();
    strings_in(&mut example, &mut |s: &mut String| {
        if let Some(t) = new.next() {
            *s = t;
        }
    });
    Ok((ctx.records, Some(example.to_string())))
}

/// LiteLLM's call type of a batch line's `url`.
fn call_type(url: &str) -> &'static str {
    let path = url.split('?').next().unwrap_or("");
    if path.ends_with("/embeddings") {
        "aembedding"
    } else if path.ends_with("/responses") {
        "aresponses"
    } else if path.ends_with("/completions") && !path.ends_with("/chat/completions") {
        "atext_completion"
    } else {
        "acompletion"
    }
}

/// Whether the request carries [`SENSITIVE_TAG`] where the Router reads tags.
fn is_sensitive(body: &Map<String, Value>) -> bool {
    let tagged = |tags: Option<&Value>| {
        tags.and_then(Value::as_array)
            .is_some_and(|t| t.iter().any(|x| x.as_str() == Some(SENSITIVE_TAG)))
    };
    tagged(body.get("tags")) || tagged(body.get("metadata").and_then(|m| m.get("tags")))
}

/// Add `more` to `records`, one record per guardrail, hook and action: the kinds found
/// summed, the time added up.
fn merge(records: &mut Vec<Record>, more: Vec<Record>) {
    for r in more {
        match records
            .iter_mut()
            .find(|x| x.guardrail == r.guardrail && x.hook == r.hook && x.action == r.action)
        {
            Some(x) => {
                x.duration += r.duration;
                for (kind, count) in r.kinds {
                    match x.kinds.iter_mut().find(|(k, _)| *k == kind) {
                        Some((_, c)) => *c += count,
                        None => x.kinds.push((kind, count)),
                    }
                }
            }
            None => records.push(r),
        }
    }
}

fn unreadable(reason: &str, records: Vec<Record>) -> Refusal {
    Refusal {
        error: ProxyError::bad_param(
            "file",
            format!("The batch input file could not be guarded: {reason}"),
        ),
        records,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_types_follow_the_line_url() {
        assert_eq!(call_type("/v1/chat/completions"), "acompletion");
        assert_eq!(call_type("/v1/completions"), "atext_completion");
        assert_eq!(call_type("/v1/embeddings"), "aembedding");
        assert_eq!(call_type("/v1/responses?x=1"), "aresponses");
        assert_eq!(call_type(""), "acompletion");
    }
}
