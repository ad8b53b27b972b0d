"""Decoders the tests use to check what the package encodes; not shipped with the package.

``read_png`` reads back the PNGs layerwidget writes (8-bit palette or RGBA, filter 0) so tests
can compare a picture's pixels with the values it was painted from without extra dependencies;
``untile`` undoes a mosaic; ``colorize`` maps values to the RGB colours of a stage's scale.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from layerwidget.render import LUTS, Layout, colour_index


def _chunks(png: bytes):
    png = bytes(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos = 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        yield png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        pos += 12 + length


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


def untile(mosaic: np.ndarray, layout: Layout) -> np.ndarray:
    """Inverse of :func:`layerwidget.render.tile`: the (h, w, c) channels a mosaic holds (each
    row of tiles ``layout.top`` rows below its strip, tiles 1 pixel apart)."""
    h, w, top = layout.h, layout.w, layout.top
    down, across = top + h + 1, w + 1
    full = np.zeros((layout.rows * down, layout.cols * across, *mosaic.shape[2:]), mosaic.dtype)
    full[: mosaic.shape[0], : mosaic.shape[1]] = mosaic
    grid = full.reshape((layout.rows, down, layout.cols, across, *mosaic.shape[2:]))
    grid = np.swapaxes(grid, 1, 2).reshape((layout.rows * layout.cols, down, across,
                                            *mosaic.shape[2:]))
    return np.moveaxis(grid[: layout.c, top:top + h, :w], 0, 2)



def colorize(values: np.ndarray, lo: float, hi: float, diverging: bool) -> np.ndarray:
    """RGB uint8 colours of ``values`` on the stage's colour scale (see :func:`colour_index`)."""
    return LUTS["RdBu" if diverging else "Greys"][colour_index(values, lo, hi, diverging)]
