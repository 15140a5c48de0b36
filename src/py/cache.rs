//! `rustllm._core.ResponseCache`: the response cache of `src/cache` (the one the Router
//! uses) for the module-level `rustllm.Cache`.
//!
//! Python decides when a call consults the cache; this file only plans (LiteLLM's key
//! and per-call controls), reads and writes. The in-memory store answers without a
//! runtime round trip; Redis commands run on the shared runtime with the GIL released,
//! or resolve an asyncio future through the loop's waker.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::{Map, Value};

use super::blocking::block_on;
use super::bridge::{Convert, LoopWaker};
use super::convert::{map_to_py, to_value};
use crate::cache::key::is_key_param;
use crate::cache::link::{EventLevel, EventSink, RedisLink, RedisTarget};
use crate::cache::tls::resolve as resolve_tls;
use crate::cache::{cache_key, CachePlan, CacheSettings, ResponseCache};

/// LiteLLM's in-memory cache keeps entries 10 minutes unless told otherwise (as
/// `ResponseCache::plan` does for calls).
const DEFAULT_MEMORY_TTL: Duration = Duration::from_secs(600);

/// Arguments that steer the cache without being part of its key.
fn is_control(name: &str) -> bool {
    matches!(name, "cache" | "caching" | "metadata")
}

/// The entries of a call's keyword arguments the cache reads, in the call's order. A
/// key value JSON cannot carry (a class, an arbitrary object) takes part as its `str()`,
/// which is what LiteLLM's key uses for it.
fn plan_kwargs(kwargs: &Bound<'_, PyDict>) -> PyResult<Map<String, Value>> {
    let mut map = Map::new();
    for (k, v) in kwargs.iter() {
        let Ok(key) = k.cast::<PyString>() else {
            continue;
        };
        let key = key.to_cow()?.into_owned();
        if v.is_none() || !(is_key_param(&key) || is_control(&key)) {
            continue;
        }
        let value = match to_value(&v, &key) {
            Ok(value) => value,
            Err(_) => Value::String(v.str()?.to_cow()?.into_owned()),
        };
        map.insert(key, value);
    }
    Ok(map)
}

