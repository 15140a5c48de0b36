//! Spend in the database: the writer's one transaction per flush (spend increments in
//! sorted order, spend-log rows, daily aggregates), the budget totals read back, the
//! budget reset and the spend-log retention jobs, and the reads of the spend endpoints.
//!
//! Every value is a bound parameter; table and column names come from constants here.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use sqlx::Row;

use super::records::{query, query_pg, Kind, Param, PgTx, Table, Tx};
use super::{time, Dialect, Store};
use crate::proxy::budget::{self, Budget, Budgets, Deltas, Owner};

/// One `LiteLLM_SpendLogs` row: what an operator needs to follow spend, nothing static
/// (no model map, no prompt or response copies: LiteLLM #41499's 6 KB rows).
#[derive(Debug, Clone, PartialEq)]
pub struct LogRow {
    pub request_id: String,
    /// LiteLLM's call type (`acompletion`, `atext_completion`, `aembedding`).
    pub call_type: &'static str,
    /// The key's SHA-256 hash, never the key.
    pub api_key: String,
    pub spend: f64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub start_ms: i64,
    pub end_ms: i64,
    pub model: String,
    pub model_id: String,
    pub model_group: String,
    pub provider: String,
    /// The key's `user_id` (LiteLLM's `user` column).
    pub user: String,
    pub team_id: Option<String>,
    pub end_user: String,
    /// `success` or `failure`.
    pub status: &'static str,
    pub cache_hit: bool,
    /// The `metadata` column's JSON (`guardrail_information`), `None`: `{}`.
    pub metadata: Option<String>,
}

/// `LiteLLM_SpendLogs` as `/spend/logs` shows it.
pub const SPEND_LOGS: Table = Table {
    name: "LiteLLM_SpendLogs",
    id: "request_id",
    columns: &[
        ("request_id", Kind::Text),
        ("call_type", Kind::Text),
        ("api_key", Kind::Text),
        ("spend", Kind::F64),
        ("total_tokens", Kind::I64),
        ("prompt_tokens", Kind::I64),
        ("completion_tokens", Kind::I64),
        ("startTime", Kind::Ts),
        ("endTime", Kind::Ts),
        ("model", Kind::Text),
        ("model_id", Kind::Text),
        ("model_group", Kind::Text),
        ("custom_llm_provider", Kind::Text),
        ("user", Kind::Text),
        ("team_id", Kind::Text),
        ("end_user", Kind::Text),
        ("cache_hit", Kind::Text),
        ("status", Kind::Text),
        ("metadata", Kind::Json),
        ("request_tags", Kind::Json),
    ],
};

/// Rows per multi-row `INSERT` on SQLite (19 parameters each: well under its parameter
/// limit): a statement is a hop to the connection's worker thread.
const LOG_ROWS_PER_INSERT: usize = 200;

/// The columns a spend-log row is written with, in [`LogRow`]'s order.
const LOG_COLUMNS: &str = "request_id, call_type, api_key, spend, total_tokens, prompt_tokens, completion_tokens, \"startTime\", \"endTime\", model, model_id, model_group, custom_llm_provider, \"user\", team_id, end_user, status, cache_hit, metadata";

/// Rows per `COPY` data message on Postgres (a few hundred KB).
const PG_COPY_ROWS_PER_SEND: usize = 1_000;

/// One value of a `COPY` text-format line: `\N` for none; backslash, tab, newline and
/// carriage return escaped, so that nothing in a value can end it or its row; NUL, which
/// Postgres text cannot hold, as U+FFFD (as [`super::storable`]). The data goes over
/// the `COPY` protocol, never into SQL text.
pub(super) fn copy_value(out: &mut String, value: Option<&str>) {
    let Some(text) = value else {
        out.push_str("\\N");
        return;
    };
    if !text
        .bytes()
        .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r' | 0))
    {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str(super::NUL_STAND_IN),
            c => out.push(c),
        }
    }
}

/// A log row's column values as both dialects write them.
struct LogValues<'a> {
    request_id: &'a str,
    call_type: &'a str,
    api_key: &'a str,
    spend: f64,
    prompt_tokens: i64,
    completion_tokens: i64,
    start_time: String,
    end_time: String,
    model: &'a str,
    model_id: &'a str,
    model_group: &'a str,
    provider: &'a str,
    user_id: &'a str,
    team_id: Option<&'a str>,
    end_user: &'a str,
    status: &'a str,
    cache_hit: &'a str,
    metadata: &'a str,
}

