"""The example notebooks run top to bottom (nbclient, a fresh kernel each), against
MockServer: provider keys are removed from the kernel's environment so no cell reaches
the network. Any cell error fails the test."""

from __future__ import annotations

import os
import re
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


def _run(sources: list[str], monkeypatch) -> list[list[dict]]:
    """Run code cells in a fresh kernel (errors allowed); each cell's outputs."""
    python_path = str(EXAMPLES.parent / "python")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [python_path, os.environ.get("PYTHONPATH")])))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True).execute()
    return [cell.outputs for cell in notebook.cells]


def test_uncaught_rustllm_error_renders_as_its_card_and_keeps_the_traceback(monkeypatch):
    setup = (
        "import rustllm\nfrom rustllm.testing import MockServer\nmock = MockServer().start()\n"
        "kw = {'api_base': mock.base_url, 'api_key': 'sk-mock', 'num_retries': 0}\n"
        "def ask(model):\n    return rustllm.completion(model=model, messages=[{'role': 'user', 'content': 'hi'}], **kw)"
    )
    caught = "try:\n    ask('openai/error-401')\nexcept rustllm.AuthenticationError as e:\n    err = e\nerr"
    uncaught = "ask('openai/error-401')"
    after = "ask('openai/m').choices[0].message.content"
    outputs = _run([setup, caught, uncaught, "%tb", after, "raise ValueError('plain')"], monkeypatch)

    def text(error):
        return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error.traceback))  # without colours

    card = outputs[1][0]["data"]["text/html"]  # a caught error shown as the cell's value
    message = outputs[1][0]["data"]["text/plain"]
    assert "AuthenticationError" in card and "status_code=401" in card and "Mock error 401" in message
    shown = [o for o in outputs[2] if o.output_type == "display_data"]
    errors = [o for o in outputs[2] if o.output_type == "error"]
    # The uncaught one: the same card, then the cell's error: the traceback from the
    # cell down to the user's call into rustllm.
    assert [o["data"]["text/html"] for o in shown] == [card]
    assert [(e.ename, e.evalue) for e in errors] == [("AuthenticationError", message)]
    assert outputs[2].index(shown[0]) < outputs[2].index(errors[0])
    short = text(errors[0])
    assert "ask('openai/error-401')" in short and "rustllm.completion(" in short and "%tb" in short
    inside = str(EXAMPLES.parent / "python" / "rustllm")
    assert inside not in short
    # Nothing is lost for debugging: %tb shows the whole traceback, rustllm's frames too.
    whole = text(next(o for o in outputs[3] if o.output_type == "error"))
    assert "rustllm.completion(" in whole and inside in whole
    # The kernel goes on; errors that are not rustllm's show as they always did.
    assert "Hello from MockServer!" in outputs[4][0]["data"]["text/plain"]
    assert [o.output_type for o in outputs[5]] == ["error"]
