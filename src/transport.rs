//! The tokio runtimes and the HTTP clients, one set per process.
//!
//! Async calls, every stream and the in-process MockServer run on one process-wide
//! multi-threaded runtime with shared connection pools. A blocking (sync) call that is not a
//! stream runs instead on a current-thread runtime owned by the calling thread, with that
//! thread's own client: the request, the connection task and the reply then all stay on
//! one thread, saving two cross-thread wake-ups per call (about 100 µs on 2 cores). The
//! two pools never share a connection, because a connection's task lives on the runtime
//! that opened it and must be driven by it.
//!
//! The proxy's serving threads ([`serve_on_this_thread`]) work the same way for their
//! whole life: each drives its own current-thread runtime with its own clients, and the
//! streams their requests open are read there too ([`spawn_call_task`]).
//!
//! **Fork.** A child made by `fork()` inherits the parent's memory but none of its threads:
//! the runtime's workers are gone, and every pooled connection is a socket the parent is
//! still using. Sharing either sends one process's reply to the other, or hangs. So the
//! runtime, the clients and every thread's own transport belong to one *process
//! generation*: [`after_fork_in_child`] (called by Python's `os.register_at_fork` hook)
//! starts a new generation, and the child builds fresh ones lazily on its next call. The
//! parent's are leaked in the child, never dropped: dropping a runtime joins threads that
//! do not exist there, and closing pooled connections could write on the parent's sockets.
//!
//! **Redirects.** Provider APIs do not redirect; a 3xx usually means a wrong `api_base`.
//! Following one would send the key headers (`Authorization`, `api-key`, `x-api-key`,
//! `x-goog-api-key`, AWS signatures) to wherever it points, and a 301/302 would turn the
//! POST into a GET without its body. So only a 307/308 to the same scheme, host and port
//! is followed; any other redirect is handed back as the reply and reported as an error
//! naming where it pointed. No `Referer` is ever sent.
//!
//! **TLS.** Certificates are verified against the bundled Mozilla roots and the operating
//! system's trust store (corporate proxies that intercept TLS install their CA there). A
//! CA bundle given as `ssl_verify="/path/ca.pem"`, `SSL_CERT_FILE` or `REQUESTS_CA_BUNDLE`
//! is trusted as well; `ssl_certificate` presents a client certificate.
//!
//! **Outbound proxies.** `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (or their
//! lower-case spellings) are honoured with curl's rules, as reqwest reads them. They are read
//! once per process generation, when its first client is built, and every client of that
//! generation (the shared pools and each thread's own) uses that one reading: left to
//! reqwest, each client would read them when built, so a change after the first call would
//! reach some threads and not others. A connection that fails on the way through a proxy
//! names the proxy (never its credentials) in the error.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, RwLock};
use std::time::Duration;

use tokio::runtime::Runtime;

/// What a call (or the module settings) said about TLS; `None` leaves the choice to the
/// next level: the call, then `rustllm.ssl_verify` / `rustllm.ssl_certificate`, then the
/// environment (`SSL_VERIFY`, `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`), then verification
/// against the built-in roots and the OS trust store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// `ssl_verify`: `Some(false)`-like [`Verify::Off`], a CA bundle, or plain verification.
    pub verify: Option<Verify>,
    /// `ssl_certificate="/path/client.pem"`: a PEM file with the client certificate (chain)
    /// and its private key, presented to servers that ask for one.
    pub client_cert: Option<String>,
}

/// `ssl_verify`'s three meanings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verify {
    /// `True`: verify against the built-in roots and the OS trust store.
    On,
    /// `False`: accept any certificate.
    Off,
    /// A path: verify, also trusting the certificates in this PEM bundle.
    Bundle(String),
}

/// The settings a client is built for, after every level has had its say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Resolved {
    insecure: bool,
    ca_bundle: Option<String>,
    client_cert: Option<String>,
}

