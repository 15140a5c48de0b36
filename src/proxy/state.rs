//! `AppState`: built once at start from the config, shared by every request.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::auth::{Authenticator, MasterKey};
use super::config::{ConfigError, ProxyConfig};
use super::keys::KeyCache;
use super::limits::Limiter;
use super::ops::Ops;
use super::spend::SpendSink;
use super::store::Store;
use crate::catalogue::cost::CustomPrices;
use crate::router::config::Deployment;
use crate::router::Router;

/// rustllm's version, sent as `x-litellm-version` (clients parse it) and in readiness.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// LiteLLM's `created` for every entry of `/v1/models` (`DEFAULT_MODEL_CREATED_AT_TIME`).
const MODEL_CREATED_AT: u64 = 1677610602;

/// `litellm_params` never shown by `/model/info` or `/health` (LiteLLM's
/// `ILLEGAL_DISPLAY_PARAMS` and the credentials it strips).
pub const SECRET_PARAMS: &[&str] = &[
    "api_key",
    "vertex_credentials",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "azure_ad_token",
    "azure_password",
    "client_secret",
];

/// Request-path settings from `general_settings`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub allow_client_side_credentials: bool,
    pub max_request_bytes: usize,
    /// The limit of a multipart upload (`max_upload_size_mb`).
    pub max_upload_bytes: usize,
    pub key_header: Option<String>,
    /// Set on every request body (single-model mode); `None`: nothing is.
    pub forced_params: Option<Map<String, Value>>,
}

/// Everything a request needs.
pub struct AppState {
    pub router: Arc<Router>,
    pub auth: Arc<dyn Authenticator>,
    /// Rate limits of virtual keys, users, teams and model groups; `None` counts nothing.
    /// It costs nothing for a caller without limits (the master key, no auth).
    pub limiter: Option<Limiter>,
    /// Where spend events go; `None` builds none.
    pub spend: Option<SpendSink>,
    /// The spend writer, when spend is tracked: admin writes ask it to re-read the
    /// budgets at once, so a budget set here holds from the next request on.
    pub spend_writer: Option<super::spend::writer::SpendWriter>,
    pub settings: Settings,
    /// Every name a request may use (groups, visible aliases), sorted: for 404 messages.
    pub model_names: Vec<String>,
    /// `GET /v1/models`, built once.
    pub models_body: Bytes,
    /// `GET /model/info`, built on its first request (it reads the catalogue, which is
    /// not loaded at start to keep start-up fast and idle memory small).
    model_info_body: OnceLock<Bytes>,
    /// Deployment id → the prices its config sets (they win over the catalogue).
    pub prices: HashMap<String, CustomPrices>,
    /// Whether the Router's response cache is on, and where (`/health/readiness`).
    pub cache_type: Option<&'static str>,
    /// The database (keys, users, teams, spend); `None` in no-DB mode and in tests
    /// that build the state directly.
    pub store: Option<Store>,
    /// Metrics, request and audit logs, health results, alerts.
    pub ops: Arc<Ops>,
    /// Virtual keys in memory, when a database and a master key are configured.
    pub key_cache: Option<Arc<KeyCache>>,
    /// `model_info.access_groups`: access group → the model groups in it (a key's
    /// `models` may name an access group).
    pub access_groups: HashMap<String, Vec<String>>,
    /// The `guardrails:` of the config; `None` without any (no guardrail work at all).
    pub guardrails: Option<Arc<super::guardrails::ProxyGuardrails>>,
}

impl AppState {
    /// Build the Router and everything derived from the config. Fails for a Router
    /// configuration the Router refuses.
    pub fn new(config: &ProxyConfig) -> Result<AppState, ConfigError> {
        let router_config = config.router_config()?;
        let router = Router::new(router_config)
            .map_err(|e| ConfigError::at("", format!("cannot build the Router: {}", e.message)))?;
        Ok(AppState::with_router(router, config))
    }

