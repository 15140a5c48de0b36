"""LiteLLM public names that LiteLLM's own unit tests import and rustllm lacked
(bench/litellm-public-tests.md, (b) and (c)): each works, not only imports.

GenericLiteLLMParams, InMemoryCache, CallTypes, AZURE_DEFAULT_API_VERSION, the
cost_calculator module, Embedding, HiddenParams, ServerToolUse, TranscriptionResponse,
stream_chunk_builder_text_completion; and the behaviour gaps: thinking_blocks kept by
stream_chunk_builder, litellm_debug_info on mapped errors, top_logprobs validated.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import types
from concurrent.futures import ThreadPoolExecutor

import pytest

import rustllm as litellm
from rustllm.caching import in_memory_cache
from rustllm.caching.in_memory_cache import InMemoryCache
from rustllm.types.router import GenericLiteLLMParams, LiteLLM_Params
from rustllm.types.utils import (
    CallTypes,
    ChatCompletionTokenLogprob,
    ChoiceLogprobs,
    Delta,
    Embedding,
    EmbeddingResponse,
    HiddenParams,
    ModelResponseStream,
    ServerToolUse,
    StreamingChoices,
    TextCompletionResponse,
    TopLogprob,
    TranscriptionResponse,
    Usage,
)

USER_HI = [{"role": "user", "content": "hi"}]


def _ok(code: str) -> str:
    """Run ``code`` in a fresh interpreter (a clean import state); its stdout."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_new_name_imports_through_litellm():
    out = _ok(
        """
        import rustllm
        rustllm.install_as_litellm()
        import litellm
        from litellm.types.router import GenericLiteLLMParams, LiteLLM_Params
        from litellm.caching.in_memory_cache import InMemoryCache
        from litellm.types.utils import (
            CallTypes, Embedding, HiddenParams, ServerToolUse, TranscriptionResponse,
        )
        from litellm.utils import TranscriptionResponse as T2, CallTypes as C2, Embedding as E2
        from litellm.cost_calculator import completion_cost, cost_per_token
        from litellm.main import stream_chunk_builder_text_completion
        assert litellm.InMemoryCache is InMemoryCache and litellm.HiddenParams is HiddenParams
        assert litellm.TranscriptionResponse is TranscriptionResponse is T2
        assert litellm.stream_chunk_builder_text_completion is stream_chunk_builder_text_completion
        assert litellm.cost_calculator.completion_cost is litellm.completion_cost
        print(litellm.AZURE_DEFAULT_API_VERSION)
        """
    )
    assert out.strip() == litellm.AZURE_DEFAULT_API_VERSION


# -- GenericLiteLLMParams ------------------------------------------------------------------
def test_generic_litellm_params_fields_extras_and_subclass():
    params = GenericLiteLLMParams(api_key="k", max_retries="3", drop_params=True)
    assert params.api_key == "k" and params["max_retries"] == 3 and params.api_base is None
    assert params.drop_params is True and params.get("drop_params") is True  # an extra, as given
    assert "api_key" in params and "model" not in params
    assert "model" not in GenericLiteLLMParams.model_fields
    assert issubclass(LiteLLM_Params, GenericLiteLLMParams)
    assert list(LiteLLM_Params.model_fields) == [*GenericLiteLLMParams.model_fields, "model"]
    dumped = params.model_dump()
    assert list(dumped)[:7] == [
        "input_cost_per_token",
        "output_cost_per_token",
        "input_cost_per_second",
        "output_cost_per_second",
        "input_cost_per_pixel",
        "output_cost_per_pixel",
        "api_key",
    ]
    assert list(dumped)[-1] == "drop_params"
    assert LiteLLM_Params(model="gpt-4o", max_retries="2").max_retries == 2


# -- InMemoryCache -------------------------------------------------------------------------
@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(in_memory_cache, "time", types.SimpleNamespace(time=lambda: now[0]))
    return now


