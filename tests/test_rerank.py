"""rerank / arerank and moderation / amoderation through the public API, against
MockServer: what went over the wire (path, body, headers) and what came back."""

from __future__ import annotations

import pickle
import time

import pytest

import rustllm as litellm
from rustllm import OpenAIModerationResponse, RerankResponse

DOCS = ["the cat sat", "dogs bark at night", "a cat and a dog"]


def _cohere(server):
    return {"api_base": server.url, "api_key": "co-test-key", "max_retries": 0}


def test_cohere_rerank_goes_to_v2_and_comes_back_as_a_rerank_response(server):
    resp = litellm.rerank(model="cohere/rerank-v3.5", query="cat dog", documents=DOCS, top_n=2, **_cohere(server))
    req = server.last_request
    assert req.path == "/v2/rerank"
    assert req.headers["authorization"] == "Bearer co-test-key"
    assert req.body == {
        "model": "rerank-v3.5",
        "query": "cat dog",
        "documents": DOCS,
        "top_n": 2,
        "return_documents": True,
    }
    assert isinstance(resp, RerankResponse)
    assert [r["index"] for r in resp.results] == [2, 0]
    assert resp.results[0]["relevance_score"] == 1.0
    assert resp.results[1]["relevance_score"] == 0.5
    assert resp.meta["billed_units"] == {"search_units": 1}
    assert resp.id and resp["id"] == resp.id
    # Priced per query from the catalogue: rerank-v3.5 is $0.002 a search unit.
    assert resp._hidden_params["response_cost"] == pytest.approx(0.002)
    assert resp._hidden_params["custom_llm_provider"] == "cohere"
    assert litellm.completion_cost(completion_response=resp) == pytest.approx(0.002)
    assert resp.model_dump() == {"id": resp.id, "results": resp.results, "meta": resp.meta}
    assert pickle.loads(pickle.dumps(resp)) == resp
    assert repr(resp).startswith(f"RerankResponse(id={resp.id!r}, results=[")
    html = resp._repr_html_()  # a notebook shows the ranking as a table
    assert "<table>" in html and "<td>2</td><td>1.0</td>" in html


def test_cohere_v1_by_base_or_by_max_chunks_per_doc(server):
    args = _cohere(server)
    args["api_base"] = server.url + "/v1"
    resp = litellm.rerank(model="cohere/rerank-english-v3.0", query="night", documents=DOCS, **args)
    assert server.last_request.path == "/v1/rerank"
    assert resp.results[0] == {"index": 1, "relevance_score": 1.0, "document": {"text": "dogs bark at night"}}
    litellm.rerank(model="cohere/rerank-v3.5", query="q", documents=DOCS, max_chunks_per_doc=5, **_cohere(server))
    assert server.last_request.path == "/v1/rerank"
    assert server.last_request.body["max_chunks_per_doc"] == 5
    litellm.rerank(model="cohere/rerank-v3.5", query="q", documents=DOCS, max_tokens_per_doc=64, **_cohere(server))
    assert server.last_request.path == "/v2/rerank"
    assert server.last_request.body["max_tokens_per_doc"] == 64


def test_dict_documents_and_rank_fields(server):
    docs = [{"title": "cats", "body": "x"}, {"title": "dogs", "body": "cats"}]
    resp = litellm.rerank(
        model="cohere/rerank-v3.5",
        query="cats",
        documents=docs,
        rank_fields=["body"],
        return_documents=False,
        api_base=server.url + "/v1",
        api_key="k",
    )
    assert server.last_request.body["documents"] == docs
    assert server.last_request.body["rank_fields"] == ["body"]
    assert server.last_request.body["return_documents"] is False
    assert resp.results == [{"index": 1, "relevance_score": 1.0}, {"index": 0, "relevance_score": 0.0}]


def test_jina_reply_gets_an_id_and_token_meta(server):
    resp = litellm.rerank(
        model="jina_ai/jina-reranker-v2-base-multilingual",
        query="cat",
        documents=DOCS,
        api_base=server.base_url,
        api_key="jina-key",
    )
    assert server.last_request.path == "/v1/rerank"
    assert server.last_request.body["model"] == "jina-reranker-v2-base-multilingual"
    assert len(resp.id) == 36
    # The mock counts words: 1 in the query, 12 in the documents.
    assert resp.meta == {"billed_units": {"total_tokens": 13}, "tokens": {"input_tokens": 13}}
    assert resp.results[0]["document"] == {"text": "the cat sat"}
    # Jina prices per token: 13 tokens at $5e-8.
    assert resp._hidden_params["response_cost"] == pytest.approx(13 * 5e-8)


