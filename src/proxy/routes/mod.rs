//! The routes, with LiteLLM's paths and shapes: one file per route family, each a thin
//! handler over the same Router the SDK uses.
//!
//! Every request that carries a body goes through [`begin`] first: the key, then the
//! content type, the size limit, the JSON, and the body's own credentials; each refusal
//! comes back in LiteLLM's envelope before anything reaches a provider.

pub mod admin;
pub mod admin_keys;
pub mod admin_teams;
pub mod admin_users;
pub mod audio;
pub mod chat;
pub mod completions;
pub mod embeddings;
pub mod files;
pub mod guardrails;
pub mod health;
pub mod images;
pub mod messages;
pub mod metrics;
pub mod models;
pub mod rerank;
pub mod responses;
pub mod serve;
pub mod spend;
pub mod ui;
pub mod uploads;

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Map, Value};

use super::auth::{request_key, Identity};
use super::errors::ProxyError;
use super::limits::Permit;
use super::state::{AppState, VERSION};

/// Request body keys that point a deployment somewhere else or carry credentials: a
/// client could send the deployment's key to its own server (CVE-2024-6587) or spend
/// someone else's account. Refused unless `general_settings.allow_client_side_credentials`.
pub const CLIENT_CREDENTIAL_PARAMS: &[&str] = &[
    "api_base",
    "base_url",
    "api_key",
    "extra_headers",
    "headers",
    "user_config",
    "custom_llm_provider",
    "azure_ad_token",
    "azure_username",
    "azure_password",
    "client_id",
    "client_secret",
    "tenant_id",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_region_name",
    "aws_profile_name",
    "aws_role_name",
    "aws_web_identity_token",
    "aws_bedrock_runtime_endpoint",
    "vertex_project",
    "vertex_location",
    "vertex_credentials",
    "ssl_verify",
    "ssl_certificate",
    "litellm_credential_name",
];

