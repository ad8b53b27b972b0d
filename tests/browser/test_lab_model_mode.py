"""The trained network in the browser: step through digits and read what it predicts."""

from __future__ import annotations

import json
import re

from labpage import kernel_exec, write_notebook


def test_stepping_through_digits_shows_the_trained_networks_prediction(lab_page, jupyter_server):
    lab = lab_page(write_notebook(jupyter_server.root, "model_mode.ipynb", [
        "import layerwidget",
        "ex = layerwidget.LayerExplorer(model=layerwidget.mnist_model())\nex",
    ]))
    panel = lab.run_explorer()
    title = lab.page.locator(".layerwidget-prediction text.mainheading")
    title.wait_for(state="attached", timeout=60_000)
    # The model's layers are listed read-only, with their parameters; no seed, no add row.
    assert panel.locator(".lw-model-stages li").count() == 9
    assert "9,098 parameters" in panel.locator(".lw-model legend").text_content()
    assert panel.get_by_role("spinbutton", name="seed").is_hidden()
    assert panel.get_by_role("button", name="Train").is_hidden()  # a model is not retrained
    seen = []
    for step in range(4):
        if step:
            before = title.text_content()
            panel.get_by_role("button", name="next image").click()
            lab.page.wait_for_function(
                "(old) => { const t = document.querySelector("
                "'.layerwidget-prediction text.mainheading'); return t && t.textContent !== old; }",
                arg=before, timeout=30_000)
            lab.page.wait_for_function(
                "(i) => document.querySelector('.layerwidget-panel .lw-label')"
                ".textContent !== ''", arg=step, timeout=30_000)
        shown = re.match(r"predicted (\d) \(", title.text_content())
        assert shown, title.text_content()
        truth = json.loads(kernel_exec(lab, "import json\nprint(json.dumps([ex.image_index, "
                                            "ex.predicted_label, int(ex.label)]))"))
        assert truth[0] == step and int(shown.group(1)) == truth[1]
        seen.append((truth[1], truth[2]))
    # The embedded digits 0-3 are 7, 2, 1, 0; the network gets them right.
    assert seen == [(7, 7), (2, 2), (1, 1), (0, 0)]
    bars = lab.page.locator(".layerwidget-prediction rect.bar")
    assert bars.count() == 10
    lab.screenshot("model_mode_trained")
    lab.assert_no_console_errors()
