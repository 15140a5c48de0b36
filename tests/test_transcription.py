"""transcription / atranscription through the public API, against MockServer: what went
over the wire (the multipart fields and the file whole), the TranscriptionResponse that
came back in each response_format and its cost, for OpenAI, Azure and Groq, every kind
of `file`, callbacks, retries, errors, the Router, and the memory claim (a 20 MB file is
streamed from disk, not held in memory)."""

from __future__ import annotations

import asyncio
import glob
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

import rustllm as litellm
from rustllm.types.utils import TranscriptionResponse

AUDIO = bytes(range(256)) * 64  # 16,384 bytes: 1.024 s at the mock's 16,000 bytes a second


@pytest.fixture
def audio_file(tmp_path):
    path = tmp_path / "talk.mp3"
    path.write_bytes(AUDIO)
    return path


def _spooled() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "rustllm-upload-*")))


def test_transcription_posts_the_file_and_fields(server, openai_args, audio_file):
    with open(audio_file, "rb") as f:
        resp = litellm.transcription(
            model="whisper-1",
            file=f,
            language="en",
            prompt="names",
            temperature=0.2,
            response_format="verbose_json",
            timestamp_granularities=["word", "segment"],
            **openai_args,
        )
    req = server.last_request
    assert req.path == "/v1/audio/transcriptions"
    assert req.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert req.headers["authorization"] == "Bearer sk-test-key"
    assert int(req.headers["content-length"]) > len(AUDIO)
    file = req.body.pop("file")
    assert file["filename"] == "talk.mp3" and file["content_type"] == "audio/mpeg"
    assert file["size"] == len(AUDIO) and file["sha256"] == hashlib.sha256(AUDIO).hexdigest()
    assert req.body == {
        "model": "whisper-1",
        "language": "en",
        "prompt": "names",
        "temperature": "0.2",
        "response_format": "verbose_json",
        "timestamp_granularities": ["word", "segment"],
    }
    assert isinstance(resp, TranscriptionResponse)
    assert resp.text == "MOCKTRANSCRIPT:talk.mp3:16384:en:names"
    assert resp.duration == 1.02 and resp.language == "en" and resp.task == "transcribe"
    assert resp.words[0]["word"] == resp.text and resp["segments"][0]["text"] == resp.text
    # whisper-1 is priced per second: 1.02 s at $0.0001.
    assert resp._hidden_params["response_cost"] == pytest.approx(1.02 * 0.0001)
    assert resp._hidden_params["custom_llm_provider"] == "openai"
    assert litellm.completion_cost(resp, call_type="transcription") == pytest.approx(1.02 * 0.0001)


@pytest.mark.parametrize(
    ("response_format", "text"),
    [
        (None, "MOCKTRANSCRIPT:a.wav:3::"),
        ("json", "MOCKTRANSCRIPT:a.wav:3::"),
        ("text", "MOCKTRANSCRIPT:a.wav:3::"),
        ("srt", "1\n00:00:00,000 --> 00:00:01,000\nMOCKTRANSCRIPT:a.wav:3::\n\n"),
        ("vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nMOCKTRANSCRIPT:a.wav:3::\n\n"),
    ],
)
def test_every_response_format_is_a_transcription_response(server, openai_args, response_format, text):
    resp = litellm.transcription(
        model="whisper-1", file=("a.wav", b"abc"), response_format=response_format, **openai_args
    )
    assert isinstance(resp, TranscriptionResponse) and resp.text == text
    sent = server.last_request.body
    assert sent["file"]["filename"] == "a.wav" and sent["file"]["content"] == "abc"
    assert sent.get("response_format") == response_format


def test_every_kind_of_file(server, openai_args, audio_file):
    before = _spooled()
    kinds = [
        (str(audio_file), "talk.mp3"),
        (audio_file, "talk.mp3"),
        (AUDIO, "upload"),
        (bytearray(AUDIO), "upload"),
        (("clip.m4a", AUDIO), "clip.m4a"),
        (("clip.ogg", io.BytesIO(AUDIO), "audio/ogg"), "clip.ogg"),
        (io.BytesIO(AUDIO), "upload"),
    ]
    for file, name in kinds:
        litellm.transcription(model="whisper-1", file=file, **openai_args)
        sent = server.last_request.body["file"]
        assert (sent["filename"], sent["sha256"]) == (name, hashlib.sha256(AUDIO).hexdigest()), file
    assert server.last_request.body["file"]["filename"] == "upload"
    # A file read past its start sends the rest, as the openai SDK does.
    with open(audio_file, "rb") as f:
        f.read(256)
        litellm.transcription(model="whisper-1", file=f, **openai_args)
    assert server.last_request.body["file"]["size"] == len(AUDIO) - 256
    # The temporary copies of in-memory files are gone once each call returns.
    assert _spooled() == before


