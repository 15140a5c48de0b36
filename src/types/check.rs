//! The common OpenAI parameters, checked before any request is built.
//!
//! One table ([`PARAMS`]) says which keyword arguments rustllm checks and what each
//! accepts; `call::prepare` and the Router (before it picks a deployment) run it over the
//! caller's keyword arguments. A wrong type or range is a `BadRequestError` naming the
//! parameter, the value and what is allowed, instead of a provider 400 after a round trip
//! (or, for `stream="yes"`, a misleading failure later). Numbers are checked with their
//! JSON type, as OpenAI does: `temperature="0.5"` is refused, `temperature=1` is not.
//! Parameters outside the table pass through untouched, as in LiteLLM.
//!
//! The checks only read: no allocation unless something is wrong.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::type_name;
use crate::error::LlmError;
use crate::providers::WireFormat;

/// What one parameter accepts. `None` is always accepted (it means "not set").
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    /// A JSON number (int or float; not a bool, not a string) from `min` to `max`.
    Number {
        min: f64,
        max: f64,
    },
    /// A JSON integer (not a bool, not a float) of at least `min`.
    Int {
        min: i64,
    },
    /// Any JSON integer.
    AnyInt,
    Bool,
    /// A string or a list of strings (`stop`). OpenAI allows at most 4; other providers
    /// allow more, so the count is not checked.
    StringOrStrings,
    /// A dict whose `include_usage`, if given, is a bool.
    StreamOptions,
    /// A dict with `type` text, json_object or json_schema (a pydantic class has already
    /// been turned into the json_schema form by the Python layer).
    ResponseFormat,
    /// A list of tool dicts; function tools need `function.name`.
    Tools,
    /// `none`, `auto`, `required` (or `any`), or a dict naming a function.
    ToolChoice,
    /// A dict of header names to values that are legal in HTTP.
    Headers,
    /// A secret that becomes a header value: legal in HTTP, and never shown.
    SecretHeaderValue,
}

/// One checked parameter: its name, its rule, and what it accepts in words.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub rule: Rule,
    pub accepts: &'static str,
}

const fn p(name: &'static str, rule: Rule, accepts: &'static str) -> Param {
    Param {
        name,
        rule,
        accepts,
    }
}

/// Every parameter rustllm checks before a request (LiteLLM's name, OpenAI's rule).
pub const PARAMS: &[Param] = &[
    p(
        "temperature",
        Rule::Number { min: 0.0, max: 2.0 },
        "a number from 0 to 2",
    ),
    p(
        "top_p",
        Rule::Number { min: 0.0, max: 1.0 },
        "a number from 0 to 1",
    ),
    p("n", Rule::Int { min: 1 }, "an int of at least 1"),
    p("max_tokens", Rule::Int { min: 1 }, "an int of at least 1"),
    p(
        "max_completion_tokens",
        Rule::Int { min: 1 },
        "an int of at least 1",
    ),
    p(
        "presence_penalty",
        Rule::Number {
            min: -2.0,
            max: 2.0,
        },
        "a number from -2 to 2",
    ),
    p(
        "frequency_penalty",
        Rule::Number {
            min: -2.0,
            max: 2.0,
        },
        "a number from -2 to 2",
    ),
    p("seed", Rule::AnyInt, "an int"),
    p("stream", Rule::Bool, "True or False"),
    p(
        "stop",
        Rule::StringOrStrings,
        "a string or a list of strings",
    ),
    p(
        "stream_options",
        Rule::StreamOptions,
        "a dict like {\"include_usage\": True}",
    ),
    p(
        "response_format",
        Rule::ResponseFormat,
        "a dict with \"type\" \"text\", \"json_object\" or \"json_schema\" (or a pydantic model class)",
    ),
    p(
        "tools",
        Rule::Tools,
        "a list of tool definitions like {\"type\": \"function\", \"function\": {\"name\": ..., \"parameters\": {...}}}",
    ),
    p(
        "tool_choice",
        Rule::ToolChoice,
        "\"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}",
    ),
    p(
        "headers",
        Rule::Headers,
        "a dict of header names to values without line breaks or other control characters",
    ),
    p(
        "extra_headers",
        Rule::Headers,
        "a dict of header names to values without line breaks or other control characters",
    ),
    p(
        "api_key",
        Rule::SecretHeaderValue,
        "a string without line breaks or other control characters",
    ),
];

