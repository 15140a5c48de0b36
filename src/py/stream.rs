//! The Rust half of a stream: a handle on the chunk channel that Python drains in batches.
//!
//! `rustllm.CustomStreamWrapper` (Python) owns one `ChatStream` and turns its dicts into
//! `ModelResponseStream` objects. The same handle serves `for` and `async for`, whichever
//! call opened it, because the reading task runs on rustllm's runtime, not on any asyncio
//! loop: a stream opened inside `asyncio.run()` can still be iterated after it returns.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::sync::MutexExt;
use pyo3::types::{PyDict, PyList, PyString};

use crate::stream::chunk::DeltaField;
use crate::stream::{Chunk, DeltaEvent, DeltaKind, SimpleChunk};
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, Mutex};

use super::blocking::block_on;
use super::bridge::{Convert, LoopWaker};
use super::convert::map_to_py;
use super::errors::to_pyerr;
use crate::error::LlmError;
use crate::stream::Batch;

type Receiver = Arc<Mutex<Option<mpsc::Receiver<Batch>>>>;

/// A handle on a running stream's chunks.
#[pyclass(module = "rustllm._core", frozen)]
pub struct ChatStream {
    rx: Receiver,
    /// Released when the stream ends or is closed (a Router keeps the deployment's
    /// in-flight count and parallel-request slot here).
    guard: Guard,
    /// Set by `use_types` or `use_event_types`: build response objects here instead of
    /// dicts (fast path).
    fast: Arc<std::sync::OnceLock<FastTypes>>,
    /// Python strings for the values every chunk repeats (id, model, ...), made once.
    strings: Arc<std::sync::Mutex<StrCache>>,
    /// Chunks received but not yet handed to Python (see `to_list`).
    backlog: Backlog,
    /// The process generation that opened it (see `transport`): its reading task does not
    /// exist in a forked child.
    generation: usize,
}

type Backlog = Arc<std::sync::Mutex<std::collections::VecDeque<Chunk>>>;

/// At most this many chunks become Python objects per hand-over: a fast stream can have
/// thousands waiting, and objects made long before they are read survive the garbage
/// collector's young generations and get promoted, which makes later collections dearer.
const HANDOVER: usize = 64;

/// The Python string last made for each repeated chunk value, keyed by the shared Rust
/// string it came from (pointer equality: the decoder shares one `Arc` per value).
#[derive(Default)]
struct StrCache {
    id: Option<(Arc<str>, Py<PyString>)>,
    model: Option<(Arc<str>, Py<PyString>)>,
    fingerprint: Option<(Arc<str>, Py<PyString>)>,
    tier: Option<(Arc<str>, Py<PyString>)>,
    created: Option<(i64, Py<PyAny>)>,
    /// A Responses stream's current item id.
    item: Option<(Arc<str>, Py<PyString>)>,
}

fn cached<'py>(
    py: Python<'py>,
    slot: &mut Option<(Arc<str>, Py<PyString>)>,
    s: &Arc<str>,
) -> Bound<'py, PyString> {
    if let Some((key, obj)) = slot {
        if Arc::ptr_eq(key, s) {
            return obj.bind(py).clone();
        }
    }
    let obj = PyString::new(py, s);
    *slot = Some((s.clone(), obj.clone().unbind()));
    obj
}

/// The classes a stream's common chunks are built as (`object.__new__` makes them).
struct FastTypes {
    new: Py<PyAny>,
    types: Types,
}

enum Types {
    /// A chat stream's: rustllm's stream response classes, and the `_hidden_params`
    /// every chunk shares.
    Chat {
        stream: Py<PyAny>,
        choice: Py<PyAny>,
        delta: Py<PyAny>,
        hidden: Py<PyAny>,
    },
    /// A Responses stream's delta event classes.
    Events {
        text: Py<PyAny>,
        arguments: Py<PyAny>,
    },
}

type Guard = Arc<std::sync::Mutex<Option<Box<dyn Send>>>>;

fn release(guard: &Guard) {
    if let Ok(mut g) = guard.lock() {
        g.take();
    }
}

impl ChatStream {
    pub fn new(rx: mpsc::Receiver<Batch>) -> Self {
        ChatStream {
            rx: Arc::new(Mutex::new(Some(rx))),
            guard: Arc::new(std::sync::Mutex::new(None)),
            fast: Arc::new(std::sync::OnceLock::new()),
            strings: Arc::default(),
            backlog: Arc::default(),
            generation: crate::transport::generation(),
        }
    }

