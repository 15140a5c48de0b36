"""``text_completion`` / ``atext_completion``: LiteLLM's legacy completions API.

As in LiteLLM, a model that speaks OpenAI's ``/completions`` endpoint gets
``POST {base}/completions`` with ``prompt`` (``text-completion-openai/...``, and any
``openai/`` model the catalogue does not list as a chat model, e.g. ``gpt-3.5-turbo-instruct``
or a model on your own server); a chat model (``gpt-4o``, ``anthropic/...``, ``groq/...``)
gets the prompt as one user message and its reply converted. Either way the result is a
``TextCompletionResponse`` (``choices[0].text``), or with ``stream=True`` a
``TextCompletionStreamWrapper`` of ``TextCompletionResponse`` chunks.
"""

from __future__ import annotations

import sys
from collections import deque
from typing import TYPE_CHECKING, Any, Literal, overload

from rustllm import _core
from rustllm.types.utils import TextCompletionResponse, Usage

_RustLLMError = _core.RustLLMError
# Completions-only parameters a chat model has no use for.
_TEXT_ONLY = ("best_of", "echo", "suffix")


def _rustllm() -> Any:
    return sys.modules["rustllm"]


def _raise(err: BaseException) -> None:
    from rustllm.exceptions import _from_core

    raise _from_core(err) from None


def _uses_chat(params: dict[str, Any]) -> bool:
    """LiteLLM's choice: ``/completions`` for the OpenAI family unless the model is a
    catalogued OpenAI chat model; the chat endpoint for every other provider. An OpenAI
    model bound for ``/completions`` becomes ``text-completion-openai/<model>``, as
    LiteLLM rewrites it (same endpoint and key; the catalogue prices it under that name).
    The rule is Rust's (``call::text_route``), shared with the proxy's ``/completions``."""
    chat, renamed = _core.text_route(
        params["model"], params.get("custom_llm_provider"), params.get("base_url") or params.get("api_base")
    )
    if renamed is not None:
        params["model"] = renamed
        params.pop("custom_llm_provider", None)
    return chat


def _text_body(body: dict[str, Any]) -> dict[str, Any]:
    """A chat-completion body (a mock, or a chat model's reply) in completions shape."""
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or "message" not in choices[0]:
        return body
    out = {k: v for k, v in body.items() if k != "choices"}
    out["object"] = "text_completion"
    out["choices"] = [
        {
            "text": (c.get("message") or {}).get("content") or "",
            "index": c.get("index", i),
            "logprobs": c.get("logprobs"),
            "finish_reason": c.get("finish_reason"),
        }
        for i, c in enumerate(choices)
    ]
    return out


def _chat_params(params: dict[str, Any], prompt: Any) -> dict[str, Any]:
    chat = {k: v for k, v in params.items() if k not in _TEXT_ONLY and k != "prompt"}
    chat["messages"] = [{"role": "user", "content": prompt}]
    logprobs = chat.pop("logprobs", None)
    if isinstance(logprobs, int) and not isinstance(logprobs, bool) and logprobs > 0:
        chat["logprobs"] = True
        chat["top_logprobs"] = logprobs
    elif logprobs:
        chat["logprobs"] = True
    return chat


def _prompts(params: dict[str, Any]) -> list[str]:
    prompt = params.get("prompt")
    if isinstance(prompt, str):
        return [prompt]
    if isinstance(prompt, (list, tuple)) and all(isinstance(p, str) for p in prompt):
        return list(prompt) or [""]
    from rustllm.exceptions import BadRequestError

    raise BadRequestError(
        message="A chat model takes a text prompt (a string or a list of strings), not token ids",
        model=params.get("model") or "",
        llm_provider="",
    )


def _merge(responses: list[Any]) -> TextCompletionResponse:
    """One response for several prompts sent as separate chat calls: choices numbered in
    prompt order, usage summed."""
    first = responses[0]
    choices = []
    prompt_tokens = completion_tokens = 0
    for r in responses:
        body = _text_body(r.model_dump())
        for c in body["choices"]:
            choices.append({**c, "index": len(choices)})
        prompt_tokens += r.usage.prompt_tokens or 0
        completion_tokens += r.usage.completion_tokens or 0
    body = _text_body(first.model_dump())
    body["choices"] = choices
    body["usage"] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    hidden = dict(first._hidden_params)
    costs = [r._hidden_params.get("response_cost") for r in responses]
    if all(c is not None for c in costs):
        hidden["response_cost"] = sum(costs)
    return TextCompletionResponse._from_openai(body, hidden, first._response_ms)


