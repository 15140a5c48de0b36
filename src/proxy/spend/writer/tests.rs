//! The writer against real databases: SQLite files, and Postgres when installed.

use sqlx::{Connection, Row};

use super::*;
use crate::proxy::budget::{Owner, Payer};
use crate::proxy::spend::test_event as event;
use crate::proxy::spend::SpendSink;
use crate::proxy::store::tests::{PgServer, TempDir};
use serde_json::json;

async fn sqlite(dir: &TempDir) -> Store {
    let url = format!("sqlite://{}", dir.0.join("spend.db").display());
    Store::open(&url, 4).await.unwrap()
}

/// A key, a user, a team and an end user with a budget.
async fn seed(store: &Store) {
    for sql in [
        "INSERT INTO \"LiteLLM_VerificationToken\" (token, max_budget, spend) VALUES ('k1', 1.0, 0.25)",
        "INSERT INTO \"LiteLLM_VerificationToken\" (token) VALUES ('k2')",
        "INSERT INTO \"LiteLLM_UserTable\" (user_id, max_budget) VALUES ('u1', 5.0)",
        "INSERT INTO \"LiteLLM_TeamTable\" (team_id, max_budget) VALUES ('t1', 3.0)",
        "INSERT INTO \"LiteLLM_TeamMembership\" (user_id, team_id) VALUES ('u1', 't1')",
        "INSERT INTO \"LiteLLM_BudgetTable\" (budget_id, max_budget) VALUES ('b1', 0.5)",
        "INSERT INTO \"LiteLLM_EndUserTable\" (user_id, budget_id) VALUES ('cust', 'b1')",
    ] {
        sqlx::query(sql).execute(&store.pool).await.unwrap();
    }
}

