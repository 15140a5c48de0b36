//! Routing strategies: the order in which a group's healthy deployments are tried.
//!
//! Each strategy ranks the candidates; the Router then admits the first one that is under
//! its rpm/tpm limits (checked and counted atomically), so every strategy respects limits.
//! Ranking is one O(n) pass for simple-shuffle and O(n log n) at worst for the others
//! (LiteLLM's is quadratic); prices are looked up once per deployment.

use super::config::{Deployment, LatencyArgs, Strategy};
use super::state::StateView;

/// The weighted pick first (probability `w / Σw`, one O(n) pass), then the other
/// candidates in configuration order: they are only tried when the pick is at its limits.
/// Zero and missing weights are never picked first.
fn weighted_order(
    cands: &[usize],
    weight: impl Fn(usize) -> f64,
    rng: &mut fastrand::Rng,
) -> Vec<usize> {
    let w = |i: usize| {
        let v = weight(i);
        if v.is_finite() && v > 0.0 {
            v
        } else {
            0.0
        }
    };
    let total: f64 = cands.iter().map(|&i| w(i)).sum();
    let mut chosen = None;
    if total > 0.0 {
        let mut x = rng.f64() * total;
        for &i in cands {
            let wi = w(i);
            if wi > 0.0 && x < wi {
                chosen = Some(i);
                break;
            }
            x -= wi;
        }
        // Rounding can leave x just past the last weight: that one is the pick.
        chosen = chosen.or_else(|| cands.iter().rev().copied().find(|&i| w(i) > 0.0));
    }
    let mut out = Vec::with_capacity(cands.len());
    out.extend(chosen);
    out.extend(cands.iter().copied().filter(|&i| Some(i) != chosen));
    out
}

