//! Diagnostic logs: off unless the user asks for them, and free while off.
//!
//! Two targets mirror LiteLLM's loggers: [`Target::Calls`] (`LiteLLM`: each HTTP request
//! and raw response, at DEBUG) and [`Target::Router`] (`LiteLLM Router`: routing
//! decisions, retries, fallbacks, each deployment call's outcome). Each target's threshold
//! sits in an atomic that the Python layer sets when a switch changes (`rustllm.set_verbose`,
//! `LITELLM_LOG`, `turn_on_debug()`); a call reads it once with a relaxed load and, while it
//! is off, formats nothing and allocates nothing. A Router has its own threshold besides
//! (`Router(set_verbose=True)`), read the same way.
//!
//! Records go to one sink, set by the binding layer, which hands them to Python's
//! `logging` (so handlers, filters and pytest's `caplog` see them). Without a sink (plain
//! Rust) they go nowhere.
//!
//! **Secrets.** Everything that leaves here is masked first: header values whose name
//! says they are credentials (`Authorization`, `api-key`, `x-api-key`, `x-goog-api-key`,
//! `x-amz-security-token`, cookies, ...), credential query parameters (`key=`, `sig=`,
//! `X-Amz-Signature=`, ...) and a password in the URL, and then every occurrence of those
//! values, and of the call's API key, anywhere in a URL, a body or a reply.

use std::panic::Location;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// Which Python logger a record goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `LiteLLM`: requests and raw replies.
    Calls = 0,
    /// `LiteLLM Router`: what the Router decided and what each deployment answered.
    Router = 1,
}

impl Target {
    /// The Python logger's name (LiteLLM's).
    pub fn logger_name(self) -> &'static str {
        match self {
            Target::Calls => "LiteLLM",
            Target::Router => "LiteLLM Router",
        }
    }

    /// The target a logger name stands for.
    pub fn from_logger_name(name: &str) -> Option<Target> {
        match name {
            "LiteLLM" => Some(Target::Calls),
            "LiteLLM Router" => Some(Target::Router),
            _ => None,
        }
    }
}

/// A record's level, numbered as Python's `logging` numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug = 10,
    Info = 20,
}

/// A threshold that lets nothing through.
pub const OFF: u8 = u8::MAX;

static THRESHOLDS: [AtomicU8; 2] = [AtomicU8::new(OFF), AtomicU8::new(OFF)];

/// Let records of `target` at `level` (a Python level number) and above through;
/// `None` turns the target off.
pub fn set_threshold(target: Target, level: Option<u8>) {
    THRESHOLDS[target as usize].store(level.unwrap_or(OFF), Ordering::Relaxed);
}

/// The lowest level `target` lets through ([`OFF`] when it is off).
#[inline]
pub fn threshold(target: Target) -> u8 {
    THRESHOLDS[target as usize].load(Ordering::Relaxed)
}

/// Whether a record of `target` at `level` would be kept. One relaxed load.
#[inline]
pub fn enabled(target: Target, level: Level) -> bool {
    level as u8 >= threshold(target)
}

/// One log record, as the sink receives it.
#[derive(Debug)]
pub struct Record<'a> {
    pub target: Target,
    pub level: Level,
    /// Where in rustllm's source it was made (Python's `filename:lineno`).
    pub file: &'static str,
    pub line: u32,
    pub message: &'a str,
}

/// Where records go.
pub type Sink = Arc<dyn Fn(&Record<'_>) + Send + Sync>;

/// A lock, not a `OnceLock`, so tests can install a sink of their own. Read only when a
/// record is made, that is when logging is on.
static SINK: RwLock<Option<Sink>> = RwLock::new(None);

/// Send every record to `sink` from now on.
pub fn set_sink(sink: Sink) {
    *SINK.write().unwrap_or_else(|e| e.into_inner()) = Some(sink);
}

/// Hand `message` to the sink, located at the caller. The caller checks [`enabled`]
/// first (so that nothing is formatted while logging is off).
#[track_caller]
pub fn emit(target: Target, level: Level, message: &str) {
    let sink = SINK.read().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(sink) = sink {
        let at = Location::caller();
        sink(&Record {
            target,
            level,
            file: at.file(),
            line: at.line(),
            message,
        });
    }
}

// ---------------------------------------------------------------------------------------
// Masking.
// ---------------------------------------------------------------------------------------

/// What a masked value becomes: its last four characters when it is long enough for them
/// to say which key it was without giving it away, else nothing of it.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() >= 20 {
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("****{tail}")
    } else {
        "****".to_string()
    }
}

