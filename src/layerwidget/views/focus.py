"""The focus view: one channel drawn large, the kernel that made it, and one value explained.

bqplot's GridHeatMap is the mark with tooltips (row, column, value) and printed cell values, but
it draws one SVG rectangle and text per cell and redraws them all when its values change. The
small grids (kernel slices, the input patch of one unit, its products) are GridHeatMaps. The
focused channel (up to MAX_FOCUS_CELLS cells) is a picture under see-through GridHeatMap cells
whose values follow a frame later (MapView); a larger one is a picture alone, where a click
still picks a unit (PictureFocus). Colours follow the stage's own scale (the focused map) or a
red–blue scale symmetric around 0 (weights, products).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import ipywidgets as widgets
import numpy as np

from .._widgets import BuiltOnFirstShow, close_tree, set_spare_picture
from ..render import GREYS, RDBU, paint, values_digest
from ._lazy import bq

__all__ = ["MAX_FOCUS_CELLS", "FocusArea", "GridView", "MapView"]

MAX_FOCUS_CELLS = 4096
"""Most cells the focused map draws as a GridHeatMap (64×64); larger maps are a picture."""
MAX_KERNEL_SLICES = 4
"""Input channels of a kernel drawn at once (the arithmetic of a unit uses all of them)."""
_TITLE_STYLE = {"font-size": "12px", "fill": "var(--jp-ui-font-color1, #222)"}
_TITLE_CHAR_PX = 7.0
_TITLE_SLACK_CHARS = 8  # a title may shrink by this many characters before its figure does
_FIGURE_MARGIN = {"top": 24, "bottom": 4, "left": 4, "right": 4}


def _focus_figure(mark, size_px: int, *more) -> bq.Figure:
    """A small figure of the focus area around ``mark`` (and ``more`` marks drawn over it):
    no axes, no toolbar, theme title."""
    figure = bq.Figure(
        marks=[mark, *more], axes=[], padding_x=0, padding_y=0, animation_duration=0,
        fig_margin=dict(_FIGURE_MARGIN),
        title_style=dict(_TITLE_STYLE), background_style={"fill": "none"},
        display_toolbar=False, layout=widgets.Layout(width=f"{size_px}px",
                                                     height=f"{size_px}px"))
    figure.add_class("layerwidget-focus")
    return figure


def _colours(lo: float, hi: float, diverging: bool) -> dict:
    if diverging:
        return {"colors": list(RDBU), "mid": 0.0, "min": lo, "max": hi}
    return {"colors": list(GREYS), "mid": None, "min": lo, "max": hi if hi > lo else lo + 1}


def _same_selection(current, wanted: tuple[int, int] | None) -> bool:
    """Whether a GridHeatMap's ``selected`` (None or an (n, 2) array) is just ``wanted``."""
    if current is None or wanted is None:
        return current is None and wanted is None
    current = np.asarray(current)
    return current.shape == (1, 2) and tuple(int(v) for v in current[0]) == tuple(wanted)


def _selection_from_json(value, obj=None):
    # The page sends a clicked cell as JSON lists ([[row, col]]), which bqplot's reader turns
    # into an array of Python objects that ipywidgets then fails to send back ("Unsupported
    # dtype object"), so set_state raised and the click was lost. Integers it is.
    if isinstance(value, list):
        return np.asarray(value, dtype=np.int32).reshape(-1, 2)
    from bqplot.traits import array_from_json

    return array_from_json(value, obj)


@functools.cache
def _pickable_grid_heat_map() -> type:
    """A GridHeatMap whose cells can be clicked: its selection, set in the page, reads as
    integers (same front end). Made on first use, with bqplot (see ``_lazy``)."""
    from bqplot.traits import array_serialization
    from traittypes import Array

    class _PickableGridHeatMap(bq.GridHeatMap):
        selected = Array(None, allow_none=True).tag(
            sync=True, to_json=array_serialization["to_json"], from_json=_selection_from_json)

    return _PickableGridHeatMap


