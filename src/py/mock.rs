//! `rustllm._core.MockServer`: the binding of `crate::mock::MockServer`. The public,
//! documented class is `rustllm.testing.MockServer`, a thin Python wrapper over this one.

use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use crate::mock::{MockServer, RecordedRequest, ScriptedResponse};

/// The in-process mock OpenAI server (see `rustllm.testing.MockServer` for the docs).
#[pyclass(name = "MockServer", module = "rustllm._core", frozen)]
pub struct PyMockServer {
    inner: MockServer,
}

fn seconds(name: &str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        PyValueError::new_err(format!(
            "{name} must be a non-negative number of seconds, got {value}"
        ))
    })
}

#[pymethods]
impl PyMockServer {
    #[new]
    #[pyo3(signature = (text=None, latency=0.0, record=true))]
    fn new(text: Option<String>, latency: f64, record: bool) -> PyResult<Self> {
        let inner = MockServer::new();
        inner.set_recording(record);
        if let Some(text) = text {
            inner.set_default_text(text);
        }
        inner.set_latency(seconds("latency", latency)?);
        Ok(PyMockServer { inner })
    }

    /// Starts listening on a fresh loopback port (no-op if running); returns the port.
    fn start(&self, py: Python<'_>) -> PyResult<u16> {
        Ok(py.detach(|| self.inner.listen())?)
    }

    /// Stops listening and closes open connections. Idempotent.
    fn stop(&self, py: Python<'_>) {
        py.detach(|| self.inner.stop());
    }

    #[getter]
    fn running(&self) -> bool {
        self.inner.is_running()
    }

    #[getter]
    fn port(&self) -> u16 {
        self.inner.port()
    }

    #[getter]
    fn url(&self) -> String {
        self.inner.url()
    }

    #[getter]
    fn base_url(&self) -> String {
        self.inner.base_url()
    }

    #[getter]
    fn get_default_text(&self) -> String {
        self.inner.default_text()
    }

    #[setter]
    fn set_default_text(&self, text: String) {
        self.inner.set_default_text(text);
    }

    #[getter]
    fn get_latency(&self) -> f64 {
        self.inner.latency().as_secs_f64()
    }

    #[setter]
    fn set_latency(&self, latency: f64) -> PyResult<()> {
        self.inner.set_latency(seconds("latency", latency)?);
        Ok(())
    }

    #[getter]
    fn get_recording(&self) -> bool {
        self.inner.is_recording()
    }

    #[setter]
    fn set_recording(&self, on: bool) {
        self.inner.set_recording(on);
    }

    /// Queues a scripted response (see `rustllm.testing.MockServer.respond`).
    #[pyo3(signature = (*, status=200, body=None, text=None, headers=None, delay=0.0,
                        error=None, disconnect=false, times=1, stream_chunks=None,
                        chunk_delay=0.0, break_after=None))]
    #[allow(clippy::too_many_arguments)]
    fn push(
        &self,
        status: u16,
        body: Option<&Bound<'_, PyAny>>,
        text: Option<String>,
        headers: Option<Vec<(String, String)>>,
        delay: f64,
        error: Option<String>,
        disconnect: bool,
        times: u32,
        stream_chunks: Option<u32>,
        chunk_delay: f64,
        break_after: Option<u32>,
    ) -> PyResult<()> {
        if !(100..=999).contains(&status) {
            return Err(PyValueError::new_err(format!(
                "status must be an HTTP status code, got {status}"
            )));
        }
        let script = ScriptedResponse {
            status,
            body: body.map(py_to_value).transpose()?,
            text,
            headers: headers.unwrap_or_default(),
            delay: seconds("delay", delay)?,
            error_message: error,
            disconnect,
            times,
            stream_chunks,
            chunk_delay: seconds("chunk_delay", chunk_delay)?,
            break_after,
        };
        self.inner.push(script);
        Ok(())
    }

    /// Every recorded request as a dict (method, path, query, headers, body), oldest first.
    fn requests<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let requests = self.inner.requests();
        let list = PyList::empty(py);
        for r in &requests {
            list.append(request_to_py(py, r)?)?;
        }
        Ok(list)
    }

    /// The most recent request, or None.
    fn last_request<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.inner
            .last_request()
            .map(|r| request_to_py(py, &r))
            .transpose()
    }

    /// How many requests were received, recorded or not.
    fn request_count(&self) -> u64 {
        self.inner.request_count()
    }

    /// How many scripted responses are still queued.
    fn pending_scripts(&self) -> usize {
        self.inner.pending_scripts()
    }

    /// Forgets recorded requests and queued scripts.
    fn clear(&self) {
        self.inner.clear();
    }

    fn __repr__(&self) -> String {
        if self.inner.is_running() {
            format!("<MockServer {}>", self.inner.base_url())
        } else {
            "<MockServer (stopped)>".to_string()
        }
    }
}

fn request_to_py<'py>(py: Python<'py>, r: &RecordedRequest) -> PyResult<Bound<'py, PyDict>> {
    let headers = PyDict::new(py);
    for (name, value) in &r.headers {
        // Repeated headers fold into one value, as HTTP allows for all but Set-Cookie.
        let folded = match headers.get_item(name)? {
            Some(previous) => format!("{}, {value}", previous.extract::<String>()?),
            None => value.clone(),
        };
        headers.set_item(name, folded)?;
    }
    let d = PyDict::new(py);
    d.set_item("method", &r.method)?;
    d.set_item("path", &r.path)?;
    d.set_item("query", &r.query)?;
    d.set_item("headers", headers)?;
    d.set_item("body", value_to_py(py, &r.body)?)?;
    Ok(d)
}

/// JSON to Python objects (dict keys keep the JSON order).
// Local until the bindings share one converter.
fn value_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(value_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, value_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// Python objects (None, bool, int, float, str, list, tuple, dict) to JSON.
fn py_to_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: Python's bool is an int subclass.
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(PyValueError::new_err("integer too large for JSON"));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err("NaN and infinity are not JSON"));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            let key = match k.cast::<PyString>() {
                Ok(s) => s.to_cow()?.into_owned(),
                Err(_) => k.str()?.to_cow()?.into_owned(),
            };
            map.insert(key, py_to_value(&v)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return l.iter().map(|item| py_to_value(&item)).collect();
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return t.iter().map(|item| py_to_value(&item)).collect();
    }
    Err(PyTypeError::new_err(format!(
        "cannot send {} as JSON",
        obj.get_type().name()?
    )))
}

/// Adds `MockServer` to `rustllm._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMockServer>()
}
