"""Look inside a user's built Keras model: validate it and describe its stages, before running.

:func:`inspect_model` checks everything that can be checked without running (a Sequential or
functional model with one image input, every stage's output a vector or a map, no stage too
large) and returns a :class:`ModelPlan`; :mod:`layerwidget.model_runner` runs it.

Stages are the model's graph operations except its InputLayer, in the topological order Keras
keeps them (``Functional.operations``, the order ``model.layers`` uses): a layer's inputs always
come before it. Operations written as ``x + y`` on Keras tensors are stages too, since later
stages take their outputs. A nested model is one stage. The user's model is only read: no layer
is called symbolically, nothing is compiled, built or renamed.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from .errors import LayerWidgetError
from .layers import MAX_STAGE_VALUES

__all__ = ["MAX_CLASSES", "ModelError", "ModelPlan", "StagePlan", "inspect_model"]

log = logging.getLogger(__name__)

MAX_CLASSES = 1000
"""Most classes a model's last layer may have for the explorer to read it as a classifier."""

# Config entries a student reads to know what a layer does; others (initializers, regularizers,
# dtype policy, trainable) are bookkeeping.
_SETTINGS = (
    "filters", "units", "kernel_size", "strides", "padding", "dilation_rate", "depth_multiplier",
    "activation", "pool_size", "rate", "stddev", "axis", "momentum", "epsilon",
    "target_shape", "size", "interpolation", "cropping", "negative_slope", "max_value",
    "threshold", "scale", "offset", "keepdims",
)
# Layers whose output equals their input when not training.
_PASSTHROUGH = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization")


class ModelError(LayerWidgetError):
    """The model given to the explorer cannot be shown, or one of its layers failed.

    ``field`` is ``"model"``; ``layer`` is the position of the stage to blame in
    :attr:`ModelPlan.stages` when one is.
    """

    def __init__(self, message: str, *, field: str | None = "model", layer: int | None = None):
        super().__init__(message, field=field, layer=layer)


@dataclass(frozen=True)
class StagePlan:
    """One stage of a model: a layer (or operation) and what it outputs."""

    name: str
    type: str  # class name, e.g. "Conv2D"
    settings: dict  # the config entries a student reads (filters, kernel_size, ...), when present
    params: int
    output_shape: tuple  # batch included as 1; None for a size only known per image
    inputs: tuple[str, ...]  # names of the stages feeding it; "input" for the model's input
    passthrough_at_inference: bool  # Dropout-like: output equals input when not training
    layer: Any = field(repr=False, compare=False)
    tensor: Any = field(repr=False, compare=False)  # its symbolic output in the user's model

    @property
    def spatial(self) -> bool:
        """True when the stage outputs maps (batch, H, W, C)."""
        return len(self.output_shape) == 4

    @property
    def flat(self) -> bool:
        """True when the stage outputs a vector (batch, units)."""
        return len(self.output_shape) == 2

    def to_dict(self) -> dict:
        """The stage as JSON-friendly data (tuples become lists)."""
        return {"name": self.name, "type": self.type, "settings": _jsonable(self.settings),
                "params": self.params, "output_shape": list(self.output_shape),
                "inputs": list(self.inputs), "spatial": self.spatial, "flat": self.flat,
                "passthrough_at_inference": self.passthrough_at_inference}


@dataclass(frozen=True)
class ModelPlan:
    """A validated model: its input, its stages and whether it reads as a classifier."""

    name: str
    input_shape: tuple  # (H, W, C) the model takes; H or W None when it takes any size
    stages: tuple[StagePlan, ...]
    classifier: bool  # last stage outputs softmax probabilities over 2..MAX_CLASSES classes
    classes: int | None  # number of classes when a classifier
    params: int
    model: Any = field(repr=False, compare=False)


