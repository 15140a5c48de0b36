"""Response objects (``rustllm.types.utils``): what LiteLLM users touch.

Construction with LiteLLM's defaults, attribute and dict-style access, dumps and JSON,
copy/pickle, equality, LiteLLM's exact reprs, provider extras, private attributes, the
``_from_openai`` fast path used by the Rust core, and ``map_finish_reason``.
"""

from __future__ import annotations

import copy
import json
import pickle
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rustllm.types.utils import (
    ChatCompletionDeltaToolCall,
    ChatCompletionMessageToolCall,
    ChoiceLogprobs,
    Choices,
    CompletionTokensDetailsWrapper,
    Delta,
    EmbeddingResponse,
    Function,
    FunctionCall,
    Message,
    ModelResponse,
    ModelResponseStream,
    PromptTokensDetailsWrapper,
    StreamingChoices,
    TextChoices,
    TextCompletionResponse,
    Usage,
    map_finish_reason,
)

UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
UTILS_FILE = Path(__file__).resolve().parents[1] / "python" / "rustllm" / "types" / "utils.py"


def mock_response(**extra):
    """The ModelResponse LiteLLM builds for ``mock_response="Hello there"``."""
    return ModelResponse(
        id="chatcmpl-765dc751-31f1-4703-9d5d-0270c97c1a58",
        created=1795562396,
        model="gpt-4o-mini",
        choices=[{"finish_reason": "stop", "index": 0, "message": {"content": "Hello there"}}],
        usage={"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
        **extra,
    )


MOCK_REPR = (
    "ModelResponse(id='chatcmpl-765dc751-31f1-4703-9d5d-0270c97c1a58', created=1795562396, "
    "model='gpt-4o-mini', object='chat.completion', system_fingerprint=None, "
    "choices=[Choices(finish_reason='stop', index=0, message=Message(content='Hello there', "
    "role='assistant', tool_calls=None, function_call=None, provider_specific_fields=None))], "
    "usage=Usage(completion_tokens=20, prompt_tokens=10, total_tokens=30, "
    "completion_tokens_details=None, prompt_tokens_details=None))"
)

MOCK_DUMP = {
    "id": "chatcmpl-765dc751-31f1-4703-9d5d-0270c97c1a58",
    "created": 1795562396,
    "model": "gpt-4o-mini",
    "object": "chat.completion",
    "system_fingerprint": None,
    "choices": [
        {
            "finish_reason": "stop",
            "index": 0,
            "message": {
                "content": "Hello there",
                "role": "assistant",
                "tool_calls": None,
                "function_call": None,
            },
        }
    ],
    "usage": {
        "completion_tokens": 20,
        "prompt_tokens": 10,
        "total_tokens": 30,
        "completion_tokens_details": None,
        "prompt_tokens_details": None,
    },
}

# A real OpenAI chat completion with a tool call, usage details and service_tier.
OPENAI_TOOL_REPLY = {
    "id": "chatcmpl-BkTl0tool",
    "object": "chat.completion",
    "created": 1750000000,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_abc",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    },
                    {
                        "id": "call_def",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": "{}"},
                    },
                ],
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {
        "prompt_tokens": 82,
        "completion_tokens": 17,
        "total_tokens": 99,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    },
    "service_tier": "default",
    "system_fingerprint": "fp_07871e2ad8",
}

# A stream as OpenAI sends it with include_usage (every chunk carries "usage").
OPENAI_CHUNKS = [
    {
        "id": "chatcmpl-s1",
        "object": "chat.completion.chunk",
        "created": 1750000001,
        "model": "gpt-4o-mini",
        "service_tier": "default",
        "system_fingerprint": "fp_1",
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": "", "refusal": None},
                "logprobs": None,
                "finish_reason": None,
            }
        ],
        "usage": None,
        "obfuscation": "x1",
    },
    {
        "id": "chatcmpl-s1",
        "object": "chat.completion.chunk",
        "created": 1750000001,
        "model": "gpt-4o-mini",
        "system_fingerprint": "fp_1",
        "choices": [{"index": 0, "delta": {"content": "Hel"}, "logprobs": None, "finish_reason": None}],
    },
    {
        "id": "chatcmpl-s1",
        "object": "chat.completion.chunk",
        "created": 1750000001,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "delta": {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_a",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": ""},
                        }
                    ]
                },
                "finish_reason": None,
            }
        ],
    },
    {
        "id": "chatcmpl-s1",
        "object": "chat.completion.chunk",
        "created": 1750000001,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]},
                "finish_reason": None,
            }
        ],
    },
    {
        "id": "chatcmpl-s1",
        "object": "chat.completion.chunk",
        "created": 1750000001,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}],
        "usage": None,
    },
    {
        "id": "chatcmpl-s1",
        "object": "chat.completion.chunk",
        "created": 1750000001,
        "model": "gpt-4o-mini",
        "choices": [],
        "usage": {
            "prompt_tokens": 5,
            "completion_tokens": 4,
            "total_tokens": 9,
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
    },
]


# --------------------------------------------------------------------------------------
# defaults and keyword construction
# --------------------------------------------------------------------------------------


