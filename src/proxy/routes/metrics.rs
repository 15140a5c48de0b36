//! `GET /metrics`: the Prometheus text exposition of [`crate::proxy::ops::metrics`].
//!
//! Who may read it follows LiteLLM 1.110.2: a key is asked for unless
//! `litellm_settings.require_auth_for_metrics_endpoint: false`. The metrics name every
//! key's alias and hash, team and spend, so the key must be the master key; without a
//! master key the route is open, as every route.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{authenticate, error_response};
use crate::proxy::auth::Role;
use crate::proxy::errors::ProxyError;
use crate::proxy::state::AppState;
use crate::proxy::store::time;

/// The text format's content type (version 0.0.4), as `prometheus_client` sends it.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`.
pub async fn metrics(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if state.ops.settings.metrics_auth {
        match authenticate(&state, &headers, "/metrics").await {
            Ok(identity) if matches!(identity.role, Role::ProxyAdmin | Role::Anonymous) => {}
            Ok(_) => {
                return error_response(
                    ProxyError::unauthorized(
                        "Unauthorized access to metrics endpoint: only the master key may read /metrics. To allow unauthenticated access, set `litellm_settings.require_auth_for_metrics_endpoint: false` in your proxy_config.yaml.",
                    ),
                    None,
                )
            }
            Err(e) => return error_response(e, None),
        }
    }
    let stats = state.router.stats().await;
    let now_ms = time::now_ms();
    let budgets = state
        .spend
        .as_ref()
        .and_then(|s| s.ledger())
        .map(|l| l.snapshot(now_ms))
        .unwrap_or_default();
    let mut body = state.ops.metrics.encode(&stats, &budgets, now_ms);
    if let Some(g) = &state.guardrails {
        g.encode_metrics(&mut body);
    }
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}
