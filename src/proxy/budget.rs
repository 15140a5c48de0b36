//! Budgets in memory: what each key, user, team and end user may spend (`max_budget`)
//! and has spent in its current window, so that a request over budget is refused
//! before any provider call without reading the database.
//!
//! The [`Ledger`] holds, per owner, the spend the database last reported and the spend
//! this instance charged since (not yet written). The spend writer
//! ([`super::spend::writer`]) takes the unwritten part every `proxy_batch_write_at`
//! seconds, adds it to the database in one transaction and reads the totals back: the
//! totals include what other instances wrote, so a budget spent through one instance is
//! seen by all of them within a flush interval or two.
//!
//! Charges are aggregated here on the request path (a map update under a short lock), not
//! queued: a full queue may drop a spend-log row, never money.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use axum::http::StatusCode;

use super::errors::ProxyError;
use super::ops::metrics::BudgetRow;
use super::spend::SpendEvent;
use super::store::time;

/// Who a charge is for, in the order spend updates are written (sorted, so that two
/// instances lock rows in the same order and never deadlock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    Key,
    User,
    Team,
    EndUser,
}

impl Owner {
    pub const ALL: [Owner; 4] = [Owner::Key, Owner::User, Owner::Team, Owner::EndUser];

    fn index(self) -> usize {
        self as usize
    }
}

/// One owner's budget, as the database last said.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub max_budget: f64,
    /// `spend` in the database.
    pub spend: f64,
    /// `budget_reset_at`, milliseconds since the epoch: from then on the window is a
    /// new one (the reset job zeroes `spend` in the database soon after).
    pub reset_at: Option<i64>,
}

/// Budgets of every owner that has one, by owner kind then id.
pub type Budgets = [HashMap<String, Budget>; 4];

/// One row of a daily spend table, before it is added up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DailyKey {
    /// [`Owner::User`], [`Owner::Team`] or [`Owner::EndUser`].
    pub owner: Owner,
    pub id: String,
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    pub api_key: String,
    pub model: String,
    pub model_group: String,
    pub provider: String,
}

/// What a daily row adds up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DailyTotals {
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub spend: f64,
    pub api_requests: i64,
    pub successful_requests: i64,
    pub failed_requests: i64,
}

impl DailyTotals {
    fn add(&mut self, other: &DailyTotals) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.spend += other.spend;
        self.api_requests += other.api_requests;
        self.successful_requests += other.successful_requests;
        self.failed_requests += other.failed_requests;
    }
}

/// Spend not yet in the database, taken by the writer for one flush.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Deltas {
    /// Per owner kind, `(id, amount)` sorted by id.
    pub owners: [Vec<(String, f64)>; 4],
    /// `((user_id, team_id), amount)`: `LiteLLM_TeamMembership.spend`, sorted.
    pub members: Vec<((String, String), f64)>,
    pub daily: Vec<(DailyKey, DailyTotals)>,
}

impl Deltas {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.owners.iter().all(Vec::is_empty) && self.members.is_empty() && self.daily.is_empty()
    }
}

#[derive(Default, Debug)]
struct Totals {
    budgets: Budgets,
    /// Charged here, not yet taken by the writer.
    pending: [HashMap<String, f64>; 4],
    /// Taken by the writer, not yet confirmed written.
    inflight: [HashMap<String, f64>; 4],
    members: HashMap<(String, String), f64>,
    daily: HashMap<DailyKey, DailyTotals>,
}

impl Totals {
    /// What `id` has spent in its current window, as far as this instance knows.
    fn spent(&self, owner: Owner, id: &str, budget: &Budget, now_ms: i64) -> f64 {
        let i = owner.index();
        let written = match budget.reset_at {
            // The window ended: the reset job is about to zero it in the database.
            Some(at) if now_ms >= at => 0.0,
            _ => budget.spend,
        };
        written
            + self.pending[i].get(id).copied().unwrap_or(0.0)
            + self.inflight[i].get(id).copied().unwrap_or(0.0)
    }
}

/// Who pays for one request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Payer<'a> {
    pub key: Option<&'a str>,
    pub user: Option<&'a str>,
    pub team: Option<&'a str>,
    /// The request's `user` field (LiteLLM's end user, or customer).
    pub end_user: Option<&'a str>,
}

