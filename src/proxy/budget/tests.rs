use std::time::{Duration, UNIX_EPOCH};

use super::*;

fn at(iso: &str) -> i64 {
    time::parse_iso(iso).unwrap()
}

#[test]
fn budget_windows_end_where_litellm_ends_them() {
    let cases = [
        // Seconds within the minute, carried over.
        (
            "30s",
            "2026-12-06T07:30:10.500Z",
            "2026-12-06T07:30:30.000Z",
        ),
        (
            "30s",
            "2026-12-06T07:30:30.000Z",
            "2026-12-06T07:31:00.000Z",
        ),
        (
            "45s",
            "2026-12-06T07:30:50.000Z",
            "2026-12-06T07:31:30.000Z",
        ),
        ("2s", "2026-12-06T23:59:59.100Z", "2026-12-07T00:00:00.000Z"),
        // Minutes within the hour.
        ("7m", "2026-12-06T10:59:00.000Z", "2026-12-06T11:03:00.000Z"),
        (
            "30m",
            "2026-12-06T10:10:00.000Z",
            "2026-12-06T10:30:00.000Z",
        ),
        // Hours within the day.
        ("1h", "2026-12-06T07:30:00.000Z", "2026-12-06T08:00:00.000Z"),
        ("5h", "2026-12-06T23:10:00.000Z", "2026-12-07T01:00:00.000Z"),
        // Days: midnight, Monday, the first of the month, or N midnights on.
        ("1d", "2026-12-06T07:30:00.000Z", "2026-12-07T00:00:00.000Z"),
        // 2026-12-06 is a Sunday.
        ("7d", "2026-12-06T07:30:00.000Z", "2026-12-07T00:00:00.000Z"),
        ("7d", "2026-12-07T07:30:00.000Z", "2026-12-14T00:00:00.000Z"),
        (
            "30d",
            "2026-12-06T07:30:00.000Z",
            "2027-01-01T00:00:00.000Z",
        ),
        (
            "1mo",
            "2026-02-28T07:30:00.000Z",
            "2026-03-01T00:00:00.000Z",
        ),
        ("2d", "2026-12-06T07:30:00.000Z", "2026-12-08T00:00:00.000Z"),
        ("2w", "2026-12-06T07:30:00.000Z", "2026-12-20T07:30:00.000Z"),
    ];
    for (duration, now, want) in cases {
        assert_eq!(
            next_reset(duration, at(now)).map(time::iso),
            Some(want.to_string()),
            "{duration} at {now}"
        );
    }
    for bad in ["", "30", "0s", "-1d", "1x", "d"] {
        assert_eq!(next_reset(bad, at("2026-12-06T07:30:00Z")), None, "{bad}");
        assert!(!valid_duration(bad), "{bad}");
    }
    for good in ["30s", "1h", "1d", "30d", "1mo", "2w"] {
        assert!(valid_duration(good), "{good}");
    }
}

fn event(
    cost: f64,
    key: &str,
    user: Option<&str>,
    team: Option<&str>,
    end_user: Option<&str>,
) -> SpendEvent {
    SpendEvent {
        // 2026-12-06T07:30:00Z
        started: UNIX_EPOCH + Duration::from_millis(1_796_542_200_000),
        ..crate::proxy::spend::test_event(cost, key, user, team, end_user)
    }
}

fn budgets(entries: &[(Owner, &str, f64, f64, Option<i64>)]) -> Budgets {
    let mut out: Budgets = Default::default();
    for (owner, id, max, spend, reset_at) in entries {
        out[*owner as usize].insert(
            id.to_string(),
            Budget {
                max_budget: *max,
                spend: *spend,
                reset_at: *reset_at,
            },
        );
    }
    out
}

fn payer<'a>(
    key: &'a str,
    user: Option<&'a str>,
    team: Option<&'a str>,
    end_user: Option<&'a str>,
) -> Payer<'a> {
    Payer {
        key: Some(key),
        user,
        team,
        end_user,
    }
}

