"""A guardrail class's ``async_post_call_streaming_iterator_hook`` over a stream the
proxy held (``rustllm proxy``; called from Rust on a worker thread).

The hook gets an async iterator of the stream's chunks, as LiteLLM gives it: a chat
stream's chunks as ``ModelResponseStream`` objects, other routes' events as dicts, and
what it yields is what the client gets. The answer names each chunk it yields: the index
of a chunk it passed through unchanged (so it goes out exactly as it came), or the JSON
object of one it made or changed.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from rustllm.integrations.custom_guardrail import CustomGuardrail

HOOK = "async_post_call_streaming_iterator_hook"


def overrides(guardrail: Any) -> bool:
    """Whether ``guardrail`` (a LiteLLM-style class, duck-typed or not) has a stream hook
    of its own."""
    found = getattr(type(guardrail), HOOK, None)
    return callable(found) and found is not getattr(CustomGuardrail, HOOK)


def _dump(item: Any) -> Any:
    dump = getattr(item, "model_dump", None)
    if dump is not None:
        return dump(exclude_none=True)
    if isinstance(item, dict):
        return item
    raise TypeError(
        f"{HOOK} yielded {type(item).__name__}: expected a chunk (ModelResponseStream or a dict of its JSON)"
    )


def run(guardrail: Any, user_api_key_dict: Any, request_data: dict, chunks: list, chat: bool) -> list | None:
    """The hook over ``chunks``: a list of kept indices and new chunk dicts, or ``None``
    when it yielded every chunk unchanged, in order."""
    if chat:
        from rustllm.types.utils import ModelResponseStream

        originals: list = [ModelResponseStream(**c) for c in chunks]
        before = [o.model_dump() for o in originals]
    else:
        originals = chunks
        before = [copy.deepcopy(c) for c in chunks]
    index = {id(o): i for i, o in enumerate(originals)}

    async def source() -> Any:
        for o in originals:
            yield o

    async def drain() -> list:
        out = []
        it = getattr(guardrail, HOOK)(user_api_key_dict=user_api_key_dict, response=source(), request_data=request_data)
        async for item in it:
            out.append(item)
        return out

    answer: list = []
    for item in asyncio.run(drain()):
        i = index.get(id(item))
        if i is not None and (item.model_dump() if chat else item) == before[i]:
            answer.append(i)
        else:
            answer.append(_dump(item))
    if answer == list(range(len(chunks))):
        return None
    return answer
