"""One benchmark for one client, in a fresh process: ``python bench/worker.py TASK CLIENT URL PARAMS``.

``bench/run.py`` starts one of these per (task, client), so import costs, caches, threads
and memory of one client never touch another's figures. The worker prints its figures as
one line ``BENCH_RESULT {json}``; anything else it (or the library) prints is ignored.
A feature the client lacks gives ``{"na": reason}``, a failure ``{"error": reason}``.

Only the standard library is imported at the top, so the ``import`` task times the client
library alone.
"""

from __future__ import annotations

import json
import os
import sys
import time

RESULT_PREFIX = "BENCH_RESULT "
MESSAGES = [{"role": "user", "content": "hi"}]
API_KEY = "sk-bench"
# The model as the LiteLLM-style clients spell it, and as it goes over the wire.
MODEL = "openai/bench"
WIRE_MODEL = "bench"
IMPORTS = {"rustllm": "rustllm", "litellm": "litellm", "openai": "openai", "httpx": "httpx", "python": None}


class NotAvailable(Exception):
    """The client has no such feature (yet); reported as n/a, not as an error."""


def stream_request(chunks: int, words: int) -> tuple[str, list[dict]]:
    """A model name and messages for a stream of ``chunks`` non-empty content chunks.

    The mock's ``echo`` directive replies with the user message and ``chunks-N`` splits
    the reply into N even pieces. Its default reply is too short for thousands of pieces,
    and some clients drop empty pieces, so the prompt carries the text: ``words`` numbers
    (``words >= chunks``). Numbers, not one repeated word: LiteLLM aborts a stream whose
    chunks repeat the same text 100 times in a row. A short and a long stream of the same
    text differ only in how many chunks carry it.
    """
    return f"echo-chunks-{chunks}", [{"role": "user", "content": " ".join(map(str, range(words)))}]


def chunk_text(chunk) -> str | None:
    choices = chunk.choices
    return choices[0].delta.content if choices else None


# --------------------------------------------------------------------------------------
# Clients: the same call in each library's own idiom.
# --------------------------------------------------------------------------------------


class LiteLLMStyle:
    """rustllm and litellm: the same module-level functions, by design."""

    def __init__(self, module, base_url: str) -> None:
        self.m = module
        self.kw = {"api_base": base_url, "api_key": API_KEY, "max_retries": 0}

    def call(self) -> str:
        return self.m.completion(model=MODEL, messages=MESSAGES, **self.kw).choices[0].message.content

    async def acall(self) -> str:
        return (await self.m.acompletion(model=MODEL, messages=MESSAGES, **self.kw)).choices[0].message.content

    def stream(self, model: str, messages: list[dict]):
        return self.m.completion(model=f"openai/{model}", messages=messages, stream=True, **self.kw)

    async def astream(self, model: str, messages: list[dict]):
        return await self.m.acompletion(model=f"openai/{model}", messages=messages, stream=True, **self.kw)

    def build(self, chunks: list):
        builder = getattr(self.m, "stream_chunk_builder", None)
        if builder is None:
            raise NotAvailable(f"{self.m.__name__} has no stream_chunk_builder")
        return builder(chunks)

    async def aclose(self) -> None:
        pass


class OpenAISDK:
    def __init__(self, base_url: str) -> None:
        import openai

        self.openai = openai
        self.base_url = base_url
        self.client = openai.OpenAI(base_url=base_url, api_key=API_KEY, max_retries=0)
        self.aclient = None

    def _async(self):
        # Made on first use, inside the running event loop, as an application would.
        if self.aclient is None:
            self.aclient = self.openai.AsyncOpenAI(base_url=self.base_url, api_key=API_KEY, max_retries=0)
        return self.aclient

    def call(self) -> str:
        return self.client.chat.completions.create(model=WIRE_MODEL, messages=MESSAGES).choices[0].message.content

    async def acall(self) -> str:
        response = await self._async().chat.completions.create(model=WIRE_MODEL, messages=MESSAGES)
        return response.choices[0].message.content

    def stream(self, model: str, messages: list[dict]):
        return self.client.chat.completions.create(model=model, messages=messages, stream=True)

    async def astream(self, model: str, messages: list[dict]):
        return await self._async().chat.completions.create(model=model, messages=messages, stream=True)

    def build(self, chunks: list):
        raise NotAvailable("the openai SDK has no stream_chunk_builder")

    async def aclose(self) -> None:
        if self.aclient is not None:
            await self.aclient.close()


