"""No credentials reach another host through a redirect.

Provider APIs do not redirect; a 3xx means a wrong `api_base` or something in the path
that should not be trusted with the key. rustllm follows only a 307/308 to the same scheme,
host and port (the key stays on the server it was meant for, the body is kept) and reports
every other redirect as an APIError naming where it pointed. Here server A redirects to
server B for every provider: B must receive nothing at all.
"""

from __future__ import annotations

import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from faultserver import FaultServer, http

import rustllm

USER = [{"role": "user", "content": "hi"}]
OPENAI_REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "landed"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
KEY = "sk-secret-key-123"


@pytest.fixture
def target():
    with FaultServer(lambda req: http(200, OPENAI_REPLY)) as server:
        yield server


def redirecting(target_url: str, status: int = 302) -> FaultServer:
    """Redirects every request to the same path on `target_url`; serves Vertex's token."""

    def script(req):
        if req.path == "/token":
            return http(200, {"access_token": "ya29.token", "expires_in": 3600, "token_type": "Bearer"})
        return http(status, b"", {"location": target_url + req.path})

    return FaultServer(script)


def _vertex_credentials(token_uri: str) -> dict:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": f"t-{uuid.uuid4().hex[:8]}@p.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }


def provider_call(provider: str, base: str, monkeypatch) -> dict:
    """The keyword arguments that send `provider`'s request (with its credentials) to `base`."""
    common = {"messages": USER, "max_retries": 0, "timeout": 10}
    if provider == "bedrock":
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSECRET")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
        monkeypatch.setenv("AWS_REGION_NAME", "eu-west-1")
        return {"model": "bedrock/anthropic.claude-3-haiku-20240307-v1:0", "api_base": base, **common}
    if provider == "vertex_ai":
        return {
            "model": "vertex_ai/gemini-2.0-flash",
            "api_base": base,
            "vertex_credentials": _vertex_credentials(base + "/token"),
            "vertex_project": "p",
            "vertex_location": "europe-west4",
            **common,
        }
    model = {
        "openai": "openai/m",
        "anthropic": "anthropic/claude-x",
        "azure": "azure/dep",
        "gemini": "gemini/gemini-2.0-flash",
        "cohere_chat": "cohere_chat/command-r",
        "ollama_chat": "ollama_chat/llama3",
        "groq": "groq/llama3",
    }[provider]
    args = {"model": model, "api_base": base, "api_key": KEY, **common}
    if provider == "azure":
        args["api_version"] = "2024-06-01"
    if provider == "ollama_chat":
        args["headers"] = {"Authorization": f"Bearer {KEY}"}
    return args


PROVIDERS = ["openai", "groq", "anthropic", "azure", "gemini", "vertex_ai", "cohere_chat", "ollama_chat", "bedrock"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_redirect_to_another_host_sends_nothing_there(provider, status, target, monkeypatch):
    with redirecting(target.base_url, status) as origin:
        args = provider_call(provider, origin.base_url, monkeypatch)
        with pytest.raises(rustllm.APIError) as info:
            rustllm.completion(**args)
    assert target.requests == [], "the redirect target received a request"
    calls = [r for r in origin.requests if r.path != "/token"]
    assert len(calls) == 1
    err = info.value
    assert err.status_code == status
    assert target.base_url in str(err)
    assert "api_base" in str(err)
    assert KEY not in str(err)
    assert all("referer" not in r.headers for r in origin.requests)


@pytest.mark.parametrize("status", [302, 307])
async def test_async_and_streams_are_not_redirected_either(status, target):
    with redirecting(target.base_url, status) as origin:
        args = {"model": "openai/m", "messages": USER, "api_base": origin.base_url, "api_key": KEY, "max_retries": 0}
        with pytest.raises(rustllm.APIError):
            await rustllm.acompletion(**args)
        with pytest.raises(rustllm.APIError):
            await rustllm.acompletion(**args, stream=True)
        with pytest.raises(rustllm.APIError):
            rustllm.completion(**args, stream=True)
        with pytest.raises(rustllm.APIError):
            rustllm.embedding(model="openai/e", input="x", api_base=origin.base_url, api_key=KEY, max_retries=0)
    assert target.requests == []


def test_another_port_on_the_same_host_is_another_origin(target):
    # Same host (127.0.0.1), other port: a different server, so not followed.
    with redirecting(target.base_url, 307) as origin:
        with pytest.raises(rustllm.APIError):
            rustllm.completion(model="openai/m", messages=USER, api_base=origin.base_url, api_key=KEY, max_retries=0)
    assert target.requests == []


def test_a_same_origin_307_is_followed_with_the_body_and_key():
    def script(req):
        if req.path.startswith("/old/"):
            return http(307, b"", {"location": req.path.replace("/old/", "/new/", 1)})
        return http(200, OPENAI_REPLY)

    with FaultServer(script) as server:
        reply = rustllm.completion(
            model="openai/m", messages=USER, api_base=server.base_url + "/old", api_key=KEY, max_retries=0
        )
    assert reply.choices[0].message.content == "landed"
    first, second = server.requests
    assert first.path == "/old/chat/completions"
    assert second.path == "/new/chat/completions"
    assert second.method == "POST"
    assert second.json()["messages"] == USER
    assert second.headers["authorization"] == f"Bearer {KEY}"
    assert "referer" not in second.headers


def test_a_same_origin_302_is_not_followed_because_it_would_drop_the_body():
    def script(req):
        return http(302, b"", {"location": "/elsewhere"})

    with FaultServer(script) as server:
        with pytest.raises(rustllm.APIError) as info:
            rustllm.completion(model="openai/m", messages=USER, api_base=server.base_url, api_key=KEY, max_retries=0)
    assert len(server.requests) == 1
    assert info.value.status_code == 302
    assert "/elsewhere" in str(info.value)


def test_a_redirect_loop_ends():
    def script(req):
        return http(307, b"", {"location": req.path})

    with FaultServer(script) as server:
        with pytest.raises(rustllm.APIError):
            rustllm.completion(model="openai/m", messages=USER, api_base=server.base_url, api_key=KEY, max_retries=0)
    assert 1 < len(server.requests) <= 6
