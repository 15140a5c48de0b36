//! Rate limits per virtual key, user, team and model group (LiteLLM's `rpm_limit`,
//! `tpm_limit`, `max_parallel_requests`, `model_rpm_limit`/`model_tpm_limit`): exact in
//! this process's memory, and exact across every proxy instance sharing one Redis.
//!
//! A request is admitted or refused as a whole. Each limit that applies to it is a
//! *descriptor* (`api_key`, `user`, `team`, `model_per_key`, LiteLLM v3's names); with
//! Redis one Lua script checks every descriptor and, only if all have room, counts the
//! request in every one of them, so two instances with `rpm_limit: 30` admit 30 a minute
//! between them, never 31 (LiteLLM checks a local copy first and increments per key).
//! One call is out at a time per instance; what queues meanwhile (admissions and request
//! ends) goes in the next one ([`run_calls`]).
//!
//! * Requests and tokens are counted per fixed window of 60 s, the UTC minute (the
//!   instances' clocks must agree, as the Router's shared usage needs too).
//! * Tokens are reserved before the call by estimate (the prompt counted with rustllm's
//!   tokenizer plus `max_tokens`, or [`DEFAULT_OUTPUT_TOKENS`]) and settled with the
//!   reply's `usage` when the [`Permit`] ends (for a stream: at its end). Which tokens
//!   count is `general_settings.token_rate_limit_type` (`total`, `input`, `output`).
//! * `max_parallel_requests` is a Redis counter whose slots are leased per instance: each
//!   instance renews its lease while it holds slots, and the next admission sweeps the
//!   slots of an instance whose lease ran out (it crashed), so slots never leak.
//!
//! Redis keys (hash tags keep one descriptor's keys in one Cluster slot), all with TTLs,
//! every script O(descriptors), nothing scans:
//! * `{rustllm:<descriptor>:<value>}:requests:<minute>`, `...:tokens:<minute>` (120 s)
//! * `{rustllm:<descriptor>:<value>}:parallel` (slots in use), `...:parallel:by` (a hash
//!   of slots per instance) and `...:parallel:leases` (a sorted set of instance lease
//!   deadlines), 60 s after the last renewal.
//!
//! When Redis does not answer, requests are admitted on this instance's own counters
//! (which mirror the shared ones while Redis is up) and the link logs one warning; the
//! shared counters are used again as soon as Redis answers (see `cache::link`).
//!
//! Without a grant carrying limits, [`Limiter::admit`] returns at once: nothing is counted
//! and no permit exists.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use redis::Script;
use serde_json::{Map, Value};

use super::auth::{Identity, RateLimits};
use super::errors::ProxyError;
use crate::cache::link::RedisLink;
use crate::catalogue::tokens::{count_messages, Encoding};
use crate::router::state::{lock, Clock, SystemClock};

/// The window requests and tokens are counted in (LiteLLM's
/// `LITELLM_RATE_LIMIT_WINDOW_SIZE` default).
pub const WINDOW_SECS: u64 = 60;
/// Output tokens reserved for a request that sets no `max_tokens`.
pub const DEFAULT_OUTPUT_TOKENS: u64 = 256;
/// Window counters outlive their minute by one more, for late settlements.
const WINDOW_TTL_MS: u64 = 2 * WINDOW_SECS * 1000;
/// How long an instance's parallel slots stay counted without a renewal: a crashed
/// instance's slots come back at most this long after it died.
const LEASE_MS: u64 = 30_000;
/// How often an instance holding slots renews its lease.
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// TTL of the parallel keys, set by an instance's first slot and refreshed by its renewals.
const PARALLEL_TTL_MS: u64 = 2 * LEASE_MS;

/// One call for everything waiting: first the request ends, then the admissions, each
/// admission checked and counted on its own (all of its descriptors or none).
///
/// Every key is sent once per call, however many requests share it, and every counter
/// is read and written at most once per call: the script reads every counter it may
/// need with one `MGET`, counts in Lua's memory on the way through (ends first: tokens
/// settled, slots given back) and writes each counter's net change at the end, so a
/// call carrying 30 admissions of one key costs Redis little more than one admission
/// does, and a slot given back and taken again in one call (concurrency 1) writes
/// nothing for it. Admissions that are alike (the same descriptors, limits and
/// reserves: under load, most requests of one key) go as one *group* with their number:
/// the script works out how many of them fit at once instead of checking each in turn
/// (Lua runs slowly enough in Redis that the per-admission loop was most of a call's
/// cost, and Redis is the one process every instance shares). Alike admissions see the
/// same counters one after another, so the first `m` fit and the rest are refused for
/// the same reason: the same outcome as checking each. An instance whose lease ran out
/// (it crashed) has its slots taken back when a parallel limit would otherwise refuse:
/// admissions are the same as sweeping every time, and the sweep costs nothing while
/// there is room.
///
/// The script's inputs are numbered so that Lua works on arrays: every counter is read
/// into slot `i` of a table and its key is `KEYS[i]`, never looked up by name (Redis's
/// Lua is slow enough that the per-key tables, closures and string-keyed lookups of an
/// earlier layout were most of a call's time, which at concurrency 1 is latency).
///
/// KEYS: the `nw` window keys (a descriptor's requests or tokens key in a minute), then
/// per parallel slot `j` of `np` (a descriptor with a parallel limit) its parallel key,
/// then the `np` parallel:by keys, then the `np` parallel:leases keys: counter `i` is
/// `KEYS[i]` for `i <= nw + np`, slot `j`'s counter is `nw + j`. Only the keys a call
/// uses are sent (a descriptor without a tpm limit sends no tokens key).
/// ARGV: now ms, lease deadline ms, instance id, window ttl ms, parallel ttl ms, and one
/// string of little-endian doubles ([`Numbers`], read with `struct.unpack`): `nw`, `np`,
/// the numbers of settlements, releases and groups; per settlement its window and
/// token difference; per release its slot and the slots given back; per group its
/// number of admissions and of descriptors, then per descriptor seven numbers: rpm
/// limit and window, tpm limit and window, parallel limit and slot (limit -1 and index
/// 0: none), and the tokens it reserves.
/// Window keys get their ttl when created; a settlement never recreates an expired
/// window. Returns one flat list: per group the number admitted `m`; when `m > 0`,
/// per descriptor the first admitted one's `requests, tokens, parallel` after counting
/// (0 for a limit it lacks; the next ones read one more request and slot and one more
/// reserve each); when `m` is less than the group's number, the refusal of the rest:
/// `descriptor index, 1|2|3 (requests|tokens|parallel), value now`.
const LIMITS_LUA: &str = r"
local me = ARGV[3]
local P = ARGV[6]
local nw, np, ns, nr, ng, a = struct.unpack('<ddddd', P)
local nc = nw + np
-- Per counter: its value as counted so far, what this call adds, and (windows) whether
-- it did not exist before (it gets its ttl when written).
local value, added, fresh = {}, {}, {}
if nc > 0 then
  local got = redis.call('MGET', unpack(KEYS, 1, nc))
  for i = 1, nc do
    local v = got[i]
    if v then value[i] = tonumber(v) else value[i], fresh[i] = 0, i <= nw end
    added[i] = 0
  end
