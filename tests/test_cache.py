"""The module cache (``rustllm.cache = rustllm.Cache(...)``): hits make no request and
return the stored response with ``cache_hit``; LiteLLM's key and per-call controls; the
in-memory store and a real Redis (started by these tests on a free loopback port)."""

from __future__ import annotations

import hashlib
import json
import logging
import time

import pytest
from conftest import USER_HI
from redis_server import RedisServer

import rustllm as litellm
from rustllm.integrations.custom_logger import CustomLogger


def hit(resp):
    return resp._hidden_params.get("cache_hit") is True


@pytest.fixture
def cache():
    litellm.cache = litellm.Cache()
    return litellm.cache


def test_a_hit_returns_the_stored_response_without_a_request(cache, openai_args, server):
    first = litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    assert not hit(first)
    second = litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    assert hit(second)
    assert second.id == first.id
    assert second.choices[0].message.content == first.choices[0].message.content
    assert second.usage.total_tokens == first.usage.total_tokens
    assert second._hidden_params["response_cost"] == 0.0
    assert second._hidden_params["custom_llm_provider"] == "openai"
    assert server.request_count == 1
    # Any LLM parameter is part of the key; connection settings are not.
    litellm.completion(model="openai/gpt-4o", messages=USER_HI, temperature=0.5, **openai_args)
    assert server.request_count == 2
    assert hit(litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args, timeout=30))


def test_the_key_is_litellms(cache):
    expected = hashlib.sha256(b"model: openai/cache-mmessages: [{'role': 'user', 'content': 'cache me'}]").hexdigest()
    kwargs = {"model": "openai/cache-m", "messages": [{"role": "user", "content": "cache me"}]}
    assert cache.get_cache_key(**kwargs) == expected
    assert cache.get_cache_key(**kwargs, cache={"namespace": "ns"}) == "ns:" + expected
    assert litellm.Cache(namespace="team").get_cache_key(**kwargs) == "team:" + expected


def test_caching_false_no_cache_and_no_store(cache, openai_args, server):
    first = litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    # caching=False and no-cache skip the look-up (the fresh reply is stored).
    assert not hit(litellm.completion(model="openai/gpt-4o", messages=USER_HI, caching=False, **openai_args))
    fresh = litellm.completion(model="openai/gpt-4o", messages=USER_HI, cache={"no-cache": True}, **openai_args)
    assert fresh.id != first.id and server.request_count == 3
    assert litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args).id == fresh.id
    # no-store: the reply is not written.
    other = [{"role": "user", "content": "other"}]
    litellm.completion(model="openai/gpt-4o", messages=other, cache={"no-store": True}, **openai_args)
    assert not hit(litellm.completion(model="openai/gpt-4o", messages=other, **openai_args))
    assert server.request_count == 5
    assert "cache" not in server.last_request.body and "caching" not in server.last_request.body


def test_ttl_and_s_maxage(cache, openai_args, server):
    litellm.completion(model="openai/gpt-4o", messages=USER_HI, cache={"ttl": 0.3}, **openai_args)
    assert hit(litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args))
    time.sleep(0.45)
    assert not hit(litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args))
    time.sleep(0.2)
    assert not hit(litellm.completion(model="openai/gpt-4o", messages=USER_HI, cache={"s-maxage": 0.1}, **openai_args))
    assert hit(litellm.completion(model="openai/gpt-4o", messages=USER_HI, cache={"s-maxage": 60}, **openai_args))
    assert server.request_count == 3
    litellm.cache = litellm.Cache(ttl=0.2)
    litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    time.sleep(0.3)
    assert not hit(litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args))


def test_namespaces(cache, openai_args, server):
    first = litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    other = litellm.completion(model="openai/gpt-4o", messages=USER_HI, cache={"namespace": "a"}, **openai_args)
    assert other.id != first.id
    assert (
        litellm.completion(model="openai/gpt-4o", messages=USER_HI, metadata={"redis_namespace": "a"}, **openai_args).id
        == other.id
    )
    assert server.request_count == 2


