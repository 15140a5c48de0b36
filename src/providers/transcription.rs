//! Audio transcription (`POST {base}/audio/transcriptions`): OpenAI's multipart request
//! (`file`, `model`, `language`, `prompt`, `response_format`, `temperature`,
//! `timestamp_granularities[]`), which Azure serves on its deployment URLs and Groq on
//! its OpenAI-compatible base. The file is streamed from disk (`multipart.rs`).
//!
//! The reply is OpenAI's JSON (`json`, `verbose_json`) or plain text (`text`, `srt`,
//! `vtt`), which LiteLLM hands back as `TranscriptionResponse(text=...)`; both arrive
//! here as a JSON object with `text`. Cost is LiteLLM's: per second of audio (the
//! reply's `duration`, or `usage.seconds`) for whisper-style models, per token from
//! `usage` for the gpt-4o transcribe models.

use serde_json::{Map, Value};

use super::multipart::FilePart;
use super::WireFormat;
use crate::catalogue::cost::{self, CustomPrices};
use crate::catalogue::models::{self, number};
use crate::error::LlmError;

/// OpenAI's `response_format`s for transcription.
pub const FORMATS: &[&str] = &["json", "text", "srt", "verbose_json", "vtt"];
/// The formats answered as plain text.
pub const TEXT_FORMATS: &[&str] = &["text", "srt", "vtt"];

fn bad(message: impl Into<String>) -> LlmError {
    LlmError::bad_request(message)
}

/// Check the provider serves OpenAI's transcription API (OpenAI-format providers, such
/// as OpenAI and Groq, and Azure).
pub fn check_format(provider: &str, format: WireFormat) -> Result<(), LlmError> {
    if matches!(format, WireFormat::OpenAi | WireFormat::Azure) {
        return Ok(());
    }
    Err(bad(format!(
        "rustllm serves transcription for OpenAI-format providers (OpenAI, Groq, ...) and Azure (POST .../audio/transcriptions), not '{provider}'"
    )))
}

/// Check a transcription request before any network call: `file` a readable file,
/// `prompt` and `language` strings, `response_format` one of OpenAI's, `temperature` a
/// number, `timestamp_granularities` a list of "word" / "segment".
pub fn check_request(
    file: Option<&Value>,
    prompt: Option<&Value>,
    body: &Map<String, Value>,
) -> Result<(), LlmError> {
    if let Some(p) = prompt.filter(|p| !p.is_null() && !p.is_string()) {
        return Err(bad(format!(
            "transcription: prompt must be a string, got {p}"
        )));
    }
    match file {
        None | Some(Value::Null) => {
            return Err(bad(
                "transcription: file is required (an open file, a path, bytes or a (filename, bytes) tuple)",
            ))
        }
        Some(f) => {
            FilePart::from_value(f, "transcription: file")?;
        }
    }
    if let Some(f) = body.get("response_format").filter(|f| !f.is_null()) {
        if !f.as_str().is_some_and(|f| FORMATS.contains(&f)) {
            return Err(bad(format!(
                "transcription: response_format must be one of {}, got {f}",
                FORMATS.join(", ")
            )));
        }
    }
    if let Some(t) = body.get("temperature").filter(|t| !t.is_null()) {
        if !t.is_number() {
            return Err(bad(format!(
                "transcription: temperature must be a number, got {t}"
            )));
        }
    }
    if let Some(g) = body.get("timestamp_granularities").filter(|g| !g.is_null()) {
        let ok = g.as_array().is_some_and(|a| {
            a.iter()
                .all(|v| v.as_str().is_some_and(|s| s == "word" || s == "segment"))
        });
        if !ok {
            return Err(bad(format!(
                "transcription: timestamp_granularities must be a list of \"word\" and/or \"segment\", got {g}"
            )));
        }
    }
    if let Some(v) = body.get("language").filter(|v| !v.is_null()) {
        if !v.is_string() {
            return Err(bad(format!(
                "transcription: language must be a string, got {v}"
            )));
        }
    }
    Ok(())
}

/// The reply body of a transcription: a JSON object as it is (it must carry `text`), a
/// plain-text answer (text, srt, vtt) as `{"text": ...}`, as LiteLLM wraps it. `None`
/// for a JSON reply that is not an object with `text`.
pub fn parse_reply(bytes: &[u8], content_type: &str) -> Option<Map<String, Value>> {
    let is_json = content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    if is_json {
        return match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) if map.get("text").is_some_and(Value::is_string) => Some(map),
            _ => None,
        };
    }
    let mut body = Map::with_capacity(1);
    body.insert(
        "text".into(),
        Value::String(String::from_utf8_lossy(bytes).into_owned()),
    );
    Some(body)
}

/// Whether a reply body is a transcription's (what [`cost`] prices): `text` at the top,
/// and none of the keys of the other replies that carry text.
pub fn is_transcription_reply(body: &Map<String, Value>) -> bool {
    body.get("text").is_some_and(Value::is_string)
        && !body.contains_key("object")
        && !body.contains_key("choices")
}

