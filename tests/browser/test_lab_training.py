"""Training from the panel in the browser: progress, curves, repainted maps, Stop, and a kernel
that still answers afterwards."""

from __future__ import annotations

import json
import time

from labpage import ARTIFACTS_DIR, kernel_exec, write_notebook

CELLS = [
    "from layerwidget import LayerExplorer",
    "ex = LayerExplorer(layers=[{'type': 'Conv2D', 'filters': 8, 'padding': 'same'},\n"
    "                           {'type': 'ReLU'}, {'type': 'MaxPool2D'}])\nex",
]

HREF_JS = "(i) => document.querySelectorAll('.layerwidget-stage svg image')[i].getAttribute('href')"


def phase(lab):
    return kernel_exec(lab, "print(ex.training['phase'])").strip()


def test_train_from_the_panel_then_stop_a_long_run(lab_page, jupyter_server):
    lab = lab_page(write_notebook(jupyter_server.root, "training.ipynb", CELLS))
    panel = lab.run_explorer()
    lab.heatmap_href(3, timeout=60_000)
    section = panel.locator(".lw-train")
    before = lab.page.evaluate(HREF_JS, 1)

    section.get_by_role("spinbutton", name="epochs").fill("2")
    clicked = time.perf_counter()
    section.get_by_role("button", name="Train").click()
    # Progress shows at once ("starting…", then epoch and batch), curves follow each epoch.
    section.locator(".lw-train-progress").wait_for(state="visible", timeout=10_000)
    first_progress_s = time.perf_counter() - clicked
    lab.page.wait_for_function(
        "() => document.querySelector('.layerwidget-panel .lw-train-where')"
        ".textContent.includes('batch')", timeout=60_000)
    lab.page.wait_for_function(
        "() => document.querySelector('.layerwidget-panel .lw-train-metrics')"
        ".textContent.includes('validation')", timeout=120_000)
    lab.page.locator(".layerwidget-training").wait_for(state="attached", timeout=30_000)
    assert lab.page.evaluate(HREF_JS, 1) != before  # the maps follow the learnt kernels
    lab.page.wait_for_function(
        "() => !document.querySelector('.layerwidget-panel .lw-train').classList"
        ".contains('lw-train-active')", timeout=120_000)
    state = json.loads(kernel_exec(lab, "import json\nprint(json.dumps([ex.trained, "
                                        "len(ex.history), ex.predicted_label, ex.label]))"))
    assert state[0] is True and state[1] == 2 and state[2] is not None
    assert lab.page.locator(".layerwidget-prediction").count() == 1
    lab.screenshot("training_done")

    # A long run, stopped from the panel after its first epoch.
    section.get_by_role("spinbutton", name="epochs").fill("40")
    section.get_by_role("button", name="Train").click()
    lab.page.wait_for_function(
        "() => document.querySelector('.layerwidget-panel .lw-train-where')"
        ".textContent.includes('epoch 2/40')", timeout=120_000)
    stop_clicked = time.perf_counter()
    section.get_by_role("button", name="Stop").click()
    lab.page.wait_for_function(
        "() => !document.querySelector('.layerwidget-panel .lw-train').classList"
        ".contains('lw-train-active')", timeout=30_000)
    stop_s = time.perf_counter() - stop_clicked
    assert phase(lab) == "stopped"
    history = json.loads(kernel_exec(lab, "print(json.dumps(len(ex.history)))"))
    assert 1 <= history < 40

    # The kernel still answers edits: the next digit repaints the first conv stage (a seed
    # edit would not: the trained kernels are no longer the seeded ones).
    before = lab.page.evaluate(HREF_JS, 1)
    panel.get_by_role("button", name="next image").click()
    lab.page.wait_for_function(f"(old) => ({HREF_JS})(1) !== old", arg=before, timeout=30_000)
    lab.screenshot("training_stopped")
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS_DIR / "training_timings.json").write_text(json.dumps({
        "first_progress_visible_s": round(first_progress_s, 2),
        "stop_click_to_stopped_shown_s": round(stop_s, 2)}))
    lab.assert_no_console_errors()
