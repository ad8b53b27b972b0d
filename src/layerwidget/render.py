"""Feature maps to pictures: colour scales and channel mosaics with gutters.

Pure NumPy, no widget code: the live heatmaps and the kernel-free HTML export draw the same
pictures from the same functions (PNG encoding in :mod:`layerwidget.png`).

Why the kernel paints: a bqplot HeatMap fills one canvas rectangle per value in the browser
and redraws whenever its colour domain or data change, which measured 300+ ms per edit for a
32-channel stack here. A PNG painted with NumPy costs ~1 ms and the browser only decodes it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from .options import SHOWN_CHANNELS
from .png import encode_png

__all__ = [
    "DIGEST_KEY",
    "GREYS",
    "MAX_COLUMNS",
    "MAX_DRAWN_VALUES",
    "RDBU",
    "Layout",
    "Picture",
    "colour_bytes",
    "colour_index",
    "draw_step",
    "mosaic_layout",
    "paint",
    "paint_colour",
    "palette",
    "tile",
    "values_digest",
]

DIGEST_KEY = "layerwidget-values-sha256"
"""PNG text key of the fingerprint of the values a picture was painted from."""
MAX_COLUMNS = 8
MAX_DRAWN_VALUES = 2**18
"""Most values one stage draws per update. A larger stage is drawn from every n-th pixel; the
arrays in ``outputs`` stay exact. A screen shows no more than this anyway."""

# Colour anchors of two ColorBrewer schemes by Cynthia A. Brewer (colorbrewer2.org, Apache
# License 2.0; the 9-class Greys and 11-class RdBu values, as d3 and bqplot also ship them):
# 'Greys' runs white (low) to black (high); 'RdBu' runs red (negative) through white (0) to
# blue (positive).
GREYS = ["#ffffff", "#f0f0f0", "#d9d9d9", "#bdbdbd", "#969696", "#737373", "#525252",
          "#252525", "#000000"]
RDBU = ["#67001f", "#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#f7f7f7", "#d1e5f0",
         "#92c5de", "#4393c3", "#2166ac", "#053061"]


LEVELS = 255
"""Colours per scale. Pictures are palette PNGs: indices 0–254 are the colour ramp and index
255 is transparent (gutters, empty tiles), so one byte per pixel is painted and compressed."""
TRANSPARENT = LEVELS


def _lut(anchors: list[str]) -> np.ndarray:
    rgb = np.array([[int(a[i : i + 2], 16) for i in (1, 3, 5)] for a in anchors], np.float64)
    t = np.linspace(0, 1, len(anchors))
    steps = np.linspace(0, 1, LEVELS)
    return np.stack([np.interp(steps, t, rgb[:, k]) for k in range(3)], 1).round().astype(np.uint8)


LUTS = {"Greys": _lut(GREYS), "RdBu": _lut(RDBU)}


def palette(scheme: str) -> np.ndarray:
    """(256, 4) RGBA palette of a scheme: its ramp, then the transparent index."""
    rgba = np.zeros((LEVELS + 1, 4), np.uint8)
    rgba[:LEVELS, :3] = LUTS[scheme]
    rgba[:LEVELS, 3] = 255
    return rgba


@dataclass(frozen=True)
class Layout:
    """Where the channels of a (h, w, c) stage sit in its mosaic (1-pixel gutters).

    ``top``: empty rows above each row of tiles (0, or a strip for the tiles' numbers where
    the tiles are too small to hold them in a corner).
    """

    h: int
    w: int
    c: int
    cols: int
    rows: int
    top: int = 0

    @property
    def pitch(self) -> tuple[int, int]:
        """Mosaic pixels from one tile's row (column) of the mosaic to the next."""
        return self.top + self.h + 1, self.w + 1

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the mosaic, gutters and strips included."""
        down, across = self.pitch
        return self.rows * down - 1, self.cols * across - 1

    def origin(self, k: int) -> tuple[int, int]:
        """(row, col) of the mosaic where tile ``k``'s first pixel is."""
        r, c = divmod(k, self.cols)
        down, across = self.pitch
        return r * down + self.top, c * across


