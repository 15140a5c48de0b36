"""Calls per second through frameworks, on the real litellm and on rustllm, in one run.

    make bench-frameworks                         # builds .venv-bench-frameworks, then runs this
    python bench/frameworks.py [--seconds 3] [--only dspy,instructor]

For each framework (langchain-litellm's ChatLiteLLM.invoke, dspy.LM on its litellm engine,
instructor's from_litellm with a pydantic response model) one fresh process per engine
makes sequential calls for ``--seconds`` after a warm-up, against one mock
(``bench/mock_server.py``, the mock every benchmark uses). ``litellm`` is the real package;
``rustllm`` runs the same code under ``rustllm.install_as_litellm()``. Both must be
installed in the venv running this (see bench/requirements-frameworks.txt). Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FRAMEWORKS = ("langchain_litellm", "dspy", "instructor")
ENGINES = ("litellm", "rustllm")
# The real litellm must not fetch its price map, nor any framework phone home.
ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "OTEL_SDK_DISABLED": "true",
    "DO_NOT_TRACK": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "HF_HUB_OFFLINE": "1",
}


def _call_factory(framework: str, base_url: str):
    """One call through the framework, as its users write it."""
    if framework == "langchain_litellm":
        from langchain_litellm import ChatLiteLLM

        llm = ChatLiteLLM(model="openai/bench", api_base=base_url, api_key="sk-bench", max_retries=0)
        return lambda: llm.invoke("hi").content
    if framework == "dspy":
        import dspy

        lm = dspy.LM("openai/bench", engine="litellm", api_base=base_url, api_key="sk-bench", cache=False)
        return lambda: lm("hi")[0]
    if framework == "instructor":
        import instructor
        import litellm
        from pydantic import BaseModel

        class City(BaseModel):
            name: str
            population: int

        client = instructor.from_litellm(litellm.completion)

        def call():
            return client.chat.completions.create(
                model="openai/bench",
                api_base=base_url,
                api_key="sk-bench",
                response_model=City,
                max_retries=0,
                messages=[{"role": "user", "content": "Paris?"}],
            ).name

        return call
    raise ValueError(framework)


def worker(framework: str, engine: str, base_url: str, seconds: float) -> dict:
    """Runs in the child process: import, warm up, then count calls for ``seconds``."""
    start = time.perf_counter()
    if engine == "rustllm":
        import rustllm

        rustllm.install_as_litellm()
    import litellm

    call = _call_factory(framework, base_url)
    for _ in range(20):
        call()
    import_and_warmup = time.perf_counter() - start
    n, t0 = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        call()
        n += 1
    version = getattr(litellm, "version", None) or getattr(litellm, "__version__", "")
    return {
        "calls_per_s": n / elapsed,
        "ms_per_call": 1000 * elapsed / n,
        "import_and_warmup_s": import_and_warmup,
        "litellm": str(version),
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("litellm", "rustllm", "langchain-litellm", "dspy", "instructor"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "absent"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--only", default=",".join(FRAMEWORKS))
    parser.add_argument("--worker", nargs=3, metavar=("FRAMEWORK", "ENGINE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        framework, engine, url = args.worker
        print("BENCH_RESULT " + json.dumps(worker(framework, engine, url, args.seconds)), flush=True)
        return 0
    env = {**os.environ, **ENV}
    mock = subprocess.Popen(
        [sys.executable, str(HERE / "mock_server.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        base_url = mock.stdout.readline().strip()
        print(f"versions: {_versions()}; mock {base_url}; {args.seconds:.0f} s of sequential calls per cell")
        print(f"{'framework':<20}{'litellm calls/s':>16}{'rustllm calls/s':>17}{'speed-up':>10}")
        for framework in args.only.split(","):
            row = {}
            for engine in ENGINES:
                proc = subprocess.run(
                    [sys.executable, __file__, "--seconds", str(args.seconds), "--worker", framework, engine, base_url],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=False,
                )
                lines = [line for line in proc.stdout.splitlines() if line.startswith("BENCH_RESULT ")]
                if proc.returncode != 0 or not lines:
                    row[engine] = None
                    print(f"  {framework} on {engine} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
                else:
                    row[engine] = json.loads(lines[-1][len("BENCH_RESULT ") :])
            lite, rust = row["litellm"], row["rustllm"]
            cells = [f"{r['calls_per_s']:.0f}" if r else "error" for r in (lite, rust)]
            speedup = f"{rust['calls_per_s'] / lite['calls_per_s']:.1f}x" if lite and rust else "-"
            print(f"{framework:<20}{cells[0]:>16}{cells[1]:>17}{speedup:>10}", flush=True)
    finally:
        mock.stdin.close()
        mock.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
