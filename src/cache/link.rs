//! The one connection to Redis that a Router's shared state and its response cache use.
//!
//! Redis is an accelerator for exactness across processes, never a dependency a request
//! waits on: when a command fails the link is marked down, the caller falls back to its
//! local state, and for the next second nobody tries Redis again (so an outage costs one
//! failed command a second, not one per request). Then a new connection is attempted; the
//! first command that succeeds marks the link up again. The transition down is reported
//! once per outage through the [`EventSink`].

use std::cell::RefCell;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ConnectionAddr, ConnectionInfo, RedisResult};

use super::tls::RedisTls;
use crate::router::state::lock;

/// How loud an event is (the Python layer maps these to `logging` levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventLevel {
    Warning,
    Info,
}

/// Where the link reports going down and coming back (the Python layer logs these on
/// `logging.getLogger("rustllm")`).
pub type EventSink = Arc<dyn Fn(EventLevel, &str) + Send + Sync>;

/// How long a down link is left alone before the next connection attempt.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// A Redis that answers slower than this is treated as down for the call at hand.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// Ids of links, naming each serving thread's own connection to one.
static NEXT_LINK_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// A serving thread's own connections ([`crate::transport::serve_on_this_thread`]):
    /// link id, the link's epoch when connected, the connection. Its driver task lives on
    /// the thread's runtime, so a command and its reply never wake another thread.
    static OWN: RefCell<Vec<(u64, u64, ConnectionManager)>> = const { RefCell::new(Vec::new()) };
}

pub struct RedisLink {
    client: redis::Client,
    id: u64,
    /// Bumped when a command fails: connections of an older epoch are made again.
    epoch: AtomicU64,
    /// `host:port` for messages: never the password.
    label: String,
    /// The connection and the process generation that made it: its driver task lives on
    /// that generation's runtime, so a forked child must not use it (see `transport`).
    conn: Mutex<Option<(usize, ConnectionManager)>>,
    /// One connection attempt at a time.
    connecting: tokio::sync::Mutex<()>,
    born: Instant,
    down: AtomicBool,
    /// Milliseconds since `born` before which a down link is not retried.
    retry_at_ms: AtomicU64,
    sink: Mutex<Option<EventSink>>,
}

/// How every connection is made: no retries of its own (the link decides when to try
/// again), bounded waits, and `TCP_NODELAY` (redis-rs leaves Nagle's algorithm on
/// unless built with its `tcp_nodelay` feature: a command written while an earlier
/// one's reply is outstanding would wait for that reply's ACK; commands here are small
/// and share one connection per thread, so each goes out when written).
fn connection_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_number_of_retries(0)
        .set_connection_timeout(CONNECT_TIMEOUT)
        .set_response_timeout(RESPONSE_TIMEOUT)
        .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true))
}

impl std::fmt::Debug for RedisLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLink")
            .field("at", &self.label)
            .field("down", &self.down.load(Ordering::Relaxed))
            .finish()
    }
}

/// `host:port` (or the socket path) of a connection, for messages.
pub fn describe(info: &ConnectionInfo) -> String {
    match &info.addr {
        ConnectionAddr::Tcp(host, port) => format!("{host}:{port}"),
        ConnectionAddr::TcpTls { host, port, .. } => format!("{host}:{port}"),
        ConnectionAddr::Unix(path) => path.display().to_string(),
    }
}

/// Where Redis is and how the connection is secured. Its `Debug` shows the address only,
/// never the password.
#[derive(Clone)]
pub struct RedisTarget {
    pub info: ConnectionInfo,
    /// Set when the connection uses TLS (`info.addr` is then a TLS address).
    pub tls: Option<RedisTls>,
}

impl RedisTarget {
    /// `host:port` (or the socket path), for messages.
    pub fn address(&self) -> String {
        describe(&self.info)
    }
}

impl From<ConnectionInfo> for RedisTarget {
    fn from(info: ConnectionInfo) -> Self {
        RedisTarget { info, tls: None }
    }
}

impl std::fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls.is_some() { "TLS " } else { "" };
        write!(f, "RedisTarget({scheme}{})", self.address())
    }
}

