//! `POST /audio/speech` (and `/v1/audio/speech`): served like embeddings, through the
//! same auth, limits, Router, spend and metrics; the reply is the audio itself.
//! `POST /audio/transcriptions` (and `/v1/...`): a multipart upload (`uploads.rs`), the
//! file streamed from disk to the deployment; the text formats answer plain text.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::serve::{serve, Family};
use super::uploads::begin_upload;
use super::{begin, error_response};
use crate::proxy::state::AppState;
use serde_json::{Map, Value};

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

/// The transcription of the uploaded `file` by the group `model` names (OpenAI's
/// multipart request and reply).
pub async fn transcriptions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match begin_upload(&state, &headers, body, "/audio/transcriptions").await {
        // The temporary files live until the call is answered.
        Ok((begun, _files)) => serve(state, begun, Family::Transcription).await,
        Err(e) => error_response(e, None),
    }
}

/// A 200 carrying a transcription's `text` as plain text (response_format text, srt,
/// vtt).
pub fn text_response(body: &Map<String, Value>) -> Response {
    let text = body
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

/// A 200 carrying `audio` as `media_type` (the provider's; a type that is not a valid
/// header value is sent as `application/octet-stream`).
pub fn audio_response(audio: Vec<u8>, media_type: &str) -> Response {
    let media_type = HeaderValue::from_str(media_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    ([(header::CONTENT_TYPE, media_type)], audio).into_response()
}
