//! Operating the proxy: Prometheus metrics ([`metrics`]), the JSON request log and the
//! audit log ([`reqlog`]), background health checks ([`health_checks`]) and webhook
//! alerts ([`alerts`]), with the settings that turn them on (LiteLLM's names, read
//! once at start by [`OpsSettings::read`]).
//!
//! The request path touches this once per request, when the request is over
//! ([`finish`]): metrics are counted in place (atomics, no allocation for a label set
//! already seen), and the log line and alert checks are queued for background tasks.

pub mod alerts;
pub mod health_checks;
pub mod metrics;
pub mod reqlog;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use super::budget::{Ledger, Owner};
use super::config::ConfigError;
use super::log;
use super::spend::SpendEvent;
use super::state::AppState;
use super::store;
use crate::router::config::Deployment;
use alerts::{AlertKind, AlertSettings, Alerts};
use health_checks::HealthCache;
use metrics::Metrics;
use reqlog::{AuditLog, LogTarget, RequestLog};

/// LiteLLM's default `health_check_interval` (seconds).
pub const DEFAULT_HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(300);

/// The operating settings, from `general_settings` and `litellm_settings`.
#[derive(Debug, Clone)]
pub struct OpsSettings {
    /// `general_settings.background_health_checks`.
    pub background_health_checks: bool,
    /// `general_settings.health_check_interval` (seconds; 300).
    pub health_check_interval: Duration,
    /// `general_settings.health_check_details` (true): `false` hides URLs and errors.
    pub health_check_details: bool,
    /// `litellm_settings.require_auth_for_metrics_endpoint`: LiteLLM 1.110.2 asks for a
    /// key on `/metrics` unless this is `false`.
    pub metrics_auth: bool,
    /// `litellm_settings.json_logs` / `json_logs_file`: where request lines go.
    pub request_log: Option<LogTarget>,
    /// `general_settings.alerting` with a webhook.
    pub alerts: Option<AlertSettings>,
}

impl Default for OpsSettings {
    fn default() -> Self {
        OpsSettings {
            background_health_checks: false,
            health_check_interval: DEFAULT_HEALTH_CHECK_INTERVAL,
            health_check_details: true,
            metrics_auth: true,
            request_log: None,
            alerts: None,
        }
    }
}

fn at(section: &str, key: &str) -> String {
    format!("{section}.{key}")
}

fn take_bool(
    m: &mut Map<String, Value>,
    section: &str,
    key: &str,
) -> Result<Option<bool>, ConfigError> {
    match m.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Ok(Some(true)),
            "false" | "no" | "off" => Ok(Some(false)),
            _ => Err(ConfigError::at(
                &at(section, key),
                format!("expected true or false, got {s:?}"),
            )),
        },
        Some(other) => Err(ConfigError::at(
            &at(section, key),
            format!("expected true or false, got {other}"),
        )),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

fn take_seconds(
    m: &mut Map<String, Value>,
    section: &str,
    key: &str,
) -> Result<Option<Duration>, ConfigError> {
    match m.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match number(&v) {
            Some(s) if s > 0.0 && s <= 1.0e9 => Ok(Some(Duration::from_secs_f64(s))),
            _ => Err(ConfigError::at(
                &at(section, key),
                format!("expected a positive number of seconds, got {v}"),
            )),
        },
    }
}

fn take_string(
    m: &mut Map<String, Value>,
    section: &str,
    key: &str,
) -> Result<Option<String>, ConfigError> {
    match m.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s).filter(|s| !s.is_empty())),
        Some(other) => Err(ConfigError::at(
            &at(section, key),
            format!("expected a string, got {other}"),
        )),
    }
}