class RawHTTPX:
    """The least a Python program can do: POST the JSON, parse the reply into dicts."""

    def __init__(self, base_url: str) -> None:
        import httpx

        self.httpx = httpx
        self.url = f"{base_url}/chat/completions"
        self.body = {"model": WIRE_MODEL, "messages": MESSAGES}
        self.headers = {"Authorization": f"Bearer {API_KEY}"}
        self.client = httpx.Client()
        self.aclient = None

    def _async(self):
        if self.aclient is None:
            # httpx keeps only 20 idle connections by default; at concurrency 100 the rest
            # would reconnect on every call, which measures TCP setup instead of httpx.
            limits = self.httpx.Limits(max_connections=100, max_keepalive_connections=100)
            self.aclient = self.httpx.AsyncClient(limits=limits)
        return self.aclient

    def call(self) -> str:
        response = self.client.post(self.url, json=self.body, headers=self.headers)
        response.raise_for_status()
        return response.json()["choices"][0]["message"]["content"]

    async def acall(self) -> str:
        response = await self._async().post(self.url, json=self.body, headers=self.headers)
        response.raise_for_status()
        return response.json()["choices"][0]["message"]["content"]

    def stream(self, model: str, messages: list[dict]):
        raise NotAvailable("not measured for raw httpx")

    async def astream(self, model: str, messages: list[dict]):
        raise NotAvailable("not measured for raw httpx")

    def build(self, chunks: list):
        raise NotAvailable("httpx has no stream_chunk_builder")

    async def aclose(self) -> None:
        if self.aclient is not None:
            await self.aclient.aclose()
        self.client.close()


def make_client(name: str, base_url: str):
    if name in ("rustllm", "litellm"):
        import importlib

        module = importlib.import_module(name)
        if name == "litellm":
            module.suppress_debug_info = True
        return LiteLLMStyle(module, base_url)
    if name == "openai":
        return OpenAISDK(base_url)
    if name == "httpx":
        return RawHTTPX(base_url)
    raise ValueError(f"unknown client {name!r}")


# --------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float:
    return sorted_values[round((len(sorted_values) - 1) * p)]


def _status_mb(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"no {key} in /proc/self/status")


def rss_mb() -> float:
    """Resident set size now (MiB)."""
    return _status_mb("VmRSS:")


def max_rss_mb() -> float:
    """Peak resident set size of this process (MiB).

    VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the forked copy
    of the parent across exec, so every worker would report at least run.py's own size.
    """
    return _status_mb("VmHWM:")


def task_import(client: str, url: str, params: dict) -> dict:
    module = IMPORTS[client]
    started = time.perf_counter()
    if module is not None:
        __import__(module)
    seconds = time.perf_counter() - started
    return {"ms": seconds * 1000, "max_rss_mb": max_rss_mb(), "rss_mb": rss_mb()}


def task_latency(client: str, url: str, params: dict) -> dict:
    c = make_client(client, url)
    for _ in range(params["warmup"]):
        c.call()
    samples = []
    clock = time.perf_counter_ns
    for _ in range(params["calls"]):
        started = clock()
        c.call()
        samples.append((clock() - started) / 1000)
    samples.sort()
    return {
        "calls": len(samples),
        "p50_us": percentile(samples, 0.50),
        "p99_us": percentile(samples, 0.99),
        "mean_us": sum(samples) / len(samples),
    }


def task_router(client: str, url: str, params: dict) -> dict:
    """A Router call against a direct completion, alternating in one process.

    The Router has two deployments of the same model on the mock, so every call goes
    through deployment choice. Each iteration times one direct call and then one Router
    call, so drift (load, caches, the mock) hits both alike.
    """
    if client not in ("rustllm", "litellm"):
        raise NotAvailable(f"{client} has no Router")
    c = make_client(client, url)
    deployment = {"model": MODEL, "api_key": API_KEY, "api_base": url}
    router = c.m.Router(
        model_list=[
            {"model_name": "g", "litellm_params": dict(deployment), "model_info": {"id": "bench-a"}},
            {"model_name": "g", "litellm_params": dict(deployment), "model_info": {"id": "bench-b"}},
        ]
    )

    def via_router() -> str:
        return router.completion(model="g", messages=MESSAGES).choices[0].message.content

    for _ in range(params["warmup"]):
        c.call()
        via_router()
    direct, routed = [], []
    clock = time.perf_counter_ns
    for _ in range(params["calls"]):
        started = clock()
        c.call()
        middle = clock()
        via_router()
        direct.append((middle - started) / 1000)
        routed.append((clock() - middle) / 1000)
    direct.sort()
    routed.sort()
    out = {"calls": len(routed)}
    for name, samples in (("direct", direct), ("router", routed)):
        out[name] = {"p50_us": percentile(samples, 0.50), "p99_us": percentile(samples, 0.99)}
    out["extra_p50_us"] = out["router"]["p50_us"] - out["direct"]["p50_us"]
    out["extra_p99_us"] = out["router"]["p99_us"] - out["direct"]["p99_us"]
    return out


