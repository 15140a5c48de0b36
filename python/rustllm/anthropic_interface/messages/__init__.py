"""``litellm.anthropic.messages``: ``create`` and ``acreate`` take Anthropic's Messages
request and answer with Anthropic's message (or its stream of events), whatever the
provider behind ``model``; see :func:`rustllm.anthropic_messages`."""

from __future__ import annotations

from typing import Any

from rustllm._anthropic_messages import (
    AnthropicMessagesResponse,
    AnthropicMessagesStream,
    aanthropic_messages,
    anthropic_messages,
)


async def acreate(
    max_tokens: int,
    messages: list[dict],
    model: str,
    metadata: dict | None = None,
    stop_sequences: list[str] | None = None,
    stream: bool | None = False,
    system: str | list[dict] | None = None,
    temperature: float | None = None,
    thinking: dict | None = None,
    tool_choice: dict | None = None,
    tools: list[dict] | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    **kwargs: Any,
) -> AnthropicMessagesResponse | AnthropicMessagesStream:
    """Anthropic's Messages API, async (LiteLLM's ``anthropic.messages.acreate``)."""
    return await aanthropic_messages(
        max_tokens=max_tokens,
        messages=messages,
        model=model,
        metadata=metadata,
        stop_sequences=stop_sequences,
        stream=stream,
        system=system,
        temperature=temperature,
        thinking=thinking,
        tool_choice=tool_choice,
        tools=tools,
        top_k=top_k,
        top_p=top_p,
        **kwargs,
    )


def create(
    max_tokens: int,
    messages: list[dict],
    model: str,
    metadata: dict | None = None,
    stop_sequences: list[str] | None = None,
    stream: bool | None = False,
    system: str | list[dict] | None = None,
    temperature: float | None = None,
    thinking: dict | None = None,
    tool_choice: dict | None = None,
    tools: list[dict] | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    **kwargs: Any,
) -> AnthropicMessagesResponse | AnthropicMessagesStream:
    """Anthropic's Messages API, blocking (LiteLLM's ``anthropic.messages.create``)."""
    return anthropic_messages(
        max_tokens=max_tokens,
        messages=messages,
        model=model,
        metadata=metadata,
        stop_sequences=stop_sequences,
        stream=stream,
        system=system,
        temperature=temperature,
        thinking=thinking,
        tool_choice=tool_choice,
        tools=tools,
        top_k=top_k,
        top_p=top_p,
        **kwargs,
    )


__all__ = ["acreate", "create"]