end
-- Per slot: this instance's slots before the call (read when first needed), the change,
-- and whether an admission took one (its lease and ttl are set on the first).
local held, change, lease = {}, {}, {}
for _ = 1, ns do
  local i, d
  i, d, a = struct.unpack('<dd', P, a)
  -- An expired window is not brought back.
  if not fresh[i] then
    value[i], added[i] = value[i] + d, added[i] + d
  end
end
for _ = 1, nr do
  local j, r
  j, r, a = struct.unpack('<dd', P, a)
  if held[j] == nil then
    held[j], change[j] = tonumber(redis.call('HGET', KEYS[nc + j], me) or '0'), 0
  end
  -- Only slots this instance still holds (a sweep may have taken them back).
  local n = math.min(r, held[j] + change[j])
  if n > 0 then
    local i = nw + j
    value[i], added[i], change[j] = value[i] - n, added[i] - n, change[j] - n
  end
end
local out, o, x, swept = {}, 0, {}, {}
for _ = 1, ng do
  local count, n
  count, n, a = struct.unpack('<dd', P, a)
  -- How many fit: the fewest any limit leaves room for, the first such limit (in the
  -- order each admission is checked) refusing the rest.
  local m, rd, rk = count, 0, 0
  for d = 1, n do
    local b = 7 * (d - 1)
    local rpm, ri, tpm, ti, par, pj, reserve
    rpm, ri, tpm, ti, par, pj, reserve, a = struct.unpack('<ddddddd', P, a)
    x[b + 1], x[b + 2], x[b + 3], x[b + 4], x[b + 5], x[b + 6], x[b + 7] =
      rpm, ri, tpm, ti, par, pj, reserve
    if rpm >= 0 then
      local fit = math.max(0, rpm - value[ri])
      if fit < m then m, rd, rk = fit, d, 1 end
    end
    if tpm >= 0 then
      local room, fit = tpm - value[ti], m
      if room < 0 then fit = 0 elseif reserve > 0 then fit = math.floor(room / reserve) end
      if fit < m then m, rd, rk = fit, d, 2 end
    end
    if par >= 0 then
      local i = nw + pj
      local fit = math.max(0, par - math.max(0, value[i]))
      if fit < count and not swept[pj] then
        -- Take back the slots of instances whose lease ran out, once per call. This
        -- instance is alive (it runs this call): its slots are real.
        swept[pj] = true
        local by, leases = KEYS[nc + pj], KEYS[nc + np + pj]
        for _, gone in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', ARGV[1])) do
          if gone ~= me then
            local k = tonumber(redis.call('HGET', by, gone) or '0')
            if k > 0 then
              redis.call('DECRBY', KEYS[i], k)
              value[i] = value[i] - k
            end
            redis.call('HDEL', by, gone)
            redis.call('ZREM', leases, gone)
          end
        end
        fit = math.max(0, par - math.max(0, value[i]))
      end
      if fit < m then m, rd, rk = fit, d, 3 end
    end
  end
  o = o + 1
  out[o] = m
  if m > 0 then
    for d = 1, n do
      local b = 7 * (d - 1)
      local rpm, ri, tpm, ti, par, pj, reserve =
        x[b + 1], x[b + 2], x[b + 3], x[b + 4], x[b + 5], x[b + 6], x[b + 7]
      local r, t, p = 0, 0, 0
      if rpm >= 0 then
        r = value[ri] + 1
        value[ri], added[ri] = value[ri] + m, added[ri] + m
      end
      if tpm >= 0 then
        t = value[ti] + reserve
        value[ti], added[ti] = value[ti] + m * reserve, added[ti] + m * reserve
      end
      if par >= 0 then
        local i = nw + pj
        p = value[i] + 1
        value[i], added[i] = value[i] + m, added[i] + m
        if held[pj] == nil then
          held[pj], change[pj] = tonumber(redis.call('HGET', KEYS[nc + pj], me) or '0'), 0
        end
        change[pj], lease[pj] = change[pj] + m, true
      end
      out[o + 1], out[o + 2], out[o + 3] = r, t, p
      o = o + 3
    end
  end
  if m < count then
    local b = 7 * (rd - 1)
    local v
    if rk == 1 then v = value[x[b + 2]]
    elseif rk == 2 then v = value[x[b + 4]]
    else v = math.max(0, value[nw + x[b + 6]]) end
    out[o + 1], out[o + 2], out[o + 3] = rd - 1, rk, v
    o = o + 3
  end
end
for i = 1, nc do
  local n = added[i]
  if n ~= 0 then
    redis.call('INCRBY', KEYS[i], n)
    if fresh[i] then redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
  end
end
for j = 1, np do
  local h = held[j]
  if h ~= nil then
    local after = h + change[j]
    if change[j] ~= 0 then
      if after > 0 then
        redis.call('HSET', KEYS[nc + j], me, after)
      else
        redis.call('HDEL', KEYS[nc + j], me)
      end
    end
    -- This instance's first slots here: its lease, and the keys' ttl (renewed from then
    -- on while it holds slots).
    if h <= 0 and after > 0 and lease[j] then
      redis.call('ZADD', KEYS[nc + np + j], ARGV[2], me)
      redis.call('PEXPIRE', KEYS[nw + j], ARGV[5])
      redis.call('PEXPIRE', KEYS[nc + j], ARGV[5])
      redis.call('PEXPIRE', KEYS[nc + np + j], ARGV[5])
    end
  end
end
return out
";

/// Keep this instance's slots counted: a new lease deadline where it still holds slots.
/// KEYS: per descriptor its parallel, parallel:by and parallel:leases keys.
/// ARGV: deadline ms, instance id, ttl ms.
const RENEW_LUA: &str = r"
for d = 0, #KEYS / 3 - 1 do
  local k = 3 * d
  if tonumber(redis.call('HGET', KEYS[k + 2], ARGV[2]) or '0') > 0 then
    redis.call('ZADD', KEYS[k + 3], ARGV[1], ARGV[2])
    for j = 1, 3 do redis.call('PEXPIRE', KEYS[k + j], ARGV[3]) end
  end
