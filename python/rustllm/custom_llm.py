"""Custom providers: LiteLLM's ``CustomLLM`` handlers, registered with
``rustllm.custom_provider_map = [{"provider": "my-custom-llm", "custom_handler": h}]``.

A call for ``model="my-custom-llm/my-model"`` (or ``custom_llm_provider="my-custom-llm"``)
is served by the handler's ``completion`` / ``acompletion`` / ``streaming`` /
``astreaming`` / ``embedding`` / ``aembedding``, with LiteLLM's arguments. The result is
the same object a provider call returns (``ModelResponse``, ``CustomStreamWrapper`` over
``ModelResponseStream`` chunks built from the handler's ``GenericStreamingChunk`` dicts,
``EmbeddingResponse``), and callbacks see the call. As in LiteLLM, an exception of
LiteLLM's classes raised by a handler reaches the caller as it is; any other exception
becomes ``APIConnectionError`` (status 500) with the handler's message, chained to it.

Through the Router, a deployment whose ``litellm_params.model`` has a registered prefix
is called by the Rust Router through :func:`_routed` (see ``src/py/custom.rs``): the
Router's selection, retries, cooldowns and fallbacks apply to it as to any deployment.
Handlers are Python, so these calls are Python; calls to other providers never come here
(an empty ``custom_provider_map`` costs one truth test per call).
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from rustllm.types.utils import EmbeddingResponse, ModelResponse


class CustomLLMError(Exception):
    """The exception LiteLLM suggests handlers raise: ``CustomLLMError(status_code, message)``.

    As in LiteLLM, it reaches the caller as ``APIConnectionError`` (status 500) whatever
    its ``status_code``; raise ``rustllm.RateLimitError`` etc. for a specific class."""

    def __init__(self, status_code: int, message: str) -> None:
        self.status_code = status_code
        self.message = message
        super().__init__(message)


def _not_implemented() -> CustomLLMError:
    return CustomLLMError(status_code=500, message="Not implemented yet!")


class CustomLLM:
    """Base class of a custom provider handler. Override the methods your provider
    serves; the others raise ``CustomLLMError("Not implemented yet!")``.

    ``completion``/``acompletion`` return a ``ModelResponse``; ``streaming`` yields and
    ``astreaming`` async-yields ``GenericStreamingChunk`` dicts (``text``,
    ``is_finished``, ``finish_reason``, ``usage``, optional ``index`` and ``tool_use``);
    ``embedding``/``aembedding`` fill and return the ``model_response`` they are given.
    Each receives LiteLLM's keyword arguments (``model`` without the provider prefix,
    ``messages``, ``optional_params``, ``api_key``, ``api_base``, ``timeout``, ...).
    """

    def __init__(self) -> None:
        pass

    def completion(self, *args: Any, **kwargs: Any) -> Any:
        raise _not_implemented()

    def streaming(self, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        raise _not_implemented()

    async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
        raise _not_implemented()

    async def astreaming(self, *args: Any, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        raise _not_implemented()

    def image_generation(self, *args: Any, **kwargs: Any) -> Any:
        raise _not_implemented()

    async def aimage_generation(self, *args: Any, **kwargs: Any) -> Any:
        raise _not_implemented()

    def embedding(self, *args: Any, **kwargs: Any) -> EmbeddingResponse:
        raise _not_implemented()

    async def aembedding(self, *args: Any, **kwargs: Any) -> EmbeddingResponse:
        raise _not_implemented()


def custom_chat_llm_router(async_fn: bool, stream: bool | None, custom_llm: CustomLLM) -> Any:
    """The handler method serving a chat call (LiteLLM's helper of the same name)."""
    if async_fn:
        return custom_llm.astreaming if stream else custom_llm.acompletion
    return custom_llm.streaming if stream else custom_llm.completion


# ---------------------------------------------------------------------------------------
# Finding the handler.
# ---------------------------------------------------------------------------------------
def _rustllm() -> Any:
    return sys.modules["rustllm"]


def _handler(provider: str) -> Any:
    for item in _rustllm().custom_provider_map:
        if isinstance(item, dict) and item.get("provider") == provider:
            return item.get("custom_handler")
    return None


def handler_for(params: dict[str, Any]) -> tuple[Any, str, str] | None:
    """``(handler, provider, model without prefix)`` when a registered custom provider
    serves this call, else None."""
    model = params.get("model")
    if not isinstance(model, str):
        return None
    provider = params.get("custom_llm_provider")
    if provider:
        handler = _handler(provider)
        if handler is None:
            return None
        prefix = provider + "/"
        return handler, provider, model[len(prefix) :] if model.startswith(prefix) else model
    prefix, slash, rest = model.partition("/")
    if not slash:
        return None
    handler = _handler(prefix)
    return None if handler is None else (handler, prefix, rest)


def providers() -> list[str]:
    """The registered custom provider names (what ``_custom_providers`` holds in LiteLLM)."""
    return [
        item["provider"] for item in _rustllm().custom_provider_map if isinstance(item, dict) and "provider" in item
    ]


# ---------------------------------------------------------------------------------------
# Calling it.
# ---------------------------------------------------------------------------------------
# Call arguments that are LiteLLM's own, not the provider's `optional_params`.
_LITELLM_KEYS = frozenset(
    {
        "model",
        "messages",
        "input",
        "stream",
        "api_key",
        "api_base",
        "base_url",
        "api_version",
        "timeout",
        "request_timeout",
        "stream_timeout",
        "headers",
        "extra_headers",
        "custom_llm_provider",
        "metadata",
        "num_retries",
        "max_retries",
        "caching",
        "cache",
        "client",
        "litellm_call_id",
        "litellm_logging_obj",
        "logger_fn",
        "model_info",
        "drop_params",
        "callbacks",
        "success_callback",
        "failure_callback",
        "mock_response",
        "fallbacks",
        "disable_fallbacks",
    }
)


class _Logging:
    """Stands in for LiteLLM's ``logging_obj`` (handlers sometimes call these)."""

    def pre_call(self, *args: Any, **kwargs: Any) -> None:
        pass

    def post_call(self, *args: Any, **kwargs: Any) -> None:
        pass


def _print_verbose(*args: Any, **kwargs: Any) -> None:
    pass


def _litellm_params(params: dict[str, Any], provider: str) -> dict[str, Any]:
    return {
        "api_key": params.get("api_key"),
        "api_base": params.get("api_base") or params.get("base_url"),
        "custom_llm_provider": provider,
        "metadata": params.get("metadata") or {},
        "model_info": params.get("model_info"),
        "litellm_call_id": params.get("litellm_call_id"),
    }


def _chat_kwargs(params: dict[str, Any], provider: str, model: str, is_async: bool) -> dict[str, Any]:
    return {
        "model": model,
        "messages": params.get("messages") or [],
        "api_base": params.get("api_base") or params.get("base_url"),
        "custom_prompt_dict": {},
        "model_response": ModelResponse(),
        "print_verbose": _print_verbose,
        "encoding": None,
        "api_key": params.get("api_key"),
        "logging_obj": _Logging(),
        "optional_params": {k: v for k, v in params.items() if k not in _LITELLM_KEYS},
        "acompletion": is_async,
        "litellm_params": _litellm_params(params, provider),
        "logger_fn": None,
        "headers": params.get("headers") or params.get("extra_headers"),
        "timeout": params.get("timeout") or 600.0,
        "client": params.get("client"),
    }


def _embedding_kwargs(params: dict[str, Any], provider: str, model: str) -> dict[str, Any]:
    value = params.get("input")
    return {
        "model": model,
        "input": [value] if isinstance(value, str) else value,
        "logging_obj": _Logging(),
        "api_base": params.get("api_base") or params.get("base_url"),
        "api_key": params.get("api_key"),
        "timeout": params.get("timeout") or 600.0,
        "optional_params": {k: v for k, v in params.items() if k not in _LITELLM_KEYS},
        "model_response": EmbeddingResponse(),
        "print_verbose": _print_verbose,
        "litellm_params": _litellm_params(params, provider),
    }


def _is_litellm_error(exc: BaseException) -> bool:
    from rustllm import exceptions

    return isinstance(exc, tuple(exceptions.LITELLM_EXCEPTION_TYPES))


def _mapped(exc: BaseException, provider: str, model: str) -> BaseException:
    """What the caller sees for an exception a handler raised (LiteLLM's mapping)."""
    if _is_litellm_error(exc):
        return exc
    from types import SimpleNamespace

    from rustllm.exceptions import _from_core

    return _from_core(
        SimpleNamespace(
            kind="APIConnectionError",
            message=str(exc),
            status_code=500,
            llm_provider=provider,
            model=model,
            body=None,
            headers={},
            num_retries=None,
            max_retries=None,
        )
    )


def _response(result: Any, provider: str) -> Any:
    if isinstance(result, dict):
        result = ModelResponse(**result)
    hidden = getattr(result, "_hidden_params", None)
    if isinstance(hidden, dict):
        hidden.setdefault("custom_llm_provider", provider)
    return result


def completion(params: dict[str, Any], found: tuple[Any, str, str]) -> Any:
    """A sync chat call served by a custom handler."""
    handler, provider, model = found
    kwargs = _chat_kwargs(params, provider, model, is_async=False)
    stream = bool(params.get("stream"))
    try:
        result = (handler.streaming if stream else handler.completion)(**kwargs)
    except Exception as e:
        raise _mapped(e, provider, model) from e
    if stream:
        return _stream(result, params, provider, model)
    return _response(result, provider)


async def acompletion(params: dict[str, Any], found: tuple[Any, str, str]) -> Any:
    """An async chat call served by a custom handler."""
    handler, provider, model = found
    kwargs = _chat_kwargs(params, provider, model, is_async=True)
    stream = bool(params.get("stream"))
    try:
        if stream:
            result = handler.astreaming(**kwargs)
            if hasattr(result, "__await__"):  # an `async def` returning an iterator
                result = await result
            return _stream(result, params, provider, model)
        result = handler.acompletion(**kwargs)
        if hasattr(result, "__await__"):
            result = await result
    except Exception as e:
        raise _mapped(e, provider, model) from e
    return _response(result, provider)


def embedding(params: dict[str, Any], found: tuple[Any, str, str]) -> EmbeddingResponse:
    """A sync embedding call served by a custom handler."""
    handler, provider, model = found
    try:
        result = handler.embedding(**_embedding_kwargs(params, provider, model))
    except Exception as e:
        raise _mapped(e, provider, model) from e
    return _embedding_response(result, provider)


async def aembedding(params: dict[str, Any], found: tuple[Any, str, str]) -> EmbeddingResponse:
    """An async embedding call served by a custom handler."""
    handler, provider, model = found
    try:
        result = handler.aembedding(**_embedding_kwargs(params, provider, model))
        if hasattr(result, "__await__"):
            result = await result
    except Exception as e:
        raise _mapped(e, provider, model) from e
    return _embedding_response(result, provider)


def _embedding_response(result: Any, provider: str) -> Any:
    if isinstance(result, dict):
        result = EmbeddingResponse(**result)
    hidden = getattr(result, "_hidden_params", None)
    if isinstance(hidden, dict):
        hidden["custom_llm_provider"] = provider
    return result


# ---------------------------------------------------------------------------------------
# Streams: GenericStreamingChunk dicts → OpenAI chunks behind CustomStreamWrapper.
# ---------------------------------------------------------------------------------------
class _ChunkBuilder:
    """Turns the handler's ``GenericStreamingChunk`` dicts into ``chat.completion.chunk``
    dicts, as LiteLLM's stream wrapper does: the text as content (role on the first),
    ``tool_use`` as a tool call, the finish reason on a closing chunk of its own (usage
    on it when ``stream_options.include_usage`` asks), nothing after ``is_finished``."""

    def __init__(self, model: str, include_usage: bool) -> None:
        self.id = f"chatcmpl-{uuid.uuid4()}"
        self.created = int(time.time())
        self.model = model
        self.include_usage = include_usage
        self.sent_role = False
        self.finished = False

    def _chunk(self, index: int, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
        }

    def add(self, g: Any) -> list[dict[str, Any]]:
        if self.finished:
            return []
        if not isinstance(g, dict):
            raise TypeError(f"a custom stream must yield GenericStreamingChunk dicts, got {type(g).__name__}")
        out = []
        index = g.get("index") or 0
        text = g.get("text") or ""
        tool = g.get("tool_use")
        if text or tool is not None:
            delta: dict[str, Any] = {"content": text or None}
            if not self.sent_role:
                delta["role"] = "assistant"
                self.sent_role = True
            if tool is not None:
                delta["tool_calls"] = [{"index": 0, **tool} if "index" not in tool else tool]
            out.append(self._chunk(index, delta, None))
        if g.get("is_finished"):
            out.append(self._close(index, g.get("finish_reason") or "stop", g.get("usage")))
        return out

    def _close(self, index: int, finish: str, usage: Any) -> dict[str, Any]:
        self.finished = True
        last = self._chunk(index, {}, finish)
        if usage is not None and self.include_usage:
            last["usage"] = dict(usage)
        return last

    def end(self) -> list[dict[str, Any]]:
        return [] if self.finished else [self._close(0, "stop", None)]


class _CustomStreamHandle:
    """A handler's sync or async iterator behind the interface ``CustomStreamWrapper``
    reads (``next_batch``, ``try_batch``, ``next_batch_submit``, ``close``)."""

    def __init__(self, source: Any, builder: _ChunkBuilder, provider: str, model: str) -> None:
        self._is_async = hasattr(source, "__anext__")
        self._source = source if self._is_async else iter(source)
        self._builder = builder
        self._provider = provider
        self._model = model
        self._ended = False

    @property
    def closed(self) -> bool:
        return self._ended

    def _finish(self) -> list | None:
        self._ended = True
        return self._builder.end() or None

    def next_batch(self) -> list | None:
        if self._ended:
            return None
        if self._is_async:
            raise TypeError("this custom stream comes from the handler's astreaming(): iterate it with `async for`")
        while True:
            try:
                g = next(self._source)
            except StopIteration:
                return self._finish()
            except Exception as e:
                self._ended = True
                raise _mapped(e, self._provider, self._model) from e
            batch = self._add(g)
            if batch or self._ended:
                return batch or None

    def _add(self, g: Any) -> list:
        """The chunks one ``GenericStreamingChunk`` makes; the stream ends with its finish."""
        batch = self._builder.add(g)
        if self._builder.finished:
            self._ended = True
        return batch

    def try_batch(self) -> list | None:
        # An async source must be awaited: [] sends the wrapper to next_batch_submit.
        return [] if self._is_async and not self._ended else self.next_batch()

    async def _anext_batch(self) -> list | None:
        while not self._ended:
            try:
                g = await self._source.__anext__()
            except StopAsyncIteration:
                return self._finish()
            except Exception as e:
                self._ended = True
                raise _mapped(e, self._provider, self._model) from e
            batch = self._add(g)
            if batch:
                return batch
        return None

    def next_batch_submit(self, waker: Any, future: Any) -> bool:
        if not self._is_async:
            try:
                future.set_result(self.next_batch())
            except Exception as e:  # noqa: BLE001 - delivered to the awaiting caller
                future.set_exception(e)
            return False
        import asyncio

        task = asyncio.ensure_future(self._anext_batch())

        def deliver(t: Any) -> None:
            if future.done():
                return
            if t.cancelled():
                future.cancel()
            elif t.exception() is not None:
                future.set_exception(t.exception())
            else:
                future.set_result(t.result())

        task.add_done_callback(deliver)
        return False

    def close(self) -> None:
        if self._ended:
            return
        self._ended = True
        close = getattr(self._source, "close", None)
        if callable(close):
            close()


def _stream(source: Any, params: dict[str, Any], provider: str, model: str) -> Any:
    from rustllm.streaming import CustomStreamWrapper

    options = params.get("stream_options") or {}
    builder = _ChunkBuilder(model, bool(options.get("include_usage")))
    handle = _CustomStreamHandle(source, builder, provider, model)
    hidden = {"custom_llm_provider": provider, "api_base": params.get("api_base")}
    return CustomStreamWrapper(handle, model, hidden, params.get("messages"))


# ---------------------------------------------------------------------------------------
# For the Rust Router (src/py/custom.rs).
# ---------------------------------------------------------------------------------------
def _body(response: Any) -> dict[str, Any]:
    dump = getattr(response, "model_dump", None)
    body = dump() if callable(dump) else dict(response)
    return body


def _routed(kind: str, params: dict[str, Any]) -> Any:
    """One try of a sync Router call on a custom deployment: the reply body as a dict, or
    for a stream the handle a ``CustomStreamWrapper`` reads."""
    found = handler_for(params)
    if found is None:
        raise ValueError(f"no custom provider serves model={params.get('model')!r}")
    if kind == "embedding":
        return _body(embedding(params, found))
    result = completion(params, found)
    return result._handle if params.get("stream") else _body(result)


async def _arouted(kind: str, params: dict[str, Any]) -> Any:
    """:func:`_routed` for an async Router call; runs on the caller's event loop."""
    found = handler_for(params)
    if found is None:
        raise ValueError(f"no custom provider serves model={params.get('model')!r}")
    if kind == "embedding":
        return _body(await aembedding(params, found))
    result = await acompletion(params, found)
    return result._handle if params.get("stream") else _body(result)


_KIND_NAMES = frozenset(
    {
        "BadRequestError",
        "ContextWindowExceededError",
        "ContentPolicyViolationError",
        "UnsupportedParamsError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "UnprocessableEntityError",
        "Timeout",
        "RateLimitError",
        "InternalServerError",
        "ServiceUnavailableError",
        "BadGatewayError",
        "APIError",
        "APIConnectionError",
    }
)


def _error_fields(exc: BaseException, other_kind: str) -> tuple[str, int, str, str, str]:
    """``(kind, status, message, provider, model)`` of an exception raised by a custom
    handler or routing strategy, for the Rust Router's error (src/py/custom.rs).
    LiteLLM's classes keep their kind; others become ``other_kind``."""
    kind = other_kind
    if _is_litellm_error(exc):
        for cls in type(exc).__mro__:
            if cls.__name__ in _KIND_NAMES:
                kind = cls.__name__
                break
    elif isinstance(exc, ValueError):
        kind = "ValueError"
    status = getattr(exc, "status_code", None)
    if kind == other_kind or not isinstance(status, int):
        status = 500
    message = getattr(exc, "message", None)
    if not isinstance(message, str):
        message = str(exc)
    prefix = f"litellm.{kind}: "
    if message.startswith(prefix):
        message = message[len(prefix) :]
    return kind, status, message, str(getattr(exc, "llm_provider", "") or ""), str(getattr(exc, "model", "") or "")
