"""The model catalogue and cost functions through the public API, and rustllm's answers
checked against LiteLLM's for a sample of 50 models (tests/data, recorded by
scripts/litellm_catalogue_answers.py from the litellm whose map src/catalogue ships)."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import rustllm as litellm

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = json.loads((ROOT / "tests" / "data" / "litellm_catalogue_answers.json").read_text())
USER_HI = [{"role": "user", "content": "hi"}]
GPT_4O = (2.5e-06, 1e-05)  # input, output USD per token


def _same(ours: Any, theirs: Any) -> bool:
    if isinstance(theirs, float) or isinstance(ours, float):
        return isinstance(ours, (int, float)) and math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-15)
    if isinstance(theirs, list):
        return isinstance(ours, (list, tuple)) and len(ours) == len(theirs) and all(map(_same, ours, theirs))
    return ours == theirs


def _answer(fn: Any) -> dict[str, Any]:
    try:
        return {"value": fn()}
    except Exception as err:  # noqa: BLE001 - whatever is raised is what gets compared
        return {"error": type(err).__name__, "message": str(err)}


def test_answers_come_from_the_bundled_catalogue():
    """The recorded answers are only meaningful for the map that produced them."""
    shipped = hashlib.sha256((ROOT / "src" / "catalogue" / "model_prices.json").read_bytes()).hexdigest()
    assert ANSWERS["model_map_sha256"] == shipped, (
        f"src/catalogue/model_prices.json is not the map of litellm {ANSWERS['litellm_version']}: "
        "rerun scripts/litellm_catalogue_answers.py with the litellm version `make catalogue` used"
    )
    assert len(ANSWERS["models"]) == 50


@pytest.mark.parametrize("record", ANSWERS["models"], ids=lambda r: r["model"])
def test_matches_litellm(record):
    model = record["model"]
    expected = record["get_model_info"]
    got = _answer(lambda: litellm.get_model_info(model))
    if "error" in expected:
        assert got.get("error") == "Exception", got
        assert got["message"] == expected["message"]
    else:
        info = got.get("value")
        assert info is not None, got
        for field, value in expected["value"].items():
            assert _same(info.get(field), value), (field, info.get(field), value)

    assert litellm.supports_function_calling(model) == record["supports_function_calling"]["value"]
    assert litellm.supports_vision(model) == record["supports_vision"]["value"]

    for name, fn in (
        ("get_max_tokens", lambda: litellm.get_max_tokens(model)),
        ("cost_per_token", lambda: litellm.cost_per_token(model, 1000, 1000)),
        ("provider", lambda: litellm.get_llm_provider(model)[1]),
    ):
        theirs, ours = record[name], _answer(fn)
        if "error" in theirs:
            assert "error" in ours, (name, ours)
            if theirs["error"] == "BadRequestError":
                assert ours["error"] == "BadRequestError", (name, ours)
        else:
            assert "value" in ours, (name, ours)
            assert _same(ours["value"], theirs["value"]), (name, ours["value"], theirs["value"])


def test_litellm_reference_figures():
    assert litellm.get_max_tokens("gpt-4o") == 16384
    assert litellm.cost_per_token("gpt-4o", prompt_tokens=1000, completion_tokens=1000) == pytest.approx((0.0025, 0.01))
    assert litellm.supports_function_calling("gpt-4o") is True
    assert litellm.supports_function_calling("no-such-model-at-all") is False
    info = litellm.get_model_info("openai/gpt-4o")
    assert info["key"] == "gpt-4o" and info["litellm_provider"] == "openai" and info["mode"] == "chat"
    # every supports_* key is present, None when the entry does not say
    assert "supports_audio_output" in info and info["supports_audio_output"] is None


@pytest.mark.parametrize(
    "helper",
    [
        "supports_function_calling",
        "supports_parallel_function_calling",
        "supports_vision",
        "supports_response_schema",
        "supports_reasoning",
        "supports_tool_choice",
        "supports_prompt_caching",
        "supports_system_messages",
    ],
)
def test_supports_helpers_never_raise(helper):
    fn = getattr(litellm, helper)
    assert fn("my-custom-model") is False
    assert fn("nosuchprovider/x") is False
    assert fn("gpt-4o", custom_llm_provider="openai") in (True, False)
    assert fn("gpt-4o") == bool(litellm.get_model_info("gpt-4o").get(helper))


def test_reasoning_and_caching_flags():
    assert litellm.supports_reasoning("o3-mini") is True
    assert litellm.supports_reasoning("gpt-4o") is False
    assert litellm.supports_prompt_caching("gpt-4o") is True


def test_unknown_model_raises_litellms_plain_exception():
    with pytest.raises(Exception) as info:
        litellm.get_model_info("my-custom-model")
    assert type(info.value) is Exception
    assert str(info.value).startswith("This model isn't mapped yet. model=my-custom-model, custom_llm_provider=None.")
    with pytest.raises(Exception, match="isn't mapped yet"):
        litellm.get_max_tokens("my-custom-model")
    with pytest.raises(Exception, match="isn't mapped yet"):
        litellm.cost_per_token("openai/my-custom-model", 1, 1)


def test_supported_openai_params():
    params = litellm.get_supported_openai_params("gpt-4o")
    for p in ("temperature", "tools", "tool_choice", "response_format", "max_retries", "extra_headers", "user"):
        assert p in params
    assert "user" not in litellm.get_supported_openai_params("groq/llama-3.3-70b")
    assert "response_format" not in litellm.get_supported_openai_params("gpt-4")
    assert litellm.get_supported_openai_params("claude-sonnet-4-5", custom_llm_provider="anthropic")[:13] == [
        "stream",
        "stop",
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "tools",
        "tool_choice",
        "extra_headers",
        "parallel_tool_calls",
        "response_format",
        "user",
        "web_search_options",
    ]
    assert litellm.get_supported_openai_params("my-custom-model") is None
    assert litellm.get_model_info("gpt-4o")["supported_openai_params"] == params


def test_model_cost_and_model_list():
    cost = litellm.model_cost
    assert cost is litellm.model_cost  # built once
    assert len(cost) > 1000
    assert "sample_spec" in cost
    assert cost["gpt-4o"]["input_cost_per_token"] == GPT_4O[0]
    assert "fallback_generalizations" not in cost
    names = litellm.model_list
    assert "gpt-4o" in names and len(names) == len(set(names))


def test_register_model_adds_a_model():
    litellm.register_model(
        {
            "test-registered-chat": {
                "input_cost_per_token": "1e-06",  # strings become numbers, as in LiteLLM
                "output_cost_per_token": 2e-06,
                "max_output_tokens": 1234,
                "litellm_provider": "openai",
                "mode": "chat",
                "supports_function_calling": True,
            }
        }
    )
    assert litellm.get_model_info("test-registered-chat")["key"] == "test-registered-chat"
    assert litellm.get_max_tokens("test-registered-chat") == 1234
    assert litellm.supports_function_calling("test-registered-chat") is True
    assert litellm.cost_per_token("test-registered-chat", 10, 10) == pytest.approx((1e-5, 2e-5))
    assert litellm.model_cost["test-registered-chat"]["input_cost_per_token"] == 1e-06
    assert "test-registered-chat" in litellm.model_list
    # an OpenAI entry makes the bare name resolve to openai, as LiteLLM's provider lists do
    assert litellm.get_llm_provider("test-registered-chat")[1] == "openai"
    resp = litellm.completion(model="test-registered-chat", messages=USER_HI, mock_response="ok")
    assert resp._hidden_params["response_cost"] == pytest.approx(10 * 1e-6 + 20 * 2e-6)


def test_register_model_overrides_through_a_prefixed_name():
    before = dict(litellm.model_cost["gpt-4o-mini"])
    try:
        litellm.register_model({"openai/gpt-4o-mini": {"input_cost_per_token": 1.0, "mode": None}})
        info = litellm.get_model_info("gpt-4o-mini")
        assert info["input_cost_per_token"] == 1.0
        assert info["output_cost_per_token"] == before["output_cost_per_token"]  # merged, not replaced
        assert info["mode"] == "chat"  # None values are ignored
        assert litellm.cost_per_token("gpt-4o-mini", 3, 0)[0] == 3.0
    finally:
        litellm.register_model({"gpt-4o-mini": before})
    assert litellm.get_model_info("gpt-4o-mini")["input_cost_per_token"] == before["input_cost_per_token"]


def test_register_model_from_json_text(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"test-file-model": {"input_cost_per_token": 3e-6, "litellm_provider": "openai"}}))
    litellm.register_model(str(path))
    assert litellm.cost_per_token("test-file-model", 1, 0)[0] == pytest.approx(3e-6)


def test_cached_and_custom_prices():
    entry = litellm.get_model_info("gpt-4o")
    prompt, _ = litellm.cost_per_token("gpt-4o", prompt_tokens=1000, completion_tokens=0, cache_read_input_tokens=400)
    assert prompt == pytest.approx(600 * entry["input_cost_per_token"] + 400 * entry["cache_read_input_token_cost"])
    custom = litellm.cost_per_token(
        "gpt-4o", 10, 20, custom_cost_per_token={"input_cost_per_token": 1.0, "output_cost_per_token": 2.0}
    )
    assert custom == (10.0, 40.0)
    # custom prices price models the catalogue does not know
    assert litellm.cost_per_token("my-own-model", 10, 20, input_cost_per_token=1.0, output_cost_per_token=0.5) == (
        10.0,
        10.0,
    )


def test_completion_cost_of_a_mock_reply():
    resp = litellm.completion(model="gpt-4o", messages=USER_HI, mock_response="hello")
    assert litellm.completion_cost(completion_response=resp) == pytest.approx(2.25e-4)
    assert resp._hidden_params["response_cost"] == pytest.approx(2.25e-4)
    # the dict form works too
    assert litellm.completion_cost(completion_response=resp.model_dump()) == pytest.approx(2.25e-4)
    assert litellm.completion_cost(
        completion_response=resp, input_cost_per_token=1.0, output_cost_per_token=1.0
    ) == pytest.approx(30.0)


def test_completion_cost_from_text():
    prompt, completion = "Hey, how's it going?", "Fine, thank you for asking."
    expected = (
        litellm.token_counter(model="gpt-4o", text=prompt) * GPT_4O[0]
        + litellm.token_counter(model="gpt-4o", text=completion) * GPT_4O[1]
    )
    assert litellm.completion_cost(model="gpt-4o", prompt=prompt, completion=completion) == pytest.approx(expected)
    msgs = [{"role": "user", "content": prompt}]
    expected = litellm.token_counter(model="gpt-4o", messages=msgs) * GPT_4O[0]
    assert litellm.completion_cost(model="openai/gpt-4o", messages=msgs) == pytest.approx(expected)
    with pytest.raises(Exception, match="isn't mapped yet"):
        litellm.completion_cost(model="openai/my-own-model", prompt="x", completion="y")


def test_response_cost_of_a_real_call(server, openai_args):
    resp = litellm.completion(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "one two three"}], **openai_args
    )
    usage = resp.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    expected = usage.prompt_tokens * GPT_4O[0] + usage.completion_tokens * GPT_4O[1]
    assert resp._hidden_params["response_cost"] == pytest.approx(expected)
    assert litellm.completion_cost(completion_response=resp) == pytest.approx(expected)
    # a model the catalogue does not know has no cost
    resp = litellm.completion(model="openai/any", messages=USER_HI, **openai_args)
    assert resp._hidden_params["response_cost"] is None
    # prices passed to the call win, and are not sent
    resp = litellm.completion(
        model="openai/any", messages=USER_HI, input_cost_per_token=1.0, output_cost_per_token=2.0, **openai_args
    )
    assert resp._hidden_params["response_cost"] == pytest.approx(
        resp.usage.prompt_tokens * 1.0 + resp.usage.completion_tokens * 2.0
    )
    assert "input_cost_per_token" not in server.last_request.body


async def test_response_cost_async_and_embeddings(server, openai_args):
    resp = await litellm.acompletion(model="openai/gpt-4o-mini", messages=USER_HI, **openai_args)
    entry = litellm.get_model_info("gpt-4o-mini")
    expected = (
        resp.usage.prompt_tokens * entry["input_cost_per_token"]
        + resp.usage.completion_tokens * entry["output_cost_per_token"]
    )
    assert resp._hidden_params["response_cost"] == pytest.approx(expected)
    emb = litellm.embedding(model="openai/text-embedding-3-small", input=["a b c"], **openai_args)
    price = litellm.get_model_info("text-embedding-3-small")["input_cost_per_token"]
    assert emb._hidden_params["response_cost"] == pytest.approx(emb.usage.prompt_tokens * price)


def test_import_does_not_parse_the_catalogue():
    code = (
        "import time; t = time.perf_counter(); import rustllm; ms = (time.perf_counter() - t) * 1000\n"
        "from rustllm import _core, catalogue\n"
        "assert not _core.catalogue_loaded(), 'import parsed the catalogue'\n"
        "assert catalogue._model_cost is None and catalogue._model_list is None\n"
        "f = rustllm.supports_vision  # the functions exist without parsing anything\n"
        "assert not _core.catalogue_loaded()\n"
        "assert rustllm.supports_vision('gpt-4o') and _core.catalogue_loaded()\n"
        "print(round(ms, 1))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    # Generous: the point is that nothing heavy happens at import (budget: 100 ms).
    assert float(out.stdout.strip()) < 1000


def test_azure_spellings_and_old_openai_names_are_known():
    """Azure's ``gpt-35-turbo`` names and OpenAI snapshots LiteLLM 1.75.8 still prices."""
    assert litellm.get_model_info("gpt-35-turbo")["key"] == "azure/gpt-35-turbo"
    assert litellm.get_model_info("gpt-35-turbo-16k")["litellm_provider"] == "azure"
    assert litellm.get_model_info("azure/gpt-35-turbo-16k")["max_input_tokens"] == 16385
    assert litellm.cost_per_token(model="azure/gpt-35-turbo-16k", prompt_tokens=1000, completion_tokens=1000) == (
        pytest.approx(0.003),
        pytest.approx(0.004),
    )
    for old in ("gpt-3.5-turbo-0613", "gpt-3.5-turbo-0301", "gpt-4-0314", "gpt-4-32k", "azure/gpt-4"):
        info = litellm.get_model_info(old)
        assert info["input_cost_per_token"] > 0, old
    assert litellm.get_llm_provider("gpt-4-32k")[1] == "openai"
