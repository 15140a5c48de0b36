"""LiteLLM's ``litellm.anthropic`` (its ``anthropic_interface`` package): Anthropic's
Messages API through any provider, as ``rustllm.anthropic.messages.create`` /
``acreate``."""

from rustllm.anthropic_interface import messages

__all__ = ["messages"]
