//! The proxy end to end, in process: the server on a loopback port in front of the Rust
//! MockServer, driven with reqwest. Each test checks what reached the mock and what the
//! client got back. (tests/test_proxy_*.py drive the real process with real clients.)

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::config::ProxyConfig;
use super::server;
use super::spend::SpendSink;
use super::state::AppState;
use crate::mock::{MockServer, ScriptedResponse};

struct Proxy {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Proxy {
    async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.done.await.unwrap()
    }
}

fn config(mock: &MockServer, extra: &str) -> ProxyConfig {
    let yaml = format!(
        r#"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {base}
      api_key: sk-upstream
    model_info:
      id: dep-1
  - model_name: embedder
    litellm_params:
      model: openai/text-embedding-3-small
      api_base: {base}
      api_key: sk-upstream
  - model_name: "openai/*"
    litellm_params:
      model: "openai/*"
      api_base: {base}
      api_key: sk-upstream
router_settings:
  num_retries: 0
  model_group_alias: {{"gpt-4": "gpt-4o"}}
{extra}
"#,
        base = mock.base_url()
    );
    ProxyConfig::from_yaml(&yaml, &|_| None).unwrap()
}

async fn start_with(state: AppState, deadline: Duration) -> Proxy {
    let listener = server::bind("127.0.0.1", 0).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(server::serve(
        Arc::new(state),
        listener,
        async move {
            let _ = rx.await;
        },
        deadline,
        2,
        crate::proxy::spin::Spin::default(),
    ));
    Proxy {
        url,
        stop: Some(tx),
        done,
    }
}

async fn start(mock: &MockServer, extra: &str) -> Proxy {
    let state = AppState::new(&config(mock, extra)).unwrap();
    start_with(state, Duration::from_secs(5)).await
}

const MASTER: &str = "general_settings: {master_key: sk-1234}";

/// reqwest is built without its `json` feature: the same, by hand.
trait JsonBody {
    fn json(self, body: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(body.to_string())
    }
}

trait JsonReply {
    async fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, String>;
}

