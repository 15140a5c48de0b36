"""Mistakes caught early and well: a misspelt bare model name fails before any request
with LiteLLM's error plus the nearest known names; a 404 names the URL that was called;
``import rustllm.langchain`` without LangChain says what to install.

Requests are counted on a MockServer that OPENAI_API_BASE points at: a name that slipped
through to OpenAI's route would land there (and, before these checks, got a 200)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest
from faultserver import FaultServer, http

import rustllm as litellm
from rustllm import Router

HI = [{"role": "user", "content": "hi"}]
LITELLM_START = (
    "litellm.BadRequestError: LLM Provider NOT provided. Pass in the LLM provider you are "
    "trying to call. You passed model="
)


@pytest.fixture
def openai_env(server, monkeypatch):
    """OpenAI's route pointed at the mock: every request that reaches it is recorded."""
    monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
    return server


def _suggested(message: str) -> list[str]:
    line = next(part for part in message.split("\n") if part.startswith("Did you mean: "))
    return line.removeprefix("Did you mean: ").removesuffix("?").split(", ")


# (misspelt name, the name it must suggest first or a prefix all suggestions share)
MISSPELT = [
    ("gpt-4o-mnii", "gpt-4o-mini"),
    ("gtp-4o", "gpt-4o"),
    ("claud-3-5-sonnet", "claude-3-5-sonnet"),
    ("gpt-4o-mini ", "gpt-4o-mini"),
]


@pytest.mark.parametrize(("name", "meant"), MISSPELT)
def test_a_misspelt_bare_name_fails_before_any_request(openai_env, name, meant):
    with pytest.raises(litellm.BadRequestError) as err:
        litellm.completion(model=name, messages=HI, api_key="sk-x")
    message = str(err.value)
    assert err.value.status_code == 400
    assert message.startswith(LITELLM_START + name), message
    suggestions = _suggested(message)
    assert 1 <= len(suggestions) <= 3
    assert suggestions[0].startswith(meant), suggestions
    assert openai_env.request_count == 0


def test_the_error_says_how_to_call_an_unlisted_model(openai_env):
    with pytest.raises(litellm.BadRequestError) as err:
        litellm.completion(model="gpt-4o-mnii", messages=HI)
    assert "model='openai/gpt-4o-mnii'" in str(err.value)
    # A name close to nothing gets no guess, only the way to name its provider.
    with pytest.raises(litellm.BadRequestError) as err:
        litellm.completion(model="zzqx-unheard-of", messages=HI)
    assert "Did you mean" not in str(err.value)
    assert "model='openai/zzqx-unheard-of'" in str(err.value)
    assert openai_env.request_count == 0


def test_every_entry_point_refuses_a_misspelt_name(openai_env):
    with pytest.raises(litellm.BadRequestError, match="Did you mean: gpt-4o-mini"):
        asyncio.run(litellm.acompletion(model="gpt-4o-mnii", messages=HI))
    with pytest.raises(litellm.BadRequestError, match="Did you mean: gpt-4o-mini"):
        litellm.completion(model="gpt-4o-mnii", messages=HI, stream=True)
    with pytest.raises(litellm.BadRequestError, match=r"Did you mean: text-embedding-3-small"):
        litellm.embedding(model="text-embeding-3-small", input=["x"])
    with pytest.raises(litellm.BadRequestError, match=r"Did you mean: gpt-3\.5-turbo-instruct"):
        litellm.text_completion(model="gpt-3.5-turbo-instuct", prompt="x")
    # As in LiteLLM, a mocked call resolves the provider too.
    with pytest.raises(litellm.BadRequestError, match="Did you mean: gpt-4o-mini"):
        litellm.completion(model="gpt-4o-mnii", messages=HI, mock_response="hello")
    assert openai_env.request_count == 0


def test_a_router_deployment_with_a_misspelt_name_fails_at_the_call(openai_env):
    router = Router(model_list=[{"model_name": "fast", "litellm_params": {"model": "gpt-4o-mnii"}}])
    with pytest.raises(litellm.BadRequestError) as err:
        router.completion(model="fast", messages=HI)
    assert str(err.value).startswith(LITELLM_START + "gpt-4o-mnii")
    assert _suggested(str(err.value))[0] == "gpt-4o-mini"
    assert openai_env.request_count == 0


