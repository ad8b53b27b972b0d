"""Run a user's Keras model stage by stage on one image, in inference mode.

:class:`ModelRunner` builds one Keras model whose outputs are every stage's output of a
:class:`~layerwidget.model_plan.ModelPlan`, once, and calls it for each image. The user's model
is only read: no layer is called symbolically, nothing is compiled, built or renamed.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

import numpy as np

from .model_plan import (
    ModelError,
    ModelPlan,
    StagePlan,
    _check_fits,
    _check_stage,
    _graph,
    _sizes,
    _with_sizes,
    inspect_model,
)
from .pipeline import StageStats, stage_stats

__all__ = ["ModelError", "ModelPlan", "ModelRun", "ModelRunner", "StagePlan", "inspect_model"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelRun:
    """The result of running a model's stages on one image (fields as :class:`Run`'s, plus)."""

    input: np.ndarray
    outputs: tuple[np.ndarray, ...]  # float32, one per stage, batch dimension of 1 kept
    layers: tuple
    stats: tuple[StageStats, ...]  # the input first, then one per stage, named as the layer
    seconds: float
    prediction: np.ndarray | None  # (classes,) probabilities when the plan is a classifier
    predicted_label: int | None


class ModelRunner:
    """Runs a :class:`ModelPlan`'s stages on one image at a time, in inference mode.

    The Keras model that outputs every stage is built once here and called for each image.
    """

    def __init__(self, plan: ModelPlan):
        from ._tf import keras

        self.plan = plan
        graph = _graph(plan.model, keras)
        # One input tensor, not a list of one, so a bare array is the structure Keras expects.
        self._model = keras.Model(graph.inputs[0], [s.tensor for s in plan.stages])
        self._checked: set[tuple[int, ...]] = set()

    def run(self, x: np.ndarray) -> ModelRun:
        """Run every stage on ``x`` of shape (1, H, W, C), float32.

        Raises
        ------
        ModelError
            When ``x`` does not fit the model, a stage would be too large for this image size,
            or a layer fails; nothing is kept from a failed run.
        """
        start = time.perf_counter()
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 4 or x.shape[0] != 1:
            raise ModelError(f"input has shape {x.shape}; pass one image as (1, H, W, C).")
        self._check_size(tuple(int(v) for v in x.shape[1:]))
        try:
            tensors = self._model(x, training=False)
        except Exception as exc:  # any layer's own error: say which layer raised it
            raise self._failure(x, exc) from exc
        tensors = tensors if isinstance(tensors, (list, tuple)) else [tensors]
        outputs = tuple(np.asarray(t, dtype=np.float32) for t in tensors)
        stats = [stage_stats("input", x)]
        stats += [stage_stats(s.name, y) for s, y in zip(self.plan.stages, outputs, strict=True)]
        prediction = label = None
        if self.plan.classifier:
            prediction = outputs[-1][0]
            label = int(np.argmax(prediction))
        return ModelRun(x, outputs, tuple(s.layer for s in self.plan.stages), tuple(stats),
                        time.perf_counter() - start, prediction, label)

    def _check_size(self, image_shape: tuple[int, ...]) -> None:
        if image_shape in self._checked:
            return
        from ._tf import keras

        _check_fits(self.plan.input_shape, image_shape)
        if None in self.plan.input_shape:  # stage sizes follow the image size
            shapes = _sizes(self._model, image_shape, keras)
            for i, stage in enumerate(_with_sizes(self.plan.stages, shapes)):
                _check_stage(i, stage)
        self._checked.add(image_shape)

    def _failure(self, x: np.ndarray, exc: Exception) -> ModelError:
        """A ModelError naming the stage that raised ``exc``, found by running stage by stage."""
        culprit = []

        def tracked(op):
            def call(*args, **kwargs):
                culprit[:] = [op]
                if "training" in getattr(op, "_call_context_args", ()):
                    kwargs["training"] = False
                return op(*args, **kwargs)
            return call

        try:
            self._model._run_through_graph([x], operation_fn=tracked)
            culprit.clear()  # it passed this time: blame no one rather than the last stage
        except Exception:
            log.debug("stage-by-stage rerun failed as expected", exc_info=True)
        index = next((i for i, s in enumerate(self.plan.stages)
                      if culprit and s.layer is culprit[0]), None)
        if index is None:
            where = "a layer of the model"
        else:
            stage = self.plan.stages[index]
            where = f"layer '{stage.name}' ({stage.type})"
        return ModelError(
            f"{where} failed on this image: {_first_line(exc)}. The error comes from the model "
            f"itself; check that layer on an input of shape {x.shape}, or try another image.",
            layer=index)


def _first_line(exc: Exception) -> str:
    """The line of a TensorFlow/Keras error message that says what went wrong."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if lines and lines[0].startswith("Exception encountered when calling") and len(lines) > 1:
        lines = lines[1:]  # Keras's wrapper line; the cause follows it
    return (lines[0] if lines else type(exc).__name__).rstrip(".")[:300]
