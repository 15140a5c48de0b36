"""After fork() the child never shares the parent's connections, runtime threads or pending
calls: every reply goes to the process (and the call) that asked for it, and nothing hangs.

The MockServer's `echo` model answers with the last user message, so each reply can be
checked against what its caller sent. Every child carries its own deadline (SIGALRM), and
the parent waits for it with one too.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import select
import signal
import threading
import time

import pytest
from redis_server import RedisServer

import rustllm

DEADLINE = 30


def _ask(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def _router(base: str) -> rustllm.Router:
    return rustllm.Router(
        model_list=[
            {
                "model_name": "echo",
                "litellm_params": {"model": "openai/echo", "api_base": base, "api_key": "sk-x"},
            }
        ],
        num_retries=0,
    )


def every_call_type(base: str, tag: str, router: rustllm.Router) -> dict[str, str]:
    """One call of each kind; each answer keyed by what was asked."""
    args = {"api_base": base, "api_key": "sk-x", "max_retries": 0, "timeout": 20}
    out = {}
    q = f"{tag} sync"
    out[q] = rustllm.completion(model="openai/echo", messages=_ask(q), **args).choices[0].message.content
    q = f"{tag} stream"
    stream = rustllm.completion(model="openai/echo", messages=_ask(q), stream=True, **args)
    out[q] = "".join(c.choices[0].delta.content or "" for c in stream)
    q = f"{tag} router"
    out[q] = router.completion(model="echo", messages=_ask(q)).choices[0].message.content
    q = f"{tag} embedding"
    vector = rustllm.embedding(model="openai/e", input=q, **args).data[0]["embedding"]
    out[q] = json.dumps(vector)

    async def async_calls():
        q = f"{tag} async"
        r = await rustllm.acompletion(model="openai/echo", messages=_ask(q), **args)
        out[q] = r.choices[0].message.content
        q = f"{tag} async stream"
        s = await rustllm.acompletion(model="openai/echo", messages=_ask(q), stream=True, **args)
        out[q] = "".join([c.choices[0].delta.content or "" async for c in s])
        q = f"{tag} async router"
        r = await router.acompletion(model="echo", messages=_ask(q))
        out[q] = r.choices[0].message.content
        q = f"{tag} async embedding"
        e = await rustllm.aembedding(model="openai/e", input=q, **args)
        out[q] = json.dumps(e.data[0]["embedding"])

    asyncio.run(async_calls())
    return out


def expected(tag: str, vectors: dict[str, str]) -> dict[str, str]:
    """What `every_call_type` must return: each echo, and each text's own embedding."""
    out = {}
    for kind in ("sync", "stream", "router", "async", "async stream", "async router"):
        q = f"{tag} {kind}"
        out[q] = q
    for kind in ("embedding", "async embedding"):
        q = f"{tag} {kind}"
        out[q] = vectors[q]
    return out


def vectors_for(base: str, texts: list[str]) -> dict[str, str]:
    return {
        t: json.dumps(rustllm.embedding(model="openai/e", input=t, api_base=base, api_key="sk-x").data[0]["embedding"])
        for t in texts
    }


