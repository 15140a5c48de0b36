"""Guardrails on a real ``rustllm proxy`` process, driven with the openai SDK, in front of
MockServer: what an operator relies on is that a blocked request never reaches the
provider and gets LiteLLM's 400, that masked values are never on the wire and come back
in the reply (JSON and streams), that guardrails are picked by ``default_on``, by the
request and by the key or team, that unknown names and bad configs are refused, and that
metrics, spend rows, the request log, the audit log and the proxy's log say what was
decided without ever holding the value.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time

import httpx
import pytest
from _proxy import ProxyProcess, mock_deployment, run_proxy

openai = pytest.importorskip("openai")

MASTER = "sk-1234"
AUTH = {"Authorization": f"Bearer {MASTER}"}
EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"


def texts(value, key=None):
    """Every string in a JSON value, with the key it is under."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from texts(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from texts(v, key)


PROMPT = f"write to {EMAIL} about atlas; {EMAIL} is urgent"
MASKED = "write to <EMAIL_1> about atlas; <EMAIL_1> is urgent"

GUARDRAILS = """
guardrails:
  - guardrail_name: no-cards
    litellm_params:
      guardrail: rustllm
      mode: pre_call
      default_on: true
      detect: [credit_card]
      action: block
  - guardrail_name: mask-email
    litellm_params:
      guardrail: presidio
      mode: pre_call
      pii_entities_config: {EMAIL_ADDRESS: MASK}
      output_parse_pii: true
  - guardrail_name: code-words
    litellm_params:
      guardrail: rustllm
      mode: during_call
      words: {PROJECT: [atlas]}
      action: log
  - guardrail_name: no-leaks
    litellm_params:
      guardrail: rustllm
      mode: post_call
      detect: [credit_card]
      action: block
"""


@pytest.fixture(scope="module")
def setup(_module_server, tmp_path_factory):
    server = _module_server
    d = tmp_path_factory.mktemp("guardrails")
    db = d / "proxy.db"
    log = d / "requests.jsonl"
    config = (
        "model_list:\n"
        + mock_deployment("gpt-4o", server, model="openai/gpt-4o-mini")
        + mock_deployment("echo", server, model="openai/echo-chunks-7")
        + mock_deployment("embedder", server, model="openai/text-embedding-3-small")
        + mock_deployment("ranker", server, model="jina_ai/jina-reranker-v2-base-multilingual")
        + mock_deployment("whisper", server, model="openai/whisper-1")
        + mock_deployment("editor", server, model="openai/dall-e-2")
        + "router_settings:\n  num_retries: 0\n"
        + f"litellm_settings:\n  json_logs_file: {log}\n"
        + f"general_settings:\n  master_key: {MASTER}\n  database_url: sqlite:///{db}\n  proxy_batch_write_at: 0.2\n"
        + GUARDRAILS
    )
    with ProxyProcess(config) as p:
        yield p, db, log


@pytest.fixture
def proxy(setup):
    return setup[0]


@pytest.fixture
def client(proxy, server):
    return openai.OpenAI(api_key=MASTER, base_url=proxy.url, max_retries=0, timeout=30)


def say(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def wire(server) -> str:
    """Everything the provider was sent, as text."""
    return "\n".join(json.dumps(r.body) for r in server.requests)


def test_a_blocked_request_never_reaches_the_provider(client, server):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="gpt-4o", messages=say(f"my card is {CARD}"))
    assert e.value.status_code == 400
    assert e.value.body == {
        "message": "Blocked entity detected: CREDIT_CARD by Guardrail: no-cards. This entity is not allowed to be used in this request.",
        "type": "None",
        "param": "None",
        "code": "400",
    }
    assert len(e.value.response.headers["x-litellm-call-id"]) == 36
    # Streams, embeddings and the Responses API are refused before the call too.
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o", messages=say(f"card {CARD}"), stream=True)
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="embedder", input=[f"card {CARD}"])
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model="gpt-4o", input=f"card {CARD}")
    # So is a rerank whose documents hold one.
    r = httpx.post(
        f"{str(client.base_url).rstrip('/')}/rerank",
        json={"model": "ranker", "query": "which pays", "documents": ["cash", f"card {CARD}"]},
        headers=AUTH,
        timeout=20,
    )
    assert r.status_code == 400 and "CREDIT_CARD" in r.text, r.text
    assert server.requests == []


