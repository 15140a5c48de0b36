//! What the Router remembers about each deployment: in-flight requests, per-minute usage,
//! cooldowns, recent failures and latencies. Time comes from a [`Clock`] so the rules can
//! be tested without sleeping.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Time as the Router sees it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Instant;
    /// Seconds since the Unix epoch (usage windows are per UTC minute, as in LiteLLM).
    fn unix_secs(&self) -> u64;
    /// Milliseconds since the Unix epoch: the time shared state in Redis is kept in, so
    /// every process agrees on it.
    fn unix_millis(&self) -> u64 {
        self.unix_secs() * 1000
    }
}

#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn unix_secs(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
    fn unix_millis(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// A clock tests move by hand.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    start_unix: u64,
    offset: Mutex<Duration>,
}

impl ManualClock {
    pub fn new(start_unix: u64) -> Arc<ManualClock> {
        Arc::new(ManualClock {
            start: Instant::now(),
            start_unix,
            offset: Mutex::new(Duration::ZERO),
        })
    }
    pub fn advance(&self, by: Duration) {
        *lock(&self.offset) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *lock(&self.offset)
    }
    fn unix_secs(&self) -> u64 {
        self.start_unix + lock(&self.offset).as_secs()
    }
    fn unix_millis(&self) -> u64 {
        self.start_unix * 1000 + lock(&self.offset).as_millis() as u64
    }
}

/// A poisoned lock only means another thread panicked mid-update of plain counters;
/// the counters are still usable.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Requests and tokens in one UTC minute.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MinuteUsage {
    pub minute: u64,
    pub requests: u64,
    pub tokens: u64,
    pub failures: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cooldown {
    pub until: Instant,
    pub status: u16,
}

/// What strategies and filters read about deployments: this process's state as of one
/// moment ([`LocalView`]), or a snapshot of the shared state taken from Redis for one
/// selection.
pub trait StateView {
    fn in_flight(&self, i: usize) -> i64;
    /// This minute's usage.
    fn usage(&self, i: usize) -> MinuteUsage;
    /// This minute's tokens (what usage-based routing ranks by).
    fn tokens(&self, i: usize) -> u64 {
        self.usage(i).tokens
    }
    /// Mean of the latency samples younger than the latency ttl; `None` without data.
    fn mean_latency(&self, i: usize) -> Option<f64>;
    /// What latency-based routing compares: [`order_key`] of the mean, 0 without data.
    fn latency_key(&self, i: usize) -> u64 {
        order_key(self.mean_latency(i).unwrap_or(0.0))
    }
    /// Time left in the deployment's cooldown; `None` when it is not cooling down.
    fn cooldown_left(&self, i: usize) -> Option<Duration>;
    fn cooling(&self, i: usize) -> bool {
        self.cooldown_left(i).is_some()
    }
    /// `false` when no deployment is cooling down, so no candidate needs checking.
    fn any_cooling(&self) -> bool {
        true
    }
}

/// The locked parts of one deployment's state.
#[derive(Debug, Default)]
struct DeploymentState {
    usage: Mutex<MinuteUsage>,
    /// Failure times within the allowed-fails window.
    recent_failures: Mutex<VecDeque<Instant>>,
    /// (when, in ns since `MemoryState::base`; seconds per token or time to first token),
    /// oldest first, only the samples younger than the ttl.
    latencies: Mutex<VecDeque<(u64, f64)>>,
}

/// A key whose unsigned order is `f64::total_cmp`'s order.
pub fn order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// `LatencySlot::mean` of a deployment without fresh samples.
const NO_LATENCY: u64 = u64::MAX;

/// One deployment's latency as a selection reads it, kept up to date by
/// `MemoryState::refresh_latency`.
#[derive(Debug)]
struct LatencySlot {
    /// [`order_key`] of the mean (of 0 without samples).
    key: AtomicU64,
    /// When the oldest sample outlives the ttl (`u64::MAX`: never).
    stale_at: AtomicU64,
    /// The mean's bits, or `NO_LATENCY`.
    mean: AtomicU64,
}

impl Default for LatencySlot {
    fn default() -> Self {
        LatencySlot {
            key: AtomicU64::new(order_key(0.0)),
            stale_at: AtomicU64::new(u64::MAX),
            mean: AtomicU64::new(NO_LATENCY),
        }
    }
}
/// `tokens` packs this minute's tokens (the low 40 bits, saturating) with the minute they
/// count in (the high 24 bits: the minute modulo 2^24, about 32 years), so that a
/// selection reads them without a lock.
const TOKEN_BITS: u32 = 40;
const TOKEN_MASK: u64 = (1 << TOKEN_BITS) - 1;
const MINUTE_MASK: u64 = (1 << (64 - TOKEN_BITS)) - 1;

