//! Replicate's predictions API (`replicate/`), as LiteLLM calls it: a prediction is
//! created (`POST {base}/v1/models/{owner}/{name}/predictions`,
//! `/v1/deployments/{owner}/{name}/predictions` for `replicate/deployments/...`, or
//! `/v1/predictions` with `"version"` for `owner/name:<64-hex version>`) with
//! `{"input": {"prompt": ..., ...}}`, then its `urls.get` is polled (`GET`, by
//! `call.rs`) until it has `succeeded`, `failed` or been `canceled`. A stream reads the
//! prediction's `urls.stream` (server-sent `output` events, then `done`).
//!
//! The prompt is built as for SageMaker (LiteLLM's `prompt_factory` without a Hub
//! download: Llama-2's chat template, else the contents joined by spaces);
//! `supports_system_prompt=True` sends the first system message as `system_prompt`.
//! `max_tokens` → `max_new_tokens` (`max_length` for vicuna/flan models, `max_tokens` for
//! `meta/codellama-13b`), `stop` → `stop_sequences` (a comma-separated string, as
//! Replicate's models take it); other keywords (`top_k=`) join `input`. The token
//! (`api_key`, `REPLICATE_API_KEY`, `REPLICATE_API_TOKEN`) goes as `Authorization: Token`.
//!
//! The URLs a prediction names are followed only on the API's own origin (polls) or on it
//! or Replicate's stream hosts (streams): the token is never sent elsewhere.

use serde_json::{json, Map, Value};

use super::{
    check_params, completion_id, malformed_reply, unix_now, Adapter, ChatContext, Decoded,
    Endpointkind, HttpRequest, ProviderSpec, StreamDecoder, WireFormat,
};
use crate::catalogue::tokens::Encoding;
use crate::error::{map_http_error, ErrorKind, LlmError};
use crate::stream::sse::SseEvent;

pub const SPEC: ProviderSpec = ProviderSpec {
    name: "replicate",
    format: WireFormat::Replicate,
    default_base: Some("https://api.replicate.com"),
    base_env: &["REPLICATE_API_BASE"],
    key_env: &["REPLICATE_API_KEY", "REPLICATE_API_TOKEN"],
    default_key: None,
};

/// The OpenAI parameters mapped into a prediction's `input`.
const SUPPORTED_PARAMS: &[&str] = &[
    "stream",
    "stream_options",
    "temperature",
    "max_tokens",
    "max_completion_tokens",
    "top_p",
    "stop",
    "seed",
];

/// The length of a model version id (`owner/name:<64 hex>`).
const VERSION_LENGTH: usize = 64;

/// How often a prediction is polled (Replicate's own client waits 0.5 s).
pub const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

fn bad(message: impl Into<String>) -> LlmError {
    LlmError::bad_request(message.into())
}

/// `(path of the create call, version)` for a model name.
fn target(model: &str) -> Result<(String, Option<String>), LlmError> {
    let (name, version) = match model.split_once(':') {
        Some((name, v)) => (name, Some(v)),
        None => (model, None),
    };
    let parts: Vec<&str> = name.split('/').collect();
    let well_formed = |n: usize| parts.len() == n && parts.iter().all(|p| !p.trim().is_empty());
    if let Some(v) = version {
        if v.len() != VERSION_LENGTH || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(format!(
                "a Replicate version is 64 hex digits (replicate/owner/name:<version>), got {v:?}"
            )));
        }
        return Ok(("v1/predictions".into(), Some(v.to_string())));
    }
    let deployment = parts.first() == Some(&"deployments");
    if deployment && well_formed(3) {
        return Ok((
            format!("v1/deployments/{}/{}/predictions", parts[1], parts[2]),
            None,
        ));
    }
    if !deployment && well_formed(2) {
        return Ok((format!("v1/models/{name}/predictions"), None));
    }
    Err(bad(format!(
        "Replicate models are named replicate/<owner>/<name>, replicate/<owner>/<name>:<version> or replicate/deployments/<owner>/<name>, got {model:?}"
    )))
}

/// The text of a message's content.
fn text(message: &Value) -> Result<String, LlmError> {
    super::sagemaker::prompt("", None, std::slice::from_ref(message))
}

