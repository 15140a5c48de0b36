"""Replicate's predictions API through the public API, against MockServer: the create
call (URL, ``Authorization: Token``, ``{"input": {"prompt", ...}}``), polling ``urls.get``
until the prediction succeeds, streams from ``urls.stream``, failures and errors, and the
token's environment variables (litellm-behaviour.md §1.4, §1.5)."""

from __future__ import annotations

import pytest

import rustllm as litellm

USER_HI = [{"role": "user", "content": "hi"}]
MODEL = "replicate/meta/llama-2-7b-chat"


@pytest.fixture(autouse=True)
def replicate_env(monkeypatch):
    for name in ("REPLICATE_API_KEY", "REPLICATE_API_TOKEN", "REPLICATE_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REPLICATE_API_KEY", "r8_test_secret")


@pytest.fixture
def args(server):
    return {"api_base": server.url, "max_retries": 0}


def test_prediction_is_created_then_polled(server, args):
    resp = litellm.completion(
        model=MODEL,
        messages=[{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
        max_tokens=20,
        temperature=0.5,
        stop=["END", "STOP"],
        top_k=3,
        **args,
    )
    create, poll = server.requests[-2], server.requests[-1]
    assert (create.method, create.path) == ("POST", "/v1/models/meta/llama-2-7b-chat/predictions")
    assert create.headers["authorization"] == "Token r8_test_secret"
    # The Llama-2 chat template, LiteLLM's parameter names, other keywords in `input`.
    assert create.body == {
        "input": {
            "prompt": "<s>[INST] <<SYS>>\nsys\n<</SYS>>\n [/INST]\n[INST] hi [/INST]\n",
            "max_new_tokens": 20,
            "stop_sequences": "END,STOP",
            "temperature": 0.5,
            "top_k": 3,
        }
    }
    assert poll.method == "GET" and poll.path.startswith("/v1/predictions/p")
    assert poll.headers["authorization"] == "Token r8_test_secret"
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.model == "replicate/meta/llama-2-7b-chat"
    assert resp.usage.completion_tokens == litellm.token_counter(
        text="Hello from MockServer!", count_response_tokens=True
    )
    assert resp._hidden_params["custom_llm_provider"] == "replicate"


def test_versions_deployments_and_system_prompts(server, args):
    version = "a" * 64
    litellm.completion(model=f"replicate/owner/model:{version}", messages=USER_HI, **args)
    create = server.requests[-2]
    assert create.path == "/v1/predictions"
    assert create.body == {"version": version, "input": {"prompt": "hi"}}
    litellm.completion(
        model="replicate/deployments/acme/my-llm",
        messages=[{"role": "system", "content": "be terse"}, {"role": "user", "content": "hi"}],
        supports_system_prompt=True,
        **args,
    )
    create = server.requests[-2]
    assert create.path == "/v1/deployments/acme/my-llm/predictions"
    assert create.body == {"input": {"prompt": "hi", "system_prompt": "be terse"}}


def test_token_from_the_second_variable(server, args, monkeypatch):
    monkeypatch.delenv("REPLICATE_API_KEY")
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_other")
    litellm.completion(model=MODEL, messages=USER_HI, **args)
    assert server.requests[-2].headers["authorization"] == "Token r8_other"


def test_bad_input_fails_before_any_request(server, args, monkeypatch):
    with pytest.raises(litellm.BadRequestError, match="64 hex digits"):
        litellm.completion(model="replicate/owner/model:abc", messages=USER_HI, **args)
    with pytest.raises(litellm.BadRequestError, match="replicate/<owner>/<name>"):
        litellm.completion(model="replicate/llama", messages=USER_HI, **args)
    with pytest.raises(litellm.UnsupportedParamsError, match="tools"):
        litellm.completion(
            model=MODEL,
            messages=USER_HI,
            tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
            **args,
        )
    with pytest.raises(litellm.BadRequestError, match="chat completions only"):
        litellm.embedding(model="replicate/a/b", input=["x"], **args)
    monkeypatch.delenv("REPLICATE_API_KEY")
    with pytest.raises(litellm.AuthenticationError, match="REPLICATE_API_KEY or REPLICATE_API_TOKEN"):
        litellm.completion(model=MODEL, messages=USER_HI, **args)
    assert server.request_count == 0


def test_stream_reads_the_prediction_stream(server, args):
    chunks = list(
        litellm.completion(model=MODEL, messages=USER_HI, stream=True, stream_options={"include_usage": True}, **args)
    )
    create, stream = server.requests[-2], server.requests[-1]
    assert create.body["stream"] is True
    assert stream.method == "GET" and stream.path.startswith("/v1/streams/p")
    assert stream.headers["accept"] == "text/event-stream"
    assert stream.headers["authorization"] == "Token r8_test_secret"
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(texts) == "Hello from MockServer!"
    assert len(texts) > 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].usage.completion_tokens > 0


async def test_async_call_and_stream(server, args):
    resp = await litellm.acompletion(model=MODEL, messages=USER_HI, **args)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    stream = await litellm.acompletion(model=MODEL, messages=USER_HI, stream=True, **args)
    texts = [c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content]
    assert "".join(texts) == "Hello from MockServer!"


def test_a_failed_prediction_raises(server, args):
    server.respond(
        status=201,
        body={"id": "x", "status": "failed", "error": "CUDA out of memory", "urls": {}},
    )
    with pytest.raises(litellm.BadRequestError, match="CUDA out of memory"):
        litellm.completion(model=MODEL, messages=USER_HI, **args)
    assert server.request_count == 1


def test_a_poll_url_elsewhere_is_not_followed(server, args):
    server.respond(
        status=201,
        body={"id": "x", "status": "starting", "urls": {"get": "http://169.254.169.254/latest/meta-data"}},
    )
    with pytest.raises(litellm.APIError, match="not followed"):
        litellm.completion(model=MODEL, messages=USER_HI, **args)
    assert server.request_count == 1


@pytest.mark.parametrize(
    "model,exc,status",
    [
        ("replicate/o/m-error-401", litellm.AuthenticationError, 401),
        ("replicate/o/m-error-404", litellm.NotFoundError, 404),
        ("replicate/o/m-error-422", litellm.UnprocessableEntityError, 422),
        ("replicate/o/m-error-429", litellm.RateLimitError, 429),
        ("replicate/o/m-error-500", litellm.InternalServerError, 500),
    ],
)
def test_errors_by_status(server, args, model, exc, status):
    with pytest.raises(exc) as info:
        litellm.completion(model=model, messages=USER_HI, **args)
    assert info.value.status_code == status
    assert info.value.llm_provider == "replicate"
    assert "r8_test_secret" not in str(info.value)


def test_cost_of_a_catalogued_model(server, args):
    resp = litellm.completion(model="replicate/meta/llama-2-7b-chat", messages=USER_HI, **args)
    assert resp._hidden_params["response_cost"] > 0


def test_callbacks_cost_cache_and_router(server, args):
    import time

    seen = []
    litellm.success_callback = [lambda kwargs, resp, start, end: seen.append((kwargs["model"], resp.id))]
    litellm.cache = litellm.Cache()
    first = litellm.completion(model=MODEL, messages=USER_HI, **args)
    second = litellm.completion(model=MODEL, messages=USER_HI, **args)
    assert second._hidden_params.get("cache_hit") is True
    assert second.choices[0].message.content == first.choices[0].message.content
    assert server.request_count == 2  # one create and one poll, for the first call only
    assert first._hidden_params["response_cost"] == pytest.approx(litellm.completion_cost(first))
    deadline = time.monotonic() + 5
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen[0] == ("meta/llama-2-7b-chat", first.id)
    litellm.cache = None
    router = litellm.Router(
        model_list=[{"model_name": "llama", "litellm_params": {"model": MODEL, "api_base": server.url}}],
        num_retries=0,
    )
    assert router.completion(model="llama", messages=USER_HI).choices[0].message.content == "Hello from MockServer!"
    assert server.requests[-2].path == "/v1/models/meta/llama-2-7b-chat/predictions"
