//! One error type for every failure, and the mapping from provider replies to it.
//!
//! The kinds mirror LiteLLM's exception classes one to one; the Python layer turns an
//! [`LlmError`] into the class named by [`ErrorKind::class_name`]. Mapping follows
//! LiteLLM's `exception_type` (text checks first, then the status), corrected where
//! LiteLLM is wrong: a refused or reset connection is an `APIConnectionError`, not an
//! `InternalServerError`; 403 is `PermissionDeniedError`; 422 keeps its status.

use std::time::Duration;

use serde_json::Value;

/// The LiteLLM exception class an error becomes in Python.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    ContextWindowExceeded,
    ContentPolicyViolation,
    UnsupportedParams,
    Authentication,
    PermissionDenied,
    NotFound,
    UnprocessableEntity,
    Timeout,
    RateLimit,
    InternalServer,
    ServiceUnavailable,
    BadGateway,
    Api,
    ApiConnection,
    /// The Router has no deployment to try (all cooling down): a `ValueError` in Python.
    RouterRateLimit,
    /// A plain Python `ValueError` (LiteLLM raises these for some Router refusals).
    Value,
}

impl ErrorKind {
    /// The Python class name (`rustllm.<name>`).
    pub fn class_name(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "BadRequestError",
            ErrorKind::ContextWindowExceeded => "ContextWindowExceededError",
            ErrorKind::ContentPolicyViolation => "ContentPolicyViolationError",
            ErrorKind::UnsupportedParams => "UnsupportedParamsError",
            ErrorKind::Authentication => "AuthenticationError",
            ErrorKind::PermissionDenied => "PermissionDeniedError",
            ErrorKind::NotFound => "NotFoundError",
            ErrorKind::UnprocessableEntity => "UnprocessableEntityError",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::RateLimit => "RateLimitError",
            ErrorKind::InternalServer => "InternalServerError",
            ErrorKind::ServiceUnavailable => "ServiceUnavailableError",
            ErrorKind::BadGateway => "BadGatewayError",
            ErrorKind::Api => "APIError",
            ErrorKind::ApiConnection => "APIConnectionError",
            ErrorKind::RouterRateLimit => "RouterRateLimitError",
            ErrorKind::Value => "ValueError",
        }
    }

    /// The label LiteLLM puts between the class prefix and the provider text
    /// (`RateLimitError: OpenAIException - …`); `BadRequestError` has none.
    fn label(self) -> Option<&'static str> {
        match self {
            ErrorKind::BadRequest
            | ErrorKind::UnsupportedParams
            | ErrorKind::RouterRateLimit
            | ErrorKind::Value => None,
            ErrorKind::Timeout => Some("Timeout Error"),
            other => Some(other.class_name()),
        }
    }

    /// Whether a direct call retries after this error: 408, 429, 5xx, timeouts and
    /// connection failures. Other 4xx are the caller's to fix.
    ///
    /// `Api` is not retried, and that is deliberate for the malformed 2xx replies that
    /// carry it ([`LlmError::malformed_reply`]): the provider accepted the request (and
    /// may have billed it), and a reply of the wrong shape almost always comes from
    /// something that will answer the same way again (an `api_base` pointing at a web
    /// page, a proxy, an API version the adapter does not speak). The openai SDK that
    /// LiteLLM calls through does not retry a 200 either. The Router's own retries and
    /// fallbacks still apply.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Timeout
                | ErrorKind::RateLimit
                | ErrorKind::InternalServer
                | ErrorKind::ServiceUnavailable
                | ErrorKind::BadGateway
                | ErrorKind::ApiConnection
        )
    }
}

/// A failed call, with everything the Python exception carries.
#[derive(Debug, Clone)]
pub struct LlmError {
    pub kind: ErrorKind,
    pub status: u16,
    /// The message without LiteLLM's `litellm.<Class>: ` prefix (the Python class adds it).
    pub message: String,
    pub provider: String,
    pub model: String,
    /// The provider's parsed error body, when it sent JSON.
    pub body: Option<Value>,
    /// Response headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// How long the provider asked us to wait (`retry-after-ms` / `retry-after`).
    pub retry_after: Option<Duration>,
    pub num_retries: Option<u32>,
    pub max_retries: Option<u32>,
}

