"""The Files and Batches APIs with LiteLLM's signatures (``create_file``,
``file_retrieve``, ``file_content``, ``file_delete``, ``file_list``, ``create_batch``,
``retrieve_batch``, ``list_batches``, ``cancel_batch`` and their async forms), for
OpenAI and Azure. The requests run in Rust (``_core.files_call``, ``crate::files``) with
the call path's retries and mapped exceptions; callbacks see each as its call type."""

from __future__ import annotations

import sys
from typing import Any, Callable

from rustllm import _core
from rustllm._upload import uploads
from rustllm.types._audio import HttpxBinaryResponseContent
from rustllm.types._files import Batch, BatchList, FileDeleted, FileList, FileObject

_RESULTS: dict[str, Callable[..., Any]] = {
    "create_file": FileObject._from_core,
    "file_retrieve": FileObject._from_core,
    "file_delete": FileDeleted._from_core,
    "file_list": FileList._from_core,
    "file_content": HttpxBinaryResponseContent._from_core,
    "create_batch": Batch._from_core,
    "retrieve_batch": Batch._from_core,
    "cancel_batch": Batch._from_core,
    "list_batches": BatchList._from_core,
}


def _rustllm() -> Any:
    return sys.modules["rustllm"]


def _params(local_vars: dict[str, Any]) -> dict[str, Any]:
    r = _rustllm()
    params = r._collect(local_vars)
    r._apply_settings(params)
    if params.get("timeout") is not None:
        params["timeout"] = r._timeout_seconds(params["timeout"])
    return params


def _sync(op: str, params: dict[str, Any]) -> Any:
    def core(params: dict[str, Any]) -> Any:
        with uploads(params, "file") as sent:
            try:
                body, hidden, ms = _core.files_call(op, sent)
            except _core.RustLLMError as err:
                _rustllm()._raise(err, params)
        return _RESULTS[op](body, hidden, ms)

    if _rustllm()._observed(params):
        from rustllm import _hooks

        return _hooks.call(op, params, core)
    return core(params)


async def _async(op: str, params: dict[str, Any]) -> Any:
    r = _rustllm()

    async def core(params: dict[str, Any]) -> Any:
        with uploads(params, "file") as sent:
            try:
                body, hidden, ms = await r._submit(lambda *a: _core.afiles_call_submit(op, *a), sent)
            except _core.RustLLMError as err:
                r._raise(err, params)
        return _RESULTS[op](body, hidden, ms)

    if r._observed(params):
        from rustllm import _hooks

        return await _hooks.acall("a" + op, params, core)
    return await core(params)


