//! The mock's reading of `multipart/form-data` requests (transcription, image edits,
//! file uploads): recorded as a JSON object so tests see what went over the wire, each
//! text field as its string (`name[]` fields as a list) and each file as
//! `{"filename", "content_type", "size", "sha256", "content"}` (`content` is the bytes
//! as text, lossily, for files up to [`CONTENT_SHOWN`] bytes).

use bytes::Bytes;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Files up to this size are recorded with their content.
const CONTENT_SHOWN: usize = 1024 * 1024;

/// One part: its field name, file name (for a file) and bytes.
pub(crate) type Field = (String, Option<String>, Option<String>, Vec<u8>);

/// The boundary of a `multipart/form-data` content type.
pub(crate) fn boundary_of(content_type: &str) -> Option<String> {
    if !content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return None;
    }
    multer::parse_boundary(content_type).ok()
}

/// Every part of a body, in order; `None` when it is not valid multipart.
pub(crate) async fn fields(bytes: Bytes, boundary: &str) -> Option<Vec<Field>> {
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(bytes) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut out = Vec::new();
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let filename = field.file_name().map(str::to_string);
                let content_type = field.content_type().map(|m| m.to_string());
                let data = field.bytes().await.ok()?;
                out.push((name, filename, content_type, data.to_vec()));
            }
            Ok(None) => return Some(out),
            Err(_) => return None,
        }
    }
}

/// The recorded form of a multipart body.
pub(crate) fn record(fields: &[Field]) -> Value {
    let mut body = Map::new();
    for (name, filename, content_type, data) in fields {
        let value = match filename {
            Some(filename) => {
                let mut file = Map::new();
                file.insert("filename".into(), Value::String(filename.clone()));
                file.insert(
                    "content_type".into(),
                    content_type.clone().map_or(Value::Null, Value::String),
                );
                file.insert("size".into(), Value::from(data.len()));
                let digest = Sha256::digest(data);
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                file.insert("sha256".into(), Value::String(hex));
                if data.len() <= CONTENT_SHOWN {
                    file.insert(
                        "content".into(),
                        Value::String(String::from_utf8_lossy(data).into_owned()),
                    );
                }
                Value::Object(file)
            }
            None => Value::String(String::from_utf8_lossy(data).into_owned()),
        };
        match name.strip_suffix("[]") {
            Some(list) => {
                let entry = body
                    .entry(list.to_string())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = entry {
                    items.push(value);
                }
            }
            None => {
                body.insert(name.clone(), value);
            }
        }
    }
    Value::Object(body)
}
