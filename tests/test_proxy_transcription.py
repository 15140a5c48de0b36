"""``POST /v1/audio/transcriptions`` (and ``/audio/transcriptions``) on a real ``rustllm
proxy`` in front of MockServer, with the openai SDK's
``client.audio.transcriptions.create`` as the client: what reached the mock (the file
whole), what the client got in each response_format, and the route's auth, upload
limit, spend and metrics."""

from __future__ import annotations

import glob
import hashlib
import os
import tempfile
import time

import httpx
import pytest
from _proxy import ProxyProcess, mock_deployment

openai = pytest.importorskip("openai")

MASTER = "sk-1234"
AUTH = {"Authorization": f"Bearer {MASTER}"}
AUDIO = bytes(range(256)) * 1000  # 256,000 bytes: 16 s at the mock's 16,000 bytes a second


@pytest.fixture(scope="module")
def proxy(_module_server, tmp_path_factory):
    db = tmp_path_factory.mktemp("transcription") / "spend.db"
    config = (
        "model_list:\n"
        + mock_deployment("whisper", _module_server, model="openai/whisper-1")
        + "    model_info: {id: whisper-id}\n"
        + "router_settings:\n  num_retries: 0\n"
        + f"general_settings:\n  master_key: {MASTER}\n  database_url: sqlite:///{db}\n"
        + "  proxy_batch_write_at: 0.2\n  max_upload_size_mb: 1\n"
    )
    with ProxyProcess(config) as p:
        yield p


def client(proxy, key=MASTER):
    return openai.OpenAI(api_key=key, base_url=proxy.url, max_retries=0, timeout=30)


def until(what, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _proxy_uploads() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "rustllm-proxy-upload-*")))


def test_transcription_with_the_openai_sdk(proxy, server, tmp_path):
    before = _proxy_uploads()
    path = tmp_path / "meeting.mp3"
    path.write_bytes(AUDIO)
    with open(path, "rb") as f:
        r = client(proxy).audio.transcriptions.create(
            model="whisper",
            file=f,
            language="de",
            temperature=0.3,
            response_format="verbose_json",
            timestamp_granularities=["word"],
        )
    assert r.text == "MOCKTRANSCRIPT:meeting.mp3:256000:de:"
    assert r.duration == 16.0 and r.words[0].word == r.text
    sent = server.last_request
    assert sent.path == "/v1/audio/transcriptions"
    assert sent.headers["authorization"] == "Bearer sk-upstream-secret"
    file = sent.body.pop("file")
    assert (file["filename"], file["size"]) == ("meeting.mp3", len(AUDIO))
    assert file["sha256"] == hashlib.sha256(AUDIO).hexdigest()
    assert sent.body == {
        "model": "whisper-1",
        "language": "de",
        "temperature": "0.3",
        "response_format": "verbose_json",
        "timestamp_granularities": ["word"],
    }
    # The proxy's copy of the upload is removed once the call is answered.
    assert _proxy_uploads() == before


def test_text_formats_come_back_as_text(proxy, server):
    for fmt, expected in [
        ("text", "MOCKTRANSCRIPT:a.wav:3::"),
        ("srt", "1\n00:00:00,000 --> 00:00:01,000\nMOCKTRANSCRIPT:a.wav:3::\n\n"),
    ]:
        r = client(proxy).audio.transcriptions.create(model="whisper", file=("a.wav", b"abc"), response_format=fmt)
        assert r == expected, fmt
    r = client(proxy).audio.transcriptions.create(model="whisper", file=("a.wav", b"abc"))
    assert r.text == "MOCKTRANSCRIPT:a.wav:3::"


