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
    assert "<table>" in stats._repr_html_() and "rpm_used" in stats._repr_markdown_()
    assert str(stats).splitlines()[0].split()[:2] == ["id", "model_name"]


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
