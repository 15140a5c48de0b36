//! LiteLLM's key management routes: `/key/generate`, `/key/info`, `/key/update`,
//! `/key/delete`, `/key/list`, `/key/regenerate`, `/key/block`, `/key/unblock`.
//!
//! A key is `sk-` and 192 random bits (LiteLLM's are 128), stored only as its SHA-256
//! hex (`token`); the plain key is in the answer of `/key/generate` and
//! `/key/regenerate` and nowhere else (`key_name` shows `sk-...` and its last four
//! characters). `spend` is shown, never set here.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::admin::{
    admin, admin_with_body, commit, db_error, forbidden, not_found, now_iso, query_fields, reply,
    AdminCall, Fields,
};
use crate::proxy::auth::hash_key;
use crate::proxy::errors::ProxyError;
use crate::proxy::state::AppState;
use crate::proxy::store::records::{Param, Tx, KEYS, TEAMS};
use crate::proxy::store::{time, Store};

/// A new random key: `sk-` and 24 bytes from the operating system's generator.
pub fn new_key() -> Result<String, ProxyError> {
    use base64::Engine;
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 24];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| {
            ProxyError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal_server_error",
                "the system random number generator failed",
            )
        })?;
    Ok(format!(
        "sk-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// LiteLLM's `abbreviate_api_key`: `sk-...` and the last four characters.
pub fn key_name(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("sk-...{tail}")
}

/// The stored `token` a request names: a plain key (`sk-...`) is hashed, anything else
/// is taken as the hash itself (LiteLLM accepts both).
pub fn token_of(key: &str) -> String {
    if key.starts_with("sk-") {
        hash_key(key)
    } else {
        key.to_string()
    }
}

/// The columns a generate, update or regenerate body sets, checked (400 naming the
/// field) before anything is written.
pub fn key_columns(f: &Fields, row: &mut Map<String, Value>) -> Result<(), ProxyError> {
    for name in [
        "key_alias",
        "user_id",
        "team_id",
        "budget_id",
        "organization_id",
    ] {
        if f.0.contains_key(name) {
            row.insert(
                name.into(),
                f.string(name)?.map(Value::from).unwrap_or(Value::Null),
            );
        }
    }
    f.models_budget_and_limits(row)?;
    if f.0.contains_key("duration") {
        // `duration: null` on update: never expires.
        let expires = f
            .duration("duration")?
            .map(|(_, secs)| json!(time::iso(time::now_ms() + secs * 1000)))
            .unwrap_or(Value::Null);
        row.insert("expires".into(), expires);
    }
    if f.0.contains_key("blocked") {
        row.insert("blocked".into(), json!(f.boolean("blocked")?));
    }
    for name in ["aliases", "config", "permissions", "model_max_budget"] {
        if let Some(m) = f.object(name)? {
            row.insert(name.into(), Value::Object(m));
        }
    }
    if f.strings("allowed_routes")?.is_some_and(|r| !r.is_empty()) {
        // Not enforced by rustllm: storing it would promise a restriction that does
        // not hold (and LiteLLM's unchecked allowed_routes was CVE-2026-47101).
        return Err(ProxyError::bad_param(
            "allowed_routes",
            "allowed_routes is not supported by rustllm: a virtual key may call the model routes and its own /key/info",
        ));
    }
    // LiteLLM keeps per-model limits and tags in the metadata.
    let model_rpm = f.limits_by_model("model_rpm_limit")?;
    let model_tpm = f.limits_by_model("model_tpm_limit")?;
    let tags = f.strings("tags")?;
    let guardrails = f.strings("guardrails")?;
    let metadata = f.object("metadata")?;
    if metadata.is_some()
        || model_rpm.is_some()
        || model_tpm.is_some()
        || tags.is_some()
        || guardrails.is_some()
    {
        let mut meta = metadata.unwrap_or_default();
        for name in ["model_rpm_limit", "model_tpm_limit"] {
            if meta.contains_key(name) {
                let inner = Fields(meta.clone());
                inner.limits_by_model(name)?;
            }
        }
        if let Some(m) = model_rpm {
            meta.insert("model_rpm_limit".into(), Value::Object(m));
        }
        if let Some(m) = model_tpm {
            meta.insert("model_tpm_limit".into(), Value::Object(m));
        }
        if let Some(t) = tags {
            meta.insert("tags".into(), json!(t));
        }
        // LiteLLM's `/key/generate` `guardrails`: kept in the metadata, where the
        // request path reads them (with the team's).
        if let Some(g) = guardrails {
            meta.insert("guardrails".into(), json!(g));
        }
        row.insert("metadata".into(), Value::Object(meta));
    }
    Ok(())
}

/// Refuse a `team_id` that names no team, and a `key_alias` another key has (LiteLLM's
/// `_enforce_unique_key_alias`). Runs inside the write transaction.
async fn check_references(
    store: &Store,
    tx: &mut Tx,
    row: &Map<String, Value>,
    token: &str,
) -> Result<(), ProxyError> {
    if let Some(team) = row.get("team_id").and_then(Value::as_str) {
        let found = store
            .select_in(tx, &TEAMS, "\"team_id\" = $1", &[team.into()])
            .await
            .map_err(db_error)?;
        if found.is_empty() {
            return Err(ProxyError::bad_param(
                "team_id",
                format!("Team not found, passed team_id={team}"),
            ));
        }
    }
    if let Some(alias) = row.get("key_alias").and_then(Value::as_str) {
        let others = store
            .select_in(
                tx,
                &KEYS,
                "\"key_alias\" = $1 AND \"token\" <> $2",
                &[alias.into(), token.into()],
            )
            .await
            .map_err(db_error)?;
        if !others.is_empty() {
            return Err(ProxyError::bad_param(
                "key_alias",
                format!("Unique key aliases across all keys are required. Key alias '{alias}' already exists."),
            ));
        }
    }
    Ok(())
}

/// Apply this instance's own write to its keys and budgets in memory at once.
pub async fn refresh(state: &AppState, store: &Store) {
    if let Some(cache) = &state.key_cache {
        let _ = cache.sync(store).await;
    }
    if let Some(writer) = &state.spend_writer {
        writer.refresh_budgets().await;
    }
}

/// A key row as the admin API shows it (`token` is the hash).
fn shown(mut row: Map<String, Value>) -> Map<String, Value> {
    row.remove("model_spend");
    row
}

/// Create a key from a checked body; the row and the plain key. Shared with
/// `/user/new`, which creates one for the new user.
pub async fn create_key(
    call: &AdminCall<'_>,
    tx: &mut Tx,
    f: &Fields,
    mut row: Map<String, Value>,
) -> Result<(Map<String, Value>, String), ProxyError> {
    let key = match f.string("key")? {
        Some(k) if k.starts_with("sk-") && k.len() >= 8 => k,
        Some(_) => {
            return Err(ProxyError::bad_param(
                "key",
                "Invalid key format. LiteLLM Virtual Key must start with 'sk-'.",
            ))
        }
        None => new_key()?,
    };
    let token = hash_key(&key);
    call.store
        .record_change(tx, &KEYS, &token)
        .await
        .map_err(db_error)?;
    check_references(call.store, tx, &row, &token).await?;
    let existing = call
        .store
        .select_in(tx, &KEYS, "\"token\" = $1", &[token.as_str().into()])
        .await
        .map_err(db_error)?;
    if !existing.is_empty() {
        return Err(ProxyError::bad_param("key", "this key already exists"));
    }
    let now = now_iso();
    row.insert("token".into(), json!(token));
    row.insert("key_name".into(), json!(key_name(&key)));
    row.insert("created_at".into(), json!(now));
    row.insert("updated_at".into(), json!(now));
    row.insert("created_by".into(), json!(call.actor()));
    row.insert("updated_by".into(), json!(call.actor()));
    call.store.insert(tx, &KEYS, &row).await.map_err(db_error)?;
    let stored = call
        .store
        .select_in(tx, &KEYS, "\"token\" = $1", &[token.as_str().into()])
        .await
        .map_err(db_error)?
        .into_iter()
        .next()
        .unwrap_or(row);
    Ok((stored, key))
}

/// GenerateKeyResponse: the row, the plain key (this once) and its hash as `token_id`.
pub fn generated(row: Map<String, Value>, key: &str, f: &Fields) -> Map<String, Value> {
    let mut out = shown(row);
    if let Some(Value::String(token)) = out.remove("token") {
        out.insert("token_id".into(), json!(token));
    }
    out.insert("key".into(), json!(key));
    if f.has("duration") {
        out.insert("duration".into(), f.raw("duration"));
    }
    out
}

/// `POST /key/generate`.
pub async fn generate(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let (call, f) = admin_with_body(&state, &headers, "/key/generate", body).await?;
        let mut row = Map::new();
        key_columns(&f, &mut row)?;
        let mut tx = call.store.begin_write().await.map_err(db_error)?;
        let (row, key) = create_key(&call, &mut tx, &f, row).await?;
        commit(tx).await?;
        refresh(&state, call.store).await;
        let token = row.get("token").and_then(Value::as_str).unwrap_or("");
        call.audit(&state, "created", KEYS.name, token, None, Some(&row));
        Ok::<_, ProxyError>(Value::Object(generated(row, &key, &f)))
    }
    .await;
    respond(result)
}

/// An admin route's result as a response.
pub fn respond(result: Result<Value, ProxyError>) -> Response {
    match result {
        Ok(v) => reply(v),
        Err(e) => axum::response::IntoResponse::into_response(e),
    }
}

/// Whether a virtual key may read the key row `row`: its own key, or a key of the same
/// user. A key never sees another team's or user's keys.
fn may_read(call: &AdminCall<'_>, row: &Map<String, Value>) -> bool {
    if call.is_admin() {
        return true;
    }
    let own = call.identity.key_hash.as_deref();
    if own.is_some() && row.get("token").and_then(Value::as_str) == own {
        return true;
    }
    let user = call
        .identity
        .grant
        .as_ref()
        .and_then(|g| g.user_id.as_deref());
    user.is_some() && row.get("user_id").and_then(Value::as_str) == user
}

/// `GET /key/info?key=...` (without `key`: the caller's own key).
pub async fn info(State(state): State<Arc<AppState>>, headers: HeaderMap, uri: Uri) -> Response {
    let result = async {
        let call = admin(&state, &headers, "/key/info").await?;
        let q = query_fields(&uri);
        let token = match q.string("key")? {
            Some(k) => token_of(&k),
            None => match call.identity.key_hash.as_deref() {
                Some(own) => own.to_string(),
                None => return Err(ProxyError::bad_param("key", "key is required")),
            },
        };
        let row = call.store.get(&KEYS, &token).await.map_err(db_error)?;
        let Some(row) = row else {
            if !call.is_admin() {
                return Err(forbidden(
                    "You are not allowed to access this key's info. Your role=unknown",
                ));
            }
            return Err(not_found("key", "Key not found in database"));
        };
        if !may_read(&call, &row) {
            return Err(forbidden(
                "You are not allowed to access this key's info. Your role=unknown",
            ));
        }
        Ok(json!({"key": token, "info": shown(row)}))
    }
    .await;
    respond(result)
}

/// `GET /key/list`: `page`, `size` (≤ 100), `user_id`, `team_id`, `key_alias`,
/// `return_full_object`. A virtual key lists only its own (or its user's) keys.
pub async fn list(State(state): State<Arc<AppState>>, headers: HeaderMap, uri: Uri) -> Response {
    let result = async {
        let call = admin(&state, &headers, "/key/list").await?;
        let q = query_fields(&uri);
        let number = |name: &str, default: i64| -> Result<i64, ProxyError> {
            match q.string(name)? {
                None => Ok(default),
                Some(s) => s.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    ProxyError::bad_param(name, format!("{name} must be a positive integer"))
                }),
            }
        };
        let page = number("page", 1)?;
        let size = number("size", 10)?.min(100);
        let mut conditions: Vec<String> = Vec::new();
        let mut params: Vec<Param> = Vec::new();
        for name in ["user_id", "team_id", "key_alias"] {
            if let Some(v) = q.string(name)? {
                params.push(v.into());
                conditions.push(format!("\"{name}\" = ${}", params.len()));
            }
        }
        if !call.is_admin() {
            let user = call.identity.grant.as_ref().and_then(|g| g.user_id.clone());
            match user {
                Some(u) => {
                    params.push(u.into());
                    conditions.push(format!("\"user_id\" = ${}", params.len()));
                }
                None => {
                    let own = call.identity.key_hash.as_deref().unwrap_or("");
                    params.push(own.into());
                    conditions.push(format!("\"token\" = ${}", params.len()));
                }
            }
        }
        let condition = if conditions.is_empty() {
            "1 = 1".to_string()
        } else {
            conditions.join(" AND ")
        };
        let total = call
            .store
            .count(&KEYS, &condition, &params)
            .await
            .map_err(db_error)?;
        let mut paged = params.clone();
        paged.push(Param::I64(Some(size)));
        paged.push(Param::I64(Some((page - 1) * size)));
        let rows = call
            .store
            .select(
                &KEYS,
                &format!(
                    "{condition} ORDER BY \"created_at\" DESC, \"token\" LIMIT ${} OFFSET ${}",
                    params.len() + 1,
                    params.len() + 2
                ),
                &paged,
            )
            .await
            .map_err(db_error)?;
        let full = q
            .string("return_full_object")?
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let keys: Vec<Value> = rows
            .into_iter()
            .map(|r| {
                if full {
                    Value::Object(shown(r))
                } else {
                    r.get("token").cloned().unwrap_or(Value::Null)
                }
            })
            .collect();
        Ok(json!({
            "keys": keys,
            "total_count": total,
            "current_page": page,
            "total_pages": (total + size - 1) / size,
        }))
    }
    .await;
    respond(result)
}

