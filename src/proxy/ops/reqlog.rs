//! The request log (one JSON line per request, `litellm_settings.json_logs: true`, to
//! stdout or to `litellm_settings.json_logs_file`) and the audit log of admin actions
//! (`LiteLLM_AuditLog` rows, and a JSON line when the request log is on).
//!
//! Lines are written by a background task: the request path hands the finished
//! request's event to a bounded queue and never waits (a full queue drops the line and
//! counts it). No key is ever written: callers appear as their key alias and the first
//! characters of the key's hash, as LiteLLM's logs show `hashed_api_key`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use crate::proxy::spend::SpendEvent;
use crate::proxy::store::{self, Store};

/// Lines that may wait for the writer.
const QUEUE: usize = 10_000;

/// Characters of the key hash a log line shows.
const HASH_PREFIX: usize = 12;

/// Where request lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    /// `json_logs: true`.
    Stdout,
    /// `json_logs_file: PATH`, appended to.
    File(PathBuf),
}

/// What the writer is asked to write.
enum Line {
    Request(Box<SpendEvent>),
    Audit(Box<Value>),
}

/// The queue in front of the log writer.
pub struct RequestLog {
    tx: mpsc::Sender<Line>,
    dropped: AtomicU64,
}

impl RequestLog {
    /// Start the writer task (on the current runtime) and return its queue. A file is
    /// opened for appending first: a path that cannot be written is an error at start.
    pub fn start(target: LogTarget) -> Result<RequestLog, String> {
        let mut out: Box<dyn Write + Send> = match &target {
            LogTarget::Stdout => Box::new(std::io::stdout()),
            LogTarget::File(path) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("cannot open the request log {}: {e}", path.display()))?,
            ),
        };
        let (tx, mut rx) = mpsc::channel::<Line>(QUEUE);
        // A blocking thread: writes to a slow disk or a full pipe must not hold a runtime
        // worker.
        tokio::task::spawn_blocking(move || {
            let mut buf = Vec::with_capacity(64 * 1024);
            while let Some(line) = rx.blocking_recv() {
                write_line(&mut buf, line);
                // Write what else is queued in the same go.
                while buf.len() < 60 * 1024 {
                    match rx.try_recv() {
                        Ok(line) => write_line(&mut buf, line),
                        Err(_) => break,
                    }
                }
                let _ = out.write_all(&buf).and_then(|_| out.flush());
                buf.clear();
            }
        });
        Ok(RequestLog {
            tx,
            dropped: AtomicU64::new(0),
        })
    }

    /// Queue a finished request's line without waiting.
    pub fn request(&self, event: SpendEvent) {
        if self.tx.try_send(Line::Request(Box::new(event))).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Queue an audit line without waiting.
    fn audit(&self, entry: Value) {
        if self.tx.try_send(Line::Audit(Box::new(entry))).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Lines dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

fn write_line(buf: &mut Vec<u8>, line: Line) {
    let value = match line {
        Line::Request(ev) => request_line(&ev),
        Line::Audit(v) => *v,
    };
    if serde_json::to_writer(&mut *buf, &value).is_ok() {
        buf.push(b'\n');
    }
}

/// The first characters of a key's hash, as logs and alerts show a key without an alias.
pub fn hash_prefix(hash: &str) -> &str {
    hash.get(..HASH_PREFIX).unwrap_or(hash)
}

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// One request as a JSON object (the log line's fields).
pub fn request_line(ev: &SpendEvent) -> Value {
    let mut line = request_fields(ev);
    if !ev.guardrails.is_empty() {
        line["guardrails"] = ev.guardrails.iter().map(|r| r.to_json()).collect();
    }
    line
}

fn request_fields(ev: &SpendEvent) -> Value {
    let grant = ev.grant.as_deref();
    let started_ms = ev
        .started
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    json!({
        "timestamp": store::time::iso(started_ms),
        "level": if ev.status >= 400 { "ERROR" } else { "INFO" },
        "message": "request",
        "call_id": ev.call_id,
        "route": ev.route,
        "key_alias": grant.and_then(|g| g.key_alias.as_deref()),
        "key_hash_prefix": ev.key_hash.as_deref().map(hash_prefix),
        "team_id": grant.and_then(|g| g.team_id.as_deref()),
        "user_id": grant.and_then(|g| g.user_id.as_deref()),
        "requested_model": ev.requested_model,
        "model_group": ev.model_group,
        "model_id": (!ev.model_id.is_empty()).then_some(ev.model_id.as_str()),
        "provider": (!ev.provider.is_empty()).then_some(ev.provider.as_str()),
        "status": ev.status,
        "stream": ev.stream,
        "cache_hit": ev.cache_hit,
        "prompt_tokens": ev.prompt_tokens,
        "completion_tokens": ev.completion_tokens,
        "total_tokens": ev.prompt_tokens + ev.completion_tokens,
        "cost": ev.cost,
        "duration_ms": ms(ev.duration),
        "llm_api_duration_ms": ev.llm_api_duration.map(ms),
        "overhead_ms": ev.llm_api_duration.map(|api| ms(ev.duration.saturating_sub(api))),
        "time_to_first_token_ms": ev.time_to_first_token.map(ms),
    })
}

/// Keys of a row that hold secrets or their hashes: never written to the audit log.
const SECRET_FIELDS: &[&str] = &[
    "token",
    "key",
    "api_key",
    "master_key",
    "password",
    "salt_key",
    "client_secret",
    "aws_secret_access_key",
    "aws_session_token",
    "vertex_credentials",
    "azure_ad_token",
];

/// A row with its secrets removed, at any depth.
pub fn without_secrets(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !SECRET_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), without_secrets(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_secrets).collect()),
        Value::String(s) if s.starts_with("sk-") => Value::String(crate::logging::mask(s)),
        other => other.clone(),
    }
}

