"""An explorer's life in a notebook: released when the cell that made it runs again.

Re-running ``ex = LayerExplorer(); ex`` clears the cell's output, but the old explorer's widgets
and Keras layers stay alive in the kernel (IPython's output cache still holds it), ~40 widgets a
run. JupyterLab and Notebook 7 send the id of the cell being run with each execute request, so an
explorer remembers the cell that made it; when that cell makes a new explorer, the older ones
from it are closed once the cell has finished, unless the notebook still holds them under a
name of its own (``keep = ex``, or inside a list or dict): those keep working.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

__all__ = ["current_cell_id", "register"]

log = logging.getLogger(__name__)

# cell id -> [(id of the run that made it, weak reference to the explorer)]
_by_cell: dict[str, list[tuple[str, weakref.ref]]] = {}
_pending: set[str] = set()
# IPython's own names for past inputs and outputs: holding an explorer there is not "keeping" it.
_CACHE_NAMES = {"In", "Out", "exit", "quit", "get_ipython"}


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return None
    return get_ipython()


def _current_run() -> tuple[str | None, str | None]:
    """(cell id, run id) of the notebook cell being run: the id JupyterLab sends with each
    execute request, and that request's message id."""
    shell = _ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return None, None
    try:
        parent = kernel.get_parent("shell")
    except TypeError:  # older ipykernel: no channel argument
        parent = kernel.get_parent()
    except Exception:  # no parent message (not running a cell)
        return None, None
    parent = parent or {}
    cell = (parent.get("metadata") or {}).get("cellId")
    run = (parent.get("header") or {}).get("msg_id")
    if not (isinstance(cell, str) and cell and isinstance(run, str)):
        return None, None
    return cell, run


def current_cell_id() -> str | None:
    """The id of the notebook cell being run, when the front end sent it (JupyterLab does)."""
    return _current_run()[0]


def _held_by_user(shell, obj: Any) -> bool:
    """Whether a notebook name (not IPython's output cache) refers to ``obj``, directly or as
    an item of a list, tuple, set or dict value."""
    for name, value in shell.user_ns.items():
        if name.startswith("_") or name in _CACHE_NAMES:
            continue
        if value is obj:
            return True
        if isinstance(value, (list, tuple, set)) and any(item is obj for item in value):
            return True
        if isinstance(value, dict) and any(item is obj for item in value.values()):
            return True
    return False


def register(explorer: Any) -> str | None:
    """Remember which cell made ``explorer``; release older explorers of that cell after it.

    Returns the cell id, or None outside a notebook front end that sends one.
    """
    cell, run = _current_run()
    shell = _ipython()
    if cell is None or shell is None:
        return None
    entries = [(r, ref) for r, ref in _by_cell.get(cell, []) if ref() is not None]
    entries.append((run, weakref.ref(explorer)))
    _by_cell[cell] = entries
    if any(r != run for r, _ in entries) and cell not in _pending:
        _pending.add(cell)

        def after_cell(*_args):
            shell.events.unregister("post_run_cell", after_cell)
            _pending.discard(cell)
            _release_older(shell, cell, run)

        shell.events.register("post_run_cell", after_cell)
    return cell


def _release_older(shell, cell: str, run: str) -> None:
    """Close the explorers that earlier runs of ``cell`` made, unless the notebook holds them;
    explorers of the latest run (several, if it made several) all stay."""
    kept = []
    for made_by, ref in _by_cell.get(cell, []):
        old = ref()
        if old is None:
            continue
        if made_by == run or _held_by_user(shell, old):
            kept.append((made_by, ref))
            continue
        log.debug("releasing an explorer of cell %s, which ran again", cell)
        old.close()
    if kept:
        _by_cell[cell] = kept
    else:
        _by_cell.pop(cell, None)
