"""In a kernel, LayerExplorer() returns at once and says it is loading TensorFlow; the first run
follows on the kernel's event loop, before the next cell, and results read earlier run it."""

import nbformat
from nbclient import NotebookClient

CELLS = [
    "import sys\nfrom layerwidget import LayerExplorer\n"
    "print('bqplot with the import:', 'bqplot' in sys.modules)\nex = LayerExplorer()\n"
    "print('busy:', ex.panel.busy)\nprint('ran:', ex._run is not None)\n"
    "print('tf imported:', 'layerwidget._tf' in sys.modules)\n"
    "print('bqplot in the cell:', 'bqplot' in sys.modules)",
    "print('ran:', ex._run is not None)\nprint('busy:', repr(ex.panel.busy))\n"
    "print('figures:', len(ex.figures))\nprint('bqplot after:', 'bqplot' in sys.modules)",
    "early = LayerExplorer(layers=[{'type': 'ReLU'}])\nprint('ran:', early._run is not None)",
]


def outputs_of(cell):
    return "".join(o.get("text", "") for o in cell.outputs)


def test_first_explorer_in_a_kernel_shows_progress_then_runs_before_the_next_cell():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(nb, timeout=180, kernel_name="python3").execute()
    first, second, third = (outputs_of(c) for c in nb.cells)
    assert "busy: Loading TensorFlow" in first
    assert "ran: False" in first and "tf imported: False" in first
    assert "ran: True" in second and "busy: ''" in second and "figures: 4" in second
    # bqplot (~0.2-0.5 s to import, with pandas) is not imported with layerwidget; the first
    # explorer imports it after its loading note (see the test below).
    assert "bqplot with the import: False" in first and "bqplot in the cell: True" in first
    assert "bqplot after: True" in second
    assert "ran: True" in third  # TensorFlow is loaded now: later explorers run at once


def test_reading_results_before_the_deferred_run_runs_it_on_the_spot():
    cell = ("from layerwidget import LayerExplorer\nex = LayerExplorer()\n"
            "print('shape:', ex.outputs[0].shape)\nprint('busy:', repr(ex.panel.busy))")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    NotebookClient(nb, timeout=180, kernel_name="python3").execute()
    text = outputs_of(nb.cells[0])
    assert "shape: (1, 28, 28, 3)" in text and "busy: ''" in text


def test_an_edit_refused_while_tensorflow_loads_keeps_its_draft_and_message(monkeypatch):
    """The deferred first run shows the explorer's own values, then gives a refused draft back."""
    import sys

    import numpy as np

    import layerwidget.explorer as explorer_module

    pending = []

    class Loop:
        def call_soon(self, fn, *args):
            pending.append(lambda: fn(*args))

    monkeypatch.setattr(explorer_module, "kernel_loop", lambda: Loop())
    monkeypatch.delitem(sys.modules, "layerwidget._tf", raising=False)  # as in a fresh kernel
    ex = explorer_module.LayerExplorer(
        images=np.arange(2 * 8 * 8, dtype=np.uint8).reshape(2, 8, 8), labels=[3, 4],
        layers=[{"type": "Conv2D", "filters": 2, "padding": "same"}], seed=5, image_index=1)
    assert len(pending) == 1 and ex._run is None
    # The panel holds the explorer's values while it loads, not the panel's defaults.
    assert (ex.panel.seed, ex.panel.image_index, ex.panel.layers) == (5, 1, ex.layers)
    ex.panel.layers = [{"type": "Conv2d"}]
    assert "Did you mean 'Conv2D'" in ex.error
    pending[0]()  # the stand-in figures: the input drawn, the layers blank and waiting
    assert ex._run is None and len(pending) == 2
    titles = [view.figure.title for view in ex._stages.views]  # (ex.figures would run it)
    assert "waiting for TensorFlow" not in titles[0] and "label 4" in titles[0]
    assert "waiting for TensorFlow" in titles[1] and "(1, 8, 8, 2)" in titles[1]
    # The stand-ins' values mean nothing yet: no colour legend on them, the input's is shown.
    assert [view._legend.visible for view in ex._stages.views] == [True, False]
    # (ex.input would run it: the digit as the explorer feeds it, read without running.)
    np.testing.assert_array_equal(ex._stages.views[0].displayed(),
                                  ex._images.input(1, ex.pixel_scale)[0])
    assert ex._run is None
    assert ex.panel.layers == [{"type": "Conv2d"}]  # the draft is still the panel's
    pending[1]()
    assert ex._run is not None and ex.panel.busy == ""
    assert "waiting for TensorFlow" not in ex.figures[1].title
    assert all(view._legend.visible for view in ex._stages.views)
    assert ex.panel.layers == [{"type": "Conv2d"}] and "Did you mean 'Conv2D'" in ex.error
    assert (ex.seed, ex.image_index, ex.layers[0]["filters"]) == (5, 1, 2)
    assert ex.outputs[0].shape == (1, 8, 8, 2)
    ex.close()


