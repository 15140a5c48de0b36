//! LiteLLM's error envelope: `{"error": {"message", "type", "param", "code"}}`, with
//! `code` the HTTP status as a string (openai-python's `ErrorObject` reads it as one) and
//! `type`/`param` the literal `"None"` when there is nothing to say, as LiteLLM sends them.
//!
//! Every refusal of the proxy (auth, a bad body, an unknown model) and every provider
//! error comes back in this shape, with the status the SDK's exception carries, so the
//! openai SDK raises the matching class (`AuthenticationError` for 401, `NotFoundError`
//! for 404, `RateLimitError` for 429 ...).

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::error::{ErrorKind, LlmError};

/// A request the proxy answers with an error.
#[derive(Debug, Clone)]
pub struct ProxyError {
    pub status: StatusCode,
    pub message: String,
    /// LiteLLM's `type` (`auth_error`, `bad_request_error`, ...; `"None"` for most
    /// provider errors).
    pub kind: String,
    pub param: Option<String>,
    /// Headers sent with the error (`Retry-After`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ProxyError {
    /// An error with this status, LiteLLM `type` and message.
    pub fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> Self {
        ProxyError {
            status,
            message: message.into(),
            kind: kind.to_string(),
            param: None,
            headers: Vec::new(),
        }
    }

    /// 401: no key, or a key that is not the master key. The key is never echoed
    /// (LiteLLM #18731 printed it).
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ProxyError::new(StatusCode::UNAUTHORIZED, "auth_error", message)
    }

    /// 400 for a request the proxy cannot serve as sent.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ProxyError::new(StatusCode::BAD_REQUEST, "bad_request_error", message)
    }

    /// 400 naming the offending field.
    pub fn bad_param(param: &str, message: impl Into<String>) -> Self {
        let mut e = ProxyError::bad_request(message);
        e.param = Some(param.to_string());
        e
    }

    /// 404 for a model no group, alias or wildcard serves, listing those that exist.
    pub fn unknown_model(model: &str, available: &[String]) -> Self {
        let list = available
            .iter()
            .map(|m| format!("'{m}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut e = ProxyError::new(
            StatusCode::NOT_FOUND,
            "not_found_error",
            format!(
                "Invalid model name passed in model={model}. Available models: [{list}]. Call `/v1/models` to view available models for your key."
            ),
        );
        e.param = Some("model".into());
        e
    }

    /// 413: the body is larger than `general_settings.max_request_size_mb`.
    pub fn too_large(limit_bytes: usize) -> Self {
        ProxyError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "bad_request_error",
            format!(
                "Request size is too large. Request size is over the limit of {} MB (general_settings.max_request_size_mb).",
                fmt_mb(limit_bytes)
            ),
        )
    }

    /// 415: a body that says it is not JSON.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        ProxyError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "bad_request_error",
            format!(
                "Unsupported Content-Type {content_type:?}: send the request body as JSON with 'Content-Type: application/json'."
            ),
        )
    }

    /// An error of the call itself (the Router or the provider), with the status of the
    /// exception the SDK raises for it.
    pub fn from_llm(e: &LlmError) -> Self {
        let message = e.to_string();
        let mut status = match e.kind {
            ErrorKind::RouterRateLimit => 429,
            // LiteLLM: "No deployments available" is a 429 whatever raised it.
            _ if message.contains("No deployments available")
                || message.contains("No healthy deployment available") =>
            {
                429
            }
            // The Router's plain ValueErrors (tag filtering, a custom pick) are the
            // caller's request not fitting the configuration.
            ErrorKind::Value => 400,
            _ => e.status,
        };
        if !(400..=599).contains(&status) {
            status = 500;
        }
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let provider_field = |name: &str| -> Option<String> {
            e.body
                .as_ref()
                .and_then(|b| b.get("error"))
                .and_then(|err| err.get(name))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let mut out = ProxyError {
            status,
            message,
            kind: provider_field("type").unwrap_or_else(|| "None".to_string()),
            param: provider_field("param"),
            headers: Vec::new(),
        };
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            let secs = e
                .retry_after
                .map(|d| d.as_secs_f64().ceil().max(1.0) as u64)
                .or_else(|| {
                    e.headers
                        .iter()
                        .find(|(k, _)| k == "retry-after")
                        .and_then(|(_, v)| v.trim().parse::<f64>().ok())
                        .filter(|s| s.is_finite() && *s >= 0.0)
                        .map(|s| s.ceil().max(1.0) as u64)
                });
            // A 429 always says when to come back (the openai SDK waits that long before
            // its own retry); without a hint from the provider, one second.
            let secs = match (secs, status) {
                (Some(s), _) => Some(s),
                (None, StatusCode::TOO_MANY_REQUESTS) => Some(1),
                _ => None,
            };
            if let Some(s) = secs {
                out.headers
                    .push((axum::http::header::RETRY_AFTER, HeaderValue::from(s)));
            }
        }
        out
    }

    /// The envelope as JSON: `{"error": {...}}`.
    pub fn to_json(&self) -> Value {
        json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param.as_deref().unwrap_or("None"),
                "code": self.status.as_u16().to_string(),
            }
        })
    }

    /// The envelope's bytes.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_json()).unwrap_or_default()
    }
}