end
return 1
";

/// Which tokens count against `tpm` (`general_settings.token_rate_limit_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenCount {
    Input,
    Output,
    /// Prompt plus completion (LiteLLM's documented default).
    #[default]
    Total,
}

impl TokenCount {
    /// The setting's value; LiteLLM treats anything else as `total`.
    pub fn parse(s: &str) -> TokenCount {
        match s {
            "input" => TokenCount::Input,
            "output" => TokenCount::Output,
            _ => TokenCount::Total,
        }
    }

    fn of(self, prompt: u64, completion: u64) -> u64 {
        match self {
            TokenCount::Input => prompt,
            TokenCount::Output => completion,
            TokenCount::Total => prompt + completion,
        }
    }
}

/// One limit a request falls under: LiteLLM v3's descriptor key and value.
#[derive(Debug, Clone)]
struct Descriptor {
    kind: &'static str,
    value: String,
    limits: RateLimits,
}

impl Descriptor {
    /// `{rustllm:<kind>:<value>}`: the Redis hash tag and the local counters' name.
    fn tag(&self) -> String {
        format!("{{rustllm:{}:{}}}", self.kind, self.value)
    }
}

/// The descriptors of a request, in the order they are checked (and reported).
fn descriptors(identity: &Identity, model_group: &str) -> Vec<Descriptor> {
    let Some(grant) = &identity.grant else {
        return Vec::new();
    };
    let set =
        |l: &RateLimits| l.rpm.is_some() || l.tpm.is_some() || l.max_parallel_requests.is_some();
    let mut out = Vec::new();
    let key = identity.key_hash.as_deref();
    if let Some(key) = key.filter(|_| set(&grant.key_limits)) {
        out.push(Descriptor {
            kind: "api_key",
            value: key.to_string(),
            limits: grant.key_limits.clone(),
        });
    }
    if let Some(user) = grant.user_id.as_deref().filter(|_| set(&grant.user_limits)) {
        out.push(Descriptor {
            kind: "user",
            value: user.to_string(),
            limits: grant.user_limits.clone(),
        });
    }
    if let Some(team) = grant.team_id.as_deref().filter(|_| set(&grant.team_limits)) {
        out.push(Descriptor {
            kind: "team",
            value: team.to_string(),
            limits: grant.team_limits.clone(),
        });
    }
    if let (Some(key), Some(limits)) = (key, grant.model_limits.get(model_group)) {
        if set(limits) {
            out.push(Descriptor {
                kind: "model_per_key",
                value: format!("{key}:{model_group}"),
                limits: limits.clone(),
            });
        }
    }
    out
}

/// The tokens a request is expected to use, counted as `count` says: the prompt with
/// rustllm's tokenizer (LiteLLM's `token_counter` accounting), and `max_tokens` (or
/// `max_completion_tokens`, else [`DEFAULT_OUTPUT_TOKENS`]) for the reply; an
/// embedding request has no reply tokens.
pub fn estimate_tokens(body: &Map<String, Value>, model_group: &str, count: TokenCount) -> u64 {
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or(model_group);
    let input = || -> u64 {
        if let Some(Value::Array(messages)) = body.get("messages") {
            return count_messages(model, messages) as u64;
        }
        let enc = Encoding::for_model(model);
        match body.get("prompt").or_else(|| body.get("input")) {
            Some(Value::String(s)) => enc.count(s) as u64,
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(|s| enc.count(s) as u64)
                .sum(),
            _ => 0,
        }
    };
    let output = || -> u64 {
        let is_embedding = body.contains_key("input")
            && !body.contains_key("messages")
            && !body.contains_key("prompt");
        if is_embedding {
            return 0;
        }
        ["max_completion_tokens", "max_tokens"]
            .iter()
            .find_map(|k| body.get(*k).and_then(Value::as_u64))
            .unwrap_or(DEFAULT_OUTPUT_TOKENS)
    };
    match count {
        TokenCount::Input => input(),
        TokenCount::Output => output(),
        TokenCount::Total => input() + output(),
    }
}

/// This instance's counters for one descriptor.
#[derive(Debug, Default, Clone, Copy)]
struct LocalCounts {
    minute: u64,
    requests: u64,
    tokens: u64,
    /// Requests of this instance in flight.
    parallel: u64,
}

#[derive(Debug, Default)]
struct LocalState {
    counts: HashMap<String, LocalCounts>,
    /// The minute entries were last pruned in.
    pruned: u64,
}

/// What a descriptor's counters read after this request was counted.
#[derive(Debug, Clone, Copy, Default)]
struct Counted {
    requests: u64,
    tokens: u64,
    parallel: u64,
}

/// A refusal: which descriptor, which limit, and its value now.
#[derive(Debug, Clone, Copy)]
struct Refusal {
    index: usize,
    limit: LimitType,
    value: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LimitType {
    Requests,
    Tokens,
    Parallel,
}

impl LimitType {
    /// LiteLLM's `rate_limit_type`.
    fn name(self) -> &'static str {
        match self {
            LimitType::Requests => "requests",
            LimitType::Tokens => "tokens",
            LimitType::Parallel => "max_parallel_requests",
        }
    }

    fn limit(self, l: &RateLimits) -> Option<u64> {
        match self {
            LimitType::Requests => l.rpm,
            LimitType::Tokens => l.tpm,
            LimitType::Parallel => l.max_parallel_requests,
        }
    }
}

struct Inner {
    local: Mutex<LocalState>,
    redis: Option<Arc<RedisLink>>,
    /// This instance's name in the parallel leases.
    instance: String,
    clock: Arc<dyn Clock>,
    token_count: TokenCount,
    /// Descriptor tags this instance holds shared parallel slots in, and how many (0:
    /// held since the last renewal).
    held: Mutex<HashMap<String, u64>>,
    renewing: AtomicBool,
    /// What waits for the next call to Redis ([`run_calls`]).
    calls: Mutex<Waiting>,
    /// Wakes a [`run_calls`] task holding request ends back for an admission to join.
    company: tokio::sync::Notify,
    limits: Script,
    renew: Script,
}

/// The rate limiter of a proxy instance (`AppState::limiter`).
#[derive(Clone)]
pub struct Limiter {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("shared", &self.inner.redis.is_some())
            .finish()
    }
}

impl Limiter {
    /// A limiter counting in memory, or in `redis` (shared with every instance that
    /// points at it) with memory as the fallback.
    pub fn new(redis: Option<Arc<RedisLink>>, token_count: TokenCount) -> Limiter {
        Limiter::with_clock(redis, token_count, Arc::new(SystemClock))
    }

