"""``rerank`` / ``arerank`` and ``moderation`` / ``amoderation``, with LiteLLM's
signatures; the calls run in Rust (``_core.rerank``, ``_core.moderation``) like
``embedding``, through the same callbacks, cache, retries and exceptions."""

from __future__ import annotations

import sys
from typing import Any

from rustllm import _core
from rustllm.types._endpoints import OpenAIModerationResponse, RerankResponse


def _rustllm() -> Any:
    return sys.modules["rustllm"]


def _params(local_vars: dict[str, Any], needs_model: bool) -> dict[str, Any]:
    r = _rustllm()
    params = r._collect(local_vars)
    if params.get("model") is None:
        if needs_model:
            raise ValueError("model param not passed in.")
        # A moderation without a model goes to OpenAI: the module settings (openai_key,
        # api_base, ...) are read for it as for an OpenAI model; no model is sent.
        del params["model"]
        probe = {**params, "model": "omni-moderation-latest"}
        probe.setdefault("custom_llm_provider", "openai")
        r._apply_settings(probe)
        del probe["model"]
        if params.get("custom_llm_provider") is None:
            del probe["custom_llm_provider"]
        params = probe
    else:
        r._apply_settings(params)
    if params.get("timeout") is not None:
        params["timeout"] = r._timeout_seconds(params["timeout"])
    return params


def _rerank(params: dict[str, Any]) -> RerankResponse:
    try:
        body, hidden, ms = _core.rerank(params)
    except _core.RustLLMError as err:
        _rustllm()._raise(err, params)
    return RerankResponse._from_openai(body, hidden, ms)


async def _arerank(params: dict[str, Any]) -> RerankResponse:
    r = _rustllm()
    try:
        body, hidden, ms = await r._submit(_core.arerank_submit, params)
    except _core.RustLLMError as err:
        r._raise(err, params)
    return RerankResponse._from_openai(body, hidden, ms)


def rerank(
    model: str,
    query: str,
    documents: list[str | dict[str, Any]],
    custom_llm_provider: str | None = None,
    top_n: int | None = None,
    rank_fields: list[str] | None = None,
    return_documents: bool | None = True,
    max_chunks_per_doc: int | None = None,
    max_tokens_per_doc: int | None = None,
    **kwargs: Any,
) -> RerankResponse:
    """Rank ``documents`` (strings or dicts) by relevance to ``query``, with LiteLLM's
    signature.

    Cohere (``cohere/rerank-v3.5``: ``/v2/rerank``, or ``/v1/rerank`` when ``api_base``
    names v1 or only ``max_chunks_per_doc`` is given), Jina AI (``jina_ai/...``), Voyage
    AI (``voyage/...``) and any OpenAI-style server's ``{api_base}/rerank``
    (``hosted_vllm/...``, ``together_ai/...``, ``openai/...`` with ``api_base``). Returns a
    :class:`RerankResponse` (``id``, ``results`` most relevant first, ``meta``) whose
    ``_hidden_params["response_cost"]`` is priced per query (or per token) from the
    catalogue. Other keyword arguments go into the request body.
    """
    params = _params(locals(), needs_model=True)
    r = _rustllm()
    if r._observed(params):
        from rustllm import _hooks

        return _hooks.call("rerank", params, _rerank)
    return _rerank(params)


async def arerank(
    model: str,
    query: str,
    documents: list[str | dict[str, Any]],
    custom_llm_provider: str | None = None,
    top_n: int | None = None,
    rank_fields: list[str] | None = None,
    return_documents: bool | None = True,
    max_chunks_per_doc: int | None = None,
    max_tokens_per_doc: int | None = None,
    **kwargs: Any,
) -> RerankResponse:
    """The async twin of :func:`rerank`."""
    params = _params(locals(), needs_model=True)
    r = _rustllm()
    if r._observed(params):
        from rustllm import _hooks

        return await _hooks.acall("arerank", params, _arerank)
    return await _arerank(params)


def _moderation(params: dict[str, Any]) -> OpenAIModerationResponse:
    try:
        body, hidden, ms = _core.moderation(params)
    except _core.RustLLMError as err:
        _rustllm()._raise(err, params)
    return OpenAIModerationResponse._from_openai(body, hidden, ms)


async def _amoderation(params: dict[str, Any]) -> OpenAIModerationResponse:
    r = _rustllm()
    try:
        body, hidden, ms = await r._submit(_core.amoderation_submit, params)
    except _core.RustLLMError as err:
        r._raise(err, params)
    return OpenAIModerationResponse._from_openai(body, hidden, ms)


def moderation(
    input: str | list[Any],
    model: str | None = None,
    api_key: str | None = None,
    api_base: str | None = None,
    custom_llm_provider: str | None = None,
    **kwargs: Any,
) -> OpenAIModerationResponse:
    """Classify ``input`` (a string, or a list of strings or input objects) with OpenAI's
    ``/moderations``, with LiteLLM's signature. Without ``model`` none is sent and
    OpenAI picks its default (``omni-moderation-latest``). Returns an
    :class:`OpenAIModerationResponse` (``results[i].flagged``, ``.categories``,
    ``.category_scores``).
    """
    params = _params(locals(), needs_model=False)
    r = _rustllm()
    if r._observed(params):
        from rustllm import _hooks

        return _hooks.call("moderation", params, _moderation)
    return _moderation(params)


async def amoderation(
    input: str | list[Any],
    model: str | None = None,
    api_key: str | None = None,
    api_base: str | None = None,
    custom_llm_provider: str | None = None,
    **kwargs: Any,
) -> OpenAIModerationResponse:
    """The async twin of :func:`moderation`."""
    params = _params(locals(), needs_model=False)
    r = _rustllm()
    if r._observed(params):
        from rustllm import _hooks

        return await _hooks.acall("amoderation", params, _amoderation)
    return await _amoderation(params)
