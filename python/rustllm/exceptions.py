"""LiteLLM's exception classes, with LiteLLM's names, hierarchy, constructors and messages.

``except litellm.RateLimitError`` and ``except openai.OpenAIError`` keep working after
``import rustllm as litellm``: whenever the ``openai`` package is in use, every class here
subclasses the matching ``openai`` class (``RateLimitError(openai.RateLimitError)``, ...),
exactly as LiteLLM's do.

Importing openai costs about a second, so nothing here ever imports it: not ``import
rustllm``, not the first exception. The classes are built together on first attribute
access (PEP 562 module ``__getattr__``, which ``from rustllm.exceptions import
RateLimitError`` and the first raised error also trigger) and cached in the module
globals. Their bases are openai's when ``openai`` is already in ``sys.modules`` at that
moment, and otherwise small local stand-ins with the same names, shape and hierarchy.

That is enough for ``except openai.X``: ``except`` matches by the real MRO, so the
classes must really derive from openai's, but code that names ``openai.X`` has imported
openai before the error it catches is raised. If openai is imported after the classes
were built, they are rebased onto openai's classes (``__bases__`` assignment: the class
objects stay the same, so every reference to them, ``rustllm.RateLimitError`` included,
and every instance already raised follow). The rebase runs when openai's import finishes
(a one-shot meta-path finder watches for it while the classes sit on the stand-ins) and,
should another finder have loaded openai, before the next exception is built (a
``sys.modules`` look-up per exception while on the stand-ins; none after).

Without openai installed at all, the stand-ins stay: catch by LiteLLM's names
(``except litellm.RateLimitError``), or every mapped error with
``except tuple(litellm.LITELLM_EXCEPTION_TYPES)``. ``litellm.OpenAIError`` is LiteLLM's
wrapper class (it wraps another exception), not the base of the others, as in LiteLLM.

Every exception carries ``message``, ``status_code``, ``llm_provider``, ``model``,
``litellm_debug_info``, ``max_retries``, ``num_retries`` and ``response`` (a minimal fake
response when none is given), plus ``request`` and ``body`` where openai's base has them.
``str(e) == repr(e)``: the message, then ``" LiteLLM Retried: N times"`` if
``num_retries`` is truthy, then ``", LiteLLM Max Retries: M"`` if ``max_retries`` is.

Every exception pickles and copies (multiprocessing pools send them between processes).
"""

from __future__ import annotations

import _thread
import importlib.util
import sys
import types

TYPE_CHECKING = False  # avoids importing `typing` at runtime; type checkers see True
if TYPE_CHECKING:
    from typing import Any

    # Built at runtime by `_build()` on first access; declared here for linters and type
    # checkers, which cannot see names that a module `__getattr__` provides.
    AuthenticationError: Any
    PermissionDeniedError: Any
    NotFoundError: Any
    BadRequestError: Any
    ContextWindowExceededError: Any
    ContentPolicyViolationError: Any
    UnsupportedParamsError: Any
    RejectedRequestError: Any
    LiteLLMUnknownProvider: Any
    UnprocessableEntityError: Any
    Timeout: Any
    RateLimitError: Any
    InternalServerError: Any
    ServiceUnavailableError: Any
    BadGatewayError: Any
    APIError: Any
    MockException: Any
    APIConnectionError: Any
    APIResponseValidationError: Any
    JSONSchemaValidationError: Any
    OpenAIError: Any
    InvalidRequestError: Any
    MidStreamFallbackError: Any
    LITELLM_EXCEPTION_TYPES: Any

__all__ = [
    "LITELLM_EXCEPTION_TYPES",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "AuthenticationError",
    "BadGatewayError",
    "BadRequestError",
    "BlockedPiiEntityError",
    "BudgetExceededError",
    "ContentPolicyViolationError",
    "ContextWindowExceededError",
    "GuardrailRaisedException",
    "InternalServerError",
    "InvalidRequestError",
    "JSONSchemaValidationError",
    "LiteLLMUnknownProvider",
    "MidStreamFallbackError",
    "MockException",
    "NotFoundError",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "RejectedRequestError",
    "RouterRateLimitError",
    "ServiceUnavailableError",
    "Timeout",
    "UnprocessableEntityError",
    "UnsupportedParamsError",
]

# Names that only exist once the openai-derived classes have been built.
_LAZY_NAMES = frozenset(__all__) - {
    "BudgetExceededError",
    "RouterRateLimitError",
    "GuardrailRaisedException",
    "BlockedPiiEntityError",
}

# LiteLLM's text for an unmapped provider (LiteLLMCommonStrings.llm_provider_not_provided).
_UNKNOWN_PROVIDER_TEXT = (
    "Unmapped LLM provider for this endpoint. You passed model={model}, "
    "custom_llm_provider={custom_llm_provider}. Check supported provider and route: "
    "https://docs.litellm.ai/docs/providers"
)

# LiteLLM's RouterErrors.no_deployments_available.
_NO_DEPLOYMENTS_TEXT = "No deployments available for selected model"


# --------------------------------------------------------------------------------------
# Pickling and the str/repr rule, shared by every class
# --------------------------------------------------------------------------------------


def _restore(cls: type, args: tuple) -> BaseException:
    """Recreate an exception for unpickling/copying without running its ``__init__``.

    LiteLLM's constructors take required arguments that ``BaseException.args`` does not
    hold (and openai's need an httpx request), so the default ``cls(*args)`` fails; the
    instance ``__dict__`` is restored afterwards by pickle/copy as usual.
    """
    exc = cls.__new__(cls)
    exc.args = args
    return exc


