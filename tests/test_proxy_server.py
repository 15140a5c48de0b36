"""``rustllm proxy`` as a process: how it starts and refuses to start, its config errors,
auth from every header LiteLLM reads, bodies refused before any provider call, and its
behaviour under stress (client disconnects, SIGTERM, concurrent streams, timeouts).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from _proxy import ProxyProcess, mock_deployment, run_proxy
from faultserver import HANG, FaultServer, Hang

HI = [{"role": "user", "content": "hi"}]


def chat(url: str, key: str | None = "sk-1234", timeout: float = 20, **body):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(
        f"{url}/chat/completions",
        json={"model": "gpt-4o", "messages": HI, **body},
        headers=headers,
        timeout=timeout,
    )


def config_for(server, master_key: str | None = "sk-1234", extra: str = "") -> str:
    text = "model_list:\n" + mock_deployment("gpt-4o", server, model="openai/gpt-4o")
    text += "router_settings:\n  num_retries: 0\n"
    if master_key:
        text += f"general_settings:\n  master_key: {master_key}\n"
    return text + extra


# -- starting --------------------------------------------------------------------------


def test_console_script_and_litellm_spelling(server, tmp_path):
    script = Path(sys.executable).parent / "rustllm"
    assert script.exists(), "pyproject's [project.scripts] installs `rustllm`"
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    assert "rustllm proxy --config CONFIG.yaml" in out.stdout
    # `rustllm --config c.yaml` (no subcommand) serves, as `litellm --config` does.
    config = tmp_path / "c.yaml"
    config.write_text(config_for(server))
    proc = subprocess.Popen(
        [str(script), "--config", str(config), "--port", "0", "--host", "127.0.0.1"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = ""
        deadline = time.monotonic() + 15
        while "listening on" not in line and time.monotonic() < deadline:
            line = proc.stderr.readline()
        url = line.split("listening on ")[1].split()[0]
        server.respond(text="hello from the script")
        r = chat(url)
        assert r.json()["choices"][0]["message"]["content"] == "hello from the script"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
            raise
    assert code == 0


def test_ready_fast_and_sigint_exits_cleanly(server):
    started = time.monotonic()
    with ProxyProcess(config_for(server)) as p:
        ready = time.monotonic() - started
        assert httpx.get(f"{p.url}/health/liveliness", timeout=5).json() == "I'm alive!"
        p.signal(signal.SIGINT)
        assert p.wait() == 0
    # Interpreter start and import included; the Rust side is ready in milliseconds.
    assert ready < 5
    assert "Traceback" not in p.output
    assert "stopped" in p.output


def test_a_busy_port_is_an_error_not_a_random_port(server):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = run_proxy(config_for(server), "--host", "127.0.0.1", "--port", str(port))
    assert out.returncode == 1
    assert f"port {port} is already in use" in out.stderr


def test_no_master_key_refuses_a_public_address(server):
    out = run_proxy(config_for(server, master_key=None), "--host", "0.0.0.0", "--port", "0")
    assert out.returncode == 1
    assert "refusing to listen on 0.0.0.0 without a master key" in out.stderr
    # Without --host it listens on loopback only, and says so.
    with ProxyProcess(config_for(server, master_key=None), host="127.0.0.1") as p:
        assert p.url.startswith("http://127.0.0.1:")
        assert "no master key" in p.output
        server.respond(text="open")
        assert chat(p.url, key=None).json()["choices"][0]["message"]["content"] == "open"


def test_allow_unauthenticated_opens_a_public_address(server):
    with ProxyProcess(config_for(server, master_key=None), "--allow-unauthenticated", host="0.0.0.0") as p:
        assert p.url.startswith("http://0.0.0.0:")
        server.respond(text="public")
        r = chat(f"http://127.0.0.1:{p.port}", key=None)
        assert r.json()["choices"][0]["message"]["content"] == "public"


def test_single_model_mode_sends_every_request_to_the_model(server):
    # `litellm --model M`: no config; whatever model a client names (the tutorial's openai
    # example names gpt-3.5-turbo) goes to M, with --temperature / --max_tokens forced.
    args = ["--model", "openai/gpt-4o-mini", "--alias", "mini", "--api_base", server.base_url]
    args += ["--temperature", "0.2", "--max_tokens", "50"]
    with ProxyProcess(None, *args, env={"OPENAI_API_KEY": "sk-upstream-secret"}) as p:
        server.respond(text="single")
        r = chat(p.url, key=None, model="gpt-3.5-turbo", temperature=1.5)
        assert r.status_code == 200, r.text
        assert r.json()["choices"][0]["message"]["content"] == "single"
        assert r.headers["x-litellm-model-group"] == "mini"
        sent = server.last_request.body
        assert (sent["model"], sent["temperature"], sent["max_tokens"]) == ("gpt-4o-mini", 0.2, 50)
        assert server.last_request.headers["authorization"] == "Bearer sk-upstream-secret"
        models = httpx.get(f"{p.url}/v1/models", timeout=10).json()
        assert [m["id"] for m in models["data"]] == ["mini"]
    out = run_proxy(None, "--alias", "mini")
    assert out.returncode == 2 and "--alias goes with --model" in out.stderr


def test_validate_config_and_version(server):
    out = run_proxy(config_for(server), "--validate_config")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "config OK (1 models)"
    out = run_proxy(None, "--version")
    assert out.returncode == 0 and out.stdout.startswith("rustllm ")
    out = run_proxy(None, "--ssl_keyfile_path", "key.pem")
    assert out.returncode == 2
    assert "TLS" in out.stderr and "not supported" in out.stderr


# -- config ----------------------------------------------------------------------------


def test_type_errors_stop_the_start_naming_the_path(server):
    config = (
        "model_list:\n"
        + mock_deployment("a", server)
        + mock_deployment("b", server)
        + mock_deployment("c", server, rpm="ten")
    )
    out = run_proxy(config, "--port", "0")
    assert out.returncode == 1
    assert 'model_list[2].litellm_params.rpm: expected an integer, got "ten"' in out.stderr
    assert server.request_count == 0


def test_unknown_keys_warn_once_and_the_proxy_serves(server):
    extra = "litellm_settings:\n  callbacks: [langfuse]\n  turn_off_message_logging: true\nalerting_config: {}\n"
    config = config_for(server, extra=extra).replace(
        "general_settings:\n  master_key: sk-1234\n",
        "general_settings:\n  master_key: sk-1234\n  enable_jwt_auth: true\n",
    )
    with ProxyProcess(config) as p:
        server.respond(text="still served")
        assert chat(p.url).json()["choices"][0]["message"]["content"] == "still served"
    warnings = [line for line in p.lines if "ignored settings" in line]
    assert len(warnings) == 1
    for key in (
        "alerting_config",
        "general_settings.enable_jwt_auth",
        "litellm_settings.callbacks",
        "litellm_settings.turn_off_message_logging",
    ):
        assert key in warnings[0]


def test_master_key_and_settings_from_the_environment(server):
    config = (
        "environment_variables:\n  UPSTREAM_BASE: " + server.base_url + "\n"
        "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n"
        "      api_base: os.environ/UPSTREAM_BASE\n      api_key: os.environ/UPSTREAM_KEY\n"
        "general_settings:\n  master_key: os.environ/PROXY_MASTER_KEY\n"
    )
    env = {"PROXY_MASTER_KEY": "sk-from-env", "UPSTREAM_KEY": "sk-upstream-env"}
    with ProxyProcess(config, env=env) as p:
        assert chat(p.url, key="sk-1234").status_code == 401
        r = chat(p.url, key="sk-from-env")
        assert r.status_code == 200
    assert server.last_request.headers["authorization"] == "Bearer sk-upstream-env"
    assert "sk-from-env" not in p.output and "sk-upstream-env" not in p.output
    out = run_proxy(config, "--port", "0", env={"UPSTREAM_KEY": "x"})
    assert out.returncode == 1
    assert "general_settings.master_key: the environment variable PROXY_MASTER_KEY is not set" in out.stderr


# -- auth ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def proxy(_module_server):
    extra = "  litellm_key_header_name: X-Team-Key\n  max_request_size_mb: 0.01\n"
    with ProxyProcess(config_for(_module_server) + extra) as p:
        yield p


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer sk-1234"},
        {"Authorization": "bearer sk-1234"},
        {"Authorization": "Basic sk-1234"},
        {"API-Key": "sk-1234"},
        {"x-api-key": "sk-1234"},
        {"x-goog-api-key": "sk-1234"},
        {"Ocp-Apim-Subscription-Key": "sk-1234"},
        {"x-litellm-api-key": "sk-1234"},
        {"X-Team-Key": "sk-1234"},
    ],
)
def test_every_key_header(proxy, server, headers):
    server.respond(text="authorized")
    r = httpx.post(
        f"{proxy.url}/v1/chat/completions", json={"model": "gpt-4o", "messages": HI}, headers=headers, timeout=20
    )
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == "authorized"
    # The proxy's key never goes upstream.
    sent = server.last_request
    assert sent.headers["authorization"] == "Bearer sk-upstream-secret"
    assert "sk-1234" not in json.dumps(sent.headers)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sk-12345"}, {"Authorization": "sk-1234"}, {"x-api-key": "nope"}],
)
def test_missing_or_wrong_keys_are_401(proxy, server, headers):
    for method, path in (
        ("POST", "/chat/completions"),
        ("GET", "/v1/models"),
        ("GET", "/model/info"),
        ("GET", "/health"),
    ):
        r = httpx.request(
            method, f"{proxy.url}{path}", json={"model": "gpt-4o", "messages": HI}, headers=headers, timeout=20
        )
        assert r.status_code == 401, path
        err = r.json()["error"]
        assert (err["type"], err["code"], err["param"]) == ("auth_error", "401", "None")
        assert "sk-12345" not in err["message"] and "nope" not in err["message"]
    assert server.request_count == 0


def test_probes_need_no_key(proxy, server):
    for path in ("/health/liveliness", "/health/liveness"):
        assert httpx.get(f"{proxy.url}{path}", timeout=5).json() == "I'm alive!"
    ready = httpx.get(f"{proxy.url}/health/readiness", timeout=5).json()
    assert ready["status"] == "healthy"
    assert ready["db"] == "Not connected"
    assert server.request_count == 0


def test_health_calls_each_deployment(proxy, server):
    r = httpx.get(f"{proxy.url}/health", headers={"Authorization": "Bearer sk-1234"}, timeout=30)
    assert r.status_code == 200
    body = r.json()
    assert (body["healthy_count"], body["unhealthy_count"]) == (1, 0)
    assert body["healthy_endpoints"][0]["model"] == "openai/gpt-4o"
    assert "api_key" not in body["healthy_endpoints"][0]
    assert server.last_request.body["model"] == "gpt-4o"
    server.fail_next(1, status=500, message="deployment down")
    body = httpx.get(f"{proxy.url}/health", headers={"Authorization": "Bearer sk-1234"}, timeout=30).json()
    assert body["unhealthy_count"] == 1
    assert "deployment down" in body["unhealthy_endpoints"][0]["error"]


# -- bad bodies ------------------------------------------------------------------------


def _post(proxy, content: bytes | str, content_type: str | None = "application/json", path="/chat/completions"):
    headers = {"Authorization": "Bearer sk-1234"}
    if content_type:
        headers["Content-Type"] = content_type
    return httpx.post(f"{proxy.url}{path}", content=content, headers=headers, timeout=20)


def test_bad_bodies_are_refused_before_the_provider(proxy, server):
    body = json.dumps({"model": "gpt-4o", "messages": HI})
    cases = [
        (_post(proxy, '{"model": "gpt-4o", "messages": ['), 400, "Invalid JSON"),
        (_post(proxy, "[1, 2]"), 400, "must be a JSON object"),
        (_post(proxy, body, "text/plain"), 415, "Content-Type"),
        (_post(proxy, body, "application/x-www-form-urlencoded"), 415, "Content-Type"),
        (
            _post(proxy, json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * 20000}]})),
            413,
            "max_request_size_mb",
        ),
        (_post(proxy, json.dumps({"model": "gpt-4o", "messages": HI, "n": "two"})), 400, "n"),
        (_post(proxy, json.dumps({"prompt": "x"}), path="/completions"), 400, "model is required"),
        (_post(proxy, json.dumps({"model": "gpt-4o"}), path="/completions"), 400, "prompt is required"),
    ]
    for r, status, needle in cases:
        assert r.status_code == status, (needle, r.text)
        err = r.json()["error"]
        assert err["code"] == str(status)
        assert needle in err["message"], err["message"]
    assert server.request_count == 0


@pytest.mark.parametrize("param", ["api_base", "base_url", "api_key", "extra_headers", "user_config"])
def test_client_side_credentials_are_refused(proxy, server, param):
    value = {"x-a": "1"} if param in ("extra_headers", "user_config") else "http://127.0.0.1:9/v1"
    r = _post(proxy, json.dumps({"model": "gpt-4o", "messages": HI, param: value}))
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["param"] == param
    assert f"{param} is not allowed in request body" in err["message"]
    assert server.request_count == 0


def test_client_side_credentials_when_allowed(server):
    with FaultServer(lambda req: HANG) as elsewhere:
        config = config_for(server, master_key=None, extra="general_settings:\n  allow_client_side_credentials: true\n")
        with ProxyProcess(config) as p:
            server.respond(text="own base")
            r = chat(p.url, key=None, api_base=server.base_url, api_key="sk-client")
            assert r.status_code == 200
        assert server.last_request.headers["authorization"] == "Bearer sk-client"
        assert elsewhere.requests == []


# -- stress ----------------------------------------------------------------------------


def _hang_config(upstream: str, extra: str = "") -> str:
    return (
        "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n"
        f"      api_base: {upstream}/v1\n      api_key: sk-x\n"
        "router_settings:\n  num_retries: 0\n" + extra
    )


@pytest.mark.parametrize("stream", [False, True])
def test_client_disconnect_cancels_the_upstream_call(stream):
    head = b'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\ndata: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}]}\n\n'
    reply = Hang(head) if stream else HANG
    with FaultServer(lambda req: reply) as upstream, ProxyProcess(_hang_config(upstream.base_url)) as p:
        with pytest.raises(httpx.ReadTimeout):
            if stream:
                with httpx.stream(
                    "POST",
                    f"{p.url}/chat/completions",
                    json={"model": "gpt-4o", "messages": HI, "stream": True},
                    timeout=1.0,
                ) as r:
                    for _ in r.iter_bytes():
                        pass
            else:
                chat(p.url, key=None, timeout=1.0)
        assert upstream.wait_until(lambda: len(upstream.connections) == 1)
        # The client went away: the proxy closes its upstream connection too.
        assert upstream.wait_until(lambda: upstream.open_connections() == 0, timeout=5), "upstream call left running"
        assert len(upstream.requests) == 1


def test_sigterm_finishes_in_flight_requests(server):
    with ProxyProcess(config_for(server)) as p:
        server.respond(text="finished after SIGTERM", delay=1.0)
        result: dict = {}
        t = threading.Thread(target=lambda: result.update(r=chat(p.url)))
        t.start()
        deadline = time.monotonic() + 5
        while server.request_count < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.request_count == 1
        time.sleep(0.2)
        p.signal(signal.SIGTERM)
        t.join(timeout=15)
        assert p.wait() == 0
    assert result["r"].status_code == 200
    assert result["r"].json()["choices"][0]["message"]["content"] == "finished after SIGTERM"
    assert "shutting down" in p.output


def test_concurrent_streams_do_not_stall_each_other(server):
    with ProxyProcess(config_for(server)) as p:
        # The first stream crawls (a chunk every 0.5 s); the others answer at once.
        server.respond(text="w " * 20, chunk_delay=0.5)
        slow_done = threading.Event()

        def slow():
            with httpx.stream(
                "POST",
                f"{p.url}/chat/completions",
                json={"model": "gpt-4o", "messages": HI, "stream": True},
                headers={"Authorization": "Bearer sk-1234"},
                timeout=30,
            ) as r:
                for _ in r.iter_bytes():
                    pass
            slow_done.set()

        t = threading.Thread(target=slow, daemon=True)
        t.start()
        deadline = time.monotonic() + 5
        while server.request_count < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()

        def fast(i):
            with httpx.stream(
                "POST",
                f"{p.url}/chat/completions",
                json={"model": "gpt-4o", "messages": [{"role": "user", "content": f"m{i}"}], "stream": True},
                headers={"Authorization": "Bearer sk-1234"},
                timeout=30,
            ) as r:
                return b"".join(r.iter_bytes())

        results: list = [None] * 32
        threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, fast(i))) for i in range(32)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=20)
        elapsed = time.monotonic() - started
        assert all(r is not None and r.endswith(b"data: [DONE]\n\n") for r in results)
        assert elapsed < 5
        assert not slow_done.is_set(), "the slow stream should still be running"
        t.join(timeout=20)
        assert slow_done.is_set()
    assert server.request_count == 33


@pytest.mark.parametrize(
    "setting",
    [
        "router_settings:\n  num_retries: 0\n  timeout: 1\n",
        "litellm_settings:\n  request_timeout: 1\nrouter_settings:\n  num_retries: 0\n",
    ],
)
def test_request_timeout_from_the_config(setting):
    with FaultServer(lambda req: HANG) as upstream:
        config = _hang_config(upstream.base_url).replace("router_settings:\n  num_retries: 0\n", "") + setting
        with ProxyProcess(config) as p:
            started = time.monotonic()
            r = chat(p.url, key=None, timeout=20)
            elapsed = time.monotonic() - started
        assert r.status_code == 408
        assert "Timeout" in r.json()["error"]["message"]
        assert 0.9 < elapsed < 5
        assert upstream.wait_until(lambda: upstream.open_connections() == 0)


def test_detailed_debug_logs_requests_without_keys(server):
    with ProxyProcess(config_for(server), "--detailed_debug") as p:
        server.respond(text="x")
        assert chat(p.url).status_code == 200
        deadline = time.monotonic() + 5
        while "POST /chat/completions -> 200" not in p.output and time.monotonic() < deadline:
            time.sleep(0.05)
    assert "POST /chat/completions -> 200" in p.output
    assert "routing group gpt-4o" in p.output
    # The provider request and its raw reply, as the SDK's debug log shows them.
    assert "POST Request Sent from LiteLLM:" in p.output
    assert "-H 'authorization: Bearer ****'" in p.output
    assert "RAW RESPONSE: 200 OK" in p.output
    assert "sk-1234" not in p.output and "sk-upstream-secret" not in p.output
