"""Callbacks: success/failure/input functions and CustomLogger hooks, with the kwargs
LiteLLM passes, in LiteLLM's order, off the request's path; a raising callback is logged
and never breaks the call."""

from __future__ import annotations

import asyncio
import datetime
import logging
import threading
import time

import pytest
from conftest import USER_HI

import rustllm as litellm
from rustllm import Router
from rustllm.integrations.custom_logger import CustomLogger


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


async def await_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


class Recorder(CustomLogger):
    """Records every hook LiteLLM defines, with its arguments."""

    def __init__(self):
        super().__init__()
        self.events = []

    def log_pre_api_call(self, model, messages, kwargs):
        self.events.append(("log_pre_api_call", model, messages, kwargs))

    def log_post_api_call(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("log_post_api_call", kwargs, response_obj, start_time, end_time))

    def log_stream_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("log_stream_event", kwargs, response_obj, start_time, end_time))

    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("log_success_event", kwargs, response_obj, start_time, end_time))

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("log_failure_event", kwargs, response_obj, start_time, end_time))

    async def async_log_stream_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("async_log_stream_event", kwargs, response_obj, start_time, end_time))

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("async_log_success_event", kwargs, response_obj, start_time, end_time))

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("async_log_failure_event", kwargs, response_obj, start_time, end_time))

    def names(self):
        return [e[0] for e in self.events]


def test_sync_call_fires_hooks_in_litellms_order_with_litellms_kwargs(openai_args):
    order = []
    rec = Recorder()

    def on_input(kwargs):
        order.append("input_callback")

    def on_success(kwargs, response, start, end):
        order.append("success function")
        rec.events.append(("success function", kwargs, response, start, end))

    litellm.input_callback = [on_input]
    litellm.success_callback = [on_success]
    litellm.callbacks = [rec]
    resp = litellm.completion(model="openai/gpt-4o", messages=USER_HI, temperature=0.2, user="u1", **openai_args)
    assert wait_for(lambda: "log_success_event" in rec.names())
    assert rec.names() == ["log_pre_api_call", "log_post_api_call", "success function", "log_success_event"]
    assert order[0] == "input_callback"

    _, model, messages, pre_kwargs = rec.events[0]
    assert model == "gpt-4o" and messages == USER_HI
    _, kwargs, response_obj, start, end = rec.events[3]
    assert response_obj is resp
    assert kwargs is pre_kwargs  # one model_call_details per call, as in LiteLLM
    assert rec.events[2][1] is kwargs and rec.events[2][2] is resp
    assert isinstance(start, datetime.datetime) and isinstance(end, datetime.datetime) and end >= start
    assert kwargs["model"] == "gpt-4o"
    assert kwargs["messages"] == USER_HI
    assert kwargs["call_type"] == "completion"
    assert kwargs["optional_params"] == {"temperature": 0.2, "user": "u1"}
    assert kwargs["litellm_params"]["custom_llm_provider"] == "openai"
    assert kwargs["litellm_params"]["api_base"] == openai_args["api_base"]
    assert kwargs["litellm_params"]["acompletion"] is False
    assert kwargs["custom_llm_provider"] == "openai"
    assert kwargs["response_cost"] == resp._hidden_params["response_cost"] > 0
    assert kwargs["cache_hit"] is False
    assert kwargs["stream"] is False
    assert kwargs["user"] == "u1"
    assert kwargs["litellm_call_id"]
    assert "exception" not in kwargs
    # post_api_call gets response_obj=None, as in LiteLLM
    assert rec.events[1][2] is None

    slo = kwargs["standard_logging_object"]
    assert slo["id"] == resp.id
    assert slo["status"] == "success"
    assert slo["call_type"] == "completion"
    assert slo["model"] == "gpt-4o"
    assert slo["custom_llm_provider"] == "openai"
    assert slo["response_cost"] == kwargs["response_cost"]
    assert (slo["prompt_tokens"], slo["completion_tokens"], slo["total_tokens"]) == (
        resp.usage.prompt_tokens,
        resp.usage.completion_tokens,
        resp.usage.total_tokens,
    )
    assert slo["messages"] == USER_HI
    assert slo["response"]["choices"][0]["message"]["content"] == "Hello from MockServer!"
    assert slo["model_parameters"] == {"temperature": 0.2, "user": "u1"}
    assert slo["end_user"] == "u1"
    assert slo["cache_hit"] is False
    assert slo["api_base"] == openai_args["api_base"]
    assert slo["endTime"] >= slo["startTime"] and slo["response_time"] >= 0
    assert slo["error_str"] is None