impl JsonReply for reqwest::Response {
    async fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, String> {
        let bytes = self.bytes().await.map_err(|e| e.to_string())?;
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn post(proxy: &Proxy, path: &str, key: Option<&str>, body: Value) -> reqwest::Response {
    let mut req = client().post(format!("{}{path}", proxy.url)).json(&body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().await.unwrap()
}

fn hi() -> Value {
    json!([{"role": "user", "content": "hi there"}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_goes_through_the_router_to_the_deployment() {
    let mock = MockServer::start().unwrap();
    let proxy = start(&mock, MASTER).await;
    let r = post(
        &proxy,
        "/v1/chat/completions",
        Some("sk-1234"),
        json!({"model": "gpt-4o", "messages": hi(), "temperature": 0.2, "n": 2, "some_new_openai_param": "x"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["x-litellm-model-id"], "dep-1");
    assert_eq!(h["x-litellm-model-group"], "gpt-4o");
    assert_eq!(h["x-litellm-call-id"].to_str().unwrap().len(), 36);
    assert!(
        h["x-litellm-response-cost"]
            .to_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
            > 0.0
    );
    assert!(
        h["x-litellm-overhead-duration-ms"]
            .to_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
            >= 0.0
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["object"], json!("chat.completion"));
    assert_eq!(body["choices"].as_array().unwrap().len(), 2);
    // What reached the provider: the deployment's model and key, the client's params.
    let req = mock.last_request().unwrap();
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.header("authorization"), Some("Bearer sk-upstream"));
    assert_eq!(req.body["model"], json!("gpt-4o-mini"));
    assert_eq!(req.body["temperature"], json!(0.2));
    assert_eq!(req.body["n"], json!(2));
    assert_eq!(req.body["some_new_openai_param"], json!("x"));
    proxy.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases_and_wildcards_pick_the_group() {
    let mock = MockServer::start().unwrap();
    let proxy = start(&mock, "").await;
    let r = post(
        &proxy,
        "/chat/completions",
        None,
        json!({"model": "gpt-4", "messages": hi()}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-litellm-model-group"], "gpt-4o");
    assert_eq!(
        mock.last_request().unwrap().body["model"],
        json!("gpt-4o-mini")
    );
    let r = post(
        &proxy,
        "/chat/completions",
        None,
        json!({"model": "openai/gpt-4.1-nano", "messages": hi()}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-litellm-model-group"], "openai/*");
    assert_eq!(
        mock.last_request().unwrap().body["model"],
        json!("gpt-4.1-nano")
    );
    proxy.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_come_before_any_provider_call() {
    let mock = MockServer::start().unwrap();
    let proxy = start(
        &mock,
        "general_settings: {master_key: sk-1234, max_request_size_mb: 0.001}",
    )
    .await;
    let url = format!("{}/chat/completions", proxy.url);
    let c = client();
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (c.post(&url).json(&json!({"model": "gpt-4o", "messages": hi()})), 401, "No api key passed in"),
        (c.post(&url).bearer_auth("sk-wrong").json(&json!({"model": "gpt-4o", "messages": hi()})), 401, "Invalid proxy server token"),
        (c.post(&url).bearer_auth("sk-1234").header("content-type", "text/plain").body("{}"), 415, "Content-Type"),
        (c.post(&url).bearer_auth("sk-1234").header("content-type", "application/json").body("{\"model\": "), 400, "Invalid JSON"),
        (c.post(&url).bearer_auth("sk-1234").json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x".repeat(2000)}]})), 413, "max_request_size_mb"),
        (c.post(&url).bearer_auth("sk-1234").json(&json!({"model": "nope", "messages": hi()})), 404, "model=nope"),
        (c.post(&url).bearer_auth("sk-1234").json(&json!({"messages": hi()})), 400, "model is required"),
        (c.post(&url).bearer_auth("sk-1234").json(&json!({"model": "gpt-4o", "messages": hi(), "api_base": "http://evil.example"})), 400, "api_base is not allowed"),
        (c.post(&url).bearer_auth("sk-1234").json(&json!({"model": "gpt-4o", "messages": hi(), "api_key": "sk-mine"})), 400, "api_key is not allowed"),
        (c.post(&url).bearer_auth("sk-1234").json(&json!({"model": "gpt-4o", "messages": hi(), "extra_headers": {"x": "1"}})), 400, "extra_headers is not allowed"),
        (c.post(&url).bearer_auth("sk-1234").json(&json!({"model": "gpt-4o", "messages": hi(), "user_config": {}})), 400, "user_config is not allowed"),
        (c.post(&url).bearer_auth("sk-1234").json(&json!({"model": "gpt-4o", "messages": "hi"})), 400, "messages"),
    ];
    for (req, status, needle) in cases {
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{needle}");
        let body: Value = r.json().await.unwrap();
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{needle}: {msg}");
        assert_eq!(body["error"]["code"], json!(status.to_string()));
        assert!(!msg.contains("sk-wrong"));
    }
    assert_eq!(mock.request_count(), 0);
    proxy.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_may_call_it_cors() {
    let mock = MockServer::start().unwrap();
    let proxy = start(&mock, MASTER).await;
    let url = format!("{}/chat/completions", proxy.url);
    let pre = client()
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success());
    let h = pre.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert!(h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));
    let r = client()
        .post(&url)
        .header("origin", "https://app.example")
        .bearer_auth("sk-1234")
        .json(&json!({"model": "gpt-4o", "messages": hi()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    // The preflight reached no provider; the call did, once.
    assert_eq!(mock.request_count(), 1);
    proxy.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_pass_when_the_config_allows_them() {
    let mock = MockServer::start().unwrap();
    let other = MockServer::start().unwrap();
    let proxy = start(
        &mock,
        "general_settings: {allow_client_side_credentials: true}",
    )
    .await;
    let r = post(
        &proxy,
        "/chat/completions",
        None,
        json!({"model": "gpt-4o", "messages": hi(), "api_base": other.base_url(), "api_key": "sk-client"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(mock.request_count(), 0);
    assert_eq!(
        other.last_request().unwrap().header("authorization"),
        Some("Bearer sk-client")
    );
    proxy.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_errors_keep_their_status_in_the_envelope() {
    let mock = MockServer::start().unwrap();
    let proxy = start(&mock, "").await;
    mock.push(ScriptedResponse {
        headers: vec![("retry-after".into(), "7".into())],
        ..ScriptedResponse::error(429, "slow down")
    });
    let r = post(
        &proxy,
        "/chat/completions",
        None,
        json!({"model": "gpt-4o", "messages": hi()}),
    )
    .await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("slow down"));
    assert_eq!(body["error"]["code"], json!("429"));
    mock.push(ScriptedResponse::error(401, "bad upstream key"));
    let r = post(
        &proxy,
        "/chat/completions",
        None,
        json!({"model": "openai/x", "messages": hi()}),
    )
    .await;
    assert_eq!(r.status(), 401);
    proxy.shutdown().await.unwrap();
}

fn sse_events(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| e.strip_prefix("data: ").unwrap_or(e).to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_sse_with_usage_and_done() {
    let mock = MockServer::start().unwrap();
    let proxy = start(&mock, "").await;
    mock.push(ScriptedResponse::text("one two three"));
    let r = post(
        &proxy,
        "/chat/completions",
        None,
        json!({"model": "gpt-4o", "messages": hi(), "stream": true, "stream_options": {"include_usage": true}}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    assert_eq!(r.headers()["x-litellm-model-id"], "dep-1");
    let text = r.text().await.unwrap();
    let events = sse_events(&text);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, "one two three");
    assert!(chunks
        .iter()
        .all(|c| c["object"] == json!("chat.completion.chunk")));
    let usage = chunks
        .iter()
        .find(|c| c["usage"].is_object())
        .expect("a usage chunk");
    assert_eq!(usage["usage"]["completion_tokens"], json!(3));
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.body["stream"], json!(true));
    assert_eq!(sent.body["stream_options"], json!({"include_usage": true}));
    proxy.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_failing_mid_stream_ends_with_an_error_event() {
    let mock = MockServer::start().unwrap();
    let proxy = start(&mock, "").await;
    mock.push(ScriptedResponse {
        break_after: Some(2),
        ..ScriptedResponse::text("a b c d e f")
    });
    let r = post(
        &proxy,
        "/chat/completions",
        None,
        json!({"model": "gpt-4o", "messages": hi(), "stream": true}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let events = sse_events(&text);
    assert!(!text.contains("[DONE]"), "{text}");
    let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap()
            .contains("APIConnectionError"),
        "{last}"
    );
    assert_eq!(last["error"]["code"], json!("500"));
    proxy.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_embeddings_models_and_health() {
    let mock = MockServer::start().unwrap();
    let proxy = start(&mock, "").await;
    // A chat body on /completions is served as chat (the tutorial's fetch).
    let r = post(
        &proxy,
        "/completions",
        None,
        json!({"model": "gpt-4o", "messages": hi()}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["object"], json!("chat.completion"));
    assert_eq!(mock.last_request().unwrap().path, "/v1/chat/completions");
    // A prompt for an OpenAI-family model goes to /completions.
    let r = post(
        &proxy,
        "/v1/completions",
        None,
        json!({"model": "openai/my-instruct", "prompt": "say hi"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["object"], json!("text_completion"));
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/v1/completions");
    assert_eq!(sent.body["prompt"], json!("say hi"));
    let r = post(
        &proxy,
        "/embeddings",
        None,
        json!({"model": "embedder", "input": ["a", "b"]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        mock.last_request().unwrap().body["input"],
        json!(["a", "b"])
    );
    let models: Value = client()
        .get(format!("{}/v1/models", proxy.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["gpt-4o", "embedder", "gpt-4"]);
    let one: Value = client()
        .get(format!("{}/v1/models/openai/gpt-4.1", proxy.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["id"], json!("openai/gpt-4.1"));
    let missing = client()
        .get(format!("{}/v1/models/nope", proxy.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let info: Value = client()
        .get(format!("{}/model/info", proxy.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = &info["data"][0];
    assert_eq!(first["model_name"], json!("gpt-4o"));
    assert_eq!(first["model_info"]["id"], json!("dep-1"));
    assert!(first["litellm_params"].get("api_key").is_none());
    let before = mock.request_count();
    let health: Value = client()
        .get(format!("{}/health", proxy.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Two deployments called (the wildcard has no model to call).
    assert_eq!(mock.request_count() - before, 2);
    assert_eq!(health["healthy_count"], json!(2));
    assert!(health.to_string().find("sk-upstream").is_none());
    let live = client()
        .get(format!("{}/health/liveliness", proxy.url))
        .send()
        .await
        .unwrap();
    assert_eq!(live.json::<Value>().await.unwrap(), json!("I'm alive!"));
    proxy.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_sends_one_spend_event() {
    let mock = MockServer::start().unwrap();
    let mut state = AppState::new(&config(&mock, MASTER)).unwrap();
    let (sink, mut events) = SpendSink::channel(16);
    state.spend = Some(sink);
    let proxy = start_with(state, Duration::from_secs(5)).await;
    let r = post(
        &proxy,
        "/chat/completions",
        Some("sk-1234"),
        json!({"model": "gpt-4", "messages": hi()}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let call_id = r.headers()["x-litellm-call-id"]
        .to_str()
        .unwrap()
        .to_string();
    let e = events.recv().await.unwrap();
    assert_eq!(e.call_id, call_id);
    assert_eq!(
        (e.route, e.model_group.as_str(), e.model_id.as_str()),
        ("chat", "gpt-4o", "dep-1")
    );
    assert_eq!(e.requested_model, "gpt-4");
    assert_eq!(
        e.key_hash.as_deref(),
        Some(crate::proxy::auth::hash_key("sk-1234").as_str())
    );
    assert!(e.cost.unwrap() > 0.0);
    assert_eq!((e.prompt_tokens, e.status), (2, 200));
    // A stream's event comes when it ends, with the usage of its last chunk.
    let r = post(
        &proxy,
        "/chat/completions",
        Some("sk-1234"),
        json!({"model": "gpt-4o", "messages": hi(), "stream": true, "stream_options": {"include_usage": true}}),
    )
    .await;
    let _ = r.text().await.unwrap();
    let e = events.recv().await.unwrap();
    assert!(e.stream);
    assert!(e.completion_tokens > 0);
    // A client that leaves mid-stream: the event still comes, marked 499.
    mock.push(ScriptedResponse {
        chunk_delay: Duration::from_millis(300),
        ..ScriptedResponse::text("w w w w w w w w w w")
    });
    let mut r = post(
        &proxy,
        "/chat/completions",
        Some("sk-1234"),
        json!({"model": "gpt-4o", "messages": hi(), "stream": true}),
    )
    .await;
    let first = r.chunk().await.unwrap();
    assert!(first.is_some());
    drop(r);
    let e = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((e.stream, e.status), (true, 499));
    // A refused request (unknown model) is not a spend.
    let r = post(
        &proxy,
        "/chat/completions",
        Some("sk-1234"),
        json!({"model": "nope", "messages": hi()}),
    )
    .await;
    assert_eq!(r.status(), 404);
    mock.push(ScriptedResponse::error(500, "down"));
    let r = post(
        &proxy,
        "/chat/completions",
        Some("sk-1234"),
        json!({"model": "gpt-4o", "messages": hi()}),
    )
    .await;
    assert_eq!(r.status(), 500);
    let e = events.recv().await.unwrap();
    assert_eq!((e.status, e.cost), (500, None));
    proxy.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_in_flight_requests_finish() {
    let mock = MockServer::start().unwrap();
    let proxy = start(&mock, "").await;
    mock.push(ScriptedResponse {
        delay: Duration::from_millis(400),
        ..ScriptedResponse::text("late but whole")
    });
    let url = format!("{}/chat/completions", proxy.url);
    let pending = tokio::spawn(async move {
        client()
            .post(url)
            .json(&json!({"model": "gpt-4o", "messages": hi()}))
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    proxy.shutdown().await.unwrap();
    let r = pending.await.unwrap().unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        json!("late but whole")
    );
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_waiting_at_the_deadline() {
    let mock = MockServer::start().unwrap();
    let state = AppState::new(&config(&mock, "")).unwrap();
    let proxy = start_with(state, Duration::from_millis(200)).await;
    mock.push(ScriptedResponse {
        delay: Duration::from_secs(30),
        ..Default::default()
    });
    let url = format!("{}/chat/completions", proxy.url);
    let pending = tokio::spawn(async move {
        client()
            .post(url)
            .json(&json!({"model": "gpt-4o", "messages": hi()}))
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    proxy.shutdown().await.unwrap();
    // The server returns at the deadline (the process then exits, closing what is left).
    assert!(started.elapsed() < Duration::from_secs(5));
    pending.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_count_tokens_counts_the_request_as_chat_without_a_call() {
    use crate::catalogue::tokens::count_messages;
    let mock = MockServer::start().unwrap();
    let proxy = start(&mock, MASTER).await;
    let body = json!({"model": "gpt-4o", "system": "Be brief.", "messages": hi()});
    let r = post(
        &proxy,
        "/v1/messages/count_tokens",
        Some("sk-1234"),
        body.clone(),
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    // The deployment's model's encoding, over the request as chat.
    let as_chat = [
        json!({"role": "system", "content": "Be brief."}),
        json!({"role": "user", "content": "hi there"}),
    ];
    let expected = count_messages("openai/gpt-4o-mini", &as_chat);
    assert_eq!(v, json!({"input_tokens": expected}));
    let mut with_tools = body.clone();
    with_tools["tools"] =
        json!([{"name": "f", "description": "d", "input_schema": {"type": "object"}}]);
    let r = post(
        &proxy,
        "/v1/messages/count_tokens",
        Some("sk-1234"),
        with_tools,
    )
    .await;
    let t: Value = r.json().await.unwrap();
    assert!(t["input_tokens"].as_u64().unwrap() > expected as u64, "{t}");
    for (bad, status) in [
        (json!({"model": "nope", "messages": hi()}), 404),
        (json!({"model": "gpt-4o", "messages": "hi"}), 400),
        (json!({"messages": hi()}), 400),
    ] {
        let r = post(&proxy, "/v1/messages/count_tokens", Some("sk-1234"), bad).await;
        assert_eq!(r.status().as_u16(), status);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["type"], "error", "{e}");
    }
    let r = post(&proxy, "/v1/messages/count_tokens", None, body).await;
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(mock.request_count(), 0);
    proxy.shutdown().await.unwrap();
}
