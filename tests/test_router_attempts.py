"""Every deployment call of a Router call is visible to callbacks, as in LiteLLM: each
retry and each fallback fires the pre-call hooks and, when it fails, the failure hooks,
then the attempt that answered fires the success hooks; `previous_models` in the
metadata lists the failed attempts before each one. Calls with no callbacks record
nothing."""

from __future__ import annotations

import asyncio
import time

import pytest
from conftest import USER_HI

import rustllm as litellm
from rustllm import Router, _hooks
from rustllm.exceptions import InternalServerError
from rustllm.integrations.custom_logger import CustomLogger


class Recorder(CustomLogger):
    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict]] = []

    def log_pre_api_call(self, model, messages, kwargs):
        self.events.append(("pre", model, kwargs))

    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("success", kwargs["model"], kwargs))

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("failure", kwargs["model"], kwargs))

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("success", kwargs["model"], kwargs))

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("failure", kwargs["model"], kwargs))

    def seen(self) -> list[tuple[str, str]]:
        return [(name, model) for name, model, _ in self.events]


def settle(rec: Recorder, n: int) -> None:
    deadline = time.monotonic() + 5
    while len(rec.events) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    _hooks.flush()


def two_deployment_router(server) -> Router:
    base = {"api_base": server.base_url, "api_key": "sk-test"}
    return Router(
        model_list=[
            {"model_name": "g", "litellm_params": {"model": "openai/m1", **base}},
            {"model_name": "g", "litellm_params": {"model": "openai/m2", **base}},
        ],
        num_retries=1,
    )


def check_retry(rec: Recorder) -> None:
    # LiteLLM: pre(first), failure(first), pre(second), success(second).
    names = [name for name, _ in rec.seen()]
    assert sorted(names) == ["failure", "pre", "pre", "success"]
    pres = [m for n, m in rec.seen() if n == "pre"]
    failed = [m for n, m in rec.seen() if n == "failure"]
    answered = [m for n, m in rec.seen() if n == "success"]
    assert failed == [pres[0]] and answered == [pres[1]] and pres[0] != pres[1]
    failure = next(kw for n, _, kw in rec.events if n == "failure")
    assert isinstance(failure["exception"], InternalServerError)
    success = next(kw for n, _, kw in rec.events if n == "success")
    (prev,) = success["litellm_params"]["metadata"]["previous_models"]
    assert prev["exception_type"] == "InternalServerError"
    assert prev["metadata"]["deployment"] == f"openai/{pres[0]}"
    # Each attempt is a call of its own for the callbacks.
    assert failure["litellm_call_id"] != success["litellm_call_id"]


def test_sync_retry_fires_hooks_for_each_attempt(server):
    rec = Recorder()
    litellm.callbacks = [rec]
    router = two_deployment_router(server)
    server.fail_next(1)
    router.completion(model="g", messages=USER_HI)
    settle(rec, 4)
    assert len(server.requests) == 2
    check_retry(rec)


def test_async_retry_fires_hooks_for_each_attempt(server):
    rec = Recorder()
    litellm.callbacks = [rec]
    router = two_deployment_router(server)
    server.fail_next(1)

    async def go():
        await router.acompletion(model="g", messages=USER_HI)
        for _ in range(200):
            if len(rec.events) >= 4:
                break
            await asyncio.sleep(0.01)

    asyncio.run(go())
    settle(rec, 4)
    check_retry(rec)


def fallback_router(server) -> Router:
    base = {"api_base": server.base_url, "api_key": "sk-test"}
    return Router(
        model_list=[
            {"model_name": "a", "litellm_params": {"model": "openai/error-500", **base}},
            {"model_name": "b", "litellm_params": {"model": "openai/ok", **base}},
        ],
        num_retries=0,
        fallbacks=[{"a": ["b"]}],
    )


