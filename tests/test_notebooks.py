"""The example notebooks run top to bottom (nbclient, a fresh kernel each), against
MockServer: provider keys are removed from the kernel's environment so no cell reaches
the network. Any cell error fails the test."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
KEYS = ("DEEPSEEK_API_KEY", "BAILIAN_API_KEY", "DASHSCOPE_API_KEY", "OPENAI_API_KEY")


def test_the_examples_have_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {"walkthrough.ipynb", "langchain.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)
    # The kernel imports the rustllm of this checkout, as the tests do.
    python_path = str(EXAMPLES.parent / "python")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [python_path, os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # Rich displays were produced (response cards, tables), not only plain text.
    assert any("text/html" in o.get("data", {}) for o in outputs)
