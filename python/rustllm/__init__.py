"""rustllm: a drop-in replacement for the LiteLLM Python SDK, with a Rust core.

    import rustllm as litellm
    response = litellm.completion(model="openai/gpt-4o-mini",
                                  messages=[{"role": "user", "content": "Hello"}])
    print(response.choices[0].message.content)

Everything network-bound (provider resolution, request building, HTTP, retries, error
mapping) runs in Rust with the GIL released; this module only shapes arguments and wraps
results in LiteLLM's response classes. Importing it loads no third-party package.
"""

from __future__ import annotations

import logging as _py_logging
import os as _os
import sys as _sys
import threading as _threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Literal, TypeVar, overload

    _F = TypeVar("_F", bound=Callable[..., Any])

    # Provided at run time by __getattr__ below (built on first use, so that importing
    # rustllm never imports openai); type checkers read them from exceptions.pyi.
    from rustllm.exceptions import (
        LITELLM_EXCEPTION_TYPES,
        APIConnectionError,
        APIError,
        APIResponseValidationError,
        AuthenticationError,
        BadGatewayError,
        BadRequestError,
        BudgetExceededError,
        ContentPolicyViolationError,
        ContextWindowExceededError,
        InternalServerError,
        InvalidRequestError,
        JSONSchemaValidationError,
        LiteLLMUnknownProvider,
        MidStreamFallbackError,
        MockException,
        NotFoundError,
        OpenAIError,
        PermissionDeniedError,
        RateLimitError,
        RejectedRequestError,
        RouterRateLimitError,
        ServiceUnavailableError,
        Timeout,
        UnprocessableEntityError,
        UnsupportedParamsError,
    )

from rustllm import _core
from rustllm._audio import aspeech, atranscription, speech, transcription
from rustllm._files import (
    acancel_batch,
    acreate_batch,
    acreate_file,
    afile_content,
    afile_delete,
    afile_list,
    afile_retrieve,
    alist_batches,
    aretrieve_batch,
    cancel_batch,
    create_batch,
    create_file,
    file_content,
    file_delete,
    file_list,
    file_retrieve,
    list_batches,
    retrieve_batch,
)
from rustllm._helpers import ahealth_check, check_valid_key, get_valid_models, health_check, trim_messages
from rustllm._images import aimage_edit, aimage_generation, image_edit, image_generation
from rustllm._rerank import amoderation, arerank, moderation, rerank
from rustllm.budget_manager import BudgetManager

# The catalogue functions are thin wrappers: importing them parses nothing (the map is
# parsed on first use; `model_cost` / `model_list` are built on first access).
from rustllm.catalogue import (
    completion_cost,
    cost_per_token,
    get_max_tokens,
    get_model_info,
    get_supported_openai_params,
    register_model,
    supports_function_calling,
    supports_parallel_function_calling,
    supports_prompt_caching,
    supports_reasoning,
    supports_response_schema,
    supports_system_messages,
    supports_tool_choice,
    supports_vision,
)
from rustllm.router import AllowedFailsPolicy, RetryPolicy, Router
from rustllm.streaming import CustomStreamWrapper, stream_chunk_builder
from rustllm.types._audio import HttpxBinaryResponseContent
from rustllm.types._endpoints import OpenAIModerationResponse, RerankResponse
from rustllm.types._files import Batch, FileDeleted, FileObject
from rustllm.types._images import ImageObject, ImageResponse
from rustllm.types.utils import (
    ChatCompletionDeltaToolCall,
    ChatCompletionMessageToolCall,
    Choices,
    Delta,
    EmbeddingResponse,
    Function,
    FunctionCall,
    Message,
    ModelResponse,
    ModelResponseStream,
    StreamingChoices,
    TextChoices,
    TextCompletionResponse,
    Usage,
    all_litellm_params,
)

__version__: str = _core.__version__

# ---------------------------------------------------------------------------------------
# Module settings LiteLLM users set (`litellm.api_key = ...`). Read on every call.
# ---------------------------------------------------------------------------------------
api_key: str | None = None
openai_key: str | None = None
anthropic_key: str | None = None
azure_key: str | None = None
cohere_key: str | None = None
api_base: str | None = None
num_retries: int | None = None
# LITELLM_DROP_PARAMS=True turns it on, as in LiteLLM.
drop_params: bool = _os.environ.get("LITELLM_DROP_PARAMS", "").strip().lower() in ("1", "true", "yes", "on")
suppress_debug_info: bool = False
# Log every call, its raw HTTP request and reply included (secrets masked), on the
# "LiteLLM" loggers; printed on stderr unless the program's logging shows them (see
# rustllm._logging). Read at the next call.
set_verbose: bool = False
# LiteLLM's default; a call without `timeout` uses it once changed (else 600 s).
request_timeout: float = 6000
model_alias_map: dict[str, str] = {}

# Callbacks (functions, or CustomLogger instances) and the module cache; see
# rustllm.integrations.custom_logger and rustllm.caching. A call looks at these lists
# before building anything, so an empty list costs nothing.
input_callback: list = []
success_callback: list = []
failure_callback: list = []
callbacks: list = []
cache: Any = None
# Per-call log lines on logging.getLogger("LiteLLM"): turn_on_debug(), or LITELLM_LOG.
_log_calls: bool = False
# The `set_verbose` value last handed to rustllm._logging, compared by identity per call.
_verbose_pushed: Any = False
# TLS for every call and Router deployment that does not set its own `ssl_verify` /
# `ssl_certificate`: True, False, or a CA bundle's path; a PEM file with a client
# certificate and its key. (The environment's SSL_VERIFY, SSL_CERT_FILE and
# REQUESTS_CA_BUNDLE come next.)
ssl_verify: bool | str = True
ssl_certificate: str | None = None
# What was last handed to the Rust side, compared by identity on each call.
_tls_pushed: tuple[Any, Any] = (True, None)
# Taken only when a module setting changed, to hand it over once (see _push_tls).
_settings_lock = _threading.Lock()


