"""The panel's sliders in the browser: a mouse drag and arrow keys commit as they move.

Each slider commits on every 'input' event through the panel's one-edit-in-flight flow control,
so a drag shows intermediate views, in the order the slider passed them, and ends on the value
the slider was left at. Views per second of the drag go to tests/artifacts/slider_drag.json
(speed is reported, never asserted).
"""

from __future__ import annotations

import itertools
import json

from labpage import ARTIFACTS_DIR, kernel_exec, write_notebook

CELLS = [
    "from layerwidget import LayerExplorer",
    "ex = LayerExplorer()\n"
    "SEEN = []  # the seeds the kernel computed, in order\n"
    "ex.observe(lambda change: SEEN.append(change.new), names='seed')\n"
    "ex",
]

LAYER_0 = ".layerwidget-panel fieldset[data-layer='0']"
FILTERS_SLIDER = f"{LAYER_0} input[type=range][data-field='filters']"
FILTERS_BOX = f"{LAYER_0} input[type=number][data-field='filters']"
SEED_SLIDER = ".layerwidget-panel .lw-image input[type=range][data-field='seed']"
SEED_BOX = ".layerwidget-panel .lw-image input[type=number][data-field='seed']"

# Records every view the page shows: the Conv2D stage's filter count from the status list
# (written by the kernel for each update) and the times the stage's picture was repainted.
RECORD_JS = """
() => {
  const panel = document.querySelector('.layerwidget-panel');
  const root = panel.closest('.widget-hbox');
  const rec = {filters: [], paints: [], inputs: []};
  const status = () => {
    const li = panel.querySelector(".lw-stages li[data-stage='1']");
    const m = li && li.textContent.match(/\\(1, 28, 28, (\\d+)\\)/);
    return m ? Number(m[1]) : null;
  };
  new MutationObserver(() => {
    const n = status();
    if (n !== null && n !== rec.filters[rec.filters.length - 1]) rec.filters.push(n);
  }).observe(panel.querySelector('.lw-stages'), {childList: true, subtree: true,
                                                 characterData: true});
  const image = () => root.querySelectorAll('.layerwidget-stage image')[1];
  let href = image().getAttribute('href');
  new MutationObserver(() => {
    const now = image().getAttribute('href');
    if (now && now !== href) {
      href = now;
      rec.paints.push(performance.now());
    }
  }).observe(root, {subtree: true, attributes: true, attributeFilter: ['href']});
  for (const slider of panel.querySelectorAll('input[type=range]')) {
    slider.addEventListener('input', () => rec.inputs.push(performance.now()));
  }
  rec.start = status();
  window.__sliderRec = rec;
}
"""


def open_explorer(lab_page, jupyter_server, name):
    lab = lab_page(write_notebook(jupyter_server.root, name, CELLS))
    lab.run_explorer()
    lab.page.wait_for_function(
        "() => document.querySelectorAll('.layerwidget-stage svg image[href]').length === 4",
        timeout=60_000)
    lab.page.evaluate(RECORD_JS)
    return lab


def wait_for_filters(lab, n):
    lab.page.wait_for_function(
        "(n) => { const li = document.querySelector(\".layerwidget-panel .lw-stages "
        "li[data-stage='1']\"); return !!li && li.textContent.includes(`(1, 28, 28, ${n})`); }",
        arg=n, polling="raf", timeout=60_000)


def test_mouse_drag_on_filters_slider_shows_views_in_order_and_ends_on_its_value(
        lab_page, jupyter_server):
    lab = open_explorer(lab_page, jupyter_server, "sliders_drag.ipynb")
    page = lab.page
    slider = page.locator(FILTERS_SLIDER)
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    x0, x1 = box["x"] + 1, box["x"] + box["width"] - 1
    start = page.evaluate("() => window.__sliderRec.start")

    # Press at the left end (the value jumps to the minimum) and move right in small steps
    # with pauses, as a hand would, then let go at the right end.
    page.mouse.move(x0, y)
    page.mouse.down()
    steps = 30
    for i in range(1, steps + 1):
        page.mouse.move(x0 + (x1 - x0) * i / steps, y)
        page.wait_for_timeout(20)
    page.mouse.up()

    final = int(slider.input_value())
    assert final == int(slider.get_attribute("max")), "the drag did not reach the right end"
    wait_for_filters(lab, final)
    page.wait_for_timeout(500)  # a late, older view would show up here
    rec = page.evaluate("() => window.__sliderRec")
    shown = rec["filters"]
    assert shown[-1] == final, shown
    assert len(shown) >= 3, f"no intermediate views during the drag: {shown} (from {start})"
    assert all(a < b for a, b in itertools.pairwise(shown)), (
        f"views out of order for a left-to-right drag: {shown}")
    assert page.locator(FILTERS_BOX).input_value() == str(final)
    kernel = kernel_exec(lab, "print(ex.layers[0]['filters'], ex.outputs[0].shape[-1])").split()
    assert kernel == [str(final), str(final)], kernel
    conv_title = lab.explorer().locator(".layerwidget-stage").nth(1).inner_text()
    assert f"(1, 28, 28, {final})" in conv_title

    span_s = (rec["paints"][-1] - rec["inputs"][0]) / 1000
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS_DIR / "slider_drag.json").write_text(json.dumps({
        "slider": "filters (default explorer, 3 → 1 … 256)", "inputs": len(rec["inputs"]),
        "views": len(rec["paints"]), "span_s": round(span_s, 2),
        "views_per_s": round(len(rec["paints"]) / span_s, 1), "shown_filters": shown}, indent=1))
    lab.assert_no_console_errors()


def test_arrow_keys_on_seed_slider_step_the_seed_in_order(lab_page, jupyter_server):
    lab = open_explorer(lab_page, jupyter_server, "sliders_keys.ipynb")
    page = lab.page
    slider = page.locator(SEED_SLIDER)
    slider.scroll_into_view_if_needed()
    assert slider.input_value() == "0"
    slider.focus()
    presses = 12
    for _ in range(presses):
        page.keyboard.press("ArrowRight")
    assert slider.input_value() == str(presses)

    # The kernel computes the last value; every value it computed came after the one before.
    for _ in range(200):
        seen = [int(v) for v in kernel_exec(lab, "print(*SEEN)").split()]
        if seen and seen[-1] == presses:
            break
        page.wait_for_timeout(50)
    assert seen and seen[-1] == presses, seen
    assert all(a < b for a, b in itertools.pairwise(seen)), seen
    assert kernel_exec(lab, "print(ex.seed, ex.panel.seed)").split() == [str(presses)] * 2
    assert page.locator(SEED_BOX).input_value() == str(presses)
    # The last view is the last seed's: the Conv2D map equals a fresh build with that seed.
    check = kernel_exec(lab, """
import numpy as np
from layerwidget.weights import build_layer
layer = build_layer(ex.layers[0], seed=ex.seed, in_shape=tuple(ex.input.shape[1:]))
print(np.allclose(np.asarray(layer(ex.input)), ex.outputs[0], atol=1e-5))
""")
    assert check.strip() == "True", check
    page.wait_for_timeout(300)
    rec = page.evaluate("() => window.__sliderRec")
    assert len(rec["paints"]) >= 1
    lab.assert_no_console_errors()
