//! OpenAI's Responses API for every provider.
//!
//! OpenAI and Azure serve `POST /responses` themselves: the caller's body goes as it is
//! (`call::prepare` with [`Endpointkind::Responses`](crate::providers::Endpointkind)) and
//! their typed events are decoded by `providers::responses`. Every other provider is
//! reached over chat completions, as LiteLLM does: [`bridge::to_chat`] turns the request
//! into chat keyword arguments (input items → messages, `instructions` → a system message,
//! function tools → chat tools, `text.format` → `response_format`), [`bridge::Bridge`]
//! turns the chat reply into a Response (message, function-call and reasoning items,
//! usage as `input_tokens`/`output_tokens`), and [`events`] turns a chat stream into the
//! Responses stream events.
//!
//! `previous_response_id` on the bridge needs the earlier turns: [`store`] keeps them in
//! this process, bounded in size (the oldest are forgotten first).
//!
//! Layering: this sits between `providers` and `call` (which drives it); it never imports
//! `call`.

pub mod bridge;
pub mod events;
pub mod store;

use serde_json::{Map, Value};

use crate::error::LlmError;

/// Providers that serve the Responses API themselves.
pub const NATIVE_PROVIDERS: &[&str] = &["openai", "azure"];

/// Whether `provider` serves the Responses API natively.
pub fn is_native(provider: &str) -> bool {
    NATIVE_PROVIDERS.contains(&provider)
}

/// The Responses parameters checked here rather than by the chat checks (their shapes
/// differ from chat's: flat function tools, `tool_choice` by name), sent as they are to a
/// native provider.
pub const OWN_FIELDS: &[&str] = &["input", "tools", "tool_choice", "text"];

/// A `resp_`, `msg_`, `fc_` or `rs_` id.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

fn bad(message: String) -> LlmError {
    LlmError::bad_request(message)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "None",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Check a Responses request before anything is sent: `input` is a string or a list of
/// item dicts, tools are dicts with a `type` (function tools with a `name`),
/// `tool_choice` is a mode or a dict, `text.format` is a known format,
/// `previous_response_id` and `instructions` are strings.
pub fn check_request(kwargs: &Map<String, Value>) -> Result<(), LlmError> {
    match kwargs.get("input") {
        None | Some(Value::Null) => {
            return Err(bad(
                "responses() needs input=: a string, or a list of input items (messages, function_call_output, ...)".into(),
            ))
        }
        Some(Value::String(_)) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if !item.is_object() {
                    return Err(bad(format!(
                        "input[{i}] must be a dict such as {{\"role\": \"user\", \"content\": \"...\"}}, got {}",
                        type_name(item)
                    )));
                }
            }
        }
        Some(other) => {
            return Err(bad(format!(
                "input must be a string or a list of input items, got {}",
                type_name(other)
            )))
        }
    }
    for name in ["instructions", "previous_response_id"] {
        match kwargs.get(name) {
            None | Some(Value::Null | Value::String(_)) => {}
            Some(other) => {
                return Err(bad(format!(
                    "{name} must be a string, got {}",
                    type_name(other)
                )))
            }
        }
    }
    match kwargs.get("tools") {
        None | Some(Value::Null) => {}
        Some(Value::Array(tools)) => {
            for (i, tool) in tools.iter().enumerate() {
                let Value::Object(t) = tool else {
                    return Err(bad(format!(
                        "tools[{i}] must be a dict like {{\"type\": \"function\", \"name\": ..., \"parameters\": {{...}}}}, got {}",
                        type_name(tool)
                    )));
                };
                match t.get("type") {
                    Some(Value::String(kind)) if kind == "function" => {
                        let named = t
                            .get("name")
                            .and_then(Value::as_str)
                            .is_some_and(|n| !n.is_empty())
                            || t.get("function")
                                .and_then(|f| f.get("name"))
                                .and_then(Value::as_str)
                                .is_some_and(|n| !n.is_empty());
                        if !named {
                            return Err(bad(format!(
                                "tools[{i}] is a function tool without a \"name\" (the Responses API's tools are flat: {{\"type\": \"function\", \"name\": ..., \"parameters\": {{...}}}})"
                            )));
                        }
                    }
                    Some(Value::String(_)) => {}
                    _ => {
                        return Err(bad(format!(
                            "tools[{i}] needs a \"type\" string such as \"function\""
                        )))
                    }
                }
            }
        }
        Some(other) => {
            return Err(bad(format!(
                "tools must be a list of tool definitions, got {}",
                type_name(other)
            )))
        }
    }
    match kwargs.get("tool_choice") {
        None | Some(Value::Null | Value::Object(_)) => {}
        Some(Value::String(s)) if ["auto", "none", "required"].contains(&s.as_str()) => {}
        Some(other) => {
            return Err(bad(format!(
                "tool_choice must be \"auto\", \"none\", \"required\" or a dict like {{\"type\": \"function\", \"name\": ...}}, got {other}"
            )))
        }
    }
    match kwargs.get("text") {
        None | Some(Value::Null) => {}
        Some(Value::Object(text)) => match text.get("format") {
            None | Some(Value::Null) => {}
            Some(Value::Object(format)) => {
                match format.get("type").and_then(Value::as_str) {
                    Some("text" | "json_object") => {}
                    Some("json_schema") => {
                        let named = format.get("name").and_then(Value::as_str).is_some();
                        if !named || !format.get("schema").is_some_and(Value::is_object) {
                            return Err(bad(
                                "text.format of type \"json_schema\" needs a \"name\" and a \"schema\" dict".into(),
                            ));
                        }
                    }
                    _ => {
                        return Err(bad(format!(
                            "text.format.type must be \"text\", \"json_object\" or \"json_schema\", got {}",
                            format.get("type").cloned().unwrap_or(Value::Null)
                        )))
                    }
                }
            }
            Some(other) => {
                return Err(bad(format!(
                    "text.format must be a dict like {{\"type\": \"json_schema\", \"name\": ..., \"schema\": {{...}}}}, got {}",
                    type_name(other)
                )))
            }
        },
        Some(other) => {
            return Err(bad(format!(
                "text must be a dict like {{\"format\": {{...}}}}, got {}",
                type_name(other)
            )))
        }
    }
    Ok(())
}

