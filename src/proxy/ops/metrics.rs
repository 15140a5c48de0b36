//! `GET /metrics`: LiteLLM's Prometheus metrics (names, labels and buckets of LiteLLM
//! 1.110.2, `litellm/types/integrations/prometheus.py`), in the Prometheus text format.
//!
//! Why not the `prometheus-client` crate: its `Family::get_or_create` looks a series up
//! by an owned label set, so every request would build one (a dozen `String`s) to find
//! its counters. Here a request hashes the label values it already holds, finds its
//! [`RequestSeries`] under a read lock (no allocation once the label set has been seen),
//! and bumps atomics; everything else (projecting series onto each metric's labels,
//! summing, formatting) happens when `/metrics` is scraped. The text format is small
//! enough to write by hand (see [`encode`]).
//!
//! Every metric is derived from one table per request outcome, so the label lists below
//! are LiteLLM's, declared once ([`REQUEST_METRICS`]), and read by both the encoder and
//! the tests. Labels LiteLLM fills from data the proxy does not have (`client_ip`,
//! `user_agent`, `user_email`, `service_tier`, `end_user`, which LiteLLM leaves off
//! unless `enable_end_user_cost_tracking_prometheus_only`) read `"None"`, as LiteLLM's
//! `str(None)` does.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde_json::Value;

use crate::proxy::budget::Owner;
use crate::proxy::spend::SpendEvent;
use crate::router::config::Deployment;
use crate::router::DeploymentStats;

/// LiteLLM 1.110.2's `LATENCY_BUCKETS` (seconds; `+Inf` is implied).
pub const LATENCY_BUCKETS: [f64; 17] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 420.0,
    600.0,
];

/// Label sets past which a request's model name is counted under its group's name.
const MAX_SERIES: usize = 10_000;

/// A label value LiteLLM writes for a missing value (`str(None)`).
const NONE: &str = "None";

/// One metric LiteLLM exports, with its labels in LiteLLM's order.
pub struct MetricSpec {
    /// The name, without the `_total` a counter's samples carry.
    pub name: &'static str,
    /// The Prometheus type.
    pub kind: Kind,
    /// LiteLLM's help text.
    pub help: &'static str,
    /// LiteLLM's label names, in its order.
    pub labels: &'static [&'static str],
}

/// A metric's Prometheus type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up; samples end in `_total`.
    Counter,
    /// A value now.
    Gauge,
    /// Cumulative `_bucket`s, `_count` and `_sum`.
    Histogram,
}

/// What a request metric counts, from one [`RequestSeries`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    Requests,
    Failed,
    Spend,
    TotalTokens,
    InputTokens,
    OutputTokens,
    TotalLatency,
    ApiLatency,
    Overhead,
    Ttft,
    DeploymentTotal,
    DeploymentSuccess,
    DeploymentFailure,
}

