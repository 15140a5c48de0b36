"""The response objects of ``image_generation``: LiteLLM's ``ImageResponse`` and
``ImageObject`` (``litellm.types.utils``, after OpenAI's ``ImagesResponse``), on rustllm's
response base (attribute and item access, ``model_dump``, ``_hidden_params``, equality,
pickling)."""

from __future__ import annotations

from typing import Any

from rustllm.types.utils import _fields, _new, _ResponseObject


class ImageObject(_ResponseObject):
    """One generated image: ``url`` or ``b64_json`` (as ``response_format`` asked, or
    always base64 for gpt-image models), and ``revised_prompt`` when the model rewrote
    the prompt (dall-e-3)."""

    b64_json: str | None
    revised_prompt: str | None
    url: str | None

    _declared = frozenset(("b64_json", "revised_prompt", "url"))
    model_fields = _fields("b64_json", "revised_prompt", "url")

    def __init__(
        self, b64_json: str | None = None, revised_prompt: str | None = None, url: str | None = None, **extra: Any
    ) -> None:
        d = self.__dict__
        d["b64_json"] = b64_json
        d["revised_prompt"] = revised_prompt
        d["url"] = url
        d.update(extra)


_IMAGE_FIELDS = ("created", "background", "data", "output_format", "quality", "size", "usage")


def _fill_images(d: dict, src: dict) -> None:
    for name in _IMAGE_FIELDS:
        d[name] = src.get(name)
    data = d["data"]
    d["data"] = [x if isinstance(x, ImageObject) else ImageObject(**x) for x in data or []]
    for k, v in src.items():
        if k not in d:
            d[k] = v


class ImageResponse(_ResponseObject):
    """The result of ``image_generation()``: ``created``, ``data`` (one
    :class:`ImageObject` per image: ``url`` or ``b64_json``, ``revised_prompt``),
    ``usage`` (gpt-image models' token counts, a dict), and ``size``, ``quality``,
    ``background``, ``output_format`` as the provider reported them (``size`` and
    ``quality`` fall back to what was asked for). Private: ``_hidden_params``
    (``response_cost`` among them), ``_response_ms``."""

    created: int | None
    background: str | None
    data: list[ImageObject]
    output_format: str | None
    quality: str | None
    size: str | None
    usage: dict | None
    _hidden_params: dict[str, Any]
    _response_ms: float | None

    _declared = frozenset(_IMAGE_FIELDS)
    model_fields = _fields(*_IMAGE_FIELDS)
    _fill = staticmethod(_fill_images)

    def __init__(
        self,
        created: int | None = None,
        data: list | None = None,
        response_ms: float | None = None,
        usage: dict | None = None,
        hidden_params: dict | None = None,
        **params: Any,
    ) -> None:
        params.update(created=created, data=data, usage=usage)
        d = self.__dict__
        _fill_images(d, params)
        d["_hidden_params"] = hidden_params if hidden_params else {}
        d["_response_ms"] = response_ms

    @classmethod
    def _from_openai(
        cls, d: dict[str, Any], hidden_params: dict[str, Any] | None = None, response_ms: float | None = None
    ) -> ImageResponse:
        """Build from the body the Rust core returns (OpenAI's images response)."""
        o = _new(cls)
        od = o.__dict__
        _fill_images(od, d)
        od["_hidden_params"] = {} if hidden_params is None else hidden_params
        od["_response_ms"] = response_ms
        return o
