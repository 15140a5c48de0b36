//! Guardrails in the proxy: the config's checks, selection, and the proxy end to end in
//! process (a real server on a loopback port in front of the Rust MockServer), checking
//! what reached the mock and what the client got back.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::external::{self, ExternalGuardrail, ExternalLoader, HookError, HookFuture};
use super::*;
use crate::mock::{MockServer, ScriptedResponse};
use crate::proxy::config::ProxyConfig;
use crate::proxy::server;
use crate::proxy::spend::SpendSink;
use crate::proxy::state::AppState;

const EMAIL: &str = "jane.doe@example.com";
const CARD: &str = "4111 1111 1111 1111";

fn config_with(mock: &MockServer, guardrails: &str, extra: &str) -> Result<ProxyConfig, String> {
    let yaml = format!(
        r#"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {base}
      api_key: sk-upstream
  - model_name: echo
    litellm_params:
      model: openai/echo-chunks-9
      api_base: {base}
      api_key: sk-upstream
  - model_name: embedder
    litellm_params:
      model: openai/text-embedding-3-small
      api_base: {base}
      api_key: sk-upstream
router_settings:
  num_retries: 0
guardrails:
{guardrails}
{extra}
"#,
        base = mock.base_url()
    );
    ProxyConfig::from_yaml(&yaml, &|_| None).map_err(|e| e.to_string())
}

const PII: &str = r#"
  - guardrail_name: no-cards
    litellm_params:
      guardrail: rustllm
      mode: pre_call
      default_on: true
      detect: [credit_card]
      action: block
  - guardrail_name: mask-email
    litellm_params:
      guardrail: presidio
      mode: [pre_call]
      pii_entities_config: {EMAIL_ADDRESS: MASK}
      output_parse_pii: true
  - guardrail_name: code-words
    litellm_params:
      guardrail: rustllm
      mode: during_call
      words: {PROJECT: [atlas]}
      patterns: {EMPLOYEE_ID: "E-[0-9]{6}"}
      action: log
    guardrail_info: {owner: security}
"#;

struct Proxy {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Proxy {
    async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.done.await.unwrap().unwrap();
    }
}

async fn start(state: AppState) -> Proxy {
    let listener = server::bind("127.0.0.1", 0).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(server::serve(
        Arc::new(state),
        listener,
        async move {
            let _ = rx.await;
        },
        Duration::from_secs(5),
        2,
        crate::proxy::spin::Spin::default(),
    ));
    Proxy {
        url,
        stop: Some(tx),
        done,
    }
}

