"""Notebook display: rich renderings of responses, chunks, errors and tables, a streamed
reply shown as it arrives, and progress for long runs.

    import rustllm
    stream = rustllm.completion(model=..., messages=..., stream=True)
    chunks = rustllm.display_stream(stream)        # the reply grows in place
    rustllm.stream_chunk_builder(chunks)           # renders as a card in Jupyter

    rustllm.display.table(router.deployment_stats())
    results = await rustllm.display.gather(*[router.acompletion(...) for _ in range(50)])

Everything works outside a notebook too: text goes to stdout, progress to stderr.
IPython is imported only when something is shown in a kernel.
"""

from __future__ import annotations

import html
import json
import sys
import time
from collections.abc import AsyncIterable, Awaitable, Iterable, Iterator, Sequence
from typing import Any

__all__ = ["Table", "adisplay_stream", "display_stream", "gather", "progress", "table"]

_BOX = "border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;margin:4px 0;font-family:system-ui,sans-serif"
_MUTED = "color:#57606a;font-size:90%"
_PRE = "white-space:pre-wrap;margin:6px 0"


def _e(value: Any) -> str:
    return html.escape(str(value))


def _kernel() -> Any:
    """The running IPython kernel shell, or None outside a notebook."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    shell = ipython.get_ipython()
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


# ---------------------------------------------------------------------------------------
# Renderers used by the response and exception classes' _repr_html_ / _repr_markdown_
# ---------------------------------------------------------------------------------------
def _args_text(arguments: Any) -> str:
    if isinstance(arguments, str):
        try:
            return json.dumps(json.loads(arguments), ensure_ascii=False)
        except ValueError:
            return arguments
    return json.dumps(arguments, ensure_ascii=False, default=str)


def _usage_bits(usage: Any) -> list[str]:
    if usage is None:
        return []
    bits = [f"{usage.prompt_tokens} in", f"{usage.completion_tokens} out", f"{usage.total_tokens} total"]
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) if details is not None else None
    if cached:
        bits.append(f"{cached} cached")
    details = getattr(usage, "completion_tokens_details", None)
    reasoning = getattr(details, "reasoning_tokens", None) if details is not None else None
    if reasoning:
        bits.append(f"{reasoning} reasoning")
    return bits


def _summary(response: Any) -> list[str]:
    hidden = getattr(response, "_hidden_params", None) or {}
    bits = [f"model {response.model}"] if response.model else []
    provider = hidden.get("custom_llm_provider")
    if provider:
        bits.append(provider)
    bits += _usage_bits(getattr(response, "usage", None))
    cost = hidden.get("response_cost")
    if cost:
        bits.append(f"${cost:.6f}")
    ms = getattr(response, "_response_ms", None)
    if ms:
        bits.append(f"{ms:.0f} ms")
    return bits


def response_html(response: Any) -> str:
    """A ``ModelResponse`` as an HTML card: each choice's text, tool calls and reasoning,
    then model, usage, cost and latency."""
    parts = [f'<div style="{_BOX}">']
    for choice in response.choices:
        message = choice.message
        label = f"choice {choice.index} · " if len(response.choices) > 1 else ""
        parts.append(
            f'<div style="{_MUTED}">{_e(label)}{_e(message.role)} · finish_reason={_e(choice.finish_reason)}</div>'
        )
        reasoning = getattr(message, "reasoning_content", None)
        if reasoning:
            parts.append(
                f'<details><summary style="{_MUTED}">reasoning</summary><div style="{_PRE}">{_e(reasoning)}</div></details>'
            )
        if message.content:
            parts.append(f'<div style="{_PRE}">{_e(message.content)}</div>')
        for call in message.tool_calls or []:
            fn = call.function
            parts.append(
                f'<div>🔧 <code>{_e(fn.name)}({_e(_args_text(fn.arguments))})</code> <span style="{_MUTED}">{_e(call.id)}</span></div>'
            )
    parts.append(f'<div style="{_MUTED}">{_e(" · ".join(_summary(response)))}</div></div>')
    return "".join(parts)


def response_markdown(response: Any) -> str:
    """A ``ModelResponse`` as Markdown (text, tool calls, then a summary line)."""
    lines = []
    for choice in response.choices:
        message = choice.message
        if len(response.choices) > 1:
            lines.append(f"**choice {choice.index}** (finish_reason={choice.finish_reason})\n")
        if message.content:
            lines.append(message.content + "\n")
        for call in message.tool_calls or []:
            lines.append(f"- 🔧 `{call.function.name}({_args_text(call.function.arguments)})`")
    lines.append(f"\n*{' · '.join(_summary(response))}*")
    return "\n".join(lines)


def chunk_html(chunk: Any) -> str:
    """One ``ModelResponseStream`` chunk as a single line: its delta, finish and usage."""
    bits = []
    for choice in chunk.choices:
        delta = choice.delta
        if delta.role:
            bits.append(f"role={_e(delta.role)}")
        if delta.content:
            bits.append(f"<code>{_e(repr(delta.content))}</code>")
        for call in delta.tool_calls or []:
            fn = call.function
            name = f"{fn.name} " if fn is not None and fn.name else ""
            args = fn.arguments if fn is not None and fn.arguments else ""
            bits.append(f"🔧[{call.index}] {_e(name)}<code>{_e(args)}</code>")
        if choice.finish_reason:
            bits.append(f"finish_reason={_e(choice.finish_reason)}")
    usage = getattr(chunk, "usage", None)
    if usage is not None:
        bits.append("usage " + _e(" · ".join(_usage_bits(usage))))
    body = " ".join(bits) or f'<span style="{_MUTED}">(empty)</span>'
    return f'<div style="font-family:monospace"><span style="{_MUTED}">chunk</span> {body}</div>'


def embedding_html(response: Any) -> str:
    """An ``EmbeddingResponse``: how many vectors, their size, usage."""
    data = response.data or []
    dims = len(data[0]["embedding"]) if data and isinstance(data[0].get("embedding"), list) else "?"
    usage = getattr(response, "usage", None)
    tokens = f" · {usage.prompt_tokens} tokens" if usage is not None else ""
    return f'<div style="{_BOX}">{len(data)} embedding(s) x {dims} dims · model {_e(response.model)}{_e(tokens)}</div>'


def error_html(err: BaseException) -> str:
    """A LiteLLM exception as a red card: class, status, provider, model, message."""
    facts = []
    for name in ("status_code", "llm_provider", "model"):
        value = getattr(err, name, None)
        if value:
            facts.append(f"{name}={value}")
    return (
        '<div style="border:1px solid #cf222e;border-radius:6px;padding:8px 12px;background:#fff5f5;'
        f'font-family:system-ui,sans-serif"><b style="color:#cf222e">{_e(type(err).__name__)}</b> '
        f'<span style="{_MUTED}">{_e(" · ".join(facts))}</span><div style="{_PRE}">{_e(err)}</div></div>'
    )


def error_markdown(err: BaseException) -> str:
    """A LiteLLM exception as Markdown."""
    facts = [f"{n}={getattr(err, n)}" for n in ("status_code", "llm_provider", "model") if getattr(err, n, None)]
    return f"**{type(err).__name__}** ({', '.join(facts)})\n\n> {err}"


# ---------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------
def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value else "0"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else str(value)


class Table(list):
    """A list of dicts (rows) that renders as a table in notebooks and as aligned text
    elsewhere; e.g. ``rustllm.display.table(router.deployment_stats())``."""

    def _columns(self) -> list[str]:
        columns: list[str] = []
        for row in self:
            columns.extend(k for k in row if k not in columns)
        return columns

    def _repr_html_(self) -> str:
        columns = self._columns()
        head = "".join(f'<th style="text-align:left">{_e(c)}</th>' for c in columns)
        rows = "".join("<tr>" + "".join(f"<td>{_e(_cell(row.get(c)))}</td>" for c in columns) + "</tr>" for row in self)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"

    def _repr_markdown_(self) -> str:
        columns = self._columns()
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in self]
        return "\n".join(lines)

    def __str__(self) -> str:
        columns = self._columns()
        cells = [columns] + [[_cell(row.get(c)) for c in columns] for row in self]
        widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
        return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells)


def table(rows: Iterable[dict[str, Any]]) -> Table:
    """Rows (dicts) as a :class:`Table`, e.g. ``table(router.deployment_stats())``."""
    return Table(dict(r) for r in rows)


# ---------------------------------------------------------------------------------------
# Live text: a streamed reply shown as it arrives
# ---------------------------------------------------------------------------------------
class _Live:
    """One output area updated in place (a kernel display handle), or stdout."""

    def __init__(self, markdown: bool, interval: float = 0.05) -> None:
        self._kernel = _kernel() is not None
        self._markdown = markdown
        self._interval = interval
        self._last = 0.0
        self._printed = 0
        self._handle = None
        if self._kernel:
            from IPython.display import display

            self._handle = display(self._render("▌"), display_id=True)

    def _render(self, text: str) -> Any:
        from IPython.display import HTML, Markdown

        return Markdown(text) if self._markdown else HTML(f'<div style="{_PRE}">{_e(text)}</div>')

    def update(self, text: str, final: bool = False) -> None:
        if not self._kernel:
            sys.stdout.write(text[self._printed :])
            self._printed = len(text)
            if final:
                sys.stdout.write("\n")
            sys.stdout.flush()
            return
        now = time.monotonic()
        if final or now - self._last >= self._interval:
            self._last = now
            self._handle.update(self._render(text if final else text + " ▌"))


def _piece(chunk: Any) -> str:
    """The visible text a chunk adds: content, and tool-call fragments as they come."""
    if isinstance(chunk, str):
        return chunk
    choices = getattr(chunk, "choices", None)
    if choices is not None:  # rustllm / LiteLLM ModelResponseStream
        out = ""
        for choice in choices[:1]:
            delta = choice.delta
            out += delta.content or ""
            for call in delta.tool_calls or []:
                fn = call.function
                if fn is not None and fn.name:
                    out += f"\n🔧 {fn.name}("
                if fn is not None and fn.arguments:
                    out += fn.arguments
        return out
    text = getattr(chunk, "text", None)  # LangChain AIMessageChunk
    if isinstance(text, str):
        return text
    content = getattr(chunk, "content", None)
    return content if isinstance(content, str) else ""


def display_stream(stream: Iterable[Any], *, markdown: bool = True) -> list[Any]:
    """Show a streamed reply as it arrives, then return its chunks.

    Works with ``completion(..., stream=True)``, a Router stream, LangChain's
    ``llm.stream(...)`` or any iterable of strings. In a notebook the reply grows in one
    output area (rendered as Markdown unless ``markdown=False``); elsewhere it is printed.
    Pass the chunks to ``rustllm.stream_chunk_builder`` to get the full response.
    """
    live = _Live(markdown)
    chunks: list[Any] = []
    text = ""
    for chunk in stream:
        chunks.append(chunk)
        piece = _piece(chunk)
        if piece:
            text += piece
            live.update(text)
    live.update(text, final=True)
    return chunks


async def adisplay_stream(stream: AsyncIterable[Any], *, markdown: bool = True) -> list[Any]:
    """The ``async for`` twin of :func:`display_stream` (``acompletion`` streams,
    ``llm.astream(...)``)."""
    live = _Live(markdown)
    chunks: list[Any] = []
    text = ""
    async for chunk in stream:
        chunks.append(chunk)
        piece = _piece(chunk)
        if piece:
            text += piece
            live.update(text)
    live.update(text, final=True)
    return chunks


# ---------------------------------------------------------------------------------------
# Progress
# ---------------------------------------------------------------------------------------
class _Progress:
    def __init__(self, total: int | None, desc: str) -> None:
        self.total, self.desc, self.done = total, desc, 0
        self.start = time.monotonic()
        self._last = 0.0
        self._handle = None
        if _kernel() is not None:
            from IPython.display import HTML, display

            self._html = HTML
            self._handle = display(HTML(self._bar()), display_id=True)

    def _bar(self) -> str:
        elapsed = time.monotonic() - self.start
        of = f"/{self.total}" if self.total is not None else ""
        bar = f'<progress value="{self.done}" max="{self.total}"></progress> ' if self.total else ""
        return f'<div style="font-family:monospace">{_e(self.desc)} {bar}{self.done}{of} · {elapsed:.1f} s</div>'

    def step(self, final: bool = False) -> None:
        if not final:
            self.done += 1
        now = time.monotonic()
        if not final and now - self._last < 0.1:
            return
        self._last = now
        if self._handle is not None:
            self._handle.update(self._html(self._bar()))
        else:
            of = f"/{self.total}" if self.total is not None else ""
            end = "\n" if final else ""
            sys.stderr.write(f"\r{self.desc} {self.done}{of} · {now - self.start:.1f} s{end}")
            sys.stderr.flush()


def progress(iterable: Iterable[Any], total: int | None = None, desc: str = "") -> Iterator[Any]:
    """Yield from ``iterable`` while a progress line counts the items (a bar in
    notebooks, a ``\\r`` line on stderr elsewhere)::

        for prompt in rustllm.display.progress(prompts, desc="batch"):
            router.completion(model="g", messages=[{"role": "user", "content": prompt}])
    """
    if total is None and isinstance(iterable, Sequence):
        total = len(iterable)
    bar = _Progress(total, desc)
    try:
        for item in iterable:
            yield item
            bar.step()
    finally:
        bar.step(final=True)


async def gather(*aws: Awaitable[Any], desc: str = "", return_exceptions: bool = False) -> list[Any]:
    """``asyncio.gather`` with a progress bar that advances as each awaitable finishes;
    results come back in argument order."""
    import asyncio

    bar = _Progress(len(aws), desc)
    tasks = [asyncio.ensure_future(a) for a in aws]
    for task in tasks:
        task.add_done_callback(lambda _: bar.step())
    try:
        return await asyncio.gather(*tasks, return_exceptions=return_exceptions)
    finally:
        bar.step(final=True)