def test_in_memory_cache_keeps_objects_and_expires_them(clock):
    cache = InMemoryCache()
    client = object()
    cache.set_cache("client", client)
    cache.set_cache("short", "v", ttl=1)
    assert cache.get_cache("client") is client
    assert cache.batch_get_cache(["short", "missing"]) == ["v", None]
    cache.set_cache("short", "v2", ttl=100)  # not expired: keeps its first expiry
    assert cache.ttl_dict["short"] == 1001.0
    clock[0] += 2
    assert cache.get_cache("short") is None and "short" not in cache.ttl_dict
    assert cache.get_cache("client") is client  # default ttl, 600 s
    clock[0] += 600
    assert cache.get_cache("client") is None


def test_in_memory_cache_json_strings_read_back_decoded(clock):
    cache = InMemoryCache()
    cache.set_cache("k", '{"a": 1}')
    cache.set_cache("plain", "not json")
    assert cache.get_cache("k") == {"a": 1} and cache.get_cache("plain") == "not json"


def test_in_memory_cache_full_drops_expired_then_soonest_to_expire(clock):
    cache = InMemoryCache(max_size_in_memory=3)
    cache.set_cache("expired", 1, ttl=1)
    cache.set_cache("soon", 2, ttl=100)
    cache.set_cache("late", 3, ttl=200)
    clock[0] += 5
    cache.set_cache("new", 4, ttl=300)
    assert set(cache.cache_dict) == {"soon", "late", "new"}
    cache.set_cache("newer", 5, ttl=300)
    assert set(cache.cache_dict) == {"late", "new", "newer"} == set(cache.ttl_dict)


def test_in_memory_cache_heap_stays_bounded(clock):
    cache = InMemoryCache(max_size_in_memory=50)
    for i in range(1000):
        cache.set_cache("hot", i, ttl=60)
    assert len(cache.expiration_heap) == 1
    for _ in range(20):
        for i in range(5):
            cache.set_cache(f"k{i}", i, ttl=1)
        clock[0] += 2
    assert len(cache.expiration_heap) <= 6


def test_in_memory_cache_size_limits_delete_and_flush(clock):
    assert InMemoryCache(max_size_per_item=1).check_value_size("a" * 2000) is False
    assert InMemoryCache().check_value_size({"a": 1}) is True
    cache = InMemoryCache(max_size_per_item=1)
    cache.set_cache("big", "a" * 2000)
    assert cache.get_cache("big") is None
    cache.set_cache("a", 1)
    cache.set_cache("b", 2)
    cache.delete_cache("a")
    assert cache.get_cache("a") is None and cache.get_cache("b") == 2
    cache.flush_cache()
    assert cache.cache_dict == cache.ttl_dict == {} and cache.expiration_heap == []
    nothing = InMemoryCache(max_size_in_memory=0)
    nothing.set_cache("a", 1)
    assert nothing.get_cache("a") is None


class _SlowInt(int):
    def __add__(self, other):
        threading.Event().wait(0.02)
        return _SlowInt(int(self) + other)


def test_in_memory_cache_increment_is_atomic_across_threads():
    cache = InMemoryCache()
    cache.set_cache("n", _SlowInt(100))
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: cache.increment_cache("n", 1), range(8)))
    assert cache.get_cache("n") == 108


def test_in_memory_cache_async_methods():
    async def main():
        cache = InMemoryCache()
        assert await cache.async_increment("c", 2) == 2
        assert await cache.async_increment("c", 3) == 5
        await cache.async_set_cache("k", "v")
        await cache.async_set_cache_pipeline([("x", 1), ("y", 2)], ttl=10)
        got = await cache.async_batch_get_cache(["k", "x", "y"])
        assert got == ["v", 1, 2] and await cache.async_get_cache("c") == 5
        await cache.async_set_cache_sadd("s", ["a", "b"], ttl=None)
        assert cache.get_cache("s") == {"a", "b"}

    asyncio.run(main())


# -- types.utils: CallTypes and response types ---------------------------------------------
def test_call_types_enum():
    assert CallTypes("acompletion") is CallTypes.acompletion
    assert CallTypes.embedding.value == "embedding"
    assert CallTypes("pass_through_endpoint") is CallTypes.pass_through
    assert litellm.utils.CallTypes is CallTypes