/// Redis going away or coming back, logged on `logging.getLogger("rustllm")` (once per
/// outage, so taking the GIL here costs nothing that matters).
fn log_event(level: EventLevel, message: &str) {
    Python::attach(|py| {
        let log = || -> PyResult<()> {
            let logger = py
                .import("logging")?
                .call_method1("getLogger", ("rustllm",))?;
            let method = match level {
                EventLevel::Warning => "warning",
                EventLevel::Info => "info",
            };
            logger.call_method1(method, ("rustllm.Cache: %s", message))?;
            Ok(())
        };
        if let Err(e) = log() {
            e.print(py);
        }
    });
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Where `Cache(type="redis")` connects: `url`, else `host`/`port` (6379 by default),
/// else `REDIS_URL`, else `REDIS_HOST`/`REDIS_PORT`; the password falls back to
/// `REDIS_PASSWORD`, as LiteLLM's RedisCache reads them. TLS: a `rediss://` URL or
/// `ssl=True`, with redis-py's `ssl_*` settings (`cache::tls`), falling back to
/// `REDIS_SSL*` likewise.
fn redis_target(
    s: &Map<String, Value>,
    env: &dyn Fn(&str) -> Option<String>,
) -> PyResult<RedisTarget> {
    let env_text = |name: &str| env(name).filter(|v| !v.is_empty());
    let host = text(s.get("host"));
    let url = text(s.get("url")).or_else(|| {
        if host.is_none() {
            env_text("REDIS_URL")
        } else {
            None
        }
    });
    let mut info = if let Some(url) = &url {
        redis::IntoConnectionInfo::into_connection_info(url.as_str()).map_err(|_| {
            // The URL may hold a password: do not echo it.
            PyValueError::new_err(
                "Cache(type='redis'): url is not a valid Redis URL (redis[s]://[[user]:password@]host:port[/db])",
            )
        })?
    } else {
        let Some(host) = host.or_else(|| env_text("REDIS_HOST")) else {
            return Err(PyValueError::new_err(
                "Cache(type='redis') needs host= and port= (or url=), or the REDIS_HOST / REDIS_PORT / REDIS_URL environment variables",
            ));
        };
        let port = text(s.get("port"))
            .or_else(|| env_text("REDIS_PORT"))
            .unwrap_or_else(|| "6379".into());
        let port: u16 = port.parse().map_err(|_| {
            PyValueError::new_err(format!(
                "Cache(type='redis'): port must be a port number, got {port:?}"
            ))
        })?;
        redis::ConnectionInfo {
            addr: redis::ConnectionAddr::Tcp(host, port),
            redis: redis::RedisConnectionInfo::default(),
        }
    };
    if let Some(p) = text(s.get("password")).or_else(|| env_text("REDIS_PASSWORD")) {
        info.redis.password = Some(p);
    }
    if let Some(u) = text(s.get("username")) {
        info.redis.username = Some(u);
    }
    match s.get("db") {
        None | Some(Value::Null) => {}
        Some(v) => {
            info.redis.db = text(Some(v))
                .and_then(|d| d.parse::<i64>().ok())
                .ok_or_else(|| {
                    PyValueError::new_err("Cache(type='redis'): db must be an integer")
                })?
        }
    }
    let tls = resolve_tls(&mut info, url.as_deref(), s, env)
        .map_err(|e| PyValueError::new_err(format!("Cache(type='redis'): Redis TLS: {e}")))?;
    Ok(RedisTarget { info, tls })
}

/// What one call does with the cache (`ResponseCache.plan`).
#[pyclass(module = "rustllm._core", name = "CachePlan", frozen)]
pub struct PyCachePlan {
    inner: CachePlan,
}

#[pymethods]
impl PyCachePlan {
    /// The cache key (LiteLLM's sha256, `namespace:`-prefixed when there is one).
    #[getter]
    fn key(&self) -> &str {
        &self.inner.key
    }

    /// Whether the call looks the key up.
    #[getter]
    fn read(&self) -> bool {
        self.inner.read
    }

    /// Whether the call's reply is stored.
    #[getter]
    fn write(&self) -> bool {
        self.inner.write
    }

    /// Seconds the stored entry lives, or None.
    #[getter]
    fn ttl(&self) -> Option<f64> {
        self.inner.ttl.map(|t| t.as_secs_f64())
    }

    /// A plan that reads and writes `key` directly (`Cache.add_cache` / `get_cache`):
    /// the entry lives `ttl` seconds, else the cache's default.
    #[staticmethod]
    #[pyo3(signature = (key, ttl, cache))]
    fn for_key(key: String, ttl: Option<f64>, cache: &Bound<'_, PyResponseCache>) -> PyCachePlan {
        let cache = cache.get();
        let ttl = ttl
            .filter(|t| t.is_finite() && *t > 0.0)
            .map(crate::time::saturating_secs)
            .or(cache.inner.settings.ttl)
            .or(if cache.is_memory() {
                Some(DEFAULT_MEMORY_TTL)
            } else {
                None
            });
        PyCachePlan {
            inner: CachePlan {
                key,
                read: true,
                write: true,
                ttl,
                max_age: None,
            },
        }
    }
}

/// A response cache in memory or in Redis.
#[pyclass(module = "rustllm._core", name = "ResponseCache", frozen)]
pub struct PyResponseCache {
    inner: Arc<ResponseCache>,
    address: Option<String>,
}

impl PyResponseCache {
    fn is_memory(&self) -> bool {
        !self.inner.is_redis()
    }
}

fn body_map(body: &Bound<'_, PyDict>) -> PyResult<Map<String, Value>> {
    match to_value(body.as_any(), "response")? {
        Value::Object(m) => Ok(m),
        _ => Ok(Map::new()),
    }
}

#[pymethods]
impl PyResponseCache {
    /// `settings`: `type` (`"local"` or `"redis"`), `host`, `port`, `password`,
    /// `username`, `db`, `url`, `ttl`, `default_in_memory_ttl`, `default_in_redis_ttl`,
    /// `namespace`, `mode`, `supported_call_types`, `max_size_in_memory`, and redis-py's
    /// TLS settings `ssl`, `ssl_cert_reqs`, `ssl_check_hostname`, `ssl_ca_certs`,
    /// `ssl_certfile`, `ssl_keyfile`. Raises `ValueError` for a bad setting or an
    /// unusable certificate file; nothing connects to Redis before the first call.
    #[new]
    fn new(settings: &Bound<'_, PyDict>) -> PyResult<Self> {
        let map = match to_value(settings.as_any(), "Cache settings")? {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let redis = match map.get("type").and_then(Value::as_str) {
            None | Some("local") => false,
            Some("redis") => true,
            Some(other) => {
                return Err(PyValueError::new_err(format!(
                    "rustllm.Cache supports type='local' and type='redis', not {other:?}"
                )))
            }
        };
        let cache_settings = CacheSettings::from_kwargs(&map, redis)
            .map_err(|e| PyValueError::new_err(e.message))?;
        if !redis {
            return Ok(PyResponseCache {
                inner: Arc::new(ResponseCache::memory(cache_settings)),
                address: None,
            });
        }
        let target = redis_target(&map, &|name| std::env::var(name).ok())?;
        let address = target.address();
        let link = RedisLink::open(target).map_err(|e| {
            PyValueError::new_err(format!(
                "Cache(type='redis'): cannot use Redis at {address}: {e}"
            ))
        })?;
        let sink: EventSink = Arc::new(log_event);
        link.set_sink(sink);
        Ok(PyResponseCache {
            inner: Arc::new(ResponseCache::redis(link, cache_settings)),
            address: Some(address),
        })
    }

    /// `"local"` or `"redis"`.
    #[getter]
    fn kind(&self) -> &'static str {
        if self.is_memory() {
            "local"
        } else {
            "redis"
        }
    }

    /// `host:port` of the Redis, or None for the in-memory store.
    #[getter]
    fn redis_address(&self) -> Option<String> {
        self.address.clone()
    }

    /// How a call of `call_type` (`completion`, `acompletion`, `embedding`, ...) with
    /// these keyword arguments uses the cache, or None when it neither reads nor writes.
    /// `model` replaces the call's model in the key.
    #[pyo3(signature = (call_type, kwargs, model=None))]
    fn plan(
        &self,
        call_type: &str,
        kwargs: &Bound<'_, PyDict>,
        model: Option<&str>,
    ) -> PyResult<Option<PyCachePlan>> {
        let map = plan_kwargs(kwargs)?;
        let model = match model {
            Some(m) => m.to_string(),
            None => map
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        };
        Ok(self
            .inner
            .plan(call_type, &map, &model)
            .map(|inner| PyCachePlan { inner }))
    }

    /// The stored response body for `plan`, or None. Blocks on Redis with the GIL released.
    fn get<'py>(
        &self,
        py: Python<'py>,
        plan: &Bound<'py, PyCachePlan>,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let plan = plan.get().inner.clone();
        let cache = self.inner.clone();
        let found = if self.is_memory() {
            cache.get(&plan).now_or_never().flatten()
        } else {
            block_on(py, async move { Ok(cache.get(&plan).await) })?
        };
        found.map(|body| map_to_py(py, &body)).transpose()
    }

    /// Store `body` under `plan` (when the plan writes).
    fn put(
        &self,
        py: Python<'_>,
        plan: &Bound<'_, PyCachePlan>,
        body: &Bound<'_, PyDict>,
    ) -> PyResult<()> {
        let plan = plan.get().inner.clone();
        if !plan.write {
            return Ok(());
        }
        let body = body_map(body)?;
        let cache = self.inner.clone();
        if self.is_memory() {
            let _ = cache.put(&plan, &body).now_or_never();
            return Ok(());
        }
        block_on(py, async move {
            cache.put(&plan, &body).await;
            Ok(())
        })
    }

    /// `get` resolving `future` on the loop that owns `waker`.
    fn get_submit(
        &self,
        py: Python<'_>,
        plan: &Bound<'_, PyCachePlan>,
        waker: &Bound<'_, LoopWaker>,
        future: Py<PyAny>,
    ) -> PyResult<()> {
        let plan = plan.get().inner.clone();
        let cache = self.inner.clone();
        waker.get().spawn(
            py,
            future,
            Box::pin(async move {
                let found = cache.get(&plan).await;
                let convert: Convert = Box::new(move |py| match found {
                    Some(body) => Ok(map_to_py(py, &body)?.into_any().unbind()),
                    None => Ok(py.None()),
                });
                convert
            }),
        )
    }

    /// `put` resolving `future` (to None) on the loop that owns `waker`.
    fn put_submit(
        &self,
        py: Python<'_>,
        plan: &Bound<'_, PyCachePlan>,
        body: &Bound<'_, PyDict>,
        waker: &Bound<'_, LoopWaker>,
        future: Py<PyAny>,
    ) -> PyResult<()> {
        let plan = plan.get().inner.clone();
        let body = body_map(body)?;
        let cache = self.inner.clone();
        waker.get().spawn(
            py,
            future,
            Box::pin(async move {
                cache.put(&plan, &body).await;
                let convert: Convert = Box::new(|py| Ok(py.None()));
                convert
            }),
        )
    }

    /// Drop every entry of the in-memory store (Redis entries expire by their ttl).
    fn clear(&self) {
        let _ = self.inner.clear().now_or_never();
    }
}

/// LiteLLM's cache key for these keyword arguments (`Cache.get_cache_key`).
#[pyfunction]
#[pyo3(signature = (kwargs, model=None, namespace=None))]
fn cache_key_of(
    kwargs: &Bound<'_, PyDict>,
    model: Option<&str>,
    namespace: Option<&str>,
) -> PyResult<String> {
    let map = plan_kwargs(kwargs)?;
    Ok(cache_key(&map, model, namespace))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyResponseCache>()?;
    m.add_class::<PyCachePlan>()?;
    m.add_function(wrap_pyfunction!(cache_key_of, m)?)?;
    Ok(())
}
