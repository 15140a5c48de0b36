"""LiteLLM's ``litellm.cost_calculator``: the public cost functions,
:func:`completion_cost` and :func:`cost_per_token` (the same functions as
``rustllm.completion_cost`` / ``rustllm.cost_per_token``, priced from the catalogue in
the Rust core). LiteLLM's per-provider helpers in this module (``openai_cost_per_token``,
``response_cost_calculator``, ...) are its logging internals and are not provided."""

from rustllm.catalogue import completion_cost, cost_per_token

__all__ = ["completion_cost", "cost_per_token"]
