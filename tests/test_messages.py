"""Messages: dicts and returned Message objects, None keys dropped, content parts, and
malformed lists rejected with the offending index before any request."""

from __future__ import annotations

import pytest

import rustllm as litellm
from rustllm import Message


def test_content_parts_pass_through(server, openai_args):
    parts = [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]
    litellm.completion(model="openai/m", messages=[{"role": "user", "content": parts}], **openai_args)
    assert server.last_request.body["messages"] == [{"role": "user", "content": parts}]


def test_message_objects_and_none_keys(server, openai_args):
    msgs = [
        {"role": "system", "content": "be brief", "name": None},
        Message(content="earlier reply", role="assistant"),
        {"role": "user", "content": "go"},
    ]
    litellm.completion(model="openai/m", messages=msgs, **openai_args)
    assert server.last_request.body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"content": "earlier reply", "role": "assistant"},
        {"role": "user", "content": "go"},
    ]


def test_tuple_of_messages_is_accepted(server, openai_args):
    litellm.completion(model="openai/m", messages=({"role": "user", "content": "x"},), **openai_args)
    assert server.last_request.body["messages"] == [{"role": "user", "content": "x"}]


def test_empty_message_list_is_refused_before_sending(server, openai_args):
    # LiteLLM sends [] and OpenAI answers 400 ("[] is too short"); rustllm says so at once.
    with pytest.raises(litellm.BadRequestError, match="messages must not be empty"):
        litellm.completion(model="openai/m", messages=[], **openai_args)
    assert server.request_count == 0


BAD = [
    ("hello", "messages must be a list"),
    ({"role": "user", "content": "x"}, "messages must be a list"),
    ([{"role": "user", "content": "ok"}, "not a dict"], "messages[1]"),
    ([{"content": "no role"}], "messages[0]: missing 'role'"),
    ([{"role": "robot", "content": "x"}], "unknown role"),
    ([{"role": "user"}], "needs 'content'"),
    ([{"role": "user", "content": 42}], "'content' must be a string"),
    ([{"role": "user", "content": [{"text": "no type"}]}], "content[0] must have a string 'type'"),
    (
        [{"role": "user", "content": "a"}, {"role": "tool", "content": "r"}],
        "messages[1]: a tool message needs 'tool_call_id'",
    ),
    ([{"role": "assistant", "tool_calls": [{"id": "c", "function": {"arguments": "{}"}}]}], "function.name"),
    ([{"role": "user", "content": object()}], "messages"),
]


@pytest.mark.parametrize("messages,expected", BAD)
def test_malformed_messages_raise_bad_request_naming_the_problem(server, openai_args, messages, expected):
    with pytest.raises(litellm.BadRequestError) as info:
        litellm.completion(model="openai/m", messages=messages, **openai_args)
    assert expected in str(info.value)
    assert info.value.status_code == 400
    assert server.requests == []


async def test_malformed_messages_async(server, openai_args):
    with pytest.raises(litellm.BadRequestError, match=r"messages\[0\]"):
        await litellm.acompletion(model="openai/m", messages=[{"role": "user"}], **openai_args)
    assert server.requests == []
