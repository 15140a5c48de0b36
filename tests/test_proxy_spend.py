"""Budgets and spend on ``rustllm proxy`` processes, with SQLite and a real Postgres.

What an operator relies on: a payer over its ``max_budget`` is refused before any provider
call with LiteLLM's ``budget_exceeded`` error; a ``budget_duration`` window resets; spend
is written in batches to LiteLLM's tables (``LiteLLM_SpendLogs`` rows without keys or
static data, the daily tables, the payers' ``spend``) and read back by ``/spend/logs``,
``/global/spend`` and ``/global/spend/report``; retention prunes old rows; two proxies on
one Postgres see each other's spend; a database held up by a lock slows no request; and a
client cannot set its own prices.

Costs come from the deployments' custom prices and the MockServer's word-counted usage,
so every number is known: "hi" is 1 prompt token, "Hello from MockServer!" 3 completion
tokens.
"""

from __future__ import annotations

import datetime
import hashlib
import sqlite3
import statistics
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from _proxy import ProxyProcess, mock_deployment
from postgres_server import PostgresServer

MASTER = "sk-1234"
MASTER_HASH = hashlib.sha256(MASTER.encode()).hexdigest()
HI = [{"role": "user", "content": "hi"}]
# Per request: 1 prompt token and 3 completion tokens.
GPT_COST = 1 * 0.001 + 3 * 0.01
CHEAP_COST = 1 * 0.0001 + 3 * 0.0002
AUTH = {"Authorization": f"Bearer {MASTER}"}


def today() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


@pytest.fixture(scope="module")
def pg():
    with PostgresServer() as server:
        yield server


class Db:
    """One test's database: its URL, and SQL run on it from the test."""

    def __init__(self, url: str, path: Path | None = None, pg: PostgresServer | None = None, name: str = ""):
        self.url, self.path, self.pg, self.name = url, path, pg, name

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        """Run ``query`` (``?`` placeholders; values are the test's own) and return rows."""
        if self.pg is not None:
            for p in params:
                value = "NULL" if p is None else ("'" + str(p).replace("'", "''") + "'")
                query = query.replace("?", value, 1)
            out = self.pg.sql(query, database=self.name).stdout.strip()
            return [tuple(line.split("|")) for line in out.splitlines() if line]
        assert self.path is not None
        con = sqlite3.connect(self.path, timeout=10)
        try:
            rows = con.execute(query, params).fetchall()
            con.commit()
            return rows
        finally:
            con.close()

    def end_user_budget(self, user: str, max_budget: float, duration: str | None = None, reset_at: str | None = None):
        """An end user (LiteLLM's customer) with a budget, as ``/customer/new`` stores one."""
        budget = f"budget-{user}"
        self.sql(
            'INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, budget_duration, budget_reset_at) VALUES (?, ?, ?, ?)',
            (budget, max_budget, duration, reset_at),
        )
        self.sql('INSERT INTO "LiteLLM_EndUserTable" (user_id, budget_id) VALUES (?, ?)', (user, budget))

    def spend(self, table: str, id_col: str, id_value: str) -> float:
        rows = self.sql(f'SELECT spend FROM "{table}" WHERE {id_col} = ?', (id_value,))
        return float(rows[0][0]) if rows else 0.0


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "spend.db"
        return Db(f"sqlite:///{path}", path=path)
    pg = request.getfixturevalue("pg")
    name = pg.new_database()
    return Db(pg.url(name), pg=pg, name=name)


def config(server, db: Db, extra: str = "") -> str:
    text = "model_list:\n"
    text += mock_deployment(
        "gpt-4o", server, model="openai/gpt-4o", input_cost_per_token=0.001, output_cost_per_token=0.01
    )
    text += mock_deployment(
        "cheap", server, model="openai/cheap", input_cost_per_token=0.0001, output_cost_per_token=0.0002
    )
    text += "router_settings:\n  num_retries: 0\n"
    text += f"general_settings:\n  master_key: {MASTER}\n  database_url: {db.url}\n  proxy_batch_write_at: 0.2\n"
    return text + extra


