//! The proxy's database: keys, users, teams, spend (issue 15), in LiteLLM's tables.
//!
//! One schema for SQLite (the default: a file beside the config, WAL) and Postgres
//! (several proxy instances), created and migrated by the proxy at start
//! ([`schema::migrate`]). Queries go through sqlx's `any` driver, always parameterised;
//! the few places where the two dialects differ (JSON, text arrays, timestamps) are
//! spelled by [`Dialect`], so one query text serves both.
//!
//! Nothing here runs on the request path: keys are loaded into memory at start
//! (`keys` module) and spend is written in batches off the path.

pub mod records;
pub mod schema;
pub mod spend;
pub mod time;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

/// LiteLLM's default `database_connection_pool_limit`.
pub const DEFAULT_POOL_LIMIT: u32 = 10;

/// The default SQLite file's name, created beside the config file.
pub const DEFAULT_SQLITE_FILE: &str = "rustllm_proxy.db";

/// Which database the proxy keeps its keys, users, teams and spend in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseSetting {
    /// `general_settings.database_url` and `DATABASE_URL` unset: SQLite in
    /// [`DEFAULT_SQLITE_FILE`] beside the config.
    DefaultSqlite,
    /// A `sqlite://` or `postgres(ql)://` URL.
    Url(String),
    /// No database (`general_settings.database: none`): master key and config models
    /// only, LiteLLM's no-DB mode; the admin API answers "DB not connected".
    Disabled,
}

/// The two SQL dialects the store speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// A JSON parameter (`$n`): Postgres columns are `JSONB` (as LiteLLM's), SQLite's
    /// are JSON text.
    pub fn json_in(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("CAST(${n} AS JSONB)"),
            Dialect::Sqlite => format!("${n}"),
        }
    }

    /// A text-array parameter passed as a JSON array of strings: Postgres columns are
    /// `TEXT[]` (as LiteLLM's), SQLite's are JSON text.
    pub fn arr_in(self, n: usize) -> String {
        match self {
            Dialect::Postgres => {
                format!("ARRAY(SELECT jsonb_array_elements_text(CAST(${n} AS JSONB)))")
            }
            Dialect::Sqlite => format!("${n}"),
        }
    }

    /// A timestamp parameter passed as ISO-8601 text ([`time::iso`]).
    pub fn ts_in(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("CAST(${n} AS TIMESTAMP(3))"),
            Dialect::Sqlite => format!("${n}"),
        }
    }

    /// A JSON column read as text.
    pub fn json_out(self, col: &str) -> String {
        match self {
            Dialect::Postgres => format!("CAST({col} AS TEXT)"),
            Dialect::Sqlite => col.to_string(),
        }
    }

    /// A text-array column read as a JSON array (text).
    pub fn arr_out(self, col: &str) -> String {
        match self {
            Dialect::Postgres => format!("CAST(COALESCE(array_to_json({col}), '[]') AS TEXT)"),
            Dialect::Sqlite => format!("COALESCE({col}, '[]')"),
        }
    }

    /// A timestamp column read as ISO-8601 text in UTC (`...Z`).
    pub fn ts_out(self, col: &str) -> String {
        match self {
            Dialect::Postgres => {
                format!("to_char({col}, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
            }
            Dialect::Sqlite => col.to_string(),
        }
    }

    /// A float column read as a 64-bit float (the `any` driver decodes no narrower
    /// float as `f64` on SQLite, and `REAL` is 32 bits on Postgres).
    pub fn f64_out(self, col: &str) -> String {
        match self {
            Dialect::Postgres => format!("CAST({col} AS DOUBLE PRECISION)"),
            Dialect::Sqlite => format!("CAST({col} AS REAL)"),
        }
    }

    /// A boolean column read as 0/1 (the `any` driver has no SQLite boolean).
    pub fn bool_out(self, col: &str) -> String {
        format!("(CASE WHEN {col} THEN 1 ELSE 0 END)")
    }
}

/// An open database, its schema migrated.
#[derive(Debug, Clone)]
pub struct Store {
    pub pool: AnyPool,
    pub dialect: Dialect,
    /// What to print at start: the URL with its password masked.
    pub description: String,
    /// The pool's `max_connections` (`database_connection_pool_limit`).
    pub pool_size: u32,
    /// Postgres: the spend writer's own connection, native rather than through `Any`,
    /// whose driver has no `COPY` (the log rows cost Postgres half the CPU by `COPY`
    /// that they do by `INSERT ... SELECT FROM unnest(...)`). Opened at the first flush.
    pub(crate) writer: Option<sqlx::PgPool>,
}

/// A URL with its password replaced by `****`, for logs and errors.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return mask_query(url);
    };
    let user = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:****"),
        None => userinfo.to_string(),
    };
    mask_query(&format!("{scheme}://{user}@{host}{tail}"))
}

/// `password=` in a query string (libpq accepts it there too).
fn mask_query(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=****"),
            _ => p.to_string(),
        })
        .collect();
    format!("{base}?{}", parts.join("&"))
}

/// The URL a setting points at: the default SQLite file beside `config_dir`, or the
/// URL with a relative SQLite path resolved against `config_dir`.
pub fn resolve_url(setting: &DatabaseSetting, config_dir: &Path) -> Option<String> {
    match setting {
        DatabaseSetting::Disabled => None,
        DatabaseSetting::DefaultSqlite => Some(sqlite_url(&config_dir.join(DEFAULT_SQLITE_FILE))),
        DatabaseSetting::Url(url) => {
            let Some(path) = sqlite_path(url) else {
                return Some(url.clone());
            };
            if path == ":memory:" || Path::new(path).is_absolute() {
                return Some(url.clone());
            }
            Some(sqlite_url(&config_dir.join(path)))
        }
    }
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// The path part of a `sqlite:` URL (`sqlite:///abs`, `sqlite://rel`, `sqlite:rel`),
/// without its query string.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    Some(rest.split('?').next().unwrap_or(rest))
}

