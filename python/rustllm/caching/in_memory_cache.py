"""LiteLLM's ``litellm.caching.in_memory_cache.InMemoryCache``: a small key/value cache
in the process, for any Python object (clients, counters, parsed responses).

    from rustllm.caching.in_memory_cache import InMemoryCache
    cache = InMemoryCache(max_size_in_memory=100, default_ttl=60)
    cache.set_cache("k", {"a": 1}, ttl=5)
    cache.get_cache("k")                # {'a': 1}; None once 5 seconds have passed
    cache.increment_cache("calls", 1)   # 1

It is plain Python on purpose: it holds arbitrary objects by reference, which the Rust
response cache behind :class:`rustllm.Cache` (JSON bodies) cannot. As in LiteLLM:

* every entry has an expiry (``ttl=`` seconds, else ``default_ttl``, 600); setting a key
  again before it expires keeps its first expiry;
* when ``max_size_in_memory`` entries (200) are held, a new key first drops the expired
  entries, then those that expire soonest;
* values larger than ``max_size_per_item`` KB (1024) are not stored;
* ``get_cache`` of a string holding JSON returns it decoded (LiteLLM's DualCache stores
  JSON strings and reads them back as values).

Unlike LiteLLM 1.75.8, every method holds one lock, so threads can share an instance
(``increment_cache`` is an atomic read-modify-write), and ``max_size_in_memory=0``
stores nothing instead of meaning 200. ``cache_dict``, ``ttl_dict`` (key -> expiry in
epoch seconds) and ``expiration_heap`` are LiteLLM's attribute names, kept for code that
inspects them.
"""

from __future__ import annotations

import heapq
import json
import sys
import threading
import time
from typing import Any

__all__ = ["InMemoryCache"]

_DEFAULT_MAX_SIZE = 200
_DEFAULT_TTL = 600
_DEFAULT_MAX_ITEM_KB = 1024


