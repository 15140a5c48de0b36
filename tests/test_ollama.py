"""Ollama through the public API against MockServer: `ollama_chat/` on /api/chat and
`ollama/` on /api/generate, the exact request bodies, replies, NDJSON streams, tools both
ways, images, errors and drop_params."""

from __future__ import annotations

import base64
import re

import pytest

import rustllm as litellm

USER_HI = [{"role": "user", "content": "hi"}]
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture
def args(server):
    return {"api_base": server.url, "max_retries": 0}


def test_chat_request_body_url_and_no_auth(server, args):
    litellm.completion(
        model="ollama_chat/llama3.1",
        messages=[{"role": "system", "content": "Be brief."}, *USER_HI],
        max_tokens=10,
        temperature=0.2,
        top_p=0.9,
        seed=1,
        stop="END",
        num_ctx=4096,
        keep_alive="5m",
        **args,
    )
    req = server.last_request
    assert req.path == "/api/chat"
    assert "authorization" not in req.headers
    assert req.body == {
        "model": "llama3.1",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        "options": {"num_predict": 10, "temperature": 0.2, "top_p": 0.9, "seed": 1, "stop": ["END"], "num_ctx": 4096},
        "stream": False,
        "keep_alive": "5m",
    }


def test_chat_reply_maps_to_model_response(server, args):
    resp = litellm.completion(model="ollama_chat/llama3.1", messages=[{"role": "user", "content": "one two"}], **args)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.model == "llama3.1"
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens) == (2, 3, 5)
    assert resp._hidden_params["custom_llm_provider"] == "ollama_chat"


def test_done_reason_length(server, args):
    resp = litellm.completion(
        model="ollama_chat/echo", messages=[{"role": "user", "content": "a b c d"}], max_tokens=2, **args
    )
    assert resp.choices[0].message.content == "a b"
    assert resp.choices[0].finish_reason == "length"


def test_key_and_base_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("OLLAMA_API_BASE", server.url)
    monkeypatch.setenv("OLLAMA_API_KEY", "ollama-key")
    litellm.completion(model="ollama_chat/llama3.1", messages=USER_HI, max_retries=0)
    assert server.last_request.path == "/api/chat"
    assert server.last_request.headers["authorization"] == "Bearer ollama-key"


def test_chat_tools_and_round_trip(server, args):
    first = litellm.completion(
        model="ollama_chat/llama3-tool", messages=USER_HI, tools=[TOOL], tool_choice="auto", **args
    )
    assert server.last_request.body["tools"] == [TOOL]
    # Ollama has no tool_choice; it is accepted and not sent.
    assert "tool_choice" not in server.last_request.body
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert re.fullmatch(r"call_[0-9a-f]{32}", call.id)
    assert (call.function.name, call.function.arguments) == ("get_weather", '{"city": "example"}')

    messages = [*USER_HI, choice.message, {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    second = litellm.completion(model="ollama_chat/llama3", messages=messages, tools=[TOOL], **args)
    assert server.last_request.body["messages"] == [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "example"}}}],
        },
        {"role": "tool", "content": "sunny", "tool_call_id": call.id, "tool_name": "get_weather"},
    ]
    assert second.choices[0].message.content == "Hello from MockServer!"


