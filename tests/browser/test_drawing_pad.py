"""The drawing pad and the picture upload, used in JupyterLab as a student would.

The panel's pad (js/draw.js) sends the ControlPanel trait ``drawing`` (``{width, height,
pixels}`` or None) and an upload ``upload`` (``{name, width, height, pixels, n}``); the explorer
(layerwidget._images_in) fits each to its images, adds the first drawing as a new last image and
replaces that same image as the drawing changes (so, with the 1,000 embedded digits,
``n_images == 1001`` and ``image_index == 1000``), adds each upload as a new image, and shows
the image it added or replaced. Clear sends None, which keeps the images as they are.
"""

from __future__ import annotations

import io
import json
import time

import numpy as np
from labpage import kernel_exec, write_notebook

CELLS = [
    "from layerwidget import LayerExplorer\n"
    "from layerwidget.drawing import decode_drawing, decode_upload, fit_image\n"
    "import json\nimport numpy as np",
    "ex = LayerExplorer()\nex",
]

# The pad's own pixels, averaged over the 56×56 cells the panel sends: computed here apart
# from draw.js, to check what reached the kernel is what the pad shows.
PAD_CELLS_JS = """
(canvas) => {
  const { width, height } = canvas;
  const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  const sums = new Array(56 * 56).fill(0);
  const counts = new Array(56 * 56).fill(0);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const cell = Math.floor(y * 56 / height) * 56 + Math.floor(x * 56 / width);
      sums[cell] += data[(y * width + x) * 4];
      counts[cell] += 1;
    }
  }
  return sums.map((s, i) => s / counts[i]);
}
"""


def open_explorer(lab_page, jupyter_server, name, cells=CELLS):
    lab = lab_page(write_notebook(jupyter_server.root, name, cells))
    panel = lab.run_explorer()
    lab.heatmap_href(0, timeout=60_000)
    assert panel.locator(".lw-draw").count() == 1
    return lab, panel


def kernel_json(lab, expression: str):
    out = kernel_exec(lab, f"print(json.dumps({expression}))")
    assert not out.startswith("ERROR"), out
    return json.loads(out)


def wait_for_kernel(lab, expression: str, ok, timeout_s: float = 30.0):
    """Poll ``expression`` in the kernel until ``ok(value)`` (or it equals ``ok``, if not
    callable), for at most ``timeout_s``; return the last value."""
    check = ok if callable(ok) else (lambda value: value == ok)
    deadline = time.monotonic() + timeout_s
    while True:
        value = kernel_json(lab, expression)
        if check(value) or time.monotonic() > deadline:
            return value
        lab.page.wait_for_timeout(200)


