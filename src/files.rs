//! The Files and Batches APIs of OpenAI and Azure (LiteLLM's `create_file`,
//! `file_retrieve`, `file_content`, `file_delete`, `file_list`, `create_batch`,
//! `retrieve_batch`, `list_batches`, `cancel_batch`).
//!
//! They are not model calls: no model, and GET and DELETE besides POST. Each is built on
//! the request a Responses call to the same provider would make (`call::prepare`: the
//! key, the base, Azure's `api-key` header and `api-version`, the caller's headers), with
//! the path swapped (`{base}/files...`, `{base}/batches...`; Azure's
//! `{base}/openai/files...?api-version=...`), sent with the call path's retries and
//! mapped errors. An upload is multipart, streamed from disk (`providers::multipart`);
//! a file's content comes back as a binary reply body (`providers::speech::reply_body`,
//! read by the Python layer as `HttpxBinaryResponseContent`).

use std::time::Instant;

use serde_json::{Map, Value};

use crate::call::{self, Reply, DEFAULT_RETRIES, DEFAULT_TIMEOUT};
use crate::error::{redact_key, LlmError};
use crate::providers::{self, multipart, Endpointkind};
use crate::transport;

/// The `purpose`s OpenAI accepts for an upload.
pub const PURPOSES: &[&str] = &[
    "assistants",
    "batch",
    "fine-tune",
    "vision",
    "user_data",
    "evals",
];
/// The endpoints a batch can run (OpenAI's list).
pub const BATCH_ENDPOINTS: &[&str] = &[
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
];
/// The providers served.
pub const PROVIDERS: &[&str] = &["openai", "azure"];

/// One operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilesOp {
    /// `POST files` (multipart: `file`, `purpose`).
    CreateFile,
    /// `GET files/{file_id}`.
    RetrieveFile,
    /// `GET files/{file_id}/content`: the bytes.
    FileContent,
    /// `DELETE files/{file_id}`.
    DeleteFile,
    /// `GET files` (`purpose`, `after`, `limit`, `order`).
    ListFiles,
    /// `POST batches` (`input_file_id`, `endpoint`, `completion_window`, `metadata`).
    CreateBatch,
    /// `GET batches/{batch_id}`.
    RetrieveBatch,
    /// `GET batches` (`after`, `limit`).
    ListBatches,
    /// `POST batches/{batch_id}/cancel`.
    CancelBatch,
}

impl FilesOp {
    /// The operation LiteLLM's function `name` is (`"create_file"`, `"file_retrieve"`,
    /// ...; the async names too).
    pub fn named(name: &str) -> Option<FilesOp> {
        let sync = name.strip_prefix('a').unwrap_or(name);
        Some(match sync {
            "create_file" => FilesOp::CreateFile,
            "file_retrieve" => FilesOp::RetrieveFile,
            "file_content" => FilesOp::FileContent,
            "file_delete" => FilesOp::DeleteFile,
            "file_list" => FilesOp::ListFiles,
            "create_batch" => FilesOp::CreateBatch,
            "retrieve_batch" => FilesOp::RetrieveBatch,
            "list_batches" => FilesOp::ListBatches,
            "cancel_batch" => FilesOp::CancelBatch,
            _ => return None,
        })
    }

    /// LiteLLM's name of the operation (its call type).
    pub fn name(self) -> &'static str {
        match self {
            FilesOp::CreateFile => "create_file",
            FilesOp::RetrieveFile => "file_retrieve",
            FilesOp::FileContent => "file_content",
            FilesOp::DeleteFile => "file_delete",
            FilesOp::ListFiles => "file_list",
            FilesOp::CreateBatch => "create_batch",
            FilesOp::RetrieveBatch => "retrieve_batch",
            FilesOp::ListBatches => "list_batches",
            FilesOp::CancelBatch => "cancel_batch",
        }
    }
}

fn bad(message: impl Into<String>) -> LlmError {
    LlmError::bad_request(message)
}

/// An id that can go into a path: not empty, no `/`, `?`, `#`, `%`, space or `..`.
fn id_of(kwargs: &mut Map<String, Value>, name: &str) -> Result<String, LlmError> {
    match kwargs.remove(name) {
        Some(Value::String(id))
            if !id.is_empty()
                && id != "."
                && id != ".."
                && !id.contains(['/', '?', '#', '%', ' ', '\\']) =>
        {
            Ok(id)
        }
        None | Some(Value::Null) => Err(bad(format!("{name} is required"))),
        Some(other) => Err(bad(format!(
            "{name} must be an id (e.g. \"file-abc123\"), got {other}"
        ))),
    }
}