def _prepare(params: dict[str, Any]) -> bool:
    """Settings and checks; True when the call goes to the chat endpoint."""
    r = _rustllm()
    if params.get("model") is None:
        raise ValueError("model param not passed in.")
    if params.get("prompt") is None and params.get("messages"):
        # LiteLLM accepts messages= here: the last user message is the prompt.
        content = [m.get("content") for m in params.pop("messages") if isinstance(m, dict)]
        params["prompt"] = content[-1] if content else ""
    r._apply_settings(params)
    if params.get("timeout") is not None:
        params["timeout"] = r._timeout_seconds(params["timeout"])
    mock = params.get("mock_response")
    if mock is not None and not isinstance(mock, str):
        params["mock_response"] = str(mock)
    return _uses_chat(params)


def text_completion_core(params: dict[str, Any]) -> Any:
    """The call itself (settings applied here); the public function adds the hooks."""
    r = _rustllm()
    chat = _prepare(params)
    model = params["model"]
    if chat:
        prompts = _prompts(params)
        if params.get("stream"):
            if len(prompts) > 1:
                raise ValueError("stream=True takes one prompt")
            inner = r._completion(_chat_params(params, prompts[0]))
            return TextCompletionStreamWrapper(None, model, inner._hidden_params, inner=inner)
        return _merge([r._completion(_chat_params(params, p)) for p in prompts])
    try:
        if params.get("stream"):
            handle, hidden = _core.text_completion_stream(params)
            return TextCompletionStreamWrapper(handle, model, hidden)
        body, hidden, ms = _core.text_completion(params)
    except _RustLLMError as err:
        _raise(err)
    return TextCompletionResponse._from_openai(_text_body(body), hidden, ms)


async def atext_completion_core(params: dict[str, Any]) -> Any:
    """The async twin of :func:`text_completion_core`."""
    r = _rustllm()
    chat = _prepare(params)
    model = params["model"]
    if chat:
        prompts = _prompts(params)
        if params.get("stream"):
            if len(prompts) > 1:
                raise ValueError("stream=True takes one prompt")
            inner = await r._acompletion(_chat_params(params, prompts[0]))
            return TextCompletionStreamWrapper(None, model, inner._hidden_params, inner=inner)
        import asyncio

        replies = await asyncio.gather(*(r._acompletion(_chat_params(params, p)) for p in prompts))
        return _merge(list(replies))
    from rustllm._bridge import submit

    try:
        if params.get("stream"):
            handle, hidden = await submit(_core.atext_completion_submit, params)
            return TextCompletionStreamWrapper(handle, model, hidden)
        body, hidden, ms = await submit(_core.atext_completion_submit, params)
    except _RustLLMError as err:
        _raise(err)
    return TextCompletionResponse._from_openai(_text_body(body), hidden, ms)


# ---------------------------------------------------------------------------------------
# Streams.
# ---------------------------------------------------------------------------------------
def _text_chunk(chunk: Any) -> dict[str, Any]:
    """A chunk dict in completions shape: `text` choices (from `delta.content` for a chat
    stream's chunks)."""
    if not isinstance(chunk, dict):
        usage = getattr(chunk, "usage", None)
        d = {
            "id": chunk.id,
            "created": chunk.created,
            "model": chunk.model,
            "choices": [
                {
                    "text": getattr(c.delta, "content", None) or "",
                    "index": c.index,
                    "logprobs": None,
                    "finish_reason": c.finish_reason,
                }
                for c in chunk.choices
            ],
        }
        if usage is not None:
            d["usage"] = usage.model_dump() if hasattr(usage, "model_dump") else usage
        return d
    choices = []
    for c in chunk.get("choices") or []:
        if "text" in c:
            choices.append(c)
        else:
            delta = c.get("delta") or {}
            choices.append(
                {
                    "text": delta.get("content") or "",
                    "index": c.get("index", 0),
                    "logprobs": c.get("logprobs"),
                    "finish_reason": c.get("finish_reason"),
                }
            )
    out = {k: v for k, v in chunk.items() if k != "choices"}
    out["object"] = "text_completion"
    out["choices"] = choices
    return out


