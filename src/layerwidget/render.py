"""Feature maps to pictures: colour scales, channel mosaics with gutters, and PNG encoding.

Pure NumPy + zlib, no widget code: the live heatmaps and the kernel-free HTML export draw the
same pictures from the same functions.

Why the kernel paints: a bqplot HeatMap fills one canvas rectangle per value in the browser
and redraws whenever its colour domain or data change, which measured 300+ ms per edit for a
32-channel stack here. A PNG painted with NumPy costs ~1 ms and the browser only decodes it.
"""

from __future__ import annotations

import hashlib
import math
import struct
import zlib
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MAX_COLUMNS",
    "MAX_DRAWN_VALUES",
    "MAX_SHOWN_CHANNELS",
    "Layout",
    "Picture",
    "colorize",
    "colour_index",
    "draw_step",
    "encode_png",
    "mosaic_layout",
    "paint",
    "palette",
    "picture_notes",
    "png_text",
    "stage_title",
    "read_png",
    "tile",
    "untile",
]

MAX_SHOWN_CHANNELS = 64
"""Channels drawn per stage at once; the panel pages through the rest."""
MAX_COLUMNS = 8
MAX_DRAWN_VALUES = 2**18
"""Most values one stage draws per update. A larger stage is drawn from every n-th pixel; the
arrays in ``outputs`` stay exact. A screen shows no more than this anyway."""

# Colour anchors of the classic ColorBrewer schemes (as d3 and bqplot use them): 'Greys' runs
# white (low) to black (high); 'RdBu' runs red (negative) through white (0) to blue (positive).
_GREYS = ["#ffffff", "#f0f0f0", "#d9d9d9", "#bdbdbd", "#969696", "#737373", "#525252",
          "#252525", "#000000"]
_RDBU = ["#67001f", "#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#f7f7f7", "#d1e5f0",
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


LUTS = {"Greys": _lut(_GREYS), "RdBu": _lut(_RDBU)}


def palette(scheme: str) -> np.ndarray:
    """(256, 4) RGBA palette of a scheme: its ramp, then the transparent index."""
    rgba = np.zeros((LEVELS + 1, 4), np.uint8)
    rgba[:LEVELS, :3] = LUTS[scheme]
    rgba[:LEVELS, 3] = 255
    return rgba


@dataclass(frozen=True)
class Layout:
    """Where the channels of a (h, w, c) stage sit in its mosaic (1-pixel gutters)."""

    h: int
    w: int
    c: int
    cols: int
    rows: int

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the mosaic, gutters included."""
        return self.rows * (self.h + 1) - 1, self.cols * (self.w + 1) - 1


def mosaic_layout(h: int, w: int, c: int) -> Layout:
    cols = min(c, MAX_COLUMNS)
    return Layout(h, w, c, cols, math.ceil(c / cols))


def draw_step(h: int, w: int, c: int) -> int:
    """Smallest pixel step that brings h×w×c under MAX_DRAWN_VALUES (1 = every pixel)."""
    step = max(1, math.ceil(math.sqrt(h * w * c / MAX_DRAWN_VALUES)))
    while math.ceil(h / step) * math.ceil(w / step) * c > MAX_DRAWN_VALUES:
        step += 1
    return step


def tile(maps: np.ndarray, layout: Layout, fill=np.nan) -> np.ndarray:
    """(h, w, c, ...) channels -> mosaic, row-major; gutters and empty tiles hold ``fill``."""
    h, w, c = maps.shape[:3]
    cells = layout.rows * layout.cols
    padded = np.full((layout.rows, layout.cols, h + 1, w + 1) + maps.shape[3:], fill,
                     dtype=maps.dtype)
    grid = np.moveaxis(maps, 2, 0)  # (c, h, w, ...)
    padded.reshape((cells, h + 1, w + 1) + maps.shape[3:])[:c, :h, :w] = grid
    mosaic = np.swapaxes(padded, 1, 2).reshape(
        (layout.rows * (h + 1), layout.cols * (w + 1)) + maps.shape[3:])
    return mosaic[: layout.size[0], : layout.size[1]]


def untile(mosaic: np.ndarray, layout: Layout) -> np.ndarray:
    """Inverse of :func:`tile`: the (h, w, c) channels a mosaic holds."""
    h, w = layout.h, layout.w
    full = np.zeros((layout.rows * (h + 1), layout.cols * (w + 1)) + mosaic.shape[2:],
                    mosaic.dtype)
    full[: mosaic.shape[0], : mosaic.shape[1]] = mosaic
    grid = full.reshape((layout.rows, h + 1, layout.cols, w + 1) + mosaic.shape[2:])
    grid = np.swapaxes(grid, 1, 2).reshape((layout.rows * layout.cols, h + 1, w + 1)
                                           + mosaic.shape[2:])
    return np.moveaxis(grid[: layout.c, :h, :w], 0, 2)


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


def colorize(values: np.ndarray, lo: float, hi: float, diverging: bool) -> np.ndarray:
    """RGB uint8 colours of ``values`` on the stage's colour scale (see :func:`colour_index`)."""
    return LUTS["RdBu" if diverging else "Greys"][colour_index(values, lo, hi, diverging)]


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


def paint(maps: np.ndarray, *, first_channel: int = 0, diverging: bool | None = None
          ) -> Picture:
    """Paint channels ``first_channel`` … (at most MAX_SHOWN_CHANNELS) of (h, w, C) ``maps``.

    The colour domain is the min/max of every pixel of the shown channels; ``diverging``
    (default: values of both signs) picks the red–blue scale centred on 0. Gutters between
    tiles and empty tiles are transparent, so the page's background shows through.
    """
    h, w, total = maps.shape
    first = min(max(first_channel, 0), max(total - 1, 0))
    shown = maps[:, :, first : first + MAX_SHOWN_CHANNELS]
    lo, hi = float(shown.min()), float(shown.max())
    if diverging is None:
        diverging = lo < 0 < hi
    step = draw_step(h, w, shown.shape[-1])
    values = np.ascontiguousarray(shown[::step, ::step], dtype=np.float32)
    layout = mosaic_layout(values.shape[0], values.shape[1], values.shape[2])
    index = tile(colour_index(values, lo, hi, diverging), layout, fill=TRANSPARENT)
    png = encode_png(index, palette=palette("RdBu" if diverging else "Greys"),
                     text={"layerwidget-values-sha256": values_digest(values)})
    return Picture(png, values, layout, step, (first, first + values.shape[2]), lo, hi,
                   diverging)


def stage_title(name: str, shape, lo: float, hi: float, extra: str = "") -> str:
    """Title of a stage: name, Keras shape, min and max rounded for reading."""
    shape_text = "(" + ", ".join(str(v) for v in shape) + ")"
    return f"{name} {shape_text}{extra}  min {lo:.2f}  max {hi:.2f}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def picture_notes(picture: Picture, total_channels: int) -> list[str]:
    """What a reader must know about a picture: channel paging, pixel stepping."""
    notes = []
    first, end = picture.channels
    if end - first < total_channels:
        notes.append(f"channels {first + 1}–{end} of {total_channels}")
    if picture.step > 1:
        notes.append(f"every {_ordinal(picture.step)} pixel drawn")
    return notes


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def encode_png(pixels: np.ndarray, palette: np.ndarray | None = None,
               text: dict[str, str] | None = None, level: int = 1) -> bytes:
    """PNG bytes of (H, W) palette indices with an (N, 4) RGBA ``palette``, or of an
    (H, W, 4) uint8 RGBA image; with optional tEXt chunks.

    Every row uses filter 0: feature-map mosaics compress well enough with zlib alone, and a
    fast level keeps encoding near a millisecond.
    """
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    if palette is not None and pixels.ndim == 2:
        height, width = pixels.shape
        colour_type, per_pixel = 3, 1
    elif palette is None and pixels.ndim == 3 and pixels.shape[2] == 4:
        height, width = pixels.shape[:2]
        colour_type, per_pixel = 6, 4
    else:
        raise ValueError("encode_png takes (H, W) indices with a palette, or (H, W, 4) RGBA")
    raw = np.zeros((height, width * per_pixel + 1), np.uint8)
    raw[:, 1:] = pixels.reshape(height, width * per_pixel)
    out = [b"\x89PNG\r\n\x1a\n",
           _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))]
    if palette is not None:
        pal = np.asarray(palette, np.uint8)
        out.append(_chunk(b"PLTE", pal[:, :3].tobytes()))
        out.append(_chunk(b"tRNS", pal[:, 3].tobytes()))
    for key, value in (text or {}).items():
        out.append(_chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1")))
    out.append(_chunk(b"IDAT", zlib.compress(raw.tobytes(), level)))
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)