def _push_tls() -> None:
    """Hand changed module TLS settings to the Rust transport (cheap when unchanged)."""
    global _tls_pushed
    if ssl_verify is not _tls_pushed[0] or ssl_certificate is not _tls_pushed[1]:
        # Under the lock, and what is pushed is what is recorded: two calls racing a
        # change (or a change racing a call) cannot leave the transport on the old value
        # while the record says the new one went.
        with _settings_lock:
            verify, cert = ssl_verify, ssl_certificate
            if verify is not _tls_pushed[0] or cert is not _tls_pushed[1]:
                # True is the default: it leaves the choice to the environment (SSL_VERIFY, ...).
                _core.set_module_tls(None if verify is True else verify, cert)
                _tls_pushed = (verify, cert)


def _push_verbose() -> None:
    """Hand a changed ``set_verbose`` to the log switches (cheap when unchanged)."""
    global _verbose_pushed
    if set_verbose is not _verbose_pushed:
        from rustllm import _logging

        with _settings_lock:
            verbose = set_verbose
            if verbose is not _verbose_pushed:
                _logging.set_verbose(bool(verbose))
                _verbose_pushed = verbose


def _after_fork_in_child() -> None:
    """A forked child leaves the parent's runtime, connections and pending calls behind,
    and the parent's locks: one another thread held at the fork would never be released."""
    global _settings_lock
    _core._after_fork_in_child()
    _settings_lock = _threading.Lock()
    for name in ("rustllm._bridge", "rustllm._logging", "rustllm._guardrails"):
        module = _sys.modules.get(name)
        if module is not None:
            module._after_fork_in_child()


if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_after_fork_in_child)

_RustLLMError = _core.RustLLMError


def _raise(err: BaseException, params: dict[str, Any] | None = None) -> None:
    """Raise the LiteLLM exception for a core error; ``params`` (the call's arguments)
    fill its ``litellm_debug_info``."""
    from rustllm.exceptions import _from_core

    raise _from_core(err, params) from None


def _settings_key(params: dict[str, Any]) -> str | None:
    """The module-level key for this call's provider, with LiteLLM's precedence:
    ``api_key`` then ``openai_key`` for OpenAI; ``anthropic_key`` / ``cohere_key`` before
    ``api_key``; ``api_key`` then ``azure_key`` for Azure; ``api_key`` elsewhere."""
    try:
        provider = _core.get_llm_provider(
            params["model"], params.get("custom_llm_provider"), params.get("base_url") or params.get("api_base")
        )[1]
    except _RustLLMError:
        return api_key
    if provider in ("openai", "text-completion-openai", "custom_openai"):
        return api_key or openai_key
    if provider == "anthropic":
        return anthropic_key or api_key
    if provider in ("cohere", "cohere_chat"):
        return cohere_key or api_key
    if provider == "azure":
        return api_key or azure_key
    return api_key


def _push_settings() -> None:
    """Hand the module settings that changed since the last call (TLS, ``set_verbose``) to
    the core: two identity checks when none did. Every call, direct or Router, starts here."""
    if ssl_verify is not _tls_pushed[0] or ssl_certificate is not _tls_pushed[1]:
        _push_tls()
    if set_verbose is not _verbose_pushed:
        _push_verbose()


def _apply_settings(params: dict[str, Any]) -> None:
    """Fill per-call values from the module settings, without overriding the call."""
    _push_settings()
    model = params.get("model")
    if model_alias_map and model in model_alias_map:
        params["model"] = model_alias_map[model]
    if params.get("api_key") is None and (api_key or openai_key or anthropic_key or azure_key or cohere_key):
        key = _settings_key(params)
        if key is not None:
            params["api_key"] = key
    if api_base is not None and params.get("api_base") is None and params.get("base_url") is None:
        params["api_base"] = api_base
    if num_retries is not None and params.get("num_retries") is None:
        params["num_retries"] = num_retries
    if drop_params and params.get("drop_params") is None:
        params["drop_params"] = True
    if request_timeout != 6000 and params.get("timeout") is None and params.get("request_timeout") is None:
        params["timeout"] = request_timeout


def _strict_schema(schema: Any) -> Any:
    """OpenAI's strict JSON-schema rules: closed objects, every property required."""
    if isinstance(schema, dict):
        out = {k: _strict_schema(v) for k, v in schema.items()}
        if out.get("type") == "object" and isinstance(out.get("properties"), dict):
            out.setdefault("additionalProperties", False)
            out["required"] = list(out["properties"])
        return out
    if isinstance(schema, list):
        return [_strict_schema(v) for v in schema]
    return schema


def _response_format_param(response_format: Any) -> Any:
    """A pydantic model class becomes a `json_schema` response format, as in LiteLLM."""
    if isinstance(response_format, type) and hasattr(response_format, "model_json_schema"):
        return {
            "type": "json_schema",
            "json_schema": {
                "name": response_format.__name__,
                "schema": _strict_schema(response_format.model_json_schema()),
                "strict": True,
            },
        }
    return response_format


def _timeout_seconds(timeout: Any) -> Any:
    """httpx.Timeout-like objects carry their read timeout; numbers pass through."""
    if timeout is None or isinstance(timeout, (int, float, str)):
        return timeout
    read = getattr(timeout, "read", None)
    return read if read is not None else getattr(timeout, "timeout", timeout)


_STATUS_KIND = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    408: "Timeout",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
    500: "InternalServerError",
    502: "BadGatewayError",
    503: "ServiceUnavailableError",
    504: "Timeout",
}


class _MockFailure(Exception):
    """The shape `exceptions._from_core` reads, for a `mock_response` exception."""

    def __init__(self, original: BaseException, params: dict[str, Any]) -> None:
        super().__init__(str(original))
        status = getattr(original, "status_code", None)
        self.status_code = status if isinstance(status, int) else 500
        self.kind = _STATUS_KIND.get(self.status_code, "APIError")
        from rustllm.exceptions import BadRequestError

        try:
            _, provider, _, _ = get_llm_provider(params["model"], custom_llm_provider=params.get("custom_llm_provider"))
        except BadRequestError:
            provider = "openai"
        self.llm_provider = provider
        self.model = params.get("model") or ""
        exc_name = "OpenAIException" if provider == "openai" else provider[:1].upper() + provider[1:] + "Exception"
        label = {"BadRequestError": None, "Timeout": "Timeout Error"}.get(self.kind, self.kind)
        text = f"{exc_name} - litellm.MockException: {original}"
        self.message = text if label is None else f"{label}: {text}"
        self.body = None
        self.headers = {}
        self.num_retries = None
        self.max_retries = None
        self.retry_after = None


