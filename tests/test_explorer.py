"""LayerExplorer driven headlessly, as a script or a test would; edits also arrive as the
browser sends them (``panel.set_state``, the path a comm message takes)."""

import ipywidgets
import numpy as np
import pytest

from layerwidget import LayerExplorer, LayerSpecError, sample_digits
from layerwidget._tf import tf
from layerwidget._widgets import picture_png
from layerwidget.errors import ImageError
from layerwidget.png import data_url
from layerwidget.sizing import MAX_PLOT, explorer_scale, stage_size

STACKS = {
    "default": None,
    "conv5-relu-pool": [
        {"type": "Conv2D", "filters": 5, "kernel_size": 3, "padding": "same"},
        {"type": "ReLU"},
        {"type": "MaxPool2D", "pool_size": 2, "strides": 2},
    ],
    "two-convs-valid": [
        {"type": "Conv2D", "filters": 4, "kernel_size": 5, "strides": 2, "activation": "tanh"},
        {"type": "Conv2D", "filters": 6, "kernel_size": 3, "activation": "relu"},
        {"type": "AvgPool2D", "pool_size": 3, "strides": 1, "padding": "same"},
    ],
    "depthwise-relu-params": [
        {"type": "Conv2D", "filters": 2, "padding": "same"},
        {"type": "DepthwiseConv2D", "kernel_size": 3, "depth_multiplier": 3, "padding": "same"},
        {"type": "ReLU", "max_value": 50.0, "negative_slope": 0.1, "threshold": 1.0},
        {"type": "MaxPool2D", "pool_size": 3, "padding": "same"},
    ],
}


def independent_outputs(ex):
    """Re-create every layer from its Keras config and weights and run the stack again."""
    x = tf.constant(ex.input)
    outs = []
    for layer in ex.keras_layers:
        clone = type(layer).from_config(layer.get_config())
        clone.build(tuple(x.shape))
        clone.set_weights(layer.get_weights())
        x = clone(x)
        outs.append(x.numpy())
    return outs


@pytest.fixture
def ex():
    explorer = LayerExplorer()
    yield explorer
    explorer.close()


@pytest.mark.parametrize("name", list(STACKS))
def test_outputs_equal_an_independent_keras_computation(name):
    ex = LayerExplorer(layers=STACKS[name], image_index=3)
    expected = independent_outputs(ex)
    assert len(ex.outputs) == len(expected) == len(ex.layers)
    for got, want in zip(ex.outputs, expected, strict=True):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want)
    ex.close()


def test_conv_output_equals_raw_tf_nn_with_the_same_kernel(ex):
    kernel, bias = ex.keras_layers[0].get_weights()
    raw = tf.nn.conv2d(ex.input, kernel, strides=1, padding="SAME") + bias
    np.testing.assert_allclose(ex.outputs[0], raw.numpy(), rtol=1e-5, atol=1e-3)


def test_input_is_the_digit_as_raw_pixels(ex):
    images, labels = sample_digits()
    assert ex.input.shape == (1, 28, 28, 1) and ex.input.dtype == np.float32
    np.testing.assert_array_equal(ex.input[0, :, :, 0], images[0].astype(np.float32))
    assert ex.label == 7 == labels[0]
    ex.image_index = 1
    assert ex.label == 2
    np.testing.assert_array_equal(ex.input[0, :, :, 0], images[1])


def test_unit_pixel_scale_divides_by_255(ex):
    raw = ex.input.copy()
    ex.pixel_scale = "unit"
    np.testing.assert_allclose(ex.input, raw / 255.0, rtol=1e-6)
    assert ex.input.max() <= 1.0
    np.testing.assert_array_equal(ex.outputs[0], independent_outputs(ex)[0])


def test_displayed_maps_equal_the_outputs(ex):
    np.testing.assert_array_equal(ex.displayed(0), ex.input[0])
    for i, out in enumerate(ex.outputs, start=1):
        np.testing.assert_array_equal(ex.displayed(i), out[0])
    assert len(ex.figures) == 4


