use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::json;

use super::*;
use crate::proxy::auth::KeyGrant;
use crate::router::config::RouterConfig;
use crate::router::state::MinuteUsage;

fn deployments() -> Vec<Deployment> {
    let args = json!({"model_list": [
        {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o", "api_base": "http://127.0.0.1:9/v1?api-key=secret"}, "model_info": {"id": "dep-1"}},
        {"model_name": "gpt-4o", "litellm_params": {"model": "azure/gpt-4o-eu", "api_base": "http://127.0.0.1:9/eu"}, "model_info": {"id": "dep-2"}},
    ]});
    let (config, _) = RouterConfig::from_json(args.as_object().unwrap()).unwrap();
    config.deployments
}

fn grant(alias: &str) -> Arc<KeyGrant> {
    Arc::new(KeyGrant {
        key_alias: Some(alias.to_string()),
        user_id: Some("u1".into()),
        team_id: Some("t1".into()),
        team_alias: Some("Team One".into()),
        ..KeyGrant::default()
    })
}

fn event(model_id: &str, status: u16, total_ms: u64, api_ms: Option<u64>) -> SpendEvent {
    SpendEvent {
        call_id: "c".into(),
        route: "chat",
        key_hash: Some(Arc::from("a1b2c3d4e5f6a7b8c9d0")),
        user_id: Some("u1".into()),
        team_id: Some("t1".into()),
        end_user: None,
        requested_model: "gpt-4o".into(),
        model_group: "gpt-4o".into(),
        model_id: model_id.into(),
        provider: "openai".into(),
        cost: (status < 400).then_some(0.001),
        prompt_tokens: if status < 400 { 10 } else { 0 },
        completion_tokens: if status < 400 { 20 } else { 0 },
        stream: false,
        status,
        cache_hit: false,
        started: SystemTime::now(),
        duration: Duration::from_millis(total_ms),
        grant: Some(grant("alice")),
        llm_api_duration: api_ms.map(Duration::from_millis),
        time_to_first_token: None,
        rate_limit_remaining: None,
        guardrails: Vec::new(),
    }
}

fn no_stats(n: usize) -> Vec<DeploymentStats> {
    (0..n)
        .map(|_| DeploymentStats {
            in_flight: 0,
            usage: MinuteUsage::default(),
            cooldown_left: None,
            mean_latency: None,
        })
        .collect()
}

/// A sample line parsed: name, labels, value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

impl Sample {
    fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parse the text format (the subset the encoder writes), checking each line's shape.
fn parse(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            assert!(
                line.starts_with("# HELP ") || line.starts_with("# TYPE "),
                "{line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.strip_suffix('}').unwrap()),
            None => (series, ""),
        };
        let mut parsed = Vec::new();
        let mut rest = labels;
        while !rest.is_empty() {
            let (k, after) = rest.split_once("=\"").unwrap();
            // The value ends at the first unescaped quote.
            let mut v = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                let (i, c) = chars.next().unwrap();
                match c {
                    '\\' => {
                        let (_, e) = chars.next().unwrap();
                        v.push(match e {
                            'n' => '\n',
                            other => other,
                        });
                    }
                    '"' => break i,
                    _ => v.push(c),
                }
            };
            parsed.push((k.to_string(), v));
            rest = after[end + 1..].trim_start_matches(',');
        }
        out.push(Sample {
            name: name.to_string(),
            labels: parsed,
            value: value.parse().unwrap(),
        });
    }
    out
}

fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Vec<&'a Sample> {
    samples
        .iter()
        .filter(|s| s.name == name && labels.iter().all(|(k, v)| s.label(k) == Some(*v)))
        .collect()
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = find(samples, name, labels);
    assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
    found[0].value
}