fn input(
    ctx: &ChatContext<'_>,
    body: &mut Map<String, Value>,
) -> Result<Map<String, Value>, LlmError> {
    let mut messages = match body.remove("messages") {
        Some(Value::Array(m)) => m,
        _ => Vec::new(),
    };
    let system_field = body
        .remove("supports_system_prompt")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let mut system_prompt = None;
    if system_field {
        if let Some(i) = messages
            .iter()
            .position(|m| m.get("role").and_then(Value::as_str) == Some("system"))
        {
            system_prompt = Some(text(&messages.remove(i))?);
        }
    }
    let prompt =
        super::sagemaker::prompt(ctx.model, ctx.options.hf_model_name.as_deref(), &messages)?;
    let mut out = Map::new();
    out.insert("prompt".into(), json!(prompt));
    if let Some(system) = system_prompt {
        out.insert("system_prompt".into(), json!(system));
    }
    let max = body.remove("max_completion_tokens");
    if let Some(m) = body.remove("max_tokens").or(max) {
        let key = if ctx.model.contains("vicuna") || ctx.model.contains("flan") {
            "max_length"
        } else if ctx.model.contains("meta/codellama-13b") {
            "max_tokens"
        } else {
            "max_new_tokens"
        };
        out.insert(key.into(), m);
    }
    match body.remove("stop") {
        Some(Value::Array(stops)) => {
            let joined: Vec<&str> = stops.iter().filter_map(Value::as_str).collect();
            out.insert("stop_sequences".into(), json!(joined.join(",")));
        }
        Some(Value::Null) | None => {}
        Some(s) => {
            out.insert("stop_sequences".into(), s);
        }
    }
    out.extend(std::mem::take(body));
    Ok(out)
}

fn build(ctx: &ChatContext<'_>, mut body: Map<String, Value>) -> Result<HttpRequest, LlmError> {
    if ctx.kind != Endpointkind::Chat {
        return Err(bad(format!(
            "replicate serves chat completions only (predictions), not {}",
            ctx.kind.path()
        )));
    }
    check_params(ctx, &mut body, SUPPORTED_PARAMS)?;
    let (path, version) = target(ctx.model)?;
    body.remove("model");
    body.remove("stream_options");
    let stream = body.remove("stream").is_some_and(|s| s == json!(true)) || ctx.stream;
    let input = input(ctx, &mut body)?;
    let mut out = Map::new();
    if let Some(version) = version {
        out.insert("version".into(), json!(version));
    }
    out.insert("input".into(), Value::Object(input));
    if stream {
        out.insert("stream".into(), json!(true));
    }
    let mut headers = Vec::new();
    if let Some(key) = ctx.endpoint.key.as_deref().filter(|k| !k.trim().is_empty()) {
        headers.push(("authorization".to_string(), format!("Token {key}")));
    }
    Ok(HttpRequest {
        url: super::openai::endpoint_url(&ctx.endpoint.base, &path),
        headers,
        body: out,
    })
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..scheme.len() + 3 + end])
}

/// A URL the prediction names, if it may be called with the token: on the create call's
/// origin, or (`streams`) on an https host of Replicate's.
fn followable(create_url: &str, url: &str, streams: bool) -> bool {
    let same = origin(url).is_some_and(|o| Some(o) == origin(create_url));
    let replicate_host = url
        .strip_prefix("https://")
        .and_then(|rest| rest.split(['/', ':']).next())
        .is_some_and(|host| host.ends_with(".replicate.net") || host.ends_with(".replicate.com"));
    same || (streams && replicate_host)
}

fn prediction_error(ctx: &ChatContext<'_>, status: u16, body: &Map<String, Value>) -> LlmError {
    let detail = match body.get("error") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => format!(
            "prediction {}",
            body.get("status")
                .and_then(Value::as_str)
                .unwrap_or("failed")
        ),
        Some(other) => other.to_string(),
    };
    let raw = json!({"detail": detail}).to_string();
    let err = map_http_error(
        status,
        ctx.provider,
        ctx.requested_model,
        &crate::error::redact_key(&raw, ctx.endpoint.key.as_deref()),
        Some(json!({"detail": detail})),
        Vec::new(),
    );
    let lower = detail.to_lowercase();
    if lower.contains("context length")
        || lower.contains("too many tokens")
        || lower.contains("maximum context")
    {
        return super::reclassify(err, ErrorKind::ContextWindowExceeded, 400);
    }
    err
}

