"""``rustllm.Router``: LiteLLM's Router, with selection, retries, cooldowns and fallbacks
in Rust. A Router call crosses into Rust once.

    router = rustllm.Router(model_list=[
        {"model_name": "gpt", "litellm_params": {"model": "openai/gpt-4o-mini", "rpm": 60}},
        {"model_name": "gpt", "litellm_params": {"model": "azure/gpt-4o-mini", "api_base": ...}},
    ], routing_strategy="least-busy", num_retries=2, fallbacks=[{"gpt": ["backup"]}])
    router.completion(model="gpt", messages=[...])
"""

from __future__ import annotations

import functools
import json
import logging
from typing import TYPE_CHECKING, Any, Literal, get_args, overload

import rustllm as _rustllm  # the package, still importing this module: read at call time
from rustllm import _core
from rustllm._hooks import routed
from rustllm._upload import uploads
from rustllm.streaming import CustomStreamWrapper
from rustllm.types._audio import HttpxBinaryResponseContent
from rustllm.types._endpoints import OpenAIModerationResponse, RerankResponse
from rustllm.types._files import Batch, BatchList, FileObject
from rustllm.types._images import ImageResponse
from rustllm.types.utils import EmbeddingResponse, ModelResponse, TranscriptionResponse

_RustLLMError = _core.RustLLMError


def _submit(start: Any, params: dict[str, Any], attempts: list | None = None) -> Any:
    """Start a Router call whose result resolves a future on the running loop."""
    from rustllm._bridge import submit  # asyncio is imported only by async users

    if attempts is not None:
        return submit(functools.partial(start, attempts=attempts), params)
    return submit(start, params)


_logger = logging.getLogger("rustllm")

# The strategies Router accepts, with LiteLLM's spellings (src/router/config.rs parses the
# same names): the type of `routing_strategy=`, and the list it is checked against.
RoutingStrategyName = Literal[
    "simple-shuffle",
    "least-busy",
    "latency-based-routing",
    "cost-based-routing",
    "usage-based-routing",
    "usage-based-routing-v2",
]
_STRATEGIES: tuple[str, ...] = get_args(RoutingStrategyName)

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


