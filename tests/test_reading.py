"""Reading a map, headless: focus, kernels, presets, one value explained, histograms, code.

Kernels are checked against a NumPy cross-correlation written here, independent of Keras;
receptive fields against the gradient of one output unit with respect to the input.
"""

import re

import numpy as np
import pytest

from layerwidget import LayerExplorer, OptionError, sample_digits
from layerwidget._tf import tf
from layerwidget.presets import KERNEL_PRESETS


@pytest.fixture
def ex():
    explorer = LayerExplorer()
    yield explorer
    explorer.close()


def cross_correlate(image: np.ndarray, kernel: np.ndarray, padding: str) -> np.ndarray:
    """Keras Conv2D's arithmetic on one channel, stride 1, in plain NumPy loops."""
    k = kernel.shape[0]
    if padding == "same":
        before = (k - 1) // 2
        image = np.pad(image, ((before, k - 1 - before), (before, k - 1 - before)))
    h, w = image.shape[0] - k + 1, image.shape[1] - k + 1
    out = np.zeros((h, w), np.float64)
    for r in range(h):
        for c in range(w):
            out[r, c] = (image[r:r + k, c:c + k] * kernel).sum()
    return out


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("name", sorted(KERNEL_PRESETS))
def test_a_preset_on_the_digit_is_a_plain_cross_correlation(name, padding):
    ex = LayerExplorer(layers=[{"type": "Conv2D", "filters": 2, "padding": padding}])
    ex.set_kernel(0, name)
    digit = sample_digits()[0][0].astype(np.float64)
    expected = cross_correlate(digit, KERNEL_PRESETS[name].astype(np.float64), padding)
    for f in range(2):
        np.testing.assert_allclose(ex.outputs[0][0, :, :, f], expected, rtol=1e-5, atol=1e-3)
    np.testing.assert_array_equal(ex.bias(0), np.zeros(2, np.float32))
    ex.close()


def test_kernel_and_bias_are_the_weights_the_layer_ran_with(ex):
    layer = ex.keras_layers[0]
    np.testing.assert_array_equal(ex.kernel(0), layer.get_weights()[0])
    np.testing.assert_array_equal(ex.bias(0), layer.get_weights()[1])
    assert ex.kernel(0).shape == (3, 3, 1, 3) and ex.kernel(0).dtype == np.float32


def test_one_preset_per_filter_and_a_whole_array(ex):
    ex.set_kernel(0, ["sobel x", np.eye(3, dtype=np.float32), "identity"])
    kernel = ex.kernel(0)
    np.testing.assert_array_equal(kernel[:, :, 0, 0], KERNEL_PRESETS["sobel x"])
    np.testing.assert_array_equal(kernel[:, :, 0, 1], np.eye(3))
    np.testing.assert_array_equal(ex.outputs[0][0, :, :, 2], ex.input[0, :, :, 0])
    whole = np.arange(27, dtype=np.float32).reshape(3, 3, 1, 3) / 27
    ex.set_kernel(0, whole, bias=[1.0, 2.0, 3.0])
    np.testing.assert_array_equal(ex.kernel(0), whole)
    np.testing.assert_array_equal(ex.bias(0), [1, 2, 3])
    assert ex.panel.kernels[0] == {"labels": ["edited"] * 3, "edited": True}


def test_random_returns_to_the_seeded_weights(ex):
    seeded = ex.kernel(0)
    ex.set_kernel(0, "laplacian")
    assert not np.array_equal(ex.kernel(0), seeded)
    ex.set_kernel(0, "random")
    np.testing.assert_array_equal(ex.kernel(0), seeded)
    assert ex.panel.kernels[0] == {"labels": None, "edited": False}