const NOW: i64 = 1_796_542_200_000;

#[test]
fn a_key_is_refused_once_its_spend_reaches_its_budget_with_litellms_error() {
    let ledger = Ledger::default();
    ledger.set_budgets(budgets(&[(Owner::Key, "k1", 1.0, 0.75, None)]));
    let p = payer("k1", None, None, None);
    assert!(ledger.check(&p, NOW).is_ok());
    ledger.charge(&event(0.25, "k1", None, None, None));
    let e = ledger.check(&p, NOW).unwrap_err();
    assert_eq!(e.status, StatusCode::BAD_REQUEST);
    assert_eq!(e.kind, "budget_exceeded");
    assert_eq!(
        e.message,
        "Budget has been exceeded! Current cost: 1.0, Max budget: 1.0"
    );
    // Another key is not affected.
    assert!(ledger.check(&payer("k2", None, None, None), NOW).is_ok());
}

#[test]
fn teams_users_and_end_users_are_checked_as_litellm_checks_them() {
    let ledger = Ledger::default();
    ledger.set_budgets(budgets(&[
        (Owner::Team, "t1", 1.0, 1.0, None),
        (Owner::User, "u1", 2.0, 2.5, None),
        (Owner::EndUser, "cust", 0.5, 0.5, None),
    ]));
    // A team at exactly its budget is not over it (LiteLLM: spend > max_budget).
    assert!(ledger
        .check(&payer("k", Some("u1"), Some("t1"), None), NOW)
        .is_ok());
    ledger.charge(&event(0.001, "k", Some("u1"), Some("t1"), None));
    let e = ledger
        .check(&payer("k", Some("u1"), Some("t1"), None), NOW)
        .unwrap_err();
    assert_eq!(
        e.message,
        "Budget has been exceeded! Team=t1 Current cost: 1.001, Max budget: 1.0"
    );
    // The user's own budget counts for a personal key only.
    let e = ledger
        .check(&payer("k", Some("u1"), None, None), NOW)
        .unwrap_err();
    assert_eq!(
        e.message,
        "ExceededBudget: User=u1 over budget. Spend=2.501, Budget=2.0"
    );
    // The end user comes first.
    ledger.charge(&event(0.0001, "k9", None, None, Some("cust")));
    let e = ledger
        .check(&payer("k9", None, None, Some("cust")), NOW)
        .unwrap_err();
    assert_eq!(
        e.message,
        "Budget has been exceeded! Current cost: 0.5001, Max budget: 0.5"
    );
    assert_eq!(e.kind, "budget_exceeded");
}

#[test]
fn a_window_that_ended_counts_from_zero_before_the_reset_job_runs() {
    let ledger = Ledger::default();
    ledger.set_budgets(budgets(&[(Owner::Key, "k1", 1.0, 5.0, Some(NOW - 1))]));
    assert!(ledger.check(&payer("k1", None, None, None), NOW).is_ok());
    // Before its end it was over.
    assert!(ledger
        .check(&payer("k1", None, None, None), NOW - 2)
        .is_err());
    ledger.charge(&event(1.0, "k1", None, None, None));
    assert!(ledger.check(&payer("k1", None, None, None), NOW).is_err());
}

#[test]
fn charges_count_until_written_and_are_not_counted_twice_after() {
    let ledger = Ledger::default();
    ledger.set_budgets(budgets(&[(Owner::Key, "k1", 10.0, 1.0, None)]));
    ledger.charge(&event(2.0, "k1", Some("u1"), Some("t1"), Some("c1")));
    ledger.charge(&event(3.0, "k1", Some("u1"), Some("t1"), Some("c1")));
    assert_eq!(ledger.spent(Owner::Key, "k1", NOW), (6.0, Some(10.0)));
    let taken = ledger.take();
    assert_eq!(
        taken.owners[Owner::Key as usize],
        vec![("k1".to_string(), 5.0)]
    );
    assert_eq!(
        taken.owners[Owner::EndUser as usize],
        vec![("c1".to_string(), 5.0)]
    );
    assert_eq!(
        taken.members,
        vec![(("u1".to_string(), "t1".to_string()), 5.0)]
    );
    // In flight: still counted.
    assert_eq!(ledger.spent(Owner::Key, "k1", NOW).0, 6.0);
    // Written, and the database now says 6.0 (plus 1.5 another instance wrote).
    ledger.written(
        &taken,
        Some(budgets(&[(Owner::Key, "k1", 10.0, 7.5, None)])),
    );
    assert_eq!(ledger.spent(Owner::Key, "k1", NOW).0, 7.5);
    assert!(ledger.take().is_empty());
}

