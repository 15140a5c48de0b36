//! The dashboard at `/ui`: a page, its script and style compiled into the binary
//! (`src/proxy/ui/`), and one read-only JSON route of its own, `GET /ui/api/activity`
//! (requests and errors over time, and the newest requests, from `LiteLLM_SpendLogs`).
//! Everything else the page shows comes from the admin routes it calls with the master
//! key (`/key/list`, `/key/generate`, `/global/spend/report`, `/model/info`, `/health`).
//!
//! The page, script and style carry no data and are served to anyone; every byte of
//! data needs the master key, sent by the page as `Authorization: Bearer` (it keeps the
//! key in the tab's `sessionStorage`: no cookie, so no CSRF). Every response carries a
//! Content-Security-Policy without inline script, `frame-ancestors 'none'` and
//! `X-Frame-Options: DENY`; the activity route's answers are `no-store`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{json, Value};
use sqlx::Row;

use super::{authenticate, error_response, json_response};
use crate::proxy::auth::Role;
use crate::proxy::errors::ProxyError;
use crate::proxy::state::AppState;
use crate::proxy::store::records::{query, Param};
use crate::proxy::store::{time, Dialect, Store};

const INDEX_HTML: &str = include_str!("../ui/index.html");
const APP_JS: &str = include_str!("../ui/app.js");
const APP_CSS: &str = include_str!("../ui/app.css");
const ICON_SVG: &str = include_str!("../ui/icon.svg");

/// What the page may load: its own script, style and icon, and `fetch` to this origin.
/// No inline script or style, nothing from elsewhere, no framing, no form posts.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; \
form-action 'none'; frame-ancestors 'none'";

/// The longest window the activity route answers (30 days).
pub const MAX_WINDOW_MINUTES: i64 = 30 * 24 * 60;

/// The most buckets the activity route answers: each is a row of the query too, so
/// this bounds both.
pub const MAX_BUCKETS: i64 = 120;

/// The newest requests of the window the activity route lists.
pub const RECENT_ROWS: i64 = 20;

/// Bucket widths (seconds) the activity route picks from: the narrowest that fits the
/// window in [`MAX_BUCKETS`].
const BUCKET_SECONDS: &[i64] = &[
    60, 300, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
];

/// The dashboard's routes, merged into [`super::app`].
pub fn routes() -> axum::Router<Arc<AppState>> {
    axum::Router::new()
        .route("/ui", get(page))
        .route("/ui/", get(page))
        .route("/ui/assets/{file}", get(asset))
        .route("/ui/api/activity", get(activity))
}

/// Headers every `/ui` response carries.
fn secure(mut response: Response, cache: &'static str) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

fn text(body: &'static str, content_type: &'static str) -> Response {
    secure(
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            body,
        )
            .into_response(),
        // Revalidated on every load: a new binary's page is never mixed with an old script.
        "no-cache",
    )
}

/// `GET /ui`: the page (login form and the empty views; no data).
pub async fn page() -> Response {
    text(INDEX_HTML, "text/html; charset=utf-8")
}

/// `GET /ui/assets/{file}`: the page's script, style and icon.
pub async fn asset(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "app.js" => text(APP_JS, "text/javascript; charset=utf-8"),
        "app.css" => text(APP_CSS, "text/css; charset=utf-8"),
        "icon.svg" => text(ICON_SVG, "image/svg+xml"),
        _ => secure(
            ProxyError::new(
                StatusCode::NOT_FOUND,
                "not_found_error",
                format!("Route not found: /ui/assets/{file}"),
            )
            .into_response(),
            "no-store",
        ),
    }
}

/// `GET /ui/api/activity?minutes=N`: requests, errors (spend-log rows with status
/// `failure`) and spend per bucket over the last `N` minutes (default 60, at most
/// [`MAX_WINDOW_MINUTES`]), in at most [`MAX_BUCKETS`] buckets aligned to UTC, and
/// the window's newest [`RECENT_ROWS`] requests. The master key only (a virtual key
/// gets 403). Without a database: `{"database": false}`, so that the page can say so.
pub async fn activity(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let response = match activity_body(&state, &headers, &uri).await {
        Ok(v) => json_response(serde_json::to_vec(&v).unwrap_or_default()),
        Err(e) => error_response(e, None),
    };
    secure(response, "no-store")
}

