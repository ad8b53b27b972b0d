"""Weights of the explorer's layers, and the tf.keras layers that carry them.

Kernels are Glorot-uniform, like Keras's default initializer, drawn from NumPy's PCG64 stream so
they are identical on every machine; biases are zero. Each layer's stream is seeded from the
explorer's ``seed``, the layer's ``id`` and what shapes its kernel (type, input channels, filters
or depth multiplier, kernel size) and nothing else: strides, padding and activation edits compare
like with like, and removing, adding or moving another layer leaves this one's kernels alone.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from .layers import LAYER_TYPES

__all__ = [
    "KernelEdits",
    "build_layer",
    "fitting_edits",
    "keras_kwargs",
    "keras_name",
    "layer_weights",
    "weight_seed",
]


def weight_seed(seed: int, spec: dict, in_channels: int) -> int:
    """Seed of one layer's weights: ``seed``, the layer's id, and what shapes its kernel."""
    ltype = LAYER_TYPES[spec["type"]]
    key = [seed, spec["id"], spec["type"], in_channels] + [spec[f] for f in ltype.weight_fields]
    digest = hashlib.sha256(repr(key).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def layer_weights(spec: dict, *, seed: int, in_channels: int) -> list[np.ndarray] | None:
    """``[kernel, bias]`` of a Conv2D or DepthwiseConv2D spec, None for layers without weights."""
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
    rng = np.random.default_rng(weight_seed(seed, spec, in_channels))
    kernel = rng.uniform(-limit, limit, size=shape).astype(np.float32)
    return [kernel, np.zeros(bias, dtype=np.float32)]


def keras_kwargs(spec: dict) -> dict:
    """The keyword arguments of the tf.keras layer class for a normalized spec."""
    kwargs = {k: v for k, v in spec.items() if k not in ("type", "id")}
    if kwargs.get("activation") == "linear":
        kwargs["activation"] = None
    return kwargs


def keras_name(spec: dict) -> str:
    """The Keras layer name: its type and id, e.g. ``conv2d_1``."""
    return f"{spec['type'].lower()}_{spec['id']}"


def build_layer(spec: dict, *, seed: int, in_shape: tuple[int, int, int],
                weights: list[np.ndarray] | None = None):
    """A built tf.keras layer for a normalized spec, with its weights set.

    ``weights`` replaces the seeded ones (e.g. edited or trained kernels); it must have the
    layer's shapes.
    """
    from ._tf import keras

    cls = getattr(keras.layers, spec["type"])
    layer = cls(**keras_kwargs(spec), name=keras_name(spec))
    layer.build((1, *in_shape))
    if weights is None:
        weights = layer_weights(spec, seed=seed, in_channels=in_shape[-1])
    if weights is not None:
        layer.set_weights(weights)
    return layer


class KernelEdits:
    """Kernels a student set by hand or from presets, by layer id, over the seeded ones.

    An edit belongs to its layer: it survives edits of strides, padding and activation, and is
    dropped, with a message saying so, when the layer's kernel no longer has its shape (another
    kernel_size, number of filters or of input channels).
    """

    def __init__(self):
        self._edits: dict[int, tuple[int, list[np.ndarray], list[str]]] = {}
        self._version = 0

    def __bool__(self) -> bool:
        return bool(self._edits)

    def set(self, layer_id: int, kernel: np.ndarray, bias: np.ndarray, labels: list[str]) -> None:
        """Use ``kernel`` and ``bias`` for layer ``layer_id``; ``labels`` name each filter's
        kernel for the panel ('sobel x', 'edited', 'random')."""
        self._version += 1
        self._edits[layer_id] = (self._version,
                                 [np.array(kernel, np.float32), np.array(bias, np.float32)],
                                 list(labels))

    def reset(self, layer_id: int) -> None:
        """Back to the seeded weights."""
        self._edits.pop(layer_id, None)

    def get(self, layer_id: int):
        """(version, [kernel, bias], labels) of an edited layer, or None."""
        return self._edits.get(layer_id)

    def labels(self, layer_id: int) -> list[str] | None:
        edit = self._edits.get(layer_id)
        return None if edit is None else list(edit[2])

    def for_stack(self, stack: list[dict], in_channels: list[int]
                  ) -> tuple[dict[int, tuple[int, list[np.ndarray]]], list[str]]:
        """The edits that fit ``stack`` ({id: (version, weights)}), and a message for each one
        dropped because its layer's kernel changed shape (those are forgotten)."""
        edits = {i: (version, weights) for i, (version, weights, _) in self._edits.items()}
        used, dropped, gone = fitting_edits(stack, in_channels, edits)
        for layer_id in gone:
            del self._edits[layer_id]
        return used, dropped

    def weights(self) -> dict[int, list[np.ndarray]]:
        """{layer id: [kernel, bias]} of every edit (as ``export_html`` takes them)."""
        return {i: weights for i, (_, weights, _) in self._edits.items()}


def fitting_edits(stack: list[dict], in_channels: list[int], edits: dict
                  ) -> tuple[dict, list[str], list[int]]:
    """Which of ``edits`` ({layer id: value with value[-1] = [kernel, bias]}) fit ``stack``.

    Returns the fitting ones (same form), a message per edit whose layer's kernel changed
    shape, and the ids of those layers.
    """
    used, dropped, gone = {}, [], []
    for index, (spec, channels) in enumerate(zip(stack, in_channels, strict=True)):
        edit = edits.get(spec["id"])
        if edit is None:
            continue
        weights = edit[-1]
        seeded = layer_weights(spec, seed=0, in_channels=channels)
        if seeded is None or seeded[0].shape != np.shape(weights[0]):
            have = "×".join(str(v) for v in np.shape(weights[0]))
            need = "no kernel" if seeded is None else "×".join(
                str(v) for v in seeded[0].shape) + " ones"
            dropped.append(
                f"{spec['type']} (layer {index + 1}): its edited {have} kernels no longer "
                f"fit (it now needs {need}), so it is back to its seeded random weights.")
            gone.append(spec["id"])
            continue
        used[spec["id"]] = edit
    return used, dropped, gone
