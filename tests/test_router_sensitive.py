"""Routing by sensitivity through the public API: a call tagged ``sensitive`` reaches only
deployments whose ``model_info.data_residency`` is allowed (here a MockServer standing for
a local Ollama/vLLM), never the third-party one (another MockServer), on retries,
fallbacks, cooldowns and ``order``, sync and async, in the Router and through a real proxy
process; when no allowed deployment is available the call fails with a BadRequestError
before anything is sent."""

from __future__ import annotations

import asyncio

import openai
import pytest
from _proxy import ProxyProcess, mock_deployment, run_proxy
from redis_server import RedisServer

import rustllm as litellm
from rustllm import Router
from rustllm.testing import MockServer

HI = [{"role": "user", "content": "my patient id is 12345"}]
SENSITIVE = {"tags": ["sensitive"]}


@pytest.fixture(scope="module")
def _servers():
    with MockServer(text="from local") as local, MockServer(text="from cloud") as cloud:
        yield local, cloud


@pytest.fixture
def servers(_servers):
    for s in _servers:
        s.reset()
        s.recording = True
    return _servers


def dep(group, server, id_, residency=None, **params):
    info = {"id": id_}
    if residency is not None:
        info["data_residency"] = residency
    return {
        "model_name": group,
        "litellm_params": {"model": f"openai/{id_}", "api_base": server.base_url, "api_key": "k", **params},
        "model_info": info,
    }


def text(resp):
    return resp.choices[0].message.content


def mixed(local, cloud, **kwargs):
    return Router(model_list=[dep("g", local, "llama", "local"), dep("g", cloud, "gpt")], **kwargs)


def assert_fails_closed(err, group):
    assert err.status_code == 400
    assert f"No deployment allowed for sensitive data is available for model group={group}" in err.message
    assert "data_residency is one of ['local']" in err.message


def test_sensitive_calls_reach_only_the_local_deployment(servers):
    local, cloud = servers
    r = mixed(local, cloud)
    for _ in range(15):
        resp = r.completion(model="g", messages=HI, metadata=SENSITIVE)
        assert text(resp) == "from local"
        assert resp._hidden_params["model_id"] == "llama"
    # Top-level tags (as a proxy body carries them) count as well.
    assert text(r.completion(model="g", messages=HI, tags=["sensitive"])) == "from local"
    assert r.embedding(model="g", input=["x"], metadata=SENSITIVE).data
    assert cloud.requests == []
    assert len(local.requests) == 17
    assert local.requests[0].body["messages"] == HI
    # Untagged calls use the whole group as before.
    for _ in range(40):
        r.completion(model="g", messages=HI, metadata={"tags": ["team-a"]})
    assert len(cloud.requests) > 0