def _prepare(params: dict[str, Any]) -> Any:
    """Shared argument handling. Returns a finished response for object mocks, else None."""
    if params.get("model") is None:
        raise ValueError("model param not passed in.")
    _apply_settings(params)
    if params.get("response_format") is not None:
        params["response_format"] = _response_format_param(params["response_format"])
    if params.get("timeout") is not None:
        params["timeout"] = _timeout_seconds(params["timeout"])
    # Inputs (messages, tools, numbers, headers...) are checked in Rust: src/types/check.rs.
    mock = params.get("mock_response")
    if mock is None or isinstance(mock, str):
        return None
    if isinstance(mock, BaseException):
        _raise(_MockFailure(mock, params), params)
    if isinstance(mock, ModelResponse):
        return mock
    if isinstance(mock, dict):
        return ModelResponse(**mock)
    params["mock_response"] = str(mock)
    return None


def _mock_text(mocked: ModelResponse) -> str:
    """A ready-made mock response, replayed as a stream of its first choice's text."""
    choices = mocked.choices
    content = choices[0].message.content if choices else None
    return content or ""


_bridge_submit: Any = None


def _submit(start: Any, params: dict[str, Any]) -> Any:
    """Start a Rust call whose result resolves a future on the running loop."""
    global _bridge_submit
    if _bridge_submit is None:
        from rustllm._bridge import submit  # asyncio is imported only by async users

        _bridge_submit = submit
    return _bridge_submit(start, params)


def _collect(local_vars: dict[str, Any]) -> dict[str, Any]:
    extra = local_vars.pop("kwargs")
    if extra:
        local_vars.update(extra)
    return local_vars


def _signature(template: _F) -> Callable[[Callable[..., Any]], _F]:
    """Give ``impl`` (which takes ``*args, **params``) the documented signature of
    ``template``: ``inspect.signature`` and ``help`` follow ``__wrapped__``, and type
    checkers see ``template``'s type, its overloads included."""

    def decorate(impl: Callable[..., Any]) -> _F:
        impl.__wrapped__ = template  # type: ignore[attr-defined]
        impl.__doc__ = template.__doc__
        return impl  # type: ignore[return-value]

    return decorate


def _bind(name: str, template: Any, args: tuple, params: dict[str, Any]) -> dict[str, Any]:
    """Positional arguments by ``template``'s parameter names, as Python would bind them."""
    code = template.__code__
    names = code.co_varnames[: code.co_argcount]
    if len(args) > len(names):
        raise TypeError(f"{name}() takes {len(names)} positional arguments but {len(args)} were given")
    for key, value in zip(names, args):
        if key in params:
            raise TypeError(f"{name}() got multiple values for argument '{key}'")
        params[key] = value
    return params


# What type checkers see of completion() (the runtime template below has the same parameters):
# a ModelResponse without `stream=True`, a CustomStreamWrapper with it, and either when
# `stream` is a bool known only at run time. tests/test_typing.py keeps the three
# parameter lists equal to the template's.
if TYPE_CHECKING:

    @overload
    def _completion_signature(
        model: str | None = None,
        messages: list | None = None,
        timeout: float | str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stream: Literal[False] | None = None,
        stream_options: dict | None = None,
        stop: Any = None,
        max_completion_tokens: int | None = None,
        max_tokens: int | None = None,
        modalities: list | None = None,
        prediction: dict | None = None,
        audio: dict | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        logit_bias: dict | None = None,
        user: str | None = None,
        reasoning_effort: str | None = None,
        response_format: Any = None,
        seed: int | None = None,
        tools: list | None = None,
        tool_choice: Any = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        parallel_tool_calls: bool | None = None,
        web_search_options: dict | None = None,
        deployment_id: str | None = None,
        extra_headers: dict | None = None,
        functions: list | None = None,
        function_call: Any = None,
        base_url: str | None = None,
        api_version: str | None = None,
        api_key: str | None = None,
        model_list: list | None = None,
        thinking: dict | None = None,
        **kwargs: Any,
    ) -> ModelResponse: ...
    @overload
    def _completion_signature(
        model: str | None = None,
        messages: list | None = None,
        timeout: float | str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        *,
        stream: Literal[True],
        stream_options: dict | None = None,
        stop: Any = None,
        max_completion_tokens: int | None = None,
        max_tokens: int | None = None,
        modalities: list | None = None,
        prediction: dict | None = None,
        audio: dict | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        logit_bias: dict | None = None,
        user: str | None = None,
        reasoning_effort: str | None = None,
        response_format: Any = None,
        seed: int | None = None,
        tools: list | None = None,
        tool_choice: Any = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        parallel_tool_calls: bool | None = None,
        web_search_options: dict | None = None,
        deployment_id: str | None = None,
        extra_headers: dict | None = None,
        functions: list | None = None,
        function_call: Any = None,
        base_url: str | None = None,
        api_version: str | None = None,
        api_key: str | None = None,
        model_list: list | None = None,
        thinking: dict | None = None,
        **kwargs: Any,
    ) -> CustomStreamWrapper: ...
    @overload
    def _completion_signature(
        model: str | None = None,
        messages: list | None = None,
        timeout: float | str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stream: bool | None = None,
        stream_options: dict | None = None,
        stop: Any = None,
        max_completion_tokens: int | None = None,
        max_tokens: int | None = None,
        modalities: list | None = None,
        prediction: dict | None = None,
        audio: dict | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        logit_bias: dict | None = None,
        user: str | None = None,
        reasoning_effort: str | None = None,
        response_format: Any = None,
        seed: int | None = None,
        tools: list | None = None,
        tool_choice: Any = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        parallel_tool_calls: bool | None = None,
        web_search_options: dict | None = None,
        deployment_id: str | None = None,
        extra_headers: dict | None = None,
        functions: list | None = None,
        function_call: Any = None,
        base_url: str | None = None,
        api_version: str | None = None,
        api_key: str | None = None,
        model_list: list | None = None,
        thinking: dict | None = None,
        **kwargs: Any,
    ) -> ModelResponse | CustomStreamWrapper: ...


