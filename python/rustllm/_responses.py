"""The Responses API: ``responses`` / ``aresponses`` and their ``_with_retries`` forms,
``get_response`` / ``delete_response``, LiteLLM's ``ResponsesAPIResponse`` and the typed
stream events.

OpenAI and Azure get ``POST {base}/responses`` as it is; every other provider is reached
over chat completions (in Rust, ``src/responses/``), so ``responses(model="anthropic/...")``
works and answers with the same objects. The Python side only shapes arguments and wraps
the results.
"""

from __future__ import annotations

import sys
from collections import deque
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

from rustllm import _core
from rustllm.types.utils import _fields, _new, _ResponseObject

if TYPE_CHECKING:
    from collections.abc import Callable

_RustLLMError = _core.RustLLMError


def _rustllm() -> Any:
    return sys.modules["rustllm"]


# ---------------------------------------------------------------------------------------
# Objects.
# ---------------------------------------------------------------------------------------
class _Node(_ResponseObject):
    """A part of a Response (output item, content part, summary, usage details):
    attribute and dict access over the fields the wire gave, all of them kept."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


class ResponseOutputMessage(_Node):
    """An output item of type ``message``: ``id``, ``role``, ``status`` and ``content``
    (a list of :class:`ResponseOutputText`)."""


class ResponseOutputText(_Node):
    """A content part of type ``output_text``: ``text`` and ``annotations``."""


class ResponseFunctionToolCall(_Node):
    """An output item of type ``function_call``: ``call_id``, ``name``, ``arguments`` (a
    JSON string), ``id``, ``status``."""


class ResponseReasoningItem(_Node):
    """An output item of type ``reasoning``: ``id`` and ``summary`` (a list of
    :class:`Summary`)."""


class Summary(_Node):
    """A reasoning summary part: ``type`` (``summary_text``) and ``text``."""


class GenericResponseOutputItem(_Node):
    """Any other output item or part, its fields as sent."""


class InputTokensDetails(_Node):
    """``cached_tokens``."""


class OutputTokensDetails(_Node):
    """``reasoning_tokens``."""


_NODE_CLASSES: dict[Any, type] = {
    "message": ResponseOutputMessage,
    "output_text": ResponseOutputText,
    "function_call": ResponseFunctionToolCall,
    "reasoning": ResponseReasoningItem,
    "summary_text": Summary,
}


def _node(value: Any) -> Any:
    """An output item or part dict as its object (nested parts too); others as they are."""
    if isinstance(value, dict):
        cls = _NODE_CLASSES.get(value.get("type"), GenericResponseOutputItem)
        o: Any = _new(cls)
        d = o.__dict__
        for k, v in value.items():
            if k in ("content", "summary") and isinstance(v, list):
                v = [_node(x) if isinstance(x, dict) else x for x in v]
            d[k] = v
        return o
    return value


class ResponseAPIUsage(_ResponseObject):
    """A Response's token counts: ``input_tokens``, ``output_tokens``, ``total_tokens``,
    ``input_tokens_details`` (``cached_tokens``), ``output_tokens_details``
    (``reasoning_tokens``). ``prompt_tokens`` / ``completion_tokens`` read the same counts
    under chat's names."""

    input_tokens: int
    input_tokens_details: Any
    output_tokens: int
    output_tokens_details: Any
    total_tokens: int

    _declared = frozenset(
        ("input_tokens", "input_tokens_details", "output_tokens", "output_tokens_details", "total_tokens")
    )
    model_fields = _fields(*_declared)

    def __init__(self, **fields: Any) -> None:
        d = self.__dict__
        d["input_tokens"] = fields.pop("input_tokens", 0) or 0
        details = fields.pop("input_tokens_details", None)
        d["input_tokens_details"] = InputTokensDetails(**details) if isinstance(details, dict) else details
        d["output_tokens"] = fields.pop("output_tokens", 0) or 0
        details = fields.pop("output_tokens_details", None)
        d["output_tokens_details"] = OutputTokensDetails(**details) if isinstance(details, dict) else details
        total = fields.pop("total_tokens", None)
        d["total_tokens"] = total if total is not None else d["input_tokens"] + d["output_tokens"]
        d.update(fields)

    @property
    def prompt_tokens(self) -> int:
        """``input_tokens``, under chat's name (what cost and logging code reads)."""
        return self.input_tokens

    @property
    def completion_tokens(self) -> int:
        """``output_tokens``, under chat's name."""
        return self.output_tokens


