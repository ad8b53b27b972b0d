"""Layer specs: the JSON the panel edits, validated, with Keras's shape arithmetic.

A *spec* is a plain dict such as ``{"type": "Conv2D", "filters": 5, "kernel_size": 3}``. This
module is the one place that knows which layer types exist, which fields they take, what values
are allowed, what the output shape of a stack is and how each spec becomes a tf.keras layer. It
imports no widget code and TensorFlow only inside :func:`build_layer`.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .errors import LayerSpecError

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_STACK",
    "LAYER_TYPES",
    "MAX_LAYERS",
    "MAX_STAGE_VALUES",
    "build_layer",
    "layer_weights",
    "normalize_layer",
    "normalize_stack",
    "schema",
    "stack_shapes",
    "to_code",
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
    Field("strides", "int", None, 1, 8, optional=True, none_means="same as pool_size",
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
                      none_means="no upper limit", doc="largest output value"),
                Field("negative_slope", "float", 0.0, 0.0, None,
                      doc="slope below the threshold (0 = plain ReLU)"),
                Field("threshold", "float", 0.0, -1e9, 1e9,
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


def _where(index: int | None, type_name: str) -> str:
    return f"{type_name} (layer {index + 1})" if index is not None else type_name


def _suggest(word: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _check_value(ftype: Field, value: Any, where: str, index: int | None) -> Any:
    """Return the canonical value of one field, or raise a LayerSpecError naming the fix."""
    label = f"{where}.{ftype.name}={value!r}"

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
            raise LayerSpecError(
                f"{label} is not allowed; use {ftype.allowed()}.{_suggest(value, ftype.choices)}",
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


def normalize_layer(spec: Any, index: int | None = None) -> dict:
    """Validate one layer spec and return it with every field present, in canonical order.

    Parameters
    ----------
    spec : dict
        ``{"type": <name>, <field>: <value>, ...}``; omitted fields take Keras's defaults.
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
        hint = _suggest(type_name, LAYER_TYPES) if isinstance(type_name, str) else ""
        what = "has no 'type'" if "type" not in spec else f"has unknown type {type_name!r}"
        raise LayerSpecError(f"{position} {what}; use one of {names}.{hint}",
                             layer=index, field="type")
    ltype = LAYER_TYPES[type_name]
    where = _where(index, type_name)
    unknown = [k for k in spec if k != "type" and k not in ltype.field_names]
    if unknown:
        bad = unknown[0]
        raise LayerSpecError(
            f"{where} has no field {bad!r}; its fields are {', '.join(ltype.field_names)}."
            f"{_suggest(bad, ltype.field_names)}", layer=index, field=str(bad))
    out = {"type": type_name}
    for f in ltype.fields:
        out[f.name] = _check_value(f, spec.get(f.name, f.default), where, index)
    return out


def normalize_stack(stack: Any) -> list[dict]:
    """Validate a whole stack (a list of 1 to MAX_LAYERS specs); return the normalized copy."""
    if isinstance(stack, (str, bytes, dict)) or not isinstance(stack, Sequence):
        raise LayerSpecError(
            f"layers must be a list of layer dicts, got {type(stack).__name__}; for example "
            '[{"type": "Conv2D", "filters": 3}, {"type": "ReLU"}].')
    if not 1 <= len(stack) <= MAX_LAYERS:
        raise LayerSpecError(
            f"layers holds {len(stack)} layers; a stack takes 1 to {MAX_LAYERS} layers.")
    return [normalize_layer(spec, i) for i, spec in enumerate(stack)]


def _window(spec: dict) -> tuple[int, int, str]:
    """(window, stride, field name of the window) of a convolution or pooling spec."""
    if "pool_size" in spec:
        stride = spec["strides"] if spec["strides"] is not None else spec["pool_size"]
        return spec["pool_size"], stride, "pool_size"
    return spec["kernel_size"], spec["strides"], "kernel_size"