    /// [`Limiter::new`] on a given clock (tests move time).
    pub fn with_clock(
        redis: Option<Arc<RedisLink>>,
        token_count: TokenCount,
        clock: Arc<dyn Clock>,
    ) -> Limiter {
        Limiter {
            inner: Arc::new(Inner {
                local: Mutex::new(LocalState::default()),
                redis,
                instance: uuid::Uuid::new_v4().simple().to_string(),
                clock,
                token_count,
                held: Mutex::new(HashMap::new()),
                renewing: AtomicBool::new(false),
                calls: Mutex::new(Waiting::default()),
                company: tokio::sync::Notify::new(),
                limits: Script::new(LIMITS_LUA),
                renew: Script::new(RENEW_LUA),
            }),
        }
    }

    /// Admit a request for `model_group` (after auth, before any provider call), or
    /// refuse it with LiteLLM's 429. `Ok(None)`: no limit applies to this caller.
    pub async fn admit(
        &self,
        identity: &Identity,
        model_group: &str,
        body: &Map<String, Value>,
    ) -> Result<Option<Permit>, ProxyError> {
        if identity.grant.is_none() {
            return Ok(None);
        }
        let descriptors = descriptors(identity, model_group);
        if descriptors.is_empty() {
            return Ok(None);
        }
        let inner = &self.inner;
        let estimate = if descriptors.iter().any(|d| d.limits.tpm.is_some()) {
            estimate_tokens(body, model_group, inner.token_count).max(1)
        } else {
            0
        };
        // A request larger than a whole tpm limit reserves the whole limit: it runs when
        // the window is empty instead of never.
        let reserves: Vec<u64> = descriptors
            .iter()
            .map(|d| d.limits.tpm.map_or(0, |t| estimate.min(t)))
            .collect();
        let now_ms = inner.clock.unix_millis();
        let minute = now_ms / 1000 / WINDOW_SECS;
        let tags: Vec<String> = descriptors.iter().map(Descriptor::tag).collect();
        let mut shared = None;
        if let Some(link) = &inner.redis {
            shared = self
                .admit_shared(link, &descriptors, &tags, &reserves, minute)
                .await;
        }
        let is_shared = shared.is_some();
        let outcome = match shared {
            Some(outcome) => {
                if let Ok(counted) = &outcome {
                    inner.mirror(&tags, counted, minute);
                }
                outcome
            }
            None => inner.admit_local(&descriptors, &tags, &reserves, minute),
        };
        let counted = match outcome {
            Ok(c) => c,
            Err(refusal) => return Err(refusal_error(&descriptors, refusal, now_ms)),
        };
        if is_shared
            && descriptors
                .iter()
                .any(|d| d.limits.max_parallel_requests.is_some())
        {
            let mut held = lock(&inner.held);
            for (d, tag) in descriptors.iter().zip(&tags) {
                if d.limits.max_parallel_requests.is_some() {
                    *held.entry(tag.clone()).or_default() += 1;
                }
            }
            drop(held);
            self.start_renewing();
        }
        Ok(Some(Permit {
            inner: self.inner.clone(),
            descriptors,
            tags,
            reserves,
            counted,
            minute,
            now_ms,
            shared: is_shared,
            usage: None,
        }))
    }

    /// The shared admission: queued for the next call to Redis, which carries every
    /// admission and request end waiting at that moment ([`run_calls`]). `None` when
    /// Redis did not answer (or answered nonsense).
    async fn admit_shared(
        &self,
        link: &Arc<RedisLink>,
        descriptors: &[Descriptor],
        tags: &[String],
        reserves: &[u64],
        minute: u64,
    ) -> Option<Result<Vec<Counted>, Refusal>> {
        let limit = |v: Option<u64>| v.map_or(-1, |n| n.min(i64::MAX as u64) as i64);
        let mut args = Vec::with_capacity(4 * tags.len());
        for (d, reserve) in descriptors.iter().zip(reserves) {
            args.extend([
                limit(d.limits.rpm),
                limit(d.limits.tpm),
                limit(d.limits.max_parallel_requests),
                (*reserve).min(i64::MAX as u64) as i64,
            ]);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.inner.enqueue(
            link,
            Some(Admission {
                tags: tags.to_vec(),
                minute,
                args,
                reply: tx,
            }),
            Vec::new(),
        );
        rx.await.ok().flatten()
    }

    /// Renew this instance's leases while it holds shared parallel slots: one task per
    /// limiter, started with the first slot, ending with the limiter.
    fn start_renewing(&self) {
        if self.inner.renewing.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        crate::transport::runtime().spawn(async move {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                let Some(inner) = weak.upgrade() else { return };
                inner.renew_leases().await;
            }
        });
    }

    /// Renew now (tests; the task does it every [`RENEW_EVERY`]).
    #[cfg(test)]
    async fn renew_now(&self) {
        self.inner.renew_leases().await;
    }
}

impl Inner {
    fn prune(state: &mut LocalState, minute: u64) {
        if state.pruned != minute {
            state.pruned = minute;
            state
                .counts
                .retain(|_, c| c.minute + 1 >= minute || c.parallel > 0);
        }
    }

    /// Admission on this instance's counters alone.
    fn admit_local(
        &self,
        descriptors: &[Descriptor],
        tags: &[String],
        reserves: &[u64],
        minute: u64,
    ) -> Result<Vec<Counted>, Refusal> {
        let mut state = lock(&self.local);
        Inner::prune(&mut state, minute);
        for (index, (d, tag)) in descriptors.iter().zip(tags).enumerate() {
            let c = state.counts.get(tag).copied().unwrap_or_default();
            let (requests, tokens) = if c.minute == minute {
                (c.requests, c.tokens)
            } else {
                (0, 0)
            };
            let refuse = |limit, value| {
                Err(Refusal {
                    index,
                    limit,
                    value,
                })
            };
            if d.limits.rpm.is_some_and(|l| requests + 1 > l) {
                return refuse(LimitType::Requests, requests);
            }
            if d.limits.tpm.is_some_and(|l| tokens + reserves[index] > l) {
                return refuse(LimitType::Tokens, tokens);
            }
            if d.limits
                .max_parallel_requests
                .is_some_and(|l| c.parallel + 1 > l)
            {
                return refuse(LimitType::Parallel, c.parallel);
            }
        }
        let mut out = Vec::with_capacity(descriptors.len());
        for (tag, reserve) in tags.iter().zip(reserves) {
            let c = state.counts.entry(tag.clone()).or_default();
            if c.minute != minute {
                *c = LocalCounts {
                    minute,
                    parallel: c.parallel,
                    ..LocalCounts::default()
                };
            }
            c.requests += 1;
            c.tokens += reserve;
            c.parallel += 1;
            out.push(Counted {
                requests: c.requests,
                tokens: c.tokens,
                parallel: c.parallel,
            });
        }
        Ok(out)
    }

