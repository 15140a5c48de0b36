"""Guardrails on a call's path: which ones a call runs, and their hooks around it.

:mod:`rustllm._hooks` calls in here only when a guardrail is registered in
``rustllm.callbacks`` or the call names some (``guardrails=[...]``,
``metadata={"guardrails": [...]}``); a guardrail whose class overrides no hook and is not
a built-in one is never planned, so it costs its call a look-up.

For one call (:class:`_Run`), in order:

1. ``pre_call``: built-in guardrails check (and mask) the texts in Rust; custom ones'
   ``async_pre_call_hook`` may change the call's arguments or refuse it. Before any
   request, so a refused call sends nothing.
2. ``during_call``: custom ``async_moderation_hook``\\ s run as tasks beside the call; the
   first to raise cancels the call (its request is dropped) and is what the caller gets.
   Sync calls run both on a private event loop (the async twin of the call).
3. ``post_call``: on a reply, built-in checks, restoring of masked values, and custom
   ``async_post_call_success_hook``\\ s; on a stream, the same as a stream that restores
   placeholders (even split across chunks) and passes through custom
   ``async_post_call_streaming_iterator_hook``\\ s.

Callbacks see the call as it went to the provider: masked arguments, masked replies.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any, Callable

from rustllm.integrations.custom_guardrail import CustomGuardrail, _record
from rustllm.types.guardrails import GuardrailEventHooks

# The call types guardrails run on, and the name LiteLLM's hooks get as `call_type`.
HOOK_CALL_TYPES = {
    "completion": "completion",
    "acompletion": "completion",
    "text_completion": "text_completion",
    "atext_completion": "text_completion",
    "embedding": "embeddings",
    "aembedding": "embeddings",
    "responses": "responses",
    "aresponses": "responses",
    "anthropic_messages": "anthropic_messages",
    "image_generation": "image_generation",
    "aimage_generation": "image_generation",
    "image_edit": "image_generation",
    "aimage_edit": "image_generation",
    "transcription": "audio_transcription",
    "atranscription": "audio_transcription",
    "speech": "audio_speech",
    "aspeech": "audio_speech",
    "rerank": "rerank",
    "arerank": "rerank",
    "moderation": "moderation",
    "amoderation": "moderation",
}

# The call types whose streams the guardrails read after the call (chat chunks); a
# Responses or Anthropic stream gets the pre-call guardrails only.
STREAM_CHECKED = frozenset(("completion", "text_completion"))

_PRE = GuardrailEventHooks.pre_call
_DURING = GuardrailEventHooks.during_call
_POST = GuardrailEventHooks.post_call


def _overrides(g: Any, name: str) -> bool:
    return getattr(type(g), name, None) is not getattr(CustomGuardrail, name)


def _is_builtin(g: Any) -> bool:
    return getattr(g, "_rustllm_builtin", False)


# Per class: whether it overrides (pre, moderation, post, streaming iterator).
_hook_table: dict = {}


def restores(g: Any) -> bool:
    """Whether a built-in guardrail puts masked values back into the reply."""
    params = getattr(g, "litellm_params", None) or {}
    return bool(params.get("restore") or params.get("output_parse_pii"))


def _hooks_of(g: Any) -> tuple[bool, bool, bool, bool]:
    cls = type(g)
    hooks = _hook_table.get(cls)
    if hooks is None:
        hooks = _hook_table[cls] = (
            _overrides(g, "async_pre_call_hook"),
            _overrides(g, "async_moderation_hook"),
            _overrides(g, "async_post_call_success_hook"),
            _overrides(g, "async_post_call_streaming_iterator_hook"),
        )
    return hooks


def call_id(params: dict[str, Any]) -> str:
    """The call's ``litellm_call_id``, made when first needed (decisions and callbacks
    then name the same call)."""
    cid = params.get("litellm_call_id")
    if cid is None:
        from rustllm.types.utils import _uuid4

        cid = params["litellm_call_id"] = _uuid4()
    return cid


def _does_something(g: Any) -> bool:
    return _is_builtin(g) or any(
        _overrides(g, name)
        for name in (
            "async_pre_call_hook",
            "async_moderation_hook",
            "async_post_call_success_hook",
            "async_post_call_streaming_iterator_hook",
            "should_run_guardrail",
        )
    )


def registered(callbacks: Any) -> tuple[list, frozenset]:
    """The guardrails of ``rustllm.callbacks`` that can act on a call, and the names of
    all of them (for per-call selection)."""
    active: list = []
    names: set = set()
    for cb in callbacks if isinstance(callbacks, (list, tuple)) else [callbacks]:
        if isinstance(cb, CustomGuardrail):
            if cb.guardrail_name:
                names.add(cb.guardrail_name)
            if _does_something(cb) and not any(cb is x for x in active):
                active.append(cb)
    return active, frozenset(names)


def _requested_names(items: Any, where: str) -> list:
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"{where} must be a list of guardrail names (or CustomGuardrail instances), got {items!r}")
    return list(items)


class _Run:
    """One call's guardrails and what they left for the reply."""

    __slots__ = (
        "call_type",
        "during",
        "hook_type",
        "maskings",
        "post",
        "pre",
        "quiet_post",
        "record",
        "router",
        "streaming",
    )

    def __init__(self, call_type: str, router: bool) -> None:
        self.call_type = call_type
        self.hook_type = HOOK_CALL_TYPES.get(call_type, call_type)
        self.router = router
        self.pre: list = []
        self.during: list = []
        # (guardrail, check the reply?) in registration order; built-ins also restore.
        self.post: list = []
        self.streaming: list = []
        self.maskings: list = []
        # Whether the built-ins' decisions go into the call's guardrail information
        # (`metadata`): only callbacks read it, and a call nobody observes skips it.
        self.record = True
        # Whether the reply is left alone unless a built-in masked something to restore:
        # no reply checks, no custom post-call or stream hooks (set by `plan`).
        self.quiet_post = False


