"""Virtual keys, users and teams through LiteLLM's admin API, on ``rustllm proxy``
processes with SQLite (the default) and with a real Postgres started by the tests.

What a platform team relies on: the admin API's bodies are LiteLLM's; a generated key
calls models (and only the models it and its team allow); blocked, expired, deleted and
unknown keys are 401; two proxies on one database follow each other within a second;
and the security cases LiteLLM's advisories name (SQL injection in every field and in
the bearer token, keys in logs or rows, virtual keys on admin routes, other teams' keys,
path and Host tricks).
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from _proxy import ProxyProcess, mock_deployment
from postgres_server import PostgresServer

MASTER = "sk-1234"
HI = [{"role": "user", "content": "hi"}]


def sha256(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@pytest.fixture(scope="module")
def pg():
    with PostgresServer() as server:
        yield server


class Db:
    """One test's database: its URL and how to look at what is stored."""

    def __init__(self, kind: str, url: str, pg: PostgresServer | None = None, name: str = "", path: Path | None = None):
        self.kind, self.url, self.pg, self.name, self.path = kind, url, pg, name, path

    def stored_text(self) -> str:
        """Everything stored, as text (to look for plain keys)."""
        if self.pg is not None:
            return self.pg.dump(self.name)
        assert self.path is not None
        con = sqlite3.connect(self.path)
        try:
            con.execute("PRAGMA wal_checkpoint(FULL)")
            out = []
            for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                for row in con.execute(f'SELECT * FROM "{table}"'):
                    out.append(repr(row))
            return "\n".join(out)
        finally:
            con.close()

    def tokens(self) -> list[str]:
        """The ``token`` column of every key."""
        query = 'SELECT token FROM "LiteLLM_VerificationToken"'
        if self.pg is not None:
            return self.pg.sql(query, database=self.name).stdout.split()
        assert self.path is not None
        con = sqlite3.connect(self.path)
        try:
            return [r[0] for r in con.execute(query)]
        finally:
            con.close()


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "keys.db"
        return Db("sqlite", f"sqlite:///{path}", path=path)
    pg = request.getfixturevalue("pg")
    name = pg.new_database()
    return Db("postgres", pg.url(name), pg=pg, name=name)


def config(server, database_url: str | None, extra: str = "") -> str:
    text = "model_list:\n"
    text += mock_deployment("gpt-4o", server, model="openai/gpt-4o")
    text += mock_deployment("claude", server, model="openai/claude")
    text += "router_settings:\n  num_retries: 0\n"
    text += f"general_settings:\n  master_key: {MASTER}\n"
    if database_url:
        text += f"  database_url: {database_url}\n"
    return text + extra


def call(p: ProxyProcess, path: str, body: dict | None = None, key: str = MASTER, method: str | None = None):
    method = method or ("POST" if body is not None else "GET")
    return httpx.request(method, f"{p.url}{path}", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=20)


def ok(r: httpx.Response) -> dict:
    assert r.status_code == 200, r.text
    return r.json()


def chat(p: ProxyProcess, key: str, model: str = "gpt-4o") -> httpx.Response:
    return httpx.post(
        f"{p.url}/chat/completions",
        json={"model": model, "messages": HI},
        headers={"Authorization": f"Bearer {key}"},
        timeout=20,
    )


