//! The response cache: LiteLLM's cache keys and per-call controls over an in-memory store
//! with TTLs, or Redis. Used by the Router (`cache_responses=True`) and meant for the
//! module-level `rustllm.Cache` too.
//!
//! # Rust API
//! ```text
//! cache_key(kwargs, model, namespace) -> String      LiteLLM's key (key.rs)
//! CacheSettings::from_kwargs(&Map)?                   Cache(...) / cache_kwargs arguments
//! ResponseCache::memory(settings)                     in-process store, bounded, TTLs
//! ResponseCache::redis(Arc<RedisLink>, settings)      shared store (a down Redis = misses)
//! cache.plan(call_type, &kwargs, model) -> Option<CachePlan>
//!     whether this call reads and/or writes the cache, under which key, with which
//!     ttl and maximum age: `caching`, `cache={"no-cache", "no-store", "ttl",
//!     "s-maxage", "namespace", "use-cache"}`, `metadata.redis_namespace`, the mode
//!     and the supported call types, as LiteLLM decides them. `model` is what the key
//!     uses as the model (the Router passes the model group or its caching group).
//! cache.get(&plan).await -> Option<Map>               the stored response body on a hit
//! cache.put(&plan, &body).await                       store a response body
//! cache.clear().await                                 drop every entry of the memory store
//! ```
//! Entries are stored as LiteLLM stores them, `{"timestamp": <unix s>, "response":
//! "<response JSON>"}`, so a hit returns the response with its original `id`.
//! Streams are not cached.

pub mod key;
pub mod link;
pub mod tls;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::error::{ErrorKind, LlmError};
use crate::router::state::lock;
pub use key::cache_key;
use link::RedisLink;

/// `default_on` caches every call unless told not to; `default_off` only calls that pass
/// `cache={"use-cache": True}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    DefaultOn,
    DefaultOff,
}

/// The cache's own settings (LiteLLM's `Cache(...)` arguments that matter here).
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// Default time to live of an entry; `None` keeps entries until evicted.
    pub ttl: Option<Duration>,
    pub namespace: Option<String>,
    pub mode: CacheMode,
    /// Call types that are written (`completion`, `acompletion`, `embedding`, ...);
    /// `None` means all.
    pub supported_call_types: Option<Vec<String>>,
    /// Entries the memory store keeps at most (LiteLLM's `InMemoryCache`: 200).
    pub max_size_in_memory: usize,
}

/// LiteLLM's in-memory cache keeps entries 10 minutes unless told otherwise.
const DEFAULT_MEMORY_TTL: Duration = Duration::from_secs(600);

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            ttl: None,
            namespace: None,
            mode: CacheMode::DefaultOn,
            supported_call_types: None,
            max_size_in_memory: 200,
        }
    }
}

fn bad(message: String) -> LlmError {
    LlmError::new(ErrorKind::Value, message)
}

fn seconds(v: &Value, name: &str) -> Result<Option<Duration>, LlmError> {
    match v {
        Value::Null => Ok(None),
        v => match v.as_f64() {
            Some(s) if s.is_finite() && s >= 0.0 => Ok(Some(crate::time::saturating_secs(s))),
            _ => Err(bad(format!("{name} must be a number of seconds, got {v}"))),
        },
    }
}

impl CacheSettings {
    /// Read the cache-related keys of `cache_kwargs` (`ttl`, `default_in_memory_ttl`,
    /// `default_in_redis_ttl`, `namespace`, `mode`, `supported_call_types`,
    /// `max_size_in_memory`). `redis` says which default ttl applies.
    pub fn from_kwargs(
        kwargs: &Map<String, Value>,
        redis: bool,
    ) -> Result<CacheSettings, LlmError> {
        let mut s = CacheSettings::default();
        if let Some(v) = kwargs.get("ttl") {
            s.ttl = seconds(v, "cache_kwargs['ttl']")?;
        }
        let specific = if redis {
            "default_in_redis_ttl"
        } else {
            "default_in_memory_ttl"
        };
        if let Some(v) = kwargs.get(specific) {
            if let Some(t) = seconds(v, &format!("cache_kwargs['{specific}']"))? {
                s.ttl = Some(t);
            }
        }
        match kwargs.get("namespace") {
            None | Some(Value::Null) => {}
            Some(Value::String(ns)) => s.namespace = Some(ns.clone()),
            Some(other) => {
                return Err(bad(format!(
                    "cache_kwargs['namespace'] must be a string, got {other}"
                )))
            }
        }
        match kwargs.get("mode").and_then(Value::as_str) {
            None | Some("default_on") => {}
            Some("default_off") => s.mode = CacheMode::DefaultOff,
            Some(other) => {
                return Err(bad(format!(
                    "cache_kwargs['mode'] must be 'default_on' or 'default_off', got {other:?}"
                )))
            }
        }
        match kwargs.get("supported_call_types") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                s.supported_call_types = Some(
                    items
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect(),
                )
            }
            Some(other) => {
                return Err(bad(format!(
                    "cache_kwargs['supported_call_types'] must be a list of call types, got {other}"
                )))
            }
        }
        if let Some(n) = kwargs.get("max_size_in_memory").and_then(Value::as_u64) {
            s.max_size_in_memory = (n as usize).max(1);
        }
        Ok(s)
    }
}

