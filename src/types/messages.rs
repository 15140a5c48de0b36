//! Chat messages: normalised (LiteLLM's rules) and checked before any network call.
//!
//! LiteLLM drops keys whose value is `None` and turns returned `Message` objects back into
//! dicts, so `messages.append(response.choices[0].message)` works; the binding layer has
//! already turned objects into JSON values. Malformed messages are a `BadRequestError`
//! naming the index, instead of the provider's 400 after a round trip.

use serde_json::{Map, Value};

use super::{check, type_name};
use crate::error::LlmError;

const ROLES: &[&str] = &[
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];

fn bad(index: usize, what: impl std::fmt::Display) -> LlmError {
    LlmError::bad_request(format!("Invalid messages[{index}]: {what}"))
}

fn check_content_parts(
    index: usize,
    parts: &[Value],
    known: Option<&[&str]>,
) -> Result<(), LlmError> {
    for (j, part) in parts.iter().enumerate() {
        match part {
            Value::Object(p) => match p.get("type") {
                Some(Value::String(kind)) => check::content_part(p, kind, known)
                    .map_err(|what| bad(index, format_args!("content[{j}]: {what}")))?,
                _ => {
                    return Err(bad(
                        index,
                        format!(
                            "content[{j}] must have a string 'type' (e.g. \"text\", \"image_url\")"
                        ),
                    ))
                }
            },
            // A bare string in a parts list is a common slip; accept it as a text part.
            Value::String(_) => {}
            other => {
                return Err(bad(
                    index,
                    format!(
                        "content[{j}] must be a dict content part, got {}",
                        type_name(other)
                    ),
                ))
            }
        }
    }
    Ok(())
}

/// Bare strings inside a content-parts list become `{"type": "text", "text": s}`.
fn normalise_parts(parts: Vec<Value>) -> Vec<Value> {
    parts
        .into_iter()
        .map(|p| match p {
            Value::String(s) => {
                let mut m = Map::new();
                m.insert("type".into(), Value::String("text".into()));
                m.insert("text".into(), Value::String(s));
                Value::Object(m)
            }
            other => other,
        })
        .collect()
}

fn normalise_tool_calls(index: usize, calls: Vec<Value>) -> Result<Vec<Value>, LlmError> {
    let mut out = Vec::with_capacity(calls.len());
    for (j, call) in calls.into_iter().enumerate() {
        let Value::Object(mut call) = call else {
            return Err(bad(index, format!("tool_calls[{j}] must be a dict")));
        };
        call.retain(|_, v| !v.is_null());
        let Some(Value::Object(function)) = call.get_mut("function") else {
            return Err(bad(
                index,
                format!("tool_calls[{j}] needs a 'function' dict with 'name' and 'arguments'"),
            ));
        };
        function.retain(|_, v| !v.is_null());
        if !matches!(function.get("name"), Some(Value::String(_))) {
            return Err(bad(
                index,
                format!("tool_calls[{j}].function.name must be a string"),
            ));
        }
        // OpenAI wants the arguments as a JSON string; LiteLLM users sometimes pass a dict.
        match function.get("arguments") {
            Some(Value::String(_)) => {}
            None => {
                function.insert("arguments".into(), Value::String("{}".into()));
            }
            Some(other) => {
                let s = other.to_string();
                function.insert("arguments".into(), Value::String(s));
            }
        }
        call.entry("type")
            .or_insert_with(|| Value::String("function".into()));
        // Stream-assembled calls carry an `index`; the request format has none.
        call.remove("index");
        out.push(Value::Object(call));
    }
    Ok(out)
}

/// Normalise and check one message.
fn normalise_message(
    index: usize,
    message: Value,
    known: Option<&[&str]>,
) -> Result<Value, LlmError> {
    let Value::Object(mut m) = message else {
        return Err(bad(index, format!("each message must be a dict like {{\"role\": \"user\", \"content\": \"...\"}}, got {}", type_name(&message))));
    };
    m.retain(|_, v| !v.is_null());
    let role = match m.get("role") {
        Some(Value::String(r)) => r.clone(),
        None => {
            return Err(bad(
                index,
                "missing 'role' (one of system, user, assistant, tool)",
            ))
        }
        Some(other) => {
            return Err(bad(
                index,
                format!("'role' must be a string, got {}", type_name(other)),
            ))
        }
    };
    if !ROLES.contains(&role.as_str()) {
        return Err(bad(
            index,
            format!(
                "unknown role {role:?}; expected one of {}",
                ROLES.join(", ")
            ),
        ));
    }
    let has_tool_calls = matches!(m.get("tool_calls"), Some(Value::Array(a)) if !a.is_empty());
    match m.remove("tool_calls") {
        Some(Value::Array(calls)) if !calls.is_empty() => {
            m.insert(
                "tool_calls".into(),
                Value::Array(normalise_tool_calls(index, calls)?),
            );
        }
        // LiteLLM stores an empty list as None, and None keys are not sent.
        Some(Value::Array(_)) | None => {}
        Some(other) => {
            return Err(bad(
                index,
                format!("'tool_calls' must be a list, got {}", type_name(&other)),
            ))
        }
    }
    match m.remove("content") {
        None => {
            let may_omit =
                role == "assistant" && (has_tool_calls || m.contains_key("function_call"));
            if !may_omit && role != "assistant" {
                return Err(bad(
                    index,
                    format!(
                        "a {role} message needs 'content' (a string or a list of content parts)"
                    ),
                ));
            }
        }
        Some(Value::String(s)) => {
            m.insert("content".into(), Value::String(s));
        }
        Some(Value::Array(parts)) => {
            check_content_parts(index, &parts, known)?;
            m.insert("content".into(), Value::Array(normalise_parts(parts)));
        }
        Some(other) => {
            return Err(bad(
                index,
                format!(
                    "'content' must be a string or a list of content parts, got {}",
                    type_name(&other)
                ),
            ))
        }
    }
    if role == "tool" && !matches!(m.get("tool_call_id"), Some(Value::String(_))) {
        return Err(bad(
            index,
            "a tool message needs 'tool_call_id' (the id of the tool call it answers)",
        ));
    }
    if role == "function" && !matches!(m.get("name"), Some(Value::String(_))) {
        return Err(bad(index, "a function message needs 'name'"));
    }
    Ok(Value::Object(m))
}

