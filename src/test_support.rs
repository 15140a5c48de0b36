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

/// A throwaway `redis-server` on a free loopback port, killed on drop; it can be stopped
/// and started again on the same port (an outage and a recovery). `start` gives `None`
/// when redis-server is not installed, except under CI, where that fails the test: the
/// Redis tests must never skip silently there. (The Router's shared-state tests carry
/// the same helper.)
pub struct RedisServer {
    child: Option<std::process::Child>,
    pub port: u16,
}

impl RedisServer {
    pub fn start() -> Option<RedisServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let mut server = RedisServer { child: None, port };
        match server.spawn() {
            Ok(()) => Some(server),
            Err(e) if std::env::var_os("CI").is_some() => {
                panic!("redis-server is required in CI for the Redis tests: {e}")
            }
            Err(_) => None,
        }
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        self.child = Some(child);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    /// Kill the server (its data goes with it).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start it again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn().unwrap();
    }

    /// A new link to the server, as another process would have.
    pub fn link(&self) -> std::sync::Arc<crate::cache::link::RedisLink> {
        let info = redis::ConnectionInfo {
            addr: redis::ConnectionAddr::Tcp("127.0.0.1".into(), self.port),
            redis: redis::RedisConnectionInfo::default(),
        };
        crate::cache::link::RedisLink::open(info.into()).unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
