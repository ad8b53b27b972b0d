"""How large each stage is drawn: to one scale for the whole explorer, unless it cannot be.

Pooling halves a map; a student should see that. So one map pixel covers the same number of
screen pixels in every stage of an explorer (``scale``, chosen from the input's size), and a
stage's channel tiles are arranged in as many columns as fit the figure's width at that scale.
A stage too large for the figure at that scale (many channels of a large map) is drawn smaller,
and one too small to see or click (a 1×1 map) larger; either way the figure says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["MAX_PLOT", "StageSize", "explorer_scale", "stage_size"]

MAX_CELL_PX = 6.0
"""Largest screen size of one map pixel, in CSS pixels."""
INPUT_PX = 140.0
"""Screen size the input's longer side is drawn at, when MAX_CELL_PX allows (MNIST's 28×28:
5 px a pixel, so the default stack's four stages fit a laptop screen beside the panel)."""
MAX_PLOT = (640.0, 520.0)
"""Largest plot area of a stage figure (width, height) in CSS pixels."""
MIN_MAP_PX = 24.0
"""Smallest screen size of a map's longer side: smaller maps are magnified."""


@dataclass(frozen=True)
class StageSize:
    """How one stage is drawn.

    Attributes
    ----------
    cell_px : float
        Screen pixels per map pixel.
    cols, rows : int
        Channel tiles across and down.
    relative : float
        ``cell_px`` divided by the explorer's scale: 1.0 when drawn to scale.
    """

    cell_px: float
    cols: int
    rows: int
    relative: float

    @property
    def to_scale(self) -> bool:
        return math.isclose(self.relative, 1.0, rel_tol=1e-9)

    def note(self) -> str:
        """What the figure says when the stage is not drawn to the explorer's scale.

        Short on purpose: the figure is at least as wide as its title, and a title that outgrew
        the mosaic made a many-channel stage scroll the output sideways beside the panel.
        """
        if self.to_scale:
            return ""
        factor = f"{self.relative:.2g}".rstrip(".")
        return f"at {factor}× scale"


def explorer_scale(height: int, width: int) -> float:
    """Screen pixels per map pixel for an explorer whose input is ``height`` × ``width``."""
    return min(MAX_CELL_PX, INPUT_PX / max(height, width, 1))


def _extent(n: int, side: int) -> int:
    """Map pixels spanned by ``n`` tiles of ``side`` pixels with 1-pixel gutters."""
    return n * (side + 1) - 1


def stage_size(height: int, width: int, channels: int, scale: float) -> StageSize:
    """The size plan of a stage of ``channels`` tiles of ``height`` × ``width`` map pixels."""
    channels = max(channels, 1)
    max_w, max_h = MAX_PLOT
    # At the explorer's scale: as many columns as fit the width, then as many rows as needed.
    cols = max(1, min(channels, int((max_w / scale + 1) // (width + 1))))
    rows = math.ceil(channels / cols)
    if _extent(cols, width) * scale <= max_w and _extent(rows, height) * scale <= max_h:
        cell = scale
    else:
        # Too large at that scale: the arrangement that allows the largest cells.
        best = (0.0, channels, 1)
        for c in range(1, channels + 1):
            r = math.ceil(channels / c)
            fit = min(max_w / _extent(c, width), max_h / _extent(r, height))
            if fit > best[0]:
                best = (fit, c, r)
        cell, cols, rows = best
    longest = max(height, width) * cell
    if longest < MIN_MAP_PX:  # a 1×1 or 2×2 map: magnified, within the plot area
        cell = min(MIN_MAP_PX / max(height, width),
                   max_w / _extent(cols, width), max_h / _extent(rows, height))
    return StageSize(cell, cols, rows, cell / scale)
