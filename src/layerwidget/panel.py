"""The control panel: an anywidget whose front end is ``js/widget.js``.

The panel only carries state. Its editable traits come from :data:`layerwidget.options.EDITABLE`
and accept anything, because what a browser sends is checked by the explorer, which answers with
``error`` instead of a traceback in a log.
"""

from __future__ import annotations

import uuid

import anywidget
import traitlets

from . import _quiet_edits
from ._assets import bundle_css, bundle_js
from ._transport import Batcher
from .options import EDITABLE

__all__ = ["ControlPanel"]

# The editable traits, one per field of the table, synced with the browser. No echo: the kernel
# answers every edit with the values it accepted (in the update batch), which is the echo.
_EditableTraits = type(
    "_EditableTraits", (anywidget.AnyWidget,),
    {e.name: traitlets.Any(e.panel_default, help=e.doc).tag(sync=True, echo_update=False)
     for e in EDITABLE},
)


class ControlPanel(_EditableTraits):
    """Form controls for the layer stack, the image and the options; a status line."""

    _esm = bundle_js("widget.js")
    _css = bundle_css("widget.css")

    # Set by the kernel only.
    panel_id = traitlets.Unicode("").tag(sync=True)
    """str: names this panel in the page, where anywidget hands its hooks different proxies of
    one model (js/batch.js, ``batchChannel``)."""
    schema = traitlets.Dict().tag(sync=True)
    """dict: layer types and their fields, to build the controls from."""
    n_images = traitlets.Int(0).tag(sync=True)
    """int: number of images available."""
    option_schema = traitlets.Dict().tag(sync=True)
    """dict: how to show each option for the images held (slider ranges, pixel scale choices)."""
    label = traitlets.Any(None).tag(sync=True)
    """str | None: label of the current image, as text."""
    channel_pages = traitlets.List(["1–1"]).tag(sync=True)
    """list[str]: labels of the channel pages ('1–64', '65–100'); one page: no choice shown."""
    stages = traitlets.List().tag(sync=True)
    """list[dict]: per stage its name, shape and range text of the last good run."""
    elapsed_ms = traitlets.Float(0.0).tag(sync=True)
    """float: kernel time of the last update, from the edit to the last message sent."""
    update_id = traitlets.Int(0).tag(sync=True)
    """int: increases with every completed update."""
    error = traitlets.Dict().tag(sync=True)
    """dict: {} when fine, else {'message', 'kind', 'layer', 'field'} of the refused edit."""
    busy = traitlets.Unicode("").tag(sync=True)
    """str: what the kernel is doing, shown while it works ('' when idle)."""
    code = traitlets.Unicode("").tag(sync=True)
    """str: tf.keras source for the current stack."""
    notice = traitlets.Unicode("").tag(sync=True)
    """str: something the reader should know about the last update that is not an error."""
    presets = traitlets.List().tag(sync=True)
    """list[str]: kernel presets the panel offers ('random (seeded)' first)."""
    kernels = traitlets.List().tag(sync=True)
    """list: per layer None, or {'labels': per-filter kernel names or None, 'edited': bool}."""
    model_info = traitlets.Any(None).tag(sync=True)
    """dict | None: a Keras model's name, parameters and stages, shown read-only (model mode)."""
    focus_info = traitlets.Any(None).tag(sync=True)
    """dict | None: the focused stage and channel, the unit, its arithmetic as text."""

    # Commands from the browser (not state): applied by the explorer, then forgotten.
    kernel_edit = traitlets.Any(None).tag(sync=True, echo_update=False)
    """dict | None: {'layer', 'filter', 'preset'} or {'layer', 'filter', 'in', 'row', 'col',
    'value'}: a kernel edit the panel asks for."""

    training = traitlets.Dict({"phase": "idle"}).tag(sync=True)
    """dict: the training run's state (phase, epoch, batch, metrics, message, trained)."""
    train_command = traitlets.Any(None).tag(sync=True, echo_update=False)
    """dict | None: {'action': 'train' | 'stop' | 'reset', 'epochs', 'n'} from the panel."""
    drawing = traitlets.Any(None).tag(sync=True, echo_update=False)
    """dict | None: the drawing pad as {'width', 'height', 'pixels': base64 grey bytes}; None
    when cleared (see layerwidget.drawing.decode_drawing)."""
    upload = traitlets.Any(None).tag(sync=True, echo_update=False)
    """dict | None: an uploaded picture as {'name', 'width', 'height', 'pixels': base64 RGBA
    bytes, 'n'} (see layerwidget.drawing.decode_upload)."""

    # Flow control: the browser numbers its edits and sends the next one only once the kernel
    # has answered the previous one; edits made meanwhile are merged, latest value winning.
    # So a burst of edits never queues up in the kernel, and the last picture is the last edit.
    edit_seq = traitlets.Int(0).tag(sync=True, echo_update=False)
    """int: number of the last edit the browser sent."""
    ack = traitlets.Int(0).tag(sync=True)
    """int: number of the last edit the kernel has fully handled (results already sent)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("panel_id", uuid.uuid4().hex)
        super().__init__(**kwargs)
        self.batch = Batcher(self)
        """Batcher: sends the changes of the panel and of every adopted view as one message."""
        self.batch.adopt(self)
        self.on_msg(self._edit_message)
        # Its edits are answered with the update first, not after a "busy" status.
        _quiet_edits.quiet_edits_of(self.model_id)

    def close(self):
        if getattr(self, "comm", None) is not None:
            _quiet_edits.forget(self.comm.comm_id)
        super().close()

    def set_state(self, sync_data):
        # Observers run synchronously inside set_state, so once it returns the edit has been
        # applied (or refused); everything it changed, the ack last, leaves as one message.
        with self.batch.collect():
            super().set_state(sync_data)
            if "edit_seq" in sync_data:
                self.ack = self.edit_seq
                self.batch.answers(self.ack)

    def _edit_message(self, _widget, content, _buffers) -> None:
        # The browser sends its edits as custom messages (js/flow.js says why); they are
        # applied exactly as a widget update from the browser would be.
        if (isinstance(content, dict) and content.get("kind") == "edit"
                and isinstance(content.get("state"), dict)):
            if content.get("carry") and self.comm is not None:
                _quiet_edits.carrying(self.comm.comm_id, self._send_batch)
            try:
                self.set_state(content["state"])
            finally:
                _quiet_edits.done_carrying()

    def _send_batch(self, content: dict, buffers: list) -> None:
        self.send(content, buffers=buffers)
