//! Guardrails in the proxy: LiteLLM's `guardrails:` list in `config.yaml`, run on the
//! model routes whose JSON carries text for a model (chat completions, `/completions`,
//! `/embeddings`, `/responses`, `/v1/messages`, `/images/generations`, `/audio/speech`,
//! `/moderations`) around the same serve path every route shares.
//!
//! ```yaml
//! guardrails:
//!   - guardrail_name: pii
//!     litellm_params:
//!       guardrail: rustllm        # built-in detectors (also `builtin`, `presidio`)
//!       mode: pre_call            # pre_call | during_call | post_call, or a list
//!       default_on: true
//!       detect: [email, credit_card]
//!       action: mask              # block | mask | log | route
//!       restore: true
//! ```
//!
//! A guardrail runs on a request when it is `default_on`, when the request names it
//! (`guardrails: [...]` in the body or in `metadata`), or when the caller's key or team
//! names it (`guardrails` in the key's or team's metadata, LiteLLM's spelling). Names
//! nothing configures are refused with a 400 before anything else happens.
//!
//! Before the call (`pre_call`, and `during_call`, which rustllm runs before the call
//! too), the built-in detectors of every selected guardrail go over every text of the
//! request at once ([`crate::guardrails::apply`]): a blocking one refuses the request
//! (400, nothing reaches a provider), masking ones rewrite it (one placeholder per value),
//! `route` tags it `sensitive` (its `metadata.tags`, else its `tags`) so that the Router only picks
//! deployments allowed sensitive data. After the call (`post_call`), the model's reply is
//! checked the same way; then masked values are put back when the guardrail says
//! `restore` (JSON replies and streams).
//!
//! Every run is counted (Prometheus) and every decision recorded (the request log line,
//! the spend log row's `metadata.guardrail_information`, the audit log): guardrail,
//! hook, action, the kinds found and how many, never a matched value.
//!
//! A server with no `guardrails:` has no [`ProxyGuardrails`] at all: its requests do no
//! guardrail work.

pub mod batch;
pub mod external;
pub mod stream;

use std::fmt;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::auth::KeyGrant;
use super::config::ConfigError;
use super::errors::ProxyError;
use super::ops::metrics::Histogram;
use crate::guardrails::request::{apply, apply_reply, apply_reply_after, restore_reply};
use crate::guardrails::{config as builtin, Action, Blocked, Decision, Guardrail, Masker};
use external::{ExternalGuardrail, StreamItem};

/// The tag a `route` guardrail adds to a request it finds something in (the Router's
/// `sensitive_tags` default).
pub const SENSITIVE_TAG: &str = "sensitive";

/// When a guardrail runs: LiteLLM's `mode` (event hook).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// Before the call, on the request.
    PreCall,
    /// LiteLLM runs it beside the call; rustllm runs it before the call, like
    /// `pre_call` (the built-in detectors take microseconds, and a block then stops the
    /// call before any byte leaves instead of cancelling it).
    DuringCall,
    /// After the call, on the reply.
    PostCall,
}

impl Hook {
    const ALL: [Hook; 3] = [Hook::PreCall, Hook::DuringCall, Hook::PostCall];

    fn parse(s: &str) -> Option<Hook> {
        match s.trim() {
            "pre_call" => Some(Hook::PreCall),
            "during_call" => Some(Hook::DuringCall),
            "post_call" => Some(Hook::PostCall),
            _ => None,
        }
    }

    /// The config spelling (and the metrics' `hook_type`).
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::PreCall => "pre_call",
            Hook::DuringCall => "during_call",
            Hook::PostCall => "post_call",
        }
    }

    fn before_call(self) -> bool {
        self != Hook::PostCall
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What does the checking.
#[derive(Clone)]
enum Engine {
    /// rustllm's detectors: one [`Guardrail`] per action of the entry.
    Builtin(Vec<Guardrail>),
    /// A class (LiteLLM's `CustomGuardrail`), through [`external::load`].
    External(Arc<dyn ExternalGuardrail>),
}

/// One entry of the `guardrails:` list.
#[derive(Clone)]
pub struct Entry {
    /// `guardrail_name`.
    pub name: String,
    /// `litellm_params.guardrail`.
    pub provider: String,
    /// `litellm_params.mode`, as given.
    pub hooks: Vec<Hook>,
    /// `litellm_params.default_on`: runs on every request.
    pub default_on: bool,
    engine: Engine,
    /// What `/guardrails/list` shows of it (no patterns, words or credentials).
    listed: Value,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("hooks", &self.hooks)
            .field("default_on", &self.default_on)
            .finish_non_exhaustive()
    }
}

impl Entry {
    fn runs_before(&self) -> bool {
        self.hooks.iter().any(|h| h.before_call())
    }

    fn runs_after(&self) -> bool {
        self.hooks.contains(&Hook::PostCall)
    }

    /// The hook a run before the call is counted under.
    fn before_hook(&self) -> Hook {
        if self.hooks.contains(&Hook::PreCall) {
            Hook::PreCall
        } else {
            Hook::DuringCall
        }
    }
}

/// `litellm_params` keys of a built-in guardrail (the rest are reported as ignored).
const BUILTIN_PARAMS: &[&str] = &[
    "guardrail",
    "mode",
    "default_on",
    "detect",
    "patterns",
    "words",
    "action",
    "restore",
    "pii_entities_config",
    "output_parse_pii",
];

