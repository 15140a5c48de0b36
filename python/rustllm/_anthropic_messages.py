"""Anthropic's Messages API through any provider: ``anthropic_messages`` /
``aanthropic_messages`` (``litellm.anthropic.messages.create`` / ``acreate``), the reply
dict :class:`AnthropicMessagesResponse` and the stream of Anthropic's events.

Anthropic, and Vertex AI's Claude models, get the body as it is; every other provider is
reached over chat completions (in Rust, ``src/messages/``) and answers in the same shape.
The Python side only shapes arguments and wraps the results.
"""

from __future__ import annotations

import json
import sys
from collections import deque
from typing import Any

from rustllm import _core

_RustLLMError = _core.RustLLMError


def _rustllm() -> Any:
    return sys.modules["rustllm"]


class AnthropicMessagesResponse(dict):
    """An Anthropic message: ``id``, ``type`` (``"message"``), ``role``, ``content`` (a list
    of ``text`` / ``tool_use`` / ``thinking`` block dicts), ``model``, ``stop_reason``,
    ``stop_sequence``, ``usage`` (``input_tokens``, ``output_tokens``). A dict, as
    LiteLLM's (a TypedDict) is, so ``json.dumps`` and ``reply["content"]`` work; its keys
    read as attributes too. Private: ``_hidden_params`` (``response_cost``,
    ``custom_llm_provider``, ...) and ``_response_ms``."""

    _hidden_params: dict[str, Any]
    _response_ms: float | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._hidden_params = {}
        self._response_ms = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def model_dump(self, **_: Any) -> dict[str, Any]:
        """The message as a plain dict (a copy)."""
        return json.loads(json.dumps(self))

    def __reduce__(self) -> Any:
        return (_rebuild, (dict(self), self._hidden_params, self._response_ms))


def _rebuild(body: dict, hidden: dict, ms: float | None) -> AnthropicMessagesResponse:
    return _response(body, hidden, ms)


def _response(body: dict, hidden: dict | None, ms: float | None) -> AnthropicMessagesResponse:
    r = AnthropicMessagesResponse(body)
    r._hidden_params = hidden if hidden is not None else {}
    r._response_ms = ms
    return r


def assemble_events(events: list[Any]) -> AnthropicMessagesResponse | None:
    """The whole message of a stream of Anthropic events: ``message_start``'s message,
    each block's deltas joined (tool input parsed from its JSON), ``message_delta``'s stop
    reason and usage."""
    message: dict[str, Any] | None = None
    blocks: dict[int, dict[str, Any]] = {}
    partial: dict[int, list[str]] = {}
    for e in events:
        kind = e.get("type") if isinstance(e, dict) else None
        if kind == "message_start":
            message = dict(e.get("message") or {})
            message["usage"] = dict(message.get("usage") or {})
        elif kind == "content_block_start":
            blocks[e["index"]] = dict(e.get("content_block") or {})
        elif kind == "content_block_delta":
            block = blocks.setdefault(e["index"], {})
            delta = e.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text_delta":
                block["text"] = block.get("text", "") + delta.get("text", "")
            elif dtype == "thinking_delta":
                block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
            elif dtype == "signature_delta":
                block["signature"] = block.get("signature", "") + delta.get("signature", "")
            elif dtype == "input_json_delta":
                partial.setdefault(e["index"], []).append(delta.get("partial_json", ""))
        elif kind == "message_delta" and message is not None:
            message.update(e.get("delta") or {})
            message["usage"].update(e.get("usage") or {})
    if message is None:
        return None
    for index, parts in partial.items():
        text = "".join(parts)
        try:
            blocks[index]["input"] = json.loads(text) if text else {}
        except ValueError:
            blocks[index]["input"] = {"arguments": text}
    message["content"] = [blocks[i] for i in sorted(blocks)]
    return _response(message, None, None)


