"""Ordinary LiteLLM user code, as the tutorial writes it, with no casts.

``make lint`` type-checks this file with mypy and with pyright (``tests/typing/check.py``):
both must report nothing. The ``assert_type`` lines pin the types users rely on, so a
change that makes one vaguer (a union, or ``Any``) fails the check. ``tests/test_typing.py``
also runs each function against ``rustllm.testing.MockServer``, so the code is real code whose
values have the types it claims.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal, Optional, Union

from typing_extensions import assert_type

import rustllm as litellm
from rustllm import CustomStreamWrapper, Router
from rustllm.types.utils import (
    ChatCompletionMessageToolCall,
    Choices,
    Delta,
    EmbeddingResponse,
    Message,
    ModelInfo,
    ModelResponse,
    ModelResponseStream,
    StreamingChoices,
    TextCompletionResponse,
    Usage,
)

KEY = "sk-test"


def chat(base_url: str) -> str | None:
    """A plain call: the reply's text."""
    messages = [{"role": "user", "content": "Who are you?"}]
    response = litellm.completion(model="openai/qwen-turbo", messages=messages, base_url=base_url, api_key=KEY)
    assert_type(response, ModelResponse)
    assert_type(response.choices[0], Choices)
    assert_type(response.choices[0].message, Message)
    assert_type(response.choices[0].message.content, Optional[str])
    assert_type(response.usage, Usage)
    assert_type(response.usage.total_tokens, int)
    print(response.choices[0].message.content, response.usage.total_tokens)
    return response.choices[0].message.content


def stream(base_url: str) -> str:
    """``stream=True``: iterate the chunks, then rebuild the whole reply."""
    messages = [{"role": "user", "content": "Who are you?"}]
    response = litellm.completion(
        model="openai/deepseek-chat", messages=messages, base_url=base_url, api_key=KEY, stream=True
    )
    assert_type(response, CustomStreamWrapper)
    chunks: list[ModelResponseStream] = []
    text = ""
    for chunk in response:
        assert_type(chunk, ModelResponseStream)
        assert_type(chunk.choices[0], StreamingChoices)
        assert_type(chunk.choices[0].delta, Delta)
        assert_type(chunk.choices[0].delta.content, Optional[str])
        text += chunk.choices[0].delta.content or ""
        chunks.append(chunk)
    rebuilt = litellm.stream_chunk_builder(chunks)
    if isinstance(rebuilt, ModelResponse):
        print(rebuilt.choices[0].message.content)
    return text


async def achat(base_url: str) -> str:
    """``acompletion``: one awaited reply, then an awaited stream read with ``async for``."""
    messages = [{"role": "user", "content": "Who are you?"}]
    response = await litellm.acompletion(
        model="openai/deepseek-chat", messages=messages, base_url=base_url, api_key=KEY
    )
    assert_type(response, ModelResponse)
    text = response.choices[0].message.content or ""
    async for chunk in await litellm.acompletion(
        model="openai/deepseek-chat", messages=messages, base_url=base_url, api_key=KEY, stream=True
    ):
        assert_type(chunk, ModelResponseStream)
        text += chunk.choices[0].delta.content or ""
    return text


def llm_chat(
    model: str, messages: list[Any], base_url: str, tools: list[dict[str, Any]] | None = None, stream: bool = True
) -> ModelResponse | CustomStreamWrapper:
    """The tutorial's helper: ``stream`` is a ``bool`` variable, so the result is either."""
    response = litellm.completion(
        model=model, messages=messages, base_url=base_url, api_key=KEY, tools=tools, stream=stream
    )
    assert_type(response, Union[ModelResponse, CustomStreamWrapper])
    return response


def get_weather(location: str, unit: str = "celsius") -> dict[str, str]:
    return {"location": location, "temperature": "10", "unit": unit}


TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}, "unit": {"type": "string"}},
                "required": ["location"],
            },
        },
    }
]


def tools(base_url: str) -> str | None:
    """Function calling: run the tool calls the model asked for, then ask again."""
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Shanghai?"}]
    response = llm_chat("openai/deepseek-chat", messages, base_url, tools=TOOLS, stream=False)
    if not isinstance(response, ModelResponse):
        raise TypeError("stream=False gives a ModelResponse")
    message = response.choices[0].message
    assert_type(message.tool_calls, Optional[list[ChatCompletionMessageToolCall]])
    messages.append(message)
    for tool_call in message.tool_calls or []:
        assert_type(tool_call, ChatCompletionMessageToolCall)
        assert_type(tool_call.function.name, Optional[str])
        assert_type(tool_call.function.arguments, str)
        args = json.loads(tool_call.function.arguments)
        result = get_weather(**args)
        messages.append(
            {
                "role": "tool",
                "name": tool_call.function.name,
                "content": json.dumps(result),
                "tool_call_id": tool_call.id,
            }
        )
    final = llm_chat("openai/deepseek-chat", messages, base_url, stream=False)
    return final.choices[0].message.content if isinstance(final, ModelResponse) else None


