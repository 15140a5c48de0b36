"""Errors: LiteLLM's classes by status and by provider body, the provider's message
kept, keys never shown, connection failures and timeouts, and retries on direct calls."""

from __future__ import annotations

import socket
import time

import pytest

import rustllm as litellm

USER_HI = [{"role": "user", "content": "hi"}]

STATUS_CLASSES = [
    (400, "BadRequestError"),
    (401, "AuthenticationError"),
    (403, "PermissionDeniedError"),
    (404, "NotFoundError"),
    (408, "Timeout"),
    (422, "UnprocessableEntityError"),
    (429, "RateLimitError"),
    (500, "InternalServerError"),
    (502, "BadGatewayError"),
    (503, "ServiceUnavailableError"),
    (504, "Timeout"),
    (409, "APIError"),
]


@pytest.mark.parametrize("status,class_name", STATUS_CLASSES)
def test_status_codes_map_to_litellm_classes(server, openai_args, status, class_name):
    with pytest.raises(getattr(litellm, class_name)) as info:
        litellm.completion(model=f"openai/error-{status}", messages=USER_HI, **openai_args)
    err = info.value
    assert type(err).__name__ == class_name
    assert err.status_code == status
    assert err.llm_provider == "openai"
    assert err.model == f"openai/error-{status}"
    assert "OpenAIException - Mock error" in str(err)


def test_context_window_error(server, openai_args):
    with pytest.raises(litellm.ContextWindowExceededError) as info:
        litellm.completion(model="openai/context-window-error", messages=USER_HI, **openai_args)
    assert isinstance(info.value, litellm.BadRequestError)
    assert info.value.status_code == 400
    assert "maximum context length is 8192 tokens" in str(info.value)


def test_content_policy_error(server, openai_args):
    with pytest.raises(litellm.ContentPolicyViolationError) as info:
        litellm.completion(model="openai/content-policy-error", messages=USER_HI, **openai_args)
    assert isinstance(info.value, litellm.BadRequestError)
    assert "safety system" in str(info.value)


def test_provider_message_is_kept_and_body_exposed(server, openai_args):
    server.respond(status=400, error="Invalid value for 'temperature': must be <= 2.")
    with pytest.raises(litellm.BadRequestError) as info:
        litellm.completion(model="openai/m", messages=USER_HI, **openai_args)
    assert (
        str(info.value) == "litellm.BadRequestError: OpenAIException - Invalid value for 'temperature': must be <= 2."
    )
    # Like the openai SDK, `body` is the provider's `error` object.
    assert info.value.body["message"].startswith("Invalid value")


def test_rate_limit_message_format(server, openai_args):
    server.respond(status=429, error="Rate limit reached for gpt-4o")
    with pytest.raises(litellm.RateLimitError) as info:
        litellm.completion(model="openai/m", messages=USER_HI, **openai_args)
    assert str(info.value) == "litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached for gpt-4o"


def test_api_key_never_appears_in_errors(server):
    key = "sk-very-secret-0123456789"
    server.respond(status=401, error=f"Incorrect API key provided: {key}")
    with pytest.raises(litellm.AuthenticationError) as info:
        litellm.completion(model="openai/m", messages=USER_HI, api_base=server.base_url, api_key=key, max_retries=0)
    err = info.value
    assert key not in str(err) and key not in repr(err)
    assert key not in repr(err.body)
    assert "Incorrect API key provided" in str(err)


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_refused_connection_is_api_connection_error():
    # LiteLLM reports this as InternalServerError; a refused connection is a connection error.
    base = f"http://127.0.0.1:{_free_port()}/v1"
    with pytest.raises(litellm.APIConnectionError) as info:
        litellm.completion(model="openai/m", messages=USER_HI, api_base=base, api_key="k", max_retries=0)
    assert "Connection" in str(info.value)
    assert not isinstance(info.value, litellm.InternalServerError)


def test_dropped_connection_is_api_connection_error(server, openai_args):
    server.respond(disconnect=True)
    with pytest.raises(litellm.APIConnectionError):
        litellm.completion(model="openai/m", messages=USER_HI, **openai_args)


def test_timeout_is_timeout(server, openai_args):
    with pytest.raises(litellm.Timeout) as info:
        litellm.completion(model="openai/slow-2000", messages=USER_HI, timeout=0.2, **openai_args)
    assert info.value.status_code == 408
    assert isinstance(info.value, (litellm.APIConnectionError, litellm.Timeout))


def test_retries_on_5xx_then_success(server):
    server.fail_next(2, status=500)
    resp = litellm.completion(model="openai/m", messages=USER_HI, api_base=server.base_url, api_key="k", max_retries=2)
    assert resp.choices[0].message.content
    assert len(server.requests) == 3


