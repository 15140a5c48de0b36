"""The observed path of a call: callbacks, the module cache (``rustllm.cache``) and
per-call logging.

``rustllm.completion`` and its siblings take this path only when something observes
calls: a callback is registered, ``rustllm.cache`` is set, or call logging is on
(``set_verbose``, ``turn_on_debug()``, ``LITELLM_LOG``). Otherwise they never touch it.

Hooks run off the request's path, in LiteLLM's order: sync hooks on one background
thread (FIFO, so ``log_pre_api_call`` < ``log_post_api_call`` < success function <
``log_success_event``), async hooks as tasks on the caller's event loop. The kwargs they
receive (LiteLLM's ``model_call_details``) are built there too, never on the call's
thread. A hook that raises is logged on ``logging.getLogger("rustllm")`` and never
reaches the caller.

Guardrails (``CustomGuardrail`` instances in ``rustllm.callbacks``, or named per call)
run here too, around the call: :mod:`rustllm._guardrails` plans and runs them. A guardrail
with no hook to run never takes a call off the plain path.

This module is imported with ``rustllm`` (the Router's methods are wrapped by
:func:`routed`), so it imports nothing that is not already loaded; the rest is imported
on first use.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
import time
from typing import Any, Callable

from rustllm import _core

_logger = logging.getLogger("rustllm")

_CO_COROUTINE = 0x80
# LiteLLM's enable_cache() / Cache() put the string "cache" in the callback lists.
_IGNORED_NAMES = frozenset({"cache"})
# Per-call callback arguments (LiteLLM's dynamic callbacks): never sent to the provider.
_DYNAMIC = ("callbacks", "success_callback", "failure_callback")
# The call arguments that make a call observed (`active`, on every Router call).
_OBSERVING = frozenset((*_DYNAMIC, "guardrails"))


def _rustllm() -> Any:
    return sys.modules["rustllm"]


def active(params: dict[str, Any] | None = None) -> bool:
    """Whether a call must take the observed path (used by the Router's wrappers)."""
    m = _rustllm()
    if m.input_callback or m.success_callback or m.failure_callback or m.set_verbose or m._log_calls:
        return True
    if m.callbacks and not m._only_quiet_guardrails(m.callbacks):
        return True
    if m._async_success_callback or m._async_failure_callback or m._async_input_callback:
        return True
    # A set test over the call's few keys, not a generator: this runs on every Router call.
    return params is not None and not _OBSERVING.isdisjoint(params)


# ---------------------------------------------------------------------------------------
# The background worker for sync hooks.
# ---------------------------------------------------------------------------------------
class _Worker:
    """One daemon thread running sync hooks in submission order. Started on first use,
    restarted after a fork, drained (for up to 5 s) at interpreter exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: Any = None
        self._thread: threading.Thread | None = None
        self._pid = 0

    def _start(self) -> None:
        import queue

        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            first = self._thread is None
            self._queue = queue.SimpleQueue()
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, args=(self._queue,), name="rustllm-callbacks", daemon=True
            )
            self._thread.start()
            if first:
                import atexit

                atexit.register(self.flush, 5.0)

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        thread = self._thread
        if thread is None or self._pid != os.getpid() or not thread.is_alive():
            self._start()
        self._queue.put((fn, args))

    @staticmethod
    def _run(q: Any) -> None:
        while True:
            fn, args = q.get()
            try:
                fn(*args)
            except Exception:  # a hook's own errors are caught inside; this is a bug
                _logger.exception("rustllm: callback worker error")

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Wait until every hook submitted so far has run. True if they all ran."""
        thread = self._thread
        if thread is None or self._pid != os.getpid() or not thread.is_alive():
            return True
        done = threading.Event()
        self._queue.put((done.set, ()))
        return done.wait(timeout)


_worker = _Worker()


def flush(timeout: float | None = 5.0) -> bool:
    """Wait for the sync hooks submitted so far (tests, short scripts)."""
    return _worker.flush(timeout)


def _label(fn: Any) -> str:
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    if owner is not None and not isinstance(owner, type):
        return f"{type(owner).__name__}.{getattr(fn, '__name__', name)}"
    return name


def _safe(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        _logger.exception("rustllm: callback %s raised; the call was not affected", _label(fn))


async def _asafe(fn: Callable[..., Any], *args: Any) -> None:
    try:
        result = fn(*args)
        if hasattr(result, "__await__"):
            await result
    except Exception:
        _logger.exception("rustllm: callback %s raised; the call was not affected", _label(fn))


def _is_coroutine_function(fn: Any) -> bool:
    """``async def`` functions, partials of them, and objects with an ``async def __call__``."""
    call = next((k.__dict__["__call__"] for k in type(fn).__mro__ if "__call__" in k.__dict__), None)
    for f in (fn, getattr(fn, "func", None), call):
        code = getattr(f, "__code__", None)
        if code is not None and code.co_flags & _CO_COROUTINE:
            return True
    return False


# ---------------------------------------------------------------------------------------
# Which hooks a call fires.
# ---------------------------------------------------------------------------------------
def _is_logger(cb: Any) -> bool:
    return hasattr(cb, "log_success_event") or hasattr(cb, "async_log_success_event")


_LOG_HOOKS = (
    "log_pre_api_call",
    "log_post_api_call",
    "log_stream_event",
    "log_success_event",
    "log_failure_event",
    "async_log_stream_event",
    "async_log_success_event",
    "async_log_failure_event",
)


def only_quiet_guardrails(cbs: tuple) -> bool:
    """Whether every callback is a guardrail with no hook to run, guardrail or logging."""
    module = sys.modules.get("rustllm.integrations.custom_guardrail")
    if module is None or not cbs:
        return False
    from rustllm import _guardrails

    return all(_quiet_guardrail(cb) and not _guardrails._does_something(cb) for cb in cbs)


def inline_builtins(cbs: tuple) -> tuple[Any, tuple]:
    """``(Rust cores, guardrails)`` of the built-in guardrails in ``cbs`` when every other
    callback is a guardrail with nothing to run and each of them is a plain
    ``rustllm.guardrails.Guardrail`` that only checks the request (``pre_call`` /
    ``during_call``) and blocks, masks or logs (no ``route``, no restoring the reply):
    what a call can run inside its Rust call. ``(None, ())`` otherwise."""
    from rustllm import _guardrails
    from rustllm.guardrails import Guardrail

    found: list = []
    for cb in cbs:
        if type(cb) is Guardrail:
            if not cb._modes <= {"pre_call", "during_call"} or cb._core.restores:
                return None, ()
            if not set(cb._core.actions) <= {"block", "mask", "log"}:
                return None, ()
            if not any(cb is g for g in found):
                found.append(cb)
        elif not (_quiet_guardrail(cb) and not _guardrails._does_something(cb)):
            return None, ()
    if not found:
        return None, ()
    return tuple(g._core for g in found), tuple(found)


def _quiet_guardrail(cb: Any) -> bool:
    """A guardrail that overrides no logging hook: it runs as a guardrail only, so it
    never puts a call on the callbacks' path."""
    module = sys.modules.get("rustllm.integrations.custom_guardrail")
    if module is None or not isinstance(cb, module.CustomGuardrail):
        return False
    return not any(_overrides(cb, name) for name in _LOG_HOOKS)


def _overrides(cb: Any, name: str) -> bool:
    """Whether `cb` has a hook worth calling: defined, and not CustomLogger's no-op."""
    from rustllm.integrations.custom_logger import CustomLogger

    mine = getattr(type(cb), name, None)
    if mine is None:
        return callable(getattr(cb, name, None))
    return mine is not getattr(CustomLogger, name, None)


class _Observers:
    """The hooks one call fires, sorted by event and by sync/async."""

    __slots__ = (
        "failure_afns",
        "failure_fns",
        "failure_loggers",
        "guardrail_names",
        "guardrails",
        "input_afns",
        "input_fns",
        "log",
        "pre_loggers",
        "stream_loggers",
        "success_afns",
        "success_fns",
        "success_loggers",
    )

    def __init__(self) -> None:
        self.input_fns: list = []
        self.input_afns: list = []
        self.pre_loggers: list = []
        self.success_fns: list = []
        self.success_afns: list = []
        self.success_loggers: list = []
        self.failure_fns: list = []
        self.failure_afns: list = []
        self.failure_loggers: list = []
        self.stream_loggers: list = []
        self.log = False
        # Guardrails (rustllm._guardrails): those that may act on a call, and every name.
        self.guardrails: list = []
        self.guardrail_names: frozenset = frozenset()

    @property
    def any(self) -> bool:
        return bool(
            self.input_fns
            or self.input_afns
            or self.pre_loggers
            or self.success_fns
            or self.success_afns
            or self.success_loggers
            or self.failure_fns
            or self.failure_afns
            or self.failure_loggers
        )


def _unsupported(name: str, where: str) -> ValueError:
    return ValueError(
        f"rustllm does not support the {name!r} logging integration (found in {where}). "
        "Register a function or a rustllm.integrations.custom_logger.CustomLogger instance instead; "
        "named integrations (langfuse, langsmith, datadog, ...) are not built in."
    )


def _sort(items: Any, where: str, loggers: list, fns: list, afns: list) -> None:
    if not items:
        return
    if not isinstance(items, (list, tuple)):
        items = [items]
    for cb in items:
        if isinstance(cb, str):
            if cb in _IGNORED_NAMES:
                continue
            raise _unsupported(cb, where)
        if _is_logger(cb):
            if _quiet_guardrail(cb):
                continue
            if not any(cb is x for x in loggers):
                loggers.append(cb)
        elif callable(cb):
            (afns if _is_coroutine_function(cb) else fns).append(cb)
        else:
            raise TypeError(f"{where} holds {cb!r}, which is neither a function nor a CustomLogger")


# The last module-level configuration seen and its sorting: most calls reuse it.
_last: tuple[Any, _Observers | None] = (None, None)


def observers(params: dict[str, Any]) -> _Observers:
    """The hooks of this call: the module lists plus per-call ``callbacks=`` /
    ``success_callback=`` / ``failure_callback=`` (removed from ``params``). Raises
    ValueError for a named integration, before any request."""
    global _last
    m = _rustllm()
    if m.set_verbose is not m._verbose_pushed:
        m._push_verbose()  # before the call's first log line
    dyn = {k: params.pop(k) for k in _DYNAMIC if k in params}
    if dyn:
        return _observers(m, dyn)
    key = (
        tuple(m.callbacks),
        tuple(m.input_callback),
        tuple(m.success_callback),
        tuple(m.failure_callback),
        tuple(m._async_input_callback),
        tuple(m._async_success_callback),
        tuple(m._async_failure_callback),
        bool(m.set_verbose or m._log_calls),
    )
    last_key, last_obs = _last
    if last_obs is not None and len(key[0]) == len(last_key[0]) and key == last_key:
        return last_obs
    obs = _observers(m, dyn)
    _last = (key, obs)
    return obs


def _observers(m: Any, dyn: dict[str, Any]) -> _Observers:
    obs = _Observers()
    both: list = []
    _sort(m.callbacks, "rustllm.callbacks", both, obs.input_fns, obs.input_afns)
    _sort(dyn.get("callbacks"), "callbacks=", both, obs.input_fns, obs.input_afns)
    # Functions in `callbacks` are success and failure functions too, as in LiteLLM.
    funcs, afuncs = list(obs.input_fns), list(obs.input_afns)
    obs.input_fns, obs.input_afns = [], []
    pre: list = list(both)
    _sort(m.input_callback, "rustllm.input_callback", pre, obs.input_fns, obs.input_afns)
    _sort(m._async_input_callback, "rustllm._async_input_callback", pre, obs.input_fns, obs.input_afns)
    obs.pre_loggers = pre
    success: list = list(both)
    obs.success_fns, obs.success_afns = list(funcs), list(afuncs)
    _sort(m.success_callback, "rustllm.success_callback", success, obs.success_fns, obs.success_afns)
    _sort(m._async_success_callback, "rustllm._async_success_callback", success, obs.success_fns, obs.success_afns)
    _sort(dyn.get("success_callback"), "success_callback=", success, obs.success_fns, obs.success_afns)
    obs.success_loggers = success
    failure: list = list(both)
    obs.failure_fns, obs.failure_afns = list(funcs), list(afuncs)
    _sort(m.failure_callback, "rustllm.failure_callback", failure, obs.failure_fns, obs.failure_afns)
    _sort(m._async_failure_callback, "rustllm._async_failure_callback", failure, obs.failure_fns, obs.failure_afns)
    _sort(dyn.get("failure_callback"), "failure_callback=", failure, obs.failure_fns, obs.failure_afns)
    obs.failure_loggers = failure
    obs.stream_loggers = [
        lg for lg in success if _overrides(lg, "log_stream_event") or _overrides(lg, "async_log_stream_event")
    ]
    obs.log = bool(m.set_verbose or m._log_calls)
    if "rustllm.integrations.custom_guardrail" in sys.modules:
        from rustllm import _guardrails

        per_call = dyn.get("callbacks") or []
        listed = [*(m.callbacks or []), *(per_call if isinstance(per_call, (list, tuple)) else [per_call])]
        obs.guardrails, obs.guardrail_names = _guardrails.registered(listed)
    return obs


# ---------------------------------------------------------------------------------------
# Call logging (set_verbose, turn_on_debug(), LITELLM_LOG).
# ---------------------------------------------------------------------------------------
# The lines go to LiteLLM's "LiteLLM" logger; rustllm._logging sets its level and handler.
_call_logger = logging.getLogger("LiteLLM")


_QUIET_KEYS = frozenset({"messages", "input", "prompt", "headers", "extra_headers"})


def _describe_params(params: dict[str, Any]) -> str:
    """The call's arguments for its debug line: credentials masked (and their values
    wherever else they appear, e.g. in ``extra_body``), the conversation left out."""
    parts = []
    m = _rustllm()
    secrets = [k for k in (m.api_key, m.openai_key, m.anthropic_key, m.azure_key, m.cohere_key) if isinstance(k, str)]
    for k, v in params.items():
        if v is None or k in ("model",) or k in _DYNAMIC:
            continue
        if _core.is_secret_name(k):
            if isinstance(v, str):
                secrets.append(v)
            v = "****"
        elif k in _QUIET_KEYS:
            v = f"<{len(v)} items>" if isinstance(v, (list, tuple, dict)) else "<...>"
        elif k in ("api_base", "base_url") and isinstance(v, str):
            v = _core.mask_url(v)
        parts.append(f"{k}={v!r}")
    return _core.scrub(", ".join(parts), secrets)


def _log_start(call: _Call) -> None:
    if _call_logger.isEnabledFor(logging.DEBUG):
        _call_logger.debug(
            "litellm.%s(model=%s) %s", call.call_type, call.params.get("model"), _describe_params(call.params)
        )


def _log_end(call: _Call, response: Any, error: BaseException | None) -> None:
    model = call.params.get("model")
    if error is not None:
        _call_logger.info("litellm.%s(model=%s) Exception %s", call.call_type, model, error)
        return
    hidden = getattr(response, "_hidden_params", None) or {}
    ms = (time.time() - call.start) * 1000
    if call.cache_hit:
        _call_logger.info("litellm.%s(model=%s) cache hit in %.1f ms", call.call_type, model, ms)
        return
    api_base = hidden.get("api_base")
    _call_logger.info(
        "litellm.%s(model=%s) 200 OK in %.1f ms (provider=%s, api_base=%s, response_cost=%s)",
        call.call_type,
        model,
        ms,
        hidden.get("custom_llm_provider"),
        _core.mask_url(api_base) if isinstance(api_base, str) else api_base,
        hidden.get("response_cost"),
    )


# ---------------------------------------------------------------------------------------
# model_call_details and the standard logging object.
# ---------------------------------------------------------------------------------------
# What is not a provider parameter, so not in ``optional_params``: LiteLLM's own settings
# (the one list, from Rust) and the call's input.
_NOT_OPTIONAL = frozenset(_core.litellm_params()) | {"model", "messages", "input", "prompt"}

_TEXT_TYPES = ("text_completion", "atext_completion")
_EMBEDDING_TYPES = ("embedding", "aembedding")
# The Responses API: its `input` is the call's input; never cached (a Response is
# stateful: its id, `previous_response_id`), as LiteLLM's cache does not list it.
_RESPONSES_TYPES = ("responses", "aresponses")
# Anthropic's Messages API: its stream is Anthropic's events; not cached, as LiteLLM's
# cache does not list it.
_MESSAGES_TYPES = ("anthropic_messages", "aanthropic_messages")


def _datetime(ts: float) -> Any:
    from datetime import datetime

    return datetime.fromtimestamp(ts)


def _split_model(model: str, params: dict[str, Any]) -> tuple[str, str | None]:
    try:
        from rustllm import _core

        stripped, provider, _, _ = _core.get_llm_provider(
            model, params.get("custom_llm_provider"), params.get("base_url") or params.get("api_base")
        )
        return stripped, provider
    except Exception:  # noqa: BLE001 - logging must never fail the call
        return model, params.get("custom_llm_provider")


class _Call:
    """One observed call. The call's thread records times and objects; the kwargs the
    hooks see are built on first use by the worker or the loop."""

    __slots__ = (
        "cache_hit",
        "cache_key",
        "call_id",
        "call_type",
        "details",
        "end",
        "extra",
        "first_chunk",
        "is_async",
        "obs",
        "params",
        "router",
        "start",
    )

    def __init__(self, call_type: str, params: dict[str, Any], obs: _Observers, is_async: bool) -> None:
        from rustllm.types.utils import _uuid4

        self.call_type = call_type
        self.params = dict(params)  # a snapshot: the call goes on to fill in settings
        self.obs = obs
        self.is_async = is_async
        self.start = time.time()
        self.end: float | None = None
        self.first_chunk: float | None = None
        self.call_id = params.get("litellm_call_id") or _uuid4()  # ~1 us
        self.details: dict[str, Any] | None = None
        self.cache_key: str | None = None
        self.cache_hit = False
        self.router: dict[str, Any] | None = None
        self.extra: dict[str, Any] = {}

    # -- kwargs --------------------------------------------------------------------------
    def kwargs(self) -> dict[str, Any]:
        """LiteLLM's ``model_call_details`` (one dict per call, as in LiteLLM)."""
        d = self.details
        if d is not None:
            return d
        p = self.params
        model = p.get("model") or ""
        stripped, provider = _split_model(model, p)
        if self.call_type in _TEXT_TYPES:
            prompt = p.get("prompt")
            messages: Any = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
            call_input: Any = prompt
        elif (
            self.call_type in _EMBEDDING_TYPES
            or self.call_type in _RESPONSES_TYPES
            or self.call_type in ("speech", "aspeech")
        ):
            messages = call_input = p.get("input")
        elif self.call_type in ("image_generation", "aimage_generation", "image_edit", "aimage_edit"):
            messages = call_input = p.get("prompt")
        else:
            messages = call_input = p.get("messages")
        optional = {k: v for k, v in p.items() if v is not None and k not in _NOT_OPTIONAL}
        metadata = dict(p.get("metadata") or {})
        model_info = p.get("model_info")
        api_base = p.get("base_url") or p.get("api_base")
        litellm_params = {
            "acompletion": self.is_async,
            "api_base": api_base,
            "api_version": p.get("api_version"),
            "custom_llm_provider": provider,
            "metadata": metadata,
            "model_info": model_info,
            "litellm_call_id": self.call_id,
            "litellm_trace_id": p.get("litellm_trace_id"),
            "model": model,
            "input_cost_per_token": p.get("input_cost_per_token"),
            "output_cost_per_token": p.get("output_cost_per_token"),
            "stream_response": {},
            "preset_cache_key": None,
            "no-log": p.get("no-log", False),
        }
        start = _datetime(self.start)
        d = {
            "model": stripped,
            "messages": messages,
            "optional_params": optional,
            "litellm_params": litellm_params,
            "start_time": start,
            "stream": bool(p.get("stream")),
            "user": p.get("user"),
            "call_type": self.call_type,
            "litellm_call_id": self.call_id,
            "completion_start_time": None,
            "input": call_input,
            "api_key": p.get("api_key"),
            "custom_llm_provider": provider,
            "metadata": metadata,
            "additional_args": {
                "api_base": api_base,
                "headers": p.get("extra_headers") or p.get("headers") or {},
                "complete_input_dict": {"model": stripped, **({"messages": messages} if messages else {}), **optional},
            },
            "log_event_type": "pre_api_call",
        }
        self.details = d
        if self.router is not None:
            _apply_route(self, d)
        return d

    def _finish(
        self, d: dict[str, Any], response: Any, status: str, error: BaseException | None, extra: dict[str, Any]
    ) -> None:
        end = self.end if self.end is not None else time.time()
        hidden = getattr(response, "_hidden_params", None) or {}
        cost = 0.0 if self.cache_hit else hidden.get("response_cost")
        d["end_time"] = _datetime(end)
        d["completion_start_time"] = _datetime(self.first_chunk) if self.first_chunk else d["end_time"]
        d["cache_hit"] = self.cache_hit
        d["response_cost"] = cost if status == "success" else 0.0
        if hidden.get("custom_llm_provider"):
            d["custom_llm_provider"] = hidden["custom_llm_provider"]
            d["litellm_params"]["custom_llm_provider"] = hidden["custom_llm_provider"]
        if hidden.get("api_base"):
            d["litellm_params"]["api_base"] = hidden["api_base"]
        if self.router is not None:
            _apply_route(self, d)
        d.update(extra)
        if error is not None:
            import traceback

            d["exception"] = error
            d["traceback_exception"] = "".join(traceback.format_exception(type(error), error, error.__traceback__))
            d["log_event_type"] = "failed_api_call"
        dump = None
        if error is None:
            d["log_event_type"] = "successful_api_call"
            if response is not None and hasattr(response, "model_dump"):
                try:
                    dump = response.model_dump()
                    d["original_response"] = _json_text(dump)
                except Exception:  # noqa: BLE001 - logging must never fail the call
                    d["original_response"] = str(response)
        d["standard_logging_object"] = _standard_logging_object(self, d, response, dump, status, error, end)

    # -- events: sync calls (run on the worker) ----------------------------------------
    def pre(self) -> None:
        d = self.kwargs()
        for fn in self.obs.input_fns:
            _safe(fn, d)
        for lg in self.obs.pre_loggers:
            if hasattr(lg, "log_pre_api_call"):
                _safe(lg.log_pre_api_call, d["model"], d["messages"], d)

    def post(self) -> None:
        d = self.kwargs()
        d["log_event_type"] = "post_api_call"
        for lg in self.obs.pre_loggers:
            if hasattr(lg, "log_post_api_call"):
                _safe(lg.log_post_api_call, d, None, d["start_time"], None)

    def stream_event(self, chunk: Any, now: float) -> None:
        d = self.kwargs()
        for lg in self.obs.stream_loggers:
            if hasattr(lg, "log_stream_event"):
                _safe(lg.log_stream_event, d, chunk, d["start_time"], _datetime(now))

    def success(self, response: Any, extra: dict[str, Any]) -> None:
        response, extra = _resolve(response, extra)
        d = self.kwargs()
        self._finish(d, response, "success", None, extra)
        start, end = d["start_time"], d["end_time"]
        for fn in self.obs.success_fns:
            _safe(fn, d, response, start, end)
        for lg in self.obs.success_loggers:
            if hasattr(lg, "log_success_event"):
                _safe(lg.log_success_event, d, response, start, end)

    def failure(self, error: BaseException) -> None:
        d = self.kwargs()
        self._finish(d, None, "failure", error, {})
        start, end = d["start_time"], d["end_time"]
        for fn in self.obs.failure_fns:
            _safe(fn, d, None, start, end)
        for lg in self.obs.failure_loggers:
            if hasattr(lg, "log_failure_event"):
                _safe(lg.log_failure_event, d, None, start, end)

    # -- events: async calls (tasks on the caller's loop) ------------------------------
    async def apre(self) -> None:
        d = self.kwargs()
        for fn in self.obs.input_afns:
            await _asafe(fn, d)

    async def astream_event(self, chunk: Any, now: float) -> None:
        d = self.kwargs()
        for lg in self.obs.stream_loggers:
            if hasattr(lg, "async_log_stream_event"):
                await _asafe(lg.async_log_stream_event, d, chunk, d["start_time"], _datetime(now))

    async def asuccess(self, response: Any, extra: dict[str, Any]) -> None:
        response, extra = _resolve(response, extra)
        d = self.kwargs()
        self._finish(d, response, "success", None, extra)
        start, end = d["start_time"], d["end_time"]
        for fn in self.obs.success_afns:
            await _asafe(fn, d, response, start, end)
        for lg in self.obs.success_loggers:
            if hasattr(lg, "async_log_success_event"):
                await _asafe(lg.async_log_success_event, d, response, start, end)

    async def afailure(self, error: BaseException) -> None:
        d = self.kwargs()
        self._finish(d, None, "failure", error, {})
        start, end = d["start_time"], d["end_time"]
        for fn in self.obs.failure_afns:
            await _asafe(fn, d, None, start, end)
        for lg in self.obs.failure_loggers:
            if hasattr(lg, "async_log_failure_event"):
                await _asafe(lg.async_log_failure_event, d, None, start, end)

    # -- scheduling --------------------------------------------------------------------
    def fire_pre(self) -> None:
        obs = self.obs
        # LiteLLM calls the sync `log_pre_api_call` / `log_post_api_call` for async calls
        # too (there is no async post hook; `async_log_pre_api_call` is never called).
        if obs.input_fns or obs.pre_loggers:
            _worker.submit(self.pre)
        if self.is_async and obs.input_afns:
            _schedule(self.apre())

    def fire_success(self, response: Any, extra: dict[str, Any] | None = None, post: bool = True) -> None:
        if self.end is None:
            self.end = time.time()
        if self.obs.log:
            _log_end(self, response, None)
        obs = self.obs
        extra = extra or {}
        if post and not self.cache_hit and obs.pre_loggers:
            _worker.submit(self.post)
        if self.is_async:
            if obs.success_afns or obs.success_loggers:
                _schedule(self.asuccess(response, extra))
            return
        if obs.success_fns or obs.success_loggers:
            _worker.submit(self.success, response, extra)

    def fire_post(self) -> None:
        if self.obs.pre_loggers:
            _worker.submit(self.post)

    def fire_failure(self, error: BaseException) -> None:
        if self.end is None:  # a replayed Router attempt keeps its own end time
            self.end = time.time()
        if self.obs.log:
            _log_end(self, None, error)
        obs = self.obs
        if self.is_async:
            if obs.failure_afns or obs.failure_loggers:
                _schedule(self.afailure(error))
            return
        if obs.failure_fns or obs.failure_loggers:
            _worker.submit(self.failure, error)

    def fire_chunk(self, chunk: Any) -> None:
        now = time.time()
        if self.first_chunk is None:
            self.first_chunk = now
        if not self.obs.stream_loggers:
            return
        if self.is_async:
            _schedule(self.astream_event(chunk, now))
        else:
            _worker.submit(self.stream_event, chunk, now)


def _apply_route(call: _Call, d: dict[str, Any]) -> None:
    """The Router's model group and (once known) deployment, where LiteLLM puts them."""
    route = call.router or {}
    metadata = d["metadata"]
    if route.get("model_group"):
        metadata["model_group"] = route["model_group"]
    deployment = route.get("litellm_model_name")
    if deployment:
        metadata["deployment"] = deployment
        stripped, provider = _split_model(deployment, {})
        d["model"] = stripped
        d["litellm_params"]["model"] = deployment
        if provider:
            d["custom_llm_provider"] = d["litellm_params"]["custom_llm_provider"] = provider
    if route.get("model_id"):
        d["litellm_params"]["model_info"] = {"id": route["model_id"]}
    if route.get("api_base"):
        d["litellm_params"]["api_base"] = route["api_base"]
    if route.get("previous_models"):
        metadata["previous_models"] = route["previous_models"]


class _Deferred:
    """A stream's complete response, built by the hook's side (worker or task) rather
    than by the consumer's last ``next()``."""

    __slots__ = ("observer",)

    def __init__(self, observer: _StreamObserver) -> None:
        self.observer = observer


def _resolve(response: Any, extra: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    if not isinstance(response, _Deferred):
        return response, extra
    try:
        complete = response.observer.complete()
    except Exception:
        _logger.exception("rustllm: rebuilding a streamed response for the callbacks failed")
        complete = None
    hidden = getattr(complete, "_hidden_params", None)
    if hidden is not None and hidden.get("response_cost") is None and not response.observer.call.cache_hit:
        # A stream is priced once whole, from its (reported or counted) usage.
        try:
            from rustllm.catalogue import completion_cost

            complete._hidden_params = {**hidden, "response_cost": completion_cost(completion_response=complete)}
        except Exception:  # noqa: BLE001 - logging must never fail the call
            pass
    key = "async_complete_streaming_response" if response.observer.call.is_async else "complete_streaming_response"
    return complete, {"complete_streaming_response": complete, key: complete}


_tasks: set = set()


def _schedule(coro: Any) -> None:
    """Run `coro` as a task on the running loop (kept alive until it finishes)."""
    import asyncio

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        # An acompletion stream read with a plain `for` outside any loop: the async hooks
        # still run, on the worker thread's own short-lived loop.
        _worker.submit(asyncio.run, coro)
        return
    task = loop.create_task(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def _usage_of(response: Any) -> tuple[int, int, int, Any]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return 0, 0, 0, None
    p = getattr(usage, "prompt_tokens", 0) or 0
    c = getattr(usage, "completion_tokens", 0) or 0
    t = getattr(usage, "total_tokens", 0) or (p + c)
    dump = usage.model_dump() if hasattr(usage, "model_dump") else None
    return p, c, t, dump


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value, default=str)


def _saved_cost(response: Any) -> float:
    """What a cache hit would have cost: its stored usage at the model's prices."""
    try:
        from rustllm.catalogue import completion_cost

        return completion_cost(completion_response=response)
    except Exception:  # noqa: BLE001 - an unpriced model saves nothing we can count
        return 0.0


def _standard_logging_object(
    call: _Call,
    d: dict[str, Any],
    response: Any,
    response_dump: dict[str, Any] | None,
    status: str,
    error: BaseException | None,
    end: float,
) -> dict[str, Any]:
    """The fields of LiteLLM's ``StandardLoggingPayload`` that loggers read most."""
    hidden = getattr(response, "_hidden_params", None) or {}
    prompt_tokens, completion_tokens, total_tokens, usage = _usage_of(response)
    metadata = d.get("metadata") or {}
    lp = d["litellm_params"]
    cost = d.get("response_cost") or 0.0
    saved = _saved_cost(response) if call.cache_hit and response is not None else 0.0
    error_information = None
    if error is not None:
        status_code = getattr(error, "status_code", None)
        error_information = {
            "error_code": str(status_code) if status_code is not None else "",
            "error_class": type(error).__name__,
            "llm_provider": getattr(error, "llm_provider", None) or d.get("custom_llm_provider") or "",
            "traceback": d.get("traceback_exception", ""),
            "error_message": str(error),
        }
    first = call.first_chunk or end
    return {
        "id": getattr(response, "id", None) or call.call_id,
        "trace_id": lp.get("litellm_trace_id") or call.call_id,
        "call_type": call.call_type,
        "stream": d.get("stream", False),
        "response_cost": cost,
        "response_cost_failure_debug_info": None,
        "status": status,
        "custom_llm_provider": d.get("custom_llm_provider"),
        "total_tokens": total_tokens,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "startTime": call.start,
        "endTime": end,
        "completionStartTime": first,
        "response_time": end - call.start,
        "model_map_information": {"model_map_key": d.get("model"), "model_map_value": None},
        "model": d.get("model"),
        "model_id": (lp.get("model_info") or {}).get("id") or hidden.get("model_id"),
        "model_group": metadata.get("model_group"),
        "api_base": hidden.get("api_base") or lp.get("api_base") or "",
        "metadata": {
            "user_api_key_hash": None,
            "user_api_key_alias": None,
            "user_api_key_org_id": None,
            "user_api_key_team_id": None,
            "user_api_key_user_id": None,
            "user_api_key_team_alias": None,
            "spend_logs_metadata": metadata.get("spend_logs_metadata"),
            "requester_ip_address": None,
            "requester_metadata": metadata,
        },
        "cache_hit": call.cache_hit,
        "cache_key": call.cache_key,
        "saved_cache_cost": saved,
        "request_tags": list(metadata.get("tags") or []),
        "guardrail_information": metadata.get("standard_logging_guardrail_information"),
        "end_user": d.get("user"),
        "requester_ip_address": None,
        "messages": d.get("messages"),
        "response": response_dump,
        "error_str": str(error) if error is not None else None,
        "error_information": error_information,
        "model_parameters": d.get("optional_params", {}),
        "hidden_params": {
            "model_id": hidden.get("model_id"),
            "cache_key": call.cache_key,
            "api_base": hidden.get("api_base"),
            "response_cost": str(cost) if cost is not None else None,
            "additional_headers": hidden.get("additional_headers"),
            "litellm_overhead_time_ms": None,
            "batch_models": None,
            "litellm_model_name": hidden.get("litellm_model_name") or lp.get("model"),
            "usage_object": usage,
        },
    }


# ---------------------------------------------------------------------------------------
# The module cache.
# ---------------------------------------------------------------------------------------
def _cache_hit_response(call_type: str, body: dict[str, Any], key: str, params: dict[str, Any]) -> Any:
    from rustllm.types.utils import EmbeddingResponse, ModelResponse, TextCompletionResponse

    model = params.get("model") or ""
    _, provider = _split_model(model, params)
    hidden = {
        "custom_llm_provider": provider,
        "region_name": None,
        "additional_headers": {},
        "api_base": params.get("base_url") or params.get("api_base"),
        "model_id": None,
        "response_cost": 0.0,
        "litellm_model_name": model,
        "cache_hit": True,
        "cache_key": key,
    }
    if call_type in _EMBEDDING_TYPES:
        return EmbeddingResponse._from_openai(body, hidden, None)
    if call_type in ("rerank", "arerank"):
        from rustllm.types._endpoints import RerankResponse

        return RerankResponse._from_openai(body, hidden, None)
    if call_type in _TEXT_TYPES:
        return TextCompletionResponse._from_openai(body, hidden, None)
    if params.get("stream"):
        from rustllm.streaming import CustomStreamWrapper

        return CustomStreamWrapper(_ReplayHandle(_replay_chunks(body, params)), model, hidden, params.get("messages"))
    return ModelResponse._from_openai(body, hidden, None)


def _replay_chunks(body: dict[str, Any], params: dict[str, Any]) -> list[dict[str, Any]]:
    """A stored reply as the chunks of a stream: content (and tool calls) in one chunk
    per choice, a finish chunk, and a usage chunk when the call asked for one."""
    head = {
        "id": body.get("id"),
        "object": "chat.completion.chunk",
        "created": body.get("created"),
        "model": body.get("model"),
        "system_fingerprint": body.get("system_fingerprint"),
    }
    chunks = []
    for choice in body.get("choices") or []:
        message = choice.get("message") or {}
        delta: dict[str, Any] = {"role": "assistant", "content": message.get("content")}
        calls = message.get("tool_calls")
        if calls:
            delta["tool_calls"] = [{**c, "index": i} for i, c in enumerate(calls)]
        if message.get("reasoning_content") is not None:
            delta["reasoning_content"] = message["reasoning_content"]
        index = choice.get("index", 0)
        chunks.append({**head, "choices": [{"index": index, "delta": delta, "finish_reason": None}]})
        chunks.append(
            {**head, "choices": [{"index": index, "delta": {}, "finish_reason": choice.get("finish_reason") or "stop"}]}
        )
    if (params.get("stream_options") or {}).get("include_usage") and body.get("usage"):
        chunks.append(
            {
                **head,
                "choices": [{"index": 0, "delta": {}, "finish_reason": None}],
                "usage": body["usage"],
            }
        )
    return chunks


class _ReplayHandle:
    """A finished list of chunks behind the ChatStream interface."""

    def __init__(self, chunks: list[dict[str, Any]]) -> None:
        self._chunks: list | None = chunks

    @property
    def closed(self) -> bool:
        return self._chunks is None

    def next_batch(self) -> list | None:
        chunks, self._chunks = self._chunks, None
        return chunks or None

    try_batch = next_batch

    def next_batch_submit(self, waker: Any, future: Any) -> None:
        future.set_result(self.next_batch())

    def close(self) -> None:
        self._chunks = None


def _body_of(response: Any) -> dict[str, Any] | None:
    dump = getattr(response, "model_dump", None)
    if dump is None:
        return None
    body = dump()
    return body if isinstance(body, dict) else None


# ---------------------------------------------------------------------------------------
# Streams.
# ---------------------------------------------------------------------------------------
class _StreamObserver:
    """What an observed stream reports to: chunks as they pass, the end, an error."""

    __slots__ = ("_complete", "cache", "call", "chunks", "done", "messages", "plan", "responses", "text")

    def __init__(self, call: _Call, cache: Any, plan: Any, text: bool) -> None:
        self.responses = call.call_type in _RESPONSES_TYPES
        self.messages = call.call_type in _MESSAGES_TYPES
        self.call = call
        self.cache = cache
        self.plan = plan if plan is not None and plan.write and not call.cache_hit else None
        self.chunks: list = []
        self.done = False
        self.text = text
        self._complete: Any = None

    def chunk(self, chunk: Any) -> None:
        self.chunks.append(chunk)
        self.call.fire_chunk(chunk)

    def complete(self) -> Any:
        """The whole response rebuilt from the chunks (once)."""
        if self._complete is None:
            if self.responses:
                from rustllm._responses import assemble_events

                self._complete = assemble_events(self.chunks)
            elif self.messages:
                from rustllm._anthropic_messages import assemble_events as assemble_messages

                self._complete = assemble_messages(self.chunks)
            elif self.text:
                from rustllm._text import assemble_text_chunks

                self._complete = assemble_text_chunks(self.chunks)
            else:
                from rustllm.streaming import stream_chunk_builder

                self._complete = stream_chunk_builder(self.chunks, messages=self.call.params.get("messages"))
        return self._complete

    def _stored_body(self) -> tuple[Any, dict[str, Any]] | None:
        plan, self.plan = self.plan, None
        if plan is None:
            return None
        try:
            body = _body_of(self.complete())
        except Exception:
            _logger.exception("rustllm: rebuilding a streamed response for the cache failed")
            return None
        return None if body is None else (plan, body)

    def finished(self) -> None:
        if self.done:
            return
        self.done = True
        stored = self._stored_body()
        if stored is not None:
            try:
                self.cache._put(*stored)
            except Exception:
                _logger.exception("rustllm: storing a stream in the cache failed")
        self._report()

    async def afinished(self) -> None:
        if self.done:
            return
        self.done = True
        stored = self._stored_body()
        if stored is not None:
            try:
                await self.cache._aput(*stored)
            except Exception:
                _logger.exception("rustllm: storing a stream in the cache failed")
        self._report()

    def _report(self) -> None:
        call = self.call
        obs = call.obs
        if obs.success_fns or obs.success_loggers or obs.success_afns:
            call.fire_success(_Deferred(self), post=False)
        elif obs.log:
            call.end = time.time()
            _log_end(call, None, None)

    def failed(self, error: BaseException) -> None:
        if self.done:
            return
        self.done = True
        self.call.fire_failure(error)


_observed_class: Any = None


def _observe_stream(stream: Any, observer: _StreamObserver) -> Any:
    """Turn `stream` (a CustomStreamWrapper or TextCompletionStreamWrapper) into one that
    reports to `observer`."""
    from rustllm._text import TextCompletionStreamWrapper

    # These streams call their `_observer` themselves.
    if isinstance(stream, TextCompletionStreamWrapper) or getattr(stream, "_reports_to_observer", False):
        stream._observer = observer
        return stream
    global _observed_class
    if _observed_class is None:
        _observed_class = _make_observed_stream_class()
    observed = _observed_class.__new__(_observed_class)
    observed.__dict__.update(stream.__dict__)
    observed._observer = observer
    return observed


def _make_observed_stream_class() -> type:
    from rustllm.streaming import CustomStreamWrapper

    class ObservedStream(CustomStreamWrapper):
        """A CustomStreamWrapper that reports its chunks, its end and its errors."""

        _observer: _StreamObserver

        def __next__(self) -> Any:
            try:
                chunk = CustomStreamWrapper.__next__(self)
            except StopIteration:
                self._observer.finished()
                raise
            except Exception as e:
                self._observer.failed(e)
                raise
            self._observer.chunk(chunk)
            return chunk

        async def __anext__(self) -> Any:
            try:
                chunk = await CustomStreamWrapper.__anext__(self)
            except StopAsyncIteration:
                await self._observer.afinished()
                raise
            except Exception as e:
                self._observer.failed(e)
                raise
            self._observer.chunk(chunk)
            return chunk

    ObservedStream.__name__ = ObservedStream.__qualname__ = "CustomStreamWrapper"
    return ObservedStream


# ---------------------------------------------------------------------------------------
# The observed calls.
# ---------------------------------------------------------------------------------------
# Per type: whether its objects are streams (one iterator for `for` and `async for`).
_stream_types: dict[type, bool] = {}


def _is_stream(response: Any) -> bool:
    """Whether ``response`` is a stream. Asked of its type, once per type: asking a reply
    object for an attribute it lacks costs a formatted AttributeError every call."""
    cls = type(response)
    found = _stream_types.get(cls)
    if found is None:
        found = _stream_types[cls] = hasattr(cls, "__next__") and hasattr(cls, "__anext__")
    return found


def _plan(cache: Any, call_type: str, params: dict[str, Any]) -> Any:
    # Text-completion streams are not cached (chat streams are, and replay as chunks).
    # Nor are transcriptions: the file's bytes are not part of the request's arguments.
    if (
        cache is None
        or (params.get("stream") and call_type in _TEXT_TYPES)
        or call_type in _RESPONSES_TYPES
        or call_type in _MESSAGES_TYPES
        or call_type in ("transcription", "atranscription", "image_edit", "aimage_edit")
    ):
        return None
    return cache._plan(call_type, params)


def _asks_guardrails(obs: _Observers, params: dict[str, Any]) -> bool:
    if obs.guardrails or "guardrails" in params:
        return True
    metadata = params.get("metadata")
    return isinstance(metadata, dict) and bool(metadata.get("guardrails"))


def _guardrail_run(obs: _Observers, call_type: str, params: dict[str, Any], router: bool) -> Any:
    """The call's guardrails (rustllm._guardrails), or None (nearly always: one look-up)."""
    if not _asks_guardrails(obs, params):
        return None
    from rustllm import _guardrails

    run = _guardrails.plan(call_type, params, obs.guardrails, obs.guardrail_names, router)
    if run is not None:
        run.record = bool(obs.any or obs.log)
    if run is not None and call_type not in _guardrails.HOOK_CALL_TYPES:
        # Fail closed: a guardrail meant for this call cannot see it.
        raise ValueError(
            f"rustllm runs guardrails on model calls (completion, responses, anthropic_messages, embedding, "
            f"images, audio, rerank, moderation), not on {call_type}; this call selects guardrails (default_on "
            "or by name), so it is refused rather than sent unchecked"
        )
    if run is not None and params.get("stream") and run.hook_type not in _guardrails.STREAM_CHECKED:
        after = [g.guardrail_name for g in run.streaming] + [
            g.guardrail_name
            for g, check in run.post
            if check or (_guardrails._is_builtin(g) and _guardrails.restores(g))
        ]
        if after:
            # Fail closed: what would check or restore this stream's reply cannot read it.
            raise ValueError(
                f"guardrails {sorted(set(after))!r} check or restore the reply, which rustllm does on chat and "
                f"text-completion streams only, not on a {call_type} stream; call without stream=True, or with "
                "pre-call guardrails only"
            )
    return run


# The async core of each sync call type other than completion and embedding: module,
# function.
_ASYNC_CORES = {
    "text_completion": ("rustllm._text", "atext_completion_core"),
    "responses": ("rustllm._responses", "aresponses_core"),
    "anthropic_messages": ("rustllm._anthropic_messages", "aanthropic_messages_core"),
    "image_generation": ("rustllm._images", "_aimage_generation"),
    "image_edit": ("rustllm._images", "_aimage_edit"),
    "transcription": ("rustllm._audio", "_atranscription"),
    "speech": ("rustllm._audio", "_aspeech"),
    "rerank": ("rustllm._rerank", "_arerank"),
    "moderation": ("rustllm._rerank", "_amoderation"),
}


def _async_twin(call_type: str) -> Callable[[dict[str, Any]], Any]:
    """The async core of a sync call type (a sync call's moderation hooks run beside it)."""
    m = _rustllm()
    found = _ASYNC_CORES.get(call_type)
    if found is not None:
        import importlib

        return getattr(importlib.import_module(found[0]), found[1])
    return m._aembedding if call_type == "embedding" else m._acompletion


def _refused(call_type: str, params: dict[str, Any], obs: _Observers, is_async: bool, error: BaseException) -> None:
    """A guardrail refused the call before any request: its failure hooks fire."""
    if obs.any or obs.log:
        c = _Call(call_type, params, obs, is_async=is_async)
        c.fire_pre()
        c.fire_failure(error)


def call(call_type: str, params: dict[str, Any], core: Callable[[dict[str, Any]], Any]) -> Any:
    """A sync call on the observed path: ``core(params)`` does the call itself."""
    obs = observers(params)
    cache = _rustllm().cache
    run = _guardrail_run(obs, call_type, params, router=False)
    if run is not None:
        from rustllm import _guardrails

        try:
            _guardrails.pre(run, params)
        except Exception as e:
            _refused(call_type, params, obs, False, e)
            raise
        if run.during:
            core = _guardrails.moderated(run, _async_twin(call_type))
        if not (obs.any or obs.log or cache is not None):
            return _guardrails.post(run, params, core(params))
        return _guardrails.post(run, params, _call(call_type, params, core, obs, cache))
    if not (obs.any or obs.log or cache is not None):
        return core(params)  # only quiet guardrails registered: nothing observes this call
    return _call(call_type, params, core, obs, cache)


def _call(
    call_type: str, params: dict[str, Any], core: Callable[[dict[str, Any]], Any], obs: _Observers, cache: Any
) -> Any:
    c = _Call(call_type, params, obs, is_async=False)
    if obs.log:
        _log_start(c)
    plan = _plan(cache, call_type, params)
    if plan is not None:
        c.cache_key = plan.key
        if plan.read:
            body = cache._get(plan)
            if body is not None:  # a hit fires the success hooks only, as in LiteLLM
                c.cache_hit = True
                response = _cache_hit_response(call_type, body, plan.key, params)
                return _deliver(c, response, cache, None, call_type)
    c.fire_pre()
    try:
        response = core(params)
    except Exception as e:
        c.fire_failure(e)
        raise
    if plan is not None and plan.write and not _is_stream(response):
        body = _body_of(response)
        if body is not None:
            cache._put(plan, body)
    return _deliver(c, response, cache, plan, call_type)


def _deliver(c: _Call, response: Any, cache: Any, plan: Any, call_type: str) -> Any:
    if _is_stream(response):
        if not c.cache_hit:
            c.fire_post()
        observer = _StreamObserver(c, cache, plan, call_type in _TEXT_TYPES)
        return _observe_stream(response, observer)
    c.fire_success(response)
    return response


async def acall(call_type: str, params: dict[str, Any], core: Callable[[dict[str, Any]], Any]) -> Any:
    """An async call on the observed path: ``await core(params)`` does the call itself."""
    obs = observers(params)
    cache = _rustllm().cache
    run = _guardrail_run(obs, call_type, params, router=False)
    if run is not None:
        from rustllm import _guardrails

        try:
            await _guardrails.apre(run, params)
        except Exception as e:
            _refused(call_type, params, obs, True, e)
            raise
        if run.during:
            inner = core

            def core(p: dict[str, Any]) -> Any:
                return _guardrails.amoderated(run, p, inner)

        if not (obs.any or obs.log or cache is not None):
            return await _guardrails.apost(run, params, await core(params))
        return await _guardrails.apost(run, params, await _acall(call_type, params, core, obs, cache))
    if not (obs.any or obs.log or cache is not None):
        return await core(params)
    return await _acall(call_type, params, core, obs, cache)


async def _acall(
    call_type: str, params: dict[str, Any], core: Callable[[dict[str, Any]], Any], obs: _Observers, cache: Any
) -> Any:
    c = _Call(call_type, params, obs, is_async=True)
    if obs.log:
        _log_start(c)
    plan = _plan(cache, call_type, params)
    if plan is not None:
        c.cache_key = plan.key
        if plan.read:
            body = await cache._aget(plan)
            if body is not None:
                c.cache_hit = True
                response = _cache_hit_response(call_type, body, plan.key, params)
                return _deliver(c, response, cache, None, call_type)
    c.fire_pre()
    try:
        response = await core(params)
    except Exception as e:
        c.fire_failure(e)
        raise
    if plan is not None and plan.write and not _is_stream(response):
        body = _body_of(response)
        if body is not None:
            await cache._aput(plan, body)
    return _deliver(c, response, cache, plan, call_type)


# ---------------------------------------------------------------------------------------
# The Router's call methods.
# ---------------------------------------------------------------------------------------
def _first_arg(call_type: str) -> str:
    if call_type in ("rerank", "arerank"):
        return "query"
    if call_type in ("image_generation", "aimage_generation", "image_edit", "aimage_edit"):
        return "prompt"
    if call_type in ("transcription", "atranscription"):
        return "file"
    if (
        call_type in _EMBEDDING_TYPES
        or call_type in _RESPONSES_TYPES
        or call_type in ("moderation", "amoderation", "speech", "aspeech")
    ):
        return "input"
    return "messages"


def _router_guardrails(call_type: str, model: str, args: tuple, kwargs: dict[str, Any], obs: _Observers) -> tuple:
    """The Router call's guardrails: ``(run, data)`` where ``data`` holds the call's
    arguments by name (``model`` included), as the hooks see and may change them; or
    ``(None, None)``."""
    if not _asks_guardrails(obs, kwargs):
        return None, None
    first = _first_arg(call_type)
    data = {"model": model, **({first: args[0]} if args else {}), **kwargs}
    if len(args) > 1:
        raise TypeError(f"Router.{call_type}() takes the call's arguments after {first!r} by keyword")
    run = _guardrail_run(obs, call_type, data, router=True)
    if run is None:
        kwargs.pop("guardrails", None)  # named, but nothing to run: never sent either way
    return run, data


def _router_call(
    call_type: str, router: Any, model: str, args: tuple, kwargs: dict[str, Any], obs: Any = None
) -> tuple:
    if obs is None:
        obs = observers(kwargs)
    if call_type in ("rerank", "arerank"):
        first = "query"
    elif call_type in ("image_generation", "aimage_generation", "image_edit", "aimage_edit"):
        first = "prompt"
    elif call_type in ("transcription", "atranscription"):
        first = "file"
    elif (
        call_type in _EMBEDDING_TYPES
        or call_type in _RESPONSES_TYPES
        or call_type in ("moderation", "amoderation", "speech", "aspeech")
    ):
        first = "input"
    else:
        first = "messages"
    value = args[0] if args else kwargs.get(first)
    params = {"model": model, first: value, **{k: v for k, v in kwargs.items() if k != first}}
    c = _Call(call_type, params, obs, is_async=call_type.startswith("a"))
    c.router = {"model_group": model}
    return c, obs


def _note_route(c: _Call, response: Any) -> None:
    hidden = getattr(response, "_hidden_params", None) or {}
    route = c.router or {}
    c.router = {
        "model_group": hidden.get("model_group") or c.params.get("model"),
        "model_id": hidden.get("model_id"),
        "litellm_model_name": hidden.get("litellm_model_name") or route.get("litellm_model_name"),
        "api_base": route.get("api_base"),
        "previous_models": route.get("previous_models"),
    }
    c.cache_hit = bool(hidden.get("cache_hit"))


def _previous_model(attempt: dict[str, Any], error: BaseException, trace_id: Any) -> dict[str, Any]:
    """A failed attempt as LiteLLM lists it in ``metadata["previous_models"]``."""
    group = attempt["model_group"]
    return {
        "exception_type": type(error).__name__,
        "exception_string": str(error),
        "model": group,
        "litellm_trace_id": trace_id,
        "metadata": {
            "model_group": group,
            "model_group_alias": None,
            "model_group_size": attempt["model_group_size"],
            "deployment": attempt["model"],
            "model_info": {"id": attempt["model_id"], "db_model": False},
            "api_base": attempt["api_base"],
            "deployment_model_name": group,
            "caching_groups": None,
        },
    }


def _replay(c: _Call, attempts: list[dict[str, Any]]) -> _Call:
    """Fire the hooks of every deployment call the Rust Router made for ``c``, in order:
    pre-call and failure hooks for each failed attempt, pre-call hooks for the one that
    answered (whose ``_Call`` is returned for its success hooks).

    As in LiteLLM, each attempt is a call of its own for the callbacks (its own
    ``litellm_call_id``, the deployment it went to, its exception), and
    ``kwargs["litellm_params"]["metadata"]["previous_models"]`` lists the attempts before
    it. Unlike LiteLLM, whose list lives on the Router (shared by concurrent calls, kept
    across calls, capped at 4 and given an extra entry when a group's retries run out),
    the list is this call's own: one entry per earlier failed attempt.

    The Router retries inside Rust, so the hooks run after the call returns rather than
    as each attempt happens: what they receive (models, kwargs, exceptions, start and end
    times) is the same, only when they run differs."""
    from rustllm.exceptions import _from_core

    params = c.params
    if params.get("litellm_trace_id") is None:
        from rustllm.types.utils import _uuid4

        params["litellm_trace_id"] = _uuid4()  # one trace for all attempts, as in LiteLLM
    previous: list[dict[str, Any]] = []
    last = c
    for attempt in attempts:
        a = _Call(c.call_type, params, c.obs, c.is_async)
        a.start = attempt["start_time"]
        a.router = {
            "model_group": attempt["model_group"],
            "model_id": attempt["model_id"],
            "litellm_model_name": attempt["model"],
            "api_base": attempt["api_base"],
            "previous_models": list(previous),
        }
        a.fire_pre()
        error = attempt["exception"]
        if error is None:
            last = a
            continue
        error = _from_core(error)
        a.end = attempt["end_time"]
        a.fire_failure(error)
        previous.append(_previous_model(attempt, error, params["litellm_trace_id"]))
    return last


def _inline(call_type: str, kwargs: dict[str, Any]) -> bool:
    """Whether a Router chat call runs its guardrails inside the Rust call, as
    ``rustllm.completion`` does (``rustllm._inline_guardrails`` hands them over in
    ``kwargs``)."""
    return call_type in ("completion", "acompletion") and _rustllm()._inline_guardrails(kwargs)


def routed(call_type: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a Router call method so callbacks fire for it; a plain call when nothing
    observes calls. With callbacks set, the method is passed ``_attempts=[]``, which the
    Rust Router fills with its deployment calls for :func:`_replay`."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        if method.__code__.co_flags & _CO_COROUTINE:

            @functools.wraps(method)
            async def arun(self: Any, model: str, *args: Any, **kwargs: Any) -> Any:
                if not active(kwargs) or _inline(call_type, kwargs):
                    return await method(self, model, *args, **kwargs)
                obs = observers(kwargs)
                run, data = _router_guardrails(call_type, model, args, kwargs, obs)
                if run is not None:
                    return await _aguarded(call_type, method, self, run, data, obs)
                c, obs = _router_call(call_type, self, model, args, kwargs, obs)
                if obs.log:
                    _log_start(c)
                attempts: list[dict[str, Any]] = []
                if obs.any:
                    kwargs["_attempts"] = attempts
                try:
                    response = await method(self, model, *args, **kwargs)
                except Exception as e:
                    _failed(c, attempts, e)
                    raise
                return _answered(c, attempts, response, call_type)

            return arun

        @functools.wraps(method)
        def run(self: Any, model: str, *args: Any, **kwargs: Any) -> Any:
            if not active(kwargs) or _inline(call_type, kwargs):
                return method(self, model, *args, **kwargs)
            obs = observers(kwargs)
            guard, data = _router_guardrails(call_type, model, args, kwargs, obs)
            if guard is not None:
                return _guarded(call_type, method, self, guard, data, obs)
            c, obs = _router_call(call_type, self, model, args, kwargs, obs)
            if obs.log:
                _log_start(c)
            attempts: list[dict[str, Any]] = []
            if obs.any:
                kwargs["_attempts"] = attempts
            try:
                response = method(self, model, *args, **kwargs)
            except Exception as e:
                _failed(c, attempts, e)
                raise
            return _answered(c, attempts, response, call_type)

        return run

    return wrap


def _routed_once(call_type: str, method: Any, router: Any, data: dict[str, Any], obs: _Observers) -> Any:
    """One Router call (after its pre-call guardrails), with its callbacks."""
    model = data.pop("model")
    c, obs = _router_call(call_type, router, model, (), data, obs)
    if obs.log:
        _log_start(c)
    attempts: list[dict[str, Any]] = []
    if obs.any:
        data["_attempts"] = attempts
    try:
        response = method(router, model, **data)
    except Exception as e:
        _failed(c, attempts, e)
        raise
    return _answered(c, attempts, response, call_type)


async def _arouted_once(call_type: str, method: Any, router: Any, data: dict[str, Any], obs: _Observers) -> Any:
    model = data.pop("model")
    c, obs = _router_call(call_type, router, model, (), data, obs)
    if obs.log:
        _log_start(c)
    attempts: list[dict[str, Any]] = []
    if obs.any:
        data["_attempts"] = attempts
    try:
        response = await method(router, model, **data)
    except Exception as e:
        _failed(c, attempts, e)
        raise
    return _answered(c, attempts, response, call_type)


def _guarded(call_type: str, method: Any, router: Any, run: Any, data: dict[str, Any], obs: _Observers) -> Any:
    """A sync Router call with guardrails: pre-call hooks on ``data``, the call (beside
    its moderation hooks, on the async twin), then the post-call hooks."""
    from rustllm import _guardrails

    try:
        _guardrails.pre(run, data)
    except Exception as e:
        _refused(call_type, data, obs, False, e)
        raise
    if run.during:
        twin = getattr(type(router), "a" + call_type).__wrapped__

        async def acore(p: dict[str, Any]) -> Any:
            return await _arouted_once("a" + call_type, twin, router, dict(p), obs)

        response = _guardrails.moderated(run, acore)(data)
    else:
        response = _routed_once(call_type, method, router, dict(data), obs)
    return _guardrails.post(run, data, response)


async def _aguarded(call_type: str, method: Any, router: Any, run: Any, data: dict[str, Any], obs: _Observers) -> Any:
    from rustllm import _guardrails

    try:
        await _guardrails.apre(run, data)
    except Exception as e:
        _refused(call_type, data, obs, True, e)
        raise
    if run.during:

        async def acore(p: dict[str, Any]) -> Any:
            return await _arouted_once(call_type, method, router, dict(p), obs)

        response = await _guardrails.amoderated(run, data, acore)
    else:
        response = await _arouted_once(call_type, method, router, dict(data), obs)
    return await _guardrails.apost(run, data, response)


def _failed(c: _Call, attempts: list[dict[str, Any]], error: BaseException) -> None:
    if attempts:
        _replay(c, attempts)
        return
    # Raised before any deployment was called (unknown group, every deployment cooling
    # down, a bad argument): one failed call.
    c.fire_pre()
    c.fire_failure(error)


def _answered(c: _Call, attempts: list[dict[str, Any]], response: Any, call_type: str) -> Any:
    if attempts:
        c = _replay(c, attempts)
    # No attempts: a response-cache hit, whose hooks are the success ones only.
    _note_route(c, response)
    return _deliver(c, response, None, None, call_type)
