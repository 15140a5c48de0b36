"""Anthropic's Messages API through the public API, against MockServer: the exact body and
headers sent to /v1/messages, replies mapped to ModelResponse, streaming, tools, images,
JSON mode, thinking, errors, drop_params and keys (litellm-behaviour.md §1.4, §1.5, §4)."""

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
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture
def args(server):
    return {"api_base": server.url, "api_key": "sk-ant-test", "max_retries": 0}


def test_request_is_translated_to_the_messages_api(server, args):
    litellm.completion(
        model="anthropic/claude-3-5-sonnet",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "a"},
            {"role": "user", "content": "b"},
            {"role": "assistant", "content": "c"},
            {"role": "user", "content": "d"},
        ],
        stop="END",
        user="user-42",
        top_k=5,
        temperature=0.3,
        **args,
    )
    req = server.last_request
    assert req.path == "/v1/messages"
    assert req.headers["x-api-key"] == "sk-ant-test"
    assert req.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in req.headers
    assert req.body == {
        "model": "claude-3-5-sonnet",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "c"}]},
            {"role": "user", "content": [{"type": "text", "text": "d"}]},
        ],
        "system": [{"type": "text", "text": "Be brief."}],
        "stop_sequences": ["END"],
        "temperature": 0.3,
        "metadata": {"user_id": "user-42"},
        "top_k": 5,
        "max_tokens": 4096,
    }


def test_reply_becomes_a_model_response(server, args):
    resp = litellm.completion(model="anthropic/claude-3-5-sonnet", messages=USER_HI, max_tokens=50, **args)
    assert server.last_request.body["max_tokens"] == 50
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert resp.choices[0].message.role == "assistant"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.model == "claude-3-5-sonnet"
    assert resp.id.startswith("chatcmpl-")
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens) == (1, 3, 4)
    assert resp._hidden_params["custom_llm_provider"] == "anthropic"


def test_max_tokens_cut_maps_to_length(server, args):
    resp = litellm.completion(model="anthropic/claude-x", messages=USER_HI, max_completion_tokens=2, **args)
    assert server.last_request.body["max_tokens"] == 2
    assert resp.choices[0].finish_reason == "length"
    assert resp.choices[0].message.content == "Hello from"


def test_prompt_cache_usage_is_reported(server, args):
    resp = litellm.completion(
        model="anthropic/claude-x",
        messages=[
            {
                "role": "system",
                "content": [
                    {"type": "text", "text": "long shared context here", "cache_control": {"type": "ephemeral"}}
                ],
            },
            {"role": "user", "content": "and a question"},
        ],
        **args,
    )
    assert server.last_request.body["system"] == [
        {"type": "text", "text": "long shared context here", "cache_control": {"type": "ephemeral"}}
    ]
    usage = resp.usage
    # Cache reads count as prompt tokens, as LiteLLM reports them.
    assert usage.prompt_tokens == 7
    assert usage.prompt_tokens_details.cached_tokens == 4
    assert usage.cache_read_input_tokens == 4
    assert usage.cache_creation_input_tokens == 0


def test_tools_and_a_full_round_trip_through_the_history(server, args):
    messages = [{"role": "user", "content": "weather in Paris?"}]
    resp = litellm.completion(
        model="anthropic/claude-x",
        messages=messages,
        tools=[WEATHER_TOOL],
        tool_choice="required",
        parallel_tool_calls=False,
        **args,
    )
    body = server.last_request.body
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "Current weather for a city",
            "input_schema": WEATHER_TOOL["function"]["parameters"],
        }
    ]
    assert body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    msg = resp.choices[0].message
    assert resp.choices[0].finish_reason == "tool_calls"
    assert msg.content is None
    call = msg.tool_calls[0]
    assert call.id.startswith("toolu_")
    assert call.function.name == "get_weather"
    assert call.function.arguments == '{"city": "example"}'
    assert call.index == 0

    messages.append(msg)
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"})
    messages.append({"role": "user", "content": "thanks, and tomorrow?"})
    resp = litellm.completion(model="anthropic/claude-x", messages=messages, tools=[WEATHER_TOOL], **args)
    assert server.last_request.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "weather in Paris?"}]},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": call.id, "name": "get_weather", "input": {"city": "example"}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": call.id, "content": "sunny, 21C"},
                {"type": "text", "text": "thanks, and tomorrow?"},
            ],
        },
    ]
    assert "tool_choice" not in server.last_request.body
    assert resp.choices[0].message.content == "Hello from MockServer!"


@pytest.mark.parametrize(
    "choice,expected",
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ({"type": "function", "function": {"name": "get_weather"}}, {"type": "tool", "name": "get_weather"}),
    ],
)
def test_tool_choice_mapping(server, args, choice, expected):
    litellm.completion(model="anthropic/claude-x", messages=USER_HI, tools=[WEATHER_TOOL], tool_choice=choice, **args)
    assert server.last_request.body["tool_choice"] == expected


