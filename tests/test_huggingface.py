"""Hugging Face through the public API, against MockServer: chat on a text-generation-
inference server or Inference Endpoint named by ``api_base`` (the OpenAI body at
``/v1/chat/completions``), streams, feature-extraction embeddings, the token's
environment variables, and errors (litellm-behaviour.md §1.4). The router's URLs and
``provider/org/model`` naming are checked in Rust (``providers::huggingface``): tests never
reach a real host."""

from __future__ import annotations

import pytest

import rustllm as litellm

USER_HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(autouse=True)
def hf_env(monkeypatch):
    for name in ("HF_TOKEN", "HUGGINGFACE_API_KEY", "HF_API_BASE", "HUGGINGFACE_API_BASE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def args(server):
    return {"api_base": server.url, "max_retries": 0}


def test_chat_on_a_tgi_server(server, args, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_env_token")
    resp = litellm.completion(
        model="huggingface/meta-llama/Llama-3.1-8B-Instruct", messages=USER_HI, max_tokens=7, temperature=0, **args
    )
    req = server.last_request
    assert req.path == "/v1/chat/completions"
    assert req.body == {
        "model": "meta-llama/Llama-3.1-8B-Instruct",
        "messages": USER_HI,
        "max_tokens": 7,
        "temperature": 0,
    }
    assert req.headers["authorization"] == "Bearer hf_env_token"
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert resp._hidden_params["custom_llm_provider"] == "huggingface"


def test_token_sources_and_a_server_without_one(server, args, monkeypatch):
    litellm.completion(model="huggingface/tgi", messages=USER_HI, **args)
    assert "authorization" not in server.last_request.headers
    monkeypatch.setenv("HUGGINGFACE_API_KEY", "hf_second")
    litellm.completion(model="huggingface/tgi", messages=USER_HI, **args)
    assert server.last_request.headers["authorization"] == "Bearer hf_second"
    litellm.completion(model="huggingface/tgi", messages=USER_HI, api_key="hf_arg", **args)
    assert server.last_request.headers["authorization"] == "Bearer hf_arg"


def test_api_base_with_v1_and_from_the_environment(server, monkeypatch):
    litellm.completion(model="huggingface/tgi", messages=USER_HI, api_base=server.url + "/v1", max_retries=0)
    assert server.last_request.path == "/v1/chat/completions"
    monkeypatch.setenv("HF_API_BASE", server.url)
    litellm.completion(model="huggingface/tgi", messages=USER_HI, max_retries=0)
    assert server.last_request.path == "/v1/chat/completions"


def test_the_router_needs_a_token_before_any_request(server):
    with pytest.raises(litellm.AuthenticationError, match="HF_TOKEN or HUGGINGFACE_API_KEY"):
        litellm.completion(model="huggingface/together/deepseek-ai/DeepSeek-R1", messages=USER_HI, max_retries=0)
    with pytest.raises(litellm.BadRequestError, match="huggingface/<org>/<model>"):
        litellm.completion(model="huggingface/gpt2", messages=USER_HI, api_key="hf_x", max_retries=0)
    with pytest.raises(litellm.BadRequestError, match="token arrays"):
        litellm.embedding(model="huggingface/BAAI/bge", input=[[1, 2]], api_base=server.url)
    assert server.request_count == 0


def test_stream_with_usage(server, args):
    chunks = list(
        litellm.completion(
            model="huggingface/tgi",
            messages=USER_HI,
            stream=True,
            stream_options={"include_usage": True},
            **args,
        )
    )
    req = server.last_request
    assert req.body["stream"] is True and req.body["stream_options"] == {"include_usage": True}
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from MockServer!"
    assert chunks[-1].usage.total_tokens > 0


async def test_async_call_and_stream(server, args):
    resp = await litellm.acompletion(model="huggingface/tgi", messages=USER_HI, **args)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    stream = await litellm.acompletion(model="huggingface/tgi", messages=USER_HI, stream=True, **args)
    texts = [c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content]
    assert "".join(texts) == "Hello from MockServer!"


def test_feature_extraction_embeddings(server):
    url = server.url + "/hf-inference/models/BAAI/bge-small-en-v1.5/pipeline/feature-extraction"
    resp = litellm.embedding(
        model="huggingface/BAAI/bge-small-en-v1.5", input=["good morning", "hi"], api_base=url, api_key="hf_x"
    )
    req = server.last_request
    assert req.path == "/hf-inference/models/BAAI/bge-small-en-v1.5/pipeline/feature-extraction"
    assert req.body == {"inputs": ["good morning", "hi"]}
    assert req.headers["authorization"] == "Bearer hf_x"
    assert [d["index"] for d in resp.data] == [0, 1]
    assert all(len(d["embedding"]) > 0 for d in resp.data)
    assert resp.usage.prompt_tokens == 3
    assert resp.model == "BAAI/bge-small-en-v1.5"


@pytest.mark.parametrize(
    "status,exc",
    [
        (400, litellm.BadRequestError),
        (401, litellm.AuthenticationError),
        (404, litellm.NotFoundError),
        (429, litellm.RateLimitError),
        (500, litellm.InternalServerError),
        (503, litellm.ServiceUnavailableError),
    ],
)
def test_errors_in_hugging_faces_shape(server, args, status, exc):
    server.respond(status=status, body={"error": f"Model tgi failed ({status})", "estimated_time": 20.0})
    with pytest.raises(exc, match=f"failed \\({status}\\)") as info:
        litellm.completion(model="huggingface/tgi", messages=USER_HI, api_key="hf_secret_x", **args)
    assert info.value.status_code == status
    assert info.value.llm_provider == "huggingface"
    assert "hf_secret_x" not in str(info.value)


def test_router_deployment(server):
    router = litellm.Router(
        model_list=[
            {
                "model_name": "llama",
                "litellm_params": {"model": "huggingface/meta-llama/Llama-3.1-8B-Instruct", "api_base": server.url},
            }
        ],
        num_retries=0,
    )
    resp = router.completion(model="llama", messages=USER_HI)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert server.last_request.body["model"] == "meta-llama/Llama-3.1-8B-Instruct"
