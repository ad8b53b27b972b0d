"""The arithmetic behind one unit of one stage, laid out so that a student can check it by hand.

:func:`explain_unit` reads the previous stage's values and the layer's weights (it builds no
Keras layer) and redoes the layer's work for one unit: the patch times the kernel plus the bias
for convolutions, the window's maximum or mean for pooling, the rule for ReLU. The result says
what the arithmetic gives (``value``) next to what Keras gave (``output``); tests hold them equal.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .captions import number
from .layers import normalize_stack
from .receptive import check_unit, keras_padding
from .shapes import window

__all__ = [
    "AvgPoolExplanation",
    "ConvExplanation",
    "MaxPoolExplanation",
    "PoolExplanation",
    "ReLUExplanation",
    "UnitExplanation",
    "explain_unit",
]


def _json(value):
    """Numbers, arrays and tuples as JSON-safe Python values (NaN and ±inf become None)."""
    if isinstance(value, np.ndarray):
        return _json(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


@dataclass(frozen=True)
class UnitExplanation:
    """What every explanation holds: the unit, what the arithmetic gives and what Keras gave."""

    kind: str  # the layer type, e.g. "Conv2D"
    stage: int  # 1 = output of the first layer
    row: int
    col: int
    channel: int
    value: float  # result of the arithmetic this explanation shows
    output: float  # the layer's output at this unit, as Keras computed it

    def to_dict(self) -> dict:
        """Every field as JSON-safe lists and numbers, plus ``"text"``: :meth:`text`."""
        out = {f.name: _json(getattr(self, f.name)) for f in fields(self)}
        out["text"] = self.text()
        return out

    def text(self) -> str:  # pragma: no cover - every subclass writes its own
        raise NotImplementedError


@dataclass(frozen=True)
class ConvExplanation(UnitExplanation):
    """A Conv2D or DepthwiseConv2D unit: patch × kernel, summed, plus bias, then activation.

    Arrays are (k, k, n): n = every input channel for Conv2D, the one channel ``in_channels[0]``
    for DepthwiseConv2D. ``padded[i, j]`` is True where the window hangs over the border; there
    ``patch`` holds the zero Keras pads with.
    """

    in_channels: tuple[int, ...]  # input channels the patch holds, in order
    origin: tuple[int, int]  # (row, col) of patch[0, 0] in the previous stage; < 0 in padding
    patch: np.ndarray  # float32
    padded: np.ndarray  # (k, k) bool
    kernel: np.ndarray  # float32, the weights that multiply the patch
    products: np.ndarray  # float64, patch × kernel (exact for float32 factors)
    total: float  # sum of the products
    bias: float
    pre_activation: float  # total + bias
    activation: str  # Keras activation name

    def text(self) -> str:
        n, pad = self.products.size, int(self.padded.sum()) * self.products.shape[-1]
        head = ""
        if self.kind == "DepthwiseConv2D":
            head = f"input channel {self.in_channels[0]} only: "
        on_pad = f" ({pad} over padding, each 0)" if pad else ""
        if self.activation == "softmax":
            act = "softmax across the channels of this position"
        else:
            act = self.activation
        return (f"{head}sum of {n} products{on_pad} = {number(self.total)}, + bias "
                f"{number(self.bias)} = {number(self.pre_activation)}; {act} → "
                f"{number(self.value)}")


@dataclass(frozen=True)
class PoolExplanation(UnitExplanation):
    """A pooling unit's window on one channel of the previous stage.

    ``padded[i, j]`` is True where the window hangs over the border; Keras leaves those cells out
    (``window`` holds 0 there only to keep the array whole).
    """

    origin: tuple[int, int]  # (row, col) of window[0, 0] in the previous stage
    window: np.ndarray  # (p, p) float32
    padded: np.ndarray  # (p, p) bool


@dataclass(frozen=True)
class MaxPoolExplanation(PoolExplanation):
    """MaxPool2D: the largest real value of the window, and where it sits (ties: every one)."""

    winners: tuple[tuple[int, int], ...]  # (row, col) in the previous stage

    def text(self) -> str:
        count = int((~self.padded).sum())
        cells = [f"({r}, {c})" for r, c in self.winners]
        where = cells[0] if len(cells) == 1 else ", ".join(cells[:-1]) + " and " + cells[-1]
        if len(cells) > 1:
            where += f" (a {len(cells)}-way tie)"
        skipped = self.padded.sum()
        note = f" ({skipped} padding cells ignored)" if skipped else ""
        return f"max of {count} values{note} = {number(self.value)} at {where}"


@dataclass(frozen=True)
class AvgPoolExplanation(PoolExplanation):
    """AvgPool2D: the sum of the real values of the window divided by how many there are."""

    count: int  # real (not padding) values averaged
    total: float

    def text(self) -> str:
        skipped = self.padded.sum()
        note = f" ({skipped} padding cells not counted)" if skipped else ""
        return (f"sum of {self.count} values{note} = {number(self.total)}, / {self.count} = "
                f"{number(self.value)}")


@dataclass(frozen=True)
class ReLUExplanation(UnitExplanation):
    """ReLU: one input value, Keras's rule with this layer's settings, and the result."""

    input: float
    max_value: float | None
    negative_slope: float
    threshold: float
    rule: str  # which part of the rule applied, in words

    def text(self) -> str:
        return f"ReLU({number(self.input)}) = {number(self.value)}: {self.rule}"


def _relu(x: np.float32, max_value, slope, threshold) -> tuple[np.float32, str]:
    """Keras's ReLU on one float32 value, and the rule that applied, in words."""
    t = np.float32(threshold)
    if x > t:
        y, rule = x, f"above the threshold {number(threshold)}, kept"
    else:
        y, rule = np.float32(0), f"not above the threshold {number(threshold)}, so 0"
    if max_value is not None:
        clipped = np.clip(y, np.float32(0), np.float32(max_value))
        if clipped != y:
            rule += f", clipped to [0, {number(max_value)}]"
        y = clipped
    if slope and x < t:
        y = np.float32(y - np.float32(slope) * (t - x))
        rule += f", + slope {number(slope)} × (input − threshold)"
    return np.float32(y), rule