async fn activity_body(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<Value, ProxyError> {
    const ROUTE: &str = "/ui/api/activity";
    let identity = authenticate(state, headers, ROUTE).await?;
    if identity.role == Role::VirtualKey {
        return Err(ProxyError::new(
            StatusCode::FORBIDDEN,
            "auth_error",
            format!("Only proxy admin can access this route. Route={ROUTE}. The dashboard needs the master key."),
        ));
    }
    let minutes = window_minutes(uri)?;
    let Some(store) = state.store.as_ref() else {
        return Ok(json!({"database": false, "minutes": minutes}));
    };
    let window = Window::ending_at(time::now_ms(), minutes);
    let db_error = |e: sqlx::Error| {
        ProxyError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            format!("{ROUTE} Error: {e}"),
        )
    };
    let counts = window.count(store).await.map_err(db_error)?;
    let recent = window.recent(store).await.map_err(db_error)?;
    let mut body = window.body(&counts);
    body["recent"] = Value::Array(recent);
    Ok(body)
}

/// `minutes=` of the query string: 1 to [`MAX_WINDOW_MINUTES`], default 60.
fn window_minutes(uri: &Uri) -> Result<i64, ProxyError> {
    let given = uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .filter(|(k, _)| k == "minutes")
            .last()
            .map(|(_, v)| v.into_owned())
    });
    let Some(text) = given else { return Ok(60) };
    text.parse::<i64>()
        .ok()
        .filter(|m| (1..=MAX_WINDOW_MINUTES).contains(m))
        .ok_or_else(|| {
            ProxyError::bad_param(
                "minutes",
                format!(
                    "minutes must be a whole number from 1 to {MAX_WINDOW_MINUTES}, got '{text}'"
                ),
            )
        })
}

/// One bucket's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    /// Spend-log rows: every request that was routed.
    pub requests: i64,
    /// Rows with `status` `failure`.
    pub errors: i64,
    /// USD.
    pub spend: f64,
}

/// The buckets of a window: `count` of them, `bucket_s` seconds wide, the first
/// starting at `start_s` (seconds since the epoch, a multiple of `bucket_s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The window asked for.
    pub minutes: i64,
    /// One bucket's width, seconds.
    pub bucket_s: i64,
    /// The first bucket's start, seconds since the epoch.
    pub start_s: i64,
    /// How many buckets (at most [`MAX_BUCKETS`]).
    pub count: i64,
}

impl Window {
    /// The window of `minutes` that ends with the bucket holding `now_ms`.
    pub fn ending_at(now_ms: i64, minutes: i64) -> Window {
        let span = minutes * 60;
        let bucket_s = BUCKET_SECONDS
            .iter()
            .copied()
            .find(|b| (span + b - 1) / b <= MAX_BUCKETS)
            .unwrap_or(86_400);
        let count = ((span + bucket_s - 1) / bucket_s).max(1);
        let end_s = now_ms.div_euclid(1000).div_euclid(bucket_s) * bucket_s + bucket_s;
        Window {
            minutes,
            bucket_s,
            start_s: end_s - count * bucket_s,
            count,
        }
    }

    fn end_s(&self) -> i64 {
        self.start_s + self.count * self.bucket_s
    }