def test_the_first_output_says_tensorflow_is_loading_then_becomes_the_last_view():
    # The snapshot that follows the widget is plain HTML: the page shows it before the widget's
    # models exist. Before the first run it says what is coming; a moment after the run it is
    # the last view (for readers without a kernel), updated in place. (nbclient drops the
    # update, which arrives after the cell that displayed it; the kernel's copy is read.)
    cells = ["from layerwidget import LayerExplorer\nex = LayerExplorer()\nex",
             # The first run blocks the loop for the import; the refresh follows 2.5 s later.
             "import asyncio\nawait asyncio.sleep(0.5)\nprint('ran:', ex._run is not None)\n"
             "await asyncio.sleep(4)\nprint(ex._snapshot._sent)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=180, kernel_name="python3").execute()
    first = [o["data"]["text/html"] for o in nb.cells[0].outputs
             if o.get("data", {}).get("text/html")]  # the loading note is emptied (below)
    assert len(first) == 1
    assert "Loading TensorFlow" in first[0] and "<img" not in first[0]
    assert "run the cell to explore it" in first[0]
    later = outputs_of(nb.cells[1])
    assert "ran: True" in later
    assert "last view" in later and later.count("<img") == 4
    assert "Loading TensorFlow" not in later


def html_outputs(cell):
    return [o["data"].get("text/html", None) for o in cell.outputs
            if o.get("output_type") == "display_data"]


def test_a_fresh_kernel_says_it_is_loading_before_any_widget_then_empties_the_note():
    # JupyterLab shows a cell's widget output only once every widget model the cell made
    # exists (~0.3-0.5 s); the note is a plain display sent before the first of them.
    cells = [
        "import sys, IPython.display, ipywidgets\nfrom layerwidget import LayerExplorer\n"
        "events = []\nipywidgets.Widget.on_widget_constructed(\n"
        "    lambda w: events.append(('widget', 'bqplot' in sys.modules)))\n"
        "_display = IPython.display.display\n"
        "def spy(*args, **kwargs):\n"
        "    events.append(('display', 'bqplot' in sys.modules))\n"
        "    return _display(*args, **kwargs)\n"
        "IPython.display.display = spy\nex = LayerExplorer()\n"
        "IPython.display.display = _display\nprint('first:', events[:2])\n"
        "print('widgets before the note:', [e[0] for e in events].index('display'))\nex",
        "print('noted:', __import__('layerwidget.views.snapshot').views.snapshot"
        ".LOADING_NOTE.shown)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=180, kernel_name="python3").execute()
    text = outputs_of(nb.cells[0])
    # The note, then bqplot's import (~0.2 s without a message: the page paints the note
    # before it handles the first comm opens), then the first widget.
    assert "first: [('display', False), ('widget', True)]" in text
    assert "widgets before the note: 0" in text
    notes = [o for o in nb.cells[0].outputs if o.get("output_type") == "display_data"
             and "text/html" in o["data"] and "layerwidget-snapshot" not in o["data"]["text/html"]]
    # The note is the cell's first output, emptied in place once the explorer is displayed
    # (nbclient applies an update sent during the cell): a saved notebook does not keep it.
    assert nb.cells[0].outputs.index(notes[0]) == 0
    assert len(notes) == 1 and notes[0]["data"] == {"text/html": "", "text/plain": ""}
    assert "noted: False" in outputs_of(nb.cells[1])


def test_the_loading_note_says_so_and_goes_when_the_explorer_is_refused():
    cells = ["from layerwidget.views.snapshot import LOADING_NOTE\n"
             "from layerwidget import LayerExplorer\n"
             "try:\n    LayerExplorer(layers=[{'type': 'Conv2D', 'filters': 0}])\n"
             "except Exception as e:\n    print('refused:', type(e).__name__)\n"
             "LOADING_NOTE.clear()\nprint('noted:', LOADING_NOTE.shown)",
             "LOADING_NOTE.show('Loading <TensorFlow>')\nprint('noted:', LOADING_NOTE.shown)"
             "\nLOADING_NOTE.show('again')"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=180, kernel_name="python3").execute()
    first, second = nb.cells
    assert "refused: " in outputs_of(first) and "noted: False" in outputs_of(first)
    assert html_outputs(first) == [""]  # shown, then emptied in the same cell
    # One note at a time, its text escaped, in the class the panel's style sheet hides.
    assert html_outputs(second) == [
        '<div class="layerwidget-loading"><b>Layer explorer.</b> Loading &lt;TensorFlow&gt;'
        "</div>"]
    assert "noted: True" in outputs_of(second)


def test_the_tensorflow_import_is_timed_for_the_start_up_benchmark():
    # benchmarks/bench_steps.py compares the first complete view with the import as the same
    # kernel timed it.
    from layerwidget import _tf

    assert 0.0 < _tf.IMPORT_SECONDS < 600.0


def test_the_loading_note_goes_when_the_figures_import_fails():
    # The first explorer imports bqplot right after its note; if that fails (or is
    # interrupted), nothing is loading, and the note must not stay.
    cells = ["import layerwidget.explorer as E\nfrom layerwidget.views.snapshot import LOADING_NOTE\n"
             "def broken():\n    raise ImportError('no bqplot here')\n"
             "E.import_figure_modules = broken\n"
             "try:\n    E.LayerExplorer()\nexcept ImportError as e:\n    print('failed:', e)\n"
             "print('noted:', LOADING_NOTE.shown)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=180, kernel_name="python3").execute()
    text = outputs_of(nb.cells[0])
    assert "failed: no bqplot here" in text and "noted: False" in text
    assert html_outputs(nb.cells[0]) == [""]  # shown, then emptied
