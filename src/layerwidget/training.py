"""Train the explorer's stack, plus a classifier head, with real Keras training.

The model is ``Input → [Rescaling(1/255)] → the stack's layers → Flatten → Dense(softmax)``.
The stack's layers start from the explorer's seeded (or edited) weights; the head's kernel is
Glorot-uniform from ``keras.initializers.GlorotUniform(seed=seed)``. Nothing random is left to
global state: the validation split, each epoch's batch order and each epoch's image shifts come
from ``np.random.default_rng(seed)``, so the same inputs and seed give the same weights, and no
global seed (NumPy's, Python's, TensorFlow's) is set.

Why these defaults (Adam from 0.01 with cosine decay to 0, batches of 16, shifts of ±1 pixel):
on the 1,000 embedded digits (801 trained on, 199 held out), Conv2D(8, 3, 'same') → ReLU →
MaxPool2D(2) ended 5 epochs at 0.84–0.89 validation accuracy with Adam(0.001), batches of 32
and no shifts, still learning; with these settings it ended at 0.91–0.945 (mean 0.93) over
seeds 0–9, and every other stack tried (3 or 32 filters, two Conv2D layers, depthwise, no ReLU)
did as well or better than before. Shifting by ±2 pixels learnt more slowly at 5 epochs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .shapes import stack_shapes
from .training_plan import (
    MAX_FEATURES,
    MIN_IMAGES,
    TrainingError,
    TrainingPlan,
    plan_training,
    split_validation,
)
from .weights import build_layer

__all__ = ["MAX_FEATURES", "MIN_IMAGES", "TrainResult", "TrainingError", "TrainingPlan",
           "plan_training", "run_plan", "split_validation", "train_stack"]

log = logging.getLogger(__name__)

@dataclass
class TrainResult:
    """What one training run produced.

    Attributes
    ----------
    weights : list
        Per stack layer, aligned with the stack by position: ``[kernel, bias]`` (float32 NumPy
        arrays) for Conv2D and DepthwiseConv2D, None for layers without weights.
    head : list
        ``[kernel (features, n_classes), bias (n_classes,)]`` of the Dense head.
    history : list of dict
        One dict per epoch that trained at least one batch: ``epoch`` (from 0), ``loss``,
        ``accuracy``, ``val_loss``, ``val_accuracy`` (None for an epoch cut short by a stop),
        ``batches`` (trained in that epoch) and ``seconds``.
    stopped : bool
        True when ``should_stop`` ended the training early.
    input_scale : str
        What the trained weights expect: 'unit' (8-bit pixels divided by 255, i.e.
        ``ImageSet.input(i, "unit")``) or 'raw' (pixels as stored).
    n_classes : int
        Outputs of the head; output k is the probability of label k.
    validation : np.ndarray
        Indices of the held-out images, never trained on.
    model : keras.Model
        The trained model; it takes pixels as ``images`` held them (the rescaling is inside).
    seconds : float
        Wall time of the whole run.
    """

    weights: list
    head: list
    history: list
    stopped: bool
    input_scale: str
    n_classes: int
    validation: np.ndarray
    model: Any
    seconds: float

    def predict(self, x) -> np.ndarray:
        """Class probabilities, (N, n_classes), for (H, W), (H, W, C) or (N, H, W, C) pixels on
        the scale of the training ``images`` (e.g. raw 0–255 digits or mnist_preprocess output).
        """
        batch = np.asarray(x, dtype=np.float32)
        want = tuple(self.model.input_shape[1:])
        if want[-1] == 1 and batch.shape[-2:] == want[:2]:
            batch = batch[..., None]
        if batch.shape[-3:] != want:
            raise TrainingError(f"predict got shape {batch.shape}; the model takes images of "
                                f"shape {want} (or a batch of them).", field="x")
        batch = batch.reshape((-1, *want))
        return np.asarray(self.model(batch, training=False))


def _build_model(stack, in_shape, seed, weights, divisor, n_classes):
    from ._tf import keras

    layers = [keras.Input(in_shape)]
    if divisor != 1:
        layers.append(keras.layers.Rescaling(1.0 / divisor))
    shape = in_shape
    for spec, given in zip(stack, weights, strict=True):
        layers.append(build_layer(spec, seed=seed, in_shape=shape, weights=given))
        shape = stack_shapes([spec], shape)[0]
    layers += [keras.layers.Flatten(),
               keras.layers.Dense(n_classes, activation="softmax", name="head",
                                  kernel_initializer=keras.initializers.GlorotUniform(seed=seed))]
    return keras.Sequential(layers)


def _stack_weights(model, stack, offset) -> list:
    out = []
    for layer in model.layers[offset : offset + len(stack)]:
        weights = layer.get_weights()
        out.append([np.array(w) for w in weights] if weights else None)
    return out


def train_stack(stack, images, labels, *, seed: int, in_weights=None, epochs: int = 3,
                batch_size: int = 16, validation_fraction: float = 0.2,
                learning_rate: float = 0.01, shift: int = 1, pixel_scale: str = "unit",
                eight_bit: bool | None = None, n_classes: int | None = None,
                on_batch: Callable | None = None, on_epoch: Callable | None = None,
                should_stop: Callable[[], bool] | None = None) -> TrainResult:
    """Train ``stack`` plus a Dense softmax head on labelled images with ``keras.Model.fit``.

    Parameters
    ----------
    stack : list of dict
        The layer stack (normalized again here; ids kept).
    images : array-like
        (N, H, W, C) or (N, H, W) pixels, as ``ImageSet.pixels`` holds them; N ≥ 20.
    labels : array-like
        (N,) whole numbers from 0; the head has ``max(labels) + 1`` outputs.
    seed : int
        Seeds the starting weights (as the explorer's), the head, the split, the batch order
        and the shifts.
    in_weights : list, optional
        Per layer ``[kernel, bias]`` or None to start from instead of the seeded weights.
    epochs : int
        1 to 100; default 3.
    batch_size : int
        1 to 1024; default 16.
    validation_fraction : float
        Share of each class held out for validation, in (0, 0.5]; default 0.2.
    learning_rate : float
        Adam's starting learning rate, in (0, 1]; default 0.01. It falls to 0 along a half
        cosine over the run (``keras.optimizers.schedules.CosineDecay``).
    shift : int
        0 to 4; default 1. Each epoch, every training image is moved by a seeded random whole
        number of pixels from ``-shift`` to ``shift``, down and right independently, with
        blank (0) pixels coming in at the edges. Validation images are never moved.
    pixel_scale : str
        'unit' (default): the model divides 8-bit pixels by 255 first, so training sees 0–1
        inputs and the trained stack weights expect 0–1 inputs; 'raw': pixels as given.
    eight_bit : bool, optional
        Whether ``images`` hold 0–255 pixels (``ImageSet.eight_bit``); None: when any exceeds 1.
    n_classes : int, optional
        Outputs of the head, e.g. 10 to always have one per digit; default ``max(labels) + 1``.
    on_batch : callable, optional
        ``on_batch(epoch, batch, n_batches, logs)`` after every batch (from 0); ``logs`` holds
        the epoch's running ``loss`` and ``accuracy``.
    on_epoch : callable, optional
        ``on_epoch(epoch, logs, weights)`` after every epoch; ``logs`` is its history dict,
        ``weights`` the stack's current weights as in :attr:`TrainResult.weights`.
    should_stop : callable, optional
        Checked after every batch; when it returns True training stops after that batch.

    Raises
    ------
    TrainingError
        Missing, single-class or non-integer labels, too few images, an out-of-range setting,
        ``in_weights`` that do not fit, or a last stage too large for the head.

    Notes
    -----
    The model and its layers are new, shared with nothing, so training may run in a background
    thread; the callbacks then run in that thread and receive copies of the weights.
    The defaults were chosen by measurement on the 1,000 embedded digits (module docstring).
    """
    plan = plan_training(stack, images, labels, seed=seed, in_weights=in_weights,
                         epochs=epochs, batch_size=batch_size,
                         validation_fraction=validation_fraction, learning_rate=learning_rate,
                         shift=shift, pixel_scale=pixel_scale, eight_bit=eight_bit,
                         n_classes=n_classes)
    return run_plan(plan, on_batch=on_batch, on_epoch=on_epoch, should_stop=should_stop)


def run_plan(plan: TrainingPlan, *, on_batch: Callable | None = None,
             on_epoch: Callable | None = None,
             should_stop: Callable[[], bool] | None = None) -> TrainResult:
    """Run a :class:`TrainingPlan` with ``keras.Model.fit``; the callbacks are
    :func:`train_stack`'s."""
    from ._tf import keras

    start = time.perf_counter()
    x, y = plan.images, plan.labels
    model = _build_model(plan.stack, tuple(x.shape[1:]), plan.seed, plan.weights, plan.divisor,
                         plan.n_classes)
    rate = keras.optimizers.schedules.CosineDecay(plan.learning_rate,
                                                  decay_steps=plan.epochs * plan.n_batches)
    model.compile(optimizer=keras.optimizers.Adam(rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    offset = 1 if plan.divisor != 1 else 0
    val = plan.validation
    progress = _progress(model, plan.stack, offset, (x[val], y[val]), plan.n_batches,
                         on_batch, on_epoch, should_stop)
    batches = _batches(x[plan.train], y[plan.train], plan.orders, plan.moves, plan.shift,
                       plan.batch_size)
    model.fit(batches, epochs=plan.epochs, steps_per_epoch=plan.n_batches, shuffle=False,
              callbacks=[progress], verbose=0)
    head = [np.array(w) for w in model.get_layer("head").get_weights()]
    return TrainResult(_stack_weights(model, plan.stack, offset), head, progress.history,
                       progress.stopped, plan.input_scale, plan.n_classes, val, model,
                       time.perf_counter() - start)


def _batches(x, y, orders, moves, shift, batch_size):
    """A tf.data stream of every epoch's batches in the planned orders, each image moved as
    planned: cut from a copy of the images framed with ``shift`` blank pixels, at an offset.
    """
    from ._tf import tf

    h, w = x.shape[1:3]
    framed = tf.constant(np.pad(x, ((0, 0), (shift, shift), (shift, shift), (0, 0))))
    y = tf.constant(y)
    plans = tf.data.Dataset.from_tensor_slices((orders, moves)).flat_map(
        lambda o, m: tf.data.Dataset.from_tensor_slices((o, m)).batch(batch_size))

    def cut(i, m):
        # Output pixel (r, c) of an image moved by (down, right) is its pixel
        # (r - down, c - right): row r - down + shift of the framed copy.
        rows = shift - m[:, :1] + tf.range(h)[None, :]
        cols = shift - m[:, 1:] + tf.range(w)[None, :]
        picked = tf.gather(tf.gather(framed, i), rows, axis=1, batch_dims=1)
        return tf.gather(picked, cols, axis=2, batch_dims=1), tf.gather(y, i)

    return plans.map(cut)


def _progress(model, stack, offset, validation, n_batches, on_batch, on_epoch,
              should_stop):
    """The Callback that reports batches and epochs, validates and stops on request."""
    from ._tf import keras

    class Progress(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.history, self.stopped = [], False

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.batches, self.started = epoch, 0, time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.batches = batch + 1
            if on_batch is not None:
                on_batch(self.epoch, batch, n_batches, _floats(logs))
            if should_stop is not None and should_stop():
                self.stopped = model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            entry = {"epoch": epoch, **{k: _floats(logs).get(k) for k in ("loss", "accuracy")},
                     "val_loss": None, "val_accuracy": None, "batches": self.batches}
            scores = None if self.stopped else _validate(model, *validation, should_stop)
            if scores is None:
                self.stopped = model.stop_training = True
            else:
                entry["val_loss"], entry["val_accuracy"] = scores
            entry["seconds"] = time.perf_counter() - self.started
            self.history.append(entry)
            log.debug("epoch %d: %s", epoch, entry)
            if on_epoch is not None:
                on_epoch(epoch, dict(entry), _stack_weights(model, stack, offset))

    return Progress()


def _validate(model, x, y, should_stop, chunk: int = 256):
    """(loss, accuracy) on the held-out images, or None when a stop came first.

    Validation runs the model eagerly in chunks rather than through ``fit(validation_data=)``
    or ``evaluate``: the first ``evaluate`` traces a graph (about a second here) and fit would
    validate an epoch cut short too, either of which would delay a stop. The loss is the
    cross-entropy of the model's probabilities, clipped at 1e-7 as Keras clips them.
    """
    probs = []
    for start in range(0, len(y), chunk):
        if should_stop is not None and should_stop():
            return None
        probs.append(np.asarray(model(x[start : start + chunk], training=False)))
    p = np.concatenate(probs)
    picked = np.clip(p[np.arange(len(y)), y], 1e-7, 1.0)
    return float(-np.log(picked).mean()), float((p.argmax(axis=1) == y).mean())


def _floats(logs) -> dict:
    return {k: float(v) for k, v in (logs or {}).items()}
