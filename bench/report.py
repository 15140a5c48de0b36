"""The one table of bench/run.py, and the Markdown report around it (bench/RESULTS.md)."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
import subprocess
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from worker import STRATEGIES

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ("rustllm", "litellm", "openai", "httpx", "floor")
HEADERS = {"rustllm": "rustllm", "litellm": "litellm", "openai": "openai SDK", "httpx": "httpx", "floor": "Rust floor"}
VERSIONED = ("rustllm", "litellm", "openai", "httpx", "httpx2", "aiohttp", "pydantic")
# First uses timed in fresh processes (bench/worker.py task_cold).
COLD_USES = ("call", "stream", "builder", "counter")


@dataclasses.dataclass
class Cell:
    value: float | None = None
    text: str = "-"


@dataclasses.dataclass
class Row:
    label: str
    budget: str
    cell: Callable[[dict, str], Cell]
    lower_is_better: bool = True
    ratios: bool = True


@dataclasses.dataclass
class Table:
    text: str
    notes: list[str]


def fmt(value: float) -> str:
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_ratio(ratio: float) -> str:
    if ratio >= 10:
        return f"{ratio:.0f}x"
    if ratio >= 1:
        return f"{ratio:.1f}x"
    return f"{ratio:.2f}x"


def count(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def short(result: dict) -> str:
    """One line for the progress log."""

    def rounded(value):
        if isinstance(value, float):
            return round(value, 2)
        if isinstance(value, dict):
            return {k: rounded(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rounded(v) for v in value]
        return value

    text = json.dumps(rounded(result), ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."


class Problems:
    """n/a reasons and errors met while filling the table, listed under it once each."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        if line not in self.lines:
            self.lines.append(line)


def lookup(results: dict, problems: Problems, task: str, client: str, *path: str) -> Cell | float | dict:
    """What is at results[task][client][path...], or a Cell saying why there is nothing."""
    node = results.get(task, {}).get(client)
    where = f"{task} · {HEADERS.get(client, client)}"
    for key in ("", *path):
        if node is None:
            return Cell()
        if key:
            where += f" · {key}" if key in ("sync", "async") else ""
            node = node.get(key) if isinstance(node, dict) else None
            if node is None:
                return Cell()
        if isinstance(node, dict) and "na" in node:
            problems.add(f"{where}: {node['na']}")
            return Cell(None, "n/a")
        if isinstance(node, dict) and "error" in node:
            problems.add(f"{where}: error: {node['error']}")
            return Cell(None, "error")
    if isinstance(node, dict):
        return node
    return float(node) if isinstance(node, (int, float)) else Cell()


