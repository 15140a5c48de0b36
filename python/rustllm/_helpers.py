"""Helpers LiteLLM users call around their calls: ``health_check`` / ``ahealth_check``,
``check_valid_key``, ``get_valid_models`` and ``trim_messages``."""

from __future__ import annotations

import os
import sys
from typing import Any

# LiteLLM's health-check modes, and the one cheap call each makes.
_HEALTH_MODES = ("chat", "completion", "embedding", "rerank", "moderation")
_HEALTH_PROMPT = "test from litellm"
# The rate-limit headers a health check reports, as LiteLLM's result dict names them.
_HEALTH_HEADERS = ("x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens", "x-ms-region")


def _rustllm() -> Any:
    return sys.modules["rustllm"]


def _health_call(model_params: dict[str, Any], mode: str | None, prompt: str | None, input: Any) -> tuple:
    """``(function name, keyword arguments)`` of a health check's one call."""
    model = model_params.get("model")
    if model is None:
        raise ValueError("model not set")
    if mode is None:
        try:
            mode = _rustllm().get_model_info(model).get("mode")
        except Exception:  # noqa: BLE001 - an uncatalogued model is checked as a chat model
            mode = None
    mode = mode or "chat"
    params = {k: v for k, v in model_params.items() if k not in ("messages", "input", "prompt", "query")}
    params["cache"] = {"no-cache": True}  # a health check never answers from the cache
    if mode == "chat":
        messages = model_params.get("messages") or [{"role": "user", "content": prompt or _HEALTH_PROMPT}]
        params.setdefault("max_tokens", 1)
        return "completion", {**params, "messages": messages}
    if mode == "completion":
        params.setdefault("max_tokens", 1)
        return "text_completion", {**params, "prompt": prompt or _HEALTH_PROMPT}
    if mode == "embedding":
        return "embedding", {**params, "input": input or [_HEALTH_PROMPT]}
    if mode == "rerank":
        return "rerank", {**params, "query": prompt or _HEALTH_PROMPT, "documents": ["my sample text"]}
    if mode == "moderation":
        return "moderation", {**params, "input": input or prompt or _HEALTH_PROMPT}
    raise ValueError(f"Mode {mode} not supported. See modes here: https://docs.litellm.ai/docs/proxy/health")


def _health_result(response: Any) -> dict[str, Any]:
    headers = (getattr(response, "_hidden_params", None) or {}).get("additional_headers") or {}
    out: dict[str, Any] = {}
    for name in _HEALTH_HEADERS:
        value = headers.get(name, headers.get(f"llm_provider-{name}"))
        if value is not None:
            out[name] = value
    return out


def _health_error(err: BaseException, mode: str | None, model_params: dict[str, Any]) -> dict[str, Any]:
    import traceback

    from rustllm import _core

    secrets = [v for k, v in model_params.items() if isinstance(v, str) and v and _core.is_secret_name(k)]
    trace = _core.scrub(traceback.format_exc(), secrets)[:1000]
    text = _core.scrub(str(err), secrets)
    if mode is None:
        return {
            "error": f"error:{text}. Missing `mode`. Set the `mode` for the model - https://docs.litellm.ai/docs/proxy/health#embedding-models  \nstacktrace: {trace}"
        }
    return {
        "error": f"{text}\nHave you set 'mode' - https://docs.litellm.ai/docs/proxy/health#embedding-models\nstack trace: {trace}"
    }


def health_check(
    model_params: dict[str, Any], mode: str | None = None, prompt: str | None = None, input: list | None = None
) -> dict[str, Any]:
    """One cheap call to a deployment (``model_params`` are its ``litellm_params``:
    ``model``, ``api_key``, ``api_base``, ...), as LiteLLM's ``ahealth_check`` makes it.

    ``mode`` (``"chat"``, ``"completion"``, ``"embedding"``, ``"rerank"``,
    ``"moderation"``; default: the catalogue's mode of the model, else chat) picks the
    call: a one-token chat or text completion, an embedding of ``input``, a rerank of one
    document, a moderation. Never raises: the result is ``{}`` or the provider's
    rate-limit headers (``x-ratelimit-remaining-requests``,
    ``x-ratelimit-remaining-tokens``) on success, ``{"error": "..."}`` on failure (key
    and secrets masked).
    """
    try:
        name, kwargs = _health_call(dict(model_params), mode, prompt, input)
        return _health_result(getattr(_rustllm(), name)(**kwargs))
    except Exception as err:  # noqa: BLE001 - a health check reports, it does not raise
        return _health_error(err, mode, model_params)


