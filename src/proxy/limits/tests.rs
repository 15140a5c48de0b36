use std::sync::atomic::AtomicUsize;

use serde_json::json;

use super::*;
use crate::cache::link::EventLevel;
use crate::proxy::auth::{KeyGrant, Role};
use crate::router::state::ManualClock;
use crate::test_support::{obj, RedisServer};

/// 2027-01-15 08:00:00 UTC: the start of a minute.
const T0: u64 = 1_800_000_000;

fn limits(rpm: Option<u64>, tpm: Option<u64>, parallel: Option<u64>) -> RateLimits {
    RateLimits {
        rpm,
        tpm,
        max_parallel_requests: parallel,
    }
}

fn rpm(n: u64) -> RateLimits {
    limits(Some(n), None, None)
}

/// A virtual key's caller, as the key store fills it.
fn caller(key: &str, grant: KeyGrant) -> Identity {
    Identity {
        role: Role::VirtualKey,
        key_hash: Some(Arc::from(crate::proxy::auth::hash_key(key))),
        grant: Some(Arc::new(grant)),
    }
}

fn key_with(key_limits: RateLimits) -> KeyGrant {
    KeyGrant {
        key_limits,
        ..KeyGrant::default()
    }
}

fn body() -> Map<String, Value> {
    obj(json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}))
}

fn local(clock: &Arc<ManualClock>) -> Limiter {
    Limiter::with_clock(None, TokenCount::Total, clock.clone())
}

fn shared(server: &RedisServer, clock: &Arc<ManualClock>) -> Limiter {
    Limiter::with_clock(Some(server.link()), TokenCount::Total, clock.clone())
}

/// Admit, keeping the permit alive (as a request in flight does).
async fn admit(l: &Limiter, id: &Identity) -> Result<Permit, ProxyError> {
    l.admit(id, "gpt-4o", &body())
        .await
        .map(|p| p.expect("limits apply"))
}

fn header(p: &Permit, name: &str) -> Option<String> {
    let mut h = HeaderMap::new();
    p.apply_headers(&mut h);
    h.get(name).map(|v| v.to_str().unwrap().to_string())
}