/// The request metrics: LiteLLM's `PrometheusMetricLabels` for each.
const REQUEST_METRICS: &[(MetricSpec, Measure)] = &[
    (
        MetricSpec {
            name: "litellm_proxy_total_requests_metric",
            kind: Kind::Counter,
            help: "Total number of requests made to the proxy server - track number of client side requests",
            labels: &[
                "end_user", "hashed_api_key", "api_key_alias", "requested_model", "team", "team_alias", "user",
                "status_code", "user_email", "route", "client_ip", "user_agent", "model_id", "api_provider",
            ],
        },
        Measure::Requests,
    ),
    (
        MetricSpec {
            name: "litellm_proxy_failed_requests_metric",
            kind: Kind::Counter,
            help: "Total number of failed responses from proxy - the client did not get a success response from litellm proxy",
            labels: &[
                "end_user", "hashed_api_key", "api_key_alias", "requested_model", "team", "team_alias", "user",
                "user_email", "exception_status", "exception_class", "route", "client_ip", "user_agent",
                "model_id", "api_provider",
            ],
        },
        Measure::Failed,
    ),
    (
        MetricSpec {
            name: "litellm_spend_metric",
            kind: Kind::Counter,
            help: "Total spend on LLM requests",
            labels: &[
                "end_user", "hashed_api_key", "api_key_alias", "model", "team", "team_alias", "user",
                "user_email", "client_ip", "user_agent", "requested_model", "model_id", "api_provider",
                "service_tier",
            ],
        },
        Measure::Spend,
    ),
    (
        MetricSpec {
            name: "litellm_total_tokens_metric",
            kind: Kind::Counter,
            help: "Total number of input + output tokens from LLM requests",
            labels: TOKEN_LABELS,
        },
        Measure::TotalTokens,
    ),
    (
        MetricSpec {
            name: "litellm_input_tokens_metric",
            kind: Kind::Counter,
            help: "Total number of input tokens from LLM requests",
            labels: TOKEN_LABELS,
        },
        Measure::InputTokens,
    ),
    (
        MetricSpec {
            name: "litellm_output_tokens_metric",
            kind: Kind::Counter,
            help: "Total number of output tokens from LLM requests",
            labels: TOKEN_LABELS,
        },
        Measure::OutputTokens,
    ),
    (
        MetricSpec {
            name: "litellm_request_total_latency_metric",
            kind: Kind::Histogram,
            help: "Total latency (seconds) for a request to LiteLLM",
            labels: &[
                "model_group", "end_user", "hashed_api_key", "api_key_alias", "requested_model", "team",
                "team_alias", "user", "model", "model_id", "api_provider", "service_tier",
            ],
        },
        Measure::TotalLatency,
    ),
    (
        MetricSpec {
            name: "litellm_llm_api_latency_metric",
            kind: Kind::Histogram,
            help: "Total latency (seconds) for a models LLM API call",
            labels: API_LATENCY_LABELS,
        },
        Measure::ApiLatency,
    ),
    (
        MetricSpec {
            name: "litellm_llm_api_time_to_first_token_metric",
            kind: Kind::Histogram,
            help: "Time to first token for a models LLM API call",
            labels: API_LATENCY_LABELS,
        },
        Measure::Ttft,
    ),
    (
        MetricSpec {
            name: "litellm_overhead_latency_metric",
            kind: Kind::Histogram,
            help: "Latency overhead (seconds) added by LiteLLM processing",
            labels: &[
                "model_group", "api_provider", "api_base", "litellm_model_name", "hashed_api_key",
                "api_key_alias", "model_id",
            ],
        },
        Measure::Overhead,
    ),
    (
        MetricSpec {
            name: "litellm_deployment_total_requests",
            kind: Kind::Counter,
            help: "LLM Deployment Analytics - Total number of LLM API calls via litellm - success + failure",
            labels: DEPLOYMENT_LABELS,
        },
        Measure::DeploymentTotal,
    ),
    (
        MetricSpec {
            name: "litellm_deployment_success_responses",
            kind: Kind::Counter,
            help: "LLM Deployment Analytics - Total number of successful LLM API calls via litellm",
            labels: DEPLOYMENT_LABELS,
        },
        Measure::DeploymentSuccess,
    ),
    (
        MetricSpec {
            name: "litellm_deployment_failure_responses",
            kind: Kind::Counter,
            help: "LLM Deployment Analytics - Total number of failed LLM API calls for a specific LLM deploymeny. exception_status is the status of the exception from the llm api",
            labels: &[
                "model_group", "requested_model", "litellm_model_name", "model_id", "api_base", "api_provider",
                "exception_status", "exception_class", "hashed_api_key", "api_key_alias", "team", "team_alias",
                "client_ip", "user_agent",
            ],
        },
        Measure::DeploymentFailure,
    ),
];

const TOKEN_LABELS: &[&str] = &[
    "end_user",
    "hashed_api_key",
    "api_key_alias",
    "model",
    "team",
    "team_alias",
    "user",
    "user_email",
    "requested_model",
    "model_id",
    "api_provider",
];

const API_LATENCY_LABELS: &[&str] = &[
    "model_group",
    "model",
    "hashed_api_key",
    "api_key_alias",
    "team",
    "team_alias",
    "requested_model",
    "end_user",
    "user",
    "model_id",
    "api_provider",
    "service_tier",
];

const DEPLOYMENT_LABELS: &[&str] = &[
    "model_group",
    "requested_model",
    "litellm_model_name",
    "model_id",
    "api_base",
    "api_provider",
    "hashed_api_key",
    "api_key_alias",
    "team",
    "team_alias",
    "client_ip",
    "user_agent",
];

/// Deployment state and cooldowns (per deployment, from the Router and the health checks).
const DEPLOYMENT_STATE: MetricSpec = MetricSpec {
    name: "litellm_deployment_state",
    kind: Kind::Gauge,
    help: "LLM Deployment Analytics - The state of the deployment: 0 = healthy, 1 = partial outage, 2 = complete outage",
    labels: &["litellm_model_name", "model_id", "api_base", "api_provider"],
};

const DEPLOYMENT_COOLED_DOWN: MetricSpec = MetricSpec {
    name: "litellm_deployment_cooled_down",
    kind: Kind::Counter,
    help: "LLM Deployment Analytics - Number of times a deployment has been cooled down by LiteLLM load balancing logic. exception_status is the status of the exception that caused the deployment to be cooled down",
    labels: &[
        "litellm_model_name",
        "model_id",
        "api_base",
        "api_provider",
        "exception_status",
    ],
};

/// Rate-limit headroom of a key on a model (from the limiter's counters).
const REMAINING_REQUESTS: MetricSpec = MetricSpec {
    name: "litellm_remaining_api_key_requests_for_model",
    kind: Kind::Gauge,
    help: "Remaining Requests API Key can make for model (model based rpm limit on key)",
    labels: &["hashed_api_key", "api_key_alias", "model", "model_id"],
};

