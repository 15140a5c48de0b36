"""The README's walkthrough ("From a config to the dashboard"), run as written: the proxy
on examples/proxy/config.yaml, a team and its key, a call from curl and one from the
openai SDK, then both requests in /metrics, in the JSON request log, in the spend report
and on the /ui dashboard in headless Chromium.

The README's blocks are read from between its ``walkthrough`` markers and run with
``localhost:4000`` pointed at the proxy this test started (on a free port, its database
in a temporary directory, as the config's default puts it beside the config)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from _proxy import ProxyProcess
from test_proxy_ui import bar_rows, browser, go, shot, sign_in, wait_for  # noqa: F401 (browser is a fixture)

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CONFIG = ROOT / "examples" / "proxy" / "config.yaml"


def walkthrough_blocks() -> list[tuple[str, str]]:
    """The README's walkthrough code blocks: (language, code), in order."""
    text = README.read_text()
    section = text.split("<!-- walkthrough:begin -->", 1)[1].split("<!-- walkthrough:end -->", 1)[0]
    return re.findall(r"```(sh|python)\n(.*?)```", section, flags=re.S)


def json_values(text: str) -> list:
    """The JSON documents printed one after another (curl adds no newline)."""
    decoder, out, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text) or text[i] not in "{[":
            return out
        value, i = decoder.raw_decode(text, i)
        out.append(value)


def test_the_readme_walkthrough_runs_as_written(browser, tmp_path):  # noqa: F811
    blocks = walkthrough_blocks()
    assert [lang for lang, _ in blocks] == ["sh", "sh", "python", "sh"]
    start, create_and_curl, sdk, observe = (code for _, code in blocks)
    assert start.split("#")[0].split() == ["rustllm", "proxy", "--config", "examples/proxy/config.yaml"]
    with ProxyProcess(CONFIG.read_text()) as proxy:
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}

        def run_sh(code: str) -> str:
            code = code.replace("http://localhost:4000", proxy.url)
            r = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", code], capture_output=True, text=True, env=env, timeout=60
            )
            assert r.returncode == 0, r.stdout + r.stderr
            return r.stdout

        # 1-2: a team, its key, and a call with curl; KEY is exported for the next steps.
        out = run_sh(create_and_curl + '\necho; echo "KEY=$KEY"\n')
        team, reply = json_values(out)[:2]
        assert team["team_id"] == "search" and team["max_budget"] == 10
        assert reply["choices"][0]["message"]["content"].startswith("Hello from rustllm's proxy")
        key = out.rsplit("KEY=", 1)[1].strip()
        assert key.startswith("sk-") and key != "sk-1234"
        env["KEY"] = key
        # 3: the openai SDK.
        r = subprocess.run(
            [sys.executable, "-c", sdk.replace("http://localhost:4000", proxy.url)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("Hello from rustllm's proxy")
        # 4 and 6: /metrics (the grep fails the script without a match), then the spend report.
        out = run_sh(observe)
        # One series per deployment the Router picked: the two requests between them.
        series = [line for line in out.splitlines() if line.startswith("litellm_proxy_total_requests_metric")]
        assert all('team="search"' in line and 'status_code="200"' in line for line in series), series
        assert sum(float(line.rsplit(" ", 1)[1]) for line in series) == 2.0, series
        assert key not in out
        report = json_values(out[out.index("\n[") + 1 :])[0]
        teams = {t["team_name"]: t for day in report for t in day["teams"]}
        assert teams["Search"]["total_spend"] > 0, report
        # 5: the request log on the proxy's stdout, one line per call, the key's alias
        # and hash prefix, never the key.
        requests = [json.loads(line) for line in proxy.lines if '"message":"request"' in line]
        ours = [line for line in requests if line.get("key_alias") == "search-bot"]
        assert len(ours) == 2 and all(line["team_id"] == "search" and line["status"] == 200 for line in ours)
        assert key not in proxy.output
        # 7: the dashboard.
        browser.get(f"{proxy.url}/ui")
        sign_in(browser, "sk-1234")
        go(browser, "spend")
        wait_for(lambda: "Search" in bar_rows(browser, "spend-teams"), what="the team on the Spend view")
        assert bar_rows(browser, "spend-teams")["Search"] == f"${teams['Search']['total_spend']:.4f}"
        keys = bar_rows(browser, "spend-keys")
        assert any(name.startswith("search-bot") for name in keys), keys
        shot(browser, "walkthrough-spend")
