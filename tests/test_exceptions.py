"""The exception classes: LiteLLM's names, hierarchy, constructors, messages and pickling.

What users rely on: ``except litellm.RateLimitError`` and ``except openai.OpenAIError``
catch what rustllm raises; ``str(e)`` reads exactly as LiteLLM's; exceptions survive a
trip through multiprocessing (pickle); and ``import rustllm`` does not pay for importing
openai. Runs with openai installed (classes subclass openai's) and, through
``test_whole_file_passes_without_openai``, once more in a subprocess where openai cannot
be imported (classes sit on rustllm's stand-in bases).
"""

from __future__ import annotations

import copy
import inspect
import json
import os
import pickle
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

WITHOUT_OPENAI_ENV = "RUSTLLM_TEST_WITHOUT_OPENAI"
PACKAGE_DIR = Path(__file__).resolve().parents[1] / "python" / "rustllm"

# Imports rustllm.exceptions in a fresh interpreter. Until the compiled core is built,
# `import rustllm` fails; the module is then loaded from the source tree under its real
# name (so pickle can find its classes), with a bare package standing in for rustllm.
BOOTSTRAP = textwrap.dedent(
    f"""
    import sys, types
    try:
        import rustllm.exceptions
    except ImportError:
        for _name in [n for n in sys.modules if n == "rustllm" or n.startswith("rustllm.")]:
            del sys.modules[_name]
        _pkg = types.ModuleType("rustllm")
        _pkg.__path__ = [{str(PACKAGE_DIR)!r}]
        sys.modules["rustllm"] = _pkg
        import rustllm.exceptions
    """
)
BLOCK_OPENAI = 'import sys\nsys.modules["openai"] = None  # makes find_spec and import fail\n'


def import_exceptions_module() -> types.ModuleType:
    """``import rustllm.exceptions``, as BOOTSTRAP does in subprocesses."""
    if os.environ.get(WITHOUT_OPENAI_ENV):
        sys.modules["openai"] = None  # type: ignore[assignment]
    try:
        import rustllm.exceptions
    except ImportError:
        for name in [n for n in sys.modules if n == "rustllm" or n.startswith("rustllm.")]:
            del sys.modules[name]
        package = types.ModuleType("rustllm")
        package.__path__ = [str(PACKAGE_DIR)]
        sys.modules["rustllm"] = package
        import rustllm.exceptions
    return rustllm.exceptions


exc = import_exceptions_module()

try:
    import openai
except ImportError:
    openai = None

needs_openai = pytest.mark.skipif(openai is None, reason="openai is not installed")


def run_python(code: str, block_openai: bool = False) -> str:
    """Run ``code`` in a fresh interpreter after the bootstrap; return its stdout."""
    prelude = (BLOCK_OPENAI if block_openai else "") + BOOTSTRAP
    result = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# --------------------------------------------------------------------------------------
# Lazy import
# --------------------------------------------------------------------------------------


def test_neither_the_module_nor_its_classes_import_openai():
    # Building the classes (first access) does not import openai either: they sit on the
    # stand-ins until openai is imported (test_exceptions_openai_order.py).
    out = run_python(
        """
        import json, sys
        heavy = ("openai", "httpx", "httpx2")
        before = [m for m in heavy if m in sys.modules]
        from rustllm.exceptions import RateLimitError  # first access builds the classes
        print(json.dumps({"before": before, "after": [m for m in heavy if m in sys.modules],
                          "name": RateLimitError.__name__}))
        """
    )
    state = json.loads(out)
    assert state["before"] == []
    assert state["after"] == []
    assert state["name"] == "RateLimitError"


def test_import_rustllm_does_not_import_openai():
    out = run_python(
        """
        import sys
        import rustllm
        print("openai" in sys.modules, "httpx" in sys.modules)
        """
    )
    assert out.split() == ["False", "False"]


def test_every_public_name_resolves_and_is_listed():
    for name in exc.__all__:
        assert getattr(exc, name) is not None
    assert set(exc.__all__) <= set(dir(exc))
    with pytest.raises(AttributeError):
        exc.NoSuchError  # noqa: B018
    from rustllm.exceptions import ContextWindowExceededError, RateLimitError

    assert RateLimitError is exc.RateLimitError
    assert ContextWindowExceededError is exc.ContextWindowExceededError