def test_model_response_defaults():
    before = int(time.time())
    resp = ModelResponse()
    assert re.fullmatch("chatcmpl-" + UUID4, resp.id)
    assert before <= resp.created <= int(time.time())
    assert resp.model is None
    assert resp.object == "chat.completion"
    assert resp.system_fingerprint is None
    assert len(resp.choices) == 1
    choice = resp.choices[0]
    assert type(choice) is Choices
    assert (choice.finish_reason, choice.index) == ("stop", 0)
    assert type(choice.message) is Message
    assert (choice.message.content, choice.message.role) == (None, "assistant")
    assert type(resp.usage) is Usage
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens) == (0, 0)
    assert resp.usage.total_tokens == 0
    assert ModelResponse().id != resp.id


def test_model_response_object_is_forced():
    assert ModelResponse(object="something").object == "chat.completion"


def test_model_response_stream_flag_gives_chunk_with_streaming_choices():
    resp = ModelResponse(stream=True)
    assert resp.object == "chat.completion.chunk"
    assert type(resp.choices[0]) is StreamingChoices
    assert type(resp.choices[0].delta) is Delta
    assert resp.choices[0].finish_reason is None
    assert "usage" not in resp


def test_keyword_construction_converts_nested_dicts():
    resp = ModelResponse(
        choices=[
            {
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "tool_calls": [{"id": "call_1", "function": {"name": "f", "arguments": {"a": 1}}}],
                    "function_call": {"name": "legacy", "arguments": "{}"},
                },
            }
        ],
        usage={
            "prompt_tokens": 3,
            "completion_tokens": 4,
            "total_tokens": 7,
            "completion_tokens_details": {"reasoning_tokens": 2},
            "prompt_tokens_details": {"cached_tokens": 1},
        },
    )
    msg = resp.choices[0].message
    assert type(resp.choices[0]) is Choices
    assert type(msg) is Message
    call = msg.tool_calls[0]
    assert type(call) is ChatCompletionMessageToolCall
    assert type(call.function) is Function
    assert call.function.arguments == '{"a": 1}'
    assert (call.id, call.type) == ("call_1", "function")
    assert type(msg.function_call) is FunctionCall
    assert msg.function_call.name == "legacy"
    assert type(resp.usage) is Usage
    assert type(resp.usage.completion_tokens_details) is CompletionTokensDetailsWrapper
    assert resp.usage.completion_tokens_details.reasoning_tokens == 2
    assert type(resp.usage.prompt_tokens_details) is PromptTokensDetailsWrapper
    assert resp.usage.prompt_tokens_details.cached_tokens == 1


def test_keyword_construction_keeps_objects_as_given():
    msg = Message(content="hi")
    usage = Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2)
    resp = ModelResponse(choices=[Choices(message=msg)], usage=usage)
    assert resp.choices[0].message is msg
    assert resp.usage is usage


def test_message_defaults_and_tool_call_normalisation():
    msg = Message()
    assert (msg.content, msg.role, msg.tool_calls, msg.function_call) == (
        None,
        "assistant",
        None,
        None,
    )
    assert Message(role=None).role == "assistant"
    assert Message(content="x", tool_calls=[]).tool_calls is None


def test_function_arguments():
    assert Function(arguments={"a": 1, "b": [1, 2]}, name="f").arguments == '{"a": 1, "b": [1, 2]}'
    assert Function(arguments=None, name="f").arguments == ""
    assert Function().arguments == ""
    assert Function('{"x": 1}', "f").name == "f"


def test_tool_call_defaults():
    call = ChatCompletionMessageToolCall(function={"name": "f", "arguments": "{}"})
    assert re.fullmatch(UUID4, call.id)
    assert call.type == "function"
    assert ChatCompletionMessageToolCall(function=Function(name="g")).function.name == "g"


def test_delta_tool_calls_get_index_and_type():
    delta = Delta(
        tool_calls=[
            {"id": "call_a", "function": {"name": "f", "arguments": ""}},
            {"function": {"arguments": "{}"}},
        ]
    )
    first, second = delta.tool_calls
    assert type(first) is ChatCompletionDeltaToolCall
    assert (first.index, first.type, first.id) == (0, "function", "call_a")
    assert (second.index, second.id, second.function.name) == (1, None, None)
    assert second.function.arguments == "{}"


def test_usage_counts_default_to_zero_and_extras_are_kept():
    usage = Usage(prompt_tokens=5, completion_tokens=1, total_tokens=6, cost_cents=3)
    assert usage.cost_cents == 3
    empty = Usage()
    assert (empty.prompt_tokens, empty.completion_tokens, empty.total_tokens) == (0, 0, 0)
    assert Usage(10, 20, 30).total_tokens == 30


def test_usage_total_is_summed_when_not_given():
    # Deliberate fix: LiteLLM gives total_tokens == 0 here.
    assert Usage(prompt_tokens=1, completion_tokens=2).total_tokens == 3
    assert Usage(prompt_tokens=1, completion_tokens=2, total_tokens=0).total_tokens == 0


