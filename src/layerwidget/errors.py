"""Error types shared by the core and the widget.

Every error a user can cause carries a message that names the field, the value, what is allowed
and how to fix it, so the panel can show it as it is.
"""

from __future__ import annotations


class LayerWidgetError(ValueError):
    """Base class: a value the explorer refuses, with a message meant for a student."""

    def to_dict(self) -> dict:
        """The error as the panel receives it."""
        return {"message": str(self), "kind": type(self).__name__}


class LayerSpecError(LayerWidgetError):
    """A layer of the stack is invalid, or the stack makes an impossible shape.

    Attributes
    ----------
    layer : int or None
        Position of the offending layer in the stack (0-based), when one is to blame.
    field : str or None
        Name of the offending field, when one is to blame.
    """

    def __init__(self, message: str, *, layer: int | None = None, field: str | None = None):
        super().__init__(message)
        self.layer = layer
        self.field = field

    def to_dict(self) -> dict:
        return {**super().to_dict(), "layer": self.layer, "field": self.field}


class ImageError(LayerWidgetError):
    """The images, labels or image index given to the explorer are unusable."""


class DatasetUnavailableError(RuntimeError):
    """A dataset could not be loaded (typically no network); the message says what to use."""
