//! The OpenAI chat-completions wire format and the registry of every provider that
//! speaks it (they differ only in base URL, key and a header or two).

use serde_json::{Map, Value};

use super::{Adapter, ChatContext, Decoded, HttpRequest, ProviderSpec, StreamDecoder, WireFormat};
use crate::error::{map_http_error, redact_key, LlmError};
use crate::stream::sse::SseEvent;

const fn p(
    name: &'static str,
    default_base: Option<&'static str>,
    base_env: &'static [&'static str],
    key_env: &'static [&'static str],
    default_key: Option<&'static str>,
) -> ProviderSpec {
    ProviderSpec {
        name,
        format: WireFormat::OpenAi,
        default_base,
        base_env,
        key_env,
        default_key,
    }
}

/// Every OpenAI-compatible provider rustllm routes, with LiteLLM's bases and variables
/// (litellm-behaviour.md §1.4). Adding one is adding a line.
pub const COMPATIBLE_PROVIDERS: &[ProviderSpec] = &[
    p(
        "openai",
        Some("https://api.openai.com/v1"),
        &["OPENAI_BASE_URL", "OPENAI_API_BASE"],
        &["OPENAI_API_KEY"],
        None,
    ),
    p(
        "custom_openai",
        None,
        &["OPENAI_BASE_URL", "OPENAI_API_BASE"],
        &["OPENAI_API_KEY"],
        None,
    ),
    p(
        "text-completion-openai",
        Some("https://api.openai.com/v1"),
        &["OPENAI_BASE_URL", "OPENAI_API_BASE"],
        &["OPENAI_API_KEY"],
        None,
    ),
    // LiteLLM reads only MISTRAL_AZURE_API_BASE and ignores MISTRAL_API_BASE; we honour both.
    p(
        "mistral",
        Some("https://api.mistral.ai/v1"),
        &["MISTRAL_AZURE_API_BASE", "MISTRAL_API_BASE"],
        &["MISTRAL_API_KEY", "MISTRAL_AZURE_API_KEY"],
        None,
    ),
    p(
        "codestral",
        Some("https://codestral.mistral.ai/v1"),
        &["CODESTRAL_API_BASE"],
        &["CODESTRAL_API_KEY"],
        None,
    ),
    p(
        "openrouter",
        Some("https://openrouter.ai/api/v1"),
        &["OPENROUTER_API_BASE"],
        &["OPENROUTER_API_KEY", "OR_API_KEY"],
        None,
    ),
    p(
        "groq",
        Some("https://api.groq.com/openai/v1"),
        &["GROQ_API_BASE"],
        &["GROQ_API_KEY"],
        None,
    ),
    p(
        "xai",
        Some("https://api.x.ai/v1"),
        &["XAI_API_BASE"],
        &["XAI_API_KEY"],
        None,
    ),
    p(
        "dashscope",
        Some("https://dashscope-intl.aliyuncs.com/compatible-mode/v1"),
        &["DASHSCOPE_API_BASE"],
        &["DASHSCOPE_API_KEY"],
        None,
    ),
    p(
        "deepseek",
        Some("https://api.deepseek.com/beta"),
        &["DEEPSEEK_API_BASE"],
        &["DEEPSEEK_API_KEY"],
        None,
    ),
    p(
        "perplexity",
        Some("https://api.perplexity.ai"),
        &["PERPLEXITY_API_BASE"],
        &["PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"],
        None,
    ),
    p(
        "fireworks_ai",
        Some("https://api.fireworks.ai/inference/v1"),
        &["FIREWORKS_API_BASE", "FIREWORKS_AI_API_BASE"],
        &[
            "FIREWORKS_API_KEY",
            "FIREWORKSAI_API_KEY",
            "FIREWORKS_AI_API_KEY",
            "FIREWORKS_AI_TOKEN",
        ],
        None,
    ),
    p(
        "together_ai",
        Some("https://api.together.xyz/v1"),
        &["TOGETHER_AI_API_BASE", "TOGETHERAI_API_BASE"],
        &[
            "TOGETHER_API_KEY",
            "TOGETHER_AI_API_KEY",
            "TOGETHERAI_API_KEY",
            "TOGETHER_AI_TOKEN",
        ],
        None,
    ),
    p(
        "anyscale",
        Some("https://api.endpoints.anyscale.com/v1"),
        &["ANYSCALE_API_BASE"],
        &["ANYSCALE_API_KEY"],
        None,
    ),
    p(
        "deepinfra",
        Some("https://api.deepinfra.com/v1/openai"),
        &["DEEPINFRA_API_BASE"],
        &["DEEPINFRA_API_KEY"],
        None,
    ),
    p(
        "cerebras",
        Some("https://api.cerebras.ai/v1"),
        &["CEREBRAS_API_BASE"],
        &["CEREBRAS_API_KEY"],
        None,
    ),
    p(
        "sambanova",
        Some("https://api.sambanova.ai/v1"),
        &["SAMBANOVA_API_BASE"],
        &["SAMBANOVA_API_KEY"],
        None,
    ),
    p(
        "nvidia_nim",
        Some("https://integrate.api.nvidia.com/v1"),
        &["NVIDIA_NIM_API_BASE"],
        &["NVIDIA_NIM_API_KEY"],
        None,
    ),
    p(
        "moonshot",
        Some("https://api.moonshot.ai/v1"),
        &["MOONSHOT_API_BASE"],
        &["MOONSHOT_API_KEY"],
        None,
    ),
    p(
        "ai21_chat",
        Some("https://api.ai21.com/studio/v1"),
        &["AI21_API_BASE"],
        &["AI21_API_KEY"],
        None,
    ),
    p(
        "ai21",
        Some("https://api.ai21.com/studio/v1"),
        &["AI21_API_BASE"],
        &["AI21_API_KEY"],
        None,
    ),
    p(
        "volcengine",
        Some("https://ark.cn-beijing.volces.com/api/v3"),
        &["VOLCENGINE_API_BASE"],
        &["VOLCENGINE_API_KEY", "ARK_API_KEY"],
        None,
    ),
    p(
        "xinference",
        Some("http://127.0.0.1:9997/v1"),
        &["XINFERENCE_API_BASE"],
        &["XINFERENCE_API_KEY"],
        Some("stub-xinference-key"),
    ),
    p(
        "empower",
        Some("https://app.empower.dev/api/v1"),
        &["EMPOWER_API_BASE"],
        &["EMPOWER_API_KEY"],
        None,
    ),
    p(
        "friendliai",
        Some("https://api.friendli.ai/serverless/v1"),
        &["FRIENDLIAI_API_BASE"],
        &["FRIENDLIAI_API_KEY", "FRIENDLI_TOKEN"],
        None,
    ),
    p(
        "azure_ai",
        None,
        &["AZURE_AI_API_BASE"],
        &["AZURE_AI_API_KEY"],
        None,
    ),
    p(
        "github",
        Some("https://models.inference.ai.azure.com"),
        &["GITHUB_API_BASE"],
        &["GITHUB_API_KEY"],
        None,
    ),
    p(
        "litellm_proxy",
        None,
        &["LITELLM_PROXY_API_BASE"],
        &["LITELLM_PROXY_API_KEY"],
        Some(""),
    ),
    p(
        "hosted_vllm",
        None,
        &["HOSTED_VLLM_API_BASE"],
        &["HOSTED_VLLM_API_KEY"],
        Some("fake-api-key"),
    ),
    p(
        "llamafile",
        Some("http://127.0.0.1:8080/v1"),
        &["LLAMAFILE_API_BASE"],
        &["LLAMAFILE_API_KEY"],
        Some("fake-api-key"),
    ),
    p(
        "lm_studio",
        Some("http://localhost:1234/v1"),
        &["LM_STUDIO_API_BASE"],
        &["LM_STUDIO_API_KEY"],
        Some(" "),
    ),
    p(
        "galadriel",
        Some("https://api.galadriel.com/v1"),
        &["GALADRIEL_API_BASE"],
        &["GALADRIEL_API_KEY"],
        None,
    ),
    p(
        "novita",
        Some("https://api.novita.ai/v3/openai"),
        &["NOVITA_API_BASE"],
        &["NOVITA_API_KEY"],
        None,
    ),
    p(
        "meta_llama",
        Some("https://api.llama.com/compat/v1"),
        &["LLAMA_API_BASE"],
        &["LLAMA_API_KEY"],
        None,
    ),
    p(
        "featherless_ai",
        Some("https://api.featherless.ai/v1"),
        &["FEATHERLESS_API_BASE"],
        &["FEATHERLESS_AI_API_KEY", "FEATHERLESS_API_KEY"],
        None,
    ),
    p(
        "nscale",
        Some("https://inference.api.nscale.com/v1"),
        &["NSCALE_API_BASE"],
        &["NSCALE_API_KEY"],
        None,
    ),
    p(
        "nebius",
        Some("https://api.studio.nebius.ai/v1"),
        &["NEBIUS_API_BASE"],
        &["NEBIUS_API_KEY"],
        None,
    ),
    p(
        "v0",
        Some("https://api.v0.dev/v1"),
        &["V0_API_BASE"],
        &["V0_API_KEY"],
        None,
    ),
    p(
        "morph",
        Some("https://api.morphllm.com/v1"),
        &["MORPH_API_BASE"],
        &["MORPH_API_KEY"],
        None,
    ),
    p(
        "lambda_ai",
        Some("https://api.lambda.ai/v1"),
        &["LAMBDA_API_BASE"],
        &["LAMBDA_API_KEY"],
        None,
    ),
    // Rerank and embeddings services (`rerank.rs` speaks their rerank formats).
    p(
        "jina_ai",
        Some("https://api.jina.ai/v1"),
        &["JINA_AI_API_BASE"],
        &["JINA_AI_API_KEY", "JINA_AI_TOKEN"],
        None,
    ),
    p(
        "voyage",
        Some("https://api.voyageai.com/v1"),
        &["VOYAGE_API_BASE"],
        &["VOYAGE_API_KEY", "VOYAGE_AI_API_KEY"],
        None,
    ),
    p(
        "infinity",
        None,
        &["INFINITY_API_BASE"],
        &["INFINITY_API_KEY"],
        Some(""),
    ),
    p(
        "hyperbolic",
        Some("https://api.hyperbolic.xyz/v1"),
        &["HYPERBOLIC_API_BASE"],
        &["HYPERBOLIC_API_KEY"],
        None,
    ),
];

