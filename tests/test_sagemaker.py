"""Amazon SageMaker endpoints through the public API, against MockServer: `sagemaker/`
(TGI's `{"inputs", "parameters"}` body, the prompt LiteLLM builds, `[{"generated_text"}]`
replies, TGI's token stream in event-stream `PayloadPart` frames), `sagemaker_chat/`
(the OpenAI body of Messages API containers) and `text_inputs` embeddings; SigV4 with
service `sagemaker`, errors and credentials (litellm-behaviour.md §1.4, §1.5)."""

from __future__ import annotations

import hashlib
import json
import os
import re

import pytest

import rustllm as litellm

USER_HI = [{"role": "user", "content": "hi"}]
MODEL = "sagemaker/my-tgi-endpoint"
PATH = "/endpoints/my-tgi-endpoint/invocations"

SIGV4 = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=AKIDTEST/\d{8}/eu-west-1/sagemaker/aws4_request, "
    r"SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date(;x-amz-security-token)?, "
    r"Signature=[0-9a-f]{64}$"
)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-test")
    monkeypatch.setenv("AWS_REGION_NAME", "eu-west-1")


@pytest.fixture
def args(server):
    return {"api_base": server.url, "max_retries": 0}


def _no_secret(req):
    assert "secret-test" not in json.dumps(dict(req.headers))
    assert "secret-test" not in json.dumps(req.body)


def test_tgi_request_body_and_signature(server, args):
    resp = litellm.completion(
        model=MODEL,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello?"}],
        max_tokens=50,
        temperature=0,
        top_p=0.9,
        stop=["END"],
        n=2,
        top_k=5,
        **args,
    )
    req = server.last_request
    assert req.path == PATH
    # LiteLLM's body: OpenAI params mapped into `parameters` (temperature 0 → 0.01, n →
    # best_of with sampling), provider params kept, the messages joined into one prompt.
    assert req.body == {
        "parameters": {
            "temperature": 0.01,
            "top_p": 0.9,
            "best_of": 2,
            "do_sample": True,
            "stop": ["END"],
            "max_new_tokens": 50,
            "top_k": 5,
        },
        "inputs": "Be brief. Hello?",
    }
    assert SIGV4.match(req.headers["authorization"]), req.headers["authorization"]
    assert len(req.headers["x-amz-content-sha256"]) == 64
    assert (
        req.headers["x-amz-content-sha256"]
        == hashlib.sha256(json.dumps(req.body, separators=(",", ":")).encode()).hexdigest()
    )
    _no_secret(req)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.model == "my-tgi-endpoint"
    assert resp._hidden_params["custom_llm_provider"] == "sagemaker"
    # Usage is counted from the prompt and the text, as LiteLLM counts it.
    assert resp.usage.prompt_tokens == litellm.token_counter(text="Be brief. Hello?", count_response_tokens=True)
    assert resp.usage.completion_tokens == litellm.token_counter(
        text="Hello from MockServer!", count_response_tokens=True
    )


