//! LiteLLM's team routes: `/team/new`, `/team/info`, `/team/update`, `/team/delete`,
//! `/team/member_add`, `/team/member_delete`. A team's `models` narrow what its keys
//! may call; its limits reach every key of the team (the limiter reads them from the
//! key's grant); `blocked` stops every key of the team.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::admin::{
    admin, admin_with_body, commit, db_error, not_found, now_iso, query_fields, AdminCall, Fields,
};
use super::admin_keys::{refresh, respond};
use crate::proxy::errors::ProxyError;
use crate::proxy::state::AppState;
use crate::proxy::store::records::{Tx, KEYS, MEMBERSHIPS, TEAMS, USERS};

/// The columns a team body sets (the limits, budget and models of the team).
pub fn team_columns(f: &Fields, row: &mut Map<String, Value>) -> Result<(), ProxyError> {
    for name in ["team_alias", "organization_id"] {
        if f.0.contains_key(name) {
            row.insert(
                name.into(),
                f.string(name)?.map(Value::from).unwrap_or(Value::Null),
            );
        }
    }
    f.models_budget_and_limits(row)?;
    if let Some(b) = f.boolean("blocked")? {
        row.insert("blocked".into(), json!(b));
    }
    if let Some(m) = f.object("metadata")? {
        row.insert("metadata".into(), Value::Object(m));
    }
    if let Some(m) = f.object("model_max_budget")? {
        row.insert("model_max_budget".into(), Value::Object(m));
    }
    Ok(())
}

/// A team member as LiteLLM's `Member`: `{role: admin|user, user_id?, user_email?}`.
pub struct Member {
    pub role: String,
    pub user_id: Option<String>,
    pub user_email: Option<String>,
}

