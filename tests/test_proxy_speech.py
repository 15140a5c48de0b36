"""``POST /v1/audio/speech`` (and ``/audio/speech``) on a real ``rustllm proxy`` in front
of MockServer, with the openai SDK's ``client.audio.speech.create`` as the client: what
reached the mock, the audio the client got, and the route's auth, limits, spend and
metrics."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest
from _proxy import ProxyProcess, mock_deployment

openai = pytest.importorskip("openai")

MASTER = "sk-1234"
AUTH = {"Authorization": f"Bearer {MASTER}"}


@pytest.fixture(scope="module")
def proxy(_module_server, tmp_path_factory):
    db = tmp_path_factory.mktemp("speech") / "spend.db"
    config = (
        "model_list:\n"
        + mock_deployment("voice", _module_server, model="openai/tts-1")
        + "    model_info: {id: voice-1}\n"
        + "router_settings:\n  num_retries: 0\n"
        + f"general_settings:\n  master_key: {MASTER}\n  database_url: sqlite:///{db}\n  proxy_batch_write_at: 0.2\n"
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


def test_speech_with_the_openai_sdk(proxy, server, tmp_path):
    r = client(proxy).audio.speech.create(model="voice", input="hello proxy", voice="alloy", response_format="flac")
    assert r.content == b"MOCKAUDIO:flac:alloy:hello proxy"
    assert r.response.headers["content-type"] == "audio/flac"
    out = tmp_path / "out.flac"
    r.write_to_file(out)
    assert out.read_bytes() == r.content
    sent = server.last_request
    assert sent.path == "/v1/audio/speech"
    assert sent.body == {"model": "tts-1", "input": "hello proxy", "voice": "alloy", "response_format": "flac"}
    assert sent.headers["authorization"] == "Bearer sk-upstream-secret"
    # Priced per character (11 at tts-1's $15 a million), in the header.
    assert float(r.response.headers["x-litellm-response-cost"]) == pytest.approx(11 * 1.5e-05)


def test_both_paths_and_errors(proxy, server):
    r = httpx.post(f"{proxy.url}/audio/speech", json={"model": "voice", "input": "x", "voice": "echo"}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.content == b"MOCKAUDIO:mp3:echo:x"
    with pytest.raises(openai.AuthenticationError):
        client(proxy, "sk-bad").audio.speech.create(model="voice", input="x", voice="alloy")
    with pytest.raises(openai.BadRequestError, match="input must not be empty"):
        client(proxy).audio.speech.create(model="voice", input="", voice="alloy")
    server.fail_next(1, status=429)
    with pytest.raises(openai.RateLimitError):
        client(proxy).audio.speech.create(model="voice", input="x", voice="alloy")


def test_limits_spend_and_metrics(proxy, server):
    r = httpx.post(f"{proxy.url}/key/generate", json={"key_alias": "voice-key", "rpm_limit": 1}, headers=AUTH)
    assert r.status_code == 200, r.text
    key = r.json()["key"]
    client(proxy, key).audio.speech.create(model="voice", input="four", voice="alloy")
    with pytest.raises(openai.RateLimitError):
        client(proxy, key).audio.speech.create(model="voice", input="four", voice="alloy")
    hashed = hashlib.sha256(key.encode()).hexdigest()

    def key_rows():
        rows = httpx.get(f"{proxy.url}/spend/logs", headers=AUTH, timeout=10).json()
        return [row for row in rows if row.get("api_key") == hashed] or None

    (row,) = until(key_rows)
    assert (row["call_type"], row["model_group"], row["model_id"]) == ("aspeech", "voice", "voice-1")
    assert row["spend"] == pytest.approx(4 * 1.5e-05)
    text = until(
        lambda: (
            (t := httpx.get(f"{proxy.url}/metrics", headers=AUTH, timeout=10).text)
            and 'route="/audio/speech"' in t
            and t
        )
    )
    assert "sk-upstream-secret" not in text and key not in text