_RESPONSE_FIELDS = (
    "id",
    "created_at",
    "error",
    "incomplete_details",
    "instructions",
    "metadata",
    "model",
    "object",
    "output",
    "parallel_tool_calls",
    "temperature",
    "tool_choice",
    "tools",
    "top_p",
    "max_output_tokens",
    "previous_response_id",
    "reasoning",
    "status",
    "text",
    "truncation",
    "usage",
    "user",
    "store",
)


def _fill_response(d: dict, src: dict) -> None:
    # The declared fields first, in LiteLLM's order (for repr and dumps), then extras.
    if src.keys() >= _RESPONSE_FIELD_SET:
        for name in _RESPONSE_FIELDS:
            d[name] = src[name]
    else:
        get = src.get
        for name in _RESPONSE_FIELDS:
            d[name] = get(name)
    if len(src) > len(_RESPONSE_FIELDS) or not src.keys() <= _RESPONSE_FIELD_SET:
        for k, v in src.items():
            if k not in d:
                d[k] = v
    if d["object"] is None:
        d["object"] = "response"
    output = d["output"]
    d["output"] = [_node(x) for x in output] if isinstance(output, list) else []
    usage = d["usage"]
    if isinstance(usage, dict):
        d["usage"] = ResponseAPIUsage(**usage)


_RESPONSE_FIELD_SET = frozenset(_RESPONSE_FIELDS)


class ResponsesAPIResponse(_ResponseObject):
    """The result of :func:`responses`: ``id``, ``status``, ``output`` (message,
    function-call and reasoning items as objects), ``usage`` (``input_tokens``,
    ``output_tokens``), the request's echoed settings, and ``output_text`` (the text of
    every message item, joined). Private: ``_hidden_params`` (``response_cost``,
    ``custom_llm_provider``, ...), ``_response_ms``."""

    id: str | None
    created_at: int | float | None
    error: Any
    incomplete_details: Any
    instructions: Any
    metadata: Any
    model: str | None
    object: str
    output: list[Any]
    parallel_tool_calls: bool | None
    temperature: float | None
    tool_choice: Any
    tools: Any
    top_p: float | None
    max_output_tokens: int | None
    previous_response_id: str | None
    reasoning: Any
    status: str | None
    text: Any
    truncation: Any
    usage: ResponseAPIUsage | None
    user: str | None
    store: bool | None

    _declared = frozenset(_RESPONSE_FIELDS)
    model_fields = _fields(*_RESPONSE_FIELDS)
    _hidden_params: dict[str, Any]
    _response_ms: float | None

    def __init__(self, hidden_params: dict | None = None, response_ms: float | None = None, **fields: Any) -> None:
        d = self.__dict__
        _fill_response(d, fields)
        d["_hidden_params"] = hidden_params or {}
        d["_response_ms"] = response_ms

    @property
    def output_text(self) -> str:
        """The text of the message items, joined (the openai SDK's ``output_text``)."""
        parts = []
        for item in self.output:
            if getattr(item, "type", None) == "message":
                for part in getattr(item, "content", None) or ():
                    if getattr(part, "type", None) == "output_text":
                        parts.append(part.text or "")
        return "".join(parts)

    @classmethod
    def _from_openai(
        cls, d: dict[str, Any], hidden_params: dict[str, Any] | None = None, response_ms: float | None = None
    ) -> ResponsesAPIResponse:
        """Build from the core's parsed Response (not copied, not validated)."""
        o = _new(cls)
        od = o.__dict__
        _fill_response(od, d)
        od["_hidden_params"] = {} if hidden_params is None else hidden_params
        od["_response_ms"] = response_ms
        return o


