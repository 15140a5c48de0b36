"""The openai SDK's ``client.responses`` against ``rustllm proxy`` in front of MockServer:
``POST /v1/responses`` (plain and ``stream=True``) on an OpenAI deployment (sent as it
is) and on an Anthropic one (bridged over chat), ``GET``/``DELETE /v1/responses/{id}``,
and the same auth, limits, spend and metrics as chat.
"""

from __future__ import annotations

import time

import httpx
import pytest
from _proxy import ProxyProcess, mock_deployment

openai = pytest.importorskip("openai")

MASTER = "sk-1234"
AUTH = {"Authorization": f"Bearer {MASTER}"}


@pytest.fixture(scope="module")
def proxy(_module_server, tmp_path_factory):
    server = _module_server
    db = tmp_path_factory.mktemp("spend") / "spend.db"
    config = (
        "model_list:\n"
        + mock_deployment("gpt", server, model="openai/gpt-4o")
        + "    model_info: {id: gpt-1}\n"
        + "  - model_name: claude\n"
        + "    litellm_params:\n"
        + "      model: anthropic/claude-3-5-haiku-20241022\n"
        + f"      api_base: {server.url}\n"
        + "      api_key: sk-ant-upstream\n"
        + "    model_info: {id: claude-1}\n"
        + "router_settings:\n  num_retries: 0\n"
        + f"general_settings:\n  master_key: {MASTER}\n  database_url: sqlite:///{db}\n  proxy_batch_write_at: 0.2\n"
    )
    with ProxyProcess(config) as p:
        yield p


@pytest.fixture
def client(proxy, server):
    return openai.OpenAI(api_key=MASTER, base_url=proxy.url, max_retries=0, timeout=30)


def until(what, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_openai_deployment_gets_the_request_as_it_is(client, server):
    server.respond(text="Paris")
    raw = client.responses.with_raw_response.create(
        model="gpt", input="Capital of France?", instructions="Be brief.", max_output_tokens=16
    )
    r = raw.parse()
    assert r.output_text == "Paris"
    assert r.status == "completed"
    assert r.usage.input_tokens == 5 and r.usage.output_tokens == 1  # words: instructions + input
    assert raw.headers["x-litellm-model-id"] == "gpt-1"
    assert float(raw.headers["x-litellm-response-cost"]) > 0
    sent = server.last_request
    assert sent.path == "/v1/responses"
    assert sent.headers["authorization"] == "Bearer sk-upstream-secret"
    assert sent.body == {
        "model": "gpt-4o",
        "input": "Capital of France?",
        "instructions": "Be brief.",
        "max_output_tokens": 16,
    }


def test_anthropic_deployment_is_bridged(client, server):
    server.respond(text="Bonjour")
    r = client.responses.create(model="claude", input="Say hello in French", instructions="One word.")
    assert r.output_text == "Bonjour"
    assert r.id.startswith("resp_")
    sent = server.last_request
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == "sk-ant-upstream"
    assert sent.body["system"] == [{"type": "text", "text": "One word."}]
    # The bridged turn is kept in the proxy for previous_response_id.
    client.responses.create(model="claude", input="Again?", previous_response_id=r.id)
    roles = [m["role"] for m in server.last_request.body["messages"]]
    assert roles == ["user", "assistant", "user"]


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_streams_are_the_typed_events(client, server, model):
    server.respond(text="one two three")
    with client.responses.create(model=model, input="count", stream=True) as stream:
        events = list(stream)
    types = [e.type for e in events]
    assert types[0] == "response.created"
    assert types[-1] == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "one two three"
    final = events[-1].response
    assert final.output_text == "one two three"
    assert final.usage.output_tokens == 3


def test_a_tool_call_streams_its_arguments(client, server):
    tools = [
        {
            "type": "function",
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        }
    ]
    with client.responses.create(
        model="claude", input="Weather in 'Rome'?", tools=tools, tool_choice="required", stream=True
    ) as stream:
        events = list(stream)
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert done and '"Rome"' in done[0].arguments
    assert events[-1].response.output[0].type == "function_call"
    assert server.last_request.body["tool_choice"] == {"type": "any"}


def test_get_and_delete_go_to_the_deployment_that_stored_it(client, server):
    r = client.responses.create(model="gpt", input="hi")
    got = client.responses.retrieve(r.id)
    assert got.id == r.id and got.output_text == r.output_text
    sent = server.last_request
    assert (sent.method, sent.path) == ("GET", f"/v1/responses/{r.id}")
    assert sent.headers["authorization"] == "Bearer sk-upstream-secret"
    client.responses.delete(r.id)
    assert server.last_request.method == "DELETE"
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)
    # A bridged Response is answered by the proxy itself.
    b = client.responses.create(model="claude", input="hi")
    count = len(server.requests)
    assert client.responses.retrieve(b.id).output_text == b.output_text
    assert len(server.requests) == count