#[test]
fn a_failed_write_keeps_every_charge_for_the_next_one() {
    let ledger = Ledger::default();
    ledger.charge(&event(2.0, "k1", Some("u1"), None, None));
    let taken = ledger.take();
    ledger.charge(&event(1.0, "k1", Some("u1"), None, None));
    ledger.not_written(taken);
    assert_eq!(ledger.spent(Owner::Key, "k1", NOW), (3.0, None));
    let again = ledger.take();
    assert_eq!(
        again.owners[Owner::Key as usize],
        vec![("k1".to_string(), 3.0)]
    );
    assert_eq!(
        again.owners[Owner::User as usize],
        vec![("u1".to_string(), 3.0)]
    );
    // The daily rows of both requests add up in one aggregate.
    assert_eq!(again.daily.len(), 1);
    assert_eq!(again.daily[0].1.api_requests, 2);
    assert_eq!(again.daily[0].1.spend, 3.0);
    // Written without totals read back: the charge moves into the known spend.
    ledger.set_budgets(budgets(&[(Owner::Key, "k1", 10.0, 0.0, None)]));
    ledger.written(&again, None);
    assert_eq!(ledger.spent(Owner::Key, "k1", NOW).0, 3.0);
}

#[test]
fn charges_are_taken_in_sorted_order_and_daily_rows_are_aggregated() {
    let ledger = Ledger::default();
    for key in ["k3", "k1", "k2", "k1"] {
        ledger.charge(&event(1.0, key, Some("u1"), Some("t1"), None));
    }
    let mut failed = event(0.0, "k1", Some("u1"), Some("t1"), None);
    failed.status = 500;
    failed.cost = None;
    ledger.charge(&failed);
    let taken = ledger.take();
    let keys: Vec<&str> = taken.owners[Owner::Key as usize]
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(keys, ["k1", "k2", "k3"]);
    assert_eq!(
        taken.owners[Owner::Team as usize],
        vec![("t1".to_string(), 4.0)]
    );
    // One daily row per (owner, day, key, model, provider): users and teams.
    let user_k1 = taken
        .daily
        .iter()
        .find(|(k, _)| k.owner == Owner::User && k.api_key == "k1")
        .unwrap();
    assert_eq!(user_k1.0.date, "2026-12-06");
    assert_eq!(
        user_k1.1,
        DailyTotals {
            prompt_tokens: 30,
            completion_tokens: 60,
            spend: 2.0,
            api_requests: 3,
            successful_requests: 2,
            failed_requests: 1,
        }
    );
    assert_eq!(taken.daily.len(), 6);
    let sorted = taken.daily.windows(2).all(|w| w[0].0 <= w[1].0);
    assert!(sorted);
}

#[test]
fn without_budgets_a_check_touches_no_lock() {
    let ledger = Ledger::default();
    assert!(!ledger.any_budget.load(Ordering::Relaxed));
    assert!(ledger.check(&payer("k", None, None, None), NOW).is_ok());
    ledger.set_budgets(budgets(&[(Owner::Key, "k", 1.0, 0.0, None)]));
    assert!(ledger.any_budget.load(Ordering::Relaxed));
    ledger.set_budgets(Budgets::default());
    assert!(!ledger.any_budget.load(Ordering::Relaxed));
}
