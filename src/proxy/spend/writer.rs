//! The spend writer: off the request path, it turns spend events into
//! `LiteLLM_SpendLogs` rows and, every `proxy_batch_write_at` seconds (sooner when
//! [`FLUSH_AT_ROWS`] rows wait), writes the
//! [`Ledger`]'s unwritten charges and the buffered rows in one transaction
//! ([`Store::write_spend`]), then reads every budget's total back (other instances'
//! spend included). Between flushes it re-reads the totals every
//! [`WriterSettings::refresh_every`], so budgets set or spent elsewhere are followed.
//!
//! A slow or unreachable database slows nothing but this task: the request path only
//! charges the ledger and queues without waiting; rows past [`WriterSettings::max_rows`]
//! are dropped and counted; charges wait in the ledger (bounded by the number of owners)
//! and are written when the database answers again.
//!
//! The leader-only jobs run here too: budget resets ([`Store::reset_budgets`]) and the
//! retention of spend logs ([`Store::prune_spend_logs`]), each guarded by a Postgres
//! advisory lock so one instance runs each round.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};

use tokio::sync::mpsc;

use super::SpendEvent;
use crate::proxy::budget::Ledger;
use crate::proxy::log;
use crate::proxy::store::spend::LogRow;
use crate::proxy::store::{time, Store};

/// LiteLLM's `proxy_batch_write_at` default, seconds.
pub const DEFAULT_BATCH_WRITE_AT: Duration = Duration::from_secs(10);
/// LiteLLM's `proxy_budget_rescheduler_min_time` default, seconds.
pub const DEFAULT_RESET_EVERY: Duration = Duration::from_secs(597);
/// LiteLLM's `SPEND_LOG_CLEANUP_BATCH_SIZE`.
const PRUNE_BATCH: i64 = 1000;
/// How long one retention round may delete before it yields to the next round.
const PRUNE_TIME_BUDGET: Duration = Duration::from_secs(5);
/// How often queued events become log rows. Waiting on the channel instead would wake
/// this task, on another thread, once per request (a fifth of a request's CPU at c=1).
const DRAIN_EVERY: Duration = Duration::from_millis(20);
/// Buffered rows at which a flush starts before its time: at thousands of requests a
/// second, `proxy_batch_write_at` (10 s) would otherwise fill the buffer and drop rows.
const FLUSH_AT_ROWS: usize = 5_000;

/// How the writer runs (from `general_settings`).
#[derive(Debug, Clone, PartialEq)]
pub struct WriterSettings {
    /// `proxy_batch_write_at`: how often charges and rows are written.
    pub batch_every: Duration,
    /// How often budget totals are read between flushes.
    pub refresh_every: Duration,
    /// `proxy_budget_rescheduler_min_time`: how often the reset job runs.
    pub reset_every: Duration,
    /// `maximum_spend_logs_retention_period`: rows older than this are deleted.
    pub retention: Option<Duration>,
    /// `maximum_spend_logs_retention_interval`: how often the retention job runs.
    pub retention_every: Duration,
    /// `disable_spend_logs`: keep spend totals, write no log rows.
    pub log_rows: bool,
    /// Rows buffered between flushes at most; more are dropped and counted.
    pub max_rows: usize,
}

impl Default for WriterSettings {
    fn default() -> Self {
        WriterSettings {
            batch_every: DEFAULT_BATCH_WRITE_AT,
            refresh_every: Duration::from_secs(1),
            reset_every: DEFAULT_RESET_EVERY,
            retention: None,
            retention_every: Duration::from_secs(86_400),
            log_rows: true,
            max_rows: 50_000,
        }
    }
}

/// LiteLLM's call type of a route family.
fn call_type(route: &str) -> &'static str {
    match route {
        "completions" => "atext_completion",
        "embeddings" => "aembedding",
        "rerank" => "arerank",
        "moderations" => "amoderation",
        "responses" => "aresponses",
        "images/generations" => "aimage_generation",
        "audio/speech" => "aspeech",
        "messages" => "anthropic_messages",
        "audio/transcriptions" => "atranscription",
        "images/edits" => "aimage_edit",
        "files/create" => "acreate_file",
        "files/retrieve" => "afile_retrieve",
        "files/content" => "afile_content",
        "files/delete" => "afile_delete",
        "files/list" => "afile_list",
        "batches/create" => "acreate_batch",
        "batches/retrieve" => "aretrieve_batch",
        "batches/list" => "alist_batches",
        "batches/cancel" => "acancel_batch",
        _ => "acompletion",
    }
}

