"""Training curves: loss and validation accuracy per epoch, growing while the model trains.

One bqplot Figure, two y scales: loss on the left (training and validation, from 0), validation
accuracy on the right (0–100 %), so a reader sees the loss fall and the accuracy rise on one
time line. x is the epoch: a value at x = 3 is the value at the end of epoch 3; while an epoch
runs, the training loss so far (Keras's running mean over the epoch) is drawn at its fractional
position, e.g. 2.5 halfway through epoch 3.

The key is an HTML line under the figure (bqplot's legend is drawn inside the plot and covers
the curves). Like the prediction view, the figure and its key sit in ``box`` only while there
is something to draw, and the figure's state is set before it joins the box (bqplot reads a
figure's title when its view first renders and misses changes arriving during that render; a
figure in a box of no size logs errors).
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np

from .._widgets import BuiltOnFirstShow
from ._lazy import bq

__all__ = ["TrainingView"]

_LOSS = "#1f77b4"
_VAL_LOSS = "#ff7f0e"
_VAL_ACCURACY = "#2ca02c"
_KEY = ("<span style='font-size: 12px'>"
        f"<b style='color: {_LOSS}'>━●━</b> training loss &nbsp; "
        f"<b style='color: {_VAL_LOSS}'>╍■╍</b> validation loss &nbsp; "
        f"<b style='color: {_VAL_ACCURACY}'>━▲━</b> validation accuracy</span>")


def _points(pairs) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) arrays of the pairs whose y is a finite number."""
    kept = [(x, y) for x, y in pairs if y is not None and math.isfinite(y)]
    if not kept:
        return np.zeros(0), np.zeros(0)
    xs, ys = zip(*kept, strict=True)
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)