/// `rustllm.ssl_verify` / `rustllm.ssl_certificate`, pushed by the Python layer when they
/// change. A read-write lock: every call reads it, and a reader caught by `fork()` leaves
/// the child free to read (a held mutex would block the child's first call forever).
static MODULE_TLS: RwLock<TlsSettings> = RwLock::new(TlsSettings {
    verify: None,
    client_cert: None,
});

/// Set the module-wide TLS settings (the level between a call's and the environment's).
pub fn set_module_tls(settings: TlsSettings) {
    *MODULE_TLS.write().unwrap_or_else(|e| e.into_inner()) = settings;
}

fn resolve(call: &TlsSettings) -> Resolved {
    let module = MODULE_TLS.read().unwrap_or_else(|e| e.into_inner()).clone();
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let verify = call.verify.clone().or(module.verify).or_else(|| {
        // LiteLLM reads SSL_VERIFY=False as ssl_verify=False; httpx and requests read the
        // CA bundle variables.
        if env("SSL_VERIFY").is_some_and(|v| v.trim().eq_ignore_ascii_case("false")) {
            return Some(Verify::Off);
        }
        env("SSL_CERT_FILE")
            .or_else(|| env("REQUESTS_CA_BUNDLE"))
            .map(Verify::Bundle)
    });
    let (insecure, ca_bundle) = match verify {
        Some(Verify::Off) => (true, None),
        Some(Verify::Bundle(path)) => (false, Some(path)),
        Some(Verify::On) | None => (false, None),
    };
    Resolved {
        insecure,
        ca_bundle,
        client_cert: call.client_cert.clone().or(module.client_cert),
    }
}

/// How many forks deep this process is: 0 in the process that imported rustllm, one more
/// in each child. Each generation has its own runtime and clients.
static GENERATION: AtomicUsize = AtomicUsize::new(0);

/// Beyond this many nested forks, generations share the last slot (and a child that deep
/// would hang like before): nobody forks a fork of a fork sixteen times.
const MAX_GENERATIONS: usize = 16;

/// One process generation's runtime and connection pools.
struct Process {
    runtime: OnceLock<Runtime>,
    /// A client per TLS configuration in use (nearly always just the default one).
    clients: ClientPool,
    /// The proxy variables as this generation first read them.
    proxies: OnceLock<ProxyEnv>,
}

#[allow(clippy::declare_interior_mutable_const)]
const NEW_PROCESS: Process = Process {
    runtime: OnceLock::new(),
    clients: Mutex::new(Vec::new()),
    proxies: OnceLock::new(),
};
static PROCESSES: [Process; MAX_GENERATIONS] = [NEW_PROCESS; MAX_GENERATIONS];

/// This process generation's number.
pub fn generation() -> usize {
    GENERATION.load(Ordering::Relaxed)
}

fn process() -> &'static Process {
    &PROCESSES[generation().min(MAX_GENERATIONS - 1)]
}

/// Call in a child right after `fork()`: everything the parent's runtime owned (its
/// threads, pooled connections, pending calls) is left behind, and this process builds
/// its own on first use.
pub fn after_fork_in_child() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// Worker threads of the shared runtime. Two match the machines the SDK targets (more
/// buys nothing for I/O-bound calls); the proxy sizes it to the cores (`--num_workers`).
static WORKER_THREADS: AtomicUsize = AtomicUsize::new(2);

/// Size the shared runtime before its first use. False when it is already running (the
/// size can no longer change).
pub fn set_worker_threads(n: usize) -> bool {
    WORKER_THREADS.store(n.max(1), Ordering::Relaxed);
    process().runtime.get().is_none()
}

/// The process-wide multi-threaded runtime, built on first use.
// Not reachable from user input: failing to start two OS threads leaves nothing to do.
#[allow(clippy::expect_used)]
pub fn runtime() -> &'static Runtime {
    process().runtime.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS.load(Ordering::Relaxed))
            .thread_name("rustllm-io")
            .enable_all()
            .build()
            .expect("rustllm: cannot start the tokio runtime")
    })
}

