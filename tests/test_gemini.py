"""Google AI Studio (`gemini/`) through the public API against MockServer: the exact
generateContent request (URL, key header, body), the reply and stream mapped to OpenAI
shapes, tools both ways, images, errors, drop_params and missing keys."""

from __future__ import annotations

import base64
import re

import pytest

import rustllm as litellm

USER_HI = [{"role": "user", "content": "hi"}]
MODEL = "gemini/gemini-2.0-flash"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": ["string", "null"], "enum": ["c", "f"]},
            },
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}
CLEANED_WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "nullable": True, "enum": ["c", "f"]},
        },
        "required": ["city"],
    },
}


@pytest.fixture
def args(server):
    return {"api_base": server.url + "/v1beta", "api_key": "g-test-key", "max_retries": 0}


def test_request_translation_url_and_key_header(server, args):
    litellm.completion(
        model=MODEL,
        messages=[{"role": "system", "content": "Be brief."}, *USER_HI],
        temperature=0.2,
        top_p=0.9,
        max_tokens=50,
        stop="END",
        n=1,
        seed=7,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        top_k=40,
        **args,
    )
    req = server.last_request
    assert req.path == "/v1beta/models/gemini-2.0-flash:generateContent"
    # The key travels in a header, never in the URL.
    assert req.query == ""
    assert req.headers["x-goog-api-key"] == "g-test-key"
    assert "authorization" not in req.headers
    assert req.body == {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "system_instruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {
            "temperature": 0.2,
            "topP": 0.9,
            "maxOutputTokens": 50,
            "stopSequences": ["END"],
            "candidateCount": 1,
            "seed": 7,
            "presencePenalty": 0.1,
            "frequencyPenalty": 0.2,
            "topK": 40,
        },
    }


def test_reply_maps_to_model_response(server, args):
    resp = litellm.completion(model=MODEL, messages=[{"role": "user", "content": "one two three"}], **args)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    assert resp.choices[0].message.role == "assistant"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.model == "gemini-2.0-flash"
    assert resp.id.startswith("chatcmpl-")
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens) == (3, 3, 6)
    assert resp._hidden_params["custom_llm_provider"] == "gemini"


def test_max_tokens_finish_is_length(server, args):
    resp = litellm.completion(
        model="gemini/gemini-echo", messages=[{"role": "user", "content": "a b c d e"}], max_tokens=2, **args
    )
    assert resp.choices[0].message.content == "a b"
    assert resp.choices[0].finish_reason == "length"


def test_multi_turn_roles_merge_and_map(server, args):
    litellm.completion(
        model=MODEL,
        messages=[
            {"role": "user", "content": "a"},
            {"role": "user", "content": [{"type": "text", "text": "b"}]},
            {"role": "assistant", "content": "c"},
            {"role": "developer", "content": "d"},
            {"role": "user", "content": "e"},
        ],
        **args,
    )
    assert server.last_request.body["contents"] == [
        {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]},
        {"role": "model", "parts": [{"text": "c"}]},
        {"role": "user", "parts": [{"text": "e"}]},
    ]
    assert server.last_request.body["system_instruction"] == {"parts": [{"text": "d"}]}


def test_tools_are_declared_with_a_cleaned_schema_and_tool_choice(server, args):
    resp = litellm.completion(
        model="gemini/gemini-tool",
        messages=USER_HI,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        **args,
    )
    body = server.last_request.body
    assert body["tools"] == [{"function_declarations": [CLEANED_WEATHER]}]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowed_function_names": ["get_weather"]}}
    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert re.fullmatch(r"call_[0-9a-f]{32}", call.id)
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert call.function.arguments == '{"city": "example", "unit": "c"}'


@pytest.mark.parametrize("choice,mode", [("auto", "AUTO"), ("none", "NONE"), ("required", "ANY")])
def test_tool_choice_modes(server, args, choice, mode):
    litellm.completion(model=MODEL, messages=USER_HI, tools=[WEATHER_TOOL], tool_choice=choice, **args)
    assert server.last_request.body["toolConfig"] == {"functionCallingConfig": {"mode": mode}}