def chat(proxy: ProxyProcess, model: str = "gpt-4o", key: str = MASTER, **body) -> httpx.Response:
    return httpx.post(
        f"{proxy.url}/chat/completions",
        json={"model": model, "messages": HI, **body},
        headers={"Authorization": f"Bearer {key}"},
        timeout=20,
    )


def get(proxy: ProxyProcess, path: str, key: str = MASTER, **params) -> httpx.Response:
    return httpx.get(f"{proxy.url}{path}", params=params, headers={"Authorization": f"Bearer {key}"}, timeout=20)


def wait_for(check, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def logs(proxy: ProxyProcess, **params) -> list[dict]:
    r = get(proxy, "/spend/logs", **params)
    assert r.status_code == 200, r.text
    return r.json()


# -- budgets -----------------------------------------------------------------------------


def test_an_end_user_over_budget_is_refused_with_litellms_error(server, db):
    with ProxyProcess(config(server, db)) as proxy:
        db.end_user_budget("cust-1", 0.05)
        time.sleep(0.6)  # the proxy reads budgets every flush interval
        first = chat(proxy, user="cust-1")
        second = chat(proxy, user="cust-1")
        assert first.status_code == second.status_code == 200
        cost = float(first.headers["x-litellm-response-cost"])
        assert cost == pytest.approx(GPT_COST)
        refused = chat(proxy, user="cust-1")
        assert refused.status_code == 400
        assert refused.json() == {
            "error": {
                "message": f"Budget has been exceeded! Current cost: {cost + cost!r}, Max budget: 0.05",
                "type": "budget_exceeded",
                "param": "None",
                "code": "400",
            }
        }
        # Refused before the provider: two calls reached it.
        assert len(server.requests) == 2
        # Other end users, and requests without one, are not limited.
        assert chat(proxy, user="cust-2").status_code == 200
        assert chat(proxy).status_code == 200
        # The spend is in the database once flushed, on the end user's row.
        wait_for(lambda: db.spend("LiteLLM_EndUserTable", "user_id", "cust-1") > 0, what="the flush")
        assert db.spend("LiteLLM_EndUserTable", "user_id", "cust-1") == pytest.approx(2 * GPT_COST)
        # The openai SDK raises BadRequestError for it.
        import openai

        client = openai.OpenAI(api_key=MASTER, base_url=proxy.url, max_retries=0)
        with pytest.raises(openai.BadRequestError, match="Budget has been exceeded"):
            client.chat.completions.create(model="gpt-4o", messages=HI, user="cust-1")


def test_a_budget_duration_window_resets(server, db, tmp_path):
    extra = "  proxy_budget_rescheduler_min_time: 1\n"
    with ProxyProcess(config(server, db, extra)) as proxy:
        # A 2-second window (LiteLLM's `Ns` form), ending at the next even second.
        reset_at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
        db.end_user_budget("cust-r", 0.01, duration="2s", reset_at=reset_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        time.sleep(0.6)
        assert chat(proxy, user="cust-r").status_code == 200
        refused = chat(proxy, user="cust-r")
        assert refused.status_code == 400 and refused.json()["error"]["type"] == "budget_exceeded"
        started = time.monotonic()
        wait_for(lambda: chat(proxy, user="cust-r").status_code == 200, timeout=6, what="the window to reset")
        assert time.monotonic() - started < 5

        # The reset job zeroed the window in the database and set the next one.
        def next_window() -> str | None:
            rows = db.sql('SELECT budget_reset_at FROM "LiteLLM_BudgetTable" WHERE budget_id = ?', ("budget-cust-r",))
            value = str(rows[0][0])
            return value if value[:19].replace(" ", "T") > reset_at.strftime("%Y-%m-%dT%H:%M:%S") else None

        wait_for(next_window, timeout=5, what="the reset job")
        assert db.spend("LiteLLM_EndUserTable", "user_id", "cust-r") <= GPT_COST + 1e-9


# -- spend logs and reports --------------------------------------------------------------


def test_spend_logs_and_reports_after_known_traffic(server, db):
    with ProxyProcess(config(server, db)) as proxy:
        ids = []
        for model, user in [("gpt-4o", "cust-a"), ("gpt-4o", "cust-a"), ("cheap", "cust-b")]:
            r = chat(proxy, model=model, user=user)
            assert r.status_code == 200, r.text
            ids.append(r.headers["x-litellm-call-id"])
        total = 2 * GPT_COST + CHEAP_COST
        rows = wait_for(lambda: len(logs(proxy)) == 3 and logs(proxy), what="3 spend logs")
        # Newest first; the key's hash, never the key.
        assert [r["request_id"] for r in rows] == ids[::-1]
        assert MASTER not in str(rows).replace(MASTER_HASH, "")
        row = rows[-1]
        assert row["api_key"] == MASTER_HASH
        assert row["spend"] == pytest.approx(GPT_COST)
        assert (row["prompt_tokens"], row["completion_tokens"], row["total_tokens"]) == (1, 3, 4)
        assert (row["model"], row["model_group"], row["end_user"]) == ("gpt-4o", "gpt-4o", "cust-a")
        assert (row["call_type"], row["status"], row["cache_hit"]) == ("acompletion", "success", "False")
        assert row["custom_llm_provider"] == "openai" and row["model_id"]
        # LiteLLM's filters.
        assert [r["request_id"] for r in logs(proxy, request_id=ids[2])] == [ids[2]]
        assert len(logs(proxy, api_key=MASTER)) == 3
        assert len(logs(proxy, api_key=MASTER_HASH)) == 3
        assert logs(proxy, api_key="sk-other") == []
        assert len(logs(proxy, start_date=today(), end_date=today(), summarize="false")) == 3
        summary = logs(proxy, start_date=today(), end_date=today())
        assert len(summary) == 1
        day = summary[0]
        assert day["startTime"] == today()
        assert day["spend"] == pytest.approx(total)
        assert day[MASTER_HASH] == pytest.approx(total)
        assert day["models"] == {"gpt-4o": pytest.approx(2 * GPT_COST), "cheap": pytest.approx(CHEAP_COST)}

        r = get(proxy, "/global/spend")
        assert r.status_code == 200
        assert r.json() == {"spend": pytest.approx(total), "max_budget": 0.0}

        dates = {"start_date": today(), "end_date": today()}
        customers = get(proxy, "/global/spend/report", group_by="customer", **dates).json()
        assert len(customers) == 1 and customers[0]["group_by_day"].startswith(today())
        by_customer = {c["customer"]: c for c in customers[0]["customers"]}
        assert by_customer["cust-a"]["total_spend"] == pytest.approx(2 * GPT_COST)
        assert by_customer["cust-a"]["metadata"] == [
            {"model": "gpt-4o", "api_key": MASTER_HASH, "spend": pytest.approx(2 * GPT_COST), "total_tokens": 8}
        ]
        assert by_customer["cust-b"]["total_spend"] == pytest.approx(CHEAP_COST)

        keys = get(proxy, "/global/spend/report", group_by="api_key", **dates).json()
        assert len(keys) == 1
        assert keys[0]["api_key"] == MASTER_HASH
        assert keys[0]["total_cost"] == pytest.approx(total)
        assert (keys[0]["total_input_tokens"], keys[0]["total_output_tokens"]) == (3, 9)
        details = {m["model"]: m for m in keys[0]["model_details"]}
        assert details["cheap"]["total_cost"] == pytest.approx(CHEAP_COST)
        assert get(proxy, "/global/spend/report", api_key=MASTER, **dates).json() == keys

        models = get(proxy, "/global/spend/report", group_by="model", **dates).json()
        by_model = {m["model"]: m["total_spend"] for m in models[0]["models"]}
        assert by_model == {"gpt-4o": pytest.approx(2 * GPT_COST), "cheap": pytest.approx(CHEAP_COST)}

        teams = get(proxy, "/global/spend/report", **dates).json()  # group_by=team is the default
        assert [t["team_name"] for t in teams[0]["teams"]] == ["Unassigned Team"]
        assert teams[0]["teams"][0]["total_spend"] == pytest.approx(total)

        # Another day has nothing; the dates are required.
        assert get(proxy, "/global/spend/report", start_date="2020-01-01", end_date="2020-01-02").json() == []
        missing = get(proxy, "/global/spend/report")
        assert missing.status_code == 400 and "start_date and end_date" in missing.text
        top = get(proxy, "/global/spend/models", limit=1).json()
        assert top == [{"model": "gpt-4o", "total_spend": pytest.approx(2 * GPT_COST)}]

        # The daily end-user table adds requests up.
        daily = db.sql(
            'SELECT api_requests, successful_requests, spend, prompt_tokens FROM "LiteLLM_DailyEndUserSpend" WHERE end_user_id = ?',
            ("cust-a",),
        )
        assert [(int(a), int(s), float(c), int(p)) for a, s, c, p in daily] == [(2, 2, pytest.approx(2 * GPT_COST), 2)]

        # Spend endpoints need a key.
        assert httpx.get(f"{proxy.url}/spend/logs", timeout=5).status_code == 401


def test_retention_prunes_old_spend_logs_and_keeps_totals(server, db):
    extra = "  maximum_spend_logs_retention_period: 2s\n  maximum_spend_logs_retention_interval: 1s\n"
    with ProxyProcess(config(server, db, extra)) as proxy:
        for _ in range(3):
            assert chat(proxy, user="cust-p").status_code == 200
        wait_for(lambda: len(logs(proxy)) == 3, what="3 spend logs")
        wait_for(lambda: logs(proxy) == [], timeout=8, what="retention to prune the rows")
        # The totals are not logs: they stay.
        assert db.spend("LiteLLM_EndUserTable", "user_id", "cust-p") == pytest.approx(3 * GPT_COST)
        # New traffic is logged again.
        assert chat(proxy, user="cust-p").status_code == 200
        wait_for(lambda: len(logs(proxy)) == 1, what="the new row")


def test_clients_cannot_set_their_own_prices(server, db):
    with ProxyProcess(config(server, db)) as proxy:
        r = chat(
            proxy,
            user="cust-x",
            input_cost_per_token=0.0,
            output_cost_per_token=0.0,
            input_cost_per_second=0.0,
            max_budget=1000,
        )
        assert r.status_code == 200, r.text
        assert float(r.headers["x-litellm-response-cost"]) == pytest.approx(GPT_COST)
        # Not forwarded to the provider either.
        sent = server.requests[-1].body
        for param in ("input_cost_per_token", "output_cost_per_token", "input_cost_per_second", "max_budget"):
            assert param not in sent
        rows = wait_for(lambda: logs(proxy), what="the spend log")
        assert rows[0]["spend"] == pytest.approx(GPT_COST)
        wait_for(lambda: db.spend("LiteLLM_EndUserTable", "user_id", "cust-x") > 0, what="the flush")
        assert db.spend("LiteLLM_EndUserTable", "user_id", "cust-x") == pytest.approx(GPT_COST)


def test_a_stream_is_charged_when_it_ends(server, db):
    with ProxyProcess(config(server, db)) as proxy:
        db.end_user_budget("cust-s", 0.04)
        time.sleep(0.6)
        with httpx.stream(
            "POST",
            f"{proxy.url}/chat/completions",
            json={
                "model": "gpt-4o",
                "messages": HI,
                "user": "cust-s",
                "stream": True,
                "stream_options": {"include_usage": True},
            },
            headers=AUTH,
            timeout=20,
        ) as r:
            assert r.status_code == 200
            body = r.read().decode()
        assert "[DONE]" in body
        # 0.031 charged at the stream's end; one more request goes over 0.04.
        assert chat(proxy, user="cust-s").status_code == 200
        assert chat(proxy, user="cust-s").status_code == 400
        rows = wait_for(lambda: len(logs(proxy)) == 2 and logs(proxy), what="2 spend logs")
        assert [r["spend"] for r in rows] == [pytest.approx(GPT_COST)] * 2


def test_text_postgres_cannot_store_does_not_stop_spend_writing(server, db):
    """A NUL character is valid JSON text (``\\u0000``) but Postgres stores no NUL in a
    ``text`` or ``jsonb`` value: one request whose ``user`` (the end user) carried one
    failed every later flush, and all spend stopped being written. It is written with
    U+FFFD in its place (on SQLite too, so both databases hold the same id), and the
    requests around it are logged and charged."""
    with ProxyProcess(config(server, db)) as proxy:
        assert chat(proxy, user="before").status_code == 200
        assert chat(proxy, user="a\x00b").status_code == 200
        assert chat(proxy, user="after").status_code == 200
        stored = 'SELECT end_user FROM "LiteLLM_SpendLogs"'
        wait_for(lambda: len(db.sql(stored)) == 3, what="3 spend-log rows in the database")
        assert {r[0] for r in db.sql(stored)} == {"a\ufffdb", "after", "before"}
        assert {r["end_user"] for r in logs(proxy)} == {"a\ufffdb", "after", "before"}
        assert db.spend("LiteLLM_EndUserTable", "user_id", "a\ufffdb") == pytest.approx(GPT_COST)
        assert db.spend("LiteLLM_EndUserTable", "user_id", "after") == pytest.approx(GPT_COST)
        # Asked for by its id, NUL and all, it is found (Postgres refused the NUL: a 500).
        dates = {"start_date": today(), "end_date": today()}
        r = get(proxy, "/global/spend/report", group_by="customer", customer_id="a\x00b", **dates)
        assert r.status_code == 200, r.text
        assert [c["customer"] for c in r.json()[0]["customers"]] == ["a\ufffdb"]
        r = get(proxy, "/spend/logs", request_id="x\x00", user_id="a\x00b")
        assert (r.status_code, r.json()) == (200, [])


# -- several instances, a slow database ---------------------------------------------------


def test_two_proxies_on_one_postgres_share_a_budget(server, pg):
    name = pg.new_database()
    db = Db(pg.url(name), pg=pg, name=name)
    with ProxyProcess(config(server, db)) as a, ProxyProcess(config(server, db)) as b:
        db.end_user_budget("shared", 0.05)
        time.sleep(0.6)
        # Spent through A: two requests, 0.062 of 0.05.
        assert chat(a, user="shared").status_code == 200
        assert chat(a, user="shared").status_code == 200
        assert chat(a, user="shared").status_code == 400
        # B sees it within a couple of flush intervals (0.2 s each).
        started = time.monotonic()
        wait_for(lambda: chat(b, user="shared").status_code == 400, timeout=5, what="B to see A's spend")
        assert time.monotonic() - started < 2
        # A spend-log row stays small: ids, numbers and times, no copy of static data.
        size = db.sql('SELECT max(pg_column_size(t.*)) FROM "LiteLLM_SpendLogs" t')[0][0]
        assert 0 < int(size) < 1024, size


def test_a_locked_postgres_does_not_slow_requests(server, pg):
    name = pg.new_database()
    db = Db(pg.url(name), pg=pg, name=name)
    with ProxyProcess(config(server, db)) as proxy:
        for _ in range(5):
            chat(proxy)

        def timed(n: int) -> list[float]:
            out = []
            for _ in range(n):
                t = time.perf_counter()
                assert chat(proxy, user="cust-slow").status_code == 200
                out.append(time.perf_counter() - t)
            return out

        baseline = timed(20)
        # Another session holds every table the writer touches for the whole run.
        locker = subprocess.Popen(
            pg._cmd("psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", name, "-q"),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert locker.stdin is not None
        locker.stdin.write(
            'BEGIN; LOCK TABLE "LiteLLM_SpendLogs", "LiteLLM_VerificationToken", "LiteLLM_EndUserTable", '
            '"LiteLLM_DailyEndUserSpend", "LiteLLM_BudgetTable" IN ACCESS EXCLUSIVE MODE;\n'
        )
        locker.stdin.flush()
        wait_for(
            lambda: db.sql("SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND granted")[0][0] != "0",
            what="the lock",
        )
        try:
            locked = timed(60)  # about 3 flush intervals of traffic against the held lock
        finally:
            locker.stdin.write("ROLLBACK;\n")
            locker.stdin.close()
            locker.wait(timeout=10)
        assert statistics.median(locked) < statistics.median(baseline) + 0.02, (baseline, locked)
        assert max(locked) < 0.5, max(locked)
        # Nothing was lost: once the lock is gone every row and every cent is written.
        wait_for(
            lambda: db.spend("LiteLLM_EndUserTable", "user_id", "cust-slow") == pytest.approx(80 * GPT_COST),
            timeout=10,
            what="the spend written after the lock",
        )
        assert len(logs(proxy)) == 85


# -- virtual keys (need the key store's admin API) ----------------------------------------


def generate(proxy: ProxyProcess, **body) -> dict:
    r = httpx.post(f"{proxy.url}/key/generate", json=body, headers=AUTH, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_key_with_max_budget_is_refused_after_spending_it(server, db):
    with ProxyProcess(config(server, db)) as proxy:
        key = generate(proxy, max_budget=0.05)["key"]
        assert chat(proxy, key=key).status_code == 200
        assert chat(proxy, key=key).status_code == 200
        refused = chat(proxy, key=key)
        assert refused.status_code == 400
        error = refused.json()["error"]
        assert error["type"] == "budget_exceeded"
        assert error["message"] == f"Budget has been exceeded! Current cost: {2 * GPT_COST!r}, Max budget: 0.05"
        assert len(server.requests) == 2
        digest = hashlib.sha256(key.encode()).hexdigest()
        # Both charges are written (in one flush or two).
        wait_for(
            lambda: db.spend("LiteLLM_VerificationToken", "token", digest) == pytest.approx(2 * GPT_COST),
            what="the flushes",
        )
        # The key never appears in a spend row.
        assert key not in str(logs(proxy))


def test_a_budget_set_through_the_admin_api_holds_from_the_next_request(server, db):
    # Flushes 30 s apart: nothing but the admin write itself can tell the ledger.
    slow = config(server, db).replace("proxy_batch_write_at: 0.2", "proxy_batch_write_at: 30")
    with ProxyProcess(slow) as proxy:
        key = generate(proxy, max_budget=GPT_COST / 2)["key"]
        assert chat(proxy, key=key).status_code == 200
        refused = chat(proxy, key=key)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["type"] == "budget_exceeded"
        # A budget added to a key that has already spent (not yet written) holds at once.
        other = generate(proxy)["key"]
        assert chat(proxy, key=other).status_code == 200
        r = httpx.post(f"{proxy.url}/key/update", json={"key": other, "max_budget": GPT_COST / 2}, headers=AUTH)
        assert r.status_code == 200, r.text
        assert chat(proxy, key=other).status_code == 400
        # And a raised budget lets it through again.
        r = httpx.post(f"{proxy.url}/key/update", json={"key": other, "max_budget": 1.0}, headers=AUTH)
        assert r.status_code == 200, r.text
        assert chat(proxy, key=other).status_code == 200
        assert len(server.requests) == 3


def test_team_reports_and_a_team_key_reads_only_its_own_logs(server, db):
    with ProxyProcess(config(server, db)) as proxy:
        for team, alias in [("team-a", "Alpha"), ("team-b", "Beta")]:
            r = httpx.post(
                f"{proxy.url}/team/new", json={"team_id": team, "team_alias": alias}, headers=AUTH, timeout=10
            )
            assert r.status_code == 200, r.text
        key_a = generate(proxy, team_id="team-a")["key"]
        key_b = generate(proxy, team_id="team-b")["key"]
        time.sleep(0.6)
        assert chat(proxy, key=key_a).status_code == 200
        assert chat(proxy, key=key_a, model="cheap").status_code == 200
        assert chat(proxy, key=key_b).status_code == 200
        wait_for(lambda: len(logs(proxy)) == 3, what="3 spend logs")
        teams = get(proxy, "/global/spend/report", start_date=today(), end_date=today()).json()
        by_team = {t["team_name"]: t["total_spend"] for t in teams[0]["teams"]}
        assert by_team == {"Alpha": pytest.approx(GPT_COST + CHEAP_COST), "Beta": pytest.approx(GPT_COST)}
        own = logs(proxy, key=key_a)
        assert {r["team_id"] for r in own} == {"team-a"} and len(own) == 2
        # Asking for the other key's rows gives its own only; global reports are the admin's.
        assert {r["team_id"] for r in logs(proxy, key=key_a, api_key=key_b)} <= {"team-a"}
        assert get(proxy, "/global/spend", key=key_a).status_code == 403
        wait_for(lambda: db.spend("LiteLLM_TeamTable", "team_id", "team-a") > 0, what="the flush")
        assert db.spend("LiteLLM_TeamTable", "team_id", "team-a") == pytest.approx(GPT_COST + CHEAP_COST)
