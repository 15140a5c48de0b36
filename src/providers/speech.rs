//! Text to speech (`POST {base}/audio/speech`): OpenAI's JSON body (`model`, `input`,
//! `voice`, `response_format`, `speed`, `instructions`), which Azure serves on its
//! deployment URLs; the reply is the audio itself.
//!
//! The audio travels through the call path as a reply body of its own shape
//! ([`AUDIO_KEY`] holding it in base64, its `content_type`, and the input's length for
//! the cost), so the Router, retries, callbacks and the proxy's spend treat speech like
//! any other call; the Python layer and the proxy route decode it once at the end.

use base64::Engine;
use serde_json::{Map, Value};

use super::WireFormat;
use crate::catalogue::models::{self, number};
use crate::error::LlmError;

/// The reply-body key holding the audio (base64).
pub const AUDIO_KEY: &str = "audio_base64";
/// The reply-body key holding the audio's media type.
pub const CONTENT_TYPE_KEY: &str = "content_type";
/// The reply-body key holding the number of characters spoken (what is priced).
const CHARACTERS_KEY: &str = "input_characters";

/// OpenAI's `response_format`s for speech.
const FORMATS: &[&str] = &["mp3", "opus", "aac", "flac", "wav", "pcm"];

fn bad(message: impl Into<String>) -> LlmError {
    LlmError::bad_request(message)
}

/// Check the provider serves OpenAI's speech API (OpenAI-format providers, Azure).
pub fn check_format(provider: &str, format: WireFormat) -> Result<(), LlmError> {
    if matches!(format, WireFormat::OpenAi | WireFormat::Azure) {
        return Ok(());
    }
    Err(bad(format!(
        "rustllm serves speech for OpenAI-format providers and Azure (POST .../audio/speech), not '{provider}'"
    )))
}

/// Check a speech request before any network call: `input` a non-empty string, `voice`
/// given (a name, or `{"id": ...}` for a custom voice), `response_format` one of
/// OpenAI's, `speed` a number.
pub fn check_request(input: Option<&Value>, body: &Map<String, Value>) -> Result<(), LlmError> {
    match input {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(Value::String(_)) => return Err(bad("speech: input must not be empty")),
        None | Some(Value::Null) => return Err(bad("speech: input is required (a string)")),
        Some(_) => return Err(bad("speech: input must be a string")),
    }
    match body.get("voice") {
        Some(Value::String(v)) if !v.is_empty() => {}
        Some(Value::Object(_)) => {}
        _ => {
            return Err(bad(
                "speech: voice is required (e.g. \"alloy\", or {\"id\": ...} for a custom voice)",
            ))
        }
    }
    if let Some(f) = body.get("response_format").filter(|f| !f.is_null()) {
        if !f.as_str().is_some_and(|f| FORMATS.contains(&f)) {
            return Err(bad(format!(
                "speech: response_format must be one of {}, got {f}",
                FORMATS.join(", ")
            )));
        }
    }
    if let Some(s) = body.get("speed").filter(|s| !s.is_null()) {
        if !s.is_number() {
            return Err(bad(format!("speech: speed must be a number, got {s}")));
        }
    }
    Ok(())
}

/// The reply body for `audio` of `content_type`, spoken from `characters` characters.
pub fn reply_body(audio: &[u8], content_type: &str, characters: usize) -> Map<String, Value> {
    let mut body = Map::with_capacity(3);
    body.insert(
        AUDIO_KEY.into(),
        Value::String(base64::engine::general_purpose::STANDARD.encode(audio)),
    );
    body.insert(CONTENT_TYPE_KEY.into(), Value::String(content_type.into()));
    body.insert(CHARACTERS_KEY.into(), Value::from(characters));
    body
}

/// The audio and its media type from a reply body made by [`reply_body`].
pub fn audio_of(body: &Map<String, Value>) -> Option<(Vec<u8>, String)> {
    let audio = body.get(AUDIO_KEY)?.as_str()?;
    let audio = base64::engine::general_purpose::STANDARD
        .decode(audio)
        .ok()?;
    let content_type = body
        .get(CONTENT_TYPE_KEY)
        .and_then(Value::as_str)
        .unwrap_or("application/octet-stream");
    Some((audio, content_type.to_string()))
}

/// Whether a reply body is speech (what [`cost`] prices).
pub fn is_speech_reply(body: &Map<String, Value>) -> bool {
    body.contains_key(AUDIO_KEY)
}

/// What a speech call cost, as LiteLLM prices it: `input_cost_per_character` times the
/// characters spoken. `None` for a model the catalogue does not price per character.
pub fn cost(body: &Map<String, Value>, provider: &str, model: &str) -> Option<f64> {
    let characters = body.get(CHARACTERS_KEY).and_then(Value::as_f64)?;
    let provider = Some(provider).filter(|p| !p.is_empty());
    let found = models::lookup(model, provider)?;
    let per_character = number(&found.entry, "input_cost_per_character")?;
    Some(per_character * characters)
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
        let voice = obj(json!({"voice": "alloy"}));
        assert!(check_request(Some(&json!("hello")), &voice).is_ok());
        for bad in [json!(""), json!(3), Value::Null] {
            assert!(check_request(Some(&bad), &voice).is_err(), "{bad}");
        }
        assert!(check_request(Some(&json!("x")), &Map::new()).is_err());
        let wrong = obj(json!({"voice": "alloy", "response_format": "mp4"}));
        assert!(check_request(Some(&json!("x")), &wrong).is_err());
        let wrong = obj(json!({"voice": "alloy", "speed": "fast"}));
        assert!(check_request(Some(&json!("x")), &wrong).is_err());
        assert!(check_format("gemini", WireFormat::Gemini).is_err());
    }

    #[test]
    fn audio_round_trips_and_is_priced_per_character() {
        let body = reply_body(&[0, 1, 2, 255], "audio/mpeg", 11);
        assert_eq!(
            audio_of(&body),
            Some((vec![0, 1, 2, 255], "audio/mpeg".to_string()))
        );
        assert!(is_speech_reply(&body));
        let c = cost(&body, "openai", "tts-1").unwrap_or_default();
        assert!((c - 11.0 * 1.5e-05).abs() < 1e-12, "{c}");
        assert_eq!(cost(&body, "openai", "no-such-tts"), None);
    }
}