def output_shape(spec: dict, shape: tuple[int, int, int], index: int | None = None
                 ) -> tuple[int, int, int]:
    """Output (H, W, C) of a normalized spec for an (H, W, C) input, as Keras computes it.

    Raises LayerSpecError when the window does not fit with padding='valid'.
    """
    h, w, c = shape
    kind = spec["type"]
    if kind == "ReLU":
        return shape
    window, stride, wname = _window(spec)
    if spec["padding"] == "same":
        oh, ow = -(-h // stride), -(-w // stride)
    else:
        if window > min(h, w):
            small = min(h, w)
            raise LayerSpecError(
                f"{_where(index, kind)}.{wname}={window} is larger than its {h}×{w} input with "
                f"padding='valid'; use padding='same' or a {wname} of at most {small}.",
                layer=index, field=wname)
        oh, ow = (h - window) // stride + 1, (w - window) // stride + 1
    if kind == "Conv2D":
        c = spec["filters"]
    elif kind == "DepthwiseConv2D":
        c = c * spec["depth_multiplier"]
    return oh, ow, c


def stack_shapes(stack: list[dict], input_shape: tuple[int, int, int]
                 ) -> list[tuple[int, int, int]]:
    """(H, W, C) after each layer of a normalized stack; raises on an impossible or huge shape."""
    shapes = []
    shape = tuple(int(v) for v in input_shape)
    for i, spec in enumerate(stack):
        shape = output_shape(spec, shape, i)
        size = shape[0] * shape[1] * shape[2]
        if size > MAX_STAGE_VALUES:
            raise LayerSpecError(
                f"{_where(i, spec['type'])} would output {shape[0]}×{shape[1]}×{shape[2]} = "
                f"{size:,} values, more than the {MAX_STAGE_VALUES:,} one stage may hold; use fewer "
                "filters, larger strides or a smaller image.", layer=i)
        shapes.append(shape)
    return shapes


def schema() -> dict:
    """The layer types and their fields as JSON, for the panel to build its controls from."""
    return {
        name: {
            "doc": t.doc,
            "fields": [
                {"name": f.name, "kind": f.kind, "default": f.default, "min": f.minimum,
                 "max": f.maximum, "choices": list(f.choices), "optional": f.optional,
                 "none_means": f.none_means, "doc": f.doc}
                for f in t.fields
            ],
        }
        for name, t in LAYER_TYPES.items()
    }


def _weight_seed(seed: int, position: int, spec: dict, in_channels: int) -> int:
    """Seed for one layer's weights: depends on nothing but what shapes those weights."""
    ltype = LAYER_TYPES[spec["type"]]
    key = [seed, position, spec["type"], in_channels] + [spec[f] for f in ltype.weight_fields]
    digest = hashlib.sha256(repr(key).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def layer_weights(spec: dict, *, seed: int, position: int, in_channels: int
                  ) -> list[np.ndarray] | None:
    """Weights of a layer with weights, Glorot-uniform like Keras's default, zero bias.

    NumPy's PCG64 stream makes them identical on every machine and independent of strides,
    padding and activation, so an edit of those compares like with like.
    """
    kind = spec["type"]
    if kind not in ("Conv2D", "DepthwiseConv2D"):
        return None
    k = spec["kernel_size"]
    if kind == "Conv2D":
        shape = (k, k, in_channels, spec["filters"])
        fan_in, fan_out = k * k * in_channels, k * k * spec["filters"]
        bias = spec["filters"]
    else:
        m = spec["depth_multiplier"]
        shape = (k, k, in_channels, m)
        # Keras computes the fans of a depthwise kernel from its 4-D shape the same way.
        fan_in, fan_out = k * k * in_channels, k * k * m
        bias = in_channels * m
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    rng = np.random.default_rng(_weight_seed(seed, position, spec, in_channels))
    kernel = rng.uniform(-limit, limit, size=shape).astype(np.float32)
    return [kernel, np.zeros(bias, dtype=np.float32)]


def _keras_kwargs(spec: dict) -> dict:
    kwargs = {k: v for k, v in spec.items() if k != "type"}
    if "activation" in kwargs and kwargs["activation"] == "linear":
        kwargs["activation"] = None
    return kwargs


def build_layer(spec: dict, *, seed: int, position: int, in_shape: tuple[int, int, int]):
    """A built tf.keras layer for a normalized spec, with its deterministic weights set."""
    from ._tf import keras

    cls: Callable = getattr(keras.layers, spec["type"])
    layer = cls(**_keras_kwargs(spec), name=f"{spec['type'].lower()}_{position + 1}")
    layer.build((1, *in_shape))
    weights = layer_weights(spec, seed=seed, position=position, in_channels=in_shape[-1])
    if weights is not None:
        layer.set_weights(weights)
    return layer


def to_code(stack: list[dict]) -> str:
    """Python source that builds the same stack with tf.keras (weights aside)."""
    lines = ["keras.Sequential(["]
    for spec in stack:
        args = ", ".join(f"{k}={v!r}" for k, v in _keras_kwargs(spec).items())
        lines.append(f"    keras.layers.{spec['type']}({args}),")
    lines.append("])")
    return "\n".join(lines)
