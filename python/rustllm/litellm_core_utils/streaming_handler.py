"""LiteLLM's home of ``CustomStreamWrapper``: ``from
litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper``."""

from rustllm.streaming import CustomStreamWrapper

__all__ = ["CustomStreamWrapper"]