async fn post(proxy: &Proxy, path: &str, body: Value) -> (u16, String) {
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{}{path}", proxy.url))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// The text of a chat stream's `data:` events, its deltas' content joined.
fn streamed_text(sse: &str) -> String {
    sse.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

async fn get(proxy: &Proxy, path: &str) -> String {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}{path}", proxy.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn say(text: &str) -> Value {
    json!([{"role": "user", "content": text}])
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[test]
fn config_errors_name_the_entry_and_the_field() {
    let mock = MockServer::start().unwrap();
    let cases = [
        (
            "  - guardrail_name: g\n    litellm_params: {guardrail: rustllm, detect: [email]}",
            "guardrails[0] (g).litellm_params.mode: mode is required",
        ),
        (
            "  - guardrail_name: g\n    litellm_params: {guardrail: rustllm, mode: before, detect: [email]}",
            "guardrails[0] (g).litellm_params.mode: expected pre_call",
        ),
        (
            "  - guardrail_name: g\n    litellm_params: {guardrail: rustllm, mode: pre_call, detect: [passport]}",
            "guardrails[0] (g).litellm_params: guardrail \"g\": detect: unknown detector \"passport\"",
        ),
        (
            "  - guardrail_name: g\n    litellm_params: {guardrail: aporia, mode: pre_call}",
            "guardrails[0] (g).litellm_params.guardrail: \"aporia\" is not a guardrail rustllm has",
        ),
        (
            "  - guardrail_name: g\n    litellm_params: {guardrail: my_module.MyGuardrail, mode: pre_call}",
            "guardrails[0] (g).litellm_params.guardrail: Python guardrail classes are not supported yet",
        ),
        (
            "  - guardrail_name: g\n    litellm_params: {guardrail: rustllm, mode: post_call, detect: [email], action: route}",
            "guardrails[0] (g).litellm_params.action: route decides where the request goes",
        ),
        (
            "  - guardrail_name: g\n    litellm_params: {guardrail: rustllm, mode: pre_call, detect: [email], default_on: sometimes}",
            "default_on: expected true or false",
        ),
        (
            "  - guardrail_name: g\n    litellm_params: {guardrail: rustllm, mode: pre_call, detect: [email]}\n  - guardrail_name: g\n    litellm_params: {guardrail: rustllm, mode: pre_call, detect: [phone]}",
            "guardrails[1] (g).guardrail_name: another entry has this name",
        ),
        ("  - litellm_params: {guardrail: rustllm}", "guardrails[0].guardrail_name"),
        ("  - guardrail_name: g", "guardrails[0] (g).litellm_params: expected a mapping"),
    ];
    for (entry, expected) in cases {
        let e = config_with(&mock, entry, "").unwrap_err();
        assert!(e.contains(expected), "{e}\n(expected {expected})");
    }
    // Settings rustllm does not read are reported, not silently taken.
    let c = config_with(
        &mock,
        "  - guardrail_name: g\n    litellm_params: {guardrail: presidio, mode: pre_call, detect: [email], presidio_language: en}\n    guardrail_id: x",
        "",
    )
    .unwrap();
    assert!(c
        .ignored
        .contains(&"guardrails[0] (g).litellm_params.presidio_language".to_string()));
    assert!(c
        .ignored
        .contains(&"guardrails[0] (g).guardrail_id".to_string()));
}

#[test]
fn selection_follows_default_on_the_request_and_the_key() {
    let mock = MockServer::start().unwrap();
    let config = config_with(&mock, PII, "").unwrap();
    let g = ProxyGuardrails::new(&config.guardrails).unwrap();
    let names = |sel: Vec<usize>| -> Vec<String> {
        sel.iter().map(|&i| g.entries[i].name.clone()).collect()
    };
    let mut body = obj(json!({"model": "m"}));
    assert_eq!(names(g.select(&mut body, None).unwrap()), ["no-cards"]);
    let mut body = obj(json!({"model": "m", "guardrails": ["code-words"]}));
    assert_eq!(
        names(g.select(&mut body, None).unwrap()),
        ["no-cards", "code-words"]
    );
    assert!(!body.contains_key("guardrails"), "never forwarded");
    let mut body = obj(json!({"metadata": {"guardrails": ["mask-email"], "user_id": "u"}}));
    assert_eq!(
        names(g.select(&mut body, None).unwrap()),
        ["no-cards", "mask-email"]
    );
    assert_eq!(body["metadata"], json!({"user_id": "u"}));
    // LiteLLM's mapping form: name -> per-request settings.
    let mut body = obj(json!({"guardrails": {"mask-email": {"extra_body": {}}}}));
    assert_eq!(
        names(g.select(&mut body, None).unwrap()),
        ["no-cards", "mask-email"]
    );
    let grant = KeyGrant {
        guardrails: vec!["code-words".into()],
        ..KeyGrant::default()
    };
    let mut body = obj(json!({}));
    assert_eq!(
        names(g.select(&mut body, Some(&grant)).unwrap()),
        ["no-cards", "code-words"]
    );
    let mut body = obj(json!({"guardrails": ["mask-email", "nope", "nada"]}));
    let e = g.select(&mut body, None).unwrap_err();
    assert_eq!(e.status.as_u16(), 400);
    assert_eq!(e.param.as_deref(), Some("guardrails"));
    assert!(e.message.contains("nope, nada"), "{}", e.message);
    assert!(e.message.contains("no-cards, mask-email, code-words"));
    let mut body = obj(json!({"guardrails": 3}));
    assert!(g.select(&mut body, None).is_err());
    let stale = KeyGrant {
        guardrails: vec!["removed-one".into()],
        ..KeyGrant::default()
    };
    let e = g.select(&mut obj(json!({})), Some(&stale)).unwrap_err();
    assert!(e.message.contains("the key's"), "{}", e.message);
}

#[test]
fn the_list_shows_labels_not_patterns_words_or_keys() {
    let mock = MockServer::start().unwrap();
    let config = config_with(
        &mock,
        &format!(
            "{PII}  - guardrail_name: with-key\n    litellm_params: {{guardrail: rustllm, mode: pre_call, detect: [email], api_key: sk-guard-secret}}\n"
        ),
        "",
    )
    .unwrap();
    let g = ProxyGuardrails::new(&config.guardrails).unwrap();
    let text = String::from_utf8(g.list_body().to_vec()).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let list = v["guardrails"].as_array().unwrap();
    assert_eq!(list.len(), 4);
    assert_eq!(list[2]["guardrail_name"], "code-words");
    assert_eq!(list[2]["litellm_params"]["mode"], "during_call");
    assert_eq!(list[2]["litellm_params"]["words"], json!(["PROJECT"]));
    assert_eq!(
        list[2]["litellm_params"]["patterns"],
        json!(["EMPLOYEE_ID"])
    );
    assert_eq!(list[2]["guardrail_info"], json!({"owner": "security"}));
    for secret in ["atlas", "E-[0-9]", "sk-guard-secret"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naming_guardrails_on_a_proxy_without_any_is_refused() {
    let mock = MockServer::start().unwrap();
    let yaml = format!(
        "model_list:\n  - model_name: gpt-4o\n    litellm_params: {{model: openai/gpt-4o-mini, api_base: {}, api_key: k}}\n",
        mock.base_url()
    );
    let config = ProxyConfig::from_yaml(&yaml, &|_| None).unwrap();
    let proxy = start(AppState::new(&config).unwrap()).await;
    for body in [
        json!({"model": "gpt-4o", "messages": say("hi"), "guardrails": ["pii"]}),
        json!({"model": "gpt-4o", "messages": say("hi"), "metadata": {"guardrails": ["pii"]}}),
    ] {
        let (status, text) = post(&proxy, "/chat/completions", body).await;
        assert_eq!(status, 400);
        assert!(text.contains("this proxy configures none"), "{text}");
    }
    assert!(mock.requests().is_empty());
    let (status, _) = post(
        &proxy,
        "/chat/completions",
        json!({"model": "gpt-4o", "messages": say("hi"), "guardrails": []}),
    )
    .await;
    assert_eq!(status, 200);
    proxy.shutdown().await;
}

#[test]
fn route_tags_the_call_sensitive_once() {
    let mut body = obj(json!({"metadata": {"tags": ["team-a"]}, "tags": ["top"]}));
    tag_sensitive(&mut body);
    tag_sensitive(&mut body);
    assert_eq!(body["metadata"]["tags"], json!(["team-a", "sensitive"]));
    assert_eq!(body["tags"], json!(["top"]));
    // No metadata.tags: the top-level tags the Router reads then, metadata untouched.
    let mut body = obj(json!({"metadata": {"user_id": "u"}, "tags": ["top"]}));
    tag_sensitive(&mut body);
    assert_eq!(body["tags"], json!(["top", "sensitive"]));
    assert_eq!(body["metadata"], json!({"user_id": "u"}));
    let mut body = obj(json!({}));
    tag_sensitive(&mut body);
    assert_eq!(body, obj(json!({"tags": ["sensitive"]})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_request_never_reaches_the_provider() {
    let mock = MockServer::start().unwrap();
    let mut state = AppState::new(&config_with(&mock, PII, "").unwrap()).unwrap();
    let (sink, mut events) = SpendSink::channel(16);
    state.spend = Some(sink);
    let proxy = start(state).await;
    let (status, text) = post(
        &proxy,
        "/v1/chat/completions",
        json!({"model": "gpt-4o", "messages": say(&format!("pay with {CARD}"))}),
    )
    .await;
    assert_eq!(status, 400);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v,
        json!({"error": {
            "message": "Blocked entity detected: CREDIT_CARD by Guardrail: no-cards. This entity is not allowed to be used in this request.",
            "type": "None", "param": "None", "code": "400"}})
    );
    assert!(mock.requests().is_empty(), "nothing reached the provider");
    // Embeddings, completions and the Messages API are guarded the same way.
    for (path, body) in [
        (
            "/v1/embeddings",
            json!({"model": "embedder", "input": [format!("card {CARD}")]}),
        ),
        (
            "/v1/completions",
            json!({"model": "gpt-4o", "prompt": format!("card {CARD}")}),
        ),
        (
            "/v1/responses",
            json!({"model": "gpt-4o", "input": format!("card {CARD}")}),
        ),
        (
            "/v1/images/generations",
            json!({"model": "gpt-4o", "prompt": format!("card {CARD}")}),
        ),
        (
            "/v1/audio/speech",
            json!({"model": "gpt-4o", "input": format!("card {CARD}"), "voice": "alloy"}),
        ),
        (
            "/v1/moderations",
            json!({"model": "gpt-4o", "input": format!("card {CARD}")}),
        ),
    ] {
        let (status, text) = post(&proxy, path, body).await;
        assert_eq!(status, 400, "{path}: {text}");
        assert!(text.contains("CREDIT_CARD"), "{path}: {text}");
    }
    let (status, text) = post(
        &proxy,
        "/v1/messages",
        json!({"model": "gpt-4o", "max_tokens": 10, "messages": say(&format!("card {CARD}"))}),
    )
    .await;
    assert_eq!(status, 400);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(mock.requests().is_empty());
    // The spend row records the decision, never the value.
    let ev = events.recv().await.unwrap();
    assert_eq!(ev.status, 400);
    let row = crate::proxy::spend::writer::log_row(ev.clone());
    let meta: Value = serde_json::from_str(row.metadata.as_deref().unwrap()).unwrap();
    assert_eq!(
        meta["guardrail_information"][0],
        json!({"guardrail_name": "no-cards", "guardrail_provider": "rustllm",
            "guardrail_mode": "pre_call", "guardrail_status": "guardrail_intervened",
            "guardrail_action": "block", "duration": meta["guardrail_information"][0]["duration"],
            "detected_entity_count": {"CREDIT_CARD": 1}})
    );
    assert_eq!(row.status, "failure");
    let line = crate::proxy::ops::reqlog::request_line(&ev).to_string();
    assert!(line.contains("\"guardrail_action\":\"block\""), "{line}");
    for leak in [row.metadata.unwrap(), line] {
        assert!(!leak.contains("1111 1111"), "{leak}");
    }
    let metrics = get(&proxy, "/metrics").await;
    assert!(
        metrics.contains("litellm_guardrail_requests_total{guardrail_name=\"no-cards\",status=\"error\",hook_type=\"pre_call\"} 8.0"),
        "{metrics}"
    );
    assert!(metrics.contains(
        "rustllm_guardrail_decisions_total{guardrail_name=\"no-cards\",action=\"block\",hook_type=\"pre_call\"} 8.0"
    ));
    assert!(metrics.contains(
        "litellm_guardrail_errors_total{guardrail_name=\"no-cards\",error_type=\"HTTPException\",hook_type=\"pre_call\"} 8.0"
    ), "{metrics}");
    assert!(metrics.contains(
        "litellm_guardrail_latency_seconds_count{guardrail_name=\"no-cards\",status=\"error\",error_type=\"HTTPException\",hook_type=\"pre_call\"} 8"
    ), "{metrics}");
    assert!(!metrics.contains("1111 1111"));
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn masked_values_never_reach_the_provider_and_come_back_restored() {
    let mock = MockServer::start().unwrap();
    let mut state = AppState::new(&config_with(&mock, PII, "").unwrap()).unwrap();
    let (sink, mut events) = SpendSink::channel(16);
    state.spend = Some(sink);
    let proxy = start(state).await;
    let prompt = format!("mail {EMAIL} about atlas, and {EMAIL} again");
    // JSON: the echo model repeats what it was sent.
    let (status, text) = post(
        &proxy,
        "/chat/completions",
        json!({"model": "echo", "messages": say(&prompt), "guardrails": ["mask-email", "code-words"]}),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], json!(prompt));
    let sent = mock.last_request().unwrap();
    assert_eq!(
        sent.body["messages"][0]["content"],
        json!("mail <EMAIL_1> about atlas, and <EMAIL_1> again")
    );
    assert!(sent.body.get("guardrails").is_none());
    let ev = events.recv().await.unwrap();
    let kinds: Vec<(String, Option<Action>)> = ev
        .guardrails
        .iter()
        .map(|r| (r.guardrail.clone(), r.action))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("no-cards".to_string(), None),
            ("mask-email".to_string(), Some(Action::Mask)),
            ("code-words".to_string(), Some(Action::Log)),
        ]
    );
    let meta = crate::proxy::guardrails::spend_metadata(&ev.guardrails).unwrap();
    assert!(
        meta.contains("\"masked_entity_count\":{\"EMAIL\":2}"),
        "{meta}"
    );
    assert!(!meta.contains("jane") && !meta.contains("atlas"), "{meta}");

    // A stream: the echo arrives in 9 pieces, placeholders split across them.
    let (status, text) = post(
        &proxy,
        "/chat/completions",
        json!({"model": "echo", "messages": say(&prompt), "stream": true,
            "metadata": {"guardrails": ["mask-email"]}}),
    )
    .await;
    assert_eq!(status, 200);
    let sent = mock.last_request().unwrap();
    assert!(!sent.body.to_string().contains("jane"));
    let mut content = String::new();
    let mut done = false;
    for line in text.lines().filter_map(|l| l.strip_prefix("data: ")) {
        if line == "[DONE]" {
            done = true;
            continue;
        }
        let c: Value = serde_json::from_str(line).unwrap();
        if let Some(t) = c["choices"][0]["delta"]["content"].as_str() {
            content.push_str(t);
        }
    }
    assert!(done);
    assert_eq!(content, prompt);

    // A text completion and a Responses stream restore the same way.
    let (status, text) = post(
        &proxy,
        "/v1/completions",
        json!({"model": "echo", "prompt": prompt, "guardrails": ["mask-email"]}),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["choices"][0]["text"], json!(prompt));
    let (status, text) = post(
        &proxy,
        "/v1/responses",
        json!({"model": "echo", "input": prompt, "stream": true, "guardrails": ["mask-email"]}),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let deltas: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["type"] == "response.output_text.delta")
        .filter_map(|e| e["delta"].as_str().map(str::to_string))
        .collect();
    assert_eq!(deltas, prompt);
    assert!(!text.contains("<EMAIL_1>"), "{text}");

    // Embeddings: the provider embeds the masked text.
    let (status, _) = post(
        &proxy,
        "/v1/embeddings",
        json!({"model": "embedder", "input": [prompt], "guardrails": ["mask-email"]}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        mock.last_request().unwrap().body["input"],
        json!(["mail <EMAIL_1> about atlas, and <EMAIL_1> again"])
    );
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_call_guardrails_check_the_models_reply() {
    let mock = MockServer::start().unwrap();
    let guardrails = r#"
  - guardrail_name: no-leaks
    litellm_params: {guardrail: rustllm, mode: post_call, detect: [credit_card], action: block}
  - guardrail_name: hide-mail
    litellm_params: {guardrail: rustllm, mode: post_call, detect: [email], action: mask}
"#;
    let mut state = AppState::new(&config_with(&mock, guardrails, "").unwrap()).unwrap();
    let (sink, mut events) = SpendSink::channel(16);
    state.spend = Some(sink);
    let proxy = start(state).await;
    // The spend row's guardrail entries: (name, mode, action).
    let mut decisions = async || {
        let ev = events.recv().await.unwrap();
        let row = crate::proxy::spend::writer::log_row(ev);
        let meta: Value = serde_json::from_str(row.metadata.as_deref().unwrap_or("{}")).unwrap();
        let entries = meta["guardrail_information"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let out: Vec<(String, String, String)> = entries
            .iter()
            .map(|g| {
                let s = |k: &str| g[k].as_str().unwrap_or_default().to_string();
                (
                    s("guardrail_name"),
                    s("guardrail_mode"),
                    s("guardrail_action"),
                )
            })
            .collect();
        (row.status, out)
    };
    let blocked = |name: &str| {
        (
            name.to_string(),
            "post_call".to_string(),
            "block".to_string(),
        )
    };
    let masked = |name: &str| {
        (
            name.to_string(),
            "post_call".to_string(),
            "mask".to_string(),
        )
    };
    mock.push(ScriptedResponse::text(format!("your card is {CARD}")));
    let (status, text) = post(
        &proxy,
        "/chat/completions",
        json!({"model": "gpt-4o", "messages": say("hi"), "guardrails": ["no-leaks"]}),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("Blocked entity detected: CREDIT_CARD by Guardrail: no-leaks"));
    assert!(!text.contains("1111 1111"));
    assert_eq!(decisions().await.1, vec![blocked("no-leaks")]);
    mock.push(ScriptedResponse::text(format!("write to {EMAIL}")));
    let (status, text) = post(
        &proxy,
        "/chat/completions",
        json!({"model": "gpt-4o", "messages": say("hi"), "guardrails": ["hide-mail"]}),
    )
    .await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "write to <EMAIL_1>");
    assert_eq!(decisions().await.1, vec![masked("hide-mail")]);
    // A stream is held and judged whole: a block ends it with an error event, and its
    // spend row says which guardrail ended it.
    mock.push(ScriptedResponse::text(format!("card {CARD} ok")));
    let (status, text) = post(
        &proxy,
        "/chat/completions",
        json!({"model": "gpt-4o", "messages": say("hi"), "stream": true, "guardrails": ["no-leaks"]}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!text.contains("1111 1111"), "{text}");
    assert!(text.contains("Blocked entity detected"), "{text}");
    assert!(!text.contains("[DONE]"));
    let (status, row) = decisions().await;
    assert_eq!((status, row), ("failure", vec![blocked("no-leaks")]));
    mock.push(ScriptedResponse::text(format!("mail {EMAIL} now")));
    let (_, text) = post(
        &proxy,
        "/chat/completions",
        json!({"model": "gpt-4o", "messages": say("hi"), "stream": true, "guardrails": ["hide-mail"]}),
    )
    .await;
    let content = streamed_text(&text);
    assert_eq!(content, "mail <EMAIL_1> now");
    assert_eq!(decisions().await.1, vec![masked("hide-mail")]);
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_value_masked_in_the_reply_is_never_restored_as_the_users() {
    // Masked before and after the call, restored: the reply's own new address keeps a
    // placeholder of its own; the user's comes back.
    let mock = MockServer::start().unwrap();
    let guardrails = r#"
  - guardrail_name: mail
    litellm_params: {guardrail: rustllm, mode: [pre_call, post_call], detect: [email], action: mask, restore: true}
"#;
    let proxy = start(AppState::new(&config_with(&mock, guardrails, "").unwrap()).unwrap()).await;
    let reply = "ask other@example.org, not <EMAIL_1>";
    for stream in [false, true] {
        mock.push(ScriptedResponse::text(reply));
        let (status, text) = post(
            &proxy,
            "/chat/completions",
            json!({"model": "gpt-4o", "messages": say(&format!("I am {EMAIL}")),
                "guardrails": ["mail"], "stream": stream}),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            mock.last_request().unwrap().body["messages"][0]["content"],
            "I am <EMAIL_1>"
        );
        let content: String = if stream {
            streamed_text(&text)
        } else {
            let v: Value = serde_json::from_str(&text).unwrap();
            v["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            content,
            format!("ask <EMAIL_2>, not {EMAIL}"),
            "stream: {stream}"
        );
    }
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_sends_sensitive_calls_to_deployments_for_them() {
    // The Router sees the tag a route guardrail adds: only the deployment marked for
    // sensitive data serves the call.
    let mock = MockServer::start().unwrap();
    let guardrails = r#"
  - guardrail_name: sensitive
    litellm_params: {guardrail: rustllm, mode: pre_call, default_on: true, detect: [email], action: route}
"#;
    let extra = format!(
        r#"  - model_name: mixed
    litellm_params: {{model: openai/public-model, api_base: {base}, api_key: k, order: 1}}
  - model_name: mixed
    litellm_params: {{model: openai/local-model, api_base: {base}, api_key: k, order: 2}}
    model_info: {{data_residency: local}}
"#,
        base = mock.base_url()
    );
    let text = format!(
        "model_list:\n{extra}router_settings:\n  num_retries: 0\nguardrails:\n{guardrails}"
    );
    let yaml = ProxyConfig::from_yaml(&text, &|_| None).unwrap();
    let proxy = start(AppState::new(&yaml).unwrap()).await;
    for _ in 0..4 {
        let (status, text) = post(
            &proxy,
            "/chat/completions",
            json!({"model": "mixed", "messages": say(&format!("from {EMAIL}"))}),
        )
        .await;
        assert_eq!(status, 200, "{text}");
        assert_eq!(mock.last_request().unwrap().body["model"], "local-model");
    }
    let (status, _) = post(
        &proxy,
        "/chat/completions",
        json!({"model": "mixed", "messages": say("nothing here")}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(mock.last_request().unwrap().body["model"], "public-model");
    proxy.shutdown().await;
}

/// Shouty's check: blocks "forbidden", upper-cases the rest of the texts `walk` reads.
fn shout(
    body: &Map<String, Value>,
    walk: impl FnOnce(&mut Value, &mut dyn FnMut(&mut String)),
) -> Result<Option<Map<String, Value>>, HookError> {
    let mut value = Value::Object(body.clone());
    let mut blocked = false;
    walk(&mut value, &mut |t: &mut String| {
        blocked |= t.contains("forbidden");
        *t = t.to_uppercase();
    });
    if blocked {
        return Err(HookError::new("ValueError", "no forbidden words"));
    }
    Ok(Some(obj(value)))
}

/// A class guardrail as the Python layer would load one: blocks "forbidden", upper-cases
/// the rest.
struct Shouty;

impl ExternalGuardrail for Shouty {
    fn pre_call<'a>(
        &'a self,
        body: &'a Map<String, Value>,
        _call_type: &'a str,
        _caller: &'a Map<String, Value>,
    ) -> HookFuture<'a> {
        let out = shout(body, |v, f| {
            crate::guardrails::request::for_each_text(v, &mut |t: &mut String| f(t))
        });
        Box::pin(async move { out })
    }

    /// The same on the reply.
    fn post_call<'a>(
        &'a self,
        _request: &'a Map<String, Value>,
        reply: &'a Map<String, Value>,
        _caller: &'a Map<String, Value>,
    ) -> HookFuture<'a> {
        let out = shout(reply, crate::guardrails::request::for_each_reply_text);
        Box::pin(async move { out })
    }
}

/// A class with a stream hook, as the Python layer would load one: the stream's text
/// goes out upper-cased in one chunk (where its first text was), every other chunk kept;
/// a stream that says "forbidden" is refused.
struct Rewriter;

fn delta_text(c: &Map<String, Value>) -> Option<&str> {
    c.get("choices")?
        .get(0)?
        .get("delta")?
        .get("content")?
        .as_str()
}

impl ExternalGuardrail for Rewriter {
    fn pre_call<'a>(
        &'a self,
        _body: &'a Map<String, Value>,
        _call_type: &'a str,
        _caller: &'a Map<String, Value>,
    ) -> HookFuture<'a> {
        Box::pin(async { Ok(None) })
    }

    fn post_call<'a>(
        &'a self,
        _request: &'a Map<String, Value>,
        _reply: &'a Map<String, Value>,
        _caller: &'a Map<String, Value>,
    ) -> HookFuture<'a> {
        Box::pin(async { Ok(None) })
    }

    fn streams(&self) -> bool {
        true
    }

    fn stream<'a>(
        &'a self,
        _request: &'a Map<String, Value>,
        chunks: Vec<Map<String, Value>>,
        chat: bool,
        _caller: &'a Map<String, Value>,
    ) -> external::StreamFuture<'a> {
        let text: String = chunks.iter().filter_map(delta_text).collect();
        let out = if !chat {
            Err(HookError::new("TypeError", "not a chat stream"))
        } else if text.contains("forbidden") {
            Err(HookError::new("ValueError", "no forbidden words"))
        } else {
            let mut items = Vec::new();
            let mut said = false;
            for (i, c) in chunks.iter().enumerate() {
                match delta_text(c) {
                    Some(t) if !t.is_empty() => {
                        if !said {
                            said = true;
                            items.push(StreamItem::New(obj(json!({
                                "id": c["id"], "object": "chat.completion.chunk",
                                "created": c["created"], "model": c["model"],
                                "choices": [{"index": 0, "delta": {"content": text.to_uppercase()},
                                    "finish_reason": null}]}))));
                        }
                    }
                    _ => items.push(StreamItem::Kept(i)),
                }
            }
            Ok(Some(items))
        };
        Box::pin(async move { out })
    }
}

struct TestLoader;

impl ExternalLoader for TestLoader {
    fn load(
        &self,
        class: &str,
        _name: &str,
        _params: &Map<String, Value>,
    ) -> Result<Arc<dyn ExternalGuardrail>, String> {
        match class {
            "rusttests.Shouty" => Ok(Arc::new(Shouty)),
            "rusttests.Rewriter" => Ok(Arc::new(Rewriter)),
            _ => Err(external::NOT_SUPPORTED.to_string()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class_guardrails_run_through_the_installed_loader() {
    let mock = MockServer::start().unwrap();
    external::set_loader(Arc::new(TestLoader));
    let guardrails = r#"
  - guardrail_name: shouty
    litellm_params: {guardrail: rusttests.Shouty, mode: pre_call, default_on: true}
"#;
    let config = config_with(&mock, guardrails, "").unwrap();
    let proxy = start(AppState::new(&config).unwrap()).await;
    let (status, _) = post(
        &proxy,
        "/chat/completions",
        json!({"model": "gpt-4o", "messages": say("quiet please")}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        mock.last_request().unwrap().body["messages"][0]["content"],
        "QUIET PLEASE"
    );
    let before = mock.requests().len();
    let (status, text) = post(
        &proxy,
        "/chat/completions",
        json!({"model": "gpt-4o", "messages": say("a forbidden word")}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        text.contains(
            "Guardrail raised an exception, Guardrail: shouty, Message: no forbidden words"
        ),
        "{text}"
    );
    assert_eq!(mock.requests().len(), before);
    // LiteLLM's guardrail metrics: the block counted as an error of the class it
    // raised, and both runs timed by outcome.
    let metrics = get(&proxy, "/metrics").await;
    for line in [
        "litellm_guardrail_errors_total{guardrail_name=\"shouty\",error_type=\"ValueError\",hook_type=\"pre_call\"} 1.0",
        "litellm_guardrail_latency_seconds_count{guardrail_name=\"shouty\",status=\"success\",error_type=\"none\",hook_type=\"pre_call\"} 1",
        "litellm_guardrail_latency_seconds_count{guardrail_name=\"shouty\",status=\"error\",error_type=\"ValueError\",hook_type=\"pre_call\"} 1",
        "litellm_guardrail_latency_seconds_bucket{guardrail_name=\"shouty\",status=\"error\",error_type=\"ValueError\",hook_type=\"pre_call\",le=\"+Inf\"} 1",
    ] {
        assert!(metrics.contains(line), "{line}\n{metrics}");
    }
    proxy.shutdown().await;
}

/// LiteLLM's `async_post_call_streaming_iterator_hook`: a class with one is given the
/// held stream's chunks, and what it answers is what the client gets; raising ends the
/// stream with an error event; a JSON reply is left to the class's other hooks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_class_stream_hook_rewrites_a_held_stream() {
    let mock = MockServer::start().unwrap();
    external::set_loader(Arc::new(TestLoader));
    let guardrails = r#"
  - guardrail_name: rewriter
    litellm_params: {guardrail: rusttests.Rewriter, mode: post_call, default_on: true}
"#;
    let config = config_with(&mock, guardrails, "").unwrap();
    let proxy = start(AppState::new(&config).unwrap()).await;
    mock.push(ScriptedResponse::text("all is well here"));
    let (status, text) = post(
        &proxy,
        "/chat/completions",
        json!({"model": "gpt-4o", "messages": say("hi"), "stream": true}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(streamed_text(&text), "ALL IS WELL HERE", "{text}");
    // One text chunk now; the role chunk, the finish chunk and [DONE] kept.
    let texts = text
        .lines()
        .filter(|l| l.contains("\"content\":\""))
        .count();
    assert_eq!(texts, 1, "{text}");
    assert!(text.contains("\"finish_reason\":\"stop\""), "{text}");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    mock.push(ScriptedResponse::text("a forbidden reply"));
    let (status, text) = post(
        &proxy,
        "/chat/completions",
        json!({"model": "gpt-4o", "messages": say("hi"), "stream": true}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!text.contains("forbidden reply"), "{text}");
    assert!(
        text.contains(
            "Guardrail raised an exception, Guardrail: rewriter, Message: no forbidden words"
        ),
        "{text}"
    );
    assert!(!text.contains("[DONE]"), "{text}");
    mock.push(ScriptedResponse::text("plain json"));
    let (status, text) = post(
        &proxy,
        "/chat/completions",
        json!({"model": "gpt-4o", "messages": say("hi")}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(text.contains("plain json"), "{text}");
    let metrics = get(&proxy, "/metrics").await;
    for line in [
        "rustllm_guardrail_decisions_total{guardrail_name=\"rewriter\",action=\"modify\",hook_type=\"post_call\"} 1.0",
        "litellm_guardrail_errors_total{guardrail_name=\"rewriter\",error_type=\"ValueError\",hook_type=\"post_call\"} 1.0",
    ] {
        assert!(metrics.contains(line), "{line}\n{metrics}");
    }
    proxy.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guardrails_list_route_answers_any_key_and_an_empty_list_without_config() {
    let mock = MockServer::start().unwrap();
    let config = config_with(&mock, PII, "general_settings: {master_key: sk-1234}").unwrap();
    let proxy = start(AppState::new(&config).unwrap()).await;
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}/guardrails/list", proxy.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}/guardrails/list", proxy.url))
        .bearer_auth("sk-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    let names: Vec<&str> = v["guardrails"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["guardrail_name"].as_str())
        .collect();
    assert_eq!(names, ["no-cards", "mask-email", "code-words"]);
    proxy.shutdown().await;
}

/// A batch's input file, guarded in place line by line: a masked line rewritten, the
/// others byte for byte, the records summed per guardrail; a blocked line refuses the
/// whole file, which is left as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_input_file_is_guarded_line_by_line() {
    let mock = MockServer::start().unwrap();
    let state = AppState::new(&config_with(&mock, PII, "").unwrap()).unwrap();
    let g = state.guardrails.clone().unwrap();
    let dir = std::env::temp_dir().join(format!("rustllm-batch-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("in.jsonl");
    let line = |id: &str, text: &str, extra: Value| {
        let mut body = json!({"model": "m", "messages": say(text)});
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        json!({"custom_id": id, "method": "POST", "url": "/v1/chat/completions", "body": body})
            .to_string()
    };
    let plain = line("a", "hello   there", json!({}));
    let masked = line(
        "b",
        &format!("mail {EMAIL} and {EMAIL}"),
        json!({"guardrails": ["mask-email"]}),
    );
    std::fs::write(&path, format!("{plain}\n\n{masked}\nnot json\n")).unwrap();
    let upload = json!({"purpose": "batch", "file": {"path": path.to_str().unwrap()}});
    let records = batch::guard_input_file(&g, upload.as_object().unwrap(), None, None)
        .await
        .unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines[0], plain);
    assert_eq!(lines[1], "");
    let b: Value = serde_json::from_str(lines[2]).unwrap();
    assert_eq!(
        b["body"]["messages"],
        json!(say("mail <EMAIL_1> and <EMAIL_1>"))
    );
    assert!(b["body"].get("guardrails").is_none());
    assert_eq!(lines[3], "not json");
    let mask: Vec<_> = records
        .iter()
        .filter(|r| r.action == Some(Action::Mask))
        .collect();
    assert_eq!(mask.len(), 1);
    assert_eq!(mask[0].kinds, vec![("EMAIL".to_string(), 2)]);
    // no-cards ran on both requests: one record for the two runs.
    assert_eq!(
        records.iter().filter(|r| r.guardrail == "no-cards").count(),
        1
    );

    let before = format!(
        "{plain}\n{}\n",
        line("c", &format!("card {CARD}"), json!({}))
    );
    std::fs::write(&path, &before).unwrap();
    let refusal = batch::guard_input_file(&g, upload.as_object().unwrap(), None, None)
        .await
        .err()
        .unwrap();
    assert!(
        refusal
            .error
            .message
            .starts_with("line 2 (custom_id \"c\"): Blocked entity detected: CREDIT_CARD"),
        "{}",
        refusal.error.message
    );
    assert!(!refusal.error.message.contains("1111"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    assert!(!path.with_extension("guarded").exists());
    // A purpose that is no JSONL of requests or examples is left alone.
    let other = json!({"purpose": "user_data", "file": {"path": path.to_str().unwrap()}});
    assert!(
        batch::guard_input_file(&g, other.as_object().unwrap(), None, None)
            .await
            .unwrap()
            .is_empty()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A class's post-call hook on a stream: the stream is held, the class gets the whole
/// reply; raising ends the stream with an error event before any of it goes out, a
/// changed reply is what the client gets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn class_post_call_guardrails_judge_streams() {
    let mock = MockServer::start().unwrap();
    external::set_loader(Arc::new(TestLoader));
    let guardrails = r#"
  - guardrail_name: shouty
    litellm_params: {guardrail: rusttests.Shouty, mode: post_call, default_on: true}
"#;
    let mut state = AppState::new(&config_with(&mock, guardrails, "").unwrap()).unwrap();
    let (sink, mut events) = SpendSink::channel(16);
    state.spend = Some(sink);
    let proxy = start(state).await;
    let stream = |text: &str| json!({"model": "echo", "messages": say(text), "stream": true});
    let (status, text) = post(&proxy, "/chat/completions", stream("quiet please")).await;
    assert_eq!(status, 200);
    let content = streamed_text(&text);
    assert_eq!(content, "QUIET PLEASE");
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    let ev = events.recv().await.unwrap();
    assert_eq!(ev.guardrails.len(), 1);
    assert_eq!(ev.guardrails[0].action, Some(Action::Modify));

    let (status, text) = post(&proxy, "/chat/completions", stream("a forbidden word")).await;
    assert_eq!(status, 200);
    assert!(
        text.contains(
            "Guardrail raised an exception, Guardrail: shouty, Message: no forbidden words"
        ),
        "{text}"
    );
    assert!(!text.contains("a forbidden word"), "{text}");
    assert!(!text.contains("[DONE]"));
    let ev = events.recv().await.unwrap();
    assert_eq!(ev.guardrails[0].action, Some(Action::Block));
    proxy.shutdown().await;
}

/// A class that changes a batch line's request gets the line rewritten too (its change
/// is recorded as `modify`), and one that raises refuses the upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_class_changes_a_batch_line_as_it_would_a_request() {
    let mock = MockServer::start().unwrap();
    external::set_loader(Arc::new(TestLoader));
    let guardrails = r#"
  - guardrail_name: shouty
    litellm_params: {guardrail: rusttests.Shouty, mode: pre_call, default_on: true}
"#;
    let state = AppState::new(&config_with(&mock, guardrails, "").unwrap()).unwrap();
    let g = state.guardrails.clone().unwrap();
    let dir = std::env::temp_dir().join(format!("rustllm-batch-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("in.jsonl");
    let line = |text: &str| {
        json!({"custom_id": "a", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "m", "messages": say(text)}})
        .to_string()
    };
    std::fs::write(&path, format!("{}\n", line("quiet please"))).unwrap();
    let upload = json!({"purpose": "batch", "file": {"path": path.to_str().unwrap()}});
    let records = batch::guard_input_file(&g, upload.as_object().unwrap(), None, None)
        .await
        .unwrap();
    let written: Value =
        serde_json::from_str(std::fs::read_to_string(&path).unwrap().trim()).unwrap();
    assert_eq!(written["body"]["messages"], json!(say("QUIET PLEASE")));
    assert_eq!(records[0].action, Some(Action::Modify));
    std::fs::write(&path, format!("{}\n", line("a forbidden word"))).unwrap();
    let refusal = batch::guard_input_file(&g, upload.as_object().unwrap(), None, None)
        .await
        .err()
        .unwrap();
    assert!(
        refusal.error.message.starts_with(
            "line 1 (custom_id \"a\"): Guardrail raised an exception, Guardrail: shouty"
        ),
        "{}",
        refusal.error.message
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A fine-tuning file is training text the provider keeps: every string of each example
/// is guarded and a masked one written back in its place; a blocked one refuses the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fine_tuning_file_is_guarded_string_by_string() {
    let mock = MockServer::start().unwrap();
    let guardrails = r#"
  - guardrail_name: no-cards
    litellm_params: {guardrail: rustllm, mode: pre_call, default_on: true, detect: [credit_card], action: block}
  - guardrail_name: hide-mail
    litellm_params: {guardrail: rustllm, mode: pre_call, default_on: true, detect: [email], action: mask}
"#;
    let state = AppState::new(&config_with(&mock, guardrails, "").unwrap()).unwrap();
    let g = state.guardrails.clone().unwrap();
    let dir = std::env::temp_dir().join(format!("rustllm-ft-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("train.jsonl");
    let chat = json!({"messages": [
        {"role": "user", "content": format!("mail {EMAIL}")},
        {"role": "assistant", "content": "done", "weight": 1}]});
    let preference = json!({"input": {"messages": [{"role": "user", "content": "hi"}]},
        "preferred_output": [{"role": "assistant", "content": format!("write {EMAIL}")}],
        "non_preferred_output": [{"role": "assistant", "content": "no"}]});
    let plain = json!({"messages": [{"role": "user", "content": "nothing here"}]}).to_string();
    std::fs::write(&path, format!("{chat}\n{preference}\n{plain}\n")).unwrap();
    let upload = json!({"purpose": "fine-tune", "file": {"path": path.to_str().unwrap()}});
    batch::guard_input_file(&g, upload.as_object().unwrap(), None, None)
        .await
        .unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(!written.contains(EMAIL), "{written}");
    let lines: Vec<Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["messages"][0]["content"], "mail <EMAIL_1>");
    assert_eq!(lines[0]["messages"][1], chat["messages"][1]);
    assert_eq!(
        lines[1]["preferred_output"][0]["content"],
        "write <EMAIL_1>"
    );
    assert_eq!(lines[1]["input"], preference["input"]);
    assert_eq!(written.lines().nth(2).unwrap(), plain);
    let bad = json!({"messages": [{"role": "assistant", "content": format!("card {CARD}")}]});
    std::fs::write(&path, format!("{plain}\n{bad}\n")).unwrap();
    let refusal = batch::guard_input_file(&g, upload.as_object().unwrap(), None, None)
        .await
        .err()
        .unwrap();
    assert!(
        refusal
            .error
            .message
            .starts_with("line 2: Blocked entity detected: CREDIT_CARD by Guardrail: no-cards"),
        "{}",
        refusal.error.message
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A guardrail's findings go into the spend log's `metadata` (`jsonb` on Postgres, which
/// refuses `\u0000`): a kind an external guardrail names with a NUL in it is written
/// with U+FFFD, so that the row (and the rest of its flush) is stored.
#[test]
fn spend_metadata_holds_no_text_postgres_refuses() {
    let record = Record {
        guardrail: "ext\0ernal".into(),
        provider: "class".into(),
        hook: Hook::PreCall,
        action: Some(Action::Mask),
        kinds: vec![("A\0B".into(), 2)],
        duration: Duration::from_millis(1),
    };
    let meta = spend_metadata(std::slice::from_ref(&record)).unwrap();
    assert!(!meta.contains("\\u0000"), "{meta}");
    let v: Value = serde_json::from_str(&meta).unwrap();
    let info = &v["guardrail_information"][0];
    assert_eq!(info["guardrail_name"], "ext\u{FFFD}ernal");
    assert!(meta.contains("A\u{FFFD}B"), "{meta}");
}
