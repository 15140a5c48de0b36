"""The openai SDK against ``rustllm proxy`` in front of MockServer: sync, async, streams
with usage, tools, ``n``, embeddings, text completions, the model list, response headers,
and errors raised as the openai exceptions of their status.

Each test checks what reached the mock (the deployment's model and key, the client's
parameters) and what the client got back.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from _proxy import ProxyProcess, mock_deployment

openai = pytest.importorskip("openai")

MASTER = "sk-1234"


@pytest.fixture(scope="module")
def proxy(_module_server):
    server = _module_server
    config = (
        "model_list:\n"
        + mock_deployment("gpt-4o", server, model="openai/gpt-4o-mini")
        + "    model_info: {id: mini-1}\n"
        + mock_deployment("embedder", server, model="openai/text-embedding-3-small")
        + mock_deployment("instruct", server, model="openai/my-instruct-model")
        + mock_deployment("echo", server, model="openai/echo")
        + "router_settings:\n  num_retries: 0\n"
        + f"general_settings:\n  master_key: {MASTER}\n"
    )
    with ProxyProcess(config) as p:
        yield p


@pytest.fixture
def client(proxy, server):
    return openai.OpenAI(api_key=MASTER, base_url=proxy.url, max_retries=0, timeout=30)


HI = [{"role": "user", "content": "hi there"}]


def test_chat_completion_sync(client, server):
    server.respond(text="Hello through the proxy")
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=HI, temperature=0.3, user="u-1", seed=7
    )
    r = raw.parse()
    assert r.choices[0].message.content == "Hello through the proxy"
    assert r.usage.completion_tokens == 4
    assert raw.headers["x-litellm-model-id"] == "mini-1"
    assert raw.headers["x-litellm-model-group"] == "gpt-4o"
    assert len(raw.headers["x-litellm-call-id"]) == 36
    assert float(raw.headers["x-litellm-response-cost"]) > 0
    assert float(raw.headers["x-litellm-overhead-duration-ms"]) >= 0
    sent = server.last_request
    assert sent.path == "/v1/chat/completions"
    # The deployment's model and key went upstream, never the client's proxy key.
    assert sent.body["model"] == "gpt-4o-mini"
    assert sent.headers["authorization"] == "Bearer sk-upstream-secret"
    assert sent.body["messages"] == HI
    assert (sent.body["temperature"], sent.body["user"], sent.body["seed"]) == (0.3, "u-1", 7)


async def test_chat_completion_async(proxy, server):
    client = openai.AsyncOpenAI(api_key=MASTER, base_url=proxy.url, max_retries=0, timeout=30)
    replies = await asyncio.gather(
        *[
            client.chat.completions.create(model="echo", messages=[{"role": "user", "content": f"n{i}"}])
            for i in range(5)
        ]
    )
    assert sorted(r.choices[0].message.content for r in replies) == [f"n{i}" for i in range(5)]
    assert sorted(r.body["messages"][0]["content"] for r in server.requests) == [f"n{i}" for i in range(5)]
    await client.close()


def test_stream_with_usage(client, server):
    server.respond(text="one two three four")
    stream = client.chat.completions.create(
        model="gpt-4o", messages=HI, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three four"
    assert chunks[0].choices[0].delta.role == "assistant"
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == ["stop"]
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 4
    sent = server.last_request
    assert sent.body["stream"] is True
    assert sent.body["stream_options"] == {"include_usage": True}


async def test_async_stream(proxy, server):
    client = openai.AsyncOpenAI(api_key=MASTER, base_url=proxy.url, max_retries=0, timeout=30)
    server.respond(text="a b c", chunk_delay=0.01)
    stream = await client.chat.completions.create(model="gpt-4o", messages=HI, stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "a b c"
    assert server.last_request.body["stream"] is True
    await client.close()


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_tools(client, server):
    r = client.chat.completions.create(model="gpt-4o", messages=HI, tools=[WEATHER], tool_choice="required")
    call = r.choices[0].message.tool_calls[0]
    assert r.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "example"}
    sent = server.last_request
    assert sent.body["tools"] == [WEATHER]
    assert sent.body["tool_choice"] == "required"


def test_streamed_tool_calls(client, server):
    stream = client.chat.completions.create(
        model="gpt-4o", messages=HI, tools=[WEATHER], tool_choice="required", stream=True
    )
    name, args = "", ""
    for c in stream:
        for tc in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            name += tc.function.name or ""
            args += tc.function.arguments or ""
    assert (name, json.loads(args)) == ("get_weather", {"city": "example"})
    assert server.last_request.body["tools"] == [WEATHER]


def test_n_choices(client, server):
    server.respond(text="same")
    r = client.chat.completions.create(model="gpt-4o", messages=HI, n=3)
    assert [c.index for c in r.choices] == [0, 1, 2]
    assert all(c.message.content == "same" for c in r.choices)
    assert server.last_request.body["n"] == 3


def test_embeddings(client, server):
    r = client.embeddings.create(model="embedder", input=["alpha", "beta"], dimensions=4)
    assert [d.index for d in r.data] == [0, 1]
    assert all(len(d.embedding) == 4 for d in r.data)
    sent = server.last_request
    assert sent.path == "/v1/embeddings"
    assert sent.body["model"] == "text-embedding-3-small"
    assert sent.body["input"] == ["alpha", "beta"]


def test_text_completion(client, server):
    server.respond(text="a legacy answer")
    r = client.completions.create(model="instruct", prompt="Say this", max_tokens=5)
    assert r.object == "text_completion"
    assert r.choices[0].text == "a legacy answer"
    sent = server.last_request
    assert sent.path == "/v1/completions"
    assert (sent.body["model"], sent.body["prompt"], sent.body["max_tokens"]) == ("my-instruct-model", "Say this", 5)


def test_streamed_text_completion(client, server):
    server.respond(text="streamed legacy words")
    chunks = list(client.completions.create(model="instruct", prompt="Say this", stream=True))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "streamed legacy words"
    assert all(c.object == "text_completion" for c in chunks)
    sent = server.last_request
    assert (sent.path, sent.body["stream"]) == ("/v1/completions", True)


def test_prompt_for_a_chat_model_is_sent_as_a_message(client, server):
    server.respond(text="chat answer")
    r = client.completions.create(model="gpt-4o", prompt="Say this")
    assert r.object == "text_completion"
    assert r.choices[0].text == "chat answer"
    sent = server.last_request
    assert sent.path == "/v1/chat/completions"
    assert sent.body["messages"] == [{"role": "user", "content": "Say this"}]


def test_models_list(client, server):
    ids = [m.id for m in client.models.list()]
    assert ids == ["gpt-4o", "embedder", "instruct", "echo"]
    assert server.request_count == 0


def test_wrong_key_is_authentication_error(proxy, server):
    bad = openai.OpenAI(api_key="sk-wrong", base_url=proxy.url, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        bad.chat.completions.create(model="gpt-4o", messages=HI)
    assert e.value.status_code == 401
    assert e.value.body["type"] == "auth_error"
    assert e.value.body["code"] == "401"
    assert "sk-wrong" not in str(e.value)
    assert server.request_count == 0


def test_a_deployment_is_called_by_its_model_info_id(client, server):
    # LiteLLM looks a requested name up as a deployment id first: `model=<model_info.id>`
    # calls that deployment alone.
    server.respond(text="by id")
    raw = client.chat.completions.with_raw_response.create(model="mini-1", messages=HI)
    assert raw.parse().choices[0].message.content == "by id"
    assert raw.headers["x-litellm-model-id"] == "mini-1"
    assert raw.headers["x-litellm-model-group"] == "gpt-4o"
    assert server.last_request.body["model"] == "gpt-4o-mini"


def test_unknown_model_is_not_found_listing_the_models(client, server):
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="gpt-9", messages=HI)
    assert e.value.status_code == 404
    message = e.value.body["message"]
    assert "model=gpt-9" in message
    assert "'gpt-4o'" in message and "'embedder'" in message
    assert server.request_count == 0


def test_upstream_rate_limit_is_rate_limit_error_with_retry_after(client, server):
    server.fail_next(1, status=429, message="too many", headers={"Retry-After": "3"})
    with pytest.raises(openai.RateLimitError) as e:
        client.chat.completions.create(model="gpt-4o", messages=HI)
    assert e.value.status_code == 429
    assert e.value.response.headers["retry-after"] == "3"
    assert "too many" in e.value.body["message"]
    assert server.request_count == 1


def test_upstream_bad_request_is_bad_request_error(client, server):
    server.fail_next(1, status=400, message="temperature is too hot")
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="gpt-4o", messages=HI, temperature=1.5)
    assert e.value.status_code == 400
    assert "temperature is too hot" in e.value.body["message"]
    assert server.last_request.body["temperature"] == 1.5


def test_bad_input_is_bad_request_before_the_provider(client, server):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="gpt-4o", messages=HI, temperature="hot")
    assert e.value.status_code == 400
    assert "temperature" in e.value.body["message"]
    assert server.request_count == 0
