"""A throwaway Postgres server for the proxy's database tests.

``PostgresServer()`` runs ``initdb`` into a temporary directory and starts ``postgres`` on a
free loopback port (its unix socket in the same directory, fsync off), and is stopped and
removed by the tests. ``new_database()`` gives each test its own empty database. Without
Postgres installed the tests skip locally but **fail under CI** (``CI`` set): ``.ci/run``
installs Debian's ``postgresql``. Postgres refuses to run as root, so as root the server
runs as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin_dir() -> str | None:
    if os.environ.get("RUSTLLM_PG_BIN"):
        return os.environ["RUSTLLM_PG_BIN"]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip()
        if os.path.exists(os.path.join(out, "initdb")):
            return out
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


class PostgresServer:
    """A postgres child process on a free loopback port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.dir = ""
        self.bin = ""
        self.proc: subprocess.Popen | None = None

    def _cmd(self, program: str, *args: str) -> list[str]:
        cmd = [os.path.join(self.bin, program), *args]
        if os.geteuid() == 0:
            cmd = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *cmd]
        return cmd

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        """The URL of ``database`` (trust auth: a password is accepted and ignored)."""
        auth = f"postgres:{password}" if password else "postgres"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        bin_dir = _bin_dir()
        if bin_dir is None:
            message = "Postgres is not installed (apt-get install -y postgresql)"
            if os.environ.get("CI"):
                pytest.fail(f"{message}: required in CI for the proxy's database tests", pytrace=False)
            pytest.skip(message)
        self.bin = bin_dir
        self.dir = tempfile.mkdtemp(prefix="rustllm-pg-")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        data = os.path.join(self.dir, "data")
        subprocess.run(
            self._cmd("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"),
            check=True,
            capture_output=True,
        )
        self.proc = subprocess.Popen(
            self._cmd("postgres", "-D", data, "-k", self.dir, "-p", str(self.port), "-h", "127.0.0.1", "-F"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.sql("SELECT 1", check=False).returncode == 0:
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"postgres did not start on port {self.port}")

    def sql(self, query: str, database: str = "postgres", check: bool = True) -> subprocess.CompletedProcess:
        """Run ``query`` with psql; its rows as ``|``-separated text in ``stdout``."""
        return subprocess.run(
            self._cmd(
                "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-At", "-c", query
            ),
            capture_output=True,
            text=True,
            check=check,
        )

    def new_database(self) -> str:
        """A new empty database; its name."""
        name = "t_" + uuid.uuid4().hex[:12]
        self.sql(f"CREATE DATABASE {name}")
        return name

    def dump(self, database: str) -> str:
        """Every row of ``database`` as SQL text (pg_dump --data-only)."""
        return subprocess.run(
            self._cmd("pg_dump", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "--data-only", database),
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def stop(self) -> None:
        if self.proc is not None:
            # SIGINT: Postgres' fast shutdown.
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
            self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = ""

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