/// What one call does with the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct CachePlan {
    pub key: String,
    pub read: bool,
    pub write: bool,
    /// This call's ttl for the entry it writes (`cache={"ttl": ...}`, else the default).
    pub ttl: Option<Duration>,
    /// The oldest entry this call accepts (`cache={"s-maxage": ...}`).
    pub max_age: Option<Duration>,
}

struct MemoryEntry {
    expires: Option<Instant>,
    timestamp: f64,
    body: Map<String, Value>,
}

enum Store {
    Memory(Mutex<HashMap<String, MemoryEntry>>),
    Redis(Arc<RedisLink>),
}

/// A response cache: memory or Redis.
pub struct ResponseCache {
    pub settings: CacheSettings,
    store: Store,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.store {
            Store::Memory(_) => "memory",
            Store::Redis(_) => "redis",
        };
        f.debug_struct("ResponseCache")
            .field("store", &kind)
            .finish()
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn truthy(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool) == Some(true)
}

/// Calls never answered from the cache: uploads (the file's bytes are not among the
/// arguments a key is made from) and the Files and Batches APIs (their state changes
/// upstream: a batch's status, a deleted file).
const NEVER_CACHED: &[&str] = &[
    "transcription",
    "atranscription",
    "image_edit",
    "aimage_edit",
    "acreate_file",
    "afile_retrieve",
    "afile_content",
    "afile_delete",
    "afile_list",
    "acreate_batch",
    "aretrieve_batch",
    "alist_batches",
    "acancel_batch",
];

impl ResponseCache {
    pub fn memory(settings: CacheSettings) -> ResponseCache {
        ResponseCache {
            settings,
            store: Store::Memory(Mutex::new(HashMap::new())),
        }
    }

    pub fn redis(link: Arc<RedisLink>, settings: CacheSettings) -> ResponseCache {
        ResponseCache {
            settings,
            store: Store::Redis(link),
        }
    }

    pub fn is_redis(&self) -> bool {
        matches!(self.store, Store::Redis(_))
    }

    /// How a call of `call_type` with these keyword arguments uses the cache; `None` when
    /// it neither reads nor writes.
    pub fn plan(
        &self,
        call_type: &str,
        kwargs: &Map<String, Value>,
        model: &str,
    ) -> Option<CachePlan> {
        if NEVER_CACHED.contains(&call_type) {
            return None;
        }
        let control = match kwargs.get("cache") {
            Some(Value::Object(c)) => Some(c),
            _ => None,
        };
        let get = |k: &str| control.and_then(|c| c.get(k));
        let enabled = match self.settings.mode {
            CacheMode::DefaultOn => true,
            CacheMode::DefaultOff => truthy(get("use-cache")),
        };
        if !enabled {
            return None;
        }
        // Read unless `caching=False` or `no-cache`; write unless `no-store` or the call
        // type is not cached. (LiteLLM: `caching=False` skips the look-up only.)
        let read = kwargs.get("caching").and_then(Value::as_bool) != Some(false)
            && !truthy(get("no-cache"));
        let write = !truthy(get("no-store"))
            && self
                .settings
                .supported_call_types
                .as_ref()
                .is_none_or(|types| types.iter().any(|t| t == call_type));
        if !read && !write {
            return None;
        }
        let namespace = get("namespace")
            .and_then(Value::as_str)
            .or_else(|| {
                kwargs
                    .get("metadata")
                    .and_then(|m| m.get("redis_namespace"))
                    .and_then(Value::as_str)
            })
            .or(self.settings.namespace.as_deref());
        let ttl = get("ttl")
            .and_then(Value::as_f64)
            .filter(|t| t.is_finite() && *t > 0.0)
            .map(crate::time::saturating_secs)
            .or(self.settings.ttl)
            .or(match self.store {
                Store::Memory(_) => Some(DEFAULT_MEMORY_TTL),
                Store::Redis(_) => None,
            });
        let max_age = get("s-maxage")
            .and_then(Value::as_f64)
            .filter(|t| t.is_finite() && *t >= 0.0)
            .map(crate::time::saturating_secs);
        Some(CachePlan {
            key: cache_key(kwargs, Some(model), namespace),
            read,
            write,
            ttl,
            max_age,
        })
    }