def test_conv2d_filters_3_then_5_gives_three_then_five_channels(ex):
    assert ex.outputs[0].shape == (1, 28, 28, 3)
    ex.layers = [{**ex.layers[0], "filters": 5}, *ex.layers[1:]]
    assert ex.outputs[0].shape == (1, 28, 28, 5)
    assert ex.panel.stages[1]["shape"] == [1, 28, 28, 5]
    np.testing.assert_array_equal(ex.displayed(1), ex.outputs[0][0])


def test_relu_sends_the_min_to_zero_and_keeps_the_max(ex):
    conv, relu = ex.outputs[0], ex.outputs[1]
    assert conv.min() < 0
    assert relu.min() == 0.0 and relu.max() == conv.max()
    stats = ex.panel.stages
    assert stats[2]["min"] == 0.0 and stats[2]["max"] == stats[1]["max"]


def test_maxpool_2x2_stride_2_halves_28_to_14(ex):
    assert ex.outputs[1].shape[1:3] == (28, 28)
    assert ex.outputs[2].shape == (1, 14, 14, 3)


def test_strides_edit_keeps_the_kernels_and_seed_edit_changes_them(ex):
    kernel = ex.keras_layers[0].get_weights()[0]
    ex.layers = [{**ex.layers[0], "strides": 2, "padding": "valid", "activation": "relu"}]
    np.testing.assert_array_equal(ex.keras_layers[0].get_weights()[0], kernel)
    ex.seed = 1
    assert not np.array_equal(ex.keras_layers[0].get_weights()[0], kernel)


def test_same_seed_and_stack_give_identical_maps():
    a, b = LayerExplorer(seed=7), LayerExplorer(seed=7)
    for x, y in zip(a.outputs, b.outputs, strict=True):
        np.testing.assert_array_equal(x, y)
    a.close(), b.close()


def test_python_assignment_of_a_bad_value_raises_and_changes_nothing(ex):
    before = [o.copy() for o in ex.outputs]
    with pytest.raises(LayerSpecError, match=r"Conv2D \(layer 1\).filters=0 is too small; use an "
                                              r"integer from 1 to 256"):
        ex.layers = [{"type": "Conv2D", "filters": 0}]
    with pytest.raises(LayerSpecError, match="unknown type 'Dense'"):
        ex.layers = [{"type": "Dense"}]
    with pytest.raises(ImageError, match=r"image_index=1000 is out of range.*0 to 999"):
        ex.image_index = 1000
    with pytest.raises(ValueError, match="seed=-1"):
        ex.seed = -1
    with pytest.raises(ValueError, match="pixel_scale='0-1'"):
        ex.pixel_scale = "0-1"
    assert ex.layers[0]["filters"] == 3 and ex.image_index == 0
    for x, y in zip(before, ex.outputs, strict=True):
        np.testing.assert_array_equal(x, y)


def test_impossible_shape_from_python_names_layer_and_fix(ex):
    with pytest.raises(LayerSpecError, match=r"Conv2D \(layer 3\).kernel_size=7 is larger than its "
                                              r"7×7|use padding='same'"):
        ex.layers = [{"type": "MaxPool2D"}, {"type": "MaxPool2D"},
                     {"type": "Conv2D", "kernel_size": 7, "padding": "valid"},
                     {"type": "Conv2D", "kernel_size": 3, "padding": "valid"}]