def test_both_paths_and_errors(proxy, server):
    r = httpx.post(
        f"{proxy.url}/audio/transcriptions",
        files={"file": ("x.mp3", b"123")},
        data={"model": "whisper"},
        headers=AUTH,
    )
    assert r.status_code == 200, r.text
    assert r.json()["text"] == "MOCKTRANSCRIPT:x.mp3:3::"
    with pytest.raises(openai.AuthenticationError):
        client(proxy, "sk-bad").audio.transcriptions.create(model="whisper", file=("a.wav", b"abc"))
    with pytest.raises(openai.BadRequestError, match="response_format must be one of"):
        client(proxy).audio.transcriptions.create(model="whisper", file=("a.wav", b"abc"), response_format="mp3")
    server.fail_next(1, status=429)
    with pytest.raises(openai.RateLimitError):
        client(proxy).audio.transcriptions.create(model="whisper", file=("a.wav", b"abc"))
    server.reset()
    # A JSON body is refused (415); a text field cannot name a file on the proxy's disk.
    r = httpx.post(
        f"{proxy.url}/v1/audio/transcriptions", json={"model": "whisper", "file": "/etc/passwd"}, headers=AUTH
    )
    assert r.status_code == 415, r.text
    r = httpx.post(
        f"{proxy.url}/v1/audio/transcriptions",
        data={"model": "whisper", "file": "/etc/passwd"},
        files={"x": ("", b"")},
        headers=AUTH,
    )
    assert r.status_code == 400, r.text
    r = httpx.post(
        f"{proxy.url}/v1/audio/transcriptions",
        files={"file": ("x.mp3", b"1")},
        data={"model": "whisper", "api_base": "http://evil.example"},
        headers=AUTH,
    )
    assert r.status_code == 400 and "api_base" in r.text
    assert server.requests == []


def test_an_upload_over_the_limit_is_refused_with_413(proxy, server):
    before = _proxy_uploads()
    big = b"\0" * (1024 * 1024 + 1)
    with pytest.raises(openai.APIStatusError) as err:
        client(proxy).audio.transcriptions.create(model="whisper", file=("big.wav", big))
    assert err.value.status_code == 413 and "max_upload_size_mb" in str(err.value)

    # Without a Content-Length (chunked), the limit is enforced while reading.
    def chunks():
        boundary = b"b0undary"
        yield b"--" + boundary + b'\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper\r\n'
        yield b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n\r\n'
        for _ in range(20):
            yield b"\0" * (64 * 1024)
        yield b"\r\n--" + boundary + b"--\r\n"

    r = httpx.post(
        f"{proxy.url}/v1/audio/transcriptions",
        content=chunks(),
        headers={**AUTH, "content-type": "multipart/form-data; boundary=b0undary"},
    )
    assert r.status_code == 413, r.text
    assert server.requests == []
    assert _proxy_uploads() == before


def test_limits_spend_and_metrics(proxy, server):
    r = httpx.post(f"{proxy.url}/key/generate", json={"key_alias": "whisper-key", "rpm_limit": 1}, headers=AUTH)
    assert r.status_code == 200, r.text
    key = r.json()["key"]
    client(proxy, key).audio.transcriptions.create(
        model="whisper", file=("a.wav", AUDIO), response_format="verbose_json"
    )
    with pytest.raises(openai.RateLimitError):
        client(proxy, key).audio.transcriptions.create(model="whisper", file=("a.wav", b"abc"))
    hashed = hashlib.sha256(key.encode()).hexdigest()

    def key_rows():
        rows = httpx.get(f"{proxy.url}/spend/logs", headers=AUTH, timeout=10).json()
        return [row for row in rows if row.get("api_key") == hashed] or None

    (row,) = until(key_rows)
    assert (row["call_type"], row["model_group"], row["model_id"]) == ("atranscription", "whisper", "whisper-id")
    # 16 s of audio at whisper-1's $0.0001 a second.
    assert row["spend"] == pytest.approx(16 * 0.0001)
    text = until(
        lambda: (
            (t := httpx.get(f"{proxy.url}/metrics", headers=AUTH, timeout=10).text)
            and 'route="/audio/transcriptions"' in t
            and t
        )
    )
    assert "sk-upstream-secret" not in text and key not in text
