"""The Responses API's overhead against chat completions, on the same mock.

    python bench/responses.py            # prints the table (about 30 s on 2 cores)
    python bench/responses.py --out bench/RESULTS-responses.md

The three paths take turns in ``--rounds`` rounds (each round runs every path once, in a
rotating order), and every ratio is the median of the rounds' own ratios: this machine's
two shared cores have slow spells of seconds, which a path measured in one block takes
alone (the same call's CPU moved 150 -> 200 µs between two blocks a few seconds apart).

Rows: the per-call time of a sync call (median and p99 over ``--calls`` calls, wall time,
the mock's work included; and the client process's CPU time per call, rustllm's own
cost) and the
per-event cost of a stream (the client process's CPU time, every thread, for an N-chunk
stream less that for a 1-chunk stream of the same text, divided by N; sync ``for`` and
``async for``; CPU time, so the mock's cost of writing the events does not enter), for
``completion(model="openai/bench")``, ``responses(model="openai/bench")`` (OpenAI's own
Responses API on the mock) and ``responses(model="groq/bench")`` (the same request
bridged over chat completions). The mock runs in a process of its own
(bench/mock_server.py). Figures only: nothing passes or fails. The issue's budget is
1.5x chat's per call and per event.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def start_mock() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "mock_server.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    return proc, url


def text_of(words: int) -> str:
    return " ".join(map(str, range(words)))


class Paths:
    """The three calls, each sync and async, plain and streaming."""

    def __init__(self, url: str) -> None:
        import rustllm

        self.r = rustllm
        self.kw = {"api_base": url, "api_key": "sk-bench", "max_retries": 0}

    def chat(self, model: str, text: str, stream: bool = False):
        return self.r.completion(
            model=f"openai/{model}", messages=[{"role": "user", "content": text}], stream=stream, **self.kw
        )

    async def achat(self, model: str, text: str):
        return await self.r.acompletion(
            model=f"openai/{model}", messages=[{"role": "user", "content": text}], stream=True, **self.kw
        )

    def native(self, model: str, text: str, stream: bool = False):
        return self.r.responses(model=f"openai/{model}", input=text, stream=stream, **self.kw)

    async def anative(self, model: str, text: str):
        return await self.r.aresponses(model=f"openai/{model}", input=text, stream=True, **self.kw)

    def bridged(self, model: str, text: str, stream: bool = False):
        return self.r.responses(model=f"groq/{model}", input=text, stream=stream, **self.kw)

    async def abridged(self, model: str, text: str):
        return await self.r.aresponses(model=f"groq/{model}", input=text, stream=True, **self.kw)


def per_call(fn, calls: int) -> dict:
    for _ in range(max(20, calls // 10)):
        fn("bench", "hi")
    times = []
    cpu = time.process_time()
    for _ in range(calls):
        t = time.perf_counter()
        fn("bench", "hi")
        times.append(time.perf_counter() - t)
    cpu = time.process_time() - cpu
    times.sort()
    return {
        "median_us": statistics.median(times) * 1e6,
        "p99_us": times[int(len(times) * 0.99) - 1] * 1e6,
        "cpu_us": cpu / calls * 1e6,
    }


def is_content(item) -> bool:
    """A chat chunk with text, or a Responses text-delta event."""
    if getattr(item, "type", None) == "response.output_text.delta":
        return True
    choices = getattr(item, "choices", None)
    return bool(choices and getattr(choices[0].delta, "content", None))


def per_event(sync_open, async_open, chunks: int, reps: int) -> dict:
    text = text_of(chunks)

    def sync_once(n: int) -> tuple[float, int]:
        t = time.process_time()
        seen = sum(1 for item in sync_open(f"echo-chunks-{n}", text, True) if is_content(item))
        return time.process_time() - t, seen

    async def async_once(n: int) -> tuple[float, int]:
        t = time.process_time()
        seen = 0
        async for item in await async_open(f"echo-chunks-{n}", text):
            seen += is_content(item)
        return time.process_time() - t, seen

    sync_once(1)
    short = statistics.median(sync_once(1)[0] for _ in range(reps * 3))
    longs = [sync_once(chunks) for _ in range(reps)]
    out = {"sync_us": (statistics.median(t for t, _ in longs) - short) / chunks * 1e6, "seen": longs[0][1]}

    async def amain() -> float:
        await async_once(1)
        ashort = statistics.median([(await async_once(1))[0] for _ in range(reps * 3)])
        along = statistics.median([(await async_once(chunks))[0] for _ in range(reps)])
        return (along - ashort) / chunks * 1e6

    out["async_us"] = asyncio.run(amain())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--chunks", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    proc, url = start_mock()
    try:
        p = Paths(url)
        paths = [
            ("chat completions", p.chat, p.achat),
            ("responses, native (openai/)", p.native, p.anative),
            ("responses, bridged (groq/)", p.bridged, p.abridged),
        ]
        rounds: list[dict[str, dict]] = []
        for i in range(args.rounds):
            turn = i % len(paths)
            measured = {}
            for name, call, acall in paths[turn:] + paths[:turn]:
                measured[name] = {
                    "call": per_call(call, args.calls),
                    "event": per_event(call, acall, args.chunks, args.reps),
                }
            rounds.append(measured)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)

    table, spread = report(rounds)
    print(table)
    print(spread)
    if args.out:
        import platform

        load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
        args.out.write_text(
            "# The Responses API against chat completions\n\n"
            f"`python bench/responses.py --calls {args.calls} --chunks {args.chunks} --reps {args.reps}"
            f" --rounds {args.rounds}`"
            f" on {platform.machine()}, {time.strftime('%Y-%m-%d')}, load {' '.join(load)}; the mock in its own"
            " process (bench/mock_server.py). A per-event figure is per content chunk of the chat stream"
            " and per `response.output_text.delta` event of a Responses stream (the fixed events a Responses"
            " stream adds, `response.created` ... `response.completed`, fall in the 1-chunk stream that is"
            f" subtracted). The paths take turns in {args.rounds} rounds; each figure is the median of"
            " the rounds, each ratio the median of the rounds' own ratios. Budget (issue 17): within"
            " 1.5x of chat per call and per event.\n\n" + table + "\n\n" + spread + "\n"
        )


def report(rounds: list[dict[str, dict]]) -> tuple[str, str]:
    """The table (medians over the rounds; ratios as medians of each round's ratio) and
    a line listing every round's ratios."""
    med = statistics.median
    names = list(rounds[0])
    chat = names[0]

    def value(r: dict, name: str, part: str, key: str) -> float:
        return r[name][part][key]

    def ratio(name: str, part: str, key: str) -> list[float]:
        return [value(r, name, part, key) / value(r, chat, part, key) for r in rounds]

    lines = [
        "| path | sync call, median (µs) | p99 (µs) | client CPU per call (µs) | per event, sync (CPU µs) "
        "| per event, async (CPU µs) | call vs chat (wall / CPU) | event vs chat (sync / async) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    spread = []
    for name in names:
        m = {
            (part, key): med(value(r, name, part, key) for r in rounds)
            for part, key in (
                ("call", "median_us"),
                ("call", "p99_us"),
                ("call", "cpu_us"),
                ("event", "sync_us"),
                ("event", "async_us"),
            )
        }
        wall, cpu = ratio(name, "call", "median_us"), ratio(name, "call", "cpu_us")
        esync, easync = ratio(name, "event", "sync_us"), ratio(name, "event", "async_us")
        lines.append(
            f"| {name} | {m['call', 'median_us']:.0f} | {m['call', 'p99_us']:.0f} | {m['call', 'cpu_us']:.0f} "
            f"| {m['event', 'sync_us']:.2f} | {m['event', 'async_us']:.2f} "
            f"| {med(wall):.2f}x / {med(cpu):.2f}x | {med(esync):.2f}x / {med(easync):.2f}x |"
        )
        if name != chat:
            fmt = lambda xs: " ".join(f"{x:.2f}" for x in xs)  # noqa: E731
            spread.append(f"{name}: CPU per call {fmt(cpu)}; per event sync {fmt(esync)}, async {fmt(easync)}")
    return "\n".join(lines), "Each round's ratio to chat: " + "; ".join(spread) + "."


if __name__ == "__main__":
    main()