impl std::fmt::Display for LlmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "litellm.{}: {}", self.kind.class_name(), self.message)
    }
}

impl std::error::Error for LlmError {}

/// `openai` → `OpenAIException`; `cohere_chat` → `Cohere_chatException`, as LiteLLM names them.
pub fn provider_exception_name(provider: &str) -> String {
    if provider == "openai" || provider == "custom_openai" || provider == "text-completion-openai" {
        return "OpenAIException".to_string();
    }
    let mut chars = provider.chars();
    match chars.next() {
        Some(first) => format!("{}{}Exception", first.to_uppercase(), chars.as_str()),
        None => "Exception".to_string(),
    }
}

impl LlmError {
    /// An error raised by rustllm itself (bad input, missing key), before any network call.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let status = default_status(kind);
        LlmError {
            kind,
            status,
            message: message.into(),
            provider: String::new(),
            model: String::new(),
            body: None,
            headers: Vec::new(),
            retry_after: None,
            num_retries: None,
            max_retries: None,
        }
    }

    /// A `BadRequestError` for invalid input.
    pub fn bad_request(message: impl Into<String>) -> Self {
        LlmError::new(ErrorKind::BadRequest, message)
    }

    pub fn with_context(mut self, provider: &str, model: &str) -> Self {
        if self.provider.is_empty() {
            self.provider = provider.to_string();
        }
        if self.model.is_empty() {
            self.model = model.to_string();
        }
        self
    }

    /// A provider-side failure phrased as LiteLLM phrases it:
    /// `<Label>: <Provider>Exception - <provider text>`.
    fn from_provider(
        kind: ErrorKind,
        status: u16,
        provider: &str,
        model: &str,
        text: &str,
    ) -> Self {
        let exc = provider_exception_name(provider);
        let message = match kind.label() {
            Some(label) => format!("{label}: {exc} - {text}"),
            None => format!("{exc} - {text}"),
        };
        LlmError {
            kind,
            status,
            message,
            provider: provider.to_string(),
            model: model.to_string(),
            body: None,
            headers: Vec::new(),
            retry_after: None,
            num_retries: None,
            max_retries: None,
        }
    }

    /// The request did not complete in time.
    pub fn timeout(provider: &str, model: &str, after: Option<Duration>) -> Self {
        let text = match after {
            Some(d) => format!(
                "APITimeoutError - Request timed out after {} seconds.",
                fmt_secs(d)
            ),
            None => "APITimeoutError - Request timed out.".to_string(),
        };
        let mut e = LlmError::new(ErrorKind::Timeout, text);
        e.status = 408;
        e.with_context(provider, model)
    }

    /// A 2xx reply that is not a reply: not JSON, or JSON without what the provider's
    /// format requires (`{}`, another provider's shape, an HTML page). `what` names what
    /// is missing; the message quotes the start of `received`, key redacted.
    ///
    /// It is the provider's fault, not the caller's and not the connection's (it worked):
    /// an `APIError` with status 500, never an empty success. LiteLLM reports these as
    /// `APIConnectionError`, its class for anything it did not map; that class means the
    /// connection failed and invites retries, so rustllm uses `APIError` (see
    /// [`ErrorKind::is_retryable`] for why it is not retried).
    pub fn malformed_reply(
        provider: &str,
        model: &str,
        what: &str,
        received: &str,
        key: Option<&str>,
    ) -> Self {
        LlmError::invalid(
            provider,
            model,
            "Invalid response from the provider",
            what,
            received,
            key,
        )
    }

    /// A stream event that is not an event of the provider's stream (not JSON, `{}`, an
    /// OpenAI chunk without `choices`, ...): raised from the iterator, like
    /// [`LlmError::malformed_reply`], rather than dropped or turned into an empty chunk.
    pub fn malformed_event(
        provider: &str,
        model: &str,
        what: &str,
        received: &str,
        key: Option<&str>,
    ) -> Self {
        LlmError::invalid(
            provider,
            model,
            "Invalid chunk in the stream",
            what,
            received,
            key,
        )
    }

    /// `<Label>: <what>. Received: <snippet>` as an `APIError` (500) of the provider.
    fn invalid(
        provider: &str,
        model: &str,
        label: &str,
        what: &str,
        received: &str,
        key: Option<&str>,
    ) -> Self {
        let text = format!("{label}: {what}. Received: {}", snippet(received, key));
        LlmError::from_provider(ErrorKind::Api, 500, provider, model, &text)
    }

    /// The connection could not be made or broke before a reply (refused, reset, DNS).
    pub fn connection(provider: &str, model: &str, detail: &str) -> Self {
        LlmError::from_provider(
            ErrorKind::ApiConnection,
            500,
            provider,
            model,
            &format!("Connection error: {detail}"),
        )
    }
}

