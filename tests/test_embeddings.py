"""Embeddings through the public API."""

from __future__ import annotations

import pytest

import rustllm as litellm
from rustllm import EmbeddingResponse


def test_embedding_list_input(server, openai_args):
    resp = litellm.embedding(model="openai/text-embedding-3-small", input=["a b", "c"], dimensions=4, **openai_args)
    assert isinstance(resp, EmbeddingResponse)
    assert resp.object == "list"
    assert len(resp.data) == 2
    assert resp.data[0]["index"] == 0 and resp.data[1]["index"] == 1
    assert resp.data[0]["object"] == "embedding"
    assert len(resp.data[0]["embedding"]) == 4
    assert resp.usage.prompt_tokens == 3
    assert resp.model
    req = server.last_request
    assert req.path == "/v1/embeddings"
    assert req.body == {"model": "text-embedding-3-small", "input": ["a b", "c"], "dimensions": 4}


def test_embedding_string_input_and_hidden_params(server, openai_args):
    resp = litellm.embedding(model="openai/e", input="hello", **openai_args)
    assert len(resp.data) == 1
    assert resp._hidden_params["custom_llm_provider"] == "openai"
    assert server.last_request.body["input"] == "hello"


async def test_aembedding(server, openai_args):
    resp = await litellm.aembedding(model="openai/e", input=["x"], encoding_format="float", user="u", **openai_args)
    assert len(resp.data) == 1
    assert server.last_request.body["encoding_format"] == "float"
    assert server.last_request.body["user"] == "u"


@pytest.mark.parametrize("bad", [[], 5, [1, "a"], None])
def test_bad_input_is_rejected_before_the_request(server, openai_args, bad):
    with pytest.raises(litellm.BadRequestError, match="input"):
        litellm.embedding(model="openai/e", input=bad, **openai_args)
    assert server.requests == []


def test_embedding_errors_are_mapped(server, openai_args):
    with pytest.raises(litellm.RateLimitError):
        litellm.embedding(model="openai/error-429", input="x", **openai_args)


def test_mock_response_is_the_embedding_and_nothing_is_sent(server):
    resp = litellm.embedding(model="openai/text-embedding-3-small", input="hello", mock_response=[0.1, 0.2])
    assert isinstance(resp, EmbeddingResponse)
    assert resp.data[0]["embedding"] == [0.1, 0.2]
    assert resp.model == "text-embedding-3-small"
    assert resp.usage.prompt_tokens == 10
    assert server.requests == []


def test_mock_response_gives_each_input_the_vector(server):
    resp = litellm.embedding(model="openai/e", input=["a", "b"], mock_response=[1.0])
    assert [d["embedding"] for d in resp.data] == [[1.0], [1.0]]
    assert [d["index"] for d in resp.data] == [0, 1]


async def test_async_mock_response(server):
    resp = await litellm.aembedding(model="openai/e", input="x", mock_response=[0.5])
    assert resp.data[0]["embedding"] == [0.5]


def test_mock_response_error_raises(server):
    with pytest.raises(Exception, match="Mock error"):
        litellm.embedding(model="openai/e", input="x", mock_response="error")
    assert server.requests == []
