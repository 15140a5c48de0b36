"""google-adk: LiteLlm under an LlmAgent (run, SSE streaming, a function-tool round trip) on rustllm."""

from __future__ import annotations

import litellm
import pytest
from conftest import assert_wire_clean, chat_bodies, tool_call_reply
from google.adk.agents import LlmAgent
from google.adk.agents.run_config import RunConfig, StreamingMode
from google.adk.models.lite_llm import LiteLlm
from google.adk.runners import InMemoryRunner
from google.genai import types

import rustllm


def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"Sunny in {city}"


def _agent(base_url: str, **kwargs) -> LlmAgent:
    model = LiteLlm(model="openai/gpt-4o-mini", api_base=base_url, api_key="sk-test")
    return LlmAgent(name="assistant", model=model, instruction="Be brief.", **kwargs)


async def _run(agent: LlmAgent, text: str, streaming: bool = False) -> list:
    runner = InMemoryRunner(agent=agent, app_name="tests")
    session = await runner.session_service.create_session(app_name="tests", user_id="u")
    config = RunConfig(streaming_mode=StreamingMode.SSE if streaming else StreamingMode.NONE)
    message = types.Content(role="user", parts=[types.Part(text=text)])
    return [
        event
        async for event in runner.run_async(user_id="u", session_id=session.id, new_message=message, run_config=config)
    ]


def _final_text(events: list) -> str:
    finals = [e for e in events if e.is_final_response() and e.content and e.content.parts]
    return "".join(p.text or "" for p in finals[-1].content.parts)


def test_framework_sees_rustllm():
    import google.adk.models.lite_llm as module

    module._ensure_litellm_imported()  # ADK imports litellm lazily, on first use
    assert module.litellm is rustllm
    assert module.acompletion is rustllm.acompletion


async def test_run(server, base_url):
    events = await _run(_agent(base_url), "hi there")
    assert _final_text(events) == "Hello from MockServer!"
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"][0]["role"] == "system" and "Be brief." in str(body["messages"][0]["content"])
    assert body["messages"][-1]["role"] == "user" and "hi there" in str(body["messages"][-1]["content"])


async def test_run_streaming(server, base_url):
    events = await _run(_agent(base_url), "hi", streaming=True)
    partial = "".join(p.text or "" for e in events if e.partial and e.content for p in e.content.parts)
    assert partial == "Hello from MockServer!"
    assert _final_text(events) == "Hello from MockServer!"
    (body,) = chat_bodies(server)
    assert_wire_clean(body, stream=True)


async def test_tool_round_trip(server, base_url):
    server.respond(body=tool_call_reply("get_weather", {"city": "Paris"}, "call_w"))
    server.respond(text="It is sunny in Paris.")
    events = await _run(_agent(base_url, tools=[get_weather]), "Weather in Paris?")
    assert _final_text(events) == "It is sunny in Paris."
    first, second = chat_bodies(server)
    assert_wire_clean(first)
    assert_wire_clean(second)
    assert first["tools"][0]["function"]["name"] == "get_weather"
    tool_message = second["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_w"
    assert "Sunny in Paris" in tool_message["content"]


async def test_error_is_mapped(server, base_url):
    server.fail_next(status=401, message="bad key")
    with pytest.raises(litellm.AuthenticationError) as info:
        await _run(_agent(base_url), "hi")
    assert info.value.status_code == 401
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
