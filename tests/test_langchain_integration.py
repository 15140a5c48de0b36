"""LangChain's standard integration suites against rustllm.testing.MockServer:
ChatRustLLM with json_schema and with function_calling structured output,
ChatRustLLMRouter, and RustLLMEmbeddings.

The mock decides by rules where a model would decide (which tool, which arguments, which
JSON): see ``_langchain_mock``. The multimodal tests (images, image URLs, PDFs, audio,
images and PDFs in tool messages) run too: their downloads are served on loopback
(``LoopbackDownloads``), and after each one the requests it made are checked for the
image, audio and file parts (``check_multimodal_wire``). ``test_stream_time`` stays off:
it replays VCR cassettes, and VCR records Python's HTTP clients, while rustllm's requests
leave from Rust.
"""

from __future__ import annotations

import langchain_tests.integration_tests.chat_models as standard_chat_models
import pytest
from _langchain_mock import (
    OVERRIDE,
    LoopbackDownloads,
    anthropic_call,
    chat_params,
    check_multimodal_wire,
    router,
    server,
)
from langchain_core.messages import AIMessage, HumanMessage
from langchain_tests.integration_tests import ChatModelIntegrationTests, EmbeddingsIntegrationTests

from rustllm.langchain import ChatRustLLM, ChatRustLLMRouter, RustLLMEmbeddings

pytestmark = [
    pytest.mark.allow_hosts(["127.0.0.1"]),
    # The standard PDF blocks name no file; langchain-core warns as it names one for OpenAI.
    pytest.mark.filterwarnings("ignore:OpenAI may require a filename:UserWarning"),
]


@pytest.fixture(autouse=True)
def multimodal_on_loopback(request, monkeypatch):
    """The standard tests' downloads come from loopback; a multimodal test's requests
    must carry the downloaded files, in OpenAI's content parts."""
    monkeypatch.setattr(standard_chat_models, "httpx", LoopbackDownloads())
    monkeypatch.setenv("LANGCHAIN_TESTS_USER_AGENT", "rustllm-tests")
    before = server().request_count
    yield
    bodies = [r.body for r in server().requests[before:]]
    check_multimodal_wire(request.node.originalname, bodies)


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
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def supports_pdf_inputs(self) -> bool:
        return True

    @property
    def supports_audio_inputs(self) -> bool:
        return True

    @property
    def supports_image_tool_message(self) -> bool:
        return True

    @property
    def supports_pdf_tool_message(self) -> bool:
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
