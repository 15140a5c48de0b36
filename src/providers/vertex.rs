//! Vertex AI (`vertex_ai/`): Gemini's body (`gemini.rs`) on Vertex URLs, with an OAuth
//! access token minted from a service account.
//!
//! URL: `{base}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent`
//! (`:streamGenerateContent?alt=sse` when streaming), where the base defaults to
//! `https://{location}-aiplatform.googleapis.com` (`https://aiplatform.googleapis.com` for
//! the `global` location).
//!
//! Auth: we sign the service account's JWT ourselves (RS256 with `ring`, already linked
//! through rustls) and exchange it at the JSON's `token_uri`; the token is cached per
//! account until a minute before it expires. `authorized_user` files (what
//! `gcloud auth application-default login` writes) are exchanged with their refresh
//! token instead. An explicit `api_key=` is taken as a ready access token.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::{anthropic, gemini};
use super::{
    Adapter, ChatContext, Endpointkind, HttpRequest, ProviderSpec, StreamDecoder, WireFormat,
};
use crate::error::{map_http_error, provider_exception_name, ErrorKind, LlmError};
use crate::types::CallOptions;

/// The default base; `{location}` is filled in per call.
const DEFAULT_BASE: &str = "https://{location}-aiplatform.googleapis.com";
const DEFAULT_LOCATION: &str = "us-central1";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Tokens are renewed this long before Google says they expire.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

pub const SPEC: ProviderSpec = ProviderSpec {
    name: "vertex_ai",
    format: WireFormat::Vertex,
    default_base: Some(DEFAULT_BASE),
    base_env: &["VERTEXAI_API_BASE", "VERTEX_API_BASE"],
    // Vertex has no API key: the OAuth token is minted at send time. An explicit
    // `api_key=` is used as the access token.
    key_env: &[],
    default_key: Some(""),
};

fn auth_error(message: impl Into<String>) -> LlmError {
    let mut e = LlmError::new(
        ErrorKind::Authentication,
        format!(
            "AuthenticationError: {} - {}",
            provider_exception_name(SPEC.name),
            message.into()
        ),
    );
    e.provider = SPEC.name.to_string();
    e
}

/// Google credentials, as a service-account or authorized-user JSON file holds them.
#[derive(Debug, Clone)]
pub enum Credentials {
    ServiceAccount {
        client_email: String,
        private_key: String,
        private_key_id: Option<String>,
        token_uri: String,
        project_id: Option<String>,
    },
    AuthorizedUser {
        client_id: String,
        client_secret: String,
        refresh_token: String,
        token_uri: String,
        project_id: Option<String>,
    },
}

impl Credentials {
    /// Parses a credentials JSON object.
    pub fn from_json(v: &Value) -> Result<Credentials, LlmError> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let need = |k: &str| {
            s(k).ok_or_else(|| {
                auth_error(format!("the Vertex AI credentials JSON has no {k:?} field"))
            })
        };
        let token_uri = s("token_uri").unwrap_or_else(|| DEFAULT_TOKEN_URI.to_string());
        let project_id = s("project_id").or_else(|| s("quota_project_id"));
        match s("type").as_deref() {
            Some("service_account") => Ok(Credentials::ServiceAccount {
                client_email: need("client_email")?,
                private_key: need("private_key")?,
                private_key_id: s("private_key_id"),
                token_uri,
                project_id,
            }),
            Some("authorized_user") => Ok(Credentials::AuthorizedUser {
                client_id: need("client_id")?,
                client_secret: need("client_secret")?,
                refresh_token: need("refresh_token")?,
                token_uri,
                project_id,
            }),
            other => Err(auth_error(format!(
                "Vertex AI credentials of type {:?} are not supported: use a service-account key file (\"type\": \"service_account\") or an authorized_user file",
                other.unwrap_or("(missing)")
            ))),
        }
    }

    fn project_id(&self) -> Option<&str> {
        match self {
            Credentials::ServiceAccount { project_id, .. }
            | Credentials::AuthorizedUser { project_id, .. } => project_id.as_deref(),
        }
    }

    /// What the token cache is keyed by: one token per account and endpoint.
    fn cache_key(&self) -> String {
        match self {
            Credentials::ServiceAccount {
                client_email,
                token_uri,
                private_key_id,
                ..
            } => format!(
                "sa|{client_email}|{token_uri}|{}",
                private_key_id.as_deref().unwrap_or("")
            ),
            Credentials::AuthorizedUser {
                client_id,
                refresh_token,
                token_uri,
                ..
            } => {
                use sha2::Digest as _;
                let digest = sha2::Sha256::digest(refresh_token.as_bytes());
                format!("user|{client_id}|{token_uri}|{digest:x}")
            }
        }
    }
}

