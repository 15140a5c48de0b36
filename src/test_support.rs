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

/// The API key of [`with_chat_ctx`]: error messages must never quote it.
pub const TEST_KEY: &str = "sk-test-secret";

/// Run `f` with a context for `provider`, with `model` as both the provider's and the
/// caller's model name and [`TEST_KEY`] as the API key.
pub fn with_chat_ctx<T>(
    kind: crate::providers::Endpointkind,
    provider: &str,
    model: &str,
    stream: bool,
    f: impl FnOnce(&crate::providers::ChatContext<'_>) -> T,
) -> T {
    let endpoint = crate::providers::Endpoint {
        base: "http://127.0.0.1:9".into(),
        key: Some(TEST_KEY.to_string()),
    };
    let options = crate::types::CallOptions::default();
    let ctx = crate::providers::ChatContext {
        kind,
        provider,
        model,
        requested_model: model,
        endpoint: &endpoint,
        options: &options,
        stream,
        env: &no_env,
    };
    f(&ctx)
}

/// Replies of the wrong shape every parser must refuse: empty, unknown, and each other
/// provider's reply (OpenAI, Anthropic, Gemini, Cohere v2, Ollama, Bedrock Converse),
/// with an API key echoed in it to check that it is never quoted. `skip` names the
/// shapes the parser accepts (its own, and any that coincide with it).
pub fn foreign_replies(skip: &[&str]) -> Vec<Map<String, Value>> {
    let all = [
        ("none", serde_json::json!({})),
        (
            "none",
            serde_json::json!({"foo": 1, "echo": "sk-test-secret"}),
        ),
        (
            "openai",
            serde_json::json!({"id": "x", "object": "chat.completion", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]}),
        ),
        (
            "anthropic",
            serde_json::json!({"id": "m", "type": "message", "role": "assistant",
                "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn"}),
        ),
        (
            "gemini",
            serde_json::json!({"candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP"}]}),
        ),
        (
            "cohere",
            serde_json::json!({"id": "c", "finish_reason": "COMPLETE",
                "message": {"role": "assistant", "content": [{"type": "text", "text": "hi"}]}}),
        ),
        (
            "ollama",
            serde_json::json!({"model": "m", "response": "hi", "done": true}),
        ),
        (
            "bedrock",
            serde_json::json!({"output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
                "stopReason": "end_turn"}),
        ),
    ];
    all.into_iter()
        .filter(|(name, _)| !skip.contains(name))
        .map(|(_, v)| obj(v))
        .collect()
}

/// Check an error is the malformed-reply `APIError` (500) naming `what`, key not quoted.
pub fn assert_malformed(err: Option<crate::error::LlmError>, what: &str) {
    let err = err.expect("expected an error");
    assert_eq!(
        (err.kind, err.status),
        (crate::error::ErrorKind::Api, 500),
        "{}",
        err.message
    );
    assert!(err.message.contains(what), "{}", err.message);
    assert!(!err.message.contains(TEST_KEY), "{}", err.message);
}
