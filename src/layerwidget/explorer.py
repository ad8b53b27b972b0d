"""LayerExplorer: wires the panel, the core and the heatmaps together; nothing else.

Data flows one way: the panel (or Python) edits a field, the field's check in the core accepts or
refuses it, the core runs the stack, the views draw the result, and the panel receives the status.
A value the panel sends that the core refuses becomes ``error``; the last good maps stay.

Why ~400 lines: this is the one class users hold, so its public contract (traits, their
docs, the methods the README lists) lives here; the work behind each feature sits in the
mixins (``_updating.py``, ``_focus.py``, ``_reading.py`` and the other ``_*.py`` modules) and
in the core.
"""

from __future__ import annotations

import logging
import sys

import ipywidgets as widgets
import numpy as np
import traitlets

from . import _lifecycle, options
from ._focus import FocusMixin
from ._images_in import ImagesInMixin
from ._model_mode import ModelModeMixin
from ._reading import RANDOM, ReadingMixin
from ._training_mode import TrainingMixin
from ._updating import UpdatingMixin, kernel_loop, same
from ._widgets import close_tree
from .codegen import to_script
from .data import as_image_set
from .errors import did_you_mean
from .export import export_html
from .layers import DEFAULT_STACK, normalize_stack, schema
from .model_plan import ModelError
from .options import EDITABLE
from .panel import ControlPanel
from .pipeline import Pipeline, Run
from .presets import KERNEL_PRESETS
from .shapes import stack_shapes
from .views._lazy import import_figure_modules
from .views.focus import FocusArea
from .views.grid import StageGrid
from .views.prediction import PredictionView
from .views.snapshot import LOADING_NOTE, Snapshot, snapshot_html
from .views.training import TrainingView
from .weights import KernelEdits

__all__ = ["LayerExplorer"]

log = logging.getLogger(__name__)

_NAMES = tuple(e.name for e in EDITABLE)
_ARGUMENTS = ("images", "labels", "layers", "seed", "pixel_scale", "image_index",
              "input_channels", "model")
_LOADING = "Loading TensorFlow… the first explorer in a kernel takes a few seconds."


class _Checked(traitlets.TraitType):
    """A trait whose every value, None included, goes through the owner's @validate method.

    traitlets.Any always allows None, and traitlets skips validators for None on traits that
    allow it; here the explorer's validators alone decide, with messages meant for students.
    """

    allow_none = False
    info_text = "a value the explorer's validator accepts"

    def validate(self, obj, value):
        return value


# The editable traits, one per field of the table in options.py.
_EditableTraits = type(
    "_EditableTraits", (traitlets.HasTraits,),
    {e.name: _Checked(e.default, help=e.doc) for e in EDITABLE},
)