class GridView:
    """One figure holding one GridHeatMap: a small map whose cells can be read and picked."""

    def __init__(self, *, tooltip: bool = False, printed: bool = False,
                 on_pick: Callable[[int, int], None] | None = None):
        # No padding: bqplot would inset every mark on these scales by the largest padding a
        # mark asks for (the outline's stroke), and the cells would not be square.
        self._rows = bq.LinearScale(reverse=True, allow_padding=False)
        self._cols = bq.LinearScale(allow_padding=False)
        self._colour = bq.ColorScale(colors=list(GREYS), min=0.0, max=1.0)
        tip = None
        if tooltip:
            tip = bq.Tooltip(fields=["row", "column", "color"], labels=["row", "col", "value"],
                             formats=["", "", ".4~f"])
        interactions = {}
        if tooltip:
            interactions["hover"] = "tooltip"
        if on_pick is not None:
            interactions["click"] = "select"
        self.heat = _pickable_grid_heat_map()(
            color=np.zeros((2, 2)), scales={"row": self._rows, "column": self._cols,
                                            "color": self._colour},
            row_align="start", column_align="start", stroke="transparent",
            # Three significant digits ("227", "-0.13"), dark text on a light halo: readable on
            # the darkest and the lightest cells.
            display_format=".3~g" if printed else None, null_color="transparent",
            # bqplot sets these on every cell's (empty) text on every draw: only when printed.
            font_style={"font-size": "11px", "fill": "#111", "paint-order": "stroke",
                        "stroke": "#fff", "stroke-width": "3px"} if printed else {},
            tooltip=tip, interactions=interactions,
            # No selected_style: bqplot clears a selection style from every cell and sets it
            # again on each draw (1,568 style changes per edit on a 28×28 map). The picked
            # cell is outlined by its own mark instead.
            selected_style={},
        )
        self.outline = bq.Lines(x=np.zeros(5), y=np.zeros(5), scales={"x": self._cols,
                                                                     "y": self._rows},
                                colors=["#e6007e"], stroke_width=2.0, visible=False,
                                apply_clip=False)
        """bqplot.Lines: the square around the picked cell."""
        if on_pick is not None:
            self.heat.observe(lambda change: self._picked(change, on_pick), names="selected")
        self.figure = _focus_figure(self.heat, 100, self.outline)
        self._shape: tuple | None = None
        self._cells_shape: tuple | None = None
        self._quiet = False

    def _picked(self, change, on_pick) -> None:
        if self._quiet:
            return
        if change["new"] is None or len(change["new"]) == 0:
            self._outline(None)  # clicked again: the mark goes, the unit stays
            return
        row, col = change["new"][0]
        on_pick(int(row), int(col))

    def _outline(self, cell: tuple[int, int] | None) -> None:
        # Equal values are not sent again (traittypes compares arrays): nothing if it stays.
        with self.outline.hold_sync():
            if cell is not None:
                r, c = cell
                self.outline.x = np.array([c, c + 1, c + 1, c, c], dtype=np.float64)
                self.outline.y = np.array([r, r, r + 1, r + 1, r], dtype=np.float64)
            self.outline.visible = cell is not None

    def show(self, values: np.ndarray, title: str, *, lo: float, hi: float, diverging: bool,
             cell_px: float, selected: tuple[int, int] | None = None) -> None:
        """Draw the (h, w) ``values`` at ``cell_px`` a cell, coloured from ``lo`` to ``hi``."""
        values = np.asarray(values, dtype=np.float64)
        with self.figure.hold_sync(), self.heat.hold_sync(), self._colour.hold_sync():
            for name, value in _colours(lo, hi, diverging).items():
                setattr(self._colour, name, value)
            self._place(*values.shape, cell_px, title)
            self._cells(values, selected)
            self._outline(None if selected is None else (int(selected[0]), int(selected[1])))

    def _place(self, h: int, w: int, cell_px: float, title: str) -> None:
        """Scales, size and title of the figure for an (h, w) map at ``cell_px`` a cell."""
        plot_w = max(w * cell_px, len(title) * _TITLE_CHAR_PX - 8)
        # A new width makes bqplot lay the figure out again (~40 ms in the page), and a title's
        # numbers change its length on most edits: keep the width while the title still fits
        # and leaves at most a few characters spare.
        if self._shape is not None and self._shape[:3] == (h, w, cell_px):
            kept = self._shape[3]
            if plot_w <= kept <= plot_w + _TITLE_SLACK_CHARS * _TITLE_CHAR_PX:
                plot_w = kept
            elif plot_w > w * cell_px:
                plot_w += _TITLE_SLACK_CHARS / 2 * _TITLE_CHAR_PX
        key = (h, w, cell_px, plot_w)
        if self._shape != key:
            # A title wider than the map: the map is centred by the figure's side margins, not
            # by widening the column scale, since bqplot's GridHeatMap stretches its last
            # column to the end of the scale's range. Cells stay square.
            width, map_px = round(plot_w) + 8, round(w * cell_px)
            left = (width - map_px) // 2
            self._rows.min, self._rows.max = 0.0, float(h)
            self._cols.min, self._cols.max = 0.0, float(w)
            self.figure.fig_margin = {**_FIGURE_MARGIN, "left": left,
                                      "right": width - map_px - left}
            self.figure.layout.width = f"{width}px"
            self.figure.layout.height = f"{round(h * cell_px) + 28}px"
        self._shape = key
        self.figure.title = title

    def _cells(self, values: np.ndarray, selected: tuple[int, int] | None) -> None:
        """The GridHeatMap's values (what its cells and tooltip show) and its selection."""
        h, w = values.shape
        # bqplot squeezes arrays, so a single row or column would lose its axis, which
        # GridHeatMap refuses: add a blank (NaN, transparent) row or column beyond the plotted
        # range.
        if h == 1:
            values = np.vstack([values, np.full((1, values.shape[1]), np.nan)])
        if w == 1:
            values = np.hstack([values, np.full((values.shape[0], 1), np.nan)])
        with self.heat.hold_sync():
            # Colours, rows and columns change together; their sizes are checked at the end.
            with self.heat.hold_trait_notifications():
                if self._cells_shape != values.shape:
                    self.heat.row = np.arange(values.shape[0])
                    self.heat.column = np.arange(values.shape[1])
                    self._cells_shape = values.shape
                self.heat.color = values
            # An array is never "equal" to traitlets, so it would be re-sent (and every cell
            # restyled in the page) on each update: set it only when the unit moves.
            if not _same_selection(self.heat.selected, selected):
                self._quiet = True
                try:
                    self.heat.selected = None if selected is None else np.array([selected])
                finally:
                    self._quiet = False

    def close(self) -> None:
        close_tree(self.figure)


