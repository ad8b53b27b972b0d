"""Receptive fields: which cells of an earlier stage one unit of a later stage depends on.

Stages are numbered as the panel shows them: stage 0 is the input, stage i the output of layer i
(counted from 1). A field is a half-open rectangle ``((top, left), (bottom, right))``: rows
``top ≤ r < bottom`` and columns ``left ≤ c < right`` of the earlier stage.

The arithmetic is Araujo, Norris & Sim's (Distill, 2019). Along one axis, a layer with window
``k``, stride ``s`` and ``p`` cells of padding before the first cell maps unit ``y`` of its output
to cells ``[y·s − p, y·s − p + k − 1]`` of its input; composed over layers, unit ``y`` covers
``[y·S − P, y·S − P + r₀ − 1]`` with ``r₀ = 1 + Σ (kₗ − 1)·Πᵢ<ₗ sᵢ``, ``S = Π sₗ`` and
``P = Σ pₗ·Πᵢ<ₗ sᵢ`` (:func:`receptive_geometry`). Padding is Keras's: ``'valid'`` pads
nothing; ``'same'`` pads ``max((⌈n/s⌉ − 1)·s + k − n, 0)`` cells in total, the smaller half
before (top/left), so an odd cell goes after (bottom/right). ReLU maps each unit to itself.

:func:`receptive_field_on` clips to the stage at every layer, not only at the end: a ``'valid'``
layer whose windows do not reach the last cells of its input never reads them, even when a later
``'same'`` layer's padding stretches the unclipped interval over them. The result is the
bounding box of the cells the unit depends on; when a stride is larger than its window, some
rows or columns inside the box are skipped.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from .errors import OptionError
from .layers import normalize_stack
from .shapes import stack_shapes, window

__all__ = [
    "Geometry",
    "check_unit",
    "keras_padding",
    "receptive_field",
    "receptive_field_on",
    "receptive_fields",
    "receptive_geometry",
]

Rect = tuple[tuple[int, int], tuple[int, int]]


def keras_padding(spec: dict, size: int) -> tuple[int, int]:
    """Cells of zero padding ``(before, after)`` Keras adds along one axis of ``size`` cells.

    ``before`` is the top (rows) or left (columns) side. ReLU and ``'valid'`` layers pad nothing.
    """
    if spec["type"] == "ReLU" or spec["padding"] == "valid":
        return 0, 0
    k, s, _ = window(spec)
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _window_and_stride(spec: dict) -> tuple[int, int]:
    if spec["type"] == "ReLU":
        return 1, 1
    k, s, _ = window(spec)
    return k, s


@dataclass(frozen=True)
class Geometry:
    """Araujo et al.'s numbers along one axis, from a later stage down to an earlier one.

    Unit ``y`` of the later stage covers cells ``[y·jump − offset, y·jump − offset + size − 1]``
    of the earlier stage before clipping to it.
    """

    size: int  # r₀: side of the field
    jump: int  # S: how many cells the field moves when y grows by one
    offset: int  # P: padding, in earlier-stage cells, before unit 0's field

    def interval(self, y: int) -> tuple[int, int]:
        """Unclipped half-open interval ``(start, stop)`` that unit ``y`` covers."""
        start = y * self.jump - self.offset
        return start, start + self.size


def _int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise OptionError(f"focus {name}={value!r} is not a whole number; give an integer.",
                          field="focus")
    return int(value)


def _stage_label(stage: int, stack: list[dict]) -> str:
    return "stage 0 (the input)" if stage == 0 else f"stage {stage} ({stack[stage - 1]['type']})"


def check_unit(stack: list[dict], shapes: list[tuple[int, ...]], stage, row, col,
               channel=None, *, lowest: int = 0) -> tuple[int, int, int, int | None]:
    """Validate a focused unit; return ``(stage, row, col, channel)`` as ints.

    ``shapes`` holds the (H, W, C) of every stage, the input first; ``lowest`` is the first
    stage allowed. ``channel=None`` skips the channel check.

    Raises
    ------
    OptionError
        With ``field="focus"``, naming the value and the allowed range.
    """
    stage = _int(stage, "stage")
    last = len(shapes) - 1
    if not lowest <= stage <= last:
        first = "0 (the input)" if lowest == 0 else str(lowest)
        raise OptionError(
            f"focus stage={stage} is out of range: this stack of {last} layers has stages "
            f"{first} to {last}; pick a stage from {lowest} to {last}.", field="focus")
    h, w, c = shapes[stage]
    label = f"{_stage_label(stage, stack)}, which is {h}×{w}×{c}"
    for name, value, size in (("row", row, h), ("col", col, w), ("channel", channel, c)):
        if name == "channel" and value is None:
            continue
        number = _int(value, name)
        if not 0 <= number < size:
            raise OptionError(f"focus {name}={number} is outside {label}; pick a {name} from "
                              f"0 to {size - 1}.", field="focus")
    return stage, int(row), int(col), None if channel is None else int(channel)


def _prepare(stack, input_shape, stage, row, col, on_stage):
    stack = normalize_stack(stack)
    shapes = [tuple(int(v) for v in input_shape), *stack_shapes(stack, input_shape)]
    stage, row, col, _ = check_unit(stack, shapes, stage, row, col)
    if on_stage is not None:
        on_stage = _int(on_stage, "on_stage")
        if not 0 <= on_stage <= stage:
            raise OptionError(
                f"focus on_stage={on_stage} is not stage {stage} or an earlier stage; pick "
                f"on_stage from 0 to {stage}.", field="focus")
    return stack, shapes, stage, row, col, on_stage


def _fields(stack, shapes, stage, row, col, lowest) -> list[Rect]:
    """Fields on stages ``stage, stage − 1, …, lowest``, clipped at every layer."""
    top, bottom, left, right = row, row + 1, col, col + 1
    found = [((top, left), (bottom, right))]
    for index in range(stage, lowest, -1):
        spec = stack[index - 1]
        h, w, _ = shapes[index - 1]
        k, s = _window_and_stride(spec)
        pt, pl = keras_padding(spec, h)[0], keras_padding(spec, w)[0]
        top, bottom = max(top * s - pt, 0), min((bottom - 1) * s - pt + k, h)
        left, right = max(left * s - pl, 0), min((right - 1) * s - pl + k, w)
        found.append(((top, left), (bottom, right)))
    return found


def receptive_field_on(stack: list[dict], input_shape: tuple[int, int, int], stage: int,
                       row: int, col: int, on_stage: int) -> Rect:
    """The cells of stage ``on_stage`` that unit (``row``, ``col``) of ``stage`` depends on.

    Parameters
    ----------
    stack : list of dict
        The layer stack (normalized or not; it is normalized here).
    input_shape : tuple of int
        (H, W, C) of the input, stage 0.
    stage, row, col : int
        The unit: stage 0 is the input, stage i the output of layer i.
    on_stage : int
        An earlier stage, ``0 ≤ on_stage ≤ stage``; ``on_stage == stage`` gives the unit itself.

    Returns
    -------
    ((top, left), (bottom, right)) : tuple of tuple of int
        Half-open, clipped to the cells of ``on_stage``. Every channel of the unit has this field.

    Raises
    ------
    OptionError
        ``field="focus"``: stage, row, col or on_stage out of range.
    LayerSpecError
        The stack cannot run on ``input_shape``.
    """
    stack, shapes, stage, row, col, on_stage = _prepare(stack, input_shape, stage, row, col,
                                                        on_stage)
    return _fields(stack, shapes, stage, row, col, on_stage)[-1]


def receptive_field(stack: list[dict], input_shape: tuple[int, int, int], stage: int,
                    row: int, col: int) -> Rect:
    """The input pixels unit (``row``, ``col``) of ``stage`` depends on; see
    :func:`receptive_field_on` (this is ``on_stage=0``). Stage 0 gives the pixel itself."""
    return receptive_field_on(stack, input_shape, stage, row, col, 0)


def receptive_fields(stack: list[dict], input_shape: tuple[int, int, int], stage: int,
                     row: int, col: int) -> list[Rect]:
    """The field of unit (``row``, ``col``) of ``stage`` on every stage up to it, in one pass.

    Returns a list of ``stage + 1`` rectangles; item ``j`` is the field on stage ``j``
    (item ``stage`` is the unit itself). Same conventions and errors as
    :func:`receptive_field_on`.
    """
    stack, shapes, stage, row, col, _ = _prepare(stack, input_shape, stage, row, col, None)
    return _fields(stack, shapes, stage, row, col, 0)[::-1]


def receptive_geometry(stack: list[dict], input_shape: tuple[int, int, int], stage: int,
                       on_stage: int = 0) -> tuple[Geometry, Geometry]:
    """Field size, jump and offset of ``stage``'s units on ``on_stage``, for rows and columns.

    These are the closed-form numbers (r₀, S, P) of Araujo et al.; they describe the unclipped
    field, the same for every unit. Rows and columns differ only when 'same' padding differs
    between a non-square stage's height and width.
    """
    stack, shapes, stage, _, _, on_stage = _prepare(stack, input_shape, stage, 0, 0, on_stage)
    axes = []
    for axis in (0, 1):
        size, jump, offset = 1, 1, 0
        for index in range(stage, on_stage, -1):
            spec = stack[index - 1]
            k, s = _window_and_stride(spec)
            before = keras_padding(spec, shapes[index - 1][axis])[0]
            # Going one layer down: every later cell becomes a window of k cells, s apart.
            size, jump, offset = (size - 1) * s + k, jump * s, offset * s + before
        axes.append(Geometry(size, jump, offset))
    return axes[0], axes[1]