class _ReducesByState:
    """Mixin: pickle and copy by instance state instead of by re-calling ``__init__``."""

    def __reduce__(self) -> tuple:
        return (_restore, (type(self), self.args), dict(self.__dict__))


class _LiteLLMErrorMixin(_ReducesByState):
    """Mixin: LiteLLM's ``str``/``repr`` (message plus the retry counts when set)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        # On the stand-ins, openai may have been imported since (by a finder that is not
        # ours): rebase first, so that `except openai.X` catches this one.
        if _stand_ins is not None and sys.modules.get("openai") is not None:
            _rebase_onto_openai()
        return super().__new__(cls, *args, **kwargs)

    def __str__(self) -> str:
        text = str(getattr(self, "message", ""))
        num_retries = getattr(self, "num_retries", None)
        max_retries = getattr(self, "max_retries", None)
        if num_retries:
            text += f" LiteLLM Retried: {num_retries} times"
        if max_retries:
            text += f", LiteLLM Max Retries: {max_retries}"
        return text

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_html_(self) -> str:
        from rustllm.display import error_html

        return error_html(self)

    def _repr_markdown_(self) -> str:
        from rustllm.display import error_markdown

        return error_markdown(self)


def _set_litellm_fields(
    exc: Any,
    llm_provider: Any,
    model: Any,
    litellm_debug_info: Any = None,
    max_retries: Any = None,
    num_retries: Any = None,
) -> None:
    exc.llm_provider = llm_provider
    exc.model = model
    exc.litellm_debug_info = litellm_debug_info
    exc.max_retries = max_retries
    exc.num_retries = num_retries


# --------------------------------------------------------------------------------------
# Classes that need no openai base: defined eagerly
# --------------------------------------------------------------------------------------


class BudgetExceededError(_ReducesByState, Exception):
    """Raised when a call would take spending past ``max_budget`` (a plain ``Exception``)."""

    def __init__(self, current_cost: float, max_budget: float, message: str | None = None) -> None:
        self.current_cost = current_cost
        self.max_budget = max_budget
        self.message = message or f"Budget has been exceeded! Current cost: {current_cost}, Max budget: {max_budget}"
        super().__init__(self.message)


class RouterRateLimitError(_ReducesByState, ValueError):
    """Raised by the Router when every deployment of a model group is cooling down."""

    def __init__(
        self,
        model: str,
        cooldown_time: float,
        enable_pre_call_checks: bool,
        cooldown_list: list,
    ) -> None:
        self.model = model
        self.cooldown_time = cooldown_time
        self.enable_pre_call_checks = enable_pre_call_checks
        self.cooldown_list = cooldown_list
        self.message = (
            f"{_NO_DEPLOYMENTS_TEXT}, Try again in {cooldown_time} seconds. Passed model={model}."
            f" pre-call-checks={enable_pre_call_checks}, cooldown_list={cooldown_list}"
        )
        super().__init__(self.message)


class GuardrailRaisedException(_ReducesByState, Exception):
    """Raised when a guardrail rejects a request or a response."""

    def __init__(
        self,
        guardrail_name: str | None = None,
        message: str = "",
        should_wrap_with_default_message: bool = True,
    ) -> None:
        self.guardrail_name = guardrail_name
        if should_wrap_with_default_message:
            message = f"Guardrail raised an exception, Guardrail: {guardrail_name}, Message: {message}"
        self.message = message
        super().__init__(self.message)


class BlockedPiiEntityError(_ReducesByState, Exception):
    """Raised when a guardrail finds a PII entity type that is not allowed."""

    def __init__(self, entity_type: str, guardrail_name: str | None = None) -> None:
        self.entity_type = entity_type
        self.guardrail_name = guardrail_name
        self.message = (
            f"Blocked entity detected: {entity_type} by Guardrail: {guardrail_name}. "
            "This entity is not allowed to be used in this request."
        )
        super().__init__(self.message)


# --------------------------------------------------------------------------------------
# Stand-ins for openai's bases and httpx's request/response, used without openai
# --------------------------------------------------------------------------------------


class _StandInHeaders(dict):
    """Response headers with case-insensitive look-up, like ``httpx.Headers``."""

    def __init__(self, headers: Any = None) -> None:
        super().__init__()
        for name, value in dict(headers or {}).items():
            self[str(name).lower()] = value

    def __getitem__(self, name: str) -> Any:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:
        """Return the header ``name`` (any case), or ``default``."""
        return super().get(name.lower(), default)


class _StandInRequest:
    """What rustllm exceptions keep as ``request`` when httpx is not in use."""

    def __init__(self, method: str, url: str) -> None:
        self.method = method
        self.url = url

    def __repr__(self) -> str:
        return f"<Request({self.method!r}, {self.url!r})>"


class _StandInResponse:
    """What rustllm exceptions keep as ``response`` when httpx is not in use."""

    def __init__(self, status_code: int, headers: Any = None, request: _StandInRequest | None = None) -> None:
        self.status_code = status_code
        self.headers = _StandInHeaders(headers)
        self.request = request

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"


def _stand_in_openai() -> types.SimpleNamespace:
    """Bases with the shape (names, hierarchy, constructors) of openai's exceptions."""

    class OpenAIError(Exception):
        pass

    class APIError(OpenAIError):
        def __init__(self, message: str, request: Any, *, body: Any) -> None:
            super().__init__(message)
            self.request = request
            self.message = message
            self.body = body
            if isinstance(body, dict):
                code = body.get("code")
                self.code = str(code) if code is not None else None
                self.param = body.get("param")
                self.type = body.get("type")
            else:
                self.code = None
                self.param = None
                self.type = None

    class APIResponseValidationError(APIError):
        def __init__(self, response: Any, body: Any, *, message: str | None = None) -> None:
            super().__init__(
                message or "Data returned by API invalid for expected schema.",
                response.request,
                body=body,
            )
            self.response = response
            self.status_code = response.status_code

    class APIStatusError(APIError):
        def __init__(self, message: str, *, response: Any, body: Any) -> None:
            super().__init__(message, response.request, body=body)
            self.response = response
            self.status_code = response.status_code
            self.request_id = response.headers.get("x-request-id")

    class APIConnectionError(APIError):
        def __init__(self, *, message: str = "Connection error.", request: Any) -> None:
            super().__init__(message, request, body=None)

    class APITimeoutError(APIConnectionError):
        def __init__(self, request: Any) -> None:
            super().__init__(message="Request timed out.", request=request)

    namespace = types.SimpleNamespace(
        OpenAIError=OpenAIError,
        APIError=APIError,
        APIResponseValidationError=APIResponseValidationError,
        APIStatusError=APIStatusError,
        APIConnectionError=APIConnectionError,
        APITimeoutError=APITimeoutError,
    )
    for name in (
        "BadRequestError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "ConflictError",
        "UnprocessableEntityError",
        "RateLimitError",
        "InternalServerError",
    ):
        setattr(namespace, name, type(name, (APIStatusError,), {}))
    for cls in vars(namespace).values():
        cls.__module__ = __name__
        cls.__qualname__ = "_stand_in_openai." + cls.__name__
    return namespace


