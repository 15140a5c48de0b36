"""Outbound proxies from the environment: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`.

A loopback forward proxy (tests/forwardproxy.py) records what passes through it: plain-HTTP
requests in absolute form, and `CONNECT` tunnels for HTTPS targets (TLS then runs end to end
with the loopback TLS server of test_tls.py's PKI, still verified). Each case runs rustllm in
a fresh subprocess, because the variables are read once per process, when its first HTTP
client is built; the test process's own environment is never changed.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest
from faultserver import FaultServer, http, sse
from forwardproxy import ForwardProxy
from test_tls import Pki

REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "via proxy"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
}


def _chunk(delta: dict, finish: str | None = None) -> dict:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [choice]}


STREAM = sse(
    [_chunk({"role": "assistant", "content": "via "}), _chunk({"content": "stream"}), _chunk({}, "stop"), "[DONE]"]
)


def answer(req) -> bytes:
    return STREAM if req.json().get("stream") else http(200, REPLY)


# Run in the child: a sync call, an async call and a streamed call (or those named in
# argv[2]) against argv[1]; prints one JSON line per call: the reply text or the error.
CHILD = textwrap.dedent(
    """
    import asyncio, json, os, sys, threading
    import rustllm

    base, calls = sys.argv[1], sys.argv[2].split(",")
    extra = json.loads(sys.argv[3])
    kw = dict(model="openai/m", messages=[{"role": "user", "content": "hi"}], api_base=base,
              api_key="sk-test", max_retries=0, **extra)

    def sync():
        return rustllm.completion(**kw).choices[0].message.content

    def aio():
        return asyncio.run(rustllm.acompletion(**kw)).choices[0].message.content

    def stream():
        return "".join(c.choices[0].delta.content or "" for c in rustllm.completion(stream=True, **kw))

    def thread():
        out = []
        t = threading.Thread(target=lambda: out.append(sync()))
        t.start(); t.join()
        return out[0]

    def set_proxy():
        os.environ["HTTP_PROXY"] = os.environ["LATER_PROXY"]
        return "set"

    for name in calls:
        try:
            print(json.dumps({"call": name, "ok": {"sync": sync, "async": aio, "stream": stream,
                              "thread": thread, "set_proxy": set_proxy}[name]()}))
        except Exception as e:
            print(json.dumps({"call": name, "error": type(e).__name__, "str": str(e), "repr": repr(e)}))
    """
)

PROXY_VARS = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
)


def run(base: str, env: dict[str, str], calls: str = "sync,async,stream", **extra) -> list[dict]:
    """Run CHILD with only these proxy variables set; its results, one dict per call."""
    child_env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS and k != "REQUEST_METHOD"}
    child_env.update(env)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, base, calls, json.dumps(extra)],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def texts(results: list[dict]) -> list:
    return [r.get("ok", r.get("str")) for r in results]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("proxy-pki"))


@pytest.fixture
def target():
    with FaultServer(answer) as server:
        yield server


@pytest.fixture
def tls_target(pki):
    with FaultServer(answer, tls=pki.server_context()) as server:
        yield server


@pytest.fixture
def proxy():
    with ForwardProxy() as p:
        yield p


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_http_targets_go_through_the_proxy(target, proxy, variable):
    results = run(target.base_url + "/v1", {variable: proxy.url()})
    assert texts(results) == ["via proxy", "via proxy", "via stream"]
    # The proxy saw every request in absolute form and passed it on; none went direct.
    url = target.base_url + "/v1/chat/completions"
    assert [(p.method, p.target) for p in proxy.passed] == [("POST", url)] * 3
    assert [r.path for r in target.requests] == ["/v1/chat/completions"] * 3
    assert [r.json()["messages"] for r in target.requests] == [[{"role": "user", "content": "hi"}]] * 3
    assert target.requests[2].json()["stream"] is True


def test_https_proxy_applies_to_https_only(target, proxy):
    results = run(target.base_url + "/v1", {"HTTPS_PROXY": proxy.url()}, calls="sync")
    assert texts(results) == ["via proxy"]
    assert proxy.passed == []
    assert len(target.requests) == 1


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
def test_https_targets_are_tunnelled_with_connect(tls_target, proxy, pki, variable):
    results = run(tls_target.base_url + "/v1", {variable: proxy.url()}, ssl_verify=pki.ca)
    assert texts(results) == ["via proxy", "via proxy", "via stream"]
    # One CONNECT per connection; the requests themselves went through the tunnel encrypted.
    assert proxy.passed, "no request went through the proxy"
    assert {(p.method, p.target) for p in proxy.passed} == {("CONNECT", f"127.0.0.1:{tls_target.port}")}
    assert [r.path for r in tls_target.requests] == ["/v1/chat/completions"] * 3


def test_tls_is_still_verified_through_the_tunnel(tls_target, proxy):
    [result] = run(tls_target.base_url + "/v1", {"HTTPS_PROXY": proxy.url()}, calls="sync")
    assert result["error"] == "APIConnectionError"
    assert "certificate" in result["str"].lower()
    assert [p.method for p in proxy.passed] == ["CONNECT"]
    assert tls_target.requests == []


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "localhost,127.0.0.0/8", "*"])
def test_no_proxy_bypasses_the_proxy(target, tls_target, proxy, pki, no_proxy):
    env = {"HTTP_PROXY": proxy.url(), "HTTPS_PROXY": proxy.url(), "NO_PROXY": no_proxy}
    assert texts(run(target.base_url + "/v1", env)) == ["via proxy", "via proxy", "via stream"]
    assert texts(run(tls_target.base_url + "/v1", env, calls="sync", ssl_verify=pki.ca)) == ["via proxy"]
    assert proxy.passed == []
    assert len(target.requests) == 3
    assert len(tls_target.requests) == 1


def test_a_proxy_needing_credentials_gets_them(target, tls_target, pki):
    with ForwardProxy(credentials=("alice", "p:ss word")) as proxy:
        url = proxy.url("alice:p%3Ass%20word")
        expected = "Basic " + base64.b64encode(b"alice:p:ss word").decode()
        assert texts(run(target.base_url + "/v1", {"HTTP_PROXY": url})) == ["via proxy", "via proxy", "via stream"]
        assert texts(run(tls_target.base_url + "/v1", {"HTTPS_PROXY": url}, ssl_verify=pki.ca)) == [
            "via proxy",
            "via proxy",
            "via stream",
        ]
        assert proxy.refused == []
        assert {p.method for p in proxy.passed} == {"POST", "CONNECT"}
        assert {p.headers.get("proxy-authorization") for p in proxy.passed} == {expected}
        # Proxy credentials are for the proxy: the provider never sees them.
        assert all("proxy-authorization" not in r.headers for r in target.requests + tls_target.requests)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_wrong_proxy_credentials_fail_without_showing_them(target, tls_target, pki, scheme):
    with ForwardProxy(credentials=("alice", "right")) as proxy:
        server = target if scheme == "http" else tls_target
        variable = "HTTP_PROXY" if scheme == "http" else "HTTPS_PROXY"
        results = run(server.base_url + "/v1", {variable: proxy.url("alice:hunter2-secret")}, ssl_verify=pki.ca)
        assert [r.get("error") for r in results] and all("error" in r for r in results), results
        assert len(proxy.refused) == 3
        assert proxy.passed == [] and server.requests == []
        for r in results:
            assert "hunter2" not in r["str"] + r["repr"]
            assert "407" in r["str"] or "proxy" in r["str"].lower(), r


def test_an_unreachable_proxy_is_named_in_the_error(target):
    port = free_port()
    results = run(target.base_url + "/v1", {"HTTP_PROXY": f"http://alice:hunter2-secret@127.0.0.1:{port}"})
    assert [r["error"] for r in results] == ["APIConnectionError"] * 3
    for r in results:
        assert f"through the proxy http://127.0.0.1:{port}" in r["str"], r["str"]
        assert "hunter2" not in r["str"] + r["repr"]
        assert "alice" not in r["str"]
    assert target.requests == []


def test_a_refused_connection_without_a_proxy_names_none(target):
    [result] = run(f"http://127.0.0.1:{free_port()}/v1", {}, calls="sync")
    assert result["error"] == "APIConnectionError"
    assert "proxy" not in result["str"]


def test_the_variables_are_read_once_per_process(target, proxy):
    # The first call builds the clients: later changes to the environment reach no client of
    # this process, not even one a new thread builds for its own sync calls.
    env = {"LATER_PROXY": proxy.url()}
    results = run(target.base_url + "/v1", env, calls="sync,set_proxy,sync,async,stream,thread")
    assert texts(results) == ["via proxy", "set", "via proxy", "via proxy", "via stream", "via proxy"]
    assert proxy.passed == []
    assert len(target.requests) == 5


def test_set_before_the_first_call_they_apply(target, proxy):
    results = run(target.base_url + "/v1", {"LATER_PROXY": proxy.url()}, calls="set_proxy,sync,thread,async")
    assert texts(results) == ["set", "via proxy", "via proxy", "via proxy"]
    assert len(proxy.passed) == 3
