//! `POST /images/generations` (and `/v1/images/generations`): served like embeddings,
//! through the same auth, limits, Router, spend and metrics.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::serve::{serve, Family};
use super::{begin, error_response};
use crate::proxy::state::AppState;

/// Images for `prompt` from the group `model` names (OpenAI's request and reply).
pub async fn generations(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match begin(&state, &headers, body, "/images/generations").await {
        Ok(begun) => serve(state, begun, Family::Images).await,
        Err(e) => error_response(e, None),
    }
}
