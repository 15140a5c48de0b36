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
    /// `alerting_webhook_url`, else `SLACK_WEBHOOK_URL`.
    pub webhook_url: String,
    pub kinds: HashSet<AlertKind>,
    /// `alerting_threshold`: a request slower than this is an `llm_too_slow` alert
    /// (LiteLLM's default: 300 s).
    pub slow_threshold: Duration,
    /// The failure-spike window (`alerting_args.outage_alert_ttl`, 60 s); also the
    /// deduplication window of every alert but budgets.
    pub window: Duration,
    /// Failures in a window at least this share of the group's requests...
    pub failure_rate: f64,
    /// ...and at least this many (`alerting_args.minor_outage_alert_threshold`, 5).
    pub min_failures: u64,
    /// `alerting_args.budget_alert_ttl` (24 h): one budget alert per owner per window.
    pub budget_window: Duration,
    /// A budget alert once spend reaches this share of the budget
    /// (`alerting_args.budget_alert_threshold`, 0.8).
    pub budget_threshold: f64,
}

impl AlertSettings {
    /// Defaults (LiteLLM's `SlackAlertingArgs`) for a webhook.
    pub fn new(webhook_url: String) -> AlertSettings {
        AlertSettings {
            webhook_url,
            kinds: AlertKind::ALL.into_iter().collect(),
            slow_threshold: Duration::from_secs(300),
            window: Duration::from_secs(60),
            failure_rate: 0.5,
            min_failures: 5,
            budget_window: Duration::from_secs(24 * 3600),
            budget_threshold: 0.8,
        }
    }
}

/// Requests and failures of one model group in the current window.
struct Window {
    started: Instant,
    requests: u64,
    failures: u64,
}

/// The alerting front: decides, deduplicates and queues.
pub struct Alerts {
    settings: AlertSettings,
    tx: mpsc::Sender<String>,
    sent_at: Mutex<HashMap<(AlertKind, String), Instant>>,
    windows: Mutex<HashMap<String, Window>>,
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
    /// Start the sender task (on the current runtime).
    pub fn start(settings: AlertSettings) -> Alerts {
        let (tx, mut rx) = mpsc::channel::<String>(QUEUE);
        let url = settings.webhook_url.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default();
            let host = host_of(&url);
            while let Some(text) = rx.recv().await {
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
            windows: Mutex::new(HashMap::new()),
            dropped: AtomicU64::new(0),
        }
    }

    /// Queue `text` unless an alert of this kind about `subject` went out within
    /// `window`. Returns whether it was queued.
    fn send(&self, kind: AlertKind, subject: &str, window: Duration, text: String) -> bool {
        if !self.settings.kinds.contains(&kind) {
            return false;
        }
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
        if self.tx.try_send(text).is_err() {
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
        let failed = status >= 500 || status == 429;
        let now = Instant::now();
        let spike = {
            let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
            let w = match windows.get_mut(group) {
                Some(w) => w,
                None => windows.entry(group.to_string()).or_insert(Window {
                    started: now,
                    requests: 0,
                    failures: 0,
                }),
            };
            if now.duration_since(w.started) >= self.settings.window {
                *w = Window {
                    started: now,
                    requests: 0,
                    failures: 0,
                };
            }
            w.requests += 1;
            w.failures += u64::from(failed);
            (failed
                && w.failures >= self.settings.min_failures
                && w.failures as f64 >= self.settings.failure_rate * w.requests as f64)
                .then_some((w.failures, w.requests))
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

    /// A budget update: alerts once per `budget_alert_ttl` when `spent` reaches the
    /// threshold share of `max` (the spend ledger calls this as it charges). `entity`
    /// names the owner (`key:<alias or hash prefix>`, `team:<id>`, `user:<id>`); never
    /// pass a key. Returns whether an alert was queued.
    pub fn budget_crossed(&self, entity: &str, spent: f64, max: f64) -> bool {
        if max <= 0.0 || spent < max * self.settings.budget_threshold {
            return false;
        }
        let over = spent >= max;
        self.send(
            AlertKind::Budget,
            entity,
            self.settings.budget_window,
            format!(
                "💸 Budget {}\nIdentifier: `{entity}`\nSpend: ${spent:.4}\nMax budget: ${max:.4} ({:.0}% used)",
                if over { "exceeded" } else { "crossed" },
                spent / max * 100.0
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
