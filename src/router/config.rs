//! The Router's configuration: LiteLLM's constructor arguments and `model_list`, checked
//! once at construction so a bad configuration fails there, not on the first call.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::sensitive::SensitivePolicy;
use crate::cache::CacheSettings;
use crate::error::{ErrorKind, LlmError};
use crate::types::{parse_timeout, type_name};

/// How a deployment is chosen within a model group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    SimpleShuffle,
    LeastBusy,
    LatencyBased,
    CostBased,
    UsageBased,
    UsageBasedV2,
}

impl Strategy {
    pub fn parse(name: &str) -> Result<Strategy, LlmError> {
        Ok(match name {
            "simple-shuffle" => Strategy::SimpleShuffle,
            "least-busy" => Strategy::LeastBusy,
            "latency-based-routing" => Strategy::LatencyBased,
            "cost-based-routing" => Strategy::CostBased,
            "usage-based-routing" => Strategy::UsageBased,
            "usage-based-routing-v2" => Strategy::UsageBasedV2,
            other => {
                return Err(config_error(format!(
                    "routing_strategy={other:?} is not one of \"simple-shuffle\", \"least-busy\", \"latency-based-routing\", \"cost-based-routing\", \"usage-based-routing\", \"usage-based-routing-v2\""
                )))
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Strategy::SimpleShuffle => "simple-shuffle",
            Strategy::LeastBusy => "least-busy",
            Strategy::LatencyBased => "latency-based-routing",
            Strategy::CostBased => "cost-based-routing",
            Strategy::UsageBased => "usage-based-routing",
            Strategy::UsageBasedV2 => "usage-based-routing-v2",
        }
    }
}

/// One deployment: a model on one endpoint, member of a model group.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub id: String,
    /// Whether `id` came from `model_info.id` (else it is derived from the params).
    pub explicit_id: bool,
    /// The model group (`model_name`).
    pub group: String,
    /// `litellm_params`: passed to the call (the request's own arguments win).
    pub params: Map<String, Value>,
    pub model_info: Map<String, Value>,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    pub weight: Option<f64>,
    pub order: Option<i64>,
    pub max_parallel_requests: Option<usize>,
    pub cooldown_time: Option<Duration>,
    pub tags: Vec<String>,
    pub input_cost_per_token: Option<f64>,
    pub output_cost_per_token: Option<f64>,
    pub timeout: Option<Duration>,
    pub stream_timeout: Option<Duration>,
    pub num_retries: Option<u32>,
    /// `model_info.max_input_tokens`, for pre-call context-window checks.
    pub max_input_tokens: Option<u64>,
    /// `model_info.data_residency` (`local`, `eu`, ...): whether the deployment may serve
    /// sensitive calls ([`super::sensitive`]).
    pub data_residency: Option<String>,
    /// Price per token (input + output) for cost-based routing, looked up on first use.
    pub price: std::sync::OnceLock<f64>,
}

/// Per-exception-type retry counts (`RetryPolicy`) or allowed failures (`AllowedFailsPolicy`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerErrorCounts {
    pub bad_request: Option<u32>,
    pub authentication: Option<u32>,
    pub timeout: Option<u32>,
    pub rate_limit: Option<u32>,
    pub content_policy: Option<u32>,
    pub internal_server: Option<u32>,
}

impl PerErrorCounts {
    fn parse(v: &Value, suffix: &str, what: &str) -> Result<Option<PerErrorCounts>, LlmError> {
        let map = match v {
            Value::Null => return Ok(None),
            Value::Object(m) => m,
            other => {
                return Err(config_error(format!(
                    "{what} must be a dict, got {}",
                    type_name(other)
                )))
            }
        };
        let mut out = PerErrorCounts::default();
        for (k, val) in map {
            if val.is_null() {
                continue;
            }
            let n = val
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    config_error(format!("{what}.{k} must be a non-negative integer"))
                })?;
            let slot = match k.strip_suffix(suffix) {
                Some("BadRequestError") => &mut out.bad_request,
                Some("AuthenticationError") => &mut out.authentication,
                Some("TimeoutError") => &mut out.timeout,
                Some("RateLimitError") => &mut out.rate_limit,
                Some("ContentPolicyViolationError") => &mut out.content_policy,
                Some("InternalServerError") => &mut out.internal_server,
                _ => return Err(config_error(format!("{what} has no field {k:?}"))),
            };
            *slot = Some(n);
        }
        Ok(Some(out))
    }

    /// The count for an error, matched as LiteLLM matches it (isinstance, in this order:
    /// a context-window error is a BadRequestError).
    pub fn for_kind(&self, kind: ErrorKind) -> Option<u32> {
        match kind {
            ErrorKind::BadRequest
            | ErrorKind::ContextWindowExceeded
            | ErrorKind::UnsupportedParams => self.bad_request,
            ErrorKind::ContentPolicyViolation => self.content_policy.or(self.bad_request),
            ErrorKind::Authentication => self.authentication,
            ErrorKind::Timeout => self.timeout,
            ErrorKind::RateLimit => self.rate_limit,
            ErrorKind::InternalServer
            | ErrorKind::ServiceUnavailable
            | ErrorKind::BadGateway
            | ErrorKind::Api => self.internal_server,
            _ => None,
        }
    }
}

