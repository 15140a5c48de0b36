//! The dashboard's routes on a real server over real databases: who may read the
//! activity, what it counts, and the headers every `/ui` answer carries.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::*;
use crate::proxy::auth::hash_key;
use crate::proxy::budget::Deltas;
use crate::proxy::config::{ProxyConfig, Secret};
use crate::proxy::keys::{KeyCache, VirtualKeys};
use crate::proxy::server;
use crate::proxy::store::records::KEYS;
use crate::proxy::store::spend::LogRow;
use crate::proxy::store::tests::{PgServer, TempDir};

const MASTER: &str = "sk-master";
const VIRTUAL: &str = "sk-virtual-key";
const MINUTE: i64 = 60_000;

struct Running {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

fn state() -> AppState {
    let config = ProxyConfig::from_yaml(
        "model_list:\n  - model_name: m\n    litellm_params: {model: openai/m, api_key: x}\n\
         general_settings: {master_key: sk-master}\n",
        &|_| None,
    )
    .unwrap();
    AppState::new(&config).unwrap()
}

/// The proxy with `store` (and its virtual keys), on a loopback port.
async fn start(store: Option<Store>) -> Running {
    let mut state = state();
    if let Some(store) = store {
        let cache = Arc::new(KeyCache::default());
        cache.load(&store).await.unwrap();
        state.auth = Arc::new(VirtualKeys::new(&Secret(MASTER.into()), cache));
        state.store = Some(store);
    }
    serve(state)
}

/// `state` served on a loopback port until the handle is dropped.
fn serve(state: AppState) -> Running {
    let listener = server::bind("127.0.0.1", 0).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::serve(
        Arc::new(state),
        listener,
        async move {
            let _ = rx.await;
        },
        Duration::from_secs(1),
        2,
        crate::proxy::spin::Spin::off(),
    ));
    Running {
        url,
        stop: Some(tx),
    }
}

async fn get(proxy: &Running, path: &str, key: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}{path}", proxy.url));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().await.unwrap()
}

