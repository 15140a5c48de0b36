//! The deployments one requested model routes to (a model group, or every deployment of
//! one `litellm_params.model`), with what selection needs worked out once at construction
//! instead of on every call.

use super::config::Deployment;
use super::state::StateView;
use super::strategy::{Cands, Tables};

/// Deployments of one `order` priority.
#[derive(Debug)]
struct Tier {
    /// In configuration order.
    ids: Vec<usize>,
    tables: Tables,
}

#[derive(Debug)]
pub struct Pool {
    /// Deployment indices, in configuration order.
    pub ids: Vec<usize>,
    /// Some deployment has a tpm limit (calls then count their input tokens).
    pub any_tpm: bool,
    /// `ids` by `order`: one tier per value, lowest first, then the deployments without
    /// an order. One tier when no deployment has an order.
    tiers: Vec<Tier>,
}

impl Pool {
    pub fn new(ids: Vec<usize>, deployments: &[Deployment]) -> Pool {
        let order = |i: usize| deployments.get(i).and_then(|d| d.order);
        let any_tpm = ids
            .iter()
            .any(|&i| deployments.get(i).is_some_and(|d| d.tpm.is_some()));
        let mut orders: Vec<i64> = ids.iter().filter_map(|&i| order(i)).collect();
        orders.sort_unstable();
        orders.dedup();
        let mut tiers: Vec<Tier> = orders
            .into_iter()
            .map(|o| Tier {
                ids: ids
                    .iter()
                    .copied()
                    .filter(|&i| order(i) == Some(o))
                    .collect(),
                tables: Tables::default(),
            })
            .collect();
        let unordered: Vec<usize> = ids
            .iter()
            .copied()
            .filter(|&i| order(i).is_none())
            .collect();
        if !unordered.is_empty() {
            tiers.push(Tier {
                ids: unordered,
                tables: Tables::default(),
            });
        }
        Pool {
            ids,
            any_tpm,
            tiers,
        }
    }

    /// The candidates when no per-call filter (tags, context window) applies: the
    /// deployments of the highest priority (`order`) that has one not cooling down, as
    /// LiteLLM keeps only the lowest `order` among the healthy ones. `None` when every
    /// deployment is cooling down. Without cooldowns this is the first tier as it is;
    /// with some, each tier is only searched up to its first healthy deployment, and the
    /// strategy skips the ones cooling down.
    pub fn candidates<'a>(&'a self, view: &impl StateView) -> Option<Cands<'a>> {
        let any_cooling = view.any_cooling();
        self.tiers
            .iter()
            .find(|t| !any_cooling || t.ids.iter().any(|&i| !view.cooling(i)))
            .map(|t| Cands {
                ids: &t.ids,
                tables: Some(&t.tables),
                skip_cooling: any_cooling,
            })
    }
}