def test_bad_edit_from_the_panel_shows_an_error_and_keeps_the_last_maps(ex):
    before = [o.copy() for o in ex.outputs]
    shown = ex.displayed(1).copy()
    bad = [dict(ex.layers[0], filters=999), *ex.layers[1:]]
    ex.panel.set_state({"layers": bad})  # what a comm message from the browser does
    assert "filters=999 is too large" in ex.error
    assert ex.panel.error["layer"] == 0 and ex.panel.error["field"] == "filters"
    assert ex.layers[0]["filters"] == 3
    for x, y in zip(before, ex.outputs, strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(ex.displayed(1), shown)

    ex.panel.set_state({"layers": [dict(ex.layers[0], filters=5), *ex.layers[1:]]})
    assert ex.error == "" and ex.panel.error == {}
    assert ex.outputs[0].shape == (1, 28, 28, 5)


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("image_index", -1, "image_index=-1 is out of range"),
        ("image_index", "3", "not a whole number"),
        ("image_index", 2.5, "not a whole number"),
        ("seed", "abc", "seed='abc'"),
        ("pixel_scale", "bogus", "pixel_scale='bogus'"),
        ("layers", "Conv2D", "list of layer dicts"),
        ("layers", [], "0 layers"),
        ("layers", [{"type": "Conv2D", "filterz": 3}], "Did you mean 'filters'"),
        ("channel_page", 5, "channel_page=5 is out of range"),
        # None must meet the validators too (traitlets skips them for traits allowing None).
        ("channel_page", None, "channel_page=None is not a whole number"),
        ("layers", None, "got NoneType"),
        ("image_index", None, "image_index=None is not a whole number"),
    ],
)
def test_every_bad_panel_value_becomes_a_panel_error(ex, name, value, words):
    ex.panel.set_state({name: value})
    assert words in ex.error
    assert ex.panel.error["message"] == ex.error
    assert ex.outputs[0].shape == (1, 28, 28, 3)


def test_kernel_acknowledges_each_numbered_edit_after_its_results(ex):
    seen = []
    ex.panel.observe(lambda c: seen.append(("ack", c["new"], ex.panel.stages[1]["shape"][-1])),
                     names="ack")
    ex.panel.set_state({"layers": [dict(ex.layers[0], filters=6)], "edit_seq": 1})
    ex.panel.set_state({"layers": [dict(ex.layers[0], filters=0)], "edit_seq": 2})
    # The ack comes after the stage status of its edit, and refused edits are acknowledged too.
    assert seen == [("ack", 1, 6), ("ack", 2, 6)]
    assert ex.error


def test_going_back_to_a_good_value_clears_the_error(ex):
    ex.panel.set_state({"image_index": 5000})
    assert ex.error
    ex.panel.set_state({"image_index": 0})
    assert ex.error == "" and ex.panel.error == {}


def test_panel_edits_of_every_option_are_applied(ex):
    ex.panel.set_state({"image_index": 4})
    assert ex.image_index == 4 and ex.panel.label == "4"
    ex.panel.set_state({"seed": 3})
    assert ex.seed == 3
    ex.panel.set_state({"pixel_scale": "unit"})
    assert ex.input.max() <= 1.0
    np.testing.assert_array_equal(ex.displayed(0), ex.input[0])
    assert ex.panel.update_id >= 4 and ex.panel.elapsed_ms > 0


def test_python_edits_are_mirrored_to_the_panel(ex):
    ex.layers = [{"type": "Conv2D", "filters": 2}, {"type": "ReLU"}]
    assert ex.panel.layers == ex.layers
    assert [s["name"] for s in ex.panel.stages] == ["input", "1. Conv2D", "2. ReLU"]
    assert ex.panel.stages[1]["shape_text"] == "(1, 26, 26, 2)"
    assert ex.panel.stages[1]["shape"] == [1, 26, 26, 2]
    assert "keras.layers.Conv2D(filters=2" in ex.panel.code
    assert len(ex.figures) == 3


def test_wide_stages_page_through_channels_64_at_a_time(ex):
    ex.layers = [{"type": "Conv2D", "filters": 100, "padding": "same"}]
    assert ex.panel.channel_pages == ["0–63", "64–99"]
    np.testing.assert_array_equal(ex.displayed(1), ex.outputs[0][0, :, :, :64])
    ex.panel.set_state({"channel_page": 1})
    np.testing.assert_array_equal(ex.displayed(1), ex.outputs[0][0, :, :, 64:])
    assert "channels 64–99 of 100" in ex.figures[1].title
    ex.layers = [{"type": "Conv2D", "filters": 3}]
    assert ex.channel_page == 0 and ex.panel.channel_pages == ["0–2"]