    /// Keep the local counters warm with the shared ones (the fallback starts from
    /// them), and count this instance's request in flight.
    fn mirror(&self, tags: &[String], counted: &[Counted], minute: u64) {
        let mut state = lock(&self.local);
        Inner::prune(&mut state, minute);
        for (tag, shared) in tags.iter().zip(counted) {
            let c = state.counts.entry(tag.clone()).or_default();
            if c.minute != minute {
                *c = LocalCounts {
                    minute,
                    parallel: c.parallel,
                    ..LocalCounts::default()
                };
            }
            c.requests = c.requests.max(shared.requests);
            c.tokens = c.tokens.max(shared.tokens);
            c.parallel += 1;
        }
    }

    async fn renew_leases(&self) {
        let Some(link) = &self.redis else { return };
        // Every tag held since the last renewal (the script renews only where Redis
        // still counts this instance's slots); those at 0 are forgotten after it.
        let tags: Vec<String> = {
            let mut held = lock(&self.held);
            let tags = held.keys().cloned().collect();
            held.retain(|_, n| *n > 0);
            tags
        };
        if tags.is_empty() {
            return;
        }
        let mut invocation = self.renew.prepare_invoke();
        for tag in &tags {
            invocation
                .key(format!("{tag}:parallel"))
                .key(format!("{tag}:parallel:by"))
                .key(format!("{tag}:parallel:leases"));
        }
        invocation
            .arg(self.clock.unix_millis() + LEASE_MS)
            .arg(&self.instance)
            .arg(PARALLEL_TTL_MS);
        let _: Option<i64> = link
            .run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await;
    }
}

/// LiteLLM's refusal: 429, "Rate limit exceeded for api_key: ...", with `retry-after`
/// (seconds to the end of the window; 1 for a parallel slot), `rate_limit_type` and
/// `reset_at`.
fn refusal_error(descriptors: &[Descriptor], refusal: Refusal, now_ms: u64) -> ProxyError {
    let d = &descriptors[refusal.index.min(descriptors.len().saturating_sub(1))];
    let limit = refusal.limit.limit(&d.limits).unwrap_or(0);
    let retry = match refusal.limit {
        LimitType::Parallel => 1,
        _ => window_left_secs(now_ms),
    };
    let reset_at = utc_text(now_ms / 1000 + retry);
    let mut e = ProxyError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "None",
        format!(
            "Rate limit exceeded for {}: {}. Limit type: {}. Current limit: {limit}, Remaining: {}. Limit resets at: {reset_at}",
            d.kind,
            d.value,
            refusal.limit.name(),
            limit.saturating_sub(refusal.value),
        ),
    );
    e.headers
        .push((axum::http::header::RETRY_AFTER, HeaderValue::from(retry)));
    e.headers.push((
        HeaderName::from_static("rate_limit_type"),
        HeaderValue::from_static(refusal.limit.name()),
    ));
    if let Ok(v) = HeaderValue::from_str(&reset_at) {
        e.headers.push((HeaderName::from_static("reset_at"), v));
    }
    e
}

/// Whole seconds until the current window ends (at least 1).
fn window_left_secs(now_ms: u64) -> u64 {
    let window_ms = WINDOW_SECS * 1000;
    (window_ms - now_ms % window_ms).div_ceil(1000).max(1)
}

/// `2025-01-31 23:59:00 UTC`, LiteLLM's `reset_at` format.
fn utc_text(unix_secs: u64) -> String {
    let days = unix_secs / 86_400;
    let rem = unix_secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// An admitted request's place under its limits, held for the request's life (for a
/// stream: until it ends or the client leaves). Dropping it settles the reserved tokens
/// with the usage recorded ([`Permit::record_usage`]; none recorded keeps the estimate)
/// and gives back its parallel slots.
pub struct Permit {
    inner: Arc<Inner>,
    descriptors: Vec<Descriptor>,
    tags: Vec<String>,
    reserves: Vec<u64>,
    counted: Vec<Counted>,
    minute: u64,
    now_ms: u64,
    shared: bool,
    usage: Option<(u64, u64)>,
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permit")
            .field("descriptors", &self.tags.len())
            .field("shared", &self.shared)
            .finish()
    }
}

impl Permit {
    /// The reply's token usage (prompt, completion): what the reservation settles to. A
    /// failed call records `(0, 0)`.
    pub fn record_usage(&mut self, prompt_tokens: u64, completion_tokens: u64) {
        self.usage = Some((prompt_tokens, completion_tokens));
    }

    /// Whether the shared (Redis) counters admitted this request.
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// What is left of the tightest requests and tokens limits (the generic
    /// `x-ratelimit-remaining-{requests,tokens}`), for the headroom gauges of `/metrics`.
    pub fn remaining(&self) -> (Option<u64>, Option<u64>) {
        let mut tightest: [Option<u64>; 2] = [None, None];
        for (d, c) in self.descriptors.iter().zip(&self.counted) {
            for (i, kind, used) in [
                (0, LimitType::Requests, c.requests),
                (1, LimitType::Tokens, c.tokens),
            ] {
                if let Some(limit) = kind.limit(&d.limits) {
                    let left = limit.saturating_sub(used);
                    tightest[i] = Some(tightest[i].map_or(left, |t: u64| t.min(left)));
                }
            }
        }
        (tightest[0], tightest[1])
    }

    /// `x-ratelimit-*` headers for the response, as LiteLLM sends them: the generic
    /// `x-ratelimit-{remaining,limit,reset}-{requests,tokens}` for the tightest limit
    /// that applies (the one the caller meets first), and v3's per-descriptor
    /// `x-ratelimit-<descriptor>-{remaining,limit}-<type>`.
    pub fn apply_headers(&self, headers: &mut HeaderMap) {
        // Two per limit and the six generic ones: the map grows once, not once per doubling.
        headers.reserve(2 * 3 * self.descriptors.len() + 6);
        let reset = window_left_secs(self.now_ms);
        let mut tightest: [Option<(u64, u64)>; 2] = [None, None];
        for (d, c) in self.descriptors.iter().zip(&self.counted) {
            for (slot, kind, used) in [
                (Some(0), LimitType::Requests, c.requests),
                (Some(1), LimitType::Tokens, c.tokens),
                (None, LimitType::Parallel, c.parallel),
            ] {
                let Some(limit) = kind.limit(&d.limits) else {
                    continue;
                };
                let remaining = limit.saturating_sub(used);
                if let Some([remaining_name, limit_name]) = descriptor_headers(d.kind, kind) {
                    headers.insert(remaining_name.clone(), HeaderValue::from(remaining));
                    headers.insert(limit_name.clone(), HeaderValue::from(limit));
                }
                if let Some(i) = slot {
                    if tightest[i].is_none_or(|(r, _)| remaining < r) {
                        tightest[i] = Some((remaining, limit));
                    }
                }
            }
        }
        for (i, names) in GENERIC_HEADERS.iter().enumerate() {
            if let Some((remaining, limit)) = tightest[i] {
                for (name, value) in names.iter().zip([remaining, limit, reset]) {
                    headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
                }
            }
        }
    }
}

