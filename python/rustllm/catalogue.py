"""The model catalogue and cost functions, with LiteLLM's names and signatures.

The catalogue is LiteLLM's ``model_prices_and_context_window.json`` (context windows,
prices, capability flags), compiled into the extension and parsed on first use, so
importing this module costs nothing. ``model_cost`` and ``model_list`` are built on first
access too.

    import rustllm as litellm
    litellm.supports_function_calling("gpt-4o")           # True
    litellm.get_model_info("openai/gpt-4o")["max_input_tokens"]
    litellm.cost_per_token("gpt-4o", prompt_tokens=1000, completion_tokens=1000)
    litellm.completion_cost(completion_response=response)

Unknown models: the ``supports_*`` helpers answer ``False``; ``get_model_info``,
``get_max_tokens``, ``cost_per_token`` and ``completion_cost`` raise a plain ``Exception``
with LiteLLM's text. ``register_model`` adds or overrides entries; mutating
``model_cost`` directly does not change what the other functions see.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rustllm import _core

if TYPE_CHECKING:
    from rustllm.types.utils import ModelInfo

__all__ = [
    "get_model_info",
    "register_model",
    "supports_function_calling",
    "supports_parallel_function_calling",
    "supports_vision",
    "supports_response_schema",
    "supports_reasoning",
    "supports_tool_choice",
    "supports_prompt_caching",
    "supports_system_messages",
    "get_supported_openai_params",
    "get_max_tokens",
    "cost_per_token",
    "completion_cost",
]


def get_model_info(model: str, custom_llm_provider: str | None = None) -> ModelInfo:
    """The catalogue entry for ``model`` (bare, ``provider/model``, or with
    ``custom_llm_provider``), plus ``key`` (the entry's name in ``model_cost``), every
    ``supports_*`` flag (None when the entry does not say) and ``supported_openai_params``,
    as a ``rustllm.types.utils.ModelInfo`` (a ``TypedDict``).

    Raises ``Exception("This model isn't mapped yet. model=..., custom_llm_provider=...")``
    for a model the catalogue does not know, as LiteLLM does.
    """
    return _core.model_info(model, custom_llm_provider)  # type: ignore[return-value]


def _load_model_cost(source: str) -> dict[str, Any]:
    """A model map given as a URL, a JSON file path, or JSON text."""
    if source.startswith(("http://", "https://")):
        import urllib.request

        with urllib.request.urlopen(source, timeout=30) as resp:
            return json.loads(resp.read())
    if source.lstrip().startswith("{"):
        return json.loads(source)
    with open(source, encoding="utf-8") as f:
        return json.load(f)


def register_model(model_cost: dict[str, Any] | str) -> dict[str, Any] | str:
    """Add models to the catalogue or override fields of existing ones, as LiteLLM's
    ``register_model`` does::

        rustllm.register_model({"my-model": {"input_cost_per_token": 1e-6,
                                             "output_cost_per_token": 2e-6,
                                             "litellm_provider": "openai", "mode": "chat"}})

    A name that resolves to an existing entry (``"openai/gpt-4o"`` -> ``"gpt-4o"``) updates
    that entry; ``None`` values are ignored; prices given as strings become numbers. A
    string argument is read as a URL, a JSON file path or JSON text.
    """
    entries = _load_model_cost(model_cost) if isinstance(model_cost, str) else model_cost
    if not isinstance(entries, dict):
        raise TypeError(f"register_model expects a dict of model name -> model facts, got {type(entries).__name__}")
    for name, fields in entries.items():
        key, entry = _core.register_model(str(name), fields)
        # Keep an already-built model_cost / model_list in step (they are the same objects
        # users hold through rustllm.model_cost).
        built_cost = globals().get("_model_cost")
        if built_cost is not None:
            built_cost[key] = entry
        built_list = globals().get("_model_list")
        if built_list is not None and key not in built_list:
            built_list.append(key)
    return model_cost


def _supports(model: str, custom_llm_provider: str | None, key: str) -> bool:
    return _core.supports(model, custom_llm_provider, key)


def supports_function_calling(model: str, custom_llm_provider: str | None = None) -> bool:
    """True when the catalogue says ``model`` supports tool/function calling (False for
    unknown models, never an exception)."""
    return _supports(model, custom_llm_provider, "supports_function_calling")


def supports_parallel_function_calling(model: str, custom_llm_provider: str | None = None) -> bool:
    """True when ``model`` can return several tool calls in one reply."""
    return _supports(model, custom_llm_provider, "supports_parallel_function_calling")


def supports_vision(model: str, custom_llm_provider: str | None = None) -> bool:
    """True when ``model`` accepts image inputs."""
    return _supports(model, custom_llm_provider, "supports_vision")


def supports_response_schema(model: str, custom_llm_provider: str | None = None) -> bool:
    """True when ``model`` honours a JSON-schema ``response_format``."""
    return _supports(model, custom_llm_provider, "supports_response_schema")


def supports_reasoning(model: str, custom_llm_provider: str | None = None) -> bool:
    """True when ``model`` is a reasoning model (``reasoning_effort``/thinking)."""
    return _supports(model, custom_llm_provider, "supports_reasoning")


def supports_tool_choice(model: str, custom_llm_provider: str | None = None) -> bool:
    """True when ``model`` accepts ``tool_choice``."""
    return _supports(model, custom_llm_provider, "supports_tool_choice")


def supports_prompt_caching(model: str, custom_llm_provider: str | None = None) -> bool:
    """True when ``model``'s provider caches prompts (cheaper cached input tokens)."""
    return _supports(model, custom_llm_provider, "supports_prompt_caching")


def supports_system_messages(model: str, custom_llm_provider: str | None = None) -> bool:
    """True when the catalogue says ``model`` accepts system messages."""
    return _supports(model, custom_llm_provider, "supports_system_messages")


def get_supported_openai_params(
    model: str,
    custom_llm_provider: str | None = None,
    request_type: str = "chat_completion",
) -> list[str] | None:
    """The OpenAI parameters a call to ``model`` may carry: the OpenAI chat list for
    OpenAI-compatible providers (``user`` only for OpenAI's own models), LiteLLM's
    translated list for Anthropic. None when the provider cannot be determined."""
    return _core.supported_openai_params(model, custom_llm_provider)


def get_max_tokens(model: str) -> int | None:
    """The maximum number of output tokens of ``model`` (``get_max_tokens("gpt-4o")`` is
    16384). Raises ``Exception`` for a model the catalogue does not know."""
    return _core.max_tokens(model)


def _custom_prices(
    custom_cost_per_token: dict[str, Any] | None,
    custom_cost_per_second: float | None,
    kwargs: dict[str, Any],
) -> dict[str, float | None]:
    """Caller-supplied prices: ``custom_cost_per_token={...}`` or the per-call keyword
    arguments ``input_cost_per_token=`` / ``output_cost_per_token=`` (which win)."""
    per_token = custom_cost_per_token or {}
    prices = {
        "input_cost_per_token": per_token.get("input_cost_per_token"),
        "output_cost_per_token": per_token.get("output_cost_per_token"),
        "input_cost_per_second": None,
        "output_cost_per_second": custom_cost_per_second,
    }
    for name in prices:
        if kwargs.get(name) is not None:
            prices[name] = kwargs[name]
    return {k: (None if v is None else float(v)) for k, v in prices.items()}


def _usage_dict(usage: Any) -> dict[str, Any]:
    if usage is None:
        return {}
    if isinstance(usage, dict):
        return usage
    for method in ("model_dump", "dict", "to_dict"):
        dump = getattr(usage, method, None)
        if callable(dump):
            return dump()
    return {
        "prompt_tokens": getattr(usage, "prompt_tokens", 0) or 0,
        "completion_tokens": getattr(usage, "completion_tokens", 0) or 0,
    }


def cost_per_token(
    model: str = "",
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    response_time_ms: float | None = 0.0,
    custom_llm_provider: str | None = None,
    region_name: str | None = None,
    prompt_characters: int | None = None,
    completion_characters: int | None = None,
    cache_creation_input_tokens: int | None = 0,
    cache_read_input_tokens: int | None = 0,
    custom_cost_per_token: dict[str, Any] | None = None,
    custom_cost_per_second: float | None = None,
    number_of_queries: int | None = None,
    usage_object: Any = None,
    rerank_billed_units: Any = None,
    call_type: str = "completion",
    audio_transcription_file_duration: float = 0.0,
    **kwargs: Any,
) -> tuple[float, float]:
    """``(prompt_cost, completion_cost)`` in USD for a number of tokens of ``model``:
    ``cost_per_token("gpt-4o", 1000, 1000)`` is ``(0.0025, 0.01)``.

    Cached prompt tokens (``cache_read_input_tokens``) are billed at the cache-read price,
    ``cache_creation_input_tokens`` at the cache-write price; a ``usage_object`` (a
    ``Usage`` or usage dict) supplies every count, reasoning tokens included. Custom
    prices (``custom_cost_per_token={"input_cost_per_token": ..., "output_cost_per_token":
    ...}``, or ``input_cost_per_token=`` / ``output_cost_per_token=``) win over the
    catalogue. Raises ``Exception`` for a model it cannot price.
    """
    if model is None:
        raise Exception("Invalid arg. Model cannot be none.")
    if usage_object is not None:
        usage = _usage_dict(usage_object)
    else:
        usage = {
            "prompt_tokens": prompt_tokens or 0,
            "completion_tokens": completion_tokens or 0,
            "cache_creation_input_tokens": cache_creation_input_tokens or 0,
            "cache_read_input_tokens": cache_read_input_tokens or 0,
        }
    prices = _custom_prices(custom_cost_per_token, custom_cost_per_second, kwargs)
    try:
        return _core.cost_per_token(model, usage, custom_llm_provider, response_time_ms, **prices)
    except Exception:
        if custom_llm_provider is None:
            # As LiteLLM: a model whose provider cannot be told raises its BadRequestError.
            from rustllm import get_llm_provider

            get_llm_provider(model)
        raise


def _response_field(response: Any, name: str) -> Any:
    if isinstance(response, dict):
        return response.get(name)
    return getattr(response, name, None)


_TRANSCRIPTION_CALLS = frozenset(("transcription", "atranscription"))
_TOKEN_COUNTS = ("prompt_tokens", "completion_tokens", "total_tokens")


def _per_second_cost(candidates: list[str], provider: str | None, seconds: float) -> float:
    """A transcription without token usage, priced by its audio ``duration``: the
    model's per-second price (the output price when it is set and not zero, else the
    input price), as LiteLLM prices whisper-style models."""
    error: Exception | None = None
    for name in dict.fromkeys(candidates):
        try:
            info = get_model_info(name, provider)
        except Exception as err:  # noqa: BLE001 - an unmapped model; try the next name
            error = err
            continue
        per_second = info.get("output_cost_per_second") or info.get("input_cost_per_second") or 0.0
        return per_second * seconds
    raise error if error is not None else Exception(f"cannot price model={candidates[0]}")


def completion_cost(
    completion_response: Any = None,
    model: str | None = None,
    prompt: str = "",
    messages: list | None = None,
    completion: str = "",
    total_time: float | None = 0.0,
    call_type: str | None = None,
    custom_llm_provider: str | None = None,
    region_name: str | None = None,
    size: str | None = None,
    quality: str | None = None,
    n: int | None = None,
    custom_cost_per_token: dict[str, Any] | None = None,
    custom_cost_per_second: float | None = None,
    optional_params: dict | None = None,
    custom_pricing: bool | None = None,
    base_model: str | None = None,
    **kwargs: Any,
) -> float:
    """The cost in USD of a call: from a response's ``usage`` and model
    (``completion_cost(completion_response=response)``), or from text, counting tokens with
    :func:`rustllm.token_counter` (``completion_cost(model="gpt-4o", prompt="...",
    completion="...")``, or ``messages=[...]`` instead of ``prompt``).

    ``call_type="transcription"`` with a response that has a ``duration`` and no token
    usage is priced per second of audio. ``base_model`` prices the call as another
    catalogue model; custom prices
    (``input_cost_per_token=``, ``output_cost_per_token=``, ``custom_cost_per_token={...}``)
    win over the catalogue. Raises ``Exception`` for a model it cannot price.
    """
    prices = _custom_prices(custom_cost_per_token, custom_cost_per_second, kwargs)
    candidates: list[str] = []
    response_time_ms = None
    if completion_response is not None:
        usage = _usage_dict(_response_field(completion_response, "usage"))
        hidden = getattr(completion_response, "_hidden_params", None) or {}
        if custom_llm_provider is None:
            custom_llm_provider = hidden.get("custom_llm_provider")
        response_time_ms = getattr(completion_response, "_response_ms", None) or hidden.get("_response_ms")
        if not response_time_ms and total_time:
            response_time_ms = float(total_time) * 1000
        reported = _response_field(completion_response, "model")
        candidates = [m for m in (base_model, reported, hidden.get("litellm_model_name"), model) if m]
    else:
        if not model:
            raise ValueError(
                f"Model is None and does not exist in passed completion_response. Passed completion_response={completion_response}, model={model}"
            )
        from rustllm import token_counter

        if messages:
            prompt_tokens = token_counter(model=model, messages=messages)
        elif prompt:
            prompt_tokens = token_counter(model=model, text=prompt)
        else:
            prompt_tokens = 0
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": token_counter(model=model, text=completion) if completion else 0,
        }
        candidates = [m for m in (base_model, model) if m]
    if not candidates:
        raise ValueError("completion_cost needs a model: pass model=... or a response that names one")
    from rustllm.types._images import ImageResponse

    if isinstance(completion_response, ImageResponse):
        # Priced per pixel or image by quality and size (or per token), as its call was;
        # `size=`, `quality=` and `n=` override what the response says.
        body = completion_response.model_dump()
        body.update({k: v for k, v in (("size", size), ("quality", quality)) if v is not None})
        if n is not None:
            body["data"] = [{}] * n if not body.get("data") else body["data"][:1] * n
        cost = _core.image_cost(body, custom_llm_provider or "", candidates)
        if cost is None:
            raise Exception(f"cannot price model={candidates[0]}")
        return cost
    meta = _response_field(completion_response, "meta") if completion_response is not None else None
    if isinstance(meta, dict) and not usage:
        # A RerankResponse: priced per query (or per billed token), as its call was.
        cost = _core.rerank_cost(meta, custom_llm_provider or "", candidates)
        if cost is None:
            raise Exception(f"cannot price model={candidates[0]}")
        return cost
    duration = _response_field(completion_response, "duration") if completion_response is not None else None
    if call_type in _TRANSCRIPTION_CALLS and duration and not any(usage.get(k) for k in _TOKEN_COUNTS):
        if custom_cost_per_second is not None:
            return float(custom_cost_per_second) * float(duration)
        return _per_second_cost(candidates, custom_llm_provider, float(duration))
    error: Exception | None = None
    for name in dict.fromkeys(candidates):
        try:
            prompt_cost, completion_cost_ = _core.cost_per_token(
                name, usage, custom_llm_provider, response_time_ms, **prices
            )
        except Exception as err:  # noqa: BLE001 - the Rust core raises a plain Exception, as LiteLLM does
            error = err
            continue
        return prompt_cost + completion_cost_
    raise error if error is not None else Exception(f"cannot price model={candidates[0]}")


_model_cost: dict[str, Any] | None = None
_model_list: list[str] | None = None


def __getattr__(name: str) -> Any:
    # PEP 562: `model_cost` (every entry, ~5k) and `model_list` are built on first access
    # only, so importing rustllm never parses the catalogue.
    global _model_cost, _model_list
    if name == "model_cost":
        if _model_cost is None:
            _model_cost = _core.model_cost()
        return _model_cost
    if name == "model_list":
        if _model_list is None:
            _model_list = _core.model_names()
        return _model_list
    raise AttributeError(f"module 'rustllm.catalogue' has no attribute {name!r}")