def test_hooks_run_off_the_request_path(openai_args):
    release = threading.Event()
    seen = []

    def slow(kwargs, response, start, end):
        release.wait(5)
        seen.append(response.id)

    litellm.success_callback = [slow]
    started = time.perf_counter()
    resp = litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    assert time.perf_counter() - started < 2  # the callback is still blocked
    assert seen == []
    release.set()
    assert wait_for(lambda: seen == [resp.id])


def test_a_raising_callback_is_logged_and_never_breaks_the_call(openai_args, caplog):
    class Broken(CustomLogger):
        def log_pre_api_call(self, model, messages, kwargs):
            raise RuntimeError("pre boom")

        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            raise RuntimeError("success boom")

    calls = []

    def bad_function(kwargs, response, start, end):
        raise KeyError("function boom")

    def good_function(kwargs, response, start, end):
        calls.append(response)

    litellm.callbacks = [Broken()]
    litellm.success_callback = [bad_function, good_function]
    with caplog.at_level(logging.ERROR, logger="rustllm"):
        resp = litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
        assert resp.choices[0].message.content == "Hello from MockServer!"
        assert wait_for(lambda: len([r for r in caplog.records if "success boom" in str(r.exc_info)]) == 1)
    assert calls == [resp]
    messages = [r.getMessage() for r in caplog.records if r.name == "rustllm"]
    assert any("Broken.log_pre_api_call" in m for m in messages)
    assert any("bad_function" in m for m in messages)
    assert any("Broken.log_success_event" in m for m in messages)


def test_failure_hooks_get_the_exception_the_caller_got(openai_args):
    rec = Recorder()
    failures = []
    successes = []
    litellm.callbacks = [rec]
    litellm.failure_callback = [lambda kwargs, response, start, end: failures.append((kwargs, response))]
    litellm.success_callback = [lambda *a: successes.append(a)]
    with pytest.raises(litellm.RateLimitError) as info:
        litellm.completion(model="openai/error-429", messages=USER_HI, **openai_args)
    assert wait_for(lambda: "log_failure_event" in rec.names())
    assert rec.names() == ["log_pre_api_call", "log_failure_event"]
    assert len(failures) == 1 and successes == []
    kwargs, response = failures[0]
    assert response is None
    assert kwargs["exception"] is info.value
    assert "RateLimitError" in kwargs["traceback_exception"]
    assert kwargs["response_cost"] == 0.0
    slo = kwargs["standard_logging_object"]
    assert slo["status"] == "failure"
    assert slo["error_information"]["error_class"] == "RateLimitError"
    assert slo["error_information"]["error_code"] == "429"
    assert "Mock error 429" in slo["error_str"]
    assert rec.events[1][1] is kwargs


async def test_async_call_fires_pre_and_post_hooks_then_the_async_success_hooks(openai_args):
    """As LiteLLM 1.75.8 does against a real endpoint: the sync ``log_pre_api_call`` and
    ``log_post_api_call`` run for async calls too; success goes to the async hooks only."""
    rec = Recorder()
    sync_fn_calls = []
    async_fn_calls = []

    async def async_success(kwargs, response, start, end):
        async_fn_calls.append((kwargs, response))

    litellm.callbacks = [rec]
    litellm.success_callback = [lambda *a: sync_fn_calls.append(a), async_success]
    resp = await litellm.acompletion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    assert await await_for(lambda: len(rec.names()) == 3 and async_fn_calls)
    assert sorted(rec.names()) == ["async_log_success_event", "log_post_api_call", "log_pre_api_call"]
    assert rec.names().index("log_pre_api_call") < rec.names().index("log_post_api_call")
    _, kwargs, response, _, _ = next(e for e in rec.events if e[0] == "async_log_success_event")
    assert response is resp
    assert kwargs["call_type"] == "acompletion"
    assert kwargs["litellm_params"]["acompletion"] is True
    assert kwargs["response_cost"] == resp._hidden_params["response_cost"]
    assert kwargs["standard_logging_object"]["id"] == resp.id
    assert async_fn_calls[0][1] is resp
    await asyncio.sleep(0.05)
    assert sync_fn_calls == []  # LiteLLM runs sync functions for sync calls only