def plan(call_type: str, params: dict[str, Any], active: list, names: frozenset, router: bool) -> _Run | None:
    """Select the call's guardrails (``guardrails=`` is removed from ``params``: it is
    never sent). Raises before any request for an unknown name or a malformed list."""
    chosen = list(active)
    requested = params.pop("guardrails", None)
    asked: list = []
    if requested is not None:
        for g in _requested_names(requested, "guardrails="):
            if isinstance(g, CustomGuardrail):
                if not any(g is x for x in chosen):
                    chosen.append(g)
                if g.guardrail_name:
                    asked.append(g.guardrail_name)
            elif isinstance(g, str):
                asked.append(g)
            elif isinstance(g, dict) and len(g) == 1 and isinstance(next(iter(g)), str):
                asked.append(g)  # {"name": {"extra_body": {...}}}, LiteLLM's dynamic params
            else:
                raise TypeError(f"guardrails= holds {g!r}, which is neither a guardrail name nor a CustomGuardrail")
    metadata = params.get("metadata")
    in_metadata = metadata.get("guardrails") if isinstance(metadata, dict) else None
    if in_metadata or asked:
        if in_metadata:
            _requested_names(in_metadata, 'metadata["guardrails"]')
        known = names | {g.guardrail_name for g in chosen if g.guardrail_name}
        unknown = [
            n for n in [*asked, *(in_metadata or [])] if (next(iter(n)) if isinstance(n, dict) else n) not in known
        ]
        if unknown:
            raise ValueError(
                f"guardrails {unknown!r}: no guardrail of that name is registered in rustllm.callbacks "
                f"(registered: {sorted(known) or 'none'})"
            )
    if asked:
        # LiteLLM's guardrails read the selection from metadata["guardrails"].
        metadata = dict(metadata) if isinstance(metadata, dict) else {}
        metadata["guardrails"] = [*(in_metadata or []), *(a for a in asked if a not in (in_metadata or []))]
        params["metadata"] = metadata
    if not chosen:
        return None
    run = _Run(call_type, router)
    for g in chosen:
        if _is_builtin(g):
            on_request = g.checks_request and (
                g.should_run_guardrail(params, _PRE) or g.should_run_guardrail(params, _DURING)
            )
            on_reply = g.checks_reply and g.should_run_guardrail(params, _POST)
            if on_request:
                run.pre.append(g)
            if on_request or on_reply:
                # After the call: check the reply, and restore what the request check masked.
                run.post.append((g, on_reply))
            continue
        on_pre, on_during, on_post, on_stream = _hooks_of(g)
        if on_pre and g.should_run_guardrail(params, _PRE):
            run.pre.append(g)
        if on_during and g.should_run_guardrail(params, _DURING):
            run.during.append(g)
        if (on_post or on_stream) and g.should_run_guardrail(params, _POST):
            if on_post:
                run.post.append((g, True))
            if on_stream:
                run.streaming.append(g)
    if not (run.pre or run.during or run.streaming or run.post):
        return None
    quiet = not run.streaming
    for g, check in run.post:
        if check or not _is_builtin(g):
            quiet = False
    run.quiet_post = quiet
    return run


