"""A drawing from the panel's pad, or an uploaded picture, as one more image for the explorer.

The panel sends pixels as base64 text (``{"width", "height", "pixels"}``): a drawing as one grey
byte per pixel, an upload as four RGBA bytes per pixel. :func:`decode_drawing` and
:func:`decode_upload` check what arrived; :func:`fit_image` turns it into an image of the
explorer's own shape (framed as MNIST framed its digits when the explorer holds MNIST-like
digits); :mod:`layerwidget.image_sets` adds it to the explorer's images.
"""

from __future__ import annotations

import base64
import binascii
import math

import numpy as np

from .data import MAX_SIDE
from .errors import ImageError
from .preprocess import INK_THRESHOLD, mnist_preprocess, resample

__all__ = [
    "MAX_UPLOAD_BYTES",
    "decode_drawing",
    "decode_upload",
    "fit_image",
]

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
"""Most RGBA bytes (4 per pixel) an upload may carry: 10 MiB, as the panel's file limit."""

# Rec. 601 luma, the weights PIL's convert("L") and most "to grey" conversions use.
_LUMA = np.array([0.299, 0.587, 0.114])
_KEYS = {"drawing": ("width", "height", "pixels", "n"),
         "upload": ("name", "width", "height", "pixels", "n")}


def _check_dict(value, what: str) -> dict:
    if not isinstance(value, dict):
        clear = ", or None to clear the pad" if what == "drawing" else ""
        raise ImageError(f"the {what} is of type {type(value).__name__}, not a dict; send "
                         "{'width': w, 'height': h, 'pixels': <base64 text>}" + clear + ".",
                         field=what)
    unknown = sorted(str(k) for k in value if k not in _KEYS[what])
    if unknown:
        raise ImageError(f"the {what} has unknown key(s) {', '.join(unknown)}; it takes "
                         f"{', '.join(_KEYS[what])}.", field=what)
    for key in ("width", "height", "pixels"):
        if key not in value:
            raise ImageError(f"the {what} has no {key!r}; send width and height in pixels and "
                             "pixels as base64 text.", field=what)
    return value


def _side(value: dict, key: str, what: str) -> int:
    side = value[key]
    if isinstance(side, bool) or not isinstance(side, (int, np.integer)):
        raise ImageError(f"the {what}'s {key} is {side!r}; send a whole number of pixels from 1 "
                         f"to {MAX_SIDE}.", field=what)
    if not 1 <= side <= MAX_SIDE:
        fix = "Shrink the picture first." if side > MAX_SIDE else "Send a picture of some pixels."
        raise ImageError(f"the {what}'s {key} is {side} pixels; it must be from 1 to {MAX_SIDE}. "
                         + fix, field=what)
    return int(side)


def _bytes(text, count: int, what: str, per_pixel: str) -> np.ndarray:
    """``count`` bytes from base64 ``text``, checked before anything large is decoded."""
    if not isinstance(text, str):
        raise ImageError(f"the {what}'s pixels are of type {type(text).__name__}; send base64 "
                         f"text of {per_pixel}.", field=what)
    expected = 4 * math.ceil(count / 3)
    if len(text) != expected:
        raise ImageError(f"the {what}'s pixels are {len(text):,} base64 characters, but "
                         f"width × height needs {count:,} bytes ({expected:,} characters, "
                         f"{per_pixel}); send width, height and pixels of the same picture.",
                         field=what)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ImageError(f"the {what}'s pixels are not valid base64 text; encode the bytes "
                         "with btoa() or base64.b64encode().", field=what) from None
    if len(raw) != count:  # padding can make the text the right length for the wrong count
        raise ImageError(f"the {what}'s pixels decode to {len(raw):,} bytes, but width × height "
                         f"needs {count:,} ({per_pixel}).", field=what)
    return np.frombuffer(raw, np.uint8)