def _completion_signature(
    model: str | None = None,
    messages: list | None = None,
    timeout: float | str | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    n: int | None = None,
    stream: bool | None = None,
    stream_options: dict | None = None,
    stop: Any = None,
    max_completion_tokens: int | None = None,
    max_tokens: int | None = None,
    modalities: list | None = None,
    prediction: dict | None = None,
    audio: dict | None = None,
    presence_penalty: float | None = None,
    frequency_penalty: float | None = None,
    logit_bias: dict | None = None,
    user: str | None = None,
    reasoning_effort: str | None = None,
    response_format: Any = None,
    seed: int | None = None,
    tools: list | None = None,
    tool_choice: Any = None,
    logprobs: bool | None = None,
    top_logprobs: int | None = None,
    parallel_tool_calls: bool | None = None,
    web_search_options: dict | None = None,
    deployment_id: str | None = None,
    extra_headers: dict | None = None,
    functions: list | None = None,
    function_call: Any = None,
    base_url: str | None = None,
    api_version: str | None = None,
    api_key: str | None = None,
    model_list: list | None = None,
    thinking: dict | None = None,
    **kwargs: Any,
) -> ModelResponse | CustomStreamWrapper:
    """Chat completion through any supported provider, with LiteLLM's signature.

    ``model`` is ``"provider/model"`` (``"openai/gpt-4o"``, ``"groq/llama-3.1-8b-instant"``)
    or a bare OpenAI name. Every OpenAI chat parameter is passed through; unknown keyword
    arguments go into the request body as LiteLLM does, and ``extra_body`` is merged into
    it. Connection keywords: ``api_base``/``base_url``, ``api_key``, ``api_version``,
    ``organization``, ``custom_llm_provider``, ``headers``/``extra_headers``, ``timeout``
    (seconds, default 600), ``max_retries``/``num_retries`` (default 2; ``num_retries`` wins),
    ``ssl_verify``. ``mock_response`` returns a reply without any network call.

    Returns a :class:`ModelResponse`, or with ``stream=True`` a :class:`CustomStreamWrapper`
    of :class:`ModelResponseStream` chunks (``stream_options={"include_usage": True}`` adds
    a usage chunk; ``stream_timeout`` bounds the wait for each chunk). Raises LiteLLM's exception classes
    (``rustllm.RateLimitError``, ``rustllm.BadRequestError``, ...); bad input is rejected
    before any request is sent.
    """
    # Never called: the signature of completion(), for inspect, help() and type checkers.


@_signature(_completion_signature)
def completion(*args: Any, **params: Any) -> ModelResponse | CustomStreamWrapper:
    # Only what the caller passed arrives here: building a dict of all ~40 named
    # arguments (locals()) cost more than the rest of the Python side of a call.
    if args:
        params = _bind("completion", _completion_signature, args, params)
    if _observed(params) and not (callbacks and _inline_guardrails(params)):
        from rustllm import _hooks

        return _hooks.call("completion", params, _completion)
    return _completion(params)


def _completion(params: dict[str, Any]) -> ModelResponse | CustomStreamWrapper:
    """The call itself; :func:`completion` adds callbacks and the cache around it."""
    mocked = _prepare(params)
    if custom_provider_map and mocked is None:
        from rustllm import custom_llm

        found = custom_llm.handler_for(params)
        if found is not None:
            return custom_llm.completion(params, found)
    if params.get("stream"):
        if mocked is not None:
            params["mock_response"] = _mock_text(mocked)
        try:
            handle, hidden = _core.completion_stream(params)
        except _RustLLMError as err:
            _raise(err, params)
        return CustomStreamWrapper(handle, params["model"], hidden, params.get("messages"))
    if mocked is not None:
        return mocked
    try:
        body, hidden, ms = _core.completion(params)
    except _RustLLMError as err:
        _raise(err, params)
    return ModelResponse._from_openai(body, hidden, ms)


# What type checkers see of acompletion() (the runtime template below has the same parameters):
# a ModelResponse without `stream=True`, a CustomStreamWrapper with it, and either when
# `stream` is a bool known only at run time. tests/test_typing.py keeps the three
# parameter lists equal to the template's.
if TYPE_CHECKING:

    @overload
    async def _acompletion_signature(
        model: str | None = None,
        messages: list | None = None,
        timeout: float | str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stream: Literal[False] | None = None,
        stream_options: dict | None = None,
        stop: Any = None,
        max_completion_tokens: int | None = None,
        max_tokens: int | None = None,
        modalities: list | None = None,
        prediction: dict | None = None,
        audio: dict | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        logit_bias: dict | None = None,
        user: str | None = None,
        reasoning_effort: str | None = None,
        response_format: Any = None,
        seed: int | None = None,
        tools: list | None = None,
        tool_choice: Any = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        parallel_tool_calls: bool | None = None,
        web_search_options: dict | None = None,
        deployment_id: str | None = None,
        extra_headers: dict | None = None,
        functions: list | None = None,
        function_call: Any = None,
        base_url: str | None = None,
        api_version: str | None = None,
        api_key: str | None = None,
        model_list: list | None = None,
        thinking: dict | None = None,
        **kwargs: Any,
    ) -> ModelResponse: ...
    @overload
    async def _acompletion_signature(
        model: str | None = None,
        messages: list | None = None,
        timeout: float | str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        *,
        stream: Literal[True],
        stream_options: dict | None = None,
        stop: Any = None,
        max_completion_tokens: int | None = None,
        max_tokens: int | None = None,
        modalities: list | None = None,
        prediction: dict | None = None,
        audio: dict | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        logit_bias: dict | None = None,
        user: str | None = None,
        reasoning_effort: str | None = None,
        response_format: Any = None,
        seed: int | None = None,
        tools: list | None = None,
        tool_choice: Any = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        parallel_tool_calls: bool | None = None,
        web_search_options: dict | None = None,
        deployment_id: str | None = None,
        extra_headers: dict | None = None,
        functions: list | None = None,
        function_call: Any = None,
        base_url: str | None = None,
        api_version: str | None = None,
        api_key: str | None = None,
        model_list: list | None = None,
        thinking: dict | None = None,
        **kwargs: Any,
    ) -> CustomStreamWrapper: ...
    @overload
    async def _acompletion_signature(
        model: str | None = None,
        messages: list | None = None,
        timeout: float | str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stream: bool | None = None,
        stream_options: dict | None = None,
        stop: Any = None,
        max_completion_tokens: int | None = None,
        max_tokens: int | None = None,
        modalities: list | None = None,
        prediction: dict | None = None,
        audio: dict | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        logit_bias: dict | None = None,
        user: str | None = None,
        reasoning_effort: str | None = None,
        response_format: Any = None,
        seed: int | None = None,
        tools: list | None = None,
        tool_choice: Any = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        parallel_tool_calls: bool | None = None,
        web_search_options: dict | None = None,
        deployment_id: str | None = None,
        extra_headers: dict | None = None,
        functions: list | None = None,
        function_call: Any = None,
        base_url: str | None = None,
        api_version: str | None = None,
        api_key: str | None = None,
        model_list: list | None = None,
        thinking: dict | None = None,
        **kwargs: Any,
    ) -> ModelResponse | CustomStreamWrapper: ...