    /// Each bucket's counts, oldest first: one grouped query over the window.
    pub async fn count(&self, store: &Store) -> Result<Vec<Counts>, sqlx::Error> {
        let d = store.dialect;
        let params = [
            Param::Text(Some(time::iso(self.start_s * 1000))),
            Param::Text(Some(time::iso(self.end_s() * 1000))),
            Param::I64(Some(self.start_s)),
            Param::I64(Some(self.bucket_s)),
        ];
        let sql = format!(
            "SELECT ({} - $3) / $4 AS bucket, CAST(COUNT(*) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN status = 'failure' THEN 1 ELSE 0 END), 0) AS BIGINT), {} \
             FROM \"LiteLLM_SpendLogs\" WHERE \"startTime\" >= {} AND \"startTime\" < {} \
             GROUP BY 1 ORDER BY 1",
            epoch_seconds(d, "\"startTime\""),
            d.f64_out("COALESCE(SUM(spend), 0)"),
            d.ts_in(1),
            d.ts_in(2),
        );
        let rows = query(&sql, &params).fetch_all(&store.pool).await?;
        let mut out = vec![Counts::default(); self.count as usize];
        for row in rows {
            let bucket: i64 = row.try_get(0)?;
            let Some(slot) = usize::try_from(bucket).ok().and_then(|i| out.get_mut(i)) else {
                continue;
            };
            *slot = Counts {
                requests: row.try_get(1)?,
                errors: row.try_get(2)?,
                spend: row.try_get::<Option<f64>, _>(3)?.unwrap_or(0.0),
            };
        }
        Ok(out)
    }

    /// The window's newest [`RECENT_ROWS`] spend-log rows, newest first: when, which
    /// model, key (its hash) and team, the status, tokens, spend and duration.
    pub async fn recent(&self, store: &Store) -> Result<Vec<Value>, sqlx::Error> {
        let d = store.dialect;
        let params = [
            Param::Text(Some(time::iso(self.start_s * 1000))),
            Param::Text(Some(time::iso(self.end_s() * 1000))),
            Param::I64(Some(RECENT_ROWS)),
        ];
        let sql = format!(
            "SELECT request_id, {}, {}, model, api_key, team_id, status, {}, \
             CAST(total_tokens AS BIGINT) FROM \"LiteLLM_SpendLogs\" \
             WHERE \"startTime\" >= {} AND \"startTime\" < {} \
             ORDER BY \"startTime\" DESC, request_id LIMIT $3",
            d.ts_out("\"startTime\""),
            d.ts_out("\"endTime\""),
            d.f64_out("spend"),
            d.ts_in(1),
            d.ts_in(2),
        );
        let rows = query(&sql, &params).fetch_all(&store.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let start: String = row.try_get(1)?;
            let end: String = row.try_get(2)?;
            let duration_ms = match (time::parse_iso(&start), time::parse_iso(&end)) {
                (Some(s), Some(e)) => Some(e - s),
                _ => None,
            };
            out.push(json!({
                "request_id": row.try_get::<String, _>(0)?,
                "start": start,
                "model": row.try_get::<String, _>(3)?,
                "api_key": row.try_get::<String, _>(4)?,
                "team_id": row.try_get::<Option<String>, _>(5)?,
                "status": row.try_get::<Option<String>, _>(6)?,
                "spend": row.try_get::<Option<f64>, _>(7)?.unwrap_or(0.0),
                "total_tokens": row.try_get::<i64, _>(8)?,
                "duration_ms": duration_ms,
            }));
        }
        Ok(out)
    }

    /// The route's answer: every bucket (zeros included, so a chart has no gaps) and
    /// the totals.
    pub fn body(&self, counts: &[Counts]) -> Value {
        let mut total = Counts::default();
        let buckets: Vec<Value> = counts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                total.requests += c.requests;
                total.errors += c.errors;
                total.spend += c.spend;
                json!({
                    "start": time::iso((self.start_s + i as i64 * self.bucket_s) * 1000),
                    "requests": c.requests,
                    "errors": c.errors,
                    "spend": c.spend,
                })
            })
            .collect();
        json!({
            "database": true,
            "minutes": self.minutes,
            "bucket_seconds": self.bucket_s,
            "start": time::iso(self.start_s * 1000),
            "end": time::iso(self.end_s() * 1000),
            "buckets": buckets,
            "totals": {"requests": total.requests, "errors": total.errors, "spend": total.spend},
        })
    }
}

/// Whole seconds since the epoch of a timestamp column (stored as UTC in both).
fn epoch_seconds(d: Dialect, col: &str) -> String {
    match d {
        Dialect::Postgres => format!("CAST(FLOOR(EXTRACT(EPOCH FROM {col})) AS BIGINT)"),
        Dialect::Sqlite => format!("CAST(strftime('%s', {col}) AS INTEGER)"),
    }
}

#[cfg(test)]
mod tests;