/// Every budget and every unwritten charge of this instance.
#[derive(Default, Debug)]
pub struct Ledger {
    totals: Mutex<Totals>,
    /// Whether any owner has a budget: without one, a check costs one atomic load.
    any_budget: AtomicBool,
}

/// LiteLLM's `BudgetExceededError`, as its proxy answers it: 400, type `budget_exceeded`.
fn exceeded(message: String) -> ProxyError {
    ProxyError::new(StatusCode::BAD_REQUEST, "budget_exceeded", message)
}

fn py(f: f64) -> String {
    crate::cache::key::py_float_repr(f)
}

impl Ledger {
    fn lock(&self) -> std::sync::MutexGuard<'_, Totals> {
        self.totals.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Refuse a request whose payer is over budget, with LiteLLM's message for each
    /// check, in LiteLLM's order: end user, key, team, then the key's user (a personal
    /// key only, as LiteLLM checks it).
    pub fn check(&self, payer: &Payer<'_>, now_ms: i64) -> Result<(), ProxyError> {
        if !self.any_budget.load(Ordering::Relaxed) {
            return Ok(());
        }
        let t = self.lock();
        let over = |owner: Owner, id: Option<&str>| -> Option<(String, f64, f64)> {
            let id = id?;
            let b = t.budgets[owner.index()].get(id)?;
            Some((id.to_string(), t.spent(owner, id, b, now_ms), b.max_budget))
        };
        if let Some((_, spent, max)) = over(Owner::EndUser, payer.end_user) {
            if spent > max {
                return Err(exceeded(format!(
                    "Budget has been exceeded! Current cost: {}, Max budget: {}",
                    py(spent),
                    py(max)
                )));
            }
        }
        if let Some((_, spent, max)) = over(Owner::Key, payer.key) {
            if spent >= max {
                return Err(exceeded(format!(
                    "Budget has been exceeded! Current cost: {}, Max budget: {}",
                    py(spent),
                    py(max)
                )));
            }
        }
        if let Some((team, spent, max)) = over(Owner::Team, payer.team) {
            if spent > max {
                return Err(exceeded(format!(
                    "Budget has been exceeded! Team={team} Current cost: {}, Max budget: {}",
                    py(spent),
                    py(max)
                )));
            }
        }
        if payer.team.is_none() {
            if let Some((user, spent, max)) = over(Owner::User, payer.user) {
                if spent > max {
                    return Err(exceeded(format!(
                        "ExceededBudget: User={user} over budget. Spend={}, Budget={}",
                        py(spent),
                        py(max)
                    )));
                }
            }
        }
        Ok(())
    }

    /// Charge a finished request to its key, user, team, team membership and end user,
    /// and count it in the daily tables.
    pub fn charge(&self, ev: &SpendEvent) {
        let cost = ev.cost.filter(|c| c.is_finite() && *c > 0.0).unwrap_or(0.0);
        let ok = ev.status < 400;
        let started_ms = ev
            .started
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let api_key = ev.key_hash.as_deref().unwrap_or("");
        let mut t = self.lock();
        if cost > 0.0 {
            let owners = [
                (Owner::Key, ev.key_hash.as_deref()),
                (Owner::User, ev.user_id.as_deref()),
                (Owner::Team, ev.team_id.as_deref()),
                (Owner::EndUser, ev.end_user.as_deref()),
            ];
            for (owner, id) in owners {
                if let Some(id) = id.filter(|id| !id.is_empty()) {
                    add(&mut t.pending[owner.index()], id, cost);
                }
            }
            if let (Some(user), Some(team)) = (&ev.user_id, &ev.team_id) {
                *t.members.entry((user.clone(), team.clone())).or_insert(0.0) += cost;
            }
        }
        let row = DailyTotals {
            prompt_tokens: ev.prompt_tokens as i64,
            completion_tokens: ev.completion_tokens as i64,
            spend: cost,
            api_requests: 1,
            successful_requests: i64::from(ok),
            failed_requests: i64::from(!ok),
        };
        for (owner, id) in [
            (Owner::User, ev.user_id.as_deref()),
            (Owner::Team, ev.team_id.as_deref()),
            (Owner::EndUser, ev.end_user.as_deref()),
        ] {
            let Some(id) = id.filter(|id| !id.is_empty()) else {
                continue;
            };
            let key = DailyKey {
                owner,
                id: id.to_string(),
                date: time::date(started_ms),
                api_key: api_key.to_string(),
                model: ev.requested_model.clone(),
                model_group: ev.model_group.clone(),
                provider: ev.provider.clone(),
            };
            t.daily.entry(key).or_default().add(&row);
        }
    }