async def test_async_failure_and_a_raising_async_hook(openai_args, caplog):
    class Broken(CustomLogger):
        async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
            raise RuntimeError("async boom")

    rec = Recorder()
    litellm.callbacks = [Broken(), rec]
    with caplog.at_level(logging.ERROR, logger="rustllm"):
        with pytest.raises(litellm.InternalServerError) as info:
            await litellm.acompletion(model="openai/error-500", messages=USER_HI, **openai_args)
        assert await await_for(lambda: "async_log_failure_event" in rec.names())
        assert await await_for(lambda: any("async boom" in str(r.exc_info) for r in caplog.records))
    failure = next(e for e in rec.events if e[0] == "async_log_failure_event")
    assert failure[1]["exception"] is info.value


def test_stream_success_fires_once_the_stream_is_consumed(openai_args):
    rec = Recorder()
    litellm.callbacks = [rec]
    stream = litellm.completion(
        model="openai/gpt-4o",
        messages=USER_HI,
        stream=True,
        stream_options={"include_usage": True},
        **openai_args,
    )
    chunks = []
    for chunk in stream:
        chunks.append(chunk)
        if len(chunks) == 1:
            time.sleep(0.1)
            assert "log_success_event" not in rec.names()
    assert wait_for(lambda: "log_success_event" in rec.names())
    names = rec.names()
    assert names[:2] == ["log_pre_api_call", "log_post_api_call"]
    assert names.count("log_stream_event") == len(chunks)
    assert names[-1] == "log_success_event"
    streamed = [e for e in rec.events if e[0] == "log_stream_event"]
    assert [e[2] for e in streamed] == chunks
    _, kwargs, response, _, _ = rec.events[-1]
    assert kwargs["stream"] is True
    complete = kwargs["complete_streaming_response"]
    assert response is complete
    assert complete.choices[0].message.content == "Hello from MockServer!"
    assert complete.usage.total_tokens > 0
    assert kwargs["response_cost"] > 0
    assert kwargs["standard_logging_object"]["total_tokens"] == complete.usage.total_tokens


async def test_async_stream_fires_async_stream_and_success_hooks(openai_args):
    rec = Recorder()
    litellm.callbacks = [rec]
    stream = await litellm.acompletion(model="openai/gpt-4o", messages=USER_HI, stream=True, **openai_args)
    text = ""
    async for chunk in stream:
        text += chunk.choices[0].delta.content or ""
    assert await await_for(lambda: "async_log_success_event" in rec.names())
    names = rec.names()
    assert "async_log_stream_event" in names
    assert not [n for n in names if not n.startswith("async_") and n not in ("log_pre_api_call", "log_post_api_call")]
    kwargs = rec.events[-1][1]
    assert kwargs["async_complete_streaming_response"].choices[0].message.content == text


def test_stream_failure_mid_way_fires_the_failure_hooks(openai_args, server):
    rec = Recorder()
    litellm.callbacks = [rec]
    server.respond(break_after=2)
    stream = litellm.completion(model="openai/gpt-4o", messages=USER_HI, stream=True, **openai_args)
    with pytest.raises(litellm.APIConnectionError) as info:
        for _ in stream:
            pass
    assert wait_for(lambda: "log_failure_event" in rec.names())
    assert "log_success_event" not in rec.names()
    assert rec.events[-1][1]["exception"] is info.value


def test_named_integrations_raise_a_clear_error_before_any_request(openai_args, server):
    litellm.success_callback = ["langfuse"]
    with pytest.raises(ValueError, match=r"'langfuse'.*rustllm\.success_callback"):
        litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    litellm.success_callback = []
    litellm.callbacks = ["datadog"]
    with pytest.raises(ValueError, match="'datadog'"):
        litellm.embedding(model="openai/text-embedding-3-small", input="x", **openai_args)
    assert server.requests == []
    # The "cache" entry LiteLLM's enable_cache() adds is not an integration.
    litellm.callbacks = []
    litellm.success_callback = ["cache"]
    assert litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)