async def ahealth_check(
    model_params: dict[str, Any], mode: str | None = None, prompt: str | None = None, input: list | None = None
) -> dict[str, Any]:
    """The async twin of :func:`health_check` (LiteLLM's ``ahealth_check``)."""
    try:
        name, kwargs = _health_call(dict(model_params), mode, prompt, input)
        return _health_result(await getattr(_rustllm(), "a" + name)(**kwargs))
    except Exception as err:  # noqa: BLE001 - a health check reports, it does not raise
        return _health_error(err, mode, model_params)


def check_valid_key(model: str, api_key: str) -> bool:
    """Whether ``api_key`` works for ``model``: one small chat call (``max_tokens=10``),
    as LiteLLM makes it. False on any error (a wrong key, an unreachable provider)."""
    messages = [{"role": "user", "content": "Hey, how's it going?"}]
    try:
        _rustllm().completion(model=model, messages=messages, api_key=api_key, max_tokens=10)
        return True
    except Exception:  # noqa: BLE001 - LiteLLM's answer for every failure is False
        return False


def _models_by_provider() -> dict[str, list[str]]:
    """The catalogue's model names per provider, as LiteLLM's ``models_by_provider``."""
    from rustllm.catalogue import model_cost

    out: dict[str, list[str]] = {}
    for name, entry in model_cost.items():
        provider = entry.get("litellm_provider")
        if isinstance(provider, str):
            if provider == "text-completion-openai":
                provider = "openai"
            out.setdefault(provider, []).append(name)
    return out


def get_valid_models(
    check_provider_endpoint: bool | None = None,
    custom_llm_provider: str | None = None,
    api_key: str | None = None,
    api_base: str | None = None,
) -> list[str]:
    """The models you can call with the keys set in the environment, as LiteLLM lists
    them: for each provider whose ``<PROVIDER>_API_KEY`` (or the name without
    underscores, ``TOGETHERAI_API_KEY``) is set, or ``custom_llm_provider`` alone, the
    catalogue's models of that provider (``["Azure-LLM"]`` for Azure, as LiteLLM).

    ``check_provider_endpoint=True`` asks an OpenAI-compatible provider's ``GET
    {base}/models`` instead (``api_key`` / ``api_base`` override the environment); a
    provider that cannot be asked keeps its catalogue list.
    """
    r = _rustllm()
    if custom_llm_provider:
        providers = [custom_llm_provider]
    else:
        env = os.environ
        providers = [
            p
            for p in r.provider_list
            if f"{p.replace('_', '')}_API_KEY".upper() in env or f"{p}_API_KEY".upper() in env
        ]
    by_provider = _models_by_provider()
    models: list[str] = []
    for provider in providers:
        if provider == "azure":
            models.append("Azure-LLM")
            continue
        if check_provider_endpoint:
            listed = _list_provider_models(provider, api_key, api_base)
            if listed is not None:
                models.extend(listed)
                continue
        models.extend(by_provider.get(provider, []))
    return models


def _list_provider_models(provider: str, api_key: str | None, api_base: str | None) -> list[str] | None:
    """``GET {base}/models`` of an OpenAI-compatible provider: its model ids prefixed
    ``provider/`` (None when the provider speaks another format or cannot be reached)."""
    import json
    import urllib.request

    from rustllm import _core

    if provider not in _core.openai_compatible_providers():
        return None
    try:
        _, _, key, base = _core.get_llm_provider(f"{provider}/x", None, api_base, api_key)
    except _core.RustLLMError:
        return None
    if not base:
        return None
    request = urllib.request.Request(base.rstrip("/") + "/models")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            data = json.load(reply)
    except Exception:  # noqa: BLE001 - LiteLLM logs and moves on
        return None
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    return [f"{provider}/{m['id']}" for m in items if isinstance(m, dict) and isinstance(m.get("id"), str)]


