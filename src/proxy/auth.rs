//! Who is calling: the key from any of the headers LiteLLM reads, checked by an
//! [`Authenticator`]. Today that is the master key ([`MasterKey`]); virtual keys (issue
//! 15) plug in behind the same trait and return a richer [`Identity`].
//!
//! Keys are compared in constant time (on their SHA-256 digests, so the length does not
//! show either) and never logged or echoed in errors.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::config::Secret;
use super::errors::ProxyError;

/// The headers a key may arrive in, in the order they are looked at (after the custom
/// `litellm_key_header_name`): LiteLLM's `SpecialHeaders`. `x-litellm-api-key` comes
/// first so that a client can send a provider key in `Authorization` to a pass-through
/// and the proxy key beside it.
pub const KEY_HEADERS: &[&str] = &[
    "x-litellm-api-key",
    "authorization",
    "api-key",
    "x-api-key",
    "x-goog-api-key",
    "ocp-apim-subscription-key",
];

/// The key a request carries, if any: the custom header, then [`KEY_HEADERS`].
/// `Authorization` takes `Bearer <key>` (any case) or `Basic <key>` as LiteLLM reads it
/// (the raw key after the word, not base64).
pub fn request_key<'a>(headers: &'a HeaderMap, custom: Option<&str>) -> Option<&'a str> {
    let value = |name: &str| -> Option<&'a str> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    if let Some(name) = custom {
        if let Some(v) = value(name) {
            return Some(strip_scheme(v).unwrap_or(v));
        }
    }
    for name in KEY_HEADERS {
        let Some(v) = value(name) else { continue };
        if *name == "authorization" {
            match strip_scheme(v) {
                Some(key) if !key.is_empty() => return Some(key),
                // `Authorization: <something else>` carries no proxy key.
                _ => continue,
            }
        }
        return Some(v);
    }
    None
}

fn strip_scheme(v: &str) -> Option<&str> {
    let (scheme, rest) = v.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme == "Basic").then(|| rest.trim())
}

/// What the caller is to the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The master key: everything.
    ProxyAdmin,
    /// No master key is configured: everyone is let in (LiteLLM's behaviour), and the
    /// proxy only listens on loopback unless told otherwise.
    Anonymous,
    /// A virtual key (issue 15): what it may do is in [`Identity::grant`].
    VirtualKey,
}

/// rpm, tpm and parallel-request limits of one key, user, team or model group; `None`
/// is unlimited (LiteLLM's `rpm_limit`, `tpm_limit`, `max_parallel_requests`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimits {
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    pub max_parallel_requests: Option<u64>,
}

/// A virtual key as the request path sees it: resolved in memory (key cache) together
/// with its user and team, never by a database read on the request path. Live counters
/// (spend, requests in flight) are not here: they belong to the limiter and the ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyGrant {
    pub key_alias: Option<String>,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    /// The team's `team_alias`, for metrics and logs.
    pub team_alias: Option<String>,
    /// Model names the key may call; empty: whatever its team allows.
    pub models: Vec<String>,
    /// Model names the key's team may call; empty: every model.
    pub team_models: Vec<String>,
    pub key_limits: RateLimits,
    pub user_limits: RateLimits,
    pub team_limits: RateLimits,
    /// Per model group limits of this key (LiteLLM's `model_rpm_limit` /
    /// `model_tpm_limit` in the key's metadata), by model group name.
    pub model_limits: HashMap<String, RateLimits>,
    /// Guardrails every request of this key runs: `guardrails` in the key's metadata,
    /// then in its team's (LiteLLM's spelling).
    pub guardrails: Vec<String>,
}

/// The caller of one request, handed to the limits hook and the spend event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub role: Role,
    /// `sha256(key)` hex, as LiteLLM stores keys (`hash_token`); `None` without a key.
    pub key_hash: Option<Arc<str>>,
    /// For [`Role::VirtualKey`]: the key's models, owners and limits.
    pub grant: Option<Arc<KeyGrant>>,
}

impl Identity {
    /// The caller when no master key is configured.
    pub fn anonymous() -> Self {
        Identity {
            role: Role::Anonymous,
            key_hash: None,
            grant: None,
        }
    }
}

pub type AuthFuture<'a> = Pin<Box<dyn Future<Output = Result<Identity, ProxyError>> + Send + 'a>>;

/// Decides who a request is. Runs before the body is read.
pub trait Authenticator: Send + Sync {
    /// `key`: the key the request carried ([`request_key`]); `route`: the request path.
    fn authenticate<'a>(&'a self, key: Option<&'a str>, route: &'a str) -> AuthFuture<'a>;

    /// Whether requests need a key at all (without one the proxy refuses to listen on a
    /// non-loopback address unless told `--allow-unauthenticated`).
    fn enforces_keys(&self) -> bool;
}