class LayerExplorer(ImagesInMixin, TrainingMixin, UpdatingMixin, FocusMixin, ReadingMixin,
                    ModelModeMixin, _EditableTraits):
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
        'raw' feeds pixels as stored, 'unit' divides 8-bit pixels by 255.
    image_index : int, default 0
        Which image to feed.
    input_channels : bool, default False
        Show a colour input's channels in grey beside its colour picture.
    model : keras.Model, optional
        Look inside this built Keras model instead of an editable stack: every layer is a
        stage, the input stays editable, the model is never changed (with ``prediction`` for a
        classifier). Not together with ``layers``.

    Examples
    --------
    >>> ex = LayerExplorer()
    >>> ex.layers = [{"type": "Conv2D", "filters": 5, "padding": "same"}, {"type": "ReLU"}]
    >>> ex.outputs[0].shape
    (1, 28, 28, 5)
    """

    error = traitlets.Unicode("", read_only=True,
                              help="str: '' when fine, else why the last panel edit was refused.")

    def __init__(self, images=None, labels=None, layers=None, seed=0, *, pixel_scale="raw",
                 image_index=0, input_channels=False, model=None, **kwargs):
        if kwargs:
            bad = next(iter(kwargs))
            raise TypeError(f"LayerExplorer() got an unknown argument {bad!r}; it takes "
                            f"{', '.join(_ARGUMENTS)}.{did_you_mean(bad, _ARGUMENTS)}")
        if model is not None and layers is not None:
            raise TypeError("LayerExplorer() got both model= and layers=; a model brings its "
                            "own layers: pass model= to look inside a Keras model, or layers= "
                            "to build and edit a stack.")
        loop = kernel_loop()
        if "layerwidget._tf" in sys.modules:
            loop = None  # TensorFlow is loaded: run now
        # The note goes out before any widget: the page shows it long before the panel. The
        # figures' bqplot is imported next, so the first widgets do not hold the note's paint.
        noted = loop is not None and not LOADING_NOTE.shown
        if noted:
            LOADING_NOTE.show(_LOADING)
        try:
            if noted:
                import_figure_modules()
            self._make(images, labels, layers, seed, pixel_scale, image_index, input_channels,
                       model, loop)
        except BaseException:
            if noted:  # nothing is loading after all
                LOADING_NOTE.clear()
            raise

    def _make(self, images, labels, layers, seed, pixel_scale, image_index, input_channels,
              model, loop) -> None:
        self._images = as_image_set(images, labels)
        self._plan = None
        if model is not None:
            self._setup_model(model)  # checks it against the images; raises before anything
        self._pipeline = Pipeline()
        self._kernel_edits = KernelEdits()
        self._keep_notice = False
        self._weight_pick: tuple | None = None
        self._run: Run | None = None
        self._updating = False
        super().__init__()
        # Validate every argument before anything runs, so a bad one leaves nothing half-built.
        with self.hold_trait_notifications():
            self.image_index = image_index
            self.seed = seed
            self.pixel_scale = pixel_scale
            self.input_channels = input_channels
            if self._plan is not None:
                self._model_layers = [st.to_dict() for st in self._plan.stages]
                self.layers = self._model_layers
            else:
                self.layers = [dict(s) for s in DEFAULT_STACK] if layers is None else layers
        images = self._images
        self.panel = ControlPanel(
            # The panel opens on this explorer's values, so it shows them while TF loads.
            **{name: getattr(self, name) for name in _NAMES},
            schema=schema(), n_images=len(images), presets=[RANDOM, *KERNEL_PRESETS],
            model_info=self._model_panel_info(),
            option_schema=options.option_schema(len(images), images.eight_bit,
                                                images.value_range, images.colour))
        self._stages = StageGrid(self.panel.batch, self._picked)
        # These three make their figures when first shown (see BuiltOnFirstShow).
        self._focus_area = FocusArea(self._picked_unit, self._picked_weight, self.panel.batch)
        self._prediction = PredictionView(self.panel.batch)
        self._training_view = TrainingView(self.panel.batch)
        self.panel.batch.adopt(self._focus_area.box, self._prediction.box,
                               self._training_view.box)
        views = widgets.VBox([widgets.HBox([self._prediction.box, self._training_view.box]),
                              self._stages.box, self._focus_area.box])
        self.widget = widgets.HBox([self.panel, views],
                                   layout=widgets.Layout(align_items="flex-start"))
        self.widget.add_class("layerwidget")
        self.panel.batch.adopt(self.widget)
        self.panel.observe(self._from_panel, names=list(_NAMES))
        self.panel.observe(self._from_kernel_command, names="kernel_edit")
        self.panel.observe(self._from_drawing, names="drawing")
        self.panel.observe(self._from_upload, names="upload")
        self.panel.observe(self._from_train_command, names="train_command")
        self.panel.on_msg(self._from_custom_message)
        self.observe(self._on_change, names=list(_NAMES))
        self._snapshot = Snapshot(lambda: snapshot_html(
            self._stages.views, self._run.stats if self._run else [], self.label,
            loading=self.panel.busy if self._run is None else ""))
        self._closed = False
        self.cell_id = _lifecycle.register(self)
        """str | None: the notebook cell that made this explorer (its re-run releases it)."""
        if loop is None:
            self._update()
        else:
            # Importing TensorFlow takes seconds. In a notebook, let the cell finish so the
            # panel appears at once and says what is happening; the first run follows on the
            # kernel's event loop. Reading any result before then runs it on the spot.
            self.panel.busy = _LOADING
            loop.call_soon(self._before_first_run, loop)

    def _before_first_run(self, loop) -> None:
        # The page makes the stage figures (and loads bqplot) while the kernel imports
        # TensorFlow, instead of after it: about a second sooner to the first complete view.
        self._draw_placeholders()
        loop.call_soon(self._first_run)

    def _first_run(self) -> None:
        if self._run is None:
            # A panel edit refused while TensorFlow loaded is still the panel's draft; the
            # update pushes the accepted values over it, so give it back to the panel, which
            # refuses it again with its message, as it would any edit typed after the run.
            drafts = {name: getattr(self.panel, name) for name in _NAMES
                      if not same(getattr(self.panel, name), getattr(self, name))}
            self._update()
            with self.panel.hold_sync():
                for name, value in drafts.items():
                    setattr(self.panel, name, value)
        self.panel.busy = ""
        LOADING_NOTE.clear()  # an explorer that was never displayed: the loading is over

    def _results(self) -> Run:
        if self._run is None:
            self._first_run()
        if self._run is None:
            raise RuntimeError(f"the layer stack could not run: {self.error}")
        return self._run

    # ---- validation: every field checked by the core, for Python and the panel alike ----

    @traitlets.validate(*_NAMES)
    def _check(self, proposal):
        name, value = proposal["trait"].name, proposal["value"]
        if name in ("layers", "seed"):
            self._refuse_while_training("the stack and its seed")
        if name == "layers":
            if self._plan is not None:
                if value is self._model_layers:
                    return value
                self._refuse_in_model_mode("layers")
            stack = normalize_stack(value)
            stack_shapes(stack, self._images.shape)
            return stack
        if name == "image_index":
            return options.check_image_index(value, len(self._images))
        if name == "seed":
            return options.check_seed(value)
        if name == "pixel_scale":
            return options.check_pixel_scale(value, self._images.eight_bit)
        if name == "channel_page":
            return options.check_channel_page(value, self._widest())
        if name in ("input_channels", "histograms"):
            return options.check_flag(name, value)
        if name == "focus":
            return options.check_focus(value, self._stage_shapes())
        if name == "unit":
            focus = self.focus
            return options.check_unit(value, focus, self._stage_shapes())
        raise AssertionError(f"no check for {name}")  # pragma: no cover - table and checks agree

    def _widest(self, run: Run | None = None) -> int:
        """Channels of the widest stage of maps (a vector counts as one channel)."""
        run = run or self._run
        return 1 if run is None else max(s.shape[-1] if len(s.shape) == 4 else 1
                                         for s in run.stats)

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
        """list: the tf.keras layer objects that produced :attr:`outputs`.

        The explorer reuses built layers for later edits (a new seed may get an older layer
        object with new weights); keep ``layer.get_weights()`` to hold on to these weights."""
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
        return [v.figure for v in self._stages.views]

    @property
    def code(self) -> str:
        """str: a runnable script: the stack in tf.keras with its seeded or edited weights, run
        on the current image (named in code for the embedded digits), printing every stage.
        For a model: the script that reads its stages (with the model you passed in)."""
        if self._plan is not None:
            return self._model_code()
        return self._stack_code() + self._training_code()

    def _stack_code(self) -> str:
        shapes = self._stage_shapes()
        edits, _ = self._kernel_edits.for_stack(self.layers, [s[-1] for s in shapes[:-1]])
        return to_script(self.layers, self._images.shape, seed=self.seed,
                         edits={i: weights for i, (_, weights) in edits.items()},
                         image=self._images.source(self.image_index, self.pixel_scale))

    def displayed(self, i: int) -> np.ndarray:
        """(h, w, c) values whose picture the bqplot mark of stage ``i`` holds (0 = the input).

        Checked against the fingerprint inside the mark's PNG, so it proves what the browser is
        asked to draw: the channels of the current ``channel_page``, every pixel (or every
        ``draw_steps[i]``-th pixel for a stage too large to send whole; ``outputs`` stay exact).
        """
        self._results()
        return self._stages.views[i].displayed()

    @property
    def draw_steps(self) -> list[int]:
        """list of int: per stage, 1 when every pixel is drawn, n when every n-th is."""
        self._results()
        return [v.step for v in self._stages.views]

    def to_html(self, path, vary=None, **kwargs):
        """Write this view as one self-contained HTML page (see :func:`layerwidget.export_html`)."""
        if self._plan is not None:
            raise ModelError("to_html exports an editable stack's views; a Keras model is not "
                             "exported. Save the model itself (model.save) and share the "
                             "notebook, or export a stack made with LayerExplorer(layers=...).")
        return export_html(path, vary=vary, image_set=self._images, layers=self.layers,
                           seed=self.seed, image_index=self.image_index,
                           pixel_scale=self.pixel_scale,
                           kernel_edits=self._kernel_edits.weights(), **kwargs)

    # ---- display and lifetime ----

    def _ipython_display_(self):
        """Show the widget, then its last view as HTML for readers without a kernel."""
        from IPython.display import display

        if self._closed:
            display({"text/plain": repr(self)}, raw=True)
            return
        display(self.widget)
        self._snapshot.display()
        # The widget's own output says it is loading now (the panel, or the snapshot where
        # the widget cannot show): the note would only repeat it, in a saved notebook too.
        LOADING_NOTE.clear()

    def _repr_mimebundle_(self, **kwargs):
        if self._closed:
            return {"text/plain": repr(self)}
        return self.widget._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        """Close every widget and release the Keras layers and results; the explorer is done."""
        if self._closed:
            return
        self._closed = True
        self._snapshot.cancel()
        self.panel.unobserve(self._from_panel, names=list(_NAMES))
        self._stages.close()
        self._focus_area.close()
        self._prediction.close()
        if self._session is not None:
            self._session.stop()
            self._release_interrupt()
        self._training_view.close()
        close_tree(self.widget, self.panel)
        self._pipeline.clear()
        self._run = None  # the results hold the Keras layers

    def __repr__(self) -> str:
        stack = " → ".join(s["type"] for s in self.layers)
        closed = " (closed: run the cell that made it to get a new one)" if self._closed else ""
        return (f"<LayerExplorer {stack} on image {self.image_index} of {len(self._images)}"
                f"{closed}>")
