"""AWS Bedrock's Converse API through the public API, against MockServer: the exact body
and SigV4 headers sent to /model/{id}/converse, replies mapped to ModelResponse,
ConverseStream's event-stream frames, tools, errors, drop_params and credentials
(litellm-behaviour.md §1.4, §1.5)."""

from __future__ import annotations

import json
import os
import re

import pytest

import rustllm as litellm

USER_HI = [{"role": "user", "content": "hi"}]
MODEL = "bedrock/anthropic.claude-3-haiku-20240307-v1:0"
PATH = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}

SIGV4 = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=AKIDTEST/\d{8}/eu-west-1/bedrock/aws4_request, "
    r"SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date(;x-amz-security-token)?, "
    r"Signature=[0-9a-f]{64}$"
)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-test")
    monkeypatch.setenv("AWS_REGION_NAME", "eu-west-1")


@pytest.fixture
def args(server):
    return {"api_base": server.url, "max_retries": 0}


def test_request_is_translated_to_converse_and_signed(server, args):
    litellm.completion(
        model=MODEL,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "a"},
            {"role": "user", "content": "b"},
            {"role": "assistant", "content": "c"},
            {"role": "user", "content": "d"},
        ],
        stop="END",
        max_tokens=50,
        temperature=0.3,
        top_p=0.9,
        top_k=5,
        **args,
    )
    req = server.last_request
    assert req.path == PATH
    assert req.body == {
        "messages": [
            {"role": "user", "content": [{"text": "a"}, {"text": "b"}]},
            {"role": "assistant", "content": [{"text": "c"}]},
            {"role": "user", "content": [{"text": "d"}]},
        ],
        "system": [{"text": "Be brief."}],
        "inferenceConfig": {"maxTokens": 50, "temperature": 0.3, "topP": 0.9, "stopSequences": ["END"]},
        "additionalModelRequestFields": {"top_k": 5},
    }
    assert SIGV4.match(req.headers["authorization"]), req.headers["authorization"]
    assert re.match(r"^\d{8}T\d{6}Z$", req.headers["x-amz-date"])
    assert len(req.headers["x-amz-content-sha256"]) == 64
    assert "x-amz-security-token" not in req.headers


