//! The mock's speech answer (`POST .../audio/speech`, Azure's deployment URLs alike):
//! the "audio" is the bytes `MOCKAUDIO:{format}:{voice}:{input}`, with the media type
//! OpenAI sends for the format, so a test can tell exactly what was spoken.
//!
//! Its transcription (`POST .../audio/transcriptions`, multipart) is the text
//! `MOCKTRANSCRIPT:{filename}:{size}:{language}:{prompt}` in the `response_format` asked
//! for (json, text, srt, vtt, verbose_json), the audio taken to last one second per
//! [`BYTES_PER_SECOND`] bytes (128 kbit/s), so a test can tell which file arrived whole.

use serde_json::{json, Map, Value};

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

/// The audio's length the mock assumes: one second per this many bytes.
pub(crate) const BYTES_PER_SECOND: f64 = 16_000.0;

/// A transcription answer for `req` (the recorded multipart fields): `Ok` a JSON body,
/// `Err` a plain-text one (response_format text, srt, vtt).
pub(crate) fn transcription(req: &Map<String, Value>) -> Result<Result<Value, String>, Reject> {
    let Some(file) = req.get("file").and_then(Value::as_object) else {
        return Err(bad_request(
            "'file' is a required property (a file part).",
            "file",
        ));
    };
    if req
        .get("model")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(bad_request("'model' is a required property.", "model"));
    }
    let filename = file.get("filename").and_then(Value::as_str).unwrap_or("");
    let size = file.get("size").and_then(Value::as_u64).unwrap_or(0);
    let text_of = |k: &str| req.get(k).and_then(Value::as_str).unwrap_or("");
    let language = text_of("language");
    let text = format!(
        "MOCKTRANSCRIPT:{filename}:{size}:{language}:{}",
        text_of("prompt")
    );
    let duration = (size as f64 / BYTES_PER_SECOND * 100.0).round() / 100.0;
    let format = req
        .get("response_format")
        .and_then(Value::as_str)
        .unwrap_or("json");
    Ok(match format {
        "text" => Err(text),
        "srt" => Err(format!("1\n00:00:00,000 --> 00:00:01,000\n{text}\n\n")),
        "vtt" => Err(format!(
            "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n{text}\n\n"
        )),
        "verbose_json" => {
            let granular = |g: &str| {
                req.get("timestamp_granularities")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|v| v == g))
            };
            let mut body = json!({
                "task": "transcribe",
                "language": if language.is_empty() { "english" } else { language },
                "duration": duration,
                "text": text,
                "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": duration, "text": text,
                    "tokens": [1], "temperature": 0.0, "avg_logprob": -0.1,
                    "compression_ratio": 1.0, "no_speech_prob": 0.0}],
            });
            if granular("word") {
                body["words"] = json!([{"word": text, "start": 0.0, "end": duration}]);
            }
            Ok(body)
        }
        "json" => {
            Ok(json!({"text": text, "usage": {"type": "duration", "seconds": duration.ceil()}}))
        }
        other => {
            return Err(bad_request(
                &format!("Invalid response_format '{other}'."),
                "response_format",
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
