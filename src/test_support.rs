//! Helpers shared by the unit tests of every module (compiled for tests only).

use serde_json::{Map, Value};

/// A JSON object literal (`json!({...})`) as a map; anything else is an empty map.
pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// An environment with no variables set, for functions that read the environment.
pub fn no_env(_: &str) -> Option<String> {
    None
}