def test_each_stage_shows_a_labelled_block_of_its_own_channels(ex):
    ex.layers = [{"type": "Conv2D", "filters": 100, "padding": "same"}, {"type": "MaxPool2D"},
                 {"type": "Conv2D", "filters": 3, "padding": "same"}]
    ex.channel_page = 1
    np.testing.assert_array_equal(ex.displayed(1), ex.outputs[0][0, :, :, 64:])
    np.testing.assert_array_equal(ex.displayed(2), ex.outputs[1][0, :, :, 64:])
    # The 3-channel stage has one page: it keeps showing all of its own channels.
    np.testing.assert_array_equal(ex.displayed(3), ex.outputs[2][0])
    assert "channels" not in ex.figures[3].title


def test_figures_are_kept_when_the_channel_count_changes(ex):
    figures = ex.figures
    ex.layers = [{**ex.layers[0], "filters": 64}, *ex.layers[1:]]
    assert ex.figures == figures
    np.testing.assert_array_equal(ex.displayed(3), ex.outputs[2][0])


def test_each_stage_sends_one_small_png_painted_from_the_exact_values(ex):
    from helpers import read_png

    from layerwidget.png import png_text
    from layerwidget.render import values_digest

    ex.layers = [{**ex.layers[0], "filters": 32}, *ex.layers[1:]]
    image = ex.figures[1].marks[0].image
    state = image.get_state()
    # Sent as binary (a buffer), in the data: URL form bqplot shows without a Blob.
    assert state["format"] == "url" and isinstance(state["value"], memoryview)
    png = picture_png(image)
    assert bytes(image.value) == data_url(png)
    assert png_text(png)["layerwidget-values-sha256"] == values_digest(ex.outputs[0][0])
    pixels = read_png(png)
    # 32 tiles of 28×28 in the columns the stage's size plan allows, with 1-px gutters.
    size = stage_size(28, 28, 32, explorer_scale(28, 28))
    assert size.rows * size.cols >= 32
    assert pixels.shape == (size.rows * 29 - 1, size.cols * 29 - 1, 4)
    assert len(png) < 60_000  # versus 100 kB of float32 for the same 32 channels


@pytest.mark.parametrize("filters", [64, 100])
def test_a_stage_drawn_smaller_says_so_and_stays_within_the_widest_plot(filters):
    # A long title widens its figure (it must not be clipped): the scale note once made a
    # 100-filter stage 784-807 px wide, which scrolled the output sideways beside the panel.
    ex = LayerExplorer(layers=[
        {"type": "Conv2D", "filters": filters, "padding": "same"}, {"type": "ReLU"},
        {"type": "MaxPool2D", "pool_size": 2, "strides": 2, "padding": "same"}])
    try:
        for view in ex._stages.views:
            margin = view.figure.fig_margin
            width = float(view.figure.layout.width.removesuffix("px"))
            assert width <= MAX_PLOT[0] + margin["left"] + margin["right"], view.figure.title
            if not view.size.to_scale:
                factor = f"{view.size.relative:.2g}"
                assert view.figure.title.endswith(f"  ·  at {factor}× scale")
        assert sum(not view.size.to_scale for view in ex._stages.views) == 3
    finally:
        ex.close()


def test_tiny_maps_are_still_drawn(ex):
    ex.layers = [{"type": "MaxPool2D", "pool_size": 8, "strides": 8},
                 {"type": "MaxPool2D", "pool_size": 3}]
    assert ex.outputs[1].shape == (1, 1, 1, 1)
    np.testing.assert_array_equal(ex.displayed(2), ex.outputs[1][0])


def test_large_stages_are_drawn_from_every_nth_pixel_and_outputs_stay_exact():
    from layerwidget.render import MAX_DRAWN_VALUES

    rgb = np.random.default_rng(0).integers(0, 256, size=(1, 224, 224, 3), dtype=np.uint8)
    ex = LayerExplorer(images=rgb, layers=[{"type": "Conv2D", "filters": 64, "padding": "same"}])
    assert ex.outputs[0].shape == (1, 224, 224, 64)
    np.testing.assert_array_equal(ex.outputs[0], independent_outputs(ex)[0])
    step = ex.draw_steps[1]
    assert step == 4
    np.testing.assert_array_equal(ex.displayed(1), ex.outputs[0][0, ::step, ::step])
    image = ex.figures[1].marks[0].image
    sent = len(bytes(image.value))
    assert image.format == "png"  # too large for a data: URL: binary PNG
    assert sent <= 4 * MAX_DRAWN_VALUES  # at most one RGBA pixel per drawn value: ≤ 1 MiB
    assert "every 4th pixel drawn" in ex.figures[1].title
    assert ex.draw_steps[0] == 1
    np.testing.assert_array_equal(ex.displayed(0), ex.input[0])
    ex.close()


