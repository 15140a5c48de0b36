"""Shared fixtures: one MockServer per test module, and a clean provider environment."""

from __future__ import annotations

import os

import pytest

from rustllm.testing import MockServer

# tests/frameworks runs in its own venvs (make test-frameworks), with frameworks this venv lacks.
collect_ignore = ["frameworks"]

# Every variable a provider reads; tests start with none of them set.
_PROVIDER_ENV_SUFFIXES = ("_API_KEY", "_API_BASE", "_BASE_URL", "_TOKEN", "_ORGANIZATION")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No real key or base from the developer's shell can leak into a test."""
    for name in list(os.environ):
        if name.endswith(_PROVIDER_ENV_SUFFIXES) or name in ("OR_API_KEY", "OR_SITE_URL", "OR_APP_NAME"):
            monkeypatch.delenv(name, raising=False)
    import rustllm

    for setting, default in (
        ("api_key", None),
        ("openai_key", None),
        ("api_base", None),
        ("num_retries", None),
        ("drop_params", False),
        ("anthropic_key", None),
        ("azure_key", None),
        ("cohere_key", None),
        ("request_timeout", 6000),
        ("set_verbose", False),
        ("cache", None),
        ("_log_calls", False),
        ("ssl_verify", True),
        ("ssl_certificate", None),
    ):
        monkeypatch.setattr(rustllm, setting, default)
    monkeypatch.setattr(rustllm, "model_alias_map", {})
    for hooks in (
        "input_callback",
        "success_callback",
        "failure_callback",
        "callbacks",
        "_async_input_callback",
        "_async_success_callback",
        "_async_failure_callback",
    ):
        monkeypatch.setattr(rustllm, hooks, [])


@pytest.fixture(scope="module")
def _module_server():
    with MockServer() as server:
        yield server


@pytest.fixture
def server(_module_server):
    """A running MockServer with no scripts and no recorded requests."""
    _module_server.reset()
    _module_server.recording = True
    return _module_server


@pytest.fixture
def openai_args(server):
    """Keyword arguments that point an `openai/` model at the mock server."""
    return {"api_base": server.base_url, "api_key": "sk-test-key", "max_retries": 0}


USER_HI = [{"role": "user", "content": "hi"}]
