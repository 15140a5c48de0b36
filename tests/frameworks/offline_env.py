"""The environment that keeps every framework offline and quiet: telemetry off, caches in
a temporary folder, hubs offline, a fake key. Read by the runner (run.py, for each test
process) and by conftest.py (so a hand-run pytest is just as quiet). No imports beyond the
standard library: the runner reads it with the system Python."""

from __future__ import annotations

import os
import tempfile


def offline_env() -> dict[str, str]:
    """The variables, with caches under a fresh temporary folder."""
    tmp = tempfile.mkdtemp(prefix="rustllm-frameworks-")
    return {
        "CREWAI_DISABLE_TELEMETRY": "true",
        "CREWAI_DISABLE_TRACKING": "true",
        "CREWAI_TRACING_ENABLED": "false",
        "OTEL_SDK_DISABLED": "true",
        "ANONYMIZED_TELEMETRY": "False",
        "MEM0_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
        "SCARF_NO_ANALYTICS": "true",
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "OPENAI_AGENTS_DISABLE_TRACING": "1",
        "GOOGLE_GENAI_USE_VERTEXAI": "false",
        "DSPY_CACHEDIR": os.path.join(tmp, "dspy"),
        "LLAMA_INDEX_CACHE_DIR": os.path.join(tmp, "llama_index"),
        "MEM0_DIR": os.path.join(tmp, "mem0"),
        "CREWAI_STORAGE_DIR": os.path.join(tmp, "crewai"),
        "HOME": os.environ.get("HOME", tmp),
        "OPENAI_API_KEY": "sk-test",
    }