/// Keys of a `guardrails:` entry rustllm reads.
const ENTRY_KEYS: &[&str] = &["guardrail_name", "litellm_params", "guardrail_info"];

/// The `guardrails:` list, read and checked at start.
#[derive(Debug, Clone, Default)]
pub struct GuardrailsConfig {
    /// The entries, in config order (the order they run in).
    pub entries: Vec<Entry>,
}

impl GuardrailsConfig {
    /// Read (and remove) the top-level `guardrails:` list. Every error names the entry
    /// (`guardrails[1] (pii).litellm_params.mode: ...`); unknown keys go to `ignored`.
    pub fn read(
        top: &mut Map<String, Value>,
        ignored: &mut Vec<String>,
    ) -> Result<GuardrailsConfig, ConfigError> {
        let list = match top.remove("guardrails") {
            None | Some(Value::Null) => return Ok(GuardrailsConfig::default()),
            Some(Value::Array(items)) => items,
            Some(_) => {
                return Err(ConfigError::at(
                    "guardrails",
                    "expected a list of {guardrail_name, litellm_params} entries",
                ))
            }
        };
        let mut entries: Vec<Entry> = Vec::with_capacity(list.len());
        for (i, item) in list.into_iter().enumerate() {
            let path = format!("guardrails[{i}]");
            let Value::Object(mut item) = item else {
                return Err(ConfigError::at(
                    &path,
                    "expected a mapping with guardrail_name and litellm_params",
                ));
            };
            let name = match item.get("guardrail_name") {
                Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
                _ => {
                    return Err(ConfigError::at(
                        &format!("{path}.guardrail_name"),
                        "expected the guardrail's name (a non-empty string)",
                    ))
                }
            };
            let path = format!("{path} ({name})");
            if entries.iter().any(|e| e.name == name) {
                return Err(ConfigError::at(
                    &format!("{path}.guardrail_name"),
                    "another entry has this name: guardrail names must be unique",
                ));
            }
            for key in item.keys() {
                if !ENTRY_KEYS.contains(&key.as_str()) {
                    ignored.push(format!("{path}.{key}"));
                }
            }
            let params = match item.remove("litellm_params") {
                Some(Value::Object(p)) => p,
                _ => {
                    return Err(ConfigError::at(
                        &format!("{path}.litellm_params"),
                        "expected a mapping (guardrail, mode, ...)",
                    ))
                }
            };
            let at = |key: &str| format!("{path}.litellm_params.{key}");
            let provider = match params.get("guardrail") {
                Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
                _ => {
                    return Err(ConfigError::at(
                        &at("guardrail"),
                        "expected rustllm, builtin or presidio (the built-in detectors), or a class as module.Class",
                    ))
                }
            };
            let hooks = read_hooks(params.get("mode"), &at("mode"))?;
            let default_on = match params.get("default_on") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    return Err(ConfigError::at(
                        &at("default_on"),
                        format!("expected true or false, got {other}"),
                    ))
                }
            };
            let engine = if builtin::is_builtin(&provider) {
                for key in params.keys() {
                    if !BUILTIN_PARAMS.contains(&key.as_str()) {
                        ignored.push(at(key));
                    }
                }
                let rules = builtin::from_params(&name, &params)
                    .map_err(|e| ConfigError::at(&format!("{path}.litellm_params"), e))?;
                if rules.iter().any(|g| g.action == Action::Route)
                    && !hooks.iter().any(|h| h.before_call())
                {
                    return Err(ConfigError::at(
                        &at("action"),
                        "route decides where the request goes: it needs mode pre_call or during_call",
                    ));
                }
                Engine::Builtin(rules)
            } else if provider.contains('.') {
                let g = external::load(&provider, &name, &params)
                    .map_err(|e| ConfigError::at(&at("guardrail"), e))?;
                Engine::External(g)
            } else {
                return Err(ConfigError::at(
                    &at("guardrail"),
                    format!(
                        "{provider:?} is not a guardrail rustllm has: use rustllm, builtin or presidio (the built-in detectors), or a class as module.Class"
                    ),
                ));
            };
            let listed = list_entry(&name, &params, item.get("guardrail_info"));
            entries.push(Entry {
                name,
                provider,
                hooks,
                default_on,
                engine,
                listed,
            });
        }
        Ok(GuardrailsConfig { entries })
    }
}

fn read_hooks(mode: Option<&Value>, path: &str) -> Result<Vec<Hook>, ConfigError> {
    const WANT: &str = "expected pre_call, during_call or post_call (or a list of them)";
    let one = |v: &Value| -> Result<Hook, ConfigError> {
        v.as_str()
            .and_then(Hook::parse)
            .ok_or_else(|| ConfigError::at(path, format!("{WANT}, got {v}")))
    };
    let hooks = match mode {
        None | Some(Value::Null) => {
            return Err(ConfigError::at(path, format!("mode is required: {WANT}")))
        }
        Some(Value::Array(items)) if !items.is_empty() => {
            items.iter().map(one).collect::<Result<Vec<_>, _>>()?
        }
        Some(v @ Value::String(_)) => vec![one(v)?],
        Some(other) => return Err(ConfigError::at(path, format!("{WANT}, got {other}"))),
    };
    Ok(hooks)
}

