"""The response objects of ``rerank`` and ``moderation``: LiteLLM's ``RerankResponse``
(``litellm.types.rerank``) and ``OpenAIModerationResponse``
(``litellm.types.llms.openai``), on rustllm's response base (attribute and item access,
``model_dump``, ``_hidden_params``, equality, pickling)."""

from __future__ import annotations

from typing import Any

from rustllm.types.utils import _fields, _new, _ResponseObject


def _fill_rerank(d: dict, src: dict) -> None:
    d["id"] = src.get("id")
    d["results"] = src.get("results")
    d["meta"] = src.get("meta")
    for k, v in src.items():
        if k not in d:
            d[k] = v


class RerankResponse(_ResponseObject):
    """The result of ``rerank()``: ``id``, ``results`` (plain dicts ``{'index': 1,
    'relevance_score': 0.9, 'document': {'text': ...}}``, most relevant first), ``meta``
    (a dict: ``billed_units`` ``{'search_units': 1}`` or ``{'total_tokens': n}``,
    ``tokens``, ``api_version``). Private: ``_hidden_params`` (``response_cost`` among
    them), ``_response_ms``."""

    id: str | None
    results: list | None
    meta: dict | None
    _hidden_params: dict[str, Any]
    _response_ms: float | None

    _declared = frozenset(("id", "results", "meta"))
    model_fields = _fields("id", "results", "meta")
    _fill = staticmethod(_fill_rerank)

    def __init__(
        self,
        id: str | None = None,
        results: list | None = None,
        meta: dict | None = None,
        hidden_params: dict | None = None,
        **params: Any,
    ) -> None:
        params.update(id=id, results=results, meta=meta)
        d = self.__dict__
        _fill_rerank(d, params)
        d["_hidden_params"] = hidden_params if hidden_params else {}
        d["_response_ms"] = None

    def _repr_html_(self) -> str:
        from rustllm.display import rerank_html

        return rerank_html(self)

    @property
    def hidden_params(self) -> dict[str, Any]:
        """LiteLLM's alias of ``_hidden_params``."""
        return self.__dict__["_hidden_params"]

    @hidden_params.setter
    def hidden_params(self, value: dict[str, Any]) -> None:
        self.__dict__["_hidden_params"] = value

    @classmethod
    def _from_openai(
        cls, d: dict[str, Any], hidden_params: dict[str, Any] | None = None, response_ms: float | None = None
    ) -> RerankResponse:
        """Build from the body the Rust core returns (already in LiteLLM's shape)."""
        o = _new(cls)
        od = o.__dict__
        _fill_rerank(od, d)
        od["_hidden_params"] = {} if hidden_params is None else hidden_params
        od["_response_ms"] = response_ms
        return o


def _attr_key(d: dict, name: str) -> Any:
    """OpenAI's attribute spelling of a category (``self_harm_intent`` for
    ``self-harm/intent``), as the openai SDK's ``Categories`` offers it."""
    for k in d:
        if isinstance(k, str) and k.replace("/", "_").replace("-", "_") == name:
            return k
    return None


class _CategoryMap(_ResponseObject):
    """A category → value map read by key (``c["self-harm/intent"]``) or attribute
    (``c.self_harm_intent``), as the openai SDK's ``Categories`` and ``CategoryScores``."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        key = _attr_key(self.__dict__, name)
        if key is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.__dict__[key]


class OpenAIModerationResult(_ResponseObject):
    """One moderated input: ``flagged``, ``categories``, ``category_scores``,
    ``category_applied_input_types``."""

    flagged: bool | None
    categories: Any
    category_scores: Any
    category_applied_input_types: Any

    _declared = frozenset(("categories", "category_applied_input_types", "category_scores", "flagged"))
    model_fields = _fields("categories", "category_applied_input_types", "category_scores", "flagged")

    def __init__(self, **values: Any) -> None:
        d = self.__dict__
        for name in ("categories", "category_applied_input_types", "category_scores"):
            v = values.pop(name, None)
            d[name] = _CategoryMap(**v) if isinstance(v, dict) else v
        d["flagged"] = values.pop("flagged", None)
        d.update(values)


class OpenAIModerationResponse(_ResponseObject):
    """The result of ``moderation()``: ``id``, ``model``, ``results`` (one
    :class:`OpenAIModerationResult` per input). Private: ``_hidden_params``."""

    id: str | None
    model: str | None
    results: list

    _declared = frozenset(("id", "model", "results"))
    model_fields = _fields("id", "model", "results")

    def __init__(
        self,
        id: str | None = None,
        model: str | None = None,
        results: list | None = None,
        hidden_params: dict | None = None,
        **params: Any,
    ) -> None:
        d = self.__dict__
        d["id"] = id
        d["model"] = model
        d["results"] = [
            r if isinstance(r, OpenAIModerationResult) else OpenAIModerationResult(**r) for r in results or []
        ]
        d.update(params)
        d["_hidden_params"] = hidden_params if hidden_params else {}
        d["_response_ms"] = None

    def _repr_html_(self) -> str:
        from rustllm.display import moderation_html

        return moderation_html(self)

    @classmethod
    def _from_openai(
        cls, d: dict[str, Any], hidden_params: dict[str, Any] | None = None, response_ms: float | None = None
    ) -> OpenAIModerationResponse:
        """Build from the body the Rust core returns (OpenAI's moderation object)."""
        body = dict(d)
        o = cls(body.pop("id", None), body.pop("model", None), body.pop("results", None), hidden_params, **body)
        o.__dict__["_response_ms"] = response_ms
        return o
