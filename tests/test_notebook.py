"""docs/walkthrough.ipynb runs from top to bottom in a real Jupyter kernel (nbclient), and
is kept in git without outputs."""
import json
import os

import pytest

NOTEBOOK = os.path.join(os.path.dirname(__file__), "..", "docs", "walkthrough.ipynb")


def test_the_notebook_is_stored_without_outputs():
    with open(NOTEBOOK, encoding="utf-8") as handle:
        cells = json.load(handle)["cells"]
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    assert code and all(not cell["outputs"] and cell["execution_count"] is None for cell in code)


def test_the_notebook_runs():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": os.path.dirname(NOTEBOOK)}}).execute()
    outputs = {i: cell["outputs"] for i, cell in enumerate(notebook.cells) if cell["cell_type"] == "code"}
    assert all(outputs.values()), "every code cell shows something"
    shown = json.dumps([cell["outputs"] for cell in notebook.cells if cell["cell_type"] == "code"])
    assert "True" in shown  # the reference equals the kernel, bit for bit
    assert "image/png" in shown  # the figures are displayed
    assert "text/html" in shown  # the sweep's table
