//! LiteLLM's user routes: `/user/new` (with a key for the user unless
//! `auto_create_key: false`), `/user/info`, `/user/update`, `/user/delete`. A user's
//! limits reach every key of the user (the limiter reads them from the key's grant).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::admin::{
    admin, admin_with_body, commit, db_error, not_found, now_iso, query_fields, Fields,
};
use super::admin_keys::{create_key, generated, key_columns, refresh, respond};
use super::admin_teams::{add_member, remove_member, Member};
use crate::proxy::errors::ProxyError;
use crate::proxy::state::AppState;
use crate::proxy::store::records::{Param, KEYS, MEMBERSHIPS, TEAMS, USERS};

/// The roles `/user/new` and `/user/update` accept (LiteLLM's `NewUserRequest`).
const USER_ROLES: &[&str] = &[
    "proxy_admin",
    "proxy_admin_viewer",
    "internal_user",
    "internal_user_viewer",
];

/// The columns a user body sets.
fn user_columns(f: &Fields, row: &mut Map<String, Value>) -> Result<(), ProxyError> {
    for name in ["user_alias", "user_email", "organization_id"] {
        if f.0.contains_key(name) {
            row.insert(
                name.into(),
                f.string(name)?.map(Value::from).unwrap_or(Value::Null),
            );
        }
    }
    if let Some(role) = f.string("user_role")? {
        if !USER_ROLES.contains(&role.as_str()) {
            return Err(ProxyError::bad_param(
                "user_role",
                format!(
                    "user_role must be one of {}, got {role:?}",
                    USER_ROLES.join(", ")
                ),
            ));
        }
        row.insert("user_role".into(), json!(role));
    }
    f.models_budget_and_limits(row)?;
    if let Some(m) = f.object("metadata")? {
        row.insert("metadata".into(), Value::Object(m));
    }
    if let Some(m) = f.object("model_max_budget")? {
        row.insert("model_max_budget".into(), Value::Object(m));
    }
    Ok(())
}

/// `teams` of `/user/new`: team ids, or `{team_id, user_role}` objects.
fn teams_of(f: &Fields) -> Result<Vec<(String, String)>, ProxyError> {
    let Value::Array(items) = f.raw("teams") else {
        return match f.raw("teams") {
            Value::Null => Ok(Vec::new()),
            _ => Err(ProxyError::bad_param("teams", "teams must be a list")),
        };
    };
    items
        .iter()
        .map(|t| match t {
            Value::String(id) if !id.contains('\0') => Ok((id.clone(), "user".to_string())),
            Value::Object(m) => {
                let inner = Fields(m.clone());
                let id = inner.required("team_id")?;
                let role = inner.string("user_role")?.unwrap_or_else(|| "user".into());
                Ok((id, role))
            }
            _ => Err(ProxyError::bad_param(
                "teams",
                "teams must be team ids or {team_id, user_role} objects",
            )),
        })
        .collect()
}

