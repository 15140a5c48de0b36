//! Router rules with a scripted provider and a manual clock: no network, no sleeping
//! (tokio's paused clock skips retry back-offs).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::config::RouterConfig;
use super::state::ManualClock;
use super::*;

struct Ok200;

impl Routed for Ok200 {
    fn tokens(&self) -> (Option<u64>, Option<u64>) {
        (Some(10), Some(5))
    }
}

fn router(v: Value) -> (Arc<Router>, Arc<ManualClock>) {
    let Value::Object(m) = v else {
        panic!("config must be an object")
    };
    let (cfg, _) = RouterConfig::from_json(&m).unwrap();
    // 1_800_000_000 is a minute boundary (divisible by 60).
    let clock = ManualClock::new(1_800_000_000);
    (Router::with_clock(cfg, clock.clone()).unwrap(), clock)
}

fn kwargs(model: &str) -> Map<String, Value> {
    let Value::Object(m) = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
    else {
        unreachable!()
    };
    m
}

fn err(status: u16) -> LlmError {
    crate::error::map_http_error(status, "openai", "m", "boom", None, Vec::new())
}

/// A provider whose reply depends on the deployment's model; records the calls.
#[derive(Clone, Default)]
struct Script {
    calls: Arc<Mutex<Vec<String>>>,
    failing: Arc<Mutex<HashMap<String, u16>>>,
}