def test_llama_2_chat_template_and_echoed_prompt_removed(server, args):
    prompt = "<s>[INST] <<SYS>>\nsys\n<</SYS>>\n [/INST]\n[INST] hi [/INST]\n"
    server.respond(body=[{"generated_text": prompt + "Bonjour"}])
    resp = litellm.completion(
        model="sagemaker/jumpstart-dft-meta-textgeneration-llama-2-7b-chat",
        messages=[{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
        **args,
    )
    assert server.last_request.body["inputs"] == prompt
    assert resp.choices[0].message.content == "Bonjour"
    # hf_model_name picks the template for an endpoint whose name does not say it.
    litellm.completion(
        model="sagemaker/my-endpoint", messages=USER_HI, hf_model_name="meta-llama/Llama-2-7b-chat-hf", **args
    )
    assert server.last_request.body["inputs"] == "<s>[INST] hi [/INST]\n"
    assert "hf_model_name" not in json.dumps(server.last_request.body)


def test_credentials_from_arguments_with_session_token_and_component(server, args, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION_NAME"):
        monkeypatch.delenv(name)
    litellm.completion(
        model=MODEL,
        messages=USER_HI,
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key="secret-test",
        aws_session_token="session-tok",
        aws_region_name="eu-west-1",
        model_id="my-component",
        **args,
    )
    req = server.last_request
    assert req.headers["x-amz-security-token"] == "session-tok"
    assert req.headers["x-amzn-sagemaker-inference-component"] == "my-component"
    assert SIGV4.match(req.headers["authorization"])
    for key in ("aws_session_token", "model_id", "aws_access_key_id"):
        assert key not in json.dumps(req.body)
    _no_secret(req)


def test_missing_credentials_fail_before_any_request(server, args, monkeypatch):
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    for model in (MODEL, "sagemaker_chat/ep"):
        with pytest.raises(litellm.AuthenticationError, match="AWS_SECRET_ACCESS_KEY") as info:
            litellm.completion(model=model, messages=USER_HI, **args)
        assert info.value.llm_provider == model.split("/")[0]
    with pytest.raises(litellm.AuthenticationError):
        litellm.embedding(model="sagemaker/emb", input=["a"], **args)
    assert server.request_count == 0


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools"),
        ({"logit_bias": {"1": 1}}, "logit_bias"),
    ],
)
def test_unsupported_params_raise_unless_dropped(server, args, kwargs, match):
    with pytest.raises(litellm.UnsupportedParamsError, match=match):
        litellm.completion(model=MODEL, messages=USER_HI, **kwargs, **args)
    assert server.request_count == 0
    litellm.completion(model=MODEL, messages=USER_HI, drop_params=True, **kwargs, **args)
    assert match not in json.dumps(server.last_request.body)


def test_bad_inputs_are_refused_before_any_request(server, args):
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    with pytest.raises(litellm.BadRequestError, match="image_url"):
        litellm.completion(model=MODEL, messages=[{"role": "user", "content": [image]}], **args)
    with pytest.raises(litellm.BadRequestError, match="model_id"):
        litellm.completion(model=MODEL, messages=USER_HI, model_id=5, **args)
    with pytest.raises(litellm.BadRequestError, match="token arrays"):
        litellm.embedding(model="sagemaker/emb", input=[[1, 2, 3]], **args)
    with pytest.raises(litellm.BadRequestError, match="chat completions"):
        litellm.embedding(model="sagemaker_chat/ep", input=["a"], **args)
    assert server.request_count == 0


def test_tgi_stream_with_usage(server, args):
    stream = litellm.completion(
        model=MODEL,
        messages=[{"role": "user", "content": "say hello"}],
        stream=True,
        stream_options={"include_usage": True},
        **args,
    )
    chunks = list(stream)
    req = server.last_request
    assert req.path == PATH + "-response-stream"
    assert req.body["stream"] is True and req.body["inputs"] == "say hello"
    assert "stream_options" not in req.body
    assert SIGV4.match(req.headers["authorization"])
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(texts) == "Hello from MockServer!"
    assert len(texts) > 1
    assert "</s>" not in "".join(texts)  # TGI's special end token is not text
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    usage = chunks[-1].usage
    assert usage.prompt_tokens == litellm.token_counter(text="say hello", count_response_tokens=True)
    assert usage.completion_tokens == 3  # TGI's details.generated_tokens
    rebuilt = litellm.stream_chunk_builder(chunks)
    assert rebuilt.choices[0].message.content == "Hello from MockServer!"


def test_tgi_stream_of_a_length_stop(server, args):
    chunks = list(litellm.completion(model="sagemaker/ep", messages=USER_HI, max_tokens=2, stream=True, **args))
    assert server.last_request.body["parameters"] == {"max_new_tokens": 2}
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["length"]


async def test_async_tgi_call_and_stream(server, args):
    resp = await litellm.acompletion(model=MODEL, messages=USER_HI, **args)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    stream = await litellm.acompletion(model=MODEL, messages=USER_HI, stream=True, **args)
    texts = [c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content]
    assert "".join(texts) == "Hello from MockServer!"


def test_messages_api_body_reply_and_stream(server, args):
    resp = litellm.completion(
        model="sagemaker_chat/my-chat-endpoint", messages=USER_HI, max_tokens=9, temperature=0, **args
    )
    req = server.last_request
    assert req.path == "/endpoints/my-chat-endpoint/invocations"
    assert req.body == {"model": "my-chat-endpoint", "messages": USER_HI, "max_tokens": 9, "temperature": 0}
    assert SIGV4.match(req.headers["authorization"])
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert resp.usage.total_tokens > 0
    chunks = list(
        litellm.completion(
            model="sagemaker_chat/my-chat-endpoint",
            messages=USER_HI,
            stream=True,
            stream_options={"include_usage": True},
            **args,
        )
    )
    req = server.last_request
    assert req.path == "/endpoints/my-chat-endpoint/invocations-response-stream"
    assert "stream" not in req.body  # the path asks for the stream
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(texts) == "Hello from MockServer!"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]


