"""Notebook display helpers: rich reprs of responses, chunks, embeddings and errors,
tables, live streams and progress (outside a kernel: plain text)."""

from __future__ import annotations

import asyncio

import pytest

import rustllm
from rustllm.display import Table, adisplay_stream, display_stream, gather, progress, table
from rustllm.testing import MockServer

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture
def kw():
    with MockServer() as server:
        yield {"api_base": server.base_url, "api_key": "sk"}


def test_response_renders_text_tools_and_usage(kw):
    response = rustllm.completion(model="openai/m", messages=[{"role": "user", "content": "hi <b>"}], **kw)
    html = response._repr_html_()
    assert "Hello from MockServer!" in html and "model m" in html and "in ·" in html
    assert "Hello from MockServer!" in response._repr_markdown_()
    call = rustllm.completion(
        model="openai/m",
        messages=[{"role": "user", "content": "'Paris' & <x>"}],
        tools=[WEATHER],
        tool_choice="required",
        **kw,
    )
    assert "get_weather" in call._repr_html_() and "Paris" in call._repr_markdown_()


def test_html_is_escaped(kw):
    response = rustllm.completion(
        model="openai/echo", messages=[{"role": "user", "content": "<script>x</script>"}], **kw
    )
    assert "<script>" not in response._repr_html_()
    assert "&lt;script&gt;" in response._repr_html_()


def test_chunks_embeddings_and_errors_render(kw):
    stream = rustllm.completion(
        model="openai/m",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
        **kw,
    )
    rendered = [c._repr_html_() for c in stream]
    assert "role=assistant" in rendered[0] and "finish_reason=stop" in "".join(rendered)
    assert "usage" in rendered[-1]
    embedding = rustllm.embedding(model="openai/e", input=["a", "b"], **kw)
    assert "2 embedding(s) x 8 dims" in embedding._repr_html_()
    with pytest.raises(rustllm.RateLimitError) as info:
        rustllm.completion(model="openai/error-429", messages=[{"role": "user", "content": "x"}], num_retries=0, **kw)
    assert "RateLimitError" in info.value._repr_html_() and "status_code=429" in info.value._repr_markdown_()


def test_router_stats_as_a_table(kw):
    router = rustllm.Router(model_list=[{"model_name": "g", "litellm_params": {"model": "openai/m", **kw}}])
    router.completion(model="g", messages=[{"role": "user", "content": "hi"}])
    stats = table(router.deployment_stats())
    assert isinstance(stats, Table) and stats[0]["rpm_used"] == 1
    assert "<table" in stats._repr_html_() and "rpm" in stats._repr_markdown_()
    assert str(stats).splitlines()[0].split()[:2] == ["id", "model_name"]


def test_router_stats_table_fits_a_notebook_cell(kw):
    long_model = "openai/" + "a-rather-long-deployment-model-name-" * 2
    router = rustllm.Router(
        model_list=[
            {"model_name": "g", "litellm_params": {"model": "openai/m", **kw}},
            {"model_name": "g", "litellm_params": {"model": long_model, **kw}},
        ]
    )
    for _ in range(4):
        router.completion(model="g", messages=[{"role": "user", "content": "hi"}])
    stats = router.deployment_stats()
    ids = [row["id"] for row in stats]
    assert all(len(i) == 64 for i in ids)  # the rows keep LiteLLM's whole sha256 ids
    means = [row["mean_latency"] for row in stats if row["mean_latency"]]
    assert means and all(m < 1 for m in means)  # MockServer answers in well under a second

    for shown in (table(stats), stats):
        markdown = shown._repr_markdown_()
        header, _, *rows = markdown.splitlines()
        assert [h.strip() for h in header.strip("|").split("|")] == [
            "id",
            "model_name",
            "model",
            "in flight",
            "rpm",
            "tpm",
            "latency",
            "cooldown",
        ]
        cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
        assert sorted(row[0] for row in cells) == sorted(i[:8] for i in ids)
        assert all(len(c) <= 32 for row in cells for c in row)
        latencies = [row[6] for row in cells if row[6]]
        assert len(latencies) == len(means)
        for text in latencies:  # a unit, and never a nonzero mean shown as 0
            number, unit = text.split(" ")
            assert unit in ("ms", "s") and float(number) > 0

        html = shown._repr_html_()
        for i in ids:
            assert f">{i[:8]}<" in html and f">{i}<" not in html and f'title="{i}"' in html
        assert all(len(line) <= 100 for line in str(shown).splitlines())
        assert str(shown).splitlines()[1].split()[0] in {i[:8] for i in ids}
    # IPython's text/plain (terminal IPython, text-only frontends) is the same table.
    pretty = pytest.importorskip("IPython.lib.pretty")
    assert pretty.pretty(stats) == str(stats)