class DeleteResponseResult(_ResponseObject):
    """What :func:`delete_response` returns: ``id``, ``object``
    (``"response.deleted"``), ``deleted``."""

    _declared = frozenset(("id", "object", "deleted"))
    model_fields = _fields("id", "object", "deleted")

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


class ResponsesAPIStreamEvents(str, Enum):
    """The stream event types (LiteLLM's enum of them)."""

    RESPONSE_CREATED = "response.created"
    RESPONSE_IN_PROGRESS = "response.in_progress"
    RESPONSE_COMPLETED = "response.completed"
    RESPONSE_FAILED = "response.failed"
    RESPONSE_INCOMPLETE = "response.incomplete"
    OUTPUT_ITEM_ADDED = "response.output_item.added"
    OUTPUT_ITEM_DONE = "response.output_item.done"
    CONTENT_PART_ADDED = "response.content_part.added"
    CONTENT_PART_DONE = "response.content_part.done"
    OUTPUT_TEXT_DELTA = "response.output_text.delta"
    OUTPUT_TEXT_DONE = "response.output_text.done"
    FUNCTION_CALL_ARGUMENTS_DELTA = "response.function_call_arguments.delta"
    FUNCTION_CALL_ARGUMENTS_DONE = "response.function_call_arguments.done"
    REASONING_SUMMARY_TEXT_DELTA = "response.reasoning_summary_text.delta"
    REASONING_SUMMARY_TEXT_DONE = "response.reasoning_summary_text.done"
    ERROR = "error"


class ResponsesAPIStreamingResponse(_ResponseObject):
    """One stream event: ``type``, ``sequence_number`` and the event's fields
    (``delta``, ``item_id``, ``output_index``, ...); ``response`` is a
    :class:`ResponsesAPIResponse`, ``item`` and ``part`` are output objects."""

    _event_type: ClassVar[str | None] = None

    def __init__(self, **fields: Any) -> None:
        _fill_event(self.__dict__, fields)


def _fill_event(d: dict, src: dict) -> None:
    d.update(src)
    response = d.get("response")
    if isinstance(response, dict):
        d["response"] = ResponsesAPIResponse._from_openai(response)
    for key in ("item", "part"):
        if isinstance(d.get(key), dict):
            d[key] = _node(d[key])


class ResponseCreatedEvent(ResponsesAPIStreamingResponse):
    """``response.created``."""

    _event_type = "response.created"


class ResponseInProgressEvent(ResponsesAPIStreamingResponse):
    """``response.in_progress``."""

    _event_type = "response.in_progress"


class ResponseCompletedEvent(ResponsesAPIStreamingResponse):
    """``response.completed``: the whole Response."""

    _event_type = "response.completed"


class ResponseIncompleteEvent(ResponsesAPIStreamingResponse):
    """``response.incomplete``: the Response, cut short."""

    _event_type = "response.incomplete"


class OutputItemAddedEvent(ResponsesAPIStreamingResponse):
    """``response.output_item.added``."""

    _event_type = "response.output_item.added"


class OutputItemDoneEvent(ResponsesAPIStreamingResponse):
    """``response.output_item.done``."""

    _event_type = "response.output_item.done"


class ContentPartAddedEvent(ResponsesAPIStreamingResponse):
    """``response.content_part.added``."""

    _event_type = "response.content_part.added"


class ContentPartDoneEvent(ResponsesAPIStreamingResponse):
    """``response.content_part.done``."""

    _event_type = "response.content_part.done"


class OutputTextDeltaEvent(ResponsesAPIStreamingResponse):
    """``response.output_text.delta``: ``delta`` is new text."""

    _event_type = "response.output_text.delta"


class OutputTextDoneEvent(ResponsesAPIStreamingResponse):
    """``response.output_text.done``: the item's ``text``."""

    _event_type = "response.output_text.done"


