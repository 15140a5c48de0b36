//! Virtual keys in memory: every key (with its user's and team's limits) is loaded at
//! start into a map from `sha256(key)` to what the request path needs, so a request
//! never reads the database and an unknown key is refused without touching it.
//!
//! The map follows the database: each admin write records a change in the same
//! transaction (`rustllm_changes`), and every instance polls for changes after the last
//! one it saw ([`POLL_EVERY`]), which works the same on one SQLite file shared by two
//! processes and on Postgres. An instance applies its own writes at once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::auth::{AuthFuture, Authenticator, Identity, KeyGrant, MasterKey, RateLimits, Role};
use super::errors::ProxyError;
use super::log;
use super::store::records::{KEYS, TEAMS, USERS};
use super::store::{time, Store};

/// How often each instance looks for changes other instances made.
pub const POLL_EVERY: Duration = Duration::from_millis(250);

/// How long recorded changes are kept (an instance that was stopped longer reloads
/// everything when it starts anyway).
const KEEP_CHANGES_MS: i64 = 10 * 60 * 1000;

/// One key as the request path sees it.
#[derive(Debug)]
pub struct CachedKey {
    pub hash: Arc<str>,
    pub grant: Arc<KeyGrant>,
    pub blocked: bool,
    /// Milliseconds since the epoch.
    pub expires_ms: Option<i64>,
    /// The key's team is blocked (`/team/update` with `blocked: true`).
    pub team_blocked: bool,
}

/// The rows keys are built from, kept to rebuild keys when a user or team changes.
#[derive(Default)]
struct Rows {
    keys: HashMap<String, Map<String, Value>>,
    users: HashMap<String, Map<String, Value>>,
    teams: HashMap<String, Map<String, Value>>,
    /// The last change applied.
    seq: i64,
    /// When the changes were last read: after longer than [`RELOAD_AFTER`] (the
    /// database was away) some may have been pruned, so everything is loaded again.
    synced_at: Option<std::time::Instant>,
}

/// Half of [`KEEP_CHANGES_MS`]: an instance that could not read changes for this long
/// reloads every key rather than trust the change list.
const RELOAD_AFTER: Duration = Duration::from_millis(KEEP_CHANGES_MS as u64 / 2);

/// Every virtual key, by the SHA-256 digest of the key.
#[derive(Default)]
pub struct KeyCache {
    keys: RwLock<HashMap<[u8; 32], Arc<CachedKey>>>,
    /// Serialises loads and syncs (the poller and this instance's own writes).
    rows: tokio::sync::Mutex<Rows>,
}

fn digest_of_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn text(row: &Map<String, Value>, col: &str) -> Option<String> {
    row.get(col).and_then(Value::as_str).map(str::to_string)
}

fn strings(row: &Map<String, Value>, col: &str) -> Vec<String> {
    row.get(col)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn uint(v: Option<&Value>) -> Option<u64> {
    v.and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
    })
}

fn limits(row: Option<&Map<String, Value>>) -> RateLimits {
    let Some(row) = row else {
        return RateLimits::default();
    };
    RateLimits {
        rpm: uint(row.get("rpm_limit")),
        tpm: uint(row.get("tpm_limit")),
        max_parallel_requests: uint(row.get("max_parallel_requests")),
    }
}

/// LiteLLM keeps per-model limits in the key's metadata: `model_rpm_limit` and
/// `model_tpm_limit`, each `{model group: limit}`.
fn model_limits(metadata: Option<&Value>) -> HashMap<String, RateLimits> {
    let mut out: HashMap<String, RateLimits> = HashMap::new();
    let Some(meta) = metadata.and_then(Value::as_object) else {
        return out;
    };
    for (field, is_rpm) in [("model_rpm_limit", true), ("model_tpm_limit", false)] {
        let Some(map) = meta.get(field).and_then(Value::as_object) else {
            continue;
        };
        for (model, v) in map {
            let entry = out.entry(model.clone()).or_default();
            if is_rpm {
                entry.rpm = uint(Some(v));
            } else {
                entry.tpm = uint(Some(v));
            }
        }
    }
    out
}

