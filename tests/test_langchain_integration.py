"""LangChain's standard integration suites against rustllm.testing.MockServer:
ChatRustLLM with json_schema and with function_calling structured output,
ChatRustLLMRouter, and RustLLMEmbeddings.

The mock decides by rules where a model would decide (which tool, which arguments, which
JSON): see ``_langchain_mock``. The multimodal tests download fixtures from the internet,
so their capability switches stay off; ``test_stream_time`` needs VCR cassettes.
"""

from __future__ import annotations

import pytest
from _langchain_mock import OVERRIDE, anthropic_call, chat_params, router, server
from langchain_core.messages import AIMessage, HumanMessage
from langchain_tests.integration_tests import ChatModelIntegrationTests, EmbeddingsIntegrationTests

from rustllm.langchain import ChatRustLLM, ChatRustLLMRouter, RustLLMEmbeddings

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

_CACHED = [
    HumanMessage([{"type": "text", "text": "a long shared preamble", "cache_control": {"type": "ephemeral"}}]),
    HumanMessage("and a question"),
]


class _MockSuite(ChatModelIntegrationTests):
    """Capabilities ChatRustLLM has, and usage details the mock can report."""

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return OVERRIDE

    @property
    def supported_usage_metadata_details(self) -> dict:
        return {
            "invoke": ["cache_read_input", "cache_creation_input", "reasoning_output"],
            "stream": ["cache_read_input", "cache_creation_input"],
        }

    def _anthropic_kwargs(self) -> dict:
        return anthropic_call()

    def _invoke(self, messages: list, stream: bool, **kwargs) -> AIMessage:
        model = self.chat_model_class(**self.chat_model_params)
        if not stream:
            return model.invoke(messages, **kwargs)
        full = None
        for chunk in model.stream(messages, **kwargs):
            full = chunk if full is None else full + chunk
        return full

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        return self._invoke(_CACHED, stream, **self._anthropic_kwargs())

    def invoke_with_cache_creation_input(self, *, stream: bool = False) -> AIMessage:
        return self._invoke(_CACHED, stream, **self._anthropic_kwargs())

    def invoke_with_reasoning_output(self, *, stream: bool = False) -> AIMessage:
        usage = {
            "prompt_tokens": 5,
            "completion_tokens": 12,
            "total_tokens": 17,
            "completion_tokens_details": {"reasoning_tokens": 9},
        }
        server().respond(
            body={
                "id": "chatcmpl-reasoning",
                "object": "chat.completion",
                "created": 1,
                "model": "mock-reasoner",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "42"}, "finish_reason": "stop"}],
                "usage": usage,
            }
        )
        return self._invoke([HumanMessage("think hard")], stream)


class TestChatRustLLMIntegration(_MockSuite):
    @property
    def chat_model_class(self) -> type[ChatRustLLM]:
        return ChatRustLLM

    @property
    def chat_model_params(self) -> dict:
        return chat_params()


class TestChatRustLLMFunctionCallingIntegration(TestChatRustLLMIntegration):
    @property
    def structured_output_kwargs(self) -> dict:
        return {"method": "function_calling"}


class TestChatRustLLMRouterIntegration(_MockSuite):
    @property
    def chat_model_class(self) -> type[ChatRustLLMRouter]:
        return ChatRustLLMRouter

    @property
    def chat_model_params(self) -> dict:
        return {"router": _ROUTER, "model": "mock-tool-model"}

    def _anthropic_kwargs(self) -> dict:
        return {"model": "claude-group"}


_ROUTER = router()


class TestRustLLMEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[RustLLMEmbeddings]:
        return RustLLMEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {**chat_params(), "model": "text-embedding-3-small"}


class TestRustLLMEmbeddingsRouterIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[RustLLMEmbeddings]:
        return RustLLMEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {"router": _ROUTER, "model": "mock-tool-model"}
