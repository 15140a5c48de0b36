"""Anthropic's Messages API through the public interface: ``anthropic_messages`` /
``aanthropic_messages`` and ``litellm.anthropic.messages.create`` / ``acreate``, passed
through to Anthropic and translated over chat for OpenAI-format providers; the stream of
Anthropic's events (``for`` and ``async for``), tools, cost, callbacks, retries, the
Router, and each bad input.

Each test checks what went over the wire (MockServer's recorded requests) and what came
back.
"""

from __future__ import annotations

import asyncio
import json

import pytest

import rustllm as litellm
from rustllm._anthropic_messages import AnthropicMessagesResponse, AnthropicMessagesStream

HI = [{"role": "user", "content": "Capital of France?"}]
WEATHER = [
    {
        "name": "get_weather",
        "description": "The weather in a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


@pytest.fixture
def anthropic_args(server):
    return {"api_base": server.url, "api_key": "sk-ant-test", "max_retries": 0}


def test_anthropic_gets_the_body_as_it_is(server, anthropic_args):
    server.respond(text="Paris.")
    r = litellm.anthropic_messages(
        model="anthropic/claude-3-5-sonnet-20240620",
        messages=HI,
        max_tokens=50,
        system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        temperature=0.3,
        top_k=5,
        stop_sequences=["END"],
        metadata={"user_id": "u-1"},
        **anthropic_args,
    )
    req = server.last_request
    assert req.path == "/v1/messages"
    assert req.headers["x-api-key"] == "sk-ant-test"
    assert req.headers["anthropic-version"] == "2023-06-01"
    # Anthropic's own shapes, untranslated.
    assert req.body["model"] == "claude-3-5-sonnet-20240620"
    assert req.body["messages"] == HI
    assert req.body["system"] == [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
    assert req.body["max_tokens"] == 50 and req.body["top_k"] == 5
    assert req.body["stop_sequences"] == ["END"] and req.body["metadata"] == {"user_id": "u-1"}
    assert isinstance(r, AnthropicMessagesResponse) and isinstance(r, dict)
    assert r["type"] == "message" and r["role"] == "assistant"
    assert r["content"] == [{"type": "text", "text": "Paris."}]
    assert r.content[0]["text"] == "Paris."
    assert r["stop_reason"] == "end_turn"
    assert r["usage"]["output_tokens"] == 1
    assert r._hidden_params["custom_llm_provider"] == "anthropic"
    assert r._hidden_params["response_cost"] > 0
    json.dumps(r)  # a plain JSON-able dict, as LiteLLM's is


def test_openai_gets_a_translated_chat_request(server, openai_args):
    server.respond(text="Paris, of course.")
    r = litellm.anthropic_messages(
        model="openai/gpt-4o",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "QUJD"}},
                ],
            }
        ],
        system="Be brief.",
        max_tokens=40,
        stop_sequences=["END"],
        metadata={"user_id": "u-1"},
        **openai_args,
    )
    req = server.last_request
    assert req.path.endswith("/chat/completions")
    assert req.headers["authorization"] == "Bearer sk-test-key"
    assert req.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}},
            ],
        },
    ]
    assert req.body["max_tokens"] == 40 and req.body["stop"] == ["END"] and req.body["user"] == "u-1"
    assert "system" not in req.body and "metadata" not in req.body
    assert r["type"] == "message" and r["model"] == "openai/gpt-4o"
    assert r["id"].startswith("msg_")
    assert r["content"] == [{"type": "text", "text": "Paris, of course."}]
    assert r["stop_reason"] == "end_turn" and r["stop_sequence"] is None
    assert r["usage"]["output_tokens"] == 3 and r["usage"]["input_tokens"] > 0
    assert r._hidden_params["custom_llm_provider"] == "openai"
    assert r._hidden_params["response_cost"] > 0


