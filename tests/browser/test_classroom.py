"""What a first classroom trial tripped over, checked in JupyterLab as a teacher would meet it:
sizes drawn to scale, nothing clipped, channel pages per stage, colour input, panel fields,
re-runs, restarts and saved notebooks."""

from __future__ import annotations

import json
import re

from labpage import kernel_exec, run_cell, write_notebook

IMPORT = "from layerwidget import LayerExplorer\nimport numpy as np"

# Geometry of every stage figure of the first explorer: its box, its title's box, the drawn
# picture's box, and any toolbar.
GEOMETRY_JS = """
() => {
  const panel = document.querySelector('.layerwidget-panel');
  const root = panel.closest('.widget-hbox');
  const box = (el) => { const r = el.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width}; };
  return Array.from(root.querySelectorAll('.layerwidget-stage')).map((fig) => {
    const svg = fig.querySelector('svg');
    const title = fig.querySelector('text.mainheading');
    const image = fig.querySelector('svg image');
    const toolbar = fig.querySelector('.toolbar, .bqplot-toolbar, .jupyter-widgets.widget-hbox');
    return {figure: box(svg || fig), title: title ? box(title) : null,
            text: title ? title.textContent : '', image: image ? box(image) : null,
            toolbar: toolbar && toolbar.offsetParent !== null ? box(toolbar) : null};
  });
}
"""


def stage_geometry(lab):
    return lab.page.evaluate(GEOMETRY_JS)


def wait_for_stages(lab, count, text=None):
    lab.page.wait_for_function(
        """([count, text]) => {
            const figs = document.querySelectorAll('.layerwidget-stage');
            if (figs.length !== count) return false;
            const all = Array.from(figs).every((f) => f.querySelector('svg image[href]'));
            return all && (!text || Array.from(figs).some((f) => f.textContent.includes(text)));
        }""", arg=[count, text], polling="raf", timeout=60_000)
    lab.page.wait_for_timeout(300)  # bqplot lays titles out a frame after the marks


def test_stages_are_to_scale_and_titles_are_never_clipped(lab_page, jupyter_server):
    name = write_notebook(jupyter_server.root, "classroom_sizes.ipynb", [
        IMPORT,
        "ex = LayerExplorer()\nex",
    ])
    lab = lab_page(name)
    lab.run_explorer()
    wait_for_stages(lab, 4)
    figures = stage_geometry(lab)
    # The input is 28 map pixels wide; the pooled stage's 3 tiles of 14 take 3·15 − 1 = 44.
    input_width = figures[0]["image"]["width"]
    pooled_map = figures[3]["image"]["width"] * 14 / 44
    ratio = input_width / pooled_map
    assert abs(ratio - 2) <= 0.1, (input_width, pooled_map, ratio)
    lab.screenshot("classroom_to_scale")

    panel = lab.wait_for_panel()
    filters = panel.get_by_role("group", name="1. Conv2D").get_by_role("spinbutton",
                                                                        name="filters")
    for count in (3, 64, 100):
        filters.fill(str(count))
        filters.press("Enter")
        wait_for_stages(lab, 4, f"(1, 28, 28, {count})")
        for fig in stage_geometry(lab):
            title, box = fig["title"], fig["figure"]
            assert title is not None and fig["text"], fig
            # The whole title lies inside its figure, and nothing covers it.
            assert box["left"] - 0.5 <= title["left"] and title["right"] <= box["right"] + 0.5, fig
            assert box["top"] - 0.5 <= title["top"], fig
            assert fig["toolbar"] is None, fig
        # Nothing reaches past the notebook's right edge (with the file browser open at 1400 px,
        # a long scale note once made 100-filter figures ~800 px wide, beyond it).
        edge = lab.page.evaluate(
            "() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
            ".jp-WindowedPanel-outer').getBoundingClientRect().right")
        for fig in stage_geometry(lab):
            assert fig["figure"]["right"] <= edge + 0.5, (count, edge, fig)
        lab.screenshot(f"classroom_titles_{count}")
    lab.assert_no_console_errors()