class FunctionCallArgumentsDeltaEvent(ResponsesAPIStreamingResponse):
    """``response.function_call_arguments.delta``: ``delta`` is more of the arguments."""

    _event_type = "response.function_call_arguments.delta"


class FunctionCallArgumentsDoneEvent(ResponsesAPIStreamingResponse):
    """``response.function_call_arguments.done``: the call's whole ``arguments``."""

    _event_type = "response.function_call_arguments.done"


class ReasoningSummaryTextDeltaEvent(ResponsesAPIStreamingResponse):
    """``response.reasoning_summary_text.delta``."""

    _event_type = "response.reasoning_summary_text.delta"


class ReasoningSummaryTextDoneEvent(ResponsesAPIStreamingResponse):
    """``response.reasoning_summary_text.done``."""

    _event_type = "response.reasoning_summary_text.done"


class GenericEvent(ResponsesAPIStreamingResponse):
    """Any other event type, its fields as sent."""

    _event_type = None


_EVENT_CLASSES: dict[Any, type] = {
    cls._event_type: cls
    for cls in (
        ResponseCreatedEvent,
        ResponseInProgressEvent,
        ResponseCompletedEvent,
        ResponseIncompleteEvent,
        OutputItemAddedEvent,
        OutputItemDoneEvent,
        ContentPartAddedEvent,
        ContentPartDoneEvent,
        OutputTextDeltaEvent,
        OutputTextDoneEvent,
        FunctionCallArgumentsDeltaEvent,
        FunctionCallArgumentsDoneEvent,
        ReasoningSummaryTextDeltaEvent,
        ReasoningSummaryTextDoneEvent,
    )
}


_FINAL_TYPES = ("response.completed", "response.incomplete")

# The delta events (most of a stream): nothing in them to convert, so an unobserved
# stream hands the dict fresh from Rust to the object as its own ``__dict__``.
_DELTA_CLASSES: dict[Any, type] = {
    cls._event_type: cls
    for cls in (OutputTextDeltaEvent, FunctionCallArgumentsDeltaEvent, ReasoningSummaryTextDeltaEvent)
}


def assemble_events(events: list[Any]) -> ResponsesAPIResponse | None:
    """The whole Response of a stream: the one its final event carries."""
    for event in reversed(events):
        if getattr(event, "type", None) in _FINAL_TYPES and getattr(event, "response", None) is not None:
            return event.response
    return None