/// A `/guardrails/list` entry: LiteLLM's `{guardrail_name, litellm_params,
/// guardrail_info}`, with the params that could be secret left out or summarised:
/// credentials are dropped, user patterns and word lists show their labels only.
fn list_entry(name: &str, params: &Map<String, Value>, info: Option<&Value>) -> Value {
    let mut shown = Map::new();
    for (k, v) in params {
        let v = match k.as_str() {
            "patterns" | "words" => match v {
                Value::Object(m) => Value::Array(m.keys().map(|l| json!(l)).collect()),
                _ => continue,
            },
            k if crate::proxy::state::SECRET_PARAMS.contains(&k) => continue,
            k if k.contains("key") || k.contains("secret") || k.contains("token") => continue,
            _ => v.clone(),
        };
        shown.insert(k.clone(), v);
    }
    json!({
        "guardrail_name": name,
        "litellm_params": shown,
        "guardrail_info": info.cloned().unwrap_or(Value::Null),
    })
}

/// One guardrail's part in one request: what goes to logs, audit rows, spend rows and
/// metrics. Never a matched value.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// `guardrail_name`.
    pub guardrail: String,
    /// `litellm_params.guardrail` (`rustllm`, `presidio`, a class).
    pub provider: String,
    /// When it ran.
    pub hook: Hook,
    /// What it did: `None` when it let the request through untouched.
    pub action: Option<Action>,
    /// Kinds found (`EMAIL`, `CREDIT_CARD`, ...) and how many of each.
    pub kinds: Vec<(String, usize)>,
    /// How long it took (the whole hook's run, shared by the built-ins run together).
    pub duration: Duration,
}

impl Record {
    /// LiteLLM's `guardrail_status`.
    pub fn status(&self) -> &'static str {
        match self.action {
            None | Some(Action::Log) => "success",
            Some(_) => "guardrail_intervened",
        }
    }

    /// The spend row's `guardrail_information` entry (LiteLLM's
    /// `StandardLoggingGuardrailInformation` fields, and `detected_entity_count`).
    pub fn to_json(&self) -> Value {
        let counts: Map<String, Value> = self
            .kinds
            .iter()
            .map(|(k, n)| (k.clone(), json!(n)))
            .collect();
        let mut v = json!({
            "guardrail_name": self.guardrail,
            "guardrail_provider": self.provider,
            "guardrail_mode": self.hook.as_str(),
            "guardrail_status": self.status(),
            "guardrail_action": self.action.map(|a| a.as_str()),
            "duration": self.duration.as_secs_f64(),
            "detected_entity_count": counts,
        });
        if self.action == Some(Action::Mask) {
            v["masked_entity_count"] = Value::Object(counts);
        }
        v
    }

    /// The record as one log line's text: `guardrail "pii" (pre_call) mask: EMAIL x2`.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "guardrail {:?} ({}) {}",
            self.guardrail,
            self.hook.as_str(),
            self.action.map_or("pass", |a| a.as_str())
        );
        for (i, (k, n)) in self.kinds.iter().enumerate() {
            let _ = write!(s, "{}{k} x{n}", if i == 0 { ": " } else { ", " });
        }
        s
    }
}

/// The guardrails' part of `guardrail_information` for a spend row's metadata, or
/// `None` when none ran.
pub fn spend_metadata(records: &[Record]) -> Option<String> {
    if records.is_empty() {
        return None;
    }
    let mut info = Value::Array(records.iter().map(Record::to_json).collect());
    crate::proxy::store::storable_json(&mut info);
    Some(json!({ "guardrail_information": info }).to_string())
}

/// Runs and decisions of one entry, by hook: atomics, no lock and no allocation on the
/// request path (a block takes a lock: it ends the request anyway).
#[derive(Default)]
struct Counters {
    /// `[hook][0 success | 1 error]`: LiteLLM's `litellm_guardrail_requests_total`.
    runs: [[AtomicU64; 2]; 3],
    /// `[hook][block, mask, log, route, modify]`.
    decisions: [[AtomicU64; 5]; 3],
    /// `[hook]`: the latency of the runs that let the request through
    /// (`litellm_guardrail_latency_seconds` with `status="success"`, `error_type="none"`).
    latency: [Histogram; 3],
    /// By (hook, error type): the runs that blocked, counted
    /// (`litellm_guardrail_errors_total`) and timed (the latency with `status="error"`).
    errors: std::sync::Mutex<std::collections::BTreeMap<(usize, String), (u64, Histogram)>>,
}

/// The `error_type` of a built-in guardrail's block: what LiteLLM's own content filter
/// raises for one. A class's block is the class of what it raised.
const BLOCKED_ERROR_TYPE: &str = "HTTPException";

fn action_index(a: Action) -> usize {
    match a {
        Action::Block => 0,
        Action::Mask => 1,
        Action::Log => 2,
        Action::Route => 3,
        Action::Modify => 4,
    }
}

const ACTIONS: [Action; 5] = [
    Action::Block,
    Action::Mask,
    Action::Log,
    Action::Route,
    Action::Modify,
];

/// The configured guardrails of a running proxy.
pub struct ProxyGuardrails {
    entries: Vec<Entry>,
    counters: Vec<Counters>,
    any_default_on: bool,
    /// `GET /guardrails/list`, built once.
    list_body: bytes::Bytes,
}

/// Why a request was refused: the error the client gets and the records of what ran.
#[derive(Debug)]
pub struct Refusal {
    /// What the client gets (400).
    pub error: ProxyError,
    /// The guardrails that ran, the blocking one last (empty when the selection itself
    /// was refused: unknown names).
    pub records: Vec<Record>,
}