/// A text argument (a number is taken as its digits).
fn text(kwargs: &mut Map<String, Value>, name: &str) -> Result<Option<String>, LlmError> {
    match kwargs.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(bad(format!("{name} must be a string, got {other}"))),
    }
}

/// A request: method, the path under the API (`files/abc`), the query, the body.
struct Request {
    method: reqwest::Method,
    path: String,
    query: Vec<(String, String)>,
    body: Body,
    /// The reply is the file's bytes (file_content).
    binary: bool,
}

enum Body {
    None,
    Json(Map<String, Value>),
    Form(Map<String, Value>),
}

/// Check the arguments of `op` and build its request; `kwargs` keeps the connection
/// keywords.
fn build(op: FilesOp, kwargs: &mut Map<String, Value>) -> Result<Request, LlmError> {
    let mut request = build_request(op, kwargs)?;
    // `extra_body` joins a POST's body (an upload's form fields); a GET or DELETE has no
    // body to carry it, which is said rather than dropped.
    match kwargs.remove("extra_body") {
        None | Some(Value::Null) => {}
        Some(Value::Object(extra)) if extra.is_empty() => {}
        Some(Value::Object(extra)) => match &mut request.body {
            Body::Json(body) | Body::Form(body) => body.extend(extra),
            Body::None => {
                return Err(bad(format!(
                    "extra_body cannot be sent with {} (a {} request has no body)",
                    op.name(),
                    request.method
                )))
            }
        },
        Some(other) => return Err(bad(format!("extra_body must be a dict, got {other}"))),
    }
    Ok(request)
}

fn build_request(op: FilesOp, kwargs: &mut Map<String, Value>) -> Result<Request, LlmError> {
    let get = |path: String| Request {
        method: reqwest::Method::GET,
        path,
        query: Vec::new(),
        body: Body::None,
        binary: false,
    };
    Ok(match op {
        FilesOp::CreateFile => {
            let purpose = text(kwargs, "purpose")?.ok_or_else(|| {
                bad(format!(
                    "purpose is required: one of {}",
                    PURPOSES.join(", ")
                ))
            })?;
            if !PURPOSES.contains(&purpose.as_str()) {
                return Err(bad(format!(
                    "purpose must be one of {}, got {purpose:?}",
                    PURPOSES.join(", ")
                )));
            }
            let file = kwargs
                .remove("file")
                .filter(|f| !f.is_null())
                .ok_or_else(|| bad("file is required (an open file, a path, bytes or a (filename, bytes) tuple)"))?;
            multipart::FilePart::from_value(&file, "file")?;
            let mut form = Map::new();
            form.insert("purpose".into(), Value::String(purpose));
            form.insert("file".into(), file);
            Request {
                method: reqwest::Method::POST,
                path: "files".into(),
                query: Vec::new(),
                body: Body::Form(form),
                binary: false,
            }
        }
        FilesOp::RetrieveFile => get(format!("files/{}", id_of(kwargs, "file_id")?)),
        FilesOp::FileContent => Request {
            binary: true,
            ..get(format!("files/{}/content", id_of(kwargs, "file_id")?))
        },
        FilesOp::DeleteFile => Request {
            method: reqwest::Method::DELETE,
            ..get(format!("files/{}", id_of(kwargs, "file_id")?))
        },
        FilesOp::ListFiles => {
            let mut r = get("files".into());
            if let Some(purpose) = text(kwargs, "purpose")? {
                r.query.push(("purpose".into(), purpose));
            }
            for name in ["after", "limit", "order"] {
                if let Some(v) = text(kwargs, name)? {
                    r.query.push((name.into(), v));
                }
            }
            r
        }
        FilesOp::CreateBatch => {
            let input_file_id = id_of(kwargs, "input_file_id")?;
            let endpoint = text(kwargs, "endpoint")?.ok_or_else(|| {
                bad(format!(
                    "endpoint is required: one of {}",
                    BATCH_ENDPOINTS.join(", ")
                ))
            })?;
            if !BATCH_ENDPOINTS.contains(&endpoint.as_str()) {
                return Err(bad(format!(
                    "endpoint must be one of {}, got {endpoint:?}",
                    BATCH_ENDPOINTS.join(", ")
                )));
            }
            let window = text(kwargs, "completion_window")?.unwrap_or_else(|| "24h".into());
            if window != "24h" {
                return Err(bad(format!(
                    "completion_window must be \"24h\", got {window:?}"
                )));
            }
            let mut body = Map::new();
            body.insert("input_file_id".into(), Value::String(input_file_id));
            body.insert("endpoint".into(), Value::String(endpoint));
            body.insert("completion_window".into(), Value::String(window));
            match kwargs.remove("metadata") {
                None | Some(Value::Null) => {}
                Some(Value::Object(m)) if m.values().all(Value::is_string) => {
                    body.insert("metadata".into(), Value::Object(m));
                }
                Some(other) => {
                    return Err(bad(format!(
                        "metadata must be a dict of strings, got {other}"
                    )))
                }
            }
            Request {
                method: reqwest::Method::POST,
                path: "batches".into(),
                query: Vec::new(),
                body: Body::Json(body),
                binary: false,
            }
        }
        FilesOp::RetrieveBatch => get(format!("batches/{}", id_of(kwargs, "batch_id")?)),
        FilesOp::CancelBatch => Request {
            method: reqwest::Method::POST,
            ..get(format!("batches/{}/cancel", id_of(kwargs, "batch_id")?))
        },
        FilesOp::ListBatches => {
            let mut r = get("batches".into());
            for name in ["after", "limit"] {
                if let Some(v) = text(kwargs, name)? {
                    r.query.push((name.into(), v));
                }
            }
            r
        }
    })
}