impl<'a> LogValues<'a> {
    fn of(row: &'a LogRow) -> Self {
        LogValues {
            request_id: &row.request_id,
            call_type: row.call_type,
            api_key: &row.api_key,
            // A number either database reads back (the spend of a row is finite already).
            spend: if row.spend.is_finite() {
                row.spend
            } else {
                0.0
            },
            prompt_tokens: row.prompt_tokens,
            completion_tokens: row.completion_tokens,
            start_time: time::iso(row.start_ms),
            end_time: time::iso(row.end_ms),
            model: &row.model,
            model_id: &row.model_id,
            model_group: &row.model_group,
            provider: &row.provider,
            user_id: &row.user,
            team_id: row.team_id.as_deref(),
            end_user: &row.end_user,
            status: row.status,
            // LiteLLM writes the Python bool's text.
            cache_hit: if row.cache_hit { "True" } else { "False" },
            metadata: row.metadata.as_deref().unwrap_or("{}"),
        }
    }

    /// The values in [`LOG_COLUMNS`]' order, as bound parameters.
    fn params(self) -> [Param; 19] {
        [
            self.request_id.into(),
            self.call_type.into(),
            self.api_key.into(),
            Param::F64(Some(self.spend)),
            Param::I64(Some(self.prompt_tokens + self.completion_tokens)),
            Param::I64(Some(self.prompt_tokens)),
            Param::I64(Some(self.completion_tokens)),
            self.start_time.into(),
            self.end_time.into(),
            self.model.into(),
            self.model_id.into(),
            self.model_group.into(),
            self.provider.into(),
            self.user_id.into(),
            Param::Text(self.team_id.map(str::to_string)),
            self.end_user.into(),
            self.status.into(),
            self.cache_hit.into(),
            self.metadata.into(),
        ]
    }

    /// The values in [`LOG_COLUMNS`]' order as one line of `COPY`'s text format.
    fn copy_line(self, out: &mut String) {
        use std::fmt::Write;
        let texts = |out: &mut String, values: &[Option<&str>]| {
            for v in values {
                copy_value(out, *v);
                out.push('\t');
            }
        };
        texts(
            out,
            &[
                Some(self.request_id),
                Some(self.call_type),
                Some(self.api_key),
            ],
        );
        // Numbers and times have no character `COPY` escapes.
        let _ = write!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t",
            self.spend,
            self.prompt_tokens + self.completion_tokens,
            self.prompt_tokens,
            self.completion_tokens,
            self.start_time,
            self.end_time
        );
        texts(
            out,
            &[
                Some(self.model),
                Some(self.model_id),
                Some(self.model_group),
                Some(self.provider),
                Some(self.user_id),
                self.team_id,
                Some(self.end_user),
                Some(self.status),
                Some(self.cache_hit),
            ],
        );
        copy_value(out, Some(self.metadata));
        out.push('\n');
    }
}

/// Postgres: the log rows by `COPY` into the table, in a savepoint. A row whose
/// `request_id` is there already (a flush retried after its commit went through but
/// its answer was lost) fails the `COPY` as a whole: then the rows go through a
/// temporary table and `INSERT ... ON CONFLICT DO NOTHING`, so the others are written
/// once and none twice. (`INSERT ... ON CONFLICT` every time costs Postgres twice the
/// CPU a row: the conflict check per row and the array parsing.)
async fn copy_logs(tx: &mut PgTx, rows: &[LogRow]) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query("SAVEPOINT rustllm_spend_logs")
        .execute(&mut **tx)
        .await?;
    let copied = copy_in(tx, "\"LiteLLM_SpendLogs\"", rows).await;
    match copied {
        Err(e) if is_unique_violation(&e) => {
            for sql in [
                "ROLLBACK TO SAVEPOINT rustllm_spend_logs",
                "CREATE TEMPORARY TABLE rustllm_spend_logs_in (LIKE \"LiteLLM_SpendLogs\" INCLUDING DEFAULTS) ON COMMIT DROP",
            ] {
                sqlx::query(sql).execute(&mut **tx).await?;
            }
            copy_in(tx, "rustllm_spend_logs_in", rows).await?;
            let insert = format!(
                "INSERT INTO \"LiteLLM_SpendLogs\" ({LOG_COLUMNS}) SELECT {LOG_COLUMNS} FROM rustllm_spend_logs_in ON CONFLICT (request_id) DO NOTHING"
            );
            // The table goes with the transaction (`ON COMMIT DROP`, or its rollback).
            sqlx::query(&insert).execute(&mut **tx).await?;
        }
        other => other?,
    }
    sqlx::query("RELEASE SAVEPOINT rustllm_spend_logs")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// `COPY table (LOG_COLUMNS) FROM STDIN`, the rows streamed a chunk at a time.
