"""Drawing the focus area: the focused channel, its kernel, one unit's arithmetic and field.

A mixin of :class:`~layerwidget.explorer.LayerExplorer`, run at the end of every update; the
reading itself (kernels, explanations, receptive fields) is in :mod:`layerwidget._reading` and
the core modules it calls.
"""

from __future__ import annotations

import numpy as np

from .captions import stage_name
from .explain import ConvExplanation, MaxPoolExplanation
from .receptive import receptive_fields

__all__ = ["FocusMixin"]


class FocusMixin:
    """What the focus area shows after each update."""

    def _focus_views(self, run) -> dict | None:
        """Draw the focus area for the current focus and unit; return what the panel shows."""
        area = self._focus_area
        for view in self._stages.views:
            view.show_field(None)
        if self.focus is None:
            area.hide()
            return None
        stage, channel = self.focus
        arrays = self._stage_arrays()
        values = arrays[stage][0, :, :, channel]
        stats = run.stats[stage]
        lo, hi = float(np.nanmin(arrays[stage])), float(np.nanmax(arrays[stage]))
        diverging = stage > 0 and lo < 0 < hi
        name = stage_name(stage, stats.name)
        title = f"{name} · channel {channel} · point: value, click: explain"
        area.show_map(values, title, lo=lo, hi=hi, diverging=diverging, unit=self.unit)
        info: dict = {"stage": stage, "channel": channel, "unit": self.unit, "text": "",
                      "kernel_layer": None}
        spec = self._model_spec(stage) if stage else None
        if spec is not None and spec["type"] in ("Conv2D", "DepthwiseConv2D"):
            kernel, bias = self._weights_of(stage - 1)
            info["kernel_layer"] = stage - 1
            if spec["type"] == "Conv2D":
                f, ins = channel, range(kernel.shape[2])
                slices = [(f"filter {f} · input {c} · bias {bias[f]:.2f}" if c == 0
                           else f"filter {f} · input {c}", kernel[:, :, c, f]) for c in ins]
            else:
                m = spec["depth_multiplier"]
                c, f = divmod(channel, m)
                slices = [(f"input {c} · multiplier {f} · bias {bias[channel]:.2f}",
                           kernel[:, :, c, f])]
            more = len(slices) - 4
            if more > 0:
                slices[3] = (slices[3][0] + f" · +{more} more inputs", slices[3][1])
            picked = self._weight_pick if self._plan is None else None
            if picked is not None and picked[:2] == (stage - 1, channel):
                _, _, k, r, c = picked
                ins = [c_in for c_in in range(kernel.shape[2])]
                if spec["type"] == "Conv2D" and k < len(ins) and r < kernel.shape[0]:
                    info["weight"] = {"layer": stage - 1, "filter": channel, "in": k, "row": r,
                                      "col": c, "value": float(kernel[r, c, k, channel])}
                else:
                    picked = None
            area.show_kernel(slices, picked=None if picked is None else picked[2:])
        else:
            area.show_kernel([])
        self._show_unit(run, info)
        return info

    def _show_unit(self, run, info: dict) -> None:
        area = self._focus_area
        stage, channel = self.focus
        if self.unit is None:
            area.show_arithmetic([])
            return
        row, col = self.unit
        chain = self._chain(stage)
        if chain is not None:
            fields = receptive_fields(chain, self._images.shape, stage, row, col)
            for j, view in enumerate(self._stages.views[: stage + 1]):
                view.show_field(fields[j], channel if j == stage else None)
            info["field"] = [list(fields[0][0]), list(fields[0][1])]
        if stage == 0:
            value = float(run.input[0, row, col, channel])
            info["text"] = f"input pixel ({row}, {col}) = {value:.2f}"
            area.show_arithmetic([])
            return
        explained = self.explanation
        if explained is None:
            value = float(self._stage_arrays()[stage][0, row, col, channel])
            info["text"] = (f"value {value:.4g}; a {run.stats[stage].name} stage's arithmetic "
                            "is not one the explorer spells out")
            area.show_arithmetic([])
            return
        info["text"] = explained.text()
        if isinstance(explained, ConvExplanation):
            c = 0
            suffix = f" (input {c} of {explained.patch.shape[2]})" \
                if explained.patch.shape[2] > 1 else ""
            area.show_arithmetic([
                (f"input patch{suffix}", explained.patch[:, :, c], False),
                ("× kernel", explained.kernel[:, :, c], True),
                (f"= products (Σ + bias = {explained.pre_activation:.4g})",
                 explained.products[:, :, c], True),
            ])
        elif isinstance(explained, MaxPoolExplanation) or hasattr(explained, "window"):
            area.show_arithmetic([(explained.text(), explained.window, False)])
        else:
            area.show_arithmetic([])
