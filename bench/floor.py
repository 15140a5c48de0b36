"""rustllm's async calls against the floor (a plain Rust reqwest + serde_json loop), in one run.

    python bench/floor.py                   # ~1 min: writes bench/RESULTS-floor.md
    python bench/floor.py --rounds 3        # fewer rounds
    python bench/floor.py --quick           # 2 rounds of smaller runs; prints, writes nothing

Issue 18 measures the SDK against the floor, not against LiteLLM, and on this 2-core
machine wall time moves 30-60% within minutes. So every figure here is a ratio taken
*inside one round*: a round runs the floor, rustllm's ``acompletion`` and rustllm's
``Router.acompletion`` once each (in a rotating order), the same number of calls at the
same concurrency, against the same mock process; the ratio of a round is rustllm's calls/s
over the floor's in that round. The report gives the median ratio and its spread (lowest
and highest round), the median calls/s of each, and the client's CPU per call (every thread
of the client process; the mock is another process). Each rustllm run is a fresh
``bench/worker.py`` process (its import and warm-up calls are not timed). Benchmarks report
figures; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report
from run import Counts, Runner, build_floor, log, start_mock

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS-floor.md"
# (concurrency, calls): issue 18's two loads.
LOADS = ((100, 5_000), (1_000, 20_000))
MODES = (
    ("floor", "Rust floor"),
    ("acompletion", "rustllm `acompletion`"),
    ("router", "rustllm `Router.acompletion`"),
)


def one_run(runner: Runner, mode: str, concurrency: int, calls: int, warmup: int) -> dict:
    """One run of `mode`: calls/s and CPU per call, or {"error": ...}."""
    if mode == "floor":
        return runner.floor("calls", runner.url, calls, concurrency, warmup)
    params = {"calls": calls, "warmup": warmup, "reps": 1, "concurrency": concurrency, "router": mode == "router"}
    return runner.worker("throughput", "rustllm", params)


def measure(runner: Runner, rounds: int, loads: tuple[tuple[int, int], ...]) -> dict:
    out: dict = {}
    for concurrency, calls in loads:
        warmup = max(500, concurrency)
        runs: dict[str, list[dict]] = {mode: [] for mode, _ in MODES}
        for r in range(rounds):
            order = [m for m, _ in MODES]
            order = order[r % len(order) :] + order[: r % len(order)]
            for mode in order:
                result = one_run(runner, mode, concurrency, calls, warmup)
                runs[mode].append(result)
                runner.progress(f"c={concurrency} round {r + 1} {mode}", result)
        out[str(concurrency)] = {"calls": calls, "runs": runs}
    return out


def summarize(load: dict) -> dict:
    """Per mode: median calls/s and CPU per call; per rustllm mode: the per-round ratios."""
    runs = load["runs"]
    floor = runs["floor"]
    out: dict = {}
    for mode, _ in MODES:
        good = [x for x in runs[mode] if "calls_per_s" in x]
        if not good:
            out[mode] = {"error": next((x.get("error") or x.get("na") for x in runs[mode]), "no run")}
            continue
        entry = {
            "calls_per_s": statistics.median(x["calls_per_s"] for x in good),
            "cpu_per_call_us": statistics.median(x.get("cpu_per_call_us", float("nan")) for x in good),
        }
        if mode != "floor":
            ratios = [
                x["calls_per_s"] / f["calls_per_s"]
                for x, f in zip(runs[mode], floor)
                if "calls_per_s" in x and "calls_per_s" in f
            ]
            if ratios:
                entry["ratio"] = statistics.median(ratios)
                entry["ratios"] = ratios
        out[mode] = entry
    return out


def markdown(results: dict, rounds: int, machine: dict, seconds: float, command: str) -> str:
    lines = [
        "# rustllm against the floor: async calls",
        "",
        f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on commit "
        f"{machine.get('commit', '?')}, with `{command}` ({seconds / 60:.1f} min). Every run calls the same "
        "mock server (`rustllm.testing.MockServer`, its own process) on loopback. "
        f"{rounds} rounds; each round runs the floor, `acompletion` and `Router.acompletion` once each, "
        "in a rotating order; a ratio is rustllm's calls/s over the floor's *in the same round*. "
        "How and why: the docstring of bench/floor.py and bench/README.md.",
        "",
        "| concurrency, calls | | calls/s (median) | client CPU per call, µs | vs floor (median of rounds) | rounds' lowest - highest | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for concurrency, load in results.items():
        s = summarize(load)
        for mode, label in MODES:
            e = s[mode]
            if "error" in e:
                lines.append(f"| {concurrency}, {load['calls']:,} | {label} | {e['error']} | | | | |")
                continue
            ratio = spread = target = ""
            if "ratio" in e:
                ratio = f"{e['ratio']:.2f}x"
                spread = f"{min(e['ratios']):.2f}x - {max(e['ratios']):.2f}x"
                target = "≥ 0.8x"
            lines.append(
                f"| {concurrency}, {load['calls']:,} | {label} | {e['calls_per_s']:,.0f} | "
                f"{e['cpu_per_call_us']:.1f} | {ratio} | {spread} | {target} |"
            )
    lines += ["", "Every round, calls/s:", ""]
    for concurrency, load in results.items():
        for mode, label in MODES:
            values = " / ".join(
                f"{x['calls_per_s']:,.0f}" if "calls_per_s" in x else "failed" for x in load["runs"][mode]
            )
            lines.append(f"- c={concurrency}, {label}: {values}")
    lines += ["", "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in machine.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5, help="rounds per load (default 5)")
    ap.add_argument("--quick", action="store_true", help="2 rounds of 2,000 / 5,000 calls; prints, writes nothing")
    ap.add_argument(
        "--out", type=Path, default=RESULTS, help="where to write the report (default bench/RESULTS-floor.md)"
    )
    args = ap.parse_args()
    rounds, loads = args.rounds, LOADS
    if args.quick:
        rounds, loads = 2, ((100, 2_000), (1_000, 5_000))
    problem = build_floor()
    if problem is not None:
        sys.exit(f"the Rust floor is not available: {problem}")
    machine = report.machine_info()
    machine["commit"] = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, cwd=BENCH
    ).stdout.strip()
    started = time.monotonic()
    runner = Runner(Counts(), timeout=600)
    mock, runner.url = start_mock()
    try:
        results = measure(runner, rounds, loads)
    finally:
        mock.kill()
    machine["load average at end"] = report.load_average()
    text = markdown(results, rounds, machine, time.monotonic() - started, "python " + " ".join(sys.argv))
    print(text)
    if not args.quick:
        args.out.write_text(text)
        log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