    pub fn with_guard(rx: mpsc::Receiver<Batch>, guard: Box<dyn Send>) -> Self {
        ChatStream {
            rx: Arc::new(Mutex::new(Some(rx))),
            guard: Arc::new(std::sync::Mutex::new(Some(guard))),
            fast: Arc::new(std::sync::OnceLock::new()),
            strings: Arc::default(),
            backlog: Arc::default(),
            generation: crate::transport::generation(),
        }
    }

    fn release(&self) {
        release(&self.guard);
    }

    /// A stream opened before `fork()` is read by a task of the parent's: in the child,
    /// waiting on it would hang forever.
    fn check_process(&self) -> PyResult<()> {
        if self.generation == crate::transport::generation() {
            return Ok(());
        }
        Err(pyo3::exceptions::PyRuntimeError::new_err(
            "this stream was opened by the parent process before fork(): only the parent can read it; open a new one in the child",
        ))
    }

    /// The next hand-over from chunks already received.
    fn next_from_backlog(&self, py: Python<'_>) -> PyResult<Option<Py<PyList>>> {
        to_list(
            py,
            Step::Chunks(Vec::new()),
            self.fast.get(),
            &self.strings,
            &self.backlog,
        )
    }
}

/// What one wait produced: chunks, the end, or the error that ended the stream.
enum Step {
    Chunks(Vec<Chunk>),
    End,
}

/// Take every batch that is ready now, after `first`. An error waiting behind chunks is
/// kept for the next call so the chunks before it are delivered first.
fn gather(
    rx: &mut mpsc::Receiver<Batch>,
    mut chunks: Vec<Chunk>,
    pending: &mut Option<LlmError>,
) -> Vec<Chunk> {
    loop {
        match rx.try_recv() {
            Ok(Ok(more)) => chunks.extend(more),
            Ok(Err(e)) => {
                *pending = Some(e);
                return chunks;
            }
            Err(_) => return chunks,
        }
    }
}

async fn next_step(rx: Receiver) -> Result<Step, LlmError> {
    let mut guard = rx.lock().await;
    let Some(r) = guard.as_mut() else {
        return Ok(Step::End);
    };
    match r.recv().await {
        Some(Ok(first)) => {
            let mut pending = None;
            let chunks = gather(r, first, &mut pending);
            if let Some(e) = pending {
                // Deliver the chunks now; the error is re-queued by closing with it.
                let (tx, new_rx) = mpsc::channel(1);
                let _ = tx.try_send(Err(e));
                *guard = Some(new_rx);
            }
            Ok(Step::Chunks(chunks))
        }
        Some(Err(e)) => {
            *guard = None;
            Err(e)
        }
        None => {
            *guard = None;
            Ok(Step::End)
        }
    }
}

fn to_list(
    py: Python<'_>,
    step: Step,
    fast: Option<&FastTypes>,
    strings: &std::sync::Mutex<StrCache>,
    backlog: &Backlog,
) -> PyResult<Option<Py<PyList>>> {
    match step {
        Step::End => Ok(None),
        Step::Chunks(chunks) => {
            // Out of the backlog before any Python object is made: a thread that closes
            // the stream, or asks whether chunks wait, waits on this lock without leaving
            // the interpreter, so its holder must never run Python (with free threading, a
            // collection would wait for the blocked thread, and the blocked thread for
            // this one). Held for Rust work only, it is taken the plain way everywhere.
            let taken: Vec<Chunk> = {
                let mut backlog = backlog.lock().unwrap_or_else(|e| e.into_inner());
                backlog.extend(chunks);
                let take = backlog.len().min(HANDOVER);
                backlog.drain(..take).collect()
            };
            let list = PyList::empty(py);
            let Some(f) = fast else {
                for c in taken {
                    list.append(map_to_py(py, &c.into_map())?)?;
                }
                return Ok(Some(list.unbind()));
            };
            // Held while objects are made: every wait on it leaves the interpreter.
            let mut strings = strings
                .lock_py_attached(py)
                .unwrap_or_else(|e| e.into_inner());
            for c in taken {
                match (c, &f.types) {
                    (Chunk::Simple(c), Types::Chat { .. }) => {
                        list.append(typed_chunk(py, f, &c, &mut strings)?)?
                    }
                    (Chunk::Delta(d), Types::Events { .. }) => {
                        list.append(delta_event(py, f, &d, &mut strings)?)?
                    }
                    // The Python wrapper builds these through `_from_openai`.
                    (Chunk::Full(m), _) => list.append(map_to_py(py, &m)?)?,
                    (c, _) => list.append(map_to_py(py, &c.into_map())?)?,
                }
            }
            Ok(Some(list.unbind()))
        }
    }
}

