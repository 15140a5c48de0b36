"""Smoke test of an installed rustllm, run by scripts/check_wheels.py inside a fresh venv.

It proves what a user needs on day one from a wheel or an sdist build: the package imports
from the venv (not from a source tree), the compiled core loads, and a completion works
mocked, over HTTP against rustllm.testing.MockServer (sync, async, streamed), and as an
error mapped to LiteLLM's exception class. Prints one line, `import_ms=<n>`, on success;
any failure is an exception and a non-zero exit.

Written for Python 3.9 and needs nothing besides rustllm.
"""

from __future__ import annotations

import asyncio
import sys
import sysconfig
import time
from pathlib import Path

started = time.perf_counter()
import rustllm  # noqa: E402 (the import is what is timed)

import_ms = (time.perf_counter() - started) * 1000

from rustllm import _core, exceptions  # noqa: E402
from rustllm.testing import MockServer  # noqa: E402

MESSAGES = [{"role": "user", "content": "ping"}]


def main() -> None:
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    installed_at = Path(rustllm.__file__).resolve()
    assert site_packages in installed_at.parents, f"rustllm imported from {installed_at}, not {site_packages}"
    assert Path(_core.__file__).resolve().parent == installed_at.parent, _core.__file__

    mocked = rustllm.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="pong")
    assert mocked.choices[0].message.content == "pong", mocked

    with MockServer() as server:
        call = {"messages": MESSAGES, "api_base": server.base_url, "api_key": "sk-test"}
        expected = server.default_text

        sync = rustllm.completion(model="openai/gpt-4o-mini", **call)
        assert sync.choices[0].message.content == expected, sync
        assert server.last_request.body["model"] == "gpt-4o-mini", server.last_request

        asynchronous = asyncio.run(rustllm.acompletion(model="openai/gpt-4o-mini", **call))
        assert asynchronous.choices[0].message.content == expected, asynchronous

        chunks = list(rustllm.completion(model="openai/gpt-4o-mini", stream=True, **call))
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
        assert streamed == expected, streamed

        try:
            rustllm.completion(model="openai/error-429", **call)
        except rustllm.RateLimitError as error:
            assert error.status_code == 429, error.status_code
            # The top-level name and LiteLLM's module path are one class.
            assert rustllm.RateLimitError is exceptions.RateLimitError
        else:
            raise AssertionError("openai/error-429 raised nothing")

    print(f"import_ms={import_ms:.0f}")


if __name__ == "__main__":
    main()
    sys.exit(0)
