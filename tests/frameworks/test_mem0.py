"""mem0: its LiteLLM provider (LlmFactory "litellm": text, JSON, tool calls, an error) on rustllm.

mem0's LiteLLM provider takes no base URL or key: litellm reads OPENAI_API_BASE and
OPENAI_API_KEY from the environment, so the tests set those. It has no streaming and no
async path of its own, and mem0 embeds through its own embedders, not litellm.
"""

from __future__ import annotations

import litellm
import pytest
from conftest import assert_wire_clean, chat_bodies, tool_call_reply
from mem0.utils.factory import LlmFactory

import rustllm

TOOL = {
    "type": "function",
    "function": {
        "name": "add_memory",
        "description": "Store a fact.",
        "parameters": {"type": "object", "properties": {"data": {"type": "string"}}, "required": ["data"]},
    },
}


@pytest.fixture
def llm(base_url, monkeypatch):
    monkeypatch.setenv("OPENAI_API_BASE", base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    return LlmFactory.create("litellm", {"model": "openai/gpt-4o-mini", "temperature": 0.2, "max_tokens": 100})


def test_framework_sees_rustllm(llm):
    import mem0.llms.litellm as module

    assert module.litellm is rustllm


def test_generate_text(server, llm):
    reply = llm.generate_response([{"role": "user", "content": "I like tea."}])
    assert reply == "Hello from MockServer!"
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.2
    assert body["messages"] == [{"role": "user", "content": "I like tea."}]


def test_generate_json(server, llm):
    server.respond(text='{"facts": ["likes tea"]}')
    reply = llm.generate_response([{"role": "user", "content": "I like tea."}], response_format={"type": "json_object"})
    assert reply == '{"facts": ["likes tea"]}'
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
    assert body["response_format"] == {"type": "json_object"}


def test_tool_calls(server, llm):
    server.respond(body=tool_call_reply("add_memory", {"data": "likes tea"}))
    reply = llm.generate_response([{"role": "user", "content": "I like tea."}], tools=[TOOL])
    assert reply == {"content": None, "tool_calls": [{"name": "add_memory", "arguments": {"data": "likes tea"}}]}
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
    assert body["tools"] == [TOOL]
    assert body["tool_choice"] == "auto"


def test_error_is_mapped(server, llm):
    # Like LiteLLM (the OpenAI client's max_retries=2), a 429 is tried three times.
    server.fail_next(3, status=429)
    with pytest.raises(litellm.RateLimitError) as info:
        llm.generate_response([{"role": "user", "content": "hi"}])
    assert info.value.status_code == 429
    for body in chat_bodies(server):
        assert_wire_clean(body)
