"""The grid of stage figures: one scale for the whole explorer, one figure per stage."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import numpy as np

from .. import options
from .._transport import Batcher
from .._widgets import close_tree
from ..captions import WAITING_NOTE, histogram_title, stage_heading
from ..pipeline import stage_histogram
from ..sizing import explorer_scale, stage_size
from .histogram import HistogramView
from .stages import StageView

__all__ = ["StageGrid"]


WRAP = 32
"""Cells per row when a long vector (a Dense or Flatten output) is drawn."""


def _wrapped(array: np.ndarray) -> np.ndarray:
    """A (1, 1, n, 1) vector longer than 2·WRAP as rows of WRAP cells, the rest blank (NaN)."""
    _, h, w, c = array.shape
    if h != 1 or c != 1 or w <= 2 * WRAP:
        return array
    rows = -(-w // WRAP)
    out = np.full(rows * WRAP, np.nan, np.float32)
    out[:w] = array.ravel()
    return out.reshape(1, rows, WRAP, 1)


class StageGrid:
    """The stage figures of an explorer, in a wrapping row, created and closed as stages come
    and go, all drawn to the scale of the input.

    Parameters
    ----------
    batch : Batcher
        Every figure's updates go out through it, in the explorer's one message per update.
    on_pick : callable(stage, channel, row, col), optional
        Called when the reader clicks a map pixel.
    """

    def __init__(self, batch: Batcher, on_pick: Callable[[int, int, int, int], None] | None = None):
        self._batch = batch
        self._on_pick = on_pick
        self.views: list[StageView] = []
        self.histograms: list[HistogramView] = []
        self._cards: list[widgets.VBox] = []
        self.box = widgets.Box(layout=widgets.Layout(
            display="flex", flex_flow="row wrap", align_items="flex-start"))
        self.box.add_class("layerwidget-stages")
        batch.adopt(self.box)

    def draw(self, arrays: list[np.ndarray], names: list[str], *, page: int, label=None,
             input_channels: bool = False, histograms: bool = False,
             shapes: list[tuple] | None = None, waiting: bool = False) -> None:
        """Draw ``arrays`` (the input first, each (1, H, W, C)) named ``names`` (layer types);
        ``shapes`` are the shapes the titles state (default: the arrays'). ``waiting``: the
        layers' arrays are stand-ins until they have run, and their titles say so."""
        while len(self.views) < len(arrays):
            view, hist = StageView(len(self.views), self._on_pick, self._batch), HistogramView()
            card = widgets.VBox([view.figure])
            self._batch.adopt(*view.widgets, hist.figure, card)
            self._batch.lead(view.figure, hist.figure)  # relayouts before marks move
            self.views.append(view)
            self.histograms.append(hist)
            self._cards.append(card)
        for view, hist, card in zip(self.views[len(arrays):], self.histograms[len(arrays):],
                                    self._cards[len(arrays):], strict=True):
            self._batch.release(*view.widgets, hist.figure, card)
            view.close()
            hist.close()
            close_tree(card)
        del self.views[len(arrays):], self.histograms[len(arrays):], self._cards[len(arrays):]
        scale = explorer_scale(*arrays[0].shape[1:3])
        shapes = shapes or [a.shape for a in arrays]
        for i, (view, array, name) in enumerate(zip(self.views, arrays, names, strict=True)):
            array = _wrapped(array)
            _, h, w, c = array.shape
            colour = i == 0 and c in (3, 4)
            channels = options.page_channels(page if i else 0, c)
            tiles = (c + 1 if input_channels else 1) if colour else channels[1] - channels[0]
            heading = stage_heading(i, name, shapes[i], label=label)
            if waiting and i:
                heading += f"  ·  {WAITING_NOTE}"
            view.show(array[0], heading,
                      channels=channels, size=stage_size(h, w, tiles, scale),
                      diverging=False if i == 0 else None, colour=colour,
                      with_channels=colour and input_channels, legend=not (waiting and i))
            hist, card = self.histograms[i], self._cards[i]
            if histograms:
                counts, edges = stage_histogram(array)
                width = view.figure.layout.width or "340px"
                hist.show(counts, edges, histogram_title(i, name, array),
                          max(int(float(width.rstrip("px"))), 200))
            children = (view.figure, hist.figure) if histograms else (view.figure,)
            if card.children != children:
                card.children = children
        cards = tuple(self._cards)
        if self.box.children != cards:
            self.box.children = cards

    def close(self) -> None:
        """Close every figure and the box."""
        for view, hist, card in zip(self.views, self.histograms, self._cards, strict=True):
            self._batch.release(*view.widgets, hist.figure, card)
            view.close()
            hist.close()
            close_tree(card)
        self.views.clear()
        self.histograms.clear()
        self._cards.clear()
        self._batch.release(self.box)
        close_tree(self.box)