async fn copy_in(tx: &mut PgTx, table: &str, rows: &[LogRow]) -> Result<(), sqlx::Error> {
    let mut copy = tx
        .copy_in_raw(&format!("COPY {table} ({LOG_COLUMNS}) FROM STDIN"))
        .await?;
    let mut data = String::new();
    for chunk in rows.chunks(PG_COPY_ROWS_PER_SEND) {
        data.clear();
        for row in chunk {
            LogValues::of(row).copy_line(&mut data);
        }
        if let Err(e) = copy.send(data.as_bytes()).await {
            let _ = copy.abort("rustllm: sending the rows failed").await;
            return Err(e);
        }
    }
    copy.finish().await.map(drop)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

/// `pg_advisory_xact_lock` keys of the leader-only jobs.
const RESET_LOCK: i64 = 0x0072_7573_746c_6c72;
const PRUNE_LOCK: i64 = 0x0072_7573_746c_6c70;

/// Where an owner's spend lives: table and id column.
fn owner_table(owner: Owner) -> (&'static str, &'static str) {
    match owner {
        Owner::Key => ("LiteLLM_VerificationToken", "token"),
        Owner::User => ("LiteLLM_UserTable", "user_id"),
        Owner::Team => ("LiteLLM_TeamTable", "team_id"),
        Owner::EndUser => ("LiteLLM_EndUserTable", "user_id"),
    }
}

fn daily_table(owner: Owner) -> Option<(&'static str, &'static str)> {
    match owner {
        Owner::User => Some(("LiteLLM_DailyUserSpend", "user_id")),
        Owner::Team => Some(("LiteLLM_DailyTeamSpend", "team_id")),
        Owner::EndUser => Some(("LiteLLM_DailyEndUserSpend", "end_user_id")),
        Owner::Key => None,
    }
}

/// A statement's run on a transaction.
type Run<'a> = Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 'a>>;

/// A write transaction of either driver, for the statements a flush runs the same way
/// on both.
trait Statements: Send {
    fn run<'a>(&'a mut self, sql: &'a str, params: &'a [Param]) -> Run<'a>;
}

impl Statements for Tx {
    fn run<'a>(&'a mut self, sql: &'a str, params: &'a [Param]) -> Run<'a> {
        Box::pin(async move { query(sql, params).execute(&mut **self).await.map(drop) })
    }
}

impl Statements for PgTx {
    fn run<'a>(&'a mut self, sql: &'a str, params: &'a [Param]) -> Run<'a> {
        Box::pin(async move { query_pg(sql, params).execute(&mut **self).await.map(drop) })
    }
}

/// The spend increments of a flush: keys, users, teams and end users (sorted by owner
/// then id, so that instances lock rows in one order), then team memberships.
async fn write_totals(tx: &mut dyn Statements, deltas: &Deltas) -> Result<(), sqlx::Error> {
    for owner in Owner::ALL {
        let (table, id) = owner_table(owner);
        let sql = if owner == Owner::EndUser {
            // LiteLLM creates the end user on its first spend.
            format!(
                "INSERT INTO \"{table}\" (user_id, spend) VALUES ($2, $1) ON CONFLICT (user_id) DO UPDATE SET spend = \"{table}\".spend + excluded.spend"
            )
        } else {
            format!("UPDATE \"{table}\" SET spend = spend + $1 WHERE \"{id}\" = $2")
        };
        for (who, amount) in &deltas.owners[owner as usize] {
            tx.run(&sql, &[Param::F64(Some(*amount)), who.as_str().into()])
                .await?;
        }
    }
    for ((user, team), amount) in &deltas.members {
        tx.run(
            "UPDATE \"LiteLLM_TeamMembership\" SET spend = spend + $1 WHERE user_id = $2 AND team_id = $3",
            &[Param::F64(Some(*amount)), user.as_str().into(), team.as_str().into()],
        )
        .await?;
    }
    Ok(())
}

