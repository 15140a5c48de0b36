"""Streaming: LiteLLM's ``CustomStreamWrapper`` and ``stream_chunk_builder``.

One stream object serves ``for`` and ``async for``, whichever of ``completion`` or
``acompletion`` opened it. Chunks are read by a task on rustllm's Rust runtime and handed
over in batches: an ``__anext__`` that finds chunks already buffered returns without
touching the event loop; only an empty buffer waits on a real future.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from rustllm import _core
from rustllm.types.utils import (
    ChatCompletionMessageToolCall,
    Choices,
    Delta,
    Function,
    FunctionCall,
    Message,
    ModelResponse,
    ModelResponseStream,
    StreamingChoices,
    TextChoices,
    TextCompletionResponse,
    Usage,
)

_RustLLMError = _core.RustLLMError
_from_openai = ModelResponseStream._from_openai


def _raise(err: BaseException) -> None:
    from rustllm.exceptions import _from_core

    raise _from_core(err) from None


class _StreamHiddenParams(dict):
    """A stream's ``_hidden_params``: the dict LiteLLM shows, one object shared by every
    chunk of the stream, which also remembers the request's messages so that
    :func:`stream_chunk_builder` can count the prompt when it is given none.

    The messages are an attribute, not an item: they stay out of the repr, of JSON dumps
    and of ``dict(...)`` copies. Pickling or deep-copying gives a plain dict (a chunk
    stored and loaded elsewhere does not drag the whole prompt with it), as a chunk built
    by hand has: its prompt counts 0, as in LiteLLM, unless ``messages`` are passed.
    """

    __slots__ = ("_messages", "_prompt_tokens")

    def __init__(self, hidden_params: dict[str, Any], messages: list | tuple) -> None:
        super().__init__(hidden_params)
        # A copy of the list: a reply appended to the caller's list afterwards is not
        # part of this request's prompt.
        self._messages = list(messages)
        self._prompt_tokens: tuple[str, int] | None = None

    def prompt_tokens(self, model: str) -> int:
        """The request's prompt tokens, as ``token_counter(model, messages=...)``
        counts them (counted once per model)."""
        counted = self._prompt_tokens
        if counted is None or counted[0] != model:
            counted = (model, _count_tokens(model, messages=self._messages) if self._messages else 0)
            self._prompt_tokens = counted
        return counted[1]

    def __reduce__(self) -> Any:
        return (dict, (dict(self),))


class CustomStreamWrapper:
    """The stream returned by ``completion(..., stream=True)`` and ``acompletion(...)``.

    Iterate it with ``for`` or ``async for`` (either works, whichever call created it);
    each item is a :class:`ModelResponseStream`. An error from the provider mid-stream is
    raised from the iterator as the matching LiteLLM exception, never a silent
    truncation. Breaking out early is fine; ``close()``/``aclose()`` (or leaving a
    ``with`` block, or dropping the object) stops the request and frees the connection.

    ``messages`` are the request's: :func:`stream_chunk_builder` counts them as the
    prompt when the chunks carry no usage and it is not given ``messages`` itself.
    """

    def __init__(
        self, handle: Any, model: str | None, hidden_params: dict[str, Any], messages: list | None = None
    ) -> None:
        self._handle = handle
        self._buffer: deque = deque()
        self._done = False
        self.model = model
        self.custom_llm_provider = hidden_params.get("custom_llm_provider")
        if isinstance(messages, (list, tuple)):
            # Every chunk shares this one object: the prompt costs nothing per chunk.
            hidden_params = _StreamHiddenParams(hidden_params, messages)
        self._hidden_params = hidden_params
        # Common chunks are then built as response objects in Rust: no dict in between.
        # (Replayed cache hits use a Python handle, which hands over dicts.)
        use_types = getattr(handle, "use_types", None)
        if use_types is not None:
            use_types(ModelResponseStream, StreamingChoices, Delta, hidden_params)

    def __repr__(self) -> str:
        state = "closed" if self._done else "open"
        return f"<rustllm.CustomStreamWrapper model={self.model!r} provider={self.custom_llm_provider!r} {state}>"

    # -- sync -------------------------------------------------------------------------
    def __iter__(self) -> CustomStreamWrapper:
        return self

    def __next__(self) -> ModelResponseStream:
        buffer = self._buffer
        if not buffer:
            if self._done:
                raise StopIteration
            try:
                batch = self._handle.next_batch()
            except _RustLLMError as err:
                self._done = True
                _raise(err)
            if batch is None:
                self._done = True
                raise StopIteration
            buffer.extend(batch)
        item = buffer.popleft()
        return _from_openai(item, self._hidden_params) if type(item) is dict else item

    def close(self) -> None:
        """Stop the stream and release its connection. Safe to call more than once."""
        self._done = True
        self._buffer.clear()
        self._handle.close()

    def __enter__(self) -> CustomStreamWrapper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- async ------------------------------------------------------------------------
    def __aiter__(self) -> CustomStreamWrapper:
        return self

    async def __anext__(self) -> ModelResponseStream:
        buffer = self._buffer
        if not buffer:
            if self._done:
                raise StopAsyncIteration
            try:
                # Chunks already here cost no event-loop round trip.
                batch = self._handle.try_batch()
                if batch is not None and not batch:
                    batch = await self._next_batch()
            except _RustLLMError as err:
                self._done = True
                _raise(err)
            except BaseException:
                # Cancelled while waiting (a cancelled task, a timeout): the stream is
                # abandoned, as an async generator would be, so its request is stopped
                # now rather than whenever the garbage collector finds this object.
                self.close()
                raise
            if batch is None:
                self._done = True
                raise StopAsyncIteration
            buffer.extend(batch)
        item = buffer.popleft()
        return _from_openai(item, self._hidden_params) if type(item) is dict else item

    def _next_batch(self) -> Any:
        from rustllm._bridge import submit

        return submit(self._handle.next_batch_submit)

    async def aclose(self) -> None:
        """Async twin of :meth:`close`."""
        self.close()

    async def __aenter__(self) -> CustomStreamWrapper:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


def _chunk_error() -> BaseException:
    from rustllm.exceptions import APIError

    return APIError(
        status_code=500,
        message="Error building chunks for logging/streaming usage calculation",
        llm_provider="",
        model="",
    )


def _count_tokens(model: str, text: str | None = None, messages: list | None = None) -> int:
    from rustllm import token_counter

    return token_counter(model=model or "", text=text, messages=messages)


def stream_chunk_builder(
    chunks: list,
    messages: list | None = None,
    start_time: Any = None,
    end_time: Any = None,
    logging_obj: Any = None,
) -> ModelResponse | TextCompletionResponse | None:
    """Rebuild the full :class:`ModelResponse` from streamed chunks, in linear time.

    Content is joined; tool calls are merged by ``index`` (the last non-empty id, name and
    type of each, arguments concatenated); ``finish_reason`` is the last one sent; usage is
    the stream's own when it sent one, else counted: the completion from the text, the
    prompt from ``messages``, or without them from the messages of the request that
    streamed the chunks (``completion``, ``acompletion``, a Router; LiteLLM counts 0
    there), so ``completion_cost`` of the result is right. Chunks built by hand have no
    request behind them: their prompt counts 0 unless ``messages`` are given, as in
    LiteLLM. Content streamed before tool calls is kept (LiteLLM drops it).
    Reasoning is joined into ``reasoning_content``; the thinking text of
    ``thinking_blocks`` deltas is joined into one block with the last signature sent (a
    block without a signature cannot be sent back, and is dropped, as in LiteLLM), and
    redacted blocks are kept whole. Chunks of ``text_completion(stream=True)`` give a
    ``TextCompletionResponse``. Returns ``None`` for an empty list.
    """
    if chunks is None:
        raise _chunk_error()
    if not chunks:
        return None
    if _is_text_completion(chunks[0]):
        from rustllm._text import stream_chunk_builder_text_completion

        return stream_chunk_builder_text_completion(chunks, messages)
    try:
        return _build(chunks, messages)
    except Exception as exc:
        err = _chunk_error()
        raise err from exc


def _is_text_completion(chunk: Any) -> bool:
    # As LiteLLM: chunks of text_completion(stream=True) have `text` choices.
    choices = chunk.get("choices") if isinstance(chunk, dict) else getattr(chunk, "choices", None)
    return bool(choices) and isinstance(choices[0], TextChoices)


def _build(chunks: list, messages: list | None) -> ModelResponse:
    # One pass in Rust over the chunk objects (about 0.3 µs a chunk).
    parts = _core.assemble_chunks(chunks if type(chunks) is list else list(chunks))
    first = chunks[0]
    if isinstance(first, dict):  # plain dict chunks (as stored or sent by frameworks)
        first = ModelResponseStream(**{k: v for k, v in first.items() if k != "choices"})
    content = parts["content"]
    message_kwargs: dict[str, Any] = {"content": content, "role": parts["role"] or "assistant"}
    calls = parts["tool_calls"]
    if calls:
        message_kwargs["tool_calls"] = [
            ChatCompletionMessageToolCall(id=call_id, type=call_type, function=Function(name=name, arguments=args))
            for call_id, call_type, name, args in calls
        ]
        if not content:
            message_kwargs["content"] = None
    function_call = parts["function_call"]
    if function_call is not None:
        message_kwargs["function_call"] = FunctionCall(name=function_call[0], arguments=function_call[1])
    if parts["reasoning_content"] is not None:
        message_kwargs["reasoning_content"] = parts["reasoning_content"]
    if parts["thinking_blocks"]:
        message_kwargs["thinking_blocks"] = parts["thinking_blocks"]

    usage = parts["usage"]
    if isinstance(usage, dict):
        usage = Usage(**usage)
    if usage is None:
        model = first.model or ""
        if messages is not None:
            prompt_tokens = _count_tokens(model, messages=messages) if messages else 0
        else:
            # The request's messages, kept by the stream the chunks came from.
            hidden = getattr(first, "_hidden_params", None)
            prompt_tokens = hidden.prompt_tokens(model) if type(hidden) is _StreamHiddenParams else 0
        completion_text = parts["completion_text"]
        completion_tokens = _count_tokens(model, text=completion_text) if completion_text else 0
        usage = Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )
    response = ModelResponse(
        id=parts["id"] or first.id,
        created=first.created,
        model=first.model,
        object="chat.completion",
        system_fingerprint=first.system_fingerprint,
        choices=[Choices(finish_reason=parts["finish_reason"] or "stop", index=0, message=Message(**message_kwargs))],
        usage=usage,
    )
    response._hidden_params = dict(first._hidden_params)
    return response