def mosaic_layout(h: int, w: int, c: int, cols: int | None = None, top: int = 0) -> Layout:
    """Tiles of ``c`` channels in ``cols`` columns (default: at most MAX_COLUMNS), ``top``
    empty rows above each row of tiles."""
    cols = max(1, min(c, MAX_COLUMNS if cols is None else cols))
    return Layout(h, w, c, cols, math.ceil(c / cols), max(0, int(top)))


def draw_step(h: int, w: int, c: int) -> int:
    """Smallest pixel step that brings h×w×c under MAX_DRAWN_VALUES (1 = every pixel)."""
    step = max(1, math.ceil(math.sqrt(h * w * c / MAX_DRAWN_VALUES)))
    while math.ceil(h / step) * math.ceil(w / step) * c > MAX_DRAWN_VALUES:
        step += 1
    return step


def tile(maps: np.ndarray, layout: Layout, fill=np.nan) -> np.ndarray:
    """(h, w, c, ...) channels -> mosaic, row-major; gutters, strips (``layout.top``) and empty
    tiles hold ``fill``."""
    h, w, c = maps.shape[:3]
    cells = layout.rows * layout.cols
    down, across = layout.pitch
    padded = np.full((layout.rows, layout.cols, down, across, *maps.shape[3:]), fill,
                     dtype=maps.dtype)
    grid = np.moveaxis(maps, 2, 0)  # (c, h, w, ...)
    top = layout.top
    padded.reshape((cells, down, across, *maps.shape[3:]))[:c, top:top + h, :w] = grid
    mosaic = np.swapaxes(padded, 1, 2).reshape(
        (layout.rows * down, layout.cols * across, *maps.shape[3:]))
    return mosaic[: layout.size[0], : layout.size[1]]


def colour_index(values: np.ndarray, lo: float, hi: float, diverging: bool) -> np.ndarray:
    """uint8 ramp positions (0–254) of ``values`` on the stage's colour scale.

    Diverging: 'RdBu' centred on 0, each side of 0 using its own half of the ramp so both signs
    get full contrast (red negative, white 0, blue positive). Otherwise 'Greys' from lo (white)
    to hi (black).
    """
    v = np.asarray(values, dtype=np.float32)
    top = np.float32(LEVELS - 1)
    if diverging:
        half = top / 2
        neg, pos = max(-lo, 1e-30), max(hi, 1e-30)
        t = np.where(v < 0, half + v * np.float32(half / neg), half + v * np.float32(half / pos))
    else:
        span = hi - lo if hi > lo else 1.0
        t = (v - np.float32(lo)) * np.float32(top / span)
    # NaN (from an overflowing activation) lands on the ramp's low end rather than anywhere.
    return np.clip(np.nan_to_num(np.rint(t), nan=0.0), 0, top).astype(np.uint8)


@dataclass(frozen=True)
class Picture:
    """One stage painted: the PNG, what it shows, and how."""

    png: bytes
    values: np.ndarray  # (h', w', c') float32 exactly as painted (after paging and stepping)
    layout: Layout
    step: int
    channels: tuple[int, int]  # first, end (exclusive) of the shown channels
    lo: float
    hi: float
    diverging: bool

    @property
    def digest(self) -> str:
        return values_digest(self.values)


def values_digest(values: np.ndarray) -> str:
    """Fingerprint of the exact values a picture was painted from (stored in its PNG)."""
    arr = np.ascontiguousarray(values, dtype=np.float32)
    return hashlib.sha256(repr(arr.shape).encode() + arr.tobytes()).hexdigest()