/// Latency-based routing's arguments (`routing_strategy_args`).
#[derive(Debug, Clone)]
pub struct LatencyArgs {
    pub ttl: Duration,
    pub lowest_latency_buffer: f64,
    pub max_latency_list_size: usize,
}

/// Everything the Router was constructed with, resolved to LiteLLM's defaults.
#[derive(Debug, Clone)]
pub struct RouterConfig {
    pub deployments: Vec<Deployment>,
    pub strategy: Strategy,
    pub num_retries: u32,
    pub max_fallbacks: usize,
    pub timeout: Option<Duration>,
    pub stream_timeout: Option<Duration>,
    pub retry_after: Duration,
    pub allowed_fails: u32,
    /// `allowed_fails` was given explicitly (switches from the default cooldown policy).
    pub allowed_fails_set: bool,
    pub allowed_fails_policy: Option<PerErrorCounts>,
    pub cooldown_time: Duration,
    pub disable_cooldowns: bool,
    pub fallbacks: Vec<(String, Vec<String>)>,
    pub context_window_fallbacks: Vec<(String, Vec<String>)>,
    pub content_policy_fallbacks: Vec<(String, Vec<String>)>,
    pub model_group_alias: HashMap<String, (String, bool)>,
    pub default_litellm_params: Map<String, Value>,
    pub enable_pre_call_checks: bool,
    pub enable_tag_filtering: bool,
    pub default_max_parallel_requests: Option<usize>,
    pub retry_policy: Option<PerErrorCounts>,
    pub model_group_retry_policy: HashMap<String, PerErrorCounts>,
    pub latency: LatencyArgs,
    /// Window for usage-based routing (`routing_strategy_args.ttl`, 60 s).
    pub usage_ttl: Duration,
    /// Shared state (and the response cache) in Redis: `redis_url`, or `redis_host` and
    /// `redis_port`.
    pub redis: Option<RedisTarget>,
    /// The response cache's settings when `cache_responses=True`.
    pub cache: Option<CacheSettings>,
    /// Model groups that share cache entries (`caching_groups=[("g1", "g2")]`).
    pub caching_groups: Vec<Vec<String>>,
    /// Which calls are sensitive and which deployments may serve them
    /// (`sensitive_tags`, `sensitive_data_residency`).
    pub sensitive: SensitivePolicy,
}

pub use crate::cache::link::RedisTarget;

/// The Redis a Router uses, as LiteLLM's Router decides it: only when `redis_url`, or
/// `redis_host` with `redis_port`, is given (the `REDIS_*` variables alone do not turn
/// Redis on). `cache_kwargs` entries (`host`, `port`, `password`, `username`, `db`,
/// `url`) win over the arguments, as LiteLLM merges them; a missing password falls back
/// to `REDIS_PASSWORD`, as LiteLLM's RedisCache does. TLS: a `rediss://` URL or
/// `cache_kwargs["ssl"]`, with redis-py's `ssl_*` settings (see `cache::tls`), which
/// fall back to `REDIS_SSL*` the same way.
fn redis_target(
    args: &Map<String, Value>,
    cache_kwargs: &Map<String, Value>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<RedisTarget>, LlmError> {
    let get = |k: &str| args.get(k).filter(|v| !v.is_null());
    let text = |v: Option<&Value>| -> Option<String> {
        match v? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let url = text(cache_kwargs.get("url")).or_else(|| text(get("redis_url")));
    let host = text(cache_kwargs.get("host")).or_else(|| text(get("redis_host")));
    let port = text(cache_kwargs.get("port")).or_else(|| text(get("redis_port")));
    let password = text(cache_kwargs.get("password"))
        .or_else(|| text(get("redis_password")))
        .or_else(|| env("REDIS_PASSWORD").filter(|p| !p.is_empty()));
    let username = text(cache_kwargs.get("username"));
    let db = match cache_kwargs.get("db") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            text(Some(v))
                .and_then(|d| d.parse::<i64>().ok())
                .ok_or_else(|| config_error("cache_kwargs['db'] must be an integer"))?,
        ),
    };
    let mut info = if let Some(url) = &url {
        redis::IntoConnectionInfo::into_connection_info(url.as_str()).map_err(|_| {
            // The URL may hold a password: do not echo it.
            config_error(
                "redis_url is not a valid Redis URL (redis[s]://[[user]:password@]host:port[/db])",
            )
        })?
    } else {
        match (host, port) {
            (Some(host), Some(port)) => {
                let port: u16 = port.parse().map_err(|_| {
                    config_error(format!("redis_port must be a port number, got {port:?}"))
                })?;
                let mut info = redis::ConnectionInfo {
                    addr: redis::ConnectionAddr::Tcp(host, port),
                    redis: redis::RedisConnectionInfo::default(),
                };
                info.redis.password = password;
                info
            }
            _ => return Ok(None),
        }
    };
    if let Some(u) = username {
        info.redis.username = Some(u);
    }
    if let Some(db) = db {
        info.redis.db = db;
    }
    let tls = crate::cache::tls::resolve(&mut info, url.as_deref(), cache_kwargs, env)
        .map_err(|e| config_error(format!("Redis TLS: {e}")))?;
    Ok(Some(RedisTarget { info, tls }))
}