class MapView(GridView):
    """The focused channel drawn large: its picture, with cells to point at and click.

    A GridHeatMap redraws every cell and its text whenever its values change: at 28×28 that was
    ~45 ms of the page's script per edit, spent before the edit's pictures could be painted.
    Here the kernel paints the map (the stage's colours, as the stage figure does) into an
    Image mark, which goes out with the update; over it lie the GridHeatMap's cells, see-through,
    for the tooltip (row, column, value) and clicks. Their values follow in a batch of their
    own that the page applies after drawing the frame (``Batcher.after``): the map shows the
    new values as soon as an edit's pictures do, and the tooltip reads them a frame later.
    """

    def __init__(self, on_pick: Callable[[int, int], None] | None = None, batch=None):
        super().__init__(tooltip=True, on_pick=on_pick)
        # The cells only answer the pointer (a transparent fill still takes it); the picture
        # is the map. Their colour scale never changes.
        self._colour.colors = ["rgba(0, 0, 0, 0)", "rgba(0, 0, 0, 0)"]
        # Two Image widgets take turns, as in the stage figures (bqplot repaints on a new
        # `image`, not on new bytes).
        self._spare = [widgets.Image(value=b"", format="png") for _ in range(2)]
        self.image = bq.Image(image=self._spare[0], x=[0.0, 1.0], y=[1.0, 0.0],
                              scales={"x": self._cols, "y": self._rows}, pixelated=True)
        """bqplot.Image: the focused channel's picture (rows run downwards, as the cells')."""
        self.figure.marks = [self.image, self.heat, self.outline]
        self._batch = batch
        self._pending: tuple | None = None
        self.picture = None
        """render.Picture: what the image shows."""

    @property
    def widgets(self) -> tuple:
        return (self.figure, *self._spare)

    def show(self, values: np.ndarray, title: str, *, lo: float, hi: float, diverging: bool,
             cell_px: float, selected: tuple[int, int] | None = None) -> None:
        values = np.asarray(values, dtype=np.float64)
        h, w = values.shape
        shown = self.picture
        key = (values_digest(values[:, :, None]), float(lo), float(hi), bool(diverging))
        # A new unit, or an edit that leaves this channel as it was: the same picture stays.
        same = shown is not None and (shown.digest, shown.lo, shown.hi, shown.diverging) == key
        with self.figure.hold_sync(), self.image.hold_sync():
            self._place(h, w, cell_px, title)
            if not same:
                self.picture = paint(values[:, :, None].astype(np.float32),
                                     diverging=diverging, domain=(lo, hi))
                new = set_spare_picture(self.image, self._spare, self.picture.png)
                self.image.x, self.image.y = [0.0, float(w)], [float(h), 0.0]
                self.image.image = new
        self._outline(None if selected is None else (int(selected[0]), int(selected[1])))
        first = self._pending is None
        self._pending = (values, selected)
        if self._batch is None:
            self._readout()
        elif first:
            self._batch.after(self._readout)

    def _readout(self) -> None:
        if self._pending is not None:
            values, selected = self._pending
            self._pending = None
            self._cells(values, selected)

    def close(self) -> None:
        close_tree(*self.widgets)


