"""Reading a map in the browser: click a tile, hover a cell, choose a preset, see the field."""

from __future__ import annotations

import json

from labpage import ARTIFACTS_DIR, kernel_exec, write_notebook

CELLS = [
    "from layerwidget import LayerExplorer\nimport numpy as np",
    "ex = LayerExplorer()\nex",
]

IMAGE_BOX_JS = """
(i) => {
  const fig = document.querySelectorAll('.layerwidget-stage')[i];
  const r = fig.querySelector('svg image').getBoundingClientRect();
  return {x: r.x, y: r.y, width: r.width, height: r.height};
}
"""


def layout_of(lab, stage):
    code = (f"v = ex._stages.views[{stage}]; p = v.picture; lay = p.layout\n"
            "print(json.dumps({'h': lay.h, 'w': lay.w, 'cols': lay.cols, 'rows': lay.rows, "
            "'top': lay.top, 'size': list(lay.size), 'step': p.step, "
            "'origins': [lay.origin(k) for k in range(lay.c)]}))")
    return json.loads(kernel_exec(lab, "import json\n" + code))


def click_map_pixel(lab, stage, channel, row, col):
    """Click the centre of map pixel (row, col) of ``channel``'s tile in stage ``stage``."""
    layout = layout_of(lab, stage)
    box = lab.page.evaluate(IMAGE_BOX_JS, stage)
    cell_w = box["width"] / layout["size"][1]
    cell_h = box["height"] / layout["size"][0]
    row0, col0 = layout["origins"][channel]
    x = box["x"] + (col0 + col + 0.5) * cell_w
    y = box["y"] + (row0 + row + 0.5) * cell_h
    lab.page.mouse.click(x, y)


def tooltip_of(lab, cell) -> dict:
    """Point at ``cell`` (a locator) and return its tooltip's fields: row, col, value."""
    lab.page.mouse.move(0, 0)
    cell.hover()
    tooltip = lab.page.locator(".bqplot_mark_tooltip").filter(has_text="value").first
    tooltip.wait_for(state="visible", timeout=10_000)
    return dict(zip(tooltip.locator(".datafield").all_text_contents(),
                    tooltip.locator(".datavalue").all_text_contents(), strict=True))


def assert_tooltip_reads(lab, cell, value: float) -> None:
    """The tooltip of ``cell`` shows ``value`` within 5 s (the focused map's cell values come
    in a batch applied after the frame that shows an edit)."""
    for _ in range(50):
        shown = tooltip_of(lab, cell)
        if abs(float(shown["value"]) - value) <= 5e-5 * max(1.0, abs(value)):
            return
        lab.page.wait_for_timeout(100)
    raise AssertionError((shown, value))


def wait_for_focus(lab, text):
    lab.page.wait_for_function(
        "(text) => { const f = document.querySelector('.layerwidget-focus-area');"
        " return f && getComputedStyle(f).display !== 'none' && f.textContent.includes(text); }",
        arg=text, timeout=30_000)


TILES_JS = """(i) => {
    const fig = document.querySelectorAll('.layerwidget-stage')[i];
    const img = fig.querySelector('svg image').getBoundingClientRect();
    return {img: [img.x, img.y, img.width, img.height],
            numbers: Array.from(fig.querySelectorAll('text.label')).map((t) => {
              const r = t.getBoundingClientRect();
              return [t.textContent, r.x, r.y, r.right, r.bottom];
            })};
}"""