#[test]
fn request_metrics_carry_litellms_names_labels_and_counts() {
    let m = Metrics::new(&deployments());
    for _ in 0..3 {
        m.observe(&event("dep-1", 200, 300, Some(200)));
    }
    m.observe(&event("dep-2", 500, 40, None));
    let text = m.encode(&no_stats(2), &[], 0);
    let s = parse(&text);

    // Every request series has exactly LiteLLM's labels, in its order.
    for (spec, _) in REQUEST_METRICS {
        for sample in s.iter().filter(|x| {
            x.name == format!("{}_total", spec.name) || x.name == format!("{}_count", spec.name)
        }) {
            let names: Vec<&str> = sample.labels.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(names, spec.labels, "{}", spec.name);
        }
    }
    let who = [
        ("hashed_api_key", "a1b2c3d4e5f6a7b8c9d0"),
        ("api_key_alias", "alice"),
        ("team", "t1"),
        ("team_alias", "Team One"),
        ("user", "u1"),
    ];
    let ok: Vec<(&str, &str)> = who
        .iter()
        .copied()
        .chain([("status_code", "200")])
        .collect();
    assert_eq!(
        value(&s, "litellm_proxy_total_requests_metric_total", &ok),
        3.0
    );
    let failed = [
        ("exception_status", "500"),
        ("exception_class", "InternalServerError"),
        ("model_id", "dep-2"),
    ];
    assert_eq!(
        value(&s, "litellm_proxy_failed_requests_metric_total", &failed),
        1.0
    );
    // Only the failure is a failed request.
    assert_eq!(
        find(&s, "litellm_proxy_failed_requests_metric_total", &[]).len(),
        1
    );

    let dep1 = [("model_id", "dep-1"), ("model", "openai/gpt-4o")];
    assert!((value(&s, "litellm_spend_metric_total", &dep1) - 0.003).abs() < 1e-12);
    assert_eq!(value(&s, "litellm_input_tokens_metric_total", &dep1), 30.0);
    assert_eq!(value(&s, "litellm_output_tokens_metric_total", &dep1), 60.0);
    assert_eq!(value(&s, "litellm_total_tokens_metric_total", &dep1), 90.0);
    // No spend or tokens for the failed call.
    assert!(find(&s, "litellm_spend_metric_total", &[("model_id", "dep-2")]).is_empty());

    // Histograms: cumulative buckets, count and sum.
    let lat = "litellm_request_total_latency_metric";
    let b = |le: &str| {
        value(
            &s,
            &format!("{lat}_bucket"),
            &[("model_id", "dep-1"), ("le", le)],
        )
    };
    assert_eq!(b("0.25"), 0.0);
    assert_eq!(b("0.5"), 3.0);
    assert_eq!(b("+Inf"), 3.0);
    assert_eq!(
        value(&s, &format!("{lat}_count"), &[("model_id", "dep-1")]),
        3.0
    );
    assert!((value(&s, &format!("{lat}_sum"), &[("model_id", "dep-1")]) - 0.9).abs() < 1e-9);
    let api = |le: &str| {
        value(
            &s,
            "litellm_llm_api_latency_metric_bucket",
            &[("model_id", "dep-1"), ("le", le)],
        )
    };
    assert_eq!((api("0.1"), api("0.25")), (0.0, 3.0));
    // Overhead: total less the API's time.
    assert_eq!(
        value(
            &s,
            "litellm_overhead_latency_metric_bucket",
            &[("model_id", "dep-1"), ("le", "0.1")]
        ),
        3.0
    );
    // Time to first token only for streams.
    assert!(find(&s, "litellm_llm_api_time_to_first_token_metric_count", &[]).is_empty());

    let d = |name: &str, id: &str| value(&s, name, &[("model_id", id)]);
    assert_eq!(
        d("litellm_deployment_success_responses_total", "dep-1"),
        3.0
    );
    assert_eq!(d("litellm_deployment_total_requests_total", "dep-1"), 3.0);
    // Failed calls come from the Router (the proxy's error does not name the deployment).
    assert!(find(&s, "litellm_deployment_failure_responses_total", &[]).is_empty());
    assert!(find(
        &s,
        "litellm_deployment_total_requests_total",
        &[("model_id", "dep-2")]
    )
    .is_empty());
    // The api_base label loses its query string (it may carry a key).
    assert!(!text.contains("secret"), "{text}");
    assert_eq!(
        find(&s, "litellm_deployment_state", &[("model_id", "dep-1")])[0].label("api_base"),
        Some("http://127.0.0.1:9/v1")
    );
}