async def test_atranscription_azure_and_groq(server, audio_file):
    resp = await litellm.atranscription(
        model="azure/my-whisper",
        file=open(audio_file, "rb"),
        api_base=server.url,
        api_key="az-key",
        api_version="2024-06-01",
        max_retries=0,
    )
    req = server.last_request
    assert req.path == "/openai/deployments/my-whisper/audio/transcriptions"
    assert req.query == "api-version=2024-06-01" and req.headers["api-key"] == "az-key"
    assert req.body["model"] == "my-whisper"
    assert resp.text.startswith("MOCKTRANSCRIPT:talk.mp3:16384")
    resp = await litellm.atranscription(
        model="groq/whisper-large-v3", file=audio_file, api_base=server.base_url, api_key="gk", max_retries=0
    )
    assert server.last_request.headers["authorization"] == "Bearer gk"
    assert server.last_request.body["model"] == "whisper-large-v3"
    assert resp._hidden_params["custom_llm_provider"] == "groq"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"file": None}, "file is required"),
        ({"file": 3}, "file must be a file"),
        ({"file": "/no/such/audio.mp3"}, "cannot read the file"),
        ({"file": b"x", "response_format": "mp3"}, "response_format must be one of"),
        ({"file": b"x", "temperature": "hot"}, "temperature must be a number"),
        ({"file": b"x", "timestamp_granularities": ["char"]}, "timestamp_granularities"),
        ({"file": io.StringIO("text")}, "binary mode"),
    ],
)
def test_bad_inputs_fail_before_any_request(server, openai_args, kwargs, match):
    with pytest.raises(litellm.BadRequestError, match=match):
        litellm.transcription(model="whisper-1", **kwargs, **openai_args)
    assert server.requests == []


def test_unserved_provider(server):
    with pytest.raises(litellm.BadRequestError, match="transcription for OpenAI-format providers"):
        litellm.transcription(model="anthropic/claude-x", file=b"x", api_key="k", api_base=server.url)
    assert server.requests == []


def test_errors_are_mapped_and_retried_with_the_whole_file(server, openai_args, audio_file):
    server.fail_next(1, status=429)
    with pytest.raises(litellm.RateLimitError):
        litellm.transcription(model="whisper-1", file=audio_file, **openai_args)
    server.reset()
    server.fail_next(1, status=503)
    resp = litellm.transcription(model="whisper-1", file=audio_file, **{**openai_args, "max_retries": 1})
    assert server.request_count == 2
    assert [r.body["file"]["size"] for r in server.requests] == [len(AUDIO)] * 2
    assert resp.text.startswith("MOCKTRANSCRIPT:talk.mp3")


def test_callbacks_and_mock_response(server, openai_args, monkeypatch, audio_file):
    seen = []
    monkeypatch.setattr(
        litellm, "success_callback", [lambda kwargs, resp, *_: seen.append((kwargs["call_type"], resp))]
    )
    litellm.transcription(model="whisper-1", file=audio_file, **openai_args)
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:  # success callbacks run on a worker
        time.sleep(0.01)
    assert [c for c, _ in seen] == ["transcription"]
    assert isinstance(seen[0][1], TranscriptionResponse)
    server.reset()
    resp = litellm.transcription(model="whisper-1", file=b"x", mock_response="mocked words")
    assert resp.text == "mocked words" and server.requests == []


def test_router_transcription_and_atranscription(server, audio_file):
    router = litellm.Router(
        model_list=[
            {
                "model_name": "whisper",
                "litellm_params": {"model": "openai/whisper-1", "api_base": server.base_url, "api_key": "k"},
                "model_info": {"id": "whisper-1-id"},
            }
        ],
        num_retries=1,
    )
    server.fail_next(1, status=500)
    resp = router.transcription(file=audio_file, model="whisper", response_format="verbose_json")
    assert server.request_count == 2
    assert all(r.body["file"]["size"] == len(AUDIO) for r in server.requests)
    assert server.last_request.body["model"] == "whisper-1"
    assert resp.duration == 1.02
    assert resp._hidden_params["model_id"] == "whisper-1-id"
    resp = asyncio.run(router.atranscription(file=("b.wav", b"abcd"), model="whisper", response_format="text"))
    assert resp.text == "MOCKTRANSCRIPT:b.wav:4::"


def test_a_20_mb_upload_is_streamed_from_disk(server, tmp_path):
    """Peak RSS grows by far less than the file: the body is read from disk in pieces as
    it is sent (MockServer runs in another process so its copy is not counted)."""
    big = tmp_path / "big.wav"
    size = 20 * 1024 * 1024
    with open(big, "wb") as f:
        for i in range(size // (1024 * 1024)):
            f.write(bytes([i % 256]) * (1024 * 1024))
    # The mock holds the body it receives, so it runs in a separate process.
    mock = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from rustllm.testing import MockServer\nimport sys\n"
            "s = MockServer(); s.__enter__(); print(s.base_url, flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert mock.stdout is not None
        base_url = mock.stdout.readline().strip()
        client = textwrap.dedent(
            """
            import resource, sys
            import rustllm as litellm

            def peak():
                return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

            litellm.transcription(model="whisper-1", file=b"warm", api_key="k", api_base=sys.argv[2], max_retries=0)
            before = peak()
            r = litellm.transcription(model="whisper-1", file=sys.argv[1], api_key="k", api_base=sys.argv[2], max_retries=0)
            print(r.text, peak() - before)
            """
        )
        out = subprocess.run(
            [sys.executable, "-c", client, str(big), base_url], capture_output=True, text=True, timeout=120, check=True
        ).stdout.split()
    finally:
        mock.communicate("", timeout=30)
    assert out[0] == f"MOCKTRANSCRIPT:big.wav:{size}::"
    growth = int(out[1])
    assert growth < size // 4, f"peak RSS grew by {growth} bytes for a {size}-byte upload"