def decode_drawing(value) -> np.ndarray | None:
    """The pad's pixels, from the panel's ``drawing`` value.

    Parameters
    ----------
    value : dict or None
        ``{"width": w, "height": h, "pixels": base64 of w·h grey bytes, row by row}`` (an ``"n"``
        counter is allowed, as in uploads). None means the pad was cleared.

    Returns
    -------
    np.ndarray or None
        uint8 (h, w), bright ink on black as the pad draws it; None when cleared.

    Raises
    ------
    ImageError
        Not such a dict, a side outside 1–4096, or pixels that are not that many bytes.
    """
    if value is None:
        return None
    value = _check_dict(value, "drawing")
    width, height = _side(value, "width", "drawing"), _side(value, "height", "drawing")
    flat = _bytes(value["pixels"], width * height, "drawing", "one grey byte per pixel")
    return flat.reshape(height, width)


def decode_upload(value) -> np.ndarray:
    """An uploaded picture's pixels, from the panel's ``upload`` value.

    Parameters
    ----------
    value : dict
        ``{"name": file name, "width": w, "height": h, "pixels": base64 of w·h·4 RGBA bytes}``
        (straight, not premultiplied, alpha, as a canvas's ``getImageData`` gives them), with an
        optional counter ``"n"``.

    Returns
    -------
    np.ndarray
        uint8 (h, w, 4), RGBA.

    Raises
    ------
    ImageError
        Not such a dict, a side outside 1–4096, more than 10 MiB of pixels, or pixels that are
        not w·h·4 bytes.
    """
    value = _check_dict(value, "upload")
    name = value.get("name")
    if name is not None and not isinstance(name, str):
        raise ImageError(f"the upload's name is {name!r}; send the file name as text.",
                         field="upload")
    width, height = _side(value, "width", "upload"), _side(value, "height", "upload")
    count = width * height * 4
    if count > MAX_UPLOAD_BYTES:
        raise ImageError(f"the upload is {width}×{height} pixels, {count / 2**20:.1f} MiB as "
                         f"RGBA; at most {MAX_UPLOAD_BYTES // 2**20} MiB are taken. Send a "
                         "smaller picture (the panel sends at most 512 pixels a side).",
                         field="upload")
    flat = _bytes(value["pixels"], count, "upload", "four RGBA bytes per pixel")
    return flat.reshape(height, width, 4)


def _check_target(target_shape) -> tuple[int, int, int]:
    try:
        h, w, c = (int(v) for v in target_shape)
    except (TypeError, ValueError):
        raise ImageError(f"target_shape={target_shape!r} is not (H, W, C); pass the explorer's "
                         "image shape, e.g. (28, 28, 1).") from None
    if min(h, w) < 1 or max(h, w) > MAX_SIDE or c not in (1, 3, 4):
        raise ImageError(f"target_shape={target_shape!r} is out of range; H and W run from 1 to "
                         f"{MAX_SIDE}, C is 1, 3 or 4.")
    return h, w, c


def _check_pixels(pixels) -> np.ndarray:
    arr = np.asarray(pixels)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.dtype != np.uint8 or not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] in (3, 4))):
        raise ImageError(f"pixels of dtype {arr.dtype} and shape {arr.shape} cannot be fitted; "
                         "pass uint8 (h, w) grey (a drawing) or (h, w, 3|4) RGB(A) (an upload), "
                         "as decode_drawing and decode_upload return them.", field="pixels")
    if 0 in arr.shape[:2]:
        raise ImageError(f"pixels of shape {arr.shape} hold no pixels.", field="pixels")
    return arr


def _over_white(rgba: np.ndarray) -> np.ndarray:
    """(h, w, 3) float64 0–255: the picture as it looks on white paper."""
    rgb = rgba[..., :3].astype(np.float64)
    if rgba.shape[-1] == 3:
        return rgb
    alpha = rgba[..., 3:].astype(np.float64) / 255.0
    return rgb * alpha + 255.0 * (1.0 - alpha)


def _resized(channels: np.ndarray, h: int, w: int) -> np.ndarray:
    """(h, w, k) float64: each of the k channels of ``channels`` resampled."""
    if channels.shape[:2] == (h, w):
        return channels
    # One contiguous plane at a time: matmul on a strided view is over ten times slower.
    planes = np.moveaxis(channels, -1, 0)
    return np.stack([resample(np.ascontiguousarray(p), (h, w)) for p in planes], axis=-1)


def _to_uint8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(values + 0.5), 0, 255).astype(np.uint8)