def _loaded_openai() -> Any:
    """The openai package if it is already imported (never imports it), else None."""
    openai = sys.modules.get("openai")
    # A module still being imported lacks its classes: treat it as not loaded yet.
    return openai if isinstance(getattr(openai, "APIStatusError", None), type) else None


def _http_library(openai: Any) -> Any:
    """The HTTP library openai's exceptions use: httpx (openai 1.x/2.x) or httpx2 (later).

    Exceptions carry its Request/Response, so ``isinstance(e.response, <openai's
    lib>.Response)`` holds and openai's code paths see the type they expect.
    """
    exceptions_module = getattr(openai, "_exceptions", None)
    http = getattr(exceptions_module, "httpx", None) or getattr(exceptions_module, "httpx2", None)
    if http is None:
        try:
            import httpx as http
        except ImportError:
            import httpx2 as http
    return http


_STAND_IN_HTTP = types.SimpleNamespace(Request=_StandInRequest, Response=_StandInResponse)


class _OpenAIImportWatcher:
    """A meta-path finder that waits for ``import openai`` to rebase the classes onto
    openai's as soon as its module has run. It sits on ``sys.meta_path`` only while the
    classes are on the stand-ins and openai is installed, and leaves at the first
    ``import openai``; for any other module it answers None at once."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        """Find openai with the other finders and run the rebase after its module."""
        if fullname != "openai":
            return None
        _stop_watching()
        spec = importlib.util.find_spec(fullname)
        loader = getattr(spec, "loader", None)
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return spec  # the next exception built rebases instead

        def exec_then_rebase(module: Any) -> None:
            exec_module(module)
            try:
                _rebase_onto_openai()
            except Exception:  # noqa: BLE001 - never fail the user's `import openai`
                pass  # (the next exception built tries again)

        try:
            loader.exec_module = exec_then_rebase  # this loader serves this import only
        except AttributeError:
            pass
        return spec


_watcher: _OpenAIImportWatcher | None = None


def _watch_for_openai() -> None:
    global _watcher
    try:
        installed = importlib.util.find_spec("openai") is not None
    except (ImportError, ValueError):
        installed = False
    if installed and _watcher is None:
        _watcher = _OpenAIImportWatcher()
        sys.meta_path.insert(0, _watcher)


def _stop_watching() -> None:
    global _watcher
    watcher, _watcher = _watcher, None
    if watcher is not None:
        try:
            sys.meta_path.remove(watcher)
        except ValueError:
            pass


# --------------------------------------------------------------------------------------
# The openai-derived classes, built on first access
# --------------------------------------------------------------------------------------


def _define_classes(oa: Any) -> dict[str, Any]:
    """Define LiteLLM's classes on ``oa`` (openai, or the stand-in) and return them by name."""

    def fake_request(method: str = "POST", url: str = "https://api.openai.com/v1") -> Any:
        # `_http` follows a rebase onto openai's classes (their library from then on).
        return _http.Request(method=method, url=url)

    def fake_response(
        status_code: Any, headers: Any = None, method: str = "GET", url: str = "https://litellm.ai"
    ) -> Any:
        if not isinstance(status_code, int):
            status_code = 500
        return _http.Response(status_code=status_code, headers=headers, request=fake_request(method, url))

    def usable(response: Any) -> bool:
        # openai's base reads `response.request`; httpx raises RuntimeError when a
        # response was built without one, so only such a response is replaced.
        if response is None:
            return False
        try:
            return response.request is not None
        except (RuntimeError, AttributeError):
            return False

    def or_fake(response: Any, status_code: int) -> Any:
        if usable(response):
            return response
        return fake_response(status_code, headers=getattr(response, "headers", None))

    def rebuilt(response: Any, status_code: int) -> Any:
        # LiteLLM rebuilds these responses with the class's status and the given headers.
        return fake_response(
            status_code,
            headers=getattr(response, "headers", None),
            method="POST",
            url="https://cloud.google.com/vertex-ai/",
        )

    class AuthenticationError(_LiteLLMErrorMixin, oa.AuthenticationError):
        """401: the provider rejected the API key (``openai.AuthenticationError``)."""

        def __init__(
            self,
            message: Any,
            llm_provider: Any,
            model: Any,
            response: Any = None,
            litellm_debug_info: str | None = None,
            max_retries: int | None = None,
            num_retries: int | None = None,
        ) -> None:
            self.status_code = 401
            self.message = f"litellm.AuthenticationError: {message}"
            _set_litellm_fields(self, llm_provider, model, litellm_debug_info, max_retries, num_retries)
            self.response = or_fake(response, 401)
            super().__init__(self.message, response=self.response, body=None)

    class PermissionDeniedError(_LiteLLMErrorMixin, oa.PermissionDeniedError):
        """403: the key may not use this model or resource (``openai.PermissionDeniedError``)."""

        def __init__(
            self,
            message: Any,
            llm_provider: Any,
            model: Any,
            response: Any = None,
            litellm_debug_info: str | None = None,
            max_retries: int | None = None,
            num_retries: int | None = None,
        ) -> None:
            self.status_code = 403
            self.message = f"litellm.PermissionDeniedError: {message}"
            _set_litellm_fields(self, llm_provider, model, litellm_debug_info, max_retries, num_retries)
            self.response = or_fake(response, 403)
            super().__init__(self.message, response=self.response, body=None)

    class NotFoundError(_LiteLLMErrorMixin, oa.NotFoundError):
        """404: unknown model or endpoint (``openai.NotFoundError``)."""

        def __init__(
            self,
            message: Any,
            model: Any,
            llm_provider: Any,
            response: Any = None,
            litellm_debug_info: str | None = None,
            max_retries: int | None = None,
            num_retries: int | None = None,
        ) -> None:
            self.status_code = 404
            self.message = f"litellm.NotFoundError: {message}"
            _set_litellm_fields(self, llm_provider, model, litellm_debug_info, max_retries, num_retries)
            self.response = or_fake(response, 404)
            super().__init__(self.message, response=self.response, body=None)

    class BadRequestError(_LiteLLMErrorMixin, oa.BadRequestError):
        """400: the provider refused the request as invalid (``openai.BadRequestError``)."""

        def __init__(
            self,
            message: Any,
            model: Any,
            llm_provider: Any,
            response: Any = None,
            litellm_debug_info: str | None = None,
            max_retries: int | None = None,
            num_retries: int | None = None,
            body: dict | None = None,
        ) -> None:
            self.status_code = 400
            self.message = f"litellm.BadRequestError: {message}"
            _set_litellm_fields(self, llm_provider, model, litellm_debug_info, max_retries, num_retries)
            self.response = response if usable(response) else fake_response(400)
            super().__init__(self.message, response=self.response, body=body)

    class ContextWindowExceededError(BadRequestError):
        """400: the prompt is longer than the model's context window."""

        def __init__(
            self,
            message: Any,
            model: Any,
            llm_provider: Any,
            response: Any = None,
            litellm_debug_info: str | None = None,
        ) -> None:
            super().__init__(
                message=message,
                model=model,
                llm_provider=llm_provider,
                response=response,
                litellm_debug_info=litellm_debug_info,
            )
            # LiteLLM prefixes after the base did: "litellm.ContextWindowExceededError:
            # litellm.BadRequestError: ...", which users match on.
            self.message = f"litellm.ContextWindowExceededError: {self.message}"

    class ContentPolicyViolationError(BadRequestError):
        """400: the provider's safety system refused the prompt or the output."""

        def __init__(
            self,
            message: Any,
            model: Any,
            llm_provider: Any,
            response: Any = None,
            litellm_debug_info: str | None = None,
            provider_specific_fields: dict | None = None,
            body: dict | None = None,
        ) -> None:
            self.provider_specific_fields = provider_specific_fields
            # LiteLLM's base adds its own prefix in front of this one.
            super().__init__(
                message=f"litellm.ContentPolicyViolationError: {message}",
                model=model,
                llm_provider=llm_provider,
                response=response,
                litellm_debug_info=litellm_debug_info,
                body=body,
            )

    class RejectedRequestError(BadRequestError):
        """400: a guardrail rejected the request before it was sent."""

        def __init__(
            self,
            message: Any,
            model: Any,
            llm_provider: Any,
            request_data: dict,
            litellm_debug_info: str | None = None,
        ) -> None:
            self.request_data = request_data
            super().__init__(
                message=f"litellm.RejectedRequestError: {message}",
                model=model,
                llm_provider=llm_provider,
                response=fake_response(400, method="POST", url="https://api.openai.com/v1"),
                litellm_debug_info=litellm_debug_info,
            )

    class UnsupportedParamsError(BadRequestError):
        """400: a parameter the provider does not support (see ``drop_params``)."""

        def __init__(
            self,
            message: Any,
            llm_provider: str | None = None,
            model: str | None = None,
            status_code: int = 400,
            response: Any = None,
            litellm_debug_info: str | None = None,
            max_retries: int | None = None,
            num_retries: int | None = None,
        ) -> None:
            # LiteLLM never calls the base constructor here (so its instances lack
            # `response`/`request`/`body`); we do, and keep its message and fields.
            super().__init__(
                message=message,
                model=model,
                llm_provider=llm_provider,
                response=response if usable(response) else fake_response(status_code),
                litellm_debug_info=litellm_debug_info,
                max_retries=max_retries,
                num_retries=num_retries,
            )
            self.message = f"litellm.UnsupportedParamsError: {message}"
            self.status_code = status_code

    class LiteLLMUnknownProvider(BadRequestError):
        """400: no provider could be resolved for the model name."""

        def __init__(self, model: str, custom_llm_provider: str | None = None) -> None:
            text = _UNKNOWN_PROVIDER_TEXT.format(model=model, custom_llm_provider=custom_llm_provider)
            super().__init__(text, model=model, llm_provider=custom_llm_provider, response=None)

    class UnprocessableEntityError(_LiteLLMErrorMixin, oa.UnprocessableEntityError):
        """422: the request was well-formed but semantically invalid."""

        def __init__(
            self,
            message: Any,
            model: Any,
            llm_provider: Any,
            response: Any = None,
            litellm_debug_info: str | None = None,
            max_retries: int | None = None,
            num_retries: int | None = None,
        ) -> None:
            self.status_code = 422
            self.message = f"litellm.UnprocessableEntityError: {message}"
            _set_litellm_fields(self, llm_provider, model, litellm_debug_info, max_retries, num_retries)
            self.response = or_fake(response, 422)
            super().__init__(self.message, response=self.response, body=None)

    class Timeout(_LiteLLMErrorMixin, oa.APITimeoutError):
        """408 (or ``exception_status_code``): the call timed out (``openai.APITimeoutError``)."""

        def __init__(
            self,
            message: Any,
            model: Any,
            llm_provider: Any,
            litellm_debug_info: str | None = None,
            max_retries: int | None = None,
            num_retries: int | None = None,
            headers: dict | None = None,
            exception_status_code: int | None = None,
        ) -> None:
            super().__init__(request=fake_request())
            self.status_code = exception_status_code or 408
            self.message = f"litellm.Timeout: {message}"
            _set_litellm_fields(self, llm_provider, model, litellm_debug_info, max_retries, num_retries)
            self.headers = headers
            self.response = fake_response(self.status_code, headers=headers)

    class RateLimitError(_LiteLLMErrorMixin, oa.RateLimitError):
        """429: the provider throttled the call (``openai.RateLimitError``).

        ``headers`` holds the provider's response headers (``retry-after``,
        ``x-ratelimit-*``); ``response.headers`` carries the same.
        """

        def __init__(
            self,
            message: Any,
            llm_provider: Any,
            model: Any,
            response: Any = None,
            litellm_debug_info: str | None = None,
            max_retries: int | None = None,
            num_retries: int | None = None,
            *,
            headers: dict | None = None,
            category: str | None = None,
            rate_limit_type: str | None = None,
        ) -> None:
            self.status_code = 429
            self.message = f"litellm.RateLimitError: {message}"
            _set_litellm_fields(self, llm_provider, model, litellm_debug_info, max_retries, num_retries)
            if headers is None:
                headers = getattr(response, "headers", None)
            self.headers = dict(headers or {})
            self.category = category
            self.rate_limit_type = rate_limit_type
            self.response = fake_response(429, self.headers, method="POST", url="https://cloud.google.com/vertex-ai/")
            super().__init__(self.message, response=self.response, body=None)
            self.code = "429"
            self.type = "throttling_error"

    class InternalServerError(_LiteLLMErrorMixin, oa.InternalServerError):
        """500: the provider failed (``openai.InternalServerError``)."""

        def __init__(
            self,
            message: Any,
            llm_provider: Any,
            model: Any,
            response: Any = None,
            litellm_debug_info: str | None = None,
            max_retries: int | None = None,
            num_retries: int | None = None,
        ) -> None:
            self.status_code = 500
            self.message = f"litellm.InternalServerError: {message}"
            _set_litellm_fields(self, llm_provider, model, litellm_debug_info, max_retries, num_retries)
            self.response = rebuilt(response, 500)
            super().__init__(self.message, response=self.response, body=None)

    class ServiceUnavailableError(_LiteLLMErrorMixin, oa.APIStatusError):
        """503: the provider is overloaded or down (an ``openai.APIStatusError``)."""

        def __init__(
            self,
            message: Any,
            llm_provider: Any,
            model: Any,
            response: Any = None,
            litellm_debug_info: str | None = None,
            max_retries: int | None = None,
            num_retries: int | None = None,
        ) -> None:
            self.status_code = 503
            self.message = f"litellm.ServiceUnavailableError: {message}"
            _set_litellm_fields(self, llm_provider, model, litellm_debug_info, max_retries, num_retries)
            self.response = rebuilt(response, 503)
            super().__init__(self.message, response=self.response, body=None)

    class APIError(_LiteLLMErrorMixin, oa.APIError):
        """Any other provider failure, with its status (``openai.APIError``)."""

        def __init__(
            self,
            status_code: int,
            message: Any,
            llm_provider: Any,
            model: Any,
            request: Any = None,
            litellm_debug_info: str | None = None,
            max_retries: int | None = None,
            num_retries: int | None = None,
        ) -> None:
            self.status_code = status_code
            self.message = f"litellm.APIError: {message}"
            _set_litellm_fields(self, llm_provider, model, litellm_debug_info, max_retries, num_retries)
            self.response = fake_response(status_code)
            super().__init__(self.message, request if request is not None else fake_request(), body=None)

    class BadGatewayError(APIError, oa.APIStatusError):
        """502: a gateway in front of the provider failed.

        LiteLLM 1.110 raises this for 502 where 1.75 raised ``APIError(502)``; it is both an
        ``openai.APIStatusError`` (as in 1.110) and a ``litellm.APIError``, so handlers
        written for either version still catch it.
        """

        def __init__(
            self,
            message: Any,
            llm_provider: Any,
            model: Any,
            response: Any = None,
            litellm_debug_info: str | None = None,
            max_retries: int | None = None,
            num_retries: int | None = None,
        ) -> None:
            self.status_code = 502
            self.message = f"litellm.BadGatewayError: {message}"
            _set_litellm_fields(self, llm_provider, model, litellm_debug_info, max_retries, num_retries)
            self.response = rebuilt(response, 502)
            # Skip APIError.__init__ (different signature): set up as the status error, the
            # next class after rustllm's APIError in this MRO (found through the MRO, not
            # `oa`, so it is openai's once the classes are rebased onto openai's).
            super(APIError, self).__init__(self.message, response=self.response, body=None)

    class MockException(_LiteLLMErrorMixin, oa.APIError):
        """Raised by ``mock_response`` when it is an exception (``openai.APIError``)."""

        def __init__(
            self,
            status_code: int,
            message: Any,
            llm_provider: Any,
            model: Any,
            request: Any = None,
            litellm_debug_info: str | None = None,
            max_retries: int | None = None,
            num_retries: int | None = None,
        ) -> None:
            self.status_code = status_code
            self.message = f"litellm.MockException: {message}"
            _set_litellm_fields(self, llm_provider, model, litellm_debug_info, max_retries, num_retries)
            self.response = fake_response(status_code)
            super().__init__(self.message, request if request is not None else fake_request(), body=None)

    class APIConnectionError(_LiteLLMErrorMixin, oa.APIConnectionError):
        """500: no usable reply (connection failed, reply unparseable)."""

        def __init__(
            self,
            message: Any,
            llm_provider: Any,
            model: Any,
            request: Any = None,
            litellm_debug_info: str | None = None,
            max_retries: int | None = None,
            num_retries: int | None = None,
        ) -> None:
            self.message = f"litellm.APIConnectionError: {message}"
            self.status_code = 500
            _set_litellm_fields(self, llm_provider, model, litellm_debug_info, max_retries, num_retries)
            self.request = request if request is not None else fake_request()
            self.response = fake_response(500)
            super().__init__(message=self.message, request=self.request)

    class APIResponseValidationError(_LiteLLMErrorMixin, oa.APIResponseValidationError):
        """500: the provider's reply did not have the expected shape."""

        def __init__(
            self,
            message: Any,
            llm_provider: Any,
            model: Any,
            litellm_debug_info: str | None = None,
            max_retries: int | None = None,
            num_retries: int | None = None,
        ) -> None:
            _set_litellm_fields(self, llm_provider, model, litellm_debug_info, max_retries, num_retries)
            # LiteLLM sets a "litellm.APIResponseValidationError: " prefix and then lets
            # openai's base overwrite `message` with the bare text; the bare text is what
            # its users see, so that is what we keep.
            super().__init__(
                response=fake_response(500, method="POST", url="https://api.openai.com/v1"),
                body=None,
                message=message,
            )

    class JSONSchemaValidationError(APIResponseValidationError):
        """The reply did not match the ``response_format`` JSON schema (``e.raw_response``)."""

        def __init__(self, model: str, llm_provider: str, raw_response: str, schema: str) -> None:
            self.raw_response = raw_response
            self.schema = schema
            message = (
                f"litellm.JSONSchemaValidationError: model={model}, returned an invalid "
                f"response={raw_response}, for schema={schema}.\n"
                "Access raw response with `e.raw_response`"
            )
            super().__init__(message=message, llm_provider=llm_provider, model=model)

    class OpenAIError(_LiteLLMErrorMixin, oa.OpenAIError):
        """Wraps another error as an ``openai.OpenAIError`` (``llm_provider`` is "openai")."""

        def __init__(self, original_exception: BaseException | None = None) -> None:
            super().__init__()
            self.message = "" if original_exception is None else str(original_exception)
            self.status_code = getattr(original_exception, "status_code", None)
            _set_litellm_fields(self, "openai", getattr(original_exception, "model", None))
            self.original_exception = original_exception

    class InvalidRequestError(_LiteLLMErrorMixin, oa.BadRequestError):
        """Deprecated 400 error kept for old code (``openai.BadRequestError``)."""

        def __init__(self, message: Any, model: Any, llm_provider: Any) -> None:
            self.status_code = 400
            self.message = message
            _set_litellm_fields(self, llm_provider, model)
            self.response = fake_response(400)
            super().__init__(self.message, response=self.response, body=None)

    class MidStreamFallbackError(ServiceUnavailableError):
        """503: a stream failed part-way; the Router may continue it on a fallback."""

        def __init__(
            self,
            message: str,
            model: str,
            llm_provider: str,
            original_exception: BaseException | None = None,
            response: Any = None,
            litellm_debug_info: str | None = None,
            max_retries: int | None = None,
            num_retries: int | None = None,
            generated_content: str = "",
            is_pre_first_chunk: bool = False,
        ) -> None:
            self.original_exception = original_exception
            self.generated_content = generated_content
            self.is_pre_first_chunk = is_pre_first_chunk
            super().__init__(
                message=f"litellm.MidStreamFallbackError: {message}",
                llm_provider=llm_provider,
                model=model,
                response=response,
                litellm_debug_info=litellm_debug_info,
                max_retries=max_retries,
                num_retries=num_retries,
            )

        def __str__(self) -> str:
            text = super().__str__()
            if self.original_exception:
                original = self.original_exception
                text += f" Original exception: {type(original).__name__}: {original}"
            return text

    classes = {
        cls.__name__: cls
        for cls in (
            AuthenticationError,
            PermissionDeniedError,
            NotFoundError,
            BadRequestError,
            ContextWindowExceededError,
            ContentPolicyViolationError,
            UnsupportedParamsError,
            RejectedRequestError,
            LiteLLMUnknownProvider,
            UnprocessableEntityError,
            Timeout,
            RateLimitError,
            InternalServerError,
            ServiceUnavailableError,
            BadGatewayError,
            APIError,
            MockException,
            APIConnectionError,
            APIResponseValidationError,
            JSONSchemaValidationError,
            OpenAIError,
            InvalidRequestError,
            MidStreamFallbackError,
        )
    }
    for cls in classes.values():
        # Defined in a function, but must pickle (and print) as rustllm.exceptions.<Name>.
        cls.__module__ = __name__
        cls.__qualname__ = cls.__name__
    return classes