/// Update the key `token` with `changes` in one transaction; the row after.
async fn update_key(
    state: &AppState,
    call: &AdminCall<'_>,
    token: &str,
    mut changes: Map<String, Value>,
    action: &str,
) -> Result<Map<String, Value>, ProxyError> {
    let store = call.store;
    let mut tx = store.begin_change(&KEYS, token).await.map_err(db_error)?;
    let found = store
        .select_in(&mut tx, &KEYS, "\"token\" = $1", &[token.into()])
        .await
        .map_err(db_error)?;
    if found.is_empty() {
        return Err(not_found("key", "Key not found in database"));
    }
    check_references(store, &mut tx, &changes, token).await?;
    changes.insert("updated_at".into(), json!(now_iso()));
    changes.insert("updated_by".into(), json!(call.actor()));
    store
        .update(&mut tx, &KEYS, token, &changes)
        .await
        .map_err(db_error)?;
    let row = store
        .select_in(&mut tx, &KEYS, "\"token\" = $1", &[token.into()])
        .await
        .map_err(db_error)?
        .into_iter()
        .next()
        .unwrap_or_default();
    commit(tx).await?;
    refresh(state, store).await;
    call.audit(state, action, KEYS.name, token, found.first(), Some(&row));
    Ok(row)
}

/// `POST /key/update`: `{key, ...fields}`; answers `{key: <hash>, ...what changed}`.
pub async fn update(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let (call, f) = admin_with_body(&state, &headers, "/key/update", body).await?;
        let token = token_of(&f.required("key")?);
        let mut changes = Map::new();
        key_columns(&f, &mut changes)?;
        update_key(&state, &call, &token, changes.clone(), "updated").await?;
        let mut out = changes;
        out.insert("key".into(), json!(token));
        Ok(Value::Object(out))
    }
    .await;
    respond(result)
}

