"""Cancelling a call stops its request: the connection closes at once, and a request not
yet sent is never sent. Against a server that reads each request and never answers, so
only the client can end the exchange."""

from __future__ import annotations

import _thread
import asyncio
import signal
import threading
import time

import anyio
import pytest
from faultserver import HANG, FaultServer, Hang, sse

import rustllm

USER = [{"role": "user", "content": "hi"}]
FIRST_CHUNK = {
    "id": "c1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}, "finish_reason": None}],
}


def _stalled_stream() -> bytes:
    """Headers and one chunk of an SSE stream, sent without a length: then silence."""
    body = sse([FIRST_CHUNK])
    head, _, events = body.partition(b"\r\n\r\n")
    head = b"\r\n".join(line for line in head.split(b"\r\n") if not line.lower().startswith(b"content-length"))
    return Hang(head + b"\r\n\r\n" + events)


@pytest.fixture(autouse=True)
def _sigint_raises_keyboard_interrupt():
    """Python's own SIGINT handler for these tests: a runner started in the background
    of a non-interactive shell inherits SIGINT ignored, and then ``interrupt_main`` does
    nothing (Python installs its handler only where SIGINT is not ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.fixture
def hang():
    with FaultServer(lambda req: HANG) as server:
        yield server


def _args(server):
    return {"model": "openai/m", "messages": USER, "api_base": server.base_url, "api_key": "sk-x", "max_retries": 0}


def _closed_soon(server, timeout=3.0):
    return server.wait_until(lambda: server.open_connections() == 0, timeout)


async def test_cancelled_tasks_close_their_connections(hang):
    tasks = [asyncio.ensure_future(rustllm.acompletion(**_args(hang))) for _ in range(50)]
    assert await asyncio.to_thread(hang.wait_until, lambda: len(hang.requests) == 50)
    assert hang.open_connections() == 50
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert all(t.cancelled() for t in tasks)
    assert await asyncio.to_thread(_closed_soon, hang), f"{hang.open_connections()} still open"


async def test_wait_for_timeouts_leave_no_socket_open(hang):
    async def one():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(rustllm.acompletion(**_args(hang)), 0.05)

    for _ in range(4):
        await asyncio.gather(*(one() for _ in range(100)))
    assert await asyncio.to_thread(_closed_soon, hang), f"{hang.open_connections()} still open"


async def test_a_call_cancelled_before_it_was_sent_is_never_sent(hang):
    task = asyncio.ensure_future(rustllm.acompletion(**_args(hang)))
    # One loop iteration: the call is queued on the loop's waker, not yet handed over.
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.5)
    assert hang.requests == []
    assert hang.connections == []


async def test_anyio_cancel_scope_closes_the_connection(hang):
    with anyio.move_on_after(0.2) as scope:
        await rustllm.acompletion(**_args(hang))
    assert scope.cancelled_caught
    assert len(hang.requests) == 1
    assert await asyncio.to_thread(_closed_soon, hang)


async def test_cancelled_embedding_closes_its_connection(hang):
    task = asyncio.ensure_future(
        rustllm.aembedding(model="openai/e", input="x", api_base=hang.base_url, api_key="sk-x", max_retries=0)
    )
    assert await asyncio.to_thread(hang.wait_until, lambda: len(hang.requests) == 1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert await asyncio.to_thread(_closed_soon, hang)


async def test_cancelled_router_call_closes_its_connection(hang):
    router = rustllm.Router(
        model_list=[
            {
                "model_name": "g",
                "litellm_params": {"model": "openai/m", "api_base": hang.base_url, "api_key": "sk-x"},
            }
        ],
        num_retries=0,
    )
    task = asyncio.ensure_future(router.acompletion(model="g", messages=USER))
    assert await asyncio.to_thread(hang.wait_until, lambda: len(hang.requests) == 1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert await asyncio.to_thread(_closed_soon, hang)


async def test_cancelling_the_consumer_of_an_async_stream_closes_it():
    with FaultServer(lambda req: _stalled_stream()) as server:
        got = []

        async def consume():
            stream = await rustllm.acompletion(**_args(server), stream=True)
            async for chunk in stream:
                got.append(chunk.choices[0].delta.content)

        task = asyncio.ensure_future(consume())
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert got == ["Hel"]
        assert server.open_connections() == 1
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert await asyncio.to_thread(_closed_soon, server)


async def test_cancelling_while_a_stream_opens_closes_the_connection(hang):
    task = asyncio.ensure_future(rustllm.acompletion(**_args(hang), stream=True))
    assert await asyncio.to_thread(hang.wait_until, lambda: len(hang.requests) == 1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert await asyncio.to_thread(_closed_soon, hang)


def test_keyboard_interrupt_stops_a_sync_call(hang):
    threading.Timer(0.3, _thread.interrupt_main).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        rustllm.completion(**_args(hang), timeout=30)
    assert time.monotonic() - started < 5
    assert len(hang.requests) == 1
    assert _closed_soon(hang), "the interrupted call's connection is still open"
    # The thread's next call works as before.
    reply = rustllm.completion(model="openai/m", messages=USER, mock_response="after")
    assert reply.choices[0].message.content == "after"


def test_keyboard_interrupt_stops_a_sync_stream():
    with FaultServer(lambda req: _stalled_stream()) as server:
        stream = rustllm.completion(**_args(server), stream=True, timeout=30)
        assert next(stream).choices[0].delta.content == "Hel"
        threading.Timer(0.3, _thread.interrupt_main).start()
        with pytest.raises(KeyboardInterrupt):
            next(stream)
        stream.close()
        assert _closed_soon(server)


async def test_a_completed_call_is_unaffected(hang):
    reply = await rustllm.acompletion(model="openai/m", messages=USER, mock_response="fine")
    assert reply.choices[0].message.content == "fine"