def test_images_become_image_blocks(server, args):
    litellm.completion(
        model="anthropic/claude-x",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in these?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                ],
            }
        ],
        **args,
    )
    assert server.last_request.body["messages"][0]["content"] == [
        {"type": "text", "text": "What is in these?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]


def test_stream_of_text_with_usage(server, args):
    stream = litellm.completion(
        model="anthropic/claude-x",
        messages=[{"role": "user", "content": "say hello"}],
        stream=True,
        stream_options={"include_usage": True},
        **args,
    )
    chunks = list(stream)
    body = server.last_request.body
    assert body["stream"] is True
    assert "stream_options" not in body
    texts = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert "".join(texts) == "Hello from MockServer!"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len({c.id for c in chunks}) == 1
    assert [c.choices[0].finish_reason for c in chunks if c.choices[0].finish_reason] == ["stop"]
    usage = chunks[-1].usage
    assert (usage.prompt_tokens, usage.completion_tokens) == (2, 3)
    rebuilt = litellm.stream_chunk_builder(chunks)
    assert rebuilt.choices[0].message.content == "Hello from MockServer!"
    assert rebuilt.usage.total_tokens == 5


def test_stream_without_include_usage_has_no_usage_chunk(server, args):
    chunks = list(litellm.completion(model="anthropic/claude-x", messages=USER_HI, stream=True, **args))
    assert not any(getattr(c, "usage", None) for c in chunks)


def test_stream_tool_call_fragments_are_joined(server, args):
    stream = litellm.completion(
        model="anthropic/claude-x",
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER_TOOL],
        tool_choice="required",
        stream=True,
        **args,
    )
    chunks = list(stream)
    calls = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    assert calls[0].id.startswith("toolu_") and calls[0].function.name == "get_weather"
    assert len(calls) > 2  # the arguments arrive as several input_json_delta fragments
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    rebuilt = litellm.stream_chunk_builder(chunks)
    call = rebuilt.choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == {"city": "example"}
    assert call.id == calls[0].id


async def test_async_stream(server, args):
    stream = await litellm.acompletion(model="anthropic/claude-x", messages=USER_HI, stream=True, **args)
    texts = [c.choices[0].delta.content async for c in stream if c.choices[0].delta.content]
    assert "".join(texts) == "Hello from MockServer!"


def test_json_mode_uses_a_forced_tool_and_returns_content(server, args):
    resp = litellm.completion(
        model="anthropic/claude-x",
        messages=[{"role": "user", "content": "a JSON object please"}],
        response_format={
            "type": "json_schema",
            "json_schema": {
                "name": "Answer",
                "schema": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]},
            },
        },
        **args,
    )
    body = server.last_request.body
    assert body["tools"] == [
        {
            "name": "json_tool_call",
            "input_schema": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]},
        }
    ]
    assert body["tool_choice"] == {"name": "json_tool_call", "type": "tool"}
    msg = resp.choices[0].message
    assert json.loads(msg.content) == {"answer": "example"}
    assert msg.tool_calls is None
    assert resp.choices[0].finish_reason == "stop"


def test_json_object_mode_streams_the_json_as_content(server, args):
    chunks = list(
        litellm.completion(
            model="anthropic/claude-x",
            messages=USER_HI,
            response_format={"type": "json_object"},
            stream=True,
            **args,
        )
    )
    tool = server.last_request.body["tools"][0]
    assert tool == {
        "name": "json_tool_call",
        "input_schema": {"type": "object", "additionalProperties": True, "properties": {}},
    }
    rebuilt = litellm.stream_chunk_builder(chunks)
    assert json.loads(rebuilt.choices[0].message.content) == {}
    assert rebuilt.choices[0].finish_reason == "stop"


def test_reasoning_effort_and_thinking_blocks(server, args):
    server.respond(
        body={
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-3-7-sonnet",
            "content": [
                {"type": "thinking", "thinking": "Let me think.", "signature": "sig=="},
                {"type": "text", "text": "42"},
            ],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 10, "output_tokens": 20},
        }
    )
    resp = litellm.completion(model="anthropic/claude-3-7-sonnet", messages=USER_HI, reasoning_effort="low", **args)
    body = server.last_request.body
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert body["max_tokens"] == 1024 + 4096
    msg = resp.choices[0].message
    assert msg.content == "42"
    assert msg.reasoning_content == "Let me think."
    assert msg.thinking_blocks == [{"type": "thinking", "thinking": "Let me think.", "signature": "sig=="}]
    assert resp.usage.completion_tokens_details.reasoning_tokens > 0

    # The thinking blocks go back first in the assistant turn.
    litellm.completion(
        model="anthropic/claude-3-7-sonnet",
        messages=[*USER_HI, msg, {"role": "user", "content": "why?"}],
        thinking={"type": "enabled", "budget_tokens": 2000},
        **args,
    )
    body = server.last_request.body
    assert body["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "Let me think.", "signature": "sig=="},
        {"type": "text", "text": "42"},
    ]
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2000}