    /// Take the unwritten charges for one flush. Until [`Ledger::written`] or
    /// [`Ledger::not_written`] they still count against budgets.
    pub fn take(&self) -> Deltas {
        let mut t = self.lock();
        let mut out = Deltas::default();
        for owner in Owner::ALL {
            let i = owner.index();
            let pending = std::mem::take(&mut t.pending[i]);
            let mut list: Vec<(String, f64)> = pending.into_iter().collect();
            list.sort_by(|a, b| a.0.cmp(&b.0));
            for (id, amount) in &list {
                add(&mut t.inflight[i], id, *amount);
            }
            out.owners[i] = list;
        }
        let mut members: Vec<_> = std::mem::take(&mut t.members).into_iter().collect();
        members.sort_by(|a, b| a.0.cmp(&b.0));
        out.members = members;
        let mut daily: Vec<_> = std::mem::take(&mut t.daily).into_iter().collect();
        daily.sort_by(|a, b| a.0.cmp(&b.0));
        out.daily = daily;
        out
    }

    /// The flush of `taken` committed; `budgets` are the totals read back (which
    /// include it), or `None` when they could not be read.
    pub fn written(&self, taken: &Deltas, budgets: Option<Budgets>) {
        let mut t = self.lock();
        for owner in Owner::ALL {
            let i = owner.index();
            for (id, amount) in &taken.owners[i] {
                add(&mut t.inflight[i], id, -amount);
                if t.inflight[i].get(id).is_some_and(|v| v.abs() < 1e-12) {
                    t.inflight[i].remove(id);
                }
                if budgets.is_none() {
                    // Keep counting it until the next read says what the database has.
                    if let Some(b) = t.budgets[i].get_mut(id) {
                        b.spend += amount;
                    }
                }
            }
        }
        if let Some(b) = budgets {
            self.install(&mut t, b);
        }
    }

    /// The flush of `taken` failed: its charges go back to be written next time.
    pub fn not_written(&self, taken: Deltas) {
        let mut t = self.lock();
        for owner in Owner::ALL {
            let i = owner.index();
            for (id, amount) in &taken.owners[i] {
                add(&mut t.inflight[i], id, -amount);
                if t.inflight[i].get(id).is_some_and(|v| v.abs() < 1e-12) {
                    t.inflight[i].remove(id);
                }
                add(&mut t.pending[i], id, *amount);
            }
        }
        for (k, v) in taken.members {
            *t.members.entry(k).or_insert(0.0) += v;
        }
        for (k, v) in taken.daily {
            t.daily.entry(k).or_default().add(&v);
        }
    }

    /// Replace the budgets with what the database says (at start, and after each flush
    /// when nothing of this instance is in flight).
    pub fn set_budgets(&self, budgets: Budgets) {
        let mut t = self.lock();
        self.install(&mut t, budgets);
    }

    fn install(&self, t: &mut Totals, budgets: Budgets) {
        self.any_budget
            .store(budgets.iter().any(|m| !m.is_empty()), Ordering::Relaxed);
        t.budgets = budgets;
    }

    /// Every key's, user's and team's budget with what it has spent in its window, for
    /// `/metrics` and budget alerts (read when asked, never on the request path).
    pub fn snapshot(&self, now_ms: i64) -> Vec<BudgetRow> {
        let t = self.lock();
        let mut rows = Vec::new();
        for owner in [Owner::Key, Owner::User, Owner::Team] {
            for (id, b) in &t.budgets[owner.index()] {
                rows.push(BudgetRow {
                    owner,
                    id: id.clone(),
                    spent: t.spent(owner, id, b, now_ms),
                    max: b.max_budget,
                    resets_at_ms: b.reset_at,
                });
            }
        }
        rows.sort_by(|a, b| (a.owner, &a.id).cmp(&(b.owner, &b.id)));
        rows
    }

