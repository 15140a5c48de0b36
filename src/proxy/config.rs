//! LiteLLM's `config.yaml`, read as is and checked once at start.
//!
//! The file is parsed into a `serde_json::Value` first: `os.environ/NAME` references are
//! resolved at any depth there (with `environment_variables` seen first, as LiteLLM
//! exports them before reading anything else), and every key rustllm does not use is
//! collected, to be reported in one warning line. Then each section is read into typed
//! settings; a value of the wrong type fails the start with the path of the value, as in
//! `model_list[2].litellm_params.rpm: expected an integer, got "ten"`.
//!
//! Numbers written as strings (`rpm: "10"`, `tpm: 20_000`) are read as numbers, as
//! LiteLLM's pydantic models read them.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use super::limits::TokenCount;
use super::ops::OpsSettings;
use super::spend::writer::WriterSettings;
use super::store::{self, DatabaseSetting};
use crate::router::config::{RouterConfig, ROUTER_ARGS};

/// LiteLLM's default body limit is none; rustllm's is 10 MB (`max_request_size_mb`).
pub const DEFAULT_MAX_REQUEST_MB: f64 = 10.0;
/// The limit of a multipart upload (`/audio/transcriptions`, `/images/edits`, `/files`):
/// `max_upload_size_mb`, default 100 MB. The files go to disk as they arrive, so the
/// limit bounds disk, not memory.
pub const DEFAULT_MAX_UPLOAD_MB: f64 = 100.0;

/// The prefix that makes a value an environment variable reference.
const ENV_PREFIX: &str = "os.environ/";

/// A configuration that cannot be used: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The path of the bad value (`model_list[2].litellm_params.rpm`), empty for the file.
    pub path: String,
    pub message: String,
}

impl ConfigError {
    /// An error about the value at `path` (empty: the whole file).
    pub fn at(path: &str, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// The master key: compared in constant time (see `auth.rs`), never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Everything the proxy reads from its config file.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// The Router's constructor arguments (`model_list` included), as
    /// [`RouterConfig::from_json`] reads them: `router_settings` with the
    /// `litellm_settings` that map onto the Router folded in.
    pub router_args: Map<String, Value>,
    /// `general_settings.master_key` (or `LITELLM_MASTER_KEY`).
    pub master_key: Option<Secret>,
    /// `general_settings.allow_client_side_credentials`: let request bodies carry
    /// `api_base`, `api_key` and the like (off: CVE-2024-6587).
    pub allow_client_side_credentials: bool,
    /// `general_settings.max_request_size_mb`, in bytes.
    pub max_request_bytes: usize,
    /// `general_settings.max_upload_size_mb`, in bytes.
    pub max_upload_bytes: usize,
    /// `general_settings.litellm_key_header_name`, lower-cased: one more header the key
    /// may come in.
    pub key_header: Option<String>,
    /// `general_settings.database_url` (or `DATABASE_URL`), `database: none`, or the
    /// default SQLite file.
    pub database: DatabaseSetting,
    /// `general_settings.database_connection_pool_limit`.
    pub database_pool_limit: u32,
    /// `general_settings.token_rate_limit_type`: which tokens count against tpm limits.
    pub token_rate_limit_type: TokenCount,
    /// How spend is written, budgets reset and spend logs kept (`proxy_batch_write_at`,
    /// `maximum_spend_logs_retention_period`, ...).
    pub spend: WriterSettings,
    /// `environment_variables`, to export before the Router is built.
    pub environment: Vec<(String, String)>,
    /// `litellm_settings.set_verbose`.
    pub set_verbose: bool,
    /// Metrics, logs, health checks and alerts (`json_logs`, `background_health_checks`,
    /// `alerting`, ...).
    pub ops: OpsSettings,
    /// Paths of the keys rustllm does not use, for one warning line at start.
    pub ignored: Vec<String>,
    /// `os.environ/NAME` references whose variable is not set: `(path, NAME)`. The value
    /// is left out, as LiteLLM leaves it `None`.
    pub missing_env: Vec<(String, String)>,
    /// How many deployments `model_list` has.
    pub deployment_count: usize,
    /// Written into every request body before routing (single-model mode: `model`, and
    /// `--temperature` / `--max_tokens`); empty from a config file.
    pub forced_params: Map<String, Value>,
    /// The `guardrails:` list (`crate::proxy::guardrails`).
    pub guardrails: super::guardrails::GuardrailsConfig,
}

/// The top-level sections rustllm reads.
const SECTIONS: &[&str] = &[
    "model_list",
    "router_settings",
    "litellm_settings",
    "general_settings",
    "environment_variables",
    "credential_list",
    "guardrails",
];

/// `litellm_settings` rustllm uses (the rest are reported as ignored).
const LITELLM_SETTINGS: &[&str] = &[
    "drop_params",
    "num_retries",
    "request_timeout",
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "default_fallbacks",
    "cache",
    "cache_params",
    "set_verbose",
];

/// `general_settings` rustllm uses.
const GENERAL_SETTINGS: &[&str] = &[
    "master_key",
    "allow_client_side_credentials",
    "max_request_size_mb",
    "max_upload_size_mb",
    "litellm_key_header_name",
    "database_url",
    "database_connection_pool_limit",
    "database",
    "token_rate_limit_type",
    "proxy_batch_write_at",
    "proxy_budget_rescheduler_min_time",
    "proxy_budget_rescheduler_max_time",
    "maximum_spend_logs_retention_period",
    "maximum_spend_logs_retention_interval",
    "disable_spend_logs",
];

/// Keys of a `model_list` entry.
const ENTRY_KEYS: &[&str] = &["model_name", "litellm_params", "model_info", "rpm", "tpm"];

/// `cache_params` keys the Router's cache uses (LiteLLM's `Cache(...)` arguments).
const CACHE_PARAMS: &[&str] = &[
    "type",
    "host",
    "port",
    "password",
    "username",
    "db",
    "url",
    "ttl",
    "default_in_memory_ttl",
    "default_in_redis_ttl",
    "namespace",
    "mode",
    "supported_call_types",
    "max_size_in_memory",
    "ssl",
    "ssl_cert_reqs",
    "ssl_ca_certs",
    "ssl_certfile",
    "ssl_keyfile",
    "ssl_check_hostname",
];

/// What a value is, for "expected X, got Y" messages: strings quoted, others as JSON.
fn shown(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}...")
    } else {
        text
    }
}