/// The URL of the next poll of a prediction (`None` once it is done), or its failure.
pub fn poll_url(
    ctx: &ChatContext<'_>,
    create_url: &str,
    body: &Map<String, Value>,
) -> Result<Option<String>, LlmError> {
    match body.get("status").and_then(Value::as_str) {
        Some("succeeded") => Ok(None),
        Some("failed" | "canceled" | "aborted") => Err(prediction_error(ctx, 400, body)),
        Some(_) => {
            let url = body
                .get("urls")
                .and_then(|u| u.get("get"))
                .and_then(Value::as_str);
            match url {
                Some(u) if followable(create_url, u, false) => Ok(Some(u.to_string())),
                Some(u) => Err(LlmError::new(
                    ErrorKind::Api,
                    format!(
                        "ReplicateException - the prediction's poll URL {u:?} is not on {} (not followed: the token is never sent elsewhere)",
                        origin(create_url).unwrap_or(create_url)
                    ),
                )
                .with_context(ctx.provider, ctx.requested_model)),
                None => Err(malformed_reply(ctx, "no 'urls.get' to poll", body)),
            }
        }
        None => Err(malformed_reply(ctx, "no prediction 'status'", body)),
    }
}

/// The stream URL of a created prediction.
pub fn stream_url(
    ctx: &ChatContext<'_>,
    create_url: &str,
    body: &Map<String, Value>,
) -> Result<String, LlmError> {
    if matches!(
        body.get("status").and_then(Value::as_str),
        Some("failed" | "canceled" | "aborted")
    ) {
        return Err(prediction_error(ctx, 400, body));
    }
    match body.get("urls").and_then(|u| u.get("stream")).and_then(Value::as_str) {
        Some(u) if followable(create_url, u, true) => Ok(u.to_string()),
        Some(u) => Err(LlmError::new(
            ErrorKind::Api,
            format!("ReplicateException - the prediction's stream URL {u:?} is not a Replicate host (not followed: the token is never sent elsewhere)"),
        )
        .with_context(ctx.provider, ctx.requested_model)),
        None => Err(malformed_reply(ctx, "no 'urls.stream' (does this model stream?)", body)),
    }
}

fn count(text: &str) -> u64 {
    Encoding::for_model("").count(text) as u64
}