/// The descriptor kinds [`descriptors`] makes, in the order of [`DESCRIPTOR_HEADERS`].
const DESCRIPTOR_KINDS: [&str; 4] = ["api_key", "user", "team", "model_per_key"];
const LIMIT_TYPES: [LimitType; 3] = [LimitType::Requests, LimitType::Tokens, LimitType::Parallel];

/// `x-ratelimit-<kind>-remaining-<type>` and `x-ratelimit-<kind>-limit-<type>` per
/// descriptor kind and limit type, named once instead of formatted and checked on every
/// response. The texts live for the process (24 short strings), so that each name is a
/// static one, cloned into a response without touching a reference count: a name made
/// from a `String` is cloned and dropped with atomic operations (in a profile at c=64
/// the response headers were ~2.4 µs of the ~9 µs a limited key's request cost more
/// than the core's).
static DESCRIPTOR_HEADERS: std::sync::LazyLock<Vec<Option<[HeaderName; 2]>>> =
    std::sync::LazyLock::new(|| {
        let name = |text: String| {
            HeaderName::from_lowercase(text.as_bytes()).ok()?;
            // Checked just above: `from_static` cannot refuse it.
            Some(HeaderName::from_static(Box::leak(text.into_boxed_str())))
        };
        DESCRIPTOR_KINDS
            .iter()
            .flat_map(|kind| {
                LIMIT_TYPES.iter().map(move |t| {
                    let remaining = name(format!("x-ratelimit-{kind}-remaining-{}", t.name()))?;
                    let limit = name(format!("x-ratelimit-{kind}-limit-{}", t.name()))?;
                    Some([remaining, limit])
                })
            })
            .collect()
    });

fn descriptor_headers(kind: &str, limit: LimitType) -> Option<&'static [HeaderName; 2]> {
    let k = DESCRIPTOR_KINDS.iter().position(|x| *x == kind)?;
    let t = LIMIT_TYPES.iter().position(|x| *x == limit)?;
    DESCRIPTOR_HEADERS
        .get(k * LIMIT_TYPES.len() + t)
        .and_then(Option::as_ref)
}

/// The tightest requests and tokens limits, as OpenAI names them: remaining, limit, reset.
const GENERIC_HEADERS: [[&str; 3]; 2] = [
    [
        "x-ratelimit-remaining-requests",
        "x-ratelimit-limit-requests",
        "x-ratelimit-reset-requests",
    ],
    [
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-limit-tokens",
        "x-ratelimit-reset-tokens",
    ],
];

impl Drop for Permit {
    fn drop(&mut self) {
        let actual = self.usage.map(|(p, c)| self.inner.token_count.of(p, c));
        // Per descriptor: the token difference to settle (none without a tpm limit).
        let deltas: Vec<i64> = self
            .descriptors
            .iter()
            .zip(&self.reserves)
            .map(|(d, reserve)| match (d.limits.tpm, actual) {
                (Some(_), Some(actual)) => actual as i64 - *reserve as i64,
                _ => 0,
            })
            .collect();
        {
            let mut state = lock(&self.inner.local);
            for (tag, delta) in self.tags.iter().zip(&deltas) {
                if let Some(c) = state.counts.get_mut(tag) {
                    c.parallel = c.parallel.saturating_sub(1);
                    if c.minute == self.minute {
                        c.tokens = c.tokens.saturating_add_signed(*delta);
                    }
                }
            }
        }
        if !self.shared {
            return;
        }
        let Some(link) = self.inner.redis.clone() else {
            return;
        };
        let releases: Vec<bool> = self
            .descriptors
            .iter()
            .map(|d| d.limits.max_parallel_requests.is_some())
            .collect();
        {
            let mut held = lock(&self.inner.held);
            for (tag, release) in self.tags.iter().zip(&releases) {
                if *release {
                    // At 0 the tag stays until the next renewal: the slot given back
                    // may go to Redis netted with the next admission's, and the
                    // lease must not lapse meanwhile.
                    if let Some(n) = held.get_mut(tag) {
                        *n = n.saturating_sub(1);
                    }
                }
            }
        }
        if deltas.iter().all(|d| *d == 0) && !releases.iter().any(|r| *r) {
            return;
        }
        let minute = self.minute;
        let ends = std::mem::take(&mut self.tags)
            .into_iter()
            .zip(deltas)
            .zip(releases)
            .map(|((tag, delta), release)| End {
                tag,
                minute,
                delta,
                release,
            })
            .collect();
        // Drop cannot wait: the settlement goes with the next call to Redis.
        self.inner.enqueue(&link, None, ends);
    }
}

/// One descriptor's part of a request's end, waiting to be sent.
struct End {
    /// The descriptor's tag, and the minute its tokens were reserved in.
    tag: String,
    minute: u64,
    /// Tokens to settle (actual less reserved).
    delta: i64,
    /// Whether it gives a parallel slot back.
    release: bool,
}

/// An admission waiting to be sent.
struct Admission {
    /// Its descriptors' tags, and the minute it is counted in.
    tags: Vec<String>,
    minute: u64,
    /// Per descriptor its rpm, tpm and parallel limits (-1: none) and reserve.
    args: Vec<i64>,
    reply: tokio::sync::oneshot::Sender<Option<Result<Vec<Counted>, Refusal>>>,
}

impl Admission {
    /// The end that gives a counted admission back (its request went away while the
    /// admission was out): per descriptor the reserve taken back, and the slot if it
    /// took one.
    fn undo(tags: Vec<String>, minute: u64, args: &[i64]) -> impl Iterator<Item = End> + '_ {
        tags.into_iter()
            .zip(args.chunks_exact(4))
            .map(move |(tag, a)| End {
                tag,
                minute,
                delta: -a[3],
                release: a[2] >= 0,
            })
    }
}

/// Keys in the order first seen, each once, with a value per key (the script's writes
/// follow that order, not a hash order).
struct Distinct<K, V> {
    index: HashMap<K, usize>,
    items: Vec<(K, V)>,
}

