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
import math
import os
import sys
import time
import types
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar

__all__ = ["DeploymentStats", "Table", "adisplay_stream", "display_stream", "gather", "progress", "table"]

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


def rerank_html(response: Any) -> str:
    """A ``RerankResponse``: the ranking as a table (index, score, document text)."""
    rows = []
    for r in response.results or []:
        doc = r.get("document")
        text = doc.get("text", "") if isinstance(doc, dict) else ""
        rows.append(f"<tr><td>{_e(r.get('index'))}</td><td>{_e(r.get('relevance_score'))}</td><td>{_e(text)}</td></tr>")
    head = "<tr><th>index</th><th>relevance_score</th><th>document</th></tr>"
    return f'<div style="{_BOX}">rerank {_e(response.id)}<table>{head}{"".join(rows)}</table></div>'


def moderation_html(response: Any) -> str:
    """An ``OpenAIModerationResponse``: per input, flagged or not and the flagged categories."""
    items = []
    for i, r in enumerate(response.results or []):
        cats = r.categories.model_dump() if hasattr(r.categories, "model_dump") else dict(r.categories or {})
        hit = ", ".join(k for k, v in cats.items() if v)
        verdict = f"flagged: {hit}" if r.flagged else "not flagged"
        items.append(f"<li>[{i}] {_e(verdict)}</li>")
    return f'<div style="{_BOX}">moderation · model {_e(response.model)}<ul>{"".join(items)}</ul></div>'


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


# Frames in files under this folder are rustllm's own.
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _without_rustllm_tail(tb: Any) -> tuple[Any, int]:
    """``tb`` ending at the user's call into rustllm: the frames after it (rustllm's
    wrapper lines, the same for every error) are dropped from a copy; and how many."""
    nodes = []
    while tb is not None:
        nodes.append(tb)
        tb = tb.tb_next
    keep = len(nodes)
    while keep > 1 and nodes[keep - 1].tb_frame.f_code.co_filename.startswith(_PACKAGE):
        keep -= 1
    short = None
    for node in reversed(nodes[:keep]):
        short = types.TracebackType(short, node.tb_frame, node.tb_lasti, node.tb_lineno)
    return short, len(nodes) - keep