# LiteLLM's list of the classes its exception mapping produces.
_EXCEPTION_TYPE_NAMES = (
    "AuthenticationError",
    "NotFoundError",
    "BadRequestError",
    "UnprocessableEntityError",
    "UnsupportedParamsError",
    "Timeout",
    "PermissionDeniedError",
    "RateLimitError",
    "ContextWindowExceededError",
    "RejectedRequestError",
    "ContentPolicyViolationError",
    "InternalServerError",
    "ServiceUnavailableError",
    "BadGatewayError",
    "APIError",
    "APIConnectionError",
    "APIResponseValidationError",
    "OpenAIError",
    "JSONSchemaValidationError",
)

_built: dict[str, Any] | None = None
_http: Any = None  # the HTTP library whose Request/Response the exceptions carry
# The stand-in bases while the classes sit on them (openai not imported yet), else None.
_stand_ins: Any = None
_build_lock = _thread.RLock()


def _build() -> dict[str, Any]:
    """Build the classes once (thread-safe) and publish them as globals: on openai's bases
    if openai is already imported, else on the stand-ins until it is."""
    global _built, _http, _stand_ins
    if _built is None:
        with _build_lock:
            if _built is None:
                openai = _loaded_openai()
                if openai is None:
                    stand_ins = _stand_in_openai()
                    _http = _STAND_IN_HTTP
                    classes = _define_classes(stand_ins)
                else:
                    _http = _http_library(openai)
                    classes = _define_classes(openai)
                classes["LITELLM_EXCEPTION_TYPES"] = [classes[name] for name in _EXCEPTION_TYPE_NAMES]
                globals().update(classes)
                _built = classes
                if openai is None:
                    _stand_ins = stand_ins
                    _watch_for_openai()
                if "IPython" in sys.modules:  # in a notebook, uncaught errors show their card
                    from rustllm.display import _show_uncaught_errors_as_cards

                    _show_uncaught_errors_as_cards(
                        tuple(c for c in classes.values() if isinstance(c, type) and issubclass(c, _LiteLLMErrorMixin))
                    )
    return _built


