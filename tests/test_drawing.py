"""Drawings and uploads from the panel: decoded, checked, fitted to the explorer's images, added.

References are computed here: base64 and NumPy for decoding, Pillow (compositing, grey,
bilinear resize: code independent of ours) and plain NumPy for fitting, the embedded MNIST
digits for the framing, and the old ImageSet's own arrays for adding and replacing.
"""

from __future__ import annotations

import base64

import numpy as np
import pytest
from PIL import Image

from layerwidget import as_image_set, sample_digits
from layerwidget.drawing import MAX_UPLOAD_BYTES, decode_drawing, decode_upload, fit_image
from layerwidget.errors import ImageError
from layerwidget.image_sets import add_image, replace_image
from layerwidget.preprocess import mnist_preprocess, resample


def b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array, np.uint8).tobytes()).decode("ascii")


def drawing_value(grey: np.ndarray) -> dict:
    return {"width": grey.shape[1], "height": grey.shape[0], "pixels": b64(grey)}


def upload_value(rgba: np.ndarray, name="digit.png") -> dict:
    return {"name": name, "width": rgba.shape[1], "height": rgba.shape[0], "pixels": b64(rgba)}


def correlation(a, b) -> float:
    return float(np.corrcoef(np.ravel(a).astype(float), np.ravel(b).astype(float))[0, 1])


def pad_drawing(digit: np.ndarray) -> np.ndarray:
    """A 56×56 pad as the panel sends it: the digit drawn twice as large, bright on black."""
    return np.kron(digit, np.ones((2, 2), np.uint8))


def pil_reference(rgba: np.ndarray, mode: str, size: tuple[int, int]) -> np.ndarray:
    """Pillow's view: the picture over white, in ``mode`` ('L' or 'RGB'), resized bilinearly."""
    h, w = rgba.shape[:2]
    white = Image.new("RGBA", (w, h), (255, 255, 255, 255))
    picture = Image.alpha_composite(white, Image.fromarray(rgba, "RGBA")).convert(mode)
    out = np.asarray(picture.resize((size[1], size[0]), Image.BILINEAR))
    return out.reshape(size[0], size[1], -1)


# ---- decoding ----

def test_drawing_decodes_to_its_grey_bytes_row_by_row_and_none_means_cleared():
    grey = np.random.default_rng(0).integers(0, 256, (56, 40), dtype=np.uint8)
    decoded = decode_drawing(drawing_value(grey))
    assert decoded.dtype == np.uint8 and decoded.shape == (56, 40)
    np.testing.assert_array_equal(decoded, grey)
    assert decode_drawing(None) is None
    assert decode_drawing({**drawing_value(grey), "n": 3}).shape == (56, 40)


def test_upload_decodes_to_rgba_bytes():
    rgba = np.random.default_rng(1).integers(0, 256, (7, 9, 4), dtype=np.uint8)
    np.testing.assert_array_equal(decode_upload(upload_value(rgba)), rgba)


GOOD = {"width": 3, "height": 2, "pixels": b64(np.arange(6))}


@pytest.mark.parametrize("value, words", [
    ([1, 2, 3], "of type list, not a dict"),
    ({"width": 3, "height": 2}, "has no 'pixels'"),
    ({**GOOD, "colour": "red"}, "unknown key(s) colour"),
    ({**GOOD, "width": 0}, "width is 0 pixels; it must be from 1 to 4096"),
    ({**GOOD, "height": 5000}, "height is 5000 pixels; it must be from 1 to 4096. Shrink"),
    ({**GOOD, "width": True}, "width is True; send a whole number"),
    ({**GOOD, "width": 2.5}, "width is 2.5; send a whole number"),
    ({**GOOD, "pixels": [0] * 6}, "pixels are of type list; send base64 text"),
    ({**GOOD, "width": 4}, "needs 8 bytes (12 characters"),
    ({**GOOD, "pixels": "AAEC!wQF"}, "not valid base64"),
])
def test_bad_drawing_is_refused_with_the_problem_and_the_fix(value, words):
    with pytest.raises(ImageError) as info:
        decode_drawing(value)
    assert words in str(info.value) and info.value.field == "drawing"