/// How many characters of a bad reply an error message quotes.
pub const SNIPPET_CHARS: usize = 200;

/// The start of a bad reply for an error message: [`SNIPPET_CHARS`] characters, the key
/// redacted before the cut so that no piece of it survives at the edge.
pub fn snippet(received: &str, key: Option<&str>) -> String {
    let window = SNIPPET_CHARS + key.map_or(0, |k| k.chars().count());
    let head: String = received.trim().chars().take(window).collect();
    let text: String = redact_key(&head, key).chars().take(SNIPPET_CHARS).collect();
    if text.is_empty() {
        "(empty body)".to_string()
    } else {
        text
    }
}

fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.1}")
    } else {
        format!("{s}")
    }
}

fn default_status(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::BadRequest
        | ErrorKind::ContextWindowExceeded
        | ErrorKind::ContentPolicyViolation
        | ErrorKind::UnsupportedParams => 400,
        ErrorKind::Authentication => 401,
        ErrorKind::RouterRateLimit => 429,
        ErrorKind::Value => 400,
        ErrorKind::PermissionDenied => 403,
        ErrorKind::NotFound => 404,
        ErrorKind::UnprocessableEntity => 422,
        ErrorKind::Timeout => 408,
        ErrorKind::RateLimit => 429,
        ErrorKind::InternalServer | ErrorKind::Api | ErrorKind::ApiConnection => 500,
        ErrorKind::ServiceUnavailable => 503,
        ErrorKind::BadGateway => 502,
    }
}

/// The human-readable text of a provider error body: `error.message` for OpenAI-style
/// bodies, `message`/`detail` for others, else the raw text.
pub fn error_text(body: Option<&Value>, raw: &str) -> String {
    if let Some(body) = body {
        for pointer in ["/error/message", "/message", "/detail", "/error"] {
            match body.pointer(pointer) {
                Some(Value::String(s)) if !s.is_empty() => return s.clone(),
                // FastAPI-style servers send structured validation details.
                Some(v @ (Value::Object(_) | Value::Array(_))) if pointer == "/detail" => {
                    return v.to_string()
                }
                _ => {}
            }
        }
    }
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        "(empty response body)".to_string()
    } else {
        trimmed.to_string()
    }
}

const CONTEXT_WINDOW_PHRASES: &[&str] = &[
    "this model's maximum context length is",
    "exceed context limit",
    "string too long. expected a string with maximum length",
    "model's maximum context limit",
    "is longer than the model's context length",
    "input tokens exceed the configured limit",
    "`inputs` tokens + `max_new_tokens` must be",
    "prompt is too long",
    "context_length_exceeded",
    "maximum context length",
];

