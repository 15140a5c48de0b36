//! Handing async results to an asyncio loop without taking the GIL on tokio's threads.
//!
//! pyo3-async-runtimes resolves each future from the tokio worker that finished it: the
//! worker must take the GIL (waiting out the loop's switch interval when the loop is busy)
//! and call `call_soon_threadsafe` once per result. Under load that GIL ping-pong caps
//! throughput far below what the Rust side can do. Here a finished task only pushes its
//! result on a queue and, when the queue was empty, writes one byte to a socket the loop
//! watches (`loop.add_reader`). The loop thread, which holds the GIL anyway, then drains
//! every finished result in one go, converts it to Python objects and resolves the futures.
//!
//! The other direction is batched the same way: a call started on the loop is queued on
//! its waker and the whole queue is handed to the runtime once per loop iteration
//! (`flush`, scheduled with `call_soon` by the first call queued), so a burst of calls
//! wakes a sleeping tokio worker once instead of once per call. On two cores each of
//! those wake-ups could preempt the loop's own thread.
//!
//! Cancellation: every task is `Abortable`, and its future (a `rustllm._bridge.CallFuture`)
//! holds the abort handle, so cancelling the future (a task cancelled, `asyncio.wait_for`
//! timing out, an anyio cancel scope) drops the Rust future at once: a request not yet
//! sent is never sent, and one in flight has its connection closed.

use std::collections::VecDeque;
use std::future::Future;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_util::future::{AbortHandle, Abortable};
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::PyList;

/// Turns a finished task's Rust result into the value (or exception) for its future.
pub type Convert = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

thread_local! {
    /// While the loop thread drains: the Rust values the conversions are done with, to
    /// be dropped on the runtime's threads ([`drop_after_drain`]).
    static LEFTOVERS: std::cell::RefCell<Option<Vec<Box<dyn Send>>>> =
        const { std::cell::RefCell::new(None) };
}

/// Drop `value` on the runtime's threads after the current drain, or now when no drain
/// runs on this thread (a blocking call). A reply is parsed on a tokio worker, so its
/// dozens of small allocations belong to that thread's malloc arena; freed on the loop
/// thread, each one that does not fit its thread cache takes the arena's lock, contended
/// with the worker allocating the next reply (glibc's `malloc_consolidate`, `unlink_chunk`
/// and futex wake-ups were ~10% of an async call's CPU at concurrency 100). One task per
/// drain gives them back where they came from.
pub fn drop_after_drain<T: Send + 'static>(value: T) {
    let kept = LEFTOVERS.with(|l| match l.borrow_mut().as_mut() {
        Some(list) => {
            list.push(Box::new(value));
            None
        }
        None => Some(value),
    });
    drop(kept);
}

/// Collects [`drop_after_drain`]'s values while it lives (one drain) and hands them to
/// the runtime in one task when it goes, however the drain ends.
struct Leftovers;

impl Leftovers {
    fn collect() -> Leftovers {
        LEFTOVERS.with(|l| *l.borrow_mut() = Some(Vec::new()));
        Leftovers
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        let leftovers = LEFTOVERS
            .with(|l| l.borrow_mut().take())
            .unwrap_or_default();
        if !leftovers.is_empty() {
            drop(crate::transport::runtime().spawn(async move { drop(leftovers) }));
        }
    }
}

struct Shared {
    done: Mutex<VecDeque<(Py<PyAny>, Convert)>>,
    writer: UnixStream,
}

impl Shared {
    fn complete(&self, future: Py<PyAny>, convert: Convert) {
        let was_empty = match self.done.lock() {
            Ok(mut q) => {
                let empty = q.is_empty();
                q.push_back((future, convert));
                empty
            }
            Err(p) => {
                let mut q = p.into_inner();
                let empty = q.is_empty();
                q.push_back((future, convert));
                empty
            }
        };
        if was_empty {
            // One byte wakes the loop; a full socket buffer already means a wake-up is
            // pending, so a failed write loses nothing.
            let _ = (&self.writer).write(&[1]);
        }
    }
}

/// A call's whole task, waiting for the next `flush`.
pub type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A call's work: its result, ready to convert on the loop's thread.
pub type Work = Pin<Box<dyn Future<Output = Convert> + Send>>;

/// One asyncio loop's wake-up channel, queue of finished results, and queue of calls
/// started since the last flush.
#[pyclass(module = "rustllm._core", frozen)]
pub struct LoopWaker {
    shared: Arc<Shared>,
    reader: UnixStream,
    outbox: Mutex<Vec<Job>>,
}

/// Where a task delivers its result: clone it into the task.
#[derive(Clone)]
pub struct Delivery {
    shared: Arc<Shared>,
}