/// The daily aggregates of a flush, one upsert per (owner, day, key, model) tuple.
async fn write_daily(
    tx: &mut dyn Statements,
    dialect: Dialect,
    deltas: &Deltas,
) -> Result<(), sqlx::Error> {
    for (key, t) in &deltas.daily {
        let Some((table, entity)) = daily_table(key.owner) else {
            continue;
        };
        let now = dialect.ts_in(14);
        let add = |c: &str| format!("{c} = \"{table}\".{c} + excluded.{c}");
        let sql = format!(
                "INSERT INTO \"{table}\" (id, {entity}, date, api_key, model, model_group, custom_llm_provider, prompt_tokens, completion_tokens, spend, api_requests, successful_requests, failed_requests, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, {now}, {now}) \
                 ON CONFLICT ({entity}, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name) DO UPDATE SET {}, {}, {}, {}, {}, {}, updated_at = excluded.updated_at",
                add("prompt_tokens"),
                add("completion_tokens"),
                add("spend"),
                add("api_requests"),
                add("successful_requests"),
                add("failed_requests"),
            );
        tx.run(
            &sql,
            &[
                uuid::Uuid::new_v4().to_string().into(),
                key.id.as_str().into(),
                key.date.as_str().into(),
                key.api_key.as_str().into(),
                key.model.as_str().into(),
                key.model_group.as_str().into(),
                key.provider.as_str().into(),
                Param::I64(Some(t.prompt_tokens)),
                Param::I64(Some(t.completion_tokens)),
                Param::F64(Some(t.spend)),
                Param::I64(Some(t.api_requests)),
                Param::I64(Some(t.successful_requests)),
                Param::I64(Some(t.failed_requests)),
                time::iso(time::now_ms()).into(),
            ],
        )
        .await?;
    }
    Ok(())
}

impl Store {
    /// Write one flush in one transaction: spend increments (sorted by owner then id,
    /// so that instances lock rows in one order), team membership spend, the log rows,
    /// and the daily aggregates. On Postgres on the writer's own connection, the log
    /// rows by `COPY` ([`copy_logs`]).
    pub async fn write_spend(&self, deltas: &Deltas, rows: &[LogRow]) -> Result<(), sqlx::Error> {
        if deltas.is_empty() && rows.is_empty() {
            return Ok(());
        }
        if let Some(writer) = &self.writer {
            let mut tx = writer.begin().await?;
            write_totals(&mut tx, deltas).await?;
            copy_logs(&mut tx, rows).await?;
            write_daily(&mut tx, self.dialect, deltas).await?;
            return tx.commit().await;
        }
        let mut tx = self.begin_write().await?;
        write_totals(&mut tx, deltas).await?;
        for chunk in rows.chunks(LOG_ROWS_PER_INSERT) {
            self.insert_logs_sqlite(&mut tx, chunk).await?;
        }
        write_daily(&mut tx, self.dialect, deltas).await?;
        tx.commit().await
    }

    async fn insert_logs_sqlite(&self, tx: &mut Tx, rows: &[LogRow]) -> Result<(), sqlx::Error> {
        // Anonymous `?`: sqlx looks up every parameter's name before binding it, and
        // SQLite's look-up walks the statement's list of names, so 3,600 `$n` parameters
        // bind in quadratic time (about 100 µs of CPU per row, a fifth of the proxy's
        // under load); nameless ones are found at once.
        let row_values = format!("({})", ["?"; 19].join(", "));
        let mut params = Vec::with_capacity(rows.len() * 19);
        for row in rows {
            params.extend(LogValues::of(row).params());
        }
        let sql = format!(
            "INSERT INTO \"LiteLLM_SpendLogs\" ({LOG_COLUMNS}) VALUES {} ON CONFLICT (request_id) DO NOTHING",
            vec![row_values; rows.len()].join(", ")
        );
        query(&sql, &params).execute(&mut **tx).await?;
        Ok(())
    }

    /// Every budget in the database with its spend: keys, users and teams with a
    /// `max_budget`, end users whose budget (`LiteLLM_BudgetTable`) has one.
    pub async fn read_budgets(&self) -> Result<Budgets, sqlx::Error> {
        let d = self.dialect;
        let mut out: Budgets = Default::default();
        for owner in [Owner::Key, Owner::User, Owner::Team] {
            let (table, id) = owner_table(owner);
            let sql = format!(
                "SELECT \"{id}\", {}, {}, {} FROM \"{table}\" WHERE max_budget IS NOT NULL",
                d.f64_out("spend"),
                d.f64_out("max_budget"),
                d.ts_out("budget_reset_at"),
            );
            out[owner as usize] = budgets_of(sqlx::query(&sql).fetch_all(&self.pool).await?)?;
        }
        let sql = format!(
            "SELECT e.user_id, {}, {}, {} FROM \"LiteLLM_EndUserTable\" e JOIN \"LiteLLM_BudgetTable\" b ON e.budget_id = b.budget_id WHERE b.max_budget IS NOT NULL",
            d.f64_out("e.spend"),
            d.f64_out("b.max_budget"),
            d.ts_out("b.budget_reset_at"),
        );
        out[Owner::EndUser as usize] = budgets_of(sqlx::query(&sql).fetch_all(&self.pool).await?)?;
        Ok(out)
    }