fn pack_tokens(minute: u64, tokens: u64) -> u64 {
    ((minute & MINUTE_MASK) << TOKEN_BITS) | tokens.min(TOKEN_MASK)
}

fn unpack_tokens(packed: u64, minute: u64) -> u64 {
    if packed >> TOKEN_BITS == minute & MINUTE_MASK {
        packed & TOKEN_MASK
    } else {
        0
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Every deployment's counters, indexed like the Router's deployment list.
///
/// What a selection reads about every candidate (in-flight counts, this minute's tokens,
/// cooldown ends, latency means) sits in plain arrays of atomics, so reading it costs a
/// load per deployment: no lock, no clock reading, no allocation. Latency means are kept
/// up to date when a sample is added and when the oldest one outlives the ttl, not
/// recomputed at selection. Times are nanoseconds since `base`.
#[derive(Debug)]
pub struct MemoryState {
    clock: Arc<dyn Clock>,
    base: Instant,
    latency_ttl: u64,
    in_flight: Box<[AtomicI64]>,
    tokens: Box<[AtomicU64]>,
    /// When the cooldown ends; 0 when there is none.
    cool_until: Box<[AtomicU64]>,
    cool_status: Box<[AtomicU16]>,
    /// How many `cool_until` are set (some may have ended and not been cleared yet).
    cooling: AtomicUsize,
    latency: Box<[LatencySlot]>,
    deployments: Vec<DeploymentState>,
}

fn atomics<T>(count: usize, init: impl Fn() -> T) -> Box<[T]> {
    (0..count).map(|_| init()).collect()
}

impl MemoryState {
    /// State for `count` deployments; latency means cover the samples younger than
    /// `latency_ttl`.
    pub fn new(count: usize, clock: Arc<dyn Clock>, latency_ttl: Duration) -> Self {
        MemoryState {
            base: clock.now(),
            clock,
            latency_ttl: nanos(latency_ttl),
            in_flight: atomics(count, || AtomicI64::new(0)),
            tokens: atomics(count, || AtomicU64::new(0)),
            cool_until: atomics(count, || AtomicU64::new(0)),
            cool_status: atomics(count, || AtomicU16::new(0)),
            cooling: AtomicUsize::new(0),
            latency: atomics(count, LatencySlot::default),
            deployments: (0..count).map(|_| DeploymentState::default()).collect(),
        }
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// Now, in nanoseconds since `base`.
    fn now(&self) -> u64 {
        nanos(self.clock.now().saturating_duration_since(self.base))
    }

    fn minute(&self) -> u64 {
        self.clock.unix_secs() / 60
    }

    /// The state as of now, for one selection: the clock is read once here, not per
    /// deployment.
    pub fn view(&self) -> LocalView<'_> {
        LocalView {
            state: self,
            now: self.now(),
            minute: self.minute(),
        }
    }

    fn usage_now(&self, i: usize) -> Option<MutexGuard<'_, MinuteUsage>> {
        let state = self.deployments.get(i)?;
        let mut u = lock(&state.usage);
        let minute = self.minute();
        if u.minute != minute {
            *u = MinuteUsage {
                minute,
                ..MinuteUsage::default()
            };
        }
        Some(u)
    }

    pub fn in_flight(&self, i: usize) -> i64 {
        self.in_flight
            .get(i)
            .map(|n| n.load(Ordering::Relaxed))
            .unwrap_or(0)
    }

    pub fn begin(&self, i: usize) {
        if let Some(n) = self.in_flight.get(i) {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn end(&self, i: usize) {
        if let Some(n) = self.in_flight.get(i) {
            n.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// This minute's usage.
    pub fn usage(&self, i: usize) -> MinuteUsage {
        self.usage_now(i).map(|u| *u).unwrap_or_default()
    }

    /// Count a request against this minute's rpm if it fits under `rpm_limit` (and the
    /// tokens under `tpm_limit`). Check and count happen under one lock, so concurrent
    /// callers never admit more than the limit: exactly `rpm` a minute.
    pub fn try_admit(
        &self,
        i: usize,
        rpm_limit: Option<u64>,
        tpm_limit: Option<u64>,
        input_tokens: u64,
    ) -> bool {
        let Some(mut u) = self.usage_now(i) else {
            return false;
        };
        if rpm_limit.is_some_and(|limit| u.requests + 1 > limit) {
            return false;
        }
        if tpm_limit.is_some_and(|limit| u.tokens + input_tokens > limit) {
            return false;
        }
        u.requests += 1;
        true
    }

    /// Count a request that shared state admitted, so this process's local state stays
    /// a usable fallback if Redis goes away.
    pub fn count_request(&self, i: usize) {
        if let Some(mut u) = self.usage_now(i) {
            u.requests += 1;
        }
    }

    pub fn add_tokens(&self, i: usize, tokens: u64) {
        if let (Some(mut u), Some(mirror)) = (self.usage_now(i), self.tokens.get(i)) {
            u.tokens += tokens;
            mirror.store(pack_tokens(u.minute, u.tokens), Ordering::Relaxed);
        }
    }

    /// Record a failure this minute; returns (failures, requests) so far this minute.
    pub fn add_failure(&self, i: usize) -> (u64, u64) {
        match self.usage_now(i) {
            Some(mut u) => {
                u.failures += 1;
                (u.failures, u.requests.max(u.failures))
            }
            None => (0, 0),
        }
    }

    /// Record a failure in a sliding window; returns how many fall inside it.
    pub fn add_windowed_failure(&self, i: usize, window: Duration) -> usize {
        let Some(d) = self.deployments.get(i) else {
            return 0;
        };
        let now = self.clock.now();
        let mut q = lock(&d.recent_failures);
        q.push_back(now);
        while q.front().is_some_and(|t| now.duration_since(*t) > window) {
            q.pop_front();
        }
        q.len()
    }

    /// When `i`'s cooldown ends, if it is cooling down at `now`; clears a cooldown that
    /// has ended.
    fn cooling_until(&self, i: usize, now: u64) -> Option<u64> {
        let slot = self.cool_until.get(i)?;
        let until = slot.load(Ordering::Acquire);
        if until == 0 {
            return None;
        }
        if until > now {
            return Some(until);
        }
        // Ended: whoever clears it uncounts it (a cooldown set meanwhile stays).
        if slot
            .compare_exchange(until, 0, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            self.cooling.fetch_sub(1, Ordering::AcqRel);
        }
        None
    }

    pub fn cooldown(&self, i: usize) -> Option<Cooldown> {
        let until = self.cooling_until(i, self.now())?;
        Some(Cooldown {
            until: self.base + Duration::from_nanos(until),
            status: self.cool_status.get(i)?.load(Ordering::Relaxed),
        })
    }

    pub fn set_cooldown(&self, i: usize, length: Duration, status: u16) {
        let (Some(slot), Some(d)) = (self.cool_until.get(i), self.deployments.get(i)) else {
            return;
        };
        if let Some(s) = self.cool_status.get(i) {
            s.store(status, Ordering::Relaxed);
        }
        // A zero length ends any cooldown (0 means none).
        let until = match length.is_zero() {
            true => 0,
            false => self.now().saturating_add(nanos(length)),
        };
        match (slot.swap(until, Ordering::AcqRel), until) {
            (0, 0) => {}
            (0, _) => {
                self.cooling.fetch_add(1, Ordering::AcqRel);
            }
            (_, 0) => {
                self.cooling.fetch_sub(1, Ordering::AcqRel);
            }
            _ => {}
        }
        lock(&d.recent_failures).clear();
    }

    /// Drop the samples older than the ttl and publish the mean of the rest.
    fn refresh_latency(&self, i: usize, q: &mut VecDeque<(u64, f64)>, now: u64) {
        while q
            .front()
            .is_some_and(|(t, _)| now.saturating_sub(*t) > self.latency_ttl)
        {
            q.pop_front();
        }
        let (mean, stale_at) = match q.front() {
            None => (None, u64::MAX),
            Some((oldest, _)) => {
                let sum: f64 = q.iter().map(|(_, v)| *v).sum();
                (
                    Some(sum / q.len() as f64),
                    oldest.saturating_add(self.latency_ttl),
                )
            }
        };
        if let Some(slot) = self.latency.get(i) {
            let bits = mean.map(f64::to_bits).unwrap_or(NO_LATENCY);
            slot.mean.store(bits, Ordering::Release);
            slot.key
                .store(order_key(mean.unwrap_or(0.0)), Ordering::Release);
            slot.stale_at.store(stale_at, Ordering::Release);
        }
    }

    /// Add a sample, keeping the latest `keep`.
    pub fn add_latency(&self, i: usize, value: f64, keep: usize) {
        if let Some(d) = self.deployments.get(i) {
            let mut q = lock(&d.latencies);
            let now = self.now();
            q.push_back((now, value));
            while q.len() > keep {
                q.pop_front();
            }
            self.refresh_latency(i, &mut q, now);
        }
    }

    /// `i`'s latency slot, brought up to date for `now`.
    #[inline]
    fn latency_at(&self, i: usize, now: u64) -> Option<&LatencySlot> {
        let slot = self.latency.get(i)?;
        if now > slot.stale_at.load(Ordering::Acquire) {
            self.expire_latency(i, now);
        }
        Some(slot)
    }

    #[cold]
    #[inline(never)]
    fn expire_latency(&self, i: usize, now: u64) {
        if let Some(d) = self.deployments.get(i) {
            let mut q = lock(&d.latencies);
            self.refresh_latency(i, &mut q, now);
        }
    }

    /// Mean of the samples younger than the ttl at `now`; `None` without data.
    fn mean_latency_at(&self, i: usize, now: u64) -> Option<f64> {
        let bits = self.latency_at(i, now)?.mean.load(Ordering::Acquire);
        (bits != NO_LATENCY).then(|| f64::from_bits(bits))
    }

    /// Mean of the samples younger than the ttl; `None` without data.
    pub fn mean_latency(&self, i: usize) -> Option<f64> {
        self.mean_latency_at(i, self.now())
    }
}

/// [`MemoryState`] as of one moment: what a selection reads.
#[derive(Debug, Clone, Copy)]
pub struct LocalView<'a> {
    state: &'a MemoryState,
    now: u64,
    minute: u64,
}

impl StateView for LocalView<'_> {
    fn in_flight(&self, i: usize) -> i64 {
        self.state.in_flight(i)
    }
    fn usage(&self, i: usize) -> MinuteUsage {
        self.state.usage(i)
    }
    fn tokens(&self, i: usize) -> u64 {
        self.state
            .tokens
            .get(i)
            .map(|t| unpack_tokens(t.load(Ordering::Relaxed), self.minute))
            .unwrap_or(0)
    }
    fn mean_latency(&self, i: usize) -> Option<f64> {
        self.state.mean_latency_at(i, self.now)
    }
    fn latency_key(&self, i: usize) -> u64 {
        self.state
            .latency_at(i, self.now)
            .map(|s| s.key.load(Ordering::Acquire))
            .unwrap_or(order_key(0.0))
    }
    fn cooldown_left(&self, i: usize) -> Option<Duration> {
        let until = self.state.cooling_until(i, self.now)?;
        Some(Duration::from_nanos(until - self.now))
    }
    fn cooling(&self, i: usize) -> bool {
        self.state.cooling_until(i, self.now).is_some()
    }
    fn any_cooling(&self) -> bool {
        self.state.cooling.load(Ordering::Acquire) > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn rpm_admits_exactly_the_limit_per_minute() {
        let clock = ManualClock::new(1_700_000_000 - 1_700_000_000 % 60);
        let s = MemoryState::new(1, clock.clone(), HOUR);
        for _ in 0..6 {
            assert!(s.try_admit(0, Some(6), None, 0));
        }
        assert!(!s.try_admit(0, Some(6), None, 0));
        clock.advance(Duration::from_secs(60));
        assert!(s.try_admit(0, Some(6), None, 0));
        assert_eq!(s.usage(0).requests, 1);
    }

    #[test]
    fn tpm_limit_counts_input_tokens() {
        let s = MemoryState::new(1, ManualClock::new(0), HOUR);
        assert!(s.try_admit(0, None, Some(100), 60));
        s.add_tokens(0, 60);
        assert!(!s.try_admit(0, None, Some(100), 60));
        assert!(s.try_admit(0, None, Some(100), 40));
    }

    #[test]
    fn cooldowns_expire() {
        let clock = ManualClock::new(0);
        let s = MemoryState::new(2, clock.clone(), HOUR);
        s.set_cooldown(1, Duration::from_secs(5), 500);
        assert!(s.cooldown(1).is_some() && s.cooldown(0).is_none());
        clock.advance(Duration::from_secs(6));
        assert!(s.cooldown(1).is_none());
    }

    #[test]
    fn windowed_failures_slide() {
        let clock = ManualClock::new(0);
        let s = MemoryState::new(1, clock.clone(), HOUR);
        assert_eq!(s.add_windowed_failure(0, Duration::from_secs(5)), 1);
        clock.advance(Duration::from_secs(3));
        assert_eq!(s.add_windowed_failure(0, Duration::from_secs(5)), 2);
        clock.advance(Duration::from_secs(4));
        assert_eq!(s.add_windowed_failure(0, Duration::from_secs(5)), 2);
    }

    #[test]
    fn latency_means_respect_ttl_and_size() {
        let clock = ManualClock::new(0);
        let s = MemoryState::new(1, clock.clone(), Duration::from_secs(10));
        assert_eq!(s.mean_latency(0), None);
        s.add_latency(0, 1.0, 2);
        s.add_latency(0, 2.0, 2);
        s.add_latency(0, 3.0, 2);
        assert_eq!(s.mean_latency(0), Some(2.5));
        clock.advance(Duration::from_secs(11));
        assert_eq!(s.mean_latency(0), None);
    }

    #[test]
    fn latency_means_drop_each_sample_as_it_outlives_the_ttl() {
        let clock = ManualClock::new(0);
        let s = MemoryState::new(2, clock.clone(), Duration::from_secs(10));
        s.add_latency(0, 1.0, 10);
        clock.advance(Duration::from_secs(4));
        s.add_latency(0, 2.0, 10);
        clock.advance(Duration::from_secs(4));
        s.add_latency(0, 6.0, 10);
        assert_eq!(s.view().mean_latency(0), Some(3.0));
        // Exactly the ttl old is still fresh, as before.
        clock.advance(Duration::from_secs(2));
        assert_eq!(s.view().mean_latency(0), Some(3.0));
        clock.advance(Duration::from_millis(1));
        assert_eq!(s.view().mean_latency(0), Some(4.0));
        clock.advance(Duration::from_secs(4));
        assert_eq!(s.view().mean_latency(0), Some(6.0));
        clock.advance(Duration::from_secs(4));
        assert_eq!(s.view().mean_latency(0), None);
        assert_eq!(s.view().mean_latency(1), None);
        s.add_latency(1, 5.0, 2);
        clock.advance(Duration::from_secs(11));
        s.add_latency(1, 1.0, 2);
        s.add_latency(1, 3.0, 2);
        assert_eq!(s.mean_latency(1), Some(2.0));
    }

    #[test]
    fn cooldowns_are_counted_so_selection_can_skip_the_scan() {
        let clock = ManualClock::new(0);
        let s = MemoryState::new(3, clock.clone(), HOUR);
        assert!(!s.view().any_cooling());
        s.set_cooldown(1, Duration::from_secs(5), 429);
        s.set_cooldown(1, Duration::from_secs(5), 500);
        s.set_cooldown(2, Duration::from_secs(8), 500);
        let v = s.view();
        assert!(v.any_cooling() && v.cooling(1) && v.cooling(2) && !v.cooling(0));
        assert_eq!(v.cooldown_left(2), Some(Duration::from_secs(8)));
        assert_eq!(s.cooldown(1).map(|c| c.status), Some(500));
        clock.advance(Duration::from_secs(6));
        // The ended one is cleared when it is next looked at.
        assert!(!s.view().cooling(1));
        assert!(s.view().any_cooling());
        clock.advance(Duration::from_secs(3));
        assert!(s.cooldown(2).is_none());
        assert!(!s.view().any_cooling());
        // A zero length ends a cooldown.
        s.set_cooldown(0, Duration::from_secs(5), 500);
        s.set_cooldown(0, Duration::ZERO, 500);
        assert!(!s.view().any_cooling() && s.cooldown(0).is_none());
    }

    #[test]
    fn tokens_are_read_for_this_minute_only() {
        let clock = ManualClock::new(1_800_000_000);
        let s = MemoryState::new(2, clock.clone(), HOUR);
        s.add_tokens(0, 70);
        s.add_tokens(0, 30);
        assert_eq!((s.view().tokens(0), s.view().tokens(1)), (100, 0));
        assert_eq!(s.view().tokens(0), s.usage(0).tokens);
        clock.advance(Duration::from_secs(60));
        assert_eq!(s.view().tokens(0), 0);
        s.add_tokens(0, 5);
        assert_eq!(s.view().tokens(0), 5);
        assert_eq!(unpack_tokens(pack_tokens(7, u64::MAX), 7), TOKEN_MASK);
    }
}
