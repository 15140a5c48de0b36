"""LiteLLM's mock_response: replies and errors with no network call and no key."""

from __future__ import annotations

import time

import pytest

import rustllm as litellm
from rustllm import ModelResponse

USER_HI = [{"role": "user", "content": "hi"}]


def test_string_mock(server):
    resp = litellm.completion(model="gpt-4o-mini", messages=USER_HI, mock_response="Hello there")
    assert resp.choices[0].message.content == "Hello there"
    assert resp.choices[0].finish_reason == "stop"
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens) == (10, 20, 30)
    assert resp.model == "gpt-4o-mini"
    assert resp.id.startswith("chatcmpl-")
    assert resp._hidden_params["custom_llm_provider"] == "openai"
    assert server.requests == []


def test_mock_with_n_choices():
    resp = litellm.completion(model="openai/m", messages=USER_HI, mock_response="x", n=3)
    assert [c.message.content for c in resp.choices] == ["x", "x", "x"]


async def test_async_mock():
    resp = await litellm.acompletion(model="openai/m", messages=USER_HI, mock_response="async hi")
    assert resp.choices[0].message.content == "async hi"


def test_mock_tool_calls():
    calls = [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}]
    resp = litellm.completion(model="openai/m", messages=USER_HI, mock_response="", mock_tool_calls=calls)
    tc = resp.choices[0].message.tool_calls[0]
    assert tc.id == "call_1" and tc.function.name == "f" and tc.function.arguments == '{"a": 1}'


def test_dict_and_model_response_mocks():
    resp = litellm.completion(
        model="openai/m", messages=USER_HI, mock_response={"choices": [{"message": {"content": "from dict"}}]}
    )
    assert resp.choices[0].message.content == "from dict"
    ready = ModelResponse(choices=[{"message": {"content": "ready"}}])
    assert litellm.completion(model="openai/m", messages=USER_HI, mock_response=ready) is ready


@pytest.mark.parametrize(
    "magic,cls",
    [
        ("litellm.RateLimitError", "RateLimitError"),
        ("litellm.ContextWindowExceededError", "ContextWindowExceededError"),
        ("litellm.InternalServerError", "InternalServerError"),
        ("Exception: content_filter_policy violation", "ContentPolicyViolationError"),
    ],
)
def test_magic_strings_raise(magic, cls):
    with pytest.raises(getattr(litellm, cls)):
        litellm.completion(model="openai/m", messages=USER_HI, mock_response=magic)


def test_exception_instance_mock():
    with pytest.raises(litellm.InternalServerError) as info:
        litellm.completion(model="openai/m", messages=USER_HI, mock_response=Exception("boom"))
    assert "litellm.MockException: boom" in str(info.value)
    rate = litellm.RateLimitError("slow", llm_provider="openai", model="m")
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(model="openai/m", messages=USER_HI, mock_response=rate)


def test_mock_timeout():
    started = time.monotonic()
    with pytest.raises(litellm.Timeout, match="mock timeout"):
        litellm.completion(model="openai/m", messages=USER_HI, mock_timeout=True, timeout=0.2)
    assert time.monotonic() - started >= 0.2


def test_mock_still_checks_messages():
    with pytest.raises(litellm.BadRequestError, match=r"messages\[0\]"):
        litellm.completion(model="openai/m", messages=[{"role": "user"}], mock_response="x")
