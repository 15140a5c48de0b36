"""Operating ``rustllm proxy``: ``/metrics``, the JSON request log, the audit log,
``--detailed_debug``, background health checks and webhook alerts, each through a real
proxy process.

What a platform team relies on: LiteLLM's Prometheus names and labels with the counts
the traffic made (and no key in them), one JSON line per request that names the caller
without its key, an audit row for every admin change without secrets, a failing
deployment taken out of rotation by the health checks before a user meets it, and
Slack-shaped alerts posted to the webhook.

Numbers are known: "hi" is 1 prompt token, "Hello from MockServer!" 3 completion tokens,
and the deployments' custom prices make a request cost 1 * 0.001 + 3 * 0.01.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest
from _minute import clear_of_minute_end
from _proxy import ProxyProcess, mock_deployment
from postgres_server import PostgresServer

from rustllm.testing import MockServer

MASTER = "sk-1234"
AUTH = {"Authorization": f"Bearer {MASTER}"}
HI = [{"role": "user", "content": "hi"}]
COST = 1 * 0.001 + 3 * 0.01
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "proxy"


def models(server, *extra: str) -> str:
    text = "model_list:\n"
    text += mock_deployment(
        "gpt-4o", server, model="openai/gpt-4o", input_cost_per_token=0.001, output_cost_per_token=0.01
    )
    text += "    model_info: {id: dep-1}\n"
    return text + "".join(extra) + "router_settings:\n  num_retries: 0\n"


def chat(proxy: ProxyProcess, key: str = MASTER, model: str = "gpt-4o", messages=HI, **body) -> httpx.Response:
    return httpx.post(
        f"{proxy.url}/chat/completions",
        json={"model": model, "messages": messages, **body},
        headers={"Authorization": f"Bearer {key}"},
        timeout=20,
    )


def post(proxy: ProxyProcess, path: str, body: dict, key: str = MASTER) -> httpx.Response:
    return httpx.post(f"{proxy.url}{path}", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=20)


def until(what, timeout: float = 10.0, every: float = 0.05):
    """``what()`` once it is truthy (failing the test past ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(every)


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(proxy: ProxyProcess, key: str | None = MASTER) -> list[tuple[str, dict[str, str], float]]:
    """``/metrics`` parsed: (name, labels, value) per sample line."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    r = httpx.get(f"{proxy.url}/metrics", headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    out = []
    for line in r.text.splitlines():
        if line.startswith("#"):
            assert line.startswith(("# HELP ", "# TYPE ")), line
            continue
        m = _SAMPLE.match(line)
        assert m, line
        labels = dict(_LABEL.findall(m.group(2) or ""))
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def metric(samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(v for n, ls, v in samples if n == name and all(ls.get(k) == w for k, w in labels.items()))


def families(proxy: ProxyProcess) -> set[str]:
    r = httpx.get(f"{proxy.url}/metrics", headers=AUTH, timeout=10)
    return {line.split()[2] for line in r.text.splitlines() if line.startswith("# TYPE ")}


# -- /metrics -------------------------------------------------------------------------


def test_metrics_count_requests_tokens_spend_and_latency_with_litellms_names(server):
    with ProxyProcess(models(server) + f"general_settings:\n  master_key: {MASTER}\n") as p:
        # LiteLLM 1.110.2 asks for a key on /metrics by default.
        r = httpx.get(f"{p.url}/metrics", timeout=10)
        assert r.status_code == 401
        assert "require_auth_for_metrics_endpoint" in r.text or r.json()["error"]["type"] == "auth_error"
        for _ in range(3):
            assert chat(p).status_code == 200
        server.fail_next(1, status=500)
        assert chat(p).status_code == 500
        s = until(lambda: (m := scrape(p)) and metric(m, "litellm_proxy_total_requests_metric_total") == 4 and m)
        with httpx.stream(
            "POST",
            f"{p.url}/chat/completions",
            json={"model": "gpt-4o", "messages": HI, "stream": True},
            headers=AUTH,
            timeout=20,
        ) as r:
            assert r.status_code == 200
            r.read()
        after = until(lambda: (m := scrape(p)) and metric(m, "litellm_proxy_total_requests_metric_total") == 5 and m)

    ok = {"requested_model": "gpt-4o", "model_id": "dep-1", "api_provider": "openai"}
    assert metric(s, "litellm_proxy_total_requests_metric_total", status_code="200", **ok) == 3
    assert metric(s, "litellm_proxy_total_requests_metric_total", status_code="500") == 1
    assert metric(s, "litellm_proxy_failed_requests_metric_total") == 1
    assert (
        metric(
            s,
            "litellm_proxy_failed_requests_metric_total",
            exception_status="500",
            exception_class="InternalServerError",
        )
        == 1
    )
    assert metric(s, "litellm_input_tokens_metric_total", model="openai/gpt-4o") == 3
    assert metric(s, "litellm_output_tokens_metric_total", model="openai/gpt-4o") == 9
    assert metric(s, "litellm_total_tokens_metric_total", model="openai/gpt-4o") == 12
    assert metric(s, "litellm_spend_metric_total", model="openai/gpt-4o") == pytest.approx(3 * COST)
    assert metric(s, "litellm_request_total_latency_metric_count", model_group="gpt-4o") == 4
    assert metric(s, "litellm_request_total_latency_metric_bucket", model_group="gpt-4o", le="+Inf") == 4
    assert metric(s, "litellm_llm_api_latency_metric_count", model_group="gpt-4o") == 3
    assert metric(s, "litellm_llm_api_time_to_first_token_metric_count") == 0
    # Time to first token: streams only.
    assert metric(after, "litellm_llm_api_time_to_first_token_metric_count", model_group="gpt-4o") == 1
    assert metric(after, "litellm_proxy_total_requests_metric_total", status_code="200") == 4
    # The stream's LLM API latency runs to its end, so it is at least its first token's.
    assert metric(after, "litellm_llm_api_latency_metric_count", model_group="gpt-4o") == 4
    api_sum = metric(after, "litellm_llm_api_latency_metric_sum") - metric(s, "litellm_llm_api_latency_metric_sum")
    assert api_sum >= metric(after, "litellm_llm_api_time_to_first_token_metric_sum") > 0
    assert metric(s, "litellm_deployment_success_responses_total", model_id="dep-1") == 3
    assert metric(s, "litellm_deployment_failure_responses_total", model_id="dep-1", exception_status="500") == 1
    assert metric(s, "litellm_deployment_total_requests_total", model_id="dep-1") == 4
    assert metric(s, "litellm_deployment_state", model_id="dep-1", api_base=server.base_url) == 0
    # The master key is the caller: its hash, never the key (a failed deployment call,
    # counted by the Router, does not know its caller: "None").
    hashes = {ls.get("hashed_api_key") for n, ls, _ in s if "hashed_api_key" in ls}
    assert hashes == {hashlib.sha256(MASTER.encode()).hexdigest(), "None"}
    assert {ls["hashed_api_key"] for n, ls, _ in s if n == "litellm_proxy_total_requests_metric_total"} == {
        hashlib.sha256(MASTER.encode()).hexdigest()
    }


def test_metrics_can_be_opened_as_litellm_allows(server):
    config = models(server) + f"general_settings:\n  master_key: {MASTER}\n"
    config += "litellm_settings:\n  require_auth_for_metrics_endpoint: false\n  callbacks: [prometheus]\n"
    with ProxyProcess(config) as p:
        assert chat(p).status_code == 200
        s = until(lambda: (m := scrape(p, key=None)) and metric(m, "litellm_proxy_total_requests_metric_total") and m)
        assert metric(s, "litellm_proxy_total_requests_metric_total") == 1
    # callbacks: [prometheus] is how LiteLLM turns metrics on: understood, not ignored.
    assert "prometheus" not in "\n".join(line for line in p.lines if "ignored" in line)


def test_metrics_name_keys_teams_and_budgets_but_never_a_key(server, tmp_path):
    db = tmp_path / "ops.db"
    config = models(server) + (
        f"general_settings:\n  master_key: {MASTER}\n  database_url: sqlite:///{db}\n  proxy_batch_write_at: 0.2\n"
    )
    with ProxyProcess(config) as p:
        r = post(p, "/team/new", {"team_id": "t-ops", "team_alias": "Ops Team", "max_budget": 10})
        assert r.status_code == 200, r.text
        r = post(
            p,
            "/key/generate",
            {"key_alias": "ops-key", "team_id": "t-ops", "max_budget": 1.0, "rpm_limit": 50, "budget_duration": "1d"},
        )
        assert r.status_code == 200, r.text
        key = r.json()["key"]
        hashed = hashlib.sha256(key.encode()).hexdigest()
        clear_of_minute_end()  # the remaining-requests gauge counts this minute's
        for _ in range(2):
            assert chat(p, key=key).status_code == 200
        # A virtual key may not read every caller's numbers.
        assert httpx.get(f"{p.url}/metrics", headers={"Authorization": f"Bearer {key}"}).status_code == 401

        def ready():
            # The budgets as the ledger has them once both charges are in.
            m = scrape(p)
            left = [
                v for n, ls, v in m if n == "litellm_remaining_api_key_budget_metric" and ls["hashed_api_key"] == hashed
            ]
            team = [v for n, ls, v in m if n == "litellm_remaining_team_budget_metric" and ls["team"] == "t-ops"]
            done = left and team and left[0] < 1.0 - 1.5 * COST and team[0] < 10 - 1.5 * COST
            return m if done else None

        s = until(ready)
        text = httpx.get(f"{p.url}/metrics", headers=AUTH).text
    who = {"hashed_api_key": hashed, "api_key_alias": "ops-key", "team": "t-ops", "team_alias": "Ops Team"}
    assert metric(s, "litellm_proxy_total_requests_metric_total", **who) == 2
    assert metric(s, "litellm_remaining_api_key_budget_metric", hashed_api_key=hashed, api_key_alias="ops-key") == (
        pytest.approx(1.0 - 2 * COST)
    )
    assert metric(s, "litellm_api_key_max_budget_metric", hashed_api_key=hashed) == 1.0
    assert 23 < metric(s, "litellm_api_key_budget_remaining_hours_metric", hashed_api_key=hashed) <= 24
    assert metric(s, "litellm_remaining_team_budget_metric", team="t-ops", team_alias="Ops Team") == pytest.approx(
        10 - 2 * COST
    )
    assert metric(s, "litellm_team_max_budget_metric", team="t-ops") == 10
    assert (
        metric(s, "litellm_remaining_api_key_requests_for_model", hashed_api_key=hashed, api_key_alias="ops-key") == 48
    )
    assert key not in text and MASTER not in text and "sk-upstream-secret" not in text


def test_requests_refused_before_any_provider_call_count_as_failed(server, tmp_path):
    db = tmp_path / "ops.db"
    config = models(server) + f"general_settings:\n  master_key: {MASTER}\n  database_url: sqlite:///{db}\n"
    with ProxyProcess(config) as p:
        key = post(p, "/key/generate", {"key_alias": "one-a-minute", "rpm_limit": 1}).json()["key"]
        clear_of_minute_end()
        assert chat(p, key=key).status_code == 200
        assert chat(p, key=key).status_code == 429
        assert chat(p, key=key, model="no-such-model-7f3a").status_code == 404
        s = until(lambda: (m := scrape(p)) and metric(m, "litellm_proxy_total_requests_metric_total") == 3 and m)
        text = httpx.get(f"{p.url}/metrics", headers=AUTH).text
    alias = {"api_key_alias": "one-a-minute"}
    assert metric(s, "litellm_proxy_total_requests_metric_total", status_code="200", **alias) == 1
    assert (
        metric(
            s,
            "litellm_proxy_failed_requests_metric_total",
            exception_status="429",
            exception_class="RateLimitError",
            requested_model="gpt-4o",
            **alias,
        )
        == 1
    )
    assert metric(s, "litellm_proxy_failed_requests_metric_total", exception_status="404", requested_model="None") == 1
    # A model name that is no group is not a label value.
    assert "no-such-model-7f3a" not in text
    # Refused before the provider: no deployment call, no spend.
    assert metric(s, "litellm_deployment_total_requests_total") == 1
    assert server.request_count == 1


def test_the_grafana_dashboard_reads_only_metrics_the_proxy_exports(server):
    dashboard = json.loads((EXAMPLES / "grafana-dashboard.json").read_text())
    exprs = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, str) and (k == "expr" or (k == "query" and "litellm_" in v)):
                    exprs.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(dashboard)
    assert len(exprs) >= 8
    with ProxyProcess(models(server) + f"general_settings:\n  master_key: {MASTER}\n") as p:
        exported = families(p)
    assert "litellm_proxy_total_requests_metric" in exported
    for expr in exprs:
        # Metric names, not the label names of `by (...)` and `{...}`.
        bare = re.sub(r"\b(by|without)\s*\([^)]*\)|\{[^}]*\}", "", expr)
        names = re.findall(r"\blitellm_[a-z0-9_]+", bare)
        assert names, expr
        for name in names:
            family = re.sub(r"_(total|bucket|count|sum)$", "", name)
            assert family in exported, f"{name} in {expr!r} is not exported"


# -- logs ------------------------------------------------------------------------------


def json_lines(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def test_json_logs_file_has_one_line_per_request_and_the_audit_log_every_admin_change(server, tmp_path):
    db = tmp_path / "ops.db"
    log = tmp_path / "requests.jsonl"
    config = models(server) + (
        f"general_settings:\n  master_key: {MASTER}\n  database_url: sqlite:///{db}\n"
        f"litellm_settings:\n  json_logs_file: {log}\n"
    )
    with ProxyProcess(config) as p:
        assert post(p, "/team/new", {"team_id": "t-log", "team_alias": "Log Team"}).status_code == 200
        r = post(p, "/key/generate", {"key_alias": "log-key", "team_id": "t-log"})
        key, token = r.json()["key"], r.json()["token_id"]
        ids = []
        for _ in range(2):
            r = chat(p, key=key)
            assert r.status_code == 200
            ids.append(r.headers["x-litellm-call-id"])
        server.fail_next(1, status=503)
        r = chat(p, key=key)
        assert r.status_code == 503
        ids.append(r.headers["x-litellm-call-id"])
        assert post(p, "/key/update", {"key": key, "max_budget": 5}).status_code == 200
        assert post(p, "/key/delete", {"keys": [key]}).status_code == 200

        def logged():
            lines = json_lines(log.read_text()) if log.exists() else []
            requests = [x for x in lines if x.get("message") == "request"]
            audits = [x for x in lines if x.get("message") == "audit"]
            return (requests, audits) if len(requests) == 3 and len(audits) == 4 else None

        requests, audits = until(logged)

        def rows():
            con = sqlite3.connect(db, timeout=10)
            try:
                return con.execute(
                    'SELECT changed_by, changed_by_api_key, action, table_name, object_id, before_value, updated_values FROM "LiteLLM_AuditLog" ORDER BY updated_at'
                ).fetchall()
            finally:
                con.close()

        audit_rows = until(lambda: (r := rows()) and len(r) == 4 and r)

    assert [x["call_id"] for x in requests] == ids
    first = requests[0]
    assert first["key_alias"] == "log-key"
    assert token.startswith(first["key_hash_prefix"]) and len(first["key_hash_prefix"]) == 12
    assert first["team_id"] == "t-log"
    assert (first["model_group"], first["model_id"], first["provider"]) == ("gpt-4o", "dep-1", "openai")
    assert (first["status"], first["prompt_tokens"], first["completion_tokens"]) == (200, 1, 3)
    assert first["cost"] == pytest.approx(COST)
    assert first["duration_ms"] >= first["llm_api_duration_ms"] > 0
    assert requests[2]["status"] == 503 and requests[2]["level"] == "ERROR"

    actions = [(r[2], r[3]) for r in audit_rows]
    assert actions == [
        ("created", "LiteLLM_TeamTable"),
        ("created", "LiteLLM_VerificationToken"),
        ("updated", "LiteLLM_VerificationToken"),
        ("deleted", "LiteLLM_VerificationToken"),
    ]
    changed_by, by_key, _, _, object_id, before, after = audit_rows[2]
    assert changed_by == "default_user_id"
    assert by_key == hashlib.sha256(MASTER.encode()).hexdigest()
    assert object_id == token
    assert json.loads(before)["max_budget"] is None and json.loads(after)["max_budget"] == 5
    assert audit_rows[3][6] is None and json.loads(audit_rows[3][5])["key_alias"] == "log-key"
    assert [(a["action"], a["table_name"]) for a in audits] == actions
    everything = log.read_text() + json.dumps(audit_rows)
    assert key not in everything and MASTER not in everything and "sk-upstream-secret" not in everything
    # The key's hash is the object id, not a field of the rows.
    assert all(token not in (r[5] or "") + (r[6] or "") for r in audit_rows)


@pytest.fixture(scope="module")
def pg():
    with PostgresServer() as server:
        yield server


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_every_admin_change_is_audited_without_secrets(server, tmp_path, request, backend):
    if backend == "sqlite":
        db_url = f"sqlite:///{tmp_path / 'ops.db'}"

        def rows():
            con = sqlite3.connect(tmp_path / "ops.db", timeout=10)
            try:
                return con.execute(
                    'SELECT action, table_name, object_id, before_value, updated_values FROM "LiteLLM_AuditLog"'
                ).fetchall()
            finally:
                con.close()
    else:
        pg = request.getfixturevalue("pg")
        name = pg.new_database()
        db_url = pg.url(name)

        def rows():
            out = pg.sql(
                "SELECT json_build_array(action, table_name, object_id, before_value::text, updated_values::text) "
                'FROM "LiteLLM_AuditLog"',
                database=name,
            ).stdout
            return [tuple(json.loads(line)) for line in out.splitlines() if line]

    config = models(server) + f"general_settings:\n  master_key: {MASTER}\n  database_url: {db_url}\n"
    with ProxyProcess(config) as p:

        def ok(path, body):
            r = post(p, path, body)
            assert r.status_code == 200, r.text
            return r.json()

        user_key = ok("/user/new", {"user_id": "u-audit", "user_email": "u@example.com"})["key"]
        ok("/user/update", {"user_id": "u-audit", "max_budget": 3})
        ok("/team/new", {"team_id": "t-audit"})
        ok("/team/member_add", {"team_id": "t-audit", "member": {"role": "user", "user_id": "u-audit"}})
        ok("/team/member_delete", {"team_id": "t-audit", "user_id": "u-audit"})
        ok("/key/block", {"key": user_key})
        ok("/key/unblock", {"key": user_key})
        new_key = ok("/key/regenerate", {"key": user_key})["key"]
        ok("/team/delete", {"team_ids": ["t-audit"]})
        ok("/user/delete", {"user_ids": ["u-audit"]})
        audit = until(lambda: (r := rows()) and len(r) == 11 and r)

    assert sorted((a, t) for a, t, *_ in audit) == sorted(
        [
            ("created", "LiteLLM_UserTable"),
            ("created", "LiteLLM_VerificationToken"),
            ("updated", "LiteLLM_UserTable"),
            ("created", "LiteLLM_TeamTable"),
            ("updated", "LiteLLM_TeamTable"),
            ("updated", "LiteLLM_TeamTable"),
            ("blocked", "LiteLLM_VerificationToken"),
            ("unblocked", "LiteLLM_VerificationToken"),
            ("rotated", "LiteLLM_VerificationToken"),
            ("deleted", "LiteLLM_TeamTable"),
            ("deleted", "LiteLLM_UserTable"),
        ]
    )

    def row(action, table):
        (found,) = [r for r in audit if r[:2] == (action, table)]
        before, after = (json.loads(v) if v else None for v in found[3:])
        return found[2], before, after

    _, before, after = row("updated", "LiteLLM_UserTable")
    assert before["max_budget"] is None and after["max_budget"] == 3
    _, before, after = row("blocked", "LiteLLM_VerificationToken")
    assert not before["blocked"] and after["blocked"]
    object_id, _, after = row("rotated", "LiteLLM_VerificationToken")
    assert object_id == hashlib.sha256(new_key.encode()).hexdigest()
    object_id, before, after = row("deleted", "LiteLLM_UserTable")
    assert (object_id, before["user_email"], after) == ("u-audit", "u@example.com", None)
    dump = json.dumps(audit)
    for secret in (user_key, new_key, MASTER):
        assert secret not in dump


def test_json_logs_to_stdout(server):
    config = models(server) + f"general_settings:\n  master_key: {MASTER}\nlitellm_settings:\n  json_logs: true\n"
    with ProxyProcess(config) as p:
        r = chat(p)
        assert r.status_code == 200
        line = until(lambda: [x for x in json_lines(p.output) if x.get("call_id") == r.headers["x-litellm-call-id"]])
    assert line[0]["model_group"] == "gpt-4o" and line[0]["status"] == 200
    assert MASTER not in p.output


def test_detailed_debug_shows_the_upstream_call_with_keys_masked(server, tmp_path):
    db = tmp_path / "ops.db"
    config = models(server) + f"general_settings:\n  master_key: {MASTER}\n  database_url: sqlite:///{db}\n"
    with ProxyProcess(config, "--detailed_debug") as p:
        key = post(p, "/key/generate", {"key_alias": "dbg"}).json()["key"]
        server.respond(text="debug reply")
        assert chat(p, key=key).status_code == 200
        until(lambda: "RAW RESPONSE: 200 OK" in p.output and "debug reply" in p.output)
    assert f"{server.base_url}/chat/completions" in p.output
    assert "-H 'authorization: Bearer ****'" in p.output
    assert '"messages"' in p.output and '"hi"' in p.output
    for secret in (key, MASTER, "sk-upstream-secret"):
        assert secret not in p.output


# -- health checks and alerts ------------------------------------------------------------


@pytest.fixture
def bad_server():
    """A second MockServer whose every answer is a 500."""
    with MockServer() as s:
        s.respond(status=500, error="upstream is down", times=0)
        yield s


def user_requests(server) -> int:
    """Requests from users (not health probes) the server received."""
    return sum(1 for r in server.requests if r.body and "user request" in json.dumps(r.body.get("messages")))


def two_deployments(good, bad, settings: str) -> str:
    text = "model_list:\n"
    text += mock_deployment("gpt-4o", good, model="openai/gpt-4o")
    text += "    model_info: {id: good}\n"
    text += mock_deployment("gpt-4o", bad, model="openai/gpt-4o")
    text += "    model_info: {id: bad}\n"
    text += "router_settings:\n  num_retries: 0\n  allowed_fails: 1000\n"
    return text + f"general_settings:\n  master_key: {MASTER}\n" + settings


def test_background_health_checks_take_a_failing_deployment_out_before_users_meet_it(server, bad_server, receiver):
    settings = "  background_health_checks: true\n  health_check_interval: 1\n  alerting: [webhook]\n"
    with ProxyProcess(two_deployments(server, bad_server, settings), env={"SLACK_WEBHOOK_URL": receiver.url}) as p:

        def health():
            r = httpx.get(f"{p.url}/health", headers=AUTH, timeout=10)
            assert r.status_code == 200
            return r.json()

        body = until(lambda: (h := health())["unhealthy_count"] == 1 and h)
        assert body["healthy_count"] == 1
        assert [e["model_id"] for e in body["unhealthy_endpoints"]] == ["bad"]
        assert "upstream is down" in body["unhealthy_endpoints"][0]["error"]
        # /health answers from the background results: no new probe per call.
        probes = bad_server.request_count
        for _ in range(5):
            health()
        assert bad_server.request_count - probes <= 2

        for i in range(20):
            r = chat(p, messages=[{"role": "user", "content": f"user request {i}"}])
            assert r.status_code == 200, r.text
        assert user_requests(bad_server) == 0
        assert user_requests(server) == 20
        s = scrape(p)
        assert metric(s, "litellm_deployment_state", model_id="bad") == 2
        assert metric(s, "litellm_deployment_state", model_id="good") == 0
        assert metric(s, "litellm_deployment_cooled_down_total", model_id="bad", exception_status="500") >= 1

        # An outage alert, once, on the webhook.
        text = until(lambda: [t for t in receiver.texts() if "Deployment unhealthy" in t])[0]
        assert "`bad`" in text and "`gpt-4o`" in text and "upstream is down" in text
        assert len([t for t in receiver.texts() if "Deployment unhealthy" in t]) == 1

        # Back up: in rotation again after the next round.
        bad_server.reset()
        until(lambda: health()["healthy_count"] == 2)
        until(
            lambda: chat(p, messages=[{"role": "user", "content": "user request again"}]) and user_requests(bad_server)
        )
        until(lambda: [t for t in receiver.texts() if "healthy again" in t])
    assert "health check: deployment bad of gpt-4o failed" in p.output
    assert "healthy again" in p.output
    assert "secret-token" not in p.output


def test_health_check_details_false_leaves_urls_and_errors_out(server, bad_server):
    settings = "  background_health_checks: true\n  health_check_interval: 1\n  health_check_details: false\n"
    with ProxyProcess(two_deployments(server, bad_server, settings)) as p:
        body = until(
            lambda: (h := httpx.get(f"{p.url}/health", headers=AUTH, timeout=10).json())["unhealthy_count"] == 1 and h
        )
    (entry,) = body["unhealthy_endpoints"]
    assert entry == {"model": "openai/gpt-4o", "model_name": "gpt-4o", "model_id": "bad"}
    assert bad_server.base_url not in json.dumps(body)


class Receiver:
    """A local webhook: every POST's content type and JSON body."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                outer.posts.append((self.headers.get("content-type", ""), json.loads(body)))
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/services/T0/B0/secret-token"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def texts(self) -> list[str]:
        return [body["text"] for _, body in self.posts]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_alerts_post_slack_json_for_failure_spikes_and_budgets(server, bad_server, receiver, tmp_path):
    db = tmp_path / "ops.db"
    config = "model_list:\n"
    config += mock_deployment("flaky", bad_server)
    config += mock_deployment("priced", server, input_cost_per_token=0.001, output_cost_per_token=0.01)
    config += "router_settings:\n  num_retries: 0\n"
    config += (
        f"general_settings:\n  master_key: {MASTER}\n  database_url: sqlite:///{db}\n  proxy_batch_write_at: 0.2\n"
        '  alerting: ["webhook"]\n'
        "  alerting_args: {minor_outage_alert_threshold: 2}\n"
    )
    with ProxyProcess(config, env={"SLACK_WEBHOOK_URL": receiver.url}) as p:
        # A spike of failures of one model group.
        assert chat(p, model="flaky").status_code >= 500
        assert not [t for t in receiver.texts() if "Failure spike" in t]
        assert chat(p, model="flaky").status_code >= 429
        text = until(lambda: [t for t in receiver.texts() if "Failure spike" in t])[0]
        assert "`flaky`" in text and "2 of 2" in text
        # A budget: one request of 0.031 on a 0.035 budget leaves less than 15% of it.
        key = post(p, "/key/generate", {"key_alias": "alert-key", "max_budget": 0.035}).json()["key"]
        assert chat(p, key=key, model="priced").status_code == 200
        text = until(lambda: [t for t in receiver.texts() if "Budget" in t and "alert-key" in t])[0]
        assert "15% or less of budget remaining" in text
        assert chat(p, key=key, model="priced").status_code == 200
        text = until(lambda: [t for t in receiver.texts() if "Budget Crossed" in t])[0]
        assert "alert-key" in text
        # Each alert once within its window.
        time.sleep(1.5)
        assert len([t for t in receiver.texts() if "15% or less" in t]) == 1
        assert len([t for t in receiver.texts() if "Budget Crossed" in t]) == 1
    assert all(ct == "application/json" for ct, _ in receiver.posts)
    assert all(list(body) == ["text"] for _, body in receiver.posts)
    for secret in (key, MASTER, "secret-token"):
        assert secret not in p.output
        assert all(secret not in t for t in receiver.texts())
