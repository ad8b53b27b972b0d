"""bqplot, imported when the first figure is made instead of with layerwidget.

Importing bqplot takes 0.2-0.5 s (it imports pandas), more than ``import layerwidget`` itself in
a fresh kernel. A notebook's first cell is often ``from layerwidget import LayerExplorer`` and
``LayerExplorer()`` together; its loading note needs no bqplot, and the stage figures are made
once the cell has finished (while TensorFlow loads). The first explorer in a kernel imports it
right after its note, before its first widget (:func:`import_figure_modules`).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["bq", "import_figure_modules"]


class _Module:
    """Stands for a module; its first attribute read imports it (then Python's cache holds it)."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


bq: Any = _Module("bqplot")
"""``bqplot``, imported on first use."""


def import_figure_modules() -> None:
    """Import bqplot now: in a fresh kernel, between the loading note and the first widget.

    JupyterLab handles a cell's first comm opens (loading the widget code of anywidget and
    bqplot) in tasks that can hold the frame that would paint the note: in 3 of 12 fresh pages
    the note was on screen after 106-119 ms, 12-50 ms after it entered the page. Importing
    bqplot (~0.2 s, which the stage figures need right after the cell anyway) before the first
    widget leaves the page that time to paint the note: 1 of 60 over 100 ms (101, the note
    itself late), against 3 of 12 before (benchmarks/README.md). The panel comes that much
    later; it says the same thing.
    """
    importlib.import_module("bqplot")