/// `tool_choice` strings: OpenAI's three, and `any` (Mistral's and Anthropic's spelling of
/// `required`, which LiteLLM passes through).
const TOOL_CHOICES: &[&str] = &["none", "auto", "required", "any"];
const RESPONSE_FORMATS: &[&str] = &["text", "json_object", "json_schema"];

/// Bit `n` is set when some name in [`PARAMS`] is `n` bytes long: most keyword arguments
/// (`model`, `messages`, `api_base`, ...) are passed over without a table scan.
const NAME_LENGTHS: u64 = {
    let mut bits = 0u64;
    let mut i = 0;
    while i < PARAMS.len() {
        bits |= 1 << PARAMS[i].name.len();
        i += 1;
    }
    bits
};

/// Check every parameter of `kwargs` that [`PARAMS`] names.
pub fn kwargs(kwargs: &Map<String, Value>) -> Result<(), LlmError> {
    for (key, value) in kwargs {
        if key.len() >= 64 || NAME_LENGTHS & (1 << key.len()) == 0 || value.is_null() {
            continue;
        }
        if let Some(param) = PARAMS.iter().find(|p| p.name == key) {
            check(param, value)?;
        }
    }
    Ok(())
}

fn check(param: &Param, v: &Value) -> Result<(), LlmError> {
    let ok = match param.rule {
        Rule::Number { min, max } => {
            matches!(v, Value::Number(n) if n.as_f64().is_some_and(|x| (min..=max).contains(&x)))
        }
        Rule::Int { min } => match v {
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => i >= min,
                (None, Some(_)) => true,
                _ => false,
            },
            _ => false,
        },
        Rule::AnyInt => matches!(v, Value::Number(n) if n.is_i64() || n.is_u64()),
        Rule::Bool => v.is_boolean(),
        Rule::StringOrStrings => match v {
            Value::String(_) => true,
            Value::Array(items) => items.iter().all(Value::is_string),
            _ => false,
        },
        Rule::StreamOptions => match v {
            Value::Object(o) => matches!(field(o, "include_usage"), None | Some(Value::Null | Value::Bool(_))),
            _ => false,
        },
        Rule::ResponseFormat => return response_format(param, v),
        Rule::Tools => return tools(v),
        Rule::ToolChoice => return tool_choice(param, v),
        Rule::Headers => return headers(param, v),
        Rule::SecretHeaderValue => match v {
            Value::String(s) if is_header_value(s) => true,
            Value::String(_) => {
                return Err(LlmError::bad_request(format!(
                    "{} contains a line break or another character not allowed in an HTTP header (the value is not shown); {} must be {}",
                    param.name, param.name, param.accepts
                )))
            }
            _ => false,
        },
    };
    if ok {
        Ok(())
    } else {
        Err(refused(param, "", v, ""))
    }
}

/// `"{name}{path} must be {accepts}, got {value}{detail}"`.
fn refused(param: &Param, path: &str, v: &Value, detail: &str) -> LlmError {
    LlmError::bad_request(format!(
        "{}{path} must be {}, got {}{detail}",
        param.name,
        param.accepts,
        shown(v)
    ))
}

