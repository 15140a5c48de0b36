//! Routing strategies: which of a group's healthy deployments to try first, and in what
//! order to try the others.
//!
//! A selection needs only the first choice: the Router admits it if it is under its
//! rpm/tpm limits (checked and counted atomically), and asks for the rest of the order
//! only when it is not, so every strategy respects limits without ordering anything on
//! the common path. [`pick`] finds the first choice in O(1) for simple-shuffle and
//! cost-based routing (from tables built once per candidate list: cumulative weights,
//! the price order) and in one pass for least-busy, latency- and usage-based routing (a
//! load from an array of atomics per candidate: no lock, no allocation, no sort).
//! [`rest`] orders the others as the strategy would, O(n log n) at worst, only when the
//! first choice is at its limits. LiteLLM's selection is quadratic in the deployments.

use std::sync::OnceLock;

use super::config::{Deployment, LatencyArgs, Strategy};
use super::state::{order_key, StateView};

/// The candidates of one selection.
#[derive(Debug, Clone, Copy)]
pub struct Cands<'a> {
    /// Deployment indices, in configuration order.
    pub ids: &'a [usize],
    /// Tables for exactly `ids`; `None` for a list filtered for this call.
    pub tables: Option<&'a Tables>,
    /// Some of `ids` may be cooling down: those are skipped, checked through the view.
    pub skip_cooling: bool,
}

impl<'a> Cands<'a> {
    /// A list whose members are all eligible (already filtered).
    pub fn filtered(ids: &'a [usize]) -> Cands<'a> {
        Cands {
            ids,
            tables: None,
            skip_cooling: false,
        }
    }

    fn allowed(&self, view: &impl StateView, i: usize) -> bool {
        !self.skip_cooling || !view.cooling(i)
    }

    fn iter<'s>(&'s self, view: &'s impl StateView) -> impl Iterator<Item = usize> + 's {
        self.ids.iter().copied().filter(|&i| self.allowed(view, i))
    }
}

/// What the weighted pick and cost-based routing precompute for one candidate list,
/// each built on first use.
#[derive(Debug, Default)]
pub struct Tables {
    /// Cumulative weights over the list, per [`Rule`].
    cumulative: [OnceLock<Vec<f64>>; 3],
    /// The list by price, cheapest first, ties in configuration order.
    by_price: OnceLock<Vec<usize>>,
}

/// How simple-shuffle weighs deployments (LiteLLM: the first candidate decides).
#[derive(Debug, Clone, Copy)]
enum Rule {
    Weight,
    Rpm,
    Tpm,
}

impl Rule {
    fn of(d: &Deployment) -> Option<Rule> {
        if d.weight.is_some() {
            Some(Rule::Weight)
        } else if d.rpm.is_some() {
            Some(Rule::Rpm)
        } else if d.tpm.is_some() {
            Some(Rule::Tpm)
        } else {
            None
        }
    }

