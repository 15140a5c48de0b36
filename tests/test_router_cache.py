"""Router response caching in memory (``cache_responses=True``): LiteLLM's per-call
controls, hits that make no request and are never counted against rpm/tpm."""

from __future__ import annotations

import time

import pytest
from _minute import clear_of_minute_end

import rustllm as litellm
from rustllm import Router
from rustllm.testing import MockServer

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def _mock():
    with MockServer(text="cached?") as s:
        yield s


@pytest.fixture
def mock(_mock):
    _mock.reset()
    _mock.recording = True
    return _mock


def dep(group, server, **params):
    return {
        "model_name": group,
        "litellm_params": {"model": "openai/m", "api_base": server.base_url, "api_key": "k", **params},
    }


def cached_router(mock, **kwargs):
    return Router(model_list=[dep("g", mock)], cache_responses=True, **kwargs)


def test_hit_returns_the_stored_response_without_a_request(mock):
    r = cached_router(mock)
    first = r.completion(model="g", messages=HI)
    assert first._hidden_params.get("cache_hit") is not True
    second = r.completion(model="g", messages=HI)
    assert second.id == first.id
    assert second.choices[0].message.content == "cached?"
    assert second._hidden_params["cache_hit"] is True
    assert second._hidden_params["response_cost"] == 0.0
    assert len(mock.requests) == 1
    # Different arguments are a different key.
    r.completion(model="g", messages=HI, temperature=0.3)
    assert len(mock.requests) == 2


async def test_async_hits_and_sync_hits_share_entries(mock):
    r = cached_router(mock)
    first = await r.acompletion(model="g", messages=HI)
    assert (await r.acompletion(model="g", messages=HI)).id == first.id
    assert r.completion(model="g", messages=HI).id == first.id
    assert len(mock.requests) == 1


def test_no_cache_and_no_store(mock):
    r = cached_router(mock)
    first = r.completion(model="g", messages=HI)
    # no-cache: skip the look-up (the fresh reply is stored).
    fresh = r.completion(model="g", messages=HI, cache={"no-cache": True})
    assert fresh.id != first.id and len(mock.requests) == 2
    assert r.completion(model="g", messages=HI).id == fresh.id
    # no-store: the reply is not written.
    other = [{"role": "user", "content": "other"}]
    r.completion(model="g", messages=other, cache={"no-store": True})
    r.completion(model="g", messages=other)
    assert len(mock.requests) == 4
    # caching=False skips the look-up.
    assert r.completion(model="g", messages=HI, caching=False)._hidden_params.get("cache_hit") is not True
    assert len(mock.requests) == 5


def test_ttl_expiry_and_s_maxage(mock):
    r = cached_router(mock)
    r.completion(model="g", messages=HI, cache={"ttl": 0.3})
    assert r.completion(model="g", messages=HI)._hidden_params["cache_hit"] is True
    time.sleep(0.45)
    assert r.completion(model="g", messages=HI)._hidden_params.get("cache_hit") is not True
    assert len(mock.requests) == 2
    time.sleep(0.2)
    # s-maxage: an entry older than this is not accepted.
    assert r.completion(model="g", messages=HI, cache={"s-maxage": 0.1})._hidden_params.get("cache_hit") is not True
    assert r.completion(model="g", messages=HI, cache={"s-maxage": 60})._hidden_params["cache_hit"] is True
    assert len(mock.requests) == 3


def test_default_ttl_from_cache_kwargs(mock):
    r = cached_router(mock, cache_kwargs={"ttl": 0.3})
    r.completion(model="g", messages=HI)
    time.sleep(0.45)
    r.completion(model="g", messages=HI)
    assert len(mock.requests) == 2


def test_hits_are_not_counted_against_rpm(mock):
    r = Router(model_list=[dep("g", mock, rpm=1)], cache_responses=True)
    clear_of_minute_end()
    first = r.completion(model="g", messages=HI)
    for _ in range(5):
        assert r.completion(model="g", messages=HI).id == first.id
    assert r.deployment_stats()[0]["rpm_used"] == 1
    with pytest.raises(litellm.RateLimitError):
        r.completion(model="g", messages=[{"role": "user", "content": "new"}])
    assert len(mock.requests) == 1


def test_namespace_caching_groups_and_no_cache_without_cache_responses(mock):
    r = Router(model_list=[dep("g1", mock), dep("g2", mock)], cache_responses=True, caching_groups=[("g1", "g2")])
    first = r.completion(model="g1", messages=HI)
    assert r.completion(model="g2", messages=HI).id == first.id
    assert r.completion(model="g1", messages=HI, cache={"namespace": "ns"}).id != first.id
    assert len(mock.requests) == 2
    plain = Router(model_list=[dep("g", mock)])
    plain.completion(model="g", messages=HI)
    plain.completion(model="g", messages=HI)
    assert len(mock.requests) == 4


def test_default_off_mode_needs_use_cache(mock):
    r = cached_router(mock, cache_kwargs={"mode": "default_off"})
    r.completion(model="g", messages=HI)
    r.completion(model="g", messages=HI)
    assert len(mock.requests) == 2
    first = r.completion(model="g", messages=HI, cache={"use-cache": True})
    assert r.completion(model="g", messages=HI, cache={"use-cache": True}).id == first.id
    assert len(mock.requests) == 3


def test_streams_are_not_cached_and_embeddings_are(mock):
    r = Router(model_list=[dep("g", mock), dep("emb", mock)], cache_responses=True)
    for _ in range(2):
        chunks = list(r.completion(model="g", messages=HI, stream=True))
        assert "".join(c.choices[0].delta.content or "" for c in chunks) == "cached?"
    assert len(mock.requests) == 2
    e1 = r.embedding(model="emb", input=["x"])
    e2 = r.embedding(model="emb", input=["x"])
    assert e2._hidden_params["cache_hit"] is True and e1.data[0]["embedding"] == e2.data[0]["embedding"]
    assert len(mock.requests) == 3


def test_flush_cache(mock):
    r = cached_router(mock)
    r.completion(model="g", messages=HI)
    r.flush_cache()
    r.completion(model="g", messages=HI)
    assert len(mock.requests) == 2