def test_session_token_and_credentials_from_arguments(server, args, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION_NAME"):
        monkeypatch.delenv(name)
    litellm.completion(
        model=MODEL,
        messages=USER_HI,
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key="s",
        aws_session_token="session-tok",
        aws_region_name="eu-west-1",
        **args,
    )
    headers = server.last_request.headers
    assert headers["x-amz-security-token"] == "session-tok"
    assert SIGV4.match(headers["authorization"])
    assert "aws_session_token" not in server.last_request.body


def test_bearer_token_is_sent_without_sigv4(server, args, monkeypatch):
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key")
    litellm.completion(model=MODEL, messages=USER_HI, **args)
    headers = server.last_request.headers
    assert headers["authorization"] == "Bearer bedrock-api-key"
    assert "x-amz-date" not in headers


def test_runtime_endpoint_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("AWS_BEDROCK_RUNTIME_ENDPOINT", server.url)
    resp = litellm.completion(model=MODEL, messages=USER_HI, max_retries=0)
    assert server.last_request.path == PATH
    assert resp.choices[0].message.content == "Hello from MockServer!"


def test_missing_credentials_name_the_variables(server, args, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    with pytest.raises(litellm.AuthenticationError, match="AWS_ACCESS_KEY_ID") as info:
        litellm.completion(model=MODEL, messages=USER_HI, **args)
    assert "AWS_SECRET_ACCESS_KEY" in str(info.value)
    assert server.request_count == 0


def test_reply_becomes_a_model_response(server, args):
    resp = litellm.completion(model=MODEL, messages=USER_HI, **args)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert resp.choices[0].message.role == "assistant"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.model == "anthropic.claude-3-haiku-20240307-v1:0"
    assert resp.id.startswith("chatcmpl-")
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens) == (1, 3, 4)
    assert resp._hidden_params["custom_llm_provider"] == "bedrock"


def test_scripted_reply_with_cache_usage_and_stop_reasons(server, args):
    server.respond(
        body={
            "output": {"message": {"role": "assistant", "content": [{"text": "cut"}]}},
            "stopReason": "max_tokens",
            "usage": {
                "inputTokens": 4,
                "outputTokens": 2,
                "totalTokens": 16,
                "cacheReadInputTokens": 8,
                "cacheWriteInputTokens": 2,
            },
        }
    )
    resp = litellm.completion(model=MODEL, messages=USER_HI, **args)
    assert resp.choices[0].finish_reason == "length"
    assert resp.usage.prompt_tokens == 14
    assert resp.usage.total_tokens == 16
    assert resp.usage.prompt_tokens_details.cached_tokens == 8
    server.respond(
        body={
            "output": {"message": {"role": "assistant", "content": []}},
            "stopReason": "guardrail_intervened",
            "usage": {"inputTokens": 1, "outputTokens": 0, "totalTokens": 1},
        }
    )
    resp = litellm.completion(model=MODEL, messages=USER_HI, **args)
    assert resp.choices[0].finish_reason == "content_filter"


def test_tools_and_a_full_round_trip_through_the_history(server, args):
    messages = [{"role": "user", "content": "weather in Paris?"}]
    model = MODEL
    resp = litellm.completion(model=model, messages=messages, tools=[WEATHER_TOOL], tool_choice="required", **args)
    body = server.last_request.body
    assert body["toolConfig"] == {
        "tools": [
            {
                "toolSpec": {
                    "name": "get_weather",
                    "description": "Current weather for a city",
                    "inputSchema": {"json": WEATHER_TOOL["function"]["parameters"]},
                }
            }
        ],
        "toolChoice": {"any": {}},
    }
    msg = resp.choices[0].message
    assert resp.choices[0].finish_reason == "tool_calls"
    assert msg.content is None
    call = msg.tool_calls[0]
    assert call.function.name == "get_weather"
    assert "city" in json.loads(call.function.arguments)

    messages.append(msg)
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"})
    messages.append({"role": "user", "content": "thanks"})
    resp = litellm.completion(model=model, messages=messages, tools=[WEATHER_TOOL], **args)
    assert server.last_request.body["messages"] == [
        {"role": "user", "content": [{"text": "weather in Paris?"}]},
        {
            "role": "assistant",
            "content": [
                {"toolUse": {"toolUseId": call.id, "name": "get_weather", "input": json.loads(call.function.arguments)}}
            ],
        },
        {
            "role": "user",
            "content": [
                {"toolResult": {"toolUseId": call.id, "content": [{"text": "sunny, 21C"}]}},
                {"text": "thanks"},
            ],
        },
    ]
    assert "toolChoice" not in server.last_request.body["toolConfig"]
    assert resp.choices[0].message.content


@pytest.mark.parametrize(
    "choice,expected",
    [
        ("auto", {"auto": {}}),
        ({"type": "function", "function": {"name": "get_weather"}}, {"tool": {"name": "get_weather"}}),
    ],
)
def test_tool_choice_mapping(server, args, choice, expected):
    litellm.completion(model=MODEL, messages=USER_HI, tools=[WEATHER_TOOL], tool_choice=choice, **args)
    assert server.last_request.body["toolConfig"]["toolChoice"] == expected


def test_images_become_image_blocks(server, args):
    litellm.completion(
        model=MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                ],
            }
        ],
        **args,
    )
    assert server.last_request.body["messages"][0]["content"] == [
        {"text": "What is this?"},
        {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}},
    ]


def test_stream_of_text_with_usage(server, args):
    stream = litellm.completion(
        model=MODEL,
        messages=[{"role": "user", "content": "say hello"}],
        stream=True,
        stream_options={"include_usage": True},
        **args,
    )
    chunks = list(stream)
    req = server.last_request
    assert req.path == PATH + "-stream"
    assert "stream" not in req.body and "stream_options" not in req.body
    assert SIGV4.match(req.headers["authorization"])
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(texts) == "Hello from MockServer!"
    assert len(texts) > 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len({c.id for c in chunks}) == 1
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    usage = chunks[-1].usage
    assert (usage.prompt_tokens, usage.completion_tokens) == (2, 3)
    rebuilt = litellm.stream_chunk_builder(chunks)
    assert rebuilt.choices[0].message.content == "Hello from MockServer!"
    assert rebuilt.usage.total_tokens == 5


def test_stream_tool_call_fragments_are_joined(server, args):
    stream = litellm.completion(
        model="bedrock/mock-tool",
        messages=[{"role": "user", "content": "weather in Paris?"}],
        tools=[WEATHER_TOOL],
        stream=True,
        **args,
    )
    chunks = list(stream)
    calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert calls[0].id and calls[0].function.name == "get_weather"
    assert len(calls) > 2  # the input arrives as several toolUse fragments
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    rebuilt = litellm.stream_chunk_builder(chunks)
    call = rebuilt.choices[0].message.tool_calls[0]
    assert isinstance(json.loads(call.function.arguments), dict)
    assert call.id == calls[0].id


