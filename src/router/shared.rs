//! The Router's state behind one interface: this process's memory, or Redis shared by
//! every Router that points at the same server.
//!
//! With Redis every decision that must be exact across processes is one atomic Redis
//! operation: admission under rpm/tpm is a Lua script that checks and counts (and marks
//! the request in flight) in one step, so two processes with `rpm=6` admit 6 requests a
//! minute between them. Local memory is written too, so that when Redis goes away the
//! Router carries on with a warm local view (limits then hold per process) and loses no
//! request; the link reconnects by itself.
//!
//! Keys, namespaced per deployment id, all with TTLs:
//! * `{id}:{model}:rpm:{HH-MM}`, `{id}:{model}:tpm:{HH-MM}`: usage per UTC minute
//!   (LiteLLM's usage-based routing keys), 120 s.
//! * `{id}:fails:{HH-MM}`: failures this minute (the default cooldown policy), 120 s.
//! * `deployment:{id}:cooldown`: LiteLLM's cooldown entry, TTL = the cooldown.
//! * `deployment:{id}:failed_calls`: a sorted set of failure times for `allowed_fails`,
//!   TTL = the window.
//! * `{group}_request_count`: a hash of in-flight requests per deployment id (LiteLLM's
//!   least-busy key), 10 minutes after the last change.
//! * `deployment:{id}:latency`: the latest latency samples, TTL = the latency ttl.
//!
//! The memory path does no allocation beyond today's and awaits nothing: each method is
//! an `async fn` whose Redis branch is skipped when there is no Redis.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use redis::Script;

use super::config::Deployment;
use super::state::{lock, Clock, LocalView, MemoryState, MinuteUsage, StateView};
use crate::cache::link::RedisLink;

const USAGE_TTL_MS: u64 = 120_000;
const IN_FLIGHT_TTL_MS: u64 = 600_000;

/// Check-and-count admission over candidates in preference order: the first one under
/// its rpm and tpm limits gets its request counted and marked in flight.
/// KEYS: per candidate, its rpm key, tpm key and in-flight hash.
/// ARGV: input tokens, usage ttl ms, in-flight ttl ms, then per candidate its rpm limit,
/// tpm limit (-1 = none) and id.
/// Returns `{k, rpm, tpm}` for the admitted candidate k (0-based), else `{-1, rpm0, tpm0,
/// rpm1, tpm1, ...}`.
pub const ADMIT_LUA: &str = r"
local tokens = tonumber(ARGV[1])
local seen = {-1}
for k = 0, #KEYS / 3 - 1 do
  local rpm_key, tpm_key, busy_key = KEYS[3 * k + 1], KEYS[3 * k + 2], KEYS[3 * k + 3]
  local rpm_limit = tonumber(ARGV[4 + 3 * k])
  local tpm_limit = tonumber(ARGV[5 + 3 * k])
  local rpm = tonumber(redis.call('GET', rpm_key) or '0')
  local tpm = tonumber(redis.call('GET', tpm_key) or '0')
  if (rpm_limit < 0 or rpm + 1 <= rpm_limit) and (tpm_limit < 0 or tpm + tokens <= tpm_limit) then
    redis.call('INCR', rpm_key)
    redis.call('PEXPIRE', rpm_key, ARGV[2])
    redis.call('HINCRBY', busy_key, ARGV[6 + 3 * k], 1)
    redis.call('PEXPIRE', busy_key, ARGV[3])
    return {k, rpm + 1, tpm}
  end
  seen[#seen + 1] = rpm
  seen[#seen + 1] = tpm
end
return seen
";

/// A failure in a sliding window (`allowed_fails`): drop the ones older than the window,
/// add this one, count. KEYS: the sorted set. ARGV: now ms, window ms, a unique member.
pub const WINDOWED_FAILURE_LUA: &str = r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - window))
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return redis.call('ZCARD', KEYS[1])
";

/// Which parts of the state a selection reads (cooldowns always).
#[derive(Debug, Clone, Copy, Default)]
pub struct Need {
    pub in_flight: bool,
    pub usage: bool,
    pub latency: bool,
}

impl Need {
    pub const ALL: Need = Need {
        in_flight: true,
        usage: true,
        latency: true,
    };

    /// Cooldowns only.
    fn cooldowns_only(self) -> bool {
        !(self.in_flight || self.usage || self.latency)
    }

    /// Whether a read of `self` has everything `other` reads.
    fn covers(self, other: Need) -> bool {
        (self.in_flight || !other.in_flight)
            && (self.usage || !other.usage)
            && (self.latency || !other.latency)
    }
}

/// How long a read of the shared state answers later selections: cooldowns for one that
/// reads nothing else (`simple-shuffle`, and the others' first look), the whole read
/// (in-flight counts, usage, latency) for one that reads as much. So a call under load
/// waits for no read, only for its admission where there is one: LiteLLM's DualCache
/// keeps its Redis batch reads in memory for 0.1 s likewise. What this process does
/// counts at once (a cooldown it sets, its own requests in flight and usage, see
/// [`RecentRead`]); what other processes do is seen within this long.
const COOLDOWN_READ_TTL_MS: u64 = 100;

/// The cooldowns last read from Redis, per deployment: when read, and until when the
/// deployment cools down (`None`: it did not).
#[derive(Debug, Default)]
struct CooldownsRead {
    entries: Vec<Option<(u64, Option<u64>)>>,
}

impl CooldownsRead {
    /// A snapshot of `ids` from reads younger than [`COOLDOWN_READ_TTL_MS`], if all are.
    fn snapshot(&self, ids: &[usize], now_ms: u64) -> Option<Snapshot> {
        let mut entries = HashMap::with_capacity(ids.len());
        let mut any_cooling = false;
        for &i in ids {
            let (read_at, until) = (*self.entries.get(i)?)?;
            if now_ms.saturating_sub(read_at) >= COOLDOWN_READ_TTL_MS {
                return None;
            }
            let left = until.map(|u| u.saturating_sub(now_ms)).filter(|ms| *ms > 0);
            any_cooling |= left.is_some();
            entries.insert(
                i,
                Entry {
                    cooldown_ms: left,
                    ..Entry::default()
                },
            );
        }
        Some(Snapshot {
            entries,
            any_cooling,
        })
    }

    fn record(&mut self, i: usize, read_at: u64, until: Option<u64>) {
        set_entry(&mut self.entries, i, (read_at, until));
    }
}

/// Set entry `i` of a per-deployment table, growing it as needed.
fn set_entry<T: Clone>(entries: &mut Vec<Option<T>>, i: usize, value: T) {
    if entries.len() <= i {
        entries.resize(i + 1, None);
    }
    entries[i] = Some(value);
}