def test_default_off_mode_and_supported_call_types(openai_args, server):
    litellm.cache = litellm.Cache(mode="default_off")
    litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    assert not hit(litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args))
    litellm.completion(model="openai/gpt-4o", messages=USER_HI, cache={"use-cache": True}, **openai_args)
    assert hit(litellm.completion(model="openai/gpt-4o", messages=USER_HI, cache={"use-cache": True}, **openai_args))
    assert server.request_count == 3

    litellm.cache = litellm.Cache(supported_call_types=["embedding"])
    litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    assert not hit(litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args))
    litellm.embedding(model="openai/text-embedding-3-small", input="x", **openai_args)
    assert hit(litellm.embedding(model="openai/text-embedding-3-small", input="x", **openai_args))


def test_embeddings_and_text_completions_are_cached(cache, openai_args, server):
    emb = litellm.embedding(model="openai/text-embedding-3-small", input=["a", "b"], **openai_args)
    again = litellm.embedding(model="openai/text-embedding-3-small", input=["a", "b"], **openai_args)
    assert hit(again) and again.data[1]["embedding"] == emb.data[1]["embedding"]
    text = litellm.text_completion(model="openai/davinci-002", prompt="hi", **openai_args)
    again = litellm.text_completion(model="openai/davinci-002", prompt="hi", **openai_args)
    assert hit(again) and again.id == text.id and again.choices[0].text == text.choices[0].text
    assert type(again).__name__ == "TextCompletionResponse"
    assert server.request_count == 2


async def test_async_calls_share_entries_with_sync_calls(cache, openai_args, server):
    first = await litellm.acompletion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    second = await litellm.acompletion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    assert hit(second) and second.id == first.id
    assert litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args).id == first.id
    emb = await litellm.aembedding(model="openai/text-embedding-3-small", input="x", **openai_args)
    assert hit(await litellm.aembedding(model="openai/text-embedding-3-small", input="x", **openai_args))
    assert emb.data
    assert server.request_count == 2


def test_streams_are_stored_whole_and_replayed_as_chunks(cache, openai_args, server):
    kwargs = dict(model="openai/gpt-4o", messages=USER_HI, stream=True, **openai_args)
    text = "".join(c.choices[0].delta.content or "" for c in litellm.completion(**kwargs))
    replay = litellm.completion(**kwargs)
    chunks = list(replay)
    assert server.request_count == 1
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert replay._hidden_params["cache_hit"] is True
    # A stream entry is not a non-stream entry (stream is part of the key, as in LiteLLM).
    assert not hit(litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args))


async def test_async_stream_replay(cache, openai_args, server):
    kwargs = dict(model="openai/gpt-4o", messages=USER_HI, stream=True, **openai_args)
    text = ""
    async for c in await litellm.acompletion(**kwargs):
        text += c.choices[0].delta.content or ""
    again = ""
    async for c in await litellm.acompletion(**kwargs):
        again += c.choices[0].delta.content or ""
    assert again == text and server.request_count == 1


def test_callbacks_see_cache_hits(cache, openai_args):
    events = []

    class Log(CustomLogger):
        def log_pre_api_call(self, model, messages, kwargs):
            events.append("pre")

        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            slo = kwargs["standard_logging_object"]
            events.append(("success", kwargs["cache_hit"], slo["cache_key"], slo["saved_cache_cost"] > 0))

    litellm.callbacks = [Log()]
    litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    deadline = time.monotonic() + 5
    while len(events) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    key = cache.get_cache_key(model="openai/gpt-4o", messages=USER_HI)
    # A hit fires the success hooks only, as in LiteLLM.
    assert events == ["pre", ("success", False, key, False), ("success", True, key, True)]


def test_enable_update_disable_cache_and_the_direct_api(openai_args, server):
    litellm.enable_cache()
    first = litellm.cache
    litellm.enable_cache(type="redis", host="unused")  # already enabled: kept
    assert litellm.cache is first
    litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    assert hit(litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args))
    litellm.update_cache(type="local")
    assert litellm.cache is not first
    assert not hit(litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args))
    litellm.disable_cache()
    assert litellm.cache is None
    assert not hit(litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args))
    assert server.request_count == 3

    c = litellm.Cache()
    c.add_cache({"id": "x", "object": "chat.completion"}, model="m", messages=USER_HI)
    assert c.get_cache(model="m", messages=USER_HI) == {"id": "x", "object": "chat.completion"}
    assert c.get_cache(model="m", messages=[]) is None
    c.flush_cache()
    assert c.get_cache(model="m", messages=USER_HI) is None