/// Normalise and check a whole message list, which must not be empty. `known` is the
/// content-part types a native provider translates ([`check::part_types`]); `None` lets
/// unknown types through to an OpenAI-compatible server.
pub fn normalise_messages(
    messages: Option<Value>,
    known: Option<&[&str]>,
) -> Result<Vec<Value>, LlmError> {
    check::messages_given(messages.as_ref())?;
    match messages {
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, m)| normalise_message(i, m, known))
            .collect(),
        other => Err(LlmError::bad_request(format!(
            "messages must be a list of message dicts, e.g. [{{\"role\": \"user\", \"content\": \"hi\"}}], got {}",
            type_name(other.as_ref().unwrap_or(&Value::Null))
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn normalise(messages: Value) -> Result<Vec<Value>, LlmError> {
        normalise_messages(Some(messages), None)
    }

    #[test]
    fn none_keys_are_dropped_and_returned_messages_resend() {
        let out = normalise(json!([
            {"role": "user", "content": "hi", "name": null},
            {"content": null, "role": "assistant", "function_call": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            {"role": "assistant", "content": "pong", "tool_calls": []}
        ]))
        .unwrap();
        assert_eq!(out[0], json!({"role": "user", "content": "hi"}));
        assert_eq!(
            out[1],
            json!({"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]})
        );
        assert_eq!(out[3], json!({"role": "assistant", "content": "pong"}));
    }

    #[test]
    fn dict_arguments_become_json_strings() {
        let out = normalise(json!([{"role": "assistant", "tool_calls": [
            {"id": "c", "function": {"name": "f", "arguments": {"a": 1}}, "index": 0}
        ]}]))
        .unwrap();
        assert_eq!(
            out[0]["tool_calls"][0],
            json!({"id": "c", "function": {"name": "f", "arguments": "{\"a\":1}"}, "type": "function"})
        );
    }

    #[test]
    fn malformed_messages_name_the_index() {
        let cases = [
            (json!("hi"), "messages must be a list"),
            (
                json!([{"role": "user", "content": "ok"}, "hi"]),
                "messages[1]",
            ),
            (json!([{"content": "x"}]), "missing 'role'"),
            (json!([{"role": "wizard", "content": "x"}]), "unknown role"),
            (json!([{"role": "user"}]), "needs 'content'"),
            (
                json!([{"role": "user", "content": 5}]),
                "'content' must be a string",
            ),
            (
                json!([{"role": "user", "content": [{"text": "x"}]}]),
                "content[0] must have a string 'type'",
            ),
            (json!([{"role": "tool", "content": "x"}]), "tool_call_id"),
            (
                json!([{"role": "assistant", "tool_calls": [{"function": {}}]}]),
                "function.name",
            ),
        ];
        for (input, expected) in cases {
            let err = normalise(input.clone()).err().unwrap();
            assert!(err.message.contains(expected), "{input} -> {}", err.message);
            assert_eq!(err.status, 400);
        }
    }

    #[test]
    fn content_parts_and_empty_lists() {
        let empty = normalise(json!([])).unwrap_err();
        assert!(empty.message.starts_with("messages must not be empty"));
        let missing = normalise_messages(None, None).unwrap_err();
        assert!(missing.message.starts_with("messages is required"));
        let out = normalise(json!([{"role": "user", "content": ["a", {"type": "image_url", "image_url": {"url": "data:x"}}]}])).unwrap();
        assert_eq!(out[0]["content"][0], json!({"type": "text", "text": "a"}));
    }

    #[test]
    fn content_parts_by_provider() {
        let parts = json!([{"role": "user", "content": [{"type": "video_url", "video_url": {"url": "x"}}]}]);
        assert!(normalise(parts.clone()).is_ok());
        let gemini = check::part_types(crate::providers::WireFormat::Gemini);
        let e = normalise_messages(Some(parts), gemini).unwrap_err();
        assert!(
            e.message.starts_with(
                "Invalid messages[0]: content[0]: content part type \"video_url\" is not supported"
            ),
            "{}",
            e.message
        );
        let e = normalise(json!([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url"}]}])).unwrap_err();
        assert!(
            e.message
                .starts_with("Invalid messages[0]: content[1]: a \"image_url\" part needs"),
            "{}",
            e.message
        );
    }
}
