"""Build rustllm's release wheels and sdist into dist/ and check their platform tags (`make wheel`).

Wheels are cross-built with maturin's `--zig` (zig from the `ziglang` package on PyPI links
against glibc 2.17 symbols), so one Linux machine builds them all, without Docker:
manylinux2014 (glibc >= 2.17: Ubuntu 18.04+, Debian 10+, RHEL/Alma/Rocky 8+, Amazon Linux 2)
for x86_64 and aarch64. The extension is abi3, so each wheel serves every CPython >= 3.9.

Every wheel goes through `auditwheel show`, and the build fails unless auditwheel reports
the platform tag the wheel was built for: a dependency that pulled in a newer glibc symbol,
or a shared library outside the manylinux allow-list, stops the release here rather than on
a user's machine.

musllinux_1_2 (Alpine) wheels build (`--target x86_64-unknown-linux-musl`) but are not in
the default set: zig links them against musl under the name `libc.so`, which musl's loader
accepts as itself, while auditwheel allows only Alpine's `libc.musl-<arch>.so.1` and so
reports `linux_<arch>`. Until the tag check passes they are not released; Alpine users
build the sdist.

The sdist (`maturin sdist`) builds with only a Rust toolchain and pip (pip fetches maturin).

Builds use the release profile (fat LTO): a few minutes of CPU per target.

Usage: python scripts/build_wheels.py [--target x86_64-unknown-linux-gnu ...] [--no-sdist] [--out dist]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class WheelTarget:
    rust_target: str
    compatibility: str  # maturin's --compatibility
    platform_tag: str  # what auditwheel must report for the built wheel
    released: bool = True  # built by default (see the module docs for the musl ones)


WHEEL_TARGETS = [
    WheelTarget("x86_64-unknown-linux-gnu", "manylinux2014", "manylinux_2_17_x86_64"),
    WheelTarget("aarch64-unknown-linux-gnu", "manylinux2014", "manylinux_2_17_aarch64"),
    WheelTarget("x86_64-unknown-linux-musl", "musllinux_1_2", "musllinux_1_2_x86_64", released=False),
    WheelTarget("aarch64-unknown-linux-musl", "musllinux_1_2", "musllinux_1_2_aarch64", released=False),
]

# Files an sdist must carry for `pip install rustllm-*.tar.gz` to build and to ship the
# metadata the wheels have, and the examples the README links (the wheels need not carry
# them). maturin puts every file Cargo packages (all tracked files) in the sdist.
SDIST_REQUIRED = [
    "Cargo.toml",
    "Cargo.lock",
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "python/rustllm/py.typed",
    "examples/quickstart.py",
    "examples/walkthrough.ipynb",
    "examples/langchain.ipynb",
]


@dataclass
class Built:
    name: str
    expected_tag: str
    reported_tag: str
    size: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.reported_tag == self.expected_tag


def run(cmd: list[str], env: dict[str, str] | None = None) -> str:
    """Run a command, echoing it; its stdout is returned, its stderr passes through."""
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True).stdout


def tool_env() -> dict[str, str]:
    """This interpreter's bin directory first on PATH: maturin looks for zig as
    `python -m ziglang`, and for auditwheel, beside the python it finds first."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def check_prerequisites(targets: list[WheelTarget], env: dict[str, str]) -> None:
    missing_tools = [m for m in ("maturin", "ziglang", "auditwheel") if shutil.which(m, path=env["PATH"]) is None]
    # ziglang installs no script of its own; it runs as a module.
    if "ziglang" in missing_tools:
        probe = subprocess.run([sys.executable, "-m", "ziglang", "version"], capture_output=True, env=env)
        if probe.returncode == 0:
            missing_tools.remove("ziglang")
    if missing_tools:
        raise SystemExit(
            f"missing {', '.join(missing_tools)}: {sys.executable} -m pip install {' '.join(missing_tools)}"
        )
    installed = subprocess.run(["rustup", "target", "list", "--installed"], check=True, capture_output=True, text=True)
    missing_targets = [t.rust_target for t in targets if t.rust_target not in installed.stdout.split()]
    if missing_targets:
        raise SystemExit(f"missing Rust targets: rustup target add {' '.join(missing_targets)}")