def _chunks(png: bytes):
    png = bytes(png)  # widgets hand back memoryviews
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos = 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        yield png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        pos += 12 + length


def png_text(png: bytes) -> dict[str, str]:
    """The tEXt entries of a PNG."""
    entries = {}
    for kind, data in _chunks(png):
        if kind == b"tEXt":
            key, _, value = data.partition(b"\0")
            entries[key.decode("latin-1")] = value.decode("latin-1")
    return entries


def read_png(png: bytes) -> np.ndarray:
    """(H, W, 4) RGBA pixels of a PNG written by :func:`encode_png` (8 bit, filter 0)."""
    header, idat, pal, alpha = None, b"", None, None
    for kind, data in _chunks(png):
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data)
        elif kind == b"PLTE":
            pal = np.frombuffer(data, np.uint8).reshape(-1, 3)
        elif kind == b"tRNS":
            alpha = np.frombuffer(data, np.uint8)
        elif kind == b"IDAT":
            idat += data
    width, height, depth, colour = header[:4]
    if depth != 8 or colour not in (3, 6):
        raise ValueError("read_png reads 8-bit palette or RGBA PNGs only")
    per_pixel = 1 if colour == 3 else 4
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, width * per_pixel + 1)
    if raw[:, 0].any():
        raise ValueError("read_png reads unfiltered PNGs only")
    pixels = raw[:, 1:].reshape(height, width, per_pixel)
    if colour == 6:
        return pixels.copy()
    rgba = np.zeros((len(pal), 4), np.uint8)
    rgba[:, :3] = pal
    rgba[:, 3] = 255 if alpha is None else np.pad(alpha, (0, len(pal) - len(alpha)),
                                                  constant_values=255)
    return rgba[pixels[:, :, 0]]