def _card_then_traceback(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> None:
    """IPython's handler for an uncaught rustllm error: the error's card, then the cell's
    error output with a short traceback (the user's frames, down to the call into
    rustllm). The cell still fails, and the whole traceback stays where ``%tb``,
    ``%debug`` and ``%pdb`` read it (``sys.last_traceback``)."""
    from IPython.display import display

    display(value)
    short, hidden = _without_rustllm_tail(tb)
    stb = shell.InteractiveTB.structured_traceback(etype, value, short, tb_offset=tb_offset)
    if hidden:
        stb.append(f"({hidden} frame(s) inside rustllm left out: %tb shows the whole traceback)")
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    if sys.version_info >= (3, 12):
        sys.last_exc = value
    # The shell's own output step (the kernel sends it as the cell's error output).
    shell._showtraceback(etype, value, stb)
    if shell.call_pdb:
        shell.debugger(force=True)


def _show_uncaught_errors_as_cards(error_types: tuple[type[BaseException], ...]) -> None:
    """In a Jupyter kernel, make uncaught ``error_types`` render as their card too
    (``InteractiveShell.set_custom_exc``). ``rustllm.exceptions`` calls this when it
    builds its classes, and only when IPython is loaded, so nothing runs outside
    IPython. IPython keeps one such handler: one already set (by the user or another
    library) is left alone."""
    shell = _kernel()
    if shell is None or shell.custom_exceptions:
        return
    shell.set_custom_exc(error_types, _card_then_traceback)


# ---------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------
def _number(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits in plain notation (0.0004 -> "0.0004",
    1234.5 -> "1234"), so a small cost or latency never reads as 0."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    places = digits - 1 - math.floor(math.log10(abs(value)))
    if places > 12:  # past a dozen zeros an exponent reads better
        return f"{value:.{digits}g}"
    text = f"{value:.{max(places, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _duration(seconds: float | None) -> str:
    """Seconds with the unit their size calls for: "0.4 ms", "12.3 ms", "1.5 s"."""
    if seconds is None:
        return ""
    if abs(seconds) < 1:
        ms = _number(seconds * 1000)
        if abs(float(ms)) < 1000:  # 0.99996 s rounds to "1000 ms": say "1 s"
            return f"{ms} ms"
    return f"{_number(seconds)} s"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else str(value)


def _cells(values: list[Any]) -> list[str]:
    return [_cell(v) for v in values]


def _durations(values: list[Any]) -> list[str]:
    return [_duration(v) for v in values]


# A text cell wider than this loses its middle to "…" (both ends tell models apart: the
# provider prefix and the version suffix); the HTML keeps the whole value as a tooltip.
_CELL_WIDTH = 32


def _cut(values: list[Any]) -> list[str]:
    head = (_CELL_WIDTH - 1) * 2 // 3
    tail = _CELL_WIDTH - 1 - head
    return [t if len(t) <= _CELL_WIDTH else t[:head] + "…" + t[-tail:] for t in _cells(values)]


def _short_ids(values: list[Any]) -> list[str]:
    """Generated deployment ids (LiteLLM's 64-hex sha256) cut to the shortest prefix, 8
    characters at least, that still tells them apart; ids the user chose (``model_info``
    ``id``) stay as they are, cut in the middle only past the cell width."""
    texts = _cells(values)
    hashes = {t for t in texts if len(t) >= 32 and all(c in "0123456789abcdefABCDEF" for c in t)}
    n = 8
    while len({h[:n] for h in hashes}) < len(hashes):
        n += 1
    cut = _cut(texts)
    return [t[:n] if t in hashes else c for t, c in zip(texts, cut)]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Table(list):
    """A list of dicts (rows) that renders as a table in notebooks and as aligned text
    elsewhere; e.g. ``rustllm.display.table(rows)``. Floats show three significant
    digits (0.00004 stays 0.00004); numeric columns are right-aligned. The rows keep
    their values: only the rendering shortens them."""

    # What a subclass knows about its columns: which come first, their headers and how
    # each column's values read (one function per column: values -> texts).
    _order: ClassVar[tuple[str, ...]] = ()
    _headers: ClassVar[dict[str, str]] = {}
    _formats: ClassVar[dict[str, Callable[[list[Any]], list[str]]]] = {}
    _numeric: ClassVar[frozenset[str]] = frozenset()

    def _columns(self) -> list[str]:
        seen: list[str] = []
        for row in self:
            seen.extend(k for k in row if k not in seen)
        return [c for c in self._order if c in seen] + [c for c in seen if c not in self._order]

    def _grid(self) -> tuple[list[str], list[str], list[bool], list[list[tuple[str, Any]]]]:
        """Columns, their headers, whether each is right-aligned, and each row's cells as
        (text shown, value)."""
        columns = self._columns()
        headers = [self._headers.get(c, c) for c in columns]
        right, shown = [], []
        for c in columns:
            values = [row.get(c) for row in self]
            right.append(c in self._numeric or all(_is_number(v) for v in values if v is not None))
            shown.append(self._formats.get(c, _cells)(values))
        rows = [[(shown[j][i], row.get(c)) for j, c in enumerate(columns)] for i, row in enumerate(self)]
        return columns, headers, right, rows

    def _repr_html_(self) -> str:
        columns, headers, right, rows = self._grid()

        def align(j: int) -> str:
            return "text-align:right" if right[j] else "text-align:left"

        head = "".join(
            f'<th style="{align(j)}"{_title(c, h)}>{_e(h)}</th>' for j, (c, h) in enumerate(zip(columns, headers))
        )
        body = "".join(
            "<tr>"
            + "".join(
                f'<td style="{align(j)};white-space:nowrap"{_title(value, text)}>{_e(text)}</td>'
                for j, (text, value) in enumerate(row)
            )
            + "</tr>"
            for row in rows
        )
        return f'<table style="font-variant-numeric:tabular-nums"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'

    def _repr_markdown_(self) -> str:
        _, headers, right, rows = self._grid()
        lines = ["| " + " | ".join(headers) + " |", "|" + "".join("---:|" if r else "---|" for r in right)]
        lines += ["| " + " | ".join(text.replace("|", "\\|") for text, _ in row) + " |" for row in rows]
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # IPython's text/plain (terminal IPython, text-only frontends): the aligned text.
        printer.text(str(self))

    def __str__(self) -> str:
        _, headers, right, rows = self._grid()
        cells = [headers] + [[text for text, _ in row] for row in rows]
        widths = [max(len(r[j]) for r in cells) for j in range(len(headers))]
        return "\n".join(
            "  ".join(v.rjust(w) if right[j] else v.ljust(w) for j, (v, w) in enumerate(zip(r, widths))).rstrip()
            for r in cells
        )


def _title(value: Any, shown: str) -> str:
    """A tooltip with the whole text when the cell shows less of it."""
    return f' title="{_e(value)}"' if isinstance(value, str) and value != shown else ""


class DeploymentStats(Table):
    """``Router.deployment_stats()``: one row (dict) per deployment, as the Router sees it
    now. Rendered, generated ids show their first 8 characters (the tooltip has the
    whole id), latencies and cooldowns carry units (ms or s) and keep three significant
    digits, so the table fits a notebook cell; the dicts keep every value whole."""

    _order = ("id", "model_name", "model", "in_flight", "rpm_used", "tpm_used", "mean_latency", "cooldown_remaining")
    _headers: ClassVar[dict[str, str]] = {
        "in_flight": "in flight",
        "rpm_used": "rpm",
        "tpm_used": "tpm",
        "mean_latency": "latency",
        "cooldown_remaining": "cooldown",
    }
    _formats: ClassVar[dict[str, Callable[[list[Any]], list[str]]]] = {
        "id": _short_ids,
        "model_name": _cut,
        "model": _cut,
        "mean_latency": _durations,
        "cooldown_remaining": _durations,
    }
    _numeric = frozenset(("in_flight", "rpm_used", "tpm_used", "mean_latency", "cooldown_remaining"))


def table(rows: Iterable[dict[str, Any]]) -> Table:
    """Rows (dicts) as a :class:`Table`, e.g. ``table(router.deployment_stats())`` (a
    :class:`DeploymentStats` stays one)."""
    kind = type(rows) if isinstance(rows, Table) else Table
    return kind(dict(r) for r in rows)


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
