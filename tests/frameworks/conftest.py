"""Framework tests: real frameworks, rustllm standing in for litellm, MockServer as the provider.

Each ``test_<framework>.py`` runs in its own venv (``.venv-frameworks/<framework>``,
built by ``make test-frameworks`` from ``requirements/<framework>.txt``), where the real
litellm is not installed. rustllm is put in its place the documented way: this conftest
calls :func:`rustllm.install_as_litellm` before any test module (and so any framework)
is imported.

What every test checks: the request bodies the mock received carry no LiteLLM-only
field (:func:`assert_wire_clean`), ``stream`` only when streaming, and the answers the
framework returned.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys

# No framework may phone home (see offline_env.py; the runner sets the same).
from offline_env import offline_env

OFFLINE_ENV = offline_env()
for _name, _value in OFFLINE_ENV.items():
    os.environ.setdefault(_name, _value)

import rustllm  # noqa: E402

rustllm.install_as_litellm()

import litellm  # noqa: E402
import pytest  # noqa: E402

from rustllm.testing import MockServer  # noqa: E402

assert litellm is rustllm, "import litellm must give rustllm"


def _real_litellm_installed() -> str | None:
    try:
        return importlib.metadata.version("litellm")
    except importlib.metadata.PackageNotFoundError:
        return None


# The point of these tests: the framework runs with no litellm but rustllm. A venv where
# pip pulled the real one back in proves nothing, so refuse it loudly.
_REAL = _real_litellm_installed()
if _REAL is not None:
    raise RuntimeError(f"the real litellm {_REAL} is installed in {sys.prefix}; these tests need it absent")


# Fields LiteLLM adds for itself (logging, routing, proxy bookkeeping) that a provider must
# never receive. A framework that passes one through must see rustllm drop it.
LITELLM_ONLY_FIELDS = (
    "metadata",
    "litellm_call_id",
    "litellm_logging_obj",
    "litellm_metadata",
    "litellm_params",
    "litellm_trace_id",
    "retry_strategy",
    "num_retries",
    "_skip_mcp_handler",
    "proxy_server_request",
    "model_info",
    "preset_cache_key",
    "caching",
    "cache",
    "mock_response",
    "custom_llm_provider",
    "api_base",
    "api_key",
    "base_url",
    "drop_params",
    "fallbacks",
    "context_window_fallback_dict",
    "input_cost_per_token",
    "output_cost_per_token",
    "hf_model_name",
    "model_list",
)


# LiteLLM-only fields rustllm still forwards, with what is missing (none today). The
# common checks let these through so each test still checks everything else it can; a
# dedicated test per framework asserts them strictly, marked xfail(strict=True, reason=...).
KNOWN_LEAKS: dict[str, str] = {}


def assert_wire_clean(body: dict, *, stream: bool = False, strict: bool = False) -> None:
    """The body a provider received: no LiteLLM-only field, ``stream`` only when streaming.

    ``strict`` also refuses the fields of :data:`KNOWN_LEAKS` (for the xfail tests)."""
    assert isinstance(body, dict), body
    leaked = sorted(k for k in body if k in LITELLM_ONLY_FIELDS and (strict or k not in KNOWN_LEAKS))
    assert not leaked, f"LiteLLM-only fields reached the provider: {leaked} in {body}"
    if stream:
        assert body.get("stream") is True, body
    else:
        assert "stream" not in body, f"stream sent on a non-streaming call: {body}"
        assert "stream_options" not in body, body


def assert_no_stream_key(body: dict) -> None:
    """A non-streaming body has no ``stream`` key at all, as LiteLLM sends it."""
    assert "stream" not in body, f"stream sent on a non-streaming call: {body}"


def chat_bodies(server: MockServer) -> list[dict]:
    """Bodies of the chat-completion requests the server recorded, oldest first."""
    return [r.body for r in server.requests if r.path.endswith("/chat/completions")]


def last_user_text(body: dict) -> str:
    """Text of the last user message of a recorded chat body."""
    for message in reversed(body["messages"]):
        if message["role"] == "user":
            content = message["content"]
            if isinstance(content, str):
                return content
            return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    raise AssertionError(f"no user message in {body}")


def tool_call_reply(name: str, arguments: dict, call_id: str = "call_1") -> dict:
    """An OpenAI chat-completion body that calls one tool: for ``server.respond(body=...)``."""
    import json

    call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
    return {
        "id": "chatcmpl-tool",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
    }


@pytest.fixture(scope="module")
def _module_server():
    with MockServer() as server:
        yield server


@pytest.fixture
def server(_module_server):
    """A running MockServer (loopback only) with no scripts and no recorded requests."""
    _module_server.reset()
    return _module_server


@pytest.fixture
def base_url(server) -> str:
    """The OpenAI-style base URL (``http://127.0.0.1:<port>/v1``)."""
    return server.base_url