async def test_async_and_streamed_sensitive_calls(servers):
    local, cloud = servers
    r = mixed(local, cloud)
    replies = await asyncio.gather(*[r.acompletion(model="g", messages=HI, metadata=SENSITIVE) for _ in range(10)])
    assert {text(x) for x in replies} == {"from local"}
    stream = await r.acompletion(model="g", messages=HI, metadata=SENSITIVE, stream=True)
    assert "".join([c.choices[0].delta.content or "" async for c in stream]) == "from local"
    stream = r.completion(model="g", messages=HI, metadata=SENSITIVE, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "from local"
    emb = await r.aembedding(model="g", input=["x"], metadata=SENSITIVE)
    assert emb.data
    assert cloud.requests == []
    assert len(local.requests) == 13


@pytest.mark.parametrize("tags", [{"tags": ["sensitive"]}, {"litellm_metadata": SENSITIVE}, {"metadata": SENSITIVE}])
async def test_responses_and_anthropic_messages_calls(servers, tags):
    local, cloud = servers
    r = mixed(local, cloud)
    for _ in range(4):
        r.responses(model="g", input="hi", **tags)
        await r.aresponses(model="g", input="hi", **tags)
        r.anthropic_messages(model="g", messages=HI, max_tokens=5, **tags)
    assert cloud.requests == []
    assert len(local.requests) == 12
    # The tags steer the routing; they are not sent to the model.
    assert all("tags" not in q.body and "metadata" not in q.body for q in local.requests)


@pytest.mark.parametrize("status", [500, 429])
def test_a_failing_local_deployment_is_not_replaced_by_the_cloud_one(servers, status):
    local, cloud = servers
    r = mixed(local, cloud, num_retries=3)
    local.respond(status=status, error="local is down", times=0)
    with pytest.raises(litellm.BadRequestError) as info:
        r.completion(model="g", messages=HI, metadata=SENSITIVE)
    assert_fails_closed(info.value, "g")
    assert "every allowed deployment is cooling down (cooldown_list=['llama'])" in info.value.message
    assert isinstance(info.value, openai.BadRequestError)
    assert len(local.requests) == 1 and cloud.requests == []
    # The local deployment cooling down: sensitive calls fail at once, untagged ones use
    # the cloud deployment.
    with pytest.raises(litellm.BadRequestError):
        r.completion(model="g", messages=HI, metadata=SENSITIVE)
    assert len(local.requests) == 1 and cloud.requests == []
    assert text(r.completion(model="g", messages=HI)) == "from cloud"


async def test_retries_go_to_another_local_deployment(servers):
    local, cloud = servers
    with MockServer(text="from local 2") as local2:
        r = Router(
            model_list=[
                dep("g", local, "llama", "local"),
                dep("g", local2, "qwen", "local"),
                dep("g", cloud, "gpt"),
            ],
            num_retries=2,
        )
        local.respond(status=500, times=0)
        for _ in range(4):
            resp = await r.acompletion(model="g", messages=HI, metadata=SENSITIVE)
            assert text(resp) == "from local 2"
        assert len(local.requests) <= 1 and len(local2.requests) == 4
    assert cloud.requests == []


def test_fallbacks_to_a_third_party_group_never_serve(servers):
    local, cloud = servers
    r = Router(
        model_list=[dep("private", local, "llama", "local"), dep("public", cloud, "gpt")],
        fallbacks=[{"private": ["public"]}],
        context_window_fallbacks=[{"private": ["public"]}],
        content_policy_fallbacks=[{"private": ["public"]}],
        num_retries=1,
    )
    local.respond(status=500, error="local is down", times=0)
    with pytest.raises(litellm.InternalServerError) as info:
        r.completion(model="private", messages=HI, metadata=SENSITIVE)
    assert "Error doing the fallback" in info.value.message
    assert "No deployment allowed for sensitive data is available for model group=public" in info.value.message
    assert len(local.requests) == 2 and cloud.requests == []
    # Context-window, content-policy and regular fallbacks (LiteLLM's mock flags fail the
    # first group without a request): public refuses each time.
    for flag, error in (
        ("mock_testing_context_fallbacks", litellm.ContextWindowExceededError),
        ("mock_testing_content_policy_fallbacks", litellm.ContentPolicyViolationError),
        ("mock_testing_fallbacks", litellm.InternalServerError),
    ):
        with pytest.raises(error) as info:
            r.completion(model="private", messages=HI, metadata=SENSITIVE, **{flag: True})
        assert "No deployment allowed for sensitive data is available for model group=public" in info.value.message
    assert len(local.requests) == 2 and cloud.requests == []
    # The same fallback serves an untagged call.
    resp = r.completion(model="private", messages=HI, mock_testing_fallbacks=True)
    assert text(resp) == "from cloud"


@pytest.mark.parametrize("key", ["api_base", "base_url"])
async def test_a_sensitive_call_cannot_name_its_own_endpoint(servers, key):
    local, cloud = servers
    r = mixed(local, cloud)
    with pytest.raises(litellm.BadRequestError, match=f"A call tagged as sensitive cannot set {key}"):
        r.completion(model="g", messages=HI, metadata=SENSITIVE, **{key: cloud.base_url})
    with pytest.raises(litellm.BadRequestError, match=f"cannot set {key}"):
        await r.acompletion(model="g", messages=HI, tags=["sensitive"], **{key: cloud.base_url})
    assert local.requests == [] and cloud.requests == []
    # Untagged, the call's own endpoint wins as before.
    assert text(r.completion(model="g", messages=HI, **{key: cloud.base_url})) == "from cloud"


def test_order_ranks_only_allowed_deployments(servers):
    local, cloud = servers
    r = Router(model_list=[dep("g", cloud, "gpt", order=1), dep("g", local, "llama", "local", order=2)])
    for _ in range(3):
        assert text(r.completion(model="g", messages=HI)) == "from cloud"
        assert text(r.completion(model="g", messages=HI, metadata=SENSITIVE)) == "from local"
    assert len(local.requests) == 3 and len(cloud.requests) == 3


def test_a_group_without_allowed_deployments_fails_before_any_request(servers):
    local, cloud = servers
    r = Router(model_list=[dep("public", cloud, "gpt", "us-east"), dep("*", cloud, "any")])
    for model in ("public", "gpt", "some-other-model"):
        with pytest.raises(litellm.BadRequestError) as info:
            r.completion(model=model, messages=HI, metadata=SENSITIVE)
        assert info.value.status_code == 400
    assert_fails_closed(info.value, "*")
    assert cloud.requests == [] and local.requests == []


def test_a_cooldown_another_router_set_in_redis_fails_sensitive_calls_closed(servers):
    local, cloud = servers
    model_list = [dep("g", local, "llama", "local", order=1), dep("g", cloud, "gpt", order=2)]
    with RedisServer() as redis:
        r1 = Router(model_list=model_list, redis_url=redis.url)
        r2 = Router(model_list=model_list, redis_url=redis.url)
        local.fail_next(1, status=500)
        # r1's untagged call: local fails and cools down (in Redis), gpt answers.
        assert text(r1.completion(model="g", messages=HI)) == "from cloud"
        assert redis.command("PTTL", "deployment:llama:cooldown") > 0
        with pytest.raises(litellm.BadRequestError) as info:
            r2.completion(model="g", messages=HI, metadata=SENSITIVE)
        assert "every allowed deployment is cooling down (cooldown_list=['llama'])" in info.value.message
    assert len(local.requests) == 1 and len(cloud.requests) == 1


def test_configured_tags_and_residencies(servers):
    local, cloud = servers
    r = Router(
        model_list=[dep("g", local, "llama", "eu"), dep("g", cloud, "gpt")],
        sensitive_tags=["phi"],
        sensitive_data_residency=["eu", "on-prem"],
    )
    for tags in (["phi"], ["sensitive"]):
        assert text(r.completion(model="g", messages=HI, metadata={"tags": tags})) == "from local"
    assert cloud.requests == []
    settings = r.get_settings()
    assert settings["sensitive_tags"] == ["sensitive", "phi"]
    assert settings["sensitive_data_residency"] == ["eu", "on-prem"]


async def test_get_available_deployment_for_a_sensitive_call(servers):
    local, cloud = servers
    r = mixed(local, cloud)
    for _ in range(10):
        assert r.get_available_deployment("g", metadata=SENSITIVE)["model_info"]["id"] == "llama"
        # LiteLLM's request_kwargs carry objects that are not JSON: only the tags are read.
        request_kwargs = {"metadata": {**SENSITIVE, "span": object()}, "client": object()}
        found = await r.async_get_available_deployment("g", request_kwargs=request_kwargs)
        assert found["model_info"]["id"] == "llama"
    only_cloud = Router(model_list=[dep("public", cloud, "gpt")])
    with pytest.raises(litellm.BadRequestError):
        only_cloud.get_available_deployment("public", messages=HI, metadata=SENSITIVE)
    assert only_cloud.get_available_deployment("public")["model_info"]["id"] == "gpt"


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"sensitive_tags": "sensitive"}, "sensitive_tags must be a list of strings, got str"),
        ({"sensitive_tags": ["ok", 3]}, "sensitive_tags[1] must be a non-empty string, got int"),
        ({"sensitive_data_residency": [""]}, "sensitive_data_residency[0] must be a non-empty string"),
    ],
)
def test_bad_settings_fail_at_construction(servers, kwargs, needle):
    local, _ = servers
    with pytest.raises(ValueError) as info:
        Router(model_list=[dep("g", local, "llama", "local")], **kwargs)
    assert needle in str(info.value)


