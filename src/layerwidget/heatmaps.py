"""bqplot views of feature maps: one Figure per stage, all channels in one HeatMap mosaic.

Cost in the browser grows with the number of figures and marks, not with pixels (GUIDE §2):
a stage is one Figure holding one HeatMap with every shown channel tiled into a mosaic, plus
one Lines mark that draws the gutters between tiles. Figures are created once and updated in
place, whatever the channel count or size becomes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import bqplot as bq
import ipywidgets as widgets
import numpy as np

from ._widgets import close_tree

__all__ = ["MAX_DRAWN_VALUES", "MAX_SHOWN_CHANNELS", "StageView", "draw_step", "mosaic_layout",
           "tile", "untile"]

MAX_SHOWN_CHANNELS = 64
"""Channels drawn per stage at once; the panel pages through the rest."""
MAX_COLUMNS = 8
MAX_DRAWN_VALUES = 2**18
"""Most values one stage sends to the browser per update (1 MiB of float32). A larger stage is
drawn from every n-th pixel; the arrays in ``outputs`` stay exact. A screen shows no more."""
# Pixel budget of one figure's plot area; cells are square and at most _MAX_CELL_PX wide.
_PLOT_W, _PLOT_H, _MAX_CELL_PX = 420.0, 300.0, 11.0
_MARGIN = {"top": 30, "bottom": 6, "left": 6, "right": 6}
# Wide enough for the title (name, shape, min, max) above a single small map.
_MIN_WIDTH = 330
# Gutters take the notebook's background colour so tiles read as separate images in any theme.
_GUTTER = "var(--jp-layout-color1, white)"


@dataclass(frozen=True)
class Layout:
    """Where the channels of a (h, w, c) stage sit in its mosaic."""

    h: int
    w: int
    c: int
    cols: int
    rows: int
    repeat: int  # cells drawn r×r times: bqplot needs ≥ 2 cells a side to size them

    @property
    def size(self) -> tuple[int, int]:
        return self.rows * self.h, self.cols * self.w


def mosaic_layout(h: int, w: int, c: int) -> Layout:
    cols = min(c, MAX_COLUMNS)
    rows = math.ceil(c / cols)
    repeat = 2 if min(rows * h, cols * w) < 2 else 1
    return Layout(h, w, c, cols, rows, repeat)


def tile(maps: np.ndarray, layout: Layout) -> np.ndarray:
    """(h, w, c) channels -> (rows·h·r, cols·w·r) float32 mosaic, row-major, empty tiles 0."""
    h, w, c = maps.shape
    padded = np.zeros((h, w, layout.rows * layout.cols), dtype=np.float32)
    padded[:, :, :c] = maps
    grid = padded.reshape(h, w, layout.rows, layout.cols).transpose(2, 0, 3, 1)
    mosaic = grid.reshape(layout.rows * h, layout.cols * w)
    if layout.repeat > 1:
        mosaic = np.repeat(np.repeat(mosaic, layout.repeat, 0), layout.repeat, 1)
    return np.ascontiguousarray(mosaic)


def untile(mosaic: np.ndarray, layout: Layout) -> np.ndarray:
    """Inverse of :func:`tile`: the (h, w, c) channels a mosaic shows."""
    r = layout.repeat
    m = np.asarray(mosaic)[::r, ::r]
    grid = m.reshape(layout.rows, layout.h, layout.cols, layout.w).transpose(1, 3, 0, 2)
    return grid.reshape(layout.h, layout.w, layout.rows * layout.cols)[:, :, : layout.c]


def draw_step(h: int, w: int, c: int) -> int:
    """Smallest pixel step that brings h×w×c under MAX_DRAWN_VALUES (1 = every pixel)."""
    step = max(1, math.ceil(math.sqrt(h * w * c / MAX_DRAWN_VALUES)))
    while math.ceil(h / step) * math.ceil(w / step) * c > MAX_DRAWN_VALUES:
        step += 1
    return step


def _centres(n: int, repeat: int) -> np.ndarray:
    return (np.arange(n * repeat, dtype=np.float32) - (repeat - 1) / 2) / repeat


def _gutters(layout: Layout) -> np.ndarray:
    """Polylines (n, 5, 2) for the gutters between tiles and a box over the empty tiles."""
    top, left = -0.5, -0.5
    bottom, right = layout.rows * layout.h - 0.5, layout.cols * layout.w - 0.5
    lines = []
    for k in range(1, layout.cols):
        x = k * layout.w - 0.5
        lines.append([(x, top), (x, bottom)] * 2 + [(x, top)])
    for k in range(1, layout.rows):
        y = k * layout.h - 0.5
        lines.append([(left, y), (right, y)] * 2 + [(left, y)])
    empty = layout.rows * layout.cols - layout.c
    if empty:
        x0, y0 = (layout.cols - empty) * layout.w - 0.5, (layout.rows - 1) * layout.h - 0.5
        lines.append([(x0, y0), (right, y0), (right, bottom), (x0, bottom), (x0, y0)])
    return np.array(lines, dtype=np.float32).reshape(-1, 5, 2)


def _fmt(value: float) -> str:
    return f"{value:.2f}"


class StageView:
    """One stage drawn as a bqplot Figure, updated in place by :meth:`show`."""

    def __init__(self):
        self._x = bq.LinearScale()
        self._y = bq.LinearScale(reverse=True)  # row 0 of an image is at the top
        self._color = bq.ColorScale(scheme="Greys")
        self._heatmap = bq.HeatMap(
            x=np.zeros(2, np.float32), y=np.zeros(2, np.float32),
            color=np.zeros((2, 2), np.float32),
            scales={"x": self._x, "y": self._y, "color": self._color},
        )
        self._gutter = bq.Lines(
            x=np.zeros((1, 5), np.float32), y=np.zeros((1, 5), np.float32),
            scales={"x": self._x, "y": self._y}, colors=[_GUTTER], fill="inside",
            fill_colors=[_GUTTER], fill_opacities=[1.0], stroke_width=2, visible=False,
        )
        self.figure = bq.Figure(
            marks=[self._heatmap, self._gutter], axes=[], padding_x=0, padding_y=0,
            fig_margin=dict(_MARGIN),
            # Title and background follow the notebook's theme (light or dark).
            title_style={"font-size": "13px", "fill": "var(--jp-ui-font-color1, #222)"},
            background_style={"fill": "var(--jp-layout-color1, white)"},
            layout=widgets.Layout(width="200px", height="200px"),
        )
        self.figure.add_class("layerwidget-stage")
        self.layout: Layout | None = None
        self.channels: tuple[int, int] = (0, 0)
        self.step = 1

    def show(self, maps: np.ndarray, title: str, *, first_channel: int = 0,
             diverging: bool | None = None) -> None:
        """Draw channels ``first_channel`` … of ``maps`` (h, w, C), at most MAX_SHOWN_CHANNELS.

        ``diverging`` picks a red–blue scale centred on 0 (default: when values have both signs).
        """
        h, w, total = maps.shape
        first = min(max(first_channel, 0), max(total - 1, 0))
        shown = maps[:, :, first : first + MAX_SHOWN_CHANNELS]
        lo, hi = float(shown.min()), float(shown.max())  # from every pixel, drawn or not
        step = draw_step(h, w, shown.shape[-1])
        if step > 1:
            shown = shown[::step, ::step]
            title += f"  ·  every {step}th pixel drawn"
        self.step = step
        layout = mosaic_layout(shown.shape[0], shown.shape[1], shown.shape[-1])
        mosaic = tile(shown, layout)
        if diverging is None:
            diverging = lo < 0 < hi
        if lo == hi:  # a flat map still needs a non-empty colour domain
            lo, hi = lo - 0.5, hi + 0.5
        if shown.shape[-1] < total:
            title += f"  ·  channels {first + 1}–{first + shown.shape[-1]} of {total}"
        self.channels = (first, first + shown.shape[-1])

        # One message per widget: each mark and scale is held, the figure alone would not batch
        # its children's updates (GUIDE §2).
        with self._color.hold_sync(), self._heatmap.hold_sync(), self.figure.hold_sync():
            self._color.min, self._color.max = lo, hi
            self._color.scheme = "RdBu" if diverging else "Greys"
            self._color.mid = 0.0 if diverging else None
            if layout != self.layout:
                self._relayout(layout)
            self._heatmap.color = mosaic
            self.figure.title = title
        self.layout = layout

    def _relayout(self, layout: Layout) -> None:
        rows, cols = layout.size
        with self._x.hold_sync(), self._y.hold_sync(), self._gutter.hold_sync():
            self._y.min, self._y.max = -0.5, rows - 0.5
            self._heatmap.x = _centres(cols, layout.repeat)
            self._heatmap.y = _centres(rows, layout.repeat)
            lines = _gutters(layout)
            self._gutter.visible = len(lines) > 0
            if len(lines):
                self._gutter.x = np.ascontiguousarray(lines[:, :, 0])
                self._gutter.y = np.ascontiguousarray(lines[:, :, 1])
        cell = min(_MAX_CELL_PX, _PLOT_W / cols, _PLOT_H / rows)
        plot_w = max(cols * cell, _MIN_WIDTH - _MARGIN["left"] - _MARGIN["right"])
        # A narrow mosaic is centred by widening the x domain, so cells stay square and the
        # title keeps the figure's full width.
        pad = (plot_w / cell - cols) / 2
        with self._x.hold_sync():
            self._x.min, self._x.max = -0.5 - pad, cols - 0.5 + pad
        width = round(plot_w) + _MARGIN["left"] + _MARGIN["right"]
        height = round(rows * cell) + _MARGIN["top"] + _MARGIN["bottom"]
        self.figure.layout.width, self.figure.layout.height = f"{width}px", f"{height}px"

    def displayed(self) -> np.ndarray:
        """The (h, w, c) values the HeatMap mark holds now, read back from the mark itself.

        That is ``maps[::step, ::step, channels]`` of the last :meth:`show`.
        """
        if self.layout is None:
            raise RuntimeError("nothing has been drawn yet")
        return untile(self._heatmap.color, self.layout)

    def close(self) -> None:
        """Close the figure and every widget it owns."""
        close_tree(self.figure)


def stage_title(name: str, shape, lo: float, hi: float, extra: str = "") -> str:
    """Title of a stage figure: name, Keras shape, min and max rounded for reading."""
    shape_text = "(" + ", ".join(str(v) for v in shape) + ")"
    return f"{name} {shape_text}{extra}  min {_fmt(lo)}  max {_fmt(hi)}"