def test_names_that_resolve_today_still_reach_the_server(openai_env):
    # Catalogue names, fine-tunes, aliases, Router groups and every explicit provider.
    litellm.completion(model="gpt-4o-mini", messages=HI)
    litellm.completion(model="ft:gpt-4o-mini-2024-07-18:my-org::abc123", messages=HI)
    litellm.model_alias_map = {"fast": "gpt-4o-mini"}
    litellm.completion(model="fast", messages=HI)
    litellm.embedding(model="text-embedding-3-small", input=["x"])
    # An unlisted name with the provider named, or with the server named by api_base.
    litellm.completion(model="openai/gpt-4o-mnii", messages=HI)
    litellm.completion(model="gpt-4o-mnii", custom_llm_provider="openai", messages=HI)
    litellm.completion(model="gpt-next", api_base=openai_env.base_url, messages=HI)
    router = Router(model_list=[{"model_name": "g", "litellm_params": {"model": "openai/my-local-model"}}])
    router.completion(model="g", messages=HI)
    sent = [r.body["model"] for r in openai_env.requests]
    assert sent == [
        "gpt-4o-mini",
        "ft:gpt-4o-mini-2024-07-18:my-org::abc123",
        "gpt-4o-mini",
        "text-embedding-3-small",
        "gpt-4o-mnii",
        "gpt-4o-mnii",
        "gpt-next",
        "my-local-model",
    ]
    assert (
        litellm.completion(model="claude-3-opus-20240229", messages=HI, mock_response="ok").choices[0].message.content
        == "ok"
    )


@pytest.mark.parametrize(
    ("name", "provider"),
    [
        # Names LiteLLM 1.75.8 resolves bare that the bundled (newer) map dropped.
        ("claude-3-5-sonnet-20240620", "anthropic"),
        ("gemini-1.5-pro", "vertex_ai"),
        ("command-r", "cohere_chat"),
        ("dall-e-3", "openai"),
    ],
)
def test_bare_names_litellm_knows_keep_resolving(name, provider):
    assert litellm.get_llm_provider(name)[1] == provider


def test_get_llm_provider_refuses_a_misspelt_name_as_litellm_does():
    with pytest.raises(litellm.BadRequestError, match="You passed model=gpt-4o-mnii"):
        litellm.get_llm_provider("gpt-4o-mnii")


# --------------------------------------------------------------------------------------
# A 404 names the URL
# --------------------------------------------------------------------------------------

REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
}


def _v1_only(req):
    """A server that serves /v1 and answers anything else as Go's net/http does."""
    if req.path.startswith("/v1/"):
        return http(200, REPLY)
    return http(404, "404 page not found\n", {"content-type": "text/plain"})


def test_a_404_from_a_wrong_api_base_names_the_url_called():
    with FaultServer(_v1_only) as server:
        with pytest.raises(litellm.NotFoundError) as err:
            litellm.completion(
                model="openai/gpt-4o-mini", messages=HI, api_base=f"{server.base_url}/v2", api_key="sk-secret-1"
            )
        assert [r.path for r in server.requests] == ["/v2/chat/completions"]
        # The right base works: the 404 was the path.
        litellm.completion(model="openai/gpt-4o-mini", messages=HI, api_base=f"{server.base_url}/v1", api_key="k")
    message = str(err.value)
    assert message.startswith("litellm.NotFoundError: NotFoundError: OpenAIException - 404 page not found")
    assert f"POST {server.base_url}/v2/chat/completions" in message
    assert err.value.status_code == 404
    assert "sk-secret-1" not in message


def test_a_404_url_keeps_no_secret_from_the_query():
    with FaultServer(_v1_only) as server:
        with pytest.raises(litellm.NotFoundError) as err:
            litellm.completion(
                model="azure/my-deployment",
                messages=HI,
                api_base=f"{server.base_url}/wrong",
                api_version="2024-06-01&key=AIzaSECRET",
                api_key="azure-secret-key",
            )
        assert server.requests[0].path.startswith("/wrong/openai/deployments/my-deployment/chat/completions?")
    message = str(err.value)
    assert (
        f"{server.base_url}/wrong/openai/deployments/my-deployment/chat/completions?api-version=2024-06-01&key=***"
        in (message)
    )
    assert "AIzaSECRET" not in message and "azure-secret-key" not in message


# --------------------------------------------------------------------------------------
# rustllm.langchain without LangChain
# --------------------------------------------------------------------------------------

BLOCK_LANGCHAIN = textwrap.dedent(
    """
    import sys

    class NoLangChain:
        # As if langchain-core were not installed.
        def find_spec(self, name, path=None, target=None):
            if name == "langchain_core" or name.startswith("langchain_core."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NoLangChain())
    """
)


def test_import_rustllm_langchain_without_langchain_says_what_to_install():
    code = BLOCK_LANGCHAIN + textwrap.dedent(
        """
        import rustllm  # the core package needs no LangChain
        try:
            import rustllm.langchain
        except ImportError as e:
            print("ImportError")
            print(e)
        else:
            print("imported")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    kind, *rest = out.stdout.splitlines()
    message = "\n".join(rest)
    assert kind == "ImportError", out.stdout
    assert 'pip install "rustllm[langchain]"' in message
    assert "Python 3.10" in message
    assert "langchain-core" in message