#[test]
fn failed_deployment_calls_and_cooldowns_come_from_the_router() {
    let m = Metrics::new(&deployments());
    m.observe(&event("dep-2", 200, 10, Some(5)));
    m.deployment_failed(1, 503, false);
    m.deployment_failed(1, 503, true);
    m.deployment_failed(1, 429, false);
    m.deployment_failed(7, 500, true);
    let s = parse(&m.encode(&no_stats(2), &[], 0));
    let failed = |status: &str| {
        value(
            &s,
            "litellm_deployment_failure_responses_total",
            &[
                ("model_id", "dep-2"),
                ("model_group", "gpt-4o"),
                ("api_provider", "azure"),
                ("exception_status", status),
            ],
        )
    };
    assert_eq!((failed("503"), failed("429")), (2.0, 1.0));
    let total: f64 = find(
        &s,
        "litellm_deployment_total_requests_total",
        &[("model_id", "dep-2")],
    )
    .iter()
    .map(|x| x.value)
    .sum();
    assert_eq!(total, 4.0);
    assert_eq!(
        value(
            &s,
            "litellm_deployment_cooled_down_total",
            &[("model_id", "dep-2"), ("exception_status", "503")]
        ),
        1.0
    );
    assert_eq!(
        find(
            &s,
            "litellm_deployment_failure_responses_total",
            &[("exception_status", "429")]
        )[0]
        .label("exception_class"),
        Some("RateLimitError")
    );
}

#[test]
fn a_label_set_seen_before_adds_no_series() {
    let m = Metrics::new(&deployments());
    for _ in 0..1000 {
        m.observe(&event("dep-1", 200, 10, Some(5)));
    }
    assert_eq!(m.series_count(), 1);
    m.observe(&event("dep-1", 429, 10, None));
    m.observe(&event("dep-2", 200, 10, Some(5)));
    assert_eq!(m.series_count(), 3);
    let s = parse(&m.encode(&no_stats(2), &[], 0));
    assert_eq!(
        value(
            &s,
            "litellm_proxy_total_requests_metric_total",
            &[("model_id", "dep-1"), ("status_code", "200")]
        ),
        1000.0
    );
}

#[test]
fn deployment_state_follows_health_checks_and_cooldowns() {
    let m = Metrics::new(&deployments());
    let state = |stats: &[DeploymentStats], m: &Metrics| -> HashMap<String, f64> {
        parse(&m.encode(stats, &[], 0))
            .into_iter()
            .filter(|s| s.name == "litellm_deployment_state")
            .map(|s| (s.label("model_id").unwrap().to_string(), s.value))
            .collect()
    };
    let mut stats = no_stats(2);
    assert_eq!(
        state(&stats, &m),
        HashMap::from([("dep-1".into(), 0.0), ("dep-2".into(), 0.0)])
    );
    m.set_probe_result("dep-2", false);
    assert_eq!(state(&stats, &m)["dep-2"], 1.0);
    stats[1].cooldown_left = Some(Duration::from_secs(5));
    assert_eq!(state(&stats, &m)["dep-2"], 2.0);
    m.set_probe_result("dep-2", true);
    stats[1].cooldown_left = None;
    assert_eq!(state(&stats, &m)["dep-2"], 0.0);

    m.count_cooldown("dep-2", 503);
    m.count_cooldown("dep-2", 503);
    m.count_cooldown("nope", 503);
    let s = parse(&m.encode(&stats, &[], 0));
    assert_eq!(
        value(
            &s,
            "litellm_deployment_cooled_down_total",
            &[
                ("model_id", "dep-2"),
                ("exception_status", "503"),
                ("litellm_model_name", "azure/gpt-4o-eu"),
                ("api_provider", "azure"),
            ]
        ),
        2.0
    );
}