/// The log row of an event: ids, hashes, numbers and times, nothing else. The event's
/// strings move into the row (the writer owns the event by then).
pub fn log_row(ev: SpendEvent) -> LogRow {
    let start_ms = ev
        .started
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    LogRow {
        call_type: call_type(ev.route),
        api_key: ev.key_hash.as_deref().unwrap_or("").to_string(),
        spend: ev.cost.filter(|c| c.is_finite()).unwrap_or(0.0),
        prompt_tokens: ev.prompt_tokens as i64,
        completion_tokens: ev.completion_tokens as i64,
        start_ms,
        end_ms: start_ms + ev.duration.as_millis() as i64,
        status: if ev.status < 400 {
            "success"
        } else {
            "failure"
        },
        cache_hit: ev.cache_hit,
        metadata: crate::proxy::guardrails::spend_metadata(&ev.guardrails),
        request_id: ev.call_id,
        model: ev.requested_model,
        model_id: ev.model_id,
        model_group: ev.model_group,
        provider: ev.provider,
        user: ev.user_id.unwrap_or_default(),
        team_id: ev.team_id,
        end_user: ev.end_user.unwrap_or_default(),
    }
}

/// What the writer's tasks share.
struct Shared {
    store: Store,
    ledger: Arc<Ledger>,
    settings: WriterSettings,
    /// The events the request path queued, drained every [`DRAIN_EVERY`] and before
    /// each flush.
    events: Mutex<mpsc::Receiver<SpendEvent>>,
    rows: Mutex<Vec<LogRow>>,
    dropped_rows: AtomicU64,
    /// Wakes the flush loop early when [`FLUSH_AT_ROWS`] rows wait.
    flush_soon: tokio::sync::Notify,
    /// One flush at a time (the periodic one and the last one at shutdown).
    flushing: tokio::sync::Mutex<()>,
    /// Whether the last write failed (to log a failure and the recovery once each).
    failing: AtomicBool,
}

/// The running writer.
#[derive(Clone)]
pub struct SpendWriter {
    shared: Arc<Shared>,
}

impl SpendWriter {
    /// Read the budgets, then start the writer's tasks on the current runtime.
    pub async fn start(
        store: Store,
        ledger: Arc<Ledger>,
        rx: mpsc::Receiver<SpendEvent>,
        settings: WriterSettings,
    ) -> Result<SpendWriter, sqlx::Error> {
        ledger.set_budgets(store.read_budgets().await?);
        let shared = Arc::new(Shared {
            store,
            ledger,
            settings,
            events: Mutex::new(rx),
            rows: Mutex::new(Vec::new()),
            dropped_rows: AtomicU64::new(0),
            flush_soon: tokio::sync::Notify::new(),
            flushing: tokio::sync::Mutex::new(()),
            failing: AtomicBool::new(false),
        });
        tokio::spawn(drain_loop(Arc::clone(&shared)));
        tokio::spawn(flush_loop(Arc::clone(&shared)));
        tokio::spawn(reset_loop(Arc::clone(&shared)));
        if shared.settings.retention.is_some() {
            tokio::spawn(retention_loop(Arc::clone(&shared)));
        }
        Ok(SpendWriter { shared })
    }

    /// Write what is waiting now (at shutdown).
    pub async fn flush_now(&self) -> Result<(), sqlx::Error> {
        flush(&self.shared).await
    }

    /// Re-read every budget now (after an admin write on this instance), between
    /// flushes so that no charge is counted twice: a budget set through this instance
    /// holds from its next request on; other instances follow within
    /// [`WriterSettings::refresh_every`]. A failed read keeps the budgets as they were.
    pub async fn refresh_budgets(&self) {
        let _guard = self.shared.flushing.lock().await;
        if let Ok(budgets) = self.shared.store.read_budgets().await {
            self.shared.ledger.set_budgets(budgets);
        }
    }

    /// Log rows dropped because the buffer was full.
    pub fn dropped_rows(&self) -> u64 {
        self.shared.dropped_rows.load(Ordering::Relaxed)
    }
}