def test_usage_maps_anthropic_cache_tokens_into_prompt_details():
    usage = Usage(
        prompt_tokens=10,
        completion_tokens=2,
        total_tokens=12,
        cache_read_input_tokens=7,
        cache_creation_input_tokens=3,
    )
    assert usage.cache_read_input_tokens == 7
    assert usage.prompt_tokens_details.cached_tokens == 7
    assert usage.prompt_tokens_details.cache_creation_tokens == 3


def test_usage_reasoning_tokens_fill_completion_details():
    usage = Usage(prompt_tokens=1, completion_tokens=5, total_tokens=6, reasoning_tokens=4)
    assert usage.completion_tokens_details.reasoning_tokens == 4


def test_choices_finish_reason_is_mapped_and_defaults_to_stop():
    assert Choices().finish_reason == "stop"
    assert Choices(finish_reason="end_turn").finish_reason == "stop"
    assert Choices(finish_reason="tool_use").finish_reason == "tool_calls"
    assert StreamingChoices().finish_reason is None
    assert StreamingChoices(finish_reason="max_tokens").finish_reason == "length"
    assert TextChoices(finish_reason="MAX_TOKENS").finish_reason == "length"


def test_choices_logprobs_become_objects():
    choice = Choices(
        logprobs={
            "content": [
                {
                    "token": "Hi",
                    "bytes": [72, 105],
                    "logprob": -0.1,
                    "top_logprobs": [{"token": "Hi", "bytes": [72, 105], "logprob": -0.1}],
                }
            ]
        }
    )
    assert type(choice.logprobs) is ChoiceLogprobs
    assert choice.logprobs.content[0].token == "Hi"
    assert choice.logprobs.content[0].top_logprobs[0].logprob == -0.1
    assert choice.model_dump()["logprobs"]["content"][0]["top_logprobs"][0]["token"] == "Hi"


# --------------------------------------------------------------------------------------
# access
# --------------------------------------------------------------------------------------


def test_every_access_style():
    resp = mock_response()
    assert resp.choices[0].message.content == "Hello there"
    assert resp["choices"][0]["message"]["content"] == "Hello there"
    assert resp.get("model") == "gpt-4o-mini"
    assert resp.get("nope") is None
    assert resp.get("nope", "dflt") == "dflt"
    assert resp["usage"]["total_tokens"] == 30
    assert resp.choices[0].message.get("role") == "assistant"
    assert "usage" in resp
    assert "nope" not in resp


def test_contains_is_true_for_present_fields():
    # Deliberate fix: LiteLLM's Message has no __contains__, so this is False there.
    msg = Message(content="hi")
    assert "content" in msg
    assert "tool_calls" in msg
    assert "reasoning_content" not in msg
    assert "finish_reason" in Choices()
    assert "total_tokens" in Usage()
    assert "function" in ChatCompletionMessageToolCall(function={"name": "f"})


def test_missing_key_is_both_key_error_and_attribute_error():
    resp = mock_response()
    with pytest.raises(KeyError) as info:
        resp["missing"]
    assert isinstance(info.value, AttributeError)
    assert str(info.value) == "'ModelResponse' object has no attribute 'missing'"
    assert info.value.key == "missing"
    again = pickle.loads(pickle.dumps(info.value))  # errors cross process boundaries
    assert isinstance(again, KeyError) and isinstance(again, AttributeError)
    assert (str(again), again.key) == (str(info.value), "missing")
    with pytest.raises(AttributeError):
        Message()["missing"]
    with pytest.raises(AttributeError):
        _ = resp.missing
    with pytest.raises(KeyError):
        Usage()[0]


def test_fields_deleted_when_none_are_absent():
    msg = Message(content="x")
    for name in ("audio", "reasoning_content", "thinking_blocks", "annotations"):
        with pytest.raises(AttributeError):
            getattr(msg, name)
        assert msg.get(name) is None
        assert name not in msg.model_dump()
    choice = Choices()
    assert "logprobs" not in choice.model_dump()
    assert "provider_specific_fields" not in choice
    assert repr(choice) == (
        "Choices(finish_reason='stop', index=0, message=Message(content=None, role='assistant', "
        "tool_calls=None, function_call=None, provider_specific_fields=None))"
    )
    with_reasoning = Message(content="x", reasoning_content="because")
    assert with_reasoning.reasoning_content == "because"
    assert with_reasoning.model_dump()["reasoning_content"] == "because"
    assert "reasoning_content='because'" in repr(with_reasoning)


@pytest.mark.parametrize(
    "obj",
    [
        Message(),
        Choices(),
        StreamingChoices(),
        Delta(),
        Usage(),
        Function(),
        FunctionCall(),
        ChatCompletionMessageToolCall(function={"name": "f"}),
        ChatCompletionDeltaToolCall(),
        CompletionTokensDetailsWrapper(),
        PromptTokensDetailsWrapper(),
        ModelResponseStream(),
        EmbeddingResponse(),
        TextChoices(),
        TextCompletionResponse(),
    ],
    ids=lambda o: type(o).__name__,
)
def test_item_assignment(obj):
    obj["custom"] = 1
    assert obj.custom == 1
    assert obj["custom"] == 1


def test_model_response_has_no_item_assignment():
    resp = mock_response()
    with pytest.raises(TypeError, match="does not support item assignment"):
        resp["model"] = "x"
    resp.model = "other"  # attribute assignment works
    assert resp["model"] == "other"


