"""LayerExplorer: wires the panel, the core and the heatmaps together; nothing else.

Data flows one way: the panel (or Python) edits a trait, the trait's validator checks it with the
core, the core runs the stack, the views draw the result, and the panel receives the status.
A value the panel sends that the core refuses becomes ``error``; the last good maps stay.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import math
import numbers
import sys
import time
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

from .data import PIXEL_SCALES, as_image_set
from .errors import ImageError, LayerSpecError, LayerWidgetError
from ._widgets import close_tree
from .heatmaps import MAX_SHOWN_CHANNELS, StageView, stage_title
from .layers import DEFAULT_STACK, normalize_stack, schema, stack_shapes, to_code
from .panel import ControlPanel
from .pipeline import Pipeline, Run

__all__ = ["LayerExplorer"]


def _kernel_loop():
    """The running event loop of an IPython kernel, or None (plain Python, tests, scripts)."""
    if "ipykernel" not in sys.modules:
        return None
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None

log = logging.getLogger(__name__)

# Traits the panel edits; each is validated here and mirrored to the panel.
_EDITABLE = ("layers", "image_index", "seed", "pixel_scale", "channel_page")
_MAX_SEED = 2**32 - 1


def _whole_number(name: str, value: Any, lo: int, hi: int, fix: str,
                  error: type[Exception] = ValueError) -> int:
    """``value`` as an int in [lo, hi], or ``error`` naming the field, the value and the fix."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise error(f"{name}={value!r} is not a whole number; {fix}")
    if not lo <= int(value) <= hi:
        raise error(f"{name}={value} is out of range; {fix}")
    return int(value)


class _Checked(traitlets.TraitType):
    """A trait whose every value, None included, goes through the owner's @validate method.

    traitlets.Any always allows None, and traitlets skips validators for None on traits that
    allow it; here the explorer's validators alone decide, with messages meant for students.
    """

    allow_none = False
    info_text = "a value the explorer's validator accepts"

    def validate(self, obj, value):
        return value


