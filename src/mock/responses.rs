//! OpenAI's Responses API as the mock speaks it: `POST /v1/responses` (a Response, or
//! with `stream: true` its named SSE events, no `[DONE]`), `GET /v1/responses/{id}` and
//! `DELETE /v1/responses/{id}` for the Responses it gave. The answer is decided like a
//! chat answer (directives, scripts, tools, `text.format` → JSON), from the request read as
//! chat.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};

use super::openai::{self, ChatAnswer, Reject};
use crate::responses::bridge::{self, Bridge};
use crate::responses::events::EventWriter;

/// How many Responses the mock remembers for `GET`/`DELETE`.
const KEPT: usize = 1000;

/// The Responses a mock server gave, by id (bounded: the oldest go first).
#[derive(Default)]
pub(crate) struct Given {
    order: VecDeque<String>,
    by_id: HashMap<String, Value>,
}

impl Given {
    fn keep(&mut self, response: &Value) {
        let Some(id) = response.get("id").and_then(Value::as_str) else {
            return;
        };
        self.by_id.insert(id.to_string(), response.clone());
        self.order.push_back(id.to_string());
        while self.order.len() > KEPT {
            if let Some(old) = self.order.pop_front() {
                self.by_id.remove(&old);
            }
        }
    }
}

fn lock(m: &Mutex<Given>) -> std::sync::MutexGuard<'_, Given> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `Some(id)` for `/responses/{id}`.
pub(crate) fn id_in_path(path: &str) -> Option<&str> {
    let (_, rest) = path.rsplit_once("/responses/")?;
    (!rest.is_empty() && !rest.contains('/')).then_some(rest)
}

/// `GET` or `DELETE /responses/{id}`: the Response, a deletion notice, or OpenAI's 404.
pub(crate) fn by_id(given: &Mutex<Given>, delete: bool, id: &str) -> Reject {
    let mut given = lock(given);
    let found = if delete {
        given.order.retain(|k| k != id);
        given.by_id.remove(id)
    } else {
        given.by_id.get(id).cloned()
    };
    match (found, delete) {
        (Some(_), true) => (
            200,
            json!({"id": id, "object": "response.deleted", "deleted": true}),
        ),
        (Some(r), false) => (200, r),
        (None, _) => (
            404,
            openai::error_body(
                &format!("Response with id '{id}' not found."),
                "invalid_request_error",
                None,
                None,
            ),
        ),
    }
}

/// The request as a chat request, and the bridge that writes the answer back. The mock
/// needs no history to answer, so `previous_response_id` is only echoed.
pub(crate) fn to_chat(req: &Map<String, Value>) -> Result<(Map<String, Value>, Bridge), Reject> {
    let mut req = req.clone();
    let previous = req.remove("previous_response_id");
    let store = req.insert("store".into(), Value::Bool(false));
    crate::responses::check_request(&req).map_err(invalid)?;
    let (chat, mut bridge) = bridge::to_chat(req).map_err(invalid)?;
    bridge.echo.insert(
        "previous_response_id".into(),
        previous.unwrap_or(Value::Null),
    );
    bridge.echo.insert(
        "store".into(),
        Value::Bool(store.and_then(|s| s.as_bool()) != Some(false)),
    );
    Ok((chat, bridge))
}

fn invalid(e: crate::error::LlmError) -> Reject {
    (
        400,
        openai::error_body(&e.message, "invalid_request_error", None, None),
    )
}

/// The Response for `answer`, kept for `GET`.
pub(crate) fn reply(given: &Mutex<Given>, bridge: &Bridge, answer: &ChatAnswer) -> Value {
    let chat = match answer.completion() {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let mut response = Value::Object(bridge.reply(&chat));
    response["id"] = json!(format!("resp_mock_{}", answer.id));
    lock(given).keep(&response);
    response
}

/// The stream events for `answer`; the final Response is kept for `GET`.
pub(crate) fn events(given: &Mutex<Given>, bridge: Bridge, answer: &ChatAnswer) -> Vec<Value> {
    let mut bridge = bridge;
    bridge.id = format!("resp_mock_{}", answer.id);
    let mut writer = EventWriter::new(Arc::new(bridge));
    let mut out = Vec::new();
    for chunk in answer.chunks() {
        if let Value::Object(c) = chunk {
            writer.chunk(c, &mut out);
        }
    }
    writer.finish(&mut out);
    let events: Vec<Value> = out
        .into_iter()
        .map(|c| Value::Object(c.into_map()))
        .collect();
    if let Some(done) = events.last().and_then(|e| e.get("response")) {
        lock(given).keep(done);
    }
    events
}
