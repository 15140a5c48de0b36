"""instructor: from_litellm (sync and async, TOOLS and JSON modes, partial streaming) on rustllm."""

from __future__ import annotations

import instructor
import litellm
import pytest
from conftest import assert_wire_clean, chat_bodies
from pydantic import BaseModel

import rustllm


class City(BaseModel):
    name: str
    population: int


def _client(**kwargs):
    return instructor.from_litellm(litellm.completion, **kwargs)


def test_framework_sees_rustllm():
    assert litellm.completion is rustllm.completion


def test_tools_mode_extracts_a_model(server, base_url):
    # TOOLS mode sends a named tool_choice; MockServer fills the schema: "example", 1.
    city = _client().chat.completions.create(
        model="openai/gpt-4o-mini",
        api_base=base_url,
        api_key="sk-test",
        response_model=City,
        messages=[{"role": "user", "content": "Paris has 2 million people."}],
    )
    assert (city.name, type(city.population)) == ("example", int)
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
    assert body["tool_choice"] == {"type": "function", "function": {"name": "City"}}
    assert body["tools"][0]["function"]["parameters"]["required"] == ["name", "population"]


def test_json_mode(server, base_url):
    server.respond(text='{"name": "Paris", "population": 2100000}')
    city = _client(mode=instructor.Mode.JSON).chat.completions.create(
        model="openai/gpt-4o-mini",
        api_base=base_url,
        api_key="sk-test",
        response_model=City,
        messages=[{"role": "user", "content": "Paris?"}],
    )
    assert city.model_dump() == {"name": "Paris", "population": 2100000}
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
    assert body["response_format"] == {"type": "json_object"}


async def test_async(server, base_url):
    client = instructor.from_litellm(litellm.acompletion)
    city = await client.chat.completions.create(
        model="openai/gpt-4o-mini",
        api_base=base_url,
        api_key="sk-test",
        response_model=City,
        messages=[{"role": "user", "content": "Paris?"}],
    )
    assert (city.name, type(city.population)) == ("example", int)
    (body,) = chat_bodies(server)
    assert_wire_clean(body)


async def test_create_partial_streams(server, base_url):
    # instructor 1.17 takes any AsyncIterator as an async stream, and LiteLLM's
    # CustomStreamWrapper (like rustllm's) is both: with the real litellm too, the sync
    # client's create_partial hands back an async generator. It is consumed as such.
    partials = _client().chat.completions.create_partial(
        model="openai/gpt-4o-mini",
        api_base=base_url,
        api_key="sk-test",
        response_model=City,
        messages=[{"role": "user", "content": "Paris?"}],
    )
    last = [p async for p in partials][-1]
    assert (last.name, type(last.population)) == ("example", int)
    (body,) = chat_bodies(server)
    assert_wire_clean(body, stream=True)


def test_validation_retry_resends_the_error(server, base_url):
    # First answer fails validation; instructor sends the error back and asks again.
    server.respond(text='{"name": "Paris", "population": "many"}')
    server.respond(text='{"name": "Paris", "population": 3}')
    city = _client(mode=instructor.Mode.JSON).chat.completions.create(
        model="openai/gpt-4o-mini",
        api_base=base_url,
        api_key="sk-test",
        response_model=City,
        max_retries=2,
        messages=[{"role": "user", "content": "Paris?"}],
    )
    assert city.population == 3
    first, second = chat_bodies(server)
    assert_wire_clean(first)
    assert_wire_clean(second)
    assert "population" in str(second["messages"][-1]["content"])


def test_error_is_mapped(server, base_url):
    server.fail_next(3, status=429)
    with pytest.raises(Exception) as info:
        _client().chat.completions.create(
            model="openai/gpt-4o-mini",
            api_base=base_url,
            api_key="sk-test",
            response_model=City,
            max_retries=1,
            messages=[{"role": "user", "content": "Paris?"}],
        )
    chain = []
    err = info.value
    while err is not None and len(chain) < 10:
        chain.append(err)
        err = err.__cause__ or err.__context__
    assert any(isinstance(e, litellm.RateLimitError) and e.status_code == 429 for e in chain), chain
    for body in chat_bodies(server):
        assert_wire_clean(body)