/// The outbound proxy variables, read as reqwest (hyper-util) reads them: the upper-case name
/// first, then the lower-case one; a set but empty or unparsable value counts as unset; in a
/// CGI process (`REQUEST_METHOD` set) none, since a request's `Proxy:` header arrives there
/// as `HTTP_PROXY` ("httpoxy"); none with `NO_PROXY=*`.
struct ProxyEnv {
    http: Option<String>,
    https: Option<String>,
    all: Option<String>,
    no: String,
    /// The same rules as one matcher, to say which proxy a failed connection went through.
    matcher: hyper_util::client::proxy::matcher::Matcher,
    /// Whether a request to an `http://` URL never meets TLS: no proxy for it, or a
    /// plain-HTTP one.
    http_stays_plain: bool,
}

impl ProxyEnv {
    fn read() -> ProxyEnv {
        let first = |names: [&str; 2]| {
            names
                .iter()
                .find_map(|n| std::env::var(n).ok())
                .filter(|v| !v.trim().is_empty())
        };
        let cgi = std::env::var_os("REQUEST_METHOD").is_some();
        let no = first(["NO_PROXY", "no_proxy"]).unwrap_or_default();
        // curl, requests and httpx read `NO_PROXY=*` as "no proxy at all"; hyper-util's
        // matcher applies `*` to host names only, so IP addresses would still be proxied.
        let no_proxy_at_all = no.split(',').any(|entry| entry.trim() == "*");
        let (http, https, all) = if cgi || no_proxy_at_all {
            (None, None, None)
        } else {
            (
                first(["HTTP_PROXY", "http_proxy"]),
                first(["HTTPS_PROXY", "https_proxy"]),
                first(["ALL_PROXY", "all_proxy"]),
            )
        };
        let matcher = hyper_util::client::proxy::matcher::Matcher::builder()
            .http(http.clone().unwrap_or_default())
            .https(https.clone().unwrap_or_default())
            .all(all.clone().unwrap_or_default())
            .no(no.clone())
            .build();
        let http_stays_plain = stays_plain(http.as_deref(), all.as_deref());
        ProxyEnv {
            http,
            https,
            all,
            no,
            matcher,
            http_stays_plain,
        }
    }

    /// Give the client exactly these proxies (and stop reqwest reading the variables itself).
    fn configure(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        let mut builder = builder.no_proxy();
        // reqwest tries them in this order; `all` comes last, as the fallback for both schemes.
        type MakeProxy = fn(&str) -> reqwest::Result<reqwest::Proxy>;
        let kinds: [(&Option<String>, MakeProxy); 3] = [
            (&self.http, |u| reqwest::Proxy::http(u)),
            (&self.https, |u| reqwest::Proxy::https(u)),
            (&self.all, |u| reqwest::Proxy::all(u)),
        ];
        for (value, make) in kinds {
            // An unparsable value is skipped, as reqwest's own reading skips it.
            if let Some(proxy) = value.as_deref().and_then(|v| make(v).ok()) {
                builder = builder.proxy(proxy.no_proxy(reqwest::NoProxy::from_string(&self.no)));
            }
        }
        builder
    }
}

fn proxy_env() -> &'static ProxyEnv {
    process().proxies.get_or_init(ProxyEnv::read)
}

/// The proxy a request to `url` goes through, as `scheme://host:port` without credentials,
/// or `None` when it connects directly.
pub fn proxy_for(url: &reqwest::Url) -> Option<String> {
    let uri: http::Uri = url.as_str().parse().ok()?;
    let intercept = proxy_env().matcher.intercept(&uri)?;
    let proxy = intercept.uri();
    Some(format!(
        "{}://{}",
        proxy.scheme_str().unwrap_or("http"),
        proxy.authority().map(|a| a.as_str()).unwrap_or_default()
    ))
}

/// A TLS setting that cannot be used (a CA bundle or client certificate that cannot be
/// read or parsed). The message names the file, never its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError(pub String);

