"""A loopback HTTP forward proxy that records what passes through it, for the proxy tests.

Plain-HTTP targets arrive in absolute form (``POST http://127.0.0.1:port/path``): the
proxy records the request, sends it on to the target over a fresh connection and relays
the reply (whose length the target states). HTTPS targets arrive as ``CONNECT host:port``:
the proxy records the CONNECT, answers 200 and pipes bytes both ways, so TLS runs end to end
between client and target. With ``credentials=("user", "pass")`` every request and CONNECT
must carry the matching ``Proxy-Authorization: Basic`` header, else the proxy answers 407.
Only loopback targets are served: anything else is answered 403 and never connected to.
"""

from __future__ import annotations

import base64
import socket
import threading
from dataclasses import dataclass


@dataclass
class Passed:
    """One request the proxy saw: ``CONNECT`` and ``host:port``, or a method and absolute URL."""

    method: str
    target: str
    headers: dict[str, str]


LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def _read_head(conn: socket.socket, buf: bytes) -> tuple[bytes, bytes] | None:
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            return None
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def _read_exactly(conn: socket.socket, buf: bytes, length: int) -> tuple[bytes, bytes] | None:
    while len(buf) < length:
        data = conn.recv(65536)
        if not data:
            return None
        buf += data
    return buf[:length], buf[length:]


def _parse(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return method, target, headers


def _host_port(authority: str) -> tuple[str, int]:
    host, _, port = authority.rpartition(":")
    return host, int(port)


class ForwardProxy:
    """Serve as an HTTP proxy on a free loopback port, in threads; ``passed`` records requests."""

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.passed: list[Passed] = []
        self.refused: list[Passed] = []  # requests answered 407
        self._expected_auth = (
            "Basic " + base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode() if credentials else None
        )
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.port = self._sock.getsockname()[1]
        self._open: list[socket.socket] = []
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def url(self, credentials: str = "") -> str:
        """The proxy's URL, with ``user:pass@`` in front of the host when given."""
        return f"http://{credentials + '@' if credentials else ''}127.0.0.1:{self.port}"

    def __enter__(self) -> ForwardProxy:
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
            open_now = list(self._open)
        for s in open_now:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _track(self, s: socket.socket) -> socket.socket:
        with self._lock:
            self._open.append(s)
        return s

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            if self._stop:
                conn.close()
                return
            threading.Thread(target=self._serve, args=(self._track(conn),), daemon=True).start()

    def _authorised(self, conn: socket.socket, seen: Passed) -> bool:
        if self._expected_auth is None or seen.headers.get("proxy-authorization") == self._expected_auth:
            return True
        with self._lock:
            self.refused.append(seen)
        body = b"proxy authentication required"
        conn.sendall(
            b'HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm="test"\r\n'
            + f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        return False

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while True:
                got = _read_head(conn, buf)
                if got is None:
                    return
                head, buf = got
                method, target, headers = _parse(head)
                seen = Passed(method, target, headers)
                if method == "CONNECT":
                    if not self._authorised(conn, seen):
                        continue
                    host, port = _host_port(target)
                    if host not in LOOPBACK:
                        conn.sendall(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
                        return
                    with self._lock:
                        self.passed.append(seen)
                    upstream = self._track(socket.create_connection((host, port), timeout=10))
                    conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    if buf:
                        upstream.sendall(buf)
                    self._pipe(conn, upstream)
                    return
                length = int(headers.get("content-length", "0") or 0)
                got = _read_exactly(conn, buf, length)
                if got is None:
                    return
                body, buf = got
                if not self._authorised(conn, seen):
                    continue
                with self._lock:
                    self.passed.append(seen)
                conn.sendall(self._forward(method, target, headers, body))
        except OSError:
            return
        finally:
            conn.close()

    def _forward(self, method: str, url: str, headers: dict[str, str], body: bytes) -> bytes:
        """Send one absolute-form request on to its (loopback) target; its whole reply."""
        rest = url.split("://", 1)[1]
        authority, _, path = rest.partition("/")
        host, port = _host_port(authority)
        if host not in LOOPBACK:
            return b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n"
        lines = [f"{method} /{path} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in headers.items() if not k.startswith("proxy-") and k != "connection"]
        lines.append("connection: close")
        with socket.create_connection((host, port), timeout=10) as upstream:
            upstream.sendall("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body)
            got = _read_head(upstream, b"")
            if got is None:
                return b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n"
            head, rest_bytes = got
            _, _, reply_headers = _parse(head + b"\r\n")
            length = int(reply_headers.get("content-length", "0") or 0)
            got = _read_exactly(upstream, rest_bytes, length)
            if got is None:
                return b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n"
            return head + b"\r\n\r\n" + got[0]

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        def copy(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        other = threading.Thread(target=copy, args=(b, a), daemon=True)
        other.start()
        copy(a, b)
        other.join(timeout=10)
        b.close()