# ---------------------------------------------------------------------------------------
# The stream.
# ---------------------------------------------------------------------------------------
class ResponsesAPIStreamingIterator:
    """The stream ``responses(..., stream=True)`` returns: ``for`` or ``async for`` yields
    typed events (:class:`OutputTextDeltaEvent`, :class:`ResponseCompletedEvent`, ...)
    whichever call opened it. ``completed_response`` holds the final event once seen. An
    error mid-stream is raised as the mapped exception. ``close()`` / ``aclose()`` stop
    the request."""

    # rustllm._hooks: this stream calls its `_observer` itself.
    _reports_to_observer = True

    def __init__(self, handle: Any, model: str | None, hidden_params: dict[str, Any]) -> None:
        self._handle = handle
        # The text and function-call-arguments deltas (most of a stream) come built as
        # their objects; the other events come as dicts and are wrapped here.
        handle.use_event_types(OutputTextDeltaEvent, FunctionCallArgumentsDeltaEvent)
        self._buffer: deque = deque()
        self._done = False
        self._observer: Any = None
        self.model = model
        self.custom_llm_provider = hidden_params.get("custom_llm_provider")
        self._hidden_params = hidden_params
        self.completed_response: Any = None

    def __repr__(self) -> str:
        return f"<rustllm.ResponsesAPIStreamingIterator model={self.model!r}>"

    def _wrap(self, raw: dict[str, Any]) -> ResponsesAPIStreamingResponse:
        event: Any = _new(_EVENT_CLASSES.get(raw.get("type"), GenericEvent))
        if "response" in raw or "item" in raw or "part" in raw:
            _fill_event(event.__dict__, raw)
            if raw.get("type") == "response.created":
                self._pin(event)
        else:
            # A delta event (most of a stream): its dict, fresh from Rust, becomes the
            # object's own, uncopied.
            event.__dict__ = raw
        if raw.get("type") in _FINAL_TYPES:
            self.completed_response = event
            response = event.response  # type: ignore[attr-defined]
            if isinstance(response, ResponsesAPIResponse):
                response._hidden_params = dict(self._hidden_params)
                response._hidden_params["response_cost"] = _cost(response, self._hidden_params)
        if self._observer is not None:
            self._observer.chunk(event)
        return event

    def _next_event(self) -> ResponsesAPIStreamingResponse:
        """The next buffered event as its object: text and arguments deltas arrive built
        by Rust; an unobserved stream's other delta events take the dict from Rust as
        their ``__dict__`` directly."""
        raw = self._buffer.popleft()
        if raw.__class__ is not dict:
            if self._observer is not None:
                self._observer.chunk(raw)
            return raw
        cls = _DELTA_CLASSES.get(raw.get("type"))
        if cls is not None and self._observer is None:
            event = _new(cls)
            event.__dict__ = raw
            return event
        return self._wrap(raw)

    def _pin(self, event: Any) -> None:
        """A Router's stream: its Response goes back to this deployment on a follow-up."""
        model_id = self._hidden_params.get("model_id")
        response_id = getattr(getattr(event, "response", None), "id", None)
        if model_id and isinstance(response_id, str):
            _core.pin_response(response_id, model_id)

    def _end(self) -> None:
        self._done = True
        if self._observer is not None:
            self._observer.finished()

    def _fail(self, err: BaseException) -> None:
        self._done = True
        if self._observer is not None:
            self._observer.failed(err)

    def _raise(self, err: BaseException) -> None:
        from rustllm.exceptions import _from_core

        mapped = _from_core(err)
        self._fail(mapped)
        raise mapped from None

    def __iter__(self) -> ResponsesAPIStreamingIterator:
        return self

    def __next__(self) -> ResponsesAPIStreamingResponse:
        if not self._buffer:
            if self._done:
                raise StopIteration
            try:
                batch = self._handle.next_batch()
            except _RustLLMError as err:
                self._raise(err)
            if batch is None:
                self._end()
                raise StopIteration
            self._buffer.extend(batch)
        return self._next_event()

    def __aiter__(self) -> ResponsesAPIStreamingIterator:
        return self

    async def __anext__(self) -> ResponsesAPIStreamingResponse:
        if not self._buffer:
            if self._done:
                raise StopAsyncIteration
            try:
                batch = self._handle.try_batch()
                if batch is not None and not batch:
                    from rustllm._bridge import submit

                    batch = await submit(self._handle.next_batch_submit)
            except _RustLLMError as err:
                self._raise(err)
            if batch is None:
                self._end()
                raise StopAsyncIteration
            self._buffer.extend(batch)
        return self._next_event()

    def close(self) -> None:
        """Stop the stream and release its connection."""
        self._done = True
        self._buffer.clear()
        self._handle.close()

    async def aclose(self) -> None:
        """The async twin of :meth:`close`."""
        self.close()

    def __enter__(self) -> ResponsesAPIStreamingIterator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> ResponsesAPIStreamingIterator:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


# LiteLLM's name for the sync iterator; here one object serves both.
SyncResponsesAPIStreamingIterator = ResponsesAPIStreamingIterator


def _cost(response: ResponsesAPIResponse, hidden: dict[str, Any]) -> float | None:
    """A streamed Response's cost, from its final event's usage (as chat streams are
    priced from their usage chunk)."""
    usage = response.usage
    if usage is None:
        return None
    from rustllm.catalogue import cost_per_token

    for model in (response.model, hidden.get("litellm_model_name")):
        if not model:
            continue
        try:
            prompt, completion = cost_per_token(
                model=model,
                prompt_tokens=usage.input_tokens,
                completion_tokens=usage.output_tokens,
                custom_llm_provider=hidden.get("custom_llm_provider"),
            )
        except Exception:  # noqa: BLE001 - an unpriced model has no cost, as for chat
            continue
        return prompt + completion
    return None


