"""The control panel: an anywidget whose front end is ``js/widget.js``.

The panel only carries state. Editable traits accept anything, because what a browser sends is
checked by the explorer, which answers with ``error`` instead of a traceback in a log.
"""

from __future__ import annotations

import pathlib

import anywidget
import traitlets

__all__ = ["ControlPanel"]

_HERE = pathlib.Path(__file__).parent


def _asset(name: str) -> pathlib.Path:
    """A front-end file: packed into ``static/`` in a wheel, read from ``js/`` in a checkout."""
    packaged = _HERE / "static" / name
    return packaged if packaged.exists() else _HERE.parents[1] / "js" / name


class ControlPanel(anywidget.AnyWidget):
    """Form controls for the layer stack, the image and the options; a status line."""

    _esm = _asset("widget.js")
    _css = _asset("widget.css")

    # Edited in the browser (drafts until the kernel accepts them).
    layers = traitlets.Any([]).tag(sync=True)
    """list[dict]: the layer stack as the panel shows it."""
    image_index = traitlets.Any(0).tag(sync=True)
    """int: index of the input image."""
    seed = traitlets.Any(0).tag(sync=True)
    """int: seed of the layers' weights."""
    pixel_scale = traitlets.Any("raw").tag(sync=True)
    """str: 'raw' (0–255) or 'unit' (0–1) pixels."""
    channel_page = traitlets.Any(0).tag(sync=True)
    """int: which block of 64 channels the heatmaps show."""

    # Set by the kernel only.
    schema = traitlets.Dict().tag(sync=True)
    """dict: layer types and their fields, to build the controls from."""
    n_images = traitlets.Int(0).tag(sync=True)
    """int: number of images available."""
    label = traitlets.Any(None).tag(sync=True)
    """str | None: label of the current image, as text."""
    n_channel_pages = traitlets.Int(1).tag(sync=True)
    """int: number of channel pages of the widest stage."""
    stages = traitlets.List().tag(sync=True)
    """list[dict]: per stage name, shape, min and max of the last good run."""
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

    # Flow control: the browser numbers its edits and sends the next one only once the kernel
    # has answered the previous one; edits made meanwhile are merged, latest value winning.
    # So a burst of edits never queues up in the kernel, and the last picture is the last edit.
    edit_seq = traitlets.Int(0).tag(sync=True)
    """int: number of the last edit the browser sent."""
    ack = traitlets.Int(0).tag(sync=True)
    """int: number of the last edit the kernel has fully handled (results already sent)."""

    def set_state(self, sync_data):
        # Observers run synchronously inside set_state, so once it returns the edit has been
        # applied (or refused) and every resulting message has been sent.
        super().set_state(sync_data)
        if "edit_seq" in sync_data:
            self.ack = self.edit_seq
