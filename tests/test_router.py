"""rustllm.Router through the public API, against several MockServers: configuration,
every strategy, retries, cooldowns, fallbacks, limits, streaming and introspection."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest
from _minute import clear_of_minute_end

import rustllm as litellm
from rustllm import Router
from rustllm.testing import MockServer

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def _servers():
    with MockServer(text="from A") as a, MockServer(text="from B") as b, MockServer(text="from C") as c:
        yield a, b, c


@pytest.fixture
def servers(_servers):
    for s in _servers:
        s.reset()
        s.recording = True
    return _servers


def dep(group, server, id_=None, **params):
    entry = {
        "model_name": group,
        "litellm_params": {"model": "openai/m", "api_base": server.base_url, "api_key": "k", **params},
    }
    if id_:
        entry["model_info"] = {"id": id_}
    return entry


def text(resp):
    return resp.choices[0].message.content


# -- configuration ---------------------------------------------------------------------


def test_model_list_introspection(servers):
    a, b, _ = servers
    r = Router(
        model_list=[dep("g", a, "A"), dep("g", b), dep("emb", a, "E")],
        model_group_alias={"fast": "g", "secret": {"model": "emb", "hidden": True}},
    )
    ids = r.get_model_ids("g")
    assert ids[0] == "A" and len(ids[1]) == 64  # LiteLLM's sha256 id when none is given
    assert r.get_model_names() == ["fast", "secret", "g", "g", "emb"]
    assert r.model_names == ["g", "g", "emb"]
    listed = r.get_model_list()
    assert {e["model_name"] for e in listed} == {"g", "emb", "fast"}  # hidden alias left out
    assert listed[0]["litellm_params"]["use_in_pass_through"] is False
    assert r.get_model_info("A")["model_name"] == "g"
    assert r.get_available_deployment("g")["model_info"]["id"] in ids
    settings = r.get_settings()
    assert settings["routing_strategy"] == "simple-shuffle" and settings["num_retries"] == 2
    assert settings["allowed_fails"] == 3 and settings["cooldown_time"] == 5


@pytest.mark.parametrize(
    "model_list,needle",
    [
        ([{"litellm_params": {"model": "m"}}], "model_name"),
        ([{"model_name": "g"}], "litellm_params"),
        ([{"model_name": "g", "litellm_params": {"api_base": "x"}}], "litellm_params.model"),
        ([{"model_name": "g", "litellm_params": {"model": "m", "rpm": "lots"}}], "rpm"),
        ("not a list", "model_list must be a list"),
    ],
)
def test_invalid_configuration_fails_at_construction(model_list, needle):
    with pytest.raises(ValueError, match=needle):
        Router(model_list=model_list)


def test_invalid_strategy_and_unsupported_features():
    with pytest.raises(ValueError, match="routing_strategy"):
        Router(model_list=[], routing_strategy="fastest")
    with pytest.raises(ValueError, match="priority scheduler"):
        Router(model_list=[], polling_interval=0.1)


def test_ignore_invalid_deployments(servers):
    a, _, _ = servers
    r = Router(model_list=[dep("g", a), {"model_name": "broken"}], ignore_invalid_deployments=True)
    assert r.model_names == ["g"]
    assert text(r.completion(model="g", messages=HI)) == "from A"


def test_unknown_group(servers):
    a, _, _ = servers
    r = Router(model_list=[dep("g", a)])
    with pytest.raises(litellm.BadRequestError, match="There is no 'model_name' with this string"):
        r.completion(model="nope", messages=HI)


# -- calls -----------------------------------------------------------------------------


def test_completion_hidden_params_and_kwargs(servers):
    a, _, _ = servers
    r = Router(model_list=[dep("g", a, "A", temperature=0.1)])
    resp = r.completion(model="g", messages=HI, temperature=0.7, user="u1")
    assert text(resp) == "from A"
    body = a.last_request.body
    assert body["model"] == "m" and body["temperature"] == 0.7 and body["user"] == "u1"
    hidden = resp._hidden_params
    assert hidden["model_id"] == "A"
    headers = hidden["additional_headers"]
    assert headers["x-litellm-model-group"] == "g"
    assert headers["x-litellm-attempted-retries"] == 0
    assert headers["x-litellm-attempted-fallbacks"] == 0


async def test_acompletion_and_embeddings(servers):
    a, _, _ = servers
    r = Router(model_list=[dep("g", a), dep("emb", a)])
    assert text(await r.acompletion(model="g", messages=HI)) == "from A"
    emb = r.embedding(model="emb", input=["x", "y"])
    assert len(emb.data) == 2
    emb = await r.aembedding(model="emb", input="x")
    assert len(emb.data) == 1
    assert a.last_request.path == "/v1/embeddings"


def test_deployment_mock_response_makes_no_request(servers):
    a, _, _ = servers
    r = Router(model_list=[dep("g", a, mock_response="mocked!")])
    assert text(r.completion(model="g", messages=HI)) == "mocked!"
    assert a.requests == []


# -- strategies ------------------------------------------------------------------------


def test_simple_shuffle_weights(servers):
    a, b, _ = servers
    r = Router(model_list=[dep("g", a, weight=9), dep("g", b, weight=1)])
    counts = Counter(text(r.completion(model="g", messages=HI)) for _ in range(200))
    assert counts["from A"] > 150 and counts["from B"] > 0


async def test_least_busy_spreads_concurrent_calls(servers):
    a, b, _ = servers
    a.latency = b.latency = 0.2
    try:
        r = Router(model_list=[dep("g", a), dep("g", b)], routing_strategy="least-busy")
        replies = await asyncio.gather(*[r.acompletion(model="g", messages=HI) for _ in range(10)])
        assert Counter(text(x) for x in replies) == {"from A": 5, "from B": 5}
    finally:
        a.latency = b.latency = 0.0


def test_latency_based_prefers_the_faster_deployment(servers):
    a, b, _ = servers
    a.latency = 0.15
    try:
        r = Router(model_list=[dep("g", a), dep("g", b)], routing_strategy="latency-based-routing")
        for _ in range(2):  # each deployment is tried once (no data counts as fastest)
            r.completion(model="g", messages=HI)
        later = Counter(text(r.completion(model="g", messages=HI)) for _ in range(10))
        assert later == {"from B": 10}
    finally:
        a.latency = 0.0


def test_cost_based_routing_works_sync(servers):
    # LiteLLM's sync cost-based path refuses every call; ours routes to the cheapest.
    a, b, _ = servers
    r = Router(
        model_list=[
            dep("g", a, input_cost_per_token=0.002, output_cost_per_token=0.002),
            dep("g", b, input_cost_per_token=0.0001, output_cost_per_token=0.0002),
        ],
        routing_strategy="cost-based-routing",
    )
    assert {text(r.completion(model="g", messages=HI)) for _ in range(5)} == {"from B"}


@pytest.mark.parametrize("strategy", ["usage-based-routing", "usage-based-routing-v2", "simple-shuffle"])
def test_rpm_admits_exactly_rpm(servers, strategy):
    a, b, _ = servers
    r = Router(model_list=[dep("g", a, rpm=2), dep("g", b, rpm=2)], routing_strategy=strategy)
    clear_of_minute_end()
    for _ in range(4):  # LiteLLM admits only rpm-1 (2 calls here)
        r.completion(model="g", messages=HI)
    with pytest.raises(litellm.RateLimitError, match="No deployments available for selected model"):
        r.completion(model="g", messages=HI)
    assert len(a.requests) == 2 and len(b.requests) == 2


def test_order_is_priority(servers):
    a, b, _ = servers
    r = Router(model_list=[dep("g", a, order=2), dep("g", b, order=1)], num_retries=1)
    assert {text(r.completion(model="g", messages=HI)) for _ in range(5)} == {"from B"}
    # The priority deployment failing and cooling down hands over to the next.
    r = Router(model_list=[dep("g", a, order=2), dep("g", b, order=1)], num_retries=1)
    b.fail_next(1, status=500)
    assert text(r.completion(model="g", messages=HI)) == "from A"
    assert text(r.completion(model="g", messages=HI)) == "from A"  # b is cooling down


def test_tag_filtering(servers):
    a, b, c = servers
    r = Router(
        model_list=[dep("g", a, tags=["paid"]), dep("g", b, tags=["free"]), dep("g", c, tags=["default"])],
        enable_tag_filtering=True,
    )
    assert text(r.completion(model="g", messages=HI, metadata={"tags": ["paid"]})) == "from A"
    assert text(r.completion(model="g", messages=HI, metadata={"tags": ["free"]})) == "from B"
    assert text(r.completion(model="g", messages=HI)) == "from C"
    r2 = Router(model_list=[dep("g", a, tags=["paid"])], enable_tag_filtering=True)
    with pytest.raises(ValueError, match="Not allowed to access model due to tags configuration"):
        r2.completion(model="g", messages=HI, metadata={"tags": ["free"]})


def test_pre_call_checks_context_window(servers):
    a, b, _ = servers
    r = Router(
        model_list=[
            dep("g", a, "small") | {"model_info": {"id": "small", "max_input_tokens": 5}},
            dep("g", b, "big") | {"model_info": {"id": "big", "max_input_tokens": 100_000}},
        ],
        enable_pre_call_checks=True,
    )
    long = [{"role": "user", "content": "word " * 50}]
    assert {text(r.completion(model="g", messages=long)) for _ in range(5)} == {"from B"}


# -- retries, cooldowns, fallbacks -----------------------------------------------------


def test_failure_retries_on_another_deployment_and_cools_down(servers):
    a, b, _ = servers
    r = Router(model_list=[dep("g", a, "A"), dep("g", b, "B")], routing_strategy="least-busy")
    a.fail_next(1, status=500)
    resp = r.completion(model="g", messages=HI)
    assert text(resp) == "from B"
    assert resp._hidden_params["additional_headers"]["x-litellm-attempted-retries"] == 1
    for _ in range(5):
        assert text(r.completion(model="g", messages=HI)) == "from B"
    assert len(a.requests) == 1
    stats = {s["id"]: s for s in r.deployment_stats()}
    assert stats["A"]["cooldown_remaining"] > 0 and stats["B"]["cooldown_remaining"] is None


def test_cooldown_time_and_disable_cooldowns(servers):
    a, b, _ = servers
    r = Router(model_list=[dep("g", a), dep("g", b)], routing_strategy="least-busy", cooldown_time=0.3)
    a.fail_next(1, status=500)
    r.completion(model="g", messages=HI)
    time.sleep(0.4)
    assert text(r.completion(model="g", messages=HI)) == "from A"

    r = Router(model_list=[dep("g", a), dep("g", b)], routing_strategy="least-busy", disable_cooldowns=True)
    a.reset()
    a.fail_next(1, status=500)
    r.completion(model="g", messages=HI)
    assert text(r.completion(model="g", messages=HI)) == "from A"


def test_final_error_names_group_and_retries(servers):
    a, _, _ = servers
    r = Router(model_list=[dep("g", a, model="openai/error-500")], num_retries=1, retry_after=0)
    with pytest.raises(litellm.InternalServerError) as info:
        r.completion(model="g", messages=HI)
    msg = str(info.value)
    assert "Received Model Group=g\nAvailable Model Group Fallbacks=None" in msg
    # The true count: 2 requests = 1 retry (LiteLLM would say "Retried: 0 times").
    assert msg.endswith(" LiteLLM Retried: 1 times, LiteLLM Max Retries: 1")
    assert len(a.requests) == 2


def test_no_retry_on_not_found(servers):
    a, _, _ = servers
    r = Router(model_list=[dep("g", a, model="openai/error-404")], num_retries=3)
    with pytest.raises(litellm.NotFoundError):
        r.completion(model="g", messages=HI)
    assert len(a.requests) == 1


def test_retry_policy(servers):
    a, _b, _ = servers
    r = Router(
        model_list=[dep("g", a, model="openai/error-429")],
        num_retries=3,
        retry_policy=litellm.RetryPolicy(RateLimitErrorRetries=0),
    )
    with pytest.raises(litellm.RateLimitError):
        r.completion(model="g", messages=HI)
    assert len(a.requests) == 1


def test_fallbacks_in_order(servers):
    a, b, c = servers
    r = Router(
        model_list=[dep("a", a, model="openai/error-500"), dep("b", b, model="openai/error-502"), dep("c", c)],
        fallbacks=[{"a": ["b", "c"]}],
        num_retries=0,
    )
    resp = r.completion(model="a", messages=HI)
    assert text(resp) == "from C"
    headers = resp._hidden_params["additional_headers"]
    assert headers["x-litellm-model-group"] == "c" and headers["x-litellm-attempted-fallbacks"] == 2


def test_failed_fallback_in_the_final_error(servers):
    a, b, _ = servers
    r = Router(
        model_list=[dep("a", a, model="openai/error-500"), dep("b", b, model="openai/error-503")],
        fallbacks=[{"a": ["b"]}],
        num_retries=0,
    )
    with pytest.raises(litellm.InternalServerError) as info:
        r.completion(model="a", messages=HI)
    msg = str(info.value)
    assert "Available Model Group Fallbacks=['b']" in msg
    assert "Error doing the fallback: litellm.ServiceUnavailableError" in msg


def test_default_and_per_call_fallbacks(servers):
    a, b, c = servers
    r = Router(
        model_list=[dep("a", a, model="openai/error-500"), dep("b", b), dep("c", c)],
        default_fallbacks=["b"],
        num_retries=0,
    )
    assert text(r.completion(model="a", messages=HI)) == "from B"
    assert text(r.completion(model="a", messages=HI, fallbacks=["c"])) == "from C"
    with pytest.raises(litellm.InternalServerError):
        r.completion(model="a", messages=HI, disable_fallbacks=True)


def test_context_window_and_content_policy_fallbacks(servers):
    a, b, c = servers
    r = Router(
        model_list=[
            dep("small", a, model="openai/context-window-error"),
            dep("strict", a, model="openai/content-policy-error"),
            dep("big", b),
            dep("lenient", c),
        ],
        context_window_fallbacks=[{"small": ["big"]}],
        content_policy_fallbacks=[{"strict": ["lenient"]}],
        num_retries=3,
    )
    assert text(r.completion(model="small", messages=HI)) == "from B"
    assert text(r.completion(model="strict", messages=HI)) == "from C"
    # Neither error is retried when its own fallback exists.
    assert len(a.requests) == 2


def test_mock_testing_fallbacks(servers):
    a, b, _ = servers
    r = Router(model_list=[dep("a", a), dep("b", b)], fallbacks=[{"a": ["b"]}])
    assert text(r.completion(model="a", messages=HI, mock_testing_fallbacks=True)) == "from B"
    assert a.requests == []


def test_all_deployments_cooling_down(servers):
    a, b, _ = servers
    r = Router(model_list=[dep("g", a, "A"), dep("g", b, "B")], num_retries=1, routing_strategy="least-busy")
    a.fail_next(1, status=500)
    b.fail_next(1, status=500)
    with pytest.raises(litellm.InternalServerError):
        r.completion(model="g", messages=HI)
    with pytest.raises(litellm.RouterRateLimitError) as info:
        r.completion(model="g", messages=HI)
    assert isinstance(info.value, ValueError)
    assert "No deployments available for selected model" in str(info.value)


def test_timeouts_per_deployment_are_retried_elsewhere(servers):
    a, b, _ = servers
    r = Router(
        model_list=[dep("g", a, model="openai/slow-2000", timeout=0.2), dep("g", b)], routing_strategy="least-busy"
    )
    assert text(r.completion(model="g", messages=HI)) == "from B"


async def test_max_parallel_requests_waits(servers):
    a, _, _ = servers
    a.latency = 0.2
    try:
        r = Router(model_list=[dep("g", a, max_parallel_requests=1)])
        started = time.monotonic()
        await asyncio.gather(*[r.acompletion(model="g", messages=HI) for _ in range(3)])
        assert time.monotonic() - started >= 0.6
    finally:
        a.latency = 0.0


# -- streaming -------------------------------------------------------------------------


def test_streaming_through_the_router_with_retry_before_first_chunk(servers):
    a, b, _ = servers
    r = Router(model_list=[dep("g", a), dep("g", b)], routing_strategy="least-busy")
    a.fail_next(1, status=503)
    stream = r.completion(model="g", messages=HI, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "from B"
    assert b.last_request.body["stream"] is True


async def test_async_streaming_through_the_router(servers):
    a, _, _ = servers
    r = Router(model_list=[dep("g", a)])
    stream = await r.acompletion(model="g", messages=HI, stream=True)
    chunks = [c async for c in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "from A"
    assert r.deployment_stats()[0]["in_flight"] == 0


def test_logging_is_silent_unless_asked(servers, caplog):
    a, _, _ = servers
    r = Router(model_list=[dep("g", a)])
    with caplog.at_level("INFO", logger="LiteLLM Router"):
        r.completion(model="g", messages=HI)
    assert caplog.records == []
    b = servers[1]
    r = Router(model_list=[dep("g", a, "A"), dep("g", b, "B")], set_verbose=True, routing_strategy="least-busy")
    a.fail_next(1, status=500)
    with caplog.at_level("INFO", logger="LiteLLM Router"):
        r.completion(model="g", messages=HI)
    lines = [rec.getMessage() for rec in caplog.records]
    assert any("200 OK" in line for line in lines)
    assert any("routing group g to deployment A" in line for line in lines)
    assert any("cooling down deployment A" in line for line in lines)
    assert any("Retrying request with num_retries: 1" in line for line in lines)
    assert any("routing group g to deployment B" in line for line in lines)