def _rebase_onto_openai() -> None:
    """Move every class from the stand-in bases onto openai's, now that openai is imported.

    ``__bases__`` assignment keeps each class object (and so every reference and instance)
    and recomputes the MRO of its subclasses. It needs the same instance layout, which
    holds: both bases are plain Python subclasses of ``Exception``. Should it ever be
    refused, the classes stay on the stand-ins rather than half moved.
    """
    global _http, _stand_ins
    with _build_lock:
        openai = _loaded_openai()
        if _stand_ins is None or _built is None or openai is None:
            return
        real = {stand_in: getattr(openai, name, None) for name, stand_in in vars(_stand_ins).items()}
        if not all(isinstance(cls, type) for cls in real.values()):
            return
        moved: list[tuple[type, tuple]] = []
        try:
            for cls in _built.values():
                if isinstance(cls, type) and any(base in real for base in cls.__bases__):
                    old_bases = cls.__bases__
                    cls.__bases__ = tuple(real.get(base, base) for base in old_bases)
                    moved.append((cls, old_bases))
        except TypeError:
            for cls, old_bases in reversed(moved):
                cls.__bases__ = old_bases
        else:
            _http = _http_library(openai)
        _stand_ins = None  # moved, or refused for good: stop checking either way
        _stop_watching()


