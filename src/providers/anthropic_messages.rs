//! Anthropic's Messages API passed through (`anthropic_messages` to Anthropic, and to
//! Vertex AI's Claude through `vertex.rs`): the caller's body goes as it is, the reply
//! comes back as it is (checked to be a message), and the stream's events are passed on
//! unchanged. The translation for every other provider is `crate::messages`.

use serde_json::{Map, Value};

use super::anthropic::{headers, map_error, messages_url};
use super::{ChatContext, Decoded, HttpRequest, StreamDecoder};
use crate::error::LlmError;
use crate::stream::sse::SseEvent;

/// The request: `{base}/v1/messages`, `x-api-key` and `anthropic-version`, the body as
/// the caller wrote it (its `model` without the provider prefix).
pub fn build_request(ctx: &ChatContext<'_>, body: Map<String, Value>) -> HttpRequest {
    HttpRequest {
        url: messages_url(&ctx.endpoint.base),
        headers: headers(ctx.endpoint.key.as_deref()),
        body,
    }
}

/// The reply, which must be a message (`"type": "message"` with a `content` list);
/// returned as it is.
pub fn parse_reply(
    ctx: &ChatContext<'_>,
    body: Map<String, Value>,
) -> Result<Map<String, Value>, LlmError> {
    let is_message = matches!(body.get("content"), Some(Value::Array(_)))
        && body.get("type").and_then(Value::as_str) == Some("message");
    if !is_message {
        return Err(super::malformed_reply(
            ctx,
            "not an Anthropic message (no \"type\": \"message\" with a 'content' list)",
            &body,
        ));
    }
    Ok(body)
}

/// Decodes a Messages stream: each SSE event is one JSON event with a `type`, passed on
/// as it is; `ping`s are left out; `message_stop` ends the stream; an `error` event ends
/// it with the mapped error (raised from the iterator, never a silent end).
pub struct EventDecoder {
    provider: String,
    model: String,
    api_key: Option<String>,
}

impl EventDecoder {
    pub fn new(ctx: &ChatContext<'_>) -> Self {
        EventDecoder {
            provider: ctx.provider.to_string(),
            model: ctx.requested_model.to_string(),
            api_key: ctx.endpoint.key.clone(),
        }
    }
}

impl StreamDecoder for EventDecoder {
    fn decode(&mut self, ev: &SseEvent) -> Result<Decoded, LlmError> {
        let data = ev.data.trim();
        if data.is_empty() {
            return Ok(Decoded::Chunks(Vec::new()));
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
            .unwrap_or_default();
        match kind {
            "" => Err(malformed("no 'type'")),
            "ping" => Ok(Decoded::Chunks(Vec::new())),
            "error" => {
                // Anthropic's overloaded and rate-limit errors arrive mid-stream too.
                let status = match event
                    .get("error")
                    .and_then(|e| e.get("type"))
                    .and_then(Value::as_str)
                {
                    Some("overloaded_error") => 529,
                    Some("rate_limit_error") => 429,
                    Some("invalid_request_error") => 400,
                    Some("authentication_error") => 401,
                    Some("permission_error") => 403,
                    Some("not_found_error") => 404,
                    Some("request_too_large") => 413,
                    _ => 500,
                };
                let raw = crate::error::redact_key(data, self.api_key.as_deref());
                Err(map_error(
                    &self.provider,
                    &self.model,
                    status,
                    &raw,
                    Some(Value::Object(event)),
                    Vec::new(),
                ))
            }
            _ => {
                let last = kind == "message_stop";
                Ok(Decoded::Events {
                    events: vec![event],
                    last,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::providers::Endpointkind;
    use crate::test_support::with_chat_ctx;

    fn decode(data: &str) -> Result<Decoded, LlmError> {
        with_chat_ctx(
            Endpointkind::AnthropicMessages,
            "anthropic",
            "claude-x",
            true,
            |ctx| {
                EventDecoder::new(ctx).decode(&SseEvent {
                    event: None,
                    data: data.to_string(),
                })
            },
        )
    }

    #[test]
    fn events_pass_through_pings_are_left_out_and_message_stop_ends() {
        let delta =
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#;
        match decode(delta) {
            Ok(Decoded::Events { events, last }) => {
                assert!(!last);
                assert_eq!(events[0]["delta"]["text"], "Hi");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(decode(r#"{"type":"ping"}"#), Ok(Decoded::Chunks(c)) if c.is_empty()));
        assert!(matches!(
            decode(r#"{"type":"message_stop"}"#),
            Ok(Decoded::Events { last: true, .. })
        ));
    }

    #[test]
    fn error_events_are_raised_by_their_type() {
        let e = decode(
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        )
        .err()
        .unwrap();
        assert!(e.message.contains("Overloaded"), "{}", e.message);
        assert_eq!(e.status, 529);
        let e = decode(r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow"}}"#)
            .err()
            .unwrap();
        assert_eq!(e.kind, ErrorKind::RateLimit);
    }

    #[test]
    fn malformed_events_are_refused() {
        for bad in ["not json", "[1]", r#"{"no":"type"}"#] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn replies_must_be_messages() {
        let ok = serde_json::json!({"type": "message", "content": [], "id": "msg_1"});
        let got = with_chat_ctx(
            Endpointkind::AnthropicMessages,
            "anthropic",
            "claude-x",
            false,
            |ctx| parse_reply(ctx, crate::test_support::obj(ok.clone())),
        );
        assert_eq!(got.ok().map(Value::Object), Some(ok));
        let bad = with_chat_ctx(
            Endpointkind::AnthropicMessages,
            "anthropic",
            "claude-x",
            false,
            |ctx| {
                parse_reply(
                    ctx,
                    crate::test_support::obj(serde_json::json!({"choices": []})),
                )
            },
        );
        assert!(bad.is_err());
    }
}
