//! Alerts to a webhook (`general_settings.alerting: ["slack"]` or `["webhook"]`), as
//! Slack-compatible JSON (`{"text": ...}`): a deployment going unhealthy and recovering
//! (`outage_alerts`), a spike in failures of a model group (`llm_exceptions`), a budget
//! crossing its threshold (`budget_alerts`), a request slower than `alerting_threshold`
//! seconds (`llm_too_slow`). LiteLLM's `alert_types` names pick which.
//!
//! An alert is deduplicated per (type, subject) within its window, then queued for a
//! background task that posts it: queueing never waits (a full queue drops the alert and
//! counts it), so no request is slowed by a slow or dead webhook. The webhook URL is a
//! secret (a Slack URL is a bearer token): it is never logged, only its host.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::mpsc;

use crate::proxy::log;

/// Alerts that may wait for the sender.
const QUEUE: usize = 256;

/// The kinds of alert, by LiteLLM's `alert_types` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// `outage_alerts` (LiteLLM's `cooldown_deployment` turns it on too).
    Outage,
    /// `llm_exceptions`.
    Failures,
    /// `budget_alerts`.
    Budget,
    /// `llm_too_slow`.
    Slow,
}

impl AlertKind {
    /// The kind an `alert_types` entry names; `None` for types rustllm does not send.
    pub fn parse(name: &str) -> Option<AlertKind> {
        match name {
            "outage_alerts" | "cooldown_deployment" | "region_outage_alerts" => {
                Some(AlertKind::Outage)
            }
            "llm_exceptions" => Some(AlertKind::Failures),
            "budget_alerts" => Some(AlertKind::Budget),
            "llm_too_slow" => Some(AlertKind::Slow),
            _ => None,
        }
    }

    /// Every kind, the default of `alert_types`.
    pub const ALL: [AlertKind; 4] = [
        AlertKind::Outage,
        AlertKind::Failures,
        AlertKind::Budget,
        AlertKind::Slow,
    ];
}

/// What the config says about alerting.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// `SLACK_WEBHOOK_URL` (else `ALERTING_WEBHOOK_URL`): where alerts go...
    pub webhook_url: Option<String>,
    /// ...unless `alert_to_webhook_url` names another for their type.
    pub per_kind: HashMap<AlertKind, String>,
    /// `alert_types`: the alerts sent.
    pub kinds: HashSet<AlertKind>,
    /// `alerting_threshold`: a request slower than this is an `llm_too_slow` alert
    /// (LiteLLM's default: 300 s).
    pub slow_threshold: Duration,
    /// The failure-spike window (`alerting_args.outage_alert_ttl`, 60 s); also the
    /// deduplication window of every alert but budgets.
    pub window: Duration,
    /// Failures in a window at least this share of the group's requests
    /// (`alerting_args.failure_rate_threshold`, 0.5, a rustllm addition)...
    pub failure_rate: f64,
    /// ...and at least this many (`alerting_args.minor_outage_alert_threshold`, 5).
    pub min_failures: u64,
    /// `alerting_args.budget_alert_ttl` (24 h): one budget alert per owner and event
    /// per window.
    pub budget_window: Duration,
}

impl AlertSettings {
    /// LiteLLM's defaults (`SlackAlertingArgs`), every alert type on.
    pub fn new(webhook_url: Option<String>) -> AlertSettings {
        AlertSettings {
            webhook_url,
            per_kind: HashMap::new(),
            kinds: AlertKind::ALL.into_iter().collect(),
            slow_threshold: Duration::from_secs(300),
            window: Duration::from_secs(60),
            failure_rate: 0.5,
            min_failures: 5,
            budget_window: Duration::from_secs(24 * 3600),
        }
    }

    /// Where alerts of `kind` go.
    pub fn url_for(&self, kind: AlertKind) -> Option<&str> {
        self.per_kind
            .get(&kind)
            .or(self.webhook_url.as_ref())
            .map(String::as_str)
    }
}

