"""What guardrails add to a call, on the same mock.

    python bench/guardrails.py            # prints the table (about 30 s on 2 cores)
    python bench/guardrails.py --out bench/RESULTS-guardrails.md

Rows, each the median per-call wall time of sync ``completion(model="openai/bench")``
over ``--calls`` calls (rounds of every variant interleaved, so drift on the machine
hits them alike), and the difference to the plain call of the same prompt:

- a registered ``CustomGuardrail`` that does nothing (``default_on``, no hook
  overridden): the issue's "a guardrail that does nothing adds <= 2 us";
- a ``CustomGuardrail`` whose ``async_pre_call_hook`` returns ``data`` unchanged (a sync
  call runs it on a private event loop; ``acompletion`` awaits it inline: its own rows);
- the built-in detectors (all eight, action ``log`` and ``mask``) on a 4 KiB prompt: the
  issue's "built-in detection on a 4 KiB prompt adds <= 20 us"; and the detection alone
  (``_core.guardrails_check_request`` on the same request, no call).

The mock runs in a process of its own (bench/mock_server.py). Figures only.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
DETECT = ["email", "phone", "credit_card", "iban", "cn_resident_id", "us_ssn", "ip_address", "secret"]


def start_mock() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "mock_server.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    return proc, url


def prompt_4k() -> str:
    """4096 bytes of ordinary prose with a few values the detectors find (an e-mail
    address, a phone number, a card number), as a real prompt might carry."""
    base = (
        "Please summarise the quarterly report for the board. Revenue grew in every region, "
        "costs were flat, and the new product line shipped on time. "
    )
    tail = " Contact jane.doe@example.com or +44 20 7946 0958; card 4111 1111 1111 1111."
    body = (base * (4096 // len(base) + 1))[: 4096 - len(tail)]
    return body + tail


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=3000, help="calls per variant (default 3000)")
    ap.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default 10)")
    ap.add_argument("--out", type=Path, help="write the table here (markdown)")
    args = ap.parse_args()

    import rustllm
    from rustllm import _core
    from rustllm.guardrails import Guardrail
    from rustllm.integrations.custom_guardrail import CustomGuardrail

    class PassThrough(CustomGuardrail):
        async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
            return data

    proc, url = start_mock()
    try:
        kw = {"api_base": url, "api_key": "sk-bench", "max_retries": 0}
        short = [{"role": "user", "content": "hi"}]
        long = [{"role": "user", "content": prompt_4k()}]
        assert len(long[0]["content"].encode()) == 4096
        variants = {
            "plain, 'hi'": ([], short),
            "no-op CustomGuardrail, 'hi'": ([CustomGuardrail(guardrail_name="noop", default_on=True)], short),
            "pass-through async_pre_call_hook, 'hi'": (
                [PassThrough(guardrail_name="pt", event_hook="pre_call", default_on=True)],
                short,
            ),
            "plain, 4 KiB prompt": ([], long),
            "built-in, 8 detectors, log, 4 KiB": (
                [Guardrail(guardrail_name="pii", detect=DETECT, action="log", default_on=True)],
                long,
            ),
            "built-in, 8 detectors, mask, 4 KiB": (
                [Guardrail(guardrail_name="pii", detect=DETECT, action="mask", default_on=True)],
                long,
            ),
            "Router, plain, 4 KiB prompt": ([], long),
            "Router, built-in, 8 detectors, mask, 4 KiB": (
                [Guardrail(guardrail_name="pii", detect=DETECT, action="mask", default_on=True)],
                long,
            ),
        }
        router = rustllm.Router(model_list=[{"model_name": "g", "litellm_params": {"model": "openai/bench", **kw}}])

        def call(name: str, messages: list) -> None:
            if name.startswith("Router"):
                router.completion(model="g", messages=messages)
            else:
                rustllm.completion(model="openai/bench", messages=messages, **kw)

        import logging

        logging.getLogger("rustllm").setLevel(logging.WARNING)  # decisions are logged at INFO
        times: dict[str, list[float]] = {k: [] for k in variants}
        # The client's CPU time per call (every thread of this process), per round.
        cpu: dict[str, list[float]] = {k: [] for k in variants}
        per_round = max(1, args.calls // args.rounds)
        for name, (cbs, messages) in variants.items():  # warm up each path
            rustllm.callbacks = cbs
            for _ in range(200):
                call(name, messages)
        for _ in range(args.rounds):
            for name, (cbs, messages) in variants.items():
                rustllm.callbacks = cbs
                c = time.process_time()
                for _ in range(per_round):
                    t = time.perf_counter()
                    call(name, messages)
                    times[name].append(time.perf_counter() - t)
                cpu[name].append((time.process_time() - c) / per_round)
        rustllm.callbacks = []

        # The no-op guardrail against the plain call without the network (mock_response):
        # the difference of interleaved pairs, so the mock's noise does not drown 1 µs.
        noop = [CustomGuardrail(guardrail_name="noop", default_on=True)]

        def offline(cbs: list, n: int) -> float:
            rustllm.callbacks = cbs
            t = time.perf_counter()
            for _ in range(n):
                rustllm.completion(model="openai/bench", messages=short, mock_response="x")
            return (time.perf_counter() - t) / n

        offline([], 2000)
        offline(noop, 2000)
        noop_pairs = [offline(noop, 2000) - offline([], 2000) for _ in range(40)]

        # The async twin: acompletion awaits the hook inline (no private loop).
        import asyncio

        async def arun(cbs: list, n: int) -> list[float]:
            rustllm.callbacks = cbs
            out = []
            for _ in range(n):
                t = time.perf_counter()
                await rustllm.acompletion(model="openai/bench", messages=short, **kw)
                out.append(time.perf_counter() - t)
            return out

        async def async_rows() -> None:
            pt = [PassThrough(guardrail_name="pt", event_hook="pre_call", default_on=True)]
            await arun([], 200)
            await arun(pt, 200)
            times["async plain, 'hi'"] = []
            times["async pass-through async_pre_call_hook, 'hi'"] = []
            for _ in range(args.rounds):
                times["async plain, 'hi'"] += await arun([], per_round)
                times["async pass-through async_pre_call_hook, 'hi'"] += await arun(pt, per_round)

        asyncio.run(async_rows())
        rustllm.callbacks = []

        guard = Guardrail(guardrail_name="pii", detect=DETECT, action="mask")
        request = {"messages": long}
        detect = []
        for _ in range(200):
            _core.guardrails_check_request([guard._core], request)
        for _ in range(args.calls):
            t = time.perf_counter()
            _core.guardrails_check_request([guard._core], request)
            detect.append(time.perf_counter() - t)

        # The whole pre-call stage as a call runs it (plan, check, decision record),
        # without the call: what the guardrail itself costs.
        from rustllm import _guardrails

        stage: dict[str, list[float]] = {"log": [], "mask": []}
        for action in stage:
            g = Guardrail(guardrail_name="pii", detect=DETECT, action=action, default_on=True)
            for i in range(args.calls + 200):
                params = {"model": "openai/bench", "messages": long, **kw}
                t = time.perf_counter()
                run = _guardrails.plan("completion", params, [g], frozenset({"pii"}), False)
                assert run is not None
                _guardrails.pre(run, params)
                if i >= 200:
                    stage[action].append(time.perf_counter() - t)

        # A control: the plain 4 KiB call after a busy wait as long as the stage. Against a
        # mock in another process, any client work between calls lets the mock's threads
        # park, and waking them costs the next call more than the work itself.
        wait = statistics.median(stage["log"])
        control = []
        for _ in range(args.calls):
            t = time.perf_counter()
            until = t + wait
            while time.perf_counter() < until:
                pass
            rustllm.completion(model="openai/bench", messages=long, **kw)
            control.append(time.perf_counter() - t)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait()

    med = {k: statistics.median(v) * 1e6 for k, v in times.items()}
    base = {
        "'hi'": med["plain, 'hi'"],
        "4 KiB": med["plain, 4 KiB prompt"],
        "async": med["async plain, 'hi'"],
        "Router": med["Router, plain, 4 KiB prompt"],
    }
    cpu_med = {k: statistics.median(v) * 1e6 for k, v in cpu.items() if v}
    cpu_base = {
        "'hi'": cpu_med["plain, 'hi'"],
        "4 KiB": cpu_med["plain, 4 KiB prompt"],
        "Router": cpu_med["Router, plain, 4 KiB prompt"],
    }

    def kind(name: str) -> str:
        """Which plain row a row is compared with."""
        if name.startswith("async"):
            return "async"
        if name.startswith("Router"):
            return "Router"
        return "'hi'" if "'hi'" in name else "4 KiB"

    rows = [
        "| variant | median per call | added | client CPU per call | added CPU |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, us in med.items():
        ref = base[kind(name)]
        added = "" if "plain" in name else f"{us - ref:+.1f} µs"
        cpu_cells = "| |"
        if name in cpu_med:
            cref = cpu_base[kind(name)]
            cadded = "" if "plain" in name else f"{cpu_med[name] - cref:+.1f} µs"
            cpu_cells = f"| {cpu_med[name]:.1f} µs | {cadded} |"
        rows.append(f"| {name} | {us:.1f} µs | {added} {cpu_cells}")
    rows.append(
        "| no-op CustomGuardrail, no network (`mock_response`), difference of 40 interleaved pairs | | "
        f"{statistics.median(noop_pairs) * 1e6:+.2f} µs | | |"
    )
    rows.append(
        f"| control: plain 4 KiB call after a {wait * 1e6:.0f} µs busy wait | "
        f"{statistics.median(control) * 1e6:.1f} µs | {statistics.median(control) * 1e6 - base['4 KiB']:+.1f} µs | | |"
    )
    rows.append(
        f"| detection alone (`guardrails_check_request`, 8 detectors, mask, 4 KiB) | "
        f"{statistics.median(detect) * 1e6:.1f} µs | | | |"
    )
    for action, ts in stage.items():
        rows.append(
            f"| pre-call stage alone (plan, check, record), 8 detectors, {action}, 4 KiB | "
            f"{statistics.median(ts) * 1e6:.1f} µs | | | |"
        )
    table = "\n".join(rows)
    print(table)
    if args.out:
        import platform

        load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
        head = (
            "# Guardrails: what they add to a call\n\n"
            f"`python bench/guardrails.py --calls {args.calls} --rounds {args.rounds}` on "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()}, "
            f"Python {platform.python_version()}, load average at the end {' '.join(load)}.\n\n"
        )
        notes = (
            '\n\nHow to read it. "added" is the difference to the plain call of the same prompt, '
            "interleaved in rounds. Against a mock in another process, client work between calls "
            "costs the next call more than the work itself (the mock's threads park and must be "
            "woken): the control row is a plain call after a busy wait as long as the built-in "
            "pre-call stage, with no guardrail at all. The built-in rows are calls nothing "
            'observes, so the guardrail runs inside the Rust call; the "stage alone" rows are the '
            "hook path an observed call takes instead (planning, the Rust check, the decision "
            "record), without the call. A sync call with a custom async hook runs it on a private "
            "event loop (one loop turn per call); `acompletion` awaits it inline. A registered "
            "guardrail that overrides no hook keeps the plain path (one tuple comparison); its row "
            "moves with the machine's noise.\n"
        )
        args.out.write_text(head + table + notes)


if __name__ == "__main__":
    main()