class TextCompletionStreamWrapper:
    """The stream ``text_completion(..., stream=True)`` returns: ``for`` or ``async for``
    yields ``TextCompletionResponse`` chunks whose ``choices[0].text`` is the new text.
    ``close()`` / ``aclose()`` stop the request."""

    def __init__(self, handle: Any, model: str | None, hidden_params: dict[str, Any], inner: Any = None) -> None:
        self._handle = handle
        self._inner = inner
        self._buffer: deque = deque()
        self._done = False
        self._observer: Any = None
        self.model = model
        self.custom_llm_provider = hidden_params.get("custom_llm_provider")
        self._hidden_params = hidden_params

    def __repr__(self) -> str:
        return f"<rustllm.TextCompletionStreamWrapper model={self.model!r}>"

    def _wrap(self, raw: Any) -> TextCompletionResponse:
        chunk = TextCompletionResponse._from_openai(_text_chunk(raw), self._hidden_params)
        if self._observer is not None:
            self._observer.chunk(chunk)
        return chunk

    def _end(self) -> None:
        self._done = True
        if self._observer is not None:
            self._observer.finished()

    def _fail(self, err: BaseException) -> None:
        self._done = True
        if self._observer is not None:
            self._observer.failed(err)

    def __iter__(self) -> TextCompletionStreamWrapper:
        return self

    def __next__(self) -> TextCompletionResponse:
        if self._inner is not None:
            try:
                return self._wrap(next(self._inner))
            except StopIteration:
                self._end()
                raise
            except Exception as e:
                self._fail(e)
                raise
        if not self._buffer:
            if self._done:
                raise StopIteration
            try:
                batch = self._handle.next_batch()
            except _RustLLMError as err:
                self._fail(err)
                _raise(err)
            if batch is None:
                self._end()
                raise StopIteration
            self._buffer.extend(batch)
        return self._wrap(self._buffer.popleft())

    def __aiter__(self) -> TextCompletionStreamWrapper:
        return self

    async def __anext__(self) -> TextCompletionResponse:
        if self._inner is not None:
            try:
                return self._wrap(await self._inner.__anext__())
            except StopAsyncIteration:
                self._end()
                raise
            except Exception as e:
                self._fail(e)
                raise
        if not self._buffer:
            if self._done:
                raise StopAsyncIteration
            try:
                batch = self._handle.try_batch()
                if batch is not None and not batch:
                    from rustllm._bridge import submit

                    batch = await submit(self._handle.next_batch_submit)
            except _RustLLMError as err:
                self._fail(err)
                _raise(err)
            if batch is None:
                self._end()
                raise StopAsyncIteration
            self._buffer.extend(batch)
        return self._wrap(self._buffer.popleft())

    def close(self) -> None:
        """Stop the stream and release its connection."""
        self._done = True
        self._buffer.clear()
        if self._inner is not None:
            self._inner.close()
        else:
            self._handle.close()

    async def aclose(self) -> None:
        self.close()

    def __enter__(self) -> TextCompletionStreamWrapper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> TextCompletionStreamWrapper:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


def assemble_text_chunks(chunks: list[Any]) -> TextCompletionResponse | None:
    """The whole ``TextCompletionResponse`` from a text stream's chunks: texts joined
    per choice index, the last finish reason, the stream's usage (or a word-free count
    of zero when it sent none)."""
    if not chunks:
        return None
    texts: dict[int, list[str]] = {}
    finish: dict[int, Any] = {}
    usage = None
    for chunk in chunks:
        for c in chunk.choices:
            texts.setdefault(c.index, []).append(c.text or "")
            if c.finish_reason:
                finish[c.index] = c.finish_reason
        u = getattr(chunk, "usage", None)
        if u is not None and (u.total_tokens or u.prompt_tokens or u.completion_tokens):
            usage = u
    first = chunks[0]
    choices = [
        {"text": "".join(parts), "index": i, "logprobs": None, "finish_reason": finish.get(i, "stop")}
        for i, parts in sorted(texts.items())
    ]
    body = {
        "id": first.id,
        "object": "text_completion",
        "created": first.created,
        "model": first.model,
        "choices": choices,
        "usage": usage.model_dump() if usage is not None else Usage().model_dump(),
    }
    return TextCompletionResponse._from_openai(body, dict(first._hidden_params))


