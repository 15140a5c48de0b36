//! The bridge's memory of earlier turns, for `previous_response_id` on providers that
//! have no Responses API of their own: each bridged Response's whole conversation (its
//! input as chat messages, then the assistant's reply) under the Response's id.
//!
//! In this process only, and bounded: at most [`CAPACITY`] conversations; storing one more
//! forgets the oldest. A conversation also holds the Response itself, so
//! `get_response` / `delete_response` work on bridged ids too. `store=False` keeps a
//! Response out of it, as OpenAI does. Beside them, the Router's pins: which deployment
//! made a Response, for `previous_response_id` (see [`pin`]).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

/// How many conversations are kept.
pub const CAPACITY: usize = 1000;

/// One stored turn: the chat messages up to and including the reply, and the Response.
#[derive(Debug, Clone)]
pub struct Turn {
    pub messages: Vec<Value>,
    pub response: Map<String, Value>,
}

/// A turn as it is kept: its JSON text, one allocation each, so that storing a turn
/// costs a serialisation (no deep copy of the maps) and forgetting one a single free.
struct Stored {
    messages: Box<str>,
    response: Box<str>,
}

#[derive(Default)]
struct Store {
    order: VecDeque<String>,
    turns: HashMap<String, Stored>,
}

static STORE: Mutex<Option<Store>> = Mutex::new(None);

fn with<T>(f: impl FnOnce(&mut Store) -> T) -> T {
    let mut guard = STORE.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(Store::default))
}

/// Keep the turn of `messages` then `reply` (the assistant's message), and `response`,
/// under `id`, forgetting the oldest beyond [`CAPACITY`].
pub fn put_turn(id: &str, messages: &[Value], reply: &Value, response: &Map<String, Value>) {
    let mut text = serde_json::to_string(messages).unwrap_or_else(|_| "[]".into());
    let reply = serde_json::to_string(reply).unwrap_or_else(|_| "null".into());
    text.pop(); // the closing `]`
    if messages.is_empty() {
        text.push_str(&reply);
    } else {
        text.push(',');
        text.push_str(&reply);
    }
    text.push(']');
    let response = serde_json::to_string(response).unwrap_or_else(|_| "{}".into());
    insert(
        id,
        Stored {
            messages: text.into_boxed_str(),
            response: response.into_boxed_str(),
        },
    );
}

fn insert(id: &str, stored: Stored) {
    with(|s| {
        if s.turns.insert(id.to_string(), stored).is_none() {
            s.order.push_back(id.to_string());
        }
        while s.order.len() > CAPACITY {
            if let Some(old) = s.order.pop_front() {
                s.turns.remove(&old);
            }
        }
    })
}

/// The turn stored under `id`.
pub fn get(id: &str) -> Option<Arc<Turn>> {
    let (messages, response) = with(|s| {
        s.turns
            .get(id)
            .map(|t| (t.messages.clone(), t.response.clone()))
    })?;
    Some(Arc::new(Turn {
        messages: serde_json::from_str(&messages).unwrap_or_default(),
        response: serde_json::from_str(&response).unwrap_or_default(),
    }))
}

/// Whether a turn is stored under `id`.
pub fn contains(id: &str) -> bool {
    with(|s| s.turns.contains_key(id))
}

/// Forget `id`; true when it was stored.
pub fn remove(id: &str) -> bool {
    with(|s| {
        let found = s.turns.remove(id).is_some();
        if found {
            s.order.retain(|k| k != id);
        }
        found
    })
}

/// Which Router deployment made each Response the Router routed (its `model_info.id`),
/// so that a follow-up with `previous_response_id` goes to the same account: OpenAI and
/// Azure keep a Response only where it was made. Bounded like the turns.
#[derive(Default)]
struct Pins {
    order: VecDeque<String>,
    deployment: HashMap<String, String>,
}

static PINS: Mutex<Option<Pins>> = Mutex::new(None);

/// Remember that `response_id` was made by the deployment `deployment_id`.
pub fn pin(response_id: &str, deployment_id: &str) {
    let mut guard = PINS.lock().unwrap_or_else(|e| e.into_inner());
    let pins = guard.get_or_insert_with(Pins::default);
    if pins
        .deployment
        .insert(response_id.to_string(), deployment_id.to_string())
        .is_none()
    {
        pins.order.push_back(response_id.to_string());
    }
    while pins.order.len() > CAPACITY {
        if let Some(old) = pins.order.pop_front() {
            pins.deployment.remove(&old);
        }
    }
}

/// The deployment that made `response_id`, when the Router routed it.
pub fn deployment_of(response_id: &str) -> Option<String> {
    let guard = PINS.lock().unwrap_or_else(|e| e.into_inner());
    guard.as_ref()?.deployment.get(response_id).cloned()
}

/// How many turns are stored.
pub fn len() -> usize {
    with(|s| s.turns.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_is_bounded_and_forgets_the_oldest_first() {
        let prefix = "store-test-bounded";
        for i in 0..CAPACITY + 5 {
            put_turn(&format!("{prefix}-{i}"), &[], &Value::from(i), &Map::new());
        }
        assert!(len() <= CAPACITY);
        assert!(get(&format!("{prefix}-0")).is_none());
        let last = get(&format!("{prefix}-{}", CAPACITY + 4)).unwrap();
        assert_eq!(last.messages, vec![Value::from(CAPACITY + 4)]);
        assert!(contains(&format!("{prefix}-{}", CAPACITY + 4)));
        assert!(remove(&format!("{prefix}-{}", CAPACITY + 4)));
        assert!(!contains(&format!("{prefix}-{}", CAPACITY + 4)));
        assert!(!remove(&format!("{prefix}-{}", CAPACITY + 4)));
    }

    #[test]
    fn a_turn_is_kept_as_its_messages_then_the_reply() {
        let response: Map<String, Value> =
            serde_json::from_value(serde_json::json!({"id": "r", "output": [1]})).unwrap();
        put_turn(
            "store-test-turn",
            &[Value::from("a"), Value::from(2)],
            &serde_json::json!({"role": "assistant"}),
            &response,
        );
        let t = get("store-test-turn").unwrap();
        assert_eq!(
            t.messages,
            vec![
                Value::from("a"),
                Value::from(2),
                serde_json::json!({"role": "assistant"})
            ]
        );
        assert_eq!(t.response, response);
        put_turn("store-test-empty", &[], &Value::from("only"), &Map::new());
        assert_eq!(
            get("store-test-empty").unwrap().messages,
            vec![Value::from("only")]
        );
    }

    #[test]
    fn pins_are_bounded_too() {
        for i in 0..CAPACITY + 2 {
            pin(&format!("pin-test-{i}"), &format!("dep-{i}"));
        }
        assert_eq!(deployment_of("pin-test-0"), None);
        assert_eq!(
            deployment_of(&format!("pin-test-{}", CAPACITY + 1)).as_deref(),
            Some(format!("dep-{}", CAPACITY + 1).as_str())
        );
    }
}