async fn body(response: reqwest::Response) -> Value {
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

fn row(id: &str, start_ms: i64, status: &'static str, spend: f64) -> LogRow {
    LogRow {
        request_id: id.into(),
        call_type: "acompletion",
        api_key: hash_key(VIRTUAL),
        spend,
        prompt_tokens: 1,
        completion_tokens: 3,
        start_ms,
        end_ms: start_ms + 5,
        model: "m".into(),
        model_id: "dep".into(),
        model_group: "m".into(),
        provider: "openai".into(),
        user: String::new(),
        team_id: Some("t1".into()),
        end_user: String::new(),
        status,
        cache_hit: false,
        metadata: None,
    }
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// A virtual key, and spend-log rows: three now (one a failure), two 5 minutes ago
/// (both failures), one 2 hours ago (outside an hour's window).
async fn seed(store: &Store, now: i64) {
    let mut tx = store.begin_change(&KEYS, &hash_key(VIRTUAL)).await.unwrap();
    store
        .insert(
            &mut tx,
            &KEYS,
            &obj(json!({"token": hash_key(VIRTUAL), "key_alias": "v"})),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let rows = [
        row("a", now, "success", 0.5),
        row("b", now, "success", 0.25),
        row("c", now, "failure", 0.0),
        row("d", now - 5 * MINUTE, "failure", 0.0),
        row("e", now - 5 * MINUTE, "failure", 0.0),
        row("f", now - 120 * MINUTE, "success", 1.0),
    ];
    store.write_spend(&Deltas::default(), &rows).await.unwrap();
}

/// The activity of the last hour, the last three hours, and who may read it.
async fn counts_requests_and_errors(store: Store) {
    let now = time::now_ms();
    seed(&store, now).await;
    let proxy = start(Some(store)).await;

    let r = get(&proxy, "/ui/api/activity?minutes=60", Some(MASTER)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "cache-control"), "no-store");
    assert_eq!(
        header(&r, "content-security-policy"),
        CONTENT_SECURITY_POLICY
    );
    let b = body(r).await;
    assert_eq!(b["database"], json!(true));
    assert_eq!(b["bucket_seconds"], json!(60));
    let buckets = b["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 60);
    assert_eq!(
        b["totals"],
        json!({"requests": 5, "errors": 3, "spend": 0.75})
    );
    // The bucket holding `now` has its three rows, the one five minutes before it the
    // two failures; every other bucket is zero. Buckets are minutes, on the minute.
    let at = |ms: i64| {
        buckets
            .iter()
            .find(|b| {
                let start = time::parse_iso(b["start"].as_str().unwrap()).unwrap();
                assert_eq!(start % MINUTE, 0);
                start <= ms && ms < start + MINUTE
            })
            .unwrap()
    };
    assert_eq!(
        (&at(now)["requests"], &at(now)["errors"]),
        (&json!(3), &json!(1))
    );
    let earlier = at(now - 5 * MINUTE);
    assert_eq!(
        (&earlier["requests"], &earlier["errors"]),
        (&json!(2), &json!(2))
    );
    let nonzero = buckets.iter().filter(|b| b["requests"] != json!(0)).count();
    assert_eq!(nonzero, 2);
    // The newest requests of the window, newest first.
    let recent = b["recent"].as_array().unwrap();
    let ids: Vec<&str> = recent
        .iter()
        .map(|r| r["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    assert_eq!(
        recent[2],
        json!({"request_id": "c", "start": time::iso(now), "model": "m",
            "api_key": hash_key(VIRTUAL), "team_id": "t1", "status": "failure",
            "spend": 0.0, "total_tokens": 4, "duration_ms": 5})
    );

    let b = body(get(&proxy, "/ui/api/activity?minutes=180", Some(MASTER)).await).await;
    assert_eq!(b["bucket_seconds"], json!(300));
    assert_eq!(b["buckets"].as_array().unwrap().len(), 36);
    assert_eq!(b["totals"]["requests"], json!(6));
    assert_eq!(b["totals"]["errors"], json!(3));
    assert_eq!(b["recent"].as_array().unwrap().len(), 6);

    // A virtual key is refused (403), a wrong key and no key too (401), without data.
    let r = get(&proxy, "/ui/api/activity", Some(VIRTUAL)).await;
    assert_eq!(r.status(), 403);
    assert_eq!(header(&r, "cache-control"), "no-store");
    assert!(body(r).await.get("buckets").is_none());
    for key in [Some("sk-wrong"), None, Some("")] {
        let r = get(&proxy, "/ui/api/activity", key).await;
        assert_eq!(r.status(), 401, "{key:?}");
        assert!(body(r).await.get("buckets").is_none());
    }
    // The window is checked before anything is read.
    for bad in ["0", "-5", "43201", "abc", "1.5"] {
        let r = get(
            &proxy,
            &format!("/ui/api/activity?minutes={bad}"),
            Some(MASTER),
        )
        .await;
        assert_eq!(r.status(), 400, "{bad}");
        assert_eq!(body(r).await["error"]["param"], json!("minutes"));
    }
}

#[tokio::test]
async fn sqlite_activity_counts_requests_and_errors() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("ui.db").display());
    counts_requests_and_errors(Store::open(&url, 2).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_activity_counts_requests_and_errors() {
    let Some(pg) = PgServer::start() else { return };
    counts_requests_and_errors(Store::open(&pg.url, 2).await.unwrap()).await;
}

#[tokio::test]
async fn without_a_database_the_page_is_told_so() {
    let proxy = start(None).await;
    let r = get(&proxy, "/ui/api/activity", Some(MASTER)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(body(r).await, json!({"database": false, "minutes": 60}));
    // Still the master key only.
    assert_eq!(
        get(&proxy, "/ui/api/activity", Some("sk-nope"))
            .await
            .status(),
        401
    );
}

/// More rows than the list holds: the newest [`RECENT_ROWS`], newest first.
#[tokio::test]
async fn the_recent_list_is_bounded() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("ui.db").display());
    let store = Store::open(&url, 2).await.unwrap();
    let now = time::now_ms();
    let rows: Vec<LogRow> = (0..RECENT_ROWS + 15)
        .map(|i| row(&format!("r{i:03}"), now - i * 1000, "success", 0.0))
        .collect();
    store.write_spend(&Deltas::default(), &rows).await.unwrap();
    let proxy = start(Some(store)).await;
    let b = body(get(&proxy, "/ui/api/activity", Some(MASTER)).await).await;
    let ids: Vec<&str> = b["recent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["request_id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..RECENT_ROWS).map(|i| format!("r{i:03}")).collect();
    assert_eq!(ids, expected);
    assert_eq!(b["totals"]["requests"], json!(RECENT_ROWS + 15));
}

/// Without a master key everyone is the admin (as in LiteLLM): the page needs no login.
#[tokio::test]
async fn without_a_master_key_the_activity_is_open() {
    let config = ProxyConfig::from_yaml(
        "model_list:\n  - model_name: m\n    litellm_params: {model: openai/m, api_key: x}\n",
        &|_| None,
    )
    .unwrap();
    let proxy = serve(AppState::new(&config).unwrap());
    let r = get(&proxy, "/ui/api/activity", None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(body(r).await["database"], json!(false));
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_with_a_strict_policy() {
    let proxy = start(None).await;
    for (path, kind) in [
        ("/ui", "text/html"),
        ("/ui/", "text/html"),
        ("/ui/assets/app.js", "text/javascript"),
        ("/ui/assets/app.css", "text/css"),
        ("/ui/assets/icon.svg", "image/svg+xml"),
    ] {
        // No key: the page and its code carry no data.
        let r = get(&proxy, path, None).await;
        assert_eq!(r.status(), 200, "{path}");
        assert!(header(&r, "content-type").starts_with(kind), "{path}");
        let csp = header(&r, "content-security-policy");
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(header(&r, "x-frame-options"), "DENY");
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
        assert_eq!(header(&r, "referrer-policy"), "no-referrer");
    }
    let html = get(&proxy, "/ui", None).await.text().await.unwrap();
    // Scripts only from files (the CSP would block an inline one anyway).
    assert!(html.contains("<script src=\"/ui/assets/app.js\""));
    assert!(!html.contains("<script>") && !has_event_handler(&html));
    // Nothing fetched from elsewhere.
    assert!(!html.contains("http://") && !html.contains("https://"));
    // The script builds the page from text nodes only: no HTML parsing of data.
    for sink in [
        ".innerHTML",
        ".outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
    ] {
        assert!(!APP_JS.contains(sink), "{sink}");
    }
    let r = get(&proxy, "/ui/assets/secret.txt", None).await;
    assert_eq!(r.status(), 404);
}

/// Whether HTML has an inline event handler attribute (` onclick=` and the like).
fn has_event_handler(html: &str) -> bool {
    html.match_indices(" on").any(|(i, _)| {
        let rest = &html[i + 3..];
        let name_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        name_len > 0 && rest[name_len..].starts_with('=')
    })
}

#[test]
fn windows_fit_in_the_bucket_limit_and_align_to_utc() {
    let now = 1_796_000_123_456;
    for minutes in [1, 59, 60, 61, 120, 360, 1440, 10_080, MAX_WINDOW_MINUTES] {
        let w = Window::ending_at(now, minutes);
        assert!(w.count >= 1 && w.count <= MAX_BUCKETS, "{minutes}: {w:?}");
        assert!(w.count * w.bucket_s >= minutes * 60, "{minutes}: {w:?}");
        assert_eq!(w.start_s % w.bucket_s, 0, "{minutes}");
        let end_ms = w.end_s() * 1000;
        assert!(
            end_ms > now && end_ms - now <= w.bucket_s * 1000,
            "{minutes}"
        );
    }
    assert_eq!(Window::ending_at(now, 60).bucket_s, 60);
    assert_eq!(Window::ending_at(now, 1440).bucket_s, 900);
    assert_eq!(Window::ending_at(now, 10_080).bucket_s, 7200);
    assert_eq!(Window::ending_at(now, MAX_WINDOW_MINUTES).bucket_s, 21_600);
}
