"""Reading a map: the focused channel, its kernel, one unit explained, and edited kernels.

A mixin of :class:`~layerwidget.explorer.LayerExplorer`, kept apart so each file has one job:
this one answers "why does this pixel have this value?" (the explorer wires panel, core and
views). Everything here reads the last good run; kernel edits go through the core's
:class:`~layerwidget.weights.KernelEdits` and then a normal update.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._model_mode import as_map
from .errors import OptionError
from .explain import explain_unit
from .pipeline import stage_histogram
from .presets import KERNEL_PRESETS, preset_kernel, preset_weights
from .receptive import receptive_fields
from .shapes import stack_shapes
from .weights import layer_weights

__all__ = ["ReadingMixin"]

RANDOM = "random (seeded)"
"""The panel's name for going back to the seeded Glorot weights."""


class ReadingMixin:
    """Focus, kernels, receptive fields, histograms: the explorer's reading of one value."""

    # ---- Python API ----

    def kernel(self, i: int) -> np.ndarray:
        """np.ndarray (kh, kw, c_in, filters) float32: the kernel layer ``i`` (0-based index
        into ``layers``) ran with (for DepthwiseConv2D the last axis is depth_multiplier)."""
        return self._weights_of(i)[0].copy()

    def bias(self, i: int) -> np.ndarray:
        """np.ndarray float32: the bias layer ``i`` (0-based index into ``layers``) ran with."""
        return self._weights_of(i)[1].copy()

    def set_kernel(self, i: int, value, bias=None) -> None:
        """Set layer ``i``'s kernel (0-based index into ``layers``); the maps update.

        Parameters
        ----------
        value : str, list or np.ndarray
            A preset name of ``layerwidget.KERNEL_PRESETS`` for every filter and input channel;
            a list with one preset name or (kh, kw) array per filter; a whole (kh, kw, c_in,
            filters) array; or ``"random"`` / None for the layer's seeded weights again.
        bias : array-like, optional
            (filters,) bias; default: keep the current one (zeros for seeded weights).

        The edit belongs to the layer: it survives edits of strides, padding and activation,
        appears in ``code`` and in ``to_html`` pages, and is dropped (with a message) when the
        layer's kernel changes shape.
        """
        self._refuse_in_model_mode("weights")
        self._refuse_while_training("the kernels")
        spec, channels = self._weighted(i)
        if value is None or (isinstance(value, str) and value in ("random", RANDOM)):
            self._kernel_edits.reset(spec["id"])
            self._update()
            return
        seeded = layer_weights(spec, seed=self.seed, in_channels=channels)
        shape = seeded[0].shape
        kernel, labels = self._kernel_from(value, shape)
        new_bias = (self._weights_of(i)[1] if bias is None
                    else self._bias_from(bias, seeded[1].size))
        self._kernel_edits.set(spec["id"], kernel, new_bias, labels)
        self._update()

    def receptive_field(self, stage: int, row: int, col: int):
        """((top, left), (bottom, right)): the input pixels unit (row, col) of ``stage``
        depends on, half-open, clipped to the input (stage 0 = input, i = output of layer i)."""
        chain = self._chain(stage) if isinstance(stage, numbers.Integral) and stage > 0 else []
        if chain is None:
            raise OptionError(f"stage {stage}: its receptive field cannot be worked out from "
                              "this model's layers (a merge, a vector, or a layer type the "
                              "arithmetic does not know on the way).", field="focus")
        return receptive_fields(chain, self._images.shape, stage, row, col)[0]

    def histogram(self, stage: int, bins: int = 40):
        """(counts, edges) of every value of ``stage``, as ``np.histogram`` gives them."""
        arrays = self._stage_arrays()
        if isinstance(stage, bool) or not isinstance(stage, numbers.Integral) or not (
                0 <= stage < len(arrays)):
            raise OptionError(f"stage={stage!r} does not exist; use 0 (the input) to "
                              f"{len(arrays) - 1}.", field="stage")
        if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or not (
                1 <= bins <= 10_000):
            raise OptionError(f"bins={bins!r} is not allowed; use a whole number from 1 to "
                              "10000.", field="bins")
        return stage_histogram(arrays[stage], int(bins))

    @property
    def explanation(self):
        """The arithmetic behind the focused unit (see ``layerwidget.explain``), or None (no
        unit, the input, or a model layer whose arithmetic is not a kind it explains)."""
        if self.focus is None or self.unit is None or self.focus[0] == 0:
            return None
        stage = self.focus[0]
        spec = self._model_spec(stage)
        if spec is None:
            return None
        run = self._results()
        arrays = self._stage_arrays()
        weights = run.layers[stage - 1].get_weights() or None
        if weights is not None and len(weights) == 1:  # a layer without bias
            weights = [weights[0], np.zeros(weights[0].shape[-1] if spec["type"] == "Conv2D"
                                            else arrays[stage].shape[-1], np.float32)]
        return explain_unit([spec], [arrays[stage - 1], arrays[stage]], [weights], 1,
                            *self.unit, channel=self.focus[1])

    # ---- helpers ----

    def _stage_arrays(self) -> list[np.ndarray]:
        """Every stage as (1, H, W, C), the input first (a model's vectors as one row)."""
        run = self._results()
        return [as_map(a) for a in (run.input, *run.outputs)]

    def _stage_shapes(self) -> list[tuple[int, int, int]]:
        if self._plan is not None:
            return [tuple(a.shape[1:]) for a in self._stage_arrays()]
        shape = self._images.shape
        return [shape, *stack_shapes(self.layers, shape)]

    def _weighted(self, i) -> tuple[dict, int]:
        """(spec, input channels) of layer ``i``, which must have a kernel."""
        if self._plan is not None:
            return self._model_weighted(i)
        n = len(self.layers)
        if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < n:
            raise OptionError(f"layer index {i!r} does not exist; use 0 to {n - 1} (0-based, as "
                              "in ex.layers).", field="kernel")
        spec = self.layers[i]
        if spec["type"] not in ("Conv2D", "DepthwiseConv2D"):
            having = [j for j, s in enumerate(self.layers)
                      if s["type"] in ("Conv2D", "DepthwiseConv2D")]
            where = f"layers {having} here" if having else "none in this stack"
            raise OptionError(f"layer {i} is {spec['type']}, which has no kernel; kernels belong "
                              f"to Conv2D and DepthwiseConv2D layers ({where}).", field="kernel",
                              layer=i)
        return spec, self._stage_shapes()[i][-1]

    def _model_weighted(self, i) -> tuple[dict, int]:
        n = len(self._plan.stages)
        if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < n:
            raise OptionError(f"layer index {i!r} does not exist; the model has stages 0 to "
                              f"{n - 1} (0-based).", field="kernel")
        spec = self._specs[i]
        if spec is None or spec["type"] not in ("Conv2D", "DepthwiseConv2D"):
            raise OptionError(f"stage {i} ({self._plan.stages[i].type}) has no kernel this "
                              "explorer reads; kernels belong to Conv2D and DepthwiseConv2D "
                              "layers.", field="kernel", layer=i)
        return spec, self._stage_shapes()[i][-1]

    def _weights_of(self, i) -> list[np.ndarray]:
        self._weighted(i)
        weights = self._results().layers[i].get_weights()
        if len(weights) == 1:  # no bias
            weights = [weights[0], np.zeros(weights[0].shape[-1], np.float32)]
        return weights

    @staticmethod
    def _kernel_from(value, shape) -> tuple[np.ndarray, list[str]]:
        filters = shape[-1]
        if isinstance(value, np.ndarray) and value.ndim == 4:
            kernel = np.asarray(value, dtype=np.float64)
            if kernel.shape != tuple(shape):
                raise OptionError(f"the kernel has shape {kernel.shape}; this layer needs "
                                  f"{tuple(shape)} (kh, kw, in_channels, filters).",
                                  field="kernel")
            if not np.isfinite(kernel).all():
                raise OptionError("the kernel holds NaN or infinite weights; give finite "
                                  "numbers.", field="kernel")
            return kernel.astype(np.float32), ["edited"] * filters
        kernel = preset_weights(value, shape)
        if isinstance(value, str):
            labels = [value] * filters
        else:
            labels = [v if isinstance(v, str) else "edited" for v in value]
        return kernel, labels

    @staticmethod
    def _bias_from(bias, size: int) -> np.ndarray:
        try:
            array = np.asarray(bias, dtype=np.float64)
        except (TypeError, ValueError):
            raise OptionError(f"bias {bias!r:.40} is not numbers; give {size} numbers.",
                              field="bias") from None
        if array.shape != (size,):
            raise OptionError(f"bias has shape {array.shape}; this layer needs ({size},).",
                              field="bias")
        if not np.isfinite(array).all():
            raise OptionError("bias holds NaN or infinite values; give finite numbers.",
                              field="bias")
        return array.astype(np.float32)

    def _apply_kernel_command(self, command: Any) -> None:
        """A kernel edit from the panel: a preset for one filter or all, or one weight."""
        self._refuse_in_model_mode("weights")
        self._refuse_while_training("the kernels")
        if not isinstance(command, dict) or "layer" not in command:
            raise OptionError("a kernel edit names a layer; nothing changed.", field="kernel")
        i = command["layer"]
        spec, channels = self._weighted(i)
        current = self._weights_of(i)
        kernel, bias = current[0].copy(), current[1]
        labels = self._kernel_edits.labels(spec["id"]) or ["random"] * kernel.shape[-1]
        f = command.get("filter")
        if f is not None and (isinstance(f, bool) or not isinstance(f, numbers.Integral)
                              or not 0 <= f < kernel.shape[-1]):
            raise OptionError(f"filter {f!r} does not exist; layer {i + 1} has filters 0 to "
                              f"{kernel.shape[-1] - 1}.", field="kernel", layer=i)
        filters = range(kernel.shape[-1]) if f is None else [f]
        if "value" in command:  # one weight
            value = command["value"]
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(
                    value):
                raise OptionError(f"weight {value!r} is not a finite number; type a number.",
                                  field="weight", layer=i)
            r, c, ch = command.get("row"), command.get("col"), command.get("in")
            try:
                kernel[r, c, ch, f] = np.float32(value)
            except (IndexError, TypeError):
                raise OptionError("that weight is not in this kernel; pick it again in the "
                                  "kernel view.", field="weight", layer=i) from None
            labels[f] = "edited"
        else:
            preset = command.get("preset")
            if preset in ("random", RANDOM):
                seeded = layer_weights(spec, seed=self.seed, in_channels=channels)[0]
                for g in filters:
                    kernel[:, :, :, g] = seeded[:, :, :, g]
                    labels[g] = "random"
            else:
                if preset not in KERNEL_PRESETS:
                    preset_kernel(preset, kernel.shape[0])  # raises with a did-you-mean
                two_d = preset_kernel(preset, kernel.shape[0])
                for g in filters:
                    kernel[:, :, :, g] = two_d[:, :, None]
                    labels[g] = preset
        if all(label == "random" for label in labels):
            self._kernel_edits.reset(spec["id"])
        else:
            self._kernel_edits.set(spec["id"], kernel, bias, labels)
        self._update()

    def _picked_weight(self, k: int, row: int, col: int) -> None:
        """A weight clicked in the kernel view: the panel offers to edit it."""
        if self.focus is None or self.focus[0] == 0:
            return
        stage, channel = self.focus
        if self.layers[stage - 1]["type"] != "Conv2D":
            return  # depthwise kernels are edited from presets only
        self._weight_pick = (stage - 1, channel, k, row, col)
        with self.panel.batch.collect():
            self._update()

    def _kernel_summary(self) -> list[dict | None]:
        """Per layer: None, or the labels of its filters' kernels for the panel."""
        if self._plan is not None:
            return []
        out = []
        for spec in self.layers:
            if spec["type"] not in ("Conv2D", "DepthwiseConv2D"):
                out.append(None)
                continue
            labels = self._kernel_edits.labels(spec["id"])
            out.append({"labels": labels, "edited": labels is not None})
        return out