def test_rerank_query_and_documents_are_masked(client, server):
    r = httpx.post(
        f"{str(client.base_url).rstrip('/')}/rerank",
        json={
            "model": "ranker",
            "query": f"who wrote to {EMAIL}",
            "documents": [f"{EMAIL} asked", "nobody"],
            "guardrails": ["mask-email"],
        },
        headers=AUTH,
        timeout=20,
    )
    assert r.status_code == 200, r.text
    sent = server.last_request.body
    assert EMAIL not in json.dumps(sent)
    assert sent["query"] == "who wrote to <EMAIL_1>"
    assert sent["documents"] == ["<EMAIL_1> asked", "nobody"]


def test_masked_values_are_never_on_the_wire_and_come_back_restored(client, server):
    r = client.chat.completions.create(model="echo", messages=say(PROMPT), extra_body={"guardrails": ["mask-email"]})
    assert r.choices[0].message.content == PROMPT
    sent = server.last_request.body
    assert sent["messages"] == say(MASKED)
    assert "guardrails" not in sent
    # A stream: the echo comes back in 7 pieces, the placeholders split across them.
    stream = client.chat.completions.create(
        model="echo", messages=say(PROMPT), stream=True, extra_body={"metadata": {"guardrails": ["mask-email"]}}
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == PROMPT
    # A text completion, and embeddings (the provider embeds the masked text).
    t = client.completions.create(model="echo", prompt=PROMPT, extra_body={"guardrails": ["mask-email"]})
    assert t.choices[0].text == PROMPT
    client.embeddings.create(model="embedder", input=[PROMPT], extra_body={"guardrails": ["mask-email"]})
    assert server.last_request.body["input"] == [MASKED]
    assert EMAIL not in wire(server)


def test_unknown_guardrail_names_are_refused(client, server):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(
            model="gpt-4o", messages=say("hi"), extra_body={"guardrails": ["mask-email", "nope"]}
        )
    message = e.value.body["message"]
    assert "nope" in message and "no-cards, mask-email, code-words, no-leaks" in message
    assert e.value.body["param"] == "guardrails"
    assert server.requests == []


def test_post_call_guardrails_check_the_reply(client, server):
    server.respond(text=f"the card on file is {CARD}")
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="gpt-4o", messages=say("hi"), extra_body={"guardrails": ["no-leaks"]})
    assert "Guardrail: no-leaks" in e.value.body["message"]
    assert "1111 1111" not in json.dumps(e.value.body)
    server.respond(text="nothing to see")
    r = client.chat.completions.create(model="gpt-4o", messages=say("hi"), extra_body={"guardrails": ["no-leaks"]})
    assert r.choices[0].message.content == "nothing to see"


def test_upload_prompts_and_transcripts_are_guarded(client, server):
    """Multipart uploads are guarded like JSON requests: a transcription's and an image
    edit's `prompt` before the call, the transcript after it."""
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
    before = len(server.requests)
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.transcriptions.create(model="whisper", file=("a.wav", b"abc"), prompt=f"card {CARD}")
    assert "Guardrail: no-cards" in e.value.body["message"]
    with pytest.raises(openai.BadRequestError) as e:
        client.images.edit(model="editor", image=("a.png", png), prompt=f"print {CARD} on it")
    assert "Guardrail: no-cards" in e.value.body["message"]
    assert len(server.requests) == before, "nothing reached the provider"
    # Masked on the way out, restored in the transcript (the mock repeats the prompt).
    r = client.audio.transcriptions.create(
        model="whisper", file=("a.wav", b"abc"), prompt=f"for {EMAIL}", extra_body={"guardrails": ["mask-email"]}
    )
    assert server.last_request.body["prompt"] == "for <EMAIL_1>"
    assert r.text == f"MOCKTRANSCRIPT:a.wav:3::for {EMAIL}"
    client.images.edit(
        model="editor", image=("a.png", png), prompt=f"sign it {EMAIL}", extra_body={"guardrails": ["mask-email"]}
    )
    assert server.last_request.body["prompt"] == "sign it <EMAIL_1>"
    # After the call: the transcript is the model's reply (the mock repeats the file name).
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.transcriptions.create(
            model="whisper",
            file=(f"{CARD}.wav", b"abc"),
            response_format="verbose_json",
            extra_body={"guardrails": ["no-leaks"]},
        )
    assert "Guardrail: no-leaks" in e.value.body["message"]
    assert "1111 1111" not in json.dumps(e.value.body)