/// One deployment's last full read from Redis (besides its cooldown, which
/// [`CooldownsRead`] keeps), with this process's own counts at that moment: a view made
/// from it adds what this process did since (its requests begun and ended, its usage),
/// so that this process's requests are never stale in it and only the other processes'
/// are as old as the read. Without that, least-busy would send every call of the next
/// 0.1 s to the deployment that was least busy at the read.
#[derive(Debug, Clone, Copy)]
struct RecentRead {
    read_at: u64,
    /// What was read, and the usage minute it was read in.
    need: Need,
    minute: u64,
    in_flight: i64,
    usage: MinuteUsage,
    mean_latency: Option<f64>,
    /// This process's in-flight count and usage just before the read.
    own_in_flight: i64,
    own_usage: MinuteUsage,
}

/// The last full reads, per deployment.
#[derive(Debug, Default)]
struct RecentReads {
    entries: Vec<Option<RecentRead>>,
}

impl RecentReads {
    fn record(&mut self, i: usize, read: RecentRead) {
        set_entry(&mut self.entries, i, read);
    }

    /// `i`'s entry from a read younger than [`COOLDOWN_READ_TTL_MS`] that read at least
    /// `need` (and this minute's usage when `need` has usage), brought up to date with
    /// what `local` (this process) did since; `None` when there is no such read.
    fn entry(&self, i: usize, need: Need, now_ms: u64, local: &MemoryState) -> Option<Entry> {
        let read = (*self.entries.get(i)?)?;
        if now_ms.saturating_sub(read.read_at) >= COOLDOWN_READ_TTL_MS || !read.need.covers(need) {
            return None;
        }
        let mut usage = read.usage;
        if need.usage {
            let own = local.usage(i);
            if own.minute != read.minute || read.own_usage.minute != read.minute {
                return None;
            }
            usage.requests += own.requests.saturating_sub(read.own_usage.requests);
            usage.tokens += own.tokens.saturating_sub(read.own_usage.tokens);
        }
        Some(Entry {
            cooldown_ms: None,
            in_flight: read.in_flight + (local.in_flight(i) - read.own_in_flight),
            usage,
            mean_latency: read.mean_latency,
        })
    }
}

/// One deployment as read from Redis.
#[derive(Debug, Default, Clone)]
struct Entry {
    cooldown_ms: Option<u64>,
    in_flight: i64,
    usage: MinuteUsage,
    /// Mean of the samples younger than the latency ttl.
    mean_latency: Option<f64>,
}

/// The shared state of some deployments, read in one round trip.
#[derive(Debug, Default)]
pub struct Snapshot {
    entries: HashMap<usize, Entry>,
    /// Some deployment is cooling down.
    any_cooling: bool,
}

impl StateView for Snapshot {
    fn in_flight(&self, i: usize) -> i64 {
        self.entries
            .get(&i)
            .map(|e| e.in_flight.max(0))
            .unwrap_or(0)
    }
    fn usage(&self, i: usize) -> MinuteUsage {
        self.entries.get(&i).map(|e| e.usage).unwrap_or_default()
    }
    fn mean_latency(&self, i: usize) -> Option<f64> {
        self.entries.get(&i)?.mean_latency
    }
    fn cooldown_left(&self, i: usize) -> Option<Duration> {
        self.entries
            .get(&i)
            .and_then(|e| e.cooldown_ms)
            .map(Duration::from_millis)
    }
    fn any_cooling(&self) -> bool {
        self.any_cooling
    }
}

/// What a selection reads: the local state itself, or a snapshot of the shared one.
pub enum View<'a> {
    Local(LocalView<'a>),
    Shared(Snapshot),
}

impl StateView for View<'_> {
    fn in_flight(&self, i: usize) -> i64 {
        match self {
            View::Local(m) => m.in_flight(i),
            View::Shared(s) => s.in_flight(i),
        }
    }
    fn usage(&self, i: usize) -> MinuteUsage {
        match self {
            View::Local(m) => m.usage(i),
            View::Shared(s) => s.usage(i),
        }
    }
    fn tokens(&self, i: usize) -> u64 {
        match self {
            View::Local(m) => m.tokens(i),
            View::Shared(s) => s.tokens(i),
        }
    }
    fn mean_latency(&self, i: usize) -> Option<f64> {
        match self {
            View::Local(m) => m.mean_latency(i),
            View::Shared(s) => s.mean_latency(i),
        }
    }
    fn cooldown_left(&self, i: usize) -> Option<Duration> {
        match self {
            View::Local(m) => m.cooldown_left(i),
            View::Shared(s) => s.cooldown_left(i),
        }
    }
    fn cooling(&self, i: usize) -> bool {
        match self {
            View::Local(m) => m.cooling(i),
            View::Shared(s) => s.cooling(i),
        }
    }
    fn any_cooling(&self) -> bool {
        match self {
            View::Local(m) => m.any_cooling(),
            View::Shared(s) => s.any_cooling(),
        }
    }
}

/// The outcome of admission under rpm/tpm.
#[derive(Debug)]
pub enum Admission {
    /// `index` was counted and marked in flight; `shared` says where (so its end is
    /// recorded in the same place).
    Admitted { index: usize, shared: bool },
    /// Every candidate is at a limit: their usage, in candidate order.
    Full(Vec<(usize, MinuteUsage)>),
}

/// Give back one of deployment `id`'s in-flight requests in its group's hash `hash`.
async fn release_in_flight(link: &RedisLink, owed: &Owed, hash: &str, id: &str) {
    let mut due = std::mem::take(&mut *lock(&owed.0));
    *due.entry((hash.to_string(), id.to_string())).or_default() += 1;
    if link.resting() {
        // Not sent: kept for the next release that goes out.
        let mut kept = lock(&owed.0);
        for (key, n) in due {
            *kept.entry(key).or_default() += n;
        }
        return;
    }
    let mut pipe = redis::pipe();
    for ((hash, id), n) in &due {
        pipe.cmd("HINCRBY").arg(hash).arg(id).arg(-n).ignore();
    }
    let _: Option<()> = link
        .run(|mut c| async move { pipe.query_async(&mut c).await })
        .await;
}

/// In-flight releases never sent, per `(hash, deployment id)`: a request admitted in
/// Redis that ended while the link rested after a failure (a second) gave nothing back,
/// and least-busy read that deployment busier for as long as its group was used (the
/// hash's ttl is renewed by every change). They go with the next release that is sent.
/// A release sent whose answer failed is not kept: it may have counted in Redis, and
/// given back twice a deployment would read idler than it is.
#[derive(Default)]
struct Owed(std::sync::Mutex<HashMap<(String, String), i64>>);

/// [`release_in_flight`] in a task of the shared runtime, for a caller that cannot wait
/// (a `Drop`, or a thread's own runtime that nothing drives once the call returns).
fn release_later(link: Arc<RedisLink>, owed: Arc<Owed>, hash: String, id: String) {
    drop(
        crate::transport::runtime()
            .spawn(async move { release_in_flight(&link, &owed, &hash, &id).await }),
    );
}

