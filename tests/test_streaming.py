"""Streaming through the public API: one stream object for sync and async, LiteLLM's chunk
rules, usage, tool-call deltas, stream_chunk_builder, failures and cleanup."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import pickle
import threading

import pytest

import rustllm as litellm
from rustllm import _core
from rustllm.types.utils import ModelResponseStream

USER_HI = [{"role": "user", "content": "hi"}]
TEXT = "one two three four five six"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def _stream(server, openai_args, **kw):
    return litellm.completion(model="openai/m", messages=USER_HI, stream=True, **openai_args, **kw)


def test_sync_stream_chunks_follow_litellm_rules(server, openai_args):
    server.respond(text=TEXT)
    stream = _stream(server, openai_args)
    assert isinstance(stream, litellm.CustomStreamWrapper)
    chunks = list(stream)
    assert all(isinstance(c, ModelResponseStream) for c in chunks)
    assert server.last_request.body["stream"] is True
    # Same id, created and model on every chunk.
    assert len({c.id for c in chunks}) == 1
    assert len({c.created for c in chunks}) == 1
    assert {c.model for c in chunks} == {"m"}
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    # The first chunk carries the role, no later one does.
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.choices[0].delta.role is None for c in chunks[1:])
    # The text arrives whole, and the last chunk finishes with an empty delta.
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == TEXT
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].choices[0].delta.content is None
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    # No usage unless asked for.
    assert not any("usage" in c.__dict__ for c in chunks)


def test_next_works_on_a_sync_stream(server, openai_args):
    server.respond(text=TEXT)
    stream = _stream(server, openai_args)
    first = next(stream)
    assert first.choices[0].delta.content
    rest = list(stream)
    assert rest[-1].choices[0].finish_reason == "stop"
    with pytest.raises(StopIteration):
        next(stream)


def test_include_usage_yields_the_providers_usage(server, openai_args):
    server.respond(text=TEXT)
    chunks = list(_stream(server, openai_args, stream_options={"include_usage": True}))
    assert server.last_request.body["stream_options"] == {"include_usage": True}
    usage_chunks = [c for c in chunks if "usage" in c.__dict__]
    assert len(usage_chunks) == 1 and usage_chunks[0] is chunks[-1]
    usage = usage_chunks[0].usage
    assert usage.prompt_tokens == 1 and usage.completion_tokens == 6 and usage.total_tokens == 7
    # The usage chunk keeps one empty choice, so `chunk.choices[0].delta.content` never fails.
    assert chunks[-1].choices[0].delta.content is None


async def test_async_for_and_anext(server, openai_args):
    server.respond(text=TEXT)
    stream = await litellm.acompletion(model="openai/m", messages=USER_HI, stream=True, **openai_args)
    first = await stream.__anext__()
    assert first.choices[0].delta.role == "assistant"
    texts = [first.choices[0].delta.content]
    async for chunk in stream:
        texts.append(chunk.choices[0].delta.content)
    assert "".join(t for t in texts if t) == TEXT
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


async def test_sync_stream_can_be_iterated_async(server, openai_args):
    server.respond(text=TEXT)
    stream = _stream(server, openai_args)
    texts = [c.choices[0].delta.content async for c in stream]
    assert "".join(t for t in texts if t) == TEXT


def test_async_stream_iterated_with_for_after_the_loop_closed(server, openai_args):
    # The tutorial's llm_chat helper: acompletion inside asyncio.run, plain `for` afterwards.
    server.respond(text=TEXT)

    async def open_stream():
        return await litellm.acompletion(model="openai/m", messages=USER_HI, stream=True, **openai_args)

    stream = asyncio.run(open_stream())
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text == TEXT


def test_tool_call_deltas(server, openai_args):
    stream = litellm.completion(
        model="openai/m",
        messages=[{"role": "user", "content": "weather in Paris"}],
        tools=[WEATHER_TOOL],
        tool_choice="required",
        stream=True,
        **openai_args,
    )
    chunks = list(stream)
    deltas = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    assert deltas[0].id and deltas[0].function.name == "get_weather" and deltas[0].index == 0
    assert deltas[0].type == "function"
    assert all(d.id is None and d.function.name is None for d in deltas[1:])
    args = "".join(d.function.arguments or "" for d in deltas)
    assert json.loads(args) == {"city": "example"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"

    built = litellm.stream_chunk_builder(chunks)
    call = built.choices[0].message.tool_calls[0]
    assert call.id == deltas[0].id and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "example"}
    assert built.choices[0].finish_reason == "tool_calls"
    assert built.choices[0].message.content is None


def test_stream_chunk_builder_rebuilds_the_response(server, openai_args):
    server.respond(text=TEXT)
    chunks = list(_stream(server, openai_args, stream_options={"include_usage": True}))
    built = litellm.stream_chunk_builder(chunks, messages=USER_HI)
    assert isinstance(built, litellm.ModelResponse)
    assert built.object == "chat.completion"
    assert built.id == chunks[0].id and built.created == chunks[0].created and built.model == "m"
    assert built.choices[0].message.content == TEXT
    assert built.choices[0].message.role == "assistant"
    assert built.choices[0].finish_reason == "stop"
    assert (built.usage.prompt_tokens, built.usage.completion_tokens, built.usage.total_tokens) == (1, 6, 7)


def test_stream_chunk_builder_counts_usage_when_absent(server, openai_args):
    server.respond(text="Hello world")
    chunks = list(_stream(server, openai_args))
    built = litellm.stream_chunk_builder(chunks, messages=[{"role": "user", "content": "hello world"}])
    assert built.usage.completion_tokens == litellm.token_counter(model="m", text="Hello world")
    assert built.usage.prompt_tokens == 9
    assert built.usage.total_tokens == built.usage.prompt_tokens + built.usage.completion_tokens


# -- stream_chunk_builder without messages: the prompt is the request's -----------------
CHAT = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "Name three primary colours, please."},
]


def _assert_prompt_of(built, messages):
    """`built` counts `messages` as its prompt, as token_counter does, and is priced on it."""
    want = litellm.token_counter(model="gpt-4o", messages=messages)
    assert built.usage.prompt_tokens == want > 0
    assert built.usage.total_tokens == want + built.usage.completion_tokens
    in_cost, out_cost = litellm.cost_per_token(
        model="gpt-4o", prompt_tokens=want, completion_tokens=built.usage.completion_tokens
    )
    assert litellm.completion_cost(completion_response=built) == pytest.approx(in_cost + out_cost)


def test_builder_without_messages_counts_the_prompt_of_a_sync_stream(server, openai_args):
    messages = list(CHAT)
    chunks = list(litellm.completion(model="openai/gpt-4o", messages=messages, stream=True, **openai_args))
    assert server.last_request.body["messages"] == CHAT
    assert not any("usage" in c.__dict__ for c in chunks)  # the provider reported none
    # The caller's list grows with the reply afterwards: that is not this request's prompt.
    messages.append({"role": "assistant", "content": "Red, yellow and blue."})
    built = litellm.stream_chunk_builder(chunks)
    _assert_prompt_of(built, CHAT)
    assert built.usage == litellm.stream_chunk_builder(chunks, messages=CHAT).usage
    # The prompt rides along out of sight: not in the chunks' params as shown or dumped.
    assert "primary colours" not in repr(chunks[0]._hidden_params)
    assert "primary colours" not in json.dumps(chunks[-1]._hidden_params)
    assert dict(chunks[0]._hidden_params)["custom_llm_provider"] == "openai"


async def test_builder_without_messages_counts_the_prompt_of_an_async_stream(server, openai_args):
    stream = await litellm.acompletion(model="openai/gpt-4o", messages=CHAT, stream=True, **openai_args)
    chunks = [c async for c in stream]
    _assert_prompt_of(litellm.stream_chunk_builder(chunks), CHAT)


async def test_builder_without_messages_counts_the_prompt_of_router_streams(server):
    router = litellm.Router(
        model_list=[
            {
                "model_name": "colours",
                "litellm_params": {"model": "openai/gpt-4o", "api_base": server.base_url, "api_key": "k"},
            }
        ]
    )
    chunks = list(router.completion(model="colours", messages=CHAT, stream=True))
    _assert_prompt_of(litellm.stream_chunk_builder(chunks), CHAT)
    stream = await router.acompletion(model="colours", messages=CHAT, stream=True)
    chunks = [c async for c in stream]
    _assert_prompt_of(litellm.stream_chunk_builder(chunks), CHAT)
    assert server.last_request.body["messages"] == CHAT


def test_builder_counts_the_prompt_only_when_the_stream_reported_no_usage(server, openai_args):
    args = {"model": "openai/gpt-4o", "messages": CHAT, "stream": True, **openai_args}
    # With include_usage the provider's own numbers stand (MockServer counts words: 10).
    chunks = list(litellm.completion(stream_options={"include_usage": True}, **args))
    built = litellm.stream_chunk_builder(chunks)
    assert built.usage.prompt_tokens == chunks[-1].usage.prompt_tokens == 10
    assert 10 != litellm.token_counter(model="gpt-4o", messages=CHAT)
    assert built.usage.completion_tokens == chunks[-1].usage.completion_tokens
    # Without it the prompt is counted.
    _assert_prompt_of(litellm.stream_chunk_builder(list(litellm.completion(**args))), CHAT)


def test_chunks_with_no_request_behind_them_count_no_prompt(server, openai_args):
    chunks = list(litellm.completion(model="openai/gpt-4o", messages=CHAT, stream=True, **openai_args))
    counted = litellm.stream_chunk_builder(chunks)
    _assert_prompt_of(counted, CHAT)
    # Chunks made by hand (here from the fields of real ones) or pickled and loaded carry
    # no request: as in LiteLLM, the prompt counts 0 unless the messages are passed.
    by_hand = [ModelResponseStream(**c.model_dump()) for c in chunks]
    loaded = pickle.loads(pickle.dumps(chunks))
    assert loaded[0]._hidden_params == chunks[0]._hidden_params
    for copies in (by_hand, loaded):
        built = litellm.stream_chunk_builder(copies)
        assert built.usage.prompt_tokens == 0
        assert built.usage.completion_tokens == counted.usage.completion_tokens > 0
        _assert_prompt_of(litellm.stream_chunk_builder(copies, messages=CHAT), CHAT)


def test_stream_chunk_builder_edge_cases():
    assert litellm.stream_chunk_builder([]) is None
    with pytest.raises(litellm.APIError, match="Error building chunks"):
        litellm.stream_chunk_builder(None)


def test_stream_chunk_builder_keeps_content_before_tool_calls():
    # LiteLLM #2716: content streamed before tool calls must not be lost.
    def chunk(delta, finish=None):
        return ModelResponseStream(choices=[{"index": 0, "delta": delta, "finish_reason": finish}], id="c1")

    chunks = [
        chunk({"role": "assistant", "content": "Let me check. "}),
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "id": "call_a", "type": "function", "function": {"name": "f", "arguments": '{"a"'}}
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}),
        chunk(
            {
                "tool_calls": [
                    {"index": 1, "id": "call_b", "type": "function", "function": {"name": "g", "arguments": ""}}
                ]
            }
        ),
        chunk({}, "tool_calls"),
    ]
    built = litellm.stream_chunk_builder(chunks)
    msg = built.choices[0].message
    assert msg.content == "Let me check. "
    assert [(t.id, t.function.name, t.function.arguments) for t in msg.tool_calls] == [
        ("call_a", "f", '{"a": 1}'),
        ("call_b", "g", "{}"),
    ]


def test_broken_stream_raises_instead_of_truncating(server, openai_args):
    server.respond(text=TEXT, break_after=3)
    stream = _stream(server, openai_args)
    received = []
    with pytest.raises(litellm.APIConnectionError):
        for chunk in stream:
            received.append(chunk)
    # What arrived before the break was delivered first.
    assert 1 <= len(received) <= 3


async def test_broken_stream_raises_async(server, openai_args):
    server.respond(text=TEXT, break_after=2)
    stream = await litellm.acompletion(model="openai/m", messages=USER_HI, stream=True, **openai_args)
    with pytest.raises(litellm.APIConnectionError):
        async for _ in stream:
            pass


def test_error_event_inside_the_stream(server, openai_args):
    body = (
        'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n'
        'data: {"error":{"message":"Rate limit reached mid-stream","type":"rate_limit","code":429}}\n\n'
    )
    server.respond(body=body, headers={"content-type": "text/event-stream"})
    stream = _stream(server, openai_args)
    assert next(stream).choices[0].delta.content == "Hi"
    with pytest.raises(litellm.RateLimitError, match="Rate limit reached mid-stream"):
        next(stream)


def test_errors_before_the_stream_are_raised_by_the_call(server, openai_args):
    with pytest.raises(litellm.AuthenticationError):
        litellm.completion(model="openai/error-401", messages=USER_HI, stream=True, **openai_args)


def test_stream_timeout_bounds_each_gap(server, openai_args):
    server.respond(text=TEXT, chunk_delay=1.0)
    stream = _stream(server, openai_args, stream_timeout=0.2)
    with pytest.raises(litellm.Timeout):
        list(stream)


def test_timeout_bounds_the_first_chunk(server, openai_args):
    with pytest.raises(litellm.Timeout):
        litellm.completion(model="openai/slow-2000", messages=USER_HI, stream=True, timeout=0.2, **openai_args)


def test_retries_happen_before_the_first_chunk(server):
    server.fail_next(1, status=503)
    server.respond(text=TEXT)
    stream = litellm.completion(
        model="openai/m", messages=USER_HI, stream=True, api_base=server.base_url, api_key="k", max_retries=1
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream) == TEXT
    assert len(server.requests) == 2


def _wait_for_no_streams(timeout=5.0):
    import time

    deadline = time.monotonic() + timeout
    while _core.active_streams() and time.monotonic() < deadline:
        time.sleep(0.01)
    return _core.active_streams()


def test_break_close_and_drop_cancel_the_request(server, openai_args):
    server.respond(text=" ".join(["w"] * 200), chunk_delay=0.01, times=3)
    stream = _stream(server, openai_args)
    for _ in stream:
        break
    stream.close()
    assert _wait_for_no_streams() == 0

    with _stream(server, openai_args) as stream:
        next(stream)
    assert _wait_for_no_streams() == 0

    stream = _stream(server, openai_args)
    next(stream)
    del stream
    gc.collect()
    assert _wait_for_no_streams() == 0


async def test_aclose_cancels(server, openai_args):
    server.respond(text=" ".join(["w"] * 200), chunk_delay=0.01)
    stream = await litellm.acompletion(model="openai/m", messages=USER_HI, stream=True, **openai_args)
    await stream.__anext__()
    await stream.aclose()
    assert _wait_for_no_streams() == 0
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


def _rss_kib() -> int:
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_ten_thousand_streams_leave_nothing_behind(server, openai_args):
    server.respond(text="a b c", times=0)
    # The server's own request log would grow with every request; measure the client only.
    server.recording = False

    def run(n):
        for i in range(n):
            stream = _stream(server, openai_args)
            if i % 2:
                next(stream)  # abandoned part-way
            else:
                for _ in stream:
                    pass

    run(500)  # warm up pools and allocator
    gc.collect()
    threads_before = threading.active_count()
    tasks_before = len(os.listdir(f"/proc/{os.getpid()}/task"))
    rss_before = _rss_kib()
    run(10_000)
    gc.collect()
    assert _wait_for_no_streams() == 0
    # No thread per stream: counts may only shrink (tokio's idle blocking-pool threads
    # and other tests' helper threads end on their own schedule).
    assert threading.active_count() <= threads_before
    assert len(os.listdir(f"/proc/{os.getpid()}/task")) <= tasks_before
    assert _rss_kib() - rss_before < 8_000  # KiB: well under 1 KiB per stream
    server.recording = True


async def test_buffered_chunks_cost_no_event_loop_round_trip(openai_args):
    stream = await litellm.acompletion(model="openai/m", messages=USER_HI, stream=True, mock_response="x" * 300)

    class CountingHandle:
        def __init__(self, inner):
            self.inner = inner
            self.awaits = 0

        def try_batch(self):
            return self.inner.try_batch()

        def next_batch_submit(self, waker, future):
            self.awaits += 1
            return self.inner.next_batch_submit(waker, future)

        def close(self):
            self.inner.close()

    counting = CountingHandle(stream._handle)
    stream._handle = counting
    chunks = [c async for c in stream]
    assert len(chunks) == 101  # 100 three-character chunks and the finish chunk
    assert counting.awaits == 0


def test_mock_response_streams_in_three_character_chunks():
    chunks = list(
        litellm.completion(
            model="gpt-4o",
            messages=USER_HI,
            stream=True,
            mock_response="Hello world",
            stream_options={"include_usage": True},
        )
    )
    assert [c.choices[0].delta.content for c in chunks] == ["Hel", "lo ", "wor", "ld", None, None]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].usage.total_tokens == 30


def test_mock_streaming_error_fails_midway():
    stream = litellm.completion(
        model="openai/m", messages=USER_HI, stream=True, mock_response="Exception: mock_streaming_error"
    )
    with pytest.raises(litellm.APIError) as info:
        list(stream)
    assert info.value.status_code == 529


def test_fast_built_chunks_equal_the_dict_path(server, openai_args):
    # Common chunks are built as objects in Rust; they must be indistinguishable from the
    # ones ModelResponseStream._from_openai builds from the same JSON.
    server.respond(text=TEXT)
    stream = _stream(server, openai_args)
    batch = stream._handle.next_batch()
    assert batch and all(type(c) is ModelResponseStream for c in batch)  # built in Rust
    server.respond(text=TEXT)
    fast = list(_stream(server, openai_args))
    hidden = fast[0]._hidden_params
    for chunk in fast:
        rebuilt = ModelResponseStream._from_openai(chunk.model_dump(), hidden)
        assert repr(rebuilt) == repr(chunk)
        assert rebuilt == chunk
        assert list(rebuilt.__dict__) == list(chunk.__dict__)
        assert list(rebuilt.choices[0].__dict__) == list(chunk.choices[0].__dict__)
        assert list(rebuilt.choices[0].delta.__dict__) == list(chunk.choices[0].delta.__dict__)
        assert chunk._hidden_params is hidden and chunk._response_ms is None


def test_typed_chunks_equal_the_dict_path_for_real_openai_chunks(server, openai_args):
    # OpenAI's own chunk shapes (service_tier, usage: null, obfuscation, escaped text, a
    # refusal key on the first chunk) read through the typed fast path must give exactly
    # what the general path (ModelResponseStream._from_openai on the shaped JSON) gives.
    def chunk(delta, finish=None, **extra):
        return {
            "id": "chatcmpl-A1",
            "object": "chat.completion.chunk",
            "created": 1730000000,
            "model": "gpt-4o-mini-2024-07-18",
            "service_tier": "default",
            "system_fingerprint": "fp_0ba0d124f1",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            "usage": None,
            **extra,
        }

    wire = [
        chunk({"role": "assistant", "content": "", "refusal": None}, obfuscation="x1"),
        chunk({"content": 'He said "hi"\n'}, obfuscation="x2"),
        chunk({"content": "naïve ☃"}),
        chunk({}, "stop", obfuscation=None),
    ]
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in wire) + "data: [DONE]\n\n"
    server.respond(body=body, headers={"content-type": "text/event-stream"})
    got = list(_stream(server, openai_args))
    hidden = got[0]._hidden_params
    # LiteLLM's rules: the empty first chunk is dropped, the next one gets the role, and
    # null usage is removed.
    shaped = [json.loads(json.dumps(c)) for c in wire[1:]]
    for c in shaped:
        del c["usage"]
    shaped[0]["choices"][0]["delta"]["role"] = "assistant"
    assert len(got) == len(shaped)
    for chunk_, expected in zip(got, shaped):
        rebuilt = ModelResponseStream._from_openai(expected, hidden)
        assert repr(chunk_) == repr(rebuilt)
        assert chunk_ == rebuilt
        assert chunk_.model_dump() == rebuilt.model_dump()
        assert [k for k in chunk_.__dict__ if not k.startswith("_")] == [
            k for k in rebuilt.__dict__ if not k.startswith("_")
        ]
    assert "".join(c.choices[0].delta.content or "" for c in got) == 'He said "hi"\nnaïve ☃'
    assert got[0].obfuscation == "x2" and not hasattr(got[1], "obfuscation")
    assert got[2].obfuscation is None and got[2].choices[0].finish_reason == "stop"


def test_stream_chunk_builder_leaves_the_chunks_alone(server, openai_args):
    # The builder reads the chunks; an application may keep or rebuild from them again.
    server.respond(text=TEXT)
    chunks = list(_stream(server, openai_args))
    before = [c.model_dump() for c in chunks]
    first = litellm.stream_chunk_builder(chunks)
    assert [c.model_dump() for c in chunks] == before
    again = litellm.stream_chunk_builder(chunks)
    assert again.choices[0].message.content == first.choices[0].message.content == TEXT
    assert again.usage.completion_tokens == first.usage.completion_tokens > 0


def test_chunks_already_received_are_handed_over_in_small_batches(server, openai_args):
    # A fast stream can have hundreds of chunks waiting; they become Python objects 64 at a
    # time as they are read (fewer live objects for the garbage collector), in order.
    words = [f"w{i} " for i in range(300)]
    server.respond(text="".join(words), stream_chunks=300)
    stream = _stream(server, openai_args)
    import time

    time.sleep(0.2)  # let every chunk arrive
    sizes, texts = [], []
    while (batch := stream._handle.next_batch()) is not None:
        sizes.append(len(batch))
        texts.extend(c.choices[0].delta.content or "" for c in batch)
    assert max(sizes) <= 64 and len(sizes) >= 5
    assert "".join(texts) == "".join(words)


def test_stream_chunk_builder_accepts_plain_dict_chunks():
    """Frameworks store or forward chunks as dicts (``chunk.model_dump()``, JSON)."""
    head = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o"}
    chunks = [
        {**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}, "finish_reason": None}]},
        {
            **head,
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "f", "arguments": "{}"},
                            }
                        ]
                    },
                    "finish_reason": "tool_calls",
                }
            ],
        },
        {**head, "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}},
    ]
    resp = litellm.stream_chunk_builder(chunks)
    assert (resp.id, resp.model, resp.created) == ("c1", "gpt-4o", 1)
    message = resp.choices[0].message
    assert message.content == "Hel"
    assert message.tool_calls[0].function.name == "f"
    assert resp.choices[0].finish_reason == "tool_calls"
    assert resp.usage.total_tokens == 5
    assert isinstance(resp.usage, litellm.Usage)
