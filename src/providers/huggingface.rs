//! Hugging Face (`huggingface/`), as LiteLLM calls it:
//!
//! - chat goes to the Inference Providers router's OpenAI-compatible
//!   `https://router.huggingface.co/v1/chat/completions`. `huggingface/<org>/<model>`
//!   lets Hugging Face pick the provider; `huggingface/<provider>/<org>/<model>` names
//!   it, sent as `"model": "<org>/<model>:<provider>"` (the router's own way of naming
//!   one; LiteLLM instead asks the Hub for the provider's model id first and posts to
//!   `/{provider}/v1/chat/completions`, one more request per model);
//! - with `api_base` (or `HF_API_BASE`/`HUGGINGFACE_API_BASE`), or a model that is a URL,
//!   chat goes to that text-generation-inference server or Inference Endpoint:
//!   `/v1/chat/completions` is added unless the URL ends in `/v1` (then
//!   `/chat/completions`) or already in `/chat/completions`, as LiteLLM adds it;
//! - embeddings are feature extraction: `POST
//!   {router}/hf-inference/models/{model}/pipeline/feature-extraction` with `{"inputs":
//!   [...]}` (or `api_base` as given: a TEI server or Inference Endpoint), the reply a
//!   list of vectors.
//!
//! The body and reply are OpenAI's (streams too). The token is `api_key`, else `HF_TOKEN`,
//! else `HUGGINGFACE_API_KEY`; the router needs one, a server of your own may not.

use serde_json::{json, Map, Value};

use super::openai::{auth_headers, OpenAiAdapter};
use super::{
    malformed_reply, Adapter, ChatContext, Endpointkind, HttpRequest, ProviderSpec, StreamDecoder,
    WireFormat,
};
use crate::error::{ErrorKind, LlmError};

/// The Inference Providers router.
const ROUTER: &str = "https://router.huggingface.co";

const KEY_ENV: &[&str] = &["HF_TOKEN", "HUGGINGFACE_API_KEY"];

pub const SPEC: ProviderSpec = ProviderSpec {
    name: "huggingface",
    format: WireFormat::Huggingface,
    default_base: Some(ROUTER),
    base_env: &["HF_API_BASE", "HUGGINGFACE_API_BASE"],
    key_env: KEY_ENV,
    // A server of your own may need no token; the router's is checked in `build_request`.
    default_key: Some(""),
};

fn bad(message: impl Into<String>) -> LlmError {
    LlmError::bad_request(message.into())
}

/// LiteLLM's `_build_chat_completion_url`.
pub fn chat_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/chat/completions") {
        base.to_string()
    } else if base.ends_with("/v1") {
        format!("{base}/chat/completions")
    } else {
        format!("{base}/v1/chat/completions")
    }
}

/// The model the router is asked for: `<org>/<model>`, or `<org>/<model>:<provider>` for
/// `<provider>/<org>/<model>`.
pub fn router_model(model: &str) -> Result<String, LlmError> {
    let parts: Vec<&str> = model.split('/').collect();
    if parts.iter().any(|p| p.trim().is_empty()) || parts.len() < 2 {
        return Err(bad(format!(
            "huggingface models are named huggingface/<org>/<model> or huggingface/<provider>/<org>/<model> (e.g. huggingface/together/deepseek-ai/DeepSeek-R1), got {model:?}"
        )));
    }
    if parts.len() == 2 {
        return Ok(model.to_string());
    }
    let (provider, id) = model.split_once('/').unwrap_or(("", model));
    Ok(format!("{id}:{provider}"))
}

/// Whether the call goes to the router (no `api_base`, no base variable, no URL model).
fn to_router(ctx: &ChatContext<'_>) -> bool {
    ctx.endpoint.base.trim_end_matches('/') == ROUTER && !is_url(ctx.model)
}

fn is_url(model: &str) -> bool {
    model.starts_with("http://") || model.starts_with("https://")
}

/// The texts of an embedding call.
fn inputs(input: Option<Value>) -> Result<Value, LlmError> {
    match input {
        Some(Value::String(s)) => Ok(json!([s])),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Ok(Value::Array(items)),
        _ => Err(bad(
            "huggingface feature extraction takes text: input must be a string or a list of strings (token arrays are not supported)",
        )),
    }
}