async def _acompletion_signature(
    model: str | None = None,
    messages: list | None = None,
    timeout: float | str | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    n: int | None = None,
    stream: bool | None = None,
    stream_options: dict | None = None,
    stop: Any = None,
    max_completion_tokens: int | None = None,
    max_tokens: int | None = None,
    modalities: list | None = None,
    prediction: dict | None = None,
    audio: dict | None = None,
    presence_penalty: float | None = None,
    frequency_penalty: float | None = None,
    logit_bias: dict | None = None,
    user: str | None = None,
    reasoning_effort: str | None = None,
    response_format: Any = None,
    seed: int | None = None,
    tools: list | None = None,
    tool_choice: Any = None,
    logprobs: bool | None = None,
    top_logprobs: int | None = None,
    parallel_tool_calls: bool | None = None,
    web_search_options: dict | None = None,
    deployment_id: str | None = None,
    extra_headers: dict | None = None,
    functions: list | None = None,
    function_call: Any = None,
    base_url: str | None = None,
    api_version: str | None = None,
    api_key: str | None = None,
    model_list: list | None = None,
    thinking: dict | None = None,
    **kwargs: Any,
) -> ModelResponse | CustomStreamWrapper:
    """The async twin of :func:`completion`: same arguments, awaited on asyncio.

    The request runs on rustllm's Rust runtime; the event loop is never blocked. A
    stream it returns can be iterated with ``async for`` or a plain ``for``, even after
    the event loop that created it has closed.
    """
    # Never called: the signature of acompletion(), for inspect, help() and type checkers.


@_signature(_acompletion_signature)
async def acompletion(*args: Any, **params: Any) -> ModelResponse | CustomStreamWrapper:
    if args:
        params = _bind("acompletion", _acompletion_signature, args, params)
    if _observed(params) and not (callbacks and _inline_guardrails(params)):
        from rustllm import _hooks

        return await _hooks.acall("acompletion", params, _acompletion)
    if params.get("stream") or params.get("mock_response") is not None or custom_provider_map:
        return await _acompletion(params)
    # The common call, inline: one coroutine less per call on the event loop.
    _prepare(params)
    try:
        body, hidden, ms = await _submit(_core.acompletion_submit, params)
    except _RustLLMError as err:
        _raise(err, params)
    return ModelResponse._from_openai(body, hidden, ms)


async def _acompletion(params: dict[str, Any]) -> ModelResponse | CustomStreamWrapper:
    """The call itself; :func:`acompletion` adds callbacks and the cache around it."""
    mocked = _prepare(params)
    if custom_provider_map and mocked is None:
        from rustllm import custom_llm

        found = custom_llm.handler_for(params)
        if found is not None:
            return await custom_llm.acompletion(params, found)
    if params.get("stream"):
        if mocked is not None:
            params["mock_response"] = _mock_text(mocked)
        try:
            handle, hidden = await _submit(_core.acompletion_submit, params)
        except _RustLLMError as err:
            _raise(err, params)
        return CustomStreamWrapper(handle, params["model"], hidden, params.get("messages"))
    if mocked is not None:
        return mocked
    try:
        body, hidden, ms = await _submit(_core.acompletion_submit, params)
    except _RustLLMError as err:
        _raise(err, params)
    return ModelResponse._from_openai(body, hidden, ms)


def _embedding_params(params: dict[str, Any]) -> dict[str, Any]:
    if params.get("model") is None:
        raise ValueError("model param not passed in.")
    _apply_settings(params)
    if params.get("timeout") is not None:
        params["timeout"] = _timeout_seconds(params["timeout"])
    return params


def _observed(params: dict[str, Any]) -> bool:
    return bool((callbacks and not _only_quiet_guardrails(callbacks)) or _observed_otherwise(params))


def _observed_otherwise(params: dict[str, Any]) -> bool:
    """Whether anything but ``rustllm.callbacks`` puts a call on the observed path."""
    return bool(
        _log_calls
        or input_callback
        or success_callback
        or failure_callback
        or _async_success_callback
        or _async_failure_callback
        or _async_input_callback
        or cache is not None
        or set_verbose
        or "callbacks" in params
        or "success_callback" in params
        or "failure_callback" in params
        or "guardrails" in params
    )


_guardrail_log = _py_logging.getLogger("rustllm")

# The last `callbacks` items seen, and the built-in guardrails among them that a call can
# run inside its Rust call (their Rust cores), or None.
_inline_seen: tuple[tuple, Any, tuple] = ((), None, ())


def _inline_guardrails(params: dict[str, Any]) -> bool:
    """Whether the call runs the registered guardrails inside its Rust call: when they are
    all built-ins that only check the request (block, mask or log; see
    ``_hooks.inline_builtins``), default_on, and nothing observes the call or would read
    their decisions. Their Rust cores are then handed over in ``params``
    (``_rustllm_guardrails``, which src/py/completion.rs ``call_map`` takes out: the check
    runs on the arguments the call converts anyway, with no Python around it). False: the
    observed path."""
    global _inline_seen
    key = tuple(callbacks)
    seen, cores, found = _inline_seen
    if key != seen:
        from rustllm import _hooks

        cores, found = _hooks.inline_builtins(key)
        _inline_seen = (key, cores, found)
    if cores is None or custom_provider_map or params.get("mock_response") is not None or _observed_otherwise(params):
        return False
    metadata = params.get("metadata")
    if isinstance(metadata, dict) and metadata.get("guardrails"):
        return False  # names to check against the registered ones
    for g in found:
        if g.default_on is not True:
            return False
    if _guardrail_log.isEnabledFor(_py_logging.INFO):  # each decision is logged
        return False
    params["_rustllm_guardrails"] = cores
    return True


