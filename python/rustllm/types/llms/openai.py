"""The OpenAI chat request types of ``litellm.types.llms.openai``: message, content-part
and tool TypedDicts, as LiteLLM names them (reference 1.75.8), for annotating the
``messages`` and ``tools`` a program passes to :func:`rustllm.completion`.

TypedDicts are plain dicts at run time: they validate nothing and cost nothing per call.
``OpenAIModerationResponse`` is the object :func:`rustllm.moderation` returns. The
Responses API's objects (``ResponsesAPIResponse``, ``ResponseAPIUsage``, the stream
event classes and ``ResponsesAPIStreamEvents``) are importable from here as in LiteLLM;
they live in ``rustllm._responses``. LiteLLM's files, batches and realtime types are not
here (rustllm does not implement those endpoints).
"""

# No `from __future__ import annotations`: TypedDict reads Required[...] from evaluated
# annotations; string annotations would hide it.
from collections.abc import Iterable
from typing import Literal, Optional, TypedDict, Union

from rustllm.types._endpoints import OpenAIModerationResponse, OpenAIModerationResult
from rustllm.types._typing import Required

__all__ = [
    "AllEmbeddingInputValues",
    "OpenAIModerationResponse",
    "OpenAIModerationResult",
    "AllMessageValues",
    "AllPromptValues",
    "ChatCompletionAnnotation",
    "ChatCompletionAnnotationURLCitation",
    "ChatCompletionAssistantContentValue",
    "ChatCompletionAssistantMessage",
    "ChatCompletionAssistantToolCall",
    "ChatCompletionAudioDelta",
    "ChatCompletionAudioObject",
    "ChatCompletionCachedContent",
    "ChatCompletionDeltaChunk",
    "ChatCompletionDeltaToolCallChunk",
    "ChatCompletionDeveloperMessage",
    "ChatCompletionDocumentObject",
    "ChatCompletionFileObject",
    "ChatCompletionFileObjectFile",
    "ChatCompletionFunctionMessage",
    "ChatCompletionImageObject",
    "ChatCompletionImageUrlObject",
    "ChatCompletionNamedToolChoiceParam",
    "ChatCompletionRedactedThinkingBlock",
    "ChatCompletionRequest",
    "ChatCompletionResponseMessage",
    "ChatCompletionSystemMessage",
    "ChatCompletionTextObject",
    "ChatCompletionThinkingBlock",
    "ChatCompletionToolCallChunk",
    "ChatCompletionToolCallFunctionChunk",
    "ChatCompletionToolChoiceFunctionParam",
    "ChatCompletionToolChoiceObjectParam",
    "ChatCompletionToolChoiceStringValues",
    "ChatCompletionToolChoiceValues",
    "ChatCompletionToolMessage",
    "ChatCompletionToolParam",
    "ChatCompletionToolParamFunctionChunk",
    "ChatCompletionUsageBlock",
    "ChatCompletionUserMessage",
    "ChatCompletionVideoObject",
    "ChatCompletionVideoUrlObject",
    "CitationsObject",
    "DocumentObject",
    "EmbeddingInput",
    "FileSearchTool",
    "Function",
    "GenericChatCompletionMessage",
    "OpenAIChatCompletionAssistantMessage",
    "OpenAIChatCompletionDeveloperMessage",
    "OpenAIChatCompletionSystemMessage",
    "OpenAIChatCompletionTextObject",
    "OpenAIChatCompletionToolParam",
    "OpenAIChatCompletionUserMessage",
    "OpenAIMessageContent",
    "OpenAIMessageContentListBlock",
    "OpenAITextCompletionUserMessage",
    "ValidUserMessageContentTypes",
    "WebSearchOptions",
    "WebSearchOptionsUserLocation",
    "WebSearchOptionsUserLocationApproximate",
]

EmbeddingInput = Union[str, list[str]]
AllEmbeddingInputValues = Union[str, list[str], list[int], list[list[int]]]
# A text-completion prompt: a string, strings, tokens or lists of tokens.
AllPromptValues = Union[str, list[str], Iterable[int], Iterable[Iterable[int]], None]


# ---- tool calls -------------------------------------------------------------------------
class ChatCompletionToolCallFunctionChunk(TypedDict, total=False):
    name: Optional[str]
    arguments: str


class ChatCompletionAssistantToolCall(TypedDict):
    id: Optional[str]
    type: Literal["function"]
    function: ChatCompletionToolCallFunctionChunk


class ChatCompletionToolCallChunk(TypedDict):
    id: Optional[str]
    type: Literal["function"]
    function: ChatCompletionToolCallFunctionChunk
    index: int


class ChatCompletionDeltaToolCallChunk(TypedDict, total=False):
    id: str
    type: Literal["function"]
    function: ChatCompletionToolCallFunctionChunk
    index: int


class ChatCompletionAudioDelta(TypedDict, total=False):
    data: str
    transcript: str
    expires_at: int
    id: str


# ---- content parts ----------------------------------------------------------------------
class ChatCompletionCachedContent(TypedDict):
    """Anthropic prompt caching marker: ``{"type": "ephemeral"}``."""

    type: Literal["ephemeral"]