@pytest.mark.skipif(
    getattr(sys.modules["rustllm"], "__file__", None) is None,
    reason="the rustllm package (compiled core) is not importable yet",
)
def test_top_level_names_are_these_classes():
    import rustllm as litellm

    # LiteLLM keeps the guardrail errors in litellm.exceptions only.
    for name in set(exc.__all__) - {"GuardrailRaisedException", "BlockedPiiEntityError"}:
        assert getattr(litellm, name) is getattr(exc, name), name


def test_classes_are_built_once():
    assert exc.RateLimitError is exc.__getattr__("RateLimitError")
    assert exc.LITELLM_EXCEPTION_TYPES[0] is exc.AuthenticationError


def test_litellm_exception_types_lists_the_mapped_classes():
    names = [cls.__name__ for cls in exc.LITELLM_EXCEPTION_TYPES]
    for name in (
        "AuthenticationError",
        "BadRequestError",
        "ContextWindowExceededError",
        "RateLimitError",
        "Timeout",
        "APIConnectionError",
        "ServiceUnavailableError",
        "BadGatewayError",
        "JSONSchemaValidationError",
    ):
        assert name in names


# --------------------------------------------------------------------------------------
# Hierarchy
# --------------------------------------------------------------------------------------

# rustllm class -> the openai class it subclasses (as LiteLLM's does).
OPENAI_BASE = {
    "AuthenticationError": "AuthenticationError",
    "PermissionDeniedError": "PermissionDeniedError",
    "NotFoundError": "NotFoundError",
    "BadRequestError": "BadRequestError",
    "ContextWindowExceededError": "BadRequestError",
    "ContentPolicyViolationError": "BadRequestError",
    "UnsupportedParamsError": "BadRequestError",
    "RejectedRequestError": "BadRequestError",
    "LiteLLMUnknownProvider": "BadRequestError",
    "UnprocessableEntityError": "UnprocessableEntityError",
    "Timeout": "APITimeoutError",
    "RateLimitError": "RateLimitError",
    "InternalServerError": "InternalServerError",
    "ServiceUnavailableError": "APIStatusError",
    "BadGatewayError": "APIStatusError",
    "MidStreamFallbackError": "APIStatusError",
    "APIError": "APIError",
    "MockException": "APIError",
    "APIConnectionError": "APIConnectionError",
    "APIResponseValidationError": "APIResponseValidationError",
    "JSONSchemaValidationError": "APIResponseValidationError",
    "OpenAIError": "OpenAIError",
    "InvalidRequestError": "BadRequestError",
}

# rustllm class -> rustllm classes it must also be an instance of.
RUSTLLM_BASES = {
    "ContextWindowExceededError": ["BadRequestError"],
    "ContentPolicyViolationError": ["BadRequestError"],
    "UnsupportedParamsError": ["BadRequestError"],
    "RejectedRequestError": ["BadRequestError"],
    "LiteLLMUnknownProvider": ["BadRequestError"],
    "JSONSchemaValidationError": ["APIResponseValidationError"],
    "MidStreamFallbackError": ["ServiceUnavailableError"],
    # 1.75 raised APIError(502); 1.110 raises BadGatewayError: catchable either way.
    "BadGatewayError": ["APIError"],
}


@pytest.mark.parametrize("name", sorted(RUSTLLM_BASES))
def test_litellm_hierarchy(name):
    for base in RUSTLLM_BASES[name]:
        assert issubclass(getattr(exc, name), getattr(exc, base))


@pytest.mark.parametrize("name", sorted(OPENAI_BASE))
def test_each_class_sits_on_the_matching_openai_shaped_base(name):
    base_names = [cls.__name__ for cls in getattr(exc, name).__mro__]
    assert OPENAI_BASE[name] in base_names
    assert "OpenAIError" in base_names and issubclass(getattr(exc, name), Exception)


@needs_openai
@pytest.mark.parametrize("name", sorted(OPENAI_BASE))
def test_each_class_subclasses_openai(name):
    assert issubclass(getattr(exc, name), getattr(openai, OPENAI_BASE[name]))
    assert issubclass(getattr(exc, name), openai.OpenAIError)


@needs_openai
def test_except_openai_errors_catches_rustllm_errors():
    with pytest.raises(openai.RateLimitError):
        raise exc.RateLimitError("m", "openai", "gpt-4o")
    with pytest.raises(openai.APITimeoutError):
        raise exc.Timeout("m", "gpt-4o", "openai")
    with pytest.raises(openai.APIConnectionError):
        raise exc.Timeout("m", "gpt-4o", "openai")
    with pytest.raises(openai.OpenAIError):
        raise exc.ContextWindowExceededError("m", "gpt-4o", "openai")
    with pytest.raises(openai.APIError):
        raise exc.BadGatewayError("m", "openai", "gpt-4o")


