//! The OpenAI chat request as rustllm receives it: LiteLLM's keyword arguments split into
//! connection options and the JSON body, and messages checked before anything is sent.

pub mod check;
pub mod litellm_params;
pub mod messages;

use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::LlmError;
use crate::time::saturating_secs;

/// Everything about a call that is not the body.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    pub model: String,
    pub custom_llm_provider: Option<String>,
    pub api_base: Option<String>,
    pub api_key: Option<String>,
    pub api_version: Option<String>,
    pub organization: Option<String>,
    /// `headers` merged with `extra_headers` (the latter wins), names lower-cased.
    pub headers: Vec<(String, String)>,
    pub timeout: Option<Duration>,
    /// For streams, wins over `timeout`: bounds the wait for the first chunk and each gap.
    pub stream_timeout: Option<Duration>,
    /// Retries after the first attempt. `num_retries` wins over `max_retries`.
    pub retries: Option<u32>,
    pub max_retries: Option<u32>,
    pub num_retries: Option<u32>,
    pub drop_params: bool,
    /// Azure AD token, sent as `Authorization: Bearer` instead of `api-key`.
    pub azure_ad_token: Option<String>,
    /// `ssl_verify` (False, or a CA bundle's path) and `ssl_certificate`.
    pub tls: crate::transport::TlsSettings,
    pub mock_response: Option<Value>,
    pub mock_tool_calls: Option<Value>,
    pub mock_timeout: bool,
    pub mock_delay: Option<Duration>,
    /// Caller-supplied prices (USD per token); they win over the catalogue in `response_cost`.
    pub input_cost_per_token: Option<f64>,
    pub output_cost_per_token: Option<f64>,
    /// Named parameters to drop even when the provider supports them.
    pub additional_drop_params: Vec<String>,
    /// Parameters to send even though the provider is not known to support them.
    pub allowed_openai_params: Vec<String>,
    /// `stream_options.include_usage` (also sent in the body): native stream decoders
    /// add a usage chunk only when it is set, as LiteLLM does.
    pub include_usage: bool,
    /// Vertex AI: project, location and service-account credentials (a dict, a JSON
    /// string or a file path), else their environment variables.
    pub vertex_project: Option<String>,
    pub vertex_location: Option<String>,
    pub vertex_credentials: Option<Value>,
    /// AWS Bedrock: credentials, region and runtime endpoint, else their environment
    /// variables.
    pub aws_access_key_id: Option<String>,
    pub aws_secret_access_key: Option<String>,
    pub aws_session_token: Option<String>,
    pub aws_region_name: Option<String>,
    pub aws_bedrock_runtime_endpoint: Option<String>,
    /// SageMaker: the Hugging Face model an endpoint serves, which picks its prompt
    /// template (`hf_model_name="meta-llama/Llama-2-7b-chat-hf"`).
    pub hf_model_name: Option<String>,
}

/// A call split into its options and the JSON body to send (without `model`, which the
/// provider sets once resolved).
#[derive(Debug, Clone)]
pub struct SplitCall {
    pub options: CallOptions,
    pub body: Map<String, Value>,
}

fn as_string(v: &Value, name: &str) -> Result<Option<String>, LlmError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => Err(LlmError::bad_request(format!(
            "{name} must be a string, got {}",
            type_name(other)
        ))),
    }
}

/// The JSON type of a value, as a Python user would name it.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "None",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// A timeout given as seconds: a number, or a numeric string ("30", "2.5s").
pub fn parse_timeout(v: &Value, name: &str) -> Result<Option<Duration>, LlmError> {
    let secs = match v {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().trim_end_matches('s').trim().parse::<f64>().ok(),
        _ => None,
    };
    match secs {
        Some(s) if s.is_finite() && s > 0.0 => Ok(Some(saturating_secs(s))),
        _ => Err(LlmError::bad_request(format!(
            "{name} must be a positive number of seconds (e.g. 30 or \"30\"), got {v}"
        ))),
    }
}

fn parse_count(v: &Value, name: &str) -> Result<Option<u32>, LlmError> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .and_then(|c| u32::try_from(c).ok())
            .map(Some)
            .ok_or_else(|| {
                LlmError::bad_request(format!("{name} must be a non-negative integer, got {n}"))
            }),
        other => Err(LlmError::bad_request(format!(
            "{name} must be an int, got {}",
            type_name(other)
        ))),
    }
}

/// A price per token: a number, or a numeric string as LiteLLM accepts from YAML configs.
fn parse_price(v: &Value, name: &str) -> Result<Option<f64>, LlmError> {
    let price = match v {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match price {
        Some(p) if p.is_finite() && p >= 0.0 => Ok(Some(p)),
        _ => Err(LlmError::bad_request(format!(
            "{name} must be a non-negative number (USD per token), got {v}"
        ))),
    }
}

/// A list of parameter names (`additional_drop_params`, `allowed_openai_params`).
fn parse_names(v: &Value, name: &str) -> Result<Vec<String>, LlmError> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str().map(str::to_string).ok_or_else(|| {
                    LlmError::bad_request(format!(
                        "{name} must be a list of parameter names, got an item of type {}",
                        type_name(i)
                    ))
                })
            })
            .collect(),
        other => Err(LlmError::bad_request(format!(
            "{name} must be a list of parameter names, got {}",
            type_name(other)
        ))),
    }
}