fn take_strings(
    m: &mut Map<String, Value>,
    section: &str,
    key: &str,
) -> Result<Option<Vec<String>>, ConfigError> {
    match m.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s])),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(ConfigError::at(
                    &at(section, key),
                    format!("expected a list of strings, got {other}"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(ConfigError::at(
            &at(section, key),
            format!("expected a list of strings, got {other}"),
        )),
    }
}

impl OpsSettings {
    /// Read (and remove, so they are not reported as ignored) the operating settings
    /// from the config's top level. `env` reads `SLACK_WEBHOOK_URL`.
    pub fn read(
        top: &mut Map<String, Value>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<OpsSettings, ConfigError> {
        let mut s = OpsSettings::default();
        if let Some(Value::Object(l)) = top.get_mut("litellm_settings") {
            const L: &str = "litellm_settings";
            if let Some(b) = take_bool(l, L, "require_auth_for_metrics_endpoint")? {
                s.metrics_auth = b;
            }
            let json_logs = take_bool(l, L, "json_logs")?.unwrap_or(false);
            let file = take_string(l, L, "json_logs_file")?;
            s.request_log = match (json_logs, file) {
                (_, Some(path)) => Some(LogTarget::File(PathBuf::from(path))),
                (true, None) => Some(LogTarget::Stdout),
                (false, None) => None,
            };
            // `callbacks: ["prometheus"]` is how LiteLLM turns metrics on; they are always
            // on here. Other callbacks stay in the list and are reported as ignored.
            for key in ["callbacks", "success_callback", "failure_callback"] {
                if let Some(Value::Array(items)) = l.get_mut(key) {
                    items.retain(|v| v.as_str() != Some("prometheus"));
                    if items.is_empty() {
                        l.remove(key);
                    }
                }
            }
        }
        if let Some(Value::Object(g)) = top.get_mut("general_settings") {
            const G: &str = "general_settings";
            s.background_health_checks =
                take_bool(g, G, "background_health_checks")?.unwrap_or(false);
            if let Some(d) = take_seconds(g, G, "health_check_interval")? {
                s.health_check_interval = d;
            }
            if let Some(b) = take_bool(g, G, "health_check_details")? {
                s.health_check_details = b;
            }
            s.alerts = read_alerting(g, env)?;
        }
        Ok(s)
    }
}

/// `alerting`, `alert_to_webhook_url` (else `SLACK_WEBHOOK_URL` / `ALERTING_WEBHOOK_URL`),
/// `alerting_threshold`, `alert_types`, `alerting_args`: LiteLLM's names.
fn read_alerting(
    g: &mut Map<String, Value>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<AlertSettings>, ConfigError> {
    const G: &str = "general_settings";
    let channels = take_strings(g, G, "alerting")?.unwrap_or_default();
    let per_type = match g.remove("alert_to_webhook_url") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(ConfigError::at(
                &at(G, "alert_to_webhook_url"),
                "expected a mapping of alert type to webhook URL",
            ))
        }
    };
    let threshold = take_seconds(g, G, "alerting_threshold")?;
    let types = take_strings(g, G, "alert_types")?;
    let args = match g.remove("alerting_args") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(ConfigError::at(
                &at(G, "alerting_args"),
                format!("expected a mapping, got {other}"),
            ))
        }
    };
    if !channels.iter().any(|c| c == "slack" || c == "webhook") {
        return Ok(None);
    }
    // A webhook URL is a bearer secret: errors name the setting, never the value.
    let checked = |path: &str, url: String| -> Result<String, ConfigError> {
        match url::Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(url),
            _ => Err(ConfigError::at(path, "expected an http(s) URL")),
        }
    };
    let mut a = AlertSettings::new(None);
    if let Some(url) = env("SLACK_WEBHOOK_URL")
        .filter(|u| !u.is_empty())
        .or_else(|| env("ALERTING_WEBHOOK_URL").filter(|u| !u.is_empty()))
    {
        a.webhook_url = Some(checked("SLACK_WEBHOOK_URL", url)?);
    }
    for (name, v) in per_type {
        let path = format!("{G}.alert_to_webhook_url.{name}");
        let Some(kind) = AlertKind::parse(&name) else {
            continue;
        };
        // LiteLLM takes a URL or a list of them; the first is used here.
        let url = match v {
            Value::String(u) => u,
            Value::Array(items) => match items.into_iter().next() {
                Some(Value::String(u)) => u,
                _ => return Err(ConfigError::at(&path, "expected a URL or a list of URLs")),
            },
            _ => return Err(ConfigError::at(&path, "expected a URL or a list of URLs")),
        };
        a.per_kind.insert(kind, checked(&path, url)?);
    }
    if let Some(types) = types {
        a.kinds = types.iter().filter_map(|t| AlertKind::parse(t)).collect();
    }
    if a.kinds.iter().any(|k| a.url_for(*k).is_none()) {
        return Err(ConfigError::at(
            &at(G, "alerting"),
            "webhook alerts need a URL: set SLACK_WEBHOOK_URL (or ALERTING_WEBHOOK_URL), or general_settings.alert_to_webhook_url for each alert type",
        ));
    }
    if let Some(t) = threshold {
        a.slow_threshold = t;
    }
    let arg = |key: &str| -> Result<Option<f64>, ConfigError> {
        match args.get(key).filter(|v| !v.is_null()) {
            None => Ok(None),
            Some(v) => match number(v) {
                Some(n) if n > 0.0 => Ok(Some(n.min(1.0e9))),
                _ => Err(ConfigError::at(
                    &format!("{G}.alerting_args.{key}"),
                    format!("expected a positive number, got {v}"),
                )),
            },
        }
    };
    if let Some(n) = arg("outage_alert_ttl")? {
        a.window = Duration::from_secs_f64(n);
    }
    if let Some(n) = arg("minor_outage_alert_threshold")? {
        a.min_failures = n as u64;
    }
    if let Some(n) = arg("failure_rate_threshold")? {
        a.failure_rate = n.min(1.0);
    }
    if let Some(n) = arg("budget_alert_ttl")? {
        a.budget_window = Duration::from_secs_f64(n);
    }
    Ok(Some(a))
}

