"""llama-index: llama_index.llms.litellm.LiteLLM (chat, complete, stream, async, tools) on rustllm."""

from __future__ import annotations

import litellm
import pytest
from conftest import assert_no_stream_key, assert_wire_clean, chat_bodies, tool_call_reply
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.tools import FunctionTool
from llama_index.llms.litellm import LiteLLM

import rustllm


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"Sunny in {city}"


def _llm(base_url: str, **kwargs) -> LiteLLM:
    return LiteLLM(model="openai/gpt-4o-mini", api_base=base_url, api_key="sk-test", max_retries=0, **kwargs)


def test_framework_sees_rustllm():
    import llama_index.llms.litellm.utils as module

    assert module.completion is rustllm.completion


def test_chat(server, base_url):
    reply = _llm(base_url, temperature=0.5).chat([ChatMessage(role=MessageRole.USER, content="hi there")])
    assert reply.message.content == "Hello from MockServer!"
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.5
    assert body["messages"] == [{"role": "user", "content": "hi there"}]


def test_complete_and_stream(server, base_url):
    llm = _llm(base_url)
    assert llm.complete("hello").text == "Hello from MockServer!"
    deltas = [r.delta for r in llm.stream_chat([ChatMessage(role=MessageRole.USER, content="hi")])]
    assert "".join(d or "" for d in deltas) == "Hello from MockServer!"
    first, second = chat_bodies(server)
    assert_wire_clean(first)
    assert_wire_clean(second, stream=True)


async def test_async(server, base_url):
    llm = _llm(base_url)
    reply = await llm.achat([ChatMessage(role=MessageRole.USER, content="hi")])
    assert reply.message.content == "Hello from MockServer!"
    stream = await llm.astream_chat([ChatMessage(role=MessageRole.USER, content="hi")])
    deltas = [r.delta async for r in stream]
    assert "".join(d or "" for d in deltas) == "Hello from MockServer!"
    first, second = chat_bodies(server)
    assert_wire_clean(first)
    assert_wire_clean(second, stream=True)


def test_tool_round_trip(server, base_url):
    tool = FunctionTool.from_defaults(fn=get_weather)
    llm = _llm(base_url)
    server.respond(body=tool_call_reply("get_weather", {"city": "Paris"}, "call_w"))
    response = llm.chat_with_tools([tool], user_msg="Weather in Paris?")
    (selection,) = llm.get_tool_calls_from_response(response, error_on_no_tool_call=True)
    assert (selection.tool_name, selection.tool_kwargs) == ("get_weather", {"city": "Paris"})
    output = tool.call(**selection.tool_kwargs)
    history = [
        ChatMessage(role=MessageRole.USER, content="Weather in Paris?"),
        response.message,
        ChatMessage(
            role=MessageRole.TOOL,
            content=str(output),
            additional_kwargs={"tool_call_id": selection.tool_id, "name": "get_weather"},
        ),
    ]
    final = llm.chat(history)
    assert final.message.content == "Hello from MockServer!"
    first, second = chat_bodies(server)
    assert_wire_clean(first)
    assert_wire_clean(second)
    assert first["tools"][0]["function"]["name"] == "get_weather"
    assert second["messages"][1]["tool_calls"][0]["id"] == "call_w"
    assert second["messages"][2]["role"] == "tool"
    assert second["messages"][2]["content"] == "Sunny in Paris"


def test_error_is_mapped(server, base_url):
    server.fail_next(status=400, message="bad request")
    with pytest.raises(litellm.BadRequestError) as info:
        _llm(base_url).chat([ChatMessage(role=MessageRole.USER, content="hi")])
    assert info.value.status_code == 400
    (body,) = chat_bodies(server)
    assert_wire_clean(body)


def test_no_stream_key_when_not_streaming(server, base_url):
    _llm(base_url).chat([ChatMessage(role=MessageRole.USER, content="hi")])
    (body,) = chat_bodies(server)
    assert_no_stream_key(body)
