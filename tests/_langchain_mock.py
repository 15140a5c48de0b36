"""Shared set-up for the LangChain standard suites: one MockServer per test session and
the model parameters that point ChatRustLLM, ChatRustLLMRouter and RustLLMEmbeddings
at it (loopback only; no keys, no network)."""

from __future__ import annotations

import atexit

import rustllm
from rustllm.testing import MockServer

#: The mock's ``tool`` directive makes it decide as a model would: call the tool the
#: prompt names (else the first) with arguments read from the prompt, and answer a tool
#: result in text.
MODEL = "mock-tool-model"
#: A per-call ``model=`` override; the standard tests check it reaches response_metadata.
OVERRIDE = "mock-model-2"

_server: MockServer | None = None


def server() -> MockServer:
    """The session's MockServer, started on first use and stopped at exit."""
    global _server
    if _server is None:
        _server = MockServer().start()
        atexit.register(_server.stop)
    return _server


def chat_params() -> dict:
    """ChatRustLLM's constructor arguments for the mock."""
    return {"model": MODEL, "custom_llm_provider": "openai", "api_base": server().base_url, "api_key": "sk-mock"}


def anthropic_call() -> dict:
    """Per-call arguments that send one ChatRustLLM request to the mock's Anthropic
    endpoint, which reports prompt-cache reads and writes."""
    return {"model": "anthropic/claude-mock", "custom_llm_provider": "anthropic", "api_base": server().url}


def router() -> rustllm.Router:
    """A Router over the mock: two deployments in the main group, one for the override
    group and one Anthropic group (prompt-cache usage details)."""
    base = server().base_url
    openai = {"api_base": base, "api_key": "sk-mock"}
    return rustllm.Router(
        model_list=[
            {"model_name": MODEL, "litellm_params": {"model": f"openai/{MODEL}", **openai}},
            {"model_name": MODEL, "litellm_params": {"model": f"openai/{MODEL}-b", **openai}},
            {"model_name": OVERRIDE, "litellm_params": {"model": f"openai/{OVERRIDE}", **openai}},
            {
                "model_name": "claude-group",
                "litellm_params": {"model": "anthropic/claude-mock", "api_base": server().url, "api_key": "sk-mock"},
            },
        ],
        routing_strategy="least-busy",
    )
