use super::*;
use crate::proxy::auth::hash_key;
use crate::proxy::config::Secret;
use crate::proxy::store::records::{Table, KEYS, TEAMS};
use crate::proxy::store::tests::{PgServer, TempDir};
use serde_json::json;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

async fn insert(store: &Store, table: &Table, id: &str, row: Value) {
    let mut tx = store.begin_change(table, id).await.unwrap();
    store.insert(&mut tx, table, &obj(row)).await.unwrap();
    tx.commit().await.unwrap();
}

async fn update(store: &Store, table: &Table, id: &str, row: Value) {
    let mut tx = store.begin_change(table, id).await.unwrap();
    store.update(&mut tx, table, id, &obj(row)).await.unwrap();
    tx.commit().await.unwrap();
}

fn auth(cache: &Arc<KeyCache>) -> VirtualKeys {
    VirtualKeys::new(&Secret("sk-master".into()), Arc::clone(cache))
}

/// Keys load with their team's models and every limit; a change through another
/// handle on the same database (another instance) shows after one sync.
async fn loads_and_follows(url: &str) {
    let a = Store::open(url, 2).await.unwrap();
    let b = Store::open(url, 2).await.unwrap();
    insert(
        &a,
        &TEAMS,
        "t1",
        json!({"team_id": "t1", "models": ["gpt-4o"], "rpm_limit": 100}),
    )
    .await;
    insert(
        &a,
        &USERS,
        "u1",
        json!({"user_id": "u1", "tpm_limit": 5000}),
    )
    .await;
    insert(
        &a,
        &KEYS,
        &hash_key("sk-one"),
        json!({
            "token": hash_key("sk-one"), "key_alias": "one", "models": ["gpt-4o", "claude"],
            "team_id": "t1", "user_id": "u1", "rpm_limit": 10, "max_parallel_requests": 2,
            "metadata": {"model_rpm_limit": {"gpt-4o": 3}, "model_tpm_limit": {"gpt-4o": 900}},
        }),
    )
    .await;
    let cache = Arc::new(KeyCache::default());
    cache.load(&b).await.unwrap();
    let keys = auth(&cache);
    let id = keys.check(Some("sk-one")).unwrap();
    assert_eq!(id.role, Role::VirtualKey);
    assert_eq!(id.key_hash.as_deref(), Some(hash_key("sk-one").as_str()));
    let grant = id.grant.unwrap();
    assert_eq!(grant.key_alias.as_deref(), Some("one"));
    assert_eq!(grant.models, vec!["gpt-4o", "claude"]);
    assert_eq!(grant.team_models, vec!["gpt-4o"]);
    assert_eq!(grant.key_limits.rpm, Some(10));
    assert_eq!(grant.key_limits.max_parallel_requests, Some(2));
    assert_eq!(grant.team_limits.rpm, Some(100));
    assert_eq!(grant.user_limits.tpm, Some(5000));
    assert_eq!(grant.model_limits["gpt-4o"].rpm, Some(3));
    assert_eq!(grant.model_limits["gpt-4o"].tpm, Some(900));
    // The master key is still the admin; an unknown key is refused without a query.
    let master = MasterKey::new(Some(&Secret("sk-master".into())));
    assert_eq!(
        keys.check(Some("sk-master")).unwrap(),
        master.check(Some("sk-master")).unwrap()
    );
    assert_eq!(
        keys.check(None).unwrap_err().message,
        master.check(None).unwrap_err().message
    );
    let e = keys.check(Some("' OR '1'='1")).unwrap_err();
    assert_eq!(e.status, axum::http::StatusCode::UNAUTHORIZED);
    assert!(!e.message.contains("OR '1'"), "{}", e.message);

    // Another instance adds a key, changes the team and blocks the first key.
    insert(
        &a,
        &KEYS,
        &hash_key("sk-two"),
        json!({"token": hash_key("sk-two")}),
    )
    .await;
    update(&a, &TEAMS, "t1", json!({"models": ["gpt-4o", "claude"]})).await;
    assert!(keys.check(Some("sk-two")).is_err(), "not before a sync");
    assert_eq!(cache.sync(&b).await.unwrap(), 2);
    assert!(keys.check(Some("sk-two")).is_ok());
    let grant = keys.check(Some("sk-one")).unwrap().grant.unwrap();
    assert_eq!(grant.team_models, vec!["gpt-4o", "claude"]);
    update(&a, &KEYS, &hash_key("sk-one"), json!({"blocked": true})).await;
    cache.sync(&b).await.unwrap();
    let e = keys.check(Some("sk-one")).unwrap_err();
    assert!(e.message.contains("Key is blocked"), "{}", e.message);
    // Deleted: gone after the sync.
    let mut tx = a.begin_change(&KEYS, &hash_key("sk-two")).await.unwrap();
    a.delete_where(&mut tx, &KEYS, "token = $1", &[hash_key("sk-two").into()])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    cache.sync(&b).await.unwrap();
    assert!(keys.check(Some("sk-two")).is_err());
    // Expired keys are refused with LiteLLM's message and type.
    update(
        &a,
        &KEYS,
        &hash_key("sk-one"),
        json!({"blocked": false, "expires": "2020-01-01T00:00:00.000Z"}),
    )
    .await;
    cache.sync(&b).await.unwrap();
    let e = keys.check(Some("sk-one")).unwrap_err();
    assert_eq!(e.status, axum::http::StatusCode::UNAUTHORIZED);
    assert_eq!(e.kind, "expired_key");
    assert!(
        e.message
            .starts_with("Authentication Error - Expired Key. Key Expiry time 2020-01-01 00:00:00"),
        "{}",
        e.message
    );
    // A blocked team blocks its keys.
    update(&a, &KEYS, &hash_key("sk-one"), json!({"expires": null})).await;
    update(&a, &TEAMS, "t1", json!({"blocked": true})).await;
    cache.sync(&b).await.unwrap();
    let e = keys.check(Some("sk-one")).unwrap_err();
    assert!(e.message.contains("Team=t1 is blocked"), "{}", e.message);
}