async def test_async_stream(server, args):
    stream = await litellm.acompletion(model=MODEL, messages=USER_HI, stream=True, **args)
    texts = [c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content]
    assert "".join(texts) == "Hello from MockServer!"


@pytest.mark.parametrize(
    "model,exc,status",
    [
        ("bedrock/m-error-400", litellm.BadRequestError, 400),
        ("bedrock/m-error-401", litellm.AuthenticationError, 401),
        ("bedrock/m-error-403", litellm.PermissionDeniedError, 403),
        ("bedrock/m-error-404", litellm.NotFoundError, 404),
        ("bedrock/m-error-429", litellm.RateLimitError, 429),
        ("bedrock/m-error-500", litellm.InternalServerError, 500),
        ("bedrock/m-error-503", litellm.ServiceUnavailableError, 503),
        ("bedrock/m-context-window-error", litellm.ContextWindowExceededError, 400),
    ],
)
def test_errors_by_status(server, args, model, exc, status):
    with pytest.raises(exc) as info:
        litellm.completion(model=model, messages=USER_HI, **args)
    err = info.value
    assert err.status_code == status
    assert err.llm_provider == "bedrock"
    assert "BedrockException" in str(err)
    assert server.last_request.headers["authorization"].startswith("AWS4-HMAC-SHA256")


def test_aws_error_types_decide_the_class(server, args):
    # AWS sends bad credentials as 403 UnrecognizedClientException: an authentication error.
    server.respond(
        status=403,
        body={"message": "The security token included in the request is invalid."},
        headers={"x-amzn-errortype": "UnrecognizedClientException:http://internal.amazon.com/coral/"},
    )
    with pytest.raises(litellm.AuthenticationError, match="security token"):
        litellm.completion(model=MODEL, messages=USER_HI, **args)
    server.respond(
        status=400,
        body={"message": "Too many requests, please wait before trying again."},
        headers={"x-amzn-errortype": "ThrottlingException"},
    )
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(model=MODEL, messages=USER_HI, **args)
    server.respond(
        status=429,
        body={"message": "Model is not ready"},
        headers={"x-amzn-errortype": "ModelNotReadyException"},
    )
    with pytest.raises(litellm.ServiceUnavailableError):
        litellm.completion(model=MODEL, messages=USER_HI, **args)


def test_stream_errors_before_the_first_frame(server, args):
    with pytest.raises(litellm.RateLimitError):
        list(litellm.completion(model="bedrock/m-error-429", messages=USER_HI, stream=True, **args))


def test_unsupported_params_raise_unless_dropped(server, args):
    with pytest.raises(litellm.UnsupportedParamsError) as info:
        litellm.completion(model=MODEL, messages=USER_HI, logit_bias={"1": 1}, seed=7, **args)
    assert str(info.value).startswith(
        "litellm.UnsupportedParamsError: bedrock does not support parameters: ['logit_bias', 'seed'], "
        "for model=anthropic.claude-3-haiku-20240307-v1:0. To drop these, set `litellm.drop_params=True`"
    )
    assert server.request_count == 0
    litellm.completion(
        model=MODEL, messages=USER_HI, logit_bias={"1": 1}, presence_penalty=0.5, n=2, drop_params=True, **args
    )
    body = server.last_request.body
    assert "additionalModelRequestFields" not in body
    for dropped in ("logit_bias", "presence_penalty", "n"):
        assert dropped not in body