def assert_tile_numbers(lab, stage, n, shape=""):
    """Stage ``stage`` (once its title says ``shape``) shows tile numbers 0…n-1, each at its
    tile's top left corner (a Label mark, views/stages.py). A tile at least 48 px tall holds its
    number: the text starts ~2 px inside the tile's left edge, its box (a 10 px font, centred
    10 px below the tile's top) within the tile's top 17 px. Above smaller tiles the mosaic has
    a strip, and the number's box lies in it, between the tile's top edge and the row of tiles
    above, covering no map. The picture's cells are square. New numbers follow
    the pictures in a batch of their own: wait for them. Returns the layout."""
    lab.page.wait_for_function(
        """([i, n, shape]) => { const f = document.querySelectorAll('.layerwidget-stage')[i];
             const t = Array.from(f.querySelectorAll('text.label'));
             return f.textContent.includes(shape) && t.length === n &&
               t.every((el) => el.getBoundingClientRect().width > 0); }""",
        arg=[stage, n, shape], timeout=30_000)
    grid = layout_of(lab, stage)
    (down, across), h, w = grid["size"], grid["h"], grid["w"]
    # After a new mosaic size bqplot places the picture over the next frames (its Image mark
    # moves through d3 transitions, before and after the figure's relayout): wait for them.
    lab.page.wait_for_function(
        """([i, across, down]) => { const r = document.querySelectorAll('.layerwidget-stage')[i]
             .querySelector('svg image').getBoundingClientRect();
             return Math.abs(r.width / across - r.height / down) < 0.05; }""",
        arg=[stage, across, down], timeout=10_000)
    tiles = lab.page.evaluate(TILES_JS, stage)
    x0, y0, width, height = tiles["img"]
    cell = width / across
    assert abs(height / down - cell) < 0.05, (tiles["img"], grid)
    assert [t for t, *_ in tiles["numbers"]] == [str(k) for k in range(n)]
    assert (grid["top"] > 0) == (h * cell < 48), (grid, cell)  # a strip exactly for small tiles
    for k, (_, left, top, right, bottom) in enumerate(tiles["numbers"]):
        row0, col0 = grid["origins"][k]
        tile_x, tile_y = x0 + col0 * cell, y0 + row0 * cell
        if grid["top"]:
            assert -0.5 <= left - tile_x <= 2.5, (k, left, tile_x)
            above = tile_y - (grid["top"] + 1) * cell  # the bottom edge of the row above
            assert above - 0.5 <= top and bottom <= tile_y - 0.5, (k, top, bottom, tile_y)
        else:
            assert 0.5 <= left - tile_x <= 4.5, (k, left, tile_x)
            assert tile_y - 1 <= top and bottom <= tile_y + 17, (k, top, bottom, tile_y)
        assert right < tile_x + w * cell, (k, right)
    return grid


def type_burst(lab, selector, first, last):
    """Commit first…last in the panel's number box ``selector``, 15 ms apart (Enter each): a
    burst that the panel's flow control merges."""
    lab.page.evaluate("""async ([selector, first, last]) => {
        const box = document.querySelector(selector);
        for (let v = first; v <= last; v++) {
            box.value = String(v);
            box.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
            await new Promise((resolve) => setTimeout(resolve, 15));
        }
    }""", [selector, first, last])


def open_explorer(lab_page, jupyter_server, name):
    """The default explorer of CELLS in a new notebook, once its four stages are drawn."""
    lab = lab_page(write_notebook(jupyter_server.root, name, CELLS))
    panel = lab.run_explorer()
    lab.page.wait_for_function(
        "() => document.querySelectorAll('.layerwidget-stage svg image[href]').length === 4",
        timeout=60_000)
    return lab, panel


