//! `POST /audio/speech` (and `/v1/audio/speech`): served like embeddings, through the
//! same auth, limits, Router, spend and metrics; the reply is the audio itself.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::serve::{serve, Family};
use super::{begin, error_response};
use crate::proxy::state::AppState;

/// Speech of `input` from the group `model` names (OpenAI's request; audio in reply).
pub async fn speech(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match begin(&state, &headers, body, "/audio/speech").await {
        Ok(begun) => serve(state, begun, Family::Speech).await,
        Err(e) => error_response(e, None),
    }
}

/// A 200 carrying `audio` as `media_type` (the provider's; a type that is not a valid
/// header value is sent as `application/octet-stream`).
pub fn audio_response(audio: Vec<u8>, media_type: &str) -> Response {
    let media_type = HeaderValue::from_str(media_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    ([(header::CONTENT_TYPE, media_type)], audio).into_response()
}
