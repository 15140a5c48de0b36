//! `GET /models`, `/v1/models`, `/v1/models/{model}` and `/model/info`: what the proxy
//! serves. The bodies are built once at start (the model list does not change).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::{authenticate, error_response, json_response};
use crate::proxy::errors::ProxyError;
use crate::proxy::state::AppState;

/// OpenAI's model list: every group and visible alias (wildcard groups are patterns,
/// not names, and are left out).
pub async fn list(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers, "/models").await {
        Ok(_) => json_response(state.models_body.clone()),
        Err(e) => error_response(e, None),
    }
}

/// One model of the list, or 404.
pub async fn one(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = authenticate(&state, &headers, "/models").await {
        return error_response(e, None);
    }
    if state.router.resolve_group(&model).is_err() {
        return error_response(
            ProxyError::new(
                StatusCode::NOT_FOUND,
                "not_found_error",
                format!("The model '{model}' does not exist"),
            ),
            None,
        );
    }
    let body =
        json!({"id": model, "object": "model", "created": 1677610602u64, "owned_by": "openai"});
    json_response(serde_json::to_vec(&body).unwrap_or_default())
}

/// Every deployment: its group, its `litellm_params` without credentials, and its
/// `model_info` over the catalogue's facts (context window, prices, mode).
pub async fn info(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers, "/model/info").await {
        Ok(_) => json_response(state.model_info_body()),
        Err(e) => error_response(e, None),
    }
}