# ---------------------------------------------------------------------------------------
# The calls.
# ---------------------------------------------------------------------------------------
def _strict_text_format(text_format: Any) -> dict[str, Any]:
    """A pydantic model class as ``text={"format": {"type": "json_schema", ...}}``."""
    r = _rustllm()
    return {
        "format": {
            "type": "json_schema",
            "name": text_format.__name__,
            "schema": r._strict_schema(text_format.model_json_schema()),
            "strict": True,
        }
    }


def _prepare(params: dict[str, Any]) -> Any:
    """Settings and argument shaping; returns a finished response for object mocks."""
    r = _rustllm()
    if params.get("model") is None:
        raise ValueError("model param not passed in.")
    text_format = params.pop("text_format", None)
    if text_format is not None:
        if not (isinstance(text_format, type) and hasattr(text_format, "model_json_schema")):
            raise TypeError("text_format must be a pydantic model class")
        params["text"] = _strict_text_format(text_format)
    if params.get("extra_query"):
        from rustllm.exceptions import BadRequestError

        raise BadRequestError(
            message="extra_query is not supported by rustllm's responses(); pass the values as keyword arguments",
            model=params.get("model") or "",
            llm_provider="",
        )
    params.pop("extra_query", None)
    r._apply_settings(params)
    if params.get("timeout") is not None:
        params["timeout"] = r._timeout_seconds(params["timeout"])
    mock = params.get("mock_response")
    if mock is None or isinstance(mock, str):
        return None
    if isinstance(mock, BaseException):
        r._raise(r._MockFailure(mock, params), params)
    if isinstance(mock, ResponsesAPIResponse):
        return mock
    if isinstance(mock, dict):
        return ResponsesAPIResponse(**mock)
    params["mock_response"] = str(mock)
    return None


def responses_core(params: dict[str, Any]) -> ResponsesAPIResponse | ResponsesAPIStreamingIterator:
    """The call itself; :func:`responses` adds callbacks around it."""
    r = _rustllm()
    mocked = _prepare(params)
    if mocked is not None:
        return mocked
    try:
        if params.get("stream"):
            handle, hidden = _core.responses_stream(params)
            return ResponsesAPIStreamingIterator(handle, params["model"], hidden)
        body, hidden, ms = _core.responses(params)
    except _RustLLMError as err:
        r._raise(err, params)
    return ResponsesAPIResponse._from_openai(body, hidden, ms)


async def aresponses_core(params: dict[str, Any]) -> ResponsesAPIResponse | ResponsesAPIStreamingIterator:
    """The async twin of :func:`responses_core`."""
    r = _rustllm()
    mocked = _prepare(params)
    if mocked is not None:
        return mocked
    try:
        if params.get("stream"):
            handle, hidden = await r._submit(_core.aresponses_submit, params)
            return ResponsesAPIStreamingIterator(handle, params["model"], hidden)
        body, hidden, ms = await r._submit(_core.aresponses_submit, params)
    except _RustLLMError as err:
        r._raise(err, params)
    return ResponsesAPIResponse._from_openai(body, hidden, ms)


