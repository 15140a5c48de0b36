//! The Files and Batches APIs on the proxy: `POST /v1/files` (multipart upload), `GET
//! /v1/files`, `GET /v1/files/{id}`, `GET /v1/files/{id}/content`, `DELETE
//! /v1/files/{id}`, `POST /v1/batches`, `GET /v1/batches`, `GET /v1/batches/{id}`, `POST
//! /v1/batches/{id}/cancel` (each also without `/v1`), served like the model routes
//! (`serve.rs`: auth, limits, Router, spend, logs and metrics).
//!
//! Which deployment: the group the body's (or query's) `model` names; else the first
//! OpenAI or Azure deployment (of `custom_llm_provider`'s provider when that is given)
//! the key may use, in config order.
//!
//! A file or batch belongs to the key that made it (its key hash; the master key's are
//! everyone's to the master key only): another virtual key gets a 404 for it, a list
//! shows a virtual key only its own, and a batch can only be made from the key's own
//! input file. Ids this process did not hand out (made before a restart, by another
//! instance, or upstream) are the master key's alone.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use super::serve::{serve, Family};
use super::uploads::begin_upload;
use super::{authenticate, call_id, client_credential, error_response, read_json_object, Begun};
use crate::files::FilesOp;
use crate::proxy::auth::{Identity, Role};
use crate::proxy::errors::ProxyError;
use crate::proxy::state::AppState;

/// How many files' and batches' makers are remembered (the oldest forgotten first).
const OWNERS_CAPACITY: usize = 100_000;

#[derive(Default)]
struct Owners {
    order: VecDeque<String>,
    owner: HashMap<String, Arc<str>>,
}

static OWNERS: Mutex<Option<Owners>> = Mutex::new(None);

/// Remember that the key `key_hash` (none: the master key) made file or batch `id`.
pub fn record_owner(id: &str, key_hash: Option<&Arc<str>>) {
    let mut guard = OWNERS.lock().unwrap_or_else(|e| e.into_inner());
    let owners = guard.get_or_insert_with(Owners::default);
    let owner = key_hash.cloned().unwrap_or_else(|| Arc::from(""));
    if owners.owner.insert(id.to_string(), owner).is_none() {
        owners.order.push_back(id.to_string());
    }
    while owners.order.len() > OWNERS_CAPACITY {
        if let Some(old) = owners.order.pop_front() {
            owners.owner.remove(&old);
        }
    }
}

/// Whether the key `key_hash` (of a virtual key; `None` for the master key) may see `id`.
pub fn may_see(key_hash: Option<&str>, virtual_key: bool, id: &str) -> bool {
    if !virtual_key {
        return true;
    }
    let guard = OWNERS.lock().unwrap_or_else(|e| e.into_inner());
    match (guard.as_ref().and_then(|o| o.owner.get(id)), key_hash) {
        (Some(owner), Some(key)) => **owner == *key,
        _ => false,
    }
}

fn is_virtual(identity: &Identity) -> bool {
    identity.role == Role::VirtualKey
}

fn not_found(what: &str, id: &str) -> ProxyError {
    ProxyError::new(
        StatusCode::NOT_FOUND,
        "not_found_error",
        format!("No such {what}: {id}"),
    )
}

/// The query parameters a files or batches GET takes; any other is refused (a query
/// must not carry `api_base` or a key to the call, as a body may not).
const QUERY_PARAMS: &[&str] = &[
    "model",
    "custom_llm_provider",
    "purpose",
    "after",
    "limit",
    "order",
];

/// The query's pairs, decoded; a parameter outside [`QUERY_PARAMS`] is a 400.
fn query_pairs(query: Option<&str>) -> Result<Map<String, Value>, ProxyError> {
    let mut out = Map::new();
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if !QUERY_PARAMS.contains(&k.as_ref()) {
            return Err(ProxyError::bad_param(
                &k,
                format!(
                    "unknown query parameter {k:?}: the files and batches routes take {}",
                    QUERY_PARAMS.join(", ")
                ),
            ));
        }
        out.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    Ok(out)
}