def test_function_without_arguments_has_no_parameters(server, args):
    tool = {"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}}
    litellm.completion(model=MODEL, messages=USER_HI, tools=[tool], **args)
    assert server.last_request.body["tools"] == [{"function_declarations": [{"name": "now"}]}]


def test_tool_round_trip_through_the_history(server, args):
    first = litellm.completion(model="gemini/gemini-tool", messages=USER_HI, tools=[WEATHER_TOOL], **args)
    call = first.choices[0].message.tool_calls[0]
    messages = [
        *USER_HI,
        first.choices[0].message,
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"},
    ]
    second = litellm.completion(model=MODEL, messages=messages, tools=[WEATHER_TOOL], **args)
    assert server.last_request.body["contents"] == [
        {"role": "user", "parts": [{"text": "hi"}]},
        {
            "role": "model",
            "parts": [{"function_call": {"name": "get_weather", "args": {"city": "example", "unit": "c"}}}],
        },
        {
            "role": "user",
            "parts": [{"function_response": {"name": "get_weather", "response": {"content": "sunny, 21C"}}}],
        },
    ]
    assert second.choices[0].message.content == "Hello from MockServer!"


def test_tool_result_without_a_matching_call_is_refused(server, args):
    with pytest.raises(litellm.BadRequestError, match="tool_call_id"):
        litellm.completion(
            model=MODEL, messages=[*USER_HI, {"role": "tool", "tool_call_id": "nope", "content": "x"}], **args
        )
    assert server.request_count == 0


def test_images_are_sent_inline(server, args):
    data = base64.b64encode(b"\x89PNG fake").decode()
    litellm.completion(
        model=MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}},
                    {"type": "image_url", "image_url": "gs://bucket/cat.jpg"},
                ],
            }
        ],
        **args,
    )
    assert server.last_request.body["contents"][0]["parts"] == [
        {"text": "What is this?"},
        {"inline_data": {"mime_type": "image/png", "data": data}},
        {"file_data": {"mime_type": "image/jpeg", "file_uri": "gs://bucket/cat.jpg"}},
    ]


def test_response_format_json_schema(server, args):
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    litellm.completion(
        model=MODEL,
        messages=USER_HI,
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema, "strict": True}},
        **args,
    )
    assert server.last_request.body["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseSchema": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]},
    }
    litellm.completion(model=MODEL, messages=USER_HI, response_format={"type": "json_object"}, **args)
    assert server.last_request.body["generationConfig"] == {"responseMimeType": "application/json"}


def test_reasoning_effort_becomes_a_thinking_budget(server, args):
    litellm.completion(model=MODEL, messages=USER_HI, reasoning_effort="low", **args)
    assert server.last_request.body["generationConfig"] == {
        "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True}
    }


def test_streaming_text(server, args):
    stream = litellm.completion(model=MODEL, messages=USER_HI, stream=True, **args)
    chunks = list(stream)
    req = server.last_request
    assert req.path == "/v1beta/models/gemini-2.0-flash:streamGenerateContent"
    assert req.query == "alt=sse"
    assert req.headers["x-goog-api-key"] == "g-test-key"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello from MockServer!"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.choices[0].delta.role is None for c in chunks[1:])
    assert len({c.id for c in chunks}) == 1
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert not any(getattr(c, "usage", None) for c in chunks)
    built = litellm.stream_chunk_builder(chunks, messages=USER_HI)
    assert built.choices[0].message.content == "Hello from MockServer!"
    assert built.choices[0].finish_reason == "stop"


def test_streaming_usage_chunk_when_asked(server, args):
    chunks = list(
        litellm.completion(
            model=MODEL,
            messages=[{"role": "user", "content": "one two"}],
            stream=True,
            stream_options={"include_usage": True},
            **args,
        )
    )
    usage = chunks[-1].usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (2, 3, 5)
    # stream_options is a stream-control flag, not part of Gemini's body.
    assert "stream_options" not in server.last_request.body


def test_streaming_tool_calls(server, args):
    chunks = list(
        litellm.completion(model="gemini/gemini-tool", messages=USER_HI, tools=[WEATHER_TOOL], stream=True, **args)
    )
    calls = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    assert len(calls) == 1
    assert calls[0].function.name == "get_weather"
    assert calls[0].index == 0
    assert re.fullmatch(r"call_[0-9a-f]{32}", calls[0].id)
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    built = litellm.stream_chunk_builder(chunks)
    assert built.choices[0].message.tool_calls[0].function.arguments == '{"city": "example", "unit": "c"}'
    assert built.choices[0].finish_reason == "tool_calls"


