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
        // The free port is found by binding and letting go, so another test's server
        // may take it first: then ours exits, and `spawn` says so; try another port.
        let mut last = None;
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .unwrap();
            let mut server = RedisServer { child: None, port };
            match server.spawn() {
                Ok(()) => return Some(server),
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last = Some(e),
                Err(e) if std::env::var_os("CI").is_some() => {
                    panic!("redis-server is required in CI for the Redis tests: {e}")
                }
                Err(_) => return None,
            }
        }
        panic!("redis-server found no free port: {last:?}");
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let mut child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let pid = child.id();
        for _ in 0..200 {
            if child.try_wait()?.is_some() {
                return Err(std::io::ErrorKind::AddrInUse.into());
            }
            // Ours, not another test's server on the same port: its `process_id`.
            if serving_pid(self.port) == Some(pid) {
                self.child = Some(child);
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(std::io::ErrorKind::AddrInUse.into())
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

    /// How many times this Redis has run each of `commands`, summed (`INFO
    /// commandstats`: the commands scripts and pipelines run count too).
    pub async fn command_calls(&self, commands: &[&str]) -> u64 {
        let info: String = self
            .link()
            .run(|mut c| async move {
                redis::cmd("INFO")
                    .arg("commandstats")
                    .query_async(&mut c)
                    .await
            })
            .await
            .unwrap_or_default();
        commands
            .iter()
            .filter_map(|name| {
                info.lines()
                    .find_map(|l| l.strip_prefix(&format!("cmdstat_{name}:calls=")))
                    .and_then(|rest| rest.split(',').next())
                    .and_then(|n| n.parse::<u64>().ok())
            })
            .sum()
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

/// The `process_id` of the redis-server answering on `port`, if one does.
fn serving_pid(port: u16) -> Option<u32> {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    conn.set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .ok()?;
    conn.write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
        .ok()?;
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    while !text.contains("process_id:") || !text[text.find("process_id:")?..].contains("\r\n") {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let rest = &text[text.find("process_id:")? + "process_id:".len()..];
    rest[..rest.find("\r\n")?].trim().parse().ok()
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