def responses(
    input: Any = None,
    model: str | None = None,
    include: list | None = None,
    instructions: str | None = None,
    max_output_tokens: int | None = None,
    prompt: dict | None = None,
    metadata: dict | None = None,
    parallel_tool_calls: bool | None = None,
    previous_response_id: str | None = None,
    reasoning: dict | None = None,
    store: bool | None = None,
    background: bool | None = None,
    stream: bool | None = None,
    temperature: float | None = None,
    text: dict | None = None,
    tool_choice: Any = None,
    tools: list | None = None,
    top_p: float | None = None,
    truncation: str | None = None,
    user: str | None = None,
    service_tier: str | None = None,
    safety_identifier: str | None = None,
    extra_headers: dict | None = None,
    extra_query: dict | None = None,
    extra_body: dict | None = None,
    timeout: Any = None,
    custom_llm_provider: str | None = None,
    **kwargs: Any,
) -> ResponsesAPIResponse | ResponsesAPIStreamingIterator:
    """OpenAI's Responses API through any provider, with LiteLLM's signature.

    ``input`` is a string or a list of input items (messages, ``function_call`` and
    ``function_call_output`` items, ...). OpenAI and Azure get ``POST /responses`` as it
    is; every other provider is reached over chat completions and answers the same way.
    Returns a :class:`ResponsesAPIResponse`, or with ``stream=True`` a
    :class:`ResponsesAPIStreamingIterator` of typed events. ``text_format=`` takes a
    pydantic model class for structured output. ``_hidden_params["response_cost"]`` is
    the call's cost. Raises LiteLLM's exception classes; bad input is refused before any
    request is sent.
    """
    params = _collect(locals())
    r = _rustllm()
    if r._observed(params):
        from rustllm import _hooks

        return _hooks.call("responses", params, responses_core)
    return responses_core(params)


async def aresponses(
    input: Any = None,
    model: str | None = None,
    include: list | None = None,
    instructions: str | None = None,
    max_output_tokens: int | None = None,
    prompt: dict | None = None,
    metadata: dict | None = None,
    parallel_tool_calls: bool | None = None,
    previous_response_id: str | None = None,
    reasoning: dict | None = None,
    store: bool | None = None,
    background: bool | None = None,
    stream: bool | None = None,
    temperature: float | None = None,
    text: dict | None = None,
    tool_choice: Any = None,
    tools: list | None = None,
    top_p: float | None = None,
    truncation: str | None = None,
    user: str | None = None,
    service_tier: str | None = None,
    safety_identifier: str | None = None,
    extra_headers: dict | None = None,
    extra_query: dict | None = None,
    extra_body: dict | None = None,
    timeout: Any = None,
    custom_llm_provider: str | None = None,
    **kwargs: Any,
) -> ResponsesAPIResponse | ResponsesAPIStreamingIterator:
    """The async twin of :func:`responses`; its stream serves ``async for`` and ``for``."""
    params = _collect(locals())
    r = _rustllm()
    if r._observed(params):
        from rustllm import _hooks

        return await _hooks.acall("aresponses", params, aresponses_core)
    return await aresponses_core(params)


def _collect(local_vars: dict[str, Any]) -> dict[str, Any]:
    extra = local_vars.pop("kwargs")
    params = {k: v for k, v in local_vars.items() if v is not None}
    if extra:
        params.update(extra)
    return params


def responses_with_retries(*args: Any, **kwargs: Any) -> Any:
    """:func:`responses` retried on any exception, as :func:`rustllm.completion_with_retries`
    retries ``completion``: ``num_retries`` (default 3) attempts in all, ``retry_strategy``
    ``"constant_retry"`` or ``"exponential_backoff_retry"``."""
    from rustllm._batch import completion_with_retries

    kwargs.setdefault("original_function", responses)
    return completion_with_retries(*args, **kwargs)


async def aresponses_with_retries(*args: Any, **kwargs: Any) -> Any:
    """The async twin of :func:`responses_with_retries` (retries :func:`aresponses`)."""
    from rustllm._batch import acompletion_with_retries

    kwargs.setdefault("original_function", aresponses)
    return await acompletion_with_retries(*args, **kwargs)