def __getattr__(name: str) -> Any:
    """Build the exception classes on first access (PEP 562)."""
    if name in _LAZY_NAMES:
        return _build()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list:
    return sorted(set(globals()) | set(__all__))


# --------------------------------------------------------------------------------------
# Binding layer: the Rust core's error -> the public exception
# --------------------------------------------------------------------------------------


# The status a kind gets when the core reports none (LiteLLM's fixed codes).
_DEFAULT_STATUS = {
    "AuthenticationError": 401,
    "PermissionDeniedError": 403,
    "NotFoundError": 404,
    "Timeout": 408,
    "UnprocessableEntityError": 422,
    "RateLimitError": 429,
    "BadGatewayError": 502,
    "ServiceUnavailableError": 503,
    "MidStreamFallbackError": 503,
    "BadRequestError": 400,
    "ContextWindowExceededError": 400,
    "ContentPolicyViolationError": 400,
    "UnsupportedParamsError": 400,
    "RejectedRequestError": 400,
    "LiteLLMUnknownProvider": 400,
    "InvalidRequestError": 400,
}

# Kinds whose constructors take the reply (and keep its headers); the others get it
# attached afterwards by `_from_core`.
_KINDS_TAKING_A_REPLY = frozenset(
    {
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "UnprocessableEntityError",
        "BadRequestError",
        "ContextWindowExceededError",
        "ContentPolicyViolationError",
        "UnsupportedParamsError",
        "RateLimitError",
        "InternalServerError",
        "ServiceUnavailableError",
        "BadGatewayError",
        "MidStreamFallbackError",
    }
)


