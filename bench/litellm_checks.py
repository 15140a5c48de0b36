"""Re-check the README's comparisons with LiteLLM on a given litellm (1.110.2 by default).

Every claim of the form "LiteLLM does X" in README.md is one check below. Each check points
LiteLLM at a loopback server that records what it receives and answers what the check
scripts; nothing leaves the machine and no key is real. The printed lines are what
bench/litellm-1.110-checks.md records.

Run it in a virtualenv holding the real litellm (not rustllm):

    python3 -m venv /work/lit110 && /work/lit110/bin/pip install litellm==1.110.2
    LITELLM_LOCAL_MODEL_COST_MAP=True /work/lit110/bin/python bench/litellm_checks.py [name ...]

and the same checks on rustllm (installed as litellm) with ``.venv/bin/python
bench/litellm_checks.py --rustllm``.
"""

# Every check reports whatever was raised, whatever its class: that is the observation.
# ruff: noqa: BLE001

from __future__ import annotations

import asyncio
import copy
import json
import os
import pickle
import socket
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

# No cost-map download at import, no telemetry, no real keys anywhere.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
for _name in list(os.environ):
    if _name.endswith(("_API_KEY", "_PROXY", "_proxy")) or _name.startswith(("AWS_", "VERTEX")):
        del os.environ[_name]

# Nothing may leave the machine: a look-up of any host but loopback fails at once (LiteLLM
# ignores MISTRAL_API_BASE, for one, and would otherwise try api.mistral.ai).
_getaddrinfo = socket.getaddrinfo


def _loopback_only(host: Any, *args: Any, **kw: Any) -> Any:
    if host not in ("127.0.0.1", "localhost", "::1", None):
        raise socket.gaierror(socket.EAI_NONAME, f"blocked look-up of {host} (loopback only)")
    return _getaddrinfo(host, *args, **kw)


socket.getaddrinfo = _loopback_only

if "--rustllm" in sys.argv:  # the same checks on rustllm standing in for litellm
    sys.argv.remove("--rustllm")
    import rustllm

    rustllm.install_as_litellm()

import litellm  # noqa: E402

litellm.telemetry = False
litellm.suppress_debug_info = True

CHAT = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
USER = [{"role": "user", "content": "hello"}]

Reply = tuple[int, dict[str, str], bytes]


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return status, {"content-type": "application/json", **(headers or {})}, json.dumps(body).encode()


