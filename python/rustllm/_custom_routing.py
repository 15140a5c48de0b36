"""``Router.set_custom_routing_strategy``: a user's ``CustomRoutingStrategyBase`` picks the
deployment for each try of a Router call.

Design: the Rust Router asks a picker hook (``router::custom::DeploymentPicker``) instead
of its built-in strategy, once per try, so retries, fallbacks, cooldowns, rpm/tpm limits
and ``max_parallel_requests`` stay in Rust around the user's choice. ``src/py/custom.rs``
implements the hook by calling :class:`Picker` below: sync Router calls call
``get_available_deployment`` on the calling thread; async ones run
``async_get_available_deployment`` on the caller's event loop. A Router with no custom
strategy never reaches this module (the hook is ``None``).

The alternative, a Python loop that asks the strategy and pins the deployment for one
Rust call per try, would have had to re-implement retries and fallbacks in Python.
"""

from __future__ import annotations

from typing import Any

# Keys of the Router call that LiteLLM passes as their own arguments, not in request_kwargs.
_OWN_ARGS = ("model", "messages", "input", "specific_deployment")


def _overrides(strategy: Any, name: str) -> bool:
    from rustllm.types.router import CustomRoutingStrategyBase

    method = getattr(type(strategy), name, None)
    return method is not None and method is not getattr(CustomRoutingStrategyBase, name, None)


class Picker:
    """Asks a strategy for a deployment and names it by id for the Rust Router."""

    def __init__(self, strategy: Any, model_list: list[dict[str, Any]]) -> None:
        self.strategy = strategy
        self.model_list = model_list
        self.has_sync = _overrides(strategy, "get_available_deployment")
        self.has_async = _overrides(strategy, "async_get_available_deployment")
        if not (self.has_sync or self.has_async):
            raise ValueError(
                "set_custom_routing_strategy: the strategy must define get_available_deployment "
                "and/or async_get_available_deployment"
            )

    @staticmethod
    def _arguments(model: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        # What LiteLLM's Router passes: the requested model (group, alias or fallback
        # group), messages or input, specific_deployment and the rest of the call.
        request = {k: v for k, v in kwargs.items() if k not in _OWN_ARGS}
        args: dict[str, Any] = {"model": model}
        if "input" in kwargs:
            args["input"] = kwargs["input"]
        else:
            args["messages"] = kwargs.get("messages")
        args["specific_deployment"] = kwargs.get("specific_deployment")
        args["request_kwargs"] = request
        return args

    def deployment_id(self, deployment: Any) -> str:
        """The id of the deployment the strategy returned (an entry of ``model_list``)."""
        if not isinstance(deployment, dict):
            raise ValueError(
                f"custom routing strategy returned {deployment!r}; it must return a deployment "
                "dict from router.model_list"
            )
        info = deployment.get("model_info") or {}
        ids = {d["model_info"]["id"] for d in self.model_list}
        if info.get("id") in ids:
            return str(info["id"])
        # A dict built by the user (without the id the Router added): match its content.
        params = deployment.get("litellm_params")
        for d in self.model_list:
            if d["litellm_params"] == params and d["model_name"] == deployment.get("model_name", d["model_name"]):
                return str(d["model_info"]["id"])
        raise ValueError(
            f"custom routing strategy returned a deployment that is not in this Router's model_list: {deployment!r}"
        )

    def pick(self, model: str, kwargs: dict[str, Any]) -> str:
        """For a sync Router call."""
        if not self.has_sync:
            raise ValueError(
                "the custom routing strategy defines only async_get_available_deployment: "
                "use the Router's async methods, or define get_available_deployment"
            )
        return self.deployment_id(self.strategy.get_available_deployment(**self._arguments(model, kwargs)))

    async def apick(self, model: str, kwargs: dict[str, Any]) -> str:
        """For an async Router call; runs on the caller's event loop."""
        args = self._arguments(model, kwargs)
        if self.has_async:
            deployment = await self.strategy.async_get_available_deployment(**args)
        else:
            deployment = self.strategy.get_available_deployment(**args)
        return self.deployment_id(deployment)


# Called from src/py/custom.rs, once per try of a Router call.
def _pick(picker: Picker, model: str, kwargs: dict[str, Any]) -> str:
    return picker.pick(model, kwargs)


def _apick(picker: Picker, model: str, kwargs: dict[str, Any]) -> Any:
    return picker.apick(model, kwargs)