fn expected(path: &str, what: &str, got: &Value) -> ConfigError {
    ConfigError::at(path, format!("expected {what}, got {}", shown(got)))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A number, or a string holding one (`"10"`, `20_000`, `1e-6`).
fn lax_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let t: String = s.trim().chars().filter(|c| *c != '_').collect();
            t.parse::<f64>().ok().filter(|f| f.is_finite())
        }
        _ => None,
    }
}

/// Rewrite `map[key]` as a JSON integer; `None` when absent or null.
fn int_field(
    map: &mut Map<String, Value>,
    key: &str,
    path: &str,
    min: i64,
) -> Result<Option<i64>, ConfigError> {
    let Some(v) = map.get(key).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let here = join(path, key);
    let n = match lax_number(v) {
        Some(f) if f.fract() == 0.0 && f >= i64::MIN as f64 && f <= i64::MAX as f64 => f as i64,
        _ => return Err(expected(&here, "an integer", v)),
    };
    if n < min {
        return Err(ConfigError::at(
            &here,
            format!("expected an integer of at least {min}, got {n}"),
        ));
    }
    map.insert(key.to_string(), Value::from(n));
    Ok(Some(n))
}

/// Rewrite `map[key]` as a JSON number (not negative).
fn number_field(
    map: &mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<f64>, ConfigError> {
    let Some(v) = map.get(key).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let here = join(path, key);
    match lax_number(v) {
        Some(f) if f >= 0.0 => {
            let number = serde_json::Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or(Value::Null);
            // Keep integers integers (`timeout: 300` stays 300, not 300.0).
            let number = if f.fract() == 0.0 && f < 9.0e15 {
                Value::from(f as i64)
            } else {
                number
            };
            map.insert(key.to_string(), number);
            Ok(Some(f))
        }
        _ => Err(expected(&here, "a non-negative number", v)),
    }
}

fn bool_field(
    map: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<bool>, ConfigError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        // YAML 1.1 spellings LiteLLM's PyYAML reads as booleans.
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Ok(Some(true)),
            "false" | "no" | "off" => Ok(Some(false)),
            _ => Err(expected(
                &join(path, key),
                "true or false",
                &Value::String(s.clone()),
            )),
        },
        Some(other) => Err(expected(&join(path, key), "true or false", other)),
    }
}