def test_default_is_two_retries(server):
    # The openai SDK (and so LiteLLM) retries twice by default: 3 requests in all.
    with pytest.raises(litellm.InternalServerError) as info:
        litellm.completion(model="openai/error-500", messages=USER_HI, api_base=server.base_url, api_key="k")
    assert len(server.requests) == 3
    assert info.value.num_retries == 2 and info.value.max_retries == 2
    assert str(info.value).endswith(" LiteLLM Retried: 2 times, LiteLLM Max Retries: 2")


def test_num_retries_wins_over_max_retries(server):
    with pytest.raises(litellm.ServiceUnavailableError):
        litellm.completion(
            model="openai/error-503",
            messages=USER_HI,
            api_base=server.base_url,
            api_key="k",
            num_retries=1,
            max_retries=5,
        )
    assert len(server.requests) == 2


def test_no_retry_on_client_errors(server):
    for status in (400, 401, 403, 404, 422):
        server.reset()
        with pytest.raises(Exception) as info:
            litellm.completion(
                model=f"openai/error-{status}", messages=USER_HI, api_base=server.base_url, api_key="k", max_retries=3
            )
        assert info.value.status_code == status
        assert len(server.requests) == 1, status


def test_retry_on_429_honours_retry_after(server):
    server.fail_next(1, status=429, message="slow down", headers={"retry-after-ms": "300"})
    started = time.monotonic()
    resp = litellm.completion(model="openai/m", messages=USER_HI, api_base=server.base_url, api_key="k", max_retries=1)
    elapsed = time.monotonic() - started
    assert resp.choices[0].message.content
    assert len(server.requests) == 2
    assert elapsed >= 0.3


def test_retry_on_connection_drop(server):
    server.respond(disconnect=True)
    resp = litellm.completion(model="openai/m", messages=USER_HI, api_base=server.base_url, api_key="k", max_retries=1)
    assert resp.choices[0].message.content
    assert len(server.requests) == 2


def test_error_in_a_200_body_is_raised(server, openai_args):
    server.respond(status=200, body={"error": {"message": "No endpoints found for x", "code": 404}})
    with pytest.raises(litellm.NotFoundError, match="No endpoints found"):
        litellm.completion(model="openai/m", messages=USER_HI, **openai_args)


def test_non_json_reply_is_an_error_not_an_empty_response(server, openai_args):
    # The connection worked and the provider answered: a provider fault (APIError 500),
    # not a connection error (LiteLLM's catch-all APIConnectionError). Not retried.
    server.respond(status=200, body="<html>gateway</html>")
    with pytest.raises(litellm.APIError, match="not a JSON object") as info:
        litellm.completion(model="openai/m", messages=USER_HI, **{**openai_args, "max_retries": 2})
    assert info.value.status_code == 500
    assert len(server.requests) == 1


def test_exceptions_are_catchable_as_openai_errors(server, openai_args):
    openai = pytest.importorskip("openai")
    with pytest.raises(openai.RateLimitError):
        litellm.completion(model="openai/error-429", messages=USER_HI, **openai_args)
    with pytest.raises(openai.OpenAIError):
        litellm.completion(model="openai/error-500", messages=USER_HI, **openai_args)


def test_bad_option_types_are_bad_requests(server, openai_args):
    args = {**openai_args, "max_retries": None}
    with pytest.raises(litellm.BadRequestError, match="timeout"):
        litellm.completion(model="openai/m", messages=USER_HI, timeout="soon", **args)
    with pytest.raises(litellm.BadRequestError, match="max_retries"):
        litellm.completion(model="openai/m", messages=USER_HI, max_retries=-1, api_base=server.base_url, api_key="k")
    with pytest.raises(litellm.BadRequestError, match="extra_body"):
        litellm.completion(model="openai/m", messages=USER_HI, extra_body=[1], **openai_args)
    with pytest.raises(litellm.BadRequestError, match="tools"):
        litellm.completion(model="openai/m", messages=USER_HI, tools="get_weather", **openai_args)
    assert server.requests == []


def test_absurd_retry_after_and_timeouts_are_errors_not_crashes(server):
    # A provider's retry-after of 1e20 seconds, and a caller's timeout of 1e30 seconds,
    # must neither panic nor wait: the 429 is raised (the wait is over a minute, so the
    # SDK's own backoff applies with max_retries=0: none), and the huge timeout means "none".
    server.fail_next(1, status=429, message="slow down", headers={"retry-after": "1e20"})
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(model="openai/m", messages=USER_HI, api_base=server.base_url, api_key="k", max_retries=0)
    resp = litellm.completion(
        model="openai/m", messages=USER_HI, api_base=server.base_url, api_key="k", timeout=1e30, max_retries=0
    )
    assert resp.choices[0].message.content