fn shuffled(cands: &[usize], rng: &mut fastrand::Rng) -> Vec<usize> {
    let mut v = cands.to_vec();
    rng.shuffle(&mut v);
    v
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

/// Candidates (indices into `deployments`) in the order the strategy prefers them.
pub fn rank(
    strategy: Strategy,
    cands: &[usize],
    deployments: &[Deployment],
    state: &impl StateView,
    latency: &LatencyArgs,
    catalogue: &dyn Fn(&str) -> Option<(f64, f64)>,
    rng: &mut fastrand::Rng,
) -> Vec<usize> {
    match strategy {
        Strategy::SimpleShuffle => {
            // LiteLLM: the first deployment decides the rule.
            let Some(&first) = cands.first() else {
                return Vec::new();
            };
            let d = &deployments[first];
            if d.weight.is_some() {
                weighted_order(cands, |i| deployments[i].weight.unwrap_or(0.0), rng)
            } else if d.rpm.is_some() {
                weighted_order(cands, |i| deployments[i].rpm.unwrap_or(0) as f64, rng)
            } else if d.tpm.is_some() {
                weighted_order(cands, |i| deployments[i].tpm.unwrap_or(0) as f64, rng)
            } else {
                shuffled(cands, rng)
            }
        }
        Strategy::LeastBusy => {
            // Fewest in-flight requests first; ties keep the configured order.
            let mut v = cands.to_vec();
            v.sort_by_key(|&i| state.in_flight(i));
            v
        }
        Strategy::LatencyBased => {
            // No data counts as 0, so new deployments are tried first; the pick is uniform
            // among those within `lowest_latency_buffer` of the fastest.
            let mut scored: Vec<(f64, usize)> = shuffled(cands, rng)
                .into_iter()
                .map(|i| (state.mean_latency(i).unwrap_or(0.0), i))
                .collect();
            scored.sort_by(|a, b| a.0.total_cmp(&b.0));
            let lowest = scored.first().map(|s| s.0).unwrap_or(0.0);
            let cutoff = lowest * (1.0 + latency.lowest_latency_buffer);
            let (mut near, far): (Vec<_>, Vec<_>) = scored.into_iter().partition(|s| s.0 <= cutoff);
            rng.shuffle(&mut near);
            near.into_iter().chain(far).map(|(_, i)| i).collect()
        }
        Strategy::CostBased => {
            let mut v: Vec<(f64, usize)> = cands
                .iter()
                .map(|&i| (price(&deployments[i], catalogue), i))
                .collect();
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            v.into_iter().map(|(_, i)| i).collect()
        }
        Strategy::UsageBased | Strategy::UsageBasedV2 => {
            // Lowest tokens used this minute first.
            let mut v: Vec<(u64, usize)> = shuffled(cands, rng)
                .into_iter()
                .map(|i| (state.usage(i).tokens, i))
                .collect();
            v.sort_by_key(|s| s.0);
            v.into_iter().map(|(_, i)| i).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::config::RouterConfig;
    use crate::router::state::{ManualClock, MemoryState};
    use serde_json::{json, Value};
    use std::time::Duration;

    const HOUR: Duration = Duration::from_secs(3600);

    fn deployments(v: Value) -> Vec<Deployment> {
        let Value::Object(m) = json!({ "model_list": v }) else {
            return Vec::new();
        };
        RouterConfig::from_json(&m)
            .map(|(c, _)| c.deployments)
            .unwrap_or_default()
    }

    fn args() -> LatencyArgs {
        LatencyArgs {
            ttl: Duration::from_secs(3600),
            lowest_latency_buffer: 0.0,
            max_latency_list_size: 10,
        }
    }

    fn no_catalogue(_: &str) -> Option<(f64, f64)> {
        None
    }

    fn first_picks(
        strategy: Strategy,
        ds: &[Deployment],
        state: &MemoryState,
        n: usize,
    ) -> Vec<usize> {
        let mut rng = fastrand::Rng::with_seed(7);
        let cands: Vec<usize> = (0..ds.len()).collect();
        (0..n)
            .map(|_| {
                rank(
                    strategy,
                    &cands,
                    ds,
                    &state.view(),
                    &args(),
                    &no_catalogue,
                    &mut rng,
                )[0]
            })
            .collect()
    }

    #[test]
    fn weights_split_traffic_in_proportion() {
        let ds = deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "a", "weight": 9}},
            {"model_name": "g", "litellm_params": {"model": "b", "weight": 1}}
        ]));
        let state = MemoryState::new(2, ManualClock::new(0), HOUR);
        let picks = first_picks(Strategy::SimpleShuffle, &ds, &state, 10_000);
        let a = picks.iter().filter(|&&i| i == 0).count();
        assert!((8_700..=9_300).contains(&a), "{a}");
    }

    #[test]
    fn rpm_acts_as_weight_without_weights() {
        let ds = deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "a", "rpm": 100}},
            {"model_name": "g", "litellm_params": {"model": "b", "rpm": 300}}
        ]));
        let state = MemoryState::new(2, ManualClock::new(0), HOUR);
        let picks = first_picks(Strategy::SimpleShuffle, &ds, &state, 10_000);
        let b = picks.iter().filter(|&&i| i == 1).count();
        assert!((7_200..=7_800).contains(&b), "{b}");
    }

    #[test]
    fn least_busy_prefers_fewest_in_flight() {
        let ds = deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "a"}},
            {"model_name": "g", "litellm_params": {"model": "b"}}
        ]));
        let state = MemoryState::new(2, ManualClock::new(0), HOUR);
        state.begin(0);
        assert_eq!(first_picks(Strategy::LeastBusy, &ds, &state, 1), vec![1]);
        state.end(0);
        assert_eq!(first_picks(Strategy::LeastBusy, &ds, &state, 1), vec![0]);
    }

    #[test]
    fn latency_prefers_untried_then_fastest() {
        let ds = deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "a"}},
            {"model_name": "g", "litellm_params": {"model": "b"}}
        ]));
        let state = MemoryState::new(2, ManualClock::new(0), HOUR);
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
    fn cost_prefers_cheapest_custom_price() {
        let ds = deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "a", "input_cost_per_token": 0.002, "output_cost_per_token": 0.002}},
            {"model_name": "g", "litellm_params": {"model": "b", "input_cost_per_token": 0.001, "output_cost_per_token": 0.001}},
            {"model_name": "g", "litellm_params": {"model": "unknown-model"}}
        ]));
        let state = MemoryState::new(3, ManualClock::new(0), HOUR);
        let mut rng = fastrand::Rng::with_seed(1);
        let order = rank(
            Strategy::CostBased,
            &[0, 1, 2],
            &ds,
            &state.view(),
            &args(),
            &no_catalogue,
            &mut rng,
        );
        assert_eq!(order, vec![1, 0, 2]);
    }

    #[test]
    fn usage_prefers_least_tokens_this_minute() {
        let ds = deployments(json!([
            {"model_name": "g", "litellm_params": {"model": "a", "tpm": 1000}},
            {"model_name": "g", "litellm_params": {"model": "b", "tpm": 1000}}
        ]));
        let state = MemoryState::new(2, ManualClock::new(0), HOUR);
        state.add_tokens(0, 500);
        assert_eq!(
            first_picks(Strategy::UsageBasedV2, &ds, &state, 3),
            vec![1; 3]
        );
    }

    #[test]
    fn ranking_a_thousand_deployments_is_cheap() {
        let list: Vec<Value> = (0..1000)
            .map(|i| json!({"model_name": "g", "litellm_params": {"model": format!("m{i}")}}))
            .collect();
        let ds = deployments(Value::Array(list));
        let state = MemoryState::new(1000, ManualClock::new(0), HOUR);
        let cands: Vec<usize> = (0..1000).collect();
        let mut rng = fastrand::Rng::with_seed(3);
        for strategy in [
            Strategy::SimpleShuffle,
            Strategy::LeastBusy,
            Strategy::LatencyBased,
            Strategy::CostBased,
            Strategy::UsageBasedV2,
        ] {
            assert_eq!(
                rank(
                    strategy,
                    &cands,
                    &ds,
                    &state.view(),
                    &args(),
                    &no_catalogue,
                    &mut rng
                )
                .len(),
                1000
            );
        }
    }
}