def test_admin_api_lifecycle_with_litellms_bodies(server, db):
    with ProxyProcess(config(server, db.url)) as p:
        team = ok(
            call(
                p,
                "/team/new",
                {
                    "team_alias": "search",
                    "models": ["gpt-4o"],
                    "rpm_limit": 100,
                    "max_budget": 50.0,
                    "budget_duration": "30d",
                },
            )
        )
        team_id = team["team_id"]
        assert (team["team_alias"], team["models"], team["rpm_limit"], team["max_budget"]) == (
            "search",
            ["gpt-4o"],
            100,
            50.0,
        )
        assert team["budget_duration"] == "30d" and team["budget_reset_at"]
        user = ok(
            call(
                p,
                "/user/new",
                {"user_id": "ann", "user_email": "ann@example.com", "teams": [team_id], "tpm_limit": 1000},
            )
        )
        assert user["user_id"] == "ann" and user["teams"] == [team_id] and user["tpm_limit"] == 1000
        # /user/new makes a key for the user by default (LiteLLM's auto_create_key).
        assert user["key"].startswith("sk-") and user["token_id"] == sha256(user["key"])
        gen = ok(
            call(
                p,
                "/key/generate",
                {
                    "key_alias": "search-prod",
                    "models": ["gpt-4o"],
                    "team_id": team_id,
                    "user_id": "ann",
                    "max_budget": 10.5,
                    "budget_duration": "1d",
                    "rpm_limit": 60,
                    "tpm_limit": 6000,
                    "max_parallel_requests": 4,
                    "duration": "30d",
                    "metadata": {"env": "prod"},
                    "model_rpm_limit": {"gpt-4o": 30},
                    "model_tpm_limit": {"gpt-4o": 3000},
                },
            )
        )
        key = gen["key"]
        # sk- and at least 128 bits: 24 random bytes, url-safe base64.
        assert re.fullmatch(r"sk-[A-Za-z0-9_-]{32}", key), key
        assert gen["token_id"] == sha256(key)
        assert gen["key_name"] == f"sk-...{key[-4:]}"
        assert gen["key_alias"] == "search-prod" and gen["models"] == ["gpt-4o"]
        assert (gen["team_id"], gen["user_id"], gen["max_budget"], gen["budget_duration"]) == (
            team_id,
            "ann",
            10.5,
            "1d",
        )
        assert (gen["rpm_limit"], gen["tpm_limit"], gen["max_parallel_requests"]) == (60, 6000, 4)
        assert gen["metadata"] == {
            "env": "prod",
            "model_rpm_limit": {"gpt-4o": 30},
            "model_tpm_limit": {"gpt-4o": 3000},
        }
        assert gen["expires"] > gen["created_at"] and gen["spend"] == 0.0

        # The key calls the model on the MockServer; the upstream sees the provider key.
        server.respond(text="hello from upstream")
        r = chat(p, key)
        assert r.status_code == 200, r.text
        assert r.json()["choices"][0]["message"]["content"] == "hello from upstream"
        assert server.last_request.headers["authorization"] == "Bearer sk-upstream-secret"
        assert key not in str(server.last_request.headers) and key not in json.dumps(server.last_request.body)

        info = ok(call(p, f"/key/info?key={key}"))
        assert info["key"] == sha256(key)
        assert info["info"]["token"] == sha256(key) and info["info"]["key_alias"] == "search-prod"
        assert key not in r.text + str(info)
        listed = ok(call(p, "/key/list"))
        assert set(listed["keys"]) == {sha256(key), user["token_id"]}
        assert (listed["total_count"], listed["current_page"], listed["total_pages"]) == (2, 1, 1)
        by_team = ok(call(p, f"/key/list?team_id={team_id}&return_full_object=true"))
        assert [k["key_alias"] for k in by_team["keys"]] == ["search-prod"]

        upd = ok(call(p, "/key/update", {"key": key, "models": ["gpt-4o", "claude"], "rpm_limit": 5, "spend": 99}))
        assert upd["key"] == sha256(key) and upd["models"] == ["gpt-4o", "claude"] and upd["rpm_limit"] == 5
        info = ok(call(p, f"/key/info?key={sha256(key)}"))["info"]
        assert info["rpm_limit"] == 5 and info["spend"] == 0.0, "spend is read-only"

        blocked = ok(call(p, "/key/block", {"key": key}))
        assert blocked["blocked"] is True
        assert chat(p, key).status_code == 401
        assert ok(call(p, "/key/unblock", {"key": key}))["blocked"] is False
        assert chat(p, key).status_code == 200

        new = ok(call(p, "/key/regenerate", {"key": key}))
        assert new["key"] != key and new["token_id"] == sha256(new["key"]) and new["key_alias"] == "search-prod"
        assert chat(p, key).status_code == 401, "the old key stops working"
        assert chat(p, new["key"]).status_code == 200
        again = ok(call(p, f"/key/{new['key']}/regenerate", method="POST"))
        assert chat(p, again["key"]).status_code == 200 and chat(p, new["key"]).status_code == 401

        added = ok(call(p, "/team/member_add", {"team_id": team_id, "member": {"role": "admin", "user_id": "bob"}}))
        assert {"role": "admin", "user_id": "bob", "user_email": None} in added["members_with_roles"]
        assert [u["user_id"] for u in added["updated_users"]] == ["bob"]
        assert {m["user_id"] for m in added["updated_team_memberships"]} == {"ann", "bob"}
        after = ok(call(p, "/team/member_delete", {"team_id": team_id, "user_id": "bob"}))
        assert [m["user_id"] for m in after["members_with_roles"]] == ["ann"]
        t = ok(call(p, "/team/update", {"team_id": team_id, "tpm_limit": 777}))
        assert t["team_id"] == team_id and t["data"]["tpm_limit"] == 777
        tinfo = ok(call(p, f"/team/info?team_id={team_id}"))
        assert tinfo["team_info"]["tpm_limit"] == 777 and [k["token"] for k in tinfo["keys"]] == [sha256(again["key"])]
        assert [m["user_id"] for m in tinfo["team_memberships"]] == ["ann"]
        uinfo = ok(call(p, "/user/info?user_id=ann"))
        assert uinfo["user_info"]["user_email"] == "ann@example.com" and [t["team_id"] for t in uinfo["teams"]] == [
            team_id
        ]
        assert {k["token"] for k in uinfo["keys"]} == {user["token_id"], sha256(again["key"])}
        assert ok(call(p, "/user/update", {"user_id": "ann", "max_budget": 5}))["max_budget"] == 5

        assert ok(call(p, "/key/delete", {"keys": [again["key"]]})) == {"deleted_keys": [sha256(again["key"])]}
        assert chat(p, again["key"]).status_code == 401
        assert call(p, f"/key/info?key={again['key']}").status_code == 404
        assert ok(call(p, "/team/delete", {"team_ids": [team_id]})) == {"deleted_teams": [team_id]}
        assert call(p, f"/team/info?team_id={team_id}").status_code == 404
        assert ok(call(p, "/user/delete", {"user_ids": ["ann"]})) == 1
        assert chat(p, user["key"]).status_code == 401, "a deleted user's keys go with it"
        assert ok(call(p, "/key/list"))["keys"] == []


