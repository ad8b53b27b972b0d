"""Python source for what the explorer shows, so a student can take it elsewhere.

:func:`to_code` is the bare ``keras.Sequential`` of a stack. :func:`to_script` is a complete,
runnable script: imports, the input image, ``keras.Input``, the layers, their weights (seeded,
through ``layerwidget.weights.layer_weights``, or edited, written out as numbers) and a loop
printing every stage, so that running it reproduces the explorer's outputs exactly.
:func:`training_code` is the Train button's run as a script.
"""

from __future__ import annotations

import numpy as np

from .layers import LAYER_TYPES
from .options import check_pixel_scale
from .shapes import stack_shapes
from .training_plan import MAX_SHIFT, MIN_IMAGES, _check_int, _check_settings
from .weights import keras_kwargs, keras_name

__all__ = ["array_literal", "to_code", "to_script", "training_code"]


def _layer_line(spec: dict, indent: str = "    ") -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in keras_kwargs(spec).items())
    return f"{indent}keras.layers.{spec['type']}({args}, name={keras_name(spec)!r}),"


def to_code(stack: list[dict]) -> str:
    """Python source that builds the same stack with tf.keras (weights aside)."""
    lines = ["keras.Sequential(["]
    for spec in stack:
        args = ", ".join(f"{k}={v!r}" for k, v in keras_kwargs(spec).items())
        lines.append(f"    keras.layers.{spec['type']}({args}),")
    lines.append("])")
    return "\n".join(lines)


def array_literal(array: np.ndarray) -> str:
    """Source for a float32 array with exactly these values (each written so it reads back
    to the same float32)."""
    flat = ", ".join(repr(float(v)) for v in np.asarray(array, np.float32).ravel())
    shape = tuple(int(v) for v in np.shape(array))
    return f'np.array([{flat}], dtype="float32").reshape({shape})'


def to_script(stack: list[dict], input_shape: tuple[int, int, int], *, seed: int,
              edits: dict[int, list[np.ndarray]] | None = None, image: str | None = None
              ) -> str:
    """A runnable script that rebuilds ``stack`` with its weights and runs it on an image.

    Parameters
    ----------
    stack : list of dict
        The normalized stack (with ids).
    input_shape : (H, W, C)
        Shape of one input image.
    seed : int
        The explorer's seed (for the seeded weights).
    edits : dict, optional
        Layer id -> [kernel, bias] for layers whose weights were edited.
    image : str, optional
        Python source of an expression giving the input as (1, H, W, C) float32; default: a
        comment asking for one, and zeros so the script runs.
    """
    edits = edits or {}
    h, w, c = input_shape
    in_channels = [c, *(s[-1] for s in stack_shapes(stack, input_shape)[:-1])]
    lines = [
        '"""The layer stack of a layerwidget explorer, with its weights, run on one image."""',
        "import keras",
        "import numpy as np",
        "",
        "import layerwidget",
        "from layerwidget.weights import layer_weights  # the explorer's seeded weights",
        "",
    ]
    if image is None:
        lines += [f"x = np.zeros((1, {h}, {w}, {c}), dtype=\"float32\")  "
                  "# put your image here, shape (1, H, W, C), float32"]
    else:
        lines += [f"x = {image}"]
    lines += ["", "model = keras.Sequential([", f"    keras.Input(shape=({h}, {w}, {c})),"]
    lines += [_layer_line(spec) for spec in stack]
    lines += ["])"]
    for spec, channels in zip(stack, in_channels, strict=True):
        if not LAYER_TYPES[spec["type"]].weight_fields:
            continue
        name = keras_name(spec)
        if spec["id"] in edits:
            kernel, bias = edits[spec["id"]]
            lines += [f"model.get_layer({name!r}).set_weights([  # edited in the explorer",
                      f"    {array_literal(kernel)},", f"    {array_literal(bias)},", "])"]
        else:
            lines += [f"model.get_layer({name!r}).set_weights(layer_weights(",
                      f"    {spec!r}, seed={seed}, in_channels={channels}))"]
    lines += [
        "",
        "stages = keras.Model(model.inputs[0], [layer.output for layer in model.layers])(x)",
        "for layer, y in zip(model.layers, stages):",
        "    y = np.asarray(y)",
        '    print(f"{layer.name:16} {y.shape}  min {y.min():.2f}  max {y.max():.2f}")',
    ]
    return "\n".join(lines) + "\n"


_SCRIPT = """\
\"""Train a layer stack from layerwidget's explorer, as its Train button does.\"""
import math

import keras
import numpy as np

import layerwidget
from layerwidget.weights import layer_weights  # the explorer's seeded starting kernels

SEED, EPOCHS, BATCH, SHIFT = {seed}, {epochs}, {batch_size}, {shift}
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


def shifted(batch, moves):
    \"""Each image moved moves[i] = (down, right) pixels; blank pixels come in at the edges.\"""
    n, h, w, _ = batch.shape
    framed = np.pad(batch, ((0, 0), (SHIFT, SHIFT), (SHIFT, SHIFT), (0, 0)))
    rows = SHIFT - moves[:, :1] + np.arange(h)
    cols = SHIFT - moves[:, 1:] + np.arange(w)
    return framed[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


model = keras.Sequential([
    keras.Input((28, 28, 1)),
{layers}
    keras.layers.Flatten(),
    keras.layers.Dense(int(y.max()) + 1, activation="softmax", name="head",
                       kernel_initializer=keras.initializers.GlorotUniform(seed=SEED)),
])
{starts}
# Adam, its learning rate falling from {learning_rate!r} to 0 along a half cosine over the run.
steps = EPOCHS * math.ceil(len(train) / BATCH)
rate = keras.optimizers.schedules.CosineDecay({learning_rate!r}, decay_steps=steps)
model.compile(optimizer=keras.optimizers.Adam(rate),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary()

# Each epoch: a new seeded order and, to see more varied digits, each image shifted by up to
# SHIFT pixels each way (never the validation images): the widget's run, step by step.
for epoch in range(EPOCHS):
    batch = train[rng.permutation(len(train))]
    xs = x[batch]
    if SHIFT:
        xs = shifted(xs, rng.integers(-SHIFT, SHIFT + 1, size=(len(batch), 2)))
    model.fit(xs, y[batch], batch_size=BATCH, shuffle=False, verbose=2)
    scores = model.evaluate(x[val], y[val], verbose=0, return_dict=True)
    print(f"epoch {{epoch}}: validation accuracy {{scores['accuracy']:.4f}}")
"""


def training_code(stack, *, seed: int, epochs: int = 3, batch_size: int = 16,
                  validation_fraction: float = 0.2, learning_rate: float = 0.01, shift: int = 1,
                  pixel_scale: str = "unit", n_images: int = 1000) -> str:
    """A runnable Python script that trains ``stack`` as :func:`train_stack` does.

    It takes the first ``n_images`` embedded digits (``layerwidget.sample_digits()``) and uses
    the same model, starting weights, split, batch order, shifts and settings, so it reproduces
    the Train button's run on those digits. Kernels edited in the widget are not carried over.
    """
    stack, seed, epochs, batch_size = _check_settings(stack, seed, epochs, batch_size,
                                                      validation_fraction, learning_rate)
    shift = _check_int("shift", shift, 0, MAX_SHIFT, " (pixels; 0 turns the shifting off)")
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
                          batch_size=batch_size, shift=shift)
