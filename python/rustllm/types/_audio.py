"""The response object of ``speech``: the audio bytes, with the methods of the openai
SDK's ``HttpxBinaryResponseContent`` that LiteLLM returns (``content``, ``read``,
``iter_bytes``, ``write_to_file``, ``stream_to_file`` and their async forms)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any


class HttpxBinaryResponseContent:
    """The audio a ``speech()`` call returned: ``content`` (bytes), ``headers``
    (``content-type`` among them), ``stream_to_file(path)`` / ``write_to_file(path)``
    and ``iter_bytes(chunk_size)`` as on the openai SDK's object of that name, and
    ``_hidden_params`` (``response_cost`` among them)."""

    def __init__(
        self, content: bytes, content_type: str = "audio/mpeg", hidden_params: dict[str, Any] | None = None
    ) -> None:
        self.content = content
        self.headers = {"content-type": content_type}
        self._hidden_params: dict[str, Any] = hidden_params if hidden_params else {}
        self._response_ms: float | None = None

    def __repr__(self) -> str:
        return f"HttpxBinaryResponseContent(content_type={self.headers['content-type']!r}, {len(self.content)} bytes)"

    @property
    def text(self) -> str:
        """The content decoded as UTF-8 (for text formats)."""
        return self.content.decode(self.encoding or "utf-8")

    @property
    def encoding(self) -> str | None:
        """The charset the content type names, if any."""
        for part in self.headers["content-type"].split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset":
                return value
        return None

    @property
    def charset_encoding(self) -> str | None:
        """The openai SDK's name for :attr:`encoding`."""
        return self.encoding

    def json(self, **kwargs: Any) -> Any:
        """The content parsed as JSON."""
        import json

        return json.loads(self.content, **kwargs)

    def read(self) -> bytes:
        """The audio bytes."""
        return self.content

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The audio in chunks of ``chunk_size`` bytes (one chunk without a size)."""
        size = chunk_size or len(self.content) or 1
        for i in range(0, len(self.content), size):
            yield self.content[i : i + size]

    iter_raw = iter_bytes

    def write_to_file(self, file: str | os.PathLike[str]) -> None:
        """Write the audio to ``file``."""
        with open(file, "wb") as f:
            f.write(self.content)

    def stream_to_file(self, file: str | os.PathLike[str], *, chunk_size: int | None = None) -> None:
        """Write the audio to ``file`` (LiteLLM's and the openai SDK's spelling)."""
        with open(file, "wb") as f:
            for chunk in self.iter_bytes(chunk_size):
                f.write(chunk)

    def close(self) -> None:
        """Nothing to release: the audio is already read."""

    async def aread(self) -> bytes:
        """The audio bytes."""
        return self.content

    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The async twin of :meth:`iter_bytes`."""
        for chunk in self.iter_bytes(chunk_size):
            yield chunk

    async def astream_to_file(self, file: str | os.PathLike[str], *, chunk_size: int | None = None) -> None:
        """The async twin of :meth:`stream_to_file`."""
        self.stream_to_file(file, chunk_size=chunk_size)

    async def aclose(self) -> None:
        """Nothing to release: the audio is already read."""

    @classmethod
    def _from_core(
        cls, body: dict[str, Any], hidden_params: dict[str, Any] | None = None, response_ms: float | None = None
    ) -> HttpxBinaryResponseContent:
        """Build from the reply the Rust core returns (the audio in base64)."""
        import base64

        o = cls(base64.b64decode(body["audio_base64"]), body.get("content_type") or "audio/mpeg", hidden_params)
        o._response_ms = response_ms
        return o
