"""smolagents: LiteLLMModel and LiteLLMRouterModel (generate, stream, a ToolCallingAgent run) on rustllm."""

from __future__ import annotations

import litellm
import pytest
from conftest import assert_wire_clean, chat_bodies, tool_call_reply
from smolagents import LiteLLMModel, LiteLLMRouterModel, ToolCallingAgent, tool
from smolagents.models import ChatMessage, MessageRole

import rustllm


@tool
def get_weather(city: str) -> str:
    """Current weather in a city.

    Args:
        city: The city's name.
    """
    return f"Sunny in {city}"


def _model(base_url: str, model_id: str = "openai/gpt-4o-mini", **kwargs) -> LiteLLMModel:
    return LiteLLMModel(model_id=model_id, api_base=base_url, api_key="sk-test", **kwargs)


def _user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role=MessageRole.USER, content=[{"type": "text", "text": text}])]


def test_framework_sees_rustllm(base_url):
    assert _model(base_url).create_client() is rustllm


def test_generate(server, base_url):
    reply = _model(base_url, temperature=0.1).generate(_user("hi there"))
    assert reply.content == "Hello from MockServer!"
    assert reply.token_usage.output_tokens == 3
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.1
    assert body["messages"][-1]["role"] == "user"


def test_generate_stream(server, base_url):
    deltas = list(_model(base_url).generate_stream(_user("hi")))
    assert "".join(d.content or "" for d in deltas) == "Hello from MockServer!"
    (body,) = chat_bodies(server)
    assert_wire_clean(body, stream=True)
    assert body["stream_options"] == {"include_usage": True}


def test_tool_calling_agent_round_trip(server, base_url):
    # Step 1 calls get_weather, step 2 final_answer with what the tool returned.
    server.respond(body=tool_call_reply("get_weather", {"city": "Paris"}, "call_w"))
    server.respond(body=tool_call_reply("final_answer", {"answer": "Sunny in Paris"}, "call_f"))
    agent = ToolCallingAgent(tools=[get_weather], model=_model(base_url), max_steps=3, verbosity_level=0)
    answer = agent.run("What is the weather in Paris?")
    assert answer == "Sunny in Paris"
    first, second = chat_bodies(server)
    for body in (first, second):
        assert_wire_clean(body)
        assert {t["function"]["name"] for t in body["tools"]} == {"get_weather", "final_answer"}
    assert "Sunny in Paris" in str(second["messages"])


def test_router_model(server, base_url):
    model = LiteLLMRouterModel(
        model_id="fast",
        model_list=[
            {
                "model_name": "fast",
                "litellm_params": {"model": "openai/gpt-4o-mini", "api_base": base_url, "api_key": "sk-test"},
            }
        ],
    )
    assert model.generate(_user("hi")).content == "Hello from MockServer!"
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
    assert body["model"] == "gpt-4o-mini"


def test_error_is_mapped(server, base_url):
    server.fail_next(status=400, message="bad request")
    with pytest.raises(litellm.BadRequestError) as info:
        _model(base_url).generate(_user("hi"))
    assert info.value.status_code == 400
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
