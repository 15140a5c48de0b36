"""Inputs are checked before any request: a wrong type or range is a BadRequestError
(status 400) naming the parameter and the value, and nothing reaches the server. Valid
edge inputs that real frameworks send still go through unchanged."""

from __future__ import annotations

import pytest

import rustllm as litellm
from rustllm import Router

HI = [{"role": "user", "content": "hi"}]

# (keyword arguments, text the message must contain)
BAD_CHAT = [
    ({"messages": []}, "messages must not be empty"),
    ({"messages": None}, "messages is required"),
    ({"temperature": "0.5"}, 'temperature must be a number from 0 to 2, got "0.5" (str)'),
    ({"temperature": 2.5}, "temperature must be a number from 0 to 2, got 2.5"),
    ({"top_p": 1.5}, "top_p must be a number from 0 to 1, got 1.5"),
    ({"n": 0}, "n must be an int of at least 1, got 0"),
    ({"n": True}, "n must be an int of at least 1, got True (bool)"),
    ({"max_tokens": 0}, "max_tokens must be an int of at least 1, got 0"),
    ({"max_completion_tokens": "100"}, 'max_completion_tokens must be an int of at least 1, got "100"'),
    ({"stop": 5}, "stop must be a string or a list of strings, got 5"),
    ({"stop": ["a", 1]}, "stop must be a string or a list of strings"),
    ({"seed": 1.5}, "seed must be an int, got 1.5"),
    ({"presence_penalty": -3}, "presence_penalty must be a number from -2 to 2, got -3"),
    ({"frequency_penalty": "high"}, "frequency_penalty must be a number from -2 to 2"),
    ({"stream": "yes"}, 'stream must be True or False, got "yes" (str)'),
    ({"stream_options": True}, "stream_options must be a dict"),
    ({"response_format": {"type": "json"}}, 'response_format["type"] must be "text", "json_object" or "json_schema"'),
    ({"response_format": {"type": "json_schema"}}, 'needs "json_schema"'),
    ({"tools": {"type": "function"}}, "tools must be a list of tool definitions, got dict"),
    (
        {"tools": [{"type": "function", "function": {"description": "no name"}}]},
        'tools[0]["function"]["name"] must be a non-empty string',
    ),
    (
        {"tools": [{"type": "function", "function": {"name": "f", "parameters": "{}"}}]},
        'tools[0]["function"]["parameters"] must be a JSON schema dict',
    ),
    ({"tool_choice": "always"}, 'tool_choice must be "none", "auto", "required"'),
    ({"tool_choice": {"type": "function"}}, 'tool_choice["function"]["name"]'),
    (
        {"messages": [{"role": "user", "content": [{"type": "text"}]}]},
        'messages[0]: content[0]: a "text" part needs "text": a string',
    ),
    (
        {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]},
        'a "image_url" part needs "image_url": {"url"',
    ),
]


def _assert_refused(err: pytest.ExceptionInfo, expected: str) -> None:
    assert isinstance(err.value, litellm.BadRequestError)
    assert err.value.status_code == 400
    assert expected in str(err.value), str(err.value)


@pytest.mark.parametrize(("kwargs", "expected"), BAD_CHAT)
def test_completion_refuses_bad_input_before_sending(server, openai_args, kwargs, expected):
    call = {"model": "openai/m", "messages": HI, **openai_args, **kwargs}
    with pytest.raises(litellm.BadRequestError) as err:
        litellm.completion(**call)
    _assert_refused(err, expected)
    assert err.value.llm_provider == "openai"
    assert server.request_count == 0


def test_missing_messages_is_refused(server, openai_args):
    with pytest.raises(litellm.BadRequestError) as err:
        litellm.completion(model="openai/m", **openai_args)
    _assert_refused(err, "messages is required")
    assert server.request_count == 0


@pytest.mark.parametrize(("kwargs", "expected"), BAD_CHAT[:6] + BAD_CHAT[14:16])
async def test_acompletion_refuses_bad_input_before_sending(server, openai_args, kwargs, expected):
    call = {"model": "openai/m", "messages": HI, **openai_args, **kwargs}
    with pytest.raises(litellm.BadRequestError) as err:
        await litellm.acompletion(**call)
    _assert_refused(err, expected)
    assert server.request_count == 0


def _router(server, **params):
    return Router(
        model_list=[
            {
                "model_name": "g",
                "litellm_params": {"model": "openai/m", "api_base": server.base_url, "api_key": "k", **params},
            }
        ],
        num_retries=3,
    )


@pytest.mark.parametrize(("kwargs", "expected"), BAD_CHAT[:1] + BAD_CHAT[2:8] + BAD_CHAT[14:16])
def test_router_refuses_bad_input_at_once(server, kwargs, expected):
    import time

    router = _router(server)
    kwargs = dict(kwargs)
    messages = kwargs.pop("messages", HI)
    started = time.monotonic()
    with pytest.raises(litellm.BadRequestError) as err:
        router.completion(model="g", messages=messages, **kwargs)
    _assert_refused(err, expected)
    assert server.request_count == 0
    # Refused before routing: not retried (the Router's backoff would take seconds).
    assert time.monotonic() - started < 0.4


async def test_async_router_refuses_bad_input(server):
    router = _router(server)
    with pytest.raises(litellm.BadRequestError) as err:
        await router.acompletion(model="g", messages=HI, temperature="hot")
    _assert_refused(err, 'temperature must be a number from 0 to 2, got "hot"')
    assert server.request_count == 0


