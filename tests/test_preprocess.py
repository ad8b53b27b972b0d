"""mnist_preprocess: a drawing framed the way MNIST's digits were framed.

Each property is checked on the output with plain NumPy written here (bounding box, centre of
mass, correlation), the resampling against TensorFlow's anti-aliased resize.
"""

from __future__ import annotations

import numpy as np
import pytest

from layerwidget import sample_digits
from layerwidget.errors import ImageError
from layerwidget.preprocess import mnist_preprocess, resample


def ink_box(image: np.ndarray, level: float = 0.0) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), inclusive, of the pixels above ``level``."""
    rows, cols = np.nonzero(image > level)
    return rows.min(), rows.max(), cols.min(), cols.max()


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    weight = image.astype(np.float64)
    ys, xs = np.indices(image.shape)
    return (weight * ys).sum() / weight.sum(), (weight * xs).sum() / weight.sum()


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


def blob(height: int, width: int, canvas=(300, 400), at=(40, 70), seed=0) -> np.ndarray:
    """A dark canvas with a bright random-stroke shape filling a height×width box at ``at``."""
    rng = np.random.default_rng(seed)
    image = np.zeros(canvas, np.uint8)
    shape = (rng.uniform(size=(height, width)) < 0.5).astype(np.uint8) * 255
    shape[0, rng.integers(width)] = shape[-1, rng.integers(width)] = 255  # ink on every edge
    shape[rng.integers(height), 0] = shape[rng.integers(height), -1] = 255
    image[at[0] : at[0] + height, at[1] : at[1] + width] = shape
    return image


@pytest.mark.parametrize("height, width", [(120, 60), (50, 150), (90, 90), (200, 30), (7, 5)])
def test_ink_box_is_fitted_to_20_pixels_keeping_its_aspect_ratio(height, width):
    drawing = blob(height, width)
    assert ink_box(drawing) == (40, 40 + height - 1, 70, 70 + width - 1)
    out = mnist_preprocess(drawing)
    assert out.dtype == np.uint8 and out.shape == (28, 28)
    top, bottom, left, right = ink_box(out)
    out_h, out_w = bottom - top + 1, right - left + 1
    assert abs(max(out_h, out_w) - 20) <= 1
    scale = 20 / max(height, width)
    assert abs(out_h - height * scale) <= 1 and abs(out_w - width * scale) <= 1


@pytest.mark.parametrize("seed", range(5))
def test_centre_of_mass_lands_within_half_a_pixel_of_pixel_14_14(seed):
    drawing = blob(100, 80, at=(10 + 30 * seed, 200 - 25 * seed), seed=seed)
    cy, cx = centre_of_mass(mnist_preprocess(drawing))
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_embedded_mnist_digits_have_the_same_framing():
    # The convention itself, read off the real digits: 20-pixel boxes, centre of mass at 14.
    images, _ = sample_digits()
    for image in images[:200]:
        top, bottom, left, right = ink_box(image)
        assert max(bottom - top, right - left) + 1 == 20
        cy, cx = centre_of_mass(image)
        assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_enlarged_off_centre_mnist_digit_comes_back_close_to_the_original():
    images, _ = sample_digits()
    for i, digit in enumerate(images[:30]):
        canvas = np.zeros((200, 200), np.uint8)
        big = np.kron(digit, np.ones((3, 3), np.uint8))  # 84×84
        top, left = 5 + 3 * i, 110 - 3 * i
        canvas[top : top + 84, left : left + 84] = big
        assert correlation(mnist_preprocess(canvas), digit) > 0.9


def test_mnist_digit_passes_through_almost_unchanged():
    images, _ = sample_digits()
    for digit in images[:30]:
        assert correlation(mnist_preprocess(digit), digit) > 0.95


def test_dark_strokes_on_a_light_pad_are_inverted():
    drawing = blob(120, 70)
    light = 255 - drawing
    assert np.median(light) > 127.5
    np.testing.assert_array_equal(mnist_preprocess(light), mnist_preprocess(drawing))
    np.testing.assert_array_equal(mnist_preprocess(light, invert=True), mnist_preprocess(drawing))


def test_forcing_invert_false_on_a_light_pad_finds_no_ink():
    with pytest.raises(ImageError, match="empty"):
        mnist_preprocess(255 - blob(120, 70), invert=False)


def test_grey_paper_counts_as_background():
    drawing = blob(120, 70)
    paper = np.where(drawing > 0, 40, 190).astype(np.uint8)  # dark pen on grey paper
    np.testing.assert_array_equal(mnist_preprocess(paper), mnist_preprocess(drawing))


def test_float_unit_float_255_and_channel_axis_inputs_agree_with_uint8():
    drawing = blob(120, 70)
    expected = mnist_preprocess(drawing)
    np.testing.assert_array_equal(mnist_preprocess(drawing / 255.0), expected)
    np.testing.assert_array_equal(mnist_preprocess(drawing.astype(np.float32)), expected)
    np.testing.assert_array_equal(mnist_preprocess(drawing[..., None]), expected)
    np.testing.assert_array_equal(mnist_preprocess(drawing > 0), expected)


def test_ink_is_what_stands_above_the_threshold():
    drawing = blob(120, 70)
    noisy = drawing.copy()
    noisy[250:260, 350:360] = 10  # faint smudge far away: at the threshold, not ink
    np.testing.assert_array_equal(mnist_preprocess(noisy), mnist_preprocess(drawing))
    noisy[250:260, 350:360] = 11  # one level brighter: ink, and the box now spans to it
    assert not np.array_equal(mnist_preprocess(noisy), mnist_preprocess(drawing))


def test_single_dot_becomes_a_full_20_pixel_square_around_the_centre():
    canvas = np.zeros((50, 60), np.uint8)
    canvas[3, 55] = 200
    expected = np.zeros((28, 28), np.uint8)
    expected[5:25, 5:25] = 255  # centre of mass 14.5: within half a pixel of 14
    np.testing.assert_array_equal(mnist_preprocess(canvas), expected)


def test_thin_horizontal_line_becomes_one_row_20_wide_on_row_14():
    canvas = np.zeros((100, 300), np.uint8)
    canvas[80, 20:170] = 255
    expected = np.zeros((28, 28), np.uint8)
    expected[14, 5:25] = 255
    np.testing.assert_array_equal(mnist_preprocess(canvas), expected)


def test_lopsided_shape_is_kept_whole_when_centring_would_cut_it():
    canvas = np.zeros((100, 100), np.uint8)
    canvas[10:90, 10:14] = 255  # heavy vertical bar …
    canvas[10:11, 14:90] = 60  # … with a long faint arm: mass far left of the box centre
    out = mnist_preprocess(canvas)
    top, bottom, left, right = ink_box(out)
    assert (bottom - top + 1, right - left + 1) == (20, 20)  # nothing cut off
    assert right == 27  # the move stopped at the right edge …
    assert centre_of_mass(out)[1] < 13.5  # … short of centring the mass


@pytest.mark.parametrize("shape, size", [((60, 37), (20, 12)), ((5, 3), (20, 12)),
                                         ((200, 9), (20, 1)), ((1, 1), (20, 20))])
def test_resample_matches_tensorflow_antialiased_bilinear(shape, size):
    from layerwidget._tf import tf

    image = np.random.default_rng(1).uniform(0, 255, shape)
    reference = tf.image.resize(image[None, :, :, None], size, "bilinear", antialias=True)
    np.testing.assert_allclose(resample(image, size), reference.numpy()[0, :, :, 0], atol=1e-3)


@pytest.mark.parametrize("pixels", [np.zeros((40, 40)), np.full((40, 40), 255, np.uint8),
                                    np.full((40, 40), 5.0)])
def test_empty_drawing_raises_with_advice(pixels):
    with pytest.raises(ImageError, match=r"the drawing is empty.*Draw a digit") as info:
        mnist_preprocess(pixels)
    assert info.value.field == "pixels"


@pytest.mark.parametrize("pixels, words", [
    (np.zeros((4097, 10), np.uint8), "4097×10 pixels; at most 4096"),
    (np.zeros((10, 10, 3), np.uint8), r"shape \(10, 10, 3\).*rgb.mean"),
    (np.zeros((2, 10, 10, 1), np.uint8), r"shape \(2, 10, 10, 1\)"),
    (np.zeros(10), r"shape \(10,\)"),
    (np.zeros((0, 5)), "holds no pixels"),
    (np.array([["a", "b"]]), "not numbers"),
    ("digit.png", "not pixels"),
    (np.full((5, 5), 300.0), "run from 300 to 300; pass values from 0 to 255"),
    (np.full((5, 5), -1, np.int16), "from -1 to -1"),
    (np.full((5, 5), np.nan), "NaN"),
])
def test_bad_input_raises_naming_the_fix(pixels, words):
    with pytest.raises(ImageError, match=words):
        mnist_preprocess(pixels)


def test_bad_options_raise():
    with pytest.raises(ImageError, match="invert='yes'"):
        mnist_preprocess(blob(10, 10), invert="yes")
    with pytest.raises(ImageError, match="ink_threshold=300"):
        mnist_preprocess(blob(10, 10), ink_threshold=300)