def run_in_child(work) -> tuple[int, object]:
    """fork(); the child runs `work()` under a deadline and sends back its result as JSON.
    The parent waits (with a deadline) and returns (exit status, result)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        signal.alarm(DEADLINE)
        status = 0
        try:
            payload = json.dumps({"ok": work()})
        except BaseException as e:  # noqa: BLE001 (report anything; never fall back into pytest)
            payload = json.dumps({"error": f"{type(e).__name__}: {e}"})
            status = 1
        with os.fdopen(w, "w") as f:
            f.write(payload)
        os._exit(status)
    os.close(w)
    return pid, r


def collect(pid: int, r: int, deadline: float = DEADLINE + 5) -> object:
    chunks = []
    end = time.monotonic() + deadline
    while True:
        left = end - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the child did not finish in time (hung)")
        ready, _, _ = select.select([r], [], [], left)
        if not ready:
            continue
        data = os.read(r, 65536)
        if not data:
            break
        chunks.append(data)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    result = json.loads(b"".join(chunks) or b"{}")
    assert "error" not in result, result.get("error")
    assert os.waitstatus_to_exitcode(status) == 0, f"child exited with {status}"
    return result["ok"]


def test_every_call_type_in_the_child_after_the_parent_used_every_call_type(server):
    router = _router(server.base_url)
    vectors = vectors_for(
        server.base_url, [f"{t} {k}" for t in ("parent", "child", "after") for k in ("embedding", "async embedding")]
    )
    assert every_call_type(server.base_url, "parent", router) == expected("parent", vectors)
    pid, r = run_in_child(lambda: every_call_type(server.base_url, "child", router))
    assert collect(pid, r) == expected("child", vectors)
    # The parent carries on with its own runtime and connections.
    assert every_call_type(server.base_url, "after", router) == expected("after", vectors)


def test_parent_and_child_calling_at_once_each_get_their_own_replies(server):
    args = {"api_base": server.base_url, "api_key": "sk-x", "max_retries": 0, "timeout": 20}
    # A pooled keep-alive connection in the parent, before the fork.
    rustllm.completion(model="openai/echo", messages=_ask("warm"), **args)

    def calls(tag: str) -> list[list[str]]:
        pairs = []
        for i in range(40):
            q = f"{tag}-{i}"
            pairs.append(
                [q, rustllm.completion(model="openai/echo", messages=_ask(q), **args).choices[0].message.content]
            )

        async def many():
            qs = [f"{tag}-async-{i}" for i in range(40)]
            rs = await asyncio.gather(
                *(rustllm.acompletion(model="openai/echo-slow-5", messages=_ask(q), **args) for q in qs)
            )
            return [[q, r.choices[0].message.content] for q, r in zip(qs, rs)]

        return pairs + asyncio.run(many())

    pid, r = run_in_child(lambda: calls("child"))
    mine = calls("parent")
    theirs = collect(pid, r)
    assert len(mine) == len(theirs) == 80
    assert [q for q, a in mine if q != a] == []
    assert [q for q, a in theirs if q != a] == []


def _pool_call(args: tuple[str, str]) -> list[str]:
    base, q = args
    reply = rustllm.completion(model="openai/echo", messages=_ask(q), api_base=base, api_key="sk-x", timeout=20)
    return [q, reply.choices[0].message.content]


def _pool_acall(args: tuple[str, str]) -> list[str]:
    base, q = args

    async def one():
        r = await rustllm.acompletion(model="openai/echo", messages=_ask(q), api_base=base, api_key="sk-x", timeout=20)
        return [q, r.choices[0].message.content]

    return asyncio.run(one())


@pytest.mark.parametrize("fn", [_pool_call, _pool_acall], ids=["sync", "async"])
def test_a_fork_pool_gets_each_reply_to_its_caller(server, fn):
    base = server.base_url
    # The parent used sync and async calls and a stream before the pool forks.
    rustllm.completion(model="openai/echo", messages=_ask("p"), api_base=base, api_key="sk-x")
    list(rustllm.completion(model="openai/echo", messages=_ask("p"), api_base=base, api_key="sk-x", stream=True))
    asyncio.run(rustllm.acompletion(model="openai/echo", messages=_ask("p"), api_base=base, api_key="sk-x"))
    jobs = [(base, f"job-{i}") for i in range(8)]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        result = pool.map_async(fn, jobs)
        pairs = result.get(timeout=DEADLINE)
    assert pairs == [[q, q] for _, q in jobs]
    # ... and the parent's next call is fine.
    r = rustllm.completion(model="openai/echo", messages=_ask("again"), api_base=base, api_key="sk-x", timeout=20)
    assert r.choices[0].message.content == "again"


def test_a_stream_opened_before_fork_is_refused_in_the_child_not_hung(server):
    stream = rustllm.completion(
        model="openai/echo-chunks-3", messages=_ask("a b c"), api_base=server.base_url, api_key="sk-x", stream=True
    )

    def read_in_child():
        try:
            list(stream)
        except RuntimeError as e:
            return str(e)
        return "read"

    pid, r = run_in_child(read_in_child)
    message = collect(pid, r)
    assert "before fork" in message
    # The parent still reads its stream to the end.
    assert "".join(c.choices[0].delta.content or "" for c in stream).strip() == "a b c"


@pytest.fixture
def redis_url():
    with RedisServer() as redis:
        yield redis.url


def test_redis_shared_router_works_in_the_child(server, redis_url):
    router = rustllm.Router(
        model_list=[
            {
                "model_name": "echo",
                "litellm_params": {"model": "openai/echo", "api_base": server.base_url, "api_key": "sk-x", "rpm": 1000},
            }
        ],
        redis_url=redis_url,
        num_retries=0,
    )
    assert router.completion(model="echo", messages=_ask("parent")).choices[0].message.content == "parent"

    def child():
        async def both():
            r = await router.acompletion(model="echo", messages=_ask("child async"))
            return r.choices[0].message.content

        sync = router.completion(model="echo", messages=_ask("child")).choices[0].message.content
        return [sync, asyncio.run(both())]

    pid, r = run_in_child(child)
    assert collect(pid, r) == ["child", "child async"]
    assert router.completion(model="echo", messages=_ask("parent 2")).choices[0].message.content == "parent 2"


def test_settings_locks_held_by_a_parent_thread_at_the_fork_do_not_hang_the_child(server):
    """Another thread of the parent is inside a settings change (holding its lock) when
    the process forks: the child's own settings changes and calls still go through."""
    from rustllm import _logging

    held = [rustllm._settings_lock, _logging._lock]
    for lock in held:
        lock.acquire()
    try:

        def work() -> str:
            rustllm.set_verbose = True
            rustllm.ssl_verify = False
            reply = rustllm.completion(
                model="openai/echo", messages=_ask("after fork"), api_base=server.base_url, api_key="sk-x"
            )
            rustllm.set_verbose = False
            rustllm.ssl_verify = True
            rustllm.completion(model="openai/echo", messages=_ask("again"), api_base=server.base_url, api_key="sk-x")
            return reply.choices[0].message.content

        pid, r = run_in_child(work)
    finally:
        for lock in held:
            lock.release()
    assert collect(pid, r) == "after fork"


