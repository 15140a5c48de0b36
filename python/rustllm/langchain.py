"""LangChain chat models and embeddings on rustllm: ``ChatRustLLM``, ``ChatRustLLMRouter``
and ``RustLLMEmbeddings``. Install with ``pip install rustllm[langchain]``.

    from rustllm.langchain import ChatRustLLM

    llm = ChatRustLLM(model="openai/gpt-4o-mini", temperature=0)
    llm.invoke("Hello!")

``ChatRustLLM`` takes ``langchain_litellm.ChatLiteLLM``'s constructor fields and checks,
gives its ``response_metadata`` keys, stream chunks and retry methods, so swapping the
import is enough, and fixes what ChatLiteLLM gets wrong: async is native (no thread
pool), ``timeout=`` and ``stop=`` are honoured, ``HumanMessage(name=...)`` is sent,
``response_metadata["model_name"]`` follows a per-call ``model=``,
``response_metadata["token_usage"]`` is JSON-serialisable, ``with_structured_output``
reports its schema to callbacks, ``n > 1`` never merges choices, and the LLM-cache key
covers every parameter that changes the output.

Importing this module imports ``langchain_core``; ``import rustllm`` does not.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
import warnings
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any, Callable, Literal, get_args

try:
    from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput
    from langchain_core.language_models.chat_models import agenerate_from_stream, generate_from_stream
    from langchain_core.language_models.llms import create_base_retry_decorator
    from langchain_core.messages import (
        AIMessage,
        AIMessageChunk,
        BaseMessage,
        ChatMessage,
        FunctionMessage,
        HumanMessage,
        InvalidToolCall,
        SystemMessage,
        ToolCall,
        ToolMessage,
    )
    from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
    from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
    from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
    from langchain_core.output_parsers.openai_tools import JsonOutputKeyToolsParser, PydanticToolsParser
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
    from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
    from langchain_core.tools import BaseTool
    from langchain_core.utils.function_calling import convert_to_openai_function, convert_to_openai_tool
    from langchain_core.utils.pydantic import is_basemodel_subclass
    from langchain_core.utils.utils import _build_model_kwargs, get_pydantic_field_names, secret_from_env
except ImportError as exc:
    # Without the extra, say what to install rather than name a module the user never
    # asked for. Any other failed import (inside langchain-core) is not ours to explain.
    if not (exc.name or "").startswith("langchain_core"):
        raise
    _install = 'pip install "rustllm[langchain]"'
    if sys.version_info < (3, 10):
        _needs = (
            f"langchain-core 1.x, which needs Python 3.10 or later (this is Python {sys.version.split()[0]}, "
            f"where {_install} installs nothing)"
        )
    elif exc.name == "langchain_core":
        _needs = "langchain-core, which is not installed"
    else:  # an older langchain-core without a name this module uses
        _needs = f"langchain-core>=1.6,<2 ({exc})"
    raise ModuleNotFoundError(
        f"rustllm.langchain needs {_needs}. Run: {_install} (on Python 3.10+)", name=exc.name
    ) from exc
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

import rustllm

__all__ = ["ChatRustLLM", "ChatRustLLMRouter", "RustLLMEmbeddings"]

#: ``response_metadata["model_provider"]`` and ``ls_provider``: always equal, so
#: LangChain's token accounting (e.g. SummarizationMiddleware) pairs them up.
PROVIDER = "rustllm"

# ChatLiteLLM's per-provider key fields, chosen by the provider the model resolves to.
_PROVIDER_KEY_FIELDS = {
    "openai": "openai_api_key",
    "azure": "azure_api_key",
    "azure_ai": "azure_api_key",
    "anthropic": "anthropic_api_key",
    "replicate": "replicate_api_key",
    "cohere": "cohere_api_key",
    "cohere_chat": "cohere_api_key",
    "openrouter": "openrouter_api_key",
    "huggingface": "huggingface_api_key",
    "together_ai": "together_ai_api_key",
}
# The environment variable each per-provider key field shows when not passed: the one
# rustllm reads first for that provider.
_KEY_FIELD_ENV = {
    "openai_api_key": "OPENAI_API_KEY",
    "azure_api_key": "AZURE_API_KEY",
    "anthropic_api_key": "ANTHROPIC_API_KEY",
    "replicate_api_key": "REPLICATE_API_KEY",
    "cohere_api_key": "COHERE_API_KEY",
    "openrouter_api_key": "OPENROUTER_API_KEY",
    "huggingface_api_key": "HUGGINGFACE_API_KEY",
    "together_ai_api_key": "TOGETHERAI_API_KEY",
}
# Endpoint spellings ChatLiteLLM refuses with a warning (rather than sending them on).
_IGNORED_ENDPOINT_NAMES = ("proxy_base_url", "openai_api_base")

# Content blocks that describe the model's own output (tool calls, reasoning) and are
# carried elsewhere in the OpenAI format; never sent back as content parts.
_DROPPED_BLOCKS = frozenset(
    {
        "tool_use",
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_result",
        "thinking",
        "redacted_thinking",
        "reasoning",
        "non_standard",
    }
)
_DATA_BLOCKS = frozenset({"image", "audio", "file", "video"})


# ---------------------------------------------------------------------------------------
# LangChain messages -> OpenAI chat dicts
# ---------------------------------------------------------------------------------------
def _env_key(field: str) -> Callable[[], SecretStr | None]:
    """The default of a per-provider key field: its environment variable, if set."""
    return secret_from_env(_KEY_FIELD_ENV[field], default=None)


def _content_part(block: Any) -> dict[str, Any] | None:
    """One LangChain content block as an OpenAI content part (None to drop it)."""
    if isinstance(block, str):
        return {"type": "text", "text": block}
    if not isinstance(block, dict):
        return None
    kind = block.get("type")
    if kind in _DROPPED_BLOCKS:
        return None
    if kind == "text":
        part: dict[str, Any] = {"type": "text", "text": block.get("text", "")}
        if "cache_control" in block:
            part["cache_control"] = block["cache_control"]
        return part
    source = block.get("source")
    if kind == "image" and isinstance(source, dict) and source.get("type") in ("base64", "url"):
        # Anthropic's image block, in OpenAI's format (as langchain-openai converts it).
        if source["type"] == "url":
            url = source.get("url", "")
        else:
            url = f"data:{source.get('media_type', 'image/png')};base64,{source.get('data', '')}"
        return {"type": "image_url", "image_url": {"url": url}}
    if kind in _DATA_BLOCKS and not isinstance(block.get("file"), dict):
        # LangChain's standard data blocks (base64 / url / id); OpenAI-native
        # {"type": "file", "file": {...}} parts pass through unchanged below.
        from langchain_core.messages.block_translators.openai import convert_to_openai_data_block

        return convert_to_openai_data_block(block)
    return block


def _content(content: Any) -> Any:
    if isinstance(content, str):
        return content
    parts = [p for p in (_content_part(b) for b in content or []) if p is not None]
    return parts or ""


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(
        b if isinstance(b, str) else b.get("text", "")
        for b in content or []
        if isinstance(b, str) or (isinstance(b, dict) and b.get("type") == "text")
    )


def _tool_call_dict(call: ToolCall | InvalidToolCall, *, invalid: bool = False) -> dict[str, Any]:
    args = call.get("args")
    arguments = args if invalid and isinstance(args, str) else json.dumps(args or {}, ensure_ascii=False)
    return {"id": call.get("id"), "type": "function", "function": {"name": call.get("name"), "arguments": arguments}}


def _message_dict(message: BaseMessage, provider: str | None) -> dict[str, Any]:
    """A LangChain message as an OpenAI chat message. ``name`` is sent for every role
    (ChatLiteLLM drops ``HumanMessage(name=...)``)."""
    if isinstance(message, HumanMessage):
        out: dict[str, Any] = {"role": "user", "content": _content(message.content)}
    elif isinstance(message, AIMessage):
        out = {"role": "assistant"}
        calls = [_tool_call_dict(c) for c in message.tool_calls]
        calls += [_tool_call_dict(c, invalid=True) for c in message.invalid_tool_calls]
        if not calls and message.additional_kwargs.get("tool_calls"):
            calls = message.additional_kwargs["tool_calls"]
        content = _content(message.content)
        if calls:
            out["tool_calls"] = calls
            # OpenAI's convention: no text next to tool calls is `null`, not "".
            content = content or None
        out["content"] = content
        function_call = message.additional_kwargs.get("function_call")
        if function_call:
            out["function_call"] = function_call
        # Signed thinking blocks only mean something to the provider that signed them.
        thinking = message.additional_kwargs.get("thinking_blocks")
        if thinking and provider == "anthropic":
            out["thinking_blocks"] = thinking
    elif isinstance(message, SystemMessage):
        role = message.additional_kwargs.get("__openai_role__", "system")
        out = {"role": role, "content": _content(message.content)}
    elif isinstance(message, ToolMessage):
        content = message.content if isinstance(message.content, str) else _content(message.content)
        if not isinstance(content, str) and all(p.get("type") == "text" for p in content):
            content = _text_of(content)
        out = {"role": "tool", "tool_call_id": message.tool_call_id, "content": content}
    elif isinstance(message, FunctionMessage):
        out = {"role": "function", "name": message.name, "content": _text_of(message.content)}
    elif isinstance(message, ChatMessage):
        out = {"role": message.role, "content": _content(message.content)}
    else:
        raise ValueError(f"ChatRustLLM cannot send a message of type {type(message).__name__}")
    name = message.name or message.additional_kwargs.get("name")
    if name and "name" not in out:
        out["name"] = name
    return out


# ---------------------------------------------------------------------------------------
# OpenAI replies -> LangChain messages
# ---------------------------------------------------------------------------------------
def _dump(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)
    return dump() if callable(dump) else obj


def _parse_tool_calls(raw: list[dict[str, Any]]) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for item in raw:
        function = item.get("function") or {}
        name, arguments = function.get("name") or "", function.get("arguments")
        try:
            args = json.loads(arguments) if arguments else {}
        except (TypeError, ValueError) as exc:
            invalid.append(invalid_tool_call(name=name, args=arguments, id=item.get("id"), error=str(exc)))
            continue
        if not isinstance(args, dict):
            invalid.append(
                invalid_tool_call(name=name, args=arguments, id=item.get("id"), error="arguments are not an object")
            )
            continue
        calls.append(tool_call(name=name, args=args, id=item.get("id")))
    return calls, invalid


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _usage_metadata(usage: Any) -> UsageMetadata | None:
    """LangChain usage from an OpenAI ``usage`` (cache reads/writes and reasoning
    tokens included when the provider reports them)."""
    usage = _dump(usage)
    if not isinstance(usage, Mapping):
        return None
    input_tokens = _int(usage.get("prompt_tokens")) or 0
    output_tokens = _int(usage.get("completion_tokens")) or 0
    total = _int(usage.get("total_tokens"))
    meta = UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=total if total is not None else input_tokens + output_tokens,
    )
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    cache_read = _int(usage.get("cache_read_input_tokens"))
    if cache_read is None:
        cache_read = _int(prompt_details.get("cached_tokens"))
    cache_creation = _int(usage.get("cache_creation_input_tokens"))
    if cache_creation is None:
        cache_creation = _int(prompt_details.get("cache_creation_tokens"))
    input_details = {
        k: v
        for k, v in (
            ("cache_read", cache_read),
            ("cache_creation", cache_creation),
            ("audio", _int(prompt_details.get("audio_tokens"))),
        )
        if v is not None
    }
    output_details = {
        k: v
        for k, v in (
            ("reasoning", _int(completion_details.get("reasoning_tokens"))),
            ("audio", _int(completion_details.get("audio_tokens"))),
        )
        if v is not None
    }
    if input_details:
        meta["input_token_details"] = InputTokenDetails(**input_details)
    if output_details:
        meta["output_token_details"] = OutputTokenDetails(**output_details)
    return meta


class TokenUsage(dict):
    """``response_metadata["token_usage"]``: the provider's ``usage`` with the keys of
    LiteLLM's ``Usage`` (what ChatLiteLLM puts there), read as LiteLLM's object is read
    (``usage["total_tokens"]``, ``usage.get(...)``, ``usage.total_tokens``,
    ``usage.prompt_tokens_details.cached_tokens``), but a plain ``dict`` underneath, so
    ``json.dumps(message.response_metadata)`` works."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def model_dump(self) -> dict[str, Any]:
        """A plain copy, nested details included (as ``Usage.model_dump()``)."""
        return json.loads(json.dumps(self))


