"""Regenerate src/catalogue/legacy_models.json: the models an older LiteLLM's map knew and
the bundled (newer) map dropped, so that `get_model_info` and cost keep working for them:
the OpenAI and Azure ones (`gpt-3.5-turbo-0613`, `gpt-4-32k`, `azure/gpt-35-turbo-16k`,
...) and every bare name that LiteLLM resolves to a provider without a prefix
(`claude-3-5-sonnet-20240620`, `gemini-1.5-pro`, `command-r`, ...): rustllm resolves a bare
name only when the catalogue lists it, as LiteLLM does, so these must stay listed.

Run it with the LiteLLM whose names rustllm stays compatible with, in a throwaway venv
(never in rustllm's own), after `make catalogue`:

    python -m venv /tmp/llvenv && /tmp/llvenv/bin/pip install litellm==1.75.8
    /tmp/llvenv/bin/python scripts/legacy_models.py

Entries of the bundled map always win: the legacy file only adds names it lacks.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from importlib import metadata, resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "src" / "catalogue" / "model_prices.json"
OUT = ROOT / "src" / "catalogue" / "legacy_models.json"
PROVIDERS = {"openai", "azure", "text-completion-openai"}


def resolves_bare(name: str) -> bool:
    """Whether LiteLLM's own `get_llm_provider` resolves `name` without a prefix."""
    import litellm

    with contextlib.redirect_stdout(io.StringIO()):  # it prints a red "Provider List" line
        try:
            litellm.get_llm_provider(name)
        except Exception:  # noqa: BLE001 - LiteLLM raises BadRequestError for unknown names
            return False
    return True


def main() -> None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # never fetch the map
    old = json.loads(resources.files("litellm").joinpath("model_prices_and_context_window_backup.json").read_text())
    bundled = json.loads(BUNDLED.read_text())
    legacy = {
        name: entry
        for name, entry in old.items()
        if name not in bundled
        and isinstance(entry, dict)
        and (entry.get("litellm_provider") in PROVIDERS or ("/" not in name and resolves_bare(name)))
    }
    legacy = {"_source": f"litellm {metadata.version('litellm')}", **legacy}
    OUT.write_text(json.dumps(legacy, indent=1, sort_keys=False) + "\n")
    print(f"wrote {len(legacy) - 1} legacy models to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
