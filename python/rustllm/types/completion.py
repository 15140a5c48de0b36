"""LiteLLM's ``litellm.types.completion``: OpenAI's message parameter TypedDicts (the
``*Param`` names) and the ``CompletionRequest`` model."""

# No `from __future__ import annotations`: TypedDict reads Required[...] from evaluated
# annotations.
from collections.abc import Iterable
from typing import Literal, Optional, TypedDict, Union

from rustllm.types._model import _Model
from rustllm.types._typing import Required

__all__ = [
    "ChatCompletionAssistantMessageParam",
    "ChatCompletionContentPartImageParam",
    "ChatCompletionContentPartParam",
    "ChatCompletionContentPartTextParam",
    "ChatCompletionFunctionMessageParam",
    "ChatCompletionMessageParam",
    "ChatCompletionMessageToolCallParam",
    "ChatCompletionSystemMessageParam",
    "ChatCompletionToolMessageParam",
    "ChatCompletionUserMessageParam",
    "CompletionRequest",
    "Function",
    "FunctionCall",
    "ImageURL",
]


class ChatCompletionSystemMessageParam(TypedDict, total=False):
    content: Required[str]
    role: Required[Literal["system"]]
    name: str


class ChatCompletionContentPartTextParam(TypedDict, total=False):
    text: Required[str]
    type: Required[Literal["text"]]


class ImageURL(TypedDict, total=False):
    url: Required[str]
    detail: Literal["auto", "low", "high"]


class ChatCompletionContentPartImageParam(TypedDict, total=False):
    image_url: Required[ImageURL]
    type: Required[Literal["image_url"]]


ChatCompletionContentPartParam = Union[ChatCompletionContentPartTextParam, ChatCompletionContentPartImageParam]


class ChatCompletionUserMessageParam(TypedDict, total=False):
    content: Required[Union[str, Iterable[ChatCompletionContentPartParam]]]
    role: Required[Literal["user"]]
    name: str


class FunctionCall(TypedDict, total=False):
    arguments: Required[str]
    name: Required[str]


class Function(TypedDict, total=False):
    arguments: Required[str]
    name: Required[str]


class ChatCompletionToolMessageParam(TypedDict, total=False):
    content: Required[Union[str, Iterable[ChatCompletionContentPartParam]]]
    role: Required[Literal["tool"]]
    tool_call_id: Required[str]


class ChatCompletionFunctionMessageParam(TypedDict, total=False):
    content: Required[Union[str, Iterable[ChatCompletionContentPartParam]]]
    name: Required[str]
    role: Required[Literal["function"]]


class ChatCompletionMessageToolCallParam(TypedDict, total=False):
    id: Required[str]
    function: Required[Function]
    type: Required[Literal["function"]]


class ChatCompletionAssistantMessageParam(TypedDict, total=False):
    role: Required[Literal["assistant"]]
    content: Optional[str]
    function_call: FunctionCall
    name: str
    tool_calls: Iterable[ChatCompletionMessageToolCallParam]


ChatCompletionMessageParam = Union[
    ChatCompletionSystemMessageParam,
    ChatCompletionUserMessageParam,
    ChatCompletionAssistantMessageParam,
    ChatCompletionFunctionMessageParam,
    ChatCompletionToolMessageParam,
]


class CompletionRequest(_Model):
    """The arguments of a :func:`rustllm.completion` call, with LiteLLM's defaults
    (None, ``messages=[]``); extra keywords are kept."""

    _defaults = (
        ("model", None),
        ("messages", []),
        ("timeout", None),
        ("temperature", None),
        ("top_p", None),
        ("n", None),
        ("stream", None),
        ("stop", None),
        ("max_tokens", None),
        ("presence_penalty", None),
        ("frequency_penalty", None),
        ("logit_bias", None),
        ("user", None),
        ("response_format", None),
        ("seed", None),
        ("tools", None),
        ("tool_choice", None),
        ("logprobs", None),
        ("top_logprobs", None),
        ("deployment_id", None),
        ("functions", None),
        ("function_call", None),
        ("base_url", None),
        ("api_version", None),
        ("api_key", None),
        ("model_list", None),
    )
