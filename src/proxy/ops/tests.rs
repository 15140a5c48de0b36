use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::json;

use super::alerts::AlertKind;
use super::reqlog::{request_line, without_secrets, LogTarget};
use crate::proxy::auth::KeyGrant;
use crate::proxy::config::ProxyConfig;
use crate::proxy::spend::SpendEvent;

const MODELS: &str = "model_list: [{model_name: m, litellm_params: {model: openai/gpt-4o}}]\n";

fn read(yaml: &str, env: &[(&str, &str)]) -> Result<ProxyConfig, String> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    ProxyConfig::from_yaml(&format!("{MODELS}{yaml}"), &lookup).map_err(|e| e.to_string())
}

#[test]
fn defaults_are_litellms() {
    let c = read("", &[]).unwrap();
    let s = &c.ops;
    assert!(!s.background_health_checks);
    assert_eq!(s.health_check_interval, Duration::from_secs(300));
    assert!(s.health_check_details);
    assert!(s.metrics_auth, "LiteLLM 1.110.2 asks for a key on /metrics");
    assert!(s.request_log.is_none());
    assert!(s.alerts.is_none());
}

#[test]
fn operating_settings_are_read_and_not_reported_as_ignored() {
    let c = read(
        r#"
litellm_settings:
  json_logs: true
  require_auth_for_metrics_endpoint: false
  callbacks: ["prometheus"]
general_settings:
  background_health_checks: true
  health_check_interval: 2.5
  health_check_details: false
  alerting: ["slack"]
  alerting_threshold: 30
  alert_types: ["budget_alerts", "outage_alerts"]
  alert_to_webhook_url: {outage_alerts: "http://127.0.0.1:9/outages"}
  alerting_args: {budget_alert_ttl: 60, outage_alert_ttl: 10, minor_outage_alert_threshold: 2}
"#,
        &[("SLACK_WEBHOOK_URL", "https://hooks.example/T/B/secret")],
    )
    .unwrap();
    let s = &c.ops;
    assert!(s.background_health_checks && !s.health_check_details && !s.metrics_auth);
    assert_eq!(s.health_check_interval, Duration::from_millis(2500));
    assert_eq!(s.request_log, Some(LogTarget::Stdout));
    let a = s.alerts.as_ref().unwrap();
    assert_eq!(
        a.kinds,
        [AlertKind::Budget, AlertKind::Outage].into_iter().collect()
    );
    assert_eq!(
        a.url_for(AlertKind::Budget),
        Some("https://hooks.example/T/B/secret")
    );
    assert_eq!(
        a.url_for(AlertKind::Outage),
        Some("http://127.0.0.1:9/outages")
    );
    assert_eq!(a.slow_threshold, Duration::from_secs(30));
    assert_eq!(a.budget_window, Duration::from_secs(60));
    assert_eq!(a.window, Duration::from_secs(10));
    assert_eq!(a.min_failures, 2);
    assert!(c.ignored.is_empty(), "{:?}", c.ignored);

    let c = read(
        "litellm_settings: {json_logs_file: /tmp/requests.jsonl}",
        &[],
    )
    .unwrap();
    assert_eq!(
        c.ops.request_log,
        Some(LogTarget::File("/tmp/requests.jsonl".into()))
    );
}

#[test]
fn webhook_alerts_without_a_url_or_with_a_bad_one_are_refused_without_quoting_it() {
    let e = read("general_settings: {alerting: [webhook]}", &[]).unwrap_err();
    assert!(e.contains("SLACK_WEBHOOK_URL"), "{e}");
    let e = read(
        "general_settings: {alerting: [slack]}",
        &[("SLACK_WEBHOOK_URL", "hooks.example/T/B/secret")],
    )
    .unwrap_err();
    assert!(e.contains("http(s) URL") && !e.contains("secret"), "{e}");
    let c = read(
        "general_settings: {alerting: [webhook]}",
        &[("ALERTING_WEBHOOK_URL", "http://127.0.0.1:9/hook")],
    )
    .unwrap();
    assert!(c.ops.alerts.is_some());
    // Email only: no webhook alerts.
    assert!(read("general_settings: {alerting: [email]}", &[])
        .unwrap()
        .ops
        .alerts
        .is_none());
    let e = read("general_settings: {health_check_interval: -1}", &[]).unwrap_err();
    assert!(e.contains("health_check_interval"), "{e}");
}

fn event() -> SpendEvent {
    SpendEvent {
        call_id: "call-1".into(),
        route: "chat",
        key_hash: Some(Arc::from("0123456789abcdef0123456789abcdef")),
        user_id: Some("u1".into()),
        team_id: Some("t1".into()),
        end_user: None,
        requested_model: "gpt-4".into(),
        model_group: "gpt-4o".into(),
        model_id: "dep-1".into(),
        provider: "openai".into(),
        cost: Some(0.0015),
        prompt_tokens: 12,
        completion_tokens: 30,
        stream: true,
        status: 200,
        cache_hit: false,
        started: SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_542_200_123),
        duration: Duration::from_micros(250_500),
        grant: Some(Arc::new(KeyGrant {
            key_alias: Some("alice".into()),
            user_id: Some("u1".into()),
            team_id: Some("t1".into()),
            ..KeyGrant::default()
        })),
        llm_api_duration: Some(Duration::from_millis(200)),
        time_to_first_token: Some(Duration::from_millis(80)),
        rate_limit_remaining: None,
        guardrails: Vec::new(),
    }
}

#[test]
fn a_request_line_has_who_what_and_how_long_but_no_key() {
    let line = request_line(&event());
    assert_eq!(line["call_id"], "call-1");
    assert_eq!(line["timestamp"], "2026-12-06T07:30:00.123Z");
    assert_eq!(line["key_alias"], "alice");
    assert_eq!(line["key_hash_prefix"], "0123456789ab");
    assert_eq!(line["team_id"], "t1");
    assert_eq!(line["model_group"], "gpt-4o");
    assert_eq!(line["requested_model"], "gpt-4");
    assert_eq!(line["model_id"], "dep-1");
    assert_eq!(line["status"], 200);
    assert_eq!(line["total_tokens"], 42);
    assert_eq!(line["cost"], 0.0015);
    assert_eq!(line["duration_ms"], 250.5);
    assert_eq!(line["llm_api_duration_ms"], 200.0);
    assert_eq!(line["overhead_ms"], 50.5);
    assert_eq!(line["time_to_first_token_ms"], 80.0);
    assert!(!line.to_string().contains("0123456789abcdef0123"));
}

#[test]
fn audit_rows_lose_their_secrets_at_any_depth() {
    let row = json!({
        "token": "0123abcd",
        "key_alias": "alice",
        "key_name": "sk-...WXYZ",
        "metadata": {"api_key": "sk-provider", "note": "sk-abcdefghijklmnop"},
        "list": [{"password": "p"}, "sk-abcdefghijklmnop"],
        "max_budget": 10.0,
    });
    let clean = without_secrets(&row);
    let text = clean.to_string();
    for secret in ["0123abcd", "sk-provider", "sk-abcdefghijklmnop", "\"p\""] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert_eq!(clean["key_alias"], "alice");
    assert_eq!(clean["max_budget"], 10.0);
}
