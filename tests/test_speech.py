"""speech / aspeech through the public API, against MockServer: what went over the wire
and the audio that came back (HttpxBinaryResponseContent, stream_to_file, its cost),
for OpenAI and Azure, with callbacks, retries, errors and the Router."""

from __future__ import annotations

import asyncio
import time

import pytest

import rustllm as litellm
from rustllm import HttpxBinaryResponseContent


def test_speech_posts_openais_body_and_returns_the_audio(server, openai_args, tmp_path):
    resp = litellm.speech(
        model="tts-1", input="hello there", voice="alloy", response_format="wav", speed=1.25, **openai_args
    )
    req = server.last_request
    assert req.path == "/v1/audio/speech"
    assert req.headers["authorization"] == "Bearer sk-test-key"
    assert req.body == {
        "model": "tts-1",
        "input": "hello there",
        "voice": "alloy",
        "response_format": "wav",
        "speed": 1.25,
    }
    assert isinstance(resp, HttpxBinaryResponseContent)
    assert resp.content == b"MOCKAUDIO:wav:alloy:hello there"
    assert resp.headers["content-type"] == "audio/wav"
    assert b"".join(resp.iter_bytes(4)) == resp.content and resp.read() == resp.content
    out = tmp_path / "speech.wav"
    resp.stream_to_file(out)
    assert out.read_bytes() == resp.content
    # tts-1 is priced per character: 11 characters at $15 a million.
    assert resp._hidden_params["response_cost"] == pytest.approx(11 * 1.5e-05)
    assert resp._hidden_params["custom_llm_provider"] == "openai"


def test_azure_deployment_url_and_key_header(server):
    resp = litellm.speech(
        model="azure/my-tts",
        input="hi",
        voice="nova",
        api_base=server.url,
        api_key="az-key",
        api_version="2025-03-01-preview",
        max_retries=0,
    )
    req = server.last_request
    assert req.path == "/openai/deployments/my-tts/audio/speech"
    assert req.query == "api-version=2025-03-01-preview"
    assert req.headers["api-key"] == "az-key"
    assert resp.content == b"MOCKAUDIO:mp3:nova:hi"


async def test_aspeech_and_astream_to_file(server, openai_args, tmp_path):
    resp = await litellm.aspeech(model="tts-1-hd", input="async", voice="echo", **openai_args)
    assert resp.content == b"MOCKAUDIO:mp3:echo:async"
    out = tmp_path / "a.mp3"
    await resp.astream_to_file(out)
    assert out.read_bytes() == resp.content
    assert resp._hidden_params["response_cost"] == pytest.approx(5 * 3e-05)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"input": "", "voice": "alloy"}, "input must not be empty"),
        ({"input": 3, "voice": "alloy"}, "input must be a string"),
        ({"input": "x"}, "voice is required"),
        ({"input": "x", "voice": "alloy", "response_format": "mp4"}, "response_format must be one of"),
        ({"input": "x", "voice": "alloy", "speed": "fast"}, "speed must be a number"),
    ],
)
def test_bad_inputs_fail_before_any_request(server, openai_args, kwargs, match):
    with pytest.raises(litellm.BadRequestError, match=match):
        litellm.speech(model="tts-1", **kwargs, **openai_args)
    assert server.requests == []


def test_unserved_provider(server):
    with pytest.raises(litellm.BadRequestError, match="speech for OpenAI-format providers and Azure"):
        litellm.speech(model="anthropic/claude-x", input="x", voice="alloy", api_key="k", api_base=server.url)
    assert server.requests == []


def test_errors_are_mapped_and_retried(server, openai_args):
    server.fail_next(1, status=429)
    with pytest.raises(litellm.RateLimitError):
        litellm.speech(model="tts-1", input="x", voice="alloy", **openai_args)
    server.reset()
    server.fail_next(1, status=503)
    resp = litellm.speech(model="tts-1", input="x", voice="alloy", **{**openai_args, "max_retries": 1})
    assert server.request_count == 2
    assert resp.content == b"MOCKAUDIO:mp3:alloy:x"


def test_callbacks_and_mock_response(server, openai_args, monkeypatch):
    seen = []
    monkeypatch.setattr(
        litellm,
        "success_callback",
        [lambda kwargs, resp, *_: seen.append((kwargs["call_type"], resp, kwargs["input"]))],
    )
    litellm.speech(model="tts-1", input="x", voice="alloy", **openai_args)
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:  # success callbacks run on a worker
        time.sleep(0.01)
    assert [(c, i) for c, _, i in seen] == [("speech", "x")]
    assert isinstance(seen[0][1], HttpxBinaryResponseContent)
    server.reset()
    resp = litellm.speech(model="tts-1", input="x", voice="alloy", mock_response="RIFF....")
    assert resp.content == b"RIFF...." and server.requests == []


def test_router_speech_and_aspeech(server):
    router = litellm.Router(
        model_list=[
            {
                "model_name": "voice",
                "litellm_params": {"model": "openai/tts-1", "api_base": server.base_url, "api_key": "k"},
                "model_info": {"id": "voice-1"},
            }
        ],
        num_retries=1,
    )
    server.fail_next(1, status=500)
    resp = router.speech(model="voice", input="routed", voice="alloy")
    assert server.request_count == 2
    assert server.last_request.body == {"model": "tts-1", "input": "routed", "voice": "alloy"}
    assert resp.content == b"MOCKAUDIO:mp3:alloy:routed"
    assert resp._hidden_params["model_id"] == "voice-1"
    resp = asyncio.run(router.aspeech(model="voice", input="async", voice="echo"))
    assert resp.content == b"MOCKAUDIO:mp3:echo:async"