/// One admin action: LiteLLM's `LiteLLM_AuditLog` row.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Who did it (`user_id`, or `"proxy_admin"` for the master key).
    pub changed_by: String,
    /// The caller's key hash (never the key).
    pub changed_by_key_hash: String,
    /// `created`, `updated`, `deleted`, `blocked`, `regenerated`, ...
    pub action: String,
    /// The table: `LiteLLM_VerificationToken`, `LiteLLM_UserTable`, `LiteLLM_TeamTable`.
    pub table: String,
    /// The row's id. For keys, the key's hash (LiteLLM once wrote the raw key here,
    /// #31620).
    pub object_id: String,
    /// The row before the change (`None` for a creation).
    pub before: Option<Value>,
    /// The row after it (`None` for a deletion).
    pub after: Option<Value>,
}

/// Audit rows that may wait for the writer.
const AUDIT_QUEUE: usize = 10_000;

/// One row for `LiteLLM_AuditLog`, secrets already removed.
struct AuditRow {
    id: String,
    at_ms: i64,
    entry: AuditEntry,
}

/// Where audit entries go: `LiteLLM_AuditLog` (written by a background task, off the
/// admin route's path) and the request log.
#[derive(Default)]
pub struct AuditLog {
    tx: Option<mpsc::Sender<AuditRow>>,
    dropped: AtomicU64,
}

impl AuditLog {
    /// Start the writer of `LiteLLM_AuditLog` rows on `store` (when there is one).
    pub fn start(store: Option<Store>) -> AuditLog {
        let Some(store) = store else {
            return AuditLog::default();
        };
        let (tx, mut rx) = mpsc::channel::<AuditRow>(AUDIT_QUEUE);
        tokio::spawn(async move {
            while let Some(row) = rx.recv().await {
                if let Err(e) = insert(&store, &row).await {
                    crate::proxy::log::warn(&format!(
                        "audit log: cannot write the {} of {} {}: {}",
                        row.entry.action,
                        row.entry.table,
                        row.entry.object_id,
                        store::scrub(&e.to_string(), "")
                    ));
                }
            }
        });
        AuditLog {
            tx: Some(tx),
            dropped: AtomicU64::new(0),
        }
    }

    /// Record an admin action: secrets are removed from `before` and `after`, a JSON
    /// line is queued when the request log is on, and the row is queued for
    /// `LiteLLM_AuditLog`. Never waits.
    pub fn record(&self, mut entry: AuditEntry, lines: Option<&RequestLog>) {
        entry.before = entry.before.as_ref().map(without_secrets);
        entry.after = entry.after.as_ref().map(without_secrets);
        // A UUIDv7 from the thread's fast generator, as call ids are (no getrandom
        // syscall per row: guardrail decisions write one per request).
        let id = crate::proxy::routes::call_id();
        let now = store::time::now_ms();
        if let Some(lines) = lines {
            lines.audit(json!({
                "timestamp": store::time::iso(now),
                "level": "INFO",
                "message": "audit",
                "id": id,
                "changed_by": entry.changed_by,
                "changed_by_api_key": entry.changed_by_key_hash,
                "action": entry.action,
                "table_name": entry.table,
                "object_id": entry.object_id,
                "before_value": entry.before,
                "updated_values": entry.after,
            }));
        }
        if let Some(tx) = &self.tx {
            let row = AuditRow {
                id,
                at_ms: now,
                entry,
            };
            if tx.try_send(row).is_err() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Whether rows are written (there is a database).
    pub fn writes(&self) -> bool {
        self.tx.is_some()
    }

    /// Rows dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn insert(store: &Store, row: &AuditRow) -> Result<(), sqlx::Error> {
    let d = store.dialect;
    let sql = format!(
        "INSERT INTO \"LiteLLM_AuditLog\" (id, updated_at, changed_by, changed_by_api_key, action, table_name, object_id, before_value, updated_values) VALUES ($1, {}, $3, $4, $5, $6, $7, {}, {})",
        d.ts_in(2),
        d.json_in(8),
        d.json_in(9)
    );
    let e = &row.entry;
    let json_text = |v: &Option<Value>| v.as_ref().map(Value::to_string);
    sqlx::query(&sql)
        .bind(&row.id)
        .bind(store::time::iso(row.at_ms))
        .bind(&e.changed_by)
        .bind(&e.changed_by_key_hash)
        .bind(&e.action)
        .bind(&e.table)
        .bind(&e.object_id)
        .bind(json_text(&e.before))
        .bind(json_text(&e.after))
        .execute(&store.pool)
        .await?;
    Ok(())
}