/// Whether a header, query parameter or call parameter of this name carries a credential:
/// `Authorization`, `api-key`, `x-goog-api-key`, `x-amz-security-token`, `api_key`,
/// `aws_secret_access_key`, `vertex_credentials`, `Cookie`... (`max_tokens` and
/// `x-ratelimit-remaining-tokens` are counts, not tokens).
pub fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    const WORDS: [&str; 7] = [
        "auth",
        "key",
        "secret",
        "password",
        "credential",
        "signature",
        "cookie",
    ];
    WORDS.iter().any(|w| name.contains(w)) || (name.contains("token") && !name.contains("tokens"))
}

/// Query parameters that carry credentials besides those [`is_secret_name`] knows: Azure
/// SAS signatures (`sig`) and Azure Functions keys (`code`).
fn is_secret_query_name(name: &str) -> bool {
    is_secret_name(name) || matches!(name.to_ascii_lowercase().as_str(), "sig" | "code")
}

/// The values to mask wherever they appear in one exchange's text.
#[derive(Debug, Default, Clone)]
pub struct Secrets(Vec<String>);

impl Secrets {
    pub fn new() -> Secrets {
        Secrets::default()
    }

    /// Mask `value` from now on. Values under four characters are not searched for (they
    /// would mask ordinary text); where they stand as a header or parameter they are
    /// masked all the same.
    pub fn add(&mut self, value: &str) {
        let value = value.trim();
        if value.chars().count() >= 4 && !self.0.iter().any(|s| s == value) {
            self.0.push(value.to_string());
            // The longest first, so a secret that contains another is masked whole.
            self.0.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// `text` with every known secret masked.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.0 {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), &mask(s));
            }
        }
        out
    }
}

/// A credential header's value, masked: an auth scheme (`Bearer`, `Basic`,
/// `AWS4-HMAC-SHA256`) is kept, the credential after it is not. The credential is added to
/// `secrets`.
pub fn mask_header_value(value: &str, secrets: &mut Secrets) -> String {
    let (scheme, credential) = match value.split_once(' ') {
        Some((scheme, rest))
            if !scheme.is_empty()
                && scheme.len() <= 32
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            (Some(scheme), rest.trim())
        }
        _ => (None, value),
    };
    secrets.add(credential);
    secrets.add(value);
    match scheme {
        Some(scheme) => format!("{scheme} {}", mask(credential)),
        None => mask(credential),
    }
}

/// `url` with the password (or token) of its user part and the values of credential query
/// parameters masked; the values masked are added to `secrets`.
pub fn mask_url(url: &str, secrets: &mut Secrets) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (url, None),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
    };
    let mut out = mask_userinfo(base, secrets);
    if let Some(query) = query {
        out.push('?');
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((name, value)) if is_secret_query_name(name) && !value.is_empty() => {
                    secrets.add(value);
                    if let Some(decoded) = percent_decode(value) {
                        secrets.add(&decoded);
                    }
                    format!("{name}={}", mask(value))
                }
                _ => param.to_string(),
            })
            .collect();
        out.push_str(&params.join("&"));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// `scheme://user:password@host/...` → `scheme://user:****@host/...`; a user part
/// without a password is taken as a token and masked whole.
fn mask_userinfo(base: &str, secrets: &mut Secrets) -> String {
    let Some((scheme, rest)) = base.split_once("://") else {
        return base.to_string();
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return base.to_string();
    };
    let masked = match userinfo.split_once(':') {
        Some((user, password)) => {
            secrets.add(password);
            if let Some(decoded) = percent_decode(password) {
                secrets.add(&decoded);
            }
            format!("{user}:{}", mask(password))
        }
        None => {
            secrets.add(userinfo);
            mask(userinfo)
        }
    };
    format!("{scheme}://{masked}@{host}{path}")
}

/// `%XX`-decoded text, when it differs from `text` and is UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') && !text.contains('+') {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().filter(|s| s != text)
}

// ---------------------------------------------------------------------------------------
// HTTP exchanges.
// ---------------------------------------------------------------------------------------

/// Bodies longer than this are cut in the log (base64 images run to megabytes).
pub const MAX_BODY_CHARS: usize = 64 * 1024;

