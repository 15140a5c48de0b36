"""A base for LiteLLM's plain configuration models (``Deployment``, ``LiteLLM_Params``,
``EmbeddingRequest``, ...): pydantic models in LiteLLM, plain objects here so that no
pydantic import is needed. They share the response objects' behaviour (attribute and
item access, ``get``, ``model_dump``, ``model_fields``, ``model_extra``, repr)."""

from __future__ import annotations

from typing import Any

from rustllm.types.utils import _fields, _ResponseObject


class _Model(_ResponseObject):
    """Subclasses set ``_defaults``: ``(name, default)`` pairs in LiteLLM's field order.
    Every field is stored (None unless given), extras follow, as pydantic's
    ``extra="allow"`` models do. Mutable defaults are copied per instance."""

    _defaults: tuple[tuple[str, Any], ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.model_fields = _fields(*(name for name, _ in cls._defaults))
        cls._declared = frozenset(cls.model_fields)

    def __init__(self, **values: Any) -> None:
        d = self.__dict__
        for name, default in self._defaults:
            value = values.pop(name, default)
            d[name] = value.copy() if value is default and isinstance(default, (list, dict)) else value
        d.update(values)

    @classmethod
    def _fill(cls, d: dict, src: dict) -> None:  # type: ignore[override]
        d.update(cls(**src).__dict__)