# ---------------------------------------------------------------------------------------
# Running async hooks from sync calls.
# ---------------------------------------------------------------------------------------
class _LoopThread:
    """A private event loop per thread for sync calls' async hooks, made on first use
    and remade after a fork. A thread already running a loop (a sync call made from async
    code) hands the work to a helper thread with its own loop."""

    def __init__(self) -> None:
        self._local = threading.local()

    def loop(self) -> asyncio.AbstractEventLoop:
        local = self._local
        loop = getattr(local, "loop", None)
        if loop is None or loop.is_closed() or getattr(local, "pid", None) != os.getpid():
            loop = asyncio.new_event_loop()
            local.loop, local.pid = loop, os.getpid()
        return loop

    def run(self, awaitable: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self.loop().run_until_complete(awaitable)
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="rustllm-guardrail") as pool:
            return pool.submit(lambda: self.loop().run_until_complete(awaitable)).result()


_loops = _LoopThread()


def _sync(value: Any) -> Any:
    """The result of a hook for a sync call: awaited on a private loop when it is
    awaitable, as it is when it was returned."""
    if hasattr(value, "__await__"):
        return _loops.run(value)
    return value


async def _async(value: Any) -> Any:
    if hasattr(value, "__await__"):
        return await value
    return value


_user_auth: Any = None
_hook_cache: Any = None
_hook_cache_lock = threading.Lock()


def _after_fork_in_child() -> None:
    """A lock another thread held at a fork would never be released in the child."""
    global _hook_cache_lock
    _hook_cache_lock = threading.Lock()


def _user() -> Any:
    """What the hooks get as ``user_api_key_dict``: an SDK call has no key."""
    global _user_auth
    if _user_auth is None:
        from rustllm.proxy._types import UserAPIKeyAuth

        _user_auth = UserAPIKeyAuth()
    return _user_auth


def _cache() -> Any:
    """The cache the hooks are handed (one per process: threads racing the first use
    all get the same one, so nothing written to it is lost)."""
    global _hook_cache
    if _hook_cache is None:
        from rustllm.caching.in_memory_cache import InMemoryCache

        with _hook_cache_lock:
            if _hook_cache is None:
                _hook_cache = InMemoryCache()
    return _hook_cache


def _audit_block(run: _Run, g: Any, event: str, params: dict[str, Any], error: BaseException) -> None:
    """A custom guardrail refused the call: logged and recorded (its type, not its
    message, which may quote the data)."""
    import logging

    logging.getLogger("rustllm").info(
        "rustllm guardrail %s: block (%s, %s) on call %s",
        g.guardrail_name,
        event,
        type(error).__name__,
        call_id(params),
    )
    _record(
        params,
        {
            "guardrail_name": g.guardrail_name,
            "guardrail_mode": event,
            "guardrail_action": "block",
            "guardrail_status": "guardrail_intervened",
            "guardrail_response": type(error).__name__,
        },
    )


def _rejected(message: str, params: dict[str, Any]) -> BaseException:
    from rustllm.exceptions import RejectedRequestError

    return RejectedRequestError(message=message, model=params.get("model"), llm_provider="", request_data=dict(params))


def _take_pre(result: Any, params: dict[str, Any]) -> None:
    """LiteLLM's reading of what ``async_pre_call_hook`` returned."""
    if result is None or result is params:
        return
    if isinstance(result, BaseException):
        raise result
    if isinstance(result, dict):
        params.clear()
        params.update(result)
        return
    if isinstance(result, str):
        raise _rejected(result, params)


