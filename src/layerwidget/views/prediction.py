"""What a classifier predicts: one bar per class, the true label marked, the winner named."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .._widgets import BuiltOnFirstShow
from ._lazy import bq

__all__ = ["PredictionView"]

_BAR = "#8aa4c8"
_TRUE = "#2e7d32"


class PredictionView(BuiltOnFirstShow):
    """A bqplot Figure with a Bars mark of class probabilities, in its own box.

    The box holds the figure only while there is a prediction to show (a bqplot figure laid
    out in a box of no size logs errors), and the figure's state is set before it joins. The
    figure is made on the first prediction shown.
    """

    def __init__(self, batch=None):
        super().__init__(batch)
        self.box = widgets.Box([])

    def _build(self) -> None:
        self._x = bq.OrdinalScale()
        self._y = bq.LinearScale(min=0.0, max=1.0)
        self.bars = bq.Bars(x=np.array(["0", "1"]), y=np.zeros(2),
                            scales={"x": self._x, "y": self._y}, colors=[_BAR], padding=0.15,
                            tooltip=bq.Tooltip(fields=["x", "y"], labels=["class", "p"],
                                               formats=["", ".4f"]))
        self._x_axis = bq.Axis(scale=self._x, label="class")
        self._y_axis = bq.Axis(scale=self._y, side="left", tick_format=".0%",
                               num_ticks=3, grid_lines="none")
        self.figure = bq.Figure(
            marks=[self.bars], axes=[self._x_axis, self._y_axis], animation_duration=0,
            padding_y=0,
            fig_margin={"top": 30, "bottom": 36, "left": 44, "right": 10},
            title_style={"font-size": "13px", "fill": "var(--jp-ui-font-color1, #222)"},
            background_style={"fill": "none"}, display_toolbar=False,
            layout=widgets.Layout(width="360px", height="190px"))
        self.figure.add_class("layerwidget-prediction")

    def _parts(self) -> tuple:
        return (self.figure,)

    def show(self, probabilities: np.ndarray, label=None, names: list[str] | None = None) -> None:
        """Bars of ``probabilities`` (classes,); ``label``, when known, is marked in green."""
        self._ensure()
        p = np.asarray(probabilities, dtype=np.float64)
        names = names or [str(k) for k in range(p.size)]
        winner = int(np.argmax(p))
        truth = None
        if label is not None and str(label) in names:
            truth = names.index(str(label))
        colours = [_TRUE if k == truth else _BAR for k in range(p.size)]
        verdict = ""
        if truth is not None:
            verdict = " · right" if truth == winner else f" · wrong: the label is {label}"
        title = f"predicted {names[winner]} ({p[winner]:.1%}){verdict}"
        with self.figure.hold_sync(), self.bars.hold_sync():
            self.bars.x, self.bars.y = np.array(names), p
            self.bars.colors = colours
            self.figure.title = title
        if self.box.children != (self.figure,):
            self.box.children = (self.figure,)
