//! The mock's Files and Batches APIs (`/v1/files`, `/v1/batches`; Azure's
//! `/openai/files` and `/openai/batches` alike), kept in memory per server: an upload
//! is stored with its text content (as the recorded request shows it) and answered as
//! OpenAI's `FileObject`; a batch is created `validating` against a stored input file,
//! and `cancelling` once cancelled.

use serde_json::{json, Value};

use super::openai::{error_body, now_secs, Reject};

/// What the server holds.
#[derive(Default)]
pub(crate) struct Store {
    files: Vec<(Value, String)>,
    batches: Vec<Value>,
    next: u64,
}

fn not_found(kind: &str, id: &str) -> Reject {
    (
        404,
        error_body(
            &format!("No such {kind} object: {id}"),
            "invalid_request_error",
            Some("id"),
            None,
        ),
    )
}

fn bad_request(message: &str, param: &str) -> Reject {
    (
        400,
        error_body(message, "invalid_request_error", Some(param), None),
    )
}

/// What a files or batches path names: `(collection, id, rest)`.
fn parse(path: &str) -> Option<(&'static str, Option<&str>, Option<&str>)> {
    for (collection, marker) in [("files", "/files"), ("batches", "/batches")] {
        if let Some(i) = path.rfind(marker) {
            let after = &path[i + marker.len()..];
            // `/files` must be a whole segment under the API root.
            if !(after.is_empty() || after.starts_with('/')) {
                continue;
            }
            let mut parts = after.trim_start_matches('/').splitn(2, '/');
            let id = parts.next().filter(|s| !s.is_empty());
            let rest = parts.next();
            if path[..i].ends_with("/v1") || path[..i].ends_with("/openai") {
                return Some((collection, id, rest));
            }
        }
    }
    None
}

/// Whether a request is for the files or batches API.
pub(crate) fn is_files_path(path: &str) -> bool {
    parse(path).is_some()
}

