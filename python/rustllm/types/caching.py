"""LiteLLM's ``litellm.types.caching``: the cache type enum and the per-call cache
controls."""

from typing import Literal, Optional, TypedDict

from rustllm.caching.caching import LiteLLMCacheType

__all__ = ["CachingSupportedCallTypes", "DynamicCacheControl", "LiteLLMCacheType"]

CachingSupportedCallTypes = Literal[
    "completion",
    "acompletion",
    "embedding",
    "aembedding",
    "atranscription",
    "transcription",
    "atext_completion",
    "text_completion",
    "arerank",
    "rerank",
]

# The per-call ``cache={...}`` argument; "s-maxage" and "no-cache" are not identifiers.
DynamicCacheControl = TypedDict(
    "DynamicCacheControl",
    {
        "ttl": Optional[int],
        "namespace": Optional[str],
        "s-maxage": Optional[int],
        "s-max-age": Optional[int],
        "no-cache": Optional[bool],
        "no-store": Optional[bool],
    },
)