/// The provider a files/batches call goes to: `custom_llm_provider` (default `openai`),
/// or the prefix of `model` when one is given (`azure/...`).
pub fn provider_of(kwargs: &Map<String, Value>) -> String {
    if let Some(p) = kwargs
        .get("custom_llm_provider")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
    {
        return p.to_string();
    }
    kwargs
        .get("model")
        .and_then(Value::as_str)
        .and_then(|m| m.split_once('/'))
        .map_or("openai", |(p, _)| p)
        .to_string()
}

/// Run `op` with LiteLLM's keyword arguments. Every input error surfaces before any
/// network I/O.
pub async fn run(op: FilesOp, mut kwargs: Map<String, Value>) -> Result<Reply, LlmError> {
    let started = Instant::now();
    let provider = provider_of(&kwargs);
    let ctx = |e: LlmError| e.with_context(&provider, "");
    if !PROVIDERS.contains(&provider.as_str()) {
        return Err(ctx(bad(format!(
            "rustllm serves {} for OpenAI and Azure (custom_llm_provider=\"openai\" or \"azure\"), not '{provider}'",
            op.name()
        ))));
    }
    let request = build(op, &mut kwargs).map_err(ctx)?;
    // Built as a Responses call to the same provider would be, then re-pathed.
    let model = match kwargs
        .remove("model")
        .and_then(|m| m.as_str().map(str::to_string))
    {
        Some(m) => m
            .split_once('/')
            .map_or(m.clone(), |(_, rest)| rest.to_string()),
        None => "files".to_string(),
    };
    kwargs.insert("model".into(), Value::String(model));
    kwargs.insert(
        "custom_llm_provider".into(),
        Value::String(provider.clone()),
    );
    kwargs.insert("input".into(), Value::String(String::new()));
    for name in ["mock_response", "stream"] {
        kwargs.remove(name);
    }
    let p = call::prepare(Endpointkind::Responses, kwargs)?;
    let url = repath(&p.url, &request.path);
    let url = match reqwest::Url::parse(&url) {
        Ok(mut u) => {
            if !request.query.is_empty() {
                u.query_pairs_mut().extend_pairs(&request.query);
            }
            u
        }
        Err(e) => return Err(ctx(bad(format!("api_base is not a valid URL: {e}")))),
    };
    let timeout = p.options.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let client = transport::client(&p.options.tls, url.as_str()).map_err(|e| {
        LlmError::bad_request(format!("ssl settings: {}", e.0)).with_context(&p.provider, "")
    })?;
    let adapter = providers::adapter(p.format);
    let (body, headers) = call::with_retries(p.options.retries.unwrap_or(DEFAULT_RETRIES), || {
        let mut req = client
            .request(request.method.clone(), url.clone())
            .timeout(timeout);
        for (k, v) in &p.headers {
            if k != "content-type" {
                req = req.header(k.as_str(), v.as_str());
            }
        }
        let prepared = match &request.body {
            Body::None => Ok(req),
            Body::Json(body) => serde_json::to_vec(body)
                .map(|b| req.header("content-type", "application/json").body(b))
                .map_err(|e| bad(format!("the request is not JSON-serialisable: {e}"))),
            Body::Form(form) => multipart::Form::from_body(form).map(|form| {
                req.header("content-type", form.content_type())
                    .header("content-length", form.len())
                    .body(reqwest::Body::wrap_stream(form.into_stream()))
            }),
        };
        let p = &p;
        let binary = request.binary;
        async move {
            let req = prepared?;
            let resp = req
                .send()
                .await
                .map_err(|e| call::transport_error(p, &e, Some(timeout)))?;
            let status = resp.status().as_u16();
            let headers = call::lower_headers(resp.headers());
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| call::transport_error(p, &e, Some(timeout)))?;
            let key = p.endpoint.key.as_deref();
            if (200..300).contains(&status) && binary {
                let content_type = headers
                    .iter()
                    .find(|(k, _)| k == "content-type")
                    .map_or("application/octet-stream", |(_, v)| v.as_str());
                return Ok((
                    providers::speech::reply_body(&bytes, content_type, 0),
                    headers,
                ));
            }
            let raw = redact_key(&String::from_utf8_lossy(&bytes), key);
            let json = serde_json::from_str::<Value>(&raw).ok();
            if !(200..300).contains(&status) {
                return Err(adapter.map_error(&p.context(), status, &raw, json, headers));
            }
            match json {
                Some(Value::Object(body)) => Ok((body, headers)),
                _ => Err(LlmError::malformed_reply(
                    &p.provider,
                    "",
                    "not a JSON object",
                    &raw,
                    key,
                )),
            }
        }
    })
    .await?;
    Ok(Reply {
        body,
        provider: p.provider.clone(),
        api_base: p.endpoint.base.clone(),
        requested_model: String::new(),
        headers,
        response_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// The Responses URL of a provider with its `responses` segment replaced by `path`
/// (`https://api.openai.com/v1/responses` → `.../v1/files/abc`; Azure's query kept).
fn repath(responses_url: &str, path: &str) -> String {
    let (base, query) = match responses_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (responses_url, None),
    };
    let base = base.strip_suffix("/responses").unwrap_or(base);
    match query {
        Some(q) => format!("{base}/{path}?{q}"),
        None => format!("{base}/{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn operations_are_checked_before_any_request() {
        for (op, args) in [
            (
                FilesOp::CreateFile,
                json!({"file": {"path": "/no/such"}, "purpose": "batch"}),
            ),
            (FilesOp::CreateFile, json!({"purpose": "batch"})),
            (
                FilesOp::CreateFile,
                json!({"file": {"path": "/"}, "purpose": "homework"}),
            ),
            (FilesOp::RetrieveFile, json!({})),
            (FilesOp::RetrieveFile, json!({"file_id": "../admin"})),
            (FilesOp::FileContent, json!({"file_id": 3})),
            (
                FilesOp::CreateBatch,
                json!({"input_file_id": "f", "endpoint": "/v1/images"}),
            ),
            (
                FilesOp::CreateBatch,
                json!({"input_file_id": "f", "endpoint": "/v1/embeddings", "completion_window": "1h"}),
            ),
            (
                FilesOp::CreateBatch,
                json!({"input_file_id": "f", "endpoint": "/v1/embeddings", "metadata": {"a": 1}}),
            ),
            (FilesOp::CancelBatch, json!({"batch_id": "a/b"})),
        ] {
            assert!(build(op, &mut obj(args.clone())).is_err(), "{op:?} {args}");
        }
        let r = build(
            FilesOp::ListFiles,
            &mut obj(json!({"purpose": "batch", "limit": 2})),
        );
        assert!(r.is_ok_and(|r| r.query
            == [
                ("purpose".to_string(), "batch".to_string()),
                ("limit".to_string(), "2".to_string())
            ]));
        assert_eq!(FilesOp::named("acreate_batch"), Some(FilesOp::CreateBatch));
        assert_eq!(FilesOp::named("file_list"), Some(FilesOp::ListFiles));
        assert_eq!(FilesOp::named("afile_content"), Some(FilesOp::FileContent));
        assert_eq!(FilesOp::named("nope"), None);
    }

    #[test]
    fn urls_follow_the_provider() {
        assert_eq!(
            repath("https://api.openai.com/v1/responses", "files/f1"),
            "https://api.openai.com/v1/files/f1"
        );
        assert_eq!(
            repath(
                "https://x.openai.azure.com/openai/responses?api-version=2025-03-01-preview",
                "batches"
            ),
            "https://x.openai.azure.com/openai/batches?api-version=2025-03-01-preview"
        );
        assert_eq!(provider_of(&obj(json!({"model": "azure/gpt-4o"}))), "azure");
        assert_eq!(provider_of(&obj(json!({}))), "openai");
        assert_eq!(
            provider_of(&obj(json!({"custom_llm_provider": "anthropic"}))),
            "anthropic"
        );
    }
}