def test_plain_exceptions():
    assert issubclass(exc.RouterRateLimitError, ValueError)
    # Plain Exceptions in LiteLLM too: `except openai.OpenAIError` does not catch them.
    for name in ("BudgetExceededError", "GuardrailRaisedException", "BlockedPiiEntityError"):
        assert "OpenAIError" not in [c.__name__ for c in getattr(exc, name).__mro__]


def test_classes_print_as_rustllm_exceptions():
    assert exc.RateLimitError.__module__ == "rustllm.exceptions"
    assert exc.RateLimitError.__qualname__ == "RateLimitError"


# --------------------------------------------------------------------------------------
# Constructors
# --------------------------------------------------------------------------------------

# LiteLLM 1.75.8's parameters, in order (users pass them positionally).
TAIL = "litellm_debug_info max_retries num_retries"
PROVIDER_FIRST = f"message llm_provider model response {TAIL}"
MODEL_FIRST = f"message model llm_provider response {TAIL}"
SIGNATURES = {
    "AuthenticationError": PROVIDER_FIRST,
    "PermissionDeniedError": PROVIDER_FIRST,
    "RateLimitError": PROVIDER_FIRST,
    "InternalServerError": PROVIDER_FIRST,
    "ServiceUnavailableError": PROVIDER_FIRST,
    "BadGatewayError": PROVIDER_FIRST,
    "NotFoundError": MODEL_FIRST,
    "UnprocessableEntityError": MODEL_FIRST,
    "BadRequestError": f"{MODEL_FIRST} body",
    "ContextWindowExceededError": "message model llm_provider response litellm_debug_info",
    "ContentPolicyViolationError": (
        "message model llm_provider response litellm_debug_info provider_specific_fields body"
    ),
    "UnsupportedParamsError": f"message llm_provider model status_code response {TAIL}",
    "RejectedRequestError": "message model llm_provider request_data litellm_debug_info",
    "LiteLLMUnknownProvider": "model custom_llm_provider",
    "Timeout": f"message model llm_provider {TAIL} headers exception_status_code",
    "APIError": f"status_code message llm_provider model request {TAIL}",
    "MockException": f"status_code message llm_provider model request {TAIL}",
    "APIConnectionError": f"message llm_provider model request {TAIL}",
    "APIResponseValidationError": f"message llm_provider model {TAIL}",
    "JSONSchemaValidationError": "model llm_provider raw_response schema",
    "OpenAIError": "original_exception",
    "InvalidRequestError": "message model llm_provider",
    "BudgetExceededError": "current_cost max_budget message",
    "MidStreamFallbackError": (
        f"message model llm_provider original_exception response {TAIL} generated_content is_pre_first_chunk"
    ),
    "RouterRateLimitError": "model cooldown_time enable_pre_call_checks cooldown_list",
}


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_constructor_parameters_match_litellm(name):
    params = inspect.signature(getattr(exc, name).__init__).parameters.values()
    positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD][1:]
    assert positional == SIGNATURES[name].split()


def test_every_litellm_class_has_a_signature_checked():
    public_classes = {n for n in exc.__all__ if isinstance(getattr(exc, n), type)}
    assert public_classes - {"GuardrailRaisedException", "BlockedPiiEntityError"} == set(SIGNATURES)


def test_positional_and_keyword_construction_agree():
    by_position = exc.RateLimitError("RateLimitError: m", "openai", "gpt-4o")
    by_keyword = exc.RateLimitError(message="RateLimitError: m", model="gpt-4o", llm_provider="openai")
    assert str(by_position) == str(by_keyword)
    assert (by_position.llm_provider, by_position.model) == ("openai", "gpt-4o")
    assert (by_keyword.llm_provider, by_keyword.model) == ("openai", "gpt-4o")

    not_found = exc.NotFoundError("m", "gpt-4o", "openai")  # model comes before provider
    assert (not_found.model, not_found.llm_provider) == ("gpt-4o", "openai")
    api = exc.APIError(418, "m", "openai", "gpt-4o")
    assert (api.status_code, api.llm_provider, api.model) == (418, "openai", "gpt-4o")


# --------------------------------------------------------------------------------------
# Messages, str and repr
# --------------------------------------------------------------------------------------

