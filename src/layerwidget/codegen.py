"""Python source for what the explorer shows, so a student can take it elsewhere.

:func:`to_code` is the bare ``keras.Sequential`` of a stack. :func:`to_script` is a complete,
runnable script: imports, the input image, ``keras.Input``, the layers, their weights (seeded,
through ``layerwidget.weights.layer_weights``, or edited, written out as numbers) and a loop
printing every stage, so that running it reproduces the explorer's outputs exactly.
"""

from __future__ import annotations

import numpy as np

from .layers import LAYER_TYPES
from .shapes import stack_shapes
from .weights import keras_kwargs, keras_name

__all__ = ["array_literal", "to_code", "to_script"]


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