def test_unknown_keyword_argument_names_the_typo():
    with pytest.raises(TypeError, match=r"unknown argument 'sed'.*Did you mean 'seed'"):
        LayerExplorer(sed=1)


@pytest.mark.parametrize(
    "images, shape",
    [
        (np.zeros((3, 10, 12), np.uint8), (3, 10, 12, 1)),
        (np.zeros((2, 10, 12, 3), np.float32), (2, 10, 12, 3)),
        (np.zeros((10, 12)), (1, 10, 12, 1)),
        (np.zeros((10, 12, 3)), (1, 10, 12, 3)),
    ],
)
def test_images_in_every_accepted_layout(images, shape):
    ex = LayerExplorer(images=images, layers=[{"type": "Conv2D", "filters": 2, "padding": "same"}])
    assert ex.input.shape == (1, *shape[1:3], shape[3])
    assert ex.n_images == shape[0] and ex.label is None
    ex.close()


@pytest.mark.parametrize(
    "images, labels, words",
    [
        (np.full((2, 8, 8), np.nan), None, "NaN or infinite"),
        (np.full((2, 8, 8), np.inf), None, "NaN or infinite"),
        (np.zeros((0, 28, 28)), None, "holds no pixels"),
        ([[1, 2], [3]], None, "same height and width"),
        ("digits.png", None, "not pixel data"),
        (np.zeros((1, 5000, 10), np.uint8), None, "at most 4096 pixels a side"),
        (np.zeros((2, 8, 8, 7)), None, "7 channels"),
        (np.zeros((2, 8, 8)), [1, 2, 3], "labels has shape (3,) but there are 2 images"),
        (np.zeros((2, 2, 2, 2, 2)), None, "use (N, H, W)"),
    ],
)
def test_unusable_images_are_refused_with_a_clear_message(images, labels, words):
    with pytest.raises(ImageError) as info:
        LayerExplorer(images=images, labels=labels)
    assert words in str(info.value)


def test_a_stack_too_big_for_the_images_is_refused_at_construction():
    with pytest.raises(LayerSpecError, match="larger than its 4×4 input"):
        LayerExplorer(images=np.zeros((1, 4, 4)), layers=[{"type": "Conv2D", "kernel_size": 5}])


def live_widgets():
    return len(ipywidgets.widgets.widget._instances)


def test_close_releases_every_widget():
    before = live_widgets()
    ex = LayerExplorer()
    ex.layers = [{"type": "Conv2D", "filters": 8}, {"type": "ReLU"}]
    assert live_widgets() > before
    ex.close()
    assert live_widgets() == before


def test_removing_stages_closes_their_figures(ex):
    with_three = live_widgets()
    ex.layers = [{"type": "ReLU"}]
    assert live_widgets() < with_three
    ex.layers = [{"type": "ReLU"}, {"type": "ReLU"}, {"type": "ReLU"}]
    assert live_widgets() == with_three


def test_repr_mimebundle_is_the_widget_view(ex):
    bundle = ex._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == ex.widget.model_id


def test_to_html_exports_the_current_view(tmp_path):
    ex = LayerExplorer(image_index=2, seed=5)
    ex.layers = [{"type": "Conv2D", "filters": 6, "padding": "same"}, {"type": "ReLU"}]
    report = ex.to_html(tmp_path / "view.html", vary={"filters": [3, 6]})
    assert report.combinations == 2
    assert "(1, 28, 28, 6)" in report.path.read_text(encoding="utf-8")
    ex.close()


