//! Routing by sensitivity ([`super::sensitive`]): a sensitive call reaches only deployments
//! whose `model_info.data_residency` is allowed, on every try, retry and fallback, and
//! fails closed otherwise. A scripted provider records every deployment called; the
//! clock is tokio's paused one (no sleeping).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::config::RouterConfig;
use super::custom::{DeploymentPicker, PickFuture};
use super::state::ManualClock;
use super::*;

struct Done;

impl Routed for Done {
    fn tokens(&self) -> (Option<u64>, Option<u64>) {
        (Some(3), Some(1))
    }
}

fn router(v: Value) -> Arc<Router> {
    let Value::Object(m) = v else {
        panic!("config must be an object")
    };
    let (cfg, _) = RouterConfig::from_json(&m).unwrap();
    Router::with_clock(cfg, ManualClock::new(1_800_000_000)).unwrap()
}

/// A deployment of `group` calling model `openai/{id}`, allowed for sensitive data when
/// `residency` says so.
fn dep(group: &str, id: &str, residency: Option<&str>, extra: Value) -> Value {
    let mut params = json!({"model": format!("openai/{id}")});
    if let (Value::Object(p), Value::Object(e)) = (&mut params, extra) {
        p.extend(e);
    }
    let mut info = json!({"id": id});
    if let Some(r) = residency {
        info["data_residency"] = json!(r);
    }
    json!({"model_name": group, "litellm_params": params, "model_info": info})
}

fn call(model: &str, tags: Option<Value>) -> Map<String, Value> {
    let mut v = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    if let Some(t) = tags {
        v["metadata"] = json!({"tags": t});
    }
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn sensitive(model: &str) -> Map<String, Value> {
    call(model, Some(json!(["sensitive"])))
}

/// A provider answering per deployment model: a status to fail with, or success.
#[derive(Clone, Default)]
struct Provider {
    calls: Arc<Mutex<Vec<String>>>,
    failing: Arc<Mutex<HashMap<String, LlmError>>>,
}

impl Provider {
    fn fail(&self, id: &str, status: u16) {
        let e = crate::error::map_http_error(status, "openai", id, "boom", None, Vec::new());
        self.fail_with(id, e);
    }
    fn fail_with(&self, id: &str, e: LlmError) {
        self.failing
            .lock()
            .unwrap()
            .insert(format!("openai/{id}"), e);
    }
    /// The deployments called, by id.
    fn calls(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|m| m.trim_start_matches("openai/").to_string())
            .collect()
    }
    async fn answer(&self, merged: Map<String, Value>) -> Result<Done, LlmError> {
        let model = merged["model"].as_str().unwrap_or("").to_string();
        self.calls.lock().unwrap().push(model.clone());
        match self.failing.lock().unwrap().get(&model) {
            Some(e) => Err(e.clone()),
            None => Ok(Done),
        }
    }
}

async fn route(
    r: &Arc<Router>,
    p: &Provider,
    kw: Map<String, Value>,
) -> Result<RouteInfo, LlmError> {
    let p = p.clone();
    r.route(kw, false, move |m| {
        let p = p.clone();
        async move { p.answer(m).await }
    })
    .await
    .map(|(_, _, info)| info)
}

/// The error of a sensitive call that found no allowed deployment.
fn assert_fails_closed(e: &LlmError, group: &str, why: &str) {
    assert_eq!(e.kind, ErrorKind::BadRequest, "{}", e.message);
    assert_eq!(e.status, 400);
    assert!(
        e.message.contains(&format!(
            "No deployment allowed for sensitive data is available for model group={group}: {why}"
        )),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("data_residency is one of ['local']"),
        "{}",
        e.message
    );
}

fn mixed_group(extra: Value) -> Value {
    let mut cfg = json!({"model_list": [
        dep("g", "local", Some("local"), json!({})),
        dep("g", "cloud", None, json!({})),
        dep("g", "eu", Some("eu"), json!({}))
    ]});
    if let (Value::Object(c), Value::Object(e)) = (&mut cfg, extra) {
        c.extend(e);
    }
    cfg
}

