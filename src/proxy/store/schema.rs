//! The schema, in LiteLLM's table and column names (`litellm/proxy/schema.prisma`) for
//! what rustllm covers, so SQL and dashboards written against LiteLLM's tables keep
//! working, and rustllm's own two tables (`rustllm_migrations`, `rustllm_changes`).
//!
//! Migrations are a short ordered list run at start, each in its own transaction and
//! recorded in `rustllm_migrations`; on Postgres under an advisory lock so that
//! instances starting together do not race. A migrated database costs one
//! `SELECT` at start.
//!
//! Differences from LiteLLM's schema, on purpose:
//! - The daily spend tables' unique tuple columns are `NOT NULL DEFAULT ''` (LiteLLM's
//!   are nullable): a `NULL` in a unique tuple never conflicts, so `INSERT ... ON
//!   CONFLICT DO UPDATE` would add rows instead of adding up.
//! - `LiteLLM_SpendLogs` has the `(api_key, "startTime")` index from the start (LiteLLM
//!   #35766: without it a budget query seq-scanned the table), and rows carry no copy of
//!   static data (#41499: 65% of a row was the model map).
//! - Only the columns rustllm reads or writes, plus the ones LiteLLM's dashboards read.

use sqlx::Row;

use super::{Dialect, Store};

/// One migration: its version (the order) and its statements.
struct Migration {
    version: i64,
    name: &'static str,
    /// Statements with the dialect's types as `{placeholders}` ([`render`]).
    sql: &'static str,
}

/// Every migration, oldest first. Append only: a released migration never changes.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "keys, users, teams, budgets, spend, audit",
        sql: V1,
    },
    Migration {
        version: 2,
        name: "spend logs: the session_id index over rows with a session",
        sql: V2,
    },
    Migration {
        version: 3,
        name: "spend logs: the end_user index over rows with an end user",
        sql: V3,
    },
];

/// The proxy writes no `session_id` (LiteLLM's sessions are the SDK's), so every row
/// went into that index as NULL: one B-tree insert per spend-log row for nothing. Over
/// rows with a session only, it still serves `WHERE session_id = ...` (which implies
/// `IS NOT NULL`, on SQLite and Postgres alike).
const V2: &str = r#"
DROP INDEX IF EXISTS "LiteLLM_SpendLogs_session_id_idx";
CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_session_id_idx" ON "LiteLLM_SpendLogs" (session_id) WHERE session_id IS NOT NULL;
"#;

/// As V2 for `end_user`: a request without `user` (most of them) wrote a NULL entry into
/// that index, ~10% of what a spend-log row costs Postgres to insert (300,000 rows by
/// `INSERT ... SELECT`: 8.6-9.3 µs a row with the full index, 7.8-9.0 with this one, 7.6-7.8
/// with none). `WHERE end_user = ...` implies `IS NOT NULL`: look-ups by end user use it.
const V3: &str = r#"
DROP INDEX IF EXISTS "LiteLLM_SpendLogs_end_user_idx";
CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_end_user_idx" ON "LiteLLM_SpendLogs" (end_user) WHERE end_user IS NOT NULL;
"#;

