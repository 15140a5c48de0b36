//! The Router: load balancing across deployments, retries, cooldowns and fallbacks,
//! entirely in Rust. A Router call crosses the Python boundary once.
//!
//! Order of events for a call on group `g` (LiteLLM §6.4–6.7):
//! resolve the alias → for each try: filter (sensitivity, cooldowns, tags, context
//! window, `order`), the strategy's first choice, admit under rpm/tpm (the rest of the
//! strategy's order only when the first choice is at its limits), wait for a
//! parallel-request slot, call → on failure: cooldown rules, then retry (re-selecting) or
//! stop → fallback groups in order. A sensitive call ([`sensitive`]) only ever sees the
//! deployments allowed for it.
//!
//! Selection cost hardly grows with the group: each group's deployment list, `order`
//! tiers, weights and price order are built once ([`pool`]), cooldowns are only looked at
//! when some deployment is cooling down, and the strategy finds its first choice without
//! ordering the others ([`strategy`]): in O(1) for simple-shuffle and cost-based
//! routing, in one pass over arrays of atomics (about a nanosecond a deployment) for the
//! strategies that read live state. Tag filtering and context-window checks, when on,
//! and sensitive calls filter the group per call. With Redis, reading the shared state
//! is per deployment.

pub mod config;
pub mod custom;
pub mod pool;
pub mod sensitive;
pub mod shared;
pub mod state;
pub mod strategy;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Map, Value};
use tokio::sync::Semaphore;

use crate::cache::link::{EventSink, RedisLink};
use crate::cache::ResponseCache;
use crate::catalogue::tokens::count_messages;
use crate::error::{ErrorKind, LlmError};
use crate::logging::{self, Level, Target};
use config::{Deployment, RouterConfig, Strategy};
use custom::DeploymentPicker;
use pool::Pool;
use shared::{Admission, Need, SharedState, View};
use state::{lock, Clock, MinuteUsage, StateView, SystemClock};
use strategy::Cands;

/// One model group's turn at a call.
struct GroupCall<'a> {
    /// LiteLLM's name of the call (`completion`, `acompletion`, `embedding`, ...), for logs.
    call_type: &'a str,
    group: &'a str,
    pool: &'a Pool,
    requested: &'a str,
    kwargs: &'a Map<String, Value>,
    input_tokens: u64,
    stream: bool,
    fallbacks_exist: bool,
    /// The user's routing rule, when one is set (`set_custom_routing_strategy`).
    picker: Option<&'a dyn DeploymentPicker>,
    /// Where each deployment call is recorded, when the caller asked for it.
    attempts: Option<&'a AttemptLog>,
}

/// One deployment call of a routed call: LiteLLM logs every retry and every fallback as a
/// call of its own, so callbacks are owed one pre-call and one outcome per attempt.
/// Tries that never reached a deployment (no healthy deployment, rpm limits, mock
/// failures) are not attempts: LiteLLM calls no callback for them either.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The deployment's id (`model_info.id`).
    pub deployment: String,
    /// The model group that was being tried (a fallback group for fallbacks).
    pub group: String,
    /// How many deployments that group has (LiteLLM's `model_group_size`).
    pub group_size: usize,
    /// The model sent to the provider (`litellm_params.model`, wildcards filled in).
    pub model: String,
    pub api_base: Option<String>,
    pub started: SystemTime,
    pub ended: SystemTime,
    /// `None` for the attempt that answered.
    pub error: Option<LlmError>,
}

/// The attempts of one routed call, in order. Recorded only when the caller passes one in
/// (the Python layer does when callbacks are set), so routing without callbacks pays
/// nothing for it.
#[derive(Debug, Default)]
pub struct AttemptLog(Mutex<Vec<Attempt>>);

impl AttemptLog {
    fn push(&self, attempt: Attempt) {
        lock(&self.0).push(attempt);
    }

    /// The attempts so far, leaving the log empty.
    pub fn take(&self) -> Vec<Attempt> {
        std::mem::take(&mut *lock(&self.0))
    }
}

/// What the Router adds to `_hidden_params` of a routed reply.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    pub model_id: String,
    pub model_group: String,
    pub attempted_retries: u32,
    pub max_retries: u32,
    pub attempted_fallbacks: u32,
    /// The reply came from the response cache: no deployment was called or counted.
    pub cache_hit: bool,
}

/// Usage a routed call reports back, for tpm windows and latency-based routing.
pub trait Routed {
    /// `(total_tokens, completion_tokens)` when the reply carries usage.
    fn tokens(&self) -> (Option<u64>, Option<u64>);
    /// The id of the Response this reply is (Responses API calls), for pinning.
    fn response_id(&self) -> Option<&str> {
        None
    }
}

/// A reply the response cache can store and give back.
pub trait Cacheable: Sized {
    /// The response body to store (`None`: not cacheable).
    fn cache_body(&self) -> Option<&Map<String, Value>>;
    /// A reply rebuilt from a stored body.
    fn from_cache(body: Map<String, Value>) -> Self;
}

/// Live state of one deployment, as `Router.deployment_stats()` reports it.
#[derive(Debug, Clone)]
pub struct DeploymentStats {
    pub in_flight: i64,
    pub usage: MinuteUsage,
    pub cooldown_left: Option<Duration>,
    pub mean_latency: Option<f64>,
}

/// Held for the life of a call (for a stream: until it ends or is dropped): keeps the
/// deployment's in-flight count and parallel-request slot.
pub struct CallGuard {
    router: Arc<Router>,
    index: usize,
    /// The in-flight mark is in Redis too.
    shared: bool,
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        self.router.state.end(self.index, self.shared);
    }
}

pub struct Router {
    pub config: RouterConfig,
    pub state: SharedState,
    /// The response cache (`cache_responses=True`).
    pub cache: Option<ResponseCache>,
    semaphores: Vec<Option<Arc<Semaphore>>>,
    /// Per deployment, what every call to it starts from: `default_litellm_params`, its
    /// `litellm_params` over them, the Router's own keys (`rpm`, `weight`, ...) removed.
    /// Made once: [`Router::merged_kwargs`] clones it instead of redoing ~15 map edits a call.
    bases: Vec<Map<String, Value>>,
    /// group name → its deployments.
    groups: HashMap<String, Arc<Pool>>,
    /// `litellm_params.model` → the deployments with that model, for a requested name
    /// that is not a group.
    by_model: HashMap<String, Arc<Pool>>,
    /// `model_info.id` → its group and a pool of that one deployment: a request may name
    /// a deployment by id (LiteLLM looks ids up first).
    by_id: HashMap<String, (String, Arc<Pool>)>,
    rng: Mutex<fastrand::Rng>,
    catalogue: fn(&str) -> Option<(f64, f64)>,
    /// This Router's own log threshold (`set_verbose=True`: INFO, or DEBUG with
    /// `debug_level="DEBUG"`); the process-wide one (`LITELLM_LOG`, ...) applies too.
    /// [`logging::OFF`] by default: a decision then costs two relaxed loads.
    verbosity: AtomicU8,
    /// Told of every failed deployment call (the proxy's metrics); unset: one load.
    failure_sink: std::sync::OnceLock<FailureSink>,
}

