//! What the admin routes (`admin_keys`, `admin_users`, `admin_teams`) share: who may
//! call them (the master key; a virtual key only for its own key's info), the
//! database (or LiteLLM's "DB not connected" without one), the JSON body, and typed
//! field checks that answer 400 naming the field before anything is written.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};

use super::{authenticate, read_json_object};
use crate::proxy::auth::{Identity, Role};
use crate::proxy::errors::ProxyError;
use crate::proxy::ops::reqlog::AuditEntry;
use crate::proxy::state::AppState;
use crate::proxy::store::records::Tx;
use crate::proxy::store::{time, Store};

/// The caller of an admin route, and the database.
pub struct AdminCall<'a> {
    pub identity: Identity,
    pub store: &'a Store,
}

impl AdminCall<'_> {
    /// Whether the caller is the proxy admin (the master key, or anyone when no master
    /// key is set, as in LiteLLM).
    pub fn is_admin(&self) -> bool {
        matches!(self.identity.role, Role::ProxyAdmin | Role::Anonymous)
    }

    /// Record what this call changed in the audit log (`LiteLLM_AuditLog` and the
    /// request log): `action` on the row `object_id` of `table`, the row before and
    /// after. Secrets are removed from the rows on the way; call after the commit.
    pub fn audit(
        &self,
        state: &AppState,
        action: &str,
        table: &str,
        object_id: &str,
        before: Option<&Map<String, Value>>,
        after: Option<&Map<String, Value>>,
    ) {
        state.ops.audit(AuditEntry {
            changed_by: self.actor(),
            changed_by_key_hash: self.identity.key_hash.as_deref().unwrap_or("").to_string(),
            action: action.to_string(),
            table: table.to_string(),
            object_id: object_id.to_string(),
            before: before.cloned().map(Value::Object),
            after: after.cloned().map(Value::Object),
        });
    }

    /// `changed_by` of what this call writes: LiteLLM's user id of the master key.
    pub fn actor(&self) -> String {
        match self.identity.grant.as_ref().and_then(|g| g.user_id.clone()) {
            Some(user) => user,
            None => "default_user_id".to_string(),
        }
    }
}

/// Routes a virtual key may call: each answers only about the caller's own keys.
const KEY_ROUTES: &[&str] = &["/key/info", "/key/list"];

/// Authenticate an admin call: the proxy admin, or a virtual key on [`KEY_ROUTES`].
/// Without a database: LiteLLM's 400 "DB not connected".
pub async fn admin<'a>(
    state: &'a AppState,
    headers: &HeaderMap,
    route: &str,
) -> Result<AdminCall<'a>, ProxyError> {
    let identity = authenticate(state, headers, route).await?;
    if identity.role == Role::VirtualKey && !KEY_ROUTES.contains(&route) {
        let user = identity
            .grant
            .as_ref()
            .and_then(|g| g.user_id.as_deref())
            .map(mask_user_id)
            .unwrap_or_else(|| "unknown".to_string());
        return Err(ProxyError::unauthorized(format!(
            "Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route={route}. Your role=unknown. Your user_id={user}"
        )));
    }
    let Some(store) = state.store.as_ref() else {
        return Err(ProxyError::new(
            StatusCode::BAD_REQUEST,
            "no_db_connection",
            "DB not connected. See https://docs.litellm.ai/docs/proxy/virtual_keys",
        ));
    };
    Ok(AdminCall { identity, store })
}

/// [`admin`], then the JSON body.
pub async fn admin_with_body<'a>(
    state: &'a AppState,
    headers: &HeaderMap,
    route: &str,
    body: Body,
) -> Result<(AdminCall<'a>, Fields), ProxyError> {
    let call = admin(state, headers, route).await?;
    let body = read_json_object(state, headers, body).await?;
    Ok((call, Fields(body)))
}

/// LiteLLM's `_mask_user_id`: the first and last two characters.
fn mask_user_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 4))
}

/// A database error as a 500 that names no value (the driver's message, not the row).
pub fn db_error(e: sqlx::Error) -> ProxyError {
    let what = match &e {
        sqlx::Error::Database(d) => d.message().to_string(),
        sqlx::Error::PoolTimedOut => "no database connection available in time".to_string(),
        other => other.to_string(),
    };
    ProxyError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_server_error",
        format!("database error: {what}"),
    )
}

/// Commit an admin transaction.
pub async fn commit(tx: Tx) -> Result<(), ProxyError> {
    tx.commit().await.map_err(db_error)
}

/// A request body (or query), read field by field with typed checks.
pub struct Fields(pub Map<String, Value>);

fn no_nul(param: &str, v: &Value) -> Result<(), ProxyError> {
    // Postgres text cannot hold NUL; refuse it on both databases alike.
    let bad = match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => return items.iter().try_for_each(|i| no_nul(param, i)),
        Value::Object(m) => {
            for (k, i) in m {
                if k.contains('\0') {
                    return Err(nul(param));
                }
                no_nul(param, i)?;
            }
            false
        }
        _ => false,
    };
    if bad {
        return Err(nul(param));
    }
    Ok(())
}

fn nul(param: &str) -> ProxyError {
    ProxyError::bad_param(param, format!("{param}: NUL characters are not allowed"))
}

fn wrong(param: &str, what: &str) -> ProxyError {
    ProxyError::bad_param(param, format!("{param} must be {what}"))
}