def test_a_batch_input_file_is_guarded_line_by_line(client, server):
    """Each line of a batch's input file is a request the provider runs later: guarded
    before the file leaves the proxy, a block refusing the upload, a mask rewriting the
    line, the other lines sent byte for byte."""

    def line(custom_id: str, text: str, **extra) -> str:
        body = {"model": "gpt-4o-mini", "messages": say(text), **extra}
        return json.dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body})

    before = len(server.requests)
    bad = f"{line('a', 'hello')}\n{line('b', f'card {CARD}')}\n"
    with pytest.raises(openai.BadRequestError) as e:
        client.files.create(file=("in.jsonl", bad.encode()), purpose="batch")
    assert e.value.body["message"].startswith('line 2 (custom_id "b"): ')
    assert "Guardrail: no-cards" in e.value.body["message"]
    assert "1111" not in json.dumps(e.value.body)
    tagged = f"{line('c', 'hi', tags=['sensitive'])}\n"
    with pytest.raises(openai.BadRequestError) as e:
        client.files.create(file=("in.jsonl", tagged.encode()), purpose="batch")
    assert "cannot be routed by sensitivity" in e.value.body["message"]
    assert len(server.requests) == before, "nothing reached the provider"

    plain = line("a", "hello  there")
    good = f"{plain}\n{line('b', f'mail {EMAIL}', guardrails=['mask-email'])}\n"
    client.files.create(file=("in.jsonl", good.encode()), purpose="batch")
    sent = server.last_request.body["file"]["content"]
    assert EMAIL not in sent
    first, second = sent.splitlines()
    assert first == plain
    assert json.loads(second)["body"]["messages"] == say("mail <EMAIL_1>")
    # A fine-tuning file is training text: every string of each example is guarded.
    example = json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": CARD}]})
    before = len(server.requests)
    with pytest.raises(openai.BadRequestError) as e:
        client.files.create(file=("train.jsonl", f"{example}\n".encode()), purpose="fine-tune")
    assert e.value.body["message"].startswith("line 1: Blocked entity detected: CREDIT_CARD")
    assert len(server.requests) == before
    # Another purpose is sent as it is.
    client.files.create(file=("notes.jsonl", bad.encode()), purpose="user_data")
    assert server.last_request.body["file"]["content"] == bad


def test_a_stream_blocked_after_the_call_says_so_in_its_spend_row(proxy, client, server):
    """A stream is judged at its end, after its spend row was begun: the post-call
    decision still reaches the row (which guardrail, which action, never the value)."""
    server.respond(text=f"the card on file is {CARD}", stream_chunks=3)
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=say("hi"), stream=True, extra_body={"guardrails": ["no-leaks"]}
    )
    call_id = raw.headers["x-litellm-call-id"]
    with pytest.raises(openai.APIError):
        for _ in raw.parse():
            pass
    deadline = time.monotonic() + 10
    while not (
        rows := httpx.get(f"{proxy.url}/spend/logs", params={"request_id": call_id}, headers=AUTH, timeout=20).json()
    ):
        assert time.monotonic() < deadline, "the spend row was not written"
        time.sleep(0.1)
    info = {g["guardrail_name"]: g for g in rows[0]["metadata"]["guardrail_information"]}
    assert info["no-leaks"]["guardrail_mode"] == "post_call"
    assert info["no-leaks"]["guardrail_action"] == "block"
    assert info["no-leaks"]["detected_entity_count"] == {"CREDIT_CARD": 1}
    assert rows[0]["status"] == "failure"
    # No text of the row holds any of the card's digits; its ids are random hex and may.
    ids = {"request_id", "api_key"}
    assert not [(k, v) for k, v in texts(rows[0]) if k not in ids and "1111" in v]


