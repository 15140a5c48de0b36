"""``image_generation`` / ``aimage_generation`` and ``image_edit`` / ``aimage_edit`` with
LiteLLM's signatures; the calls run in Rust (``_core.image_generation``,
``_core.image_edit``) like ``embedding``, through the same callbacks, retries and
exceptions."""

from __future__ import annotations

import sys
from typing import Any

from rustllm import _core
from rustllm._upload import uploads
from rustllm.types._images import ImageResponse


def _rustllm() -> Any:
    return sys.modules["rustllm"]


def _params(local_vars: dict[str, Any]) -> dict[str, Any]:
    r = _rustllm()
    params = r._collect(local_vars)
    if params.get("model") is None:
        # LiteLLM's default image model.
        params["model"] = "dall-e-2"
    r._apply_settings(params)
    if params.get("timeout") is not None:
        params["timeout"] = r._timeout_seconds(params["timeout"])
    return params


def _image_generation(params: dict[str, Any]) -> ImageResponse:
    try:
        body, hidden, ms = _core.image_generation(params)
    except _core.RustLLMError as err:
        _rustllm()._raise(err, params)
    return ImageResponse._from_openai(body, hidden, ms)


async def _aimage_generation(params: dict[str, Any]) -> ImageResponse:
    r = _rustllm()
    try:
        body, hidden, ms = await r._submit(_core.aimage_generation_submit, params)
    except _core.RustLLMError as err:
        r._raise(err, params)
    return ImageResponse._from_openai(body, hidden, ms)


def image_generation(
    prompt: str,
    model: str | None = None,
    n: int | None = None,
    quality: str | None = None,
    response_format: str | None = None,
    size: str | None = None,
    style: str | None = None,
    user: str | None = None,
    timeout: float | None = 600,
    api_key: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    custom_llm_provider: str | None = None,
    **kwargs: Any,
) -> ImageResponse:
    """Generate images for ``prompt`` with LiteLLM's signature: OpenAI's
    ``POST {api_base}/images/generations`` (``dall-e-2``, the default, ``dall-e-3``,
    ``gpt-image-1``, any OpenAI-format provider) or Azure's
    ``{api_base}/openai/deployments/{deployment}/images/generations?api-version=...``
    (``azure/<deployment>``). Returns an :class:`ImageResponse` whose
    ``_hidden_params["response_cost"]`` is priced from the catalogue (per pixel or per
    image by quality and size, or per token for gpt-image models). Other keyword
    arguments (``background``, ``output_format``, ...) go into the request body.
    """
    params = _params(locals())
    r = _rustllm()
    if r._observed(params):
        from rustllm import _hooks

        return _hooks.call("image_generation", params, _image_generation)
    return _image_generation(params)


async def aimage_generation(
    prompt: str,
    model: str | None = None,
    n: int | None = None,
    quality: str | None = None,
    response_format: str | None = None,
    size: str | None = None,
    style: str | None = None,
    user: str | None = None,
    timeout: float | None = 600,
    api_key: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    custom_llm_provider: str | None = None,
    **kwargs: Any,
) -> ImageResponse:
    """The async twin of :func:`image_generation`."""
    params = _params(locals())
    r = _rustllm()
    if r._observed(params):
        from rustllm import _hooks

        return await _hooks.acall("aimage_generation", params, _aimage_generation)
    return await _aimage_generation(params)


def _image_edit(params: dict[str, Any]) -> ImageResponse:
    with uploads(params, "image", "mask") as sent:
        try:
            body, hidden, ms = _core.image_edit(sent)
        except _core.RustLLMError as err:
            _rustllm()._raise(err, params)
    return ImageResponse._from_openai(body, hidden, ms)


async def _aimage_edit(params: dict[str, Any]) -> ImageResponse:
    r = _rustllm()
    with uploads(params, "image", "mask") as sent:
        try:
            body, hidden, ms = await r._submit(_core.aimage_edit_submit, sent)
        except _core.RustLLMError as err:
            r._raise(err, params)
    return ImageResponse._from_openai(body, hidden, ms)


def image_edit(
    image: Any,
    prompt: str,
    model: str | None = None,
    mask: Any = None,
    n: int | None = None,
    quality: str | None = None,
    response_format: str | None = None,
    size: str | None = None,
    user: str | None = None,
    timeout: float | None = 600,
    custom_llm_provider: str | None = None,
    extra_headers: dict[str, str] | None = None,
    extra_query: dict[str, Any] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> ImageResponse:
    """Edit ``image`` by ``prompt`` with LiteLLM's signature: OpenAI's multipart ``POST
    {api_base}/images/edits`` (``dall-e-2``, the default, ``gpt-image-1``, any
    OpenAI-format provider) or Azure's deployment URL. ``image`` is a file (an open
    binary file, a path, bytes or a ``(filename, bytes)`` tuple) or a list of them (sent
    as ``image[]``); ``mask`` an optional file. Files on disk are streamed from there.
    Returns an :class:`ImageResponse` priced like ``image_generation``."""
    params = _params(locals())
    r = _rustllm()
    if r._observed(params):
        from rustllm import _hooks

        return _hooks.call("image_edit", params, _image_edit)
    return _image_edit(params)


async def aimage_edit(
    image: Any,
    prompt: str,
    model: str | None = None,
    mask: Any = None,
    n: int | None = None,
    quality: str | None = None,
    response_format: str | None = None,
    size: str | None = None,
    user: str | None = None,
    timeout: float | None = 600,
    custom_llm_provider: str | None = None,
    extra_headers: dict[str, str] | None = None,
    extra_query: dict[str, Any] | None = None,
    extra_body: dict[str, Any] | None = None,
    **kwargs: Any,
) -> ImageResponse:
    """The async twin of :func:`image_edit`."""
    params = _params(locals())
    r = _rustllm()
    if r._observed(params):
        from rustllm import _hooks

        return await _hooks.acall("aimage_edit", params, _aimage_edit)
    return await _aimage_edit(params)