const CONTENT_POLICY_PHRASES: &[&str] = &[
    "content_policy_violation",
    "request was rejected as a result of the safety system",
    "your request was rejected as a result of our safety system",
    "prompt triggering azure openai's content management",
    "your task failed as a result of our safety system",
    "content_filter_policy",
    "responsibleaipolicyviolation",
    "content filtering policy",
];

const RATE_LIMIT_PHRASES: &[&str] = &[
    "rate limit",
    "rate_limit",
    "request too large",
    "service tier capacity exceeded",
];

fn contains_any(haystack: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| haystack.contains(n))
}

/// Map a non-2xx reply (or a 2xx reply carrying an `error` object) to an [`LlmError`].
///
/// `text` is the provider's message; `body_json` the parsed body when it was JSON.
pub fn map_http_error(
    status: u16,
    provider: &str,
    model: &str,
    raw_body: &str,
    body_json: Option<Value>,
    headers: Vec<(String, String)>,
) -> LlmError {
    let text = error_text(body_json.as_ref(), raw_body);
    let lower = text.to_lowercase();
    let code = body_json
        .as_ref()
        .and_then(|b| b.pointer("/error/code").or_else(|| b.get("code")))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    let code_or_text = format!("{code} {lower}");

    let kind = if matches!(status, 401 | 403) {
        // An auth failure is an auth failure whatever its text says.
        if status == 401 {
            ErrorKind::Authentication
        } else {
            ErrorKind::PermissionDenied
        }
    } else if status == 429 || contains_any(&lower, RATE_LIMIT_PHRASES) {
        ErrorKind::RateLimit
    } else if contains_any(&code_or_text, CONTEXT_WINDOW_PHRASES) {
        ErrorKind::ContextWindowExceeded
    } else if contains_any(&code_or_text, CONTENT_POLICY_PHRASES)
        || (lower.contains("invalid prompt") && lower.contains("violating our usage policy"))
    {
        ErrorKind::ContentPolicyViolation
    } else if code == "model_not_found" || status == 404 {
        ErrorKind::NotFound
    } else if lower.contains("a timeout occurred") {
        ErrorKind::Timeout
    } else {
        match status {
            400 => ErrorKind::BadRequest,
            408 | 504 => ErrorKind::Timeout,
            422 => ErrorKind::UnprocessableEntity,
            500 => ErrorKind::InternalServer,
            502 => ErrorKind::BadGateway,
            503 => ErrorKind::ServiceUnavailable,
            _ => ErrorKind::Api,
        }
    };
    // Context-window and content-policy errors are BadRequestErrors: keep 400 even when a
    // provider sent them with another status.
    let status = match kind {
        ErrorKind::ContextWindowExceeded | ErrorKind::ContentPolicyViolation => 400,
        _ => status,
    };
    let retry_after = parse_retry_after(&headers);
    let mut err = LlmError::from_provider(kind, status, provider, model, &text);
    err.body = body_json;
    err.headers = headers;
    err.retry_after = retry_after;
    err
}

/// `retry-after-ms` (OpenAI) wins over `retry-after` in seconds. HTTP-date values are
/// not used for pacing (clock skew makes them unreliable); they are ignored.
pub fn parse_retry_after(headers: &[(String, String)]) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
    };
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(crate::time::saturating_secs(ms / 1000.0));
        }
    }
    if let Some(s) = get("retry-after").and_then(|v| v.parse::<f64>().ok()) {
        if s.is_finite() && s >= 0.0 {
            return Some(crate::time::saturating_secs(s));
        }
    }
    None
}

/// A request URL as an error message may show it: credentials before the host and the
/// values of query parameters that carry secrets (`key=`, `api_key=`, `token=`, `sig=`,
/// ...) replaced by `***`, and the API key redacted wherever it appears. The rest (host,
/// path, `api-version=`) stays: it is what tells a wrong `api_base` from a missing model.
pub fn display_url(url: &str, key: Option<&str>) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let mut out = match head.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://***@{host}{path}"),
                None => head.to_string(),
            }
        }
        None => head.to_string(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if is_secret_param(name) => format!("{name}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    redact_key(&out, key)
}

fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "key",
        "token",
        "secret",
        "password",
        "signature",
        "auth",
        "credential",
    ]
    .iter()
    .any(|word| name.contains(word))
        || name == "sig"
        || name == "code"
}