/// `POST /key/block` and `/key/unblock`: `{key}`; the key row after.
async fn set_blocked(
    state: Arc<AppState>,
    headers: HeaderMap,
    body: Body,
    blocked: bool,
) -> Response {
    let route = if blocked {
        "/key/block"
    } else {
        "/key/unblock"
    };
    let result = async {
        let (call, f) = admin_with_body(&state, &headers, route, body).await?;
        let token = token_of(&f.required("key")?);
        let mut changes = Map::new();
        changes.insert("blocked".into(), json!(blocked));
        Ok(Value::Object(shown(
            update_key(
                &state,
                &call,
                &token,
                changes,
                if blocked { "blocked" } else { "unblocked" },
            )
            .await?,
        )))
    }
    .await;
    respond(result)
}

/// `POST /key/block`.
pub async fn block(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    set_blocked(state, headers, body, true).await
}

/// `POST /key/unblock`.
pub async fn unblock(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    set_blocked(state, headers, body, false).await
}

/// `POST /key/delete`: `{keys: [...]}` and/or `{key_aliases: [...]}`. All or nothing:
/// when one is not found nothing is deleted (400, as LiteLLM).
pub async fn delete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let (call, f) = admin_with_body(&state, &headers, "/key/delete", body).await?;
        let keys = f.strings("keys")?.unwrap_or_default();
        let aliases = f.strings("key_aliases")?.unwrap_or_default();
        if keys.is_empty() && aliases.is_empty() {
            return Err(ProxyError::bad_param(
                "keys",
                "At least one of 'keys' or 'key_aliases' must be provided.",
            ));
        }
        let store = call.store;
        let mut tx = store.begin_write().await.map_err(db_error)?;
        let mut tokens: Vec<String> = keys.iter().map(|k| token_of(k)).collect();
        for alias in &aliases {
            let rows = store
                .select_in(&mut tx, &KEYS, "\"key_alias\" = $1", &[alias.as_str().into()])
                .await
                .map_err(db_error)?;
            tokens.extend(rows.iter().filter_map(|r| r.get("token")?.as_str().map(str::to_string)));
        }
        let requested = keys.len() + aliases.len();
        let mut deleted = 0;
        let mut gone = Vec::new();
        for token in &tokens {
            store.record_change(&mut tx, &KEYS, token).await.map_err(db_error)?;
            gone.extend(
                store
                    .select_in(&mut tx, &KEYS, "\"token\" = $1", &[token.as_str().into()])
                    .await
                    .map_err(db_error)?,
            );
            deleted += store
                .delete_where(&mut tx, &KEYS, "\"token\" = $1", &[token.as_str().into()])
                .await
                .map_err(db_error)?;
        }
        if (deleted as usize) < requested {
            return Err(ProxyError::bad_request(format!(
                "Failed to delete all keys. Keys passed in request: {requested}. Keys deleted: {deleted}"
            )));
        }
        commit(tx).await?;
        refresh(&state, store).await;
        for row in &gone {
            let token = row.get("token").and_then(Value::as_str).unwrap_or("");
            call.audit(&state, "deleted", KEYS.name, token, Some(row), None);
        }
        let shown: Vec<String> = keys.iter().map(|k| token_of(k)).chain(aliases).collect();
        Ok(json!({"deleted_keys": shown}))
    }
    .await;
    respond(result)
}

