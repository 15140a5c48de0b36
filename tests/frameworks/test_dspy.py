"""dspy: dspy.LM on its litellm engine (Predict, streamify, async, tools, Embedder) on rustllm."""

from __future__ import annotations

import json

import dspy
import litellm
import pytest
from conftest import assert_wire_clean, chat_bodies

import rustllm

ANSWER = "[[ ## answer ## ]]\nfour\n\n[[ ## completed ## ]]"


def _lm(base_url: str, **kwargs) -> dspy.LM:
    # cache=False: dspy would otherwise answer repeated prompts from its own cache.
    # engine="litellm": dspy 3.4 defaults to its vendored lm15 engine, which needs no litellm.
    return dspy.LM(
        "openai/gpt-4o-mini",
        engine="litellm",
        api_base=base_url,
        api_key="sk-test",
        cache=False,
        num_retries=0,
        **kwargs,
    )


def test_framework_sees_rustllm():
    from dspy.clients._litellm import get_litellm

    assert get_litellm(feature="test") is rustllm


def test_predict(server, base_url):
    server.respond(text=ANSWER)
    lm = _lm(base_url, temperature=0.3, max_tokens=200)
    with dspy.context(lm=lm):
        prediction = dspy.Predict("question -> answer")(question="What is 2 + 2?")
    assert prediction.answer == "four"
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.3
    assert body["max_tokens"] == 200
    assert "What is 2 + 2?" in body["messages"][-1]["content"]
    assert lm.history[-1]["outputs"] == [ANSWER]


async def test_acall(server, base_url):
    server.respond(text=ANSWER)
    with dspy.context(lm=_lm(base_url)):
        prediction = await dspy.Predict("question -> answer").acall(question="2 + 2?")
    assert prediction.answer == "four"
    (body,) = chat_bodies(server)
    assert_wire_clean(body)


async def _streamify(server, base_url):
    server.respond(text=ANSWER, stream_chunks=6)
    program = dspy.streamify(
        dspy.Predict("question -> answer"),
        stream_listeners=[dspy.streaming.StreamListener(signature_field_name="answer")],
    )
    chunks, final = [], None
    with dspy.context(lm=_lm(base_url)):
        async for item in program(question="2 + 2?"):
            if isinstance(item, dspy.streaming.StreamResponse):
                chunks.append(item.chunk)
            elif isinstance(item, dspy.Prediction):
                final = item
    (body,) = chat_bodies(server)
    return chunks, final, body


async def test_streamify(server, base_url):
    _, final, body = await _streamify(server, base_url)
    assert final is not None and final.answer == "four"
    assert_wire_clean(body, stream=True)


async def test_streamify_field_chunks(server, base_url):
    chunks, _, _ = await _streamify(server, base_url)
    assert "".join(chunks).strip() == "four"


def test_tool_round_trip(server, base_url):
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        return f"Sunny in {city}"

    tool = dspy.Tool(get_weather)
    lm = _lm(base_url)
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    (first,) = lm(messages=messages, tools=[tool.format_as_litellm_function_call()], tool_choice="required")
    (call,) = first["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    result = tool(**json.loads(call["function"]["arguments"]))
    assert result == "Sunny in example"
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": result},
    ]
    (final,) = lm(messages=messages)
    assert final == "Hello from MockServer!"
    one, two = chat_bodies(server)
    assert_wire_clean(one)
    assert_wire_clean(two)
    assert one["tools"][0]["function"]["name"] == "get_weather"
    assert two["messages"][-1] == {"role": "tool", "tool_call_id": call["id"], "content": "Sunny in example"}


def test_embedder(server, base_url):
    embedder = dspy.Embedder("openai/text-embedding-3-small", api_base=base_url, api_key="sk-test", caching=False)
    vectors = embedder(["hello", "world"])
    assert vectors.shape == (2, 8)
    (request,) = server.requests
    assert request.path.endswith("/embeddings")
    assert request.body["input"] == ["hello", "world"]
    assert_wire_clean(request.body)


def test_error_is_mapped(server, base_url):
    server.fail_next(status=401, message="bad key")
    # dspy wraps the engine's error in its own class; litellm's is the cause.
    with pytest.raises(dspy.utils.exceptions.LMAuthError) as info:
        _lm(base_url)("hi")
    causes = []
    err = info.value
    while err is not None:
        causes.append(err)
        err = err.__cause__ or err.__context__
    (auth,) = [e for e in causes if isinstance(e, litellm.AuthenticationError)]
    assert auth.status_code == 401
    assert "bad key" in str(auth)
    (body,) = chat_bodies(server)
    assert_wire_clean(body)


def test_no_retry_strategy_on_the_wire(server, base_url):
    _lm(base_url)("hi")
    (body,) = chat_bodies(server)
    assert_wire_clean(body, strict=True)