def auditwheel_tag(wheel: Path, env: dict[str, str]) -> str:
    """The most specific platform tag auditwheel says the wheel is consistent with."""
    try:
        report = run(["auditwheel", "show", str(wheel)], env=env)
    except subprocess.CalledProcessError:
        # On a glibc machine auditwheel crashes on musl wheels: it finds glibc's libc.so
        # linker script for their `libc.so` and fails to parse it as ELF.
        return "auditwheel failed"
    # auditwheel wraps its prose; the tag is the first quoted tag after "platform tag".
    match = re.search(r'platform\s+tag:?\s*"([^"]+)"', report)
    if match is None:
        raise SystemExit(f"auditwheel show gave no platform tag for {wheel.name}:\n{report}")
    print(f"  auditwheel: {wheel.name} is {match.group(1)}", flush=True)
    return match.group(1)


def build_wheel(target: WheelTarget, out: Path, env: dict[str, str]) -> Built:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rustllm-wheel-") as tmp:
        # Each target builds into its own directory, so the wheel checked is the one just built.
        run(
            [
                "maturin", "build", "--release", "--zig",
                "--compatibility", target.compatibility,
                "--target", target.rust_target,
                "--out", tmp,
            ],
            env=env,
        )  # fmt: skip
        wheels = list(Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise SystemExit(f"expected one wheel for {target.rust_target}, found {[w.name for w in wheels]}")
        wheel = out / wheels[0].name
        shutil.move(str(wheels[0]), wheel)
    reported = auditwheel_tag(wheel, env)
    if target.platform_tag not in wheel.name:
        reported = f"{reported} (file name lacks {target.platform_tag})"
    return Built(wheel.name, target.platform_tag, reported, wheel.stat().st_size, time.monotonic() - started)


def build_sdist(out: Path, env: dict[str, str]) -> Built:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rustllm-sdist-") as tmp:
        run(["maturin", "sdist", "--out", tmp], env=env)
        sdists = list(Path(tmp).glob("*.tar.gz"))
        if len(sdists) != 1:
            raise SystemExit(f"expected one sdist, found {[s.name for s in sdists]}")
        sdist = out / sdists[0].name
        shutil.move(str(sdists[0]), sdist)
    with tarfile.open(sdist) as tar:
        # Members are "rustllm-<version>/<path>".
        members = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    missing = [f for f in SDIST_REQUIRED if f not in members]
    reported = "sdist" if not missing else f"sdist lacking {', '.join(missing)}"
    return Built(sdist.name, "sdist", reported, sdist.stat().st_size, time.monotonic() - started)


def print_table(built: list[Built]) -> None:
    rows = [("artefact", "expected", "auditwheel / contents", "size", "time", "")]
    for b in built:
        rows.append(
            (
                b.name,
                b.expected_tag,
                b.reported_tag,
                f"{b.size / 1e6:.1f} MB",
                f"{b.seconds:.0f} s",
                "ok" if b.ok else "FAIL",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [t.rust_target for t in WHEEL_TARGETS]
    parser.add_argument(
        "--target", action="append", choices=names, help="build only these (repeatable); default the released ones"
    )
    parser.add_argument("--no-sdist", action="store_true", help="skip the sdist")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    args = parser.parse_args()

    if args.target is None:
        targets = [t for t in WHEEL_TARGETS if t.released]
    else:
        targets = [t for t in WHEEL_TARGETS if t.rust_target in args.target]
    env = tool_env()
    check_prerequisites(targets, env)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.target is None:
        # A full build replaces every artefact, so `make wheel-check` never tests a stale one.
        for old in [*args.out.glob("rustllm-*.whl"), *args.out.glob("rustllm-*.tar.gz")]:
            old.unlink()

    built = [build_wheel(t, args.out, env) for t in targets]
    if not args.no_sdist:
        built.append(build_sdist(args.out, env))
    print()
    print_table(built)
    failed = [b.name for b in built if not b.ok]
    if failed:
        print(f"\nplatform tag check failed for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
