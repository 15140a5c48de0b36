//! LiteLLM's spend endpoints over `LiteLLM_SpendLogs`: `GET /spend/logs`,
//! `/global/spend`, `/global/spend/report` and `/global/spend/models`, with LiteLLM's
//! query parameters and bodies. The global ones are the master key's; a virtual key
//! reading `/spend/logs` sees only its own rows (its user's, when it has a user, as
//! LiteLLM scopes internal users).
//!
//! Differences from LiteLLM, on purpose: `end_date` includes that whole day (LiteLLM
//! compares with its midnight, so `start_date=end_date` finds nothing); `/spend/logs`
//! answers at most [`MAX_LOG_ROWS`] rows, newest first (LiteLLM loads every row, the
//! #2169 hang); a `request_id` not found is `[]`, not `[null]`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Map, Value};
use sqlx::Row;

use super::{authenticate, error_response, json_response};
use crate::proxy::auth::{hash_key, Identity, Role};
use crate::proxy::errors::ProxyError;
use crate::proxy::state::AppState;
use crate::proxy::store::records::{query, Param};
use crate::proxy::store::spend::SPEND_LOGS;
use crate::proxy::store::{storable, time, Dialect, Store};

/// The most rows `/spend/logs` answers.
pub const MAX_LOG_ROWS: i64 = 10_000;

const DAY_MS: i64 = 86_400_000;

/// The query string's parameters, percent-decoded (the last of a repeated name wins),
/// each value as the spend writer stores text ([`storable`]: NUL as U+FFFD): a filter
/// finds what was written for it, and a NUL (`%00`) never reaches Postgres, which
/// refuses it (a 500 before).
fn params_of(uri: &Uri) -> HashMap<String, String> {
    uri.query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), storable(&v).into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn respond(result: Result<Value, ProxyError>) -> Response {
    match result {
        Ok(v) => json_response(serde_json::to_vec(&v).unwrap_or_default()),
        Err(e) => error_response(e, None),
    }
}

fn no_db(route: &str) -> ProxyError {
    ProxyError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        format!("{route} Error: Database not connected. Connect a database to your proxy - https://docs.litellm.ai/docs/simple_proxy#managing-auth---virtual-keys"),
    )
}

fn db_error(route: &str, e: sqlx::Error) -> ProxyError {
    ProxyError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        format!("{route} Error: {e}"),
    )
}

/// The master key (or no auth at all) may read everything.
fn is_admin(identity: &Identity) -> bool {
    matches!(identity.role, Role::ProxyAdmin | Role::Anonymous)
}

fn admin_only(route: &str) -> ProxyError {
    ProxyError::new(
        StatusCode::FORBIDDEN,
        "auth_error",
        format!("Only proxy admin can access this route. Route={route}. Use the master key."),
    )
}

