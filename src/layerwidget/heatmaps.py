"""bqplot views of feature maps: one Figure per stage, all shown channels in one picture.

Cost in the browser grows with the number of figures and marks, and a bqplot HeatMap fills one
canvas rectangle per value on every redraw (300+ ms per edit for a 32-channel stack measured
here; benchmarks/README.md). So each stage is one Figure holding one bqplot Image mark whose
PNG the kernel paints with :mod:`layerwidget.render` (a tiled mosaic of every shown channel,
with gutters); the browser only decodes it. Figures are created once and updated in place.
"""

from __future__ import annotations

import bqplot as bq
import ipywidgets as widgets
import numpy as np

from ._widgets import close_tree
from .captions import picture_notes
from .png import png_text
from .render import DIGEST_KEY, Layout, Picture, paint, values_digest

__all__ = ["StageView"]

# Pixel budget of one figure's plot area; cells are square and at most _MAX_CELL_PX wide.
_PLOT_W, _PLOT_H, _MAX_CELL_PX = 400.0, 260.0, 8.0
_MARGIN = {"top": 30, "bottom": 6, "left": 6, "right": 6}
# Wide enough for the title (name, shape, min, max) above a single small map.
_MIN_WIDTH = 280


class StageView:
    """One stage drawn as a bqplot Figure, updated in place by :meth:`show`."""

    def __init__(self):
        self._x = bq.LinearScale(min=0.0, max=1.0)
        self._y = bq.LinearScale(min=0.0, max=1.0)
        # Two Image widgets take turns: the next picture goes into the one not shown, then the
        # mark switches to it. bqplot's Image view repaints when its `image` changes, not when
        # that widget's bytes do, and no widget is created per update (a comm open each).
        layout = widgets.Layout()
        self._spare = [widgets.Image(value=b"", format="png", layout=layout) for _ in range(2)]
        self._image = bq.Image(
            image=self._spare[0], x=[0.0, 1.0], y=[0.0, 1.0],
            scales={"x": self._x, "y": self._y}, pixelated=True,
        )
        self.figure = bq.Figure(
            marks=[self._image], axes=[], padding_x=0, padding_y=0, animation_duration=0,
            fig_margin=dict(_MARGIN),
            # The title follows the host's theme; no background of its own, so the page's shows
            # through the padding and the transparent gutters in light and dark themes alike.
            title_style={"font-size": "13px", "fill": "var(--jp-ui-font-color1, #222)"},
            background_style={"fill": "none"},
            # Nothing to pan or zoom: the toolbar would only cover the end of the title.
            display_toolbar=False,
            layout=widgets.Layout(width="200px", height="200px"),
        )
        self.figure.add_class("layerwidget-stage")
        self.picture: Picture | None = None
        self._size: tuple[int, int] | None = None
        self._last: tuple | None = None

    @property
    def layout(self) -> Layout | None:
        return None if self.picture is None else self.picture.layout

    @property
    def step(self) -> int:
        """1 when every pixel is drawn, n when every n-th pixel is (large stages)."""
        return 1 if self.picture is None else self.picture.step

    def show(self, maps: np.ndarray, title: str, *, channels: tuple[int, int],
             diverging: bool | None = None) -> None:
        """Draw channels ``channels = (first, end)`` of ``maps`` (h, w, C).

        ``diverging`` picks a red–blue scale centred on 0 (default: when values have both signs).
        """
        if self._unchanged(maps, title, channels, diverging):
            return  # e.g. the input while a layer is edited: nothing to paint or send
        picture = paint(maps, channels=channels, diverging=diverging)
        title += "".join(f"  ·  {note}" for note in
                         picture_notes(picture.channels, maps.shape[-1], picture.step))
        new = self._spare[1] if self._image.image is self._spare[0] else self._spare[0]
        new.value = picture.png  # sent before the switch below, so the mark finds it ready
        with self._image.hold_sync(), self.figure.hold_sync():
            size = picture.layout.size
            if size != self._size:
                self._relayout(*size)
            self._image.image = new
            self.figure.title = title
        self.picture = picture
        self._last = (maps.shape, title, channels, diverging)

    def _unchanged(self, maps, title, channels, diverging) -> bool:
        if self.picture is None or self._last != (maps.shape, title, channels, diverging):
            return False
        first, end = self.picture.channels
        step = self.picture.step
        return np.array_equal(maps[::step, ::step, first:end], self.picture.values)

    def _relayout(self, rows: int, cols: int) -> None:
        cell = min(_MAX_CELL_PX, _PLOT_W / cols, _PLOT_H / rows)
        plot_w = max(cols * cell, _MIN_WIDTH - _MARGIN["left"] - _MARGIN["right"])
        # A narrow mosaic is centred by widening the x domain, so cells stay square and the
        # title keeps the figure's full width.
        pad = (plot_w / cell - cols) / 2
        with self._x.hold_sync(), self._y.hold_sync():
            self._x.min, self._x.max = -pad, cols + pad
            self._y.min, self._y.max = 0.0, float(rows)
            self._image.x, self._image.y = [0.0, float(cols)], [0.0, float(rows)]
        width = round(plot_w) + _MARGIN["left"] + _MARGIN["right"]
        height = round(rows * cell) + _MARGIN["top"] + _MARGIN["bottom"]
        self.figure.layout.width, self.figure.layout.height = f"{width}px", f"{height}px"
        self._size = (rows, cols)

    def displayed(self) -> np.ndarray:
        """The (h, w, c) values whose picture the Image mark holds now.

        The PNG in the mark carries the fingerprint of the exact float32 values it was painted
        from; they are returned only if it matches, so this proves what the browser shows.
        """
        if self.picture is None:
            raise RuntimeError("nothing has been drawn yet")
        stored = png_text(self._image.image.value).get(DIGEST_KEY)
        if stored != values_digest(self.picture.values):
            raise RuntimeError("the Image mark does not hold the picture of the last values")
        return self.picture.values.copy()

    @property
    def widgets(self) -> tuple:
        """Every widget root this view owns (the figure, and the picture not shown)."""
        return (self.figure, *self._spare)

    def close(self) -> None:
        """Close the figure and every widget it owns."""
        close_tree(*self.widgets)