fn read_pem(path: &str, what: &str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError(format!("cannot read the {what} {path:?}: {e}")))
}

/// Follow only a 307/308 to the same origin (see the module docs).
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt.previous().last().is_some_and(|prev| {
            let next = attempt.url();
            prev.scheme() == next.scheme()
                && prev.host_str() == next.host_str()
                && prev.port_or_known_default() == next.port_or_known_default()
        });
        let keeps_body = matches!(attempt.status().as_u16(), 307 | 308);
        if same_origin && keeps_body && attempt.previous().len() < 5 {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

fn build_client(tls: &Resolved, plain: bool) -> Result<reqwest::Client, TlsError> {
    let mut builder = reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        // Per-request timeouts are set on each request; this only bounds connecting.
        .connect_timeout(Duration::from_secs(30))
        .redirect(redirect_policy())
        .referer(false)
        .danger_accept_invalid_certs(tls.insecure);
    builder = proxy_env().configure(builder);
    if plain {
        // Only ever handed `http://` URLs that meet no TLS on the way (see [`client`]):
        // no trust store to read, which costs a client's first call ~4 ms (the OS store
        // is read file by file).
        return builder
            .tls_built_in_root_certs(false)
            .build()
            .map_err(|e| TlsError(format!("cannot set up the HTTP client: {e}")));
    }
    if let Some(path) = &tls.ca_bundle {
        let pem = read_pem(path, "CA bundle")?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| TlsError(format!("the CA bundle {path:?} is not PEM: {e}")))?;
        if certs.is_empty() {
            return Err(TlsError(format!(
                "the CA bundle {path:?} holds no PEM certificate"
            )));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let Some(path) = &tls.client_cert {
        let pem = read_pem(path, "client certificate")?;
        let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
            TlsError(format!(
                "the client certificate {path:?} must hold a PEM certificate and its private key: {e}"
            ))
        })?;
        builder = builder.identity(identity);
    }
    builder
        .build()
        .map_err(|e| TlsError(format!("cannot set up TLS: {e}")))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A pool's client for `tls` (or its plain-HTTP client when `plain_url` and the settings
/// allow), built on first use.
fn pooled(
    clients: &ClientPool,
    tls: &TlsSettings,
    plain_url: bool,
) -> Result<reqwest::Client, TlsError> {
    // A CA bundle or client certificate the call or the module names is still read (and
    // its errors reported) for a plain URL, as httpx reads them when its client is made;
    // one from the environment (`SSL_CERT_FILE`, ...) only matters to TLS.
    let plain = plain_url && !names_files(tls);
    let tls = if plain {
        Resolved::default()
    } else {
        resolve(tls)
    };
    // Few configurations are ever in use at once: a list is the simplest map.
    let mut list = lock(clients);
    if let Some((.., c)) = list.iter().find(|(t, p, _)| *t == tls && *p == plain) {
        return Ok(c.clone());
    }
    let client = build_client(&tls, plain)?;
    list.push((tls, plain, client.clone()));
    Ok(client)
}

/// Whether a request to an `http://` URL meets no TLS, given the `HTTP_PROXY` and
/// `ALL_PROXY` in force: neither set, or each a plain-HTTP proxy (an `https://`, SOCKS or
/// scheme-less proxy counts as not plain).
fn stays_plain(http: Option<&str>, all: Option<&str>) -> bool {
    let plain = |p: Option<&str>| p.is_none_or(|v| is_http(v.trim()));
    plain(http) && plain(all)
}

/// Whether `url` is an `http://` URL (any case).
fn is_http(url: &str) -> bool {
    url.get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
}

/// Whether the call's or the module's settings name a CA bundle or client certificate.
fn names_files(call: &TlsSettings) -> bool {
    let module = MODULE_TLS.read().unwrap_or_else(|e| e.into_inner());
    let verify = call.verify.as_ref().or(module.verify.as_ref());
    matches!(verify, Some(Verify::Bundle(_)))
        || call.client_cert.is_some()
        || module.client_cert.is_some()
}

/// Whether a request to `url` meets no TLS: `http://`, straight to its server or through a
/// plain-HTTP proxy.
fn is_plain(url: &str) -> bool {
    is_http(url) && proxy_env().http_stays_plain
}

/// Parsed request URLs, by their text. Parsing one (the host goes through IDNA mapping
/// even when it is an IP address) cost about a tenth of the proxy's CPU per request
/// (bench/proxy/README.md), and a process calls a handful of URLs over and over. Bounded:
/// emptied when full, so URLs that differ per call cannot grow it.
static PARSED_URLS: OnceLock<Mutex<std::collections::HashMap<String, reqwest::Url>>> =
    OnceLock::new();
const PARSED_URLS_MAX: usize = 256;

/// `url` parsed, from [`PARSED_URLS`] when it was parsed before; `None` when it does not
/// parse (the caller then hands reqwest the text, which reports the error as it always did).
pub fn parsed_url(url: &str) -> Option<reqwest::Url> {
    let cache = PARSED_URLS.get_or_init(Default::default);
    if let Some(u) = lock(cache).get(url) {
        return Some(u.clone());
    }
    let parsed = reqwest::Url::parse(url).ok()?;
    let mut map = lock(cache);
    if map.len() >= PARSED_URLS_MAX {
        map.clear();
    }
    map.insert(url.to_string(), parsed.clone());
    Some(parsed)
}

/// One thread's own runtime and clients, for blocking calls, and the process generation
/// they were made in.
struct LocalTransport {
    runtime: Runtime,
    generation: usize,
    clients: ClientPool,
}

/// Clients by their resolved TLS settings, and whether each is the plain-HTTP one.
type ClientPool = Mutex<Vec<(Resolved, bool, reqwest::Client)>>;

thread_local! {
    static LOCAL: RefCell<Option<Rc<LocalTransport>>> = const { RefCell::new(None) };
    /// Set while this thread drives its own runtime, so `client()` hands out its clients.
    static ON_LOCAL: Cell<bool> = const { Cell::new(false) };
    /// The clients of a thread that serves on its own runtime for its whole life (the
    /// proxy's serving threads, [`serve_on_this_thread`]).
    static SERVING: RefCell<Option<Rc<ClientPool>>> = const { RefCell::new(None) };
}

/// Mark the calling thread as one that drives its own current-thread runtime until it
/// ends (a proxy serving thread): from here on its calls use clients of its own, so a
/// request, its provider connection's task and the reply stay on this thread, and its
/// streams are read on this thread ([`spawn_call_task`]).
pub fn serve_on_this_thread() {
    SERVING.with(|s| *s.borrow_mut() = Some(Rc::new(Mutex::new(Vec::new()))));
}

/// Whether the calling thread is a serving thread ([`serve_on_this_thread`]): its
/// runtime is driven for as long as it lives, so connections whose driver tasks live on
/// it (Redis links, [`crate::cache::link`]) can be its own.
pub fn is_serving_thread() -> bool {
    SERVING.with(|s| s.borrow().is_some())
}

/// Run a task a call leaves behind (a stream's reader): on the calling thread's runtime
/// when it is a serving thread, else on the shared runtime (a blocking call's own runtime
/// is not driven between calls, so a stream cannot live there).
pub fn spawn_call_task<F>(task: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    if is_serving_thread() {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            drop(handle.spawn(task));
            return;
        }
    }
    drop(runtime().spawn(task));
}

