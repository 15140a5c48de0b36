"""Release check of dist/ (`make wheel-check`): install the built artefacts the way users
will, into fresh venvs, and smoke-test them.

For each CPython 3.9-3.13 found (pyenv's installs, else `python3.X` on PATH), a fresh venv
gets the wheel that runs on this machine, installed by that interpreter's own pip from the
file alone (`--no-index`: the wheel has no dependencies, and this proves it), then runs
scripts/wheel_smoke.py. The sdist is installed into one more fresh venv, on the oldest
Python found, so pip builds it from source as a user without a wheel would: with the Rust
toolchain on PATH and maturin fetched from the package index by pip's build isolation.
That build uses the release profile; for a quicker trial of the sdist alone set
MATURIN_PEP517_ARGS="--profile dev-release".

Wheels for another architecture or libc (aarch64, musllinux) cannot run here; they are
listed as not run, with the kind of machine they need. Their platform tags were already
checked by `make wheel` (auditwheel).

Usage: python scripts/check_wheels.py [--dist dist] [--no-sdist] [--keep]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "scripts" / "wheel_smoke.py"
MINORS = ["3.9", "3.10", "3.11", "3.12", "3.13"]


@dataclass
class Row:
    python: str
    artefact: str
    install: str = "-"
    smoke: str = "-"
    import_ms: str = "-"
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.install == "ok" and self.smoke == "ok"


def interpreter_version(python: Path | str) -> str | None:
    """The interpreter's full version, or None if it does not run (e.g. a pyenv shim for a
    version that is not installed)."""
    try:
        probe = subprocess.run(
            [str(python), "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except OSError:
        return None
    return probe.stdout.strip() if probe.returncode == 0 else None


def find_interpreters() -> dict[str, tuple[Path, str]]:
    """minor version -> (interpreter, full version): the newest pyenv install of each minor,
    falling back to `python3.X` on PATH."""
    found: dict[str, tuple[Path, str]] = {}
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = Path(subprocess.run([pyenv, "root"], capture_output=True, text=True, check=True).stdout.strip())
        names = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True, check=True).stdout.split()
        newest: dict[str, tuple[int, str]] = {}
        for name in names:
            # Plain CPython releases only: "3.13.0t" (free-threaded) cannot load abi3
            # extensions, and "-dev" builds or named virtualenvs are not release targets.
            match = re.fullmatch(r"(3\.\d+)\.(\d+)", name)
            if match and match.group(1) in MINORS and int(match.group(2)) >= newest.get(match.group(1), (-1, ""))[0]:
                newest[match.group(1)] = (int(match.group(2)), name)
        for minor, (_, name) in newest.items():
            python = root / "versions" / name / "bin" / "python3"
            version = interpreter_version(python)
            if version:
                found[minor] = (python, version)
    for minor in MINORS:
        on_path = shutil.which(f"python{minor}")
        if minor not in found and on_path:
            version = interpreter_version(on_path)
            if version and version.startswith(minor + "."):
                found[minor] = (Path(on_path), version)
    return found


def wheel_platforms(wheel: Path) -> list[str]:
    """The platform tags of a wheel file name (the last field, "."-separated)."""
    return wheel.name[: -len(".whl")].split("-")[-1].split(".")


def why_not_runnable(wheel: Path) -> str | None:
    """None if the wheel runs on this machine, else the kind of machine it needs."""
    machine = platform.machine()
    host_is_glibc = platform.libc_ver()[0] == "glibc"
    tags = wheel_platforms(wheel)
    if not any(tag.endswith("_" + machine) for tag in tags):
        return f"needs an {tags[0].split('_', 3)[-1]} machine; this one is {machine}"
    if host_is_glibc and not any(tag.startswith("manylinux") for tag in tags):
        return "needs a musl libc machine (e.g. Alpine); this one has glibc"
    if not host_is_glibc and not any(tag.startswith("musllinux") for tag in tags):
        return "needs a glibc machine; this one has musl"
    return None


def run_logged(
    cmd: list[str], log: Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run cmd with its output appended to log; returned with stdout captured as well."""
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    with log.open("a") as f:
        f.write(f"$ {' '.join(cmd)}\n{result.stdout}{result.stderr}\n")
    return result