def _cost(message: dict[str, Any], hidden: dict[str, Any]) -> float | None:
    """A streamed message's cost, from its usage (as chat streams are priced from their
    usage chunk)."""
    usage = message.get("usage")
    if not isinstance(usage, dict):
        return None
    from rustllm.catalogue import cost_per_token

    for model in (message.get("model"), hidden.get("litellm_model_name")):
        if not model:
            continue
        try:
            prompt, completion = cost_per_token(
                model=model,
                prompt_tokens=usage.get("input_tokens") or 0,
                completion_tokens=usage.get("output_tokens") or 0,
                custom_llm_provider=hidden.get("custom_llm_provider"),
            )
        except Exception:  # noqa: BLE001 - an unpriced model has no cost, as for chat
            continue
        return prompt + completion
    return None


class AnthropicMessagesStream:
    """The stream ``anthropic_messages(..., stream=True)`` returns: ``for`` or ``async
    for`` yields Anthropic's event dicts (``message_start``, ``content_block_start``,
    ``content_block_delta``, ``content_block_stop``, ``message_delta``, ``message_stop``)
    whichever call opened it. ``completed_message`` is the whole message once the stream
    ended (``_hidden_params["response_cost"]`` on it). An error mid-stream is raised as the
    mapped exception. ``close()`` / ``aclose()`` stop the request."""

    # rustllm._hooks: this stream calls its `_observer` itself.
    _reports_to_observer = True

    def __init__(self, handle: Any, model: str | None, hidden_params: dict[str, Any]) -> None:
        self._handle = handle
        self._buffer: deque = deque()
        self._done = False
        self._observer: Any = None
        self._events: list[dict[str, Any]] = []
        self.model = model
        self._hidden_params = hidden_params
        self.completed_message: AnthropicMessagesResponse | None = None

    def __repr__(self) -> str:
        return f"<rustllm.AnthropicMessagesStream model={self.model!r}>"

    def _take(self) -> dict[str, Any]:
        event = self._buffer.popleft()
        self._events.append(event)
        if event.get("type") == "message_stop":
            message = assemble_events(self._events)
            if message is not None:
                message._hidden_params = dict(self._hidden_params)
                message._hidden_params["response_cost"] = _cost(message, self._hidden_params)
            self.completed_message = message
        if self._observer is not None:
            self._observer.chunk(event)
        return event

    def _end(self) -> None:
        self._done = True
        if self._observer is not None:
            self._observer.finished()

    def _raise(self, err: BaseException) -> None:
        from rustllm.exceptions import _from_core

        mapped = _from_core(err)
        self._done = True
        if self._observer is not None:
            self._observer.failed(mapped)
        raise mapped from None

    def __iter__(self) -> AnthropicMessagesStream:
        return self

    def __next__(self) -> dict[str, Any]:
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
        return self._take()

    def __aiter__(self) -> AnthropicMessagesStream:
        return self

    async def __anext__(self) -> dict[str, Any]:
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
        return self._take()

    def close(self) -> None:
        """Stop the stream and release its connection."""
        self._done = True
        self._buffer.clear()
        self._handle.close()

    async def aclose(self) -> None:
        """The async twin of :meth:`close`."""
        self.close()

    def __enter__(self) -> AnthropicMessagesStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> AnthropicMessagesStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


def _prepare(params: dict[str, Any]) -> Any:
    """Settings and argument shaping; returns a finished reply for a dict mock."""
    r = _rustllm()
    if params.get("model") is None:
        raise ValueError("model param not passed in.")
    r._apply_settings(params)
    if params.get("timeout") is not None:
        params["timeout"] = r._timeout_seconds(params["timeout"])
    mock = params.get("mock_response")
    if mock is None or isinstance(mock, str):
        return None
    if isinstance(mock, BaseException):
        r._raise(r._MockFailure(mock, params), params)
    if isinstance(mock, dict):
        return _response(dict(mock), {}, 0.0)
    params["mock_response"] = str(mock)
    return None