/// The guardrails of one request: which ran, what they found, what to restore.
pub struct RequestGuardrails {
    owner: Arc<ProxyGuardrails>,
    selected: Vec<usize>,
    /// What ran so far.
    pub records: Vec<Record>,
    /// Set when a masking guardrail with `restore` replaced something.
    pub restore: Option<Arc<Masker>>,
    /// The caller, for guardrail classes' `user_api_key_dict` (built only when a class
    /// runs).
    caller: Map<String, Value>,
}

impl ProxyGuardrails {
    /// The guardrails of `config`, or `None` when it has none (requests then do no
    /// guardrail work at all).
    pub fn new(config: &GuardrailsConfig) -> Option<Arc<ProxyGuardrails>> {
        if config.entries.is_empty() {
            return None;
        }
        let list: Vec<Value> = config.entries.iter().map(|e| e.listed.clone()).collect();
        let body = serde_json::to_vec(&json!({ "guardrails": list })).unwrap_or_default();
        Some(Arc::new(ProxyGuardrails {
            counters: config.entries.iter().map(|_| Counters::default()).collect(),
            any_default_on: config.entries.iter().any(|e| e.default_on),
            entries: config.entries.clone(),
            list_body: bytes::Bytes::from(body),
        }))
    }

    /// `GET /guardrails/list`'s body.
    pub fn list_body(&self) -> bytes::Bytes {
        self.list_body.clone()
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.name == name)
    }

    /// The guardrails a request runs, in config order: `default_on` ones, those the
    /// body names (`guardrails`, removed from the body: it is never forwarded), those
    /// its `metadata.guardrails` names, and its key's and team's. A name nothing
    /// configures is a 400 naming it.
    pub fn select(
        &self,
        body: &mut Map<String, Value>,
        grant: Option<&KeyGrant>,
    ) -> Result<Vec<usize>, ProxyError> {
        let in_body = body.remove("guardrails");
        // Taken out of the metadata too: Anthropic's Messages API gets `metadata` as sent.
        let in_metadata = match body.get_mut("metadata") {
            Some(Value::Object(m)) => m.remove("guardrails").filter(|v| !v.is_null()),
            _ => None,
        };
        let from_key = grant.map_or(&[][..], |g| g.guardrails.as_slice());
        if !self.any_default_on && in_body.is_none() && in_metadata.is_none() && from_key.is_empty()
        {
            return Ok(Vec::new());
        }
        let mut wanted = vec![false; self.entries.len()];
        for (i, e) in self.entries.iter().enumerate() {
            wanted[i] = e.default_on;
        }
        let mut unknown: Vec<String> = Vec::new();
        for (field, v) in [
            ("guardrails", in_body.as_ref()),
            ("metadata.guardrails", in_metadata.as_ref()),
        ] {
            let Some(v) = v else { continue };
            for name in requested_names(field, v)? {
                match self.position(&name) {
                    Some(i) => wanted[i] = true,
                    None => unknown.push(name),
                }
            }
        }
        if !unknown.is_empty() {
            return Err(self.unknown("the request names", &unknown));
        }
        for name in from_key {
            match self.position(name) {
                Some(i) => wanted[i] = true,
                None => unknown.push(name.clone()),
            }
        }
        if !unknown.is_empty() {
            // The key asked for protection this proxy cannot give: refused, not
            // served unprotected.
            return Err(self.unknown("the key's (or its team's) metadata names", &unknown));
        }
        Ok((0..self.entries.len()).filter(|i| wanted[*i]).collect())
    }

    fn unknown(&self, whose: &str, names: &[String]) -> ProxyError {
        let configured: Vec<&str> = self.entries.iter().map(|e| e.name.as_str()).collect();
        ProxyError::bad_param(
            "guardrails",
            format!(
                "{whose} guardrails this proxy does not configure: {}. Configured guardrails: {} (GET /guardrails/list)",
                names.join(", "),
                configured.join(", ")
            ),
        )
    }

    fn count_run(&self, entry: usize, hook: Hook, blocked: bool) {
        if let Some(c) = self.counters.get(entry) {
            c.runs[hook.index()][usize::from(blocked)].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn count_decision(&self, entry: usize, hook: Hook, action: Action) {
        if let Some(c) = self.counters.get(entry) {
            c.decisions[hook.index()][action_index(action)].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Count and record one entry's run.
    fn record(
        &self,
        entry: usize,
        hook: Hook,
        decision: Option<&Decision>,
        duration: Duration,
        out: &mut Vec<Record>,
    ) {
        self.record_as(entry, hook, decision, BLOCKED_ERROR_TYPE, duration, out);
    }

    /// Records a post-call class hook's run, entry `i`: `modify` when it changed what it
    /// was given; the class it raised (a block) otherwise, whose LiteLLM message is the
    /// error.
    fn record_post_class(
        &self,
        i: usize,
        changed: Result<bool, external::HookError>,
        started: Instant,
        records: &mut Vec<Record>,
    ) -> Result<(), String> {
        let name = &self.entries[i].name;
        match changed {
            Ok(changed) => {
                let d = class_change(name, changed);
                self.record(i, Hook::PostCall, d.as_ref(), started.elapsed(), records);
                Ok(())
            }
            Err(raised) => {
                let d = Decision {
                    guardrail: name.clone(),
                    action: Action::Block,
                    kinds: Vec::new(),
                };
                let took = started.elapsed();
                self.record_raised(i, Hook::PostCall, &d, &raised.error_type, took, records);
                Err(raised_message(name, &raised.message))
            }
        }
    }

    /// [`ProxyGuardrails::record`] for a class's hook that raised `error_type`.
    fn record_raised(
        &self,
        entry: usize,
        hook: Hook,
        decision: &Decision,
        error_type: &str,
        duration: Duration,
        out: &mut Vec<Record>,
    ) {
        self.record_as(entry, hook, Some(decision), error_type, duration, out);
    }

    fn record_as(
        &self,
        entry: usize,
        hook: Hook,
        decision: Option<&Decision>,
        error_type: &str,
        duration: Duration,
        out: &mut Vec<Record>,
    ) {
        let Some(e) = self.entries.get(entry) else {
            return;
        };
        let action = decision.map(|d| d.action);
        let blocked = action == Some(Action::Block);
        self.count_run(entry, hook, blocked);
        if let Some(a) = action {
            self.count_decision(entry, hook, a);
        }
        if let Some(c) = self.counters.get(entry) {
            if blocked {
                let mut errors = c.errors.lock().unwrap_or_else(|e| e.into_inner());
                let (n, latency) = errors
                    .entry((hook.index(), error_type.to_string()))
                    .or_default();
                *n += 1;
                latency.observe(duration.as_secs_f64());
            } else {
                c.latency[hook.index()].observe(duration.as_secs_f64());
            }
        }
        out.push(Record {
            guardrail: e.name.clone(),
            provider: e.provider.clone(),
            hook,
            action,
            kinds: decision.map(|d| d.kinds.clone()).unwrap_or_default(),
            duration,
        });
    }

    /// The selected built-in rules that run at `hook` (before: pre and during call).
    fn rules<'a>(&'a self, selected: &[usize], after: bool) -> Vec<&'a Guardrail> {
        let mut out = Vec::new();
        for &i in selected {
            let e = &self.entries[i];
            let runs = if after {
                e.runs_after()
            } else {
                e.runs_before()
            };
            if let (true, Engine::Builtin(rules)) = (runs, &e.engine) {
                out.extend(rules.iter());
            }
        }
        out
    }

    /// Record the built-ins' run over `selected`: one record per entry, with the
    /// decision(s) it made (an entry with several actions may make several).
    fn record_builtins(
        &self,
        selected: &[usize],
        after: bool,
        decisions: &[Decision],
        duration: Duration,
        out: &mut Vec<Record>,
    ) {
        for &i in selected {
            let e = &self.entries[i];
            let runs = if after {
                e.runs_after()
            } else {
                e.runs_before()
            };
            if !runs || !matches!(e.engine, Engine::Builtin(_)) {
                continue;
            }
            let hook = if after {
                Hook::PostCall
            } else {
                e.before_hook()
            };
            let mine: Vec<&Decision> = decisions.iter().filter(|d| d.guardrail == e.name).collect();
            if mine.is_empty() {
                self.record(i, hook, None, duration, out);
            }
            for d in mine {
                self.record(i, hook, Some(d), duration, out);
            }
        }
    }

    /// `/metrics`' guardrail metrics: LiteLLM's `litellm_guardrail_requests_total`
    /// (every run; `status` `error` when it blocked, as LiteLLM counts a raised block)
    /// and `rustllm_guardrail_decisions_total` (what each found something did).
    pub fn encode_metrics(&self, out: &mut String) {
        out.push_str("# HELP litellm_guardrail_requests_total Total number of guardrail invocations\n# TYPE litellm_guardrail_requests_total counter\n");
        for (e, c) in self.entries.iter().zip(&self.counters) {
            for hook in Hook::ALL {
                for (s, status) in ["success", "error"].iter().enumerate() {
                    let n = c.runs[hook.index()][s].load(Ordering::Relaxed);
                    if n > 0 {
                        let _ = writeln!(
                            out,
                            "litellm_guardrail_requests_total{{guardrail_name=\"{}\",status=\"{status}\",hook_type=\"{}\"}} {n}.0",
                            escape(&e.name),
                            hook.as_str()
                        );
                    }
                }
            }
        }
        out.push_str("# HELP litellm_guardrail_errors_total Total number of errors encountered during guardrail execution\n# TYPE litellm_guardrail_errors_total counter\n");
        for (e, c) in self.entries.iter().zip(&self.counters) {
            let errors = c.errors.lock().unwrap_or_else(|e| e.into_inner());
            for ((hook, error_type), (n, _)) in errors.iter() {
                let _ = writeln!(
                    out,
                    "litellm_guardrail_errors_total{{guardrail_name=\"{}\",error_type=\"{}\",hook_type=\"{}\"}} {n}.0",
                    escape(&e.name),
                    escape(error_type),
                    Hook::ALL[*hook].as_str()
                );
            }
        }
        out.push_str("# HELP litellm_guardrail_latency_seconds Latency of guardrail execution in seconds\n# TYPE litellm_guardrail_latency_seconds histogram\n");
        for (e, c) in self.entries.iter().zip(&self.counters) {
            let name = escape(&e.name);
            for hook in Hook::ALL {
                let labels = format!(
                    "guardrail_name=\"{name}\",status=\"success\",error_type=\"none\",hook_type=\"{}\"",
                    hook.as_str()
                );
                c.latency[hook.index()].encode(out, "litellm_guardrail_latency_seconds", &labels);
            }
            let errors = c.errors.lock().unwrap_or_else(|e| e.into_inner());
            for ((hook, error_type), (_, latency)) in errors.iter() {
                let labels = format!(
                    "guardrail_name=\"{name}\",status=\"error\",error_type=\"{}\",hook_type=\"{}\"",
                    escape(error_type),
                    Hook::ALL[*hook].as_str()
                );
                latency.encode(out, "litellm_guardrail_latency_seconds", &labels);
            }
        }
        out.push_str("# HELP rustllm_guardrail_decisions_total Guardrail decisions: blocked, masked, logged, routed or (by a class) modified requests\n# TYPE rustllm_guardrail_decisions_total counter\n");
        for (e, c) in self.entries.iter().zip(&self.counters) {
            for hook in Hook::ALL {
                for a in ACTIONS {
                    let n = c.decisions[hook.index()][action_index(a)].load(Ordering::Relaxed);
                    if n > 0 {
                        let _ = writeln!(
                            out,
                            "rustllm_guardrail_decisions_total{{guardrail_name=\"{}\",action=\"{}\",hook_type=\"{}\"}} {n}.0",
                            escape(&e.name),
                            a.as_str(),
                            hook.as_str()
                        );
                    }
                }
            }
        }
    }

    /// Select and run the guardrails of a request before its call: `Ok(None)` when none
    /// is selected (the body is untouched, `guardrails` aside), the request's guardrails
    /// otherwise (the body masked or tagged as they decided), or the refusal.
    pub async fn before_call(
        self: &Arc<Self>,
        body: &mut Map<String, Value>,
        grant: Option<&KeyGrant>,
        key_hash: Option<&str>,
        call_type: &str,
    ) -> Result<Option<RequestGuardrails>, Refusal> {
        let selected = self.select(body, grant).map_err(|error| Refusal {
            error,
            records: Vec::new(),
        })?;
        if selected.is_empty() {
            return Ok(None);
        }
        let classes = selected
            .iter()
            .any(|&i| matches!(self.entries[i].engine, Engine::External(_)));
        let caller = if classes {
            caller_of(grant, key_hash)
        } else {
            Map::new()
        };
        let mut ctx = RequestGuardrails {
            owner: Arc::clone(self),
            selected,
            records: Vec::new(),
            restore: None,
            caller,
        };
        let rules = self.rules(&ctx.selected, false);
        if !rules.is_empty() {
            let started = Instant::now();
            let mut value = Value::Object(std::mem::take(body));
            let result = apply(&mut value, &rules);
            if let Value::Object(m) = value {
                *body = m;
            }
            let took = started.elapsed();
            match result {
                Ok(applied) => {
                    self.record_builtins(
                        &ctx.selected,
                        false,
                        &applied.decisions,
                        took,
                        &mut ctx.records,
                    );
                    if applied.sensitive {
                        tag_sensitive(body);
                    }
                    ctx.restore = applied.restore;
                }
                Err(Blocked(decision)) => {
                    let message = Blocked(decision.clone()).message();
                    self.record_builtins(
                        &ctx.selected,
                        false,
                        std::slice::from_ref(&decision),
                        took,
                        &mut ctx.records,
                    );
                    return Err(Refusal {
                        error: blocked_error(message),
                        records: ctx.records,
                    });
                }
            }
        }
        for i in ctx.selected.clone() {
            let e = &self.entries[i];
            let Engine::External(g) = &e.engine else {
                continue;
            };
            // A class may answer both before the call: `pre_call` (may change the
            // request), then `during_call` (LiteLLM's moderation hook: may block).
            for hook in [Hook::PreCall, Hook::DuringCall] {
                if !e.hooks.contains(&hook) {
                    continue;
                }
                let started = Instant::now();
                let result = if hook == Hook::PreCall {
                    g.pre_call(body, call_type, &ctx.caller).await
                } else {
                    g.during_call(body, call_type, &ctx.caller).await
                };
                match result {
                    Ok(changed) => {
                        let decision = class_change(&e.name, changed.is_some());
                        if let Some(new) = changed {
                            *body = new;
                        }
                        self.record(
                            i,
                            hook,
                            decision.as_ref(),
                            started.elapsed(),
                            &mut ctx.records,
                        );
                    }
                    Err(raised) => {
                        let d = Decision {
                            guardrail: e.name.clone(),
                            action: Action::Block,
                            kinds: Vec::new(),
                        };
                        self.record_raised(
                            i,
                            hook,
                            &d,
                            &raised.error_type,
                            started.elapsed(),
                            &mut ctx.records,
                        );
                        return Err(Refusal {
                            error: raised_error(&e.name, &raised.message),
                            records: ctx.records,
                        });
                    }
                }
            }
        }
        Ok(Some(ctx))
    }
}

/// For a proxy without a `guardrails:` list: the 400 for a request (or a key) that names
/// guardrails anyway (it would otherwise be served without the protection it asked
/// for), or `None`. Two map lookups, no allocation, when nothing is named.
pub fn named_without_config(
    body: &Map<String, Value>,
    grant: Option<&KeyGrant>,
) -> Option<ProxyError> {
    let named = |v: Option<&Value>| match v {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(m)) => !m.is_empty(),
        Some(_) => true,
    };
    let in_request = named(body.get("guardrails"))
        || named(body.get("metadata").and_then(|m| m.get("guardrails")));
    let in_key = grant.is_some_and(|g| !g.guardrails.is_empty());
    (in_request || in_key).then(|| {
        ProxyError::bad_param(
            "guardrails",
            format!(
                "{} guardrails, but this proxy configures none (config.yaml `guardrails:`)",
                if in_request {
                    "the request names"
                } else {
                    "the key's (or its team's) metadata names"
                }
            ),
        )
    })
}