class PictureFocus:
    """A focused map too large for per-cell marks: a picture; a click still picks a unit."""

    def __init__(self, on_pick: Callable[[int, int], None] | None = None):
        self._x = bq.LinearScale(min=0.0, max=1.0)
        self._y = bq.LinearScale(min=0.0, max=1.0)
        # Two Image widgets take turns, as in the stage figures (bqplot repaints on a new
        # `image`, not on new bytes).
        self._spare = [widgets.Image(value=b"", format="png") for _ in range(2)]
        self.image = bq.Image(image=self._spare[0], x=[0.0, 1.0], y=[0.0, 1.0],
                              scales={"x": self._x, "y": self._y}, pixelated=True)
        self._on_pick = on_pick
        self._size, self._step = (1, 1), 1
        self.image.on_element_click(self._clicked)
        self.figure = _focus_figure(self.image, 300)

    @property
    def widgets(self) -> tuple:
        return (self.figure, *self._spare)

    def show(self, values: np.ndarray, title: str, *, diverging: bool) -> None:
        h, w = values.shape
        picture = paint(values[:, :, None], diverging=diverging)
        rows, cols = picture.layout.size
        cell = min(400 / cols, 400 / rows)
        new = set_spare_picture(self.image, self._spare, picture.png)
        with self.figure.hold_sync(), self.image.hold_sync():
            self._x.min, self._x.max = 0.0, float(cols)
            self._y.min, self._y.max = 0.0, float(rows)
            self.image.x, self.image.y = [0.0, float(cols)], [0.0, float(rows)]
            self.image.image = new
            self.figure.title = title
            self.figure.layout.width = f"{round(cols * cell) + 8}px"
            self.figure.layout.height = f"{round(rows * cell) + 28}px"
        self._size, self._step = (h, w), picture.step

    def _clicked(self, _mark, event) -> None:
        data = event.get("data", {})
        h, w = self._size
        col = int(float(data.get("click_x", -1)) * self._step)
        row = int((self._y.max - float(data.get("click_y", -1))) * self._step)
        if self._on_pick is not None and 0 <= row < h and 0 <= col < w:
            self._on_pick(row, col)

    def close(self) -> None:
        close_tree(*self.widgets)


def _symmetric(*arrays) -> tuple[float, float]:
    """A colour range symmetric around 0 that holds every value of ``arrays``."""
    top = max((float(np.nanmax(np.abs(a))) for a in arrays if np.size(a)), default=1.0)
    top = top if top > 0 else 1.0
    return -top, top