/// Move the queued events into log rows (past `max_rows`, dropped and counted). False
/// once the request side is gone.
fn drain(shared: &Shared) -> bool {
    let mut events = shared.events.lock().unwrap_or_else(|e| e.into_inner());
    let mut rows = shared.rows.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        match events.try_recv() {
            Ok(ev) => {
                if !shared.settings.log_rows {
                    continue;
                }
                if rows.len() < shared.settings.max_rows {
                    rows.push(log_row(ev));
                } else {
                    shared.dropped_rows.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(mpsc::error::TryRecvError::Empty) => return true,
            Err(mpsc::error::TryRecvError::Disconnected) => return false,
        }
    }
}

async fn drain_loop(shared: Arc<Shared>) {
    loop {
        tokio::time::sleep(DRAIN_EVERY).await;
        let open = drain(&shared);
        let waiting = shared.rows.lock().unwrap_or_else(|e| e.into_inner()).len();
        if waiting >= FLUSH_AT_ROWS {
            shared.flush_soon.notify_one();
        }
        if !open {
            return;
        }
    }
}

async fn flush_loop(shared: Arc<Shared>) {
    let tick = shared
        .settings
        .refresh_every
        .min(shared.settings.batch_every);
    let mut last_flush = Instant::now();
    let mut reported_drops = 0;
    loop {
        let early = tokio::select! {
            () = tokio::time::sleep(tick) => false,
            () = shared.flush_soon.notified() => true,
        };
        if early || last_flush.elapsed() >= shared.settings.batch_every {
            last_flush = Instant::now();
            let _ = flush(&shared).await;
            let dropped = shared.dropped_rows.load(Ordering::Relaxed);
            if dropped > reported_drops {
                log::warn(&format!(
                    "spend logs: {} rows dropped so far (the database is slower than the traffic; spend totals are kept)",
                    dropped
                ));
                reported_drops = dropped;
            }
        } else {
            SpendWriter {
                shared: Arc::clone(&shared),
            }
            .refresh_budgets()
            .await;
        }
    }
}

/// One flush: take the ledger's charges and the rows, write them, read totals back.
async fn flush(shared: &Shared) -> Result<(), sqlx::Error> {
    let _guard = shared.flushing.lock().await;
    drain(shared);
    let deltas = shared.ledger.take();
    let rows = std::mem::take(&mut *shared.rows.lock().unwrap_or_else(|e| e.into_inner()));
    match shared.store.write_spend(&deltas, &rows).await {
        Ok(()) => {
            let budgets = shared.store.read_budgets().await.ok();
            shared.ledger.written(&deltas, budgets);
            if shared.failing.swap(false, Ordering::Relaxed) {
                log::info("spend: the database answers again; waiting spend written");
            }
            Ok(())
        }
        Err(e) => {
            shared.ledger.not_written(deltas);
            {
                let mut buffered = shared.rows.lock().unwrap_or_else(|e| e.into_inner());
                let room = shared.settings.max_rows.saturating_sub(buffered.len());
                let kept = rows.len().min(room);
                shared
                    .dropped_rows
                    .fetch_add((rows.len() - kept) as u64, Ordering::Relaxed);
                let mut rows = rows;
                rows.truncate(kept);
                rows.append(&mut buffered);
                *buffered = rows;
            }
            if !shared.failing.swap(true, Ordering::Relaxed) {
                log::warn(&format!(
                    "spend: cannot write to the database (kept in memory, retried every {:?}): {}",
                    shared.settings.batch_every,
                    crate::proxy::store::scrub(&e.to_string(), "")
                ));
            }
            Err(e)
        }
    }
}

async fn reset_loop(shared: Arc<Shared>) {
    loop {
        tokio::time::sleep(shared.settings.reset_every).await;
        match shared.store.reset_budgets(time::now_ms()).await {
            Ok(Some(n)) if n > 0 => {
                log::debug(&format!("budgets: {n} reset"));
                let _guard = shared.flushing.lock().await;
                if let Ok(budgets) = shared.store.read_budgets().await {
                    shared.ledger.set_budgets(budgets);
                }
            }
            Ok(_) => {}
            Err(e) => log::warn(&format!(
                "budgets: the reset job failed (retried next round): {}",
                crate::proxy::store::scrub(&e.to_string(), "")
            )),
        }
    }
}

async fn retention_loop(shared: Arc<Shared>) {
    let Some(keep) = shared.settings.retention else {
        return;
    };
    loop {
        tokio::time::sleep(shared.settings.retention_every).await;
        let before = time::now_ms() - keep.as_millis() as i64;
        let started = Instant::now();
        let mut total = 0;
        // Small batches, each its own transaction: no long lock, no rows in memory.
        while started.elapsed() < PRUNE_TIME_BUDGET {
            match shared.store.prune_spend_logs(before, PRUNE_BATCH).await {
                Ok(Some(n)) => {
                    total += n;
                    if (n as i64) < PRUNE_BATCH {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    log::warn(&format!(
                        "spend logs: the retention job failed (retried next round): {}",
                        crate::proxy::store::scrub(&e.to_string(), "")
                    ));
                    break;
                }
            }
        }
        if total > 0 {
            log::debug(&format!(
                "spend logs: {total} rows older than {keep:?} deleted"
            ));
        }
    }
}

#[cfg(test)]
mod tests;
