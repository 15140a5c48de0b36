"""Logs that help: what `Router(set_verbose=True)`, `rustllm.set_verbose`, `LITELLM_LOG`
and `turn_on_debug()` print, that secrets never appear in them, and that nothing is
logged or printed unless one of them is used.

"A program that never configured logging" is simulated by taking pytest's handlers off
the root logger for the length of a block (`unconfigured()`); otherwise pytest's own
handlers stand for a program's logging configuration (and `caplog` sees the records).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import sys
import textwrap

import pytest

import rustllm
import rustllm._logging
from rustllm import Router

KEY = "sk-live-SECRET-0123456789abcdefghij"
# What must never be seen: the key, or any long piece of it.
KEY_PIECES = (KEY, "SECRET-0123456789", "0123456789abcdef")
USER = [{"role": "user", "content": "hi there"}]
# LiteLLM's line format: `12:34:56 - LiteLLM Router:INFO: router/mod.rs:123 - message`.
LINE = re.compile(r"^\d\d:\d\d:\d\d - (LiteLLM(?: Router)?):(DEBUG|INFO): (\S+):(\d+) - (.*)$")


@pytest.fixture(autouse=True)
def logging_switches_off(caplog):
    """Every switch off again after each test (the loggers' levels put back, before
    caplog puts back those it changed)."""
    yield
    rustllm.set_verbose = False
    rustllm._push_verbose()
    rustllm._log_calls = False
    rustllm._logging._reset()


@contextlib.contextmanager
def unconfigured():
    """Run the block as in a program that never configured logging."""
    root = logging.getLogger()
    handlers = root.handlers[:]
    for handler in handlers:
        root.removeHandler(handler)
    try:
        yield
    finally:
        for handler in handlers:
            root.addHandler(handler)


def assert_no_key(*texts: str) -> None:
    for text in texts:
        for piece in KEY_PIECES:
            assert piece not in text, f"{piece!r} leaked into:\n{text}"


def lines_of(stderr: str) -> list[tuple[str, str, str, str]]:
    """(logger, level, location, message) of each record printed in LiteLLM's format;
    a message's further lines are joined to it."""
    records: list[list[str]] = []
    for line in stderr.splitlines():
        m = LINE.match(line)
        if m:
            records.append([m.group(1), m.group(2), f"{m.group(3)}:{m.group(4)}", m.group(5)])
        elif records:
            records[-1][3] += "\n" + line
    return [tuple(r) for r in records]  # type: ignore[misc]


def dep(name: str, server, model: str = "openai/m", **extra) -> dict:
    return {
        "model_name": name,
        "litellm_params": {"model": model, "api_base": server.base_url, "api_key": KEY, **extra},
    }


def retry_then_fallback_router(server, **kwargs) -> Router:
    """Group `g` always fails (500): one retry, then the fallback group `g2` answers."""
    return Router(
        model_list=[dep("g", server, "openai/error-500"), dep("g2", server)],
        fallbacks=[{"g": ["g2"]}],
        num_retries=1,
        retry_after=0,
        **kwargs,
    )


# ---------------------------------------------------------------------------------------
# Silence by default.
# ---------------------------------------------------------------------------------------
def test_nothing_is_logged_or_printed_unless_asked(server, openai_args, capfd, caplog):
    """A normal call, a failing one, a stream and a Router retrying and falling back:
    no output, and no record from rustllm's loggers (nor any warning from anyone)."""

    def work() -> None:
        rustllm.completion(model="openai/m", messages=USER, **openai_args)
        with pytest.raises(rustllm.InternalServerError):
            rustllm.completion(model="openai/error-500", messages=USER, **openai_args)
        stream = rustllm.completion(model="openai/m", messages=USER, stream=True, **openai_args)
        assert "".join(c.choices[0].delta.content or "" for c in stream)
        router = retry_then_fallback_router(server)
        assert router.completion(model="g", messages=USER).choices[0].message.content

    with unconfigured():
        work()
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")

    caplog.set_level(logging.DEBUG)
    work()
    ours = [r for r in caplog.records if r.name.startswith(("LiteLLM", "rustllm"))]
    assert ours == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert capfd.readouterr() == ("", "")