def test_key_and_team_guardrails_apply_to_their_requests(proxy, server):
    team = httpx.post(
        f"{proxy.url}/team/new",
        json={"team_alias": "care", "metadata": {"guardrails": ["mask-email"]}},
        headers=AUTH,
        timeout=20,
    )
    assert team.status_code == 200, team.text
    key = httpx.post(
        f"{proxy.url}/key/generate",
        json={"team_id": team.json()["team_id"], "guardrails": ["code-words"]},
        headers=AUTH,
        timeout=20,
    )
    assert key.status_code == 200, key.text
    info = httpx.get(f"{proxy.url}/key/info", params={"key": key.json()["key"]}, headers=AUTH, timeout=20)
    assert info.json()["info"]["metadata"]["guardrails"] == ["code-words"]
    client = openai.OpenAI(api_key=key.json()["key"], base_url=proxy.url, max_retries=0, timeout=30)
    deadline = time.monotonic() + 10
    while True:  # a new key is usable once the key cache has it
        try:
            r = client.chat.completions.create(model="echo", messages=say(PROMPT))
            break
        except openai.AuthenticationError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert server.last_request.body["messages"] == say(MASKED)
    assert r.choices[0].message.content == PROMPT
    # The master key's requests do not run the team's guardrail.
    master = openai.OpenAI(api_key=MASTER, base_url=proxy.url, max_retries=0, timeout=30)
    master.chat.completions.create(model="echo", messages=say(PROMPT))
    assert server.last_request.body["messages"] == say(PROMPT)


def test_decisions_are_counted_and_logged_without_values(setup, client, server):
    proxy, db, log = setup
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o", messages=say(f"card {CARD}"))
    raw = client.chat.completions.with_raw_response.create(
        model="echo", messages=say(PROMPT), extra_body={"guardrails": ["mask-email", "code-words"]}
    )
    call_id = raw.headers["x-litellm-call-id"]
    metrics = httpx.get(f"{proxy.url}/metrics", headers=AUTH, timeout=20).text
    assert 'litellm_guardrail_requests_total{guardrail_name="no-cards",status="error",hook_type="pre_call"}' in metrics
    assert (
        'rustllm_guardrail_decisions_total{guardrail_name="mask-email",action="mask",hook_type="pre_call"}' in metrics
    )
    assert (
        'rustllm_guardrail_decisions_total{guardrail_name="code-words",action="log",hook_type="during_call"}' in metrics
    )

    def spend_row():
        r = httpx.get(f"{proxy.url}/spend/logs", params={"request_id": call_id}, headers=AUTH, timeout=20)
        rows = r.json()
        return rows[0] if rows else None

    deadline = time.monotonic() + 10
    while (row := spend_row()) is None:
        assert time.monotonic() < deadline, "the spend row was not written"
        time.sleep(0.1)
    info = row["metadata"]["guardrail_information"]
    by_name = {g["guardrail_name"]: g for g in info}
    assert by_name["mask-email"]["guardrail_status"] == "guardrail_intervened"
    assert by_name["mask-email"]["masked_entity_count"] == {"EMAIL": 2}
    assert by_name["code-words"]["guardrail_action"] == "log"
    assert by_name["code-words"]["detected_entity_count"] == {"PROJECT": 1}
    assert by_name["no-cards"]["guardrail_status"] == "success"

    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    request_line = next(line for line in lines if line.get("call_id") == call_id)
    assert {g["guardrail_name"] for g in request_line["guardrails"]} == {"no-cards", "mask-email", "code-words"}
    audit = (
        sqlite3.connect(db)
        .execute("SELECT action, object_id, updated_values FROM \"LiteLLM_AuditLog\" WHERE table_name = 'guardrail'")
        .fetchall()
    )
    actions = {(a, o) for a, o, _ in audit}
    assert ("guardrail_mask", call_id) in actions and ("guardrail_log", call_id) in actions
    assert any(a == "guardrail_block" for a, _, _ in audit)
    # No stderr line per request by default (only with --detailed_debug): at thousands of
    # requests a second it would cost more than the detection.
    assert not any(f"request {call_id}: guardrail" in line for line in proxy.lines)

    stored = "\n".join(
        [metrics, json.dumps(row), log.read_text(), json.dumps(audit), proxy.output, db.read_bytes().decode("latin-1")]
    )
    for value in (EMAIL, "jane.doe", CARD, "1111 1111", "atlas"):
        assert value not in stored, value


