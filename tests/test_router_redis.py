"""Router state shared through a real Redis (started by the tests on a free loopback
port): rpm limits, cooldowns and in-flight counts hold across Router instances and
processes, exactly; a Redis outage costs no request; the response cache in Redis."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import queue
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from _minute import clear_of_minute_end
from redis_server import RedisServer

import rustllm as litellm
from rustllm import Router
from rustllm.testing import MockServer

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def _redis():
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis(_redis):
    if _redis.proc is None:  # a test stopped it
        _redis.start()
    _redis.flush()
    return _redis


@pytest.fixture(scope="module")
def _servers():
    with MockServer(text="from A") as a, MockServer(text="from B") as b:
        yield a, b


@pytest.fixture
def servers(_servers):
    for s in _servers:
        s.reset()
        s.recording = True
        s.latency = 0.0
    return _servers


def dep(group, server, id_, **params):
    return {
        "model_name": group,
        "litellm_params": {"model": "openai/m", "api_base": server.base_url, "api_key": "k", **params},
        "model_info": {"id": id_},
    }


def text(resp):
    return resp.choices[0].message.content


def eventually(check, timeout: float = 2.0) -> bool:
    """Whether ``check()`` comes true within ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def test_two_routers_share_rpm_exactly(redis, servers):
    a, _ = servers
    clear_of_minute_end()
    routers = [Router(model_list=[dep("g", a, "A", rpm=6)], redis_url=redis.url) for _ in range(2)]
    assert routers[0]._core.redis_address == f"127.0.0.1:{redis.port}"
    for n in range(6):
        assert text(routers[n % 2].completion(model="g", messages=HI)) == "from A"
    for r in routers:  # LiteLLM would admit 12 here (6 per process, each rpm-1 in fact)
        with pytest.raises(litellm.RateLimitError, match="No deployments available"):
            r.completion(model="g", messages=HI)
    assert len(a.requests) == 6
    assert routers[1].deployment_stats()[0]["rpm_used"] == 6
    # LiteLLM's key shape, with a TTL.
    minute = time.strftime("%H-%M", time.gmtime())
    assert redis.command("GET", f"A:openai/m:rpm:{minute}") == "6"
    assert 0 < redis.command("PTTL", f"A:openai/m:rpm:{minute}") <= 120_000


