"""ChatRustLLM beyond the standard suites: the ChatLiteLLM defects it must not have, and
what goes over the wire (checked in MockServer's request log)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import warnings

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from pydantic import BaseModel

import rustllm
from rustllm.langchain import ChatRustLLM, ChatRustLLMRouter, RustLLMEmbeddings
from rustllm.testing import MockServer


@pytest.fixture
def server():
    with MockServer() as s:
        yield s


@pytest.fixture
def llm(server):
    return ChatRustLLM(model="mock-tool-model", custom_llm_provider="openai", api_base=server.base_url, api_key="sk")


class Joke(BaseModel):
    setup: str
    punchline: str


def test_import_rustllm_does_not_import_langchain():
    code = "import sys, rustllm; print(any(m.startswith('langchain') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_timeout_stop_and_names_are_honoured(server):
    llm = ChatRustLLM(
        model="m", custom_llm_provider="openai", api_base=server.base_url, api_key="sk", timeout=7, stop=["you"]
    )
    assert llm.request_timeout == 7
    llm.invoke([HumanMessage("hello", name="bob")])
    body = server.last_request.body
    assert body["stop"] == ["you"]
    assert body["messages"] == [{"role": "user", "name": "bob", "content": "hello"}]
    llm.invoke("hi", stop=["x"])
    assert server.last_request.body["stop"] == ["x"]


def test_unknown_kwargs_move_to_model_kwargs_with_a_warning(server):
    with pytest.warns(UserWarning, match="seed"):
        llm = ChatRustLLM(model="m", custom_llm_provider="openai", api_base=server.base_url, api_key="sk", seed=3)
    assert llm.model_kwargs == {"seed": 3}
    llm.invoke("hi")
    assert server.last_request.body["seed"] == 3


def test_per_call_model_reaches_the_wire_and_the_metadata(llm, server):
    message = llm.invoke("hi", model="other-model")
    assert server.last_request.body["model"] == "other-model"
    assert message.response_metadata["model_name"] == "other-model"
    assert message.response_metadata["model_provider"] == llm._get_ls_params()["ls_provider"] == "rustllm"


def test_token_usage_is_a_plain_dict(llm):
    message = llm.invoke("hi")
    json.dumps(message.response_metadata)
    assert message.response_metadata["token_usage"]["total_tokens"] == message.usage_metadata["total_tokens"]


def test_cache_key_reflects_every_parameter(server):
    base = {"model": "m", "custom_llm_provider": "openai", "api_key": "sk"}
    variants = [
        {},
        {"max_tokens": 5},
        {"api_base": "http://127.0.0.1:1/v1"},
        {"model_kwargs": {"seed": 1}},
        {"stop": ["x"]},
        {"extra_body": {"top_k": 3}},
        {"extra_headers": {"x-tenant": "a"}},
    ]
    keys = {ChatRustLLM(**base, **v)._get_llm_string() for v in variants}
    assert len(keys) == len(variants)
    assert "sk" not in "".join(keys)


def test_several_choices_are_kept_apart(llm, server):
    result = llm.generate([[HumanMessage("hi")]], n=2)
    assert [g.text for g in result.generations[0]] == ["Hello from MockServer!"] * 2
    streaming = llm.model_copy(update={"streaming": True, "n": 2})
    assert streaming.invoke("hi").content == "Hello from MockServer!"
    # stream() with several choices falls back to one request and yields the first.
    assert [c.content for c in llm.stream("hi", n=2)] == ["Hello from MockServer!"]
    assert server.last_request.body["n"] == 2 and "stream" not in server.last_request.body
    with pytest.raises(ValueError, match="n > 1"):
        list(llm._stream([HumanMessage("hi")], n=2))


def test_streaming_usage_once_and_tokens_to_callbacks(llm, server):
    class Tokens(BaseCallbackHandler):
        def __init__(self):
            self.tokens = []

        def on_llm_new_token(self, token, **kwargs):
            self.tokens.append(token)

    handler = Tokens()
    chunks = list(llm.stream("hi", config={"callbacks": [handler]}))
    # As ChatLiteLLM: the usage on a chunk of its own, then the closing chunk.
    assert [c.usage_metadata is not None for c in chunks] == [False] * (len(chunks) - 2) + [True, False]
    assert chunks[-1].chunk_position == "last"
    assert "".join(handler.tokens) == "Hello from MockServer!"
    assert server.last_request.body["stream_options"] == {"include_usage": True}
    # invoke(streaming=True) streams too, with the same callbacks.
    handler = Tokens()
    streaming = llm.model_copy(update={"streaming": True})
    assert streaming.invoke("hi", config={"callbacks": [handler]}).content == "Hello from MockServer!"
    assert "".join(handler.tokens) == "Hello from MockServer!"


def test_tool_call_chunks_assemble(llm):
    def get_weather(city: str) -> str:
        """Weather of a city."""
        return "sunny"

    bound = llm.bind_tools([get_weather])
    chunks = list(bound.stream("Weather in 'Paris'?"))
    assert any(c.tool_call_chunks for c in chunks)
    full = chunks[0]
    for c in chunks[1:]:
        full = full + c
    assert full.tool_calls[0]["name"] == "get_weather"
    assert full.tool_calls[0]["args"] == {"city": "Paris"}


def test_tool_choice_forms(llm, server):
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    def sub(a: int, b: int) -> int:
        """Subtract."""
        return a - b

    for given, sent in [
        ("any", "required"),
        (True, "required"),
        ("auto", "auto"),
        ("sub", {"type": "function", "function": {"name": "sub"}}),
    ]:
        llm.bind_tools([add, sub], tool_choice=given).invoke("2 and 3")
        assert server.last_request.body["tool_choice"] == sent
    with pytest.raises(ValueError, match="nope"):
        llm.bind_tools([add], tool_choice={"type": "function", "function": {"name": "nope"}})


def test_tool_round_trip(llm, server):
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    bound = llm.bind_tools([add])
    question = HumanMessage("What is add(2, 5)?")
    call_message = bound.invoke([question])
    [call] = call_message.tool_calls
    assert call["args"] == {"a": 2, "b": 5}
    result = ToolMessage(str(add.__call__(**call["args"])), tool_call_id=call["id"], name="add")
    answer = bound.invoke([question, call_message, result])
    assert answer.content and not answer.tool_calls
    sent = server.last_request.body["messages"]
    assert sent[1].get("content") is None and sent[1]["tool_calls"][0]["id"] == call["id"]
    assert sent[2] == {"role": "tool", "tool_call_id": call["id"], "content": "7", "name": "add"}


def test_malformed_tool_arguments_become_invalid_tool_calls(llm, server):
    bad = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{not json"}}
    server.respond(
        body={
            "id": "x",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": None, "tool_calls": [bad]},
                    "finish_reason": "tool_calls",
                }
            ],
        }
    )
    message = llm.invoke("hi")
    assert message.tool_calls == []
    assert message.invalid_tool_calls[0]["args"] == "{not json"
    # Sent back, the invalid call keeps its raw arguments.
    llm.invoke([HumanMessage("hi"), message, ToolMessage("error", tool_call_id="c1")])
    assert server.last_request.body["messages"][1]["tool_calls"] == [bad]


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_mode"])
def test_structured_output_methods(llm, server, method):
    prompt = "A joke as JSON with 'setup' and 'punchline' keys"
    joke = llm.with_structured_output(Joke, method=method).invoke(prompt)
    assert isinstance(joke, Joke)
    body = server.last_request.body
    if method == "json_schema":
        assert body["response_format"]["json_schema"]["name"] == "Joke"
    elif method == "json_mode":
        assert body["response_format"] == {"type": "json_object"}
    else:
        assert body["tool_choice"] == {"type": "function", "function": {"name": "Joke"}}


def test_structured_output_include_raw_never_raises(llm, server):
    server.respond(text="not json at all")
    out = llm.with_structured_output(Joke, include_raw=True).invoke("joke")
    assert isinstance(out["raw"], AIMessage)
    assert out["parsed"] is None and out["parsing_error"] is not None
    out = llm.with_structured_output(Joke, include_raw=True).invoke("joke")
    assert isinstance(out["parsed"], Joke) and out["parsing_error"] is None


def test_usage_details_for_prompt_caching(server):
    llm = ChatRustLLM(model="anthropic/claude-mock", api_base=server.url, api_key="sk")
    cached = {"type": "text", "text": "three cached words", "cache_control": {"type": "ephemeral"}}
    message = llm.invoke([HumanMessage([cached, "question"])])
    assert message.usage_metadata["input_token_details"]["cache_read"] == 3
    assert message.usage_metadata["input_tokens"] >= 3


def test_async_is_native(llm, monkeypatch):
    loop_calls = []

    async def main():
        loop = asyncio.get_running_loop()
        original = loop.run_in_executor

        def spy(*args, **kwargs):
            loop_calls.append(args)
            return original(*args, **kwargs)

        monkeypatch.setattr(loop, "run_in_executor", spy)
        message = await llm.ainvoke("hi")
        chunks = [c async for c in llm.astream("hi")]
        return message, chunks

    message, chunks = asyncio.run(main())
    assert message.content == "Hello from MockServer!"
    assert "".join(c.content for c in chunks) == "Hello from MockServer!"
    assert loop_calls == []


def test_router_metadata_names_group_and_deployment(server):
    router = rustllm.Router(
        model_list=[
            {
                "model_name": "g",
                "litellm_params": {"model": "openai/m1", "api_base": server.base_url, "api_key": "sk"},
                "model_info": {"id": "dep-1"},
            }
        ]
    )
    llm = ChatRustLLMRouter(router=router, model="g")
    message = llm.invoke("hi")
    # As ChatLiteLLMRouter: the group called, and the id of the deployment that answered.
    assert message.response_metadata["model_name"] == "g"
    assert message.response_metadata["model_id"] == "dep-1"
    with pytest.raises(ValueError, match="model group"):
        llm.set_default_model("nope")
    with pytest.raises(ValueError, match=r"rustllm\.Router"):
        ChatRustLLMRouter(router=object(), model="g")


def test_embeddings_batches_keep_order(server):
    emb = RustLLMEmbeddings(
        model="text-embedding-3-small",
        custom_llm_provider="openai",
        api_base=server.base_url,
        api_key="sk",
        chunk_size=2,
    )
    vectors = emb.embed_documents(["a", "b", "c"])
    assert server.request_count == 2
    assert vectors == [emb.embed_query(t) for t in "abc"]


def test_use_responses_api_is_refused():
    with warnings.catch_warnings(), pytest.raises(ValueError, match="Chat Completions"):
        ChatRustLLM(model="m", use_responses_api=True)


def test_timeout_is_enforced(server):
    llm = ChatRustLLM(
        model="mock-slow-2000", custom_llm_provider="openai", api_base=server.base_url, api_key="sk", timeout=0.2
    )
    with pytest.raises(rustllm.Timeout):
        llm.invoke("hi", max_retries=0)