# ---------------------------------------------------------------------------------------
# pre_call
# ---------------------------------------------------------------------------------------
def pre(run: _Run, params: dict[str, Any]) -> None:
    """The pre-call guardrails of a sync call, in order."""
    for g in run.pre:
        if _is_builtin(g):
            g._check_request(params, run.router, run.maskings, run.record)
            continue
        try:
            result = _sync(
                g.async_pre_call_hook(user_api_key_dict=_user(), cache=_cache(), data=params, call_type=run.hook_type)
            )
            _take_pre(result, params)
        except Exception as e:
            _audit_block(run, g, "pre_call", params, e)
            raise


async def apre(run: _Run, params: dict[str, Any]) -> None:
    """The pre-call guardrails of an async call, in order."""
    for g in run.pre:
        if _is_builtin(g):
            g._check_request(params, run.router, run.maskings, run.record)
            continue
        try:
            result = await _async(
                g.async_pre_call_hook(user_api_key_dict=_user(), cache=_cache(), data=params, call_type=run.hook_type)
            )
            _take_pre(result, params)
        except Exception as e:
            _audit_block(run, g, "pre_call", params, e)
            raise


# ---------------------------------------------------------------------------------------
# during_call
# ---------------------------------------------------------------------------------------
async def _moderate(run: _Run, g: Any, params: dict[str, Any]) -> None:
    try:
        await _async(g.async_moderation_hook(data=params, user_api_key_dict=_user(), call_type=run.hook_type))
    except Exception as e:
        _audit_block(run, g, "during_call", params, e)
        raise


async def amoderated(run: _Run, params: dict[str, Any], acore: Callable[[dict[str, Any]], Any]) -> Any:
    """``await acore(params)`` with the moderation hooks beside it: the first hook to raise
    cancels the call (a stream it already returned is closed) and its error is raised."""
    call = asyncio.ensure_future(acore(params))
    checks = [asyncio.ensure_future(_moderate(run, g, params)) for g in run.during]
    pending: set = {call, *checks}
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                if t is not call and t.exception() is not None:
                    raise t.exception()  # type: ignore[misc]
            if call in done and call.exception() is not None:
                raise call.exception()  # type: ignore[misc]
        return call.result()
    except BaseException:
        for t in (call, *checks):
            if not t.done():
                t.cancel()
        if call.done() and not call.cancelled() and call.exception() is None:
            close = getattr(call.result(), "close", None)
            if close is not None:
                close()
        raise


