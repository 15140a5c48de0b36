"""The proxy's throughput with the built-in guardrail detectors on, against the same proxy
without them (issue 19: within 10%).

Both set-ups serve the same requests from wrk at concurrency 64: a chat completion whose
user message is a ~1 KiB prompt holding an e-mail address and a phone number (so the
masking guardrail finds and replaces two values on every request). The guardrail set-up
adds one `default_on` guardrail with all eight built-in detectors and `action: mask`.
Runs alternate (core, guarded, core, guarded, ...) so that a change in the machine's
load hits both; each figure is the median of its runs. Writes
bench/RESULTS-guardrails-proxy.md.

    python bench/proxy/guardrails.py [--rounds 3] [--seconds 10] [--no-build]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("proxyrun", HERE / "run.py")
assert _spec is not None and _spec.loader is not None
run = importlib.util.module_from_spec(_spec)
sys.modules["proxyrun"] = run
_spec.loader.exec_module(run)

OUT = HERE.parent / "RESULTS-guardrails-proxy.md"

PROMPT = (
    "Please summarise the following support ticket for the on-call engineer and propose "
    "next steps. The customer reports that since the upgrade on Monday their nightly export "
    "job fails after about forty minutes with a timeout, and that retries make it worse. "
    "They have attached the scheduler logs and say the failures started after the database "
    "migration. They ask to be contacted at jane.doe@example.com or on +44 20 7946 0958 "
    "during office hours, and would like a workaround before the end of the week because "
    "their reporting deadline is close. Earlier tickets from the same account mention "
    "slow queries on the largest tables and a support plan that includes a named engineer. "
    "Summarise the problem, list what we know and what we do not, and suggest what to check "
    "first, in order, keeping the answer under two hundred words and without promising a fix."
)

GUARDRAILS = """guardrails:
  - guardrail_name: pii
    litellm_params:
      guardrail: rustllm
      mode: pre_call
      default_on: true
      detect: [email, phone, credit_card, iban, cn_resident_id, us_ssn, ip_address, secret]
      action: mask
"""


def measure(name: str, config: Path, seconds: int, env: dict[str, str]) -> dict:
    """One c=64 run of a fresh proxy on `config`: requests/s and CPU per request."""
    port = run.free_port()
    cmd, penv = run.proxy_command("rustllm", config, port)
    server = run.Server(f"rustllm-{name}", cmd, port, "/health/readiness", penv)
    server.start()
    try:
        url = f"http://127.0.0.1:{port}/chat/completions"
        run.wrk(url, run.CHAT_LUA, 2, 64, env)
        cpu0 = run.cpu_seconds(server.pid)
        load = run.wrk(url, run.CHAT_LUA, seconds, 64, env)
        cpu = (run.cpu_seconds(server.pid) - cpu0) / max(load["requests"], 1) * 1e6
    finally:
        server.stop()
    return {"rps": load["per_s"], "cpu_us": cpu, "errors": load["error_count"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if not args.no_build:
        run.build()
    info = run.machine()
    env = {"BENCH_KEY": run.MASTER_KEY, "BENCH_CONTENT": json.dumps(PROMPT)[1:-1]}
    mock, base = run.start_mock(2)
    results: dict[str, list[dict]] = {"core": [], "guardrails": []}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-guardrails-") as tmp:
            core = Path(tmp) / "core.yaml"
            core.write_text(run.config_yaml(base))
            guarded = Path(tmp) / "guardrails.yaml"
            guarded.write_text(run.config_yaml(base) + GUARDRAILS)
            for r in range(args.rounds):
                for name, config in (("core", core), ("guardrails", guarded)):
                    run.log(f"round {r + 1}/{args.rounds}: {name}, c=64 for {args.seconds:.0f} s")
                    results[name].append(measure(name, config, args.seconds, env))
    finally:
        mock.terminate()
        mock.wait()
    med = {k: {m: statistics.median(x[m] for x in v) for m in ("rps", "cpu_us")} for k, v in results.items()}
    errors = sum(x["errors"] for v in results.values() for x in v)
    share = med["guardrails"]["rps"] / med["core"]["rps"]
    verdict = "pass" if share >= 0.9 else "**miss**"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        "# The proxy with the built-in guardrails on",
        "",
        f"`python bench/proxy/guardrails.py --rounds {args.rounds} --seconds {args.seconds:g}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {info.get('commit', '?')}, "
        f"{info.get('cores (nproc)', '?')} cores, load average at the end {load}. wrk at concurrency 64, "
        "non-streaming chat completions of a ~1 KiB prompt holding an e-mail address and a phone number, "
        "against the bench mock (bench/proxy/mock); core and guarded runs alternate, medians of "
        f"{args.rounds} runs each. The guarded proxy runs one `default_on` guardrail with all eight "
        "built-in detectors and `action: mask` on every request (two values masked each time).",
        "",
        "| set-up | requests/s | vs core | CPU per request (µs) | target | |",
        "|---|---:|---:|---:|---|---|",
        f"| core: master key, no database | {med['core']['rps']:,.0f} | 100% | {med['core']['cpu_us']:.1f} | | |",
        f"| eight built-in detectors, mask, default_on | {med['guardrails']['rps']:,.0f} | {share:.0%} | "
        f"{med['guardrails']['cpu_us']:.1f} | ≥ 90% | {verdict} |",
        "",
        f"Failed requests (non-2xx, socket errors): {errors}. Every run: "
        + "; ".join(f"{k} " + ", ".join(f"{x['rps']:,.0f}/s" for x in v) for k, v in results.items())
        + ".",
        "",
    ]
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