    /// The weight of `d`; zero, missing and non-finite weights are 0 (never picked first).
    fn weight(self, d: &Deployment) -> f64 {
        let v = match self {
            Rule::Weight => d.weight.unwrap_or(0.0),
            Rule::Rpm => d.rpm.unwrap_or(0) as f64,
            Rule::Tpm => d.tpm.unwrap_or(0) as f64,
        };
        if v.is_finite() && v > 0.0 {
            v
        } else {
            0.0
        }
    }
}

/// A deployment's price per token (input + output): its own `input_cost_per_token` /
/// `output_cost_per_token`, else the catalogue's, else LiteLLM's 5.0 + 5.0 default.
/// Looked up once per deployment (the catalogue lookup costs more than the ranking).
pub fn price(d: &Deployment, catalogue: &dyn Fn(&str) -> Option<(f64, f64)>) -> f64 {
    *d.price.get_or_init(|| {
        if d.input_cost_per_token.is_some() || d.output_cost_per_token.is_some() {
            return d.input_cost_per_token.unwrap_or(0.0) + d.output_cost_per_token.unwrap_or(0.0);
        }
        let model = d.params.get("model").and_then(|m| m.as_str()).unwrap_or("");
        match catalogue(model) {
            Some((i, o)) => i + o,
            None => 10.0,
        }
    })
}

/// The first of `items` whose key is lowest; ties go to the first one met, or, with
/// `rng`, to one chosen uniformly among them.
fn lowest(
    items: impl Iterator<Item = (u64, usize)>,
    rng: Option<&mut fastrand::Rng>,
) -> Option<usize> {
    let mut best: Option<(u64, usize)> = None;
    let Some(rng) = rng else {
        for (k, i) in items {
            if best.is_none_or(|(b, _)| k < b) {
                best = Some((k, i));
            }
        }
        return best.map(|(_, i)| i);
    };
    // Reservoir sampling over the ties, with skips: the t-th tied one replaces the
    // choice with probability 1/t, so after a replacement at t the next one to replace
    // is J with P(J > m) = t/m, drawn as floor(t/u) + 1 for u uniform in (0, 1]. One
    // draw per replacement (about ln of the number tied), not one per tie.
    let mut draw_next = |t: usize| ((t as f64 / (1.0 - rng.f64())) as usize).saturating_add(1);
    let (mut ties, mut next) = (0usize, usize::MAX);
    for (k, i) in items {
        match best {
            Some((b, _)) if k > b => {}
            Some((b, _)) if k == b => {
                ties += 1;
                if ties == next {
                    best = Some((k, i));
                    next = draw_next(ties);
                }
            }
            _ => {
                best = Some((k, i));
                ties = 1;
                next = draw_next(1);
            }
        }
    }
    best.map(|(_, i)| i)
}

/// The weighted pick (probability `w / Σw` over the allowed candidates), or `None` when
/// no allowed candidate has a positive weight.
fn weighted(
    c: &Cands,
    rule: Rule,
    deployments: &[Deployment],
    view: &impl StateView,
    rng: &mut fastrand::Rng,
) -> Option<usize> {
    if let Some(tables) = c.tables {
        let cumulative = tables.cumulative[rule as usize].get_or_init(|| {
            let mut sum = 0.0;
            c.ids
                .iter()
                .map(|&i| {
                    sum += rule.weight(&deployments[i]);
                    sum
                })
                .collect()
        });
        let total = cumulative.last().copied().unwrap_or(0.0);
        if total <= 0.0 {
            return None;
        }
        // Drawn over the whole list, redrawn while the draw is cooling down: that is the
        // same as drawing over the allowed ones. A few tries, then the exact pass.
        for _ in 0..16 {
            let x = rng.f64() * total;
            let k = cumulative.partition_point(|&s| s <= x);
            // Rounding can leave x at the total: the last positive weight is the pick.
            let k = if k < c.ids.len() {
                k
            } else {
                cumulative.partition_point(|&s| s < total)
            };
            let i = *c.ids.get(k)?;
            if c.allowed(view, i) {
                return Some(i);
            }
        }
    }
    let w = |i: usize| rule.weight(&deployments[i]);
    let total: f64 = c.iter(view).map(w).sum();
    if total <= 0.0 {
        return None;
    }
    let mut x = rng.f64() * total;
    for i in c.iter(view) {
        let wi = w(i);
        if wi > 0.0 && x < wi {
            return Some(i);
        }
        x -= wi;
    }
    // Rounding can leave x just past the last weight: that one is the pick.
    c.iter(view).filter(|&i| w(i) > 0.0).last()
}

/// A uniform pick among the allowed candidates.
fn uniform(c: &Cands, view: &impl StateView, rng: &mut fastrand::Rng) -> Option<usize> {
    if c.ids.is_empty() {
        return None;
    }
    // As in `weighted`: redraw while the draw is cooling down, a few times.
    for _ in 0..16 {
        let i = c.ids[rng.usize(..c.ids.len())];
        if c.allowed(view, i) {
            return Some(i);
        }
    }
    let allowed: Vec<usize> = c.iter(view).collect();
    (!allowed.is_empty()).then(|| allowed[rng.usize(..allowed.len())])
}

/// A key whose unsigned order is `i64`'s order.
fn signed_key(n: i64) -> u64 {
    (n as u64) ^ (1 << 63)
}

fn latency_score(view: &impl StateView, i: usize) -> f64 {
    // No data counts as 0, so new deployments are tried first.
    view.mean_latency(i).unwrap_or(0.0)
}

/// The strategy's first choice among the candidates; `None` when none is allowed.
pub fn pick(
    strategy: Strategy,
    c: &Cands,
    deployments: &[Deployment],
    view: &impl StateView,
    latency: &LatencyArgs,
    catalogue: &dyn Fn(&str) -> Option<(f64, f64)>,
    rng: &mut fastrand::Rng,
) -> Option<usize> {
    match strategy {
        Strategy::SimpleShuffle => {
            // LiteLLM: the first candidate decides the rule. Without a weight on any
            // allowed candidate, the first in configuration order goes first.
            let first = c.iter(view).next()?;
            match Rule::of(&deployments[first]) {
                None => uniform(c, view, rng),
                Some(rule) => weighted(c, rule, deployments, view, rng).or(Some(first)),
            }
        }
        // Fewest in-flight requests; ties keep the configured order.
        Strategy::LeastBusy => lowest(
            c.iter(view).map(|i| (signed_key(view.in_flight(i)), i)),
            None,
        ),
        Strategy::LatencyBased => {
            // Uniform among those within `lowest_latency_buffer` of the fastest.
            let buffer = latency.lowest_latency_buffer;
            if buffer > 0.0 {
                let scored: Vec<(f64, usize)> =
                    c.iter(view).map(|i| (latency_score(view, i), i)).collect();
                let fastest = scored.iter().map(|s| s.0).min_by(f64::total_cmp)?;
                let cutoff = fastest * (1.0 + buffer);
                let near = lowest(
                    scored
                        .iter()
                        .filter(|s| s.0 <= cutoff)
                        .map(|&(_, i)| (0, i)),
                    Some(rng),
                );
                if near.is_some() {
                    return near;
                }
                return lowest(
                    scored.into_iter().map(|(s, i)| (order_key(s), i)),
                    Some(rng),
                );
            }
            // Without a buffer "near" is exactly "as fast as the fastest".
            lowest(c.iter(view).map(|i| (view.latency_key(i), i)), Some(rng))
        }
        Strategy::CostBased => match c.tables {
            Some(tables) => by_price(tables, c.ids, deployments, catalogue)
                .iter()
                .copied()
                .find(|&i| c.allowed(view, i)),
            None => lowest(
                c.iter(view)
                    .map(|i| (order_key(price(&deployments[i], catalogue)), i)),
                None,
            ),
        },
        // Lowest tokens used this minute; ties at random.
        Strategy::UsageBased | Strategy::UsageBasedV2 => {
            lowest(c.iter(view).map(|i| (view.tokens(i), i)), Some(rng))
        }
    }
}

fn by_price<'t>(
    tables: &'t Tables,
    ids: &[usize],
    deployments: &[Deployment],
    catalogue: &dyn Fn(&str) -> Option<(f64, f64)>,
) -> &'t [usize] {
    tables.by_price.get_or_init(|| {
        let mut v: Vec<(f64, usize)> = ids
            .iter()
            .map(|&i| (price(&deployments[i], catalogue), i))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v.into_iter().map(|(_, i)| i).collect()
    })
}

