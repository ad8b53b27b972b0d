"""The last view, as plain HTML beside the widget, for a notebook opened without its kernel.

A saved notebook keeps its outputs but not the kernel's widgets: JupyterLab then shows "Error
displaying widget: model not found" where the explorer was. So when an explorer is displayed, a
second output follows it: the stage pictures and their captions as HTML, refreshed a moment
after the view changes. While the explorer is live, the panel's style sheet hides it (it only
loads with the widget); without a kernel it is what the reader sees, with a line saying how to
make it explorable again.

Also here: the loading note, the one line of plain HTML a fresh kernel shows before any widget.
"""

from __future__ import annotations

import html

from ..captions import COLOUR_KEY, picture_notes, stage_caption
from ..png import data_url

__all__ = ["LOADING_NOTE", "LoadingNote", "Snapshot"]

# Quiet time after the last update before the snapshot is sent again. The snapshot carries every
# stage picture (31 kB at 32 filters, 835 kB for a 224×224×3 input with 64 filters), and on a
# slow link an edit made while it travels waits behind it: it goes only once the student pauses.
_REFRESH_S = 2.5


def snapshot_html(views, stats, label, loading: str = "") -> str:
    """HTML of the stage pictures ``views`` show, captioned with ``stats``.

    ``loading``: what the explorer is waiting for before its first view (TensorFlow's import).
    Before that view there are no pictures, and a front end without the widget, or a notebook
    executed and kept as it was first displayed, shows this output: it says what is coming
    rather than that no kernel runs. (JupyterLab shows it no sooner than the panel: it handles
    the cell's messages in order, and each widget's comm open waits for its model.)
    """
    figures = []
    for i, (view, stage) in enumerate(zip(views, stats)):  # noqa: B905 - none before a first run
        picture, size = view.picture, view.size
        if picture is None or size is None:
            continue
        rows, cols = picture.layout.size
        cell = size.cell_px * picture.step
        notes = picture_notes(picture.channels, stage.shape[-1], picture.step)
        caption = stage_caption(i, stage.name, stage.shape, stage.min, stage.max, label=label,
                                notes=notes)
        src = data_url(picture.png).decode("ascii")
        figures.append(
            '<figure style="margin:0 12px 12px 0;display:inline-block;vertical-align:top">'
            f'<img src="{src}" width="{round(cols * cell)}" height="{round(rows * cell)}" '
            f'alt="stage {i}" style="image-rendering:pixelated">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    if loading and not figures:
        return (
            '<div class="layerwidget-snapshot">'
            f"<p><b>Layer explorer.</b> {html.escape(loading)}</p>"
            "<p>If this text stays, no kernel is running this explorer: run the cell to explore "
            "it.</p></div>")
    return (
        '<div class="layerwidget-snapshot">'
        "<p><b>Layer explorer: last view.</b> No kernel is running this explorer now; run the "
        "cell to explore it again, or save a kernel-free page with "
        "<code>ex.to_html(\"view.html\")</code>.</p>"
        f"<p>{html.escape(COLOUR_KEY)}</p>"
        + "".join(figures) + "</div>")


class Snapshot:
    """The HTML output that follows a displayed explorer, refreshed after each update."""

    def __init__(self, render):
        self._render = render  # () -> str: the HTML of the current view
        self._handle = None
        self._timer = None
        self._sent = None  # the HTML last shown: an unchanged view is not sent again

    def display(self) -> None:
        """Show the snapshot as its own output (call right after displaying the widget)."""
        from IPython.display import HTML, display

        self._sent = self._render()
        if self._handle is None:
            self._handle = display(HTML(self._sent), display_id=True)
        else:
            self._handle.display(HTML(self._sent))

    def schedule(self, loop) -> None:
        """Refresh the shown snapshot a moment after the last of a burst of updates."""
        if self._handle is None or loop is None:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_later(_REFRESH_S, self.refresh)

    def refresh(self) -> None:
        from IPython.display import HTML

        self._timer = None
        if self._handle is None:
            return
        page = self._render()
        if page != self._sent:
            self._sent = page
            self._handle.update(HTML(page))

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class LoadingNote:
    """The first sign of progress in a fresh kernel: one line of plain HTML, sent before any
    widget exists.

    JupyterLab handles a kernel's messages in order and each widget's comm open waits for its
    model, so the cell's widget output (and its snapshot) shows only once every widget model
    the cell made exists: ~0.3–0.5 s after the run on a 2-core machine. A plain display sent
    before the first of them shows within ~0.1 s. The live panel's style sheet hides the note
    as soon as the panel is in the output area; the note itself is emptied once the explorer is
    displayed (so a saved or executed notebook does not keep it), or after the first run.
    """

    def __init__(self):
        self._handle = None

    @property
    def shown(self) -> bool:
        return self._handle is not None

    def show(self, text: str) -> None:
        """Show ``text`` as the note, unless a note is showing already (one per kernel)."""
        from IPython import get_ipython
        from IPython.display import display

        if self._handle is None and get_ipython() is not None:
            self._handle = display({
                "text/html": f'<div class="layerwidget-loading"><b>Layer explorer.</b> '
                             f"{html.escape(text)}</div>",
                "text/plain": f"Layer explorer. {text}"}, raw=True, display_id=True)

    def clear(self) -> None:
        """Empty the note in place (an output with no text); nothing if none is showing."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.update({"text/html": "", "text/plain": ""}, raw=True)


LOADING_NOTE = LoadingNote()
"""The kernel's one loading note: the explorers made while TensorFlow loads share it."""