/// The registry entry for `name`, if it is OpenAI-compatible.
pub fn compatible(name: &str) -> Option<&'static ProviderSpec> {
    COMPATIBLE_PROVIDERS.iter().find(|p| p.name == name)
}

/// `{base}/{endpoint}` with exactly one slash between them.
pub fn endpoint_url(base: &str, endpoint: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        endpoint.trim_start_matches('/')
    )
}

/// Headers every OpenAI-compatible request carries, before the caller's own.
pub fn auth_headers(
    provider: &str,
    api_key: Option<&str>,
    organization: Option<&str>,
) -> Vec<(String, String)> {
    let mut headers = Vec::with_capacity(4);
    if let Some(key) = api_key.filter(|k| !k.trim().is_empty()) {
        headers.push(("authorization".to_string(), format!("Bearer {key}")));
    }
    if let Some(org) = organization {
        headers.push(("openai-organization".to_string(), org.to_string()));
    }
    if provider == "openrouter" {
        // OpenRouter attributes traffic with these (LiteLLM reads the same variables).
        if let Ok(site) = std::env::var("OR_SITE_URL") {
            headers.push(("http-referer".to_string(), site));
        }
        if let Ok(app) = std::env::var("OR_APP_NAME") {
            headers.push(("x-title".to_string(), app));
        }
    }
    headers
}