def test_import_paths_and_unsupported_types():
    from rustllm.caching import Cache as A
    from rustllm.caching.caching import Cache as B
    from rustllm.caching.caching import LiteLLMCacheType

    assert A is B is litellm.Cache
    assert litellm.Cache(type=LiteLLMCacheType.LOCAL).type == "local"
    with pytest.raises(ValueError, match="'s3'"):
        litellm.Cache(type="s3")
    with pytest.raises(ValueError, match="host"):
        litellm.Cache(type="redis")
    with pytest.raises(ValueError, match="default_on"):
        litellm.Cache(mode="sometimes")


# ---------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def _redis():
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis(_redis):
    if _redis.proc is None:  # a test stopped it
        _redis.start()
    _redis.flush()
    return _redis


def test_redis_hits_across_cache_objects_in_litellms_stored_shape(redis, openai_args, server):
    litellm.cache = litellm.Cache(type="redis", host="127.0.0.1", port=redis.port, ttl=60)
    assert litellm.cache.redis_address == f"127.0.0.1:{redis.port}"
    first = litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    # Another Cache object (another process, as far as Redis is concerned) hits it.
    litellm.cache = litellm.Cache(type="redis", host="127.0.0.1", port=redis.port)
    second = litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    assert hit(second) and second.id == first.id
    assert server.request_count == 1
    key = litellm.cache.get_cache_key(model="openai/gpt-4o", messages=USER_HI)
    stored = json.loads(redis.command("GET", key))
    assert set(stored) == {"timestamp", "response"}
    assert json.loads(stored["response"])["id"] == first.id
    assert 0 < redis.command("PTTL", key) <= 60_000


def test_redis_from_environment_and_per_call_ttl(redis, openai_args, monkeypatch):
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_PORT", str(redis.port))
    litellm.cache = litellm.Cache(type="redis", namespace="ns")
    litellm.completion(model="openai/gpt-4o", messages=USER_HI, cache={"ttl": 5}, **openai_args)
    key = litellm.cache.get_cache_key(model="openai/gpt-4o", messages=USER_HI)
    assert key.startswith("ns:")
    assert 0 < redis.command("PTTL", key) <= 5000
    # No ttl: a Redis entry lives until evicted, as in LiteLLM.
    litellm.completion(model="openai/gpt-4o", messages=[{"role": "user", "content": "x"}], **openai_args)
    key = litellm.cache.get_cache_key(model="openai/gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert redis.command("PTTL", key) == -1


async def test_redis_async_calls(redis, openai_args, server):
    litellm.cache = litellm.Cache(type="redis", host="127.0.0.1", port=redis.port)
    first = await litellm.acompletion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    second = await litellm.acompletion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    assert hit(second) and second.id == first.id
    stream_args = dict(model="openai/gpt-4o", messages=USER_HI, stream=True, **openai_args)
    text = ""
    async for c in await litellm.acompletion(**stream_args):
        text += c.choices[0].delta.content or ""
    again = ""
    async for c in await litellm.acompletion(**stream_args):
        again += c.choices[0].delta.content or ""
    assert again == text
    assert server.request_count == 2


def test_a_redis_outage_costs_misses_not_errors(redis, openai_args, server, caplog):
    litellm.cache = litellm.Cache(type="redis", host="127.0.0.1", port=redis.port)
    litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    redis.stop()
    with caplog.at_level(logging.WARNING, logger="rustllm"):
        resp = litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
        assert not hit(resp)
        assert resp.choices[0].message.content == "Hello from MockServer!"
    assert any("unreachable" in r.getMessage() for r in caplog.records if r.name == "rustllm")
    assert server.request_count == 2