const REMAINING_TOKENS: MetricSpec = MetricSpec {
    name: "litellm_remaining_api_key_tokens_for_model",
    kind: Kind::Gauge,
    help: "Remaining Tokens API Key can make for model (model based tpm limit on key)",
    labels: &["hashed_api_key", "api_key_alias", "model", "model_id"],
};

/// Every metric name `/metrics` can show, for the dashboard check and the README.
pub fn metric_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = REQUEST_METRICS.iter().map(|(s, _)| s.name).collect();
    names.extend([
        DEPLOYMENT_STATE.name,
        DEPLOYMENT_COOLED_DOWN.name,
        REMAINING_REQUESTS.name,
        REMAINING_TOKENS.name,
    ]);
    for (scope, _) in BUDGET_SCOPES {
        names.extend(scope.names());
    }
    names
}

/// One budget as the spend ledger sees it when `/metrics` is read.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetRow {
    /// A key, a user or a team.
    pub owner: Owner,
    /// The key's hash, the team's or the user's id.
    pub id: String,
    /// USD spent in the current budget window.
    pub spent: f64,
    /// `max_budget`.
    pub max: f64,
    /// When the window resets (`budget_reset_at`, milliseconds since the epoch).
    pub resets_at_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BudgetScope {
    Key,
    Team,
    User,
}

impl BudgetScope {
    /// remaining, max, remaining hours.
    fn names(self) -> [&'static str; 3] {
        match self {
            BudgetScope::Key => [
                "litellm_remaining_api_key_budget_metric",
                "litellm_api_key_max_budget_metric",
                "litellm_api_key_budget_remaining_hours_metric",
            ],
            BudgetScope::Team => [
                "litellm_remaining_team_budget_metric",
                "litellm_team_max_budget_metric",
                "litellm_team_budget_remaining_hours_metric",
            ],
            BudgetScope::User => [
                "litellm_remaining_user_budget_metric",
                "litellm_user_max_budget_metric",
                "litellm_user_budget_remaining_hours_metric",
            ],
        }
    }
}

const BUDGET_SCOPES: [(BudgetScope, &[&str]); 3] = [
    (BudgetScope::Key, &["hashed_api_key", "api_key_alias"]),
    (BudgetScope::Team, &["team", "team_alias"]),
    (BudgetScope::User, &["user"]),
];

/// An f64 in an `AtomicU64`, added to with compare-and-swap.
#[derive(Default)]
struct AtomicF64(AtomicU64);

impl AtomicF64 {
    fn add(&self, v: f64) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + v).to_bits())
            });
    }

    fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// A latency histogram with LiteLLM's buckets (non-cumulative counts; summed at scrape).
#[derive(Default)]
pub(crate) struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum: AtomicF64,
}

impl Histogram {
    pub(crate) fn observe(&self, seconds: f64) {
        let i = LATENCY_BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum.add(seconds);
    }

    fn counts(&self) -> [u64; LATENCY_BUCKETS.len() + 1] {
        std::array::from_fn(|i| self.buckets[i].load(Ordering::Relaxed))
    }

    /// Its samples under `labels` (`name="value",...`), nothing when it saw nothing.
    pub(crate) fn encode(&self, out: &mut String, name: &str, labels: &str) {
        let counts = self.counts();
        if counts.iter().any(|c| *c > 0) {
            write_histogram(out, name, labels, &counts, self.sum.get());
        }
    }
}

/// One histogram series: cumulative `_bucket` samples (LiteLLM's buckets, then `+Inf`),
/// `_count` and `_sum`.
fn write_histogram(out: &mut String, name: &str, labels: &str, counts: &[u64], sum: f64) {
    let mut cumulative = 0;
    for (i, c) in counts.iter().enumerate() {
        cumulative += c;
        let le = LATENCY_BUCKETS
            .get(i)
            .map(|b| format_float(*b))
            .unwrap_or_else(|| "+Inf".to_string());
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
    }
    let _ = writeln!(out, "{name}_count{{{labels}}} {cumulative}");
    let _ = writeln!(out, "{name}_sum{{{labels}}} {}", format_float(sum));
}

/// The label values of one request outcome: who, which model, which status.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SeriesKey {
    key_hash: Option<Arc<str>>,
    key_alias: Option<String>,
    team: Option<String>,
    team_alias: Option<String>,
    user: Option<String>,
    requested_model: String,
    model_group: String,
    /// Index into [`Metrics::deployments`]; `None` when no deployment answered.
    deployment: Option<usize>,
    route: &'static str,
    status: u16,
}

