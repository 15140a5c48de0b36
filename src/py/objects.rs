//! Common chat replies built straight into rustllm's response objects.
//!
//! `ModelResponse._from_openai` (Python) turns any OpenAI-format reply into LiteLLM's
//! objects. Most replies have one plain shape (text messages, token counts with OpenAI's
//! details), and building those here, once the Python classes are registered, saves the
//! intermediate dicts and the Python fill functions on the event loop's thread. The
//! objects get exactly the fields, values and order `_from_openai` gives them (tests
//! compare the two on real OpenAI replies); a reply of any other shape returns `None` and
//! takes the Python path, so nothing is lost.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString};
use serde_json::{Map, Value};

use super::convert::to_py;

/// rustllm's reply classes, registered by `rustllm.types.utils` at import.
struct ReplyTypes {
    new: Py<PyAny>,
    response: Py<PyAny>,
    choices: Py<PyAny>,
    message: Py<PyAny>,
    usage: Py<PyAny>,
    prompt_details: Py<PyAny>,
    completion_details: Py<PyAny>,
}

static TYPES: PyOnceLock<ReplyTypes> = PyOnceLock::new();

/// Register the classes `reply_object` builds (called once, by `rustllm.types.utils`).
#[pyfunction]
fn register_reply_types(
    py: Python<'_>,
    response: Py<PyAny>,
    choices: Py<PyAny>,
    message: Py<PyAny>,
    usage: Py<PyAny>,
    prompt_details: Py<PyAny>,
    completion_details: Py<PyAny>,
) -> PyResult<()> {
    let new = object_new(py)?;
    let _ = TYPES.set(
        py,
        ReplyTypes {
            new,
            response,
            choices,
            message,
            usage,
            prompt_details,
            completion_details,
        },
    );
    Ok(())
}

/// `object.__new__`: makes an instance of a response class without running `__init__`.
pub(super) fn object_new(py: Python<'_>) -> PyResult<Py<PyAny>> {
    Ok(py
        .import("builtins")?
        .getattr("object")?
        .getattr("__new__")?
        .unbind())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(register_reply_types, m)?)
}

/// A new instance (no `__init__`) and its `__dict__`.
fn blank<'py>(
    py: Python<'py>,
    t: &ReplyTypes,
    cls: &Py<PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyDict>)> {
    let obj = t.new.bind(py).call1((cls.bind(py),))?;
    let dict = obj
        .getattr(intern!(py, "__dict__"))?
        .cast_into::<PyDict>()?;
    Ok((obj, dict))
}

const TOP: &[&str] = &[
    "id",
    "object",
    "created",
    "model",
    "choices",
    "usage",
    "system_fingerprint",
    "service_tier",
];
const PROMPT_DETAILS: &[(&str, bool)] = &[
    ("audio_tokens", false),
    ("cached_tokens", false),
    ("text_tokens", false),
    ("image_tokens", false),
    ("web_search_requests", true),
    ("character_count", true),
    ("image_count", true),
    ("video_length_seconds", true),
    ("cache_creation_tokens", true),
];
const COMPLETION_DETAILS: &[(&str, bool)] = &[
    ("accepted_prediction_tokens", false),
    ("audio_tokens", false),
    ("reasoning_tokens", false),
    ("rejected_prediction_tokens", false),
    ("text_tokens", false),
];

fn is_str_or_null(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null | Value::String(_)))
}

fn is_int_or_null(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Number(n)) => n.is_i64() || n.is_u64(),
        _ => false,
    }
}

fn simple_details(v: Option<&Value>, spec: &[(&str, bool)]) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m
            .iter()
            .all(|(k, v)| spec.iter().any(|(name, _)| name == k) && is_int_or_null(Some(v))),
        _ => false,
    }
}

