//! Rerank (`POST .../rerank`): Cohere's v1 and v2 APIs, Jina's, Voyage's, and the
//! Cohere-shaped API OpenAI-style servers (vLLM, Infinity, Together AI, Fireworks, a
//! LiteLLM proxy, any `api_base`) serve beside `/chat/completions`.
//!
//! The request starts as LiteLLM's rerank arguments (`model`, `query`, `documents`,
//! `top_n`, `rank_fields`, `return_documents`, `max_chunks_per_doc`, `max_tokens_per_doc`,
//! anything else passed through); every reply becomes LiteLLM's `RerankResponse` shape:
//! `id`, `results` (`index`, `relevance_score`, `document: {text}` when asked for) and
//! `meta` (`billed_units`, `tokens`).

use serde_json::{json, Map, Value};

use super::{ChatContext, HttpRequest, WireFormat};
use crate::catalogue::cost::CustomPrices;
use crate::catalogue::models::{self, number};
use crate::error::LlmError;

/// The rerank dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RerankApi {
    /// Cohere's `/v1/rerank` (`max_chunks_per_doc`, documents echoed back).
    CohereV1,
    /// Cohere's `/v2/rerank` (`max_tokens_per_doc`), LiteLLM's default for Cohere.
    CohereV2,
    /// Jina AI's `{base}/rerank`: Cohere's body, a `usage` instead of `meta`, no `id`.
    Jina,
    /// Voyage AI's `{base}/rerank`: `top_k` for `top_n`, string documents, results in `data`.
    Voyage,
    /// `{base}/rerank` in Cohere's format (vLLM, Infinity, Together AI, ...).
    OpenAiStyle,
}

impl RerankApi {
    /// The dialect of a provider. Cohere picks its version as LiteLLM does: the one the
    /// base URL names, else v1 when only v1's `max_chunks_per_doc` is given, else v2.
    pub fn of(provider: &str, base: &str, body: &Map<String, Value>) -> RerankApi {
        match provider {
            "cohere" | "cohere_chat" => {
                let base = base.trim_end_matches('/');
                if base.ends_with("/v1/rerank") || base.ends_with("/v1") {
                    RerankApi::CohereV1
                } else if base.ends_with("/v2/rerank") || base.ends_with("/v2") {
                    RerankApi::CohereV2
                } else if body.contains_key("max_chunks_per_doc")
                    && !body.contains_key("max_tokens_per_doc")
                {
                    RerankApi::CohereV1
                } else {
                    RerankApi::CohereV2
                }
            }
            "jina_ai" => RerankApi::Jina,
            "voyage" => RerankApi::Voyage,
            _ => RerankApi::OpenAiStyle,
        }
    }

    /// The dialect a built request speaks (its URL tells Cohere's version).
    fn of_request(provider: &str, url: &str) -> RerankApi {
        match provider {
            "cohere" | "cohere_chat" if url.ends_with("/v1/rerank") => RerankApi::CohereV1,
            "cohere" | "cohere_chat" => RerankApi::CohereV2,
            other => RerankApi::of(other, "", &Map::new()),
        }
    }
}

fn bad(message: impl Into<String>) -> LlmError {
    LlmError::bad_request(message)
}

/// Check `query` and `documents` before any request: a non-empty string, and a non-empty
/// list of strings or objects.
pub fn check_inputs(query: Option<&Value>, documents: Option<&Value>) -> Result<(), LlmError> {
    match query {
        Some(Value::String(q)) if !q.is_empty() => {}
        Some(Value::String(_)) => return Err(bad("rerank: query must not be empty")),
        None | Some(Value::Null) => return Err(bad("rerank: query is required (a string)")),
        Some(other) => {
            return Err(bad(format!(
                "rerank: query must be a string, got {}",
                type_name(other)
            )))
        }
    }
    let docs = match documents {
        Some(Value::Array(d)) => d,
        None | Some(Value::Null) => {
            return Err(bad(
                "rerank: documents is required (a list of strings or dicts)",
            ))
        }
        Some(other) => {
            return Err(bad(format!(
                "rerank: documents must be a list of strings or dicts, got {}",
                type_name(other)
            )))
        }
    };
    if docs.is_empty() {
        return Err(bad("rerank: documents must not be empty"));
    }
    if let Some((i, d)) = docs
        .iter()
        .enumerate()
        .find(|(_, d)| !matches!(d, Value::String(_) | Value::Object(_)))
    {
        return Err(bad(format!(
            "rerank: documents[{i}] must be a string or a dict, got {}",
            type_name(d)
        )));
    }
    Ok(())
}

