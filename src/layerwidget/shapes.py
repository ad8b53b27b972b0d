"""Shape arithmetic of a layer stack, as Keras computes it (no TensorFlow needed).

Output sizes follow Dumoulin & Visin's arithmetic with Keras's conventions: ``valid`` keeps only
whole windows, ``same`` pads so that the output has ceil(size / stride) positions.
"""

from __future__ import annotations

from .errors import LayerSpecError
from .layers import MAX_STAGE_VALUES, where

__all__ = ["output_shape", "stack_shapes", "window"]


def window(spec: dict) -> tuple[int, int, str]:
    """(window, stride, field name of the window) of a convolution or pooling spec."""
    if "pool_size" in spec:
        stride = spec["strides"] if spec["strides"] is not None else spec["pool_size"]
        return spec["pool_size"], stride, "pool_size"
    return spec["kernel_size"], spec["strides"], "kernel_size"


def output_shape(spec: dict, shape: tuple[int, int, int], index: int | None = None
                 ) -> tuple[int, int, int]:
    """Output (H, W, C) of a normalized spec for an (H, W, C) input, as Keras computes it.

    Raises LayerSpecError when the window does not fit with padding='valid'.
    """
    h, w, c = shape
    kind = spec["type"]
    if kind == "ReLU":
        return shape
    size, stride, wname = window(spec)
    if spec["padding"] == "same":
        oh, ow = -(-h // stride), -(-w // stride)
    else:
        if size > min(h, w):
            small = min(h, w)
            raise LayerSpecError(
                f"{where(index, kind)}.{wname}={size} is larger than its {h}×{w} input with "
                f"padding='valid'; use padding='same' or a {wname} of at most {small}.",
                layer=index, field=wname)
        oh, ow = (h - size) // stride + 1, (w - size) // stride + 1
    if kind == "Conv2D":
        c = spec["filters"]
    elif kind == "DepthwiseConv2D":
        c = c * spec["depth_multiplier"]
    return oh, ow, c


def stack_shapes(stack: list[dict], input_shape: tuple[int, int, int]
                 ) -> list[tuple[int, int, int]]:
    """(H, W, C) after each layer of a normalized stack; raises on an impossible or huge shape."""
    shapes = []
    shape = tuple(int(v) for v in input_shape)
    for i, spec in enumerate(stack):
        shape = output_shape(spec, shape, i)
        size = shape[0] * shape[1] * shape[2]
        if size > MAX_STAGE_VALUES:
            raise LayerSpecError(
                f"{where(i, spec['type'])} would output {shape[0]}×{shape[1]}×{shape[2]} = "
                f"{size:,} values, more than the {MAX_STAGE_VALUES:,} one stage may hold; use "
                "fewer filters, larger strides or a smaller image.", layer=i)
        shapes.append(shape)
    return shapes