def stream_chunk_builder_text_completion(chunks: list, messages: list | None = None) -> TextCompletionResponse | None:
    """LiteLLM's ``stream_chunk_builder_text_completion``: the whole
    ``TextCompletionResponse`` from the chunks of ``text_completion(..., stream=True)``
    (response objects or their dicts). Texts are joined per choice with each choice's
    last finish reason; usage is the stream's own when it sent one, else counted (the
    prompt from ``messages``, the completion from the joined text), as LiteLLM counts it.
    Returns None for an empty list."""
    chunks = [TextCompletionResponse(**c) if isinstance(c, dict) else c for c in chunks or ()]
    response = assemble_text_chunks(chunks)
    if response is None:
        return None
    usage = response.usage
    if not (usage.total_tokens or usage.prompt_tokens or usage.completion_tokens):
        count = _rustllm().token_counter
        model = response.model or ""
        prompt_tokens = count(model=model, messages=messages) if messages else 0
        text = "".join(c.text or "" for c in response.choices)
        completion_tokens = count(model=model, text=text) if text else 0
        response.usage = Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )
    return response


# ---------------------------------------------------------------------------------------
# The public functions.
# ---------------------------------------------------------------------------------------
def _observed(r: Any, params: dict[str, Any]) -> bool:
    return bool(
        r.input_callback
        or r.success_callback
        or r.failure_callback
        or (r.callbacks and not r._only_quiet_guardrails(r.callbacks))
        or r._async_success_callback
        or r._async_failure_callback
        or r._async_input_callback
        or r.cache is not None
        or r.set_verbose
        or r._log_calls
        or "callbacks" in params
        or "success_callback" in params
        or "failure_callback" in params
        or "guardrails" in params
    )


def _text_params(local_vars: dict[str, Any]) -> dict[str, Any]:
    local_vars.pop("args", None)
    extra = local_vars.pop("kwargs")
    params = {"model": local_vars.pop("model"), "prompt": local_vars.pop("prompt")}
    params.update(local_vars)
    if extra:
        params.update(extra)
    return params


