"""LiteLLM's public module tree, as rustllm provides it: the one list that
:func:`rustllm.install_as_litellm`, rustllm's lazy submodule attributes and the tests
read.

Each entry is a dotted name below the package: ``"types.utils"`` means that
``litellm.types.utils`` is ``rustllm.types.utils``. A ``litellm.*`` module missing here
is out of scope (LiteLLM's provider internals under ``litellm.llms``, the proxy (but for
``litellm.proxy._types``, whose names guardrail classes import), the secret-manager back
ends, ...): importing it under :func:`install_as_litellm` raises
ModuleNotFoundError naming it. This module holds data only; importing it costs nothing.
"""

from __future__ import annotations

MODULES: tuple[str, ...] = (
    "_logging",
    "anthropic_interface",
    "anthropic_interface.messages",
    "budget_manager",
    "caching",
    "caching.caching",
    "caching.in_memory_cache",
    "cost_calculator",
    "exceptions",
    "integrations",
    "integrations.custom_guardrail",
    "integrations.custom_logger",
    "litellm_core_utils",
    "litellm_core_utils.get_model_cost_map",
    "litellm_core_utils.get_supported_openai_params",
    "litellm_core_utils.streaming_handler",
    "llms",
    "llms.custom_llm",
    "main",
    "proxy",
    "proxy._types",
    "router",
    "secret_managers",
    "secret_managers.main",
    "types",
    "types.caching",
    "types.completion",
    "types.embedding",
    "types.guardrails",
    "types.llms",
    "types.llms.custom_llm",
    "types.llms.openai",
    "types.rerank",
    "types.router",
    "types.utils",
    "utils",
)

# The first component of each entry: what ``rustllm.<name>`` imports on first access,
# as ``litellm.utils`` works after a bare ``import litellm``.
TOP_LEVEL: frozenset[str] = frozenset(name.partition(".")[0] for name in MODULES)
