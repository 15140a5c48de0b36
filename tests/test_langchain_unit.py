"""LangChain's standard unit suites for ChatRustLLM (json_schema and function_calling
structured output), ChatRustLLMRouter and RustLLMEmbeddings, with sockets disabled.

``test_init_from_env`` runs: a per-provider key field shows its environment variable.
``test_serdes`` stays skipped: ChatRustLLM is not serialisable, like ChatLiteLLM.
"""

from __future__ import annotations

import pytest
from langchain_tests.unit_tests import ChatModelUnitTests, EmbeddingsUnitTests

import rustllm
from rustllm.langchain import ChatRustLLM, ChatRustLLMRouter, RustLLMEmbeddings

pytestmark = pytest.mark.disable_socket

# Never contacted: the unit suites only build models and bindings.
_OFFLINE = {"model": "mock-tool-model", "custom_llm_provider": "openai", "api_base": "http://127.0.0.1:9/v1"}


def _router() -> rustllm.Router:
    deployment = {"model": "openai/mock-tool-model", "api_base": _OFFLINE["api_base"], "api_key": "sk-mock"}
    return rustllm.Router(model_list=[{"model_name": "mock-group", "litellm_params": deployment}])


class TestChatRustLLMUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatRustLLM]:
        return ChatRustLLM

    @property
    def chat_model_params(self) -> dict:
        return dict(_OFFLINE)

    @property
    def init_from_env_params(self) -> tuple[dict, dict, dict]:
        return (
            {"OPENAI_API_KEY": "sk-env-openai", "ANTHROPIC_API_KEY": "sk-env-anthropic"},
            {"model": "openai/gpt-4o-mini"},
            {"openai_api_key": "sk-env-openai", "anthropic_api_key": "sk-env-anthropic"},
        )


class TestChatRustLLMFunctionCallingUnit(TestChatRustLLMUnit):
    @property
    def structured_output_kwargs(self) -> dict:
        return {"method": "function_calling"}


class TestChatRustLLMRouterUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatRustLLMRouter]:
        return ChatRustLLMRouter

    @property
    def chat_model_params(self) -> dict:
        return {"router": _ROUTER, "model": "mock-group"}

    @property
    def init_from_env_params(self) -> tuple[dict, dict, dict]:
        return ({"OPENAI_API_KEY": "sk-env-openai"}, {"router": _ROUTER}, {"openai_api_key": "sk-env-openai"})


_ROUTER = _router()


class TestRustLLMEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[RustLLMEmbeddings]:
        return RustLLMEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {**_OFFLINE, "model": "text-embedding-3-small"}