def test_a_tool_use_round_trip_over_chat(server, openai_args):
    first = litellm.anthropic_messages(
        model="openai/gpt-4o",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=WEATHER,
        tool_choice={"type": "tool", "name": "get_weather"},
        max_tokens=100,
        **openai_args,
    )
    sent = server.last_request.body
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city",
                "parameters": WEATHER[0]["input_schema"],
            },
        }
    ]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert first["stop_reason"] == "tool_use"
    (use,) = [b for b in first["content"] if b["type"] == "tool_use"]
    assert use["name"] == "get_weather" and isinstance(use["input"], dict)

    server.respond(text="It is sunny.")
    second = litellm.anthropic_messages(
        model="openai/gpt-4o",
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": first["content"]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use["id"], "content": "sunny"}]},
        ],
        tools=WEATHER,
        max_tokens=100,
        **openai_args,
    )
    msgs = server.last_request.body["messages"]
    assert msgs[1]["role"] == "assistant"
    assert msgs[1]["tool_calls"][0]["id"] == use["id"]
    assert json.loads(msgs[1]["tool_calls"][0]["function"]["arguments"]) == use["input"]
    assert msgs[2] == {"role": "tool", "tool_call_id": use["id"], "content": "sunny"}
    assert second["content"] == [{"type": "text", "text": "It is sunny."}]
    assert second["stop_reason"] == "end_turn"


def test_vertex_claude_gets_the_body_on_raw_predict(server):
    args = {
        "api_base": server.url,
        "api_key": "ya29.test-token",  # sent as the OAuth bearer token itself
        "vertex_project": "proj",
        "vertex_location": "us-east5",
        "max_retries": 0,
    }
    model = "vertex_ai/claude-sonnet-4@20250514"
    path = "/v1/projects/proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:{}"
    server.respond(text="Paris.")
    r = litellm.anthropic_messages(model=model, messages=HI, max_tokens=30, top_k=2, **args)
    req = server.last_request
    assert req.path == path.format("rawPredict")
    assert req.headers["authorization"] == "Bearer ya29.test-token"
    assert "x-api-key" not in req.headers
    assert req.body == {
        "anthropic_version": "vertex-2023-10-16",
        "messages": HI,
        "max_tokens": 30,
        "top_k": 2,
    }
    assert r["content"] == [{"type": "text", "text": "Paris."}]
    assert r._hidden_params["custom_llm_provider"] == "vertex_ai"
    server.respond(text="one two", stream_chunks=2)
    events = list(litellm.anthropic_messages(model=model, messages=HI, max_tokens=30, stream=True, **args))
    assert server.last_request.path == path.format("streamRawPredict")
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"


def test_bedrock_claude_gets_the_body_on_invoke_model(server):
    args = {
        "api_base": server.url,
        "aws_access_key_id": "AKIDTEST",
        "aws_secret_access_key": "secret",
        "aws_region_name": "eu-west-1",
        "max_retries": 0,
    }
    model = "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0"
    server.respond(text="Paris.")
    r = litellm.anthropic_messages(model=model, messages=HI, max_tokens=30, top_k=2, **args)
    req = server.last_request
    assert req.path == "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke"
    assert req.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDTEST/")
    assert req.body == {"anthropic_version": "bedrock-2023-05-31", "messages": HI, "max_tokens": 30, "top_k": 2}
    assert r["content"] == [{"type": "text", "text": "Paris."}]
    server.respond(text="one two", stream_chunks=2)
    events = list(litellm.anthropic_messages(model=model, messages=HI, max_tokens=30, stream=True, **args))
    assert server.last_request.path.endswith("/invoke-with-response-stream")
    assert "stream" not in server.last_request.body
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert text == "one two"
    # Anthropic's beta features, asked for by header, go in Bedrock's body.
    litellm.anthropic_messages(
        model=model, messages=HI, max_tokens=30, extra_headers={"anthropic-beta": "context-1m-2025-08-07"}, **args
    )
    assert server.last_request.body["anthropic_beta"] == ["context-1m-2025-08-07"]


def test_max_tokens_cut_is_reported_as_max_tokens(server, openai_args):
    server.respond(body={
        "id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Par"}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    })  # fmt: skip
    r = litellm.anthropic_messages(model="openai/gpt-4o", messages=HI, max_tokens=1, **openai_args)
    assert r["stop_reason"] == "max_tokens"
    assert r["usage"] == {"input_tokens": 3, "output_tokens": 1}


def _kinds(events):
    return [e["type"] for e in events]


def test_native_stream_passes_anthropic_events_through(server, anthropic_args):
    server.respond(text="Hello there friend", stream_chunks=3)
    stream = litellm.anthropic_messages(
        model="anthropic/claude-3-5-sonnet-20240620", messages=HI, max_tokens=20, stream=True, **anthropic_args
    )
    assert isinstance(stream, AnthropicMessagesStream)
    events = list(stream)
    assert server.last_request.body["stream"] is True
    assert events[0]["type"] == "message_start"
    assert events[-1]["type"] == "message_stop"
    assert "ping" not in _kinds(events)
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert text == "Hello there friend"
    done = stream.completed_message
    assert done["content"] == [{"type": "text", "text": "Hello there friend"}]
    assert done["stop_reason"] == "end_turn"
    assert done._hidden_params["response_cost"] > 0


