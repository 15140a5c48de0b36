"""LiteLLM's ``get_model_cost_map(url)``, without the download."""

from __future__ import annotations

from typing import Any

__all__ = ["get_model_cost_map"]


def get_model_cost_map(url: str = "") -> dict[str, Any]:
    """The model map (prices, context windows, capabilities) bundled with rustllm.

    LiteLLM downloads ``url`` and falls back to its bundled copy; rustllm never fetches
    anything, so ``url`` is ignored and the bundled map (the one ``rustllm.model_cost``
    holds) is returned as a new dict."""
    from rustllm import _core

    return _core.model_cost()