def test_layers_without_weights_are_reused_across_filters_and_seed_edits(ex):
    relu, pool = ex.keras_layers[1], ex.keras_layers[2]
    ex.layers = [{**ex.layers[0], "filters": 7}, *ex.layers[1:]]
    ex.seed = 3
    assert ex.keras_layers[1] is relu and ex.keras_layers[2] is pool
    for got, want in zip(ex.outputs, independent_outputs(ex), strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_stage_whose_values_did_not_change_is_not_sent_again(ex):
    image_widget = ex.figures[0].marks[0].image
    ex.layers = [{**ex.layers[0], "filters": 4}, *ex.layers[1:]]
    assert ex.figures[0].marks[0].image is image_widget  # the input picture stays
    assert ex.figures[1].marks[0].image is not None
    ex.image_index = 1
    assert ex.figures[0].marks[0].image is not image_widget
    np.testing.assert_array_equal(ex.displayed(0), ex.input[0])


def test_weights_belong_to_a_layer_not_to_its_position():
    convs = [{"type": "Conv2D", "filters": 4, "padding": "same"},
             {"type": "Conv2D", "filters": 3, "kernel_size": 5, "padding": "same"}]
    ex = LayerExplorer(layers=[convs[0], {"type": "ReLU"}, convs[1], {"type": "MaxPool2D"}])
    kernels = {s["id"]: layer.get_weights()[0]
               for s, layer in zip(ex.layers, ex.keras_layers, strict=True)
               if s["type"] == "Conv2D"}

    def unchanged():
        for spec, layer in zip(ex.layers, ex.keras_layers, strict=True):
            if spec["type"] == "Conv2D" and spec["id"] in kernels:
                np.testing.assert_array_equal(layer.get_weights()[0], kernels[spec["id"]])

    layers = ex.layers
    ex.layers = [layers[0], layers[2], layers[3]]  # the ReLU between the convs removed
    unchanged()
    ex.layers = [layers[0], {"type": "AvgPool2D", "pool_size": 1}, layers[2], layers[3]]
    unchanged()
    ex.layers = [layers[0], layers[3], layers[2]]  # reordered
    unchanged()
    ex.layers = [*ex.layers, {"type": "ReLU"}]  # one added: it gets a new id
    assert ex.layers[-1]["id"] == max(s["id"] for s in layers) + 1
    unchanged()
    ex.layers = layers  # back where it started: the same maps
    unchanged()
    ex.close()


def test_the_same_stack_and_seed_give_the_same_maps_in_a_new_explorer():
    a = LayerExplorer(layers=STACKS["two-convs-valid"], seed=7)
    b = LayerExplorer(layers=a.layers, seed=7)
    for x, y in zip(a.outputs, b.outputs, strict=True):
        np.testing.assert_array_equal(x, y)
    a.close()
    b.close()


def test_the_html_snapshot_holds_every_stage_picture_and_caption(ex):
    import base64
    import re

    from layerwidget.views.snapshot import snapshot_html

    ex.layers = [{**ex.layers[0], "filters": 5}, *ex.layers[1:]]
    html = snapshot_html(ex._stages.views, ex.stats, ex.label)
    sources = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert [base64.b64decode(s) for s in sources] == [
        picture_png(f.marks[0].image) for f in ex.figures]
    assert "1. Conv2D (1, 28, 28, 5)" in html and "label 7" in html
    assert "run the cell to explore it again" in html
    # Without the live colour legends, the page says how to read the colours.
    assert "red (negative) through white (0) to blue (positive)" in html


def test_the_snapshot_is_sent_again_only_when_the_view_changed():
    from layerwidget.views.snapshot import Snapshot

    class Handle:
        def __init__(self):
            self.sent = []

        def update(self, obj):
            self.sent.append(obj.data)

    page = ["<p>a</p>"]
    snap = Snapshot(lambda: page[0])
    snap._handle, snap._sent = Handle(), "<p>a</p>"
    snap.refresh()  # seed 0 → 1 → 0 within the quiet time: nothing new to send
    assert snap._handle.sent == []
    page[0] = "<p>b</p>"
    snap.refresh()
    snap.refresh()
    assert snap._handle.sent == ["<p>b</p>"]
