//! Rows of LiteLLM's key, user and team tables as JSON objects (the admin API's bodies
//! are JSON, and so are LiteLLM's responses), read and written through one description
//! of each table's columns. Every value is a bound parameter; only column and table
//! names from the constants below are ever part of the SQL text.
//!
//! Every admin write goes through [`Store::begin_change`], which records the change in
//! `rustllm_changes` in the same transaction: that is how other proxy instances learn
//! to refresh their in-memory keys ([`Store::changes_since`]).

use serde_json::{Map, Value};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};

use super::{Dialect, Store};

/// How a column is stored and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// `JSONB` on Postgres, JSON text on SQLite; an object or array in JSON.
    Json,
    /// `TEXT[]` on Postgres, a JSON array on SQLite; a list of strings in JSON.
    Arr,
    /// `TIMESTAMP(3)`; ISO-8601 text in JSON.
    Ts,
    F64,
    I64,
    Bool,
}

/// A table: its name, primary key column and the columns rustllm reads and writes.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub id: &'static str,
    pub columns: &'static [(&'static str, Kind)],
}

impl Table {
    /// The kind of a column, if the table has it.
    pub fn kind(&self, column: &str) -> Option<Kind> {
        self.columns
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, k)| *k)
    }
}

use Kind::*;

/// `LiteLLM_VerificationToken`: the virtual keys (`token` is `sha256(key)` hex).
pub const KEYS: Table = Table {
    name: "LiteLLM_VerificationToken",
    id: "token",
    columns: &[
        ("token", Text),
        ("key_name", Text),
        ("key_alias", Text),
        ("spend", F64),
        ("expires", Ts),
        ("models", Arr),
        ("aliases", Json),
        ("config", Json),
        ("user_id", Text),
        ("team_id", Text),
        ("permissions", Json),
        ("max_parallel_requests", I64),
        ("metadata", Json),
        ("blocked", Bool),
        ("tpm_limit", I64),
        ("rpm_limit", I64),
        ("max_budget", F64),
        ("budget_duration", Text),
        ("budget_reset_at", Ts),
        ("allowed_routes", Arr),
        ("model_spend", Json),
        ("model_max_budget", Json),
        ("budget_id", Text),
        ("organization_id", Text),
        ("created_at", Ts),
        ("created_by", Text),
        ("updated_at", Ts),
        ("updated_by", Text),
    ],
};

/// `LiteLLM_UserTable`.
pub const USERS: Table = Table {
    name: "LiteLLM_UserTable",
    id: "user_id",
    columns: &[
        ("user_id", Text),
        ("user_alias", Text),
        ("team_id", Text),
        ("organization_id", Text),
        ("teams", Arr),
        ("user_role", Text),
        ("max_budget", F64),
        ("spend", F64),
        ("user_email", Text),
        ("models", Arr),
        ("metadata", Json),
        ("max_parallel_requests", I64),
        ("tpm_limit", I64),
        ("rpm_limit", I64),
        ("budget_duration", Text),
        ("budget_reset_at", Ts),
        ("model_spend", Json),
        ("model_max_budget", Json),
        ("created_at", Ts),
        ("updated_at", Ts),
    ],
};

/// `LiteLLM_TeamTable`.
pub const TEAMS: Table = Table {
    name: "LiteLLM_TeamTable",
    id: "team_id",
    columns: &[
        ("team_id", Text),
        ("team_alias", Text),
        ("organization_id", Text),
        ("admins", Arr),
        ("members", Arr),
        ("members_with_roles", Json),
        ("metadata", Json),
        ("max_budget", F64),
        ("spend", F64),
        ("models", Arr),
        ("max_parallel_requests", I64),
        ("tpm_limit", I64),
        ("rpm_limit", I64),
        ("budget_duration", Text),
        ("budget_reset_at", Ts),
        ("blocked", Bool),
        ("created_at", Ts),
        ("updated_at", Ts),
        ("model_spend", Json),
        ("model_max_budget", Json),
    ],
};

