"""Panel edits answered without the kernel's "busy" status: the update is the first thing sent.

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

This wraps the running kernel's ``_publish_status`` (ipykernel 6 and 7). A kernel without it, or
no kernel (plain Python, tests), keeps its behaviour, and the edit just waits as before.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["forget", "is_quiet_edit", "quiet_edits_of"]

log = logging.getLogger(__name__)

_comm_ids: set[str] = set()
_MARK = "_layerwidget_quiet_edits"


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
        if status == "busy" and channel == "shell" and parent is None and _comm_ids:
            try:
                current = get_parent("shell")
            except Exception:  # an ipykernel without per-channel parents: keep its statuses
                current = None
            if is_quiet_edit(current):
                return None
        return publish(status, channel, parent)

    setattr(_publish_status, _MARK, True)
    kernel._publish_status = _publish_status
    return True


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