def test_streamed_thinking_is_reasoning_content(server, args):
    events = [
        {
            "type": "message_start",
            "message": {"id": "m", "model": "c", "usage": {"input_tokens": 3, "output_tokens": 1}},
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Hmm, "}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "yes."}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "s"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Yes"}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}},
        {"type": "message_stop"},
    ]
    raw = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    server.respond(body=raw, headers={"content-type": "text/event-stream"})
    chunks = list(litellm.completion(model="anthropic/claude-x", messages=USER_HI, stream=True, **args))
    rebuilt = litellm.stream_chunk_builder(chunks)
    assert rebuilt.choices[0].message.reasoning_content == "Hmm, yes."
    assert rebuilt.choices[0].message.content == "Yes"


@pytest.mark.parametrize(
    "model,exc,status",
    [
        ("claude-error-400", litellm.BadRequestError, 400),
        ("claude-error-401", litellm.AuthenticationError, 401),
        ("claude-error-404", litellm.NotFoundError, 404),
        ("claude-error-429", litellm.RateLimitError, 429),
        ("claude-error-500", litellm.InternalServerError, 500),
        ("claude-error-503", litellm.ServiceUnavailableError, 503),
        # Anthropic's overloaded_error: LiteLLM raises InternalServerError.
        ("claude-error-529", litellm.InternalServerError, 500),
        ("claude-context-window-error", litellm.ContextWindowExceededError, 400),
        ("claude-content-policy-error", litellm.ContentPolicyViolationError, 400),
    ],
)
def test_errors_by_status(server, args, model, exc, status):
    with pytest.raises(exc) as info:
        litellm.completion(model=f"anthropic/{model}", messages=USER_HI, **args)
    err = info.value
    assert err.status_code == status
    assert err.llm_provider == "anthropic"
    assert "AnthropicException" in str(err)
    assert "sk-ant-test" not in str(err)


def test_error_bodies_have_anthropics_shape(server, args):
    server.fail_next(1, status=429, message="Number of request tokens has exceeded your rate limit")
    with pytest.raises(litellm.RateLimitError, match="AnthropicException - Number of request tokens"):
        litellm.completion(model="anthropic/claude-x", messages=USER_HI, **args)
    server.respond(
        status=400,
        body={
            "type": "error",
            "error": {"type": "invalid_request_error", "message": "prompt is too long: 300000 tokens"},
        },
    )
    with pytest.raises(litellm.ContextWindowExceededError):
        litellm.completion(model="anthropic/claude-x", messages=USER_HI, **args)


def test_overloaded_is_retried(server, args):
    server.fail_next(1, status=529, headers={"retry-after": "0"})
    resp = litellm.completion(model="anthropic/claude-x", messages=USER_HI, **{**args, "max_retries": 1})
    assert resp.choices[0].message.content
    assert server.request_count == 2


def test_error_event_inside_the_stream(server, args):
    events = [
        {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 1, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}},
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    ]
    raw = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    server.respond(body=raw)
    stream = litellm.completion(model="anthropic/claude-x", messages=USER_HI, stream=True, **args)
    got = []
    with pytest.raises(litellm.InternalServerError, match="Overloaded"):
        for chunk in stream:
            got.append(chunk.choices[0].delta.content)
    assert got == ["Hel"]


def test_unsupported_params_raise_unless_dropped(server, args):
    with pytest.raises(litellm.UnsupportedParamsError) as info:
        litellm.completion(model="anthropic/claude-x", messages=USER_HI, logit_bias={"1": 1}, seed=7, **args)
    assert str(info.value).startswith(
        "litellm.UnsupportedParamsError: anthropic does not support parameters: ['logit_bias', 'seed'], "
        "for model=claude-x. To drop these, set `litellm.drop_params=True`"
    )
    assert isinstance(info.value, litellm.BadRequestError)
    assert server.request_count == 0

    litellm.completion(
        model="anthropic/claude-x",
        messages=USER_HI,
        logit_bias={"1": 1},
        presence_penalty=0.5,
        frequency_penalty=0.1,
        n=2,
        drop_params=True,
        **args,
    )
    body = server.last_request.body
    for dropped in ("logit_bias", "presence_penalty", "frequency_penalty", "n"):
        assert dropped not in body


def test_global_drop_params(server, args, monkeypatch):
    monkeypatch.setattr(litellm, "drop_params", True)
    litellm.completion(model="anthropic/claude-x", messages=USER_HI, seed=1, **args)
    assert "seed" not in server.last_request.body


def test_missing_key_names_the_variable(server):
    with pytest.raises(litellm.AuthenticationError, match="ANTHROPIC_API_KEY"):
        litellm.completion(model="anthropic/claude-x", messages=USER_HI, api_base=server.url)
    assert server.request_count == 0


def test_key_and_base_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env")
    monkeypatch.setenv("ANTHROPIC_API_BASE", server.url)
    resp = litellm.completion(model="claude-3-5-haiku-20241022", messages=USER_HI, max_retries=0)
    assert resp.choices[0].message.content
    assert server.last_request.headers["x-api-key"] == "sk-ant-env"
    assert server.last_request.body["model"] == "claude-3-5-haiku-20241022"