impl RedisLink {
    /// A link to `target`; nothing connects until the first command. Fails (with a
    /// message free of passwords) when the TLS files cannot be read or used.
    pub fn open(target: RedisTarget) -> Result<Arc<RedisLink>, String> {
        let label = target.address();
        let client = match &target.tls {
            Some(tls) => tls.client(target.info)?,
            None => redis::Client::open(target.info).map_err(|e| e.to_string())?,
        };
        Ok(Arc::new(RedisLink {
            client,
            id: NEXT_LINK_ID.fetch_add(1, Ordering::Relaxed),
            epoch: AtomicU64::new(0),
            label,
            conn: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            born: Instant::now(),
            down: AtomicBool::new(false),
            retry_at_ms: AtomicU64::new(0),
            sink: Mutex::new(None),
        }))
    }

    pub fn set_sink(&self, sink: EventSink) {
        *lock(&self.sink) = Some(sink);
    }

    /// Where the link points, as `host:port`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether the last command failed and Redis has not answered since.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    fn emit(&self, level: EventLevel, message: &str) {
        let sink = lock(&self.sink).clone();
        if let Some(sink) = sink {
            sink(level, message);
        }
    }

    fn now_ms(&self) -> u64 {
        self.born.elapsed().as_millis() as u64
    }

    /// Whether the link is down and not yet due for another try: a command now is not
    /// sent at all.
    pub fn resting(&self) -> bool {
        self.is_down() && self.now_ms() < self.retry_at_ms.load(Ordering::Relaxed)
    }

    /// A connection, or `None` while Redis is down and not yet due for another try.
    async fn connection(&self) -> Option<ConnectionManager> {
        if self.resting() {
            return None;
        }
        if crate::transport::is_serving_thread() {
            return self.own_connection().await;
        }
        if let Some(c) = self.current() {
            return Some(c);
        }
        let _one_at_a_time = self.connecting.lock().await;
        if let Some(c) = self.current() {
            return Some(c);
        }
        if self.resting() {
            return None;
        }
        let config = connection_config();
        // The connection's driver task must live on the shared runtime: a blocking call
        // may be running on a thread's own runtime, which nothing drives between calls.
        let client = self.client.clone();
        let connect = crate::transport::runtime()
            .spawn(async move { ConnectionManager::new_with_config(client, config).await });
        let connected = match connect.await {
            Ok(result) => result,
            Err(e) => Err(redis::RedisError::from((
                redis::ErrorKind::IoError,
                "connection task failed",
                e.to_string(),
            ))),
        };
        match connected {
            Ok(c) => {
                *lock(&self.conn) = Some((crate::transport::generation(), c.clone()));
                Some(c)
            }
            Err(e) => {
                self.failed(&e);
                None
            }
        }
    }

    /// This serving thread's own connection, made on its runtime on first use (and again
    /// after a failure).
    async fn own_connection(&self) -> Option<ConnectionManager> {
        let mine = || {
            let epoch = self.epoch.load(Ordering::Acquire);
            OWN.with(|own| {
                own.borrow()
                    .iter()
                    .find(|(id, e, _)| *id == self.id && *e == epoch)
                    .map(|(_, _, c)| c.clone())
            })
        };
        if let Some(c) = mine() {
            return Some(c);
        }
        let _one_at_a_time = self.connecting.lock().await;
        if let Some(c) = mine() {
            return Some(c);
        }
        if self.resting() {
            return None;
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        match ConnectionManager::new_with_config(self.client.clone(), connection_config()).await {
            Ok(c) => {
                OWN.with(|own| {
                    let mut own = own.borrow_mut();
                    own.retain(|(id, _, _)| *id != self.id);
                    own.push((self.id, epoch, c.clone()));
                });
                Some(c)
            }
            Err(e) => {
                self.failed(&e);
                None
            }
        }
    }

    /// The connection made in this process, if any. One inherited through `fork()` is
    /// forgotten, not dropped: its socket is the parent's.
    fn current(&self) -> Option<ConnectionManager> {
        let mut slot = lock(&self.conn);
        match slot.as_ref() {
            Some((generation, c)) if *generation == crate::transport::generation() => {
                Some(c.clone())
            }
            Some(_) => {
                std::mem::forget(slot.take());
                None
            }
            None => None,
        }
    }

    fn failed(&self, e: &redis::RedisError) {
        *lock(&self.conn) = None;
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.retry_at_ms.store(
            self.now_ms() + RETRY_AFTER.as_millis() as u64,
            Ordering::Relaxed,
        );
        if !self.down.swap(true, Ordering::AcqRel) {
            // redis errors carry no credentials; the label has none either.
            self.emit(
                EventLevel::Warning,
                &format!(
                    "Redis at {} is unreachable ({e}); carrying on with this process's local state until it is back",
                    self.label
                ),
            );
        }
    }

    fn succeeded(&self) {
        if self.down.swap(false, Ordering::AcqRel) {
            self.emit(
                EventLevel::Info,
                &format!(
                    "Redis at {} is reachable again; shared state resumes",
                    self.label
                ),
            );
        }
    }

    /// Run one command (or pipeline, or script) against Redis. `None` when Redis is down
    /// or the command failed: the caller falls back to local state.
    pub async fn run<T, F, Fut>(&self, f: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let conn = self.connection().await?;
        match f(conn).await {
            Ok(v) => {
                self.succeeded();
                Some(v)
            }
            Err(e) => {
                self.failed(&e);
                None
            }
        }
    }

    // Plain key/value commands for `Router.cache` (LiteLLM's DualCache, which users call
    // to share their own values). `None` means Redis did not answer (down, slow, or an
    // error): the caller falls back to memory, as the Router's own state does.

    /// `GET key`: `Some(None)` when the key is absent.
    pub async fn get(&self, key: &str) -> Option<Option<String>> {
        let key = key.to_string();
        self.run(|mut c| async move { redis::cmd("GET").arg(&key).query_async(&mut c).await })
            .await
    }

    /// `MGET keys`, one entry per key.
    pub async fn get_many(&self, keys: &[String]) -> Option<Vec<Option<String>>> {
        if keys.is_empty() {
            return Some(Vec::new());
        }
        let keys = keys.to_vec();
        self.run(|mut c| async move { redis::cmd("MGET").arg(&keys).query_async(&mut c).await })
            .await
    }

    /// `SET key value [PX ttl]`.
    pub async fn set(&self, key: &str, value: &str, ttl: Option<Duration>) -> Option<()> {
        let (key, value) = (key.to_string(), value.to_string());
        self.run(|mut c| async move {
            let mut cmd = redis::cmd("SET");
            cmd.arg(&key).arg(&value);
            if let Some(ttl) = ttl.filter(|t| !t.is_zero()) {
                cmd.arg("PX").arg(ttl.as_millis().max(1) as u64);
            }
            cmd.query_async(&mut c).await
        })
        .await
    }

    /// `INCRBYFLOAT key by`, then the new value; a ttl is set only on a key that has
    /// none (as LiteLLM's RedisCache does), so repeated increments do not extend it.
    pub async fn increment(&self, key: &str, by: f64, ttl: Option<Duration>) -> Option<f64> {
        let key = key.to_string();
        self.run(|mut c| async move {
            let value: f64 = redis::cmd("INCRBYFLOAT")
                .arg(&key)
                .arg(by)
                .query_async(&mut c)
                .await?;
            if let Some(ttl) = ttl.filter(|t| !t.is_zero()) {
                let left: i64 = redis::cmd("PTTL").arg(&key).query_async(&mut c).await?;
                if left == -1 {
                    let _: i64 = redis::cmd("PEXPIRE")
                        .arg(&key)
                        .arg(ttl.as_millis().max(1) as u64)
                        .query_async(&mut c)
                        .await?;
                }
            }
            Ok(value)
        })
        .await
    }

    /// `DEL key`.
    pub async fn delete(&self, key: &str) -> Option<()> {
        let key = key.to_string();
        self.run(|mut c| async move {
            let _: i64 = redis::cmd("DEL").arg(&key).query_async(&mut c).await?;
            Ok(())
        })
        .await
    }
}