fn build(ctx: &ChatContext<'_>, mut body: Map<String, Value>) -> Result<HttpRequest, LlmError> {
    if !matches!(ctx.kind, Endpointkind::Chat | Endpointkind::Embeddings) {
        return Err(bad(format!(
            "huggingface serves chat completions and embeddings, not {}",
            ctx.kind.path()
        )));
    }
    let router = to_router(ctx);
    let key = ctx.endpoint.key.as_deref().filter(|k| !k.trim().is_empty());
    let mocked = ctx.options.mock_response.is_some() || ctx.options.mock_timeout;
    if router && key.is_none() && !mocked {
        let mut err = LlmError::new(
            ErrorKind::Authentication,
            format!(
                "AuthenticationError: Missing API key for huggingface: set the {} environment variable or pass api_key=... (a Hugging Face token); for a server of your own pass api_base=...",
                KEY_ENV.join(" or ")
            ),
        );
        err.provider = "huggingface".into();
        err.status = 401;
        return Err(err);
    }
    let headers = auth_headers(ctx.provider, key, None);
    if ctx.kind == Endpointkind::Embeddings {
        let inputs = inputs(body.remove("input"))?;
        body.remove("model");
        body.remove("encoding_format");
        let url = if router {
            let model = super::bedrock::uri_encode(ctx.model, true);
            format!("{ROUTER}/hf-inference/models/{model}/pipeline/feature-extraction")
        } else {
            ctx.endpoint.base.clone()
        };
        let mut out = Map::new();
        out.insert("inputs".into(), inputs);
        out.extend(body);
        return Ok(HttpRequest {
            url,
            headers,
            body: out,
        });
    }
    let url = if router {
        body.insert("model".into(), json!(router_model(ctx.model)?));
        format!("{ROUTER}/v1/chat/completions")
    } else if is_url(ctx.model) && ctx.options.api_base.as_deref().is_none_or(str::is_empty) {
        chat_url(ctx.model)
    } else {
        chat_url(&ctx.endpoint.base)
    };
    Ok(HttpRequest { url, headers, body })
}

/// Feature extraction's list of vectors as an OpenAI embedding reply.
fn parse_embeddings(
    ctx: &ChatContext<'_>,
    request: &Map<String, Value>,
    body: Map<String, Value>,
) -> Result<Map<String, Value>, LlmError> {
    let list = body.get(super::sagemaker::LIST_REPLY);
    let vectors = match list {
        Some(Value::Array(v))
            if v.iter()
                .all(|e| e.as_array().is_some_and(|n| n.iter().all(Value::is_number))) =>
        {
            v.clone()
        }
        _ => {
            let shown = list.cloned().unwrap_or(Value::Object(body));
            return Err(malformed_reply(ctx, "a list of vectors", &shown));
        }
    };
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .map(|(i, e)| json!({"object": "embedding", "index": i, "embedding": e}))
        .collect();
    let texts = request
        .get("inputs")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out = Map::new();
    out.insert("object".into(), json!("list"));
    out.insert("data".into(), Value::Array(data));
    out.insert("model".into(), json!(ctx.model));
    out.insert("usage".into(), super::sagemaker::embedding_usage(texts));
    Ok(out)
}

/// `huggingface/`: the OpenAI body on Hugging Face's URLs.
pub struct HuggingfaceAdapter;

impl Adapter for HuggingfaceAdapter {
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
        headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError> {
        match ctx.kind {
            // A 2xx `{"error": ...}` is mapped as the provider's error.
            Endpointkind::Embeddings if body.get("error").is_some_and(|e| !e.is_null()) => {
                OpenAiAdapter.parse_response(ctx, body, headers)
            }
            Endpointkind::Embeddings => parse_embeddings(ctx, request, body),
            _ => OpenAiAdapter.parse_response(ctx, body, headers),
        }
    }

    fn accepts_list_reply(&self) -> bool {
        true
    }

    fn stream_decoder(&self, ctx: &ChatContext<'_>) -> Box<dyn StreamDecoder> {
        OpenAiAdapter.stream_decoder(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{assert_malformed, obj};
    use crate::types::CallOptions;

    fn request(
        kind: Endpointkind,
        model: &str,
        base: &str,
        key: Option<&str>,
        api_base: Option<&str>,
    ) -> Result<HttpRequest, LlmError> {
        let endpoint = super::super::Endpoint {
            base: base.into(),
            key: key.map(str::to_string),
        };
        let options = CallOptions {
            api_base: api_base.map(str::to_string),
            ..CallOptions::default()
        };
        let ctx = ChatContext {
            kind,
            provider: "huggingface",
            model,
            requested_model: model,
            endpoint: &endpoint,
            options: &options,
            stream: false,
            env: &crate::test_support::no_env,
        };
        let body = match kind {
            Endpointkind::Embeddings => obj(json!({"model": model, "input": "hi"})),
            _ => obj(json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})),
        };
        build(&ctx, body)
    }

