"""Every text the explorer shows about a stage, written once.

The live figures, the panel's stage list and the HTML export all show these strings; the browser
only displays them, so a caption reads the same everywhere.
"""

from __future__ import annotations

import math

__all__ = [
    "COLOUR_KEY",
    "WAITING_NOTE",
    "histogram_title",
    "legend_ticks",
    "number",
    "ordinal",
    "picture_notes",
    "shape_text",
    "stage_caption",
    "stage_heading",
    "stage_name",
    "stage_title",
]


def number(value: float) -> str:
    """A value rounded for reading: two decimals, ``inf``/``nan`` spelled out."""
    if value is None:
        return "–"
    if not math.isfinite(value):
        return str(value)
    return f"{value:.2f}"


def shape_text(shape) -> str:
    """A shape as Keras prints it: ``(1, 28, 28, 3)``."""
    return "(" + ", ".join(str(v) for v in shape) + ")"


def stage_name(index: int, layer_name: str) -> str:
    """``input`` for stage 0, else ``2. ReLU``: layers counted from 1 as the panel shows them."""
    return "input" if index == 0 else f"{index}. {layer_name}"


def stage_title(name: str, shape, lo: float, hi: float, extra: str = "") -> str:
    """Title of a stage: name, Keras shape, min and max rounded for reading."""
    return f"{name} {shape_text(shape)}{extra}  min {number(lo)}  max {number(hi)}"


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, …, 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


COLOUR_KEY = ("Colours: grey pictures run from white (low) to black (high); maps with both signs "
              "run from red (negative) through white (0) to blue (positive). Each stage has "
              "one scale for all its channels; its caption gives its min and max.")
"""How to read a picture without its colour legend (the saved-notebook snapshot)."""


def picture_notes(channels: tuple[int, int], total_channels: int, step: int) -> list[str]:
    """What a reader must know about a picture: which channels it shows (array indices, from
    0 as in ``outputs[i][..., c]``), pixel stepping."""
    notes = []
    first, end = channels
    if end - first < total_channels:
        notes.append(f"channels {first}–{end - 1} of {total_channels}")
    if step > 1:
        notes.append(f"every {ordinal(step)} pixel drawn")
    return notes


WAITING_NOTE = "waiting for TensorFlow"
"""Added to a layer stage's title while TensorFlow loads (its figure is drawn blank)."""


def stage_heading(index: int, layer_name: str, shape, *, label=None) -> str:
    """The start of a stage figure's title: name, Keras shape, the input's label.

    Min and max are on the figure's colour legend, so the title stays short enough to show whole.
    """
    extra = f" · label {label}" if index == 0 and label is not None else ""
    return f"{stage_name(index, layer_name)} {shape_text(shape)}{extra}"


def stage_caption(index: int, layer_name: str, shape, lo: float, hi: float, *, label=None,
                  notes: list[str] | tuple[str, ...] = ()) -> str:
    """The full caption of stage ``index``, as the live figure and the export both title it."""
    extra = f" · label {label}" if index == 0 and label is not None else ""
    title = stage_title(stage_name(index, layer_name), shape, lo, hi, extra)
    return title + "".join(f"  ·  {note}" for note in notes)


def histogram_title(index: int, layer_name: str, values) -> str:
    """A histogram's title: whose values, and how many are exactly 0 (ReLU's spike)."""
    total = int(values.size)
    zeros = int((values == 0).sum())
    share = f" ({100 * zeros / total:.0f} %)" if total else ""
    return f"{stage_name(index, layer_name)}: {zeros:,} of {total:,} values are 0{share}"


def legend_ticks(lo: float, hi: float, diverging: bool) -> list[tuple[str, float]]:
    """Tick labels of a stage's colour legend and where they sit along it (0 to 1).

    A diverging scale puts 0 in its middle (each sign gets half the colours), as the live
    figures' ColorAxis does.
    """
    if diverging:
        return [(number(lo), 0.0), (number(0.0), 0.5), (number(hi), 1.0)]
    return [(number(lo), 0.0), (number(hi), 1.0)]