fn parse_headers(v: &Value, name: &str, into: &mut Vec<(String, String)>) -> Result<(), LlmError> {
    match v {
        Value::Null => Ok(()),
        Value::Object(map) => {
            for (k, val) in map {
                let val = match val {
                    Value::String(s) => s.clone(),
                    Value::Null => continue,
                    Value::Number(_) | Value::Bool(_) => val.to_string(),
                    other => {
                        return Err(LlmError::bad_request(format!(
                            "{name}[{k:?}] must be a string, got {}",
                            type_name(other)
                        )))
                    }
                };
                let k = k.to_ascii_lowercase();
                into.retain(|(existing, _)| *existing != k);
                into.push((k, val));
            }
            Ok(())
        }
        other => Err(LlmError::bad_request(format!(
            "{name} must be a dict of header names to values, got {}",
            type_name(other)
        ))),
    }
}

/// `ssl_verify`: True verifies as usual, False accepts any certificate, a string is a CA
/// bundle's path (as httpx and LiteLLM take it); "false"/"true" as strings are read as
/// the booleans, as LiteLLM does for its `SSL_VERIFY` variable. None leaves it to the
/// module setting and the environment.
pub fn parse_ssl_verify(v: &Value) -> Result<Option<crate::transport::Verify>, LlmError> {
    use crate::transport::Verify;
    Ok(match v {
        Value::Null => None,
        Value::Bool(true) => Some(Verify::On),
        Value::Bool(false) => Some(Verify::Off),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(Verify::Off),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(Verify::On),
        Value::String(s) if !s.trim().is_empty() => Some(Verify::Bundle(s.clone())),
        other => {
            return Err(LlmError::bad_request(format!(
                "ssl_verify must be True, False or the path of a CA bundle, got {}",
                type_name(other)
            )))
        }
    })
}

/// Split LiteLLM's keyword arguments into options and body.
///
/// `None` values are dropped (LiteLLM never sends them); `extra_body` is merged into the
/// top level of the body; unknown keys go into the body unchanged.
pub fn split_kwargs(kwargs: Map<String, Value>) -> Result<SplitCall, LlmError> {
    let mut o = CallOptions::default();
    let mut body = Map::with_capacity(kwargs.len());
    let mut extra_body = None;
    let mut base_url = None;
    let mut headers = Value::Null;
    let mut extra_headers = Value::Null;
    let mut timeout = Value::Null;
    let mut request_timeout = Value::Null;
    for (k, v) in kwargs {
        match k.as_str() {
            "model" => o.model = as_string(&v, "model")?.unwrap_or_default(),
            "custom_llm_provider" => o.custom_llm_provider = as_string(&v, &k)?,
            "api_base" => o.api_base = as_string(&v, &k)?,
            "base_url" => base_url = as_string(&v, &k)?,
            "api_key" => o.api_key = as_string(&v, &k)?,
            "api_version" => o.api_version = as_string(&v, &k)?,
            "organization" => o.organization = as_string(&v, &k)?,
            "headers" => headers = v,
            "extra_headers" => extra_headers = v,
            "extra_body" => extra_body = Some(v),
            "timeout" => timeout = v,
            "request_timeout" => request_timeout = v,
            "stream_timeout" => o.stream_timeout = parse_timeout(&v, "stream_timeout")?,
            "max_retries" => o.max_retries = parse_count(&v, &k)?,
            "num_retries" => o.num_retries = parse_count(&v, &k)?,
            "drop_params" => o.drop_params = v.as_bool().unwrap_or(false),
            "azure_ad_token" => o.azure_ad_token = as_string(&v, &k)?,
            "ssl_verify" => o.tls.verify = parse_ssl_verify(&v)?,
            "ssl_certificate" => o.tls.client_cert = as_string(&v, &k)?,
            "mock_response" => o.mock_response = Some(v).filter(|v| !v.is_null()),
            "mock_tool_calls" => o.mock_tool_calls = Some(v).filter(|v| !v.is_null()),
            "mock_timeout" => o.mock_timeout = v.as_bool().unwrap_or(false),
            "mock_delay" => o.mock_delay = parse_timeout(&v, "mock_delay").ok().flatten(),
            "input_cost_per_token" => o.input_cost_per_token = parse_price(&v, &k)?,
            "output_cost_per_token" => o.output_cost_per_token = parse_price(&v, &k)?,
            "additional_drop_params" => o.additional_drop_params = parse_names(&v, &k)?,
            "allowed_openai_params" => o.allowed_openai_params = parse_names(&v, &k)?,
            "stream_options" => {
                o.include_usage = v.get("include_usage").and_then(Value::as_bool) == Some(true);
                if !v.is_null() {
                    body.insert(k, v);
                }
            }
            "vertex_project" => o.vertex_project = as_string(&v, &k)?,
            "vertex_location" => o.vertex_location = as_string(&v, &k)?,
            "vertex_credentials" => o.vertex_credentials = Some(v).filter(|v| !v.is_null()),
            "aws_access_key_id" => o.aws_access_key_id = as_string(&v, &k)?,
            "aws_secret_access_key" => o.aws_secret_access_key = as_string(&v, &k)?,
            "aws_session_token" => o.aws_session_token = as_string(&v, &k)?,
            "aws_region_name" => o.aws_region_name = as_string(&v, &k)?,
            "aws_bedrock_runtime_endpoint" => o.aws_bedrock_runtime_endpoint = as_string(&v, &k)?,
            "hf_model_name" => o.hf_model_name = as_string(&v, &k)?,
            _ if v.is_null() => {}
            // LiteLLM never sends `stream: false`, even when the caller passes it.
            "stream" if v == Value::Bool(false) => {}
            // `messages` is taken out before the split; LiteLLM's own settings never go out.
            "messages" => {}
            _ if litellm_params::is_litellm_param(&k) => {}
            _ => {
                body.insert(k, v);
            }
        }
    }
    // LiteLLM: `base_url` wins over `api_base`.
    if base_url.is_some() {
        o.api_base = base_url;
    }
    parse_headers(&headers, "headers", &mut o.headers)?;
    parse_headers(&extra_headers, "extra_headers", &mut o.headers)?;
    o.timeout = match parse_timeout(&timeout, "timeout")? {
        Some(t) => Some(t),
        None => parse_timeout(&request_timeout, "request_timeout")?,
    };
    o.retries = o.num_retries.or(o.max_retries);
    match extra_body {
        None | Some(Value::Null) => {}
        Some(Value::Object(extra)) => body.extend(extra),
        Some(other) => {
            return Err(LlmError::bad_request(format!(
                "extra_body must be a dict, got {}",
                type_name(&other)
            )))
        }
    }
    Ok(SplitCall { options: o, body })
}