def rows(counts, problems: Problems) -> list[Row]:
    def figure(task: str, *path: str, note: Callable[[str], str] = lambda _: "") -> Callable[[dict, str], Cell]:
        def cell(results: dict, client: str) -> Cell:
            found = lookup(results, problems, task, client, *path)
            if not isinstance(found, float):
                return found if isinstance(found, Cell) else Cell()
            return Cell(found, fmt(found) + note(client))

        return cell

    def rss(growth: bool, task: str = "memory") -> Callable[[dict, str], Cell]:
        def cell(results: dict, client: str) -> Cell:
            found = lookup(results, problems, task, client, "rss_mb")
            if not isinstance(found, dict) or len(found) < 2:
                return found if isinstance(found, Cell) else Cell()
            readings = sorted((int(k), v) for k, v in found.items())
            (first, at_first), (last, at_last) = readings[0], readings[-1]
            default = (
                (counts.memory_first, counts.memory_calls)
                if task == "memory"
                else (counts.amemory_first, counts.amemory_calls)
            )
            span = (
                ""
                if (first, last) == default
                else f" ({count(first)}→{count(last)})"
                if growth
                else f" ({count(last)})"
            )
            value = at_last - at_first if growth else at_last
            return Cell(value, (f"{value:+.1f}" if growth else fmt(value)) + span)

        return cell

    def litellm_router_calls(client: str) -> str:
        if client == "litellm" and counts.litellm_router_calls != counts.router_calls:
            return f" ({count(counts.litellm_router_calls)} calls)"
        return ""

    def extra(key: str) -> Callable[[dict, str], Cell]:
        """Router minus direct call, signed."""

        def cell(results: dict, client: str) -> Cell:
            found = lookup(results, problems, "router", client, key)
            if not isinstance(found, float):
                return found if isinstance(found, Cell) else Cell()
            return Cell(found, ("+" if found > 0 else "") + fmt(found) + litellm_router_calls(client))

        return cell

    def selection(strategy: str) -> Callable[[dict, str], Cell]:
        """Router call p50 with 2 and with many deployments, and the difference."""

        def cell(results: dict, client: str) -> Cell:
            found = lookup(results, problems, "selection", client, strategy)
            if not isinstance(found, dict):
                return found if isinstance(found, Cell) else Cell()
            small, large, extra = found["small_p50_us"], found["large_p50_us"], found["extra_p50_us"]
            return Cell(extra, f"{fmt(small)} → {fmt(large)} ({'+' if extra > 0 else ''}{fmt(extra)})")

        return cell

    def over_direct(strategy: str) -> Callable[[dict, str], Cell]:
        """Router (2 deployments) minus direct call, both answering `mock_response`."""

        def cell(results: dict, client: str) -> Cell:
            found = lookup(results, problems, "selection", client, strategy)
            if not isinstance(found, dict) or "router_minus_direct_p50_us" not in found:
                return found if isinstance(found, Cell) else Cell()
            extra = found["router_minus_direct_p50_us"]
            return Cell(extra, f"{'+' if extra > 0 else ''}{fmt(extra)} (direct {fmt(found['direct_p50_us'])})")

        return cell

    def provider_stream(provider: str, mode: str) -> Callable[[dict, str], Cell]:
        """Client CPU µs per chunk in the provider's own stream format, and its ratio to OpenAI's in the same
        process (CPU, not wall time: the mock's cost of producing each format would otherwise be compared)."""

        def cell(results: dict, client: str) -> Cell:
            found = lookup(results, problems, "formats", client, provider, mode, "cpu_per_chunk_us")
            if not isinstance(found, float):
                return found if isinstance(found, Cell) else Cell()
            text = fmt(found)
            openai = lookup(results, Problems(), "formats", client, "openai", mode, "cpu_per_chunk_us")
            if isinstance(openai, float) and openai > 0:
                text += f" ({found / openai:.2f}x OpenAI)"
            return Cell(found, text)

        return cell

    def cold(what: str) -> Callable[[dict, str], Cell]:
        """A process's first use, with the warm figure and the ratio in brackets."""

        def cell(results: dict, client: str) -> Cell:
            found = lookup(results, problems, "cold", client, what)
            if not isinstance(found, dict):
                return found if isinstance(found, Cell) else Cell()
            first, warm = found["first_us"], found["warm_us"]
            return Cell(first, f"{fmt(first)} (warm {fmt(warm)}, {first / warm:.1f}x)")

        return cell

    def litellm_calls(client: str) -> str:
        if client == "litellm" and counts.litellm_async_calls != counts.async_calls:
            return f" ({count(counts.litellm_async_calls)} calls)"
        return ""

    return [
        Row("import time, ms", "< 100 ms", figure("import", "ms")),
        Row("max RSS after import, MB", "< 30 MB", figure("import", "max_rss_mb")),
        *(
            Row(f"first {label} of a process, µs", "≤ 2x warm", cold(what), ratios=what == "call")
            for what, label in (
                ("call", "call"),
                ("stream", "stream (10 chunks)"),
                ("builder", f"stream_chunk_builder ({count(counts.builder_chunks)} chunks)"),
                ("counter", "token_counter"),
            )
        ),
        Row("sync call p50, µs", "≤ 2x floor; ≥ 20x vs litellm", figure("latency", "p50_us")),
        Row("sync call p99, µs", "", figure("latency", "p99_us")),
        Row("Router call p50, µs", "", figure("router", "router", "p50_us", note=litellm_router_calls)),
        Row("Router call p99, µs", "", figure("router", "router", "p99_us", note=litellm_router_calls)),
        Row("Router minus direct call, p50, µs", "≤ 30 µs", extra("extra_p50_us")),
        Row("Router minus direct call, p99, µs", "", extra("extra_p99_us")),
        *(
            Row(
                f"Router selection, 2 vs {counts.selection_deployments:,} deployments, {name}, call p50, µs",
                "flat",
                selection(name),
                ratios=False,
            )
            for name in STRATEGIES
        ),
        *(
            Row(f"Router minus direct call, no request, {name}, p50, µs", "≤ 10 µs", over_direct(name), ratios=False)
            for name in STRATEGIES
        ),
        Row(
            f"async calls/s, concurrency {counts.concurrency}",
            "≥ 50% of floor",
            figure("throughput", "calls_per_s", note=litellm_calls),
            lower_is_better=False,
        ),
        Row(
            f"stream, µs per chunk, sync ({count(counts.stream_chunks)})",
            "",
            figure("stream", "sync", "per_chunk_us"),
        ),
        Row(
            f"stream, µs per chunk, async ({count(counts.stream_chunks)})",
            "",
            figure("stream", "async", "per_chunk_us"),
        ),
        Row(
            f"stream, client CPU µs per chunk, sync ({count(counts.stream_chunks)})",
            "≤ 3 µs",
            figure("stream", "sync", "cpu_per_chunk_us"),
        ),
        Row(
            f"stream, client CPU µs per chunk, async ({count(counts.stream_chunks)})",
            "≤ 10 µs",
            figure("stream", "async", "cpu_per_chunk_us"),
        ),
        *(
            Row(
                f"stream, client CPU µs per chunk, {name}, {mode} ({count(counts.stream_chunks)})",
                "≤ 1.5x OpenAI",
                provider_stream(name.lower(), mode),
            )
            for name in ("Anthropic", "Gemini")
            for mode in ("sync", "async")
        ),
        Row(f"stream_chunk_builder, {count(counts.builder_chunks)} chunks, ms", "< 5 ms", figure("builder", "ms")),
        Row(f"RSS after {count(counts.memory_calls)} sync calls, MB", "", rss(growth=False)),
        Row(
            f"RSS growth {count(counts.memory_first)}→{count(counts.memory_calls)} calls, MB",
            "flat",
            rss(growth=True),
            ratios=False,
        ),
        Row(
            f"RSS after {count(counts.amemory_calls)} async calls (concurrency {counts.concurrency}), MB",
            "",
            rss(growth=False, task="amemory"),
            ratios=False,
        ),
        Row(
            f"RSS growth {count(counts.amemory_first)}→{count(counts.amemory_calls)} async calls, MB",
            "flat",
            rss(growth=True, task="amemory"),
            ratios=False,
        ),
    ]


