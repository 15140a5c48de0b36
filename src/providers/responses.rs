//! OpenAI's Responses API on the wire (OpenAI and Azure serve it natively): its stream of
//! typed events. The request is the caller's body as it is and the reply is checked like
//! any OpenAI reply (an `output` list; see `openai::check_reply_body`); the conversion to
//! and from chat for every other provider is `crate::responses`.

use serde_json::{Map, Value};

use super::{ChatContext, Decoded, StreamDecoder};
use crate::error::{map_http_error, redact_key, LlmError};
use crate::stream::chunk::{parse_delta, Interner};
use crate::stream::sse::SseEvent;

/// The event types that end a Responses stream: the server closes the connection after
/// them (there is no `[DONE]`).
pub const FINAL_EVENTS: &[&str] = &["response.completed", "response.incomplete"];

/// Decodes a Responses stream: each SSE event is one JSON event object with a `type`,
/// passed on as it is (the text and function-call-arguments deltas, most of a stream,
/// typed: [`crate::stream::DeltaEvent`]). An `error` event, or `response.failed`, ends
/// the stream with the mapped error (raised from the iterator, never a silent end).
pub struct EventDecoder {
    provider: String,
    model: String,
    api_key: Option<String>,
    strings: Interner,
}

impl EventDecoder {
    pub fn new(ctx: &ChatContext<'_>) -> Self {
        EventDecoder {
            provider: ctx.provider.to_string(),
            model: ctx.requested_model.to_string(),
            api_key: ctx.endpoint.key.clone(),
            strings: Interner::default(),
        }
    }

    fn error(&self, data: &str, event: Map<String, Value>, detail: Option<&Value>) -> LlmError {
        // `error` events carry `code`/`message` at the top; `response.failed` carries them
        // in `response.error`. A numeric code of 400 or more is an HTTP status.
        let status = detail
            .and_then(|e| e.get("code"))
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| *c >= 400)
            .unwrap_or(500);
        let raw = redact_key(data, self.api_key.as_deref());
        let body = detail
            .cloned()
            .map(|e| serde_json::json!({ "error": e }))
            .unwrap_or(Value::Object(event));
        map_http_error(
            status,
            &self.provider,
            &self.model,
            &raw,
            Some(body),
            Vec::new(),
        )
    }
}

impl StreamDecoder for EventDecoder {
    fn decode(&mut self, ev: &SseEvent) -> Result<Decoded, LlmError> {
        let data = ev.data.trim();
        if data == "[DONE]" {
            return Ok(Decoded::Done);
        }
        if data.is_empty() {
            return Ok(Decoded::Chunks(Vec::new()));
        }
        if let Some(delta) = parse_delta(data, &mut self.strings) {
            return Ok(Decoded::Delta(delta));
        }
        let malformed = |what: &str| {
            LlmError::malformed_event(
                &self.provider,
                &self.model,
                what,
                data,
                self.api_key.as_deref(),
            )
        };
        let parsed: Value =
            serde_json::from_str(data).map_err(|e| malformed(&format!("not JSON ({e})")))?;
        let Value::Object(event) = parsed else {
            return Err(malformed("not a JSON object"));
        };
        let kind = event
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if kind == "error" || ev.event.as_deref() == Some("error") {
            let detail = event.get("error").cloned().or_else(|| {
                let mut e = event.clone();
                e.remove("type");
                e.remove("sequence_number");
                Some(Value::Object(e))
            });
            return Err(self.error(data, event, detail.as_ref()));
        }
        if kind == "response.failed" {
            let detail = event.get("response").and_then(|r| r.get("error")).cloned();
            return Err(self.error(data, event, detail.as_ref()));
        }
        if kind.is_empty() {
            return Err(malformed("no 'type'"));
        }
        let last = FINAL_EVENTS.contains(&kind.as_str());
        Ok(Decoded::Events {
            events: vec![event],
            last,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::providers::Endpointkind;
    use crate::test_support::with_chat_ctx;

    fn decode(event: Option<&str>, data: &str) -> Result<Decoded, LlmError> {
        with_chat_ctx(Endpointkind::Responses, "openai", "gpt-x", true, |ctx| {
            EventDecoder::new(ctx).decode(&SseEvent {
                event: event.map(str::to_string),
                data: data.to_string(),
            })
        })
    }

    #[test]
    fn events_pass_through_and_completed_ends_the_stream() {
        let delta = r#"{"type":"response.output_text.delta","delta":"Hi","sequence_number":3}"#;
        match decode(Some("response.output_text.delta"), delta) {
            Ok(Decoded::Events { events, last }) => {
                assert!(!last);
                assert_eq!(events[0]["delta"], "Hi");
            }
            other => panic!("{other:?}"),
        }
        // OpenAI's text delta goes typed, as it came.
        let typed = r#"{"type":"response.output_text.delta","sequence_number":3,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi","logprobs":[]}"#;
        match decode(None, typed) {
            Ok(Decoded::Delta(d)) => {
                assert_eq!(d.delta, "Hi");
                assert_eq!(serde_json::to_string(&d).unwrap(), typed);
            }
            other => panic!("{other:?}"),
        }
        let done = r#"{"type":"response.completed","response":{"id":"resp_1","output":[]}}"#;
        assert!(matches!(
            decode(None, done),
            Ok(Decoded::Events { last: true, .. })
        ));
    }

    #[test]
    fn error_events_and_failed_responses_are_raised() {
        let e = decode(
            Some("error"),
            r#"{"type":"error","code":"rate_limit_exceeded","message":"slow down"}"#,
        )
        .err()
        .unwrap();
        assert!(e.message.contains("slow down"), "{}", e.message);
        let failed = r#"{"type":"response.failed","response":{"error":{"code":"server_error","message":"boom"}}}"#;
        let e = decode(None, failed).err().unwrap();
        assert_eq!(e.kind, ErrorKind::InternalServer);
        assert!(e.message.contains("boom"));
    }

    #[test]
    fn malformed_events_are_refused() {
        for bad in ["not json", "[1]", r#"{"no":"type"}"#] {
            assert!(decode(None, bad).is_err(), "{bad}");
        }
    }
}
