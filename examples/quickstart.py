"""rustllm quickstart: the first things a LiteLLM user does, unchanged but for the import.

Runs against a real provider when its key is set (OPENAI_API_KEY, DEEPSEEK_API_KEY,
DASHSCOPE_API_KEY or GROQ_API_KEY), otherwise against rustllm.testing.MockServer, so it
always runs, offline included.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

import rustllm as litellm
from rustllm.testing import MockServer

REAL_PROVIDERS = [
    ("OPENAI_API_KEY", "openai/gpt-4o-mini"),
    ("DEEPSEEK_API_KEY", "deepseek/deepseek-chat"),
    ("DASHSCOPE_API_KEY", "dashscope/qwen-plus"),
    ("GROQ_API_KEY", "groq/llama-3.1-8b-instant"),
]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
        },
    },
}


def get_weather(city: str) -> str:
    return json.dumps({"city": city, "temperature_c": 18, "sky": "sunny"})


def run(model: str, extra: dict) -> None:
    print(f"== model: {model}")

    # 1. A plain chat completion.
    messages = [{"role": "user", "content": "Say hello in five words."}]
    started = time.perf_counter()
    response = litellm.completion(model=model, messages=messages, **extra)
    print("reply:", response.choices[0].message.content)
    print(f"usage: {response.usage.total_tokens} tokens, {1000 * (time.perf_counter() - started):.2f} ms")

    # 2. Tool calling, the round trip the LiteLLM tutorial teaches.
    messages = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = litellm.completion(model=model, messages=messages, tools=[WEATHER_TOOL], tool_choice="required", **extra)
    message = first.choices[0].message
    messages.append(message)
    for call in message.tool_calls or []:
        args = json.loads(call.function.arguments)
        print(f"tool call: {call.function.name}({args})")
        messages.append({"role": "tool", "tool_call_id": call.id, "content": get_weather(**args)})
    final = litellm.completion(model=model, messages=messages, tools=[WEATHER_TOOL], **extra)
    print("after the tool:", final.choices[0].message.content)

    # 3. Async: ten requests at once.
    async def many() -> list:
        calls = [
            litellm.acompletion(model=model, messages=[{"role": "user", "content": f"Count to {i}"}], **extra)
            for i in range(1, 11)
        ]
        return await asyncio.gather(*calls)

    replies = asyncio.run(many())
    print(f"async: {len(replies)} replies")

    # 4. Errors are LiteLLM's classes.
    try:
        litellm.completion(model="no-such-provider/model", messages=messages)
    except litellm.BadRequestError as err:
        print("bad request:", str(err).splitlines()[0][:80], "...")


def main() -> None:
    for key_var, model in REAL_PROVIDERS:
        if os.environ.get(key_var):
            run(model, {})
            return
    print("No provider key set: using rustllm.testing.MockServer")
    with MockServer() as server:
        run("openai/gpt-4o-mini", {"api_base": server.base_url, "api_key": "sk-mock"})
        print(f"the mock server received {len(server.requests)} requests")


if __name__ == "__main__":
    main()