impl Script {
    fn fail(&self, model: &str, status: u16) {
        self.failing
            .lock()
            .unwrap()
            .insert(model.to_string(), status);
    }
    fn heal(&self, model: &str) {
        self.failing.lock().unwrap().remove(model);
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
    async fn call(&self, merged: Map<String, Value>) -> Result<Ok200, LlmError> {
        let model = merged["model"].as_str().unwrap().to_string();
        self.calls.lock().unwrap().push(model.clone());
        match self.failing.lock().unwrap().get(&model) {
            Some(&status) => Err(err(status)),
            None => Ok(Ok200),
        }
    }
}

async fn route(r: &Arc<Router>, s: &Script, kw: Map<String, Value>) -> Result<RouteInfo, LlmError> {
    let s2 = s.clone();
    r.route(kw, false, move |m| {
        let s = s2.clone();
        async move { s.call(m).await }
    })
    .await
    .map(|(_, _, info)| info)
}

fn two_deployments(extra: Value) -> Value {
    let mut cfg = json!({"model_list": [
        {"model_name": "g", "litellm_params": {"model": "openai/a"}, "model_info": {"id": "a"}},
        {"model_name": "g", "litellm_params": {"model": "openai/b"}, "model_info": {"id": "b"}}
    ]});
    if let (Value::Object(c), Value::Object(e)) = (&mut cfg, extra) {
        c.extend(e);
    }
    cfg
}

#[tokio::test(start_paused = true)]
async fn failed_deployment_is_cooled_down_and_retry_reselects() {
    let (r, _) = router(two_deployments(json!({"routing_strategy": "least-busy"})));
    let s = Script::default();
    s.fail("openai/a", 500);
    let info = route(&r, &s, kwargs("g")).await.unwrap();
    assert_eq!(info.model_id, "b");
    assert_eq!(s.calls(), ["openai/a", "openai/b"]);
    assert_eq!(info.attempted_retries, 1);
    // a is cooling down: the next calls all go to b.
    for _ in 0..5 {
        assert_eq!(route(&r, &s, kwargs("g")).await.unwrap().model_id, "b");
    }
    assert_eq!(s.calls().iter().filter(|c| *c == "openai/a").count(), 1);
}

#[tokio::test(start_paused = true)]
async fn cooldown_ends_after_cooldown_time() {
    let (r, clock) = router(two_deployments(
        json!({"routing_strategy": "least-busy", "cooldown_time": 10}),
    ));
    let s = Script::default();
    s.fail("openai/a", 503);
    route(&r, &s, kwargs("g")).await.unwrap();
    s.heal("openai/a");
    assert!(r.state.local.cooldown(0).is_some());
    clock.advance(Duration::from_secs(11));
    assert!(r.state.local.cooldown(0).is_none());
    assert_eq!(route(&r, &s, kwargs("g")).await.unwrap().model_id, "a");
}

#[tokio::test(start_paused = true)]
async fn single_deployment_is_retried_with_backoff_and_never_cooled() {
    let (r, _) = router(json!({"num_retries": 3, "model_list": [
        {"model_name": "g", "litellm_params": {"model": "openai/a"}}
    ]}));
    let s = Script::default();
    s.fail("openai/a", 500);
    let started = tokio::time::Instant::now();
    let e = route(&r, &s, kwargs("g")).await.unwrap_err();
    assert_eq!(s.calls().len(), 4);
    // 0.5 + 1 + 2 s of back-off at least (plus jitter).
    assert!(started.elapsed() >= Duration::from_millis(3500));
    assert!(r.state.local.cooldown(0).is_none());
    assert_eq!(e.kind, ErrorKind::InternalServer);
    assert_eq!((e.num_retries, e.max_retries), (Some(3), Some(3)));
    assert!(
        e.message
            .ends_with(". Received Model Group=g\nAvailable Model Group Fallbacks=None"),
        "{}",
        e.message
    );
}

#[tokio::test(start_paused = true)]
async fn not_found_and_single_auth_errors_are_not_retried() {
    let (r, _) = router(json!({"num_retries": 3, "model_list": [
        {"model_name": "g", "litellm_params": {"model": "openai/a"}}
    ]}));
    let s = Script::default();
    for status in [404, 401] {
        s.fail("openai/a", status);
        route(&r, &s, kwargs("g")).await.unwrap_err();
    }
    assert_eq!(s.calls().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn retry_policy_per_error_type() {
    let (r, _) = router(
        json!({"num_retries": 3, "retry_policy": {"RateLimitErrorRetries": 0, "InternalServerErrorRetries": 1},
        "model_list": [{"model_name": "g", "litellm_params": {"model": "openai/a"}}]}),
    );
    let s = Script::default();
    s.fail("openai/a", 429);
    route(&r, &s, kwargs("g")).await.unwrap_err();
    assert_eq!(s.calls().len(), 1);
    s.fail("openai/a", 500);
    route(&r, &s, kwargs("g")).await.unwrap_err();
    assert_eq!(s.calls().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn fallbacks_run_in_order_after_retries() {
    let (r, _) = router(
        json!({"num_retries": 1, "fallbacks": [{"a": ["b", "c"]}], "model_list": [
            {"model_name": "a", "litellm_params": {"model": "openai/a"}},
            {"model_name": "b", "litellm_params": {"model": "openai/b"}},
            {"model_name": "c", "litellm_params": {"model": "openai/c"}}
        ]}),
    );
    let s = Script::default();
    s.fail("openai/a", 500);
    s.fail("openai/b", 502);
    let info = route(&r, &s, kwargs("a")).await.unwrap();
    assert_eq!(info.model_group, "c");
    assert_eq!(info.attempted_fallbacks, 2);
    assert_eq!(
        s.calls(),
        ["openai/a", "openai/a", "openai/b", "openai/b", "openai/c"]
    );
}

#[tokio::test(start_paused = true)]
async fn default_fallbacks_follow_a_fallback_group_that_fails_or_does_not_exist() {
    for own in [json!(["nope"]), json!(["b"]), json!(["nope", "b"])] {
        let (r, _) = router(json!({"num_retries": 0, "fallbacks": [{"a": own}],
            "default_fallbacks": ["c"], "model_list": [
            {"model_name": "a", "litellm_params": {"model": "openai/a"}},
            {"model_name": "b", "litellm_params": {"model": "openai/b"}},
            {"model_name": "c", "litellm_params": {"model": "openai/c"}}
        ]}));
        let s = Script::default();
        s.fail("openai/a", 500);
        s.fail("openai/b", 500);
        let info = route(&r, &s, kwargs("a")).await.unwrap();
        assert_eq!(info.model_group, "c", "{own}");
        assert_eq!(info.attempted_fallbacks, 1, "{own}");
        assert_eq!(s.calls().last().map(String::as_str), Some("openai/c"));
        // c is tried once, however many paths lead to it.
        assert_eq!(s.calls().iter().filter(|m| *m == "openai/c").count(), 1);
    }
}

#[tokio::test(start_paused = true)]
async fn nested_fallbacks_stop_at_max_fallbacks_deep() {
    let (r, _) = router(json!({"num_retries": 0, "max_fallbacks": 1,
        "fallbacks": [{"a": ["b"]}, {"b": ["c"]}], "model_list": [
        {"model_name": "a", "litellm_params": {"model": "openai/a"}},
        {"model_name": "b", "litellm_params": {"model": "openai/b"}},
        {"model_name": "c", "litellm_params": {"model": "openai/c"}}
    ]}));
    let s = Script::default();
    s.fail("openai/a", 500);
    s.fail("openai/b", 500);
    assert!(route(&r, &s, kwargs("a")).await.is_err());
    assert_eq!(s.calls(), ["openai/a", "openai/b"]);
}

#[tokio::test(start_paused = true)]
async fn failed_fallback_is_named_in_the_final_error() {
    let (r, _) = router(
        json!({"num_retries": 0, "fallbacks": [{"a": ["b"]}], "model_list": [
            {"model_name": "a", "litellm_params": {"model": "openai/a"}},
            {"model_name": "b", "litellm_params": {"model": "openai/b"}}
        ]}),
    );
    let s = Script::default();
    s.fail("openai/a", 500);
    s.fail("openai/b", 503);
    let e = route(&r, &s, kwargs("a")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InternalServer);
    assert!(e.message.contains(". Received Model Group=a\nAvailable Model Group Fallbacks=['b']\nError doing the fallback: litellm.ServiceUnavailableError"), "{}", e.message);
}

#[tokio::test(start_paused = true)]
async fn context_window_errors_use_their_own_fallbacks_without_retrying() {
    let (r, _) = router(
        json!({"num_retries": 3, "context_window_fallbacks": [{"small": ["big"]}], "model_list": [
            {"model_name": "small", "litellm_params": {"model": "openai/small"}},
            {"model_name": "big", "litellm_params": {"model": "openai/big"}}
        ]}),
    );
    let s = Script::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    let info = r
        .route(kwargs("small"), false, move |m| {
            let c = c2.clone();
            async move {
                c.fetch_add(1, Ordering::Relaxed);
                if m["model"] == json!("openai/small") {
                    Err(crate::error::map_http_error(400, "openai", "small", "", Some(json!({"error": {"message": "This model's maximum context length is 10"}})), vec![]))
                } else {
                    Ok(Ok200)
                }
            }
        })
        .await
        .map(|(_, _, i)| i)
        .unwrap();
    assert_eq!(info.model_group, "big");
    assert_eq!(calls.load(Ordering::Relaxed), 2);
    drop(s);
}

#[tokio::test(start_paused = true)]
async fn rpm_admits_exactly_rpm_per_minute() {
    let (r, clock) = router(
        json!({"routing_strategy": "usage-based-routing-v2", "model_list": [
            {"model_name": "g", "litellm_params": {"model": "openai/a", "rpm": 2}},
            {"model_name": "g", "litellm_params": {"model": "openai/b", "rpm": 2}}
        ]}),
    );
    let s = Script::default();
    for _ in 0..4 {
        route(&r, &s, kwargs("g")).await.unwrap();
    }
    let e = route(&r, &s, kwargs("g")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimit);
    assert!(e
        .message
        .starts_with("No deployments available for selected model. Passed model=g."));
    clock.advance(Duration::from_secs(60));
    route(&r, &s, kwargs("g")).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn allowed_fails_counts_failures_in_the_window() {
    let (r, _) = router(two_deployments(
        json!({"allowed_fails": 1, "num_retries": 0, "routing_strategy": "least-busy"}),
    ));
    let s = Script::default();
    s.fail("openai/a", 500);
    // least-busy with equal load always tries `a` first.
    route(&r, &s, kwargs("g")).await.unwrap_err();
    assert!(r.state.local.cooldown(0).is_none());
    route(&r, &s, kwargs("g")).await.unwrap_err();
    assert!(r.state.local.cooldown(0).is_some());
}

#[tokio::test(start_paused = true)]
async fn all_cooling_down_raises_router_rate_limit() {
    let (r, _) = router(two_deployments(json!({"num_retries": 0})));
    r.state.local.set_cooldown(0, Duration::from_secs(5), 500);
    r.state.local.set_cooldown(1, Duration::from_secs(5), 500);
    let s = Script::default();
    let e = route(&r, &s, kwargs("g")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::RouterRateLimit);
    assert!(
        e.message.contains("cooldown_list=['a', 'b']"),
        "{}",
        e.message
    );
    assert!(s.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn tags_and_order() {
    let (r, _) = router(json!({"enable_tag_filtering": true, "model_list": [
        {"model_name": "g", "litellm_params": {"model": "openai/paid", "tags": ["paid"]}},
        {"model_name": "g", "litellm_params": {"model": "openai/free", "tags": ["free"]}},
        {"model_name": "g", "litellm_params": {"model": "openai/default", "tags": ["default"]}}
    ]}));
    let s = Script::default();
    let tagged = |tags: Value| {
        let mut k = kwargs("g");
        k.insert("metadata".into(), json!({"tags": tags}));
        k
    };
    route(&r, &s, tagged(json!(["paid"]))).await.unwrap();
    route(&r, &s, tagged(json!(["free"]))).await.unwrap();
    route(&r, &s, kwargs("g")).await.unwrap();
    route(&r, &s, tagged(json!(["unknown"]))).await.unwrap();
    assert_eq!(
        s.calls(),
        [
            "openai/paid",
            "openai/free",
            "openai/default",
            "openai/default"
        ]
    );

    let (r, _) = router(json!({"model_list": [
        {"model_name": "g", "litellm_params": {"model": "openai/second", "order": 2}},
        {"model_name": "g", "litellm_params": {"model": "openai/first", "order": 1}}
    ]}));
    let s = Script::default();
    for _ in 0..5 {
        route(&r, &s, kwargs("g")).await.unwrap();
    }
    assert!(s.calls().iter().all(|c| c == "openai/first"));
}

#[tokio::test(start_paused = true)]
async fn aliases_wildcards_and_unknown_groups() {
    let (r, _) = router(json!({"model_group_alias": {"fast": "g"}, "model_list": [
        {"model_name": "g", "litellm_params": {"model": "openai/a"}},
        {"model_name": "openai/*", "litellm_params": {"model": "openai/*"}}
    ]}));
    let s = Script::default();
    route(&r, &s, kwargs("fast")).await.unwrap();
    route(&r, &s, kwargs("openai/gpt-4o")).await.unwrap();
    assert_eq!(s.calls(), ["openai/a", "openai/gpt-4o"]);
    let e = route(&r, &s, kwargs("nope")).await.unwrap_err();
    assert!(e
        .message
        .contains("There is no 'model_name' with this string"));
}

#[tokio::test(start_paused = true)]
async fn a_deployment_id_routes_to_that_deployment_alone() {
    let (r, _) = router(json!({"model_list": [
        {"model_name": "g", "litellm_params": {"model": "openai/a"}, "model_info": {"id": "dep-a"}},
        {"model_name": "g", "litellm_params": {"model": "openai/b"}, "model_info": {"id": "dep-b"}}
    ]}));
    let s = Script::default();
    for _ in 0..6 {
        let info = route(&r, &s, kwargs("dep-b")).await.unwrap();
        assert_eq!(info.model_group, "g");
        assert_eq!(info.model_id, "dep-b");
    }
    assert!(s.calls().iter().all(|c| c == "openai/b"), "{:?}", s.calls());
}

#[tokio::test(start_paused = true)]
async fn mock_testing_fallbacks() {
    let (r, _) = router(json!({"fallbacks": [{"a": ["b"]}], "model_list": [
        {"model_name": "a", "litellm_params": {"model": "openai/a"}},
        {"model_name": "b", "litellm_params": {"model": "openai/b"}}
    ]}));
    let s = Script::default();
    let mut k = kwargs("a");
    k.insert("mock_testing_fallbacks".into(), json!(true));
    let info = route(&r, &s, k).await.unwrap();
    assert_eq!(info.model_group, "b");
    assert_eq!(s.calls(), ["openai/b"]);
}

#[tokio::test(start_paused = true)]
async fn timeouts_resolve_in_litellms_order() {
    let (r, _) = router(json!({"timeout": 30, "model_list": [
        {"model_name": "g", "litellm_params": {"model": "openai/a", "timeout": 10}},
        {"model_name": "h", "litellm_params": {"model": "openai/b"}}
    ]}));
    let m = r.merged_kwargs(0, &kwargs("g"), "g", false);
    assert_eq!(m["timeout"], json!(10.0));
    let m = r.merged_kwargs(1, &kwargs("h"), "h", false);
    assert_eq!(m["timeout"], json!(30.0));
    let mut k = kwargs("g");
    k.insert("timeout".into(), json!(3));
    assert_eq!(r.merged_kwargs(0, &k, "g", false)["timeout"], json!(3));
    assert_eq!(r.merged_kwargs(0, &k, "g", false)["max_retries"], json!(0));
}

#[tokio::test(start_paused = true)]
async fn a_full_first_choice_falls_to_the_rest_in_strategy_order() {
    let (r, clock) = router(
        json!({"routing_strategy": "cost-based-routing", "model_list": [
            {"model_name": "g", "litellm_params": {"model": "openai/a", "rpm": 1, "input_cost_per_token": 3.0}, "model_info": {"id": "a"}},
            {"model_name": "g", "litellm_params": {"model": "openai/b", "rpm": 1, "input_cost_per_token": 1.0}, "model_info": {"id": "b"}},
            {"model_name": "g", "litellm_params": {"model": "openai/c", "rpm": 1, "input_cost_per_token": 2.0}, "model_info": {"id": "c"}}
        ]}),
    );
    let s = Script::default();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(route(&r, &s, kwargs("g")).await.unwrap().model_id);
    }
    assert_eq!(ids, ["b", "c", "a"]);
    let e = route(&r, &s, kwargs("g")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimit);
    let at = |id: &str| e.message.find(&format!("'{id}': {{")).unwrap();
    assert!(at("b") < at("c") && at("c") < at("a"), "{}", e.message);
    assert!(e.message.contains("'current_rpm': 1, 'rpm_limit': 1"));
    // The cheapest cooling down: the next cheapest goes first.
    clock.advance(Duration::from_secs(60));
    r.state.local.set_cooldown(1, Duration::from_secs(5), 500);
    assert_eq!(route(&r, &s, kwargs("g")).await.unwrap().model_id, "c");
}

#[tokio::test(start_paused = true)]
async fn a_full_weighted_pick_falls_to_configuration_order() {
    let (r, _) = router(json!({"model_list": [
        {"model_name": "g", "litellm_params": {"model": "openai/a", "weight": 1}, "model_info": {"id": "a"}},
        {"model_name": "g", "litellm_params": {"model": "openai/b", "weight": 1e12, "rpm": 2}, "model_info": {"id": "b"}},
        {"model_name": "g", "litellm_params": {"model": "openai/c", "weight": 1}, "model_info": {"id": "c"}}
    ]}));
    let s = Script::default();
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(route(&r, &s, kwargs("g")).await.unwrap().model_id);
    }
    // b until its rpm is used, then the others in configuration order: a first.
    assert_eq!(ids, ["b", "b", "a", "a"]);
}

async fn route_logged(
    r: &Arc<Router>,
    s: &Script,
    kw: Map<String, Value>,
) -> (Result<RouteInfo, LlmError>, Vec<Attempt>) {
    let s2 = s.clone();
    let log = AttemptLog::default();
    let out = r
        .route_with("completion", kw, false, None, Some(&log), move |m| {
            let s = s2.clone();
            async move { s.call(m).await }
        })
        .await
        .map(|(_, _, info)| info);
    (out, log.take())
}

#[tokio::test(start_paused = true)]
async fn every_deployment_call_of_a_retry_and_a_fallback_is_logged_in_order() {
    let (r, _) = router(json!({"model_list": [
        {"model_name": "a", "litellm_params": {"model": "openai/bad", "api_base": "http://x"}, "model_info": {"id": "bad"}},
        {"model_name": "b", "litellm_params": {"model": "openai/good"}, "model_info": {"id": "good"}}
    ], "num_retries": 1, "fallbacks": [{"a": ["b"]}]}));
    let s = Script::default();
    s.fail("openai/bad", 500);
    let (out, attempts) = route_logged(&r, &s, kwargs("a")).await;
    assert_eq!(out.unwrap().model_id, "good");
    let seen: Vec<(&str, &str, bool)> = attempts
        .iter()
        .map(|a| (a.deployment.as_str(), a.group.as_str(), a.error.is_some()))
        .collect();
    assert_eq!(
        seen,
        [("bad", "a", true), ("bad", "a", true), ("good", "b", false)]
    );
    assert_eq!(attempts[0].model, "openai/bad");
    assert_eq!(attempts[0].api_base.as_deref(), Some("http://x"));
    assert_eq!(attempts[0].error.as_ref().map(|e| e.status), Some(500));
}

#[tokio::test(start_paused = true)]
async fn a_failed_call_logs_its_attempts_and_an_unlogged_call_records_nothing() {
    let (r, _) = router(json!({"model_list": [
        {"model_name": "a", "litellm_params": {"model": "openai/bad"}, "model_info": {"id": "bad"}}
    ], "num_retries": 2}));
    let s = Script::default();
    s.fail("openai/bad", 500);
    let (out, attempts) = route_logged(&r, &s, kwargs("a")).await;
    assert!(out.is_err());
    assert_eq!(attempts.len(), 3);
    assert!(attempts.iter().all(|a| a.error.is_some()));
    // No log asked for: routing is unchanged.
    assert!(route(&r, &s, kwargs("a")).await.is_err());
}