def test_each_stage_pages_its_own_channels_with_true_labels(lab_page, jupyter_server):
    name = write_notebook(jupyter_server.root, "classroom_pages.ipynb", [
        IMPORT,
        "ex = LayerExplorer(layers=[{'type': 'Conv2D', 'filters': 100, 'padding': 'same'},\n"
        "                           {'type': 'MaxPool2D'},\n"
        "                           {'type': 'Conv2D', 'filters': 3, 'padding': 'same'}])\nex",
    ])
    lab = lab_page(name)
    panel = lab.run_explorer()
    wait_for_stages(lab, 4)
    pages = panel.get_by_label("channels shown")
    assert pages.locator("option").all_text_contents() == ["0–63", "64–99"]
    pages.select_option(label="64–99")
    wait_for_stages(lab, 4, "channels 64–99 of 100")
    titles = [fig["text"] for fig in stage_geometry(lab)]
    assert "channels 64–99 of 100" in titles[1] and "channels 64–99 of 100" in titles[2]
    # The 3-channel stage has one page: it shows its own three channels, not "3–3 of 3".
    assert "channels" not in titles[3] and "(1, 14, 14, 3)" in titles[3]
    texts = lab.page.evaluate(
        "(sel) => Array.from(document.querySelectorAll('.layerwidget-stage')[3]"
        ".querySelectorAll(sel)).map((t) => t.textContent)", "text.label")
    # Tile numbers (a Label mark), and the colour legend's min and max (a Lines mark's labels,
    # two decimals; the receptive field's Lines has hidden labels "C1"…).
    tiles = [t for t in texts if t.strip()]
    assert tiles == ["0", "1", "2"], texts
    numbers = [t for t in lab.page.evaluate(
        "(sel) => Array.from(document.querySelectorAll('.layerwidget-stage')[3]"
        ".querySelectorAll(sel)).map((t) => t.textContent)", "g.curve text.curve_label")
        if re.fullmatch(r"-?[0-9]+[.][0-9]{2}", t)]
    lo, hi = json.loads(kernel_exec(lab, "import json\n"
                                        "print(json.dumps([ex.stats[3].min, ex.stats[3].max]))"))
    middle = ["0.00"] if lo < 0 < hi else []
    assert numbers == [f"{lo:.2f}", *middle, f"{hi:.2f}"], numbers
    lab.screenshot("classroom_pages")


def test_colour_input_is_a_colour_picture_and_the_pixel_scale_says_what_it_does(
        lab_page, jupyter_server):
    name = write_notebook(jupyter_server.root, "classroom_colour.ipynb", [
        IMPORT,
        # Red left half, blue right half: any grey rendering would lose it.
        "rgb = np.zeros((2, 16, 16, 3), np.float32)\nrgb[:, :, :8, 0] = 1.0\n"
        "rgb[:, :, 8:, 2] = 1.0\n"
        "ex = LayerExplorer(rgb, layers=[{'type': 'Conv2D', 'filters': 2}])\nex",
    ])
    lab = lab_page(name)
    panel = lab.run_explorer()
    wait_for_stages(lab, 2)
    colours = lab.page.evaluate("""async () => {
        const img = document.querySelector('.layerwidget-stage svg image');
        const pic = new Image();
        pic.src = img.getAttribute('href');
        await pic.decode();
        const canvas = document.createElement('canvas');
        canvas.width = pic.width; canvas.height = pic.height;
        const ctx = canvas.getContext('2d');
        ctx.drawImage(pic, 0, 0);
        const at = (x, y) => Array.from(ctx.getImageData(x, y, 1, 1).data);
        return {left: at(2, 8), right: at(13, 8), width: pic.width};
    }""")
    assert colours["left"][:3] == [255, 0, 0] and colours["right"][:3] == [0, 0, 255], colours
    # Float pixels are fed as they are: the pixel scale offers only that, with their range.
    scale = panel.get_by_label("pixel scale")
    assert scale.locator("option").all_text_contents() == ["as given, 0.00 to 1.00"]
    panel.get_by_label("input channels").check()
    wait_for_stages(lab, 2)
    lab.page.wait_for_function(
        "() => document.querySelector('.layerwidget-stage').textContent.includes('RGB')",
        timeout=30_000)
    lab.screenshot("classroom_colour")


def test_panel_fields_show_their_placeholders_whole_and_keep_rows(lab_page, jupyter_server):
    name = write_notebook(jupyter_server.root, "classroom_fields.ipynb", [
        IMPORT,
        "ex = LayerExplorer(layers=[{'type': 'ReLU'}, {'type': 'MaxPool2D'}])\nex",
    ])
    lab = lab_page(name)
    panel = lab.run_explorer()
    wait_for_stages(lab, 3)
    measured = panel.evaluate("""(panel) => {
        const canvas = document.createElement('canvas');
        const ctx = canvas.getContext('2d');
        return Array.from(panel.querySelectorAll('input[placeholder]'))
          .filter((i) => i.placeholder)
          .map((i) => {
            const style = getComputedStyle(i);
            ctx.font = style.font;
            const room = i.clientWidth - parseFloat(style.paddingLeft) -
              parseFloat(style.paddingRight);
            return {text: i.placeholder, text_px: ctx.measureText(i.placeholder).width, room};
          });
    }""")
    assert {m["text"] for m in measured} >= {"no limit", "= pool_size"}, measured
    for m in measured:
        # Room for the text plus Chromium's spin buttons (about 15 px).
        assert m["text_px"] + 15 <= m["room"], m
    rows = panel.evaluate("""(panel) => {
        const top = (el) => el.getBoundingClientRect().top;
        const label = Array.from(panel.querySelectorAll('label'))
          .find((l) => l.textContent === 'seed');
        const box = document.getElementById(label.htmlFor);
        return {label: top(label), box: top(box), height: box.getBoundingClientRect().height};
    }""")
    assert abs(rows["label"] - rows["box"]) < rows["height"], rows  # the seed box is on its row


