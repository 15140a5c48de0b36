//! The mock over real sockets: what a client sends and what it gets back.
// A failed assertion in a test is the point of the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{MockServer, ScriptedResponse};

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn post(
    server: &MockServer,
    path: &str,
    body: &Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = client()
        .post(format!("{}{path}", server.base_url()))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, headers, value)
}

async fn chat(server: &MockServer, body: Value) -> (u16, Value) {
    let (status, _, value) = post(server, "/chat/completions", &body).await;
    (status, value)
}

fn hello(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi there"}]})
}

/// The `data:` payloads of an SSE body, in order.
fn sse_events(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn default_chat_completion_has_openai_shape() {
    let server = MockServer::start().unwrap();
    let (status, body) = chat(&server, hello("gpt-4o-mini")).await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["id"], "chatcmpl-mock-1");
    assert_eq!(body["model"], "gpt-4o-mini");
    assert!(body["created"].as_u64().unwrap() > 1_600_000_000);
    assert!(body.get("system_fingerprint").is_none());
    let choice = &body["choices"][0];
    assert_eq!(
        choice["message"],
        json!({"role": "assistant", "content": "Hello from MockServer!"})
    );
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["logprobs"], Value::Null);
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5})
    );
}

#[tokio::test]
async fn echo_n_and_max_tokens() {
    let server = MockServer::start().unwrap();
    let body = json!({"model": "openai/echo", "n": 2, "max_tokens": 2, "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "one two"}, {"type": "text", "text": "three"}]}
    ]});
    let (_, body) = chat(&server, body).await;
    let choices = body["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 2);
    assert_eq!(choices[1]["index"], 1);
    assert_eq!(choices[0]["message"]["content"], "one two");
    assert_eq!(choices[0]["finish_reason"], "length");
    assert_eq!(body["usage"]["prompt_tokens"], 5);
    assert_eq!(body["usage"]["completion_tokens"], 4);
}

#[tokio::test]
async fn tool_calls_fill_the_schema() {
    let server = MockServer::start().unwrap();
    let weather = json!({"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
        "required": ["city"]}}});
    let time = json!({"type": "function", "function": {"name": "get_time", "parameters": {
        "type": "object", "properties": {"tz": {"type": "integer"}}}}});
    let mut req = hello("mock-tool");
    req["tools"] = json!([weather, time]);
    let (_, body) = chat(&server, req.clone()).await;
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let calls = choice["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    let id = calls[0]["id"].as_str().unwrap();
    assert!(id.starts_with("call_") && id.len() == 29);
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"city": "example", "unit": "c"}));

    req["model"] = json!("gpt-4o");
    req["tool_choice"] = json!("required");
    let (_, body) = chat(&server, req.clone()).await;
    assert_eq!(
        body["choices"][0]["message"]["tool_calls"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    req["tool_choice"] = json!({"type": "function", "function": {"name": "get_time"}});
    let (_, body) = chat(&server, req.clone()).await;
    let calls = body["choices"][0]["message"]["tool_calls"]
        .as_array()
        .unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["function"]["arguments"], "{\"tz\":1}");

    // Tools offered but not demanded: a plain answer.
    req["tool_choice"] = json!("auto");
    let (_, body) = chat(&server, req).await;
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn error_directives_and_bad_requests() {
    let server = MockServer::start().unwrap();
    let (status, body) = chat(&server, hello("openai/error-429")).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["message"], "Mock error 429");
    assert_eq!(body["error"]["param"], Value::Null);

    let (status, body) = chat(&server, hello("context-window-error")).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "context_length_exceeded");

    let (status, body) = chat(&server, hello("content-policy-error")).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "content_policy_violation");

    let (status, _, body) = post(&server, "/nowhere", &hello("x")).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["message"], "Invalid URL (POST /v1/nowhere)");

    let response = client()
        .post(format!("{}/chat/completions", server.base_url()))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(server.last_request().unwrap().body, json!("{not json"));
}

