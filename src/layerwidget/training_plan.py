"""Everything about a training run that can be decided before TensorFlow is touched.

:func:`plan_training` checks the stack, images, labels and settings (refusing a bad request with
a message that names it and the fix) and makes every random choice of the run from
``np.random.default_rng(seed)``: the held-out validation images, each epoch's order and shifts.
:mod:`layerwidget.training` runs a plan.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import LayerWidgetError
from .layers import normalize_stack
from .options import check_pixel_scale, check_seed
from .shapes import stack_shapes
from .weights import layer_weights

__all__ = ["MAX_CLASSES", "MAX_FEATURES", "MAX_SHIFT", "MIN_IMAGES", "TrainingError",
           "TrainingPlan", "plan_training", "split_validation"]

MIN_IMAGES = 20
"""Fewest labelled images training takes."""
MAX_FEATURES = 2**20
"""Most values the last stage may hold for the Dense head (its kernel is features × classes)."""
MAX_CLASSES = 1000
"""Most classes the head may have (labels 0 to 999)."""
MAX_SHIFT = 4
"""Most pixels a training image may be shifted each way."""


class TrainingError(LayerWidgetError):
    """Training cannot start with these images, labels or settings."""


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
                    "at most 1, e.g. 0.01.", "learning_rate")
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


@dataclass(frozen=True)
class TrainingPlan:
    """A checked training run, not yet started: what :func:`plan_training` returns and
    :func:`run_plan` runs. Every random choice is already made, so running it is repeatable.
    """

    stack: list
    images: np.ndarray
    """(N, H, W, C) float32 pixels as given."""
    labels: np.ndarray
    seed: int
    weights: list
    """Per layer, the starting ``[kernel, bias]`` given, or None for the seeded ones."""
    n_classes: int
    divisor: float
    """What the model divides pixels by first: 255 for 8-bit pixels at 'unit' scale, else 1."""
    input_scale: str
    validation: np.ndarray
    train: np.ndarray
    orders: np.ndarray
    """(epochs, n_train): each epoch's order of the training images (positions in ``train``)."""
    moves: np.ndarray
    """(epochs, n_train, 2): each epoch's (down, right) shift of each image, in that order."""
    epochs: int
    batch_size: int
    learning_rate: float
    shift: int

    @property
    def n_batches(self) -> int:
        """Batches in one epoch."""
        return math.ceil(self.train.size / self.batch_size)


def plan_training(stack, images, labels, *, seed: int, in_weights=None, epochs: int = 3,
                  batch_size: int = 16, validation_fraction: float = 0.2,
                  learning_rate: float = 0.01, shift: int = 1, pixel_scale: str = "unit",
                  eight_bit: bool | None = None, n_classes: int | None = None
                  ) -> TrainingPlan:
    """Check every input of a training run and make its random choices, without TensorFlow.

    Takes the arguments of :func:`train_stack` but the callbacks, raises what it raises, and
    is quick (no model is built), so a caller can refuse bad input at once and train later,
    e.g. in a background thread.
    """
    stack, seed, epochs, batch_size = _check_settings(stack, seed, epochs, batch_size,
                                                      validation_fraction, learning_rate)
    shift = _check_int("shift", shift, 0, MAX_SHIFT, " (pixels; 0 turns the shifting off)")
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
    orders, moves = _epoch_plans(rng, train.size, epochs, shift)
    return TrainingPlan(stack, x, y, seed, weights, classes, divisor, input_scale, val, train,
                        orders, moves, epochs, batch_size, float(learning_rate), shift)


def _epoch_plans(rng, n: int, epochs: int, shift: int):
    """Per epoch, the order of the ``n`` training images and each one's (down, right) move,
    drawn epoch by epoch so that a longer run begins as a shorter one does."""
    orders, moves = [], []
    for _ in range(epochs):
        orders.append(rng.permutation(n))
        moves.append(rng.integers(-shift, shift + 1, size=(n, 2)) if shift
                     else np.zeros((n, 2), np.int64))
    return np.stack(orders).astype(np.int32), np.stack(moves).astype(np.int32)