def test_click_hover_preset_and_receptive_field(lab_page, jupyter_server):
    lab, panel = open_explorer(lab_page, jupyter_server, "reading_maps.ipynb")
    lab.page.wait_for_timeout(300)

    # Legends read each stage's min and max, as the status list does.
    stats = json.loads(kernel_exec(lab, "import json\nprint(json.dumps([[s.min, s.max] for s "
                                        "in ex.stats]))"))
    # The numbers are a Lines mark's labels under the bar (views/stages.py; the receptive
    # field's Lines has hidden labels "C1"…); each sits under its tick mark of the bar: the
    # ends, and the middle (0) of a red–blue bar.
    legends = lab.page.evaluate("""() => Array.from(
        document.querySelectorAll('.layerwidget-stage')).map((f) => {
          const centre = (el) => { const r = el.getBoundingClientRect(); return r.x + r.width / 2; };
          return {
            numbers: Array.from(f.querySelectorAll('g.curve text.curve_label'))
              .filter((t) => /^-?[0-9]+[.][0-9][0-9]$/.test(t.textContent))
              .map((t) => [t.textContent, centre(t)]),
            ticks: Array.from(f.querySelectorAll('.ColorBar .tick line')).map(centre),
          };
        })""")
    for (lo, hi), legend in zip(stats, legends, strict=True):
        labels = [text for text, _ in legend["numbers"]]
        assert labels[0] == f"{lo:.2f}" and labels[-1] == f"{hi:.2f}", (lo, hi, labels)
        assert len(labels) == len(legend["ticks"]) == (3 if lo < 0 < hi else 2), legend
        for (_, x), tick in zip(legend["numbers"], legend["ticks"], strict=True):
            assert abs(x - tick) < 3, legend

    assert_tile_numbers(lab, 1, 3)

    # A click on a pixel of channel 2's tile in the Conv2D stage focuses that channel and
    # explains that unit.
    click_map_pixel(lab, 1, 2, 10, 12)
    wait_for_focus(lab, "channel 2")
    focus = json.loads(kernel_exec(lab, "print(json.dumps([ex.focus, ex.unit]))"))
    assert focus == [[1, 2], [10, 12]]
    explain = panel.locator(".lw-explain")
    explain.wait_for(state="visible", timeout=30_000)
    assert "products" in explain.text_content()
    lab.screenshot("reading_focus")
    # Every small grid (kernel, patch, products) draws its columns equally wide, however wide
    # its title (bqplot's GridHeatMap stretches the last column to the scale's range end).
    widths = lab.page.evaluate("""() => Array.from(document.querySelectorAll(
        '.layerwidget-focus')).filter((f) => !f.querySelector('image')).map((f) =>
          Array.from(f.querySelector('.heatmaprow').querySelectorAll('.heatmapcell'))
            .map((c) => c.getBoundingClientRect().width))""")
    assert len(widths) >= 4, widths
    for row in widths:
        assert row and max(row) - min(row) < 0.5, widths

    # The receptive field of that unit on the input: a rectangle of the size the core gives.
    field = json.loads(kernel_exec(lab, "print(json.dumps(ex.receptive_field(1, 10, 12)))"))
    (top, left), (bottom, right) = field
    rect = lab.page.evaluate("""() => {
        const fig = document.querySelectorAll('.layerwidget-stage')[0];
        const path = Array.from(fig.querySelectorAll('path.curve, .curve path, path.line'))
          .find((p) => p.getBoundingClientRect().width > 0);
        const r = path.getBoundingClientRect();
        const img = fig.querySelector('svg image').getBoundingClientRect();
        return {w: r.width, h: r.height, x: r.x - img.x, y: r.y - img.y, cell: img.width / 28};
    }""")
    assert abs(rect["w"] / rect["cell"] - (right - left)) < 0.3, (rect, field)
    assert abs(rect["h"] / rect["cell"] - (bottom - top)) < 0.3, (rect, field)
    assert abs(rect["x"] / rect["cell"] - left) < 0.3 and abs(rect["y"] / rect["cell"] - top) < 0.3

    # Hovering a cell of the large map shows its exact value in the tooltip: the cell with the
    # largest magnitude, so a wrong cell or a rounded-away value would show.
    where = json.loads(kernel_exec(lab, "m = np.abs(ex.outputs[0][0, :, :, 2])\n"
                                        "print(json.dumps([int(v) for v in "
                                        "np.unravel_index(m.argmax(), m.shape)]))"))
    cell = lab.page.locator(".layerwidget-focus .heatmapcell").nth(where[0] * 28 + where[1])
    cell.scroll_into_view_if_needed()
    shown = tooltip_of(lab, cell)
    value = float(kernel_exec(lab, f"print(repr(float(ex.outputs[0][0, {where[0]}, "
                                   f"{where[1]}, 2])))"))
    assert (int(shown["row"]), int(shown["col"])) == tuple(where), shown
    assert abs(float(shown["value"]) - value) <= 5e-5 * max(1.0, abs(value)), (shown, value)
    lab.screenshot("reading_tooltip")
    # The map is a picture the kernel painted, under see-through cells: the picture covers
    # exactly the cells' grid, so the cell the pointer is on is the pixel it shows.
    boxes = lab.page.evaluate("""() => {
        const fig = document.querySelector('.layerwidget-focus');
        const img = fig.querySelector('image').getBoundingClientRect();
        const cells = Array.from(fig.querySelectorAll('.heatmapcell'),
                                 (c) => c.getBoundingClientRect());
        return {img: [img.x, img.y, img.right, img.bottom], n: cells.length,
                cells: [Math.min(...cells.map((r) => r.x)), Math.min(...cells.map((r) => r.y)),
                        Math.max(...cells.map((r) => r.right)),
                        Math.max(...cells.map((r) => r.bottom))],
                fill: getComputedStyle(fig.querySelector('.heatmapcell')).fill};
    }""")
    assert boxes["n"] == 28 * 28 and boxes["fill"] == "rgba(0, 0, 0, 0)", boxes
    assert all(abs(a - b) < 1 for a, b in zip(boxes["img"], boxes["cells"], strict=True)), boxes
    # After an edit the picture changes with the stage pictures, and the cells' values follow
    # (a batch of their own, applied after that frame): the tooltip reads the new value.
    old_href = lab.page.evaluate("() => document.querySelector('.layerwidget-focus image')"
                                 ".getAttribute('href')")
    kernel_exec(lab, "ex.seed = 7")
    lab.page.wait_for_function("(old) => document.querySelector('.layerwidget-focus image')"
                               ".getAttribute('href') !== old", arg=old_href, timeout=30_000)
    value = float(kernel_exec(lab, f"print(repr(float(ex.outputs[0][0, {where[0]}, "
                                   f"{where[1]}, 2])))"))
    assert_tooltip_reads(lab, cell, value)
    # A burst of seed edits from the panel (the flow control merges them; each answer brings
    # its own later batch of cell values): the cells end on the last seed's values.
    type_burst(lab, ".layerwidget-panel .lw-image input[type=number][data-field='seed']", 20, 29)
    for _ in range(100):
        if kernel_exec(lab, "print(ex.seed)").strip() == "29":
            break
        lab.page.wait_for_timeout(100)
    value = float(kernel_exec(lab, f"print(repr(float(ex.outputs[0][0, {where[0]}, "
                                   f"{where[1]}, 2])))"))
    assert_tooltip_reads(lab, cell, value)
    # Time to answer a pointer, in the page: from the mouse event to the frame that shows the
    # tooltip for another cell (kernel not involved).
    pointing_ms = lab.page.evaluate("""async (index) => {
        const cells = document.querySelectorAll('.layerwidget-focus .heatmapcell');
        const target = cells[index];
        const r = target.getBoundingClientRect();
        const tip = () => Array.from(document.querySelectorAll('.bqplot_mark_tooltip'))
          .find((t) => getComputedStyle(t).display !== 'none' && t.textContent.includes('value'));
        const before = tip() ? tip().textContent : '';
        const t0 = performance.now();
        for (const type of ['mouseout', 'mouseover', 'mousemove']) {
          target.dispatchEvent(new MouseEvent(type, {bubbles: true, clientX: r.x + 2,
                                                     clientY: r.y + 2}));
        }
        while (!(tip() && tip().textContent !== before)) {
          await new Promise((resolve) => requestAnimationFrame(resolve));
          if (performance.now() - t0 > 5000) return null;
        }
        await new Promise((resolve) => requestAnimationFrame(resolve));
        return performance.now() - t0;
    }""", where[0] * 28 + where[1] + 1)
    assert pointing_ms is not None, "no tooltip for the next cell"

    # Clicking a cell of the large map picks that unit: ex.unit follows, the field is drawn.
    pick = (where[0], (where[1] + 3) % 28)
    lab.page.locator(".layerwidget-focus .heatmapcell").nth(pick[0] * 28 + pick[1]).click()
    for _ in range(100):
        if kernel_exec(lab, "print(ex.unit)").strip() == str(pick):
            break
        lab.page.wait_for_timeout(100)
    assert kernel_exec(lab, "print(ex.unit)").strip() == str(pick)
    # ...and the picked cell is outlined: the outline's box is that cell's, give or take the
    # stroke.
    lab.page.wait_for_function("""(index) => {
        const fig = document.querySelector('.layerwidget-focus');
        const cell = fig.querySelectorAll('.heatmapcell')[index].getBoundingClientRect();
        const line = Array.from(fig.querySelectorAll('path.line'))
          .find((p) => p.getBoundingClientRect().width > 0);
        if (!line) return false;
        const r = line.getBoundingClientRect();
        return Math.abs(r.x - cell.x) < 2 && Math.abs(r.y - cell.y) < 2 &&
          Math.abs(r.width - cell.width) < 2 && Math.abs(r.height - cell.height) < 2;
    }""", arg=pick[0] * 28 + pick[1], timeout=10_000)

    # Sobel x from the panel, for every filter: the map is the NumPy cross-correlation.
    preset = panel.get_by_label("kernels of layer 1: preset")
    preset.select_option("sobel x")
    lab.page.wait_for_function(
        "() => document.querySelector('.layerwidget-panel .lw-kernel-summary')"
        ".textContent.includes('sobel x: 0, 1, 2')", timeout=30_000)
    check = kernel_exec(lab, """
digit = ex.input[0, :, :, 0].astype(np.float64)
k = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float64)
padded = np.pad(digit, 1)
want = np.array([[(padded[r:r + 3, c:c + 3] * k).sum() for c in range(28)] for r in range(28)])
print(np.allclose(ex.outputs[0][0, :, :, 0], want, atol=1e-3), np.abs(want).max() > 0)
""")
    assert check.split() == ["True", "True"], check
    lab.screenshot("reading_sobel")
    (ARTIFACTS_DIR / "reading_pointing.json").write_text(
        json.dumps({"tooltip_visible_ms": round(pointing_ms, 1)}))
    lab.assert_no_console_errors()


