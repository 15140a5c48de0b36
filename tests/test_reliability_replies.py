"""A 200 that is not a reply is an error, never an empty success.

For every provider rustllm routes natively, and for embeddings and text completions, a
loopback server answers 200 with bodies that are not the provider's reply (``{}``, an
unknown object echoing the API key, an HTML page, another provider's reply), and streams
whose events are not the provider's events or that end having produced nothing. Each
call, sync and async, stream and not, must raise ``APIError`` with status 500 and the
provider named, and its message must say what was missing, quote what came, and never
quote the key.

Such an error is not retried: the provider accepted the request (and may have billed
it), and a reply of the wrong shape comes back the same way. So every call here makes
exactly one request, even with ``max_retries=2`` (``test_malformed_replies_are_not_retried``).
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from faultserver import Cut, FaultServer, http, sse

import rustllm as litellm

KEY = "sk-fault-key-0123456789"
USER_HI = [{"role": "user", "content": "hi"}]
# Every call carries its own deadline: a regression hangs no test.
DEADLINE = {"timeout": 10, "max_retries": 0}
HTML = "<html><body><h1>502 Bad Gateway</h1></body></html>"

# One reply of each format, to serve to the others.
OPENAI_REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
}
ANTHROPIC_REPLY = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "content": [{"type": "text", "text": "hi"}],
    "stop_reason": "end_turn",
}
OPENAI_CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}],
}
ANTHROPIC_EVENT = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}}


@dataclass
class Provider:
    """How to point one provider at the fault server, and what it must say."""

    name: str  # llm_provider on the error
    model: str
    args: Callable[[str], dict[str, Any]]  # base URL -> call kwargs
    path: Callable[[str, bool], bool]  # (request path, stream) -> is it the right endpoint
    exc: str  # <Provider>Exception in the message
    missing: str  # what a non-stream reply lacked
    foreign: dict  # another provider's reply
    event_missing: str  # what a stream event lacked
    foreign_event: dict  # another provider's stream event
    framing: str = "sse"
    env: dict[str, str] = field(default_factory=dict)


def _keyed(suffix: str = "") -> Callable[[str], dict[str, Any]]:
    return lambda base: {"api_base": base + suffix, "api_key": KEY}


def _vertex(base: str) -> dict[str, Any]:
    # An explicit api_key is sent as the bearer token: no OAuth round trip needed.
    return {"api_base": base, "api_key": KEY, "vertex_project": "p", "vertex_location": "us-central1"}


NO_ANTHROPIC_TYPE = 'no "type" (not an Anthropic stream event)'
PROVIDERS = [
    Provider(
        "openai",
        "openai/gpt-x",
        _keyed("/v1"),
        lambda p, s: p == "/v1/chat/completions",
        "OpenAIException",
        "no 'choices' list",
        ANTHROPIC_REPLY,
        "no 'choices' list",
        ANTHROPIC_EVENT,
    ),
    Provider(
        "deepseek",
        "deepseek/deepseek-chat",
        _keyed("/v1"),
        lambda p, s: p == "/v1/chat/completions",
        "DeepseekException",
        "no 'choices' list",
        ANTHROPIC_REPLY,
        "no 'choices' list",
        ANTHROPIC_EVENT,
    ),
    Provider(
        "azure",
        "azure/my-dep",
        _keyed(),
        lambda p, s: p.startswith("/openai/deployments/my-dep/chat/completions?api-version="),
        "AzureException",
        "no 'choices' list",
        ANTHROPIC_REPLY,
        "no 'choices' list",
        ANTHROPIC_EVENT,
    ),
    Provider(
        "anthropic",
        "anthropic/claude-3-5-sonnet",
        _keyed(),
        lambda p, s: p == "/v1/messages",
        "AnthropicException",
        'not an Anthropic message (no "type": "message" with a \'content\' list)',
        OPENAI_REPLY,
        NO_ANTHROPIC_TYPE,
        OPENAI_CHUNK,
    ),
    Provider(
        "gemini",
        "gemini/gemini-2.0-flash",
        _keyed("/v1beta"),
        lambda p, s: (
            p
            == (
                "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
                if s
                else "/v1beta/models/gemini-2.0-flash:generateContent"
            )
        ),
        "GeminiException",
        "no 'candidates' list",
        OPENAI_REPLY,
        "no 'candidates' list",
        OPENAI_CHUNK,
    ),
    Provider(
        "vertex_ai",
        "vertex_ai/gemini-2.0-flash",
        _vertex,
        lambda p, s: (
            p.startswith("/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:")
            and ("streamGenerateContent" in p) == s
        ),
        "Vertex_aiException",
        "no 'candidates' list",
        OPENAI_REPLY,
        "no 'candidates' list",
        OPENAI_CHUNK,
    ),
    Provider(
        "vertex_ai",
        "vertex_ai/claude-3-5-sonnet",
        _vertex,
        lambda p, s: (
            p
            == "/v1/projects/p/locations/us-central1/publishers/anthropic/models/claude-3-5-sonnet:"
            + ("streamRawPredict" if s else "rawPredict")
        ),
        "Vertex_aiException",
        'not an Anthropic message (no "type": "message" with a \'content\' list)',
        OPENAI_REPLY,
        NO_ANTHROPIC_TYPE,
        OPENAI_CHUNK,
    ),
    Provider(
        "cohere_chat",
        "cohere_chat/command-r",
        _keyed(),
        lambda p, s: p == "/v2/chat",
        "Cohere_chatException",
        "no 'message' object",
        OPENAI_REPLY,
        'no "type" (not a Cohere stream event)',
        OPENAI_CHUNK,
    ),
    Provider(
        "ollama",
        "ollama/llama3",
        lambda base: {"api_base": base},
        lambda p, s: p == "/api/generate",
        "OllamaException",
        "no 'response' text",
        OPENAI_REPLY,
        "no 'response' text and not \"done\"",
        OPENAI_CHUNK,
        framing="ndjson",
    ),
    Provider(
        "ollama_chat",
        "ollama_chat/llama3",
        lambda base: {"api_base": base},
        lambda p, s: p == "/api/chat",
        "Ollama_chatException",
        "no 'message' object",
        OPENAI_REPLY,
        "no 'message' object and not \"done\"",
        OPENAI_CHUNK,
        framing="ndjson",
    ),
    Provider(
        "bedrock",
        "bedrock/anthropic.claude-3-sonnet",
        lambda base: {"api_base": base},
        lambda p, s: p == "/model/anthropic.claude-3-sonnet/" + ("converse-stream" if s else "converse"),
        "BedrockException",
        "no 'output.message' object",
        ANTHROPIC_REPLY,
        "not a ConverseStream event (no event type or no object)",
        ANTHROPIC_EVENT,
        framing="eventstream",
        env={"AWS_ACCESS_KEY_ID": "AKIDFAULT", "AWS_SECRET_ACCESS_KEY": "secret-fault", "AWS_REGION_NAME": "us-east-1"},
    ),
]
IDS = [p.model for p in PROVIDERS]


def _setenv(p: Provider, monkeypatch) -> None:
    """The provider's environment (AWS credentials for Bedrock), and no stray AWS one."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK", "AWS_BEDROCK_RUNTIME_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in p.env.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(params=PROVIDERS, ids=IDS)
