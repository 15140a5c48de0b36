"""crewai: LLM(is_litellm=True) (call, stream, acall, function calling, an Agent/Crew run) on rustllm."""

from __future__ import annotations

import litellm
import pytest
from conftest import assert_wire_clean, chat_bodies, tool_call_reply
from crewai import LLM, Agent, Crew, Task

import rustllm

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def get_weather(city: str) -> str:
    return f"Sunny in {city}"


def _llm(base_url: str, **kwargs) -> LLM:
    return LLM(model="openai/gpt-4o-mini", is_litellm=True, base_url=base_url, api_key="sk-test", **kwargs)


def test_framework_sees_rustllm(base_url):
    import crewai.llm as module

    assert type(_llm(base_url)).__module__.startswith("crewai")
    assert module.litellm is rustllm


def test_call(server, base_url):
    assert _llm(base_url, temperature=0.7).call("hi there") == "Hello from MockServer!"
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.7
    assert body["messages"][-1] == {"role": "user", "content": "hi there"}


def test_stream(server, base_url):
    assert _llm(base_url, stream=True).call("hi") == "Hello from MockServer!"
    (body,) = chat_bodies(server)
    assert_wire_clean(body, stream=True)


async def test_acall(server, base_url):
    assert await _llm(base_url).acall("hi") == "Hello from MockServer!"
    (body,) = chat_bodies(server)
    assert_wire_clean(body)


def test_function_calling_runs_the_tool(server, base_url):
    server.respond(body=tool_call_reply("get_weather", {"city": "Paris"}, "call_w"))
    result = _llm(base_url).call(
        [{"role": "user", "content": "Weather in Paris?"}],
        tools=[WEATHER_TOOL],
        available_functions={"get_weather": get_weather},
    )
    assert result == "Sunny in Paris"
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
    assert body["tools"][0]["function"]["name"] == "get_weather"


def test_crew_kickoff(server, base_url):
    server.respond(text="Thought: I know it.\nFinal Answer: Paris is sunny.", times=0)
    agent = Agent(role="Forecaster", goal="Tell the weather", backstory="Brief.", llm=_llm(base_url))
    task = Task(description="Weather in Paris?", expected_output="One sentence.", agent=agent)
    result = Crew(agents=[agent], tasks=[task]).kickoff()
    assert "Paris is sunny." in str(result)
    bodies = chat_bodies(server)
    assert bodies
    for body in bodies:
        assert_wire_clean(body)
    assert "Weather in Paris?" in str(bodies[0]["messages"])


def test_error_is_mapped(server, base_url):
    server.fail_next(status=401, message="bad key")
    with pytest.raises(litellm.AuthenticationError) as info:
        _llm(base_url).call("hi")
    assert info.value.status_code == 401
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