def test_router_checks_the_deployments_own_parameters(server):
    router = _router(server, temperature="0.2")
    with pytest.raises(litellm.BadRequestError) as err:
        router.completion(model="g", messages=HI)
    _assert_refused(err, 'temperature must be a number from 0 to 2, got "0.2"')
    assert server.request_count == 0


def test_embedding_input_is_checked_directly_and_through_the_router(server, openai_args):
    with pytest.raises(litellm.BadRequestError) as err:
        litellm.embedding(model="openai/e", input=[], **openai_args)
    _assert_refused(err, "input must not be empty")
    with pytest.raises(litellm.BadRequestError) as err:
        litellm.embedding(model="openai/e", input="x", extra_headers={"x-a": "1\n2"}, **openai_args)
    _assert_refused(err, 'extra_headers["x-a"] contains a line break')
    with pytest.raises(litellm.BadRequestError) as err:
        _router(server).embedding(model="g", input=[1, "a"])
    _assert_refused(err, "input must be a string, a list of strings, or token lists")
    assert server.request_count == 0


# -- headers and keys ------------------------------------------------------------------


def test_header_injection_is_refused_naming_the_header(server, openai_args):
    with pytest.raises(litellm.BadRequestError) as err:
        litellm.completion(model="openai/m", messages=HI, extra_headers={"x-a": "v\r\nx-injected: 1"}, **openai_args)
    _assert_refused(err, 'extra_headers["x-a"] contains a line break')
    assert "injected" not in str(err.value)
    with pytest.raises(litellm.BadRequestError) as err:
        litellm.completion(model="openai/m", messages=HI, headers={"bad name": "v"}, **openai_args)
    _assert_refused(err, '"bad name" is not a legal HTTP header name')
    assert server.request_count == 0


def test_a_key_with_a_line_break_is_refused_without_showing_it(server, openai_args):
    args = {**openai_args, "api_key": "sk-\r\nx-secret-part"}
    with pytest.raises(litellm.BadRequestError) as err:
        litellm.completion(model="openai/m", messages=HI, **args)
    _assert_refused(err, "api_key contains a line break")
    for shown in (str(err.value), repr(err.value), err.value.message):
        assert "secret-part" not in shown
    assert server.request_count == 0


def test_a_key_from_the_environment_with_a_line_break_is_refused(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-secret\r\n")
    with pytest.raises(litellm.BadRequestError) as err:
        litellm.completion(model="openai/m", messages=HI, api_base=server.base_url, max_retries=0)
    _assert_refused(err, '"authorization" header of this call contains a line break')
    assert "from-env-secret" not in str(err.value)
    assert server.request_count == 0


# -- content parts by provider -----------------------------------------------------------

VIDEO = [{"role": "user", "content": [{"type": "video_url", "video_url": {"url": "https://v"}}]}]


def test_unknown_part_types_pass_through_to_openai_compatible_servers(server, openai_args):
    litellm.completion(model="openai/m", messages=VIDEO, **openai_args)
    assert server.last_request.body["messages"] == VIDEO


@pytest.mark.parametrize(
    ("model", "args"),
    [
        ("anthropic/claude-x", lambda s: {"api_base": s.url, "api_key": "a"}),
        ("gemini/gemini-2.0-flash", lambda s: {"api_base": s.url + "/v1beta", "api_key": "g"}),
        ("ollama_chat/llama3", lambda s: {"api_base": s.url}),
        ("cohere_chat/command-r", lambda s: {"api_base": s.url, "api_key": "c"}),
    ],
)
def test_native_providers_refuse_unknown_part_types(server, model, args):
    with pytest.raises(litellm.BadRequestError) as err:
        litellm.completion(model=model, messages=VIDEO, max_retries=0, **args(server))
    _assert_refused(err, 'content part type "video_url" is not supported by this provider')
    assert server.request_count == 0


# -- valid edge inputs still go through unchanged ----------------------------------------


def test_valid_edge_inputs_are_sent_unchanged(server, openai_args):
    tools = [{"type": "function", "function": {"name": "ping"}}]
    litellm.completion(
        model="openai/m",
        messages=HI,
        temperature=1,
        top_p=1,
        n=1,
        max_tokens=None,
        stop=["a", "b", "c", "d", "e"],
        seed=-1,
        presence_penalty=0,
        tools=tools,
        tool_choice="auto",
        response_format={"type": "json_schema", "json_schema": {"schema": {"type": "object"}}},
        top_k=5,
        foo_bar="x",
        **openai_args,
    )
    body = server.last_request.body
    assert body["temperature"] == 1 and isinstance(body["temperature"], int)
    assert body["stop"] == ["a", "b", "c", "d", "e"]
    assert body["tools"] == tools
    assert body["top_k"] == 5 and body["foo_bar"] == "x"
    assert "max_tokens" not in body


def test_stream_options_without_a_stream_is_not_sent(server, openai_args):
    litellm.completion(model="openai/m", messages=HI, stream_options={"include_usage": True}, **openai_args)
    assert "stream_options" not in server.last_request.body
    chunks = list(
        litellm.completion(
            model="openai/m", messages=HI, stream=True, stream_options={"include_usage": True}, **openai_args
        )
    )
    assert server.last_request.body["stream_options"] == {"include_usage": True}
    assert chunks[-1].usage is not None


def test_stream_false_and_none_are_not_streams(server, openai_args):
    for stream in (False, None):
        resp = litellm.completion(model="openai/m", messages=HI, stream=stream, **openai_args)
        assert resp.choices[0].message.content


def test_text_completion_with_empty_messages_sends_no_message_list(server, openai_args):
    litellm.text_completion(model="text-completion-openai/m", prompt="hi", messages=[], **openai_args)
    body = server.last_request.body
    assert "messages" not in body and body["prompt"] == "hi"