def fit_image(pixels, target_shape, *, mnist: bool) -> np.ndarray:
    """One image of the explorer's shape from a drawing or an upload.

    Parameters
    ----------
    pixels : np.ndarray
        uint8: (h, w) grey, a drawing (bright ink on black); or (h, w, 4) RGBA (or (h, w, 3)
        RGB), an upload.
    target_shape : tuple of int
        The explorer's image shape (H, W, C), C being 1, 3 or 4.
    mnist : bool
        True when the explorer holds MNIST-like digits (28×28×1): the image is then framed as
        MNIST framed its digits (:func:`~.preprocess.mnist_preprocess`): a drawing as bright
        ink, an upload laid over white paper, made grey, and inverted when it is dark on light.
        False: the whole picture is resized to H×W (its aspect ratio is not kept) with
        :func:`~.preprocess.resample`.

    Returns
    -------
    np.ndarray
        uint8, (H, W, C), 0–255. Grey becomes RGB by repeating it; colour becomes grey by its
        luma (Rec. 601) over white; a 4-channel target keeps an upload's alpha (resampled
        premultiplied, so transparent pixels lend no colour) and gives a drawing full alpha.

    Raises
    ------
    ImageError
        An empty drawing (no ink), a blank upload (one colour, or in MNIST mode nothing that
        stands out from its background), or pixels or a target shape of the wrong kind.
    """
    h, w, c = _check_target(target_shape)
    arr = _check_pixels(pixels)
    drawing = arr.ndim == 2
    if drawing and float(arr.max()) <= INK_THRESHOLD:  # the pad is black: no pixel is ink
        raise ImageError(f"the drawing is empty: no pixel stands more than {INK_THRESHOLD:g} "
                         "(of 255) above the pad. Draw a digit on the pad.", field="drawing")
    paper = None if drawing else _over_white(arr)
    if paper is not None and (paper == paper[0, 0]).all():
        rgb = ", ".join(f"{v:.0f}" for v in paper[0, 0])
        raise ImageError(f"the uploaded picture is blank: every pixel looks the same colour "
                         f"(RGB {rgb} on white). Upload a picture that shows something, e.g. a "
                         "dark digit on light paper.", field="upload")
    if mnist:
        if drawing and float(np.median(arr)) > INK_THRESHOLD:
            # MNIST framing takes the median as the paper's level: over half inked, no paper.
            raise ImageError("the drawing covers more than half of the pad, so no digit stands "
                             "out from it. Clear the pad and draw one digit.", field="drawing")
        try:
            if drawing:
                grey = mnist_preprocess(arr, invert=False)
            else:
                grey = mnist_preprocess(_to_uint8(paper @ _LUMA))
        except ImageError as exc:  # the only one left for valid pixels: nothing stands out
            if drawing:
                raise ImageError(str(exc), field="drawing") from None
            raise ImageError(
                "the uploaded picture has no strokes: no pixel stands more than "
                f"{INK_THRESHOLD:g} (of 255) out from its background. Upload a picture of a "
                "digit with clear strokes, dark on light or light on dark.",
                field="upload") from None
        values = grey.astype(np.float64)[..., None]
    elif drawing:
        values = arr.astype(np.float64)[..., None]
    elif c == 4 and arr.shape[-1] == 4:
        # Premultiplied while resampling, so the colour of see-through pixels does not bleed.
        alpha = arr[..., 3:].astype(np.float64)
        both = _resized(np.concatenate([arr[..., :3] * (alpha / 255.0), alpha], axis=-1), h, w)
        colour, alpha = both[..., :3], both[..., 3:]
        safe = np.where(alpha > 0, alpha, 1.0)
        colour = np.where(alpha > 0, colour * (255.0 / safe), 0.0)
        return _to_uint8(np.concatenate([colour, alpha], axis=-1))
    else:
        values = (paper @ _LUMA)[..., None] if c == 1 else paper
    values = _resized(values, h, w)
    if values.shape[-1] == 1 and c > 1:
        values = np.repeat(values, 3, axis=-1)
    if c == 4:
        values = np.concatenate([values, np.full((h, w, 1), 255.0)], axis=-1)
    return _to_uint8(values)
