"""LiteLLM's ``litellm.types.rerank``: the rerank request and response types.

``RerankResponse`` is the object :func:`rustllm.rerank` returns; the TypedDicts describe
its plain-dict parts (a result, its document, ``meta``) for annotations, as LiteLLM
names them.
"""

# No `from __future__ import annotations`: TypedDict reads Required[...] from evaluated
# annotations.
from typing import Optional, TypedDict, Union

from rustllm.types._endpoints import RerankResponse
from rustllm.types._typing import Required

__all__ = [
    "OptionalRerankParams",
    "RerankBilledUnits",
    "RerankRequest",
    "RerankResponse",
    "RerankResponseDocument",
    "RerankResponseMeta",
    "RerankResponseResult",
    "RerankTokens",
]


class RerankRequest(TypedDict, total=False):
    """The body of a rerank request, in Cohere's format."""

    model: Required[str]
    query: Required[str]
    documents: Required[list[Union[str, dict]]]
    top_n: Optional[int]
    rank_fields: Optional[list[str]]
    return_documents: Optional[bool]
    max_chunks_per_doc: Optional[int]
    max_tokens_per_doc: Optional[int]


class OptionalRerankParams(TypedDict, total=False):
    """The rerank parameters besides ``model``."""

    query: str
    top_n: Optional[int]
    documents: list[Union[str, dict]]
    rank_fields: Optional[list[str]]
    return_documents: Optional[bool]
    max_chunks_per_doc: Optional[int]
    max_tokens_per_doc: Optional[int]


class RerankBilledUnits(TypedDict, total=False):
    """``meta["billed_units"]``: Cohere's search units, or tokens."""

    search_units: Optional[int]
    total_tokens: Optional[int]


class RerankTokens(TypedDict, total=False):
    """``meta["tokens"]``."""

    input_tokens: Optional[int]
    output_tokens: Optional[int]


class RerankResponseMeta(TypedDict, total=False):
    """``RerankResponse.meta``."""

    api_version: Optional[dict]
    billed_units: Optional[RerankBilledUnits]
    tokens: Optional[RerankTokens]


class RerankResponseDocument(TypedDict):
    """A result's ``document``."""

    text: str


class RerankResponseResult(TypedDict, total=False):
    """One item of ``RerankResponse.results``."""

    index: Required[int]
    relevance_score: Required[float]
    document: RerankResponseDocument