def test_a_router_read_out_at_the_fork_does_not_hang_the_child(server, redis_url):
    """A least-busy Router reads its group's shared state once for every selection of the
    next 0.1 s, and the selections that find it too old wait for the read that is out.
    A child forked while one is out must not wait for it: that read stays behind in the
    parent (the child waited forever)."""
    from test_router_redis import SlowRelay

    relay = SlowRelay(int(redis_url.rsplit(":", 1)[1]), 0.3)
    params = {"model": "openai/echo", "api_base": server.base_url, "api_key": "sk-x"}
    router = rustllm.Router(
        model_list=[
            {"model_name": "echo", "litellm_params": params, "model_info": {"id": "A"}},
            {"model_name": "echo", "litellm_params": params, "model_info": {"id": "B"}},
        ],
        routing_strategy="least-busy",
        redis_url=relay.url,
        num_retries=0,
    )
    try:
        assert router.completion(model="echo", messages=_ask("parent")).choices[0].message.content == "parent"
        time.sleep(0.35)  # the read that call made is too old now
        out_at_the_fork = threading.Thread(target=router.completion, kwargs={"model": "echo", "messages": _ask("x")})
        out_at_the_fork.start()
        time.sleep(0.1)  # its read of the group is out (0.3 s away)
        pid, r = run_in_child(
            lambda: router.completion(model="echo", messages=_ask("child")).choices[0].message.content
        )
        assert collect(pid, r) == "child"
        out_at_the_fork.join()
    finally:
        relay.close()