class TrainingView(BuiltOnFirstShow):
    """A bqplot Figure with the loss and validation-accuracy curves of a run, updated in place.

    Attributes
    ----------
    loss, val_loss, val_accuracy : bqplot.Lines
        Training loss and validation loss (left scale) and validation accuracy (right scale).
    figure : bqplot.Figure
        Its title names the last validation accuracy.
    key : ipywidgets.HTML
        Which line is which (fixed text), under the figure.
    box : ipywidgets.VBox
        Holds the figure and its key while a run has something to draw; empty otherwise.

    The figure and its key are made when a run first has something to draw.
    """

    def __init__(self, batch=None):
        super().__init__(batch)
        self.box = widgets.VBox([])
        self.box.add_class("layerwidget-training-box")

    def _build(self) -> None:
        self._x = bq.LinearScale(min=0.0, max=1.0)
        self._y_loss = bq.LinearScale(min=0.0, max=1.0)
        self._y_accuracy = bq.LinearScale(min=0.0, max=1.0)
        loss_scales = {"x": self._x, "y": self._y_loss}
        self.loss = bq.Lines(x=np.zeros(0), y=np.zeros(0), scales=loss_scales, colors=[_LOSS],
                             labels=["training loss"], marker="circle", marker_size=16,
                             stroke_width=2)
        self.val_loss = bq.Lines(x=np.zeros(0), y=np.zeros(0), scales=loss_scales,
                                 colors=[_VAL_LOSS], labels=["validation loss"],
                                 line_style="dashed", marker="square", marker_size=16,
                                 stroke_width=2)
        self.val_accuracy = bq.Lines(x=np.zeros(0), y=np.zeros(0),
                                     scales={"x": self._x, "y": self._y_accuracy},
                                     colors=[_VAL_ACCURACY], labels=["validation accuracy"],
                                     marker="triangle-up", marker_size=20, stroke_width=2)
        text = "var(--jp-ui-font-color1, #222)"
        self._axes = [
            bq.Axis(scale=self._x, label="epoch", tick_format="d", grid_lines="none",
                    tick_values=np.arange(2), label_color=text),
            bq.Axis(scale=self._y_loss, side="left", label="loss", tick_format=".3~g",
                    tick_values=np.arange(2), grid_lines="none", label_color=text),
            bq.Axis(scale=self._y_accuracy, side="right", label="validation accuracy",
                    tick_format=".0%", tick_values=np.linspace(0, 1, 5), grid_lines="none",
                    label_offset="40px", label_color=text),
        ]
        self.figure = bq.Figure(
            marks=[self.loss, self.val_loss, self.val_accuracy], axes=self._axes,
            animation_duration=0, padding_x=0.0, padding_y=0.0,
            fig_margin={"top": 30, "bottom": 40, "left": 56, "right": 64},
            title_style={"font-size": "13px", "fill": "var(--jp-ui-font-color1, #222)"},
            background_style={"fill": "none"}, display_toolbar=False,
            layout=widgets.Layout(width="460px", height="240px"))
        self.figure.add_class("layerwidget-training")
        # The key sits under the plot, not in it: bqplot's legend box covers the curves.
        self.key = widgets.HTML(_KEY, layout=widgets.Layout(margin="0 0 0 40px"))
        self.key.add_class("layerwidget-training-key")
        self._content = (self.figure, self.key)

    def _parts(self) -> tuple:
        return (self.figure, self.key)

    def show(self, history: list[dict], partial: dict | None = None,
             epochs: int | None = None) -> None:
        """Draw a run's curves and put the figure in :attr:`box` (nothing to draw: hidden).

        Parameters
        ----------
        history : list of dict
            One dict per epoch, as :attr:`TrainResult.history` (``epoch`` from 0, ``loss``,
            ``val_loss``, ``val_accuracy`` (None when not measured), ``batches``).
        partial : dict, optional
            The epoch under way: ``epoch`` (from 1), ``batch`` (done), ``batches`` (per epoch)
            and ``loss`` (the running mean so far), e.g. from :meth:`TrainingSession.state`.
        epochs : int, optional
            Epochs planned: the x axis spans them from the start, so the curves grow into a
            fixed frame.
        """
        per_epoch = (partial or {}).get("batches") or max(
            (h.get("batches") or 0 for h in history), default=0) or 1
        # An epoch cut short by a stop ends where it stopped.
        ends = [h["epoch"] + min(1.0, (h.get("batches") or per_epoch) / per_epoch)
                for h in history]
        loss = list(zip(ends, (h.get("loss") for h in history), strict=True))
        running = None
        if partial and partial.get("batch") and partial.get("epoch", 0) > len(history):
            running = (partial["epoch"] - 1 + partial["batch"] / per_epoch, partial.get("loss"))
            loss.append(running)
        loss_x, loss_y = _points(loss)
        val_x, val_y = _points(zip(ends, (h.get("val_loss") for h in history), strict=True))
        acc_x, acc_y = _points(zip(ends, (h.get("val_accuracy") for h in history),
                                   strict=True))
        if not loss_x.size and not val_x.size:
            self.hide()
            return
        self._ensure()
        step = _tick_step(max([*loss_y, *val_y, 1e-6]) / 4)
        top = step * math.ceil(max([*loss_y, *val_y, 1e-6]) * 1.02 / step)
        right = max(float(epochs or 0), *loss_x, *val_x, 1.0)
        with self.figure.hold_sync():
            with self._x.hold_sync(), self._y_loss.hold_sync():
                self._x.min, self._x.max = 0.0, right
                self._y_loss.min, self._y_loss.max = 0.0, top
            # Whole epochs only: at most ~10 ticks, never one at a fractional epoch.
            every = max(1, math.ceil(right / 10))
            self._axes[0].tick_values = np.arange(0, math.floor(right) + 1, every)
            self._axes[1].tick_values = np.arange(0, top + step / 2, step)
            for mark, x, y in ((self.loss, loss_x, loss_y), (self.val_loss, val_x, val_y),
                               (self.val_accuracy, acc_x, acc_y)):
                with mark.hold_sync():
                    mark.x, mark.y = x, y
            self.figure.title = _title(history, running, partial, epochs)
        if self.box.children != self._content:
            self.box.children = self._content

    def show_state(self, state: dict) -> None:
        """Draw what a :meth:`TrainingSession.state` snapshot holds."""
        logs = state.get("logs") or {}
        partial = {"epoch": state.get("epoch", 0), "batch": state.get("batch", 0),
                   "batches": state.get("batches", 0), "loss": logs.get("loss")}
        self.show(state.get("history") or [], partial, state.get("epochs") or None)


def _tick_step(rough: float) -> float:
    """The round step (1, 2, 2.5 or 5 times a power of ten) nearest above ``rough``."""
    power = 10.0 ** math.floor(math.log10(rough))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= rough * 0.999)


def _title(history: list[dict], running, partial: dict | None, epochs: int | None) -> str:
    """The last validation accuracy and when it was measured (the panel shows the progress)."""
    scored = [h for h in history if h.get("val_accuracy") is not None]
    of = f" of {epochs}" if epochs else ""
    if scored:
        last = scored[-1]
        return f"validation accuracy {last['val_accuracy']:.1%} after epoch {last['epoch'] + 1}{of}"
    if running is not None:
        return f"no validation yet: epoch {partial['epoch']}{of} under way"
    return "no validation yet"