def create_file(
    file: Any,
    purpose: str,
    custom_llm_provider: str = "openai",
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> FileObject:
    """Upload ``file`` (an open binary file, a path, bytes or a ``(filename, bytes)``
    tuple; a path or file on disk is streamed from it) for ``purpose`` (assistants,
    batch, fine-tune, vision, user_data, evals): OpenAI's ``POST {api_base}/files`` or
    Azure's ``{api_base}/openai/files``. Returns the :class:`FileObject`."""
    return _sync("create_file", _params(locals()))


async def acreate_file(
    file: Any,
    purpose: str,
    custom_llm_provider: str = "openai",
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> FileObject:
    """The async twin of :func:`create_file`."""
    return await _async("create_file", _params(locals()))


def file_retrieve(
    file_id: str,
    custom_llm_provider: str = "openai",
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> FileObject:
    """The :class:`FileObject` of ``file_id`` (``GET {api_base}/files/{file_id}``)."""
    return _sync("file_retrieve", _params(locals()))


async def afile_retrieve(
    file_id: str,
    custom_llm_provider: str = "openai",
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> FileObject:
    """The async twin of :func:`file_retrieve`."""
    return await _async("file_retrieve", _params(locals()))


def file_content(
    file_id: str,
    custom_llm_provider: str = "openai",
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> HttpxBinaryResponseContent:
    """The bytes of ``file_id`` (``GET {api_base}/files/{file_id}/content``), as
    :class:`HttpxBinaryResponseContent` (``content``, ``text``, ``write_to_file``)."""
    return _sync("file_content", _params(locals()))


async def afile_content(
    file_id: str,
    custom_llm_provider: str = "openai",
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> HttpxBinaryResponseContent:
    """The async twin of :func:`file_content`."""
    return await _async("file_content", _params(locals()))


def file_delete(
    file_id: str,
    custom_llm_provider: str = "openai",
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> FileDeleted:
    """Delete ``file_id`` (``DELETE {api_base}/files/{file_id}``): :class:`FileDeleted`."""
    return _sync("file_delete", _params(locals()))


async def afile_delete(
    file_id: str,
    custom_llm_provider: str = "openai",
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> FileDeleted:
    """The async twin of :func:`file_delete`."""
    return await _async("file_delete", _params(locals()))


def file_list(
    custom_llm_provider: str = "openai",
    purpose: str | None = None,
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> FileList:
    """The uploaded files (``GET {api_base}/files``, ``?purpose=`` when given), as a page
    whose ``data`` holds :class:`FileObject` s (iterating it yields them)."""
    return _sync("file_list", _params(locals()))


async def afile_list(
    custom_llm_provider: str = "openai",
    purpose: str | None = None,
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> FileList:
    """The async twin of :func:`file_list`."""
    return await _async("file_list", _params(locals()))


def create_batch(
    completion_window: str,
    endpoint: str,
    input_file_id: str,
    custom_llm_provider: str = "openai",
    metadata: dict[str, str] | None = None,
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Batch:
    """Start a batch over the uploaded JSONL ``input_file_id`` (``POST
    {api_base}/batches``): ``endpoint`` one of /v1/chat/completions, /v1/embeddings,
    /v1/completions, /v1/responses, /v1/moderations; ``completion_window`` "24h".
    Returns the :class:`Batch`."""
    return _sync("create_batch", _params(locals()))


async def acreate_batch(
    completion_window: str,
    endpoint: str,
    input_file_id: str,
    custom_llm_provider: str = "openai",
    metadata: dict[str, str] | None = None,
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Batch:
    """The async twin of :func:`create_batch`."""
    return await _async("create_batch", _params(locals()))


def retrieve_batch(
    batch_id: str,
    custom_llm_provider: str = "openai",
    metadata: dict[str, str] | None = None,
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Batch:
    """The :class:`Batch` ``batch_id`` (``GET {api_base}/batches/{batch_id}``)."""
    return _sync("retrieve_batch", _params(locals()))


async def aretrieve_batch(
    batch_id: str,
    custom_llm_provider: str = "openai",
    metadata: dict[str, str] | None = None,
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Batch:
    """The async twin of :func:`retrieve_batch`."""
    return await _async("retrieve_batch", _params(locals()))


def list_batches(
    after: str | None = None,
    limit: int | None = None,
    custom_llm_provider: str = "openai",
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> BatchList:
    """The batches (``GET {api_base}/batches``, ``after`` and ``limit`` as given), as a
    page whose ``data`` holds :class:`Batch` es."""
    return _sync("list_batches", _params(locals()))


async def alist_batches(
    after: str | None = None,
    limit: int | None = None,
    custom_llm_provider: str = "openai",
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> BatchList:
    """The async twin of :func:`list_batches`."""
    return await _async("list_batches", _params(locals()))


def cancel_batch(
    batch_id: str,
    custom_llm_provider: str = "openai",
    metadata: dict[str, str] | None = None,
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Batch:
    """Cancel ``batch_id`` (``POST {api_base}/batches/{batch_id}/cancel``): the
    :class:`Batch`, ``status="cancelling"``."""
    return _sync("cancel_batch", _params(locals()))


async def acancel_batch(
    batch_id: str,
    custom_llm_provider: str = "openai",
    metadata: dict[str, str] | None = None,
    extra_headers: dict[str, str] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Batch:
    """The async twin of :func:`cancel_batch`."""
    return await _async("cancel_batch", _params(locals()))


__all__ = [
    "acancel_batch",
    "acreate_batch",
    "acreate_file",
    "afile_content",
    "afile_delete",
    "afile_list",
    "afile_retrieve",
    "alist_batches",
    "aretrieve_batch",
    "cancel_batch",
    "create_batch",
    "create_file",
    "file_content",
    "file_delete",
    "file_list",
    "file_retrieve",
    "list_batches",
    "retrieve_batch",
]