class Recorder:
    """A loopback HTTP server: records each request, answers with ``self.answer(request)``."""

    def __init__(self, answer: Callable[[dict], Reply] | None = None) -> None:
        self.requests: list[dict] = []
        self.answer = answer or (lambda req: json_reply(200, CHAT))
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def handle_any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                req = {
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
                recorder.requests.append(req)
                status, headers, out = recorder.answer(req)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PUT = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def body(self, i: int = -1) -> dict:
        return json.loads(self.requests[i]["body"] or b"{}")

    def paths(self) -> list[str]:
        return [f"{r['method']} {r['path']}" for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def err(e: BaseException) -> str:
    status = getattr(e, "status_code", None)
    return f"{type(e).__name__}(status_code={status}): {str(e)[:140]!r}"


def call(**kw: Any) -> str:
    """A completion against the recorder; the outcome as one string."""
    kw.setdefault("api_key", "sk-test")
    kw.setdefault("messages", USER)
    kw.setdefault("max_retries", 0)
    try:
        r = litellm.completion(**kw)
        return (
            f"returned {type(r).__name__}: content={r.choices[0].message.content!r}" if r.choices else f"returned {r!r}"
        )
    except Exception as e:
        return "raised " + err(e)


CHECKS: dict[str, Callable[[], None]] = {}


def check(fn: Callable[[], None]) -> Callable[[], None]:
    CHECKS[fn.__name__] = fn
    return fn


# --- Where rustllm deliberately differs from LiteLLM ---------------------------------


@check
def refused_connection() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    print(" openai/ refused:", call(model="openai/m", api_base=f"http://127.0.0.1:{port}/v1"))


@check
def not_a_reply_with_200() -> None:
    for label, answer in [
        ("{}", json_reply(200, {})),
        ("HTML", (200, {"content-type": "text/html"}, b"<html><body>login</body></html>")),
        ("anthropic shape", json_reply(200, {"type": "message", "content": [{"type": "text", "text": "x"}]})),
    ]:
        rec = Recorder(lambda req, a=answer: a)
        print(f" 200 {label}:", call(model="openai/m", api_base=rec.url), f"requests={len(rec.requests)}")
        rec.requests.clear()
        call(model="openai/m", api_base=rec.url, max_retries=2)
        print(f"   with max_retries=2: requests={len(rec.requests)}")
        rec.close()


@check
def empty_messages_and_stream_options() -> None:
    rec = Recorder()
    print(" messages=[]:", call(model="openai/m", api_base=rec.url, messages=[]), f"requests={len(rec.requests)}")
    if rec.requests:
        print("   body messages:", rec.body()["messages"])
    rec.requests.clear()
    call(model="openai/m", api_base=rec.url, stream_options={"include_usage": True})
    print(" stream_options without stream: body has stream_options =", "stream_options" in rec.body())
    rec.close()


@check
def redirect_to_another_host() -> None:
    target = Recorder()
    for status in (302, 307):
        target.requests.clear()
        origin = Recorder(lambda req, s=status: (s, {"location": target.url + "/v1/chat/completions"}, b""))
        out = call(model="openai/m", api_base=origin.url + "/v1", api_key="sk-secret")
        seen = target.requests[0] if target.requests else None
        auth = seen and seen["headers"].get("authorization")
        method = seen and seen["method"]
        print(
            f" {status} to another port: {out}; target saw {len(target.requests)} request(s), method={method}, authorization={auth!r}"
        )
        origin.close()
    target.requests.clear()
    origin = Recorder(lambda req: (307, {"location": target.url + "/v1/messages"}, b""))
    out = call(model="anthropic/claude-3-5-haiku-20241022", api_base=origin.url, api_key="sk-ant-secret")
    keys = [r["headers"].get("x-api-key") for r in target.requests]
    print(
        f" anthropic/ 307 to another port: {out[:60]}; target saw {len(target.requests)} request(s), x-api-key={keys}"
    )
    origin.close()
    target.close()


@check
def status_403_and_422() -> None:
    for status in (403, 422):
        rec = Recorder(lambda req, s=status: json_reply(s, {"error": {"message": f"status {s}", "type": "x"}}))
        print(f" openai/ {status}:", call(model="openai/m", api_base=rec.url))
        rec.close()


@check
def error_object_with_200() -> None:
    rec = Recorder(lambda req: json_reply(200, {"error": {"message": "No endpoints found", "code": 404}}))
    print(" openrouter-style 200 + error:", call(model="openai/m", api_base=rec.url))
    rec.close()


@check
def user_param_and_mistral_base() -> None:
    rec = Recorder()
    call(model="openai/my-own-model", api_base=rec.url, user="u-1")
    print(" openai/my-own-model user='u-1': body has user =", "user" in rec.body())
    rec.requests.clear()
    call(model="groq/my-own-model", api_base=rec.url, user="u-1")
    print(" groq/my-own-model user='u-1': body has user =", bool(rec.requests) and "user" in rec.body())
    rec.requests.clear()
    os.environ["MISTRAL_API_BASE"] = rec.url
    os.environ["MISTRAL_API_KEY"] = "k"
    out = call(model="mistral/mistral-small-latest", api_key=None)
    print(" MISTRAL_API_BASE=<recorder>:", out, f"requests at recorder={rec.paths()}")
    del os.environ["MISTRAL_API_BASE"], os.environ["MISTRAL_API_KEY"]
    rec.close()


@check
def message_without_role() -> None:
    rec = Recorder()
    msgs = [{"role": "user", "content": "a"}, {"content": "no role here"}]
    before = copy.deepcopy(msgs)
    out = call(model="openai/m", api_base=rec.url, messages=msgs)
    print(" [{user}, {content only}]:", out)
    if rec.requests:
        print("   sent:", rec.body()["messages"])
    print("   caller's list changed:", msgs != before, msgs[1])
    rec.close()


@check
def message_and_usage_objects() -> None:
    m = litellm.Message(content="x")
    print(' "content" in Message(content="x"):', "content" in m)
    print(
        " Usage(prompt_tokens=1, completion_tokens=2).total_tokens:",
        litellm.Usage(prompt_tokens=1, completion_tokens=2).total_tokens,
    )
    e = litellm.RateLimitError(message="slow down", llm_provider="openai", model="m")
    try:
        back = pickle.loads(pickle.dumps(e))
        print(" pickle RateLimitError round trip:", type(back).__name__, str(back)[:80])
    except Exception as x:
        print(" pickle RateLimitError round trip raised", err(x))


def chunk(delta: dict, finish: str | None = None) -> dict:
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


TOOL_DELTA = {
    "tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
}


@check
def stream_chunk_builder_content_then_tools() -> None:
    raw = [chunk({"role": "assistant", "content": "Let me check. "}), chunk(TOOL_DELTA), chunk({}, "tool_calls")]
    chunks = [litellm.ModelResponseStream(**c) for c in raw]
    r = litellm.stream_chunk_builder(chunks)
    msg = r.choices[0].message
    print(" content before tool calls -> content:", repr(msg.content), "tool_calls:", len(msg.tool_calls or []))
    try:
        r = litellm.stream_chunk_builder(raw)
        print(" plain dict chunks -> content:", repr(r.choices[0].message.content))
    except Exception as e:
        print(" plain dict chunks raised", err(e))


@check
def anthropic_image_403_n() -> None:
    img = Recorder(lambda req: (200, {"content-type": "image/png"}, b"\x89PNG\r\n\x1a\n" + b"\0" * 16))
    rec = Recorder(
        lambda req: json_reply(
            200,
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-x",
                "content": [{"type": "text", "text": "hi"}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 1, "output_tokens": 1},
            },
        )
    )
    content = [
        {"type": "text", "text": "what is it"},
        {"type": "image_url", "image_url": {"url": img.url + "/cat.png"}},
    ]
    # 1.110 refuses to fetch loopback URLs unless allowed (its SSRF guard): allow ours.
    litellm.user_url_allowed_hosts = ["127.0.0.1"]
    out = call(
        model="anthropic/claude-3-5-haiku-20241022", api_base=rec.url, messages=[{"role": "user", "content": content}]
    )
    sent = rec.body()["messages"][0]["content"][1] if rec.requests else None
    print(" http image URL:", out[:60], f"image server saw {img.paths()}; image block sent: {json.dumps(sent)[:120]}")
    rec.requests.clear()
    print(
        " n=1:",
        call(model="anthropic/claude-3-5-haiku-20241022", api_base=rec.url, n=1),
        f"requests={len(rec.requests)}",
    )
    rec.close()
    rec = Recorder(
        lambda req: json_reply(403, {"type": "error", "error": {"type": "permission_error", "message": "no"}})
    )
    print(" 403:", call(model="anthropic/claude-3-5-haiku-20241022", api_base=rec.url))
    rec.close()
    img.close()


@check
def cohere_route() -> None:
    rec = Recorder(
        lambda req: json_reply(
            200,
            {
                "id": "1",
                "message": {"role": "assistant", "content": [{"type": "text", "text": "hi"}]},
                "finish_reason": "COMPLETE",
                "usage": {"tokens": {"input_tokens": 1, "output_tokens": 1}},
                "text": "hi",
                "generation_id": "g",
            },
        )
    )
    for model in ("cohere/command-r-plus", "cohere_chat/command-r-plus"):
        rec.requests.clear()
        out = call(model=model, api_base=rec.url)
        keys = sorted(rec.body()) if rec.requests else []
        print(f" {model}: {rec.paths()} body keys {keys} -> {out[:60]}")
    rec.close()


GEMINI_OK = {
    "candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]}, "finishReason": "STOP"}],
    "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
}


@check
def gemini_key_base_roles_images() -> None:
    rec = Recorder(lambda req: json_reply(200, GEMINI_OK))
    call(model="gemini/gemini-2.0-flash", api_base=rec.url, api_key="AIza-test")
    r = rec.requests[0] if rec.requests else {"path": None, "headers": {}}
    key_headers = {k: v for k, v in r["headers"].items() if k in ("x-goog-api-key", "authorization")}
    print(f" custom api_base: path={r['path']} key headers={key_headers}")
    rec.requests.clear()
    history = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "w", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    tools = [{"type": "function", "function": {"name": "w", "parameters": {"type": "object", "properties": {}}}}]
    call(model="gemini/gemini-2.0-flash", api_base=rec.url, api_key="AIza-test", messages=history, tools=tools)
    if rec.requests:
        contents = rec.body()["contents"]
        print(" tool result turn:", json.dumps(contents[-1])[:160])
    rec.requests.clear()
    img = Recorder(lambda req: (200, {"content-type": "image/png"}, b"\x89PNG\r\n\x1a\n" + b"\0" * 16))
    content = [{"type": "text", "text": "what"}, {"type": "image_url", "image_url": {"url": img.url + "/cat.png"}}]
    out = call(
        model="gemini/gemini-2.0-flash",
        api_base=rec.url,
        api_key="AIza-test",
        messages=[{"role": "user", "content": content}],
    )
    print("   outcome:", out[:160])
    part = rec.body()["contents"][0]["parts"][1] if rec.requests else None
    print(f" http image URL: image server saw {img.paths()}; part sent: {json.dumps(part)[:100]}")
    img.close()
    rec.close()


@check
def named_logging_integration() -> None:
    rec = Recorder()
    litellm.success_callback = ["langfuse"]
    try:
        print(' success_callback=["langfuse"]:', call(model="openai/m", api_base=rec.url))
    finally:
        litellm.success_callback = []
    litellm.enable_cache()
    print(
        " after enable_cache(): input_callback =",
        litellm.input_callback,
        "success_callback =",
        litellm.success_callback,
    )
    litellm.disable_cache()
    rec.close()


@check
def cache_keys() -> None:
    c = litellm.Cache()
    a = c.get_cache_key(model="m", messages=USER, temperature=0.5)
    b = c.get_cache_key(temperature=0.5, messages=USER, model="m")
    print(" get_cache_key depends on keyword order:", a != b)
    rec = Recorder(
        lambda req: json_reply(
            200,
            {
                "object": "list",
                "data": [
                    {"object": "embedding", "index": i, "embedding": [0.1]}
                    for i, _ in enumerate(json.loads(req["body"])["input"])
                ],
                "model": "e",
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            },
        )
    )
    litellm.cache = litellm.Cache()
    try:
        for inputs in (["a", "b"], ["a", "b"], ["a"]):
            litellm.embedding(model="openai/e", input=inputs, api_base=rec.url, api_key="k", caching=True)
        print(' embedding ["a","b"], ["a","b"], ["a"]: requests =', len(rec.requests))
        rec.requests.clear()
        litellm.cache = litellm.Cache()

        async def embed() -> None:
            for inputs in (["c", "d"], ["c", "d"], ["c"]):
                await litellm.aembedding(model="openai/e", input=inputs, api_base=rec.url, api_key="k", caching=True)
                await asyncio.sleep(0.2)  # cache writes are background tasks

        asyncio.run(embed())
        print(' aembedding ["c","d"], ["c","d"], ["c"]: requests =', len(rec.requests))
    finally:
        litellm.cache = None
        rec.close()


@check
def ollama_show_and_penalties() -> None:
    chat = {
        "model": "llama3",
        "message": {"role": "assistant", "content": "hi"},
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": 1,
        "eval_count": 1,
    }
    gen = {
        "model": "llama3",
        "response": "hi",
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": 1,
        "eval_count": 1,
    }
    rec = Recorder(lambda req: json_reply(200, gen if req["path"].endswith("/api/generate") else chat))
    for model in ("ollama_chat/llama3", "ollama/llama3"):
        rec.requests.clear()
        out = call(model=model, api_base=rec.url)
        print(f" {model}: requests {rec.paths()} -> {out[:40]}")
        rec.requests.clear()
        out = call(model=model, api_base=rec.url, frequency_penalty=0.5, presence_penalty=0.25)
        sent = [
            json.loads(r["body"]).get("options")
            for r in rec.requests
            if r["path"].startswith("/api/") and r["path"] != "/api/show"
        ]
        print(
            f"   with frequency_penalty=0.5, presence_penalty=0.25: {out[:60]}...{out[out.find('parameters') :][:50]}; options sent {sent}"
        )
        rec.requests.clear()
        out = call(model=model, api_base=rec.url, frequency_penalty=0.5)
        sent = [json.loads(r["body"]).get("options") for r in rec.requests if r["path"] != "/api/show"]
        print(f"   with frequency_penalty=0.5 alone: {out[:40]}; options sent {sent}")
    rec.close()


# --- "What LiteLLM's users rely on" and the other version mentions --------------------


@check
def internal_names_sent() -> None:
    rec = Recorder()
    for name, value in [
        ("ssl_verify", False),
        ("mock_delay", 0.01),
        ("model_group", "g"),
        ("mock_testing_fallbacks", False),
        ("mock_testing_rate_limit_error", False),
    ]:
        rec.requests.clear()
        call(model="openai/m", api_base=rec.url, **{name: value})
        print(f" {name}={value!r}: in body = {bool(rec.requests) and name in rec.body()}")
    rec.close()


@check
def legacy_catalogue_entries() -> None:
    for name in ("gpt-3.5-turbo-0613", "gpt-4-32k", "azure/gpt-4", "azure/gpt-35-turbo", "azure/gpt-35-turbo-16k"):
        print(f" {name} in litellm.model_cost: {name in litellm.model_cost}")


@check
def stream_after_loop_closed() -> None:
    rec = Recorder(
        lambda req: (
            200,
            {"content-type": "text/event-stream"},
            b"".join(
                f"data: {json.dumps(c)}\n\n".encode()
                for c in [chunk({"role": "assistant", "content": "a"}), chunk({"content": "b"}), chunk({}, "stop")]
            )
            + b"data: [DONE]\n\n",
        )
    )

    async def open_stream() -> Any:
        return await litellm.acompletion(model="openai/m", messages=USER, api_base=rec.url, api_key="k", stream=True)

    s = asyncio.run(open_stream())
    try:
        print(
            " plain for over an acompletion stream after asyncio.run:",
            "".join(c.choices[0].delta.content or "" for c in s),
        )
    except Exception as e:
        print(" plain for over an acompletion stream after asyncio.run raised", err(e))
    rec.close()


@check
def retries_multiply() -> None:
    rec = Recorder(lambda req: json_reply(503, {"error": {"message": "busy"}}))
    for kw in (
        {"max_retries": 2},
        {"num_retries": 1},
        {"num_retries": 2},
        {"num_retries": 2, "max_retries": 2},
        {"num_retries": 1, "max_retries": 0},
        {"num_retries": 3, "max_retries": 1},
    ):
        rec.requests.clear()
        call(model="openai/m", api_base=rec.url, **{"max_retries": None, **kw})
        print(f" {kw} on a 503: {len(rec.requests)} requests")
    rec.close()


# --- Router --------------------------------------------------------------------------


def router_of(*api_bases: str, **kw: Any) -> litellm.Router:
    model_list = [
        {
            "model_name": "g",
            "litellm_params": {"model": "openai/m", "api_base": b, "api_key": "k", **kw.pop("params", {})},
        }
        for b in api_bases
    ]
    return litellm.Router(model_list=model_list, **kw)


@check
def router_retry_count_and_rpm() -> None:
    rec = Recorder(lambda req: json_reply(500, {"error": {"message": "boom"}}))
    router = router_of(rec.url, num_retries=2, retry_after=0)
    try:
        router.completion(model="g", messages=USER)
    except Exception as e:
        text = str(e)
        print(
            f" 3 failing tries: requests={len(rec.requests)}; message ends {text[text.find('LiteLLM Retried') :][:60]!r}"
        )
    rec.close()
    rec = Recorder()
    router = router_of(rec.url, params={"rpm": 3}, routing_strategy="usage-based-routing-v2")
    ok = 0
    for _ in range(5):
        try:
            router.completion(model="g", messages=USER)
            ok += 1
        except Exception as e:
            last = err(e)
    print(f" rpm=3, usage-based-routing-v2, 5 calls in a minute: {ok} admitted; then {last[:90]}")
    rec.close()


@check
def router_connection_error_cooldown() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    s.close()
    rec = Recorder()
    router = router_of(dead, rec.url, num_retries=0, routing_strategy="simple-shuffle")
    failed = 0
    for _ in range(20):
        try:
            router.completion(model="g", messages=USER)
        except Exception as e:
            failed += 1
            last = type(e).__name__
    print(
        f" group of a refusing and a healthy deployment, 20 calls, no retries: {failed} failed ({last if failed else '-'})"
    )
    rec.close()


@check
def router_sync_cost_based() -> None:
    rec = Recorder()
    router = router_of(rec.url, routing_strategy="cost-based-routing")
    try:
        r = router.completion(model="g", messages=USER)
        print(" sync cost-based-routing:", r.choices[0].message.content, f"requests={len(rec.requests)}")
    except Exception as e:
        print(" sync cost-based-routing raised", err(e))
    rec.close()


@check
def router_cache_hit_counts_rpm() -> None:
    rec = Recorder()
    router = router_of(rec.url, params={"rpm": 3}, cache_responses=True, routing_strategy="usage-based-routing-v2")
    outs = []
    for _ in range(4):
        try:
            router.completion(model="g", messages=USER)
            outs.append("ok")
        except Exception as e:
            outs.append(type(e).__name__)
    print(f" rpm=3, same call 4 times with cache_responses=True: {outs}; requests={len(rec.requests)}")
    rec.close()


@check
def router_identical_deployments_and_reset() -> None:
    rec = Recorder()
    router = router_of(rec.url, rec.url)
    print(" two identical deployments get ids:", [d["model_info"]["id"] for d in router.model_list])
    from litellm.integrations.custom_logger import CustomLogger

    logger = CustomLogger()
    litellm.callbacks = [logger]
    router.reset()
    print(" callbacks after router.reset():", litellm.callbacks)
    litellm.callbacks = []
    rec.close()


@check
def router_order_without_pre_call_checks() -> None:
    first, second = Recorder(), Recorder()
    model_list = [
        {
            "model_name": "g",
            "litellm_params": {"model": "openai/m", "api_base": second.url, "api_key": "k", "order": 2},
        },
        {"model_name": "g", "litellm_params": {"model": "openai/m", "api_base": first.url, "api_key": "k", "order": 1}},
    ]
    router = litellm.Router(model_list=model_list)
    for _ in range(10):
        router.completion(model="g", messages=USER)
    print(
        f" order=1 vs order=2, 10 calls, no enable_pre_call_checks: order=1 got {len(first.requests)}, order=2 got {len(second.requests)}"
    )
    first.close()
    second.close()


def main(names: list[str]) -> None:
    from importlib.metadata import version

    if "rustllm" in type(litellm.ModelResponse).__module__ or hasattr(litellm, "install_as_litellm"):
        print(f"rustllm {version('rustllm')} as litellm")
    else:
        print(f"litellm {version('litellm')}, openai {version('openai')}, httpx {version('httpx')}")
    for name, fn in CHECKS.items():
        if names and name not in names:
            continue
        print(f"[{name}]")
        try:
            fn()
        except Exception:
            print(" check failed:", traceback.format_exc().strip().splitlines()[-1])
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