/// SHA-256 hex of a key, as LiteLLM stores them.
pub fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The master key (`general_settings.master_key`), or no auth at all.
pub struct MasterKey {
    digest: Option<[u8; 32]>,
    identity: Identity,
}

impl MasterKey {
    /// Check requests against `key`; `None` lets every request in.
    pub fn new(key: Option<&Secret>) -> Self {
        match key {
            Some(k) => MasterKey {
                digest: Some(Sha256::digest(k.0.as_bytes()).into()),
                identity: Identity {
                    role: Role::ProxyAdmin,
                    key_hash: Some(Arc::from(hash_key(&k.0))),
                    grant: None,
                },
            },
            None => MasterKey {
                digest: None,
                identity: Identity::anonymous(),
            },
        }
    }

    /// The synchronous check behind [`Authenticator::authenticate`].
    pub fn check(&self, key: Option<&str>) -> Result<Identity, ProxyError> {
        let Some(expected) = &self.digest else {
            return Ok(self.identity.clone());
        };
        let Some(key) = key else {
            return Err(ProxyError::unauthorized(
                "Authentication Error, No api key passed in.",
            ));
        };
        let got: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        if bool::from(got.ct_eq(expected)) {
            Ok(self.identity.clone())
        } else {
            Err(ProxyError::unauthorized(
                "Authentication Error, Invalid proxy server token passed. The key sent is not the proxy's master key (virtual keys need a database: general_settings.database is none).",
            ))
        }
    }
}

impl Authenticator for MasterKey {
    fn authenticate<'a>(&'a self, key: Option<&'a str>, _route: &'a str) -> AuthFuture<'a> {
        Box::pin(std::future::ready(self.check(key)))
    }

    fn enforces_keys(&self) -> bool {
        self.digest.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn every_litellm_header_carries_the_key() {
        for (name, value) in [
            ("Authorization", "Bearer sk-1"),
            ("authorization", "bearer sk-1"),
            ("Authorization", "Basic sk-1"),
            ("API-Key", "sk-1"),
            ("x-api-key", "sk-1"),
            ("x-goog-api-key", "sk-1"),
            ("Ocp-Apim-Subscription-Key", "sk-1"),
            ("x-litellm-api-key", "sk-1"),
        ] {
            assert_eq!(
                request_key(&headers(&[(name, value)]), None),
                Some("sk-1"),
                "{name}"
            );
        }
        let custom = headers(&[("x-custom-key", "Bearer sk-2")]);
        assert_eq!(request_key(&custom, Some("x-custom-key")), Some("sk-2"));
        assert_eq!(request_key(&custom, None), None);
        // x-litellm-api-key wins over a provider key in Authorization.
        let both = headers(&[
            ("authorization", "Bearer provider"),
            ("x-litellm-api-key", "sk-1"),
        ]);
        assert_eq!(request_key(&both, None), Some("sk-1"));
        // No scheme, or an empty bearer: no key.
        assert_eq!(
            request_key(&headers(&[("authorization", "sk-1")]), None),
            None
        );
        assert_eq!(
            request_key(&headers(&[("authorization", "Bearer ")]), None),
            None
        );
    }

    #[test]
    fn the_master_key_lets_in_exactly_itself() {
        let auth = MasterKey::new(Some(&Secret("sk-1234".into())));
        assert!(auth.enforces_keys());
        let id = auth.check(Some("sk-1234")).unwrap();
        assert_eq!(id.role, Role::ProxyAdmin);
        // LiteLLM's hash_token("sk-1234").
        assert_eq!(
            id.key_hash.as_deref(),
            Some("88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b")
        );
        for bad in [Some("sk-123"), Some("sk-12345"), Some(""), None] {
            let e = auth.check(bad).unwrap_err();
            assert_eq!(e.status, axum::http::StatusCode::UNAUTHORIZED);
            assert_eq!(e.kind, "auth_error");
            // The key is never echoed.
            if let Some(k) = bad.filter(|k| !k.is_empty()) {
                assert!(!e.message.contains(k), "{}", e.message);
            }
        }
    }

    #[test]
    fn without_a_master_key_everyone_is_anonymous() {
        let auth = MasterKey::new(None);
        assert!(!auth.enforces_keys());
        assert_eq!(auth.check(None).unwrap(), Identity::anonymous());
        assert_eq!(auth.check(Some("anything")).unwrap(), Identity::anonymous());
    }
}