async fn spend_of(store: &Store, table: &str, id_col: &str, id: &str) -> f64 {
    let sql = format!(
        "SELECT {} FROM \"{table}\" WHERE {id_col} = $1",
        store.dialect.f64_out("spend")
    );
    sqlx::query(&sql)
        .bind(id)
        .fetch_one(&store.pool)
        .await
        .unwrap()
        .try_get::<f64, _>(0)
        .unwrap()
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {sql}"))
        .fetch_one(&store.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

#[test]
fn a_log_row_keeps_ids_numbers_and_times_and_no_key() {
    let mut ev = event(0.5, "hash-of-key", Some("u1"), Some("t1"), Some("cust"));
    ev.route = "embeddings";
    ev.cache_hit = true;
    let row = log_row(ev.clone());
    assert_eq!(row.request_id, ev.call_id);
    assert_eq!(row.call_type, "aembedding");
    assert_eq!(row.api_key, "hash-of-key");
    assert_eq!(
        (row.spend, row.prompt_tokens, row.completion_tokens),
        (0.5, 10, 20)
    );
    assert_eq!(row.end_ms - row.start_ms, 5);
    assert_eq!(
        (
            row.user.as_str(),
            row.team_id.as_deref(),
            row.end_user.as_str()
        ),
        ("u1", Some("t1"), "cust")
    );
    assert_eq!((row.status, row.cache_hit), ("success", true));
    ev.status = 429;
    assert_eq!(log_row(ev).status, "failure");
}

async fn writes_in_one_flush(store: Store) {
    seed(&store).await;
    let ledger = Arc::new(Ledger::default());
    ledger.set_budgets(store.read_budgets().await.unwrap());
    for _ in 0..2 {
        ledger.charge(&event(0.5, "k1", Some("u1"), Some("t1"), Some("cust")));
    }
    ledger.charge(&event(0.25, "k2", None, None, Some("new-customer")));
    // More rows than one `COPY` data message holds on Postgres, and than one multi-row
    // `INSERT` on SQLite.
    let rows: Vec<LogRow> = (0..2_450)
        .map(|i| log_row(event(f64::from(i) / 1000.0, "k2", None, None, None)))
        .collect();
    let taken = ledger.take();
    store.write_spend(&taken, &rows).await.unwrap();
    ledger.written(&taken, Some(store.read_budgets().await.unwrap()));
    // Increments on top of what was there; the end user created on its first spend.
    assert_eq!(
        spend_of(&store, "LiteLLM_VerificationToken", "token", "k1").await,
        1.25
    );
    assert_eq!(
        spend_of(&store, "LiteLLM_VerificationToken", "token", "k2").await,
        0.25
    );
    assert_eq!(
        spend_of(&store, "LiteLLM_UserTable", "user_id", "u1").await,
        1.0
    );
    assert_eq!(
        spend_of(&store, "LiteLLM_TeamTable", "team_id", "t1").await,
        1.0
    );
    assert_eq!(
        spend_of(&store, "LiteLLM_TeamMembership", "user_id", "u1").await,
        1.0
    );
    assert_eq!(
        spend_of(&store, "LiteLLM_EndUserTable", "user_id", "cust").await,
        1.0
    );
    assert_eq!(
        spend_of(&store, "LiteLLM_EndUserTable", "user_id", "new-customer").await,
        0.25
    );
    // Every row; no team is NULL, no end user the empty text.
    assert_eq!(count(&store, "\"LiteLLM_SpendLogs\"").await, 2_450);
    assert_eq!(
        count(
            &store,
            "\"LiteLLM_SpendLogs\" WHERE team_id IS NULL AND end_user = ''"
        )
        .await,
        2_450
    );
    // Every column arrives as written (Postgres reads the rows as `COPY` text, where a
    // tab ends a value, a line break a row and a backslash escapes): quotes,
    // backslashes, tabs, line breaks, `\N` (COPY's NULL) and `\.` (its old end of
    // data) as text, commas, braces, the text NULL, non-ASCII text, a team (the other
    // rows have none: NULL), the guardrails' metadata, times.
    let mut odd = event(0.125, "k2", Some("u'1\\"), Some("t\"1\t\\N"), Some("NULL"));
    odd.requested_model = "m\"odel ✓, {x}\n\\\r\t\\.\n\\.".into();
    odd.cache_hit = true;
    odd.status = 500;
    let mut odd = log_row(odd);
    odd.metadata =
        Some(r#"{"guardrail_information":[{"guardrail_name":"pii","action":"mask"}]}"#.into());
    odd.start_ms = 1_800_000_000_123;
    odd.end_ms = 1_800_000_001_456;
    store
        .write_spend(&Default::default(), std::slice::from_ref(&odd))
        .await
        .unwrap();
    let read = store
        .select(
            &crate::proxy::store::spend::SPEND_LOGS,
            "request_id = $1",
            &[odd.request_id.as_str().into()],
        )
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
    let got = serde_json::Value::Object(read[0].clone());
    assert_eq!(got["model"], "m\"odel ✓, {x}\n\\\r\t\\.\n\\.");
    assert_eq!(got["user"], "u'1\\");
    assert_eq!(got["team_id"], "t\"1\t\\N");
    assert_eq!(got["end_user"], "NULL");
    assert_eq!(got["spend"], 0.125);
    assert_eq!(
        (
            &got["prompt_tokens"],
            &got["completion_tokens"],
            &got["total_tokens"]
        ),
        (&json!(10), &json!(20), &json!(30))
    );
    assert_eq!(
        (&got["status"], &got["cache_hit"]),
        (&json!("failure"), &json!("True"))
    );
    assert_eq!(got["call_type"], "acompletion");
    assert_eq!(got["startTime"], "2027-01-15T08:00:00.123Z");
    assert_eq!(got["endTime"], "2027-01-15T08:00:01.456Z");
    assert_eq!(
        got["metadata"]["guardrail_information"][0]["action"],
        "mask"
    );
    // Written again (a flush retried after its commit went through) with a new row and
    // a charge: the new row and the charge are written, the old rows are not doubled
    // (the first flush's rows too: more than one `COPY` message on the way back in).
    let fresh = log_row(event(0.5, "k2", None, None, None));
    let mut retried = crate::proxy::budget::Deltas::default();
    retried.owners[Owner::Key as usize].push(("k2".into(), 0.5));
    let mut again = rows.clone();
    again.extend([odd.clone(), fresh.clone(), odd]);
    store.write_spend(&retried, &again).await.unwrap();
    assert_eq!(count(&store, "\"LiteLLM_SpendLogs\"").await, 2_452);
    let sql = format!(
        "\"LiteLLM_SpendLogs\" WHERE request_id = '{}'",
        fresh.request_id
    );
    assert_eq!(count(&store, &sql).await, 1);
    assert_eq!(
        spend_of(&store, "LiteLLM_VerificationToken", "token", "k2").await,
        0.75
    );
    // The ledger now reads the database: k1 is at 1.25 of 1.0.
    let p = Payer {
        key: Some("k1"),
        ..Payer::default()
    };
    assert!(ledger.check(&p, time::now_ms()).is_err());
    assert_eq!(
        ledger.spent(Owner::Key, "k1", time::now_ms()),
        (1.25, Some(1.0))
    );
    // A second flush adds to the same daily rows.
    ledger.charge(&event(0.5, "k1", Some("u1"), Some("t1"), Some("cust")));
    let taken = ledger.take();
    store.write_spend(&taken, &[]).await.unwrap();
    let sql = format!(
        "SELECT {}, CAST(api_requests AS BIGINT), CAST(prompt_tokens AS BIGINT) FROM \"LiteLLM_DailyTeamSpend\" WHERE team_id = 't1'",
        store.dialect.f64_out("spend")
    );
    let rows = sqlx::query(&sql).fetch_all(&store.pool).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].try_get::<f64, _>(0).unwrap(), 1.5);
    assert_eq!(rows[0].try_get::<i64, _>(1).unwrap(), 3);
    assert_eq!(rows[0].try_get::<i64, _>(2).unwrap(), 30);
    assert_eq!(count(&store, "\"LiteLLM_DailyEndUserSpend\"").await, 2);
    assert_eq!(count(&store, "\"LiteLLM_DailyUserSpend\"").await, 1);
    store.close().await;
}

#[tokio::test]
async fn sqlite_writes_increments_rows_and_daily_aggregates_in_one_flush() {
    let dir = TempDir::new();
    writes_in_one_flush(sqlite(&dir).await).await;
}

#[tokio::test]
async fn postgres_writes_increments_rows_and_daily_aggregates_in_one_flush() {
    let Some(pg) = PgServer::start() else { return };
    writes_in_one_flush(Store::open(&pg.url, 4).await.unwrap()).await;
}

fn settings(batch_ms: u64) -> WriterSettings {
    WriterSettings {
        batch_every: Duration::from_millis(batch_ms),
        refresh_every: Duration::from_millis(batch_ms),
        ..WriterSettings::default()
    }
}

/// A second instance's budget sees what the first wrote, within a couple of flushes.
async fn two_instances_share_budgets(store_a: Store, store_b: Store) {
    seed(&store_a).await;
    let mut instances = Vec::new();
    for store in [store_a.clone(), store_b.clone()] {
        let ledger = Arc::new(Ledger::default());
        let (sink, rx) = SpendSink::channel(100);
        let sink = sink.with_ledger(Arc::clone(&ledger));
        let writer = SpendWriter::start(store, Arc::clone(&ledger), rx, settings(50))
            .await
            .unwrap();
        instances.push((ledger, sink, writer));
    }
    let p = Payer {
        key: Some("k1"),
        ..Payer::default()
    };
    assert!(instances[1].0.check(&p, time::now_ms()).is_ok());
    // Spent through the first: 0.25 + 0.8 >= 1.0.
    instances[0].1.send(event(0.8, "k1", None, None, None));
    assert!(instances[0].0.check(&p, time::now_ms()).is_err());
    let deadline = Instant::now() + Duration::from_secs(5);
    while instances[1].0.check(&p, time::now_ms()).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the second instance never saw the spend"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // And not counted twice on the first once written.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        instances[0].0.spent(Owner::Key, "k1", time::now_ms()).0,
        1.05
    );
    assert_eq!(
        instances[1].0.spent(Owner::Key, "k1", time::now_ms()).0,
        1.05
    );
    store_a.close().await;
    store_b.close().await;
}

