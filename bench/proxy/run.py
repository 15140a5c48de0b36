"""The Proxy Server's performance: rustllm's proxy and LiteLLM's proxy in front of the
same upstream mock, under wrk, in one run.

    python bench/proxy/run.py                     # the full run (~25 min: a 10-minute soak), writes bench/RESULTS.md
    python bench/proxy/run.py --quick             # a ~3 minute smoke run; prints the table, writes nothing
    BENCH_SOAK_SECONDS=60 python bench/proxy/run.py --no-litellm

It builds the release ``rustllm-proxy`` binary and the bench mock (``bench/proxy/mock``),
starts the mock in its own process, measures it directly, then each proxy through the same
wrk scripts (``chat.lua``, ``stream.lua``), reading memory and CPU time from /proc. The
figures and how they are taken: bench/proxy/README.md. Benchmarks report figures; nothing
here passes or fails.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# bench/RESULTS.md holds the SDK table (bench/run.py) and this section between these lines.
from report import PROXY_BEGIN as BEGIN
from report import PROXY_END as END

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
MOCK_MANIFEST = HERE / "mock" / "Cargo.toml"
MOCK_BIN = HERE / "mock" / "target" / "release" / "rustllm-bench-mock"
PROXY_BIN = ROOT / "target" / "release" / "rustllm-proxy"
LITELLM_VENV = ROOT / ".venv-bench-proxy"
CHAT_LUA = HERE / "chat.lua"
STREAM_LUA = HERE / "stream.lua"
RESULTS = BENCH / "RESULTS.md"
RAW_OUT = BENCH / "out" / "proxy.json"
# Both proxies need a key (LiteLLM 1.110 refuses to start without one): auth is on for both.
MASTER_KEY = "sk-bench-5d41402abc4b2a76b9719d911017c592a8f3e07c"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclasses.dataclass
class Plan:
    """How long each measurement runs. The defaults are the full run."""

    warmup_s: int = 3
    latency_s: int = 10
    latency_reps: int = 2
    load_s: int = 15
    concurrency: int = 64
    soak_s: int = 600
    soak_sample_s: float = 5.0
    starts: int = 7
    litellm_starts: int = 3
    litellm_latency_s: int = 15
    litellm_load_s: int = 20
    # The keys section's c=64 runs: load_s per set-up, split into this many rounds.
    keys_rounds: int = 7


def log(msg: str) -> None:
    print(f"[proxy bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- processes and /proc ----------------------------------------------------------------


def tree(pid: int) -> list[int]:
    """`pid` and its descendants (LiteLLM may start helpers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_mib(pid: int) -> float:
    """Resident memory of the process tree, MiB (from /proc/PID/statm)."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE_KIB
        except (OSError, IndexError, ValueError):
            pass
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process tree so far."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(port: int, path: str, timeout: float = 1.0) -> int | None:
    """The status of `GET path`, or None when nothing answers yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            head = s.recv(64)
    except OSError:
        return None
    m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return int(m.group(1)) if m else None


class Sampler:
    """Samples a process tree's RSS every `every` seconds while running."""

    def __init__(self, pid: int, every: float):
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        t0 = time.monotonic()
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - t0, rss_mib(self.pid)))
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def max(self) -> float:
        return max((r for _, r in self.samples), default=0.0)


# -- wrk --------------------------------------------------------------------------------


def wrk(url: str, script: Path, seconds: float, connections: int, env: dict[str, str], timeout_s: int = 10) -> dict:
    """One wrk run (one thread); its WRK_JSON summary, plus requests/s."""
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={timeout_s}s",
        "-s",
        str(script),
        url,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env}, timeout=seconds + 120)
    for line in proc.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            out = json.loads(line[len("WRK_JSON ") :])
            out["per_s"] = out["requests"] / (out["duration_us"] / 1e6)
            out["error_count"] = sum(out["errors"].values())
            return out
    raise RuntimeError(f"wrk printed no summary: {proc.stdout[-500:]} {proc.stderr[-500:]}")


# -- the servers ------------------------------------------------------------------------


class Server:
    """A server process: the mock or a proxy."""

    def __init__(self, name: str, cmd: list[str], port: int, ready_path: str, env: dict[str, str] | None = None):
        self.name, self.cmd, self.port, self.ready_path = name, cmd, port, ready_path
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")[1])

    def start(self, ready_timeout: float = 300.0) -> float:
        """Start it; seconds from spawn to the first 200 from the ready path."""
        log_file = open(self.log_path, "ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            self.cmd, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env, cwd=ROOT
        )
        log_file.close()
        while True:
            if http_status(self.port, self.ready_path) == 200:
                return time.perf_counter() - t0
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} before it was ready:\n{tail}")
            if time.perf_counter() - t0 > ready_timeout:
                self.stop()
                raise RuntimeError(f"{self.name} not ready after {ready_timeout:.0f} s")
            time.sleep(0.001)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def config_yaml(mock_base: str, general: str = "  database: none\n", router: str = "") -> str:
    """One config for both proxies: one model group on the mock, a master key, no
    database (LiteLLM's proxy runs without one too; the keys section adds one)."""
    return (
        "model_list:\n"
        "  - model_name: bench\n"
        "    litellm_params:\n"
        "      model: openai/bench\n"
        f"      api_base: {mock_base}\n"
        "      api_key: sk-bench\n" + (f"router_settings:\n{router}" if router else "") + "general_settings:\n"
        f"  master_key: {MASTER_KEY}\n" + general
    )


