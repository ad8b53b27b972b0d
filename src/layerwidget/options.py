"""The explorer's editable fields: declared once, checked once.

The explorer (Python) and the panel (browser) both edit these fields. Each is declared here with
its default and its one-line doc; ``LayerExplorer`` and ``ControlPanel`` derive their traits from
this table, and every check of an option's value lives in this module, used by the explorer and
the HTML export alike. Layer stacks are checked by :mod:`layerwidget.layers`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

from .errors import ImageError, OptionError

__all__ = [
    "EDITABLE",
    "MAX_SEED",
    "PIXEL_SCALES",
    "SHOWN_CHANNELS",
    "Editable",
    "channel_page_count",
    "channel_page_labels",
    "check_channel_page",
    "check_flag",
    "check_focus",
    "check_image_index",
    "check_pixel_scale",
    "check_seed",
    "check_unit",
    "option_schema",
    "page_channels",
]

MAX_SEED = 2**32 - 1
"""Largest seed (NumPy and Keras accept 32-bit seeds)."""
PIXEL_SCALES = ("raw", "unit")
"""'raw' feeds pixels as stored (0–255 for the digits); 'unit' divides 8-bit pixels by 255."""
SHOWN_CHANNELS = 64
"""Channels each stage shows at once; the channel page picks which block."""


@dataclass(frozen=True)
class Editable:
    """A field that both Python and the panel edit."""

    name: str
    default: Any  # the explorer's default; ``None`` for layers means the default stack
    panel_default: Any  # what the panel holds before the kernel has sent anything
    doc: str


EDITABLE: tuple[Editable, ...] = (
    Editable("layers", None, [],
             "list[dict]: the layer stack, normalized; default Conv2D(3) → ReLU → MaxPool2D."),
    Editable("image_index", 0, 0, "int: index of the input image; default 0."),
    Editable("seed", 0, 0, f"int: seed of the layers' weights, 0 to {MAX_SEED}; default 0."),
    Editable("pixel_scale", "raw", "raw",
             "str: 'raw' feeds pixels as stored, 'unit' divides 8-bit pixels by 255; "
             "default 'raw'."),
    Editable("channel_page", 0, 0,
             f"int: which block of {SHOWN_CHANNELS} channels each stage shows; default 0."),
    Editable("input_channels", False, False,
             "bool: show a colour input's channels in grey beside its picture; default False."),
    Editable("focus", None, None,
             "tuple | None: (stage, channel) drawn large with the kernel that made it; stage 0 is "
             "the input, stage i the output of layer i (from 1); default None."),
    Editable("unit", None, None,
             "tuple | None: (row, col) of the focused channel whose receptive field and "
             "arithmetic are shown; default None."),
    Editable("histograms", False, False,
             "bool: show each stage's histogram of values; default False."),
)
"""Every editable field, in the order the panel shows them."""


def _whole_number(name: str, value: Any, lo: int, hi: int, fix: str,
                  error: type[OptionError] | type[ImageError] = OptionError) -> int:
    """``value`` as an int in [lo, hi], or ``error`` naming the field, the value and the fix."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise error(f"{name}={value!r} is not a whole number; {fix}", field=name)
    if not lo <= int(value) <= hi:
        raise error(f"{name}={value} is out of range; {fix}", field=name)
    return int(value)


def check_image_index(value: Any, n_images: int) -> int:
    """A valid index into ``n_images`` images, or ImageError naming the range."""
    return _whole_number("image_index", value, 0, n_images - 1,
                         f"the explorer holds {n_images:,} images, so use 0 to {n_images - 1}.",
                         ImageError)


def check_seed(value: Any) -> int:
    """A valid seed, or OptionError naming the range."""
    return _whole_number("seed", value, 0, MAX_SEED, f"use a whole number from 0 to {MAX_SEED}.")


def check_pixel_scale(value: Any, eight_bit: bool = True) -> str:
    """'raw' or 'unit' ('raw' only for float images), or OptionError saying what each means."""
    if value not in PIXEL_SCALES:
        raise OptionError(f"pixel_scale={value!r} is not allowed; use 'raw' (pixels as stored) "
                          "or 'unit' (8-bit pixels divided by 255 to 0–1).", field="pixel_scale")
    if value == "unit" and not eight_bit:
        raise OptionError("pixel_scale='unit' divides 8-bit pixels by 255, but these images are "
                          "floats and are fed as they are; use 'raw', or pass uint8 images.",
                          field="pixel_scale")
    return value


SEED_SLIDER = (0, 999, 1)
"""Range of the panel's seed slider (the number box takes any seed up to MAX_SEED)."""