def install_and_smoke(python: Path, version: str, artefact: Path, workdir: Path, from_index: bool) -> Row:
    """A fresh venv of python, artefact installed by its pip, then the smoke test."""
    row = Row(f"{version}", artefact.name)
    started = time.monotonic()
    venv = workdir / f"venv-{version}-{'sdist' if from_index else 'wheel'}"
    log = workdir / f"{venv.name}.log"
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    created = run_logged([str(python), "-m", "venv", str(venv)], log, workdir)
    if created.returncode != 0:
        row.install = "venv failed"
        return row
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-cache-dir"]
    if not from_index:
        pip += ["--no-index", "--no-deps"]
    installed = run_logged([*pip, str(artefact)], log, workdir, env)
    row.install = "ok" if installed.returncode == 0 else "FAILED"
    if row.install == "ok":
        # -I: no script directory, user site or PYTHON* variables on the path, and the cwd
        # is an empty directory, so only the installed package can be imported.
        smoke = run_logged([str(venv / "bin" / "python"), "-I", str(SMOKE)], log, workdir, env)
        row.smoke = "ok" if smoke.returncode == 0 else "FAILED"
        match = re.search(r"import_ms=(\d+)", smoke.stdout)
        row.import_ms = match.group(1) if match else "-"
    row.seconds = time.monotonic() - started
    if not row.ok:
        print(f"  {row.python} {row.artefact} failed; the end of {log}:", file=sys.stderr)
        print("  " + "\n  ".join(log.read_text().splitlines()[-25:]), file=sys.stderr)
    return row


def print_table(rows: list[Row]) -> None:
    table = [("python", "artefact", "install", "smoke", "import ms", "time")]
    table += [(r.python, r.artefact, r.install, r.smoke, r.import_ms, f"{r.seconds:.0f} s") for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--no-sdist", action="store_true", help="skip the (slow) build from the sdist")
    parser.add_argument("--keep", action="store_true", help="keep the venvs and logs")
    args = parser.parse_args()

    wheels = sorted(args.dist.glob("rustllm-*.whl"))
    sdists = sorted(args.dist.glob("rustllm-*.tar.gz"))
    if not wheels:
        raise SystemExit(f"no rustllm wheels in {args.dist}: run `make wheel` first")
    runnable = [w for w in wheels if why_not_runnable(w) is None]
    for wheel in wheels:
        reason = why_not_runnable(wheel)
        if reason:
            print(f"not run here: {wheel.name} ({reason}; its tag was checked by auditwheel in `make wheel`)")
    if len(runnable) != 1:
        raise SystemExit(f"expected one wheel for this machine in {args.dist}, found {[w.name for w in runnable]}")
    wheel = runnable[0]

    interpreters = find_interpreters()
    missing = [m for m in MINORS if m not in interpreters]
    if missing:
        print(f"no interpreter found for Python {', '.join(missing)} (looked in pyenv, then PATH)", file=sys.stderr)
    if not interpreters:
        return 1

    rows = []
    workdir = Path(tempfile.mkdtemp(prefix="rustllm-wheel-check-"))
    try:
        for minor in MINORS:
            if minor in interpreters:
                python, version = interpreters[minor]
                print(f"Python {version}: installing {wheel.name}", flush=True)
                rows.append(install_and_smoke(python, version, wheel, workdir, from_index=False))
        if not args.no_sdist:
            if len(sdists) != 1:
                raise SystemExit(f"expected one sdist in {args.dist}, found {[s.name for s in sdists]}")
            # The oldest Python supported: the sdist must build where the floor is.
            python, version = interpreters[min(interpreters, key=lambda m: int(m.split(".")[1]))]
            print(f"Python {version}: building {sdists[0].name} from source (pip, maturin, cargo)", flush=True)
            rows.append(install_and_smoke(python, version, sdists[0], workdir, from_index=True))
    finally:
        if args.keep or not all(r.ok for r in rows):
            print(f"venvs and logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print_table(rows)
    if missing or not all(r.ok for r in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
