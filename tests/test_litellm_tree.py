"""rustllm under code that imports litellm: ``install_as_litellm()``, the launcher
``python -m rustllm.as_litellm``, LiteLLM's public module tree and the top-level names
frameworks use.

Each import-hook test runs in a fresh interpreter, so the import state is clean.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap

import pytest

import rustllm
from rustllm._litellm_tree import MODULES
from rustllm.integrations.custom_logger import CustomLogger

USER_HI = [{"role": "user", "content": "hi"}]


def _run(code: str, *args: str, cwd=None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, *args] if args else [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )
    return result


def _ok(code: str) -> str:
    result = _run(code)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_rustllm_installs_no_hook_and_loads_no_finder():
    out = _ok(
        """
        import sys
        before = list(sys.meta_path)
        import rustllm
        print(sys.meta_path == before, "rustllm._litellm_alias" in sys.modules, "litellm" in sys.modules)
        """
    )
    assert out.split() == ["True", "False", "False"]


def test_every_declared_module_is_the_rustllm_module():
    out = _ok(
        f"""
        import importlib, sys
        import rustllm
        rustllm.install_as_litellm()
        import litellm
        assert litellm is rustllm
        for name in {list(MODULES)!r}:
            mod = importlib.import_module("litellm." + name)
            assert mod is importlib.import_module("rustllm." + name), name
            assert sys.modules["litellm." + name] is sys.modules["rustllm." + name], name
            # The rustllm module keeps its own identity.
            assert mod.__name__ == mod.__spec__.name == "rustllm." + name, name
        import litellm.utils, litellm.types.router
        assert litellm.utils is rustllm.utils
        assert litellm.types.router.Deployment is rustllm.types.router.Deployment
        print("ok")
        """
    )
    assert out.strip() == "ok"


def test_submodules_are_attributes_after_a_bare_import():
    out = _ok(
        """
        import rustllm
        rustllm.install_as_litellm()
        import litellm
        print(litellm.exceptions.RateLimitError.__name__, litellm.utils.__name__, litellm.types.utils.__name__)
        """
    )
    assert out.split() == ["RateLimitError", "rustllm.utils", "rustllm.types.utils"]


def test_install_is_idempotent():
    out = _ok(
        """
        import sys, rustllm
        rustllm.install_as_litellm()
        rustllm.install_as_litellm()
        import litellm
        rustllm.install_as_litellm()
        from rustllm._litellm_alias import LiteLLMAliasFinder
        print(sum(isinstance(f, LiteLLMAliasFinder) for f in sys.meta_path))
        """
    )
    assert out.strip() == "1"


def test_response_classes_answer_to_litellm_module_checks_once_installed():
    out = _ok(
        """
        import pickle, rustllm
        before = rustllm.ModelResponseStream.__module__
        rustllm.install_as_litellm()
        import litellm
        chunk = litellm.ModelResponseStream(id="c", choices=[])
        again = pickle.loads(pickle.dumps(chunk))
        print(before, type(chunk).__module__, type(again) is litellm.ModelResponseStream)
        """
    )
    assert out.split() == ["rustllm.types.utils", "litellm.types.utils", "True"]


def test_a_module_rustllm_does_not_provide_is_named_in_the_error():
    out = _ok(
        """
        import rustllm
        rustllm.install_as_litellm()
        try:
            import litellm.proxy.proxy_server
        except ModuleNotFoundError as err:
            print(err.name)
            print(err)
        """
    )
    name, message = out.splitlines()[:2]
    # litellm.proxy itself holds only the names guardrail classes import (proxy._types).
    assert name == "litellm.proxy.proxy_server"
    assert "'litellm.proxy.proxy_server'" in message and "out of scope" in message


def test_refuses_when_the_real_litellm_is_already_imported():
    out = _ok(
        """
        import sys, types
        sys.modules["litellm"] = types.ModuleType("litellm")
        import rustllm
        try:
            rustllm.install_as_litellm()
        except RuntimeError as err:
            print("refused:", err)
        print(len([f for f in sys.meta_path if type(f).__name__ == "LiteLLMAliasFinder"]))
        """
    )
    refused, count = out.strip().splitlines()
    assert "already imported" in refused and "python -m rustllm.as_litellm" in refused
    assert count == "0"


# The names users and frameworks import, module by module (LiteLLM 1.75.8 paths).
NAMES = {
    "litellm": [
        "ChatCompletionAssistantMessage",
        "ChatCompletionSystemMessage",
        "ChatCompletionUserMessage",
        "ChatCompletionToolMessage",
        "ChatCompletionDeveloperMessage",
        "ChatCompletionAssistantToolCall",
        "ChatCompletionToolCallFunctionChunk",
        "ChatCompletionMessageToolCall",
        "OpenAIMessageContent",
        "OPENAI_CHAT_COMPLETION_PARAMS",
        "use_litellm_proxy",
        "model_fallbacks",
        "get_secret",
        "get_secret_bool",
        "get_supported_openai_params",
        "validate_environment",
        "get_model_cost_map",
        "mock_completion",
        "modify_params",
        "add_function_to_prompt",
        "disable_aiohttp_transport",
        "success_callback",
        "failure_callback",
        "_async_success_callback",
        "_async_failure_callback",
        "_async_input_callback",
        "callbacks",
        "CustomStreamWrapper",
        "Function",
        "Message",
        "ModelResponse",
        "Usage",
    ],
    "litellm.types.utils": [
        "ModelResponseBase",
        "ModelResponse",
        "ModelResponseStream",
        "Message",
        "Usage",
        "Delta",
        "Choices",
        "StreamingChoices",
        "ChatCompletionMessageToolCall",
        "ChatCompletionDeltaToolCall",
        "Function",
        "FunctionCall",
        "EmbeddingResponse",
        "TextCompletionResponse",
    ],
    "litellm.types.router": [
        "RetryPolicy",
        "AllowedFailsPolicy",
        "Deployment",
        "LiteLLM_Params",
        "ModelInfo",
        "DeploymentTypedDict",
        "LiteLLMParamsTypedDict",
        "ModelGroupInfo",
        "RouterErrors",
        "RouterRateLimitError",
    ],
    "litellm.types.caching": ["LiteLLMCacheType"],
    "litellm.types.completion": ["ChatCompletionMessageParam", "ChatCompletionUserMessageParam", "CompletionRequest"],
    "litellm.types.llms.openai": [
        "AllMessageValues",
        "ChatCompletionAssistantMessage",
        "ChatCompletionToolParam",
        "ChatCompletionTextObject",
        "ChatCompletionImageObject",
        "OpenAIMessageContent",
    ],
    "litellm.types.embedding": ["EmbeddingRequest"],
    "litellm.utils": [
        "supports_function_calling",
        "supports_response_schema",
        "supports_vision",
        "get_model_info",
        "token_counter",
        "get_supported_openai_params",
        "validate_environment",
        "get_llm_provider",
        "Message",
        "ModelResponse",
        "Usage",
        "CustomStreamWrapper",
    ],
    "litellm.main": ["completion", "acompletion", "mock_completion", "ModelResponse", "CustomStreamWrapper"],
    "litellm.router": ["Router", "Deployment", "RetryPolicy", "AllowedFailsPolicy", "LiteLLM_Params"],
    "litellm.exceptions": ["RateLimitError", "ContextWindowExceededError"],
    "litellm.litellm_core_utils.get_supported_openai_params": ["get_supported_openai_params"],
    "litellm.litellm_core_utils.streaming_handler": ["CustomStreamWrapper"],
    "litellm.caching.caching": ["Cache"],
    "litellm.integrations.custom_logger": ["CustomLogger"],
    "litellm.secret_managers.main": ["get_secret", "get_secret_bool"],
}


def test_the_names_frameworks_import_are_there():
    out = _ok(
        f"""
        import importlib, rustllm
        rustllm.install_as_litellm()
        missing = []
        for module, names in {NAMES!r}.items():
            mod = importlib.import_module(module)
            missing += [module + "." + n for n in names if not hasattr(mod, n)]
        print(missing)
        """
    )
    assert out.strip() == "[]"


def test_the_names_work_through_litellm():
    out = _ok(
        """
        import json, typing, rustllm
        rustllm.install_as_litellm()
        import litellm
        from litellm import ChatCompletionUserMessage, ChatCompletionAssistantMessage, OpenAIMessageContent
        from litellm.types.router import Deployment, LiteLLM_Params, ModelInfo
        from litellm.litellm_core_utils.get_supported_openai_params import get_supported_openai_params

        msg: ChatCompletionUserMessage = {"role": "user", "content": "hi"}
        hints = typing.get_type_hints(ChatCompletionAssistantMessage)
        reply = litellm.completion(model="gpt-4o-mini", messages=[msg], mock_response="hello")
        dep = Deployment(model_name="g", litellm_params={"model": "openai/gpt-4o", "rpm": 3, "input_cost_per_token": 1e-6})
        print(json.dumps({
            "reply": reply.choices[0].message.content,
            "required": sorted(ChatCompletionAssistantMessage.__required_keys__),
            "hint": "tool_calls" in hints,
            "dep": [type(dep.litellm_params).__name__, dep.litellm_params.rpm, dep["model_info"]["input_cost_per_token"],
                    isinstance(dep.model_info, ModelInfo), len(dep.model_info.id)],
            "params": get_supported_openai_params("gpt-4o-mini"),
            "env": litellm.validate_environment("gpt-4o-mini"),
            "env_key": litellm.validate_environment("gpt-4o-mini", api_key="sk-x"),
            "mock": litellm.mock_completion("gpt-4o-mini", [msg]).choices[0].message.content,
            "cost_map": "gpt-4o-mini" in litellm.get_model_cost_map(url="unused"),
        }))
        """
    )
    got = json.loads(out)
    assert got["reply"] == "hello"
    assert got["required"] == ["role"] and got["hint"] is True
    assert got["dep"] == ["LiteLLM_Params", 3, 1e-6, True, 36]
    assert {"tools", "tool_choice", "response_format", "user", "stream_options"} <= set(got["params"])
    assert got["env"] == {"keys_in_environment": False, "missing_keys": ["OPENAI_API_KEY"]}
    assert got["env_key"] == {"keys_in_environment": True, "missing_keys": []}
    assert got["mock"] == "This is a mock request"
    assert got["cost_map"] is True


def test_launcher_runs_a_script_with_its_argv_and_exit_code(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, sys
            import litellm
            reply = litellm.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], mock_response="hi")
            print(json.dumps({"argv": sys.argv, "reply": reply.choices[0].message.content,
                              "name": __name__, "rustllm": litellm.__name__, "path0": sys.path[0]}))
            sys.exit(3)
            """
        )
    )
    result = _run("", "-m", "rustllm.as_litellm", "script.py", "a", "b", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    got = json.loads(result.stdout)
    assert got["argv"] == ["script.py", "a", "b"]
    assert got["reply"] == "hi" and got["name"] == "__main__" and got["rustllm"] == "rustllm"
    assert got["path0"] == str(tmp_path)


def test_launcher_runs_a_module(tmp_path):
    (tmp_path / "app_mod.py").write_text(
        textwrap.dedent(
            """
            import json, sys
            import litellm.types.utils
            print(json.dumps({"argv": sys.argv, "name": __name__, "base": litellm.types.utils.ModelResponseBase.__name__}))
            """
        )
    )
    result = _run("", "-m", "rustllm.as_litellm", "-m", "app_mod", "x", "--flag", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got["argv"][0] == str(tmp_path / "app_mod.py") and got["argv"][1:] == ["x", "--flag"]
    assert got["name"] == "__main__" and got["base"] == "ModelResponseBase"


def test_launcher_without_a_program_prints_usage():
    result = _run("", "-m", "rustllm.as_litellm")
    assert result.returncode == 2 and "usage" in result.stderr


# ---------------------------------------------------------------------------------------
# Top-level names, in-process.
# ---------------------------------------------------------------------------------------
def test_settings_and_constants_have_litellms_defaults():
    assert rustllm.modify_params is False and rustllm.add_function_to_prompt is False
    assert rustllm.disable_aiohttp_transport is False and rustllm.use_litellm_proxy is False
    assert rustllm.model_fallbacks is None
    assert {"temperature", "tools", "response_format", "web_search_options"} <= set(
        rustllm.OPENAI_CHAT_COMPLETION_PARAMS
    )


def test_get_secret_reads_the_environment(monkeypatch):
    monkeypatch.setenv("RUSTLLM_T_FLAG", " True ")
    monkeypatch.setenv("RUSTLLM_T_TEXT", "hello")
    monkeypatch.delenv("RUSTLLM_T_MISSING", raising=False)
    assert rustllm.get_secret("RUSTLLM_T_FLAG") is True
    assert rustllm.get_secret("os.environ/RUSTLLM_T_TEXT") == "hello"
    # Deliberate fix: LiteLLM ignores the default for a missing variable.
    assert rustllm.get_secret("RUSTLLM_T_MISSING", "dflt") == "dflt"
    assert rustllm.get_secret_bool("RUSTLLM_T_TEXT") is None
    assert rustllm.get_secret_bool("RUSTLLM_T_MISSING", False) is False


@pytest.mark.parametrize(
    ("model", "kwargs", "missing"),
    [
        ("anthropic/claude-3-5-sonnet-20240620", {}, ["ANTHROPIC_API_KEY"]),
        ("gemini/gemini-1.5-pro", {}, ["GOOGLE_API_KEY", "GEMINI_API_KEY"]),
        ("azure/gpt-4o", {"api_key": "k", "api_base": "http://x"}, ["AZURE_API_VERSION"]),
        ("ollama/llama3", {}, ["OLLAMA_API_BASE"]),
        ("bedrock/anthropic.claude-3-sonnet-20240229-v1:0", {}, ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]),
    ],
)
def test_validate_environment_names_what_is_missing(monkeypatch, model, kwargs, missing):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AZURE_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    assert rustllm.validate_environment(model, **kwargs) == {"keys_in_environment": False, "missing_keys": missing}


def test_validate_environment_with_the_key_set(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant")
    assert rustllm.validate_environment("anthropic/claude-3-5-sonnet-20240620") == {
        "keys_in_environment": True,
        "missing_keys": [],
    }
    assert rustllm.validate_environment() == {"keys_in_environment": False, "missing_keys": []}


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        # LiteLLM 1.75.8's answers.
        ("ollama_chat/llama3", ["max_tokens", "max_completion_tokens", "stream", "top_p", "temperature", "seed", "frequency_penalty", "stop", "tools", "tool_choice", "functions", "response_format"]),
        ("cohere/command-r", ["stream", "temperature", "max_tokens", "max_completion_tokens", "top_p", "frequency_penalty", "presence_penalty", "stop", "n", "tools", "tool_choice", "seed", "extra_headers"]),
        ("bedrock/meta.llama3-8b-instruct-v1:0", ["max_tokens", "max_completion_tokens", "stream", "stream_options", "stop", "temperature", "top_p", "extra_headers", "response_format"]),
        ("gemini/gemini-2.0-flash", ["temperature", "top_p", "max_tokens", "max_completion_tokens", "stream", "tools", "tool_choice", "functions", "response_format", "n", "stop", "logprobs", "frequency_penalty", "modalities", "parallel_tool_calls", "web_search_options"]),
        ("o3-mini", ["logit_bias", "max_tokens", "max_completion_tokens", "modalities", "prediction", "n", "seed", "stop", "stream", "stream_options", "temperature", "tools", "tool_choice", "function_call", "functions", "max_retries", "extra_headers", "audio", "web_search_options", "response_format", "user", "reasoning_effort"]),
    ],
)  # fmt: skip
def test_supported_openai_params_answer_like_litellm(model, expected):
    assert rustllm.get_supported_openai_params(model) == expected


