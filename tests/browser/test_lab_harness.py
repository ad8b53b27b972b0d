"""Smoke test for the browser harness itself: if this fails, other browser
tests failing says nothing about layerwidget."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from labpage import LabPage

NOTEBOOK = "harness_smoke.ipynb"


def _write_smoke_notebook(path: Path) -> None:
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("import sys\nprint(sys.executable)"),
            nbformat.v4.new_code_cell("import ipywidgets as w\nw.IntSlider(value=7)"),
        ],
        # Without a kernelspec JupyterLab asks which kernel to use.
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(notebook, path)


def _registered_plugins(lab: LabPage) -> list[str]:
    return lab.page.evaluate("() => window.jupyterapp.listPlugins()")


def test_notebook_runs_and_renders_widget(jupyter_server, lab_page):
    _write_smoke_notebook(jupyter_server.root / NOTEBOOK)
    lab = lab_page(NOTEBOOK)

    plugins = _registered_plugins(lab)
    assert "anywidget:plugin" in plugins
    assert "@jupyter-widgets/jupyterlab-manager:plugin" in plugins
    assert any(plugin.startswith("@bqplot/bqplot:") for plugin in plugins)

    lab.run_all()
    assert lab.wait_kernel_idle() is True

    slider = lab.page.locator(".widget-slider").first
    slider.scroll_into_view_if_needed()
    slider.wait_for(state="visible", timeout=30_000)
    assert lab.page.locator(".widget-readout").first.inner_text() == "7"

    first_output = lab.page.locator(".jp-OutputArea-output").first
    assert first_output.inner_text().strip() == sys.executable

    lab.screenshot("lab_harness_smoke")
    lab.assert_no_console_errors()
