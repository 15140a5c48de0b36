"""The dashboard at ``/ui`` in a real headless browser (Debian's Chromium and chromedriver).

A ``rustllm proxy`` with a SQLite database sits in front of a MockServer; the test sends
known traffic through it (successes and provider failures, from two teams' keys and the
master key), then drives the page as an operator would: signs in (a wrong key and a
virtual key are refused), reads the numbers each view shows and checks them against the
traffic, runs the health checks, creates a key in the page and calls the proxy with it,
and signs out. Team names and key aliases hold HTML and script: the page must show them
as text and run nothing. A second proxy without a database shows the page's notice.

Each view is saved as a PNG in ``target/ui-screenshots/`` (``RUSTLLM_UI_SCREENSHOTS``
picks another directory) for people to look at.

Without Chromium the test skips locally and **fails under CI** (``CI`` set): ``.ci/run``
installs ``chromium`` and ``chromium-driver`` from Debian's packages.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import httpx
import pytest
from _proxy import ProxyProcess, mock_deployment
from selenium.common.exceptions import WebDriverException

from rustllm.testing import MockServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SHOTS = Path(
    os.environ.get("RUSTLLM_UI_SCREENSHOTS") or Path(__file__).resolve().parents[1] / "target" / "ui-screenshots"
)

MASTER = "sk-1234"
HI = [{"role": "user", "content": "hi"}]
# The MockServer counts words: "hi" is 1 prompt token, "Hello from MockServer!" 3
# completion tokens. The deployments' prices make each call's cost known.
PROMPT, COMPLETION = 1, 3
PRICES = {"gpt-4o": (0.001, 0.01), "cheap": (0.0001, 0.0002)}

# Names an operator might type, and an attacker would: the page must show them as text.
TEAM_A_ALIAS = 'Search <script>window.__pwned = 1</script> & "Co"'
KEY_A_ALIAS = '<img src=x onerror="window.__pwned = 2">alpha'


def cost(model: str) -> float:
    inp, out = PRICES[model]
    return PROMPT * inp + COMPLETION * out


def usd(x: float) -> str:
    """Money as the page writes it (app.js ``usd``)."""
    if abs(x) >= 1000:
        return f"${x:,.2f}"
    if abs(x) >= 1:
        return f"${x:.2f}"
    return f"${x:.4f}"


def _require_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if not missing:
        return
    message = f"not installed: {', '.join(missing)} (apt-get install -y chromium chromium-driver)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}: required in CI for the dashboard test", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for arg in [
        "--headless=new",
        "--no-sandbox",  # root in CI
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1440,1000",
        "--lang=en-US",
        "--no-first-run",
        "--no-default-browser-check",
        # Nothing but loopback: no name resolves, and Chromium's own services stay off.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--no-proxy-server",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--no-pings",
        "--metrics-recording-only",
    ]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(check, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = check()
        except WebDriverException as e:  # the page may be mid-render: try again
            last = e
        if last and not isinstance(last, WebDriverException):
            return last
        assert time.monotonic() < deadline, f"timed out waiting for {what} (last: {last!r})"
        time.sleep(0.05)


def js(driver, script: str, *args):
    return driver.execute_script(script, *args)


def text(driver, selector: str) -> str:
    return js(driver, "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", selector)


def visible(driver, element_id: str) -> bool:
    return js(
        driver, "const e = document.getElementById(arguments[0]); return !!e && !e.closest('[hidden]');", element_id
    )


def shot(driver, name: str) -> Path:
    """A PNG of the whole page as it is now (the viewport stretched to the page's height)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = js(driver, "return Math.max(document.documentElement.scrollHeight, 760);")
    metrics = {"width": 1440, "height": min(int(height), 3000), "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        path = SHOTS / f"{name}.png"
        assert driver.save_screenshot(str(path)), f"no screenshot for {name}"
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path


def bar_rows(driver, table_id: str) -> dict[str, str]:
    """A spend table's rows: the name shown → the amount shown."""
    rows = js(
        driver,
        """return [...document.querySelectorAll('#' + arguments[0] + ' tbody tr')]
            .filter(tr => tr.querySelector('.name'))
            .map(tr => [tr.querySelector('.name').textContent, tr.querySelector('.num').textContent]);""",
        table_id,
    )
    return dict(rows)


def sign_in(driver, key: str) -> None:
    field = driver.find_element("id", "login-key")
    field.clear()
    field.send_keys(key)
    driver.find_element("id", "login-submit").click()


def go(driver, view: str) -> None:
    driver.find_element("css selector", f'#nav a[data-view="{view}"]').click()
    wait_for(lambda: visible(driver, f"view-{view}"), what=f"the {view} view")


def api(proxy: ProxyProcess, method: str, path: str, key: str = MASTER, **kw) -> httpx.Response:
    return httpx.request(method, f"{proxy.url}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=20, **kw)


def chat(proxy: ProxyProcess, key: str, model: str) -> httpx.Response:
    return api(proxy, "POST", "/chat/completions", key=key, json={"model": model, "messages": HI})


def config(server, extra: str) -> str:
    text = "model_list:\n"
    for name, (inp, out) in PRICES.items():
        text += mock_deployment(name, server, input_cost_per_token=inp, output_cost_per_token=out)
    # The MockServer answers this model name with a 500: a provider failure.
    text += mock_deployment("broken", server, model="openai/error-500")
    text += "router_settings:\n  num_retries: 0\n"
    return text + f"general_settings:\n  master_key: {MASTER}\n" + extra


def console_problems(driver) -> list[str]:
    """Console errors other than the refused logins' 401 and 403 (expected)."""
    out = []
    for entry in driver.get_log("browser"):
        message = entry.get("message", "")
        if entry.get("level") != "SEVERE":
            continue
        if "status of 401" in message or "status of 403" in message:
            continue
        out.append(message)
    return out


def test_dashboard_shows_the_traffic_and_creates_working_keys(browser, tmp_path):
    driver = browser
    with (
        MockServer() as server,
        ProxyProcess(
            config(server, f"  database_url: sqlite:///{tmp_path / 'ui.db'}\n  proxy_batch_write_at: 1\n")
        ) as proxy,
    ):
        # -- known traffic -----------------------------------------------------------
        for team_id, alias in [("team-search", TEAM_A_ALIAS), ("team-support", "Support")]:
            r = api(proxy, "POST", "/team/new", json={"team_id": team_id, "team_alias": alias})
            assert r.status_code == 200, r.text
        key_a = api(proxy, "POST", "/key/generate", json={"team_id": "team-search", "key_alias": KEY_A_ALIAS})
        key_b = api(proxy, "POST", "/key/generate", json={"team_id": "team-support", "key_alias": "bravo"})
        assert key_a.status_code == key_b.status_code == 200, (key_a.text, key_b.text)
        key_a, key_b = key_a.json()["key"], key_b.json()["key"]

        traffic = [(key_a, "gpt-4o")] * 3 + [(key_a, "broken")] + [(key_b, "cheap")] * 2 + [(key_b, "broken")] * 2
        traffic += [(MASTER, "gpt-4o")]
        for key, model in traffic:
            r = chat(proxy, key, model)
            assert r.status_code == (500 if model == "broken" else 200), r.text
        failures = sum(model == "broken" for _, model in traffic)
        spend_a = 3 * cost("gpt-4o")
        spend_b = 2 * cost("cheap")
        spend_master = cost("gpt-4o")
        total = spend_a + spend_b + spend_master
        # Spend rows are written every second (proxy_batch_write_at: 1).
        wait_for(lambda: len(api(proxy, "GET", "/spend/logs").json()) == len(traffic), what="the spend rows")

        # -- signing in ----------------------------------------------------------------
        driver.get(f"{proxy.url}/ui")
        wait_for(lambda: visible(driver, "login-form"), what="the login form")
        assert not visible(driver, "app")
        shot(driver, "login")

        sign_in(driver, "sk-not-the-master-key")
        wait_for(lambda: "refused" in (text(driver, "#login-error") or ""), what="a wrong key refused")
        assert not visible(driver, "app")
        sign_in(driver, key_b)
        wait_for(lambda: "virtual key" in (text(driver, "#login-error") or ""), what="a virtual key refused")
        assert not visible(driver, "app")
        assert js(driver, "return sessionStorage.length") == 0
        shot(driver, "login-refused")

        sign_in(driver, MASTER)
        wait_for(lambda: visible(driver, "view-activity"), what="the dashboard")

        # -- activity: requests and errors ---------------------------------------------
        wait_for(lambda: text(driver, "#stat-requests") == str(len(traffic)), what="the request count")
        assert text(driver, "#stat-errors") == str(failures)
        assert text(driver, "#stat-error-rate") == f"{100 * failures / len(traffic):.1f}%"
        assert text(driver, "#stat-spend") == usd(total)
        bars = js(
            driver,
            "return [document.querySelectorAll('#activity-chart rect.ok').length,"
            " document.querySelectorAll('#activity-chart rect.bad').length]",
        )
        assert bars[0] >= 1 and bars[1] >= 1, bars
        # The latest requests, each with its key's name and its outcome.
        recent = js(
            driver,
            """return [...document.querySelectorAll('#recent-table tbody tr')]
                .map(tr => [tr.cells[2].textContent, tr.cells[4].textContent]);""",
        )
        names = {key_a: KEY_A_ALIAS, key_b: "bravo", MASTER: "Master key"}
        expected = sorted((names[key], "failed" if model == "broken" else "ok") for key, model in traffic)
        assert sorted(map(tuple, recent)) == expected
        shot(driver, "activity")

        # -- spend per team, key and model -------------------------------------------
        go(driver, "spend")
        wait_for(lambda: text(driver, "#spend-total") == usd(total), what="the total spend")
        teams = wait_for(lambda: bar_rows(driver, "spend-teams"), what="the team rows")
        assert teams == {TEAM_A_ALIAS: usd(spend_a), "Support": usd(spend_b), "Unassigned Team": usd(spend_master)}
        keys = bar_rows(driver, "spend-keys")
        assert keys == {KEY_A_ALIAS: usd(spend_a), "bravo": usd(spend_b), "Master key": usd(spend_master)}
        models = bar_rows(driver, "spend-models")
        assert models == {
            "gpt-4o": usd(spend_a + spend_master),
            "cheap": usd(spend_b),
            "broken": usd(0.0),
        }
        # The HTML in the names is text: no element was made from it, nothing ran.
        assert js(driver, "return document.querySelectorAll('main img, main script').length") == 0
        assert js(driver, "return window.__pwned === undefined")
        shot(driver, "spend")

        # -- deployment health ---------------------------------------------------------
        go(driver, "health")
        wait_for(lambda: text(driver, "#health-total") == "3", what="the deployments")
        driver.find_element("id", "health-run").click()
        wait_for(lambda: text(driver, "#health-healthy") == "2", what="the health checks")
        assert text(driver, "#health-unhealthy") == "1"
        status = js(
            driver,
            """return Object.fromEntries([...document.querySelectorAll('#health-table tbody tr')]
                .map(tr => [tr.cells[0].textContent, tr.cells[4].textContent]));""",
        )
        assert status["gpt-4o"] == status["cheap"] == "healthy", status
        assert status["broken"].startswith("unhealthy") and "500" in status["broken"], status
        shot(driver, "health")

        # -- the keys list ---------------------------------------------------------------
        go(driver, "keys")
        wait_for(lambda: text(driver, "#keys-count") == "2 keys", what="the keys list")
        listed = js(
            driver,
            """return [...document.querySelectorAll('#keys-table tbody tr')]
                .map(tr => [tr.cells[0].textContent, tr.cells[1].textContent, tr.cells[2].textContent]);""",
        )
        assert sorted(row[0] for row in listed) == sorted([KEY_A_ALIAS, "bravo"])
        assert {row[2] for row in listed} == {"team-search", "team-support"}
        # The plain keys are never shown again: only sk-...last4.
        page_text = js(driver, "return document.body.innerText")
        assert key_a not in page_text and key_b not in page_text
        assert all(row[1].startswith("sk-...") for row in listed), listed
        shot(driver, "keys")

        # -- creating a key, then using it ---------------------------------------------
        go(driver, "new-key")
        wait_for(lambda: js(driver, "return document.querySelectorAll('#new-key-models input').length") == 3)
        form = driver.find_element("id", "new-key-form")
        form.find_element("name", "key_alias").send_keys("made-in-the-ui")
        form.find_element("name", "team_id").send_keys("team-support")
        form.find_element("name", "rpm_limit").send_keys("100")
        driver.find_element("css selector", '#new-key-models input[value="cheap"]').click()
        driver.find_element("id", "new-key-submit").click()
        wait_for(lambda: visible(driver, "new-key-result"), what="the new key")
        new_key = js(driver, "return document.getElementById('new-key-value').value")
        assert new_key.startswith("sk-") and len(new_key) > 20
        shot(driver, "new-key")
        # The key works, for what it was given and nothing else.
        r = chat(proxy, new_key, "cheap")
        assert r.status_code == 200, r.text
        assert chat(proxy, new_key, "gpt-4o").status_code == 401
        info = api(proxy, "GET", "/key/info", params={"key": new_key}).json()["info"]
        assert (info["key_alias"], info["team_id"], info["models"], info["rpm_limit"]) == (
            "made-in-the-ui",
            "team-support",
            ["cheap"],
            100,
        )
        # Shown once: Done takes it off the page.
        driver.find_element("id", "new-key-done").click()
        assert js(driver, "return document.getElementById('new-key-value').value") == ""
        assert new_key not in js(driver, "return document.body.innerText")

        go(driver, "keys")
        wait_for(lambda: text(driver, "#keys-count") == "3 keys", what="the new key in the list")

        # -- signing out -------------------------------------------------------------------
        driver.find_element("id", "logout").click()
        wait_for(lambda: visible(driver, "login-form"), what="the login form again")
        assert js(driver, "return sessionStorage.length") == 0
        driver.get(f"{proxy.url}/ui#keys")
        wait_for(lambda: visible(driver, "login-form"), what="the login form after a reload")
        assert not visible(driver, "app")

        assert console_problems(driver) == []


def test_without_a_database_the_dashboard_says_so(browser):
    driver = browser
    with MockServer() as server, ProxyProcess(config(server, "  database: none\n")) as proxy:
        driver.get(f"{proxy.url}/ui")
        wait_for(lambda: visible(driver, "login-form"), what="the login form")
        sign_in(driver, MASTER)
        wait_for(lambda: visible(driver, "banner"), what="the no-database notice")
        assert "without a database" in text(driver, "#banner")
        # Views that need a database say so; health works.
        assert "Needs a database" in text(driver, "#view-activity")
        assert not visible(driver, "stat-requests")
        shot(driver, "no-database")
        go(driver, "health")
        wait_for(lambda: text(driver, "#health-total") == "3", what="the deployments")
        driver.find_element("id", "health-run").click()
        wait_for(lambda: text(driver, "#health-unhealthy") == "1", what="the health checks")
        shot(driver, "no-database-health")
        driver.find_element("id", "logout").click()
        assert console_problems(driver) == []