/// Every route of the proxy.
pub fn app(state: Arc<AppState>) -> axum::Router {
    axum::Router::new()
        .route("/chat/completions", post(chat::chat_completions))
        .route("/v1/chat/completions", post(chat::chat_completions))
        .route(
            "/engines/{model}/chat/completions",
            post(chat::chat_completions_for),
        )
        .route(
            "/openai/deployments/{model}/chat/completions",
            post(chat::chat_completions_for),
        )
        .route("/completions", post(completions::completions))
        .route("/v1/completions", post(completions::completions))
        .route("/embeddings", post(embeddings::embeddings))
        .route("/v1/embeddings", post(embeddings::embeddings))
        .route("/rerank", post(rerank::rerank))
        .route("/v1/rerank", post(rerank::rerank))
        .route("/v2/rerank", post(rerank::rerank))
        .route("/moderations", post(rerank::moderations))
        .route("/v1/moderations", post(rerank::moderations))
        .route("/responses", post(responses::create))
        .route("/v1/responses", post(responses::create))
        .route(
            "/responses/{id}",
            get(responses::get).delete(responses::delete),
        )
        .route(
            "/v1/responses/{id}",
            get(responses::get).delete(responses::delete),
        )
        .route("/v1/messages", post(messages::create))
        .route("/v1/messages/count_tokens", post(messages::count_tokens))
        .route("/images/generations", post(images::generations))
        .route("/v1/images/generations", post(images::generations))
        .route("/images/edits", post(images::edits))
        .route("/v1/images/edits", post(images::edits))
        .route("/audio/speech", post(audio::speech))
        .route("/v1/audio/speech", post(audio::speech))
        .route("/audio/transcriptions", post(audio::transcriptions))
        .route("/v1/audio/transcriptions", post(audio::transcriptions))
        .route("/files", post(files::create_file).get(files::list_files))
        .route("/v1/files", post(files::create_file).get(files::list_files))
        .route(
            "/files/{id}",
            get(files::retrieve_file).delete(files::delete_file),
        )
        .route(
            "/v1/files/{id}",
            get(files::retrieve_file).delete(files::delete_file),
        )
        .route("/files/{id}/content", get(files::file_content))
        .route("/v1/files/{id}/content", get(files::file_content))
        .route(
            "/batches",
            post(files::create_batch).get(files::list_batches),
        )
        .route(
            "/v1/batches",
            post(files::create_batch).get(files::list_batches),
        )
        .route("/batches/{id}", get(files::retrieve_batch))
        .route("/v1/batches/{id}", get(files::retrieve_batch))
        .route("/batches/{id}/cancel", post(files::cancel_batch))
        .route("/v1/batches/{id}/cancel", post(files::cancel_batch))
        .route("/models", get(models::list))
        .route("/v1/models", get(models::list))
        .route("/models/{*model}", get(models::one))
        .route("/v1/models/{*model}", get(models::one))
        .route("/model/info", get(models::info))
        .route("/v1/model/info", get(models::info))
        .route("/key/generate", post(admin_keys::generate))
        .route("/key/info", get(admin_keys::info))
        .route("/key/list", get(admin_keys::list))
        .route("/key/update", post(admin_keys::update))
        .route("/key/delete", post(admin_keys::delete))
        .route("/key/regenerate", post(admin_keys::regenerate))
        .route("/key/{key}/regenerate", post(admin_keys::regenerate_path))
        .route("/key/block", post(admin_keys::block))
        .route("/key/unblock", post(admin_keys::unblock))
        .route("/user/new", post(admin_users::new))
        .route("/user/info", get(admin_users::info))
        .route("/user/update", post(admin_users::update))
        .route("/user/delete", post(admin_users::delete))
        .route("/team/new", post(admin_teams::new))
        .route("/team/info", get(admin_teams::info))
        .route("/team/update", post(admin_teams::update))
        .route("/team/delete", post(admin_teams::delete))
        .route("/team/member_add", post(admin_teams::member_add))
        .route("/team/member_delete", post(admin_teams::member_delete))
        .route("/spend/logs", get(spend::logs))
        .route("/global/spend", get(spend::global))
        .route("/global/spend/report", get(spend::report))
        .route("/global/spend/models", get(spend::models))
        .route("/guardrails/list", get(guardrails::list))
        .route("/metrics", get(metrics::metrics))
        .route("/metrics/", get(metrics::metrics))
        .route("/health", get(health::health))
        .route("/health/liveliness", get(health::liveliness))
        .route("/health/liveness", get(health::liveliness))
        .route("/health/readiness", get(health::readiness))
        .merge(ui::routes())
        .fallback(not_found)
        // LiteLLM's CORSMiddleware: any origin (mirrored, so credentials work), any
        // method and header. A browser's preflight is answered here, before auth.
        .layer(tower_http::cors::CorsLayer::very_permissive())
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> Response {
    ProxyError::new(
        axum::http::StatusCode::NOT_FOUND,
        "not_found_error",
        format!("Route not found: {}", uri.path()),
    )
    .into_response()
}

/// A request past its checks: who sent it, and its JSON body.
pub struct Begun {
    pub started: Instant,
    pub call_id: String,
    pub identity: Identity,
    pub body: Map<String, Value>,
}

/// Authenticate a request (for the routes without a body).
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    route: &str,
) -> Result<Identity, ProxyError> {
    let key = request_key(headers, state.settings.key_header.as_deref());
    state.auth.authenticate(key, route).await
}

fn is_json(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Everything before routing, in order: the key (401), the content type (415), the size
/// (413, from `Content-Length` before reading, else while reading), the JSON (400) and
/// the body's credentials (400).
pub async fn begin(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    route: &str,
) -> Result<Begun, ProxyError> {
    let started = Instant::now();
    crate::proxy::spin::mark();
    let identity = authenticate(state, headers, route).await?;
    let mut body = read_json_object(state, headers, body).await?;
    if !state.settings.allow_client_side_credentials {
        if let Some(param) = client_credential(&body) {
            return Err(ProxyError::bad_param(
                param,
                format!(
                    "Rejected Request: {param} is not allowed in request body. Enable with `general_settings::allow_client_side_credentials` on proxy config.yaml. Relevant Issue: https://huntr.com/bounties/4001e1a2-7b7a-4776-a3ae-e6692ec3d997"
                ),
            ));
        }
    }
    if let Some(forced) = &state.settings.forced_params {
        for (k, v) in forced {
            body.insert(k.clone(), v.clone());
        }
    }
    Ok(Begun {
        started,
        call_id: call_id(),
        identity,
        body,
    })
}

/// The body as a JSON object: the content type (415), the size (413, from
/// `Content-Length` before reading, else while reading) and the JSON (400).
pub async fn read_json_object(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Map<String, Value>, ProxyError> {
    if let Some(ct) = headers.get(axum::http::header::CONTENT_TYPE) {
        let text = ct.to_str().unwrap_or("");
        if !is_json(text) {
            return Err(ProxyError::unsupported_media_type(text));
        }
    }
    let limit = state.settings.max_request_bytes;
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ProxyError::too_large(limit));
    }
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return Err(ProxyError::too_large(limit))
        }
        Err(e) => {
            return Err(ProxyError::bad_request(format!(
                "could not read the request body: {e}"
            )))
        }
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ProxyError::bad_request(
            "the request body must be a JSON object",
        )),
        Err(e) => Err(ProxyError::bad_request(format!(
            "Invalid JSON in the request body: {e}"
        ))),
    }
}

