"""``rustllm.Router``: LiteLLM's Router, with selection, retries, cooldowns and fallbacks
in Rust. A Router call crosses into Rust once.

    router = rustllm.Router(model_list=[
        {"model_name": "gpt", "litellm_params": {"model": "openai/gpt-4o-mini", "rpm": 60}},
        {"model_name": "gpt", "litellm_params": {"model": "azure/gpt-4o-mini", "api_base": ...}},
    ], routing_strategy="least-busy", num_retries=2, fallbacks=[{"gpt": ["backup"]}])
    router.completion(model="gpt", messages=[...])
"""

from __future__ import annotations

import logging
from typing import Any

from rustllm import _core
from rustllm._hooks import routed
from rustllm.streaming import CustomStreamWrapper
from rustllm.types.utils import EmbeddingResponse, ModelResponse

_RustLLMError = _core.RustLLMError


def _submit(start: Any, params: dict[str, Any]) -> Any:
    """Start a Router call whose result resolves a future on the running loop."""
    from rustllm._bridge import submit  # asyncio is imported only by async users

    return submit(start, params)


_logger = logging.getLogger("rustllm")

_STRATEGIES = (
    "simple-shuffle",
    "least-busy",
    "latency-based-routing",
    "cost-based-routing",
    "usage-based-routing",
    "usage-based-routing-v2",
)

# Constructor arguments whose feature rustllm's Router does not provide yet. Passing one
# raises instead of being silently ignored.
_NOT_YET = {
    "polling_interval": "the priority scheduler",
    "default_priority": "the priority scheduler",
    "provider_budget_config": "provider budgets",
    "assistants_config": "the assistants API",
    "alerting_config": "alerting",
}


# `cache_kwargs` keys rustllm uses: the Redis connection (they win over redis_* as in
# LiteLLM), its TLS settings (REDIS_TLS_KWARGS) and the cache's own settings. Others
# (redis-py socket options and the like) are ignored with a warning.
_CACHE_KWARGS = frozenset(
    {
        "host",
        "port",
        "password",
        "username",
        "db",
        "url",
        "type",
        "ttl",
        "default_in_memory_ttl",
        "default_in_redis_ttl",
        "namespace",
        "mode",
        "supported_call_types",
        "max_size_in_memory",
    }
)


def _cache_kwargs(cache_kwargs: dict | None) -> dict | None:
    if cache_kwargs is None:
        # Still read: Redis over TLS falls back to rustllm.ssl_verify / ssl_certificate.
        cache_kwargs = {}
    if not isinstance(cache_kwargs, dict):
        raise ValueError(f"cache_kwargs must be a dict, got {type(cache_kwargs).__name__}")
    from rustllm.caching.caching import REDIS_TLS_KWARGS, redis_tls_kwargs  # kept off import time

    kept = redis_tls_kwargs(cache_kwargs)
    for key, value in cache_kwargs.items():
        if key in _CACHE_KWARGS:
            kept[key] = value
        elif key not in REDIS_TLS_KWARGS:
            _logger.warning("rustllm.Router: cache_kwargs[%r] is not used by rustllm; ignored", key)
    if kept.get("type") not in (None, "local", "redis"):
        raise ValueError(f"rustllm.Router caches in memory or Redis only, not type={kept['type']!r}")
    if "mode" in kept:
        kept["mode"] = getattr(kept["mode"], "value", kept["mode"])
    return kept or None


def _raise(err: BaseException) -> None:
    from rustllm.exceptions import _from_core

    raise _from_core(err) from None


class _Policy:
    """Per-exception-type counts, as LiteLLM's ``RetryPolicy`` / ``AllowedFailsPolicy``."""

    _suffix = ""

    def __init__(
        self,
        BadRequestError: int | None = None,
        AuthenticationError: int | None = None,
        TimeoutError: int | None = None,
        RateLimitError: int | None = None,
        ContentPolicyViolationError: int | None = None,
        InternalServerError: int | None = None,
        **kwargs: int | None,
    ) -> None:
        values = {
            "BadRequestError": BadRequestError,
            "AuthenticationError": AuthenticationError,
            "TimeoutError": TimeoutError,
            "RateLimitError": RateLimitError,
            "ContentPolicyViolationError": ContentPolicyViolationError,
            "InternalServerError": InternalServerError,
        }
        values.update(kwargs)
        for name, value in values.items():
            setattr(self, name + self._suffix, value)

    def model_dump(self) -> dict[str, int | None]:
        return {k: v for k, v in vars(self).items() if v is not None}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class RetryPolicy(_Policy):
    """Retries per exception type: ``RetryPolicy(RateLimitErrorRetries=3, BadRequestErrorRetries=0)``."""

    _suffix = "Retries"

    def __init__(self, **kwargs: int | None) -> None:
        super().__init__(**{k.removesuffix("Retries"): v for k, v in kwargs.items()})