/// Counters of one label set.
#[derive(Default)]
struct RequestSeries {
    requests: AtomicU64,
    spend: AtomicF64,
    input_tokens: AtomicU64,
    output_tokens: AtomicU64,
    total_latency: Histogram,
    api_latency: Histogram,
    overhead: Histogram,
    ttft: Histogram,
    /// Rate-limit headroom after the latest request of this set (`u64::MAX`: unknown),
    /// with the sequence number of that request (the latest wins across statuses).
    remaining_requests: AtomicU64,
    remaining_tokens: AtomicU64,
    seq: AtomicU64,
}

/// A label set and its counters.
type Series = (SeriesKey, Arc<RequestSeries>);

/// A deployment's fixed labels.
#[derive(Debug, Clone)]
struct DeploymentLabels {
    id: String,
    /// The model group (`model_name`).
    group: String,
    /// `litellm_params.model`.
    model: String,
    api_base: String,
    provider: String,
}

/// The proxy's metrics: request series, deployment state, budgets.
pub struct Metrics {
    series: RwLock<HashMap<u64, Vec<Series>>>,
    deployments: Vec<DeploymentLabels>,
    by_id: HashMap<String, usize>,
    /// Per deployment: the health checks' last verdict (0 healthy, 1 failing).
    probe_state: Vec<AtomicU8>,
    /// Per deployment: cooldowns (the Router's and the health checks'), by the status
    /// that caused them.
    cooled_down: Mutex<BTreeMap<(usize, u16), u64>>,
    /// How many label sets `series` holds.
    count: std::sync::atomic::AtomicUsize,
    /// Per deployment: failed calls by status, as the Router reports them (each attempt,
    /// retries included); a lock per deployment, taken on failures only.
    call_failures: Vec<Mutex<BTreeMap<u16, u64>>>,
    seq: AtomicU64,
}

/// `model_info.id` → labels. `api_base` without a query string (it may carry a key).
fn deployment_labels(d: &Deployment) -> DeploymentLabels {
    let text = |k: &str| d.params.get(k).and_then(Value::as_str).unwrap_or("");
    let model = text("model").to_string();
    let provider = match d.params.get("custom_llm_provider").and_then(Value::as_str) {
        Some(p) => p.to_string(),
        None => model
            .split_once('/')
            .map(|(p, _)| p.to_string())
            .unwrap_or_else(|| "openai".to_string()),
    };
    let base = if text("api_base").is_empty() {
        text("base_url")
    } else {
        text("api_base")
    };
    DeploymentLabels {
        id: d.id.clone(),
        group: d.group.clone(),
        model,
        api_base: base.split(['?', '#']).next().unwrap_or("").to_string(),
        provider,
    }
}

/// LiteLLM's exception class for an HTTP status (`openai`'s error names).
fn exception_class(status: u16) -> &'static str {
    match status {
        400 => "BadRequestError",
        401 => "AuthenticationError",
        403 => "PermissionDeniedError",
        404 => "NotFoundError",
        408 => "Timeout",
        422 => "UnprocessableEntityError",
        429 => "RateLimitError",
        499 => "ClientClosedRequest",
        503 => "ServiceUnavailableError",
        500..=599 => "InternalServerError",
        _ => "APIError",
    }
}

fn route_path(route: &str) -> &'static str {
    match route {
        "chat" => "/chat/completions",
        "completions" => "/completions",
        "embeddings" => "/embeddings",
        "rerank" => "/rerank",
        "moderations" => "/moderations",
        "images/generations" => "/images/generations",
        "audio/speech" => "/audio/speech",
        "audio/transcriptions" => "/audio/transcriptions",
        "images/edits" => "/images/edits",
        r if r.starts_with("files/") => "/files",
        r if r.starts_with("batches/") => "/batches",
        _ => "/",
    }
}

fn hash_key(ev: &SpendEvent, requested: &str, deployment: Option<usize>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    ev.key_hash.as_deref().hash(&mut h);
    let grant = ev.grant.as_deref();
    grant.and_then(|g| g.key_alias.as_deref()).hash(&mut h);
    grant.and_then(|g| g.team_id.as_deref()).hash(&mut h);
    grant.and_then(|g| g.team_alias.as_deref()).hash(&mut h);
    grant.and_then(|g| g.user_id.as_deref()).hash(&mut h);
    requested.hash(&mut h);
    ev.model_group.hash(&mut h);
    deployment.hash(&mut h);
    ev.route.hash(&mut h);
    ev.status.hash(&mut h);
    h.finish()
}

impl SeriesKey {
    fn matches(&self, ev: &SpendEvent, requested: &str, deployment: Option<usize>) -> bool {
        let grant = ev.grant.as_deref();
        self.status == ev.status
            && self.deployment == deployment
            && self.route == ev.route
            && self.model_group == ev.model_group
            && self.requested_model == requested
            && self.key_hash.as_deref() == ev.key_hash.as_deref()
            && self.key_alias.as_deref() == grant.and_then(|g| g.key_alias.as_deref())
            && self.team.as_deref() == grant.and_then(|g| g.team_id.as_deref())
            && self.team_alias.as_deref() == grant.and_then(|g| g.team_alias.as_deref())
            && self.user.as_deref() == grant.and_then(|g| g.user_id.as_deref())
    }