/// Write what the guardrails of call `call_id` decided (records with an action) to the
/// proxy's log and the audit log (`LiteLLM_AuditLog`, table `guardrail`, the call id as
/// the object): guardrail, hook, action, kinds and counts, never a value.
pub fn report(
    ops: &crate::proxy::ops::Ops,
    call_id: &str,
    identity: &crate::proxy::auth::Identity,
    records: &[Record],
) {
    for r in records.iter().filter(|r| r.action.is_some()) {
        // A line per decision with `--detailed_debug` only (at thousands of requests a
        // second a stderr line each would cost more than the detection); the request
        // log, the audit log, the spend row and the metrics always have it.
        if crate::proxy::log::debug_enabled() {
            crate::proxy::log::debug(&format!("request {call_id}: {}", r.describe()));
        }
        if !ops.audits() {
            continue;
        }
        let grant = identity.grant.as_deref();
        let changed_by = grant
            .and_then(|g| g.user_id.clone().or_else(|| g.key_alias.clone()))
            .unwrap_or_else(|| match identity.role {
                crate::proxy::auth::Role::ProxyAdmin => "proxy_admin".to_string(),
                _ => "anonymous".to_string(),
            });
        let mut after = r.to_json();
        after["request_id"] = Value::String(call_id.to_string());
        ops.audit(crate::proxy::ops::reqlog::AuditEntry {
            changed_by,
            changed_by_key_hash: identity.key_hash.as_deref().unwrap_or("").to_string(),
            action: format!("guardrail_{}", r.action.map_or("pass", |a| a.as_str())),
            table: "guardrail".to_string(),
            object_id: call_id.to_string(),
            before: None,
            after: Some(after),
        });
    }
}