/// `text`, cut at [`MAX_BODY_CHARS`] with a note saying how much was left out.
fn truncate(text: &str) -> String {
    if text.len() <= MAX_BODY_CHARS {
        return text.to_string();
    }
    let mut end = MAX_BODY_CHARS;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}... [{} more bytes not shown]",
        &text[..end],
        text.len() - end
    )
}

/// Quote `text` for a POSIX shell's single quotes.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The request as a curl command (LiteLLM's "POST Request Sent from LiteLLM:" block),
/// every credential masked; the secrets found are added to `secrets` for the reply.
pub fn format_request(
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    secrets: &mut Secrets,
) -> (String, String) {
    let masked_url = mask_url(url, secrets);
    let shown: Vec<String> = headers
        .iter()
        .map(|(name, value)| {
            let value = if is_secret_name(name) {
                mask_header_value(value, secrets)
            } else {
                value.clone()
            };
            format!("-H {}", shell_quote(&format!("{name}: {value}")))
        })
        .collect();
    // Masked again once every secret is known: a key in the URL also hides in a header.
    let masked_url = secrets.scrub(&masked_url);
    let shown: Vec<String> = shown.iter().map(|h| secrets.scrub(h)).collect();
    let body = truncate(&secrets.scrub(&String::from_utf8_lossy(body)));
    let mut text = String::from("POST Request Sent from LiteLLM:\ncurl -X POST \\\n");
    text.push_str(&masked_url);
    text.push_str(" \\\n");
    if !shown.is_empty() {
        text.push_str(&shown.join(" "));
        text.push_str(" \\\n");
    }
    text.push_str("-d ");
    text.push_str(&shell_quote(&body));
    (text, masked_url)
}

/// One HTTP exchange being logged: the masked URL, the secrets to mask in what follows,
/// and when it started. Exists only while [`Target::Calls`] logs at DEBUG.
#[derive(Debug)]
pub struct HttpLog {
    url: String,
    secrets: Secrets,
    started: Instant,
}

impl HttpLog {
    /// Log the request about to be sent. `secrets` holds what must be masked even outside
    /// a credential header or parameter (the call's API key).
    #[track_caller]
    pub fn request(
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
        mut secrets: Secrets,
    ) -> HttpLog {
        let (text, url) = format_request(url, headers, body, &mut secrets);
        emit(Target::Calls, Level::Debug, &text);
        HttpLog {
            url,
            secrets,
            started: Instant::now(),
        }
    }

    fn status_line(&self, status: u16) -> String {
        let reason = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        format!(
            "{status} {reason} (POST {}, {:.1} ms)",
            self.url,
            self.started.elapsed().as_secs_f64() * 1000.0
        )
    }

    /// Log a complete reply: status and body.
    #[track_caller]
    pub fn response(&self, status: u16, body: &[u8]) {
        let body = truncate(&self.secrets.scrub(&String::from_utf8_lossy(body)));
        let text = format!("RAW RESPONSE: {}\n{body}", self.status_line(status));
        emit(Target::Calls, Level::Debug, &text);
    }

    /// Log the status of a reply whose body is a stream (its events follow, see
    /// [`HttpLog::stream_events`]).
    #[track_caller]
    pub fn stream_opened(&self, status: u16) {
        let text = format!(
            "RAW RESPONSE: {}, streaming; its events follow",
            self.status_line(status)
        );
        emit(Target::Calls, Level::Debug, &text);
    }

    /// Log the events one read of a stream produced, as `event:` / `data:` lines.
    #[track_caller]
    pub fn stream_events<'a>(&self, events: impl Iterator<Item = (Option<&'a str>, &'a str)>) {
        let mut text = format!("RAW STREAM EVENTS (POST {}):", self.url);
        let mut any = false;
        for (event, data) in events {
            any = true;
            if let Some(event) = event {
                text.push_str("\nevent: ");
                text.push_str(event);
            }
            text.push_str("\ndata: ");
            text.push_str(data);
        }
        if any {
            let text = truncate(&self.secrets.scrub(&text));
            emit(Target::Calls, Level::Debug, &text);
        }
    }

    /// Log a request that got no reply (connection refused, timeout, broken connection).
    #[track_caller]
    pub fn failed(&self, detail: &str) {
        let text = format!(
            "POST {} failed after {:.1} ms: {}",
            self.url,
            self.started.elapsed().as_secs_f64() * 1000.0,
            self.secrets.scrub(detail)
        );
        emit(Target::Calls, Level::Debug, &text);
    }
}

