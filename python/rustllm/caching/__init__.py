"""LiteLLM's caching package: ``from rustllm.caching import Cache`` (also
``rustllm.caching.caching.Cache`` and ``rustllm.Cache``)."""

from rustllm.caching.caching import Cache, CacheMode, LiteLLMCacheType

__all__ = ["Cache", "CacheMode", "LiteLLMCacheType"]