    #[test]
    fn router_urls_and_model_names() {
        let r = request(
            Endpointkind::Chat,
            "together/deepseek-ai/DeepSeek-R1",
            ROUTER,
            Some("hf_x"),
            None,
        )
        .expect("request");
        assert_eq!(r.url, "https://router.huggingface.co/v1/chat/completions");
        assert_eq!(r.body["model"], json!("deepseek-ai/DeepSeek-R1:together"));
        assert_eq!(
            r.headers,
            vec![("authorization".to_string(), "Bearer hf_x".to_string())]
        );
        let r = request(
            Endpointkind::Chat,
            "meta-llama/Llama-3.1-8B-Instruct",
            ROUTER,
            Some("k"),
            None,
        )
        .expect("request");
        assert_eq!(r.body["model"], json!("meta-llama/Llama-3.1-8B-Instruct"));
        let r = request(
            Endpointkind::Embeddings,
            "BAAI/bge-small-en-v1.5",
            ROUTER,
            Some("k"),
            None,
        )
        .expect("request");
        assert_eq!(
            r.url,
            "https://router.huggingface.co/hf-inference/models/BAAI/bge-small-en-v1.5/pipeline/feature-extraction"
        );
        assert_eq!(Value::Object(r.body), json!({"inputs": ["hi"]}));
        assert!(request(Endpointkind::Chat, "gpt2", ROUTER, Some("k"), None).is_err());
        assert!(request(Endpointkind::Chat, "a//b", ROUTER, Some("k"), None).is_err());
    }

    #[test]
    fn the_router_needs_a_token_and_a_server_of_your_own_may_not() {
        let err = request(Endpointkind::Chat, "org/m", ROUTER, Some(""), None).err();
        let err = err.expect("an error");
        assert_eq!(err.kind, ErrorKind::Authentication);
        assert!(err.message.contains("HF_TOKEN or HUGGINGFACE_API_KEY"));
        let r = request(
            Endpointkind::Chat,
            "tgi",
            "http://127.0.0.1:8080",
            Some(""),
            Some("http://127.0.0.1:8080"),
        )
        .expect("request");
        assert_eq!(r.url, "http://127.0.0.1:8080/v1/chat/completions");
        assert!(r.headers.is_empty());
        assert_eq!(r.body["model"], json!("tgi"));
    }

    #[test]
    fn api_bases_get_the_chat_path_as_litellm_adds_it() {
        assert_eq!(chat_url("http://h/"), "http://h/v1/chat/completions");
        assert_eq!(chat_url("http://h/v1"), "http://h/v1/chat/completions");
        assert_eq!(
            chat_url("http://h/v1/chat/completions/"),
            "http://h/v1/chat/completions"
        );
        let r = request(
            Endpointkind::Chat,
            "https://ep.endpoints.huggingface.cloud",
            "https://router.huggingface.co",
            None,
            None,
        )
        .expect("request");
        assert_eq!(
            r.url,
            "https://ep.endpoints.huggingface.cloud/v1/chat/completions"
        );
        let r = request(
            Endpointkind::Embeddings,
            "m",
            "http://127.0.0.1:9/embed",
            None,
            Some("http://127.0.0.1:9/embed"),
        )
        .expect("request");
        assert_eq!(r.url, "http://127.0.0.1:9/embed");
    }

    #[test]
    fn feature_extraction_replies_are_read() {
        crate::test_support::with_chat_ctx(
            Endpointkind::Embeddings,
            "huggingface",
            "m",
            false,
            |ctx| {
                let request = obj(json!({"inputs": ["hello world"]}));
                let body = obj(json!({super::super::sagemaker::LIST_REPLY: [[0.5, 1.0]]}));
                let out = parse_embeddings(ctx, &request, body).expect("reply");
                assert_eq!(out["data"][0]["embedding"], json!([0.5, 1.0]));
                assert_eq!(out["usage"]["prompt_tokens"], json!(2));
                // Token-level outputs ([[[...]]]) and other shapes are not sentence vectors.
                let nested = obj(json!({super::super::sagemaker::LIST_REPLY: [[[0.5]]]}));
                assert_malformed(
                    parse_embeddings(ctx, &request, nested).err(),
                    "a list of vectors",
                );
                assert_malformed(
                    parse_embeddings(ctx, &request, obj(json!({"data": "x"}))).err(),
                    "a list of vectors",
                );
                let err = HuggingfaceAdapter
                    .parse_reply_to(
                        ctx,
                        &request,
                        obj(json!({"error": "Model m is currently loading"})),
                        &[],
                    )
                    .err();
                assert!(err.is_some_and(|e| e.message.contains("currently loading")));
            },
        );
        assert!(inputs(Some(json!([[1, 2]]))).is_err());
    }
}
