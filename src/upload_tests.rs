//! Uploads over the real call path (`call::prepare` + `call::run`) against the mock:
//! what went over the wire (the multipart fields, the file whole, a `Content-Length`)
//! and what came back.
// A failed assertion in a test is the point of the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::call;
use crate::catalogue::cost::CustomPrices;
use crate::error::ErrorKind;
use crate::mock::{MockServer, ScriptedResponse};
use crate::providers::Endpointkind;

struct TempFile(PathBuf, String);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "rustllm-up-{}-{name}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path, name.to_string())
    }

    fn value(&self) -> Value {
        json!({"path": self.0.to_string_lossy(), "filename": self.1})
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn kwargs(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn a_transcription_uploads_the_whole_file_and_reads_every_format() {
    let server = MockServer::start().unwrap();
    let audio: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let file = TempFile::new("talk.mp3", &audio);
    let p = call::prepare(
        Endpointkind::Transcription,
        kwargs(json!({
            "model": "whisper-1", "file": file.value(), "api_key": "sk-test",
            "api_base": server.base_url(), "language": "en", "prompt": "names",
            "response_format": "verbose_json", "temperature": 0.1,
            "timestamp_granularities": ["word"],
        })),
    )
    .unwrap();
    let reply = call::run(p).await.unwrap();
    let expected = "MOCKTRANSCRIPT:talk.mp3:3000000:en:names";
    assert_eq!(reply.body["text"], expected);
    assert_eq!(reply.body["duration"], 187.5);
    assert_eq!(reply.body["words"][0]["word"], expected);
    let cost = reply.cost(&CustomPrices::default()).unwrap();
    assert!((cost - 187.5 * 0.0001).abs() < 1e-12, "{cost}");

    let req = &server.requests()[0];
    assert_eq!(req.path, "/v1/audio/transcriptions");
    assert!(req
        .header("content-type")
        .unwrap()
        .starts_with("multipart/form-data; boundary="));
    assert_eq!(req.header("authorization"), Some("Bearer sk-test"));
    let declared: u64 = req.header("content-length").unwrap().parse().unwrap();
    assert!(declared > 3_000_000 && declared < 3_002_000, "{declared}");
    assert_eq!(req.body["model"], "whisper-1");
    assert_eq!(req.body["language"], "en");
    assert_eq!(req.body["temperature"], "0.1");
    assert_eq!(req.body["timestamp_granularities"], json!(["word"]));
    assert_eq!(req.body["file"]["filename"], "talk.mp3");
    assert_eq!(req.body["file"]["content_type"], "audio/mpeg");
    assert_eq!(req.body["file"]["size"], 3_000_000);
    assert_eq!(req.body["file"]["sha256"], hex(&audio).as_str());

    for (format, starts) in [
        ("text", "MOCKTRANSCRIPT"),
        ("srt", "1\n"),
        ("vtt", "WEBVTT"),
    ] {
        let p = call::prepare(
            Endpointkind::Transcription,
            kwargs(
                json!({"model": "whisper-1", "file": file.value(), "api_key": "k",
                "api_base": server.base_url(), "response_format": format}),
            ),
        )
        .unwrap();
        let reply = call::run(p).await.unwrap();
        assert!(
            reply.body["text"].as_str().unwrap().starts_with(starts),
            "{format}: {:?}",
            reply.body
        );
        assert_eq!(reply.body.len(), 1, "{format}");
    }
}

#[tokio::test]
async fn a_retried_upload_sends_the_file_again_and_azure_uses_its_deployment_url() {
    let server = MockServer::start().unwrap();
    let file = TempFile::new("a.wav", b"RIFF-some-audio");
    server.push(ScriptedResponse {
        status: 500,
        ..Default::default()
    });
    let p = call::prepare(
        Endpointkind::Transcription,
        kwargs(
            json!({"model": "azure/my-whisper", "file": file.value(), "api_key": "az",
            "api_base": server.url(), "api_version": "2024-06-01"}),
        ),
    )
    .unwrap();
    let reply = call::run(p).await.unwrap();
    assert_eq!(reply.body["text"], "MOCKTRANSCRIPT:a.wav:15::");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for req in &requests {
        assert_eq!(
            req.path,
            "/openai/deployments/my-whisper/audio/transcriptions"
        );
        assert_eq!(req.query, "api-version=2024-06-01");
        assert_eq!(req.body["file"]["content"], "RIFF-some-audio");
        assert_eq!(req.header("api-key"), Some("az"));
    }
}

#[tokio::test]
async fn bad_transcriptions_fail_before_the_network() {
    let server = MockServer::start().unwrap();
    let file = TempFile::new("a.mp3", b"x");
    for bad in [
        json!({"model": "whisper-1"}),
        json!({"model": "whisper-1", "file": "a.mp3"}),
        json!({"model": "whisper-1", "file": {"path": "/no/such.mp3"}}),
        json!({"model": "whisper-1", "file": file.value(), "response_format": "mp3"}),
        json!({"model": "anthropic/claude-3-5-sonnet", "file": file.value()}),
    ] {
        let mut k = kwargs(bad.clone());
        k.insert("api_key".into(), json!("k"));
        k.insert("api_base".into(), json!(server.base_url()));
        let err = call::prepare(Endpointkind::Transcription, k).err();
        assert!(
            err.as_ref()
                .is_some_and(|e| e.kind == ErrorKind::BadRequest),
            "{bad}: {err:?}"
        );
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn files_and_batches_go_over_the_wire_for_openai_and_azure() {
    use crate::files::{self, FilesOp};
    let server = MockServer::start().unwrap();
    let jsonl = b"{\"custom_id\": \"1\"}\n";
    let file = TempFile::new("in.jsonl", jsonl);
    let run = |op, args: Value| files::run(op, kwargs(args));
    let openai = |extra: Value| {
        let mut k = kwargs(json!({"api_base": server.base_url(), "api_key": "sk-f"}));
        k.extend(kwargs(extra));
        Value::Object(k)
    };
    let created = run(
        FilesOp::CreateFile,
        openai(json!({"file": file.value(), "purpose": "batch"})),
    )
    .await
    .unwrap();
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(created.body["filename"], "in.jsonl");
    let req = server.requests().pop().unwrap();
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/v1/files")
    );
    assert_eq!(req.header("authorization"), Some("Bearer sk-f"));
    assert_eq!(req.body["purpose"], "batch");
    assert_eq!(req.body["file"]["sha256"], hex(jsonl).as_str());

    let content = run(FilesOp::FileContent, openai(json!({"file_id": id})))
        .await
        .unwrap();
    let (bytes, _) = crate::providers::speech::audio_of(&content.body).unwrap();
    assert_eq!(bytes, jsonl);
    let listed = run(FilesOp::ListFiles, openai(json!({"purpose": "batch"})))
        .await
        .unwrap();
    assert_eq!(listed.body["data"][0]["id"], id.as_str());
    assert_eq!(server.requests().pop().unwrap().query, "purpose=batch");

    let batch = run(
        FilesOp::CreateBatch,
        openai(json!({"input_file_id": id, "endpoint": "/v1/chat/completions", "metadata": {"k": "v"}})),
    )
    .await
    .unwrap();
    let req = server.requests().pop().unwrap();
    assert_eq!(req.path, "/v1/batches");
    assert_eq!(
        req.body,
        json!({"input_file_id": id, "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": {"k": "v"}})
    );
    let bid = batch.body["id"].as_str().unwrap().to_string();
    let cancelled = run(FilesOp::CancelBatch, openai(json!({"batch_id": bid})))
        .await
        .unwrap();
    assert_eq!(cancelled.body["status"], "cancelling");
    let err = run(
        FilesOp::RetrieveBatch,
        openai(json!({"batch_id": "batch_nope"})),
    )
    .await
    .unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::NotFound, 404));
    let deleted = run(FilesOp::DeleteFile, openai(json!({"file_id": id})))
        .await
        .unwrap();
    assert_eq!(deleted.body["deleted"], true);
    assert_eq!(server.requests().pop().unwrap().method, "DELETE");

    // Azure: /openai/files with the api-version and the api-key header.
    run(
        FilesOp::ListBatches,
        json!({"custom_llm_provider": "azure", "api_base": server.url(), "api_key": "az", "api_version": "2025-03-01-preview", "limit": 5}),
    )
    .await
    .unwrap();
    let req = server.requests().pop().unwrap();
    assert_eq!(req.path, "/openai/batches");
    assert_eq!(req.query, "api-version=2025-03-01-preview&limit=5");
    assert_eq!(req.header("api-key"), Some("az"));

    // Bad input and unserved providers fail before any request.
    let before = server.requests().len();
    for (op, args) in [
        (
            FilesOp::CreateFile,
            openai(json!({"file": file.value(), "purpose": "homework"})),
        ),
        (FilesOp::RetrieveFile, openai(json!({"file_id": "a/../b"}))),
        (
            FilesOp::ListFiles,
            json!({"custom_llm_provider": "anthropic", "api_key": "k"}),
        ),
    ] {
        let err = run(op, args).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadRequest, "{err:?}");
    }
    assert_eq!(server.requests().len(), before);
}
