"""Train the explorer's stack, plus a classifier head, with real Keras training.

The model is ``Input → [Rescaling(1/255)] → the stack's layers → Flatten → Dense(softmax)``.
The stack's layers start from the explorer's seeded (or edited) weights; the head's kernel is
Glorot-uniform from ``keras.initializers.GlorotUniform(seed=seed)``. Nothing random is left to
global state: the validation split and each epoch's batch order come from
``np.random.default_rng(seed)``, so the same inputs and seed give the same weights, and no
global seed (NumPy's, Python's, TensorFlow's) is set.
"""

from __future__ import annotations

import logging
import math
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import LayerWidgetError
from .layers import LAYER_TYPES, normalize_stack
from .options import check_pixel_scale, check_seed
from .shapes import stack_shapes
from .weights import build_layer, keras_kwargs, keras_name, layer_weights

__all__ = ["MAX_FEATURES", "MIN_IMAGES", "TrainResult", "TrainingError", "split_validation",
           "train_stack", "training_code"]

log = logging.getLogger(__name__)

MIN_IMAGES = 20
"""Fewest labelled images training takes."""
MAX_FEATURES = 2**20
"""Most values the last stage may hold for the Dense head (its kernel is features × classes)."""
MAX_CLASSES = 1000
"""Most classes the head may have (labels 0 to 999)."""


class TrainingError(LayerWidgetError):
    """Training cannot start with these images, labels or settings."""


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


def _fail(message: str, field: str) -> TrainingError:
    return TrainingError(message, field=field)