/// `LiteLLM_TeamMembership`: a user's spend and budget within one team.
pub const MEMBERSHIPS: Table = Table {
    name: "LiteLLM_TeamMembership",
    id: "user_id",
    columns: &[
        ("user_id", Text),
        ("team_id", Text),
        ("spend", F64),
        ("budget_id", Text),
    ],
};

/// A bound parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(Option<String>),
    F64(Option<f64>),
    I64(Option<i64>),
    Bool(Option<bool>),
}

impl From<&str> for Param {
    fn from(s: &str) -> Param {
        Param::Text(Some(s.to_string()))
    }
}

impl From<String> for Param {
    fn from(s: String) -> Param {
        Param::Text(Some(s))
    }
}

fn bind<'q, DB: sqlx::Database>(
    q: Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    p: &Param,
) -> Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<f64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<bool>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    match p {
        Param::Text(v) => q.bind(v.clone()),
        Param::F64(v) => q.bind(*v),
        Param::I64(v) => q.bind(*v),
        Param::Bool(v) => q.bind(*v),
    }
}

/// A query with its parameters bound.
pub fn query<'q>(sql: &'q str, params: &[Param]) -> Query<'q, Any, AnyArguments<'q>> {
    params.iter().fold(sqlx::query(sql), bind)
}

/// A query with its parameters bound, on a native Postgres connection (the spend
/// writer's: `COPY` is not in sqlx's `Any` driver).
pub fn query_pg<'q>(
    sql: &'q str,
    params: &[Param],
) -> Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    params.iter().fold(sqlx::query(sql), bind)
}

/// A JSON value as the parameter for a column of `kind` (`None` for a value that does
/// not fit: the admin API validates before it writes).
pub fn param(kind: Kind, v: &Value) -> Option<Param> {
    Some(match (kind, v) {
        (Text | Ts, Value::Null) => Param::Text(None),
        (Text | Ts, Value::String(s)) => Param::Text(Some(s.clone())),
        (Json, Value::Null) => Param::Text(None),
        (Json, v @ (Value::Object(_) | Value::Array(_))) => Param::Text(Some(v.to_string())),
        (Arr, Value::Null) => Param::Text(Some("[]".into())),
        (Arr, Value::Array(items)) if items.iter().all(Value::is_string) => {
            Param::Text(Some(v.to_string()))
        }
        (F64, Value::Null) => Param::F64(None),
        (F64, Value::Number(n)) => Param::F64(Some(n.as_f64()?)),
        (I64, Value::Null) => Param::I64(None),
        (I64, Value::Number(n)) => Param::I64(Some(n.as_i64()?)),
        (Bool, Value::Null) => Param::Bool(None),
        (Bool, Value::Bool(b)) => Param::Bool(Some(*b)),
        _ => return None,
    })
}

/// `col` in `dialect`, as a parameter placeholder for a value of `kind`.
fn placeholder(dialect: Dialect, kind: Kind, n: usize) -> String {
    match kind {
        Json => dialect.json_in(n),
        Arr => dialect.arr_in(n),
        Ts => dialect.ts_in(n),
        _ => format!("${n}"),
    }
}