fn shuffled(mut v: Vec<usize>, rng: &mut fastrand::Rng) -> Vec<usize> {
    rng.shuffle(&mut v);
    v
}

/// The allowed candidates other than `first`, in the order the strategy tries them after
/// it: [`pick`] then `rest` is the strategy's whole order, drawn as LiteLLM draws it.
#[allow(clippy::too_many_arguments)]
pub fn rest(
    strategy: Strategy,
    c: &Cands,
    first: usize,
    deployments: &[Deployment],
    view: &impl StateView,
    latency: &LatencyArgs,
    catalogue: &dyn Fn(&str) -> Option<(f64, f64)>,
    rng: &mut fastrand::Rng,
) -> Vec<usize> {
    let others: Vec<usize> = c.iter(view).filter(|&i| i != first).collect();
    match strategy {
        Strategy::SimpleShuffle => {
            let decider = c.iter(view).next().unwrap_or(first);
            match Rule::of(&deployments[decider]) {
                // The weighted pick first, then the others in configuration order.
                Some(_) => others,
                None => shuffled(others, rng),
            }
        }
        Strategy::LeastBusy => {
            let mut v = others;
            v.sort_by_key(|&i| view.in_flight(i));
            v
        }
        Strategy::LatencyBased => {
            // The rest of the near ones in random order, then the far ones fastest first
            // (ties at random).
            let fastest = others
                .iter()
                .map(|&i| latency_score(view, i))
                .chain([latency_score(view, first)])
                .min_by(f64::total_cmp)
                .unwrap_or(0.0);
            let cutoff = fastest * (1.0 + latency.lowest_latency_buffer);
            let mut scored: Vec<(f64, usize)> = shuffled(others, rng)
                .into_iter()
                .map(|i| (latency_score(view, i), i))
                .collect();
            scored.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (mut near, far): (Vec<_>, Vec<_>) = scored.into_iter().partition(|s| s.0 <= cutoff);
            rng.shuffle(&mut near);
            near.into_iter().chain(far).map(|(_, i)| i).collect()
        }
        Strategy::CostBased => {
            let mut v: Vec<(f64, usize)> = others
                .into_iter()
                .map(|i| (price(&deployments[i], catalogue), i))
                .collect();
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            v.into_iter().map(|(_, i)| i).collect()
        }
        Strategy::UsageBased | Strategy::UsageBasedV2 => {
            let mut v: Vec<(u64, usize)> = shuffled(others, rng)
                .into_iter()
                .map(|i| (view.tokens(i), i))
                .collect();
            v.sort_by_key(|s| s.0);
            v.into_iter().map(|(_, i)| i).collect()
        }
    }
}

