"""Many calls at once, and retries around one: ``batch_completion``,
``batch_completion_models``, ``batch_completion_models_all_responses``,
``completion_with_retries`` and ``acompletion_with_retries`` (LiteLLM's signatures).

Batches run on a thread pool, as in LiteLLM: each thread makes a blocking call whose
network part runs in Rust with the GIL released, so the calls really overlap. Retries
need no tenacity.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable

_sleep = time.sleep


def _rustllm() -> Any:
    return sys.modules["rustllm"]


def _pool(n: int) -> Any:
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=max(1, n), thread_name_prefix="rustllm-batch")


def batch_completion(
    model: str,
    messages: list | None = None,
    functions: list | None = None,
    function_call: Any = None,
    temperature: float | None = None,
    top_p: float | None = None,
    n: int | None = None,
    stream: bool | None = None,
    stop: Any = None,
    max_tokens: int | None = None,
    presence_penalty: float | None = None,
    frequency_penalty: float | None = None,
    logit_bias: dict | None = None,
    user: str | None = None,
    deployment_id: str | None = None,
    request_timeout: float | None = None,
    timeout: float | None = 600,
    max_workers: int | None = 100,
    **kwargs: Any,
) -> list[Any]:
    """One :func:`rustllm.completion` per message list in ``messages`` (a list of
    conversations), up to ``max_workers`` at a time. Returns the responses in input
    order; a call that failed is represented by its exception object, as in LiteLLM."""
    batch = list(messages or [])
    if not batch:
        return []
    common = {
        "functions": functions,
        "function_call": function_call,
        "temperature": temperature,
        "top_p": top_p,
        "n": n,
        "stream": stream,
        "stop": stop,
        "max_tokens": max_tokens,
        "presence_penalty": presence_penalty,
        "frequency_penalty": frequency_penalty,
        "logit_bias": logit_bias,
        "user": user,
        "deployment_id": deployment_id,
        "timeout": request_timeout or timeout,
    }
    common = {k: v for k, v in common.items() if v is not None}
    common.update(kwargs)
    completion = _rustllm().completion

    def one(conversation: list) -> Any:
        try:
            return completion(model=model, messages=conversation, **common)
        except Exception as e:  # noqa: BLE001 - LiteLLM returns a failed item's exception in its place
            return e

    workers = min(max_workers or 100, len(batch))
    if workers == 1:
        return [one(batch[0])]
    with _pool(workers) as pool:
        return list(pool.map(one, batch))


def _models_arg(kwargs: dict[str, Any]) -> list[str]:
    kwargs.pop("model", None)
    if "models" not in kwargs:
        raise Exception("'models' param not in kwargs")
    models = kwargs.pop("models")
    if isinstance(models, str):
        return [models]
    if isinstance(models, (list, tuple)):
        return list(models)
    raise TypeError("Expected 'models' to be a string or list, got " + type(models).__name__)


def batch_completion_models(*args: Any, **kwargs: Any) -> Any:
    """The same request to every model in ``models=[...]`` at once; returns the first
    response to arrive (a model that fails is skipped), or None when all fail, as in
    LiteLLM. The other requests are abandoned (their threads finish in the background)."""
    from concurrent.futures import FIRST_COMPLETED, wait

    models = _models_arg(kwargs)
    if not models:
        return None
    completion = _rustllm().completion
    pool = _pool(len(models))
    try:
        pending = {pool.submit(completion, *args, model=m, **kwargs) for m in models}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                if future.exception() is None:
                    return future.result()
                import logging

                logging.getLogger("rustllm").warning(
                    "rustllm.batch_completion_models: a model failed: %s", future.exception()
                )
        return None
    finally:
        pool.shutdown(wait=False)


def batch_completion_models_all_responses(*args: Any, **kwargs: Any) -> list[Any]:
    """The same request to every model in ``models=[...]`` at once; returns every
    response in ``models`` order. The first failure (in that order) is raised, as in
    LiteLLM."""
    models = _models_arg(kwargs)
    if not models:
        return []
    completion = _rustllm().completion
    with _pool(len(models)) as pool:
        futures = [pool.submit(completion, *args, model=m, **kwargs) for m in models]
        return [f.result() for f in futures]


def _retry_setup(kwargs: dict[str, Any]) -> tuple[int, str, Any]:
    num_retries = kwargs.pop("num_retries", 3)
    strategy = kwargs.pop("retry_strategy", "constant_retry")
    if strategy not in ("constant_retry", "exponential_backoff_retry"):
        raise ValueError(f"retry_strategy must be 'constant_retry' or 'exponential_backoff_retry', got {strategy!r}")
    original = kwargs.pop("original_function", None)
    # The retries happen here; the call itself makes one attempt.
    kwargs["max_retries"] = 0
    kwargs["num_retries"] = 0
    attempts = max(1, int(num_retries if num_retries is not None else 3))
    return attempts, strategy, original


def _wait(strategy: str, attempt: int) -> float:
    """tenacity's waits as LiteLLM configures them: none for constant_retry;
    ``wait_exponential(multiplier=1, max=10)`` (1, 2, 4, 8, 10, 10 s ...) otherwise."""
    if strategy != "exponential_backoff_retry":
        return 0.0
    return float(min(10, 2 ** (attempt - 1)))


def completion_with_retries(*args: Any, **kwargs: Any) -> Any:
    """:func:`rustllm.completion` retried on any exception, as LiteLLM's tenacity setup:
    ``num_retries`` (default 3) is the total number of attempts, ``retry_strategy`` is
    ``"constant_retry"`` (no wait) or ``"exponential_backoff_retry"`` (1 s doubling up to
    10 s). The last exception is raised. ``original_function=`` calls another function."""
    attempts, strategy, original = _retry_setup(kwargs)
    fn: Callable[..., Any] = original or _rustllm().completion
    for attempt in range(1, attempts + 1):
        try:
            return fn(*args, **kwargs)
        except Exception:
            if attempt >= attempts:
                raise
            pause = _wait(strategy, attempt)
            if pause:
                _sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover


async def acompletion_with_retries(*args: Any, **kwargs: Any) -> Any:
    """The async twin of :func:`completion_with_retries` (retries
    :func:`rustllm.acompletion`)."""
    import asyncio

    attempts, strategy, original = _retry_setup(kwargs)
    fn: Callable[..., Any] = original or _rustllm().acompletion
    for attempt in range(1, attempts + 1):
        try:
            return await fn(*args, **kwargs)
        except Exception:
            if attempt >= attempts:
                raise
            pause = _wait(strategy, attempt)
            if pause:
                await asyncio.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover
