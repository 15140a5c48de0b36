"""Many Python threads calling rustllm at once: every reply reaches the call that asked.

The extension declares ``gil_used = false`` (README, "Free-threaded Python"): a
free-threaded CPython keeps the GIL off when it imports rustllm, and then these threads
really run at once. Here (a GIL build) they interleave as often as the interpreter can
be made to switch (``sys.setswitchinterval``), which is what every program with a thread
pool already does: each thread gets its own replies, streams, counts and Router answers,
threads that each run an event loop resolve their own futures, and a stream closed from
another thread ends its reader instead of hanging it.

Every thread is joined with a deadline, so a regression fails instead of hanging.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any, Callable

import pytest

import rustllm as litellm
from rustllm.testing import MockServer

THREADS = 6
DEADLINE = {"timeout": 10, "max_retries": 0}


@pytest.fixture(autouse=True)
def _switch_often():
    """Let the interpreter switch threads as often as it can."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def run_threads(target: Callable[[int], None], n: int = THREADS, deadline: float = 60) -> None:
    """Run ``target(i)`` on ``n`` threads at once; fail on any exception or a thread still
    running after ``deadline`` seconds."""
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            start.wait(10)
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported below, with the thread's number
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(deadline)
    assert not any(t.is_alive() for t in threads), "a thread is still running: a call hangs"
    if errors:
        raise errors[0]


def text_of(i: int, j: int) -> str:
    return f"thread {i} call {j}"


def ask(server: MockServer, text: str, **kw: Any) -> Any:
    return litellm.completion(
        model="openai/echo",
        api_base=server.base_url,
        api_key="sk-threads",
        messages=[{"role": "user", "content": text}],
        **DEADLINE,
        **kw,
    )


def test_threads_each_running_an_event_loop_resolve_their_own_calls(server):
    """Each thread runs ``asyncio.run`` over bursts of ``acompletion``s: every reply is its
    own call's, and every future is resolved on its own loop (a call handed another loop's
    waker would be resolved from the wrong thread and its ``await`` would never wake). On a
    GIL build the waker lookup cannot be interrupted between its reads, so this guards the
    free-threaded case, where it can."""

    def loop_thread(i: int) -> None:
        async def main() -> None:
            for burst in range(15):
                texts = [text_of(i, burst * 100 + j) for j in range(20)]
                calls = [
                    litellm.acompletion(
                        model="openai/echo",
                        api_base=server.base_url,
                        api_key="sk-threads",
                        messages=[{"role": "user", "content": t}],
                        **DEADLINE,
                    )
                    for t in texts
                ]
                replies = await asyncio.wait_for(asyncio.gather(*calls), 20)
                assert [r.choices[0].message.content for r in replies] == texts

        asyncio.run(main())

    run_threads(loop_thread)


def test_threads_each_running_an_event_loop_read_their_own_streams(server):
    def loop_thread(i: int) -> None:
        async def one(j: int) -> str:
            stream = await litellm.acompletion(
                model="openai/echo",
                api_base=server.base_url,
                api_key="sk-threads",
                messages=[{"role": "user", "content": text_of(i, j)}],
                stream=True,
                **DEADLINE,
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream])

        async def main() -> None:
            for burst in range(5):
                js = range(burst * 10, burst * 10 + 10)
                got = await asyncio.wait_for(asyncio.gather(*(one(j) for j in js)), 20)
                assert got == [text_of(i, j) for j in js]

        asyncio.run(main())

    run_threads(loop_thread)


def test_sync_calls_streams_counts_and_builders_from_many_threads(server):
    """The blocking API from a thread pool: each thread's replies, streams, rebuilt
    responses and token counts are its own and equal to what one thread alone gets."""
    messages = [{"role": "user", "content": "How many tokens are in this sentence, exactly?"}]
    expected_count = litellm.token_counter(model="gpt-4o", messages=messages)

    def worker(i: int) -> None:
        for j in range(30):
            text = text_of(i, j)
            assert ask(server, text).choices[0].message.content == text
            chunks = list(ask(server, text, stream=True))
            assert "".join(c.choices[0].delta.content or "" for c in chunks) == text
            built = litellm.stream_chunk_builder(chunks, messages=[{"role": "user", "content": text}])
            assert built.choices[0].message.content == text
            assert litellm.token_counter(model="gpt-4o", messages=messages) == expected_count

    run_threads(worker)


def test_one_router_shared_by_many_threads(server):
    """One Router called from every thread at once (sync and, on each thread's own loop,
    async): each call gets its own reply."""
    router = litellm.Router(
        model_list=[
            {
                "model_name": "echo",
                "litellm_params": {"model": "openai/echo", "api_base": server.base_url, "api_key": "sk-threads"},
            }
            for _ in range(2)
        ],
        routing_strategy="least-busy",
    )

    def worker(i: int) -> None:
        for j in range(20):
            text = text_of(i, j)
            reply = router.completion(model="echo", messages=[{"role": "user", "content": text}], **DEADLINE)
            assert reply.choices[0].message.content == text

        async def main() -> None:
            texts = [text_of(i, 100 + j) for j in range(20)]
            replies = await asyncio.gather(
                *(
                    router.acompletion(model="echo", messages=[{"role": "user", "content": t}], **DEADLINE)
                    for t in texts
                )
            )
            assert [r.choices[0].message.content for r in replies] == texts

        asyncio.run(main())

    run_threads(worker)


def read_and_close(server: MockServer) -> int:
    """Read a slow stream on one thread and close it from this one; how many chunks came."""
    server.respond(chunk_delay=0.002)  # 1,000 chunks: two seconds unless closed
    stream = ask(server, "one two three four five " * 200, stream=True)
    first, ended = threading.Event(), threading.Event()
    read: list[Any] = []

    def reader() -> None:
        for chunk in stream:
            read.append(chunk)
            first.set()
        ended.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    assert first.wait(10)
    stream.close()
    stream.close()
    assert ended.wait(10), "the reader is still waiting after close()"
    t.join(10)
    return len(read)


def test_a_stream_closed_from_another_thread_ends_its_reader(server):
    """A watchdog thread closes a stream another thread is reading: the reader's loop ends
    (no hang, no crash), and closing again is harmless."""
    for _ in range(5):
        assert 1 <= read_and_close(server) < 500, "the stream went on after close()"