fn simple_choice(c: &Value) -> bool {
    let Value::Object(c) = c else { return false };
    let keys_ok = c.keys().all(|k| {
        matches!(
            k.as_str(),
            "index" | "message" | "logprobs" | "finish_reason"
        )
    });
    let finish_ok = match c.get("finish_reason") {
        None | Some(Value::Null) => true,
        Some(Value::String(r)) => matches!(
            r.as_str(),
            "stop" | "length" | "tool_calls" | "content_filter" | "function_call"
        ),
        _ => false,
    };
    let index_ok = is_int_or_null(c.get("index"));
    let message_ok = match c.get("message") {
        Some(Value::Object(m)) => m.iter().all(|(k, v)| match k.as_str() {
            "role" | "content" => is_str_or_null(Some(v)),
            "refusal" => v.is_null(),
            "annotations" => matches!(v, Value::Array(a) if a.is_empty()),
            _ => false,
        }),
        _ => false,
    };
    keys_ok
        && finish_ok
        && index_ok
        && message_ok
        && matches!(c.get("logprobs"), None | Some(Value::Null))
}

fn simple_usage(u: Option<&Value>) -> bool {
    match u {
        None => true,
        Some(Value::Object(u)) => u.iter().all(|(k, v)| match k.as_str() {
            "prompt_tokens" | "completion_tokens" | "total_tokens" => is_int_or_null(Some(v)),
            "prompt_tokens_details" => simple_details(Some(v), PROMPT_DETAILS),
            "completion_tokens_details" => simple_details(Some(v), COMPLETION_DETAILS),
            _ => false,
        }),
        _ => false,
    }
}

/// True when `body` is a reply `reply_object` builds exactly as `_from_openai` would.
fn is_simple(body: &Map<String, Value>) -> bool {
    body.keys().all(|k| TOP.contains(&k.as_str()))
        && matches!(body.get("id"), Some(Value::String(_)))
        && matches!(body.get("created"), Some(Value::Number(n)) if n.is_i64())
        && is_str_or_null(body.get("model"))
        && is_str_or_null(body.get("system_fingerprint"))
        && matches!(body.get("choices"), Some(Value::Array(c)) if !c.is_empty() && c.iter().all(simple_choice))
        && simple_usage(body.get("usage"))
}

fn get<'a>(m: &'a Map<String, Value>, k: &str) -> &'a Value {
    m.get(k).unwrap_or(&Value::Null)
}

/// A `PromptTokensDetailsWrapper` / `CompletionTokensDetailsWrapper` from its dict, as
/// `_details` + the `_SimpleObject` filler make it (None for a missing or empty dict).
fn details<'py>(
    py: Python<'py>,
    t: &ReplyTypes,
    cls: &Py<PyAny>,
    v: &Value,
    spec: &[(&str, bool)],
) -> PyResult<Bound<'py, PyAny>> {
    let Value::Object(m) = v else {
        return Ok(py.None().into_bound(py));
    };
    if m.is_empty() {
        return Ok(py.None().into_bound(py));
    }
    let (obj, d) = blank(py, t, cls)?;
    for (name, hide) in spec {
        let value = get(m, name);
        if value.is_null() && *hide {
            continue;
        }
        d.set_item(PyString::intern(py, name), to_py(py, value)?)?;
    }
    Ok(obj)
}

fn usage<'py>(py: Python<'py>, t: &ReplyTypes, u: Option<&Value>) -> PyResult<Bound<'py, PyAny>> {
    let empty = Map::new();
    let u = match u {
        Some(Value::Object(m)) => m,
        _ => &empty,
    };
    let int = |k: &str| get(u, k).as_i64().unwrap_or(0);
    let (pt, ct) = (int("prompt_tokens"), int("completion_tokens"));
    let tt = get(u, "total_tokens").as_i64().unwrap_or(pt + ct);
    let (obj, d) = blank(py, t, &t.usage)?;
    d.set_item(intern!(py, "completion_tokens"), ct)?;
    d.set_item(intern!(py, "prompt_tokens"), pt)?;
    d.set_item(intern!(py, "total_tokens"), tt)?;
    d.set_item(
        intern!(py, "completion_tokens_details"),
        details(
            py,
            t,
            &t.completion_details,
            get(u, "completion_tokens_details"),
            COMPLETION_DETAILS,
        )?,
    )?;
    d.set_item(
        intern!(py, "prompt_tokens_details"),
        details(
            py,
            t,
            &t.prompt_details,
            get(u, "prompt_tokens_details"),
            PROMPT_DETAILS,
        )?,
    )?;
    Ok(obj)
}