# The last `callbacks` list seen and whether it held only guardrails with nothing to run.
_quiet_seen: tuple[tuple, bool] = ((), False)


def _only_quiet_guardrails(cbs: list) -> bool:
    """Whether ``callbacks`` holds only guardrails that override no hook (a call with
    them takes the plain path: they have nothing to run). Cached on the list's items."""
    global _quiet_seen
    key = tuple(cbs)
    seen, quiet = _quiet_seen
    if key == seen:
        return quiet
    from rustllm import _hooks

    quiet = _hooks.only_quiet_guardrails(key)
    _quiet_seen = (key, quiet)
    return quiet


def _embedding(params: dict[str, Any]) -> EmbeddingResponse:
    params = _embedding_params(params)
    if custom_provider_map:
        from rustllm import custom_llm

        found = custom_llm.handler_for(params)
        if found is not None:
            return custom_llm.embedding(params, found)
    try:
        body, hidden, ms = _core.embedding(params)
    except _RustLLMError as err:
        _raise(err, params)
    return EmbeddingResponse._from_openai(body, hidden, ms)


async def _aembedding(params: dict[str, Any]) -> EmbeddingResponse:
    params = _embedding_params(params)
    if custom_provider_map:
        from rustllm import custom_llm

        found = custom_llm.handler_for(params)
        if found is not None:
            return await custom_llm.aembedding(params, found)
    try:
        body, hidden, ms = await _submit(_core.aembedding_submit, params)
    except _RustLLMError as err:
        _raise(err, params)
    return EmbeddingResponse._from_openai(body, hidden, ms)


def embedding(
    model: str | None = None,
    input: Any = None,
    dimensions: int | None = None,
    encoding_format: str | None = None,
    timeout: float | str | None = 600,
    api_base: str | None = None,
    api_version: str | None = None,
    api_key: str | None = None,
    api_type: str | None = None,
    caching: bool | None = None,
    user: str | None = None,
    custom_llm_provider: str | None = None,
    **kwargs: Any,
) -> EmbeddingResponse:
    """Embeddings from an OpenAI-compatible provider, with LiteLLM's signature.

    ``input`` is a string or a list of strings (or token lists). Returns an
    :class:`EmbeddingResponse` whose ``data`` items are plain dicts, as in LiteLLM.
    """
    params = _collect(locals())
    if _observed(params):
        from rustllm import _hooks

        return _hooks.call("embedding", params, _embedding)
    return _embedding(params)


async def aembedding(
    model: str | None = None,
    input: Any = None,
    dimensions: int | None = None,
    encoding_format: str | None = None,
    timeout: float | str | None = 600,
    api_base: str | None = None,
    api_version: str | None = None,
    api_key: str | None = None,
    api_type: str | None = None,
    caching: bool | None = None,
    user: str | None = None,
    custom_llm_provider: str | None = None,
    **kwargs: Any,
) -> EmbeddingResponse:
    """The async twin of :func:`embedding`."""
    params = _collect(locals())
    if _observed(params):
        from rustllm import _hooks

        return await _hooks.acall("aembedding", params, _aembedding)
    return await _aembedding(params)


def get_llm_provider(
    model: str,
    custom_llm_provider: str | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
    litellm_params: Any = None,
) -> tuple[str, str, str | None, str | None]:
    """LiteLLM's ``get_llm_provider``: ``(model, provider, api_key, api_base)``.

    Raises ``BadRequestError`` with LiteLLM's guidance when no provider can be determined.
    """
    if custom_provider_map:
        from rustllm import custom_llm

        found = custom_llm.handler_for({"model": model, "custom_llm_provider": custom_llm_provider})
        if found is not None:
            return found[2], found[1], api_key, api_base
    try:
        return _core.get_llm_provider(model, custom_llm_provider, api_base, api_key)
    except _RustLLMError as err:
        _raise(err)
        raise  # unreachable; keeps type checkers content


def token_counter(
    model: str = "",
    custom_tokenizer: Any = None,
    text: str | list | None = None,
    messages: list | None = None,
    count_response_tokens: bool = False,
    tools: list | None = None,
    tool_choice: Any = None,
    **kwargs: Any,
) -> int:
    """Tokens in ``text`` or ``messages`` for ``model``, counted as tiktoken counts them
    (o200k_base for GPT-4o/4.1/5 and o-series, cl100k_base otherwise). Messages use
    LiteLLM's chat accounting: one user message ``"hello world"`` is 9 tokens."""
    if isinstance(text, list):
        text = "".join(t for t in text if isinstance(t, str))
    return _core.token_counter(model or "", text, messages)


def encode(model: str = "", text: str = "", custom_tokenizer: Any = None) -> list[int]:
    """Token ids of ``text`` in ``model``'s tiktoken encoding."""
    return _core.encode(model or "", text)


def decode(model: str = "", tokens: list[int] | None = None, custom_tokenizer: Any = None) -> str:
    """The text of token ids in ``model``'s tiktoken encoding."""
    return _core.decode(model or "", list(tokens or []))


# ---------------------------------------------------------------------------------------
# Logging, the module cache, text and batch completion.
# ---------------------------------------------------------------------------------------
def turn_on_debug() -> None:
    """Log every call on LiteLLM's loggers at DEBUG: the call and its outcome, the HTTP
    request as a curl command and the raw reply (secrets masked), the Router's
    decisions. Printed on stderr unless the program's own logging shows them.
    ``LITELLM_LOG=DEBUG`` does the same at import."""
    global _log_calls
    from rustllm import _logging

    _logging.turn_on_debug()
    _log_calls = True


_turn_on_debug = turn_on_debug


def _log_from_env() -> None:
    """``LITELLM_LOG=DEBUG`` (or INFO, WARNING, ...) sets LiteLLM's loggers' level;
    DEBUG and INFO also log each call (DEBUG with its raw HTTP request and reply)."""
    global _log_calls
    value = _os.environ.get("LITELLM_LOG")
    if value:
        from rustllm import _logging

        if _logging.from_env(value):
            _log_calls = True