def test_embedding_item_and_response():
    item = Embedding(embedding=[0.5], index=0)
    assert item.object == "embedding" and item["index"] == 0 and Embedding().embedding == []
    response = EmbeddingResponse(model="m", data=[item], usage=Usage(prompt_tokens=3))
    assert response.model_dump()["data"] == [{"embedding": [0.5], "index": 0, "object": "embedding"}]


def test_hidden_params_dumps_response_ms():
    hidden = HiddenParams(model_id="dep-1", custom="x")
    assert repr(hidden) == (
        "HiddenParams(original_response=None, model_id='dep-1', api_base=None, response_cost=None, custom='x')"
    )
    hidden._response_ms = 100
    assert hidden.model_dump() == {
        "original_response": None,
        "model_id": "dep-1",
        "api_base": None,
        "response_cost": None,
        "custom": "x",
        "_response_ms": 100,
    }
    assert hidden.get("custom") == "x" and hidden["model_id"] == "dep-1"


def test_usage_server_tool_use_becomes_server_tool_use():
    usage = Usage(prompt_tokens=1, completion_tokens=1, server_tool_use={"web_search_requests": 2, "other": 1})
    assert isinstance(usage.server_tool_use, ServerToolUse)
    assert usage.server_tool_use.web_search_requests == 2 and usage.server_tool_use["other"] == 1
    with pytest.raises(KeyError):
        usage.server_tool_use["missing"]
    again = Usage(**usage.model_dump())
    assert isinstance(again.server_tool_use, ServerToolUse) and again.server_tool_use.other == 1
    assert "server_tool_use" not in Usage(prompt_tokens=1).model_dump()


def test_transcription_response_builds_as_litellms():
    response = TranscriptionResponse(text="hello")
    response.duration = 3.0
    assert response.model_dump() == {"text": "hello", "duration": 3.0}
    assert response._hidden_params == {} and response["text"] == "hello"
    # What transcription() returns (tests/test_transcription.py calls it).
    assert litellm.transcription.__module__ == "rustllm._audio"


# -- ChatCompletionTokenLogprob ------------------------------------------------------------
def test_token_logprob_validates_top_logprobs():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="top_logprobs"):
        ChatCompletionTokenLogprob(token="Hi", bytes=[72, 105], logprob=-0.1, top_logprobs="invalid")
    with pytest.raises(ValidationError):
        ChatCompletionTokenLogprob(token="Hi", logprob=-0.1, top_logprobs=[1])
    ok = ChatCompletionTokenLogprob(token="Hi", logprob=-0.1, top_logprobs=[{"token": "Hi", "logprob": -0.1}])
    assert isinstance(ok.top_logprobs[0], TopLogprob)
    assert ChatCompletionTokenLogprob(token="Hi", logprob=-0.1, top_logprobs=None).top_logprobs == []
    parsed = ChoiceLogprobs(content=[{"token": "Hi", "bytes": None, "logprob": -0.1, "top_logprobs": None}])
    assert parsed.content[0].top_logprobs == []


# -- AZURE_DEFAULT_API_VERSION -------------------------------------------------------------
def test_azure_default_api_version_is_the_one_sent(server, monkeypatch):
    monkeypatch.delenv("AZURE_API_VERSION", raising=False)
    litellm.completion(model="azure/dep", messages=USER_HI, api_base=server.url, api_key="k", max_retries=0)
    assert server.last_request.query == f"api-version={litellm.AZURE_DEFAULT_API_VERSION}"


# -- cost_calculator -----------------------------------------------------------------------
def test_cost_calculator_module_prices_a_response():
    from rustllm import cost_calculator

    response = litellm.ModelResponse(model="gpt-4o", usage=Usage(prompt_tokens=1000, completion_tokens=1000))
    assert cost_calculator.completion_cost(completion_response=response) == pytest.approx(0.0125)
    assert cost_calculator.cost_per_token("gpt-4o", 1000, 1000) == pytest.approx((0.0025, 0.01))


def test_transcription_priced_by_duration_without_token_usage():
    response = TranscriptionResponse(text="demo text")
    response.duration = 10.0
    cost = litellm.completion_cost(
        completion_response=response, model="whisper-1", custom_llm_provider="openai", call_type="atranscription"
    )
    assert cost == pytest.approx(10.0 * 0.0001)
    assert litellm.completion_cost(
        completion_response=response, model="whisper-1", call_type="transcription", custom_cost_per_second=0.5
    ) == pytest.approx(5.0)


