"""Vertex AI (`vertex_ai/`) through the public API against MockServer: the Gemini body on
Vertex URLs, project and location from arguments or the environment, and OAuth tokens
minted from a service account (JWT signed with RS256, checked here with `cryptography`),
cached and reused."""

from __future__ import annotations

import base64
import json
import time
import uuid
from urllib.parse import parse_qs

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import rustllm as litellm

USER_HI = [{"role": "user", "content": "hi"}]
MODEL = "vertex_ai/gemini-2.0-flash"
GEMINI_PATH = "/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:{method}"


@pytest.fixture(scope="module")
def rsa_key():
    """A throwaway RSA key, made for this test run only."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def service_account(server, rsa_key):
    """A service-account JSON whose token_uri is the mock; a fresh account per test, so
    the process-wide token cache never carries a token from one test into another."""
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": "sa-project",
        "private_key_id": "key-1",
        "private_key": pem,
        "client_email": f"tester-{uuid.uuid4().hex[:8]}@sa-project.iam.gserviceaccount.com",
        "client_id": "1234",
        "token_uri": server.url + "/token",
    }


@pytest.fixture
def args(server, service_account):
    return {
        "api_base": server.url,
        "vertex_credentials": service_account,
        "vertex_project": "my-project",
        "vertex_location": "europe-west4",
        "max_retries": 0,
    }


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _token_requests(server):
    return [r for r in server.requests if r.path == "/token"]


def _model_requests(server):
    return [r for r in server.requests if r.path != "/token"]


def test_gemini_body_on_the_vertex_url_with_a_bearer_token(server, args):
    resp = litellm.completion(
        model=MODEL, messages=[{"role": "system", "content": "Be brief."}, *USER_HI], max_tokens=20, **args
    )
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert resp._hidden_params["custom_llm_provider"] == "vertex_ai"
    (req,) = _model_requests(server)
    assert req.path == GEMINI_PATH.format(
        p="my-project", l="europe-west4", m="gemini-2.0-flash", method="generateContent"
    )
    assert req.headers["authorization"].startswith("Bearer ya29.mock-token-")
    assert "x-goog-api-key" not in req.headers
    assert req.body == {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "system_instruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {"maxOutputTokens": 20},
    }


def test_token_is_minted_once_with_a_valid_rs256_signature(server, args, rsa_key, service_account):
    before = int(time.time())
    litellm.completion(model=MODEL, messages=USER_HI, **args)
    litellm.completion(model=MODEL, messages=USER_HI, **args)
    tokens = _token_requests(server)
    assert len(tokens) == 1, "the second call must reuse the cached token"
    calls = _model_requests(server)
    assert len(calls) == 2
    assert calls[0].headers["authorization"] == calls[1].headers["authorization"]

    (token_req,) = tokens
    assert token_req.method == "POST"
    assert token_req.headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(token_req.body)
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    header_b64, claims_b64, signature_b64 = form["assertion"][0].split(".")
    assert json.loads(_b64url(header_b64)) == {"alg": "RS256", "typ": "JWT", "kid": "key-1"}
    claims = json.loads(_b64url(claims_b64))
    assert claims["iss"] == service_account["client_email"]
    assert claims["aud"] == service_account["token_uri"]
    assert claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"
    assert claims["exp"] - claims["iat"] == 3600
    assert before - 5 <= claims["iat"] <= int(time.time()) + 5
    # Raises InvalidSignature if the signature does not match the service account's key.
    rsa_key.public_key().verify(
        _b64url(signature_b64),
        f"{header_b64}.{claims_b64}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


async def test_async_calls_share_the_cached_token(server, args):
    await litellm.acompletion(model=MODEL, messages=USER_HI, **args)
    await litellm.acompletion(model=MODEL, messages=USER_HI, **args)
    litellm.completion(model=MODEL, messages=USER_HI, **args)
    assert len(_token_requests(server)) == 1
    assert len(_model_requests(server)) == 3


def test_credentials_as_json_string_file_and_environment(server, service_account, tmp_path, monkeypatch):
    base = {"api_base": server.url, "vertex_project": "p", "max_retries": 0}
    litellm.completion(model=MODEL, messages=USER_HI, vertex_credentials=json.dumps(service_account), **base)
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(service_account))
    litellm.completion(model=MODEL, messages=USER_HI, vertex_credentials=str(path), **base)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    litellm.completion(model=MODEL, messages=USER_HI, **base)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    monkeypatch.setenv("VERTEXAI_CREDENTIALS", str(path))
    litellm.completion(model=MODEL, messages=USER_HI, **base)
    # One account, one token, whichever way it was given.
    assert len(_token_requests(server)) == 1
    assert len(_model_requests(server)) == 4


def test_project_and_location_from_the_environment(server, service_account, monkeypatch):
    monkeypatch.setenv("VERTEXAI_PROJECT", "env-project")
    monkeypatch.setenv("VERTEXAI_LOCATION", "asia-east1")
    litellm.completion(model=MODEL, messages=USER_HI, api_base=server.url, vertex_credentials=service_account)
    assert server.last_request.path == GEMINI_PATH.format(
        p="env-project", l="asia-east1", m="gemini-2.0-flash", method="generateContent"
    )


def test_project_falls_back_to_the_credentials_and_location_to_us_central1(server, service_account, monkeypatch):
    monkeypatch.delenv("VERTEXAI_PROJECT", raising=False)
    monkeypatch.delenv("VERTEX_PROJECT", raising=False)
    monkeypatch.delenv("VERTEXAI_LOCATION", raising=False)
    monkeypatch.delenv("VERTEX_LOCATION", raising=False)
    litellm.completion(model=MODEL, messages=USER_HI, api_base=server.url, vertex_credentials=service_account)
    assert server.last_request.path == GEMINI_PATH.format(
        p="sa-project", l="us-central1", m="gemini-2.0-flash", method="generateContent"
    )


def test_base_from_the_environment(server, service_account, monkeypatch):
    monkeypatch.setenv("VERTEXAI_API_BASE", server.url)
    litellm.completion(model=MODEL, messages=USER_HI, vertex_credentials=service_account, vertex_project="p")
    assert server.last_request.path.startswith("/v1/projects/p/locations/")


def test_streaming_with_tools(server, args):
    tool = {
        "type": "function",
        "function": {"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}}},
    }
    chunks = list(
        litellm.completion(model="vertex_ai/gemini-tool", messages=USER_HI, tools=[tool], stream=True, **args)
    )
    req = _model_requests(server)[-1]
    assert req.path == GEMINI_PATH.format(
        p="my-project", l="europe-west4", m="gemini-tool", method="streamGenerateContent"
    )
    assert req.query == "alt=sse"
    assert req.headers["authorization"].startswith("Bearer ")
    built = litellm.stream_chunk_builder(chunks)
    assert built.choices[0].message.tool_calls[0].function.arguments == '{"x": 1}'
    assert built.choices[0].finish_reason == "tool_calls"


def test_streaming_text(server, args):
    chunks = list(litellm.completion(model=MODEL, messages=USER_HI, stream=True, **args))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello from MockServer!"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_api_key_is_used_as_the_access_token(server):
    litellm.completion(model=MODEL, messages=USER_HI, api_base=server.url, api_key="ya29.given", vertex_project="p")
    (req,) = server.requests
    assert req.headers["authorization"] == "Bearer ya29.given"


@pytest.mark.parametrize(
    "model,exc",
    [
        ("vertex_ai/gemini-error-429", litellm.RateLimitError),
        ("vertex_ai/gemini-error-403", litellm.PermissionDeniedError),
        ("vertex_ai/gemini-error-500", litellm.InternalServerError),
        ("vertex_ai/gemini-context-window-error", litellm.ContextWindowExceededError),
        ("vertex_ai/gemini-content-policy-error", litellm.ContentPolicyViolationError),
    ],
)
def test_errors_map_to_litellm_exceptions(server, args, model, exc):
    with pytest.raises(exc) as info:
        litellm.completion(model=model, messages=USER_HI, **args)
    assert "Vertex_aiException" in str(info.value)
    assert info.value.llm_provider == "vertex_ai"


def test_refused_credentials_are_an_authentication_error(server, service_account):
    service_account["token_uri"] = server.url + "/token-error-400"
    with pytest.raises(litellm.AuthenticationError, match="invalid_grant"):
        litellm.completion(
            model=MODEL,
            messages=USER_HI,
            api_base=server.url,
            vertex_credentials=service_account,
            vertex_project="p",
            max_retries=0,
        )
    assert [r.path for r in server.requests] == ["/token-error-400"]


def test_missing_credentials_fail_before_the_network(server, monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("VERTEXAI_CREDENTIALS", raising=False)
    with pytest.raises(litellm.AuthenticationError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        litellm.completion(model=MODEL, messages=USER_HI, api_base=server.url, vertex_project="p")
    with pytest.raises(litellm.AuthenticationError, match="cannot read the credentials file"):
        litellm.completion(
            model=MODEL,
            messages=USER_HI,
            api_base=server.url,
            vertex_project="p",
            vertex_credentials="/nonexistent/sa.json",
        )
    assert server.request_count == 0


def test_missing_project_fails_before_the_network(server, service_account, monkeypatch):
    monkeypatch.delenv("VERTEXAI_PROJECT", raising=False)
    monkeypatch.delenv("VERTEX_PROJECT", raising=False)
    del service_account["project_id"]
    with pytest.raises(litellm.BadRequestError, match="VERTEXAI_PROJECT"):
        litellm.completion(model=MODEL, messages=USER_HI, api_base=server.url, vertex_credentials=service_account)
    assert server.request_count == 0


def test_unsupported_params(server, args):
    with pytest.raises(litellm.UnsupportedParamsError, match="vertex_ai does not support parameters: \\['user'\\]"):
        litellm.completion(model=MODEL, messages=USER_HI, user="u", **args)
    litellm.completion(model=MODEL, messages=USER_HI, user="u", drop_params=True, **args)
    assert "user" not in _model_requests(server)[-1].body


CLAUDE = "vertex_ai/claude-sonnet-4@20250514"
CLAUDE_PATH = (
    "/v1/projects/my-project/locations/europe-west4/publishers/anthropic/models/claude-sonnet-4@20250514:{method}"
)


def test_claude_uses_the_anthropic_body_on_raw_predict(server, args):
    resp = litellm.completion(model=CLAUDE, messages=[{"role": "system", "content": "Be brief."}, *USER_HI], **args)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert resp.choices[0].finish_reason == "stop"
    req = _model_requests(server)[-1]
    assert req.path == CLAUDE_PATH.format(method="rawPredict")
    assert req.headers["authorization"].startswith("Bearer ya29.mock-token-")
    assert "x-api-key" not in req.headers and "anthropic-version" not in req.headers
    assert req.body == {
        "anthropic_version": "vertex-2023-10-16",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "system": [{"type": "text", "text": "Be brief."}],
        "max_tokens": 4096,
    }
    assert len(_token_requests(server)) == 1


def test_claude_streams_on_stream_raw_predict(server, args):
    chunks = list(litellm.completion(model=CLAUDE, messages=USER_HI, stream=True, **args))
    req = _model_requests(server)[-1]
    assert req.path == CLAUDE_PATH.format(method="streamRawPredict")
    assert req.body["stream"] is True
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello from MockServer!"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_claude_tools_and_errors(server, args):
    tool = {
        "type": "function",
        "function": {"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}}},
    }
    resp = litellm.completion(model="vertex_ai/claude-tool", messages=USER_HI, tools=[tool], **args)
    assert resp.choices[0].finish_reason == "tool_calls"
    assert resp.choices[0].message.tool_calls[0].function.name == "f"
    assert _model_requests(server)[-1].body["tools"] == [
        {"name": "f", "input_schema": {"type": "object", "properties": {"x": {"type": "integer"}}}}
    ]
    with pytest.raises(litellm.RateLimitError) as info:
        litellm.completion(model="vertex_ai/claude-error-429", messages=USER_HI, **args)
    assert "Vertex_aiException" in str(info.value)
