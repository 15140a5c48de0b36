//! The limits hook: where per-key, per-team and per-model rpm/tpm/parallel limits (issue
//! 15) plug into the request path. Nothing is limited here yet; without a [`Limiter`]
//! the request path does not call anything.

use super::auth::Identity;
use super::errors::ProxyError;

/// Held for the life of a request (for a stream: until it ends or the client leaves),
/// then dropped: a limiter releases a parallel-request slot in its `Drop`.
pub type Permit = Box<dyn Send + Sync>;

/// Admits or refuses one request, after auth and before any provider call. A refusal is
/// an error in LiteLLM's envelope (429 with `Retry-After` for a rate limit).
pub trait Limiter: Send + Sync {
    /// `model_group`: the group the request routes to.
    fn admit(&self, identity: &Identity, model_group: &str) -> Result<Permit, ProxyError>;
}