impl Fields {
    /// The fields keys, users and teams share, checked and put in `row` where the body
    /// sets them: `models`, `max_budget`, `rpm_limit`, `tpm_limit`,
    /// `max_parallel_requests`, and `budget_duration` (with the `budget_reset_at` it
    /// starts).
    pub fn models_budget_and_limits(&self, row: &mut Map<String, Value>) -> Result<(), ProxyError> {
        if let Some(models) = self.strings("models")? {
            row.insert("models".into(), serde_json::json!(models));
        }
        if self.0.contains_key("max_budget") {
            row.insert(
                "max_budget".into(),
                serde_json::json!(self.number("max_budget")?),
            );
        }
        for name in ["rpm_limit", "tpm_limit", "max_parallel_requests"] {
            if self.0.contains_key(name) {
                row.insert(name.into(), serde_json::json!(self.count(name)?));
            }
        }
        if self.0.contains_key("budget_duration") {
            let (text, reset) = match self.duration("budget_duration")? {
                Some((text, secs)) => (
                    Value::from(text),
                    Value::from(time::iso(time::now_ms() + secs * 1000)),
                ),
                None => (Value::Null, Value::Null),
            };
            row.insert("budget_duration".into(), text);
            row.insert("budget_reset_at".into(), reset);
        }
        Ok(())
    }

    /// Whether the field is present and not null.
    pub fn has(&self, name: &str) -> bool {
        self.0.get(name).is_some_and(|v| !v.is_null())
    }

    /// The raw value (null when absent).
    pub fn raw(&self, name: &str) -> Value {
        self.0.get(name).cloned().unwrap_or(Value::Null)
    }

    /// A string field.
    pub fn string(&self, name: &str) -> Result<Option<String>, ProxyError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v @ Value::String(s)) => {
                no_nul(name, v)?;
                Ok(Some(s.clone()))
            }
            Some(_) => Err(wrong(name, "a string")),
        }
    }

    /// A required string field.
    pub fn required(&self, name: &str) -> Result<String, ProxyError> {
        match self.string(name)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(ProxyError::bad_param(name, format!("{name} is required"))),
        }
    }

    /// A list of strings that must hold at least one, as [`Fields::required`] for one.
    pub fn required_strings(&self, name: &str) -> Result<Vec<String>, ProxyError> {
        match self.strings(name)? {
            Some(list) if !list.is_empty() => Ok(list),
            _ => Err(ProxyError::bad_param(name, format!("{name} is required"))),
        }
    }

    /// A list of strings.
    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>, ProxyError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v @ Value::Array(items)) => {
                no_nul(name, v)?;
                items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .map(Some)
                    .ok_or_else(|| wrong(name, "a list of strings"))
            }
            Some(_) => Err(wrong(name, "a list of strings")),
        }
    }

    /// A JSON object.
    pub fn object(&self, name: &str) -> Result<Option<Map<String, Value>>, ProxyError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v @ Value::Object(m)) => {
                no_nul(name, v)?;
                Ok(Some(m.clone()))
            }
            Some(_) => Err(wrong(name, "an object")),
        }
    }

    /// A non-negative number.
    pub fn number(&self, name: &str) -> Result<Option<f64>, ProxyError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(f) if f.is_finite() && f >= 0.0 => Ok(Some(f)),
                _ => Err(wrong(name, "a non-negative number")),
            },
            Some(_) => Err(wrong(name, "a non-negative number")),
        }
    }

    /// A non-negative whole number.
    pub fn count(&self, name: &str) -> Result<Option<i64>, ProxyError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) if i >= 0 => Ok(Some(i)),
                _ => Err(wrong(name, "a non-negative integer")),
            },
            Some(_) => Err(wrong(name, "a non-negative integer")),
        }
    }

    /// A boolean.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ProxyError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(wrong(name, "true or false")),
        }
    }

    /// A LiteLLM duration (`30s`, `30m`, `30h`, `30d`): the text and its seconds.
    pub fn duration(&self, name: &str) -> Result<Option<(String, i64)>, ProxyError> {
        let Some(text) = self.string(name)? else {
            return Ok(None);
        };
        match time::duration_seconds(&text) {
            Some(secs) => Ok(Some((text, secs))),
            None => Err(ProxyError::bad_param(
                name,
                format!("{name} must be a duration like 30s, 30m, 30h or 30d, got {text:?}"),
            )),
        }
    }

    /// `{model: whole number}` (`model_rpm_limit`, `model_tpm_limit`).
    pub fn limits_by_model(&self, name: &str) -> Result<Option<Map<String, Value>>, ProxyError> {
        let Some(m) = self.object(name)? else {
            return Ok(None);
        };
        if m.values().all(|v| v.as_u64().is_some()) {
            Ok(Some(m))
        } else {
            Err(wrong(
                name,
                "an object of model names to non-negative integers",
            ))
        }
    }
}

/// The query string as fields (`/key/info?key=...`), percent-decoded.
pub fn query_fields(uri: &axum::http::Uri) -> Fields {
    let mut out = Map::new();
    if let Some(q) = uri.query() {
        for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
            out.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    Fields(out)
}

/// A 404 in LiteLLM's envelope.
pub fn not_found(param: &str, message: impl Into<String>) -> ProxyError {
    let mut e = ProxyError::new(StatusCode::NOT_FOUND, "not_found_error", message);
    e.param = Some(param.to_string());
    e
}

/// A 403 in LiteLLM's envelope.
pub fn forbidden(message: impl Into<String>) -> ProxyError {
    ProxyError::new(StatusCode::FORBIDDEN, "auth_error", message)
}

/// Now, as the store writes timestamps.
pub fn now_iso() -> String {
    time::iso(time::now_ms())
}

/// A JSON response of an admin route.
pub fn reply(v: Value) -> axum::response::Response {
    super::json_response(serde_json::to_vec(&v).unwrap_or_default())
}