def inspect_model(model, image_shape: tuple[int, int, int] | None = None) -> ModelPlan:
    """Validate a built Keras model and describe its stages, running nothing.

    Parameters
    ----------
    model : keras.Model
        A Sequential or functional model, built, with one input of shape (None, H, W, C).
        H and W may be None (a fully convolutional model takes any size).
    image_shape : tuple of int, optional
        (H, W, C) of the images it will be shown; checked against the model's input, and used
        to know the stage sizes of a model that takes any size (without it, those sizes stay
        None and :meth:`ModelRunner.run` checks them per image).

    Raises
    ------
    ModelError
        When the model is not one the explorer can show, or its input does not fit the images;
        the message says why and what to do.
    """
    from ._tf import keras

    graph = _graph(model, keras)
    inputs = list(graph.inputs)
    if len(inputs) != 1:
        raise ModelError(
            f"model '{model.name}' has {len(inputs)} inputs; the explorer feeds one image, so it "
            "shows models with exactly one input of shape (None, H, W, C).")
    input_shape = tuple(inputs[0].shape[1:])
    if len(inputs[0].shape) != 4:
        raise ModelError(
            f"model '{model.name}' takes inputs of shape {input_shape}, not images of shape "
            "(H, W, C); the explorer feeds images with a channel axis. Build the model on "
            "keras.Input(shape=(H, W, C)), e.g. (28, 28, 1) for MNIST: Flatten and Dense "
            "layers work the same on it.")
    if image_shape is not None:
        image_shape = tuple(int(v) for v in image_shape)
        _check_fits(input_shape, image_shape)
    stages = _stages(graph, keras, model.name)
    if image_shape is not None and None in input_shape:
        probe = keras.Model(graph.inputs[0], [s.tensor for s in stages])
        stages = _with_sizes(stages, _sizes(probe, image_shape, keras))
    for i, stage in enumerate(stages):
        _check_stage(i, stage)
    last = stages[-1]
    classes = last.output_shape[1] if last.flat else None
    softmax = (last.type == "Softmax" or last.settings.get("activation") == "softmax")
    classifier = (len(graph.outputs) == 1 and graph.outputs[0] is last.tensor and softmax
                  and classes is not None and 2 <= classes <= MAX_CLASSES)
    return ModelPlan(model.name, input_shape, tuple(stages), classifier,
                     classes if classifier else None, int(model.count_params()), model)


def _graph(model, keras):
    """The functional graph behind ``model``; refuses anything that has none."""
    if not isinstance(model, keras.Model):
        raise ModelError(
            f"model is a {type(model).__name__} (from {type(model).__module__}), not a Keras 3 "
            "model; pass a built keras.Sequential or functional keras.Model (tf.keras in "
            "TensorFlow 2.16+ is Keras 3; a single layer goes in keras.Sequential([keras.Input("
            "shape=(H, W, C)), layer])).")
    if isinstance(model, keras.Sequential):
        graph = getattr(model, "_functional", None)
        if graph is None:
            raise ModelError(
                f"Sequential model '{model.name}' is not built, so its shapes are unknown; start "
                "it with keras.Input(shape=(H, W, C)), e.g. keras.Sequential([keras.Input("
                "shape=(28, 28, 1)), ...]), or call model.build((None, H, W, C)) first.")
        return graph
    if not hasattr(model, "_nodes_by_depth"):
        raise ModelError(
            f"model '{model.name}' is a subclassed keras.Model ({type(model).__name__}) whose "
            "layers are wired in Python code inside call(), which the explorer cannot look "
            "into; rebuild it as a keras.Sequential or functional keras.Model(inputs, outputs) "
            "(the same layers and weights work there).")
    return model


def _check_fits(input_shape: tuple, image_shape: tuple) -> None:
    h, w, c = input_shape
    ih, iw, ic = image_shape
    if (h is None or h == ih) and (w is None or w == iw) and (c is None or c == ic):
        return
    want = (ih if h is None else h, iw if w is None else w, ic if c is None else c)
    c = want[2]
    fixes = []
    if want[:2] != (ih, iw):
        fixes.append(f"resize them to {want[0]}×{want[1]} (e.g. tf.image.resize(images, "
                     f"({want[0]}, {want[1]})))")
    if c != ic:
        how = {(3, 1): "tf.image.rgb_to_grayscale(images)", (4, 3): "images[..., :3]",
               (1, 3): "np.repeat(images, 3, axis=-1)"}.get((ic, c), "")
        fixes.append(f"give them {c} channel{'s' * (c != 1)} instead of {ic}"
                     + (f" (e.g. {how})" if how else ""))
    raise ModelError(
        f"the model takes {_shape(input_shape)} images but the explorer holds "
        f"{_shape(image_shape)} images; pass images of shape (N, {want[0]}, {want[1]}, {c}): "
        f"{' and '.join(fixes)}. The pixel scale is yours to choose: use the one the model was "
        "trained on (pixel_scale='raw' for 0–255, 'unit' for 0–1).")


