//! Replicate's predictions API as the mock speaks it:
//!
//! - `POST /v1/models/{owner}/{name}/predictions` (also `/v1/deployments/.../predictions`
//!   and `/v1/predictions` with a `version`) with `{"input": {"prompt", ...}}` is answered
//!   as a chat request with the prompt as its one user message (`max_new_tokens` as
//!   `max_tokens`; the model name's directives from the path), by a prediction that is
//!   `starting`, whose `urls.get` and `urls.stream` point back at the mock;
//! - `GET /v1/predictions/{id}` gives that prediction `succeeded`, its `output` the text
//!   in pieces (a list of strings, as language models on Replicate give it);
//! - `GET /v1/streams/{id}` streams it: `event: output` per piece, then `event: done`.
//!
//! The id carries the text (hex), so nothing is stored. Errors are Replicate's
//! `{"title", "detail", "status"}`.

use serde_json::{json, Map, Value};

use super::openai::Reject;

/// The URL prefix the server replaces with its own origin (`handle` knows the host).
pub(crate) const ORIGIN: &str = "mock-origin://";

/// A create call: its path names a model, a deployment or (with `version`) neither.
pub(crate) fn is_create(path: &str) -> bool {
    path == "/v1/predictions"
        || (path.ends_with("/predictions")
            && (path.starts_with("/v1/models/") || path.starts_with("/v1/deployments/")))
}

/// `owner/name` of a create call's path (the version's id for `/v1/predictions`).
pub(crate) fn model_from_path(path: &str) -> Option<String> {
    let rest = path
        .strip_prefix("/v1/models/")
        .or_else(|| path.strip_prefix("/v1/deployments/"))?;
    rest.strip_suffix("/predictions").map(str::to_string)
}

pub(crate) fn error_body(status: u16, message: &str) -> Value {
    json!({"title": "Mock error", "detail": message, "status": status})
}

/// An OpenAI-shaped rejection in Replicate's words.
pub(crate) fn reject((status, body): Reject) -> Reject {
    let message = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("Mock error");
    (status, error_body(status, message))
}

/// The create request as the OpenAI chat request the mock answers.
pub(crate) fn to_openai(
    path: &str,
    req: &Map<String, Value>,
) -> Result<Map<String, Value>, Reject> {
    let input = req.get("input").filter(|i| i.is_object());
    let Some(prompt) = input.and_then(|i| i.get("prompt")).and_then(Value::as_str) else {
        return Err((422, error_body(422, "- input: prompt is required")));
    };
    let model = model_from_path(path)
        .or_else(|| {
            req.get("version")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default();
    let mut out = Map::new();
    out.insert("model".into(), json!(model));
    out.insert(
        "messages".into(),
        json!([{"role": "user", "content": prompt}]),
    );
    if let Some(max) = input.and_then(|i| i.get("max_new_tokens")) {
        out.insert("max_tokens".into(), max.clone());
    }
    Ok(out)
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(id: &str) -> Option<String> {
    let digits = id.strip_prefix('p')?;
    if digits.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// A new prediction for the answer `text`.
pub(crate) fn created(text: &str, stream: bool) -> Value {
    let id = format!("p{}", hex(text));
    let mut urls = json!({
        "get": format!("{ORIGIN}v1/predictions/{id}"),
        "cancel": format!("{ORIGIN}v1/predictions/{id}/cancel"),
    });
    if stream {
        urls["stream"] = json!(format!("{ORIGIN}v1/streams/{id}"));
    }
    json!({"id": id, "status": "starting", "input": {}, "output": null, "error": null, "urls": urls})
}

/// The text in the pieces a model streams (about three characters each, words kept).
fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        current.push(c);
        if current.chars().count() >= 3 {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// `GET /v1/predictions/{id}`: the finished prediction.
pub(crate) fn poll(path: &str) -> Option<Reject> {
    let id = path.strip_prefix("/v1/predictions/")?;
    Some(match unhex(id) {
        Some(text) => (
            200,
            json!({"id": id, "status": "succeeded", "output": pieces(&text), "error": null,
                   "metrics": {"predict_time": 0.01}}),
        ),
        None => (
            404,
            error_body(404, "The requested resource could not be found."),
        ),
    })
}

/// `GET /v1/streams/{id}`: the `output` events and `done`, as `{"event", "data"}`.
pub(crate) fn stream_events(path: &str) -> Option<Result<Vec<Value>, Reject>> {
    let id = path.strip_prefix("/v1/streams/")?;
    Some(match unhex(id) {
        Some(text) => {
            let mut events: Vec<Value> = pieces(&text)
                .into_iter()
                .map(|p| json!({"event": "output", "data": p}))
                .collect();
            events.push(json!({"event": "done", "data": "{}"}));
            Ok(events)
        }
        None => Err((
            404,
            error_body(404, "The requested resource could not be found."),
        )),
    })
}

/// One `{"event", "data"}` as server-sent event bytes (a multi-line text in several
/// `data:` lines).
pub(crate) fn sse(event: &Value) -> String {
    let name = event
        .get("event")
        .and_then(Value::as_str)
        .unwrap_or("output");
    let data = event.get("data").and_then(Value::as_str).unwrap_or("");
    let mut out = format!("event: {name}\n");
    for line in data.split('\n') {
        out.push_str(&format!("data: {line}\n"));
    }
    out.push('\n');
    out
}

/// The prediction's URLs on the server's own origin.
pub(crate) fn absolute_urls(body: &mut Value, origin: &str) {
    if let Some(Value::Object(urls)) = body.get_mut("urls") {
        for url in urls.values_mut() {
            if let Some(rest) = url.as_str().and_then(|u| u.strip_prefix(ORIGIN)) {
                *url = json!(format!("{origin}/{rest}"));
            }
        }
    }
}
