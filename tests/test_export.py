"""The kernel-free HTML export: one self-contained page, every combination run with real layers.

The pages are read back as a browser would get them: the JSON is taken out of its <script>
element and each stored PNG is decoded by Pillow, a decoder independent of our encoder.
"""

import base64
import io
import json
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from layerwidget import LayerSpecError, normalize_stack, sample_digits, stack_shapes
from layerwidget.data import as_image_set
from layerwidget.errors import ImageError, LayerWidgetError
from layerwidget.export import (
    MAX_COMBINATIONS,
    MNIST_ATTRIBUTION,
    ExportReport,
    ExportTooLargeError,
    export_html,
)
from layerwidget.export.__main__ import main
from layerwidget.layers import DEFAULT_STACK
from layerwidget.options import SHOWN_CHANNELS
from layerwidget.render import draw_step, mosaic_layout, paint
from layerwidget.weights import build_layer

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
WHITE, BLACK = (255, 255, 255, 255), (0, 0, 0, 255)
DARK_RED, DARK_BLUE = (0x67, 0x00, 0x1F, 255), (0x05, 0x30, 0x61, 255)  # the ends of RdBu

TWO_POOLS_THEN_VALID_CONV = [
    {"type": "MaxPool2D", "pool_size": 2},
    {"type": "MaxPool2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "valid"},
]


# ---- reading a page back ----


def page_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="lw-data">(.*?)</script>', html, re.S)
    assert match, "no data block in the page"
    return json.loads(match.group(1))


def decode_png(data: bytes) -> np.ndarray:
    """(h, w, 4) uint8 RGBA pixels, decoded by Pillow: a decoder independent of ours."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


class ScriptCollector(HTMLParser):
    """The (type, text) of each <script> element, as an HTML tokenizer splits the page."""

    def __init__(self):
        super().__init__()
        self.found, self._open = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._open = [dict(attrs).get("type"), ""]

    def handle_data(self, data):
        if self._open is not None:
            self._open[1] += data

    def handle_endtag(self, tag):
        if tag == "script" and self._open is not None:
            self.found.append(tuple(self._open))
            self._open = None


def stage_png_bytes(data: dict, stage: dict) -> bytes:
    src = data["images"][stage["image"]]["src"]
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix)
    return base64.b64decode(src[len(prefix) :])


def stage_png(data: dict, stage: dict) -> np.ndarray:
    return decode_png(stage_png_bytes(data, stage))


def combo_index(data: dict, **picks) -> int:
    """Index of the combination with these labels picked (the rest at the author's values)."""
    index = 0
    for control in data["controls"]:
        label = str(picks.get(control["key"], control["labels"][control["base"]]))
        index = index * len(control["labels"]) + control["labels"].index(label)
    return index


def independent_outputs(stack: list[dict], x: np.ndarray, seed: int) -> list[np.ndarray]:
    """Each layer built afresh from its spec (no Pipeline, no cache) and called in turn."""
    outputs, current = [], x
    for spec in stack:
        layer = build_layer(spec, seed=seed, in_shape=tuple(current.shape[1:]))
        current = np.asarray(layer(current), dtype=np.float32)
        outputs.append(current)
    return outputs


def gutter_size(shape: tuple[int, int, int]) -> tuple[int, int]:
    """(height, width) of a stage picture: the shown maps tiled with 1-pixel gutters."""
    h, w, c = shape
    c = min(c, SHOWN_CHANNELS)
    step = draw_step(h, w, c)
    h, w = -(-h // step), -(-w // step)
    layout = mosaic_layout(h, w, c)
    return layout.rows * (h + 1) - 1, layout.cols * (w + 1) - 1


def colour(pixels: np.ndarray, where) -> tuple:
    return tuple(int(v) for v in pixels[where])


# ---- the default page, exported once ----


@pytest.fixture(scope="module")
def default_page(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "explorer.html"
    start = time.perf_counter()
    report = export_html(path)
    seconds = time.perf_counter() - start
    html = path.read_text(encoding="utf-8")
    return report, html, page_data(html), seconds


def test_default_export_writes_one_self_contained_page(default_page):
    report, html, _data, _ = default_page
    assert isinstance(report, ExportReport)
    assert report.path.is_file() and report.bytes == report.path.stat().st_size
    for external in ("http://", "https://", "//cdn", 'src="http'):
        assert external not in html
    assert ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">") in html
    assert html.count("<script") == 2  # the JSON and the page's own code, nothing loaded
    assert MNIST_ATTRIBUTION in html and "made with layerwidget" in html


def test_default_grid_is_3_filters_by_2_kernels_by_2_strides(default_page):
    report, _, data, _ = default_page
    assert [(c["key"], c["labels"]) for c in data["controls"]] == [
        ("filters", ["3", "5", "8"]), ("kernel_size", ["3", "5"]), ("strides", ["1", "2"])]
    assert report.combinations == len(data["combos"]) == 12
    assert report.invalid_combinations == 0
    first = data["combos"][data["base"]]
    assert [s["shape"] for s in first["stages"]] == [
        [1, 28, 28, 1], [1, 28, 28, 3], [1, 28, 28, 3], [1, 14, 14, 3]]
    assert first["label"] == 7


def test_default_grid_is_well_under_5_mb(default_page):
    report, _, data, seconds = default_page
    assert report.bytes < 5e6
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    (ARTIFACTS_DIR / "export_size.json").write_text(json.dumps({
        "bytes": report.bytes, "combinations": report.combinations,
        "pictures": len(data["images"]), "seconds": round(seconds, 2)}, indent=1))


def test_input_picture_is_stored_once(default_page):
    _, _, data, _ = default_page
    inputs = {combo["stages"][0]["image"] for combo in data["combos"]}
    assert len(inputs) == 1
    sources = [image["src"] for image in data["images"]]
    assert len(sources) == len(set(sources))
    # 12 combinations × (3 layers + the focused channel) at most, plus the one input.
    assert len(sources) <= 12 * 4 + 1


@pytest.mark.parametrize("picks", [{}, {"filters": 8, "kernel_size": 5, "strides": 2}])
def test_stored_stages_match_an_independent_keras_run(default_page, picks):
    _, _, data, _ = default_page
    combo = data["combos"][combo_index(data, **picks)]
    stack = normalize_stack([{**spec, **(picks if spec["type"] == "Conv2D" else {})}
                             for spec in DEFAULT_STACK])
    images, _labels = sample_digits()
    x = images[:1, :, :, None].astype(np.float32)
    arrays = [x, *independent_outputs(stack, x, seed=0)]
    assert len(combo["stages"]) == len(arrays)
    for stage, array in zip(combo["stages"], arrays, strict=True):
        assert stage["shape"] == list(array.shape)
        assert stage["min"] == float(array.min()) and stage["max"] == float(array.max())
        assert f"min {array.min():.2f}" in stage["caption"]
        pixels = stage_png(data, stage)
        assert pixels.shape[:2] == gutter_size(array.shape[1:])
    # The very picture the live widget paints for these values (its first channel page).
    assert stage_png_bytes(data, combo["stages"][0]) == paint(x[0], diverging=False).png
    for stage, array in zip(combo["stages"][1:], arrays[1:], strict=True):
        assert stage_png_bytes(data, stage) == paint(array[0]).png
    conv = combo["stages"][1]
    assert conv["caption"].startswith(f"1. Conv2D {tuple(arrays[1].shape)}")


def default_conv_output() -> np.ndarray:
    images, _ = sample_digits()
    stack = normalize_stack([dict(s) for s in DEFAULT_STACK])
    return independent_outputs(stack, images[:1, :, :, None].astype(np.float32), seed=0)[0][0]


def test_pictures_are_greys_with_see_through_gutters(default_page):
    _, _, data, _ = default_page
    stages = data["combos"][data["base"]]["stages"]
    images, _ = sample_digits()

    # The input: Greys, white = low, black = high.
    digit = stage_png(data, stages[0])
    assert colour(digit, np.unravel_index(images[0].argmin(), images[0].shape)) == WHITE
    assert colour(digit, np.unravel_index(images[0].argmax(), images[0].shape)) == BLACK

    # Three 28×28 maps side by side, 1-pixel gutters the page's background shows through.
    mosaic = stage_png(data, stages[1])
    assert mosaic.shape[:2] == (28, 3 * 28 + 2)
    assert (mosaic[:, [28, 57], 3] == 0).all()
    assert (np.delete(mosaic, [28, 57], axis=1)[:, :, 3] == 255).all()

    # ReLU: nothing negative left, so grey again: its zeros are white.
    conv = default_conv_output()
    relu = stage_png(data, stages[2])
    zero = np.unravel_index(np.argmax(np.maximum(conv, 0) == 0), conv.shape)
    assert colour(relu, (zero[0], zero[2] * 29 + zero[1])) == WHITE


def test_negative_values_are_red_and_positive_blue_as_in_the_widget(default_page):
    # RdBu centred at 0, as bqplot drew it (docs/screenshot.png) and d3's scheme runs.
    _, _, data, _ = default_page
    mosaic = stage_png(data, data["combos"][data["base"]]["stages"][1])
    conv = default_conv_output()
    for value, expected in ((conv.min(), DARK_RED), (conv.max(), DARK_BLUE)):
        y, x, c = np.unravel_index(np.argmax(conv == value), conv.shape)
        assert colour(mosaic, (y, c * 29 + x)) == expected


def test_invalid_combination_is_stored_with_its_message(tmp_path):
    report = export_html(tmp_path / "bad.html", layers=TWO_POOLS_THEN_VALID_CONV,
                         vary={"2.kernel_size": [3, 9]})
    data = page_data(report.path.read_text(encoding="utf-8"))
    assert (report.combinations, report.invalid_combinations) == (2, 1)
    good, bad = data["combos"][combo_index(data)], data["combos"][combo_index(data, **{
        "2.kernel_size": 9})]
    assert good["error"] is None and good["stages"][3]["shape"] == [1, 5, 5, 4]
    with pytest.raises(LayerSpecError) as live:  # what the live widget would say
        stack_shapes(normalize_stack([*TWO_POOLS_THEN_VALID_CONV[:2], {
            **TWO_POOLS_THEN_VALID_CONV[2], "kernel_size": 9}]), (28, 28, 1))
    assert bad["error"] == str(live.value)
    assert "kernel_size=9 is larger than its 7×7 input" in bad["error"]
    assert bad["stages"] == []


def test_invalid_field_value_in_vary_is_stored_not_raised(tmp_path):
    report = export_html(tmp_path / "p.html", vary={"filters": [0, 3]})
    data = page_data(report.path.read_text(encoding="utf-8"))
    assert report.invalid_combinations == 1
    assert "filters=0 is too small; use an integer from 1 to 256" in data["combos"][0]["error"]


def test_invalid_base_stack_raises_and_writes_nothing(tmp_path):
    layers = [*TWO_POOLS_THEN_VALID_CONV[:2], {**TWO_POOLS_THEN_VALID_CONV[2], "kernel_size": 9}]
    with pytest.raises(LayerSpecError, match="kernel_size=9 is larger than its 7×7 input"):
        export_html(tmp_path / "p.html", layers=layers, vary={})
    with pytest.raises(LayerSpecError, match="filters=0 is too small"):
        export_html(tmp_path / "p.html", layers=[{"type": "Conv2D", "filters": 0}])
    assert not any(tmp_path.iterdir())


def test_too_many_combinations_are_refused_before_computing(tmp_path, monkeypatch):
    import layerwidget.pipeline

    def must_not_run(*args, **kwargs):
        raise AssertionError("a layer stack ran although the grid was refused")

    monkeypatch.setattr(layerwidget.pipeline.Pipeline, "run", must_not_run)
    vary = {"filters": list(range(1, 21)), "kernel_size": list(range(1, 12)), "strides": [1, 2]}
    with pytest.raises(ExportTooLargeError) as info:
        export_html(tmp_path / "p.html", vary=vary)
    message = str(info.value)
    assert "20 filters × 11 kernel_size × 2 strides = 440 combinations" in message
    assert f"more than the {MAX_COMBINATIONS}" in message and "fewer values" in message
    assert isinstance(info.value, LayerWidgetError)
    assert not any(tmp_path.iterdir())


def test_page_over_its_budget_is_refused_and_nothing_is_written(tmp_path):
    with pytest.raises(ExportTooLargeError) as info:
        export_html(tmp_path / "p.html", vary={"filters": [3, 8]}, max_bytes=20_000)
    message = str(info.value)
    assert "max_bytes=20,000" in message and "bytes" in message
    assert "fewer values" in message and "raise max_bytes" in message
    assert not any(tmp_path.iterdir())


def test_unknown_vary_key_names_it_lists_the_allowed_and_suggests(tmp_path):
    with pytest.raises(LayerSpecError) as info:
        export_html(tmp_path / "p.html", vary={"filter": [3, 5]})
    message = str(info.value)
    assert "'filter'" in message and "Did you mean 'filters'?" in message
    for allowed in ("kernel_size", "pool_size", "2.pool_size", "image_index", "seed",
                    "pixel_scale"):
        assert allowed in message
    with pytest.raises(LayerSpecError, match=r"MaxPool2D \(layer 2\) has no field 'filters'"):
        export_html(tmp_path / "p.html", vary={"2.filters": [3]})
    with pytest.raises(LayerSpecError, match=r"Did you mean '2.pool_size'"):
        export_html(tmp_path / "p.html", vary={"2.pool_sise": [2]})
    with pytest.raises(LayerSpecError, match="numbered 0 to 2"):
        export_html(tmp_path / "p.html", vary={"3.pool_size": [2]})
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("vary, match", [
    ({"filters": []}, r"vary\['filters'\] is empty"),
    ({"filters": 3}, r"vary\['filters'\] is int 3; give a list of values"),
    ({"filters": "3,5"}, r"give a list of values"),
    ({"filters": [3, 5, 3]}, "lists 3 twice"),
    ({"filters": [[3]]}, "must be numbers, text or None"),
    ({"filters": [3], "0.filters": [5]}, "name the same field"),
    ([("filters", [3])], "vary is list; give a dict"),
])
def test_bad_vary_lists_are_refused_with_the_fix(tmp_path, vary, match):
    with pytest.raises(LayerSpecError, match=match):
        export_html(tmp_path / "p.html", vary=vary)


def test_bad_options_are_refused(tmp_path):
    with pytest.raises(ImageError, match="use 0 to 999"):
        export_html(tmp_path / "p.html", image_index=1000)
    with pytest.raises(ImageError, match="use 0 to 999"):
        export_html(tmp_path / "p.html", vary={"image_index": [0, 1000]})
    with pytest.raises(ValueError, match="use 'raw'"):
        export_html(tmp_path / "p.html", vary={"pixel_scale": ["raw", "0-1"]})
    with pytest.raises(ValueError, match="0 to 4294967295"):
        export_html(tmp_path / "p.html", seed=-1)
    with pytest.raises(TypeError, match="not both"):
        export_html(tmp_path / "p.html", images=np.zeros((2, 8, 8)),
                    image_set=as_image_set(np.zeros((2, 8, 8))))
    assert not any(tmp_path.iterdir())


def test_authors_value_is_added_to_its_list_so_the_first_view_is_the_one_given(tmp_path):
    report = export_html(tmp_path / "p.html", layers=[{"type": "Conv2D", "filters": 4}],
                         vary={"filters": [8, 2]})
    data = page_data(report.path.read_text(encoding="utf-8"))
    assert data["controls"][0]["labels"] == ["2", "4", "8"]
    assert data["controls"][0]["base"] == data["base"] == 1
    assert data["combos"][1]["stages"][1]["shape"] == [1, 26, 26, 4]


def test_listed_value_equal_to_the_authors_takes_its_spelling(tmp_path):
    report = export_html(tmp_path / "p.html", layers=[{"type": "ReLU"}],
                         vary={"negative_slope": [0, 0.1], "seed": [1, 0]})
    data = page_data(report.path.read_text(encoding="utf-8"))
    assert [c["labels"] for c in data["controls"]] == [["0.0", "0.1"], ["0", "1"]]
    assert report.invalid_combinations == 0 and data["base"] == 0


def test_missing_folder_is_refused_before_computing(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        export_html(tmp_path / "no" / "p.html")


def test_image_index_seed_and_pixel_scale_can_vary(tmp_path):
    report = export_html(tmp_path / "p.html", layers=[{"type": "ReLU"}],
                         vary={"image_index": [0, 1], "pixel_scale": ["raw", "unit"],
                               "seed": [0, 1]})
    data = page_data(report.path.read_text(encoding="utf-8"))
    assert report.combinations == 8
    picked = data["combos"][combo_index(data, image_index=1, pixel_scale="unit")]
    assert picked["image_index"] == 1 and picked["label"] == 2
    assert picked["stages"][0]["max"] == 1.0
    assert "label 2" in picked["stages"][0]["caption"]
    raw = data["combos"][combo_index(data)]
    assert raw["stages"][0]["max"] == 255.0 and raw["label"] == 7


def test_wide_and_large_stages_are_drawn_like_the_widget(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(1, 100, 100), dtype=np.uint8)
    report = export_html(tmp_path / "p.html", images=images, vary={},
                         layers=[{"type": "Conv2D", "filters": 100, "padding": "same"}])
    html = report.path.read_text(encoding="utf-8")
    data = page_data(html)
    conv = data["combos"][0]["stages"][1]
    assert conv["shape"] == [1, 100, 100, 100]
    assert "channels 0–63 of 100" in conv["caption"]
    assert conv["step"] == 2 and "every 2nd pixel drawn" in conv["caption"]
    assert stage_png(data, conv).shape[:2] == gutter_size((100, 100, 100)) == (407, 407)
    assert MNIST_ATTRIBUTION not in html and "made with layerwidget" in html


def test_text_in_labels_and_title_cannot_break_out_of_the_page(tmp_path):
    payload = "</script><script>alert(1)</script><!--<script>"
    report = export_html(tmp_path / "p.html", images=np.zeros((2, 8, 8), np.uint8),
                         labels=[payload, "b"], title="<b>Week 3</b> & </title>",
                         layers=[{"type": "ReLU"}], vary={"image_index": [0, 1]})
    html = report.path.read_text(encoding="utf-8")
    # Only "</script" ends a script element (and "<!--" could start hiding one): neither is
    # left in the data, so the payload stays text inside the JSON element.
    assert html.count("</script") == 2 and "<!--" not in html
    scripts = ScriptCollector()
    scripts.feed(html)
    assert [kind for kind, _ in scripts.found] == ["application/json", "module"]
    assert json.loads(scripts.found[0][1])["combos"][0]["label"] == payload
    assert "<title>&lt;b&gt;Week 3&lt;/b&gt; &amp; &lt;/title&gt;</title>" in html
    data = page_data(html)
    assert data["combos"][0]["label"] == payload and data["title"] == "<b>Week 3</b> & </title>"


def test_page_carries_the_front_end_of_js_and_nothing_else(default_page):
    from layerwidget._assets import bundle_css, bundle_js

    _, html, _, _ = default_page
    # The page's script and style are js/export.js and js/export.css with what they import,
    # which test_frontend_source checks like the panel's own files.
    code = html.rsplit('<script type="module">', 1)[1].split("</script>")[0]
    assert code == bundle_js("export.js")
    assert f"<style>{bundle_css('export.css')}</style>" in html
    assert "textContent" in code and "createElement" in code


def test_image_set_from_an_explorer_gives_the_same_page(tmp_path):
    images, labels = sample_digits()
    report = export_html(tmp_path / "p.html", image_set=as_image_set(images[:5], labels[:5]),
                         image_index=4, vary={})
    html = report.path.read_text(encoding="utf-8")
    data = page_data(html)
    assert data["combos"][0]["label"] == 4
    # Not the whole embedded set, but still MNIST digits: credited only for the full sample.
    assert MNIST_ATTRIBUTION not in html
    default = export_html(tmp_path / "q.html", image_set=as_image_set(), vary={})
    assert MNIST_ATTRIBUTION in default.path.read_text(encoding="utf-8")


# ---- the command line ----


def test_cli_writes_the_page_and_prints_one_line(tmp_path, capsys):
    out = tmp_path / "cli.html"
    code = main([str(out), "--vary", "filters=3,5", "--vary", "kernel_size=3,5",
                 "--layers", '[{"type": "Conv2D", "padding": "same"}, {"type": "ReLU"}]',
                 "--seed", "2", "--title", "Week 3"])
    captured = capsys.readouterr()
    assert code == 0 and captured.err == ""
    assert captured.out == f"{out}: {out.stat().st_size:,} bytes, 4 combinations\n"
    data = page_data(out.read_text(encoding="utf-8"))
    assert data["title"] == "Week 3" and data["options"]["seed"] == "2"
    assert [c["labels"] for c in data["controls"]] == [["3", "5"], ["3", "5"]]


@pytest.mark.parametrize("argv, message", [
    (["--vary", "filter=3,5"], "Did you mean 'filters'?"),
    (["--vary", "filters"], "needs the form key=v1,v2"),
    (["--layers", "[{"], "--layers is not valid JSON"),
    (["--pixel-scale", "0-1"], "invalid choice"),
    (["--layers", '[{"type": "Conv2D", "filters": 300}]'], "filters=300 is too large"),
])
def test_cli_errors_are_one_line_with_exit_code_2(tmp_path, capsys, argv, message):
    out = tmp_path / "cli.html"
    assert main([str(out), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("layerwidget.export: error: ") and message in captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert not out.exists()


def test_cli_runs_as_a_module(tmp_path):
    out = tmp_path / "module.html"
    ok = subprocess.run(
        [sys.executable, "-m", "layerwidget.export", str(out), "--vary", "filters=3,5,8",
         "--vary", "2.strides=1,2,None", "--image-index", "3"],
        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == f"{out}: {out.stat().st_size:,} bytes, 9 combinations\n"
    data = page_data(out.read_text(encoding="utf-8"))
    # Listed as given (None cannot be sorted among numbers); the stack's own 2 is the first view.
    assert data["controls"][1]["labels"] == ["1", "2", "None"]
    assert data["controls"][1]["base"] == 1

    bad = subprocess.run([sys.executable, "-m", "layerwidget.export", str(tmp_path / "x.html"),
                          "--vary", "kernel_sise=3"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [bad.stderr.strip()]
    assert "Did you mean 'kernel_size'?" in bad.stderr and "Traceback" not in bad.stderr


def test_each_stage_has_the_legend_of_its_picture(default_page):
    _, _, data, _ = default_page
    combo = data["combos"][data["base"]]
    assert data["palettes"]["RdBu"][0] == "#67001f" and data["palettes"]["Greys"][0] == "#ffffff"
    grey, conv = combo["stages"][0]["legend"], combo["stages"][1]["legend"]
    assert grey == {"palette": "Greys", "ticks": [["0.00", 0.0], ["255.00", 1.0]]}
    assert conv["palette"] == "RdBu" and conv["ticks"][1] == ["0.00", 0.5]
    lo, hi = combo["stages"][1]["min"], combo["stages"][1]["max"]
    assert conv["ticks"][0][0] == f"{lo:.2f}" and conv["ticks"][2][0] == f"{hi:.2f}"


def test_the_focus_shows_channel_0_of_the_first_conv_and_its_kernel(default_page):
    from layerwidget.weights import layer_weights

    _, _, data, _ = default_page
    combo = data["combos"][data["base"]]
    focus = combo["focus"]
    assert "1. Conv2D · channel 0" in focus["title"]
    stack = normalize_stack(list(DEFAULT_STACK))
    kernel = layer_weights(stack[0], seed=0, in_channels=1)[0][:, :, 0, 0]
    np.testing.assert_allclose(focus["weights"], kernel, rtol=1e-6)
    assert focus["kernel"][0][0] == f"{float(kernel[0, 0]):.3g}"


def test_edited_kernels_travel_into_the_page_where_they_fit(tmp_path):
    from layerwidget import LayerExplorer
    from layerwidget.presets import KERNEL_PRESETS

    ex = LayerExplorer()
    ex.set_kernel(0, "sobel x")
    report = ex.to_html(tmp_path / "edited.html", vary={"kernel_size": [3, 5]})
    data = page_data(report.path.read_text(encoding="utf-8"))
    by_k = {combo["stages"][1]["shape"][-1]: combo for combo in data["combos"]}
    assert len(data["combos"]) == 2
    edited, other = data["combos"][0], data["combos"][1]  # kernel_size 3, then 5
    np.testing.assert_array_equal(edited["focus"]["weights"], KERNEL_PRESETS["sobel x"])
    assert edited["notes"] == [] and by_k
    assert "no longer fit" in other["notes"][0] and "seeded random" in other["notes"][0]
    assert stage_png_bytes(data, edited["stages"][1]) == paint(ex.outputs[0][0]).png
    ex.close()