#[test]
fn budgets_and_rate_limit_headroom_are_gauges_with_litellms_labels() {
    let m = Metrics::new(&deployments());
    let mut ev = event("dep-1", 200, 10, Some(5));
    ev.rate_limit_remaining = Some((Some(7), Some(900)));
    m.observe(&ev);
    ev.rate_limit_remaining = Some((Some(6), None));
    m.observe(&ev);
    let now = 1_000_000_000_000;
    let rows = [
        BudgetRow {
            owner: Owner::Key,
            id: "a1b2c3d4e5f6a7b8c9d0".into(),
            spent: 0.25,
            max: 1.0,
            resets_at_ms: Some(now + 2 * 3_600_000),
        },
        BudgetRow {
            owner: Owner::Team,
            id: "t1".into(),
            spent: 3.0,
            max: 10.0,
            resets_at_ms: None,
        },
        BudgetRow {
            owner: Owner::User,
            id: "u1".into(),
            spent: 1.0,
            max: 2.0,
            resets_at_ms: None,
        },
    ];
    let s = parse(&m.encode(&no_stats(2), &rows, now));
    let key = [
        ("hashed_api_key", "a1b2c3d4e5f6a7b8c9d0"),
        ("api_key_alias", "alice"),
    ];
    assert_eq!(
        value(&s, "litellm_remaining_api_key_budget_metric", &key),
        0.75
    );
    assert_eq!(value(&s, "litellm_api_key_max_budget_metric", &key), 1.0);
    assert_eq!(
        value(&s, "litellm_api_key_budget_remaining_hours_metric", &key),
        2.0
    );
    let team = [("team", "t1"), ("team_alias", "Team One")];
    assert_eq!(
        value(&s, "litellm_remaining_team_budget_metric", &team),
        7.0
    );
    assert_eq!(value(&s, "litellm_team_max_budget_metric", &team), 10.0);
    assert!(find(&s, "litellm_team_budget_remaining_hours_metric", &[]).is_empty());
    assert_eq!(
        value(
            &s,
            "litellm_remaining_user_budget_metric",
            &[("user", "u1")]
        ),
        1.0
    );
    // Headroom: the latest reading; no token limit in it, no token gauge.
    let h = [
        ("hashed_api_key", "a1b2c3d4e5f6a7b8c9d0"),
        ("model", "openai/gpt-4o"),
    ];
    assert_eq!(
        value(&s, "litellm_remaining_api_key_requests_for_model", &h),
        6.0
    );
    assert!(find(&s, "litellm_remaining_api_key_tokens_for_model", &[]).is_empty());
}

#[test]
fn label_values_are_escaped() {
    let m = Metrics::new(&deployments());
    let mut ev = event("dep-1", 200, 10, None);
    ev.grant = Some(grant("a \"quoted\"\\alias\nwith a newline"));
    m.observe(&ev);
    let text = m.encode(&no_stats(2), &[], 0);
    let s = parse(&text);
    assert_eq!(
        find(&s, "litellm_proxy_total_requests_metric_total", &[])[0].label("api_key_alias"),
        Some("a \"quoted\"\\alias\nwith a newline")
    );
    assert!(text.lines().all(|l| !l.is_empty()));
}

#[test]
fn metric_names_lists_every_family_the_encoder_writes() {
    let m = Metrics::new(&deployments());
    let text = m.encode(&no_stats(2), &[], 0);
    let mut typed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    typed.sort();
    let mut names = metric_names();
    names.sort();
    assert_eq!(typed, names);
}

#[test]
fn model_names_past_the_cap_count_under_their_group() {
    let m = Metrics::new(&deployments());
    let named = |i: usize| {
        let mut ev = event("dep-1", 200, 10, None);
        ev.model_group = "openai/*".into();
        ev.requested_model = format!("openai/m{i}");
        ev
    };
    for i in 0..MAX_SERIES + 500 {
        m.observe(&named(i));
    }
    assert_eq!(m.series_count(), MAX_SERIES + 1);
    let s = parse(&m.encode(&no_stats(2), &[], 0));
    assert_eq!(
        value(
            &s,
            "litellm_proxy_total_requests_metric_total",
            &[("requested_model", "openai/*")]
        ),
        500.0
    );
    assert_eq!(
        value(
            &s,
            "litellm_proxy_total_requests_metric_total",
            &[("requested_model", "openai/m7")]
        ),
        1.0
    );
}
