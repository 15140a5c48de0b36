"""completion / acompletion through the public API: what goes over the wire, what comes back."""

from __future__ import annotations

import asyncio
import inspect

import pytest

import rustllm
import rustllm as litellm
from rustllm import ModelResponse

USER_HI = [{"role": "user", "content": "hi"}]


def test_completion_returns_a_model_response(server, openai_args):
    resp = litellm.completion(model="openai/gpt-4o-mini", messages=USER_HI, **openai_args)
    assert isinstance(resp, ModelResponse)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert resp.choices[0].message.role == "assistant"
    assert resp.choices[0].finish_reason == "stop"
    assert resp["choices"][0]["message"]["content"] == "Hello from MockServer!"
    assert resp.model == "gpt-4o-mini"
    assert resp.object == "chat.completion"
    assert (
        resp.usage.prompt_tokens == 1
        and resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens
    )
    req = server.last_request
    assert req.method == "POST"
    assert req.path == "/v1/chat/completions"
    assert req.body == {"model": "gpt-4o-mini", "messages": USER_HI}
    assert req.headers["authorization"] == "Bearer sk-test-key"
    assert req.headers["content-type"] == "application/json"


def test_hidden_params_and_response_ms(server, openai_args):
    resp = litellm.completion(model="openai/m", messages=USER_HI, **openai_args)
    hidden = resp._hidden_params
    assert hidden["custom_llm_provider"] == "openai"
    assert hidden["api_base"] == server.base_url
    assert hidden["litellm_model_name"] == "openai/m"
    assert hidden["model_id"] is None
    assert isinstance(resp._response_ms, float) and resp._response_ms > 0
    assert any(k.startswith("llm_provider-") for k in hidden["additional_headers"])


def test_every_openai_parameter_is_passed_through(server, openai_args):
    params = {
        "temperature": 0.3,
        "top_p": 0.9,
        "n": 2,
        "stop": ["\n"],
        "max_completion_tokens": 50,
        "max_tokens": 40,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "logit_bias": {"50256": -100},
        "user": "u-1",
        "reasoning_effort": "low",
        "response_format": {"type": "json_object"},
        "seed": 7,
        "logprobs": True,
        "top_logprobs": 2,
        "modalities": ["text"],
        "prediction": {"type": "content", "content": "x"},
        "audio": {"voice": "alloy", "format": "wav"},
        "web_search_options": {"search_context_size": "low"},
        "parallel_tool_calls": False,
        "service_tier": "auto",
        "store": False,
    }
    litellm.completion(model="openai/m", messages=USER_HI, **params, **openai_args)
    body = server.last_request.body
    for key, value in params.items():
        assert body[key] == value, key


def test_unknown_kwargs_and_extra_body_go_into_the_body(server, openai_args):
    litellm.completion(
        model="openai/m",
        messages=USER_HI,
        top_k=5,
        foo_bar="x",
        extra_body={"repetition_penalty": 1.1, "guided_json": {"type": "object"}},
        metadata={"trace": "not-sent"},
        temperature=None,
        **openai_args,
    )
    body = server.last_request.body
    assert body["top_k"] == 5 and body["foo_bar"] == "x"
    assert body["repetition_penalty"] == 1.1 and body["guided_json"] == {"type": "object"}
    # LiteLLM-only arguments and None values are never sent.
    for key in ("metadata", "extra_body", "temperature", "api_key", "api_base", "max_retries"):
        assert key not in body


def test_headers_extra_headers_and_organization(server, openai_args):
    litellm.completion(
        model="openai/m",
        messages=USER_HI,
        headers={"X-One": "1", "X-Both": "headers"},
        extra_headers={"X-Both": "extra"},
        organization="org-42",
        **openai_args,
    )
    h = server.last_request.headers
    assert h["x-one"] == "1"
    assert h["x-both"] == "extra"
    assert h["openai-organization"] == "org-42"


def test_base_url_is_an_alias_and_wins_over_api_base(server):
    litellm.completion(
        model="openai/m",
        messages=USER_HI,
        base_url=server.base_url,
        api_base="http://127.0.0.1:9/never",
        api_key="k",
        max_retries=0,
    )
    assert len(server.requests) == 1


def test_custom_llm_provider_keeps_the_model_whole(server, openai_args):
    litellm.completion(model="my-org/my-model", custom_llm_provider="openai", messages=USER_HI, **openai_args)
    assert server.last_request.body["model"] == "my-org/my-model"


def test_returned_message_objects_go_back_into_the_history(server, openai_args):
    messages = [{"role": "user", "content": "hi"}]
    first = litellm.completion(model="openai/m", messages=messages, **openai_args)
    messages.append(first.choices[0].message)
    messages.append({"role": "user", "content": "and again"})
    litellm.completion(model="openai/m", messages=messages, **openai_args)
    sent = server.last_request.body["messages"]
    assert sent[1] == {"content": "Hello from MockServer!", "role": "assistant"}
    assert sent[2] == {"role": "user", "content": "and again"}


def test_the_callers_message_list_is_not_mutated(server, openai_args):
    messages = [{"role": "user", "content": "hi", "name": None}]
    snapshot = [dict(m) for m in messages]
    litellm.completion(model="openai/m", messages=messages, **openai_args)
    assert messages == snapshot
    assert server.last_request.body["messages"] == [{"role": "user", "content": "hi"}]


