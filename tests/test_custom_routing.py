"""Router.set_custom_routing_strategy: the user's rule picks the deployment of every try
(sync rule for sync calls, async rule awaited on the caller's loop), while retries,
fallbacks and cooldowns still apply around it."""

from __future__ import annotations

import asyncio

import pytest

import rustllm as litellm
from rustllm import Router
from rustllm.testing import MockServer
from rustllm.types.router import CustomRoutingStrategyBase

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


def dep(group, server, id_, model="openai/m", **params):
    return {
        "model_name": group,
        "litellm_params": {"model": model, "api_base": server.base_url, "api_key": "k", **params},
        "model_info": {"id": id_},
    }


class PreferCheap(CustomRoutingStrategyBase):
    """The tutorial's rule: prefer models under $0.01 per 1k tokens."""

    def __init__(self, router):
        self.router = router
        self.asked = []

    def _pick(self, model):
        group = [d for d in self.router.get_model_list() if d["model_name"] == model]
        cheap = [d for d in group if d["litellm_params"].get("input_cost_per_token", 1) * 1000 < 0.01]
        return (cheap or group)[0]

    def get_available_deployment(
        self, model, messages=None, input=None, specific_deployment=False, request_kwargs=None
    ):
        self.asked.append(("sync", model, messages, input, specific_deployment, request_kwargs))
        return self._pick(model)

    async def async_get_available_deployment(
        self, model, messages=None, input=None, specific_deployment=False, request_kwargs=None
    ):
        self.asked.append(("async", model, messages, input, specific_deployment, request_kwargs))
        self.loop = asyncio.get_running_loop()
        await asyncio.sleep(0)
        return self._pick(model)


def test_tutorial_rule_prefers_the_cheap_model(servers):
    a, b, _ = servers
    router = Router(
        model_list=[
            dep("my-llm-test", a, "expensive", input_cost_per_token=0.00003, output_cost_per_token=0.00003),
            dep("my-llm-test", b, "cheap", input_cost_per_token=0.000005, output_cost_per_token=0.000005),
        ]
    )
    strategy = PreferCheap(router)
    router.set_custom_routing_strategy(strategy)
    for _ in range(3):
        resp = router.completion(model="my-llm-test", messages=HI, temperature=0.5)
        assert resp.choices[0].message.content == "from B"
        assert resp._hidden_params["model_id"] == "cheap"
    assert a.request_count == 0 and b.request_count == 3
    how, model, messages, input_, specific, request_kwargs = strategy.asked[0]
    assert (how, model, messages, input_, specific) == ("sync", "my-llm-test", HI, None, None)
    assert request_kwargs["temperature"] == 0.5
    # The strategy replaces the Router's own get_available_deployment, as in LiteLLM.
    assert router.get_available_deployment("my-llm-test")["model_info"]["id"] == "cheap"


def test_async_rule_runs_on_the_callers_loop(servers):
    a, b, _ = servers
    router = Router(
        model_list=[
            dep("g", a, "expensive", input_cost_per_token=0.00003),
            dep("g", b, "cheap", input_cost_per_token=0.000001),
            dep("emb", b, "emb-cheap", input_cost_per_token=0.000001),
        ]
    )
    strategy = PreferCheap(router)
    router.set_custom_routing_strategy(strategy)

    async def run():
        results = await asyncio.gather(*(router.acompletion(model="g", messages=HI) for _ in range(4)))
        stream = await router.acompletion(model="g", messages=HI, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream])
        emb = await router.aembedding(model="emb", input=["x"])
        return asyncio.get_running_loop(), results, text, emb

    loop, results, text, emb = asyncio.run(run())
    assert {r.choices[0].message.content for r in results} == {"from B"}
    assert text.strip() == "from B"
    assert emb._hidden_params["model_id"] == "emb-cheap"
    assert strategy.loop is loop
    assert {a[0] for a in strategy.asked} == {"async"}
    assert strategy.asked[-1][3] == ["x"]  # embeddings pass `input`
    assert a.request_count == 0