# What type checkers see: a TextCompletionResponse without `stream=True`, a
# TextCompletionStreamWrapper with it, either when `stream` is a bool known only at run time.
if TYPE_CHECKING:

    @overload
    def text_completion(
        prompt: Any = None,
        model: str | None = None,
        best_of: int | None = None,
        echo: bool | None = None,
        frequency_penalty: float | None = None,
        logit_bias: dict | None = None,
        logprobs: int | None = None,
        max_tokens: int | None = None,
        n: int | None = None,
        presence_penalty: float | None = None,
        stop: Any = None,
        stream: Literal[False] | None = None,
        stream_options: dict | None = None,
        suffix: str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        user: str | None = None,
        api_base: str | None = None,
        api_version: str | None = None,
        api_key: str | None = None,
        model_list: list | None = None,
        custom_llm_provider: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> TextCompletionResponse: ...
    @overload
    def text_completion(
        prompt: Any = None,
        model: str | None = None,
        best_of: int | None = None,
        echo: bool | None = None,
        frequency_penalty: float | None = None,
        logit_bias: dict | None = None,
        logprobs: int | None = None,
        max_tokens: int | None = None,
        n: int | None = None,
        presence_penalty: float | None = None,
        stop: Any = None,
        *args: Any,
        stream: Literal[True],
        stream_options: dict | None = None,
        suffix: str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        user: str | None = None,
        api_base: str | None = None,
        api_version: str | None = None,
        api_key: str | None = None,
        model_list: list | None = None,
        custom_llm_provider: str | None = None,
        **kwargs: Any,
    ) -> TextCompletionStreamWrapper: ...
    @overload
    def text_completion(
        prompt: Any = None,
        model: str | None = None,
        best_of: int | None = None,
        echo: bool | None = None,
        frequency_penalty: float | None = None,
        logit_bias: dict | None = None,
        logprobs: int | None = None,
        max_tokens: int | None = None,
        n: int | None = None,
        presence_penalty: float | None = None,
        stop: Any = None,
        stream: bool | None = None,
        stream_options: dict | None = None,
        suffix: str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        user: str | None = None,
        api_base: str | None = None,
        api_version: str | None = None,
        api_key: str | None = None,
        model_list: list | None = None,
        custom_llm_provider: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> TextCompletionResponse | TextCompletionStreamWrapper: ...


def text_completion(
    prompt: Any = None,
    model: str | None = None,
    best_of: int | None = None,
    echo: bool | None = None,
    frequency_penalty: float | None = None,
    logit_bias: dict | None = None,
    logprobs: int | None = None,
    max_tokens: int | None = None,
    n: int | None = None,
    presence_penalty: float | None = None,
    stop: Any = None,
    stream: bool | None = None,
    stream_options: dict | None = None,
    suffix: str | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    user: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    api_key: str | None = None,
    model_list: list | None = None,
    custom_llm_provider: str | None = None,
    *args: Any,
    **kwargs: Any,
) -> TextCompletionResponse | TextCompletionStreamWrapper:
    """LiteLLM's ``text_completion``: a prompt (a string, a list of strings, or token
    lists) in, a :class:`TextCompletionResponse` out (``choices[0].text``).

    ``POST {base}/completions`` for models that speak it (``text-completion-openai/``,
    ``openai/`` models that are not catalogued chat models, e.g. on your own server); a
    chat model gets the prompt as one user message. Every completions parameter is passed
    through, as are unknown keyword arguments; connection keywords, retries, timeouts,
    mocks and callbacks work as in :func:`rustllm.completion`. ``stream=True`` returns a
    :class:`TextCompletionStreamWrapper`.
    """
    params = _text_params(locals())
    r = _rustllm()
    if _observed(r, params):
        from rustllm import _hooks

        return _hooks.call("text_completion", params, text_completion_core)
    return text_completion_core(params)


# The async twins of text_completion's overloads.
if TYPE_CHECKING:

    @overload
    async def atext_completion(
        prompt: Any = None,
        model: str | None = None,
        best_of: int | None = None,
        echo: bool | None = None,
        frequency_penalty: float | None = None,
        logit_bias: dict | None = None,
        logprobs: int | None = None,
        max_tokens: int | None = None,
        n: int | None = None,
        presence_penalty: float | None = None,
        stop: Any = None,
        stream: Literal[False] | None = None,
        stream_options: dict | None = None,
        suffix: str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        user: str | None = None,
        api_base: str | None = None,
        api_version: str | None = None,
        api_key: str | None = None,
        model_list: list | None = None,
        custom_llm_provider: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> TextCompletionResponse: ...
    @overload
    async def atext_completion(
        prompt: Any = None,
        model: str | None = None,
        best_of: int | None = None,
        echo: bool | None = None,
        frequency_penalty: float | None = None,
        logit_bias: dict | None = None,
        logprobs: int | None = None,
        max_tokens: int | None = None,
        n: int | None = None,
        presence_penalty: float | None = None,
        stop: Any = None,
        *args: Any,
        stream: Literal[True],
        stream_options: dict | None = None,
        suffix: str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        user: str | None = None,
        api_base: str | None = None,
        api_version: str | None = None,
        api_key: str | None = None,
        model_list: list | None = None,
        custom_llm_provider: str | None = None,
        **kwargs: Any,
    ) -> TextCompletionStreamWrapper: ...
    @overload
    async def atext_completion(
        prompt: Any = None,
        model: str | None = None,
        best_of: int | None = None,
        echo: bool | None = None,
        frequency_penalty: float | None = None,
        logit_bias: dict | None = None,
        logprobs: int | None = None,
        max_tokens: int | None = None,
        n: int | None = None,
        presence_penalty: float | None = None,
        stop: Any = None,
        stream: bool | None = None,
        stream_options: dict | None = None,
        suffix: str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        user: str | None = None,
        api_base: str | None = None,
        api_version: str | None = None,
        api_key: str | None = None,
        model_list: list | None = None,
        custom_llm_provider: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> TextCompletionResponse | TextCompletionStreamWrapper: ...


async def atext_completion(
    prompt: Any = None,
    model: str | None = None,
    best_of: int | None = None,
    echo: bool | None = None,
    frequency_penalty: float | None = None,
    logit_bias: dict | None = None,
    logprobs: int | None = None,
    max_tokens: int | None = None,
    n: int | None = None,
    presence_penalty: float | None = None,
    stop: Any = None,
    stream: bool | None = None,
    stream_options: dict | None = None,
    suffix: str | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    user: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    api_key: str | None = None,
    model_list: list | None = None,
    custom_llm_provider: str | None = None,
    *args: Any,
    **kwargs: Any,
) -> TextCompletionResponse | TextCompletionStreamWrapper:
    """The async twin of :func:`text_completion`."""
    params = _text_params(locals())
    r = _rustllm()
    if _observed(r, params):
        from rustllm import _hooks

        return await _hooks.acall("atext_completion", params, atext_completion_core)
    return await atext_completion_core(params)