/// `YYYY-MM-DD` as LiteLLM's `strptime(..., "%Y-%m-%d")`: midnight UTC.
fn parse_date(params: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ProxyError> {
    let Some(text) = params.get(name).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let ok = text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
    match time::parse_iso(text).filter(|_| ok) {
        Some(ms) => Ok(Some(ms)),
        None => Err(ProxyError::bad_param(
            name,
            format!("time data '{text}' does not match format '%Y-%m-%d'"),
        )),
    }
}

/// An `api_key` parameter: a key (`sk-...`) is hashed, a hash is taken as it is.
fn key_param(text: &str) -> String {
    if text.starts_with("sk-") {
        hash_key(text)
    } else {
        text.to_string()
    }
}

/// A WHERE clause over spend-log columns, its parameters numbered as they are added.
struct Filter {
    /// `sl.` when the query names the table `sl`.
    prefix: &'static str,
    terms: Vec<String>,
    params: Vec<Param>,
}

impl Filter {
    fn new(prefix: &'static str) -> Filter {
        Filter {
            prefix,
            terms: Vec::new(),
            params: Vec::new(),
        }
    }

    fn eq(&mut self, column: &str, value: String) {
        self.params.push(value.into());
        let n = self.params.len();
        self.terms
            .push(format!("{}\"{column}\" = ${n}", self.prefix));
    }

    /// `startTime` from `from` on.
    fn since(&mut self, dialect: Dialect, from: i64) {
        self.params.push(time::iso(from).into());
        let at = dialect.ts_in(self.params.len());
        self.terms
            .push(format!("{}\"startTime\" >= {at}", self.prefix));
    }

    /// `startTime` within `[from, to)`.
    fn between(&mut self, dialect: Dialect, from: i64, to: i64) {
        self.since(dialect, from);
        self.params.push(time::iso(to).into());
        let at = dialect.ts_in(self.params.len());
        self.terms
            .push(format!("{}\"startTime\" < {at}", self.prefix));
    }

    fn sql(&self) -> String {
        if self.terms.is_empty() {
            "1 = 1".to_string()
        } else {
            self.terms.join(" AND ")
        }
    }
}

/// A virtual key reads only its own spend: its user's rows when the key has a user,
/// else the key's.
fn scope(identity: &Identity, filter: &mut Filter) {
    if is_admin(identity) {
        return;
    }
    match identity.grant.as_ref().and_then(|g| g.user_id.clone()) {
        Some(user) => filter.eq("user", user),
        None => filter.eq(
            "api_key",
            identity.key_hash.as_deref().unwrap_or("").to_string(),
        ),
    }
}

/// `GET /spend/logs`.
pub async fn logs(State(state): State<Arc<AppState>>, headers: HeaderMap, uri: Uri) -> Response {
    respond(spend_logs(&state, &headers, &params_of(&uri)).await)
}

async fn spend_logs(
    state: &AppState,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<Value, ProxyError> {
    const ROUTE: &str = "/spend/logs";
    let identity = authenticate(state, headers, ROUTE).await?;
    let store = state.store.as_ref().ok_or_else(|| no_db(ROUTE))?;
    let d = store.dialect;
    let start = parse_date(params, "start_date")?;
    let end = parse_date(params, "end_date")?;
    let summarize = params
        .get("summarize")
        .map(|v| !matches!(v.to_ascii_lowercase().as_str(), "false" | "0" | "no"))
        .unwrap_or(true);
    let summarized = start.is_some() && end.is_some() && summarize;
    let mut filter = Filter::new(if summarized { "sl." } else { "" });
    scope(&identity, &mut filter);
    let get = |k: &str| params.get(k).filter(|v| !v.is_empty()).cloned();
    let dated = match (start, end) {
        (Some(s), Some(e)) => {
            filter.between(d, s, e + DAY_MS);
            Some((s, e))
        }
        _ => None,
    };
    // LiteLLM applies one of these, in this order.
    if let Some(k) = get("api_key") {
        filter.eq("api_key", key_param(&k));
    } else if let Some(r) = get("request_id") {
        filter.eq("request_id", r);
    } else if let Some(u) = get("user_id") {
        filter.eq("user", u);
    }
    if let (Some((_, end)), true) = (dated, summarized) {
        return summary(store, &filter, end)
            .await
            .map_err(|e| db_error(ROUTE, e));
    }
    let condition = format!(
        "{} ORDER BY \"startTime\" DESC LIMIT {MAX_LOG_ROWS}",
        filter.sql()
    );
    let rows = store
        .select(&SPEND_LOGS, &condition, &filter.params)
        .await
        .map_err(|e| db_error(ROUTE, e))?;
    Ok(Value::Array(rows.into_iter().map(Value::Object).collect()))
}

/// LiteLLM's summarized `/spend/logs`: per day, the spend in all, per key, per user
/// and per model; days without spend up to `end_date` as zeros.
async fn summary(store: &Store, filter: &Filter, end: i64) -> Result<Value, sqlx::Error> {
    let d = store.dialect;
    let sql = format!(
        "SELECT {}, sl.api_key, COALESCE(sl.\"user\", ''), sl.model, {} FROM \"LiteLLM_SpendLogs\" sl WHERE {} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        day_of(d),
        d.f64_out("SUM(sl.spend)"),
        filter.sql()
    );
    let rows = query(&sql, &filter.params).fetch_all(&store.pool).await?;
    let mut days: Vec<(String, Map<String, Value>)> = Vec::new();
    for row in rows {
        let day: String = row.try_get(0)?;
        let key: String = row.try_get(1)?;
        let user: String = row.try_get(2)?;
        let model: String = row.try_get(3)?;
        let spend: f64 = row.try_get::<Option<f64>, _>(4)?.unwrap_or(0.0);
        if days.last().map(|(d, _)| d != &day).unwrap_or(true) {
            let mut m = Map::new();
            m.insert("users".into(), json!({}));
            m.insert("models".into(), json!({}));
            m.insert("spend".into(), json!(0.0));
            days.push((day.clone(), m));
        }
        let Some((_, m)) = days.last_mut() else {
            continue;
        };
        bump(m, "spend", spend);
        bump(m, &key, spend);
        if let Some(Value::Object(users)) = m.get_mut("users") {
            bump(users, &user, spend);
        }
        if let Some(Value::Object(models)) = m.get_mut("models") {
            bump(models, &model, spend);
        }
    }
    let mut out: Vec<Value> = days
        .into_iter()
        .map(|(day, mut m)| {
            m.insert("startTime".into(), Value::String(day));
            Value::Object(m)
        })
        .collect();
    if let Some(last) = out
        .last()
        .and_then(|v| v.get("startTime"))
        .and_then(Value::as_str)
        .and_then(time::parse_iso)
    {
        let mut day = last + DAY_MS;
        while day <= end {
            out.push(json!({"startTime": time::date(day), "spend": 0, "users": {}, "models": {}}));
            day += DAY_MS;
        }
    }
    Ok(Value::Array(out))
}

fn bump(m: &mut Map<String, Value>, key: &str, by: f64) {
    let now = m.get(key).and_then(Value::as_f64).unwrap_or(0.0);
    m.insert(key.to_string(), json!(now + by));
}

/// A spend log's day (`YYYY-MM-DD`, UTC).
fn day_of(d: Dialect) -> String {
    match d {
        Dialect::Postgres => "to_char(sl.\"startTime\", 'YYYY-MM-DD')".to_string(),
        Dialect::Sqlite => "substr(sl.\"startTime\", 1, 10)".to_string(),
    }
}

/// `GET /global/spend`: the spend of the last 30 days (LiteLLM's `MonthlyGlobalSpend`
/// view) and the proxy's `max_budget`.
pub async fn global(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    respond(global_spend(&state, &headers).await)
}

async fn global_spend(state: &AppState, headers: &HeaderMap) -> Result<Value, ProxyError> {
    const ROUTE: &str = "/global/spend";
    let identity = authenticate(state, headers, ROUTE).await?;
    if !is_admin(&identity) {
        return Err(admin_only(ROUTE));
    }
    let store = state.store.as_ref().ok_or_else(|| no_db(ROUTE))?;
    let d = store.dialect;
    let mut filter = Filter::new("sl.");
    let today = time::now_ms().div_euclid(DAY_MS) * DAY_MS;
    filter.since(d, today - 30 * DAY_MS);
    let sql = format!(
        "SELECT {} FROM \"LiteLLM_SpendLogs\" sl WHERE {}",
        d.f64_out("COALESCE(SUM(sl.spend), 0)"),
        filter.sql()
    );
    let row = query(&sql, &filter.params)
        .fetch_one(&store.pool)
        .await
        .map_err(|e| db_error(ROUTE, e))?;
    let spend: f64 = row
        .try_get::<Option<f64>, _>(0)
        .map_err(|e| db_error(ROUTE, e))?
        .unwrap_or(0.0);
    Ok(json!({"spend": spend, "max_budget": 0.0}))
}

/// `GET /global/spend/models`: the models with the most spend in the last 30 days.
pub async fn models(State(state): State<Arc<AppState>>, headers: HeaderMap, uri: Uri) -> Response {
    respond(top_models(&state, &headers, &params_of(&uri)).await)
}

async fn top_models(
    state: &AppState,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<Value, ProxyError> {
    const ROUTE: &str = "/global/spend/models";
    let identity = authenticate(state, headers, ROUTE).await?;
    if !is_admin(&identity) {
        return Err(admin_only(ROUTE));
    }
    let store = state.store.as_ref().ok_or_else(|| no_db(ROUTE))?;
    let limit: i64 = match params.get("limit") {
        None => 10,
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| ProxyError::bad_param("limit", format!("Invalid limit: {v}")))?,
    };
    let d = store.dialect;
    let mut filter = Filter::new("sl.");
    let today = time::now_ms().div_euclid(DAY_MS) * DAY_MS;
    filter.since(d, today - 30 * DAY_MS);
    filter.params.push(Param::I64(Some(limit)));
    let sql = format!(
        "SELECT sl.model, {} AS total FROM \"LiteLLM_SpendLogs\" sl WHERE {} AND sl.model != '' GROUP BY sl.model ORDER BY total DESC LIMIT ${}",
        d.f64_out("SUM(sl.spend)"),
        filter.sql(),
        filter.params.len()
    );
    let rows = query(&sql, &filter.params)
        .fetch_all(&store.pool)
        .await
        .map_err(|e| db_error(ROUTE, e))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let model: String = row.try_get(0).map_err(|e| db_error(ROUTE, e))?;
        let total: Option<f64> = row.try_get(1).map_err(|e| db_error(ROUTE, e))?;
        out.push(json!({"model": model, "total_spend": total.unwrap_or(0.0)}));
    }
    Ok(Value::Array(out))
}

/// `GET /global/spend/report`.
pub async fn report(State(state): State<Arc<AppState>>, headers: HeaderMap, uri: Uri) -> Response {
    respond(spend_report(&state, &headers, &params_of(&uri)).await)
}

async fn spend_report(
    state: &AppState,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<Value, ProxyError> {
    const ROUTE: &str = "/global/spend/report";
    let identity = authenticate(state, headers, ROUTE).await?;
    if !is_admin(&identity) {
        return Err(admin_only(ROUTE));
    }
    let (Some(start), Some(end)) = (
        parse_date(params, "start_date")?,
        parse_date(params, "end_date")?,
    ) else {
        return Err(ProxyError::bad_request(
            "Please provide start_date and end_date",
        ));
    };
    let store = state.store.as_ref().ok_or_else(|| no_db(ROUTE))?;
    let d = store.dialect;
    let mut filter = Filter::new("sl.");
    filter.between(d, start, end + DAY_MS);
    let get = |k: &str| params.get(k).filter(|v| !v.is_empty()).cloned();
    if let Some(t) = get("team_id") {
        filter.eq("team_id", t);
    }
    if let Some(c) = get("customer_id") {
        filter.eq("end_user", c);
    }
    // LiteLLM: a key or an internal user gives the per-key report for them.
    if let Some(k) = get("api_key") {
        filter.eq("api_key", key_param(&k));
        return by_key(store, &filter).await.map_err(|e| db_error(ROUTE, e));
    }
    if let Some(u) = get("internal_user_id") {
        filter.eq("user", u);
        return by_key(store, &filter).await.map_err(|e| db_error(ROUTE, e));
    }
    let group_by = get("group_by").unwrap_or_else(|| "team".to_string());
    let (group_sql, list, name, join) = match group_by.as_str() {
        "team" => (
            "COALESCE(tt.team_alias, sl.team_id, 'Unassigned Team')",
            "teams",
            "team_name",
            "LEFT JOIN \"LiteLLM_TeamTable\" tt ON sl.team_id = tt.team_id",
        ),
        "customer" => ("COALESCE(sl.end_user, '')", "customers", "customer", ""),
        "model" => ("sl.model", "models", "model", ""),
        "api_key" => return by_key(store, &filter).await.map_err(|e| db_error(ROUTE, e)),
        other => {
            return Err(ProxyError::bad_param(
                "group_by",
                format!(
                    "group_by must be one of 'team', 'customer', 'api_key', 'model', got '{other}'"
                ),
            ))
        }
    };
    by_day(store, &filter, group_sql, join, list, name)
        .await
        .map_err(|e| db_error(ROUTE, e))
}

/// One group of a day: its name, total, and spend per model and key.
type Group = (String, f64, Vec<Value>);

/// LiteLLM's per-day report: for each day, each group (team, customer or model) with
/// its total and its spend per model and key.
async fn by_day(
    store: &Store,
    filter: &Filter,
    group_sql: &str,
    join: &str,
    list: &str,
    name: &str,
) -> Result<Value, sqlx::Error> {
    let d = store.dialect;
    let sql = format!(
        "SELECT {}, {group_sql}, sl.model, sl.api_key, {}, CAST(COALESCE(SUM(sl.total_tokens), 0) AS BIGINT) FROM \"LiteLLM_SpendLogs\" sl {join} WHERE {} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        day_of(d),
        d.f64_out("SUM(sl.spend)"),
        filter.sql()
    );
    let rows = query(&sql, &filter.params).fetch_all(&store.pool).await?;
    let mut days: Vec<(String, Vec<Group>)> = Vec::new();
    for row in rows {
        let day: String = row.try_get(0)?;
        let group: String = row.try_get::<Option<String>, _>(1)?.unwrap_or_default();
        let model: String = row.try_get(2)?;
        let key: String = row.try_get(3)?;
        let spend = row.try_get::<Option<f64>, _>(4)?.unwrap_or(0.0);
        let tokens: i64 = row.try_get(5)?;
        if days.last().map(|(d, _)| d != &day).unwrap_or(true) {
            days.push((day, Vec::new()));
        }
        let Some((_, groups)) = days.last_mut() else {
            continue;
        };
        if groups.last().map(|(g, _, _)| g != &group).unwrap_or(true) {
            groups.push((group, 0.0, Vec::new()));
        }
        let Some((_, total, metadata)) = groups.last_mut() else {
            continue;
        };
        *total += spend;
        let mut detail = json!({"api_key": key, "spend": spend, "total_tokens": tokens});
        if name != "model" {
            detail["model"] = Value::String(model);
        }
        metadata.push(detail);
    }
    Ok(Value::Array(
        days.into_iter()
            .map(|(day, groups)| {
                let groups: Vec<Value> = groups
                    .into_iter()
                    .map(|(g, total, metadata)| {
                        json!({name: g, "total_spend": total, "metadata": metadata})
                    })
                    .collect();
                json!({"group_by_day": format!("{day}T00:00:00+00:00"), list: groups})
            })
            .collect(),
    ))
}

/// LiteLLM's per-key report: each key's cost and tokens, with its models', most spent
/// first.
async fn by_key(store: &Store, filter: &Filter) -> Result<Value, sqlx::Error> {
    let d = store.dialect;
    let sql = format!(
        "SELECT sl.api_key, sl.model, {}, CAST(COALESCE(SUM(sl.prompt_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(sl.completion_tokens), 0) AS BIGINT) FROM \"LiteLLM_SpendLogs\" sl WHERE {} GROUP BY 1, 2 ORDER BY 1, 2",
        d.f64_out("SUM(sl.spend)"),
        filter.sql()
    );
    let rows = query(&sql, &filter.params).fetch_all(&store.pool).await?;
    let mut keys: Vec<(String, f64, i64, i64, Vec<Value>)> = Vec::new();
    for row in rows {
        let key: String = row.try_get(0)?;
        let model: String = row.try_get(1)?;
        let cost = row.try_get::<Option<f64>, _>(2)?.unwrap_or(0.0);
        let input: i64 = row.try_get(3)?;
        let output: i64 = row.try_get(4)?;
        if keys.last().map(|k| k.0 != key).unwrap_or(true) {
            keys.push((key, 0.0, 0, 0, Vec::new()));
        }
        let Some(k) = keys.last_mut() else { continue };
        k.1 += cost;
        k.2 += input;
        k.3 += output;
        k.4.push(json!({"model": model, "total_cost": cost, "total_input_tokens": input, "total_output_tokens": output}));
    }
    keys.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(Value::Array(
        keys.into_iter()
            .map(|(key, cost, input, output, models)| {
                json!({"api_key": key, "total_cost": cost, "total_input_tokens": input, "total_output_tokens": output, "model_details": models})
            })
            .collect(),
    ))
}
