"""Calls per second through frameworks, on the real litellm and on rustllm, in one run.

    make bench-frameworks                         # builds the bench venvs, then runs this
    python bench/frameworks.py [--seconds 3] [--only dspy,instructor]

For each framework one fresh process per engine makes sequential chat calls for
``--seconds`` after a warm-up, against one mock (``bench/mock_server.py``, the mock every
benchmark uses). The call is the framework's own LiteLLM entry point, as its users write it:
langchain-litellm's ChatLiteLLM.invoke, dspy.LM on its litellm engine, instructor's
from_litellm with a pydantic response model, smolagents' LiteLLMModel.generate,
openai-agents' LitellmModel.get_response, google-adk's LiteLlm.generate_content_async with
an LlmRequest, crewai's LLM(is_litellm=True).call, llama-index's LiteLLM.chat and mem0's
LiteLLM provider's generate_response. ``litellm`` is the real package; ``rustllm`` runs the
same code under ``rustllm.install_as_litellm()``. Both must be installed in the venv that
runs the framework: langchain-litellm, dspy and instructor share the venv running this
(bench/requirements-frameworks.txt); the other six conflict with each other, so each has
``.venv-bench-frameworks-<name>`` (its test lock tests/frameworks/requirements/<name>.txt
plus the real litellm, bench/requirements-frameworks-litellm.txt); make bench-frameworks
builds them all. Workers run offline and with telemetry off (tests/frameworks/offline_env.py).
Figures are printed, never asserted.
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
ROOT = HERE.parent
FRAMEWORKS = (
    "langchain_litellm",
    "dspy",
    "instructor",
    "smolagents",
    "openai_agents",
    "google_adk",
    "crewai",
    "llama_index",
    "mem0",
)
# Frameworks measured in a venv of their own (their dependencies conflict); the rest run
# in the venv running this script.
OWN_VENV = ("smolagents", "openai_agents", "google_adk", "crewai", "llama_index", "mem0")
# The distribution whose version the table shows.
DIST = {
    "langchain_litellm": "langchain-litellm",
    "dspy": "dspy",
    "instructor": "instructor",
    "smolagents": "smolagents",
    "openai_agents": "openai-agents",
    "google_adk": "google-adk",
    "crewai": "crewai",
    "llama_index": "llama-index-llms-litellm",
    "mem0": "mem0ai",
}
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
    if framework == "smolagents":
        from smolagents import LiteLLMModel
        from smolagents.models import ChatMessage, MessageRole

        model = LiteLLMModel(model_id="openai/bench", api_base=base_url, api_key="sk-bench")
        messages = [ChatMessage(role=MessageRole.USER, content=[{"type": "text", "text": "hi"}])]
        return lambda: model.generate(messages).content
    if framework == "openai_agents":
        import asyncio

        from agents import ModelSettings, ModelTracing, set_tracing_disabled
        from agents.extensions.models.litellm_model import LitellmModel

        set_tracing_disabled(True)
        model = LitellmModel(model="openai/bench", base_url=base_url, api_key="sk-bench")
        loop = asyncio.new_event_loop()

        async def one():
            response = await model.get_response(
                system_instructions=None,
                input="hi",
                model_settings=ModelSettings(),
                tools=[],
                output_schema=None,
                handoffs=[],
                tracing=ModelTracing.DISABLED,
                previous_response_id=None,
            )
            return response.output[0].content[0].text

        return lambda: loop.run_until_complete(one())
    if framework == "google_adk":
        import asyncio

        from google.adk.models.lite_llm import LiteLlm
        from google.adk.models.llm_request import LlmRequest
        from google.genai import types

        model = LiteLlm(model="openai/bench", api_base=base_url, api_key="sk-bench")
        loop = asyncio.new_event_loop()

        async def one():
            request = LlmRequest(
                model="openai/bench", contents=[types.Content(role="user", parts=[types.Part(text="hi")])]
            )
            responses = [r async for r in model.generate_content_async(request, stream=False)]
            return responses[-1].content.parts[0].text

        return lambda: loop.run_until_complete(one())
    if framework == "crewai":
        from crewai import LLM

        llm = LLM(model="openai/bench", is_litellm=True, base_url=base_url, api_key="sk-bench")
        return lambda: llm.call("hi")
    if framework == "llama_index":
        from llama_index.core.base.llms.types import ChatMessage, MessageRole
        from llama_index.llms.litellm import LiteLLM

        llm = LiteLLM(model="openai/bench", api_base=base_url, api_key="sk-bench", max_retries=0)
        messages = [ChatMessage(role=MessageRole.USER, content="hi")]
        return lambda: llm.chat(messages).message.content
    if framework == "mem0":
        # mem0's LiteLLM provider takes no base URL or key: litellm reads them from the environment.
        os.environ["OPENAI_API_BASE"] = base_url
        os.environ["OPENAI_API_KEY"] = "sk-bench"
        from mem0.utils.factory import LlmFactory

        llm = LlmFactory.create("litellm", {"model": "openai/bench", "temperature": 0.2, "max_tokens": 100})
        return lambda: llm.generate_response([{"role": "user", "content": "hi"}])
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
        reply = call()
    if framework != "instructor" and reply != "Hello from MockServer!":  # instructor: a City
        raise RuntimeError(f"unexpected reply through {framework}: {reply!r}")
    import_and_warmup = time.perf_counter() - start
    n, t0 = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        call()
        n += 1
    from importlib.metadata import version as dist_version

    version = getattr(litellm, "version", None) or getattr(litellm, "__version__", "")
    return {
        "framework_version": dist_version(DIST[framework]),
        "calls_per_s": n / elapsed,
        "ms_per_call": 1000 * elapsed / n,
        "import_and_warmup_s": import_and_warmup,
        "litellm": str(version),
    }


def _python(framework: str) -> str:
    """The interpreter of the venv the framework is measured in."""
    if framework in OWN_VENV:
        return str(ROOT / f".venv-bench-frameworks-{framework}" / "bin" / "python")
    return sys.executable


def _offline_env() -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "tests" / "frameworks"))
    from offline_env import offline_env

    return offline_env()


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("litellm", "rustllm"):
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
        # The figure is out. Skip interpreter teardown: the real litellm under openai-agents
        # and google-adk (an event loop left open) segfaults there, after the measurement.
        sys.stderr.flush()
        os._exit(0)
    env = {**os.environ, **_offline_env(), **ENV}
    mock = subprocess.Popen(
        [sys.executable, str(HERE / "mock_server.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        base_url = mock.stdout.readline().strip()
        print(f"versions here: {_versions()}; mock {base_url}; {args.seconds:.0f} s of sequential calls per cell")
        print(f"{'framework':<20}{'version':>10}{'litellm calls/s':>16}{'rustllm calls/s':>17}{'speed-up':>10}")
        for framework in args.only.split(","):
            row = {}
            python = _python(framework)
            if not Path(python).exists():
                print(f"{framework:<20}  not measured: no {Path(python).parent.parent.name} (make bench-frameworks)")
                continue
            for engine in ENGINES:
                proc = subprocess.run(
                    [python, __file__, "--seconds", str(args.seconds), "--worker", framework, engine, base_url],
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
            fw_version = next((r["framework_version"] for r in (lite, rust) if r), "?")
            print(f"{framework:<20}{fw_version:>10}{cells[0]:>16}{cells[1]:>17}{speedup:>10}", flush=True)
    finally:
        mock.stdin.close()
        mock.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