fn string_field<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, ConfigError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(expected(&join(path, key), "a string", other)),
    }
}

/// Scalars YAML may have typed that are strings to LiteLLM (`api_version: 2024-02-01`
/// is a string in YAML 1.2, but `api_version: 2024` is a number): made strings.
fn stringify_field(map: &mut Map<String, Value>, key: &str, path: &str) -> Result<(), ConfigError> {
    match map.get(key) {
        None | Some(Value::Null) | Some(Value::String(_)) => Ok(()),
        Some(Value::Number(n)) => {
            let s = n.to_string();
            map.insert(key.to_string(), Value::String(s));
            Ok(())
        }
        Some(other) => Err(expected(&join(path, key), "a string", other)),
    }
}

fn map_field<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a mut Map<String, Value>>, ConfigError> {
    match map.get_mut(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(expected(&join(path, key), "a mapping", other)),
    }
}

/// Resolve `os.environ/NAME` in every string of `v`, depth first. A variable that is not
/// set turns the value into null and is recorded.
fn resolve_env(
    v: &mut Value,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
    missing: &mut Vec<(String, String)>,
) {
    match v {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix(ENV_PREFIX) {
                let name = name.trim().to_string();
                match env(&name) {
                    Some(value) => *s = value,
                    None => {
                        missing.push((path.to_string(), name));
                        *v = Value::Null;
                    }
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                resolve_env(item, &format!("{path}[{i}]"), env, missing);
            }
        }
        Value::Object(map) => {
            for (k, item) in map.iter_mut() {
                resolve_env(item, &join(path, k), env, missing);
            }
        }
        _ => {}
    }
}

/// Parse YAML text into JSON. LiteLLM reads configs with PyYAML, where a repeated key
/// keeps its last value: so does this.
pub fn parse_yaml(text: &str) -> Result<Value, ConfigError> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
    };
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    serde_saphyr::from_str_with_options::<Value>(text, options)
        .map_err(|e| ConfigError::at("", format!("not valid YAML: {e}")))
}