/// `POST /user/new`: NewUserResponse (the user's fields and, unless
/// `auto_create_key: false`, a key for the user, shown this once).
pub async fn new(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let result = async {
        let (call, f) = admin_with_body(&state, &headers, "/user/new", body).await?;
        let mut row = Map::new();
        user_columns(&f, &mut row)?;
        let teams = teams_of(&f)?;
        let auto_key = f.boolean("auto_create_key")?.unwrap_or(true);
        // The user's key: the key fields of the body, without the user's own budget
        // and limits (those are the user's, enforced for all its keys).
        let mut key_row = Map::new();
        if auto_key {
            key_columns(&f, &mut key_row)?;
            for col in [
                "max_budget",
                "budget_duration",
                "budget_reset_at",
                "rpm_limit",
                "tpm_limit",
                "max_parallel_requests",
                "team_id",
                "model_max_budget",
            ] {
                key_row.remove(col);
            }
        }
        let user_id = match f.string("user_id")? {
            Some(id) if !id.is_empty() => id,
            _ => uuid::Uuid::new_v4().to_string(),
        };
        let store = call.store;
        let mut tx = store
            .begin_change(&USERS, &user_id)
            .await
            .map_err(db_error)?;
        let existing = store
            .select_in(
                &mut tx,
                &USERS,
                "\"user_id\" = $1",
                &[user_id.as_str().into()],
            )
            .await
            .map_err(db_error)?;
        if !existing.is_empty() {
            return Err(ProxyError::bad_param(
                "user_id",
                format!("User with id={user_id} already exists"),
            ));
        }
        for (team, _) in &teams {
            let found = store
                .select_in(&mut tx, &TEAMS, "\"team_id\" = $1", &[team.as_str().into()])
                .await
                .map_err(db_error)?;
            if found.is_empty() {
                return Err(ProxyError::bad_param(
                    "teams",
                    format!("Team not found, passed team_id={team}"),
                ));
            }
        }
        let now = now_iso();
        row.insert("user_id".into(), json!(user_id));
        row.entry("user_role").or_insert(json!("internal_user"));
        row.insert("created_at".into(), json!(now));
        row.insert("updated_at".into(), json!(now));
        store
            .insert(&mut tx, &USERS, &row)
            .await
            .map_err(db_error)?;
        for (team, role) in &teams {
            let member = Member {
                role: if role == "admin" {
                    "admin".into()
                } else {
                    "user".into()
                },
                user_id: Some(user_id.clone()),
                user_email: None,
            };
            add_member(&call, &mut tx, team, &member).await?;
        }
        let mut out = Map::new();
        if auto_key {
            key_row.insert("user_id".into(), json!(user_id));
            let (key, plain) = create_key(&call, &mut tx, &f, key_row).await?;
            out = generated(key, &plain, &f);
        }
        let user = store
            .select_in(
                &mut tx,
                &USERS,
                "\"user_id\" = $1",
                &[user_id.as_str().into()],
            )
            .await
            .map_err(db_error)?
            .into_iter()
            .next()
            .unwrap_or(row);
        commit(tx).await?;
        refresh(&state, store).await;
        call.audit(&state, "created", USERS.name, &user_id, None, Some(&user));
        if let Some(token) = out.get("token_id").and_then(Value::as_str) {
            call.audit(&state, "created", KEYS.name, token, None, Some(&out));
        }
        for (k, v) in user {
            // The user's own budget and limits, not the key's.
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
    .await;
    respond(result)
}

/// `GET /user/info?user_id=...`: the user, its keys and its teams.
pub async fn info(State(state): State<Arc<AppState>>, headers: HeaderMap, uri: Uri) -> Response {
    let result = async {
        let call = admin(&state, &headers, "/user/info").await?;
        let user_id = query_fields(&uri).required("user_id")?;
        let store = call.store;
        let user = store
            .get(&USERS, &user_id)
            .await
            .map_err(db_error)?
            .ok_or_else(|| {
                not_found(
                    "user_id",
                    format!("User not found, passed user_id={user_id}"),
                )
            })?;
        let keys = store
            .select(&KEYS, "\"user_id\" = $1", &[user_id.as_str().into()])
            .await
            .map_err(db_error)?;
        let team_ids: Vec<String> = user
            .get("teams")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let mut teams = Vec::new();
        for id in team_ids {
            if let Some(t) = store.get(&TEAMS, &id).await.map_err(db_error)? {
                teams.push(Value::Object(t));
            }
        }
        Ok(json!({"user_id": user_id, "user_info": user, "keys": keys, "teams": teams}))
    }
    .await;
    respond(result)
}

/// `POST /user/update`: `{user_id, ...fields}`; the user row after.
pub async fn update(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let (call, f) = admin_with_body(&state, &headers, "/user/update", body).await?;
        let store = call.store;
        let user_id = match (f.string("user_id")?, f.string("user_email")?) {
            (Some(id), _) => id,
            (None, Some(email)) => store
                .select(&USERS, "\"user_email\" = $1", &[email.as_str().into()])
                .await
                .map_err(db_error)?
                .into_iter()
                .find_map(|u| u.get("user_id")?.as_str().map(str::to_string))
                .ok_or_else(|| {
                    not_found(
                        "user_email",
                        format!("User not found, passed user_email={email}"),
                    )
                })?,
            (None, None) => {
                return Err(ProxyError::bad_param(
                    "user_id",
                    "Either user id or user email must be provided",
                ))
            }
        };
        let mut changes = Map::new();
        user_columns(&f, &mut changes)?;
        let mut tx = store
            .begin_change(&USERS, &user_id)
            .await
            .map_err(db_error)?;
        changes.insert("updated_at".into(), json!(now_iso()));
        let before = store
            .select_in(
                &mut tx,
                &USERS,
                "\"user_id\" = $1",
                &[user_id.as_str().into()],
            )
            .await
            .map_err(db_error)?
            .into_iter()
            .next();
        let n = store
            .update(&mut tx, &USERS, &user_id, &changes)
            .await
            .map_err(db_error)?;
        if n == 0 {
            return Err(not_found(
                "user_id",
                format!("User not found, passed user_id={user_id}"),
            ));
        }
        let row = store
            .select_in(
                &mut tx,
                &USERS,
                "\"user_id\" = $1",
                &[user_id.as_str().into()],
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
            "updated",
            USERS.name,
            &user_id,
            before.as_ref(),
            Some(&row),
        );
        Ok(Value::Object(row))
    }
    .await;
    respond(result)
}

/// `POST /user/delete`: `{user_ids: [...]}`; the users, their keys and memberships go.
/// Answers how many users were deleted, as LiteLLM.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let (call, f) = admin_with_body(&state, &headers, "/user/delete", body).await?;
        let ids = f.required_strings("user_ids")?;
        let store = call.store;
        let mut tx = store.begin_write().await.map_err(db_error)?;
        let mut deleted = 0;
        let mut gone = Vec::new();
        for id in &ids {
            store
                .record_change(&mut tx, &USERS, id)
                .await
                .map_err(db_error)?;
            gone.extend(
                store
                    .select_in(&mut tx, &USERS, "\"user_id\" = $1", &[id.as_str().into()])
                    .await
                    .map_err(db_error)?,
            );
            let memberships = store
                .select_in(
                    &mut tx,
                    &MEMBERSHIPS,
                    "\"user_id\" = $1",
                    &[id.as_str().into()],
                )
                .await
                .map_err(db_error)?;
            for m in memberships {
                if let Some(team) = m.get("team_id").and_then(Value::as_str) {
                    store
                        .record_change(&mut tx, &TEAMS, team)
                        .await
                        .map_err(db_error)?;
                    remove_member(&call, &mut tx, team, id).await?;
                }
            }
            let params: [Param; 1] = [id.as_str().into()];
            for key in store
                .select_in(&mut tx, &KEYS, "\"user_id\" = $1", &params)
                .await
                .map_err(db_error)?
            {
                if let Some(token) = key.get("token").and_then(Value::as_str) {
                    store
                        .record_change(&mut tx, &KEYS, token)
                        .await
                        .map_err(db_error)?;
                }
            }
            store
                .delete_where(&mut tx, &KEYS, "\"user_id\" = $1", &params)
                .await
                .map_err(db_error)?;
            deleted += store
                .delete_where(&mut tx, &USERS, "\"user_id\" = $1", &params)
                .await
                .map_err(db_error)?;
        }
        commit(tx).await?;
        refresh(&state, store).await;
        for row in &gone {
            let id = row.get("user_id").and_then(Value::as_str).unwrap_or("");
            call.audit(&state, "deleted", USERS.name, id, Some(row), None);
        }
        Ok(json!(deleted))
    }
    .await;
    respond(result)
}