def _stages(graph, keras, model_name: str) -> list[StagePlan]:
    # A node is one call of a layer. ``layer.output`` is the first call's output, which is not
    # this model's when the layer was also called elsewhere, so outputs come from the nodes of
    # this graph. Keras 3 keeps them only in private attributes; the tests pin their meaning.
    own = {id(n) for nodes in graph._nodes_by_depth.values() for n in nodes}
    names = {id(t): "input" for t in graph.inputs}
    stages = []
    for op in graph.operations:
        if isinstance(op, keras.layers.InputLayer):
            continue
        nodes = [n for n in op._inbound_nodes if id(n) in own]
        where = f"layer '{op.name}' ({type(op).__name__})"
        if len(nodes) != 1:
            raise ModelError(
                f"{where} is called {len(nodes)} times in the model (shared weights); the "
                "explorer shows one output per layer. Use a model that calls each layer once.",
                layer=len(stages))
        node = nodes[0]
        if len(node.outputs) != 1:
            raise ModelError(
                f"{where} returns {len(node.outputs)} tensors; the explorer shows layers with "
                "one output each.", layer=len(stages))
        tensor = node.outputs[0]
        shape = tuple(tensor.shape)
        stages.append(StagePlan(
            name=op.name, type=type(op).__name__, settings=_settings(op),
            params=int(op.count_params()) if isinstance(op, keras.layers.Layer) else 0,
            output_shape=(1, *shape[1:]) if shape else shape,
            inputs=tuple(names.get(id(t), t._keras_history.operation.name)
                         for t in node.input_tensors),
            passthrough_at_inference=any(c.__name__ in _PASSTHROUGH for c in type(op).__mro__),
            layer=op, tensor=tensor))
        names[id(tensor)] = op.name
    if not stages:
        raise ModelError(f"model '{model_name}' has no layers after its input; add some.")
    return stages


def _settings(op) -> dict:
    try:
        config = op.get_config()
    except Exception:  # operations made from keras.ops need not have a config
        return {}
    settings = {}
    for key in _SETTINGS:
        value = config.get(key)
        # BatchNormalization's scale flag says whether it has gamma, not a factor.
        if value is None or (key in ("scale", "offset") and isinstance(value, bool)):
            continue
        if key == "activation" and isinstance(value, dict):  # a serialized custom one
            value = value.get("config", {}).get("name") or value.get("class_name")
        settings[key] = _frozen(value)
    return settings


def _frozen(value):
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value if isinstance(value, (bool, int, float, str)) else str(value)


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def _sizes(probe, image_shape, keras) -> list[tuple]:
    """Each output shape of ``probe`` for an input (1, *image_shape), by shape inference."""
    specs = probe.compute_output_spec(keras.KerasTensor((1, *tuple(image_shape))))
    specs = specs if isinstance(specs, (list, tuple)) else [specs]
    return [tuple(s.shape) for s in specs]


def _with_sizes(stages, shapes) -> list[StagePlan]:
    return [StagePlan(s.name, s.type, s.settings, s.params, shape, s.inputs,
                      s.passthrough_at_inference, s.layer, s.tensor)
            for s, shape in zip(stages, shapes, strict=True)]


def _check_stage(index: int, stage: StagePlan) -> None:
    where = f"layer '{stage.name}' ({stage.type})"
    shape = stage.output_shape
    if len(shape) not in (2, 4):
        before = stage.inputs[0] if stage.inputs else "input"
        raise ModelError(
            f"{where} outputs shape {_shape(shape[1:])}, of rank {len(shape)} with the batch; "
            "the explorer shows maps (batch, H, W, C) and vectors (batch, units) only. Reshape "
            "to (H, W, C) or Flatten instead"
            + ("." if before == "input" else ", or show the model up to the layer before: "
               f"keras.Model(model.inputs, model.get_layer({before!r}).output)."), layer=index)
    if None not in shape:
        size = math.prod(shape[1:])
        if size > MAX_STAGE_VALUES:
            raise ModelError(
                f"{where} would output {_shape(shape[1:])} = {size:,} values, more than the "
                f"{MAX_STAGE_VALUES:,} one stage may hold; use smaller images or a smaller "
                "model.", layer=index)


def _shape(shape) -> str:
    return "(" + ", ".join(str(v) for v in shape) + ("," if len(shape) == 1 else "") + ")"