# Every routing strategy, as LiteLLM names them (usage-based-routing-v2 and
# usage-based-routing share one implementation in rustllm).
STRATEGIES = ("simple-shuffle", "least-busy", "latency-based-routing", "cost-based-routing", "usage-based-routing-v2")


def task_selection(client: str, url: str, params: dict) -> dict:
    """Router calls with 2 against N deployments in the group, per strategy.

    The deployments answer with ``mock_response``, so a call makes no request and what is
    left is the Router's own work: deployment choice, admission, the reply. Each iteration
    times one call on the small Router, one on the large one and one direct
    ``completion(mock_response=...)``, so drift hits all three; the Router's cost over a
    direct call is the small Router's p50 minus the direct one.
    """
    if client != "rustllm":
        raise NotAvailable(f"measured for rustllm only ({client}'s selection is quadratic in the deployments)")
    module = make_client(client, url).m
    sizes = (2, params["deployments"])

    def router(strategy: str, n: int):
        deployment = {"model": MODEL, "api_key": API_KEY, "mock_response": "ok"}
        model_list = [
            {"model_name": "g", "litellm_params": dict(deployment), "model_info": {"id": f"bench-{i}"}}
            for i in range(n)
        ]
        return module.Router(model_list=model_list, routing_strategy=strategy)

    def direct():
        return module.completion(model=MODEL, messages=MESSAGES, api_key=API_KEY, mock_response="ok")

    out: dict = {"deployments": list(sizes)}
    clock = time.perf_counter_ns
    for strategy in STRATEGIES:
        routers = [router(strategy, n) for n in sizes]
        calls = [lambda r=r: r.completion(model="g", messages=MESSAGES) for r in routers] + [direct]
        samples: list[list[float]] = [[] for _ in calls]
        for n in range(params["warmup"] + params["calls"]):
            for call, times in zip(calls, samples):
                started = clock()
                if call().choices[0].message.content != "ok":
                    raise RuntimeError(f"{strategy}: the Router did not return the mock response")
                if n >= params["warmup"]:
                    times.append((clock() - started) / 1000)
        small, large, alone = (percentile(sorted(times), 0.50) for times in samples)
        out[strategy] = {
            "calls": params["calls"],
            "small_p50_us": small,
            "large_p50_us": large,
            "extra_p50_us": large - small,
            # The same answer from a direct `completion(mock_response=...)`, timed in turn.
            "direct_p50_us": alone,
            "router_minus_direct_p50_us": small - alone,
        }
    return out


def task_throughput(client: str, url: str, params: dict) -> dict:
    """``calls`` async calls from ``concurrency`` tasks, ``reps`` times after ``warmup``
    calls: calls per second (median and every rep) and the process's CPU per call.
    ``router: true`` makes them ``Router.acompletion`` calls (one deployment on the mock)."""
    import asyncio
    import statistics

    concurrency = params["concurrency"]

    async def main() -> tuple[list[float], list[float]]:
        c = make_client(client, url)
        acall = c.acall
        if params.get("router"):
            if client not in ("rustllm", "litellm"):
                raise NotAvailable(f"{client} has no Router")
            deployment = {"model": MODEL, "api_key": API_KEY, "api_base": url, "max_retries": 0}
            router = c.m.Router(model_list=[{"model_name": "g", "litellm_params": deployment}])

            async def acall() -> str:
                return (await router.acompletion(model="g", messages=MESSAGES)).choices[0].message.content

        async def burst(calls: int) -> tuple[float, float]:
            todo = iter(range(calls))  # shared by every worker: one event loop, no races

            async def worker() -> None:
                for _ in todo:
                    await acall()

            cpu = time.process_time()
            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            seconds = time.perf_counter() - started
            return calls / seconds, (time.process_time() - cpu) / calls * 1e6

        await burst(params["warmup"])
        runs = [await burst(params["calls"]) for _ in range(params["reps"])]
        await c.aclose()
        return [r for r, _ in runs], [cpu for _, cpu in runs]

    rates, cpu = asyncio.run(main())
    return {
        "calls": params["calls"],
        "reps": len(rates),
        "calls_per_s": statistics.median(rates),
        "all": rates,
        "cpu_per_call_us": statistics.median(cpu),
    }


