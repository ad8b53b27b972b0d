"""One message per update: the state changes of an explorer's widgets, sent together.

An update touches a dozen widgets (pictures, titles, scales, layouts, the panel's status), and
ipywidgets sends one comm message per widget. Jupyter Server writes each message to the kernel
websocket as it comes, without TCP_NODELAY, so after the first small write the rest wait for the
browser's delayed acknowledgement: ~40 ms for every update (benchmarks/README.md). Here the
widgets an explorer owns route their ``update`` messages into a batch while an update runs; the
batch leaves as a single custom message of the panel, whose front end (``js/batch.js``) hands each
part to its widget model exactly as if it had arrived on that widget's own comm. The models'
state is the same as with separate messages, so saving widget state, re-rendering and every
other view of them behave as usual.

Widgets not owned by the explorer, comm opens and closes, and any message sent outside an
update are not touched.

One exception to "one message": what a view defers with :meth:`Batcher.after` leaves right
after the update's batch, in a batch marked ``later`` that the page applies once the frame
showing the update is drawn. That is the focused map's cell values (the page takes ~45 ms to
redraw them and nobody sees them until they point at a cell) and a new mosaic's tile numbers
(bqplot redraws a Label mark through d3 transitions; the old numbers are hidden meanwhile). A
fast run of edits can land the next update before a later batch: the page then leaves out of
it what the newer update has set (``js/batch.js``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator

import ipywidgets as widgets

from . import _quiet_edits
from ._widgets import walk

__all__ = ["Batcher"]

log = logging.getLogger(__name__)


class Batcher:
    """Collects the update messages of adopted widgets and sends them as one message.

    Parameters
    ----------
    carrier : anywidget.AnyWidget
        The widget whose comm carries the batch (the panel); its front end applies it.
    """

    def __init__(self, carrier: widgets.Widget):
        self._carrier = carrier
        self._depth = 0
        self._parts: list[tuple[str, dict, list]] = []
        self._adopted: set[int] = set()
        self._ack: int | None = None
        self._after: list = []
        self._leading: set[str] = set()  # model ids whose parts go first (lead)
        self.sent = 0
        """int: how many batch messages were sent (for tests and benchmarks)."""

    def adopt(self, *roots: widgets.Widget) -> None:
        """Route the updates of ``roots`` and every widget they hold through this batcher."""
        for w in walk(*roots):
            if id(w) in self._adopted:
                continue
            self._adopted.add(id(w))
            # An instance attribute shadows Widget._send for this widget only.
            w._send = functools.partial(self._route, w)
            _quiet_edits.on_the_main_shell(w.comm)  # its clicks and edits, on the main thread

    def lead(self, *widgets_: widgets.Widget) -> None:
        """Send the changes of ``widgets_`` (adopted ones) ahead of the others in every batch.

        For bqplot Figures: a figure asks for an animation frame to lay itself out again when
        its title changes, and its marks move through d3 transitions, which run in the frame
        d3 asked for first. If a mark's change came first, the transitions would run before
        the relayout and that frame would show the new picture on the old plot size.
        """
        self._leading.update(w.model_id for w in widgets_)

    def release(self, *roots: widgets.Widget) -> None:
        """Stop routing ``roots`` (before they are closed or handed elsewhere)."""
        for w in walk(*roots):
            if id(w) in self._adopted:
                self._adopted.discard(id(w))
                self._leading.discard(w.model_id)
                w.__dict__.pop("_send", None)

    @contextlib.contextmanager
    def collect(self) -> Iterator[None]:
        """Everything adopted widgets send inside this block leaves as one message at its end.

        Blocks nest; the outermost one sends.
        """
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._flush()
                self._send_after()

    def after(self, fn) -> None:
        """Run ``fn()`` once the batch being collected has left; what it changes leaves in a
        batch of its own that the page applies only after painting the frames before it
        ("later": for what the reader does not see at once, such as a map's tooltip values, or
        can see a frame late, such as tile numbers).
        Outside a collect, now."""
        self._after.append(fn)
        if self._depth == 0:
            self._send_after()

    def _send_after(self) -> None:
        if not self._after:
            return
        todo, self._after = self._after, []
        self._depth += 1
        try:
            for fn in todo:
                try:
                    fn()
                except Exception:  # the update has left already: the others still go
                    log.exception("a deferred view update failed")
        finally:
            self._depth -= 1
            self._flush(later=True)

    def answers(self, seq: int) -> None:
        """Say in the batch being collected that it answers the browser's edit ``seq``."""
        self._ack = seq

    def _route(self, widget: widgets.Widget, msg: dict, buffers=None) -> None:
        if self._depth and msg.get("method") in ("update", "echo_update") and widget.comm:
            self._add(widget.model_id, msg, list(buffers or []))
        else:
            widgets.Widget._send(widget, msg, buffers=buffers)

    def _add(self, model_id: str, msg: dict, buffers: list) -> None:
        """Append a part; merged into the previous one when it updates other keys of the same
        widget (order between widgets is kept: a picture lands before the mark switches to it).
        """
        if self._parts:
            last_id, last, last_buffers = self._parts[-1]
            keys = set(msg["state"]) | {p[0] for p in msg.get("buffer_paths", [])}
            last_keys = set(last["state"]) | {p[0] for p in last.get("buffer_paths", [])}
            if last_id == model_id and last["method"] == msg["method"] and not keys & last_keys:
                merged = {"method": msg["method"], "state": {**last["state"], **msg["state"]},
                          "buffer_paths": [*last.get("buffer_paths", []),
                                           *msg.get("buffer_paths", [])]}
                self._parts[-1] = (model_id, merged, last_buffers + buffers)
                return
        self._parts.append((model_id, msg, buffers))

    def _flush(self, later: bool = False) -> None:
        parts, self._parts = self._parts, []
        ack, self._ack = self._ack, None
        if not parts and ack is None:
            return
        if self._carrier.comm is None:  # closed meanwhile: nobody to tell
            return
        if self._leading:  # leading widgets first, each group in the order made
            parts = ([p for p in parts if p[0] in self._leading] +
                     [p for p in parts if p[0] not in self._leading])
        updates, buffers = [], []
        for model_id, msg, part_buffers in parts:
            updates.append({"id": model_id, "method": msg["method"], "state": msg["state"],
                            "buffer_paths": msg.get("buffer_paths", []),
                            "buffers": len(part_buffers)})
            buffers.extend(part_buffers)
        content = {"kind": "layerwidget-batch", "updates": updates,
                   "carrier": self._carrier.model_id}
        if ack is not None:
            content["ack"] = ack
        if later:
            content["later"] = True
        if not _quiet_edits.carry(self._carrier.comm.comm_id, content, buffers):
            self._carrier.send(content, buffers=buffers)
        self.sent += 1