#[tokio::test]
async fn sqlite_keys_load_and_follow_changes() {
    let dir = TempDir::new();
    loads_and_follows(&format!("sqlite://{}", dir.0.join("k.db").display())).await;
}

#[tokio::test]
async fn postgres_keys_load_and_follow_changes() {
    let Some(pg) = PgServer::start() else { return };
    loads_and_follows(&pg.url).await;
}

fn grant(models: &[&str], team: Option<&[&str]>) -> KeyGrant {
    KeyGrant {
        models: models.iter().map(|m| m.to_string()).collect(),
        team_id: team.map(|_| "t".to_string()),
        team_models: team.unwrap_or(&[]).iter().map(|m| m.to_string()).collect(),
        ..KeyGrant::default()
    }
}

#[test]
fn model_access_follows_litellms_rules() {
    let groups: HashMap<String, Vec<String>> =
        [("beta".to_string(), vec!["gpt-4o".to_string()])].into();
    let ok = |g: &KeyGrant, m: &str| check_model(g, m, m, &groups).is_ok();
    assert!(ok(&grant(&[], None), "anything"));
    assert!(ok(&grant(&["all-proxy-models"], None), "anything"));
    assert!(ok(&grant(&["*"], None), "anything"));
    assert!(ok(&grant(&["gpt-4o"], None), "gpt-4o"));
    assert!(!ok(&grant(&["gpt-4o"], None), "claude"));
    assert!(ok(&grant(&["openai/*"], None), "openai/gpt-4o"));
    assert!(!ok(&grant(&["openai/*"], None), "anthropic/claude"));
    // Access group: the key names the group, the deployment is in it.
    assert!(ok(&grant(&["beta"], None), "gpt-4o"));
    assert!(!ok(&grant(&["beta"], None), "claude"));
    // The team narrows what an open key may call; all-team-models defers to it.
    assert!(!ok(&grant(&[], Some(&["gpt-4o"])), "claude"));
    assert!(ok(
        &grant(&["all-team-models"], Some(&["claude"])),
        "claude"
    ));
    // An alias the client asked for, resolved to a group the key allows.
    assert!(check_model(&grant(&["gpt-4o"], None), "my-alias", "gpt-4o", &groups).is_ok());

    let e = check_model(&grant(&["gpt-4o", "x"], None), "claude", "claude", &groups).unwrap_err();
    assert_eq!(e.status, axum::http::StatusCode::UNAUTHORIZED);
    assert_eq!(e.kind, "key_model_access_denied");
    assert_eq!(
        e.message,
        "key not allowed to access model. This key can only access models=['gpt-4o', 'x']. Tried to access claude"
    );
    let e = check_model(&grant(&[], Some(&["gpt-4o"])), "claude", "claude", &groups).unwrap_err();
    assert_eq!(e.kind, "team_model_access_denied");
    assert!(
        e.message.starts_with("team not allowed to access model."),
        "{}",
        e.message
    );
}

/// An instance that could not read changes for minutes may have missed some that were
/// pruned meanwhile: it loads everything again instead of trusting the change list.
#[tokio::test]
async fn a_long_silence_reloads_every_key() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("k.db").display());
    let a = Store::open(&url, 1).await.unwrap();
    let cache = Arc::new(KeyCache::default());
    cache.load(&a).await.unwrap();
    insert(
        &a,
        &KEYS,
        &hash_key("sk-late"),
        json!({"token": hash_key("sk-late")}),
    )
    .await;
    // Every change pruned, as another instance does after ten minutes.
    sqlx::query("DELETE FROM rustllm_changes")
        .execute(&a.pool)
        .await
        .unwrap();
    cache.sync(&a).await.unwrap();
    assert!(
        auth(&cache).check(Some("sk-late")).is_err(),
        "nothing to follow"
    );
    cache.rows.lock().await.synced_at = std::time::Instant::now().checked_sub(RELOAD_AFTER * 2);
    cache.sync(&a).await.unwrap();
    assert!(auth(&cache).check(Some("sk-late")).is_ok());
}