class LayerExplorer(traitlets.HasTraits):
    """See what a stack of tf.keras layers does to an image, live.

    Parameters
    ----------
    images : array-like, optional
        (N, H, W), (N, H, W, C), (H, W) or (H, W, C) pixels, uint8 or float. Default: the 1,000
        MNIST test digits embedded in the package.
    labels : array-like, optional
        One label per image (default: the MNIST labels when ``images`` is None).
    layers : list of dict, optional
        The layer stack (default: Conv2D 3 filters, ReLU, MaxPool2D 2×2 stride 2).
    seed : int, default 0
        Seed of the layers' weights.
    pixel_scale : {'raw', 'unit'}, default 'raw'
        'raw' feeds 8-bit pixels as 0–255, 'unit' as 0–1.
    image_index : int, default 0
        Which image to feed.

    Examples
    --------
    >>> ex = LayerExplorer()
    >>> ex.layers = [{"type": "Conv2D", "filters": 5, "padding": "same"}, {"type": "ReLU"}]
    >>> ex.outputs[0].shape
    (1, 28, 28, 5)
    """

    layers = _Checked(None, help="list[dict]: the layer stack, normalized; default 3 layers.")
    image_index = _Checked(0, help="int: index of the input image; default 0.")
    seed = _Checked(0, help="int: seed of the layers' weights; default 0.")
    pixel_scale = _Checked("raw", help="str: 'raw' (0–255) or 'unit' (0–1); default 'raw'.")
    channel_page = _Checked(0, help="int: block of 64 channels shown per stage; default 0.")
    error = traitlets.Unicode("", read_only=True,
                              help="str: '' when fine, else why the last panel edit was refused.")

    def __init__(self, images=None, labels=None, layers=None, seed=0, *, pixel_scale="raw",
                 image_index=0, **kwargs):
        if kwargs:
            known = ["images", "labels", "layers", "seed", "pixel_scale", "image_index"]
            bad = next(iter(kwargs))
            close = difflib.get_close_matches(bad, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise TypeError(f"LayerExplorer() got an unknown argument {bad!r}; it takes "
                            f"{', '.join(known)}.{hint}")
        self._images = as_image_set(images, labels)
        self._pipeline = Pipeline()
        self._run: Run | None = None
        self._pushing = False
        self._updating = False
        super().__init__()
        # Validate every argument before anything runs, so a bad one leaves nothing half-built.
        with self.hold_trait_notifications():
            self.image_index = image_index
            self.seed = seed
            self.pixel_scale = pixel_scale
            self.layers = [dict(s) for s in DEFAULT_STACK] if layers is None else layers
        self.panel = ControlPanel(schema=schema(), n_images=len(self._images))
        self._views: list[StageView] = []
        self._grid = widgets.Box(layout=widgets.Layout(
            display="flex", flex_flow="row wrap", align_items="flex-start"))
        self.widget = widgets.HBox([self.panel, self._grid],
                                   layout=widgets.Layout(align_items="flex-start"))
        self.widget.add_class("layerwidget")
        self.panel.observe(self._from_panel, names=list(_EDITABLE))
        self.observe(self._on_change, names=list(_EDITABLE))
        loop = _kernel_loop()
        if loop is None or "layerwidget._tf" in sys.modules:
            self._update()
        else:
            # Importing TensorFlow takes seconds. In a notebook, let the cell finish so the
            # panel appears at once and says what is happening; the first run follows on the
            # kernel's event loop. Reading any result before then runs it on the spot.
            self.panel.busy = ("Loading TensorFlow… the first explorer in a kernel takes a few "
                               "seconds.")
            loop.call_soon(self._first_run)

    def _first_run(self) -> None:
        if self._run is None:
            self._update()
        self.panel.busy = ""

    def _results(self) -> Run:
        if self._run is None:
            self._first_run()
        if self._run is None:
            raise RuntimeError(f"the layer stack could not run: {self.error}")
        return self._run

    # ---- validation: one place for each trait, used by Python and the panel alike ----

    @traitlets.validate("layers")
    def _check_layers(self, proposal):
        stack = normalize_stack(proposal["value"])
        stack_shapes(stack, self._images.shape)
        return stack

    @traitlets.validate("image_index")
    def _check_image_index(self, proposal):
        n = len(self._images)
        return _whole_number("image_index", proposal["value"], 0, n - 1,
                             f"the explorer holds {n:,} images, so use 0 to {n - 1}.", ImageError)

    @traitlets.validate("seed")
    def _check_seed(self, proposal):
        return _whole_number("seed", proposal["value"], 0, _MAX_SEED,
                             f"use a whole number from 0 to {_MAX_SEED}.")

    @traitlets.validate("pixel_scale")
    def _check_pixel_scale(self, proposal):
        value = proposal["value"]
        if value not in PIXEL_SCALES:
            raise ValueError(f"pixel_scale={value!r} is not allowed; use 'raw' (pixels 0–255 as "
                             "stored) or 'unit' (divided by 255 to 0–1).")
        return value

    @traitlets.validate("channel_page")
    def _check_channel_page(self, proposal):
        pages = self._channel_pages()
        return _whole_number("channel_page", proposal["value"], 0, pages - 1,
                             f"the widest stage has {pages} page(s) of {MAX_SHOWN_CHANNELS} "
                             f"channels, so use 0 to {pages - 1}.")

    def _channel_pages(self, run: Run | None = None) -> int:
        run = run or self._run
        if run is None:
            return 1
        widest = max(s.shape[-1] for s in run.stats)
        return max(1, math.ceil(widest / MAX_SHOWN_CHANNELS))

    # ---- reading results ----

    @property
    def input(self) -> np.ndarray:
        """np.ndarray (1, H, W, C) float32: exactly what the first layer receives."""
        return self._results().input

    @property
    def outputs(self) -> list[np.ndarray]:
        """list of np.ndarray: what each tf.keras layer returned, in stack order."""
        return list(self._results().outputs)

    @property
    def keras_layers(self) -> list:
        """list: the tf.keras layer objects that produced :attr:`outputs`."""
        return list(self._results().layers)

    @property
    def stats(self) -> list:
        """list of StageStats: name, shape, min and max of the input and each layer's output."""
        return list(self._results().stats)

    @property
    def label(self):
        """The label of the current image, or None when the images have no labels."""
        return self._images.label(self.image_index)

    @property
    def n_images(self) -> int:
        """int: how many images the explorer holds."""
        return len(self._images)

    @property
    def figures(self) -> list:
        """list of bqplot.Figure: the input first, then one per layer."""
        self._results()
        return [v.figure for v in self._views]

    @property
    def code(self) -> str:
        """str: tf.keras source that builds the current stack."""
        return to_code(self.layers)

    def displayed(self, i: int) -> np.ndarray:
        """(h, w, c) values whose picture the bqplot mark of stage ``i`` holds (0 = the input).

        Checked against the fingerprint inside the mark's PNG, so it proves what the browser is
        asked to draw: the channels of the current ``channel_page``, every pixel (or every
        ``draw_steps[i]``-th pixel for a stage too large to send whole; ``outputs`` stay exact).
        """
        self._results()
        return self._views[i].displayed()

    @property
    def draw_steps(self) -> list[int]:
        """list of int: per stage, 1 when every pixel is drawn, n when every n-th is."""
        self._results()
        return [v.step for v in self._views]

    # ---- updating ----

    def _on_change(self, change) -> None:
        if not self._updating:  # an update may clamp channel_page itself
            self._update()

    def _from_panel(self, change) -> None:
        """An edit from the browser: apply it, or show why not and keep the last good maps."""
        if self._pushing:
            return
        try:
            setattr(self, change["name"], change["new"])
        except (LayerWidgetError, ValueError, TypeError, traitlets.TraitError) as exc:
            self._refuse(exc)
            return
        if self.error:  # the edit went back to a good value the maps already show
            self._set_error(None)
            self._push_to_panel()

    def _refuse(self, exc: Exception) -> None:
        log.debug("refused edit: %s", exc)
        self._set_error(exc)

    def _set_error(self, exc: Exception | None) -> None:
        if exc is None:
            info = {}
        elif isinstance(exc, LayerWidgetError):
            info = exc.to_dict()
        else:
            info = {"message": str(exc), "kind": type(exc).__name__}
        self.set_trait("error", info.get("message", ""))
        self.panel.error = info

    def _push_to_panel(self, **extra) -> None:
        """Mirror the accepted values (and ``extra`` status traits) to the panel in one message."""
        self._pushing = True
        try:
            with self.panel.hold_sync():
                for name in _EDITABLE:
                    value = getattr(self, name)
                    if getattr(self.panel, name) != value:
                        setattr(self.panel, name, value)
                for name, value in extra.items():
                    setattr(self.panel, name, value)
        finally:
            self._pushing = False

    def _update(self) -> None:
        """Run the stack and redraw; on failure keep the last good maps and show the error."""
        self._updating = True
        try:
            self._update_now()
        finally:
            self._updating = False

    def _update_now(self) -> None:
        start = time.perf_counter()
        x = self._images.input(self.image_index, self.pixel_scale)
        try:
            run = self._pipeline.run(self.layers, x, seed=self.seed)
        except LayerSpecError as exc:
            self._set_error(exc)
            return
        except Exception as exc:  # a TensorFlow failure must reach the panel, not only a log
            log.exception("running the layer stack failed")
            self._set_error(RuntimeError(f"TensorFlow failed to run the stack: {exc}"))
            return
        self._run = run
        pages = self._channel_pages(run)
        if self.channel_page >= pages:
            self.set_trait("channel_page", pages - 1)
        self._draw(run)
        self._set_error(None)
        elapsed = (time.perf_counter() - start) * 1000
        self._push_to_panel(
            stages=[s.to_dict() for s in run.stats], n_channel_pages=pages,
            label=None if self.label is None else str(self.label), code=self.code,
            elapsed_ms=round(elapsed, 1), update_id=self.panel.update_id + 1,
        )

    def _draw(self, run: Run) -> None:
        arrays = [run.input, *run.outputs]
        while len(self._views) < len(arrays):
            self._views.append(StageView())
        for view in self._views[len(arrays):]:
            view.close()
        del self._views[len(arrays):]
        first = self.channel_page * MAX_SHOWN_CHANNELS
        for i, (view, array, stats) in enumerate(zip(self._views, arrays, run.stats)):
            name = "input" if i == 0 else f"{i}. {stats.name}"
            extra = f" · label {self.label}" if i == 0 and self.label is not None else ""
            title = stage_title(name, stats.shape, stats.min, stats.max, extra)
            view.show(array[0], title, first_channel=first if i else 0,
                      diverging=False if i == 0 else None)
        figures = tuple(self.figures)
        if self._grid.children != figures:
            self._grid.children = figures

    def to_html(self, path, vary=None, **kwargs):
        """Write this view as one self-contained HTML page (``layerwidget.export.export_html``)."""
        from .export import export_html  # lazily: `python -m layerwidget.export` must not warn

        return export_html(path, vary=vary, image_set=self._images, layers=self.layers,
                           seed=self.seed, image_index=self.image_index,
                           pixel_scale=self.pixel_scale, **kwargs)

    # ---- display and lifetime ----

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        """Close every widget and release the Keras layers and results; the explorer is done."""
        self.panel.unobserve(self._from_panel, names=list(_EDITABLE))
        close_tree(self.widget, self.panel, self._grid, *(v.figure for v in self._views))
        self._views.clear()
        self._pipeline.clear()
        self._run = None  # the results hold the Keras layers

    def __repr__(self) -> str:
        stack = " → ".join(s["type"] for s in self.layers)
        return f"<LayerExplorer {stack} on image {self.image_index} of {len(self._images)}>"