# -- stream_chunk_builder_text_completion --------------------------------------------------
def _text_chunk(text, finish_reason=None):
    return TextCompletionResponse(
        id="cmpl-1",
        created=1,
        model="gpt-3.5-turbo-instruct",
        choices=[{"text": text, "index": 0, "logprobs": None, "finish_reason": finish_reason}],
    )


def test_stream_chunk_builder_text_completion_joins_and_counts():
    chunks = [_text_chunk("Hello"), _text_chunk(" world", "stop")]
    response = litellm.main.stream_chunk_builder_text_completion(chunks=chunks, messages=USER_HI)
    assert isinstance(response, TextCompletionResponse) and response.id == "cmpl-1"
    assert response.choices[0].text == "Hello world" and response.choices[0].finish_reason == "stop"
    usage = response.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens == 2
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    # stream_chunk_builder routes text chunks there, as LiteLLM does.
    assert litellm.stream_chunk_builder(chunks).choices[0].text == "Hello world"
    dicts = [c.model_dump() for c in chunks]
    assert litellm.main.stream_chunk_builder_text_completion(dicts).choices[0].text == "Hello world"


# -- stream_chunk_builder keeps thinking blocks --------------------------------------------
def _thinking_chunk(thinking="", signature=None, role=None, content=""):
    block = {"type": "thinking", "thinking": thinking, "signature": signature}
    delta = Delta(content=content, role=role, reasoning_content=thinking, thinking_blocks=[block])
    return ModelResponseStream(
        id="c1", created=1, model="claude-3-7-sonnet", choices=[StreamingChoices(index=0, delta=delta)]
    )


def test_stream_chunk_builder_keeps_thinking_blocks():
    chunks = [
        _thinking_chunk("I need ", role="assistant"),
        _thinking_chunk("to add."),
        _thinking_chunk("", signature="sig-1"),
        ModelResponseStream(
            id="c1",
            created=1,
            model="claude-3-7-sonnet",
            choices=[
                StreamingChoices(index=0, delta=Delta(thinking_blocks=[{"type": "redacted_thinking", "data": "x"}]))
            ],
        ),
        ModelResponseStream(
            id="c1", created=1, model="claude-3-7-sonnet", choices=[StreamingChoices(index=0, delta=Delta(content="4"))]
        ),
    ]
    message = litellm.stream_chunk_builder(chunks).choices[0].message
    assert message.content == "4" and message.reasoning_content == "I need to add."
    assert message.thinking_blocks == [
        {"type": "thinking", "thinking": "I need to add.", "signature": "sig-1"},
        {"type": "redacted_thinking", "data": "x"},
    ]
    # Without a signature the block could not be sent back: none, as in LiteLLM.
    unsigned = litellm.stream_chunk_builder([_thinking_chunk("hmm", role="assistant")]).choices[0].message
    assert unsigned.reasoning_content == "hmm" and not hasattr(unsigned, "thinking_blocks")


# -- litellm_debug_info --------------------------------------------------------------------
def test_content_policy_error_carries_debug_info():
    async def call():
        return await litellm.acompletion(
            model="azure/chatgpt-v-3", messages=USER_HI, mock_response="Exception: content_filter_policy"
        )

    with pytest.raises(litellm.ContentPolicyViolationError) as info:
        asyncio.run(call())
    debug = info.value.litellm_debug_info
    assert isinstance(debug, str) and "\nModel: " in debug and "chatgpt-v-3" in debug
    assert "Messages: `[{'role': 'user', 'content': 'hi'}]`" in debug


def test_provider_error_debug_info_names_api_base_and_can_hide_messages(server, monkeypatch):
    server.fail_next(status=401)
    monkeypatch.setattr(litellm, "redact_messages_in_exceptions", True)
    with pytest.raises(litellm.AuthenticationError) as info:
        litellm.completion(
            model="openai/gpt-4o", messages=USER_HI, api_base=server.base_url, api_key="k", max_retries=0
        )
    debug = info.value.litellm_debug_info
    assert f"API Base: `{server.base_url}`" in debug and "Messages" not in debug