# (class, constructor arguments, expected message): LiteLLM's prefixes, checked against
# LiteLLM 1.75.8 (§5.1 of the behaviour reference for the common ones).
MESSAGES = [
    ("BadRequestError", ("OpenAIException - m", "gpt-4o", "openai"),
     "litellm.BadRequestError: OpenAIException - m"),
    ("AuthenticationError", ("AuthenticationError: OpenAIException - m", "openai", "gpt-4o"),
     "litellm.AuthenticationError: AuthenticationError: OpenAIException - m"),
    ("RateLimitError", ("RateLimitError: OpenAIException - m", "openai", "gpt-4o"),
     "litellm.RateLimitError: RateLimitError: OpenAIException - m"),
    ("InternalServerError", ("InternalServerError: OpenAIException - m", "openai", "gpt-4o"),
     "litellm.InternalServerError: InternalServerError: OpenAIException - m"),
    ("NotFoundError", ("NotFoundError: m", "gpt-4o", "openai"),
     "litellm.NotFoundError: NotFoundError: m"),
    ("Timeout", ("Timeout Error: m", "gpt-4o", "openai"), "litellm.Timeout: Timeout Error: m"),
    ("APIError", (500, "APIError: OpenAIException - m", "openai", "gpt-4o"),
     "litellm.APIError: APIError: OpenAIException - m"),
    ("ContextWindowExceededError",
     ("ContextWindowExceededError: OpenAIException - m", "gpt-4o", "openai"),
     ("litellm.ContextWindowExceededError: litellm.BadRequestError: "
      "ContextWindowExceededError: OpenAIException - m")),
    ("ContentPolicyViolationError", ("ContentPolicyViolationError: m", "gpt-4o", "openai"),
     ("litellm.BadRequestError: litellm.ContentPolicyViolationError: "
      "ContentPolicyViolationError: m")),
    ("RejectedRequestError", ("m", "gpt-4o", "openai", {}),
     "litellm.BadRequestError: litellm.RejectedRequestError: m"),
    ("UnsupportedParamsError", ("m", "openai", "gpt-4o"), "litellm.UnsupportedParamsError: m"),
    ("PermissionDeniedError", ("m", "openai", "gpt-4o"), "litellm.PermissionDeniedError: m"),
    ("UnprocessableEntityError", ("m", "gpt-4o", "openai"), "litellm.UnprocessableEntityError: m"),
    ("ServiceUnavailableError", ("m", "openai", "gpt-4o"), "litellm.ServiceUnavailableError: m"),
    ("BadGatewayError", ("m", "openai", "gpt-4o"), "litellm.BadGatewayError: m"),
    ("MockException", (500, "m", "openai", "gpt-4o"), "litellm.MockException: m"),
    ("APIConnectionError", ("m", "openai", "gpt-4o"), "litellm.APIConnectionError: m"),
    # LiteLLM's prefix is overwritten by openai's base: users see the bare text.
    ("APIResponseValidationError", ("m", "openai", "gpt-4o"), "m"),
    ("InvalidRequestError", ("m", "gpt-4o", "openai"), "m"),
    ("MidStreamFallbackError", ("m", "gpt-4o", "openai"),
     "litellm.ServiceUnavailableError: litellm.MidStreamFallbackError: m"),
    ("LiteLLMUnknownProvider", ("foo/bar", "baz"),
     ("litellm.BadRequestError: Unmapped LLM provider for this endpoint. You passed "
      "model=foo/bar, custom_llm_provider=baz. Check supported provider and route: "
      "https://docs.litellm.ai/docs/providers")),
    ("JSONSchemaValidationError", ("gpt-4o", "openai", "{bad", "{}"),
     ("litellm.JSONSchemaValidationError: model=gpt-4o, returned an invalid response={bad, "
      "for schema={}.\nAccess raw response with `e.raw_response`")),
]  # fmt: skip


@pytest.mark.parametrize(("name", "args", "message"), MESSAGES, ids=[m[0] for m in MESSAGES])
def test_message_prefix_and_str_equal_repr(name, args, message):
    error = getattr(exc, name)(*args)
    assert error.message == message
    assert str(error) == message
    assert repr(error) == message


RETRYING = ["AuthenticationError", "RateLimitError", "InternalServerError", "BadGatewayError"]