class FocusArea(BuiltOnFirstShow):
    """The focused channel, its kernel and one unit's arithmetic, below the stage figures.

    Parameters
    ----------
    on_unit : callable(row, col)
        Called when the reader picks a unit of the focused map.
    """

    def __init__(self, on_unit: Callable[[int, int], None],
                 on_weight: Callable[[int, int, int], None] | None = None, batch=None):
        super().__init__(batch)
        self._on_unit = on_unit
        self._on_weight = on_weight
        # Hidden by taking the figures out of the page: a bqplot figure laid out in a box of
        # no size draws rectangles of negative size (console errors).
        self.box = widgets.VBox([])
        self.box.add_class("layerwidget-focus-area")

    def _build(self) -> None:
        on_unit, on_weight = self._on_unit, self._on_weight
        self.map = MapView(on_pick=on_unit, batch=self._batch)
        self.picture = PictureFocus(on_pick=on_unit)
        # A click on a weight picks it for editing: (slice, row, col).
        self.kernels = [GridView(printed=True, on_pick=None if on_weight is None else
                                 (lambda r, c, k=k: on_weight(k, r, c)))
                        for k in range(MAX_KERNEL_SLICES)]
        self.patch = GridView(printed=True)
        self.weights = GridView(printed=True)
        self.products = GridView(printed=True)
        # Figures join these boxes once drawn (see show_map for why).
        self._kernel_box = widgets.HBox([])
        self._arith_box = widgets.HBox([])
        self._map_box = widgets.Box([])
        self._content = widgets.Box(
            [self._map_box, widgets.VBox([self._kernel_box, self._arith_box])],
            layout=widgets.Layout(display="flex", flex_flow="row wrap",
                                  align_items="flex-start"))

    def _parts(self) -> tuple:
        return (self._content, *self.map.widgets, *self.picture.widgets,
                *(k.figure for k in self.kernels), self.patch.figure, self.weights.figure,
                self.products.figure)

    def _leading(self) -> tuple:
        # The focused map changes size with the stage it comes from: its figure is laid out
        # before its marks move (Batcher.lead), as the stage figures are.
        return (self.map.figure, self.picture.figure)

    def show_map(self, values: np.ndarray, title: str, *, lo: float, hi: float,
                 diverging: bool, unit: tuple[int, int] | None) -> None:
        """The focused channel (h, w), on its stage's colour scale."""
        self._ensure()
        h, w = values.shape
        if h * w <= MAX_FOCUS_CELLS:
            cell = max(4.0, min(14.0, 360 / max(h, w)))
            self.map.show(values, title, lo=lo, hi=hi, diverging=diverging, cell_px=cell,
                          selected=unit)
            target = self.map.figure
        else:
            self.picture.show(values, title + "  ·  click a pixel to read it",
                              diverging=diverging)
            target = self.picture.figure
        if self._map_box.children != (target,):
            self._map_box.children = (target,)
        # Put in the page only once its figures hold their state: bqplot reads a figure's title
        # when its view first renders, and a change arriving during that render is lost.
        if self.box.children != (self._content,):
            self.box.children = (self._content,)

    def show_kernel(self, slices: list[tuple[str, np.ndarray]],
                    picked: tuple[int, int, int] | None = None) -> None:
        """Up to MAX_KERNEL_SLICES (title, (k, k) weights) of the focused filter, or none;
        ``picked`` = (slice, row, col) of the weight being edited."""
        if not slices and not self.built:
            return
        self._ensure()
        lo, hi = _symmetric(*(w for _, w in slices))
        shown = []
        for k, (view, (title, weights)) in enumerate(zip(self.kernels,
                                                         slices[:MAX_KERNEL_SLICES],
                                                         strict=False)):
            size = max(weights.shape)
            selected = picked[1:] if picked is not None and picked[0] == k else None
            view.show(weights, title, lo=lo, hi=hi, diverging=True,
                      cell_px=max(14.0, min(40.0, 120 / size)), selected=selected)
            shown.append(view.figure)
        if self._kernel_box.children != tuple(shown):
            self._kernel_box.children = tuple(shown)

    def show_arithmetic(self, parts: list[tuple[str, np.ndarray, bool]]) -> None:
        """Grids of one unit's arithmetic: (title, values, signed) for each part shown."""
        if not parts and not self.built:
            return
        self._ensure()
        views = [self.patch, self.weights, self.products]
        shown = []
        lo, hi = _symmetric(*(v for _, v, _ in parts))
        for view, (title, values, signed) in zip(views, parts, strict=False):
            k = max(values.shape)
            cell = max(14.0, min(40.0, 120 / k))
            if signed:
                view.show(values, title, lo=lo, hi=hi, diverging=True, cell_px=cell)
            else:
                top = float(np.nanmax(values)) if np.size(values) else 1.0
                low = float(np.nanmin(values)) if np.size(values) else 0.0
                view.show(values, title, lo=low, hi=top, diverging=low < 0 < top,
                          cell_px=cell)
            shown.append(view.figure)
        if self._arith_box.children != tuple(shown):
            self._arith_box.children = tuple(shown)

    def close(self) -> None:
        if self.built:
            self.picture.close()
        super().close()
