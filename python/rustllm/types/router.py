"""LiteLLM's ``litellm.types.router``: the Router's configuration types (reference
1.75.8). ``Deployment``, ``LiteLLM_Params``, ``ModelInfo`` and ``ModelGroupInfo`` are
pydantic models in LiteLLM; here they are plain objects with the same fields, defaults,
repr, item access and ``model_dump`` (see :mod:`rustllm.types._model`)."""

from __future__ import annotations

import enum
import uuid
from typing import Any, Literal, Optional, TypedDict, Union

from rustllm.router import AllowedFailsPolicy, RetryPolicy
from rustllm.types._model import _Model
from rustllm.types._typing import Required

__all__ = [
    "SPECIAL_MODEL_INFO_PARAMS",
    "AlertingConfig",
    "AllowedFailsPolicy",
    "CustomRoutingStrategyBase",
    "Deployment",
    "DeploymentTypedDict",
    "GenericLiteLLMParams",
    "LiteLLMParamsTypedDict",
    "LiteLLM_Params",
    "ModelGroupInfo",
    "ModelInfo",
    "RetryPolicy",
    "RouterErrors",
    "RouterModelGroupAliasItem",
    "RouterRateLimitError",  # noqa: F822  (module __getattr__)
    "RoutingStrategy",
]

# Custom prices given in litellm_params are copied into model_info, as LiteLLM does.
SPECIAL_MODEL_INFO_PARAMS = [
    "input_cost_per_token",
    "output_cost_per_token",
    "input_cost_per_character",
    "output_cost_per_character",
]


class ModelInfo(_Model):
    """A deployment's ``model_info``: ``id`` (a new uuid4 string when not given; an int
    becomes a string), ``base_model``, ``tier``, team fields, plus any extra keys."""

    _defaults = (
        ("id", None),
        ("db_model", False),
        ("updated_at", None),
        ("updated_by", None),
        ("created_at", None),
        ("created_by", None),
        ("base_model", None),
        ("tier", None),
        ("team_id", None),
        ("team_public_model_name", None),
    )

    def __init__(self, id: str | int | None = None, **params: Any) -> None:
        if id is None:
            id = str(uuid.uuid4())
        elif isinstance(id, int):
            id = str(id)
        super().__init__(id=id, **params)


_CREDENTIAL_AND_PRICE_FIELDS: tuple[tuple[str, Any], ...] = (
    ("input_cost_per_token", None),
    ("output_cost_per_token", None),
    ("input_cost_per_second", None),
    ("output_cost_per_second", None),
    ("input_cost_per_pixel", None),
    ("output_cost_per_pixel", None),
    ("api_key", None),
    ("api_base", None),
    ("api_version", None),
    ("vertex_project", None),
    ("vertex_location", None),
    ("vertex_credentials", None),
    ("region_name", None),
    ("aws_access_key_id", None),
    ("aws_secret_access_key", None),
    ("aws_region_name", None),
    ("watsonx_region_name", None),
    ("custom_llm_provider", None),
    ("tpm", None),
    ("rpm", None),
    ("timeout", None),
    ("stream_timeout", None),
    ("max_retries", None),
    ("organization", None),
    ("configurable_clientside_auth_params", None),
    ("litellm_credential_name", None),
    ("litellm_trace_id", None),
    ("max_file_size_mb", None),
    ("max_budget", None),
    ("budget_duration", None),
    ("use_in_pass_through", False),
    ("use_litellm_proxy", False),
    ("merge_reasoning_content_in_choices", False),
    ("model_info", None),
    ("mock_response", None),
    ("auto_router_config_path", None),
    ("auto_router_config", None),
    ("auto_router_default_model", None),
    ("auto_router_embedding_model", None),
)


class GenericLiteLLMParams(_Model):
    """LiteLLM's deployment parameters without ``model``: the connection, limit and
    pricing fields (all None unless given) and any completion keyword as an extra
    (``drop_params``, ``num_retries``, ...), kept as given. ``max_retries`` given as a
    string is turned into an int, as in LiteLLM."""

    _defaults = _CREDENTIAL_AND_PRICE_FIELDS

    def __init__(self, max_retries: int | str | None = None, **params: Any) -> None:
        if isinstance(max_retries, str):
            max_retries = int(max_retries)
        super().__init__(max_retries=max_retries, **params)


class LiteLLM_Params(GenericLiteLLMParams):
    """A deployment's ``litellm_params``: :class:`GenericLiteLLMParams` plus the
    required ``model``."""

    _defaults = (*_CREDENTIAL_AND_PRICE_FIELDS, ("model", None))

    def __init__(self, model: str, max_retries: int | str | None = None, **params: Any) -> None:
        super().__init__(model=model, max_retries=max_retries, **params)