@pytest.mark.parametrize("name", RETRYING)
def test_str_appends_retry_counts_only_when_truthy(name):
    def make(**retries):
        return getattr(exc, name)("m", "openai", "gpt-4o", **retries)

    prefix = f"litellm.{name}: m"
    assert str(make()) == prefix
    assert str(make(num_retries=0, max_retries=0)) == prefix
    both = make(num_retries=2, max_retries=3)
    assert str(both) == repr(both) == f"{prefix} LiteLLM Retried: 2 times, LiteLLM Max Retries: 3"
    assert str(make(num_retries=2)) == f"{prefix} LiteLLM Retried: 2 times"
    assert str(make(max_retries=3)) == f"{prefix}, LiteLLM Max Retries: 3"


def test_retry_counts_set_after_construction_show_in_str():
    # The Router sets the counts on the exception it re-raises.
    error = exc.ContextWindowExceededError("m", "gpt-4o", "openai")
    error.num_retries, error.max_retries = 1, 2
    assert str(error).endswith(" LiteLLM Retried: 1 times, LiteLLM Max Retries: 2")
    timeout = exc.Timeout("m", "gpt-4o", "openai", max_retries=3, num_retries=3)
    assert repr(timeout) == "litellm.Timeout: m LiteLLM Retried: 3 times, LiteLLM Max Retries: 3"


def test_mid_stream_fallback_names_the_original_exception():
    error = exc.MidStreamFallbackError("m", "gpt-4o", "openai", original_exception=ValueError("x"))
    assert str(error) == repr(error)
    assert str(error).endswith(" Original exception: ValueError: x")


def test_plain_exception_messages():
    assert str(exc.BudgetExceededError(1.5, 1.0)) == ("Budget has been exceeded! Current cost: 1.5, Max budget: 1.0")
    assert str(exc.BudgetExceededError(1.5, 1.0, "over")) == "over"
    router = exc.RouterRateLimitError("group", 5.0, False, ["d1"])
    assert str(router) == (
        "No deployments available for selected model, Try again in 5.0 seconds. "
        "Passed model=group. pre-call-checks=False, cooldown_list=['d1']"
    )
    assert (router.model, router.cooldown_time) == ("group", 5.0)
    assert (router.enable_pre_call_checks, router.cooldown_list) == (False, ["d1"])


# --------------------------------------------------------------------------------------
# Attributes
# --------------------------------------------------------------------------------------

STATUS = {
    "AuthenticationError": 401,
    "PermissionDeniedError": 403,
    "NotFoundError": 404,
    "BadRequestError": 400,
    "ContextWindowExceededError": 400,
    "ContentPolicyViolationError": 400,
    "UnsupportedParamsError": 400,
    "RejectedRequestError": 400,
    "LiteLLMUnknownProvider": 400,
    "UnprocessableEntityError": 422,
    "Timeout": 408,
    "RateLimitError": 429,
    "InternalServerError": 500,
    "ServiceUnavailableError": 503,
    "BadGatewayError": 502,
    "APIError": 500,
    "MockException": 500,
    "APIConnectionError": 500,
    "APIResponseValidationError": 500,
    "JSONSchemaValidationError": 500,
    "InvalidRequestError": 400,
    "MidStreamFallbackError": 503,
}


def build(name: str, **extra):
    """An instance of ``name`` made from the MESSAGES arguments."""
    args = next(args for n, args, _ in MESSAGES if n == name)
    return getattr(exc, name)(*args, **extra)


@pytest.mark.parametrize("name", sorted(STATUS))
def test_status_code_and_common_attributes(name):
    error = build(name)
    assert error.status_code == STATUS[name]
    assert error.response.status_code == STATUS[name]
    for attribute in ("message", "llm_provider", "model", "litellm_debug_info"):
        assert hasattr(error, attribute)
    assert hasattr(error, "max_retries") and hasattr(error, "num_retries")
    assert error.request is not None


def test_attributes_keep_what_was_passed():
    error = exc.BadRequestError(
        "m", "gpt-4o", "openai", litellm_debug_info="dbg", max_retries=3, num_retries=1,
        body={"error": {"message": "m"}, "code": "invalid_value", "type": "invalid_request_error"},
    )  # fmt: skip
    assert (error.model, error.llm_provider, error.litellm_debug_info) == (
        "gpt-4o",
        "openai",
        "dbg",
    )
    assert (error.max_retries, error.num_retries) == (3, 1)
    assert error.body["code"] == "invalid_value"
    assert (error.code, error.type) == ("invalid_value", "invalid_request_error")


