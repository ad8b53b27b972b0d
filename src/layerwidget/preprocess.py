"""Turn a drawing (or any grey image) into a digit made the way MNIST's digits were made.

MNIST's digits were fitted into a 20×20 box keeping their aspect ratio, with anti-aliasing, then
placed in a 28×28 field so that their centre of mass falls on the field's centre. A network
trained on MNIST expects exactly that framing; a digit drawn small in a corner of a large pad
looks like nothing it has seen. :func:`mnist_preprocess` applies the same steps, in NumPy only
(no TensorFlow needed), so a drawing and an MNIST digit meet the network alike.
"""

from __future__ import annotations

import numpy as np

from .data import MAX_SIDE
from .errors import ImageError

__all__ = ["BOX", "CENTRE", "FIELD", "INK_THRESHOLD", "mnist_preprocess", "resample"]

FIELD = 28
"""Side of the output field, in pixels."""
BOX = 20
"""Side of the box the ink's bounding box is fitted into."""
CENTRE = 14
"""Row and column (counted from 0) the centre of mass is moved to. In all 1,000 embedded MNIST
digits the centre of mass lies within half a pixel of pixel (14, 14), not of the geometric centre
(13.5, 13.5): MNIST moved digits by whole pixels so that the rounded centre of mass is 14."""
INK_THRESHOLD = 10.0
"""Default level, on the 0–255 scale, above the background that a pixel must exceed to be ink."""


def _as_grey(pixels) -> np.ndarray:
    """(H, W) float64 on the 0–255 scale, or ImageError saying what to pass instead."""
    if isinstance(pixels, (str, bytes)):
        raise ImageError(f"the drawing is a {type(pixels).__name__}, not pixels; pass a NumPy "
                         "array of shape (H, W).", field="pixels")
    arr = np.asarray(pixels)
    if arr.dtype.kind not in "biuf":
        raise ImageError(f"the drawing has dtype {arr.dtype}, not numbers; pass uint8 (0–255) or "
                         "float (0–1 or 0–255) pixels.", field="pixels")
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2:
        raise ImageError(
            f"the drawing has shape {arr.shape}; pass one grey image of shape (H, W) or (H, W, 1). "
            "For RGB or RGBA pixels take one channel first, e.g. rgba[..., 3] for the strokes "
            "of a transparent canvas or rgb.mean(axis=-1).", field="pixels")
    h, w = arr.shape
    if h == 0 or w == 0:
        raise ImageError(f"the drawing has shape {arr.shape} and holds no pixels; pass an image "
                         "of at least 1×1 pixels.", field="pixels")
    if max(h, w) > MAX_SIDE:
        raise ImageError(f"the drawing is {h}×{w} pixels; at most {MAX_SIDE} pixels a side are "
                         "taken. Shrink or crop it first.", field="pixels")
    if arr.dtype.kind == "b":
        return arr.astype(np.float64) * 255.0
    grey = arr.astype(np.float64)
    if not np.isfinite(grey).all():
        raise ImageError("the drawing holds NaN or infinite values; replace them first, e.g. "
                         "np.nan_to_num(pixels).", field="pixels")
    low, high = float(grey.min()), float(grey.max())
    if low < 0 or high > 255:
        raise ImageError(f"the drawing's pixels run from {low:g} to {high:g}; pass values from "
                         "0 to 255 (or floats from 0 to 1).", field="pixels")
    if arr.dtype.kind == "f" and high <= 1.0:
        grey *= 255.0
    return grey


def _weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) resampling matrix: a triangle filter widened by the shrink factor."""
    scale = n_out / n_in
    support = max(1.0, 1.0 / scale)  # shrinking: average over every input pixel a sample covers
    centres = (np.arange(n_out) + 0.5) / scale - 0.5
    dist = np.abs(np.arange(n_in)[None, :] - centres[:, None])
    w = np.clip(1.0 - dist / support, 0.0, None)
    # Rows are normalized, so samples near the border use only the pixels that exist (the same
    # as repeating the edge pixel when enlarging).
    return w / w.sum(axis=1, keepdims=True)


def resample(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a 2-D image with anti-aliased bilinear (triangle-filter) resampling.

    The filter is the bilinear tent, widened by the shrink factor when shrinking so every input
    pixel contributes (what ``tf.image.resize(..., "bilinear", antialias=True)`` and PIL's
    ``BILINEAR`` do); pixel centres are aligned as theirs are (half-pixel centres).
    """
    rows = _weights(image.shape[0], shape[0])
    cols = _weights(image.shape[1], shape[1])
    return rows @ image @ cols.T