class ChatCompletionThinkingBlock(TypedDict, total=False):
    type: Required[Literal["thinking"]]
    thinking: str
    signature: str
    cache_control: Optional[Union[dict, ChatCompletionCachedContent]]


class ChatCompletionRedactedThinkingBlock(TypedDict, total=False):
    type: Required[Literal["redacted_thinking"]]
    data: str
    cache_control: Optional[Union[dict, ChatCompletionCachedContent]]


class ChatCompletionAnnotationURLCitation(TypedDict, total=False):
    end_index: int
    start_index: int
    title: str
    url: str


class ChatCompletionAnnotation(TypedDict, total=False):
    type: Literal["url_citation"]
    url_citation: ChatCompletionAnnotationURLCitation


class OpenAIChatCompletionTextObject(TypedDict):
    type: Literal["text"]
    text: str


class ChatCompletionTextObject(OpenAIChatCompletionTextObject, total=False):
    cache_control: ChatCompletionCachedContent


class ChatCompletionImageUrlObject(TypedDict, total=False):
    url: Required[str]
    detail: str
    format: str


class ChatCompletionImageObject(TypedDict):
    type: Literal["image_url"]
    image_url: Union[str, ChatCompletionImageUrlObject]


class ChatCompletionVideoUrlObject(TypedDict, total=False):
    url: Required[str]
    detail: str


class ChatCompletionVideoObject(TypedDict):
    type: Literal["video_url"]
    video_url: Union[str, ChatCompletionVideoUrlObject]


class _InputAudio(TypedDict):
    data: str
    format: Literal["wav", "mp3"]


class ChatCompletionAudioObject(TypedDict):
    """An ``input_audio`` content part (openai's ``ChatCompletionContentPartInputAudioParam``)."""

    type: Literal["input_audio"]
    input_audio: _InputAudio


class DocumentObject(TypedDict):
    type: Literal["text"]
    media_type: str
    data: str


class CitationsObject(TypedDict):
    enabled: bool


class ChatCompletionDocumentObject(TypedDict):
    type: Literal["document"]
    source: DocumentObject
    title: str
    context: str
    citations: Optional[CitationsObject]


class ChatCompletionFileObjectFile(TypedDict, total=False):
    file_data: str
    file_id: str
    filename: str
    format: str


class ChatCompletionFileObject(TypedDict):
    type: Literal["file"]
    file: ChatCompletionFileObjectFile


OpenAIMessageContentListBlock = Union[
    ChatCompletionTextObject,
    ChatCompletionImageObject,
    ChatCompletionAudioObject,
    ChatCompletionDocumentObject,
    ChatCompletionVideoObject,
    ChatCompletionFileObject,
]
OpenAIMessageContent = Union[str, Iterable[OpenAIMessageContentListBlock]]

# The content-part types LiteLLM accepts in a user message.
ValidUserMessageContentTypes = ["text", "image_url", "input_audio", "audio_url", "document", "video_url", "file"]


# ---- messages ---------------------------------------------------------------------------
class OpenAIChatCompletionUserMessage(TypedDict):
    role: Literal["user"]
    content: OpenAIMessageContent


class OpenAITextCompletionUserMessage(TypedDict):
    role: Literal["user"]
    content: AllPromptValues


class ChatCompletionUserMessage(OpenAIChatCompletionUserMessage, total=False):
    cache_control: ChatCompletionCachedContent


class OpenAIChatCompletionAssistantMessage(TypedDict, total=False):
    role: Required[Literal["assistant"]]
    content: Optional[Union[str, Iterable[Union[ChatCompletionTextObject, ChatCompletionThinkingBlock]]]]
    name: Optional[str]
    tool_calls: Optional[list[ChatCompletionAssistantToolCall]]
    function_call: Optional[ChatCompletionToolCallFunctionChunk]
    reasoning_content: Optional[str]


class ChatCompletionAssistantMessage(OpenAIChatCompletionAssistantMessage, total=False):
    cache_control: ChatCompletionCachedContent
    thinking_blocks: Optional[list[ChatCompletionThinkingBlock]]


class ChatCompletionToolMessage(TypedDict):
    role: Literal["tool"]
    content: Union[str, Iterable[ChatCompletionTextObject]]
    tool_call_id: str


class ChatCompletionFunctionMessage(TypedDict):
    role: Literal["function"]
    content: Optional[Union[str, Iterable[ChatCompletionTextObject]]]
    name: str
    tool_call_id: Optional[str]


class OpenAIChatCompletionSystemMessage(TypedDict, total=False):
    role: Required[Literal["system"]]
    content: Required[Union[str, list]]
    name: str


class OpenAIChatCompletionDeveloperMessage(TypedDict, total=False):
    role: Required[Literal["developer"]]
    content: Required[Union[str, list]]
    name: str


class ChatCompletionSystemMessage(OpenAIChatCompletionSystemMessage, total=False):
    cache_control: ChatCompletionCachedContent


class ChatCompletionDeveloperMessage(OpenAIChatCompletionDeveloperMessage, total=False):
    cache_control: ChatCompletionCachedContent