def _check_int(name: str, value: Any, lo: int, hi: int, fix: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not lo <= value <= hi:
        raise _fail(f"{name}={value!r} is not allowed; use a whole number from {lo} to {hi}"
                    f"{fix}.", name)
    return int(value)


def _check_settings(stack, seed, epochs, batch_size, validation_fraction, learning_rate):
    """The normalized stack, seed, epochs and batch size, once every setting is checked."""
    stack = normalize_stack(stack)
    seed = check_seed(seed)
    epochs = _check_int("epochs", epochs, 1, 100, "")
    batch_size = _check_int("batch_size", batch_size, 1, 1024, "; 32 is usual")
    if not (isinstance(validation_fraction, numbers.Real) and 0 < validation_fraction <= 0.5):
        raise _fail(f"validation_fraction={validation_fraction!r} is not allowed; use a share "
                    "above 0 and at most 0.5, e.g. 0.2.", "validation_fraction")
    if not (isinstance(learning_rate, numbers.Real) and 0 < learning_rate <= 1):
        raise _fail(f"learning_rate={learning_rate!r} is not allowed; use a number above 0 and "
                    "at most 1, e.g. 0.001.", "learning_rate")
    return stack, seed, epochs, batch_size


def _check_images(images) -> np.ndarray:
    arr = np.asarray(images)
    if arr.dtype.kind not in "biuf":
        raise _fail(f"images have dtype {arr.dtype}; pass numbers, e.g. ImageSet.pixels.", "images")
    if arr.ndim == 3:  # (N, H, W) grey images, as sample_digits() gives them
        arr = arr[..., None]
    if arr.ndim != 4:
        raise _fail(f"images have shape {arr.shape}; pass (N, H, W, C) or (N, H, W).", "images")
    if arr.shape[0] < MIN_IMAGES:
        raise _fail(f"only {arr.shape[0]} images were given; training takes at least "
                    f"{MIN_IMAGES} labelled images (the embedded digits are 1,000).", "images")
    pixels = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(pixels).all():
        raise _fail("images hold NaN or infinite values; replace them first, e.g. "
                    "np.nan_to_num(images).", "images")
    return pixels


def _check_labels(labels, n: int) -> np.ndarray:
    if labels is None or np.size(labels) == 0:
        raise _fail("there are no labels: training needs one label per image, the digit it "
                    "shows; pass labels=... (the embedded digits come with theirs).", "labels")
    arr = np.asarray(labels)
    if arr.shape != (n,):
        raise _fail(f"labels have shape {arr.shape} but there are {n} images; pass one label "
                    f"per image, shape ({n},).", "labels")
    if arr.dtype.kind not in "iuf":
        raise _fail(f"labels have dtype {arr.dtype}, not whole numbers; number the classes "
                    "0, 1, 2, …, e.g. np.unique(labels, return_inverse=True)[1].", "labels")
    bad = arr[~np.isfinite(arr) | (arr != np.round(arr)) | (arr < 0)] if arr.dtype.kind == "f" \
        else arr[arr < 0]
    if bad.size:
        raise _fail(f"labels hold {bad[0].item()!r}, not a class number; labels must be whole "
                    "numbers from 0, e.g. np.unique(labels, return_inverse=True)[1].", "labels")
    out = arr.astype(np.int64)
    if out.max() >= MAX_CLASSES:
        raise _fail(f"labels reach {out.max()}; classes are numbered 0 to {MAX_CLASSES - 1}. "
                    "Renumber them, e.g. np.unique(labels, return_inverse=True)[1].", "labels")
    if np.unique(out).size < 2:
        raise _fail(f"every label is {out[0]}: one class leaves nothing to learn; give images of "
                    "at least two classes.", "labels")
    return out


def split_validation(labels: np.ndarray, fraction: float, rng: np.random.Generator
                     ) -> np.ndarray:
    """Sorted indices held out for validation: per class, a seeded random ``fraction`` of its
    images (rounded, at least one left for training), so every class is represented as in all.
    """
    held = []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        held.append(members[: min(int(np.floor(fraction * len(members) + 0.5)),
                                  len(members) - 1)])
    return np.sort(np.concatenate(held))


def _check_weights(stack: list[dict], in_shapes: list, in_weights) -> list:
    if in_weights is None:
        return [None] * len(stack)
    if len(in_weights) != len(stack):
        raise _fail(f"in_weights holds {len(in_weights)} entries for {len(stack)} layers; give "
                    "one per layer ([kernel, bias] or None), or in_weights=None.", "in_weights")
    for i, (spec, given) in enumerate(zip(stack, in_weights, strict=True)):
        if given is None:
            continue
        expected = layer_weights(spec, seed=0, in_channels=in_shapes[i][-1])
        if expected is None or len(given) != 2 or any(
                np.shape(g) != e.shape for g, e in zip(given, expected, strict=True)):
            want = "None" if expected is None else " and ".join(str(e.shape) for e in expected)
            raise TrainingError(f"in_weights[{i}] does not fit {spec['type']} (layer {i + 1}); "
                                f"it takes {want}.", field="in_weights", layer=i)
    return list(in_weights)


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
                batch_size: int = 32, validation_fraction: float = 0.2,
                learning_rate: float = 1e-3, pixel_scale: str = "unit",
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
        Seeds the starting weights (as the explorer's), the head, the split and the batch order.
    in_weights : list, optional
        Per layer ``[kernel, bias]`` or None to start from instead of the seeded weights.
    epochs : int
        1 to 100; default 3.
    batch_size : int
        1 to 1024; default 32.
    validation_fraction : float
        Share of each class held out for validation, in (0, 0.5]; default 0.2.
    learning_rate : float
        Adam's learning rate, in (0, 1]; default 0.001.
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
    """
    start = time.perf_counter()
    stack, seed, epochs, batch_size = _check_settings(stack, seed, epochs, batch_size,
                                                      validation_fraction, learning_rate)
    input_scale = check_pixel_scale(pixel_scale)
    x = _check_images(images)
    y = _check_labels(labels, x.shape[0])
    classes = int(y.max()) + 1
    if n_classes is not None:
        classes = _check_int("n_classes", n_classes, classes, MAX_CLASSES,
                             f" (the labels reach {classes - 1})")
    in_shape = tuple(int(v) for v in x.shape[1:])
    shapes = stack_shapes(stack, in_shape)
    features = math.prod(shapes[-1])
    if features > MAX_FEATURES:
        h, w, c = shapes[-1]
        raise TrainingError(
            f"the last stage holds {h}×{w}×{c} = {features:,} values, more than the "
            f"{MAX_FEATURES:,} a Dense head takes; end the stack with a MaxPool2D or AvgPool2D, "
            "or use larger strides or fewer filters.", field="layers", layer=len(stack) - 1)
    weights = _check_weights(stack, [in_shape, *shapes[:-1]], in_weights)
    if eight_bit is None:
        eight_bit = bool(x.max() > 1.0)
    divisor = 255.0 if input_scale == "unit" and eight_bit else 1.0

    rng = np.random.default_rng(seed)
    val = split_validation(y, float(validation_fraction), rng)
    if val.size == 0:
        raise _fail(f"validation_fraction={validation_fraction} of {len(y)} images leaves none "
                    "for validation; use a larger fraction or more images per class.",
                    "validation_fraction")
    train = np.setdiff1d(np.arange(len(y)), val)
    orders = np.stack([rng.permutation(train.size) for _ in range(epochs)])
    from ._tf import keras

    model = _build_model(stack, in_shape, seed, weights, divisor, classes)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    n_batches = math.ceil(train.size / batch_size)
    offset = 1 if divisor != 1 else 0
    progress = _progress(model, stack, offset, (x[val], y[val]), n_batches,
                         on_batch, on_epoch, should_stop)
    model.fit(_batches(x[train], y[train], orders, batch_size), epochs=epochs,
              steps_per_epoch=n_batches, shuffle=False, callbacks=[progress], verbose=0)
    head = [np.array(w) for w in model.get_layer("head").get_weights()]
    return TrainResult(_stack_weights(model, stack, offset), head, progress.history,
                       progress.stopped, input_scale, classes, val, model,
                       time.perf_counter() - start)


def _batches(x, y, orders, batch_size):
    """A tf.data stream of every epoch's batches, in the precomputed seeded orders."""
    from ._tf import tf

    x, y = tf.constant(x), tf.constant(y)
    order = tf.data.Dataset.from_tensor_slices(orders.astype(np.int32)).flat_map(
        lambda o: tf.data.Dataset.from_tensor_slices(o).batch(batch_size))
    return order.map(lambda i: (tf.gather(x, i), tf.gather(y, i)))


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


_SCRIPT = """\
\"""Train a layer stack from layerwidget's explorer, as its Train button does.\"""
import keras
import numpy as np

import layerwidget
from layerwidget.weights import layer_weights  # the explorer's seeded starting kernels

SEED = {seed}
images, labels = layerwidget.sample_digits()
x = images[:{n}].astype("float32")[..., None]  # (N, 28, 28, 1), pixels 0–255
y = labels[:{n}].astype("int64")
# Full MNIST instead: (x, y), _ = layerwidget.load_mnist(); x = x.astype("float32")[..., None]

# Hold out {fraction:.0%} of each class for validation, never trained on.
rng = np.random.default_rng(SEED)
held = []
for label in np.unique(y):
    members = rng.permutation(np.flatnonzero(y == label))
    held.append(members[: min(int(np.floor({fraction!r} * len(members) + 0.5)), len(members) - 1)])
val = np.sort(np.concatenate(held))
train = np.setdiff1d(np.arange(len(y)), val)

model = keras.Sequential([
    keras.Input((28, 28, 1)),
{layers}
    keras.layers.Flatten(),
    keras.layers.Dense(int(y.max()) + 1, activation="softmax", name="head",
                       kernel_initializer=keras.initializers.GlorotUniform(seed=SEED)),
])
{starts}
model.compile(optimizer=keras.optimizers.Adam({learning_rate!r}),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary()

# Each epoch's batch order comes from the same seeded generator, so this run is the widget's.
orders = [rng.permutation(len(train)) for _ in range({epochs})]
for epoch, order in enumerate(orders):
    batch = train[order]
    model.fit(x[batch], y[batch], batch_size={batch_size}, shuffle=False, verbose=2)
    scores = model.evaluate(x[val], y[val], verbose=0, return_dict=True)
    print(f"epoch {{epoch}}: validation accuracy {{scores['accuracy']:.4f}}")
"""


def training_code(stack, *, seed: int, epochs: int = 3, batch_size: int = 32,
                  validation_fraction: float = 0.2, learning_rate: float = 1e-3,
                  pixel_scale: str = "unit", n_images: int = 1000) -> str:
    """A runnable Python script that trains ``stack`` as :func:`train_stack` does.

    It takes the first ``n_images`` embedded digits (``layerwidget.sample_digits()``) and uses
    the same model, starting weights, split, batch order and settings, so it reproduces the Train
    button's run on those digits. Kernels edited in the widget are not carried over.
    """
    stack, seed, epochs, batch_size = _check_settings(stack, seed, epochs, batch_size,
                                                      validation_fraction, learning_rate)
    n_images = _check_int("n_images", n_images, MIN_IMAGES, 1000, " (the embedded digits)")
    layers = ["    keras.layers.Rescaling(1 / 255),  # train on 0–1 pixels"] \
        if check_pixel_scale(pixel_scale) == "unit" else []
    starts = []
    for spec, in_shape in zip(stack, [(28, 28, 1), *stack_shapes(stack, (28, 28, 1))],
                              strict=False):
        args = "".join(f", {k}={v!r}" for k, v in keras_kwargs(spec).items())
        layers.append(f"    keras.layers.{spec['type']}(name={keras_name(spec)!r}{args}),")
        if LAYER_TYPES[spec["type"]].weight_fields:
            starts.append(f"model.get_layer({keras_name(spec)!r}).set_weights(layer_weights(\n"
                          f"    {spec!r},\n    seed=SEED, in_channels={in_shape[-1]}))")
    return _SCRIPT.format(seed=seed, n=n_images, fraction=float(validation_fraction),
                          layers="\n".join(layers), starts="\n".join(starts),
                          learning_rate=float(learning_rate), epochs=epochs,
                          batch_size=batch_size)
