"""The stage figures: every stage's channels as one bqplot figure, with its colour legend.

Cost in the browser grows with the number of figures and marks, and a bqplot HeatMap fills one
canvas rectangle per value on every redraw (300+ ms per edit for a 32-channel stack measured
here; benchmarks/README.md). So each stage is one Figure holding one bqplot Image mark whose PNG
the kernel paints with :mod:`layerwidget.render` (every shown channel tiled, 1-px gutters); the
browser only decodes it. Around it: a Label mark numbering the tiles (in each tile's corner, or
in a strip the mosaic keeps above each row of small tiles), a Lines mark for the
receptive field of the focused unit, and the colour legend: a ColorAxis on a ColorScale no mark
uses, in the very palette the picture was painted with, and the picture's min and max (and 0 on
a red–blue scale) printed under the bar's ends (and middle), as labels of a Lines mark.

The bar's own scale stays put (0 to 1, or −1, 0, 1 with 0 in the middle, as the picture paints
each sign on its half of the colours): bqplot redraws a ColorAxis three times when its scale's
range and tick values change (6 ms of script per seed edit at 32 filters in the page's profile,
where the numbers, then a Label mark, took 2.6; benchmarks/README.md), and the kernel sent the tick
values as a binary buffer per stage. Figures are created once and updated in place.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import ipywidgets as widgets
import numpy as np

from .._widgets import close_tree, picture_png, set_spare_picture
from ..captions import legend_ticks, picture_notes
from ..png import png_text
from ..render import (
    DIGEST_KEY,
    GREYS,
    RDBU,
    Layout,
    Picture,
    draw_step,
    paint,
    paint_colour,
    values_digest,
)
from ..sizing import StageSize
from ._lazy import bq

__all__ = ["StageView"]

_MARGIN = {"top": 28, "bottom": 58, "left": 8, "right": 8}
_NO_LEGEND_BOTTOM = 8
# A horizontal bqplot colour bar spans the plot width minus 100 px on each side (its label sits
# in the left 100 px), so a figure narrower than this would have no bar to read.
_MIN_PLOT_WIDTH = 340.0
# Conservative width of one title character at 13 px (measured ~6.9 px for digits and capitals
# in system-ui): the title must fit inside the figure.
_TITLE_CHAR_PX = 7.6
# Where bqplot draws a horizontal colour bar (ColorAxis.ts): from 100 px after the plot's left
# edge to 100 px before its right edge, its tick labels' baseline 49 px under the plot (bottom
# margin 58 − bar 20 − 2 em 24 puts the bar at 14–34 px; tick 6 + padding 3 + 0.71 em of 10 px).
_BAR_INSET_PX = 100.0
_NUMBERS_BELOW_PX = 49
# bqplot draws a Lines label from 3 px right of the curve's last point, its baseline 0.35 em
# (of the 10 px font that widget.css gives it) below the point: the point is placed to cancel
# both.
_LABEL_DX_PX = 3.0
_LABEL_DY_PX = 3.5
# A tile's number (10 px font) sits in its top left corner when the tile is at least this tall;
# above smaller tiles it would cover much of the map, so each row of tiles gets a strip of at
# least _NUMBER_STRIP_PX above it for its numbers instead.
_NUMBERS_INSIDE_MIN_PX = 48.0
_NUMBER_STRIP_PX = 12.0
# The bar's fixed scales: each colour's place on the bar never changes, only the numbers do.
_BAR = {False: {"colors": list(GREYS), "mid": None, "min": 0.0, "max": 1.0, "ticks": [0.0, 1.0]},
        True: {"colors": list(RDBU), "mid": 0.0, "min": -1.0, "max": 1.0,
               "ticks": [-1.0, 0.0, 1.0]}}


def number_rows(shape: tuple, channels: tuple[int, int], size: StageSize) -> int:
    """Mosaic rows kept empty above each row of tiles for the tiles' numbers: none when the
    tiles are tall enough to hold their number in a corner, or there is one tile (no numbers);
    else a strip at least ``_NUMBER_STRIP_PX`` tall, so no number covers a map."""
    first, end = channels
    if end - first <= 1:
        return 0
    step = draw_step(shape[0], shape[1], end - first)
    cell = size.cell_px * step  # screen px of one mosaic pixel
    if math.ceil(shape[0] / step) * cell >= _NUMBERS_INSIDE_MIN_PX:
        return 0
    return math.ceil(_NUMBER_STRIP_PX / cell - 1e-9)


class StageView:
    """One stage drawn as a bqplot Figure, updated in place by :meth:`show`."""

    def __init__(self, index: int, on_pick: Callable[[int, int, int, int], None] | None = None,
                 batch=None):
        self.index = index
        self._on_pick = on_pick
        self._batch = batch  # the explorer's Batcher: the tile numbers follow a frame later
        # No padding: bqplot would otherwise inset every mark on these scales by the largest
        # mark's padding (2.6 px for a 10 px Label), so the picture's cells would not be
        # square and the legend's numbers would miss the bar's ticks.
        self._x = bq.LinearScale(min=0.0, max=1.0, allow_padding=False)
        self._y = bq.LinearScale(min=0.0, max=1.0, allow_padding=False)
        scales = {"x": self._x, "y": self._y}
        # Two Image widgets take turns: the next picture goes into the one not shown, then the
        # mark switches to it. bqplot's Image view repaints when its `image` changes, not when
        # that widget's bytes do, and no widget is created per update (a comm open each).
        layout = widgets.Layout()
        self._spare = [widgets.Image(value=b"", format="png", layout=layout) for _ in range(2)]
        self._image = bq.Image(image=self._spare[0], x=[0.0, 1.0], y=[0.0, 1.0], scales=scales,
                               pixelated=True)
        self._image.on_element_click(self._clicked)
        self._labels = bq.Label(x=[], y=[], text=[], scales=scales, default_size=10.0,
                                font_unit="px", colors=["#444444"], align="start",
                                apply_clip=False)
        self.fields = bq.Lines(x=np.zeros(2), y=np.zeros(2), scales=scales, colors=["#e6007e"],
                               stroke_width=2.0, visible=False, apply_clip=False)
        """bqplot.Lines: the receptive-field rectangles of the focused unit (one per tile)."""
        self._colours = bq.ColorScale(colors=list(GREYS), min=0.0, max=1.0)
        # The bar and its tick marks; its own tick labels (0 and 1) are hidden, the numbers are
        # the Lines mark's labels below.
        self._legend = bq.ColorAxis(scale=self._colours, side="bottom", label="values",
                                    tick_values=np.array(_BAR[False]["ticks"]),
                                    tick_style={"visibility": "hidden"})
        # The numbers are the labels of a Lines mark's curves (two equal points each: nothing
        # to stroke; bqplot squeezes a one-point curve into a single curve), not a Label mark:
        # bqplot sets a Lines mark's new labels as text and nothing else, where a Label mark
        # redraws every text with d3 transitions that read computed styles
        # (benchmarks/README.md). widget.css centres them (text-anchor), sizes and colours them.
        self._numbers = bq.Lines(x=np.zeros((2, 2)), y=np.zeros((2, 2)), labels=["", ""],
                                 labels_visibility="label", scales=scales, apply_clip=False,
                                 visible=False)
        self.figure = bq.Figure(
            marks=[self._image, self._labels, self.fields, self._numbers], axes=[self._legend],
            padding_x=0, padding_y=0, animation_duration=0, fig_margin=dict(_MARGIN),
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
        self.size: StageSize | None = None
        self._geometry: tuple | None = None
        self._tiles_wanted: tuple = ((), (), ())  # the tile numbers, drawn a batch later
        self._last: tuple | None = None
        self._bar: tuple | None = None  # the plot's x scale min, data units per px, width px
        self._y_per_px = 1.0  # the plot's y data units per px

    @property
    def layout(self) -> Layout | None:
        return None if self.picture is None else self.picture.layout

    @property
    def step(self) -> int:
        """1 when every pixel is drawn, n when every n-th pixel is (large stages)."""
        return 1 if self.picture is None else self.picture.step

    @property
    def widgets(self) -> tuple:
        """Every widget root this view owns (the figure, and the picture not shown)."""
        return (self.figure, *self._spare)

    def show(self, maps: np.ndarray, heading: str, *, channels: tuple[int, int],
             size: StageSize, diverging: bool | None = None, colour: bool = False,
             with_channels: bool = False, legend: bool = True) -> None:
        """Draw channels ``channels = (first, end)`` of ``maps`` (h, w, C) at ``size``.

        ``heading`` starts the title; what the reader must know about the picture (which
        channels, pixel stepping, a scale other than the other stages') is added to it.
        ``diverging`` picks a red–blue scale centred on 0 (default: when values have both signs);
        ``colour`` draws a 3- or 4-channel input as a colour picture (``with_channels``: followed
        by each channel in grey). ``legend=False`` hides the colour legend (a stand-in picture
        whose values mean nothing yet).
        """
        key = (maps.shape, heading, channels, size, diverging, colour, with_channels, legend)
        if self._unchanged(maps, key):
            return  # e.g. the input while a layer is edited: nothing to paint or send
        if colour:
            picture = paint_colour(maps, with_channels=with_channels)
            notes = []
        else:
            picture = paint(maps, channels=channels, diverging=diverging, cols=size.cols,
                            top=number_rows(maps.shape, channels, size))
            notes = picture_notes(picture.channels, maps.shape[-1], picture.step)
        if size.note():
            notes.append(size.note())
        title = heading + "".join(f"  ·  {note}" for note in notes)
        new = set_spare_picture(self._image, self._spare, picture.png)
        with self.figure.hold_sync(), self._image.hold_sync():
            self._place(picture, size, title, colour, with_channels)
            self._image.image = new
            self.figure.title = title
            self._show_legend(picture, colour or not legend, maps.shape[-1])
        self.picture, self.size, self._last = picture, size, key

    def _unchanged(self, maps, key) -> bool:
        if self.picture is None or self._last != key:
            return False
        step = self.picture.step
        first, end = self.picture.channels
        values = maps[::step, ::step] if self._last[5] else maps[::step, ::step, first:end]
        return np.array_equal(values, self.picture.values)

    def _place(self, picture: Picture, size: StageSize, title: str, colour: bool,
               with_channels: bool) -> None:
        """Scales, labels and figure size for a picture of ``picture.layout`` at ``size``."""
        layout = picture.layout
        rows, cols = layout.size
        cell = size.cell_px * picture.step  # screen px of one picture cell
        plot_w = max(cols * cell, _MIN_PLOT_WIDTH, len(title) * _TITLE_CHAR_PX + 8)
        pad = (plot_w / cell - cols) / 2  # narrow mosaics are centred, cells stay square
        labels = self._tile_labels(picture, colour, with_channels, cell)
        geometry = (rows, cols, round(cell, 6), round(plot_w, 3), labels)
        if geometry == self._geometry:
            return
        bottom = _NO_LEGEND_BOTTOM if colour else _MARGIN["bottom"]
        plot_px = round(plot_w)  # bqplot's plot width: the figure's, less its margins
        self._bar = (-pad, (cols + 2 * pad) / plot_px, plot_px)
        self._y_per_px = rows / round(rows * cell)  # the plot's height is rounded to px
        with self._x.hold_sync(), self._y.hold_sync():
            self._set_tile_numbers(labels)  # before the scales: nothing old to move
            self._x.min, self._x.max = -pad, cols + pad
            self._y.min, self._y.max = 0.0, float(rows)
            self._image.x, self._image.y = [0.0, float(cols)], [0.0, float(rows)]
        self.figure.fig_margin = {**_MARGIN, "bottom": bottom}
        width = plot_px + _MARGIN["left"] + _MARGIN["right"]
        height = round(rows * cell) + _MARGIN["top"] + bottom
        self.figure.layout.width, self.figure.layout.height = f"{width}px", f"{height}px"
        self._geometry = geometry

    def _set_tile_numbers(self, labels: tuple) -> None:
        """Show ``labels`` = (xs, ys, texts) as the tile numbers.

        New numbers come with a new mosaic layout (a channel or shape edit), and bqplot redraws
        a Label mark on new data through d3 transitions that read each text's computed style;
        with the figures' relayout that is 20–40 ms of the page's main thread before it can
        paint the new pictures (benchmarks/README.md). So the old numbers are hidden in the
        update's batch (``display: none``: not laid out or painted either) and the new ones
        drawn in the batch after it (``Batcher.after``), which the page applies once the frame
        with the new pictures is drawn; outside an update, at once.
        """
        if labels == self._tiles_wanted:
            return
        self._tiles_wanted = labels

        def draw():
            if self._labels.comm is not None and self._tiles_wanted is labels:  # still wanted
                with self._labels.hold_sync():
                    self._labels.x, self._labels.y, self._labels.text = labels
                    self._labels.visible = True

        if self._batch is None or not labels[2]:
            draw()
            return
        if self._labels.visible and len(self._labels.text):
            self._labels.visible = False
        self._batch.after(draw)

    def tile_numbers(self) -> list[tuple[str, float, float]]:
        """The tile numbers as set in the kernel: (text, x, y) in the plot's data units (map
        cells, y up), each near its tile's top left corner."""
        return [(str(t), float(x), float(y)) for t, x, y in
                zip(self._labels.text, self._labels.x, self._labels.y, strict=True)]

    @staticmethod
    def _tile_labels(picture: Picture, colour: bool, with_channels: bool, cell: float) -> tuple:
        """Positions and texts of the tile numbers: each tile's channel index, inside its top
        left corner, or, when the mosaic has a strip above each row of tiles (small tiles), in
        the strip. bqplot centres a Label's text on its point (``dominant-baseline: central``;
        the 10 px font's box is 11 px tall): 10 px below the tile's top edge, or 6.5 px above
        it, which keeps the whole box 1 px off the map."""
        layout = picture.layout
        rows = layout.size[0]
        if colour:
            names = ["RGB" if layout.c - 1 <= 3 else "RGBA"] if with_channels else []
            names += ["R", "G", "B", "A"][: layout.c - 1] if with_channels else []
        else:
            first, end = picture.channels
            names = [str(c) for c in range(first, end)] if end - first > 1 else []
        xs, ys = [], []
        for k in range(len(names)):
            row0, col0 = layout.origin(k)
            if layout.top:
                xs.append(float(col0))
                ys.append(rows - row0 + 6.5 / cell)
            else:
                xs.append(col0 + 2.0 / cell)
                ys.append(rows - row0 - 10.0 / cell)
        return tuple(xs), tuple(ys), tuple(names)

    def _show_legend(self, picture: Picture, hidden: bool, channels: int) -> None:
        """The colour legend of ``picture``; ``hidden`` for a colour picture (no one scale) or
        a stand-in."""
        if hidden:
            self._legend.visible = False
            self._numbers.visible = False
            return
        kind = bool(picture.diverging)
        if kind != (self._colours.mid is not None):  # the bar changes with the kind only
            bar = _BAR[kind]
            with self._colours.hold_sync(), self._legend.hold_sync():
                self._colours.colors, self._colours.mid = list(bar["colors"]), bar["mid"]
                self._colours.min, self._colours.max = bar["min"], bar["max"]
                self._legend.tick_values = np.array(bar["ticks"], dtype=np.float64)
        ticks = legend_ticks(picture.lo, picture.hi, kind)
        with self._numbers.hold_sync(), self._legend.hold_sync():
            start, per_px, plot_px = self._bar
            at = [start + (_BAR_INSET_PX + f * (plot_px - 2 * _BAR_INSET_PX) - _LABEL_DX_PX)
                  * per_px for _, f in ticks]
            below = -(_NUMBERS_BELOW_PX - _LABEL_DY_PX) * self._y_per_px
            # Equal arrays are not sent again (traittypes compares them).
            self._numbers.x = np.repeat(np.array(at).reshape(-1, 1), 2, axis=1)
            self._numbers.y = np.full((len(at), 2), below)
            self._numbers.labels = [text for text, _ in ticks]
            self._numbers.visible = True
            shown = picture.channels[1] - picture.channels[0]
            self._legend.label = "all channels" if shown > 1 else "values"
            self._legend.visible = True

    def legend(self) -> list[tuple[str, float]] | None:
        """The legend as drawn: each number and where it sits along the bar (0 to 1), or None
        when no legend is shown."""
        if not self._legend.visible:
            return None
        start, per_px, plot_px = self._bar
        return [(str(text), float(round(((x - start) / per_px + _LABEL_DX_PX - _BAR_INSET_PX)
                                  / (plot_px - 2 * _BAR_INSET_PX), 6)))
                for text, (_, x) in zip(self._numbers.labels, self._numbers.x, strict=True)]

    def show_field(self, rect: tuple | None, channel: int | None = None) -> None:
        """Outline ``rect`` = ((top, left), (bottom, right)) map pixels (half-open) on every
        shown tile, or only on ``channel``'s tile; None hides the outlines."""
        picture = self.picture
        if rect is None or picture is None or (self._last is not None and self._last[5]):
            if self.fields.visible:
                self.fields.visible = False
            return
        (top, left), (bottom, right) = rect
        layout, step = picture.layout, picture.step
        rows_total = layout.size[0]
        first, end = picture.channels
        tiles = range(end - first) if channel is None else [channel - first]
        xs, ys = [], []
        for k in tiles:
            if not 0 <= k < end - first:
                continue
            row0, col0 = layout.origin(k)
            x0, x1 = col0 + left / step, col0 + right / step
            y0, y1 = rows_total - row0 - top / step, rows_total - row0 - bottom / step
            xs.append([x0, x1, x1, x0, x0])
            ys.append([y0, y0, y1, y1, y0])
        if not xs:
            self.fields.visible = False
            return
        with self.fields.hold_sync():
            self.fields.x, self.fields.y = np.array(xs), np.array(ys)
            self.fields.visible = True

    def locate(self, x: float, y: float) -> tuple[int, int, int] | None:
        """(channel, row, col) of the map pixel at data coordinates (x, y), or None."""
        if self.picture is None or self._last is None or self._last[5]:
            return None
        layout, step = self.picture.layout, self.picture.step
        rows_total = layout.size[0]
        col_cell, row_cell = int(np.floor(x)), int(np.floor(rows_total - y))
        down, across = layout.pitch
        tile_c, in_c = divmod(col_cell, across)
        tile_r, in_r = divmod(row_cell, down)
        in_r -= layout.top
        if not (0 <= tile_c < layout.cols and 0 <= tile_r < layout.rows):
            return None
        if in_c >= layout.w or not 0 <= in_r < layout.h:
            return None  # a gutter, or the strip of the tiles' numbers
        k = tile_r * layout.cols + tile_c
        first, end = self.picture.channels
        if first + k >= end:
            return None  # an empty tile
        return first + k, in_r * step, in_c * step

    def _clicked(self, _mark, event) -> None:
        data = event.get("data", {})
        found = self.locate(float(data.get("click_x", -1)), float(data.get("click_y", -1)))
        if found is not None and self._on_pick is not None:
            self._on_pick(self.index, *found)

    def displayed(self) -> np.ndarray:
        """The values whose picture the Image mark holds now.

        The PNG in the mark carries the fingerprint of the exact float32 values it was painted
        from; they are returned only if it matches, so this proves what the browser shows.
        """
        if self.picture is None:
            raise RuntimeError("nothing has been drawn yet")
        stored = png_text(picture_png(self._image.image)).get(DIGEST_KEY)
        if stored != values_digest(self.picture.values):
            raise RuntimeError("the Image mark does not hold the picture of the last values")
        return self.picture.values.copy()

    def close(self) -> None:
        """Close the figure and every widget it owns."""
        close_tree(*self.widgets)