def test_validation_errors_are_400_before_any_write(server, db):
    with ProxyProcess(config(server, db.url)) as p:
        for body, param in [
            ({"models": "gpt-4o"}, "models"),
            ({"rpm_limit": -1}, "rpm_limit"),
            ({"tpm_limit": "ten"}, "tpm_limit"),
            ({"max_budget": "lots"}, "max_budget"),
            ({"duration": "forever"}, "duration"),
            ({"budget_duration": "1y"}, "budget_duration"),
            ({"metadata": ["x"]}, "metadata"),
            ({"model_rpm_limit": {"gpt-4o": "many"}}, "model_rpm_limit"),
            ({"team_id": "no-such-team"}, "team_id"),
            ({"key": "not-sk"}, "key"),
            ({"key_alias": "a\u0000b"}, "key_alias"),
        ]:
            r = call(p, "/key/generate", body)
            assert r.status_code == 400, (body, r.text)
            err = r.json()["error"]
            assert err["param"] == param and err["code"] == "400", (body, err)
        ok(call(p, "/key/generate", {"key_alias": "taken"}))
        r = call(p, "/key/generate", {"key_alias": "taken"})
        assert r.status_code == 400 and "Key alias 'taken' already exists" in r.json()["error"]["message"]
        assert call(p, "/user/new", {"user_role": "god"}).json()["error"]["param"] == "user_role"
        assert ok(call(p, "/key/list"))["total_count"] == 1
        assert len(db.tokens()) == 1