/// Metrics, logs, health results and alerts, shared by the routes and the background
/// tasks.
pub struct Ops {
    /// What the config asked for.
    pub settings: OpsSettings,
    /// `/metrics`' counters.
    pub metrics: Metrics,
    /// The background health checks' latest results.
    pub health: HealthCache,
    /// Started by [`start`] (they need the runtime); `None` in tests that build the
    /// state directly, and when the config does not ask for them.
    pub alerts: Option<Alerts>,
    /// The request log's queue (`json_logs`).
    pub requests: Option<RequestLog>,
    /// The audit log's writer (with a database).
    pub audit: AuditLog,
}

impl Ops {
    /// Metrics and health results for these deployments; no background task yet.
    pub fn new(settings: OpsSettings, deployments: &[Deployment]) -> Ops {
        Ops {
            settings,
            metrics: Metrics::new(deployments),
            health: HealthCache::default(),
            alerts: None,
            requests: None,
            audit: AuditLog::default(),
        }
    }

    /// Count a finished request, queue its log line, feed the alert windows.
    pub fn observe(&self, ev: &SpendEvent) {
        self.metrics.observe(ev);
        if let Some(a) = &self.alerts {
            a.request(&ev.model_group, ev.status, ev.duration);
        }
        if let Some(l) = &self.requests {
            l.request(ev.clone());
        }
    }

    /// Record an admin action in `LiteLLM_AuditLog` and the request log (queued: the
    /// admin route does not wait for it).
    pub fn audit(&self, entry: reqlog::AuditEntry) {
        self.audit.record(entry, self.requests.as_ref());
    }

    /// Whether an audit entry goes anywhere (a database or the JSON request log): when
    /// not, callers on the request path need not build one.
    pub fn audits(&self) -> bool {
        self.requests.is_some() || self.audit.writes()
    }
}

/// A request is over: metrics, log line and alerts, then its spend event (when spend
/// is tracked).
pub fn finish(state: &AppState, ev: SpendEvent) {
    state.ops.observe(&ev);
    if let Some(sink) = &state.spend {
        sink.send(ev);
    }
}

