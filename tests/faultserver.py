"""A loopback HTTP/1.1 server that misbehaves on purpose, for the reliability tests.

Each request is answered by a script: raw bytes written as they are (a wrong shape, HTML
with status 200, a redirect, a reply cut off mid-body), or ``HANG``: read the request and
never answer, so a test can watch the client give up. Everything the server saw is
recorded: each request (method, path, lower-cased headers, body) and, per connection,
when it opened and when the client closed it.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Callable, Union

# Read the request, then never answer (until the client goes away).
HANG = object()


class Cut(bytes):
    """Bytes to send before closing the connection (a reply cut off mid-way)."""


class Hang(bytes):
    """Bytes to send before going silent (a stream that stalls after its first events)."""


@dataclass
class Received:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int

    def json(self):
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class Connection:
    """One client connection: when it opened, when the client closed it (or None)."""

    opened: float
    closed: float | None = None


Reply = Union[bytes, object]
Script = Callable[[Received], Reply]


def http(status: int, body: bytes | str | dict = b"", headers: dict[str, str] | None = None) -> bytes:
    """A whole HTTP/1.1 response: status line, headers, body (a dict is sent as JSON)."""
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        headers = {"content-type": "application/json", **(headers or {})}
    elif isinstance(body, str):
        body = body.encode()
    head = f"HTTP/1.1 {status} X\r\ncontent-length: {len(body)}\r\n"
    for k, v in (headers or {}).items():
        head += f"{k}: {v}\r\n"
    return head.encode() + b"\r\n" + body


def sse(events: list[str | dict], status: int = 200) -> bytes:
    """A complete SSE response whose events are the given data payloads."""
    out = b""
    for e in events:
        data = json.dumps(e) if isinstance(e, dict) else e
        out += f"data: {data}\n\n".encode()
    head = f"HTTP/1.1 {status} OK\r\ncontent-type: text/event-stream\r\ncontent-length: {len(out)}\r\n\r\n"
    return head.encode() + out


class FaultServer:
    """Serve ``script(request) -> reply`` on a free loopback port, in threads."""

    def __init__(self, script: Script, tls: ssl.SSLContext | None = None) -> None:
        self.script = script
        # Serve HTTPS: each accepted connection is wrapped (the handshake runs in its thread).
        self.tls = tls
        self.requests: list[Received] = []
        self.connections: list[Connection] = []
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(512)
        self.port = self._sock.getsockname()[1]
        self.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        # Every accepted socket and its thread, so that leaving the ``with`` block ends them
        # all: a keep-alive connection left open would hold a thread and two descriptors for
        # the rest of the run (hundreds of servers per run ran CI out of threads).
        self._open: list[socket.socket] = []
        self._workers: list[threading.Thread] = []

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            pass
        self._sock.close()
        self._thread.join(timeout=5)
        with self._lock:
            open_now, workers = list(self._open), list(self._workers)
        for conn in open_now:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for worker in workers:
            worker.join(timeout=2)

    def open_connections(self) -> int:
        """Connections the client has not closed yet."""
        with self._lock:
            return sum(1 for c in self.connections if c.closed is None)

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll ``predicate`` until it holds or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.01)
        return predicate()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            if self._stop:
                conn.close()
                return
            with self._lock:
                record = Connection(opened=time.monotonic())
                self.connections.append(record)
                args = (conn, record, len(self.connections) - 1)
                worker = threading.Thread(target=self._serve, args=args, daemon=True)
                self._open.append(conn)
                self._workers.append(worker)
            worker.start()

    def _serve(self, conn: socket.socket, record: Connection, index: int) -> None:
        buf = b""
        try:
            if self.tls is not None:
                plain = conn
                conn = self.tls.wrap_socket(conn, server_side=True)
                with self._lock:  # the TLS socket now owns the descriptor
                    self._open[self._open.index(plain)] = conn
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length", "0") or 0)
                while len(buf) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                body, buf = buf[:length], buf[length:]
                req = Received(method, path, headers, body, index)
                with self._lock:
                    self.requests.append(req)
                reply = self.script(req)
                if reply is HANG or isinstance(reply, Hang):
                    if isinstance(reply, Hang):
                        conn.sendall(reply)
                    # Wait for the client to hang up; anything it sends is ignored.
                    while conn.recv(65536):
                        pass
                    return
                assert isinstance(reply, bytes)
                conn.sendall(reply)
                if isinstance(reply, Cut):
                    return
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                record.closed = time.monotonic()
            conn.close()