def test_model_restrictions_of_keys_and_teams(server, db):
    with ProxyProcess(config(server, db.url)) as p:
        only_gpt = ok(call(p, "/key/generate", {"models": ["gpt-4o"]}))["key"]
        server.respond(text="ok")
        assert chat(p, only_gpt, "gpt-4o").status_code == 200
        r = chat(p, only_gpt, "claude")
        assert r.status_code == 401
        err = r.json()["error"]
        assert err["message"] == (
            "key not allowed to access model. This key can only access models=['gpt-4o']. Tried to access claude"
        )
        assert (err["type"], err["param"], err["code"]) == ("key_model_access_denied", "model", "401")
        team = ok(call(p, "/team/new", {"models": ["claude"]}))["team_id"]
        in_team = ok(call(p, "/key/generate", {"team_id": team}))["key"]
        assert chat(p, in_team, "claude").status_code == 200
        r = chat(p, in_team, "gpt-4o")
        assert r.status_code == 401 and r.json()["error"]["type"] == "team_model_access_denied"
        every = ok(call(p, "/key/generate", {"models": ["all-proxy-models"]}))["key"]
        assert chat(p, every, "claude").status_code == 200
        # The team's models change: its keys follow at once.
        ok(call(p, "/team/update", {"team_id": team, "models": ["gpt-4o"]}))
        assert chat(p, in_team, "gpt-4o").status_code == 200
        # The master key still calls everything.
        assert chat(p, MASTER, "claude").status_code == 200


def test_blocked_expired_and_unknown_keys_are_401(server, db):
    with ProxyProcess(config(server, db.url)) as p:
        server.respond(text="ok")
        short = ok(call(p, "/key/generate", {"duration": "1s"}))["key"]
        assert chat(p, short).status_code == 200
        blocked = ok(call(p, "/key/generate", {"blocked": True}))["key"]
        r = chat(p, blocked)
        assert r.status_code == 401
        assert (
            r.json()["error"]["message"]
            == "Authentication Error, Key is blocked. Update via `/key/unblock` if you're admin."
        )
        time.sleep(1.3)
        r = chat(p, short)
        assert r.status_code == 401
        err = r.json()["error"]
        assert err["type"] == "expired_key" and err["message"].startswith("Authentication Error - Expired Key.")
        assert short not in r.text
        r = chat(p, "sk-never-issued")
        assert r.status_code == 401 and "sk-never-issued" not in r.text
        assert "Invalid proxy server token passed" in r.json()["error"]["message"]


