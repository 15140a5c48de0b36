"""``rustllm.Cache``: LiteLLM's response cache for direct calls, in memory or in Redis.

    import rustllm as litellm
    litellm.cache = litellm.Cache()                                   # in memory
    litellm.cache = litellm.Cache(type="redis", host="127.0.0.1", port=6379, ttl=300)
    litellm.completion(model=..., messages=...)                      # a request
    litellm.completion(model=..., messages=...)                      # a hit: same id, no request

It is the cache the Router uses (``src/cache``): LiteLLM's cache key (the sha256 of the
call's LLM parameters, ``namespace:``-prefixed), LiteLLM's stored shape (so a LiteLLM
process and a rustllm process can share a Redis), and LiteLLM's per-call controls:
``caching=False`` skips the look-up, ``cache={"no-cache": True}`` too,
``cache={"no-store": True}`` skips the write, ``cache={"ttl": s}`` sets the entry's life,
``cache={"s-maxage": s}`` refuses older entries, ``cache={"namespace": "ns"}`` (or
``metadata={"redis_namespace": "ns"}``) prefixes the key; in ``mode="default_off"`` only
calls with ``cache={"use-cache": True}`` use it. A hit returns the stored response with
``_hidden_params["cache_hit"] = True`` and makes no request.
"""

from __future__ import annotations

import logging
import os
from enum import Enum
from typing import Any

from rustllm import _core

__all__ = ["Cache", "CacheMode", "LiteLLMCacheType"]

_logger = logging.getLogger("rustllm")


class LiteLLMCacheType(str, Enum):
    """LiteLLM's cache types; rustllm provides ``LOCAL`` and ``REDIS``."""

    LOCAL = "local"
    REDIS = "redis"
    REDIS_SEMANTIC = "redis-semantic"
    S3 = "s3"
    DISK = "disk"
    QDRANT_SEMANTIC = "qdrant-semantic"
    AZURE_BLOB = "azure-blob"
    GCS = "gcs"


class CacheMode(str, Enum):
    """``default_on``: every call uses the cache unless told not to; ``default_off``:
    only calls with ``cache={"use-cache": True}``."""

    default_on = "default_on"
    default_off = "default_off"


_ALL_CALL_TYPES = [
    "completion",
    "acompletion",
    "embedding",
    "aembedding",
    "atranscription",
    "transcription",
    "atext_completion",
    "text_completion",
    "arerank",
    "rerank",
]

# Redis connection arguments rustllm reads from **kwargs (LiteLLM hands them to redis-py).
_REDIS_KWARGS = frozenset({"url", "username", "db"})