def test_embeddings(server, args):
    resp = litellm.embedding(model="sagemaker/my-embedder", input=["good morning", "hi"], **args)
    req = server.last_request
    assert req.path == "/endpoints/my-embedder/invocations"
    assert req.body == {"text_inputs": ["good morning", "hi"]}
    assert SIGV4.match(req.headers["authorization"])
    assert [d["index"] for d in resp.data] == [0, 1]
    assert all(len(d["embedding"]) > 0 for d in resp.data)
    assert resp.model == "my-embedder"
    assert resp.usage.prompt_tokens == 3
    # A bare list (TEI) is a reply too; a string input is sent as a list.
    server.respond(body=[[0.5, 0.25]])
    resp = litellm.embedding(model="sagemaker/my-embedder", input="x", **args)
    assert server.last_request.body == {"text_inputs": ["x"]}
    assert resp.data[0]["embedding"] == [0.5, 0.25]


@pytest.mark.parametrize(
    "model,exc,status",
    [
        ("sagemaker/m-error-400", litellm.BadRequestError, 400),
        ("sagemaker/m-error-403", litellm.PermissionDeniedError, 403),
        ("sagemaker/m-error-404", litellm.NotFoundError, 404),
        ("sagemaker/m-error-429", litellm.RateLimitError, 429),
        ("sagemaker/m-error-500", litellm.InternalServerError, 500),
        ("sagemaker/m-error-503", litellm.ServiceUnavailableError, 503),
        ("sagemaker_chat/m-error-429", litellm.RateLimitError, 429),
    ],
)
def test_errors_by_status(server, args, model, exc, status):
    with pytest.raises(exc) as info:
        litellm.completion(model=model, messages=USER_HI, **args)
    assert info.value.status_code == status
    assert info.value.llm_provider == model.split("/")[0]
    assert "secret-test" not in str(info.value)


def test_model_errors_take_the_containers_status(server, args):
    # A container's failure arrives as 424 ModelError with the status it gave.
    server.respond(
        status=424,
        body={
            "ErrorCode": "CLIENT_ERROR_FROM_MODEL",
            "OriginalStatusCode": 422,
            "OriginalMessage": '{"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096"}',
            "Message": 'Received client error (422) from primary with message "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096"',
        },
        headers={"x-amzn-errortype": "ModelError:http://internal.amazon.com/coral/com.amazonaws.sagemaker/"},
    )
    with pytest.raises(litellm.ContextWindowExceededError):
        litellm.completion(model=MODEL, messages=USER_HI, **args)
    server.respond(
        status=424,
        body={"ErrorCode": "CLIENT_ERROR_FROM_MODEL", "OriginalStatusCode": 429, "Message": "busy"},
        headers={"x-amzn-errortype": "ModelError"},
    )
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(model=MODEL, messages=USER_HI, **args)
    server.respond(
        status=400,
        body={"message": "Endpoint my-tgi-endpoint of account 1 not found."},
        headers={"x-amzn-errortype": "ValidationError"},
    )
    with pytest.raises(litellm.BadRequestError, match="not found"):
        litellm.completion(model=MODEL, messages=USER_HI, **args)