def test_attribute_assignment_and_deletion():
    msg = Message(content="a")
    msg.content = "b"
    msg.reasoning_content = "r"
    assert msg.model_dump()["content"] == "b"
    assert msg.model_dump()["reasoning_content"] == "r"
    del msg.reasoning_content
    del msg.reasoning_content  # deleting an absent attribute is a no-op, as in LiteLLM
    assert "reasoning_content" not in msg


def test_iter_yields_pairs_like_pydantic():
    usage = Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3)
    assert list(usage)[:3] == [("completion_tokens", 2), ("prompt_tokens", 1), ("total_tokens", 3)]
    assert dict(Function(arguments="{}", name="f")) == {"arguments": "{}", "name": "f"}


# --------------------------------------------------------------------------------------
# dumps and JSON
# --------------------------------------------------------------------------------------


def test_model_dump_exact():
    assert mock_response().model_dump() == MOCK_DUMP
    assert list(mock_response().model_dump()) == list(MOCK_DUMP)


def test_json_dict_and_to_dict_return_dicts():
    resp = mock_response()
    for dumped in (resp.json(), resp.dict(), resp.to_dict()):
        assert type(dumped) is dict
        assert dumped == MOCK_DUMP
    assert Message(content="x").json() == {
        "content": "x",
        "role": "assistant",
        "tool_calls": None,
        "function_call": None,
    }
    assert type(Usage().json()) is dict


def test_message_dump_leaves_out_provider_specific_fields():
    msg = Message(content="x", provider_specific_fields={"refusal": None})
    assert "provider_specific_fields" not in msg.model_dump()
    assert msg.provider_specific_fields == {"refusal": None}
    assert "provider_specific_fields={'refusal': None}" in repr(msg)


def test_model_dump_exclude_none_include_exclude():
    resp = mock_response()
    slim = resp.model_dump(exclude_none=True)
    assert "system_fingerprint" not in slim
    assert slim["choices"][0]["message"] == {"content": "Hello there", "role": "assistant"}
    assert resp.model_dump(include={"id", "model"}) == {
        "id": "chatcmpl-765dc751-31f1-4703-9d5d-0270c97c1a58",
        "model": "gpt-4o-mini",
    }
    no_usage = resp.model_dump(exclude={"usage", "created"})
    assert "usage" not in no_usage and "created" not in no_usage and "id" in no_usage
    nested = resp.model_dump(include={"choices": {0: {"message": {"content"}}}})
    assert nested == {"choices": [{"message": {"content": "Hello there"}}]}
    nested_all = resp.model_dump(exclude={"choices": {"__all__": {"message": {"role"}}}})
    assert "role" not in nested_all["choices"][0]["message"]


def test_dump_is_a_copy():
    resp = mock_response(metadata={"k": [1]})
    dumped = resp.model_dump()
    dumped["choices"][0]["message"]["content"] = "changed"
    dumped["metadata"]["k"].append(2)
    assert resp.choices[0].message.content == "Hello there"
    assert resp.metadata == {"k": [1]}


def test_model_dump_json_and_to_json():
    resp = mock_response()
    compact = resp.model_dump_json()
    assert compact == json.dumps(MOCK_DUMP, separators=(",", ":"))
    assert compact.startswith('{"id":"chatcmpl-765dc751')
    assert json.loads(resp.model_dump_json(indent=2)) == MOCK_DUMP
    pretty = resp.to_json()
    assert isinstance(pretty, str)
    assert pretty == json.dumps(MOCK_DUMP, indent=2)
    assert '"system_fingerprint"' not in resp.model_dump_json(exclude_none=True)
    assert Message(content="héllo").model_dump_json() == (
        '{"content":"héllo","role":"assistant","tool_calls":null,"function_call":null}'
    )


def test_cached_json_round_trips():
    resp = ModelResponse(**OPENAI_TOOL_REPLY)
    again = ModelResponse.model_validate_json(resp.model_dump_json())
    assert again == resp
    assert ModelResponse.model_validate(resp.model_dump()) == resp


# --------------------------------------------------------------------------------------
# copies, pickling, equality
# --------------------------------------------------------------------------------------


def _full_response():
    resp = ModelResponse(
        **OPENAI_TOOL_REPLY,
        hidden_params={"custom_llm_provider": "openai", "cache_hit": False},
        response_ms=12.5,
    )
    resp.choices[0].message.reasoning_content = "thought"
    return resp


@pytest.mark.parametrize(
    "clone",
    [
        lambda o: pickle.loads(pickle.dumps(o)),
        lambda o: pickle.loads(pickle.dumps(o, protocol=2)),
        copy.deepcopy,
        copy.copy,
        lambda o: o.model_copy(),
        lambda o: o.model_copy(deep=True),
    ],
    ids=["pickle", "pickle2", "deepcopy", "copy", "model_copy", "model_copy_deep"],
)
def test_copies_keep_values_and_private_attributes(clone):
    resp = _full_response()
    other = clone(resp)
    assert other == resp
    assert type(other) is ModelResponse
    assert repr(other) == repr(resp)
    assert other._hidden_params == {"custom_llm_provider": "openai", "cache_hit": False}
    assert other._response_ms == 12.5
    assert other.service_tier == "default"
    assert other.choices[0].message.reasoning_content == "thought"


