//! One spend event per request, sent to a channel for a batched writer (issue 15) and
//! for metrics (issue 16). Sending never waits: when the channel is full the event is
//! dropped and counted, so a slow writer cannot slow the request path. Without a sink
//! (the default) no event is built at all.
//!
//! With a database, the sink also charges each event to the [`Ledger`] as it is sent
//! (budgets see it at once, and a dropped event loses its log row, never its spend), and
//! [`writer`] writes both in batches.

pub mod writer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;

use super::auth::KeyGrant;
use super::budget::Ledger;

/// What one request did and cost.
#[derive(Debug, Clone)]
pub struct SpendEvent {
    /// `x-litellm-call-id` of the response.
    pub call_id: String,
    /// The route family: `chat`, `completions`, `embeddings`.
    pub route: &'static str,
    /// The caller's key hash (`None` without auth).
    pub key_hash: Option<Arc<str>>,
    /// The key's user (`user_id`), and team (`team_id`).
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    /// The request's `user` field: LiteLLM's end user (customer).
    pub end_user: Option<String>,
    /// The model the client asked for.
    pub requested_model: String,
    pub model_group: String,
    /// The deployment that answered (`model_info.id`), empty when none did.
    pub model_id: String,
    pub provider: String,
    /// USD; `None` when the model has no price (or the request failed).
    pub cost: Option<f64>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub stream: bool,
    /// The HTTP status sent (200 for a stream that ended with an error event).
    pub status: u16,
    /// The reply came from the response cache.
    pub cache_hit: bool,
    pub started: SystemTime,
    pub duration: Duration,
    /// The caller's key alias, user and team (virtual keys), for metrics and logs.
    pub grant: Option<Arc<KeyGrant>>,
    /// How long the provider took (`x-litellm-response-duration-ms` less the overhead);
    /// `None` when no provider answered.
    pub llm_api_duration: Option<Duration>,
    /// Streams: when the first chunk reached the client, from the request's start.
    pub time_to_first_token: Option<Duration>,
    /// The limiter's headroom after this request (remaining requests, tokens), when a
    /// limit applied.
    pub rate_limit_remaining: Option<(Option<u64>, Option<u64>)>,
    /// What each guardrail that ran did (empty: none ran).
    pub guardrails: Vec<super::guardrails::Record>,
}

/// Where spend events go.
#[derive(Debug)]
pub struct SpendSink {
    tx: mpsc::Sender<SpendEvent>,
    dropped: AtomicU64,
    /// Charged with every event sent (budgets and spend totals).
    ledger: Option<Arc<Ledger>>,
}

impl SpendSink {
    /// A sink and the receiver its writer reads; `capacity` events may wait.
    pub fn channel(capacity: usize) -> (SpendSink, mpsc::Receiver<SpendEvent>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (
            SpendSink {
                tx,
                dropped: AtomicU64::new(0),
                ledger: None,
            },
            rx,
        )
    }

    /// The same sink, charging every event it sends to `ledger` first.
    pub fn with_ledger(mut self, ledger: Arc<Ledger>) -> SpendSink {
        self.ledger = Some(ledger);
        self
    }

    /// The ledger events are charged to, if any.
    pub fn ledger(&self) -> Option<&Arc<Ledger>> {
        self.ledger.as_ref()
    }

    /// Charge an event (with a ledger) and queue it without waiting.
    pub fn send(&self, event: SpendEvent) {
        if let Some(ledger) = &self.ledger {
            ledger.charge(&event);
        }
        if self.tx.try_send(event).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Events dropped because the channel was full or closed.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// A priced chat request's event for tests: 10 prompt and 20 completion tokens on
/// `gpt-4o` (deployment `dep-1`), charged to `key` and the owners given.
#[cfg(test)]
pub(crate) fn test_event(
    cost: f64,
    key: &str,
    user: Option<&str>,
    team: Option<&str>,
    end_user: Option<&str>,
) -> SpendEvent {
    SpendEvent {
        call_id: uuid::Uuid::new_v4().to_string(),
        route: "chat",
        key_hash: Some(Arc::from(key)),
        user_id: user.map(str::to_string),
        team_id: team.map(str::to_string),
        end_user: end_user.map(str::to_string),
        requested_model: "gpt-4o".into(),
        model_group: "gpt-4o".into(),
        model_id: "dep-1".into(),
        provider: "openai".into(),
        cost: Some(cost),
        prompt_tokens: 10,
        completion_tokens: 20,
        stream: false,
        status: 200,
        cache_hit: false,
        started: SystemTime::now(),
        duration: Duration::from_millis(5),
        grant: None,
        llm_api_duration: None,
        time_to_first_token: None,
        rate_limit_remaining: None,
        guardrails: Vec::new(),
    }
}