/// An invalid Router configuration: a `ValueError` raised by the constructor.
pub fn config_error(message: impl Into<String>) -> LlmError {
    LlmError::new(ErrorKind::Value, message)
}

fn opt_u64(params: &Map<String, Value>, key: &str, where_: &str) -> Result<Option<u64>, LlmError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| {
                v.as_f64()
                    .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or_else(|| {
                config_error(format!(
                    "{where_}: {key} must be a non-negative integer, got {v}"
                ))
            }),
    }
}

fn opt_f64(params: &Map<String, Value>, key: &str, where_: &str) -> Result<Option<f64>, LlmError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(Some)
            .ok_or_else(|| {
                config_error(format!(
                    "{where_}: {key} must be a non-negative number, got {v}"
                ))
            }),
    }
}

/// LiteLLM's deployment id when `model_info.id` is missing: the sha256 hex of the model
/// group followed by each `litellm_params` key and value (dicts JSON-dumped, others `str()`).
pub fn deployment_id(group: &str, params: &Map<String, Value>) -> String {
    let mut h = Sha256::new();
    h.update(group.as_bytes());
    for (k, v) in params {
        h.update(k.as_bytes());
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Null => "None".into(),
            other => other.to_string(),
        };
        h.update(text.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Identical deployments are allowed (LiteLLM accepts them, e.g. two entries of the same
/// model to double its share of traffic). LiteLLM gives them one derived id, so a cooldown
/// or `get_deployment` cannot tell them apart; rustllm keeps the first one's id and gives
/// each later copy `<id>-<n>`. Ids the caller chose must be unique.
fn unique_ids(deployments: &mut [Deployment]) -> Result<(), LlmError> {
    let mut seen = std::collections::HashSet::new();
    for d in deployments.iter_mut() {
        if seen.contains(&d.id) {
            if d.explicit_id {
                return Err(config_error(format!(
                    "model_list has two deployments with id {:?}; ids must be unique",
                    d.id
                )));
            }
            let id = (1..)
                .map(|n| format!("{}-{n}", d.id))
                .find(|id| !seen.contains(id))
                .unwrap_or_default();
            d.model_info.insert("id".into(), Value::String(id.clone()));
            d.id = id;
        }
        seen.insert(d.id.clone());
    }
    Ok(())
}

fn parse_deployment(i: usize, entry: &Value) -> Result<Deployment, LlmError> {
    let where_ = format!("model_list[{i}]");
    let Value::Object(entry) = entry else {
        return Err(config_error(format!(
            "{where_} must be a dict with 'model_name' and 'litellm_params', got {}",
            type_name(entry)
        )));
    };
    let group = match entry.get("model_name") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(config_error(format!(
                "{where_}: 'model_name' (the model group) must be a non-empty string"
            )))
        }
    };
    let mut params = match entry.get("litellm_params") {
        Some(Value::Object(p)) => p.clone(),
        _ => {
            return Err(config_error(format!(
                "{where_}: 'litellm_params' must be a dict with at least 'model'"
            )))
        }
    };
    match params.get("model") {
        Some(Value::String(m)) if !m.is_empty() => {}
        _ => {
            return Err(config_error(format!(
                "{where_}: litellm_params.model must be a non-empty string like \"openai/gpt-4o\""
            )))
        }
    }
    let mut model_info = match entry.get("model_info") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => {
            return Err(config_error(format!(
                "{where_}: model_info must be a dict, got {}",
                type_name(other)
            )))
        }
    };
    // rpm/tpm may sit beside litellm_params too (LiteLLM accepts both).
    for key in ["rpm", "tpm"] {
        if let Some(v) = entry.get(key).filter(|v| !v.is_null()) {
            params.entry(key.to_string()).or_insert_with(|| v.clone());
        }
    }
    let (id, explicit_id) = match model_info.get("id") {
        Some(Value::String(id)) if !id.is_empty() => (id.clone(), true),
        Some(Value::Number(n)) => (n.to_string(), true),
        _ => (deployment_id(&group, &params), false),
    };
    model_info.insert("id".into(), Value::String(id.clone()));
    let tags = match params.get("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(t)) => t
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(other) => {
            return Err(config_error(format!(
                "{where_}: tags must be a list of strings, got {}",
                type_name(other)
            )))
        }
    };
    let timeout = match params
        .get("timeout")
        .or_else(|| params.get("request_timeout"))
    {
        Some(v) => parse_timeout(v, "timeout")
            .map_err(|e| config_error(format!("{where_}: {}", e.message)))?,
        None => None,
    };
    let stream_timeout = match params.get("stream_timeout") {
        Some(v) => parse_timeout(v, "stream_timeout")
            .map_err(|e| config_error(format!("{where_}: {}", e.message)))?,
        None => None,
    };
    let cooldown_time = match params.get("cooldown_time") {
        Some(v) if !v.is_null() => Some(
            v.as_f64()
                .and_then(|f| Duration::try_from_secs_f64(f).ok())
                .ok_or_else(|| {
                    config_error(format!(
                        "{where_}: cooldown_time must be a non-negative number of seconds, got {v}"
                    ))
                })?,
        ),
        _ => None,
    };
    let max_input_tokens = opt_u64(&model_info, "max_input_tokens", &where_)?;
    let data_residency = match model_info.get("data_residency") {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) if !r.is_empty() => Some(r.clone()),
        Some(other) => {
            let got = if other.is_string() {
                "an empty string"
            } else {
                type_name(other)
            };
            return Err(config_error(format!(
                "{where_}: model_info.data_residency must be a non-empty string like \"local\", got {got}"
            )));
        }
    };
    Ok(Deployment {
        id,
        rpm: opt_u64(&params, "rpm", &where_)?,
        tpm: opt_u64(&params, "tpm", &where_)?,
        weight: opt_f64(&params, "weight", &where_)?,
        order: params.get("order").and_then(Value::as_i64),
        max_parallel_requests: opt_u64(&params, "max_parallel_requests", &where_)?
            .map(|n| n as usize),
        cooldown_time,
        tags,
        input_cost_per_token: opt_f64(&params, "input_cost_per_token", &where_)?,
        output_cost_per_token: opt_f64(&params, "output_cost_per_token", &where_)?,
        timeout,
        stream_timeout,
        num_retries: opt_u64(&params, "num_retries", &where_)?.map(|n| n as u32),
        max_input_tokens,
        data_residency,
        price: std::sync::OnceLock::new(),
        explicit_id,
        group,
        params,
        model_info,
    })
}