def per_chunk(params: dict, stream, astream, aclose) -> dict:
    """Per-chunk cost: (time of an N-chunk stream - time of a 1-chunk stream of the same text) / N.

    ``stream(model, messages)`` / ``await astream(model, messages)`` open one stream; the
    figures are given for both the sync and the async way of reading it.
    """
    import asyncio
    import statistics

    n = params["chunks"]
    long_model, messages = stream_request(n, n)
    short_model, _ = stream_request(1, n)

    # Wall time, and the client process's CPU time (every thread: Python's and the
    # library's own), which the mock's cost of producing the stream does not enter.
    def sync_once(model: str) -> tuple[float, float, int]:
        started, cpu = time.perf_counter(), time.process_time()
        seen = 0
        for chunk in stream(model, messages):
            if chunk_text(chunk):
                seen += 1
        return time.perf_counter() - started, time.process_time() - cpu, seen

    async def async_once(model: str) -> tuple[float, float, int]:
        started, cpu = time.perf_counter(), time.process_time()
        seen = 0
        async for chunk in await astream(model, messages):
            if chunk_text(chunk):
                seen += 1
        return time.perf_counter() - started, time.process_time() - cpu, seen

    def summary(short: list, long: list) -> dict:
        t_short = statistics.median(t for t, _, _ in short)
        t_long = statistics.median(t for t, _, _ in long)
        cpu_short = statistics.median(c for _, c, _ in short)
        cpu_long = statistics.median(c for _, c, _ in long)
        return {
            "per_chunk_us": (t_long - t_short) / n * 1e6,
            "cpu_per_chunk_us": (cpu_long - cpu_short) / n * 1e6,
            "stream_ms": t_long * 1000,
            "one_chunk_ms": t_short * 1000,
            "content_chunks_seen": long[0][2],
        }

    def sync_mode() -> dict:
        sync_once(short_model)  # warm-up: connection, first-call caches
        short = [sync_once(short_model) for _ in range(params["short_reps"])]
        return summary(short, [sync_once(long_model) for _ in range(params["reps"])])

    async def async_mode() -> dict:
        try:
            await async_once(short_model)
            short = [await async_once(short_model) for _ in range(params["short_reps"])]
            return summary(short, [await async_once(long_model) for _ in range(params["reps"])])
        finally:
            await aclose()

    out: dict = {"chunks": n}
    for mode, run in (("sync", sync_mode), ("async", lambda: asyncio.run(async_mode()))):
        try:
            out[mode] = run()
        except (NotImplementedError, NotAvailable) as e:
            out[mode] = {"na": f"not available ({e})"}
        except Exception as e:  # noqa: BLE001 - one mode failing still reports the other
            out[mode] = {"error": f"{type(e).__name__}: {e}"[:300]}
    return out


def task_stream(client: str, url: str, params: dict) -> dict:
    """Per-chunk cost of OpenAI-format streams (see per_chunk)."""
    c = make_client(client, url)
    return per_chunk(params, c.stream, c.astream, c.aclose)


def format_bases(url: str) -> dict[str, str]:
    """``api_base`` for each provider format the mock speaks, as tests/test_anthropic.py and
    tests/test_gemini.py pass them: OpenAI ``.../v1``, Anthropic the root (the client adds
    ``/v1/messages``), Gemini ``.../v1beta``."""
    root = url.removesuffix("/").removesuffix("/v1")
    return {"openai": url, "anthropic": root, "gemini": f"{root}/v1beta"}


def task_formats(client: str, url: str, params: dict) -> dict:
    """Per-chunk stream cost in each provider's native stream format, in one process.

    OpenAI is measured here too, so the Anthropic and Gemini figures have a same-process
    OpenAI figure to be divided by.
    """
    if client != "rustllm":
        raise NotAvailable(f"measured for rustllm only ({client} is too slow per chunk to be worth the minutes)")
    module = make_client(client, url).m
    out = {}
    for provider, base in format_bases(url).items():
        kw = {"api_base": base, "api_key": API_KEY, "max_retries": 0}

        def stream(model: str, messages: list[dict], provider=provider, kw=kw):
            return module.completion(model=f"{provider}/{model}", messages=messages, stream=True, **kw)

        async def astream(model: str, messages: list[dict], provider=provider, kw=kw):
            return await module.acompletion(model=f"{provider}/{model}", messages=messages, stream=True, **kw)

        async def aclose() -> None:
            pass

        out[provider] = per_chunk(params, stream, astream, aclose)
    return out