def test_deep_copies_are_independent():
    resp = _full_response()
    for other in (
        copy.deepcopy(resp),
        pickle.loads(pickle.dumps(resp)),
        resp.model_copy(deep=True),
    ):
        other.choices[0].message.content = "changed"
        assert resp.choices[0].message.content is None


def test_model_copy_update():
    resp = mock_response()
    other = resp.model_copy(update={"model": "gpt-4o", "service_tier": "flex"})
    assert (other.model, other.service_tier) == ("gpt-4o", "flex")
    assert resp.model == "gpt-4o-mini"
    assert other.choices is resp.choices  # shallow, like pydantic


def test_pickle_every_class():
    for obj in (
        mock_response(),
        ModelResponseStream(**OPENAI_CHUNKS[2]),
        EmbeddingResponse(model="m", data=[{"embedding": [0.5], "index": 0, "object": "embedding"}]),
        TextCompletionResponse(choices=[{"text": "x"}]),
        Usage(prompt_tokens=1, cache_read_input_tokens=1),
    ):
        assert pickle.loads(pickle.dumps(obj)) == obj


def test_equality_by_value():
    assert mock_response() == mock_response()
    assert mock_response() != mock_response(service_tier="default")
    assert Message(content="a") == Message(content="a")
    assert Message(content="a") != Message(content="b")
    assert Message(content="a") != {"content": "a", "role": "assistant"}
    assert Choices() != StreamingChoices()
    # private attributes do not take part
    assert mock_response(hidden_params={"cache_hit": True}, response_ms=1.0) == mock_response()


# --------------------------------------------------------------------------------------
# exact reprs
# --------------------------------------------------------------------------------------


def test_model_response_repr_exact():
    resp = mock_response()
    assert repr(resp) == MOCK_REPR
    assert str(resp) == MOCK_REPR


def test_extras_shown_at_end_of_repr_and_kept():
    resp = mock_response(service_tier=None)
    assert repr(resp) == MOCK_REPR[:-1] + ", service_tier=None)"
    assert resp.service_tier is None
    assert resp.model_dump()["service_tier"] is None
    assert list(resp.model_dump())[-1] == "service_tier"


def test_message_with_tool_calls_repr_exact():
    msg = Message(
        content=None,
        tool_calls=[
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": {"city": "Paris"}},
            }
        ],
    )
    assert repr(msg) == (
        "Message(content=None, role='assistant', tool_calls=[ChatCompletionMessageToolCall("
        "function=Function(arguments='{\"city\": \"Paris\"}', name='get_weather'), id='call_1', "
        "type='function')], function_call=None, provider_specific_fields=None)"
    )


def test_anthropic_tool_call_index_comes_first():
    call = ChatCompletionMessageToolCall(index=1, function=Function(arguments="{}", name="f"), id="toolu_1")
    assert repr(call) == (
        "ChatCompletionMessageToolCall(index=1, function=Function(arguments='{}', name='f'), "
        "id='toolu_1', type='function')"
    )


def test_usage_repr_with_extras_exact():
    usage = Usage(prompt_tokens=1, completion_tokens=2, cache_read_input_tokens=5, foo="bar")
    assert repr(usage) == (
        "Usage(completion_tokens=2, prompt_tokens=1, total_tokens=3, "
        "completion_tokens_details=None, prompt_tokens_details=PromptTokensDetailsWrapper("
        "audio_tokens=None, cached_tokens=5, text_tokens=None, image_tokens=None), "
        "cache_read_input_tokens=5, foo='bar')"
    )


def test_usage_details_repr_exact():
    usage = Usage(**OPENAI_TOOL_REPLY["usage"])
    assert repr(usage) == (
        "Usage(completion_tokens=17, prompt_tokens=82, total_tokens=99, "
        "completion_tokens_details=CompletionTokensDetailsWrapper(accepted_prediction_tokens=0, "
        "audio_tokens=0, reasoning_tokens=0, rejected_prediction_tokens=0, text_tokens=None), "
        "prompt_tokens_details=PromptTokensDetailsWrapper(audio_tokens=0, cached_tokens=0, "
        "text_tokens=None, image_tokens=None))"
    )


def test_stream_chunk_repr_exact():
    chunk = ModelResponseStream(
        id="chatcmpl-1",
        created=1700000000,
        model="gpt-4o-mini",
        choices=[{"index": 0, "delta": {"content": "Hel", "role": "assistant"}}],
        citations=None,
    )
    assert repr(chunk) == (
        "ModelResponseStream(id='chatcmpl-1', created=1700000000, model='gpt-4o-mini', "
        "object='chat.completion.chunk', system_fingerprint=None, choices=[StreamingChoices("
        "finish_reason=None, index=0, delta=Delta(provider_specific_fields=None, content='Hel', "
        "role='assistant', function_call=None, tool_calls=None, audio=None), logprobs=None)], "
        "provider_specific_fields=None, citations=None)"
    )
    assert str(chunk) == repr(chunk)


