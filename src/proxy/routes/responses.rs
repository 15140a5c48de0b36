//! `POST /responses` and `/v1/responses` (the Responses API: native on OpenAI and Azure
//! deployments, bridged over chat completions on the others), and `GET` / `DELETE
//! /v1/responses/{id}` for stored Responses.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use super::serve::{serve, Family};
use super::{authenticate, begin, error_response, json_response};
use crate::error::ErrorKind;
use crate::proxy::auth::{Identity, Role};
use crate::proxy::errors::ProxyError;
use crate::proxy::state::AppState;

/// A Response from the group `model` names, with the same auth, limits, spend, logs and
/// metrics as chat; `stream: true` answers with the typed events.
pub async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match begin(&state, &headers, body, "/responses").await {
        Ok(begun) => {
            let previous = begun
                .body
                .get("previous_response_id")
                .and_then(Value::as_str);
            if let Some(id) = previous.filter(|id| !may_use(&begun.identity, id)) {
                return error_response(not_found_previous(id), Some(&begun.call_id));
            }
            serve(state, begun, Family::Responses).await
        }
        Err(e) => error_response(e, None),
    }
}

/// How many Responses' makers are remembered (the oldest forgotten first).
const OWNERS_CAPACITY: usize = 100_000;

/// Which key made each Response this process served (its key hash; empty for the
/// master key or without auth), so that one key cannot read, delete or continue
/// another's Response by its id: a bridged Response's turns are the conversation itself,
/// and a native one lives in the deployment's account, shared by every key.
#[derive(Default)]
struct Owners {
    order: VecDeque<String>,
    owner: HashMap<String, Arc<str>>,
}

static OWNERS: Mutex<Option<Owners>> = Mutex::new(None);

/// Remember that `identity` made Response `id`.
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

/// Whether `identity` may read, delete or continue Response `id`: the master key may,
/// and so may the key that made it. A Response this process did not serve (another
/// instance's, or one from before a restart) is left to the provider's own check.
fn may_use(identity: &Identity, id: &str) -> bool {
    if identity.role != Role::VirtualKey {
        return true;
    }
    let guard = OWNERS.lock().unwrap_or_else(|e| e.into_inner());
    match guard.as_ref().and_then(|o| o.owner.get(id)) {
        None => true,
        Some(owner) => identity.key_hash.as_deref() == Some(&**owner),
    }
}

fn not_found(id: &str) -> ProxyError {
    ProxyError::new(
        StatusCode::NOT_FOUND,
        "not_found_error",
        format!("Response {id:?} not found"),
    )
}

fn not_found_previous(id: &str) -> ProxyError {
    ProxyError::new(
        StatusCode::NOT_FOUND,
        "not_found_error",
        format!("Previous response with id {id:?} not found."),
    )
}

/// `GET /v1/responses/{id}`.
pub async fn get(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    by_id(state, id, query, headers, false).await
}

/// `DELETE /v1/responses/{id}`.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    by_id(state, id, query, headers, true).await
}

/// The group `?model=` names, if any.
fn model_in_query(query: Option<&str>) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == "model").then(|| v.replace("%2F", "/").replace("%2f", "/"))
    })
}

/// A Response is stored by the deployment that made it, and its id does not say which:
/// the OpenAI and Azure deployments the key may use (those of `?model=` when given) are
/// asked in config order until one knows it. A bridged Response is answered from the
/// proxy's own store.
async fn by_id(
    state: Arc<AppState>,
    id: String,
    query: Option<String>,
    headers: HeaderMap,
    delete: bool,
) -> Response {
    let identity = match authenticate(&state, &headers, "/responses").await {
        Ok(i) => i,
        Err(e) => return error_response(e, None),
    };
    if !may_use(&identity, &id) {
        return error_response(not_found(&id), None);
    }
    if crate::responses::store::contains(&id) {
        let mut kwargs = Map::new();
        kwargs.insert("response_id".into(), Value::String(id));
        return answer(crate::call::response_by_id(kwargs, delete).await);
    }
    let wanted = model_in_query(query.as_deref());
    let mut last = None;
    for d in state.router.deployments() {
        if wanted.as_deref().is_some_and(|m| m != d.group) {
            continue;
        }
        if let Some(grant) = &identity.grant {
            if crate::proxy::keys::check_model(grant, &d.group, &d.group, &state.access_groups)
                .is_err()
            {
                continue;
            }
        }
        let text = |k: &str| d.params.get(k).and_then(Value::as_str);
        let native = crate::providers::get_llm_provider(
            text("model").unwrap_or_default(),
            text("custom_llm_provider"),
            text("api_base"),
        )
        .is_ok_and(|(_, p)| crate::responses::is_native(&p));
        if !native {
            continue;
        }
        let mut kwargs: Map<String, Value> = d
            .params
            .iter()
            .filter(|(k, _)| !super::health::ROUTER_ONLY.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // `response_by_id` reads the provider from `custom_llm_provider`.
        if let Ok((model, provider)) = crate::providers::get_llm_provider(
            text("model").unwrap_or_default(),
            text("custom_llm_provider"),
            text("api_base"),
        ) {
            kwargs.insert("model".into(), Value::String(model));
            kwargs.insert("custom_llm_provider".into(), Value::String(provider));
        }
        kwargs.insert("response_id".into(), Value::String(id.clone()));
        match crate::call::response_by_id(kwargs, delete).await {
            Err(e) if e.kind == ErrorKind::NotFound => last = Some(e),
            other => return answer(other),
        }
    }
    match last {
        Some(e) => error_response(ProxyError::from_llm(&e), None),
        None => error_response(
            ProxyError::new(
                StatusCode::NOT_FOUND,
                "not_found_error",
                format!("Response {id:?} not found: no OpenAI or Azure deployment this key may use stores it (responses live with the deployment that made them)"),
            ),
            None,
        ),
    }
}

fn answer(result: Result<crate::call::Reply, crate::error::LlmError>) -> Response {
    match result {
        Ok(reply) => match serde_json::to_vec(&reply.body) {
            Ok(bytes) => json_response(bytes),
            Err(e) => error_response(
                ProxyError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_server_error",
                    format!("the reply could not be encoded: {e}"),
                ),
                None,
            ),
        },
        Err(e) => error_response(ProxyError::from_llm(&e), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(hash: &str) -> Identity {
        Identity {
            role: Role::VirtualKey,
            key_hash: Some(Arc::from(hash)),
            grant: None,
        }
    }

    #[test]
    fn only_its_maker_and_the_master_key_may_use_a_response() {
        record_owner("resp-owned-by-a", Some(&Arc::from("hash-a")));
        assert!(may_use(&key("hash-a"), "resp-owned-by-a"));
        assert!(!may_use(&key("hash-b"), "resp-owned-by-a"));
        let master = Identity {
            role: Role::ProxyAdmin,
            key_hash: Some(Arc::from("hash-master")),
            grant: None,
        };
        assert!(may_use(&master, "resp-owned-by-a"));
        // One the master key made is the master key's.
        record_owner("resp-owned-by-admin", None);
        assert!(!may_use(&key("hash-a"), "resp-owned-by-admin"));
        // Unknown here (another instance's): left to the provider.
        assert!(may_use(&key("hash-b"), "resp-never-seen"));
    }
}
