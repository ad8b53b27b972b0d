"""The focus view's small figures keep their width while their title still fits: a new width
makes bqplot lay the figure out again in the page, and a title's numbers change on most edits."""

import numpy as np

from layerwidget.views.focus import GridView


def width(view):
    return int(view.figure.layout.width.removesuffix("px"))


def show(view, title):
    view.show(np.arange(9.0).reshape(3, 3), title, lo=0.0, hi=8.0, diverging=False, cell_px=14)


def test_a_title_a_few_characters_shorter_or_longer_keeps_the_width_a_long_one_widens_it():
    view = GridView()
    short, longer = "filter 0 · input 0 · bias 0.00", "filter 0 · input 0 · bias -0.0123"
    show(view, short)
    first = width(view)
    # The title always fits: the figure is at least as wide as the title's estimated text.
    assert first >= len(short) * 7.0 - 8
    show(view, longer)  # must widen to fit, and leaves a few characters spare when it does
    grown = width(view)
    assert grown >= len(longer) * 7.0 - 8 + 4 * 7.0 and grown > first
    for title in (short, "filter 0 · input 0 · bias 0.12", longer, short):
        show(view, title)  # every edit's title fits the grown width: no new layout
        assert width(view) == grown, title
    show(view, "f 0")  # far shorter than the slack allows: the figure shrinks
    assert width(view) < first