def test_table_units_and_significant_digits():
    stats = rustllm.display.DeploymentStats(
        [
            {"id": "a" * 64, "mean_latency": 0.0004, "cooldown_remaining": 59.94},
            {"id": "a" * 8 + "b" * 56, "mean_latency": 0.0123456, "cooldown_remaining": None},
            {"id": "deepseek-chat", "mean_latency": 1.5, "cooldown_remaining": 0.99996},
        ]
    )
    rows = [line.split() for line in str(stats).splitlines()[1:]]
    # Generated ids sharing 8 characters get the prefix that tells them apart.
    assert rows == [
        ["a" * 9, "0.4", "ms", "59.9", "s"],
        ["a" * 8 + "b", "12.3", "ms"],
        ["deepseek-chat", "1.5", "s", "1", "s"],
    ]
    costs = table([{"model": "m", "cost": 0.0000123, "share": 0.5}])
    assert "| m | 0.0000123 | 0.5 |" in costs._repr_markdown_()
    assert "|---|---:|---:|" in costs._repr_markdown_()  # numbers right-aligned


def test_display_stream_prints_outside_a_notebook(kw, capsys):
    stream = rustllm.completion(model="openai/m", messages=[{"role": "user", "content": "hi"}], stream=True, **kw)
    chunks = display_stream(stream)
    assert capsys.readouterr().out == "Hello from MockServer!\n"
    assert rustllm.stream_chunk_builder(chunks).choices[0].message.content == "Hello from MockServer!"
    assert rustllm.display_stream(["a", "b"]) == ["a", "b"]


def test_adisplay_stream_and_gather_with_progress(kw, capsys):
    async def main():
        stream = await rustllm.acompletion(
            model="openai/m", messages=[{"role": "user", "content": "hi"}], stream=True, **kw
        )
        chunks = await adisplay_stream(stream)
        calls = [rustllm.acompletion(model="openai/m", messages=[{"role": "user", "content": "hi"}], **kw)]
        return chunks, await gather(*calls, desc="calls")

    chunks, results = asyncio.run(main())
    assert len(chunks) >= 3 and len(results) == 1
    captured = capsys.readouterr()
    assert captured.out == "Hello from MockServer!\n" and "calls 1/1" in captured.err
    assert list(progress([1, 2, 3], desc="n")) == [1, 2, 3]
    assert "n 3/3" in capsys.readouterr().err


def test_the_error_card_handler_leaves_a_handler_already_set(monkeypatch):
    from rustllm import display

    class Shell:
        def __init__(self, custom_exceptions):
            self.custom_exceptions = custom_exceptions
            self.set = []

        def set_custom_exc(self, types, handler):
            self.set.append((types, handler))

    theirs = Shell((KeyError,))
    monkeypatch.setattr(display, "_kernel", lambda: theirs)
    display._show_uncaught_errors_as_cards((rustllm.RateLimitError,))
    assert theirs.set == []  # IPython keeps one handler: the one already there stays
    free = Shell(())
    monkeypatch.setattr(display, "_kernel", lambda: free)
    display._show_uncaught_errors_as_cards((rustllm.RateLimitError,))
    assert free.set == [((rustllm.RateLimitError,), display._card_then_traceback)]
