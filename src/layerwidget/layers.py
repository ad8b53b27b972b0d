"""Layer specs: the JSON the panel edits, validated and normalized.

A *spec* is a plain dict such as ``{"type": "Conv2D", "filters": 5, "kernel_size": 3}``. This
module is the one place that knows which layer types exist, which fields they take and what
values are allowed. Shapes are computed in :mod:`layerwidget.shapes`, weights and tf.keras layers
made in :mod:`layerwidget.weights`, source code written in :mod:`layerwidget.codegen`.

Every normalized spec carries an ``id``: a whole number naming that layer for as long as it lives
in the stack. Weights are seeded from it, not from the layer's position, so removing, adding or
moving another layer leaves this one's kernels alone.

Why ~330 lines: the table of layer types and fields and the checks that read it belong
together; most of the length is that table and its messages.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import LayerSpecError, did_you_mean

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_STACK",
    "LAYER_TYPES",
    "MAX_LAYERS",
    "MAX_STAGE_VALUES",
    "PADDINGS",
    "Field",
    "LayerType",
    "normalize_layer",
    "normalize_stack",
    "schema",
    "where",
]

# Activations Keras accepts by name that act element-wise (or, for softmax, along channels)
# and so keep the feature-map shape; tests check each against keras.activations.get.
ACTIVATIONS = (
    "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish",
    "sigmoid", "hard_sigmoid", "tanh", "softplus", "softsign", "exponential", "softmax",
)
PADDINGS = ("valid", "same")

MAX_LAYERS = 8
"""Most layers a stack may hold."""
MAX_STAGE_VALUES = 2**25
"""Most values (H×W×C) one stage may produce: 128 MB of float32, which keeps the kernel alive."""


@dataclass(frozen=True)
class Field:
    """One parameter of a layer type, named as Keras names it."""

    name: str
    kind: str  # "int", "float" or "choice"
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    optional: bool = False  # None is allowed and means "Keras's default behaviour"
    none_means: str = ""
    doc: str = ""
    # Range and step of the panel's slider when the allowed range is unbounded or too wide to
    # drag through (the number box still takes any allowed value).
    slider_range: tuple[float, float, float] | None = None

    def slider(self) -> list[float] | None:
        """[min, max, step] of the panel's slider for a number field, None for choices."""
        if self.kind == "choice":
            return None
        if self.slider_range is not None:
            return list(self.slider_range)
        return [self.minimum, self.maximum, 1 if self.kind == "int" else 0.01]

    def allowed(self) -> str:
        """Human description of the allowed values."""
        if self.kind == "choice":
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        elif self.maximum is None:
            noun = "an integer" if self.kind == "int" else "a number"
            text = f"{noun} ≥ {_fmt(self.minimum)}"
        else:
            noun = "an integer" if self.kind == "int" else "a number"
            text = f"{noun} from {_fmt(self.minimum)} to {_fmt(self.maximum)}"
        if self.optional:
            text += f", or None ({self.none_means})"
        return text


@dataclass(frozen=True)
class LayerType:
    """A Keras layer class the explorer offers, with its editable fields."""

    name: str
    fields: tuple[Field, ...]
    weight_fields: tuple[str, ...] = ()  # fields that shape the weights (with input channels)
    doc: str = ""
    field_names: tuple[str, ...] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "field_names", tuple(f.name for f in self.fields))

    def get(self, name: str) -> Field:
        return self.fields[self.field_names.index(name)]