#[tokio::test]
async fn scripts_are_served_in_order_and_override_directives() {
    let server = MockServer::start().unwrap();
    server.push(ScriptedResponse {
        headers: vec![("retry-after".into(), "3".into())],
        times: 2,
        ..ScriptedResponse::error(503, "overloaded")
    });
    server.push(ScriptedResponse::text("scripted"));
    server.push(ScriptedResponse {
        body: Some(json!({"custom": true})),
        status: 201,
        ..Default::default()
    });
    server.push(ScriptedResponse {
        body: Some(json!("<html>bad gateway</html>")),
        status: 502,
        ..Default::default()
    });
    for _ in 0..2 {
        let (status, headers, body) = post(&server, "/chat/completions", &hello("gpt")).await;
        assert_eq!(status, 503);
        assert_eq!(headers["retry-after"], "3");
        assert_eq!(body["error"]["message"], "overloaded");
        assert_eq!(body["error"]["type"], "server_error");
    }
    // The script beats the model name's error directive.
    let (status, body) = chat(&server, hello("error-500")).await;
    assert_eq!(
        (status, &body["choices"][0]["message"]["content"]),
        (200, &json!("scripted"))
    );
    let (status, body) = chat(&server, hello("gpt")).await;
    assert_eq!((status, body), (201, json!({"custom": true})));
    let (status, headers, body) = post(&server, "/chat/completions", &hello("gpt")).await;
    assert_eq!((status, body), (502, json!("<html>bad gateway</html>")));
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(server.pending_scripts(), 0);
    let (status, _) = chat(&server, hello("gpt")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn delays_and_disconnects() {
    let server = MockServer::start().unwrap();
    server.push(ScriptedResponse {
        delay: Duration::from_millis(60),
        ..Default::default()
    });
    let started = Instant::now();
    chat(&server, hello("gpt")).await;
    assert!(started.elapsed() >= Duration::from_millis(60));

    let started = Instant::now();
    chat(&server, hello("slow-40")).await;
    assert!(started.elapsed() >= Duration::from_millis(40));

    server.set_latency(Duration::from_millis(30));
    let started = Instant::now();
    chat(&server, hello("gpt")).await;
    assert!(started.elapsed() >= Duration::from_millis(30));
    server.set_latency(Duration::ZERO);

    server.push(ScriptedResponse {
        disconnect: true,
        ..Default::default()
    });
    let result = client()
        .post(format!("{}/chat/completions", server.base_url()))
        .body(hello("gpt").to_string())
        .send()
        .await;
    assert!(
        result.is_err(),
        "expected a connection error, got {result:?}"
    );
    // The server is still fine afterwards.
    let (status, _) = chat(&server, hello("gpt")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn requests_are_recorded() {
    let server = MockServer::start().unwrap();
    client()
        .post(format!(
            "{}/chat/completions?api-version=2024",
            server.base_url()
        ))
        .header("Authorization", "Bearer sk-test")
        .header("X-Custom", "1")
        .body(hello("gpt").to_string())
        .send()
        .await
        .unwrap();
    client()
        .get(format!("{}/models", server.base_url()))
        .send()
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/v1/chat/completions");
    assert_eq!(first.query, "api-version=2024");
    assert_eq!(first.header("authorization"), Some("Bearer sk-test"));
    assert!(first
        .headers
        .iter()
        .any(|(k, v)| k == "x-custom" && v == "1"));
    assert_eq!(first.body, hello("gpt"));
    assert_eq!(requests[1].method, "GET");
    assert_eq!(requests[1].body, Value::Null);
    server.clear();
    assert_eq!(server.request_count(), 0);

    server.set_recording(false);
    chat(&server, hello("gpt")).await;
    assert_eq!((server.request_count(), server.requests().len()), (1, 0));
}

#[tokio::test]
async fn embeddings_are_deterministic() {
    let server = MockServer::start().unwrap();
    let req =
        json!({"model": "text-embedding-3-small", "input": ["a b", "c", "a b"], "dimensions": 4});
    let (status, _, body) = post(&server, "/embeddings", &req).await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "list");
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    assert_eq!(data[2]["index"], 2);
    assert_eq!(data[0]["embedding"].as_array().unwrap().len(), 4);
    assert_eq!(data[0]["embedding"], data[2]["embedding"]);
    assert_ne!(data[0]["embedding"], data[1]["embedding"]);
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 5, "total_tokens": 5})
    );

    let req = json!({"model": "e", "input": "a b", "dimensions": 4, "encoding_format": "base64"});
    let (_, _, b64) = post(&server, "/embeddings", &req).await;
    let floats: Vec<f32> = super::openai::embedding_vector("a b", 4);
    let bytes: Vec<u8> = floats.iter().flat_map(|x| x.to_le_bytes()).collect();
    assert_eq!(
        b64["data"][0]["embedding"],
        json!(super::openai::base64_encode(&bytes))
    );
    let as_json: Vec<f64> = floats.iter().map(|&x| f64::from(x)).collect();
    assert_eq!(data[0]["embedding"], json!(as_json));
}

