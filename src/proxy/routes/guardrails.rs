//! `GET /guardrails/list`: LiteLLM's list of the configured
//! guardrails, `{"guardrails": [{guardrail_name, litellm_params, guardrail_info}]}`, for
//! any valid key. Patterns and word lists show their labels only, credentials nothing
//! (`crate::proxy::guardrails`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::{authenticate, error_response, json_response};
use crate::proxy::state::AppState;

/// The configured guardrails (an empty list without any).
pub async fn list(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(e) = authenticate(&state, &headers, "/guardrails/list").await {
        return error_response(e, None);
    }
    match &state.guardrails {
        Some(g) => json_response(g.list_body()),
        None => json_response(r#"{"guardrails":[]}"#),
    }
}
