//! Amazon SageMaker endpoints as the mock speaks them (`POST .../endpoints/{name}/invocations`
//! and `/invocations-response-stream`), told apart by their body:
//!
//! - `{"inputs": prompt, "parameters": {...}}` (a TGI container): the prompt is answered as
//!   one user message; the reply is `[{"generated_text": ...}]`, the stream TGI's
//!   `data:{"token": ...}` lines ([`tgi_parts`]);
//! - `{"messages": [...]}` (a Messages API container): the OpenAI request itself; the
//!   stream is OpenAI's `data:` lines ([`openai_parts`]);
//! - `{"text_inputs": [...]}` (an embedding container): `{"embedding": [[...], ...]}`.
//!
//! Stream lines go out as `PayloadPart` event-stream frames ([`frame`]). Errors are AWS's
//! (`{"message"}` with `x-amzn-errortype`, as Bedrock's mock writes them).

use serde_json::{json, Map, Value};

use super::openai::Reject;

/// `.../endpoints/{name}/invocations` or `.../invocations-response-stream`.
pub(crate) fn is_invocation(path: &str) -> bool {
    path.contains("/endpoints/")
        && (path.ends_with("/invocations") || path.ends_with("/invocations-response-stream"))
}

pub(crate) fn is_stream(path: &str) -> bool {
    path.ends_with("/invocations-response-stream")
}

/// The endpoint name in the path, percent-decoded.
pub(crate) fn endpoint_from_path(path: &str) -> Option<String> {
    let (_, rest) = path.split_once("/endpoints/")?;
    let (name, _) = rest.rsplit_once('/')?;
    Some(super::bedrock::percent_decode(name))
}

/// What a request body asks for.
pub(crate) enum Body {
    /// An OpenAI chat request (from TGI's prompt or the Messages API's body); `tgi` when
    /// the answer goes back in TGI's shape.
    Chat { req: Map<String, Value>, tgi: bool },
    /// An OpenAI embedding request.
    Embedding(Map<String, Value>),
}

/// The request as the OpenAI request the mock answers.
pub(crate) fn to_openai(path: &str, req: &Map<String, Value>) -> Result<Body, Reject> {
    let bad = |m: &str| (400, super::bedrock::error_body(m));
    let model = json!(endpoint_from_path(path).unwrap_or_default());
    if let Some(inputs) = req.get("text_inputs") {
        let mut out = Map::new();
        out.insert("model".into(), model);
        out.insert("input".into(), inputs.clone());
        return Ok(Body::Embedding(out));
    }
    if req.contains_key("messages") {
        let mut out = req.clone();
        out.entry("model").or_insert(model);
        out.insert("stream".into(), json!(is_stream(path)));
        return Ok(Body::Chat {
            req: out,
            tgi: false,
        });
    }
    let Some(prompt) = req.get("inputs").and_then(Value::as_str) else {
        return Err(bad(
            "Received client error (422) from primary with message \"Failed to deserialize the JSON body into the target type: missing field `inputs`\"",
        ));
    };
    let mut out = Map::new();
    out.insert("model".into(), model);
    out.insert(
        "messages".into(),
        json!([{"role": "user", "content": prompt}]),
    );
    let params = req.get("parameters").cloned().unwrap_or(Value::Null);
    for (from, to) in [
        ("max_new_tokens", "max_tokens"),
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("stop", "stop"),
    ] {
        if let Some(v) = params.get(from) {
            out.insert(to.into(), v.clone());
        }
    }
    out.insert("stream".into(), json!(is_stream(path)));
    Ok(Body::Chat {
        req: out,
        tgi: true,
    })
}

/// TGI's non-streaming reply.
pub(crate) fn tgi_reply(completion: &Value) -> Value {
    let text = completion
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .unwrap_or("");
    json!([{"generated_text": text}])
}

/// TGI's stream lines for OpenAI chunks: one per piece of text, then the special end
/// token with `generated_text` and `details`.
pub(crate) fn tgi_parts(chunks: &[Value], completion: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut finish = "stop";
    for chunk in chunks {
        let Some(choice) = chunk.pointer("/choices/0") else {
            continue;
        };
        if let Some(piece) = choice.pointer("/delta/content").and_then(Value::as_str) {
            if !piece.is_empty() {
                let i = out.len();
                text.push_str(piece);
                let event = json!({"index": i, "token": {"id": i, "text": piece, "logprob": -0.5, "special": false},
                                   "generated_text": null, "details": null});
                out.push(Value::String(format!("data:{event}\n\n")));
            }
        }
        if let Some(f) = choice.get("finish_reason").and_then(Value::as_str) {
            finish = f;
        }
    }
    let generated = completion
        .pointer("/usage/completion_tokens")
        .cloned()
        .unwrap_or(json!(out.len()));
    let reason = if finish == "length" {
        "length"
    } else {
        "eos_token"
    };
    let i = out.len();
    let last = json!({"index": i, "token": {"id": 2, "text": "</s>", "logprob": 0.0, "special": true},
                      "generated_text": text,
                      "details": {"finish_reason": reason, "generated_tokens": generated, "seed": null}});
    out.push(Value::String(format!("data:{last}\n\n")));
    out
}

/// OpenAI's stream lines for a Messages API container, `[DONE]` last.
pub(crate) fn openai_parts(chunks: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = chunks
        .iter()
        .map(|c| Value::String(format!("data: {c}\n\n")))
        .collect();
    out.push(Value::String("data: [DONE]\n\n".into()));
    out
}

/// An embedding container's reply for an OpenAI embedding reply.
pub(crate) fn embedding_reply(openai: &Value) -> Value {
    let vectors: Vec<Value> = openai
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|d| d.get("embedding").cloned().unwrap_or(Value::Null))
        .collect();
    json!({"embedding": vectors})
}

/// One stream line (a JSON string of the container's bytes) as a `PayloadPart` frame.
pub(crate) fn frame(part: &Value) -> Vec<u8> {
    let bytes = part.as_str().unwrap_or_default();
    crate::stream::eventstream::event_frame("PayloadPart", bytes.as_bytes())
}