impl<K: std::hash::Hash + Eq + Copy, V: Default> Distinct<K, V> {
    fn new() -> Self {
        Distinct {
            index: HashMap::new(),
            items: Vec::new(),
        }
    }

    /// The key's position, added with `V::default()` the first time.
    fn position(&mut self, key: K) -> usize {
        let items = &mut self.items;
        *self.index.entry(key).or_insert_with(|| {
            items.push((key, V::default()));
            items.len() - 1
        })
    }

    fn value(&mut self, key: K) -> &mut V {
        let i = self.position(key);
        &mut self.items[i].1
    }
}

/// Which of a descriptor's window counters a key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Window {
    Requests,
    Tokens,
}

/// One call's keys and arguments, each key once ([`LIMITS_LUA`]'s layout), and the
/// group each admission went in (alike admissions go as one group: [`LIMITS_LUA`]).
fn invocation_of<'a>(
    inner: &'a Inner,
    now_ms: u64,
    ends: &[End],
    admissions: &[Admission],
) -> (redis::ScriptInvocation<'a>, Vec<usize>) {
    // The counters the call touches, numbered from 1 as the script reads them: window
    // keys (a tag's requests or tokens in a minute) and parallel slots (a tag's parallel
    // keys).
    let mut windows: Distinct<(&str, u64, Window), ()> = Distinct::new();
    let mut slots: Distinct<&str, ()> = Distinct::new();
    // Token settlements per window and slot releases per slot, summed.
    let mut settles: Distinct<usize, i64> = Distinct::new();
    let mut releases: Distinct<usize, i64> = Distinct::new();
    for end in ends {
        if end.delta != 0 {
            let w = windows.position((end.tag.as_str(), end.minute, Window::Tokens)) + 1;
            *settles.value(w) += end.delta;
        }
        if end.release {
            let j = slots.position(end.tag.as_str()) + 1;
            *releases.value(j) += 1;
        }
    }
    // Groups: the distinct admissions (per descriptor its limits, counters and
    // reserve), with how many there are of each.
    let mut group_index: HashMap<Vec<i64>, usize> = HashMap::new();
    let mut groups: Vec<(Vec<i64>, u64)> = Vec::new();
    let mut group_of = Vec::with_capacity(admissions.len());
    for admission in admissions {
        let mut shape = Vec::with_capacity(1 + 7 * admission.tags.len());
        shape.push(admission.tags.len() as i64);
        for (tag, a) in admission.tags.iter().zip(admission.args.chunks_exact(4)) {
            let (rpm, tpm, parallel, reserve) = (a[0], a[1], a[2], a[3]);
            let mut window = |limit: i64, which: Window| {
                if limit < 0 {
                    0
                } else {
                    windows.position((tag.as_str(), admission.minute, which)) as i64 + 1
                }
            };
            let (ri, ti) = (window(rpm, Window::Requests), window(tpm, Window::Tokens));
            let pj = if parallel < 0 {
                0
            } else {
                slots.position(tag.as_str()) as i64 + 1
            };
            shape.extend([rpm, ri, tpm, ti, parallel, pj, reserve]);
        }
        let g = *group_index.entry(shape).or_insert_with_key(|shape| {
            groups.push((shape.clone(), 0));
            groups.len() - 1
        });
        groups[g].1 += 1;
        group_of.push(g);
    }
    let mut invocation = inner.limits.prepare_invoke();
    for ((tag, minute, which), ()) in &windows.items {
        invocation.key(match which {
            Window::Requests => format!("{tag}:requests:{minute}"),
            Window::Tokens => format!("{tag}:tokens:{minute}"),
        });
    }
    for suffix in [":parallel", ":parallel:by", ":parallel:leases"] {
        for (tag, ()) in &slots.items {
            invocation.key(format!("{tag}{suffix}"));
        }
    }
    let mut numbers = Numbers::default();
    numbers.push(windows.items.len() as i64);
    numbers.push(slots.items.len() as i64);
    numbers.push(settles.items.len() as i64);
    numbers.push(releases.items.len() as i64);
    numbers.push(groups.len() as i64);
    for (counter, n) in settles.items.iter().chain(&releases.items) {
        numbers.push(*counter as i64);
        numbers.push(*n);
    }
    for (shape, count) in &groups {
        numbers.push(*count as i64);
        for arg in shape {
            numbers.push(*arg);
        }
    }
    invocation
        .arg(now_ms)
        .arg(now_ms + LEASE_MS)
        .arg(&inner.instance)
        .arg(WINDOW_TTL_MS)
        .arg(PARALLEL_TTL_MS)
        .arg(numbers.0);
    (invocation, group_of)
}

/// The script's numeric arguments packed into one string for Lua's `struct.unpack`:
/// little-endian doubles, Lua's own number type (a numeral in `ARGV` goes through the same
/// conversion in `tonumber`, so nothing counts differently). `tonumber` on thirty
/// numerals cost Redis ~3 µs of a ~22 µs call at concurrency 1; the unpacking costs a
/// fraction of that.
#[derive(Default)]
struct Numbers(Vec<u8>);

impl Numbers {
    fn push(&mut self, n: i64) {
        self.0.extend_from_slice(&(n as f64).to_le_bytes());
    }
}

/// What waits for the next call to Redis.
#[derive(Default)]
struct Waiting {
    admissions: VecDeque<Admission>,
    ends: VecDeque<End>,
    /// Whether a [`run_calls`] task is running (it takes everything queued).
    running: bool,
}

/// The most admissions in one call.
const ADMISSIONS_PER_CALL: usize = 128;
/// The most end descriptors in one call.
const ENDS_PER_CALL: usize = 256;
/// How long request ends alone wait for an admission to go with: at concurrency 1 the
/// next request arrives within this, and its admission carries the previous request's
/// end (one round trip per request instead of two). A slot given back this much later
/// only delays another instance's request; this instance's own next admission settles
/// its ends first.
const ENDS_WAIT: Duration = Duration::from_millis(1);

impl Inner {
    /// Queue an admission and/or request ends for the next call to Redis, starting the
    /// task that makes the calls if none runs. On a serving thread the task runs on its
    /// runtime (its own Redis connection, no other thread woken); anywhere else (a permit
    /// dropped off the serving threads) on the shared runtime, which is always driven.
    fn enqueue(
        self: &Arc<Self>,
        link: &Arc<RedisLink>,
        admission: Option<Admission>,
        ends: Vec<End>,
    ) {
        let start = {
            let mut w = lock(&self.calls);
            let has_admission = admission.is_some();
            w.admissions.extend(admission);
            w.ends.extend(ends);
            if has_admission {
                self.company.notify_waiters();
            }
            !std::mem::replace(&mut w.running, true)
        };
        if start {
            crate::transport::spawn_call_task(run_calls(Arc::clone(self), Arc::clone(link)));
        }
    }
}