fn error_header(e: &ProxyError, name: &str) -> Option<String> {
    e.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn callers_without_limits_get_no_permit() {
    let l = local(&ManualClock::new(T0));
    assert!(l
        .admit(&Identity::anonymous(), "gpt-4o", &body())
        .await
        .unwrap()
        .is_none());
    let no_limits = caller("sk-a", KeyGrant::default());
    assert!(l
        .admit(&no_limits, "gpt-4o", &body())
        .await
        .unwrap()
        .is_none());
    // A model limit for another group does not apply.
    let mut grant = KeyGrant::default();
    grant.model_limits.insert("other".into(), rpm(1));
    let id = caller("sk-a", grant);
    assert!(l.admit(&id, "gpt-4o", &body()).await.unwrap().is_none());
    assert!(lock(&l.inner.local).counts.is_empty());
}

#[tokio::test]
async fn rpm_admits_exactly_the_limit_per_minute_with_litellms_429() {
    let clock = ManualClock::new(T0 + 15);
    let l = local(&clock);
    let id = caller("sk-a", key_with(rpm(3)));
    for n in 0..3 {
        let p = admit(&l, &id).await.unwrap();
        assert_eq!(
            header(&p, "x-ratelimit-remaining-requests").as_deref(),
            Some((2 - n).to_string().as_str())
        );
        assert_eq!(
            header(&p, "x-ratelimit-limit-requests").as_deref(),
            Some("3")
        );
        assert_eq!(
            header(&p, "x-ratelimit-api_key-remaining-requests").as_deref(),
            Some((2 - n).to_string().as_str())
        );
        // 45 s of the minute are left.
        assert_eq!(
            header(&p, "x-ratelimit-reset-requests").as_deref(),
            Some("45")
        );
    }
    let e = admit(&l, &id).await.unwrap_err();
    assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
    let hash = crate::proxy::auth::hash_key("sk-a");
    assert_eq!(
        e.message,
        format!("Rate limit exceeded for api_key: {hash}. Limit type: requests. Current limit: 3, Remaining: 0. Limit resets at: 2027-01-15 08:01:00 UTC")
    );
    assert!(!e.message.contains("sk-a"));
    assert_eq!(e.to_json()["error"]["code"], json!("429"));
    assert_eq!(error_header(&e, "retry-after").as_deref(), Some("45"));
    assert_eq!(
        error_header(&e, "rate_limit_type").as_deref(),
        Some("requests")
    );
    assert_eq!(
        error_header(&e, "reset_at").as_deref(),
        Some("2027-01-15 08:01:00 UTC")
    );
    // The next minute starts afresh.
    clock.advance(Duration::from_secs(45));
    assert!(admit(&l, &id).await.is_ok());
}

#[tokio::test]
async fn every_descriptor_counts_or_none_does() {
    let clock = ManualClock::new(T0);
    let l = local(&clock);
    let team_key = |key: &str, key_rpm: u64| {
        caller(
            key,
            KeyGrant {
                team_id: Some("team-1".into()),
                key_limits: rpm(key_rpm),
                team_limits: rpm(3),
                ..KeyGrant::default()
            },
        )
    };
    let (a, b) = (team_key("sk-a", 10), team_key("sk-b", 10));
    let _a1 = admit(&l, &a).await.unwrap();
    let _a2 = admit(&l, &a).await.unwrap();
    let p = admit(&l, &b).await.unwrap();
    // The team is the tighter limit: the generic headers report it.
    assert_eq!(
        header(&p, "x-ratelimit-remaining-requests").as_deref(),
        Some("0")
    );
    assert_eq!(
        header(&p, "x-ratelimit-api_key-remaining-requests").as_deref(),
        Some("9")
    );
    assert_eq!(
        header(&p, "x-ratelimit-team-remaining-requests").as_deref(),
        Some("0")
    );
    let e = admit(&l, &b).await.unwrap_err();
    assert!(e.message.starts_with("Rate limit exceeded for team: team-1. Limit type: requests. Current limit: 3, Remaining: 0."), "{}", e.message);
    // The refused request was counted nowhere: b's key still has 9 left.
    let tag = key_tag("sk-b");
    assert_eq!(lock(&l.inner.local).counts[&tag].requests, 1);
}

#[tokio::test]
async fn user_and_model_group_limits_apply() {
    let l = local(&ManualClock::new(T0));
    let mut grant = KeyGrant {
        user_id: Some("alice".into()),
        user_limits: rpm(2),
        ..KeyGrant::default()
    };
    grant.model_limits.insert("gpt-4o".into(), rpm(1));
    let id = caller("sk-a", grant);
    let _p = admit(&l, &id).await.unwrap();
    let e = admit(&l, &id).await.unwrap_err();
    assert!(
        e.message.starts_with(&format!(
            "Rate limit exceeded for model_per_key: {}:gpt-4o.",
            crate::proxy::auth::hash_key("sk-a")
        )),
        "{}",
        e.message
    );
    // Another group: only the user's limit (1 of 2 used).
    let p = l.admit(&id, "other", &body()).await.unwrap().unwrap();
    assert_eq!(
        header(&p, "x-ratelimit-user-remaining-requests").as_deref(),
        Some("0")
    );
    assert!(l.admit(&id, "other", &body()).await.is_err());
}

#[tokio::test]
async fn parallel_slots_come_back_when_the_request_ends() {
    let l = local(&ManualClock::new(T0));
    let id = caller("sk-a", key_with(limits(None, None, Some(2))));
    let one = admit(&l, &id).await.unwrap();
    let two = admit(&l, &id).await.unwrap();
    assert_eq!(
        header(&two, "x-ratelimit-api_key-remaining-max_parallel_requests").as_deref(),
        Some("0")
    );
    let e = admit(&l, &id).await.unwrap_err();
    assert!(
        e.message
            .contains("Limit type: max_parallel_requests. Current limit: 2, Remaining: 0."),
        "{}",
        e.message
    );
    assert_eq!(error_header(&e, "retry-after").as_deref(), Some("1"));
    drop(one);
    let _three = admit(&l, &id).await.unwrap();
    drop(two);
}

#[tokio::test]
async fn tokens_are_reserved_by_estimate_and_settled_with_usage() {
    let clock = ManualClock::new(T0);
    let l = local(&clock);
    let id = caller("sk-a", key_with(limits(None, Some(100), None)));
    let with_max = |n: u64| {
        obj(
            json!({"model": "gpt-4o", "max_tokens": n, "messages": [{"role": "user", "content": "hi"}]}),
        )
    };
    // "hi" as one user message is 8 prompt tokens (3 + "user" + "hi" + 3).
    assert_eq!(
        estimate_tokens(&with_max(50), "gpt-4o", TokenCount::Total),
        58
    );
    let mut p = l
        .admit(&id, "gpt-4o", &with_max(50))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        header(&p, "x-ratelimit-remaining-tokens").as_deref(),
        Some("42")
    );
    // 58 reserved: another 58 does not fit in 100.
    let e = l.admit(&id, "gpt-4o", &with_max(50)).await.unwrap_err();
    assert!(e.message.contains("Limit type: tokens"), "{}", e.message);
    assert_eq!(
        error_header(&e, "rate_limit_type").as_deref(),
        Some("tokens")
    );
    // The reply used 8 + 2: the reservation settles to 10.
    p.record_usage(8, 2);
    drop(p);
    let p = l
        .admit(&id, "gpt-4o", &with_max(50))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        header(&p, "x-ratelimit-remaining-tokens").as_deref(),
        Some("32")
    );
    // Without recorded usage (a stream without usage) the estimate stands.
    drop(p);
    let e = l.admit(&id, "gpt-4o", &with_max(50)).await.unwrap_err();
    assert!(e.message.contains("Remaining: 32"), "{}", e.message);
    // A failed call gives its reservation back.
    let mut p = l
        .admit(&id, "gpt-4o", &with_max(10))
        .await
        .unwrap()
        .unwrap();
    p.record_usage(0, 0);
    drop(p);
    assert!(l.admit(&id, "gpt-4o", &with_max(24)).await.is_ok());
    // A request bigger than the whole limit runs alone in an empty window.
    clock.advance(Duration::from_secs(60));
    let big = l
        .admit(&id, "gpt-4o", &with_max(5000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        header(&big, "x-ratelimit-remaining-tokens").as_deref(),
        Some("0")
    );
}

#[test]
fn estimates_count_what_token_rate_limit_type_says() {
    let chat = obj(json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}));
    assert_eq!(estimate_tokens(&chat, "g", TokenCount::Input), 8);
    assert_eq!(
        estimate_tokens(&chat, "g", TokenCount::Output),
        DEFAULT_OUTPUT_TOKENS
    );
    let text = obj(
        json!({"model": "gpt-4o", "prompt": ["hello world", "hi"], "max_completion_tokens": 5}),
    );
    assert_eq!(estimate_tokens(&text, "g", TokenCount::Total), 2 + 1 + 5);
    let embed = obj(json!({"model": "text-embedding-3-small", "input": "hello world"}));
    assert_eq!(estimate_tokens(&embed, "g", TokenCount::Total), 2);
    assert_eq!(TokenCount::parse("output"), TokenCount::Output);
    assert_eq!(TokenCount::parse("anything"), TokenCount::Total);
}