def moderated(run: _Run, acore: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    """The sync call ``core`` with moderation: its async twin ``acore`` on a private loop."""
    return lambda params: _loops.run(amoderated(run, params, acore))


# ---------------------------------------------------------------------------------------
# post_call
# ---------------------------------------------------------------------------------------
def _is_stream(response: Any) -> bool:
    from rustllm import _hooks

    return _hooks._is_stream(response)


def _builtin_reply(run: _Run, g: Any, check: bool, params: dict[str, Any], response: Any) -> Any:
    if run.hook_type == "embeddings":
        return response  # vectors: nothing to check or restore
    if check:
        response = g._check_reply(params, response)
    for owner, masking in run.maskings:
        if owner is g:
            from rustllm.guardrails import restore_response

            response = restore_response(response, masking)
    return response


def post(run: _Run, params: dict[str, Any], response: Any) -> Any:
    """The reply of a sync call after the post-call guardrails."""
    if run.quiet_post and not run.maskings:
        return response  # only built-ins that checked the request, and nothing masked to restore
    if _is_stream(response):
        return _guard_stream(run, params, response)
    for g, check in run.post:
        if _is_builtin(g):
            response = _builtin_reply(run, g, check, params, response)
            continue
        try:
            result = _sync(g.async_post_call_success_hook(data=params, user_api_key_dict=_user(), response=response))
        except Exception as e:
            _audit_block(run, g, "post_call", params, e)
            raise
        if result is not None:
            response = result
    return response


async def apost(run: _Run, params: dict[str, Any], response: Any) -> Any:
    """The reply of an async call after the post-call guardrails."""
    if run.quiet_post and not run.maskings:
        return response
    if _is_stream(response):
        return _guard_stream(run, params, response)
    for g, check in run.post:
        if _is_builtin(g):
            response = _builtin_reply(run, g, check, params, response)
            continue
        try:
            result = await _async(
                g.async_post_call_success_hook(data=params, user_api_key_dict=_user(), response=response)
            )
        except Exception as e:
            _audit_block(run, g, "post_call", params, e)
            raise
        if result is not None:
            response = result
    return response


# ---------------------------------------------------------------------------------------
# Streams
# ---------------------------------------------------------------------------------------
class _Restore:
    """Puts one call's placeholders back into its streamed chunks: per choice (and per
    tool call), holding back only what may still become a placeholder."""

    def __init__(self, maskings: list) -> None:
        self.restorers = [m.stream() for _, m in maskings]
        self.last: dict[str, Any] = {}

    def _push(self, slot: str, text: str, finish: bool) -> str:
        for r in self.restorers:
            text = r.push(slot, text)
            if finish:
                text += r.finish(slot)
        return text

    def chunk(self, chunk: Any) -> Any:
        out = chunk
        for i, choice in enumerate(chunk.choices or []):
            finish = bool(getattr(choice, "finish_reason", None))
            slot = str(getattr(choice, "index", i))
            delta = getattr(choice, "delta", None)
            field = "content" if delta is not None else "text"
            holder = delta if delta is not None else choice
            text = getattr(holder, field, None)
            if text or finish:
                new = self._push(slot, text or "", finish)
                if new != (text or ""):
                    out = _copied(out, chunk)
                    target = out.choices[i].delta if delta is not None else out.choices[i]
                    setattr(target, field, new)
            for j, call in enumerate(getattr(delta, "tool_calls", None) or []):
                fn = getattr(call, "function", None)
                args = getattr(fn, "arguments", None) if fn is not None else None
                tslot = f"{slot}/tool/{getattr(call, 'index', j)}"
                if args or finish:
                    new = self._push(tslot, args or "", finish)
                    if new != (args or ""):
                        out = _copied(out, chunk)
                        out.choices[i].delta.tool_calls[j].function.arguments = new
            self.last[slot] = (out, i)
        return out

    def end(self) -> list:
        """Chunks carrying what is still held at the stream's end (a stream with no
        finish reason)."""
        extra = []
        for slot, (chunk, i) in list(self.last.items()):
            rest = "".join(r.finish(slot) for r in self.restorers)
            if rest:
                c = chunk.model_copy(deep=True)
                c.choices = [c.choices[i]]
                choice = c.choices[0]
                if getattr(choice, "delta", None) is not None:
                    choice.delta.content = rest
                    choice.delta.tool_calls = None
                else:
                    choice.text = rest
                extra.append(c)
        return extra


def _copied(out: Any, original: Any) -> Any:
    """A chunk is copied before it is changed: callbacks keep the one the provider sent."""
    return original.model_copy(deep=True) if out is original else out


class _Check:
    """A built-in ``post_call`` guardrail on a stream: the whole reply is read and checked
    before any chunk is let through (a block raises; masking rewrites each choice's text
    into its first chunk)."""

    def __init__(self, run: _Run, g: Any, params: dict[str, Any]) -> None:
        self.run, self.g, self.params = run, g, params

    def check(self, chunks: list) -> list:
        from rustllm import _core

        texts: dict[int, list] = {}
        for c in chunks:
            for choice in c.choices or []:
                delta = getattr(choice, "delta", None)
                text = getattr(delta, "content", None) if delta is not None else getattr(choice, "text", None)
                if text:
                    texts.setdefault(getattr(choice, "index", 0), []).append(text)
        reply = {
            "choices": [
                {"index": i, "message": {"role": "assistant", "content": "".join(parts)}} for i, parts in texts.items()
            ]
        }
        import time

        start = time.time()
        blocked, changed, decisions, _, _ = _core.guardrails_check_reply([self.g._core], reply)
        if blocked is not None:
            self.g._audit(self.params, [blocked[3]], start, "post_call")
            from rustllm.exceptions import BlockedPiiEntityError

            raise BlockedPiiEntityError(entity_type=blocked[1], guardrail_name=self.g.guardrail_name)
        if decisions:
            self.g._audit(self.params, decisions, start, "post_call")
        if changed is None:
            return chunks
        masked = {c["index"]: c["message"]["content"] for c in changed["choices"]}
        seen: set = set()
        out = []
        for c in chunks:
            new = c
            for k, choice in enumerate(c.choices or []):
                index = getattr(choice, "index", 0)
                delta = getattr(choice, "delta", None)
                field = "content" if delta is not None else "text"
                holder = delta if delta is not None else choice
                if getattr(holder, field, None) and index in masked:
                    new = _copied(new, c)
                    target = new.choices[k].delta if delta is not None else new.choices[k]
                    setattr(target, field, "" if index in seen else masked[index])
                    seen.add(index)
            out.append(new)
        return out


def _stages(run: _Run, params: dict[str, Any]) -> tuple[list, _Restore | None]:
    checks = [_Check(run, g, params) for g, check in run.post if check and _is_builtin(g)]
    restore = _Restore(run.maskings) if run.maskings else None
    return checks, restore


def _sync_chunks(inner: Any, checks: list, restore: _Restore | None) -> Any:
    if checks:
        chunks = list(inner)
        for c in checks:
            chunks = c.check(chunks)
        source: Any = iter(chunks)
    else:
        source = inner
    for chunk in source:
        yield restore.chunk(chunk) if restore is not None else chunk
    if restore is not None:
        yield from restore.end()


async def _async_chunks(inner: Any, checks: list, restore: _Restore | None) -> Any:
    if checks:
        chunks = [c async for c in inner]
        for c in checks:
            chunks = c.check(chunks)
        for chunk in chunks:
            yield restore.chunk(chunk) if restore is not None else chunk
    else:
        async for chunk in inner:
            yield restore.chunk(chunk) if restore is not None else chunk
    if restore is not None:
        for chunk in restore.end():
            yield chunk


_guarded_classes: dict = {}


def _guard_stream(run: _Run, params: dict[str, Any], stream: Any) -> Any:
    checks, restore = _stages(run, params)
    if not checks and restore is None and not run.streaming:
        return stream
    base = type(stream)
    cls: Any = _guarded_classes.get(base)
    if cls is None:
        cls = type(base.__name__, (_GuardedStream, base), {"__module__": base.__module__})
        _guarded_classes[base] = cls
    guarded = object.__new__(cls)
    guarded.__dict__.update(
        _inner=stream, _run=run, _params=params, _checks=checks, _restore=restore, _sync_it=None, _async_it=None
    )
    return guarded


class _GuardedStream:
    """A stream after its post-call guardrails, of the same class as the one it wraps
    (attributes other than iteration come from that stream)."""

    _inner: Any

    def __getattr__(self, name: str) -> Any:
        inner = self.__dict__.get("_inner")
        if inner is None:
            raise AttributeError(name)
        return getattr(inner, name)

    def __repr__(self) -> str:
        return repr(self._inner)

    def _agen(self) -> Any:
        it = _async_chunks(self._inner, self._checks, self._restore)
        for g in self._run.streaming:
            it = g.async_post_call_streaming_iterator_hook(
                user_api_key_dict=_user(), response=it, request_data=self._params
            )
        return it

    def __iter__(self) -> Any:
        return self

    def __next__(self) -> Any:
        d = self.__dict__
        if self._run.streaming:
            # Custom iterator hooks are async generators: driven on a private loop.
            if d["_async_it"] is None:
                d["_async_it"] = self._agen()
            try:
                return _loops.run(d["_async_it"].__anext__())
            except StopAsyncIteration:
                raise StopIteration from None
        it = d["_sync_it"]
        if it is None:
            it = d["_sync_it"] = _sync_chunks(self._inner, self._checks, self._restore)
        return next(it)

    def __aiter__(self) -> Any:
        return self

    async def __anext__(self) -> Any:
        d = self.__dict__
        if d["_async_it"] is None:
            d["_async_it"] = self._agen()
        return await d["_async_it"].__anext__()

    def close(self) -> None:
        """Stop the stream and release its connection."""
        self._inner.close()

    async def aclose(self) -> None:
        """Async twin of :meth:`close`."""
        self._inner.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
