//! Seconds as a `Duration`, for every layer that takes user-given seconds.
//!
//! It sits below `error` (which reads `Retry-After`) and `types` (which reads `timeout=`),
//! so neither has to import the other for it.

use std::time::Duration;

/// `secs` (finite, not negative) as a Duration, capped at a hundred years: user-given
/// seconds such as `1e30` mean "forever", not a crash (`Duration::from_secs_f64` panics
/// past `u64::MAX` seconds, and a deadline that far overflows `Instant`).
pub fn saturating_secs(secs: f64) -> Duration {
    const CAP: f64 = 100.0 * 365.0 * 24.0 * 3600.0;
    Duration::try_from_secs_f64(secs.min(CAP)).unwrap_or(Duration::ZERO)
}