const V1: &str = r#"
CREATE TABLE IF NOT EXISTS "LiteLLM_BudgetTable" (
    budget_id TEXT PRIMARY KEY,
    max_budget {f64},
    soft_budget {f64},
    max_parallel_requests INTEGER,
    tpm_limit BIGINT,
    rpm_limit BIGINT,
    model_max_budget {json},
    budget_duration TEXT,
    budget_reset_at {ts},
    created_at {ts} NOT NULL DEFAULT {now},
    created_by TEXT NOT NULL DEFAULT '',
    updated_at {ts} NOT NULL DEFAULT {now},
    updated_by TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS "LiteLLM_TeamTable" (
    team_id TEXT PRIMARY KEY,
    team_alias TEXT,
    organization_id TEXT,
    admins {arr} NOT NULL DEFAULT {arr_empty},
    members {arr} NOT NULL DEFAULT {arr_empty},
    members_with_roles {json} NOT NULL DEFAULT '[]',
    metadata {json} NOT NULL DEFAULT '{}',
    max_budget {f64},
    spend {f64} NOT NULL DEFAULT 0,
    models {arr} NOT NULL DEFAULT {arr_empty},
    max_parallel_requests INTEGER,
    tpm_limit BIGINT,
    rpm_limit BIGINT,
    budget_duration TEXT,
    budget_reset_at {ts},
    blocked {bool} NOT NULL DEFAULT {false},
    created_at {ts} NOT NULL DEFAULT {now},
    updated_at {ts} NOT NULL DEFAULT {now},
    model_spend {json} NOT NULL DEFAULT '{}',
    model_max_budget {json} NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS "LiteLLM_UserTable" (
    user_id TEXT PRIMARY KEY,
    user_alias TEXT,
    team_id TEXT,
    organization_id TEXT,
    teams {arr} NOT NULL DEFAULT {arr_empty},
    user_role TEXT,
    max_budget {f64},
    spend {f64} NOT NULL DEFAULT 0,
    user_email TEXT,
    models {arr} NOT NULL DEFAULT {arr_empty},
    metadata {json} NOT NULL DEFAULT '{}',
    max_parallel_requests INTEGER,
    tpm_limit BIGINT,
    rpm_limit BIGINT,
    budget_duration TEXT,
    budget_reset_at {ts},
    model_spend {json} NOT NULL DEFAULT '{}',
    model_max_budget {json} NOT NULL DEFAULT '{}',
    created_at {ts} DEFAULT {now},
    updated_at {ts} DEFAULT {now}
);
CREATE TABLE IF NOT EXISTS "LiteLLM_VerificationToken" (
    token TEXT PRIMARY KEY,
    key_name TEXT,
    key_alias TEXT,
    spend {f64} NOT NULL DEFAULT 0,
    expires {ts},
    models {arr} NOT NULL DEFAULT {arr_empty},
    aliases {json} NOT NULL DEFAULT '{}',
    config {json} NOT NULL DEFAULT '{}',
    user_id TEXT,
    team_id TEXT,
    permissions {json} NOT NULL DEFAULT '{}',
    max_parallel_requests INTEGER,
    metadata {json} NOT NULL DEFAULT '{}',
    blocked {bool},
    tpm_limit BIGINT,
    rpm_limit BIGINT,
    max_budget {f64},
    budget_duration TEXT,
    budget_reset_at {ts},
    allowed_routes {arr} NOT NULL DEFAULT {arr_empty},
    model_spend {json} NOT NULL DEFAULT '{}',
    model_max_budget {json} NOT NULL DEFAULT '{}',
    budget_id TEXT,
    organization_id TEXT,
    created_at {ts} DEFAULT {now},
    created_by TEXT,
    updated_at {ts} DEFAULT {now},
    updated_by TEXT
);
CREATE INDEX IF NOT EXISTS "LiteLLM_VerificationToken_user_id_team_id_idx" ON "LiteLLM_VerificationToken" (user_id, team_id);
CREATE INDEX IF NOT EXISTS "LiteLLM_VerificationToken_team_id_idx" ON "LiteLLM_VerificationToken" (team_id);
CREATE INDEX IF NOT EXISTS "LiteLLM_VerificationToken_budget_reset_at_expires_idx" ON "LiteLLM_VerificationToken" (budget_reset_at, expires);
CREATE TABLE IF NOT EXISTS "LiteLLM_EndUserTable" (
    user_id TEXT PRIMARY KEY,
    alias TEXT,
    spend {f64} NOT NULL DEFAULT 0,
    allowed_model_region TEXT,
    default_model TEXT,
    budget_id TEXT,
    blocked {bool} NOT NULL DEFAULT {false}
);
CREATE TABLE IF NOT EXISTS "LiteLLM_TeamMembership" (
    user_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    spend {f64} NOT NULL DEFAULT 0,
    budget_id TEXT,
    PRIMARY KEY (user_id, team_id)
);
CREATE TABLE IF NOT EXISTS "LiteLLM_SpendLogs" (
    request_id TEXT PRIMARY KEY,
    call_type TEXT NOT NULL,
    api_key TEXT NOT NULL DEFAULT '',
    spend {f64} NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    "startTime" {ts} NOT NULL,
    "endTime" {ts} NOT NULL,
    "completionStartTime" {ts},
    model TEXT NOT NULL DEFAULT '',
    model_id TEXT DEFAULT '',
    model_group TEXT DEFAULT '',
    custom_llm_provider TEXT DEFAULT '',
    api_base TEXT DEFAULT '',
    "user" TEXT DEFAULT '',
    metadata {json} DEFAULT '{}',
    cache_hit TEXT DEFAULT '',
    cache_key TEXT DEFAULT '',
    request_tags {json} DEFAULT '[]',
    team_id TEXT,
    end_user TEXT,
    requester_ip_address TEXT,
    messages {json} DEFAULT '{}',
    response {json} DEFAULT '{}',
    session_id TEXT,
    status TEXT,
    proxy_server_request {json} DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_startTime_idx" ON "LiteLLM_SpendLogs" ("startTime");
CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_api_key_startTime_idx" ON "LiteLLM_SpendLogs" (api_key, "startTime");
CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_end_user_idx" ON "LiteLLM_SpendLogs" (end_user);
CREATE INDEX IF NOT EXISTS "LiteLLM_SpendLogs_session_id_idx" ON "LiteLLM_SpendLogs" (session_id);
{daily:LiteLLM_DailyUserSpend:user_id}
{daily:LiteLLM_DailyTeamSpend:team_id}
{daily:LiteLLM_DailyEndUserSpend:end_user_id}
CREATE TABLE IF NOT EXISTS "LiteLLM_AuditLog" (
    id TEXT PRIMARY KEY,
    updated_at {ts} NOT NULL DEFAULT {now},
    changed_by TEXT NOT NULL DEFAULT '',
    changed_by_api_key TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    table_name TEXT NOT NULL,
    object_id TEXT NOT NULL,
    before_value {json},
    updated_values {json}
);
CREATE TABLE IF NOT EXISTS rustllm_changes (
    seq {serial},
    table_name TEXT NOT NULL,
    object_id TEXT NOT NULL,
    changed_at {ts} NOT NULL DEFAULT {now}
);
"#;

/// A daily spend table: one row per (entity, date, key, model, provider, tool).
const DAILY: &str = r#"
CREATE TABLE IF NOT EXISTS "{table}" (
    id TEXT PRIMARY KEY,
    {entity} TEXT NOT NULL DEFAULT '',
    date TEXT NOT NULL,
    api_key TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    model_group TEXT,
    custom_llm_provider TEXT NOT NULL DEFAULT '',
    mcp_namespaced_tool_name TEXT NOT NULL DEFAULT '',
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    cache_read_input_tokens BIGINT NOT NULL DEFAULT 0,
    cache_creation_input_tokens BIGINT NOT NULL DEFAULT 0,
    spend {f64} NOT NULL DEFAULT 0,
    api_requests BIGINT NOT NULL DEFAULT 0,
    successful_requests BIGINT NOT NULL DEFAULT 0,
    failed_requests BIGINT NOT NULL DEFAULT 0,
    created_at {ts} NOT NULL DEFAULT {now},
    updated_at {ts} NOT NULL DEFAULT {now}
);
CREATE UNIQUE INDEX IF NOT EXISTS "{table}_{entity}_date_api_key_model_custom_llm_provider_mcp_key" ON "{table}" ({entity}, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name);
CREATE INDEX IF NOT EXISTS "{table}_date_idx" ON "{table}" (date);
CREATE INDEX IF NOT EXISTS "{table}_{entity}_idx" ON "{table}" ({entity});
CREATE INDEX IF NOT EXISTS "{table}_api_key_idx" ON "{table}" (api_key);
CREATE INDEX IF NOT EXISTS "{table}_model_idx" ON "{table}" (model);
"#;

/// Every table the schema creates (the tests check each exists).
pub const TABLES: &[&str] = &[
    "LiteLLM_BudgetTable",
    "LiteLLM_TeamTable",
    "LiteLLM_UserTable",
    "LiteLLM_VerificationToken",
    "LiteLLM_EndUserTable",
    "LiteLLM_TeamMembership",
    "LiteLLM_SpendLogs",
    "LiteLLM_DailyUserSpend",
    "LiteLLM_DailyTeamSpend",
    "LiteLLM_DailyEndUserSpend",
    "LiteLLM_AuditLog",
    "rustllm_changes",
    "rustllm_migrations",
];

/// `pg_advisory_lock` key of the migrations: any fixed number ("rustllm" in ASCII).
const MIGRATION_LOCK: i64 = 0x0072_7573_746c_6c6d;

/// A migration's statements in `dialect`.
fn render(sql: &str, dialect: Dialect) -> Vec<String> {
    let mut text = String::new();
    for line in sql.lines() {
        if let Some(spec) = line
            .trim()
            .strip_prefix("{daily:")
            .and_then(|s| s.strip_suffix('}'))
        {
            let (table, entity) = spec.split_once(':').unwrap_or((spec, "user_id"));
            text.push_str(&DAILY.replace("{table}", table).replace("{entity}", entity));
        } else {
            text.push_str(line);
            text.push('\n');
        }
    }
    let types: &[(&str, &str)] = match dialect {
        Dialect::Postgres => &[
            ("{f64}", "DOUBLE PRECISION"),
            ("{json}", "JSONB"),
            ("{arr_empty}", "ARRAY[]::TEXT[]"),
            ("{arr}", "TEXT[]"),
            ("{ts}", "TIMESTAMP(3)"),
            ("{now}", "CURRENT_TIMESTAMP"),
            ("{bool}", "BOOLEAN"),
            ("{false}", "FALSE"),
            ("{serial}", "BIGSERIAL PRIMARY KEY"),
        ],
        Dialect::Sqlite => &[
            ("{f64}", "REAL"),
            ("{json}", "TEXT"),
            ("{arr_empty}", "'[]'"),
            ("{arr}", "TEXT"),
            ("{ts}", "TEXT"),
            ("{now}", "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"),
            ("{bool}", "BOOLEAN"),
            ("{false}", "0"),
            ("{serial}", "INTEGER PRIMARY KEY AUTOINCREMENT"),
        ],
    };
    for (from, to) in types {
        text = text.replace(from, to);
    }
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn err(what: &str, e: sqlx::Error) -> String {
    format!("database migration ({what}): {e}")
}

/// Create or bring the schema up to date. A database already at the latest version
/// costs one query.
pub async fn migrate(store: &Store) -> Result<(), String> {
    let mut conn = store.pool.acquire().await.map_err(|e| err("connect", e))?;
    let dialect = store.dialect;
    if dialect == Dialect::Postgres {
        // Instances starting together wait here for the first one to finish.
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await
            .map_err(|e| err("lock", e))?;
    }
    let result = run_pending(&mut conn, dialect).await;
    if dialect == Dialect::Postgres {
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await;
        if let Err(e) = unlocked {
            // The lock is the session's: closing the connection releases it.
            let _ = conn.detach();
            result?;
            return Err(err("unlock", e));
        }
    }
    result
}

async fn run_pending(conn: &mut sqlx::AnyConnection, dialect: Dialect) -> Result<(), String> {
    let ts = match dialect {
        Dialect::Postgres => "TIMESTAMP(3)",
        Dialect::Sqlite => "TEXT",
    };
    let latest = MIGRATIONS.last().map(|m| m.version).unwrap_or(0);
    let current: Option<i64> = match sqlx::query("SELECT MAX(version) FROM rustllm_migrations")
        .fetch_one(&mut *conn)
        .await
    {
        Ok(row) => row
            .try_get::<Option<i64>, _>(0)
            .map_err(|e| err("read", e))?,
        // No table yet: a new database.
        Err(_) => None,
    };
    if current.is_some_and(|v| v >= latest) {
        return Ok(());
    }
    sqlx::query(&format!(
        "CREATE TABLE IF NOT EXISTS rustllm_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at {ts} NOT NULL)"
    ))
    .execute(&mut *conn)
    .await
    .map_err(|e| err("create rustllm_migrations", e))?;
    for m in MIGRATIONS {
        if current.is_some_and(|v| v >= m.version) {
            continue;
        }
        let mut tx = match dialect {
            Dialect::Sqlite => sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await,
            Dialect::Postgres => sqlx::Connection::begin(&mut *conn).await,
        }
        .map_err(|e| err("begin", e))?;
        // Recording the version first takes SQLite's write lock, and tells a second
        // process (SQLite has no advisory lock) that this one got there first.
        let now = dialect.ts_in(3);
        let claimed = sqlx::query(&format!(
            "INSERT INTO rustllm_migrations (version, name, applied_at) VALUES ($1, $2, {now}) ON CONFLICT (version) DO NOTHING"
        ))
        .bind(m.version)
        .bind(m.name)
        .bind(super::time::iso(super::time::now_ms()))
        .execute(&mut *tx)
        .await
        .map_err(|e| err("record", e))?;
        if claimed.rows_affected() == 0 {
            continue;
        }
        for statement in render(m.sql, dialect) {
            sqlx::query(&statement)
                .execute(&mut *tx)
                .await
                .map_err(|e| err(&format!("version {}", m.version), e))?;
        }
        tx.commit().await.map_err(|e| err("commit", e))?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) fn rendered(dialect: Dialect) -> Vec<String> {
    MIGRATIONS
        .iter()
        .flat_map(|m| render(m.sql, dialect))
        .collect()
}
