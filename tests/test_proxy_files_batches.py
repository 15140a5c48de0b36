"""``/v1/files`` and ``/v1/batches`` on a real ``rustllm proxy`` in front of MockServer,
with the openai SDK (``client.files.*``, ``client.batches.*``) as the client: what
reached the mock, what the client got, which deployment serves them, and that a file or
batch belongs to the virtual key that made it."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest
from _proxy import ProxyProcess, mock_deployment

openai = pytest.importorskip("openai")

MASTER = "sk-1234"
AUTH = {"Authorization": f"Bearer {MASTER}"}
JSONL = b'{"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o"}}\n'


@pytest.fixture(scope="module")
def proxy(_module_server, tmp_path_factory):
    db = tmp_path_factory.mktemp("files") / "spend.db"
    config = (
        "model_list:\n"
        + mock_deployment("claude", _module_server, model="anthropic/claude-3-5-sonnet")
        + mock_deployment("gpt", _module_server, model="openai/gpt-4o")
        + "    model_info: {id: gpt-1}\n"
        + "router_settings:\n  num_retries: 0\n"
        + f"general_settings:\n  master_key: {MASTER}\n  database_url: sqlite:///{db}\n  proxy_batch_write_at: 0.2\n"
    )
    with ProxyProcess(config) as p:
        yield p


def client(proxy, key=MASTER):
    return openai.OpenAI(api_key=key, base_url=proxy.url, max_retries=0, timeout=30)


def new_key(proxy, alias, **limits):
    r = httpx.post(f"{proxy.url}/key/generate", json={"key_alias": alias, **limits}, headers=AUTH)
    assert r.status_code == 200, r.text
    return r.json()["key"]


def until(what, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_files_and_batches_with_the_openai_sdk(proxy, server, tmp_path):
    c = client(proxy)
    path = tmp_path / "batch.jsonl"
    path.write_bytes(JSONL)
    with open(path, "rb") as f:
        created = c.files.create(file=f, purpose="batch")
    sent = server.last_request
    # The first OpenAI deployment serves it (the Anthropic one before it cannot).
    assert (sent.method, sent.path) == ("POST", "/v1/files")
    assert sent.headers["authorization"] == "Bearer sk-upstream-secret"
    assert sent.body["purpose"] == "batch" and sent.body["file"]["sha256"] == hashlib.sha256(JSONL).hexdigest()
    assert created.filename == "batch.jsonl" and created.bytes == len(JSONL) and created.purpose == "batch"

    assert c.files.retrieve(created.id).id == created.id
    assert server.last_request.path == f"/v1/files/{created.id}"
    assert c.files.content(created.id).content == JSONL
    assert created.id in [f.id for f in c.files.list(purpose="batch")]
    assert server.last_request.query == "purpose=batch"

    batch = c.batches.create(input_file_id=created.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert server.last_request.body == {
        "input_file_id": created.id,
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
    }
    assert batch.status == "validating"
    assert c.batches.retrieve(batch.id).input_file_id == created.id
    assert batch.id in [b.id for b in c.batches.list()]
    assert c.batches.cancel(batch.id).status == "cancelling"
    assert server.last_request.path == f"/v1/batches/{batch.id}/cancel"
    deleted = c.files.delete(created.id)
    assert deleted.deleted is True and server.last_request.method == "DELETE"

    # Without /v1 too; a model naming a group that is not OpenAI or Azure is refused.
    r = httpx.get(f"{proxy.url}/files", headers=AUTH)
    assert r.status_code == 200 and r.json()["object"] == "list"
    r = httpx.get(f"{proxy.url}/files?model=claude", headers=AUTH)
    assert r.status_code == 400 and "for OpenAI and Azure" in r.text


def test_a_file_belongs_to_the_key_that_made_it(proxy, server):
    a, b = new_key(proxy, "files-a"), new_key(proxy, "files-b")
    mine = client(proxy, a).files.create(file=("a.jsonl", JSONL), purpose="batch")
    batch = client(proxy, a).batches.create(
        input_file_id=mine.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    other = client(proxy, b)
    for call in (
        lambda: other.files.retrieve(mine.id),
        lambda: other.files.content(mine.id),
        lambda: other.files.delete(mine.id),
        lambda: other.batches.retrieve(batch.id),
        lambda: other.batches.cancel(batch.id),
        lambda: other.batches.create(input_file_id=mine.id, endpoint="/v1/embeddings", completion_window="24h"),
    ):
        with pytest.raises(openai.NotFoundError):
            call()
    assert mine.id not in [f.id for f in other.files.list()]
    assert batch.id not in [x.id for x in other.batches.list()]
    # Its maker and the master key see it.
    assert client(proxy, a).files.retrieve(mine.id).id == mine.id
    assert mine.id in [f.id for f in client(proxy, a).files.list()]
    assert client(proxy).batches.retrieve(batch.id).id == batch.id


def test_auth_limits_spend_and_metrics(proxy, server):
    with pytest.raises(openai.AuthenticationError):
        client(proxy, "sk-bad").files.list()
    key = new_key(proxy, "files-limited", rpm_limit=1)
    client(proxy, key).files.create(file=("a.jsonl", JSONL), purpose="batch")
    with pytest.raises(openai.RateLimitError):
        client(proxy, key).files.list()
    with pytest.raises(openai.BadRequestError, match="purpose must be one of"):
        client(proxy).files.create(file=("a.jsonl", JSONL), purpose="homework")  # type: ignore[arg-type]
    hashed = hashlib.sha256(key.encode()).hexdigest()

    def key_rows():
        rows = httpx.get(f"{proxy.url}/spend/logs", headers=AUTH, timeout=10).json()
        return [row for row in rows if row.get("api_key") == hashed] or None

    (row,) = until(key_rows)
    assert (row["call_type"], row["model_group"], row["model_id"]) == ("acreate_file", "gpt", "gpt-1")
    text = until(
        lambda: (t := httpx.get(f"{proxy.url}/metrics", headers=AUTH, timeout=10).text) and 'route="/files"' in t and t
    )
    assert "sk-upstream-secret" not in text and key not in text


def test_custom_llm_provider_picks_and_a_query_carries_no_connection(proxy, server):
    c = client(proxy)
    f = c.files.create(file=("a.jsonl", JSONL), purpose="batch", extra_body={"custom_llm_provider": "openai"})
    assert server.last_request.path == "/v1/files" and f.purpose == "batch"
    with pytest.raises(openai.BadRequestError, match="on 'azure'"):
        c.batches.create(
            input_file_id=f.id,
            endpoint="/v1/embeddings",
            completion_window="24h",
            extra_body={"custom_llm_provider": "azure"},
        )
    server.reset()
    r = httpx.get(f"{proxy.url}/v1/files?api_base=http://127.0.0.1:9", headers=AUTH)
    assert r.status_code == 400 and "api_base" in r.text
    r = httpx.post(f"{proxy.url}/v1/batches", json={"input_file_id": f.id, "api_key": "sk-x"}, headers=AUTH)
    assert r.status_code == 400 and "api_key" in r.text
    assert server.requests == []