/// The HTTP client for the runtime the caller is on, these TLS settings and a request to
/// `url`. Fails only for a CA bundle or client certificate that cannot be read or parsed.
///
/// A URL that meets no TLS (`http://`, no HTTPS proxy on the way) gets a client built
/// without the trust store, unless a CA bundle or client certificate is set: the
/// process's first call to a local server or mock is not charged for reading it.
pub fn client(tls: &TlsSettings, url: &str) -> Result<reqwest::Client, TlsError> {
    let plain = is_plain(url);
    if let Some(own) = SERVING.with(|s| s.borrow().clone()) {
        return pooled(&own, tls, plain);
    }
    if ON_LOCAL.with(Cell::get) {
        if let Some(t) = LOCAL.with(|l| l.borrow().clone()) {
            return pooled(&t.clients, tls, plain);
        }
    }
    let p = process();
    pooled(&p.clients, tls, plain)
}

/// This thread's transport for the current process generation, made on first use (and
/// again in a forked child, leaking the parent's: see the module docs).
fn local_transport() -> Option<Rc<LocalTransport>> {
    LOCAL.with(|cell| {
        let generation = generation();
        let mut slot = cell.borrow_mut();
        if let Some(t) = slot.as_ref() {
            if t.generation == generation {
                return Some(t.clone());
            }
            if let Some(stale) = slot.take() {
                std::mem::forget(stale);
            }
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        let t = Rc::new(LocalTransport {
            runtime,
            generation,
            clients: Mutex::new(Vec::new()),
        });
        *slot = Some(t.clone());
        Some(t)
    })
}

/// Run a future to completion on the calling thread's own current-thread runtime (built
/// on first use). Falls back to the shared runtime if the thread cannot have one. Must
/// not be used for work that outlives the call (streams): nothing drives this runtime
/// between calls.
pub fn block_on_local<F: Future>(fut: F) -> F::Output {
    match local_transport() {
        Some(t) => {
            let was = ON_LOCAL.with(|f| f.replace(true));
            let out = t.runtime.block_on(fut);
            ON_LOCAL.with(|f| f.set(was));
            out
        }
        None => runtime().block_on(fut),
    }
}

/// Drop this thread's own runtime with everything on it, closing its connections at
/// once. For a blocking call abandoned part-way (Ctrl-C): its connection task would
/// otherwise sit on a runtime that nothing drives until the thread's next call.
pub fn reset_local() {
    let stale = LOCAL.with(|cell| cell.borrow_mut().take());
    if let Some(t) = stale.and_then(|t| Rc::try_unwrap(t).ok()) {
        // Tasks are dropped now (sockets closed); blocking threads (DNS look-ups) finish
        // on their own instead of being waited for.
        t.runtime.shutdown_background();
    }
}

/// Describe a transport failure without the URL's query (which may hold a key).
pub fn transport_detail(err: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut detail = String::new();
    let mut source = err.source();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        detail = err.without_url_ref().to_string();
    }
    // A proxy from HTTPS_PROXY & co that cannot be reached (or refuses the tunnel) would
    // otherwise read like the provider refusing the connection.
    if err.is_connect() {
        if let Some(proxy) = err.url().and_then(proxy_for) {
            detail = format!("through the proxy {proxy}: {detail}");
        }
    }
    detail
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut s = self.to_string();
        if let Some(url) = self.url() {
            s = s.replace(url.as_str(), "");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_urls_match_reqwest_and_the_cache_stays_bounded() {
        let text = "http://user:pw@127.0.0.1:8080/v1/chat/completions?api-version=1";
        let url = parsed_url(text).unwrap();
        assert_eq!(url, reqwest::Url::parse(text).unwrap());
        assert_eq!(parsed_url(text).unwrap(), url);
        assert!(parsed_url("not a url").is_none());
        for i in 0..(PARSED_URLS_MAX * 2) {
            assert!(parsed_url(&format!("http://h{i}.example/v1")).is_some());
        }
        let len = lock(PARSED_URLS.get_or_init(Default::default)).len();
        assert!(len <= PARSED_URLS_MAX, "{len}");
    }

    #[test]
    fn a_call_setting_wins_over_the_module_setting() {
        let call = TlsSettings {
            verify: Some(Verify::Off),
            client_cert: None,
        };
        assert!(resolve(&call).insecure);
        assert!(!resolve(&TlsSettings::default()).insecure || std::env::var("SSL_VERIFY").is_ok());
        assert!(client(&call, "https://example.invalid/v1").is_ok());
    }

    #[test]
    fn only_urls_that_meet_no_tls_get_the_plain_client() {
        assert!(stays_plain(None, None));
        assert!(stays_plain(Some("http://proxy:3128"), None));
        assert!(stays_plain(
            Some(" HTTP://user:pw@proxy:3128"),
            Some("http://other:8080")
        ));
        assert!(!stays_plain(Some("https://proxy:3128"), None));
        assert!(!stays_plain(None, Some("https://proxy:3128")));
        assert!(!stays_plain(None, Some("socks5://proxy:1080")));
        assert!(
            !stays_plain(Some("proxy:3128"), None),
            "no scheme: not known to be plain"
        );
        // Whatever this machine's proxy variables say, a plain URL follows them.
        if proxy_env().http_stays_plain {
            assert!(is_plain("http://127.0.0.1:9/v1"));
            assert!(is_plain("HTTP://localhost/v1"));
        } else {
            assert!(!is_plain("http://127.0.0.1:9/v1"));
        }
        assert!(!is_plain("https://127.0.0.1:9/v1"));
        assert!(!is_plain("httpx://127.0.0.1:9/v1"));
        assert!(!is_plain("http:/"));

        let pool: ClientPool = Mutex::new(Vec::new());
        let plain = |pool: &ClientPool| lock(pool).iter().map(|(_, p, _)| *p).collect::<Vec<_>>();
        assert!(pooled(&pool, &TlsSettings::default(), true).is_ok());
        assert!(pooled(&pool, &TlsSettings::default(), true).is_ok());
        assert_eq!(plain(&pool), [true], "one plain client, reused");
        assert!(pooled(&pool, &TlsSettings::default(), false).is_ok());
        assert_eq!(
            plain(&pool),
            [true, false],
            "TLS URLs get the verifying client"
        );
        // `ssl_verify=False` changes nothing for plain HTTP: the same plain client.
        let off = TlsSettings {
            verify: Some(Verify::Off),
            client_cert: None,
        };
        assert!(pooled(&pool, &off, true).is_ok());
        assert_eq!(plain(&pool).len(), 2);
        // A client certificate is still read, and its error still reported, for plain URLs.
        let cert = TlsSettings {
            verify: None,
            client_cert: Some("/nonexistent/client.pem".into()),
        };
        let err = pooled(&pool, &cert, true)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(err.contains("/nonexistent/client.pem"), "{err}");
        let bundle = TlsSettings {
            verify: Some(Verify::Bundle("/nonexistent/ca.pem".into())),
            client_cert: None,
        };
        let err = pooled(&pool, &bundle, true)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }

    /// The thread a task handed to [`spawn_call_task`] runs on, called from a fresh thread
    /// driving its own current-thread runtime, marked as serving or not.
    fn call_task_thread(serving: bool) -> (std::thread::ThreadId, std::thread::ThreadId) {
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            if serving {
                serve_on_this_thread();
            }
            rt.block_on(async {
                let (tx, rx) = tokio::sync::oneshot::channel();
                spawn_call_task(async move {
                    let _ = tx.send(std::thread::current().id());
                });
                (std::thread::current().id(), rx.await.unwrap())
            })
        })
        .join()
        .unwrap()
    }

    #[test]
    fn a_serving_thread_reads_its_streams_itself() {
        let (caller, task) = call_task_thread(true);
        assert_eq!(caller, task, "a serving thread's stream reader runs on it");
        let (caller, task) = call_task_thread(false);
        assert_ne!(caller, task, "elsewhere it runs on the shared runtime");
    }

    #[test]
    fn an_unreadable_ca_bundle_is_an_error_naming_the_file() {
        let tls = TlsSettings {
            verify: Some(Verify::Bundle("/nonexistent/ca.pem".into())),
            client_cert: None,
        };
        let err = client(&tls, "http://127.0.0.1:9/v1")
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
        assert!(err.contains("CA bundle"), "{err}");
    }
}
