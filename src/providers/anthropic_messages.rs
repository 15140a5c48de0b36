//! Anthropic's Messages API passed through (`anthropic_messages` to Anthropic, to Vertex
//! AI's Claude through `vertex.rs`, and to Bedrock's Claude on InvokeModel through
//! `bedrock.rs`): the caller's body goes as it is, the reply comes back as it is (checked
//! to be a message), and the stream's events are passed on unchanged. The translation for
//! every other provider is `crate::messages`.

use serde_json::{Map, Value};

use base64::Engine as _;

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

/// The `anthropic_version` Bedrock wants in Claude's body on InvokeModel.
pub const BEDROCK_VERSION: &str = "bedrock-2023-05-31";

/// Anthropic's body as Bedrock's InvokeModel takes it: no `model` (it is in the URL), no
/// `stream` (the path says it: `invoke-with-response-stream`), and `anthropic_version`.
/// Bedrock reads Anthropic's beta features from the body, not from an `anthropic-beta`
/// header: the caller's header values (comma-separated, as Claude-style tools send them)
/// join the body's `anthropic_beta` list, each once, as LiteLLM does.
pub fn bedrock_body(body: Map<String, Value>, headers: &[(String, String)]) -> Map<String, Value> {
    let mut out = Map::with_capacity(body.len() + 2);
    out.insert(
        "anthropic_version".into(),
        Value::String(BEDROCK_VERSION.into()),
    );
    out.extend(
        body.into_iter()
            .filter(|(k, _)| k != "model" && k != "stream"),
    );
    let betas = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("anthropic-beta"))
        .flat_map(|(_, value)| value.split(','))
        .map(str::trim)
        .filter(|beta| !beta.is_empty());
    for beta in betas {
        let list = out
            .entry("anthropic_beta")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            if !list.iter().any(|b| b.as_str() == Some(beta)) {
                list.push(Value::String(beta.to_string()));
            }
        }
    }
    out
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

/// Decodes Bedrock's InvokeModel stream: AWS event-stream `chunk` events whose `bytes`
/// are one Anthropic event each (base64), decoded by [`EventDecoder`]; an exception frame
/// is raised as Bedrock's mapped error.
pub struct BedrockEventDecoder {
    inner: EventDecoder,
}

impl BedrockEventDecoder {
    pub fn new(ctx: &ChatContext<'_>) -> Self {
        BedrockEventDecoder {
            inner: EventDecoder::new(ctx),
        }
    }
}

impl StreamDecoder for BedrockEventDecoder {
    fn decode(&mut self, ev: &SseEvent) -> Result<Decoded, LlmError> {
        let (provider, model) = (self.inner.provider.as_str(), self.inner.model.as_str());
        let name = ev.event.as_deref().unwrap_or("");
        if name == crate::stream::eventstream::FRAMING_ERROR {
            return Err(LlmError::connection(
                provider,
                model,
                &format!("corrupt event-stream frame: {}", ev.data),
            ));
        }
        if let Some(kind) = name
            .strip_prefix("exception:")
            .or_else(|| name.strip_prefix("error:"))
        {
            let headers = vec![("x-amzn-errortype".to_string(), kind.to_string())];
            let json = serde_json::from_str::<Value>(&ev.data).ok();
            return Err(super::bedrock::map_error(
                provider, model, 500, &ev.data, json, headers,
            ));
        }
        let malformed =
            |what: &str| LlmError::malformed_event(provider, model, what, &ev.data, None);
        let data: Value = serde_json::from_str(ev.data.trim())
            .map_err(|e| malformed(&format!("not JSON ({e})")))?;
        let Some(bytes) = data.get("bytes").and_then(Value::as_str) else {
            return Err(malformed("not an InvokeModel chunk (no 'bytes')"));
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(bytes)
            .map_err(|e| malformed(&format!("'bytes' is not base64 ({e})")))?;
        self.inner.decode(&SseEvent {
            event: None,
            data: String::from_utf8_lossy(&decoded).into_owned(),
        })
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
    fn bedrock_chunks_carry_anthropic_events() {
        let decode = |event: &str, data: String| {
            with_chat_ctx(
                Endpointkind::AnthropicMessages,
                "bedrock",
                "anthropic.claude-x",
                true,
                |ctx| {
                    BedrockEventDecoder::new(ctx).decode(&SseEvent {
                        event: Some(event.to_string()),
                        data,
                    })
                },
            )
        };
        let inner = r#"{"type":"message_stop"}"#;
        let b64 = base64::engine::general_purpose::STANDARD.encode(inner);
        assert!(matches!(
            decode("chunk", format!(r#"{{"bytes":"{b64}"}}"#)),
            Ok(Decoded::Events { last: true, .. })
        ));
        let e = decode(
            "exception:throttlingException",
            r#"{"message":"Too many requests"}"#.into(),
        )
        .err()
        .unwrap();
        assert_eq!(e.kind, ErrorKind::RateLimit);
        assert!(decode("chunk", r#"{"no":"bytes"}"#.into()).is_err());
        let body = bedrock_body(
            crate::test_support::obj(
                serde_json::json!({"model": "m", "stream": true, "max_tokens": 5}),
            ),
            &[("x-trace".into(), "1".into())],
        );
        assert_eq!(
            Value::Object(body),
            serde_json::json!({"anthropic_version": BEDROCK_VERSION, "max_tokens": 5})
        );
        // The caller's betas go in the body (Bedrock reads them there), each once.
        let body = bedrock_body(
            crate::test_support::obj(
                serde_json::json!({"max_tokens": 5, "anthropic_beta": ["context-1m-2025-08-07"]}),
            ),
            &[
                (
                    "Anthropic-Beta".into(),
                    "context-1m-2025-08-07, fine-grained-tool-streaming-2025-05-14".into(),
                ),
                ("anthropic-beta".into(), "files-api-2025-04-14,".into()),
            ],
        );
        assert_eq!(
            body["anthropic_beta"],
            serde_json::json!([
                "context-1m-2025-08-07",
                "fine-grained-tool-streaming-2025-05-14",
                "files-api-2025-04-14"
            ])
        );
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