#[cfg(test)]
mod tests {
    #[test]
    fn huge_timeouts_mean_forever_not_a_panic() {
        let t = parse_timeout(&serde_json::json!(1e30), "timeout")
            .unwrap()
            .unwrap();
        assert!(t >= Duration::from_secs(100 * 365 * 24 * 3600 - 1));
        assert!(std::time::Instant::now().checked_add(t).is_some());
        assert_eq!(saturating_secs(2.5), Duration::from_millis(2500));
    }

    use super::*;
    use serde_json::json;

    fn split(v: Value) -> Result<SplitCall, LlmError> {
        match v {
            Value::Object(m) => split_kwargs(m),
            _ => Err(LlmError::bad_request("not a dict")),
        }
    }

    #[test]
    fn unknown_kwargs_go_to_the_body_and_internal_ones_do_not() {
        let s = split(json!({
            "model": "openai/m", "temperature": 0.2, "top_k": 5, "foo_bar": "x", "user": null,
            "metadata": {"a": 1}, "api_key": "k", "extra_body": {"repetition_penalty": 1.1},
            "headers": {"X-A": "1"}, "extra_headers": {"x-a": "2", "X-B": "3"}, "timeout": "12",
            "num_retries": 3, "max_retries": 1, "stream": false, "retry_strategy": "constant_retry",
            "_skip_mcp_handler": true, "litellm_trace_id": "t", "proxy_server_request": {}
        }))
        .unwrap();
        let keys: Vec<&str> = s.body.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["temperature", "top_k", "foo_bar", "repetition_penalty"]
        );
        assert_eq!(s.options.model, "openai/m");
        assert_eq!(s.options.api_key.as_deref(), Some("k"));
        assert_eq!(
            s.options.headers,
            vec![("x-a".into(), "2".into()), ("x-b".into(), "3".into())]
        );
        assert_eq!(s.options.timeout, Some(Duration::from_secs(12)));
        assert_eq!(s.options.retries, Some(3));
    }

    #[test]
    fn base_url_wins_over_api_base() {
        let s = split(json!({"api_base": "http://a", "base_url": "http://b"})).unwrap();
        assert_eq!(s.options.api_base.as_deref(), Some("http://b"));
    }

    #[test]
    fn bad_option_types_are_named() {
        let e = split(json!({"timeout": "soon"})).err().unwrap();
        assert!(e.message.contains("timeout must be a positive number"));
        let e = split(json!({"max_retries": -1})).err().unwrap();
        assert!(e.message.contains("max_retries"));
        let e = split(json!({"extra_body": [1]})).err().unwrap();
        assert!(e.message.contains("extra_body must be a dict"));
        let e = split(json!({"headers": "x"})).err().unwrap();
        assert!(e.message.contains("headers must be a dict"));
    }
}