class GenericChatCompletionMessage(TypedDict, total=False):
    role: Required[str]
    content: Required[Union[str, list]]


AllMessageValues = Union[
    ChatCompletionUserMessage,
    ChatCompletionAssistantMessage,
    ChatCompletionToolMessage,
    ChatCompletionSystemMessage,
    ChatCompletionFunctionMessage,
    ChatCompletionDeveloperMessage,
]


# ---- tools ------------------------------------------------------------------------------
class ChatCompletionToolChoiceFunctionParam(TypedDict):
    name: str


class ChatCompletionToolChoiceObjectParam(TypedDict):
    type: Literal["function"]
    function: ChatCompletionToolChoiceFunctionParam


ChatCompletionToolChoiceStringValues = Literal["none", "auto", "required"]
ChatCompletionToolChoiceValues = Union[ChatCompletionToolChoiceStringValues, ChatCompletionToolChoiceObjectParam]


class ChatCompletionToolParamFunctionChunk(TypedDict, total=False):
    name: Required[str]
    description: str
    parameters: dict
    strict: bool


class OpenAIChatCompletionToolParam(TypedDict):
    type: Union[Literal["function"], str]
    function: ChatCompletionToolParamFunctionChunk


class ChatCompletionToolParam(OpenAIChatCompletionToolParam, total=False):
    cache_control: ChatCompletionCachedContent


class Function(TypedDict, total=False):
    name: Required[str]


class ChatCompletionNamedToolChoiceParam(TypedDict, total=False):
    function: Required[Function]
    type: Required[Literal["function"]]


class FileSearchTool(TypedDict, total=False):
    type: Literal["file_search"]
    vector_store_ids: Optional[list[str]]


class WebSearchOptionsUserLocationApproximate(TypedDict, total=False):
    city: str
    country: str
    region: str
    timezone: str


class WebSearchOptionsUserLocation(TypedDict, total=False):
    approximate: Required[WebSearchOptionsUserLocationApproximate]
    type: Required[Literal["approximate"]]


class WebSearchOptions(TypedDict, total=False):
    search_context_size: Literal["low", "medium", "high"]
    user_location: Optional[WebSearchOptionsUserLocation]


# ---- request and response shapes --------------------------------------------------------
class ChatCompletionRequest(TypedDict, total=False):
    model: Required[str]
    messages: Required[list[AllMessageValues]]
    frequency_penalty: float
    logit_bias: dict
    logprobs: bool
    top_logprobs: int
    max_tokens: int
    n: int
    presence_penalty: float
    response_format: dict
    seed: int
    service_tier: str
    stop: Union[str, list[str]]
    stream_options: dict
    temperature: float
    top_p: float
    tools: list[ChatCompletionToolParam]
    tool_choice: ChatCompletionToolChoiceValues
    parallel_tool_calls: bool
    function_call: Union[str, dict]
    functions: list
    user: str
    metadata: dict


class ChatCompletionDeltaChunk(TypedDict, total=False):
    content: Optional[str]
    tool_calls: list[ChatCompletionDeltaToolCallChunk]
    role: str


ChatCompletionAssistantContentValue = str


class ChatCompletionResponseMessage(TypedDict, total=False):
    content: Optional[ChatCompletionAssistantContentValue]
    tool_calls: Optional[list[ChatCompletionToolCallChunk]]
    role: Literal["assistant"]
    function_call: Optional[ChatCompletionToolCallFunctionChunk]
    provider_specific_fields: Optional[dict]
    reasoning_content: Optional[str]
    thinking_blocks: Optional[list[Union[ChatCompletionThinkingBlock, ChatCompletionRedactedThinkingBlock]]]


class ChatCompletionUsageBlock(TypedDict, total=False):
    prompt_tokens: Required[int]
    completion_tokens: Required[int]
    total_tokens: Required[int]
    prompt_tokens_details: Optional[dict]
    completion_tokens_details: Optional[dict]


# The Responses API's objects, importable from here as in LiteLLM (loaded on first use).
_RESPONSES_NAMES = frozenset(
    {
        "ResponsesAPIResponse",
        "ResponseAPIUsage",
        "ResponsesAPIStreamingResponse",
        "ResponsesAPIStreamEvents",
        "ResponseCreatedEvent",
        "ResponseInProgressEvent",
        "ResponseCompletedEvent",
        "ResponseIncompleteEvent",
        "OutputItemAddedEvent",
        "OutputItemDoneEvent",
        "ContentPartAddedEvent",
        "ContentPartDoneEvent",
        "OutputTextDeltaEvent",
        "OutputTextDoneEvent",
        "FunctionCallArgumentsDeltaEvent",
        "FunctionCallArgumentsDoneEvent",
        "ReasoningSummaryTextDeltaEvent",
        "ReasoningSummaryTextDoneEvent",
        "GenericEvent",
        "DeleteResponseResult",
    }
)


def __getattr__(name: str) -> object:
    if name in _RESPONSES_NAMES:
        from rustllm import _responses

        return getattr(_responses, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