def test_guardrails_list_shows_the_config_without_patterns(proxy):
    r = httpx.get(f"{proxy.url}/guardrails/list", headers=AUTH, timeout=20)
    assert r.status_code == 200
    listed = r.json()["guardrails"]
    assert [g["guardrail_name"] for g in listed] == ["no-cards", "mask-email", "code-words", "no-leaks"]
    assert listed[2]["litellm_params"]["words"] == ["PROJECT"]
    assert "atlas" not in r.text
    assert httpx.get(f"{proxy.url}/guardrails/list", timeout=20).status_code == 401


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        (
            "  - guardrail_name: mine\n    litellm_params: {guardrail: no_such_module.MyGuardrail, mode: pre_call}\n",
            "guardrails[0] (mine).litellm_params.guardrail: cannot load no_such_module.MyGuardrail",
        ),
        (
            "  - guardrail_name: vendor\n    litellm_params: {guardrail: aporia, mode: pre_call}\n",
            'guardrails[0] (vendor).litellm_params.guardrail: "aporia" is not a guardrail rustllm has',
        ),
        (
            "  - guardrail_name: g\n    litellm_params: {guardrail: rustllm, mode: before, detect: [email]}\n",
            "guardrails[0] (g).litellm_params.mode: expected pre_call, during_call or post_call",
        ),
        (
            "  - guardrail_name: g\n    litellm_params: {guardrail: rustllm, mode: pre_call, detect: [passport]}\n",
            'unknown detector "passport"',
        ),
    ],
)
def test_a_bad_guardrail_config_stops_the_start(server, entry, error):
    config = "model_list:\n" + mock_deployment("gpt-4o", server) + "guardrails:\n" + entry
    done = run_proxy(config)
    assert done.returncode != 0
    assert error in done.stderr, done.stderr


def class_proxy(server, tmp_path, source: str, name: str, litellm_params: str, settings: str = "") -> ProxyProcess:
    """A proxy whose one guardrail, ``name``, is a class from ``source`` (written as
    ``{module}.py`` for the module ``litellm_params``' ``guardrail`` names)."""
    module = re.search(r"guardrail: (\w+)\.", litellm_params).group(1)
    (tmp_path / f"{module}.py").write_text(source)
    config = (
        "model_list:\n"
        + mock_deployment("gpt-4o", server, model="openai/gpt-4o-mini")
        + settings
        + "guardrails:\n"
        + f"  - guardrail_name: {name}\n"
        + f"    litellm_params: {litellm_params}\n"
    )
    return ProxyProcess(config, env={"PYTHONPATH": str(tmp_path)})


GUARD_CLASS = """
class Shouty:
    \"\"\"A guardrail class written LiteLLM's way (duck-typed: no base class needed).\"\"\"

    def __init__(self, guardrail_name, event_hook, default_on=False, banned="forbidden", **kwargs):
        self.guardrail_name, self.event_hook, self.default_on = guardrail_name, event_hook, default_on
        self.banned = banned

    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        for m in data.get("messages", []):
            if self.banned in m["content"]:
                raise ValueError(f"{self.banned!r} is not allowed")
            m["content"] = m["content"].upper()
        return data

    async def async_post_call_success_hook(self, data, user_api_key_dict, response):
        response["choices"][0]["message"]["content"] += " [checked by " + self.guardrail_name + "]"
        return response
"""


