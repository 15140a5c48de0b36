"""Type stubs for ``rustllm.exceptions`` (kept true by ``make lint``: stubtest).

At run time the classes are built on first use, on openai's exception classes when openai
is installed (else on stand-ins of the same shape), so that ``import rustllm`` never
imports openai. Type checkers see them here, on openai's classes.

What the attributes hold on the errors rustllm raises: ``status_code`` is the HTTP status
(``int``), ``message`` the text with LiteLLM's ``litellm.<Class>: `` prefix,
``llm_provider`` and ``model`` the provider and model of the failed call. The
``BadRequestError`` family may carry ``None`` in both: ``LiteLLMUnknownProvider`` has no
provider when none could be resolved, and ``UnsupportedParamsError`` takes either as
optional.
"""

from typing import Any, Literal

import openai
from typing_extensions import Self

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

class _ReducesByState: ...

class _LiteLLMErrorMixin(_ReducesByState):
    """What every LiteLLM exception carries besides its status, provider and model."""

    message: str
    litellm_debug_info: str | None
    max_retries: int | None
    num_retries: int | None
    # Rebases the classes onto openai's first if openai was imported since they were built.
    def __new__(cls, *args: Any, **kwargs: Any) -> Self: ...

# -- classes that need no openai base ----------------------------------------------------

class BudgetExceededError(_ReducesByState, Exception):
    current_cost: float
    max_budget: float
    message: str
    def __init__(self, current_cost: float, max_budget: float, message: str | None = None) -> None: ...

class RouterRateLimitError(_ReducesByState, ValueError):
    model: str
    cooldown_time: float
    enable_pre_call_checks: bool
    cooldown_list: list[Any]
    message: str
    def __init__(
        self, model: str, cooldown_time: float, enable_pre_call_checks: bool, cooldown_list: list[Any]
    ) -> None: ...

class GuardrailRaisedException(_ReducesByState, Exception):
    guardrail_name: str | None
    message: str
    def __init__(
        self, guardrail_name: str | None = None, message: str = "", should_wrap_with_default_message: bool = True
    ) -> None: ...

class BlockedPiiEntityError(_ReducesByState, Exception):
    entity_type: str
    guardrail_name: str | None
    message: str
    def __init__(self, entity_type: str, guardrail_name: str | None = None) -> None: ...

# -- the openai-derived classes ----------------------------------------------------------

class AuthenticationError(_LiteLLMErrorMixin, openai.AuthenticationError):
    status_code: Literal[401]
    llm_provider: str
    model: str
    def __init__(
        self,
        message: str,
        llm_provider: str,
        model: str,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ) -> None: ...

class PermissionDeniedError(_LiteLLMErrorMixin, openai.PermissionDeniedError):
    status_code: Literal[403]
    llm_provider: str
    model: str
    def __init__(
        self,
        message: str,
        llm_provider: str,
        model: str,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ) -> None: ...

class NotFoundError(_LiteLLMErrorMixin, openai.NotFoundError):
    status_code: Literal[404]
    llm_provider: str
    model: str
    def __init__(
        self,
        message: str,
        model: str,
        llm_provider: str,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ) -> None: ...

class BadRequestError(_LiteLLMErrorMixin, openai.BadRequestError):
    status_code: Literal[400]
    llm_provider: str | None
    model: str | None
    def __init__(
        self,
        message: str,
        model: str | None,
        llm_provider: str | None,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
        body: dict[str, Any] | None = None,
    ) -> None: ...

class ContextWindowExceededError(BadRequestError):
    def __init__(
        self,
        message: str,
        model: str | None,
        llm_provider: str | None,
        response: Any = None,
        litellm_debug_info: str | None = None,
    ) -> None: ...