/// The audio's duration in seconds a reply reports: `duration` (verbose_json), else
/// `usage.seconds` (OpenAI's duration usage).
pub fn duration_of(body: &Map<String, Value>) -> Option<f64> {
    body.get("duration").and_then(Value::as_f64).or_else(|| {
        body.get("usage")
            .filter(|u| u.get("type").and_then(Value::as_str) != Some("tokens"))
            .and_then(|u| u.get("seconds"))
            .and_then(Value::as_f64)
    })
}

/// What a transcription cost, as LiteLLM prices it: token usage (gpt-4o transcribe
/// models) per token; else the duration times the model's per-second price (the output
/// price when set and not zero, else the input price). `None` when the reply reports
/// neither, or the catalogue does not price the model.
pub fn cost(
    body: &Map<String, Value>,
    provider: &str,
    model: &str,
    custom: &CustomPrices,
) -> Option<f64> {
    if let Some(usage) = body
        .get("usage")
        .filter(|u| u.get("type").and_then(Value::as_str) == Some("tokens"))
    {
        return cost::response_cost(&[model], provider, usage, None, custom);
    }
    let seconds = duration_of(body)?;
    let per_second = match (custom.output_cost_per_second, custom.input_cost_per_second) {
        (Some(p), _) | (None, Some(p)) => p,
        (None, None) => {
            let found = models::lookup(model, Some(provider).filter(|p| !p.is_empty()))?;
            number(&found.entry, "output_cost_per_second")
                .filter(|p| *p != 0.0)
                .or_else(|| number(&found.entry, "input_cost_per_second"))?
        }
    };
    Some(per_second * seconds)
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
    fn requests_are_checked() {
        let path =
            std::env::temp_dir().join(format!("rustllm-tr-{}.mp3", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, b"abc").unwrap_or_default();
        let file = json!({"path": path.to_string_lossy()});
        assert!(check_request(Some(&file), None, &Map::new()).is_ok());
        assert!(check_request(None, None, &Map::new()).is_err());
        assert!(check_request(Some(&json!("abc")), None, &Map::new()).is_err());
        assert!(check_request(Some(&file), Some(&json!(3)), &Map::new()).is_err());
        for bad in [
            json!({"response_format": "mp3"}),
            json!({"response_format": 3}),
            json!({"temperature": "hot"}),
            json!({"timestamp_granularities": "word"}),
            json!({"timestamp_granularities": ["char"]}),
            json!({"language": 1}),
        ] {
            assert!(
                check_request(Some(&file), None, &obj(bad.clone())).is_err(),
                "{bad}"
            );
        }
        let ok = obj(
            json!({"response_format": "verbose_json", "temperature": 0.2,
            "timestamp_granularities": ["word", "segment"], "language": "en"}),
        );
        assert!(check_request(Some(&file), Some(&json!("names")), &ok).is_ok());
        std::fs::remove_file(&path).unwrap_or_default();
        assert!(check_format("anthropic", WireFormat::Anthropic).is_err());
        assert!(check_format("groq", WireFormat::OpenAi).is_ok());
    }

    #[test]
    fn replies_are_read_in_every_format() {
        let json_reply = parse_reply(br#"{"text": "hi", "duration": 2.5}"#, "application/json");
        assert_eq!(json_reply.as_ref().and_then(duration_of), Some(2.5));
        let text = parse_reply(b"1\n00:00 --> 00:01\nhi\n", "text/plain; charset=utf-8");
        assert_eq!(
            text.as_ref()
                .and_then(|b| b.get("text"))
                .and_then(Value::as_str),
            Some("1\n00:00 --> 00:01\nhi\n")
        );
        assert!(parse_reply(b"[1]", "application/json").is_none());
        assert!(parse_reply(br#"{"nope": 1}"#, "application/json").is_none());
    }

    #[test]
    fn priced_per_second_or_per_token() {
        let free = CustomPrices::default();
        let body = obj(json!({"text": "x", "duration": 30.0}));
        assert!(is_transcription_reply(&body));
        let c = cost(&body, "openai", "whisper-1", &free).unwrap_or_default();
        assert!((c - 30.0 * 0.0001).abs() < 1e-12, "{c}");
        let body = obj(json!({"text": "x", "usage": {"type": "duration", "seconds": 10}}));
        let c = cost(&body, "openai", "whisper-1", &free).unwrap_or_default();
        assert!((c - 10.0 * 0.0001).abs() < 1e-12, "{c}");
        let body = obj(
            json!({"text": "x", "usage": {"type": "tokens", "input_tokens": 1000,
            "output_tokens": 100, "total_tokens": 1100}}),
        );
        let c = cost(&body, "openai", "gpt-4o-transcribe", &free).unwrap_or_default();
        assert!(
            (c - (1000.0 * 2.5e-06 + 100.0 * 1e-05)).abs() < 1e-12,
            "{c}"
        );
        assert_eq!(
            cost(&obj(json!({"text": "x"})), "openai", "whisper-1", &free),
            None
        );
        let custom = CustomPrices {
            input_cost_per_second: Some(0.5),
            ..Default::default()
        };
        let body = obj(json!({"text": "x", "duration": 4.0}));
        assert_eq!(cost(&body, "openai", "whisper-1", &custom), Some(2.0));
        assert!(!is_transcription_reply(&obj(
            json!({"text": "x", "object": "response"})
        )));
    }
}