/// What every call to deployment `d` starts from: `defaults`, `d`'s `litellm_params` over
/// them, and none of the keys that configure the Router rather than the call.
fn call_base(defaults: &Map<String, Value>, d: &Deployment) -> Map<String, Value> {
    let mut out = defaults.clone();
    for (k, v) in &d.params {
        out.insert(k.clone(), v.clone());
    }
    // The Router prices its deployments' replies itself (`Deployment::input_cost_per_token`).
    let priced_here = ["input_cost_per_token", "output_cost_per_token"];
    for key in ROUTER_ONLY.iter().chain(&priced_here) {
        out.remove(*key);
    }
    out
}

/// `litellm_params` that configure the Router (limits, weights, tags), not the call made
/// to the deployment: never sent to the provider, here or in the proxy's direct calls.
pub const ROUTER_ONLY: &[&str] = &[
    "rpm",
    "tpm",
    "weight",
    "order",
    "max_parallel_requests",
    "cooldown_time",
    "tags",
];

/// Told of a failed deployment call: the deployment's index, the status, and whether
/// the failure put the deployment into cooldown.
pub type FailureSink = Arc<dyn Fn(usize, u16, bool) + Send + Sync>;

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("groups", &self.groups.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A Python-style list repr: `['a', 'b']`.
fn py_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", inner.join(", "))
}

/// An input error before routing names the model group asked for.
fn routed_context(e: LlmError, kwargs: &Map<String, Value>) -> LlmError {
    let group = kwargs.get("model").and_then(Value::as_str).unwrap_or("");
    e.with_context("", group)
}

/// A plain Python `ValueError` (LiteLLM raises these for tag and cooldown exhaustion).
/// LiteLLM's call types of the Responses API.
fn is_responses(call_type: &str) -> bool {
    matches!(call_type, "responses" | "aresponses")
}

/// LiteLLM's call type of Anthropic's Messages API (one for sync and async calls; the
/// async name is accepted too).
fn is_anthropic_messages(call_type: &str) -> bool {
    matches!(call_type, "anthropic_messages" | "aanthropic_messages")
}

/// A Responses call that continues an earlier Response (`previous_response_id`) goes to
/// the deployment that made it, when this process routed it and that deployment serves
/// the requested group: OpenAI and Azure keep a Response only with the account that made
/// it. (A stream's id arrives after routing: the stream's reader pins it, from its
/// `response.created` event.)
fn pin_previous(
    router: &Router,
    call_type: &str,
    mut kwargs: Map<String, Value>,
) -> Map<String, Value> {
    if !is_responses(call_type) {
        return kwargs;
    }
    let Some(deployment) = kwargs
        .get("previous_response_id")
        .and_then(Value::as_str)
        .and_then(crate::responses::store::deployment_of)
    else {
        return kwargs;
    };
    let requested = kwargs.get("model").and_then(Value::as_str).unwrap_or("");
    let same_group = match (
        router.resolve_group(requested),
        router.resolve_group(&deployment),
    ) {
        (Ok((a, _)), Ok((b, _))) => a == b,
        _ => false,
    };
    if same_group {
        kwargs.insert("model".into(), Value::String(deployment));
    }
    kwargs
}

/// Remember which deployment made a routed Response (see [`pin_previous`]).
fn pin_reply<T: Routed>(call_type: &str, reply: &T, info: &RouteInfo) {
    if is_responses(call_type) && !info.model_id.is_empty() {
        if let Some(id) = reply.response_id() {
            crate::responses::store::pin(id, &info.model_id);
        }
    }
}

/// The input checks of a routed call, before any deployment is chosen: the Responses
/// API's own for its call types (its tools and input items are not chat's).
fn check_routed(call_type: &str, kwargs: &Map<String, Value>) -> Result<(), LlmError> {
    let checked = if is_responses(call_type) {
        crate::responses::check_request(kwargs)
    } else if is_anthropic_messages(call_type) {
        crate::messages::check_request(kwargs)
    } else {
        crate::types::check::routed_call(kwargs)
    };
    checked.map_err(|e| routed_context(e, kwargs))
}

pub fn value_error(message: String) -> LlmError {
    LlmError::new(ErrorKind::Value, message)
}

impl Router {
    pub fn new(config: RouterConfig) -> Result<Arc<Router>, LlmError> {
        Router::with_clock(config, Arc::new(SystemClock))
    }

