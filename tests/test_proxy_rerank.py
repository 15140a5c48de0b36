"""``POST /rerank`` (httpx, as Cohere-style clients call it) and ``POST /moderations``
(the openai SDK's ``client.moderations.create``) on a real ``rustllm proxy`` in front of
MockServer: what reached the mock, what the client got, and the proxy's auth, limits,
spend log and metrics for both routes."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest
from _proxy import ProxyProcess, mock_deployment

openai = pytest.importorskip("openai")

MASTER = "sk-1234"
AUTH = {"Authorization": f"Bearer {MASTER}"}
DOCS = ["the cat sat", "dogs bark at night", "a cat and a dog"]


def _config(server, db) -> str:
    return (
        "model_list:\n"
        + "  - model_name: ranker\n"
        + "    litellm_params:\n"
        + "      model: cohere/rerank-v3.5\n"
        + f"      api_base: {server.url}\n"
        + "      api_key: co-upstream-secret\n"
        + "    model_info: {id: ranker-1}\n"
        + mock_deployment("jina", server, model="jina_ai/jina-reranker-v2-base-multilingual")
        + mock_deployment("mod", server, model="openai/omni-moderation-latest")
        + mock_deployment("own", server, model="hosted_vllm/my-reranker")
        + "    model_info: {input_cost_per_query: 0.25}\n"
        + "router_settings:\n  num_retries: 0\n"
        + f"general_settings:\n  master_key: {MASTER}\n  database_url: sqlite:///{db}\n  proxy_batch_write_at: 0.2\n"
    )


@pytest.fixture(scope="module")
def proxy(_module_server, tmp_path_factory):
    db = tmp_path_factory.mktemp("rerank") / "spend.db"
    with ProxyProcess(_config(_module_server, db)) as p:
        yield p


def rerank(proxy, path="/v1/rerank", key=MASTER, **body):
    payload = {"model": "ranker", "query": "cat dog", "documents": DOCS, **body}
    return httpx.post(f"{proxy.url}{path}", json=payload, headers={"Authorization": f"Bearer {key}"}, timeout=20)


def until(what, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("path", ["/v1/rerank", "/rerank", "/v2/rerank"])
def test_rerank_routes(proxy, server, path):
    r = rerank(proxy, path, top_n=2)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"id", "results", "meta"}
    assert [x["index"] for x in body["results"]] == [2, 0]
    assert body["meta"]["billed_units"] == {"search_units": 1}
    assert r.headers["x-litellm-model-id"] == "ranker-1"
    assert float(r.headers["x-litellm-response-cost"]) == pytest.approx(0.002)
    sent = server.last_request
    assert sent.path == "/v2/rerank"
    assert sent.body == {"model": "rerank-v3.5", "query": "cat dog", "documents": DOCS, "top_n": 2}
    # The deployment's key went upstream, never the proxy key.
    assert sent.headers["authorization"] == "Bearer co-upstream-secret"


def test_rerank_through_jina_comes_back_as_litellms_shape(proxy, server):
    r = rerank(proxy, model="jina", return_documents=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert server.last_request.path == "/v1/rerank"
    assert body["results"][0] == {"index": 2, "relevance_score": 1.0, "document": {"text": "a cat and a dog"}}
    assert body["meta"]["tokens"] == {"input_tokens": 14}  # 2 query words, 12 in the documents


def test_a_deployments_own_price_per_query(proxy, server):
    r = rerank(proxy, model="own")
    assert r.status_code == 200, r.text
    assert server.last_request.path == "/v1/rerank"
    assert server.last_request.body == {"model": "my-reranker", "query": "cat dog", "documents": DOCS}
    # Not in the catalogue: priced by the deployment's input_cost_per_query.
    assert float(r.headers["x-litellm-response-cost"]) == pytest.approx(0.25)


def test_rerank_errors(proxy, server):
    assert rerank(proxy, key="sk-wrong").status_code == 401
    r = rerank(proxy, documents=[])
    assert r.status_code == 400
    assert "documents must not be empty" in r.json()["error"]["message"]
    server.fail_next(1, status=429)
    assert rerank(proxy).status_code == 429
    assert rerank(proxy, model="no-such-group").status_code in (400, 404)


def test_moderations_with_the_openai_sdk(proxy, server):
    client = openai.OpenAI(api_key=MASTER, base_url=proxy.url, max_retries=0, timeout=30)
    r = client.moderations.create(model="mod", input=["I will hurt you", "good morning"])
    assert [x.flagged for x in r.results] == [True, False]
    assert r.results[0].categories.violence is True
    assert r.results[0].category_scores.violence == pytest.approx(0.875)
    sent = server.last_request
    assert sent.path == "/v1/moderations"
    assert sent.body == {"model": "omni-moderation-latest", "input": ["I will hurt you", "good morning"]}
    assert sent.headers["authorization"] == "Bearer sk-upstream-secret"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(api_key="sk-bad", base_url=proxy.url, max_retries=0).moderations.create(model="mod", input="x")
    with pytest.raises(openai.BadRequestError, match="input"):
        client.moderations.create(model="mod", input=[])
    # The proxy routes by group: a moderation names its model (LiteLLM's proxy would call
    # OpenAI's default model with the proxy's own OPENAI_API_KEY).
    with pytest.raises(openai.BadRequestError, match="model is required"):
        client.moderations.create(input="x")


def test_limits_spend_and_metrics(proxy, server):
    r = httpx.post(f"{proxy.url}/key/generate", json={"key_alias": "ranker-key", "rpm_limit": 1}, headers=AUTH)
    assert r.status_code == 200, r.text
    key = r.json()["key"]
    assert rerank(proxy, key=key).status_code == 200
    assert rerank(proxy, key=key).status_code == 429  # the key's rpm limit

    client = openai.OpenAI(api_key=MASTER, base_url=proxy.url, max_retries=0, timeout=30)
    client.moderations.create(model="mod", input="hello")
    hashed = hashlib.sha256(key.encode()).hexdigest()

    def key_rows():
        rows = httpx.get(f"{proxy.url}/spend/logs", headers=AUTH, timeout=10).json()
        return [row for row in rows if row.get("api_key") == hashed] or None

    # The refused second call is no spend; the first is one rerank at $0.002.
    (row,) = until(key_rows)
    assert (row["call_type"], row["model_group"], row["model_id"]) == ("arerank", "ranker", "ranker-1")
    assert row["spend"] == pytest.approx(0.002)
    text = until(
        lambda: (
            (t := httpx.get(f"{proxy.url}/metrics", headers=AUTH, timeout=10).text)
            and 'route="/rerank"' in t
            and 'route="/moderations"' in t
            and t
        )
    )
    assert "co-upstream-secret" not in text and key not in text


def test_health_probes_a_rerank_deployment_with_a_rerank(server):
    config = (
        "model_list:\n"
        + "  - model_name: ranker\n"
        + "    litellm_params:\n"
        + "      model: cohere/rerank-v3.5\n"
        + f"      api_base: {server.url}\n"
        + "      api_key: co-upstream-secret\n"
        + "    model_info: {mode: rerank}\n"
        + f"general_settings:\n  master_key: {MASTER}\n"
    )
    with ProxyProcess(config) as p:
        body = httpx.get(f"{p.url}/health", headers=AUTH, timeout=30).json()
    assert (body["healthy_count"], body["unhealthy_count"]) == (1, 0)
    sent = server.last_request
    assert sent.path == "/v2/rerank"
    assert (sent.body["query"], sent.body["documents"]) == ("test from litellm", ["my sample text"])
