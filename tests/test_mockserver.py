"""rustllm.testing.MockServer: what a plain HTTP client sends and gets back.

Only the standard library talks to the server here, so these tests prove the mock's wire
format on its own, independent of rustllm's client.
"""

from __future__ import annotations

import base64
import http.client
import json
import struct
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from rustllm.testing import MockServer, RecordedRequest


@pytest.fixture
def server():
    with MockServer() as s:
        yield s


def post(server: MockServer, path: str, body: Any, headers: dict | None = None):
    """POST JSON (or raw bytes); returns (status, headers, parsed body)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        server.base_url + path,
        data=data,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, resp_headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, resp_headers, raw = error.code, error.headers, error.read()
    try:
        return status, resp_headers, json.loads(raw)
    except ValueError:
        return status, resp_headers, raw.decode()


def chat(server: MockServer, model: str = "gpt-4o-mini", content: Any = "hi there", **extra):
    body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
    status, _, parsed = post(server, "/chat/completions", body)
    return status, parsed


def stream(server: MockServer, body: dict) -> tuple[list[Any], bool]:
    """Stream a chat request; returns (decoded events, whether [DONE] arrived)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(
        "POST",
        "/v1/chat/completions",
        json.dumps({**body, "stream": True}),
        {"Content-Type": "application/json"},
    )
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("content-type") == "text/event-stream"
    raw = b""
    try:
        while True:
            piece = response.read1(65536)
            if not piece:
                break
            raw += piece
    except http.client.IncompleteRead as broken:
        raw += broken.partial
    finally:
        conn.close()
    events, done = [], False
    for block in raw.decode().split("\n\n"):
        if not block:
            continue
        assert block.startswith("data: ")
        payload = block[len("data: ") :]
        if payload == "[DONE]":
            done = True
        else:
            events.append(json.loads(payload))
    return events, done


# -- lifecycle -------------------------------------------------------------------------


def test_urls_and_lifecycle():
    server = MockServer()
    with pytest.raises(RuntimeError):
        _ = server.base_url
    server.start()
    assert server.running
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.base_url == server.url + "/v1"
    port = server.port
    server.stop()
    server.stop()
    assert not server.running
    with pytest.raises(OSError):
        http.client.HTTPConnection("127.0.0.1", port, timeout=2).connect()
    with MockServer() as again:
        assert chat(again)[0] == 200


# -- chat --------------------------------------------------------------------------------


def test_default_completion(server):
    status, body = chat(server)
    assert status == 200
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-mock-")
    assert body["model"] == "gpt-4o-mini"
    assert "system_fingerprint" not in body
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello from MockServer!"},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert body["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}


def test_default_text_setting():
    with MockServer(text="configured reply") as server:
        assert chat(server)[1]["choices"][0]["message"]["content"] == "configured reply"
        server.default_text = "changed"
        assert server.default_text == "changed"
        assert chat(server)[1]["choices"][0]["message"]["content"] == "changed"


def test_echo_with_string_and_parts(server):
    assert chat(server, "openai/echo", "repeat me")[1]["choices"][0]["message"]["content"] == ("repeat me")
    parts = [
        {"type": "text", "text": "a"},
        {"type": "image_url", "image_url": {"url": "x"}},
        {"type": "text", "text": "b"},
    ]
    assert chat(server, "echo", parts)[1]["choices"][0]["message"]["content"] == "a\nb"


def test_n_choices_and_usage(server):
    _, body = chat(server, n=3)
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert body["usage"]["completion_tokens"] == 9


@pytest.mark.parametrize("key", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_truncates_to_words(server, key):
    _, body = chat(server, **{key: 2})
    assert body["choices"][0]["message"]["content"] == "Hello from"
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 2


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"},
                "detailed": {"type": "boolean"},
                "hours": {"type": "array", "items": {"type": "integer"}},
                "where": {"type": "object", "properties": {"lat": {"type": "number"}}},
            },
            "required": ["city"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}},
    },
}


def test_tool_call_from_schema(server):
    _, body = chat(server, "mock-tool", tools=[WEATHER, TIME])
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    [call] = choice["message"]["tool_calls"]
    assert call["id"].startswith("call_") and len(call["id"]) == len("call_") + 24
    assert call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    assert isinstance(call["function"]["arguments"], str)
    assert json.loads(call["function"]["arguments"]) == {
        "city": "example",
        "unit": "celsius",
        "days": 1,
        "detailed": True,
        "hours": [],
        "where": {"lat": 1},
    }