def test_stream_errors_before_the_first_frame(server, args):
    with pytest.raises(litellm.RateLimitError):
        list(litellm.completion(model="sagemaker/m-error-429", messages=USER_HI, stream=True, **args))


def test_a_reply_without_generated_text_is_malformed(server, args):
    server.respond(body={"unexpected": 1})
    with pytest.raises(litellm.APIError, match="generated_text"):
        litellm.completion(model=MODEL, messages=USER_HI, **args)


def test_cost_of_a_catalogued_endpoint(server, args):
    resp = litellm.completion(model="sagemaker/meta-textgeneration-llama-2-7b", messages=USER_HI, **args)
    assert resp._hidden_params["response_cost"] == 0.0
    info = litellm.get_model_info("sagemaker/meta-textgeneration-llama-2-7b")
    assert info["litellm_provider"] == "sagemaker"


def test_router_serves_a_sagemaker_deployment(server):
    router = litellm.Router(
        model_list=[
            {
                "model_name": "tgi",
                "litellm_params": {
                    "model": MODEL,
                    "api_base": server.url,
                    "aws_access_key_id": "AKIDTEST",
                    "aws_secret_access_key": "secret-test",
                    "aws_region_name": "eu-west-1",
                },
            }
        ],
        num_retries=0,
    )
    resp = router.completion(model="tgi", messages=USER_HI)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert server.last_request.path == PATH
    assert SIGV4.match(server.last_request.headers["authorization"])


def test_proxy_serves_sagemaker_deployments(server):
    """A config deployment on `sagemaker/` serves chat (and a stream) and embeddings on
    the proxy's usual routes, signed with the deployment's credentials."""
    openai = pytest.importorskip("openai")
    from _proxy import ProxyProcess

    creds = (
        f"      api_base: {server.url}\n"
        "      aws_access_key_id: AKIDTEST\n"
        "      aws_secret_access_key: secret-test\n"
        "      aws_region_name: eu-west-1\n"
    )
    config = (
        "model_list:\n"
        "  - model_name: tgi\n    litellm_params:\n      model: sagemaker/my-tgi-endpoint\n"
        + creds
        + "  - model_name: emb\n    litellm_params:\n      model: sagemaker/my-embedder\n"
        + creds
        + "router_settings:\n  num_retries: 0\n"
        + "general_settings:\n  master_key: sk-1234\n"
    )
    with ProxyProcess(config) as proxy:
        client = openai.OpenAI(api_key="sk-1234", base_url=proxy.url, max_retries=0, timeout=30)
        r = client.chat.completions.create(model="tgi", messages=USER_HI, max_tokens=20)
        assert r.choices[0].message.content == "Hello from MockServer!"
        sent = server.last_request
        assert sent.path == PATH
        assert sent.body == {"parameters": {"max_new_tokens": 20}, "inputs": "hi"}
        assert SIGV4.match(sent.headers["authorization"])
        _no_secret(sent)
        stream = client.chat.completions.create(model="tgi", messages=USER_HI, stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Hello from MockServer!"
        assert server.last_request.path == PATH + "-response-stream"
        e = client.embeddings.create(model="emb", input=["a", "b"])
        assert len(e.data) == 2 and server.last_request.body == {"text_inputs": ["a", "b"]}


def test_the_signature_on_the_wire_verifies(server, args):
    from test_bedrock import _sigv4

    litellm.completion(model=MODEL, messages=USER_HI, aws_session_token="tok", **args)
    req = server.last_request
    m = re.match(
        r"AWS4-HMAC-SHA256 Credential=AKIDTEST/(\S+), SignedHeaders=(\S+), Signature=(\w+)$",
        req.headers["authorization"],
    )
    assert m
    scope, signed, signature = m.group(1), m.group(2).split(";"), m.group(3)
    assert scope.endswith("/eu-west-1/sagemaker/aws4_request")
    headers = {k.lower(): v for k, v in req.headers.items()}
    expected = _sigv4("secret-test", "POST", req.path, headers, signed, req.headers["x-amz-content-sha256"], scope)
    assert signature == expected
