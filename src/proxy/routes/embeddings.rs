//! `POST /embeddings` and `/v1/embeddings`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::serve::{serve, Family};
use super::{begin, error_response};
use crate::proxy::state::AppState;

/// Embeddings of `input` from the group `model` names.
pub async fn embeddings(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match begin(&state, &headers, body, "/embeddings").await {
        Ok(begun) => serve(state, begun, Family::Embeddings).await,
        Err(e) => error_response(e, None),
    }
}