/// The caller as LiteLLM's `UserAPIKeyAuth` fields, for guardrail classes:
/// `api_key` is the key's hash (as LiteLLM's proxy hands it to hooks, never the key).
fn caller_of(grant: Option<&KeyGrant>, key_hash: Option<&str>) -> Map<String, Value> {
    let text = |v: Option<&str>| v.map_or(Value::Null, |s| Value::String(s.to_string()));
    let mut m = Map::new();
    m.insert("api_key".into(), text(key_hash));
    m.insert(
        "key_alias".into(),
        text(grant.and_then(|g| g.key_alias.as_deref())),
    );
    m.insert(
        "user_id".into(),
        text(grant.and_then(|g| g.user_id.as_deref())),
    );
    m.insert(
        "team_id".into(),
        text(grant.and_then(|g| g.team_id.as_deref())),
    );
    m
}

/// LiteLLM's 400 for a blocked request (`BlockedPiiEntityError` through the proxy's
/// exception handler: `type` and `param` `"None"`).
fn blocked_error(message: String) -> ProxyError {
    ProxyError::new(StatusCode::BAD_REQUEST, "None", message)
}

/// LiteLLM's `GuardrailRaisedException` message for a class guardrail's block.
fn raised_message(name: &str, reason: &str) -> String {
    format!("Guardrail raised an exception, Guardrail: {name}, Message: {reason}")
}