/// The strategy's whole order: [`pick`], then [`rest`].
pub fn rank(
    strategy: Strategy,
    c: &Cands,
    deployments: &[Deployment],
    view: &impl StateView,
    latency: &LatencyArgs,
    catalogue: &dyn Fn(&str) -> Option<(f64, f64)>,
    rng: &mut fastrand::Rng,
) -> Vec<usize> {
    let Some(first) = pick(strategy, c, deployments, view, latency, catalogue, rng) else {
        return Vec::new();
    };
    let mut order = vec![first];
    order.extend(rest(
        strategy,
        c,
        first,
        deployments,
        view,
        latency,
        catalogue,
        rng,
    ));
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::config::RouterConfig;
    use crate::router::pool::Pool;
    use crate::router::state::{ManualClock, MemoryState};
    use serde_json::{json, Value};
    use std::time::Duration;

    fn deployments(v: Value) -> Vec<Deployment> {
        let Value::Object(m) = json!({ "model_list": v }) else {
            return Vec::new();
        };
        RouterConfig::from_json(&m)
            .map(|(c, _)| c.deployments)
            .unwrap_or_default()
    }

    fn many(n: usize, params: impl Fn(usize) -> Value) -> Vec<Deployment> {
        let list: Vec<Value> = (0..n)
            .map(|i| json!({"model_name": "g", "litellm_params": params(i)}))
            .collect();
        deployments(Value::Array(list))
    }

    fn args() -> LatencyArgs {
        LatencyArgs {
            ttl: Duration::from_secs(3600),
            lowest_latency_buffer: 0.0,
            max_latency_list_size: 10,
        }
    }

    fn state(n: usize) -> MemoryState {
        MemoryState::new(n, ManualClock::new(0), Duration::from_secs(3600))
    }

    fn no_catalogue(_: &str) -> Option<(f64, f64)> {
        None
    }

    /// The whole order for candidates filtered for the call (no tables).
    fn order(
        strategy: Strategy,
        cands: &[usize],
        ds: &[Deployment],
        state: &MemoryState,
        rng: &mut fastrand::Rng,
    ) -> Vec<usize> {
        rank(
            strategy,
            &Cands::filtered(cands),
            ds,
            &state.view(),
            &args(),
            &no_catalogue,
            rng,
        )
    }

    /// The whole order as a selection sees it: the pool's candidates, with its tables.
    fn pool_order(
        strategy: Strategy,
        pool: &Pool,
        ds: &[Deployment],
        state: &MemoryState,
        latency: &LatencyArgs,
        rng: &mut fastrand::Rng,
    ) -> Vec<usize> {
        let view = state.view();
        match pool.candidates(&view) {
            Some(c) => rank(strategy, &c, ds, &view, latency, &no_catalogue, rng),
            None => Vec::new(),
        }
    }

    fn first_picks(
        strategy: Strategy,
        ds: &[Deployment],
        state: &MemoryState,
        n: usize,
    ) -> Vec<usize> {
        let mut rng = fastrand::Rng::with_seed(7);
        let cands: Vec<usize> = (0..ds.len()).collect();
        let pool = Pool::new(cands.clone(), ds);
        (0..n)
            .map(|k| {
                // Both ways of giving the candidates must agree.
                if k % 2 == 0 {
                    order(strategy, &cands, ds, state, &mut rng)[0]
                } else {
                    pool_order(strategy, &pool, ds, state, &args(), &mut rng)[0]
                }
            })
            .collect()
    }

    fn count(picks: &[usize], i: usize) -> usize {
        picks.iter().filter(|&&p| p == i).count()
    }

    #[test]
    fn lowest_picks_uniformly_among_many_ties() {
        // 40 tied at key 3 among 100, after a higher key met first.
        let keys: Vec<u64> = (0..100).map(|i| if i % 5 < 2 { 3 } else { 9 }).collect();
        let mut rng = fastrand::Rng::with_seed(21);
        let mut hits = vec![0usize; 101];
        for _ in 0..40_000 {
            let items = [(5, 100)].into_iter().chain(keys.iter().copied().zip(0..));
            let i = lowest(items, Some(&mut rng)).unwrap_or(usize::MAX);
            hits[i] += 1;
        }
        for (i, &n) in hits.iter().enumerate() {
            if keys.get(i) == Some(&3) {
                assert!((800..=1_200).contains(&n), "{i}: {n}");
            } else {
                assert_eq!(n, 0, "{i}");
            }
        }
        let items = keys.iter().copied().zip(0..);
        assert_eq!(lowest(items, None), Some(0));
        assert_eq!(lowest(std::iter::empty(), Some(&mut rng)), None);
    }

    #[test]
    fn weights_split_traffic_in_proportion() {
        let ds = deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "a", "weight": 9}},
            {"model_name": "g", "litellm_params": {"model": "b", "weight": 1}}
        ]));
        let picks = first_picks(Strategy::SimpleShuffle, &ds, &state(2), 10_000);
        let a = count(&picks, 0);
        assert!((8_700..=9_300).contains(&a), "{a}");
    }

    #[test]
    fn rpm_acts_as_weight_without_weights() {
        let ds = deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "a", "rpm": 100}},
            {"model_name": "g", "litellm_params": {"model": "b", "rpm": 300}}
        ]));
        let picks = first_picks(Strategy::SimpleShuffle, &ds, &state(2), 10_000);
        let b = count(&picks, 1);
        assert!((7_200..=7_800).contains(&b), "{b}");
    }

    #[test]
    fn weighted_pick_skips_zero_weights_and_cooling_deployments() {
        // 0 and 3 have no weight; 2 is cooling down: 1 and 4 share 1:3.
        let ds = deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "a", "weight": 0}},
            {"model_name": "g", "litellm_params": {"model": "b", "weight": 1}},
            {"model_name": "g", "litellm_params": {"model": "c", "weight": 50}},
            {"model_name": "g", "litellm_params": {"model": "d"}},
            {"model_name": "g", "litellm_params": {"model": "e", "weight": 3}}
        ]));
        let s = state(5);
        s.set_cooldown(2, Duration::from_secs(60), 500);
        let pool = Pool::new((0..5).collect(), &ds);
        let mut rng = fastrand::Rng::with_seed(11);
        let mut firsts = Vec::new();
        for _ in 0..8_000 {
            let o = pool_order(Strategy::SimpleShuffle, &pool, &ds, &s, &args(), &mut rng);
            // The pick, then the other healthy ones in configuration order.
            let rest: Vec<usize> = [0, 1, 3, 4].into_iter().filter(|&i| i != o[0]).collect();
            assert_eq!(o[1..], rest[..]);
            firsts.push(o[0]);
        }
        let e = count(&firsts, 4);
        assert_eq!(count(&firsts, 1) + e, 8_000);
        assert!((5_700..=6_300).contains(&e), "{e}");
    }

    #[test]
    fn weighted_without_any_positive_weight_keeps_configuration_order() {
        let ds = many(3, |i| json!({"model": format!("m{i}"), "weight": 0}));
        let s = state(3);
        s.set_cooldown(0, Duration::from_secs(60), 500);
        let pool = Pool::new(vec![0, 1, 2], &ds);
        let mut rng = fastrand::Rng::with_seed(1);
        for _ in 0..20 {
            let o = pool_order(Strategy::SimpleShuffle, &pool, &ds, &s, &args(), &mut rng);
            assert_eq!(o, [1, 2]);
        }
    }

    #[test]
    fn shuffle_is_uniform_over_healthy_deployments() {
        let ds = many(4, |i| json!({"model": format!("m{i}")}));
        let s = state(4);
        s.set_cooldown(1, Duration::from_secs(60), 500);
        let pool = Pool::new((0..4).collect(), &ds);
        let mut rng = fastrand::Rng::with_seed(5);
        let mut firsts = Vec::new();
        for _ in 0..9_000 {
            let mut o = pool_order(Strategy::SimpleShuffle, &pool, &ds, &s, &args(), &mut rng);
            firsts.push(o[0]);
            o.sort_unstable();
            assert_eq!(o, [0, 2, 3]);
        }
        for i in [0, 2, 3] {
            assert!((2_700..=3_300).contains(&count(&firsts, i)), "{i}");
        }
    }

    #[test]
    fn least_busy_prefers_fewest_in_flight() {
        let ds = deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "a"}},
            {"model_name": "g", "litellm_params": {"model": "b"}}
        ]));
        let state = state(2);
        state.begin(0);
        assert_eq!(first_picks(Strategy::LeastBusy, &ds, &state, 2), vec![1; 2]);
        state.end(0);
        assert_eq!(first_picks(Strategy::LeastBusy, &ds, &state, 2), vec![0; 2]);
    }

    #[test]
    fn least_busy_orders_by_in_flight_then_configuration() {
        let ds = many(5, |i| json!({"model": format!("m{i}")}));
        let s = state(5);
        for (i, n) in [(0, 2), (1, 1), (2, 0), (3, 1), (4, 0)] {
            for _ in 0..n {
                s.begin(i);
            }
        }
        let mut rng = fastrand::Rng::with_seed(1);
        let pool = Pool::new((0..5).collect(), &ds);
        let o = pool_order(Strategy::LeastBusy, &pool, &ds, &s, &args(), &mut rng);
        assert_eq!(o, [2, 4, 1, 3, 0]);
        s.set_cooldown(2, Duration::from_secs(9), 500);
        let o = pool_order(Strategy::LeastBusy, &pool, &ds, &s, &args(), &mut rng);
        assert_eq!(o, [4, 1, 3, 0]);
    }

    #[test]
    fn latency_prefers_untried_then_fastest() {
        let ds = deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "a"}},
            {"model_name": "g", "litellm_params": {"model": "b"}}
        ]));
        let state = state(2);
        state.add_latency(0, 0.5, 10);
        assert_eq!(
            first_picks(Strategy::LatencyBased, &ds, &state, 5),
            vec![1; 5]
        );
        state.add_latency(1, 2.0, 10);
        assert_eq!(
            first_picks(Strategy::LatencyBased, &ds, &state, 5),
            vec![0; 5]
        );
    }

    #[test]
    fn latency_picks_uniformly_among_the_near_and_orders_the_far() {
        let ds = many(5, |i| json!({"model": format!("m{i}")}));
        let s = state(5);
        for (i, v) in [(0, 1.0), (1, 1.05), (2, 1.0), (3, 3.0), (4, 2.0)] {
            s.add_latency(i, v, 10);
        }
        let pool = Pool::new((0..5).collect(), &ds);
        let mut rng = fastrand::Rng::with_seed(9);
        for (buffer, near) in [(0.0, vec![0, 2]), (0.1, vec![0, 1, 2])] {
            let latency = LatencyArgs {
                lowest_latency_buffer: buffer,
                ..args()
            };
            let mut firsts = Vec::new();
            for _ in 0..6_000 {
                let o = pool_order(Strategy::LatencyBased, &pool, &ds, &s, &latency, &mut rng);
                let (head, tail) = o.split_at(near.len());
                let mut head = head.to_vec();
                head.sort_unstable();
                assert_eq!(head, near);
                let far: Vec<usize> = [1, 4, 3]
                    .into_iter()
                    .filter(|i| !near.contains(i))
                    .collect();
                assert_eq!(tail, far);
                firsts.push(o[0]);
            }
            let share = 6_000 / near.len();
            for &i in &near {
                let n = count(&firsts, i);
                assert!(n.abs_diff(share) < share / 10, "{buffer} {i}: {n}");
            }
        }
    }

    #[test]
    fn latency_ties_without_data_are_broken_at_random() {
        let ds = many(3, |i| json!({"model": format!("m{i}")}));
        let s = state(3);
        s.add_latency(1, 0.2, 10);
        let picks = first_picks(Strategy::LatencyBased, &ds, &s, 4_000);
        assert_eq!(count(&picks, 1), 0);
        assert!((1_800..=2_200).contains(&count(&picks, 0)));
    }

    #[test]
    fn cost_prefers_cheapest_custom_price() {
        let ds = deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "a", "input_cost_per_token": 0.002, "output_cost_per_token": 0.002}},
            {"model_name": "g", "litellm_params": {"model": "b", "input_cost_per_token": 0.001, "output_cost_per_token": 0.001}},
            {"model_name": "g", "litellm_params": {"model": "unknown-model"}},
            {"model_name": "g", "litellm_params": {"model": "c", "input_cost_per_token": 0.001, "output_cost_per_token": 0.001}}
        ]));
        let s = state(4);
        let mut rng = fastrand::Rng::with_seed(1);
        let o = order(Strategy::CostBased, &[0, 1, 2, 3], &ds, &s, &mut rng);
        assert_eq!(o, vec![1, 3, 0, 2]);
        let pool = Pool::new(vec![0, 1, 2, 3], &ds);
        let o = pool_order(Strategy::CostBased, &pool, &ds, &s, &args(), &mut rng);
        assert_eq!(o, vec![1, 3, 0, 2]);
        s.set_cooldown(1, Duration::from_secs(5), 500);
        let o = pool_order(Strategy::CostBased, &pool, &ds, &s, &args(), &mut rng);
        assert_eq!(o, vec![3, 0, 2]);
    }

    #[test]
    fn usage_prefers_least_tokens_this_minute() {
        let ds = deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "a", "tpm": 1000}},
            {"model_name": "g", "litellm_params": {"model": "b", "tpm": 1000}}
        ]));
        let state = state(2);
        state.add_tokens(0, 500);
        assert_eq!(
            first_picks(Strategy::UsageBasedV2, &ds, &state, 4),
            vec![1; 4]
        );
    }

    #[test]
    fn usage_ties_are_broken_at_random_and_the_rest_is_by_tokens() {
        let ds = many(4, |i| json!({"model": format!("m{i}")}));
        let s = state(4);
        s.add_tokens(0, 30);
        s.add_tokens(3, 10);
        let pool = Pool::new((0..4).collect(), &ds);
        let mut rng = fastrand::Rng::with_seed(3);
        let mut firsts = Vec::new();
        for _ in 0..4_000 {
            let o = pool_order(Strategy::UsageBasedV2, &pool, &ds, &s, &args(), &mut rng);
            assert_eq!(o[2..], [3, 0]);
            firsts.push(o[0]);
        }
        assert!((1_800..=2_200).contains(&count(&firsts, 1)));
        assert_eq!(count(&firsts, 1) + count(&firsts, 2), 4_000);
    }

    #[test]
    fn order_uses_the_best_priority_with_a_healthy_deployment() {
        let ds = deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "none"}},
            {"model_name": "g", "litellm_params": {"model": "second", "order": 2}},
            {"model_name": "g", "litellm_params": {"model": "first", "order": 1}},
            {"model_name": "g", "litellm_params": {"model": "first-too", "order": 1}}
        ]));
        let s = state(4);
        let pool = Pool::new(vec![0, 1, 2, 3], &ds);
        let mut rng = fastrand::Rng::with_seed(2);
        let o = pool_order(Strategy::LeastBusy, &pool, &ds, &s, &args(), &mut rng);
        assert_eq!(o, [2, 3]);
        s.set_cooldown(2, Duration::from_secs(5), 500);
        let o = pool_order(Strategy::LeastBusy, &pool, &ds, &s, &args(), &mut rng);
        assert_eq!(o, [3]);
        s.set_cooldown(3, Duration::from_secs(5), 500);
        let o = pool_order(Strategy::LeastBusy, &pool, &ds, &s, &args(), &mut rng);
        assert_eq!(o, [1]);
        s.set_cooldown(1, Duration::from_secs(5), 500);
        let o = pool_order(Strategy::LeastBusy, &pool, &ds, &s, &args(), &mut rng);
        assert_eq!(o, [0]);
        s.set_cooldown(0, Duration::from_secs(5), 500);
        assert!(pool.candidates(&s.view()).is_none());
    }

    #[test]
    fn a_thousand_deployments_rank_completely() {
        let ds = many(
            1000,
            |i| json!({"model": format!("m{i}"), "weight": 1 + i % 3}),
        );
        let s = state(1000);
        for i in (0..1000).step_by(7) {
            s.set_cooldown(i, Duration::from_secs(5), 500);
        }
        let pool = Pool::new((0..1000).collect(), &ds);
        let healthy = (0..1000).filter(|i| i % 7 != 0).count();
        let mut rng = fastrand::Rng::with_seed(3);
        for strategy in [
            Strategy::SimpleShuffle,
            Strategy::LeastBusy,
            Strategy::LatencyBased,
            Strategy::CostBased,
            Strategy::UsageBasedV2,
        ] {
            let mut o = pool_order(strategy, &pool, &ds, &s, &args(), &mut rng);
            o.sort_unstable();
            o.dedup();
            assert_eq!(o.len(), healthy, "{strategy:?}");
            assert!(o.iter().all(|i| i % 7 != 0), "{strategy:?}");
        }
    }
}
