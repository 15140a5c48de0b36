"""Run the Dockerfile's steps on a machine without a Docker engine.

    python scripts/check_dockerfile.py            # what `make docker-check` runs

What it does, stage by stage:

- **build stage**: copies what its ``COPY`` lines name (after checking ``.dockerignore``
  lets each one into the build context) into a scratch ``WORKDIR`` and runs its ``RUN``
  lines there with bash (``target/`` is linked to the repository's, so the build reuses
  its cache);
- **runtime stage**: resolves ``COPY --from=build`` against that scratch tree, checks with
  ``ldd`` that the binary needs no library beyond what ``debian:bookworm-slim`` ships, and
  lists the ``RUN`` lines that only make sense inside the image (apt-get, useradd);
- **the container's command line**: starts ``ENTRYPOINT`` with the tutorial's
  ``docker run`` arguments (``--config /app/config.yaml --detailed_debug``), the image's
  ``ENV`` and ``WORKDIR``, ``/app`` mapped to a scratch directory holding
  examples/proxy/config.yaml, then checks readiness and one chat completion over HTTP;
  also ``CMD`` alone, and that a config without a master key is refused on 0.0.0.0.

What it cannot check here: the base images themselves and the apt-get/useradd lines.
tests/test_container.py runs the same parser and the command-line part against the dev
build on every test run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Shared objects a glibc program may need that debian:bookworm-slim has (libc6, libgcc-s1).
SLIM_LIBRARIES = {
    "linux-vdso.so.1",
    "libc.so.6",
    "libm.so.6",
    "libgcc_s.so.1",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
}

# The tutorial's `docker run ... ghcr.io/berriai/litellm:main-latest <these>`.
TUTORIAL_ARGS = ["--config", "/app/config.yaml", "--detailed_debug"]


@dataclass
class Stage:
    """One ``FROM`` stage: its base image, alias and instructions in order."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, op: str) -> list[str]:
        """The arguments of every ``op`` instruction of this stage."""
        return [args for o, args in self.instructions if o == op]

    def last(self, op: str) -> str | None:
        """The arguments of the last ``op`` instruction (``CMD``, ``ENTRYPOINT``...)."""
        found = self.all(op)
        return found[-1] if found else None