def proxy_command(which: str, config: Path, port: int) -> tuple[list[str], dict[str, str]]:
    if which == "rustllm":
        return [str(PROXY_BIN), "--config", str(config), "--port", str(port), "--host", "127.0.0.1"], {}
    # LiteLLM's defaults (one uvicorn worker), and no download of its cost map at start.
    return (
        [str(LITELLM_VENV / "bin" / "litellm"), "--config", str(config), "--port", str(port), "--host", "127.0.0.1"],
        {"LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )


# -- measuring --------------------------------------------------------------------------


def measure_mock(base: str, pid: int, plan: Plan, model: str = "bench") -> dict:
    """The mock alone at c=64: requests/s, streams/s and its CPU per request."""
    url = f"{base}/chat/completions"
    env = {"BENCH_MODEL": model}
    wrk(url, CHAT_LUA, plan.warmup_s, plan.concurrency, env)
    out = {}
    for key, script in (("json", CHAT_LUA), ("stream", STREAM_LUA)):
        cpu0 = cpu_seconds(pid)
        r = wrk(url, script, plan.load_s, plan.concurrency, env)
        r["mock_cpu_us_per_request"] = (cpu_seconds(pid) - cpu0) / max(r["requests"], 1) * 1e6
        out[key] = r
    return out


def start_times(which: str, config: Path, n: int) -> list[float]:
    times = []
    for _ in range(n):
        port = free_port()
        cmd, env = proxy_command(which, config, port)
        server = Server(f"{which}-start", cmd, port, "/health/readiness", env)
        try:
            times.append(server.start())
        finally:
            server.stop()
    return times


def measure_proxy(which: str, config: Path, mock_base: str, mock_pid: int, plan: Plan, soak_s: int) -> dict:
    """Everything for one proxy, against the running mock."""
    litellm = which == "litellm"
    out: dict = {}
    log(f"{which}: start to ready, {plan.litellm_starts if litellm else plan.starts} starts")
    out["start_s"] = start_times(which, config, plan.litellm_starts if litellm else plan.starts)
    port = free_port()
    cmd, env = proxy_command(which, config, port)
    server = Server(which, cmd, port, "/health/readiness", env)
    server.start()
    try:
        time.sleep(2)
        out["rss_idle"] = rss_mib(server.pid)
        proxy_url = f"http://127.0.0.1:{port}/chat/completions"
        direct_url = f"{mock_base}/chat/completions"
        key = {"BENCH_KEY": MASTER_KEY}
        timeout = 60 if litellm else 10
        # Sanity: the proxy answers and streams before anything is timed.
        probe = wrk(proxy_url, STREAM_LUA, 1, 1, key, timeout)
        if probe["complete"] == 0 or probe["bad"]:
            raise RuntimeError(f"{which}: no complete stream through the proxy: {probe}")
        log(f"{which}: warm-up")
        wrk(proxy_url, CHAT_LUA, plan.warmup_s * (3 if litellm else 1), plan.concurrency, key, timeout)
        # c=1: direct and through the proxy, alternating, so drift hits both alike.
        lat_s = plan.litellm_latency_s if litellm else plan.latency_s
        log(f"{which}: c=1 latency, {plan.latency_reps} x ({lat_s} s direct + {lat_s} s proxy)")
        direct, proxied = [], []
        for _ in range(plan.latency_reps):
            direct.append(wrk(direct_url, CHAT_LUA, lat_s, 1, {}))
            proxied.append(wrk(proxy_url, CHAT_LUA, lat_s, 1, key, timeout))
        out["c1_direct"], out["c1_proxy"] = direct, proxied
        load_s = plan.litellm_load_s if litellm else plan.load_s
        for name, script in (("json", CHAT_LUA), ("stream", STREAM_LUA)):
            log(f"{which}: c={plan.concurrency} {name}, {load_s} s")
            cpu0, mcpu0 = cpu_seconds(server.pid), cpu_seconds(mock_pid)
            with Sampler(server.pid, 0.2) as s:
                r = wrk(proxy_url, script, load_s, plan.concurrency, key, timeout)
            r["rss_max"] = s.max
            r["proxy_cpu_us_per_request"] = (cpu_seconds(server.pid) - cpu0) / max(r["requests"], 1) * 1e6
            r["mock_cpu_us_per_request"] = (cpu_seconds(mock_pid) - mcpu0) / max(r["requests"], 1) * 1e6
            out[f"c{plan.concurrency}_{name}"] = r
        time.sleep(2)
        out["rss_after_load"] = rss_mib(server.pid)
        if soak_s > 0:
            out["soak"] = soak(which, server, proxy_url, key, plan, soak_s)
        out["log_tail"] = server.log_path.read_text(errors="replace")[-1000:] if litellm else ""
    finally:
        server.stop()
    return out


def soak(which: str, server: Server, url: str, key: dict[str, str], plan: Plan, seconds: int) -> dict:
    """c=64 for `seconds`: 48 connections of JSON calls and 16 of streams at once, RSS sampled."""
    log(f"{which}: soak, {seconds} s (48 JSON + 16 streaming connections), RSS every {plan.soak_sample_s:.0f} s")
    results: dict[str, dict] = {}

    def run(name: str, script: Path, conns: int) -> None:
        results[name] = wrk(url, script, seconds, conns, key, 60)

    threads = [
        threading.Thread(target=run, args=("json", CHAT_LUA, plan.concurrency * 3 // 4)),
        threading.Thread(target=run, args=("stream", STREAM_LUA, plan.concurrency // 4)),
    ]
    with Sampler(server.pid, plan.soak_sample_s) as s:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    samples = s.samples
    # The trend: least-squares slope over the second half (start-up growth excluded).
    half = samples[len(samples) // 2 :]
    slope = 0.0
    if len(half) >= 2:
        mt = statistics.fmean(t for t, _ in half)
        mr = statistics.fmean(r for _, r in half)
        den = sum((t - mt) ** 2 for t, _ in half)
        slope = sum((t - mt) * (r - mr) for t, r in half) / den * 60 if den else 0.0
    return {
        "seconds": seconds,
        "json": results.get("json"),
        "stream": results.get("stream"),
        "samples": samples,
        "first": samples[0][1] if samples else 0.0,
        "last": samples[-1][1] if samples else 0.0,
        "max": s.max,
        "slope_mib_per_min": slope,
    }


# -- virtual keys, limits and spend (issue 15) ------------------------------------------

# A virtual key whose limits and budget are checked on every request but never reached.
KEY_BODY = {
    "rpm_limit": 1_000_000_000,
    "tpm_limit": 1_000_000_000_000,
    "max_parallel_requests": 100_000,
    "max_budget": 1_000_000.0,
    "budget_duration": "30d",
    "metadata": {"model_rpm_limit": {"bench": 1_000_000_000}},
}
# Every table the spend writer touches, for the locked-database variant.
SPEND_TABLES = (
    '"LiteLLM_SpendLogs", "LiteLLM_VerificationToken", "LiteLLM_UserTable", "LiteLLM_TeamTable", '
    '"LiteLLM_EndUserTable", "LiteLLM_DailyUserSpend", "LiteLLM_DailyTeamSpend", "LiteLLM_DailyEndUserSpend"'
)


def post_json(port: int, path: str, body: dict, key: str) -> tuple[int, dict]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, {}


def new_virtual_key(port: int) -> str:
    """A key with KEY_BODY's limits and budget, once it authenticates (the key cache)."""
    status, body = post_json(port, "/key/generate", KEY_BODY, MASTER_KEY)
    if status != 200:
        raise RuntimeError(f"/key/generate answered {status}")
    key = body["key"]
    hi = {"model": "bench", "messages": [{"role": "user", "content": "hi"}]}
    deadline = time.monotonic() + 10
    while post_json(port, "/chat/completions", hi, key)[0] != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("the new virtual key was not accepted within 10 s")
        time.sleep(0.05)
    return key


class Locker:
    """A Postgres session holding ACCESS EXCLUSIVE locks on every spend table: the spend
    writer blocks behind it; requests must not."""

    def __init__(self, pg: object, database: str):
        self.proc = subprocess.Popen(
            pg._cmd("psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", database, "-q"),  # type: ignore[attr-defined]
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"BEGIN; LOCK TABLE {SPEND_TABLES} IN ACCESS EXCLUSIVE MODE;\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + 10
        query = "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND granted"
        while pg.sql(query, database).stdout.strip() in ("", "0"):  # type: ignore[attr-defined]
            if time.monotonic() > deadline:
                raise RuntimeError("the spend tables were not locked within 10 s")
            time.sleep(0.05)

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("ROLLBACK;\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


class Variant:
    """One set-up of the keys section: its proxy, the key it is called with, and the
    figures taken from it."""

    def __init__(self, name: str, config: Path, keyed: bool, locker=None):
        self.name, self.keyed, self.locker = name, keyed, locker
        port = free_port()
        cmd, env = proxy_command("rustllm", config, port)
        self.server = Server(f"rustllm-{name}", cmd, port, "/health/readiness", env)
        self.url = f"http://127.0.0.1:{port}/chat/completions"
        self.key: dict[str, str] = {}
        self.lock = None
        self.loads: list[dict] = []

    def start(self, plan: Plan) -> None:
        self.server.start()
        self.key = {"BENCH_KEY": new_virtual_key(self.server.port) if self.keyed else MASTER_KEY}
        wrk(self.url, CHAT_LUA, plan.warmup_s, plan.concurrency, self.key)

    def stop(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None
        self.server.stop()


def measure_keys_variants(variants: list[Variant], mock_base: str, plan: Plan) -> dict:
    """c=1 latency (alternating with direct calls) and c=64 requests/s of every set-up,
    all running at once: the c=64 runs go in rounds, every set-up once per round in a
    rotating order, so that the machine's slow spells (two shared cores) fall on all of
    them alike; each figure is the median of its rounds."""
    out: dict = {}
    try:
        for v in variants:
            v.start(plan)
        for v in variants:
            if v.locker is not None:
                v.lock = v.locker()
        direct_url = f"{mock_base}/chat/completions"
        rounds = max(1, plan.keys_rounds)
        latency: dict[str, tuple[list[dict], list[dict]]] = {v.name: ([], []) for v in variants}
        # c=1 in rounds too, direct and proxied alternating: the same time in all as
        # latency_reps runs of latency_s seconds.
        seconds = max(2, round(plan.latency_s * plan.latency_reps / rounds))
        log(f"keys: c=1, {rounds} rounds of {seconds} s direct then {seconds} s proxied per set-up")
        for r in range(rounds):
            for v in variants[r % len(variants) :] + variants[: r % len(variants)]:
                direct, proxied = latency[v.name]
                direct.append(wrk(direct_url, CHAT_LUA, seconds, 1, {}))
                proxied.append(wrk(v.url, CHAT_LUA, seconds, 1, v.key))
        seconds = max(3, round(plan.load_s / rounds))
        log(f"keys: c={plan.concurrency}, {rounds} rounds of {seconds} s per set-up")
        for r in range(rounds):
            for v in variants[r % len(variants) :] + variants[: r % len(variants)]:
                # The previous set-up's writer flushes its last rows first.
                time.sleep(1.5)
                cpu0 = cpu_seconds(v.server.pid)
                load = wrk(v.url, CHAT_LUA, seconds, plan.concurrency, v.key)
                load["cpu_us"] = (cpu_seconds(v.server.pid) - cpu0) / max(load["requests"], 1) * 1e6
                v.loads.append(load)
        for v in variants:
            direct, proxied = latency[v.name]
            # In round order: round i of every set-up ran within seconds of the others.
            rps = [x["per_s"] for x in v.loads]
            out[v.name] = {
                "direct_p50": _median(direct, "p50"),
                "proxy_p50": _median(proxied, "p50"),
                "direct_p99": _median(direct, "p99"),
                "proxy_p99": _median(proxied, "p99"),
                "rps": statistics.median(rps),
                "rps_rounds": rps,
                # Per round: proxied p50 less the direct p50 measured just before it.
                "added_rounds": [p["latency_us"]["p50"] - d["latency_us"]["p50"] for d, p in zip(direct, proxied)],
                "errors": sum(x["error_count"] for x in v.loads) + sum(x["error_count"] for x in proxied),
                "cpu_us": statistics.median(x["cpu_us"] for x in v.loads),
                "locked": v.lock is not None,
            }
    finally:
        for v in variants:
            v.stop()
    return out


def measure_keys(mock_base: str, plan: Plan, tmp: Path) -> dict:
    """The core proxy against virtual keys with limits and spend: on SQLite, with Redis
    shared limits, on Postgres, and on Postgres with every spend table locked."""
    sys.path.insert(0, str(ROOT / "tests"))
    from postgres_server import PostgresServer
    from redis_server import RedisServer

    with RedisServer() as redis, PostgresServer() as pg:
        redis_router = f"  redis_host: 127.0.0.1\n  redis_port: {redis.port}\n"
        setups: list[tuple[str, str, str, bool, object]] = [
            ("core", "  database: none\n", "", False, None),
            ("keys", f"  database_url: sqlite:///{tmp / 'keys.db'}\n", "", True, None),
            ("keys_redis", f"  database_url: sqlite:///{tmp / 'keys-redis.db'}\n", redis_router, True, None),
        ]
        for name, locked in (("keys_pg", False), ("keys_pg_locked", True)):
            db = pg.new_database()
            locker = (lambda db=db: Locker(pg, db)) if locked else None
            setups.append((name, f"  database_url: {pg.url(db)}\n", "", True, locker))
        variants = []
        for name, general, router, keyed, locker in setups:
            config = tmp / f"config-{name}.yaml"
            config.write_text(config_yaml(mock_base, general, router))
            variants.append(Variant(name, config, keyed, locker))
        return measure_keys_variants(variants, mock_base, plan)


KEY_SHORT = {
    "core": "core",
    "keys": "SQLite",
    "keys_redis": "Redis",
    "keys_pg": "Postgres",
    "keys_pg_locked": "Postgres locked",
}
KEY_ROWS = [
    ("core: master key, no database", "core"),
    ("virtual key, limits and spend, SQLite", "keys"),
    ("the same with Redis shared limits", "keys_redis"),
    ("virtual key, limits and spend, Postgres", "keys_pg"),
    ("the same with every spend table locked by another session", "keys_pg_locked"),
]


def round_shares(r: dict, core: dict) -> list[float]:
    """Each round's requests/s as a share of the core's in the same round (the set-ups
    of a round run within seconds of each other, so a slow spell of the machine falls on
    both sides of a share); empty when the rounds do not pair up."""
    mine, cores = r.get("rps_rounds", []), core.get("rps_rounds", [])
    if len(mine) != len(cores) or not all(cores):
        return []
    return [m / c for m, c in zip(mine, cores)]


def share_of_core(r: dict, core: dict) -> float:
    """Requests/s as a share of the core's: the median of the rounds' shares, or the
    medians' ratio when the rounds do not pair up."""
    shares = round_shares(r, core)
    if shares:
        return statistics.median(shares)
    return r["rps"] / core["rps"] if core["rps"] else 0.0


def round_added(r: dict, core: dict) -> list[float]:
    """Each round's added p50 less the core's in the same round (seconds apart, like the
    requests/s shares); empty when the rounds do not pair up."""
    mine, cores = r.get("added_rounds", []), core.get("added_rounds", [])
    if len(mine) != len(cores) or not mine:
        return []
    return [m - c for m, c in zip(mine, cores)]


def added_over_core(r: dict, core: dict) -> float:
    """Added p50 over the core's: the median of the rounds' differences, or the
    difference of the medians when the rounds do not pair up."""
    diffs = round_added(r, core)
    if diffs:
        return statistics.median(diffs)
    return (r["proxy_p50"] - r["direct_p50"]) - (core["proxy_p50"] - core["direct_p50"])


def keys_table(keys: dict) -> str:
    core = keys["core"]
    # Issue 15's targets: within 50 µs and 20% of the core; with Redis within 2x of that.
    budget = {"keys": (50, 0.8), "keys_redis": (100, 0.6), "keys_pg": (50, 0.8), "keys_pg_locked": (50, 0.8)}
    out = [
        "| | added p50, µs | added p99, µs | vs core p50, µs | c=64 requests/s | vs core | CPU/request, µs | target | |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, name in KEY_ROWS:
        r = keys.get(name)
        if r is None:
            continue
        added50 = r["proxy_p50"] - r["direct_p50"]
        added99 = r["proxy_p99"] - r["direct_p99"]
        d50 = added_over_core(r, core)
        rel = share_of_core(r, core)
        target, verdict = "", ""
        if name in budget:
            dmax, rmin = budget[name]
            target = f"≤ +{dmax} µs, ≥ {rmin:.0%}"
            verdict = "pass" if d50 <= dmax and rel >= rmin and not r["errors"] else "**miss**"
        out.append(
            f"| {label} | {added50:+,.0f} | {added99:+,.0f} | {d50:+,.0f} | {r['rps']:,.0f} | {rel:.0%} | "
            f"{r['cpu_us']:,.0f} | {target} | {verdict} |"
        )
    return "\n".join(out)


# -- building ---------------------------------------------------------------------------


def build() -> None:
    log("building the release rustllm-proxy (cargo build --release --bin rustllm-proxy) ...")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "rustllm-proxy"], cwd=ROOT, check=True)
    log("building the bench mock (bench/proxy/mock) ...")
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--manifest-path", str(MOCK_MANIFEST)], cwd=ROOT, check=True
    )


def start_mock(threads: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [str(MOCK_BIN), "--threads", str(threads)], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    base = proc.stdout.readline().strip()
    if not base.startswith("http://"):
        proc.kill()
        raise RuntimeError(f"the bench mock printed {base!r}")
    return proc, base


def measure_rustllm_mock(plan: Plan) -> dict | None:
    """rustllm's own MockServer (bench/mock_server.py), for the choice of mock."""
    python = ROOT / ".venv" / "bin" / "python"
    if not python.exists():
        return None
    proc = subprocess.Popen(
        [str(python), str(BENCH / "mock_server.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        if not base.startswith("http://"):
            return None
        # `chunks-100` in the model name: the MockServer's 100-chunk stream.
        return measure_mock(base, proc.pid, plan, model="bench-chunks-100")
    finally:
        proc.terminate()
        proc.wait()


# -- the report -------------------------------------------------------------------------


def _run(*cmd: str) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict[str, str]:
    lscpu = _run("lscpu")
    model = re.search(r"Model name:\s*(.+)", lscpu)
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem_kib = int(line.split()[1])
    wrk_version = _run("sh", "-c", "wrk -v 2>&1 | head -1")
    litellm_version = ""
    py = LITELLM_VENV / "bin" / "python"
    if py.exists():
        litellm_version = _run(str(py), "-c", "import importlib.metadata as m; print(m.version('litellm'))")
    commit = _run("git", "rev-parse", "--short=12", "HEAD") or "unknown"
    if _run("git", "status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock"):
        commit += " plus uncommitted changes in src/ (built into the measured binary)"
    binary = ""
    if PROXY_BIN.exists():
        st = PROXY_BIN.stat()
        built = datetime.datetime.fromtimestamp(st.st_mtime, datetime.timezone.utc)
        binary = f"{st.st_size / 2**20:.1f} MiB, built {built:%Y-%m-%d %H:%M} UTC"
    return {
        "CPU": model.group(1).strip() if model else platform.processor(),
        "cores (nproc)": _run("nproc"),
        "RAM": f"{mem_kib / 2**20:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "load average at end": "",
        "wrk": wrk_version,
        "rustc": _run("rustc", "--version"),
        "rustllm-proxy binary": binary,
        "litellm (its proxy)": litellm_version,
        "commit": commit,
    }


def _f(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r["latency_us"][key] for r in runs)


def summarize(r: dict, plan: Plan) -> dict:
    """The figures of one proxy's measurements."""
    c = plan.concurrency
    s: dict = {
        "start_ms": statistics.median(r["start_s"]) * 1000,
        "rss_idle": r["rss_idle"],
        "direct_p50": _median(r["c1_direct"], "p50"),
        "direct_p99": _median(r["c1_direct"], "p99"),
        "proxy_p50": _median(r["c1_proxy"], "p50"),
        "proxy_p99": _median(r["c1_proxy"], "p99"),
        "rps": r[f"c{c}_json"]["per_s"],
        "rps_errors": r[f"c{c}_json"]["error_count"],
        "sps": r[f"c{c}_stream"]["complete"] / (r[f"c{c}_stream"]["duration_us"] / 1e6),
        "stream_bad": r[f"c{c}_stream"]["bad"] + r[f"c{c}_stream"]["error_count"],
        "stream_events": r[f"c{c}_stream"]["events"] / max(r[f"c{c}_stream"]["complete"], 1),
        "rss_load": max(r[f"c{c}_json"]["rss_max"], r[f"c{c}_stream"]["rss_max"]),
        "cpu_json": r[f"c{c}_json"]["proxy_cpu_us_per_request"],
        "cpu_stream": r[f"c{c}_stream"]["proxy_cpu_us_per_request"],
        "soak": r.get("soak"),
    }
    s["added_p50"] = s["proxy_p50"] - s["direct_p50"]
    s["added_p99"] = s["proxy_p99"] - s["direct_p99"]
    return s


TARGETS = {
    "added_p50": ("≤ 100 µs", lambda v: v <= 100),
    "added_p99": ("≤ 300 µs", lambda v: v <= 300),
    "rps": ("≥ 10,000", lambda v: v >= 10_000),
    "sps": ("≥ 1,000", lambda v: v >= 1_000),
    "rss_idle": ("≤ 30 MB", lambda v: v <= 30),
    "rss_load": ("≤ 80 MB", lambda v: v <= 80),
    "start_ms": ("≤ 200 ms", lambda v: v <= 200),
}


def table(results: dict, plan: Plan) -> str:
    rust = summarize(results["rustllm"], plan)
    lite = summarize(results["litellm"], plan) if results.get("litellm") else None
    c = plan.concurrency

    def ratio(key: str, higher_better: bool) -> str:
        if lite is None or not lite[key] or not rust[key]:
            return ""
        x = rust[key] / lite[key] if higher_better else lite[key] / rust[key]
        return f"{x:,.0f}x" if x >= 10 else f"{x:.1f}x"

    def verdict(key: str) -> tuple[str, str]:
        if key not in TARGETS:
            return "", ""
        text, ok = TARGETS[key]
        return text, "pass" if ok(rust[key]) else "**miss**"

    rows = [
        ("start to ready, ms (median)", "start_ms", 0, False),
        ("RSS idle, MB", "rss_idle", 1, False),
        ("c=1 latency p50 through the proxy, µs", "proxy_p50", 0, False),
        ("c=1 latency p99 through the proxy, µs", "proxy_p99", 0, False),
        ("c=1 added latency p50 (proxy - direct), µs", "added_p50", 0, False),
        ("c=1 added latency p99 (proxy - direct), µs", "added_p99", 0, False),
        (f"c={c} requests/s, non-streaming", "rps", 0, True),
        (f"c={c} streams/s, 100 chunks", "sps", 0, True),
        (f"RSS under c={c} load (max), MB", "rss_load", 1, False),
        (f"proxy CPU per request, c={c}, µs", "cpu_json", 0, False),
        (f"proxy CPU per 100-chunk stream, c={c}, µs", "cpu_stream", 0, False),
    ]
    out = [
        "| | rustllm proxy | LiteLLM proxy | rustllm vs LiteLLM | target | rustllm |",
        "|---|---|---|---|---|---|",
    ]
    for label, key, digits, higher in rows:
        tgt, ok = verdict(key)
        lv = _f(lite[key], digits) if lite else "-"
        if key.startswith("added"):
            rv, lv = f"{rust[key]:+,.{digits}f}", (f"{lite[key]:+,.{digits}f}" if lite else "-")
        else:
            rv = _f(rust[key], digits)
        out.append(f"| {label} | {rv} | {lv} | {ratio(key, higher)} | {tgt} | {ok} |")
    soak = rust["soak"]
    if soak:
        # Flat: no growth (RSS falling back after the load's peak is not a leak).
        flat = soak["last"] - soak["first"] <= 2 and soak["slope_mib_per_min"] < 0.1
        total = sum((soak[k] or {}).get("requests", 0) for k in ("json", "stream"))
        out.append(
            f"| soak {_duration(soak['seconds'])}, RSS first / last / max, MB | "
            f"{soak['first']:.1f} / {soak['last']:.1f} / {soak['max']:.1f} "
            f"(slope {soak['slope_mib_per_min']:+.2f} MB/min, {total:,} requests) | - |  | "
            f"flat, ≤ 80 MB | {'pass' if flat and soak['max'] <= 80 else '**miss**'} |"
        )
    return "\n".join(out)


def notes(results: dict, plan: Plan) -> list[str]:
    rust = summarize(results["rustllm"], plan)
    lite = summarize(results["litellm"], plan) if results.get("litellm") else None
    mock = results["mock"]
    out = [
        f"Directly to the mock, c=1 (the baseline of the added rows): p50 {rust['direct_p50']:.0f} µs, "
        f"p99 {rust['direct_p99']:.0f} µs. The mock alone at c={plan.concurrency}: "
        f"{mock['json']['per_s']:,.0f} requests/s and {mock['stream']['complete'] / (mock['stream']['duration_us'] / 1e6):,.0f} "
        f"100-chunk streams/s, {mock['json']['mock_cpu_us_per_request']:.1f} µs / "
        f"{mock['stream']['mock_cpu_us_per_request']:.1f} µs of its CPU per request / stream.",
    ]
    rmock = results.get("rustllm_mock")
    if rmock:
        out.append(
            f"rustllm's own MockServer (bench/mock_server.py) alone, same wrk runs: {rmock['json']['per_s']:,.0f} "
            f"requests/s and {rmock['stream']['complete'] / (rmock['stream']['duration_us'] / 1e6):,.0f} 100-chunk streams/s, "
            f"{rmock['json']['mock_cpu_us_per_request']:.1f} µs / {rmock['stream']['mock_cpu_us_per_request']:.1f} µs "
            "of CPU per request / stream: the bench mock leaves the proxy more of the two cores."
        )
    out.append(
        f"Every stream is checked: {rust['stream_bad']} of the rustllm proxy's streams ended without "
        f"`data: [DONE]` or failed, {rust['stream_events']:.0f} data events each (role, 100 content chunks, "
        f"finish, usage, [DONE]); {rust['rps_errors']} non-streaming requests failed."
        + (
            f" LiteLLM: {lite['stream_bad']} streams bad, {lite['rps_errors']} requests failed "
            "(wrk's timeout raised to 60 s for it)."
            if lite
            else ""
        )
    )
    if lite:
        out.append(
            f"LiteLLM's proxy: c=1 p50 {lite['proxy_p50']:,.0f} µs / p99 {lite['proxy_p99']:,.0f} µs; "
            f"its CPU per request {lite['cpu_json']:,.0f} µs, per stream {lite['cpu_stream']:,.0f} µs; "
            f"start to ready median of {len(results['litellm']['start_s'])} starts "
            f"({', '.join(f'{s:.1f}' for s in results['litellm']['start_s'])} s). No soak for it."
        )
    soak = rust["soak"]
    if soak:
        sj, ss = soak["json"] or {}, soak["stream"] or {}
        out.append(
            f"Soak: {soak['seconds']} s of 48 connections of JSON calls and 16 of streams at once: "
            f"{sj.get('per_s', 0):,.0f} requests/s + {ss.get('complete', 0) / max(soak['seconds'], 1):,.0f} streams/s, "
            f"{sj.get('error_count', 0) + ss.get('error_count', 0) + ss.get('bad', 0)} failed; RSS sampled every "
            f"{plan.soak_sample_s:.0f} s ({len(soak['samples'])} samples), slope fitted over the second half."
        )
    return out


def keys_section(results: dict, plan: Plan) -> list[str]:
    keys = results.get("keys")
    if not keys:
        return []
    return [
        "### Virtual keys, limits and spend",
        "",
        "The same wrk runs (c=1 latency alternating with direct calls, "
        f"{plan.latency_reps * plan.latency_s} s; c={plan.concurrency} for {plan.load_s} s; each in "
        f"{plan.keys_rounds} rounds) against five set-ups of rustllm's proxy, all running at once: "
        "the core (master key, `database: none`); a virtual key from `/key/generate` with rpm, tpm, "
        "max_parallel_requests, per-model rpm limits and a `max_budget` with `budget_duration`, all checked "
        "on every request and never reached, its spend charged and written in batches (SQLite beside the "
        "config); the same with the limits in Redis (`router_settings.redis_host`, one Lua script call per "
        "batch of admissions); the same on Postgres; and on Postgres while another session holds ACCESS "
        "EXCLUSIVE locks on every spend table for the whole measurement (the writer blocks; requests must "
        "not). The runs take turns: each round runs every set-up once, in a rotating order, so that "
        "the two shared cores' slow spells fall on all of them alike; latencies, requests/s and CPU are "
        "the medians of the rounds (each round's requests/s is listed below the table, in round order). "
        '"vs core" compares with the first row, round by round: for the added p50 the median of the '
        "rounds' differences (each round's added p50 less the core's in the same round), for requests/s "
        "the median of the rounds' shares (each round's requests/s over the core's in the same round); "
        "targets are issue 15's (within 50 µs and 20% of the core, with Redis within 2x of that).",
        "",
        keys_table(keys),
        "",
        "Rounds, c=64 requests/s: "
        + "; ".join(
            f"{short} " + " / ".join(f"{x:,.0f}" for x in keys[name].get("rps_rounds", [keys[name]["rps"]]))
            for name, short in KEY_SHORT.items()
            if name in keys
        )
        + ".",
        "",
        paired_rounds_line(keys, "Rounds' added p50 less the core's, µs", round_added, "{:+,.0f}"),
        "",
        paired_rounds_line(keys, "Rounds' shares of the core's requests/s", round_shares, "{:.0%}"),
        "",
    ]


def paired_rounds_line(keys: dict, title: str, paired, fmt: str) -> str:
    """One line of every set-up's rounds compared with the core's (``paired(r, core)``),
    in round order."""
    return (
        f"{title}: "
        + "; ".join(
            f"{short} " + " / ".join(fmt.format(x) for x in paired(keys[name], keys["core"]))
            for name, short in KEY_SHORT.items()
            if name in keys and name != "core" and paired(keys[name], keys["core"])
        )
        + "."
    )


def write_results(text: str) -> None:
    old = RESULTS.read_text() if RESULTS.exists() else "# rustllm benchmark results\n"
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        new = head + BEGIN + "\n" + text + END + tail
    else:
        new = old.rstrip("\n") + "\n\n" + BEGIN + "\n" + text + END + "\n"
    RESULTS.write_text(new)


def markdown(
    results: dict, plan: Plan, info: dict[str, str], seconds: float, command: str, ended: float | None = None
) -> str:
    end = datetime.datetime.fromtimestamp(ended if ended is not None else time.time(), datetime.timezone.utc)
    when = end - datetime.timedelta(seconds=seconds)
    lines = [
        "## Proxy",
        "",
        f"Measured from {when:%Y-%m-%d %H:%M} UTC on commit {info['commit']}, with `{command}` "
        f"({seconds / 60:.0f} min). rustllm's proxy (`target/release/rustllm-proxy`) and LiteLLM's proxy "
        "(`litellm --config`, one worker, its defaults) serve the same config (one model group, `openai/bench` on "
        "the bench mock, a master key, no database) and take the same wrk load; what each row means and how to reproduce: "
        "bench/proxy/README.md. The load generator (wrk, one thread), the mock and the proxy share the "
        "machine's two cores, unpinned.",
        "",
        table(results, plan),
        "",
        *(f"- {n}" for n in notes(results, plan)),
        "",
        *keys_section(results, plan),
        "### Machine (proxy run)",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in info.items()),
        "",
    ]
    return "\n".join(lines)


def keys_only(no_build: bool, mock_threads: int) -> None:
    """Measure the keys section again and put it into the last run's figures (the
    machine table then names the commit of each part)."""
    raw = json.loads(RAW_OUT.read_text())
    results, info = raw["results"], raw["machine"]
    # The last run's durations, this version's rounds (a keys-section setting).
    plan = dataclasses.replace(Plan(**results["plan"]), keys_rounds=Plan().keys_rounds)
    results["plan"] = dataclasses.asdict(plan)
    if not no_build:
        build()
    keys_info = machine()
    mock, base = start_mock(mock_threads)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-proxy-") as tmp:
            results["keys"] = measure_keys(base, plan, Path(tmp))
    finally:
        mock.terminate()
        mock.wait()
    keys_info["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    for name in ("commit", "rustllm-proxy binary", "load average at start", "load average at end"):
        info[f"{name} (virtual keys section)"] = keys_info[name]
    print(keys_table(results["keys"]))
    raw["results"], raw["machine"] = results, info
    RAW_OUT.write_text(json.dumps(raw, indent=1))
    report = raw.get("report", {})
    write_results(markdown(results, plan, info, report["seconds"], report["command"], report["ended"]))
    log(f"wrote {RESULTS.relative_to(ROOT)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short runs (~3 min with LiteLLM); prints, writes nothing")
    ap.add_argument("--no-litellm", action="store_true", help="measure rustllm's proxy only")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already built")
    ap.add_argument("--no-keys", action="store_true", help="skip the virtual keys, limits and spend set-ups")
    ap.add_argument(
        "--soak-seconds",
        type=int,
        default=int(os.environ.get("BENCH_SOAK_SECONDS", "600")),
        help="the soak's length (default: $BENCH_SOAK_SECONDS or 600; 0 skips it)",
    )
    ap.add_argument("--mock-threads", type=int, default=2, help="the bench mock's tokio workers (default 2)")
    ap.add_argument("--out", type=Path, help="where to write the report (default bench/RESULTS.md; none for --quick)")
    ap.add_argument(
        "--keys-only",
        action="store_true",
        help="measure the virtual keys section alone (~6 min) and rewrite the report with the last run's other figures",
    )
    ap.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: rewrite the report from the last run's raw figures (bench/out/proxy.json)",
    )
    args = ap.parse_args()
    if args.report_only:
        raw = json.loads(RAW_OUT.read_text())
        results, info = raw["results"], raw["machine"]
        plan = Plan(**results["plan"])
        report = raw.get("report", {})
        text = markdown(results, plan, info, report["seconds"], report["command"], report["ended"])
        write_results(text)
        print(table(results, plan))
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk; `make bench-proxy` does it)")
    if args.keys_only:
        keys_only(args.no_build, args.mock_threads)
        return
    plan = Plan(soak_s=args.soak_seconds)
    if args.quick:
        plan = Plan(
            warmup_s=1,
            latency_s=3,
            latency_reps=1,
            load_s=4,
            starts=3,
            litellm_starts=1,
            litellm_latency_s=4,
            litellm_load_s=6,
            soak_s=min(args.soak_seconds, 20),
            soak_sample_s=1.0,
        )
    litellm = not args.no_litellm
    if litellm and not (LITELLM_VENV / "bin" / "litellm").exists():
        sys.exit(
            f"LiteLLM's proxy is not installed in {LITELLM_VENV} (`make bench-proxy` installs it; or --no-litellm)"
        )
    if not args.no_build:
        build()
    info = machine()
    t0 = time.monotonic()
    results: dict = {"plan": dataclasses.asdict(plan)}
    log("measuring rustllm's MockServer alone (for the choice of mock) ...")
    results["rustllm_mock"] = measure_rustllm_mock(plan)
    mock, base = start_mock(args.mock_threads)
    try:
        log(f"bench mock at {base}; measuring it alone ...")
        results["mock"] = measure_mock(base, mock.pid, plan)
        with tempfile.TemporaryDirectory(prefix="bench-proxy-") as tmp:
            config = Path(tmp) / "config.yaml"
            config.write_text(config_yaml(base))
            results["rustllm"] = measure_proxy("rustllm", config, base, mock.pid, plan, plan.soak_s)
            if litellm:
                results["litellm"] = measure_proxy("litellm", config, base, mock.pid, plan, 0)
            if not args.no_keys:
                log("virtual keys, limits and spend: five set-ups ...")
                results["keys"] = measure_keys(base, plan, Path(tmp))
    finally:
        mock.terminate()
        mock.wait()
    seconds = time.monotonic() - t0
    info["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(table(results, plan))
    print()
    if results.get("keys"):
        print(keys_table(results["keys"]))
        print()
    for n in notes(results, plan):
        print(f"- {n}")
    command = "python bench/proxy/run.py" + (" --quick" if args.quick else "")
    if plan.soak_s != 600 and not args.quick:
        command = f"BENCH_SOAK_SECONDS={plan.soak_s} {command}"
    RAW_OUT.parent.mkdir(exist_ok=True)
    RAW_OUT.write_text(
        json.dumps(
            {
                "machine": info,
                "results": results,
                "report": {"seconds": seconds, "command": command, "ended": time.time()},
            },
            indent=1,
        )
    )
    log(f"raw figures in {RAW_OUT.relative_to(ROOT)}")
    out = args.out if args.out else (None if args.quick else RESULTS)
    if out is not None:
        text = markdown(results, plan, info, seconds, command)
        if out == RESULTS:
            write_results(text)
        else:
            out.write_text(text)
        log(f"wrote {out}")


if __name__ == "__main__":
    main()
