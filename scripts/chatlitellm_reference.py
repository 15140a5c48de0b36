"""Record what langchain-litellm's ChatLiteLLM and ChatLiteLLMRouter give LangChain users,
for tests/test_langchain_parity.py.

It serves fixed OpenAI replies (one JSON completion, one SSE stream) from
tests/faultserver.py on loopback, calls the real ChatLiteLLM / ChatLiteLLMRouter (with the
real litellm) on them, and writes tests/data/chatlitellm_reference.json: the replies
themselves, then per scenario the ``response_metadata``, ``usage_metadata``, stream chunks
and ``llm_output`` that came back, and the constructor's checks (``validate_environment``)
and retry API. The test serves the same replies to ChatRustLLM and compares.

Run it with LiteLLM and langchain-litellm installed in a throwaway venv (never in
rustllm's own), offline:

    python -m venv /tmp/lcvenv && /tmp/lcvenv/bin/pip install litellm==1.110.2 \
        langchain-litellm==0.11.2 langchain-core==1.8.3
    LITELLM_LOCAL_MODEL_COST_MAP=True /tmp/lcvenv/bin/python -B scripts/chatlitellm_reference.py

(``make bench-frameworks`` builds such a venv: ``.venv-bench-frameworks``.)
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import sys
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "chatlitellm_reference.json"
sys.path.insert(0, str(ROOT / "tests"))

from faultserver import FaultServer, http, sse  # noqa: E402

MODEL = "openai/gpt-4o-mini"
GROUP = "ref-group"
DEPLOYMENT_ID = "dep-ref"

USAGE = {
    "prompt_tokens": 11,
    "completion_tokens": 7,
    "total_tokens": 18,
    "prompt_tokens_details": {"cached_tokens": 3},
    "completion_tokens_details": {"reasoning_tokens": 2},
}
LOGPROBS = {
    "content": [
        {"token": "Hello", "logprob": -0.25, "bytes": [72, 101, 108, 108, 111], "top_logprobs": []},
        {"token": " there.", "logprob": -0.5, "bytes": [32, 116, 104, 101, 114, 101, 46], "top_logprobs": []},
    ]
}
REPLY = {
    "id": "chatcmpl-ref",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "gpt-4o-mini-2024-07-18",
    "system_fingerprint": "fp_ref",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello there."},
            "logprobs": LOGPROBS,
            "finish_reason": "stop",
        }
    ],
    "usage": USAGE,
}


def _chunk(delta: dict, finish_reason: str | None = None, **extra: Any) -> dict:
    return {
        "id": "chatcmpl-ref",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_ref",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        **extra,
    }


STREAM = [
    _chunk({"role": "assistant", "content": ""}),
    _chunk({"content": "Hello"}),
    _chunk({"content": " there."}),
    _chunk({}, "stop"),
    {**_chunk({}), "choices": [], "usage": USAGE},
    "[DONE]",
]

# Constructor inputs whose handling validate_environment decides.
CONSTRUCTOR_CASES: list[dict[str, Any]] = [
    {"temperature": 3},
    {"temperature": -0.5},
    {"top_p": 1.5},
    {"top_k": 0},
    {"temperature": 2, "top_p": 1, "top_k": 1},
    {"base_url": "http://127.0.0.1:1/v1"},
    {"api_base": "http://127.0.0.1:2/v1", "base_url": "http://127.0.0.1:1/v1"},
    {"api_base": None, "base_url": "http://127.0.0.1:1/v1"},
    {"max_retries": None},
    {"streaming": None},
    {"model": None},
    {"openai_api_base": "http://127.0.0.1:3/v1"},
    {"proxy_base_url": "http://127.0.0.1:3/v1"},
]
REPORTED_FIELDS = ["model", "api_base", "max_retries", "streaming", "temperature", "top_p", "top_k"]


def plain(value: Any) -> Any:
    """A JSON value, pydantic objects dumped (their class named in the types map)."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return plain(dump())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def types_of(mapping: dict[str, Any]) -> dict[str, str]:
    return {k: type(v).__name__ for k, v in mapping.items()}


