"""Start ``rustllm proxy`` as a real process for the proxy tests, and always stop it.

``ProxyProcess(config_text)`` writes the config to a temporary file, runs
``python -m rustllm.cli proxy --config FILE --host 127.0.0.1 --port 0``, waits (with a
deadline) for the ``listening on http://...`` line on stderr and takes the port from it.
Leaving the ``with`` block sends SIGTERM and, past a deadline, SIGKILL: no proxy process
outlives its test.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

_LISTENING = re.compile(r"listening on http://([^\s]+)")

# What the proxy is started with: the venv's interpreter running the same entry point as
# the ``rustllm`` console script.
PROXY_CMD = [sys.executable, "-m", "rustllm.cli"]


def mock_deployment(name: str, server, model: str | None = None, **params) -> str:
    """A ``model_list`` entry (YAML) for an ``openai/`` model on the MockServer."""
    lines = [
        f"  - model_name: {name!r}",
        "    litellm_params:",
        f"      model: {(model or 'openai/' + name)!r}",
        f"      api_base: {server.base_url}",
        "      api_key: sk-upstream-secret",
    ]
    lines += [f"      {k}: {v!r}" for k, v in params.items()]
    return "\n".join(lines) + "\n"


class ProxyProcess:
    """A running proxy process (see the module docs)."""

    def __init__(
        self,
        config: str | None,
        *extra_args: str,
        host: str = "127.0.0.1",
        env: dict[str, str] | None = None,
        start_timeout: float = 15.0,
        wait_ready: bool = True,
    ) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="rustllm-proxy-")
        self.config_path = Path(self._dir.name) / "config.yaml"
        config_args: list[str] = []
        if config is not None:  # None: no --config (single-model mode: --model in extra_args)
            self.config_path.write_text(config)
            config_args = ["--config", str(self.config_path)]
        self.args = [
            *PROXY_CMD,
            "proxy",
            *config_args,
            "--host",
            host,
            "--port",
            "0",
            *extra_args,
        ]
        self.env = {**os.environ, **(env or {})}
        self.start_timeout = start_timeout
        self.wait_ready = wait_ready
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self._ready = threading.Event()
        self.url = ""

    def __enter__(self) -> ProxyProcess:
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True).start()
        if self.wait_ready:
            deadline = time.monotonic() + self.start_timeout
            while not self._ready.wait(0.05):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    output = self.output
                    self.__exit__()
                    raise RuntimeError(f"the proxy did not start:\n{output}")
        return self

    def _drain(self, pipe) -> None:
        for line in pipe:
            self.lines.append(line.rstrip("\n"))
            m = _LISTENING.search(line)
            if m and not self._ready.is_set():
                host_port = m.group(1)
                self.url = f"http://{host_port}"
                self._ready.set()

    @property
    def output(self) -> str:
        """Everything the process printed so far (stdout and stderr)."""
        return "\n".join(self.lines)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def signal(self, sig: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 10.0) -> int:
        """Wait for the process to exit (killing it past ``timeout``); its exit code."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise

    def __exit__(self, *exc: object) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self._dir.cleanup()


def run_proxy(config: str | None, *args: str, timeout: float = 15.0, env: dict[str, str] | None = None):
    """Run the proxy command to completion (for commands that exit: errors, --help,
    --validate_config); returns the CompletedProcess."""
    with tempfile.TemporaryDirectory(prefix="rustllm-proxy-") as d:
        argv = [*PROXY_CMD, "proxy"]
        if config is not None:
            path = Path(d) / "config.yaml"
            path.write_text(config)
            argv += ["--config", str(path)]
        return subprocess.run(
            [*argv, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