def test_voyage_takes_top_k_and_its_data_list_becomes_results(server):
    resp = litellm.rerank(
        model="voyage/rerank-2", query="bark", documents=DOCS, top_n=1, api_base=server.base_url, api_key="pa-key"
    )
    body = server.last_request.body
    assert body["top_k"] == 1 and "top_n" not in body
    assert resp.results == [{"index": 1, "relevance_score": 1.0, "document": {"text": "dogs bark at night"}}]
    assert resp.meta["tokens"] == {"input_tokens": 13}
    with pytest.raises(litellm.BadRequestError, match="Voyage AI ranks strings only"):
        litellm.rerank(model="voyage/rerank-2", query="q", documents=[{"text": "a"}], api_key="k")


def test_openai_style_server_and_env_keys(server, monkeypatch):
    monkeypatch.setenv("HOSTED_VLLM_API_BASE", server.base_url)
    resp = litellm.rerank(model="hosted_vllm/BAAI/bge-reranker-v2-m3", query="cat", documents=DOCS, instruction="x")
    req = server.last_request
    assert req.path == "/v1/rerank"
    assert req.body["model"] == "BAAI/bge-reranker-v2-m3"
    assert req.body["instruction"] == "x"  # other keyword arguments go into the body
    assert resp.results[0]["index"] == 0
    monkeypatch.setenv("COHERE_API_KEY", "from-env")
    litellm.rerank(model="cohere/rerank-v3.5", query="q", documents=DOCS, api_base=server.url)
    assert server.last_request.headers["authorization"] == "Bearer from-env"


async def test_arerank(server):
    resp = await litellm.arerank(model="cohere/rerank-v3.5", query="dogs", documents=DOCS, **_cohere(server))
    assert isinstance(resp, RerankResponse)
    assert resp.results[0]["index"] == 1
    assert server.last_request.body["return_documents"] is True


@pytest.mark.parametrize(
    ("query", "documents", "match"),
    [
        (None, DOCS, "query is required"),
        ("", DOCS, "query must not be empty"),
        (3, DOCS, "query must be a string"),
        ("q", [], "documents must not be empty"),
        ("q", "one doc", "documents must be a list"),
        ("q", ["a", 2], r"documents\[1\]"),
        ("q", None, "documents is required"),
    ],
)
def test_bad_inputs_fail_before_any_request(server, query, documents, match):
    with pytest.raises(litellm.BadRequestError, match=match):
        litellm.rerank(model="cohere/rerank-v3.5", query=query, documents=documents, **_cohere(server))
    assert server.requests == []


def test_missing_key_and_unserved_provider(server):
    with pytest.raises(litellm.AuthenticationError, match="COHERE_API_KEY"):
        litellm.rerank(model="cohere/rerank-v3.5", query="q", documents=DOCS, api_base=server.url)
    with pytest.raises(litellm.BadRequestError, match="does not serve rerank"):
        litellm.rerank(model="anthropic/claude-x", query="q", documents=DOCS, api_key="k", api_base=server.url)
    with pytest.raises(ValueError, match="model param not passed in"):
        litellm.rerank(model=None, query="q", documents=DOCS)
    assert server.requests == []


def test_errors_are_mapped_and_retried(server):
    with pytest.raises(litellm.RateLimitError):
        litellm.rerank(model="cohere/error-429", query="q", documents=DOCS, **_cohere(server))
    server.reset()
    server.fail_next(1, status=503)
    args = _cohere(server)
    args["max_retries"] = 1
    resp = litellm.rerank(model="cohere/rerank-v3.5", query="cat", documents=DOCS, **args)
    assert server.request_count == 2
    assert resp.results[0]["index"] in (0, 2)


def test_callbacks_and_cache(server, monkeypatch):
    seen = []
    monkeypatch.setattr(
        litellm, "success_callback", [lambda kwargs, resp, *_: seen.append((kwargs["call_type"], resp))]
    )
    monkeypatch.setattr(litellm, "cache", litellm.Cache(type="local"))
    first = litellm.rerank(model="cohere/rerank-v3.5", query="cat", documents=DOCS, **_cohere(server))
    second = litellm.rerank(model="cohere/rerank-v3.5", query="cat", documents=DOCS, **_cohere(server))
    assert server.request_count == 1
    assert second._hidden_params["cache_hit"] is True
    assert isinstance(second, RerankResponse) and second.results == first.results
    deadline = time.monotonic() + 5
    while len(seen) < 2 and time.monotonic() < deadline:  # success callbacks run on a worker
        time.sleep(0.01)
    assert [c for c, _ in seen] == ["rerank", "rerank"]
    assert seen[0][1]._hidden_params["response_cost"] == pytest.approx(0.002)