def test_timeout_status_and_headers():
    error = exc.Timeout("m", "gpt-4o", "openai", headers={"retry-after": "2"}, exception_status_code=504)
    assert error.status_code == 504
    assert error.headers == {"retry-after": "2"}
    assert exc.Timeout("m", "gpt-4o", "openai").headers is None


def test_rate_limit_error_keeps_the_reply_headers():
    error = exc.RateLimitError("m", "openai", "gpt-4o", headers={"retry-after": "7"})
    assert error.headers == {"retry-after": "7"}
    assert error.response.headers.get("retry-after") == "7"
    assert error.response.headers.get("Retry-After") == "7"
    assert (error.code, error.type) == ("429", "throttling_error")

    again = exc.RateLimitError("m", "openai", "gpt-4o", response=error.response)
    assert again.headers.get("retry-after") == "7"
    assert exc.RateLimitError("m", "openai", "gpt-4o").headers == {}


def test_openai_error_wraps_another_error():
    error = exc.OpenAIError(ValueError("boom"))
    assert (error.llm_provider, error.message, str(error)) == ("openai", "boom", "boom")
    assert exc.OpenAIError().message == ""


def test_unsupported_params_error_honours_its_status_code():
    # LiteLLM ignores the argument (always 400); the parameter exists to be used.
    assert exc.UnsupportedParamsError("m", status_code=422).status_code == 422


def test_json_schema_validation_error_keeps_raw_response():
    error = exc.JSONSchemaValidationError("gpt-4o", "openai", "{bad", "{}")
    assert (error.raw_response, error.schema) == ("{bad", "{}")


# --------------------------------------------------------------------------------------
# Pickle and copy
# --------------------------------------------------------------------------------------

PICKLED = [name for name, _, _ in MESSAGES] + ["OpenAIError"]


def make_for_pickling(name: str):
    if name == "OpenAIError":
        return exc.OpenAIError(ValueError("boom"))
    error = build(name)
    error.num_retries, error.max_retries = 2, 3
    return error


@pytest.mark.parametrize("name", PICKLED)
@pytest.mark.parametrize("protocol", [0, pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL])
def test_pickle_round_trip(name, protocol):
    error = make_for_pickling(name)
    clone = pickle.loads(pickle.dumps(error, protocol=protocol))
    assert type(clone) is type(error)
    for attribute in ("message", "status_code", "llm_provider", "model", "num_retries"):
        assert getattr(clone, attribute, None) == getattr(error, attribute, None)
    assert str(clone) == str(error)
    assert clone.args == error.args


@pytest.mark.parametrize("name", PICKLED)
def test_copy_and_deepcopy(name):
    error = make_for_pickling(name)
    for clone in (copy.copy(error), copy.deepcopy(error)):
        assert type(clone) is type(error)
        assert str(clone) == str(error)
        assert clone.status_code == error.status_code