def enable_cache(
    type: Any = "local",
    host: str | None = None,
    port: str | int | None = None,
    password: str | None = None,
    supported_call_types: list[str] | None = None,
    **kwargs: Any,
) -> None:
    """Set ``rustllm.cache`` to a new :class:`Cache` with these arguments, unless one is
    already set (LiteLLM's ``enable_cache``)."""
    global cache
    if cache is None:
        from rustllm.caching import Cache

        cache = Cache(
            type=type, host=host, port=port, password=password, supported_call_types=supported_call_types, **kwargs
        )


def update_cache(
    type: Any = "local",
    host: str | None = None,
    port: str | int | None = None,
    password: str | None = None,
    supported_call_types: list[str] | None = None,
    **kwargs: Any,
) -> None:
    """Replace ``rustllm.cache`` with a new :class:`Cache` (LiteLLM's ``update_cache``)."""
    global cache
    from rustllm.caching import Cache

    cache = Cache(
        type=type, host=host, port=port, password=password, supported_call_types=supported_call_types, **kwargs
    )


def disable_cache() -> None:
    """Stop caching: ``rustllm.cache = None`` (LiteLLM's ``disable_cache``)."""
    global cache
    cache = None
    for callbacks_list in (input_callback, success_callback):
        while "cache" in callbacks_list:
            callbacks_list.remove("cache")


from rustllm._anthropic_messages import aanthropic_messages, anthropic_messages  # noqa: E402
from rustllm._batch import (  # noqa: E402  (they look up completion at call time)
    acompletion_with_retries,
    batch_completion,
    batch_completion_models,
    batch_completion_models_all_responses,
    completion_with_retries,
)
from rustllm._responses import (  # noqa: E402
    ResponsesAPIResponse,
    ResponsesAPIStreamingIterator,
    adelete_response,
    aget_response,
    aresponses,
    aresponses_with_retries,
    delete_response,
    get_response,
    responses,
    responses_with_retries,
)
from rustllm._text import TextCompletionStreamWrapper, atext_completion, text_completion  # noqa: E402

openai_compatible_providers: list[str] = _core.openai_compatible_providers()
provider_list: list[str] = _core.provider_list()
# The Azure api-version rustllm sends when neither `api_version=` nor AZURE_API_VERSION
# is set (read from the Azure adapter; assigning this name does not change it).
AZURE_DEFAULT_API_VERSION: str = _core.AZURE_DEFAULT_API_VERSION

_EXCEPTION_NAMES = frozenset(
    {
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "BadRequestError",
        "ContextWindowExceededError",
        "ContentPolicyViolationError",
        "UnsupportedParamsError",
        "RejectedRequestError",
        "LiteLLMUnknownProvider",
        "UnprocessableEntityError",
        "Timeout",
        "RateLimitError",
        "InternalServerError",
        "ServiceUnavailableError",
        "BadGatewayError",
        "APIError",
        "MockException",
        "APIConnectionError",
        "APIResponseValidationError",
        "JSONSchemaValidationError",
        "OpenAIError",
        "InvalidRequestError",
        "BudgetExceededError",
        "MidStreamFallbackError",
        "RouterRateLimitError",
        "LITELLM_EXCEPTION_TYPES",
    }
)


def __getattr__(name: str) -> Any:
    # Exception classes are built on first use so `import rustllm` never imports openai.
    if name in _EXCEPTION_NAMES:
        from rustllm import exceptions

        value = getattr(exceptions, name)
        globals()[name] = value
        return value
    if name in ("model_cost", "model_list"):
        from rustllm import catalogue

        return getattr(catalogue, name)
    if name == "anthropic":
        # LiteLLM's `litellm.anthropic` is its `anthropic_interface` package.
        from rustllm import anthropic_interface

        return anthropic_interface
    if name in ("testing", "display", "guardrails"):
        import importlib

        return importlib.import_module(f"rustllm.{name}")
    if name in ("Cache", "CacheMode", "LiteLLMCacheType"):
        from rustllm import caching

        return getattr(caching, name)
    if name == "CustomLogger":
        from rustllm.integrations.custom_logger import CustomLogger

        return CustomLogger
    if name in ("display_stream", "adisplay_stream"):
        from rustllm import display

        return getattr(display, name)
    if name in _LAZY_NAMES:
        import importlib

        return getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    if not name.startswith("_"):
        import importlib

        # LiteLLM's public submodules (`litellm.utils`, `litellm.types`, ...) are
        # attributes of the package without an import, as in LiteLLM.
        if name in importlib.import_module("rustllm._litellm_tree").TOP_LEVEL:
            return importlib.import_module(f"rustllm.{name}")
        # Every request type of litellm.types.llms.openai is a top-level name too.
        openai_types = importlib.import_module("rustllm.types.llms.openai")
        if name in openai_types.__all__:
            return getattr(openai_types, name)
    raise AttributeError(f"module 'rustllm' has no attribute {name!r}")


