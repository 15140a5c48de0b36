"""Test doubles for code that calls LLM APIs.

:class:`MockServer` is an in-process HTTP server (written in Rust, running on rustllm's
own threads) that speaks the OpenAI chat-completions, completions and embeddings
formats. Point any OpenAI-compatible client at ``server.base_url``: no network, no keys,
deterministic answers, and every request recorded for your assertions::

    import rustllm
    from rustllm.testing import MockServer

    with MockServer() as server:
        response = rustllm.completion(
            model="openai/gpt-4o-mini",
            messages=[{"role": "user", "content": "hi"}],
            api_base=server.base_url,
            api_key="sk-test",
        )
        assert response.choices[0].message.content == "Hello from MockServer!"
        assert server.last_request.body["model"] == "gpt-4o-mini"

The server listens on ``127.0.0.1`` only, on a free port chosen at start.

How each request is answered, first match wins:

1. **Scripts**, queued with :meth:`MockServer.respond` / :meth:`MockServer.fail_next` and
   served first-in first-out. A script decides the status, body, error, delay, stream
   shape or a dropped connection; what it leaves unset (e.g. the reply text) still
   follows the model name, except the model name's error directives.
2. **Directives in the model name** (anywhere in it, so ``openai/error-429`` works, and
   they combine: ``echo-slow-50``):

   - ``echo``: the reply is the last user message's text (text parts joined by newlines).
   - ``error-<status>`` (400-599), e.g. ``error-429``, ``error-500``, ``error-401``: that
     status with an OpenAI error body, message ``"Mock error <status>"``.
   - ``context-window-error``: 400, code ``context_length_exceeded``.
   - ``content-policy-error``: 400, code ``content_policy_violation``.
   - ``slow-<ms>``: wait that many milliseconds before answering.
   - ``tool``: when the request has ``tools``, call the first one.
   - ``chunks-<N>``: stream the reply in N content chunks.

   Independently of the name, ``tool_choice="required"`` calls the tools (each once when
   there are several, unless ``parallel_tool_calls=False``), a named ``tool_choice``
   calls that tool, and ``tool_choice="none"`` never calls one. Tool arguments fill the
   JSON schema with placeholders: strings ``"example"`` (or the first ``enum`` value),
   numbers ``1``, booleans ``true``, arrays ``[]``, objects recursively.
3. **Server defaults**: :attr:`MockServer.default_text` (``"Hello from MockServer!"``)
   and :attr:`MockServer.latency`.

What the answers look like:

- Chat: ``id`` ``chatcmpl-mock-<n>``, ``n`` choices, ``finish_reason`` ``stop`` (or
  ``length`` when ``max_tokens`` / ``max_completion_tokens`` cut the reply to that many
  words, or ``tool_calls``). Tokens are counted as whitespace-separated words, so usage
  is predictable: ``prompt_tokens`` counts the words of all messages,
  ``completion_tokens`` the reply's words times ``n``.
- ``"stream": true``: server-sent events as OpenAI sends them: a role chunk, content
  chunks (one per word by default), tool-call fragments, a finish chunk, a usage chunk
  when ``stream_options={"include_usage": True}``, then ``data: [DONE]``.
- Embeddings: one vector per input, ``dimensions`` long (default 8), derived from a hash
  of the text (same text, same vector); ``encoding_format="base64"`` gives little-endian
  float32 in base64.
- ``POST .../completions`` (legacy text completion) and ``GET .../models`` are served
  too; other paths get a 404 and bodies that are not JSON a 400, with OpenAI error bodies.

Other wire formats, decided the same way (scripts, model-name directives, defaults) and
answered in the provider's own shape:

- Anthropic Messages, ``POST /v1/messages`` (``api_base=server.url``): ``message``
  replies, named SSE events (``message_start`` ... ``message_stop``), and errors as
  ``{"type": "error", "error": {"type": "rate_limit_error", "message": ...}}``. Words in
  blocks marked ``cache_control`` are reported as ``cache_read_input_tokens``.
- Cohere v2 chat, ``POST /v2/chat`` (``api_base=server.url``): v2 replies, named SSE
  events (``content-delta``, ``tool-call-start`` ... ``message-end``), errors as
  ``{"message": ...}``.
- Azure OpenAI deployment URLs (``/openai/deployments/<name>/chat/completions``) are
  OpenAI routes (``api_base=server.url``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Union

from rustllm import _core

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["MockServer", "RecordedRequest"]

Headers = Union[Mapping[str, str], Iterable[tuple[str, str]]]


class RecordedRequest:
    """One request the server received.

    Attributes: ``method`` (``"POST"``), ``path`` (``"/v1/chat/completions"``), ``query``
    (raw query string, ``""`` if none), ``headers`` (dict with lower-case names) and
    ``body`` (the parsed JSON, or the raw text when it was not JSON, or ``None`` when
    empty). Also subscriptable: ``request["body"]``.
    """

    __slots__ = ("body", "headers", "method", "path", "query")

    def __init__(self, method: str, path: str, query: str, headers: dict[str, str], body: Any) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body

    def __getitem__(self, key: str) -> Any:
        if key not in self.__slots__:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        """``request[key]``, or ``default`` for an unknown key."""
        return getattr(self, key) if key in self.__slots__ else default

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecordedRequest):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __repr__(self) -> str:
        return f"RecordedRequest(method={self.method!r}, path={self.path!r}, body={self.body!r})"


def _header_pairs(headers: Headers | None) -> list[tuple[str, str]] | None:
    if headers is None:
        return None
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(k), str(v)) for k, v in items]


class MockServer:
    """An in-process mock of the OpenAI API for tests (see the module docs).

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with MockServer(text="Hi!", latency=0.01) as server:
            ...

        server = MockServer().start()
        ...
        server.stop()

    ``text`` sets :attr:`default_text`, ``latency`` (seconds) :attr:`latency` and
    ``record`` :attr:`recording`.
    """

    def __init__(self, text: str | None = None, latency: float = 0.0, record: bool = True) -> None:
        self._server = _core.MockServer(text=text, latency=latency, record=record)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> MockServer:
        """Start listening on a free ``127.0.0.1`` port; returns ``self``.

        Does nothing if already running. After :meth:`stop`, starts again on a new port,
        keeping recorded requests, queued scripts and settings.
        """
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop listening and close open connections. Safe to call twice.

        Afterwards connecting to the old port is refused. Also happens when the object is
        garbage-collected.
        """
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._server.running

    def _require_port(self) -> int:
        port = self._server.port
        if port == 0:
            raise RuntimeError("MockServer is not started: call start() or use `with MockServer()`")
        return port

    @property
    def port(self) -> int:
        """The port it listens on (or last listened on)."""
        return self._require_port()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        self._require_port()
        return self._server.url

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: pass it as ``api_base`` / ``base_url``."""
        self._require_port()
        return self._server.base_url

    # -- settings ----------------------------------------------------------------------

    @property
    def default_text(self) -> str:
        """The reply when no script, ``echo`` or tool call decides it."""
        return self._server.default_text

    @default_text.setter
    def default_text(self, text: str) -> None:
        self._server.default_text = text

    @property
    def latency(self) -> float:
        """Seconds to wait before every answer, unless a script's ``delay`` or a
        ``slow-<ms>`` model says otherwise."""
        return self._server.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._server.latency = seconds

    @property
    def recording(self) -> bool:
        """Whether requests are kept for :attr:`requests` (default ``True``). Turn it off
        for long benchmarks, where every kept request would stay in memory;
        :attr:`request_count` still counts."""
        return self._server.recording

    @recording.setter
    def recording(self, on: bool) -> None:
        self._server.recording = on

    # -- scripts -----------------------------------------------------------------------

    def respond(
        self,
        text: str | None = None,
        status: int = 200,
        body: Any = None,
        headers: Headers | None = None,
        delay: float = 0.0,
        times: int = 1,
        error: str | None = None,
        disconnect: bool = False,
        stream_chunks: int | None = None,
        chunk_delay: float = 0.0,
        break_after: int | None = None,
    ) -> None:
        """Queue how the next request(s) are answered. Scripts are served in order.

        - ``text``: the reply content of a normal completion (beats ``echo`` and tools).
        - ``status``: the HTTP status. With ``status >= 400`` and no ``body``, an OpenAI
          error body is built with message ``error`` (default ``"Mock error <status>"``).
        - ``body``: sent verbatim: a dict/list as JSON, a str as raw ``text/plain``
          (e.g. an HTML error page from a proxy).
        - ``headers``: extra response headers, e.g. ``{"Retry-After": "1"}``.
        - ``delay``: seconds to wait before answering (0 keeps the server latency).
        - ``times``: how many requests this script serves; ``0`` means every request
          until :meth:`reset`.
        - ``error``: error message; implies ``status=500`` if ``status`` is below 400.
        - ``disconnect``: close the connection without answering, so the client sees a
          connection error.
        - ``stream_chunks``: for ``stream=True`` requests, the number of content chunks.
        - ``chunk_delay``: seconds between stream chunks.
        - ``break_after``: send that many stream events (the first, role-only chunk
          counts), then drop the connection without ``[DONE]``.
        """
        if error is not None and status < 400:
            status = 500
        self._server.push(
            status=status,
            body=body,
            text=text,
            headers=_header_pairs(headers),
            delay=delay,
            error=error,
            disconnect=disconnect,
            times=times,
            stream_chunks=stream_chunks,
            chunk_delay=chunk_delay,
            break_after=break_after,
        )

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        message: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        """Make the next ``n`` requests fail with ``status`` and an OpenAI error body.

        ``message`` defaults to ``"Mock error <status>"``. Handy for retries::

            server.fail_next(2, status=429, headers={"Retry-After": "0"})
        """
        if n < 1:
            return
        if status < 400:
            raise ValueError(f"fail_next needs an error status (>= 400), got {status}")
        self.respond(
            status=status,
            error=message if message is not None else f"Mock error {status}",
            headers=headers,
            times=n,
        )

    # -- inspection --------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, oldest first (a fresh list on each access)."""
        return [RecordedRequest(**r) for r in self._server.requests()]

    @property
    def last_request(self) -> RecordedRequest | None:
        """The most recent request, or ``None``."""
        r = self._server.last_request()
        return None if r is None else RecordedRequest(**r)

    @property
    def request_count(self) -> int:
        """How many requests were received since the last :meth:`reset`, recorded or not
        (cheaper than ``len(server.requests)``)."""
        return self._server.request_count()

    def reset(self) -> None:
        """Forget recorded requests and queued scripts; settings and the port stay."""
        self._server.clear()

    def __repr__(self) -> str:
        return repr(self._server)
