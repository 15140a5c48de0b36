//! `POST /images/generations` (and `/v1/images/generations`): served like embeddings,
//! through the same auth, limits, Router, spend and metrics. `POST /images/edits` (and
//! `/v1/images/edits`): a multipart upload (`uploads.rs`), the images streamed from disk.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::serve::{serve, Family};
use super::uploads::begin_upload;
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

/// An edit of the uploaded `image` (or `image[]`) by `prompt`, with an optional `mask`,
/// from the group `model` names (OpenAI's multipart request and reply).
pub async fn edits(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    match begin_upload(&state, &headers, body, "/images/edits").await {
        // The temporary files live until the call is answered.
        Ok((begun, _files)) => serve(state, begun, Family::ImageEdit).await,
        Err(e) => error_response(e, None),
    }
}