/// One candidate of a shared admission, as its task sends it.
struct Candidate {
    rpm_key: String,
    tpm_key: String,
    in_flight: String,
    id: String,
    rpm: i64,
    tpm: i64,
}

/// The candidate a shared admission's reply admitted, if any (its first number).
fn admitted<'a>(reply: &[i64], candidates: &'a [Candidate]) -> Option<&'a Candidate> {
    let k = usize::try_from(*reply.first()?).ok()?;
    candidates.get(k)
}

/// Where the caller of a shared admission waits for its reply. Dropped before reading
/// an admission that did arrive (the caller cancelled between the task's answer and its
/// own next poll), it gives the in-flight count back, as the task does for a caller
/// already gone when the reply comes.
struct Answer {
    rx: tokio::sync::oneshot::Receiver<Option<Vec<i64>>>,
    link: Arc<RedisLink>,
    owed: Arc<Owed>,
    candidates: Arc<[Candidate]>,
}

impl Drop for Answer {
    fn drop(&mut self) {
        // Closed first: the task then either sees the caller gone (and releases itself)
        // or has already sent, and the reply is read here. Read once, it is gone.
        self.rx.close();
        let Ok(Some(reply)) = self.rx.try_recv() else {
            return;
        };
        if let Some(c) = admitted(&reply, &self.candidates) {
            release_later(
                self.link.clone(),
                self.owed.clone(),
                c.in_flight.clone(),
                c.id.clone(),
            );
        }
    }
}

struct Keys {
    id: String,
    usage_prefix: String,
    fails_prefix: String,
    in_flight: String,
    cooldown: String,
    failed_calls: String,
    latency: String,
}

struct RedisState {
    link: Arc<RedisLink>,
    keys: Vec<Keys>,
    /// The latency keys' expiry (at least 1 ms).
    latency_ttl_ms: u64,
    /// How old a latency sample may be and still count.
    latency_window_ms: u64,
    admit: Arc<Script>,
    windowed_failure: Script,
    /// Cooldowns read lately, for every selection.
    cooldowns_read: std::sync::Mutex<CooldownsRead>,
    /// Full reads made lately, for the selections that read more than cooldowns.
    recent: std::sync::Mutex<RecentReads>,
    /// Per deployment: held while a read of a group starting with it is out, so that the
    /// selections which find the last read too old meanwhile wait for that one instead
    /// of each reading (a burst of calls would read once per call). Made again in a
    /// forked child ([`ReadLocks::current`]).
    reading: ReadLocks,
    owed: Arc<Owed>,
}

/// The per-deployment read locks of one process generation
/// ([`crate::transport::generation`]). A read out when the process forks stays behind
/// in the parent's runtime with its lock held: a child using the parent's locks would
/// wait for it forever, so a child makes its own.
struct ReadLocks {
    size: usize,
    current: std::sync::Mutex<(usize, Arc<[tokio::sync::Mutex<()>]>)>,
}

impl ReadLocks {
    fn new(size: usize) -> ReadLocks {
        ReadLocks {
            size,
            current: std::sync::Mutex::new((crate::transport::generation(), Self::fresh(size))),
        }
    }

    fn fresh(size: usize) -> Arc<[tokio::sync::Mutex<()>]> {
        (0..size).map(|_| tokio::sync::Mutex::new(())).collect()
    }

    /// This process's locks.
    fn current(&self) -> Arc<[tokio::sync::Mutex<()>]> {
        let generation = crate::transport::generation();
        let mut current = lock(&self.current);
        if current.0 != generation {
            *current = (generation, Self::fresh(self.size));
        }
        current.1.clone()
    }
}

/// `HH-MM` of a UTC minute, as LiteLLM names its usage windows.
fn hh_mm(minute: u64) -> String {
    let m = minute % 1440;
    format!("{:02}-{:02}", m / 60, m % 60)
}

pub struct SharedState {
    /// This process's state: the whole state without Redis, a warm fallback with it.
    pub local: MemoryState,
    redis: Option<RedisState>,
}

impl std::fmt::Debug for SharedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedState")
            .field("redis", &self.redis.as_ref().map(|r| r.link.label()))
            .finish()
    }
}

impl SharedState {
    pub fn new(
        deployments: &[Deployment],
        clock: Arc<dyn Clock>,
        redis: Option<Arc<RedisLink>>,
        latency_ttl: Duration,
    ) -> SharedState {
        let redis = redis.map(|link| RedisState {
            link,
            keys: deployments
                .iter()
                .map(|d| {
                    let model = d.params.get("model").and_then(|m| m.as_str()).unwrap_or("");
                    Keys {
                        id: d.id.clone(),
                        usage_prefix: format!("{}:{model}", d.id),
                        fails_prefix: format!("{}:fails", d.id),
                        in_flight: format!("{}_request_count", d.group),
                        cooldown: format!("deployment:{}:cooldown", d.id),
                        failed_calls: format!("deployment:{}:failed_calls", d.id),
                        latency: format!("deployment:{}:latency", d.id),
                    }
                })
                .collect(),
            latency_ttl_ms: (latency_ttl.as_millis() as u64).max(1),
            latency_window_ms: latency_ttl.as_millis() as u64,
            admit: Arc::new(Script::new(ADMIT_LUA)),
            windowed_failure: Script::new(WINDOWED_FAILURE_LUA),
            cooldowns_read: std::sync::Mutex::new(CooldownsRead::default()),
            recent: std::sync::Mutex::new(RecentReads::default()),
            reading: ReadLocks::new(deployments.len()),
            owed: Arc::default(),
        });
        SharedState {
            local: MemoryState::new(deployments.len(), clock, latency_ttl),
            redis,
        }
    }

    pub fn clock(&self) -> &dyn Clock {
        self.local.clock()
    }

    /// The Redis link, when the state is shared.
    pub fn link(&self) -> Option<&Arc<RedisLink>> {
        self.redis.as_ref().map(|r| &r.link)
    }

    fn minute(&self) -> u64 {
        self.clock().unix_secs() / 60
    }

    fn usage_key(&self, r: &RedisState, i: usize, what: &str, minute: &str) -> String {
        format!("{}:{what}:{minute}", r.keys[i].usage_prefix)
    }