fn raised_error(name: &str, reason: &str) -> ProxyError {
    blocked_error(raised_message(name, reason))
}

/// Add [`SENSITIVE_TAG`] to the call's tags, once, where the Router reads them:
/// `metadata.tags` when the request has that list, else the top-level `tags` (created
/// if need be). Not a new `metadata.tags`: a request without one may send `metadata` on
/// to the provider (Anthropic's Messages API accepts only `metadata.user_id`), and a new
/// `metadata.tags` would hide the top-level `tags` the Router reads otherwise.
pub fn tag_sensitive(body: &mut Map<String, Value>) {
    let in_metadata = body
        .get("metadata")
        .and_then(|m| m.get("tags"))
        .is_some_and(Value::is_array);
    let tags = if in_metadata {
        body.get_mut("metadata").and_then(|m| m.get_mut("tags"))
    } else {
        let t = body
            .entry("tags")
            .or_insert_with(|| Value::Array(Vec::new()));
        if !t.is_array() {
            *t = Value::Array(Vec::new());
        }
        Some(t)
    };
    if let Some(Value::Array(t)) = tags {
        if !t.iter().any(|x| x.as_str() == Some(SENSITIVE_TAG)) {
            t.push(Value::String(SENSITIVE_TAG.into()));
        }
    }
}