@pytest.mark.parametrize("residency", [["local"], 1, True, ""])
def test_data_residency_must_be_a_string(servers, residency):
    local, _ = servers
    with pytest.raises(ValueError, match=r"model_list\[0\]: model_info.data_residency must be a non-empty string"):
        Router(model_list=[dep("g", local, "llama", residency)])


# -- through a real proxy process ------------------------------------------------------

MASTER = "sk-1234"


@pytest.fixture(scope="module")
def proxy(_servers):
    local, cloud = _servers
    config = (
        "model_list:\n"
        + mock_deployment("g", local, model="openai/llama")
        + "    model_info: {id: llama, data_residency: local}\n"
        + mock_deployment("g", cloud, model="openai/gpt")
        + "    model_info: {id: gpt}\n"
        + mock_deployment("public", cloud, model="openai/gpt-public")
        + "router_settings:\n  num_retries: 1\n  sensitive_tags: [phi]\n"
        + f"general_settings:\n  master_key: {MASTER}\n"
    )
    with ProxyProcess(config) as p:
        yield p


def test_proxy_routes_sensitive_requests_to_the_local_deployment(proxy, servers):
    local, cloud = servers
    client = openai.OpenAI(api_key=MASTER, base_url=proxy.url, max_retries=0, timeout=30)
    for extra in ({"metadata": {"tags": ["sensitive"]}}, {"tags": ["phi"]}, {"metadata": {"tags": ["x", "phi"]}}):
        for _ in range(5):
            raw = client.chat.completions.with_raw_response.create(model="g", messages=HI, extra_body=extra)
            assert raw.parse().choices[0].message.content == "from local"
            assert raw.headers["x-litellm-model-id"] == "llama"
    assert cloud.requests == []
    assert len(local.requests) == 15
    assert {r.body["model"] for r in local.requests} == {"llama"}

    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="public", messages=HI, extra_body={"metadata": {"tags": ["sensitive"]}})
    assert info.value.status_code == 400
    assert "No deployment allowed for sensitive data is available for model group=public" in str(info.value)
    assert cloud.requests == []

    # Untagged requests are balanced over the whole group as before.
    for _ in range(30):
        client.chat.completions.create(model="g", messages=HI)
    assert len(cloud.requests) > 0