def _tags_of(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The parts of a call's arguments that say whether it is sensitive (its tags), for a
    check that needs no more: the rest (file contents, spans, ...) need not be JSON."""
    out: dict[str, Any] = {}
    for key in ("metadata", "litellm_metadata"):
        if isinstance(kwargs.get(key), dict) and "tags" in kwargs[key]:
            out[key] = {"tags": kwargs[key]["tags"]}
    if "tags" in kwargs:
        out["tags"] = kwargs["tags"]
    return out


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


# LiteLLM's CustomPricingLiteLLMParams: a deployment's own prices.
_PRICE_PARAMS = (
    "input_cost_per_token",
    "output_cost_per_token",
    "input_cost_per_second",
    "output_cost_per_second",
    "input_cost_per_pixel",
    "output_cost_per_pixel",
)

# LiteLLM's CredentialLiteLLMParams: what `get_deployment_credentials` returns.
_CREDENTIAL_PARAMS = (
    "api_key",
    "api_base",
    "api_version",
    "vertex_project",
    "vertex_location",
    "vertex_credentials",
    "region_name",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_region_name",
    "watsonx_region_name",
)


class _CooldownView:
    """``router.cooldown_cache``: LiteLLM's ``CooldownCache`` read methods over the Router's
    live cooldowns (which sit in Rust, memory or Redis)."""

    def __init__(self, router: Router) -> None:
        self._router = router

    def get_active_cooldowns(self, model_ids: list[str], parent_otel_span: Any = None) -> list[tuple[str, dict]]:
        """``[(deployment id, {"cooldown_time": seconds left, ...})]`` for those cooling down."""
        wanted = set(model_ids)
        return [
            (s["id"], {"cooldown_time": s["cooldown_remaining"], "model_id": s["id"]})
            for s in self._router._core.deployment_stats()
            if s["id"] in wanted and s["cooldown_remaining"]
        ]

    async def async_get_active_cooldowns(
        self, model_ids: list[str], parent_otel_span: Any = None
    ) -> list[tuple[str, dict]]:
        return self.get_active_cooldowns(model_ids, parent_otel_span)

    def get_min_cooldown(self, model_ids: list[str], parent_otel_span: Any = None) -> float:
        """The shortest cooldown left among ``model_ids`` (0 when none is cooling down)."""
        left = [v["cooldown_time"] for _, v in self.get_active_cooldowns(model_ids)]
        return min(left) if left else 0.0


class RouterCache:
    """``router.cache``: LiteLLM's ``DualCache`` methods for the values users share
    through the Router. With Redis configured on the Router (``redis_url`` /
    ``redis_host``), values live in that Redis, over the Router's own connection, so
    Routers in other processes see them; when Redis does not answer, this process's
    memory stands in (as the Router's own state does). Without Redis they live in memory.

    What it does not mirror: LiteLLM keeps its own routing state (cooldowns, rpm/tpm
    counters, latencies) in this cache under internal keys such as
    ``deployment:{id}:cooldown``; rustllm keeps that state in Rust, so those keys are not
    here (read cooldowns with ``router.cooldown_cache``, usage with
    ``router.deployment_stats()``). Values go to Redis as JSON text (LiteLLM writes
    ``str(value)``); JSON-typed values round-trip in either."""

    def __init__(self, core: Any) -> None:
        from rustllm.caching.in_memory_cache import InMemoryCache

        self._core = core
        self._redis = core.redis_address is not None
        self.in_memory_cache = InMemoryCache()

    def __repr__(self) -> str:
        return f"RouterCache(redis={self._core.redis_address!r})"

    @staticmethod
    def _decode(raw: str | None) -> Any:
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw

    # -- sync --------------------------------------------------------------------------
    def set_cache(self, key: str, value: Any, ttl: float | None = None, **kwargs: Any) -> None:
        """Store ``value`` under ``key`` (for ``ttl`` seconds when given)."""
        self.in_memory_cache.set_cache(key, value, **({"ttl": ttl} if ttl is not None else {}))
        if self._redis:
            self._core.redis_set(key, json.dumps(value, default=str), ttl)

    def get_cache(self, key: str, **kwargs: Any) -> Any:
        """The value under ``key``, or None."""
        if self._redis:
            answered, raw = self._core.redis_get(key)
            if answered:
                return self._decode(raw)
        return self.in_memory_cache.get_cache(key)

    def batch_get_cache(self, keys: list, **kwargs: Any) -> list:
        """:meth:`get_cache` of each key, in order (one round trip with Redis)."""
        if self._redis:
            raws = self._core.redis_get_many([str(k) for k in keys])
            if raws is not None:
                return [self._decode(raw) for raw in raws]
        return self.in_memory_cache.batch_get_cache(keys)

    def increment_cache(self, key: str, value: float, ttl: float | None = None, **kwargs: Any) -> Any:
        """Add ``value`` to the number under ``key`` (0 when absent) and return the sum;
        atomic across processes with Redis."""
        if self._redis:
            total = self._core.redis_increment(key, float(value), ttl)
            if total is not None:
                total = int(total) if float(total).is_integer() and isinstance(value, int) else total
                self.in_memory_cache.set_cache(key, total, **({"ttl": ttl} if ttl is not None else {}))
                return total
        return self.in_memory_cache.increment_cache(key, value, **({"ttl": ttl} if ttl is not None else {}))

    def delete_cache(self, key: str) -> None:
        """Forget ``key``."""
        self.in_memory_cache.delete_cache(key)
        if self._redis:
            self._core.redis_delete(key)

    def flush_cache(self) -> None:
        """Forget this process's in-memory values (Redis values expire by their ttl)."""
        self.in_memory_cache.flush_cache()

    # -- async: Redis round trips run on a worker thread, off the event loop -----------
    async def _off_loop(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._redis:
            return fn(*args, **kwargs)
        import asyncio

        return await asyncio.to_thread(fn, *args, **kwargs)

    async def async_set_cache(self, key: str, value: Any, ttl: float | None = None, **kwargs: Any) -> None:
        await self._off_loop(self.set_cache, key, value, ttl)

    async def async_get_cache(self, key: str, **kwargs: Any) -> Any:
        return await self._off_loop(self.get_cache, key)

    async def async_batch_get_cache(self, keys: list, **kwargs: Any) -> list:
        return await self._off_loop(self.batch_get_cache, keys)

    async def async_increment_cache(self, key: str, value: float, ttl: float | None = None, **kwargs: Any) -> Any:
        return await self._off_loop(self.increment_cache, key, value, ttl)

    async def async_delete_cache(self, key: str) -> None:
        await self._off_loop(self.delete_cache, key)

    async def async_set_cache_pipeline(self, cache_list: list, ttl: float | None = None, **kwargs: Any) -> None:
        for key, value in cache_list:
            await self.async_set_cache(key, value, ttl)


class Router:
    """LiteLLM's ``Router``: load balancing, retries, cooldowns and fallbacks over a
    ``model_list`` of deployments, with LiteLLM's constructor arguments.

    Strategies: ``simple-shuffle`` (weights, else rpm/tpm as weights), ``least-busy``,
    ``latency-based-routing``, ``cost-based-routing``, ``usage-based-routing`` and
    ``usage-based-routing-v2`` (exact per-minute rpm/tpm: ``rpm=N`` admits N requests a
    minute). ``order`` in ``litellm_params`` sets priority (lowest first). An invalid
    configuration raises ``ValueError`` here, not on the first call.

    Routing by sensitivity: a call whose tags (``metadata={"tags": [...]}`` or ``tags=``)
    hold one of ``sensitive_tags`` (``["sensitive"]``; ``"sensitive"`` always counts) goes
    only to deployments whose ``model_info["data_residency"]`` is one of
    ``sensitive_data_residency`` (``["local"]``), on every try, retry and fallback; when
    none is available it raises ``BadRequestError`` and calls nothing.
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
        routing_strategy: RoutingStrategyName = "simple-shuffle",
        optional_pre_call_checks: list | None = None,
        routing_strategy_args: dict | None = None,
        provider_budget_config: dict | None = None,
        alerting_config: Any = None,
        router_general_settings: Any = None,
        ignore_invalid_deployments: bool = False,
        sensitive_tags: list[str] | None = None,
        sensitive_data_residency: list[str] | None = None,
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
            "sensitive_tags": sensitive_tags,
            "sensitive_data_residency": sensitive_data_residency,
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
        self._register_deployment_prices()
        for message in self._core.skipped_deployments:
            _logger.warning("rustllm.Router: skipped an invalid deployment: %s", message)
        if set_verbose:
            # This Router's decisions and deployment calls, on the "LiteLLM Router" logger
            # (printed on stderr unless the program's own logging shows them).
            from rustllm import _logging

            level = logging.DEBUG if str(debug_level).upper() == "DEBUG" else logging.INFO
            _logging.router_verbose(level)
            self._core.set_verbose(level)
            _logging.verbose_router_logger.info("Routing strategy: %s", routing_strategy)
        # Creating a Router silences LiteLLM's debug prints, as in LiteLLM.
        rustllm.suppress_debug_info = True

    def __repr__(self) -> str:
        groups = sorted(set(self.model_names))
        return f"rustllm.Router(routing_strategy={self.routing_strategy!r}, model_groups={groups!r})"

    # -- calls -------------------------------------------------------------------------
    def _params(self, model: str, extra: dict[str, Any], first: str, value: Any) -> dict[str, Any]:
        """The call's arguments in LiteLLM's order (model, messages or input, then the
        keyword arguments as given): the cache key depends on it."""
        m = _rustllm
        m._push_settings()
        params = {"model": model, first: value}
        params.update(extra)
        if params.get("response_format") is not None:
            params["response_format"] = m._response_format_param(params["response_format"])
        if params.get("timeout") is not None:
            params["timeout"] = m._timeout_seconds(params["timeout"])
        return params

    # What type checkers see: a ModelResponse without `stream=True`, a CustomStreamWrapper
    # with it, either when `stream` is a bool known only at run time.
    if TYPE_CHECKING:

        @overload
        def completion(
            self, model: str, messages: list, *, stream: Literal[False] | None = None, **kwargs: Any
        ) -> ModelResponse: ...
        @overload
        def completion(
            self, model: str, messages: list, *, stream: Literal[True], **kwargs: Any
        ) -> CustomStreamWrapper: ...
        @overload
        def completion(
            self, model: str, messages: list, *, stream: bool | None = None, **kwargs: Any
        ) -> ModelResponse | CustomStreamWrapper: ...
        @overload
        async def acompletion(
            self, model: str, messages: list, stream: Literal[False] | None = False, **kwargs: Any
        ) -> ModelResponse: ...
        @overload
        async def acompletion(
            self, model: str, messages: list, stream: Literal[True], **kwargs: Any
        ) -> CustomStreamWrapper: ...
        @overload
        async def acompletion(
            self, model: str, messages: list, stream: bool | None = False, **kwargs: Any
        ) -> ModelResponse | CustomStreamWrapper: ...

    @routed("completion")
    def completion(self, model: str, messages: list, **kwargs: Any) -> ModelResponse | CustomStreamWrapper:
        """Chat completion on model group ``model``; ``stream=True`` returns a stream whose
        retries and fallbacks happen before the first chunk."""
        attempts = kwargs.pop("_attempts", None)  # a list when callbacks are set (@routed)
        params = self._params(model, kwargs, "messages", messages)
        try:
            if params.get("stream"):
                handle, hidden = self._core.completion_stream(params, attempts)
                return CustomStreamWrapper(handle, model, hidden, messages)
            body, hidden, ms = self._core.completion(params, attempts)
        except _RustLLMError as err:
            _raise(err)
        return ModelResponse._from_openai(body, hidden, ms)

    @routed("acompletion")
    async def acompletion(
        self, model: str, messages: list, stream: bool = False, **kwargs: Any
    ) -> ModelResponse | CustomStreamWrapper:
        """The async twin of :meth:`completion`."""
        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "messages", messages)
        try:
            if stream:
                params["stream"] = True
                handle, hidden = await _submit(self._core.acompletion_submit, params, attempts)
                return CustomStreamWrapper(handle, model, hidden, messages)
            body, hidden, ms = await _submit(self._core.acompletion_submit, params, attempts)
        except _RustLLMError as err:
            _raise(err)
        return ModelResponse._from_openai(body, hidden, ms)

    @routed("embedding")
    def embedding(self, model: str, input: Any, **kwargs: Any) -> EmbeddingResponse:
        """Embeddings on model group ``model``."""
        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "input", input)
        try:
            body, hidden, ms = self._core.embedding(params, attempts)
        except _RustLLMError as err:
            _raise(err)
        return EmbeddingResponse._from_openai(body, hidden, ms)

    @routed("aembedding")
    async def aembedding(self, model: str, input: Any, **kwargs: Any) -> EmbeddingResponse:
        """The async twin of :meth:`embedding`."""
        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "input", input)
        try:
            body, hidden, ms = await _submit(self._core.aembedding_submit, params, attempts)
        except _RustLLMError as err:
            _raise(err)
        return EmbeddingResponse._from_openai(body, hidden, ms)

    @routed("rerank")
    def rerank(self, model: str, query: str, documents: list, **kwargs: Any) -> RerankResponse:
        """Rerank ``documents`` for ``query`` on model group ``model`` (retries,
        fallbacks, cooldowns and limits as for :meth:`completion`)."""
        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "query", query)
        params["documents"] = documents
        params.setdefault("return_documents", True)
        try:
            body, hidden, ms = self._core.call_kind("rerank", params, attempts)
        except _RustLLMError as err:
            _raise(err)
        return RerankResponse._from_openai(body, hidden, ms)

    @routed("arerank")
    async def arerank(self, model: str, query: str, documents: list, **kwargs: Any) -> RerankResponse:
        """The async twin of :meth:`rerank`."""
        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "query", query)
        params["documents"] = documents
        params.setdefault("return_documents", True)
        try:
            body, hidden, ms = await _submit(functools.partial(self._core.call_kind_submit, "rerank"), params, attempts)
        except _RustLLMError as err:
            _raise(err)
        return RerankResponse._from_openai(body, hidden, ms)

    @routed("moderation")
    def moderation(self, model: str, input: Any, **kwargs: Any) -> OpenAIModerationResponse:
        """OpenAI's moderation of ``input`` on model group ``model``."""
        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "input", input)
        try:
            body, hidden, ms = self._core.call_kind("moderation", params, attempts)
        except _RustLLMError as err:
            _raise(err)
        return OpenAIModerationResponse._from_openai(body, hidden, ms)

    @routed("amoderation")
    async def amoderation(self, model: str, input: Any, **kwargs: Any) -> OpenAIModerationResponse:
        """The async twin of :meth:`moderation` (LiteLLM's Router has only this one)."""
        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "input", input)
        try:
            body, hidden, ms = await _submit(
                functools.partial(self._core.call_kind_submit, "moderation"), params, attempts
            )
        except _RustLLMError as err:
            _raise(err)
        return OpenAIModerationResponse._from_openai(body, hidden, ms)

    @routed("responses")
    def responses(self, model: str, input: Any = None, **kwargs: Any) -> Any:
        """The Responses API on model group ``model`` (see :func:`rustllm.responses`), with
        the same retries, fallbacks, cooldowns and limits as chat; ``stream=True`` returns
        a stream of typed events whose retries and fallbacks happen before the first."""
        from rustllm._responses import ResponsesAPIResponse, ResponsesAPIStreamingIterator

        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "input", input)
        try:
            if params.get("stream"):
                handle, hidden = self._core.responses_stream(params, attempts)
                return ResponsesAPIStreamingIterator(handle, model, hidden)
            body, hidden, ms = self._core.responses(params, attempts)
        except _RustLLMError as err:
            _raise(err)
        return ResponsesAPIResponse._from_openai(body, hidden, ms)

    @routed("aresponses")
    async def aresponses(self, model: str, input: Any = None, **kwargs: Any) -> Any:
        """The async twin of :meth:`responses`."""
        from rustllm._responses import ResponsesAPIResponse, ResponsesAPIStreamingIterator

        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "input", input)
        try:
            if params.get("stream"):
                handle, hidden = await _submit(self._core.aresponses_submit, params, attempts)
                return ResponsesAPIStreamingIterator(handle, model, hidden)
            body, hidden, ms = await _submit(self._core.aresponses_submit, params, attempts)
        except _RustLLMError as err:
            _raise(err)
        return ResponsesAPIResponse._from_openai(body, hidden, ms)

    @routed("anthropic_messages")
    def anthropic_messages(self, model: str, messages: Any = None, **kwargs: Any) -> Any:
        """Anthropic's Messages API on model group ``model`` (see
        :func:`rustllm.anthropic_messages`), with the same retries, fallbacks, cooldowns
        and limits as chat; ``stream=True`` returns a stream of Anthropic's events whose
        retries and fallbacks happen before the first."""
        from rustllm._anthropic_messages import AnthropicMessagesStream, _response

        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "messages", messages)
        try:
            if params.get("stream"):
                handle, hidden = self._core.anthropic_messages_stream(params, attempts)
                return AnthropicMessagesStream(handle, model, hidden)
            body, hidden, ms = self._core.call_kind("anthropic_messages", params, attempts)
        except _RustLLMError as err:
            _raise(err)
        return _response(body, hidden, ms)

    @routed("anthropic_messages")
    async def aanthropic_messages(self, model: str, messages: Any = None, **kwargs: Any) -> Any:
        """The async twin of :meth:`anthropic_messages` (LiteLLM's Router has this one)."""
        from rustllm._anthropic_messages import AnthropicMessagesStream, _response

        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "messages", messages)
        try:
            if params.get("stream"):
                handle, hidden = await _submit(
                    functools.partial(self._core.call_kind_submit, "anthropic_messages"), params, attempts
                )
                return AnthropicMessagesStream(handle, model, hidden)
            body, hidden, ms = await _submit(
                functools.partial(self._core.call_kind_submit, "anthropic_messages"), params, attempts
            )
        except _RustLLMError as err:
            _raise(err)
        return _response(body, hidden, ms)

    def image_generation(self, prompt: str, model: str, **kwargs: Any) -> ImageResponse:
        """Images for ``prompt`` on model group ``model`` (LiteLLM's argument order:
        ``prompt`` first), with the retries, fallbacks, cooldowns and limits of
        :meth:`completion`."""
        return self._image_generation(model, prompt, **kwargs)

    async def aimage_generation(self, prompt: str, model: str, **kwargs: Any) -> ImageResponse:
        """The async twin of :meth:`image_generation`."""
        return await self._aimage_generation(model, prompt, **kwargs)

    @routed("image_generation")
    def _image_generation(self, model: str, prompt: str, **kwargs: Any) -> ImageResponse:
        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "prompt", prompt)
        try:
            body, hidden, ms = self._core.call_kind("image_generation", params, attempts)
        except _RustLLMError as err:
            _raise(err)
        return ImageResponse._from_openai(body, hidden, ms)

    @routed("aimage_generation")
    async def _aimage_generation(self, model: str, prompt: str, **kwargs: Any) -> ImageResponse:
        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "prompt", prompt)
        try:
            body, hidden, ms = await _submit(
                functools.partial(self._core.call_kind_submit, "image_generation"), params, attempts
            )
        except _RustLLMError as err:
            _raise(err)
        return ImageResponse._from_openai(body, hidden, ms)

    @routed("speech")
    def speech(self, model: str, input: str, voice: Any = None, **kwargs: Any) -> HttpxBinaryResponseContent:
        """Speech of ``input`` in ``voice`` on model group ``model`` (retries, fallbacks,
        cooldowns and limits as for :meth:`completion`)."""
        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "input", input)
        params["voice"] = voice
        try:
            body, hidden, ms = self._core.call_kind("speech", params, attempts)
        except _RustLLMError as err:
            _raise(err)
        return HttpxBinaryResponseContent._from_core(body, hidden, ms)

    @routed("aspeech")
    async def aspeech(self, model: str, input: str, voice: Any = None, **kwargs: Any) -> HttpxBinaryResponseContent:
        """The async twin of :meth:`speech`."""
        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "input", input)
        params["voice"] = voice
        try:
            body, hidden, ms = await _submit(functools.partial(self._core.call_kind_submit, "speech"), params, attempts)
        except _RustLLMError as err:
            _raise(err)
        return HttpxBinaryResponseContent._from_core(body, hidden, ms)

    def image_edit(self, model: str, image: Any = None, prompt: str | None = None, **kwargs: Any) -> ImageResponse:
        """Edit ``image`` by ``prompt`` on model group ``model``, with the retries,
        fallbacks, cooldowns and limits of :meth:`completion`; the files are streamed
        from disk on each attempt."""
        return self._image_edit(model, prompt, image=image, **kwargs)

    async def aimage_edit(
        self, model: str, image: Any = None, prompt: str | None = None, **kwargs: Any
    ) -> ImageResponse:
        """The async twin of :meth:`image_edit`."""
        return await self._aimage_edit(model, prompt, image=image, **kwargs)

    @routed("image_edit")
    def _image_edit(self, model: str, prompt: Any, **kwargs: Any) -> ImageResponse:
        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "prompt", prompt)
        with uploads(params, "image", "mask") as sent:
            try:
                body, hidden, ms = self._core.call_kind("image_edit", sent, attempts)
            except _RustLLMError as err:
                _raise(err)
        return ImageResponse._from_openai(body, hidden, ms)

    @routed("aimage_edit")
    async def _aimage_edit(self, model: str, prompt: Any, **kwargs: Any) -> ImageResponse:
        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "prompt", prompt)
        with uploads(params, "image", "mask") as sent:
            try:
                body, hidden, ms = await _submit(
                    functools.partial(self._core.call_kind_submit, "image_edit"), sent, attempts
                )
            except _RustLLMError as err:
                _raise(err)
        return ImageResponse._from_openai(body, hidden, ms)

    # LiteLLM's Router keys of a deployment that are not connection settings.
    _ROUTING_ONLY = frozenset(("model", "rpm", "tpm", "weight", "order", "max_parallel_requests", "mock_response"))

    def _files_deployment(self, model: str, kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
        """The connection of the first OpenAI or Azure deployment of group ``model``, as
        keyword arguments of the files and batches functions. A sensitive call (see
        :class:`Router`) only gets a deployment allowed for sensitive data."""
        from rustllm.exceptions import BadRequestError

        kwargs = kwargs or {}
        allowed = self._core.sensitive_allowed(_tags_of(kwargs))
        if allowed is not None:
            own = [k for k in ("api_base", "base_url", "custom_llm_provider") if kwargs.get(k) is not None]
            if own:
                raise BadRequestError(
                    message=f"litellm.BadRequestError: A call tagged as sensitive cannot set {own[0]}: it goes only to a deployment allowed for sensitive data (model_info.data_residency), on that deployment's own endpoint. Remove {own[0]} from the call.",
                    model=model,
                    llm_provider="",
                )
        for d in self.model_list:
            if d["model_name"] != model:
                continue
            if allowed is not None and d["model_info"]["id"] not in allowed:
                continue
            conn = self._files_connection(d)
            if conn is not None:
                return conn
        if allowed is not None:
            residency = self._core.settings()["sensitive_data_residency"]
            raise BadRequestError(
                message=f"litellm.BadRequestError: No deployment allowed for sensitive data is available for model group={model}: no OpenAI or Azure deployment of it whose model_info.data_residency is one of {residency!r} serves files and batches",
                model=model,
                llm_provider="",
            )
        raise BadRequestError(
            message=f"litellm.BadRequestError: no OpenAI or Azure deployment in model group {model!r} serves files and batches",
            model=model,
            llm_provider="",
        )

    async def acreate_file(self, model: str, **kwargs: Any) -> FileObject:
        """Upload a file (``file``, ``purpose``) to the first OpenAI or Azure deployment of
        group ``model`` (LiteLLM's ``Router.acreate_file``)."""
        from rustllm import acreate_file

        return await acreate_file(**{**self._files_deployment(model, kwargs), **kwargs})

    async def acreate_batch(self, model: str, **kwargs: Any) -> Batch:
        """Start a batch (``input_file_id``, ``endpoint``, ``completion_window``) on the
        first OpenAI or Azure deployment of group ``model`` (LiteLLM's
        ``Router.acreate_batch``); upload its input with :meth:`acreate_file` on the same
        group."""
        from rustllm import acreate_batch

        return await acreate_batch(**{**self._files_deployment(model, kwargs), **kwargs})

    def _files_connections(self, model: str | None) -> list[dict[str, Any]]:
        """The distinct OpenAI and Azure connections of group ``model`` (every group when
        None), as keyword arguments of the files and batches functions."""
        out: list[dict[str, Any]] = []
        for d in self.model_list:
            if model is not None and d["model_name"] != model:
                continue
            conn = self._files_connection(d)
            if conn is not None and conn not in out:
                out.append(conn)
        return out

    def _files_connection(self, d: dict[str, Any]) -> dict[str, Any] | None:
        """Deployment ``d``'s connection as keyword arguments of the files and batches
        functions, or None when it is not an OpenAI or Azure one (or cannot be routed)."""
        from rustllm import get_llm_provider

        params = d["litellm_params"]
        try:
            _, provider, _, _ = get_llm_provider(
                params["model"], params.get("custom_llm_provider"), params.get("api_base")
            )
        except Exception:  # noqa: BLE001 - a deployment rustllm cannot route is skipped
            return None
        if provider not in ("openai", "azure"):
            return None
        conn = {k: v for k, v in params.items() if k not in self._ROUTING_ONLY}
        conn["custom_llm_provider"] = provider
        return conn

    async def aretrieve_batch(self, batch_id: str, model: str | None = None, **kwargs: Any) -> Batch:
        """Retrieve batch ``batch_id`` from whichever OpenAI or Azure deployment holds it
        (of group ``model``, or of every group), asking them all at once: the first that
        knows it answers (LiteLLM's ``Router.aretrieve_batch``). If none does, the last
        error is raised."""
        import asyncio

        from rustllm import aretrieve_batch
        from rustllm.exceptions import BadRequestError

        conns = self._files_connections(model)
        if not conns:
            raise BadRequestError(
                message=f"litellm.BadRequestError: no OpenAI or Azure deployment{'' if model is None else f' in model group {model!r}'} serves files and batches",
                model=model or "",
                llm_provider="",
            )
        results = await asyncio.gather(
            *(aretrieve_batch(batch_id=batch_id, **{**c, **kwargs}) for c in conns), return_exceptions=True
        )
        for r in results:
            if not isinstance(r, BaseException):
                return r
        raise results[-1]

    async def alist_batches(self, model: str, **kwargs: Any) -> BatchList:
        """The batches of every OpenAI or Azure deployment of group ``model``, in one list
        (LiteLLM's ``Router.alist_batches``); ``after`` and ``limit`` apply per deployment."""
        import asyncio

        from rustllm import alist_batches

        conns = self._files_connections(model)
        if not conns:
            self._files_deployment(model)  # raises the no-deployment error
        lists = await asyncio.gather(*(alist_batches(**{**c, **kwargs}) for c in conns))
        merged = lists[0]
        for other in lists[1:]:
            merged.data.extend(other.data)
            merged.has_more = bool(merged.has_more or other.has_more)
        if merged.data:
            merged.first_id, merged.last_id = merged.data[0].id, merged.data[-1].id
        return merged

    def transcription(self, file: Any, model: str, **kwargs: Any) -> TranscriptionResponse:
        """Transcribe ``file`` on model group ``model`` (LiteLLM's argument order: ``file``
        first), with the retries, fallbacks, cooldowns and limits of :meth:`completion`;
        the file is streamed from disk on each attempt."""
        return self._transcription(model, file, **kwargs)

    async def atranscription(self, file: Any, model: str, **kwargs: Any) -> TranscriptionResponse:
        """The async twin of :meth:`transcription`."""
        return await self._atranscription(model, file, **kwargs)

    @routed("transcription")
    def _transcription(self, model: str, file: Any, **kwargs: Any) -> TranscriptionResponse:
        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "file", file)
        with uploads(params, "file") as sent:
            try:
                body, hidden, ms = self._core.call_kind("transcription", sent, attempts)
            except _RustLLMError as err:
                _raise(err)
        return TranscriptionResponse._from_core(body, hidden, ms)

    @routed("atranscription")
    async def _atranscription(self, model: str, file: Any, **kwargs: Any) -> TranscriptionResponse:
        attempts = kwargs.pop("_attempts", None)
        params = self._params(model, kwargs, "file", file)
        with uploads(params, "file") as sent:
            try:
                body, hidden, ms = await _submit(
                    functools.partial(self._core.call_kind_submit, "transcription"), sent, attempts
                )
            except _RustLLMError as err:
                _raise(err)
        return TranscriptionResponse._from_core(body, hidden, ms)

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
        against its limits); for a sensitive call (its ``metadata`` tags, see
        :class:`Router`) only a deployment allowed for sensitive data."""
        request = {**_tags_of(kwargs.pop("request_kwargs", None) or {}), **_tags_of(kwargs)}
        if messages:
            request.update(kwargs, messages=messages)
        try:
            model_id = self._core.available_deployment(model, request or None)
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
        """Live per-deployment state, one dict per deployment: ``id``, ``model_name``,
        ``model``, ``in_flight`` requests, this minute's ``rpm_used`` / ``tpm_used``,
        ``cooldown_remaining`` seconds and ``mean_latency``: the seconds latency-based
        routing compares (as LiteLLM measures them: per output token for a whole reply,
        to the first chunk for a stream). The list renders as a table in notebooks
        (``rustllm.display.DeploymentStats``: short ids, ms / s units)."""
        from rustllm.display import DeploymentStats

        return DeploymentStats(self._core.deployment_stats())

    # -- LiteLLM's Router helpers that its users call (issue 12, item 5) -----------------
    def should_retry_this_error(
        self,
        error: Exception,
        healthy_deployments: list | None = None,
        all_deployments: list | None = None,
        context_window_fallbacks: list | None = None,
        content_policy_fallbacks: list | None = None,
        regular_fallbacks: list | None = None,
    ) -> bool:
        """LiteLLM's retry rule for one error: True when the Router would retry it in the
        same group, else the error is raised (as LiteLLM does)."""
        from rustllm import exceptions as ex

        healthy = len(healthy_deployments) if isinstance(healthy_deployments, list) else 0
        total = len(all_deployments) if isinstance(all_deployments, list) else 0
        raise_now = (
            (isinstance(error, ex.ContextWindowExceededError) and context_window_fallbacks is not None)
            or (isinstance(error, ex.ContentPolicyViolationError) and content_policy_fallbacks is not None)
            or isinstance(error, ex.NotFoundError)
            or (isinstance(error, ex.RateLimitError) and healthy <= 0 and bool(regular_fallbacks))
            or (isinstance(error, ex.AuthenticationError) and total <= 1)
            or healthy <= 0
        )
        if raise_now:
            raise error
        return True

    def get_deployment(self, model_id: str) -> Any:
        """The deployment with this id as a ``Deployment`` object, or None."""
        from rustllm.types.router import Deployment

        entry = self.get_model_info(model_id)
        return None if entry is None else Deployment(**entry)

    def get_deployment_credentials(self, model_id: str) -> dict[str, Any] | None:
        """The deployment's credentials (key, base, version, cloud project and region)."""
        entry = self.get_model_info(model_id)
        if entry is None:
            return None
        params = entry["litellm_params"]
        return {k: params[k] for k in _CREDENTIAL_PARAMS if params.get(k) is not None}

    def get_deployment_model_info(self, model_id: str, model_name: str) -> dict[str, Any] | None:
        """The catalogue's facts for ``model_name`` with what was registered under the
        deployment's id (its prices) on top; None when neither is known."""
        import rustllm

        try:
            info: dict[str, Any] | None = dict(rustllm.get_model_info(model_name))
        except Exception:  # noqa: BLE001 - an unmapped model is None, as in LiteLLM
            info = None
        custom = rustllm.model_cost.get(model_id)
        if custom is None:
            return info
        return {**(info or {}), **{k: v for k, v in custom.items() if v is not None}}

    def get_router_model_info(
        self, deployment: dict[str, Any] | None, received_model_name: str, id: str | None = None
    ) -> dict[str, Any]:
        """The catalogue's facts for a deployment (its ``base_model`` when set), with its
        own ``model_info`` on top. Raises when the model is not mapped."""
        import rustllm

        if id is not None:
            deployment = self.get_model_info(id) or deployment
        if deployment is None:
            raise ValueError("Deployment not found")
        params = deployment.get("litellm_params", {})
        user_info = deployment.get("model_info", {}) or {}
        model, provider, _, _ = rustllm.get_llm_provider(params.get("model", ""), params.get("custom_llm_provider"))
        base = user_info.get("base_model") or params.get("base_model")
        name = base or model
        if not name.startswith(f"{provider}/"):
            name = f"{provider}/{name}"
        info = dict(rustllm.get_model_info(name))
        info.update(user_info)
        return info

    async def async_get_available_deployment(
        self,
        model: str,
        request_kwargs: dict | None = None,
        messages: list | None = None,
        input: Any = None,
        specific_deployment: bool = False,
    ) -> dict[str, Any]:
        """The async twin of :meth:`get_available_deployment`."""
        return self.get_available_deployment(
            model,
            messages=messages,
            input=input,
            specific_deployment=specific_deployment,
            request_kwargs=request_kwargs,
        )

    async def get_model_group_usage(self, model_group: str) -> tuple[int | None, int | None]:
        """This minute's (tokens, requests) over the group's deployments; (None, None)
        when the group has none."""
        ids = set(self.get_model_ids(model_group))
        if not ids:
            return None, None
        stats = [s for s in self._core.deployment_stats() if s["id"] in ids]
        return sum(s["tpm_used"] for s in stats), sum(s["rpm_used"] for s in stats)

    async def get_remaining_model_group_usage(self, model_group: str) -> dict[str, int]:
        """LiteLLM's rate-limit headers for a group with ``tpm``/``rpm`` limits: what is
        left of this minute's limits (an empty dict without limits)."""
        params = [d["litellm_params"] for d in self.model_list if d["model_name"] == model_group]
        limits = {
            key: sum(p[key] for p in params if p.get(key) is not None) if any(p.get(key) for p in params) else None
            for key in ("tpm", "rpm")
        }
        if limits["tpm"] is None and limits["rpm"] is None:
            return {}
        tpm, rpm = await self.get_model_group_usage(model_group)
        out: dict[str, int] = {}
        if limits["tpm"] is not None:
            out["x-ratelimit-remaining-tokens"] = limits["tpm"] - (tpm or 0)
            out["x-ratelimit-limit-tokens"] = limits["tpm"]
        if limits["rpm"] is not None:
            out["x-ratelimit-remaining-requests"] = limits["rpm"] - (rpm or 0)
            out["x-ratelimit-limit-requests"] = limits["rpm"]
        return out

    def reset(self) -> None:
        """Forget the response cache and the retry policy, as LiteLLM's ``reset`` does
        (LiteLLM also empties the global callback lists; rustllm leaves the caller's)."""
        self.retry_policy = None
        self.flush_cache()

    def _register_deployment_prices(self) -> None:
        """As LiteLLM does: a deployment's own prices (``input_cost_per_token``, ...) go into
        the catalogue under its id and its model, so ``get_model_info`` and cost see them."""
        import rustllm

        for d in self.model_list:
            params = d["litellm_params"]
            prices = {k: params[k] for k in _PRICE_PARAMS if params.get(k) is not None}
            if not prices:
                continue
            model = str(params.get("model", ""))
            if params.get("custom_llm_provider"):
                model = f"{params['custom_llm_provider']}/{model}"
            info = {**{k: v for k, v in d["model_info"].items() if v is not None}, **prices}
            try:
                info.setdefault("litellm_provider", rustllm.get_llm_provider(model)[1])
            except Exception:  # noqa: BLE001 - a model with no known provider keeps none
                pass
            rustllm.register_model({d["model_info"]["id"]: info, model: info})

    @property
    def cache(self) -> RouterCache:
        """LiteLLM's ``router.cache`` (a ``DualCache``): values shared through the Router,
        in its Redis when configured, else in memory. See :class:`RouterCache`."""
        cache = self.__dict__.get("_cache")
        if cache is None:
            # setdefault: threads racing the first use all get the one that was stored.
            cache = self.__dict__.setdefault("_cache", RouterCache(self._core))
        return cache

    @property
    def cooldown_cache(self) -> _CooldownView:
        """The deployments cooling down, read as LiteLLM's ``CooldownCache``."""
        return _CooldownView(self)


def __getattr__(name: str) -> Any:
    # LiteLLM's router module also exposes the configuration types (Deployment,
    # LiteLLM_Params, ModelInfo, ...); they are imported on first use so that
    # `import rustllm` (which imports this module) does not load them.
    if not name.startswith("_"):
        from rustllm.types import router as types_router

        if name in types_router.__all__:
            return getattr(types_router, name)
    raise AttributeError(f"module 'rustllm.router' has no attribute {name!r}")
