//! `POST /chat/completions` (and `/v1/...`, `/engines/{model}/...`,
//! `/openai/deployments/{model}/...`): OpenAI chat, JSON or SSE.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

use super::serve::{serve, Family};
use super::{begin, error_response};
use crate::proxy::state::AppState;

/// A chat completion: the body's `model` picks the Router group.
pub async fn chat_completions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match begin(&state, &headers, body, "/chat/completions").await {
        Ok(begun) => serve(state, begun, Family::Chat).await,
        Err(e) => error_response(e, None),
    }
}

/// A chat completion whose model is in the path (Azure-style clients).
pub async fn chat_completions_for(
    State(state): State<Arc<AppState>>,
    Path(model): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match begin(&state, &headers, body, "/chat/completions").await {
        Ok(mut begun) => {
            begun.body.insert("model".into(), Value::String(model));
            serve(state, begun, Family::Chat).await
        }
        Err(e) => error_response(e, None),
    }
}