#[tokio::test(start_paused = true)]
async fn a_sensitive_call_goes_only_to_allowed_deployments_and_others_as_before() {
    let r = router(mixed_group(json!({})));
    let p = Provider::default();
    for _ in 0..30 {
        assert_eq!(
            route(&r, &p, sensitive("g")).await.unwrap().model_id,
            "local"
        );
    }
    assert!(p.calls().iter().all(|c| c == "local"), "{:?}", p.calls());
    // The top-level `tags` of the proxy's bodies count too.
    let mut kw = call("g", None);
    kw.insert("tags".into(), json!(["sensitive"]));
    assert_eq!(route(&r, &p, kw).await.unwrap().model_id, "local");

    // Untagged calls still use the whole group.
    let p = Provider::default();
    for _ in 0..60 {
        route(&r, &p, call("g", Some(json!(["team-a"]))))
            .await
            .unwrap();
    }
    let calls = p.calls();
    for id in ["local", "cloud", "eu"] {
        assert!(
            calls.iter().any(|c| c == id),
            "{id} never chosen: {calls:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn configured_tags_and_residencies_are_used() {
    let r = router(mixed_group(json!({
        "sensitive_tags": ["phi"], "sensitive_data_residency": ["eu"]
    })));
    let p = Provider::default();
    for tags in [json!(["phi"]), json!(["sensitive"]), json!(["x", "phi"])] {
        assert_eq!(
            route(&r, &p, call("g", Some(tags))).await.unwrap().model_id,
            "eu"
        );
    }
    assert_eq!(p.calls(), ["eu", "eu", "eu"]);
    assert_eq!(r.config.sensitive.tags, ["sensitive", "phi"]);
}

#[tokio::test(start_paused = true)]
async fn a_group_without_an_allowed_deployment_fails_closed_before_any_call() {
    let r = router(json!({"model_list": [
        dep("cloud", "c1", None, json!({})),
        dep("cloud", "c2", Some("us-east"), json!({}))
    ]}));
    let p = Provider::default();
    let e = route(&r, &p, sensitive("cloud")).await.unwrap_err();
    assert_fails_closed(&e, "cloud", "none of its deployments is allowed");
    assert_eq!(e.model, "cloud");
    assert!(p.calls().is_empty());
    // A deployment named by id, or the model it calls, is no way around it.
    for name in ["c1", "openai/c1"] {
        let e = route(&r, &p, sensitive(name)).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadRequest, "{}", e.message);
    }
    assert!(p.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn retries_stay_on_allowed_deployments() {
    let r = router(json!({"num_retries": 3, "model_list": [
        dep("g", "local-a", Some("local"), json!({})),
        dep("g", "local-b", Some("local"), json!({})),
        dep("g", "cloud", None, json!({}))
    ]}));
    let p = Provider::default();
    p.fail("local-a", 500);
    p.fail("local-b", 500);
    let e = route(&r, &p, sensitive("g")).await.unwrap_err();
    // Both local deployments failed and cooled down; the cloud one was healthy all along.
    let calls = p.calls();
    assert!(!calls.contains(&"cloud".to_string()), "{calls:?}");
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_fails_closed(&e, "g", "every allowed deployment is cooling down");
    assert!(
        e.message.contains("'local-a'") && e.message.contains("'local-b'"),
        "{}",
        e.message
    );

    // One local deployment failing: the retry goes to the other local one.
    let r = router(json!({"num_retries": 3, "model_list": [
        dep("g", "local-a", Some("local"), json!({})),
        dep("g", "local-b", Some("local"), json!({})),
        dep("g", "cloud", None, json!({}))
    ]}));
    let p = Provider::default();
    p.fail("local-a", 429);
    for _ in 0..5 {
        assert_eq!(
            route(&r, &p, sensitive("g")).await.unwrap().model_id,
            "local-b"
        );
    }
    assert!(!p.calls().contains(&"cloud".to_string()), "{:?}", p.calls());
}

#[tokio::test(start_paused = true)]
async fn a_lone_allowed_deployment_is_retried_with_backoff_never_elsewhere() {
    // Without cooldowns the failing local deployment stays healthy: every retry goes
    // back to it, none to the cloud one beside it.
    let r = router(
        json!({"num_retries": 2, "disable_cooldowns": true, "model_list": [
            dep("g", "llama", Some("local"), json!({})),
            dep("g", "cloud", None, json!({}))
        ]}),
    );
    let p = Provider::default();
    p.fail("llama", 500);
    let e = route(&r, &p, sensitive("g")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InternalServer);
    assert_eq!(p.calls(), ["llama", "llama", "llama"]);
}

#[tokio::test(start_paused = true)]
async fn a_cooled_down_local_deployment_fails_closed() {
    let r = router(mixed_group(json!({"sensitive_data_residency": ["local"]})));
    r.state.local.set_cooldown(0, Duration::from_secs(30), 429);
    let p = Provider::default();
    let e = route(&r, &p, sensitive("g")).await.unwrap_err();
    assert_fails_closed(
        &e,
        "g",
        "every allowed deployment is cooling down (cooldown_list=['local'])",
    );
    assert_eq!(e.retry_after, Some(Duration::from_secs(30)));
    assert!(p.calls().is_empty());
    // Untagged calls go on to the others.
    let info = route(&r, &p, call("g", None)).await.unwrap();
    assert_ne!(info.model_id, "local");
}

#[tokio::test(start_paused = true)]
async fn fallbacks_never_serve_from_a_third_party_group() {
    let cfg = json!({
        "num_retries": 1,
        "fallbacks": [{"private": ["cloud", "private-2"]}],
        "context_window_fallbacks": [{"private-2": ["cloud"]}],
        "content_policy_fallbacks": [{"private-3": ["cloud"]}],
        "default_fallbacks": ["cloud"],
        "model_list": [
            dep("private", "llama", Some("local"), json!({})),
            dep("private-2", "qwen", Some("local"), json!({})),
            dep("private-3", "mistral", Some("local"), json!({})),
            dep("cloud", "gpt", None, json!({}))
        ]
    });
    // private fails: cloud is skipped, private-2 (local) serves.
    let r = router(cfg.clone());
    let p = Provider::default();
    p.fail("llama", 500);
    let info = route(&r, &p, sensitive("private")).await.unwrap();
    assert_eq!(info.model_id, "qwen");
    assert_eq!(info.attempted_fallbacks, 2);
    assert_eq!(p.calls(), ["llama", "llama", "qwen"]);

    // Every allowed deployment fails: the call fails, cloud is never called.
    let r = router(cfg.clone());
    let p = Provider::default();
    p.fail("llama", 500);
    p.fail("qwen", 503);
    let e = route(&r, &p, sensitive("private")).await.unwrap_err();
    assert_eq!(p.calls(), ["llama", "llama", "qwen", "qwen"]);
    // The group's own error, with the last fallback's.
    assert_eq!(e.kind, ErrorKind::InternalServer);
    assert!(
        e.message
            .contains("Available Model Group Fallbacks=['cloud', 'private-2']"),
        "{}",
        e.message
    );

    // Context-window and content-policy fallbacks to cloud: refused the same way.
    let r = router(cfg.clone());
    let p = Provider::default();
    let mut cw = LlmError::new(ErrorKind::ContextWindowExceeded, "too long");
    cw.status = 400;
    p.fail_with("qwen", cw);
    let mut cp = LlmError::new(ErrorKind::ContentPolicyViolation, "refused");
    cp.status = 400;
    p.fail_with("mistral", cp);
    let e = route(&r, &p, sensitive("private-2")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);
    let e = route(&r, &p, sensitive("private-3")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::ContentPolicyViolation);
    assert_eq!(p.calls(), ["qwen", "mistral"]);

    // LiteLLM's mock fallbacks take the same way: cloud refuses, nothing is called.
    let r = router(cfg);
    let p = Provider::default();
    let mut kw = sensitive("private-3");
    kw.insert("mock_testing_fallbacks".into(), json!(true));
    let e = route(&r, &p, kw).await.unwrap_err();
    assert!(
        e.message.contains("Error doing the fallback"),
        "{}",
        e.message
    );
    assert!(p.calls().is_empty(), "{:?}", p.calls());
    // The same call untagged is served by cloud.
    let mut kw = call("private-3", None);
    kw.insert("mock_testing_fallbacks".into(), json!(true));
    assert_eq!(route(&r, &p, kw).await.unwrap().model_id, "gpt");
}

#[tokio::test(start_paused = true)]
async fn order_only_ranks_allowed_deployments() {
    let r = router(json!({"model_list": [
        dep("g", "cloud", None, json!({"order": 1})),
        dep("g", "local", Some("local"), json!({"order": 2}))
    ]}));
    let p = Provider::default();
    for _ in 0..3 {
        assert_eq!(
            route(&r, &p, call("g", None)).await.unwrap().model_id,
            "cloud"
        );
        assert_eq!(
            route(&r, &p, sensitive("g")).await.unwrap().model_id,
            "local"
        );
    }
    // With local cooling down, order's next tier is not for sensitive calls.
    r.state.local.set_cooldown(1, Duration::from_secs(5), 500);
    let e = route(&r, &p, sensitive("g")).await.unwrap_err();
    assert_fails_closed(&e, "g", "every allowed deployment is cooling down");
    assert_eq!(p.calls().iter().filter(|c| *c == "local").count(), 3);
}

#[tokio::test(start_paused = true)]
async fn tag_filtering_does_not_treat_sensitive_as_a_routing_tag() {
    let r = router(json!({"enable_tag_filtering": true, "model_list": [
        // Tagged "sensitive" but third-party: tags do not make a deployment allowed.
        dep("g", "cloud", None, json!({"tags": ["sensitive", "team-a", "default"]})),
        dep("g", "local-a", Some("local"), json!({"tags": ["team-a"]})),
        dep("g", "local-b", Some("local"), json!({"tags": ["team-b"]}))
    ]}));
    let p = Provider::default();
    let info = route(&r, &p, call("g", Some(json!(["sensitive", "team-b"]))))
        .await
        .unwrap();
    assert_eq!(info.model_id, "local-b");
    let info = route(&r, &p, call("g", Some(json!(["team-a", "sensitive"]))))
        .await
        .unwrap();
    assert_eq!(info.model_id, "local-a");
    // Only the sensitive tag: any allowed deployment (none is tagged default).
    for _ in 0..10 {
        let info = route(&r, &p, sensitive("g")).await.unwrap();
        assert!(info.model_id.starts_with("local-"), "{}", info.model_id);
    }
    // A routing tag no allowed deployment has: LiteLLM's tag error, nothing called.
    let e = route(&r, &p, call("g", Some(json!(["sensitive", "team-c"]))))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Value);
    assert!(!p.calls().contains(&"cloud".to_string()), "{:?}", p.calls());
    // Untagged calls are routed as before: to the `default` deployment.
    assert_eq!(
        route(&r, &p, call("g", None)).await.unwrap().model_id,
        "cloud"
    );
}

#[tokio::test(start_paused = true)]
async fn wildcard_and_default_groups_are_filtered_too() {
    let r = router(json!({"model_list": [
        dep("*", "anything", None, json!({"model": "openai/*"})),
        dep("ollama/*", "ollama", Some("local"), json!({"model": "ollama/*"}))
    ]}));
    let p = Provider::default();
    let e = route(&r, &p, sensitive("gpt-4o")).await.unwrap_err();
    assert_fails_closed(&e, "*", "none of its deployments is allowed");
    assert!(p.calls().is_empty());
    let info = route(&r, &p, sensitive("ollama/llama3")).await.unwrap();
    assert_eq!(info.model_id, "ollama");
    assert_eq!(p.calls.lock().unwrap().as_slice(), ["ollama/llama3"]);
}

/// A custom routing strategy that always picks `id`.
struct Always(&'static str);

impl DeploymentPicker for Always {
    fn pick<'a>(&'a self, _: &'a str, _: &'a Map<String, Value>) -> PickFuture<'a> {
        Box::pin(async move { Ok(self.0.to_string()) })
    }
}

#[tokio::test(start_paused = true)]
async fn a_custom_strategy_cannot_pick_a_third_party_deployment() {
    let r = router(mixed_group(json!({})));
    let p = Provider::default();
    let run = |picker: &'static str, kw: Map<String, Value>| {
        let (r, p) = (r.clone(), p.clone());
        async move {
            let picker = Always(picker);
            r.route_with("completion", kw, false, Some(&picker), None, move |m| {
                let p = p.clone();
                async move { p.answer(m).await }
            })
            .await
            .map(|(_, _, info)| info)
        }
    };
    let e = run("cloud", sensitive("g")).await.unwrap_err();
    assert_fails_closed(
        &e,
        "g",
        "the custom routing strategy picked deployment \"cloud\"",
    );
    assert_eq!(
        run("local", sensitive("g")).await.unwrap().model_id,
        "local"
    );
    assert_eq!(
        run("cloud", call("g", None)).await.unwrap().model_id,
        "cloud"
    );
    assert_eq!(p.calls(), ["local", "cloud"]);
}