/// True when chunks already received wait in the backlog.
fn has_backlog(backlog: &Backlog) -> bool {
    !backlog.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
}

/// A new instance of one of rustllm's response classes (no `__init__`), and its `__dict__`.
fn blank<'py>(
    py: Python<'py>,
    f: &FastTypes,
    cls: &Py<PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyDict>)> {
    let obj = f.new.bind(py).call1((cls.bind(py),))?;
    let dict = obj
        .getattr(pyo3::intern!(py, "__dict__"))?
        .cast_into::<PyDict>()?;
    Ok((obj, dict))
}

/// A typed chunk built into `ModelResponseStream` / `StreamingChoices` / `Delta`, with
/// the fields and order `ModelResponseStream._from_openai` gives (tests compare the two).
fn typed_chunk<'py>(
    py: Python<'py>,
    f: &FastTypes,
    c: &SimpleChunk,
    strings: &mut StrCache,
) -> PyResult<Bound<'py, PyAny>> {
    let Types::Chat {
        stream,
        choice,
        delta,
        hidden,
    } = &f.types
    else {
        return map_to_py(py, &c.to_map()).map(Bound::into_any);
    };
    let none = py.None();
    let none = none.bind(py);
    let (d, dd) = blank(py, f, delta)?;
    dd.set_item(pyo3::intern!(py, "provider_specific_fields"), none)?;
    match &c.content {
        Some(text) => dd.set_item(pyo3::intern!(py, "content"), PyString::new(py, text))?,
        None => dd.set_item(pyo3::intern!(py, "content"), none)?,
    }
    if c.role {
        dd.set_item(pyo3::intern!(py, "role"), pyo3::intern!(py, "assistant"))?;
    } else {
        dd.set_item(pyo3::intern!(py, "role"), none)?;
    }
    dd.set_item(pyo3::intern!(py, "function_call"), none)?;
    dd.set_item(pyo3::intern!(py, "tool_calls"), none)?;
    dd.set_item(pyo3::intern!(py, "audio"), none)?;

    let (ch, cd) = blank(py, f, choice)?;
    match c.finish_reason {
        Some(r) => cd.set_item(pyo3::intern!(py, "finish_reason"), finish_str(py, r))?,
        None => cd.set_item(pyo3::intern!(py, "finish_reason"), none)?,
    }
    cd.set_item(pyo3::intern!(py, "index"), c.index)?;
    cd.set_item(pyo3::intern!(py, "delta"), d)?;
    cd.set_item(pyo3::intern!(py, "logprobs"), none)?;

    let (o, od) = blank(py, f, stream)?;
    od.set_item(pyo3::intern!(py, "id"), cached(py, &mut strings.id, &c.id))?;
    let created = match &strings.created {
        Some((n, obj)) if *n == c.created => obj.bind(py).clone(),
        _ => {
            let obj = c.created.into_pyobject(py)?.into_any();
            strings.created = Some((c.created, obj.clone().unbind()));
            obj
        }
    };
    od.set_item(pyo3::intern!(py, "created"), created)?;
    match &c.model {
        Some(m) => od.set_item(
            pyo3::intern!(py, "model"),
            cached(py, &mut strings.model, m),
        )?,
        None => od.set_item(pyo3::intern!(py, "model"), none)?,
    }
    od.set_item(
        pyo3::intern!(py, "object"),
        pyo3::intern!(py, "chat.completion.chunk"),
    )?;
    match &c.system_fingerprint {
        Some(fp) => od.set_item(
            pyo3::intern!(py, "system_fingerprint"),
            cached(py, &mut strings.fingerprint, fp),
        )?,
        None => od.set_item(pyo3::intern!(py, "system_fingerprint"), none)?,
    }
    od.set_item(pyo3::intern!(py, "choices"), PyList::new(py, [ch])?)?;
    od.set_item(pyo3::intern!(py, "provider_specific_fields"), none)?;
    if let Some(tier) = &c.service_tier {
        match tier {
            Some(t) => od.set_item(
                pyo3::intern!(py, "service_tier"),
                cached(py, &mut strings.tier, t),
            )?,
            None => od.set_item(pyo3::intern!(py, "service_tier"), none)?,
        }
    }
    if let Some(o) = &c.obfuscation {
        od.set_item(pyo3::intern!(py, "obfuscation"), o.as_deref())?;
    }
    od.set_item(pyo3::intern!(py, "_hidden_params"), hidden.bind(py))?;
    od.set_item(pyo3::intern!(py, "_response_ms"), none)?;
    Ok(o)
}