/// Credentials given as a JSON string or as a path to a JSON file.
fn credentials_from_text(text: &str, origin: &str) -> Result<Credentials, LlmError> {
    let trimmed = text.trim();
    let json: Value = if trimmed.starts_with('{') {
        serde_json::from_str(trimmed)
            .map_err(|e| auth_error(format!("{origin} is not valid JSON: {e}")))?
    } else {
        let content = std::fs::read_to_string(trimmed).map_err(|e| {
            auth_error(format!(
                "cannot read the credentials file {trimmed:?} named by {origin}: {e}"
            ))
        })?;
        serde_json::from_str(&content).map_err(|e| {
            auth_error(format!(
                "the credentials file {trimmed:?} ({origin}) is not valid JSON: {e}"
            ))
        })?
    };
    Credentials::from_json(&json)
}

/// `vertex_credentials=` (dict, JSON string or path), else `VERTEXAI_CREDENTIALS`
/// (JSON or path), else `GOOGLE_APPLICATION_CREDENTIALS` (path).
pub fn load_credentials(
    options: &CallOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Credentials, LlmError> {
    match &options.vertex_credentials {
        Some(Value::Object(_)) => {
            if let Some(v) = &options.vertex_credentials {
                return Credentials::from_json(v);
            }
        }
        Some(Value::String(s)) => return credentials_from_text(s, "vertex_credentials"),
        Some(other) => {
            return Err(auth_error(format!(
                "vertex_credentials must be a dict, a JSON string or a file path, got {}",
                crate::types::type_name(other)
            )))
        }
        None => {}
    }
    for var in ["VERTEXAI_CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS"] {
        if let Some(v) = env(var).filter(|v| !v.trim().is_empty()) {
            return credentials_from_text(&v, var);
        }
    }
    Err(auth_error(
        "no credentials for Vertex AI: pass vertex_credentials= (a service-account JSON as a dict, a JSON string or a file path), set VERTEXAI_CREDENTIALS or GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, or pass api_key=<access token>",
    ))
}

fn first_env(env: &dyn Fn(&str) -> Option<String>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| env(n).filter(|v| !v.is_empty()))
}

/// The location: `vertex_location=`, `VERTEXAI_LOCATION`, `VERTEX_LOCATION`, else us-central1.
pub fn location(options: &CallOptions, env: &dyn Fn(&str) -> Option<String>) -> String {
    options
        .vertex_location
        .clone()
        .filter(|l| !l.is_empty())
        .or_else(|| first_env(env, &["VERTEXAI_LOCATION", "VERTEX_LOCATION"]))
        .unwrap_or_else(|| DEFAULT_LOCATION.to_string())
}

/// The base URL for a location (the configured base when one was given).
fn base_for(configured: &str, location: &str) -> String {
    if configured == DEFAULT_BASE {
        if location == "global" {
            "https://aiplatform.googleapis.com".to_string()
        } else {
            DEFAULT_BASE.replace("{location}", location)
        }
    } else {
        configured.trim_end_matches('/').to_string()
    }
}