    /// What `id` has spent in its window as this instance sees it, and its budget
    /// (`None` without one).
    pub fn spent(&self, owner: Owner, id: &str, now_ms: i64) -> (f64, Option<f64>) {
        let t = self.lock();
        match t.budgets[owner.index()].get(id) {
            Some(b) => (t.spent(owner, id, b, now_ms), Some(b.max_budget)),
            None => {
                let i = owner.index();
                let unwritten = t.pending[i].get(id).copied().unwrap_or(0.0)
                    + t.inflight[i].get(id).copied().unwrap_or(0.0);
                (unwritten, None)
            }
        }
    }
}

fn add(map: &mut HashMap<String, f64>, id: &str, amount: f64) {
    match map.get_mut(id) {
        Some(v) => *v += amount,
        None => {
            map.insert(id.to_string(), amount);
        }
    }
}

/// Whether `text` is a budget duration LiteLLM accepts (`30s`, `30m`, `1h`, `1d`,
/// `7d`, `30d`, `2w`, `1mo`).
pub fn valid_duration(text: &str) -> bool {
    time::duration_seconds(text).is_some_and(|s| s > 0)
}

/// When a window of `duration` that is running at `now_ms` ends: LiteLLM's
/// standardized reset times (UTC), so every window of a kind ends together.
/// - `Ns`, `Nm`, `Nh`: the next multiple of N seconds of the minute, minutes of the
///   hour or hours of the day;
/// - `1d`: the next midnight; `7d`: the next Monday at midnight; `30d` and `1mo`: the
///   first of the next month at midnight; other `Nd`: today's midnight plus N days;
/// - `Nw`: N weeks from now.
///
/// `None` for a duration that does not parse.
pub fn next_reset(duration: &str, now_ms: i64) -> Option<i64> {
    let text = duration.trim();
    let digits_end = text.find(|c: char| !c.is_ascii_digit())?;
    let n: i64 = text[..digits_end].parse().ok()?;
    if n <= 0 {
        return None;
    }
    const DAY: i64 = 86_400_000;
    let midnight = now_ms.div_euclid(DAY) * DAY;
    // LiteLLM counts within the next larger unit: seconds within the minute, minutes
    // within the hour, hours within the day; the next multiple of N there, carried over
    // past its end.
    let aligned = |unit_ms: i64, parent_ms: i64| -> Option<i64> {
        let base = now_ms.div_euclid(parent_ms) * parent_ms;
        let pos = (now_ms - base) / unit_ms;
        let next = pos.checked_add(n)? - pos % n;
        base.checked_add(next.checked_mul(unit_ms)?)
    };
    match &text[digits_end..] {
        "s" => aligned(1000, 60_000),
        "m" => aligned(60_000, 3_600_000),
        "h" => aligned(3_600_000, DAY),
        "d" if n == 1 => Some(midnight + DAY),
        "d" if n == 7 => {
            // 1970-01-01 was a Thursday: Monday is weekday 0 at day 4.
            let weekday = (now_ms.div_euclid(DAY) + 3).rem_euclid(7);
            Some(midnight + (7 - weekday) * DAY)
        }
        "d" if n == 30 => Some(first_of_next_month(now_ms)),
        "d" => midnight.checked_add(n.checked_mul(DAY)?),
        "mo" if n == 1 => Some(first_of_next_month(now_ms)),
        "mo" => now_ms.checked_add(n.checked_mul(30 * DAY)?),
        "w" => now_ms.checked_add(n.checked_mul(7 * DAY)?),
        _ => None,
    }
}

fn first_of_next_month(now_ms: i64) -> i64 {
    let today = time::date(now_ms);
    let y: i64 = today[..4].parse().unwrap_or(1970);
    let m: i64 = today[5..7].parse().unwrap_or(1);
    let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    time::parse_iso(&format!("{y:04}-{m:02}-01")).unwrap_or(now_ms)
}

#[cfg(test)]
mod tests;