    /// The state of `ids` as a selection needs it: one Redis round trip when shared.
    pub async fn view(&self, ids: &[usize], need: Need) -> View<'_> {
        if let Some(r) = &self.redis {
            if let Some(s) = self.snapshot(r, ids, need).await {
                return View::Shared(s);
            }
        }
        View::Local(self.local.view())
    }

    async fn snapshot(&self, r: &RedisState, ids: &[usize], need: Need) -> Option<Snapshot> {
        let now_ms = self.clock().unix_millis();
        if ids.is_empty() {
            return Some(Snapshot::default());
        }
        if let Some(s) = self.recent_snapshot(r, ids, need, now_ms) {
            return Some(s);
        }
        let locks = r.reading.current();
        let _reading = match locks.get(ids[0]) {
            Some(m) => Some(m.lock().await),
            None => None,
        };
        let now_ms = self.clock().unix_millis();
        if let Some(s) = self.recent_snapshot(r, ids, need, now_ms) {
            return Some(s);
        }
        // This process's own counts just before the read (the views made from it add
        // what changes after): they are off by the requests this process begins or ends
        // while the read is out, until the next read.
        let own: Vec<(i64, MinuteUsage)> = if need.cooldowns_only() {
            Vec::new()
        } else {
            ids.iter()
                .map(|&i| (self.local.in_flight(i), self.local.usage(i)))
                .collect()
        };
        let minute_now = self.minute();
        let minute = hh_mm(minute_now);
        let mut pipe = redis::pipe();
        for &i in ids {
            let k = r.keys.get(i)?;
            pipe.cmd("PTTL").arg(&k.cooldown);
            if need.in_flight {
                pipe.cmd("HGET").arg(&k.in_flight).arg(&k.id);
            }
            if need.usage {
                pipe.cmd("GET").arg(self.usage_key(r, i, "rpm", &minute));
                pipe.cmd("GET").arg(self.usage_key(r, i, "tpm", &minute));
            }
            if need.latency {
                pipe.cmd("LRANGE").arg(&k.latency).arg(0).arg(-1);
            }
        }
        let values: Vec<redis::Value> = r
            .link
            .run(|mut c| async move { pipe.query_async(&mut c).await })
            .await?;
        // The read answers the selections of the next [`COOLDOWN_READ_TTL_MS`] from when
        // its reply came: counted from when it was sent, a read slower than that was too
        // old on arrival, and every selection waiting for it read again in turn.
        let read_at = self.clock().unix_millis();
        let mut it = values.iter();
        let mut next = || it.next();
        let mut entries = HashMap::with_capacity(ids.len());
        let mut any_cooling = false;
        for &i in ids {
            let mut e = Entry::default();
            let pttl: i64 = redis::from_redis_value(next()?).ok()?;
            e.cooldown_ms = (pttl > 0).then_some(pttl as u64);
            if need.in_flight {
                e.in_flight = redis::from_redis_value::<Option<i64>>(next()?)
                    .ok()?
                    .unwrap_or(0);
            }
            if need.usage {
                e.usage.requests = redis::from_redis_value::<Option<u64>>(next()?)
                    .ok()?
                    .unwrap_or(0);
                e.usage.tokens = redis::from_redis_value::<Option<u64>>(next()?)
                    .ok()?
                    .unwrap_or(0);
            }
            if need.latency {
                let samples: Vec<String> = redis::from_redis_value(next()?).ok()?;
                let oldest = now_ms.saturating_sub(r.latency_window_ms);
                let (mut sum, mut n) = (0.0, 0usize);
                for s in &samples {
                    let Some((t, v)) = s.split_once(':') else {
                        continue;
                    };
                    if let (Ok(t), Ok(v)) = (t.parse::<u64>(), v.parse::<f64>()) {
                        if t >= oldest {
                            sum += v;
                            n += 1;
                        }
                    }
                }
                e.mean_latency = (n > 0).then(|| sum / n as f64);
            }
            any_cooling |= e.cooldown_ms.is_some();
            entries.insert(i, e);
        }
        {
            let mut read = lock(&r.cooldowns_read);
            for (&i, e) in &entries {
                read.record(i, read_at, e.cooldown_ms.map(|ms| now_ms + ms));
            }
        }
        if !own.is_empty() {
            let mut recent = lock(&r.recent);
            for (&i, &(own_in_flight, own_usage)) in ids.iter().zip(&own) {
                if let Some(e) = entries.get(&i) {
                    recent.record(
                        i,
                        RecentRead {
                            read_at,
                            need,
                            minute: minute_now,
                            in_flight: e.in_flight,
                            usage: e.usage,
                            mean_latency: e.mean_latency,
                            own_in_flight,
                            own_usage,
                        },
                    );
                }
            }
        }
        Some(Snapshot {
            entries,
            any_cooling,
        })
    }

    /// A snapshot of `ids` from reads younger than [`COOLDOWN_READ_TTL_MS`] (cooldowns,
    /// and the full reads when `need` reads more), if every part of it is that young.
    fn recent_snapshot(
        &self,
        r: &RedisState,
        ids: &[usize],
        need: Need,
        now_ms: u64,
    ) -> Option<Snapshot> {
        let mut s = {
            let read = lock(&r.cooldowns_read);
            read.snapshot(ids, now_ms)?
        };
        if need.cooldowns_only() {
            return Some(s);
        }
        let recent = lock(&r.recent);
        for &i in ids {
            let fresh = recent.entry(i, need, now_ms, &self.local)?;
            let e = s.entries.entry(i).or_default();
            e.in_flight = fresh.in_flight;
            e.usage = fresh.usage;
            e.mean_latency = fresh.mean_latency;
        }
        Some(s)
    }

    /// Admit the first of `ranked` that is under its limits: count the request and mark
    /// it in flight, atomically across every process sharing the state.
    ///
    /// `share: false` admits in this process's memory only, without a Redis round trip
    /// (when no process reads the shared counts, see `Router::shares_admission`).
    pub async fn try_admit(
        &self,
        ranked: &[usize],
        deployments: &[Deployment],
        input_tokens: u64,
        share: bool,
    ) -> Admission {
        if let Some(r) = self.redis.as_ref().filter(|_| share) {
            // The first candidate counts in flight here while its admission is out, so
            // that selections made meanwhile (a burst of concurrent calls) see it:
            // least-busy spreads the burst instead of sending all of it to the deployment
            // that was least busy before it. Given back when the admission answers, or
            // when the call is dropped meanwhile.
            struct Pending<'a>(&'a MemoryState, Option<usize>);
            impl Drop for Pending<'_> {
                fn drop(&mut self) {
                    if let Some(p) = self.1 {
                        self.0.end(p);
                    }
                }
            }
            let pending = Pending(&self.local, ranked.first().copied());
            if let Some(p) = pending.1 {
                self.local.begin(p);
            }
            let shared = self
                .admit_shared(r, ranked, deployments, input_tokens)
                .await;
            drop(pending);
            if let Some(result) = shared {
                if let Admission::Admitted { index, .. } = result {
                    self.local.count_request(index);
                    self.local.begin(index);
                }
                return result;
            }
        }
        for &i in ranked {
            let d = &deployments[i];
            if self.local.try_admit(i, d.rpm, d.tpm, input_tokens) {
                self.local.begin(i);
                return Admission::Admitted {
                    index: i,
                    shared: false,
                };
            }
        }
        Admission::Full(ranked.iter().map(|&i| (i, self.local.usage(i))).collect())
    }

    async fn admit_shared(
        &self,
        r: &RedisState,
        ranked: &[usize],
        deployments: &[Deployment],
        input_tokens: u64,
    ) -> Option<Admission> {
        if ranked.is_empty() {
            return Some(Admission::Full(Vec::new()));
        }
        let minute = hh_mm(self.minute());
        let limit = |v: Option<u64>| v.map(|n| n as i64).unwrap_or(-1);
        let mut candidates = Vec::with_capacity(ranked.len());
        for &i in ranked {
            let k = r.keys.get(i)?;
            let d = deployments.get(i)?;
            candidates.push(Candidate {
                rpm_key: self.usage_key(r, i, "rpm", &minute),
                tpm_key: self.usage_key(r, i, "tpm", &minute),
                in_flight: k.in_flight.clone(),
                id: k.id.clone(),
                rpm: limit(d.rpm),
                tpm: limit(d.tpm),
            });
        }
        // The call runs in a task of its own: a caller that goes away while it is out
        // (a cancelled call, an asyncio timeout) cannot stop it half-way, and the task
        // gives back the in-flight count an admission nobody waits for took (else that
        // deployment would read one request busier under least-busy for as long as its
        // group is used).
        let candidates: Arc<[Candidate]> = candidates.into();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (script, link, owed) = (r.admit.clone(), r.link.clone(), r.owed.clone());
        let mut answer = Answer {
            rx,
            link: link.clone(),
            owed: owed.clone(),
            candidates: candidates.clone(),
        };
        let task = async move {
            let mut inv = script.prepare_invoke();
            inv.arg(input_tokens)
                .arg(USAGE_TTL_MS)
                .arg(IN_FLIGHT_TTL_MS);
            for c in candidates.iter() {
                inv.key(&c.rpm_key)
                    .key(&c.tpm_key)
                    .key(&c.in_flight)
                    .arg(c.rpm)
                    .arg(c.tpm)
                    .arg(&c.id);
            }
            let out: Option<Vec<i64>> = link
                .run(|mut c| async move { inv.invoke_async(&mut c).await })
                .await;
            let Err(Some(out)) = tx.send(out) else { return };
            if let Some(c) = admitted(&out, &candidates) {
                release_in_flight(&link, &owed, &c.in_flight, &c.id).await;
            }
        };
        // A serving thread's runtime, else the shared one: a blocking call's own runtime
        // is not driven once the call is gone, and the task must finish without it.
        crate::transport::spawn_call_task(task);
        let out: Vec<i64> = (&mut answer.rx).await.ok().flatten()?;
        let first = *out.first()?;
        if first >= 0 {
            let index = *ranked.get(first as usize)?;
            return Some(Admission::Admitted {
                index,
                shared: true,
            });
        }
        let usages = ranked
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let get = |n: usize| out.get(n).copied().unwrap_or(0).max(0) as u64;
                (
                    i,
                    MinuteUsage {
                        requests: get(1 + 2 * k),
                        tokens: get(2 + 2 * k),
                        ..MinuteUsage::default()
                    },
                )
            })
            .collect();
        Some(Admission::Full(usages))
    }

    /// A request admitted by [`try_admit`](Self::try_admit) is over. Called from `Drop`,
    /// so the shared count is released by a spawned task.
    pub fn end(&self, i: usize, shared: bool) {
        self.local.end(i);
        if !shared {
            return;
        }
        let Some(r) = &self.redis else { return };
        let Some(k) = r.keys.get(i) else { return };
        release_later(
            r.link.clone(),
            r.owed.clone(),
            k.in_flight.clone(),
            k.id.clone(),
        );
    }

    /// Record a failure this minute; returns (failures, requests) so far this minute.
    pub async fn add_failure(&self, i: usize) -> (u64, u64) {
        let local = self.local.add_failure(i);
        if let Some(r) = &self.redis {
            let minute = hh_mm(self.minute());
            if let Some(k) = r.keys.get(i) {
                let fails = format!("{}:{minute}", k.fails_prefix);
                let rpm = self.usage_key(r, i, "rpm", &minute);
                let shared: Option<(u64, Option<u64>)> = r
                    .link
                    .run(|mut c| async move {
                        redis::pipe()
                            .atomic()
                            .cmd("INCR")
                            .arg(&fails)
                            .cmd("PEXPIRE")
                            .arg(&fails)
                            .arg(USAGE_TTL_MS)
                            .ignore()
                            .cmd("GET")
                            .arg(&rpm)
                            .query_async(&mut c)
                            .await
                    })
                    .await;
                if let Some((failures, requests)) = shared {
                    return (failures, requests.unwrap_or(0).max(failures));
                }
            }
        }
        local
    }

    /// Record a failure in a sliding window; returns how many fall inside it.
    pub async fn add_windowed_failure(&self, i: usize, window: Duration) -> usize {
        let local = self.local.add_windowed_failure(i, window);
        if let Some(r) = &self.redis {
            if let Some(k) = r.keys.get(i) {
                let now = self.clock().unix_millis();
                let member = format!("{now}-{}", fastrand::u64(..));
                let window_ms = (window.as_millis() as u64).max(1);
                let mut inv = r.windowed_failure.prepare_invoke();
                inv.key(&k.failed_calls).arg(now).arg(window_ms).arg(member);
                let n: Option<usize> = r
                    .link
                    .run(|mut c| async move { inv.invoke_async(&mut c).await })
                    .await;
                if let Some(n) = n {
                    return n;
                }
            }
        }
        local
    }

    /// Cool a deployment down for `length`, for every process sharing the state.
    pub async fn set_cooldown(&self, i: usize, length: Duration, status: u16, reason: &str) {
        self.local.set_cooldown(i, length, status);
        let Some(r) = &self.redis else { return };
        let Some(k) = r.keys.get(i) else { return };
        // LiteLLM's cooldown entry.
        let value = serde_json::json!({
            "exception_received": reason,
            "status_code": status.to_string(),
            "timestamp": self.clock().unix_millis() as f64 / 1000.0,
            "cooldown_time": length.as_secs_f64(),
        })
        .to_string();
        let ms = (length.as_millis() as u64).max(1);
        let now_ms = self.clock().unix_millis();
        lock(&r.cooldowns_read).record(i, now_ms, Some(now_ms + ms));
        let (cooldown, failed) = (k.cooldown.clone(), k.failed_calls.clone());
        let _: Option<()> = r
            .link
            .run(|mut c| async move {
                redis::pipe()
                    .cmd("SET")
                    .arg(&cooldown)
                    .arg(&value)
                    .arg("PX")
                    .arg(ms)
                    .ignore()
                    .cmd("DEL")
                    .arg(&failed)
                    .ignore()
                    .query_async(&mut c)
                    .await
            })
            .await;
    }

    /// Add a latency sample (seconds per token, or time to first token); to Redis too
    /// when `share` (the latency-based strategy reads them), waiting for Redis.
    pub async fn add_latency(&self, i: usize, value: f64, keep: usize, share: bool) {
        self.settle_now(i, Some((value, keep, share)), None).await;
    }

    /// Count tokens a call used against this minute's tpm; in Redis too when `share`
    /// (a tpm limit or a usage-based strategy reads them), waiting for Redis.
    pub async fn add_tokens(&self, i: usize, tokens: u64, share: bool) {
        self.settle_now(i, None, Some((tokens, share))).await;
    }

    /// A call's outcome: its latency sample (`(value, keep, share)`, as
    /// [`add_latency`](Self::add_latency)) and the tokens it used (`(tokens, share)`, as
    /// [`add_tokens`](Self::add_tokens)). This process's state has them when this returns;
    /// Redis gets them in one round trip sent off the call's path (the reply does not wait
    /// for it), as [`end`](Self::end) releases the in-flight count.
    pub fn settle(
        &self,
        i: usize,
        latency: Option<(f64, usize, bool)>,
        tokens: Option<(u64, bool)>,
    ) {
        let Some((r, pipe)) = self.settle_local(i, latency, tokens) else {
            return;
        };
        let link = r.link.clone();
        // On the shared runtime: the caller may be a thread's own runtime that nothing
        // drives once the call returns.
        drop(crate::transport::runtime().spawn(async move { send(&link, pipe).await }));
    }

    async fn settle_now(
        &self,
        i: usize,
        latency: Option<(f64, usize, bool)>,
        tokens: Option<(u64, bool)>,
    ) {
        if let Some((r, pipe)) = self.settle_local(i, latency, tokens) {
            send(&r.link, pipe).await;
        }
    }

    /// Record an outcome in this process's state; the Redis commands that share it, when
    /// some are wanted.
    fn settle_local(
        &self,
        i: usize,
        latency: Option<(f64, usize, bool)>,
        tokens: Option<(u64, bool)>,
    ) -> Option<(&RedisState, redis::Pipeline)> {
        if let Some((value, keep, _)) = latency {
            self.local.add_latency(i, value, keep);
        }
        if let Some((n, _)) = tokens {
            self.local.add_tokens(i, n);
        }
        let r = self.redis.as_ref()?;
        let k = r.keys.get(i)?;
        let mut pipe = redis::pipe();
        // MULTI/EXEC: a reader never sees the list pushed but not yet trimmed.
        pipe.atomic();
        let mut any = false;
        if let Some((value, keep, true)) = latency {
            let sample = format!("{}:{value}", self.clock().unix_millis());
            let last = keep.max(1) as i64 - 1;
            pipe.cmd("LPUSH").arg(&k.latency).arg(sample).ignore();
            pipe.cmd("LTRIM").arg(&k.latency).arg(0).arg(last).ignore();
            pipe.cmd("PEXPIRE")
                .arg(&k.latency)
                .arg(r.latency_ttl_ms)
                .ignore();
            any = true;
        }
        if let Some((n, true)) = tokens {
            let key = self.usage_key(r, i, "tpm", &hh_mm(self.minute()));
            pipe.cmd("INCRBY").arg(&key).arg(n).ignore();
            pipe.cmd("PEXPIRE").arg(&key).arg(USAGE_TTL_MS).ignore();
            any = true;
        }
        any.then_some((r, pipe))
    }
}