    fn of(ev: &SpendEvent, requested: &str, deployment: Option<usize>) -> SeriesKey {
        let grant = ev.grant.as_deref();
        SeriesKey {
            key_hash: ev.key_hash.clone(),
            key_alias: grant.and_then(|g| g.key_alias.clone()),
            team: grant.and_then(|g| g.team_id.clone()),
            team_alias: grant.and_then(|g| g.team_alias.clone()),
            user: grant.and_then(|g| g.user_id.clone()),
            requested_model: requested.to_string(),
            model_group: ev.model_group.clone(),
            deployment,
            route: ev.route,
            status: ev.status,
        }
    }
}

impl Metrics {
    /// Metrics for these deployments (labels are read once here).
    pub fn new(deployments: &[Deployment]) -> Metrics {
        let labels: Vec<DeploymentLabels> = deployments.iter().map(deployment_labels).collect();
        let by_id = labels
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.clone(), i))
            .collect();
        Metrics {
            probe_state: labels.iter().map(|_| AtomicU8::new(0)).collect(),
            call_failures: labels.iter().map(|_| Mutex::default()).collect(),
            series: RwLock::new(HashMap::new()),
            by_id,
            deployments: labels,
            cooled_down: Mutex::new(BTreeMap::new()),
            count: std::sync::atomic::AtomicUsize::new(0),
            seq: AtomicU64::new(0),
        }
    }

    /// Count a finished request. No allocation once its label set has been seen: the
    /// values are hashed where they are, and the series found under a read lock.
    pub fn observe(&self, ev: &SpendEvent) {
        let deployment = self.by_id.get(ev.model_id.as_str()).copied();
        let series = match self.find(ev, &ev.requested_model, deployment) {
            Some(s) => s,
            // A wildcard group takes any model name: past the cap, new names count under
            // their group's name, so that clients cannot grow the map without bound.
            None if self.count.load(Ordering::Relaxed) >= MAX_SERIES => self
                .find(ev, &ev.model_group, deployment)
                .unwrap_or_else(|| self.insert(ev, &ev.model_group, deployment)),
            None => self.insert(ev, &ev.requested_model, deployment),
        };
        series.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(cost) = ev.cost.filter(|c| *c > 0.0) {
            series.spend.add(cost);
        }
        series
            .input_tokens
            .fetch_add(ev.prompt_tokens, Ordering::Relaxed);
        series
            .output_tokens
            .fetch_add(ev.completion_tokens, Ordering::Relaxed);
        let total = ev.duration.as_secs_f64();
        series.total_latency.observe(total);
        if let Some(api) = ev.llm_api_duration {
            series.api_latency.observe(api.as_secs_f64());
            series
                .overhead
                .observe((total - api.as_secs_f64()).max(0.0));
        }
        if let Some(t) = ev.time_to_first_token {
            series.ttft.observe(t.as_secs_f64());
        }
        if let Some((requests, tokens)) = ev.rate_limit_remaining {
            let seq = self.seq.fetch_add(1, Ordering::Relaxed);
            series
                .remaining_requests
                .store(requests.unwrap_or(u64::MAX), Ordering::Relaxed);
            series
                .remaining_tokens
                .store(tokens.unwrap_or(u64::MAX), Ordering::Relaxed);
            series.seq.store(seq, Ordering::Relaxed);
        }
    }

    /// The counters of a label set already seen (a read lock, no allocation).
    fn find(
        &self,
        ev: &SpendEvent,
        requested: &str,
        deployment: Option<usize>,
    ) -> Option<Arc<RequestSeries>> {
        let hash = hash_key(ev, requested, deployment);
        let map = self.series.read().unwrap_or_else(|e| e.into_inner());
        map.get(&hash).and_then(|v| {
            v.iter()
                .find(|(k, _)| k.matches(ev, requested, deployment))
                .map(|(_, s)| Arc::clone(s))
        })
    }

    /// The counters of a new label set (unless another request just added it).
    fn insert(
        &self,
        ev: &SpendEvent,
        requested: &str,
        deployment: Option<usize>,
    ) -> Arc<RequestSeries> {
        let hash = hash_key(ev, requested, deployment);
        let mut map = self.series.write().unwrap_or_else(|e| e.into_inner());
        let bucket = map.entry(hash).or_default();
        if let Some((_, s)) = bucket
            .iter()
            .find(|(k, _)| k.matches(ev, requested, deployment))
        {
            return Arc::clone(s);
        }
        let s = Arc::new(RequestSeries {
            remaining_requests: AtomicU64::new(u64::MAX),
            remaining_tokens: AtomicU64::new(u64::MAX),
            ..RequestSeries::default()
        });
        bucket.push((SeriesKey::of(ev, requested, deployment), Arc::clone(&s)));
        self.count.fetch_add(1, Ordering::Relaxed);
        s
    }

    /// How many label sets have been seen.
    #[cfg(test)]
    fn series_count(&self) -> usize {
        let map = self.series.read().unwrap_or_else(|e| e.into_inner());
        map.values().map(Vec::len).sum()
    }

    /// The health checks' verdict on a deployment (`model_info.id`).
    pub fn set_probe_result(&self, model_id: &str, healthy: bool) {
        if let Some(&i) = self.by_id.get(model_id) {
            self.probe_state[i].store(u8::from(!healthy), Ordering::Relaxed);
        }
    }

    /// A deployment was put into cooldown because of `status`.
    pub fn count_cooldown(&self, model_id: &str, status: u16) {
        if let Some(&i) = self.by_id.get(model_id) {
            self.count_cooldown_at(i, status);
        }
    }

    fn count_cooldown_at(&self, i: usize, status: u16) {
        let mut map = self.cooled_down.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry((i, status)).or_default() += 1;
    }

    /// A call to deployment `index` (the Router's order) failed with `status`, and put
    /// it into cooldown or not (the Router's failure sink).
    pub fn deployment_failed(&self, index: usize, status: u16, cooled: bool) {
        let Some(slot) = self.call_failures.get(index) else {
            return;
        };
        *slot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(status)
            .or_default() += 1;
        if cooled {
            self.count_cooldown_at(index, status);
        }
    }

    /// The Router's failed calls as label sets of a deployment metric: the deployment's
    /// labels and the status; the caller is not known there (`None`).
    fn failure_rows(&self, spec: &MetricSpec, out: &mut BTreeMap<String, f64>) {
        for (i, slot) in self.call_failures.iter().enumerate() {
            let Some(d) = self.deployments.get(i) else {
                continue;
            };
            let counts: Vec<(u16, u64)> = slot
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|(s, n)| (*s, *n))
                .collect();
            for (status, n) in counts {
                let k = SeriesKey {
                    key_hash: None,
                    key_alias: None,
                    team: None,
                    team_alias: None,
                    user: None,
                    requested_model: String::new(),
                    model_group: d.group.clone(),
                    deployment: Some(i),
                    route: "",
                    status,
                };
                *out.entry(self.labels_text(spec.labels, &k)).or_default() += n as f64;
            }
        }
    }

    /// The Prometheus text exposition of every metric. `stats`: the Router's live view
    /// of each deployment (cooldowns), in deployment order; `budgets`: the spend
    /// ledger's budgets now; `now_ms`: the time their remaining hours count from.
    pub fn encode(&self, stats: &[DeploymentStats], budgets: &[BudgetRow], now_ms: i64) -> String {
        let snapshot: Vec<Series> = {
            let map = self.series.read().unwrap_or_else(|e| e.into_inner());
            map.values().flatten().cloned().collect()
        };
        let mut out = String::with_capacity(4096 + snapshot.len() * 2048);
        for (spec, measure) in REQUEST_METRICS {
            self.encode_request_metric(&mut out, spec, *measure, &snapshot);
        }
        self.encode_deployment_state(&mut out, stats);
        self.encode_cooldowns(&mut out);
        self.encode_headroom(&mut out, &snapshot);
        self.encode_budgets(&mut out, &snapshot, budgets, now_ms);
        out
    }

    fn label_value<'a>(&'a self, name: &str, k: &'a SeriesKey) -> &'a str {
        let d = k.deployment.and_then(|i| self.deployments.get(i));
        let opt = |v: Option<&'a str>| v.filter(|s| !s.is_empty()).unwrap_or(NONE);
        match name {
            "hashed_api_key" => opt(k.key_hash.as_deref()),
            "api_key_alias" => opt(k.key_alias.as_deref()),
            "team" => opt(k.team.as_deref()),
            "team_alias" => opt(k.team_alias.as_deref()),
            "user" => opt(k.user.as_deref()),
            "requested_model" => opt(Some(&k.requested_model)),
            "model_group" => opt(Some(&k.model_group)),
            "model" | "litellm_model_name" => opt(d.map(|d| d.model.as_str())),
            "model_id" => opt(d.map(|d| d.id.as_str())),
            "api_base" => opt(d.map(|d| d.api_base.as_str())),
            "api_provider" => opt(d.map(|d| d.provider.as_str())),
            "route" => route_path(k.route),
            "exception_class" => exception_class(k.status),
            // status_code / exception_status are written by the caller (numbers).
            _ => NONE,
        }
    }

    fn labels_text(&self, labels: &[&str], k: &SeriesKey) -> String {
        let mut s = String::new();
        for (i, name) in labels.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(name);
            s.push_str("=\"");
            match *name {
                "status_code" | "exception_status" => {
                    let _ = write!(s, "{}", k.status);
                }
                _ => escape_into(&mut s, self.label_value(name, k)),
            }
            s.push('"');
        }
        s
    }

    fn encode_request_metric(
        &self,
        out: &mut String,
        spec: &MetricSpec,
        measure: Measure,
        snapshot: &[Series],
    ) {
        header(out, spec);
        match spec.kind {
            Kind::Histogram => {
                let mut rows: BTreeMap<String, ([u64; LATENCY_BUCKETS.len() + 1], f64)> =
                    BTreeMap::new();
                for (k, s) in snapshot {
                    let h = match measure {
                        Measure::TotalLatency => &s.total_latency,
                        Measure::ApiLatency => &s.api_latency,
                        Measure::Overhead => &s.overhead,
                        _ => &s.ttft,
                    };
                    let counts = h.counts();
                    if counts.iter().all(|c| *c == 0) {
                        continue;
                    }
                    let row = rows
                        .entry(self.labels_text(spec.labels, k))
                        .or_insert(([0; LATENCY_BUCKETS.len() + 1], 0.0));
                    for (acc, c) in row.0.iter_mut().zip(counts) {
                        *acc += c;
                    }
                    row.1 += h.sum.get();
                }
                for (labels, (counts, sum)) in rows {
                    write_histogram(out, spec.name, &labels, &counts, sum);
                }
            }
            _ => {
                let mut rows: BTreeMap<String, f64> = BTreeMap::new();
                for (k, s) in snapshot {
                    let requests = s.requests.load(Ordering::Relaxed) as f64;
                    let failed = k.status >= 400;
                    let v = match measure {
                        Measure::Requests => requests,
                        Measure::Failed if failed => requests,
                        Measure::Spend => s.spend.get(),
                        Measure::InputTokens => s.input_tokens.load(Ordering::Relaxed) as f64,
                        Measure::OutputTokens => s.output_tokens.load(Ordering::Relaxed) as f64,
                        Measure::TotalTokens => {
                            (s.input_tokens.load(Ordering::Relaxed)
                                + s.output_tokens.load(Ordering::Relaxed))
                                as f64
                        }
                        // Deployment calls: successes here, failures from the Router.
                        Measure::DeploymentTotal | Measure::DeploymentSuccess
                            if k.deployment.is_some() && !failed =>
                        {
                            requests
                        }
                        _ => continue,
                    };
                    // Spend and tokens only for series that had any, as LiteLLM only
                    // increments them for successful calls.
                    if v == 0.0 && !matches!(measure, Measure::Requests) {
                        continue;
                    }
                    *rows.entry(self.labels_text(spec.labels, k)).or_default() += v;
                }
                if matches!(
                    measure,
                    Measure::DeploymentTotal | Measure::DeploymentFailure
                ) {
                    self.failure_rows(spec, &mut rows);
                }
                let suffix = if spec.kind == Kind::Counter {
                    "_total"
                } else {
                    ""
                };
                for (labels, v) in rows {
                    let _ = writeln!(out, "{}{suffix}{{{labels}}} {}", spec.name, format_float(v));
                }
            }
        }
    }

    fn deployment_labels_text(&self, d: &DeploymentLabels, extra: Option<(&str, u16)>) -> String {
        let mut s = String::new();
        for (name, v) in [
            ("litellm_model_name", d.model.as_str()),
            ("model_id", d.id.as_str()),
            ("api_base", d.api_base.as_str()),
            ("api_provider", d.provider.as_str()),
        ] {
            if !s.is_empty() {
                s.push(',');
            }
            s.push_str(name);
            s.push_str("=\"");
            escape_into(&mut s, if v.is_empty() { NONE } else { v });
            s.push('"');
        }
        if let Some((name, status)) = extra {
            let _ = write!(s, ",{name}=\"{status}\"");
        }
        s
    }

    fn encode_deployment_state(&self, out: &mut String, stats: &[DeploymentStats]) {
        header(out, &DEPLOYMENT_STATE);
        for (i, d) in self.deployments.iter().enumerate() {
            let cooling = stats.get(i).is_some_and(|s| s.cooldown_left.is_some());
            let state = if cooling {
                2
            } else {
                self.probe_state[i].load(Ordering::Relaxed)
            };
            let _ = writeln!(
                out,
                "{}{{{}}} {state}",
                DEPLOYMENT_STATE.name,
                self.deployment_labels_text(d, None)
            );
        }
    }

    fn encode_cooldowns(&self, out: &mut String) {
        header(out, &DEPLOYMENT_COOLED_DOWN);
        let map = self.cooled_down.lock().unwrap_or_else(|e| e.into_inner());
        for ((i, status), n) in map.iter() {
            if let Some(d) = self.deployments.get(*i) {
                let _ = writeln!(
                    out,
                    "{}_total{{{}}} {n}",
                    DEPLOYMENT_COOLED_DOWN.name,
                    self.deployment_labels_text(d, Some(("exception_status", *status)))
                );
            }
        }
    }

    fn encode_headroom(&self, out: &mut String, snapshot: &[Series]) {
        for (spec, pick) in [(&REMAINING_REQUESTS, 0), (&REMAINING_TOKENS, 1)] {
            header(out, spec);
            // The latest reading per label set.
            let mut rows: BTreeMap<String, (u64, u64)> = BTreeMap::new();
            for (k, s) in snapshot {
                let v = if pick == 0 {
                    s.remaining_requests.load(Ordering::Relaxed)
                } else {
                    s.remaining_tokens.load(Ordering::Relaxed)
                };
                if v == u64::MAX || k.key_hash.is_none() {
                    continue;
                }
                let seq = s.seq.load(Ordering::Relaxed);
                let row = rows
                    .entry(self.labels_text(spec.labels, k))
                    .or_insert((seq, v));
                if seq >= row.0 {
                    *row = (seq, v);
                }
            }
            for (labels, (_, v)) in rows {
                let _ = writeln!(out, "{}{{{labels}}} {v}", spec.name);
            }
        }
    }

    fn encode_budgets(
        &self,
        out: &mut String,
        snapshot: &[Series],
        budgets: &[BudgetRow],
        now_ms: i64,
    ) {
        // Aliases as the latest requests carried them (the ledger knows ids only).
        let mut key_alias: HashMap<&str, &str> = HashMap::new();
        let mut team_alias: HashMap<&str, &str> = HashMap::new();
        for (k, _) in snapshot {
            if let (Some(h), Some(a)) = (k.key_hash.as_deref(), k.key_alias.as_deref()) {
                key_alias.insert(h, a);
            }
            if let (Some(t), Some(a)) = (k.team.as_deref(), k.team_alias.as_deref()) {
                team_alias.insert(t, a);
            }
        }
        for (scope, label_names) in BUDGET_SCOPES {
            let rows: Vec<(String, &BudgetRow)> = budgets
                .iter()
                .filter_map(|r| {
                    let values: Vec<&str> = match (scope, r.owner) {
                        (BudgetScope::Key, Owner::Key) => {
                            vec![&r.id, key_alias.get(r.id.as_str()).copied().unwrap_or(NONE)]
                        }
                        (BudgetScope::Team, Owner::Team) => {
                            vec![
                                &r.id,
                                team_alias.get(r.id.as_str()).copied().unwrap_or(NONE),
                            ]
                        }
                        (BudgetScope::User, Owner::User) => vec![&r.id],
                        _ => return None,
                    };
                    let mut s = String::new();
                    for (i, (n, v)) in label_names.iter().zip(values).enumerate() {
                        if i > 0 {
                            s.push(',');
                        }
                        let _ = write!(s, "{n}=\"");
                        escape_into(&mut s, v);
                        s.push('"');
                    }
                    Some((s, r))
                })
                .collect();
            let names = scope.names();
            for (n, help) in names.iter().zip([
                "Remaining budget",
                "Maximum budget set",
                "Remaining hours before the budget is reset",
            ]) {
                let _ = writeln!(out, "# HELP {n} {help}\n# TYPE {n} gauge");
                for (labels, r) in &rows {
                    let v = match *n {
                        x if x == names[0] => r.max - r.spent,
                        x if x == names[1] => r.max,
                        _ => match r.resets_at_ms {
                            Some(at) => (at - now_ms).max(0) as f64 / 3_600_000.0,
                            None => continue,
                        },
                    };
                    let _ = writeln!(out, "{n}{{{labels}}} {}", format_float(v));
                }
            }
        }
    }

    /// The alias requests of this key hash carried (for alerts, which know the hash).
    pub fn key_alias(&self, hash: &str) -> Option<String> {
        let map = self.series.read().unwrap_or_else(|e| e.into_inner());
        map.values()
            .flatten()
            .find(|(k, _)| k.key_hash.as_deref() == Some(hash) && k.key_alias.is_some())
            .and_then(|(k, _)| k.key_alias.clone())
    }
}

fn header(out: &mut String, spec: &MetricSpec) {
    let kind = match spec.kind {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
        Kind::Histogram => "histogram",
    };
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}",
        name = spec.name,
        help = spec.help
    );
}

/// Prometheus label-value escaping: backslash, double quote, newline.
fn escape_into(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
}

/// Python's float repr for whole numbers (`1.0`), Rust's shortest round-trip otherwise.
fn format_float(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests;
