"""Error types shared by the core and the widget, and the did-you-mean hint they use.

Every error a user can cause carries a message that names the field, the value, what is allowed
and how to fix it, so the panel can show it as it is, plus the ``field`` (and for layer fields
the ``layer``) to blame, so the panel marks that control from data, not from the message text.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "DatasetUnavailableError",
    "ImageError",
    "LayerSpecError",
    "LayerWidgetError",
    "OptionError",
    "did_you_mean",
]


def did_you_mean(word: object, options: Iterable[str], *, spell=repr) -> str:
    """`` Did you mean 'x'?`` for the option closest to ``word``, or ``""`` when none is close.

    ``spell`` turns the suggestion into text (default ``repr``: quoted as Python writes it).
    """
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1)
    return f" Did you mean {spell(close[0])}?" if close else ""


class LayerWidgetError(ValueError):
    """Base class: a value the explorer refuses, with a message meant for a student.

    Attributes
    ----------
    field : str or None
        Name of the offending field or option, when one is to blame.
    layer : int or None
        Position of the offending layer in the stack (0-based), for layer fields.
    """

    def __init__(self, message: str, *, field: str | None = None, layer: int | None = None):
        super().__init__(message)
        self.field = field
        self.layer = layer

    def to_dict(self) -> dict:
        """The error as the panel receives it."""
        return {"message": str(self), "kind": type(self).__name__, "layer": self.layer,
                "field": self.field}


class LayerSpecError(LayerWidgetError):
    """A layer of the stack is invalid, or the stack makes an impossible shape."""


class OptionError(LayerWidgetError):
    """An explorer option (seed, pixel scale, channel page, focus, …) is out of its range."""


class ImageError(LayerWidgetError):
    """The images, labels or image index given to the explorer are unusable."""


class DatasetUnavailableError(RuntimeError):
    """A dataset could not be loaded (typically no network); the message says what to use."""