def provider(request, monkeypatch) -> Provider:
    _setenv(request.param, monkeypatch)
    return request.param


# ---------------------------------------------------------------------------------------
# What the server sends


def _aws_frame(payload: bytes, event_type: str | None) -> bytes:
    """One AWS event-stream frame (prelude, CRCs, string headers)."""
    headers = {":message-type": "event", ":content-type": "application/json"}
    if event_type is not None:
        headers[":event-type"] = event_type
    head = b""
    for k, v in headers.items():
        head += bytes([len(k)]) + k.encode() + b"\x07" + struct.pack(">H", len(v)) + v.encode()
    prelude = struct.pack(">II", 12 + len(head) + len(payload) + 4, len(head))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + head + payload
    return message + struct.pack(">I", zlib.crc32(message))


def _stream(p: Provider, events: list[dict]) -> bytes:
    """A complete 200 stream of `events` in the provider's framing."""
    if p.framing == "ndjson":
        return http(200, "".join(json.dumps(e) + "\n" for e in events), {"content-type": "application/x-ndjson"})
    if p.framing == "eventstream":
        frames = b"".join(_aws_frame(json.dumps(e).encode(), None) for e in events)
        return http(200, frames, {"content-type": "application/vnd.amazon.eventstream"})
    return sse(events)