def test_histograms_toggle_from_the_panel_and_count_zeros(lab_page, jupyter_server):
    lab, panel = open_explorer(lab_page, jupyter_server, "reading_hist.ipynb")
    panel.get_by_label("histograms").check()
    hist = lab.page.locator(".layerwidget-histogram").nth(2)
    hist.wait_for(state="visible", timeout=30_000)
    zeros = kernel_exec(lab, "print(int((ex.outputs[1] == 0).sum()), ex.outputs[1].size)")
    count, total = (int(v) for v in zeros.split())
    lab.page.wait_for_function(
        "(t) => document.querySelectorAll('.layerwidget-histogram')[2].textContent.includes(t)",
        arg=f"{count:,} of {total:,} values are 0", timeout=30_000)
    bars = lab.page.evaluate(
        "() => document.querySelectorAll('.layerwidget-histogram')[2]"
        ".querySelectorAll('rect.bar').length")
    assert bars >= 10
    # Every tick label of every histogram's axis lies inside its figure (the end ticks sit on
    # the plot's edges, their labels centred on them).
    outside = lab.page.evaluate("""() => Array.from(
        document.querySelectorAll('.layerwidget-histogram')).flatMap((f) => {
          const box = f.getBoundingClientRect();
          return Array.from(f.querySelectorAll('.tick text')).filter((t) => {
            const r = t.getBoundingClientRect();
            return r.width > 0 && (r.left < box.left - 0.5 || r.right > box.right + 0.5);
          }).map((t) => t.textContent);
        })""")
    assert outside == [], outside
    # The input's axis reads its pixels' range, 0 to 255, not a padded one.
    ends = lab.page.evaluate("""() => Array.from(document.querySelectorAll(
        '.layerwidget-histogram')[0].querySelectorAll('.tick text'), (t) => t.textContent)""")
    assert ends[0] == "0" and ends[-1] == "255", ends
    lab.screenshot("reading_histograms")

    # A stride edit narrows the Conv2D stage, and its histogram with it. Each frame after the
    # edit (sampled once drawn, as in the tile-number test below) shows the histogram's old
    # bars or its new ones across the figure's new plot width, never the new bars on the old
    # plot size. (The histogram figures lead the batch as the stage figures do; unlike the
    # stages' check, this one also held when they did not: it guards what is seen, not the order.)
    sample = """async (strides) => {
        const fig = document.querySelectorAll('.layerwidget-histogram')[1];
        fig.scrollIntoView({block: 'center'});
        await new Promise((r) => setTimeout(r, 400));  // bqplot lays out figures coming into view
        const bars = () => Array.from(fig.querySelectorAll('rect.bar'));
        const heights = () => bars().map((b) => b.getAttribute('height')).join(',');
        const old = heights();
        const oldWidth = fig.getBoundingClientRect().width;
        const box = document.querySelector(".layerwidget-panel fieldset[data-layer='0'] "
                                           + "input[data-field='strides'][type=number]");
        box.value = String(strides);
        box.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
        const out = [];
        const t0 = performance.now();
        while (performance.now() - t0 < 1500) {
          let atFrame = null;
          await new Promise((r) => requestAnimationFrame(() => {
            atFrame = heights();
            setTimeout(r, 0);
          }));
          const now = heights();
          if (now !== atFrame || now === old) continue;
          const f = fig.getBoundingClientRect();
          const rs = bars().map((b) => b.getBoundingClientRect()).filter((r) => r.width > 0);
          out.push({fig: [f.left, f.width], oldWidth, bars: [
            Math.min(...rs.map((r) => r.left)), Math.max(...rs.map((r) => r.right))]});
        }
        return out;
    }"""
    for strides in (2, 1):  # narrower, then wider again
        frames = lab.page.evaluate(sample, strides)
        assert frames, f"no frame showed the new histogram after strides={strides}"
        for frame in frames:  # the plot is the figure less its 30 px side margins
            left, width = frame["fig"]
            first, last = frame["bars"]
            assert width != frame["oldWidth"], frame
            # The bars fill the plot: its axis is the bins' range, unpadded.
            assert abs(first - (left + 30)) < 1 and abs(last - (left + width - 30)) < 1, frame