/// Check a 2xx chat reply: some OpenAI-compatible servers (OpenRouter among them) answer
/// 200 with an `error` object instead of choices. Those become errors, never empty replies.
pub fn check_chat_body(
    body: Map<String, Value>,
    provider: &str,
    model: &str,
    headers: &[(String, String)],
) -> Result<Map<String, Value>, LlmError> {
    check_reply_body(body, "choices", provider, model, headers, None)
}

/// Check a 2xx reply of any OpenAI endpoint: `list_key` (`choices` for chat and text
/// completions, `data` for embeddings) must be a list. Without it, an `error` object is
/// mapped as the provider's error; anything else (`{}`, another provider's shape) is a
/// [`LlmError::malformed_reply`].
pub fn check_reply_body(
    body: Map<String, Value>,
    list_key: &str,
    provider: &str,
    model: &str,
    headers: &[(String, String)],
    key: Option<&str>,
) -> Result<Map<String, Value>, LlmError> {
    if !matches!(body.get(list_key), Some(Value::Array(_))) {
        if let Some(err) = body.get("error").filter(|e| !e.is_null()) {
            let status = err
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .filter(|c| *c >= 400)
                .unwrap_or(500);
            let raw = Value::Object(body.clone()).to_string();
            return Err(map_http_error(
                status,
                provider,
                model,
                &redact_key(&raw, key),
                Some(Value::Object(body)),
                headers.to_vec(),
            ));
        }
        let received = serde_json::to_string(&body).unwrap_or_default();
        return Err(LlmError::malformed_reply(
            provider,
            model,
            &format!("no '{list_key}' list"),
            &received,
            key,
        ));
    }
    Ok(body)
}