def test_stream_usage_only_on_the_usage_chunk():
    assert "usage" not in ModelResponseStream()
    assert "usage" not in ModelResponseStream(usage=None)
    with pytest.raises(AttributeError):
        _ = ModelResponseStream().usage
    chunk = ModelResponseStream(choices=[], usage={"prompt_tokens": 5, "completion_tokens": 4})
    assert type(chunk.usage) is Usage
    assert chunk.usage.total_tokens == 9
    assert chunk.choices == []
    assert repr(chunk).endswith(
        "provider_specific_fields=None, usage=Usage(completion_tokens=4, prompt_tokens=5, "
        "total_tokens=9, completion_tokens_details=None, prompt_tokens_details=None))"
    )


def test_stream_chunk_defaults():
    chunk = ModelResponseStream()
    assert re.fullmatch("chatcmpl-" + UUID4, chunk.id)
    assert chunk.object == "chat.completion.chunk"
    assert type(chunk.choices[0]) is StreamingChoices
    assert chunk.choices[0].delta.content is None
    assert chunk.provider_specific_fields is None
    assert chunk._hidden_params == {}


def test_embedding_response_repr_exact():
    resp = EmbeddingResponse(
        model="emb-m",
        data=[{"embedding": [0.1, 0.2, 0.3], "index": 0, "object": "embedding"}],
        usage={"prompt_tokens": 3, "total_tokens": 3},
    )
    assert repr(resp) == (
        "EmbeddingResponse(model='emb-m', data=[{'embedding': [0.1, 0.2, 0.3], 'index': 0, "
        "'object': 'embedding'}], object='list', usage=Usage(completion_tokens=0, "
        "prompt_tokens=3, total_tokens=3, completion_tokens_details=None, "
        "prompt_tokens_details=None))"
    )
    assert type(resp.data[0]) is dict
    assert resp["data"][0]["embedding"] == [0.1, 0.2, 0.3]
    empty = EmbeddingResponse()
    assert (empty.data, empty.object, empty._hidden_params, empty._response_ms) == (
        [],
        "list",
        {},
        None,
    )


def test_text_completion_repr_exact():
    resp = TextCompletionResponse(
        id="cmpl-1",
        created=1700000000,
        model="gpt-3.5-turbo-instruct",
        choices=[{"finish_reason": "stop", "index": 0, "text": " world", "logprobs": None}],
        usage={"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3},
        system_fingerprint=None,
    )
    assert repr(resp) == (
        "TextCompletionResponse(id='cmpl-1', object='text_completion', created=1700000000, "
        "model='gpt-3.5-turbo-instruct', choices=[TextChoices(finish_reason='stop', index=0, "
        "text=' world', logprobs=None)], usage=Usage(completion_tokens=1, prompt_tokens=2, "
        "total_tokens=3, completion_tokens_details=None, prompt_tokens_details=None), "
        "system_fingerprint=None)"
    )
    assert resp.choices[0].text == " world"


# --------------------------------------------------------------------------------------
# private attributes
# --------------------------------------------------------------------------------------


def test_hidden_params_and_response_ms():
    resp = mock_response()
    assert resp._hidden_params == {}
    assert resp._response_ms is None
    assert mock_response()._hidden_params is not resp._hidden_params
    resp._hidden_params["custom_llm_provider"] = "openai"
    resp._response_ms = 10.9
    assert "_hidden_params" not in repr(resp) and "_response_ms" not in repr(resp)
    assert "_hidden_params" not in resp.model_dump()
    assert "_hidden_params" not in resp.model_dump_json()
    assert all(not name.startswith("_") for name, _ in resp)
    assert resp.get("_hidden_params") == {"custom_llm_provider": "openai"}
    given = ModelResponse(hidden_params={"model_id": "d1"}, response_ms=3.5)
    assert (given._hidden_params, given._response_ms) == ({"model_id": "d1"}, 3.5)
    stream = ModelResponseStream(hidden_params={"x": 1})
    assert stream._hidden_params == {"x": 1}
    assert stream._response_ms is None


# --------------------------------------------------------------------------------------
# fast path used by the Rust core
# --------------------------------------------------------------------------------------


def test_from_openai_equals_keyword_construction():
    payload = copy.deepcopy(OPENAI_TOOL_REPLY)
    hidden = {"custom_llm_provider": "openai"}
    fast = ModelResponse._from_openai(payload, hidden, 42.5)
    slow = ModelResponse(**OPENAI_TOOL_REPLY)
    assert fast == slow
    assert repr(fast) == repr(slow)
    assert fast.model_dump() == slow.model_dump()
    assert payload == OPENAI_TOOL_REPLY  # the input is not modified
    assert fast._hidden_params is hidden
    assert fast._response_ms == 42.5


def test_from_openai_builds_the_right_objects():
    resp = ModelResponse._from_openai(OPENAI_TOOL_REPLY, {}, 1.0)
    assert resp.id == "chatcmpl-BkTl0tool"
    assert resp.object == "chat.completion"
    assert resp.service_tier == "default"
    assert resp.system_fingerprint == "fp_07871e2ad8"
    choice = resp.choices[0]
    assert type(choice) is Choices
    assert choice.finish_reason == "tool_calls"
    assert "logprobs" not in choice
    msg = choice.message
    assert type(msg) is Message
    assert msg.content is None
    assert msg.refusal is None
    assert msg.annotations == []
    assert [type(c) for c in msg.tool_calls] == [ChatCompletionMessageToolCall] * 2
    assert msg.tool_calls[0].function.name == "get_weather"
    assert json.loads(msg.tool_calls[0].function.arguments) == {"city": "Paris"}
    assert msg.tool_calls[1].id == "call_def"
    assert type(resp.usage) is Usage
    assert resp.usage.prompt_tokens_details.cached_tokens == 0
    assert resp.usage.completion_tokens_details.reasoning_tokens == 0
    assert repr(resp).endswith("service_tier='default')")
    assert repr(msg) == (
        "Message(content=None, role='assistant', tool_calls=[ChatCompletionMessageToolCall("
        "function=Function(arguments='{\"city\": \"Paris\"}', name='get_weather'), "
        "id='call_abc', type='function'), ChatCompletionMessageToolCall(function=Function("
        "arguments='{}', name='get_time'), id='call_def', type='function')], "
        "function_call=None, provider_specific_fields=None, annotations=[], refusal=None)"
    )


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"choices": [{"message": {"content": "hi"}}]},
        {"id": "x", "choices": [{"finish_reason": "end_turn", "message": {"content": "hi"}}]},
        {"choices": [{"index": 1, "message": {"role": None, "reasoning_content": "r"}}]},
        {"choices": [{"message": {"content": "a"}, "logprobs": {"content": []}}]},
        {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}},
        {"choices": [{"message": {"content": "a", "tool_calls": []}}], "extra": {"k": 1}},
    ],
)
def test_from_openai_missing_keys_get_defaults(payload):
    fast = ModelResponse._from_openai(payload, {}, None)
    slow = ModelResponse(**payload)
    if "id" not in payload:
        assert re.fullmatch("chatcmpl-" + UUID4, fast.id)
        slow.id = fast.id
    fast.created = slow.created = 0
    assert fast == slow
    assert repr(fast) == repr(slow)
    assert fast.object == "chat.completion"
    assert type(fast.usage) is Usage