def _fmt(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_PADDING = Field("padding", "choice", "valid", choices=PADDINGS,
                 doc="'valid' (no padding, the map shrinks) or 'same' (zero padding)")
_POOL_FIELDS = (
    Field("pool_size", "int", 2, 1, 8, doc="side of the pooling window"),
    Field("strides", "int", None, 1, 8, optional=True, none_means="= pool_size",
          doc="step of the window"),
    _PADDING,
)
_ACTIVATION = Field("activation", "choice", "linear", choices=ACTIVATIONS,
                    doc="activation applied after the convolution ('linear' = none)")

LAYER_TYPES: dict[str, LayerType] = {
    t.name: t
    for t in (
        LayerType(
            "Conv2D",
            (
                Field("filters", "int", 3, 1, 256, doc="number of output channels"),
                Field("kernel_size", "int", 3, 1, 11, doc="side of the square kernel"),
                Field("strides", "int", 1, 1, 5, doc="step of the kernel"),
                _PADDING,
                _ACTIVATION,
            ),
            weight_fields=("filters", "kernel_size"),
            doc="2D convolution: each output channel sums a kernel over all input channels",
        ),
        LayerType(
            "DepthwiseConv2D",
            (
                Field("kernel_size", "int", 3, 1, 11, doc="side of the square kernel"),
                Field("strides", "int", 1, 1, 5, doc="step of the kernel"),
                _PADDING,
                Field("depth_multiplier", "int", 1, 1, 8,
                      doc="output channels per input channel"),
                _ACTIVATION,
            ),
            weight_fields=("kernel_size", "depth_multiplier"),
            doc="convolution of each input channel on its own",
        ),
        LayerType(
            "ReLU",
            (
                Field("max_value", "float", None, 0.0, None, optional=True,
                      slider_range=(0.0, 500.0, 1.0),
                      none_means="no limit", doc="largest output value (empty: no limit)"),
                Field("negative_slope", "float", 0.0, 0.0, None, slider_range=(0.0, 1.0, 0.01),
                      doc="slope below the threshold (0 = plain ReLU)"),
                # Keras refuses a negative threshold (ValueError when the layer is made).
                Field("threshold", "float", 0.0, 0.0, 1e9, slider_range=(0.0, 100.0, 1.0),
                      doc="values below it are set to zero (or scaled by negative_slope)"),
            ),
            doc="rectified linear unit: negatives become 0",
        ),
        LayerType(
            "MaxPool2D",
            _POOL_FIELDS,
            doc="keeps the largest value of each window",
        ),
        LayerType(
            "AvgPool2D",
            _POOL_FIELDS,
            doc="keeps the mean value of each window",
        ),
    )
}

DEFAULT_STACK: tuple[dict, ...] = (
    {"type": "Conv2D", "filters": 3, "kernel_size": 3, "strides": 1, "padding": "same",
     "activation": "linear"},
    {"type": "ReLU", "max_value": None, "negative_slope": 0.0, "threshold": 0.0},
    {"type": "MaxPool2D", "pool_size": 2, "strides": 2, "padding": "same"},
)


def where(index: int | None, type_name: str) -> str:
    """How messages name a layer: ``Conv2D (layer 2)``, counted from 1 as the panel shows it."""
    return f"{type_name} (layer {index + 1})" if index is not None else type_name


def _check_value(ftype: Field, value: Any, who: str, index: int | None) -> Any:
    """Return the canonical value of one field, or raise a LayerSpecError naming the fix."""
    label = f"{who}.{ftype.name}={value!r}"

    def fail(problem: str) -> LayerSpecError:
        return LayerSpecError(f"{label} {problem}; use {ftype.allowed()}.",
                              layer=index, field=ftype.name)

    if value is None:
        if ftype.optional:
            return None
        raise fail("is missing a value")
    if ftype.kind == "choice":
        if isinstance(value, str) and value in ftype.choices:
            return value
        if isinstance(value, str):
            hint = did_you_mean(value, ftype.choices)
            raise LayerSpecError(f"{label} is not allowed; use {ftype.allowed()}.{hint}",
                                 layer=index, field=ftype.name)
        raise fail("is not text")
    # Numbers: bools are ints to Python but never what a student meant.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise fail("is not a number")
    if ftype.kind == "int":
        if not isinstance(value, numbers.Integral):
            raise fail("is not a whole number")
        value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise fail("is not finite")
    if ftype.minimum is not None and value < ftype.minimum:
        raise fail("is too small")
    if ftype.maximum is not None and value > ftype.maximum:
        raise fail("is too large")
    return value


MAX_LAYER_ID = 2**31 - 1
"""Largest layer id (ids are whole numbers from 1)."""


def _check_id(value: Any, who: str, index: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not (
            1 <= value <= MAX_LAYER_ID):
        raise LayerSpecError(
            f"{who}.id={value!r} is not a layer id; ids are whole numbers from 1 to "
            f"{MAX_LAYER_ID} that the explorer gives each layer. Leave 'id' out and the layer "
            "gets a new one.", layer=index, field="id")
    return int(value)


def normalize_layer(spec: Any, index: int | None = None) -> dict:
    """Validate one layer spec and return it with every field present, in canonical order.

    Parameters
    ----------
    spec : dict
        ``{"type": <name>, <field>: <value>, ...}``; omitted fields take Keras's defaults. An
        ``"id"`` (whole number ≥ 1) is kept; without one the result has ``"id": None`` and
        :func:`normalize_stack` gives it one.
    index : int, optional
        Position in the stack, used in error messages.

    Raises
    ------
    LayerSpecError
        Unknown type, unknown field, or a value outside its allowed range.
    """
    position = f"layer {index + 1}" if index is not None else "the layer"
    if not isinstance(spec, dict):
        raise LayerSpecError(
            f"{position} is {type(spec).__name__} {spec!r:.60}; each layer must be a dict such as "
            '{"type": "Conv2D", "filters": 3}.', layer=index)
    type_name = spec.get("type")
    if type_name not in LAYER_TYPES:
        names = ", ".join(LAYER_TYPES)
        hint = did_you_mean(type_name, LAYER_TYPES) if isinstance(type_name, str) else ""
        what = "has no 'type'" if "type" not in spec else f"has unknown type {type_name!r}"
        raise LayerSpecError(f"{position} {what}; use one of {names}.{hint}",
                             layer=index, field="type")
    ltype = LAYER_TYPES[type_name]
    who = where(index, type_name)
    unknown = [k for k in spec if k not in ("type", "id") and k not in ltype.field_names]
    if unknown:
        bad = unknown[0]
        raise LayerSpecError(
            f"{who} has no field {bad!r}; its fields are {', '.join(ltype.field_names)}."
            f"{did_you_mean(bad, ltype.field_names)}", layer=index, field=str(bad))
    out = {"type": type_name}
    for f in ltype.fields:
        out[f.name] = _check_value(f, spec.get(f.name, f.default), who, index)
    out["id"] = _check_id(spec.get("id"), who, index)
    return out


def normalize_stack(stack: Any) -> list[dict]:
    """Validate a whole stack (a list of 1 to MAX_LAYERS specs); return the normalized copy.

    Layers keep their ``id``. A layer without one, or with the id of a layer above it (a copied
    dict), gets the next id after the largest in the stack, so the same stack written the same
    way always gets the same ids, and so the same weights.
    """
    if isinstance(stack, (str, bytes, dict)) or not isinstance(stack, Sequence):
        raise LayerSpecError(
            f"layers must be a list of layer dicts, got {type(stack).__name__}; for example "
            '[{"type": "Conv2D", "filters": 3}, {"type": "ReLU"}].')
    if not 1 <= len(stack) <= MAX_LAYERS:
        raise LayerSpecError(
            f"layers holds {len(stack)} layers; a stack takes 1 to {MAX_LAYERS} layers.")
    specs = [normalize_layer(spec, i) for i, spec in enumerate(stack)]
    seen: set[int] = set()
    fresh = max((s["id"] for s in specs if s["id"] is not None), default=0)
    for spec in specs:
        if spec["id"] is None or spec["id"] in seen:
            fresh += 1
            if fresh > MAX_LAYER_ID:  # only reachable by giving ids near the limit on purpose
                raise LayerSpecError(f"layer ids reach {MAX_LAYER_ID}; leave 'id' out of every "
                                     "layer to number them afresh.", field="id")
            spec["id"] = fresh
        seen.add(spec["id"])
    return specs


def schema() -> dict:
    """The layer types and their fields as JSON, for the panel to build its controls from."""
    return {
        name: {
            "doc": t.doc,
            "fields": [
                {"name": f.name, "kind": f.kind, "default": f.default, "min": f.minimum,
                 "max": f.maximum, "choices": list(f.choices), "optional": f.optional,
                 "none_means": f.none_means, "doc": f.doc, "slider": f.slider()}
                for f in t.fields
            ],
        }
        for name, t in LAYER_TYPES.items()
    }