/// Replace every occurrence of the API key in `text` so it can never reach a message,
/// a repr or a log line.
pub fn redact_key(text: &str, key: Option<&str>) -> String {
    match key {
        Some(k) if k.trim().len() >= 4 && text.contains(k) => text.replace(k, "***"),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_in_messages_lose_their_secrets() {
        assert_eq!(
            super::display_url("http://127.0.0.1:8000/v2/chat/completions", None),
            "http://127.0.0.1:8000/v2/chat/completions"
        );
        assert_eq!(
            super::display_url(
                "https://h/v1beta/models/m:generateContent?key=AIzaSECRET&alt=sse",
                None
            ),
            "https://h/v1beta/models/m:generateContent?key=***&alt=sse"
        );
        assert_eq!(
            super::display_url(
                "https://user:pw@h/openai/deployments/d/chat/completions?api-version=2024-06-01&sig=abc&api_key=k1&access_token=t",
                None
            ),
            "https://***@h/openai/deployments/d/chat/completions?api-version=2024-06-01&sig=***&api_key=***&access_token=***"
        );
        // The call's key is redacted even where no parameter name gives it away.
        assert_eq!(
            super::display_url(
                "http://h/sk-live-1234/v1?x=sk-live-1234",
                Some("sk-live-1234")
            ),
            "http://h/***/v1?x=***"
        );
    }

    use super::*;
    use serde_json::json;

    fn map(status: u16, body: Value) -> LlmError {
        let raw = body.to_string();
        map_http_error(status, "openai", "gpt-x", &raw, Some(body), Vec::new())
    }

    fn openai_body(message: &str, code: &str) -> Value {
        json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}})
    }

    #[test]
    fn statuses_map_to_litellm_classes() {
        let cases = [
            (400, ErrorKind::BadRequest),
            (401, ErrorKind::Authentication),
            (403, ErrorKind::PermissionDenied),
            (404, ErrorKind::NotFound),
            (408, ErrorKind::Timeout),
            (409, ErrorKind::Api),
            (422, ErrorKind::UnprocessableEntity),
            (429, ErrorKind::RateLimit),
            (500, ErrorKind::InternalServer),
            (502, ErrorKind::BadGateway),
            (503, ErrorKind::ServiceUnavailable),
            (504, ErrorKind::Timeout),
            (529, ErrorKind::Api),
        ];
        for (status, kind) in cases {
            let e = map(status, openai_body("boom", ""));
            assert_eq!(e.kind, kind, "status {status}");
            assert_eq!(e.status, status);
        }
    }

    #[test]
    fn context_window_text_wins_over_status() {
        let e = map(
            400,
            openai_body(
                "This model's maximum context length is 8192 tokens. However, you requested 9000",
                "context_length_exceeded",
            ),
        );
        assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);
        assert_eq!(e.status, 400);
        assert!(e
            .message
            .starts_with("ContextWindowExceededError: OpenAIException - This model's"));
        let anthropic = map_http_error(
            400,
            "anthropic",
            "c",
            "",
            Some(json!({"error": {"message": "prompt is too long: 300000 tokens"}})),
            vec![],
        );
        assert_eq!(anthropic.kind, ErrorKind::ContextWindowExceeded);
        assert!(anthropic.message.contains("AnthropicException"));
    }

    #[test]
    fn content_policy_is_recognised() {
        let e = map(
            400,
            openai_body(
                "Your request was rejected as a result of our safety system.",
                "content_policy_violation",
            ),
        );
        assert_eq!(e.kind, ErrorKind::ContentPolicyViolation);
        let azure = map(400, openai_body("The response was filtered due to the prompt triggering Azure OpenAI's content management policy.", "content_filter"));
        assert_eq!(azure.kind, ErrorKind::ContentPolicyViolation);
    }

    #[test]
    fn rate_limit_text_and_model_not_found() {
        assert_eq!(
            map(400, openai_body("Rate limit reached for requests", "")).kind,
            ErrorKind::RateLimit
        );
        assert_eq!(
            map(
                400,
                openai_body("The model `x` does not exist", "model_not_found")
            )
            .kind,
            ErrorKind::NotFound
        );
        // 401 stays an auth error even if the text mentions a rate limit.
        assert_eq!(
            map(401, openai_body("rate limit of keys", "")).kind,
            ErrorKind::Authentication
        );
    }

    #[test]
    fn message_keeps_provider_text_with_litellm_labels() {
        let e = map(
            429,
            openai_body("Rate limit reached", "rate_limit_exceeded"),
        );
        assert_eq!(
            e.message,
            "RateLimitError: OpenAIException - Rate limit reached"
        );
        assert_eq!(
            e.to_string(),
            "litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached"
        );
        let b = map(400, openai_body("bad param", ""));
        assert_eq!(b.message, "OpenAIException - bad param");
    }

    #[test]
    fn non_json_bodies_and_empty_bodies() {
        let e = map_http_error(500, "groq", "m", "upstream exploded", None, vec![]);
        assert_eq!(
            e.message,
            "InternalServerError: GroqException - upstream exploded"
        );
        let e = map_http_error(503, "openai", "m", "", None, vec![]);
        assert!(e.message.ends_with("(empty response body)"));
    }

    #[test]
    fn retry_after_headers() {
        let h = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        assert_eq!(
            parse_retry_after(&h("retry-after", "2")),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            parse_retry_after(&h("retry-after-ms", "250")),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            parse_retry_after(&h("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(parse_retry_after(&[]), None);
        // Absurd values from a provider saturate instead of panicking the call.
        let far = parse_retry_after(&h("retry-after", "1e20")).unwrap();
        assert!(far > Duration::from_secs(365 * 24 * 3600));
        assert!(parse_retry_after(&h("retry-after-ms", "1e300")).is_some());
    }

    #[test]
    fn keys_are_redacted() {
        assert_eq!(
            redact_key(
                "Incorrect API key provided: sk-secret123",
                Some("sk-secret123")
            ),
            "Incorrect API key provided: ***"
        );
        assert_eq!(
            redact_key("nothing here", Some("sk-secret123")),
            "nothing here"
        );
        assert_eq!(redact_key("a b", Some(" ")), "a b");
    }

    #[test]
    fn malformed_replies_are_api_errors_that_quote_without_the_key() {
        let key = "sk-secret-123456";
        let body = format!("{}{key}{}", "x".repeat(197), "y".repeat(300));
        let e = LlmError::malformed_reply("openai", "gpt-x", "no 'choices' list", &body, Some(key));
        assert_eq!((e.kind, e.status), (ErrorKind::Api, 500));
        assert!(!e.kind.is_retryable());
        assert!(e.message.starts_with(
            "APIError: OpenAIException - Invalid response from the provider: no 'choices' list. Received: xxx"
        ));
        // The key straddles the cut at 200 characters: no piece of it is quoted.
        assert!(!e.message.contains("sk-"), "{}", e.message);
        assert!(e.message.ends_with("xxxxx***"));
        let e = LlmError::malformed_event("anthropic", "c", "no \"type\"", "  ", None);
        assert_eq!(
            e.message,
            "APIError: AnthropicException - Invalid chunk in the stream: no \"type\". Received: (empty body)"
        );
    }

    #[test]
    fn exception_names() {
        assert_eq!(provider_exception_name("openai"), "OpenAIException");
        assert_eq!(
            provider_exception_name("cohere_chat"),
            "Cohere_chatException"
        );
        assert_eq!(provider_exception_name("deepseek"), "DeepseekException");
    }
}