def test_images_go_beside_the_text(server, args):
    data = base64.b64encode(b"img").decode()
    content = [
        {"type": "text", "text": "what is it?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}},
    ]
    litellm.completion(model="ollama_chat/llava", messages=[{"role": "user", "content": content}], **args)
    assert server.last_request.body["messages"] == [{"role": "user", "content": "what is it?", "images": [data]}]
    litellm.completion(model="ollama/llava", messages=[{"role": "user", "content": content}], **args)
    assert server.last_request.body["images"] == [data]


def test_image_urls_are_refused(server, args):
    content = [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
    with pytest.raises(litellm.BadRequestError, match="data URLs"):
        litellm.completion(model="ollama_chat/llava", messages=[{"role": "user", "content": content}], **args)
    assert server.request_count == 0


def test_json_response_format(server, args):
    litellm.completion(model="ollama_chat/llama3", messages=USER_HI, response_format={"type": "json_object"}, **args)
    assert server.last_request.body["format"] == "json"
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    litellm.completion(
        model="ollama_chat/llama3",
        messages=USER_HI,
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
        **args,
    )
    assert server.last_request.body["format"] == schema


def test_chat_streaming_is_ndjson(server, args):
    chunks = list(litellm.completion(model="ollama_chat/llama3", messages=USER_HI, stream=True, **args))
    assert server.last_request.body["stream"] is True
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello from MockServer!"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len({c.id for c in chunks}) == 1
    assert chunks[-1].choices[0].finish_reason == "stop"
    built = litellm.stream_chunk_builder(chunks, messages=USER_HI)
    assert built.choices[0].message.content == "Hello from MockServer!"


def test_chat_streaming_usage_when_asked(server, args):
    chunks = list(
        litellm.completion(
            model="ollama_chat/llama3",
            messages=[{"role": "user", "content": "one two"}],
            stream=True,
            stream_options={"include_usage": True},
            **args,
        )
    )
    usage = chunks[-1].usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (2, 3, 5)
    assert "stream_options" not in server.last_request.body


def test_chat_streaming_tool_calls(server, args):
    chunks = list(
        litellm.completion(model="ollama_chat/llama3-tool", messages=USER_HI, tools=[TOOL], stream=True, **args)
    )
    calls = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    assert [(c.index, c.function.name) for c in calls] == [(0, "get_weather")]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    built = litellm.stream_chunk_builder(chunks)
    assert built.choices[0].message.tool_calls[0].function.arguments == '{"city": "example"}'


async def test_async_chat_and_stream(server, args):
    resp = await litellm.acompletion(model="ollama_chat/llama3", messages=USER_HI, **args)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    stream = await litellm.acompletion(model="ollama_chat/llama3", messages=USER_HI, stream=True, **args)
    assert "".join([c.choices[0].delta.content or "" async for c in stream]) == "Hello from MockServer!"


def test_generate_builds_litellms_prompt(server, args):
    resp = litellm.completion(
        model="ollama/llama2-echo",
        messages=[{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
        max_tokens=50,
        **args,
    )
    req = server.last_request
    assert req.path == "/api/generate"
    assert req.body == {
        "model": "llama2-echo",
        "prompt": "### System:\nsys\n\n### User:\nhi\n\n",
        "images": [],
        "options": {"num_predict": 50},
        "stream": False,
    }
    assert resp.choices[0].message.content == "### System:\nsys\n\n### User:\nhi\n\n"
    assert resp.choices[0].finish_reason == "stop"
    assert resp._hidden_params["custom_llm_provider"] == "ollama"


def test_generate_streaming(server, args):
    chunks = list(litellm.completion(model="ollama/llama2", messages=USER_HI, stream=True, **args))
    assert server.last_request.path == "/api/generate"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello from MockServer!"
    assert chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.parametrize(
    "model,exc,status",
    [
        ("ollama_chat/error-404", litellm.NotFoundError, 404),
        ("ollama_chat/error-400", litellm.BadRequestError, 400),
        ("ollama_chat/error-500", litellm.InternalServerError, 500),
        ("ollama_chat/error-429", litellm.RateLimitError, 429),
        ("ollama/error-503", litellm.ServiceUnavailableError, 503),
    ],
)
def test_errors_map_to_litellm_exceptions(server, args, model, exc, status):
    with pytest.raises(exc) as info:
        litellm.completion(model=model, messages=USER_HI, **args)
    assert info.value.status_code == status
    prefix = "Ollama_chatException" if model.startswith("ollama_chat/") else "OllamaException"
    assert prefix in str(info.value)


def test_ollama_error_text_is_kept(server, args):
    server.respond(status=404, body={"error": "model 'nope' not found, try pulling it first"})
    with pytest.raises(litellm.NotFoundError, match="try pulling it first"):
        litellm.completion(model="ollama_chat/nope", messages=USER_HI, **args)


def test_unsupported_params_raise_or_drop(server, args):
    with pytest.raises(litellm.UnsupportedParamsError, match=r"ollama_chat does not support parameters: \['n'\]"):
        litellm.completion(model="ollama_chat/llama3", messages=USER_HI, n=2, **args)
    assert server.request_count == 0
    litellm.completion(model="ollama_chat/llama3", messages=USER_HI, n=2, logit_bias={"1": 1}, drop_params=True, **args)
    assert server.last_request.body["options"] == {}
    litellm.completion(
        model="ollama_chat/llama3", messages=USER_HI, logit_bias={"1": 1}, allowed_openai_params=["logit_bias"], **args
    )
    assert server.last_request.body["options"] == {"logit_bias": {"1": 1}}