def test_translated_stream_is_anthropic_events(server, openai_args):
    server.respond(text="Hello there friend", stream_chunks=3)
    stream = litellm.anthropic_messages(model="openai/gpt-4o", messages=HI, max_tokens=20, stream=True, **openai_args)
    events = list(stream)
    # Usage is asked for: it goes in message_delta.
    assert server.last_request.body["stream_options"] == {"include_usage": True}
    kinds = _kinds(events)
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds[1] == "content_block_start" and kinds[-3] == "content_block_stop"
    deltas = [e["delta"] for e in events if e["type"] == "content_block_delta"]
    assert all(d["type"] == "text_delta" for d in deltas)
    assert "".join(d["text"] for d in deltas) == "Hello there friend"
    final = events[-2]
    assert final["delta"]["stop_reason"] == "end_turn"
    assert final["usage"]["output_tokens"] == 3 and final["usage"]["input_tokens"] > 0
    assert stream.completed_message["content"][0]["text"] == "Hello there friend"
    assert stream.completed_message._hidden_params["response_cost"] > 0


def test_translated_stream_of_a_tool_call(server, openai_args):
    stream = litellm.anthropic_messages(
        model="openai/gpt-4o",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=WEATHER,
        tool_choice={"type": "any"},
        max_tokens=50,
        stream=True,
        **openai_args,
    )
    events = list(stream)
    assert server.last_request.body["tool_choice"] == "required"
    starts = [e["content_block"] for e in events if e["type"] == "content_block_start"]
    assert starts[-1]["type"] == "tool_use" and starts[-1]["name"] == "get_weather"
    partial = "".join(
        e["delta"]["partial_json"]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta"
    )
    assert isinstance(json.loads(partial), dict)
    assert events[-2]["delta"]["stop_reason"] == "tool_use"
    use = stream.completed_message["content"][-1]
    assert use["type"] == "tool_use" and use["input"] == json.loads(partial)


@pytest.mark.parametrize("model", ["anthropic/claude-3-5-sonnet-20240620", "openai/gpt-4o"])
def test_a_stream_cut_short_raises_instead_of_ending(server, anthropic_args, openai_args, model):
    args = anthropic_args if model.startswith("anthropic/") else openai_args
    server.respond(text="one two three four five", stream_chunks=5, break_after=3)
    stream = litellm.anthropic_messages(model=model, messages=HI, max_tokens=20, stream=True, **args)
    received = []
    with pytest.raises(litellm.APIConnectionError):
        for event in stream:
            received.append(event)
    # What arrived before the break was delivered first; no message_stop was made up.
    assert received and received[0]["type"] == "message_start"
    assert "message_stop" not in _kinds(received)
    assert stream.completed_message is None


def test_async_create_and_its_stream_serve_async_for_and_for(server, openai_args):
    async def run():
        server.respond(text="Async hello")
        r = await litellm.anthropic.messages.acreate(model="openai/gpt-4o", messages=HI, max_tokens=10, **openai_args)
        assert r["content"][0]["text"] == "Async hello"
        server.respond(text="one two three", stream_chunks=3)
        stream = await litellm.aanthropic_messages(
            model="openai/gpt-4o", messages=HI, max_tokens=10, stream=True, **openai_args
        )
        return [e async for e in stream]

    events = asyncio.run(run())
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"
    # A stream opened by the sync call iterates under `for`; so does the module's create.
    server.respond(text="sync text")
    r = litellm.anthropic.messages.create(model="openai/gpt-4o", messages=HI, max_tokens=10, **openai_args)
    assert r["content"][0]["text"] == "sync text"


def test_provider_errors_are_mapped(server, anthropic_args, openai_args):
    server.respond(status=401, error="invalid x-api-key")
    with pytest.raises(litellm.AuthenticationError) as e:
        litellm.anthropic_messages(
            model="anthropic/claude-3-5-sonnet-20240620", messages=HI, max_tokens=5, **anthropic_args
        )
    assert "invalid x-api-key" in str(e.value)
    assert "sk-ant-test" not in str(e.value)
    server.respond(status=429, error="slow down")
    with pytest.raises(litellm.RateLimitError):
        litellm.anthropic_messages(model="openai/gpt-4o", messages=HI, max_tokens=5, **openai_args)