    /// The state over an existing Router (tests build one directly).
    pub fn with_router(router: Arc<Router>, config: &ProxyConfig) -> AppState {
        let deployments = router.deployments();
        let mut groups: Vec<String> = Vec::new();
        for d in deployments {
            if !groups.contains(&d.group) {
                groups.push(d.group.clone());
            }
        }
        let visible_aliases: Vec<String> = router
            .config
            .model_group_alias
            .iter()
            .filter(|(_, (_, hidden))| !hidden)
            .map(|(alias, _)| alias.clone())
            .collect();
        let mut model_names: Vec<String> = groups.iter().chain(&visible_aliases).cloned().collect();
        model_names.sort();
        model_names.dedup();
        // `/v1/models` lists what a client can ask for by name: groups in config order,
        // then aliases; wildcard groups (`openai/*`, `*`) are patterns, not names.
        let mut listed: Vec<&String> = groups.iter().filter(|g| !g.contains('*')).collect();
        let mut aliases: Vec<&String> = visible_aliases.iter().collect();
        aliases.sort();
        listed.extend(aliases);
        let data: Vec<Value> = listed
            .iter()
            .map(|id| json!({"id": id, "object": "model", "created": MODEL_CREATED_AT, "owned_by": "openai"}))
            .collect();
        let models_body = to_bytes(&json!({"data": data, "object": "list"}));
        let prices = deployments
            .iter()
            .map(|d| (d.id.clone(), deployment_prices(d)))
            .collect();
        let cache_type = router
            .cache
            .as_ref()
            .map(|c| if c.is_redis() { "redis" } else { "local" });
        AppState {
            auth: Arc::new(MasterKey::new(config.master_key.as_ref())),
            // Shared through the Router's Redis when it has one (router_settings.redis_*
            // or a Redis cache_params): one connection, one outage warning.
            limiter: Some(Limiter::new(
                router.state.link().cloned(),
                config.token_rate_limit_type,
            )),
            spend: None,
            spend_writer: None,
            settings: Settings {
                allow_client_side_credentials: config.allow_client_side_credentials,
                max_request_bytes: config.max_request_bytes,
                max_upload_bytes: config.max_upload_bytes,
                key_header: config.key_header.clone(),
                forced_params: (!config.forced_params.is_empty())
                    .then(|| config.forced_params.clone()),
            },
            model_names,
            models_body,
            model_info_body: OnceLock::new(),
            prices,
            cache_type,
            store: None,
            ops: Arc::new(Ops::new(config.ops.clone(), deployments)),
            key_cache: None,
            access_groups: access_groups(deployments),
            guardrails: super::guardrails::ProxyGuardrails::new(&config.guardrails),
            router,
        }
    }
}

impl AppState {
    /// `GET /model/info`'s body.
    pub fn model_info_body(&self) -> Bytes {
        self.model_info_body
            .get_or_init(|| {
                let info: Vec<Value> = self
                    .router
                    .deployments()
                    .iter()
                    .map(model_info_entry)
                    .collect();
                to_bytes(&json!({"data": info}))
            })
            .clone()
    }
}

fn to_bytes(v: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(v).unwrap_or_default())
}

/// A deployment's `litellm_params` as shown to clients: credentials left out.
pub fn public_params(params: &Map<String, Value>) -> Map<String, Value> {
    params
        .iter()
        .filter(|(k, _)| !SECRET_PARAMS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// One `/model/info` entry: the deployment's public params and its `model_info`, with
/// the catalogue's facts (context window, prices, mode) under what the config set.
fn model_info_entry(d: &Deployment) -> Value {
    let model = d.params.get("model").and_then(Value::as_str).unwrap_or("");
    let provider = d.params.get("custom_llm_provider").and_then(Value::as_str);
    let base = d
        .model_info
        .get("base_model")
        .and_then(Value::as_str)
        .unwrap_or(model);
    let mut info = Map::new();
    if let Ok(entry) = crate::catalogue::models::model_info(base, provider) {
        for key in [
            "key",
            "max_tokens",
            "max_input_tokens",
            "max_output_tokens",
            "input_cost_per_token",
            "output_cost_per_token",
            "litellm_provider",
            "mode",
            "supports_function_calling",
            "supports_vision",
            "supports_response_schema",
        ] {
            if let Some(v) = entry.get(key) {
                info.insert(key.to_string(), v.clone());
            }
        }
    }
    for (k, v) in &d.model_info {
        info.insert(k.clone(), v.clone());
    }
    for key in ["input_cost_per_token", "output_cost_per_token"] {
        if let Some(v) = d.params.get(key) {
            info.insert(key.to_string(), v.clone());
        }
    }
    json!({
        "model_name": d.group,
        "litellm_params": public_params(&d.params),
        "model_info": info,
    })
}

/// Access group → model groups, from each deployment's `model_info.access_groups`.
fn access_groups(deployments: &[Deployment]) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for d in deployments {
        let Some(names) = d.model_info.get("access_groups").and_then(Value::as_array) else {
            continue;
        };
        for name in names.iter().filter_map(Value::as_str) {
            let groups = out.entry(name.to_string()).or_default();
            if !groups.contains(&d.group) {
                groups.push(d.group.clone());
            }
        }
    }
    out
}

/// Prices a deployment's config sets, in `litellm_params` or `model_info`.
fn deployment_prices(d: &Deployment) -> CustomPrices {
    let price = |key: &str| {
        d.params
            .get(key)
            .or_else(|| d.model_info.get(key))
            .and_then(Value::as_f64)
    };
    CustomPrices {
        input_cost_per_token: price("input_cost_per_token"),
        output_cost_per_token: price("output_cost_per_token"),
        input_cost_per_second: price("input_cost_per_second"),
        output_cost_per_second: price("output_cost_per_second"),
        input_cost_per_query: price("input_cost_per_query"),
    }
}