class AllowedFailsPolicy(_Policy):
    """Failures allowed per exception type before a cooldown: ``AllowedFailsPolicy(RateLimitErrorAllowedFails=2)``."""

    _suffix = "AllowedFails"

    def __init__(self, **kwargs: int | None) -> None:
        super().__init__(**{k.removesuffix("AllowedFails"): v for k, v in kwargs.items()})


def _policy_dict(policy: Any) -> Any:
    if policy is None or isinstance(policy, dict):
        return policy
    dump = getattr(policy, "model_dump", None)
    if callable(dump):
        return {k: v for k, v in dump().items() if v is not None}
    return {k: v for k, v in vars(policy).items() if v is not None}


class Router:
    """LiteLLM's ``Router``: load balancing, retries, cooldowns and fallbacks over a
    ``model_list`` of deployments, with LiteLLM's constructor arguments.

    Strategies: ``simple-shuffle`` (weights, else rpm/tpm as weights), ``least-busy``,
    ``latency-based-routing``, ``cost-based-routing``, ``usage-based-routing`` and
    ``usage-based-routing-v2`` (exact per-minute rpm/tpm: ``rpm=N`` admits N requests a
    minute). ``order`` in ``litellm_params`` sets priority (lowest first). An invalid
    configuration raises ``ValueError`` here, not on the first call.
    """

    def __init__(
        self,
        model_list: list | None = None,
        assistants_config: Any = None,
        redis_url: str | None = None,
        redis_host: str | None = None,
        redis_port: int | None = None,
        redis_password: str | None = None,
        cache_responses: bool | None = False,
        cache_kwargs: dict | None = None,
        caching_groups: list | None = None,
        client_ttl: int = 3600,
        polling_interval: float | None = None,
        default_priority: int | None = None,
        num_retries: int | None = None,
        max_fallbacks: int | None = None,
        timeout: float | None = None,
        stream_timeout: float | None = None,
        default_litellm_params: dict | None = None,
        default_max_parallel_requests: int | None = None,
        set_verbose: bool = False,
        debug_level: str = "INFO",
        default_fallbacks: list | None = None,
        fallbacks: list | None = None,
        context_window_fallbacks: list | None = None,
        content_policy_fallbacks: list | None = None,
        model_group_alias: dict | None = None,
        enable_pre_call_checks: bool = False,
        enable_tag_filtering: bool = False,
        retry_after: float = 0,
        retry_policy: Any = None,
        model_group_retry_policy: dict | None = None,
        allowed_fails: int | None = None,
        allowed_fails_policy: Any = None,
        cooldown_time: float | None = None,
        disable_cooldowns: bool | None = None,
        routing_strategy: str = "simple-shuffle",
        optional_pre_call_checks: list | None = None,
        routing_strategy_args: dict | None = None,
        provider_budget_config: dict | None = None,
        alerting_config: Any = None,
        router_general_settings: Any = None,
        ignore_invalid_deployments: bool = False,
    ) -> None:
        import rustllm

        given = locals()
        for name, feature in _NOT_YET.items():
            value = given[name]
            if value not in (None, False, [], {}):
                raise ValueError(
                    f"rustllm.Router does not support {feature} yet ({name}={value!r}); remove {name} to use the "
                    "in-process Router."
                )
        if routing_strategy not in _STRATEGIES:
            raise ValueError(f"routing_strategy={routing_strategy!r} is not one of {', '.join(_STRATEGIES)}")
        if num_retries is None:
            num_retries = rustllm.num_retries if rustllm.num_retries is not None else 2
        config = {
            "model_list": list(model_list) if isinstance(model_list, (list, tuple)) else model_list,
            "routing_strategy": routing_strategy,
            "num_retries": num_retries,
            "max_fallbacks": max_fallbacks,
            "timeout": timeout,
            "stream_timeout": stream_timeout,
            "default_litellm_params": default_litellm_params,
            "default_max_parallel_requests": default_max_parallel_requests,
            "default_fallbacks": default_fallbacks,
            "fallbacks": fallbacks or None,
            "context_window_fallbacks": context_window_fallbacks or None,
            "content_policy_fallbacks": content_policy_fallbacks or None,
            "model_group_alias": model_group_alias or None,
            "enable_pre_call_checks": enable_pre_call_checks,
            "enable_tag_filtering": enable_tag_filtering,
            "retry_after": retry_after,
            "retry_policy": _policy_dict(retry_policy),
            "model_group_retry_policy": {g: _policy_dict(p) for g, p in (model_group_retry_policy or {}).items()}
            or None,
            "allowed_fails": allowed_fails,
            "allowed_fails_policy": _policy_dict(allowed_fails_policy),
            "cooldown_time": cooldown_time,
            "disable_cooldowns": disable_cooldowns,
            "routing_strategy_args": routing_strategy_args or None,
            "ignore_invalid_deployments": ignore_invalid_deployments,
            "redis_url": redis_url,
            "redis_host": redis_host,
            "redis_port": redis_port,
            "redis_password": redis_password,
            "cache_responses": bool(cache_responses),
            "cache_kwargs": _cache_kwargs(cache_kwargs),
            "caching_groups": [list(g) for g in caching_groups] if caching_groups else None,
        }
        try:
            self._core = _core.Router({k: v for k, v in config.items() if v is not None})
        except _RustLLMError as err:
            _raise(err)
        self.routing_strategy = routing_strategy
        self.num_retries = num_retries
        self.model_group_alias = dict(model_group_alias or {})
        self.cache_responses = bool(cache_responses)
        self.set_verbose = set_verbose
        self.debug_level = debug_level
        self.model_list = self._core.model_list()
        self.model_names = [d["model_name"] for d in self.model_list]
        for message in self._core.skipped_deployments:
            _logger.warning("rustllm.Router: skipped an invalid deployment: %s", message)
        if set_verbose:
            _logger.setLevel(logging.DEBUG if debug_level == "DEBUG" else logging.INFO)
            _logger.info("Routing strategy: %s", routing_strategy)
            self._core.set_verbose(True)
        # Creating a Router silences LiteLLM's debug prints, as in LiteLLM.
        rustllm.suppress_debug_info = True

    def __repr__(self) -> str:
        groups = sorted(set(self.model_names))
        return f"rustllm.Router(routing_strategy={self.routing_strategy!r}, model_groups={groups!r})"

    # -- calls -------------------------------------------------------------------------
    def _params(self, model: str, extra: dict[str, Any], first: str, value: Any) -> dict[str, Any]:
        """The call's arguments in LiteLLM's order (model, messages or input, then the
        keyword arguments as given): the cache key depends on it."""
        from rustllm import _push_tls, _response_format_param, _timeout_seconds

        _push_tls()
        params = {"model": model, first: value}
        params.update(extra)
        if params.get("response_format") is not None:
            params["response_format"] = _response_format_param(params["response_format"])
        if params.get("timeout") is not None:
            params["timeout"] = _timeout_seconds(params["timeout"])
        return params

    def _log(self, what: str, model: str, hidden: dict[str, Any] | None, err: BaseException | None = None) -> None:
        if not self.set_verbose:
            return
        if err is not None:
            _logger.info("rustllm.%s(model=%s)\033[31m Exception %s\033[0m", what, model, err)
            return
        headers = (hidden or {}).get("additional_headers", {})
        _logger.info(
            "rustllm.%s(model=%s) deployment=%s group=%s retries=%s fallbacks=%s\033[32m 200 OK\033[0m",
            what,
            model,
            (hidden or {}).get("model_id"),
            headers.get("x-litellm-model-group"),
            headers.get("x-litellm-attempted-retries"),
            headers.get("x-litellm-attempted-fallbacks"),
        )

    @routed("completion")
    def completion(self, model: str, messages: list, **kwargs: Any) -> ModelResponse | CustomStreamWrapper:
        """Chat completion on model group ``model``; ``stream=True`` returns a stream whose
        retries and fallbacks happen before the first chunk."""
        params = self._params(model, kwargs, "messages", messages)
        try:
            if params.get("stream"):
                handle, hidden = self._core.completion_stream(params)
                self._log("completion", model, hidden)
                return CustomStreamWrapper(handle, model, hidden)
            body, hidden, ms = self._core.completion(params)
        except _RustLLMError as err:
            self._log("completion", model, None, err)
            _raise(err)
        self._log("completion", model, hidden)
        return ModelResponse._from_openai(body, hidden, ms)

    @routed("acompletion")
    async def acompletion(
        self, model: str, messages: list, stream: bool = False, **kwargs: Any
    ) -> ModelResponse | CustomStreamWrapper:
        """The async twin of :meth:`completion`."""
        params = self._params(model, kwargs, "messages", messages)
        try:
            if stream:
                params["stream"] = True
                handle, hidden = await _submit(self._core.acompletion_submit, params)
                self._log("acompletion", model, hidden)
                return CustomStreamWrapper(handle, model, hidden)
            body, hidden, ms = await _submit(self._core.acompletion_submit, params)
        except _RustLLMError as err:
            self._log("acompletion", model, None, err)
            _raise(err)
        self._log("acompletion", model, hidden)
        return ModelResponse._from_openai(body, hidden, ms)

    @routed("embedding")
    def embedding(self, model: str, input: Any, **kwargs: Any) -> EmbeddingResponse:
        """Embeddings on model group ``model``."""
        params = self._params(model, kwargs, "input", input)
        try:
            body, hidden, ms = self._core.embedding(params)
        except _RustLLMError as err:
            _raise(err)
        return EmbeddingResponse._from_openai(body, hidden, ms)

    @routed("aembedding")
    async def aembedding(self, model: str, input: Any, **kwargs: Any) -> EmbeddingResponse:
        """The async twin of :meth:`embedding`."""
        params = self._params(model, kwargs, "input", input)
        try:
            body, hidden, ms = await _submit(self._core.aembedding_submit, params)
        except _RustLLMError as err:
            _raise(err)
        return EmbeddingResponse._from_openai(body, hidden, ms)

    # -- introspection -----------------------------------------------------------------
    def _alias_entries(self, include_hidden: bool) -> list[dict[str, Any]]:
        out = []
        for alias, target in self.model_group_alias.items():
            group = target["model"] if isinstance(target, dict) else target
            hidden = isinstance(target, dict) and target.get("hidden", False)
            if hidden and not include_hidden:
                continue
            for d in self.model_list:
                if d["model_name"] == group:
                    out.append({**d, "model_name": alias})
        return out

    def get_model_list(self, model_name: str | None = None, team_id: str | None = None) -> list[dict[str, Any]]:
        """The deployments (with ids and LiteLLM's default fields), optionally for one group;
        non-hidden aliases appear as groups of their own."""
        entries = []
        for d in self.model_list + self._alias_entries(include_hidden=False):
            entry = {
                **d,
                "litellm_params": {
                    **d["litellm_params"],
                    "use_in_pass_through": False,
                    "use_litellm_proxy": False,
                    "merge_reasoning_content_in_choices": False,
                },
            }
            entries.append(entry)
        if model_name is not None:
            entries = [e for e in entries if e["model_name"] == model_name]
        return entries

    def get_model_names(self, team_id: str | None = None) -> list[str]:
        """One name per deployment, aliases first (duplicates included, as in LiteLLM)."""
        return list(self.model_group_alias) + list(self.model_names)

    def get_model_ids(self, model_name: str | None = None) -> list[str]:
        """Deployment ids, optionally of one group."""
        return [d["model_info"]["id"] for d in self.model_list if model_name is None or d["model_name"] == model_name]

    def get_model_info(self, id: str) -> dict[str, Any] | None:
        """The deployment with this id, or None."""
        for d in self.model_list:
            if d["model_info"]["id"] == id:
                return d
        return None

    def get_available_deployment(
        self,
        model: str,
        messages: list | None = None,
        input: Any = None,
        specific_deployment: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The deployment the next call for ``model`` would most likely use (not counted
        against its limits)."""
        try:
            model_id = self._core.available_deployment(model, dict(kwargs, messages=messages) if messages else None)
        except _RustLLMError as err:
            _raise(err)
        info = self.get_model_info(model_id)
        if info is None:
            raise ValueError(f"deployment {model_id!r} is not in this Router's model_list")
        return info

    def set_custom_routing_strategy(self, CustomRoutingStrategy: Any) -> None:
        """Let a ``CustomRoutingStrategyBase`` choose the deployment of every try:
        ``get_available_deployment`` for sync calls, ``async_get_available_deployment``
        (awaited on the caller's event loop) for async ones, each returning an entry of
        ``router.model_list``. Retries (which ask again), fallbacks (asked with the
        fallback group), cooldowns (a cooling-down pick fails that try) and rpm/tpm and
        parallel-request limits still apply around the choice. As in LiteLLM, the
        strategy's methods also replace this Router's ``get_available_deployment`` and
        ``async_get_available_deployment``."""
        from rustllm._custom_routing import Picker

        self._core.set_custom_routing_strategy(Picker(CustomRoutingStrategy, self.model_list))
        self.get_available_deployment = CustomRoutingStrategy.get_available_deployment  # type: ignore[method-assign]
        self.async_get_available_deployment = CustomRoutingStrategy.async_get_available_deployment

    def get_settings(self) -> dict[str, Any]:
        """The resolved settings (LiteLLM's defaults filled in)."""
        return self._core.settings()

    def flush_cache(self) -> None:
        """Drop every entry of the Router's in-memory response cache (Redis entries
        expire by their ttl)."""
        self._core.flush_cache()

    def deployment_stats(self) -> list[dict[str, Any]]:
        """Live per-deployment state: in-flight requests, this minute's rpm/tpm, cooldown
        seconds left and mean latency."""
        return self._core.deployment_stats()


def __getattr__(name: str) -> Any:
    # LiteLLM's router module also exposes the configuration types (Deployment,
    # LiteLLM_Params, ModelInfo, ...); they are imported on first use so that
    # `import rustllm` (which imports this module) does not load them.
    if not name.startswith("_"):
        from rustllm.types import router as types_router

        if name in types_router.__all__:
            return getattr(types_router, name)
    raise AttributeError(f"module 'rustllm.router' has no attribute {name!r}")
