//! Python objects <-> JSON values, once per call at the boundary.
//!
//! Inputs may hold rustllm/LiteLLM response objects (a returned `Message` appended to the
//! history) or pydantic models (tools): anything with `model_dump()` is dumped first.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

const MAX_DEPTH: usize = 64;

/// Convert a Python value to JSON. `path` names the value in error messages.
pub fn to_value(obj: &Bound<'_, PyAny>, path: &str) -> PyResult<Value> {
    convert(obj, &Path::Root(path), 0)
}

/// Where a value sits (`messages[0]["content"]`), spelled out only for an error message.
enum Path<'a> {
    Root(&'a str),
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root(name) => f.write_str(name),
            Path::Key(parent, key) => write!(f, "{parent}[{key:?}]"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

fn convert(obj: &Bound<'_, PyAny>, path: &Path<'_>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyTypeError::new_err(format!(
            "{path} is nested too deeply (or refers to itself)"
        )));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(obj.extract::<bool>()?));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        return Number::from_f64(v).map(Value::Number).ok_or_else(|| {
            PyTypeError::new_err(format!("{path} is {v}, which JSON cannot carry"))
        });
    }
    // Containers are checked before integers: a failed integer extraction builds (and
    // drops) a Python exception, which cost more than converting a whole message.
    let is_int = obj.is_instance_of::<PyInt>();
    if !is_int {
        if let Some(v) = convert_container(obj, path, depth)? {
            return Ok(v);
        }
    }
    // Integers, and objects with `__index__` (numpy integers).
    if let Ok(i) = obj.extract::<i64>() {
        return Ok(Value::Number(i.into()));
    }
    if let Ok(i) = obj.extract::<u64>() {
        return Ok(Value::Number(i.into()));
    }
    convert_other(obj, path, depth)
}

fn convert_container(
    obj: &Bound<'_, PyAny>,
    path: &Path<'_>,
    depth: usize,
) -> PyResult<Option<Value>> {
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key = match k.cast::<PyString>() {
                Ok(s) => s.to_cow()?.into_owned(),
                Err(_) => k.str()?.to_cow()?.into_owned(),
            };
            let child = convert(&v, &Path::Key(path, &key), depth + 1)?;
            map.insert(key, child);
        }
        return Ok(Some(Value::Object(map)));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        let mut out = Vec::with_capacity(l.len());
        for (i, item) in l.iter().enumerate() {
            out.push(convert(&item, &Path::Index(path, i), depth + 1)?);
        }
        return Ok(Some(Value::Array(out)));
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        let mut out = Vec::with_capacity(t.len());
        for (i, item) in t.iter().enumerate() {
            out.push(convert(&item, &Path::Index(path, i), depth + 1)?);
        }
        return Ok(Some(Value::Array(out)));
    }
    Ok(None)
}

fn convert_other(obj: &Bound<'_, PyAny>, path: &Path<'_>, depth: usize) -> PyResult<Value> {
    // Response objects and pydantic models.
    for method in ["model_dump", "to_dict"] {
        if let Ok(dump) = obj.getattr(method) {
            if dump.is_callable() {
                let dumped = dump.call0()?;
                if dumped.is_instance_of::<PyDict>() {
                    return convert(&dumped, path, depth + 1);
                }
            }
        }
    }
    // Other numbers (Decimal, numpy scalars) through float.
    if let Ok(f) = obj.extract::<f64>() {
        if let Some(n) = Number::from_f64(f) {
            return Ok(Value::Number(n));
        }
    }
    let type_name = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into());
    Err(PyTypeError::new_err(format!(
        "{path} has type {type_name}, which cannot be sent as JSON (use str, int, float, bool, None, list or dict)"
    )))
}

/// Convert a JSON value to Python objects (dicts, lists, str, int, float, bool, None).
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => match common_text(py, s) {
            Some(interned) => interned.clone().into_any(),
            None => PyString::new(py, s).into_any(),
        },
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => map_to_py(py, map)?.into_any(),
    })
}

/// The interned Python string for keys and values every response repeats (`choices`,
/// `delta`, `assistant`, `chat.completion.chunk`, ...). Reusing them saves an allocation,
/// a UTF-8 decode and a hash per occurrence: a streamed chunk holds about a dozen.
fn common_text<'py>(py: Python<'py>, s: &str) -> Option<&'py Bound<'py, PyString>> {
    macro_rules! interned {
        ($($lit:literal),* $(,)?) => {
            match s {
                $($lit => Some(pyo3::intern!(py, $lit)),)*
                _ => None,
            }
        };
    }
    interned!(
        "id",
        "object",
        "created",
        "model",
        "choices",
        "index",
        "delta",
        "message",
        "content",
        "role",
        "finish_reason",
        "logprobs",
        "usage",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "tool_calls",
        "function",
        "name",
        "arguments",
        "type",
        "refusal",
        "system_fingerprint",
        "service_tier",
        "prompt_tokens_details",
        "completion_tokens_details",
        "cached_tokens",
        "reasoning_tokens",
        "audio_tokens",
        "reasoning_content",
        "chat.completion",
        "chat.completion.chunk",
        "assistant",
        "stop",
        "length",
        "function_call",
        "embedding",
        "data",
        "list",
        "text",
        "obfuscation",
        // The Responses API's stream events (most of them are text deltas).
        "item_id",
        "output_index",
        "content_index",
        "sequence_number",
        "response.output_text.delta",
        "response.function_call_arguments.delta",
        "output_text",
        "output",
        "status",
        "input_tokens",
        "output_tokens",
    )
}

/// Convert a JSON object to a Python dict.
pub fn map_to_py<'py>(py: Python<'py>, map: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, val) in map {
        let value = to_py(py, val)?;
        match common_text(py, k) {
            Some(key) => dict.set_item(key, value)?,
            None => dict.set_item(k, value)?,
        }
    }
    Ok(dict)
}

/// A Python dict of keyword arguments as a JSON object. Each value is converted on its own
/// so an error names the argument (`messages[2]["content"] has type …`).
pub fn kwargs_to_map(kwargs: &Bound<'_, PyDict>) -> PyResult<Map<String, Value>> {
    let mut map = Map::with_capacity(kwargs.len());
    for (k, v) in kwargs.iter() {
        // Most of LiteLLM's ~40 named arguments arrive as None: skip them before
        // paying for the key.
        if v.is_none() {
            continue;
        }
        let key: String = k.extract()?;
        // Never-sent Python-only arguments (clients, logger functions, logging objects)
        // are skipped rather than rejected: LiteLLM accepts them.
        if matches!(
            key.as_str(),
            "client" | "logger_fn" | "litellm_logging_obj" | "azure_ad_token_provider"
        ) {
            continue;
        }
        let value = to_value(&v, &key)?;
        map.insert(key, value);
    }
    Ok(map)
}