impl Delivery {
    pub fn complete(&self, future: Py<PyAny>, convert: Convert) {
        self.shared.complete(future, convert);
    }
}

/// The Rust side of one awaited call: `abort()` drops its task (see the module docs).
#[pyclass(module = "rustllm._core", frozen)]
pub struct RustTask {
    handle: AbortHandle,
}

#[pymethods]
impl RustTask {
    /// Drop the task now: its request is not sent, or its connection is closed.
    fn abort(&self) {
        self.handle.abort();
    }
}

/// Give `future` the handle that aborts `work`, and wrap `work` so that aborting drops it.
fn abortable<F>(py: Python<'_>, future: &Py<PyAny>, work: F) -> PyResult<Job>
where
    F: Future<Output = ()> + Send + 'static,
{
    let (handle, registration) = AbortHandle::new_pair();
    future
        .bind(py)
        .setattr(pyo3::intern!(py, "_rust_task"), RustTask { handle })?;
    let work = Abortable::new(work, registration);
    Ok(Box::pin(async move {
        let _ = work.await;
    }))
}

impl LoopWaker {
    /// Queue `work`, whose result resolves `future` on this waker's loop, for the next
    /// `flush`; cancelling `future` aborts it. True when the caller must schedule a flush.
    /// `work` comes boxed: a call's future is tens of KB, and each move of it by value
    /// is a copy of that size.
    pub fn start(&self, py: Python<'_>, future: Py<PyAny>, work: Work) -> PyResult<bool> {
        let job = self.deliver(py, future, work)?;
        Ok(self.queue(job))
    }

    /// [`LoopWaker::start`] that spawns at once instead of waiting for the next flush.
    pub fn spawn(&self, py: Python<'_>, future: Py<PyAny>, work: Work) -> PyResult<()> {
        let job = self.deliver(py, future, work)?;
        crate::transport::runtime().spawn(job);
        Ok(())
    }

    /// The job that runs `work` and delivers its result to `future`, abortable through it.
    fn deliver(&self, py: Python<'_>, future: Py<PyAny>, work: Work) -> PyResult<Job> {
        let delivery = self.delivery();
        let target = future.clone_ref(py);
        abortable(py, &future, async move {
            let convert = work.await;
            delivery.complete(target, convert);
        })
    }

    pub fn delivery(&self) -> Delivery {
        Delivery {
            shared: self.shared.clone(),
        }
    }

    /// Queue a call's task for the next `flush`. True when the queue was empty: the
    /// caller must then schedule a flush (`loop.call_soon(waker.flush)`).
    pub fn queue(&self, job: Job) -> bool {
        let mut q = self.outbox.lock().unwrap_or_else(|e| e.into_inner());
        q.push(job);
        q.len() == 1
    }
}

#[pymethods]
impl LoopWaker {
    #[new]
    fn new() -> PyResult<Self> {
        let (reader, writer) = UnixStream::pair().map_err(|e| PyOSError::new_err(e.to_string()))?;
        reader
            .set_nonblocking(true)
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        writer
            .set_nonblocking(true)
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        Ok(LoopWaker {
            shared: Arc::new(Shared {
                done: Mutex::new(VecDeque::new()),
                writer,
            }),
            reader,
            outbox: Mutex::new(Vec::new()),
        })
    }

    /// Start every queued call: one hand-over to the runtime for the lot.
    fn flush(&self) {
        let jobs = std::mem::take(&mut *self.outbox.lock().unwrap_or_else(|e| e.into_inner()));
        match jobs.len() {
            0 => {}
            1 => {
                for job in jobs {
                    crate::transport::runtime().spawn(job);
                }
            }
            _ => {
                crate::transport::runtime().spawn(async move {
                    for job in jobs {
                        tokio::spawn(job);
                    }
                });
            }
        }
    }

    /// The file descriptor the loop watches with `add_reader`.
    fn fileno(&self) -> i32 {
        self.reader.as_raw_fd()
    }

    /// Empty the wake-up socket and return every finished `(future, ok, value)`: `value`
    /// is the result, or the exception when `ok` is False. Called on the loop's thread.
    fn drain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut sink = [0u8; 256];
        while matches!((&self.reader).read(&mut sink), Ok(n) if n > 0) {}
        let items: Vec<(Py<PyAny>, Convert)> = match self.shared.done.lock() {
            Ok(mut q) => q.drain(..).collect(),
            Err(p) => p.into_inner().drain(..).collect(),
        };
        let out = PyList::empty(py);
        let _leftovers = Leftovers::collect();
        for (future, convert) in items {
            match convert(py) {
                Ok(value) => out.append((future, true, value))?,
                Err(err) => out.append((future, false, err.into_value(py)))?,
            }
        }
        Ok(out)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<LoopWaker>()?;
    m.add_class::<RustTask>()
}
