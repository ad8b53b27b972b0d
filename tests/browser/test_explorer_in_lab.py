"""The explorer in a real JupyterLab, driven through its panel in headless Chromium."""

from __future__ import annotations

import json
import re

from labpage import ARTIFACTS_DIR

NOTEBOOK = "walkthrough.ipynb"


def heatmap_hrefs(stage):
    """The PNG data URL each HeatMap paints: a new href means the map was repainted."""
    return stage.locator("image").get_attribute("href")


def stage_status(panel, i):
    return panel.locator(f".lw-stages li[data-stage='{i}']")


def wait_for_stage_shape(lab, index, shape):
    # The status list is rebuilt when the number of stages changes: look the item up
    # each frame.
    lab.page.wait_for_function(
        """([i, shape]) => {
            const li = document.querySelector(`.layerwidget-panel .lw-stages li[data-stage='${i}']`);
            return li && li.textContent.includes(shape);
        }""",
        arg=[index, shape], polling="raf", timeout=30_000,
    )


def wait_for_new_href(lab, index, old):
    lab.page.wait_for_function(
        """([i, old]) => {
            const panel = document.querySelector('.layerwidget-panel');
            const root = panel.closest('.widget-hbox');
            const img = root.querySelectorAll('.layerwidget-stage image')[i];
            return img && img.getAttribute('href') && img.getAttribute('href') !== old;
        }""",
        arg=[index, old], polling="raf", timeout=30_000,
    )


# Records the loading note (views/snapshot.py, LoadingNote) the moment it is on screen.
_WATCH_NOTE_JS = """() => {
  window.__lwNote = null;
  const seen = () => {
    const note = document.querySelector('.layerwidget-loading');
    if (window.__lwNote === null && note && note.checkVisibility()) {
      window.__lwNote = {text: note.textContent,
                         panel: Boolean(document.querySelector('.layerwidget-panel'))};
    }
  };
  new MutationObserver(seen).observe(document.body, {childList: true, subtree: true});
}"""


def test_filters_edit_in_the_panel_redraws_and_bad_value_keeps_the_maps(lab_page):
    lab = lab_page(NOTEBOOK)
    lab.page.evaluate(_WATCH_NOTE_JS)
    panel = lab.run_explorer()
    page = lab.page
    # A fresh kernel: the note that TensorFlow is loading showed before the panel existed,
    # and is gone (emptied in place) once the explorer is displayed.
    note = page.evaluate("() => window.__lwNote")
    assert note is not None and "Loading TensorFlow" in note["text"] and not note["panel"]
    assert page.locator(".layerwidget-loading").count() == 0
    stages = lab.explorer().locator(".layerwidget-stage")
    stages.nth(3).wait_for(state="attached", timeout=60_000)
    assert stages.count() == 4

    # The default stack, as Keras reports it, with ReLU's min at 0.
    assert "(1, 28, 28, 1)" in stage_status(panel, 0).text_content()
    assert "(1, 28, 28, 3)" in stage_status(panel, 1).text_content()
    relu = stage_status(panel, 2).text_content()
    assert "min 0.00" in relu
    assert "(1, 14, 14, 3)" in stage_status(panel, 3).text_content()
    assert "label 7" in panel.locator(".lw-label").text_content()

    conv = stages.nth(1)
    page.wait_for_function(
        "el => el.querySelector('image') && el.querySelector('image')"
        ".getAttribute('href')", arg=conv.element_handle(), timeout=30_000)
    before = heatmap_hrefs(conv)
    lab.screenshot("explorer_default")

    # The labelled control inside the Conv2D fieldset, committed with Enter as a user would.
    filters = panel.get_by_role("group", name="1. Conv2D").get_by_role(
        "spinbutton", name="filters")
    panel.evaluate("(el) => el.querySelectorAll('.lw-stages li')"
                   ".forEach((li) => { li.dataset.before = li.textContent; })")
    filters.fill("5")
    filters.press("Enter")
    wait_for_stage_shape(lab, 1, "(1, 28, 28, 5)")
    wait_for_new_href(lab, 1, before)
    # The same number of stages: the status list's items were rewritten in place (js/widget.js
    # does not rebuild them while the pictures paint), and hold the new texts.
    kept = panel.evaluate("(el) => Array.from(el.querySelectorAll('.lw-stages li'),"
                          " (li) => [li.dataset.before || null, li.textContent])")
    assert len(kept) == 4 and all(old is not None for old, _ in kept), kept
    assert "(1, 28, 28, 3)" in kept[1][0] and "(1, 28, 28, 5)" in kept[1][1], kept
    after_five = heatmap_hrefs(conv)
    assert after_five != before
    assert "(1, 14, 14, 5)" in stage_status(panel, 3).text_content()
    assert "Conv2D (1, 28, 28, 5)" in conv.text_content()
    lab.screenshot("explorer_filters_5")

    # An invalid value: the kernel's message appears, the field is marked, the maps stay.
    filters.fill("999")
    filters.press("Enter")
    error = panel.locator(".lw-error")
    error.wait_for(state="visible", timeout=30_000)
    assert "filters=999 is too large; use an integer from 1 to 256" in error.text_content()
    assert filters.get_attribute("aria-invalid") == "true"
    page.wait_for_timeout(300)  # give a wrong repaint the chance to happen
    assert heatmap_hrefs(conv) == after_five
    assert "(1, 28, 28, 5)" in stage_status(panel, 1).text_content()
    lab.screenshot("explorer_error")

    # Record what the status line says for larger stacks (numbers for the closing note and
    # the benchmarks; nothing is asserted about time here).
    timings = {}
    for count in (3, 32, 64):
        old = heatmap_hrefs(conv)
        filters.fill(str(count))
        filters.press("Enter")
        wait_for_stage_shape(lab, 1, f"(1, 28, 28, {count})")
        wait_for_new_href(lab, 1, old)
        timings[count] = panel.locator(".lw-timing").text_content()
    assert error.is_hidden()
    assert all(re.search(r"updated in [\d.]+ ms", t) for t in timings.values())
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS_DIR / "status_timings.json").write_text(json.dumps(timings, indent=1))
    lab.screenshot("explorer_filters_64")
    lab.assert_no_console_errors()
