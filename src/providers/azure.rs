//! Azure OpenAI: the OpenAI body and replies, on deployment URLs
//! (`{base}/openai/deployments/{deployment}/chat/completions?api-version=V`) with an
//! `api-key` header or an Entra ID (`azure_ad_token`) bearer token. Azure's content filter
//! answers 400 with `code: "content_filter"` (inner code `ResponsibleAIPolicyViolation`);
//! those become `ContentPolicyViolationError`. A 200 reply whose `finish_reason` is
//! `content_filter` is a normal reply, as in LiteLLM.

use serde_json::{Map, Value};

use super::openai::OpenAiAdapter;
use super::{
    reclassify, Adapter, ChatContext, Endpointkind, HttpRequest, ProviderSpec, StreamDecoder,
    WireFormat,
};
use crate::error::{map_http_error, ErrorKind, LlmError};

/// `azure/<deployment>`. The key is checked by the adapter, not the resolver, because an
/// `azure_ad_token` may stand in for it.
pub const SPEC: ProviderSpec = ProviderSpec {
    name: "azure",
    format: WireFormat::Azure,
    default_base: None,
    base_env: &["AZURE_API_BASE"],
    key_env: &["AZURE_API_KEY", "AZURE_OPENAI_API_KEY"],
    default_key: Some(""),
};

/// LiteLLM's `AZURE_DEFAULT_API_VERSION`, used when neither `api_version=` nor
/// `AZURE_API_VERSION` is set.
pub const DEFAULT_API_VERSION: &str = "2025-02-01-preview";

/// The oldest api-version that serves the Responses API, sent for it when neither
/// `api_version=` nor `AZURE_API_VERSION` is set (the chat default predates it).
pub const RESPONSES_API_VERSION: &str = "2025-03-01-preview";

/// `{base}/openai/responses{rest}?api-version={version}`: the Responses API's URL (`rest`
/// is `/{id}` to fetch or delete one).
pub fn responses_url(base: &str, rest: &str, version: &str) -> String {
    let base = base.trim_end_matches('/');
    let base = base.strip_suffix("/openai").unwrap_or(base);
    format!("{base}/openai/responses{rest}?api-version={version}")
}

/// `{base}/openai/deployments/{deployment}/{path}?api-version={version}`. A base that
/// already ends in `/openai` is not given a second one.
pub fn deployment_url(base: &str, deployment: &str, path: &str, version: &str) -> String {
    let base = base.trim_end_matches('/');
    let base = base.strip_suffix("/openai").unwrap_or(base);
    format!("{base}/openai/deployments/{deployment}/{path}?api-version={version}")
}

/// The auth header: `api-key` when a key is set, else `Authorization: Bearer` with the
/// Entra ID token. `None` when there is neither.
fn auth_header(ctx: &ChatContext<'_>) -> Option<(String, String)> {
    if let Some(key) = ctx.endpoint.key.as_deref().filter(|k| !k.trim().is_empty()) {
        return Some(("api-key".into(), key.to_string()));
    }
    ctx.options
        .azure_ad_token
        .clone()
        .filter(|t| !t.is_empty())
        .or_else(|| (ctx.env)("AZURE_AD_TOKEN").filter(|t| !t.is_empty()))
        .map(|token| ("authorization".into(), format!("Bearer {token}")))
}

pub struct AzureAdapter;

impl Adapter for AzureAdapter {
    fn build_request(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
    ) -> Result<HttpRequest, LlmError> {
        let mut headers = Vec::with_capacity(1);
        match auth_header(ctx) {
            Some(h) => headers.push(h),
            // A mocked call never reaches Azure and needs no key (as in LiteLLM).
            None if ctx.options.mock_response.is_some() || ctx.options.mock_timeout => {}
            None => {
                let mut err = LlmError::new(
                    ErrorKind::Authentication,
                    "AuthenticationError: Missing API key for azure: set the AZURE_API_KEY or AZURE_OPENAI_API_KEY environment variable, pass api_key=..., or pass azure_ad_token=... (or set AZURE_AD_TOKEN)",
                );
                err.provider = ctx.provider.to_string();
                return Err(err);
            }
        }
        let version = ctx
            .options
            .api_version
            .clone()
            .filter(|v| !v.is_empty())
            .or_else(|| (ctx.env)("AZURE_API_VERSION").filter(|v| !v.is_empty()))
            .unwrap_or_else(|| match ctx.kind {
                Endpointkind::Responses => RESPONSES_API_VERSION.to_string(),
                _ => DEFAULT_API_VERSION.to_string(),
            });
        // The Responses API is not under a deployment: the deployment is the body's model.
        let url = match ctx.kind {
            Endpointkind::Responses => responses_url(&ctx.endpoint.base, "", &version),
            _ => deployment_url(&ctx.endpoint.base, ctx.model, ctx.kind.path(), &version),
        };
        Ok(HttpRequest { url, headers, body })
    }