def test_a_key_cannot_read_delete_or_continue_another_keys_response(client, proxy, server):
    def new_key() -> openai.OpenAI:
        r = httpx.post(f"{proxy.url}/key/generate", json={"models": ["gpt", "claude"]}, headers=AUTH, timeout=10)
        assert r.status_code == 200, r.text
        return openai.OpenAI(api_key=r.json()["key"], base_url=proxy.url, max_retries=0)

    alice, bob = new_key(), new_key()
    made = [
        alice.responses.create(model="gpt", input="secret plan").id,  # stored at the provider
        alice.responses.create(model="claude", input="secret plan").id,  # stored by the proxy
    ]
    with alice.responses.create(model="claude", input="secret plan", stream=True) as stream:
        made.append(next(e for e in stream if e.type == "response.created").response.id)
    for rid in made:
        count = len(server.requests)
        with pytest.raises(openai.NotFoundError):
            bob.responses.retrieve(rid)
        with pytest.raises(openai.NotFoundError):
            bob.responses.delete(rid)
        with pytest.raises(openai.NotFoundError, match="Previous response"):
            bob.responses.create(model="claude", input="and then?", previous_response_id=rid)
        assert len(server.requests) == count, "nothing reached the provider for bob"
        # Its maker and the master key still read it.
        assert alice.responses.retrieve(rid).id == rid
        assert client.responses.retrieve(rid).id == rid
    follow = alice.responses.create(model="claude", input="and then?", previous_response_id=made[1])
    assert follow.status == "completed"


def test_errors_and_bad_input(client, server, proxy):
    bad = openai.OpenAI(api_key="sk-wrong", base_url=proxy.url, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.responses.create(model="gpt", input="hi")
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="no-such-group", input="hi")
    with pytest.raises(openai.BadRequestError, match="input"):
        client.responses.create(model="gpt", input=7)
    server.fail_next(1, status=429)
    with pytest.raises(openai.RateLimitError):
        client.responses.create(model="gpt", input="hi")
    # Mid-stream, the mapped error arrives as an error event: the SDK raises it.
    server.respond(break_after=3)
    with pytest.raises(openai.APIError), client.responses.create(model="gpt", input="hi", stream=True) as stream:
        list(stream)
    assert all(r.path != "/v1/responses" or r.body.get("input") != 7 for r in server.requests)


def test_key_limits_apply(proxy, server):
    r = httpx.post(f"{proxy.url}/key/generate", json={"rpm_limit": 1, "models": ["claude"]}, headers=AUTH, timeout=10)
    assert r.status_code == 200, r.text
    key = r.json()["key"]
    limited = openai.OpenAI(api_key=key, base_url=proxy.url, max_retries=0)
    assert limited.responses.create(model="claude", input="hi").status == "completed"
    with pytest.raises(openai.RateLimitError):
        limited.responses.create(model="claude", input="hi")
    with pytest.raises(openai.APIStatusError) as e:
        limited.responses.create(model="gpt", input="hi")
    assert e.value.status_code in (401, 403)


def test_spend_logs_and_metrics_count_responses(client, proxy, server):
    client.responses.create(model="gpt", input="spend me", user="end-user-7")
    with client.responses.create(model="claude", input="stream me", stream=True, user="end-user-7") as stream:
        list(stream)

    def rows():
        r = httpx.get(f"{proxy.url}/spend/logs", headers=AUTH, timeout=10)
        assert r.status_code == 200, r.text
        mine = [row for row in r.json() if row.get("end_user") == "end-user-7"]
        return mine if len(mine) == 2 else None

    logs = until(rows)
    assert {row["model_group"] for row in logs} == {"gpt", "claude"}
    assert all(row["spend"] > 0 and row["total_tokens"] > 0 for row in logs)
    assert {row["call_type"] for row in logs} == {"aresponses"}
    text = until(
        lambda: (
            (t := httpx.get(f"{proxy.url}/metrics", headers=AUTH, timeout=10).text)
            and 'model_group="claude"' in t
            and t
        )
    )
    assert "litellm_proxy_total_requests_metric_total{" in text
    assert 'requested_model="claude"' in text


def test_a_follow_up_goes_to_the_deployment_that_made_the_response():
    from rustllm.testing import MockServer

    with MockServer() as a, MockServer() as b:
        config = (
            "model_list:\n"
            + mock_deployment("g", a, model="openai/gpt-4o")
            + mock_deployment("g", b, model="openai/gpt-4o")
            + f"general_settings:\n  master_key: {MASTER}\n"
        )
        with ProxyProcess(config) as p:
            client = openai.OpenAI(api_key=MASTER, base_url=p.url, max_retries=0, timeout=30)
            for stream in (False, True):
                a.reset()
                b.reset()
                if stream:
                    with client.responses.create(model="g", input="hi", stream=True) as s:
                        first = list(s)[-1].response
                else:
                    first = client.responses.create(model="g", input="hi")
                maker, other = (a, b) if a.requests else (b, a)
                for _ in range(8):
                    client.responses.create(model="g", input="and?", previous_response_id=first.id)
                assert len(maker.requests) == 9 and other.requests == [], stream
                # GET asks the deployments in turn until one knows the id.
                assert client.responses.retrieve(first.id).id == first.id