def test_per_call_callbacks_are_hooks_not_body_fields(openai_args, server):
    rec = Recorder()
    seen = []
    resp = litellm.completion(
        model="openai/gpt-4o",
        messages=USER_HI,
        callbacks=[rec],
        success_callback=[lambda kwargs, r, s, e: seen.append(r)],
        **openai_args,
    )
    assert wait_for(lambda: "log_success_event" in rec.names() and seen)
    assert seen == [resp]
    body = server.last_request.body
    assert "callbacks" not in body and "success_callback" not in body


def test_embedding_and_text_completion_fire_callbacks(openai_args):
    rec = Recorder()
    litellm.callbacks = [rec]
    emb = litellm.embedding(model="openai/text-embedding-3-small", input=["a b"], **openai_args)
    text = litellm.text_completion(model="openai/davinci-002", prompt="say hi", **openai_args)
    assert wait_for(lambda: rec.names().count("log_success_event") == 2)
    success = [e for e in rec.events if e[0] == "log_success_event"]
    assert [e[1]["call_type"] for e in success] == ["embedding", "text_completion"]
    assert success[0][2] is emb and success[0][1]["input"] == ["a b"]
    assert success[1][2] is text and success[1][1]["input"] == "say hi"


def test_router_calls_fire_callbacks(server):
    rec = Recorder()
    litellm.callbacks = [rec]
    router = Router(
        model_list=[
            {
                "model_name": "g",
                "litellm_params": {"model": "openai/gpt-4o", "api_base": server.base_url, "api_key": "k"},
                "model_info": {"id": "dep-1"},
            }
        ]
    )
    resp = router.completion(model="g", messages=USER_HI)
    assert wait_for(lambda: "log_success_event" in rec.names())
    kwargs = rec.events[-1][1]
    assert rec.events[-1][2] is resp
    assert kwargs["model"] == "gpt-4o"
    assert kwargs["litellm_params"]["metadata"]["model_group"] == "g"
    assert kwargs["litellm_params"]["model_info"] == {"id": "dep-1"}
    slo = kwargs["standard_logging_object"]
    assert slo["model_group"] == "g" and slo["model_id"] == "dep-1"
    with pytest.raises(litellm.BadRequestError):
        router.completion(model="g", messages=[{"role": "tool", "content": "x"}])
    assert wait_for(lambda: "log_failure_event" in rec.names())


async def test_async_router_calls_fire_async_callbacks(server):
    rec = Recorder()
    litellm.callbacks = [rec]
    router = Router(
        model_list=[
            {"model_name": "g", "litellm_params": {"model": "openai/m", "api_base": server.base_url, "api_key": "k"}}
        ]
    )
    resp = await router.acompletion(model="g", messages=USER_HI)
    emb = await router.aembedding(model="g", input="hello")
    assert await await_for(lambda: rec.names().count("async_log_success_event") == 2)
    success = [e for e in rec.events if e[0] == "async_log_success_event"]
    assert [e[2] for e in success] == [resp, emb]
    assert success[1][1]["call_type"] == "aembedding"
    assert await await_for(lambda: rec.names().count("log_pre_api_call") == 2)


def test_no_callbacks_means_no_observed_path(openai_args, monkeypatch):
    from rustllm import _hooks

    def forbidden(*args, **kwargs):
        raise AssertionError("the observed path ran without anything observing")

    monkeypatch.setattr(_hooks, "call", forbidden)
    monkeypatch.setattr(_hooks, "_Call", forbidden)
    assert litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    assert litellm.embedding(model="openai/text-embedding-3-small", input="x", **openai_args)
    assert litellm.text_completion(model="openai/davinci-002", prompt="x", **openai_args)


def test_an_async_stream_read_without_a_loop_still_fires_async_hooks(openai_args):
    rec = Recorder()
    litellm.callbacks = [rec]
    stream = asyncio.run(litellm.acompletion(model="openai/gpt-4o", messages=USER_HI, stream=True, **openai_args))
    text = "".join(c.choices[0].delta.content or "" for c in stream)
    assert wait_for(lambda: "async_log_success_event" in rec.names())
    assert rec.events[-1][1]["complete_streaming_response"].choices[0].message.content == text
