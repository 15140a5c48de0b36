"""Build one venv per framework and run its tests there, with rustllm standing in for litellm.

    python3 tests/frameworks/run.py --wheel DIR [name ...]   # what `make test-frameworks` runs
    python3 tests/frameworks/run.py --relock name ...        # refresh requirements/<name>.txt

Each framework has a venv ``.venv-frameworks/<name>``, installed from the lock file
``requirements/<name>.txt`` with ``pip install --no-deps``: the lock lists everything the
framework needs except litellm (several frameworks depend on it), so the real litellm
never enters the venv; rustllm goes in from the wheel in ``--wheel DIR``. A venv is
rebuilt only when its lock file changed; pip's cache is shared. Two frameworks are
installed and tested at a time (the machine has two cores).

The tests talk only to ``rustllm.testing.MockServer`` on 127.0.0.1; the environment below
turns every framework's telemetry off and points its caches at a temp dir. A framework
that cannot be installed is reported as such and fails the run, like a failing test.
Stdlib only: this runs before any venv exists.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from offline_env import offline_env

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENVS = ROOT / ".venv-frameworks"

# name -> what was asked of pip when the lock was made (the framework's own pin).
FRAMEWORKS: dict[str, str] = {
    "langchain_litellm": "langchain-litellm==0.11.2",
    "dspy": "dspy==3.4.1",
    "instructor": "instructor[litellm]==1.17.0",
    "smolagents": "smolagents[litellm]==1.26.0",
    "openai_agents": "openai-agents[litellm]==0.24.0",
    "google_adk": "google-adk==2.13.0",
    "crewai": "crewai==1.15.30",
    "llama_index": "llama-index-llms-litellm==0.8.0",
    "mem0": "mem0ai==2.2.1",
}
# The test runner goes into every lock too.
TEST_TOOLS = ("pytest", "pytest-asyncio")

# No phoning home: the same variables conftest.py sets, plus quiet pip.
OFFLINE_ENV = {
    **offline_env(),
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def _lock(name: str) -> Path:
    return HERE / "requirements" / f"{name}.txt"


def _python(venv: Path) -> str:
    return str(venv / "bin" / "python")


def _run(cmd: list[str], log, env: dict[str, str] | None = None, cwd: Path | None = None) -> int:
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    return subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd, check=False).returncode


def _wheel(wheel_dir: Path) -> Path:
    wheels = sorted(wheel_dir.glob("rustllm-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        sys.exit(f"no rustllm wheel in {wheel_dir}: build one with maturin build -o {wheel_dir}")
    return wheels[-1]


def install(name: str, wheel: Path, log) -> str | None:
    """Make the venv current; return None, or why it could not be installed."""
    venv = VENVS / name
    lock = _lock(name)
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    stamp = venv / ".lock-sha256"
    if not (stamp.exists() and stamp.read_text() == digest):
        shutil.rmtree(venv, ignore_errors=True)
        if _run([sys.executable, "-m", "venv", str(venv)], log) != 0:
            return "python -m venv failed"
        pip = [_python(venv), "-m", "pip", "install", "--quiet", "--no-deps"]
        if _run([*pip, "-r", str(lock)], log) != 0:
            return f"pip install --no-deps -r {lock.relative_to(ROOT)} failed (see the log above)"
        stamp.write_text(digest)
    if _run([_python(venv), "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", str(wheel)], log):
        return f"installing {wheel.name} failed"
    probe = "import importlib.util as u, sys; sys.exit(u.find_spec('litellm') is not None)"
    if _run([_python(venv), "-c", probe], log) != 0:
        return "the real litellm is importable in the venv"
    return None


def test(name: str, log) -> int:
    env = {**os.environ, **OFFLINE_ENV}
    tmp = tempfile.mkdtemp(prefix=f"rustllm-{name}-")
    env.update(
        HOME=tmp,
        DSPY_CACHEDIR=os.path.join(tmp, "dspy"),
        LLAMA_INDEX_CACHE_DIR=os.path.join(tmp, "llama_index"),
        MEM0_DIR=os.path.join(tmp, "mem0"),
        CREWAI_STORAGE_DIR=os.path.join(tmp, "crewai"),
        XDG_CACHE_HOME=os.path.join(tmp, "cache"),
        XDG_DATA_HOME=os.path.join(tmp, "data"),
    )
    # The wheel in the venv, not the source tree: run from the test folder's own ini.
    env.pop("PYTHONPATH", None)
    cmd = [_python(VENVS / name), "-m", "pytest", "-c", str(HERE / "pytest.ini"), "-q", "-rxXfE"]
    cmd.append(str(HERE / f"test_{name}.py"))
    try:
        return _run(cmd, log, env=env, cwd=HERE)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def one(name: str, wheel: Path) -> tuple[str, str, float, Path]:
    VENVS.mkdir(exist_ok=True)
    log_path = VENVS / f"{name}.log"
    start = time.monotonic()
    with open(log_path, "w") as log:
        problem = install(name, wheel, log)
        if problem is not None:
            return name, f"CANNOT INSTALL: {problem}", time.monotonic() - start, log_path
        code = test(name, log)
    status = "ok" if code == 0 else f"FAILED (pytest exit {code})"
    return name, status, time.monotonic() - start, log_path


def relock(name: str) -> None:
    """Resolve the framework afresh, drop litellm, and write the lock file."""
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([_python(venv), "-m", "pip", "install", "--quiet", FRAMEWORKS[name], *TEST_TOOLS], check=True)
        frozen = subprocess.run(
            [_python(venv), "-m", "pip", "freeze", "--exclude", "litellm", "--exclude", "pip"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    header = (
        f"# Locked from: pip install '{FRAMEWORKS[name]}' {' '.join(TEST_TOOLS)}, less litellm. Installed with --no-deps,\n"
        "# so litellm (a dependency of the framework) never enters the venv: rustllm stands in\n"
        f"# for it. Regenerate with: python3 tests/frameworks/run.py --relock {name}\n"
    )
    _lock(name).write_text(header + frozen)
    print(f"wrote {_lock(name).relative_to(ROOT)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"frameworks to run (default: all of {', '.join(FRAMEWORKS)})")
    parser.add_argument("--wheel", type=Path, help="folder holding the rustllm wheel to install")
    parser.add_argument("--relock", action="store_true", help="rewrite the lock files of the named frameworks")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    names = args.names or list(FRAMEWORKS)
    unknown = [n for n in names if n not in FRAMEWORKS]
    if unknown:
        parser.error(f"unknown framework(s): {', '.join(unknown)}")
    if args.relock:
        for name in names:
            relock(name)
        return 0
    if args.wheel is None:
        parser.error("--wheel is required")
    wheel = _wheel(args.wheel)
    start = time.monotonic()
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for name, status, secs, log_path in pool.map(lambda n: one(n, wheel), names):
            print(f"\n===== {name}: {status} ({secs:.0f} s) =====", flush=True)
            print(log_path.read_text(), flush=True)
            results.append((name, status, secs))
    print(f"\nframework tests (rustllm {wheel.name}), {time.monotonic() - start:.0f} s:")
    for name, status, secs in results:
        print(f"  {name:<18} {FRAMEWORKS[name]:<34} {status} ({secs:.0f} s)")
    bad = [name for name, status, _ in results if status != "ok"]
    if bad:
        print(f"framework tests failed or could not install: {', '.join(bad)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