#[tokio::test]
async fn two_instances_on_one_sqlite_file_share_budgets() {
    let dir = TempDir::new();
    two_instances_share_budgets(sqlite(&dir).await, sqlite(&dir).await).await;
}

#[tokio::test]
async fn two_instances_on_one_postgres_share_budgets() {
    let Some(pg) = PgServer::start() else { return };
    let a = Store::open(&pg.url, 4).await.unwrap();
    let b = Store::open(&pg.url, 4).await.unwrap();
    two_instances_share_budgets(a, b).await;
}

#[tokio::test]
async fn a_locked_database_does_not_slow_send_and_loses_no_spend() {
    let dir = TempDir::new();
    let store = sqlite(&dir).await;
    seed(&store).await;
    let ledger = Arc::new(Ledger::default());
    let (sink, rx) = SpendSink::channel(64);
    let sink = sink.with_ledger(Arc::clone(&ledger));
    let mut s = settings(20);
    s.max_rows = 500;
    let writer = SpendWriter::start(store.clone(), Arc::clone(&ledger), rx, s)
        .await
        .unwrap();
    // Another process holds SQLite's write lock.
    let mut blocker = <sqlx::AnyConnection as Connection>::connect(&format!(
        "sqlite://{}",
        dir.0.join("spend.db").display()
    ))
    .await
    .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for _ in 0..2000 {
        let one = Instant::now();
        sink.send(event(0.001, "k2", None, None, None));
        slowest = slowest.max(one.elapsed());
        tokio::task::yield_now().await;
    }
    let total = started.elapsed();
    // A send that waited for the database would take its busy timeout (seconds); the
    // bounds leave room for a busy machine preempting the test thread.
    assert!(
        slowest < Duration::from_millis(100),
        "one send took {slowest:?}"
    );
    assert!(total < Duration::from_secs(1), "2000 sends took {total:?}");
    // Rows past the buffer are dropped and counted; spend is all in the ledger.
    assert!(writer.dropped_rows() + sink.dropped() > 0);
    let (spent, _) = ledger.spent(Owner::Key, "k2", time::now_ms());
    assert!((spent - 2.0).abs() < 1e-9, "{spent}");
    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
    // Once the database answers, every cent is written.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let written = spend_of(&store, "LiteLLM_VerificationToken", "token", "k2").await;
        if (written - 2.0).abs() < 1e-9 {
            break;
        }
        assert!(Instant::now() < deadline, "written {written}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    store.close().await;
}

async fn resets_and_prunes(store: Store) {
    seed(&store).await;
    let d = store.dialect;
    let past = time::iso(time::now_ms() - 1000);
    let future = time::iso(time::now_ms() + 3_600_000);
    for (table, id, value, reset_at) in [
        ("LiteLLM_VerificationToken", "token", "k1", Some(&past)),
        ("LiteLLM_VerificationToken", "token", "k2", Some(&future)),
        ("LiteLLM_UserTable", "user_id", "u1", None),
        ("LiteLLM_BudgetTable", "budget_id", "b1", Some(&past)),
    ] {
        let sql = format!(
            "UPDATE \"{table}\" SET budget_duration = '30s', budget_reset_at = {} WHERE {id} = $2",
            d.ts_in(1)
        );
        sqlx::query(&sql)
            .bind(reset_at.cloned())
            .bind(value)
            .execute(&store.pool)
            .await
            .unwrap();
    }
    for sql in [
        "UPDATE \"LiteLLM_VerificationToken\" SET spend = 7",
        "UPDATE \"LiteLLM_UserTable\" SET spend = 7",
        "UPDATE \"LiteLLM_EndUserTable\" SET spend = 7",
    ] {
        sqlx::query(sql).execute(&store.pool).await.unwrap();
    }
    let now = time::now_ms();
    assert_eq!(store.reset_budgets(now).await.unwrap(), Some(2));
    // Due: reset, next window set.
    assert_eq!(
        spend_of(&store, "LiteLLM_VerificationToken", "token", "k1").await,
        0.0
    );
    assert_eq!(
        spend_of(&store, "LiteLLM_EndUserTable", "user_id", "cust").await,
        0.0
    );
    // Not due: untouched.
    assert_eq!(
        spend_of(&store, "LiteLLM_VerificationToken", "token", "k2").await,
        7.0
    );
    // No window yet: its first is set, its spend kept.
    assert_eq!(
        spend_of(&store, "LiteLLM_UserTable", "user_id", "u1").await,
        7.0
    );
    let budgets = store.read_budgets().await.unwrap();
    let k1 = &budgets[Owner::Key as usize]["k1"];
    assert_eq!(k1.reset_at, crate::proxy::budget::next_reset("30s", now));
    assert!(budgets[Owner::User as usize]["u1"].reset_at.is_some());
    // Nothing due now.
    assert_eq!(store.reset_budgets(now).await.unwrap(), Some(0));

    // Retention: rows older than the cut are deleted in batches, newer ones kept.
    let mut rows = Vec::new();
    for i in 0..25 {
        let mut row = log_row(event(0.1, "k2", None, None, None));
        row.start_ms = now - 10 * 86_400_000 - i;
        rows.push(row);
    }
    rows.push(log_row(event(0.1, "k2", None, None, None)));
    store.write_spend(&Default::default(), &rows).await.unwrap();
    let cut = now - 86_400_000;
    assert_eq!(store.prune_spend_logs(cut, 10).await.unwrap(), Some(10));
    assert_eq!(store.prune_spend_logs(cut, 10).await.unwrap(), Some(10));
    assert_eq!(store.prune_spend_logs(cut, 10).await.unwrap(), Some(5));
    assert_eq!(store.prune_spend_logs(cut, 10).await.unwrap(), Some(0));
    assert_eq!(count(&store, "\"LiteLLM_SpendLogs\"").await, 1);
    store.close().await;
}

#[tokio::test]
async fn sqlite_resets_due_budgets_and_prunes_old_logs() {
    let dir = TempDir::new();
    resets_and_prunes(sqlite(&dir).await).await;
}

#[tokio::test]
async fn postgres_resets_due_budgets_and_prunes_old_logs_on_one_leader() {
    let Some(pg) = PgServer::start() else { return };
    let store = Store::open(&pg.url, 4).await.unwrap();
    // Another instance in the middle of the job: this one skips the round.
    let mut other = store.pool.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(0x0072_7573_746c_6c72_i64)
        .execute(&mut *other)
        .await
        .unwrap();
    assert_eq!(store.reset_budgets(time::now_ms()).await.unwrap(), None);
    other.rollback().await.unwrap();
    resets_and_prunes(store).await;
}

/// A budget written by an admin route holds from the next check once the writer
/// re-reads (what `/key/generate` and `/key/update` ask for), with the charges not yet
/// written counted once.
#[tokio::test]
async fn refresh_budgets_installs_a_new_budget_at_once() {
    let dir = TempDir::new();
    let store = sqlite(&dir).await;
    seed(&store).await;
    let ledger = Arc::new(Ledger::default());
    let (sink, rx) = SpendSink::channel(100);
    let sink = sink.with_ledger(Arc::clone(&ledger));
    // Flushes and periodic re-reads an hour apart: only refresh_budgets can tell.
    let writer = SpendWriter::start(store.clone(), Arc::clone(&ledger), rx, settings(3_600_000))
        .await
        .unwrap();
    let p = Payer {
        key: Some("k2"),
        ..Payer::default()
    };
    sink.send(event(0.2, "k2", None, None, None));
    assert!(
        ledger.check(&p, time::now_ms()).is_ok(),
        "k2 has no budget yet"
    );
    sqlx::query("UPDATE \"LiteLLM_VerificationToken\" SET max_budget = 0.1 WHERE token = 'k2'")
        .execute(&store.pool)
        .await
        .unwrap();
    assert!(ledger.check(&p, time::now_ms()).is_ok(), "not re-read yet");
    writer.refresh_budgets().await;
    assert!(ledger.check(&p, time::now_ms()).is_err());
    assert_eq!(
        ledger.spent(Owner::Key, "k2", time::now_ms()),
        (0.2, Some(0.1))
    );
    store.close().await;
}