fn fmt_mb(bytes: usize) -> String {
    let mb = bytes as f64 / (1024.0 * 1024.0);
    if mb.fract() == 0.0 {
        format!("{mb:.0}")
    } else {
        format!("{mb:.2}")
    }
}

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.body(),
        )
            .into_response();
        for (k, v) in self.headers {
            response.headers_mut().insert(k, v);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_envelope_has_a_string_code_and_none_strings() {
        let e = ProxyError::unauthorized("Authentication Error, No api key passed in.");
        assert_eq!(
            e.to_json(),
            json!({"error": {"message": "Authentication Error, No api key passed in.", "type": "auth_error", "param": "None", "code": "401"}})
        );
        let e = ProxyError::bad_param("model", "model is required");
        assert_eq!(e.to_json()["error"]["param"], json!("model"));
        assert_eq!(e.to_json()["error"]["code"], json!("400"));
    }

    #[test]
    fn unknown_models_are_404_listing_the_available_ones() {
        let e = ProxyError::unknown_model("gpt-5", &["gpt-4o".into(), "embed".into()]);
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        let m = e.to_json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(m.contains("model=gpt-5"), "{m}");
        assert!(m.contains("['gpt-4o', 'embed']"), "{m}");
    }

    #[test]
    fn provider_errors_keep_their_status_type_and_param() {
        let mut le = crate::error::map_http_error(
            400,
            "openai",
            "gpt-4o",
            "{}",
            Some(
                json!({"error": {"message": "bad temperature", "type": "invalid_request_error", "param": "temperature"}}),
            ),
            Vec::new(),
        );
        le.status = 400;
        let e = ProxyError::from_llm(&le);
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let j = e.to_json();
        assert_eq!(j["error"]["type"], json!("invalid_request_error"));
        assert_eq!(j["error"]["param"], json!("temperature"));
        assert_eq!(j["error"]["code"], json!("400"));
        assert!(j["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("litellm.BadRequestError: "));
    }

    #[test]
    fn rate_limits_are_429_with_retry_after() {
        let mut le = LlmError::new(
            ErrorKind::RouterRateLimit,
            "No deployments available for selected model, Try again in 7 seconds.",
        );
        le.retry_after = Some(Duration::from_millis(6200));
        let e = ProxyError::from_llm(&le);
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            e.headers,
            vec![(axum::http::header::RETRY_AFTER, HeaderValue::from(7u64))]
        );
        // A provider 429 with its own Retry-After header.
        let mut le = crate::error::map_http_error(
            429,
            "openai",
            "m",
            "slow down",
            None,
            vec![("retry-after".into(), "3".into())],
        );
        le.retry_after = None;
        let e = ProxyError::from_llm(&le);
        assert_eq!(e.headers[0].1, HeaderValue::from(3u64));
        // And without one.
        let le = crate::error::map_http_error(429, "openai", "m", "slow down", None, Vec::new());
        let e = ProxyError::from_llm(&le);
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(e
            .headers
            .iter()
            .any(|(k, _)| k == axum::http::header::RETRY_AFTER));
    }

    #[test]
    fn statuses_outside_the_error_range_become_500() {
        let mut le = LlmError::new(ErrorKind::Api, "odd");
        le.status = 200;
        assert_eq!(
            ProxyError::from_llm(&le).status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let le = LlmError::timeout("openai", "m", Some(Duration::from_secs(1)));
        assert_eq!(
            ProxyError::from_llm(&le).status,
            StatusCode::REQUEST_TIMEOUT
        );
    }

    #[test]
    fn size_limit_message_names_the_setting() {
        let e = ProxyError::too_large(10 * 1024 * 1024);
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(e.message.contains("10 MB"));
        assert!(e.message.contains("max_request_size_mb"));
    }
}