/// `POST /key/regenerate` (`{key, new_key?, ...}`) and `/key/{key}/regenerate`: a new
/// key for the same row (the old one stops working), returned once.
pub async fn regenerate(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    regenerate_impl(state, headers, body, None).await
}

/// `POST /key/{key}/regenerate`.
pub async fn regenerate_path(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    regenerate_impl(state, headers, body, Some(key)).await
}

async fn regenerate_impl(
    state: Arc<AppState>,
    headers: HeaderMap,
    body: Body,
    path_key: Option<String>,
) -> Response {
    let result = async {
        let call = admin(&state, &headers, "/key/regenerate").await?;
        let empty = headers
            .get(axum::http::header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() == b"0");
        let f = if empty {
            Fields(Map::new())
        } else {
            Fields(
                super::read_json_object(&state, &headers, body)
                    .await
                    .or_else(|e| {
                        // A body-less POST (no Content-Length, nothing sent) is fine here.
                        if path_key.is_some() {
                            Ok(Map::new())
                        } else {
                            Err(e)
                        }
                    })?,
            )
        };
        let old = match (path_key, f.string("key")?) {
            (Some(k), _) | (None, Some(k)) => token_of(&k),
            (None, None) => return Err(ProxyError::bad_param("key", "key is required")),
        };
        let new = match f.string("new_key")? {
            Some(k) if k.starts_with("sk-") && k.len() >= 8 => k,
            Some(_) => {
                return Err(ProxyError::bad_param(
                    "new_key",
                    "Invalid key format. LiteLLM Virtual Key must start with 'sk-'.",
                ))
            }
            None => new_key()?,
        };
        let mut changes = Map::new();
        key_columns(&f, &mut changes)?;
        changes.remove("key");
        let new_token = hash_key(&new);
        changes.insert("token".into(), json!(new_token));
        changes.insert("key_name".into(), json!(key_name(&new)));
        let store = call.store;
        let mut tx = store.begin_change(&KEYS, &old).await.map_err(db_error)?;
        store
            .record_change(&mut tx, &KEYS, &new_token)
            .await
            .map_err(db_error)?;
        let found = store
            .select_in(&mut tx, &KEYS, "\"token\" = $1", &[old.as_str().into()])
            .await
            .map_err(db_error)?;
        if found.is_empty() {
            return Err(not_found("key", "Key not found in database"));
        }
        check_references(store, &mut tx, &changes, &old).await?;
        changes.insert("updated_at".into(), json!(now_iso()));
        changes.insert("updated_by".into(), json!(call.actor()));
        store
            .update(&mut tx, &KEYS, &old, &changes)
            .await
            .map_err(db_error)?;
        let row = store
            .select_in(
                &mut tx,
                &KEYS,
                "\"token\" = $1",
                &[new_token.as_str().into()],
            )
            .await
            .map_err(db_error)?
            .into_iter()
            .next()
            .unwrap_or_default();
        commit(tx).await?;
        refresh(&state, store).await;
        call.audit(
            &state,
            "rotated",
            KEYS.name,
            &new_token,
            found.first(),
            Some(&row),
        );
        Ok(Value::Object(generated(row, &new, &f)))
    }
    .await;
    respond(result)
}