/// The first of [`CLIENT_CREDENTIAL_PARAMS`] (in its order) that the body sets to
/// something other than null. Walks the body's few keys rather than looking each of the
/// list's 27 names up in the body: every lookup hashes its key.
pub(super) fn client_credential(body: &Map<String, Value>) -> Option<&'static str> {
    body.iter()
        .filter(|(_, v)| !v.is_null())
        .filter_map(|(k, _)| CLIENT_CREDENTIAL_PARAMS.iter().position(|p| p == k))
        .min()
        .map(|i| CLIENT_CREDENTIAL_PARAMS[i])
}

/// A call id: a UUID as LiteLLM's, but version 7 (the millisecond first, then random
/// bits) instead of 4, because it is the spend logs' primary key: ids in time order are
/// appended at the right edge of that index, where random ids dirty a page anywhere in it
/// per row (measured on SQLite, the writer's CPU per row grew with the table). Ids name
/// calls, they guard nothing: the random bits come from the thread's fast generator, not
/// the kernel (a `getrandom` syscall per request).
pub(crate) fn call_id() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut random = [0u8; 10];
    random.copy_from_slice(&fastrand::u128(..).to_le_bytes()[..10]);
    uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .to_string()
}

/// The model group a request routes to (aliases and wildcards resolved), or 400 without
/// a model and 404 for a model nothing serves. Then the caller's rate limits for that
/// group: a 429 when one is reached, else the permit held for the request's life.
pub async fn route_to(
    state: &AppState,
    begun: &Begun,
) -> Result<(String, Option<Permit>), ProxyError> {
    let group = allowed_group(state, begun)?;
    let permit = match &state.limiter {
        Some(l) if begun.identity.grant.is_some() => {
            l.admit(&begun.identity, &group, &begun.body).await?
        }
        _ => None,
    };
    Ok((group, permit))
}

/// The model group the body's `model` names, if the caller may call it: 400 without a
/// model, 404 for a model nothing serves, 401 for one the caller's key does not allow.
pub fn allowed_group(state: &AppState, begun: &Begun) -> Result<String, ProxyError> {
    let model = match begun.body.get("model") {
        Some(Value::String(m)) if !m.is_empty() => m.as_str(),
        Some(Value::String(_)) | None | Some(Value::Null) => return Err(ProxyError::bad_param(
            "model",
            "model is required: the model_name of a model_list entry (GET /v1/models lists them)",
        )),
        Some(_) => return Err(ProxyError::bad_param("model", "model must be a string")),
    };
    let group = match state.router.resolve_group(model) {
        Ok((group, _)) => group,
        Err(_) => return Err(ProxyError::unknown_model(model, &state.model_names)),
    };
    // A virtual key may call only what it and its team allow (no grant: the master key
    // or no auth, nothing to check).
    if let Some(grant) = &begun.identity.grant {
        super::keys::check_model(grant, model, &group, &state.access_groups)?;
    }
    Ok(group)
}

/// `x-litellm-*` headers LiteLLM sets on every answered request.
pub struct CallHeaders<'a> {
    pub call_id: &'a str,
    pub model_id: Option<&'a str>,
    pub model_group: Option<&'a str>,
    pub api_base: Option<&'a str>,
    pub response_cost: Option<f64>,
    pub response_ms: Option<f64>,
    pub overhead_ms: Option<f64>,
    pub attempted_retries: Option<u32>,
    pub attempted_fallbacks: Option<u32>,
}

