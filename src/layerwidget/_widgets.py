"""Walking and closing a widget and everything it owns.

``Widget.close()`` closes one comm only: a bqplot Figure leaves its marks, scales, axes,
default scales and Layout alive, and a Box leaves its Layout. Walking the synced traits finds
every widget a widget refers to, so nothing stays registered after an explorer is closed.
"""

from __future__ import annotations

from collections.abc import Iterator

import ipywidgets as widgets

from .png import data_url, png_from_data_url

__all__ = ["PICTURE_URL_MAX", "BuiltOnFirstShow", "close_tree", "picture_png", "set_picture",
           "set_spare_picture", "walk"]

# Pictures up to this many PNG bytes travel as data: URLs (format "url"). bqplot's Image mark
# shows a "url" picture by setting it as the href, where any other format costs a Blob, an
# object URL and its release, and a load through the browser's network stack: ~14 ms more
# from the update to the painted picture at 32 filters (benchmarks/README.md), for a third
# more bytes. Larger pictures (224×224 colour stages) stay binary, where a third more bytes
# would cost more on a slow link than the page saves.
PICTURE_URL_MAX = 64_000


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


class BuiltOnFirstShow:
    """A view whose widgets are made the first time it has something to show.

    An explorer holds views that most sessions never open (the focus area, a classifier's
    prediction, training curves): 114 of the 130 widgets it used to create before its first
    display. Every widget is a comm the browser must open before it can draw the output, so
    they delayed the panel's first appearance. Such a view keeps only its (empty) ``box`` in
    the layout until :meth:`_ensure` runs ``_build``; then its widgets join ``batch`` (the
    explorer's update batcher) like every other view's.
    """

    box: widgets.Box

    def __init__(self, batch=None):
        self._batch = batch
        self._built = False

    @property
    def built(self) -> bool:
        return self._built

    def _build(self) -> None:
        raise NotImplementedError

    def _parts(self) -> tuple:
        """The widgets made by ``_build`` (besides ``box``)."""
        raise NotImplementedError

    def _leading(self) -> tuple:
        """The figures among the parts whose changes lead each batch (``Batcher.lead``)."""
        return ()

    @property
    def widgets(self) -> tuple:
        return (self.box, *self._parts()) if self._built else (self.box,)

    def _ensure(self) -> None:
        if not self._built:
            self._build()
            self._built = True
            if self._batch is not None:
                self._batch.adopt(*self.widgets)
                self._batch.lead(*self._leading())

    def hide(self) -> None:
        if self.box.children:
            self.box.children = ()

    def close(self) -> None:
        close_tree(*self.widgets)


def set_picture(image: widgets.Image, png: bytes) -> None:
    """Put ``png`` in ``image`` (an ipywidgets Image a bqplot Image mark shows); see
    :data:`PICTURE_URL_MAX` for the form it takes."""
    small = len(png) <= PICTURE_URL_MAX
    with image.hold_sync():
        if image.format != ("url" if small else "png"):  # else sent again with every picture
            image.format = "url" if small else "png"
        image.value = data_url(png) if small else png


def set_spare_picture(mark, spare: list[widgets.Image], png: bytes) -> widgets.Image:
    """Put ``png`` in whichever of the two ``spare`` Image widgets the bqplot Image ``mark``
    does not show, and return it; switch ``mark.image`` to it afterwards.

    bqplot's Image view repaints when the mark's ``image`` changes, not when that widget's
    bytes do; two widgets taking turns need no new widget (a comm open) per picture, and the
    picture is sent before the switch, so the mark finds it ready.
    """
    new = spare[1] if mark.image is spare[0] else spare[0]
    set_picture(new, png)
    return new


def picture_png(image: widgets.Image) -> bytes:
    """The PNG :func:`set_picture` put in ``image``."""
    if image.format == "url":
        return png_from_data_url(image.value)
    return bytes(image.value)