# ---------------------------------------------------------------------------------------
# Router(set_verbose=True).
# ---------------------------------------------------------------------------------------
def test_a_verbose_router_prints_each_deployment_call_retry_and_fallback(server, capfd):
    with unconfigured():
        router = retry_then_fallback_router(server, set_verbose=True)
        reply = router.completion(model="g", messages=USER)
    assert reply.choices[0].message.content == "Hello from MockServer!"
    out, err = capfd.readouterr()
    assert out == ""
    records = lines_of(err)
    assert records, err
    assert {(logger, level) for logger, level, _, _ in records} == {("LiteLLM Router", "INFO")}
    messages = [m for _, _, _, m in records]
    failure = "litellm.completion(model=openai/error-500) Exception litellm.InternalServerError:"
    # In order: the strategy, two failed tries of `g` with a retry between, the
    # fallback, and the call that answered.
    expected = [
        "Routing strategy: simple-shuffle",
        failure,
        "Retrying request with num_retries: 1",
        failure,
        "Trying to fallback b/w models: g -> g2",
        "litellm.completion(model=openai/m) 200 OK",
    ]
    found = iter(messages)
    for want in expected:
        assert any(m.startswith(want) for m in found), (want, messages)
    assert sum(m.startswith(failure) for m in messages) == 2
    assert "OpenAIException - Mock error 500" in next(m for m in messages if m.startswith(failure))
    # Lines say where in rustllm they come from.
    assert any(loc.startswith("router/mod.rs:") for _, _, loc, _ in records), records
    assert_no_key(out, err)


def test_router_lines_reach_the_programs_own_logging_once(server, capfd, caplog):
    caplog.set_level(logging.INFO, logger="LiteLLM Router")
    router = retry_then_fallback_router(server, set_verbose=True)
    router.completion(model="g", messages=USER)
    records = [r for r in caplog.records if r.name == "LiteLLM Router"]
    messages = [r.getMessage() for r in records]
    assert any(m.startswith("litellm.completion(model=openai/error-500) Exception") for m in messages)
    assert "Retrying request with num_retries: 1" in "\n".join(messages)
    assert any(m.startswith("Trying to fallback b/w models: g -> g2") for m in messages)
    assert "litellm.completion(model=openai/m) 200 OK" in messages
    assert all(r.levelno == logging.INFO for r in records)
    # The program's handlers show them; rustllm prints nothing of its own besides.
    assert capfd.readouterr() == ("", "")
    assert_no_key(caplog.text)


async def test_an_async_verbose_router_logs_from_the_runtime_threads(server, caplog):
    caplog.set_level(logging.INFO, logger="LiteLLM Router")
    router = retry_then_fallback_router(server, set_verbose=True)
    reply = await router.acompletion(model="g", messages=USER)
    assert reply.choices[0].message.content == "Hello from MockServer!"
    messages = [r.getMessage() for r in caplog.records if r.name == "LiteLLM Router"]
    assert "litellm.acompletion(model=openai/m) 200 OK" in messages
    assert any(m.startswith("litellm.acompletion(model=openai/error-500) Exception") for m in messages)


def test_router_debug_level_adds_the_deployment_parameters_masked(server, caplog):
    caplog.set_level(logging.DEBUG, logger="LiteLLM Router")
    Router(model_list=[dep("g", server)], set_verbose=True).completion(model="g", messages=USER)
    assert not [r for r in caplog.records if r.levelno == logging.DEBUG]
    caplog.clear()
    Router(model_list=[dep("g", server)], set_verbose=True, debug_level="DEBUG").completion(model="g", messages=USER)
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(debug) == 1, debug
    assert f"api_base='{server.base_url}'" in debug[0]
    assert "api_key='****'" in debug[0]
    assert "model='openai/m'" in debug[0]
    assert "hi there" not in debug[0]  # the conversation is not repeated
    assert_no_key(caplog.text)