def test_retries_resend_the_request(server, openai_args):
    server.fail_next(1, status=500)
    server.respond(text="second time")
    args = {**openai_args, "max_retries": 1}
    r = litellm.anthropic_messages(model="openai/gpt-4o", messages=HI, max_tokens=5, **args)
    assert r["content"][0]["text"] == "second time"
    assert server.request_count == 2


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"messages": HI}, "needs max_tokens="),
        ({"messages": HI, "max_tokens": 0}, "positive integer"),
        ({"max_tokens": 5}, "needs messages="),
        ({"max_tokens": 5, "messages": "hi"}, "messages must be a list"),
        ({"max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}, "system prompt goes in system="),
        ({"max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "tool_use"}]}]}, "tool_use"),
        ({"max_tokens": 5, "messages": HI, "tool_choice": "auto"}, "tool_choice must be a dict"),
        ({"max_tokens": 5, "messages": HI, "tools": [{"description": "no name"}]}, "tools[0]"),
        ({"max_tokens": 5, "messages": HI, "thinking": {"type": "enabled"}}, "budget_tokens"),
        ({"max_tokens": 5, "messages": HI, "stop_sequences": "END"}, "stop_sequences"),
        ({"max_tokens": 5, "messages": HI, "system": 3}, "system must be"),
    ],
)
def test_bad_input_is_refused_before_any_request(server, openai_args, kwargs, needle):
    with pytest.raises(litellm.BadRequestError) as e:
        litellm.anthropic_messages(model="openai/gpt-4o", **kwargs, **openai_args)
    assert needle in str(e.value)
    assert server.request_count == 0


def test_callbacks_see_the_call_and_its_cost(server, openai_args):
    seen = []

    class Logger(litellm.CustomLogger):
        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            seen.append((kwargs["call_type"], response_obj, kwargs.get("response_cost")))

    litellm.callbacks = [Logger()]
    try:
        server.respond(text="logged")
        litellm.anthropic_messages(model="openai/gpt-4o", messages=HI, max_tokens=5, **openai_args)
        server.respond(text="streamed reply", stream_chunks=2)
        for _ in litellm.anthropic_messages(
            model="openai/gpt-4o", messages=HI, max_tokens=5, stream=True, **openai_args
        ):
            pass
        litellm._hooks.flush()
    finally:
        litellm.callbacks = []
    assert [s[0] for s in seen] == ["anthropic_messages", "anthropic_messages"]
    assert seen[0][1]["content"][0]["text"] == "logged"
    assert seen[1][1]["content"][0]["text"] == "streamed reply"
    assert all(s[2] and s[2] > 0 for s in seen)


def test_router_routes_anthropic_messages(server, openai_args, anthropic_args):
    router = litellm.Router(
        model_list=[
            {
                "model_name": "claude",
                "litellm_params": {"model": "anthropic/claude-3-5-sonnet-20240620", **anthropic_args},
            },
            {"model_name": "gpt", "litellm_params": {"model": "openai/gpt-4o", **openai_args}},
        ]
    )
    server.respond(text="from claude")
    r = router.anthropic_messages(model="claude", messages=HI, max_tokens=5)
    assert server.last_request.path == "/v1/messages"
    assert r["content"][0]["text"] == "from claude"

    async def run():
        server.respond(text="from gpt")
        r = await router.aanthropic_messages(model="gpt", messages=HI, max_tokens=5)
        assert server.last_request.path.endswith("/chat/completions")
        server.respond(text="streamed gpt", stream_chunks=2)
        stream = await router.aanthropic_messages(model="gpt", messages=HI, max_tokens=5, stream=True)
        return r, [e async for e in stream]

    r, events = asyncio.run(run())
    server.respond(text="sync stream", stream_chunks=2)
    sync_events = list(router.anthropic_messages(model="claude", messages=HI, max_tokens=5, stream=True))
    assert server.last_request.path == "/v1/messages" and server.last_request.body["stream"] is True
    assert sync_events[-1]["type"] == "message_stop"
    assert r["content"][0]["text"] == "from gpt"
    assert events[-1]["type"] == "message_stop"
    with pytest.raises(litellm.BadRequestError):
        router.anthropic_messages(model="gpt", messages=HI)  # no max_tokens


def test_install_as_litellm_exposes_the_module():
    import importlib

    mod = importlib.import_module("rustllm.anthropic_interface.messages")
    assert litellm.anthropic.messages is mod
    assert callable(mod.create) and callable(mod.acreate)