def test_from_openai_minimal_payload_defaults():
    resp = ModelResponse._from_openai({"choices": [{"message": {}}]}, {}, None)
    assert resp.choices[0].message.role == "assistant"
    assert resp.choices[0].finish_reason == "stop"
    assert (resp.usage.prompt_tokens, resp.usage.total_tokens) == (0, 0)


@pytest.mark.parametrize("chunk", OPENAI_CHUNKS, ids=lambda c: str(c["choices"])[:40])
def test_stream_from_openai_equals_keyword_construction(chunk):
    fast = ModelResponseStream._from_openai(copy.deepcopy(chunk), {"k": 1})
    slow = ModelResponseStream(**chunk)
    assert fast == slow
    assert repr(fast) == repr(slow)
    assert fast._hidden_params == {"k": 1}
    assert fast.object == "chat.completion.chunk"
    assert ("usage" in fast) == (chunk.get("usage") is not None)


def test_stream_from_openai_objects():
    role, content, tool_start, tool_more, finish, usage = (
        ModelResponseStream._from_openai(c, {}) for c in OPENAI_CHUNKS
    )
    assert role.choices[0].delta.role == "assistant"
    assert role.choices[0].delta.refusal is None
    assert role.service_tier == "default"
    assert repr(role.choices[0].delta) == (
        "Delta(provider_specific_fields=None, refusal=None, content='', role='assistant', "
        "function_call=None, tool_calls=None, audio=None)"
    )
    assert content.choices[0].delta.content == "Hel"
    call = tool_start.choices[0].delta.tool_calls[0]
    assert type(call) is ChatCompletionDeltaToolCall
    assert (call.id, call.function.name, call.index, call.type) == (
        "call_a",
        "get_weather",
        0,
        "function",
    )
    more = tool_more.choices[0].delta.tool_calls[0]
    assert (more.id, more.function.name, more.function.arguments, more.type) == (
        None,
        None,
        '{"ci',
        "function",
    )
    assert finish.choices[0].finish_reason == "stop"
    assert "usage" not in finish
    assert usage.choices == []
    assert usage.usage.total_tokens == 9
    assert usage.usage.completion_tokens_details.reasoning_tokens == 0


def test_stream_from_openai_maps_finish_reason_and_drops_message():
    chunk = ModelResponseStream._from_openai(
        {"choices": [{"delta": {"content": "x"}, "message": {"content": "x"}, "finish_reason": "eos"}]},
        {},
    )
    assert chunk.choices[0].finish_reason == "stop"
    assert "message" not in chunk.choices[0]


def test_embedding_from_openai():
    payload = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]},
            {"object": "embedding", "index": 1, "embedding": [0.4, 0.5, 0.6]},
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }
    fast = EmbeddingResponse._from_openai(copy.deepcopy(payload), {"p": 1}, 5.0)
    assert fast == EmbeddingResponse(**payload)
    assert (fast._hidden_params, fast._response_ms) == ({"p": 1}, 5.0)
    assert type(fast.data[0]) is dict
    assert repr(fast.data[0]) == "{'embedding': [0.1, 0.2, 0.3], 'index': 0, 'object': 'embedding'}"
    assert fast.usage.prompt_tokens == 3
    assert fast.usage.completion_tokens == 0


