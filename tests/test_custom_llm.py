"""Custom providers: ``CustomLLM`` handlers registered in ``custom_provider_map`` serve
their prefix for completion, streaming and embeddings, sync and async, directly and
through the Router, with callbacks, and with LiteLLM's error mapping."""

from __future__ import annotations

import asyncio
import time

import pytest

import rustllm as litellm
from rustllm import CustomLLM, Router, acompletion, completion
from rustllm.testing import MockServer

HI = [{"role": "user", "content": "Hello world!"}]


# LiteLLM's documented example (docs "Custom API Server"), unchanged but for the import.
class MyCustomLLM(CustomLLM):
    def completion(self, *args, **kwargs) -> litellm.ModelResponse:
        return litellm.completion(
            model="gpt-3.5-turbo",
            messages=[{"role": "user", "content": "Hello world"}],
            mock_response="Hi!",
        )  # type: ignore

    async def acompletion(self, *args, **kwargs) -> litellm.ModelResponse:
        return litellm.completion(
            model="gpt-3.5-turbo",
            messages=[{"role": "user", "content": "Hello world"}],
            mock_response="Hi!",
        )  # type: ignore


class Recording(CustomLLM):
    """Records what LiteLLM passes and streams two GenericStreamingChunks."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def completion(self, *args, **kwargs):
        self.calls.append(("completion", kwargs))
        return litellm.ModelResponse(
            model=kwargs["model"], choices=[{"message": {"role": "assistant", "content": "sync reply"}}]
        )

    async def acompletion(self, *args, **kwargs):
        self.calls.append(("acompletion", kwargs))
        await asyncio.sleep(0)
        return litellm.ModelResponse(
            model=kwargs["model"], choices=[{"message": {"role": "assistant", "content": "async reply"}}]
        )

    def streaming(self, *args, **kwargs):
        self.calls.append(("streaming", kwargs))
        yield {
            "finish_reason": None,
            "index": 0,
            "is_finished": False,
            "text": "Hello ",
            "tool_use": None,
            "usage": None,
        }
        yield {
            "finish_reason": "stop",
            "index": 0,
            "is_finished": True,
            "text": "world",
            "tool_use": None,
            "usage": {"completion_tokens": 2, "prompt_tokens": 3, "total_tokens": 5},
        }

    async def astreaming(self, *args, **kwargs):
        self.calls.append(("astreaming", kwargs))
        for chunk in ({"text": "async ", "is_finished": False}, {"text": "stream", "is_finished": True}):
            await asyncio.sleep(0)
            yield {"finish_reason": "stop" if chunk["is_finished"] else None, "usage": None, **chunk}

    def embedding(self, *args, **kwargs):
        self.calls.append(("embedding", kwargs))
        return self._fill(**kwargs)

    @staticmethod
    def _fill(**kwargs):
        response = kwargs["model_response"]
        response.model = kwargs["model"]
        response.data = [
            {"object": "embedding", "index": i, "embedding": [0.5, float(i)]} for i in range(len(kwargs["input"]))
        ]
        return response

    async def aembedding(self, *args, **kwargs):
        self.calls.append(("aembedding", kwargs))
        return self._fill(**kwargs)


class Failing(CustomLLM):
    def __init__(self, error):
        super().__init__()
        self.error = error
        self.calls = 0

    def completion(self, *args, **kwargs):
        self.calls += 1
        raise self.error

    async def acompletion(self, *args, **kwargs):
        self.calls += 1
        raise self.error

    def streaming(self, *args, **kwargs):
        yield {"text": "partial", "is_finished": False, "finish_reason": None, "usage": None}
        raise self.error


@pytest.fixture
def register(monkeypatch):
    monkeypatch.setattr(litellm, "custom_provider_map", [])

    def add(name, handler):
        litellm.custom_provider_map.append({"provider": name, "custom_handler": handler})
        return handler

    return add


@pytest.fixture
def seen(monkeypatch):
    calls = []

    def on_success(kwargs, response, start, end):
        calls.append((kwargs.get("call_type"), type(response).__name__))

    async def on_async_success(kwargs, response, start, end):
        calls.append((kwargs.get("call_type"), type(response).__name__))

    # LiteLLM runs sync functions for sync calls and async ones for async calls.
    monkeypatch.setattr(litellm, "success_callback", [on_success, on_async_success])

    def wait(n):
        deadline = time.time() + 5
        while len(calls) < n and time.time() < deadline:
            time.sleep(0.01)
        return calls

    return wait


def text_of(chunks):
    return "".join(c.choices[0].delta.content or "" for c in chunks)


def test_documented_example_sync_and_async(register):
    register("my-custom-llm", MyCustomLLM())
    resp = completion(model="my-custom-llm/my-fake-model", messages=HI)
    assert isinstance(resp, litellm.ModelResponse)
    assert resp.choices[0].message.content == "Hi!"
    resp = asyncio.run(acompletion(model="my-custom-llm/my-fake-model", messages=HI))
    assert resp.choices[0].message.content == "Hi!"


def test_litellm_import_paths():
    from rustllm.llms.custom_llm import CustomLLM as FromTree
    from rustllm.types.utils import GenericStreamingChunk

    assert FromTree is CustomLLM
    assert "text" in GenericStreamingChunk.__annotations__


def test_handler_receives_litellms_arguments(register):
    handler = register("my-custom-llm", Recording())
    resp = completion(model="my-custom-llm/my-model", messages=HI, temperature=0.2, api_key="k", api_base="http://x")
    assert resp.choices[0].message.content == "sync reply"
    name, kwargs = handler.calls[0]
    assert name == "completion"
    assert kwargs["model"] == "my-model"
    assert kwargs["messages"] == HI
    assert kwargs["optional_params"] == {"temperature": 0.2}
    assert kwargs["api_key"] == "k" and kwargs["api_base"] == "http://x"
    assert isinstance(kwargs["model_response"], litellm.ModelResponse)
    # custom_llm_provider= works as the prefix does.
    resp = completion(model="my-model", custom_llm_provider="my-custom-llm", messages=HI)
    assert resp.choices[0].message.content == "sync reply"
    assert litellm.get_llm_provider("my-custom-llm/my-model")[:2] == ("my-model", "my-custom-llm")


def test_streaming_sync_and_async(register):
    register("my-custom-llm", Recording())
    stream = completion(model="my-custom-llm/my-model", messages=HI, stream=True)
    assert isinstance(stream, litellm.CustomStreamWrapper)
    chunks = list(stream)
    assert all(isinstance(c, litellm.ModelResponseStream) for c in chunks)
    assert text_of(chunks) == "Hello world"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert litellm.stream_chunk_builder(chunks).choices[0].message.content == "Hello world"

    async def run():
        stream = await acompletion(model="my-custom-llm/my-model", messages=HI, stream=True)
        return [c async for c in stream]

    chunks = asyncio.run(run())
    assert text_of(chunks) == "async stream"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_embedding_sync_and_async(register):
    handler = register("my-custom-llm", Recording())
    resp = litellm.embedding(model="my-custom-llm/emb", input=["a", "b"])
    assert isinstance(resp, litellm.EmbeddingResponse)
    assert [d["embedding"] for d in resp.data] == [[0.5, 0.0], [0.5, 1.0]]
    resp = asyncio.run(litellm.aembedding(model="my-custom-llm/emb", input="a"))
    assert len(resp.data) == 1
    assert [c[0] for c in handler.calls] == ["embedding", "aembedding"]


def test_callbacks_see_custom_calls(register, seen):
    register("my-custom-llm", Recording())
    completion(model="my-custom-llm/my-model", messages=HI)
    litellm.embedding(model="my-custom-llm/emb", input=["a"])

    async def run():
        await acompletion(model="my-custom-llm/my-model", messages=HI)
        await asyncio.sleep(0.05)

    asyncio.run(run())
    calls = seen(3)
    assert sorted(calls) == [
        ("acompletion", "ModelResponse"),
        ("completion", "ModelResponse"),
        ("embedding", "EmbeddingResponse"),
    ]


def test_errors_map_as_litellm_does(register):
    handler = register("my-custom-llm", Failing(ValueError("bad value")))
    with pytest.raises(litellm.APIConnectionError) as info:
        completion(model="my-custom-llm/m", messages=HI)
    assert info.value.status_code == 500
    assert "bad value" in str(info.value)
    assert info.value.llm_provider == "my-custom-llm"
    with pytest.raises(litellm.APIConnectionError):
        asyncio.run(acompletion(model="my-custom-llm/m", messages=HI))
    # LiteLLM's own classes reach the caller as they are.
    handler.error = litellm.RateLimitError("slow down", "my-custom-llm", "m")
    with pytest.raises(litellm.RateLimitError):
        completion(model="my-custom-llm/m", messages=HI)
    # Mid-stream: the chunks before, then the mapped error.
    handler.error = ValueError("broke")
    stream = completion(model="my-custom-llm/m", messages=HI, stream=True)
    with pytest.raises(litellm.APIConnectionError):
        for _ in stream:
            pass
    # A method the handler does not override.
    with pytest.raises(litellm.APIConnectionError, match="Not implemented yet"):
        litellm.embedding(model="my-custom-llm/m", input="x")


def test_unregistered_prefix_still_rejected_before_any_call(register):
    register("my-custom-llm", Recording())
    with pytest.raises(litellm.BadRequestError):
        completion(model="other-llm/m", messages=HI)


# -- through the Router -----------------------------------------------------------------
def custom_router(**kw):
    return Router(
        model_list=[
            {"model_name": "custom", "litellm_params": {"model": "my-custom-llm/my-model"}},
            {"model_name": "emb", "litellm_params": {"model": "my-custom-llm/emb"}},
        ],
        **kw,
    )


def test_router_serves_custom_deployments(register, seen):
    handler = register("my-custom-llm", Recording())
    router = custom_router()
    resp = router.completion(model="custom", messages=HI, temperature=0.1)
    assert isinstance(resp, litellm.ModelResponse)
    assert resp.choices[0].message.content == "sync reply"
    assert resp._hidden_params["model_group"] == "custom"
    assert handler.calls[-1][1]["model"] == "my-model"
    assert handler.calls[-1][1]["optional_params"]["temperature"] == 0.1

    async def run():
        resp = await router.acompletion(model="custom", messages=HI)
        stream = await router.acompletion(model="custom", messages=HI, stream=True)
        chunks = [c async for c in stream]
        emb = await router.aembedding(model="emb", input=["a"])
        await asyncio.sleep(0.05)
        return resp, chunks, emb

    resp, chunks, emb = asyncio.run(run())
    assert resp.choices[0].message.content == "async reply"
    assert text_of(chunks) == "async stream"
    assert isinstance(emb, litellm.EmbeddingResponse) and emb.data[0]["embedding"] == [0.5, 0.0]
    chunks = list(router.completion(model="custom", messages=HI, stream=True))
    assert text_of(chunks) == "Hello world"
    emb = router.embedding(model="emb", input=["a", "b"])
    assert len(emb.data) == 2
    assert [c[0] for c in handler.calls] == [
        "completion",
        "acompletion",
        "astreaming",
        "aembedding",
        "streaming",
        "embedding",
    ]
    calls = seen(6)
    assert sorted(c for c, _ in calls) == [
        "acompletion",
        "acompletion",
        "aembedding",
        "completion",
        "completion",
        "embedding",
    ]


def test_router_retries_and_falls_back_from_a_failing_handler(register):
    failing = register("broken-llm", Failing(litellm.InternalServerError("down", "broken-llm", "m")))
    with MockServer(text="from backup") as backup:
        router = Router(
            model_list=[
                {"model_name": "custom", "litellm_params": {"model": "broken-llm/m"}},
                {
                    "model_name": "backup",
                    "litellm_params": {"model": "openai/m", "api_base": backup.base_url, "api_key": "k"},
                },
            ],
            num_retries=1,
            retry_after=0,
            fallbacks=[{"custom": ["backup"]}],
        )
        resp = router.completion(model="custom", messages=HI)
        assert resp.choices[0].message.content == "from backup"
        assert failing.calls == 2  # the first try and one retry
        assert backup.request_count == 1
        assert resp._hidden_params["additional_headers"]["x-litellm-attempted-fallbacks"] == 1
        # Async: the handler's coroutine fails the same way.
        resp = asyncio.run(router.acompletion(model="custom", messages=HI))
        assert resp.choices[0].message.content == "from backup"
        assert failing.calls == 4


def test_router_error_from_handler_surfaces(register):
    register("broken-llm", Failing(ValueError("bad value")))
    router = Router(model_list=[{"model_name": "custom", "litellm_params": {"model": "broken-llm/m"}}], num_retries=0)
    with pytest.raises(litellm.APIConnectionError, match="bad value"):
        router.completion(model="custom", messages=HI)
