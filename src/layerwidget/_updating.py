"""How an explorer updates: an edit arrives, the core runs, the views draw, the panel hears.

A mixin of :class:`~layerwidget.explorer.LayerExplorer`. Everything an update changes in the
browser leaves as one message (:mod:`layerwidget._transport`); a refused edit becomes the
panel's error and the last good maps stay.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from typing import Any

import numpy as np
import traitlets

from . import options
from ._model_mode import as_map
from .captions import number, shape_text, stage_name
from .errors import LayerWidgetError
from .options import EDITABLE
from .pipeline import Run
from .views.grid import WRAP

__all__ = ["UpdatingMixin", "kernel_loop", "same"]

log = logging.getLogger(__name__)

NAMES = tuple(e.name for e in EDITABLE)


def kernel_loop():
    """The running event loop of an IPython kernel, or None (plain Python, tests, scripts)."""
    if "ipykernel" not in sys.modules:
        return None
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def same(a: Any, b: Any) -> bool:
    """Equal as JSON spells them: 3 and 3.0 differ, as do True and 1."""
    def spell(v):
        return json.dumps(v, sort_keys=True, default=repr)

    return spell(a) == spell(b)




class UpdatingMixin:
    """Edits in, pictures out."""

    def _on_change(self, change) -> None:
        if not self._updating:  # an update may clamp channel_page itself
            self._update()

    def _from_panel(self, change) -> None:
        """An edit from the browser: apply it, or show why not and keep the last good maps."""
        name, value = change["name"], change["new"]
        if same(value, getattr(self, name)) and not self.error:
            return  # the panel took a value from us, or was edited back to it: nothing to do
        try:
            setattr(self, name, value)
        except (LayerWidgetError, ValueError, TypeError, traitlets.TraitError) as exc:
            log.debug("refused edit: %s", exc)
            self._set_error(exc)
            return
        if self.error:  # the edit went back to a good value the maps already show
            self._set_error(None)
            self._push_to_panel()

    def _set_error(self, exc: Exception | None) -> None:
        if exc is None:
            info = {}
        elif isinstance(exc, LayerWidgetError):
            info = exc.to_dict()
        else:
            info = {"message": str(exc), "kind": type(exc).__name__, "layer": None,
                    "field": None}
        self.set_trait("error", info.get("message", ""))
        self.panel.error = info

    def _push_to_panel(self, **extra) -> None:
        """Send the accepted values (and ``extra`` status traits) to the panel in one message."""
        with self.panel.hold_sync():
            for name in NAMES:
                value = getattr(self, name)
                if not same(getattr(self.panel, name), value):
                    setattr(self.panel, name, value)
            for name, value in extra.items():
                setattr(self.panel, name, value)

    def _update(self) -> None:
        """Run the stack and redraw; on failure keep the last good maps and show the error.

        Everything the update changes in the browser leaves as one message (see _transport).
        """
        self._updating = True
        try:
            with self.panel.batch.collect():
                self._update_now()
        finally:
            self._updating = False

    def _update_now(self) -> None:
        start = time.perf_counter()
        x = self._images.input(self.image_index, self.pixel_scale)
        notices = []
        try:
            if self._plan is not None:
                run = self._runner.run(x)
                shapes = [tuple(as_map(a).shape[1:]) for a in (run.input, *run.outputs)]
            else:
                if (self._trained_stack is not None and self.layers != self._trained_stack
                        and not (self._session and self._session.running)):
                    notices.append(self._reset_trained(note=True))
                shapes = self._stage_shapes()
                edits, dropped = self._kernel_edits.for_stack(self.layers,
                                                              [s[-1] for s in shapes[:-1]])
                notices += dropped
                run = self._pipeline.run(self.layers, x, seed=self.seed, edits=edits)
        except LayerWidgetError as exc:
            self._set_error(exc)
            return
        except Exception as exc:  # a TensorFlow failure must reach the panel, not only a log
            log.exception("running the layer stack failed")
            self._set_error(RuntimeError(f"TensorFlow failed to run the stack: {exc}"))
            return
        self._run = run
        widest = self._widest(run)
        pages = options.channel_page_count(widest)
        if self.channel_page >= pages:
            self.set_trait("channel_page", pages - 1)
        notices += self._keep_focus_valid(shapes)
        self._draw(run)
        try:
            focus_info = self._focus_views(run)
        except Exception as exc:  # the maps are drawn; say why the focus view could not be
            log.exception("drawing the focus view failed")
            focus_info, notices = None, [*notices, f"The focus view could not be drawn: {exc}"]
        self._set_error(None)
        elapsed = (time.perf_counter() - start) * 1000
        self._push_to_panel(
            focus_info=focus_info, kernels=self._kernel_summary(),
            notice=" ".join(notices) if notices else (self.panel.notice if self._keep_notice
                                                       else ""),
            stages=[{"name": stage_name(i, s.name), "shape": list(s.shape),
                     "min": s.min if np.isfinite(s.min) else None,
                     "max": s.max if np.isfinite(s.max) else None,
                     "shape_text": shape_text(s.shape),
                     "range_text": f"min {number(s.min)} max {number(s.max)}"}
                    for i, s in enumerate(run.stats)],
            channel_pages=options.channel_page_labels(widest),
            label=None if self.label is None else str(self.label), code=self.code,
            elapsed_ms=round(elapsed, 1), update_id=self.panel.update_id + 1,
        )
        self._snapshot.schedule(kernel_loop())

    def _draw(self, run: Run) -> None:
        names = [s.name for s in run.stats]
        if self._plan is not None:  # a model's stages: its layer names, types, and notes
            names = ["input", *(f"{st.name} · {st.type}"
                                + (" · unchanged at inference" if st.passthrough_at_inference
                                   else "") for st in self._plan.stages)]
        self._stages.draw([as_map(a) for a in (run.input, *run.outputs)], names,
                          page=self.channel_page, label=self.label,
                          input_channels=self.input_channels, histograms=self.histograms,
                          shapes=[s.shape for s in run.stats])
        prediction = self._prediction_of(run)
        if prediction is not None:
            self._prediction.show(prediction, self.label)
        else:
            self._prediction.hide()

    def _draw_placeholders(self) -> None:
        """Before the first run: every stage's figure at its size, the input drawn, the other
        stages blank and titled as waiting (no TensorFlow needed)."""
        if self._run is not None or self._plan is not None or self._closed:
            return
        try:
            shapes = self._stage_shapes()
            x = self._images.input(self.image_index, self.pixel_scale)
        except LayerWidgetError:
            return  # the first run will say what is wrong
        arrays = [x, *(np.zeros((1, *shape), np.float32) for shape in shapes[1:])]
        with self.panel.batch.collect():
            self._stages.draw(arrays, ["input", *(spec["type"] for spec in self.layers)],
                              page=0, label=self.label, input_channels=self.input_channels,
                              shapes=[(1, *shape) for shape in shapes], waiting=True)

    def _keep_focus_valid(self, shapes) -> list[str]:
        """After a stack edit: a focus on a stage or channel that is gone is cleared, with a
        note; a unit outside a smaller map too."""
        notes = []
        if self.focus is not None:
            try:
                options.check_focus(self.focus, shapes)
            except LayerWidgetError:
                notes.append(f"Focus cleared: stage {self.focus[0]}, channel {self.focus[1]} "
                             "no longer exists after this edit.")
                self.set_trait("focus", None)
        if self.unit is not None:
            try:
                options.check_unit(self.unit, self.focus, shapes)
            except LayerWidgetError:
                self.set_trait("unit", None)
        return notes

    def _picked(self, stage: int, channel: int, row: int, col: int) -> None:
        """A map pixel clicked in a stage figure: focus its channel and explain that unit."""
        arrays = self._stage_arrays()
        if arrays[stage].shape[1] == 1 and row > 0:  # a vector drawn in rows of WRAP cells
            row, col = 0, row * WRAP + col
            if col >= arrays[stage].shape[2]:
                return
        with self.panel.batch.collect():
            try:
                with self.hold_trait_notifications():
                    self.focus = (stage, channel)
                    self.unit = (row, col)
            except (LayerWidgetError, traitlets.TraitError) as exc:
                self._set_error(exc)

    def _picked_unit(self, row: int, col: int) -> None:
        """A cell clicked in the focus view: explain that unit."""
        with self.panel.batch.collect():
            try:
                self.unit = (row, col)
            except (LayerWidgetError, traitlets.TraitError) as exc:
                self._set_error(exc)

    def _from_kernel_command(self, change) -> None:
        """A kernel edit from the panel (a preset, or one weight)."""
        if change["new"] is None:
            return
        try:
            self._apply_kernel_command(change["new"])
        except (LayerWidgetError, ValueError, TypeError) as exc:
            self._set_error(exc)