/// Whether a Vertex model is one of Anthropic's (served in the Anthropic format).
pub fn is_claude(model: &str) -> bool {
    model.starts_with("claude")
}

/// The `anthropic_version` Vertex AI wants in the body of Anthropic models.
pub const ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// Anthropic's body as Vertex AI takes it: no `model` (it is in the URL) and
/// `anthropic_version` in the body instead of a header. Auth is the OAuth bearer, so
/// Anthropic's `x-api-key` and `anthropic-version` headers go; beta headers stay.
fn anthropic_request(
    ctx: &ChatContext<'_>,
    body: Map<String, Value>,
) -> Result<HttpRequest, LlmError> {
    let request = anthropic::AnthropicAdapter.build_request(ctx, body)?;
    let mut out = Map::with_capacity(request.body.len() + 1);
    out.insert("anthropic_version".into(), json!(ANTHROPIC_VERSION));
    out.extend(request.body.into_iter().filter(|(k, _)| k != "model"));
    let headers = request
        .headers
        .into_iter()
        .filter(|(k, _)| k != "x-api-key" && k != "anthropic-version")
        .collect();
    Ok(HttpRequest {
        url: request.url,
        headers,
        body: out,
    })
}

/// Vertex AI: the Gemini body on `.../publishers/google/models/{model}:generateContent`,
/// or for `claude-*` Anthropic's body on `.../publishers/anthropic/models/{model}:rawPredict`.
/// The bearer token is added at send time ([`access_token`]); an explicit `api_key=` is
/// sent as the token itself.
pub struct VertexAdapter;

impl Adapter for VertexAdapter {
    fn build_request(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
    ) -> Result<HttpRequest, LlmError> {
        let token = ctx.endpoint.key.as_deref().filter(|k| !k.trim().is_empty());
        // Credentials are checked now, so a missing or broken file fails before any
        // network call; they may also name the project.
        let credentials = match token {
            Some(_) => None,
            None => Some(load_credentials(ctx.options, ctx.env)?),
        };
        let project = ctx
            .options
            .vertex_project
            .clone()
            .filter(|p| !p.is_empty())
            .or_else(|| first_env(ctx.env, &["VERTEXAI_PROJECT", "VERTEX_PROJECT"]))
            .or_else(|| {
                credentials
                    .as_ref()
                    .and_then(Credentials::project_id)
                    .map(str::to_string)
            })
            .ok_or_else(|| {
                LlmError::bad_request(
                    "Vertex AI needs a project: pass vertex_project=\"my-project\" or set VERTEXAI_PROJECT (or VERTEX_PROJECT)",
                )
            })?;
        let location = location(ctx.options, ctx.env);
        let base = base_for(&ctx.endpoint.base, &location);
        let (publisher, method, body, mut headers) = if is_claude(ctx.model) {
            let HttpRequest { body, headers, .. } = anthropic_request(ctx, body)?;
            let method = if ctx.stream {
                "streamRawPredict"
            } else {
                "rawPredict"
            };
            ("anthropic", method, body, headers)
        } else if ctx.kind == Endpointkind::ImageGeneration {
            (
                "google",
                "predict",
                super::imagen::body(ctx, body)?,
                Vec::new(),
            )
        } else {
            let method = if ctx.stream {
                "streamGenerateContent?alt=sse"
            } else {
                "generateContent"
            };
            ("google", method, gemini::build_body(ctx, body)?, Vec::new())
        };
        let url = format!(
            "{base}/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{}:{method}",
            ctx.model
        );
        if let Some(token) = token {
            headers.push(("authorization".to_string(), format!("Bearer {token}")));
        }
        Ok(HttpRequest { url, headers, body })
    }

    fn parse_response(
        &self,
        ctx: &ChatContext<'_>,
        body: Map<String, Value>,
        headers: &[(String, String)],
    ) -> Result<Map<String, Value>, LlmError> {
        if is_claude(ctx.model) {
            return anthropic::AnthropicAdapter.parse_response(ctx, body, headers);
        }
        if ctx.kind == Endpointkind::ImageGeneration {
            return super::imagen::reply(ctx, body);
        }
        gemini::parse_reply(ctx, body)
    }

