//! Health: `/health/liveliness` and `/health/liveness` (the process answers),
//! `/health/readiness` (it can serve; no auth, for load balancers and Kubernetes), and
//! `/health`, which calls every deployment once, as LiteLLM does.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::{authenticate, error_response, json_response};
use crate::call;
use crate::providers::Endpointkind;
use crate::proxy::ops::health_checks::{health_body, Verdict};
use crate::proxy::state::{public_params, AppState, VERSION};
use crate::router::config::Deployment;

/// LiteLLM's `HEALTH_CHECK_TIMEOUT_SECONDS`, unless `model_info.health_check_timeout`.
const HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// Router-only settings a direct call does not take.
pub(super) use crate::router::ROUTER_ONLY;

/// `"I'm alive!"`, with no auth.
pub async fn liveliness() -> Response {
    json_response(bytes::Bytes::from_static(b"\"I'm alive!\""))
}

/// Ready to serve: the config loaded and the Router built (it is, or the process would
/// not be listening). No database and no callbacks yet.
pub async fn readiness(State(state): State<Arc<AppState>>) -> Response {
    let body = json!({
        "status": "healthy",
        "db": "Not connected",
        "cache": state.cache_type,
        "litellm_version": VERSION,
        "success_callbacks": [],
    });
    json_response(serde_json::to_vec(&body).unwrap_or_default())
}

/// The test call for a deployment, by its `model_info.mode`.
fn probe(d: &Deployment) -> Option<(Endpointkind, Map<String, Value>)> {
    let mut params: Map<String, Value> = d
        .params
        .iter()
        .filter(|(k, _)| !ROUTER_ONLY.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(m) = d
        .model_info
        .get("health_check_model")
        .and_then(Value::as_str)
    {
        params.insert("model".into(), Value::String(m.to_string()));
    }
    // A wildcard deployment has no model to call without `health_check_model`.
    if params
        .get("model")
        .and_then(Value::as_str)
        .is_none_or(|m| m.contains('*'))
    {
        return None;
    }
    params.insert("max_retries".into(), Value::from(0));
    let kind = match d.model_info.get("mode").and_then(Value::as_str) {
        Some("embedding") => {
            params.insert("input".into(), json!(["test from litellm"]));
            Endpointkind::Embeddings
        }
        Some("completion") => {
            params.insert("prompt".into(), json!("test from litellm"));
            Endpointkind::TextCompletion
        }
        Some("rerank") => {
            params.insert("query".into(), json!("test from litellm"));
            params.insert("documents".into(), json!(["my sample text"]));
            Endpointkind::Rerank
        }
        _ => {
            params.insert(
                "messages".into(),
                json!([{"role": "user", "content": "What's 1 + 1?"}]),
            );
            Endpointkind::Chat
        }
    };
    Some((kind, params))
}

/// Probe one deployment (`None`: it cannot be probed, a wildcard without
/// `health_check_model`); an error is (status, message).
pub async fn check(d: &Deployment) -> Option<Result<(), (u16, String)>> {
    let (kind, params) = probe(d)?;
    let timeout = d
        .model_info
        .get("health_check_timeout")
        .and_then(Value::as_f64)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(HEALTH_CHECK_TIMEOUT);
    let call = async move { call::run(call::prepare(kind, params)?).await };
    Some(match tokio::time::timeout(timeout, call).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err((e.status, e.to_string())),
        Err(_) => Err((408, "Timeout exceeded".to_string())),
    })
}

/// A deployment as `/health` lists it: its public params, `model_name` and `model_id`;
/// without `details` (`health_check_details: false`) only the model names and id.
pub fn endpoint_entry(d: &Deployment, details: bool) -> Map<String, Value> {
    let mut entry = if details {
        public_params(&d.params)
    } else {
        let mut m = Map::new();
        if let Some(model) = d.params.get("model") {
            m.insert("model".into(), model.clone());
        }
        m
    };
    entry.insert("model_name".into(), Value::String(d.group.clone()));
    entry.insert("model_id".into(), Value::String(d.id.clone()));
    entry
}

/// Call every deployment (or those whose `model` or group is `?model=`) at once:
/// `{healthy_endpoints, unhealthy_endpoints, healthy_count, unhealthy_count}`.
pub async fn health(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = authenticate(&state, &headers, "/health").await {
        return error_response(e, None);
    }
    let wanted: Option<String> = query.as_deref().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "model")
            .map(|(_, v)| v.into_owned())
    });
    // The deployments asked about, by index.
    let indices: Vec<usize> = state
        .router
        .deployments()
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            wanted.as_deref().is_none_or(|m| {
                d.group == m || d.params.get("model").and_then(Value::as_str) == Some(m)
            })
        })
        .map(|(i, _)| i)
        .collect();
    let details = state.ops.settings.health_check_details;
    // Background checks running: the latest round's results, no new calls (LiteLLM).
    if state.ops.settings.background_health_checks {
        if let Some(verdicts) = state.ops.health.latest() {
            let verdicts: Vec<Verdict> = verdicts
                .into_iter()
                .filter(|v| indices.contains(&v.index))
                .collect();
            let body = health_body(&state.router, &verdicts, details);
            return json_response(serde_json::to_vec(&body).unwrap_or_default());
        }
    }
    let all = state.router.deployments();
    let results =
        futures_util::future::join_all(indices.iter().filter_map(|&i| all.get(i)).map(check)).await;
    let verdicts: Vec<Verdict> = indices
        .iter()
        .zip(results)
        .filter_map(|(&index, result)| {
            Some(Verdict {
                index,
                error: result?.err(),
            })
        })
        .collect();
    let body = health_body(&state.router, &verdicts, details);
    json_response(serde_json::to_vec(&body).unwrap_or_default())
}