def test_azure_and_vertex_params_match_litellms_sets():
    azure = rustllm.get_supported_openai_params("azure/my-deployment")
    assert {"user", "logit_bias", "parallel_tool_calls", "response_format", "seed"} <= set(azure)
    vertex = rustllm.get_supported_openai_params("vertex_ai/gemini-1.5-pro")
    assert {"presence_penalty", "seed", "top_logprobs"} <= set(vertex) and "user" not in vertex


class _Recorder(CustomLogger):
    def __init__(self) -> None:
        self.events: list[str] = []

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append("async_success")

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append("async_failure")


async def test_loggers_appended_to_the_async_callback_lists_run(monkeypatch):
    recorder = _Recorder()
    monkeypatch.setattr(rustllm, "_async_success_callback", [recorder])
    monkeypatch.setattr(rustllm, "_async_failure_callback", [recorder])
    await rustllm.acompletion(model="gpt-4o-mini", messages=USER_HI, mock_response="hi")
    with pytest.raises(rustllm.RateLimitError):
        await rustllm.acompletion(
            model="gpt-4o-mini", messages=USER_HI, mock_response=rustllm.RateLimitError("slow down", "openai", "m")
        )
    # Success hooks run in the background, as in LiteLLM.
    for _ in range(500):
        if len(recorder.events) == 2:
            break
        await asyncio.sleep(0.01)
    assert sorted(recorder.events) == ["async_failure", "async_success"]