def parse(text: str) -> list[Stage]:
    """The stages of a Dockerfile (comments dropped, continuation lines joined)."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    if pending:
        lines.append(pending)
    stages: list[Stage] = []
    for line in lines:
        op, _, args = line.partition(" ")
        op, args = op.upper(), args.strip()
        if op == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", args, flags=re.IGNORECASE)
            if not m:
                raise ValueError(f"cannot read FROM {args!r}")
            stages.append(Stage(base=m.group(1), name=m.group(2)))
        elif not stages:
            raise ValueError(f"{op} before the first FROM")
        else:
            stages[-1].instructions.append((op, args))
    return stages


def exec_form(args: str) -> list[str]:
    """``["a", "b"]`` (exec form) or a shell-form string, as a list of words."""
    if args.startswith("["):
        value = json.loads(args)
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ValueError(f"not a JSON list of strings: {args}")
        return value
    return shlex.split(args)


def env_of(stage: Stage) -> dict[str, str]:
    """The ``ENV`` settings of a stage (``ENV A=1 B=2`` and ``ENV A 1``)."""
    env: dict[str, str] = {}
    for args in stage.all("ENV"):
        words = shlex.split(args)
        if words and "=" not in words[0]:
            env[words[0]] = " ".join(words[1:])
            continue
        for w in words:
            k, _, v = w.partition("=")
            env[k] = v
    return env


def copy_parts(args: str) -> tuple[str | None, list[str], str]:
    """``COPY [--from=X] src... dest`` as (from, sources, dest)."""
    words = shlex.split(args)
    source_stage = None
    while words and words[0].startswith("--"):
        flag = words.pop(0)
        if flag.startswith("--from="):
            source_stage = flag.split("=", 1)[1]
    return source_stage, words[:-1], words[-1]


def dockerignore_allows(path: str) -> bool:
    """Whether .dockerignore (``*`` then ``!allowed`` lines) lets ``path`` into the context."""
    ignore = REPO / ".dockerignore"
    if not ignore.exists():
        return True
    allowed = True
    for line in ignore.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        pattern = pattern.rstrip("/")
        if pattern == "*" or path == pattern or path.startswith(pattern + "/"):
            allowed = negate
    return allowed


def within(root: Path, workdir: str, path: str) -> Path:
    """Where an image path lands in a scratch root (relative paths from ``workdir``)."""
    absolute = path if path.startswith("/") else f"{workdir.rstrip('/')}/{path}"
    return root / absolute.lstrip("/")


def run_build_stage(stage: Stage, root: Path) -> None:
    """Copy the build context in and run the stage's RUN lines in its WORKDIR."""
    workdir = "/"
    for op, args in stage.instructions:
        if op == "WORKDIR":
            workdir = args
            within(root, workdir, ".").mkdir(parents=True, exist_ok=True)
        elif op == "COPY":
            source_stage, sources, dest = copy_parts(args)
            if source_stage:
                raise ValueError("the build stage copies from another stage: not handled")
            for src in sources:
                if not dockerignore_allows(src.rstrip("/")):
                    raise SystemExit(f"COPY {src}: excluded by .dockerignore")
                origin = REPO / src
                if not origin.exists():
                    raise SystemExit(f"COPY {src}: no such file in the repository")
                target = within(root, workdir, dest)
                if origin.is_dir():
                    shutil.copytree(origin, target, dirs_exist_ok=True)
                elif dest.endswith("/"):
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, target / origin.name)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, target)
        elif op == "RUN":
            cwd = within(root, workdir, ".")
            # Reuse the repository's build cache: the image builds from scratch instead.
            link = cwd / "target"
            if not link.exists():
                link.symlink_to(REPO / "target")
            print(f"[build] RUN {args}", flush=True)
            subprocess.run(["bash", "-euo", "pipefail", "-c", args], cwd=cwd, check=True)


def libraries(binary: Path) -> set[str]:
    """The shared objects ``ldd`` says ``binary`` loads."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False)
    if "not a dynamic executable" in out.stdout + out.stderr:
        return set()
    names = set()
    for line in out.stdout.splitlines():
        word = line.strip().split(" ", 1)[0]
        names.add(Path(word).name)
    return names


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def container_command(runtime: Stage, entrypoint_binary: list[str], docker_args: list[str] | None, app: Path):
    """The argv, environment and cwd the container would start with: ENTRYPOINT + (the
    ``docker run`` arguments, else CMD), with ``/app`` mapped to ``app``."""
    entry = exec_form(runtime.last("ENTRYPOINT") or "[]")
    cmd = exec_form(runtime.last("CMD") or "[]")
    args = docker_args if docker_args is not None else cmd
    args = [a.replace("/app/", f"{app}/") if a.startswith("/app/") else a for a in args]
    argv = [*entrypoint_binary, *entry[1:], *args]
    env = {**os.environ, **env_of(runtime)}
    env.pop("LITELLM_MASTER_KEY", None)
    workdir = runtime.last("WORKDIR") or "/"
    cwd = app if workdir == "/app" else Path(workdir)
    return argv, env, cwd


def start(argv: list[str], env: dict[str, str], cwd: Path, port: int, deadline: float = 20.0):
    """Start the container's process on ``port``; (process, base URL) once it listens."""
    env = {**env, "PORT": str(port)}
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    end = time.monotonic() + deadline
    lines: list[str] = []
    assert proc.stdout is not None
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "listening on http://" in line:
            return proc, f"http://127.0.0.1:{port}", lines
    proc.kill()
    proc.wait()
    raise RuntimeError("the container command did not start:\n" + "".join(lines))


