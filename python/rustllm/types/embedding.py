"""LiteLLM's ``litellm.types.embedding``: the ``EmbeddingRequest`` model."""

from __future__ import annotations

from rustllm.types._model import _Model

__all__ = ["EmbeddingRequest"]


class EmbeddingRequest(_Model):
    """The arguments of an :func:`rustllm.embedding` call, with LiteLLM's defaults."""

    _defaults = (
        ("model", None),
        ("input", []),
        ("timeout", 600),
        ("api_base", None),
        ("api_version", None),
        ("api_key", None),
        ("api_type", None),
        ("caching", False),
        ("user", None),
        ("custom_llm_provider", None),
        ("litellm_call_id", None),
        ("litellm_logging_obj", None),
        ("logger_fn", None),
    )
