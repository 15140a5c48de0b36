"""Delivering results from rustllm's Rust runtime to an asyncio loop.

Each running loop gets one ``_core.LoopWaker``: a socket the loop watches with
``add_reader`` and a queue of finished results. Rust tasks never take the GIL to resolve a
future; the loop thread drains every finished result at once (see src/py/bridge.rs).
"""

from __future__ import annotations

import weakref
from asyncio import Future as _Future
from asyncio import get_running_loop as _get_running_loop
from typing import Any

from rustllm import _core

_wakers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# The loop seen last and its waker: nearly every call hits this.
_last: tuple[Any, Any] = (None, None)


class CallFuture(_Future):
    """The future an async rustllm call resolves. Cancelling it (a cancelled task, an
    ``asyncio.wait_for`` timeout, an anyio cancel scope) also drops the Rust task: a
    request not yet sent is never sent, and one in flight has its connection closed."""

    __slots__ = ("_rust_task",)

    def cancel(self, msg: Any = None) -> bool:
        """Cancel the future and abort the Rust task behind it."""
        task = getattr(self, "_rust_task", None)
        if task is not None and not self.done():
            task.abort()
        return super().cancel(msg)


def _after_fork_in_child() -> None:
    """A forked child starts with no wakers: the parent's sockets and queues stay its own."""
    global _wakers, _last
    _wakers = weakref.WeakKeyDictionary()
    _last = (None, None)


def _drain(waker: Any) -> None:
    for future, ok, value in waker.drain():
        if future.done():  # cancelled by the caller meanwhile
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def waker_for(loop: Any) -> Any:
    """The loop's waker, registered with ``loop.add_reader`` on first use."""
    global _last
    # One read of the pair: with several threads each running a loop, `_last` changes
    # under us, and reading it twice could hand this loop another loop's waker.
    last = _last
    if last[0] is loop:
        return last[1]
    waker = _wakers.get(loop)
    if waker is None:
        waker = _core.LoopWaker()
        loop.add_reader(waker.fileno(), _drain, waker)
        _wakers[loop] = waker
    # A closed loop left here costs one entry until the next loop replaces it.
    _last = (loop, waker)
    return waker


def submit(start: Any, *args: Any) -> Any:
    """Call ``start(*args, waker, future)`` and return the future to await.

    A ``start`` that queues its call on the waker returns True for the first call queued
    since the last flush: the queue is then flushed once, later in this loop iteration,
    so a burst of calls reaches the Rust runtime in one hand-over.
    """
    loop = _get_running_loop()
    future = CallFuture(loop=loop)
    waker = waker_for(loop)
    if start(*args, waker, future):
        loop.call_soon(waker.flush)
    return future
