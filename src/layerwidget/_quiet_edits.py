"""Panel edits answered without the kernel's "busy" status, in one message: the idle status.

ipykernel publishes a "busy" status before it handles any message and "idle" after it. For a
panel edit that costs the page twice, and more than the edit itself (benchmarks/README.md):

- Jupyter Server writes to the kernel's websocket with Nagle's algorithm on. The update, written
  while the small busy frame is still unacknowledged, waits for the browser's delayed ACK of it.
- JupyterLab answers every busy/idle change by redrawing its kernel indicators (React), ~20 ms
  of the page's main thread per edit, in the very frames where the update arrives.

So for the panel's own edit messages (a comm message of a layerwidget panel whose content is
``{"kind": "edit", ...}``) the busy status is left out; the idle status after the handler is
still published, as the protocol's "done" for the message (front ends dispose the message's
callbacks on it; an idle status while already idle changes nothing). Every other message,
including the panel's other commands and every cell, keeps both statuses.

**The answer rides on the idle status.** An edit still costs two messages (the update's batch,
then the idle status), and with Nagle's algorithm on, the second of two back-to-back writes
waits for the browser's ACK of the first; the browser acknowledges late (delayed ACKs) unless
it sends something. During a slider drag that held every other update for ~40 ms: the page
sends one edit per answer, so one of the kernel's two messages always found the other still
unacknowledged (benchmarks/README.md). So when the page asks for it (``"carry": true`` in the
edit: js/flow.js has seen the idle statuses of its edits reach it), the edit's batches are kept
(:func:`carry`) and published *in* its idle status, as ``layerwidget_batches`` with their
buffers: one message per edit. Front ends read only ``execution_state`` of a status; the page
hands the batches to js/batch.js as if they had come as custom messages. Should the idle not
come through this wrapper, the batches leave as ordinary messages right after the handler.

Only the edit's own idle status takes them. ipykernel 7 handles a comm message that arrives
while a cell holds the shell (an async cell, or one that yields) at once, beside the cell, and
publishes no status for it at all; the next idle is the cell's, addressed to the cell's request,
whose callbacks are not the panel's. Batches published in it would never reach the panel (the
update lost, its edit never answered), so they leave as ordinary messages instead, and before
any batch made after them (the cell may change the explorer before the loop turns).

This wraps the running kernel's ``_publish_status`` (ipykernel 6 and 7). A kernel without it, or
no kernel (plain Python, tests), keeps its behaviour, and the edit just waits as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

__all__ = ["carry", "carrying", "done_carrying", "forget", "is_quiet_edit", "on_the_main_shell",
           "quiet_edits_of"]

log = logging.getLogger(__name__)

_comm_ids: set[str] = set()
_MARK = "_layerwidget_quiet_edits"
_current: _Carry | None = None  # the edit being answered on its idle status (below)


def is_quiet_edit(parent: Any) -> bool:
    """True for a shell message that is an edit of a registered panel (see the module)."""
    try:
        if parent["header"]["msg_type"] != "comm_msg":
            return False
        content = parent["content"]
        data = content["data"]
        return (content["comm_id"] in _comm_ids and data.get("method") == "custom"
                and data["content"].get("kind") == "edit")
    except (KeyError, TypeError, AttributeError):
        return False


def _kernel():
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return None
    return getattr(get_ipython(), "kernel", None)


def _install(kernel) -> bool:
    publish = getattr(kernel, "_publish_status", None)
    get_parent = getattr(kernel, "get_parent", None)
    if publish is None or get_parent is None:
        return False
    if getattr(publish, _MARK, False):
        return True

    def _publish_status(status, channel, parent=None):
        if (status == "idle" and channel == "shell" and parent is None and _current is not None
                and _same_message(_current.parent, _shell_parent(get_parent))):
            carried = _take()
            if carried.stash:
                try:
                    return _publish_carried(kernel, channel, carried.stash)
                except Exception:  # pragma: no cover - an unexpected kernel: send as usual
                    log.debug("layerwidget: could not answer on the idle status", exc_info=True)
                    carried.release()
        if status == "busy" and channel == "shell" and parent is None and _comm_ids:
            if is_quiet_edit(_shell_parent(get_parent)):
                return None
        return publish(status, channel, parent)

    setattr(_publish_status, _MARK, True)
    kernel._publish_status = _publish_status
    setattr(kernel, _MARK, True)  # wrapped, even if something wraps it again later
    return True


def _shell_parent(get_parent) -> Any:
    """The shell request being handled; None from an ipykernel without per-channel parents
    (which then keeps its statuses)."""
    try:
        return get_parent("shell")
    except Exception:
        return None


def _same_message(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    if a is b:
        return True
    try:
        return a["header"]["msg_id"] == b["header"]["msg_id"]
    except (KeyError, TypeError):
        return False


class _Carry:
    """The batches of one edit, kept for its idle status (that of the request ``parent``)."""

    def __init__(self, comm_id: str, send: Callable[[dict, list], None], parent: Any):
        self.comm_id, self.send, self.parent = comm_id, send, parent
        self.stash: list[tuple[dict, list]] = []
        self.open = True  # until the edit's handler returns

    def release(self) -> None:
        """Send what is kept as ordinary messages."""
        stash, self.stash = self.stash, []
        for content, buffers in stash:
            self.send(content, buffers)


def _take() -> _Carry:
    global _current
    carried, _current = _current, None
    return carried


def _publish_carried(kernel, channel, stash) -> None:
    contents, buffers = [], []
    for content, part_buffers in stash:
        contents.append({**content, "buffers": len(part_buffers)})
        buffers.extend(part_buffers)
    topic = kernel._topic("status") if hasattr(kernel, "_topic") else None
    kernel.session.send(kernel.iopub_socket, "status",
                        {"execution_state": "idle", "layerwidget_batches": contents},
                        parent=kernel.get_parent(channel), ident=topic, buffers=buffers)


def carrying(comm_id: str, send: Callable[[dict, list], None]) -> None:
    """The panel with this comm id is handling an edit that asked for its answer on its idle
    status: its batches are kept (:func:`carry`) and leave with that status. ``send(content,
    buffers)`` sends one as an ordinary message, should the status not come."""
    global _current
    if _current is not None:  # an earlier edit's, never sent: now
        _take().release()
    kernel = _kernel()
    if kernel is not None and getattr(kernel, _MARK, False):
        parent = _shell_parent(kernel.get_parent)
        if parent is not None:  # else no idle status could be known as this edit's
            _current = _Carry(comm_id, send, parent)


def carry(comm_id: str, content: dict, buffers: list) -> bool:
    """Keep a batch of the panel ``comm_id`` for the idle status of the edit it is handling;
    False when there is none (send it now)."""
    if _current is not None and not _current.open:
        # A handled edit's batches still wait for its idle status, which an edit handled beside
        # a running cell never gets. This batch is newer: they must reach the page first.
        _take().release()
    if _current is None or _current.comm_id != comm_id:
        return False
    _current.stash.append((content, buffers))
    return True


def done_carrying() -> None:
    """The edit's handler has returned. ipykernel publishes its idle status next, which takes
    the batches; should that not happen, they leave as ordinary messages right after."""
    if _current is None:
        return
    _current.open = False
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no event loop (a script, tests): the next edit sends them
        return
    carried = _current

    def send_unless_taken():
        if carried is _current:  # the idle never took them
            _take().release()

    loop.call_soon(send_unless_taken)


def quiet_edits_of(comm_id: str) -> bool:
    """Answer the edits of the panel with this comm id without a busy status (if running in an
    ipykernel that allows it); True when installed."""
    kernel = _kernel()
    if kernel is None:
        return False
    try:
        installed = _install(kernel)
    except Exception:  # pragma: no cover - an unexpected kernel: keep its behaviour
        log.debug("layerwidget: could not leave out busy statuses", exc_info=True)
        return False
    if installed:
        _comm_ids.add(comm_id)
    return installed


def forget(comm_id: str) -> None:
    """The panel with this comm id has closed."""
    _comm_ids.discard(comm_id)


def on_the_main_shell(comm: Any) -> None:
    """Have ipykernel hand the page's messages on ``comm`` to the main shell, always.

    JupyterLab 4.4 and later send widget messages over a subshell of their own, and ipykernel 7
    hands a comm's messages to the subshell of the request its last outgoing message answered:
    once a panel edit (which comes tagged with that subshell) has been answered, the next ones
    run on the subshell's thread. An explorer is not thread-safe: cells, its event-loop
    callbacks and its training progress use it on the main thread, and an edit running beside
    them on another thread could interleave with them. On the main shell the edits still run
    at once beside a cell that awaits (ipykernel 7, above), and wait for one that computes.
    A comm without this routing (another kernel, no kernel) is left as it is.
    """
    if comm is not None and callable(getattr(comm, "_reply_subshell_for", None)):
        comm._reply_subshell_for = _main_shell


def _main_shell(data: Any, default: Any) -> None:
    return None  # ipykernel's name for the main shell