def test_only_the_verbose_router_logs(server, caplog):
    caplog.set_level(logging.DEBUG)
    quiet = Router(model_list=[dep("g", server)])
    Router(model_list=[dep("g", server)], set_verbose=True)
    caplog.clear()
    quiet.completion(model="g", messages=USER)
    assert [r for r in caplog.records if r.name.startswith("LiteLLM")] == []


# ---------------------------------------------------------------------------------------
# rustllm.set_verbose, turn_on_debug(): the raw request and reply.
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("switch", ["set_verbose", "turn_on_debug"])
def test_debug_logging_prints_the_request_and_the_raw_reply(server, capfd, switch):
    with unconfigured():
        if switch == "set_verbose":
            rustllm.set_verbose = True
        else:
            rustllm.turn_on_debug()
        reply = rustllm.completion(
            model="openai/m", messages=USER, api_base=server.base_url, api_key=KEY, max_retries=0, temperature=0.5
        )
    assert server.last_request.headers["authorization"] == f"Bearer {KEY}"  # sent, only hidden
    out, err = capfd.readouterr()
    assert out == ""
    records = lines_of(err)
    sent = [m for logger, level, _, m in records if logger == "LiteLLM" and m.startswith("POST Request Sent")]
    assert len(sent) == 1, err
    request = sent[0]
    assert f"curl -X POST \\\n{server.base_url}/chat/completions \\\n" in request
    assert "-H 'authorization: Bearer ****ghij'" in request
    assert "-H 'content-type: application/json'" in request
    assert '"messages":[{"role":"user","content":"hi there"}]' in request
    assert '"temperature":0.5' in request
    raw = [m for _, _, _, m in records if m.startswith("RAW RESPONSE: 200 OK")]
    assert len(raw) == 1, err
    assert f"(POST {server.base_url}/chat/completions, " in raw[0]
    assert f'"id":"{reply.id}"' in raw[0]
    assert '"content":"Hello from MockServer!"' in raw[0]
    # The call's own lines, at DEBUG and INFO, from Python.
    assert any(m.startswith("litellm.completion(model=openai/m) 200 OK") for _, _, _, m in records)
    assert_no_key(out, err)


def test_a_failed_reply_and_a_refused_connection_are_logged(server, capfd):
    rustllm.set_verbose = True
    server.respond(status=401, body={"error": {"message": f"Incorrect API key provided: {KEY}"}})
    with unconfigured():
        with pytest.raises(rustllm.AuthenticationError):
            rustllm.completion(model="openai/m", messages=USER, api_base=server.base_url, api_key=KEY, max_retries=0)
        with pytest.raises(rustllm.APIConnectionError):
            rustllm.completion(
                model="openai/m", messages=USER, api_base="http://127.0.0.1:9/v1", api_key=KEY, max_retries=0
            )
    out, err = capfd.readouterr()
    messages = [m for _, _, _, m in lines_of(err)]
    raw = [m for m in messages if m.startswith("RAW RESPONSE: 401 Unauthorized")]
    assert len(raw) == 1, err
    assert "Incorrect API key provided: ****ghij" in raw[0]  # the provider echoed the key
    assert any(m.startswith("POST http://127.0.0.1:9/v1/chat/completions failed after") for m in messages), err
    assert_no_key(out, err)