class InMemoryCache:
    """A bounded in-process cache with per-entry expiry (see the module docstring)."""

    def __init__(
        self,
        max_size_in_memory: int | None = _DEFAULT_MAX_SIZE,
        default_ttl: int | None = _DEFAULT_TTL,
        max_size_per_item: int | None = _DEFAULT_MAX_ITEM_KB,
    ) -> None:
        self.max_size_in_memory = _DEFAULT_MAX_SIZE if max_size_in_memory is None else max_size_in_memory
        self.default_ttl = default_ttl or _DEFAULT_TTL
        self.max_size_per_item = max_size_per_item or _DEFAULT_MAX_ITEM_KB
        self.cache_dict: dict[Any, Any] = {}
        self.ttl_dict: dict[Any, float] = {}
        # (expiry, insertion number, key): the number breaks ties without comparing keys.
        # An entry whose expiry no longer matches ttl_dict is stale and skipped.
        self.expiration_heap: list[tuple[float, int, Any]] = []
        self._pushes = 0
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"InMemoryCache(entries={len(self.cache_dict)}, max_size_in_memory={self.max_size_in_memory})"

    # -- sizes and expiry --------------------------------------------------------------
    def check_value_size(self, value: Any) -> bool:
        """True when ``value`` fits in ``max_size_per_item`` KB (text by its length,
        other objects by ``sys.getsizeof``, which does not follow references)."""
        limit = self.max_size_per_item * 1024
        try:
            if isinstance(value, (str, bytes, bytearray)):
                return len(value) <= limit
            return sys.getsizeof(value) <= limit
        except Exception:  # noqa: BLE001 - an object whose size cannot be told is not stored
            return False

    def get_ttl(self, **kwargs: Any) -> int | None:
        """The ``ttl`` keyword as an int, else ``default_ttl`` (LiteLLM's BaseCache)."""
        ttl = kwargs.get("ttl")
        if ttl is None:
            return self.default_ttl
        try:
            return int(ttl)
        except (TypeError, ValueError):
            return self.default_ttl

    def _expired(self, key: Any, now: float) -> bool:
        expiry = self.ttl_dict.get(key)
        return expiry is not None and now > expiry

    def _remove(self, key: Any) -> None:
        self.cache_dict.pop(key, None)
        self.ttl_dict.pop(key, None)

    def _drop_expired_and_stale(self, now: float) -> None:
        heap = self.expiration_heap
        while heap:
            expiry, _, key = heap[0]
            if self.ttl_dict.get(key) != expiry:
                heapq.heappop(heap)  # stale: the key was deleted or given a new expiry
            elif expiry <= now:
                heapq.heappop(heap)
                self._remove(key)
            else:
                break
        # Stale entries below the top (keys deleted early) must not pile up either.
        if len(heap) > 2 * len(self.ttl_dict) + 16:
            self._rebuild_heap()

    def _rebuild_heap(self) -> None:
        self.expiration_heap = []
        for key, expiry in self.ttl_dict.items():
            self._push(expiry, key)

    def _push(self, expiry: float, key: Any) -> None:
        self._pushes += 1
        heapq.heappush(self.expiration_heap, (expiry, self._pushes, key))

    def _make_room(self) -> None:
        """Drop the entries that expire soonest until one more fits."""
        heap = self.expiration_heap
        while len(self.cache_dict) >= self.max_size_in_memory:
            if not heap:
                # Entries without an expiry (written to cache_dict directly): oldest first.
                self._remove(next(iter(self.cache_dict)))
                continue
            expiry, _, key = heapq.heappop(heap)
            if self.ttl_dict.get(key) == expiry:
                self._remove(key)

    def evict_cache(self) -> None:
        """Drop every expired entry."""
        with self._lock:
            self._drop_expired_and_stale(time.time())

    def allow_ttl_override(self, key: Any) -> bool:
        """True when ``key`` has no expiry yet or it has passed (so a new ``ttl`` applies)."""
        expiry = self.ttl_dict.get(key)
        return expiry is None or float(expiry) < time.time()

    def evict_element_if_expired(self, key: Any) -> bool:
        """Drop ``key`` if it has expired; True when it did."""
        with self._lock:
            if self._expired(key, time.time()):
                self._remove(key)
                return True
            return False

    # -- writes ------------------------------------------------------------------------
    def set_cache(self, key: Any, value: Any, **kwargs: Any) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds (``default_ttl`` if not
        given). A key that has not expired keeps its expiry."""
        if self.max_size_in_memory <= 0 or not self.check_value_size(value):
            return
        with self._lock:
            now = time.time()
            self._drop_expired_and_stale(now)
            if key not in self.cache_dict:
                self._make_room()
            self.cache_dict[key] = value
            if self.allow_ttl_override(key):
                ttl = kwargs.get("ttl")
                expiry = now + (float(ttl) if ttl is not None else self.default_ttl)
                self.ttl_dict[key] = expiry
                self._push(expiry, key)

    async def async_set_cache(self, key: Any, value: Any, **kwargs: Any) -> None:
        """The async twin of :meth:`set_cache` (it never waits)."""
        self.set_cache(key, value, **kwargs)

    async def async_set_cache_pipeline(self, cache_list: list, ttl: float | None = None, **kwargs: Any) -> None:
        """Store each ``(key, value)`` of ``cache_list``."""
        for key, value in cache_list:
            if ttl is not None:
                self.set_cache(key, value, ttl=ttl)
            else:
                self.set_cache(key, value)

    async def async_set_cache_sadd(self, key: Any, value: list, ttl: float | None) -> list:
        """Add the items of ``value`` to the set stored under ``key``."""
        with self._lock:
            members = self.get_cache(key) or set()
            members.update(value)
            self.set_cache(key, members, ttl=ttl)
        return value

    def increment_cache(self, key: Any, value: float, **kwargs: Any) -> Any:
        """Add ``value`` to the number under ``key`` (0 when absent) and return the sum;
        atomic across threads."""
        with self._lock:
            total = (self.get_cache(key) or 0) + value
            self.set_cache(key, total, **kwargs)
            return total

    async def async_increment(self, key: Any, value: float, **kwargs: Any) -> Any:
        """The async twin of :meth:`increment_cache`."""
        return self.increment_cache(key, value, **kwargs)

    async def async_increment_pipeline(self, increment_list: list, **kwargs: Any) -> list | None:
        """Apply each ``{"key": ..., "increment_value": ...}``; the new values in order."""
        return [self.increment_cache(op["key"], op["increment_value"], **kwargs) for op in increment_list]

    def delete_cache(self, key: Any) -> None:
        """Forget ``key``."""
        with self._lock:
            self._remove(key)

    def flush_cache(self) -> None:
        """Forget every entry."""
        with self._lock:
            self.cache_dict.clear()
            self.ttl_dict.clear()
            self.expiration_heap.clear()

    # -- reads -------------------------------------------------------------------------
    def get_cache(self, key: Any, **kwargs: Any) -> Any:
        """The value under ``key``, or None when absent or expired. A string holding
        JSON comes back decoded, as in LiteLLM."""
        with self._lock:
            if key not in self.cache_dict:
                return None
            if self._expired(key, time.time()):
                self._remove(key)
                return None
            value = self.cache_dict[key]
        if isinstance(value, (str, bytes, bytearray)):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def batch_get_cache(self, keys: list, **kwargs: Any) -> list:
        """:meth:`get_cache` of each key, in order."""
        return [self.get_cache(key, **kwargs) for key in keys]

    async def async_get_cache(self, key: Any, **kwargs: Any) -> Any:
        """The async twin of :meth:`get_cache`."""
        return self.get_cache(key, **kwargs)

    async def async_batch_get_cache(self, keys: list, **kwargs: Any) -> list:
        """The async twin of :meth:`batch_get_cache`."""
        return self.batch_get_cache(keys, **kwargs)

    async def async_get_ttl(self, key: Any) -> float | None:
        """The expiry of ``key`` in epoch seconds (LiteLLM returns this, not the seconds
        left), or None."""
        return self.ttl_dict.get(key)

    async def async_get_oldest_n_keys(self, n: int) -> list:
        """The ``n`` keys that expire soonest."""
        with self._lock:
            ordered = sorted(self.ttl_dict.items(), key=lambda item: item[1])
        return [key for key, _ in ordered[:n]]

    async def disconnect(self) -> None:
        """Nothing to close (LiteLLM's cache interface)."""
