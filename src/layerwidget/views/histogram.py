"""A stage's histogram of values, under its figure: ReLU's spike at 0 seen at a glance.

Shown or not by the stage grid, which puts the figure in the page or takes it out (a bqplot
figure in a box of no size draws rectangles of negative size).
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .._widgets import close_tree
from ._lazy import bq

__all__ = ["HistogramView"]


class HistogramView:
    """One bqplot Figure with a Bars mark of a stage's value counts, updated in place."""

    def __init__(self):
        # The axis spans the bins exactly: bqplot would pad it by half a bar on each side,
        # and an input of 0–255 pixels would read from -4.2 to 259.2.
        self._x = bq.LinearScale(allow_padding=False)
        self._y = bq.LinearScale(min=0.0)
        self.bars = bq.Bars(x=np.zeros(2), y=np.zeros(2), scales={"x": self._x, "y": self._y},
                            colors=["#6a7fa0"], padding=0.0)
        self._axis = bq.Axis(scale=self._x, tick_format=".4~g", num_ticks=4,
                             grid_lines="none")
        self.figure = bq.Figure(
            marks=[self.bars], axes=[self._axis], padding_x=0, padding_y=0,
            # Side margins hold half of the end ticks' labels ("-252.9" is ~36 px wide).
            animation_duration=0, fig_margin={"top": 22, "bottom": 24, "left": 30, "right": 30},
            title_style={"font-size": "12px", "fill": "var(--jp-ui-font-color1, #222)"},
            background_style={"fill": "none"}, display_toolbar=False,
            layout=widgets.Layout(width="340px", height="110px"))
        self.figure.add_class("layerwidget-histogram")

    def show(self, counts: np.ndarray, edges: np.ndarray, title: str, width_px: int) -> None:
        centres = (edges[:-1] + edges[1:]) / 2
        with self.figure.hold_sync(), self.bars.hold_sync():
            lo, hi = float(edges[0]), float(edges[-1])
            self._x.min, self._x.max = lo, hi if hi > lo else lo + 1.0
            self._y.max = float(max(counts.max(), 1))
            self.bars.x, self.bars.y = centres, counts.astype(np.float64)
            self.figure.title = title
            self.figure.layout.width = f"{width_px}px"


    def close(self) -> None:
        close_tree(self.figure)