/// A Responses delta event built into its event class (`OutputTextDeltaEvent`,
/// `FunctionCallArgumentsDeltaEvent`), with the fields and order the dict of
/// [`DeltaEvent::to_map`] gives (tests compare the two).
fn delta_event<'py>(
    py: Python<'py>,
    f: &FastTypes,
    d: &DeltaEvent,
    strings: &mut StrCache,
) -> PyResult<Bound<'py, PyAny>> {
    let Types::Events { text, arguments } = &f.types else {
        return map_to_py(py, &d.to_map()).map(Bound::into_any);
    };
    let cls = match d.kind {
        DeltaKind::OutputText => text,
        DeltaKind::FunctionCallArguments => arguments,
    };
    let (o, od) = blank(py, f, cls)?;
    d.try_for_each_field(|k, v| {
        let key = match k {
            "type" => pyo3::intern!(py, "type"),
            "sequence_number" => pyo3::intern!(py, "sequence_number"),
            "item_id" => pyo3::intern!(py, "item_id"),
            "output_index" => pyo3::intern!(py, "output_index"),
            "content_index" => pyo3::intern!(py, "content_index"),
            "delta" => pyo3::intern!(py, "delta"),
            "logprobs" => pyo3::intern!(py, "logprobs"),
            "obfuscation" => pyo3::intern!(py, "obfuscation"),
            _ => &PyString::new(py, k),
        };
        match (k, v) {
            ("type", _) => od.set_item(
                key,
                match d.kind {
                    DeltaKind::OutputText => pyo3::intern!(py, "response.output_text.delta"),
                    DeltaKind::FunctionCallArguments => {
                        pyo3::intern!(py, "response.function_call_arguments.delta")
                    }
                },
            ),
            ("item_id", _) => od.set_item(key, cached(py, &mut strings.item, &d.item_id)),
            (_, DeltaField::Str(s)) => od.set_item(key, PyString::new(py, s)),
            (_, DeltaField::Int(n)) => od.set_item(key, n),
            (_, DeltaField::EmptyList) => od.set_item(key, PyList::empty(py)),
        }
    })?;
    Ok(o)
}

fn finish_str<'py>(py: Python<'py>, reason: &'static str) -> &'py Bound<'py, PyString> {
    match reason {
        "stop" => pyo3::intern!(py, "stop"),
        "length" => pyo3::intern!(py, "length"),
        "tool_calls" => pyo3::intern!(py, "tool_calls"),
        "content_filter" => pyo3::intern!(py, "content_filter"),
        _ => pyo3::intern!(py, "function_call"),
    }
}

#[pymethods]
impl ChatStream {
    /// The next chunks as a list of dicts, waiting (GIL released) if none is ready;
    /// `None` once the stream has ended. Raises the error that ended the stream.
    fn next_batch(&self, py: Python<'_>) -> PyResult<Option<Py<PyList>>> {
        self.check_process()?;
        if has_backlog(&self.backlog) {
            return self.next_from_backlog(py);
        }
        let step = block_on(py, next_step(self.rx.clone()));
        if !matches!(step, Ok(Step::Chunks(_))) {
            self.release();
        }
        to_list(py, step?, self.fast.get(), &self.strings, &self.backlog)
    }