def message_record(message: Any) -> dict[str, Any]:
    return {
        "content": message.content,
        "id": message.id,
        "response_metadata": plain(message.response_metadata),
        "response_metadata_types": types_of(message.response_metadata),
        "usage_metadata": plain(message.usage_metadata),
        "chunk_position": getattr(message, "chunk_position", None),
    }


def stream_record(chunks: list[Any]) -> dict[str, Any]:
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    return {"chunks": [message_record(c) for c in chunks], "merged": message_record(merged)}


def scenarios(make: Any) -> dict[str, Any]:
    """Every LangChain entry point a user reads metadata from, on the fixed replies."""
    from langchain_core.messages import HumanMessage

    out: dict[str, Any] = {}
    llm = make()
    out["invoke"] = message_record(llm.invoke("hi"))
    result = llm.generate([[HumanMessage("hi")]])
    out["generate"] = {
        "llm_output": plain(result.llm_output),
        "llm_output_types": types_of(result.llm_output or {}),
        "generation_info": plain(result.generations[0][0].generation_info),
    }
    out["ainvoke"] = message_record(asyncio.run(llm.ainvoke("hi")))
    out["stream"] = stream_record(list(llm.stream("hi")))

    async def astream() -> list[Any]:
        return [c async for c in llm.astream("hi")]

    out["astream"] = stream_record(asyncio.run(astream()))
    out["invoke_streaming"] = message_record(make(streaming=True).invoke("hi"))
    return out


def constructor_cases(cls: Any, base: dict[str, Any]) -> list[dict[str, Any]]:
    cases = []
    for given in CONSTRUCTOR_CASES:
        case: dict[str, Any] = {"given": given}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                llm = cls(**{**base, **given})
            except Exception as exc:  # noqa: BLE001 - the outcome is what is recorded
                case["error"] = {"type": type(exc).__name__, "message": str(exc)}
            else:
                case["fields"] = {f: plain(getattr(llm, f)) for f in REPORTED_FIELDS}
                case["fields_set"] = sorted(set(given) & llm.model_fields_set)
        case["warnings"] = [str(w.message) for w in caught if "ignores" in str(w.message)]
        cases.append(case)
    return cases


def main() -> None:
    if os.environ.get("LITELLM_LOCAL_MODEL_COST_MAP") != "True":
        sys.exit("set LITELLM_LOCAL_MODEL_COST_MAP=True: litellm would fetch its price map from the internet")
    import litellm
    from langchain_litellm import ChatLiteLLM, ChatLiteLLMRouter

    def script(request: Any) -> bytes:
        return sse(STREAM) if json.loads(request.body).get("stream") else http(200, REPLY)

    with FaultServer(script) as server:
        base_url = server.base_url + "/v1"

        def chat(**kwargs: Any) -> Any:
            return ChatLiteLLM(model=MODEL, api_base=base_url, api_key="sk-ref", **kwargs)

        router = litellm.Router(
            model_list=[
                {
                    "model_name": GROUP,
                    "litellm_params": {"model": MODEL, "api_base": base_url, "api_key": "sk-ref"},
                    "model_info": {"id": DEPLOYMENT_ID},
                }
            ]
        )

        def routed(**kwargs: Any) -> Any:
            return ChatLiteLLMRouter(router=router, model=GROUP, **kwargs)

        record = {
            "generated_with": "LITELLM_LOCAL_MODEL_COST_MAP=True python -B scripts/chatlitellm_reference.py",
            "versions": {name: metadata.version(name) for name in ("litellm", "langchain-litellm", "langchain-core")},
            "model": MODEL,
            "router": {"group": GROUP, "deployment_id": DEPLOYMENT_ID},
            "reply": REPLY,
            "stream": STREAM,
            "chat": scenarios(chat),
            "router_chat": scenarios(routed),
            "api": {
                "max_retries_default": ChatLiteLLM.model_fields["max_retries"].default,
                "completion_with_retry": str(inspect.signature(ChatLiteLLM.completion_with_retry)),
                "acompletion_with_retry": str(inspect.signature(ChatLiteLLM.acompletion_with_retry)),
                "router_completion_with_retry": str(inspect.signature(ChatLiteLLMRouter.completion_with_retry)),
            },
            "constructor": constructor_cases(ChatLiteLLM, {"model": MODEL}),
        }
    OUT.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