@pytest.mark.parametrize(
    "error",
    [
        exc.BudgetExceededError(1.5, 1.0),
        exc.RouterRateLimitError("group", 5.0, True, []),
        exc.GuardrailRaisedException("pii", "blocked"),
        exc.BlockedPiiEntityError("EMAIL", "pii"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_plain_exceptions_pickle(error):
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error) and str(clone) == str(error)
    assert clone.__dict__ == error.__dict__


def test_rate_limit_headers_survive_pickling():
    error = exc.RateLimitError("m", "openai", "gpt-4o", headers={"retry-after": "7"})
    clone = pickle.loads(pickle.dumps(error))
    assert clone.headers == {"retry-after": "7"}
    assert clone.response.headers.get("retry-after") == "7"


def test_unpickles_in_a_fresh_process():
    # What a multiprocessing pool does: the receiving process has not built the classes.
    payload = pickle.dumps(exc.RateLimitError("m", "openai", "gpt-4o", num_retries=2))
    out = run_python(
        f"""
        import pickle
        error = pickle.loads({payload!r})
        print(type(error).__name__, error.status_code, str(error))
        """,
        block_openai=openai is None,
    )
    assert out.strip() == "RateLimitError 429 litellm.RateLimitError: m LiteLLM Retried: 2 times"


# --------------------------------------------------------------------------------------
# _from_core: the binding layer
# --------------------------------------------------------------------------------------


def core_error(kind, message="m", status_code=500, **overrides):
    """A stand-in for the Rust core's private error object."""
    fields = {
        "kind": kind,
        "message": message,
        "status_code": status_code,
        "llm_provider": "openai",
        "model": "gpt-4o",
        "body": None,
        "headers": {},
        "num_retries": None,
        "max_retries": None,
    }
    fields.update(overrides)
    return types.SimpleNamespace(**fields)


# kind -> (status the core reports, status the exception has, message prefix added)
FROM_CORE = {
    "AuthenticationError": (401, 401, "litellm.AuthenticationError: "),
    "PermissionDeniedError": (403, 403, "litellm.PermissionDeniedError: "),
    "NotFoundError": (404, 404, "litellm.NotFoundError: "),
    "BadRequestError": (400, 400, "litellm.BadRequestError: "),
    "ContextWindowExceededError": (
        400, 400, "litellm.ContextWindowExceededError: litellm.BadRequestError: "
    ),
    "ContentPolicyViolationError": (
        400, 400, "litellm.BadRequestError: litellm.ContentPolicyViolationError: "
    ),
    "UnsupportedParamsError": (400, 400, "litellm.UnsupportedParamsError: "),
    "RejectedRequestError": (400, 400, "litellm.BadRequestError: litellm.RejectedRequestError: "),
    "UnprocessableEntityError": (422, 422, "litellm.UnprocessableEntityError: "),
    "Timeout": (408, 408, "litellm.Timeout: "),
    "RateLimitError": (429, 429, "litellm.RateLimitError: "),
    "InternalServerError": (500, 500, "litellm.InternalServerError: "),
    "ServiceUnavailableError": (503, 503, "litellm.ServiceUnavailableError: "),
    "BadGatewayError": (502, 502, "litellm.BadGatewayError: "),
    "MidStreamFallbackError": (
        503, 503, "litellm.ServiceUnavailableError: litellm.MidStreamFallbackError: "
    ),
    "APIError": (529, 529, "litellm.APIError: "),
    "MockException": (500, 500, "litellm.MockException: "),
    "APIConnectionError": (500, 500, "litellm.APIConnectionError: "),
    "APIResponseValidationError": (500, 500, ""),
    "InvalidRequestError": (400, 400, ""),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(FROM_CORE))
def test_from_core_builds_the_named_class(kind):
    sent, expected_status, prefix = FROM_CORE[kind]
    message = f"{kind}: OpenAIException - boom"
    err = core_error(
        kind,
        message,
        sent,
        headers={"retry-after": "3", "x-request-id": "req-1"},
        body={"error": {"message": "boom", "code": "some_code"}},
        num_retries=2,
        max_retries=3,
    )
    error = exc._from_core(err)
    assert type(error) is getattr(exc, kind)
    assert error.message == prefix + message
    assert str(error) == repr(error) == (f"{prefix}{message} LiteLLM Retried: 2 times, LiteLLM Max Retries: 3")
    assert error.status_code == expected_status
    assert (error.llm_provider, error.model) == ("openai", "gpt-4o")
    assert (error.num_retries, error.max_retries) == (2, 3)
    assert error.body == {"message": "boom", "code": "some_code"}  # openai unwraps "error"
    assert error.response.headers.get("retry-after") == "3"
    assert error.response.headers.get("Retry-After") == "3"


def test_from_core_covers_every_class():
    covered = set(FROM_CORE) | {
        "LiteLLMUnknownProvider",
        "JSONSchemaValidationError",
        "OpenAIError",
        "BudgetExceededError",
        "RouterRateLimitError",
    }
    assert covered == set(SIGNATURES)


def test_from_core_headers_on_rate_limit_and_timeout():
    headers = {"retry-after": "3", "x-ratelimit-remaining-requests": "0"}
    rate_limited = exc._from_core(core_error("RateLimitError", status_code=429, headers=headers))
    assert rate_limited.headers == headers
    timed_out = exc._from_core(core_error("Timeout", status_code=504, headers=headers))
    assert timed_out.headers == headers
    assert timed_out.status_code == 504


@needs_openai
def test_from_core_request_id_reaches_openai_attribute():
    error = exc._from_core(core_error("AuthenticationError", status_code=401, headers={"x-request-id": "req-9"}))
    assert error.request_id == "req-9"


def test_from_core_bad_request_keeps_a_422_status():
    # LiteLLM 1.110 keeps 422 on the BadRequestError it raises.
    error = exc._from_core(core_error("BadRequestError", status_code=422))
    assert isinstance(error, exc.BadRequestError) and error.status_code == 422


@pytest.mark.parametrize("kind", ["BadRequestError", "AuthenticationError", "APIError"])
def test_from_core_body_sets_openai_code_fields(kind):
    inner = {"message": "m", "type": "invalid_request_error", "code": "invalid_api_key"}
    error = exc._from_core(core_error(kind, status_code=400, body={"error": inner}))
    assert error.body == inner
    assert (error.code, error.type) == ("invalid_api_key", "invalid_request_error")


def test_from_core_keeps_a_body_without_error_object_and_rate_limit_code():
    error = exc._from_core(core_error("RateLimitError", status_code=429, body={"detail": "slow"}))
    assert error.body == {"detail": "slow"}
    assert (error.code, error.type) == ("429", "throttling_error")


@pytest.mark.parametrize("kind", ["NoSuchError", "LITELLM_EXCEPTION_TYPES", None, ""])
def test_from_core_unknown_kind_is_api_error_with_the_status(kind):
    error = exc._from_core(core_error(kind, "m", 418))
    assert type(error) is exc.APIError
    assert error.status_code == 418
    assert str(error) == "litellm.APIError: m"


def test_from_core_without_status_uses_the_class_default():
    assert exc._from_core(core_error("RateLimitError", status_code=None)).status_code == 429
    assert exc._from_core(core_error("APIError", status_code=None)).status_code == 500


def test_from_core_classes_that_write_their_own_text():
    unknown = exc._from_core(core_error("LiteLLMUnknownProvider", model="foo/bar", llm_provider=""))
    assert "You passed model=foo/bar, custom_llm_provider=None." in str(unknown)
    schema = exc._from_core(
        core_error(
            "JSONSchemaValidationError",
            body={"raw_response": "{bad", "schema": '{"type": "object"}'},
        )
    )
    assert schema.raw_response == "{bad" and "for schema={" in str(schema)
    budget = exc._from_core(core_error("BudgetExceededError", "", body={"current_cost": 2.0, "max_budget": 1.0}))
    assert str(budget) == "Budget has been exceeded! Current cost: 2.0, Max budget: 1.0"
    router = exc._from_core(
        core_error(
            "RouterRateLimitError",
            model="group",
            body={"cooldown_time": 5.0, "enable_pre_call_checks": True, "cooldown_list": ["a"]},
        )
    )
    assert isinstance(router, ValueError) and router.cooldown_list == ["a"]
    wrapped = exc._from_core(core_error("OpenAIError", "boom", 500))
    assert (type(wrapped), str(wrapped)) == (exc.OpenAIError, "boom")


def test_from_core_errors_pickle():
    error = exc._from_core(core_error("RateLimitError", status_code=429, headers={"retry-after": "1"}, num_retries=1))
    clone = pickle.loads(pickle.dumps(error))
    assert str(clone) == str(error) and clone.headers == {"retry-after": "1"}


# --------------------------------------------------------------------------------------
# Without openai
# --------------------------------------------------------------------------------------


def test_without_openai_the_stand_in_hierarchy_is_used():
    out = run_python(
        """
        import json, sys
        from rustllm import exceptions as exc
        error = exc.RateLimitError("m", "openai", "gpt-4o", headers={"Retry-After": "2"})
        print(json.dumps({
            "openai_loaded": bool(sys.modules.get("openai")),
            "mro": [c.__name__ for c in type(error).__mro__ if not c.__name__.startswith("_")],
            "str": str(error),
            "retry_after": error.response.headers.get("retry-after"),
            "catchable": isinstance(error, exc.RateLimitError),
        }))
        """,
        block_openai=True,
    )
    state = json.loads(out)
    assert state["openai_loaded"] is False
    # rustllm's class, then the stand-in for openai's, then the stand-in bases.
    assert state["mro"][:2] == ["RateLimitError", "RateLimitError"]
    assert state["mro"][-6:] == [
        "APIStatusError",
        "APIError",
        "OpenAIError",
        "Exception",
        "BaseException",
        "object",
    ]
    assert state["str"] == "litellm.RateLimitError: m"
    assert state["retry_after"] == "2"
    assert state["catchable"] is True


@pytest.mark.skipif(bool(os.environ.get(WITHOUT_OPENAI_ENV)), reason="already the inner run")
def test_whole_file_passes_without_openai():
    # Every test above, again, in a process where openai cannot be imported.
    env = dict(os.environ, **{WITHOUT_OPENAI_ENV: "1"})
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "--noconftest", "-p", "no:cacheprovider",
         __file__],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