    /// The chunks ready right now, without waiting: a list (empty when nothing is ready
    /// yet), or `None` once the stream has ended.
    fn try_batch(&self, py: Python<'_>) -> PyResult<Option<Py<PyList>>> {
        self.check_process()?;
        if has_backlog(&self.backlog) {
            return self.next_from_backlog(py);
        }
        let Ok(mut guard) = self.rx.try_lock() else {
            // Another waiter holds the channel: nothing is ready for us.
            return Ok(Some(PyList::empty(py).unbind()));
        };
        let Some(r) = guard.as_mut() else {
            return Ok(None);
        };
        match r.try_recv() {
            Ok(Ok(first)) => {
                let mut pending = None;
                let chunks = gather(r, first, &mut pending);
                if let Some(e) = pending {
                    let (tx, new_rx) = mpsc::channel(1);
                    let _ = tx.try_send(Err(e));
                    *guard = Some(new_rx);
                }
                to_list(
                    py,
                    Step::Chunks(chunks),
                    self.fast.get(),
                    &self.strings,
                    &self.backlog,
                )
            }
            Ok(Err(e)) => {
                *guard = None;
                self.release();
                Err(to_pyerr(py, e))
            }
            Err(TryRecvError::Empty) => Ok(Some(PyList::empty(py).unbind())),
            Err(TryRecvError::Disconnected) => {
                *guard = None;
                self.release();
                Ok(None)
            }
        }
    }

    /// The next chunks (as `next_batch` gives them), resolving `future` through `waker`'s
    /// loop (no GIL is taken off the loop's thread; see `bridge.rs`).
    fn next_batch_submit(
        &self,
        py: Python<'_>,
        waker: &Bound<'_, LoopWaker>,
        future: Py<PyAny>,
    ) -> PyResult<()> {
        self.check_process()?;
        let rx = self.rx.clone();
        let guard = self.guard.clone();
        let fast = self.fast.clone();
        let strings = self.strings.clone();
        let backlog = self.backlog.clone();
        // Spawned at once (no flush): the loop is waiting on nothing else. Cancelling the
        // future aborts the wait, which lets `close` take the channel and end the stream.
        waker.get().spawn(
            py,
            future,
            Box::pin(async move {
                // Chunks already received go first (`next_step` only reads the channel).
                let step = if has_backlog(&backlog) {
                    Ok(Step::Chunks(Vec::new()))
                } else {
                    next_step(rx).await
                };
                if !matches!(step, Ok(Step::Chunks(_))) {
                    release(&guard);
                }
                let convert: Convert = Box::new(move |py| match step {
                    Ok(step) => {
                        to_list(py, step, fast.get(), &strings, &backlog).map(|l| match l {
                            Some(list) => list.into_any(),
                            None => py.None(),
                        })
                    }
                    Err(e) => Err(to_pyerr(py, e)),
                });
                convert
            }),
        )
    }

    /// Build chunks as these classes directly (rustllm's `ModelResponseStream`,
    /// `StreamingChoices`, `Delta`), sharing `hidden_params`, instead of handing back dicts.
    fn use_types(
        &self,
        py: Python<'_>,
        stream: Py<PyAny>,
        choice: Py<PyAny>,
        delta: Py<PyAny>,
        hidden: Py<PyAny>,
    ) -> PyResult<()> {
        let new = super::objects::object_new(py)?;
        let _ = self.fast.set(FastTypes {
            new,
            types: Types::Chat {
                stream,
                choice,
                delta,
                hidden,
            },
        });
        Ok(())
    }

    /// Build a Responses stream's delta events as these classes directly
    /// (`OutputTextDeltaEvent`, `FunctionCallArgumentsDeltaEvent`) instead of handing
    /// back dicts; the other events stay dicts.
    fn use_event_types(
        &self,
        py: Python<'_>,
        text: Py<PyAny>,
        arguments: Py<PyAny>,
    ) -> PyResult<()> {
        let new = super::objects::object_new(py)?;
        let _ = self.fast.set(FastTypes {
            new,
            types: Types::Events { text, arguments },
        });
        Ok(())
    }

    /// Stop the stream: the reading task ends and the connection is released.
    fn close(&self) {
        self.release();
        self.backlog
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        match self.rx.try_lock() {
            Ok(mut guard) => *guard = None,
            Err(_) => {
                // A waiter holds the lock; close as soon as it lets go.
                let rx = self.rx.clone();
                crate::transport::runtime().spawn(async move {
                    *rx.lock().await = None;
                });
            }
        }
    }