#[tokio::test]
async fn legacy_completions_and_models() {
    let server = MockServer::start().unwrap();
    let req = json!({"model": "echo", "prompt": "say this"});
    let (_, _, body) = post(&server, "/completions", &req).await;
    assert_eq!(body["object"], "text_completion");
    assert_eq!(body["choices"][0]["text"], "say this");
    assert_eq!(body["choices"][0]["logprobs"], Value::Null);
    let models: Value = serde_json::from_slice(
        &client()
            .get(format!("{}/models", server.base_url()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(models["object"], "list");
    assert!(!models["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn streams_follow_openai_framing() {
    let server = MockServer::start().unwrap();
    let mut req = hello("chunks-3");
    req["stream"] = json!(true);
    req["stream_options"] = json!({"include_usage": true});
    let response = client()
        .post(format!("{}/chat/completions", server.base_url()))
        .body(req.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let events = sse_events(&response.text().await.unwrap());
    assert_eq!(events.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    // role, 3 content chunks, finish, usage
    assert_eq!(chunks.len(), 6);
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert_eq!(chunks[0]["object"], "chat.completion.chunk");
    let text: String = chunks[1..4]
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Hello from MockServer!");
    assert_eq!(
        chunks[4]["choices"][0],
        json!({"index": 0, "delta": {}, "finish_reason": "stop"})
    );
    assert_eq!(chunks[5]["choices"], json!([]));
    assert_eq!(chunks[5]["usage"]["completion_tokens"], 3);
    assert!(chunks.iter().all(|c| c["id"] == chunks[0]["id"]));
}

#[tokio::test]
async fn streamed_tool_calls_come_in_fragments() {
    let server = MockServer::start().unwrap();
    let mut req = hello("gpt");
    req["stream"] = json!(true);
    req["tool_choice"] = json!("required");
    req["tools"] = json!([{"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"query": {"type": "string"}}}}}]);
    let text = client()
        .post(format!("{}/chat/completions", server.base_url()))
        .body(req.to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = sse_events(&text);
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let head = &chunks[1]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(head["function"], json!({"name": "lookup", "arguments": ""}));
    assert!(head["id"].as_str().unwrap().starts_with("call_"));
    let arguments: String = chunks[2..chunks.len() - 1]
        .iter()
        .map(|c| {
            c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(arguments, "{\"query\":\"example\"}");
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[tokio::test]
async fn break_after_drops_the_stream_without_done() {
    let server = MockServer::start().unwrap();
    // Without a delay every chunk is written at once: the break must not swallow them.
    for delay_ms in [0, 5] {
        server.push(ScriptedResponse {
            break_after: Some(2),
            chunk_delay: Duration::from_millis(delay_ms),
            ..Default::default()
        });
        let mut req = hello("gpt");
        req["stream"] = json!(true);
        let mut response = client()
            .post(format!("{}/chat/completions", server.base_url()))
            .body(req.to_string())
            .send()
            .await
            .unwrap();
        let mut received = Vec::new();
        let error = loop {
            match response.chunk().await {
                Ok(Some(bytes)) => received.extend_from_slice(&bytes),
                Ok(None) => panic!("stream ended cleanly"),
                Err(e) => break e,
            }
        };
        assert!(
            error.is_body() || error.is_decode() || error.is_request(),
            "{error:?}"
        );
        let events = sse_events(&String::from_utf8(received).unwrap());
        assert_eq!(events.len(), 2);
        assert!(!events.iter().any(|e| e == "[DONE]"));
    }
}

#[tokio::test]
async fn stop_releases_the_port_and_listen_restarts() {
    let server = MockServer::start().unwrap();
    let first = server.port();
    chat(&server, hello("gpt")).await;
    // From inside a runtime `stop` cannot wait; give the accept loop a moment.
    server.stop();
    server.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!server.is_running());
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", first))
        .await
        .is_err());
    server.listen().unwrap();
    let (status, _) = chat(&server, hello("gpt")).await;
    assert_eq!(status, 200);
    assert_eq!(server.request_count(), 2);
}

#[test]
fn stop_outside_a_runtime_waits_for_the_port() {
    let server = MockServer::start().unwrap();
    let port = server.port();
    server.stop();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