    /// The stored response for `plan.key`, if there is one young enough.
    pub async fn get(&self, plan: &CachePlan) -> Option<Map<String, Value>> {
        if !plan.read {
            return None;
        }
        let (timestamp, body) = match &self.store {
            Store::Memory(m) => {
                let mut map = lock(m);
                let entry = map.get(&plan.key)?;
                if entry.expires.is_some_and(|t| t <= Instant::now()) {
                    map.remove(&plan.key);
                    return None;
                }
                (entry.timestamp, entry.body.clone())
            }
            Store::Redis(link) => {
                let key = plan.key.clone();
                let raw: Option<String> =
                    link.run(|mut c| async move {
                        redis::cmd("GET").arg(&key).query_async(&mut c).await
                    })
                    .await?;
                let raw = raw?;
                decode_entry(&raw)?
            }
        };
        if let Some(max_age) = plan.max_age {
            if unix_now() - timestamp > max_age.as_secs_f64() {
                return None;
            }
        }
        Some(body)
    }

    /// Store a response body under `plan.key`.
    pub async fn put(&self, plan: &CachePlan, body: &Map<String, Value>) {
        if !plan.write {
            return;
        }
        let timestamp = unix_now();
        match &self.store {
            Store::Memory(m) => {
                let mut map = lock(m);
                let now = Instant::now();
                if map.len() >= self.settings.max_size_in_memory && !map.contains_key(&plan.key) {
                    map.retain(|_, e| e.expires.is_none_or(|t| t > now));
                    while map.len() >= self.settings.max_size_in_memory {
                        // Evict the entry closest to expiry (never-expiring ones last).
                        let victim = map
                            .iter()
                            .min_by_key(|(_, e)| (e.expires.is_none(), e.expires))
                            .map(|(k, _)| k.clone());
                        match victim {
                            Some(k) => map.remove(&k),
                            None => break,
                        };
                    }
                }
                map.insert(
                    plan.key.clone(),
                    MemoryEntry {
                        expires: plan.ttl.map(|t| now + t),
                        timestamp,
                        body: body.clone(),
                    },
                );
            }
            Store::Redis(link) => {
                let value = encode_entry(timestamp, body);
                let key = plan.key.clone();
                let ttl_ms = plan.ttl.map(|t| (t.as_millis() as u64).max(1));
                let _: Option<()> = link
                    .run(|mut c| async move {
                        let mut cmd = redis::cmd("SET");
                        cmd.arg(&key).arg(&value);
                        if let Some(ms) = ttl_ms {
                            cmd.arg("PX").arg(ms);
                        }
                        cmd.query_async(&mut c).await
                    })
                    .await;
            }
        }
    }

    /// Drop every entry of the memory store (Redis entries expire by their ttl).
    pub async fn clear(&self) {
        if let Store::Memory(m) = &self.store {
            lock(m).clear();
        }
    }
}

/// LiteLLM's stored form: `{"timestamp": ..., "response": "<json>"}`.
fn encode_entry(timestamp: f64, body: &Map<String, Value>) -> String {
    let response = serde_json::to_string(body).unwrap_or_default();
    serde_json::json!({"timestamp": timestamp, "response": response}).to_string()
}

