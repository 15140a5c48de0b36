//! The `rustllm-proxy` binary (no Python): it starts on the example config, answers the
//! tutorial's chat request with its mock deployments, and exits 0 on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn http(addr: &str, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn the_binary_serves_the_example_config_and_stops_on_sigterm() {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/proxy/config.yaml");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rustllm-proxy"))
        .args(["--config", config, "--host", "127.0.0.1", "--port", "0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the proxy exited before listening")
            .unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no listening line"
        );
    };
    let live = http(
        &addr,
        "GET /health/liveliness HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(live.starts_with("HTTP/1.1 200"), "{live}");
    assert!(live.ends_with("\"I'm alive!\""), "{live}");
    let body =
        r#"{"model": "gpt-4o", "messages": [{"role": "user", "content": "what is your name?"}]}"#;
    let reply = http(
        &addr,
        &format!(
            "POST /chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-1234\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("Hello from rustllm's proxy"), "{reply}");
    assert!(
        reply
            .to_ascii_lowercase()
            .contains("x-litellm-model-id: gpt-4o-mock-"),
        "{reply}"
    );
    let unauthorized = http(
        &addr,
        &format!(
            "POST /chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(unauthorized.starts_with("HTTP/1.1 401"), "{unauthorized}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(code) = child.try_wait().unwrap() {
            assert!(code.success(), "{code:?}");
            break;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the proxy did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