def test_fallback_lists_the_failed_attempt_in_previous_models(server):
    rec = Recorder()
    litellm.callbacks = [rec]
    fallback_router(server).completion(model="a", messages=USER_HI)
    settle(rec, 4)
    assert rec.seen() == [("pre", "error-500"), ("failure", "error-500"), ("pre", "ok"), ("success", "ok")]
    first_pre, _, fallback_pre, success = (kw for _, _, kw in rec.events)
    assert "previous_models" not in first_pre["litellm_params"]["metadata"]
    for kw in (fallback_pre, success):
        (prev,) = kw["litellm_params"]["metadata"]["previous_models"]
        assert prev["model"] == "a"
        assert prev["metadata"]["model_group"] == "a"
        assert prev["metadata"]["deployment"] == "openai/error-500"
        assert "Mock error 500" in prev["exception_string"]
    assert success["litellm_params"]["metadata"]["model_group"] == "b"


def test_failure_callback_function_is_called_per_failed_attempt(server):
    failures = []
    litellm.failure_callback = [lambda kwargs, resp, start, end: failures.append(kwargs["model"])]
    base = {"api_base": server.base_url, "api_key": "sk-test"}
    router = Router(
        model_list=[{"model_name": "a", "litellm_params": {"model": "openai/error-500", **base}}],
        num_retries=2,
        retry_after=0,
    )
    with pytest.raises(InternalServerError):
        router.completion(model="a", messages=USER_HI)
    _hooks.flush()
    assert failures == ["error-500"] * len(server.requests) and len(failures) == 3


def test_stream_attempts_before_the_first_chunk_are_replayed(server):
    rec = Recorder()
    litellm.callbacks = [rec]
    for _chunk in fallback_router(server).completion(model="a", messages=USER_HI, stream=True):
        pass
    settle(rec, 4)
    assert rec.seen() == [("pre", "error-500"), ("failure", "error-500"), ("pre", "ok"), ("success", "ok")]


def test_no_callbacks_records_and_replays_nothing(server, monkeypatch):
    replays = []
    monkeypatch.setattr(_hooks, "_replay", lambda *a: replays.append(a))
    router = fallback_router(server)

    class Spy:
        def __init__(self, core):
            self.core, self.attempts = core, []

        def completion(self, params, attempts=None):
            self.attempts.append(attempts)
            return self.core.completion(params, attempts)

    spy = Spy(router._core)
    router._core = spy
    router.completion(model="a", messages=USER_HI)
    assert spy.attempts == [None] and replays == []


# -- router.cache ------------------------------------------------------------------------
def cache_ops(cache) -> None:
    cache.set_cache("team:budget", {"spent": 1.5})
    assert cache.get_cache("team:budget") == {"spent": 1.5}
    assert cache.increment_cache("team:calls", 1) == 1
    assert cache.increment_cache("team:calls", 2) == 3
    assert cache.get_cache("team:calls") == 3
    assert cache.batch_get_cache(["team:budget", "missing"]) == [{"spent": 1.5}, None]
    cache.delete_cache("team:budget")
    assert cache.get_cache("team:budget") is None

    async def go():
        await cache.async_set_cache("k", "v")
        assert await cache.async_get_cache("k") == "v"

    asyncio.run(go())


def test_router_cache_in_memory_without_redis():
    router = Router(model_list=[{"model_name": "g", "litellm_params": {"model": "openai/m"}}])
    cache_ops(router.cache)
    assert router.cache is router.cache


def test_router_cache_is_shared_through_the_routers_redis():
    from redis_server import RedisServer

    with RedisServer() as redis:
        ml = [{"model_name": "g", "litellm_params": {"model": "openai/m"}}]
        one = Router(model_list=ml, redis_host="127.0.0.1", redis_port=redis.port)
        two = Router(model_list=ml, redis_host="127.0.0.1", redis_port=redis.port)
        cache_ops(one.cache)
        # Another Router (another process, in practice) sees and adds to the same values.
        assert two.cache.get_cache("team:calls") == 3
        assert two.cache.increment_cache("team:calls", 1) == 4
        assert one.cache.get_cache("team:calls") == 4
        one.cache.set_cache("short", 1, ttl=0.2)
        time.sleep(0.4)
        assert two.cache.get_cache("short") is None