def test_mock_response_is_the_reply(server):
    resp = litellm.rerank(
        model="cohere/rerank-v3.5",
        query="q",
        documents=DOCS,
        mock_response={"id": "m1", "results": [{"index": 0, "relevance_score": 0.5}]},
    )
    assert resp.id == "m1" and resp.results == [{"index": 0, "relevance_score": 0.5}]
    with pytest.raises(litellm.BadRequestError, match="must be a dict"):
        litellm.rerank(model="cohere/rerank-v3.5", query="q", documents=DOCS, mock_response="x")
    assert server.requests == []


def test_router_rerank_and_arerank(server):
    router = litellm.Router(
        model_list=[
            {
                "model_name": "ranker",
                "litellm_params": {"model": "cohere/rerank-v3.5", "api_base": server.url, "api_key": "k"},
            }
        ],
        num_retries=1,
    )
    server.fail_next(1, status=500)
    resp = router.rerank(model="ranker", query="cat", documents=DOCS, top_n=1)
    assert server.request_count == 2
    assert server.last_request.body["model"] == "rerank-v3.5"
    assert len(resp.results) == 1
    assert resp._hidden_params["model_id"]

    import asyncio

    resp = asyncio.run(router.arerank(model="ranker", query="dogs", documents=DOCS))
    assert resp.results[0]["index"] == 1


# -- moderation ----------------------------------------------------------------------------


def test_moderation_sync_and_the_categories(server, openai_args):
    resp = litellm.moderation(input=["I will kill it", "hello"], model="omni-moderation-latest", **openai_args)
    req = server.last_request
    assert req.path == "/v1/moderations"
    assert req.body == {"model": "omni-moderation-latest", "input": ["I will kill it", "hello"]}
    assert isinstance(resp, OpenAIModerationResponse)
    assert [r.flagged for r in resp.results] == [True, False]
    first = resp.results[0]
    assert first.categories["violence"] is True and first.categories.violence is True
    assert first.category_scores.self_harm_intent == first.category_scores["self-harm/intent"]
    assert resp.model == "omni-moderation-latest"
    assert resp._hidden_params["response_cost"] == 0.0
    assert resp.model_dump()["results"][0]["categories"]["violence"] is True
    again = pickle.loads(pickle.dumps(resp))
    assert again == resp and again.results[0].categories.violence is True
    assert "flagged: violence" in resp._repr_html_() and "not flagged" in resp._repr_html_()


async def test_amoderation_without_a_model_sends_none(server, openai_args, monkeypatch):
    resp = await litellm.amoderation(input="hello", **openai_args)
    assert server.last_request.body == {"input": "hello"}
    assert resp.results[0].flagged is False
    # The module's OpenAI settings serve a moderation without a model.
    monkeypatch.setattr(litellm, "openai_key", "sk-module-key")
    monkeypatch.setattr(litellm, "api_base", server.base_url)
    litellm.moderation(input="hi")
    assert server.last_request.headers["authorization"] == "Bearer sk-module-key"
    assert server.last_request.body == {"input": "hi"}


@pytest.mark.parametrize(("bad", "match"), [(None, "input is required"), ([], "empty list"), (5, "got int")])
def test_moderation_bad_input(server, openai_args, bad, match):
    with pytest.raises(litellm.BadRequestError, match=match):
        litellm.moderation(input=bad, **openai_args)
    with pytest.raises(litellm.BadRequestError, match="OpenAI-format providers only"):
        litellm.moderation(input="x", model="anthropic/claude-x", api_key="k")
    assert server.requests == []


def test_moderation_errors_are_mapped(server, openai_args):
    with pytest.raises(litellm.AuthenticationError):
        litellm.moderation(input="x", model="openai/error-401", **openai_args)


async def test_router_amoderation(server):
    router = litellm.Router(
        model_list=[
            {
                "model_name": "mod",
                "litellm_params": {
                    "model": "openai/omni-moderation-latest",
                    "api_base": server.base_url,
                    "api_key": "k",
                },
            }
        ]
    )
    resp = await router.amoderation(model="mod", input="hurt")
    assert resp.results[0].flagged is True
    assert server.last_request.body == {"model": "omni-moderation-latest", "input": "hurt"}


def test_router_custom_provider_refuses_rerank_and_moderation(server, monkeypatch):
    class Handler(litellm.CustomLLM):
        def completion(self, *args, **kwargs):
            raise AssertionError("a rerank must not be answered as a completion")

    monkeypatch.setattr(litellm, "custom_provider_map", [{"provider": "my-llm", "custom_handler": Handler()}])
    router = litellm.Router(model_list=[{"model_name": "c", "litellm_params": {"model": "my-llm/m"}}], num_retries=0)
    with pytest.raises(litellm.BadRequestError, match="serves completion and embedding calls only, not rerank"):
        router.rerank(model="c", query="q", documents=DOCS)
    with pytest.raises(litellm.BadRequestError, match="not moderations"):
        router.moderation(model="c", input="x")
    assert server.requests == []