def _wait_until(check, within: float) -> float:
    """Seconds until ``check()`` holds; fails past ``within``."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        assert time.monotonic() - started < within, f"not within {within} s"
        time.sleep(0.02)


def test_two_proxies_on_one_database_follow_each_other_within_a_second(server, db):
    text = config(server, db.url)
    with ProxyProcess(text) as a, ProxyProcess(text) as b:
        server.respond(text="ok")
        key = ok(call(a, "/key/generate", {"models": ["gpt-4o"]}))["key"]
        _wait_until(lambda: chat(b, key).status_code == 200, within=1.0)
        ok(call(a, "/key/block", {"key": key}))
        _wait_until(lambda: chat(b, key).status_code == 401, within=1.0)
        ok(call(b, "/key/unblock", {"key": key}))
        _wait_until(lambda: chat(a, key).status_code == 200, within=1.0)
        ok(call(a, "/key/update", {"key": key, "models": ["claude"]}))
        _wait_until(lambda: chat(b, key, "gpt-4o").status_code == 401, within=1.0)
        ok(call(b, "/key/delete", {"keys": [key]}))
        _wait_until(lambda: chat(a, key, "claude").status_code == 401, within=1.0)
        # A proxy started later loads what exists.
        kept = ok(call(a, "/key/generate", {}))["key"]
    with ProxyProcess(text) as c:
        assert chat(c, kept).status_code == 200
        assert chat(c, key).status_code == 401


INJECTIONS = [
    "' OR '1'='1",
    '\'; DROP TABLE "LiteLLM_VerificationToken"; --',
    'x" OR ""="',
    "1; SELECT pg_sleep(5)--",
    "admin'--",
    '\' UNION SELECT token FROM "LiteLLM_VerificationToken"--',
    "%27%20OR%201=1",
    'Robert\'); DELETE FROM "LiteLLM_UserTable";--',
]


def test_sql_injection_strings_are_stored_verbatim_and_never_run(server, db):
    with ProxyProcess(config(server, db.url)) as p:
        for i, evil in enumerate(INJECTIONS):
            team = ok(
                call(
                    p,
                    "/team/new",
                    {
                        "team_id": f"{evil}-{i}",
                        "team_alias": evil,
                        "models": [evil, "gpt-4o"],
                        "metadata": {evil: evil},
                    },
                )
            )
            assert team["team_id"] == f"{evil}-{i}" and team["team_alias"] == evil and team["metadata"] == {evil: evil}
            user = ok(
                call(
                    p,
                    "/user/new",
                    {"user_id": f"{evil}-u{i}", "user_email": evil, "user_alias": evil, "teams": [team["team_id"]]},
                )
            )
            assert user["user_email"] == evil
            gen = ok(
                call(
                    p,
                    "/key/generate",
                    {
                        "key_alias": f"{evil}-k{i}",
                        "team_id": team["team_id"],
                        "user_id": user["user_id"],
                        "models": [evil, "gpt-4o"],
                        "metadata": {"note": evil},
                    },
                )
            )
            info = ok(call(p, f"/key/info?key={gen['key']}"))["info"]
            assert (info["key_alias"], info["models"], info["metadata"]) == (
                f"{evil}-k{i}",
                [evil, "gpt-4o"],
                {"note": evil},
            )
            got = ok(
                httpx.get(
                    f"{p.url}/team/info",
                    params={"team_id": team["team_id"]},
                    headers={"Authorization": f"Bearer {MASTER}"},
                    timeout=20,
                )
            )
            assert got["team_info"]["team_alias"] == evil
            listed = httpx.get(
                f"{p.url}/key/list",
                params={"key_alias": evil},
                headers={"Authorization": f"Bearer {MASTER}"},
                timeout=20,
            )
            assert ok(listed)["keys"] == [], "a filter is a value, never SQL"
            # As the bearer token: refused, never a 500, never a bypass.
            for path in ("/v1/models", "/key/list", "/chat/completions"):
                r = httpx.request(
                    "POST" if "chat" in path else "GET",
                    f"{p.url}{path}",
                    json={"model": "gpt-4o", "messages": HI},
                    headers={"Authorization": f"Bearer {evil}"},
                    timeout=20,
                )
                assert r.status_code == 401, (path, evil, r.text)
            server.respond(text="ok")
            assert chat(p, gen["key"]).status_code == 200
            # As a chosen key, and as the key, user and team asked about.
            chosen = ok(call(p, "/key/generate", {"key": f"sk-{evil}"}))
            assert chosen["key"] == f"sk-{evil}" and chosen["token_id"] == sha256(f"sk-{evil}")
            assert chat(p, f"sk-{evil}").status_code == 200
            for path, params in (
                ("/key/info", {"key": evil}),
                ("/user/info", {"user_id": evil}),
                ("/team/info", {"team_id": evil}),
            ):
                r = httpx.get(
                    f"{p.url}{path}", params=params, headers={"Authorization": f"Bearer {MASTER}"}, timeout=20
                )
                assert r.status_code == 404, (path, evil, r.text)
            uinfo = httpx.get(
                f"{p.url}/user/info",
                params={"user_id": user["user_id"]},
                headers={"Authorization": f"Bearer {MASTER}"},
                timeout=20,
            )
            assert ok(uinfo)["user_info"]["user_alias"] == evil
        # Every row is there; no table was dropped.
        n = len(INJECTIONS)
        # Each user's own key, the generated one and the chosen one.
        assert ok(call(p, "/key/list?size=100"))["total_count"] == 3 * n
        assert len(db.tokens()) == 3 * n


def test_keys_never_in_logs_errors_or_rows(server, db):
    with ProxyProcess(config(server, db.url), "--detailed_debug") as p:
        key = ok(call(p, "/key/generate", {"key_alias": "secret-one"}))["key"]
        server.respond(text="ok")
        assert chat(p, key).status_code == 200
        ok(call(p, "/key/block", {"key": key}))
        blocked = chat(p, key)
        ok(call(p, "/key/update", {"key": key, "blocked": False, "duration": "1s"}))
        time.sleep(1.2)
        expired = chat(p, key)
        errors = blocked.text + expired.text + call(p, f"/key/info?key={key}x").text
        # /key/{key}/regenerate names a key in the path: the request log masks it.
        regenerated = ok(call(p, f"/key/{key}/regenerate", method="POST"))["key"]
        ok(call(p, "/key/update", {"key": regenerated, "key_alias": "renamed"}))
        assert blocked.status_code == 401 and expired.status_code == 401
    assert key not in errors
    assert key not in p.output and regenerated not in p.output, "a plain key is in the proxy's output"
    assert f"POST /key/sk-...{key[-4:]}/regenerate" in p.output
    # --detailed_debug did log the requests (so the absence above means something).
    assert "POST /key/generate" in p.output and "POST /chat/completions" in p.output
    stored = db.stored_text()
    assert key not in stored and regenerated not in stored
    assert sha256(regenerated) in stored
    assert db.tokens() == [sha256(regenerated)]


ADMIN_ROUTES = [
    ("POST", "/key/generate", {}),
    ("POST", "/key/update", {"key": "x"}),
    ("POST", "/key/delete", {"keys": ["x"]}),
    ("POST", "/key/regenerate", {"key": "x"}),
    ("POST", "/key/block", {"key": "x"}),
    ("POST", "/key/unblock", {"key": "x"}),
    ("POST", "/user/new", {}),
    ("GET", "/user/info?user_id=x", None),
    ("POST", "/user/update", {"user_id": "x"}),
    ("POST", "/user/delete", {"user_ids": ["x"]}),
    ("POST", "/team/new", {}),
    ("GET", "/team/info?team_id=x", None),
    ("POST", "/team/update", {"team_id": "x"}),
    ("POST", "/team/delete", {"team_ids": ["x"]}),
    ("POST", "/team/member_add", {"team_id": "x", "member": {"role": "admin", "user_id": "me"}}),
    ("POST", "/team/member_delete", {"team_id": "x", "user_id": "x"}),
]


def test_a_virtual_key_cannot_call_admin_routes_nor_read_other_teams_keys(server, db):
    with ProxyProcess(config(server, db.url)) as p:
        red = ok(call(p, "/team/new", {"team_id": "red"}))["team_id"]
        blue = ok(call(p, "/team/new", {"team_id": "blue"}))["team_id"]
        mine = ok(call(p, "/key/generate", {"team_id": red, "user_id": "ann"}))
        theirs = ok(call(p, "/key/generate", {"team_id": blue, "user_id": "bob"}))
        before = ok(call(p, "/key/list"))["total_count"]
        for method, path, body in ADMIN_ROUTES:
            r = call(p, path, body, key=mine["key"], method=method)
            assert r.status_code == 401, (path, r.text)
            msg = r.json()["error"]["message"]
            assert msg.startswith("Authentication Error, Only proxy admin can be used"), msg
        assert ok(call(p, "/key/list"))["total_count"] == before
        # Its own key's info: yes. Another team's key: 403, by key or by hash.
        assert ok(call(p, "/key/info", key=mine["key"]))["info"]["team_id"] == red
        assert ok(call(p, f"/key/info?key={mine['key']}", key=mine["key"]))["key"] == mine["token_id"]
        for other in (theirs["key"], theirs["token_id"]):
            r = call(p, f"/key/info?key={other}", key=mine["key"])
            assert r.status_code == 403, r.text
            assert "blue" not in r.text and theirs["token_id"] not in r.text
        # /key/list shows only its own user's keys, whatever it asks for.
        assert ok(call(p, "/key/list", key=mine["key"]))["keys"] == [mine["token_id"]]
        assert ok(call(p, f"/key/list?team_id={blue}", key=mine["key"]))["keys"] == []
        assert ok(call(p, "/key/list?user_id=bob", key=mine["key"]))["keys"] == []


def _raw(p: ProxyProcess, request: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", p.port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data


def test_path_and_host_tricks_do_not_bypass_auth(server, db):
    with ProxyProcess(config(server, db.url)) as p:
        body = b'{"key_alias": "sneaky"}'
        for path in (
            "/key/generate",
            "//key/generate",
            "/key/generate/",
            "/KEY/GENERATE",
            "/key%2Fgenerate",
            "/key/%67enerate",
            "/v1/../key/generate",
            "/./key/generate",
            "/key/generate?master_key=sk-1234",
            "/key/generate#",
        ):
            for host in ("127.0.0.1", "localhost", "localhost:4000/#@attacker.example", "[::1]"):
                for auth in (b"", b"Authorization: Bearer \r\n", b"Authorization: Bearer ' OR '1'='1\r\n"):
                    request = (
                        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n".encode()
                        + auth
                        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                        + body
                    )
                    status, data = _raw(p, request)
                    assert status in (400, 401, 404), (path, host, auth, data[:300])
        assert ok(call(p, "/key/list"))["total_count"] == 0
        assert db.tokens() == []


def test_no_database_mode_answers_litellms_error(server):
    with ProxyProcess(config(server, None, extra="  database: none\n")) as p:
        r = call(p, "/key/generate", {})
        assert r.status_code == 400
        assert r.json()["error"]["message"] == "DB not connected. See https://docs.litellm.ai/docs/proxy/virtual_keys"
        server.respond(text="ok")
        assert chat(p, MASTER).status_code == 200
        assert "database: none" in p.output
        assert not list(p.config_path.parent.glob("*.db"))


def test_default_sqlite_beside_the_config_and_schema_ready_fast(server):
    with ProxyProcess(config(server, None)) as p:
        key = ok(call(p, "/key/generate", {}))["key"]
        db_file = p.config_path.parent / "rustllm_proxy.db"
        assert db_file.exists()
        line = next(line for line in p.lines if "database:" in line)
        m = re.search(r"database: (\S+) \(pool of 10 connections, schema ready in (\d+) ms\)", line)
        assert m and m.group(1) == f"sqlite://{db_file}", line
        assert int(m.group(2)) < 500, line
        server.respond(text="ok")
        assert chat(p, key).status_code == 200


def test_postgres_url_is_masked_and_the_pool_size_printed(server, pg):
    name = pg.new_database()
    url = pg.url(name, password="s3cret-pw")
    extra = "  database_connection_pool_limit: 3\n"
    with ProxyProcess(config(server, url, extra=extra)) as p:
        ok(call(p, "/key/generate", {}))
    line = next(line for line in p.lines if "database:" in line)
    assert f"postgres:****@127.0.0.1:{pg.port}/{name}" in line and "pool of 3 connections" in line, line
    assert "s3cret-pw" not in p.output
    m = re.search(r"schema ready in (\d+) ms", line)
    assert m and int(m.group(1)) < 1000, line


def test_database_url_from_the_environment(server, pg, tmp_path):
    name = pg.new_database()
    with ProxyProcess(config(server, None), env={"DATABASE_URL": pg.url(name)}) as p:
        key = ok(call(p, "/key/generate", {}))["key"]
    assert pg.sql('SELECT token FROM "LiteLLM_VerificationToken"', database=name).stdout.split() == [sha256(key)]