    /// True once the stream has ended or been closed.
    #[getter]
    fn closed(&self) -> bool {
        matches!(self.rx.try_lock(), Ok(g) if g.is_none())
    }
}

/// How many stream-reading tasks are running (for leak tests).
#[pyfunction]
fn active_streams() -> usize {
    crate::stream::active_streams()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ChatStream>()?;
    m.add_function(wrap_pyfunction!(active_streams, m)?)?;
    m.add_function(wrap_pyfunction!(assemble_chunks, m)?)?;
    Ok(())
}

/// The fields of a response object, a dict, or anything with attributes, looked up once
/// per object: rustllm's response classes keep their fields in `__dict__` (one dict
/// lookup a field), dicts are read by key, other objects by attribute.
enum Fields<'py> {
    Dict(Bound<'py, pyo3::types::PyDict>),
    Attrs(Bound<'py, PyAny>),
}

impl<'py> Fields<'py> {
    fn of(obj: &Bound<'py, PyAny>) -> Self {
        let py = obj.py();
        if let Ok(d) = obj.cast::<pyo3::types::PyDict>() {
            return Fields::Dict(d.clone());
        }
        match obj
            .getattr(pyo3::intern!(py, "__dict__"))
            .ok()
            .and_then(|d| d.cast_into::<pyo3::types::PyDict>().ok())
        {
            Some(d) => Fields::Dict(d),
            None => Fields::Attrs(obj.clone()),
        }
    }

    /// The field's value; `None` when it is missing or None.
    fn get(&self, name: &Bound<'py, pyo3::types::PyString>) -> Option<Bound<'py, PyAny>> {
        let v = match self {
            Fields::Dict(d) => d.get_item(name).ok().flatten(),
            Fields::Attrs(o) => o.getattr(name).ok(),
        };
        v.filter(|v| !v.is_none())
    }
}

/// One field of `obj` (see [`Fields`]).
fn field<'py>(
    obj: &Bound<'py, PyAny>,
    name: &Bound<'py, pyo3::types::PyString>,
) -> Option<Bound<'py, PyAny>> {
    Fields::of(obj).get(name)
}

fn text<'py>(obj: Option<Bound<'py, PyAny>>) -> Option<std::borrow::Cow<'py, str>> {
    let s = obj?.cast_into::<pyo3::types::PyString>().ok()?;
    // Borrow the UTF-8 buffer once; the chunk's string outlives this call.
    s.to_cow()
        .ok()
        .map(|c| std::borrow::Cow::Owned(c.into_owned()))
}

