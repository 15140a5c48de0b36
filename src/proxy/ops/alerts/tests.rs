use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::Value;
use tokio::sync::mpsc;

use super::*;

/// A local webhook receiver: every POST's content type and JSON body.
async fn receiver() -> (String, mpsc::UnboundedReceiver<(String, Value)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook/{name}",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let ct = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let _ = tx.send((ct, v));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<(String, Value)>) -> String {
    let (ct, body) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("an alert within 5 s")
        .unwrap();
    assert_eq!(ct, "application/json");
    let obj = body.as_object().unwrap();
    assert_eq!(obj.len(), 1, "Slack's shape: {body}");
    obj["text"].as_str().unwrap().to_string()
}

async fn nothing(rx: &mut mpsc::UnboundedReceiver<(String, Value)>) {
    let got = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await;
    assert!(got.is_err(), "unexpected alert: {got:?}");
}

const GROUPS: &[&str] = &["gpt-4o", "other"];

fn settings(url: &str) -> AlertSettings {
    AlertSettings::new(Some(format!("{url}/default")))
}

#[tokio::test]
async fn budget_alerts_follow_litellms_levels_once_per_window() {
    let (url, mut rx) = receiver().await;
    let a = Alerts::start(settings(&url), GROUPS);
    // 80% used: below LiteLLM's first level (15% left).
    assert!(!a.budget("Key", "alice", 0.80, 1.0));
    assert!(a.budget("Key", "alice", 0.86, 1.0));
    let text = next(&mut rx).await;
    assert!(text.contains("15% or less of budget remaining"), "{text}");
    assert!(text.contains("`alice`"), "{text}");
    // The same level again: not within budget_alert_ttl.
    assert!(!a.budget("Key", "alice", 0.90, 1.0));
    assert!(a.budget("Key", "alice", 0.96, 1.0));
    assert!(next(&mut rx).await.contains("5% or less"));
    assert!(a.budget("Key", "alice", 1.0, 1.0));
    assert!(next(&mut rx).await.contains("Budget Crossed"));
    assert!(!a.budget("Key", "alice", 1.5, 1.0));
    // Another owner is its own alert.
    assert!(a.budget("Team", "t1", 9.0, 10.0));
    assert!(next(&mut rx).await.contains("Team Budget"));
    nothing(&mut rx).await;
}

#[tokio::test]
async fn a_failure_spike_alerts_once_per_window_and_client_errors_do_not_count() {
    let (url, mut rx) = receiver().await;
    let mut s = settings(&url);
    s.min_failures = 3;
    let a = Alerts::start(s, GROUPS);
    let ms = Duration::from_millis(5);
    // Client errors are not failures of the model.
    for _ in 0..2 {
        a.request("gpt-4o", 400, ms);
    }
    a.request("gpt-4o", 500, ms);
    a.request("gpt-4o", 503, ms);
    nothing(&mut rx).await;
    a.request("gpt-4o", 429, ms);
    let text = next(&mut rx).await;
    assert!(
        text.contains("`gpt-4o`") && text.contains("3 of 5"),
        "{text}"
    );
    a.request("gpt-4o", 500, ms);
    nothing(&mut rx).await;

    // A name that is no model group is not tracked.
    for _ in 0..10 {
        a.request("not-a-group", 500, ms);
    }
    nothing(&mut rx).await;

    // Three failures among many successes: under half the requests, no spike.
    let b = Alerts::start(
        {
            let mut s = settings(&url);
            s.min_failures = 3;
            s
        },
        GROUPS,
    );
    for _ in 0..20 {
        b.request("other", 200, ms);
    }
    for _ in 0..3 {
        b.request("other", 500, ms);
    }
    nothing(&mut rx).await;
}

#[tokio::test]
async fn alert_types_pick_the_alerts_and_alert_to_webhook_url_their_url() {
    let (url, mut rx) = receiver().await;
    let mut s = settings(&url);
    s.kinds = [AlertKind::Outage, AlertKind::Slow].into_iter().collect();
    s.per_kind
        .insert(AlertKind::Outage, format!("{url}/outages"));
    s.slow_threshold = Duration::from_millis(100);
    let a = Alerts::start(s, GROUPS);
    assert!(!a.budget("Key", "alice", 1.0, 1.0));
    assert!(a.deployment_health("gpt-4o", "dep-2", Some("HTTP 500: boom")));
    let text = next(&mut rx).await;
    assert!(text.contains("dep-2") && text.contains("boom"), "{text}");
    // Still down: no second alert; back up: one, and the next outage alerts again.
    assert!(!a.deployment_health("gpt-4o", "dep-2", Some("HTTP 500: boom")));
    assert!(a.deployment_health("gpt-4o", "dep-2", None));
    assert!(next(&mut rx).await.contains("healthy again"));
    assert!(a.deployment_health("gpt-4o", "dep-2", Some("HTTP 500: boom")));
    next(&mut rx).await;
    a.request("gpt-4o", 200, Duration::from_millis(250));
    assert!(next(&mut rx).await.contains("Slow response"));
    nothing(&mut rx).await;
}

#[tokio::test]
async fn a_dead_webhook_slows_nothing_and_its_url_is_not_logged() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let a = Alerts::start(
        AlertSettings::new(Some(format!(
            "http://127.0.0.1:{port}/services/T000/B000/XXXXSECRET"
        ))),
        GROUPS,
    );
    let t = std::time::Instant::now();
    for i in 0..1000 {
        a.budget("Key", &format!("k{i}"), 2.0, 1.0);
    }
    assert!(t.elapsed() < Duration::from_millis(500));
    // The queue is bounded: what did not fit was dropped and counted.
    assert!(a.dropped() > 0);
    assert_eq!(
        host_of("http://127.0.0.1:9/services/T000/B000/XXXXSECRET"),
        "127.0.0.1"
    );
}

#[tokio::test]
async fn failures_count_within_their_window_only() {
    let (url, mut rx) = receiver().await;
    let mut s = settings(&url);
    s.min_failures = 3;
    s.window = Duration::from_millis(1000);
    let a = Alerts::start(s, GROUPS);
    let ms = Duration::from_millis(5);
    a.request("gpt-4o", 500, ms);
    a.request("gpt-4o", 500, ms);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // A new window: this is its first failure, not the third.
    a.request("gpt-4o", 500, ms);
    nothing(&mut rx).await;
    a.request("gpt-4o", 500, ms);
    a.request("gpt-4o", 500, ms);
    assert!(next(&mut rx).await.contains("3 of 3"));
}
