"""Regenerate src/catalogue/legacy_models.json: the OpenAI and Azure models an older
LiteLLM's map knew and the bundled (newer) map dropped, so that `get_model_info` and cost
keep working for them (`gpt-3.5-turbo-0613`, `gpt-4-32k`, `azure/gpt-35-turbo-16k`, ...).

Run it with the LiteLLM whose names rustllm stays compatible with, in a throwaway venv
(never in rustllm's own), after `make catalogue`:

    python -m venv /tmp/llvenv && /tmp/llvenv/bin/pip install litellm==1.75.8
    /tmp/llvenv/bin/python scripts/legacy_models.py

Entries of the bundled map always win: the legacy file only adds names it lacks.
"""

from __future__ import annotations

import json
from importlib import metadata, resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "src" / "catalogue" / "model_prices.json"
OUT = ROOT / "src" / "catalogue" / "legacy_models.json"
PROVIDERS = {"openai", "azure", "text-completion-openai"}


def main() -> None:
    old = json.loads(resources.files("litellm").joinpath("model_prices_and_context_window_backup.json").read_text())
    bundled = json.loads(BUNDLED.read_text())
    legacy = {
        name: entry
        for name, entry in old.items()
        if name not in bundled and isinstance(entry, dict) and entry.get("litellm_provider") in PROVIDERS
    }
    legacy = {"_source": f"litellm {metadata.version('litellm')}", **legacy}
    OUT.write_text(json.dumps(legacy, indent=1, sort_keys=False) + "\n")
    print(f"wrote {len(legacy) - 1} legacy models to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
