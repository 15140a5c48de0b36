"""``batch_completion`` (order kept, a failed item is its exception, calls overlap),
``batch_completion_models`` / ``_all_responses`` and ``completion_with_retries``."""

from __future__ import annotations

import time

import pytest

import rustllm as litellm
from rustllm import _batch


def convo(text):
    return [{"role": "user", "content": text}]


def test_batch_completion_keeps_order_and_returns_errors_in_place(openai_args, server):
    batch = [convo(f"message {i}") for i in range(8)]
    batch[3] = [{"role": "tool", "content": "no tool_call_id"}]  # rejected before any request
    out = litellm.batch_completion(model="openai/echo", messages=batch, max_tokens=20, **openai_args)
    assert len(out) == 8
    for i, resp in enumerate(out):
        if i == 3:
            assert isinstance(resp, litellm.BadRequestError)
        else:
            assert resp.choices[0].message.content == f"message {i}"
    assert server.request_count == 7
    assert all(r.body["max_tokens"] == 20 for r in server.requests)


def test_batch_completion_calls_overlap(openai_args, server):
    server.latency = 0.3
    started = time.monotonic()
    try:
        out = litellm.batch_completion(model="openai/echo", messages=[convo(str(i)) for i in range(6)], **openai_args)
    finally:
        server.latency = 0.0
    assert time.monotonic() - started < 1.2  # 6 x 0.3 s one after another would be 1.8 s
    assert [r.choices[0].message.content for r in out] == [str(i) for i in range(6)]
    assert litellm.batch_completion(model="openai/echo", messages=[], **openai_args) == []


def test_batch_completion_models_returns_the_first_answer(openai_args):
    resp = litellm.batch_completion_models(
        models=["openai/slow-1500", "openai/error-500", "openai/fast-one"], messages=convo("hi"), **openai_args
    )
    assert resp.model == "fast-one"
    assert litellm.batch_completion_models(models=["openai/error-500"], messages=convo("hi"), **openai_args) is None


def test_batch_completion_models_all_responses(openai_args):
    out = litellm.batch_completion_models_all_responses(
        models=["openai/a-slow-200", "openai/b"], messages=convo("hi"), **openai_args
    )
    assert [r.model for r in out] == ["a-slow-200", "b"]
    with pytest.raises(litellm.RateLimitError):
        litellm.batch_completion_models_all_responses(
            models=["openai/b", "openai/error-429"], messages=convo("hi"), **openai_args
        )
    with pytest.raises(Exception, match="'models' param"):
        litellm.batch_completion_models_all_responses(messages=convo("hi"))


def test_completion_with_retries_constant(openai_args, server):
    server.fail_next(2, status=500)
    resp = litellm.completion_with_retries(model="openai/m", messages=convo("hi"), num_retries=3, **openai_args)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert server.request_count == 3
    # Each attempt is a single request: the SDK-level retries are off.
    server.reset()
    with pytest.raises(litellm.InternalServerError):
        litellm.completion_with_retries(model="openai/error-500", messages=convo("hi"), num_retries=2, **openai_args)
    assert server.request_count == 2


def test_completion_with_retries_exponential_backoff(openai_args, server, monkeypatch):
    waits = []
    monkeypatch.setattr(_batch, "_sleep", waits.append)
    with pytest.raises(litellm.RateLimitError):
        litellm.completion_with_retries(
            model="openai/error-429",
            messages=convo("hi"),
            num_retries=6,
            retry_strategy="exponential_backoff_retry",
            **openai_args,
        )
    assert waits == [1, 2, 4, 8, 10]
    assert server.request_count == 6
    with pytest.raises(ValueError, match="retry_strategy"):
        litellm.completion_with_retries(model="openai/m", messages=convo("hi"), retry_strategy="sometimes")


def test_completion_with_retries_original_function():
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) < 2:
            raise RuntimeError("flaky")
        return "ok"

    assert litellm.completion_with_retries(model="m", original_function=flaky, num_retries=2) == "ok"
    assert calls[0]["max_retries"] == 0 and calls[0]["num_retries"] == 0


async def test_acompletion_with_retries(openai_args, server):
    server.fail_next(1, status=503)
    resp = await litellm.acompletion_with_retries(model="openai/m", messages=convo("hi"), num_retries=2, **openai_args)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert server.request_count == 2
