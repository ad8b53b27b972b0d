"""The example notebooks run top to bottom in a fresh kernel and print the walkthrough's facts."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(name):
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    return nb


def text_of(nb):
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_notebooks_are_stored_without_outputs():
    for path in EXAMPLES.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name


def test_walkthrough_runs_and_shows_the_walkthrough_facts():
    nb = run("walkthrough.ipynb")
    text = text_of(nb)
    assert "first labels: [7 2 1 0 4 1 4 9 5 9]" in text
    assert "Conv2D, 3 filters: (1, 28, 28, 3)" in text
    assert "Conv2D, 5 filters: (1, 28, 28, 5)" in text
    assert "after ReLU:  min 0.0" in text
    assert "after pooling:  (1, 14, 14, 5)" in text
    widget_views = [o for c in nb.cells for o in c.get("outputs", [])
                    if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widget_views, "the explorer cell displayed no widget"