    fn parse_response(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
        headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError> {
        OpenAiAdapter.parse_response(ctx, body, headers)
    }

    fn stream_decoder(&self, ctx: &ChatContext<'_>) -> Box<dyn StreamDecoder> {
        OpenAiAdapter.stream_decoder(ctx)
    }

    fn map_error(
        &self,
        ctx: &ChatContext<'_>,
        status: u16,
        raw: &str,
        json: Option<Value>,
        headers: Vec<(String, String)>,
    ) -> LlmError {
        map_error(
            ctx.provider,
            ctx.requested_model,
            status,
            raw,
            json,
            headers,
        )
    }
}

/// Whether an Azure error body is the content filter's (by code, inner code or text).
fn is_content_filter(body: &Value) -> bool {
    let code = |p: &str| body.pointer(p).and_then(Value::as_str).unwrap_or_default();
    code("/error/code") == "content_filter"
        || code("/error/innererror/code") == "ResponsibleAIPolicyViolation"
        || code("/error/message").contains("content management policy")
}

/// The generic mapping, plus Azure's content filter → `ContentPolicyViolationError`.
pub fn map_error(
    provider: &str,
    model: &str,
    status: u16,
    raw: &str,
    json: Option<Value>,
    headers: Vec<(String, String)>,
) -> LlmError {
    let filtered = json.as_ref().is_some_and(is_content_filter);
    let err = map_http_error(status, provider, model, raw, json, headers);
    if filtered && err.kind != ErrorKind::ContentPolicyViolation {
        reclassify(err, ErrorKind::ContentPolicyViolation, 400)
    } else {
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::Endpoint;
    use crate::providers::Endpointkind;
    use crate::test_support::{assert_malformed, foreign_replies, no_env, obj, with_chat_ctx};
    use crate::types::CallOptions;
    use serde_json::json;

    #[test]
    fn replies_without_their_list_are_errors() {
        let parse = |kind, body| {
            with_chat_ctx(kind, "azure", "my-deployment", false, |ctx| {
                AzureAdapter.parse_response(ctx, body, &[])
            })
        };
        for body in foreign_replies(&["openai"]) {
            assert_malformed(
                parse(Endpointkind::Chat, body).err(),
                "AzureException - Invalid response from the provider: no 'choices' list",
            );
        }
        assert_malformed(
            parse(Endpointkind::Embeddings, obj(json!({"object": "list"}))).err(),
            "AzureException - Invalid response from the provider: no 'data' list",
        );
        let ok = obj(
            json!({"choices": [{"index": 0, "message": {"content": "hi"}, "finish_reason": "content_filter"}]}),
        );
        assert!(parse(Endpointkind::Chat, ok).is_ok());
    }

    fn ctx_build(
        key: &str,
        options: &CallOptions,
        env: &dyn Fn(&str) -> Option<String>,
        kind: Endpointkind,
    ) -> Result<HttpRequest, LlmError> {
        let endpoint = Endpoint {
            base: "https://res.openai.azure.com/".into(),
            key: Some(key.into()),
        };
        let ctx = ChatContext {
            kind,
            provider: "azure",
            model: "my-gpt4o",
            requested_model: "azure/my-gpt4o",
            endpoint: &endpoint,
            options,
            stream: false,
            env,
        };
        let body = json!({"model": "my-gpt4o", "messages": [{"role": "user", "content": "hi"}], "seed": 1});
        let Value::Object(body) = body else {
            return Err(LlmError::bad_request("not an object"));
        };
        AzureAdapter.build_request(&ctx, body)
    }

    #[test]
    fn deployment_urls_versions_and_the_key_header() {
        let r = ctx_build(
            "az-key",
            &CallOptions::default(),
            &no_env,
            Endpointkind::Chat,
        );
        let r = r.map(|r| (r.url, r.headers, r.body)).ok();
        let (url, headers, body) = r.unwrap_or_default();
        assert_eq!(
            url,
            "https://res.openai.azure.com/openai/deployments/my-gpt4o/chat/completions?api-version=2025-02-01-preview"
        );
        assert_eq!(headers, vec![("api-key".to_string(), "az-key".to_string())]);
        // The OpenAI body is sent as is, model = deployment, every param kept.
        assert_eq!(body["model"], json!("my-gpt4o"));
        assert_eq!(body["seed"], json!(1));

        let opts = CallOptions {
            api_version: Some("2024-10-21".into()),
            ..CallOptions::default()
        };
        let env = |n: &str| (n == "AZURE_API_VERSION").then(|| "2024-06-01".to_string());
        let url = ctx_build("k", &opts, &env, Endpointkind::Embeddings).map(|r| r.url);
        assert_eq!(
            url.ok().as_deref(),
            Some("https://res.openai.azure.com/openai/deployments/my-gpt4o/embeddings?api-version=2024-10-21")
        );
        let url = ctx_build("k", &CallOptions::default(), &env, Endpointkind::Chat).map(|r| r.url);
        assert!(url.is_ok_and(|u| u.ends_with("?api-version=2024-06-01")));
        assert_eq!(
            deployment_url("https://r.test/openai/", "d", "chat/completions", "v"),
            "https://r.test/openai/deployments/d/chat/completions?api-version=v"
        );
    }

    #[test]
    fn ad_tokens_and_missing_credentials() {
        let opts = CallOptions {
            azure_ad_token: Some("eyJ-token".into()),
            ..CallOptions::default()
        };
        let h = ctx_build("", &opts, &no_env, Endpointkind::Chat).map(|r| r.headers);
        assert_eq!(
            h.ok(),
            Some(vec![(
                "authorization".to_string(),
                "Bearer eyJ-token".to_string()
            )])
        );
        let env = |n: &str| (n == "AZURE_AD_TOKEN").then(|| "env-token".to_string());
        let h = ctx_build("", &CallOptions::default(), &env, Endpointkind::Chat).map(|r| r.headers);
        assert_eq!(
            h.ok(),
            Some(vec![(
                "authorization".to_string(),
                "Bearer env-token".to_string()
            )])
        );
        let e = ctx_build("", &CallOptions::default(), &no_env, Endpointkind::Chat).err();
        let e = e.map(|e| (e.kind, e.message.contains("AZURE_API_KEY")));
        assert_eq!(e, Some((ErrorKind::Authentication, true)));
    }

    #[test]
    fn content_filter_errors() {
        let body = json!({"error": {"code": "content_filter", "status": 400,
            "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
            "innererror": {"code": "ResponsibleAIPolicyViolation"}}});
        let e = map_error(
            "azure",
            "azure/d",
            400,
            &body.to_string(),
            Some(body),
            vec![],
        );
        assert_eq!(e.kind, ErrorKind::ContentPolicyViolation);
        assert!(e.message.starts_with(
            "ContentPolicyViolationError: AzureException - The response was filtered"
        ));
        let body = json!({"error": {"code": "content_filter", "message": "blocked"}});
        let e = map_error(
            "azure",
            "azure/d",
            400,
            &body.to_string(),
            Some(body),
            vec![],
        );
        assert_eq!((e.kind, e.status), (ErrorKind::ContentPolicyViolation, 400));
        assert_eq!(
            e.message,
            "ContentPolicyViolationError: AzureException - blocked"
        );
        let body = json!({"error": {"code": "429", "message": "Requests to the deployment have exceeded the rate limit"}});
        let e = map_error(
            "azure",
            "azure/d",
            429,
            &body.to_string(),
            Some(body),
            vec![],
        );
        assert_eq!(e.kind, ErrorKind::RateLimit);
    }
}