def test_tool_choice_required_named_and_none(server):
    _, body = chat(server, tools=[WEATHER, TIME], tool_choice="required")
    names = [c["function"]["name"] for c in body["choices"][0]["message"]["tool_calls"]]
    assert names == ["get_weather", "get_time"]

    _, body = chat(server, tools=[WEATHER, TIME], tool_choice="required", parallel_tool_calls=False)
    assert len(body["choices"][0]["message"]["tool_calls"]) == 1

    named = {"type": "function", "function": {"name": "get_time"}}
    _, body = chat(server, tools=[WEATHER, TIME], tool_choice=named)
    [call] = body["choices"][0]["message"]["tool_calls"]
    assert call["function"] == {"name": "get_time", "arguments": '{"tz":"example"}'}

    _, body = chat(server, "tool", tools=[WEATHER], tool_choice="none")
    assert body["choices"][0]["finish_reason"] == "stop"


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500, 503])
def test_error_directive(server, status):
    code, body = chat(server, f"openai/error-{status}")
    assert code == status
    assert body["error"]["message"] == f"Mock error {status}"
    assert set(body["error"]) == {"message", "type", "param", "code"}


def test_context_window_error(server):
    status, body = chat(server, "context-window-error")
    assert status == 400
    assert body == {
        "error": {
            "message": "This model's maximum context length is 8192 tokens. However, your "
            "messages resulted in 9000 tokens.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
    }


def test_content_policy_error(server):
    status, body = chat(server, "content-policy-error")
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["code"] == "content_policy_violation"
    assert body["error"]["message"] == ("Your request was rejected as a result of our safety system.")


def test_unknown_path_and_bad_json(server):
    status, _, body = post(server, "/nope", {"model": "x"})
    assert status == 404
    assert body["error"]["message"] == "Invalid URL (POST /v1/nope)"
    status, _, body = post(server, "/chat/completions", b"{oops")
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"
    assert server.last_request.body == "{oops"


# -- scripts -----------------------------------------------------------------------------


def test_scripts_are_fifo_with_times_and_headers(server):
    server.respond(text="first", times=2, headers={"X-Mock": "yes"})
    server.respond(status=429, error="slow down", headers=[("Retry-After", "7")])
    server.respond(body={"anything": [1, 2]}, status=200)
    for _ in range(2):
        status, headers, body = post(server, "/chat/completions", {"model": "m", "messages": []})
        assert status == 200 and headers["x-mock"] == "yes"
        assert body["choices"][0]["message"]["content"] == "first"
    status, headers, body = post(server, "/chat/completions", {"model": "m", "messages": []})
    assert (status, headers["retry-after"], body["error"]["message"]) == (429, "7", "slow down")
    assert chat(server) == (200, {"anything": [1, 2]})
    assert chat(server)[1]["choices"][0]["message"]["content"] == "Hello from MockServer!"


def test_script_beats_model_directive(server):
    server.respond(text="scripted")
    status, body = chat(server, "error-500")
    assert status == 200 and body["choices"][0]["message"]["content"] == "scripted"


def test_raw_text_body(server):
    server.respond(status=502, body="<html>Bad gateway</html>")
    status, headers, body = post(server, "/chat/completions", {"model": "m", "messages": []})
    assert (status, body) == (502, "<html>Bad gateway</html>")
    assert headers["content-type"].startswith("text/plain")


def test_fail_next(server):
    server.fail_next(2, status=503, headers={"Retry-After": "0"})
    for _ in range(2):
        status, headers, body = post(server, "/chat/completions", {"model": "m", "messages": []})
        assert status == 503 and headers["retry-after"] == "0"
        assert body["error"]["message"] == "Mock error 503"
    assert chat(server)[0] == 200
    server.fail_next(1, status=401, message="bad key")
    assert chat(server)[1]["error"]["message"] == "bad key"


def test_reset_forgets_requests_and_scripts(server):
    server.fail_next(3)
    chat(server)
    server.reset()
    assert server.requests == [] and server.last_request is None
    assert chat(server)[0] == 200


def test_disconnect_is_a_connection_error(server):
    server.respond(disconnect=True)
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
        chat(server)
    assert server.request_count == 1
    assert chat(server)[0] == 200


def test_latency_and_delays():
    with MockServer(latency=0.05) as server:
        assert server.latency == pytest.approx(0.05)
        started = time.perf_counter()
        chat(server)
        assert time.perf_counter() - started >= 0.05
        server.latency = 0.0
        server.respond(delay=0.04)
        started = time.perf_counter()
        chat(server)
        assert time.perf_counter() - started >= 0.04
        started = time.perf_counter()
        chat(server, "slow-30")
        assert time.perf_counter() - started >= 0.03
        with pytest.raises(ValueError):
            server.latency = -1


# -- embeddings ---------------------------------------------------------------------------


def test_embeddings(server):
    status, _, body = post(server, "/embeddings", {"model": "text-embedding-3-small", "input": ["a b", "c", "a b"]})
    assert status == 200
    assert body["object"] == "list" and body["model"] == "text-embedding-3-small"
    vectors = [d["embedding"] for d in body["data"]]
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    assert all(d["object"] == "embedding" for d in body["data"])
    assert [len(v) for v in vectors] == [8, 8, 8]
    assert vectors[0] == vectors[2] != vectors[1]
    assert body["usage"] == {"prompt_tokens": 5, "total_tokens": 5}

    _, _, single = post(server, "/embeddings", {"model": "e", "input": "a b", "dimensions": 3})
    assert len(single["data"]) == 1 and len(single["data"][0]["embedding"]) == 3

    _, _, tokens = post(server, "/embeddings", {"model": "e", "input": [[1, 2], [3]]})
    assert len(tokens["data"]) == 2 and tokens["usage"]["prompt_tokens"] == 3


def test_embeddings_base64_decodes_to_the_floats(server):
    _, _, floats = post(server, "/embeddings", {"model": "e", "input": "x", "dimensions": 5})
    _, _, b64 = post(
        server,
        "/embeddings",
        {"model": "e", "input": "x", "dimensions": 5, "encoding_format": "base64"},
    )
    decoded = struct.unpack("<5f", base64.b64decode(b64["data"][0]["embedding"]))
    assert list(decoded) == floats["data"][0]["embedding"]


def test_legacy_completion_and_models(server):
    _, _, body = post(server, "/completions", {"model": "echo", "prompt": "say this"})
    assert body["object"] == "text_completion"
    assert body["choices"] == [{"text": "say this", "index": 0, "finish_reason": "stop", "logprobs": None}]
    with urllib.request.urlopen(server.base_url + "/models", timeout=10) as response:
        models = json.loads(response.read())
    assert models["object"] == "list" and models["data"]


# -- streaming ----------------------------------------------------------------------------


def test_stream_framing_with_usage(server):
    events, done = stream(
        server,
        {
            "model": "gpt",
            "messages": [{"role": "user", "content": "hi"}],
            "stream_options": {"include_usage": True},
        },
    )
    assert done
    assert all(e["object"] == "chat.completion.chunk" for e in events)
    assert len({e["id"] for e in events}) == 1
    assert events[0]["choices"] == [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]
    contents = [e["choices"][0]["delta"]["content"] for e in events[1:-2]]
    assert contents == ["Hello", " from", " MockServer!"]
    assert events[-2]["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    assert events[-1]["choices"] == []
    assert events[-1]["usage"] == {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4}


def test_stream_chunk_counts(server):
    events, done = stream(server, {"model": "chunks-5", "messages": []})
    assert done and len(events) == 1 + 5 + 1
    server.respond(stream_chunks=2, text="one two three")
    events, _ = stream(server, {"model": "gpt", "messages": []})
    contents = [e["choices"][0]["delta"]["content"] for e in events[1:-1]]
    assert len(contents) == 2 and "".join(contents) == "one two three"


def test_stream_tool_call_fragments(server):
    events, done = stream(server, {"model": "gpt", "messages": [], "tools": [WEATHER], "tool_choice": "required"})
    assert done
    head = events[1]["choices"][0]["delta"]["tool_calls"][0]
    assert head["index"] == 0 and head["type"] == "function" and head["id"].startswith("call_")
    assert head["function"] == {"name": "get_weather", "arguments": ""}
    arguments = "".join(e["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] for e in events[2:-1])
    assert json.loads(arguments)["city"] == "example"
    assert events[-1]["choices"][0]["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("chunk_delay", [0.0, 0.005])
def test_stream_break_after(server, chunk_delay):
    server.respond(break_after=3, chunk_delay=chunk_delay)
    events, done = stream(server, {"model": "gpt", "messages": []})
    assert not done
    assert len(events) == 3


# -- recording ----------------------------------------------------------------------------


def test_requests_are_recorded(server):
    post(
        server,
        "/chat/completions?api-version=2024-06-01",
        {"model": "m", "messages": [{"role": "user", "content": "x"}]},
        headers={"Authorization": "Bearer sk-test", "X-Trace": "abc"},
    )
    with urllib.request.urlopen(server.base_url + "/models", timeout=10):
        pass
    first, second = server.requests
    assert isinstance(first, RecordedRequest)
    assert first.method == "POST" and first["method"] == "POST"
    assert first.path == "/v1/chat/completions"
    assert first.query == "api-version=2024-06-01"
    assert first.headers["authorization"] == "Bearer sk-test"
    assert first.headers["x-trace"] == "abc"
    assert first.body == {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    assert first["body"]["model"] == "m"
    assert (second.method, second.path, second.body) == ("GET", "/v1/models", None)
    assert server.last_request == second


def test_recording_can_be_turned_off():
    with MockServer(record=False) as server:
        assert not server.recording
        chat(server)
        assert server.requests == [] and server.request_count == 1
        server.recording = True
        chat(server)
        assert len(server.requests) == 1 and server.request_count == 2