/// Read members: one object or a list of them.
pub fn members(param: &str, v: &Value) -> Result<Vec<Member>, ProxyError> {
    let items: Vec<&Value> = match v {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    items
        .into_iter()
        .map(|item| {
            let Value::Object(m) = item else {
                return Err(ProxyError::bad_param(
                    param,
                    format!("{param}: each member must be an object"),
                ));
            };
            let f = Fields(m.clone());
            let role = f.string("role")?.unwrap_or_else(|| "user".to_string());
            if role != "admin" && role != "user" {
                return Err(ProxyError::bad_param(
                    param,
                    format!("{param}: role must be 'admin' or 'user', got {role:?}"),
                ));
            }
            let user_id = f.string("user_id")?;
            let user_email = f.string("user_email")?;
            if user_id.is_none() && user_email.is_none() {
                return Err(ProxyError::bad_param(
                    param,
                    "Either user id or user email must be provided",
                ));
            }
            Ok(Member {
                role,
                user_id,
                user_email,
            })
        })
        .collect()
}

fn strings_of(row: &Map<String, Value>, col: &str) -> Vec<String> {
    row.get(col)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Add `member` to the team `team_id` (inside `tx`): the user row (created when
/// missing, as LiteLLM does), its `teams`, the team's `members_with_roles` and a
/// `LiteLLM_TeamMembership` row. Returns the user row.
pub async fn add_member(
    call: &AdminCall<'_>,
    tx: &mut Tx,
    team_id: &str,
    member: &Member,
) -> Result<Map<String, Value>, ProxyError> {
    let store = call.store;
    let mut user = match (&member.user_id, &member.user_email) {
        (Some(id), _) => {
            store
                .select_in(tx, &USERS, "\"user_id\" = $1", &[id.as_str().into()])
                .await
        }
        (None, Some(email)) => {
            store
                .select_in(tx, &USERS, "\"user_email\" = $1", &[email.as_str().into()])
                .await
        }
        (None, None) => Ok(Vec::new()),
    }
    .map_err(db_error)?
    .into_iter()
    .next();
    if user.is_none() {
        let id = member
            .user_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let now = now_iso();
        let mut row = Map::new();
        row.insert("user_id".into(), json!(id));
        row.insert("user_email".into(), json!(member.user_email));
        row.insert("user_role".into(), json!("internal_user"));
        row.insert("created_at".into(), json!(now));
        row.insert("updated_at".into(), json!(now));
        store.insert(tx, &USERS, &row).await.map_err(db_error)?;
        user = Some(row);
    }
    let mut user = user.unwrap_or_default();
    let user_id = user
        .get("user_id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    store
        .record_change(tx, &USERS, &user_id)
        .await
        .map_err(db_error)?;
    let mut teams = strings_of(&user, "teams");
    if !teams.iter().any(|t| t == team_id) {
        teams.push(team_id.to_string());
        let mut changes = Map::new();
        changes.insert("teams".into(), json!(teams));
        store
            .update(tx, &USERS, &user_id, &changes)
            .await
            .map_err(db_error)?;
        user.insert("teams".into(), json!(teams));
    }
    let team = store
        .select_in(tx, &TEAMS, "\"team_id\" = $1", &[team_id.into()])
        .await
        .map_err(db_error)?
        .into_iter()
        .next()
        .unwrap_or_default();
    let mut roles: Vec<Value> = team
        .get("members_with_roles")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    roles.retain(|m| m.get("user_id").and_then(Value::as_str) != Some(user_id.as_str()));
    roles.push(json!({
        "role": member.role,
        "user_id": user_id,
        "user_email": user.get("user_email").cloned().unwrap_or(Value::Null),
    }));
    let mut changes = Map::new();
    changes.insert("members_with_roles".into(), Value::Array(roles));
    changes.insert("updated_at".into(), json!(now_iso()));
    store
        .update(tx, &TEAMS, team_id, &changes)
        .await
        .map_err(db_error)?;
    let existing = store
        .select_in(
            tx,
            &MEMBERSHIPS,
            "\"user_id\" = $1 AND \"team_id\" = $2",
            &[user_id.as_str().into(), team_id.into()],
        )
        .await
        .map_err(db_error)?;
    if existing.is_empty() {
        let mut row = Map::new();
        row.insert("user_id".into(), json!(user_id));
        row.insert("team_id".into(), json!(team_id));
        store
            .insert(tx, &MEMBERSHIPS, &row)
            .await
            .map_err(db_error)?;
    }
    Ok(user)
}

/// Take `user_id` out of the team `team_id` (inside `tx`).
pub async fn remove_member(
    call: &AdminCall<'_>,
    tx: &mut Tx,
    team_id: &str,
    user_id: &str,
) -> Result<(), ProxyError> {
    let store = call.store;
    store
        .record_change(tx, &USERS, user_id)
        .await
        .map_err(db_error)?;
    if let Some(user) = store
        .select_in(tx, &USERS, "\"user_id\" = $1", &[user_id.into()])
        .await
        .map_err(db_error)?
        .into_iter()
        .next()
    {
        let teams: Vec<String> = strings_of(&user, "teams")
            .into_iter()
            .filter(|t| t != team_id)
            .collect();
        let mut changes = Map::new();
        changes.insert("teams".into(), json!(teams));
        store
            .update(tx, &USERS, user_id, &changes)
            .await
            .map_err(db_error)?;
    }
    if let Some(team) = store
        .select_in(tx, &TEAMS, "\"team_id\" = $1", &[team_id.into()])
        .await
        .map_err(db_error)?
        .into_iter()
        .next()
    {
        let mut roles: Vec<Value> = team
            .get("members_with_roles")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        roles.retain(|m| m.get("user_id").and_then(Value::as_str) != Some(user_id));
        let mut changes = Map::new();
        changes.insert("members_with_roles".into(), Value::Array(roles));
        store
            .update(tx, &TEAMS, team_id, &changes)
            .await
            .map_err(db_error)?;
    }
    store
        .delete_where(
            tx,
            &MEMBERSHIPS,
            "\"user_id\" = $1 AND \"team_id\" = $2",
            &[user_id.into(), team_id.into()],
        )
        .await
        .map_err(db_error)?;
    Ok(())
}

async fn team_row(
    call: &AdminCall<'_>,
    tx: &mut Tx,
    team_id: &str,
) -> Result<Map<String, Value>, ProxyError> {
    call.store
        .select_in(tx, &TEAMS, "\"team_id\" = $1", &[team_id.into()])
        .await
        .map_err(db_error)?
        .into_iter()
        .next()
        .ok_or_else(|| team_not_found(team_id))
}

fn team_not_found(team_id: &str) -> ProxyError {
    not_found(
        "team_id",
        format!("Team not found, passed team_id={team_id}"),
    )
}

/// `POST /team/new`: the team row.
pub async fn new(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let result = async {
        let (call, f) = admin_with_body(&state, &headers, "/team/new", body).await?;
        let mut row = Map::new();
        team_columns(&f, &mut row)?;
        let team_members = members("members_with_roles", &f.raw("members_with_roles"))?;
        let team_id = match f.string("team_id")? {
            Some(id) if !id.is_empty() => id,
            _ => uuid::Uuid::new_v4().to_string(),
        };
        let store = call.store;
        let mut tx = store
            .begin_change(&TEAMS, &team_id)
            .await
            .map_err(db_error)?;
        if team_row(&call, &mut tx, &team_id).await.is_ok() {
            return Err(ProxyError::bad_param(
                "team_id",
                format!("Team id = {team_id} already exists. Please use a different team id."),
            ));
        }
        let now = now_iso();
        row.insert("team_id".into(), json!(team_id));
        row.insert("created_at".into(), json!(now));
        row.insert("updated_at".into(), json!(now));
        store
            .insert(&mut tx, &TEAMS, &row)
            .await
            .map_err(db_error)?;
        for m in &team_members {
            add_member(&call, &mut tx, &team_id, m).await?;
        }
        let row = team_row(&call, &mut tx, &team_id).await?;
        commit(tx).await?;
        refresh(&state, store).await;
        call.audit(&state, "created", TEAMS.name, &team_id, None, Some(&row));
        Ok(Value::Object(row))
    }
    .await;
    respond(result)
}

/// `GET /team/info?team_id=...`: the team, its keys and its memberships.
pub async fn info(State(state): State<Arc<AppState>>, headers: HeaderMap, uri: Uri) -> Response {
    let result = async {
        let call = admin(&state, &headers, "/team/info").await?;
        let team_id = query_fields(&uri).required("team_id")?;
        let store = call.store;
        let team = store
            .get(&TEAMS, &team_id)
            .await
            .map_err(db_error)?
            .ok_or_else(|| team_not_found(&team_id))?;
        let keys = store
            .select(&KEYS, "\"team_id\" = $1", &[team_id.as_str().into()])
            .await
            .map_err(db_error)?;
        let memberships = store
            .select(&MEMBERSHIPS, "\"team_id\" = $1", &[team_id.as_str().into()])
            .await
            .map_err(db_error)?;
        Ok(json!({
            "team_id": team_id,
            "team_info": team,
            "keys": keys,
            "team_memberships": memberships,
        }))
    }
    .await;
    respond(result)
}

/// `POST /team/update`: `{team_id, ...fields}`; `{team_id, data: <row>}`.
pub async fn update(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let (call, f) = admin_with_body(&state, &headers, "/team/update", body).await?;
        let team_id = f.required("team_id")?;
        let mut changes = Map::new();
        team_columns(&f, &mut changes)?;
        let store = call.store;
        let mut tx = store
            .begin_change(&TEAMS, &team_id)
            .await
            .map_err(db_error)?;
        let before = team_row(&call, &mut tx, &team_id).await?;
        changes.insert("updated_at".into(), json!(now_iso()));
        store
            .update(&mut tx, &TEAMS, &team_id, &changes)
            .await
            .map_err(db_error)?;
        let row = team_row(&call, &mut tx, &team_id).await?;
        commit(tx).await?;
        refresh(&state, store).await;
        call.audit(
            &state,
            "updated",
            TEAMS.name,
            &team_id,
            Some(&before),
            Some(&row),
        );
        Ok(json!({"team_id": team_id, "data": row}))
    }
    .await;
    respond(result)
}

/// `POST /team/delete`: `{team_ids: [...]}`; the teams, their keys and memberships go.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let (call, f) = admin_with_body(&state, &headers, "/team/delete", body).await?;
        let ids = f.required_strings("team_ids")?;
        let store = call.store;
        let mut tx = store.begin_write().await.map_err(db_error)?;
        let mut gone = Vec::new();
        for id in &ids {
            store
                .record_change(&mut tx, &TEAMS, id)
                .await
                .map_err(db_error)?;
            let team = team_row(&call, &mut tx, id).await?;
            gone.push((id.clone(), team.clone()));
            for key in store
                .select_in(&mut tx, &KEYS, "\"team_id\" = $1", &[id.as_str().into()])
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
                .delete_where(&mut tx, &KEYS, "\"team_id\" = $1", &[id.as_str().into()])
                .await
                .map_err(db_error)?;
            let member_ids: Vec<String> = team
                .get("members_with_roles")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|m| m.get("user_id")?.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            for user in member_ids {
                remove_member(&call, &mut tx, id, &user).await?;
            }
            store
                .delete_where(
                    &mut tx,
                    &MEMBERSHIPS,
                    "\"team_id\" = $1",
                    &[id.as_str().into()],
                )
                .await
                .map_err(db_error)?;
            store
                .delete_where(&mut tx, &TEAMS, "\"team_id\" = $1", &[id.as_str().into()])
                .await
                .map_err(db_error)?;
        }
        commit(tx).await?;
        refresh(&state, store).await;
        for (id, team) in &gone {
            call.audit(&state, "deleted", TEAMS.name, id, Some(team), None);
        }
        Ok(json!({"deleted_teams": ids}))
    }
    .await;
    respond(result)
}

/// `POST /team/member_add`: `{team_id, member: {role, user_id|user_email} | [...]}`;
/// the team row with `updated_users` and `updated_team_memberships`.
pub async fn member_add(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let (call, f) = admin_with_body(&state, &headers, "/team/member_add", body).await?;
        let team_id = f.required("team_id")?;
        let new_members = members("member", &f.raw("member"))?;
        if new_members.is_empty() {
            return Err(ProxyError::bad_param("member", "member is required"));
        }
        f.number("max_budget_in_team")?;
        let store = call.store;
        let mut tx = store
            .begin_change(&TEAMS, &team_id)
            .await
            .map_err(db_error)?;
        let before = team_row(&call, &mut tx, &team_id).await?;
        let mut users = Vec::new();
        for m in &new_members {
            users.push(Value::Object(
                add_member(&call, &mut tx, &team_id, m).await?,
            ));
        }
        let mut row = team_row(&call, &mut tx, &team_id).await?;
        let memberships = store
            .select_in(
                &mut tx,
                &MEMBERSHIPS,
                "\"team_id\" = $1",
                &[team_id.as_str().into()],
            )
            .await
            .map_err(db_error)?;
        commit(tx).await?;
        refresh(&state, store).await;
        call.audit(
            &state,
            "updated",
            TEAMS.name,
            &team_id,
            Some(&before),
            Some(&row),
        );
        row.insert("updated_users".into(), Value::Array(users));
        row.insert(
            "updated_team_memberships".into(),
            Value::Array(memberships.into_iter().map(Value::Object).collect()),
        );
        Ok(Value::Object(row))
    }
    .await;
    respond(result)
}

/// `POST /team/member_delete`: `{team_id, user_id | user_email}`; the team row.
pub async fn member_delete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let (call, f) = admin_with_body(&state, &headers, "/team/member_delete", body).await?;
        let team_id = f.required("team_id")?;
        let user_id = f.string("user_id")?;
        let email = f.string("user_email")?;
        let store = call.store;
        let mut tx = store
            .begin_change(&TEAMS, &team_id)
            .await
            .map_err(db_error)?;
        let before = team_row(&call, &mut tx, &team_id).await?;
        let user_id = match (user_id, email) {
            (Some(id), _) => id,
            (None, Some(email)) => store
                .select_in(
                    &mut tx,
                    &USERS,
                    "\"user_email\" = $1",
                    &[email.as_str().into()],
                )
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
        remove_member(&call, &mut tx, &team_id, &user_id).await?;
        let row = team_row(&call, &mut tx, &team_id).await?;
        commit(tx).await?;
        refresh(&state, store).await;
        call.audit(
            &state,
            "updated",
            TEAMS.name,
            &team_id,
            Some(&before),
            Some(&row),
        );
        Ok(Value::Object(row))
    }
    .await;
    respond(result)
}