def _bad_replies(p: Provider) -> list[tuple[str, bytes, str]]:
    """(id, the whole HTTP reply, what the message must say) for a non-stream call."""
    return [
        ("empty-object", http(200, {}), p.missing),
        ("unknown-object-with-key", http(200, {"foo": 1, "echo": KEY}), p.missing),
        ("html", http(200, HTML, {"content-type": "text/html"}), "not a JSON object"),
        ("other-provider", http(200, p.foreign), p.missing),
    ]


def _bad_streams(p: Provider) -> list[tuple[str, bytes, str]]:
    """(id, the whole HTTP reply, what the message must say) for a stream call."""
    html_says = {
        "sse": "the stream held no server-sent events",
        "ndjson": "not JSON (expected value at line 1 column 1)",
        "eventstream": "not an AWS event-stream (prelude CRC mismatch)",
    }[p.framing]
    cases = [
        ("empty-event", _stream(p, [{}]), p.event_missing),
        ("unknown-event-with-key", _stream(p, [{"foo": 1, "echo": KEY}]), p.event_missing),
        ("html", http(200, HTML, {"content-type": "text/html"}), html_says),
        ("other-provider", _stream(p, [p.foreign_event]), p.event_missing),
    ]
    if p.framing == "eventstream":
        # A named event whose payload is not an object, and an unnamed frame.
        cases[0] = ("unnamed-frame", http(200, _aws_frame(b"{}", None)), p.event_missing)
        cases[1] = ("non-object-payload", http(200, _aws_frame(b"[1]", "contentBlockDelta")), p.event_missing)
    return cases


# ---------------------------------------------------------------------------------------
# Checks


def _check(err: BaseException, p: Provider, where: str, what: str) -> None:
    assert isinstance(err, litellm.APIError), repr(err)
    assert err.status_code == 500
    assert err.llm_provider == p.name
    assert f"{p.exc} - {where}: {what}" in str(err), str(err)
    assert ". Received: " in str(err)
    # The call's key never appears, even when the provider echoes it back.
    if p.args("http://h").get("api_key") == KEY:
        assert KEY not in str(err)
        assert KEY not in repr(err)


def _check_received(srv: FaultServer, p: Provider, stream: bool) -> None:
    # One request: the call went out once, to the provider's endpoint, and was not retried.
    assert len(srv.requests) == 1, [r.path for r in srv.requests]
    req = srv.requests[0]
    assert req.method == "POST"
    assert p.path(req.path, stream), req.path
    if p.framing != "eventstream" and not p.name.startswith(("gemini", "vertex")):
        assert req.json().get("stream", False) is stream


def _complete(p: Provider, base: str, stream: bool) -> Any:
    return litellm.completion(model=p.model, messages=USER_HI, stream=stream, **p.args(base), **DEADLINE)


async def _acomplete(p: Provider, base: str, stream: bool) -> Any:
    return await litellm.acompletion(model=p.model, messages=USER_HI, stream=stream, **p.args(base), **DEADLINE)