    fn stream_decoder(&self, ctx: &ChatContext<'_>) -> Box<dyn StreamDecoder> {
        if is_claude(ctx.model) {
            return anthropic::AnthropicAdapter.stream_decoder(ctx);
        }
        Box::new(gemini::GeminiStreamDecoder::new(ctx))
    }

    fn map_error(
        &self,
        ctx: &ChatContext<'_>,
        status: u16,
        raw: &str,
        json: Option<Value>,
        headers: Vec<(String, String)>,
    ) -> LlmError {
        if is_claude(ctx.model) {
            let provider = ctx.provider;
            return anthropic::map_error(provider, ctx.requested_model, status, raw, json, headers);
        }
        gemini::map_error(
            ctx.provider,
            ctx.requested_model,
            status,
            raw,
            json,
            headers,
        )
    }
}

// ---------------------------------------------------------------------------------------
// Access tokens

struct CachedToken {
    token: String,
    renew_at: Instant,
}

/// One slot per account: concurrent calls wait for the one mint in flight instead of
/// each minting their own.
type Slot = Arc<tokio::sync::Mutex<Option<CachedToken>>>;

static TOKENS: LazyLock<Mutex<HashMap<String, Slot>>> = LazyLock::new(Default::default);

fn slot(key: String) -> Slot {
    let mut map = TOKENS.lock().unwrap_or_else(|e| e.into_inner());
    Arc::clone(map.entry(key).or_default())
}

/// Forget every cached token (tests, and callers rotating keys).
pub fn clear_token_cache() {
    TOKENS.lock().unwrap_or_else(|e| e.into_inner()).clear();
}

/// The bearer token for a Vertex call: cached, or minted from the call's credentials.
/// (`env` is a plain function so the future stays `Send`.)
pub async fn access_token(
    options: &CallOptions,
    env: fn(&str) -> Option<String>,
) -> Result<String, LlmError> {
    let credentials = load_credentials(options, &env)?;
    let slot = slot(credentials.cache_key());
    let mut cached = slot.lock().await;
    if let Some(t) = cached.as_ref().filter(|t| Instant::now() < t.renew_at) {
        return Ok(t.token.clone());
    }
    let (token, expires_in) = mint(&credentials, &options.tls).await?;
    let lifetime = Duration::from_secs(expires_in).saturating_sub(EXPIRY_MARGIN);
    *cached = Some(CachedToken {
        token: token.clone(),
        renew_at: Instant::now() + lifetime,
    });
    Ok(token)
}

/// PEM → DER: the base64 between the `-----BEGIN ...-----` and `-----END ...-----` lines.
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>, LlmError> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    if body.is_empty() {
        return Err(auth_error(
            "the service account's private_key is not a PEM block (-----BEGIN PRIVATE KEY-----)",
        ));
    }
    STANDARD.decode(body.as_bytes()).map_err(|e| {
        auth_error(format!(
            "the service account's private_key is not valid base64: {e}"
        ))
    })
}