# redis-py's TLS arguments, which rustllm reads from ``Cache(**kwargs)`` and the Router's
# ``cache_kwargs`` (and, when absent, from ``REDIS_SSL``, ``REDIS_SSL_CA_CERTS``, ...):
# ``ssl`` turns TLS on (so does a ``rediss://`` URL); ``ssl_cert_reqs`` ``"required"``
# (default) / ``"optional"`` verify the server's certificate, ``"none"`` (or ``None``)
# does not; ``ssl_check_hostname=False`` checks the chain but not the name;
# ``ssl_ca_certs`` is a PEM file of CAs trusted beside the built-in roots;
# ``ssl_certfile`` / ``ssl_keyfile`` are the client certificate and its key.
REDIS_TLS_KWARGS = frozenset(
    {"ssl", "ssl_cert_reqs", "ssl_check_hostname", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile"}
)


def redis_tls_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The TLS arguments in ``kwargs``, in the plain values the core reads: an
    ``ssl.VerifyMode`` as its number, paths as strings, and an explicit
    ``ssl_cert_reqs=None`` (redis-py's "verify nothing") kept as ``"none"``."""
    out: dict[str, Any] = {}
    for key in REDIS_TLS_KWARGS & kwargs.keys():
        value = kwargs[key]
        if key == "ssl_cert_reqs":
            value = "none" if value is None else getattr(value, "value", value)
        elif key in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile") and value is not None:
            value = os.fspath(value)
        if value is not None:
            out[key] = value
    _http_tls_fallbacks(out)
    return out


def _http_tls_fallbacks(out: dict[str, Any]) -> None:
    """Where neither the arguments nor ``REDIS_SSL_*`` say otherwise, Redis over TLS trusts
    what HTTP calls trust: ``rustllm.ssl_verify`` (a CA bundle, or False) and
    ``rustllm.ssl_certificate``, then ``REQUESTS_CA_BUNDLE`` (``SSL_CERT_FILE`` already
    selects the OS store the TLS stack reads)."""
    import rustllm

    verify = rustllm.ssl_verify
    if "ssl_ca_certs" not in out and not os.environ.get("REDIS_SSL_CA_CERTS"):
        if isinstance(verify, str) and verify.strip().lower() not in ("", "true", "false"):
            out["ssl_ca_certs"] = verify
        elif os.environ.get("REQUESTS_CA_BUNDLE", "").strip():
            out["ssl_ca_certs"] = os.environ["REQUESTS_CA_BUNDLE"].strip()
    off = verify is False or (isinstance(verify, str) and verify.strip().lower() == "false")
    if off and "ssl_cert_reqs" not in out and not os.environ.get("REDIS_SSL_CERT_REQS"):
        out["ssl_cert_reqs"] = "none"
    if rustllm.ssl_certificate and "ssl_certfile" not in out and not os.environ.get("REDIS_SSL_CERTFILE"):
        out["ssl_certfile"] = os.fspath(rustllm.ssl_certificate)


def _value(v: Any) -> Any:
    return getattr(v, "value", v)


class Cache:
    """LiteLLM's ``Cache(type="local" | "redis", ...)``.

    ``host``, ``port``, ``password`` (or ``url=``, ``username=``, ``db=``) locate Redis,
    falling back to ``REDIS_HOST``, ``REDIS_PORT``, ``REDIS_PASSWORD``, ``REDIS_URL``.
    TLS: ``url="rediss://..."`` or ``ssl=True``, with redis-py's ``ssl_cert_reqs``,
    ``ssl_check_hostname``, ``ssl_ca_certs`` (trusted beside the built-in roots),
    ``ssl_certfile`` and ``ssl_keyfile`` (falling back to ``REDIS_SSL``,
    ``REDIS_SSL_CA_CERTS``, ...). An unreadable or invalid certificate file raises
    ``ValueError`` here; a server whose certificate fails verification counts as down.
    ``ttl`` is the default life of an entry (``default_in_memory_ttl`` /
    ``default_in_redis_ttl`` win for their store; the memory store keeps entries 10
    minutes by default, 200 at most, or ``max_size_in_memory``). ``namespace`` prefixes
    every key. ``supported_call_types`` lists the call types whose replies are stored.
    Other cache types raise ``ValueError``. A Redis that goes down costs misses, never
    errors; it is logged once per outage.
    """

    def __init__(
        self,
        type: Any = LiteLLMCacheType.LOCAL,
        mode: Any = CacheMode.default_on,
        host: str | None = None,
        port: str | int | None = None,
        password: str | None = None,
        namespace: str | None = None,
        ttl: float | None = None,
        default_in_memory_ttl: float | None = None,
        default_in_redis_ttl: float | None = None,
        similarity_threshold: float | None = None,
        supported_call_types: list[str] | None = None,
        max_size_in_memory: int | None = None,
        **kwargs: Any,
    ) -> None:
        kind = _value(type) if type is not None else "local"
        if kind not in ("local", "redis"):
            raise ValueError(
                f"rustllm.Cache supports type='local' and type='redis', not type={kind!r} "
                "(semantic, disk and cloud-storage caches are not built in)"
            )
        if supported_call_types is None:
            supported_call_types = list(_ALL_CALL_TYPES)
        settings: dict[str, Any] = {
            "type": kind,
            "host": host,
            "port": port,
            "password": password,
            "namespace": namespace,
            "ttl": ttl,
            "default_in_memory_ttl": default_in_memory_ttl,
            "default_in_redis_ttl": default_in_redis_ttl,
            "mode": _value(mode),
            "supported_call_types": [_value(t) for t in supported_call_types],
            "max_size_in_memory": max_size_in_memory,
        }
        settings.update(redis_tls_kwargs(kwargs))
        for key, value in kwargs.items():
            if key in _REDIS_KWARGS:
                settings[key] = value
            elif key not in REDIS_TLS_KWARGS and value is not None:
                _logger.warning("rustllm.Cache: %s=%r is not used by rustllm; ignored", key, value)
        self._core = _core.ResponseCache({k: v for k, v in settings.items() if v is not None})
        self.type = kind
        self.mode = CacheMode(_value(mode))
        self.host = host
        self.port = port
        self.namespace = namespace
        self.ttl = ttl
        self.default_in_memory_ttl = default_in_memory_ttl
        self.default_in_redis_ttl = default_in_redis_ttl
        self.supported_call_types = list(supported_call_types)
        self.similarity_threshold = similarity_threshold

    def __repr__(self) -> str:
        where = f" at {self._core.redis_address}" if self._core.redis_address else ""
        return f"rustllm.Cache(type={self.type!r}{where}, mode={self.mode.value!r}, namespace={self.namespace!r})"

    @property
    def redis_address(self) -> str | None:
        """``host:port`` of the Redis, or None for the in-memory store."""
        return self._core.redis_address

    # -- LiteLLM's public methods ------------------------------------------------------
    def get_cache_key(self, **kwargs: Any) -> str:
        """LiteLLM's key for a call with these keyword arguments."""
        control = kwargs.get("cache") if isinstance(kwargs.get("cache"), dict) else {}
        metadata = kwargs.get("metadata") if isinstance(kwargs.get("metadata"), dict) else {}
        namespace = control.get("namespace") or metadata.get("redis_namespace") or self.namespace
        return _core.cache_key_of(kwargs, kwargs.get("model"), namespace)

    def should_use_cache(self, **kwargs: Any) -> bool:
        """In ``default_off`` mode only calls with ``cache={"use-cache": True}`` do."""
        if self.mode == CacheMode.default_on:
            return True
        control = kwargs.get("cache")
        return isinstance(control, dict) and control.get("use-cache") is True

    def add_cache(self, result: Any, **kwargs: Any) -> None:
        """Store ``result`` (a response object or dict) under the key of ``kwargs``."""
        plan = self._key_plan(kwargs)
        body = result.model_dump() if hasattr(result, "model_dump") else result
        if isinstance(body, dict):
            self._core.put(plan, body)

    def get_cache(self, **kwargs: Any) -> dict[str, Any] | None:
        """The stored response (a dict) for the key of ``kwargs``, or None."""
        return self._core.get(self._key_plan(kwargs))

    async def async_add_cache(self, result: Any, **kwargs: Any) -> None:
        """The async twin of :meth:`add_cache`."""
        plan = self._key_plan(kwargs)
        body = result.model_dump() if hasattr(result, "model_dump") else result
        if isinstance(body, dict):
            await self._aput(plan, body)

    async def async_get_cache(self, **kwargs: Any) -> dict[str, Any] | None:
        """The async twin of :meth:`get_cache`."""
        return await self._aget(self._key_plan(kwargs))

    def flush_cache(self) -> None:
        """Drop every entry of the in-memory store (Redis entries expire by their ttl)."""
        self._core.clear()

    # -- what rustllm's calls use ------------------------------------------------------
    def _key_plan(self, kwargs: dict[str, Any]) -> Any:
        control = kwargs.get("cache") if isinstance(kwargs.get("cache"), dict) else {}
        ttl = control.get("ttl") or kwargs.get("ttl")
        return _core.CachePlan.for_key(self.get_cache_key(**kwargs), ttl, self._core)

    def _plan(self, call_type: str, params: dict[str, Any]) -> Any:
        return self._core.plan(call_type, params)

    def _get(self, plan: Any) -> dict[str, Any] | None:
        return self._core.get(plan)

    def _put(self, plan: Any, body: dict[str, Any]) -> None:
        self._core.put(plan, body)

    async def _aget(self, plan: Any) -> dict[str, Any] | None:
        if self.type == "local":
            return self._core.get(plan)
        from rustllm._bridge import submit

        return await submit(self._core.get_submit, plan)

    async def _aput(self, plan: Any, body: dict[str, Any]) -> None:
        if self.type == "local":
            self._core.put(plan, body)
            return
        from rustllm._bridge import submit

        await submit(self._core.put_submit, plan, body)