// Built at compile time: `HeaderName::from_static` called per request checks its text
// against the standard names each time.
const CALL_ID: HeaderName = HeaderName::from_static("x-litellm-call-id");
const LITELLM_VERSION: HeaderName = HeaderName::from_static("x-litellm-version");
const MODEL_ID: HeaderName = HeaderName::from_static("x-litellm-model-id");
const MODEL_GROUP: HeaderName = HeaderName::from_static("x-litellm-model-group");
const MODEL_API_BASE: HeaderName = HeaderName::from_static("x-litellm-model-api-base");
const RESPONSE_COST: HeaderName = HeaderName::from_static("x-litellm-response-cost");
const RESPONSE_MS: HeaderName = HeaderName::from_static("x-litellm-response-duration-ms");
const OVERHEAD_MS: HeaderName = HeaderName::from_static("x-litellm-overhead-duration-ms");
const RETRIES: HeaderName = HeaderName::from_static("x-litellm-attempted-retries");
const FALLBACKS: HeaderName = HeaderName::from_static("x-litellm-attempted-fallbacks");
const VERSION_VALUE: HeaderValue = HeaderValue::from_static(VERSION);

fn set(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// Milliseconds with three decimals (`12.345`), as `format!("{:.3}")` writes them, from
/// whole microseconds: the exact float formatting took more time than the rest of the
/// headers together.
fn ms(v: f64) -> String {
    // Saturates: a negative or non-finite input gives 0.000; no duration reaches u64::MAX µs.
    let micros = (v.max(0.0) * 1000.0).round() as u64;
    format!("{}.{:03}", micros / 1000, micros % 1000)
}

impl CallHeaders<'_> {
    /// Set the headers on a response.
    pub fn apply(&self, headers: &mut HeaderMap) {
        set(headers, CALL_ID, self.call_id);
        headers.insert(LITELLM_VERSION, VERSION_VALUE);
        if let Some(id) = self.model_id.filter(|id| !id.is_empty()) {
            set(headers, MODEL_ID, id);
        }
        if let Some(g) = self.model_group {
            set(headers, MODEL_GROUP, g);
        }
        if let Some(base) = self.api_base.filter(|b| !b.is_empty()) {
            // A query string can carry a key (`?key=`): never echoed.
            set(
                headers,
                MODEL_API_BASE,
                base.split(['?', '#']).next().unwrap_or(""),
            );
        }
        if let Some(cost) = self.response_cost {
            set(headers, RESPONSE_COST, &cost.to_string());
        }
        if let Some(v) = self.response_ms {
            set(headers, RESPONSE_MS, &ms(v));
        }
        if let Some(v) = self.overhead_ms {
            set(headers, OVERHEAD_MS, &ms(v));
        }
        if let Some(n) = self.attempted_retries {
            headers.insert(RETRIES, HeaderValue::from(n));
        }
        if let Some(n) = self.attempted_fallbacks {
            headers.insert(FALLBACKS, HeaderValue::from(n));
        }
    }
}

/// An error response that still says which call it was.
pub fn error_response(e: ProxyError, call_id: Option<&str>) -> Response {
    let mut response = e.into_response();
    if let Some(id) = call_id {
        set(response.headers_mut(), CALL_ID, id);
    }
    response
}

/// A JSON response body.
pub fn json_response(body: impl Into<bytes::Bytes>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.into(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_with_three_decimals() {
        for (v, text) in [
            (0.0, "0.000"),
            (0.0004, "0.000"),
            (0.0456, "0.046"),
            (1.5, "1.500"),
            (12.3456, "12.346"),
            (1234.0, "1234.000"),
            (-3.0, "0.000"),
            (f64::NAN, "0.000"),
        ] {
            assert_eq!(ms(v), text, "{v}");
        }
    }

    #[test]
    fn the_first_credential_param_in_list_order_is_named() {
        let body = |v: Value| match v {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let b = body(serde_json::json!({"model": "m", "api_key": "k", "api_base": "http://x"}));
        assert_eq!(client_credential(&b), Some("api_base"));
        let b = body(serde_json::json!({"model": "m", "api_base": null, "vertex_project": "p"}));
        assert_eq!(client_credential(&b), Some("vertex_project"));
        let b = body(serde_json::json!({"model": "m", "messages": [], "api_base": null}));
        assert_eq!(client_credential(&b), None);
    }

    #[test]
    fn json_content_types() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/vnd.api+json",
        ] {
            assert!(is_json(ok), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "",
        ] {
            assert!(!is_json(bad), "{bad}");
        }
    }

    #[test]
    fn call_ids_are_uuids_in_time_order() {
        let first = call_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let later: Vec<String> = (0..100).map(|_| call_id()).collect();
        for id in &later {
            let parsed = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version_num(), 7, "{id}");
            assert_eq!(id.len(), 36);
            // Made a millisecond or more later: after the first in the index's order.
            assert!(id > &first, "{id} <= {first}");
        }
        let mut unique = later.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), later.len());
    }
}