/// Check `input` of a moderation: a string, or a non-empty list of strings or of
/// multimodal input objects (`{"type": "text", ...}`, `{"type": "image_url", ...}`).
pub fn check_moderation_input(input: Option<&Value>) -> Result<(), LlmError> {
    match input {
        Some(Value::String(_)) => Ok(()),
        Some(Value::Array(items)) if items.is_empty() => {
            Err(bad("moderation: input must not be an empty list"))
        }
        Some(Value::Array(items)) => match items
            .iter()
            .enumerate()
            .find(|(_, x)| !matches!(x, Value::String(_) | Value::Object(_)))
        {
            Some((i, x)) => Err(bad(format!(
                "moderation: input[{i}] must be a string or an input object, got {}",
                type_name(x)
            ))),
            None => Ok(()),
        },
        None | Some(Value::Null) => Err(bad(
            "moderation: input is required (a string or a list of strings)",
        )),
        Some(other) => Err(bad(format!(
            "moderation: input must be a string or a list, got {}",
            type_name(other)
        ))),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "None",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Where a Cohere rerank goes: the root of the base (a LiteLLM-style
/// `https://api.cohere.ai/v1/chat`, a `/v1` or `/v2`, or a full `/v{n}/rerank` URL are all
/// accepted) and the version's path.
fn cohere_url(base: &str, api: RerankApi) -> String {
    let mut root = base.trim_end_matches('/');
    for suffix in [
        "/v1/rerank",
        "/v2/rerank",
        "/v1/chat",
        "/v2/chat",
        "/v1/generate",
        "/v1",
        "/v2",
    ] {
        if let Some(r) = root.strip_suffix(suffix) {
            root = r;
            break;
        }
    }
    let version = if api == RerankApi::CohereV1 { 1 } else { 2 };
    format!("{root}/v{version}/rerank")
}

/// `{base}/rerank`, unless the base already ends there.
fn rerank_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/rerank") {
        base.to_string()
    } else {
        format!("{base}/rerank")
    }
}

/// OpenAI-compatible providers whose rerank API has a shape of its own (DeepInfra's
/// `/v1/inference/{model}` with `queries`, NVIDIA NIM's `/v1/retrieval/.../reranking`):
/// refused before any request rather than sent to a `/rerank` they do not serve.
const OWN_RERANK_APIS: &[&str] = &["deepinfra", "nvidia_nim"];

/// The provider request for a rerank body (`model`, `query`, `documents`, parameters).
pub fn build_request(
    ctx: &ChatContext<'_>,
    format: WireFormat,
    mut body: Map<String, Value>,
) -> Result<HttpRequest, LlmError> {
    if !matches!(format, WireFormat::OpenAi | WireFormat::Cohere)
        || OWN_RERANK_APIS.contains(&ctx.provider)
    {
        return Err(bad(format!(
            "rustllm does not serve rerank for provider '{}': rerank goes to Cohere, Jina AI, Voyage AI, or an OpenAI-style server's /rerank (custom_llm_provider=\"openai\" or \"hosted_vllm\" with api_base=...)",
            ctx.provider
        )));
    }
    let api = RerankApi::of(ctx.provider, &ctx.endpoint.base, &body);
    let url = match api {
        RerankApi::CohereV1 | RerankApi::CohereV2 => cohere_url(&ctx.endpoint.base, api),
        // Azure AI serves Cohere's rerank models at `{base}/v1/rerank`.
        RerankApi::OpenAiStyle if ctx.provider == "azure_ai" => {
            cohere_url(&ctx.endpoint.base, RerankApi::CohereV1)
        }
        _ => rerank_url(&ctx.endpoint.base),
    };
    if api == RerankApi::Voyage {
        // Voyage names `top_n` `top_k` and ranks strings only.
        if let Some(n) = body.shift_remove("top_n") {
            body.insert("top_k".into(), n);
        }
        let docs = body.get("documents").and_then(Value::as_array);
        if let Some(i) = docs.and_then(|d| d.iter().position(|x| !x.is_string())) {
            return Err(bad(format!(
                "rerank: Voyage AI ranks strings only; documents[{i}] is a dict (pass its text)"
            )));
        }
    }
    let mut headers = Vec::with_capacity(2);
    if let Some(key) = ctx.endpoint.key.as_deref().filter(|k| !k.trim().is_empty()) {
        headers.push(("authorization".to_string(), format!("Bearer {key}")));
    }
    headers.push(("accept".to_string(), "application/json".to_string()));
    Ok(HttpRequest { url, headers, body })
}

/// The provider's reply as LiteLLM's `RerankResponse` body.
pub fn parse_reply(
    ctx: &ChatContext<'_>,
    url: &str,
    mut body: Map<String, Value>,
) -> Result<Map<String, Value>, LlmError> {
    let api = RerankApi::of_request(ctx.provider, url);
    let list_key = if api == RerankApi::Voyage && body.get("data").is_some_and(Value::is_array) {
        "data"
    } else {
        "results"
    };
    let Some(Value::Array(items)) = body.shift_remove(list_key) else {
        body.shift_remove(list_key);
        return Err(super::malformed_reply(ctx, "no 'results' list", &body));
    };
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(mut r) = item else {
            return Err(super::malformed_reply(
                ctx,
                "a result is not an object",
                &body,
            ));
        };
        if !r.get("index").is_some_and(Value::is_u64)
            || !r.get("relevance_score").is_some_and(Value::is_number)
        {
            return Err(super::malformed_reply(
                ctx,
                "a result has no index or relevance_score",
                &body,
            ));
        }
        // Voyage and some servers send the document as a string; LiteLLM's is `{text}`.
        if let Some(Value::String(text)) = r.get("document") {
            let doc = json!({"text": text});
            r.insert("document".into(), doc);
        }
        if r.get("document").is_some_and(Value::is_null) {
            r.shift_remove("document");
        }
        results.push(Value::Object(r));
    }
    let id = match body.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => uuid_like(),
    };
    let meta = match body.get("meta") {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        _ => meta_from_usage(body.get("usage")),
    };
    let mut out = Map::with_capacity(3);
    out.insert("id".into(), Value::String(id));
    out.insert("results".into(), Value::Array(results));
    out.insert("meta".into(), meta);
    Ok(out)
}