#[test]
fn reset_times_are_litellms_utc_text() {
    assert_eq!(utc_text(0), "1970-01-01 00:00:00 UTC");
    assert_eq!(utc_text(951_782_400), "2000-02-29 00:00:00 UTC");
    assert_eq!(utc_text(T0 + 60), "2027-01-15 08:01:00 UTC");
    assert_eq!(window_left_secs(T0 * 1000), 60);
    assert_eq!(window_left_secs(T0 * 1000 + 59_001), 1);
}

// -- shared through Redis ----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_admit_exactly_the_limit_between_them() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let clock = ManualClock::new(T0);
    let (one, two) = (shared(&server, &clock), shared(&server, &clock));
    let id = caller(
        "sk-a",
        KeyGrant {
            team_id: Some("team-1".into()),
            key_limits: rpm(30),
            team_limits: rpm(1000),
            ..KeyGrant::default()
        },
    );
    let admitted = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for n in 0..100 {
        let l = if n % 2 == 0 { one.clone() } else { two.clone() };
        let (id, admitted) = (id.clone(), admitted.clone());
        tasks.push(tokio::spawn(async move {
            match admit(&l, &id).await {
                Ok(p) => {
                    assert!(p.is_shared());
                    admitted.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => assert!(e.message.contains("api_key"), "{}", e.message),
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(admitted.load(Ordering::Relaxed), 30);
    // All or none: the team counted the 30 admitted requests, not the 70 refused.
    let team = format!("{{rustllm:team:team-1}}:requests:{}", T0 / 60);
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{}", server.port))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let counted: u64 = redis::cmd("GET")
        .arg(&team)
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(counted, 30);
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&team)
        .query_async(&mut c)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= WINDOW_TTL_MS as i64, "{ttl}");
    clock.advance(Duration::from_secs(60));
    assert!(admit(&two, &id).await.is_ok());
}

/// A shared admission counts each limit on its way through and undoes those counts when a
/// later descriptor refuses: nothing refused stays counted, and window keys get their ttl.
#[tokio::test]
async fn a_shared_refusal_undoes_what_it_counted() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let clock = ManualClock::new(T0);
    let l = shared(&server, &clock);
    let id = caller(
        "sk-a",
        KeyGrant {
            team_id: Some("team-1".into()),
            key_limits: limits(Some(100), Some(1_000_000), Some(100)),
            team_limits: rpm(2),
            ..KeyGrant::default()
        },
    );
    let one = admit(&l, &id).await.unwrap();
    let _two = admit(&l, &id).await.unwrap();
    let reserved: u64 = one.reserves[0];
    assert!(reserved > 0);
    for _ in 0..3 {
        let e = admit(&l, &id).await.unwrap_err();
        assert!(e.message.contains("for team: team-1"), "{}", e.message);
    }
    let key = format!(
        "{{rustllm:api_key:{}}}",
        crate::proxy::auth::hash_key("sk-a")
    );
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{}", server.port))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let minute = T0 / 60;
    let get = |k: String| redis::cmd("GET").arg(k).to_owned();
    let requests: u64 = get(format!("{key}:requests:{minute}"))
        .query_async(&mut c)
        .await
        .unwrap();
    let tokens: u64 = get(format!("{key}:tokens:{minute}"))
        .query_async(&mut c)
        .await
        .unwrap();
    let parallel: u64 = get(format!("{key}:parallel"))
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!((requests, tokens, parallel), (2, 2 * reserved, 2));
    for (k, most) in [
        (format!("{key}:requests:{minute}"), WINDOW_TTL_MS),
        (format!("{key}:tokens:{minute}"), WINDOW_TTL_MS),
        (format!("{key}:parallel"), PARALLEL_TTL_MS),
        (format!("{key}:parallel:by"), PARALLEL_TTL_MS),
        (format!("{key}:parallel:leases"), PARALLEL_TTL_MS),
    ] {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&k)
            .query_async(&mut c)
            .await
            .unwrap();
        assert!(ttl > 0 && ttl <= most as i64, "{k}: {ttl}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_settle_in_the_shared_window() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let clock = ManualClock::new(T0);
    let (one, two) = (shared(&server, &clock), shared(&server, &clock));
    let id = caller("sk-a", key_with(limits(None, Some(100), None)));
    let req = obj(
        json!({"model": "gpt-4o", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}),
    );
    let mut p = one.admit(&id, "gpt-4o", &req).await.unwrap().unwrap();
    // 58 reserved on one: two cannot reserve another 58.
    assert!(two.admit(&id, "gpt-4o", &req).await.is_err());
    p.record_usage(8, 2);
    drop(p);
    // The settlement runs in the background: two soon sees 10 used.
    let mut remaining = None;
    for _ in 0..200 {
        if let Ok(Some(p)) = two.admit(&id, "gpt-4o", &req).await {
            remaining = header(&p, "x-ratelimit-remaining-tokens");
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(remaining.as_deref(), Some("32"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_slots_are_shared_and_a_crashed_instance_does_not_leak_them() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let clock = ManualClock::new(T0);
    let (one, two) = (shared(&server, &clock), shared(&server, &clock));
    let id = caller("sk-a", key_with(limits(None, None, Some(2))));
    let a = admit(&one, &id).await.unwrap();
    let b = admit(&two, &id).await.unwrap();
    let e = admit(&two, &id).await.unwrap_err();
    assert!(e.message.contains("max_parallel_requests"), "{}", e.message);
    // A request ending on one frees a slot for two.
    drop(a);
    let mut c = None;
    for _ in 0..200 {
        if let Ok(p) = admit(&two, &id).await {
            c = Some(p);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let c = c.expect("the slot came back");
    // two "crashes" holding both slots: nothing is released.
    std::mem::forget(b);
    std::mem::forget(c);
    drop(two);
    assert!(admit(&one, &id).await.is_err());
    // Before its lease runs out the slots stay taken; one's own renewals do not keep
    // them; after it, the next admission sweeps them.
    clock.advance(Duration::from_millis(LEASE_MS - 1000));
    one.renew_now().await;
    assert!(admit(&one, &id).await.is_err());
    clock.advance(Duration::from_millis(2000));
    let _d = admit(&one, &id).await.unwrap();
    let _e = admit(&one, &id).await.unwrap();
    assert!(admit(&one, &id).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_instance_renews_its_slots() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let clock = ManualClock::new(T0);
    let (one, two) = (shared(&server, &clock), shared(&server, &clock));
    let id = caller("sk-a", key_with(limits(None, None, Some(1))));
    let held = admit(&one, &id).await.unwrap();
    for _ in 0..4 {
        clock.advance(Duration::from_millis(LEASE_MS / 2));
        one.renew_now().await;
        assert!(admit(&two, &id).await.is_err(), "a renewed slot was swept");
    }
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_requests_flow_on_local_limits_and_sharing_resumes() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let clock = ManualClock::new(T0);
    let link = server.link();
    let warnings = Arc::new(AtomicUsize::new(0));
    let w = warnings.clone();
    link.set_sink(Arc::new(move |level, _: &str| {
        if level == EventLevel::Warning {
            w.fetch_add(1, Ordering::Relaxed);
        }
    }));
    let one = Limiter::with_clock(Some(link.clone()), TokenCount::Total, clock.clone());
    let two = shared(&server, &clock);
    let id = caller("sk-a", key_with(rpm(4)));
    let _ = admit(&two, &id).await.unwrap();
    assert!(admit(&one, &id).await.unwrap().is_shared());
    server.stop();
    // Redis is gone: one carries on with its own counters, warm from the shared ones (2
    // of 4 used), and says so once.
    for _ in 0..2 {
        let p = admit(&one, &id).await.unwrap();
        assert!(!p.is_shared());
    }
    assert!(admit(&one, &id).await.is_err());
    assert!(link.is_down());
    assert_eq!(warnings.load(Ordering::Relaxed), 1);
    // Redis is back (empty): after the links' rest, the counts are shared again.
    server.restart();
    clock.advance(Duration::from_secs(60));
    for l in [&one, &two] {
        wait_until_answering(l).await;
    }
    assert!(!link.is_down());
    assert!(admit(&one, &id).await.unwrap().is_shared());
    for _ in 0..3 {
        assert!(admit(&two, &id).await.unwrap().is_shared());
    }
    // one counted 1 and two 3 in the new minute: the limit of 4 is reached for both.
    assert!(admit(&one, &id).await.is_err());
    assert!(admit(&two, &id).await.is_err());
    assert_eq!(warnings.load(Ordering::Relaxed), 1);
}

/// Wait (up to 5 s) until the limiter's Redis link answers again.
async fn wait_until_answering(l: &Limiter) {
    let link = l.inner.redis.as_ref().unwrap();
    for _ in 0..100 {
        if link.get("probe").await.is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("Redis did not answer again");
}

// -- through HTTP: the proxy's routes with virtual-key callers ------------------------

mod http {
    use super::*;
    use crate::mock::{MockServer, ScriptedResponse};
    use crate::proxy::auth::{AuthFuture, Authenticator};
    use crate::proxy::config::ProxyConfig;
    use crate::proxy::state::AppState;

    /// Callers by key, as a key store resolves them.
    struct Keys(HashMap<String, Identity>);

    impl Authenticator for Keys {
        fn authenticate<'a>(&'a self, key: Option<&'a str>, _route: &'a str) -> AuthFuture<'a> {
            let found = key
                .and_then(|k| self.0.get(k).cloned())
                .ok_or_else(|| ProxyError::unauthorized("Authentication Error, invalid key"));
            Box::pin(std::future::ready(found))
        }
        fn enforces_keys(&self) -> bool {
            true
        }
    }

    struct Proxy {
        url: String,
        _stop: tokio::sync::oneshot::Sender<()>,
    }

    async fn start(mock: &MockServer, keys: Vec<(&str, Identity)>) -> Proxy {
        let yaml = format!(
            "model_list:\n  - model_name: gpt-4o\n    litellm_params: {{model: openai/gpt-4o, api_base: {}, api_key: sk-upstream}}\nrouter_settings: {{num_retries: 0}}\n",
            mock.base_url()
        );
        let config = ProxyConfig::from_yaml(&yaml, &|_| None).unwrap();
        let mut state = AppState::new(&config).unwrap();
        state.auth = Arc::new(Keys(
            keys.into_iter()
                .map(|(k, id)| (k.to_string(), id))
                .collect(),
        ));
        let listener = crate::proxy::server::bind("127.0.0.1", 0).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(crate::proxy::server::serve(
            Arc::new(state),
            listener,
            async move {
                let _ = rx.await;
            },
            Duration::from_secs(5),
            2,
            crate::proxy::spin::Spin::off(),
        ));
        Proxy { url, _stop: tx }
    }

    async fn chat(proxy: &Proxy, key: &str, body: Value) -> reqwest::Response {
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(format!("{}/chat/completions", proxy.url))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    fn hi() -> Value {
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    }

    fn h(r: &reqwest::Response, name: &str) -> Option<String> {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_key_over_its_rpm_gets_litellms_429_and_no_provider_call() {
        let mock = MockServer::start().unwrap();
        let proxy = start(
            &mock,
            vec![
                ("sk-limited", caller("sk-limited", key_with(rpm(2)))),
                ("sk-free", caller("sk-free", KeyGrant::default())),
            ],
        )
        .await;
        for left in ["1", "0"] {
            let r = chat(&proxy, "sk-limited", hi()).await;
            assert_eq!(r.status(), 200);
            assert_eq!(
                h(&r, "x-ratelimit-remaining-requests").as_deref(),
                Some(left)
            );
            assert_eq!(h(&r, "x-ratelimit-limit-requests").as_deref(), Some("2"));
            assert!(h(&r, "x-ratelimit-reset-requests").is_some());
        }
        let r = chat(&proxy, "sk-limited", hi()).await;
        assert_eq!(r.status(), 429);
        let retry: u64 = h(&r, "retry-after").unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert_eq!(h(&r, "rate_limit_type").as_deref(), Some("requests"));
        assert!(h(&r, "x-litellm-call-id").is_some());
        let body: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        assert_eq!(body["error"]["code"], json!("429"));
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("Rate limit exceeded for api_key: "),
            "{message}"
        );
        assert!(!message.contains("sk-limited"), "{message}");
        assert_eq!(mock.request_count(), 2);
        // A key without limits: no headers, nothing counted.
        let r = chat(&proxy, "sk-free", hi()).await;
        assert_eq!(r.status(), 200);
        assert!(h(&r, "x-ratelimit-remaining-requests").is_none());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tokens_settle_with_the_replys_usage_for_json_and_streams() {
        let mock = MockServer::start().unwrap();
        let id = caller("sk-t", key_with(limits(None, Some(100), None)));
        let proxy = start(&mock, vec![("sk-t", id)]).await;
        let mut body = hi();
        body["max_tokens"] = json!(10);
        // Reserved: 8 prompt + 10 = 18; the mock's reply uses 1 + 3 words.
        mock.push(ScriptedResponse::text("one two three"));
        let r = chat(&proxy, "sk-t", body.clone()).await;
        assert_eq!(r.status(), 200);
        assert_eq!(h(&r, "x-ratelimit-remaining-tokens").as_deref(), Some("82"));
        // Settled to 4: 4 + 18 reserved.
        mock.push(ScriptedResponse::text("one two three"));
        let r = chat(&proxy, "sk-t", body.clone()).await;
        assert_eq!(h(&r, "x-ratelimit-remaining-tokens").as_deref(), Some("78"));
        // A stream settles at its end, with the usage chunk.
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
        mock.push(ScriptedResponse::text("a b c d e f"));
        let r = chat(&proxy, "sk-t", body.clone()).await;
        assert_eq!(h(&r, "x-ratelimit-remaining-tokens").as_deref(), Some("74"));
        let text = String::from_utf8(r.bytes().await.unwrap().to_vec()).unwrap();
        assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
        // 4 + 4 + 7 used, and this request's 18.
        body["stream"] = json!(false);
        let r = chat(&proxy, "sk-t", body).await;
        assert_eq!(h(&r, "x-ratelimit-remaining-tokens").as_deref(), Some("67"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stream_holds_its_parallel_slot_until_it_ends() {
        let mock = MockServer::start().unwrap();
        let id = caller("sk-p", key_with(limits(None, None, Some(1))));
        let proxy = start(&mock, vec![("sk-p", id)]).await;
        mock.push(ScriptedResponse {
            text: Some("a b c d".into()),
            chunk_delay: Duration::from_millis(150),
            ..ScriptedResponse::default()
        });
        let mut body = hi();
        body["stream"] = json!(true);
        let stream = chat(&proxy, "sk-p", body).await;
        assert_eq!(stream.status(), 200);
        assert_eq!(
            h(
                &stream,
                "x-ratelimit-api_key-remaining-max_parallel_requests"
            )
            .as_deref(),
            Some("0")
        );
        let r = chat(&proxy, "sk-p", hi()).await;
        assert_eq!(r.status(), 429);
        assert_eq!(
            h(&r, "rate_limit_type").as_deref(),
            Some("max_parallel_requests")
        );
        stream.bytes().await.unwrap();
        // The body is done: the slot is back.
        let mut status = 0;
        for _ in 0..50 {
            status = chat(&proxy, "sk-p", hi()).await.status().as_u16();
            if status == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(status, 200);
    }
}

/// What admission costs per request, local and through Redis (figures, not a check):
/// `cargo test --profile dev-release --lib measure_admission -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
#[allow(clippy::print_stderr)]
async fn measure_admission() {
    let id = caller(
        "sk-a",
        key_with(limits(Some(u64::MAX / 2), Some(u64::MAX / 2), Some(1000))),
    );
    let body = body();
    let l = Limiter::new(None, TokenCount::Total);
    let n = 200_000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        let mut p = l.admit(&id, "gpt-4o", &body).await.unwrap().unwrap();
        let mut h = HeaderMap::new();
        p.apply_headers(&mut h);
        p.record_usage(10, 10);
    }
    eprintln!(
        "local: {:.2} us per request (admit, headers, settle)",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let Some(server) = RedisServer::start() else {
        return;
    };
    let l = Limiter::new(Some(server.link()), TokenCount::Total);
    let n = 5_000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        let mut p = l.admit(&id, "gpt-4o", &body).await.unwrap().unwrap();
        assert!(p.is_shared());
        p.record_usage(10, 10);
    }
    eprintln!(
        "redis: {:.1} us per admission (one script round trip; the settlement runs after)",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}

/// How many script calls this Redis has run.
async fn evalsha_calls(server: &RedisServer) -> u64 {
    server.command_calls(&["evalsha"]).await
}

/// Admissions arriving while a call to Redis is out go together in the next call: 64
/// at once take far fewer than 64 script calls, and each is counted exactly once (the
/// 65th of an rpm of 64 is refused, on this instance and on another).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_admissions_share_script_calls() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let clock = ManualClock::new(T0);
    let (one, two) = (shared(&server, &clock), shared(&server, &clock));
    let id = caller("sk-batch", key_with(limits(Some(64), None, None)));
    let before = evalsha_calls(&server).await;
    let permits = futures_util::future::join_all((0..64).map(|_| admit(&one, &id))).await;
    let calls = evalsha_calls(&server).await - before;
    assert!(permits.iter().all(Result::is_ok));
    assert!(
        calls <= 16,
        "{calls} script calls for 64 concurrent admissions"
    );
    let mut remaining: Vec<u64> = permits
        .iter()
        .filter_map(|p| header(p.as_ref().ok()?, "x-ratelimit-remaining-requests"))
        .filter_map(|v| v.parse().ok())
        .collect();
    remaining.sort_unstable();
    assert_eq!(
        remaining,
        (0..64).collect::<Vec<u64>>(),
        "each counted once"
    );
    assert!(admit(&one, &id).await.is_err());
    assert!(admit(&two, &id).await.is_err());
}

/// A descriptor's Redis hash tag for a virtual key's own limits.
fn key_tag(key: &str) -> String {
    format!("{{rustllm:api_key:{}}}", crate::proxy::auth::hash_key(key))
}

/// A counter's value in Redis (`None`: no such key).
async fn counter(server: &RedisServer, key: String) -> Option<i64> {
    server
        .link()
        .run(|mut c| async move {
            redis::cmd("GET")
                .arg(&key)
                .query_async::<Option<i64>>(&mut c)
                .await
        })
        .await
        .flatten()
}

/// A call carrying many admissions of one key reads and writes each counter once, not
/// once per request (the per-request `INCR`s were most of Redis's CPU under load), and
/// stays exact: 64 at once against an rpm of 40 admit exactly 40, the refused ones
/// leave nothing counted (the requests and parallel counters read 40), and their
/// slots are all given back in a few summed releases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_counts_each_counter_once_and_exactly() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let clock = ManualClock::new(T0);
    let one = shared(&server, &clock);
    let id = caller("sk-once", key_with(limits(Some(40), None, Some(1000))));
    let tag = key_tag("sk-once");
    let minute = T0 / WINDOW_SECS;
    let get = |key: String| async { counter(&server, key).await.unwrap_or(0) };
    // Connected first (the first call may find the link resting on a busy machine).
    drop(admit(&one, &id).await.unwrap());
    tokio::time::sleep(Duration::from_millis(50)).await;
    let counters = ["get", "incr", "incrby", "decr", "decrby"];
    let (calls0, cmds0) = (
        evalsha_calls(&server).await,
        server.command_calls(&counters).await,
    );
    let outcomes = futures_util::future::join_all((0..64).map(|_| admit(&one, &id))).await;
    let calls = evalsha_calls(&server).await - calls0;
    let cmds = server.command_calls(&counters).await - cmds0;
    let admitted: Vec<Permit> = outcomes.into_iter().filter_map(Result::ok).collect();
    assert_eq!(admitted.len(), 39, "40 a minute, one taken before");
    assert!(admitted.iter().all(Permit::is_shared));
    assert!(
        cmds <= 4 * calls,
        "{cmds} counter commands in {calls} calls for 64 admissions"
    );
    assert_eq!(get(format!("{tag}:requests:{minute}")).await, 40);
    assert_eq!(get(format!("{tag}:parallel")).await, 39);
    drop(admitted);
    let mut parallel = -1;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        parallel = get(format!("{tag}:parallel")).await;
        if parallel == 0 {
            break;
        }
    }
    assert_eq!(parallel, 0, "every slot given back");
}

/// Runs one call's script as `run_calls` would and returns its reply.
async fn run_script(
    server: &RedisServer,
    limiter: &Limiter,
    ends: &[End],
    admissions: &[Admission],
) -> (Vec<i64>, Vec<usize>) {
    let (invocation, group_of) = invocation_of(&limiter.inner, T0 * 1000, ends, admissions);
    let reply: Option<Vec<i64>> = server
        .link()
        .run(|mut c| async move { invocation.invoke_async(&mut c).await })
        .await;
    (reply.expect("the script answers"), group_of)
}

/// An admission as `admit_shared` queues it: per tag its rpm, tpm and parallel limits
/// (-1: none) and its reserve.
fn admission(tags: &[&str], args: &[i64]) -> Admission {
    let (reply, _rx) = tokio::sync::oneshot::channel();
    Admission {
        tags: tags.iter().map(|t| t.to_string()).collect(),
        minute: T0 / WINDOW_SECS,
        args: args.to_vec(),
        reply,
    }
}

/// Alike admissions (one key's requests under load) go to Redis as one group: the script
/// works out at once how many fit, and its reply is as short for 50 as for one (it was
/// four numbers per admission, and Lua's per-admission loop was most of a call's cost).
/// Each admission still reads its own counts, those past a limit are refused for it,
/// and the counters read exactly what was admitted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alike_admissions_go_as_one_group() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let one = shared(&server, &ManualClock::new(T0));
    let tag = key_tag("sk-group");
    let minute = T0 / WINDOW_SECS;
    // rpm 100, tpm 1000, 1000 parallel; 30 tokens each: 33 fit by tokens.
    let admissions: Vec<Admission> = (0..50)
        .map(|_| admission(&[&tag], &[100, 1000, 1000, 30]))
        .collect();
    let (reply, group_of) = run_script(&server, &one, &[], &admissions).await;
    assert_eq!(group_of, vec![0; 50]);
    assert_eq!(
        reply,
        vec![33, 1, 30, 1, 0, 2, 990],
        "33 admitted, the first at 1 request, 30 tokens, 1 slot; the rest refused by tokens at 990"
    );
    let outcomes = read_outcomes(&reply, &admissions, &group_of).unwrap();
    for (j, outcome) in outcomes.iter().enumerate() {
        let n = j as u64 + 1;
        match outcome {
            Ok(c) if j < 33 => {
                assert_eq!((c[0].requests, c[0].tokens, c[0].parallel), (n, 30 * n, n));
            }
            Err(r) if j >= 33 => {
                assert_eq!((r.index, r.limit, r.value), (0, LimitType::Tokens, 990));
            }
            other => panic!("admission {j}: {other:?}"),
        }
    }
    assert_eq!(
        counter(&server, format!("{tag}:requests:{minute}")).await,
        Some(33)
    );
    assert_eq!(
        counter(&server, format!("{tag}:tokens:{minute}")).await,
        Some(990)
    );
    assert_eq!(counter(&server, format!("{tag}:parallel")).await, Some(33));
}

/// Admissions of different shapes in one call go as one group each, in the order they
/// first came; a group counts after the ones before it, and the limit that refuses the
/// rest may be any descriptor's (here the model group's, the second).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_shape_of_admission_is_a_group() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let one = shared(&server, &ManualClock::new(T0));
    let key = key_tag("sk-shapes");
    let model = "{rustllm:model_per_key:shapes:gpt-4o}".to_string();
    let minute = T0 / WINDOW_SECS;
    // The key alone (rpm 100), and the key with its model group (rpm 4), taking turns.
    let admissions: Vec<Admission> = (0..20)
        .map(|i| {
            if i % 2 == 0 {
                admission(&[&key], &[100, -1, -1, 0])
            } else {
                admission(&[&key, &model], &[100, -1, -1, 0, 4, -1, -1, 0])
            }
        })
        .collect();
    let (reply, group_of) = run_script(&server, &one, &[], &admissions).await;
    assert_eq!(group_of, (0..20).map(|i| i % 2).collect::<Vec<usize>>());
    assert_eq!(
        reply,
        vec![10, 1, 0, 0, 4, 11, 0, 0, 1, 0, 0, 1, 1, 4],
        "the key's ten, then four of the pair, refused by the model group's rpm at 4"
    );
    let outcomes = read_outcomes(&reply, &admissions, &group_of).unwrap();
    let pairs: Vec<_> = outcomes.iter().skip(1).step_by(2).collect();
    for (j, outcome) in pairs.iter().enumerate() {
        let n = j as u64;
        match outcome {
            Ok(c) if j < 4 => assert_eq!((c[0].requests, c[1].requests), (11 + n, 1 + n)),
            Err(r) if j >= 4 => {
                assert_eq!((r.index, r.limit, r.value), (1, LimitType::Requests, 4))
            }
            other => panic!("pair {j}: {other:?}"),
        }
    }
    assert_eq!(
        counter(&server, format!("{key}:requests:{minute}")).await,
        Some(14)
    );
    assert_eq!(
        counter(&server, format!("{model}:requests:{minute}")).await,
        Some(4)
    );
}

/// One request after another (concurrency 1): a request's end goes to Redis with the
/// next admission, and the slot given back and taken again in that call is netted:
/// nothing is written for it (the lease was written per request), and the counters
/// stay exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_given_back_and_taken_in_one_call_writes_nothing() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let clock = ManualClock::new(T0);
    let one = shared(&server, &clock);
    let id = caller("sk-serial", key_with(limits(Some(1000), None, Some(1))));
    let tag = key_tag("sk-serial");
    // The only slot, held.
    let held = admit(&one, &id).await.unwrap();
    assert!(held.is_shared());
    std::mem::forget(held);
    // Its end and the next admission in one call, as run_calls sends them.
    let minute = T0 / WINDOW_SECS;
    let ends = [End {
        tag: tag.clone(),
        minute,
        delta: 0,
        release: true,
    }];
    let (reply, _rx) = tokio::sync::oneshot::channel();
    let admissions = [Admission {
        tags: vec![tag.clone()],
        minute,
        args: vec![1000, -1, 1, 0],
        reply,
    }];
    let inner = &one.inner;
    let writes = ["zadd", "hset", "hincrby", "hdel", "decrby", "pexpire"];
    let before = server.command_calls(&writes).await;
    let (invocation, _) = invocation_of(inner, T0 * 1000, &ends, &admissions);
    let reply: Option<Vec<i64>> = server
        .link()
        .run(|mut c| async move { invocation.invoke_async(&mut c).await })
        .await;
    assert_eq!(
        reply,
        Some(vec![1, 2, 0, 1]),
        "admitted: the slot given back first"
    );
    assert_eq!(
        server.command_calls(&writes).await - before,
        0,
        "nothing written for a slot given back and taken again"
    );
    assert_eq!(counter(&server, format!("{tag}:parallel")).await, Some(1));
    assert_eq!(
        counter(&server, format!("{tag}:requests:{minute}")).await,
        Some(2)
    );
}

/// A settlement never brings back a window that expired while its request ran: the
/// key would come back without a ttl and never go away (and count for nobody). One that
/// still exists is settled, and a new window an admission opens gets its ttl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settlement_never_recreates_an_expired_window() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let clock = ManualClock::new(T0);
    let one = shared(&server, &clock);
    let tag = key_tag("sk-expired");
    let minute = T0 / WINDOW_SECS;
    let settle = |minute: u64, delta: i64| End {
        tag: tag.clone(),
        minute,
        delta,
        release: false,
    };
    // The previous minute's window is gone; this minute's is opened by an admission
    // reserving 100 tokens in the same call.
    let admissions = [admission(&[&tag], &[-1, 1000, -1, 100])];
    let ends = [settle(minute - 1, -40), settle(minute, -30)];
    let (reply, _) = run_script(&server, &one, &ends, &admissions).await;
    assert_eq!(
        reply,
        vec![1, 0, 100, 0],
        "the admission reads its own reserve"
    );
    assert_eq!(
        counter(&server, format!("{tag}:tokens:{}", minute - 1)).await,
        None,
        "the expired window stays gone"
    );
    let key = format!("{tag}:tokens:{minute}");
    assert_eq!(counter(&server, key.clone()).await, Some(100));
    let ttl: Option<i64> = server
        .link()
        .run(|mut c| async move { redis::cmd("PTTL").arg(&key).query_async(&mut c).await })
        .await;
    assert!(
        ttl.is_some_and(|t| t > 0 && t <= WINDOW_TTL_MS as i64),
        "{ttl:?}"
    );
    // Now that it exists, this minute's window is settled.
    let (reply, _) = run_script(&server, &one, &[settle(minute, -30)], &[]).await;
    assert!(reply.is_empty());
    assert_eq!(
        counter(&server, format!("{tag}:tokens:{minute}")).await,
        Some(70)
    );
}

/// One request after another: each request's end goes to Redis with the next
/// admission, one script call per request (a wake-up left over from an earlier
/// admission sent every end alone: two calls per request, twice the round trips).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_concurrency_one_an_end_goes_with_the_next_admission() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let clock = ManualClock::new(T0);
    let one = shared(&server, &clock);
    let id = caller(
        "sk-one",
        key_with(limits(Some(1000), Some(1_000_000), Some(10))),
    );
    drop(admit(&one, &id).await.unwrap());
    tokio::time::sleep(Duration::from_millis(20)).await;
    let before = evalsha_calls(&server).await;
    let n = 40;
    for _ in 0..n {
        let mut p = admit(&one, &id).await.unwrap();
        assert!(p.is_shared());
        p.record_usage(3, 4);
        drop(p);
        // The client's turn: the next request comes a little after the reply.
        std::thread::sleep(Duration::from_micros(200));
    }
    let calls = evalsha_calls(&server).await - before;
    assert!(
        calls < n + n / 2,
        "{calls} script calls for {n} requests one after another"
    );
}

/// A request that goes away while its admission is out (the client disconnected) was
/// counted in Redis with nobody left to end it: its slot and tokens are given back, so
/// a limit of one parallel request is free again for another instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_admission_gives_its_slot_back() {
    use futures_util::FutureExt;
    let Some(server) = RedisServer::start() else {
        return;
    };
    let clock = ManualClock::new(T0);
    let (one, two) = (shared(&server, &clock), shared(&server, &clock));
    let id = caller("sk-gone", key_with(limits(None, None, Some(1))));
    // Connected (on a busy machine the first connection may time out: the link then
    // rests a second), and the slot free again.
    let mut warm = admit(&one, &id).await.unwrap();
    for _ in 0..30 {
        if warm.is_shared() {
            break;
        }
        drop(warm);
        tokio::time::sleep(Duration::from_millis(100)).await;
        warm = admit(&one, &id).await.unwrap();
    }
    assert!(warm.is_shared(), "Redis does not answer");
    drop(warm);
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Queued, sent, then abandoned before the reply. (On a loaded machine the link can
    // rest after a slow reply and answer the first poll itself: then try again.)
    let mut abandoned = false;
    for _ in 0..20 {
        match admit(&one, &id).now_or_never() {
            None => {
                abandoned = true;
                break;
            }
            Some(done) => {
                drop(done);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    assert!(abandoned, "every admission was answered on its first poll");
    let mut admitted = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        if let Ok(p) = admit(&two, &id).await {
            admitted = true;
            drop(p);
            break;
        }
    }
    assert!(
        admitted,
        "the abandoned admission still holds the only slot"
    );
}

/// Many requests ending at once are settled in a few END calls, not one each, and
/// every slot and token comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ends_are_sent_in_batches() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let clock = ManualClock::new(T0);
    let (one, two) = (shared(&server, &clock), shared(&server, &clock));
    let id = caller("sk-a", key_with(limits(None, Some(1_000_000), Some(200))));
    let mut permits = Vec::new();
    for _ in 0..200 {
        let mut p = admit(&one, &id).await.unwrap();
        p.record_usage(1, 1);
        permits.push(p);
    }
    assert!(admit(&two, &id).await.is_err(), "all 200 slots are taken");
    let evalsha_calls = || evalsha_calls(&server);
    let before = evalsha_calls().await;
    drop(permits);
    let mut admitted = None;
    for _ in 0..300 {
        if let Ok(p) = admit(&two, &id).await {
            admitted = Some(p);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(admitted.is_some(), "the slots came back");
    // Wait for the last batch, then count: 200 ends, far fewer calls.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let calls = evalsha_calls().await - before;
    assert!(calls < 50, "{calls} EVALSHA calls for 200 request ends");
    drop(admitted);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Every slot is back: 200 admitted again across the two instances.
    for n in 0..200 {
        let l = if n % 2 == 0 { &one } else { &two };
        std::mem::forget(admit(l, &id).await.unwrap());
    }
}

#[test]
fn every_descriptor_kind_has_its_header_names() {
    let id = caller(
        "sk-a",
        KeyGrant {
            user_id: Some("u".into()),
            team_id: Some("t".into()),
            key_limits: rpm(1),
            user_limits: rpm(1),
            team_limits: rpm(1),
            model_limits: [("gpt-4o".to_string(), rpm(1))].into_iter().collect(),
            ..KeyGrant::default()
        },
    );
    let made = descriptors(&id, "gpt-4o");
    assert_eq!(made.len(), DESCRIPTOR_KINDS.len());
    for d in &made {
        for t in LIMIT_TYPES {
            let [remaining, limit] = descriptor_headers(d.kind, t).unwrap();
            assert_eq!(
                remaining.as_str(),
                format!("x-ratelimit-{}-remaining-{}", d.kind, t.name())
            );
            assert_eq!(
                limit.as_str(),
                format!("x-ratelimit-{}-limit-{}", d.kind, t.name())
            );
        }
    }
}
