"""A throwaway ``redis-server`` for the shared-state and cache tests.

Each server runs on a free loopback port with persistence off and is stopped by the
tests. Without ``redis-server`` the tests skip locally but **fail under CI** (``CI`` set):
the Redis behaviour must never go untested there silently. ``RedisServer(tls=ServerTls(...))``
serves TLS only (no plaintext port), optionally requiring client certificates.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _encode(*args: Any) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        data = a if isinstance(a, bytes) else str(a).encode()
        out.append(f"${len(data)}\r\n".encode() + data + b"\r\n")
    return b"".join(out)


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.file = sock.makefile("rb")

    def read(self) -> Any:
        line = self.file.readline().rstrip(b"\r\n")
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.file.read(n + 2)[:-2]
            return data.decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError(f"unexpected reply {line!r}")


@dataclass
class ServerTls:
    """PEM files of a TLS redis-server: its certificate and key, the CA it trusts for
    client certificates, and the client certificate this helper presents itself."""

    cert: str
    key: str
    ca: str
    client_cert: str | None = None
    client_key: str | None = None
    auth_clients: bool = False

    def args(self, port: int) -> list[str]:
        return [
            "--port",
            "0",
            "--tls-port",
            str(port),
            "--tls-cert-file",
            self.cert,
            "--tls-key-file",
            self.key,
            "--tls-ca-cert-file",
            self.ca,
            "--tls-auth-clients",
            "yes" if self.auth_clients else "no",
        ]

    def wrap(self, sock: socket.socket) -> socket.socket:
        context = ssl.create_default_context(cafile=self.ca)
        context.check_hostname = False  # some tests serve a certificate for another name
        if self.client_cert:
            context.load_cert_chain(self.client_cert, self.client_key)
        return context.wrap_socket(sock, server_hostname="127.0.0.1")


class RedisServer:
    """A redis-server child process on a free loopback port."""

    def __init__(self, tls: ServerTls | None = None) -> None:
        self.port = _free_port()
        self.tls = tls
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            message = "redis-server is not installed (apt-get install -y redis-server)"
            if os.environ.get("CI"):
                pytest.fail(f"{message}: required in CI for the Router's Redis tests", pytrace=False)
            pytest.skip(message)
        listen = self.tls.args(self.port) if self.tls else ["--port", str(self.port)]
        self.proc = subprocess.Popen(
            [binary, *listen, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.command("PING") == "PONG":
                    return self
            except OSError:  # ssl.SSLError included
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def command(self, *args: Any) -> Any:
        """One command over a fresh connection (RESP by hand: no client library needed)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as plain:
            if self.tls is None:
                plain.sendall(_encode(*args))
                return _Reader(plain).read()
            with self.tls.wrap(plain) as sock:
                sock.sendall(_encode(*args))
                return _Reader(sock).read()

    def flush(self) -> None:
        self.command("FLUSHALL")

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