def test_edited_kernels_survive_strides_padding_activation_and_go_when_they_no_longer_fit(ex):
    ex.set_kernel(0, "sobel y")
    edited = ex.kernel(0)
    for change in ({"strides": 2}, {"padding": "valid"}, {"activation": "relu"}):
        ex.layers = [{**ex.layers[0], **change}, *ex.layers[1:]]
        np.testing.assert_array_equal(ex.kernel(0), edited)
        assert ex.panel.notice == ""
    ex.layers = [{**ex.layers[0], "kernel_size": 5}, *ex.layers[1:]]
    assert ex.kernel(0).shape == (5, 5, 1, 3)
    assert "no longer fit" in ex.panel.notice and "seeded random" in ex.panel.notice
    assert ex.panel.kernels[0]["labels"] is None


@pytest.mark.parametrize("value, words", [
    ("sobelx", "Did you mean 'sobel x'"),
    (["identity"], "got 1 kernels for 3 filters"),
    (np.zeros((5, 5, 1, 3)), r"needs \(3, 3, 1, 3\)"),
    (np.full((3, 3, 1, 3), np.nan), "NaN"),
])
def test_bad_kernels_raise_and_change_nothing(ex, value, words):
    before = [o.copy() for o in ex.outputs]
    with pytest.raises(OptionError, match=words):
        ex.set_kernel(0, value)
    for old, new in zip(before, ex.outputs, strict=True):
        np.testing.assert_array_equal(old, new)


def test_kernels_belong_to_conv_layers_only(ex):
    with pytest.raises(OptionError, match=r"layer 1 is ReLU, which has no kernel.*layers \[0\]"):
        ex.kernel(1)
    with pytest.raises(OptionError, match="use 0 to 2"):
        ex.set_kernel(7, "identity")


def test_focus_is_a_stage_and_channel_and_bad_ones_are_refused(ex):
    assert ex.focus is None
    ex.focus = (1, 2)
    assert ex.focus == (1, 2) and ex.panel.focus_info["channel"] == 2
    for bad, words in [((4, 0), "stage 4 does not exist"), ((1, 3), "channels 0 to 2"),
                       ("1,2", "not a (stage, channel) pair"), ((1.0, 0), "not a")]:
        with pytest.raises(OptionError, match=re.escape(words)):
            ex.focus = bad
    assert ex.focus == (1, 2)
    ex.panel.set_state({"focus": [9, 9], "edit_seq": 1})
    assert "stage 9 does not exist" in ex.error and ex.focus == (1, 2)


def test_a_stack_edit_that_removes_the_focused_stage_clears_the_focus_with_a_note(ex):
    ex.focus, ex.unit = (3, 1), (2, 2)
    ex.layers = ex.layers[:2]
    assert ex.focus is None and ex.unit is None
    assert "Focus cleared: stage 3" in ex.panel.notice


def test_the_explained_value_is_the_output_and_its_arithmetic_checks_by_hand(ex):
    ex.focus, ex.unit = (1, 0), (0, 0)
    explained = ex.explanation
    assert explained.value == pytest.approx(float(ex.outputs[0][0, 0, 0, 0]), abs=1e-3)
    # Unit (0, 0) with 'same' padding: the kernel's bottom-right 2×2 over the digit's corner.
    digit = ex.input[0, :2, :2, 0]
    by_hand = float((digit * ex.kernel(0)[1:, 1:, 0, 0]).sum() + ex.bias(0)[0])
    assert explained.pre_activation == pytest.approx(by_hand)
    assert ex.panel.focus_info["text"] == explained.text()
    ex.focus, ex.unit = (3, 1), (5, 6)
    explained = ex.explanation
    assert explained.value == pytest.approx(float(ex.outputs[2][0, 5, 6, 1]))
    assert ex.outputs[1][0, 10:12, 12:14, 1].max() == pytest.approx(explained.value)