def test_two_processes_share_rpm_exactly(redis, servers):
    a, _ = servers
    clear_of_minute_end()
    config = f"model_list=[{dep('g', a, 'A', rpm=6)!r}], redis_host='127.0.0.1', redis_port={redis.port}"
    r = Router(**eval(f"dict({config})"))
    for _ in range(3):
        r.completion(model="g", messages=HI)
    script = textwrap.dedent(
        f"""
        import rustllm
        r = rustllm.Router({config})
        ok = limited = 0
        for _ in range(6):
            try:
                r.completion(model="g", messages=[{{"role": "user", "content": "hi"}}])
                ok += 1
            except rustllm.RateLimitError:
                limited += 1
        print(ok, limited)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["3", "3"]
    with pytest.raises(litellm.RateLimitError):
        r.completion(model="g", messages=HI)
    assert len(a.requests) == 6


def test_one_routers_failure_cools_the_deployment_down_for_the_other(redis, servers):
    a, b = servers
    model_list = [dep("g", a, "A"), dep("g", b, "B")]
    r1 = Router(model_list=model_list, routing_strategy="least-busy", redis_url=redis.url)
    r2 = Router(model_list=model_list, routing_strategy="least-busy", redis_url=redis.url)
    a.fail_next(1, status=500)
    assert text(r1.completion(model="g", messages=HI)) == "from B"  # A failed, cooled down
    assert redis.command("PTTL", "deployment:A:cooldown") > 0
    for _ in range(5):  # least-busy would try A first on a tie: r2 knows it is cooling down
        assert text(r2.completion(model="g", messages=HI)) == "from B"
    assert len(a.requests) == 1
    stats = {s["id"]: s for s in r2.deployment_stats()}
    assert stats["A"]["cooldown_remaining"] > 0


async def test_least_busy_sees_the_other_routers_in_flight_requests(redis, servers):
    a, b = servers
    a.latency = b.latency = 0.5
    model_list = [dep("g", a, "A"), dep("g", b, "B")]
    r1 = Router(model_list=model_list, routing_strategy="least-busy", redis_url=redis.url)
    r2 = Router(model_list=model_list, routing_strategy="least-busy", redis_url=redis.url)
    slow = asyncio.ensure_future(r1.acompletion(model="g", messages=HI))
    await asyncio.sleep(0.2)
    assert redis.command("HGET", "g_request_count", "A") == "1"
    assert text(await r2.acompletion(model="g", messages=HI)) == "from B"
    assert text(await slow) == "from A"
    await asyncio.sleep(0.1)
    assert redis.command("HGET", "g_request_count", "A") == "0"


def test_redis_holds_only_what_some_router_reads(redis, servers):
    # simple-shuffle without limits reads nothing but cooldowns from Redis: a call writes
    # no usage, latency or in-flight key there (each was a round trip on every call), and
    # deployment_stats() still counts this process's calls.
    a, _ = servers
    clear_of_minute_end()
    r = Router(model_list=[dep("g", a, "A")], redis_url=redis.url)
    for _ in range(3):
        assert text(r.completion(model="g", messages=HI)) == "from A"
    assert redis.command("KEYS", "*") == []
    assert r.deployment_stats()[0]["rpm_used"] == 3
    # A cooldown is still shared.
    two = Router(model_list=[dep("c", a, "C1"), dep("c", a, "C2")], redis_url=redis.url, num_retries=0)
    a.fail_next(1, status=500)
    with pytest.raises(litellm.InternalServerError):
        two.completion(model="c", messages=HI)
    cooling = redis.command("KEYS", "deployment:*:cooldown")
    assert len(cooling) == 1 and redis.command("PTTL", cooling[0]) > 0
    # The strategies that read shared counts get them written.
    redis.flush()
    minute = time.strftime("%H-%M", time.gmtime())
    latency = Router(model_list=[dep("h", a, "L")], routing_strategy="latency-based-routing", redis_url=redis.url)
    usage = Router(model_list=[dep("u", a, "U")], routing_strategy="usage-based-routing-v2", redis_url=redis.url)
    limited = Router(model_list=[dep("t", a, "T", tpm=100_000)], redis_url=redis.url)
    for router, group in ((latency, "h"), (usage, "u"), (limited, "t")):
        assert text(router.completion(model=group, messages=HI)) == "from A"
    # Latency samples and token counts reach Redis just after the reply (off its path).
    assert eventually(lambda: redis.command("LLEN", "deployment:L:latency") == 1)
    assert redis.command("GET", f"U:openai/m:rpm:{minute}") == "1"
    assert eventually(lambda: int(redis.command("GET", f"T:openai/m:tpm:{minute}") or 0) > 0)
    assert redis.command("GET", f"L:openai/m:rpm:{minute}") is None


class SlowRelay:
    """A TCP relay in front of Redis that holds every reply back for ``delay`` seconds:
    a call then takes about ``delay`` per Redis round trip it waits for. Each reply is
    delayed from when it arrives, not queued behind the delay of the one before (a reply
    to a command sent off a call's path must not hold back the next call's)."""

    def __init__(self, port: int, delay: float) -> None:
        self.port, self.delay = port, delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.port))
            threading.Thread(target=self._pump, args=(client, server, 0.0), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, self.delay), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, delay: float) -> None:
        due: queue.Queue = queue.Queue()

        def send() -> None:
            while True:
                at, data = due.get()
                if not data:
                    return
                time.sleep(max(0.0, at - time.monotonic()))
                try:
                    dst.sendall(data)
                except OSError:
                    return

        threading.Thread(target=send, daemon=True).start()
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            due.put((time.monotonic() + delay, data))
            if not data:
                return

    def close(self) -> None:
        self.listener.close()


def command_calls(redis, name: str) -> int:
    """How many times Redis has run ``name`` (``INFO commandstats``)."""
    for line in redis.command("INFO", "commandstats").splitlines():
        if line.startswith(f"cmdstat_{name}:calls="):
            return int(line.split("=", 1)[1].split(",", 1)[0])
    return 0


def test_calls_under_load_reuse_a_read_of_the_shared_state_for_a_tenth_of_a_second(redis, servers):
    """least-busy with an rpm limit reads in-flight counts and usage: one read of the
    group's shared state (a pipeline with a PTTL per deployment) answers the selections of
    the next 0.1 s, so a call under load waits for its admission alone (it read the state
    on every call: two round trips). A call counts in flight here while its admission is
    out, so least-busy spreads a burst over both deployments (it sent all of it to one)."""
    a, b = servers
    clear_of_minute_end()
    r = Router(
        model_list=[dep("g", a, "A", rpm=10_000), dep("g", b, "B", rpm=10_000)],
        routing_strategy="least-busy",
        redis_url=redis.url,
    )

    async def burst() -> float:
        started = time.monotonic()
        replies = await asyncio.gather(*(r.acompletion(model="g", messages=HI) for _ in range(20)))
        served = [text(x) for x in replies]
        assert 7 <= served.count("from A") <= 13 and served.count("from B") == 20 - served.count("from A"), served
        return time.monotonic() - started

    asyncio.run(r.acompletion(model="g", messages=HI))  # connects
    reads_before, admissions_before = command_calls(redis, "pttl"), command_calls(redis, "evalsha")
    took = asyncio.run(burst())
    reads = (command_calls(redis, "pttl") - reads_before) / 2
    assert command_calls(redis, "evalsha") - admissions_before == 20  # each call's admission
    assert reads <= 2 + took / 0.1, (reads, took)


def test_a_read_slower_than_its_lifetime_still_answers_the_calls_that_waited_for_it(redis, servers):
    """With Redis 0.3 s away, longer than a read answers selections for (0.1 s), a burst's
    calls wait for the one read that is out and use it: a read is as fresh as its reply.
    Counted from when it was sent, it was too old on arrival, and each waiting call read
    again in turn (10 reads, the last call 3.3 s late)."""
    a, b = servers
    delay = 0.3
    relay = SlowRelay(redis.port, delay)
    try:
        r = Router(
            model_list=[dep("g", a, "A"), dep("g", b, "B")],
            routing_strategy="least-busy",
            redis_url=relay.url,
            num_retries=0,
        )
        assert text(r.completion(model="g", messages=HI)) in ("from A", "from B")  # connects
        time.sleep(2 * delay)  # its end reaches Redis; its read is old
        reads_before = command_calls(redis, "pttl")

        async def one() -> float:
            started = time.monotonic()
            await r.acompletion(model="g", messages=HI)
            return time.monotonic() - started

        async def burst() -> list[float]:
            return await asyncio.gather(*(one() for _ in range(10)))

        took = asyncio.run(burst())
        reads = (command_calls(redis, "pttl") - reads_before) / 2
        assert reads <= 2, reads
        assert max(took) < 4 * delay, took  # the read, then the admission
    finally:
        relay.close()


def test_a_reply_waits_for_its_selection_and_admission_only(redis, servers):
    """With Redis 0.15 s away, a latency-routed call with a tpm limit waits for two round
    trips (the deployments' shared state, whose last read is 0.1 s old by then, then the
    atomic admission), not for the latency sample and token count it leaves behind: those
    go in one round trip after the reply."""
    a, _ = servers
    clear_of_minute_end()
    delay = 0.15
    relay = SlowRelay(redis.port, delay)
    try:
        r = Router(
            model_list=[dep("g", a, "S", tpm=1_000_000)],
            routing_strategy="latency-based-routing",
            redis_url=relay.url,
        )
        assert text(r.completion(model="g", messages=HI)) == "from A"  # connects
        took = []
        for _ in range(3):
            started = time.monotonic()
            assert text(r.completion(model="g", messages=HI)) == "from A"
            took.append(time.monotonic() - started)
        assert 2 * delay <= min(took) < 3 * delay, took
        minute = time.strftime("%H-%M", time.gmtime())
        assert eventually(lambda: redis.command("LLEN", "deployment:S:latency") == 4, timeout=5)
        assert eventually(lambda: int(redis.command("GET", f"S:openai/m:tpm:{minute}") or 0) > 0, timeout=5)
    finally:
        relay.close()


async def test_a_call_cancelled_while_its_admission_is_out_leaves_nothing_in_flight(redis, servers):
    """An asyncio timeout that fires while the admission is on its way to Redis cancels the
    call, not the admission: once it answers, the in-flight count it took is given back
    (it stayed, and least-busy read that deployment one request busier from then on)."""
    a, b = servers
    relay = SlowRelay(redis.port, 0.2)
    try:
        r = Router(
            model_list=[dep("g", a, "A", rpm=1_000), dep("g", b, "B", rpm=1_000)],
            routing_strategy="least-busy",
            redis_url=relay.url,
        )
        await r.acompletion(model="g", messages=HI)  # connects
        await asyncio.sleep(0.6)  # its end reaches Redis through the relay
        assert {redis.command("HGET", "g_request_count", d) or "0" for d in "AB"} == {"0"}
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(r.acompletion(model="g", messages=HI), timeout=0.25)
        # Counted in Redis (the request was admitted there), then given back.
        await asyncio.sleep(1.0)
        assert {redis.command("HGET", "g_request_count", d) or "0" for d in "AB"} == {"0"}
        assert len(a.requests) + len(b.requests) == 1  # the cancelled call sent nothing
    finally:
        relay.close()


def test_redis_going_away_loses_no_request_and_warns_once(redis, servers, caplog):
    a, _ = servers
    clear_of_minute_end()
    r = Router(model_list=[dep("g", a, "A", rpm=100)], redis_url=redis.url)
    with caplog.at_level(logging.INFO, logger="rustllm"):
        assert text(r.completion(model="g", messages=HI)) == "from A"
        redis.stop()
        for _ in range(5):
            assert text(r.completion(model="g", messages=HI)) == "from A"
        time.sleep(1.1)  # the link retries once a second
        assert text(r.completion(model="g", messages=HI)) == "from A"
        assert r._core.redis_down
        warnings = [rec for rec in caplog.records if rec.levelno == logging.WARNING]
        assert len(warnings) == 1, [w.getMessage() for w in warnings]
        assert "Redis at 127.0.0.1" in warnings[0].getMessage()
        assert "carrying on with this process's local state" in warnings[0].getMessage()
        # Local state kept counting, the shared admission included.
        assert r.deployment_stats()[0]["rpm_used"] == 7
        redis.start()
        time.sleep(1.1)
        assert text(r.completion(model="g", messages=HI)) == "from A"
        assert not r._core.redis_down
    assert any("reachable again" in rec.getMessage() for rec in caplog.records)
    assert len(a.requests) == 8


def test_redis_unreachable_from_the_start_still_routes(servers, caplog):
    a, _ = servers
    from redis_server import _free_port

    r = Router(model_list=[dep("g", a, "A")], redis_host="127.0.0.1", redis_port=_free_port())
    with caplog.at_level(logging.WARNING, logger="rustllm"):
        for _ in range(3):
            assert text(r.completion(model="g", messages=HI)) == "from A"
    assert len([rec for rec in caplog.records if rec.levelno == logging.WARNING]) == 1


def test_response_cache_in_redis_is_shared_and_keyed_like_litellm(redis, servers):
    a, _ = servers
    model_list = [dep("g", a, "A")]
    r1 = Router(model_list=model_list, redis_url=redis.url, cache_responses=True, cache_kwargs={"ttl": 30})
    r2 = Router(model_list=model_list, redis_url=redis.url, cache_responses=True)
    assert r1._core.cache_type == "redis"
    first = r1.completion(model="g", messages=HI)
    second = r2.completion(model="g", messages=HI)
    assert second.id == first.id and second._hidden_params["cache_hit"] is True
    assert len(a.requests) == 1
    key = hashlib.sha256(b"model: gmessages: [{'role': 'user', 'content': 'hi'}]").hexdigest()
    assert 0 < redis.command("TTL", key) <= 30
    # no-store and per-call ttl work the same in Redis.
    other = [{"role": "user", "content": "other"}]
    r1.completion(model="g", messages=other, cache={"no-store": True})
    r2.completion(model="g", messages=other, cache={"ttl": 0.3})
    assert r1.completion(model="g", messages=other)._hidden_params["cache_hit"] is True
    time.sleep(0.45)
    assert r1.completion(model="g", messages=other)._hidden_params.get("cache_hit") is not True
    assert len(a.requests) == 4


def test_invalid_redis_configuration_fails_at_construction():
    with pytest.raises(ValueError, match="redis_url is not a valid Redis URL") as info:
        Router(model_list=[], redis_url="http://user:secret@nowhere")
    assert "secret" not in str(info.value)
    with pytest.raises(ValueError, match="redis_port"):
        Router(model_list=[], redis_host="localhost", redis_port="many")