/// A value as the message shows it: short values in full (Python spelling), long ones cut.
pub fn shown(v: &Value) -> String {
    const MAX: usize = 80;
    let mut text = match v {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    if text.chars().count() > MAX {
        text = text.chars().take(MAX).collect::<String>() + "...";
    }
    let _ = write!(text, " ({})", type_name(v));
    text
}

fn response_format(param: &Param, v: &Value) -> Result<(), LlmError> {
    let Value::Object(o) = v else {
        return Err(refused(param, "", v, ""));
    };
    let kind = field(o, "type").unwrap_or(&Value::Null);
    match kind.as_str() {
        Some(k) if RESPONSE_FORMATS.contains(&k) => {}
        _ => {
            return Err(LlmError::bad_request(format!(
                "response_format[\"type\"] must be \"text\", \"json_object\" or \"json_schema\", got {}",
                shown(kind)
            )))
        }
    }
    if kind == "json_schema" {
        // OpenAI also wants `name`; other servers (vLLM, Gemini, Anthropic through LiteLLM)
        // do without, so only the shape is checked.
        match field(o, "json_schema") {
            Some(Value::Object(s)) => {
                if !matches!(field(s, "schema"), None | Some(Value::Null | Value::Object(_))) {
                    let v = &s["schema"];
                    return Err(LlmError::bad_request(format!(
                        "response_format[\"json_schema\"][\"schema\"] must be a JSON schema dict, got {}",
                        shown(v)
                    )));
                }
                if !matches!(field(s, "name"), None | Some(Value::Null) | Some(Value::String(_))) {
                    return Err(LlmError::bad_request(format!(
                        "response_format[\"json_schema\"][\"name\"] must be a string, got {}",
                        shown(&s["name"])
                    )));
                }
            }
            other => {
                return Err(LlmError::bad_request(format!(
                    "response_format of type \"json_schema\" needs \"json_schema\": {{\"name\": ..., \"schema\": {{...}}}}, got {}",
                    shown(other.unwrap_or(&Value::Null))
                )))
            }
        }
    }
    Ok(())
}

fn tools(v: &Value) -> Result<(), LlmError> {
    let Value::Array(items) = v else {
        return Err(LlmError::bad_request(format!(
            "tools must be a list of tool definitions, got {}",
            type_name(v)
        )));
    };
    for (i, tool) in items.iter().enumerate() {
        let Value::Object(t) = tool else {
            return Err(LlmError::bad_request(format!(
                "tools[{i}] must be a dict like {{\"type\": \"function\", \"function\": {{\"name\": ..., \"parameters\": {{...}}}}}}, got {}",
                shown(tool)
            )));
        };
        // Other tool types (Anthropic's web search or computer use, Gemini's
        // googleSearch) are the provider's to check.
        let is_function = match field(t, "type") {
            Some(Value::String(kind)) => kind == "function",
            None | Some(Value::Null) => t.contains_key("function"),
            Some(other) => {
                return Err(LlmError::bad_request(format!(
                    "tools[{i}][\"type\"] must be a string such as \"function\", got {}",
                    shown(other)
                )))
            }
        };
        if !is_function {
            continue;
        }
        let Some(Value::Object(f)) = field(t, "function") else {
            return Err(LlmError::bad_request(format!(
                "tools[{i}] is a function tool without a \"function\" dict like {{\"name\": ..., \"parameters\": {{...}}}}, got {}",
                shown(tool)
            )));
        };
        match field(f, "name") {
            Some(Value::String(name)) if !name.is_empty() => {}
            other => {
                return Err(LlmError::bad_request(format!(
                    "tools[{i}][\"function\"][\"name\"] must be a non-empty string, got {}",
                    shown(other.unwrap_or(&Value::Null))
                )))
            }
        }
        if let Some(params) = field(f, "parameters") {
            if !matches!(params, Value::Object(_) | Value::Null) {
                return Err(LlmError::bad_request(format!(
                    "tools[{i}][\"function\"][\"parameters\"] must be a JSON schema dict, got {}",
                    shown(params)
                )));
            }
        }
    }
    Ok(())
}

fn tool_choice(param: &Param, v: &Value) -> Result<(), LlmError> {
    match v {
        Value::String(s) if TOOL_CHOICES.contains(&s.as_str()) => Ok(()),
        Value::Object(o) => match field(o, "type").and_then(Value::as_str) {
            Some("function") => match field(o, "function")
                .and_then(Value::as_object)
                .and_then(|f| field(f, "name")) {
                Some(Value::String(name)) if !name.is_empty() => Ok(()),
                other => Err(LlmError::bad_request(format!(
                    "tool_choice[\"function\"][\"name\"] must be the name of one of the tools, got {}",
                    shown(other.unwrap_or(&Value::Null))
                ))),
            },
            // Other choice types (OpenAI's allowed_tools, Anthropic's tool) pass through.
            Some(_) => Ok(()),
            None => Err(refused(param, "", v, "")),
        },
        _ => Err(refused(param, "", v, "")),
    }
}

fn headers(param: &Param, v: &Value) -> Result<(), LlmError> {
    let Value::Object(map) = v else {
        // `split_kwargs` names the wrong type.
        return Ok(());
    };
    for (name, value) in map {
        if !is_header_name(name) {
            return Err(LlmError::bad_request(format!(
                "{}: the header name {name:?} is not a legal HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)",
                param.name
            )));
        }
        if let Value::String(s) = value {
            if !is_header_value(s) {
                return Err(LlmError::bad_request(format!(
                    "{}[{name:?}] contains a line break or another character not allowed in an HTTP header value (the value is not shown)",
                    param.name
                )));
            }
        }
    }
    Ok(())
}

/// RFC 9110 `token`: what an HTTP header name may contain.
pub fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// What an HTTP header value may contain (the rule of the `http` crate reqwest uses):
/// visible characters, spaces, tabs and non-ASCII bytes; no CR, LF, NUL or DEL.
pub fn is_header_value(value: &str) -> bool {
    // A fold without early exit: the compiler vectorises it (keys are 40-200 bytes).
    value
        .bytes()
        .fold(true, |ok, b| ok & (b == b'\t' || (b >= 0x20 && b != 0x7f)))
}

/// `map[key]` for the small dicts of a request (tools, parts, formats): a scan of a few
/// keys costs less than hashing the key.
fn field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if map.len() <= 8 {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

// ---------------------------------------------------------------------------------------
// Messages

/// `messages` for a chat call: a non-empty list. (Its items are checked by
/// `messages::normalise_messages`.)
pub fn messages_given(messages: Option<&Value>) -> Result<(), LlmError> {
    match messages {
        None | Some(Value::Null) => Err(LlmError::bad_request(
            "messages is required: a list of message dicts, e.g. [{\"role\": \"user\", \"content\": \"hi\"}]",
        )),
        Some(Value::Array(items)) if items.is_empty() => Err(LlmError::bad_request(
            "messages must not be empty: pass at least one message, e.g. [{\"role\": \"user\", \"content\": \"hi\"}]",
        )),
        _ => Ok(()),
    }
}

/// `input` for embeddings: a string, a non-empty list of strings, or token lists.
pub fn embedding_input(input: &Value) -> Result<(), LlmError> {
    let ok = match input {
        Value::String(_) => true,
        Value::Array(items) if items.is_empty() => {
            return Err(LlmError::bad_request(
                "input must not be empty: pass a string or a list of strings",
            ))
        }
        Value::Array(items) => {
            items.iter().all(Value::is_string)
                || items.iter().all(Value::is_u64)
                || items
                    .iter()
                    .all(|i| matches!(i, Value::Array(t) if t.iter().all(Value::is_u64)))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(LlmError::bad_request(format!(
            "input must be a string, a list of strings, or token lists; got {}",
            type_name(input)
        )))
    }
}

/// The string `response_format`s of the image and audio endpoints (transcription too).
const MEDIA_RESPONSE_FORMATS: &[&str] = &[
    "url",
    "b64_json",
    "mp3",
    "opus",
    "aac",
    "flac",
    "wav",
    "pcm",
    "json",
    "text",
    "srt",
    "vtt",
    "verbose_json",
];

/// What the Router checks once, before it picks a deployment (so a bad input is neither
/// retried nor sent to fallbacks): the table, and `messages` or `input` when given.
/// `call::prepare` checks again per deployment, with the deployment's own parameters.
pub fn routed_call(kwargs: &Map<String, Value>) -> Result<(), LlmError> {
    // The `response_format` of an image ("url", "b64_json") or of speech ("mp3", ...)
    // is a string (checked per deployment by `call::prepare`), not chat's object.
    if kwargs
        .get("response_format")
        .and_then(Value::as_str)
        .is_some_and(|f| MEDIA_RESPONSE_FORMATS.contains(&f))
    {
        let mut rest = kwargs.clone();
        rest.shift_remove("response_format");
        return routed_call(&rest);
    }
    self::kwargs(kwargs)?;
    if let Some(messages) = kwargs.get("messages") {
        messages_given(Some(messages))?;
    }
    if let Some(input) = kwargs.get("input") {
        embedding_input(input)?;
    }
    Ok(())
}

/// Content-part types, and the key holding each one's payload.
const PART_PAYLOADS: &[(&str, &str)] = &[
    ("text", "text"),
    ("image_url", "image_url"),
    ("input_audio", "input_audio"),
    ("file", "file"),
    ("refusal", "refusal"),
];

/// The content-part types a native wire format translates; `None` for the formats whose
/// servers read OpenAI's parts themselves (unknown types pass through to them).
pub fn part_types(format: WireFormat) -> Option<&'static [&'static str]> {
    match format {
        // Anthropic's own blocks are sent as they are.
        WireFormat::Anthropic => Some(&[
            "text",
            "image_url",
            "file",
            "image",
            "document",
            "tool_use",
            "tool_result",
            "thinking",
            "redacted_thinking",
            "search_result",
        ]),
        WireFormat::Gemini => Some(&["text", "image_url", "input_audio", "file"]),
        WireFormat::Bedrock => Some(&["text", "image_url"]),
        WireFormat::Cohere => Some(&["text", "image_url"]),
        WireFormat::OllamaChat | WireFormat::OllamaGenerate => Some(&["text", "image_url"]),
        // A TGI prompt is text.
        WireFormat::Sagemaker | WireFormat::Replicate => Some(&["text"]),
        // Vertex builds Gemini's or Anthropic's body by model; those builders check.
        WireFormat::OpenAi
        | WireFormat::Azure
        | WireFormat::Vertex
        | WireFormat::SagemakerChat
        | WireFormat::Huggingface => None,
    }
}

/// One content part (a dict with a string `type`): a known type needs its payload;
/// for a native format (`known` is `Some`) an unknown type is refused.
pub fn content_part(
    part: &Map<String, Value>,
    kind: &str,
    known: Option<&[&str]>,
) -> Result<(), String> {
    if let Some(known) = known {
        if !known.contains(&kind) {
            return Err(format!(
                "content part type {kind:?} is not supported by this provider ({} are)",
                known.join(", ")
            ));
        }
    }
    let Some((_, key)) = PART_PAYLOADS.iter().find(|(t, _)| *t == kind) else {
        return Ok(());
    };
    let payload = field(part, key).unwrap_or(&Value::Null);
    let ok = match (kind, payload) {
        ("text" | "refusal", Value::String(_)) => true,
        ("image_url", Value::String(_)) => true,
        ("image_url", Value::Object(o)) => field(o, "url").is_some_and(Value::is_string),
        ("input_audio", Value::Object(o)) => field(o, "data").is_some_and(Value::is_string),
        ("file", Value::Object(o)) => {
            field(o, "file_data").is_some_and(Value::is_string)
                || field(o, "file_id").is_some_and(Value::is_string)
        }
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let wants = match kind {
        "text" => "\"text\": a string",
        "refusal" => "\"refusal\": a string",
        "image_url" => "\"image_url\": {\"url\": \"https://... or data:...\"}",
        "input_audio" => "\"input_audio\": {\"data\": <base64>, \"format\": \"wav\"}",
        _ => "\"file\": {\"file_data\": \"data:...\"} or {\"file_id\": ...}",
    };
    Err(format!(
        "a {kind:?} part needs {wants}, got {}",
        shown(payload)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::obj;
    use serde_json::json;

    fn err(v: Value) -> String {
        match kwargs(&obj(v.clone())) {
            Ok(()) => panic!("{v} was accepted"),
            Err(e) => {
                assert_eq!(e.status, 400);
                e.message
            }
        }
    }

    fn ok(v: Value) {
        if let Err(e) = kwargs(&obj(v.clone())) {
            panic!("{v} was refused: {}", e.message);
        }
    }

    #[test]
    fn numbers_keep_their_json_type_and_range() {
        ok(
            json!({"temperature": 1, "top_p": 0.5, "presence_penalty": -2, "frequency_penalty": 2.0}),
        );
        ok(json!({"temperature": 0, "top_p": 1}));
        let m = err(json!({"temperature": "0.5"}));
        assert_eq!(
            m,
            "temperature must be a number from 0 to 2, got \"0.5\" (str)"
        );
        let m = err(json!({"temperature": 2.5}));
        assert_eq!(
            m,
            "temperature must be a number from 0 to 2, got 2.5 (float)"
        );
        assert!(err(json!({"temperature": true})).contains("got True (bool)"));
        assert!(err(json!({"top_p": 1.5})).starts_with("top_p must be a number from 0 to 1"));
        assert!(err(json!({"presence_penalty": -3})).contains("from -2 to 2, got -3 (int)"));
        assert!(err(json!({"frequency_penalty": "hi"})).starts_with("frequency_penalty"));
    }

    #[test]
    fn counts_are_ints_of_at_least_one_and_bools_are_not_ints() {
        ok(json!({"n": 1, "max_tokens": 4096, "max_completion_tokens": 1, "seed": -7}));
        assert_eq!(
            err(json!({"n": 0})),
            "n must be an int of at least 1, got 0 (int)"
        );
        assert!(err(json!({"n": true})).contains("got True (bool)"));
        assert!(err(json!({"n": 2.0})).contains("got 2.0 (float)"));
        assert!(err(json!({"max_tokens": -1})).starts_with("max_tokens must be an int"));
        assert!(err(json!({"max_completion_tokens": "100"})).contains("\"100\" (str)"));
        assert_eq!(
            err(json!({"seed": 1.5})),
            "seed must be an int, got 1.5 (float)"
        );
    }

    #[test]
    fn none_means_not_set() {
        ok(
            json!({"temperature": null, "max_tokens": null, "stop": null, "stream": null, "tools": null}),
        );
    }

    #[test]
    fn stream_is_a_bool() {
        ok(json!({"stream": false}));
        assert_eq!(
            err(json!({"stream": "yes"})),
            "stream must be True or False, got \"yes\" (str)"
        );
        assert!(err(json!({"stream": 1})).contains("got 1 (int)"));
    }

    #[test]
    fn stop_is_a_string_or_strings_of_any_count() {
        ok(json!({"stop": "\n"}));
        ok(json!({"stop": ["a", "b", "c", "d", "e"]}));
        ok(json!({"stop": []}));
        assert!(err(json!({"stop": 5})).starts_with("stop must be a string or a list of strings"));
        assert!(err(json!({"stop": ["a", 1]})).contains("[\"a\",1] (list)"));
    }

    #[test]
    fn stream_options_is_a_dict() {
        ok(json!({"stream_options": {"include_usage": true}}));
        ok(json!({"stream_options": {}}));
        assert!(err(json!({"stream_options": true})).starts_with("stream_options must be a dict"));
        assert!(err(json!({"stream_options": {"include_usage": "yes"}})).contains("stream_options"));
    }

    #[test]
    fn routed_calls_take_the_media_response_formats_as_strings() {
        let call = |f: Value| routed_call(&obj(json!({"model": "m", "response_format": f})));
        assert!(call(json!("b64_json")).is_ok());
        assert!(call(json!("wav")).is_ok());
        assert!(call(json!("mp4")).is_err());
        assert!(call(json!({"type": "json_object"})).is_ok());
    }

    #[test]
    fn response_format_types() {
        ok(json!({"response_format": {"type": "json_object"}}));
        ok(json!({"response_format": {"type": "text"}}));
        ok(
            json!({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}, "strict": true}}}),
        );
        ok(json!({"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}}));
        assert!(
            err(json!({"response_format": "json"})).starts_with("response_format must be a dict")
        );
        assert_eq!(
            err(json!({"response_format": {"type": "json"}})),
            "response_format[\"type\"] must be \"text\", \"json_object\" or \"json_schema\", got \"json\" (str)"
        );
        assert!(err(json!({"response_format": {"type": "json_schema"}}))
            .contains("needs \"json_schema\""));
        assert!(err(
            json!({"response_format": {"type": "json_schema", "json_schema": {"schema": "x"}}})
        )
        .contains("[\"schema\"] must be a JSON schema dict"));
    }

    #[test]
    fn tools_need_a_function_name() {
        ok(json!({"tools": [{"type": "function", "function": {"name": "f"}}]}));
        ok(json!({"tools": [{"function": {"name": "f", "parameters": {"type": "object"}}}]}));
        ok(
            json!({"tools": [{"type": "web_search_20250305", "name": "web_search"}, {"googleSearch": {}}]}),
        );
        ok(json!({"tools": []}));
        assert_eq!(
            err(json!({"tools": {"type": "function"}})),
            "tools must be a list of tool definitions, got dict"
        );
        assert!(err(json!({"tools": ["f"]})).starts_with("tools[0] must be a dict"));
        assert!(err(json!({"tools": [{"type": "function"}]}))
            .starts_with("tools[0] is a function tool without a \"function\" dict"));
        assert_eq!(
            err(
                json!({"tools": [{"type": "function", "function": {"name": "ok"}}, {"type": "function", "function": {"name": ""}}]})
            ),
            "tools[1][\"function\"][\"name\"] must be a non-empty string, got \"\" (str)"
        );
        assert!(
            err(json!({"tools": [{"type": "function", "function": {"description": "d"}}]}))
                .contains("got None (None)")
        );
        assert!(err(
            json!({"tools": [{"type": "function", "function": {"name": "f", "parameters": "{}"}}]})
        )
        .contains("[\"parameters\"] must be a JSON schema dict"));
    }

    #[test]
    fn tool_choice_values() {
        for choice in ["none", "auto", "required", "any"] {
            ok(json!({ "tool_choice": choice }));
        }
        ok(json!({"tool_choice": {"type": "function", "function": {"name": "f"}}}));
        ok(json!({"tool_choice": {"type": "allowed_tools", "allowed_tools": {}}}));
        assert!(err(json!({"tool_choice": "always"}))
            .starts_with("tool_choice must be \"none\", \"auto\""));
        assert!(err(json!({"tool_choice": {"type": "function"}})).contains("[\"name\"]"));
        assert!(err(json!({"tool_choice": {"function": {"name": "f"}}}))
            .starts_with("tool_choice must be"));
        assert!(err(json!({"tool_choice": 1})).contains("got 1 (int)"));
    }

    #[test]
    fn headers_and_keys_must_be_legal_http_and_are_never_shown() {
        ok(json!({"extra_headers": {"x-a": "v", "X-B": "ünïcode\tok"}, "headers": {"x-n": 1}}));
        ok(json!({"api_key": "sk-abc"}));
        let m = err(json!({"extra_headers": {"x-a": "v\r\nx-injected: 1"}}));
        assert_eq!(
            m,
            "extra_headers[\"x-a\"] contains a line break or another character not allowed in an HTTP header value (the value is not shown)"
        );
        assert!(!m.contains("injected"));
        assert!(err(json!({"headers": {"bad name": "v"}}))
            .contains("\"bad name\" is not a legal HTTP header name"));
        let m = err(json!({"api_key": "sk-secret\r\nx"}));
        assert!(m.starts_with("api_key contains a line break"), "{m}");
        assert!(!m.contains("secret"));
        assert!(err(json!({"api_key": "sk\u{0}"})).starts_with("api_key"));
    }

    #[test]
    fn unknown_parameters_pass() {
        ok(json!({"top_k": "anything", "foo_bar": [1], "model": 5, "logit_bias": {"1": 2}}));
    }

    #[test]
    fn messages_must_be_given_and_not_empty() {
        assert!(messages_given(None)
            .unwrap_err()
            .message
            .starts_with("messages is required"));
        assert!(messages_given(Some(&Value::Null)).is_err());
        assert!(messages_given(Some(&json!([])))
            .unwrap_err()
            .message
            .starts_with("messages must not be empty"));
        assert!(messages_given(Some(&json!([{"role": "user", "content": "x"}]))).is_ok());
    }

    #[test]
    fn content_parts_need_their_payload_and_natives_know_their_types() {
        let part = |v: Value| obj(v);
        let native = part_types(WireFormat::Gemini);
        assert!(content_part(&part(json!({"type": "text", "text": ""})), "text", native).is_ok());
        assert!(content_part(
            &part(json!({"type": "image_url", "image_url": "data:x"})),
            "image_url",
            native
        )
        .is_ok());
        assert!(content_part(
            &part(json!({"type": "image_url", "image_url": {"url": "https://x"}})),
            "image_url",
            native
        )
        .is_ok());
        assert!(content_part(
            &part(json!({"type": "input_audio", "input_audio": {"data": "AA", "format": "wav"}})),
            "input_audio",
            native
        )
        .is_ok());
        assert!(content_part(
            &part(json!({"type": "file", "file": {"file_id": "f"}})),
            "file",
            native
        )
        .is_ok());
        assert_eq!(
            content_part(&part(json!({"type": "text"})), "text", None).unwrap_err(),
            "a \"text\" part needs \"text\": a string, got None (None)"
        );
        assert!(content_part(
            &part(json!({"type": "image_url", "image_url": {}})),
            "image_url",
            None
        )
        .unwrap_err()
        .contains("\"image_url\": {\"url\""));
        assert!(content_part(
            &part(json!({"type": "file", "file": {"filename": "a"}})),
            "file",
            None
        )
        .is_err());
        // Unknown types: passed to OpenAI-compatible servers, refused by native formats.
        let video = part(json!({"type": "video_url", "video_url": {"url": "x"}}));
        assert!(content_part(&video, "video_url", None).is_ok());
        assert_eq!(
            content_part(&video, "video_url", native).unwrap_err(),
            "content part type \"video_url\" is not supported by this provider (text, image_url, input_audio, file are)"
        );
        let anthropic = part_types(WireFormat::Anthropic);
        assert!(content_part(
            &part(json!({"type": "document", "source": {}})),
            "document",
            anthropic
        )
        .is_ok());
        assert!(content_part(
            &part(json!({"type": "input_audio", "input_audio": {"data": "A"}})),
            "input_audio",
            anthropic
        )
        .is_err());
    }

    #[test]
    fn the_table_names_each_parameter_once() {
        for (i, a) in PARAMS.iter().enumerate() {
            assert!(
                PARAMS[i + 1..].iter().all(|b| b.name != a.name),
                "{}",
                a.name
            );
        }
    }
}
