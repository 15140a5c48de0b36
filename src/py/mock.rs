//! `rustllm._core.MockServer`: the binding of `crate::mock::MockServer`. The public,
//! documented class is `rustllm.testing.MockServer`, a thin Python wrapper over this one.

use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use super::convert::{to_py, to_value};
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
            body: body.map(|b| to_value(b, "body")).transpose()?,
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
    d.set_item("body", to_py(py, &r.body)?)?;
    Ok(d)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMockServer>()
}