fn prompt_of(request: &Map<String, Value>) -> String {
    let input = request.get("input");
    let part = |k: &str| {
        input
            .and_then(|i| i.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let system = part("system_prompt");
    let prompt = part("prompt");
    if system.is_empty() {
        prompt
    } else {
        format!("{system} {prompt}")
    }
}

/// A finished prediction as a chat completion.
fn parse(
    ctx: &ChatContext<'_>,
    request: &Map<String, Value>,
    body: Map<String, Value>,
) -> Result<Map<String, Value>, LlmError> {
    if body.get("status").and_then(Value::as_str) != Some("succeeded") {
        return Err(malformed_reply(ctx, "no succeeded prediction", &body));
    }
    let text = match body.get("output") {
        Some(Value::Array(parts)) if parts.iter().all(Value::is_string) => {
            parts.iter().filter_map(Value::as_str).collect::<String>()
        }
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(_) => return Err(malformed_reply(ctx, "an 'output' that is not text", &body)),
    };
    let prompt_tokens = count(&prompt_of(request));
    let completion_tokens = count(&text);
    let mut out = Map::new();
    out.insert("id".into(), json!(completion_id()));
    out.insert("created".into(), json!(unix_now()));
    out.insert("model".into(), json!(format!("replicate/{}", ctx.model)));
    out.insert("object".into(), json!("chat.completion"));
    out.insert("system_fingerprint".into(), Value::Null);
    out.insert(
        "choices".into(),
        json!([{"finish_reason": "stop", "index": 0,
                "message": {"content": text, "role": "assistant"}}]),
    );
    out.insert(
        "usage".into(),
        json!({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
               "total_tokens": prompt_tokens + completion_tokens}),
    );
    Ok(out)
}

/// A prediction's stream: `output` events carry text, `done` ends it (its `reason`
/// `canceled` or `error` is a failure), `error` events fail.
pub struct ReplicateStreamDecoder {
    provider: String,
    model: String,
    requested_model: String,
    api_key: Option<String>,
    id: String,
    created: u64,
    include_usage: bool,
    prompt_tokens: u64,
    text: String,
    started: bool,
}

impl ReplicateStreamDecoder {
    fn chunk(&self, delta: Value, finish: Value) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("created".into(), json!(self.created));
        m.insert("model".into(), json!(self.model));
        m.insert("object".into(), json!("chat.completion.chunk"));
        m.insert(
            "choices".into(),
            json!([{"index": 0, "delta": delta, "finish_reason": finish}]),
        );
        m
    }

    fn error(&self, data: &str) -> LlmError {
        let detail = serde_json::from_str::<Value>(data)
            .ok()
            .and_then(|v| {
                v.get("detail")
                    .or_else(|| v.get("error"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| data.to_string());
        let raw = crate::error::redact_key(
            &json!({"detail": detail}).to_string(),
            self.api_key.as_deref(),
        );
        map_http_error(
            500,
            &self.provider,
            &self.requested_model,
            &raw,
            Some(json!({"detail": detail})),
            Vec::new(),
        )
    }
}

impl StreamDecoder for ReplicateStreamDecoder {
    fn decode(&mut self, ev: &SseEvent) -> Result<Decoded, LlmError> {
        match ev.event.as_deref().unwrap_or("message") {
            "output" => {
                if ev.data.is_empty() {
                    return Ok(Decoded::Chunks(Vec::new()));
                }
                self.text.push_str(&ev.data);
                let delta = if self.started {
                    json!({"content": ev.data})
                } else {
                    json!({"role": "assistant", "content": ev.data})
                };
                self.started = true;
                Ok(Decoded::Chunks(vec![self.chunk(delta, Value::Null)]))
            }
            "error" => Err(self.error(&ev.data)),
            "done" => {
                let reason = serde_json::from_str::<Value>(&ev.data)
                    .ok()
                    .and_then(|v| v.get("reason").and_then(Value::as_str).map(str::to_string));
                if let Some(reason) = reason.filter(|r| r == "canceled" || r == "error") {
                    return Err(self.error(&format!("prediction {reason}")));
                }
                let mut out = vec![self.chunk(json!({}), json!("stop"))];
                if self.include_usage {
                    let completion = count(&self.text);
                    let mut c = self.chunk(json!({}), Value::Null);
                    c.insert("choices".into(), json!([]));
                    c.insert(
                        "usage".into(),
                        json!({"prompt_tokens": self.prompt_tokens, "completion_tokens": completion,
                               "total_tokens": self.prompt_tokens + completion}),
                    );
                    out.push(c);
                }
                Ok(Decoded::Chunks(out))
            }
            // Keep-alives and event types added later.
            _ => Ok(Decoded::Chunks(Vec::new())),
        }
    }
}

/// `replicate/`.
pub struct ReplicateAdapter;

impl Adapter for ReplicateAdapter {
    fn build_request(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
    ) -> Result<HttpRequest, LlmError> {
        build(ctx, body)
    }

    fn parse_response(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
        headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError> {
        self.parse_reply_to(ctx, &Map::new(), body, headers)
    }

    fn parse_reply_to(
        &self,
        ctx: &ChatContext<'_>,
        request: &Map<String, Value>,
        body: Map<String, Value>,
        _headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError> {
        parse(ctx, request, body)
    }

    fn poll_url(
        &self,
        ctx: &ChatContext<'_>,
        create_url: &str,
        body: &Map<String, Value>,
    ) -> Result<Option<String>, LlmError> {
        poll_url(ctx, create_url, body)
    }

    fn stream_decoder(&self, ctx: &ChatContext<'_>) -> Box<dyn StreamDecoder> {
        self.stream_decoder_for(ctx, &Map::new())
    }

    fn stream_decoder_for(
        &self,
        ctx: &ChatContext<'_>,
        request: &Map<String, Value>,
    ) -> Box<dyn StreamDecoder> {
        Box::new(ReplicateStreamDecoder {
            provider: ctx.provider.to_string(),
            model: format!("replicate/{}", ctx.model),
            requested_model: ctx.requested_model.to_string(),
            api_key: ctx.endpoint.key.clone(),
            id: completion_id(),
            created: unix_now(),
            include_usage: ctx.options.include_usage,
            prompt_tokens: count(&prompt_of(request)),
            text: String::new(),
            started: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{assert_malformed, obj, with_chat_ctx};

    #[test]
    fn model_names_pick_the_create_call() {
        assert_eq!(
            target("meta/llama-3-8b").ok(),
            Some(("v1/models/meta/llama-3-8b/predictions".into(), None))
        );
        assert_eq!(
            target("deployments/acme/llm").ok(),
            Some(("v1/deployments/acme/llm/predictions".into(), None))
        );
        let v = "0123456789abcdef".repeat(4);
        assert_eq!(
            target(&format!("a/b:{v}")).ok(),
            Some(("v1/predictions".into(), Some(v)))
        );
        for bad in ["llama", "a/b/c", "a/", "a/b:xyz", "deployments/acme"] {
            assert!(target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn polls_follow_the_api_origin_only() {
        with_chat_ctx(Endpointkind::Chat, "replicate", "a/b", false, |ctx| {
            let create = "https://api.replicate.com/v1/models/a/b/predictions";
            let starting = obj(
                json!({"status": "starting", "urls": {"get": "https://api.replicate.com/v1/predictions/x"}}),
            );
            assert_eq!(
                poll_url(ctx, create, &starting).ok().flatten().as_deref(),
                Some("https://api.replicate.com/v1/predictions/x")
            );
            let done = obj(json!({"status": "succeeded", "output": ["a"]}));
            assert!(matches!(poll_url(ctx, create, &done), Ok(None)));
            let elsewhere = obj(
                json!({"status": "processing", "urls": {"get": "https://api.replicate.com.evil.example/x"}}),
            );
            assert!(poll_url(ctx, create, &elsewhere).is_err());
            let failed =
                obj(json!({"status": "failed", "error": "maximum context length exceeded"}));
            let err = poll_url(ctx, create, &failed).err();
            assert_eq!(err.map(|e| e.kind), Some(ErrorKind::ContextWindowExceeded));
            let canceled = obj(json!({"status": "canceled"}));
            assert!(poll_url(ctx, create, &canceled).is_err_and(|e| e.message.contains("canceled")));
            assert_malformed(poll_url(ctx, create, &obj(json!({}))).err(), "status");
            // Streams may also use Replicate's stream hosts, over https.
            let with_stream = |u: &str| obj(json!({"status": "starting", "urls": {"stream": u}}));
            assert!(stream_url(
                ctx,
                create,
                &with_stream("https://stream-b.svc.rno2.c.replicate.net/v1/streams/x")
            )
            .is_ok());
            assert!(
                stream_url(ctx, create, &with_stream("http://stream.replicate.net/x")).is_err()
            );
            assert!(stream_url(ctx, create, &with_stream("https://evil.example/x")).is_err());
            assert_malformed(
                stream_url(ctx, create, &obj(json!({"status": "starting"}))).err(),
                "urls.stream",
            );
        });
    }

    #[test]
    fn finished_predictions_become_replies() {
        with_chat_ctx(Endpointkind::Chat, "replicate", "a/b", false, |ctx| {
            let request = obj(json!({"input": {"prompt": "hello world"}}));
            let out = parse(
                ctx,
                &request,
                obj(json!({"status": "succeeded", "output": ["Hel", "lo"]})),
            );
            let out = out.expect("reply");
            assert_eq!(out["choices"][0]["message"]["content"], json!("Hello"));
            assert_eq!(out["model"], json!("replicate/a/b"));
            assert_eq!(out["usage"]["prompt_tokens"], json!(2));
            let single = parse(
                ctx,
                &request,
                obj(json!({"status": "succeeded", "output": "x"})),
            );
            assert!(single.is_ok());
            assert_malformed(
                parse(
                    ctx,
                    &request,
                    obj(json!({"status": "succeeded", "output": [{"image": 1}]})),
                )
                .err(),
                "not text",
            );
            for bad in crate::test_support::foreign_replies(&[]) {
                assert_malformed(parse(ctx, &request, bad).err(), "succeeded");
            }
        });
    }

    #[test]
    fn stream_events_become_chunks() {
        with_chat_ctx(Endpointkind::Chat, "replicate", "a/b", true, |ctx| {
            let mut d = ReplicateAdapter.stream_decoder(ctx);
            let ev = |event: &str, data: &str| SseEvent {
                event: Some(event.into()),
                data: data.into(),
            };
            let Ok(Decoded::Chunks(first)) = d.decode(&ev("output", "Hi")) else {
                panic!("expected a chunk")
            };
            assert_eq!(
                first[0]["choices"][0]["delta"],
                json!({"role": "assistant", "content": "Hi"})
            );
            let Ok(Decoded::Chunks(done)) = d.decode(&ev("done", "{}")) else {
                panic!("expected the finish")
            };
            assert_eq!(done[0]["choices"][0]["finish_reason"], json!("stop"));
            assert!(d.decode(&ev("done", "{\"reason\": \"canceled\"}")).is_err());
            let err = d.decode(&ev("error", "{\"detail\": \"boom\"}")).err();
            assert!(err.is_some_and(|e| e.message.contains("boom")));
        });
    }

    #[test]
    fn inputs_follow_litellms_names() {
        with_chat_ctx(
            Endpointkind::Chat,
            "replicate",
            "lmsys/vicuna-13b",
            false,
            |ctx| {
                let body = obj(
                    json!({"model": "m", "messages": [{"role": "user", "content": "q"}],
                "max_tokens": 9, "stop": "x", "seed": 4}),
                );
                let req = build(ctx, body).expect("request");
                assert_eq!(
                    Value::Object(req.body),
                    json!({"input": {"prompt": "q", "max_length": 9, "stop_sequences": "x", "seed": 4}})
                );
                assert_eq!(
                    req.headers[0].1,
                    format!("Token {}", crate::test_support::TEST_KEY)
                );
            },
        );
    }
}
