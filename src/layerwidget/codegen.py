"""Python source for a layer stack, so a student can take what they built elsewhere."""

from __future__ import annotations

from .weights import keras_kwargs

__all__ = ["to_code"]


def to_code(stack: list[dict]) -> str:
    """Python source that builds the same stack with tf.keras (weights aside)."""
    lines = ["keras.Sequential(["]
    for spec in stack:
        args = ", ".join(f"{k}={v!r}" for k, v in keras_kwargs(spec).items())
        lines.append(f"    keras.layers.{spec['type']}({args}),")
    lines.append("])")
    return "\n".join(lines)