impl ProxyConfig {
    /// Read a config file.
    pub fn from_file(path: &std::path::Path) -> Result<ProxyConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::at(
                "",
                format!("cannot read the config file {}: {e}", path.display()),
            )
        })?;
        let env = |name: &str| std::env::var(name).ok();
        ProxyConfig::from_yaml(&text, &env)
    }

    /// Read a config from its YAML text; `env` looks up environment variables (after
    /// the file's own `environment_variables`).
    pub fn from_yaml(
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ProxyConfig, ConfigError> {
        ProxyConfig::from_value(parse_yaml(text)?, env)
    }

    /// Read a config already parsed into JSON.
    pub fn from_value(
        doc: Value,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ProxyConfig, ConfigError> {
        let mut top = match doc {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            other => return Err(expected("", "a mapping of settings at the top", &other)),
        };
        let mut ignored = Vec::new();
        for key in top.keys() {
            if !SECTIONS.contains(&key.as_str()) {
                ignored.push(key.clone());
            }
        }

        // environment_variables first: `os.environ/` elsewhere sees them.
        let mut missing_env = Vec::new();
        let mut environment = Vec::new();
        if let Some(vars) = top.get_mut("environment_variables") {
            resolve_env(vars, "environment_variables", env, &mut missing_env);
            match vars {
                Value::Null => {}
                Value::Object(m) => {
                    for (k, v) in m.iter() {
                        let text = match v {
                            // `REDIS_PASSWORD:` with no value sets nothing.
                            Value::Null => continue,
                            Value::String(s) => s.clone(),
                            Value::Number(_) | Value::Bool(_) => v.to_string(),
                            other => {
                                return Err(expected(
                                    &format!("environment_variables.{k}"),
                                    "a string",
                                    other,
                                ))
                            }
                        };
                        environment.push((k.clone(), text));
                    }
                }
                other => return Err(expected("environment_variables", "a mapping", other)),
            }
        }
        let overlay: HashMap<&str, &str> = environment
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let lookup = |name: &str| -> Option<String> {
            overlay
                .get(name)
                .map(|v| v.to_string())
                .or_else(|| env(name))
        };
        for (key, value) in top.iter_mut() {
            if key != "environment_variables" {
                resolve_env(value, key, &lookup, &mut missing_env);
            }
        }

        let ops = OpsSettings::read(&mut top, &lookup)?;
        let general = read_general(&mut top, &mut ignored, &missing_env, &lookup)?;
        let credentials = read_credentials(&mut top)?;
        let model_list = read_model_list(&mut top, &credentials, &mut ignored)?;
        let deployment_count = model_list.len();
        let litellm = read_litellm_settings(&mut top, &mut ignored, &lookup)?;
        let mut router_args = read_router_settings(&mut top, &mut ignored)?;
        let guardrails = super::guardrails::GuardrailsConfig::read(&mut top, &mut ignored)?;

        // litellm_settings that are Router settings, unless router_settings sets them
        // (router_settings wins, as in LiteLLM).
        for (from, to) in [
            ("num_retries", "num_retries"),
            ("request_timeout", "timeout"),
            ("fallbacks", "fallbacks"),
            ("context_window_fallbacks", "context_window_fallbacks"),
            ("content_policy_fallbacks", "content_policy_fallbacks"),
            ("default_fallbacks", "default_fallbacks"),
        ] {
            if let Some(v) = litellm.values.get(from) {
                if !router_args.contains_key(to) {
                    router_args.insert(to.to_string(), v.clone());
                }
            }
        }
        if litellm.drop_params {
            let defaults = router_args
                .entry("default_litellm_params")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(d) = defaults {
                d.entry("drop_params").or_insert(Value::Bool(true));
            }
        }
        if let Some(cache_kwargs) = litellm.cache {
            router_args.insert("cache_responses".into(), Value::Bool(true));
            router_args.insert("cache_kwargs".into(), Value::Object(cache_kwargs));
        }
        router_args.insert("model_list".into(), Value::Array(model_list));

        ignored.sort();
        ignored.dedup();
        // Variables only settings rustllm ignores refer to are not worth a warning.
        missing_env.retain(|(path, _)| {
            !ignored.iter().any(|i| {
                path.strip_prefix(i.as_str())
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
            })
        });
        Ok(ProxyConfig {
            router_args,
            master_key: general.master_key,
            allow_client_side_credentials: general.allow_client_side_credentials,
            max_request_bytes: general.max_request_bytes,
            max_upload_bytes: general.max_upload_bytes,
            key_header: general.key_header,
            database: general.database,
            database_pool_limit: general.database_pool_limit,
            token_rate_limit_type: general.token_rate_limit_type,
            spend: general.spend,
            environment,
            set_verbose: litellm.set_verbose,
            ops,
            ignored,
            missing_env,
            deployment_count,
            forced_params: Map::new(),
            guardrails,
        })
    }

    /// The Router's configuration. Fails for settings the Router refuses (a strategy it
    /// does not know, a Redis URL that does not parse, ...).
    pub fn router_config(&self) -> Result<RouterConfig, ConfigError> {
        RouterConfig::from_json(&self.router_args)
            .map(|(config, _)| config)
            .map_err(|e| ConfigError::at("", format!("invalid Router settings: {}", e.message)))
    }
}

struct General {
    master_key: Option<Secret>,
    allow_client_side_credentials: bool,
    max_request_bytes: usize,
    max_upload_bytes: usize,
    key_header: Option<String>,
    database: DatabaseSetting,
    database_pool_limit: u32,
    token_rate_limit_type: TokenCount,
    spend: WriterSettings,
}

fn read_general(
    top: &mut Map<String, Value>,
    ignored: &mut Vec<String>,
    missing_env: &[(String, String)],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<General, ConfigError> {
    const PATH: &str = "general_settings";
    let empty = &mut Map::new();
    let g = map_field(top, PATH, "")?.unwrap_or(empty);
    for key in g.keys() {
        if !GENERAL_SETTINGS.contains(&key.as_str()) {
            ignored.push(format!("{PATH}.{key}"));
        }
    }
    // A master key that names a variable which is not set must not start an open proxy.
    if let Some((_, var)) = missing_env
        .iter()
        .find(|(path, _)| path == "general_settings.master_key")
    {
        return Err(ConfigError::at(
            "general_settings.master_key",
            format!("the environment variable {var} is not set (os.environ/{var}); set it, or remove master_key to run without auth"),
        ));
    }
    let master_key = match string_field(g, "master_key", PATH)? {
        Some("") => {
            return Err(ConfigError::at(
                "general_settings.master_key",
                "is empty; set a key, or remove master_key to run without auth",
            ))
        }
        Some(k) => Some(Secret(k.to_string())),
        // LiteLLM reads LITELLM_MASTER_KEY when the file sets none.
        None => env("LITELLM_MASTER_KEY")
            .filter(|k| !k.is_empty())
            .map(Secret),
    };
    let allow_client_side_credentials =
        bool_field(g, "allow_client_side_credentials", PATH)?.unwrap_or(false);
    let mb = number_field(g, "max_request_size_mb", PATH)?.unwrap_or(DEFAULT_MAX_REQUEST_MB);
    if mb <= 0.0 {
        return Err(ConfigError::at(
            "general_settings.max_request_size_mb",
            "expected a positive number of megabytes",
        ));
    }
    let upload_mb = number_field(g, "max_upload_size_mb", PATH)?.unwrap_or(DEFAULT_MAX_UPLOAD_MB);
    if upload_mb <= 0.0 {
        return Err(ConfigError::at(
            "general_settings.max_upload_size_mb",
            "expected a positive number of megabytes",
        ));
    }
    let key_header = string_field(g, "litellm_key_header_name", PATH)?
        .filter(|h| !h.is_empty())
        .map(str::to_ascii_lowercase);
    if let Some(h) = &key_header {
        if axum::http::HeaderName::from_bytes(h.as_bytes()).is_err() {
            return Err(ConfigError::at(
                "general_settings.litellm_key_header_name",
                format!("{h:?} is not a valid HTTP header name"),
            ));
        }
    }
    let database = read_database(g, env)?;
    let database_pool_limit = match number_field(g, "database_connection_pool_limit", PATH)? {
        None => store::DEFAULT_POOL_LIMIT,
        Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= 10_000.0 => n as u32,
        Some(_) => {
            return Err(ConfigError::at(
                "general_settings.database_connection_pool_limit",
                "expected a whole number of connections, at least 1",
            ))
        }
    };
    let token_rate_limit_type = match string_field(g, "token_rate_limit_type", PATH)? {
        None => TokenCount::default(),
        Some(t @ ("input" | "output" | "total")) => TokenCount::parse(t),
        Some(other) => {
            return Err(ConfigError::at(
                "general_settings.token_rate_limit_type",
                format!("expected \"input\", \"output\" or \"total\", got {other:?}"),
            ))
        }
    };
    Ok(General {
        spend: read_spend(g)?,
        database,
        database_pool_limit,
        master_key,
        allow_client_side_credentials,
        max_request_bytes: (mb * 1024.0 * 1024.0).min(usize::MAX as f64) as usize,
        max_upload_bytes: (upload_mb * 1024.0 * 1024.0).min(usize::MAX as f64) as usize,
        key_header,
        token_rate_limit_type,
    })
}

/// The spend writer's settings: LiteLLM's names, seconds or durations (`7d`, `1h`).
fn read_spend(g: &mut Map<String, Value>) -> Result<WriterSettings, ConfigError> {
    const PATH: &str = "general_settings";
    let mut s = WriterSettings::default();
    let seconds = |n: f64, key: &str| -> Result<Duration, ConfigError> {
        if n > 0.0 && n <= 1.0e9 {
            Ok(Duration::from_secs_f64(n))
        } else {
            Err(ConfigError::at(
                &join(PATH, key),
                "expected a positive number of seconds",
            ))
        }
    };
    if let Some(n) = number_field(g, "proxy_batch_write_at", PATH)? {
        s.batch_every = seconds(n, "proxy_batch_write_at")?;
    }
    if let Some(n) = number_field(g, "proxy_budget_rescheduler_min_time", PATH)? {
        s.reset_every = seconds(n, "proxy_budget_rescheduler_min_time")?;
    }
    // LiteLLM picks a random time between min and max so that workers spread out; one
    // leader runs the job here, so the max is accepted and not needed.
    number_field(g, "proxy_budget_rescheduler_max_time", PATH)?;
    let duration = |key: &str| -> Result<Option<Duration>, ConfigError> {
        let Some(v) = g.get(key).filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let secs = match v {
            Value::String(t) => store::time::duration_seconds(t).filter(|s| *s > 0),
            Value::Number(n) => n.as_i64().filter(|s| *s > 0),
            _ => None,
        };
        match secs {
            Some(secs) => Ok(Some(Duration::from_secs(secs as u64))),
            None => Err(expected(
                &join(PATH, key),
                "a duration such as 30s, 1h, 7d or 1mo",
                v,
            )),
        }
    };
    s.retention = duration("maximum_spend_logs_retention_period")?;
    if let Some(every) = duration("maximum_spend_logs_retention_interval")? {
        s.retention_every = every;
    }
    s.log_rows = !bool_field(g, "disable_spend_logs", PATH)?.unwrap_or(false);
    Ok(s)
}

/// Where keys, users, teams and spend live: `database: none` (LiteLLM's no-DB mode),
/// `database_url` (then `DATABASE_URL`, as LiteLLM reads it), else the SQLite file.
fn read_database(
    g: &mut Map<String, Value>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<DatabaseSetting, ConfigError> {
    const PATH: &str = "general_settings";
    match g.get("database") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s.eq_ignore_ascii_case("none") => {
            return Ok(DatabaseSetting::Disabled)
        }
        Some(Value::Bool(false)) => return Ok(DatabaseSetting::Disabled),
        Some(other) => {
            return Err(expected(
                "general_settings.database",
                "none (to run without a database)",
                other,
            ))
        }
    }
    let url = match string_field(g, "database_url", PATH)? {
        Some(u) if !u.trim().is_empty() => Some(u.trim().to_string()),
        _ => env("DATABASE_URL").filter(|u| !u.trim().is_empty()),
    };
    let Some(url) = url else {
        return Ok(DatabaseSetting::DefaultSqlite);
    };
    store::dialect_of(&url).map_err(|e| ConfigError::at("general_settings.database_url", e))?;
    Ok(DatabaseSetting::Url(url))
}

/// `credential_list`: name → the values a deployment gets with `litellm_credential_name`.
fn read_credentials(
    top: &mut Map<String, Value>,
) -> Result<HashMap<String, Map<String, Value>>, ConfigError> {
    let mut out = HashMap::new();
    let items = match top.get("credential_list") {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(expected("credential_list", "a list", other)),
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("credential_list[{i}]");
        let Value::Object(c) = item else {
            return Err(expected(&path, "a mapping", item));
        };
        let name = match c.get("credential_name") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(other) => {
                return Err(expected(&join(&path, "credential_name"), "a string", other))
            }
            None => {
                return Err(ConfigError::at(
                    &join(&path, "credential_name"),
                    "is required",
                ))
            }
        };
        let values = match c.get("credential_values") {
            Some(Value::Object(v)) => v.clone(),
            None | Some(Value::Null) => Map::new(),
            Some(other) => {
                return Err(expected(
                    &join(&path, "credential_values"),
                    "a mapping",
                    other,
                ))
            }
        };
        out.insert(name, values);
    }
    Ok(out)
}

/// Check one `litellm_params` mapping, rewriting numbers given as strings.
fn check_litellm_params(p: &mut Map<String, Value>, path: &str) -> Result<(), ConfigError> {
    match p.get("model") {
        Some(Value::String(m)) if !m.trim().is_empty() => {}
        None | Some(Value::Null) => {
            return Err(ConfigError::at(
                &join(path, "model"),
                "is required (the provider/model to call, e.g. \"openai/gpt-4o\")",
            ))
        }
        Some(other) => return Err(expected(&join(path, "model"), "a string", other)),
    }
    for key in [
        "rpm",
        "tpm",
        "max_parallel_requests",
        "max_retries",
        "num_retries",
    ] {
        int_field(p, key, path, 0)?;
    }
    int_field(p, "order", path, i64::MIN)?;
    for key in [
        "timeout",
        "stream_timeout",
        "request_timeout",
        "weight",
        "cooldown_time",
        "input_cost_per_token",
        "output_cost_per_token",
        "input_cost_per_second",
        "output_cost_per_second",
    ] {
        number_field(p, key, path)?;
    }
    for key in ["api_version", "organization"] {
        stringify_field(p, key, path)?;
    }
    for key in [
        "api_key",
        "api_base",
        "base_url",
        "custom_llm_provider",
        "litellm_credential_name",
        "region_name",
    ] {
        string_field(p, key, path)?;
    }
    bool_field(p, "drop_params", path)?;
    if let Some(v) = p.get("tags").filter(|v| !v.is_null()) {
        let ok = matches!(v, Value::Array(t) if t.iter().all(Value::is_string));
        if !ok {
            return Err(expected(&join(path, "tags"), "a list of strings", v));
        }
    }
    Ok(())
}

fn check_model_info(info: &mut Map<String, Value>, path: &str) -> Result<(), ConfigError> {
    stringify_field(info, "id", path)?;
    for key in ["mode", "base_model", "health_check_model"] {
        string_field(info, key, path)?;
    }
    for key in ["max_tokens", "max_input_tokens", "max_output_tokens"] {
        int_field(info, key, path, 0)?;
    }
    for key in [
        "input_cost_per_token",
        "output_cost_per_token",
        "health_check_timeout",
    ] {
        number_field(info, key, path)?;
    }
    Ok(())
}

fn read_model_list(
    top: &mut Map<String, Value>,
    credentials: &HashMap<String, Map<String, Value>>,
    ignored: &mut Vec<String>,
) -> Result<Vec<Value>, ConfigError> {
    let items = match top.remove("model_list") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(expected("model_list", "a list of deployments", &other)),
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, mut item) in items.into_iter().enumerate() {
        let path = format!("model_list[{i}]");
        let Value::Object(entry) = &mut item else {
            return Err(expected(
                &path,
                "a mapping with model_name and litellm_params",
                &item,
            ));
        };
        for key in entry.keys() {
            if !ENTRY_KEYS.contains(&key.as_str()) {
                ignored.push(format!("{path}.{key}"));
            }
        }
        match entry.get("model_name") {
            Some(Value::String(s)) if !s.is_empty() => {}
            // `model_name: 1106` is a name too.
            Some(Value::Number(n)) => {
                let name = n.to_string();
                entry.insert("model_name".into(), Value::String(name));
            }
            None | Some(Value::Null) => {
                return Err(ConfigError::at(
                    &join(&path, "model_name"),
                    "is required (the name clients ask for)",
                ))
            }
            Some(other) => return Err(expected(&join(&path, "model_name"), "a string", other)),
        }
        let params_path = join(&path, "litellm_params");
        let params = match entry.get_mut("litellm_params") {
            Some(Value::Object(p)) => p,
            None | Some(Value::Null) => {
                return Err(ConfigError::at(
                    &params_path,
                    "is required (at least `model: provider/model`)",
                ))
            }
            Some(other) => return Err(expected(&params_path, "a mapping", other)),
        };
        if let Some(name) = params
            .get("litellm_credential_name")
            .and_then(Value::as_str)
            .map(str::to_string)
        {
            let Some(values) = credentials.get(&name) else {
                return Err(ConfigError::at(
                    &join(&params_path, "litellm_credential_name"),
                    format!("no credential named {name:?} in credential_list"),
                ));
            };
            for (k, v) in values {
                if !v.is_null() {
                    params.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        check_litellm_params(params, &params_path)?;
        for key in ["rpm", "tpm"] {
            int_field(entry, key, &path, 0)?;
        }
        if let Some(info) = map_field(entry, "model_info", &path)? {
            check_model_info(info, &join(&path, "model_info"))?;
        }
        out.push(item);
    }
    Ok(out)
}

struct LitellmSettings {
    /// Values that map onto Router arguments, checked.
    values: Map<String, Value>,
    drop_params: bool,
    set_verbose: bool,
    /// `cache: true`: the Router's `cache_kwargs` from `cache_params`.
    cache: Option<Map<String, Value>>,
}

fn read_litellm_settings(
    top: &mut Map<String, Value>,
    ignored: &mut Vec<String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<LitellmSettings, ConfigError> {
    const PATH: &str = "litellm_settings";
    let empty = &mut Map::new();
    let s = map_field(top, PATH, "")?.unwrap_or(empty);
    for key in s.keys() {
        if !LITELLM_SETTINGS.contains(&key.as_str()) {
            ignored.push(format!("{PATH}.{key}"));
        }
    }
    int_field(s, "num_retries", PATH, 0)?;
    number_field(s, "request_timeout", PATH)?;
    let mut values = Map::new();
    for key in [
        "num_retries",
        "request_timeout",
        "fallbacks",
        "context_window_fallbacks",
        "content_policy_fallbacks",
        "default_fallbacks",
    ] {
        if let Some(v) = s.get(key).filter(|v| !v.is_null()) {
            if key.ends_with("fallbacks") && !matches!(v, Value::Array(_)) {
                return Err(expected(&join(PATH, key), "a list", v));
            }
            values.insert(key.to_string(), v.clone());
        }
    }
    let drop_params = bool_field(s, "drop_params", PATH)?.unwrap_or(false);
    let set_verbose = bool_field(s, "set_verbose", PATH)?.unwrap_or(false);
    let cache = if bool_field(s, "cache", PATH)?.unwrap_or(false) {
        let params_path = join(PATH, "cache_params");
        let params = map_field(s, "cache_params", PATH)?
            .cloned()
            .unwrap_or_default();
        let mut kwargs = Map::new();
        for (k, v) in params {
            if CACHE_PARAMS.contains(&k.as_str()) {
                kwargs.insert(k, v);
            } else {
                ignored.push(format!("{params_path}.{k}"));
            }
        }
        match kwargs.get("type") {
            None | Some(Value::Null) => {}
            Some(Value::String(t)) if t == "local" => {}
            Some(Value::String(t)) if t == "redis" => {
                // LiteLLM's RedisCache takes its address from REDIS_* when cache_params
                // gives none.
                let has = |m: &Map<String, Value>, k: &str| m.get(k).is_some_and(|v| !v.is_null());
                if !has(&kwargs, "url") && !has(&kwargs, "host") {
                    for (key, var) in [
                        ("url", "REDIS_URL"),
                        ("host", "REDIS_HOST"),
                        ("port", "REDIS_PORT"),
                        ("password", "REDIS_PASSWORD"),
                    ] {
                        if let Some(v) = env(var).filter(|v| !v.is_empty()) {
                            kwargs.insert(key.to_string(), Value::String(v));
                        }
                    }
                }
                if !(has(&kwargs, "url") || (has(&kwargs, "host") && has(&kwargs, "port"))) {
                    return Err(ConfigError::at(
                        &join(&params_path, "type"),
                        "a Redis cache needs its address: cache_params host and port (or url), or REDIS_HOST and REDIS_PORT (or REDIS_URL) in the environment",
                    ));
                }
            }
            Some(other) => {
                return Err(ConfigError::at(
                    &join(&params_path, "type"),
                    format!(
                        "rustllm caches in memory (\"local\") or in Redis (\"redis\"), got {}",
                        shown(other)
                    ),
                ))
            }
        }
        Some(kwargs)
    } else {
        if s.contains_key("cache_params") {
            ignored.push(format!("{PATH}.cache_params (cache is not true)"));
        }
        None
    };
    Ok(LitellmSettings {
        values,
        drop_params,
        set_verbose,
        cache,
    })
}

fn read_router_settings(
    top: &mut Map<String, Value>,
    ignored: &mut Vec<String>,
) -> Result<Map<String, Value>, ConfigError> {
    const PATH: &str = "router_settings";
    let mut out = Map::new();
    let Some(s) = map_field(top, PATH, "")? else {
        return Ok(out);
    };
    for key in [
        "num_retries",
        "max_fallbacks",
        "allowed_fails",
        "default_max_parallel_requests",
    ] {
        int_field(s, key, PATH, 0)?;
    }
    for key in ["timeout", "stream_timeout", "cooldown_time", "retry_after"] {
        number_field(s, key, PATH)?;
    }
    string_field(s, "routing_strategy", PATH)?;
    stringify_field(s, "redis_port", PATH)?;
    for key in ["redis_host", "redis_password", "redis_url"] {
        string_field(s, key, PATH)?;
    }
    for key in [
        "model_group_alias",
        "routing_strategy_args",
        "default_litellm_params",
    ] {
        map_field(s, key, PATH)?;
    }
    for (key, value) in s.iter() {
        if value.is_null() {
            continue;
        }
        if ROUTER_ARGS.contains(&key.as_str()) {
            out.insert(key.clone(), value.clone());
        } else {
            ignored.push(format!("{PATH}.{key}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