/// How often budgets are compared with their alert levels.
const BUDGET_WATCH_EVERY: Duration = Duration::from_secs(1);

/// Start what runs beside the requests (on the current runtime): the request-log
/// writer, the alert sender, the audit-log writer on the store, the background health
/// checks, and the budget watch. Called once at start, after the store and the spend
/// ledger, before the state is shared.
pub fn start(state: &mut AppState, settings: &OpsSettings) -> Result<(), String> {
    let mut ops = Ops::new(settings.clone(), state.router.deployments());
    if let Some(target) = &settings.request_log {
        ops.requests = Some(RequestLog::start(target.clone())?);
    }
    if let Some(a) = &settings.alerts {
        let mut groups: Vec<&str> = state
            .router
            .deployments()
            .iter()
            .map(|d| d.group.as_str())
            .collect();
        groups.sort_unstable();
        groups.dedup();
        ops.alerts = Some(Alerts::start(a.clone(), &groups));
    }
    ops.audit = AuditLog::start(state.store.clone());
    let ops = Arc::new(ops);
    state.ops = Arc::clone(&ops);
    // Failed deployment calls and the Router's cooldowns, for the deployment metrics.
    let failures = Arc::downgrade(&ops);
    state
        .router
        .set_failure_sink(Arc::new(move |index, status, cooled| {
            if let Some(ops) = failures.upgrade() {
                ops.metrics.deployment_failed(index, status, cooled);
            }
        }));
    if settings.background_health_checks {
        health_checks::start(
            Arc::clone(&state.router),
            Arc::clone(&ops),
            settings.health_check_interval,
        );
    }
    report_drops(Arc::clone(&ops));
    let ledger = state.spend.as_ref().and_then(|s| s.ledger()).cloned();
    if let (Some(ledger), true) = (ledger, ops.alerts.is_some()) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(BUDGET_WATCH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                watch_budgets(&ops, &ledger);
            }
        });
    }
    Ok(())
}

/// How often dropped log lines, audit rows and alerts are reported.
const DROPS_REPORTED_EVERY: Duration = Duration::from_secs(60);

/// Warn, at most once a minute, when full queues dropped request-log lines, audit rows
/// or alerts (each queue is bounded so that nothing waits for a slow disk, database or
/// webhook).
fn report_drops(ops: Arc<Ops>) {
    tokio::spawn(async move {
        let mut seen = [0u64; 3];
        loop {
            tokio::time::sleep(DROPS_REPORTED_EVERY).await;
            let now = [
                ops.requests.as_ref().map_or(0, RequestLog::dropped),
                ops.audit.dropped(),
                ops.alerts.as_ref().map_or(0, Alerts::dropped),
            ];
            for ((what, n), before) in ["request-log lines", "audit rows", "alerts"]
                .iter()
                .zip(now)
                .zip(seen)
            {
                if n > before {
                    log::warn(&format!(
                        "{} {what} dropped in the last minute: their queue was full",
                        n - before
                    ));
                }
            }
            seen = now;
        }
    });
}

/// Compare every budget with LiteLLM's alert levels ([`Alerts::budget`]).
pub fn watch_budgets(ops: &Ops, ledger: &Ledger) {
    let Some(alerts) = &ops.alerts else { return };
    for row in ledger.snapshot(store::time::now_ms()) {
        let (owner, subject) = match row.owner {
            Owner::Key => (
                "Key",
                match ops.metrics.key_alias(&row.id) {
                    Some(alias) => alias,
                    None => format!("hashed key {}", reqlog::hash_prefix(&row.id)),
                },
            ),
            Owner::Team => ("Team", row.id.clone()),
            Owner::User => ("User", row.id.clone()),
            Owner::EndUser => continue,
        };
        alerts.budget(owner, &subject, row.spent, row.max);
    }
}

#[cfg(test)]
mod tests;
