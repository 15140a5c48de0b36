"""Router behaviours frameworks and LiteLLM's users rely on: identical deployments, partial
weights, default fallbacks behind a missing group, LiteLLM's helper methods, deployment
prices in the catalogue."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter

import pytest
from _minute import clear_of_minute_end

import rustllm as litellm
from rustllm import Router
from rustllm.testing import MockServer

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def _servers():
    with MockServer(text="from A") as a, MockServer(text="from B") as b:
        yield a, b


@pytest.fixture
def servers(_servers):
    for s in _servers:
        s.reset()
    return _servers


def dep(group, server, **params):
    return {
        "model_name": group,
        "litellm_params": {"model": "openai/m", "api_base": server.base_url, "api_key": "k", **params},
    }


def text(resp):
    return resp.choices[0].message.content


def test_identical_deployments_are_accepted_with_distinct_ids(servers):
    a, _ = servers
    r = Router(model_list=[dep("g", a), dep("g", a)])
    ids = r.get_model_ids("g")
    assert len(ids) == len(set(ids)) == 2
    # The first keeps LiteLLM's id: sha256 of the group, then each param's key and value.
    params = dep("g", a)["litellm_params"]
    expected = hashlib.sha256(("g" + "".join(k + str(v) for k, v in params.items())).encode()).hexdigest()
    assert ids[0] == expected and ids[1].startswith(expected)
    assert text(r.completion(model="g", messages=HI)) == "from A"


def test_explicit_duplicate_ids_are_still_refused(servers):
    a, b = servers
    with pytest.raises(ValueError, match="unique"):
        Router(model_list=[{**dep("g", a), "model_info": {"id": "x"}}, {**dep("g", b), "model_info": {"id": "x"}}])


def test_a_model_info_id_calls_that_deployment(servers):
    a, b = servers
    r = Router(
        model_list=[{**dep("g", a), "model_info": {"id": "dep-a"}}, {**dep("g", b), "model_info": {"id": "dep-b"}}]
    )
    for _ in range(5):
        resp = r.completion(model="dep-b", messages=HI)
        assert text(resp) == "from B"
        assert resp._hidden_params["model_id"] == "dep-b"
    assert a.request_count == 0 and b.request_count == 5


@pytest.mark.parametrize(
    "first,second,a_share",
    [
        ({}, {"weight": 9}, 0.5),  # the first has no weight: a uniform pick
        ({"weight": 9}, {}, 1.0),  # a missing weight counts 0
        ({"rpm": 100}, {"weight": 5}, 1.0),  # the first one's rule (rpm) decides
    ],
)
def test_simple_shuffle_with_partial_weights_follows_the_first_deployment(servers, first, second, a_share):
    a, b = servers
    r = Router(model_list=[dep("g", a, **first), dep("g", b, **second)])
    counts = Counter(r.get_available_deployment("g")["litellm_params"]["api_base"] for _ in range(400))
    share = counts[a.base_url] / 400
    assert abs(share - a_share) < 0.12, counts


@pytest.mark.parametrize("own", [["nope"], ["b"], ["nope", "b"]])
def test_default_fallbacks_follow_a_fallback_group_that_fails_or_does_not_exist(servers, own):
    a, b = servers
    r = Router(
        model_list=[
            dep("a", a, mock_response="litellm.InternalServerError"),
            dep("b", a, mock_response="litellm.InternalServerError"),
            dep("c", b),
        ],
        fallbacks=[{"a": own}],
        default_fallbacks=["c"],
        num_retries=0,
    )
    resp = r.completion(model="a", messages=HI)
    assert text(resp) == "from B"
    assert resp._hidden_params["additional_headers"]["x-litellm-model-group"] == "c"


def test_should_retry_this_error():
    r = Router(model_list=[{"model_name": "g", "litellm_params": {"model": "openai/m", "mock_response": "x"}}])
    err = litellm.InternalServerError("boom", llm_provider="openai", model="m")
    assert r.should_retry_this_error(err, healthy_deployments=[{}], all_deployments=[{}, {}]) is True
    with pytest.raises(litellm.InternalServerError):
        r.should_retry_this_error(err, healthy_deployments=[])
    not_found = litellm.NotFoundError("gone", llm_provider="openai", model="m")
    with pytest.raises(litellm.NotFoundError):
        r.should_retry_this_error(not_found, healthy_deployments=[{}])


def test_deployment_lookups(servers):
    a, _ = servers
    entry = dep("g", a, vertex_project="p")
    entry["model_info"] = {"id": "d1", "base_model": "gpt-4o"}
    r = Router(model_list=[entry])
    d = r.get_deployment("d1")
    assert d.model_name == "g" and d.litellm_params.model == "openai/m"
    assert r.get_deployment("nope") is None
    assert r.get_deployment_credentials("d1") == {"api_key": "k", "api_base": a.base_url, "vertex_project": "p"}
    info = r.get_router_model_info(None, "g", id="d1")
    assert info["max_input_tokens"] == litellm.get_model_info("gpt-4o")["max_input_tokens"]
    assert info["id"] == "d1"
    assert r.get_deployment_model_info("d1", "gpt-4o")["litellm_provider"] == "openai"
    chosen = asyncio.run(r.async_get_available_deployment("g", messages=HI))
    assert chosen["model_info"]["id"] == "d1"


def test_model_group_usage_and_remaining(servers):
    a, _ = servers
    r = Router(model_list=[dep("g", a, rpm=10, tpm=1000)])
    clear_of_minute_end()
    r.completion(model="g", messages=HI)
    tpm, rpm = asyncio.run(r.get_model_group_usage("g"))
    assert rpm == 1 and tpm > 0
    remaining = asyncio.run(r.get_remaining_model_group_usage("g"))
    assert remaining["x-ratelimit-remaining-requests"] == 9
    assert remaining["x-ratelimit-limit-tokens"] == 1000
    assert asyncio.run(r.get_model_group_usage("nope")) == (None, None)


def test_cooldown_cache_and_reset(servers):
    a, b = servers
    r = Router(model_list=[dep("g", a, mock_response="litellm.RateLimitError"), dep("g", b)], num_retries=0)
    bad = r.get_model_ids("g")[0]
    active: list = []
    for _ in range(50):  # until the shuffle has picked the failing deployment once
        try:
            r.completion(model="g", messages=HI)
        except Exception:  # noqa: BLE001 - the failing deployment is what this test wants
            pass
        active = r.cooldown_cache.get_active_cooldowns(model_ids=r.get_model_ids("g"), parent_otel_span=None)
        if active:
            break
    assert [model_id for model_id, _ in active] == [bad]
    assert r.cooldown_cache.get_min_cooldown(model_ids=[bad], parent_otel_span=None) > 0
    r.reset()
    assert r.retry_policy is None


def test_deployment_prices_register_the_model(servers):
    a, _ = servers
    r = Router(
        model_list=[dep("g", a, model="openai/my-private-model", input_cost_per_token=1e-6, output_cost_per_token=2e-6)]
    )
    info = litellm.get_model_info("openai/my-private-model")
    assert info["input_cost_per_token"] == 1e-6 and info["output_cost_per_token"] == 2e-6
    assert litellm.cost_per_token(model="openai/my-private-model", prompt_tokens=10, completion_tokens=10) == (
        pytest.approx(1e-5),
        pytest.approx(2e-5),
    )
    assert litellm.model_cost[r.get_model_ids("g")[0]]["input_cost_per_token"] == 1e-6