def _by_id_params(response_id: Any, custom_llm_provider: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    params = {k: v for k, v in kwargs.items() if v is not None}
    params["response_id"] = response_id
    if custom_llm_provider is not None:
        params["custom_llm_provider"] = custom_llm_provider
    r = _rustllm()
    if params.get("timeout") is not None:
        params["timeout"] = r._timeout_seconds(params["timeout"])
    if params.get("api_key") is None:
        key = r.api_key or r.openai_key or r.azure_key
        if key is not None:
            params["api_key"] = key
    if params.get("api_base") is None and r.api_base is not None:
        params["api_base"] = r.api_base
    return params


def _by_id_result(body: dict[str, Any], hidden: dict[str, Any], ms: float, delete: bool) -> Any:
    if delete:
        return DeleteResponseResult(**body)
    return ResponsesAPIResponse._from_openai(body, hidden, ms)


def get_response(
    response_id: str,
    custom_llm_provider: str | None = None,
    extra_headers: dict | None = None,
    timeout: Any = None,
    **kwargs: Any,
) -> ResponsesAPIResponse:
    """A stored Response by id: ``GET /responses/{id}`` on OpenAI (the default
    ``custom_llm_provider``) or Azure (``custom_llm_provider="azure"``); a Response
    bridged over chat completions is read from this process's memory."""
    params = _by_id_params(
        response_id, custom_llm_provider, {"extra_headers": extra_headers, "timeout": timeout, **kwargs}
    )
    try:
        body, hidden, ms = _core.response_by_id(params, False)
    except _RustLLMError as err:
        _rustllm()._raise(err, params)
    return _by_id_result(body, hidden, ms, False)


async def aget_response(
    response_id: str,
    custom_llm_provider: str | None = None,
    extra_headers: dict | None = None,
    timeout: Any = None,
    **kwargs: Any,
) -> ResponsesAPIResponse:
    """The async twin of :func:`get_response`."""
    params = _by_id_params(
        response_id, custom_llm_provider, {"extra_headers": extra_headers, "timeout": timeout, **kwargs}
    )
    from rustllm._bridge import submit

    try:
        body, hidden, ms = await submit(_start_by_id(False), params)
    except _RustLLMError as err:
        _rustllm()._raise(err, params)
    return _by_id_result(body, hidden, ms, False)


def delete_response(
    response_id: str,
    custom_llm_provider: str | None = None,
    extra_headers: dict | None = None,
    timeout: Any = None,
    **kwargs: Any,
) -> DeleteResponseResult:
    """Delete a stored Response: ``DELETE /responses/{id}`` (OpenAI, Azure), or forget a
    bridged one. Returns ``{"id", "object": "response.deleted", "deleted": True}``."""
    params = _by_id_params(
        response_id, custom_llm_provider, {"extra_headers": extra_headers, "timeout": timeout, **kwargs}
    )
    try:
        body, hidden, ms = _core.response_by_id(params, True)
    except _RustLLMError as err:
        _rustllm()._raise(err, params)
    return _by_id_result(body, hidden, ms, True)


async def adelete_response(
    response_id: str,
    custom_llm_provider: str | None = None,
    extra_headers: dict | None = None,
    timeout: Any = None,
    **kwargs: Any,
) -> DeleteResponseResult:
    """The async twin of :func:`delete_response`."""
    params = _by_id_params(
        response_id, custom_llm_provider, {"extra_headers": extra_headers, "timeout": timeout, **kwargs}
    )
    from rustllm._bridge import submit

    try:
        body, hidden, ms = await submit(_start_by_id(True), params)
    except _RustLLMError as err:
        _rustllm()._raise(err, params)
    return _by_id_result(body, hidden, ms, True)


def _start_by_id(delete: bool) -> Callable[..., Any]:
    def start(params: dict[str, Any], waker: Any, future: Any) -> Any:
        return _core.aresponse_by_id_submit(params, delete, waker, future)

    return start


__all__ = [
    "DeleteResponseResult",
    "GenericResponseOutputItem",
    "ResponseAPIUsage",
    "ResponseFunctionToolCall",
    "ResponseOutputMessage",
    "ResponseOutputText",
    "ResponseReasoningItem",
    "ResponsesAPIResponse",
    "ResponsesAPIStreamEvents",
    "ResponsesAPIStreamingIterator",
    "ResponsesAPIStreamingResponse",
    "SyncResponsesAPIStreamingIterator",
    "adelete_response",
    "aget_response",
    "aresponses",
    "aresponses_with_retries",
    "delete_response",
    "get_response",
    "responses",
    "responses_with_retries",
]