class ContentPolicyViolationError(BadRequestError):
    provider_specific_fields: dict[str, Any] | None
    def __init__(
        self,
        message: str,
        model: str | None,
        llm_provider: str | None,
        response: Any = None,
        litellm_debug_info: str | None = None,
        provider_specific_fields: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None: ...

class RejectedRequestError(BadRequestError):
    request_data: dict[str, Any]
    def __init__(
        self,
        message: str,
        model: str | None,
        llm_provider: str | None,
        request_data: dict[str, Any],
        litellm_debug_info: str | None = None,
    ) -> None: ...

class UnsupportedParamsError(BadRequestError):
    # `status_code` stays openai's Literal[400]: rustllm raises this class with 400 only
    # (the argument is LiteLLM's).
    def __init__(
        self,
        message: str,
        llm_provider: str | None = None,
        model: str | None = None,
        status_code: int = 400,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ) -> None: ...

class LiteLLMUnknownProvider(BadRequestError):
    def __init__(self, model: str, custom_llm_provider: str | None = None) -> None: ...

class UnprocessableEntityError(_LiteLLMErrorMixin, openai.UnprocessableEntityError):
    status_code: Literal[422]
    llm_provider: str
    model: str
    def __init__(
        self,
        message: str,
        model: str,
        llm_provider: str,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ) -> None: ...

class Timeout(_LiteLLMErrorMixin, openai.APITimeoutError):
    status_code: int
    llm_provider: str
    model: str
    headers: dict[str, str] | None
    response: Any
    def __init__(
        self,
        message: str,
        model: str,
        llm_provider: str,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
        headers: dict[str, str] | None = None,
        exception_status_code: int | None = None,
    ) -> None: ...

class RateLimitError(_LiteLLMErrorMixin, openai.RateLimitError):
    status_code: Literal[429]
    llm_provider: str
    model: str
    headers: dict[str, str]
    category: str | None
    rate_limit_type: str | None
    def __init__(
        self,
        message: str,
        llm_provider: str,
        model: str,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
        *,
        headers: dict[str, str] | None = None,
        category: str | None = None,
        rate_limit_type: str | None = None,
    ) -> None: ...

class InternalServerError(_LiteLLMErrorMixin, openai.InternalServerError):
    status_code: int
    llm_provider: str
    model: str
    def __init__(
        self,
        message: str,
        llm_provider: str,
        model: str,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ) -> None: ...

class ServiceUnavailableError(_LiteLLMErrorMixin, openai.APIStatusError):
    status_code: int
    llm_provider: str
    model: str
    def __init__(
        self,
        message: str,
        llm_provider: str,
        model: str,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ) -> None: ...

class APIError(_LiteLLMErrorMixin, openai.APIError):
    status_code: int
    llm_provider: str
    model: str
    response: Any
    def __init__(
        self,
        status_code: int,
        message: str,
        llm_provider: str,
        model: str,
        request: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ) -> None: ...

class BadGatewayError(APIError, openai.APIStatusError):
    def __init__(
        self,
        message: str,
        llm_provider: str,
        model: str,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ) -> None: ...

class MockException(_LiteLLMErrorMixin, openai.APIError):
    status_code: int
    llm_provider: str
    model: str
    response: Any
    def __init__(
        self,
        status_code: int,
        message: str,
        llm_provider: str,
        model: str,
        request: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ) -> None: ...

class APIConnectionError(_LiteLLMErrorMixin, openai.APIConnectionError):
    status_code: int
    llm_provider: str
    model: str
    response: Any
    def __init__(
        self,
        message: str,
        llm_provider: str,
        model: str,
        request: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ) -> None: ...

class APIResponseValidationError(_LiteLLMErrorMixin, openai.APIResponseValidationError):
    llm_provider: str
    model: str
    def __init__(
        self,
        message: str,
        llm_provider: str,
        model: str,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ) -> None: ...

class JSONSchemaValidationError(APIResponseValidationError):
    raw_response: str
    schema: str
    def __init__(self, model: str, llm_provider: str, raw_response: str, schema: str) -> None: ...

class OpenAIError(_LiteLLMErrorMixin, openai.OpenAIError):
    """Wraps another error; ``status_code`` and ``model`` are the wrapped error's, if any."""

    status_code: int | None
    llm_provider: str
    model: str | None
    original_exception: BaseException | None
    def __init__(self, original_exception: BaseException | None = None) -> None: ...

class InvalidRequestError(_LiteLLMErrorMixin, openai.BadRequestError):
    status_code: Literal[400]
    llm_provider: str
    model: str
    def __init__(self, message: str, model: str, llm_provider: str) -> None: ...

class MidStreamFallbackError(ServiceUnavailableError):
    original_exception: BaseException | None
    generated_content: str
    is_pre_first_chunk: bool
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
    ) -> None: ...

# LiteLLM's list of the classes its exception mapping produces.
LITELLM_EXCEPTION_TYPES: list[type[Exception]]

# The binding layer (rustllm's own modules): the Rust core's error -> the public exception.
def _from_core(err: Any, params: dict[str, Any] | None = None) -> BaseException: ...