def test_turning_set_verbose_off_silences_again(server, openai_args, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    rustllm.set_verbose = True
    rustllm.completion(model="openai/m", messages=USER, **openai_args)
    assert any(r.getMessage().startswith("POST Request Sent") for r in caplog.records)
    rustllm.set_verbose = False
    caplog.clear()
    with unconfigured():
        rustllm.completion(model="openai/m", messages=USER, **openai_args)
    rustllm.completion(model="openai/m", messages=USER, **openai_args)
    assert [r for r in caplog.records if r.name.startswith("LiteLLM")] == []
    assert capfd.readouterr() == ("", "")
    assert logging.getLogger("LiteLLM").level == logging.NOTSET


def test_a_stream_logs_its_request_and_its_raw_events(server, caplog):
    caplog.set_level(logging.DEBUG, logger="LiteLLM")
    rustllm.set_verbose = True
    stream = rustllm.completion(
        model="openai/m", messages=USER, api_base=server.base_url, api_key=KEY, max_retries=0, stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "Hello from MockServer!"
    messages = [r.getMessage() for r in caplog.records if r.name == "LiteLLM"]
    assert any(m.startswith("POST Request Sent") and '"stream":true' in m for m in messages)
    assert any(m.startswith("RAW RESPONSE: 200 OK") and "streaming" in m for m in messages)
    events = "\n".join(m for m in messages if m.startswith("RAW STREAM EVENTS"))
    assert 'data: {"id":"chatcmpl-mock-' in events
    assert '"content":"Hello"' in events
    assert "data: [DONE]" in events
    assert_no_key(caplog.text)


async def test_async_calls_log_from_the_runtime_threads(server, caplog):
    caplog.set_level(logging.DEBUG, logger="LiteLLM")
    rustllm.set_verbose = True
    reply = await rustllm.acompletion(model="openai/m", messages=USER, api_base=server.base_url, api_key=KEY)
    messages = [r.getMessage() for r in caplog.records if r.name == "LiteLLM"]
    assert any(m.startswith("POST Request Sent") for m in messages)
    assert any(m.startswith("RAW RESPONSE: 200 OK") and reply.id in m for m in messages)
    stream = await rustllm.acompletion(
        model="openai/m", messages=USER, api_base=server.base_url, api_key=KEY, stream=True
    )
    assert "".join([c.choices[0].delta.content or "" async for c in stream]) == "Hello from MockServer!"
    events = [r.getMessage() for r in caplog.records if r.getMessage().startswith("RAW STREAM EVENTS")]
    assert "data: [DONE]" in "\n".join(events)
    assert_no_key(caplog.text)


# ---------------------------------------------------------------------------------------
# Secrets, wherever a provider puts them.
# ---------------------------------------------------------------------------------------
def _provider_calls(server):
    """(call arguments, header the key travels in, how it is shown)."""
    return [
        ({"model": "openai/m", "api_base": server.base_url}, "authorization", "authorization: Bearer ****ghij"),
        ({"model": "anthropic/claude-x", "api_base": server.url}, "x-api-key", "x-api-key: ****ghij"),
        (
            {"model": "gemini/gemini-2.0-flash", "api_base": server.url + "/v1beta"},
            "x-goog-api-key",
            "x-goog-api-key: ****ghij",
        ),
        ({"model": "azure/dep", "api_base": server.url, "api_version": "2024-10-21"}, "api-key", "api-key: ****ghij"),
    ]


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini", "azure"])
def test_the_key_never_appears_in_the_logs(server, capfd, caplog, provider):
    args, header, shown = next(c for c in _provider_calls(server) if c[0]["model"].startswith(provider))
    caplog.set_level(logging.DEBUG)
    rustllm.set_verbose = True
    # The key also in the body (a proxy that wants it there), and echoed in the reply.
    rustllm.completion(messages=USER, api_key=KEY, max_retries=0, extra_body={"user_key": KEY}, **args)
    stream = rustllm.completion(messages=USER, api_key=KEY, max_retries=0, stream=True, **args)
    assert "".join(c.choices[0].delta.content or "" for c in stream)
    assert server.last_request.headers[header].endswith(KEY)  # sent, only hidden in the logs
    text = caplog.text
    assert text.count("POST Request Sent from LiteLLM") == 2
    assert shown in text
    assert '"user_key":"****ghij"' in text
    out, err = capfd.readouterr()
    assert_no_key(text, out, err, "\n".join(repr(r.__dict__) for r in caplog.records))


def test_aws_signatures_and_session_tokens_are_masked(server, caplog, monkeypatch):
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name, raising=False)
    secret, session = "aws-SECRET-access-key-0123456789", "aws-SESSION-token-0123456789abcdef"
    caplog.set_level(logging.DEBUG)
    rustllm.set_verbose = True
    rustllm.completion(
        model="bedrock/anthropic.claude-3-haiku-20240307-v1:0",
        messages=USER,
        api_base=server.url,
        max_retries=0,
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key=secret,
        aws_session_token=session,
        aws_region_name="eu-west-1",
    )
    sent = server.last_request.headers
    signature = sent["authorization"].rsplit("Signature=", 1)[1]
    assert sent["x-amz-security-token"] == session  # sent, only hidden in the logs
    text = caplog.text + "\n".join(repr(r.__dict__) for r in caplog.records)
    assert "-H 'authorization: AWS4-HMAC-SHA256 ****" in text
    assert "-H 'x-amz-security-token: ****cdef'" in text
    for leaked in (secret, session, signature, "SECRET-access", "SESSION-token"):
        assert leaked not in text


def test_a_key_in_the_url_query_or_user_part_is_masked(server, caplog):
    caplog.set_level(logging.DEBUG)
    rustllm.set_verbose = True
    for api_base in (
        f"{server.base_url}?key={KEY}",
        server.base_url.replace("http://", f"http://user:{KEY}@"),
    ):
        # A base with a query makes a URL the server does not know: the call may fail.
        with contextlib.suppress(Exception):
            rustllm.completion(model="openai/m", messages=USER, api_base=api_base, api_key="other-key-1", max_retries=0)
    text = caplog.text
    assert "?key=****ghij" in text
    assert "http://user:****ghij@127.0.0.1" in text
    assert_no_key(text, "\n".join(repr(r.__dict__) for r in caplog.records))


# ---------------------------------------------------------------------------------------
# LITELLM_LOG, and a program that configures logging itself.
# ---------------------------------------------------------------------------------------
def run_program(code: str, server, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "LITELLM_LOG"}
    environ.update(env)
    program = textwrap.dedent(
        f"""
        import sys
        import rustllm
        KEY, BASE = {KEY!r}, {server.base_url!r}
        """
    ) + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, env=environ, check=True
    )


