"""The Responses API through the public interface: ``responses`` / ``aresponses`` native on
OpenAI and Azure and bridged over chat for other providers, the stream of typed events
(``for`` and ``async for``), tools, ``previous_response_id``, structured output, cost,
callbacks, retries, get/delete, the Router, and each bad input.

Each test checks what went over the wire (MockServer's recorded requests) and what came
back.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from _minute import clear_of_minute_end

import rustllm as litellm
from rustllm import ResponsesAPIResponse
from rustllm.types.llms.openai import (
    FunctionCallArgumentsDeltaEvent,
    OutputTextDeltaEvent,
    ResponseCompletedEvent,
    ResponsesAPIStreamEvents,
)

WEATHER = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


@pytest.fixture
def anthropic_args(server):
    return {"api_base": server.url, "api_key": "sk-ant-test", "max_retries": 0}


def test_openai_gets_its_own_responses_api(server, openai_args):
    server.respond(text="Paris, of course.")
    r = litellm.responses(
        model="openai/gpt-4o",
        input="Capital of France?",
        instructions="Answer briefly.",
        max_output_tokens=40,
        temperature=0.2,
        **openai_args,
    )
    assert isinstance(r, ResponsesAPIResponse)
    assert r.object == "response" and r.status == "completed"
    assert r.output_text == "Paris, of course."
    assert r.output[0].type == "message"
    assert r.output[0].content[0].text == "Paris, of course."
    assert r["output"][0]["content"][0]["text"] == "Paris, of course."
    # The mock counts words: instructions (2) and input (3) in, the reply (3) out.
    assert r.usage.input_tokens == 5 and r.usage.output_tokens == 3 and r.usage.total_tokens == 8
    assert r._hidden_params["custom_llm_provider"] == "openai"
    assert r._hidden_params["response_cost"] > 0
    sent = server.last_request
    assert (sent.method, sent.path) == ("POST", "/v1/responses")
    assert sent.headers["authorization"] == "Bearer sk-test-key"
    assert sent.body == {
        "model": "gpt-4o",
        "input": "Capital of France?",
        "instructions": "Answer briefly.",
        "max_output_tokens": 40,
        "temperature": 0.2,
    }
    dumped = r.model_dump()
    assert dumped["output"][0]["content"][0]["text"] == "Paris, of course."
    assert json.loads(r.model_dump_json())["usage"]["input_tokens"] == 5


def test_azure_responses_use_the_resource_url(server):
    litellm.responses(model="azure/my-gpt-deployment", input="hi", api_base=server.url, api_key="az-key")
    sent = server.last_request
    assert sent.path == "/openai/responses"
    assert sent.query == "api-version=2025-03-01-preview"
    assert sent.headers["api-key"] == "az-key"
    assert sent.body["model"] == "my-gpt-deployment"


def test_anthropic_is_bridged_over_chat(server, anthropic_args):
    server.respond(text="Bonjour")
    r = litellm.responses(
        model="anthropic/claude-3-5-sonnet-20241022",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "Say hello in French"}]}],
        instructions="Be brief.",
        max_output_tokens=20,
        **anthropic_args,
    )
    sent = server.last_request
    assert sent.path == "/v1/messages"
    assert sent.body["system"] == [{"type": "text", "text": "Be brief."}]
    assert sent.body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Say hello in French"}]}]
    assert sent.body["max_tokens"] == 20
    assert r.id.startswith("resp_")
    assert r.output_text == "Bonjour"
    assert r.instructions == "Be brief."
    assert r.model == "claude-3-5-sonnet-20241022"
    assert r.usage.output_tokens == 1
    assert r._hidden_params["custom_llm_provider"] == "anthropic"
    assert r._hidden_params["response_cost"] > 0


def test_previous_response_id_on_the_bridge_replays_the_earlier_turn(server, anthropic_args):
    server.respond(text="Ada")
    first = litellm.responses(model="anthropic/claude-3-5-haiku-20241022", input="My name is Ada.", **anthropic_args)
    litellm.responses(
        model="anthropic/claude-3-5-haiku-20241022",
        input="What is my name?",
        previous_response_id=first.id,
        **anthropic_args,
    )
    messages = server.last_request.body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    # (Anthropic's adapter sends text as content blocks.)
    assert messages[0]["content"] == [{"type": "text", "text": "My name is Ada."}]
    assert messages[1]["content"] == [{"type": "text", "text": "Ada"}]
    assert messages[2]["content"] == [{"type": "text", "text": "What is my name?"}]


def test_an_unknown_previous_response_id_on_the_bridge_fails_before_the_wire(server, anthropic_args):
    with pytest.raises(litellm.BadRequestError, match="not known to this process"):
        litellm.responses(
            model="anthropic/claude-3-5-haiku-20241022", input="x", previous_response_id="resp_nope", **anthropic_args
        )
    assert server.requests == []


def test_previous_response_id_goes_to_openai_as_it_is(server, openai_args):
    litellm.responses(model="openai/gpt-4o", input="and?", previous_response_id="resp_abc", **openai_args)
    assert server.last_request.body["previous_response_id"] == "resp_abc"


def test_function_calls_and_their_outputs_round_trip_on_the_bridge(server):
    args = {"api_base": server.base_url, "api_key": "gk", "max_retries": 0}
    r = litellm.responses(
        model="groq/llama-3.1-8b-instant", input="Weather in 'Paris'?", tools=WEATHER, tool_choice="required", **args
    )
    sent = server.last_request.body
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city",
                "parameters": WEATHER[0]["parameters"],
            },
        }
    ]
    assert sent["tool_choice"] == "required"
    call = r.output[0]
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}
    # The tool's result goes back as a function_call_output item.
    litellm.responses(
        model="groq/llama-3.1-8b-instant",
        input=[
            {"role": "user", "content": "Weather in 'Paris'?"},
            {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
        tools=WEATHER,
        **args,
    )
    messages = server.last_request.body["messages"]
    assert messages[1]["tool_calls"][0]["id"] == call.call_id
    assert messages[2] == {"role": "tool", "tool_call_id": call.call_id, "content": "sunny"}


def test_structured_output_from_a_pydantic_class(server, anthropic_args):
    pydantic = pytest.importorskip("pydantic")

    class City(pydantic.BaseModel):
        name: str
        population: int

    r = litellm.responses(
        model="openai/gpt-4o", input="A city", text_format=City, api_base=server.base_url, api_key="k", max_retries=0
    )
    fmt = server.last_request.body["text"]["format"]
    assert fmt["type"] == "json_schema" and fmt["name"] == "City" and fmt["strict"] is True
    assert fmt["schema"]["required"] == ["name", "population"]
    assert City.model_validate_json(r.output_text)
    # Bridged, text.format is chat's response_format.
    litellm.responses(
        model="groq/llama-3.1-8b-instant",
        input="A city",
        text={"format": {"type": "json_schema", "name": "City", "schema": City.model_json_schema()}},
        api_base=server.base_url,
        api_key="gk",
    )
    rf = server.last_request.body["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["name"] == "City"


def _types(events):
    return [e.type for e in events]


def test_native_stream_yields_typed_events(server, openai_args):
    server.respond(text="one two three")
    stream = litellm.responses(model="openai/gpt-4o", input="count", stream=True, **openai_args)
    events = list(stream)
    assert server.last_request.body["stream"] is True
    types = _types(events)
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    deltas = [e for e in events if isinstance(e, OutputTextDeltaEvent)]
    assert "".join(e.delta for e in deltas) == "one two three"
    done = events[-1]
    assert isinstance(done, ResponseCompletedEvent)
    assert isinstance(done.response, ResponsesAPIResponse)
    assert done.response.output_text == "one two three"
    assert stream.completed_response is done
    assert done.response._hidden_params["response_cost"] > 0
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[2].item.type == "message"


def test_stream_events_carry_every_field_the_provider_sent_in_its_order(server, openai_args):
    """The text and arguments deltas (built as objects in Rust) hold exactly the fields
    the provider sent, in its order, as the other events (dicts made objects in Python)
    do; a delta with anything more (logprobs here) keeps it too."""
    sent = [
        {
            "type": "response.created",
            "sequence_number": 0,
            "response": {
                "id": "resp_1",
                "object": "response",
                "status": "in_progress",
                "model": "gpt-4o",
                "output": [],
            },
        },
        {
            "type": "response.output_text.delta",
            "sequence_number": 1,
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "delta": 'He said "hi"\n',
            "logprobs": [],
            "obfuscation": "Xy",
        },
        {
            "type": "response.output_text.delta",
            "sequence_number": 2,
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "delta": " é",
            "logprobs": [{"token": " é", "logprob": -0.5, "top_logprobs": []}],
        },
        {
            "type": "response.function_call_arguments.delta",
            "sequence_number": 3,
            "item_id": "fc_1",
            "output_index": 1,
            "delta": '{"city":',
        },
        {
            "type": "response.reasoning_summary_text.delta",
            "sequence_number": 4,
            "item_id": "rs_1",
            "output_index": 2,
            "summary_index": 0,
            "delta": "hm",
        },
        {
            "type": "response.completed",
            "sequence_number": 5,
            "response": {
                "id": "resp_1",
                "object": "response",
                "status": "completed",
                "model": "gpt-4o",
                "output": [],
                "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
            },
        },
    ]
    raw = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in sent)
    for iterate in (list, lambda s: asyncio.run(_collect(s))):
        server.respond(body=raw, headers={"content-type": "text/event-stream"})
        events = iterate(litellm.responses(model="openai/gpt-4o", input="hi", stream=True, **openai_args))
        assert [type(e).__name__ for e in events] == [
            "ResponseCreatedEvent",
            "OutputTextDeltaEvent",
            "OutputTextDeltaEvent",
            "FunctionCallArgumentsDeltaEvent",
            "ReasoningSummaryTextDeltaEvent",
            "ResponseCompletedEvent",
        ]
        for event, wire in zip(events[1:5], sent[1:5]):
            assert event.model_dump() == wire
            assert list(vars(event)) == list(wire)
        assert events[1].delta == 'He said "hi"\n' and events[1].obfuscation == "Xy"
        assert events[2].logprobs[0]["logprob"] == -0.5
        assert events[-1].response.usage.total_tokens == 3
    # The common deltas come from Rust as their objects (no dict made and copied in
    # between); the rest as dicts for the iterator to wrap.
    server.respond(body=raw, headers={"content-type": "text/event-stream"})
    stream = litellm.responses(model="openai/gpt-4o", input="hi", stream=True, **openai_args)
    batch = []
    while (more := stream._handle.next_batch()) is not None:
        batch += more
    assert [type(e).__name__ for e in batch] == [
        "dict",
        "OutputTextDeltaEvent",
        "dict",
        "FunctionCallArgumentsDeltaEvent",
        "dict",
        "dict",
    ]


async def _collect(stream):
    return [e async for e in stream]


def test_bridged_stream_of_a_tool_call(server):
    stream = litellm.responses(
        model="groq/llama-3.1-8b-instant",
        input="Weather in 'Oslo'?",
        tools=WEATHER,
        tool_choice="required",
        stream=True,
        api_base=server.base_url,
        api_key="gk",
    )
    events = list(stream)
    sent = server.last_request
    assert sent.path == "/v1/chat/completions"
    assert sent.body["stream"] is True and sent.body["stream_options"] == {"include_usage": True}
    types = _types(events)
    assert ResponsesAPIStreamEvents.FUNCTION_CALL_ARGUMENTS_DELTA in types
    args = "".join(e.delta for e in events if isinstance(e, FunctionCallArgumentsDeltaEvent))
    assert json.loads(args) == {"city": "Oslo"}
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert done.arguments == args
    final = events[-1].response
    assert final.output[0].name == "get_weather"
    assert final.usage.total_tokens > 0


async def test_aresponses_and_its_stream_for_async_for_and_for(server, openai_args):
    r = await litellm.aresponses(model="openai/gpt-4o", input="hi", **openai_args)
    assert r.output_text == server.default_text
    stream = await litellm.aresponses(model="openai/gpt-4o", input="hi", stream=True, **openai_args)
    text = "".join([e.delta async for e in stream if e.type == "response.output_text.delta"])
    assert text == server.default_text
    # The same object serves a plain `for`, even from an async call.
    stream = await litellm.aresponses(
        model="anthropic/claude-3-5-haiku-20241022", input="hi", stream=True, api_base=server.url, api_key="ak"
    )
    events = await asyncio.to_thread(list, stream)
    assert events[-1].type == "response.completed"


def test_a_broken_stream_raises_the_mapped_error(server, openai_args):
    server.respond(break_after=3)
    stream = litellm.responses(model="openai/gpt-4o", input="hi", stream=True, **openai_args)
    with pytest.raises(litellm.APIConnectionError):
        list(stream)


def test_errors_are_mapped_and_retried(server, openai_args):
    with pytest.raises(litellm.RateLimitError):
        litellm.responses(model="openai/error-429", input="hi", **openai_args)
    server.fail_next(1, status=503)
    r = litellm.responses(
        model="anthropic/claude-3-5-haiku-20241022", input="hi", api_base=server.url, api_key="ak", num_retries=1
    )
    assert r.status == "completed"
    assert [q.path for q in server.requests] == ["/v1/responses", "/v1/messages", "/v1/messages"]


def test_responses_with_retries(server, openai_args):
    server.fail_next(2, status=500)
    r = litellm.responses_with_retries(model="openai/gpt-4o", input="hi", num_retries=3, **openai_args)
    assert r.status == "completed"
    assert len(server.requests) == 3


async def test_aresponses_with_retries(server, openai_args):
    server.fail_next(1, status=500)
    r = await litellm.aresponses_with_retries(model="openai/gpt-4o", input="hi", num_retries=2, **openai_args)
    assert r.status == "completed"
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "needs input="),
        ({"input": 5}, "input must be a string or a list"),
        ({"input": ["hi"]}, r"input\[0\] must be a dict"),
        ({"input": "x", "tools": [{"type": "function"}]}, 'without a "name"'),
        ({"input": "x", "tool_choice": "maybe"}, "tool_choice must be"),
        ({"input": "x", "text": {"format": {"type": "yaml"}}}, "text.format.type"),
        ({"input": "x", "instructions": ["a"]}, "instructions must be a string"),
    ],
)
def test_bad_input_is_refused_before_the_wire(server, openai_args, kwargs, match):
    with pytest.raises(litellm.BadRequestError, match=match):
        litellm.responses(model="openai/gpt-4o", **kwargs, **openai_args)
    assert server.requests == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tools": [{"type": "web_search_preview"}]}, "only OpenAI's own Responses API"),
        ({"input": [{"type": "item_reference", "id": "x"}]}, "cannot be sent over chat"),
        ({"background": True}, "background=True"),
        ({"prompt": {"id": "pmpt_1"}}, "prompt="),
    ],
)
def test_what_the_bridge_cannot_send_is_refused(server, anthropic_args, kwargs, match):
    kwargs = {"input": "x", **kwargs}
    with pytest.raises(litellm.BadRequestError, match=match):
        litellm.responses(model="anthropic/claude-3-5-haiku-20241022", **kwargs, **anthropic_args)
    assert server.requests == []


def test_text_format_must_be_a_pydantic_class(server, openai_args):
    with pytest.raises(TypeError, match="pydantic"):
        litellm.responses(model="openai/gpt-4o", input="x", text_format=dict, **openai_args)
    with pytest.raises(litellm.BadRequestError, match="extra_query"):
        litellm.responses(model="openai/gpt-4o", input="x", extra_query={"a": "1"}, **openai_args)
    with pytest.raises(ValueError, match="model"):
        litellm.responses(input="x")
    assert server.requests == []


def test_get_and_delete_a_stored_response(server, openai_args):
    r = litellm.responses(model="openai/gpt-4o", input="hi", **openai_args)
    got = litellm.get_response(r.id, api_base=server.base_url, api_key="sk-test-key")
    sent = server.last_request
    assert (sent.method, sent.path) == ("GET", f"/v1/responses/{r.id}")
    assert got.id == r.id and got.output_text == r.output_text
    gone = litellm.delete_response(r.id, api_base=server.base_url, api_key="sk-test-key")
    assert (server.last_request.method, gone.deleted, gone.object) == ("DELETE", True, "response.deleted")
    with pytest.raises(litellm.NotFoundError):
        litellm.get_response(r.id, api_base=server.base_url, api_key="sk-test-key", max_retries=0)


async def test_aget_and_adelete_a_bridged_response(server, anthropic_args):
    r = await litellm.aresponses(model="anthropic/claude-3-5-haiku-20241022", input="hi", **anthropic_args)
    before = len(server.requests)
    got = await litellm.aget_response(r.id)
    assert got.output_text == r.output_text
    assert (await litellm.adelete_response(r.id)).deleted is True
    with pytest.raises(litellm.NotFoundError):
        await litellm.aget_response(r.id, custom_llm_provider="anthropic")
    assert len(server.requests) == before, "bridged responses are answered from memory"


def test_get_response_refuses_a_bad_id(server):
    with pytest.raises(litellm.BadRequestError, match="response_id"):
        litellm.get_response("resp/../x")


def test_mock_response_is_a_response_and_nothing_is_sent(server):
    r = litellm.responses(model="openai/gpt-4o", input="hi", mock_response="mocked!")
    assert r.output_text == "mocked!"
    assert r.usage.total_tokens == 30
    assert server.requests == []
    # Behaves like the other response objects: pickling, copies, equality, dict access.
    import pickle

    again = pickle.loads(pickle.dumps(r))
    assert again == r and again.output_text == "mocked!"
    assert again._hidden_params["response_cost"] == r._hidden_params["response_cost"]
    assert r.model_copy() == r
    assert "output" in r and r.get("status") == "completed" and dict(r)["status"] == "completed"
    assert ResponsesAPIResponse(**r.model_dump()) == r


def test_callbacks_see_the_call_and_its_cost(server, openai_args):
    seen = []

    def on_success(kwargs, response, start, end):
        seen.append((kwargs["call_type"], kwargs["input"], kwargs["response_cost"], response.output_text))

    litellm.success_callback = [on_success]
    litellm.responses(model="openai/gpt-4o", input="hi", **openai_args)
    stream = litellm.responses(model="openai/gpt-4o", input="yo", stream=True, **openai_args)
    for _ in stream:
        pass
    litellm._hooks.flush()
    assert [s[:2] for s in seen] == [("responses", "hi"), ("responses", "yo")]
    assert all(s[2] > 0 for s in seen)
    assert seen[1][3] == server.default_text


def test_failure_callbacks_see_the_mapped_error(server, openai_args):
    failures = []
    litellm.failure_callback = [lambda kwargs, response, start, end: failures.append(kwargs["exception"])]
    with pytest.raises(litellm.RateLimitError):
        litellm.responses(model="openai/error-429", input="hi", **openai_args)
    litellm._hooks.flush()
    assert isinstance(failures[0], litellm.RateLimitError)


def test_router_responses_with_fallbacks_and_streams(server):
    router = litellm.Router(
        model_list=[
            {
                "model_name": "main",
                "litellm_params": {"model": "openai/error-500", "api_base": server.base_url, "api_key": "k"},
            },
            {
                "model_name": "backup",
                "litellm_params": {
                    "model": "anthropic/claude-3-5-haiku-20241022",
                    "api_base": server.url,
                    "api_key": "ak",
                },
            },
        ],
        fallbacks=[{"main": ["backup"]}],
        num_retries=0,
    )
    r = router.responses(model="main", input="hi")
    assert r.output_text == server.default_text
    assert [q.path for q in server.requests] == ["/v1/responses", "/v1/messages"]
    assert r._hidden_params["additional_headers"]["x-litellm-attempted-fallbacks"] == 1
    events = list(router.responses(model="backup", input="hi", stream=True))
    assert events[-1].type == "response.completed"
    with pytest.raises(litellm.BadRequestError, match="needs input="):
        router.responses(model="backup")


async def test_router_aresponses(server):
    router = litellm.Router(
        model_list=[
            {
                "model_name": "g",
                "litellm_params": {"model": "openai/gpt-4o", "api_base": server.base_url, "api_key": "k"},
            }
        ]
    )
    r = await router.aresponses(model="g", input="hi")
    assert r.output_text == server.default_text
    stream = await router.aresponses(model="g", input="hi", stream=True)
    assert [e async for e in stream][-1].type == "response.completed"
    assert server.last_request.path == "/v1/responses"


def test_router_limits_and_retries_apply_to_responses(server):
    router = litellm.Router(
        model_list=[
            {
                "model_name": "g",
                "litellm_params": {"model": "openai/gpt-4o", "api_base": server.base_url, "api_key": "k", "rpm": 3},
            }
        ],
        num_retries=1,
    )
    clear_of_minute_end()  # rpm counts per UTC minute
    server.fail_next(1, status=500)
    r = router.responses(model="g", input="hi")
    assert r.status == "completed"
    assert r._hidden_params["additional_headers"]["x-litellm-attempted-retries"] == 1
    # The failed try counted against rpm too: one more call fits in the minute.
    router.responses(model="g", input="hi")
    with pytest.raises(litellm.RateLimitError, match="No deployments available"):
        router.responses(model="g", input="hi")
    assert len(server.requests) == 3


def test_responses_are_never_cached(server, openai_args):
    from rustllm.caching import Cache

    litellm.cache = Cache()
    first = litellm.responses(model="openai/gpt-4o", input="same", **openai_args)
    second = litellm.responses(model="openai/gpt-4o", input="same", **openai_args)
    assert len(server.requests) == 2
    assert first.id != second.id
    assert not second._hidden_params.get("cache_hit")


def test_completion_cost_prices_a_response(server, openai_args):
    r = litellm.responses(model="openai/gpt-4o", input="price me", **openai_args)
    assert litellm.completion_cost(completion_response=r) == pytest.approx(r._hidden_params["response_cost"])
    assert r.usage.prompt_tokens == r.usage.input_tokens and r.usage.completion_tokens == r.usage.output_tokens


def test_router_sends_a_follow_up_to_the_deployment_that_made_the_response():
    from rustllm.testing import MockServer

    with MockServer() as a, MockServer() as b:
        router = litellm.Router(
            model_list=[
                {
                    "model_name": "g",
                    "litellm_params": {"model": "openai/gpt-4o", "api_base": s.base_url, "api_key": "k"},
                }
                for s in (a, b)
            ]
        )
        first = router.responses(model="g", input="hi")
        maker, other = (a, b) if a.requests else (b, a)
        for _ in range(8):
            router.responses(model="g", input="and?", previous_response_id=first.id)
        assert len(maker.requests) == 9 and other.requests == []
        assert all(r.body["previous_response_id"] == first.id for r in maker.requests[1:])
        # Without previous_response_id, both deployments serve.
        for _ in range(20):
            router.responses(model="g", input="fresh")
        assert other.requests
        # A streamed Response is remembered once its id arrives (response.created).
        a.reset()
        b.reset()
        streamed = list(router.responses(model="g", input="hi", stream=True))[-1].response
        maker, other = (a, b) if a.requests else (b, a)
        for _ in range(8):
            router.responses(model="g", input="and?", previous_response_id=streamed.id)
        assert len(maker.requests) == 9 and other.requests == []
