"""Cohere's v2 chat API through the public API, against MockServer: the body and headers
sent to /v2/chat, replies and usage, tools in both directions, streaming, errors,
drop_params and keys (`cohere/` and `cohere_chat/`)."""

from __future__ import annotations

import json

import pytest

import rustllm as litellm

USER_HI = [{"role": "user", "content": "hi"}]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture
def args(server):
    return {"api_base": server.url, "api_key": "co-test-key", "max_retries": 0}


def test_request_is_translated_to_v2_chat(server, args):
    litellm.completion(
        model="cohere_chat/command-r-plus",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}],
        top_p=0.9,
        stop="END",
        max_tokens=100,
        temperature=0.2,
        seed=1,
        **args,
    )
    req = server.last_request
    assert req.path == "/v2/chat"
    assert req.headers["authorization"] == "Bearer co-test-key"
    assert req.body == {
        "model": "command-r-plus",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}],
        "temperature": 0.2,
        "p": 0.9,
        "seed": 1,
        "max_tokens": 100,
        "stop_sequences": ["END"],
    }


def test_reply_becomes_a_model_response(server, args):
    resp = litellm.completion(model="cohere/command-r", messages=[{"role": "user", "content": "one two"}], **args)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.model == "command-r"
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens) == (2, 3, 5)
    assert resp._hidden_params["custom_llm_provider"] == "cohere"


def test_max_tokens_maps_to_length(server, args):
    resp = litellm.completion(model="cohere_chat/command-r", messages=USER_HI, max_tokens=1, **args)
    assert resp.choices[0].finish_reason == "length"


def test_tool_round_trip(server, args):
    messages = [{"role": "user", "content": "weather in Paris?"}]
    resp = litellm.completion(
        model="cohere_chat/command-r", messages=messages, tools=[WEATHER_TOOL], tool_choice="required", **args
    )
    body = server.last_request.body
    assert body["tools"] == [WEATHER_TOOL]
    assert body["tool_choice"] == "REQUIRED"
    assert resp.choices[0].finish_reason == "tool_calls"
    msg = resp.choices[0].message
    call = msg.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "example"}

    messages += [msg, {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    resp = litellm.completion(model="cohere_chat/command-r", messages=messages, tools=[WEATHER_TOOL], **args)
    assert server.last_request.body["messages"][1:] == [
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": call.function.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    assert resp.choices[0].message.content == "Hello from MockServer!"


def test_named_tool_choice_offers_only_that_tool(server, args):
    other = {"type": "function", "function": {"name": "other", "parameters": {"type": "object"}}}
    litellm.completion(
        model="cohere_chat/command-r",
        messages=USER_HI,
        tools=[other, WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        **args,
    )
    body = server.last_request.body
    assert body["tools"] == [WEATHER_TOOL]
    assert body["tool_choice"] == "REQUIRED"


def test_stream_text_and_usage(server, args):
    chunks = list(
        litellm.completion(
            model="cohere_chat/command-r",
            messages=USER_HI,
            stream=True,
            stream_options={"include_usage": True},
            **args,
        )
    )
    assert server.last_request.body["stream"] is True
    assert "stream_options" not in server.last_request.body
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello from MockServer!"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].usage.total_tokens == 4
    rebuilt = litellm.stream_chunk_builder(chunks)
    assert rebuilt.choices[0].finish_reason == "stop"
    assert rebuilt.usage.completion_tokens == 3


def test_stream_tool_call_fragments(server, args):
    chunks = list(
        litellm.completion(
            model="cohere_chat/command-r-tool-chunks-4",
            messages=USER_HI,
            tools=[WEATHER_TOOL],
            stream=True,
            **args,
        )
    )
    rebuilt = litellm.stream_chunk_builder(chunks)
    assert rebuilt.choices[0].finish_reason == "tool_calls"
    call = rebuilt.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "example"}


@pytest.mark.parametrize(
    "model,exc",
    [
        ("command-error-400", litellm.BadRequestError),
        ("command-error-401", litellm.AuthenticationError),
        ("command-error-429", litellm.RateLimitError),
        ("command-error-500", litellm.InternalServerError),
        ("command-context-window-error", litellm.ContextWindowExceededError),
    ],
)
def test_errors_by_status(server, args, model, exc):
    with pytest.raises(exc, match="Cohere_chatException"):
        litellm.completion(model=f"cohere_chat/{model}", messages=USER_HI, **args)


def test_error_body_is_cohere_shaped(server, args):
    server.fail_next(1, status=429, message="You are using a Trial key")
    with pytest.raises(litellm.RateLimitError, match="Cohere_chatException - You are using a Trial key"):
        litellm.completion(model="cohere_chat/command-r", messages=USER_HI, **args)


def test_unsupported_params(server, args):
    with pytest.raises(
        litellm.UnsupportedParamsError, match=r"cohere_chat does not support parameters: \['logit_bias'\]"
    ):
        litellm.completion(model="cohere_chat/command-r", messages=USER_HI, logit_bias={"1": 1}, **args)
    litellm.completion(model="cohere_chat/command-r", messages=USER_HI, logit_bias={"1": 1}, drop_params=True, **args)
    assert "logit_bias" not in server.last_request.body


def test_keys_and_base_from_the_environment(server, monkeypatch):
    with pytest.raises(litellm.AuthenticationError, match="COHERE_API_KEY"):
        litellm.completion(model="cohere_chat/command-r", messages=USER_HI, api_base=server.url)
    monkeypatch.setenv("CO_API_KEY", "co-env")
    monkeypatch.setenv("COHERE_API_BASE", server.url)
    litellm.completion(model="command-r", messages=USER_HI, max_retries=0)
    assert server.last_request.headers["authorization"] == "Bearer co-env"
    assert server.last_request.path == "/v2/chat"