/// The OpenAI chat-completions format itself: the body is sent as built, the reply is
/// already in the right shape.
pub struct OpenAiAdapter;

impl Adapter for OpenAiAdapter {
    fn build_request(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
    ) -> Result<HttpRequest, LlmError> {
        let mut headers = auth_headers(
            ctx.provider,
            ctx.endpoint.key.as_deref(),
            ctx.options.organization.as_deref(),
        );
        // OPENAI_ORGANIZATION applies to OpenAI itself only.
        if ctx.options.organization.is_none() && ctx.provider == "openai" {
            if let Some(org) = (ctx.env)("OPENAI_ORGANIZATION").filter(|o| !o.is_empty()) {
                headers.push(("openai-organization".into(), org));
            }
        }
        Ok(HttpRequest {
            url: endpoint_url(&ctx.endpoint.base, ctx.kind.path()),
            headers,
            body,
        })
    }

    fn parse_response(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
        headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError> {
        let list_key = match ctx.kind {
            crate::providers::Endpointkind::Chat
            | crate::providers::Endpointkind::TextCompletion => "choices",
            crate::providers::Endpointkind::Embeddings
            | crate::providers::Endpointkind::ImageGeneration
            | crate::providers::Endpointkind::ImageEdit => "data",
            crate::providers::Endpointkind::Moderation
            | crate::providers::Endpointkind::Rerank
            | crate::providers::Endpointkind::Speech
            | crate::providers::Endpointkind::Transcription => "results",
            crate::providers::Endpointkind::Responses => "output",
            // Never sent here (translated over chat, `crate::messages`); Anthropic's list.
            crate::providers::Endpointkind::AnthropicMessages => "content",
        };
        check_reply_body(
            body,
            list_key,
            ctx.provider,
            ctx.requested_model,
            headers,
            ctx.endpoint.key.as_deref(),
        )
    }

    fn stream_decoder(&self, ctx: &ChatContext<'_>) -> Box<dyn StreamDecoder> {
        if ctx.kind == crate::providers::Endpointkind::Responses {
            return Box::new(crate::providers::responses::EventDecoder::new(ctx));
        }
        Box::new(OpenAiStreamDecoder {
            provider: ctx.provider.to_string(),
            model: ctx.requested_model.to_string(),
            api_key: ctx.endpoint.key.clone(),
            strings: Default::default(),
        })
    }
}

/// OpenAI's SSE stream: each event is one `chat.completion.chunk`, `[DONE]` ends it, and
/// an `error` object (or an `event: error`) inside the stream is a failure.
pub struct OpenAiStreamDecoder {
    provider: String,
    model: String,
    api_key: Option<String>,
    strings: crate::stream::chunk::Interner,
}

impl StreamDecoder for OpenAiStreamDecoder {
    fn decode(&mut self, ev: &SseEvent) -> Result<Decoded, LlmError> {
        let data = ev.data.trim();
        if data == "[DONE]" {
            return Ok(Decoded::Done);
        }
        if data.is_empty() {
            return Ok(Decoded::Chunks(Vec::new()));
        }
        if ev.event.is_none() {
            // The common text chunk, typed; anything else is parsed as a Value below.
            if let Some(chunk) = crate::stream::chunk::parse_simple(data, &mut self.strings) {
                return Ok(Decoded::Simple(chunk));
            }
        }
        let malformed = |what: &str| {
            LlmError::malformed_event(
                &self.provider,
                &self.model,
                what,
                data,
                self.api_key.as_deref(),
            )
        };
        let parsed: Value =
            serde_json::from_str(data).map_err(|e| malformed(&format!("not JSON ({e})")))?;
        let Value::Object(chunk) = parsed else {
            return Err(malformed("not a JSON object"));
        };
        let is_error_event = ev.event.as_deref() == Some("error");
        if is_error_event
            || (chunk.get("error").is_some_and(|e| !e.is_null()) && !chunk.contains_key("choices"))
        {
            let status = chunk
                .get("error")
                .and_then(|e| e.get("code"))
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .filter(|c| *c >= 400)
                .unwrap_or(500);
            let raw = redact_key(data, self.api_key.as_deref());
            return Err(map_http_error(
                status,
                &self.provider,
                &self.model,
                &raw,
                Some(Value::Object(chunk)),
                Vec::new(),
            ));
        }
        // Every chunk has a `choices` list (Azure's first one, with only
        // `prompt_filter_results`, has an empty one; so does the final usage chunk, which
        // some compatible servers send with `usage` alone). Anything else is not a chunk.
        if !matches!(chunk.get("choices"), Some(Value::Array(_)))
            && !matches!(chunk.get("usage"), Some(Value::Object(_)))
        {
            return Err(malformed("no 'choices' list"));
        }
        Ok(Decoded::Chunks(vec![chunk]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::Endpointkind;
    use crate::test_support::{assert_malformed, foreign_replies, obj, with_chat_ctx};
    use serde_json::json;

    #[test]
    fn registry_names_are_unique() {
        for (i, a) in COMPATIBLE_PROVIDERS.iter().enumerate() {
            for b in &COMPATIBLE_PROVIDERS[i + 1..] {
                assert_ne!(a.name, b.name);
            }
        }
    }

    #[test]
    fn urls_join_with_one_slash() {
        assert_eq!(
            endpoint_url("http://h/v1/", "/chat/completions"),
            "http://h/v1/chat/completions"
        );
        assert_eq!(
            endpoint_url("http://h/v1", "embeddings"),
            "http://h/v1/embeddings"
        );
    }

    #[test]
    fn blank_keys_send_no_authorization() {
        assert!(auth_headers("lm_studio", Some(" "), None).is_empty());
        let h = auth_headers("openai", Some("sk-1"), Some("org-1"));
        assert_eq!(
            h[0],
            ("authorization".to_string(), "Bearer sk-1".to_string())
        );
        assert_eq!(
            h[1],
            ("openai-organization".to_string(), "org-1".to_string())
        );
    }

    fn decode(data: &str, event: Option<&str>) -> Result<Decoded, LlmError> {
        let mut d = OpenAiStreamDecoder {
            provider: "openai".into(),
            model: "m".into(),
            api_key: Some("sk-secret".into()),
            strings: Default::default(),
        };
        d.decode(&SseEvent {
            event: event.map(str::to_string),
            data: data.into(),
        })
    }

    #[test]
    fn stream_events_error_payloads_and_done() {
        assert!(matches!(decode("[DONE]", None), Ok(Decoded::Done)));
        assert!(
            matches!(decode(r#"{"choices": []}"#, None), Ok(Decoded::Chunks(c)) if c.len() == 1)
        );
        let err = decode(
            r#"{"error": {"message": "Rate limit reached", "code": 429}}"#,
            None,
        )
        .err()
        .unwrap();
        assert_eq!(err.kind, crate::error::ErrorKind::RateLimit);
        let err = decode(r#"{"message": "overloaded"}"#, Some("error"))
            .err()
            .unwrap();
        assert_eq!(err.status, 500);
        assert!(err.message.contains("overloaded"));
        let err = decode("{not json sk-secret", None).err().unwrap();
        assert!(err.message.contains("Invalid chunk") && !err.message.contains("sk-secret"));
    }

    fn parse(kind: Endpointkind, body: Map<String, Value>) -> Result<Map<String, Value>, LlmError> {
        with_chat_ctx(kind, "openai", "gpt-x", false, |ctx| {
            OpenAiAdapter.parse_response(ctx, body, &[])
        })
    }

    #[test]
    fn replies_without_their_list_are_errors_not_empty_replies() {
        for kind in [Endpointkind::Chat, Endpointkind::TextCompletion] {
            for bad in foreign_replies(&["openai"]) {
                assert_malformed(
                    parse(kind, bad).err(),
                    "OpenAIException - Invalid response from the provider: no 'choices' list. Received: {",
                );
            }
            assert_malformed(
                parse(kind, obj(json!({"choices": null}))).err(),
                "no 'choices' list",
            );
        }
        for bad in foreign_replies(&[]) {
            assert_malformed(parse(Endpointkind::Embeddings, bad).err(), "no 'data' list");
        }
        // The good shapes still parse, untouched.
        let chat = obj(json!({"id": "x", "choices": [{"index": 0, "message": {"content": "hi"}}]}));
        assert_eq!(parse(Endpointkind::Chat, chat.clone()).ok(), Some(chat));
        let text = obj(
            json!({"id": "x", "object": "text_completion", "choices": [{"text": "hi", "index": 0}]}),
        );
        assert_eq!(
            parse(Endpointkind::TextCompletion, text.clone()).ok(),
            Some(text)
        );
        let emb = obj(json!({"object": "list", "data": [{"embedding": [0.1], "index": 0}]}));
        assert_eq!(parse(Endpointkind::Embeddings, emb.clone()).ok(), Some(emb));
        // An error object in a 200 embeddings reply is the provider's error.
        let err = parse(
            Endpointkind::Embeddings,
            obj(json!({"error": {"message": "quota", "code": 429}})),
        );
        assert_eq!(
            err.err().map(|e| e.kind),
            Some(crate::error::ErrorKind::RateLimit)
        );
    }

    #[test]
    fn stream_events_of_the_wrong_shape_are_errors() {
        for bad in [
            r#"{}"#,
            r#"{"foo": 1}"#,
            "[1, 2]",
            "5",
            r#""text""#,
            r#"{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}}"#,
        ] {
            let err = decode(bad, None).err();
            let err = err.unwrap_or_else(|| panic!("{bad} was accepted"));
            assert_eq!(
                (err.kind, err.status),
                (crate::error::ErrorKind::Api, 500),
                "{bad}"
            );
            assert!(
                err.message
                    .starts_with("APIError: OpenAIException - Invalid chunk in the stream: "),
                "{}",
                err.message
            );
        }
        let err = decode(r#"{"foo": "sk-secret"}"#, None).err().unwrap();
        assert!(err.message.contains("no 'choices' list") && !err.message.contains("sk-secret"));
        let err = decode("<html>sk-secret</html>", None).err().unwrap();
        assert!(err.message.contains("not JSON") && !err.message.contains("sk-secret"));
        // Legitimate: the usage chunk (with `choices: []`, or `usage` alone), Azure's
        // prompt-filter chunk, a normal chunk.
        for good in [
            r#"{"id": "x", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}"#,
            r#"{"id": "x", "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}"#,
            r#"{"choices": [], "created": 0, "id": "", "model": "", "object": "", "prompt_filter_results": []}"#,
            r#"{"id": "x", "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": null}], "x_extra": 1}"#,
        ] {
            assert!(decode(good, None).is_ok(), "{good}");
        }
    }

    #[test]
    fn error_in_a_200_body_is_an_error() {
        let body = json!({"error": {"message": "No endpoints found", "code": 404}});
        let Value::Object(map) = body else { return };
        let err = check_chat_body(map, "openrouter", "x/y", &[]).err();
        assert_eq!(err.map(|e| e.status), Some(404));
        let ok = json!({"choices": [], "error": null});
        let Value::Object(map) = ok else { return };
        assert!(check_chat_body(map, "openrouter", "x/y", &[]).is_ok());
    }
}