# -- trim_messages -------------------------------------------------------------------------


def _tokens(messages: list[dict[str, Any]], model: str | None) -> int:
    return _rustllm().token_counter(model=model or "", messages=messages)


def _shorten(message: dict[str, Any], tokens_needed: int, model: str | None) -> dict[str, Any]:
    """Cut characters from the middle of ``message``'s content (joined by ``..``) until it
    fits ``tokens_needed``, as LiteLLM does."""
    # An OpenAI message costs a few tokens even when empty: below that nothing fits.
    if model is not None and "gpt" in model and tokens_needed <= 10:
        return message
    content = message.get("content")
    if not isinstance(content, str):
        return message
    while content:
        total = _tokens([message], model)
        if total <= tokens_needed:
            break
        new_length = max(0, int(len(content) * tokens_needed / total) - 1)
        half = new_length // 2
        # Deliberate fix: LiteLLM's ``content[-half:]`` is the whole text when half is 0,
        # so a message that cannot fit grows forever instead of emptying.
        trimmed = content[:half] + ".." + (content[-half:] if half else "")
        if trimmed == content or len(trimmed) >= len(content):
            trimmed = ""
        message["content"] = content = trimmed
    return message


def trim_messages(
    messages: list[dict[str, Any]],
    model: str | None = None,
    trim_ratio: float = 0.75,
    return_response_tokens: bool = False,
    max_tokens: int | None = None,
) -> Any:
    """Trim ``messages`` to fit a model's context window, with LiteLLM's algorithm.

    The budget is ``max_tokens``, else ``trim_ratio`` (0.75) of the model's
    ``max_input_tokens`` from the catalogue; an unknown model without ``max_tokens``
    comes back untouched. Messages under the budget come back as they are. Otherwise the
    system messages are joined into one (cut in the middle if alone they exceed the
    budget), trailing tool results are kept whole, and the other messages are kept from
    the newest back, the oldest one that does not fit cut in the middle (``..``), older
    ones dropped. The caller's list is never changed. With ``return_response_tokens``,
    returns ``(messages, tokens left for the response)``.
    """
    import copy

    messages = copy.deepcopy(messages)
    if max_tokens is None:
        if model is None:
            return messages
        try:
            info = _rustllm().get_model_info(model)
        except Exception:  # noqa: BLE001 - an unknown model is left alone, as in LiteLLM
            return messages
        limit = info.get("max_input_tokens") or info.get("max_tokens")
        if not limit:
            return messages
        max_tokens = int(limit * trim_ratio)

    system = "\n".join(
        m["content"] for m in messages if m.get("role") == "system" and isinstance(m.get("content"), str)
    )
    tools: list[dict[str, Any]] = []
    while messages and messages[-1].get("role") == "tool":
        tools.insert(0, messages.pop())

    if _tokens(messages, model) < max_tokens:
        return (
            (messages + tools, max_tokens - _tokens(messages + tools, model))
            if return_response_tokens
            else messages + tools
        )

    system_event = None
    if system:
        system_event = {"role": "system", "content": system}
        if _tokens([system_event], model) > max_tokens:
            _shorten(system_event, max_tokens, model)
        max_tokens -= _tokens([system_event], model)
        if max_tokens <= 0:  # the system messages alone fill the budget
            return ([system_event], 0) if return_response_tokens else [system_event]
        messages = [m for m in messages if m.get("role") != "system"]

    kept: list[dict[str, Any]] = []
    for message in reversed(messages):
        available = max_tokens - _tokens(kept, model)
        if available <= 3:
            break
        candidate = [message, *kept]
        if _tokens(candidate, model) <= max_tokens:
            kept = candidate
        elif "function_call" not in message:
            shortened = _shorten(message, available, model)
            if _tokens([shortened, *kept], model) <= max_tokens:
                kept = [shortened, *kept]

    final = ([system_event] if system_event else []) + kept + tools
    if return_response_tokens:
        return final, max_tokens - _tokens(kept + tools, model)
    return final