fn decode_entry(raw: &str) -> Option<(f64, Map<String, Value>)> {
    let Value::Object(entry) = serde_json::from_str::<Value>(raw).ok()? else {
        return None;
    };
    let timestamp = entry
        .get("timestamp")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let body = match entry.get("response")? {
        Value::String(s) => serde_json::from_str::<Value>(s).ok()?,
        other => other.clone(),
    };
    match body {
        Value::Object(m) => Some((timestamp, m)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::obj as map;
    use serde_json::json;

    fn call(extra: Value) -> Map<String, Value> {
        let mut m = map(json!({"model": "g", "messages": [{"role": "user", "content": "hi"}]}));
        m.extend(map(extra));
        m
    }

    #[tokio::test]
    async fn memory_hit_miss_and_controls() {
        let c = ResponseCache::memory(CacheSettings::default());
        let body = map(json!({"id": "chatcmpl-1", "object": "chat.completion"}));
        let plan = c.plan("completion", &call(json!({})), "g").unwrap();
        assert_eq!(c.get(&plan).await, None);
        c.put(&plan, &body).await;
        assert_eq!(c.get(&plan).await, Some(body.clone()));
        // no-cache skips the read; no-store the write; caching=False only the read.
        let p = c
            .plan(
                "completion",
                &call(json!({"cache": {"no-cache": true}})),
                "g",
            )
            .unwrap();
        assert!(!p.read && p.write);
        let p = c
            .plan(
                "completion",
                &call(json!({"cache": {"no-store": true}})),
                "g",
            )
            .unwrap();
        assert!(p.read && !p.write);
        let p = c
            .plan("completion", &call(json!({"caching": false})), "g")
            .unwrap();
        assert!(!p.read && p.write);
        assert!(c
            .plan(
                "completion",
                &call(json!({"caching": false, "cache": {"no-store": true}})),
                "g"
            )
            .is_none());
        // A namespace changes the key.
        let p = c
            .plan(
                "completion",
                &call(json!({"cache": {"namespace": "ns"}})),
                "g",
            )
            .unwrap();
        assert!(p.key.starts_with("ns:"));
        assert_eq!(c.get(&p).await, None);
    }

    #[tokio::test]
    async fn ttl_and_max_age() {
        let c = ResponseCache::memory(CacheSettings::default());
        let body = map(json!({"id": "x"}));
        let plan = c
            .plan("completion", &call(json!({"cache": {"ttl": 0.05}})), "g")
            .unwrap();
        c.put(&plan, &body).await;
        assert!(c.get(&plan).await.is_some());
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(c.get(&plan).await.is_none());
        let plan = c.plan("completion", &call(json!({})), "g").unwrap();
        c.put(&plan, &body).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        let young = c
            .plan(
                "completion",
                &call(json!({"cache": {"s-maxage": 0.01}})),
                "g",
            )
            .unwrap();
        assert!(c.get(&young).await.is_none());
        let old_ok = c
            .plan("completion", &call(json!({"cache": {"s-maxage": 10}})), "g")
            .unwrap();
        assert!(c.get(&old_ok).await.is_some());
    }

    #[test]
    fn uploads_and_files_calls_are_never_cached() {
        let settings = CacheSettings::from_kwargs(&map(json!({})), false).unwrap();
        let c = ResponseCache::memory(settings);
        assert!(c.plan("acompletion", &call(json!({})), "g").is_some());
        for t in [
            "atranscription",
            "aimage_edit",
            "afile_list",
            "aretrieve_batch",
        ] {
            assert!(c.plan(t, &call(json!({})), "g").is_none(), "{t}");
        }
    }

    #[tokio::test]
    async fn default_off_and_call_types() {
        let settings = CacheSettings::from_kwargs(
            &map(json!({"mode": "default_off", "supported_call_types": ["acompletion"]})),
            false,
        )
        .unwrap();
        let c = ResponseCache::memory(settings);
        assert!(c.plan("completion", &call(json!({})), "g").is_none());
        let p = c
            .plan(
                "completion",
                &call(json!({"cache": {"use-cache": true}})),
                "g",
            )
            .unwrap();
        assert!(p.read && !p.write);
        let p = c
            .plan(
                "acompletion",
                &call(json!({"cache": {"use-cache": true}})),
                "g",
            )
            .unwrap();
        assert!(p.write);
    }

    #[tokio::test]
    async fn memory_store_is_bounded() {
        let c = ResponseCache::memory(CacheSettings {
            max_size_in_memory: 3,
            ..CacheSettings::default()
        });
        for n in 0..10 {
            let plan = c
                .plan("completion", &call(json!({"user": n})), "g")
                .unwrap();
            c.put(&plan, &map(json!({"id": n}))).await;
        }
        let Store::Memory(m) = &c.store else {
            unreachable!()
        };
        assert_eq!(lock(m).len(), 3);
    }

    #[test]
    fn stored_entries_round_trip_in_litellms_shape() {
        let body = map(json!({"id": "chatcmpl-1", "choices": []}));
        let raw = encode_entry(12.5, &body);
        let v: Value = serde_json::from_str(&raw).unwrap();
        assert!(v["response"].is_string());
        assert_eq!(decode_entry(&raw), Some((12.5, body)));
    }
}
