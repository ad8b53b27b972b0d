"""An explorer over a user's Keras model: every layer a stage, the model left as it is.

A mixin of :class:`~layerwidget.explorer.LayerExplorer`. The core (:mod:`layerwidget.model_plan`,
:mod:`layerwidget.model_runner`) checks and runs the model; this file adapts what it returns to
the explorer's views: vectors drawn as rows of cells, the layers the reading tools understand
(Conv2D, ReLU, pooling, and element-wise layers for receptive fields) turned into specs.
"""

from __future__ import annotations

import numpy as np

from .errors import LayerWidgetError
from .layers import normalize_layer
from .model_plan import ModelError, inspect_model
from .model_runner import ModelRunner

__all__ = ["ModelModeMixin", "as_map"]

# Layers whose output at a pixel depends on that pixel alone: for receptive fields they are
# the identity, like ReLU.
_ELEMENTWISE = {"ReLU", "Activation", "Rescaling", "Normalization", "BatchNormalization",
                "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
                "LeakyReLU", "ELU", "PReLU", "Softmax"}
_POOLS = {"MaxPooling2D": "MaxPool2D", "MaxPool2D": "MaxPool2D", "AveragePooling2D": "AvgPool2D",
          "AvgPool2D": "AvgPool2D"}


def as_map(array: np.ndarray) -> np.ndarray:
    """A stage as (1, H, W, C): maps as they are, a vector (1, n) as one row of n cells."""
    if array.ndim == 2:
        return array.reshape(1, 1, array.shape[1], 1)
    return array


def _square(value) -> int | None:
    values = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
    return int(values[0]) if len(set(values)) == 1 else None


def spec_of(layer) -> dict | None:
    """The explorer's spec for a Keras layer it can explain, or None."""
    kind = type(layer).__name__
    config = layer.get_config()
    try:
        if kind in ("Conv2D", "DepthwiseConv2D"):
            if _square(config.get("dilation_rate", 1)) != 1:
                return None
            spec = {"type": kind, "kernel_size": _square(config["kernel_size"]),
                    "strides": _square(config["strides"]), "padding": config["padding"],
                    "activation": config.get("activation") or "linear"}
            if kind == "Conv2D":
                spec["filters"] = config["filters"]
            else:
                spec["depth_multiplier"] = config["depth_multiplier"]
        elif kind in _POOLS:
            spec = {"type": _POOLS[kind], "pool_size": _square(config["pool_size"]),
                    "strides": _square(config["strides"]), "padding": config["padding"]}
        elif kind == "ReLU":
            spec = {"type": "ReLU", "max_value": config.get("max_value"),
                    "negative_slope": config.get("negative_slope", 0.0),
                    "threshold": config.get("threshold", 0.0)}
        else:
            return None
        if any(v is None for v in spec.values()):
            return None
        return normalize_layer(spec)
    except (KeyError, TypeError, LayerWidgetError):
        return None


class ModelModeMixin:
    """The parts of the explorer that differ when it shows a user's model."""

    def _setup_model(self, model) -> None:
        self._plan = inspect_model(model, self._images.shape)
        self._runner = ModelRunner(self._plan)
        stages = self._plan.stages
        names = ["input", *(s.name for s in stages)]
        self._specs = [spec_of(s.layer) for s in stages]
        # The stage each stage reads from (its single input), or None for merges.
        self._sources = [names.index(s.inputs[0]) if len(s.inputs) == 1 else None
                         for s in stages]

    @property
    def model(self):
        """The Keras model this explorer shows (never changed by it), or None."""
        return None if self._plan is None else self._plan.model

    @property
    def prediction(self) -> np.ndarray | None:
        """np.ndarray (classes,): the classifier's probabilities for the current image, or None
        when the explorer holds no classifier (a model's softmax output, or a trained stack's
        Dense head)."""
        p = self._prediction_of(self._results())
        return None if p is None else p.copy()

    @property
    def predicted_label(self) -> int | None:
        """int: the class with the largest probability, or None (see ``prediction``)."""
        p = self._prediction_of(self._results())
        return None if p is None else int(np.argmax(p))

    def _prediction_of(self, run) -> np.ndarray | None:
        if getattr(run, "prediction", None) is not None:
            return run.prediction
        return self._head_prediction(run)

    def _refuse_in_model_mode(self, what: str) -> None:
        if self._plan is not None:
            raise ModelError(f"this explorer shows a Keras model, whose {what} are its own; "
                             "layerwidget never changes a model you pass in. To edit a stack, "
                             "make LayerExplorer(layers=...) without model=.")

    def _model_panel_info(self) -> dict | None:
        if self._plan is None:
            return None
        return {"name": self._plan.name, "params": self._plan.params,
                "classifier": self._plan.classifier,
                "stages": [s.to_dict() for s in self._plan.stages]}

    def _model_spec(self, stage: int) -> dict | None:
        """The spec of stage ``stage``'s layer when its arithmetic can be explained from the
        stage before it (a single input, a layer the reading tools know)."""
        if self._plan is None:
            return self.layers[stage - 1]
        if self._sources[stage - 1] != stage - 1:
            return None
        return self._specs[stage - 1]

    def _chain(self, stage: int) -> list[dict] | None:
        """Specs of the stages up to ``stage`` when they form a chain the receptive-field
        arithmetic understands (element-wise layers count as ReLU), else None."""
        if self._plan is None:
            return self.layers[:stage]
        chain = []
        for i, (plan, spec) in enumerate(zip(self._plan.stages[:stage], self._specs,
                                             strict=False)):
            if self._sources[i] != i or not plan.spatial:
                return None
            if spec is None and plan.type in _ELEMENTWISE:
                spec = normalize_layer({"type": "ReLU"})
            if spec is None:
                return None
            chain.append({**spec, "id": i + 1})
        return chain

    def _model_code(self) -> str:
        plan = self._plan
        image = self._images.source(self.image_index, self.pixel_scale)
        made = getattr(plan.model, "_layerwidget_source", None)
        lines = ['"""What the explorer shows: every stage of a Keras model on one image."""',
                 "import keras", "import numpy as np", ""]
        if made:
            lines += ["import layerwidget", "", f"model = {made}"]
        else:
            lines += ["# model = ...  the Keras model you passed to LayerExplorer(model=...)"]
        h, w, c = self._images.shape
        lines += [f"x = {image}" if image else
                  f"x = np.zeros((1, {h}, {w}, {c}), dtype=\"float32\")  # your image here", "",
                  "names = " + repr([s.name for s in plan.stages]),
                  "stages = keras.Model(model.inputs[0], "
                  "[model.get_layer(n).output for n in names])(x, training=False)",
                  "for name, y in zip(names, stages):",
                  "    y = np.asarray(y)",
                  '    print(f"{name:16} {y.shape}  min {y.min():.2f}  max {y.max():.2f}")']
        if plan.classifier:
            lines += ['print("predicted", int(np.argmax(stages[-1][0])))']
        return "\n".join(lines) + "\n"