    /// Take the leader's lock for this transaction (Postgres: several instances, one
    /// runs the job; SQLite: one file, the write lock already serialises).
    async fn lead(&self, tx: &mut Tx, lock: i64) -> Result<bool, sqlx::Error> {
        if self.dialect == Dialect::Sqlite {
            return Ok(true);
        }
        let row = sqlx::query("SELECT CASE WHEN pg_try_advisory_xact_lock($1) THEN 1 ELSE 0 END")
            .bind(lock)
            .fetch_one(&mut **tx)
            .await?;
        Ok(row.try_get::<i32, _>(0)? == 1)
    }

    /// LiteLLM's budget reset job: every key, user, team and budget (end users, team
    /// members) whose `budget_reset_at` has passed gets `spend = 0` and its next
    /// `budget_reset_at` ([`budget::next_reset`]); one with a `budget_duration` and no
    /// `budget_reset_at` gets its first. Returns how many were reset, or `None` when
    /// another instance holds the job.
    pub async fn reset_budgets(&self, now_ms: i64) -> Result<Option<u64>, sqlx::Error> {
        let d = self.dialect;
        let mut tx = self.begin_write().await?;
        if !self.lead(&mut tx, RESET_LOCK).await? {
            return Ok(None);
        }
        let now = time::iso(now_ms);
        let mut reset = 0;
        for (table, id) in [
            owner_table(Owner::Key),
            owner_table(Owner::User),
            owner_table(Owner::Team),
            ("LiteLLM_BudgetTable", "budget_id"),
        ] {
            let sql = format!(
                "SELECT \"{id}\", budget_duration, {} FROM \"{table}\" WHERE budget_duration IS NOT NULL AND (budget_reset_at IS NULL OR budget_reset_at <= {}) ORDER BY \"{id}\"",
                d.ts_out("budget_reset_at"),
                d.ts_in(1),
            );
            let due = query(&sql, &[now.clone().into()])
                .fetch_all(&mut *tx)
                .await?;
            for row in due {
                let who: String = row.try_get(0)?;
                let duration: String = row.try_get(1)?;
                let had_window = row.try_get::<Option<String>, _>(2)?.is_some();
                let Some(next) = budget::next_reset(&duration, now_ms) else {
                    continue;
                };
                let spend = if table == "LiteLLM_BudgetTable" || !had_window {
                    ""
                } else {
                    "spend = 0, "
                };
                let sql = format!(
                    "UPDATE \"{table}\" SET {spend}budget_reset_at = {} WHERE \"{id}\" = $2",
                    d.ts_in(1)
                );
                query(&sql, &[time::iso(next).into(), who.as_str().into()])
                    .execute(&mut *tx)
                    .await?;
                if table == "LiteLLM_BudgetTable" && had_window {
                    for members in ["LiteLLM_EndUserTable", "LiteLLM_TeamMembership"] {
                        query(
                            &format!("UPDATE \"{members}\" SET spend = 0 WHERE budget_id = $1"),
                            &[who.as_str().into()],
                        )
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                if had_window {
                    reset += 1;
                }
            }
        }
        tx.commit().await?;
        Ok(Some(reset))
    }

    /// Delete up to `batch` spend-log rows that started before `before_ms`; how many,
    /// or `None` when another instance holds the job.
    pub async fn prune_spend_logs(
        &self,
        before_ms: i64,
        batch: i64,
    ) -> Result<Option<u64>, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        if !self.lead(&mut tx, PRUNE_LOCK).await? {
            return Ok(None);
        }
        let sql = format!(
            "DELETE FROM \"LiteLLM_SpendLogs\" WHERE request_id IN (SELECT request_id FROM \"LiteLLM_SpendLogs\" WHERE \"startTime\" < {} LIMIT $2)",
            self.dialect.ts_in(1)
        );
        let deleted = query(
            &sql,
            &[time::iso(before_ms).into(), Param::I64(Some(batch))],
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(Some(deleted))
    }
}

fn budgets_of(rows: Vec<sqlx::any::AnyRow>) -> Result<HashMap<String, Budget>, sqlx::Error> {
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get(0)?;
        let spend: Option<f64> = row.try_get(1)?;
        let Some(max_budget) = row.try_get::<Option<f64>, _>(2)? else {
            continue;
        };
        let reset_at = row
            .try_get::<Option<String>, _>(3)?
            .and_then(|t| time::parse_iso(&t));
        out.insert(
            id,
            Budget {
                max_budget,
                spend: spend.unwrap_or(0.0),
                reset_at,
            },
        );
    }
    Ok(out)
}
