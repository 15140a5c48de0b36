//! The mock's speech answer (`POST .../audio/speech`, Azure's deployment URLs alike):
//! the "audio" is the bytes `MOCKAUDIO:{format}:{voice}:{input}`, with the media type
//! OpenAI sends for the format, so a test can tell exactly what was spoken.

use serde_json::{Map, Value};

use super::openai::{error_body, Reject};

fn bad_request(message: &str, param: &str) -> Reject {
    (
        400,
        error_body(message, "invalid_request_error", Some(param), None),
    )
}

/// The media type OpenAI answers for a speech `response_format`.
fn media_type(format: &str) -> &'static str {
    match format {
        "opus" => "audio/opus",
        "aac" => "audio/aac",
        "flac" => "audio/flac",
        "wav" => "audio/wav",
        "pcm" => "audio/pcm",
        _ => "audio/mpeg",
    }
}

/// A speech answer for `req`: `(media type, audio bytes)`.
pub(crate) fn speech(req: &Map<String, Value>) -> Result<(&'static str, Vec<u8>), Reject> {
    let input = match req.get("input") {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => return Err(bad_request("'input' is a required property.", "input")),
    };
    let voice = match req.get("voice") {
        Some(Value::String(v)) => v.clone(),
        Some(Value::Object(v)) => v
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        _ => return Err(bad_request("'voice' is a required property.", "voice")),
    };
    let format = req
        .get("response_format")
        .and_then(Value::as_str)
        .unwrap_or("mp3");
    let audio = format!("MOCKAUDIO:{format}:{voice}:{input}").into_bytes();
    Ok((media_type(format), audio))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn speaks_the_input_in_the_format_asked_for() {
        let req = |v: Value| match v {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let (ct, audio) = speech(&req(
            json!({"input": "hi", "voice": "alloy", "response_format": "wav"}),
        ))
        .unwrap_or_default();
        assert_eq!(
            (ct, audio.as_slice()),
            ("audio/wav", &b"MOCKAUDIO:wav:alloy:hi"[..])
        );
        assert!(speech(&req(json!({"input": "hi"}))).is_err());
        assert!(speech(&req(json!({"voice": "alloy"}))).is_err());
    }
}