fn choice<'py>(
    py: Python<'py>,
    t: &ReplyTypes,
    c: &Map<String, Value>,
) -> PyResult<Bound<'py, PyAny>> {
    let none = py.None();
    let m = match c.get("message") {
        Some(Value::Object(m)) => m,
        _ => return Ok(none.into_bound(py)),
    };
    let (msg, md) = blank(py, t, &t.message)?;
    md.set_item(intern!(py, "content"), to_py(py, get(m, "content"))?)?;
    match m.get("role") {
        Some(Value::String(r)) if !r.is_empty() => {
            md.set_item(intern!(py, "role"), to_py(py, get(m, "role"))?)?
        }
        _ => md.set_item(intern!(py, "role"), intern!(py, "assistant"))?,
    }
    md.set_item(intern!(py, "tool_calls"), &none)?;
    md.set_item(intern!(py, "function_call"), &none)?;
    md.set_item(intern!(py, "provider_specific_fields"), &none)?;
    if m.contains_key("annotations") {
        md.set_item(intern!(py, "annotations"), PyList::empty(py))?;
    }
    // Keys LiteLLM does not know are kept after its own, in the reply's order.
    if m.contains_key("refusal") {
        md.set_item(intern!(py, "refusal"), &none)?;
    }

    let (ch, cd) = blank(py, t, &t.choices)?;
    match c.get("finish_reason") {
        Some(Value::String(_)) => cd.set_item(
            intern!(py, "finish_reason"),
            to_py(py, get(c, "finish_reason"))?,
        )?,
        _ => cd.set_item(intern!(py, "finish_reason"), intern!(py, "stop"))?,
    }
    cd.set_item(intern!(py, "index"), get(c, "index").as_i64().unwrap_or(0))?;
    cd.set_item(intern!(py, "message"), msg)?;
    Ok(ch)
}

/// The `ModelResponse` for `body` with `hidden` and `ms` set, or `None` when the classes
/// are not registered or the reply is not of the plain shape (`_from_openai` then builds it).
pub fn reply_object<'py>(
    py: Python<'py>,
    body: &Map<String, Value>,
    hidden: &Bound<'py, PyDict>,
    ms: f64,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(t) = TYPES.get(py) else {
        return Ok(None);
    };
    if !is_simple(body) {
        return Ok(None);
    }
    let choices = PyList::empty(py);
    if let Some(Value::Array(list)) = body.get("choices") {
        for c in list {
            if let Value::Object(c) = c {
                choices.append(choice(py, t, c)?)?;
            }
        }
    }
    let (obj, d) = blank(py, t, &t.response)?;
    d.set_item(intern!(py, "id"), to_py(py, get(body, "id"))?)?;
    d.set_item(intern!(py, "created"), to_py(py, get(body, "created"))?)?;
    d.set_item(intern!(py, "model"), to_py(py, get(body, "model"))?)?;
    d.set_item(intern!(py, "object"), intern!(py, "chat.completion"))?;
    d.set_item(
        intern!(py, "system_fingerprint"),
        to_py(py, get(body, "system_fingerprint"))?,
    )?;
    d.set_item(intern!(py, "choices"), choices)?;
    d.set_item(intern!(py, "usage"), usage(py, t, body.get("usage"))?)?;
    if let Some(tier) = body.get("service_tier") {
        d.set_item(intern!(py, "service_tier"), to_py(py, tier)?)?;
    }
    d.set_item(intern!(py, "_hidden_params"), hidden)?;
    d.set_item(intern!(py, "_response_ms"), ms)?;
    Ok(Some(obj))
}
