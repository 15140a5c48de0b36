"""LiteLLM's ``CustomGuardrail``: subclass it, override the hooks you need, and register
an instance in ``rustllm.callbacks`` (or pass it per call, ``guardrails=[...]``)::

    from rustllm.integrations.custom_guardrail import CustomGuardrail

    class NoSecrets(CustomGuardrail):
        async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
            for m in data["messages"]:
                if "password" in str(m.get("content")):
                    raise ValueError("no passwords, please")
            return data

    rustllm.callbacks = [NoSecrets(guardrail_name="no-secrets", event_hook="pre_call", default_on=True)]

Which hook runs when (``rustllm.completion``/``acompletion``, ``text_completion``,
``embedding`` and the Router's ``completion``/``acompletion``/``embedding``):

- ``async_pre_call_hook`` (``pre_call``), before any request: may change ``data`` (in
  place, or by returning a new dict), or refuse the call by raising (the caller gets that
  exception) or by returning a string (the caller gets ``RejectedRequestError``).
- ``async_moderation_hook`` (``during_call``), in parallel with the call: raising
  cancels the call, and the caller gets that exception.
- ``async_post_call_success_hook`` (``post_call``), on the reply: may change it (in
  place, or by returning a new one) or refuse it by raising.
- ``async_post_call_streaming_iterator_hook`` (``post_call``), on a stream: receives the
  chunks as an async iterator and yields the ones the caller gets.

A guardrail runs on a call when ``should_run_guardrail(data, event)`` says so: with
``default_on=True`` on every call of its ``event_hook``; otherwise when the call names it
(``guardrails=["name"]`` or ``metadata={"guardrails": ["name"]}``), or always when it
has no ``event_hook``, as in LiteLLM. Sync calls run the async hooks to completion on a
private event loop before they go on.
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncGenerator
from typing import Any

from rustllm.integrations.custom_logger import CustomLogger
from rustllm.types.guardrails import GuardrailEventHooks

_EVENTS = frozenset(h.value for h in GuardrailEventHooks)


def _check_hooks(value: Any, what: str) -> None:
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        v = item.value if isinstance(item, GuardrailEventHooks) else item
        if v not in _EVENTS:
            raise ValueError(f"{what}={item!r}: expected one of {', '.join(sorted(_EVENTS))} (or a list of them)")


class CustomGuardrail(CustomLogger):
    """Base class of guardrails; every hook lets the call through until overridden.

    ``guardrail_name`` is how calls select it; ``event_hook`` (also ``mode``) is when it
    runs: ``"pre_call"``, ``"during_call"``, ``"post_call"``, ``"logging_only"`` or a list
    of them; ``default_on=True`` runs it on every call. ``supported_event_hooks``, when
    given, is the list ``event_hook`` must come from.
    """

    def __init__(
        self,
        guardrail_name: str | None = None,
        supported_event_hooks: list[GuardrailEventHooks] | None = None,
        event_hook: GuardrailEventHooks | str | list[GuardrailEventHooks | str] | None = None,
        default_on: bool = False,
        **kwargs: Any,
    ) -> None:
        mode = kwargs.pop("mode", None)
        if event_hook is None and mode is not None:
            event_hook = mode
        if event_hook is not None:
            _check_hooks(event_hook, "event_hook")
        if not isinstance(default_on, bool):
            raise TypeError(f"default_on={default_on!r}: expected True or False")
        self.guardrail_name = guardrail_name
        self.supported_event_hooks = supported_event_hooks
        self.event_hook: Any = list(event_hook) if isinstance(event_hook, tuple) else event_hook
        self.default_on = default_on
        if supported_event_hooks:
            _check_hooks(supported_event_hooks, "supported_event_hooks")
            supported = {h.value if isinstance(h, GuardrailEventHooks) else h for h in supported_event_hooks}
            for hook in event_hook if isinstance(event_hook, (list, tuple)) else [event_hook]:
                v = hook.value if isinstance(hook, GuardrailEventHooks) else hook
                if hook is not None and v not in supported:
                    raise ValueError(f"Event hook {hook} is not in the supported event hooks {supported_event_hooks}")
        super().__init__(**kwargs)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(guardrail_name={self.guardrail_name!r}, "
            f"event_hook={self.event_hook!r}, default_on={self.default_on!r})"
        )

    # -- selection (LiteLLM's logic) ----------------------------------------------------
    def get_guardrail_from_metadata(self, data: dict) -> list:
        """The guardrails the call asked for: ``data["metadata"]["guardrails"]``."""
        metadata = data.get("metadata") or {}
        return metadata.get("guardrails") or []

    def _guardrail_is_in_requested_guardrails(self, requested_guardrails: list) -> bool:
        for g in requested_guardrails:
            if isinstance(g, dict):
                if self.guardrail_name in g:
                    return True
            elif isinstance(g, str) and g == self.guardrail_name:
                return True
        return False

    def should_run_guardrail(self, data: dict, event_type: GuardrailEventHooks) -> bool:
        """Whether this guardrail runs on ``event_type`` for the call ``data``: every call
        when ``default_on``; otherwise when the call names it (or it has no
        ``event_hook``); in both cases only for its own events."""
        if self.default_on is True:
            return self._event_hook_is_event_type(event_type)
        if (
            self.event_hook
            and not self._guardrail_is_in_requested_guardrails(self.get_guardrail_from_metadata(data))
            and event_type.value != "logging_only"
        ):
            return False
        return self._event_hook_is_event_type(event_type)

    def _event_hook_is_event_type(self, event_type: GuardrailEventHooks) -> bool:
        hook = self.event_hook
        if hook is None:
            return True
        # The hooks are a str Enum: a member equals its value as a str, so `==` compares
        # the text (an Enum's `.value` is a slow descriptor, and this runs every call).
        if isinstance(hook, str):
            return hook == event_type
        if isinstance(hook, list):
            return any(getattr(h, "value", h) == event_type for h in hook)
        return getattr(hook, "value", hook) == event_type

    def get_guardrail_dynamic_request_body_params(self, request_data: dict) -> dict:
        """``extra_body`` given for this guardrail by the call:
        ``guardrails=[{"my-guard": {"extra_body": {...}}}]``."""
        for g in self.get_guardrail_from_metadata(request_data):
            if isinstance(g, dict) and self.guardrail_name in g:
                return dict((g[self.guardrail_name] or {}).get("extra_body") or {})
        return {}

    def add_standard_logging_guardrail_information_to_request_data(
        self,
        guardrail_json_response: Any,
        request_data: dict,
        guardrail_status: str,
        start_time: float | None = None,
        end_time: float | None = None,
        duration: float | None = None,
        masked_entity_count: dict[str, int] | None = None,
    ) -> None:
        """Record this guardrail's outcome where loggers find it:
        ``kwargs["standard_logging_object"]["guardrail_information"]``."""
        if isinstance(guardrail_json_response, Exception):
            guardrail_json_response = str(guardrail_json_response)
        info = {
            "guardrail_name": self.guardrail_name,
            "guardrail_mode": self.event_hook,
            "guardrail_response": guardrail_json_response,
            "guardrail_status": guardrail_status,
            "start_time": start_time,
            "end_time": end_time,
            "duration": duration,
            "masked_entity_count": masked_entity_count,
        }
        _record(request_data, info)

    # -- hooks --------------------------------------------------------------------------
    async def async_pre_call_hook(self, user_api_key_dict: Any, cache: Any, data: dict, call_type: str) -> Any:
        """Before the request: return ``data`` (changed or not) or None to let it through;
        raise, or return a string, to refuse it."""
        return data

    async def async_moderation_hook(self, data: dict, user_api_key_dict: Any, call_type: str) -> Any:
        """While the call runs: raise to cancel it and refuse the call."""
        return None

    async def async_post_call_success_hook(self, data: dict, user_api_key_dict: Any, response: Any) -> Any:
        """On the reply: return a reply to replace it (or None to keep it); raise to refuse it."""
        return response

    async def async_post_call_streaming_iterator_hook(
        self, user_api_key_dict: Any, response: Any, request_data: dict
    ) -> AsyncGenerator[Any, None]:
        """On a stream: iterate ``response`` and yield the chunks the caller gets."""
        async for item in response:
            yield item


def _plain(value: Any) -> Any:
    """``value`` as JSON can carry it (the call's metadata goes to Rust and to loggers)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, GuardrailEventHooks):
        return value.value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


class _Infos(list):
    """The guardrail information of one call: its marker says the metadata dict that
    holds it is the call's own copy, never the caller's."""


def _record(request_data: dict, info: dict[str, Any], plain: bool = False) -> None:
    """Append ``info`` to the call's guardrail information, in
    ``metadata["standard_logging_guardrail_information"]`` (the first record copies the
    caller's metadata dict, which is never changed). ``plain``: ``info`` holds only what
    JSON carries already."""
    if not plain:
        info = {k: _plain(v) for k, v in info.items()}
    metadata = request_data.get("metadata")
    infos = metadata.get("standard_logging_guardrail_information") if isinstance(metadata, dict) else None
    if type(infos) is not _Infos:
        metadata = dict(metadata) if isinstance(metadata, dict) else {}
        infos = _Infos(infos if isinstance(infos, list) else [] if infos is None else [infos])
        metadata["standard_logging_guardrail_information"] = infos
        request_data["metadata"] = metadata
    infos.append(info)


def log_guardrail_information(func: Any) -> Any:
    """Decorate a guardrail hook so its outcome (``success``, or ``guardrail_intervened``
    when it raises) is recorded in the call's guardrail information."""
    import asyncio

    def request_data_of(args: tuple, kwargs: dict) -> dict:
        data = kwargs.get("data") or kwargs.get("request_data")
        if data is None:
            data = next((a for a in args[1:] if isinstance(a, dict)), {})
        return data

    @functools.wraps(func)
    async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
        self: CustomGuardrail = args[0]
        data = request_data_of(args, kwargs)
        start = time.time()
        try:
            response = await func(*args, **kwargs)
        except Exception as e:
            end = time.time()
            self.add_standard_logging_guardrail_information_to_request_data(
                e, data, "guardrail_intervened", start, end, end - start
            )
            raise
        end = time.time()
        self.add_standard_logging_guardrail_information_to_request_data(
            None if response is data else response, data, "success", start, end, end - start
        )
        return response

    if asyncio.iscoroutinefunction(func):
        return async_wrapper
    return func
