//! Background health checks (`general_settings.background_health_checks: true`, every
//! `health_check_interval` seconds): the same probe as `/health`, for every deployment
//! at once. A deployment that fails is put into the Router's cooldown (shared through
//! Redis when the Router has it) before a user request meets it, and taken out as soon
//! as a probe passes again; `/health` then answers from the latest results.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::{json, Value};

use super::Ops;
use crate::proxy::log;
use crate::proxy::routes::health::{check, endpoint_entry};
use crate::router::Router;

/// The latest verdict on each deployment.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The deployment, by its index in the Router.
    pub index: usize,
    /// `None`: healthy; else (status, error).
    pub error: Option<(u16, String)>,
}

/// The results `/health` answers with while background checks run.
#[derive(Default)]
pub struct HealthCache {
    latest: RwLock<Option<Vec<Verdict>>>,
}

impl HealthCache {
    /// The latest round's verdicts (`None` before the first round ends).
    pub fn latest(&self) -> Option<Vec<Verdict>> {
        self.latest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set(&self, verdicts: Vec<Verdict>) {
        *self.latest.write().unwrap_or_else(|e| e.into_inner()) = Some(verdicts);
    }
}

/// `/health`'s body from verdicts: LiteLLM's shape; `details: false`
/// (`health_check_details`) leaves out URLs, params and errors.
pub fn health_body(router: &Router, verdicts: &[Verdict], details: bool) -> Value {
    let mut healthy = Vec::new();
    let mut unhealthy = Vec::new();
    for v in verdicts {
        let Some(d) = router.deployments().get(v.index) else {
            continue;
        };
        let mut entry = endpoint_entry(d, details);
        match &v.error {
            None => healthy.push(Value::Object(entry)),
            Some((_, message)) => {
                if details {
                    entry.insert("error".into(), Value::String(message.clone()));
                }
                unhealthy.push(Value::Object(entry));
            }
        }
    }
    json!({
        "healthy_count": healthy.len(),
        "unhealthy_count": unhealthy.len(),
        "healthy_endpoints": healthy,
        "unhealthy_endpoints": unhealthy,
    })
}

/// One round: probe every deployment, then cool down the failing ones and release the
/// ones that recovered. Returns the verdicts (also cached for `/health`).
pub async fn run_round(router: &Arc<Router>, ops: &Ops, cooldown: Duration) -> Vec<Verdict> {
    let deployments = router.deployments();
    let results = futures_util::future::join_all(deployments.iter().map(check)).await;
    let previous = ops.health.latest();
    let mut verdicts = Vec::with_capacity(deployments.len());
    for (i, (d, result)) in deployments.iter().zip(results).enumerate() {
        // A wildcard deployment without `health_check_model` is not probed.
        let Some(result) = result else { continue };
        let was_failing = previous
            .as_ref()
            .and_then(|p| p.iter().find(|v| v.index == i))
            .is_some_and(|v| v.error.is_some());
        match &result {
            Err((status, message)) => {
                router
                    .state
                    .set_cooldown(i, cooldown, *status, message)
                    .await;
                ops.metrics.set_probe_result(&d.id, false);
                if !was_failing {
                    ops.metrics.count_cooldown(&d.id, *status);
                    log::warn(&format!(
                        "health check: deployment {} of {} failed ({message}); cooled down until it passes",
                        d.id, d.group
                    ));
                }
                if let Some(a) = &ops.alerts {
                    a.deployment_health(&d.group, &d.id, Some(message));
                }
            }
            Ok(()) => {
                ops.metrics.set_probe_result(&d.id, true);
                if was_failing {
                    // Back in rotation at once, not when the cooldown would have ended.
                    router.state.set_cooldown(i, Duration::ZERO, 200, "").await;
                    log::info(&format!(
                        "health check: deployment {} of {} is healthy again",
                        d.id, d.group
                    ));
                    if let Some(a) = &ops.alerts {
                        a.deployment_health(&d.group, &d.id, None);
                    }
                }
            }
        }
        verdicts.push(Verdict {
            index: i,
            error: result.err(),
        });
    }
    ops.health.set(verdicts.clone());
    verdicts
}

/// Run rounds every `interval` until the process ends. A failing deployment is cooled
/// down for two intervals and a minute (a round waits for its slowest probe), renewed
/// each round it still fails and ended by the first round it passes; if the checks stop
/// (the process ends, with the cooldown shared through Redis), it ends by itself.
pub fn start(router: Arc<Router>, ops: Arc<Ops>, interval: Duration) {
    tokio::spawn(async move {
        let cooldown = interval
            .saturating_mul(2)
            .saturating_add(Duration::from_secs(60));
        loop {
            run_round(&router, &ops, cooldown).await;
            tokio::time::sleep(interval).await;
        }
    });
}