def _cases(kind: str) -> list:
    out = []
    for p in PROVIDERS:
        for case_id, _, _ in (_bad_replies if kind == "reply" else _bad_streams)(p):
            out.append(pytest.param(p, case_id, id=f"{p.model}-{case_id}"))
    return out


def _pick(cases: list[tuple[str, bytes, str]], case_id: str) -> tuple[bytes, str]:
    return next((reply, what) for cid, reply, what in cases if cid == case_id)


# ---------------------------------------------------------------------------------------
# Chat completions, every provider


@pytest.mark.parametrize(("p", "case_id"), _cases("reply"))
def test_a_bad_200_reply_raises_api_error(p, case_id, monkeypatch):
    _setenv(p, monkeypatch)
    reply, what = _pick(_bad_replies(p), case_id)
    with FaultServer(lambda req: reply) as srv:
        with pytest.raises(litellm.APIError) as info:
            _complete(p, srv.base_url, stream=False)
        _check(info.value, p, "Invalid response from the provider", what)
        _check_received(srv, p, stream=False)


@pytest.mark.parametrize(("p", "case_id"), _cases("reply"))
async def test_a_bad_200_reply_raises_api_error_async(p, case_id, monkeypatch):
    _setenv(p, monkeypatch)
    reply, what = _pick(_bad_replies(p), case_id)
    with FaultServer(lambda req: reply) as srv:
        with pytest.raises(litellm.APIError) as info:
            await _acomplete(p, srv.base_url, stream=False)
        _check(info.value, p, "Invalid response from the provider", what)
        _check_received(srv, p, stream=False)


@pytest.mark.parametrize(("p", "case_id"), _cases("stream"))
def test_a_bad_stream_raises_api_error_from_the_iterator(p, case_id, monkeypatch):
    _setenv(p, monkeypatch)
    reply, what = _pick(_bad_streams(p), case_id)
    with FaultServer(lambda req: reply) as srv:
        stream = _complete(p, srv.base_url, stream=True)
        received = []
        with pytest.raises(litellm.APIError) as info:
            for chunk in stream:
                received.append(chunk)
        # Nothing was made up: no chunk came out of a stream holding no reply.
        assert received == []
        _check(info.value, p, "Invalid chunk in the stream", what)
        _check_received(srv, p, stream=True)


@pytest.mark.parametrize(("p", "case_id"), _cases("stream"))
async def test_a_bad_stream_raises_api_error_from_the_async_iterator(p, case_id, monkeypatch):
    _setenv(p, monkeypatch)
    reply, what = _pick(_bad_streams(p), case_id)
    with FaultServer(lambda req: reply) as srv:
        stream = await _acomplete(p, srv.base_url, stream=True)
        received = []
        with pytest.raises(litellm.APIError) as info:
            async for chunk in stream:
                received.append(chunk)
        assert received == []
        _check(info.value, p, "Invalid chunk in the stream", what)
        _check_received(srv, p, stream=True)


def test_malformed_replies_are_not_retried(provider):
    p = provider
    with FaultServer(lambda req: http(200, {})) as srv:
        with pytest.raises(litellm.APIError) as info:
            litellm.completion(model=p.model, messages=USER_HI, **p.args(srv.base_url), timeout=10, max_retries=2)
        assert len(srv.requests) == 1
        # Nothing was retried, so the error records no retries.
        assert "LiteLLM Retried" not in str(info.value)


