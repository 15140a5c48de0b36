//! Multipart requests (`/audio/transcriptions`, `/images/edits`, `/files`): read as a
//! stream under `general_settings.max_upload_size_mb` (413 beyond it), each file part
//! written to a private temporary file as it arrives, so the proxy never holds an upload
//! in memory; the call path then streams it from disk to the provider
//! (`providers::multipart`). The files are removed when the request ends
//! ([`TempFiles`]).
//!
//! The body the Router sees holds each text field as its string (`temperature` and `n`
//! as numbers; `name[]` fields as a list) and each file as `{"path", "filename",
//! "content_type"}`. A client cannot name a path itself: a text field is always a
//! string, which the call path refuses as a file.

use std::path::PathBuf;

use axum::body::Body;
use axum::http::HeaderMap;
use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt;

use super::{authenticate, call_id, client_credential, Begun};
use crate::proxy::errors::ProxyError;
use crate::proxy::state::AppState;

/// The longest text field accepted (a prompt, metadata): larger ones are files.
const MAX_TEXT_FIELD: usize = 1024 * 1024;
/// Text fields sent as numbers.
const NUMERIC_FIELDS: &[&str] = &["temperature", "n"];

/// Temporary files of one request, removed on drop.
#[derive(Default)]
pub struct TempFiles(Vec<PathBuf>);

impl Drop for TempFiles {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn upload_too_large(limit: usize) -> ProxyError {
    let mut e = ProxyError::too_large(limit);
    e.message = format!(
        "Request size is too large. The upload is over the limit of {} MB (general_settings.max_upload_size_mb).",
        limit / (1024 * 1024)
    );
    e
}

/// Everything before routing for a multipart route, in order: the key (401), the
/// content type (415), the size (413, from `Content-Length` before reading, else while
/// reading), the form (400) and the body's credentials (400).
pub async fn begin_upload(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    route: &str,
) -> Result<(Begun, TempFiles), ProxyError> {
    let started = std::time::Instant::now();
    let identity = authenticate(state, headers, route).await?;
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
        .then(|| multer::parse_boundary(content_type).ok())
        .flatten();
    let Some(boundary) = boundary else {
        let mut e = ProxyError::unsupported_media_type(content_type);
        e.message = format!(
            "Unsupported Content-Type {content_type:?}: send the request as multipart/form-data (the file as a part named \"file\")."
        );
        return Err(e);
    };
    let limit = state.settings.max_upload_bytes;
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(upload_too_large(limit));
    }
    let (mut body, files) = read_form(body, &boundary, limit).await?;
    // On the files routes `custom_llm_provider` picks the deployment (`files.rs`); it is
    // no connection setting there.
    let selector = match route {
        "/files" => body.remove("custom_llm_provider"),
        _ => None,
    };
    if !state.settings.allow_client_side_credentials {
        if let Some(param) = client_credential(&body) {
            return Err(ProxyError::bad_param(
                param,
                format!(
                    "Rejected Request: {param} is not allowed in request body. Enable with `general_settings::allow_client_side_credentials` on proxy config.yaml."
                ),
            ));
        }
    }
    if let Some(forced) = &state.settings.forced_params {
        for (k, v) in forced {
            body.insert(k.clone(), v.clone());
        }
    }
    if let Some(selector) = selector {
        body.insert("custom_llm_provider".into(), selector);
    }
    Ok((
        Begun {
            started,
            call_id: call_id(),
            identity,
            body,
        },
        files,
    ))
}

/// Read the form: text fields into the body, files to disk.
async fn read_form(
    body: Body,
    boundary: &str,
    limit: usize,
) -> Result<(Map<String, Value>, TempFiles), ProxyError> {
    let constraints =
        multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(limit as u64));
    let mut form =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let mut out = Map::new();
    let mut files = TempFiles::default();
    let form_error = |e: multer::Error| match e {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            upload_too_large(limit)
        }
        other => ProxyError::bad_request(format!("could not read the multipart form: {other}")),
    };
    while let Some(mut field) = form.next_field().await.map_err(form_error)? {
        let name = field.name().unwrap_or_default().to_string();
        if name.is_empty() {
            return Err(ProxyError::bad_request(
                "a multipart part has no name (Content-Disposition: form-data; name=...)",
            ));
        }
        let value = match field.file_name().map(str::to_string) {
            Some(filename) => {
                let content_type = field.content_type().map(|m| m.to_string());
                let path = temp_path(&filename);
                files.0.push(path.clone());
                let mut file = tokio::fs::File::create_new(&path).await.map_err(|e| {
                    ProxyError::bad_request(format!("could not store the upload: {e}"))
                })?;
                while let Some(chunk) = field.chunk().await.map_err(form_error)? {
                    file.write_all(&chunk).await.map_err(|e| {
                        ProxyError::bad_request(format!("could not store the upload: {e}"))
                    })?;
                }
                file.flush().await.map_err(|e| {
                    ProxyError::bad_request(format!("could not store the upload: {e}"))
                })?;
                let mut obj = Map::new();
                obj.insert("path".into(), Value::String(path.to_string_lossy().into()));
                obj.insert("filename".into(), Value::String(filename));
                if let Some(ct) = content_type {
                    obj.insert("content_type".into(), Value::String(ct));
                }
                Value::Object(obj)
            }
            None => {
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(form_error)? {
                    if text.len() + chunk.len() > MAX_TEXT_FIELD {
                        return Err(ProxyError::bad_param(
                            &name,
                            format!("the form field {name:?} is over 1 MB; send large content as a file part"),
                        ));
                    }
                    text.extend_from_slice(&chunk);
                }
                let text = String::from_utf8(text).map_err(|_| {
                    ProxyError::bad_param(
                        &name,
                        format!("the form field {name:?} is not UTF-8 text"),
                    )
                })?;
                text_value(&name, text)
            }
        };
        match name.strip_suffix("[]") {
            Some(list) => {
                let entry = out
                    .entry(list.to_string())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = entry {
                    items.push(value);
                }
            }
            None => {
                out.insert(name, value);
            }
        }
    }
    Ok((out, files))
}

/// A text field's value: a number for [`NUMERIC_FIELDS`] that parse as one, else the
/// string.
fn text_value(name: &str, text: String) -> Value {
    if NUMERIC_FIELDS.contains(&name) {
        if let Ok(n) = text.trim().parse::<i64>() {
            return Value::from(n);
        }
        if let Some(n) = text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            return Value::Number(n);
        }
    }
    Value::String(text)
}

/// A new private file in the temporary directory, keeping the upload's extension (the
/// provider may tell the format by it; the name sent is the client's).
fn temp_path(filename: &str) -> PathBuf {
    let ext: String = filename
        .rsplit_once('.')
        .map(|(_, e)| e)
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect();
    let name = format!(
        "rustllm-proxy-upload-{}{}{}",
        uuid::Uuid::new_v4().simple(),
        if ext.is_empty() { "" } else { "." },
        ext
    );
    std::env::temp_dir().join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_fields_are_numbers_and_the_rest_strings() {
        assert_eq!(text_value("temperature", "0.5".into()), Value::from(0.5));
        assert_eq!(text_value("n", "2".into()), Value::from(2));
        assert_eq!(text_value("n", "two".into()), Value::from("two"));
        assert_eq!(text_value("language", "12".into()), Value::from("12"));
        let p = temp_path("a b.../x.M P3");
        assert!(p.to_string_lossy().ends_with(".MP3"), "{p:?}");
    }
}