/// Send a pipeline whose replies are ignored (a dead link drops it: local state holds).
async fn send(link: &RedisLink, pipe: redis::Pipeline) {
    let _: Option<()> = link
        .run(|mut c| async move { pipe.query_async(&mut c).await })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::link::EventLevel;
    use crate::router::config::RouterConfig;
    use crate::router::state::ManualClock;
    use crate::test_support::RedisServer;
    use serde_json::{json, Value};
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn deployments(v: Value) -> Vec<Deployment> {
        let Value::Object(m) = json!({ "model_list": v }) else {
            unreachable!()
        };
        RouterConfig::from_json(&m).unwrap().0.deployments
    }

    fn two_limited(rpm: u64) -> Vec<Deployment> {
        deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "openai/a", "rpm": rpm}, "model_info": {"id": "a"}},
            {"model_name": "g", "litellm_params": {"model": "openai/b", "rpm": rpm}, "model_info": {"id": "b"}}
        ]))
    }

    /// Two "processes": two states on one Redis, each with its own memory.
    fn pair(
        server: &RedisServer,
        ds: &[Deployment],
        clock: Arc<ManualClock>,
    ) -> (Arc<SharedState>, Arc<SharedState>) {
        let make = || {
            Arc::new(SharedState::new(
                ds,
                clock.clone(),
                Some(server.link()),
                Duration::from_secs(3600),
            ))
        };
        (make(), make())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_processes_admit_exactly_rpm_between_them() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let ds = deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "openai/a", "rpm": 6}, "model_info": {"id": "a"}}
        ]));
        let clock = ManualClock::new(1_800_000_000);
        let (one, two) = pair(&server, &ds, clock.clone());
        let ds = Arc::new(ds);
        let admitted = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for n in 0..20 {
            let state = if n % 2 == 0 { one.clone() } else { two.clone() };
            let (ds, admitted) = (ds.clone(), admitted.clone());
            tasks.push(tokio::spawn(async move {
                match state.try_admit(&[0], &ds, 0, true).await {
                    Admission::Admitted { shared, .. } => {
                        assert!(shared);
                        admitted.fetch_add(1, Ordering::Relaxed);
                    }
                    Admission::Full(usage) => assert_eq!(usage[0].1.requests, 6),
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(admitted.load(Ordering::Relaxed), 6);
        // Both see the shared count; the next minute starts afresh.
        assert_eq!(two.view(&[0], Need::ALL).await.usage(0).requests, 6);
        clock.advance(Duration::from_secs(60));
        assert!(matches!(
            one.try_admit(&[0], &ds, 0, true).await,
            Admission::Admitted { index: 0, .. }
        ));
    }

    #[tokio::test]
    async fn admission_takes_the_first_candidate_under_its_limits() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let ds = two_limited(1);
        let (one, two) = pair(&server, &ds, ManualClock::new(1_800_000_000));
        let admitted = |a: Admission| match a {
            Admission::Admitted { index, .. } => Some(index),
            Admission::Full(_) => None,
        };
        assert_eq!(
            admitted(one.try_admit(&[1, 0], &ds, 0, true).await),
            Some(1)
        );
        assert_eq!(
            admitted(two.try_admit(&[1, 0], &ds, 0, true).await),
            Some(0)
        );
        match one.try_admit(&[1, 0], &ds, 0, true).await {
            Admission::Full(u) => {
                assert_eq!(
                    u.iter().map(|(i, u)| (*i, u.requests)).collect::<Vec<_>>(),
                    [(1, 1), (0, 1)]
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn tpm_is_shared() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let ds = deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "openai/a", "tpm": 100}, "model_info": {"id": "a"}}
        ]));
        let (one, two) = pair(&server, &ds, ManualClock::new(1_800_000_000));
        assert!(matches!(
            one.try_admit(&[0], &ds, 60, true).await,
            Admission::Admitted { .. }
        ));
        one.add_tokens(0, 60, true).await;
        assert!(matches!(
            two.try_admit(&[0], &ds, 60, true).await,
            Admission::Full(_)
        ));
        assert!(matches!(
            two.try_admit(&[0], &ds, 40, true).await,
            Admission::Admitted { .. }
        ));
    }

    #[tokio::test]
    async fn cooldowns_in_flight_failures_and_latency_are_shared() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let ds = two_limited(100);
        let clock = ManualClock::new(1_800_000_000);
        let (one, two) = pair(&server, &ds, clock.clone());
        one.set_cooldown(1, Duration::from_secs(5), 500, "boom")
            .await;
        let left = two.view(&[0, 1], Need::default()).await.cooldown_left(1);
        assert!(left.is_some_and(|l| l > Duration::from_secs(4)), "{left:?}");
        assert!(two.local.cooldown(1).is_none());

        let Admission::Admitted { index, shared } = one.try_admit(&[0], &ds, 0, true).await else {
            panic!("not admitted")
        };
        assert_eq!(two.view(&[0], Need::ALL).await.in_flight(0), 1);
        one.end(index, shared);
        for _ in 0..100 {
            // Each look is a new read: the last one is 0.1 s old.
            clock.advance(Duration::from_millis(100));
            if two.view(&[0], Need::ALL).await.in_flight(0) == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(two.view(&[0], Need::ALL).await.in_flight(0), 0);

        assert_eq!(one.add_windowed_failure(0, Duration::from_secs(5)).await, 1);
        assert_eq!(two.add_windowed_failure(0, Duration::from_secs(5)).await, 2);
        clock.advance(Duration::from_secs(6));
        assert_eq!(one.add_windowed_failure(0, Duration::from_secs(5)).await, 1);
        let (fails, _) = two.add_failure(0).await;
        assert_eq!(fails, 1);

        one.add_latency(0, 0.5, 2, true).await;
        two.add_latency(0, 1.5, 2, true).await;
        two.add_latency(0, 2.5, 2, true).await;
        let mean = one.view(&[0], Need::ALL).await.mean_latency(0);
        assert_eq!(mean, Some(2.0));
    }

    #[tokio::test]
    async fn cooldown_only_views_reuse_a_read_for_100_ms() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let ds = two_limited(100);
        let clock = ManualClock::new(1_800_000_000);
        let (one, two) = pair(&server, &ds, clock.clone());
        assert!(!two.view(&[0, 1], Need::default()).await.any_cooling());
        // Set through the other process: not read again within 100 ms ...
        one.set_cooldown(1, Duration::from_secs(5), 500, "boom")
            .await;
        assert!(!two.view(&[0, 1], Need::default()).await.any_cooling());
        // ... but a view that reads more reads Redis, and so does the next after 100 ms.
        assert!(two.view(&[0, 1], Need::ALL).await.cooling(1));
        server
            .link()
            .run(|mut c| async move {
                redis::cmd("DEL")
                    .arg("deployment:b:cooldown")
                    .query_async::<i64>(&mut c)
                    .await
            })
            .await;
        clock.advance(Duration::from_millis(100));
        assert!(!two.view(&[0, 1], Need::default()).await.cooling(1));
        // A cooldown set by this process holds here at once, and for its length.
        two.set_cooldown(0, Duration::from_secs(5), 500, "boom")
            .await;
        let left = two.view(&[0, 1], Need::default()).await.cooldown_left(0);
        assert!(left.is_some_and(|l| l > Duration::from_secs(4)), "{left:?}");
        clock.advance(Duration::from_millis(50));
        assert!(two.view(&[0], Need::default()).await.cooling(0));
    }

    /// A selection that reads in-flight counts and usage (least-busy, usage-based) reuses
    /// a read for 0.1 s, as cooldown-only ones do: under load a call waits for its
    /// admission alone. This process's own requests count in the reused read at once;
    /// another process's are seen at the next read.
    #[tokio::test]
    async fn full_views_reuse_a_read_for_100_ms_with_this_processs_requests_counted() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let ds = two_limited(100);
        let clock = ManualClock::new(1_800_000_000);
        let (one, two) = pair(&server, &ds, clock.clone());
        let need = Need {
            in_flight: true,
            usage: true,
            latency: false,
        };
        let admit = |state: Arc<SharedState>, i: usize| {
            let ds = ds.clone();
            async move {
                match state.try_admit(&[i], &ds, 10, true).await {
                    Admission::Admitted { index, shared } => (index, shared),
                    Admission::Full(_) => panic!("full"),
                }
            }
        };
        admit(one.clone(), 0).await;
        let reads = server.command_calls(&["pttl"]).await;
        let view = two.view(&[0, 1], need).await;
        assert_eq!((view.in_flight(0), view.usage(0).requests), (1, 1));
        assert_eq!(
            server.command_calls(&["pttl"]).await,
            reads + 2,
            "one read, two deployments"
        );

        // Within 0.1 s: no read; this process's own admissions and ends count at once,
        // the other process's wait for the next read.
        let (mine, shared) = admit(two.clone(), 0).await;
        admit(one.clone(), 1).await;
        clock.advance(Duration::from_millis(99));
        let view = two.view(&[0, 1], need).await;
        assert_eq!((view.in_flight(0), view.usage(0).requests), (2, 2));
        assert_eq!((view.in_flight(1), view.usage(1).requests), (0, 0));
        two.end(mine, shared);
        let view = two.view(&[0, 1], need).await;
        assert_eq!((view.in_flight(0), view.usage(0).requests), (1, 2));
        assert_eq!(
            server.command_calls(&["pttl"]).await,
            reads + 2,
            "no read within 0.1 s"
        );
        // A selection that reads more than the last read did reads again.
        let view = two.view(&[0, 1], Need::ALL).await;
        assert_eq!(server.command_calls(&["pttl"]).await, reads + 4);
        assert_eq!(view.in_flight(1), 1);

        // 0.1 s after the read: read again, and the other process's request is there.
        clock.advance(Duration::from_millis(100));
        let view = two.view(&[0, 1], need).await;
        assert_eq!(server.command_calls(&["pttl"]).await, reads + 6);
        assert_eq!((view.in_flight(1), view.usage(1).requests), (1, 1));
        // A new minute's usage is never answered from the last minute's read, however
        // young (the clock is 0.199 s into its minute here).
        clock.advance(Duration::from_millis(59_751));
        assert_eq!(two.view(&[0, 1], need).await.usage(0).requests, 2);
        assert_eq!(server.command_calls(&["pttl"]).await, reads + 8);
        clock.advance(Duration::from_millis(60));
        assert_eq!(two.view(&[0, 1], need).await.usage(0).requests, 0);
        assert_eq!(server.command_calls(&["pttl"]).await, reads + 10);
    }

    /// `g_request_count[id]` in Redis.
    async fn in_flight_in_redis(server: &RedisServer, id: &str) -> Option<i64> {
        let id = id.to_string();
        server
            .link()
            .run(|mut c| async move {
                redis::cmd("HGET")
                    .arg("g_request_count")
                    .arg(&id)
                    .query_async::<Option<i64>>(&mut c)
                    .await
            })
            .await
            .flatten()
    }

    /// `g_request_count[id]` once it reads `want`, or what it reads after a second.
    async fn in_flight_settles(server: &RedisServer, id: &str, want: i64) -> Option<i64> {
        let mut now = in_flight_in_redis(server, id).await;
        for _ in 0..100 {
            if now == Some(want) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            now = in_flight_in_redis(server, id).await;
        }
        now
    }

    /// A shared admission of deployment `i` polled once and still out (its answer not yet
    /// read). One that answered at its first poll (the task beat the caller on a busy
    /// machine) is ended and tried again.
    fn out_admission<'a>(
        state: &'a SharedState,
        ds: &'a [Deployment],
        i: &'a usize,
        cx: &mut std::task::Context<'_>,
    ) -> std::pin::Pin<Box<dyn Future<Output = Admission> + 'a>> {
        for _ in 0..100 {
            let mut admission = Box::pin(state.try_admit(std::slice::from_ref(i), ds, 0, true));
            match admission.as_mut().poll(cx) {
                std::task::Poll::Pending => return admission,
                std::task::Poll::Ready(Admission::Admitted { index, shared }) => {
                    state.end(index, shared)
                }
                std::task::Poll::Ready(_) => {}
            }
        }
        panic!("every admission answered at its first poll");
    }

    /// A request admitted in Redis that ends while the link rests after a failure (its
    /// release is not sent) gives its count back with the next release that goes out.
    #[tokio::test]
    async fn a_release_while_redis_rests_goes_with_the_next_one() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let ds = two_limited(100);
        let (one, _) = pair(&server, &ds, ManualClock::new(1_800_000_000));
        for _ in 0..2 {
            assert!(matches!(
                one.try_admit(&[1], &ds, 0, true).await,
                Admission::Admitted {
                    index: 1,
                    shared: true
                }
            ));
        }
        assert_eq!(in_flight_settles(&server, "b", 2).await, Some(2));
        // An error from Redis: the link rests for a second, sending nothing.
        let link = one.link().cloned().unwrap();
        let failed: Option<()> = link
            .run(|mut c| async move { redis::cmd("NO-SUCH-COMMAND").query_async(&mut c).await })
            .await;
        assert!(failed.is_none() && link.resting());
        one.end(1, true);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            in_flight_in_redis(&server, "b").await,
            Some(2),
            "not sent yet"
        );
        while link.resting() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        one.end(1, true);
        assert_eq!(
            in_flight_settles(&server, "b", 0).await,
            Some(0),
            "both given back"
        );
    }

    /// While its admission is out, a call counts in flight in this process, so that the
    /// selections of concurrent calls see it; a call dropped meanwhile leaves nothing.
    #[tokio::test]
    async fn a_call_counts_in_flight_while_its_admission_is_out() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let ds = two_limited(100);
        let (one, _) = pair(&server, &ds, ManualClock::new(1_800_000_000));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let admission = out_admission(&one, &ds, &0, &mut cx);
        assert_eq!(
            one.local.in_flight(0),
            1,
            "in flight while the admission is out"
        );
        assert!(matches!(
            admission.await,
            Admission::Admitted {
                index: 0,
                shared: true
            }
        ));
        assert_eq!(one.local.in_flight(0), 1, "admitted: in flight once");

        let dropped = out_admission(&one, &ds, &1, &mut cx);
        assert_eq!(one.local.in_flight(1), 1);
        drop(dropped);
        assert_eq!(
            one.local.in_flight(1),
            0,
            "a dropped call leaves nothing in flight"
        );
        // Nor in Redis: the admission went on without it and gave its count back.
        let settles = |id: &'static str, want: i64| in_flight_settles(&server, id, want);
        assert_eq!(settles("b", 0).await, Some(0), "admitted, then given back");
        assert_eq!(
            settles("a", 1).await,
            Some(1),
            "the call that waited keeps its count"
        );

        // Dropped after its admission answered but before it read the answer (a cancel
        // landing between the wake-up and the next poll): given back all the same.
        let late = out_admission(&one, &ds, &1, &mut cx);
        assert_eq!(
            settles("b", 1).await,
            Some(1),
            "the admission is in before the drop"
        );
        drop(late);
        assert_eq!(one.local.in_flight(1), 0);
        assert_eq!(
            settles("b", 0).await,
            Some(0),
            "answered, dropped unread, given back"
        );
    }

    #[tokio::test]
    async fn a_dead_redis_falls_back_to_local_state_and_warns_once() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let ds = two_limited(2);
        let link = server.link();
        let warnings = Arc::new(AtomicUsize::new(0));
        let w = warnings.clone();
        link.set_sink(Arc::new(move |level, _msg: &str| {
            if level == EventLevel::Warning {
                w.fetch_add(1, Ordering::Relaxed);
            }
        }));
        let state = SharedState::new(
            &ds,
            ManualClock::new(1_800_000_000),
            Some(link.clone()),
            Duration::from_secs(3600),
        );
        assert!(matches!(
            state.try_admit(&[0], &ds, 0, true).await,
            Admission::Admitted { shared: true, .. }
        ));
        drop(server);
        // Local state already counted the first request: one more fits under rpm=2.
        assert!(matches!(
            state.try_admit(&[0], &ds, 0, true).await,
            Admission::Admitted {
                index: 0,
                shared: false
            }
        ));
        assert!(matches!(
            state.try_admit(&[0], &ds, 0, true).await,
            Admission::Full(_)
        ));
        state
            .set_cooldown(1, Duration::from_secs(5), 500, "x")
            .await;
        assert!(state.view(&[1], Need::ALL).await.cooldown_left(1).is_some());
        assert!(link.is_down());
        assert_eq!(warnings.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn minutes_are_named_like_litellms() {
        assert_eq!(hh_mm(0), "00-00");
        assert_eq!(hh_mm(1_800_000_000 / 60), "08-00");
        assert_eq!(hh_mm(61 + 1440), "01-01");
    }
}