def _sigv4(secret: str, method: str, path: str, headers: dict, signed: list, payload_hash: str, scope: str) -> str:
    """AWS SigV4 written out independently in Python (hashlib/hmac), for checking the wire."""
    import hashlib
    import hmac
    from urllib.parse import quote

    canonical = "\n".join(
        [
            method,
            quote(path, safe="/~"),
            "",
            "".join(f"{h}:{headers[h].strip()}\n" for h in signed),
            ";".join(signed),
            payload_hash,
        ]
    )
    date, region, service, _ = scope.split("/")
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", headers["x-amz-date"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_the_signature_on_the_wire_verifies(server, args):
    import hashlib

    litellm.completion(model=MODEL, messages=USER_HI, aws_session_token="tok", **args)
    req = server.last_request
    body = json.dumps(req.body, separators=(",", ":")).encode()
    assert req.headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    m = re.match(
        r"AWS4-HMAC-SHA256 Credential=AKIDTEST/(\S+), SignedHeaders=(\S+), Signature=(\w+)$",
        req.headers["authorization"],
    )
    assert m
    scope, signed, signature = m.group(1), m.group(2).split(";"), m.group(3)
    assert signed == ["content-type", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"]
    headers = {k.lower(): v for k, v in req.headers.items()}
    expected = _sigv4("secret-test", "POST", req.path, headers, signed, req.headers["x-amz-content-sha256"], scope)
    assert signature == expected


def test_api_key_and_endpoint_arguments(server, monkeypatch):
    litellm.completion(
        model=MODEL, messages=USER_HI, api_key="br-key", aws_bedrock_runtime_endpoint=server.url, max_retries=0
    )
    req = server.last_request
    assert req.path == PATH
    assert req.headers["authorization"] == "Bearer br-key"
    assert "aws_bedrock_runtime_endpoint" not in req.body


def test_json_mode_uses_a_forced_tool_and_returns_content(server, args):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    resp = litellm.completion(
        model=MODEL,
        messages=[{"role": "user", "content": "a city as JSON"}],
        response_format={"type": "json_schema", "json_schema": {"name": "City", "schema": schema}},
        **args,
    )
    body = server.last_request.body
    assert body["toolConfig"] == {
        "tools": [{"toolSpec": {"name": "json_tool_call", "inputSchema": {"json": schema}}}],
        "toolChoice": {"tool": {"name": "json_tool_call"}},
    }
    msg = resp.choices[0].message
    assert msg.tool_calls is None
    assert "city" in json.loads(msg.content)
    assert resp.choices[0].finish_reason == "stop"

    chunks = list(
        litellm.completion(
            model=MODEL,
            messages=[{"role": "user", "content": "a city as JSON"}],
            response_format={"type": "json_object"},
            stream=True,
            **args,
        )
    )
    rebuilt = litellm.stream_chunk_builder(chunks)
    assert isinstance(json.loads(rebuilt.choices[0].message.content), dict)
    assert rebuilt.choices[0].finish_reason == "stop"


def test_reasoning_effort_for_claude_only(server, args):
    litellm.completion(model=MODEL, messages=USER_HI, reasoning_effort="medium", **args)
    assert server.last_request.body["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 2048}
    }
    with pytest.raises(litellm.UnsupportedParamsError, match="reasoning_effort"):
        litellm.completion(model="bedrock/amazon.nova-pro-v1:0", messages=USER_HI, reasoning_effort="low", **args)


def test_embeddings_are_refused_clearly(server, args):
    with pytest.raises(litellm.BadRequestError, match="chat completions only"):
        litellm.embedding(model="bedrock/amazon.titan-embed-text-v2:0", input=["hi"], **args)
    assert server.request_count == 0


def test_each_retry_is_signed_afresh(server, args):
    server.fail_next(1, status=503, headers={"retry-after": "0"})
    resp = litellm.completion(model=MODEL, messages=USER_HI, **{**args, "max_retries": 1})
    assert resp.choices[0].message.content
    reqs = server.requests
    assert len(reqs) == 2
    assert all(SIGV4.match(r.headers["authorization"]) for r in reqs)


def test_thinking_blocks_come_back_and_go_back(server, args):
    server.respond(
        body={
            "output": {
                "message": {
                    "role": "assistant",
                    "content": [
                        {"reasoningContent": {"reasoningText": {"text": "think", "signature": "sig"}}},
                        {"text": "answer"},
                    ],
                }
            },
            "stopReason": "end_turn",
            "usage": {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3},
        }
    )
    resp = litellm.completion(model=MODEL, messages=USER_HI, reasoning_effort="low", **args)
    msg = resp.choices[0].message
    assert msg.reasoning_content == "think"
    assert msg.thinking_blocks == [{"type": "thinking", "thinking": "think", "signature": "sig"}]
    litellm.completion(model=MODEL, messages=[*USER_HI, msg, {"role": "user", "content": "more"}], **args)
    assert server.last_request.body["messages"][1] == {
        "role": "assistant",
        "content": [
            {"reasoningContent": {"reasoningText": {"text": "think", "signature": "sig"}}},
            {"text": "answer"},
        ],
    }