def test_a_blocked_gemini_prompt_is_a_content_policy_error():
    # Google answers a blocked prompt with no candidates and says why: that is the
    # prompt's fault (ContentPolicyViolationError, 400), not a malformed reply.
    blocked = http(200, {"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []}})
    for p in PROVIDERS:
        if p.missing != "no 'candidates' list":
            continue
        with FaultServer(lambda req: blocked) as srv:
            with pytest.raises(litellm.ContentPolicyViolationError) as info:
                _complete(p, srv.base_url, stream=False)
            assert info.value.status_code == 400
            assert "blockReason=SAFETY" in str(info.value)
            assert len(srv.requests) == 1
        with FaultServer(lambda req: sse([{"promptFeedback": {"blockReason": "SAFETY"}}])) as srv:
            with pytest.raises(litellm.ContentPolicyViolationError):
                for _ in _complete(p, srv.base_url, stream=True):
                    pass


# ---------------------------------------------------------------------------------------
# Streams that end having produced nothing, or cut mid-way

OPENAI = PROVIDERS[0]
ANTHROPIC = next(p for p in PROVIDERS if p.name == "anthropic")


def test_done_with_no_chunk_is_an_error_not_an_empty_stream():
    for p, events in (
        (OPENAI, ["[DONE]"]),
        (ANTHROPIC, [{"type": "message_start", "message": {}}, {"type": "message_stop"}]),
    ):
        with FaultServer(lambda req, events=events: sse(events)) as srv:
            with pytest.raises(litellm.APIError) as info:
                for _ in _complete(p, srv.base_url, stream=True):
                    pass
            _check(
                info.value, p, "Invalid chunk in the stream", "the provider ended the stream without sending any chunk"
            )
            assert len(srv.requests) == 1


def test_a_stream_cut_before_any_chunk_raises():
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    with FaultServer(lambda req: Cut(head)) as srv:
        with pytest.raises(litellm.APIConnectionError) as info:
            for _ in _complete(OPENAI, srv.base_url, stream=True):
                pass
        assert info.value.status_code == 500
        assert len(srv.requests) == 1


def test_a_stream_cut_mid_way_delivers_what_came_then_raises():
    data = f"data: {json.dumps(OPENAI_CHUNK)}\n\n".encode()
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    # Twice the chunk's length announced, one chunk sent: the body is cut mid-way.
    reply = Cut(head + f"content-length: {2 * len(data)}\r\n\r\n".encode() + data)
    with FaultServer(lambda req: reply) as srv:
        received = []
        with pytest.raises(litellm.APIConnectionError):
            for chunk in _complete(OPENAI, srv.base_url, stream=True):
                received.append(chunk.choices[0].delta.content)
        assert received == ["hi"]


def test_a_bad_event_after_good_ones_delivers_them_then_raises():
    with FaultServer(lambda req: sse([OPENAI_CHUNK, {"foo": 1}, "[DONE]"])) as srv:
        received = []
        with pytest.raises(litellm.APIError) as info:
            for chunk in _complete(OPENAI, srv.base_url, stream=True):
                received.append(chunk.choices[0].delta.content)
        assert received == ["hi"]
        _check(info.value, OPENAI, "Invalid chunk in the stream", "no 'choices' list")


def test_legitimate_events_without_content_still_stream():
    # OpenAI's usage chunk has `choices: []`; Azure opens with a prompt-filter chunk.
    usage = {"id": "c", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
    prompt_filter = {"id": "", "choices": [], "created": 0, "model": "", "object": "", "prompt_filter_results": []}
    finish = {**OPENAI_CHUNK, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    events = [prompt_filter, OPENAI_CHUNK, finish, usage, "[DONE]"]
    with FaultServer(lambda req: sse(events)) as srv:
        chunks = list(
            litellm.completion(
                model=OPENAI.model,
                messages=USER_HI,
                stream=True,
                stream_options={"include_usage": True},
                **OPENAI.args(srv.base_url),
                **DEADLINE,
            )
        )
    assert [(c.choices[0].delta.content, c.choices[0].finish_reason) for c in chunks] == [
        ("hi", None),
        (None, "stop"),
        (None, None),
    ]
    assert chunks[-1].usage.total_tokens == 2


# ---------------------------------------------------------------------------------------
# Embeddings and text completions

EMBEDDERS = [
    pytest.param("openai/text-embedding-3-small", _keyed("/v1"), "/v1/embeddings", "OpenAIException", id="openai"),
    pytest.param("azure/emb-dep", _keyed(), "/openai/deployments/emb-dep/embeddings", "AzureException", id="azure"),
]
BAD_EMBEDDINGS = [
    pytest.param(http(200, {}), "no 'data' list", id="empty-object"),
    pytest.param(http(200, {"object": "list", "echo": KEY}), "no 'data' list", id="no-data-with-key"),
    pytest.param(http(200, HTML, {"content-type": "text/html"}), "not a JSON object", id="html"),
    pytest.param(http(200, OPENAI_REPLY), "no 'data' list", id="chat-reply"),
]


@pytest.mark.parametrize(("model", "args", "path", "exc"), EMBEDDERS)
@pytest.mark.parametrize(("reply", "what"), BAD_EMBEDDINGS)
async def test_embeddings_without_data_raise(model, args, path, exc, reply, what):
    provider = model.split("/")[0]
    p = Provider(provider, model, args, lambda x, s: True, exc, what, {}, "", {})
    with FaultServer(lambda req: reply) as srv:
        with pytest.raises(litellm.APIError) as info:
            litellm.embedding(model=model, input=["a"], **args(srv.base_url), **DEADLINE)
        _check(info.value, p, "Invalid response from the provider", what)
        with pytest.raises(litellm.APIError) as info:
            await litellm.aembedding(model=model, input=["a"], **args(srv.base_url), **DEADLINE)
        _check(info.value, p, "Invalid response from the provider", what)
        assert [r.path.split("?")[0] for r in srv.requests] == [path, path]


TEXT = Provider(
    "text-completion-openai",
    "text-completion-openai/gpt-3.5-turbo-instruct",
    _keyed("/v1"),
    lambda p, s: p == "/v1/completions",
    "OpenAIException",
    "no 'choices' list",
    ANTHROPIC_REPLY,
    "no 'choices' list",
    ANTHROPIC_EVENT,
)


@pytest.mark.parametrize("case_id", [c[0] for c in _bad_replies(TEXT)])
async def test_text_completions_without_choices_raise(case_id):
    reply, what = _pick(_bad_replies(TEXT), case_id)
    with FaultServer(lambda req: reply) as srv:
        with pytest.raises(litellm.APIError) as info:
            litellm.text_completion(model=TEXT.model, prompt="hi", **TEXT.args(srv.base_url), **DEADLINE)
        _check(info.value, TEXT, "Invalid response from the provider", what)
        with pytest.raises(litellm.APIError) as info:
            await litellm.atext_completion(model=TEXT.model, prompt="hi", **TEXT.args(srv.base_url), **DEADLINE)
        _check(info.value, TEXT, "Invalid response from the provider", what)
        assert [r.path for r in srv.requests] == ["/v1/completions", "/v1/completions"]


@pytest.mark.parametrize("case_id", [c[0] for c in _bad_streams(TEXT)])
async def test_text_completion_streams_of_the_wrong_shape_raise(case_id):
    reply, what = _pick(_bad_streams(TEXT), case_id)
    with FaultServer(lambda req: reply) as srv:
        with pytest.raises(litellm.APIError) as info:
            for _ in litellm.text_completion(
                model=TEXT.model, prompt="hi", stream=True, **TEXT.args(srv.base_url), **DEADLINE
            ):
                pass
        _check(info.value, TEXT, "Invalid chunk in the stream", what)
        with pytest.raises(litellm.APIError) as info:
            stream = await litellm.atext_completion(
                model=TEXT.model, prompt="hi", stream=True, **TEXT.args(srv.base_url), **DEADLINE
            )
            async for _ in stream:
                pass
        _check(info.value, TEXT, "Invalid chunk in the stream", what)
        assert [r.json()["stream"] for r in srv.requests] == [True, True]