/// Send what waits to Redis, one call at a time, each carrying every end and admission
/// queued by then (up to [`ADMISSIONS_PER_CALL`] and [`ENDS_PER_CALL`]), until nothing
/// waits. Alone, an admission goes at once; under load, the admissions that arrive while
/// a call is out go together in the next one, so Redis sees one script call per batch
/// instead of two per request.
async fn run_calls(inner: Arc<Inner>, link: Arc<RedisLink>) {
    /// Marks the task gone if it is dropped mid-way (its runtime shut down), so the next
    /// admission starts another instead of waiting for this one.
    struct Running(Arc<Inner>, bool);
    impl Drop for Running {
        fn drop(&mut self) {
            if self.1 {
                lock(&self.0.calls).running = false;
            }
        }
    }
    let mut running = Running(Arc::clone(&inner), true);
    let mut waited = false;
    loop {
        let next = {
            let mut w = lock(&inner.calls);
            if w.admissions.is_empty() && w.ends.is_empty() {
                w.running = false;
                running.1 = false;
                return;
            }
            if w.admissions.is_empty() && !waited {
                None
            } else {
                let n = w.admissions.len().min(ADMISSIONS_PER_CALL);
                let m = w.ends.len().min(ENDS_PER_CALL);
                let admissions: Vec<Admission> = w.admissions.drain(..n).collect();
                let ends: Vec<End> = w.ends.drain(..m).collect();
                Some((admissions, ends))
            }
        };
        let Some((admissions, ends)) = next else {
            waited = true;
            // Listening before looking again: an admission queued from here on wakes
            // this wait, and none queued earlier leaves a wake-up behind (with
            // `notify_one` an admission queued while no call waited stored one, and the
            // next request's end then went alone: two calls per request at
            // concurrency 1).
            let company = inner.company.notified();
            tokio::pin!(company);
            company.as_mut().enable();
            if lock(&inner.calls).admissions.is_empty() {
                tokio::select! {
                    () = tokio::time::sleep(ENDS_WAIT) => {}
                    () = company => {}
                }
            }
            continue;
        };
        waited = false;
        let now_ms = inner.clock.unix_millis();
        let (invocation, group_of) = invocation_of(&inner, now_ms, &ends, &admissions);
        let replies: Option<Vec<i64>> = link
            .run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await;
        // A reply that does not read whole answers none (the local counters decide).
        let outcomes = replies.and_then(|r| read_outcomes(&r, &admissions, &group_of));
        let mut outcomes = outcomes.map(Vec::into_iter);
        let mut undo = Vec::new();
        for admission in admissions {
            let outcome = outcomes.as_mut().and_then(Iterator::next);
            let counted = matches!(outcome, Some(Ok(_)));
            let Admission {
                tags,
                minute,
                args,
                reply,
            } = admission;
            if reply.send(outcome).is_err() && counted {
                // The request went away while its admission was out: it was counted,
                // and nobody will end it.
                undo.extend(Admission::undo(tags, minute, &args));
            }
        }
        if !undo.is_empty() {
            lock(&inner.calls).ends.extend(undo);
        }
    }
}

/// Every admission's outcome from a call's reply ([`LIMITS_LUA`]'s layout): per group
/// the number admitted, the first admitted one's counts and the refusal of the rest.
/// The `j`-th admission of a group fits when `j` is under the number admitted and reads
/// the first one's counts plus `j` requests, slots and reserves (for the limits it has).
/// `None` when the reply does not read whole.
fn read_outcomes(
    reply: &[i64],
    admissions: &[Admission],
    group_of: &[usize],
) -> Option<Vec<Result<Vec<Counted>, Refusal>>> {
    let groups = group_of.iter().max().map_or(0, |g| g + 1);
    // Per group: its size and the first admission in it (they are alike).
    let mut sizes = vec![0u64; groups];
    let mut first = vec![usize::MAX; groups];
    for (i, g) in group_of.iter().enumerate() {
        sizes[*g] += 1;
        first[*g] = first[*g].min(i);
    }
    let mut rest = reply;
    let mut read: Vec<(u64, Vec<Counted>, Option<Refusal>)> = Vec::with_capacity(groups);
    for (size, first) in sizes.iter().zip(&first) {
        let n = admissions.get(*first)?.tags.len();
        let (admitted, after) = rest.split_first()?;
        rest = after;
        let admitted = u64::try_from(*admitted).ok().filter(|m| m <= size)?;
        let mut counts = Vec::new();
        if admitted > 0 {
            if rest.len() < 3 * n {
                return None;
            }
            let (c, after) = rest.split_at(3 * n);
            rest = after;
            counts = c
                .chunks_exact(3)
                .map(|c| Counted {
                    requests: c[0].max(0) as u64,
                    tokens: c[1].max(0) as u64,
                    parallel: c[2].max(0) as u64,
                })
                .collect();
        }
        let mut refusal = None;
        if admitted < *size {
            if rest.len() < 3 {
                return None;
            }
            let (r, after) = rest.split_at(3);
            rest = after;
            let index = usize::try_from(r[0]).ok().filter(|i| *i < n)?;
            let limit = match r[1] {
                1 => LimitType::Requests,
                2 => LimitType::Tokens,
                _ => LimitType::Parallel,
            };
            refusal = Some(Refusal {
                index,
                limit,
                value: r[2].max(0) as u64,
            });
        }
        read.push((admitted, counts, refusal));
    }
    if !rest.is_empty() {
        return None;
    }
    let mut seen = vec![0u64; groups];
    let mut out = Vec::with_capacity(admissions.len());
    for (admission, g) in admissions.iter().zip(group_of) {
        let j = seen[*g];
        seen[*g] += 1;
        let (admitted, counts, refusal) = &read[*g];
        if j < *admitted {
            let counted = counts
                .iter()
                .zip(admission.args.chunks_exact(4))
                .map(|(c, a)| Counted {
                    requests: if a[0] >= 0 {
                        c.requests + j
                    } else {
                        c.requests
                    },
                    tokens: if a[1] >= 0 {
                        c.tokens + j * a[3].max(0) as u64
                    } else {
                        c.tokens
                    },
                    parallel: if a[2] >= 0 {
                        c.parallel + j
                    } else {
                        c.parallel
                    },
                })
                .collect();
            out.push(Ok(counted));
        } else {
            out.push(Err((*refusal)?));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests;