/// Which dialect a URL speaks, or why it is not one the proxy can use.
pub fn dialect_of(url: &str) -> Result<Dialect, String> {
    let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
    match scheme.as_str() {
        "sqlite" => Ok(Dialect::Sqlite),
        "postgres" | "postgresql" => Ok(Dialect::Postgres),
        _ => Err(format!(
            "database_url {} is neither sqlite:// nor postgresql://",
            mask_url(url)
        )),
    }
}

impl Store {
    /// Open `url` with at most `pool_size` connections and migrate its schema.
    pub async fn open(url: &str, pool_size: u32) -> Result<Store, String> {
        sqlx::any::install_default_drivers();
        let dialect = dialect_of(url)?;
        let masked = mask_url(url);
        let pool_size = pool_size.max(1);
        let connect_url = match dialect {
            Dialect::Sqlite => {
                let path = sqlite_path(url).unwrap_or("");
                if path != ":memory:" {
                    if let Some(dir) = Path::new(path)
                        .parent()
                        .filter(|d| !d.as_os_str().is_empty())
                    {
                        std::fs::create_dir_all(dir)
                            .map_err(|e| format!("cannot create the directory of {masked}: {e}"))?;
                    }
                }
                // mode=rwc: create the file when it is missing.
                if url.contains('?') {
                    format!("{url}&mode=rwc")
                } else {
                    format!("{url}?mode=rwc")
                }
            }
            Dialect::Postgres => url.to_string(),
        };
        let options: AnyConnectOptions = connect_url
            .parse::<AnyConnectOptions>()
            .map_err(|e| format!("database_url {masked}: {}", scrub(&e.to_string(), url)))?
            // Every statement at DEBUG would put parameters (key hashes, metadata) in
            // logs; sqlx's logging goes nowhere here anyway.
            .disable_statement_logging();
        let mut pool = AnyPoolOptions::new()
            .max_connections(pool_size)
            .acquire_timeout(Duration::from_secs(10));
        if dialect == Dialect::Sqlite {
            pool = pool.after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL: readers never block the writer nor each other; NORMAL sync is
                    // safe with WAL (a power cut loses at most the last commits, never
                    // corrupts); busy_timeout waits for another process's write lock
                    // instead of failing at once.
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    Ok(())
                })
            });
        }
        let pool = pool.connect_with(options).await.map_err(|e| {
            format!(
                "cannot open the database {masked}: {}",
                scrub(&e.to_string(), url)
            )
        })?;
        let writer = match dialect {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(writer_pool(url)?),
        };
        let store = Store {
            pool,
            dialect,
            description: masked,
            pool_size,
            writer,
        };
        schema::migrate(&store).await?;
        Ok(store)
    }

    /// Begin a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a transaction that reads before it writes could otherwise fail with
    /// SQLITE_BUSY when another process wrote in between, without waiting.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => self.pool.begin().await,
        }
    }

    /// Close the pools (waits for connections in use to come back).
    pub async fn close(&self) {
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
        self.pool.close().await;
    }
}

/// The spend writer's Postgres pool: one connection (one flush runs at a time), made
/// when the first flush needs it, so a proxy that never charges anything never opens it.
fn writer_pool(url: &str) -> Result<sqlx::PgPool, String> {
    let options = url
        .parse::<sqlx::postgres::PgConnectOptions>()
        .map_err(|e| {
            format!(
                "database_url {}: {}",
                mask_url(url),
                scrub(&e.to_string(), url)
            )
        })?
        .disable_statement_logging();
    Ok(sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_lazy_with(options))
}

/// An error text with the URL's password taken out (drivers may quote the URL).
pub fn scrub(text: &str, url: &str) -> String {
    let mut out = text.to_string();
    if let Some(password) = password_of(url) {
        if !password.is_empty() {
            out = out.replace(&password, "****");
        }
    }
    out
}

fn password_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    userinfo.split_once(':').map(|(_, p)| p.to_string())
}

/// Where a path-less setting puts the default SQLite file: beside the config.
pub fn config_dir(config: Option<&Path>) -> PathBuf {
    config
        .and_then(Path::parent)
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Text as both databases can store it. Postgres keeps no NUL character in `text` or
/// `jsonb` (a value carrying one fails its whole statement: one request's `user`
/// stopped every later spend flush), so U+FFFD stands in for it, on SQLite too, so that
/// both hold the same ids. Borrowed when there is none.
pub fn storable(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', NUL_STAND_IN))
    } else {
        Cow::Borrowed(s)
    }
}

/// What [`storable`] writes in place of NUL.
pub const NUL_STAND_IN: &str = "\u{FFFD}";

/// Every string (and object key) in `v` as [`storable`] writes it: `jsonb` refuses
/// `\u0000` as `text` refuses NUL.
pub fn storable_json(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) if s.contains('\0') => *s = storable(s).into_owned(),
        Value::Array(items) => items.iter_mut().for_each(storable_json),
        Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (storable(&k).into_owned(), v))
                    .collect();
            }
            map.values_mut().for_each(storable_json);
        }
        _ => {}
    }
}

#[cfg(test)]
pub(crate) mod tests;
