"""rustllm's overhead benchmarks: rustllm against litellm, the openai SDK, raw httpx and a
plain Rust reqwest loop (the floor), all calling the same mock server, in one run.

    python bench/run.py            # the full run (about 5 minutes on 2 cores), writes bench/RESULTS.md
    python bench/run.py --quick    # a smoke run (about 1 minute), prints the table only

The mock (``bench/mock_server.py``) runs in a process of its own, and every (benchmark,
client) pair runs in a fresh ``bench/worker.py`` process, so no client's imports, threads or
memory touch another's figures. Benchmarks report figures; they never pass or fail. See
bench/README.md for what each row measures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import report

BENCH = Path(__file__).resolve().parent
WORKER = BENCH / "worker.py"
MOCK = BENCH / "mock_server.py"
FLOOR_MANIFEST = BENCH / "floor" / "Cargo.toml"
FLOOR_BIN = BENCH / "floor" / "target" / "release" / "rustllm-bench-floor"
CLIENTS = ("rustllm", "litellm", "openai", "httpx")
TASKS = (
    "import",
    "cold",
    "latency",
    "router",
    "selection",
    "throughput",
    "stream",
    "formats",
    "builder",
    "memory",
    "amemory",
)
RESULT_PREFIX = "BENCH_RESULT "


@dataclasses.dataclass
class Counts:
    """How much work each benchmark does. The defaults are the full run."""

    import_runs: int = 5
    sync_calls: int = 2_000
    sync_warmup: int = 200
    # Router vs direct: this many of each, alternating, after as many warm-up pairs.
    router_calls: int = 2_000
    router_warmup: int = 200
    # LiteLLM's Router takes about 6 ms a call (plus about 4 ms for its direct call).
    litellm_router_calls: int = 300
    litellm_router_warmup: int = 30
    # Router selection: this many calls on each of two Routers (2 and this many
    # deployments), per strategy, after as many warm-up calls.
    selection_deployments: int = 1_000
    selection_calls: int = 2_000
    selection_warmup: int = 200
    concurrency: int = 100
    async_calls: int = 5_000
    async_warmup: int = 500
    async_reps: int = 3
    # LiteLLM manages about 200 calls/s here: 5,000 calls three times would take minutes.
    litellm_async_calls: int = 1_000
    litellm_async_reps: int = 1
    stream_chunks: int = 5_000
    stream_reps: int = 3
    stream_short_reps: int = 10
    # Fresh processes per kind of first use (a call, a stream, stream_chunk_builder, token_counter).
    cold_runs: int = 5
    builder_chunks: int = 10_000
    builder_reps: int = 10
    litellm_builder_reps: int = 3
    memory_calls: int = 50_000
    memory_first: int = 10_000
    # About 5 ms a call: 50,000 would take over 4 minutes.
    litellm_memory_calls: int = 5_000
    litellm_memory_first: int = 1_000
    # Async calls at the async row's concurrency, rustllm only.
    amemory_calls: int = 100_000
    amemory_first: int = 20_000


QUICK = Counts(
    import_runs=2,
    sync_calls=300,
    sync_warmup=50,
    router_calls=300,
    router_warmup=50,
    litellm_router_calls=50,
    litellm_router_warmup=10,
    selection_calls=300,
    selection_warmup=50,
    async_calls=1_000,
    async_warmup=100,
    async_reps=1,
    litellm_async_calls=200,
    stream_chunks=1_000,
    stream_reps=1,
    stream_short_reps=3,
    cold_runs=2,
    builder_chunks=2_000,
    builder_reps=3,
    litellm_builder_reps=1,
    memory_calls=10_000,
    memory_first=2_000,
    litellm_memory_calls=500,
    litellm_memory_first=100,
    amemory_calls=10_000,
    amemory_first=2_000,
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Runner:
    def __init__(self, counts: Counts, timeout: float) -> None:
        self.counts = counts
        self.timeout = timeout
        self.started = time.monotonic()
        self.env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True", PYTHONUNBUFFERED="1")
        # Installed packages import from cached bytecode; a shell that sets
        # PYTHONDONTWRITEBYTECODE would make every import compile every module again.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.url = ""

    def progress(self, what: str, result: dict) -> None:
        log(f"[{time.monotonic() - self.started:5.0f}s] {what:<28} {report.short(result)}")

    def worker(self, task: str, client: str, params: dict) -> dict:
        """One task for one client in a fresh process; its figures, or {"error": ...}."""
        command = [sys.executable, str(WORKER), task, client, self.url or "-", json.dumps(params)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=self.timeout, env=self.env)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {self.timeout:.0f} s"}
        for line in reversed(done.stdout.splitlines()):
            if line.startswith(RESULT_PREFIX):
                return json.loads(line[len(RESULT_PREFIX) :])
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"worker exited {done.returncode}: {tail}"[:300]}

    def floor(self, *args: object) -> dict:
        if not FLOOR_BIN.exists():
            return {"na": "not available (the floor did not build)"}
        try:
            done = subprocess.run(
                [str(FLOOR_BIN), *map(str, args)], capture_output=True, text=True, timeout=self.timeout
            )
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {self.timeout:.0f} s"}
        if done.returncode != 0:
            return {"error": done.stderr.strip()[-300:] or f"exit {done.returncode}"}
        return json.loads(done.stdout)

    # -- benchmarks ---------------------------------------------------------------------

    def imports(self, clients: list[str]) -> dict:
        out = {}
        for client in ["python", *clients]:
            self.worker("import", client, {})  # untimed: writes .pyc files, warms the page cache
            runs = [self.worker("import", client, {}) for _ in range(self.counts.import_runs)]
            failed = next((r for r in runs if "ms" not in r), None)
            if failed is not None:
                out[client] = failed
            else:
                out[client] = {
                    "ms": statistics.median(r["ms"] for r in runs),
                    "max_rss_mb": statistics.median(r["max_rss_mb"] for r in runs),
                    "runs_ms": [round(r["ms"], 1) for r in runs],
                }
            self.progress(f"import {client}", out[client])
        return out

    def latency(self, clients: list[str]) -> dict:
        c = self.counts
        out = {}
        for client in clients:
            out[client] = self.worker("latency", client, {"calls": c.sync_calls, "warmup": c.sync_warmup})
            self.progress(f"sync latency {client}", out[client])
        out["floor"] = self.floor("calls", self.url, c.sync_calls, 1, c.sync_warmup)
        self.progress("sync latency floor (c=1)", out["floor"])
        return out

    def router(self, clients: list[str]) -> dict:
        c = self.counts
        out = {}
        for client in clients:
            if client not in ("rustllm", "litellm"):
                continue
            if client == "litellm":
                params = {"calls": c.litellm_router_calls, "warmup": c.litellm_router_warmup}
            else:
                params = {"calls": c.router_calls, "warmup": c.router_warmup}
            out[client] = self.worker("router", client, params)
            self.progress(f"router vs direct {client}", out[client])
        return out

    def selection(self, clients: list[str]) -> dict:
        """Router selection with 2 and with many deployments, per strategy, rustllm only."""
        c = self.counts
        out = {}
        if "rustllm" in clients:
            params = {"deployments": c.selection_deployments, "calls": c.selection_calls, "warmup": c.selection_warmup}
            out["rustllm"] = self.worker("selection", "rustllm", params)
            self.progress("router selection rustllm", out["rustllm"])
        return out

    def throughput(self, clients: list[str]) -> dict:
        c = self.counts
        out = {}
        for client in clients:
            slow = client == "litellm"
            params = {
                "calls": c.litellm_async_calls if slow else c.async_calls,
                "warmup": min(c.async_warmup, c.litellm_async_calls) if slow else c.async_warmup,
                "reps": c.litellm_async_reps if slow else c.async_reps,
                "concurrency": c.concurrency,
            }
            out[client] = self.worker("throughput", client, params)
            self.progress(f"async c={c.concurrency} {client}", out[client])
        runs = [
            self.floor("calls", self.url, c.async_calls, c.concurrency, c.async_warmup) for _ in range(c.async_reps)
        ]
        good = [r for r in runs if "calls_per_s" in r]
        if good:
            out["floor"] = {"calls": c.async_calls, "calls_per_s": statistics.median(r["calls_per_s"] for r in good)}
        else:
            out["floor"] = runs[0]
        self.progress(f"async c={c.concurrency} floor", out["floor"])
        return out

    def stream(self, clients: list[str]) -> dict:
        c = self.counts
        params = {"chunks": c.stream_chunks, "reps": c.stream_reps, "short_reps": c.stream_short_reps}
        out = {}
        for client in clients:
            if client == "httpx":
                continue
            out[client] = self.worker("stream", client, params)
            self.progress(f"stream {client}", out[client])
        floor = self.floor("stream", self.url, c.stream_chunks, c.stream_reps, c.stream_short_reps)
        # The floor reads one way only; it stands beside both the sync and the async row.
        out["floor"] = {"chunks": c.stream_chunks, "sync": floor, "async": floor}
        self.progress("stream floor", floor)
        return out

    def formats(self, clients: list[str]) -> dict:
        """Anthropic and Gemini streams (and OpenAI again, for the ratio), rustllm only."""
        c = self.counts
        out = {}
        if "rustllm" in clients:
            params = {"chunks": c.stream_chunks, "reps": c.stream_reps, "short_reps": c.stream_short_reps}
            out["rustllm"] = self.worker("formats", "rustllm", params)
            self.progress("stream formats rustllm", out["rustllm"])
        return out

    def cold(self, clients: list[str]) -> dict:
        """First uses in fresh processes against warm ones, rustllm only: per kind of use,
        the median over ``cold_runs`` processes of the first and of the warm median."""
        c = self.counts
        out: dict = {}
        if "rustllm" not in clients:
            return out
        figures: dict = {}
        for what in report.COLD_USES:
            params = {"what": what, "warm": 5 if what == "builder" else 50, "chunks": c.builder_chunks}
            runs = [self.worker("cold", "rustllm", params) for _ in range(c.cold_runs)]
            failed = next((r for r in runs if "first_us" not in r), None)
            figures[what] = failed or {
                "first_us": statistics.median(r["first_us"] for r in runs),
                "warm_us": statistics.median(r["warm_us"] for r in runs),
                "runs": len(runs),
            }
        out["rustllm"] = figures
        self.progress("cold starts rustllm", {k: v.get("first_us", v) for k, v in figures.items()})
        # A plain Rust program's first call pays for its client and its first connection too.
        runs = [self.floor("first", self.url, 50) for _ in range(c.cold_runs)]
        failed = next((r for r in runs if "first_us" not in r), None)
        out["floor"] = {
            "call": failed
            or {
                "first_us": statistics.median(r["first_us"] for r in runs),
                "warm_us": statistics.median(r["warm_us"] for r in runs),
            }
        }
        self.progress("cold start floor", out["floor"]["call"])
        return out

    def builder(self, clients: list[str]) -> dict:
        c = self.counts
        out = {}
        for client in clients:
            if client not in ("rustllm", "litellm"):
                continue
            reps = c.litellm_builder_reps if client == "litellm" else c.builder_reps
            out[client] = self.worker("builder", client, {"chunks": c.builder_chunks, "reps": reps})
            self.progress(f"stream_chunk_builder {client}", out[client])
        return out

    def memory(self, clients: list[str]) -> dict:
        c = self.counts
        out = {}
        for client in clients:
            if client not in ("rustllm", "litellm"):
                continue
            if client == "litellm":
                checkpoints = [c.litellm_memory_first, c.litellm_memory_calls]
            else:
                checkpoints = [c.memory_first, c.memory_calls]
            out[client] = self.worker("memory", client, {"checkpoints": checkpoints})
            self.progress(f"memory {client}", out[client])
        return out

    def amemory(self, clients: list[str]) -> dict:
        c = self.counts
        out = {}
        if "rustllm" in clients:
            params = {"checkpoints": [c.amemory_first, c.amemory_calls], "concurrency": c.concurrency}
            out["rustllm"] = self.worker("amemory", "rustllm", params)
            self.progress("async memory rustllm", out["rustllm"])
        return out


def build_floor() -> str | None:
    """Builds the Rust floor; the reason when it cannot be built."""
    cargo = shutil.which("cargo")
    if cargo is None:
        return "cargo is not installed"
    log("building the Rust floor (bench/floor) ...")
    done = subprocess.run(
        [cargo, "build", "--release", "--quiet", "--manifest-path", str(FLOOR_MANIFEST)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or ["cargo build failed"])[-1]
    return None


def start_mock() -> tuple[subprocess.Popen, str]:
    mock = subprocess.Popen([sys.executable, str(MOCK)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert mock.stdout is not None
    url = mock.stdout.readline().strip()
    if not url.startswith("http"):
        mock.kill()
        raise SystemExit(f"the mock server did not start (said {url!r})")
    return mock, url


def stop_mock(mock: subprocess.Popen) -> None:
    assert mock.stdin is not None
    mock.stdin.close()  # the mock serves until its stdin closes
    try:
        mock.wait(timeout=10)
    except subprocess.TimeoutExpired:
        mock.kill()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small counts: a smoke run of about a minute")
    p.add_argument("--clients", default=",".join(CLIENTS), help="comma-separated subset of %(default)s")
    p.add_argument("--only", default=",".join(TASKS), help="comma-separated subset of %(default)s")
    p.add_argument(
        "--out",
        type=Path,
        help="where to write the Markdown report (default: bench/RESULTS.md for a full run, none for --quick)",
    )
    p.add_argument("--no-write", action="store_true", help="print the table only")
    p.add_argument("--timeout", type=float, default=900, help="seconds before one worker is given up on")
    for field in dataclasses.fields(Counts):
        p.add_argument(f"--{field.name.replace('_', '-')}", type=int, metavar="N", help=f"default {field.default}")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    counts = dataclasses.replace(QUICK) if args.quick else Counts()
    for field in dataclasses.fields(Counts):
        value = getattr(args, field.name)
        if value is not None:
            setattr(counts, field.name, value)
    clients = [c for c in args.clients.split(",") if c]
    tasks = [t for t in args.only.split(",") if t]
    for name, chosen, known in (("client", clients, CLIENTS), ("benchmark", tasks, TASKS)):
        unknown = sorted(set(chosen) - set(known))
        if unknown:
            raise SystemExit(f"unknown {name}(s) {', '.join(unknown)}; choose from {', '.join(known)}")

    machine = report.machine_info()  # before the run: the load average says what else was running
    floor_problem = build_floor()
    if floor_problem is not None:
        log(f"the Rust floor is not available: {floor_problem}")

    runner = Runner(counts, args.timeout)
    results: dict = {}
    mock, runner.url = start_mock()
    log(f"mock server at {runner.url}")
    try:
        for task in TASKS:
            if task in tasks:
                results[task] = getattr(runner, "imports" if task == "import" else task)(clients)
    finally:
        stop_mock(mock)
    seconds = time.monotonic() - runner.started
    machine["load average at end"] = report.load_average()
    if report.extension_build() != machine.get("rustllm extension", ""):
        # .venv is shared: a `make dev` elsewhere during the run swaps the build being measured.
        machine["rustllm extension"] += f"; REPLACED during the run by {report.extension_build()}"
        log("warning: the rustllm extension was rebuilt during the run; its figures may mix two builds")

    command = " ".join(["python bench/run.py", *(argv if argv is not None else sys.argv[1:])]).strip()
    table = report.table(results, counts, floor_problem)
    print(table.text)
    out = args.out
    if out is None and not args.quick:
        out = BENCH / "RESULTS.md"
    if out is not None and not args.no_write:
        text = report.markdown(table, results, counts, machine, command, seconds)
        out.write_text(text + report.proxy_section(out))
        log(f"wrote {out}")


if __name__ == "__main__":
    main()