#[tokio::test(start_paused = true)]
async fn get_available_deployment_applies_the_same_filter() {
    let r = router(mixed_group(json!({})));
    for _ in 0..10 {
        let i = r.preview("g", &sensitive("g")).await.unwrap();
        assert_eq!(r.deployments()[i].id, "local");
    }
    r.state.local.set_cooldown(0, Duration::from_secs(5), 500);
    let e = r.preview("g", &sensitive("g")).await.unwrap_err();
    assert_fails_closed(&e, "g", "every allowed deployment is cooling down");
    let i = r.preview("g", &call("g", None)).await.unwrap();
    assert_ne!(r.deployments()[i].id, "local");
}

#[test]
fn data_residency_must_be_a_string() {
    let bad = |info: Value| {
        let Value::Object(m) = json!({"model_list": [
            {"model_name": "g", "litellm_params": {"model": "openai/m"}, "model_info": info}
        ]}) else {
            unreachable!()
        };
        RouterConfig::from_json(&m)
            .err()
            .map(|e| (e.kind, e.message))
    };
    for (info, needle) in [
        (json!({"data_residency": ["local"]}), "got list"),
        (json!({"data_residency": true}), "got bool"),
        (json!({"data_residency": ""}), "got an empty string"),
    ] {
        let (kind, message) = bad(info).unwrap();
        assert_eq!(kind, ErrorKind::Value);
        assert!(
            message.contains("model_list[0]: model_info.data_residency must be a non-empty string")
                && message.contains(needle),
            "{message}"
        );
    }
    assert!(bad(json!({"data_residency": "local"})).is_none());
    let Value::Object(m) = json!({"sensitive_tags": "sensitive"}) else {
        unreachable!()
    };
    let e = RouterConfig::from_json(&m).unwrap_err();
    assert!(
        e.message
            .contains("sensitive_tags must be a list of strings, got str"),
        "{}",
        e.message
    );
}