def test_a_failing_pick_is_retried_with_a_new_pick(servers):
    a, b, _ = servers

    class FirstBadThenGood(CustomRoutingStrategyBase):
        def __init__(self, router):
            self.router, self.picks = router, []

        def get_available_deployment(
            self, model, messages=None, input=None, specific_deployment=False, request_kwargs=None
        ):
            wanted = "bad" if not self.picks else "good"
            self.picks.append(wanted)
            return next(d for d in self.router.model_list if d["model_info"]["id"] == wanted)

    router = Router(model_list=[dep("g", a, "bad", model="openai/error-500"), dep("g", b, "good")], num_retries=2)
    strategy = FirstBadThenGood(router)
    router.set_custom_routing_strategy(strategy)
    resp = router.completion(model="g", messages=HI)
    assert resp.choices[0].message.content == "from B"
    assert strategy.picks == ["bad", "good"]
    assert a.request_count == 1 and b.request_count == 1
    assert resp._hidden_params["additional_headers"]["x-litellm-attempted-retries"] == 1


def test_fallbacks_ask_the_rule_for_the_fallback_group(servers):
    a, _, c = servers
    asked = []

    class ByGroup(CustomRoutingStrategyBase):
        async def async_get_available_deployment(self, model, messages=None, **kw):
            asked.append(model)
            return router.get_model_list(model)[0]

    router = Router(
        model_list=[dep("g", a, "broken", model="openai/error-503"), dep("backup", c, "spare")],
        num_retries=1,
        retry_after=0,
        fallbacks=[{"g": ["backup"]}],
    )
    router.set_custom_routing_strategy(ByGroup())
    resp = asyncio.run(router.acompletion(model="g", messages=HI))
    assert resp.choices[0].message.content == "from C"
    assert asked == ["g", "g", "backup"]  # the try, its retry, then the fallback group
    assert a.request_count == 2 and c.request_count == 1
    assert resp._hidden_params["additional_headers"]["x-litellm-attempted-fallbacks"] == 1


def test_a_cooling_pick_is_not_called(servers):
    a, b, c = servers

    class AlwaysFirst(CustomRoutingStrategyBase):
        def get_available_deployment(self, model, messages=None, **kw):
            return router.get_model_list(model)[0]

    router = Router(
        model_list=[dep("g", a, "flaky", model="openai/error-500"), dep("g", b, "ok"), dep("backup", c, "spare")],
        num_retries=0,
        fallbacks=[{"g": ["backup"]}],
    )
    router.set_custom_routing_strategy(AlwaysFirst())
    assert router.completion(model="g", messages=HI).choices[0].message.content == "from C"
    # "flaky" is cooling down now (a 500 in a group of two): the rule's pick is not
    # called again, and the fallback serves.
    assert router.completion(model="g", messages=HI).choices[0].message.content == "from C"
    assert a.request_count == 1


def test_strategy_errors(servers):
    a, _, _ = servers
    router = Router(model_list=[dep("g", a, "only")], num_retries=0)

    class Lost(CustomRoutingStrategyBase):
        def get_available_deployment(self, model, **kw):
            return {"model_name": "g", "litellm_params": {"model": "openai/elsewhere"}}

    router.set_custom_routing_strategy(Lost())
    with pytest.raises(ValueError, match="not in this Router's model_list"):
        router.completion(model="g", messages=HI)
    assert a.request_count == 0
    with pytest.raises(ValueError):
        router.set_custom_routing_strategy(CustomRoutingStrategyBase())


def test_without_a_strategy_nothing_changes(servers):
    a, _, _ = servers
    router = Router(model_list=[dep("g", a, "only")])
    assert router.completion(model="g", messages=HI).choices[0].message.content == "from A"
    assert litellm.Router is Router