def test_guardrail_classes_load_the_litellm_way(server, tmp_path):
    params = "{guardrail: my_guards.Shouty, mode: [pre_call, post_call], default_on: true, banned: secret}"
    with class_proxy(server, tmp_path, GUARD_CLASS, "shouty", params) as proxy:
        client = openai.OpenAI(api_key="anything", base_url=proxy.url, max_retries=0, timeout=30)
        server.respond(text="fine")
        r = client.chat.completions.create(model="gpt-4o", messages=say("quiet please"))
        assert server.last_request.body["messages"] == say("QUIET PLEASE")
        assert r.choices[0].message.content == "fine [checked by shouty]"
        before = len(server.requests)
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(model="gpt-4o", messages=say("the secret plan"))
        assert e.value.body["message"] == (
            "Guardrail raised an exception, Guardrail: shouty, Message: 'secret' is not allowed"
        )
        assert len(server.requests) == before
        # On a stream the class's post-call hook gets the whole reply, held until then.
        server.respond(text="all is well", stream_chunks=3)
        stream = client.chat.completions.create(model="gpt-4o", messages=say("quiet please"), stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text == "all is well [checked by shouty]"
        # LiteLLM's guardrail metrics: the raise counted under its class, each run timed.
        metrics = httpx.get(f"{proxy.url}/metrics", timeout=20).text
        for line in [
            'litellm_guardrail_errors_total{guardrail_name="shouty",error_type="ValueError",hook_type="pre_call"} 1.0',
            'litellm_guardrail_latency_seconds_count{guardrail_name="shouty",status="error",'
            'error_type="ValueError",hook_type="pre_call"} 1',
            'litellm_guardrail_latency_seconds_count{guardrail_name="shouty",status="success",'
            'error_type="none",hook_type="post_call"} 2',
            # A class that changed the request is recorded as such, not as a mask.
            'rustllm_guardrail_decisions_total{guardrail_name="shouty",action="modify",hook_type="pre_call"} 2.0',
        ]:
            assert line in metrics, metrics


COUNTING_CLASS = """
class PerUserQuota:
    \"\"\"A guardrail that counts calls in the hook's ``cache``, as LiteLLM classes do.\"\"\"

    def __init__(self, guardrail_name, event_hook, default_on=False, **kwargs):
        self.guardrail_name, self.event_hook, self.default_on = guardrail_name, event_hook, default_on

    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        n = (await cache.async_get_cache("calls") or 0) + 1
        await cache.async_set_cache("calls", n)
        if n > 2:
            raise ValueError(f"call {n}: over the quota of 2")
        return data
"""


def test_a_class_hook_gets_a_cache(server, tmp_path):
    params = "{guardrail: quota.PerUserQuota, mode: pre_call, default_on: true}"
    with class_proxy(server, tmp_path, COUNTING_CLASS, "quota", params) as proxy:
        client = openai.OpenAI(api_key="anything", base_url=proxy.url, max_retries=0, timeout=30)
        for _ in range(2):
            client.chat.completions.create(model="gpt-4o", messages=say("hi"))
        with pytest.raises(openai.BadRequestError, match="call 3: over the quota of 2"):
            client.chat.completions.create(model="gpt-4o", messages=say("hi"))


MODERATION_CLASS = """
class Moderator:
    \"\"\"A during_call guardrail written LiteLLM's way: only async_moderation_hook.\"\"\"

    def __init__(self, guardrail_name, event_hook, default_on=False, **kwargs):
        self.guardrail_name, self.event_hook, self.default_on = guardrail_name, event_hook, default_on

    async def async_moderation_hook(self, data, user_api_key_dict, call_type):
        if any("violence" in m["content"] for m in data.get("messages", [])):
            raise ValueError("Violated content safety policy")
"""


def test_a_during_call_class_runs_its_moderation_hook(server, tmp_path):
    params = "{guardrail: my_moderator.Moderator, mode: during_call, default_on: true}"
    with class_proxy(server, tmp_path, MODERATION_CLASS, "moderator", params) as proxy:
        client = openai.OpenAI(api_key="anything", base_url=proxy.url, max_retries=0, timeout=30)
        server.respond(text="fine")
        r = client.chat.completions.create(model="gpt-4o", messages=say("a calm question"))
        assert r.choices[0].message.content == "fine"
        before = len(server.requests)
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(model="gpt-4o", messages=say("some violence"))
        assert e.value.body["message"] == (
            "Guardrail raised an exception, Guardrail: moderator, Message: Violated content safety policy"
        )
        # rustllm runs it before the call: a block means nothing reached the provider.
        assert len(server.requests) == before


TEAM_CLASS = """
class TeamGate:
    \"\"\"Refuses one team's calls, reading LiteLLM's user_api_key_dict as classes do.\"\"\"

    def __init__(self, guardrail_name, event_hook, default_on=False, **kwargs):
        self.guardrail_name, self.event_hook, self.default_on = guardrail_name, event_hook, default_on

    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        if user_api_key_dict.team_id is not None and user_api_key_dict.key_alias == "locked":
            raise ValueError(
                f"{type(user_api_key_dict).__name__} team={user_api_key_dict.team_id} "
                f"hashed={len(user_api_key_dict.api_key or '')}"
            )
        return data
"""


def test_a_class_hook_gets_the_caller_as_user_api_key_auth(server, tmp_path):
    settings = f"general_settings:\n  master_key: {MASTER}\n  database_url: sqlite:///{tmp_path / 'proxy.db'}\n"
    params = "{guardrail: my_gate.TeamGate, mode: pre_call, default_on: true}"
    with class_proxy(server, tmp_path, TEAM_CLASS, "gate", params, settings) as proxy:
        team = httpx.post(f"{proxy.url}/team/new", json={"team_alias": "ops"}, headers=AUTH, timeout=20).json()
        key = httpx.post(
            f"{proxy.url}/key/generate",
            json={"team_id": team["team_id"], "key_alias": "locked"},
            headers=AUTH,
            timeout=20,
        ).json()["key"]
        client = openai.OpenAI(api_key=key, base_url=proxy.url, max_retries=0, timeout=30)
        before = len(server.requests)
        deadline = time.monotonic() + 10
        while True:  # a new key is usable once the key cache has it
            try:
                client.chat.completions.create(model="gpt-4o", messages=say("hi"))
                pytest.fail("the gate let a locked key through")
            except openai.AuthenticationError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
            except openai.BadRequestError as e:
                message = e.body["message"]
                break
        # The hook saw a UserAPIKeyAuth with the key's team and its hash (64 hex
        # characters), never the key itself.
        assert message.endswith(f"UserAPIKeyAuth team={team['team_id']} hashed=64"), message
        assert len(server.requests) == before
        # The master key has no team: let through.
        master = openai.OpenAI(api_key=MASTER, base_url=proxy.url, max_retries=0, timeout=30)
        server.respond(text="ok")
        assert master.chat.completions.create(model="gpt-4o", messages=say("hi")).choices[0].message.content == "ok"


STREAM_CLASS = """
from rustllm.integrations.custom_guardrail import CustomGuardrail
from rustllm.proxy._types import UserAPIKeyAuth


class Redactor(CustomGuardrail):
    \"\"\"Only LiteLLM's stream hook: it sees each chunk as a ModelResponseStream, changes
    one in place, adds one at the end, and refuses a stream that says "forbidden".\"\"\"

    async def async_post_call_streaming_iterator_hook(self, user_api_key_dict, response, request_data):
        assert isinstance(user_api_key_dict, UserAPIKeyAuth)
        assert request_data["messages"][0]["content"] == "hi"
        async for chunk in response:
            assert type(chunk).__name__ == "ModelResponseStream", type(chunk)
            for choice in chunk.choices:
                text = choice.delta.content or ""
                if "forbidden" in text:
                    raise ValueError("no forbidden words")
                if "well" in text:
                    choice.delta.content = text.replace("well", "[redacted]")
            yield chunk
        yield {"object": "chat.completion.chunk", "id": "extra", "created": 1, "model": "gpt-4o",
               "choices": [{"index": 0, "delta": {"content": " (checked)"}, "finish_reason": None}]}
"""


def test_a_class_stream_hook_rewrites_the_stream(server, tmp_path):
    # LiteLLM's async_post_call_streaming_iterator_hook: the proxy holds the stream and
    # what the hook yields is what the client gets (it used to be skipped on streams).
    params = "{guardrail: redactor.Redactor, mode: post_call, default_on: true}"
    with class_proxy(server, tmp_path, STREAM_CLASS, "redactor", params) as proxy:
        client = openai.OpenAI(api_key="anything", base_url=proxy.url, max_retries=0, timeout=30)
        server.respond(text="all is well")  # a chunk per word
        chunks = list(client.chat.completions.create(model="gpt-4o", messages=say("hi"), stream=True))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == "all is [redacted] (checked)"
        assert [c.choices[0].finish_reason for c in chunks if c.choices].count("stop") == 1
        server.respond(text="a forbidden reply")
        got = []
        with pytest.raises(openai.APIError, match="Guardrail: redactor, Message: no forbidden words"):
            for c in client.chat.completions.create(model="gpt-4o", messages=say("hi"), stream=True):
                got.append(c)
        assert "forbidden" not in json.dumps([c.model_dump() for c in got])
        # A JSON reply is not a stream: the hook does not run.
        server.respond(text="all is well")
        r = client.chat.completions.create(model="gpt-4o", messages=say("hi"))
        assert r.choices[0].message.content == "all is well"
