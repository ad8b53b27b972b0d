"""Named kernels a student can load into a convolution instead of random weights.

Names are lowercase words separated by single spaces ("box blur", "sobel x"), as the panel shows
them.

Conventions
-----------
Keras's Conv2D computes a cross-correlation, not a flipped convolution: output ``(y, x)`` is
``Σᵢⱼ K[i, j] · in[y·s − top + i, x·s − left + j]``. A kernel therefore acts the way it reads
when printed: its top-left weight multiplies the top-left cell of the window. With that,

- "sobel x" ``[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]`` is positive where brightness grows from
  left to right (with the column index), negative where it falls;
- "sobel y" ``[[-1, -2, -1], [0, 0, 0], [1, 2, 1]]`` is positive where brightness grows from top
  to bottom (with the row index, as image rows count downwards);
- "laplacian" ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]`` is negative on a bright dot or line, positive
  beside it, 0 on flat areas and even ramps;
- "sharpen" ``[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]`` is identity minus laplacian (weights sum 1).

Sizes
-----
:func:`preset_kernel` makes any size from 1 to 11. The *centre* of a k×k kernel is cell
``(k − 1) // 2`` on both axes: for odd k the middle, for even k the top-left cell of the middle
2×2. That is the cell Keras's 'same' padding (stride 1) lines up with the output cell, because
it pads ``(k − 1) // 2`` cells before and the rest after; so "identity" returns its input exactly
for every k. "box blur" is 1/k² everywhere; "gaussian blur" the outer product of row k of
Pascal's triangle with itself, normalized to sum 1. "sharpen", "sobel x", "sobel y" and
"laplacian" are their 3×3 kernels placed with their middle on the centre of a k×k kernel of
zeros (k ≥ 3): the same filter, read through a larger window (with 'same' padding and stride 1
the output does not change; with 'valid' the map shrinks by k − 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .errors import OptionError, did_you_mean

__all__ = ["KERNEL_PRESETS", "MAX_PRESET_SIZE", "preset_kernel", "preset_weights"]

MAX_PRESET_SIZE = 11
"""Largest kernel side a preset is made for (Conv2D's kernel_size maximum)."""


def _frozen(rows) -> np.ndarray:
    array = np.array(rows, np.float32)
    array.setflags(write=False)
    return array


_BINOMIAL_3 = np.array([1, 2, 1], np.float32)

KERNEL_PRESETS: dict[str, np.ndarray] = {
    "identity": _frozen([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box blur": _frozen(np.full((3, 3), 1 / 9)),
    "gaussian blur": _frozen(np.outer(_BINOMIAL_3, _BINOMIAL_3) / 16),
    "sharpen": _frozen([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "sobel x": _frozen([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel y": _frozen([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "laplacian": _frozen([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
}
"""Name -> its (3, 3) float32 kernel (read-only arrays)."""

_ANY_SIZE = ("identity", "box blur", "gaussian blur")


def _check_name(name) -> str:
    if isinstance(name, str) and name in KERNEL_PRESETS:
        return name
    names = ", ".join(repr(n) for n in KERNEL_PRESETS)
    hint = did_you_mean(name, KERNEL_PRESETS) if isinstance(name, str) else ""
    raise OptionError(f"kernel preset {name!r} is not one of {names}.{hint}", field="preset")


def preset_kernel(name: str, k: int) -> np.ndarray:
    """The k×k float32 kernel of preset ``name`` (see the module notes for each size rule).

    Raises
    ------
    OptionError
        ``field="preset"``: unknown name (with a did-you-mean), k outside 1 to 11, or k < 3 for
        "sharpen", "sobel x", "sobel y" and "laplacian".
    """
    name = _check_name(name)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not (
            1 <= k <= MAX_PRESET_SIZE):
        raise OptionError(f"kernel preset {name!r} was asked for kernel size {k!r}; presets come "
                          f"in whole sizes from 1 to {MAX_PRESET_SIZE}.", field="preset")
    k = int(k)
    centre = (k - 1) // 2
    if name == "identity":
        out = np.zeros((k, k), np.float32)
        out[centre, centre] = 1
        return out
    if name == "box blur":
        return np.full((k, k), 1 / (k * k), np.float32)
    if name == "gaussian blur":
        row = np.array([math.comb(k - 1, i) for i in range(k)], np.float64)
        return (np.outer(row, row) / row.sum() ** 2).astype(np.float32)
    if k < 3:
        fits = " or ".join(repr(n) for n in _ANY_SIZE)
        raise OptionError(
            f"kernel preset {name!r} is a 3×3 kernel and does not fit kernel_size={k}; set "
            f"kernel_size to 3 or more, or pick {fits}, which come in every size.",
            field="preset")
    out = np.zeros((k, k), np.float32)
    out[centre - 1:centre + 2, centre - 1:centre + 2] = KERNEL_PRESETS[name]
    return out


def _one_kernel(item, position: int, kh: int, kw: int) -> np.ndarray:
    """Entry ``position`` of a per-filter list: a preset name or a (kh, kw) array."""
    if isinstance(item, str):
        if kh != kw:
            raise OptionError(f"kernel preset {item!r} (entry {position}) needs a square "
                              f"kernel; this one is {kh}×{kw}.", field="preset")
        return preset_kernel(item, kh)
    try:
        array = np.asarray(item, dtype=np.float64)
    except (TypeError, ValueError):
        raise OptionError(f"kernel entry {position} is {type(item).__name__} {item!r:.40}; give "
                          f"a preset name or a {kh}×{kw} array of numbers.",
                          field="preset") from None
    if array.shape != (kh, kw):
        raise OptionError(f"kernel entry {position} has shape {array.shape}; the layer's kernels "
                          f"are {kh}×{kw}: give a ({kh}, {kw}) array or a preset name.",
                          field="preset")
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        r, c = (int(v) for v in bad[0])
        raise OptionError(f"kernel entry {position} holds {array[r, c]} at ({r}, {c}); kernels "
                          "must be finite numbers: replace NaN and inf.", field="preset")
    if np.abs(array).max(initial=0) > np.finfo(np.float32).max:
        raise OptionError(f"kernel entry {position} holds numbers too large for float32 "
                          f"(beyond ±{np.finfo(np.float32).max:.3g}); scale it down.",
                          field="preset")
    return array.astype(np.float32)


def preset_weights(name_or_list, kernel_shape: Sequence[int]) -> np.ndarray:
    """A whole float32 kernel of ``kernel_shape`` built from presets or given 2-D kernels.

    Parameters
    ----------
    name_or_list : str or list
        One preset name: that kernel for every filter and every input channel. Or a list with
        one entry per filter (the last axis): a preset name or a (kh, kw) array, used for every
        input channel of that filter.
    kernel_shape : tuple of int
        ``(kh, kw, c_in, filters)`` as Keras stores the kernel. For Conv2D, output channel f
        sums entry f over all ``c_in`` input channels, so a preset on several channels filters
        their sum. For DepthwiseConv2D pass ``(kh, kw, c_in, depth_multiplier)``: the list then
        has ``depth_multiplier`` entries, and entry m makes output channel ``c · multiplier + m``
        from input channel c, for every c.

    Returns
    -------
    np.ndarray
        float32, shape ``kernel_shape``; pair it with a bias (e.g. zeros) for ``set_weights``.

    Raises
    ------
    OptionError
        ``field="preset"``: unknown name, a list of the wrong length, an array of the wrong
        shape or with NaN/inf, or a kernel_shape that is not four sizes ≥ 1.
    """
    shape = tuple(kernel_shape) if isinstance(kernel_shape, Sequence) else ()
    if len(shape) != 4 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                              or v < 1 for v in shape):
        raise OptionError(f"kernel_shape={kernel_shape!r} is not a kernel shape; give "
                          "(kh, kw, in_channels, filters) as four whole numbers ≥ 1.",
                          field="preset")
    kh, kw, c_in, filters = (int(v) for v in shape)
    if isinstance(name_or_list, str):
        entries = [name_or_list] * filters
    elif isinstance(name_or_list, (list, tuple)):
        entries = list(name_or_list)
        if len(entries) != filters:
            raise OptionError(
                f"got {len(entries)} kernels for {filters} filters; give one preset name for "
                f"all of them, or a list of exactly {filters} (one per filter).", field="preset")
    else:
        raise OptionError(f"kernel presets must be a preset name or a list of {filters}, got "
                          f"{type(name_or_list).__name__}.", field="preset")
    out = np.empty((kh, kw, c_in, filters), np.float32)
    for f, entry in enumerate(entries):
        out[:, :, :, f] = _one_kernel(entry, f, kh, kw)[:, :, None]
    return out
