"""``litellm.types.llms.custom_llm``: the shape of a ``custom_provider_map`` entry."""

from __future__ import annotations

from typing import Any, TypedDict


class CustomLLMItem(TypedDict):
    """``{"provider": "my-custom-llm", "custom_handler": MyCustomLLM()}``."""

    provider: str
    custom_handler: Any


__all__ = ["CustomLLMItem"]
