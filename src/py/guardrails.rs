//! `rustllm._core.BuiltinGuardrail` and friends: the built-in guardrails of
//! `src/guardrails` for `rustllm.guardrails.Guardrail`. A guardrail is built once from its
//! `litellm_params` (`config::from_params`); a call converts only the texts a model reads
//! (`messages`, `prompt`, `input`, `system`, `instructions`) and gets back, in one
//! crossing, what was blocked, masked, logged or marked sensitive. Masked values are
//! restored in replies by a [`Masking`] handle (whole replies, or a stream's deltas).

use std::sync::{Arc, Mutex};

use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use serde_json::{Map, Value};

use super::convert::{map_to_py, to_py, to_value};
use crate::guardrails::config::from_params;
use crate::guardrails::request::TEXT_FIELDS;
use crate::guardrails::{
    apply, apply_reply, restore_reply, Applied, Blocked, Decision, Guardrail, Masker,
    StreamRestorer,
};

/// One `guardrails:` entry of the built-in detectors, built from its `litellm_params`.
#[pyclass(module = "rustllm._core", name = "BuiltinGuardrail", frozen)]
pub struct PyBuiltinGuardrail {
    name: String,
    rules: Vec<Guardrail>,
}

#[pymethods]
impl PyBuiltinGuardrail {
    /// Raises ValueError naming the guardrail and the field for any malformed setting.
    #[new]
    fn new(guardrail_name: &str, litellm_params: &Bound<'_, PyDict>) -> PyResult<Self> {
        let params = match to_value(litellm_params.as_any(), "litellm_params")? {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let rules = from_params(guardrail_name, &params).map_err(PyValueError::new_err)?;
        Ok(PyBuiltinGuardrail {
            name: guardrail_name.to_string(),
            rules,
        })
    }

    /// The guardrail's name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The actions its rules take (`block`, `mask`, `route`, `log`), in the order they run.
    #[getter]
    fn actions(&self) -> Vec<&'static str> {
        self.rules.iter().map(|g| g.action.as_str()).collect()
    }

    /// Whether a masking rule restores its values in the reply.
    #[getter]
    fn restores(&self) -> bool {
        self.rules.iter().any(|g| g.restore)
    }

    fn __repr__(&self) -> String {
        format!(
            "BuiltinGuardrail(name={:?}, actions={:?})",
            self.name,
            self.actions()
        )
    }
}

/// The placeholders of one call, to put the values back into its reply.
#[pyclass(module = "rustllm._core", name = "GuardrailMasking", frozen)]
pub struct Masking {
    masker: Arc<Masker>,
}

#[pymethods]
impl Masking {
    /// How many distinct values were masked.
    fn __len__(&self) -> usize {
        self.masker.len()
    }

    /// `text` with this call's placeholders put back.
    fn restore_text(&self, text: &str) -> String {
        self.masker.restore(text)
    }

    /// A reply body (chat, text completion, Anthropic or Responses shape) with the
    /// placeholders put back: a new dict.
    fn restore_reply<'py>(
        &self,
        py: Python<'py>,
        reply: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut body = to_value(reply, "response")?;
        restore_reply(&mut body, &self.masker);
        to_py(py, &body)
    }

    /// A restorer for one streamed reply.
    fn stream(&self) -> StreamRestoring {
        StreamRestoring {
            inner: Mutex::new(StreamRestorer::new(self.masker.clone())),
        }
    }
}

/// Restores one streamed reply's deltas, per slot (a choice index, a tool call).
#[pyclass(module = "rustllm._core", name = "GuardrailStreamRestorer", frozen)]
pub struct StreamRestoring {
    inner: Mutex<StreamRestorer>,
}

#[pymethods]
impl StreamRestoring {
    /// The restored text of `delta` for `slot` that can be shown now (a placeholder split
    /// across deltas is held until whole).
    fn push(&self, slot: &str, delta: &str) -> String {
        match self.inner.lock() {
            Ok(mut r) => r.push(slot, delta),
            Err(poisoned) => poisoned.into_inner().push(slot, delta),
        }
    }

    /// What `slot` still holds, restored (at its finish or the stream's end).
    fn finish(&self, slot: &str) -> String {
        match self.inner.lock() {
            Ok(mut r) => r.finish(slot),
            Err(poisoned) => poisoned.into_inner().finish(slot),
        }
    }

    /// The slots still holding text.
    fn pending(&self) -> Vec<String> {
        match self.inner.lock() {
            Ok(r) => r.pending(),
            Err(poisoned) => poisoned.into_inner().pending(),
        }
    }
}

fn decision_py<'py>(py: Python<'py>, d: &Decision) -> PyResult<Bound<'py, PyTuple>> {
    let kinds = PyList::empty(py);
    for (k, n) in &d.kinds {
        kinds.append((k.as_str(), *n))?;
    }
    (d.guardrail.as_str(), d.action.as_str(), kinds).into_pyobject(py)
}

