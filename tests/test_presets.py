"""Kernel presets: Keras with a preset kernel equals a plain NumPy cross-correlation."""

import math

import numpy as np
import pytest

from layerwidget import sample_digits
from layerwidget._tf import tf
from layerwidget.errors import OptionError
from layerwidget.layers import normalize_layer
from layerwidget.presets import KERNEL_PRESETS, preset_kernel, preset_weights
from layerwidget.weights import build_layer

DIGIT = np.asarray(sample_digits()[0][0], np.float32)


def xcorr(image, kernel, stride, padding):
    """Cross-correlation of a 2-D image, written out: Keras's Conv2D for one channel.

    'same' pads (⌈n/s⌉ − 1)·s + k − n zeros per axis, the smaller half first.
    """
    k = kernel.shape[0]
    if padding == "same":
        pads = []
        for n in image.shape:
            total = max((math.ceil(n / stride) - 1) * stride + k - n, 0)
            pads.append((total // 2, total - total // 2))
        image = np.pad(image, pads)
    h = (image.shape[0] - k) // stride + 1
    w = (image.shape[1] - k) // stride + 1
    out = np.zeros((h, w), np.float64)
    for y in range(h):
        for x in range(w):
            window = image[y * stride:y * stride + k, x * stride:x * stride + k]
            out[y, x] = np.sum(window.astype(np.float64) * kernel)
    return out


def keras_conv(image, kernel4, stride, padding, kind="Conv2D"):
    """Keras's layer with ``kernel4`` and zero bias, on an (H, W, C) image: (H', W', C')."""
    k = kernel4.shape[0]
    fields = {"filters": kernel4.shape[3]} if kind == "Conv2D" else {
        "depth_multiplier": kernel4.shape[3]}
    spec = normalize_layer({"type": kind, "kernel_size": k, "strides": stride,
                            "padding": padding, **fields})
    spec["id"] = 1
    bias = np.zeros(kernel4.shape[3] * (1 if kind == "Conv2D" else kernel4.shape[2]),
                    np.float32)
    layer = build_layer(spec, seed=0, in_shape=image.shape, weights=[kernel4, bias])
    return np.asarray(layer(tf.constant(image[None])))[0]


@pytest.mark.parametrize("name", list(KERNEL_PRESETS))
def test_preset_conv2d_on_a_digit_equals_numpy_cross_correlation(name):
    for k in (3, 5):
        kernel = preset_kernel(name, k)
        for stride in (1, 2):
            for padding in ("same", "valid"):
                got = keras_conv(DIGIT[:, :, None], kernel[:, :, None, None], stride, padding)
                want = xcorr(DIGIT, kernel, stride, padding)
                assert got.shape == (*want.shape, 1), (k, stride, padding)
                np.testing.assert_allclose(got[:, :, 0], want, rtol=1e-5, atol=1e-3,
                                           err_msg=f"{name} k={k} s={stride} {padding}")


def test_sobel_signs_on_ramps_follow_the_row_and_column_index():
    ramp = np.tile(np.arange(8, dtype=np.float32) * 3, (8, 1))  # grows left to right by 3
    sx = keras_conv(ramp[:, :, None], preset_kernel("sobel x", 3)[:, :, None, None], 1,
                    "valid")[:, :, 0]
    sy = keras_conv(ramp.T[:, :, None].copy(), preset_kernel("sobel y", 3)[:, :, None, None],
                    1, "valid")[:, :, 0]
    # Each Sobel sums (1 + 2 + 1) differences across two cells: 4 · 2 · 3 = 24.
    assert np.allclose(sx, 24) and np.allclose(sy, 24)
    flipped = keras_conv(ramp[:, ::-1, None].copy(),
                         preset_kernel("sobel x", 3)[:, :, None, None], 1, "valid")
    assert np.allclose(flipped, -24)
    across = keras_conv(ramp[:, :, None], preset_kernel("sobel y", 3)[:, :, None, None], 1,
                        "valid")
    assert np.allclose(across, 0)
    lap = keras_conv(ramp[:, :, None], preset_kernel("laplacian", 3)[:, :, None, None], 1,
                     "valid")
    assert np.allclose(lap, 0)


@pytest.mark.parametrize("k", range(1, 12))
def test_identity_returns_the_input_for_every_size_with_same_padding(k):
    image = DIGIT[4:20, 6:21, None]  # 16×15: odd and even sides
    got = keras_conv(image, preset_kernel("identity", k)[:, :, None, None], 1, "same")
    assert np.array_equal(got, image)


@pytest.mark.parametrize("k", range(1, 12))
def test_blurs_sum_to_one_and_gaussian_is_pascal(k):
    box, gauss = preset_kernel("box blur", k), preset_kernel("gaussian blur", k)
    assert box.shape == gauss.shape == (k, k) and box.dtype == gauss.dtype == np.float32
    assert np.allclose(box, 1 / k**2) and math.isclose(gauss.sum(), 1, rel_tol=1e-6)
    row = np.array([1.0])
    for _ in range(k - 1):
        row = np.convolve(row, [1.0, 1.0])  # the next row of Pascal's triangle
    assert np.allclose(gauss, np.outer(row, row) / row.sum() ** 2, rtol=1e-6)
    if k == 3:
        assert np.allclose(gauss * 16, KERNEL_PRESETS["gaussian blur"] * 16)


@pytest.mark.parametrize("k", range(3, 12))
def test_three_by_three_presets_sit_centred_in_zeros(k):
    centre = (k - 1) // 2
    for name in ("sharpen", "sobel x", "sobel y", "laplacian"):
        kernel = preset_kernel(name, k)
        assert np.array_equal(kernel[centre - 1:centre + 2, centre - 1:centre + 2],
                              KERNEL_PRESETS[name])
        assert np.abs(kernel).sum() == np.abs(KERNEL_PRESETS[name]).sum()
    assert np.array_equal(preset_kernel("sharpen", k),
                          preset_kernel("identity", k) - preset_kernel("laplacian", k))


@pytest.mark.parametrize("name", ["sharpen", "sobel x", "sobel y", "laplacian"])
@pytest.mark.parametrize("k", [1, 2])
def test_three_by_three_preset_on_a_smaller_kernel_says_the_fix(name, k):
    with pytest.raises(OptionError) as err:
        preset_kernel(name, k)
    message = str(err.value)
    assert repr(name) in message and f"kernel_size={k}" in message
    assert "kernel_size to 3 or more" in message and err.value.field == "preset"


def test_unknown_preset_suggests_a_name():
    with pytest.raises(OptionError, match=r"'sobelx' is not one of .* Did you mean 'sobel x'\?"):
        preset_kernel("sobelx", 3)
    with pytest.raises(OptionError, match="kernel size 12"):
        preset_kernel("identity", 12)
    with pytest.raises(OptionError, match="is not one of"):
        preset_weights(["identity", "blur please"], (3, 3, 1, 2))


def test_preset_weights_one_name_fills_every_filter_and_channel():
    kernel = preset_weights("sobel y", (5, 5, 2, 3))
    assert kernel.shape == (5, 5, 2, 3) and kernel.dtype == np.float32
    for c in range(2):
        for f in range(3):
            assert np.array_equal(kernel[:, :, c, f], preset_kernel("sobel y", 5))


def test_preset_weights_list_mixes_names_and_arrays_on_a_two_channel_input():
    own = np.arange(9, dtype=np.float32).reshape(3, 3) - 4
    kernel = preset_weights(["box blur", own, "laplacian"], (3, 3, 2, 3))
    image = np.stack([DIGIT, DIGIT[::-1]], axis=-1)
    got = keras_conv(image, kernel, 1, "same")
    for f, k2 in enumerate([preset_kernel("box blur", 3), own, preset_kernel("laplacian", 3)]):
        # Conv2D sums over input channels: each filter sees the sum of both channels.
        want = xcorr(image[:, :, 0], k2, 1, "same") + xcorr(image[:, :, 1], k2, 1, "same")
        np.testing.assert_allclose(got[:, :, f], want, rtol=1e-5, atol=1e-2)


def test_preset_weights_for_depthwise_maps_entry_m_to_output_c_times_m_plus_m():
    image = np.stack([DIGIT, DIGIT.T.copy()], axis=-1)
    entries = ["identity", "sobel x"]
    kernel = preset_weights(entries, (3, 3, 2, 2))
    got = keras_conv(image, kernel, 2, "same", kind="DepthwiseConv2D")
    for c in range(2):
        for m, name in enumerate(entries):
            want = xcorr(image[:, :, c], preset_kernel(name, 3), 2, "same")
            np.testing.assert_allclose(got[:, :, c * 2 + m], want, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("value, shape, words", [
    (["identity"] * 2, (3, 3, 1, 3), ["2 kernels for 3 filters", "list of exactly 3"]),
    ([np.ones((5, 5))], (3, 3, 1, 1), ["shape (5, 5)", "(3, 3) array"]),
    ([[[1, 2, 3]] * 2 + [[1, np.nan, 3]]], (3, 3, 1, 1), ["nan at (2, 1)", "finite"]),
    (["identity", np.full((3, 3), np.inf)], (3, 3, 1, 2), ["entry 1", "inf at (0, 0)"]),
    ([["a", "b"]], (3, 3, 1, 1), ["entry 0", "preset name or a 3×3 array"]),
    (7, (3, 3, 1, 1), ["preset name or a list"]),
    ("identity", (3, 3, 1), ["kernel_shape=(3, 3, 1)", "four whole numbers"]),
    ("sobel x", (3, 4, 1, 1), ["square"]),
])
def test_preset_weights_refuses_bad_input_and_says_the_fix(value, shape, words):
    with pytest.raises(OptionError) as err:
        preset_weights(value, shape)
    assert err.value.field == "preset"
    for word in words:
        assert word in str(err.value)