/// LiteLLM's budget alert levels: 15% and 5% of the budget left
/// (`SLACK_ALERTING_THRESHOLD_15_PERCENT`, `_5_PERCENT`), then the budget crossed.
pub const BUDGET_LEFT_LEVELS: [f64; 2] = [0.15, 0.05];

/// Requests and failures of one model group in the current window: atomics, so a
/// request counts without a lock (a window that ended is restarted by the first request
/// to see it; one racing request may land in either window).
#[derive(Default)]
struct Window {
    /// Milliseconds since [`Alerts::epoch`].
    started_ms: AtomicU64,
    requests: AtomicU64,
    failures: AtomicU64,
}

/// The alerting front: decides, deduplicates and queues.
pub struct Alerts {
    settings: AlertSettings,
    tx: mpsc::Sender<(String, String)>,
    sent_at: Mutex<HashMap<(AlertKind, String), Instant>>,
    /// One window per model group, fixed at start (names that are no group are not
    /// tracked, so clients cannot grow the map).
    windows: HashMap<String, Window>,
    epoch: Instant,
    dropped: AtomicU64,
}

/// The webhook's host, the only part of its URL that may be logged.
fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "the webhook".to_string())
}

impl Alerts {
    /// Start the sender task (on the current runtime); failure spikes are watched for
    /// the model groups `groups`.
    pub fn start(settings: AlertSettings, groups: &[&str]) -> Alerts {
        let (tx, mut rx) = mpsc::channel::<(String, String)>(QUEUE);
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default();
            while let Some((url, text)) = rx.recv().await {
                let host = host_of(&url);
                let sent = client
                    .post(&url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(json!({ "text": text }).to_string())
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => {}
                    Ok(r) => log::warn(&format!(
                        "alert not accepted by {host}: HTTP {}",
                        r.status().as_u16()
                    )),
                    // reqwest's message names the URL: only the host is shown.
                    Err(e) => log::warn(&format!(
                        "alert not sent to {host}: {}",
                        if e.is_timeout() {
                            "timed out"
                        } else if e.is_connect() {
                            "cannot connect"
                        } else {
                            "request failed"
                        }
                    )),
                }
            }
        });
        Alerts {
            settings,
            tx,
            sent_at: Mutex::new(HashMap::new()),
            windows: groups
                .iter()
                .map(|g| (g.to_string(), Window::default()))
                .collect(),
            epoch: Instant::now(),
            dropped: AtomicU64::new(0),
        }
    }

    /// Queue `text` unless an alert of this kind about `subject` went out within
    /// `window`. Returns whether it was queued.
    fn send(&self, kind: AlertKind, subject: &str, window: Duration, text: String) -> bool {
        if !self.settings.kinds.contains(&kind) {
            return false;
        }
        let Some(url) = self.settings.url_for(kind) else {
            return false;
        };
        {
            let mut sent = self.sent_at.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let key = (kind, subject.to_string());
            if sent
                .get(&key)
                .is_some_and(|t| now.duration_since(*t) < window)
            {
                return false;
            }
            sent.insert(key, now);
        }
        if self.tx.try_send((url.to_string(), text)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// A deployment failed its health check (or came back: `error` is `None`).
    pub fn deployment_health(&self, group: &str, model_id: &str, error: Option<&str>) -> bool {
        let window = self.settings.window;
        match error {
            Some(e) => self.send(
                AlertKind::Outage,
                &format!("down:{model_id}"),
                window,
                format!(
                    "🚨 Deployment unhealthy\nModel group: `{group}`\nDeployment: `{model_id}`\nError: {}",
                    short(e)
                ),
            ),
            None => {
                // The next outage of this deployment alerts again at once.
                self.sent_at
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&(AlertKind::Outage, format!("down:{model_id}")));
                self.send(
                    AlertKind::Outage,
                    &format!("up:{model_id}"),
                    Duration::ZERO,
                    format!(
                        "✅ Deployment healthy again\nModel group: `{group}`\nDeployment: `{model_id}`"
                    ),
                )
            }
        }
    }

    /// Count a finished request of `group` (failed: status 5xx or 429, as LiteLLM's
    /// outage alerts leave client errors out); a window past its failure threshold
    /// alerts once per window. `duration` over `alerting_threshold` alerts as slow.
    pub fn request(&self, group: &str, status: u16, duration: Duration) {
        if self.settings.kinds.contains(&AlertKind::Slow) && duration > self.settings.slow_threshold
        {
            self.send(
                AlertKind::Slow,
                group,
                self.settings.window,
                format!(
                    "🐢 Slow response\nModel group: `{group}`\nTook {:.1} s (alerting_threshold: {:.0} s)",
                    duration.as_secs_f64(),
                    self.settings.slow_threshold.as_secs_f64()
                ),
            );
        }
        if !self.settings.kinds.contains(&AlertKind::Failures) {
            return;
        }
        let Some(w) = self.windows.get(group) else {
            return;
        };
        let failed = status >= 500 || status == 429;
        let now = self.epoch.elapsed().as_millis() as u64;
        let started = w.started_ms.load(Ordering::Acquire);
        if now.saturating_sub(started) >= self.settings.window.as_millis() as u64
            && w.started_ms
                .compare_exchange(started, now, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            w.requests.store(0, Ordering::Release);
            w.failures.store(0, Ordering::Release);
        }
        let requests = w.requests.fetch_add(1, Ordering::AcqRel) + 1;
        let spike = if failed {
            let failures = w.failures.fetch_add(1, Ordering::AcqRel) + 1;
            (failures >= self.settings.min_failures
                && failures as f64 >= self.settings.failure_rate * requests as f64)
                .then_some((failures, requests))
        } else {
            None
        };
        if let Some((failures, requests)) = spike {
            self.send(
                AlertKind::Failures,
                group,
                self.settings.window,
                format!(
                    "⚠️ Failure spike\nModel group: `{group}`\n{failures} of {requests} requests failed in the last {:.0} s (last status {status})",
                    self.settings.window.as_secs_f64()
                ),
            );
        }
    }

    /// A budget as it stands: LiteLLM's `budget_alerts` events, each once per
    /// `budget_alert_ttl` for an owner: `threshold_crossed` when 15% (then 5%) or less of
    /// `max` is left, `budget_crossed` once `spent` reaches it. `owner` is the kind
    /// ("Key", "Team", "User"); `subject` names it (a key's alias or hash prefix, never
    /// the key). Returns whether an alert was queued.
    pub fn budget(&self, owner: &str, subject: &str, spent: f64, max: f64) -> bool {
        if max <= 0.0 || !spent.is_finite() {
            return false;
        }
        let left = (max - spent) / max;
        let (event, what) = if spent >= max {
            (
                "budget_crossed",
                format!("Budget Crossed\nTotal Budget: `{max}`"),
            )
        } else if let Some(level) = BUDGET_LEFT_LEVELS.iter().rev().find(|l| left <= **l) {
            (
                "threshold_crossed",
                format!("{:.0}% or less of budget remaining", level * 100.0),
            )
        } else {
            return false;
        };
        // The 5% level is its own alert even within the 15% level's window.
        let level = if event == "threshold_crossed" && left <= BUDGET_LEFT_LEVELS[1] {
            "5"
        } else {
            ""
        };
        self.send(
            AlertKind::Budget,
            &format!("{event}{level}:{owner}:{subject}"),
            self.settings.budget_window,
            format!(
                "💸 {owner} Budget: {what}\n\n{owner}: `{subject}`\nSpend: `${spent:.6}`\nMax budget: `${max}`"
            ),
        )
    }

    /// Alerts dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// An error message cut to a readable length.
fn short(e: &str) -> String {
    if e.chars().count() > 300 {
        let cut: String = e.chars().take(297).collect();
        format!("{cut}...")
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests;