def embed(base_url: str) -> list[float]:
    """Embeddings: ``data`` items are plain dicts, as in LiteLLM."""
    response = litellm.embedding(model="openai/text-embedding-3-small", input=["hello"], api_base=base_url, api_key=KEY)
    assert_type(response, EmbeddingResponse)
    vector: list[float] = response.data[0]["embedding"]
    return vector


def text(base_url: str) -> str:
    """The legacy completions API, plain and streamed."""
    response = litellm.text_completion(
        model="text-completion-openai/gpt-3.5-turbo-instruct", prompt="Say hi", api_base=base_url, api_key=KEY
    )
    assert_type(response, TextCompletionResponse)
    out = response.choices[0].text or ""
    for chunk in litellm.text_completion(
        model="text-completion-openai/gpt-3.5-turbo-instruct",
        prompt="Say hi",
        api_base=base_url,
        api_key=KEY,
        stream=True,
    ):
        assert_type(chunk, TextCompletionResponse)
        out += chunk.choices[0].text or ""
    return out


def model_list(base_url: str) -> list[dict[str, Any]]:
    return [
        {
            "model_name": "my-llm-test",
            "litellm_params": {"model": "openai/deepseek-chat", "api_base": base_url, "api_key": KEY},
        },
        {
            "model_name": "my-llm-test",
            "litellm_params": {"model": "openai/qwen-turbo", "api_base": base_url, "api_key": KEY},
        },
    ]


def route(base_url: str) -> str:
    """The Router: a call, a stream, and concurrent async calls."""
    router = Router(model_list=model_list(base_url), routing_strategy="simple-shuffle", set_verbose=False)
    messages = [{"role": "user", "content": "Who are you?"}]
    response = router.completion(model="my-llm-test", messages=messages)
    assert_type(response, ModelResponse)
    out = response.choices[0].message.content or ""
    for chunk in router.completion(model="my-llm-test", messages=messages, stream=True):
        assert_type(chunk, ModelResponseStream)
        out += chunk.choices[0].delta.content or ""

    async def many() -> list[ModelResponse]:
        busy = Router(model_list=model_list(base_url), routing_strategy="least-busy")
        replies = await asyncio.gather(*[busy.acompletion(model="my-llm-test", messages=messages) for _ in range(3)])
        async for chunk in await busy.acompletion(model="my-llm-test", messages=messages, stream=True):
            assert_type(chunk, ModelResponseStream)
        return replies

    for reply in asyncio.run(many()):
        assert_type(reply, ModelResponse)
        out += reply.choices[0].message.content or ""
    return out


def errors(base_url: str) -> int:
    """Exceptions: LiteLLM's classes with typed ``status_code``, ``message``, ... ."""
    try:
        litellm.completion(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], base_url=base_url, api_key=KEY
        )
    except litellm.RateLimitError as e:
        assert_type(e.status_code, Literal[429])
        assert_type(e.message, str)
        assert_type(e.llm_provider, str)
        assert_type(e.model, str)
        print(f"rate limited by {e.llm_provider} ({e.model}): {e.message}")
        return e.status_code + 1
    except litellm.BadRequestError as e:
        assert_type(e.status_code, Literal[400])
        assert_type(e.llm_provider, Optional[str])
        return e.status_code
    except litellm.APIError as e:
        assert_type(e.status_code, int)
        return e.status_code
    except litellm.OpenAIError as e:
        assert_type(e.status_code, Optional[int])
        return e.status_code or 0
    return 0


def catalogue() -> float:
    """The model map, token counting and costs."""
    info = litellm.get_model_info("openai/gpt-4o")
    assert_type(info, ModelInfo)
    assert_type(info["max_input_tokens"], Optional[int])
    assert_type(info["input_cost_per_token"], float)
    assert_type(info["litellm_provider"], Optional[str])
    assert_type(info["supports_function_calling"], Optional[bool])
    window = info["max_input_tokens"] or 0
    if info["supports_function_calling"]:
        print(info["key"], "takes tools;", window, "tokens in")
    tokens = litellm.token_counter(model="gpt-4o", messages=[{"role": "user", "content": "hello world"}])
    assert_type(tokens, int)
    prompt_cost, completion_cost = litellm.cost_per_token(model="gpt-4o", prompt_tokens=tokens, completion_tokens=10)
    assert_type(prompt_cost, float)
    cost = litellm.completion_cost(model="gpt-4o", prompt="hello world", completion="hi there")
    assert_type(cost, float)
    return cost + prompt_cost + completion_cost + info["input_cost_per_token"] * window