/// The signed JWT a service account exchanges for an access token (RFC 7523).
pub fn signed_jwt(
    client_email: &str,
    private_key_pem: &str,
    private_key_id: Option<&str>,
    token_uri: &str,
    now: u64,
) -> Result<String, LlmError> {
    use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
    let der = pem_to_der(private_key_pem)?;
    // Service-account keys are PKCS#8; PKCS#1 ("BEGIN RSA PRIVATE KEY") is accepted too.
    let key = RsaKeyPair::from_pkcs8(&der)
        .or_else(|_| RsaKeyPair::from_der(&der))
        .map_err(|e| {
            auth_error(format!(
                "the service account's private_key is not a usable RSA key: {e}"
            ))
        })?;
    let mut header = json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = private_key_id {
        header["kid"] = json!(kid);
    }
    let claims = json!({
        "iss": client_email,
        "scope": SCOPE,
        "aud": token_uri,
        "iat": now,
        "exp": now + 3600,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0u8; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| auth_error("signing the service account's JWT failed"))?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

/// `application/x-www-form-urlencoded` escaping.
fn form_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Exchanges the credentials for `(access_token, expires_in seconds)`.
async fn mint(
    credentials: &Credentials,
    tls: &crate::transport::TlsSettings,
) -> Result<(String, u64), LlmError> {
    let (token_uri, form) = match credentials {
        Credentials::ServiceAccount {
            client_email,
            private_key,
            private_key_id,
            token_uri,
            ..
        } => {
            let jwt = signed_jwt(
                client_email,
                private_key,
                private_key_id.as_deref(),
                token_uri,
                super::unix_now(),
            )?;
            let form = format!(
                "grant_type={}&assertion={jwt}",
                form_escape("urn:ietf:params:oauth:grant-type:jwt-bearer")
            );
            (token_uri, form)
        }
        Credentials::AuthorizedUser {
            client_id,
            client_secret,
            refresh_token,
            token_uri,
            ..
        } => {
            let form = format!(
                "grant_type=refresh_token&client_id={}&client_secret={}&refresh_token={}",
                form_escape(client_id),
                form_escape(client_secret),
                form_escape(refresh_token)
            );
            (token_uri, form)
        }
    };
    let client = crate::transport::client(tls, token_uri.as_str())
        .map_err(|e| LlmError::bad_request(format!("ssl settings: {}", e.0)))?;
    let resp = client
        .post(token_uri.as_str())
        .timeout(Duration::from_secs(60))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .map_err(|e| {
            LlmError::connection(
                SPEC.name,
                "",
                &format!(
                    "could not reach the token endpoint {token_uri}: {}",
                    crate::transport::transport_detail(&e)
                ),
            )
        })?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.map_err(|e| {
        LlmError::connection(SPEC.name, "", &crate::transport::transport_detail(&e))
    })?;
    let raw = String::from_utf8_lossy(&bytes);
    let json = serde_json::from_str::<Value>(&raw).ok();
    if !(200..300).contains(&status) {
        // OAuth errors: `{"error": "invalid_grant", "error_description": "..."}`.
        let text = json
            .as_ref()
            .and_then(|j| {
                let code = j.get("error").and_then(Value::as_str)?;
                let desc = j
                    .get("error_description")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                Some(format!("{code}: {desc}"))
            })
            .unwrap_or_else(|| crate::error::error_text(json.as_ref(), &raw));
        let message =
            format!("the token endpoint {token_uri} refused the credentials ({status}): {text}");
        return Err(if (400..500).contains(&status) && status != 429 {
            auth_error(message)
        } else {
            map_http_error(status, SPEC.name, "", &message, None, Vec::new())
        });
    }
    let token = json
        .as_ref()
        .and_then(|j| j.get("access_token"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            auth_error(format!(
                "the token endpoint {token_uri} sent no access_token"
            ))
        })?;
    let expires_in = json
        .as_ref()
        .and_then(|j| j.get("expires_in"))
        .and_then(Value::as_u64)
        .unwrap_or(3600);
    Ok((token.to_string(), expires_in))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::providers::Endpoint;
    use crate::providers::Endpointkind;
    use crate::stream::sse::SseEvent;
    use crate::test_support::{assert_malformed, foreign_replies, obj, with_chat_ctx};
    use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

    /// A throwaway key made for these tests only (tests/data/vertex_test_key.pem).
    const TEST_KEY: &str = include_str!("../../tests/data/vertex_test_key.pem");

    fn service_account(project: Option<&str>) -> Value {
        json!({
            "type": "service_account", "project_id": project, "private_key_id": "k1",
            "private_key": TEST_KEY, "client_email": "sa@p.iam.gserviceaccount.com",
            "token_uri": "http://127.0.0.1:1/token",
        })
    }

    fn decode_segment(s: &str) -> Value {
        URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null)
    }

    #[test]
    fn jwt_is_rs256_signed_by_the_service_account() {
        let jwt = signed_jwt(
            "sa@p",
            TEST_KEY,
            Some("k1"),
            "https://o/token",
            1_700_000_000,
        )
        .unwrap();
        let segments: Vec<&str> = jwt.split('.').collect();
        assert_eq!(segments.len(), 3);
        assert_eq!(
            decode_segment(segments[0]),
            json!({"alg": "RS256", "typ": "JWT", "kid": "k1"})
        );
        assert_eq!(
            decode_segment(segments[1]),
            json!({"iss": "sa@p", "scope": SCOPE, "aud": "https://o/token",
                   "iat": 1_700_000_000u64, "exp": 1_700_003_600u64})
        );
        let der = pem_to_der(TEST_KEY).unwrap();
        let key = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.public().as_ref());
        let signature = URL_SAFE_NO_PAD.decode(segments[2]).unwrap();
        let signed = format!("{}.{}", segments[0], segments[1]);
        assert!(public.verify(signed.as_bytes(), &signature).is_ok());
        assert!(public.verify(b"tampered", &signature).is_err());
    }

    #[test]
    fn broken_keys_are_authentication_errors() {
        for pem in [
            "",
            "not a pem",
            "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
        ] {
            let e = signed_jwt("sa", pem, None, "u", 0).err().unwrap();
            assert_eq!(e.kind, ErrorKind::Authentication);
        }
        let e = signed_jwt(
            "sa",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            None,
            "u",
            0,
        )
        .err()
        .unwrap();
        assert!(e.message.contains("not a usable RSA key"));
    }

    #[test]
    fn credentials_from_arguments_and_environment() {
        let options = CallOptions {
            vertex_credentials: Some(service_account(Some("p"))),
            ..CallOptions::default()
        };
        let creds = load_credentials(&options, &|_| None).unwrap();
        assert_eq!(creds.project_id(), Some("p"));
        let as_text = CallOptions {
            vertex_credentials: Some(Value::String(service_account(None).to_string())),
            ..CallOptions::default()
        };
        assert!(load_credentials(&as_text, &|_| None).is_ok());
        let env_json = service_account(None).to_string();
        let from_env = load_credentials(&CallOptions::default(), &|k| {
            (k == "VERTEXAI_CREDENTIALS").then(|| env_json.clone())
        });
        assert!(from_env.is_ok());
        let missing = load_credentials(&CallOptions::default(), &|_| None)
            .err()
            .unwrap();
        assert_eq!(missing.kind, ErrorKind::Authentication);
        assert!(missing.message.contains("GOOGLE_APPLICATION_CREDENTIALS"));
        let wrong_type = Credentials::from_json(&json!({"type": "external_account"}))
            .err()
            .unwrap();
        assert!(wrong_type.message.contains("external_account"));
        let user = Credentials::from_json(&json!({"type": "authorized_user", "client_id": "c",
            "client_secret": "s", "refresh_token": "r"}))
        .unwrap();
        assert!(user
            .cache_key()
            .starts_with("user|c|https://oauth2.googleapis.com/token|"));
    }

    fn build(
        options: CallOptions,
        stream: bool,
        env: &dyn Fn(&str) -> Option<String>,
        model: &str,
    ) -> Result<HttpRequest, LlmError> {
        let endpoint = Endpoint {
            base: DEFAULT_BASE.into(),
            key: Some(String::new()),
        };
        let ctx = ChatContext {
            kind: Endpointkind::Chat,
            provider: "vertex_ai",
            model,
            requested_model: model,
            endpoint: &endpoint,
            options: &options,
            stream,
            env,
        };
        VertexAdapter.build_request(&ctx, Map::from_iter([("messages".to_string(), json!([]))]))
    }

    #[test]
    fn urls_from_project_and_location() {
        let options = CallOptions {
            vertex_credentials: Some(service_account(Some("sa-proj"))),
            ..CallOptions::default()
        };
        let req = build(options.clone(), false, &|_| None, "gemini-2.0-flash").unwrap();
        assert_eq!(req.url, "https://us-central1-aiplatform.googleapis.com/v1/projects/sa-proj/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent");
        assert!(req.headers.is_empty());
        let env = |k: &str| match k {
            "VERTEX_PROJECT" => Some("env-proj".to_string()),
            "VERTEXAI_LOCATION" => Some("global".to_string()),
            _ => None,
        };
        let req = build(options.clone(), true, &env, "gemini-2.5-pro").unwrap();
        assert_eq!(req.url, "https://aiplatform.googleapis.com/v1/projects/env-proj/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
        let no_project = CallOptions {
            vertex_credentials: Some(service_account(None)),
            ..CallOptions::default()
        };
        let e = build(no_project, false, &|_| None, "gemini-2.0-flash")
            .err()
            .unwrap();
        assert!(e.message.contains("vertex_project"));
        let claude = build(
            options.clone(),
            false,
            &|_| None,
            "claude-sonnet-4@20250514",
        )
        .unwrap();
        assert_eq!(claude.url, "https://us-central1-aiplatform.googleapis.com/v1/projects/sa-proj/locations/us-central1/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict");
        assert_eq!(claude.body["anthropic_version"], json!(ANTHROPIC_VERSION));
        assert!(!claude.body.contains_key("model"));
        assert!(claude
            .headers
            .iter()
            .all(|(k, _)| k != "x-api-key" && k != "anthropic-version"));
        let streamed = build(options, true, &|_| None, "claude-sonnet-4@20250514").unwrap();
        assert!(streamed.url.ends_with(":streamRawPredict"));
        assert_eq!(streamed.body["stream"], json!(true));
    }

    #[test]
    fn form_escaping() {
        assert_eq!(
            form_escape("urn:ietf:params a+b/c"),
            "urn%3Aietf%3Aparams%20a%2Bb%2Fc"
        );
    }

    fn parse(model: &str, body: Map<String, Value>) -> Result<Map<String, Value>, LlmError> {
        with_chat_ctx(Endpointkind::Chat, "vertex_ai", model, false, |ctx| {
            VertexAdapter.parse_response(ctx, body, &[])
        })
    }

    #[test]
    fn gemini_and_claude_replies_of_the_wrong_shape_are_errors() {
        for body in foreign_replies(&["gemini"]) {
            assert_malformed(
                parse("gemini-2.0-flash", body).err(),
                "Vertex_aiException - Invalid response from the provider: no 'candidates' list",
            );
        }
        for body in foreign_replies(&["anthropic"]) {
            assert_malformed(
                parse("claude-3-5-sonnet", body).err(),
                "Vertex_aiException - Invalid response from the provider: not an Anthropic message",
            );
        }
        let gemini = obj(json!({"candidates": [{"content": {"parts": [{"text": "hi"}]}}]}));
        assert!(parse("gemini-2.0-flash", gemini).is_ok());
        let claude = obj(json!({"type": "message", "content": [{"type": "text", "text": "hi"}]}));
        assert!(parse("claude-3-5-sonnet", claude).is_ok());
    }

    #[test]
    fn stream_events_of_the_wrong_shape_are_errors() {
        for model in ["gemini-2.0-flash", "claude-3-5-sonnet"] {
            let err = with_chat_ctx(Endpointkind::Chat, "vertex_ai", model, true, |ctx| {
                let mut d = VertexAdapter.stream_decoder(ctx);
                d.decode(&SseEvent {
                    event: None,
                    data: r#"{"foo": 1}"#.into(),
                })
                .err()
            });
            assert_eq!(err.map(|e| (e.kind, e.status)), Some((ErrorKind::Api, 500)));
        }
    }
}