/// A JSON object's entries with credential values masked and the conversation left out,
/// for a debug line (the Router's deployment parameters).
pub fn describe_params(params: &serde_json::Map<String, serde_json::Value>) -> String {
    use serde_json::Value;
    let mut parts = Vec::with_capacity(params.len());
    for (name, value) in params {
        let shown = match value {
            Value::Null => continue,
            _ if is_secret_name(name) => "'****'".to_string(),
            Value::Array(items) if matches!(name.as_str(), "messages" | "input" | "prompt") => {
                format!("<{} items>", items.len())
            }
            Value::String(_) if matches!(name.as_str(), "input" | "prompt") => "<text>".into(),
            Value::Object(inner) if matches!(name.as_str(), "headers" | "extra_headers") => {
                let mut secrets = Secrets::new();
                let masked: serde_json::Map<String, Value> = inner
                    .iter()
                    .map(|(k, v)| {
                        let v = match v {
                            Value::String(s) if is_secret_name(k) => {
                                Value::String(mask_header_value(s, &mut secrets))
                            }
                            other => other.clone(),
                        };
                        (k.clone(), v)
                    })
                    .collect();
                Value::Object(masked).to_string()
            }
            Value::String(s) if matches!(name.as_str(), "api_base" | "base_url") => {
                format!("'{}'", mask_url(s, &mut Secrets::new()))
            }
            Value::String(s) => format!("'{s}'"),
            other => other.to_string(),
        };
        parts.push(format!("{name}={shown}"));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Mutex;

    const KEY: &str = "sk-live-0123456789abcdefWXYZ";

    #[test]
    fn masks_keep_at_most_the_last_four_characters_of_long_values() {
        assert_eq!(mask(KEY), "****WXYZ");
        assert_eq!(mask("short-key"), "****");
        assert_eq!(mask(""), "****");
    }

    #[test]
    fn credential_names_are_recognised_and_counts_are_not() {
        for name in [
            "Authorization",
            "authorization",
            "api-key",
            "x-api-key",
            "x-goog-api-key",
            "x-amz-security-token",
            "Proxy-Authorization",
            "Cookie",
            "api_key",
            "aws_secret_access_key",
            "aws_session_token",
            "azure_ad_token",
            "vertex_credentials",
            "key",
            "X-Amz-Signature",
            "X-Amz-Credential",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "content-type",
            "anthropic-version",
            "max_tokens",
            "x-ratelimit-remaining-tokens",
            "model",
            "api-version",
            "alt",
            "temperature",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn header_values_keep_their_scheme_and_lose_their_credential() {
        let mut s = Secrets::new();
        assert_eq!(
            mask_header_value(&format!("Bearer {KEY}"), &mut s),
            "Bearer ****WXYZ"
        );
        assert_eq!(mask_header_value("az-key-1", &mut s), "****");
        let sig = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
        let masked = mask_header_value(sig, &mut s);
        assert_eq!(masked, "AWS4-HMAC-SHA256 ****b5d7");
        // The credential is remembered and masked where it turns up later.
        assert_eq!(s.scrub(&format!("echo: {KEY}")), "echo: ****WXYZ");
        assert_eq!(s.scrub("key az-key-1 seen"), "key **** seen");
    }

    #[test]
    fn urls_lose_credential_query_values_and_passwords() {
        let mut s = Secrets::new();
        let url = format!(
            "https://generativelanguage.googleapis.com/v1beta/models/g:generateContent?key={KEY}&alt=sse"
        );
        assert_eq!(
            mask_url(&url, &mut s),
            "https://generativelanguage.googleapis.com/v1beta/models/g:generateContent?key=****WXYZ&alt=sse"
        );
        assert_eq!(
            mask_url(
                "https://res.blob.core.windows.net/c?sv=2022&sig=abc%2Bdef%3D&se=1",
                &mut s
            ),
            "https://res.blob.core.windows.net/c?sv=2022&sig=****&se=1"
        );
        assert_eq!(
            s.scrub("abc+def="),
            "****",
            "the decoded signature is known too"
        );
        assert_eq!(
            mask_url(
                "http://user:hunter2-pass@127.0.0.1:8080/v1?api-version=1#x",
                &mut s
            ),
            "http://user:****@127.0.0.1:8080/v1?api-version=1#x"
        );
        assert_eq!(
            mask_url("https://tok-1234567@host/v1", &mut s),
            "https://****@host/v1"
        );
        assert_eq!(
            mask_url("http://127.0.0.1:1/v1/chat/completions", &mut s),
            "http://127.0.0.1:1/v1/chat/completions"
        );
        assert_eq!(s.scrub("hunter2-pass and tok-1234567"), "**** and ****");
    }

    #[test]
    fn a_request_never_shows_its_key_wherever_it_is() {
        let mut s = Secrets::new();
        s.add(KEY);
        let headers = vec![
            ("authorization".to_string(), format!("Bearer {KEY}")),
            ("x-api-key".to_string(), KEY.to_string()),
            ("anthropic-version".to_string(), "2023-06-01".to_string()),
            ("content-type".to_string(), "application/json".to_string()),
        ];
        // A key in the body (extra_body) and in the URL is masked too.
        let body = format!(r#"{{"model":"m","note":"it's {KEY}"}}"#);
        let url = format!("http://127.0.0.1:9/v1?token={KEY}");
        let (text, shown_url) = format_request(&url, &headers, body.as_bytes(), &mut s);
        assert!(!text.contains(KEY), "{text}");
        assert!(!text.contains("0123456789abcdef"), "{text}");
        assert_eq!(shown_url, "http://127.0.0.1:9/v1?token=****WXYZ");
        assert!(text.starts_with("POST Request Sent from LiteLLM:\ncurl -X POST \\\n"));
        assert!(
            text.contains("-H 'authorization: Bearer ****WXYZ'"),
            "{text}"
        );
        assert!(text.contains("-H 'x-api-key: ****WXYZ'"), "{text}");
        assert!(
            text.contains("-H 'anthropic-version: 2023-06-01'"),
            "{text}"
        );
        // The body is quoted for a shell: the command can be pasted as is.
        assert!(
            text.ends_with(r#"-d '{"model":"m","note":"it'\''s ****WXYZ"}'"#),
            "{text}"
        );
    }

    #[test]
    fn long_bodies_are_cut_with_a_note() {
        let body = "x".repeat(MAX_BODY_CHARS + 10);
        let cut = truncate(&body);
        assert!(cut.ends_with("... [10 more bytes not shown]"));
        assert_eq!(truncate("short"), "short");
        let accented = "é".repeat(MAX_BODY_CHARS);
        assert!(truncate(&accented).contains("more bytes not shown"));
    }

    #[test]
    fn params_are_described_without_credentials_or_the_conversation() {
        let params = json!({
            "model": "openai/m",
            "api_key": KEY,
            "api_base": format!("http://h/v1?key={KEY}"),
            "messages": [{"role": "user", "content": "secret plans"}],
            "max_tokens": 5,
            "extra_headers": {"x-api-key": KEY, "x-trace": "t"},
            "aws_secret_access_key": "abc",
            "timeout": null,
        });
        let text = describe_params(params.as_object().unwrap());
        assert!(!text.contains(KEY), "{text}");
        assert!(!text.contains("secret plans"), "{text}");
        assert!(text.contains("model='openai/m'"), "{text}");
        assert!(text.contains("max_tokens=5"), "{text}");
        assert!(text.contains("messages=<1 items>"), "{text}");
        assert!(text.contains("x-trace"), "{text}");
        assert!(!text.contains("timeout"), "{text}");
    }

    #[test]
    fn thresholds_gate_and_records_reach_the_sink_with_their_location() {
        static SEEN: Mutex<Vec<(Target, Level, String, String)>> = Mutex::new(Vec::new());
        set_sink(Arc::new(|r: &Record<'_>| {
            SEEN.lock().unwrap().push((
                r.target,
                r.level,
                format!("{}:{}", r.file, r.line),
                r.message.to_string(),
            ));
        }));
        // The Router target is used by no other test of this binary.
        assert!(!enabled(Target::Router, Level::Info));
        set_threshold(Target::Router, Some(Level::Info as u8));
        assert!(enabled(Target::Router, Level::Info));
        assert!(!enabled(Target::Router, Level::Debug));
        emit(Target::Router, Level::Info, "hello");
        let line = line!() - 1;
        set_threshold(Target::Router, None);
        assert!(!enabled(Target::Router, Level::Info));
        let seen = SEEN.lock().unwrap();
        let (target, level, at, message) = seen.iter().find(|r| r.3 == "hello").cloned().unwrap();
        assert_eq!((target, level), (Target::Router, Level::Info));
        assert_eq!(at, format!("src/logging.rs:{line}"));
        assert_eq!(message, "hello");
        assert_eq!(
            Target::from_logger_name("LiteLLM Router"),
            Some(Target::Router)
        );
    }
}
