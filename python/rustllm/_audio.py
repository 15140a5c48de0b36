"""``speech`` / ``aspeech`` with LiteLLM's signatures; the calls run in Rust
(``_core.speech``) like ``embedding``, through the same callbacks, retries and
exceptions."""

from __future__ import annotations

import sys
from typing import Any

from rustllm import _core
from rustllm.types._audio import HttpxBinaryResponseContent


def _rustllm() -> Any:
    return sys.modules["rustllm"]


def _params(local_vars: dict[str, Any]) -> dict[str, Any]:
    r = _rustllm()
    params = r._collect(local_vars)
    r._apply_settings(params)
    if params.get("timeout") is not None:
        params["timeout"] = r._timeout_seconds(params["timeout"])
    return params


def _speech(params: dict[str, Any]) -> HttpxBinaryResponseContent:
    try:
        body, hidden, ms = _core.speech(params)
    except _core.RustLLMError as err:
        _rustllm()._raise(err, params)
    return HttpxBinaryResponseContent._from_core(body, hidden, ms)


async def _aspeech(params: dict[str, Any]) -> HttpxBinaryResponseContent:
    r = _rustllm()
    try:
        body, hidden, ms = await r._submit(_core.aspeech_submit, params)
    except _core.RustLLMError as err:
        r._raise(err, params)
    return HttpxBinaryResponseContent._from_core(body, hidden, ms)


def speech(
    model: str,
    input: str,
    voice: str | dict | None = None,
    api_key: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    organization: str | None = None,
    project: str | None = None,
    max_retries: int | None = None,
    metadata: dict | None = None,
    timeout: float | None = 600,
    response_format: str | None = None,
    speed: float | None = None,
    instructions: str | None = None,
    client: Any = None,
    headers: dict | None = None,
    custom_llm_provider: str | None = None,
    **kwargs: Any,
) -> HttpxBinaryResponseContent:
    """Speak ``input`` with LiteLLM's signature: OpenAI's ``POST {api_base}/audio/speech``
    (``tts-1``, ``tts-1-hd``, ``gpt-4o-mini-tts``, any OpenAI-format provider) or Azure's
    deployment URL (``azure/<deployment>``). ``voice`` is required (``"alloy"``, ...);
    ``response_format`` is one of mp3 (the default), opus, aac, flac, wav, pcm. Returns
    the audio as :class:`HttpxBinaryResponseContent` (``content``,
    ``stream_to_file(path)``), whose ``_hidden_params["response_cost"]`` is priced per
    character from the catalogue.
    """
    params = _params(locals())
    r = _rustllm()
    if r._observed(params):
        from rustllm import _hooks

        return _hooks.call("speech", params, _speech)
    return _speech(params)


async def aspeech(
    model: str,
    input: str,
    voice: str | dict | None = None,
    api_key: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    organization: str | None = None,
    project: str | None = None,
    max_retries: int | None = None,
    metadata: dict | None = None,
    timeout: float | None = 600,
    response_format: str | None = None,
    speed: float | None = None,
    instructions: str | None = None,
    client: Any = None,
    headers: dict | None = None,
    custom_llm_provider: str | None = None,
    **kwargs: Any,
) -> HttpxBinaryResponseContent:
    """The async twin of :func:`speech`."""
    params = _params(locals())
    r = _rustllm()
    if r._observed(params):
        from rustllm import _hooks

        return await _hooks.acall("aspeech", params, _aspeech)
    return await _aspeech(params)
