//! Timestamps as the store writes them (ISO-8601 UTC text, millisecond precision, as
//! Prisma's `TIMESTAMP(3)`) and LiteLLM's durations (`30s`, `30m`, `30h`, `30d`).

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `2026-12-06T07:30:00.123Z` for milliseconds since the epoch.
pub fn iso(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let secs = rem / 1000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        rem % 1000
    )
}

/// The `YYYY-MM-DD` date of a timestamp (the daily spend tables' `date`).
pub fn date(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Milliseconds since the epoch of an ISO-8601 timestamp: `YYYY-MM-DD[T| ]HH:MM:SS[.f]`
/// with `Z`, `+HH:MM` or no offset (UTC), or a bare date.
pub fn parse_iso(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, ""),
    };
    let mut parts = date.splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    if rest.is_empty() {
        return Some(days * 86_400_000);
    }
    // Split the offset off the time of day.
    let (clock, offset_min) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let (c, off) = rest.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let off = &off[1..];
        let (h, mi) = match off.split_once(':') {
            Some((h, mi)) => (h, mi),
            None if off.len() == 4 => off.split_at(2),
            None => (off, "0"),
        };
        let h: i64 = h.parse().ok()?;
        let mi: i64 = mi.parse().ok()?;
        (c, sign * (h * 60 + mi))
    } else {
        (rest, 0)
    };
    let mut hms = clock.splitn(3, ':');
    let h: i64 = hms.next()?.parse().ok()?;
    let mi: i64 = hms.next().unwrap_or("0").parse().ok()?;
    let sec_text = hms.next().unwrap_or("0");
    let (s, frac) = match sec_text.split_once('.') {
        Some((s, f)) => (s, f),
        None => (sec_text, ""),
    };
    let s: i64 = s.parse().ok()?;
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut millis = 0i64;
    for (i, c) in frac.chars().take(3).enumerate() {
        let digit = c.to_digit(10)? as i64;
        millis += digit * 10i64.pow(2 - i as u32);
    }
    Some(days * 86_400_000 + ((h * 60 + mi - offset_min) * 60 + s) * 1000 + millis)
}

/// LiteLLM's `duration_in_seconds`: `30s`, `30m`, `30h`, `30d`, `2w`, `1mo` (30 days).
pub fn duration_seconds(text: &str) -> Option<i64> {
    let text = text.trim();
    let digits_end = text.find(|c: char| !c.is_ascii_digit())?;
    let n: i64 = text[..digits_end].parse().ok()?;
    let unit_seconds = match &text[digits_end..] {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "mo" => 30 * 86_400,
        _ => return None,
    };
    n.checked_mul(unit_seconds)
}

// Howard Hinnant's civil calendar algorithms (proleptic Gregorian, days since 1970-01-01).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trips() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        // date -u -d @1796542200.123
        assert_eq!(iso(1_796_542_200_123), "2026-12-06T07:30:00.123Z");
        for ms in [0, 951_782_400_000, 1_796_542_200_123, 4_102_444_799_999] {
            assert_eq!(parse_iso(&iso(ms)), Some(ms), "{ms}");
        }
        assert_eq!(date(1_796_542_200_123), "2026-12-06");
        assert_eq!(iso(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn iso_forms_litellm_and_postgres_write() {
        let want = Some(1_796_542_200_000);
        for text in [
            "2026-12-06T07:30:00Z",
            "2026-12-06T07:30:00",
            "2026-12-06 07:30:00",
            "2026-12-06T07:30:00.000000+00:00",
            "2026-12-06T08:30:00+01:00",
            "2026-12-06T02:30:00-0500",
        ] {
            assert_eq!(parse_iso(text), want, "{text}");
        }
        assert_eq!(parse_iso("2026-12-06"), Some(1_796_515_200_000));
        for bad in [
            "",
            "tomorrow",
            "2026-13-01",
            "2026-12-06T25:00:00",
            "2026-12-06T07:xx",
        ] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn litellm_durations() {
        assert_eq!(duration_seconds("30s"), Some(30));
        assert_eq!(duration_seconds("30m"), Some(1800));
        assert_eq!(duration_seconds("1h"), Some(3600));
        assert_eq!(duration_seconds("30d"), Some(2_592_000));
        assert_eq!(duration_seconds("2w"), Some(1_209_600));
        assert_eq!(duration_seconds("1mo"), Some(2_592_000));
        for bad in ["", "30", "d", "30x", "-1d", "1.5h"] {
            assert_eq!(duration_seconds(bad), None, "{bad}");
        }
    }
}
