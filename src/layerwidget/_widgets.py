"""Walking and closing a widget and everything it owns.

``Widget.close()`` closes one comm only: a bqplot Figure leaves its marks, scales, axes,
default scales and Layout alive, and a Box leaves its Layout. Walking the synced traits finds
every widget a widget refers to, so nothing stays registered after an explorer is closed.
"""

from __future__ import annotations

from collections.abc import Iterator

import ipywidgets as widgets

__all__ = ["close_tree", "walk"]


def _children(value):
    if isinstance(value, widgets.Widget):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _children(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _children(item)


def walk(*roots: widgets.Widget) -> Iterator[widgets.Widget]:
    """``roots`` and every widget reachable through their synced traits, each once."""
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        w = stack.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        yield w
        for name in w.keys:
            stack.extend(_children(getattr(w, name, None)))


def close_tree(*roots: widgets.Widget) -> None:
    """Close ``roots`` and every widget reachable through their synced traits."""
    for w in list(walk(*roots)):
        w.close()
