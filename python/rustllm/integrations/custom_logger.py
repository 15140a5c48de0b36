"""LiteLLM's ``CustomLogger``: subclass it, override the hooks you need, and register an
instance in ``rustllm.callbacks``::

    from rustllm.integrations.custom_logger import CustomLogger

    class CostTracker(CustomLogger):
        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            print(kwargs["model"], kwargs["response_cost"])

        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
            print(kwargs["standard_logging_object"]["total_tokens"])

    rustllm.callbacks = [CostTracker()]

Which hook runs when (as in LiteLLM): a sync call fires ``log_pre_api_call``,
``log_post_api_call``, then ``log_success_event`` or ``log_failure_event``; an async call
fires ``async_log_success_event`` or ``async_log_failure_event``; a stream fires
``log_stream_event`` / ``async_log_stream_event`` per chunk (only when overridden) and the
success hook once the stream is fully consumed, with ``kwargs["complete_streaming_response"]``.
Sync hooks run on one background thread, async ones as tasks on the caller's event loop:
never on the request's path. A hook that raises is logged on ``logging.getLogger("rustllm")``
and never breaks the call.
"""

from __future__ import annotations

from typing import Any


class CustomLogger:
    """Base class of logging callbacks; every hook is a no-op until overridden.

    ``kwargs`` is LiteLLM's ``model_call_details``: ``model``, ``messages``,
    ``optional_params``, ``litellm_params``, ``call_type``, ``litellm_call_id``,
    ``start_time``, ``stream``, ``api_key``, ``cache_hit``, ``response_cost``,
    ``standard_logging_object`` (after the call), ``exception`` and
    ``traceback_exception`` (failures), ``complete_streaming_response`` (streams).
    """

    def __init__(self, turn_off_message_logging: bool = False, message_logging: bool = True, **kwargs: Any) -> None:
        self.turn_off_message_logging = turn_off_message_logging
        self.message_logging = message_logging

    # -- sync hooks (sync calls) -------------------------------------------------------
    def log_pre_api_call(self, model: Any, messages: Any, kwargs: dict[str, Any]) -> None:
        """Before the request is sent."""

    def log_post_api_call(self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any) -> None:
        """After the provider answered (``response_obj`` is None, as in LiteLLM)."""

    def log_stream_event(self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any) -> None:
        """Each chunk of a sync stream."""

    def log_success_event(self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any) -> None:
        """A sync call succeeded (a stream: once fully consumed)."""

    def log_failure_event(self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any) -> None:
        """A sync call failed; ``kwargs["exception"]`` is what the caller got."""

    # -- async hooks (async calls) -----------------------------------------------------
    async def async_log_pre_api_call(self, model: Any, messages: Any, kwargs: dict[str, Any]) -> None:
        """Defined for compatibility; LiteLLM's SDK calls do not fire it."""

    async def async_log_stream_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        """Each chunk of an async stream."""

    async def async_log_success_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        """An async call succeeded (a stream: once fully consumed)."""

    async def async_log_failure_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        """An async call failed; ``kwargs["exception"]`` is what the caller got."""
