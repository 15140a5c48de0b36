//! `POST /v1/messages`: Anthropic's Messages API in, any deployment out (passed through to
//! Anthropic and Vertex AI's Claude deployments, translated over chat for the others),
//! as Claude-style coding tools call it with `ANTHROPIC_BASE_URL` set to the proxy. The
//! key may come as `x-api-key` (what Anthropic's SDK sends) or `Authorization: Bearer`.
//! Errors on this route are in Anthropic's shape,
//! `{"type": "error", "error": {"type", "message"}}`, so Anthropic's SDK raises its own
//! classes; a stream's error is an `event: error` in that shape.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::serve::{serve, Family};
use super::{allowed_group, begin, error_response, json_response, Begun};
use crate::catalogue::tokens::{count_messages, Encoding};
use crate::proxy::errors::ProxyError;
use crate::proxy::state::AppState;

/// The largest error body rewritten (a proxy error is a few hundred bytes).
const ERROR_BODY_LIMIT: usize = 1 << 20;

/// Anthropic's error `type` for an HTTP status.
pub fn error_type(status: u16) -> &'static str {
    match status {
        400 | 422 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

/// `{"type": "error", "error": {"type", "message"}}`.
pub fn error_body(status: u16, message: &str) -> Value {
    json!({"type": "error", "error": {"type": error_type(status), "message": message}})
}

/// A message from the group the body's `model` names, through the same auth, limits,
/// spend, logs and metrics as chat; `stream: true` answers with Anthropic's events.
pub async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let response = match begin(&state, &headers, body, "/v1/messages").await {
        Ok(mut begun) => {
            forward_beta(&headers, &mut begun.body);
            serve(state, begun, Family::Messages).await
        }
        Err(e) => error_response(e, None),
    };
    in_anthropic_shape(response).await
}

/// The client's `anthropic-beta` header (Claude-style tools ask for features by it:
/// `context-1m-...`, `fine-grained-tool-streaming-...`) goes on to the deployment with
/// the call's headers, as LiteLLM forwards it. Set by the proxy after the body's
/// credential check, so a client still cannot send headers of its own choosing.
fn forward_beta(headers: &HeaderMap, body: &mut Map<String, Value>) {
    let betas: Vec<&str> = headers
        .get_all("anthropic-beta")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    if betas.is_empty() {
        return;
    }
    let entry = body
        .entry("headers")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(h) = entry {
        h.insert("anthropic-beta".into(), Value::String(betas.join(",")));
    }
}

/// `POST /v1/messages/count_tokens`: the input tokens of a Messages request,
/// `{"input_tokens": N}`, as Claude-style tools ask before they send. Counted here with
/// rustllm's tokenizer over the request as chat (system, messages, tools), whatever the
/// deployment: no provider call, no rate limit and no spend (Anthropic does not charge for
/// it either). The key must be allowed the model, as for `/v1/messages`. An estimate for
/// Claude models, whose tokenizer is not public (Anthropic's own endpoint is not asked).
pub async fn count_tokens(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let response = match begin(&state, &headers, body, "/v1/messages/count_tokens").await {
        Ok(begun) => match count(&state, &begun) {
            Ok(n) => json_response(json!({ "input_tokens": n }).to_string()),
            Err(e) => error_response(e, Some(&begun.call_id)),
        },
        Err(e) => error_response(e, None),
    };
    in_anthropic_shape(response).await
}

fn count(state: &AppState, begun: &Begun) -> Result<usize, ProxyError> {
    let group = allowed_group(state, begun)?;
    if !begun.body.get("messages").is_some_and(Value::is_array) {
        return Err(ProxyError::bad_param(
            "messages",
            "messages is required: a list of {role, content} messages",
        ));
    }
    let (chat, _) = crate::messages::to_chat(begun.body.clone(), false)
        .map_err(|e| ProxyError::from_llm(&e))?;
    let model = state
        .router
        .deployments()
        .iter()
        .find(|d| d.group == group)
        .and_then(|d| d.params.get("model").and_then(Value::as_str))
        .unwrap_or(&group)
        .to_string();
    let messages = chat
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let mut n = count_messages(&model, messages);
    if let Some(tools) = chat.get("tools").filter(|t| !t.is_null()) {
        n += Encoding::for_model(&model).count(&tools.to_string());
    }
    Ok(n)
}

/// An error response rewritten in Anthropic's shape, its status and headers kept (the
/// call id, `Retry-After`, the rate-limit headers); a success as it is.
async fn in_anthropic_shape(response: Response) -> Response {
    let status = response.status();
    if status.is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, ERROR_BODY_LIMIT)
        .await
        .unwrap_or_default();
    let parsed = serde_json::from_slice::<Value>(&bytes).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v.pointer("/error/message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
    let out = serde_json::to_vec(&error_body(status.as_u16(), &message)).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;

    #[test]
    fn anthropic_beta_headers_join_the_calls_headers() {
        let mut headers = HeaderMap::new();
        headers.append(
            "anthropic-beta",
            HeaderValue::from_static("context-1m-2025-08-07"),
        );
        headers.append(
            "anthropic-beta",
            HeaderValue::from_static(" files-api-2025-04-14 "),
        );
        let mut body = Map::new();
        body.insert("headers".into(), json!({"x-trace": "1"}));
        forward_beta(&headers, &mut body);
        assert_eq!(
            body["headers"],
            json!({"x-trace": "1", "anthropic-beta": "context-1m-2025-08-07,files-api-2025-04-14"})
        );
        let mut untouched = Map::new();
        forward_beta(&HeaderMap::new(), &mut untouched);
        assert!(untouched.is_empty());
    }

    #[tokio::test]
    async fn errors_are_rewritten_in_anthropic_shape_keeping_status_and_headers() {
        let e = crate::proxy::errors::ProxyError::unauthorized("Authentication Error, bad key");
        let response = in_anthropic_shape(error_response(e, Some("call-1"))).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["x-litellm-call-id"], "call-1");
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            v,
            json!({"type": "error", "error": {"type": "authentication_error", "message": "Authentication Error, bad key"}})
        );
        let ok = in_anthropic_shape((StatusCode::OK, "{}").into_response()).await;
        assert_eq!(ok.status(), StatusCode::OK);
    }

    #[test]
    fn statuses_map_to_anthropic_error_types() {
        for (status, kind) in [
            (400, "invalid_request_error"),
            (404, "not_found_error"),
            (429, "rate_limit_error"),
            (500, "api_error"),
            (529, "overloaded_error"),
        ] {
            assert_eq!(error_type(status), kind);
        }
    }
}