fn parse_fallbacks(v: &Value, name: &str) -> Result<Vec<(String, Vec<String>)>, LlmError> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        Value::Object(_) => std::slice::from_ref(v),
        other => {
            return Err(config_error(format!(
                "{name} must be a list like [{{\"gpt-4\": [\"gpt-3.5\"]}}], got {}",
                type_name(other)
            )))
        }
    };
    let mut out = Vec::new();
    for item in items {
        let Value::Object(m) = item else {
            return Err(config_error(format!(
                "{name} entries must be dicts mapping a model group to a list of groups"
            )));
        };
        for (group, targets) in m {
            let targets = match targets {
                Value::Array(t) => t
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
                Value::String(s) => vec![s.clone()],
                _ => {
                    return Err(config_error(format!(
                        "{name}[{group:?}] must be a list of model groups"
                    )))
                }
            };
            out.push((group.clone(), targets));
        }
    }
    Ok(out)
}

fn duration_secs(v: Option<&Value>, name: &str) -> Result<Option<Duration>, LlmError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        // try_from: a finite number of seconds too large for a Duration is refused too.
        Some(v) => match v.as_f64().and_then(|s| Duration::try_from_secs_f64(s).ok()) {
            Some(d) => Ok(Some(d)),
            _ => Err(config_error(format!(
                "{name} must be a non-negative number of seconds, got {v}"
            ))),
        },
    }
}