def anthropic_messages_core(params: dict[str, Any]) -> AnthropicMessagesResponse | AnthropicMessagesStream:
    """The call itself; :func:`anthropic_messages` adds callbacks around it."""
    r = _rustllm()
    mocked = _prepare(params)
    if mocked is not None:
        return mocked
    try:
        if params.get("stream"):
            handle, hidden = _core.anthropic_messages_stream(params)
            return AnthropicMessagesStream(handle, params["model"], hidden)
        body, hidden, ms = _core.anthropic_messages(params)
    except _RustLLMError as err:
        r._raise(err, params)
    return _response(body, hidden, ms)


async def aanthropic_messages_core(
    params: dict[str, Any],
) -> AnthropicMessagesResponse | AnthropicMessagesStream:
    """The async twin of :func:`anthropic_messages_core`."""
    r = _rustllm()
    mocked = _prepare(params)
    if mocked is not None:
        return mocked
    try:
        if params.get("stream"):
            handle, hidden = await r._submit(_core.aanthropic_messages_submit, params)
            return AnthropicMessagesStream(handle, params["model"], hidden)
        body, hidden, ms = await r._submit(_core.aanthropic_messages_submit, params)
    except _RustLLMError as err:
        r._raise(err, params)
    return _response(body, hidden, ms)


def _collect(local_vars: dict[str, Any]) -> dict[str, Any]:
    extra = local_vars.pop("kwargs")
    params = {k: v for k, v in local_vars.items() if v is not None}
    if extra:
        params.update(extra)
    return params


def anthropic_messages(
    max_tokens: int | None = None,
    messages: list[dict] | None = None,
    model: str | None = None,
    metadata: dict | None = None,
    stop_sequences: list[str] | None = None,
    stream: bool | None = False,
    system: str | list[dict] | None = None,
    temperature: float | None = None,
    thinking: dict | None = None,
    tool_choice: dict | None = None,
    tools: list[dict] | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    api_key: str | None = None,
    api_base: str | None = None,
    custom_llm_provider: str | None = None,
    **kwargs: Any,
) -> AnthropicMessagesResponse | AnthropicMessagesStream:
    """Anthropic's Messages API through any provider, with LiteLLM's signature.

    The request is Anthropic's: ``messages`` with content blocks (``text``, ``image``,
    ``tool_use``, ``tool_result``), ``system`` as a string or text blocks, ``max_tokens``,
    ``tools``, ``tool_choice``, ``thinking``, ``stop_sequences``, ... Anthropic and Vertex
    AI's Claude get it as it is; every other provider is reached over chat completions
    and answers the same way. Returns an :class:`AnthropicMessagesResponse` (a dict), or
    with ``stream=True`` an :class:`AnthropicMessagesStream` of Anthropic's event dicts
    (``for`` and ``async for``). ``_hidden_params["response_cost"]`` is the call's cost.
    Raises LiteLLM's exception classes; bad input is refused before any request is sent.
    """
    params = _collect(locals())
    r = _rustllm()
    if r._observed(params):
        from rustllm import _hooks

        return _hooks.call("anthropic_messages", params, anthropic_messages_core)
    return anthropic_messages_core(params)


async def aanthropic_messages(
    max_tokens: int | None = None,
    messages: list[dict] | None = None,
    model: str | None = None,
    metadata: dict | None = None,
    stop_sequences: list[str] | None = None,
    stream: bool | None = False,
    system: str | list[dict] | None = None,
    temperature: float | None = None,
    thinking: dict | None = None,
    tool_choice: dict | None = None,
    tools: list[dict] | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    api_key: str | None = None,
    api_base: str | None = None,
    custom_llm_provider: str | None = None,
    **kwargs: Any,
) -> AnthropicMessagesResponse | AnthropicMessagesStream:
    """The async twin of :func:`anthropic_messages` (LiteLLM's ``anthropic.messages.acreate``);
    its stream serves ``async for`` and ``for``."""
    params = _collect(locals())
    r = _rustllm()
    if r._observed(params):
        from rustllm import _hooks

        return await _hooks.acall("anthropic_messages", params, aanthropic_messages_core)
    return await aanthropic_messages_core(params)


__all__ = [
    "AnthropicMessagesResponse",
    "AnthropicMessagesStream",
    "aanthropic_messages",
    "anthropic_messages",
    "assemble_events",
]