def test_the_receptive_field_is_where_the_gradient_of_the_unit_is_nonzero():
    layers = [{"type": "Conv2D", "filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
              {"type": "AvgPool2D", "pool_size": 3, "strides": 2, "padding": "same"},
              {"type": "Conv2D", "filters": 1, "kernel_size": 2, "padding": "valid"}]
    ex = LayerExplorer(layers=layers)
    ex.set_kernel(0, "box blur")
    ex.set_kernel(2, "box blur")
    x = tf.Variable(ex.input + 1.0)  # positive pixels and weights: no cancellation
    for stage, row, col in [(3, 0, 0), (3, 5, 5), (2, 3, 6), (1, 13, 0)]:
        with tf.GradientTape() as tape:
            y = x
            for layer in ex.keras_layers[:stage]:
                y = layer(y)
            unit = y[0, row, col, 0]
        grad = tape.gradient(unit, x).numpy()[0, :, :, 0]
        rows, cols = np.nonzero(grad)
        (top, left), (bottom, right) = ex.receptive_field(stage, row, col)
        assert (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1) == (top, left, bottom,
                                                                             right)
    ex.close()


def test_histogram_counts_every_value_and_says_how_many_are_zero(ex):
    counts, edges = ex.histogram(2, bins=20)
    expected = np.histogram(ex.outputs[1].astype(np.float64).ravel(), bins=20)
    np.testing.assert_array_equal(counts, expected[0])
    np.testing.assert_allclose(edges, expected[1])
    ex.histograms = True
    zeros = int((ex.outputs[1] == 0).sum())
    title = ex._stages.histograms[2].figure.title
    assert f"{zeros:,} of {ex.outputs[1].size:,} values are 0" in title
    # The axis is the bins' range, not padded by bqplot: 0-255 pixels read 0 to 255.
    for hist, array in zip(ex._stages.histograms, [ex.input, *ex.outputs], strict=True):
        scale = hist.figure.axes[0].scale
        lo, hi = float(array.min()), float(array.max())
        assert scale.allow_padding is False
        assert (scale.min, scale.max) == pytest.approx((lo, hi if hi > lo else lo + 1.0))
    with pytest.raises(OptionError, match="stage=7 does not exist"):
        ex.histogram(7)


def test_the_panel_applies_a_preset_to_one_filter_and_edits_one_weight(ex):
    ex.panel.set_state({"kernel_edit": {"layer": 0, "filter": 1, "preset": "sobel x", "n": 1},
                        "edit_seq": 1})
    np.testing.assert_array_equal(ex.kernel(0)[:, :, 0, 1], KERNEL_PRESETS["sobel x"])
    assert ex.panel.kernels[0]["labels"] == ["random", "sobel x", "random"]
    ex.panel.set_state({"kernel_edit": {"layer": 0, "filter": 1, "in": 0, "row": 0, "col": 0,
                                        "value": 5.5, "n": 2}, "edit_seq": 2})
    assert ex.kernel(0)[0, 0, 0, 1] == 5.5 and ex.panel.kernels[0]["labels"][1] == "edited"
    ex.panel.set_state({"kernel_edit": {"layer": 1, "filter": 0, "preset": "identity", "n": 3},
                        "edit_seq": 3})
    assert "ReLU, which has no kernel" in ex.error
    ex.panel.set_state({"kernel_edit": {"layer": 0, "filter": None, "preset": "sobl y", "n": 4},
                        "edit_seq": 4})
    assert "Did you mean 'sobel y'" in ex.error
    assert ex.kernel(0)[0, 0, 0, 1] == 5.5  # the last good kernels stay


def test_code_is_a_script_that_reproduces_the_outputs_exactly(ex):
    ex.image_index = 4
    ex.set_kernel(0, ["sobel x", "gaussian blur", "identity"], bias=[0.5, -1.0, 0.25])
    namespace = {}
    exec(compile(ex.code, "ex.code", "exec"), namespace)  # the explorer's own generated code
    for got, want in zip(namespace["stages"], ex.outputs, strict=True):
        np.testing.assert_array_equal(np.asarray(got), want)
