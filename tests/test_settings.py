"""Module settings LiteLLM users set (``rustllm.api_key = ...``), seen on the wire, and
call logging (``set_verbose``, ``turn_on_debug()``, ``LITELLM_LOG``)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest
from conftest import USER_HI

import rustllm as litellm


@pytest.fixture(autouse=True)
def restore_logger(caplog):
    """Logging settings these tests change are put back afterwards (before caplog puts
    back the levels it set)."""
    from rustllm import _logging

    yield
    litellm.set_verbose = False
    litellm._push_verbose()
    _logging._reset()


def auth(server):
    return server.last_request.headers.get("authorization")


def test_module_keys_with_litellms_precedence(server):
    base = {"api_base": server.base_url}
    litellm.api_key = "sk-module"
    litellm.completion(model="openai/gpt-4o", messages=USER_HI, **base)
    assert auth(server) == "Bearer sk-module"
    litellm.completion(model="openai/gpt-4o", messages=USER_HI, api_key="sk-call", **base)
    assert auth(server) == "Bearer sk-call"
    # For OpenAI, api_key wins over openai_key (LiteLLM's order).
    litellm.openai_key = "sk-openai"
    litellm.completion(model="openai/gpt-4o", messages=USER_HI, **base)
    assert auth(server) == "Bearer sk-module"
    litellm.api_key = None
    litellm.completion(model="openai/gpt-4o", messages=USER_HI, **base)
    assert auth(server) == "Bearer sk-openai"
    # openai_key is OpenAI's only: another provider does not get it.
    with pytest.raises(litellm.AuthenticationError, match="GROQ_API_KEY"):
        litellm.completion(model="groq/llama-3.1-8b-instant", messages=USER_HI, **base)


def test_anthropic_key_goes_to_anthropic(server):
    litellm.openai_key = "sk-openai"
    litellm.anthropic_key = "sk-ant-module"
    litellm.api_key = "sk-generic"
    litellm.completion(model="anthropic/claude-3-5-sonnet-20240620", messages=USER_HI, api_base=server.url)
    req = server.last_request
    assert req.path == "/v1/messages"
    # anthropic_key wins over api_key for Anthropic, as in LiteLLM.
    assert req.headers["x-api-key"] == "sk-ant-module"


def test_num_retries_drop_params_and_alias_map(server, openai_args):
    args = {k: v for k, v in openai_args.items() if k != "max_retries"}
    litellm.num_retries = 1
    with pytest.raises(litellm.InternalServerError):
        litellm.completion(model="openai/error-500", messages=USER_HI, **args)
    assert server.request_count == 2

    server.reset()
    litellm.num_retries = None
    litellm.model_alias_map = {"fast": "openai/gpt-4o-mini"}
    litellm.completion(model="fast", messages=USER_HI, **openai_args)
    assert server.last_request.body["model"] == "gpt-4o-mini"

    with pytest.raises(litellm.UnsupportedParamsError):
        litellm.completion(
            model="anthropic/claude-3-5-sonnet-20240620",
            messages=USER_HI,
            logit_bias={"1": 1},
            api_base=server.url,
            api_key="k",
        )
    litellm.drop_params = True
    litellm.completion(
        model="anthropic/claude-3-5-sonnet-20240620",
        messages=USER_HI,
        logit_bias={"1": 1},
        api_base=server.url,
        api_key="k",
    )
    assert "logit_bias" not in server.last_request.body


def test_request_timeout_applies_to_calls_without_a_timeout(openai_args):
    litellm.request_timeout = 0.2
    started = time.monotonic()
    with pytest.raises(litellm.Timeout):
        litellm.completion(model="openai/slow-2000", messages=USER_HI, **openai_args)
    assert time.monotonic() - started < 1.5
    # A call's own timeout wins.
    assert litellm.completion(model="openai/slow-300", messages=USER_HI, timeout=5, **openai_args)


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("LITELLM_", "OPENAI_"))}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, check=False)


def test_litellm_drop_params_environment_variable():
    code = "import rustllm; print(rustllm.drop_params)"
    assert _run(code, LITELLM_DROP_PARAMS="True").stdout.strip() == "True"
    assert _run(code, LITELLM_DROP_PARAMS="false").stdout.strip() == "False"
    assert _run(code).stdout.strip() == "False"


def test_set_verbose_logs_each_call_on_the_litellm_logger(openai_args, caplog, capsys):
    litellm.set_verbose = True
    with caplog.at_level(logging.DEBUG, logger="LiteLLM"):
        litellm.completion(model="openai/gpt-4o", messages=USER_HI, temperature=0.1, **openai_args)
        with pytest.raises(litellm.RateLimitError):
            litellm.completion(model="openai/error-429", messages=USER_HI, **openai_args)
    lines = [r.getMessage() for r in caplog.records if r.name == "LiteLLM"]
    assert any("litellm.completion(model=openai/gpt-4o)" in m and "temperature=0.1" in m for m in lines)
    assert any("200 OK" in m and "provider=openai" in m for m in lines)
    assert any("litellm.completion(model=openai/error-429) Exception" in m for m in lines)
    # The key never reaches the log.
    assert not any("sk-test-key" in m for m in lines)
    assert capsys.readouterr().out == ""


def test_turn_on_debug_and_quiet_by_default(openai_args, caplog, capsys):
    with caplog.at_level(logging.DEBUG, logger="LiteLLM"):
        litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
        assert not [r for r in caplog.records if r.name == "LiteLLM"]
        litellm.turn_on_debug()
        assert litellm._turn_on_debug is not None
        litellm.completion(model="openai/gpt-4o", messages=USER_HI, **openai_args)
    assert any("200 OK" in r.getMessage() for r in caplog.records if r.name == "LiteLLM")
    assert capsys.readouterr().out == ""


def test_suppress_debug_info_and_no_prints_on_errors(openai_args, capsys):
    litellm.suppress_debug_info = False
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(model="openai/error-429", messages=USER_HI, **openai_args)
    out = capsys.readouterr()
    assert out.out == "" and "Give Feedback" not in out.err


def test_litellm_log_debug_logs_calls_to_stderr():
    code = (
        "import rustllm\n"
        "from rustllm.testing import MockServer\n"
        "with MockServer() as s:\n"
        "    rustllm.completion(model='openai/gpt-4o', messages=[{'role': 'user', 'content': 'hi'}],\n"
        "                       api_base=s.base_url, api_key='sk-secret')\n"
    )
    out = _run(code, LITELLM_LOG="DEBUG")
    assert out.returncode == 0, out.stderr
    assert "LiteLLM:DEBUG" in out.stderr and "200 OK" in out.stderr
    assert "sk-secret" not in out.stderr
    assert out.stdout == ""
    quiet = _run(code)
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == ""
