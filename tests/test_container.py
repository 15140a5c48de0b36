"""The container image's contract, without a Docker engine: the Dockerfile parses into a
build stage that compiles the plain-Rust ``rustllm-proxy`` from what .dockerignore lets in,
and a runtime stage whose ENTRYPOINT/CMD/ENV/WORKDIR start a proxy that takes LiteLLM's
``docker run`` arguments (the tutorial's ``--config /app/config.yaml --detailed_debug``),
listens on 0.0.0.0 and serves; an open config is refused there. The command-line checks
run the dev build's ``rustllm proxy`` (same argument parser and server as the binary);
``make docker-check`` runs the real build steps and the release binary.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import check_dockerfile as dockerfile  # noqa: E402
from _proxy import PROXY_CMD  # noqa: E402

STAGES = dockerfile.parse((REPO / "Dockerfile").read_text())


def test_the_build_stage_compiles_the_proxy_binary_from_the_context():
    build = next(s for s in STAGES if s.name == "build")
    assert build.base.startswith("rust:")
    # The image's Rust is at least the crate's rust-version.
    wanted = re.search(r'rust-version = "([\d.]+)"', (REPO / "Cargo.toml").read_text()).group(1)
    have = re.match(r"rust:([\d.]+)", build.base).group(1)
    assert tuple(map(int, have.split("."))) >= tuple(map(int, wanted.split(".")))
    for args in build.all("COPY"):
        _, sources, _ = dockerfile.copy_parts(args)
        for src in sources:
            assert (REPO / src).exists(), src
            assert dockerfile.dockerignore_allows(src.rstrip("/")), f"{src} is excluded by .dockerignore"
    assert not dockerfile.dockerignore_allows("target")
    assert not dockerfile.dockerignore_allows(".venv")
    (run,) = build.all("RUN")
    assert "--bin rustllm-proxy" in run and "--locked" in run
    assert re.search(r'\[\[bin\]\][^\[]*name = "rustllm-proxy"', (REPO / "Cargo.toml").read_text())


def test_the_runtime_stage_runs_the_binary_unprivileged_on_port_4000():
    runtime = STAGES[-1]
    assert runtime.base.startswith("debian:") and "slim" in runtime.base
    (copy,) = [a for a in runtime.all("COPY") if a.startswith("--from=build")]
    _, sources, dest = dockerfile.copy_parts(copy)
    assert sources == ["/src/target/release/rustllm-proxy"] and dest == "/usr/local/bin/rustllm-proxy"
    assert dockerfile.exec_form(runtime.last("ENTRYPOINT")) == ["rustllm-proxy"]
    assert dockerfile.exec_form(runtime.last("CMD")) == ["--config", "/app/config.yaml"]
    assert dockerfile.env_of(runtime) == {"HOST": "0.0.0.0", "PORT": "4000"}
    assert runtime.last("EXPOSE") == "4000"
    assert runtime.last("USER") == "rustllm" and runtime.last("WORKDIR") == "/app"
    assert "ca-certificates" in runtime.all("RUN")[0]


@pytest.mark.parametrize("docker_args", [dockerfile.TUTORIAL_ARGS, None], ids=["tutorial-args", "cmd"])
def test_the_container_command_line_serves_on_every_interface(tmp_path, docker_args):
    (tmp_path / "config.yaml").write_text((REPO / "examples" / "proxy" / "config.yaml").read_text())
    argv, env, cwd = dockerfile.container_command(STAGES[-1], [*PROXY_CMD, "proxy"], docker_args, tmp_path)
    assert argv[len(PROXY_CMD) + 1 :][:2] == ["--config", f"{tmp_path}/config.yaml"]
    proc, url, lines = dockerfile.start(argv, env, cwd, dockerfile.free_port())
    try:
        assert any("listening on http://0.0.0.0:" in line for line in lines), lines
        assert dockerfile.call(url, "/health/readiness")[0] == 200
        status, reply = dockerfile.call(
            url, "/chat/completions", {"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}
        )
        assert status == 200
        assert reply["choices"][0]["message"]["content"].startswith("Hello from rustllm's proxy")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    if docker_args is not None:  # --detailed_debug reached the proxy: requests are logged
        assert proc.stdout is not None
        rest = proc.stdout.read()
        assert "POST /chat/completions -> 200" in "".join(lines) + rest


def test_an_open_config_is_refused_on_the_images_address(tmp_path):
    (tmp_path / "config.yaml").write_text("model_list:\n  - model_name: m\n    litellm_params: {model: openai/m}\n")
    argv, env, cwd = dockerfile.container_command(STAGES[-1], [*PROXY_CMD, "proxy"], dockerfile.TUTORIAL_ARGS, tmp_path)
    out = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "refusing to listen on 0.0.0.0 without a master key" in out.stderr
    assert "--allow-unauthenticated" in out.stderr


def test_the_compose_example_config_loads():
    compose = (REPO / "examples" / "proxy" / "docker-compose.yml").read_text()
    assert "build: ../.." in compose and "/app/config.yaml" in compose
    env = {
        "LITELLM_MASTER_KEY": "sk-1234",
        "DATABASE_URL": "postgresql://rustllm:pw@127.0.0.1:5432/rustllm",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "6379",
    }
    out = subprocess.run(
        [*PROXY_CMD, "proxy", "--config", str(REPO / "examples/proxy/config.compose.yaml"), "--validate_config"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **env},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "config OK (2 models)"