async def test_acompletion_and_async_stream(server, args):
    resp = await litellm.acompletion(model=MODEL, messages=USER_HI, **args)
    assert resp.choices[0].message.content == "Hello from MockServer!"
    stream = await litellm.acompletion(model=MODEL, messages=USER_HI, stream=True, **args)
    text = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert text == "Hello from MockServer!"


@pytest.mark.parametrize(
    "model,exc,status",
    [
        ("gemini/gemini-error-429", litellm.RateLimitError, 429),
        ("gemini/gemini-error-401", litellm.AuthenticationError, 401),
        ("gemini/gemini-error-404", litellm.NotFoundError, 404),
        ("gemini/gemini-error-400", litellm.BadRequestError, 400),
        ("gemini/gemini-error-500", litellm.InternalServerError, 500),
        ("gemini/gemini-error-503", litellm.ServiceUnavailableError, 503),
        ("gemini/gemini-context-window-error", litellm.ContextWindowExceededError, 400),
        ("gemini/gemini-content-policy-error", litellm.ContentPolicyViolationError, 400),
    ],
)
def test_errors_map_to_litellm_exceptions(server, args, model, exc, status):
    with pytest.raises(exc) as info:
        litellm.completion(model=model, messages=USER_HI, **args)
    assert info.value.status_code == status
    assert "GeminiException" in str(info.value)
    assert info.value.llm_provider == "gemini"


def test_google_error_body_text_is_kept(server, args):
    server.respond(
        status=400,
        body={
            "error": {
                "code": 400,
                "message": "API key not valid. Please pass a valid API key.",
                "status": "INVALID_ARGUMENT",
            }
        },
    )
    with pytest.raises(litellm.AuthenticationError, match="API key not valid"):
        litellm.completion(model=MODEL, messages=USER_HI, **args)


def test_blocked_prompt_while_streaming(server, args):
    with pytest.raises(litellm.ContentPolicyViolationError, match="blockReason=SAFETY"):
        list(litellm.completion(model="gemini/gemini-content-policy-error", messages=USER_HI, stream=True, **args))


def test_unsupported_params_raise_or_drop(server, args):
    with pytest.raises(litellm.UnsupportedParamsError) as info:
        litellm.completion(model=MODEL, messages=USER_HI, logit_bias={"1": 2}, **args)
    assert "gemini does not support parameters: ['logit_bias'], for model=gemini-2.0-flash" in str(info.value)
    assert info.value.status_code == 400
    assert server.request_count == 0

    litellm.completion(model=MODEL, messages=USER_HI, logit_bias={"1": 2}, user="u", drop_params=True, **args)
    assert "logit_bias" not in server.last_request.body
    assert "user" not in server.last_request.body


def test_global_drop_params_and_additional_drop_params(server, args, monkeypatch):
    monkeypatch.setattr(litellm, "drop_params", True)
    litellm.completion(
        model=MODEL, messages=USER_HI, user="u", temperature=0.5, additional_drop_params=["temperature"], **args
    )
    assert server.last_request.body == {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


def test_missing_key_fails_before_the_network(server):
    with pytest.raises(litellm.AuthenticationError, match="GEMINI_API_KEY"):
        litellm.completion(model=MODEL, messages=USER_HI, api_base=server.url)
    assert server.request_count == 0


@pytest.mark.parametrize("key_var", ["GEMINI_API_KEY", "GOOGLE_API_KEY"])
def test_key_and_base_from_the_environment(server, monkeypatch, key_var):
    monkeypatch.setenv(key_var, "env-key")
    monkeypatch.setenv("GEMINI_API_BASE", server.url + "/v1beta")
    litellm.completion(model=MODEL, messages=USER_HI, max_retries=0)
    assert server.last_request.headers["x-goog-api-key"] == "env-key"
    assert server.last_request.path == "/v1beta/models/gemini-2.0-flash:generateContent"
