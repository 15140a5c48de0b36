//! `POST /rerank` (and `/v1/rerank`, `/v2/rerank`) and `POST /moderations` (and
//! `/v1/moderations`): served like embeddings, through the same auth, limits, Router,
//! spend and metrics.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::serve::{serve, Family};
use super::{begin, error_response};
use crate::proxy::state::AppState;

/// Rerank `documents` for `query` on the group `model` names (Cohere's request body; the
/// reply is LiteLLM's `RerankResponse`, whatever the deployment's provider).
pub async fn rerank(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match begin(&state, &headers, body, "/rerank").await {
        Ok(begun) => serve(state, begun, Family::Rerank).await,
        Err(e) => error_response(e, None),
    }
}

/// OpenAI's moderation of `input` on the group `model` names.
pub async fn moderations(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match begin(&state, &headers, body, "/moderations").await {
        Ok(begun) => serve(state, begun, Family::Moderation).await,
        Err(e) => error_response(e, None),
    }
}
