//! What the Router remembers about each deployment: in-flight requests, per-minute usage,
//! cooldowns, recent failures and latencies. Time comes from a [`Clock`] so the rules can
//! be tested without sleeping.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, Ordering};
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

/// What strategies and filters read about deployments: the live memory state, or a
/// snapshot of the shared state taken from Redis for one selection.
pub trait StateView {
    fn in_flight(&self, i: usize) -> i64;
    /// This minute's usage.
    fn usage(&self, i: usize) -> MinuteUsage;
    /// Mean of the latency samples younger than `ttl`; `None` without data.
    fn mean_latency(&self, i: usize, ttl: Duration) -> Option<f64>;
    /// Time left in the deployment's cooldown; `None` when it is not cooling down.
    fn cooldown_left(&self, i: usize) -> Option<Duration>;
}

impl StateView for MemoryState {
    fn in_flight(&self, i: usize) -> i64 {
        MemoryState::in_flight(self, i)
    }
    fn usage(&self, i: usize) -> MinuteUsage {
        MemoryState::usage(self, i)
    }
    fn mean_latency(&self, i: usize, ttl: Duration) -> Option<f64> {
        MemoryState::mean_latency(self, i, ttl)
    }
    fn cooldown_left(&self, i: usize) -> Option<Duration> {
        self.cooldown(i)
            .map(|c| c.until.saturating_duration_since(self.clock.now()))
    }
}

/// One deployment's counters.
#[derive(Debug, Default)]
struct DeploymentState {
    in_flight: AtomicI64,
    usage: Mutex<MinuteUsage>,
    cooldown: Mutex<Option<Cooldown>>,
    /// Failure times within the allowed-fails window.
    recent_failures: Mutex<VecDeque<Instant>>,
    /// (when, seconds per token or time to first token)
    latencies: Mutex<VecDeque<(Instant, f64)>>,
}

/// Every deployment's counters, indexed like the Router's deployment list.
#[derive(Debug)]
pub struct MemoryState {
    clock: Arc<dyn Clock>,
    deployments: Vec<DeploymentState>,
}

impl MemoryState {
    pub fn new(count: usize, clock: Arc<dyn Clock>) -> Self {
        MemoryState {
            clock,
            deployments: (0..count).map(|_| DeploymentState::default()).collect(),
        }
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    fn minute(&self) -> u64 {
        self.clock.unix_secs() / 60
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
        self.deployments
            .get(i)
            .map(|d| d.in_flight.load(Ordering::Relaxed))
            .unwrap_or(0)
    }

    pub fn begin(&self, i: usize) {
        if let Some(d) = self.deployments.get(i) {
            d.in_flight.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn end(&self, i: usize) {
        if let Some(d) = self.deployments.get(i) {
            d.in_flight.fetch_sub(1, Ordering::Relaxed);
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
        if let Some(mut u) = self.usage_now(i) {
            u.tokens += tokens;
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

    pub fn cooldown(&self, i: usize) -> Option<Cooldown> {
        let d = self.deployments.get(i)?;
        let mut c = lock(&d.cooldown);
        match *c {
            Some(cd) if cd.until > self.clock.now() => Some(cd),
            Some(_) => {
                *c = None;
                None
            }
            None => None,
        }
    }

    pub fn set_cooldown(&self, i: usize, length: Duration, status: u16) {
        if let Some(d) = self.deployments.get(i) {
            *lock(&d.cooldown) = Some(Cooldown {
                until: self.clock.now() + length,
                status,
            });
            lock(&d.recent_failures).clear();
        }
    }

    pub fn add_latency(&self, i: usize, value: f64, keep: usize) {
        if let Some(d) = self.deployments.get(i) {
            let mut q = lock(&d.latencies);
            q.push_back((self.clock.now(), value));
            while q.len() > keep {
                q.pop_front();
            }
        }
    }

    /// Mean of the samples younger than `ttl`; `None` without data.
    pub fn mean_latency(&self, i: usize, ttl: Duration) -> Option<f64> {
        let d = self.deployments.get(i)?;
        let now = self.clock.now();
        let q = lock(&d.latencies);
        let fresh: Vec<f64> = q
            .iter()
            .filter(|(t, _)| now.duration_since(*t) <= ttl)
            .map(|(_, v)| *v)
            .collect();
        if fresh.is_empty() {
            None
        } else {
            Some(fresh.iter().sum::<f64>() / fresh.len() as f64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpm_admits_exactly_the_limit_per_minute() {
        let clock = ManualClock::new(1_700_000_000 - 1_700_000_000 % 60);
        let s = MemoryState::new(1, clock.clone());
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
        let s = MemoryState::new(1, ManualClock::new(0));
        assert!(s.try_admit(0, None, Some(100), 60));
        s.add_tokens(0, 60);
        assert!(!s.try_admit(0, None, Some(100), 60));
        assert!(s.try_admit(0, None, Some(100), 40));
    }

    #[test]
    fn cooldowns_expire() {
        let clock = ManualClock::new(0);
        let s = MemoryState::new(2, clock.clone());
        s.set_cooldown(1, Duration::from_secs(5), 500);
        assert!(s.cooldown(1).is_some() && s.cooldown(0).is_none());
        clock.advance(Duration::from_secs(6));
        assert!(s.cooldown(1).is_none());
    }

    #[test]
    fn windowed_failures_slide() {
        let clock = ManualClock::new(0);
        let s = MemoryState::new(1, clock.clone());
        assert_eq!(s.add_windowed_failure(0, Duration::from_secs(5)), 1);
        clock.advance(Duration::from_secs(3));
        assert_eq!(s.add_windowed_failure(0, Duration::from_secs(5)), 2);
        clock.advance(Duration::from_secs(4));
        assert_eq!(s.add_windowed_failure(0, Duration::from_secs(5)), 2);
    }

    #[test]
    fn latency_means_respect_ttl_and_size() {
        let clock = ManualClock::new(0);
        let s = MemoryState::new(1, clock.clone());
        assert_eq!(s.mean_latency(0, Duration::from_secs(10)), None);
        s.add_latency(0, 1.0, 2);
        s.add_latency(0, 2.0, 2);
        s.add_latency(0, 3.0, 2);
        assert_eq!(s.mean_latency(0, Duration::from_secs(10)), Some(2.5));
        clock.advance(Duration::from_secs(11));
        assert_eq!(s.mean_latency(0, Duration::from_secs(10)), None);
    }
}