# ---------------------------------------------------------------------------------------
# LiteLLM's other top-level names that programs and frameworks use.
# ---------------------------------------------------------------------------------------
# Settings programs assign; rustllm accepts them and reads none of them (yet).
modify_params: bool = False
add_function_to_prompt: bool = False
disable_aiohttp_transport: bool = False  # rustllm's HTTP client is Rust (reqwest), never aiohttp
use_litellm_proxy: bool = False  # to reach a LiteLLM proxy, set api_base
model_fallbacks: list | None = None  # fallbacks are the Router's
# When True, the call's messages are left out of exceptions' `litellm_debug_info`.
redact_messages_in_exceptions: bool = False
# Frameworks append loggers and functions here (LiteLLM files `callbacks` entries under
# them): their entries run like those of input_callback / success_callback /
# failure_callback (see rustllm._hooks), so appending has LiteLLM's effect on async calls.
_async_input_callback: list = []
_async_success_callback: list = []
_async_failure_callback: list = []
service_callback: list = []  # accepted; rustllm emits no service-health events
# LiteLLM's list of OpenAI chat parameters (its duplicate "temperature" included).
OPENAI_CHAT_COMPLETION_PARAMS: list[str] = [
    "functions",
    "function_call",
    "temperature",
    "temperature",
    "top_p",
    "n",
    "stream",
    "stream_options",
    "stop",
    "max_completion_tokens",
    "modalities",
    "prediction",
    "audio",
    "max_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "user",
    "request_timeout",
    "api_base",
    "api_version",
    "api_key",
    "deployment_id",
    "organization",
    "base_url",
    "default_headers",
    "timeout",
    "response_format",
    "seed",
    "tools",
    "tool_choice",
    "max_retries",
    "parallel_tool_calls",
    "logprobs",
    "top_logprobs",
    "reasoning_effort",
    "extra_headers",
    "thinking",
    "web_search_options",
]
# Functions and classes defined in the modules of LiteLLM's tree, imported on first use.
_LAZY_NAMES = {
    "validate_environment": "rustllm.utils",
    "get_secret": "rustllm.secret_managers.main",
    "get_secret_bool": "rustllm.secret_managers.main",
    "get_model_cost_map": "rustllm.litellm_core_utils.get_model_cost_map",
    "mock_completion": "rustllm.main",
    "CustomLLM": "rustllm.custom_llm",
    "CustomLLMError": "rustllm.custom_llm",
    "GenericStreamingChunk": "rustllm.types.utils",
    "HiddenParams": "rustllm.types.utils",
    "TranscriptionResponse": "rustllm.types.utils",
    "InMemoryCache": "rustllm.caching.in_memory_cache",
    "stream_chunk_builder_text_completion": "rustllm.main",
    "verbose_logger": "rustllm._logging",
}
# Custom providers: `[{"provider": "my-custom-llm", "custom_handler": MyLLM()}]` serves
# `model="my-custom-llm/..."` with the handler (rustllm.custom_llm), directly and through
# the Router. Read at each call, so it can be assigned or appended to at any time.
custom_provider_map: list = []


def install_as_litellm() -> None:
    """Make ``import litellm`` (and ``import litellm.utils``, ``litellm.types.router``,
    ...) give rustllm's modules, for code you cannot edit that imports litellm.

    Call it first thing in your entry point, before anything imports litellm; or run a
    program unchanged with ``python -m rustllm.as_litellm app.py [args]`` (or ``-m
    module``). It installs an import hook for this process only: nothing runs at
    interpreter start and no ``.pth`` file is written. Calling it again does nothing.
    ``litellm.X`` for a module rustllm does not provide raises ModuleNotFoundError naming
    it. Raises RuntimeError if the real litellm is already imported.
    """
    from rustllm._litellm_alias import install

    install()


__all__ = [
    "install_as_litellm",
    "validate_environment",
    "get_secret",
    "get_secret_bool",
    "get_model_cost_map",
    "mock_completion",
    "CustomLLM",
    "custom_provider_map",
    "OPENAI_CHAT_COMPLETION_PARAMS",
    "all_litellm_params",
    "completion",
    "acompletion",
    "embedding",
    "aembedding",
    "rerank",
    "arerank",
    "moderation",
    "amoderation",
    "RerankResponse",
    "OpenAIModerationResponse",
    "image_generation",
    "aimage_generation",
    "image_edit",
    "aimage_edit",
    "ImageResponse",
    "ImageObject",
    "speech",
    "aspeech",
    "transcription",
    "atranscription",
    "create_file",
    "acreate_file",
    "file_retrieve",
    "afile_retrieve",
    "file_content",
    "afile_content",
    "file_delete",
    "afile_delete",
    "file_list",
    "afile_list",
    "create_batch",
    "acreate_batch",
    "retrieve_batch",
    "aretrieve_batch",
    "list_batches",
    "alist_batches",
    "cancel_batch",
    "acancel_batch",
    "FileObject",
    "FileDeleted",
    "Batch",
    "HttpxBinaryResponseContent",
    "health_check",
    "ahealth_check",
    "check_valid_key",
    "get_valid_models",
    "trim_messages",
    "BudgetManager",
    "text_completion",
    "atext_completion",
    "TextCompletionStreamWrapper",
    "responses",
    "aresponses",
    "responses_with_retries",
    "aresponses_with_retries",
    "get_response",
    "aget_response",
    "delete_response",
    "adelete_response",
    "ResponsesAPIResponse",
    "ResponsesAPIStreamingIterator",
    "anthropic_messages",
    "aanthropic_messages",
    "batch_completion",
    "batch_completion_models",
    "batch_completion_models_all_responses",
    "completion_with_retries",
    "acompletion_with_retries",
    "Cache",
    "InMemoryCache",
    "enable_cache",
    "disable_cache",
    "update_cache",
    "CustomLogger",
    "turn_on_debug",
    "get_llm_provider",
    "token_counter",
    "encode",
    "decode",
    "get_model_info",
    "register_model",
    "supports_function_calling",
    "supports_parallel_function_calling",
    "supports_vision",
    "supports_response_schema",
    "supports_reasoning",
    "supports_tool_choice",
    "supports_prompt_caching",
    "supports_system_messages",
    "get_supported_openai_params",
    "get_max_tokens",
    "cost_per_token",
    "completion_cost",
    "model_cost",
    "model_list",
    "stream_chunk_builder",
    "stream_chunk_builder_text_completion",
    "display_stream",
    "adisplay_stream",
    "CustomStreamWrapper",
    "Router",
    "RetryPolicy",
    "AllowedFailsPolicy",
    "ModelResponse",
    "ModelResponseStream",
    "Choices",
    "StreamingChoices",
    "Message",
    "Delta",
    "Usage",
    "ChatCompletionMessageToolCall",
    "ChatCompletionDeltaToolCall",
    "Function",
    "FunctionCall",
    "EmbeddingResponse",
    "TextCompletionResponse",
    "TextChoices",
    "HiddenParams",
    "TranscriptionResponse",
    "AZURE_DEFAULT_API_VERSION",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "BadRequestError",
    "ContextWindowExceededError",
    "ContentPolicyViolationError",
    "UnsupportedParamsError",
    "RejectedRequestError",
    "LiteLLMUnknownProvider",
    "UnprocessableEntityError",
    "Timeout",
    "RateLimitError",
    "InternalServerError",
    "ServiceUnavailableError",
    "BadGatewayError",
    "APIError",
    "MockException",
    "APIConnectionError",
    "APIResponseValidationError",
    "JSONSchemaValidationError",
    "OpenAIError",
    "InvalidRequestError",
    "BudgetExceededError",
    "MidStreamFallbackError",
    "RouterRateLimitError",
    "LITELLM_EXCEPTION_TYPES",
]

_log_from_env()
