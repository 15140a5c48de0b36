"""Record LiteLLM's catalogue answers for a sample of models, for tests/test_catalogue.py.

Run it with LiteLLM installed in a throwaway venv (never in rustllm's own):

    python -m venv /tmp/llvenv && /tmp/llvenv/bin/pip install litellm==<version of the catalogue>
    LITELLM_LOCAL_MODEL_COST_MAP=True /tmp/llvenv/bin/python scripts/litellm_catalogue_answers.py

It writes tests/data/litellm_catalogue_answers.json with the litellm version and the
sha256 of the model map that version ships; the test only compares when that hash is the
one of src/catalogue/model_prices.json (both must come from the same litellm).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "litellm_catalogue_answers.json"

# 50 names: bare and provider-prefixed, several providers, dated snapshots, and a few
# models no catalogue knows.
MODELS = [
    # OpenAI, bare
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4o-2024-08-06",
    "gpt-4.1",
    "gpt-4.1-nano",
    "gpt-4",
    "gpt-3.5-turbo",
    "o1",
    "o3-mini",
    "text-embedding-3-small",
    "text-embedding-ada-002",
    "gpt-3.5-turbo-instruct",
    "whisper-1",
    "tts-1",
    # OpenAI, prefixed
    "openai/gpt-4o",
    "openai/gpt-4o-mini",
    "openai/text-embedding-3-large",
    "text-completion-openai/gpt-3.5-turbo-instruct",
    # Anthropic
    "claude-haiku-4-5-20251001",
    "claude-sonnet-4-5",
    "claude-opus-4-5",
    "anthropic/claude-haiku-4-5",
    "anthropic/claude-sonnet-4-5-20250929",
    # other families LiteLLM resolves without a prefix
    "command-r-08-2024",
    "gemini-2.5-pro",
    "amazon.titan-embed-text-v1",
    "anthropic.claude-3-5-haiku-20241022-v1:0",
    # OpenAI-compatible providers
    "deepseek/deepseek-chat",
    "deepseek/deepseek-reasoner",
    "groq/openai/gpt-oss-120b",
    "groq/whisper-large-v3",
    "mistral/mistral-large-latest",
    "mistral/codestral-latest",
    "xai/grok-4.3",
    "together_ai/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo",
    "fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct",
    "perplexity/sonar",
    "cerebras/llama3.1-8b",
    "deepinfra/meta-llama/Meta-Llama-3.1-8B-Instruct",
    "dashscope/qwen-plus",
    # providers rustllm does not route yet (the catalogue still answers)
    "gemini/gemini-2.5-flash",
    "vertex_ai/gemini-3-flash-preview",
    "azure/gpt-4o",
    "bedrock/anthropic.claude-3-5-haiku-20241022-v1:0",
    "cohere/embed-v4.0",
    # unknown
    "my-custom-model",
    "openai/not-a-real-model",
    "groq/unknown-model-xyz",
    "mistral-large-latest",
    "nosuchprovider/some-model",
]

INFO_FIELDS = [
    "key",
    "litellm_provider",
    "mode",
    "max_tokens",
    "max_input_tokens",
    "max_output_tokens",
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "supports_function_calling",
    "supports_vision",
    "supports_reasoning",
]


def answer(fn: Callable[[], Any]) -> dict[str, Any]:
    """The value, or the exception's class and text."""
    try:
        return {"value": fn()}
    except Exception as err:  # noqa: BLE001 - recording whatever LiteLLM raises is the point
        return {"error": type(err).__name__, "message": str(err)}


def main() -> None:
    if os.environ.get("LITELLM_LOCAL_MODEL_COST_MAP") != "True":
        sys.exit("set LITELLM_LOCAL_MODEL_COST_MAP=True so litellm uses the map its wheel ships")
    import litellm

    version = metadata.version("litellm")
    shipped = Path(litellm.__file__).parent / "model_prices_and_context_window_backup.json"
    records = []
    for model in MODELS:
        info = answer(lambda m=model: {k: litellm.get_model_info(m).get(k) for k in INFO_FIELDS})
        records.append(
            {
                "model": model,
                "get_model_info": info,
                "supports_function_calling": answer(lambda m=model: litellm.supports_function_calling(m)),
                "supports_vision": answer(lambda m=model: litellm.supports_vision(m)),
                "get_max_tokens": answer(lambda m=model: litellm.get_max_tokens(m)),
                "cost_per_token": answer(lambda m=model: list(litellm.cost_per_token(m, 1000, 1000))),
                "provider": answer(lambda m=model: litellm.get_llm_provider(m)[1]),
            }
        )
    out = {
        "litellm_version": version,
        "model_map_sha256": hashlib.sha256(shipped.read_bytes()).hexdigest(),
        "generated_with": "LITELLM_LOCAL_MODEL_COST_MAP=True python scripts/litellm_catalogue_answers.py",
        "models": records,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1, sort_keys=False) + "\n")
    print(f"wrote {OUT}: {len(records)} models, litellm {version}")


if __name__ == "__main__":
    main()
