"""The anthropic SDK's ``client.messages`` against ``rustllm proxy`` in front of MockServer,
as Claude-style coding tools call it (``ANTHROPIC_BASE_URL`` at the proxy, the key as
``x-api-key``): ``POST /v1/messages`` plain and streamed, to an Anthropic deployment
(passed through) and an OpenAI one (translated over chat), a tool-use round trip,
Anthropic-shaped errors, and the same auth, limits, spend and metrics as chat.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
from _proxy import ProxyProcess, mock_deployment

anthropic = pytest.importorskip("anthropic")

MASTER = "sk-1234"
AUTH = {"Authorization": f"Bearer {MASTER}"}
HI = [{"role": "user", "content": "Capital of France?"}]
WEATHER = [
    {
        "name": "get_weather",
        "description": "The weather in a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


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
        + "  - model_name: bedrock-claude\n"
        + "    litellm_params:\n"
        + "      model: bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0\n"
        + f"      api_base: {server.url}\n"
        + "      aws_access_key_id: AKIDTEST\n"
        + "      aws_secret_access_key: upstream-secret\n"
        + "      aws_region_name: eu-west-1\n"
        + "router_settings:\n  num_retries: 0\n"
        + f"general_settings:\n  master_key: {MASTER}\n  database_url: sqlite:///{db}\n  proxy_batch_write_at: 0.2\n"
    )
    with ProxyProcess(config) as p:
        yield p


@pytest.fixture
def client(proxy, server):
    # The anthropic SDK sends its key as `x-api-key`.
    return anthropic.Anthropic(api_key=MASTER, base_url=proxy.url, max_retries=0, timeout=30)


def until(what, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_anthropic_deployment_gets_the_body_as_it_is(client, server):
    server.respond(text="Paris.")
    raw = client.messages.with_raw_response.create(
        model="claude", messages=HI, max_tokens=16, system="Be brief.", extra_body={"top_k": 3}
    )
    m = raw.parse()
    assert m.type == "message" and m.role == "assistant"
    assert m.content[0].type == "text" and m.content[0].text == "Paris."
    assert m.stop_reason == "end_turn"
    assert m.usage.output_tokens == 1
    assert raw.headers["x-litellm-model-id"] == "claude-1"
    assert float(raw.headers["x-litellm-response-cost"]) > 0
    sent = server.last_request
    assert sent.path == "/v1/messages"
    # The deployment's key goes upstream, never the client's.
    assert sent.headers["x-api-key"] == "sk-ant-upstream"
    assert sent.body == {
        "model": "claude-3-5-haiku-20241022",
        "messages": HI,
        "max_tokens": 16,
        "system": "Be brief.",
        "top_k": 3,
    }


def test_the_anthropic_beta_header_reaches_the_deployment(client, server):
    client.messages.create(
        model="claude",
        messages=HI,
        max_tokens=16,
        extra_headers={"anthropic-beta": "context-1m-2025-08-07,fine-grained-tool-streaming-2025-05-14"},
    )
    sent = server.last_request
    assert sent.headers["anthropic-beta"] == "context-1m-2025-08-07,fine-grained-tool-streaming-2025-05-14"
    # Without one, none is sent.
    client.messages.create(model="claude", messages=HI, max_tokens=16)
    assert "anthropic-beta" not in server.last_request.headers
    # Bedrock reads the betas from the body (InvokeModel's `anthropic_beta` list).
    client.messages.create(
        model="bedrock-claude",
        messages=HI,
        max_tokens=16,
        extra_headers={"anthropic-beta": "context-1m-2025-08-07, fine-grained-tool-streaming-2025-05-14"},
    )
    sent = server.last_request
    assert sent.path.endswith("/invoke")
    assert sent.body["anthropic_beta"] == ["context-1m-2025-08-07", "fine-grained-tool-streaming-2025-05-14"]
    client.messages.create(model="bedrock-claude", messages=HI, max_tokens=16)
    assert "anthropic_beta" not in server.last_request.body


def test_openai_deployment_is_translated(client, server):
    server.respond(text="Bonjour")
    m = client.messages.create(model="gpt", messages=HI, max_tokens=16, system="Be brief.")
    assert m.content[0].text == "Bonjour"
    assert m.stop_reason == "end_turn" and m.id.startswith("msg_")
    assert m.usage.input_tokens > 0 and m.usage.output_tokens == 1
    sent = server.last_request
    assert sent.path.endswith("/chat/completions")
    assert sent.body["messages"] == [{"role": "system", "content": "Be brief."}, *HI]
    assert sent.body["max_tokens"] == 16


def test_bearer_auth_works_too(proxy, server):
    server.respond(text="ok")
    r = httpx.post(
        f"{proxy.url}/v1/messages",
        json={"model": "gpt", "messages": HI, "max_tokens": 5},
        headers=AUTH,
        timeout=10,
    )
    assert r.status_code == 200, r.text
    assert r.json()["content"] == [{"type": "text", "text": "ok"}]


@pytest.mark.parametrize("model", ["claude", "gpt", "bedrock-claude"])
def test_streams_are_anthropic_events(client, server, model):
    server.respond(text="one two three", stream_chunks=3)
    with client.messages.stream(model=model, messages=HI, max_tokens=16) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "one two three"
    assert final.content[0].text == "one two three"
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 3
    if model == "bedrock-claude":
        # Bedrock's InvokeModel asks for a stream by its path.
        assert server.last_request.path.endswith("/invoke-with-response-stream")
    else:
        assert server.last_request.body["stream"] is True


def test_raw_stream_is_named_events_with_no_done(proxy, server):
    server.respond(text="hi there", stream_chunks=2)
    with httpx.stream(
        "POST",
        f"{proxy.url}/v1/messages",
        json={"model": "gpt", "messages": HI, "max_tokens": 5, "stream": True},
        headers={"x-api-key": MASTER},
        timeout=10,
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        body = r.read().decode()
    names = [line.split(": ", 1)[1] for line in body.splitlines() if line.startswith("event: ")]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert "[DONE]" not in body


@pytest.mark.parametrize("model", ["claude", "gpt"])
def test_a_stream_cut_upstream_ends_with_an_anthropic_error_event(proxy, client, server, model):
    server.respond(text="one two three four five", stream_chunks=5, break_after=3)
    with httpx.stream(
        "POST",
        f"{proxy.url}/v1/messages",
        json={"model": model, "messages": HI, "max_tokens": 5, "stream": True},
        headers={"x-api-key": MASTER},
        timeout=10,
    ) as r:
        body = r.read().decode()
    events = [e for e in body.split("\n\n") if e.strip()]
    name, data = events[-1].split("\n", 1)
    assert name == "event: error"
    payload = json.loads(data.removeprefix("data: "))
    assert payload["type"] == "error" and payload["error"]["type"] == "api_error"
    assert "message_stop" not in body and "[DONE]" not in body
    # The anthropic SDK raises it rather than ending quietly.
    server.respond(text="one two three four five", stream_chunks=5, break_after=3)
    with pytest.raises(anthropic.APIError), client.messages.stream(model=model, messages=HI, max_tokens=5) as s:
        s.get_final_message()


def test_a_tool_use_round_trip(client, server):
    first = client.messages.create(
        model="gpt",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=WEATHER,
        tool_choice={"type": "tool", "name": "get_weather"},
        max_tokens=64,
    )
    assert first.stop_reason == "tool_use"
    use = next(b for b in first.content if b.type == "tool_use")
    assert use.name == "get_weather" and isinstance(use.input, dict)
    server.respond(text="Sunny in Paris.")
    second = client.messages.create(
        model="gpt",
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [b.model_dump() for b in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny"}]},
        ],
        tools=WEATHER,
        max_tokens=64,
    )
    assert second.content[0].text == "Sunny in Paris."
    sent = server.last_request.body["messages"]
    assert sent[1]["tool_calls"][0]["id"] == use.id
    assert sent[2] == {"role": "tool", "tool_call_id": use.id, "content": "sunny"}


def test_errors_are_in_anthropic_shape(proxy, client, server):
    bad = anthropic.Anthropic(api_key="sk-wrong", base_url=proxy.url, max_retries=0, timeout=10)
    with pytest.raises(anthropic.AuthenticationError) as e:
        bad.messages.create(model="gpt", messages=HI, max_tokens=5)
    assert e.value.body["type"] == "error"
    assert e.value.body["error"]["type"] == "authentication_error"
    # Bad input: refused before any provider call.
    before = server.request_count
    with pytest.raises(anthropic.BadRequestError) as e:
        client.messages.create(model="gpt", messages=[{"role": "system", "content": "x"}], max_tokens=5)
    assert e.value.body["error"]["type"] == "invalid_request_error"
    assert "system prompt goes in system=" in e.value.body["error"]["message"]
    assert server.request_count == before
    # A provider's rate limit keeps its status.
    server.respond(status=429, error="slow down")
    with pytest.raises(anthropic.RateLimitError) as e:
        client.messages.create(model="gpt", messages=HI, max_tokens=5)
    assert e.value.body["error"]["type"] == "rate_limit_error"
    r = httpx.post(f"{proxy.url}/v1/messages", json={"model": "nope", "messages": HI, "max_tokens": 5}, headers=AUTH)
    assert r.status_code >= 400 and r.json()["type"] == "error"


def test_a_virtual_key_as_x_api_key_is_limited_to_its_models(proxy, server):
    r = httpx.post(f"{proxy.url}/key/generate", json={"models": ["claude"]}, headers=AUTH, timeout=10)
    key = r.json()["key"]
    c = anthropic.Anthropic(api_key=key, base_url=proxy.url, max_retries=0, timeout=10)
    server.respond(text="allowed")
    assert c.messages.create(model="claude", messages=HI, max_tokens=5).content[0].text == "allowed"
    with pytest.raises(anthropic.APIStatusError) as e:
        c.messages.create(model="gpt", messages=HI, max_tokens=5)
    assert e.value.status_code in (401, 403)
    assert e.value.body["type"] == "error"


def test_spend_logs_and_metrics_count_messages(client, proxy, server):
    client.messages.create(model="gpt", messages=HI, max_tokens=5, metadata={"user_id": "end-user-9"})
    server.respond(text="stream me please", stream_chunks=2)
    with client.messages.stream(model="claude", messages=HI, max_tokens=5, metadata={"user_id": "end-user-9"}) as s:
        s.get_final_message()

    def rows():
        r = httpx.get(f"{proxy.url}/spend/logs", headers=AUTH, timeout=10)
        assert r.status_code == 200, r.text
        mine = [row for row in r.json() if row.get("end_user") == "end-user-9"]
        return mine if len(mine) == 2 else None

    logs = until(rows)
    assert {row["model_group"] for row in logs} == {"gpt", "claude"}
    assert {row["call_type"] for row in logs} == {"anthropic_messages"}
    assert all(row["spend"] > 0 and row["total_tokens"] > 0 for row in logs), logs
    text = until(
        lambda: (
            (t := httpx.get(f"{proxy.url}/metrics", headers=AUTH, timeout=10).text)
            and 'requested_model="claude"' in t
            and t
        )
    )
    assert "litellm_proxy_total_requests_metric_total{" in text


def test_count_tokens_is_answered_by_the_proxy_without_a_provider_call(proxy, client, server):
    """``client.messages.count_tokens`` (Claude Code asks before it sends): counted with
    rustllm's tokenizer for any deployment, never reaching the provider; more text and
    tools count more; bad input and unknown models answer in Anthropic's error shape."""
    before = len(server.requests)
    short = client.messages.count_tokens(model="gpt", messages=HI)
    longer = client.messages.count_tokens(
        model="gpt", messages=HI, system="Answer in one word, in French, with no punctuation at all."
    )
    with_tools = client.messages.count_tokens(
        model="gpt", messages=HI, system="Answer in one word, in French, with no punctuation at all.", tools=WEATHER
    )
    claude = client.messages.count_tokens(model="claude", messages=HI)
    assert 0 < short.input_tokens < longer.input_tokens < with_tools.input_tokens
    assert claude.input_tokens > 0
    assert len(server.requests) == before
    with pytest.raises(anthropic.NotFoundError) as e:
        client.messages.count_tokens(model="no-such-model", messages=HI)
    assert e.value.body["type"] == "error"
    with pytest.raises(anthropic.BadRequestError) as e:
        client.messages.count_tokens(model="gpt", messages="not a list")  # type: ignore[arg-type]
    assert e.value.body["error"]["type"] == "invalid_request_error"
    # A virtual key counts only for the models it may call.
    r = httpx.post(f"{proxy.url}/key/generate", json={"models": ["claude"]}, headers=AUTH, timeout=10)
    c = anthropic.Anthropic(api_key=r.json()["key"], base_url=proxy.url, max_retries=0, timeout=10)
    assert c.messages.count_tokens(model="claude", messages=HI).input_tokens == claude.input_tokens
    with pytest.raises(anthropic.APIStatusError) as e:
        c.messages.count_tokens(model="gpt", messages=HI)
    assert e.value.status_code in (401, 403)
