"""bqplot, imported when the first figure is made instead of with layerwidget.

Importing bqplot takes ~0.5 s (it imports pandas), about half of ``import layerwidget`` in a
fresh kernel. A notebook's first cell is often ``from layerwidget import LayerExplorer`` and
``LayerExplorer()`` together; its panel and loading note need no bqplot, and the stage figures
are made once the cell has finished (while TensorFlow loads), so the cell shows that much sooner.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["bq"]


class _Module:
    """Stands for a module; its first attribute read imports it (then Python's cache holds it)."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


bq: Any = _Module("bqplot")
"""``bqplot``, imported on first use."""
