//! The store against real databases: a SQLite file, and a Postgres server started for
//! the test ([`PgServer`]; skipped when no Postgres is installed, except under CI where
//! that fails).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sqlx::Row;

use super::*;

/// A temporary directory removed on drop.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("rustllm-store-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A throwaway Postgres server on a free loopback port, its data in a temp directory;
/// stopped on drop. As root it runs as the `postgres` user (Postgres refuses root).
pub(crate) struct PgServer {
    child: std::process::Child,
    pub url: String,
    _dir: TempDir,
}

fn pg_bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("RUSTLLM_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    if let Ok(out) = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Some(dir);
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl PgServer {
    /// Start one, or `None` (skip) when Postgres is not installed outside CI.
    #[allow(clippy::print_stderr)]
    pub(crate) fn start() -> Option<PgServer> {
        let Some(bin) = pg_bin_dir() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "Postgres is not installed (apt-get install -y postgresql): required in CI"
            );
            eprintln!("skipping: Postgres is not installed");
            return None;
        };
        let dir = TempDir::new();
        let root = is_root();
        let command = |program: &str| {
            let path = bin.join(program);
            if root {
                let mut c = std::process::Command::new("setpriv");
                c.args(["--reuid=postgres", "--regid=postgres", "--init-groups"])
                    .arg(path);
                c
            } else {
                std::process::Command::new(path)
            }
        };
        if root {
            std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir.0)
                .status()
                .unwrap();
        }
        let data = dir.0.join("data");
        let out = command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb: {out:?}");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = command("postgres")
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&dir.0)
            .args(["-p", &port.to_string(), "-h", "127.0.0.1", "-F"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let server = PgServer {
            child,
            url: format!("postgresql://postgres@127.0.0.1:{port}/postgres"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "postgres did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(server)
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // SIGINT: Postgres' fast shutdown (backends end, shared memory is released).
        let _ = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn table_names(store: &Store) -> Vec<String> {
    let sql = match store.dialect {
        Dialect::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
        Dialect::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = 'public'"
        }
    };
    sqlx::query(sql)
        .fetch_all(&store.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect()
}

/// Every table exists, the schema is at its latest version after one or several opens,
/// and opening an up-to-date database takes well under a second.
async fn creates_and_migrates(url: &str) {
    let started = Instant::now();
    let store = Store::open(url, 4).await.unwrap();
    let first = started.elapsed();
    assert!(
        first < Duration::from_millis(800),
        "first open took {first:?}"
    );
    let names = table_names(&store).await;
    for table in schema::TABLES {
        assert!(
            names.iter().any(|n| n == table),
            "{table} missing: {names:?}"
        );
    }
    store.close().await;
    let started = Instant::now();
    let again = Store::open(url, 4).await.unwrap();
    let second = started.elapsed();
    assert!(
        second < Duration::from_millis(300),
        "second open took {second:?}"
    );
    let versions: Vec<i64> = sqlx::query("SELECT version FROM rustllm_migrations ORDER BY version")
        .fetch_all(&again.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect();
    assert_eq!(versions, vec![1, 2, 3]);
    // Versions 2 and 3: the session_id and end_user indexes hold rows with a value only
    // (most rows have none), and still serve a look-up by that value.
    for (column, index) in [
        ("session_id", "LiteLLM_SpendLogs_session_id_idx"),
        ("end_user", "LiteLLM_SpendLogs_end_user_idx"),
    ] {
        let definition = match again.dialect {
            Dialect::Sqlite => "SELECT sql FROM sqlite_master WHERE name = $1",
            Dialect::Postgres => "SELECT indexdef FROM pg_indexes WHERE indexname = $1",
        };
        let definition: String = sqlx::query(definition)
            .bind(index)
            .fetch_one(&again.pool)
            .await
            .unwrap()
            .get(0);
        assert!(
            definition.contains(&format!("{column} IS NOT NULL")),
            "{definition}"
        );
        if again.dialect == Dialect::Sqlite {
            let plan: Vec<String> = sqlx::query(&format!(
                "EXPLAIN QUERY PLAN SELECT request_id FROM \"LiteLLM_SpendLogs\" WHERE {column} = $1"
            ))
            .bind("s-1")
            .fetch_all(&again.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(3))
            .collect();
            assert!(plan.iter().any(|p| p.contains(index)), "{plan:?}");
        }
    }
}

/// The dialect helpers write and read back JSON, text arrays, timestamps, floats and
/// booleans identically on both databases, and parameters are never SQL.
async fn round_trips_typed_columns(url: &str) {
    let store = Store::open(url, 2).await.unwrap();
    let d = store.dialect;
    let evil = "x'); DROP TABLE \"LiteLLM_VerificationToken\"; --";
    let sql = format!(
        "INSERT INTO \"LiteLLM_VerificationToken\" (token, key_alias, models, metadata, expires, max_budget, blocked) VALUES ($1, $2, {}, {}, {}, $6, $7)",
        d.arr_in(3),
        d.json_in(4),
        d.ts_in(5)
    );
    sqlx::query(&sql)
        .bind("abc")
        .bind(evil)
        .bind(r#"["gpt-4o", "it's"]"#)
        .bind(r#"{"model_rpm_limit": {"gpt-4o": 5}}"#)
        .bind("2026-12-06T07:30:00.123Z")
        .bind(12.5f64)
        .bind(true)
        .execute(&store.pool)
        .await
        .unwrap();
    let sql = format!(
        "SELECT key_alias, {}, {}, {}, {}, {}, {} FROM \"LiteLLM_VerificationToken\" WHERE token = $1",
        d.arr_out("models"),
        d.json_out("metadata"),
        d.ts_out("expires"),
        d.f64_out("max_budget"),
        d.bool_out("blocked"),
        d.f64_out("spend"),
    );
    let row = sqlx::query(&sql)
        .bind("abc")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>(0), evil);
    let models: serde_json::Value = serde_json::from_str(&row.get::<String, _>(1)).unwrap();
    assert_eq!(models, serde_json::json!(["gpt-4o", "it's"]));
    let meta: serde_json::Value = serde_json::from_str(&row.get::<String, _>(2)).unwrap();
    assert_eq!(meta["model_rpm_limit"]["gpt-4o"], 5);
    assert_eq!(
        time::parse_iso(&row.get::<String, _>(3)),
        time::parse_iso("2026-12-06T07:30:00.123Z")
    );
    assert_eq!(row.get::<f64, _>(4), 12.5);
    assert_eq!(row.get::<i64, _>(5), 1);
    assert_eq!(row.get::<f64, _>(6), 0.0);
    // The table the injection names is still there.
    assert!(table_names(&store)
        .await
        .iter()
        .any(|n| n == "LiteLLM_VerificationToken"));
}

#[tokio::test]
async fn sqlite_creates_and_migrates() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("sub/proxy.db").display());
    creates_and_migrates(&url).await;
    // WAL, as the store sets it.
    let store = Store::open(&url, 1).await.unwrap();
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&store.pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(mode.to_ascii_lowercase(), "wal");
}

#[tokio::test]
async fn sqlite_round_trips_typed_columns() {
    let dir = TempDir::new();
    round_trips_typed_columns(&format!("sqlite://{}", dir.0.join("p.db").display())).await;
}

#[tokio::test]
async fn postgres_creates_migrates_and_round_trips() {
    let Some(pg) = PgServer::start() else { return };
    // Three instances starting at once: the advisory lock lets one migrate, the others
    // find the schema done.
    let opens = (0..3).map(|_| Store::open(&pg.url, 2));
    for store in futures_util::future::join_all(opens).await {
        store.unwrap();
    }
    creates_and_migrates(&pg.url).await;
    round_trips_typed_columns(&pg.url).await;
}

#[test]
fn passwords_are_masked() {
    assert_eq!(
        mask_url("postgresql://llm:s3cret@db:5432/litellm"),
        "postgresql://llm:****@db:5432/litellm"
    );
    assert_eq!(
        mask_url("postgres://db/x?user=a&password=s3cret"),
        "postgres://db/x?user=a&password=****"
    );
    assert_eq!(mask_url("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
    assert_eq!(
        scrub(
            "failed for postgresql://llm:s3cret@db",
            "postgresql://llm:s3cret@db"
        ),
        "failed for postgresql://llm:****@db"
    );
}

#[test]
fn sqlite_paths_resolve_beside_the_config() {
    let dir = std::path::Path::new("/etc/llm");
    assert_eq!(
        resolve_url(&DatabaseSetting::DefaultSqlite, dir).as_deref(),
        Some("sqlite:///etc/llm/rustllm_proxy.db")
    );
    assert_eq!(
        resolve_url(&DatabaseSetting::Url("sqlite://keys.db".into()), dir).as_deref(),
        Some("sqlite:///etc/llm/keys.db")
    );
    assert_eq!(
        resolve_url(&DatabaseSetting::Url("sqlite:///var/k.db".into()), dir).as_deref(),
        Some("sqlite:///var/k.db")
    );
    assert_eq!(resolve_url(&DatabaseSetting::Disabled, dir), None);
    assert!(dialect_of("mysql://x").is_err());
    assert_eq!(dialect_of("postgresql://x").unwrap(), Dialect::Postgres);
}

#[test]
fn both_dialects_render_every_statement() {
    for d in [Dialect::Sqlite, Dialect::Postgres] {
        let statements = schema::rendered(d);
        assert!(statements.len() > 20);
        for s in &statements {
            assert!(!s.replace("'{}'", "").contains('{'), "unrendered: {s}");
        }
    }
}

/// `COPY` text values of spend-log columns: backslash, tab, newline and carriage return
/// escaped, so that no text can end a value or a row early and shift a value into the
/// next column or row; none is `\N`, the text `\N` is not; NUL, which Postgres text
/// cannot hold, is U+FFFD.
#[test]
fn copy_values_keep_every_value_whole() {
    let mut line = String::new();
    for v in [
        Some("plain"),
        Some(""),
        None,
        Some("\\N"),
        Some("a\tb\nc\rd"),
        Some("\\."),
        Some("say \"hi\", {x}"),
        Some("nul\0here"),
        Some("ünï ✓"),
    ] {
        super::spend::copy_value(&mut line, v);
        line.push('|');
    }
    assert_eq!(
        line,
        "plain||\\N|\\\\N|a\\tb\\nc\\rd|\\\\.|say \"hi\", {x}|nul\u{FFFD}here|ünï ✓|"
    );
}
