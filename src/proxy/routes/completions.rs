//! `POST /completions` and `/v1/completions`: OpenAI's legacy text completions.
//!
//! A body with `messages` and no `prompt` is served as a chat completion and answered
//! with a `chat.completion` object: a deliberate superset of LiteLLM (whose
//! `text_completion` requires `prompt`), so that the tutorial's JavaScript `fetch` to
//! `/completions` with a chat body works.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::serve::{serve, Family};
use super::{begin, error_response};
use crate::proxy::errors::ProxyError;
use crate::proxy::state::AppState;

/// A text completion, or a chat completion for a chat-shaped body.
pub async fn completions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let begun = match begin(&state, &headers, body, "/completions").await {
        Ok(b) => b,
        Err(e) => return error_response(e, None),
    };
    let has = |k: &str| begun.body.get(k).is_some_and(|v| !v.is_null());
    if has("messages") && !has("prompt") {
        return serve(state, begun, Family::Chat).await;
    }
    if !has("prompt") {
        let id = begun.call_id.clone();
        return error_response(
            ProxyError::bad_param(
                "prompt",
                "prompt is required for /completions (or send `messages` to be served as a chat completion)",
            ),
            Some(&id),
        );
    }
    serve(state, begun, Family::Text).await
}