/// Walk streamed chunks once and gather what `stream_chunk_builder` needs: content,
/// reasoning, thinking blocks, tool calls merged by index, the last finish reason, the
/// first id, the role and the stream's usage object (or None).
#[pyfunction]
fn assemble_chunks<'py>(
    py: Python<'py>,
    chunks: &Bound<'py, PyList>,
) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
    use crate::stream::assemble::{Assembler, ThinkingBlock};
    let k_id = pyo3::intern!(py, "id");
    let k_usage = pyo3::intern!(py, "usage");
    let k_choices = pyo3::intern!(py, "choices");
    let k_finish = pyo3::intern!(py, "finish_reason");
    let k_delta = pyo3::intern!(py, "delta");
    let k_content = pyo3::intern!(py, "content");
    let k_role = pyo3::intern!(py, "role");
    let k_reasoning = pyo3::intern!(py, "reasoning_content");
    let k_thinking_blocks = pyo3::intern!(py, "thinking_blocks");
    let k_thinking = pyo3::intern!(py, "thinking");
    let k_signature = pyo3::intern!(py, "signature");
    let k_data = pyo3::intern!(py, "data");
    let k_tool_calls = pyo3::intern!(py, "tool_calls");
    let k_function = pyo3::intern!(py, "function");
    let k_function_call = pyo3::intern!(py, "function_call");
    let k_index = pyo3::intern!(py, "index");
    let k_type = pyo3::intern!(py, "type");
    let k_name = pyo3::intern!(py, "name");
    let k_arguments = pyo3::intern!(py, "arguments");

    let mut a = Assembler::new();
    let mut usage: Option<Bound<'py, PyAny>> = None;
    // The content pieces stay Python strings and are joined once by Python at the end:
    // no UTF-8 copy of each piece (the stable ABI has no borrowed view of a str).
    let content_parts = PyList::empty(py);
    for chunk in chunks.iter() {
        let chunk = Fields::of(&chunk);
        if a.id.is_none() {
            if let Some(id) = text(chunk.get(k_id)) {
                a.id(&id);
            }
        }
        if let Some(u) = chunk.get(k_usage) {
            usage = Some(u);
        }
        let Some(choices) = chunk.get(k_choices) else {
            continue;
        };
        let Ok(first) = choices.get_item(0) else {
            continue;
        };
        let first = Fields::of(&first);
        if let Some(reason) = text(first.get(k_finish)) {
            a.finish_reason(&reason);
        }
        let Some(delta) = first.get(k_delta) else {
            continue;
        };
        let delta = Fields::of(&delta);
        if a.role.is_none() {
            if let Some(role) = text(delta.get(k_role)) {
                a.role(&role);
            }
        }
        if let Some(c) = delta.get(k_content) {
            if c.is_instance_of::<PyString>() {
                content_parts.append(c)?;
            }
        }
        if let Some(r) = text(delta.get(k_reasoning)) {
            a.reasoning(&r);
        }
        if let Some(blocks) = delta.get(k_thinking_blocks) {
            for block in blocks.try_iter()? {
                let block = Fields::of(&block?);
                a.thinking_block(
                    text(block.get(k_type)).as_deref(),
                    text(block.get(k_thinking)).as_deref(),
                    text(block.get(k_signature)).as_deref(),
                    text(block.get(k_data)).as_deref(),
                );
            }
        }
        if let Some(fc) = delta.get(k_function_call) {
            let name = text(field(&fc, k_name));
            let args = text(field(&fc, k_arguments));
            a.function_call(name.as_deref(), args.as_deref());
        }
        if let Some(calls) = delta.get(k_tool_calls) {
            for call in calls.try_iter()? {
                let call = call?;
                let index = field(&call, k_index)
                    .and_then(|i| i.extract::<i64>().ok())
                    .unwrap_or(0);
                let (name, args) = match field(&call, k_function) {
                    Some(f) => (text(field(&f, k_name)), text(field(&f, k_arguments))),
                    None => (None, None),
                };
                let id = text(field(&call, k_id));
                let kind = text(field(&call, k_type));
                a.tool_call(
                    index,
                    id.as_deref(),
                    name.as_deref(),
                    kind.as_deref(),
                    args.as_deref(),
                );
            }
        }
    }
    let content = if content_parts.is_empty() {
        None
    } else {
        let joined =
            PyString::new(py, "").call_method1(pyo3::intern!(py, "join"), (content_parts,))?;
        a.content = Some(joined.cast::<PyString>()?.to_cow()?.into_owned());
        Some(joined)
    };
    let out = pyo3::types::PyDict::new(py);
    out.set_item("id", a.id.as_deref())?;
    out.set_item("role", a.role.as_deref())?;
    out.set_item("content", content)?;
    out.set_item("reasoning_content", a.reasoning.as_deref())?;
    let thinking_blocks = PyList::empty(py);
    for block in a.finished_thinking_blocks() {
        let b = pyo3::types::PyDict::new(py);
        match block {
            ThinkingBlock::Thinking {
                thinking,
                signature,
            } => {
                b.set_item(k_type, "thinking")?;
                b.set_item(k_thinking, thinking)?;
                b.set_item(k_signature, signature)?;
            }
            ThinkingBlock::Redacted { data } => {
                b.set_item(k_type, "redacted_thinking")?;
                b.set_item(k_data, data)?;
            }
        }
        thinking_blocks.append(b)?;
    }
    out.set_item("thinking_blocks", thinking_blocks)?;
    out.set_item("finish_reason", a.finish_reason.as_deref())?;
    let function_call = match &a.function_name {
        Some(name) => Some((
            name.clone(),
            a.function_arguments.clone().unwrap_or_default(),
        )),
        None => None,
    };
    out.set_item("function_call", function_call)?;
    out.set_item("tool_calls", a.finished_tool_calls())?;
    out.set_item("completion_text", a.completion_text())?;
    out.set_item("usage", usage)?;
    Ok(out)
}