@pytest.mark.parametrize(
    "bad,needle",
    [
        ("router_settings:\n  sensitive_tags: sensitive\n", "sensitive_tags must be a list of strings, got str"),
        ("router_settings:\n  sensitive_data_residency: [local, 7]\n", "sensitive_data_residency[1]"),
        ("", "model_list[0]: model_info.data_residency must be a non-empty string"),
    ],
)
def test_proxy_refuses_bad_settings_at_start(servers, bad, needle):
    local, _ = servers
    config = (
        "model_list:\n"
        + mock_deployment("g", local, model="openai/llama")
        + ("    model_info: {data_residency: [local]}\n" if not bad else "")
        + bad
        + f"general_settings:\n  master_key: {MASTER}\n"
    )
    out = run_proxy(config, "--host", "127.0.0.1", "--port", "0")
    assert out.returncode != 0
    assert needle in out.stderr, out.stderr
    assert local.requests == []


async def test_proxy_sensitive_requests_async_and_streamed(proxy, servers):
    local, cloud = servers
    client = openai.AsyncOpenAI(api_key=MASTER, base_url=proxy.url, max_retries=0, timeout=30)
    extra = {"metadata": {"tags": ["sensitive"]}}
    replies = await asyncio.gather(
        *[client.chat.completions.create(model="g", messages=HI, extra_body=extra) for _ in range(8)]
    )
    assert {r.choices[0].message.content for r in replies} == {"from local"}
    stream = await client.chat.completions.create(model="g", messages=HI, extra_body=extra, stream=True)
    assert "".join([c.choices[0].delta.content or "" async for c in stream if c.choices]) == "from local"
    emb = await client.embeddings.create(model="g", input=["x"], extra_body=extra)
    assert emb.data
    await client.close()
    assert cloud.requests == []
    assert len(local.requests) == 10


async def test_files_and_batches_go_only_to_an_allowed_deployment(servers):
    local, cloud = servers
    jsonl = b'{"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}}\n'
    r = Router(model_list=[dep("batcher", cloud, "gpt"), dep("batcher", local, "llama", "local")])
    file = await r.acreate_file(model="batcher", file=("in.jsonl", jsonl), purpose="batch", metadata=SENSITIVE)
    await r.acreate_batch(
        model="batcher",
        input_file_id=file.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        tags=["sensitive"],  # a batch's metadata is OpenAI's own (a dict of strings)
    )
    assert [q.path for q in local.requests] == ["/v1/files", "/v1/batches"]
    assert cloud.requests == []
    only_cloud = Router(model_list=[dep("batcher", cloud, "gpt")])
    with pytest.raises(litellm.BadRequestError, match="No deployment allowed for sensitive data is available"):
        await only_cloud.acreate_file(model="batcher", file=("in.jsonl", jsonl), purpose="batch", metadata=SENSITIVE)
    with pytest.raises(litellm.BadRequestError, match="cannot set api_base"):
        await r.acreate_file(
            model="batcher", file=("in.jsonl", jsonl), purpose="batch", tags=["sensitive"], api_base=cloud.base_url
        )
    assert cloud.requests == []
    # Untagged: the first OpenAI deployment of the group, as before.
    await r.acreate_file(model="batcher", file=("in.jsonl", jsonl), purpose="batch")
    assert [q.path for q in cloud.requests] == ["/v1/files"]
