"""``speech`` / ``aspeech`` and ``transcription`` / ``atranscription`` with LiteLLM's
signatures; the calls run in Rust (``_core.speech``, ``_core.transcription``) like
``embedding``, through the same callbacks, retries and exceptions."""

from __future__ import annotations

import sys
from typing import Any

from rustllm import _core
from rustllm._upload import uploads
from rustllm.types._audio import HttpxBinaryResponseContent
from rustllm.types.utils import TranscriptionResponse


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


def _transcription(params: dict[str, Any]) -> TranscriptionResponse:
    with uploads(params, "file") as sent:
        try:
            body, hidden, ms = _core.transcription(sent)
        except _core.RustLLMError as err:
            _rustllm()._raise(err, params)
    return TranscriptionResponse._from_core(body, hidden, ms)


async def _atranscription(params: dict[str, Any]) -> TranscriptionResponse:
    r = _rustllm()
    with uploads(params, "file") as sent:
        try:
            body, hidden, ms = await r._submit(_core.atranscription_submit, sent)
        except _core.RustLLMError as err:
            r._raise(err, params)
    return TranscriptionResponse._from_core(body, hidden, ms)


def transcription(
    model: str,
    file: Any,
    language: str | None = None,
    prompt: str | None = None,
    response_format: str | None = None,
    timestamp_granularities: list[str] | None = None,
    temperature: float | None = None,
    user: str | None = None,
    timeout: float | None = 600,
    api_key: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    max_retries: int | None = None,
    custom_llm_provider: str | None = None,
    **kwargs: Any,
) -> TranscriptionResponse:
    """Transcribe ``file`` with LiteLLM's signature: OpenAI's ``POST
    {api_base}/audio/transcriptions`` (``whisper-1``, ``gpt-4o-transcribe``, Groq's
    ``groq/whisper-large-v3``, any OpenAI-format provider) or Azure's deployment URL
    (``azure/<deployment>``).

    ``file`` is an open binary file, a path, bytes or a ``(filename, bytes)`` tuple; a
    path or a file opened from one is streamed from disk, never read into memory.
    ``response_format`` is json (the default), text, srt, vtt or verbose_json; the text
    formats come back as ``TranscriptionResponse(text=...)``, as in LiteLLM.
    ``_hidden_params["response_cost"]`` is priced per second of audio (the reply's
    ``duration`` or ``usage.seconds``) or per token (gpt-4o transcribe models).
    """
    params = _params(locals())
    r = _rustllm()
    if r._observed(params):
        from rustllm import _hooks

        return _hooks.call("transcription", params, _transcription)
    return _transcription(params)


async def atranscription(
    model: str,
    file: Any,
    language: str | None = None,
    prompt: str | None = None,
    response_format: str | None = None,
    timestamp_granularities: list[str] | None = None,
    temperature: float | None = None,
    user: str | None = None,
    timeout: float | None = 600,
    api_key: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    max_retries: int | None = None,
    custom_llm_provider: str | None = None,
    **kwargs: Any,
) -> TranscriptionResponse:
    """The async twin of :func:`transcription`."""
    params = _params(locals())
    r = _rustllm()
    if r._observed(params):
        from rustllm import _hooks

        return await _hooks.acall("atranscription", params, _atranscription)
    return await _atranscription(params)
