"""Tool calling: definitions passed through, tool calls returned with JSON-string
arguments, and a full round trip through the history (the tutorial's pattern)."""

from __future__ import annotations

import json

import rustllm as litellm
from rustllm import ChatCompletionMessageToolCall

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"],
        },
    },
}


def test_tool_parameters_are_sent_unchanged(server, openai_args):
    litellm.completion(
        model="openai/m",
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        parallel_tool_calls=False,
        **openai_args,
    )
    body = server.last_request.body
    assert body["tools"] == [WEATHER_TOOL]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["parallel_tool_calls"] is False


def test_legacy_functions_are_sent_unchanged(server, openai_args):
    fn = WEATHER_TOOL["function"]
    litellm.completion(
        model="openai/m",
        messages=[{"role": "user", "content": "x"}],
        functions=[fn],
        function_call={"name": "get_weather"},
        **openai_args,
    )
    body = server.last_request.body
    assert body["functions"] == [fn] and body["function_call"] == {"name": "get_weather"}


def test_tool_call_round_trip(server, openai_args):
    messages = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = litellm.completion(
        model="openai/tool-model", messages=messages, tools=[WEATHER_TOOL], tool_choice="required", **openai_args
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert isinstance(call, ChatCompletionMessageToolCall)
    assert call.type == "function" and call.function.name == "get_weather"
    assert isinstance(call.function.arguments, str)
    args = json.loads(call.function.arguments)
    assert "city" in args

    # The tutorial appends the returned message itself, then one tool message per call.
    messages.append(choice.message)
    for tc in choice.message.tool_calls:
        messages.append({"role": "tool", "tool_call_id": tc.id, "name": tc.function.name, "content": "18C, sunny"})
    final = litellm.completion(model="openai/m", messages=messages, tools=[WEATHER_TOOL], **openai_args)
    assert final.choices[0].message.content

    sent = server.last_request.body["messages"]
    assert sent[1] == {
        "role": "assistant",
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": "get_weather", "arguments": call.function.arguments},
            }
        ],
    }
    assert sent[2] == {"role": "tool", "tool_call_id": call.id, "name": "get_weather", "content": "18C, sunny"}


def test_pydantic_style_tool_objects_are_dumped(server, openai_args):
    class ToolLike:
        def model_dump(self):
            return WEATHER_TOOL

    litellm.completion(model="openai/m", messages=[{"role": "user", "content": "x"}], tools=[ToolLike()], **openai_args)
    assert server.last_request.body["tools"] == [WEATHER_TOOL]
