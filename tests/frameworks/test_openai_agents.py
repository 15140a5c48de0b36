"""openai-agents: LitellmModel (Runner.run, streamed run, a function-tool round trip) on rustllm."""

from __future__ import annotations

import litellm
import pytest
from agents import Agent, ModelSettings, RunConfig, Runner, function_tool, set_tracing_disabled
from agents.extensions.models.litellm_model import LitellmModel
from conftest import (
    assert_no_stream_key,
    assert_wire_clean,
    chat_bodies,
    tool_call_reply,
)
from openai.types.responses import ResponseTextDeltaEvent

import rustllm

set_tracing_disabled(True)


@function_tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"Sunny in {city}"


def _agent(base_url: str, **kwargs) -> Agent:
    model = LitellmModel(model="openai/gpt-4o-mini", base_url=base_url, api_key="sk-test")
    return Agent(name="assistant", instructions="Be brief.", model=model, **kwargs)


def test_framework_sees_rustllm():
    import agents.extensions.models.litellm_model as module

    assert module.litellm is rustllm


def test_run_sync(server, base_url):
    agent = _agent(base_url, model_settings=ModelSettings(temperature=0.4))
    result = Runner.run_sync(agent, "hi there", run_config=RunConfig(tracing_disabled=True))
    assert result.final_output == "Hello from MockServer!"
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.4
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["messages"][-1] == {"role": "user", "content": "hi there"}


async def test_run_streamed(server, base_url):
    result = Runner.run_streamed(_agent(base_url), "hi", run_config=RunConfig(tracing_disabled=True))
    deltas = []
    async for event in result.stream_events():
        if event.type == "raw_response_event" and isinstance(event.data, ResponseTextDeltaEvent):
            deltas.append(event.data.delta)
    assert "".join(deltas) == "Hello from MockServer!"
    assert result.final_output == "Hello from MockServer!"
    (body,) = chat_bodies(server)
    assert_wire_clean(body, stream=True)


async def test_tool_round_trip(server, base_url):
    server.respond(body=tool_call_reply("get_weather", {"city": "Paris"}, "call_w"))
    server.respond(text="It is sunny in Paris.")
    result = await Runner.run(
        _agent(base_url, tools=[get_weather]), "Weather in Paris?", run_config=RunConfig(tracing_disabled=True)
    )
    assert result.final_output == "It is sunny in Paris."
    first, second = chat_bodies(server)
    assert_wire_clean(first)
    assert_wire_clean(second)
    assert first["tools"][0]["function"]["name"] == "get_weather"
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": "call_w", "content": "Sunny in Paris"}


async def test_error_is_mapped(server, base_url):
    server.fail_next(status=401, message="bad key")
    with pytest.raises(litellm.AuthenticationError) as info:
        await Runner.run(_agent(base_url), "hi", run_config=RunConfig(tracing_disabled=True))
    assert info.value.status_code == 401
    (body,) = chat_bodies(server)
    assert_wire_clean(body)


async def test_no_skip_mcp_handler_on_the_wire(server, base_url):
    server.respond(text="done")
    await Runner.run(_agent(base_url, tools=[get_weather]), "hi", run_config=RunConfig(tracing_disabled=True))
    (body,) = chat_bodies(server)
    assert_wire_clean(body, strict=True)


async def test_no_stream_key_when_not_streaming(server, base_url):
    await Runner.run(_agent(base_url), "hi", run_config=RunConfig(tracing_disabled=True))
    (body,) = chat_bodies(server)
    assert_no_stream_key(body)
