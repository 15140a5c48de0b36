"""The objects of the Files and Batches APIs, as LiteLLM returns them (OpenAI's
``FileObject``, ``FileDeleted``, ``Batch`` and its list pages), on rustllm's response base
(attribute and item access, ``model_dump``, ``_hidden_params``, equality, pickling)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rustllm.types.utils import _fields, _ResponseObject

_FILE_FIELDS = (
    "id",
    "bytes",
    "created_at",
    "filename",
    "object",
    "purpose",
    "status",
    "expires_at",
    "status_details",
)
_DELETED_FIELDS = ("id", "deleted", "object")
_BATCH_FIELDS = (
    "id",
    "completion_window",
    "created_at",
    "endpoint",
    "input_file_id",
    "object",
    "status",
    "cancelled_at",
    "cancelling_at",
    "completed_at",
    "error_file_id",
    "errors",
    "expired_at",
    "expires_at",
    "failed_at",
    "finalizing_at",
    "in_progress_at",
    "metadata",
    "output_file_id",
    "request_counts",
    "usage",
)


def _filler(names: tuple[str, ...]) -> Any:
    def fill(d: dict, src: dict) -> None:
        for name in names:
            d[name] = src.get(name)
        for k, v in src.items():
            if k not in d:
                d[k] = v

    return staticmethod(fill)


class _Object(_ResponseObject):
    """A files/batches object built from the provider's JSON."""

    _hidden_params: dict[str, Any]

    def __init__(self, **fields: Any) -> None:
        d = self.__dict__
        self._fill(d, fields)
        d["_hidden_params"] = {}

    @classmethod
    def _from_core(cls, body: dict[str, Any], hidden: dict[str, Any] | None = None, ms: float | None = None) -> Any:
        o = cls(**body)
        o.__dict__["_hidden_params"] = hidden or {}
        o.__dict__["_response_ms"] = ms
        return o


class FileObject(_Object):
    """An uploaded file (OpenAI's ``FileObject``): ``id``, ``bytes``, ``created_at``,
    ``filename``, ``purpose``, ``status``, ``object="file"``."""

    id: str
    bytes: int
    created_at: int
    filename: str
    object: str
    purpose: str
    status: str | None
    expires_at: int | None
    status_details: str | None

    _declared = frozenset(_FILE_FIELDS)
    model_fields = _fields(*_FILE_FIELDS)
    _fill = _filler(_FILE_FIELDS)


class FileDeleted(_Object):
    """What ``file_delete`` returns (OpenAI's ``FileDeleted``): ``id``, ``deleted``,
    ``object="file"``."""

    id: str
    deleted: bool
    object: str

    _declared = frozenset(_DELETED_FIELDS)
    model_fields = _fields(*_DELETED_FIELDS)
    _fill = _filler(_DELETED_FIELDS)


class Batch(_Object):
    """A batch (OpenAI's ``Batch``, LiteLLM's ``LiteLLMBatch``): ``id``, ``status``
    (validating, in_progress, finalizing, completed, failed, expired, cancelling,
    cancelled), ``input_file_id``, ``output_file_id``, ``endpoint``,
    ``completion_window``, ``request_counts``, ``metadata`` and the timestamps."""

    id: str
    completion_window: str
    created_at: int
    endpoint: str
    input_file_id: str
    object: str
    status: str
    output_file_id: str | None
    error_file_id: str | None
    request_counts: dict | None
    metadata: dict | None

    _declared = frozenset(_BATCH_FIELDS)
    model_fields = _fields(*_BATCH_FIELDS)
    _fill = _filler(_BATCH_FIELDS)


class _Page(_ResponseObject):
    """A list page (the openai SDK's ``SyncCursorPage``): ``data`` (the typed objects),
    ``has_more``, ``first_id``/``last_id`` for batches; iterating yields the objects."""

    object: str
    data: list[Any]
    has_more: bool | None
    _item: type = _Object

    _declared = frozenset(("object", "data", "has_more", "first_id", "last_id"))
    model_fields = _fields("object", "data", "has_more", "first_id", "last_id")

    def __init__(self, **fields: Any) -> None:
        d = self.__dict__
        d["object"] = fields.pop("object", "list")
        d["data"] = [x if isinstance(x, _Object) else self._item(**x) for x in fields.pop("data", None) or []]
        d["has_more"] = fields.pop("has_more", None)
        d.update(fields)
        d["_hidden_params"] = {}

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        """Iterate over the objects of the page, as the openai SDK's pages do."""
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    @classmethod
    def _from_core(cls, body: dict[str, Any], hidden: dict[str, Any] | None = None, ms: float | None = None) -> Any:
        o = cls(**body)
        o.__dict__["_hidden_params"] = hidden or {}
        o.__dict__["_response_ms"] = ms
        return o


class FileList(_Page):
    """The page ``file_list`` returns: ``data`` is a list of :class:`FileObject`."""

    _item = FileObject


class BatchList(_Page):
    """The page ``list_batches`` returns: ``data`` is a list of :class:`Batch`."""

    _item = Batch