/// Name the group that serves the request in `body["model"]`: the one given, else the
/// first OpenAI or Azure deployment's the key may use.
fn choose_group(
    state: &AppState,
    identity: &Identity,
    body: &mut Map<String, Value>,
) -> Result<(), ProxyError> {
    if body
        .get("model")
        .and_then(Value::as_str)
        .is_some_and(|m| !m.is_empty())
    {
        return Ok(());
    }
    let wanted = body
        .get("custom_llm_provider")
        .and_then(Value::as_str)
        .map(str::to_string);
    for d in state.router.deployments() {
        if let Some(grant) = &identity.grant {
            if crate::proxy::keys::check_model(grant, &d.group, &d.group, &state.access_groups)
                .is_err()
            {
                continue;
            }
        }
        let text = |k: &str| d.params.get(k).and_then(Value::as_str);
        let Ok((_, provider)) = crate::providers::get_llm_provider(
            text("model").unwrap_or_default(),
            text("custom_llm_provider"),
            text("api_base"),
        ) else {
            continue;
        };
        let serves = match &wanted {
            Some(w) => *w == provider,
            None => crate::files::PROVIDERS.contains(&provider.as_str()),
        };
        if serves {
            body.insert("model".into(), Value::String(d.group.clone()));
            return Ok(());
        }
    }
    Err(ProxyError::bad_request(match wanted {
        Some(p) => format!("no deployment this key may use serves files and batches on '{p}'; name one with model=..."),
        None => "no OpenAI or Azure deployment this key may use serves files and batches; name one with model=...".to_string(),
    }))
}

/// Authenticate a request without a body and make its call's body from the query.
async fn begin_query(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    route: &str,
) -> Result<Begun, ProxyError> {
    let started = std::time::Instant::now();
    let identity = authenticate(state, headers, route).await?;
    Ok(Begun {
        started,
        call_id: call_id(),
        identity,
        body: query_pairs(query)?,
    })
}

async fn run(state: Arc<AppState>, mut begun: Begun, op: FilesOp) -> Response {
    if let Err(e) = choose_group(&state, &begun.identity, &mut begun.body) {
        return error_response(e, Some(&begun.call_id));
    }
    // The connection comes from the deployment; a client names none.
    begun.body.remove("custom_llm_provider");
    serve(state, begun, Family::Files(op)).await
}

/// What serve does with a files reply before answering: remember who made a new file or
/// batch, and show a virtual key only its own in a list.
pub fn after_reply(
    op: FilesOp,
    body: &mut Map<String, Value>,
    key_hash: Option<&Arc<str>>,
    virtual_key: bool,
) {
    match op {
        FilesOp::CreateFile | FilesOp::CreateBatch => {
            if let Some(id) = body.get("id").and_then(Value::as_str) {
                record_owner(id, key_hash);
            }
        }
        FilesOp::ListFiles | FilesOp::ListBatches if virtual_key => {
            if let Some(Value::Array(data)) = body.get_mut("data") {
                data.retain(|item| {
                    item.get("id")
                        .and_then(Value::as_str)
                        .is_some_and(|id| may_see(key_hash.map(|k| &**k), true, id))
                });
            }
        }
        _ => {}
    }
}

/// `POST /v1/files`: upload (multipart: `file`, `purpose`, optional `model` or
/// `custom_llm_provider`).
pub async fn create_file(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match begin_upload(&state, &headers, body, "/files").await {
        // The temporary file lives until the upload is answered.
        Ok((begun, _files)) => run(state, begun, FilesOp::CreateFile).await,
        Err(e) => error_response(e, None),
    }
}

/// `GET /v1/files` (`?purpose=`, `?model=` or `?custom_llm_provider=`).
pub async fn list_files(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    match begin_query(&state, &headers, query.as_deref(), "/files").await {
        Ok(begun) => run(state, begun, FilesOp::ListFiles).await,
        Err(e) => error_response(e, None),
    }
}

async fn file_by_id(
    state: Arc<AppState>,
    id: String,
    query: Option<String>,
    headers: HeaderMap,
    op: FilesOp,
) -> Response {
    match begin_query(&state, &headers, query.as_deref(), "/files").await {
        Ok(mut begun) => {
            let identity = &begun.identity;
            if !may_see(identity.key_hash.as_deref(), is_virtual(identity), &id) {
                return error_response(not_found("File", &id), Some(&begun.call_id));
            }
            begun.body.insert("file_id".into(), Value::String(id));
            run(state, begun, op).await
        }
        Err(e) => error_response(e, None),
    }
}

/// `GET /v1/files/{id}`.
pub async fn retrieve_file(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    file_by_id(state, id, query, headers, FilesOp::RetrieveFile).await
}

/// `GET /v1/files/{id}/content`: the file's bytes.
pub async fn file_content(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    file_by_id(state, id, query, headers, FilesOp::FileContent).await
}