/// The `usage` of a Response from a chat reply's usage: `input_tokens`/`output_tokens`,
/// cached and reasoning tokens in their details.
pub fn usage_from_chat(usage: &Value) -> Value {
    let n = |p: &str| usage.pointer(p).and_then(Value::as_u64).unwrap_or(0);
    let input = n("/prompt_tokens");
    let output = n("/completion_tokens");
    let total = usage
        .get("total_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(input + output);
    serde_json::json!({
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": n("/prompt_tokens_details/cached_tokens")},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": n("/completion_tokens_details/reasoning_tokens")},
        "total_tokens": total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::obj;
    use serde_json::json;

    fn err(v: Value) -> String {
        check_request(&obj(v))
            .err()
            .map(|e| e.message)
            .unwrap_or_default()
    }

    #[test]
    fn bad_requests_are_refused_with_what_to_send() {
        assert!(err(json!({"model": "m"})).contains("needs input="));
        assert!(err(json!({"input": 5})).contains("input must be a string or a list"));
        assert!(err(json!({"input": ["hi"]})).contains("input[0] must be a dict"));
        assert!(err(json!({"input": "x", "tools": {"type": "function"}}))
            .contains("tools must be a list"));
        assert!(err(json!({"input": "x", "tools": [{"type": "function"}]}))
            .contains("without a \"name\""));
        assert!(err(json!({"input": "x", "tools": [{"name": "f"}]})).contains("needs a \"type\""));
        assert!(
            err(json!({"input": "x", "tool_choice": "sometimes"})).contains("tool_choice must be")
        );
        assert!(
            err(json!({"input": "x", "text": {"format": {"type": "yaml"}}}))
                .contains("text.format.type")
        );
        assert!(err(
            json!({"input": "x", "text": {"format": {"type": "json_schema", "name": "n"}}})
        )
        .contains("needs a \"name\" and a \"schema\""));
        assert!(
            err(json!({"input": "x", "instructions": 1})).contains("instructions must be a string")
        );
        assert!(err(json!({"input": "x", "previous_response_id": []}))
            .contains("previous_response_id must be a string"));
        assert!(
            check_request(&obj(json!({"input": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "function", "name": "f"}, {"type": "web_search_preview"}],
            "tool_choice": {"type": "function", "name": "f"},
            "text": {"format": {"type": "json_schema", "name": "n", "schema": {}}}})))
            .is_ok()
        );
    }

    #[test]
    fn usage_is_renamed() {
        let u = usage_from_chat(
            &json!({"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10,
            "completion_tokens_details": {"reasoning_tokens": 2}}),
        );
        assert_eq!(u["input_tokens"], 7);
        assert_eq!(u["output_tokens"], 3);
        assert_eq!(u["total_tokens"], 10);
        assert_eq!(u["output_tokens_details"]["reasoning_tokens"], 2);
    }
}

#[cfg(test)]
mod wire_tests;