def test_rerunning_the_cell_releases_the_old_explorer(lab_page, jupyter_server):
    name = write_notebook(jupyter_server.root, "classroom_rerun.ipynb", [
        IMPORT + "\nimport gc, ipywidgets, keras",
        "ex = LayerExplorer()\nex",
        "kept = LayerExplorer(layers=[{'type': 'ReLU'}])\nkept",
    ])
    lab = lab_page(name)
    lab.run_explorer()
    wait_for_stages(lab, 6)  # 4 stages of `ex`, 2 of `kept`
    probe = ("gc.collect()\nprint(json.dumps([len(ipywidgets.widgets.widget._instances), "
             "sum(isinstance(o, keras.layers.Layer) for o in gc.get_objects())]))")
    kernel_exec(lab, "import json")
    counts = [json.loads(kernel_exec(lab, probe))]
    held = kernel_exec(lab, "held = kept\nprint('ok')")
    assert held.strip() == "ok"
    for _ in range(5):
        run_cell(lab, 1)
        run_cell(lab, 2)  # `kept` is also held as `held`: re-running its cell must keep it
        counts.append(json.loads(kernel_exec(lab, probe)))
    # Widgets and Keras layers stay flat for the re-run explorer; the held one adds one set.
    widgets_per_explorer = counts[0][0]  # an upper bound: two explorers' worth at the start
    assert counts[-1][0] - counts[1][0] == 0, counts
    assert counts[-1][1] - counts[1][1] == 0, counts
    assert counts[-1][0] < 2 * widgets_per_explorer, counts
    still = kernel_exec(lab, "held.seed = 3\nprint(held.error == '', len(held.outputs))")
    assert still.split() == ["True", "1"], still
    lab.assert_no_console_errors()


def test_a_restarted_kernel_is_announced_and_the_panel_disabled(lab_page, jupyter_server):
    name = write_notebook(jupyter_server.root, "classroom_restart.ipynb", [
        IMPORT,
        "ex = LayerExplorer()\nex",
    ])
    lab = lab_page(name)
    panel = lab.run_explorer()
    wait_for_stages(lab, 4)
    gone = panel.locator(".lw-gone")
    assert gone.is_hidden()
    lab.page.evaluate("() => window.__layerwidgetPanel.sessionContext.restartKernel()")
    gone.wait_for(state="visible", timeout=30_000)
    assert "kernel has restarted" in gone.text_content()
    seed = panel.get_by_role("spinbutton", name="seed")
    assert seed.is_disabled()
    assert panel.get_by_role("spinbutton", name="filters").is_disabled()
    assert panel.get_by_role("button", name="Add layer").is_disabled()
    lab.screenshot("classroom_restarted")


def test_a_saved_notebook_reopened_without_its_kernel_shows_the_last_view(
        lab_page, jupyter_server):
    name = write_notebook(jupyter_server.root, "classroom_saved.ipynb", [
        IMPORT,
        "ex = LayerExplorer()\nex",
    ])
    lab = lab_page(name)
    panel = lab.run_explorer()
    wait_for_stages(lab, 4)
    filters = panel.get_by_role("spinbutton", name="filters")
    filters.fill("5")
    filters.press("Enter")
    wait_for_stages(lab, 4, "(1, 28, 28, 5)")
    # While the explorer is live, its HTML snapshot (for readers without a kernel) is hidden.
    snapshot = lab.page.locator(".layerwidget-snapshot").first
    snapshot.wait_for(state="attached", timeout=30_000)
    assert snapshot.is_hidden()
    # The snapshot follows the view a moment after the last edit.
    lab.page.wait_for_function(
        "() => document.querySelector('.layerwidget-snapshot').textContent"
        ".includes('(1, 28, 28, 5)')", timeout=30_000)
    lab.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    lab.page.wait_for_timeout(500)
    lab.close()
    jupyter_server.shutdown_kernels()

    reopened = lab_page(name)
    snapshot = reopened.page.locator(".layerwidget-snapshot").first
    snapshot.wait_for(state="attached", timeout=30_000)
    snapshot.scroll_into_view_if_needed()
    assert snapshot.is_visible()
    text = snapshot.text_content()
    assert "run the cell to explore it again" in text and "1. Conv2D (1, 28, 28, 5)" in text
    assert snapshot.locator("img").count() == 4
    assert reopened.page.evaluate(
        "() => Array.from(document.querySelectorAll('.layerwidget-snapshot img'))"
        ".every((i) => i.complete && i.naturalWidth > 0)")
    reopened.screenshot("classroom_saved_reopened")