/// LiteLLM's `meta` for replies that report a `usage` (Jina, Voyage, vLLM): the tokens
/// as billed units and as input tokens.
fn meta_from_usage(usage: Option<&Value>) -> Value {
    let tokens = usage.and_then(|u| {
        u.get("total_tokens")
            .or_else(|| u.get("prompt_tokens"))
            .and_then(Value::as_u64)
    });
    match tokens {
        Some(t) => json!({
            "billed_units": {"total_tokens": t},
            "tokens": {"input_tokens": t},
        }),
        None => json!({}),
    }
}

/// A random id in the uuid4 text form (replies without an `id`, as LiteLLM fills them).
fn uuid_like() -> String {
    let a = fastrand::u64(..);
    let b = fastrand::u64(..);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// What a rerank cost, as LiteLLM prices it: `input_cost_per_query` times the billed
/// search units (one when the provider does not say), else `input_cost_per_token` times
/// the billed tokens; `custom` prices (a deployment's, a call's) win over the catalogue's.
/// `None` for a model neither prices.
pub fn cost(
    body: &Map<String, Value>,
    provider: &str,
    models_to_try: &[&str],
    custom: &CustomPrices,
) -> Option<f64> {
    let meta = body.get("meta")?;
    let provider = Some(provider).filter(|p| !p.is_empty());
    let found = models_to_try
        .iter()
        .filter(|m| !m.is_empty())
        .find_map(|m| models::lookup(m, provider));
    let catalogue = |key: &str| found.as_ref().and_then(|f| number(&f.entry, key));
    let per_query = custom
        .input_cost_per_query
        .or_else(|| catalogue("input_cost_per_query"));
    let per_token = custom
        .input_cost_per_token
        .or_else(|| catalogue("input_cost_per_token"));
    if found.is_none() && per_query.is_none() && per_token.is_none() {
        return None;
    }
    let billed = meta.get("billed_units");
    let units = |k: &str| billed.and_then(|b| b.get(k)).and_then(Value::as_f64);
    if let Some(per_query) = per_query.filter(|p| *p > 0.0) {
        return Some(per_query * units("search_units").unwrap_or(1.0));
    }
    let per_token = per_token.unwrap_or(0.0);
    let tokens = units("total_tokens")
        .or_else(|| meta.pointer("/tokens/input_tokens").and_then(Value::as_f64))
        .unwrap_or(0.0);
    Some(per_token * tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{Endpoint, Endpointkind};
    use crate::types::CallOptions;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn with_ctx<T>(provider: &str, base: &str, f: impl FnOnce(&ChatContext<'_>) -> T) -> T {
        let endpoint = Endpoint {
            base: base.to_string(),
            key: Some("sk-test".into()),
        };
        let options = CallOptions::default();
        let env = |_: &str| None;
        let ctx = ChatContext {
            kind: Endpointkind::Rerank,
            provider,
            model: "m",
            requested_model: "m",
            endpoint: &endpoint,
            options: &options,
            stream: false,
            env: &env,
        };
        f(&ctx)
    }

    fn body() -> Map<String, Value> {
        obj(json!({"model": "m", "query": "q", "documents": ["a", "b"], "top_n": 1}))
    }

    #[test]
    fn cohere_version_follows_the_base_then_the_parameters() {
        let b = body();
        assert_eq!(
            RerankApi::of("cohere", "https://api.cohere.com", &b),
            RerankApi::CohereV2
        );
        assert_eq!(
            RerankApi::of("cohere", "http://h/v1/rerank", &b),
            RerankApi::CohereV1
        );
        let mut v1 = b.clone();
        v1.insert("max_chunks_per_doc".into(), json!(10));
        assert_eq!(
            RerankApi::of("cohere", "https://api.cohere.com", &v1),
            RerankApi::CohereV1
        );
        assert_eq!(
            RerankApi::of("cohere", "http://h/v2", &v1),
            RerankApi::CohereV2
        );
    }

    #[test]
    fn urls_per_dialect() {
        let url = |p: &str, base: &str, b: Map<String, Value>| {
            with_ctx(p, base, |ctx| {
                build_request(ctx, WireFormat::OpenAi, b).map(|r| r.url)
            })
            .unwrap_or_default()
        };
        assert_eq!(
            url("cohere", "https://api.cohere.com", body()),
            "https://api.cohere.com/v2/rerank"
        );
        // A LiteLLM-style chat base names no rerank version.
        assert_eq!(
            url("cohere", "https://api.cohere.ai/v1/chat", body()),
            "https://api.cohere.ai/v2/rerank"
        );
        assert_eq!(url("cohere", "http://h/v1", body()), "http://h/v1/rerank");
        assert_eq!(
            url("jina_ai", "https://api.jina.ai/v1", body()),
            "https://api.jina.ai/v1/rerank"
        );
        assert_eq!(
            url("hosted_vllm", "http://h/v1/", body()),
            "http://h/v1/rerank"
        );
        assert_eq!(
            url("azure_ai", "https://x.models.ai.azure.com", body()),
            "https://x.models.ai.azure.com/v1/rerank"
        );
    }

    #[test]
    fn voyage_takes_top_k_and_strings_only() {
        let built = with_ctx("voyage", "https://api.voyageai.com/v1", |ctx| {
            build_request(ctx, WireFormat::OpenAi, body())
        });
        let b = built.map(|r| r.body).unwrap_or_default();
        assert_eq!(b.get("top_k"), Some(&json!(1)));
        assert!(!b.contains_key("top_n"));
        let mut dicts = body();
        dicts.insert("documents".into(), json!([{"text": "a"}]));
        let err = with_ctx("voyage", "https://api.voyageai.com/v1", |ctx| {
            build_request(ctx, WireFormat::OpenAi, dicts).err()
        });
        assert!(err.is_some_and(|e| e.message.contains("documents[0]")));
    }

    #[test]
    fn other_formats_are_refused() {
        let err = with_ctx("anthropic", "https://api.anthropic.com", |ctx| {
            build_request(ctx, WireFormat::Anthropic, body()).err()
        });
        assert!(err.is_some_and(|e| e.message.contains("does not serve rerank")));
        let err = with_ctx("deepinfra", "https://api.deepinfra.com/v1/openai", |ctx| {
            build_request(ctx, WireFormat::OpenAi, body()).err()
        });
        assert!(err.is_some_and(|e| e.message.contains("'deepinfra'")));
    }

    #[test]
    fn replies_become_litellm_rerank_responses() {
        let cohere = obj(json!({
            "id": "r1",
            "results": [{"index": 1, "relevance_score": 0.9, "document": {"text": "b"}}],
            "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}},
        }));
        let parsed = with_ctx("cohere", "x", |ctx| {
            parse_reply(ctx, "http://h/v2/rerank", cohere.clone())
        });
        assert_eq!(parsed.ok(), Some(cohere));

        let voyage = obj(json!({
            "object": "list", "model": "rerank-2",
            "data": [{"index": 0, "relevance_score": 0.5, "document": "a"}],
            "usage": {"total_tokens": 7},
        }));
        let parsed = with_ctx("voyage", "x", |ctx| {
            parse_reply(ctx, "http://h/rerank", voyage)
        })
        .unwrap_or_default();
        assert_eq!(
            parsed["results"],
            json!([{"index": 0, "relevance_score": 0.5, "document": {"text": "a"}}])
        );
        assert_eq!(
            parsed["meta"],
            json!({"billed_units": {"total_tokens": 7}, "tokens": {"input_tokens": 7}})
        );
        assert_eq!(parsed["id"].as_str().map(str::len), Some(36));

        let bad_reply = obj(json!({"results": [{"index": 0}]}));
        let err = with_ctx("jina_ai", "x", |ctx| {
            parse_reply(ctx, "http://h/rerank", bad_reply).err()
        });
        assert!(err.is_some_and(|e| e.message.contains("relevance_score")));
        let err = with_ctx("jina_ai", "x", |ctx| {
            parse_reply(ctx, "http://h/rerank", Map::new()).err()
        });
        assert!(err.is_some_and(|e| e.message.contains("no 'results' list")));
    }

    #[test]
    fn inputs_are_checked() {
        let q = json!("q");
        let docs = json!(["a", {"text": "b"}]);
        assert!(check_inputs(Some(&q), Some(&docs)).is_ok());
        let msg = |q: Option<&Value>, d: Option<&Value>| {
            check_inputs(q, d)
                .err()
                .map(|e| e.message)
                .unwrap_or_default()
        };
        assert!(msg(None, Some(&docs)).contains("query is required"));
        assert!(msg(Some(&json!(3)), Some(&docs)).contains("query must be a string, got int"));
        assert!(msg(Some(&q), None).contains("documents is required"));
        assert!(msg(Some(&q), Some(&json!([]))).contains("must not be empty"));
        assert!(msg(Some(&q), Some(&json!("a"))).contains("got str"));
        assert!(msg(Some(&q), Some(&json!(["a", 1]))).contains("documents[1]"));
        assert!(check_moderation_input(Some(&json!(["a"]))).is_ok());
        assert!(check_moderation_input(None).is_err());
        assert!(check_moderation_input(Some(&json!([]))).is_err());
        assert!(check_moderation_input(Some(&json!(5))).is_err());
    }

    #[test]
    fn cost_per_query_then_per_token() {
        let per_query = obj(json!({"meta": {"billed_units": {"search_units": 2}}}));
        let none = CustomPrices::default();
        let c = cost(&per_query, "cohere", &["rerank-v3.5"], &none);
        assert!(c.is_some_and(|c| (c - 0.004).abs() < 1e-12), "{c:?}");
        let per_token = obj(json!({"meta": {"tokens": {"input_tokens": 1000}}}));
        let c = cost(&per_token, "voyage", &["voyage/rerank-2"], &none);
        assert!(c.is_some_and(|c| (c - 5e-5).abs() < 1e-12), "{c:?}");
        assert_eq!(
            cost(&per_token, "openai", &["no-such-reranker"], &none),
            None
        );
        // A deployment's own prices price a model the catalogue does not know, and win.
        let query_price = CustomPrices {
            input_cost_per_query: Some(0.01),
            ..CustomPrices::default()
        };
        assert_eq!(
            cost(&per_query, "hosted_vllm", &["my-reranker"], &query_price),
            Some(0.02)
        );
        let token_price = CustomPrices {
            input_cost_per_token: Some(1e-6),
            ..CustomPrices::default()
        };
        let c = cost(&per_token, "voyage", &["voyage/rerank-2"], &token_price);
        assert!(c.is_some_and(|c| (c - 1e-3).abs() < 1e-12), "{c:?}");
    }
}