def task_builder(client: str, url: str, params: dict) -> dict:
    import statistics

    c = make_client(client, url)
    n = params["chunks"]
    if getattr(c, "m", None) is not None and not hasattr(c.m, "stream_chunk_builder"):
        raise NotAvailable(f"{client} has no stream_chunk_builder")
    model, messages = stream_request(n, n)
    times = []
    for _ in range(params["reps"]):
        # The chunks of a fresh stream each time, as an application collects them (a
        # builder may mutate or cache on its chunks; deep copies would also scatter them
        # in memory the way no real stream does).
        chunks = list(c.stream(model, messages))
        expected = "".join(chunk_text(ch) or "" for ch in chunks)
        started = time.perf_counter()
        built = c.build(chunks)
        times.append(time.perf_counter() - started)
        if built.choices[0].message.content != expected:
            raise RuntimeError("stream_chunk_builder did not join the chunks' text")
    return {"chunks": len(chunks), "reps": len(times), "ms": statistics.median(times) * 1000}


def task_memory(client: str, url: str, params: dict) -> dict:
    """RSS after growing numbers of sequential calls, with a full collection before each reading."""
    import gc

    c = make_client(client, url)
    done = 0
    readings = {}
    for checkpoint in sorted(params["checkpoints"]):
        while done < checkpoint:
            c.call()
            done += 1
        gc.collect()
        readings[str(checkpoint)] = rss_mb()
    return {"rss_mb": readings}


def task_cold(client: str, url: str, params: dict) -> dict:
    """One first use in a fresh process, then the same when warm: ``params["what"]`` is
    ``call`` (a completion), ``stream`` (a 10-chunk stream read to the end),
    ``builder`` (``stream_chunk_builder`` on a stream of ``params["chunks"]`` chunks, read
    first through the stream API, which warms the streams but not the builder) or
    ``counter`` (``token_counter`` of a short chat). Times in µs; warm is the median of
    ``params["warm"]`` more."""
    import statistics

    c = make_client(client, url)
    what, clock = params["what"], time.perf_counter_ns
    m = c.m
    if what == "call":
        run = c.call
    elif what == "stream":
        model, messages = stream_request(10, 10)

        def run():
            for _ in c.stream(model, messages):
                pass

    elif what == "builder":
        model, messages = stream_request(params["chunks"], params["chunks"])
        streams = [list(c.stream(model, messages)) for _ in range(params["warm"] + 1)]

        def run():
            c.build(streams.pop())

    elif what == "counter":
        chat = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "How far is the moon?"}]

        def run():
            m.token_counter(model="gpt-4o", messages=chat)

    else:
        raise ValueError(f"unknown first use {what!r}")
    started = clock()
    run()
    first = (clock() - started) / 1000
    warm = []
    for _ in range(params["warm"]):
        started = clock()
        run()
        warm.append((clock() - started) / 1000)
    return {"first_us": first, "warm_us": statistics.median(warm)}


def task_amemory(client: str, url: str, params: dict) -> dict:
    """RSS after growing numbers of async calls from ``concurrency`` tasks on one loop,
    with a full collection before each reading (issue 18: flat over 100k async calls)."""
    import asyncio
    import gc

    if client != "rustllm":
        raise NotAvailable("measured for rustllm only")

    async def main() -> dict:
        c = make_client(client, url)

        async def worker(todo) -> None:
            for _ in todo:  # shared by every worker: one event loop, no races
                await c.acall()

        done, readings = 0, {}
        for checkpoint in sorted(params["checkpoints"]):
            todo = iter(range(checkpoint - done))
            await asyncio.gather(*(worker(todo) for _ in range(params["concurrency"])))
            done = checkpoint
            gc.collect()
            readings[str(checkpoint)] = rss_mb()
        return {"rss_mb": readings}

    return asyncio.run(main())


TASKS = {
    "amemory": task_amemory,
    "cold": task_cold,
    "import": task_import,
    "latency": task_latency,
    "router": task_router,
    "selection": task_selection,
    "throughput": task_throughput,
    "stream": task_stream,
    "formats": task_formats,
    "builder": task_builder,
    "memory": task_memory,
}


def main() -> None:
    task, client, url, params = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    try:
        result = TASKS[task](client, url, params)
    except (NotImplementedError, NotAvailable) as e:
        result = {"na": f"not available ({e})"}
    except Exception as e:  # noqa: BLE001 - a benchmark reports failures, it does not stop on them
        result = {"error": f"{type(e).__name__}: {e}"[:300]}
    sys.stdout.flush()
    # Written straight to the file descriptor, past anything the library did to sys.stdout.
    os.write(1, (RESULT_PREFIX + json.dumps(result) + "\n").encode())


if __name__ == "__main__":
    main()