def _add_usage(total: dict[str, Any], usage: Mapping[str, Any]) -> None:
    """Add one reply's token usage into ``total``, details included (None adds nothing)."""
    for key, value in usage.items():
        if isinstance(value, Mapping):
            if not isinstance(total.get(key), dict):
                total[key] = TokenUsage()
            _add_usage(total[key], value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            total[key] = (total.get(key) or 0) + value
        else:
            total.setdefault(key, value)


def _token_usage(usage: Any) -> TokenUsage | None:
    usage = _dump(usage)
    if not isinstance(usage, Mapping):
        return None
    return TokenUsage({k: TokenUsage(v) if isinstance(v, Mapping) else v for k, v in usage.items()})


def _extra_kwargs(message: Mapping[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for key in ("function_call", "reasoning_content", "thinking_blocks", "refusal", "annotations", "audio"):
        value = message.get(key)
        if value:
            extra[key] = value
    return extra


# ---------------------------------------------------------------------------------------
# Streaming
# ---------------------------------------------------------------------------------------
def _response_cost(obj: Any) -> Any:
    """What a reply cost, where rustllm records it: ``_hidden_params``, else ``usage.cost``."""
    cost = (getattr(obj, "_hidden_params", None) or {}).get("response_cost")
    if cost is None:
        cost = _dump(getattr(obj, "usage", None) or {}).get("cost")
    return cost


def _stream_cost(chunk: Any) -> Any:
    """What a stream cost, priced from the chunk that carries its usage (rustllm leaves
    a chunk's cost unset; LiteLLM stamps ``usage.cost``). None for a model the
    catalogue cannot price, as LiteLLM gives none."""
    cost = _response_cost(chunk)
    if cost is None:
        try:
            cost = rustllm.completion_cost(completion_response=chunk)
        except Exception:  # noqa: BLE001 - unpriced: no response_cost, as in ChatLiteLLM
            return None
    return cost


class _StreamState:
    """Turns rustllm stream chunks into LangChain chunks laid out as ChatLiteLLM lays
    them out: ``model_name`` and ``model_provider`` (and, through a Router,
    ``model_id``) on the first chunk, ``finish_reason`` on the chunk that ends the
    choice, and the usage with ``response_cost`` on a chunk of its own, once."""

    def __init__(self, model_name: str, model_id: bool = False) -> None:
        self.model_name = model_name
        self.model_id = model_id
        self.started = False
        self.usage_chunk: Any = None
        self.usage_sent = False

    def feed(self, chunk: Any) -> list[ChatGenerationChunk]:
        """The LangChain chunks for one rustllm chunk (none, one, or one plus usage)."""
        out: list[ChatGenerationChunk] = []
        if not self.usage_sent and getattr(chunk, "usage", None) is not None:
            # The last report wins; it is sent once, on a chunk of its own.
            self.usage_chunk = chunk
        choices = chunk.choices
        if choices:
            generation = self._delta(chunk, choices[0])
            if generation is not None:
                out.append(generation)
        elif self.usage_chunk is not None and not self.usage_sent:
            # OpenAI's usage chunk (``choices: []``), after the finish chunk.
            out.append(self.flush())
        return out

    def _delta(self, chunk: Any, choice: Any) -> ChatGenerationChunk | None:
        delta = choice.delta
        content = delta.content or ""
        extra: dict[str, Any] = {}
        reasoning = getattr(delta, "reasoning_content", None)
        if reasoning:
            extra["reasoning_content"] = reasoning
        thinking = getattr(delta, "thinking_blocks", None)
        if thinking:
            extra["thinking_blocks"] = thinking
        if delta.function_call is not None:
            extra["function_call"] = {k: v for k, v in _dump(delta.function_call).items() if v is not None}
        calls = [
            tool_call_chunk(
                name=tc.function.name if tc.function is not None else None,
                args=tc.function.arguments if tc.function is not None else None,
                id=tc.id,
                index=tc.index,
            )
            for tc in delta.tool_calls or []
        ]
        metadata: dict[str, Any] = {}
        if not self.started:
            metadata = self._first_metadata(chunk)
        if choice.finish_reason:
            metadata["finish_reason"] = choice.finish_reason
        logprobs = getattr(choice, "logprobs", None)
        if logprobs is not None:
            # Per chunk: LangChain concatenates the token lists when chunks are added.
            metadata["logprobs"] = _dump(logprobs)
        if self.started and not (content or calls or extra or metadata):
            return None
        self.started = True
        message = AIMessageChunk(
            content=content,
            additional_kwargs=extra,
            tool_call_chunks=calls,
            response_metadata=metadata,
            id=chunk.id,
        )
        return ChatGenerationChunk(message=message)

    def _first_metadata(self, chunk: Any) -> dict[str, Any]:
        metadata: dict[str, Any] = {"model_name": self.model_name, "model_provider": PROVIDER}
        if self.model_id:
            model_id = (getattr(chunk, "_hidden_params", None) or {}).get("model_id")
            if model_id is not None:
                metadata["model_id"] = model_id
        fingerprint = getattr(chunk, "system_fingerprint", None)
        if fingerprint:
            metadata["system_fingerprint"] = fingerprint
        return metadata

    def flush(self) -> ChatGenerationChunk:
        """The usage chunk: ``usage_metadata`` and ``response_cost``, sent once."""
        metadata: dict[str, Any] = {}
        if not self.started:
            metadata = {"model_name": self.model_name, "model_provider": PROVIDER}
            self.started = True
        usage = None
        if self.usage_chunk is not None:
            usage = _usage_metadata(self.usage_chunk.usage)
            cost = _stream_cost(self.usage_chunk)
            if cost is not None:
                metadata["response_cost"] = cost
        self.usage_sent = True
        message = AIMessageChunk(content="", usage_metadata=usage, response_metadata=metadata)
        return ChatGenerationChunk(message=message)

    def finish(self) -> list[ChatGenerationChunk]:
        """What is left when the stream ends: the usage, if no usage chunk carried it
        (providers that report usage on a content chunk), and the closing
        ``chunk_position="last"`` chunk."""
        out = [] if self.usage_sent or (self.usage_chunk is None and self.started) else [self.flush()]
        out.append(ChatGenerationChunk(message=AIMessageChunk(content="", chunk_position="last")))
        return out


# ---------------------------------------------------------------------------------------
# Structured output helpers
# ---------------------------------------------------------------------------------------
def _is_pydantic_class(schema: Any) -> bool:
    return isinstance(schema, type) and is_basemodel_subclass(schema)


def _response_format(schema: Any, strict: bool | None) -> dict[str, Any]:
    function = convert_to_openai_function(schema, strict=strict)
    json_schema: dict[str, Any] = {"name": function["name"], "schema": function["parameters"]}
    if function.get("description"):
        json_schema["description"] = function["description"]
    if strict is not None:
        json_schema["strict"] = strict
    return {"type": "json_schema", "json_schema": json_schema}


def _with_raw(llm: Runnable, parser: Runnable, include_raw: bool) -> Runnable:
    if not include_raw:
        return llm | parser
    parser_assign = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
    parser_none = RunnablePassthrough.assign(parsed=lambda _: None)
    parser_with_fallback = parser_assign.with_fallbacks([parser_none], exception_key="parsing_error")
    return RunnableMap(raw=llm) | parser_with_fallback


def _digest(value: Any) -> str:
    """A short fingerprint for cache keys: reflects a value without storing it."""
    raw = json.dumps(value, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


# ---------------------------------------------------------------------------------------
# ChatRustLLM
# ---------------------------------------------------------------------------------------
class ChatRustLLM(BaseChatModel):
    """A LangChain chat model on rustllm: every provider rustllm supports, one Rust call
    per request, native sync and async, streaming with tool-call chunks and usage.

    Fields mirror ``langchain_litellm.ChatLiteLLM`` (``model``, ``temperature``,
    ``max_tokens``, ``api_base``/``base_url``, ``api_key``, ``custom_llm_provider``,
    ``model_kwargs``, ``request_timeout``/``timeout``, ``max_retries``, ...), plus
    ``stop``/``stop_sequences`` and ``extra_body``. Unknown keyword arguments move into
    ``model_kwargs`` with a warning instead of vanishing.

    Per call, any completion argument can be passed or bound (``model=``, ``tools=``,
    ``response_format=``, ``stop=``, ...). ``response_metadata`` has ChatLiteLLM's keys:
    ``model_name`` and ``model`` (the model called, as given, a per-call ``model=``
    included), ``finish_reason``, ``logprobs``, ``token_usage`` (LiteLLM's ``Usage``
    keys, in a dict), ``response_cost``, and ``model_provider`` (``"rustllm"``, the
    same as ``_get_ls_params()["ls_provider"]``); plus ``system_fingerprint`` when the
    provider sends one.
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True, protected_namespaces=())

    model: str = "gpt-3.5-turbo"
    """The rustllm model string, e.g. ``"openai/gpt-4o-mini"`` or ``"anthropic/claude-…"``."""
    model_name: str | None = None
    """When set, wins over ``model`` (as in ChatLiteLLM)."""
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    n: int | None = None
    """Choices per request. ``generate()`` returns them all; streaming is refused with
    ``n > 1`` (invoke with ``streaming=True`` falls back to one non-streamed call)."""
    max_tokens: int | None = None
    num_ctx: int | None = None
    streaming: bool = False
    stream_options: dict[str, Any] | None = None
    """Sent when streaming; defaults to ``{"include_usage": True}``."""
    stop: list[str] | str | None = Field(default=None, alias="stop_sequences")
    api_base: str | None = Field(default=None, alias="base_url")
    api_key: SecretStr | None = Field(default=None, repr=False)
    """Generic key; wins over the per-provider keys below. None: rustllm reads the
    provider's environment variable (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ...)."""
    openai_api_key: SecretStr | None = Field(default_factory=_env_key("openai_api_key"), repr=False)
    """A key for the provider the model resolves to, sent when no ``api_key`` is set.
    Not passed, it shows the provider's environment variable (``OPENAI_API_KEY``,
    ``ANTHROPIC_API_KEY``, ...) at construction; such a key is not sent, rustllm reads
    the environment itself at call time, as LiteLLM does for ChatLiteLLM."""
    azure_api_key: SecretStr | None = Field(default_factory=_env_key("azure_api_key"), repr=False)
    anthropic_api_key: SecretStr | None = Field(default_factory=_env_key("anthropic_api_key"), repr=False)
    replicate_api_key: SecretStr | None = Field(default_factory=_env_key("replicate_api_key"), repr=False)
    cohere_api_key: SecretStr | None = Field(default_factory=_env_key("cohere_api_key"), repr=False)
    openrouter_api_key: SecretStr | None = Field(default_factory=_env_key("openrouter_api_key"), repr=False)
    huggingface_api_key: SecretStr | None = Field(default_factory=_env_key("huggingface_api_key"), repr=False)
    together_ai_api_key: SecretStr | None = Field(default_factory=_env_key("together_ai_api_key"), repr=False)
    organization: str | None = None
    custom_llm_provider: str | None = None
    base_model: str | None = None
    extra_headers: dict[str, str] | None = Field(default=None, repr=False)
    extra_body: dict[str, Any] | None = None
    request_timeout: float | tuple[float, float] | None = Field(default=None, alias="timeout")
    """Seconds (a ``(connect, read)`` pair uses the read timeout); default 600."""
    max_retries: int = 1
    """Attempts per call, as in ChatLiteLLM (default 1: no retry here). Above 1, a call
    that fails with ``Timeout``, ``RateLimitError``, ``APIConnectionError`` or
    ``APIError`` is tried again after 4 to 10 s, and each retry reaches the callbacks'
    ``on_retry``. rustllm's own retries (``num_retries=``, e.g. in ``model_kwargs``)
    are separate and happen in Rust."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Any other completion argument, merged last into every request."""
    use_responses_api: bool | None = None
    """Accepted for ChatLiteLLM compatibility; rustllm speaks Chat Completions only."""
    client: Any = Field(default=None, exclude=True, repr=False)
    """The ``rustllm`` module (ChatLiteLLM sets the ``litellm`` module here)."""

    # -- construction ------------------------------------------------------------------
    @model_validator(mode="before")
    @classmethod
    def validate_environment(cls, values: Any) -> Any:
        """ChatLiteLLM's constructor checks: an explicit ``None`` for a field that cannot
        be None leaves the default (and the field unset, so ``model_fields_set`` stays
        truthful); ``base_url`` fills ``api_base`` unless that is given;
        ``openai_api_base`` and ``proxy_base_url`` are refused with a warning;
        ``temperature`` in [0, 2], ``top_p`` in [0, 1], ``top_k`` > 0; ``client`` is the
        ``rustllm`` module. Then, beyond ChatLiteLLM (which drops them silently),
        unknown keyword arguments move to ``model_kwargs`` with a warning."""
        if not isinstance(values, dict):
            return values
        values = dict(values)
        for name in [key for key, value in values.items() if value is None]:
            field = cls.model_fields.get(name)
            if field is not None and not field.is_required() and type(None) not in get_args(field.annotation):
                del values[name]
        for name in _IGNORED_ENDPOINT_NAMES:
            if values.pop(name, None) is not None:
                warnings.warn(f"{cls.__name__} ignores {name!r}; pass the endpoint as 'api_base'.", stacklevel=2)
        base_url = values.pop("base_url", None)
        if base_url is not None and values.get("api_base") is None:
            values["api_base"] = base_url
        values.setdefault("client", rustllm)
        temperature, top_p, top_k = values.get("temperature"), values.get("top_p"), values.get("top_k")
        if temperature is not None and not 0 <= temperature <= 2:
            raise ValueError("temperature must be in the range [0.0, 2.0]")
        if top_p is not None and not 0 <= top_p <= 1:
            raise ValueError("top_p must be in the range [0.0, 1.0]")
        if top_k is not None and top_k <= 0:
            raise ValueError("top_k must be positive")
        return _build_model_kwargs(values, get_pydantic_field_names(cls))

    @model_validator(mode="after")
    def _set_rustllm_version(self) -> ChatRustLLM:
        if self.use_responses_api:
            raise ValueError("ChatRustLLM: use_responses_api is not supported; rustllm speaks Chat Completions")
        self._add_version("rustllm", rustllm.__version__)
        return self

    # -- identity ------------------------------------------------------------------------
    @property
    def _llm_type(self) -> str:
        return "rustllm-chat"

    @property
    def _model(self) -> str:
        return self.model_name or self.model

    @property
    def _identifying_params(self) -> dict[str, Any]:
        """Everything that can change a reply (the LLM-cache key is built from it):
        model, provider and endpoint, sampling, limits, stop, extra body and headers
        (headers as a digest, so secrets never reach a cache)."""
        params: dict[str, Any] = {
            "model": self._model,
            "custom_llm_provider": self.custom_llm_provider,
            "api_base": self.api_base,
            "organization": self.organization,
            "base_model": self.base_model,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "n": self.n,
            "max_tokens": self.max_tokens,
            "num_ctx": self.num_ctx,
            # Not "stop": core overwrites that key with the call's own stop.
            "stop_sequences": self.stop,
            "extra_body": self.extra_body,
            "model_kwargs": self.model_kwargs,
        }
        if self.extra_headers:
            params["extra_headers"] = _digest(self.extra_headers)
        return {k: v for k, v in params.items() if v not in (None, {}, [])}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        """LangSmith's standard parameters; ``ls_model_name`` honours a per-call ``model``."""
        params = LangSmithParams(
            ls_provider=PROVIDER,
            ls_model_name=kwargs.get("model") or self._model,
            ls_model_type="chat",
        )
        temperature = kwargs.get("temperature", self.temperature)
        if isinstance(temperature, (int, float)):
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if isinstance(max_tokens, int):
            params["ls_max_tokens"] = max_tokens
        stop = stop if stop is not None else self.stop
        if stop:
            params["ls_stop"] = [stop] if isinstance(stop, str) else list(stop)
        return params

    # -- requests ------------------------------------------------------------------------
    def _default_params(self) -> dict[str, Any]:
        timeout = self.request_timeout
        if isinstance(timeout, tuple):
            timeout = timeout[-1]
        params: dict[str, Any] = {
            "model": self._model,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "n": self.n,
            "max_tokens": self.max_tokens,
            "num_ctx": self.num_ctx,
            "api_base": self.api_base,
            "organization": self.organization,
            "custom_llm_provider": self.custom_llm_provider,
            "base_model": self.base_model,
            "extra_headers": dict(self.extra_headers) if self.extra_headers else None,
            "extra_body": copy.deepcopy(self.extra_body) if self.extra_body else None,
            "timeout": timeout,
        }
        params.update(copy.deepcopy(self.model_kwargs))
        return params

    def _provider(self, params: Mapping[str, Any]) -> str | None:
        try:
            return rustllm.get_llm_provider(
                params["model"], custom_llm_provider=params.get("custom_llm_provider"), api_base=params.get("api_base")
            )[1]
        except Exception:  # noqa: BLE001 - an unknown provider fails properly at call time
            return params.get("custom_llm_provider")

    def _api_key(self, provider: str | None) -> str | None:
        key = self.api_key
        field = _PROVIDER_KEY_FIELDS.get(provider or "")
        # A per-provider key read from the environment is left to rustllm, which reads
        # the environment (and rustllm.openai_key & co.) itself, as ChatLiteLLM leaves it to LiteLLM.
        if key is None and field is not None and field in self.model_fields_set:
            key = getattr(self, field)
        return key.get_secret_value() if key is not None else None

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any], stream: bool
    ) -> dict[str, Any]:
        """The keyword arguments of one rustllm call: instance fields, then
        ``model_kwargs``, then the call's own (bound tools, ``model=``, ...)."""
        call = dict(kwargs)
        for key in ("ls_structured_output_format", "structured_output_format", "stream"):
            call.pop(key, None)
        params = self._default_params()
        params.update(call)
        if stop is None:
            stop = params.get("stop", self.stop)
        params["stop"] = stop or None
        provider = self._provider(params)
        if params.get("api_key") is None:
            params["api_key"] = self._api_key(provider)
        params["messages"] = [_message_dict(m, provider) for m in messages]
        if stream:
            params["stream"] = True
            if params.get("stream_options") is None:
                params["stream_options"] = self.stream_options or {"include_usage": True}
        else:
            params.pop("stream_options", None)
        return {k: v for k, v in params.items() if v is not None}

    def _choices(self, params: Mapping[str, Any]) -> int:
        n = params.get("n")
        return n if isinstance(n, int) else 1

    def _should_stream(self, *, async_api: bool, run_manager: Any = None, **kwargs: Any) -> bool:
        # Several choices cannot be streamed into one message: they are asked for in
        # one plain request instead (ChatLiteLLM concatenates them).
        if self._choices({**self._default_params(), **kwargs}) > 1:
            return False
        return super()._should_stream(async_api=async_api, run_manager=run_manager, **kwargs)

    def _refuse_choices(self, params: Mapping[str, Any]) -> None:
        if self._choices(params) > 1:
            raise ValueError("ChatRustLLM cannot stream n > 1 choices; use invoke() or generate() for several choices")

    # -- calls -------------------------------------------------------------------------
    def _retry_decorator(self, run_manager: Any) -> Callable[[Any], Any] | None:
        """ChatLiteLLM's retry: ``max_retries`` attempts on a timeout, a rate limit, a
        connection error or an ``APIError``, 4 to 10 s apart, each reported to the
        callbacks' ``on_retry``. None for a single attempt (the default), which then
        costs nothing."""
        if self.max_retries <= 1:
            return None
        errors: list[type[BaseException]] = [
            rustllm.Timeout,
            rustllm.APIError,
            rustllm.APIConnectionError,
            rustllm.RateLimitError,
        ]
        return create_base_retry_decorator(error_types=errors, max_retries=self.max_retries, run_manager=run_manager)

    def completion_with_retry(self, run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Any:
        """``self.client.completion(**kwargs)`` (``rustllm.completion``), tried
        ``max_retries`` times as ChatLiteLLM does (see ``max_retries``)."""
        retry = self._retry_decorator(run_manager)
        if retry is None:
            return self.client.completion(**kwargs)
        return retry(self.client.completion)(**kwargs)

    async def acompletion_with_retry(
        self, run_manager: AsyncCallbackManagerForLLMRun | None = None, **kwargs: Any
    ) -> Any:
        """``await self.client.acompletion(**kwargs)``, tried ``max_retries`` times."""
        retry = self._retry_decorator(run_manager)
        if retry is None:
            return await self.client.acompletion(**kwargs)

        @retry
        async def _acompletion(**kwargs: Any) -> Any:
            return await self.client.acompletion(**kwargs)

        return await _acompletion(**kwargs)

    # -- results -------------------------------------------------------------------------
    def _chat_result(self, response: Any, model_name: str) -> ChatResult:
        """LangChain's result in ChatLiteLLM's layout: per message ``model_name`` (the
        model asked for, as given: ``"openai/gpt-4o-mini"``, or the per-call ``model=``),
        ``model_provider`` and ``response_cost``; per generation ``finish_reason`` and
        ``logprobs``; ``llm_output`` ``token_usage`` and ``model``. LangChain merges the
        three into ``response_metadata``."""
        body = response.model_dump()
        usage = _usage_metadata(body.get("usage"))
        metadata = self._reply_metadata(response, model_name)
        if body.get("system_fingerprint"):
            metadata["system_fingerprint"] = body["system_fingerprint"]
        cost = _response_cost(response)
        if cost is not None:
            metadata["response_cost"] = cost
        generations = []
        for choice in body.get("choices") or []:
            message = choice.get("message") or {}
            raw_calls = message.get("tool_calls") or []
            calls, invalid = _parse_tool_calls(raw_calls)
            extra = _extra_kwargs(message)
            if raw_calls:
                extra["tool_calls"] = raw_calls
            ai = AIMessage(
                content=message.get("content") or "",
                additional_kwargs=extra,
                tool_calls=calls,
                invalid_tool_calls=invalid,
                usage_metadata=usage,
                response_metadata=dict(metadata),
                id=body.get("id"),
            )
            info = {"finish_reason": choice.get("finish_reason"), "logprobs": choice.get("logprobs")}
            generations.append(ChatGeneration(message=ai, generation_info=info))
        llm_output = {"token_usage": _token_usage(body.get("usage")), "model": model_name}
        return ChatResult(generations=generations, llm_output=llm_output)

    def _reply_metadata(self, response: Any, model_name: str) -> dict[str, Any]:
        """The ``response_metadata`` every reply starts from (the Router adds ``model_id``)."""
        return {"model_name": model_name, "model_provider": PROVIDER}

    def _combine_llm_outputs(self, llm_outputs: list[dict | None]) -> dict:
        """``generate()``'s ``llm_output``: the token usage summed over the calls and
        the model (ChatLiteLLMRouter's layout; ChatLiteLLM itself gives ``{}``)."""
        total: dict[str, Any] = {}
        model_name = None
        for output in llm_outputs:
            if not output:
                continue
            model_name = model_name or output.get("model")
            _add_usage(total, output.get("token_usage") or {})
        return {"token_usage": TokenUsage(total), "model_name": model_name or self._model}

    # -- LangChain's four entry points -------------------------------------------------
    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if kwargs.get("stream") and self._choices({**self._default_params(), **kwargs}) == 1:
            return generate_from_stream(self._stream(messages, stop=stop, run_manager=run_manager, **kwargs))
        params = self._request(messages, stop, kwargs, stream=False)
        return self._chat_result(self.completion_with_retry(run_manager=run_manager, **params), params["model"])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if kwargs.get("stream") and self._choices({**self._default_params(), **kwargs}) == 1:
            return await agenerate_from_stream(self._astream(messages, stop=stop, run_manager=run_manager, **kwargs))
        params = self._request(messages, stop, kwargs, stream=False)
        response = await self.acompletion_with_retry(run_manager=run_manager, **params)
        return self._chat_result(response, params["model"])

    def _stream_state(self, params: Mapping[str, Any]) -> _StreamState:
        return _StreamState(params["model"])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        params = self._request(messages, stop, kwargs, stream=True)
        self._refuse_choices(params)
        state = self._stream_state(params)
        with self.completion_with_retry(run_manager=run_manager, **params) as stream:
            for chunk in stream:
                for generation in state.feed(chunk):
                    if run_manager:
                        run_manager.on_llm_new_token(generation.text, chunk=generation)
                    yield generation
        for generation in state.finish():
            if run_manager:
                run_manager.on_llm_new_token(generation.text, chunk=generation)
            yield generation

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        params = self._request(messages, stop, kwargs, stream=True)
        self._refuse_choices(params)
        state = self._stream_state(params)
        stream = await self.acompletion_with_retry(run_manager=run_manager, **params)
        try:
            async for chunk in stream:
                for generation in state.feed(chunk):
                    if run_manager:
                        await run_manager.on_llm_new_token(generation.text, chunk=generation)
                    yield generation
        finally:
            await stream.aclose()
        for generation in state.finish():
            if run_manager:
                await run_manager.on_llm_new_token(generation.text, chunk=generation)
            yield generation

    # -- tools and structured output ---------------------------------------------------
    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable | BaseTool],
        *,
        tool_choice: dict | str | bool | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (dicts, pydantic classes, functions, ``BaseTool``) in OpenAI's format.

        ``tool_choice``: ``"auto"``, ``"none"``, ``"any"``/``"required"``/``True`` (must
        call a tool; sent as ``"required"``, which every provider understands), a tool
        name, or an OpenAI ``{"type": "function", ...}`` dict. ``strict=True`` asks for
        schema-exact arguments. Other keyword arguments (``parallel_tool_calls``, ...) are
        bound as well.
        """
        formatted = [convert_to_openai_tool(t, strict=strict) for t in tools]
        names = [t["function"]["name"] for t in formatted if "function" in t]
        if tool_choice is not None and tool_choice is not False:
            if tool_choice is True or tool_choice == "any":
                tool_choice = "required"
            elif isinstance(tool_choice, str) and tool_choice not in ("auto", "none", "required"):
                tool_choice = {"type": "function", "function": {"name": tool_choice}}
            elif isinstance(tool_choice, dict):
                name = (tool_choice.get("function") or {}).get("name")
                if name is not None and name not in names:
                    raise ValueError(f"tool_choice names {name!r}, which is not among the bound tools {names}")
            elif not isinstance(tool_choice, str):
                raise ValueError(f"Unrecognized tool_choice {tool_choice!r}")
            kwargs["tool_choice"] = tool_choice
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict | type | None = None,
        *,
        method: Literal["function_calling", "json_mode", "json_schema"] = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict | BaseModel]:
        """A runnable returning objects shaped by ``schema`` (pydantic class, TypedDict or
        JSON schema): parsed pydantic objects for pydantic classes, dicts otherwise.

        ``method``: ``"json_schema"`` (the provider's structured output,
        ``response_format={"type": "json_schema", ...}``), ``"function_calling"`` (a forced
        tool call) or ``"json_mode"`` (``{"type": "json_object"}``; the prompt must ask for
        the keys). ``include_raw=True`` returns ``{"raw", "parsed", "parsing_error"}`` and
        never raises on a parse error. The schema is reported to callbacks as
        ``ls_structured_output_format``.
        """
        if kwargs:
            raise ValueError(f"Received unsupported arguments {kwargs}")
        if schema is None and method != "json_mode":
            raise ValueError(f"with_structured_output(method={method!r}) needs a schema")
        if strict is not None and method == "json_mode":
            raise ValueError("strict is not supported with method='json_mode'")
        ls_format = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
        pydantic_schema = _is_pydantic_class(schema)
        if method == "function_calling":
            tool_name = convert_to_openai_tool(schema)["function"]["name"]
            llm = self.bind_tools([schema], tool_choice=tool_name, strict=strict, ls_structured_output_format=ls_format)
            parser: Runnable = (
                PydanticToolsParser(tools=[schema], first_tool_only=True)
                if pydantic_schema
                else JsonOutputKeyToolsParser(key_name=tool_name, first_tool_only=True)
            )
        elif method == "json_schema":
            llm = self.bind(response_format=_response_format(schema, strict), ls_structured_output_format=ls_format)
            parser = PydanticOutputParser(pydantic_object=schema) if pydantic_schema else JsonOutputParser()
        elif method == "json_mode":
            ls_format["kwargs"] = {"method": method}
            llm = self.bind(response_format={"type": "json_object"}, ls_structured_output_format=ls_format)
            parser = PydanticOutputParser(pydantic_object=schema) if pydantic_schema else JsonOutputParser()
        else:
            raise ValueError(f"method must be 'function_calling', 'json_schema' or 'json_mode', not {method!r}")
        return _with_raw(llm, parser, include_raw)


# ---------------------------------------------------------------------------------------
# ChatRustLLMRouter
# ---------------------------------------------------------------------------------------
class ChatRustLLMRouter(ChatRustLLM):
    """``ChatRustLLM`` over a :class:`rustllm.Router`: ``model`` names a model group
    (default: the first of the Router's ``model_list``), and the Router picks the
    deployment, retries and falls back (all in Rust). A per-call ``model=`` picks
    another group.

        router = rustllm.Router(model_list=[...], routing_strategy="least-busy")
        llm = ChatRustLLMRouter(router=router, model="my-group")

    As with ChatLiteLLMRouter, ``response_metadata["model_name"]`` is the model group
    called and ``response_metadata["model_id"]`` the id of the deployment that answered
    (its ``model_info.id``).
    """

    router: Any = Field(exclude=True)
    """The :class:`rustllm.Router` to call."""

    @model_validator(mode="before")
    @classmethod
    def _default_group(cls, values: Any) -> Any:
        """Without ``model``, the first group of the Router (as ChatLiteLLMRouter)."""
        if isinstance(values, dict) and values.get("model") is None and values.get("model_name") is None:
            model_list = getattr(values.get("router"), "model_list", None)
            if model_list:
                values = {**values, "model": model_list[0]["model_name"]}
        return values

    @model_validator(mode="after")
    def _check_router(self) -> ChatRustLLMRouter:
        if not isinstance(self.router, rustllm.Router):
            raise ValueError(f"router must be a rustllm.Router, not {type(self.router).__name__}")
        return self

    def set_default_model(self, model_name: str) -> None:
        """Use model group ``model_name`` when a call names none."""
        if model_name not in self.router.model_names and model_name not in self.router.model_group_alias:
            raise ValueError(f"{model_name!r} is not a model group of the router")
        self.model = model_name
        self.model_name = model_name

    @property
    def _llm_type(self) -> str:
        return "rustllm-router-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        params = super()._identifying_params
        params["router"] = _digest(self.router.model_list)
        return params

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any], stream: bool
    ) -> dict[str, Any]:
        params = super()._request(messages, stop, kwargs, stream)
        # The deployments carry their own provider, key and endpoint.
        if self.custom_llm_provider is None and "custom_llm_provider" not in kwargs:
            params.pop("custom_llm_provider", None)
        if self.api_key is None and "api_key" not in kwargs:
            params.pop("api_key", None)
        return params

    def _provider(self, params: Mapping[str, Any]) -> str | None:
        deployments = [d for d in self.router.model_list if d["model_name"] == params["model"]]
        if not deployments:
            return None
        litellm_params = deployments[0]["litellm_params"]
        return ChatRustLLM._provider(self, litellm_params)

    def completion_with_retry(self, run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Any:
        """``self.router.completion(**kwargs)``, tried ``max_retries`` times (on top of
        the Router's own retries and fallbacks, as in ChatLiteLLMRouter)."""
        retry = self._retry_decorator(run_manager)
        if retry is None:
            return self.router.completion(**kwargs)
        return retry(self.router.completion)(**kwargs)

    async def acompletion_with_retry(
        self, run_manager: AsyncCallbackManagerForLLMRun | None = None, **kwargs: Any
    ) -> Any:
        """``await self.router.acompletion(**kwargs)``, tried ``max_retries`` times."""
        retry = self._retry_decorator(run_manager)
        if retry is None:
            return await self.router.acompletion(**kwargs)

        @retry
        async def _acompletion(**kwargs: Any) -> Any:
            return await self.router.acompletion(**kwargs)

        return await _acompletion(**kwargs)

    def _reply_metadata(self, response: Any, model_name: str) -> dict[str, Any]:
        metadata = super()._reply_metadata(response, model_name)
        model_id = (getattr(response, "_hidden_params", None) or {}).get("model_id")
        if model_id is not None:
            metadata["model_id"] = model_id
        return metadata

    def _stream_state(self, params: Mapping[str, Any]) -> _StreamState:
        return _StreamState(params["model"], model_id=True)


# ---------------------------------------------------------------------------------------
# Embeddings
# ---------------------------------------------------------------------------------------
class RustLLMEmbeddings(BaseModel, Embeddings):
    """LangChain ``Embeddings`` on rustllm (``rustllm.embedding`` / ``aembedding``), or
    on a :class:`rustllm.Router` model group when ``router`` is given.

        emb = RustLLMEmbeddings(model="openai/text-embedding-3-small")
        emb.embed_documents(["a", "b"]); await emb.aembed_query("c")

    Texts are sent ``chunk_size`` at a time; vectors come back in input order.
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True, protected_namespaces=())

    model: str = "text-embedding-3-small"
    api_base: str | None = Field(default=None, alias="base_url")
    api_key: SecretStr | None = Field(default=None, repr=False)
    custom_llm_provider: str | None = None
    dimensions: int | None = None
    request_timeout: float | None = Field(default=None, alias="timeout")
    max_retries: int | None = None
    chunk_size: int = 1000
    """Texts per request."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    router: Any = Field(default=None, exclude=True)
    """A :class:`rustllm.Router`: ``model`` is then one of its model groups."""

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "dimensions": self.dimensions,
            "timeout": self.request_timeout,
            "num_retries": self.max_retries,
        }
        if self.router is None:
            params.update(
                api_base=self.api_base,
                api_key=self.api_key.get_secret_value() if self.api_key is not None else None,
                custom_llm_provider=self.custom_llm_provider,
            )
        params.update(self.model_kwargs)
        return {k: v for k, v in params.items() if v is not None}

    def _batches(self, texts: list[str]) -> list[list[str]]:
        size = max(1, self.chunk_size)
        return [texts[i : i + size] for i in range(0, len(texts), size)]

    @staticmethod
    def _vectors(response: Any) -> list[list[float]]:
        data = sorted(response.data, key=lambda item: item["index"])
        return [list(item["embedding"]) for item in data]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order."""
        out: list[list[float]] = []
        for batch in self._batches(list(texts)):
            if self.router is not None:
                response = self.router.embedding(self.model, batch, **self._params())
            else:
                response = rustllm.embedding(model=self.model, input=batch, **self._params())
            out.extend(self._vectors(response))
        return out

    def embed_query(self, text: str) -> list[float]:
        """The vector of one text."""
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async :meth:`embed_documents` (native, no thread pool)."""
        out: list[list[float]] = []
        for batch in self._batches(list(texts)):
            if self.router is not None:
                response = await self.router.aembedding(self.model, batch, **self._params())
            else:
                response = await rustllm.aembedding(model=self.model, input=batch, **self._params())
            out.extend(self._vectors(response))
        return out

    async def aembed_query(self, text: str) -> list[float]:
        """Async :meth:`embed_query`."""
        return (await self.aembed_documents([text]))[0]