def call(url: str, path: str, body: dict | None = None, key: str = "sk-1234") -> tuple[int, dict]:
    """One HTTP request; (status, JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method="POST" if data else "GET")
    req.add_header("Authorization", f"Bearer {key}")
    if data:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=20) as r:
        return r.status, json.loads(r.read())


def check_command_line(runtime: Stage, entrypoint_binary: list[str]) -> None:
    """The tutorial's arguments, CMD alone, and a config without a master key."""
    with tempfile.TemporaryDirectory(prefix="rustllm-docker-app-") as d:
        app = Path(d)
        shutil.copy2(REPO / "examples" / "proxy" / "config.yaml", app / "config.yaml")
        for label, docker_args in (("docker run args", TUTORIAL_ARGS), ("CMD", None)):
            argv, env, cwd = container_command(runtime, entrypoint_binary, docker_args, app)
            assert env.get("HOST") == "0.0.0.0", "the image listens on every interface"
            proc, url, lines = start(argv, env, cwd, free_port())
            try:
                if not any("listening on http://0.0.0.0:" in line for line in lines):
                    raise SystemExit(f"{label}: not listening on 0.0.0.0: {lines}")
                status, _ = call(url, "/health/readiness")
                assert status == 200
                status, reply = call(
                    url, "/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
                )
                assert status == 200 and reply["choices"][0]["message"]["content"].startswith("Hello from")
                print(f"[run] {label}: {' '.join(argv[len(entrypoint_binary) :])} -> ready, chat 200", flush=True)
            finally:
                proc.terminate()
                proc.wait(timeout=15)
        # Without a master key the image's HOST=0.0.0.0 is refused, naming the ways out.
        (app / "config.yaml").write_text("model_list:\n  - model_name: m\n    litellm_params: {model: openai/m}\n")
        argv, env, cwd = container_command(runtime, entrypoint_binary, TUTORIAL_ARGS, app)
        out = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=30)
        if out.returncode == 0 or "master_key" not in out.stderr:
            raise SystemExit(f"an open config on 0.0.0.0 was not refused: {out.stderr}")
        print("[run] no master key on 0.0.0.0 -> refused, naming master_key", flush=True)


def main() -> int:
    """Run every check; exit non-zero at the first failure."""
    stages = parse((REPO / "Dockerfile").read_text())
    build = next((s for s in stages if s.name == "build"), None)
    runtime = stages[-1]
    if build is None:
        raise SystemExit("no `FROM ... AS build` stage")
    with tempfile.TemporaryDirectory(prefix="rustllm-docker-build-") as d:
        root = Path(d)
        run_build_stage(build, root)
        binary: Path | None = None
        for args in runtime.all("COPY"):
            source_stage, sources, dest = copy_parts(args)
            if source_stage != "build":
                continue
            for src in sources:
                built = within(root, "/", src)
                if not built.exists():
                    raise SystemExit(f"COPY --from=build {src}: the build stage did not make it")
                if dest.endswith("/rustllm-proxy"):
                    binary = built
        if binary is None:
            raise SystemExit("the runtime stage does not copy the rustllm-proxy binary")
        extra = libraries(binary) - SLIM_LIBRARIES
        if extra:
            raise SystemExit(f"the binary needs libraries debian:bookworm-slim lacks: {sorted(extra)}")
        print(f"[runtime] {binary.name}: {binary.stat().st_size / 1e6:.1f} MB, libraries OK", flush=True)
        for args in runtime.all("RUN"):
            print(f"[runtime] not run here (inside the image only): RUN {args}", flush=True)
        entry = exec_form(runtime.last("ENTRYPOINT") or "[]")
        if not entry or entry[0] != "rustllm-proxy":
            raise SystemExit(f"ENTRYPOINT should start rustllm-proxy: {entry}")
        check_command_line(runtime, [str(binary)])
    print("Dockerfile steps OK (base images and apt-get/useradd lines are image-only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