CALL = """
reply = rustllm.completion(model="openai/m", messages=[{"role": "user", "content": "hi"}],
                           api_base=BASE, api_key=KEY, max_retries=0)
print("reply:", reply.choices[0].message.content)
"""


def test_litellm_log_debug_prints_requests_and_replies(server):
    done = run_program(CALL, server, LITELLM_LOG="DEBUG")
    assert done.stdout == "reply: Hello from MockServer!\n"
    messages = [m for _, _, _, m in lines_of(done.stderr)]
    assert sum(m.startswith("POST Request Sent from LiteLLM:") for m in messages) == 1, done.stderr
    assert sum(m.startswith("RAW RESPONSE: 200 OK") for m in messages) == 1, done.stderr
    assert any(m.startswith("litellm.completion(model=openai/m) 200 OK") for m in messages)
    assert_no_key(done.stdout, done.stderr)


def test_litellm_log_info_prints_the_call_but_not_the_raw_http(server):
    done = run_program(CALL, server, LITELLM_LOG="INFO")
    records = lines_of(done.stderr)
    assert [(lg, lv) for lg, lv, _, _ in records] == [("LiteLLM", "INFO")], done.stderr
    assert records[0][3].startswith("litellm.completion(model=openai/m) 200 OK")


def test_nothing_is_printed_without_a_switch(server):
    done = run_program(CALL, server)
    assert (done.stdout, done.stderr) == ("reply: Hello from MockServer!\n", "")


def test_logging_configured_after_the_switch_shows_each_line_once(server):
    setup = """
        import logging
        rustllm.set_verbose = True
        logging.basicConfig(level=logging.WARNING, format="APP %(name)s %(levelname)s %(message)s")
    """
    done = run_program(textwrap.dedent(setup) + CALL, server)
    assert done.stderr.count("POST Request Sent from LiteLLM") == 1, done.stderr
    assert "APP LiteLLM DEBUG POST Request Sent from LiteLLM:" in done.stderr
    assert done.stderr.count("RAW RESPONSE: 200 OK") == 1
    assert not lines_of(done.stderr)  # none in rustllm's own format: the program's handler printed them