def test_tile_numbers_follow_channel_and_stride_edits(lab_page, jupyter_server):
    # The numbers of a new mosaic come in a batch of their own after the pictures (a fast run
    # of edits can land the next pictures first, and js/batch.js then leaves the stale numbers
    # out): after each edit, and after a burst, every stage ends with its own numbers.
    lab, panel = open_explorer(lab_page, jupyter_server, "tile_numbers.ipynb")
    box = panel.locator("fieldset[data-layer='0'] input[data-field='filters'][type=number]")
    box.fill("6")
    box.press("Enter")
    for stage, shape in ((1, "(1, 28, 28, 6)"), (2, "(1, 28, 28, 6)"), (3, "(1, 14, 14, 6)")):
        assert_tile_numbers(lab, stage, 6, shape)
    # A stride edit halves every map. Each frame after it (sampled once the frame is drawn)
    # shows each stage's old picture or its new one in its final place, never the new one on
    # the old plot size (bqplot lays the figure out in the frame after its title changes; the
    # figure's changes lead the batch so that happens before its marks move). bqplot lays out
    # only figures on screen (the others when they scroll into view): those are checked.
    frames = lab.page.evaluate("""async () => {
        const figs = Array.from(document.querySelectorAll('.layerwidget-stage')).slice(1);
        const onScreen = figs.map((f) => f.getBoundingClientRect().bottom < innerHeight);
        const old = figs.map((f) => f.querySelector('svg image').getAttribute('href'));
        const box = document.querySelector(".layerwidget-panel fieldset[data-layer='0'] "
                                           + "input[data-field='strides'][type=number]");
        box.value = '2';
        box.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
        const out = [];
        const t0 = performance.now();
        const hrefs = () => figs.map((f) => f.querySelector('svg image').getAttribute('href'));
        while (performance.now() - t0 < 1500) {
          // What a frame painted, read once it is drawn; unless the update landed between
          // its animation-frame callbacks and now (then the next frame paints it).
          let atFrame = null;
          await new Promise((r) => requestAnimationFrame(() => {
            atFrame = hrefs();
            setTimeout(r, 0);
          }));
          const now = hrefs();
          if (now.some((h, i) => h !== atFrame[i])) continue;
          out.push(figs.map((f, i) => {
            const r = f.querySelector('svg image').getBoundingClientRect();
            return [onScreen[i] && now[i] !== old[i], r.width, r.height];
          }));
        }
        return out;
    }""")
    for stage, shape in ((1, "(1, 14, 14, 6)"), (2, "(1, 14, 14, 6)"), (3, "(1, 7, 7, 6)")):
        assert_tile_numbers(lab, stage, 6, shape)
    checked = 0
    for i, stage in enumerate((1, 2, 3)):
        down, across = layout_of(lab, stage)["size"]
        shown = [(w, h) for frame in frames for new, w, h in [frame[i]] if new]
        checked += bool(shown)
        for w, h in shown:
            assert abs(w / across - h / down) < 0.05, (stage, w, h, across, down, shown)
    assert checked >= 1, "no stage on screen showed its new picture"
    type_burst(lab, ".layerwidget-panel fieldset[data-layer='0'] "
                    "input[data-field='filters'][type=number]", 7, 16)
    final = ((1, "(1, 14, 14, 16)"), (2, "(1, 14, 14, 16)"), (3, "(1, 7, 7, 16)"))
    for stage, shape in final:
        assert_tile_numbers(lab, stage, 16, shape)
    lab.page.wait_for_timeout(300)  # nothing stale lands afterwards
    strips = [assert_tile_numbers(lab, stage, 16, shape)["top"] for stage, shape in final]
    assert strips[0] == strips[1] == 0 and strips[2] > 0, strips  # 70 px tiles; 35 px ones
    lab.screenshot("tile_numbers")

    # The focused map changes size with its stage (14×14, then 7×7): no frame shows the new
    # map on the old plot size either (its figure leads the batch too).
    kernel_exec(lab, "ex.focus = (1, 0)")
    wait_for_focus(lab, "channel 0")
    lab.page.evaluate("""() => {
        document.querySelector('.layerwidget-focus').scrollIntoView({block: 'center'});
        const img = () => document.querySelector('.layerwidget-focus image');
        const old = img().getAttribute('href');
        window.__focusFrames = [];
        const t0 = performance.now();
        let atFrame = null;
        const next = () => requestAnimationFrame(() => {
          atFrame = img().getAttribute('href');
          setTimeout(sample, 0);
        });
        const sample = () => {  // as above: what the frame painted, read once it is drawn
          const href = img().getAttribute('href');
          const r = img().getBoundingClientRect();
          const onScreen = r.bottom < innerHeight && r.top > 0;
          if (href === atFrame) window.__focusFrames.push([onScreen && href !== old, r.width,
                                                           r.height]);
          if (performance.now() - t0 < 3000) next();
        };
        next();
    }""")
    kernel_exec(lab, "ex.focus = (3, 0)")
    wait_for_focus(lab, "MaxPool2D · channel 0")
    lab.page.wait_for_timeout(500)
    frames = lab.page.evaluate("() => window.__focusFrames")
    shown = [(w, h) for new, w, h in frames if new]
    assert shown, "the focused map's new picture was never on screen"
    assert all(abs(w - h) < 0.5 for w, h in shown), shown  # 7×7 cells, square
