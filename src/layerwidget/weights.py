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

__all__ = ["build_layer", "keras_kwargs", "keras_name", "layer_weights", "weight_seed"]


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
