"""Provider resolution: prefixes, bare names, custom_llm_provider, api_base inference,
default bases and key variables, and the errors raised before any network call."""

from __future__ import annotations

import pytest

import rustllm as litellm

USER_HI = [{"role": "user", "content": "hi"}]

# (provider, key variable, base variable, default base) from litellm-behaviour.md §1.4.
PROVIDERS = [
    ("openai", "OPENAI_API_KEY", "OPENAI_BASE_URL", "https://api.openai.com/v1"),
    ("mistral", "MISTRAL_API_KEY", "MISTRAL_AZURE_API_BASE", "https://api.mistral.ai/v1"),
    ("groq", "GROQ_API_KEY", "GROQ_API_BASE", "https://api.groq.com/openai/v1"),
    ("xai", "XAI_API_KEY", "XAI_API_BASE", "https://api.x.ai/v1"),
    ("dashscope", "DASHSCOPE_API_KEY", "DASHSCOPE_API_BASE", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"),
    ("deepseek", "DEEPSEEK_API_KEY", "DEEPSEEK_API_BASE", "https://api.deepseek.com/beta"),
    ("perplexity", "PERPLEXITYAI_API_KEY", "PERPLEXITY_API_BASE", "https://api.perplexity.ai"),
    ("fireworks_ai", "FIREWORKS_API_KEY", "FIREWORKS_API_BASE", "https://api.fireworks.ai/inference/v1"),
    ("together_ai", "TOGETHER_API_KEY", "TOGETHER_AI_API_BASE", "https://api.together.xyz/v1"),
    ("openrouter", "OPENROUTER_API_KEY", "OPENROUTER_API_BASE", "https://openrouter.ai/api/v1"),
    ("deepinfra", "DEEPINFRA_API_KEY", "DEEPINFRA_API_BASE", "https://api.deepinfra.com/v1/openai"),
    ("cerebras", "CEREBRAS_API_KEY", "CEREBRAS_API_BASE", "https://api.cerebras.ai/v1"),
    ("nvidia_nim", "NVIDIA_NIM_API_KEY", "NVIDIA_NIM_API_BASE", "https://integrate.api.nvidia.com/v1"),
    ("moonshot", "MOONSHOT_API_KEY", "MOONSHOT_API_BASE", "https://api.moonshot.ai/v1"),
    ("hosted_vllm", "HOSTED_VLLM_API_KEY", "HOSTED_VLLM_API_BASE", None),
    ("lm_studio", "LM_STUDIO_API_KEY", "LM_STUDIO_API_BASE", "http://localhost:1234/v1"),
]


@pytest.mark.parametrize("provider,key_var,base_var,default_base", PROVIDERS)
def test_env_variables_route_each_provider(server, monkeypatch, provider, key_var, base_var, default_base):
    monkeypatch.setenv(key_var, f"key-for-{provider}")
    monkeypatch.setenv(base_var, server.base_url)
    resp = litellm.completion(model=f"{provider}/some-model", messages=USER_HI, max_retries=0)
    assert resp.choices[0].message.content
    req = server.last_request
    assert req.body["model"] == "some-model"
    assert req.headers["authorization"] == f"Bearer key-for-{provider}"
    assert resp._hidden_params["custom_llm_provider"] == provider


@pytest.mark.parametrize("provider,key_var,base_var,default_base", [p for p in PROVIDERS if p[3]])
def test_default_bases(provider, key_var, base_var, default_base):
    model, got_provider, _key, base = litellm.get_llm_provider(f"{provider}/m")
    assert (model, got_provider, base) == ("m", provider, default_base)


def test_every_compatible_provider_routes_with_explicit_base(server):
    assert len(litellm.openai_compatible_providers) >= 40
    for provider in litellm.openai_compatible_providers:
        server.reset()
        litellm.completion(
            model=f"{provider}/m", messages=USER_HI, api_base=server.base_url, api_key="k", max_retries=0
        )
        assert server.last_request.path.endswith("/completions"), provider


def test_get_llm_provider_prefix_rules():
    assert litellm.get_llm_provider("openrouter/openai/gpt-4o")[:2] == ("openai/gpt-4o", "openrouter")
    assert litellm.get_llm_provider("openai/anthropic/claude")[:2] == ("anthropic/claude", "openai")
    assert litellm.get_llm_provider("gpt-4o")[:2] == ("gpt-4o", "openai")
    assert litellm.get_llm_provider("text-embedding-3-small")[:2] == ("text-embedding-3-small", "openai")
    assert litellm.get_llm_provider("claude-3-5-sonnet-20240620")[1] == "anthropic"
    assert litellm.get_llm_provider("my/model", custom_llm_provider="openai")[:2] == ("my/model", "openai")
    _model, provider, key, base = litellm.get_llm_provider("hosted_vllm/llama", api_base="http://h:8000/v1")
    assert (provider, key, base) == ("hosted_vllm", "fake-api-key", "http://h:8000/v1")


def test_provider_inferred_from_a_known_api_base():
    assert litellm.get_llm_provider("llama-3.1-8b", api_base="https://api.groq.com/openai/v1")[1] == "groq"
    assert litellm.get_llm_provider("sonar", api_base="https://api.perplexity.ai")[1] == "perplexity"


def test_unknown_provider_raises_litellm_guidance_before_any_request(server):
    with pytest.raises(litellm.BadRequestError) as info:
        litellm.completion(model="mistral-large-latest", messages=USER_HI, api_key="k")
    err = info.value
    assert err.status_code == 400
    assert "LLM Provider NOT provided. Pass in the LLM provider you are trying to call." in str(err)
    assert "You passed model=mistral-large-latest" in str(err)
    with pytest.raises(litellm.BadRequestError):
        litellm.completion(model="nosuch/model", messages=USER_HI, api_key="k", api_base=server.base_url)
    assert server.requests == []


def test_unknown_custom_llm_provider_is_rejected():
    with pytest.raises(litellm.BadRequestError, match="Unknown custom_llm_provider"):
        litellm.completion(model="m", custom_llm_provider="nope", messages=USER_HI)


def test_missing_key_names_the_variable(server):
    with pytest.raises(litellm.AuthenticationError) as info:
        litellm.completion(model="deepseek/deepseek-chat", messages=USER_HI, api_base=server.base_url)
    assert "DEEPSEEK_API_KEY" in str(info.value)
    assert info.value.status_code == 401
    assert info.value.llm_provider == "deepseek"
    with pytest.raises(litellm.AuthenticationError, match="OPENAI_API_KEY"):
        litellm.completion(model="gpt-4o", messages=USER_HI)
    assert server.requests == []


def test_missing_base_for_providers_without_a_public_endpoint():
    with pytest.raises(litellm.BadRequestError, match="HOSTED_VLLM_API_BASE"):
        litellm.completion(model="hosted_vllm/llama", messages=USER_HI)


def test_local_servers_need_no_key(server):
    litellm.completion(model="hosted_vllm/llama", messages=USER_HI, api_base=server.base_url, max_retries=0)
    assert server.last_request.headers["authorization"] == "Bearer fake-api-key"
    server.reset()
    litellm.completion(model="lm_studio/qwen", messages=USER_HI, api_base=server.base_url, max_retries=0)
    assert "authorization" not in server.last_request.headers


def test_providers_not_routed_yet_fail_clearly(server):
    with pytest.raises(litellm.BadRequestError, match="does not route provider 'watsonx'"):
        litellm.completion(model="watsonx/llama-3", messages=USER_HI, api_key="k")


def test_openrouter_attribution_headers(server, monkeypatch):
    monkeypatch.setenv("OR_SITE_URL", "https://example.test")
    monkeypatch.setenv("OR_APP_NAME", "my-app")
    litellm.completion(
        model="openrouter/openai/gpt-4o", messages=USER_HI, api_base=server.base_url, api_key="k", max_retries=0
    )
    req = server.last_request
    assert req.body["model"] == "openai/gpt-4o"
    assert req.headers["http-referer"] == "https://example.test"
    assert req.headers["x-title"] == "my-app"


def test_openai_organization_env(server, monkeypatch):
    monkeypatch.setenv("OPENAI_ORGANIZATION", "org-env")
    litellm.completion(model="gpt-4o", messages=USER_HI, api_base=server.base_url, api_key="k", max_retries=0)
    assert server.last_request.headers["openai-organization"] == "org-env"


def test_model_alias_map(server, openai_args, monkeypatch):
    monkeypatch.setattr(litellm, "model_alias_map", {"fast": "openai/real-model"})
    litellm.completion(model="fast", messages=USER_HI, **openai_args)
    assert server.last_request.body["model"] == "real-model"


def test_get_llm_provider_returns_the_dynamic_key_and_base_from_the_environment(monkeypatch):
    monkeypatch.setenv("GROQ_API_KEY", "gk")
    monkeypatch.setenv("GROQ_API_BASE", "http://groq.local/v1")
    assert litellm.get_llm_provider("groq/llama3") == ("llama3", "groq", "gk", "http://groq.local/v1")
    monkeypatch.setenv("TOGETHER_API_KEY", "tk")
    assert litellm.get_llm_provider("together_ai/x") == ("x", "together_ai", "tk", "https://api.together.xyz/v1")
    assert litellm.get_llm_provider("groq/llama3", api_key="k2", api_base="http://b/v1")[2:] == ("k2", "http://b/v1")


def test_get_llm_provider_reports_litellms_normalised_provider_names():
    assert litellm.get_llm_provider("cohere/command-r")[:2] == ("command-r", "cohere_chat")
    assert litellm.get_llm_provider("command-r", custom_llm_provider="cohere")[:2] == ("command-r", "cohere_chat")
    assert litellm.get_llm_provider("anthropic/claude-2")[:2] == ("claude-2", "anthropic_text")
    assert litellm.get_llm_provider("anthropic/claude-3-5-sonnet-20240620")[1] == "anthropic"
