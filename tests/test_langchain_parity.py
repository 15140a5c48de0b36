"""ChatRustLLM and ChatRustLLMRouter give LangChain users what langchain-litellm's
ChatLiteLLM and ChatLiteLLMRouter give them for the same replies: ``response_metadata``
(invoke, ainvoke, stream, astream, invoke with ``streaming=True``), which stream chunks
carry it, ``usage_metadata``, ``generate()``'s ``llm_output`` and generation info, the
constructor's checks (``validate_environment``), ``max_retries`` and the retry methods.

The expectations are tests/data/chatlitellm_reference.json: the real ChatLiteLLM
(langchain-litellm 0.11.2 on litellm 1.110.2) run on the same replies, served byte for
byte from the same FaultServer on loopback; scripts/chatlitellm_reference.py records it.

Where ChatRustLLM differs on purpose, the test says so: ``model_provider`` is
``"rustllm"`` (it equals ``ls_provider``), ``system_fingerprint`` is added, the Router
model keeps ``model`` and ``logprobs``, and ``token_usage`` is a dict with LiteLLM
``Usage``'s reading (``usage["total_tokens"]`` and ``usage.total_tokens``) that
``json.dumps`` accepts.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from faultserver import FaultServer, http, sse
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import HumanMessage

import rustllm
from rustllm.langchain import ChatRustLLM, ChatRustLLMRouter
from rustllm.testing import MockServer

REFERENCE = json.loads((Path(__file__).parent / "data" / "chatlitellm_reference.json").read_text())
# Keys ChatRustLLM adds to ChatLiteLLM's, and those its Router model adds to ChatLiteLLMRouter's.
CHAT_EXTRA = {"system_fingerprint"}
ROUTER_EXTRA = {"system_fingerprint", "model", "logprobs"}


def _script(request: Any) -> bytes:
    return sse(REFERENCE["stream"]) if json.loads(request.body).get("stream") else http(200, REFERENCE["reply"])


@pytest.fixture(scope="module")
def base_url():
    with FaultServer(_script) as server:
        yield server.base_url + "/v1"


def _chat(base_url: str, **kwargs: Any) -> ChatRustLLM:
    return ChatRustLLM(model=REFERENCE["model"], api_base=base_url, api_key="sk-ref", **kwargs)


def _routed(base_url: str, **kwargs: Any) -> ChatRustLLMRouter:
    deployment = {"model": REFERENCE["model"], "api_base": base_url, "api_key": "sk-ref"}
    router = rustllm.Router(
        model_list=[
            {
                "model_name": REFERENCE["router"]["group"],
                "litellm_params": deployment,
                "model_info": {"id": REFERENCE["router"]["deployment_id"]},
            }
        ]
    )
    return ChatRustLLMRouter(router=router, model=REFERENCE["router"]["group"], **kwargs)


def _set(value: Any) -> Any:
    """``value`` without its None entries: rustllm's ``Usage`` and ``logprobs`` leave out
    some fields that LiteLLM 1.110 adds as None (``video_tokens``, ``refusal``, ...)."""
    if isinstance(value, dict):
        return {k: _set(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_set(v) for v in value]
    return value


def _same_metadata(ours: dict, theirs: dict, extra: set[str]) -> None:
    """``ours`` holds ``theirs`` (the recorded ChatLiteLLM metadata), equal value for
    equal value, and adds only ``extra``."""
    assert set(theirs) <= set(ours), f"missing {set(theirs) - set(ours)}"
    assert set(ours) - set(theirs) <= extra, f"unexpected {set(ours) - set(theirs) - extra}"
    for key, expected in theirs.items():
        value = ours[key]
        if key == "model_provider":
            assert (expected, value) == ("litellm", "rustllm")
        elif key == "response_cost":
            assert value == pytest.approx(expected, rel=1e-9)
        else:
            assert _set(json.loads(json.dumps(value))) == _set(expected), key


def _same_message(ours: Any, theirs: dict, extra: set[str]) -> None:
    assert ours.content == theirs["content"]
    assert ours.usage_metadata == theirs["usage_metadata"]
    assert getattr(ours, "chunk_position", None) == theirs["chunk_position"]
    _same_metadata(ours.response_metadata, theirs["response_metadata"], extra)


def _merged(chunks: list[Any]) -> Any:
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    return merged


def _same_stream(chunks: list[Any], theirs: dict, extra: set[str]) -> None:
    """The chunks that carry metadata or usage, in order, are ChatLiteLLM's; chunks that
    carry only text may be split differently (rustllm puts the role on the first word)."""
    carriers = [c for c in chunks if c.response_metadata or c.usage_metadata or c.chunk_position]
    expected = [c for c in theirs["chunks"] if c["response_metadata"] or c["usage_metadata"] or c["chunk_position"]]
    assert len(carriers) == len(expected)
    for ours, recorded in zip(carriers, expected):
        assert ours.usage_metadata == recorded["usage_metadata"]
        assert ours.chunk_position == recorded["chunk_position"]
        _same_metadata(ours.response_metadata, recorded["response_metadata"], extra)
    _same_message(_merged(chunks), theirs["merged"], extra)


@pytest.mark.parametrize(("kind", "extra"), [("chat", CHAT_EXTRA), ("router_chat", ROUTER_EXTRA)])
def test_invoke_and_ainvoke_metadata(base_url, kind, extra):
    llm = (_chat if kind == "chat" else _routed)(base_url)
    recorded = REFERENCE[kind]
    message = llm.invoke("hi")
    _same_message(message, recorded["invoke"], extra)
    _same_message(asyncio.run(llm.ainvoke("hi")), recorded["ainvoke"], extra)
    # LiteLLM's Usage is read by key and by attribute; json.dumps takes the whole metadata.
    usage = message.response_metadata["token_usage"]
    assert usage["total_tokens"] == usage.total_tokens == usage.get("total_tokens") == 18
    assert usage.prompt_tokens_details.cached_tokens == 3
    json.dumps(message.response_metadata)
    assert message.response_metadata["model_provider"] == llm._get_ls_params()["ls_provider"]


@pytest.mark.parametrize(("kind", "extra"), [("chat", CHAT_EXTRA), ("router_chat", ROUTER_EXTRA)])
def test_stream_and_astream_metadata(base_url, kind, extra):
    llm = (_chat if kind == "chat" else _routed)(base_url)
    recorded = REFERENCE[kind]
    _same_stream(list(llm.stream("hi")), recorded["stream"], extra)

    async def astream() -> list[Any]:
        return [c async for c in llm.astream("hi")]

    _same_stream(asyncio.run(astream()), recorded["astream"], extra)
    streaming = (_chat if kind == "chat" else _routed)(base_url, streaming=True)
    _same_message(streaming.invoke("hi"), recorded["invoke_streaming"], extra)


def test_generate_llm_output_and_generation_info(base_url):
    chat = _chat(base_url).generate([[HumanMessage("hi")]])
    routed = _routed(base_url).generate([[HumanMessage("hi")]])
    assert _set(chat.generations[0][0].generation_info) == _set(REFERENCE["chat"]["generate"]["generation_info"])
    info = {k: v for k, v in routed.generations[0][0].generation_info.items() if k not in ROUTER_EXTRA}
    assert info == REFERENCE["router_chat"]["generate"]["generation_info"]
    # ChatLiteLLMRouter sums the usage of a batch; ChatLiteLLM gives {}, ChatRustLLM the Router's layout.
    expected = REFERENCE["router_chat"]["generate"]["llm_output"]
    assert _set(routed.llm_output) == _set(expected)
    assert _set(chat.llm_output) == _set({**expected, "model_name": REFERENCE["model"]})
    batch = _chat(base_url).generate([[HumanMessage("a")], [HumanMessage("b")]])
    assert batch.llm_output["token_usage"]["total_tokens"] == 36
    assert batch.llm_output["token_usage"]["prompt_tokens_details"]["cached_tokens"] == 6


def _value_error(message: str) -> str:
    match = re.search(r"Value error, (.*?) \[type=", message)
    assert match, message
    return match.group(1)


@pytest.mark.parametrize("case", REFERENCE["constructor"], ids=lambda case: json.dumps(case["given"]))
def test_constructor_checks_as_validate_environment(case):
    given = case["given"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if "error" in case:
            with pytest.raises(Exception) as raised:
                ChatRustLLM(**{"model": REFERENCE["model"], **given})
            assert type(raised.value).__name__ == case["error"]["type"]
            assert _value_error(str(raised.value)) == _value_error(case["error"]["message"])
            return
        llm = ChatRustLLM(**{"model": REFERENCE["model"], **given})
    for field, expected in case["fields"].items():
        assert getattr(llm, field) == expected, field
    assert sorted(set(given) & llm.model_fields_set) == case["fields_set"]
    said = [str(w.message).replace("ChatRustLLM", "ChatLiteLLM") for w in caught if "ignores" in str(w.message)]
    assert said == case["warnings"]
    # A refused endpoint name is dropped, not sent on as a completion argument.
    assert not set(given) & set(llm.model_kwargs)
    assert llm.client is rustllm


def _annotations(signature: str) -> str:
    """A signature with its annotations written the same way whether or not its module
    postpones them."""
    return signature.replace("'", "").replace("langchain_core.callbacks.manager.", "")


def test_retry_api():
    api = REFERENCE["api"]
    assert ChatRustLLM.model_fields["max_retries"].default == api["max_retries_default"] == 1
    assert _annotations(str(inspect.signature(ChatRustLLM.completion_with_retry))) == _annotations(
        api["completion_with_retry"]
    )
    assert _annotations(str(inspect.signature(ChatRustLLM.acompletion_with_retry))) == _annotations(
        api["acompletion_with_retry"]
    )
    assert _annotations(str(inspect.signature(ChatRustLLMRouter.completion_with_retry))) == _annotations(
        api["router_completion_with_retry"]
    )
    assert inspect.iscoroutinefunction(ChatRustLLM.acompletion_with_retry)


class _Retries(BaseCallbackHandler):
    def __init__(self) -> None:
        self.retries = 0

    def on_retry(self, retry_state: Any, **kwargs: Any) -> None:
        self.retries += 1


@pytest.fixture
def no_waits(monkeypatch):
    """tenacity's waits between attempts (4 to 10 s) recorded instead of slept: it sleeps
    with ``time.sleep`` in sync code and ``asyncio.sleep`` in async code."""
    import tenacity

    waits: list[float] = []
    real_async_sleep = asyncio.sleep

    async def async_sleep(seconds: float, *args: Any) -> Any:
        waits.append(seconds)
        return await real_async_sleep(0)

    monkeypatch.setattr(tenacity.nap.time, "sleep", waits.append)
    monkeypatch.setattr(asyncio, "sleep", async_sleep)
    return waits


@pytest.mark.parametrize("router", [False, True])
def test_max_retries_tries_again_as_chatlitellm(no_waits, router):
    with MockServer() as server:
        if router:
            deployment = {"model": "openai/m", "api_base": server.base_url, "api_key": "sk"}
            router_ = rustllm.Router(model_list=[{"model_name": "g", "litellm_params": deployment}], num_retries=0)
            make = lambda **kw: ChatRustLLMRouter(router=router_, model="g", **kw)  # noqa: E731
        else:
            make = lambda **kw: ChatRustLLM(  # noqa: E731
                model="m", custom_llm_provider="openai", api_base=server.base_url, api_key="sk", **kw
            )
        # rustllm's own retries off (per call, as ChatLiteLLM passes max_retries= to LiteLLM).
        call = {"max_retries": 0}
        # Default: one attempt, the error reaches the caller.
        server.fail_next(1, status=429)
        with pytest.raises(rustllm.RateLimitError):
            make().invoke("hi", **call)
        assert server.request_count == 1
        # max_retries=3: two rate limits, then the answer.
        server.reset()
        server.fail_next(2, status=429)
        handler = _Retries()
        message = make(max_retries=3).invoke("hi", config={"callbacks": [handler]}, **call)
        assert message.content == "Hello from MockServer!"
        assert server.request_count == 3
        assert handler.retries == 2
        assert no_waits == [4, 4]
        # Async and streaming calls retry the same way.
        server.reset()
        server.fail_next(1, status=429)

        async def astream() -> str:
            return "".join([c.content async for c in make(max_retries=2).astream("hi", **call)])

        assert asyncio.run(astream()) == "Hello from MockServer!"
        assert server.request_count == 2
        assert no_waits == [4, 4, 4]
        # A 400 is not retried.
        server.reset()
        server.fail_next(1, status=400)
        with pytest.raises(rustllm.BadRequestError):
            make(max_retries=3).invoke("hi", **call)
        assert server.request_count == 1


def test_provider_keys_show_the_environment_and_explicit_ones_are_sent(monkeypatch):
    with MockServer() as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-env-at-init")
        llm = ChatRustLLM(model="openai/m", api_base=server.base_url)
        assert llm.openai_api_key.get_secret_value() == "sk-env-at-init"
        assert "sk-env-at-init" not in repr(llm)
        # Left to rustllm, which reads the environment at call time (as LiteLLM for ChatLiteLLM).
        monkeypatch.setenv("OPENAI_API_KEY", "sk-env-at-call")
        llm.invoke("hi")
        assert server.last_request.headers["authorization"] == "Bearer sk-env-at-call"
        explicit = ChatRustLLM(model="openai/m", api_base=server.base_url, openai_api_key="sk-explicit")
        explicit.invoke("hi")
        assert server.last_request.headers["authorization"] == "Bearer sk-explicit"
        assert os.environ["OPENAI_API_KEY"] == "sk-env-at-call"


def test_router_model_defaults_to_the_first_group():
    router = rustllm.Router(
        model_list=[
            {"model_name": "first", "litellm_params": {"model": "openai/a", "api_key": "sk"}},
            {"model_name": "second", "litellm_params": {"model": "openai/b", "api_key": "sk"}},
        ]
    )
    llm = ChatRustLLMRouter(router=router)
    assert llm.model == "first"
    llm.set_default_model("second")
    assert llm._get_ls_params()["ls_model_name"] == "second"