def _debug_info(model: Any, params: dict[str, Any]) -> str:
    """LiteLLM's ``litellm_debug_info``: the model, the api base given, the first 100
    characters of the messages (unless ``rustllm.redact_messages_in_exceptions``) and
    the Router's model group and deployment from ``metadata``."""
    import sys

    info = f"\nModel: {model}"
    api_base = params.get("api_base") or params.get("base_url")
    if api_base:
        info += f"\nAPI Base: `{api_base}`"
    messages = params.get("messages")
    if messages and not getattr(sys.modules.get("rustllm"), "redact_messages_in_exceptions", False):
        info += f"\nMessages: `{str(messages)[:100]}`"
    metadata = params.get("metadata")
    if isinstance(metadata, dict):
        if metadata.get("model_group") is not None:
            info += f"\nmodel_group: `{metadata['model_group']}`\n"
        if metadata.get("deployment") is not None:
            info += f"\ndeployment: `{metadata['deployment']}`\n"
    return info


def _from_core(err: Any, params: dict[str, Any] | None = None) -> BaseException:
    """Turn the Rust core's private error object into the public exception to raise.

    ``err`` has ``kind`` (a class name of this module), ``message`` (without the
    ``litellm.<Class>: `` prefix, which the constructors add as LiteLLM's do),
    ``status_code``, ``llm_provider``, ``model``, ``body`` (the provider's parsed error
    body, or None), ``headers`` (lower-case names), ``num_retries`` and ``max_retries``.

    The reply's status and headers travel on ``e.response`` (so
    ``e.response.headers.get("retry-after")`` works) and, for ``RateLimitError`` and
    ``Timeout``, on ``e.headers`` as a dict. ``e.body`` is the body's ``"error"`` object
    when it has one (as openai's client does), else the body; ``e.code``, ``e.param`` and
    ``e.type`` are read from it. An unknown
    ``kind`` becomes ``APIError`` with the status. Kinds whose constructors write their
    own text (``LiteLLMUnknownProvider``, ``JSONSchemaValidationError``,
    ``RouterRateLimitError``, ``BudgetExceededError``) read their fields from ``body``.
    ``params``, the failed call's arguments, fill ``litellm_debug_info`` as LiteLLM's
    exception mapping does. The caller raises the result ``from None``.
    """
    classes = _build()
    if _stand_ins is not None and sys.modules.get("openai") is not None:
        _rebase_onto_openai()  # before `_http` builds the reply below
    kind = getattr(err, "kind", None) or "APIError"
    message = getattr(err, "message", None) or ""
    provider = getattr(err, "llm_provider", None)
    model = getattr(err, "model", None)
    raw_body = getattr(err, "body", None)
    headers = dict(getattr(err, "headers", None) or {})
    fields = raw_body if isinstance(raw_body, dict) else {}
    # Like openai's client: `e.body` is the object under "error" when there is one.
    body = raw_body.get("error", raw_body) if isinstance(raw_body, dict) else raw_body

    if kind == "BudgetExceededError":
        return BudgetExceededError(fields.get("current_cost"), fields.get("max_budget"), message=message or None)
    if kind == "ValueError":
        return ValueError(message)
    if kind == "RouterRateLimitError":
        return RouterRateLimitError(
            model,
            fields.get("cooldown_time"),
            fields.get("enable_pre_call_checks", False),
            fields.get("cooldown_list", []),
        )
    cls = classes.get(kind)
    if not isinstance(cls, type):  # unknown kind (or the LITELLM_EXCEPTION_TYPES list)
        kind, cls = "APIError", classes["APIError"]
    status = getattr(err, "status_code", None)
    if not isinstance(status, int) or isinstance(status, bool):
        status = _DEFAULT_STATUS.get(kind, 500)

    reply = _http.Response(
        status_code=status,
        headers=headers,
        request=_http.Request(method="POST", url="https://litellm.ai"),
    )
    exc: Any
    if kind in ("AuthenticationError", "PermissionDeniedError"):
        exc = cls(message, provider, model, reply)
    elif kind in ("NotFoundError", "UnprocessableEntityError", "ContextWindowExceededError"):
        exc = cls(message, model, provider, reply)
    elif kind in ("BadRequestError", "ContentPolicyViolationError"):
        exc = cls(message, model, provider, reply, body=body)
    elif kind == "UnsupportedParamsError":
        exc = cls(message, provider, model, status_code=status, response=reply)
    elif kind == "RejectedRequestError":
        exc = cls(message, model, provider, request_data=fields.get("request_data", {}))
    elif kind == "LiteLLMUnknownProvider":
        exc = cls(model, custom_llm_provider=provider or None)
    elif kind == "Timeout":
        exc = cls(message, model, provider, headers=headers, exception_status_code=status)
    elif kind in ("APIError", "MockException"):
        exc = cls(status, message, provider, model)
    elif kind in ("APIConnectionError", "APIResponseValidationError"):
        exc = cls(message, provider, model)
    elif kind == "JSONSchemaValidationError":
        exc = cls(
            model,
            provider,
            raw_response=fields.get("raw_response", message),
            schema=fields.get("schema", ""),
        )
    elif kind == "InvalidRequestError":
        exc = cls(message, model, provider)
    elif kind == "MidStreamFallbackError":
        exc = cls(message, model, provider, response=reply)
    elif kind == "OpenAIError":
        exc = cls()
        exc.message = message
        exc.status_code = status
        exc.model = model
    else:  # RateLimitError, InternalServerError, ServiceUnavailableError, BadGatewayError
        exc = cls(message, provider, model, reply)

    exc.num_retries = getattr(err, "num_retries", None)
    exc.max_retries = getattr(err, "max_retries", None)
    if body is not None:
        exc.body = body
        if isinstance(body, dict):
            # openai derives these from the body; keep values a class set itself
            # (RateLimitError's code "429").
            for name in ("code", "param", "type"):
                value = body.get(name)
                if getattr(exc, name, None) is None and value is not None:
                    setattr(exc, name, str(value))
    if kind not in _KINDS_TAKING_A_REPLY:
        exc.response = reply
    if params is not None and hasattr(exc, "litellm_debug_info"):
        exc.litellm_debug_info = _debug_info(model or params.get("model"), params)
    return exc
