"""LiteLLM's own keyword arguments are consumed or dropped, never sent to a provider;
unknown ones still go into the body, as LiteLLM sends them."""

from __future__ import annotations

import asyncio

import pytest

import rustllm as litellm

USER_HI = [{"role": "user", "content": "hi"}]

# LiteLLM's own settings that callers (frameworks, the LiteLLM proxy, retry helpers) pass.
INTERNAL = {
    "retry_strategy": "exponential_backoff_retry",
    "_skip_mcp_handler": True,
    "metadata": {"user": "u1"},
    "litellm_call_id": "call-1",
    "proxy_server_request": {"url": "/chat/completions"},
    "litellm_trace_id": "trace-1",
    "litellm_session_id": "session-1",
    "langfuse_public_key": "pk",
    "ssl_verify": True,
    "mock_delay": 0,
    "model_group": "g",
}


def test_all_litellm_params_is_public_and_lists_litellm_internals():
    assert "retry_strategy" in litellm.all_litellm_params
    assert "metadata" in litellm.all_litellm_params
    assert "temperature" not in litellm.all_litellm_params
    from rustllm.types.utils import all_litellm_params

    assert all_litellm_params == litellm.all_litellm_params


def test_internal_kwargs_never_reach_the_provider_but_unknown_ones_do(server, openai_args):
    litellm.completion(model="openai/m", messages=USER_HI, foo_bar="x", top_k=3, **INTERNAL, **openai_args)
    body = server.last_request.body
    for name in INTERNAL:
        assert name not in body, name
    assert body["foo_bar"] == "x"
    assert body["top_k"] == 3


def test_async_calls_drop_them_too(server, openai_args):
    asyncio.run(litellm.acompletion(model="openai/m", messages=USER_HI, foo_bar="x", **INTERNAL, **openai_args))
    body = server.last_request.body
    assert not set(INTERNAL) & set(body)
    assert body["foo_bar"] == "x"


@pytest.mark.parametrize("stream", [None, False])
def test_stream_is_absent_unless_asked(server, openai_args, stream):
    litellm.completion(model="openai/m", messages=USER_HI, stream=stream, **openai_args)
    assert "stream" not in server.last_request.body


def test_stream_true_is_sent(server, openai_args):
    for _ in litellm.completion(model="openai/m", messages=USER_HI, stream=True, **openai_args):
        pass
    assert server.last_request.body["stream"] is True


def test_router_calls_send_no_internal_kwargs_and_no_stream_false(server):
    router = litellm.Router(
        model_list=[
            {"model_name": "g", "litellm_params": {"model": "openai/m", "api_base": server.base_url, "api_key": "k"}}
        ]
    )
    router.completion(model="g", messages=USER_HI, foo_bar="x", stream=False, **INTERNAL)
    asyncio.run(router.acompletion(model="g", messages=USER_HI, stream=False, **INTERNAL))
    for req in server.requests:
        assert not set(INTERNAL) & set(req.body)
        assert "stream" not in req.body
    assert server.requests[0].body["foo_bar"] == "x"