def option_schema(n_images: int, eight_bit: bool, pixel_range: tuple[float, float],
                  colour: bool) -> dict:
    """How the panel shows each option for the images an explorer holds.

    The pixel scale offers only what it does for these images: 8-bit pixels fed as stored
    (0–255) or divided by 255; float pixels are fed as they are, with their range said.
    """
    lo, hi = pixel_range
    if eight_bit:
        scales = [["raw", "raw 0–255, as stored"], ["unit", "unit 0–1, ÷ 255"]]
    else:
        scales = [["raw", f"as given, {lo:.2f} to {hi:.2f}"]]
    return {
        "image_index": {"slider": [0, max(n_images - 1, 0), 1], "max": n_images - 1},
        "seed": {"slider": list(SEED_SLIDER), "max": MAX_SEED},
        "pixel_scale": {"choices": scales},
        "input_channels": {"shown": colour},
    }


def check_flag(name: str, value: Any) -> bool:
    """True or False, or OptionError (1 and 0 are not accepted: a switch is on or off)."""
    if not isinstance(value, bool):
        raise OptionError(f"{name}={value!r} is not allowed; use True or False.", field=name)
    return value


def _pair(name: str, value: Any, what: str, fix: str) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise OptionError(f"{name}={value!r} is not {what}; {fix}", field=name)
    a, b = value
    for v in (a, b):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise OptionError(f"{name}={value!r} is not {what}; {fix}", field=name)
    return int(a), int(b)


def check_focus(value: Any, shapes: list[tuple[int, int, int]]) -> tuple[int, int] | None:
    """A valid (stage, channel), or None; ``shapes`` are the (H, W, C) of every stage, the input
    first."""
    last = len(shapes) - 1
    fix = (f"give (stage, channel) with stage 0 (the input) to {last}, or None for no focus.")
    pair = _pair("focus", value, "a (stage, channel) pair", fix)
    if pair is None:
        return None
    stage, channel = pair
    if not 0 <= stage <= last:
        raise OptionError(f"focus={value!r}: stage {stage} does not exist; the stack has "
                          f"stages 0 (the input) to {last}. {fix[0].upper()}{fix[1:]}",
                          field="focus")
    channels = shapes[stage][-1]
    if not 0 <= channel < channels:
        raise OptionError(f"focus={value!r}: stage {stage} has channels 0 to {channels - 1}; "
                          f"pick one of those.", field="focus")
    return stage, channel


def check_unit(value: Any, focus: tuple[int, int] | None,
               shapes: list[tuple[int, int, int]]) -> tuple[int, int] | None:
    """A valid (row, col) of the focused channel, or None."""
    pair = _pair("unit", value, "a (row, col) pair", "give (row, col) of the focused map, or "
                 "None.")
    if pair is None:
        return None
    if focus is None:
        raise OptionError(f"unit={value!r} needs a focused channel first; set focus = (stage, "
                          "channel), or click a map.", field="unit")
    h, w, _ = shapes[focus[0]]
    row, col = pair
    if not (0 <= row < h and 0 <= col < w):
        raise OptionError(f"unit={value!r} is outside the focused {h}×{w} map; use a row from 0 "
                          f"to {h - 1} and a column from 0 to {w - 1}.", field="unit")
    return row, col


def channel_page_count(channels: int) -> int:
    """How many pages of SHOWN_CHANNELS a stage with ``channels`` channels has (at least 1)."""
    return max(1, math.ceil(channels / SHOWN_CHANNELS))


def check_channel_page(value: Any, widest: int) -> int:
    """A valid page for stages at most ``widest`` channels wide, or OptionError naming the range."""
    pages = channel_page_count(widest)
    return _whole_number("channel_page", value, 0, pages - 1,
                         f"the widest stage has {widest} channels, {pages} page(s) of "
                         f"{SHOWN_CHANNELS}, so use 0 to {pages - 1}.")


def page_channels(page: int, channels: int) -> tuple[int, int]:
    """(first, end) channels a stage with ``channels`` channels shows on ``page``.

    A stage with fewer pages than the widest shows its own last page: every stage always shows
    a full, labelled block of its own channels.
    """
    page = min(page, channel_page_count(channels) - 1)
    first = page * SHOWN_CHANNELS
    return first, min(first + SHOWN_CHANNELS, channels)


def channel_page_labels(widest: int) -> list[str]:
    """Labels of the channel pages of the widest stage, as array indices: '0–63', '64–99'."""
    return [f"{first}–{end - 1}" for first, end in
            (page_channels(p, widest) for p in range(channel_page_count(widest)))]