def test_padding_that_hides_a_wrong_byte_count_is_refused():
    # "AAAA" has the length of one byte's base64 ("AA==") but decodes to three bytes.
    with pytest.raises(ImageError, match="decode to 3 bytes, but width × height needs 1"):
        decode_drawing({"width": 1, "height": 1, "pixels": "AAAA"})


@pytest.mark.parametrize("value, words", [
    (None, "of type NoneType, not a dict"),
    ({**GOOD, "name": 5}, "name is 5"),
    ({**GOOD, "width": 5000}, "width is 5000 pixels"),
    ({**GOOD, "pixels": b64(np.arange(6))}, "four RGBA bytes per pixel"),
    ({"width": 2000, "height": 1500, "pixels": ""}, "11.4 MiB as RGBA; at most 10 MiB"),
])
def test_bad_upload_is_refused_with_the_problem_and_the_fix(value, words):
    with pytest.raises(ImageError) as info:
        decode_upload(value)
    assert words in str(info.value) and info.value.field == "upload"


def test_upload_of_exactly_ten_mib_is_taken():
    side = int(np.sqrt(MAX_UPLOAD_BYTES // 4))  # 1619 × 1619 × 4 bytes ≤ 10 MiB
    rgba = np.zeros((side, side, 4), np.uint8)
    assert decode_upload(upload_value(rgba)).shape == (side, side, 4)


# ---- fitting: MNIST-like explorers ----

def test_drawn_digit_is_framed_as_mnist_frames_its_digits():
    digits, _ = sample_digits()
    for digit in digits[:20]:
        drawing = pad_drawing(digit)
        fitted = fit_image(drawing, (28, 28, 1), mnist=True)
        assert fitted.dtype == np.uint8 and fitted.shape == (28, 28, 1)
        np.testing.assert_array_equal(fitted[..., 0], mnist_preprocess(drawing, invert=False))
        assert correlation(fitted, digit) > 0.95


def test_drawing_that_inks_most_of_the_pad_is_refused_for_mnist_and_resized_otherwise():
    drawing = np.full((56, 56), 255, np.uint8)
    drawing[20:36, 10:46] = 0
    with pytest.raises(ImageError, match="covers more than half of the pad"):
        fit_image(drawing, (28, 28, 1), mnist=True)
    fitted = fit_image(drawing, (28, 28, 1), mnist=False)[..., 0]
    assert fitted[14, 14] == 0 and fitted[2, 2] == 255  # read as drawn, never inverted


def test_uploaded_dark_digit_on_transparent_paper_comes_back_as_the_mnist_digit():
    digits, _ = sample_digits()
    for digit in digits[:20]:
        big = np.kron(digit, np.ones((3, 3), np.uint8))  # 84×84
        rgba = np.zeros((110, 130, 4), np.uint8)  # transparent (black, alpha 0) background
        rgba[10:94, 30:114, 3] = big  # black ink, as opaque as the digit is bright
        fitted = fit_image(rgba, (28, 28, 1), mnist=True)
        # Reference: over white, by hand; then grey (all channels equal here) and MNIST framing.
        paper = 255.0 - big.astype(float)
        on_white = np.full((110, 130), 255.0)
        on_white[10:94, 30:114] = paper
        reference = mnist_preprocess(np.floor(on_white + 0.5).astype(np.uint8))
        np.testing.assert_array_equal(fitted[..., 0], reference)
        assert correlation(fitted, digit) > 0.9


def test_uploaded_colour_photo_is_made_grey_by_luma_over_white_before_framing():
    rng = np.random.default_rng(2)
    rgba = np.full((60, 80, 4), 255, np.uint8)
    rgba[15:45, 30:50, :3] = rng.integers(0, 90, (30, 20, 3))  # a dark, coloured blot
    rgba[..., 3] = rng.integers(200, 256, (60, 80))
    fitted = fit_image(rgba, (28, 28, 1), mnist=True)
    alpha = rgba[..., 3:] / 255.0
    over_white = rgba[..., :3] * alpha + 255 * (1 - alpha)
    grey = over_white @ np.array([0.299, 0.587, 0.114])
    reference = mnist_preprocess(np.floor(grey + 0.5).astype(np.uint8))
    np.testing.assert_array_equal(fitted[..., 0], reference)


# ---- fitting: other explorers ----

@pytest.mark.parametrize("channels, mode", [(3, "RGB"), (1, "L")])
def test_upload_for_a_32x32_explorer_matches_pillow_within_one_level(channels, mode):
    rng = np.random.default_rng(3)
    ys, xs = np.mgrid[0:50, 0:70]
    rgba = np.stack([xs * 3, ys * 5, (xs + ys) * 2, rng.integers(0, 256, (50, 70))], axis=-1)
    rgba = rgba.clip(0, 255).astype(np.uint8)
    fitted = fit_image(rgba, (32, 32, channels), mnist=False)
    assert fitted.dtype == np.uint8 and fitted.shape == (32, 32, channels)
    difference = np.abs(fitted.astype(int) - pil_reference(rgba, mode, (32, 32)))
    assert difference.max() <= 1, difference.max()


def test_upload_for_a_32x32_rgb_explorer_matches_numpy_compositing_and_resampling():
    rgba = np.random.default_rng(4).integers(0, 256, (40, 24, 4), dtype=np.uint8)
    fitted = fit_image(rgba, (32, 32, 3), mnist=False)
    alpha = rgba[..., 3] / 255.0
    expected = np.stack([resample(rgba[..., k] * alpha + 255 * (1 - alpha), (32, 32))
                         for k in range(3)], axis=-1)
    np.testing.assert_array_equal(fitted, np.floor(expected + 0.5).astype(np.uint8))


def test_drawing_for_a_32x32_rgb_explorer_is_its_grey_resized_in_all_three_channels():
    drawing = pad_drawing(sample_digits()[0][0])
    fitted = fit_image(drawing, (32, 32, 3), mnist=False)
    expected = np.floor(resample(drawing.astype(float), (32, 32)) + 0.5)
    for k in range(3):
        np.testing.assert_array_equal(fitted[..., k], expected)


def test_rgba_explorer_keeps_alpha_and_transparent_colour_does_not_bleed():
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[:, :20] = (255, 0, 0, 255)  # opaque red
    rgba[:, 20:] = (0, 255, 0, 0)  # see-through green: no colour of its own to show
    fitted = fit_image(rgba, (16, 16, 4), mnist=False)
    alpha = fitted[..., 3]
    assert (alpha[:, :7] == 255).all() and (alpha[:, 9:] == 0).all()
    assert 0 < alpha[0, 8] < 255  # the edge is blended in alpha...
    seen = alpha > 0
    assert (fitted[..., 0][seen] == 255).all() and (fitted[..., 1][seen] == 0).all()  # ...not red


def test_drawing_for_an_rgba_explorer_is_opaque():
    fitted = fit_image(pad_drawing(sample_digits()[0][1]), (28, 28, 4), mnist=False)
    assert (fitted[..., 3] == 255).all()
    np.testing.assert_array_equal(fitted[..., 0], fitted[..., 2])


# ---- fitting: nothing to fit ----

@pytest.mark.parametrize("mnist", [True, False])
def test_empty_drawing_says_to_draw_a_digit(mnist):
    with pytest.raises(ImageError, match=r"the drawing is empty.*Draw a digit") as info:
        fit_image(np.zeros((56, 56), np.uint8), (28, 28, 1), mnist=mnist)
    assert info.value.field == "drawing"


@pytest.mark.parametrize("mnist", [True, False])
def test_single_colour_upload_is_blank(mnist):
    rgba = np.zeros((30, 30, 4), np.uint8)
    rgba[..., :3] = (200, 30, 30)
    rgba[::2, :, 3] = 255  # the see-through rows look white, the others red: not blank...
    fit_image(rgba, (28, 28, 1), mnist=mnist)
    rgba[..., 3] = 255  # ...all red is
    with pytest.raises(ImageError, match=r"blank: every pixel .* \(RGB 200, 30, 30 on white\)"):
        fit_image(rgba, (28, 28, 1), mnist=mnist)


def test_upload_without_strokes_that_stand_out_says_so_for_mnist():
    rgba = np.full((30, 30, 4), 200, np.uint8)
    rgba[10, 10, :3] = 195  # a speck 5 levels off the paper: less than the ink threshold
    with pytest.raises(ImageError, match="has no strokes") as info:
        fit_image(rgba, (28, 28, 1), mnist=True)
    assert info.value.field == "upload"


@pytest.mark.parametrize("pixels, shape, words", [
    (np.zeros((5, 5), np.float32), (28, 28, 1), "dtype float32"),
    (np.zeros((5, 5, 2), np.uint8), (28, 28, 1), "shape (5, 5, 2)"),
    (np.full((5, 5), 255, np.uint8), (28, 28, 2), "C is 1, 3 or 4"),
    (np.full((5, 5), 255, np.uint8), (28, 28), "not (H, W, C)"),
])
def test_wrong_pixels_or_target_are_refused(pixels, shape, words):
    with pytest.raises(ImageError, match=words.replace("(", r"\(").replace(")", r"\)")):
        fit_image(pixels, shape, mnist=False)


# ---- adding and replacing ----

def test_added_drawing_is_the_last_image_and_every_other_image_and_label_is_kept():
    images = as_image_set()
    digits, labels = sample_digits()
    drawn = fit_image(pad_drawing(digits[5]), images.shape, mnist=True)
    bigger, index = add_image(images, drawn)
    assert index == 1000 and len(bigger) == 1001 and len(images) == 1000
    np.testing.assert_array_equal(bigger.pixels[:1000], images.pixels)
    np.testing.assert_array_equal(bigger.pixels[1000], drawn.astype(np.float32))
    assert bigger.label(1000) is None
    assert [bigger.label(i) for i in range(1000)] == labels.tolist()
    assert bigger.eight_bit and not bigger.pixels.flags.writeable
    assert bigger.input(1000, "unit").max() == pytest.approx(1.0)  # 'unit' still divides by 255
    assert images.labels.dtype == np.uint8  # the old set is untouched


def test_added_integer_label_keeps_uint8_labels_and_a_text_label_does_not():
    images = as_image_set()
    drawn = fit_image(pad_drawing(sample_digits()[0][0]), (28, 28, 1), mnist=True)
    with_seven, index = add_image(images, drawn, label=np.int64(7))
    assert with_seven.labels.dtype == np.uint8 and with_seven.label(index) == 7
    with_text, index = add_image(images, drawn, label="seven")
    assert with_text.label(index) == "seven" and with_text.label(0) == 7


def test_replaced_image_changes_only_that_image_and_its_label():
    images = as_image_set()
    digits, labels = sample_digits()
    drawn = fit_image(pad_drawing(digits[9]), images.shape, mnist=True)
    bigger, index = add_image(images, drawn, label=4)
    redrawn = fit_image(pad_drawing(digits[10]), images.shape, mnist=True)
    replaced = replace_image(bigger, index, redrawn)
    np.testing.assert_array_equal(replaced.pixels[:index], bigger.pixels[:index])
    np.testing.assert_array_equal(replaced.pixels[index], redrawn.astype(np.float32))
    assert replaced.label(index) is None and bigger.label(index) == 4
    np.testing.assert_array_equal(bigger.pixels[index], drawn.astype(np.float32))  # untouched
    middle = replace_image(replaced, 3, redrawn, label=0)
    assert [middle.label(i) for i in range(5)] == [*labels[:3].tolist(), 0, labels[4]]


def test_unlabelled_images_stay_unlabelled_until_a_label_is_given():
    images = as_image_set(np.zeros((3, 28, 28), np.uint8))
    drawn = fit_image(pad_drawing(sample_digits()[0][0]), (28, 28, 1), mnist=True)
    plain, _ = add_image(images, drawn)
    assert plain.labels is None
    labelled, _index = add_image(images, drawn, label=2)
    assert [labelled.label(i) for i in range(4)] == [None, None, None, 2]


def test_float_images_on_the_0_to_1_scale_get_the_new_image_on_that_scale():
    images = as_image_set(np.random.default_rng(5).uniform(size=(4, 32, 32, 3)))
    rgba = np.random.default_rng(6).integers(0, 256, (40, 40, 4), dtype=np.uint8)
    fitted = fit_image(rgba, images.shape, mnist=False)
    bigger, index = add_image(images, fitted)
    assert not bigger.eight_bit
    np.testing.assert_allclose(bigger.pixels[index], fitted / np.float32(255), rtol=1e-6)


@pytest.mark.parametrize("index", [-1, 1000, True, 2.0])
def test_replacing_an_image_that_is_not_there_is_refused(index):
    drawn = np.zeros((28, 28, 1), np.uint8)
    with pytest.raises(ImageError, match="is not an image of this set; pass 0 to 999"):
        replace_image(as_image_set(), index, drawn)


def test_new_image_of_another_shape_is_refused():
    with pytest.raises(ImageError, match=r"the explorer's images are \(28, 28, 1\)"):
        add_image(as_image_set(), np.zeros((32, 32, 3), np.uint8))


def test_add_image_takes_any_layout_and_mnist_preprocessing_through_the_explorer():
    from layerwidget import LayerExplorer

    ex = LayerExplorer()
    images, labels = sample_digits()
    index = ex.add_image(images[3], label=int(labels[3]))
    assert index == 1000 and ex.image_index == 1000 and ex.label == int(labels[3])
    np.testing.assert_array_equal(ex.input[0, :, :, 0], images[3])
    # A large off-centre drawing of a digit, framed as MNIST's were.
    canvas = np.zeros((200, 200), np.uint8)
    canvas[40:124, 90:174] = np.kron(images[5], np.ones((3, 3), np.uint8))
    index = ex.add_image(canvas, preprocess="mnist")
    np.testing.assert_array_equal(ex.input[0, :, :, 0], mnist_preprocess(canvas))
    assert ex.label is None and ex.n_images == 1002
    with pytest.raises(ImageError, match=r"\(32, 32, 1\).*\(28, 28, 1\).*preprocess='mnist'"):
        ex.add_image(np.zeros((32, 32), np.uint8))
    with pytest.raises(ImageError, match="preprocess='blur' is not allowed"):
        ex.add_image(canvas, preprocess="blur")
    assert ex.n_images == 1002  # nothing was added by the refused calls
    ex.close()


def test_the_pad_adds_one_image_and_then_replaces_it(monkeypatch):
    from layerwidget import LayerExplorer

    ex = LayerExplorer()
    stroke = np.zeros((56, 56), np.uint8)
    stroke[10:46, 26:30] = 255
    ex.panel.set_state({"drawing": {"width": 56, "height": 56, "pixels": b64(stroke)},
                        "edit_seq": 1})
    assert ex.n_images == 1001 and ex.image_index == 1000
    first = ex.input.copy()
    stroke[10:14, 14:42] = 255  # a bar on top: a "7"
    ex.panel.set_state({"drawing": {"width": 56, "height": 56, "pixels": b64(stroke)},
                        "edit_seq": 2})
    assert ex.n_images == 1001 and not np.array_equal(ex.input, first)
    ex.panel.set_state({"drawing": None, "edit_seq": 3})  # Clear keeps the images
    assert ex.n_images == 1001 and ex.error == ""
    ex.panel.set_state({"drawing": {"width": 56, "height": 56, "pixels": "!!"}, "edit_seq": 4})
    assert "drawing" in ex.error and ex.n_images == 1001
    ex.close()