class Deployment(_Model):
    """One ``model_list`` entry: ``Deployment(model_name, litellm_params, model_info)``.
    ``litellm_params`` and ``model_info`` may be dicts; ``model_info`` defaults to a
    fresh :class:`ModelInfo` (new id)."""

    _defaults = (("model_name", None), ("litellm_params", None), ("model_info", None))

    def __init__(
        self,
        model_name: str,
        litellm_params: LiteLLM_Params | dict[str, Any],
        model_info: ModelInfo | dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        if isinstance(litellm_params, dict):
            litellm_params = LiteLLM_Params(**litellm_params)
        if model_info is None:
            model_info = ModelInfo()
        elif isinstance(model_info, dict):
            model_info = ModelInfo(**model_info)
        for key in SPECIAL_MODEL_INFO_PARAMS:
            value = getattr(litellm_params, key, None)
            if value is not None:
                setattr(model_info, key, value)
        super().__init__(model_name=model_name, litellm_params=litellm_params, model_info=model_info, **params)

    def to_json(self, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        """LiteLLM's ``Deployment.to_json``: the ``model_dump`` dict (not a string)."""
        return self.model_dump(**kwargs)


class ModelGroupInfo(_Model):
    """What ``Router.get_model_group_info`` describes: providers, limits, prices and
    capabilities of one model group. Capability flags given as None read False."""

    _defaults = (
        ("model_group", None),
        ("providers", None),
        ("max_input_tokens", None),
        ("max_output_tokens", None),
        ("input_cost_per_token", None),
        ("output_cost_per_token", None),
        ("input_cost_per_pixel", None),
        ("mode", "chat"),
        ("tpm", None),
        ("rpm", None),
        ("supports_parallel_function_calling", False),
        ("supports_vision", False),
        ("supports_web_search", False),
        ("supports_url_context", False),
        ("supports_reasoning", False),
        ("supports_function_calling", False),
        ("supported_openai_params", []),
        ("configurable_clientside_auth_params", None),
    )

    def __init__(self, **data: Any) -> None:
        for name, default in self._defaults:
            if default is False and data.get(name) is None:
                data[name] = False
        super().__init__(**data)


class AlertingConfig(_Model):
    """``webhook_url`` and ``alerting_threshold`` (seconds, default 300)."""

    _defaults = (("webhook_url", None), ("alerting_threshold", 300))


class RouterErrors(enum.Enum):
    """The Router's own error messages, as LiteLLM words them."""

    user_defined_ratelimit_error = "Deployment over user-defined ratelimit."
    no_deployments_available = "No deployments available for selected model"
    no_deployments_with_tag_routing = "Not allowed to access model due to tags configuration"
    no_deployments_with_provider_budget_routing = "No deployments available - crossed budget"


class RoutingStrategy(enum.Enum):
    LEAST_BUSY = "least-busy"
    LATENCY_BASED = "latency-based-routing"
    COST_BASED = "cost-based-routing"
    USAGE_BASED_ROUTING_V2 = "usage-based-routing-v2"
    USAGE_BASED_ROUTING = "usage-based-routing"
    PROVIDER_BUDGET_LIMITING = "provider-budget-routing"


class CustomRoutingStrategyBase:
    """LiteLLM's base for a custom routing strategy: override
    ``async_get_available_deployment`` and ``get_available_deployment``."""

    async def async_get_available_deployment(
        self,
        model: str,
        messages: list[dict[str, str]] | None = None,
        input: str | list | None = None,
        specific_deployment: bool | None = False,
        request_kwargs: dict | None = None,
    ) -> Any:
        raise NotImplementedError

    def get_available_deployment(
        self,
        model: str,
        messages: list[dict[str, str]] | None = None,
        input: str | list | None = None,
        specific_deployment: bool | None = False,
        request_kwargs: dict | None = None,
    ) -> Any:
        raise NotImplementedError


# The functional form keeps Required[...] visible despite `from __future__ import annotations`.
LiteLLMParamsTypedDict = TypedDict(  # noqa: UP013
    "LiteLLMParamsTypedDict",
    {
        "model": str,
        "custom_llm_provider": Optional[str],
        "tpm": Optional[int],
        "rpm": Optional[int],
        "order": Optional[int],
        "weight": Optional[int],
        "max_parallel_requests": Optional[int],
        "api_key": Optional[str],
        "api_base": Optional[str],
        "api_version": Optional[str],
        "timeout": Optional[Union[float, str]],
        "stream_timeout": Optional[Union[float, str]],
        "max_retries": Optional[int],
        "organization": Optional[Union[list, str]],
        "drop_params": Optional[bool],
        "region_name": Optional[str],
        "vertex_project": Optional[str],
        "vertex_location": Optional[str],
        "aws_access_key_id": Optional[str],
        "aws_secret_access_key": Optional[str],
        "aws_region_name": Optional[str],
        "watsonx_region_name": Optional[str],
        "input_cost_per_token": Optional[float],
        "output_cost_per_token": Optional[float],
        "input_cost_per_second": Optional[float],
        "output_cost_per_second": Optional[float],
        "num_retries": Optional[int],
        "mock_response": Optional[Any],
        "tags": Optional[list[str]],
        "max_budget": Optional[float],
        "budget_duration": Optional[str],
    },
    total=False,
)

DeploymentTypedDict = TypedDict(  # noqa: UP013
    "DeploymentTypedDict",
    {
        "model_name": Required[str],
        "litellm_params": Required[LiteLLMParamsTypedDict],
        "model_info": dict,
    },
    total=False,
)


class RouterModelGroupAliasItem(TypedDict):
    model: str
    hidden: bool


OptionalPreCallChecks = list[Literal["prompt_caching", "router_budget_limiting", "responses_api_deployment_check"]]


def __getattr__(name: str) -> Any:
    # The exception class is built with the others on first use (it may subclass openai's).
    if name == "RouterRateLimitError":
        from rustllm.exceptions import RouterRateLimitError

        return RouterRateLimitError
    raise AttributeError(f"module 'rustllm.types.router' has no attribute {name!r}")
