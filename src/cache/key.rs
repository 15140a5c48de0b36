//! LiteLLM's cache key: for each known LLM API parameter present in the call, in the
//! call's keyword order, `f"{name}: {value}"` (Python's `str()` of the value, no
//! separator between parameters), `model` replaced by the caching group or model group;
//! then the sha256 hex digest, prefixed with `namespace:` when there is a namespace.
//!
//! Verified against LiteLLM: `sha256("model: openai/cache-mmessages: [{'role': 'user',
//! 'content': 'cache me'}]")` is `get_cache_key(...)` for that call.

use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

/// The parameters LiteLLM puts in a cache key (`ModelParamHelper.get_all_llm_api_params`:
/// the OpenAI chat, text-completion, embedding and transcription request fields, rerank's
/// fields and `thinking`, less `metadata`). Sorted for binary search.
const KEY_PARAMS: &[&str] = &[
    "audio",
    "best_of",
    "chunking_strategy",
    "dimensions",
    "documents",
    "echo",
    "encoding_format",
    "file",
    "frequency_penalty",
    "function_call",
    "functions",
    "include",
    "input",
    "keywords",
    "known_speaker_names",
    "known_speaker_references",
    "language",
    "languages",
    "logit_bias",
    "logprobs",
    "max_chunks_per_doc",
    "max_completion_tokens",
    "max_tokens",
    "max_tokens_per_doc",
    "messages",
    "modalities",
    "model",
    "moderation",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "prompt",
    "prompt_cache_key",
    "prompt_cache_options",
    "prompt_cache_retention",
    "query",
    "rank_fields",
    "reasoning_effort",
    "response_format",
    "return_documents",
    "safety_identifier",
    "seed",
    "service_tier",
    "stop",
    "store",
    "stream",
    "stream_options",
    "suffix",
    "temperature",
    "thinking",
    "timestamp_granularities",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_n",
    "top_p",
    "user",
    "verbosity",
    "web_search_options",
];

/// Whether `name` takes part in the cache key.
pub fn is_key_param(name: &str) -> bool {
    KEY_PARAMS.binary_search(&name).is_ok()
}

/// The cache key of a call. `model` replaces the call's own `model` (the Router passes
/// the model group, or the caching group it belongs to).
pub fn cache_key(
    kwargs: &Map<String, Value>,
    model: Option<&str>,
    namespace: Option<&str>,
) -> String {
    let mut material = String::new();
    for (name, value) in kwargs {
        if value.is_null() || !is_key_param(name) {
            continue;
        }
        material.push_str(name);
        material.push_str(": ");
        match (name.as_str(), model) {
            ("model", Some(m)) => material.push_str(m),
            _ => py_str(value, &mut material),
        }
    }
    let digest: String = Sha256::digest(material.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    match namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}:{digest}"),
        _ => digest,
    }
}

/// Python's `str()` of a JSON value: strings as they are, everything else as `repr()`.
pub fn py_str(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(s),
        other => py_repr(other, out),
    }
}

/// Python's `repr()` of a JSON value as Python holds it (dicts, lists, str, int, float,
/// bool, None).
pub fn py_repr(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => push_number(n, out),
        Value::String(s) => push_str_repr(s, out),
        Value::Array(items) => {
            out.push('[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                py_repr(item, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (k, (key, item)) in m.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                push_str_repr(key, out);
                out.push_str(": ");
                py_repr(item, out);
            }
            out.push('}');
        }
    }
}

/// A tuple of strings as Python prints it: `('a', 'b')`, `('a',)`.
pub fn py_tuple_repr(items: &[String]) -> String {
    let mut out = String::from("(");
    for (k, s) in items.iter().enumerate() {
        if k > 0 {
            out.push_str(", ");
        }
        push_str_repr(s, &mut out);
    }
    if items.len() == 1 {
        out.push(',');
    }
    out.push(')');
    out
}

fn push_number(n: &Number, out: &mut String) {
    if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
        out.push_str(&py_float_repr(f));
    } else {
        out.push_str(&n.to_string());
    }
}

/// `repr(float)`: the shortest round-trip digits, scientific notation below 1e-4 and
/// from 1e16 up (`1e-05`, `1.5e+16`), and always a `.0` on whole numbers otherwise.
pub fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let plain = format!("{f}");
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

fn push_str_repr(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::obj as map;
    use serde_json::json;

    fn sha(s: &str) -> String {
        Sha256::digest(s.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn params_are_sorted_for_binary_search() {
        assert!(KEY_PARAMS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn key_matches_litellms_verified_example() {
        let kw = map(
            json!({"model": "openai/cache-m", "messages": [{"role": "user", "content": "cache me"}]}),
        );
        assert_eq!(
            cache_key(&kw, None, None),
            sha("model: openai/cache-mmessages: [{'role': 'user', 'content': 'cache me'}]")
        );
    }

    #[test]
    fn model_group_replaces_model_and_other_kwargs_are_left_out() {
        let kw = map(
            json!({"model": "g", "messages": [], "temperature": 0.7, "metadata": {"x": 1},
            "api_key": "k", "num_retries": 2, "stream": false, "user": null}),
        );
        assert_eq!(
            cache_key(&kw, Some("('g', 'h')"), Some("ns")),
            format!(
                "ns:{}",
                sha("model: ('g', 'h')messages: []temperature: 0.7stream: False")
            )
        );
    }

    #[test]
    fn python_reprs() {
        let mut s = String::new();
        py_repr(
            &json!({"a": "it's", "b": [1, 2.5, 1.0, 1e-5, 1e16, true, null], "c": "q\"'\n"}),
            &mut s,
        );
        assert_eq!(
            s,
            r#"{'a': "it's", 'b': [1, 2.5, 1.0, 1e-05, 1e+16, True, None], 'c': 'q"\'\n'}"#
        );
        assert_eq!(py_float_repr(0.0001), "0.0001");
        assert_eq!(py_float_repr(123456.789), "123456.789");
        assert_eq!(py_tuple_repr(&["a".into()]), "('a',)");
    }
}