/// What a check returns to Python, in one tuple:
/// `(blocked, changed, decisions, masking, sensitive)`. `blocked` is `None` or
/// `(guardrail, kinds_text, message, decision)`; `changed` is `None` when no text was
/// masked, else the new values of the text keys; `decisions` are
/// `(guardrail, action, [(kind, count), ...])`, never values.
fn outcome<'py>(
    py: Python<'py>,
    result: Result<Applied, Blocked>,
    body: &Value,
) -> PyResult<Bound<'py, PyTuple>> {
    let none = || py.None().into_bound(py);
    match result {
        Err(blocked) => {
            let b = (
                blocked.0.guardrail.as_str(),
                blocked.0.kinds_text(),
                blocked.message(),
                decision_py(py, &blocked.0)?,
            )
                .into_pyobject(py)?;
            (b, none(), PyList::empty(py), none(), false).into_pyobject(py)
        }
        Ok(applied) => {
            let decisions = PyList::empty(py);
            for d in &applied.decisions {
                decisions.append(decision_py(py, d)?)?;
            }
            let masked = applied
                .decisions
                .iter()
                .any(|d| d.action == crate::guardrails::Action::Mask);
            let changed = match (masked, body) {
                (true, Value::Object(map)) => map_to_py(py, map)?.into_any(),
                _ => none(),
            };
            let masking = match applied.restore {
                Some(masker) => Bound::new(py, Masking { masker })?.into_any(),
                None => none(),
            };
            (none(), changed, decisions, masking, applied.sensitive).into_pyobject(py)
        }
    }
}

/// The built-in guardrails Python handed a call to run inside it (removed from its
/// arguments: they are never sent).
pub(super) fn take_inline<'py>(
    kwargs: &Bound<'py, PyDict>,
) -> PyResult<Option<Vec<PyRef<'py, PyBuiltinGuardrail>>>> {
    let key = intern!(kwargs.py(), "_rustllm_guardrails");
    let Some(found) = kwargs.get_item(key)? else {
        return Ok(None);
    };
    kwargs.del_item(key)?;
    Ok(Some(found.extract()?))
}

/// Runs `guardrails` over a call's arguments, one after the other as the Python path
/// does (each sees the texts the previous one masked): masked texts are rewritten in
/// `args`; a block raises `BlockedPiiEntityError` naming the kinds and the guardrail.
/// Nothing observes such a call, so the decisions go nowhere (the Python path records
/// them for callbacks and logs them at INFO; Python keeps those calls).
pub(super) fn check_inline(
    py: Python<'_>,
    guardrails: &[PyRef<'_, PyBuiltinGuardrail>],
    args: &mut Map<String, Value>,
) -> PyResult<()> {
    let mut body = Value::Object(std::mem::take(args));
    let mut blocked = None;
    for g in guardrails {
        let rules: Vec<&Guardrail> = g.rules.iter().collect();
        if let Err(b) = apply(&mut body, &rules) {
            blocked = Some((b, g.name.clone()));
            break;
        }
    }
    if let Value::Object(map) = body {
        *args = map;
    }
    let Some((Blocked(decision), name)) = blocked else {
        return Ok(());
    };
    let kwargs = PyDict::new(py);
    kwargs.set_item("entity_type", decision.kinds_text())?;
    kwargs.set_item("guardrail_name", name)?;
    let error = py
        .import("rustllm.exceptions")?
        .getattr("BlockedPiiEntityError")?
        .call((), Some(&kwargs))?;
    Err(PyErr::from_value(error))
}

/// [`TEXT_FIELDS`] as interned Python strings (looked up in every guarded call's
/// arguments; a new string per key cost more than the look-up).
fn text_field_names(py: Python<'_>) -> [&Bound<'_, PyString>; 7] {
    [
        intern!(py, "system"),
        intern!(py, "instructions"),
        intern!(py, "messages"),
        intern!(py, "prompt"),
        intern!(py, "input"),
        intern!(py, "query"),
        intern!(py, "documents"),
    ]
}

fn rules_of<'a>(guardrails: &'a [PyRef<'a, PyBuiltinGuardrail>]) -> Vec<&'a Guardrail> {
    guardrails.iter().flat_map(|g| g.rules.iter()).collect()
}

/// Runs `guardrails` over the texts of `request` (a call's keyword arguments; only its
/// text keys are read). See [`outcome`] for what comes back.
#[pyfunction]
fn guardrails_check_request<'py>(
    py: Python<'py>,
    guardrails: Vec<PyRef<'py, PyBuiltinGuardrail>>,
    request: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyTuple>> {
    let mut map = Map::new();
    // Only the fields a model reads are converted (a call's other arguments may be
    // clients, files or callables).
    for (key, name) in TEXT_FIELDS.iter().zip(text_field_names(py)) {
        if let Some(v) = request.get_item(name)? {
            if !v.is_none() {
                map.insert(key.to_string(), to_value(&v, key)?);
            }
        }
    }
    let mut body = Value::Object(map);
    let rules = rules_of(&guardrails);
    let result = py.detach(|| apply(&mut body, &rules));
    outcome(py, result, &body)
}

/// Runs `guardrails` over the texts of a reply body (`mode: post_call`); `changed` is the
/// whole masked reply.
#[pyfunction]
fn guardrails_check_reply<'py>(
    py: Python<'py>,
    guardrails: Vec<PyRef<'py, PyBuiltinGuardrail>>,
    reply: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    let mut body = to_value(reply, "response")?;
    let rules = rules_of(&guardrails);
    let result = py.detach(|| apply_reply(&mut body, &rules));
    outcome(py, result, &body)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBuiltinGuardrail>()?;
    m.add_class::<Masking>()?;
    m.add_class::<StreamRestoring>()?;
    m.add_function(wrap_pyfunction!(guardrails_check_request, m)?)?;
    m.add_function(wrap_pyfunction!(guardrails_check_reply, m)?)?;
    Ok(())
}