/// Every argument [`RouterConfig::from_json`] reads (besides `model_list`): the Router
/// settings rustllm implements. The proxy reads `router_settings` against this list and
/// reports the rest as ignored.
pub const ROUTER_ARGS: &[&str] = &[
    "allowed_fails",
    "allowed_fails_policy",
    "cache_kwargs",
    "cache_responses",
    "caching_groups",
    "content_policy_fallbacks",
    "context_window_fallbacks",
    "cooldown_time",
    "default_fallbacks",
    "default_litellm_params",
    "default_max_parallel_requests",
    "disable_cooldowns",
    "enable_pre_call_checks",
    "enable_tag_filtering",
    "fallbacks",
    "ignore_invalid_deployments",
    "max_fallbacks",
    "model_group_alias",
    "model_group_retry_policy",
    "num_retries",
    "redis_host",
    "redis_password",
    "redis_port",
    "redis_url",
    "retry_after",
    "retry_policy",
    "routing_strategy",
    "routing_strategy_args",
    "sensitive_data_residency",
    "sensitive_tags",
    "stream_timeout",
    "timeout",
];

impl RouterConfig {
    /// Build from the constructor's keyword arguments (a JSON object). With
    /// `ignore_invalid_deployments`, a bad `model_list` entry is skipped instead of failing.
    pub fn from_json(args: &Map<String, Value>) -> Result<(RouterConfig, Vec<String>), LlmError> {
        let get = |k: &str| args.get(k).filter(|v| !v.is_null());
        let ignore_invalid = get("ignore_invalid_deployments")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut deployments = Vec::new();
        let mut skipped = Vec::new();
        match get("model_list") {
            None => {}
            Some(Value::Array(list)) => {
                for (i, entry) in list.iter().enumerate() {
                    match parse_deployment(i, entry) {
                        Ok(d) => deployments.push(d),
                        Err(e) if ignore_invalid => skipped.push(e.message),
                        Err(e) => return Err(e),
                    }
                }
            }
            Some(other) => {
                return Err(config_error(format!(
                    "model_list must be a list of deployments, got {}",
                    type_name(other)
                )))
            }
        }
        unique_ids(&mut deployments)?;
        let strategy = match get("routing_strategy") {
            None => Strategy::SimpleShuffle,
            Some(Value::String(s)) => Strategy::parse(s)?,
            Some(other) => {
                return Err(config_error(format!(
                    "routing_strategy must be a string, got {}",
                    type_name(other)
                )))
            }
        };
        let count = |k: &str| -> Result<Option<u32>, LlmError> {
            match get(k) {
                None => Ok(None),
                Some(v) => v
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .map(Some)
                    .ok_or_else(|| {
                        config_error(format!("{k} must be a non-negative integer, got {v}"))
                    }),
            }
        };
        let num_retries = count("num_retries")?.unwrap_or(2);
        let max_fallbacks = count("max_fallbacks")?.unwrap_or(5) as usize;
        let allowed_fails_arg = count("allowed_fails")?;
        let mut fallbacks = parse_fallbacks(get("fallbacks").unwrap_or(&Value::Null), "fallbacks")?;
        if let Some(defaults) = get("default_fallbacks") {
            let targets: Vec<String> = match defaults {
                Value::Array(t) => t
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
                _ => {
                    return Err(config_error(
                        "default_fallbacks must be a list of model groups",
                    ))
                }
            };
            fallbacks.push(("*".to_string(), targets));
        }
        let mut model_group_alias = HashMap::new();
        if let Some(Value::Object(aliases)) = get("model_group_alias") {
            for (alias, target) in aliases {
                let (group, hidden) = match target {
                    Value::String(g) => (g.clone(), false),
                    Value::Object(o) => (
                        o.get("model").and_then(Value::as_str).map(str::to_string).ok_or_else(|| {
                            config_error(format!("model_group_alias[{alias:?}] needs a 'model'"))
                        })?,
                        o.get("hidden").and_then(Value::as_bool).unwrap_or(false),
                    ),
                    _ => return Err(config_error(format!("model_group_alias[{alias:?}] must be a group name or {{\"model\": ..., \"hidden\": ...}}"))),
                };
                model_group_alias.insert(alias.clone(), (group, hidden));
            }
        }
        let mut model_group_retry_policy = HashMap::new();
        if let Some(Value::Object(policies)) = get("model_group_retry_policy") {
            for (group, policy) in policies {
                if let Some(p) =
                    PerErrorCounts::parse(policy, "Retries", "model_group_retry_policy")?
                {
                    model_group_retry_policy.insert(group.clone(), p);
                }
            }
        }
        let args_map = match get("routing_strategy_args") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        let latency = LatencyArgs {
            ttl: duration_secs(args_map.get("ttl"), "routing_strategy_args.ttl")?
                .unwrap_or(Duration::from_secs(3600)),
            lowest_latency_buffer: args_map
                .get("lowest_latency_buffer")
                .and_then(Value::as_f64)
                .unwrap_or(0.0),
            max_latency_list_size: args_map
                .get("max_latency_list_size")
                .and_then(Value::as_u64)
                .unwrap_or(10)
                .max(1) as usize,
        };
        let usage_ttl = duration_secs(args_map.get("ttl"), "routing_strategy_args.ttl")?
            .unwrap_or(Duration::from_secs(60));
        let default_litellm_params = match get("default_litellm_params") {
            Some(Value::Object(m)) => m.clone(),
            None => Map::new(),
            Some(other) => {
                return Err(config_error(format!(
                    "default_litellm_params must be a dict, got {}",
                    type_name(other)
                )))
            }
        };
        let timeout = match get("timeout") {
            Some(v) => parse_timeout(v, "timeout")?,
            None => None,
        };
        let stream_timeout = match get("stream_timeout") {
            Some(v) => parse_timeout(v, "stream_timeout")?,
            None => None,
        };
        let cache_kwargs = match get("cache_kwargs") {
            None => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => {
                return Err(config_error(format!(
                    "cache_kwargs must be a dict, got {}",
                    type_name(other)
                )))
            }
        };
        let redis = redis_target(args, &cache_kwargs, &|name| std::env::var(name).ok())?;
        let cache = if get("cache_responses").and_then(Value::as_bool) == Some(true) {
            Some(CacheSettings::from_kwargs(&cache_kwargs, redis.is_some())?)
        } else {
            None
        };
        let caching_groups = match get("caching_groups") {
            None => Vec::new(),
            Some(Value::Array(groups)) => groups
                .iter()
                .map(|g| match g {
                    Value::Array(names) => Ok(names
                        .iter()
                        .filter_map(|n| n.as_str().map(str::to_string))
                        .collect()),
                    _ => Err(config_error(
                        "caching_groups must be a list of tuples of model groups, like [(\"g1\", \"g2\")]",
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(config_error(format!(
                    "caching_groups must be a list of tuples of model groups, got {}",
                    type_name(other)
                )))
            }
        };
        let config = RouterConfig {
            deployments,
            strategy,
            num_retries,
            max_fallbacks,
            timeout,
            stream_timeout,
            retry_after: duration_secs(get("retry_after"), "retry_after")?
                .unwrap_or(Duration::ZERO),
            allowed_fails: allowed_fails_arg.unwrap_or(3),
            allowed_fails_set: allowed_fails_arg.is_some(),
            allowed_fails_policy: PerErrorCounts::parse(
                get("allowed_fails_policy").unwrap_or(&Value::Null),
                "AllowedFails",
                "allowed_fails_policy",
            )?,
            cooldown_time: duration_secs(get("cooldown_time"), "cooldown_time")?
                .unwrap_or(Duration::from_secs(5)),
            disable_cooldowns: get("disable_cooldowns")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            fallbacks,
            context_window_fallbacks: parse_fallbacks(
                get("context_window_fallbacks").unwrap_or(&Value::Null),
                "context_window_fallbacks",
            )?,
            content_policy_fallbacks: parse_fallbacks(
                get("content_policy_fallbacks").unwrap_or(&Value::Null),
                "content_policy_fallbacks",
            )?,
            model_group_alias,
            default_litellm_params,
            enable_pre_call_checks: get("enable_pre_call_checks")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            enable_tag_filtering: get("enable_tag_filtering")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            default_max_parallel_requests: count("default_max_parallel_requests")?
                .map(|n| n as usize),
            retry_policy: PerErrorCounts::parse(
                get("retry_policy").unwrap_or(&Value::Null),
                "Retries",
                "retry_policy",
            )?,
            model_group_retry_policy,
            latency,
            usage_ttl,
            redis,
            cache,
            caching_groups,
            sensitive: SensitivePolicy::from_args(
                get("sensitive_tags"),
                get("sensitive_data_residency"),
            )?,
        };
        Ok((config, skipped))
    }

    /// The fallback list configured for `group` in `list` (`"*"` as the catch-all).
    pub fn fallbacks_for<'a>(
        list: &'a [(String, Vec<String>)],
        group: &str,
    ) -> Option<&'a [String]> {
        list.iter()
            .find(|(g, _)| g == group)
            .or_else(|| list.iter().find(|(g, _)| g == "*"))
            .map(|(_, t)| t.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(v: Value) -> Result<(RouterConfig, Vec<String>), LlmError> {
        match v {
            Value::Object(m) => RouterConfig::from_json(&m),
            _ => Err(config_error("not a dict")),
        }
    }

    #[test]
    fn defaults_are_litellms() {
        let (c, _) = cfg(
            json!({"model_list": [{"model_name": "g", "litellm_params": {"model": "openai/m"}}]}),
        )
        .unwrap();
        assert_eq!(c.strategy, Strategy::SimpleShuffle);
        assert_eq!((c.num_retries, c.max_fallbacks, c.allowed_fails), (2, 5, 3));
        assert_eq!(c.cooldown_time, Duration::from_secs(5));
        assert_eq!(c.deployments[0].id.len(), 64);
        assert_eq!(
            c.deployments[0].model_info["id"],
            json!(c.deployments[0].id)
        );
    }

    #[test]
    fn invalid_configurations_fail_clearly() {
        let cases = [
            (
                json!({"model_list": [{"litellm_params": {"model": "m"}}]}),
                "model_name",
            ),
            (
                json!({"model_list": [{"model_name": "g"}]}),
                "litellm_params",
            ),
            (
                json!({"model_list": [{"model_name": "g", "litellm_params": {}}]}),
                "litellm_params.model",
            ),
            (
                json!({"model_list": [{"model_name": "g", "litellm_params": {"model": "m", "rpm": -1}}]}),
                "rpm",
            ),
            (json!({"model_list": "x"}), "model_list must be a list"),
            (json!({"routing_strategy": "fastest"}), "routing_strategy"),
            (
                json!({"routing_strategy_args": {"ttl": 1e30}}),
                "routing_strategy_args.ttl",
            ),
            (json!({"cooldown_time": 1e300}), "cooldown_time"),
            (
                json!({"model_list": [{"model_name": "g", "litellm_params": {"model": "m", "cooldown_time": 1e30}}]}),
                "cooldown_time",
            ),
            (json!({"fallbacks": [["a"]]}), "fallbacks"),
            (
                json!({"retry_policy": {"NopeRetries": 1}}),
                "retry_policy has no field",
            ),
            (
                json!({"model_list": [
                    {"model_name": "g", "litellm_params": {"model": "m"}, "model_info": {"id": "x"}},
                    {"model_name": "h", "litellm_params": {"model": "m"}, "model_info": {"id": "x"}}
                ]}),
                "ids must be unique",
            ),
        ];
        for (input, needle) in cases {
            let err = cfg(input.clone()).err().unwrap();
            assert!(err.message.contains(needle), "{input}: {}", err.message);
        }
    }

    #[test]
    fn ignore_invalid_deployments_skips() {
        let (c, skipped) = cfg(json!({"ignore_invalid_deployments": true, "model_list": [
            {"model_name": "g", "litellm_params": {"model": "openai/m"}},
            {"model_name": "bad"}
        ]}))
        .unwrap();
        assert_eq!(c.deployments.len(), 1);
        assert_eq!(skipped.len(), 1);
    }

    #[test]
    fn fallbacks_and_aliases() {
        let (c, _) = cfg(json!({
            "fallbacks": [{"a": ["b", "c"]}], "default_fallbacks": ["z"],
            "model_group_alias": {"x": "a", "y": {"model": "b", "hidden": true}},
            "retry_policy": {"RateLimitErrorRetries": 4, "BadRequestErrorRetries": 0}
        }))
        .unwrap();
        assert_eq!(
            RouterConfig::fallbacks_for(&c.fallbacks, "a"),
            Some(&["b".to_string(), "c".to_string()][..])
        );
        assert_eq!(
            RouterConfig::fallbacks_for(&c.fallbacks, "q"),
            Some(&["z".to_string()][..])
        );
        assert_eq!(c.model_group_alias["y"], ("b".to_string(), true));
        let rp = c.retry_policy.unwrap();
        assert_eq!(rp.for_kind(ErrorKind::RateLimit), Some(4));
        assert_eq!(rp.for_kind(ErrorKind::ContextWindowExceeded), Some(0));
    }

    #[test]
    fn identical_deployments_get_distinct_ids_the_first_keeping_litellms() {
        let entry = json!({"model_name": "g", "litellm_params": {"model": "openai/m"}});
        let (c, _) = cfg(json!({"model_list": [entry, entry, entry]})).unwrap();
        let ids: Vec<&str> = c.deployments.iter().map(|d| d.id.as_str()).collect();
        let params = json!({"model": "openai/m"}).as_object().cloned().unwrap();
        let first = deployment_id("g", &params);
        assert_eq!(
            ids,
            [first.clone(), format!("{first}-1"), format!("{first}-2")]
        );
        assert_eq!(
            c.deployments[1].model_info["id"],
            json!(format!("{first}-1"))
        );
    }

    #[test]
    fn deployment_ids_are_stable_sha256() {
        let mut p = Map::new();
        p.insert("model".into(), json!("openai/m"));
        let a = deployment_id("g", &p);
        assert_eq!(a, deployment_id("g", &p));
        assert_ne!(a, deployment_id("h", &p));
        // hashlib.sha256(b"gmodelopenai/m").hexdigest()
        assert_eq!(
            a,
            "508af05d92d9869c9c853f71a13190cb03fea305b1818633668d09f9958d6d6e"
        );
    }

    fn target(args: Value, env: &dyn Fn(&str) -> Option<String>) -> Result<RedisTarget, LlmError> {
        let Value::Object(args) = args else {
            unreachable!()
        };
        let kwargs = match args.get("cache_kwargs") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        redis_target(&args, &kwargs, env).map(|t| t.unwrap())
    }

    fn tls_addr(t: &RedisTarget) -> Option<(String, u16, bool)> {
        match &t.info.addr {
            redis::ConnectionAddr::TcpTls {
                host,
                port,
                insecure,
                ..
            } => Some((host.clone(), *port, *insecure)),
            _ => None,
        }
    }

    #[test]
    fn redis_tls_from_a_rediss_url_or_cache_kwargs_ssl() {
        let none = |_: &str| None;
        let t = target(
            json!({"redis_url": "rediss://:pw@cache.example:6380/2"}),
            &none,
        )
        .unwrap();
        assert_eq!(tls_addr(&t), Some(("cache.example".into(), 6380, false)));
        assert_eq!(
            (t.info.redis.password.as_deref(), t.info.redis.db),
            (Some("pw"), 2)
        );
        assert!(t
            .tls
            .as_ref()
            .is_some_and(|s| s.verify_chain && s.verify_hostname));
        assert_eq!(format!("{t:?}"), "RedisTarget(TLS cache.example:6380)");

        let t = target(
            json!({"redis_host": "h", "redis_port": 6380, "redis_password": "pw",
                   "cache_kwargs": {"ssl": true, "ssl_ca_certs": "/ca.pem",
                                    "ssl_certfile": "/c.pem", "ssl_keyfile": "/k.pem",
                                    "ssl_check_hostname": false}}),
            &none,
        )
        .unwrap();
        assert_eq!(tls_addr(&t), Some(("h".into(), 6380, false)));
        assert_eq!(t.info.redis.password.as_deref(), Some("pw"));
        let tls = t.tls.unwrap();
        assert_eq!(
            tls.ca_certs.as_deref(),
            Some(std::path::Path::new("/ca.pem"))
        );
        assert_eq!(
            tls.certfile.as_deref(),
            Some(std::path::Path::new("/c.pem"))
        );
        assert_eq!(tls.keyfile.as_deref(), Some(std::path::Path::new("/k.pem")));
        assert!(tls.verify_chain && !tls.verify_hostname);

        let t = target(
            json!({"redis_host": "h", "redis_port": 1, "cache_kwargs": {"ssl": true, "ssl_cert_reqs": null}}),
            &none,
        )
        .unwrap();
        assert_eq!(tls_addr(&t), Some(("h".into(), 1, true)));

        let t = target(json!({"redis_host": "h", "redis_port": 1}), &none).unwrap();
        assert!(t.tls.is_none() && tls_addr(&t).is_none());
    }

    #[test]
    fn redis_tls_from_the_environment_only_once_redis_is_on() {
        let env = |name: &str| match name {
            "REDIS_SSL" => Some("True".to_string()),
            "REDIS_SSL_CERT_REQS" => Some("none".to_string()),
            "REDIS_PASSWORD" => Some("envpw".to_string()),
            _ => None,
        };
        let t = target(json!({"redis_host": "h", "redis_port": 1}), &env).unwrap();
        assert_eq!(tls_addr(&t), Some(("h".into(), 1, true)));
        assert_eq!(t.info.redis.password.as_deref(), Some("envpw"));
        let Value::Object(args) = json!({}) else {
            unreachable!()
        };
        assert!(redis_target(&args, &Map::new(), &env).unwrap().is_none());
    }

    #[test]
    fn redis_tls_mistakes_are_value_errors_without_the_password() {
        let none = |_: &str| None;
        let e = target(
            json!({"redis_url": "rediss://:hunter2@h", "cache_kwargs": {"ssl_cert_reqs": "strict"}}),
            &none,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Value);
        assert!(
            e.message.contains("ssl_cert_reqs") && !e.message.contains("hunter2"),
            "{}",
            e.message
        );
        let e = target(json!({"redis_url": "rediss://:hunter2@h#secure"}), &none).unwrap_err();
        assert!(!e.message.contains("hunter2"), "{}", e.message);
    }
}