/// The names a request's `guardrails` field gives: a list of names, or LiteLLM's
/// mapping of name to per-request settings (the names are its keys).
fn requested_names(field: &str, v: &Value) -> Result<Vec<String>, ProxyError> {
    let bad = || {
        ProxyError::bad_param(
            "guardrails",
            format!(
                "{field} must be a list of guardrail names, got {}",
                crate::types::type_name(v)
            ),
        )
    };
    match v {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|x| x.as_str().map(str::to_string).ok_or_else(bad))
            .collect(),
        Value::Object(m) => Ok(m.keys().cloned().collect()),
        _ => Err(bad()),
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl RequestGuardrails {
    /// Whether anything runs after the call (post-call guardrails or a restore).
    pub fn after_call(&self) -> bool {
        self.restore.is_some() || self.post_entries().next().is_some()
    }

    fn post_entries(&self) -> impl Iterator<Item = usize> + '_ {
        self.selected
            .iter()
            .copied()
            .filter(|&i| self.owner.entries[i].runs_after())
    }

    /// Whether a post-call guardrail was selected.
    pub fn has_post_call(&self) -> bool {
        self.post_entries().next().is_some()
    }

    /// Whether a post-call class guardrail was selected (it sees the request too, so
    /// the request is kept for it).
    pub fn needs_request(&self) -> bool {
        self.post_entries()
            .any(|i| matches!(self.owner.entries[i].engine, Engine::External(_)))
    }

    /// After a JSON reply: the post-call guardrails on the model's output (a block is
    /// a 400, a mask rewrites the reply), then the masked values of the request put
    /// back (`restore`).
    pub async fn on_reply(
        &mut self,
        request: &Map<String, Value>,
        reply: &mut Map<String, Value>,
    ) -> Result<(), ProxyError> {
        let owner = Arc::clone(&self.owner);
        let rules = owner.rules(&self.selected, true);
        if !rules.is_empty() {
            let started = Instant::now();
            let mut value = Value::Object(std::mem::take(reply));
            let result = match &self.restore {
                Some(masked) => apply_reply_after(&mut value, &rules, masked),
                None => apply_reply(&mut value, &rules),
            };
            if let Value::Object(m) = value {
                *reply = m;
            }
            let took = started.elapsed();
            match result {
                Ok(applied) => owner.record_builtins(
                    &self.selected,
                    true,
                    &applied.decisions,
                    took,
                    &mut self.records,
                ),
                Err(Blocked(d)) => {
                    let message = Blocked(d.clone()).message();
                    owner.record_builtins(
                        &self.selected,
                        true,
                        std::slice::from_ref(&d),
                        took,
                        &mut self.records,
                    );
                    return Err(blocked_error(message));
                }
            }
        }
        self.post_classes(request, reply)
            .await
            .map_err(blocked_error)?;
        if let Some(masker) = &self.restore {
            let mut value = Value::Object(std::mem::take(reply));
            restore_reply(&mut value, masker);
            if let Value::Object(m) = value {
                *reply = m;
            }
        }
        Ok(())
    }

    /// The selected post-call guardrail classes over `reply`, in order (each gets the
    /// previous one's change), each run recorded: whether any changed it, or LiteLLM's
    /// message for the one that raised.
    async fn post_classes(
        &mut self,
        request: &Map<String, Value>,
        reply: &mut Map<String, Value>,
    ) -> Result<bool, String> {
        let owner = Arc::clone(&self.owner);
        let post: Vec<usize> = self.post_entries().collect();
        let mut any = false;
        for i in post {
            let e = &owner.entries[i];
            let Engine::External(g) = &e.engine else {
                continue;
            };
            let started = Instant::now();
            let changed = g.post_call(request, reply, &self.caller).await;
            let changed = changed.map(|new| match new {
                Some(new) => {
                    *reply = new;
                    any = true;
                    true
                }
                None => false,
            });
            owner.record_post_class(i, changed, started, &mut self.records)?;
        }
        Ok(any)
    }

    /// The selected post-call classes with a stream hook over a held stream, in order
    /// (each gets the previous one's chunks), each run recorded (`modify` when it changed
    /// the stream); the error is LiteLLM's message for the one that raised.
    async fn stream_classes(
        &mut self,
        request: &Map<String, Value>,
        held: &mut Vec<crate::stream::Chunk>,
        chat: bool,
    ) -> Result<(), String> {
        let owner = Arc::clone(&self.owner);
        let post: Vec<usize> = self.post_entries().collect();
        for i in post {
            let e = &owner.entries[i];
            let Engine::External(g) = &e.engine else {
                continue;
            };
            if !g.streams() {
                continue;
            }
            let started = Instant::now();
            let chunks = held.iter().cloned().map(|c| c.into_map()).collect();
            let answer = g.stream(request, chunks, chat, &self.caller).await;
            let answer = answer.and_then(|items| match items {
                Some(items) => replay(held, items).map(Some),
                None => Ok(None),
            });
            let changed = answer.map(|new| match new {
                Some(new) => {
                    *held = new;
                    true
                }
                None => false,
            });
            owner.record_post_class(i, changed, started, &mut self.records)?;
        }
        Ok(())
    }

    /// The post-call built-in rules, for a stream's end (see [`stream`]).
    fn post_rules(&self) -> Vec<&Guardrail> {
        self.owner.rules(&self.selected, true)
    }
}

/// The stream a class's stream hook answered: its kept chunks (by index) and new ones.
fn replay(
    held: &[crate::stream::Chunk],
    items: Vec<StreamItem>,
) -> Result<Vec<crate::stream::Chunk>, external::HookError> {
    items
        .into_iter()
        .map(|item| match item {
            StreamItem::Kept(k) => held.get(k).cloned().ok_or_else(|| {
                external::HookError::new(
                    "IndexError",
                    format!("stream hook kept chunk {k} of {}", held.len()),
                )
            }),
            StreamItem::New(m) => Ok(crate::stream::Chunk::Full(m)),
        })
        .collect()
}

/// What a class's hook did when it changed what it was given: recorded as `modify` (a
/// class says nothing about what it found; it may have masked, rewritten or added).
fn class_change(guardrail: &str, changed: bool) -> Option<Decision> {
    changed.then(|| Decision {
        guardrail: guardrail.to_string(),
        action: Action::Modify,
        kinds: Vec::new(),
    })
}

#[cfg(test)]
mod tests;
