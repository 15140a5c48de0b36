//! Outgoing `multipart/form-data` bodies (transcription, image edits, file uploads),
//! streamed from disk.
//!
//! A file travels through the call path as a small object in the request body,
//! `{"path": "/tmp/a.mp3", "filename": "a.mp3", "content_type": "audio/mpeg"}` (see
//! [`FilePart::from_value`]); the bytes are read from `path` in [`CHUNK`]-sized pieces
//! as the transport sends them, once per attempt, so a 20 MB upload is never held in
//! memory (let alone twice). The body's length is known before sending (the file's
//! size plus the framing), so it goes out with a `Content-Length`, as the openai SDK
//! sends it.

use std::path::PathBuf;

use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, StreamExt};
use serde_json::{Map, Value};
use tokio::io::AsyncReadExt;

use crate::error::LlmError;

/// How much of a file is read per piece of the body.
pub const CHUNK: usize = 64 * 1024;

/// One file to upload.
#[derive(Debug, Clone, PartialEq)]
pub struct FilePart {
    /// Where the bytes are read from.
    pub path: PathBuf,
    /// The file name sent (`filename=` of the part); the provider tells the audio or
    /// image format by its extension.
    pub filename: String,
    /// The part's media type.
    pub content_type: String,
    /// The file's size when the request was prepared.
    pub len: u64,
}

impl FilePart {
    /// Read a file object (`{"path", "filename"?, "content_type"?}`) and check that its
    /// path is a readable regular file; `what` names the parameter in errors.
    pub fn from_value(value: &Value, what: &str) -> Result<FilePart, LlmError> {
        let bad = |m: String| LlmError::bad_request(m);
        let Some(obj) = value.as_object() else {
            return Err(bad(format!(
                "{what} must be a file: an open file, a path, bytes or a (filename, bytes) tuple; got {}",
                kind_of(value)
            )));
        };
        let path = match obj.get("path") {
            Some(Value::String(p)) if !p.is_empty() => PathBuf::from(p),
            _ => return Err(bad(format!("{what}: the file object names no path"))),
        };
        let meta = std::fs::metadata(&path).map_err(|e| {
            bad(format!(
                "{what}: cannot read the file {}: {e}",
                path.display()
            ))
        })?;
        if !meta.is_file() {
            return Err(bad(format!(
                "{what}: {} is not a regular file",
                path.display()
            )));
        }
        let filename = match obj.get("filename") {
            Some(Value::String(f)) if !f.is_empty() => f.clone(),
            _ => path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| "file".into()),
        };
        if filename.contains(['"', '\r', '\n']) {
            return Err(bad(format!(
                "{what}: the file name must not contain quotes or line breaks"
            )));
        }
        let content_type = match obj.get("content_type") {
            Some(Value::String(c)) if !c.is_empty() && crate::types::check::is_header_value(c) => {
                c.clone()
            }
            _ => media_type_of(&filename).to_string(),
        };
        Ok(FilePart {
            path,
            filename,
            content_type,
            len: meta.len(),
        })
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "None",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a dict",
    }
}

/// Whether a body value is a file object (what [`FilePart::from_value`] reads).
pub fn is_file(v: &Value) -> bool {
    v.as_object().is_some_and(|o| o.contains_key("path"))
}

/// The media type the openai SDK would send for a file name, by its extension.
pub fn media_type_of(filename: &str) -> &'static str {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "mp3" | "mpga" | "mpeg" => "audio/mpeg",
        "mp4" | "m4a" => "audio/mp4",
        "wav" => "audio/wav",
        "webm" => "audio/webm",
        "ogg" | "oga" => "audio/ogg",
        "flac" => "audio/flac",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "jsonl" => "application/jsonl",
        "json" => "application/json",
        "txt" => "text/plain",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

enum Piece {
    Bytes(Bytes),
    File(FilePart),
}

/// A multipart body ready to send: text fields and files in the body's order.
pub struct Form {
    boundary: String,
    pieces: Vec<Piece>,
    len: u64,
}

impl Form {
    /// The form for a request body: a file object becomes a file part, a list of them
    /// one part each under `name[]` (OpenAI's `image[]`); a list of scalars one text
    /// field each under `name[]` (`timestamp_granularities[]`); a nested object its
    /// JSON; a string as it is, a number or bool as written; `None` is left out.
    pub fn from_body(body: &Map<String, Value>) -> Result<Form, LlmError> {
        let boundary = format!("rustllm-{}", uuid::Uuid::new_v4().simple());
        let mut form = Form {
            boundary,
            pieces: Vec::new(),
            len: 0,
        };
        for (name, value) in body {
            match value {
                Value::Null => {}
                v if is_file(v) => form.file(name, FilePart::from_value(v, name)?),
                Value::Array(items) if items.iter().any(is_file) => {
                    for item in items {
                        form.file(&format!("{name}[]"), FilePart::from_value(item, name)?);
                    }
                }
                Value::Array(items) => {
                    for item in items {
                        form.text(&format!("{name}[]"), &scalar(item));
                    }
                }
                v => form.text(name, &scalar(v)),
            }
        }
        let close = Bytes::from(format!("--{}--\r\n", form.boundary));
        form.push(Piece::Bytes(close));
        Ok(form)
    }

    fn push(&mut self, piece: Piece) {
        self.len += match &piece {
            Piece::Bytes(b) => b.len() as u64,
            Piece::File(f) => f.len,
        };
        self.pieces.push(piece);
    }