def _activate(name: str, pre: np.ndarray) -> np.ndarray:
    """Keras's activation ``name`` on a vector of pre-activations (one position's channels)."""
    if name == "linear":
        return pre.astype(np.float32)
    from ._tf import keras

    # Softmax mixes the channels of one position, so the whole vector goes in.
    return np.asarray(keras.activations.get(name)(pre[None].astype(np.float32)))[0]


def _window(prev: np.ndarray, top: int, left: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Cells [top, top + k) × [left, left + k) of ``prev`` (H, W, C), zero where outside."""
    h, w, c = prev.shape
    out = np.zeros((k, k, c), np.float32)
    padded = np.ones((k, k), bool)
    r0, r1, c0, c1 = max(top, 0), min(top + k, h), max(left, 0), min(left + k, w)
    if r0 < r1 and c0 < c1:
        out[r0 - top:r1 - top, c0 - left:c1 - left] = prev[r0:r1, c0:c1]
        padded[r0 - top:r1 - top, c0 - left:c1 - left] = False
    return out, padded


def explain_unit(stack: list[dict], stages: list[np.ndarray], weights: list, stage: int,
                 row: int, col: int, channel: int = 0) -> UnitExplanation:
    """The arithmetic that made unit (``row``, ``col``, ``channel``) of ``stage``.

    Parameters
    ----------
    stack : list of dict
        The layer stack that ran (normalized or not).
    stages : list of np.ndarray
        ``[input, *outputs]``: every stage as (1, H, W, C) (or (H, W, C)) float32.
    weights : list
        One item per layer: ``[kernel, bias]`` for Conv2D and DepthwiseConv2D (as
        ``layer.get_weights()`` returns them), None or ``[]`` for the others.
    stage : int
        1 to ``len(stack)``: stage i is the output of layer i.
    row, col, channel : int
        The unit, inside that stage.

    Returns
    -------
    ConvExplanation, MaxPoolExplanation, AvgPoolExplanation or ReLUExplanation
        All have ``value`` (the arithmetic's result), ``output`` (Keras's), ``to_dict()`` and
        ``text()``.

    Raises
    ------
    OptionError
        ``field="focus"``: stage (0 has nothing to explain), row, col or channel out of range.
    ValueError
        ``stages`` or ``weights`` do not match the stack.
    """
    stack = normalize_stack(stack)
    arrays = [np.asarray(a, np.float32) for a in stages]
    arrays = [a[0] if a.ndim == 4 else a for a in arrays]
    if len(arrays) != len(stack) + 1 or len(weights) != len(stack):
        raise ValueError(f"explain_unit needs {len(stack) + 1} stages and {len(stack)} weight "
                         f"entries for this stack; got {len(arrays)} and {len(weights)}.")
    shapes = [a.shape for a in arrays]
    stage, row, col, channel = check_unit(stack, shapes, stage, row, col, channel, lowest=1)
    spec, prev = stack[stage - 1], arrays[stage - 1]
    output = float(arrays[stage][row, col, channel])
    base = dict(kind=spec["type"], stage=stage, row=row, col=col, channel=channel, output=output)
    if spec["type"] == "ReLU":
        x = np.float32(prev[row, col, channel])
        y, rule = _relu(x, spec["max_value"], spec["negative_slope"], spec["threshold"])
        return ReLUExplanation(**base, value=float(y), input=float(x),
                               max_value=spec["max_value"], negative_slope=spec["negative_slope"],
                               threshold=spec["threshold"], rule=rule)
    k, s, _ = window(spec)
    top = row * s - keras_padding(spec, prev.shape[0])[0]
    left = col * s - keras_padding(spec, prev.shape[1])[0]
    cells, padded = _window(prev, top, left, k)
    if spec["type"] in ("MaxPool2D", "AvgPool2D"):
        values = cells[:, :, channel]
        real = values[~padded]
        pool = dict(origin=(top, left), window=values, padded=padded)
        if spec["type"] == "MaxPool2D":
            best = real.max()
            winners = tuple((top + int(i), left + int(j))
                            for i, j in zip(*np.nonzero((values == best) & ~padded), strict=True))
            return MaxPoolExplanation(**base, **pool, value=float(best), winners=winners)
        total = float(real.astype(np.float64).sum())
        return AvgPoolExplanation(**base, **pool, value=total / real.size, count=int(real.size),
                                  total=total)
    if not weights[stage - 1] or len(weights[stage - 1]) != 2:
        raise ValueError(f"explain_unit needs [kernel, bias] for {spec['type']} (layer "
                         f"{stage}); got {weights[stage - 1]!r:.60}.")
    kernel, bias = (np.asarray(a, np.float32) for a in weights[stage - 1])
    if spec["type"] == "Conv2D":
        in_channels = tuple(range(prev.shape[2]))
        patch, kern = cells, kernel[:, :, :, channel]
        # Every output channel's pre-activation at this position, for softmax.
        pre_all = np.einsum("ijc,ijcf->f", cells.astype(np.float64), kernel) + bias
    else:
        # Keras orders a depthwise layer's outputs input channel first: c_in · multiplier + m.
        c_in, m = divmod(channel, spec["depth_multiplier"])
        in_channels = (c_in,)
        patch, kern = cells[:, :, c_in:c_in + 1], kernel[:, :, c_in, m, None]
        pre_all = np.einsum("ijc,ijcm->cm", cells.astype(np.float64), kernel).ravel() + bias
    products = patch.astype(np.float64) * kern.astype(np.float64)
    total = float(products.sum())
    pre = total + float(bias[channel])
    pre_all[channel] = pre  # the same number, summed the way the explanation shows
    value = float(_activate(spec["activation"], pre_all)[channel])
    return ConvExplanation(**base, value=value, in_channels=in_channels, origin=(top, left),
                           patch=patch, padded=padded, kernel=kern, products=products,
                           total=total, bias=float(bias[channel]), pre_activation=pre,
                           activation=spec["activation"])