def mnist_preprocess(pixels, *, invert: bool | None = None,
                     ink_threshold: float = INK_THRESHOLD) -> np.ndarray:
    """An MNIST-style 28×28 digit from a drawing or any grey image.

    Steps, in order:

    1. Scale: uint8 and other integer or bool input is read on the 0–255 scale; float input
       whose largest value is at most 1 is read as 0–1 and multiplied by 255, other float
       input as 0–255.
    2. Polarity: MNIST digits are bright ink on black. With ``invert=None`` the image is
       inverted (255 − value) when its median pixel is above 127.5, i.e. when most of it is
       light: dark strokes on a light pad. ``invert=True``/``False`` forces the choice.
    3. Background: the median pixel (the background level, as strokes cover less than half of a
       drawing) is subtracted, so grey paper counts as black; *ink* is every pixel still more
       than ``ink_threshold`` above 0; everything else is set to 0.
    4. Crop to the bounding box of the ink, and resize it so that its longer side is 20 pixels
       and the other side keeps the aspect ratio (rounded, at least 1), with anti-aliased
       bilinear resampling in NumPy (:func:`resample`). The brightest pixel is then stretched
       to 255, as every MNIST digit reaches full ink.
    5. Place the box in a 28×28 field, moved by whole pixels so that its intensity-weighted
       centre of mass lands within half a pixel of pixel (14, 14) (row, column from 0), as in
       MNIST (see :data:`CENTRE`). Should that push part of the box out of the field, the move
       stops at the edge instead: no ink is cut off.

    Parameters
    ----------
    pixels : array-like
        (H, W) or (H, W, 1), at most 4096 pixels a side; uint8, int, bool or float.
    invert : bool or None, optional
        Whether to invert the image; None (default) decides from the median as above.
    ink_threshold : float, optional
        Level on the 0–255 scale, above the background, that makes a pixel ink; default 10.

    Returns
    -------
    np.ndarray
        uint8, shape (28, 28), 0–255, bright digit on black.

    Raises
    ------
    ImageError
        Wrong shape or dtype, a side over 4096 pixels, values outside 0–255, or no ink at all.
    """
    if invert not in (None, True, False):
        raise ImageError(f"invert={invert!r} is not allowed; use None (decide from the image), "
                         "True or False.", field="invert")
    threshold = float(ink_threshold)
    if not 0 <= threshold < 255:
        raise ImageError(f"ink_threshold={ink_threshold!r} is out of range; use a level from 0 "
                         "up to (not including) 255, default 10.", field="ink_threshold")
    grey = _as_grey(pixels)
    if invert is None:
        invert = bool(np.median(grey) > 127.5)
    if invert:
        grey = 255.0 - grey
    grey = grey - np.median(grey)
    ink = grey > threshold
    if not ink.any():
        raise ImageError(
            f"the drawing is empty: no pixel stands more than {threshold:g} (of 255) above the "
            "background. Draw a digit, with a bright stroke on a dark pad or a dark stroke on a "
            "light one.", field="pixels")
    grey = np.where(ink, grey, 0.0)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = grey[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    bh, bw = max(1, int(np.floor(h * scale + 0.5))), max(1, int(np.floor(w * scale + 0.5)))
    box = np.clip(resample(crop, (bh, bw)), 0.0, None)
    # Rounded before the centre of mass is taken, so it is the centre of the output's pixels.
    box = np.floor(box * (255.0 / box.max()) + 0.5)
    total = box.sum()
    cy = (box.sum(axis=1) @ np.arange(bh)) / total
    cx = (box.sum(axis=0) @ np.arange(bw)) / total
    top = min(max(int(np.floor(CENTRE - cy + 0.5)), 0), FIELD - bh)
    left = min(max(int(np.floor(CENTRE - cx + 0.5)), 0), FIELD - bw)
    field = np.zeros((FIELD, FIELD), np.uint8)
    field[top : top + bh, left : left + bw] = box
    return field