/// The answer to a files or batches request: `Ok((json, None))`, or a file's content
/// `Ok((Value::Null, Some(bytes)))`.
pub(crate) fn handle(
    store: &mut Store,
    method: &str,
    path: &str,
    body: &Result<Value, ()>,
) -> Result<(Value, Option<Vec<u8>>), Reject> {
    let Some((collection, id, rest)) = parse(path) else {
        return Err(not_found("path", path));
    };
    let req = body.as_ref().ok().and_then(Value::as_object);
    match (collection, method, id, rest) {
        ("files", "POST", None, None) => {
            let req = req.ok_or_else(|| bad_request("expected a multipart form", "file"))?;
            let file = req.get("file").and_then(Value::as_object).ok_or_else(|| {
                bad_request("'file' is a required property (a file part).", "file")
            })?;
            let purpose = req
                .get("purpose")
                .and_then(Value::as_str)
                .ok_or_else(|| bad_request("'purpose' is a required property.", "purpose"))?;
            store.next += 1;
            let object = json!({
                "id": format!("file-mock-{}", store.next),
                "object": "file",
                "bytes": file.get("size").cloned().unwrap_or(Value::from(0)),
                "created_at": now_secs(),
                "filename": file.get("filename").cloned().unwrap_or(Value::Null),
                "purpose": purpose,
                "status": "processed",
                "expires_at": null,
                "status_details": null,
            });
            let content = file
                .get("content")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            store.files.push((object.clone(), content));
            Ok((object, None))
        }
        ("files", "GET", None, None) => {
            let data: Vec<Value> = store.files.iter().map(|(o, _)| o.clone()).collect();
            Ok((
                json!({"object": "list", "data": data, "has_more": false}),
                None,
            ))
        }
        ("files", "GET", Some(id), None) => store
            .files
            .iter()
            .find(|(o, _)| o["id"] == id)
            .map(|(o, _)| (o.clone(), None))
            .ok_or_else(|| not_found("File", id)),
        ("files", "GET", Some(id), Some("content")) => store
            .files
            .iter()
            .find(|(o, _)| o["id"] == id)
            .map(|(_, c)| (Value::Null, Some(c.clone().into_bytes())))
            .ok_or_else(|| not_found("File", id)),
        ("files", "DELETE", Some(id), None) => {
            let before = store.files.len();
            store.files.retain(|(o, _)| o["id"] != id);
            if store.files.len() == before {
                return Err(not_found("File", id));
            }
            Ok((json!({"id": id, "object": "file", "deleted": true}), None))
        }
        ("batches", "POST", None, None) => {
            let req = req.ok_or_else(|| bad_request("expected a JSON body", "input_file_id"))?;
            let input = req
                .get("input_file_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !store.files.iter().any(|(o, _)| o["id"] == input) {
                return Err(bad_request(
                    &format!("Invalid 'input_file_id': '{input}'."),
                    "input_file_id",
                ));
            }
            store.next += 1;
            let now = now_secs();
            let batch = json!({
                "id": format!("batch_mock-{}", store.next),
                "object": "batch",
                "endpoint": req.get("endpoint").cloned().unwrap_or(Value::Null),
                "errors": null,
                "input_file_id": input,
                "completion_window": req.get("completion_window").cloned().unwrap_or(Value::Null),
                "status": "validating",
                "output_file_id": null,
                "error_file_id": null,
                "created_at": now,
                "in_progress_at": null,
                "expires_at": now + 86_400,
                "finalizing_at": null,
                "completed_at": null,
                "failed_at": null,
                "expired_at": null,
                "cancelling_at": null,
                "cancelled_at": null,
                "request_counts": {"total": 0, "completed": 0, "failed": 0},
                "metadata": req.get("metadata").cloned().unwrap_or(Value::Null),
            });
            store.batches.push(batch.clone());
            Ok((batch, None))
        }
        ("batches", "GET", None, None) => {
            let data = store.batches.clone();
            let first = data.first().map(|b| b["id"].clone()).unwrap_or(Value::Null);
            let last = data.last().map(|b| b["id"].clone()).unwrap_or(Value::Null);
            Ok((
                json!({"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": false}),
                None,
            ))
        }
        ("batches", "GET", Some(id), None) => store
            .batches
            .iter()
            .find(|b| b["id"] == id)
            .map(|b| (b.clone(), None))
            .ok_or_else(|| not_found("Batch", id)),
        ("batches", "POST", Some(id), Some("cancel")) => {
            let batch = store
                .batches
                .iter_mut()
                .find(|b| b["id"] == id)
                .ok_or_else(|| not_found("Batch", id))?;
            if let Some(b) = batch.as_object_mut() {
                b.insert("status".into(), Value::from("cancelling"));
                b.insert("cancelling_at".into(), Value::from(now_secs()));
            }
            Ok((batch.clone(), None))
        }
        _ => Err((
            404,
            error_body(
                &format!("Invalid URL ({method} {path})"),
                "invalid_request_error",
                None,
                None,
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_batches_round_trip() {
        let mut store = Store::default();
        let upload = Ok(
            json!({"purpose": "batch", "file": {"filename": "in.jsonl", "size": 2, "content": "{}"}}),
        );
        let (file, _) = handle(&mut store, "POST", "/v1/files", &upload).unwrap_or_default();
        let id = file["id"].as_str().unwrap_or_default().to_string();
        assert_eq!(
            (file["bytes"].clone(), file["purpose"].clone()),
            (json!(2), json!("batch"))
        );
        let (_, content) = handle(
            &mut store,
            "GET",
            &format!("/v1/files/{id}/content"),
            &Err(()),
        )
        .unwrap_or_default();
        assert_eq!(content.as_deref(), Some(&b"{}"[..]));
        let body = Ok(
            json!({"input_file_id": id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}),
        );
        let (batch, _) = handle(&mut store, "POST", "/openai/batches", &body).unwrap_or_default();
        let bid = batch["id"].as_str().unwrap_or_default().to_string();
        let (cancelled, _) = handle(
            &mut store,
            "POST",
            &format!("/v1/batches/{bid}/cancel"),
            &Err(()),
        )
        .unwrap_or_default();
        assert_eq!(cancelled["status"], "cancelling");
        assert!(
            handle(&mut store, "GET", "/v1/batches/nope", &Err(())).is_err_and(|(s, _)| s == 404)
        );
        let unknown = Ok(json!({"input_file_id": "file-x", "endpoint": "/v1/embeddings"}));
        assert!(handle(&mut store, "POST", "/v1/batches", &unknown).is_err_and(|(s, _)| s == 400));
        assert!(handle(&mut store, "DELETE", &format!("/v1/files/{id}"), &Err(())).is_ok());
        assert!(handle(&mut store, "DELETE", &format!("/v1/files/{id}"), &Err(())).is_err());
        assert!(!is_files_path("/v1/chat/completions") && !is_files_path("/v1/filesystem"));
    }
}