def table(results: dict, counts, floor_problem: str | None = None) -> Table:
    problems = Problems()
    if floor_problem:
        problems.add(f"Rust floor: not available ({floor_problem})")
    others = [c for c in COLUMNS if c != "rustllm"]
    header = ["", *(HEADERS[c] for c in COLUMNS), *(f"vs {HEADERS[c]}" for c in others), "budget"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows(counts, problems):
        cells = {c: row.cell(results, c) for c in COLUMNS}
        if all(cell.text == "-" for cell in cells.values()):
            continue  # a benchmark left out with --only
        ratios = []
        for other in others:
            mine, theirs = cells["rustllm"].value, cells[other].value
            if not row.ratios or mine is None or theirs is None or mine <= 0 or theirs <= 0:
                ratios.append("")
            else:
                ratios.append(fmt_ratio(theirs / mine if row.lower_is_better else mine / theirs))
        lines.append("| " + " | ".join([row.label, *(cells[c].text for c in COLUMNS), *ratios, row.budget]) + " |")

    notes = [
        "“vs X” is how many times better rustllm does than X on that row (time, memory: X ÷ rustllm; "
        "calls/s: rustllm ÷ X). Above 1x rustllm is ahead; below 1x it is behind.",
    ]
    bare = results.get("import", {}).get("python", {})
    if "ms" in bare:
        notes.append(f"A bare `python` process (no import) has a max RSS of {fmt(bare['max_rss_mb'])} MB.")
    floor_stream = results.get("stream", {}).get("floor", {}).get("sync", {})
    if "per_chunk_us" in floor_stream:
        cpu = floor_stream.get("cpu_per_chunk_us")
        notes.append(
            f"The Rust floor reads the same streams in {fmt(floor_stream['per_chunk_us'])} µs per chunk of wall time"
            + (f" and {fmt(cpu)} µs of its own CPU" if isinstance(cpu, (int, float)) else "")
            + " (reqwest + serde_json on one thread). Wall time per chunk is bounded by how fast the mock, on the "
            "same two cores, produces the stream, so a client's wall figure near the floor's is mostly the mock's; "
            "the client CPU rows (every thread of the client process, mock excluded) are the per-chunk budget's measure."
        )
    router = results.get("router", {})
    beside = [
        f"{HEADERS[c]} {fmt(r['direct']['p50_us'])} / {fmt(r['direct']['p99_us'])} µs"
        for c in ("rustllm", "litellm")
        if isinstance(r := router.get(c), dict) and "direct" in r
    ]
    if beside:
        notes.append(
            "Router rows: one direct `completion` and one `Router.completion` alternate in the same process; "
            f"the direct calls there took (p50 / p99) {'; '.join(beside)}."
        )
    if "deployments" in results.get("selection", {}).get("rustllm", {}):
        notes.append(
            "Router selection rows: rustllm only; `Router.completion` on a group of 2 and on a group of "
            f"{counts.selection_deployments:,} deployments answering with `mock_response` (no request is made), "
            "p50 of each, then the difference in brackets (issue 5: flat)."
        )
    same = results.get("formats", {}).get("rustllm", {}).get("openai", {})
    modes = [
        f"{fmt(same[m]['cpu_per_chunk_us'])} µs {m}" for m in ("sync", "async") if "cpu_per_chunk_us" in same.get(m, {})
    ]
    if modes:
        notes.append(
            f"Anthropic and Gemini rows: rustllm only, each provider's own stream format from the mock; the ratio in "
            f"brackets is to rustllm's OpenAI streams measured in the same process ({', '.join(modes)} of client CPU per chunk)."
        )
    notes += problems.lines
    text = "\n".join(lines) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    return Table(text=text, notes=notes)


# --------------------------------------------------------------------------------------
# The machine and the code measured
# --------------------------------------------------------------------------------------


def _run(*command: str) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _proc_value(path: str, key: str) -> str:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def extension_build() -> str:
    """Which rustllm build is installed: file, size (a release build is the smaller) and time."""
    core = sorted((ROOT / "python" / "rustllm").glob("_core*.so"))
    if not core:
        return ""
    stat = core[0].stat()
    built = datetime.datetime.fromtimestamp(stat.st_mtime, datetime.timezone.utc)
    return f"{core[0].name}, {stat.st_size / 2**20:.1f} MiB, built {built:%Y-%m-%d %H:%M:%S} UTC"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_info() -> dict[str, str]:
    mem_kib = _proc_value("/proc/meminfo", "MemTotal").split()[0]
    info = {
        "CPU": _proc_value("/proc/cpuinfo", "model name"),
        "cores": f"{os.cpu_count()} ({len(os.sched_getaffinity(0))} usable)",
        "RAM": f"{int(mem_kib) / 1024 / 1024:.1f} GiB" if mem_kib.isdigit() else "unknown",
        "OS": f"{platform.system()} {platform.release()}",
        "load average at start": load_average(),
        "load average at end": "",  # filled in by run.py
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "rustc": _run("rustc", "--version") or "unknown",
    }
    for name in VERSIONED:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    extension = extension_build()
    if extension:
        info["rustllm extension"] = extension
    commit = _run("git", "rev-parse", "--short=12", "HEAD") or "unknown"
    changed = _run("git", "status", "--porcelain", "--", "src", "python", "Cargo.toml", "Cargo.lock", "pyproject.toml")
    if changed:
        # "XY path" lines; the output was stripped, so split rather than slice.
        paths = sorted({line.split(maxsplit=1)[-1].split("/")[0] for line in changed.splitlines()})
        commit += f" plus uncommitted changes in {', '.join(paths)} (built into the measured extension)"
    info["commit"] = commit
    return info


# bench/proxy/run.py writes its section of RESULTS.md between these lines; a run of this
# suite keeps it.
PROXY_BEGIN = "<!-- proxy results: written by bench/proxy/run.py -->"
PROXY_END = "<!-- end of proxy results -->"


def proxy_section(path: Path) -> str:
    """The proxy section of the RESULTS.md at `path` (with its marker lines), or ""."""
    try:
        old = path.read_text()
    except OSError:
        return ""
    if PROXY_BEGIN not in old or PROXY_END not in old:
        return ""
    body = old.split(PROXY_BEGIN, 1)[1].split(PROXY_END, 1)[0]
    return "\n" + PROXY_BEGIN + body + PROXY_END + "\n"


def markdown(tab: Table, results: dict, counts, machine: dict[str, str], command: str, seconds: float) -> str:
    c = counts
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds)
    method = [
        f"import: median of {c.import_runs} fresh processes (one untimed run first), timing the `import` "
        "statement; max RSS is the process's peak (VmHWM in /proc/self/status). litellm with `LITELLM_LOCAL_MODEL_COST_MAP=True`.",
        f"first uses: rustllm only; in each of {c.cold_runs} fresh processes (after `import rustllm`), the first "
        "call, the first 10-chunk stream read to the end, the first `stream_chunk_builder` on the "
        f"{c.builder_chunks:,} chunks of a stream read just before (the stream path is warm, the builder is not), or "
        "the first `token_counter` of a short chat, each in its own process, then 50 more (5 for the builder) "
        "for the warm median; the row gives the median first use, the median warm figure and their ratio. "
        "The first call includes the process's first connection to the mock; the floor's is the same program's "
        "first call (its client built as part of it) in as many fresh processes, then 50 more for its warm median.",
        f"sync calls: {c.sync_calls:,} sequential calls after {c.sync_warmup} warm-up calls; the floor is the "
        "same reqwest program at concurrency 1.",
        f"async calls/s: {c.async_calls:,} calls from {c.concurrency} concurrent tasks, median of {c.async_reps} "
        f"runs after {c.async_warmup} warm-up calls; litellm {c.litellm_async_calls:,} calls, "
        f"{c.litellm_async_reps} run (it manages about 200 calls/s).",
        f"streams: (median time of a {c.stream_chunks:,}-chunk stream over {c.stream_reps} runs - median time of a "
        f"1-chunk stream of the same text over {c.stream_short_reps} runs) ÷ {c.stream_chunks:,}, every chunk's "
        "`choices[0].delta.content` read; the client CPU rows do the same with the client process's CPU time "
        "(`time.process_time()`, all threads; the floor reads the same clock). httpx is not measured here.",
        f"Router: {c.router_calls:,} `Router.completion` calls (two deployments of `openai/bench` on the mock) "
        f"alternating with {c.router_calls:,} direct `completion` calls in one process, after {c.router_warmup} "
        f"warm-up pairs; litellm {c.litellm_router_calls:,} pairs after {c.litellm_router_warmup} (its Router takes "
        "about 6 ms a call). Router minus direct is the difference of the two percentiles.",
        f"Router selection: per strategy, one `Router` with 2 and one with {c.selection_deployments:,} deployments "
        "of `openai/bench` with `mock_response` (no request), and a direct `completion(mock_response=...)`, one call "
        f"of each in turn, {c.selection_calls:,} timed calls of each after {c.selection_warmup} warm-up rounds; p50 of "
        "each. The \"no request\" rows are the 2-deployment Router's p50 minus the direct call's (in brackets): the "
        "Router's own cost per strategy, with no network wait to hide in. rustllm only.",
        "Anthropic / Gemini streams: rustllm only, as the OpenAI streams above but in each provider's native format "
        "(`anthropic/…` on the mock's `/v1/messages`, `gemini/…` on `/v1beta/models/…:streamGenerateContent`), "
        "with OpenAI measured again in the same process for the ratio.",
        f"stream_chunk_builder: median of {c.builder_reps} calls (litellm {c.litellm_builder_reps}) on the "
        f"{c.builder_chunks:,} chunks of a real stream, a fresh stream each time (usage counted: the mock's streams carry none).",
        f"memory: RSS after {c.memory_first:,} and {c.memory_calls:,} sequential sync calls, `gc.collect()` before "
        f"each reading; litellm after {c.litellm_memory_first:,} and {c.litellm_memory_calls:,} (about 5 ms a call).",
        f"async memory: rustllm only; RSS after {c.amemory_first:,} and {c.amemory_calls:,} `acompletion` calls from "
        f"{c.concurrency} tasks on one event loop, `gc.collect()` before each reading.",
    ]
    out = [
        "# rustllm benchmark results",
        "",
        f"Measured from {when:%Y-%m-%d %H:%M} UTC on commit {machine.get('commit', 'unknown')}, "
        f"with `{command}` ({seconds / 60:.1f} min). Every client calls the same mock server "
        "(`rustllm.testing.MockServer`, its own process) on loopback; every client runs in its own process. "
        "What each row means: bench/README.md.",
        "",
        tab.text,
        "## How",
        "",
        *(f"- {m}" for m in method),
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in machine.items() if k != "commit"),
        "",
    ]
    return "\n".join(out)
