"""Azure OpenAI through the public API, against MockServer: deployment URLs, api-version,
the api-key header or an Entra ID token, keys and bases from the environment, streaming,
embeddings, and Azure's content-filter errors (litellm-behaviour.md §1.4, §5.2)."""

from __future__ import annotations

import pytest

import rustllm as litellm

USER_HI = [{"role": "user", "content": "hi"}]


def test_deployment_url_version_header_and_body(server):
    resp = litellm.completion(
        model="azure/my-gpt4o",
        messages=USER_HI,
        api_base=server.url,
        api_key="az-key",
        api_version="2024-10-21",
        temperature=0.5,
        seed=3,
        max_retries=0,
    )
    req = server.last_request
    assert req.path == "/openai/deployments/my-gpt4o/chat/completions"
    assert req.query == "api-version=2024-10-21"
    assert req.headers["api-key"] == "az-key"
    assert "authorization" not in req.headers
    assert req.body == {"model": "my-gpt4o", "messages": USER_HI, "temperature": 0.5, "seed": 3}
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert resp._hidden_params["custom_llm_provider"] == "azure"


def test_environment_variables(server, monkeypatch):
    monkeypatch.setenv("AZURE_API_KEY", "env-key")
    monkeypatch.setenv("AZURE_API_BASE", server.url + "/")
    monkeypatch.setenv("AZURE_API_VERSION", "2024-06-01")
    litellm.completion(model="azure/dep", messages=USER_HI, max_retries=0)
    req = server.last_request
    assert req.path == "/openai/deployments/dep/chat/completions"
    assert req.query == "api-version=2024-06-01"
    assert req.headers["api-key"] == "env-key"


def test_second_key_variable_and_default_version(server, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "other-key")
    litellm.completion(model="azure/dep", messages=USER_HI, api_base=server.url, max_retries=0)
    req = server.last_request
    assert req.headers["api-key"] == "other-key"
    assert req.query == "api-version=2025-02-01-preview"


def test_azure_ad_token(server, monkeypatch):
    litellm.completion(
        model="azure/dep", messages=USER_HI, api_base=server.url, azure_ad_token="eyJ-token", max_retries=0
    )
    req = server.last_request
    assert req.headers["authorization"] == "Bearer eyJ-token"
    assert "api-key" not in req.headers
    assert "azure_ad_token" not in req.body
    monkeypatch.setenv("AZURE_AD_TOKEN", "env-token")
    litellm.completion(model="azure/dep", messages=USER_HI, api_base=server.url, max_retries=0)
    assert server.last_request.headers["authorization"] == "Bearer env-token"


def test_missing_key_and_missing_base(server):
    with pytest.raises(litellm.AuthenticationError, match="AZURE_API_KEY"):
        litellm.completion(model="azure/dep", messages=USER_HI, api_base=server.url)
    with pytest.raises(litellm.BadRequestError, match="AZURE_API_BASE"):
        litellm.completion(model="azure/dep", messages=USER_HI, api_key="k")
    assert server.request_count == 0


def test_streaming(server):
    chunks = list(
        litellm.completion(
            model="azure/dep",
            messages=USER_HI,
            api_base=server.url,
            api_key="k",
            stream=True,
            stream_options={"include_usage": True},
            max_retries=0,
        )
    )
    assert server.last_request.body["stream"] is True
    rebuilt = litellm.stream_chunk_builder(chunks)
    assert rebuilt.choices[0].message.content == "Hello from MockServer!"
    assert rebuilt.usage.completion_tokens == 3


def test_embeddings_use_the_deployment_url(server):
    resp = litellm.embedding(model="azure/emb-dep", input=["a", "b"], api_base=server.url, api_key="k", max_retries=0)
    req = server.last_request
    assert req.path == "/openai/deployments/emb-dep/embeddings"
    assert req.query.startswith("api-version=")
    assert req.body["model"] == "emb-dep"
    assert len(resp.data) == 2


def test_content_filter_error_is_a_content_policy_violation(server):
    server.respond(
        status=400,
        body={
            "error": {
                "message": "The response was filtered due to the prompt triggering Azure OpenAI's content "
                "management policy. Please modify your prompt and retry.",
                "type": None,
                "param": "prompt",
                "code": "content_filter",
                "status": 400,
                "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {}},
            }
        },
    )
    with pytest.raises(litellm.ContentPolicyViolationError) as info:
        litellm.completion(model="azure/dep", messages=USER_HI, api_base=server.url, api_key="k", max_retries=0)
    assert info.value.status_code == 400
    assert "AzureException" in str(info.value)
    assert isinstance(info.value, litellm.BadRequestError)

    server.respond(status=400, body={"error": {"code": "content_filter", "message": "Blocked."}})
    with pytest.raises(litellm.ContentPolicyViolationError):
        litellm.completion(model="azure/dep", messages=USER_HI, api_base=server.url, api_key="k", max_retries=0)


def test_a_filtered_200_reply_stays_a_reply(server):
    server.respond(
        body={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o",
            "choices": [
                {"index": 0, "finish_reason": "content_filter", "message": {"role": "assistant", "content": None}}
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1},
        }
    )
    resp = litellm.completion(model="azure/dep", messages=USER_HI, api_base=server.url, api_key="k", max_retries=0)
    assert resp.choices[0].finish_reason == "content_filter"


@pytest.mark.parametrize(
    "model,exc",
    [
        ("dep-error-401", litellm.AuthenticationError),
        ("dep-error-404", litellm.NotFoundError),
        ("dep-error-429", litellm.RateLimitError),
        ("dep-context-window-error", litellm.ContextWindowExceededError),
    ],
)
def test_errors_by_status(server, model, exc):
    with pytest.raises(exc, match="AzureException"):
        litellm.completion(model=f"azure/{model}", messages=USER_HI, api_base=server.url, api_key="k", max_retries=0)