/// `DELETE /v1/files/{id}`.
pub async fn delete_file(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    file_by_id(state, id, query, headers, FilesOp::DeleteFile).await
}

/// `POST /v1/batches` (OpenAI's body: `input_file_id`, `endpoint`, `completion_window`,
/// `metadata`; optional `model` or `custom_llm_provider`).
pub async fn create_batch(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match begin_batch(&state, &headers, body).await {
        Ok(begun) => {
            let identity = &begun.identity;
            let input = begun
                .body
                .get("input_file_id")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !input.is_empty()
                && !may_see(identity.key_hash.as_deref(), is_virtual(identity), input)
            {
                return error_response(not_found("File", input), Some(&begun.call_id));
            }
            run(state, begun, FilesOp::CreateBatch).await
        }
        Err(e) => error_response(e, None),
    }
}

/// [`super::begin`] for `POST /batches`, where `custom_llm_provider` picks the deployment
/// rather than setting a connection.
async fn begin_batch(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Begun, ProxyError> {
    let started = std::time::Instant::now();
    let identity = authenticate(state, headers, "/batches").await?;
    let mut body = read_json_object(state, headers, body).await?;
    let selector = body.remove("custom_llm_provider");
    if !state.settings.allow_client_side_credentials {
        if let Some(param) = client_credential(&body) {
            return Err(ProxyError::bad_param(
                param,
                format!(
                    "Rejected Request: {param} is not allowed in request body. Enable with `general_settings::allow_client_side_credentials` on proxy config.yaml."
                ),
            ));
        }
    }
    if let Some(forced) = &state.settings.forced_params {
        for (k, v) in forced {
            body.insert(k.clone(), v.clone());
        }
    }
    if let Some(selector) = selector {
        body.insert("custom_llm_provider".into(), selector);
    }
    Ok(Begun {
        started,
        call_id: call_id(),
        identity,
        body,
    })
}

/// `GET /v1/batches` (`?after=`, `?limit=`).
pub async fn list_batches(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    match begin_query(&state, &headers, query.as_deref(), "/batches").await {
        Ok(begun) => run(state, begun, FilesOp::ListBatches).await,
        Err(e) => error_response(e, None),
    }
}

async fn batch_by_id(
    state: Arc<AppState>,
    id: String,
    query: Option<String>,
    headers: HeaderMap,
    op: FilesOp,
) -> Response {
    match begin_query(&state, &headers, query.as_deref(), "/batches").await {
        Ok(mut begun) => {
            let identity = &begun.identity;
            if !may_see(identity.key_hash.as_deref(), is_virtual(identity), &id) {
                return error_response(not_found("Batch", &id), Some(&begun.call_id));
            }
            begun.body.insert("batch_id".into(), Value::String(id));
            run(state, begun, op).await
        }
        Err(e) => error_response(e, None),
    }
}

/// `GET /v1/batches/{id}`.
pub async fn retrieve_batch(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    batch_by_id(state, id, query, headers, FilesOp::RetrieveBatch).await
}

/// `POST /v1/batches/{id}/cancel`.
pub async fn cancel_batch(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    batch_by_id(state, id, query, headers, FilesOp::CancelBatch).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_its_makers() {
        let a: Arc<str> = Arc::from("hash-a");
        record_owner("file-owned-by-a", Some(&a));
        assert!(may_see(Some("hash-a"), true, "file-owned-by-a"));
        assert!(!may_see(Some("hash-b"), true, "file-owned-by-a"));
        assert!(may_see(None, false, "file-owned-by-a"));
        assert!(!may_see(Some("hash-a"), true, "file-unknown"));
        let mut list =
            serde_json::json!({"data": [{"id": "file-owned-by-a"}, {"id": "file-unknown"}]});
        if let Some(body) = list.as_object_mut() {
            after_reply(FilesOp::ListFiles, body, Some(&a), true);
        }
        assert_eq!(list["data"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn a_query_carries_no_connection_settings() {
        let ok = query_pairs(Some("purpose=batch&model=a%2Fb&limit=2")).unwrap_or_default();
        assert_eq!(ok.get("model"), Some(&Value::from("a/b")));
        for bad in [
            "api_base=http://elsewhere",
            "api_key=sk-x",
            "purpose=batch&headers=x",
        ] {
            assert!(query_pairs(Some(bad)).is_err(), "{bad}");
        }
    }
}
