"""Wrong uses the type checkers must report: one on each line with an expect-error comment.

``tests/typing/check.py`` runs mypy and pyright on this file and fails unless each
checker reports an error on every marked line and on no other line. With vaguer types
(``Any`` exceptions, a plain ``dict`` from ``get_model_info``, a ``str`` routing strategy,
a union from ``completion``) these lines pass silently, so this file proves the checks can
fail.
"""

from __future__ import annotations

import rustllm as litellm

MESSAGES = [{"role": "user", "content": "hi"}]


def reply_text_is_optional() -> str:
    response = litellm.completion(model="openai/gpt-4o-mini", messages=MESSAGES)
    return response.choices[0].message.content  # expect-error: str | None is not str


def a_reply_is_not_a_stream() -> None:
    response = litellm.completion(model="openai/gpt-4o-mini", messages=MESSAGES)
    _ = response.choices[0].delta  # expect-error: Choices has no delta


def a_chunk_has_no_message() -> None:
    for chunk in litellm.completion(model="openai/gpt-4o-mini", messages=MESSAGES, stream=True):
        _ = chunk.choices[0].message  # expect-error: StreamingChoices has no message


def a_stream_has_no_choices() -> None:
    _ = litellm.completion(model="openai/gpt-4o-mini", messages=MESSAGES, stream=True).choices  # expect-error


async def an_awaited_reply_is_not_iterable() -> None:
    async for _ in await litellm.acompletion(model="openai/gpt-4o-mini", messages=MESSAGES):  # expect-error
        pass


def router_reply_is_not_a_stream() -> None:
    router = litellm.Router(model_list=[])
    _ = router.completion(model="gpt", messages=MESSAGES).choices[0].delta  # expect-error


def unknown_strategy() -> None:
    litellm.Router(model_list=[], routing_strategy="round-robin")  # expect-error: not a strategy


def status_code_is_int() -> None:
    try:
        litellm.completion(model="openai/gpt-4o-mini", messages=MESSAGES)
    except litellm.RateLimitError as e:
        e.status_code + "1"  # expect-error: int + str


def model_info_keys() -> None:
    info = litellm.get_model_info("gpt-4o")
    info["max_tokenz"]  # expect-error: no such key
    info["max_input_tokens"] + 1  # expect-error: may be None
