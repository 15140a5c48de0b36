"""The first exception does not import openai, and ``except openai.X`` still catches
rustllm's errors whatever the order: openai imported before the first error, after it,
by a loader other than ``import``, or never (not installed).

Each case runs in a fresh interpreter, since which modules are loaded is the point. Errors
are raised through real calls (``mock_response`` magic strings and a MockServer that
fails on purpose), so they take the path users' errors take.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("openai")

# Every rustllm class that subclasses an openai class -> that openai class (LiteLLM's
# hierarchy, as in test_exceptions.OPENAI_BASE).
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

# Constructor arguments for each of those classes (LiteLLM's signatures).
ARGS = {
    "AuthenticationError": ("m", "openai", "gpt-4o"),
    "PermissionDeniedError": ("m", "openai", "gpt-4o"),
    "NotFoundError": ("m", "gpt-4o", "openai"),
    "BadRequestError": ("m", "gpt-4o", "openai"),
    "ContextWindowExceededError": ("m", "gpt-4o", "openai"),
    "ContentPolicyViolationError": ("m", "gpt-4o", "openai"),
    "UnsupportedParamsError": ("m", "openai", "gpt-4o"),
    "RejectedRequestError": ("m", "gpt-4o", "openai", {}),
    "LiteLLMUnknownProvider": ("gpt-4o",),
    "UnprocessableEntityError": ("m", "gpt-4o", "openai"),
    "Timeout": ("m", "gpt-4o", "openai"),
    "RateLimitError": ("m", "openai", "gpt-4o"),
    "InternalServerError": ("m", "openai", "gpt-4o"),
    "ServiceUnavailableError": ("m", "openai", "gpt-4o"),
    "BadGatewayError": ("m", "openai", "gpt-4o"),
    "MidStreamFallbackError": ("m", "gpt-4o", "openai"),
    "APIError": (500, "m", "openai", "gpt-4o"),
    "MockException": (500, "m", "openai", "gpt-4o"),
    "APIConnectionError": ("m", "openai", "gpt-4o"),
    "APIResponseValidationError": ("m", "openai", "gpt-4o"),
    "JSONSchemaValidationError": ("gpt-4o", "openai", "{bad", "{}"),
    "OpenAIError": (),
    "InvalidRequestError": ("m", "gpt-4o", "openai"),
}

PRELUDE = textwrap.dedent(
    f"""
    import json, pickle, sys
    OPENAI_BASE = {OPENAI_BASE!r}
    ARGS = {ARGS!r}
    HI = [{{"role": "user", "content": "hi"}}]

    def raise_rate_limit(litellm):
        litellm.completion(model="gpt-4o-mini", messages=HI, mock_response="litellm.RateLimitError")

    def caught_as_openai(litellm, openai):
        # Real errors of several classes, each caught by the openai class users name.
        from rustllm.testing import MockServer
        caught = []
        with MockServer() as server:
            for status, name in [(400, "BadRequestError"), (401, "AuthenticationError"),
                                 (404, "NotFoundError"), (429, "RateLimitError"),
                                 (500, "InternalServerError"), (503, "APIStatusError")]:
                server.fail_next(status=status)
                try:
                    litellm.completion(model="openai/m", messages=HI, api_base=server.base_url,
                                       api_key="k", max_retries=0)
                except getattr(openai, name) as e:
                    assert isinstance(e, openai.APIError) and isinstance(e, openai.OpenAIError)
                    caught.append(type(e).__name__)
        try:
            litellm.completion(model="openai/m", messages=HI, api_base="http://127.0.0.1:9/v1",
                               api_key="k", max_retries=0)
        except openai.APIConnectionError as e:
            caught.append(type(e).__name__)
        return caught

    def each_class_raised_and_caught_as_openai(litellm, openai):
        caught = []
        for name, base in OPENAI_BASE.items():
            try:
                raise getattr(litellm, name)(*ARGS[name])
            except getattr(openai, base) as e:
                assert isinstance(e, openai.OpenAIError)
                caught.append(name)
        return caught

    def all_classes_subclass_openai(litellm, openai):
        return {{name: issubclass(getattr(litellm, name), getattr(openai, base))
                 for name, base in OPENAI_BASE.items()}}
    """
)


def run(code: str, block_openai: bool = False) -> dict:
    """Run ``code`` (which prints one JSON line last) in a fresh interpreter."""
    head = 'import sys\nsys.modules["openai"] = None  # as if not installed\n' if block_openai else ""
    result = subprocess.run(
        [sys.executable, "-c", head + PRELUDE + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


CAUGHT = [
    "BadRequestError",
    "AuthenticationError",
    "NotFoundError",
    "RateLimitError",
    "InternalServerError",
    "ServiceUnavailableError",
    "APIConnectionError",
]


def test_the_first_error_does_not_import_openai():
    state = run(
        """
        import rustllm as litellm
        hooks = len(sys.meta_path)
        try:
            raise_rate_limit(litellm)
        except litellm.RateLimitError as e:
            caught = type(e).__name__
        print(json.dumps({"caught": caught, "loaded": [m for m in ("openai", "httpx", "httpx2") if m in sys.modules],
                          "hooks_added": len(sys.meta_path) - hooks}))
        """
    )
    assert state["caught"] == "RateLimitError"
    assert state["loaded"] == []
    # While on the stand-ins, one finder waits for `import openai`.
    assert state["hooks_added"] == 1


def test_openai_imported_before_the_first_error():
    state = run(
        """
        import openai
        import rustllm as litellm
        try:
            raise_rate_limit(litellm)
        except openai.RateLimitError as e:
            first = e
        print(json.dumps({"caught": caught_as_openai(litellm, openai),
                          "subclass": all_classes_subclass_openai(litellm, openai),
                          "each": each_class_raised_and_caught_as_openai(litellm, openai),
                          "response": type(first.response).__module__.split(".")[0],
                          "pickled": str(pickle.loads(pickle.dumps(first))) == str(first)}))
        """
    )
    assert state["caught"] == CAUGHT
    assert all(state["subclass"].values()), state["subclass"]
    assert state["each"] == list(OPENAI_BASE)
    assert state["response"] in ("httpx", "httpx2")
    assert state["pickled"]


def test_openai_imported_after_a_first_error():
    state = run(
        """
        import rustllm as litellm
        hooks = len(sys.meta_path)
        try:
            raise_rate_limit(litellm)
        except litellm.RateLimitError as e:
            first = e
        openai_after_first = "openai" in sys.modules
        cls = litellm.RateLimitError
        import openai
        state = {
            "openai_after_first": openai_after_first,
            # The error raised before openai was imported is one of openai's now too.
            "first_is_openai": isinstance(first, openai.RateLimitError) and isinstance(first, openai.APIError),
            "subclass": all_classes_subclass_openai(litellm, openai),
            "same_class": litellm.RateLimitError is cls,
            "caught": caught_as_openai(litellm, openai),
            "each": each_class_raised_and_caught_as_openai(litellm, openai),
            "hooks_left": len(sys.meta_path) - hooks,
        }
        try:
            raise_rate_limit(litellm)
        except openai.RateLimitError as e:
            state["response"] = type(e.response).__module__.split(".")[0]
            state["pickled"] = [str(pickle.loads(pickle.dumps(x))) == str(x) for x in (first, e)]
        print(json.dumps(state))
        """
    )
    assert state["openai_after_first"] is False
    assert state["first_is_openai"]
    assert all(state["subclass"].values()), state["subclass"]
    assert state["same_class"]
    assert state["caught"] == CAUGHT
    assert state["each"] == list(OPENAI_BASE)
    assert state["hooks_left"] == 0
    assert state["response"] in ("httpx", "httpx2")
    assert state["pickled"] == [True, True]


def test_openai_loaded_without_the_import_statement_after_a_first_error():
    # A loader that bypasses `import` (so no finder sees it): the next error built moves
    # the classes onto openai's.
    state = run(
        """
        import importlib.machinery, importlib.util
        import rustllm as litellm
        try:
            raise_rate_limit(litellm)
        except litellm.RateLimitError:
            pass
        openai_after_first = "openai" in sys.modules
        spec = importlib.machinery.PathFinder.find_spec("openai")
        openai = importlib.util.module_from_spec(spec)
        sys.modules["openai"] = openai
        spec.loader.exec_module(openai)
        print(json.dumps({"openai_after_first": openai_after_first,
                          "caught": caught_as_openai(litellm, openai),
                          "each": each_class_raised_and_caught_as_openai(litellm, openai),
                          "subclass": all_classes_subclass_openai(litellm, openai)}))
        """
    )
    assert state["openai_after_first"] is False
    assert state["caught"] == CAUGHT
    assert state["each"] == list(OPENAI_BASE)
    assert all(state["subclass"].values()), state["subclass"]


def test_without_openai_installed_litellm_names_catch_everything():
    state = run(
        """
        import rustllm as litellm
        hooks = len(sys.meta_path)
        try:
            raise_rate_limit(litellm)
        except tuple(litellm.LITELLM_EXCEPTION_TYPES) as e:
            caught = type(e).__name__
        try:
            raise litellm.OpenAIError(ValueError("boom"))
        except litellm.OpenAIError as e:
            wrapped = str(e)
        print(json.dumps({"caught": caught, "wrapped": wrapped, "hooks_added": len(sys.meta_path) - hooks,
                          "stand_in_root": [c.__name__ for c in litellm.RateLimitError.__mro__][-4]}))
        """,
        block_openai=True,
    )
    assert state["caught"] == "RateLimitError"
    assert state["wrapped"] == "boom"
    assert state["hooks_added"] == 0  # nothing to wait for
    assert state["stand_in_root"] == "OpenAIError"
