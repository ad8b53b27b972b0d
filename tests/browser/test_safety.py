"""Strings from Python reach the page as text: an HTML/script payload never executes."""

import nbformat

PAYLOAD = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'

CELLS = [
    "import numpy as np\nfrom layerwidget import LayerExplorer\n"
    f"PAYLOAD = {PAYLOAD!r}",
    # A label (shown in the panel and in the input figure's title) carrying the payload.
    "ex = LayerExplorer(images=np.zeros((2, 8, 8), np.uint8), labels=[PAYLOAD, PAYLOAD],\n"
    "                   layers=[{'type': 'Conv2D', 'filters': 2, 'padding': 'same'}])\nex",
    # A draft in the panel whose layer type and the error about it carry it too (set from
    # Python, so the browser shows the draft as if typed there).
    "ex.panel.layers = [{'type': PAYLOAD}]\nprint(ex.error)",
]


def test_payloads_in_labels_layer_names_and_errors_render_as_text(jupyter_server, lab_page):
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c) for c in CELLS],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}})
    nbformat.write(nb, jupyter_server.root / "safety.ipynb")
    lab = lab_page("safety.ipynb")
    panel = lab.run_explorer()
    page = lab.page
    error = panel.locator(".lw-error")
    error.wait_for(state="visible", timeout=30_000)

    assert PAYLOAD in panel.locator(".lw-label").inner_text()
    assert PAYLOAD in error.inner_text()
    assert PAYLOAD in panel.locator(".lw-layer legend").first.inner_text()  # the draft's legend
    assert PAYLOAD in lab.explorer().locator(".layerwidget-stage").first.inner_text()
    page.wait_for_timeout(500)  # an onerror handler would have fired by now
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator('img[src="x"]').count() == 0
    lab.screenshot("safety_payloads")
    lab.assert_no_console_errors()
