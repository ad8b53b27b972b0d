"""The grid of an export: which parameters vary, over which values, in which order.

``vary`` maps a key to a list of values. A key is a layer field (of the first layer that has it),
``"<i>.<field>"`` for layer ``i`` counted from 0, or an option (``image_index``, ``seed``,
``pixel_scale``). Option values are checked here with the explorer's own checks
(:mod:`layerwidget.options`); layer values are checked per combination, when each is run, so an
invalid one becomes that combination's message instead of failing the whole page.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import options
from ..errors import LayerSpecError, did_you_mean

__all__ = [
    "DEFAULT_VARY",
    "OPTIONS",
    "Control",
    "base_index",
    "check_option",
    "combinations",
    "controls",
    "default_vary",
    "plain",
    "show",
]

DEFAULT_VARY: dict[str, list] = {"filters": [3, 5, 8], "kernel_size": [3, 5], "strides": [1, 2]}
"""What ``vary=None`` varies: each of these fields the stack has."""
OPTIONS = ("image_index", "seed", "pixel_scale")
"""``vary`` keys that are not layer fields."""


def show(value: Any) -> str:
    """A field value as the page shows it (Python spelling: None, not null)."""
    return value if isinstance(value, str) else repr(value)


def plain(value: Any) -> Any:
    """NumPy scalars as Python ones, so values compare, print and go to JSON as users expect."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class Control:
    """One varied parameter: where it applies and the values the reader picks from."""

    key: str
    layer: int | None  # None for image_index, seed, pixel_scale
    field: str
    values: tuple
    base: int  # index in ``values`` of the author's own value

    def to_json(self) -> dict:
        return {"key": self.key, "layer": self.layer, "field": self.field,
                "labels": [show(v) for v in self.values], "base": self.base}


def _fields(spec: dict) -> list[str]:
    return [f for f in spec if f not in ("type", "id")]


def _allowed_keys(stack: list[dict]) -> list[str]:
    names = list(dict.fromkeys(f for spec in stack for f in _fields(spec)))
    indexed = [f"{i}.{f}" for i, spec in enumerate(stack) for f in _fields(spec)]
    return names + indexed + list(OPTIONS)


def _resolve_key(key: Any, stack: list[dict]) -> tuple[int | None, str]:
    """(layer index or None, field) that a ``vary`` key names, or a LayerSpecError with the fix."""
    allowed = _allowed_keys(stack)
    if not isinstance(key, str):
        raise LayerSpecError(f"vary key {key!r} is not text; use one of {', '.join(allowed)}.")
    if key in OPTIONS:
        return None, key
    head, dot, field = key.partition(".")
    if dot and head.isdigit():
        i = int(head)
        if i >= len(stack):
            raise LayerSpecError(
                f"vary key {key!r} names layer {i}, but the stack's layers are numbered 0 to "
                f"{len(stack) - 1} (0-based); use one of {', '.join(allowed)}.", field=key)
        names = _fields(stack[i])
        if field not in names:
            hint = did_you_mean(field, names, spell=lambda name: repr(f"{i}.{name}"))
            raise LayerSpecError(
                f"vary key {key!r}: {stack[i]['type']} (layer {i}) has no field {field!r}; its "
                f"fields are {', '.join(names)}.{hint}", layer=i, field=key)
        return i, field
    for i, spec in enumerate(stack):
        if key in _fields(spec):
            return i, key
    raise LayerSpecError(
        f"vary has an unknown key {key!r}; use a field of the stack (the first layer with it), "
        f"'<i>.<field>' for layer i counted from 0, or an option: {', '.join(allowed)}."
        f"{did_you_mean(key, allowed)}", field=key)


def check_option(name: str, value: Any, n_images: int) -> Any:
    """A valid image_index, seed or pixel_scale, checked as the explorer checks it."""
    if name == "image_index":
        return options.check_image_index(value, n_images)
    if name == "seed":
        return options.check_seed(value)
    return options.check_pixel_scale(value)


def _values(key: str, values: Any) -> list:
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if not isinstance(values, (list, tuple, range)):
        raise LayerSpecError(
            f"vary[{key!r}] is {type(values).__name__} {values!r:.60}; give a list of values, "
            f"e.g. vary={{{key!r}: [3, 5]}}.", field=key)
    values = [plain(v) for v in values]
    if not values:
        raise LayerSpecError(f"vary[{key!r}] is empty; give at least one value, or leave "
                             f"{key!r} out of vary to keep the stack's value.", field=key)
    for v in values:
        if v is not None and not isinstance(v, (str, numbers.Real)):
            raise LayerSpecError(f"vary[{key!r}] holds {v!r} ({type(v).__name__}); its values "
                                 "must be numbers, text or None.", field=key)
    for i, v in enumerate(values):
        if any(_same(v, w) for w in values[:i]):
            raise LayerSpecError(f"vary[{key!r}] lists {v!r} twice; list each value once.",
                                 field=key)
    return values


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    """Equal as a reader means it: 3 and 3.0 are, True and 1 are not."""
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def _with_base(values: list, base: Any) -> tuple[tuple, int]:
    """The values with the author's own value among them; numbers sorted as a reader expects.

    A listed value equal to the author's (0 for 0.0) takes the author's spelling, so the first
    view is exactly the one given.
    """
    values = [base if _same(v, base) else v for v in values]
    if not any(v is base for v in values):
        values = [base, *values]
    if all(_is_number(v) for v in values):
        values = sorted(values)
    return tuple(values), next(i for i, v in enumerate(values) if v is base)


def controls(vary: Any, stack: list[dict], base_options: dict, n_images: int) -> list[Control]:
    """The validated controls of a ``vary`` dict for a normalized ``stack``."""
    if not isinstance(vary, dict):
        raise LayerSpecError(
            f"vary is {type(vary).__name__}; give a dict of parameter -> list of values, e.g. "
            '{"filters": [3, 5, 8], "kernel_size": [3, 5]}.')
    found, targets = [], {}
    for key, values in vary.items():
        layer, field = _resolve_key(key, stack)
        if (layer, field) in targets:
            raise LayerSpecError(
                f"vary keys {targets[(layer, field)]!r} and {key!r} name the same field; keep "
                "one of them.", layer=layer, field=key)
        targets[(layer, field)] = key
        values = _values(key, values)
        if layer is None:
            values = [check_option(field, v, n_images) for v in values]
            base = base_options[field]
        else:
            base = stack[layer][field]
        values, index = _with_base(values, base)
        found.append(Control(key, layer, field, values, index))
    return found


def default_vary(stack: list[dict]) -> dict:
    """DEFAULT_VARY restricted to the fields the stack has."""
    present = {f for spec in stack for f in spec}
    return {k: list(v) for k, v in DEFAULT_VARY.items() if k in present}


def base_index(grid: list[Control]) -> int:
    """Index, in :func:`combinations` order, of the author's own combination."""
    return sum(c.base * math.prod(len(d.values) for d in grid[k + 1:])
               for k, c in enumerate(grid))


def combinations(grid: list[Control], stack: list[dict], base_options: dict
                 ) -> Iterator[tuple[list[dict], dict]]:
    """Every (specs, options) of the grid, row-major, the last control varying fastest.

    Specs keep their ids, so each layer's weights are those the explorer gives it.
    """
    for picks in itertools.product(*(range(len(c.values)) for c in grid)):
        combo_options = dict(base_options)
        specs = [dict(s) for s in stack]
        for control, pick in zip(grid, picks, strict=True):
            if control.layer is None:
                combo_options[control.field] = control.values[pick]
            else:
                specs[control.layer][control.field] = control.values[pick]
        yield specs, combo_options
