"""LiteLLM's ``litellm.main``: the call functions and what they return."""

from __future__ import annotations

from typing import Any

from rustllm import (
    acompletion,
    acompletion_with_retries,
    aembedding,
    aimage_edit,
    aimage_generation,
    amoderation,
    arerank,
    aspeech,
    atext_completion,
    atranscription,
    batch_completion,
    batch_completion_models,
    batch_completion_models_all_responses,
    completion,
    completion_with_retries,
    embedding,
    image_edit,
    image_generation,
    moderation,
    rerank,
    speech,
    text_completion,
    transcription,
)
from rustllm._text import stream_chunk_builder_text_completion
from rustllm.streaming import CustomStreamWrapper, stream_chunk_builder
from rustllm.types.utils import EmbeddingResponse, ModelResponse, TextCompletionResponse

__all__ = [
    "CustomStreamWrapper",
    "EmbeddingResponse",
    "ModelResponse",
    "TextCompletionResponse",
    "acompletion",
    "acompletion_with_retries",
    "aembedding",
    "aimage_edit",
    "aimage_generation",
    "amoderation",
    "arerank",
    "aspeech",
    "atranscription",
    "atext_completion",
    "batch_completion",
    "batch_completion_models",
    "batch_completion_models_all_responses",
    "completion",
    "completion_with_retries",
    "embedding",
    "image_edit",
    "image_generation",
    "mock_completion",
    "moderation",
    "rerank",
    "speech",
    "stream_chunk_builder",
    "stream_chunk_builder_text_completion",
    "text_completion",
    "transcription",
]


def mock_completion(
    model: str,
    messages: list,
    stream: bool | None = False,
    n: int | None = None,
    mock_response: str | Exception | dict = "This is a mock request",
    mock_tool_calls: list | None = None,
    mock_timeout: bool | None = False,
    logging: Any = None,
    custom_llm_provider: str | None = None,
    timeout: float | str | None = None,
    **kwargs: Any,
) -> Any:
    """LiteLLM's ``mock_completion``: :func:`completion` with ``mock_response`` (default
    ``"This is a mock request"``); no request is sent. ``mock_tool_calls`` and
    ``mock_timeout`` work as they do on ``completion``."""
    if mock_tool_calls is not None:
        kwargs["mock_tool_calls"] = mock_tool_calls
    if mock_timeout:
        kwargs["mock_timeout"] = mock_timeout
    if custom_llm_provider is not None:
        kwargs["custom_llm_provider"] = custom_llm_provider
    if timeout is not None:
        kwargs["timeout"] = timeout
    if n is not None:
        kwargs["n"] = n
    return completion(model=model, messages=messages, stream=stream, mock_response=mock_response, **kwargs)
