"""Rate limits of ``rustllm proxy`` as a process: rpm, tpm and max_parallel_requests per
virtual key, user, team and model, LiteLLM's 429 and ``x-ratelimit-*`` headers, limits
shared exactly by two instances on one Redis, and Redis outages logged once while
requests keep flowing.

The limits hang on virtual keys, so most tests create keys with ``/key/generate`` and
``/team/new``.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from _minute import clear_of_minute_end
from _proxy import ProxyProcess, mock_deployment, run_proxy
from postgres_server import PostgresServer
from redis_server import RedisServer

MASTER = "sk-1234"
HI = [{"role": "user", "content": "hi"}]


def config_for(server, extra: str = "", database: str | None = None) -> str:
    text = "model_list:\n" + mock_deployment("gpt-4o", server, model="openai/gpt-4o")
    text += "router_settings:\n  num_retries: 0\n"
    text += f"general_settings:\n  master_key: {MASTER}\n"
    if database:
        text += f"  database_url: {database}\n"
    return text + extra


def chat(url: str, key: str, timeout: float = 20, **body) -> httpx.Response:
    return httpx.post(
        f"{url}/chat/completions",
        json={"model": "gpt-4o", "messages": HI, **body},
        headers={"Authorization": f"Bearer {key}"},
        timeout=timeout,
    )


def admin(url: str, path: str, **body) -> dict:
    r = httpx.post(f"{url}{path}", json=body, headers={"Authorization": f"Bearer {MASTER}"}, timeout=20)
    assert r.status_code == 200, r.text
    return r.json()


def new_key(url: str, **body) -> str:
    return admin(url, "/key/generate", **body)["key"]


# -- without keys ---------------------------------------------------------------------


def test_token_rate_limit_type_is_checked_at_start(server):
    out = run_proxy(config_for(server, "  token_rate_limit_type: words\n"))
    assert out.returncode != 0
    assert "general_settings.token_rate_limit_type" in out.stderr
    assert "input" in out.stderr and "output" in out.stderr and "total" in out.stderr


def test_a_redis_outage_is_logged_once_and_requests_keep_flowing(server):
    with RedisServer() as redis:
        # An rpm on the deployment makes the Router count in Redis on every request.
        config = "model_list:\n" + mock_deployment("gpt-4o", server, model="openai/gpt-4o", rpm=1000)
        config += (
            f"router_settings:\n  num_retries: 0\n  redis_host: 127.0.0.1\n  redis_port: {redis.port}\n"
            f"general_settings:\n  master_key: {MASTER}\n"
        )
        with ProxyProcess(config) as proxy:
            assert chat(proxy.url, MASTER).status_code == 200
            redis.stop()
            for _ in range(5):
                assert chat(proxy.url, MASTER).status_code == 200
            down = [line for line in proxy.lines if "is unreachable" in line]
            assert len(down) == 1, proxy.output
            assert "WARNING" in down[0] or "warn" in down[0].lower(), down[0]
            redis.start()
            time.sleep(1.2)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any("reachable again" in line for line in proxy.lines):
                assert chat(proxy.url, MASTER).status_code == 200
                time.sleep(0.1)
            assert any("reachable again" in line for line in proxy.lines), proxy.output


# -- per key, user, team and model (virtual keys) --------------------------------------


def test_a_keys_rpm_limit_is_litellms_429_with_headers(server):
    with ProxyProcess(config_for(server)) as proxy:
        key = new_key(proxy.url, rpm_limit=3)
        clear_of_minute_end()
        for left in (2, 1, 0):
            r = chat(proxy.url, key)
            assert r.status_code == 200, r.text
            assert r.headers["x-ratelimit-remaining-requests"] == str(left)
            assert r.headers["x-ratelimit-limit-requests"] == "3"
            assert 1 <= int(r.headers["x-ratelimit-reset-requests"]) <= 60
        r = chat(proxy.url, key)
        assert r.status_code == 429
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert r.headers["rate_limit_type"] == "requests"
        error = r.json()["error"]
        assert error["code"] == "429"
        assert error["message"].startswith("Rate limit exceeded for api_key: ")
        assert "Limit type: requests. Current limit: 3, Remaining: 0." in error["message"]
        assert key not in r.text
        assert server.request_count == 3
        # The master key has no limits.
        assert chat(proxy.url, MASTER).status_code == 200


def test_the_openai_sdk_sees_a_rate_limit_error(server):
    import openai

    with ProxyProcess(config_for(server)) as proxy:
        key = new_key(proxy.url, rpm_limit=1)
        clear_of_minute_end()
        client = openai.OpenAI(api_key=key, base_url=proxy.url, max_retries=0)
        client.chat.completions.create(model="gpt-4o", messages=HI)
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="gpt-4o", messages=HI)


def test_tpm_reserves_the_estimate_and_settles_with_usage(server):
    with ProxyProcess(config_for(server)) as proxy:
        key = new_key(proxy.url, tpm_limit=100)
        clear_of_minute_end()
        # 8 prompt tokens ("hi" as a user message) + max_tokens 10 reserved; the mock's
        # reply uses 1 + 3 words.
        server.respond(text="one two three", times=3)
        r = chat(proxy.url, key, max_tokens=10)
        assert r.headers["x-ratelimit-remaining-tokens"] == "82"
        assert r.headers["x-ratelimit-limit-tokens"] == "100"
        r = chat(proxy.url, key, max_tokens=10)
        assert r.headers["x-ratelimit-remaining-tokens"] == "78"  # 4 settled + 18 reserved
        # 8 used: a request reserving 8 + 90 does not fit, and is refused before the provider.
        before = server.request_count
        r = chat(proxy.url, key, max_tokens=90)
        assert r.status_code == 429
        assert r.headers["rate_limit_type"] == "tokens"
        assert server.request_count == before


def test_max_parallel_requests_holds_a_slot_for_a_streams_life(server):
    with ProxyProcess(config_for(server)) as proxy:
        key = new_key(proxy.url, max_parallel_requests=1)
        server.respond(text="a b c d e", chunk_delay=0.2)
        with httpx.stream(
            "POST",
            f"{proxy.url}/chat/completions",
            json={"model": "gpt-4o", "messages": HI, "stream": True},
            headers={"Authorization": f"Bearer {key}"},
            timeout=20,
        ) as stream:
            assert stream.status_code == 200
            r = chat(proxy.url, key)
            assert r.status_code == 429
            assert r.headers["rate_limit_type"] == "max_parallel_requests"
            stream.read()
        deadline = time.monotonic() + 5
        while (status := chat(proxy.url, key).status_code) != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert status == 200


def test_a_teams_limit_is_shared_by_its_keys_and_model_limits_apply(server):
    with ProxyProcess(config_for(server)) as proxy:
        team = admin(proxy.url, "/team/new", team_alias="platform", rpm_limit=3)["team_id"]
        a = new_key(proxy.url, team_id=team)
        b = new_key(proxy.url, team_id=team, metadata={"model_rpm_limit": {"gpt-4o": 1}})
        clear_of_minute_end()
        assert chat(proxy.url, b).status_code == 200
        r = chat(proxy.url, b)
        assert r.status_code == 429
        assert "model_per_key" in r.json()["error"]["message"]
        assert chat(proxy.url, a).status_code == 200
        assert chat(proxy.url, a).status_code == 200
        r = chat(proxy.url, a)
        assert r.status_code == 429
        assert f"Rate limit exceeded for team: {team}." in r.json()["error"]["message"]
        assert server.request_count == 3


@pytest.fixture(params=["sqlite", "postgres"])
def shared_database(request, tmp_path):
    """One database for two instances: a SQLite file, or a Postgres server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'keys.db'}"
        return
    with PostgresServer() as pg:
        yield pg.url(pg.new_database())


def test_two_instances_on_one_redis_admit_exactly_30_a_minute(server, shared_database):
    with RedisServer() as redis:
        extra = f"  redis_host: 127.0.0.1\n  redis_port: {redis.port}\n"
        config = config_for(server, database=shared_database)
        config = config.replace("  num_retries: 0\n", "  num_retries: 0\n" + extra)
        with ProxyProcess(config) as one, ProxyProcess(config) as two:
            key = new_key(one.url, rpm_limit=30)
            # The key reaches the other instance's key cache (through the shared
            # database): the key itself authenticates there once it has.
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                info = httpx.get(
                    f"{two.url}/key/info",
                    params={"key": key},
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=10,
                )
                if info.status_code == 200:
                    break
                time.sleep(0.1)
            clear_of_minute_end(margin=15)
            statuses: list[int] = []
            lock = threading.Lock()

            def call(url: str) -> None:
                status = chat(url, key).status_code
                with lock:
                    statuses.append(status)

            threads = [threading.Thread(target=call, args=(one.url if n % 2 else two.url,)) for n in range(60)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(set(statuses)) == [200, 429], statuses
            assert statuses.count(200) == 30
            assert server.request_count == 30