fn select_list(dialect: Dialect, table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|(c, k)| {
            let col = format!("\"{c}\"");
            match k {
                Text | I64 => col,
                Json => dialect.json_out(&col),
                Arr => dialect.arr_out(&col),
                Ts => dialect.ts_out(&col),
                F64 => dialect.f64_out(&col),
                Bool => dialect.bool_out(&col),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn read_row(table: &Table, row: &AnyRow) -> Result<Map<String, Value>, sqlx::Error> {
    let mut out = Map::new();
    for (i, (c, k)) in table.columns.iter().enumerate() {
        let v = match k {
            Text | Ts => row
                .try_get::<Option<String>, _>(i)?
                .map(Value::String)
                .unwrap_or(Value::Null),
            Json | Arr => match row.try_get::<Option<String>, _>(i)? {
                Some(text) => serde_json::from_str(&text).unwrap_or(Value::Null),
                None if *k == Arr => Value::Array(Vec::new()),
                None => Value::Null,
            },
            F64 => row
                .try_get::<Option<f64>, _>(i)?
                .map(Value::from)
                .unwrap_or(Value::Null),
            I64 => row
                .try_get::<Option<i64>, _>(i)?
                .map(Value::from)
                .unwrap_or(Value::Null),
            Bool => row
                .try_get::<Option<i64>, _>(i)?
                .map(|b| Value::Bool(b != 0))
                .unwrap_or(Value::Null),
        };
        out.insert(c.to_string(), v);
    }
    Ok(out)
}

/// A transaction of the admin API.
pub type Tx = sqlx::Transaction<'static, Any>;
/// A transaction on the spend writer's native Postgres connection.
pub type PgTx = sqlx::Transaction<'static, sqlx::Postgres>;

impl Store {
    /// Rows of `table` matching `condition` (SQL over the table's columns with `$1`...
    /// placeholders for `params`; empty for every row).
    pub async fn select(
        &self,
        table: &Table,
        condition: &str,
        params: &[Param],
    ) -> Result<Vec<Map<String, Value>>, sqlx::Error> {
        let sql = select_sql(self.dialect, table, condition);
        let rows = query(&sql, params).fetch_all(&self.pool).await?;
        rows.iter().map(|r| read_row(table, r)).collect()
    }

    /// How many rows of `table` match `condition`.
    pub async fn count(
        &self,
        table: &Table,
        condition: &str,
        params: &[Param],
    ) -> Result<i64, sqlx::Error> {
        let mut sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM \"{}\"", table.name);
        if !condition.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(condition);
        }
        query(&sql, params)
            .fetch_one(&self.pool)
            .await?
            .try_get::<i64, _>(0)
    }

    /// The row of `table` whose id is `id`.
    pub async fn get(
        &self,
        table: &Table,
        id: &str,
    ) -> Result<Option<Map<String, Value>>, sqlx::Error> {
        let condition = format!("\"{}\" = $1", table.id);
        Ok(self
            .select(table, &condition, &[id.into()])
            .await?
            .into_iter()
            .next())
    }

    /// Begin an admin write that changes `table`'s row `id`: the transaction, with the
    /// change already recorded (first, so that SQLite's write lock and Postgres'
    /// change-order lock are taken before anything is read).
    pub async fn begin_change(&self, table: &Table, id: &str) -> Result<Tx, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        self.record_change(&mut tx, table, id).await?;
        Ok(tx)
    }

    /// Record one more changed row in `tx` (after [`Store::begin_change`]).
    pub async fn record_change(
        &self,
        tx: &mut Tx,
        table: &Table,
        id: &str,
    ) -> Result<(), sqlx::Error> {
        if self.dialect == Dialect::Postgres {
            // Changes commit in `seq` order: a poller that has seen seq N never misses a
            // smaller one committed later. Admin writes are rare; the lock is held for
            // the transaction only.
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(CHANGE_LOCK)
                .execute(&mut **tx)
                .await?;
        }
        let sql = format!(
            "INSERT INTO rustllm_changes (table_name, object_id, changed_at) VALUES ($1, $2, {})",
            self.dialect.ts_in(3)
        );
        query(
            &sql,
            &[
                table.name.into(),
                id.into(),
                super::time::iso(super::time::now_ms()).into(),
            ],
        )
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Rows of `table` matching `condition`, read inside a transaction.
    pub async fn select_in(
        &self,
        tx: &mut Tx,
        table: &Table,
        condition: &str,
        params: &[Param],
    ) -> Result<Vec<Map<String, Value>>, sqlx::Error> {
        let sql = select_sql(self.dialect, table, condition);
        let rows = query(&sql, params).fetch_all(&mut **tx).await?;
        rows.iter().map(|r| read_row(table, r)).collect()
    }

    /// Insert a row (the columns `row` has; the others take their defaults).
    pub async fn insert(
        &self,
        tx: &mut Tx,
        table: &Table,
        row: &Map<String, Value>,
    ) -> Result<(), sqlx::Error> {
        let (names, params) = columns_of(table, row)?;
        let placeholders: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, (_, k))| placeholder(self.dialect, *k, i + 1))
            .collect();
        let sql = format!(
            "INSERT INTO \"{}\" ({}) VALUES ({})",
            table.name,
            names
                .iter()
                .map(|(c, _)| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", "),
            placeholders.join(", ")
        );
        query(&sql, &params).execute(&mut **tx).await?;
        Ok(())
    }

    /// Set the columns `changes` has on the row whose id is `id`; the number of rows
    /// changed.
    pub async fn update(
        &self,
        tx: &mut Tx,
        table: &Table,
        id: &str,
        changes: &Map<String, Value>,
    ) -> Result<u64, sqlx::Error> {
        let (names, mut params) = columns_of(table, changes)?;
        if names.is_empty() {
            return Ok(0);
        }
        let sets: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, (c, k))| format!("\"{c}\" = {}", placeholder(self.dialect, *k, i + 1)))
            .collect();
        let sql = format!(
            "UPDATE \"{}\" SET {} WHERE \"{}\" = ${}",
            table.name,
            sets.join(", "),
            table.id,
            names.len() + 1
        );
        params.push(id.into());
        Ok(query(&sql, &params)
            .execute(&mut **tx)
            .await?
            .rows_affected())
    }

    /// Delete rows matching `condition`; how many.
    pub async fn delete_where(
        &self,
        tx: &mut Tx,
        table: &Table,
        condition: &str,
        params: &[Param],
    ) -> Result<u64, sqlx::Error> {
        let sql = format!("DELETE FROM \"{}\" WHERE {condition}", table.name);
        Ok(query(&sql, params)
            .execute(&mut **tx)
            .await?
            .rows_affected())
    }

    /// The latest change's `seq` (0 for none).
    pub async fn last_change(&self) -> Result<i64, sqlx::Error> {
        let row = sqlx::query("SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM rustllm_changes")
            .fetch_one(&self.pool)
            .await?;
        row.try_get::<i64, _>(0)
    }

    /// Changes after `seq`, oldest first: `(seq, table name, row id)`.
    pub async fn changes_since(&self, seq: i64) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT seq, table_name, object_id FROM rustllm_changes WHERE seq > $1 ORDER BY seq LIMIT 10000",
        )
        .bind(seq)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// Forget changes older than `keep_ms` (every instance has long seen them).
    pub async fn prune_changes(&self, keep_ms: i64) -> Result<u64, sqlx::Error> {
        let before = super::time::iso(super::time::now_ms() - keep_ms);
        let sql = format!(
            "DELETE FROM rustllm_changes WHERE changed_at < {}",
            self.dialect.ts_in(1)
        );
        Ok(query(&sql, &[before.into()])
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}

/// `pg_advisory_xact_lock` key of admin writes.
const CHANGE_LOCK: i64 = 0x0072_7573_746c_6c6e;

fn select_sql(dialect: Dialect, table: &Table, condition: &str) -> String {
    let mut sql = format!(
        "SELECT {} FROM \"{}\"",
        select_list(dialect, table),
        table.name
    );
    if !condition.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(condition);
    }
    sql
}

type Columns = Vec<(&'static str, Kind)>;

/// The table's columns `row` sets, and their parameters. A value of the wrong type is
/// an error (the admin API checks types before it gets here).
fn columns_of(
    table: &Table,
    row: &Map<String, Value>,
) -> Result<(Columns, Vec<Param>), sqlx::Error> {
    let mut names = Vec::new();
    let mut params = Vec::new();
    for (c, k) in table.columns {
        let Some(v) = row.get(*c) else { continue };
        let p = param(*k, v).ok_or_else(|| {
            sqlx::Error::Protocol(format!("{}.{c}: a value of the wrong type", table.name))
        })?;
        names.push((*c, *k));
        params.push(p);
    }
    Ok((names, params))
}
