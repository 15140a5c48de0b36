"""Files for uploads (``transcription``, ``image_edit``, ``create_file``) as the Rust core
takes them: ``{"path", "filename"}``, streamed from disk as the request is sent.

A path, or a file opened from one (``open("a.mp3", "rb")``), is sent from where it lies:
nothing is read into memory. Bytes, a ``(filename, bytes)`` tuple or an in-memory file
(``io.BytesIO``) are written once to a private temporary file, removed when the call
ends, so the core has one way to send every upload and never holds a second copy.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from typing import Any


class _Spool:
    """The temporary files of one call, removed on exit."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def write(self, data: bytes | bytearray | memoryview, filename: str) -> str:
        suffix = os.path.splitext(filename)[1][:16]
        fd, path = tempfile.mkstemp(prefix="rustllm-upload-", suffix=suffix)
        self.paths.append(path)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return path

    def close(self) -> None:
        for path in self.paths:
            with contextlib.suppress(OSError):
                os.remove(path)
        self.paths.clear()


def _bad(message: str, params: dict[str, Any]) -> Exception:
    from rustllm.exceptions import BadRequestError

    return BadRequestError(
        message=f"litellm.BadRequestError: {message}",
        model=params.get("model"),
        llm_provider=params.get("custom_llm_provider") or "",
    )


def _describe(file: Any, what: str, params: dict[str, Any], spool: _Spool) -> dict[str, Any]:
    if isinstance(file, (str, os.PathLike)):
        path = os.fspath(file)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        return {"path": os.path.abspath(path), "filename": os.path.basename(path)}
    if isinstance(file, (bytes, bytearray, memoryview)):
        return {"path": spool.write(file, "upload"), "filename": "upload"}
    if isinstance(file, tuple) and 2 <= len(file) <= 4:
        name = file[0]
        if name is not None and not isinstance(name, str):
            raise _bad(f"{what}: a tuple's first item is the file name (a string), got {type(name).__name__}", params)
        inner = _describe(file[1], what, params, spool)
        inner["filename"] = name or inner["filename"]
        if len(file) >= 3 and isinstance(file[2], str):
            inner["content_type"] = file[2]
        return inner
    read = getattr(file, "read", None)
    if callable(read):
        name = getattr(file, "name", None)
        filename = os.path.basename(name) if isinstance(name, str) else "upload"
        if _on_disk_from_start(file, name):
            return {"path": os.path.abspath(name), "filename": filename}
        data = read()
        if isinstance(data, str):
            raise _bad(f"{what}: open the file in binary mode ('rb'), not text mode", params)
        return {"path": spool.write(data, filename), "filename": filename}
    raise _bad(
        f"{what} must be a file: an open file, a path, bytes or a (filename, bytes) tuple; got {type(file).__name__}",
        params,
    )


def _on_disk_from_start(file: Any, name: Any) -> bool:
    """Whether a file object is a binary file on disk read from its start (so the core
    can stream it from its path)."""
    if not isinstance(name, str) or isinstance(file, io.TextIOBase) or not os.path.isfile(name):
        return False
    try:
        return file.tell() == 0 and os.fstat(file.fileno()).st_ino == os.stat(name).st_ino
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return False


@contextlib.contextmanager
def uploads(params: dict[str, Any], *names: str) -> Iterator[dict[str, Any]]:
    """``params`` with each named file argument (or list of them) described for the core;
    temporary copies are removed when the block ends. A missing argument is left for the
    core to refuse; an argument that is no file raises ``BadRequestError``."""
    spool = _Spool()
    try:
        out = dict(params)
        for name in names:
            value = params.get(name)
            if value is None:
                continue
            if isinstance(value, list):
                out[name] = [_describe(v, name, params, spool) for v in value]
            else:
                out[name] = _describe(value, name, params, spool)
        yield out
    finally:
        spool.close()