def test_n_choices(server, openai_args):
    resp = litellm.completion(model="openai/m", messages=USER_HI, n=3, **openai_args)
    assert [c.index for c in resp.choices] == [0, 1, 2]


def test_max_tokens_truncation_reports_length(server, openai_args):
    server.respond(text="one two three four five")
    resp = litellm.completion(model="openai/m", messages=USER_HI, max_tokens=2, **openai_args)
    assert resp.choices[0].finish_reason == "length"
    assert resp.choices[0].message.content.split() == ["one", "two"]


def test_timeout_number_and_string(server, openai_args):
    for timeout in (0.2, "0.2"):
        with pytest.raises(litellm.Timeout) as info:
            litellm.completion(model="openai/slow-1500", messages=USER_HI, timeout=timeout, **openai_args)
        assert info.value.status_code == 408


def test_model_is_required():
    with pytest.raises(ValueError, match="model param not passed in"):
        litellm.completion(messages=USER_HI)


def test_signature_matches_litellm():
    sig = inspect.signature(litellm.completion)
    names = list(sig.parameters)
    assert names[:4] == ["model", "messages", "timeout", "temperature"]
    for name in ("tools", "tool_choice", "response_format", "base_url", "api_key", "thinking", "kwargs"):
        assert name in names
    assert list(inspect.signature(litellm.acompletion).parameters) == names


def test_module_level_api_key(server, monkeypatch):
    monkeypatch.setattr(rustllm, "api_key", "sk-module")
    litellm.completion(model="openai/m", messages=USER_HI, api_base=server.base_url, max_retries=0)
    assert server.last_request.headers["authorization"] == "Bearer sk-module"


def test_pydantic_response_format_becomes_a_json_schema(server, openai_args):
    pydantic = pytest.importorskip("pydantic")

    class Person(pydantic.BaseModel):
        name: str
        age: int

    litellm.completion(model="openai/m", messages=USER_HI, response_format=Person, **openai_args)
    rf = server.last_request.body["response_format"]
    assert rf["type"] == "json_schema"
    assert rf["json_schema"]["name"] == "Person"
    assert rf["json_schema"]["strict"] is True
    schema = rf["json_schema"]["schema"]
    assert schema["required"] == ["name", "age"] and schema["additionalProperties"] is False


async def test_acompletion(server, openai_args):
    resp = await litellm.acompletion(model="openai/m", messages=USER_HI, temperature=0.5, **openai_args)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert server.last_request.body["temperature"] == 0.5


async def test_acompletion_runs_concurrently(server, openai_args):
    # Ten calls that each take 200 ms finish together, not one after another.
    loop = asyncio.get_running_loop()
    started = loop.time()
    results = await asyncio.gather(
        *[litellm.acompletion(model="openai/slow-200", messages=USER_HI, **openai_args) for _ in range(10)]
    )
    assert len(results) == 10
    assert loop.time() - started < 1.5


async def test_acompletion_errors_are_mapped(server, openai_args):
    with pytest.raises(litellm.RateLimitError):
        await litellm.acompletion(model="openai/error-429", messages=USER_HI, **openai_args)


def test_ssl_verify_false_is_accepted(server, openai_args):
    resp = litellm.completion(model="openai/m", messages=USER_HI, ssl_verify=False, **openai_args)
    assert resp.choices[0].message.content


# OpenAI's own reply shapes: the core builds these straight into response objects, which
# must be indistinguishable from what ModelResponse._from_openai builds from the JSON.
_OPENAI_REPLIES = [
    {
        "id": "chatcmpl-B9",
        "object": "chat.completion",
        "created": 1741569952,
        "model": "gpt-4.1-2025-04-14",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Hello! How can I assist you today?",
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 19,
            "completion_tokens": 10,
            "total_tokens": 29,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_1",
    },
    {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "a"}, "finish_reason": "length"},
            {"index": 1, "message": {"role": "", "content": None}, "finish_reason": None},
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "prompt_tokens_details": {}},
    },
    {"id": "y", "created": 2, "model": None, "choices": [{"message": {"content": "no usage"}}]},
]


@pytest.mark.parametrize("reply", _OPENAI_REPLIES)
def test_common_replies_built_in_rust_equal_the_python_path(server, openai_args, reply):
    import copy
    import json

    from rustllm.types.utils import ModelResponse

    server.respond(body=reply, times=2)
    raw, _, _ = litellm._core.completion(
        {"model": "openai/m", "messages": [{"role": "user", "content": "hi"}], **openai_args}
    )
    assert type(raw) is ModelResponse  # built by the core, not from a dict
    got = litellm.completion(model="openai/m", messages=[{"role": "user", "content": "hi"}], **openai_args)
    expected = ModelResponse._from_openai(copy.deepcopy(reply), got._hidden_params, got._response_ms)
    assert repr(got) == repr(expected)
    assert got == expected
    assert json.dumps(got.model_dump()) == json.dumps(expected.model_dump())

    def order(o):
        return list(o.__dict__)

    assert order(got) == order(expected)
    assert order(got.usage) == order(expected.usage)
    for a, b in zip(got.choices, expected.choices):
        assert order(a) == order(b) and order(a.message) == order(b.message)
    for name in ("prompt_tokens_details", "completion_tokens_details"):
        a, b = getattr(got.usage, name), getattr(expected.usage, name)
        assert type(a) is type(b) and (a is None or order(a) == order(b))