    fn text(&mut self, name: &str, value: &str) {
        let head = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{value}\r\n",
            self.boundary,
            escape(name)
        );
        self.push(Piece::Bytes(Bytes::from(head)));
    }

    fn file(&mut self, name: &str, part: FilePart) {
        let head = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            self.boundary,
            escape(name),
            part.filename,
            part.content_type
        );
        self.push(Piece::Bytes(Bytes::from(head)));
        self.push(Piece::File(part));
        self.push(Piece::Bytes(Bytes::from_static(b"\r\n")));
    }

    /// The `Content-Type` header value.
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// The body's exact length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the body is empty (never: it has at least its closing line).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The body as a stream: the framing from memory, each file read from disk in
    /// [`CHUNK`]s as it is sent. A file that shrank or vanished since the request was
    /// prepared fails the request (its length was promised).
    pub fn into_stream(
        self,
    ) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
        stream::iter(self.pieces).flat_map(|piece| match piece {
            Piece::Bytes(b) => stream::once(async move { Ok(b) }).boxed(),
            Piece::File(f) => file_stream(f).boxed(),
        })
    }
}

/// A file's bytes in [`CHUNK`]s, exactly `part.len` of them.
fn file_stream(
    part: FilePart,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    enum St {
        Start(FilePart),
        Reading(tokio::fs::File, u64, PathBuf),
        Done,
    }
    stream::unfold(St::Start(part), |st| async move {
        let (mut file, left, path) = match st {
            St::Done => return None,
            St::Start(p) => match tokio::fs::File::open(&p.path).await {
                Ok(f) => (f, p.len, p.path),
                Err(e) => return Some((Err(e), St::Done)),
            },
            St::Reading(f, left, path) => (f, left, path),
        };
        if left == 0 {
            return None;
        }
        let want = left.min(CHUNK as u64) as usize;
        let mut buf = BytesMut::zeroed(want);
        let mut got = 0;
        while got < want {
            match file.read(&mut buf[got..]).await {
                Ok(0) => {
                    let e = std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!("{} shrank while it was being uploaded", path.display()),
                    );
                    return Some((Err(e), St::Done));
                }
                Ok(n) => got += n,
                Err(e) => return Some((Err(e), St::Done)),
            }
        }
        Some((
            Ok(buf.freeze()),
            St::Reading(file, left - want as u64, path),
        ))
    })
}

/// A text field's value: a string as it is, anything else as JSON.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A field name with the characters that would break its quoting percent-escaped.
fn escape(name: &str) -> String {
    name.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
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

    fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "rustllm-mp-{}-{name}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&path, bytes).unwrap_or_default();
        path
    }

    async fn collect(form: Form) -> Result<Vec<u8>, std::io::Error> {
        let mut out = Vec::new();
        let mut s = Box::pin(form.into_stream());
        while let Some(piece) = s.next().await {
            out.extend_from_slice(&piece?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn the_body_is_framed_and_its_length_exact() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let path = temp_file("a.wav", &data);
        let body = obj(json!({
            "model": "whisper-1",
            "file": {"path": path.to_string_lossy(), "filename": "a.wav"},
            "temperature": 0.5,
            "timestamp_granularities": ["word", "segment"],
            "language": null,
        }));
        let form = Form::from_body(&body).unwrap_or_else(|_| Form {
            boundary: String::new(),
            pieces: Vec::new(),
            len: 0,
        });
        let boundary = form.boundary.clone();
        assert_eq!(
            form.content_type(),
            format!("multipart/form-data; boundary={boundary}")
        );
        let len = form.len();
        let bytes = collect(form).await.unwrap_or_default();
        std::fs::remove_file(&path).unwrap_or_default();
        assert_eq!(bytes.len() as u64, len);
        // Parsed back by the same parser the proxy and the mock use.
        let parts = crate::mock::multipart_fields(&bytes, &boundary).await;
        let names: Vec<&str> = parts.iter().map(|(n, ..)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "model",
                "file",
                "temperature",
                "timestamp_granularities[]",
                "timestamp_granularities[]"
            ]
        );
        assert_eq!(parts[1].1.as_deref(), Some("a.wav"));
        assert_eq!(parts[1].2.as_deref(), Some("audio/wav"));
        assert_eq!(parts[1].3, data);
        assert_eq!(parts[2].3, b"0.5");
        assert_eq!(parts[4].3, b"segment");
    }

    #[test]
    fn bad_files_are_refused_before_sending() {
        for bad in [
            json!("a.mp3"),
            json!({"filename": "a.mp3"}),
            json!({"path": "/no/such/file.mp3"}),
            json!({"path": "/"}),
        ] {
            let err = FilePart::from_value(&bad, "file").err();
            assert!(
                err.is_some_and(|e| e.kind == crate::error::ErrorKind::BadRequest),
                "{bad}"
            );
        }
        let path = temp_file("x.mp3", b"abc");
        let ok = FilePart::from_value(&json!({"path": path.to_string_lossy()}), "file");
        std::fs::remove_file(&path).unwrap_or_default();
        let ok = ok.ok();
        assert_eq!(ok.as_ref().map(|p| p.len), Some(3));
        assert_eq!(ok.map(|p| p.content_type), Some("audio/mpeg".to_string()));
    }

    #[tokio::test]
    async fn a_file_that_shrinks_fails_the_upload() {
        let path = temp_file("s.mp3", b"0123456789");
        let body = obj(json!({"file": {"path": path.to_string_lossy()}}));
        let form = Form::from_body(&body);
        std::fs::write(&path, b"01").unwrap_or_default();
        let result = match form {
            Ok(f) => collect(f).await,
            Err(_) => Ok(Vec::new()),
        };
        std::fs::remove_file(&path).unwrap_or_default();
        assert!(result.is_err());
    }
}