def png_bytes(pixels: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def dark_one_on_white(height: int, width: int) -> np.ndarray:
    """Opaque RGBA: a dark slanted bar (a '1') on white paper with a faint grain."""
    rgba = np.full((height, width, 4), 255, np.uint8)
    rgba[..., :3] = np.random.default_rng(height).integers(250, 256, (height, width, 1))
    ys = np.arange(height // 5, height * 4 // 5)
    for y in ys:
        x = width // 2 + (y - height // 2) // 6
        rgba[y, x - width // 40 - 2 : x + width // 40 + 2, :3] = 20
    return rgba


def test_drawing_a_stroke_feeds_the_pad_to_the_explorer_and_clear_empties_the_pad(
        lab_page, jupyter_server):
    lab, panel = open_explorer(lab_page, jupyter_server, "drawing_pad.ipynb")
    before = lab.heatmap_href(0)
    pad = panel.locator(".lw-draw canvas")
    pad.scroll_into_view_if_needed()
    assert "draw something" in panel.locator(".lw-pad-state").text_content()
    box = pad.bounding_box()
    x0, y0 = box["x"] + 2, box["y"] + 2  # inside the 2 px border: the pad's (0, 0)
    mouse = lab.page.mouse
    # A '7': across at y = 40, then down at x = 130 (CSS pixels of the 168-pixel pad).
    mouse.move(x0 + 30, y0 + 40)
    mouse.down()
    for i in range(1, 21):
        mouse.move(x0 + 30 + 5 * i, y0 + 40)
    for i in range(1, 21):
        mouse.move(x0 + 130, y0 + 40 + 5 * i)
    mouse.up()

    assert wait_for_kernel(lab, "[ex.n_images, ex.image_index]", [1001, 1000]) == [1001, 1000]
    lab.wait_for_new_href(0, before)
    assert panel.locator(".lw-pad-state").text_content() == ""
    # The last drawing the kernel got is the pad as it shows now (to rounding)…
    shown = np.array(pad.evaluate(PAD_CELLS_JS)).reshape(56, 56)
    got = np.array(wait_for_kernel(lab, "decode_drawing(ex.panel.drawing).tolist()",
                                   lambda sent: np.abs(np.array(sent) - shown).max() <= 0.5))
    assert got.shape == (56, 56) and np.abs(got - shown).max() <= 0.5
    # …with the ink where it was drawn: 1 sent pixel = 3 CSS pixels.
    assert got[13, 25] > 200 and got[30, 43] > 200 and got[45, 10] == 0 and got[5, 50] == 0
    # …and the explorer feeds exactly that drawing, framed as MNIST frames its digits.
    same = kernel_json(lab, "bool(np.array_equal(ex.input[0], fit_image(decode_drawing("
                            "ex.panel.drawing), (28, 28, 1), mnist=True)))")
    assert same is True
    assert kernel_json(lab, "[ex.label, ex.error]") == [None, ""]

    shown_before_clear = lab.heatmap_href(0)
    panel.get_by_role("button", name="Clear").click()
    assert "draw something" in panel.locator(".lw-pad-state").text_content()
    assert np.array(pad.evaluate(PAD_CELLS_JS)).max() == 0
    assert wait_for_kernel(lab, "ex.panel.drawing", None) is None
    assert kernel_json(lab, "[ex.n_images, ex.error]") == [1001, ""]
    assert lab.heatmap_href(0) == shown_before_clear  # Clear keeps the images and the maps

    # Drawing again, by touch this time (Chromium's own touch events, as a tablet sends
    # them), replaces the drawn image instead of adding one more.
    touch = lab.page.context.new_cdp_session(lab.page)
    touch.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 1})
    for i in range(16):
        kind = "touchStart" if i == 0 else "touchMove"
        touch.send("Input.dispatchTouchEvent", {
            "type": kind, "touchPoints": [{"x": x0 + 84, "y": y0 + 30 + 7 * i}]})
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    lab.wait_for_new_href(0, shown_before_clear)
    assert wait_for_kernel(lab, "[ex.n_images, ex.image_index]", [1001, 1000]) == [1001, 1000]
    def whole_stroke(sent):  # one upright stroke at x = 84, from y = 30 to 135
        return np.array(sent)[12:44, 28].min() > 200

    got = wait_for_kernel(lab, "decode_drawing(ex.panel.drawing).tolist()", whole_stroke)
    assert whole_stroke(got) and np.array(got)[:, :20].max() == 0
    lab.screenshot("drawing_pad")
    lab.assert_no_console_errors()


def test_uploads_are_checked_in_the_browser_and_good_ones_become_images(
        lab_page, jupyter_server, tmp_path):
    lab, panel = open_explorer(lab_page, jupyter_server, "drawing_upload.ipynb")
    file_input = panel.locator(".lw-draw input[type=file]")
    message = panel.locator(".lw-draw-message")
    good = png_bytes(dark_one_on_white(200, 300))

    refused = {
        "huge.png": (b"\x89PNG" + bytes(11 * 1024 * 1024), "11.0 MB, over the limit of 10 MB"),
        "notes.png": (b"these are my notes, not a picture\n" * 20, "is not a PNG or JPEG"),
        "wide.png": (png_bytes(np.zeros((4, 4100), np.uint8)), "4100×4 px; pictures of 1 to 4096"),
        "broken.png": (good[:33] + bytes(range(256)) * 8, "could not be decoded as a PNG"),
    }
    for name, (content, words) in refused.items():
        path = tmp_path / name
        path.write_bytes(content)
        file_input.set_input_files(str(path))
        lab.page.wait_for_function(
            "([el, words]) => !el.hidden && el.textContent.includes(words)",
            arg=[message.element_handle(), words], timeout=30_000)
        assert name in message.text_content()
    assert kernel_json(lab, "[ex.n_images, ex.panel.upload, ex.error]") == [1000, None, ""]

    before = lab.heatmap_href(0)
    path = tmp_path / "one.png"
    path.write_bytes(good)
    file_input.set_input_files(str(path))
    assert wait_for_kernel(lab, "[ex.n_images, ex.image_index]", [1001, 1000]) == [1001, 1000]
    lab.wait_for_new_href(0, before)
    assert message.is_hidden()
    info = panel.locator(".lw-upload-info").text_content()
    assert "one.png" in info and f"{len(good) / 1024:.1f} kB" in info and "300×200 px" in info
    # The kernel got the PNG's pixels exactly (opaque, not scaled), and feeds them MNIST-framed.
    sent = kernel_json(lab, "[ex.panel.upload['name'], decode_upload(ex.panel.upload).tolist()]")
    assert sent[0] == "one.png"
    np.testing.assert_array_equal(np.array(sent[1], np.uint8), dark_one_on_white(200, 300))
    same = kernel_json(lab, "bool(np.array_equal(ex.input[0], fit_image(decode_upload("
                            "ex.panel.upload), (28, 28, 1), mnist=True)))")
    assert same is True
    digit = np.array(kernel_json(lab, "ex.input[0, :, :, 0].tolist()"))
    assert digit[14, 14] > 128 and digit[0, 0] == 0  # inverted: a bright stroke on black

    # A large picture is scaled down to 512 px on its longer side, keeping its aspect.
    path = tmp_path / "big.png"
    path.write_bytes(png_bytes(dark_one_on_white(600, 1024)))
    file_input.set_input_files(str(path))
    assert wait_for_kernel(lab, "[ex.n_images, ex.image_index]", [1002, 1001]) == [1002, 1001]
    size = kernel_json(lab, "[ex.panel.upload['width'], ex.panel.upload['height']]")
    assert size == [512, 300]
    assert "sent as 512×300 px" in panel.locator(".lw-upload-info").text_content()
    lab.screenshot("drawing_upload")
    lab.assert_no_console_errors()


def test_a_second_view_of_the_explorer_shows_the_drawing_and_its_clear(lab_page, jupyter_server):
    lab, _ = open_explorer(lab_page, jupyter_server, "drawing_two_views.ipynb",
                           [*CELLS, "ex  # the same explorer, shown again"])
    pads = lab.page.locator(".layerwidget-panel .lw-draw canvas")
    assert pads.count() == 2
    first, second = pads.nth(0), pads.nth(1)
    first.scroll_into_view_if_needed()
    box = first.bounding_box()
    mouse = lab.page.mouse
    mouse.move(box["x"] + 60, box["y"] + 30)
    mouse.down()
    for i in range(1, 13):
        mouse.move(box["x"] + 60 + 4 * i, box["y"] + 30 + 9 * i)
    mouse.up()
    wait_for_kernel(lab, "ex.n_images", 1001)
    # The other view paints what was sent (56×56, scaled up): the same cells, to within the
    # blur of scaling up and down again.
    drawn = np.array(first.evaluate(PAD_CELLS_JS)).reshape(56, 56)
    sent = np.array(wait_for_kernel(lab, "decode_drawing(ex.panel.drawing).tolist()",
                                    lambda got: np.abs(np.array(got) - drawn).max() <= 0.5))
    lab.page.wait_for_function(
        "(pads) => pads[1].parentElement.querySelector('.lw-pad-state').textContent === ''",
        arg=pads.element_handles(), timeout=10_000)
    copy = np.array(second.evaluate(PAD_CELLS_JS)).reshape(56, 56)
    assert correlation_of(copy, sent) > 0.95 and np.abs(copy - sent).mean() < 10
    # Clear in the second view clears the first.
    second.scroll_into_view_if_needed()
    lab.page.locator(".layerwidget-panel .lw-draw").nth(1).get_by_role(
        "button", name="Clear").click()
    lab.page.wait_for_function(
        "(pads) => pads[0].parentElement.querySelector('.lw-pad-state').textContent !== ''",
        arg=pads.element_handles(), timeout=10_000)
    assert np.array(first.evaluate(PAD_CELLS_JS)).max() == 0
    lab.assert_no_console_errors()


def correlation_of(a, b) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])
