"""``litellm.llms.custom_llm``: where LiteLLM's docs import ``CustomLLM`` from."""

from rustllm.custom_llm import CustomLLM, CustomLLMError, custom_chat_llm_router

__all__ = ["CustomLLM", "CustomLLMError", "custom_chat_llm_router"]