def test_text_completion_from_openai():
    payload = {
        "id": "cmpl-9",
        "object": "text_completion",
        "created": 1700000000,
        "model": "gpt-3.5-turbo-instruct",
        "choices": [{"text": " world", "index": 0, "logprobs": None, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3},
        "system_fingerprint": None,
    }
    fast = TextCompletionResponse._from_openai(copy.deepcopy(payload), {}, 2.0)
    slow = TextCompletionResponse(**payload)
    assert fast == slow
    assert repr(fast) == repr(slow)
    assert type(fast.choices[0]) is TextChoices
    assert fast.choices[0].finish_reason == "length"
    assert fast._response_ms == 2.0


# --------------------------------------------------------------------------------------
# map_finish_reason
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("stop", "stop"),
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("STOP", "stop"),
        ("eos", "stop"),
        ("eos_token", "stop"),
        ("max_tokens", "length"),
        ("MAX_TOKENS", "length"),
        ("tool_use", "tool_calls"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("content_filtered", "content_filter"),
        ("length", "length"),
        ("tool_calls", "tool_calls"),
        ("something_new", "something_new"),
        (None, None),
    ],
)
def test_map_finish_reason(given, expected):
    assert map_finish_reason(given) == expected


# --------------------------------------------------------------------------------------
# import cost
# --------------------------------------------------------------------------------------


def test_module_imports_no_heavy_dependencies():
    # Loads the file on its own (not through the package) in a fresh interpreter.
    code = textwrap.dedent(
        f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("types_utils", {str(UTILS_FILE)!r})
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        mod.ModelResponse(choices=[{{"message": {{"content": "x"}}}}]).model_dump()
        heavy = sorted(m for m in ("pydantic", "openai", "httpx") if m in sys.modules)
        print(",".join(heavy))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


# ---------------------------------------------------------------------------------------
# pydantic introspection where frameworks look (model_extra, model_fields, ...).
# ---------------------------------------------------------------------------------------
def test_usage_is_in_model_extra_as_crewai_reads_it():
    import rustllm

    resp = rustllm.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], mock_response="hi")
    assert resp.model_extra.get("usage") is resp.usage
    assert list(type(resp).model_fields) == ["id", "created", "model", "object", "system_fingerprint", "choices"]
    assert "choices" in resp.model_fields and "usage" not in ModelResponse.model_fields
    assert resp.model_fields_set == {"id", "created", "model", "object", "system_fingerprint", "choices", "usage"}
    assert resp.choices[0].message.model_extra == {}
    assert "content" in Message.model_fields and Message.model_fields["content"].is_required() is False


def test_model_extra_holds_provider_extras_only():
    resp = ModelResponse(id="x", service_tier="default")
    assert resp.model_extra == {"usage": resp.usage, "service_tier": "default"}
    assert "_hidden_params" not in resp.model_fields_set
    assert Usage(prompt_tokens=1, cache_read_input_tokens=3).model_extra == {"cache_read_input_tokens": 3}


def test_model_validate_round_trips():
    import rustllm

    resp = rustllm.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], mock_response="hi")
    again = ModelResponse.model_validate(resp.model_dump())
    assert again == resp and again is not resp
    assert type(again.choices[0].message) is Message and again.usage.total_tokens == resp.usage.total_tokens
    assert ModelResponse.model_validate(resp) is resp
    assert ModelResponse.model_validate_json(resp.model_dump_json()) == resp


def test_model_response_base_is_the_base_of_replies_and_chunks():
    from rustllm.types.utils import ModelResponseBase

    assert issubclass(ModelResponse, ModelResponseBase) and issubclass(ModelResponseStream, ModelResponseBase)
    assert list(ModelResponseBase.model_fields) == ["id", "created", "model", "object", "system_fingerprint"]
    assert isinstance(ModelResponse._from_openai({"choices": []}), ModelResponseBase)


def test_stream_usage_chunk_exposes_usage_in_model_extra(server, openai_args):
    import rustllm
    from rustllm.types.utils import ModelResponseBase

    server.respond(text="Hello there")
    chunks = list(
        rustllm.completion(
            model="openai/m",
            messages=[{"role": "user", "content": "x"}],
            stream=True,
            stream_options={"include_usage": True},
            **openai_args,
        )
    )
    assert all(isinstance(c, ModelResponseBase) for c in chunks)
    with_usage = [c for c in chunks if c.model_extra.get("usage") is not None]
    assert len(with_usage) == 1 and with_usage[0] is chunks[-1]
    assert with_usage[0].model_extra["usage"].total_tokens == with_usage[0].usage.total_tokens > 0
    assert "usage" not in chunks[0].model_extra
    assert "provider_specific_fields" in ModelResponseStream.model_fields


def test_mock_stream_usage_chunk_has_usage_in_model_extra():
    import rustllm

    chunks = list(
        rustllm.completion(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "x"}],
            mock_response="hello there",
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].model_extra["usage"].completion_tokens > 0