def paint(maps: np.ndarray, *, channels: tuple[int, int] | None = None,
          diverging: bool | None = None, cols: int | None = None,
          domain: tuple[float, float] | None = None, top: int = 0) -> Picture:
    """Paint channels ``channels = (first, end)`` of (h, w, C) ``maps`` into one mosaic.

    Default: the first SHOWN_CHANNELS channels, in at most MAX_COLUMNS columns (``cols``). The
    colour domain is ``domain`` (lo, hi), by default the min/max of every pixel of the shown
    channels; ``diverging`` (default: values of both signs) picks the red–blue scale centred on
    0. Gutters between tiles and empty tiles are transparent, so the page's background shows
    through; so are the ``top`` rows above each row of tiles (see :class:`Layout`).
    """
    h, w, total = maps.shape
    first, end = channels if channels is not None else (0, min(total, SHOWN_CHANNELS))
    shown = maps[:, :, first:end]
    # NaN marks cells that hold no value (a vector wrapped into rows): left transparent.
    blank = np.isnan(shown).any()
    if domain is not None:
        lo, hi = float(domain[0]), float(domain[1])
    else:
        lo = float(np.nanmin(shown)) if blank else float(shown.min())
        hi = float(np.nanmax(shown)) if blank else float(shown.max())
    if diverging is None:
        diverging = lo < 0 < hi
    step = draw_step(h, w, shown.shape[-1])
    values = np.ascontiguousarray(shown[::step, ::step], dtype=np.float32)
    layout = mosaic_layout(values.shape[0], values.shape[1], values.shape[2], cols, top)
    colours = colour_index(values, lo, hi, diverging)
    if blank:
        colours[np.isnan(values)] = TRANSPARENT
    index = tile(colours, layout, fill=TRANSPARENT)
    png = encode_png(index, palette=palette("RdBu" if diverging else "Greys"),
                     text={DIGEST_KEY: values_digest(values)})
    return Picture(png, values, layout, step, (first, first + values.shape[2]), lo, hi,
                   diverging)


def colour_bytes(pixels: np.ndarray) -> np.ndarray:
    """(h, w, 3 or 4) pixel values as uint8 colours: 0–255 values as they are, 0–1 values
    times 255, any other range stretched from its min to its max."""
    lo, hi = float(pixels.min()), float(pixels.max())
    if lo >= 0 and hi <= 1:
        scaled = pixels * 255.0
    elif lo >= 0 and hi <= 255:
        scaled = pixels
    else:
        scaled = (pixels - lo) * (255.0 / (hi - lo if hi > lo else 1.0))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def paint_colour(maps: np.ndarray, *, with_channels: bool = False) -> Picture:
    """Paint a colour image (h, w, 3 or 4) as a colour picture, optionally followed by its
    channels as grey tiles (R, G, B[, A]), in one RGBA PNG with transparent gutters."""
    h, w, c = maps.shape
    step = draw_step(h, w, c * (2 if with_channels else 1))
    values = np.ascontiguousarray(maps[::step, ::step], dtype=np.float32)
    lo, hi = float(values.min()), float(values.max())
    colour = colour_bytes(values)
    rgba = np.full((*colour.shape[:2], 4), 255, np.uint8)
    rgba[..., :3] = colour[..., :3]
    if c == 4:
        rgba[..., 3] = colour[..., 3]
    tiles = [rgba]
    if with_channels:
        greys = LUTS["Greys"][colour_index(values, lo, hi, diverging=False)]  # (h, w, c, 3)
        for k in range(c):
            tile_rgba = np.full((*colour.shape[:2], 4), 255, np.uint8)
            tile_rgba[..., :3] = greys[:, :, k]
            tiles.append(tile_rgba)
    stacked = np.stack(tiles, axis=2)  # (h, w, tiles, 4)
    layout = mosaic_layout(values.shape[0], values.shape[1], len(tiles), len(tiles))
    mosaic = tile(stacked, layout, fill=0)
    png = encode_png(mosaic, text={DIGEST_KEY: values_digest(values)})
    return Picture(png, values, layout, step, (0, c), lo, hi, False)