    pub fn with_clock(
        config: RouterConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Router>, LlmError> {
        let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_model: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, d) in config.deployments.iter().enumerate() {
            groups.entry(d.group.clone()).or_default().push(i);
            if let Some(model) = d.params.get("model").and_then(Value::as_str) {
                by_model.entry(model.to_string()).or_default().push(i);
            }
        }
        let pools = |m: HashMap<String, Vec<usize>>| -> HashMap<String, Arc<Pool>> {
            m.into_iter()
                .map(|(k, ids)| (k, Arc::new(Pool::new(ids, &config.deployments))))
                .collect()
        };
        let (groups, by_model) = (pools(groups), pools(by_model));
        let by_id = config
            .deployments
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let pool = Arc::new(Pool::new(vec![i], &config.deployments));
                (d.id.clone(), (d.group.clone(), pool))
            })
            .collect();
        let semaphores = config
            .deployments
            .iter()
            .map(|d| {
                d.max_parallel_requests
                    .or(config.default_max_parallel_requests)
                    .map(|n| Arc::new(Semaphore::new(n.max(1))))
            })
            .collect();
        let bases = config
            .deployments
            .iter()
            .map(|d| call_base(&config.default_litellm_params, d))
            .collect();
        let link = match &config.redis {
            Some(target) => Some(RedisLink::open(target.clone()).map_err(|e| {
                config::config_error(format!("cannot use Redis at {}: {e}", target.address()))
            })?),
            None => None,
        };
        let state = SharedState::new(&config.deployments, clock, link.clone(), config.latency.ttl);
        let cache = config.cache.clone().map(|settings| match &link {
            Some(l) => ResponseCache::redis(l.clone(), settings),
            None => ResponseCache::memory(settings),
        });
        Ok(Arc::new(Router {
            config,
            state,
            cache,
            semaphores,
            bases,
            groups,
            by_model,
            by_id,
            rng: Mutex::new(fastrand::Rng::new()),
            catalogue: crate::catalogue::prices,
            verbosity: AtomicU8::new(logging::OFF),
            failure_sink: std::sync::OnceLock::new(),
        }))
    }

    /// Log this Router's decisions (deployment chosen, each deployment call's outcome,
    /// retries, cooldowns, fallbacks) at `level` and above (a Python level number:
    /// `set_verbose=True`), or only as the process-wide setting says (`None`).
    pub fn set_verbosity(&self, level: Option<u8>) {
        self.verbosity
            .store(level.unwrap_or(logging::OFF), Ordering::Relaxed);
    }

    /// Whether a decision at `level` is logged, by this Router's setting or the process's.
    fn logs(&self, level: Level) -> bool {
        level as u8
            >= self
                .verbosity
                .load(Ordering::Relaxed)
                .min(logging::threshold(Target::Router))
    }

    /// Log a decision on `LiteLLM Router`; `message` is only built when it is logged.
    #[track_caller]
    fn note(&self, level: Level, message: impl FnOnce() -> String) {
        if self.logs(level) {
            logging::emit(Target::Router, level, &message());
        }
    }

    /// Who is told of each failed deployment call (once; later calls are ignored).
    pub fn set_failure_sink(&self, sink: FailureSink) {
        let _ = self.failure_sink.set(sink);
    }

    /// Where Redis outages and recoveries are reported (the Python layer logs them).
    pub fn set_event_sink(&self, sink: EventSink) {
        if let Some(link) = self.state.link() {
            link.set_sink(sink);
        }
    }

    /// Whether admission to one of `ranked` is counted in Redis (when there is one). Only
    /// what some process reads is written there: usage counts are read by the
    /// usage-based strategies and by the rpm/tpm limits of the deployments that have
    /// them, in-flight counts by least-busy. Otherwise a call costs no Redis round trip
    /// but the cooldown check, and its counts stay in this process (LiteLLM likewise
    /// writes usage and latency to Redis only for the strategies that read them).
    fn shares_admission(&self, ranked: &[usize]) -> bool {
        let need = self.need();
        need.usage || need.in_flight || ranked.iter().any(|&i| self.shares_usage(i))
    }

    /// Whether deployment `i`'s usage counts live in Redis (see [`Self::shares_admission`]).
    fn shares_usage(&self, i: usize) -> bool {
        self.need().usage
            || self
                .config
                .deployments
                .get(i)
                .is_some_and(|d| d.rpm.is_some() || d.tpm.is_some())
    }

    /// What the strategy reads besides cooldowns.
    fn need(&self) -> Need {
        Need {
            in_flight: self.config.strategy == Strategy::LeastBusy,
            latency: self.config.strategy == Strategy::LatencyBased,
            usage: matches!(
                self.config.strategy,
                Strategy::UsageBased | Strategy::UsageBasedV2
            ),
        }
    }

    pub fn deployments(&self) -> &[Deployment] {
        &self.config.deployments
    }

    /// The group a requested model name routes to, and the deployments serving it.
    /// A deployment's `model_info.id` first (that deployment alone, under its group), then
    /// aliases, then group names, then a deployment's own `litellm_params.model`, then
    /// wildcard groups (`openai/*`), then the default group `*`.
    pub fn resolve_group(&self, model: &str) -> Result<(String, Arc<Pool>), LlmError> {
        if let Some((group, pool)) = self.by_id.get(model) {
            return Ok((group.clone(), pool.clone()));
        }
        let name = self
            .config
            .model_group_alias
            .get(model)
            .map(|(g, _)| g.as_str())
            .unwrap_or(model);
        if let Some(pool) = self.groups.get(name).or_else(|| self.by_model.get(name)) {
            return Ok((name.to_string(), pool.clone()));
        }
        let mut wildcard: Option<(&String, &Arc<Pool>)> = None;
        for (g, ids) in &self.groups {
            if let Some(prefix) = g.strip_suffix('*') {
                if !prefix.is_empty()
                    && name.starts_with(prefix)
                    && wildcard.is_none_or(|(w, _)| g.len() > w.len())
                {
                    wildcard = Some((g, ids));
                }
            }
        }
        if let Some((g, ids)) = wildcard.or_else(|| self.groups.get_key_value("*")) {
            return Ok((g.clone(), ids.clone()));
        }
        Err(LlmError::bad_request(format!(
            "You passed in model={model}. There is no 'model_name' with this string. Available model groups: {}",
            {
                let mut names: Vec<&String> = self.groups.keys().collect();
                names.sort();
                py_list(&names.into_iter().cloned().collect::<Vec<_>>())
            }
        ))
        .with_context("", model))
    }

    fn healthy(view: &impl StateView, ids: &[usize]) -> Vec<usize> {
        if !view.any_cooling() {
            return ids.to_vec();
        }
        ids.iter().copied().filter(|&i| !view.cooling(i)).collect()
    }

    /// How many of `ids` are not cooling down.
    async fn healthy_count(&self, ids: &[usize]) -> usize {
        let view = self.state.view(ids, Need::default()).await;
        if !view.any_cooling() {
            return ids.len();
        }
        ids.iter().filter(|&&i| !view.cooling(i)).count()
    }

    fn request_tags(kwargs: &Map<String, Value>) -> Vec<String> {
        kwargs
            .get("metadata")
            .and_then(|m| m.get("tags"))
            .or_else(|| kwargs.get("tags"))
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Choose a deployment for one try. Counts it against its rpm and marks it in
    /// flight when chosen: `(index, shared)`.
    pub async fn select(
        &self,
        group: &str,
        pool: &Pool,
        kwargs: &Map<String, Value>,
        input_tokens: u64,
    ) -> Result<(usize, bool), LlmError> {
        match self.state.view(&pool.ids, self.need()).await {
            View::Local(view) => {
                self.select_in(group, pool, kwargs, input_tokens, &view)
                    .await
            }
            View::Shared(view) => {
                self.select_in(group, pool, kwargs, input_tokens, &view)
                    .await
            }
        }
    }

    /// [`select`](Self::select) when the user's routing rule chooses: its pick is used
    /// unless it is cooling down (then this try fails as when a whole group is, and the
    /// fallbacks take over) or at its rpm/tpm limits (a `RateLimitError`, retried).
    /// Tag and context-window filters and `order` are the built-in selection's and do
    /// not apply, as in LiteLLM, whose custom strategy replaces that selection.
    async fn select_picked(
        &self,
        picker: &dyn DeploymentPicker,
        group: &str,
        requested: &str,
        kwargs: &Map<String, Value>,
        input_tokens: u64,
    ) -> Result<(usize, bool), LlmError> {
        let id = picker.pick(requested, kwargs).await?;
        let deployments = &self.config.deployments;
        let Some(i) = deployments.iter().position(|d| d.id == id) else {
            return Err(value_error(format!(
                "custom routing strategy picked deployment {id:?}, which is not in this Router's model_list"
            )));
        };
        // The user's rule chooses among the deployments this call may use, not beyond.
        let policy = &self.config.sensitive;
        if policy.is_sensitive(kwargs) && !policy.allows(&deployments[i]) {
            return Err(policy.unavailable(
                group,
                &format!("the custom routing strategy picked deployment {id:?}, which is not allowed for sensitive data"),
            ));
        }
        let cooling = match self.state.view(&[i], self.need()).await {
            View::Local(view) => view
                .cooling(i)
                .then(|| self.no_deployments_error(group, &[i], &view)),
            View::Shared(view) => view
                .cooling(i)
                .then(|| self.no_deployments_error(group, &[i], &view)),
        };
        if let Some(e) = cooling {
            return Err(e);
        }
        let share = self.shares_admission(&[i]);
        match self
            .state
            .try_admit(&[i], deployments, input_tokens, share)
            .await
        {
            Admission::Admitted { index, shared } => Ok((index, shared)),
            Admission::Full(usages) => {
                let d = &deployments[i];
                let (requests, tokens) = usages
                    .first()
                    .map(|(_, u)| (u.requests, u.tokens))
                    .unwrap_or((0, 0));
                let mut e = LlmError::new(
                    ErrorKind::RateLimit,
                    format!(
                        "Deployment over defined rpm/tpm limit: deployment={}, rpm_limit={:?}, current rpm={requests}, tpm_limit={:?}, current tpm={tokens}",
                        d.id, d.rpm, d.tpm
                    ),
                );
                e.status = 429;
                e.model = group.to_string();
                Err(e)
            }
        }
    }

    /// The candidates after the per-call filters (sensitivity, tags, context window), then
    /// `order`: built for the call, unlike the pool's own lists. A sensitive call keeps
    /// only the deployments allowed for it before anything else looks at the group, and
    /// fails closed when none of them is available.
    fn filtered(
        &self,
        group: &str,
        ids: &[usize],
        kwargs: &Map<String, Value>,
        input_tokens: u64,
        view: &impl StateView,
    ) -> Result<Vec<usize>, LlmError> {
        let deployments = &self.config.deployments;
        let policy = &self.config.sensitive;
        let sensitive = policy.is_sensitive(kwargs);
        let allowed: Vec<usize>;
        let ids = if sensitive {
            allowed = ids
                .iter()
                .copied()
                .filter(|&i| policy.allows(&deployments[i]))
                .collect();
            if allowed.is_empty() {
                return Err(policy.unavailable(group, "none of its deployments is allowed"));
            }
            &allowed[..]
        } else {
            ids
        };
        let mut cands = Router::healthy(view, ids);
        if cands.is_empty() {
            if sensitive {
                let cooling: Vec<String> = ids.iter().map(|&i| deployments[i].id.clone()).collect();
                let mut e = policy.unavailable(
                    group,
                    &format!(
                        "every allowed deployment is cooling down (cooldown_list={})",
                        py_list(&cooling)
                    ),
                );
                e.retry_after = ids.iter().filter_map(|&i| view.cooldown_left(i)).min();
                return Err(e);
            }
            return Err(self.no_deployments_error(group, ids, view));
        }
        if self.config.enable_tag_filtering {
            let mut tags = Router::request_tags(kwargs);
            // The sensitivity tags chose the deployments above; as routing tags they
            // would send the call to `default` deployments or refuse it.
            tags.retain(|t| !policy.is_sensitive_tag(t));
            let chosen: Vec<usize> = if tags.is_empty() {
                // LiteLLM: an untagged call goes to the `default` deployments, else to
                // any.
                let defaults: Vec<usize> = cands
                    .iter()
                    .copied()
                    .filter(|&i| deployments[i].tags.iter().any(|t| t == "default"))
                    .collect();
                if defaults.is_empty() {
                    cands.clone()
                } else {
                    defaults
                }
            } else {
                let matching: Vec<usize> = cands
                    .iter()
                    .copied()
                    .filter(|&i| deployments[i].tags.iter().any(|t| tags.contains(t)))
                    .collect();
                if matching.is_empty() {
                    cands
                        .iter()
                        .copied()
                        .filter(|&i| deployments[i].tags.iter().any(|t| t == "default"))
                        .collect()
                } else {
                    matching
                }
            };
            if chosen.is_empty() {
                return Err(value_error(format!(
                    "Not allowed to access model due to tags configuration. Passed model={group} and tags={}",
                    py_list(&tags)
                )));
            }
            cands = chosen;
        }
        if self.config.enable_pre_call_checks && input_tokens > 0 {
            let fits: Vec<usize> = cands
                .iter()
                .copied()
                .filter(|&i| {
                    deployments[i]
                        .max_input_tokens
                        .is_none_or(|max| input_tokens <= max)
                })
                .collect();
            if fits.is_empty() {
                let mut e = LlmError::new(
                    ErrorKind::ContextWindowExceeded,
                    format!("litellm._pre_call_checks: Context Window exceeded for given call. No models have context window large enough for this call.\n{group} has {input_tokens} input tokens."),
                );
                e.model = group.to_string();
                return Err(e);
            }
            cands = fits;
        }
        // `order`: only the highest priority (lowest number) present is used.
        if let Some(best) = cands.iter().filter_map(|&i| deployments[i].order).min() {
            cands.retain(|&i| deployments[i].order.unwrap_or(i64::MAX) == best);
        }
        Ok(cands)
    }

    /// [`select`](Self::select) on one view of the state. The strategy's first choice is
    /// admitted if it is under its limits; the rest of its order is only worked out when
    /// it is not. Without tag filtering, context-window checks or a sensitive call,
    /// nothing here is proportional to the number of deployments except the one pass of
    /// the strategies that read live state (least-busy, latency, usage).
    async fn select_in<V: StateView + Sync>(
        &self,
        group: &str,
        pool: &Pool,
        kwargs: &Map<String, Value>,
        input_tokens: u64,
        view: &V,
    ) -> Result<(usize, bool), LlmError> {
        let deployments = &self.config.deployments;
        let filtered: Vec<usize>;
        let cands = if self.config.enable_tag_filtering
            || (self.config.enable_pre_call_checks && input_tokens > 0)
            || self.config.sensitive.is_sensitive(kwargs)
        {
            filtered = self.filtered(group, &pool.ids, kwargs, input_tokens, view)?;
            Cands::filtered(&filtered)
        } else {
            match pool.candidates(view) {
                Some(c) => c,
                None => return Err(self.no_deployments_error(group, &pool.ids, view)),
            }
        };
        let (strategy, latency) = (self.config.strategy, &self.config.latency);
        let first = {
            let mut rng = lock(&self.rng);
            let catalogue = &self.catalogue;
            strategy::pick(
                strategy,
                &cands,
                deployments,
                view,
                latency,
                catalogue,
                &mut rng,
            )
        };
        let Some(first) = first else {
            return Err(self.no_deployments_error(group, &pool.ids, view));
        };
        let share = self.shares_admission(cands.ids);
        let mut usages = match self
            .state
            .try_admit(&[first], deployments, input_tokens, share)
            .await
        {
            Admission::Admitted { index, shared } => return Ok((index, shared)),
            Admission::Full(usages) => usages,
        };
        // The first choice is at its limits: the others, in the strategy's order.
        let rest = {
            let mut rng = lock(&self.rng);
            let catalogue = &self.catalogue;
            strategy::rest(
                strategy,
                &cands,
                first,
                deployments,
                view,
                latency,
                catalogue,
                &mut rng,
            )
        };
        match self
            .state
            .try_admit(&rest, deployments, input_tokens, share)
            .await
        {
            Admission::Admitted { index, shared } => return Ok((index, shared)),
            Admission::Full(more) => usages.extend(more),
        }
        let detail: Vec<String> = usages
            .iter()
            .map(|&(i, u)| {
                let d = &deployments[i];
                let lim = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_else(|| "None".into());
                format!(
                    "'{}': {{'current_tpm': {}, 'tpm_limit': {}, 'current_rpm': {}, 'rpm_limit': {}}}",
                    d.id,
                    u.tokens,
                    lim(d.tpm),
                    u.requests,
                    lim(d.rpm)
                )
            })
            .collect();
        let mut e = LlmError::new(
            ErrorKind::RateLimit,
            format!("No deployments available for selected model. Passed model={group}. Deployments={{{}}}", detail.join(", ")),
        );
        e.status = 429;
        e.model = group.to_string();
        e.headers = vec![("retry-after".into(), "60".into())];
        e.retry_after = Some(Duration::from_secs(60));
        Err(e)
    }

    /// The deployment the next call would most likely use, without counting it
    /// (`get_available_deployment`).
    pub async fn preview(
        &self,
        model: &str,
        kwargs: &Map<String, Value>,
    ) -> Result<usize, LlmError> {
        let (group, pool) = self.resolve_group(model)?;
        let ids = &pool.ids;
        let deployments = &self.config.deployments;
        let mut need = self.need();
        need.usage = true;
        let view = self.state.view(ids, need).await;
        let policy = &self.config.sensitive;
        let cands = if policy.is_sensitive(kwargs) {
            // The same fail-closed filter as a call's.
            self.filtered(&group, ids, kwargs, 0, &view)?
        } else {
            Router::healthy(&view, ids)
        };
        if cands.is_empty() {
            return Err(self.no_deployments_error(&group, ids, &view));
        }
        let ranked = {
            let mut rng = lock(&self.rng);
            strategy::rank(
                self.config.strategy,
                &Cands::filtered(&cands),
                deployments,
                &view,
                &self.config.latency,
                &self.catalogue,
                &mut rng,
            )
        };
        ranked
            .into_iter()
            .find(|&i| {
                let u = view.usage(i);
                let d = &deployments[i];
                d.rpm.is_none_or(|l| u.requests < l) && d.tpm.is_none_or(|l| u.tokens < l)
            })
            .ok_or_else(|| self.no_deployments_error(&group, ids, &view))
    }

    /// Every deployment's live state (shared state when Redis is configured).
    pub async fn stats(&self) -> Vec<DeploymentStats> {
        let ids: Vec<usize> = (0..self.config.deployments.len()).collect();
        let view = self.state.view(&ids, Need::ALL).await;
        // What is kept in this process only (see `shares_admission`) is read here.
        let local = self.state.local.view();
        let need = self.need();
        ids.iter()
            .map(|&i| DeploymentStats {
                in_flight: if need.in_flight || self.shares_usage(i) {
                    view.in_flight(i)
                } else {
                    local.in_flight(i)
                },
                usage: if self.shares_usage(i) {
                    view.usage(i)
                } else {
                    local.usage(i)
                },
                cooldown_left: view.cooldown_left(i),
                mean_latency: if need.latency {
                    view.mean_latency(i)
                } else {
                    local.mean_latency(i)
                },
            })
            .collect()
    }

    fn no_deployments_error(&self, group: &str, ids: &[usize], view: &impl StateView) -> LlmError {
        let cooling: Vec<String> = ids
            .iter()
            .filter(|&&i| view.cooldown_left(i).is_some())
            .map(|&i| self.config.deployments[i].id.clone())
            .collect();
        let wait = ids
            .iter()
            .filter_map(|&i| view.cooldown_left(i))
            .min()
            .unwrap_or(self.config.cooldown_time);
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut e = LlmError::new(
            ErrorKind::RouterRateLimit,
            format!(
                "No deployments available for selected model, Try again in {secs} seconds. Passed model={group}. pre-call-checks={}, cooldown_list={}",
                if self.config.enable_pre_call_checks { "True" } else { "False" },
                py_list(&cooling)
            ),
        );
        e.model = group.to_string();
        e.body = Some(serde_json::json!({
            "model": group,
            "cooldown_time": secs,
            "enable_pre_call_checks": self.config.enable_pre_call_checks,
            "cooldown_list": cooling,
        }));
        e.retry_after = Some(wait);
        e
    }

    /// The call's keyword arguments on top of the deployment's `litellm_params`, on top of
    /// `default_litellm_params`; timeouts resolved in LiteLLM's order.
    fn merged_kwargs(
        &self,
        i: usize,
        kwargs: &Map<String, Value>,
        matched_model: &str,
        stream: bool,
    ) -> Map<String, Value> {
        let d = &self.config.deployments[i];
        let mut out = match self.bases.get(i) {
            Some(base) => base.clone(),
            None => call_base(&self.config.default_litellm_params, d),
        };
        // Wildcard deployments (`openai/*`) take the requested model's name.
        if let Some(Value::String(m)) = out.get("model") {
            if let Some(prefix) = m.strip_suffix('*') {
                let group_prefix = d.group.strip_suffix('*').unwrap_or(&d.group);
                let rest = matched_model
                    .strip_prefix(group_prefix)
                    .unwrap_or(matched_model);
                out.insert("model".into(), Value::String(format!("{prefix}{rest}")));
            }
        }
        let deployment_model = out.get("model").cloned();
        for (k, v) in kwargs {
            out.insert(k.clone(), v.clone());
        }
        if let Some(m) = deployment_model {
            out.insert("model".into(), m);
        }
        let secs = |d: Duration| Value::from(d.as_secs_f64());
        let call_timeout = kwargs
            .get("timeout")
            .or_else(|| kwargs.get("request_timeout"))
            .filter(|v| !v.is_null())
            .cloned();
        let timeout = call_timeout
            .or_else(|| d.timeout.map(secs))
            .or_else(|| self.config.timeout.map(secs))
            .or_else(|| self.config.default_litellm_params.get("timeout").cloned());
        if let Some(t) = timeout {
            out.insert("timeout".into(), t);
        }
        if stream {
            let st = kwargs
                .get("stream_timeout")
                .filter(|v| !v.is_null())
                .cloned()
                .or_else(|| d.stream_timeout.map(secs))
                .or_else(|| self.config.stream_timeout.map(secs));
            if let Some(t) = st {
                out.insert("stream_timeout".into(), t);
            }
        }
        // The Router does the retrying; the provider call makes one attempt.
        out.insert("max_retries".into(), Value::from(0));
        out.remove("num_retries");
        out
    }

    /// Cooldown rules after a failure (LiteLLM §6.6), with one correction: a deployment
    /// that refuses connections is cooled down like one that answers 5xx.
    async fn on_failure(&self, i: usize, group_size: usize, e: &LlmError) {
        let cooled = self.cool_after_failure(i, group_size, e).await;
        if let Some(sink) = self.failure_sink.get() {
            sink(i, e.status, cooled);
        }
    }

    /// [`Router::on_failure`]'s cooldown decision; whether the deployment was cooled down.
    async fn cool_after_failure(&self, i: usize, group_size: usize, e: &LlmError) -> bool {
        if self.config.disable_cooldowns {
            return false;
        }
        let d = &self.config.deployments[i];
        let length = d
            .cooldown_time
            .or(e.retry_after.filter(|r| !r.is_zero()))
            .unwrap_or(self.config.cooldown_time);
        if length < Duration::from_millis(1) {
            return false;
        }
        let status = e.status;
        if (400..500).contains(&status) && !matches!(status, 401 | 404 | 408 | 429) {
            return false;
        }
        let cool = if self.config.allowed_fails_set || self.config.allowed_fails_policy.is_some() {
            let allowed = self
                .config
                .allowed_fails_policy
                .as_ref()
                .and_then(|p| p.for_kind(e.kind))
                .unwrap_or(self.config.allowed_fails);
            let n = self
                .state
                .add_windowed_failure(i, self.config.cooldown_time)
                .await;
            n as u64 > u64::from(allowed)
        } else {
            let (failures, requests) = self.state.add_failure(i).await;
            if group_size > 1 {
                status == 429 || matches!(status, 401 | 404) || failures * 2 > requests
            } else {
                requests >= 1000 && failures >= requests
            }
        };
        if cool {
            self.note(Level::Info, || {
                format!(
                    "cooling down deployment {} for {:.1}s after status {status}",
                    d.id,
                    length.as_secs_f64()
                )
            });
            self.state.set_cooldown(i, length, status, &e.message).await;
        }
        cool
    }

    fn on_success(
        &self,
        i: usize,
        started: Instant,
        tokens: (Option<u64>, Option<u64>),
        stream: bool,
    ) {
        let elapsed = started.elapsed().as_secs_f64();
        let per_token = match (stream, tokens.1) {
            (false, Some(c)) if c > 0 => elapsed / c as f64,
            _ => elapsed,
        };
        // Off the reply's path: Redis gets both in one round trip the reply does not wait for.
        self.state.settle(
            i,
            Some((
                per_token,
                self.config.latency.max_latency_list_size,
                self.need().latency,
            )),
            tokens.0.map(|total| (total, self.shares_usage(i))),
        );
    }

    fn retries_for(&self, group: &str, kwargs: &Map<String, Value>, e: &LlmError) -> u32 {
        if let Some(n) = self
            .config
            .model_group_retry_policy
            .get(group)
            .and_then(|p| p.for_kind(e.kind))
        {
            return n;
        }
        if let Some(n) = self
            .config
            .retry_policy
            .as_ref()
            .and_then(|p| p.for_kind(e.kind))
        {
            return n;
        }
        kwargs
            .get("num_retries")
            .and_then(Value::as_u64)
            .map(|n| n as u32)
            .unwrap_or(self.config.num_retries)
    }

    fn has_specific_fallback(&self, group: &str, kind: ErrorKind) -> bool {
        let list = match kind {
            ErrorKind::ContextWindowExceeded => &self.config.context_window_fallbacks,
            ErrorKind::ContentPolicyViolation => &self.config.content_policy_fallbacks,
            _ => return false,
        };
        list.iter().any(|(g, _)| g == group)
    }

    /// Whether LiteLLM's `should_retry_this_error` lets this error be retried in-group.
    async fn should_retry(
        &self,
        group: &str,
        ids: &[usize],
        e: &LlmError,
        fallbacks_exist: bool,
    ) -> bool {
        let healthy = self.healthy_count(ids).await;
        match e.kind {
            ErrorKind::NotFound | ErrorKind::RouterRateLimit | ErrorKind::Value => false,
            ErrorKind::ContextWindowExceeded | ErrorKind::ContentPolicyViolation
                if self.has_specific_fallback(group, e.kind) =>
            {
                false
            }
            ErrorKind::RateLimit if healthy == 0 && fallbacks_exist => false,
            ErrorKind::Authentication if ids.len() <= 1 => false,
            _ => healthy > 0,
        }
    }

    async fn retry_delay(&self, ids: &[usize], attempt: u32, e: &LlmError) -> Duration {
        // Another healthy deployment exists: try it at once.
        if ids.len() > 1 && self.healthy_count(ids).await > 0 {
            return Duration::ZERO;
        }
        if let Some(ra) = e
            .retry_after
            .filter(|r| !r.is_zero() && *r <= Duration::from_secs(60))
        {
            return ra;
        }
        let base = (0.5 * 2f64.powi(attempt.min(10) as i32))
            .min(8.0)
            .max(self.config.retry_after.as_secs_f64());
        let jitter = lock(&self.rng).f64() * 0.75;
        Duration::try_from_secs_f64(base + jitter).unwrap_or(Duration::MAX)
    }

    /// Run one model group with its retries.
    async fn run_group<T, F, Fut>(
        self: &Arc<Self>,
        g: GroupCall<'_>,
        call: &F,
    ) -> Result<(T, CallGuard, u32), (LlmError, u32, u32)>
    where
        T: Routed,
        F: Fn(Map<String, Value>) -> Fut,
        Fut: Future<Output = Result<T, LlmError>>,
    {
        let GroupCall {
            call_type,
            group,
            pool,
            requested,
            kwargs,
            input_tokens,
            stream,
            fallbacks_exist,
            picker,
            attempts,
        } = g;
        let ids = &pool.ids[..];
        // The deployments that may serve this call: for a sensitive one, those allowed.
        let policy = &self.config.sensitive;
        let sensitive = policy.is_sensitive(kwargs);
        let eligible: std::borrow::Cow<'_, [usize]> = if sensitive {
            let deployments = &self.config.deployments;
            ids.iter()
                .copied()
                .filter(|&i| policy.allows(&deployments[i]))
                .collect::<Vec<_>>()
                .into()
        } else {
            ids.into()
        };
        let mut attempt = 0u32;
        loop {
            let chosen = match picker {
                Some(p) => {
                    self.select_picked(p, group, requested, kwargs, input_tokens)
                        .await
                }
                None => self.select(group, pool, kwargs, input_tokens).await,
            };
            let (i, shared) = match chosen {
                Ok(chosen) => chosen,
                Err(e) => return Err((e, attempt, self.config.num_retries)),
            };
            // In flight from admission on (a request waiting for a parallel-request slot
            // is busy on that deployment too); the guard releases it whatever happens.
            let mut guard = CallGuard {
                router: self.clone(),
                index: i,
                shared,
                _permit: None,
            };
            if let Some(s) = &self.semaphores[i] {
                guard._permit = s.clone().acquire_owned().await.ok();
            }
            self.note(Level::Info, || {
                let d = &self.config.deployments[i];
                let model = d.params.get("model").and_then(Value::as_str).unwrap_or("");
                format!(
                    "routing group {group} to deployment {} (model={model})",
                    d.id
                )
            });
            let started = Instant::now();
            let merged = self.merged_kwargs(i, kwargs, requested, stream);
            self.note(Level::Debug, || {
                format!(
                    "deployment {} params: {}",
                    self.config.deployments[i].id,
                    logging::describe_params(&merged)
                )
            });
            // LiteLLM's line for each deployment call names the deployment's model.
            let label = self.logs(Level::Info).then(|| {
                let model = merged.get("model").and_then(Value::as_str).unwrap_or("");
                format!("litellm.{call_type}(model={model})")
            });
            let record = attempts.map(|log| {
                let text = |k: &str| merged.get(k).and_then(Value::as_str).map(str::to_string);
                let attempt = Attempt {
                    deployment: self.config.deployments[i].id.clone(),
                    group: group.to_string(),
                    group_size: ids.len(),
                    model: text("model").unwrap_or_default(),
                    api_base: text("api_base").or_else(|| text("base_url")),
                    started: SystemTime::now(),
                    ended: SystemTime::now(),
                    error: None,
                };
                (log, attempt)
            });
            let outcome = call(merged).await;
            if let Some(label) = label {
                self.note(Level::Info, || match &outcome {
                    Ok(_) => format!("{label} 200 OK"),
                    Err(e) => format!(
                        "{label} Exception litellm.{}: {}",
                        e.kind.class_name(),
                        e.message
                    ),
                });
            }
            if let Some((log, mut a)) = record {
                a.ended = SystemTime::now();
                a.error = outcome.as_ref().err().cloned();
                log.push(a);
            }
            match outcome {
                Ok(v) => {
                    self.on_success(i, started, v.tokens(), stream);
                    return Ok((v, guard, attempt));
                }
                Err(e) => {
                    drop(guard);
                    self.state.settle(
                        i,
                        Some((
                            1000.0,
                            self.config.latency.max_latency_list_size,
                            self.need().latency,
                        )),
                        None,
                    );
                    self.on_failure(i, ids.len(), &e).await;
                    let allowed = self.retries_for(group, kwargs, &e);
                    if attempt >= allowed
                        || !self.should_retry(group, ids, &e, fallbacks_exist).await
                    {
                        return Err((e, attempt, allowed));
                    }
                    let delay = if sensitive && self.healthy_count(&eligible).await == 0 {
                        // No allowed deployment is left: the next try fails closed at
                        // once (it is never sent to another deployment of the group).
                        Duration::ZERO
                    } else {
                        self.retry_delay(&eligible, attempt, &e).await
                    };
                    self.note(Level::Info, || {
                        format!(
                            "Retrying request with num_retries: {} (after {:.2}s; {})",
                            attempt + 1,
                            delay.as_secs_f64(),
                            e.kind.class_name()
                        )
                    });
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    fn mock_failure(
        &self,
        group: &str,
        kwargs: &Map<String, Value>,
        fallbacks: &[String],
    ) -> Option<LlmError> {
        let flag = |k: &str| kwargs.get(k).and_then(Value::as_bool) == Some(true);
        let fb = if fallbacks.is_empty() {
            "None".to_string()
        } else {
            py_list(fallbacks)
        };
        let (kind, status, label) = if flag("mock_testing_fallbacks") {
            (ErrorKind::InternalServer, 500, "InternalServerError")
        } else if flag("mock_testing_context_fallbacks") {
            (
                ErrorKind::ContextWindowExceeded,
                400,
                "ContextWindowExceededError",
            )
        } else if flag("mock_testing_content_policy_fallbacks") {
            (
                ErrorKind::ContentPolicyViolation,
                400,
                "ContentPolicyViolationError",
            )
        } else if flag("mock_testing_rate_limit_error") {
            (ErrorKind::RateLimit, 429, "RateLimitError")
        } else {
            return None;
        };
        let mut e = LlmError::new(kind, format!("{label}: This is a mock exception for model={group}, to trigger a fallback. Fallbacks={fb}"));
        e.status = status;
        e.model = group.to_string();
        Some(e)
    }

    /// The model name a cache key uses: the caching group (`caching_groups`) the requested
    /// group belongs to, as Python prints the tuple, else the requested model group.
    pub fn cache_model(&self, requested: &str) -> String {
        self.config
            .caching_groups
            .iter()
            .find(|g| g.iter().any(|m| m == requested))
            .map(|g| crate::cache::key::py_tuple_repr(g))
            .unwrap_or_else(|| requested.to_string())
    }

    /// Route one non-streaming call through the response cache: a hit is returned without
    /// selecting, counting or calling any deployment; a miss is routed and then stored.
    /// `call_type` is LiteLLM's (`completion`, `acompletion`, `embedding`, ...).
    pub async fn route_cached<T, F, Fut>(
        self: &Arc<Self>,
        call_type: &str,
        kwargs: Map<String, Value>,
        call: F,
    ) -> Result<(T, RouteInfo), LlmError>
    where
        T: Routed + Cacheable,
        F: Fn(Map<String, Value>) -> Fut,
        Fut: Future<Output = Result<T, LlmError>>,
    {
        self.route_cached_with(call_type, kwargs, None, None, call)
            .await
    }

    /// [`Router::route_cached`] with the user's routing rule choosing each try's
    /// deployment (see [`custom`]), and each deployment call recorded in `attempts`.
    pub async fn route_cached_with<T, F, Fut>(
        self: &Arc<Self>,
        call_type: &str,
        kwargs: Map<String, Value>,
        picker: Option<&dyn DeploymentPicker>,
        attempts: Option<&AttemptLog>,
        call: F,
    ) -> Result<(T, RouteInfo), LlmError>
    where
        T: Routed + Cacheable,
        F: Fn(Map<String, Value>) -> Fut,
        Fut: Future<Output = Result<T, LlmError>>,
    {
        check_routed(call_type, &kwargs)?;
        self.config.sensitive.check_call(&kwargs)?;
        let plan = match &self.cache {
            // A Response is stateful (its id, `previous_response_id`): never cached, as
            // LiteLLM's cache does not list the Responses call types.
            Some(_) if is_responses(call_type) => None,
            Some(cache) => {
                let requested = kwargs.get("model").and_then(Value::as_str).unwrap_or("");
                cache.plan(call_type, &kwargs, &self.cache_model(requested))
            }
            None => None,
        };
        if let (Some(cache), Some(plan)) = (&self.cache, &plan) {
            if let Some(body) = cache.get(plan).await {
                let requested = kwargs.get("model").and_then(Value::as_str).unwrap_or("");
                let group = self
                    .resolve_group(requested)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|_| requested.to_string());
                let info = RouteInfo {
                    model_id: String::new(),
                    model_group: group,
                    attempted_retries: 0,
                    max_retries: self.config.num_retries,
                    attempted_fallbacks: 0,
                    cache_hit: true,
                };
                return Ok((T::from_cache(body), info));
            }
        }
        let kwargs = pin_previous(self, call_type, kwargs);
        let (reply, guard, info) = self
            .route_checked(call_type, kwargs, false, picker, attempts, call)
            .await?;
        drop(guard);
        pin_reply(call_type, &reply, &info);
        if let (Some(cache), Some(plan), Some(body)) = (&self.cache, &plan, reply.cache_body()) {
            cache.put(plan, body).await;
        }
        Ok((reply, info))
    }

    /// Route one call: `call` performs the provider request for the merged arguments.
    pub async fn route<T, F, Fut>(
        self: &Arc<Self>,
        kwargs: Map<String, Value>,
        stream: bool,
        call: F,
    ) -> Result<(T, CallGuard, RouteInfo), LlmError>
    where
        T: Routed,
        F: Fn(Map<String, Value>) -> Fut,
        Fut: Future<Output = Result<T, LlmError>>,
    {
        self.route_with("completion", kwargs, stream, None, None, call)
            .await
    }

    /// [`Router::route`] with the user's routing rule choosing each try's deployment, and
    /// each deployment call recorded in `attempts` (for a stream: the calls up to the one
    /// that opened it). `call_type` is LiteLLM's name of the call, for the logs.
    pub async fn route_with<T, F, Fut>(
        self: &Arc<Self>,
        call_type: &str,
        kwargs: Map<String, Value>,
        stream: bool,
        picker: Option<&dyn DeploymentPicker>,
        attempts: Option<&AttemptLog>,
        call: F,
    ) -> Result<(T, CallGuard, RouteInfo), LlmError>
    where
        T: Routed,
        F: Fn(Map<String, Value>) -> Fut,
        Fut: Future<Output = Result<T, LlmError>>,
    {
        check_routed(call_type, &kwargs)?;
        self.config.sensitive.check_call(&kwargs)?;
        let kwargs = pin_previous(self, call_type, kwargs);
        self.route_checked(call_type, kwargs, stream, picker, attempts, call)
            .await
    }

    /// [`Router::route`] for arguments already checked.
    async fn route_checked<T, F, Fut>(
        self: &Arc<Self>,
        call_type: &str,
        kwargs: Map<String, Value>,
        stream: bool,
        picker: Option<&dyn DeploymentPicker>,
        attempts: Option<&AttemptLog>,
        call: F,
    ) -> Result<(T, CallGuard, RouteInfo), LlmError>
    where
        T: Routed,
        F: Fn(Map<String, Value>) -> Fut,
        Fut: Future<Output = Result<T, LlmError>>,
    {
        let requested = kwargs
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if requested.is_empty() {
            return Err(LlmError::bad_request(
                "model is required: the model group to route to",
            ));
        }
        let (group, pool) = self.resolve_group(&requested)?;
        let needs_tokens = self.config.enable_pre_call_checks
            || matches!(
                self.config.strategy,
                Strategy::UsageBased | Strategy::UsageBasedV2
            )
            || pool.any_tpm;
        let input_tokens = match (needs_tokens, kwargs.get("messages")) {
            (true, Some(Value::Array(m))) => count_messages(&requested, m) as u64,
            _ => 0,
        };
        let disable = kwargs.get("disable_fallbacks").and_then(Value::as_bool) == Some(true);
        let call_fallbacks: Option<Vec<String>> =
            kwargs.get("fallbacks").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            });
        let regular: Vec<String> = match &call_fallbacks {
            Some(f) => f.clone(),
            None => RouterConfig::fallbacks_for(&self.config.fallbacks, &group)
                .map(<[String]>::to_vec)
                .unwrap_or_default(),
        };
        let mut kwargs = kwargs;
        kwargs.remove("fallbacks");
        let first = match self.mock_failure(&group, &kwargs, &regular) {
            Some(e) => Err((e, 0, self.config.num_retries)),
            None => {
                let g = GroupCall {
                    call_type,
                    group: &group,
                    pool: &pool,
                    requested: &requested,
                    kwargs: &kwargs,
                    input_tokens,
                    stream,
                    fallbacks_exist: !regular.is_empty() && !disable,
                    picker,
                    attempts,
                };
                self.run_group(g, &call).await
            }
        };
        let (err, retries, max_retries) = match first {
            Ok((v, guard, retries)) => {
                let info = RouteInfo {
                    model_id: self.config.deployments[guard.index].id.clone(),
                    model_group: group,
                    attempted_retries: retries,
                    max_retries: self.config.num_retries,
                    attempted_fallbacks: 0,
                    cache_hit: false,
                };
                return Ok((v, guard, info));
            }
            Err(e) => e,
        };
        // Which fallback list applies to this error.
        let mut err = err;
        let specific = match err.kind {
            ErrorKind::ContextWindowExceeded => Some(&self.config.context_window_fallbacks),
            ErrorKind::ContentPolicyViolation => Some(&self.config.content_policy_fallbacks),
            _ => None,
        };
        let list: Vec<String> = match specific.and_then(|l| {
            RouterConfig::fallbacks_for(l, &group).filter(|_| l.iter().any(|(g, _)| g == &group))
        }) {
            Some(l) => l.to_vec(),
            None => {
                if let Some(kind_list) = specific {
                    let name = if err.kind == ErrorKind::ContextWindowExceeded {
                        "context_window_fallbacks"
                    } else {
                        "content_policy_fallbacks"
                    };
                    let _ = kind_list;
                    err.message.push_str(&format!(
                        "\nmodel={group}. {name}=None. fallbacks={}.\n\nSet '{}' - https://docs.litellm.ai/docs/routing#fallbacks",
                        if regular.is_empty() { "None".to_string() } else { py_list(&regular) },
                        if err.kind == ErrorKind::ContextWindowExceeded { "context_window_fallback" } else { "content_policy_fallback" }
                    ));
                }
                regular.clone()
            }
        };
        let list: Vec<String> = if disable {
            Vec::new()
        } else {
            list.into_iter().filter(|g| g != &group).collect()
        };
        // LiteLLM runs a fallback group as a call of its own, with that group's own
        // fallbacks (or the "*" default ones): a fallback group that fails, or that does
        // not exist, leads on to its fallbacks, depth-first, at most `max_fallbacks` deep.
        // `attempted_fallbacks` is the position in this group's list the answer came
        // through, as LiteLLM reports it.
        let max_depth = self.config.max_fallbacks.max(1);
        let mut fallback_error: Option<LlmError> = None;
        let mut tried: Vec<String> = vec![group.clone()];
        let mut todo: Vec<(String, usize, u32)> = list
            .iter()
            .enumerate()
            .rev()
            .map(|(n, g)| (g.clone(), 1, n as u32 + 1))
            .collect();
        while let Some((fb, depth, position)) = todo.pop() {
            if tried.contains(&fb) {
                continue;
            }
            tried.push(fb.clone());
            if depth < max_depth && call_fallbacks.is_none() {
                if let Some(next) = RouterConfig::fallbacks_for(&self.config.fallbacks, &fb) {
                    todo.extend(next.iter().rev().map(|g| (g.clone(), depth + 1, position)));
                }
            }
            let Ok((fb_group, fb_pool)) = self.resolve_group(&fb) else {
                continue;
            };
            self.note(Level::Info, || {
                format!("Trying to fallback b/w models: {group} -> {fb}")
            });
            let mut fb_kwargs = kwargs.clone();
            fb_kwargs.insert("model".into(), Value::String(fb.clone()));
            let g = GroupCall {
                call_type,
                group: &fb_group,
                pool: &fb_pool,
                requested: &fb,
                kwargs: &fb_kwargs,
                input_tokens,
                stream,
                fallbacks_exist: false,
                picker,
                attempts,
            };
            match self.run_group(g, &call).await {
                Ok((v, guard, retries)) => {
                    let info = RouteInfo {
                        model_id: self.config.deployments[guard.index].id.clone(),
                        model_group: fb_group,
                        attempted_retries: retries,
                        max_retries: self.config.num_retries,
                        attempted_fallbacks: position,
                        cache_hit: false,
                    };
                    return Ok((v, guard, info));
                }
                Err((e, _, _)) => fallback_error = Some(e),
            }
        }
        err.message.push_str(&format!(
            ". Received Model Group={group}\nAvailable Model Group Fallbacks={}",
            if list.is_empty() {
                "None".to_string()
            } else {
                py_list(&list)
            }
        ));
        if let Some(fe) = fallback_error {
            err.message
                .push_str(&format!("\nError doing the fallback: {fe}"));
        }
        if retries > 0 {
            err.num_retries = Some(retries);
        }
        err.max_retries = Some(max_retries);
        if err.model.is_empty() {
            err.model = requested;
        }
        Err(err)
    }
}

#[cfg(test)]
mod sensitive_tests;
#[cfg(test)]
mod tests;
