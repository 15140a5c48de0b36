"""langchain-litellm: ChatLiteLLM, ChatLiteLLMRouter and LiteLLMEmbeddings on rustllm."""

from __future__ import annotations

import litellm
import pytest
from conftest import assert_no_stream_key, assert_wire_clean, chat_bodies
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_litellm import ChatLiteLLM, ChatLiteLLMRouter, LiteLLMEmbeddings

import rustllm


@tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"Sunny in {city}"


def _chat(base_url: str, **kwargs) -> ChatLiteLLM:
    return ChatLiteLLM(model="openai/gpt-4o-mini", api_base=base_url, api_key="sk-test", max_retries=0, **kwargs)


def test_framework_sees_rustllm():
    import langchain_litellm.chat_models.litellm as module

    assert module.litellm is rustllm if hasattr(module, "litellm") else litellm is rustllm


def test_invoke(server, base_url):
    reply = _chat(base_url, temperature=0.2).invoke("What is 2 + 2?")
    assert isinstance(reply, AIMessage)
    assert reply.content == "Hello from MockServer!"
    assert reply.usage_metadata["output_tokens"] == 3
    (body,) = chat_bodies(server)
    assert_wire_clean(body)
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.2
    assert body["messages"] == [{"role": "user", "content": "What is 2 + 2?"}]


def test_stream(server, base_url):
    chunks = list(_chat(base_url).stream("say something"))
    assert "".join(c.content for c in chunks) == "Hello from MockServer!"
    assert len([c for c in chunks if c.content]) == 3
    (body,) = chat_bodies(server)
    assert_wire_clean(body, stream=True)


async def test_ainvoke_and_astream(server, base_url):
    llm = _chat(base_url)
    reply = await llm.ainvoke([HumanMessage("echo me")])
    assert reply.content == "Hello from MockServer!"
    parts = [c.content async for c in llm.astream("again")]
    assert "".join(parts) == "Hello from MockServer!"
    first, second = chat_bodies(server)
    assert_wire_clean(first)
    assert_wire_clean(second, stream=True)


def test_tool_round_trip(server, base_url):
    llm = _chat(base_url).bind_tools([get_weather], tool_choice="get_weather")
    question = HumanMessage("Weather in Paris?")
    ai = llm.invoke([question])
    (call,) = ai.tool_calls
    assert call["name"] == "get_weather"
    assert call["args"] == {"city": "example"}
    result = get_weather.invoke(call["args"])
    final = (
        _chat(base_url).bind_tools([get_weather]).invoke([question, ai, ToolMessage(result, tool_call_id=call["id"])])
    )
    assert final.content == "Hello from MockServer!"
    first, second = chat_bodies(server)
    assert_wire_clean(first)
    assert_wire_clean(second)
    assert first["tools"][0]["function"]["name"] == "get_weather"
    assert first["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert second["messages"][1]["tool_calls"][0]["id"] == call["id"]
    assert second["messages"][2] == {"role": "tool", "content": "Sunny in example", "tool_call_id": call["id"]}


def test_embeddings(server, base_url):
    emb = LiteLLMEmbeddings(model="openai/text-embedding-3-small", api_base=base_url, api_key="sk-test")
    vectors = emb.embed_documents(["hello", "world"])
    query = emb.embed_query("hello")
    assert len(vectors) == 2 and len(vectors[0]) == 8
    assert query == vectors[0]
    bodies = [r.body for r in server.requests if r.path.endswith("/embeddings")]
    assert bodies[0]["input"] == ["hello", "world"]
    for body in bodies:
        assert_wire_clean(body)


def test_router(server, base_url):
    router = litellm.Router(
        model_list=[
            {
                "model_name": "fast",
                "litellm_params": {"model": "openai/gpt-4o-mini", "api_base": base_url, "api_key": "sk-test"},
            }
        ]
    )
    llm = ChatLiteLLMRouter(router=router, model_name="fast")
    assert llm.invoke("hi").content == "Hello from MockServer!"
    assert "".join(c.content for c in llm.stream("hi")) == "Hello from MockServer!"
    first, second = chat_bodies(server)
    assert_wire_clean(first)
    assert_wire_clean(second, stream=True)


def test_error_is_mapped(server, base_url):
    # ChatLiteLLM retries RateLimitError itself (tenacity): every attempt fails here.
    server.fail_next(5, status=429)
    with pytest.raises(litellm.RateLimitError) as info:
        _chat(base_url).invoke("hi")
    assert info.value.status_code == 429
    assert "Mock error 429" in str(info.value)
    for body in chat_bodies(server):
        assert_wire_clean(body)


def test_no_stream_key_when_not_streaming(server, base_url):
    _chat(base_url).invoke("hi")
    (body,) = chat_bodies(server)
    assert_no_stream_key(body)