/// `guardrails` in the key's and its team's metadata (names, in that order, once each).
fn metadata_guardrails(
    key: Option<&Map<String, Value>>,
    team: Option<&Map<String, Value>>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for row in [key, team].into_iter().flatten() {
        let names = row
            .get("metadata")
            .and_then(|m| m.get("guardrails"))
            .and_then(Value::as_array);
        for name in names.into_iter().flatten().filter_map(Value::as_str) {
            if !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// What the request path needs of one key row, with its user and team.
fn build(
    key: &Map<String, Value>,
    users: &HashMap<String, Map<String, Value>>,
    teams: &HashMap<String, Map<String, Value>>,
) -> Option<([u8; 32], CachedKey)> {
    let hash = text(key, "token")?;
    let digest = digest_of_hex(&hash)?;
    let user_id = text(key, "user_id");
    let team_id = text(key, "team_id");
    let user = user_id.as_ref().and_then(|u| users.get(u));
    let team = team_id.as_ref().and_then(|t| teams.get(t));
    let grant = KeyGrant {
        key_alias: text(key, "key_alias"),
        models: strings(key, "models"),
        team_models: team.map(|t| strings(t, "models")).unwrap_or_default(),
        team_alias: team.and_then(|t| text(t, "team_alias")),
        key_limits: limits(Some(key)),
        user_limits: limits(user),
        team_limits: limits(team),
        model_limits: model_limits(key.get("metadata")),
        guardrails: metadata_guardrails(Some(key), team),
        user_id,
        team_id,
    };
    Some((
        digest,
        CachedKey {
            hash: Arc::from(hash),
            grant: Arc::new(grant),
            blocked: key.get("blocked").and_then(Value::as_bool).unwrap_or(false),
            expires_ms: key
                .get("expires")
                .and_then(Value::as_str)
                .and_then(time::parse_iso),
            team_blocked: team
                .and_then(|t| t.get("blocked"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
        },
    ))
}

fn by_id(rows: Vec<Map<String, Value>>, id: &str) -> HashMap<String, Map<String, Value>> {
    rows.into_iter()
        .filter_map(|r| Some((text(&r, id)?, r)))
        .collect()
}

impl KeyCache {
    /// The key whose SHA-256 digest is `digest`.
    pub fn get(&self, digest: &[u8; 32]) -> Option<Arc<CachedKey>> {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(digest)
            .cloned()
    }

    /// How many keys are loaded.
    pub fn len(&self) -> usize {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no key is loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Load every key, user and team (at start).
    pub async fn load(&self, store: &Store) -> Result<(), sqlx::Error> {
        let mut rows = self.rows.lock().await;
        self.load_locked(&mut rows, store).await
    }

    async fn load_locked(&self, rows: &mut Rows, store: &Store) -> Result<(), sqlx::Error> {
        let started = std::time::Instant::now();
        // The position first: a change made while loading is applied again later,
        // which is harmless; one missed would not be.
        rows.seq = store.last_change().await?;
        rows.users = by_id(store.select(&USERS, "", &[]).await?, "user_id");
        rows.teams = by_id(store.select(&TEAMS, "", &[]).await?, "team_id");
        rows.keys = by_id(store.select(&KEYS, "", &[]).await?, "token");
        let map: HashMap<[u8; 32], Arc<CachedKey>> = rows
            .keys
            .values()
            .filter_map(|k| build(k, &rows.users, &rows.teams))
            .map(|(d, k)| (d, Arc::new(k)))
            .collect();
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = map;
        rows.synced_at = Some(started);
        Ok(())
    }

    /// Apply the changes recorded since the last sync: reload each changed row and
    /// rebuild the keys it affects. Returns how many changes were applied.
    pub async fn sync(&self, store: &Store) -> Result<usize, sqlx::Error> {
        let mut rows = self.rows.lock().await;
        if rows.synced_at.is_some_and(|t| t.elapsed() > RELOAD_AFTER) {
            self.load_locked(&mut rows, store).await?;
            return Ok(0);
        }
        let started = std::time::Instant::now();
        let changes = store.changes_since(rows.seq).await?;
        rows.synced_at = Some(started);
        if changes.is_empty() {
            return Ok(0);
        }
        let mut touched_keys: Vec<String> = Vec::new();
        for (seq, table, id) in &changes {
            rows.seq = *seq;
            if table == KEYS.name {
                match store.get(&KEYS, id).await? {
                    Some(row) => {
                        rows.keys.insert(id.clone(), row);
                    }
                    None => {
                        rows.keys.remove(id);
                    }
                }
                touched_keys.push(id.clone());
                continue;
            }
            let (column, table_rows, spec) = if table == USERS.name {
                ("user_id", &mut rows.users, &USERS)
            } else if table == TEAMS.name {
                ("team_id", &mut rows.teams, &TEAMS)
            } else {
                continue;
            };
            match store.get(spec, id).await? {
                Some(row) => {
                    table_rows.insert(id.clone(), row);
                }
                None => {
                    table_rows.remove(id);
                }
            }
            touched_keys.extend(
                rows.keys
                    .iter()
                    .filter(|(_, k)| text(k, column).as_deref() == Some(id.as_str()))
                    .map(|(h, _)| h.clone()),
            );
        }
        touched_keys.sort();
        touched_keys.dedup();
        let mut map = self.keys.write().unwrap_or_else(|e| e.into_inner());
        for hash in touched_keys {
            let Some(digest) = digest_of_hex(&hash) else {
                continue;
            };
            match rows
                .keys
                .get(&hash)
                .and_then(|k| build(k, &rows.users, &rows.teams))
            {
                Some((d, k)) => {
                    map.insert(d, Arc::new(k));
                }
                None => {
                    map.remove(&digest);
                }
            }
        }
        Ok(changes.len())
    }

    /// Poll for changes every [`POLL_EVERY`] until the process ends; prune old changes
    /// now and then. Errors are logged and retried (requests keep being served from
    /// memory while the database is away).
    pub fn spawn_sync(self: &Arc<Self>, store: Store) {
        let cache = Arc::clone(self);
        tokio::spawn(async move {
            let mut ticks: u64 = 0;
            let mut failing = false;
            loop {
                tokio::time::sleep(POLL_EVERY).await;
                ticks += 1;
                match cache.sync(&store).await {
                    Ok(_) if failing => {
                        failing = false;
                        log::info("database reachable again: key changes are followed");
                    }
                    Ok(_) => {}
                    Err(e) if !failing => {
                        failing = true;
                        log::warn(&format!(
                            "cannot read key changes from the database (keys in memory keep working): {}",
                            super::store::scrub(&e.to_string(), "")
                        ));
                    }
                    Err(_) => {}
                }
                // About once a minute.
                if ticks.is_multiple_of(240) {
                    let _ = store.prune_changes(KEEP_CHANGES_MS).await;
                }
            }
        });
    }
}

/// Virtual keys and the master key: the master key is checked first (the admin path
/// costs what it did before), then the in-memory map.
pub struct VirtualKeys {
    master: MasterKey,
    master_digest: [u8; 32],
    /// The master key's identity, built once.
    admin: Identity,
    pub cache: Arc<KeyCache>,
}

impl VirtualKeys {
    /// Keys from `cache`, and `master` (which must be set: without a master key every
    /// request is let in and keys are not checked, as in LiteLLM).
    pub fn new(master: &super::config::Secret, cache: Arc<KeyCache>) -> Self {
        VirtualKeys {
            master: MasterKey::new(Some(master)),
            master_digest: Sha256::digest(master.0.as_bytes()).into(),
            admin: Identity {
                role: Role::ProxyAdmin,
                key_hash: Some(Arc::from(super::auth::hash_key(&master.0))),
                grant: None,
            },
            cache,
        }
    }

    /// The synchronous check behind [`Authenticator::authenticate`].
    pub fn check(&self, key: Option<&str>) -> Result<Identity, ProxyError> {
        let Some(key) = key else {
            return self.master.check(None);
        };
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        if bool::from(digest.ct_eq(&self.master_digest)) {
            // One hash per request, as with the master key alone.
            return Ok(self.admin.clone());
        }
        let Some(entry) = self.cache.get(&digest) else {
            return Err(ProxyError::unauthorized(
                "Authentication Error, Invalid proxy server token passed. Unable to find token in cache or `LiteLLM_VerificationTokenTable`",
            ));
        };
        if entry.blocked {
            return Err(ProxyError::unauthorized(
                "Authentication Error, Key is blocked. Update via `/key/unblock` if you're admin.",
            ));
        }
        if let Some(expires) = entry.expires_ms {
            let now = time::now_ms();
            if expires < now {
                return Err(ProxyError::new(
                    axum::http::StatusCode::UNAUTHORIZED,
                    "expired_key",
                    format!(
                        "Authentication Error - Expired Key. Key Expiry time {} and current time {}",
                        python_datetime(expires),
                        python_datetime(now)
                    ),
                ));
            }
        }
        if entry.team_blocked {
            return Err(ProxyError::unauthorized(format!(
                "Authentication Error, Team={} is blocked. Update via `/team/unblock` if your admin.",
                entry.grant.team_id.as_deref().unwrap_or("")
            )));
        }
        Ok(Identity {
            role: Role::VirtualKey,
            key_hash: Some(Arc::clone(&entry.hash)),
            grant: Some(Arc::clone(&entry.grant)),
        })
    }
}

/// A timestamp as Python prints an aware datetime (`2026-12-06 07:30:00.123000+00:00`).
fn python_datetime(ms: i64) -> String {
    let iso = time::iso(ms);
    // 2026-12-06T07:30:00.123Z
    format!("{} {}000+00:00", &iso[..10], &iso[11..23])
}

impl Authenticator for VirtualKeys {
    fn authenticate<'a>(&'a self, key: Option<&'a str>, _route: &'a str) -> AuthFuture<'a> {
        Box::pin(std::future::ready(self.check(key)))
    }

    fn enforces_keys(&self) -> bool {
        true
    }
}

/// The model names as Python prints a list (`['gpt-4o', 'claude']`), as LiteLLM's
/// messages show them.
fn python_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|m| format!("'{m}'")).collect();
    format!("[{}]", quoted.join(", "))
}

/// LiteLLM's special model names.
const ALL_PROXY_MODELS: &str = "all-proxy-models";
const ALL_TEAM_MODELS: &str = "all-team-models";

/// Whether a model list (a key's or a team's) lets `requested` (served by `group`)
/// through: LiteLLM's `_can_object_call_model`.
fn allows(
    models: &[String],
    requested: &str,
    group: &str,
    access_groups: &HashMap<String, Vec<String>>,
) -> bool {
    if models.is_empty() {
        return true;
    }
    let mut filtered = models
        .iter()
        .filter(|m| !access_groups.contains_key(m.as_str()));
    let in_access_group = models.iter().any(|m| {
        access_groups
            .get(m.as_str())
            .is_some_and(|groups| groups.iter().any(|g| g == group))
    });
    in_access_group
        || filtered.any(|m| {
            m == ALL_PROXY_MODELS
                || m == "*"
                || m == requested
                || m == group
                || m.strip_suffix('*')
                    .is_some_and(|prefix| m.contains('/') && requested.starts_with(prefix))
        })
}

/// Whether this key (and its team) may call `requested`, which routes to `group`:
/// LiteLLM's rules (an empty list allows every model, `all-proxy-models` and `*` too,
/// `all-team-models` defers to the team, `provider/*` wildcards, access groups from
/// `model_info.access_groups`), and its 401 when not.
pub fn check_model(
    grant: &KeyGrant,
    requested: &str,
    group: &str,
    access_groups: &HashMap<String, Vec<String>>,
) -> Result<(), ProxyError> {
    let key_defers = grant.models.iter().any(|m| m == ALL_TEAM_MODELS);
    if !key_defers && !allows(&grant.models, requested, group, access_groups) {
        return Err(model_denied("key", &grant.models, requested));
    }
    if grant.team_id.is_some() && !allows(&grant.team_models, requested, group, access_groups) {
        return Err(model_denied("team", &grant.team_models, requested));
    }
    Ok(())
}

fn model_denied(object: &str, models: &[String], requested: &str) -> ProxyError {
    let mut e = ProxyError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        &format!("{object}_model_access_denied"),
        format!(
            "{object} not allowed to access model. This {object} can only access models={}. Tried to access {requested}",
            python_list(models)
        ),
    );
    e.param = Some("model".into());
    e
}

#[cfg(test)]
mod tests;
