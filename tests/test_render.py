"""Painting feature maps: mosaics, colour scales and the PNG the browser decodes."""

import numpy as np
import pytest
from helpers import colorize, read_png, untile

from layerwidget.png import encode_png, png_text
from layerwidget.render import LUTS, MAX_DRAWN_VALUES, draw_step, mosaic_layout, paint, tile


@pytest.mark.parametrize("c", [1, 3, 5, 8, 9, 64])
def test_tile_and_untile_are_inverse_with_one_pixel_gutters(c):
    maps = np.random.default_rng(c).normal(size=(7, 5, c)).astype(np.float32)
    layout = mosaic_layout(7, 5, c)
    mosaic = tile(maps, layout)
    assert mosaic.shape == (layout.rows * 8 - 1, layout.cols * 6 - 1)
    np.testing.assert_array_equal(untile(mosaic, layout), maps)
    # channel k sits at row k // 8, column k % 8, with NaN gutters in between
    k = c - 1
    r, q = divmod(k, layout.cols)
    np.testing.assert_array_equal(mosaic[r * 8 : r * 8 + 7, q * 6 : q * 6 + 5], maps[:, :, k])
    if layout.cols > 1:
        assert np.isnan(mosaic[:, 5]).all()


@pytest.mark.parametrize("c", [1, 5, 9])
def test_a_strip_above_each_row_of_tiles_holds_no_map(c):
    maps = np.random.default_rng(c).normal(size=(4, 6, c)).astype(np.float32)
    layout = mosaic_layout(4, 6, c, cols=4, top=3)
    mosaic = tile(maps, layout)
    assert layout.pitch == (3 + 4 + 1, 6 + 1)
    assert mosaic.shape == layout.size == (layout.rows * 8 - 1, layout.cols * 7 - 1)
    np.testing.assert_array_equal(untile(mosaic, layout), maps)
    for k in range(c):
        row0, col0 = layout.origin(k)
        assert (row0, col0) == ((k // 4) * 8 + 3, (k % 4) * 7)
        np.testing.assert_array_equal(mosaic[row0:row0 + 4, col0:col0 + 6], maps[:, :, k])
        assert np.isnan(mosaic[row0 - 3:row0, col0:col0 + 6]).all()  # the strip above it
    # Without a strip: the same tiles, the rows above them belong to the tiles above.
    assert mosaic_layout(4, 6, c, cols=4).origin(c - 1) == (((c - 1) // 4) * 5, ((c - 1) % 4) * 7)


def test_png_round_trips_pixels_and_text():
    rgba = np.random.default_rng(0).integers(0, 256, size=(9, 13, 4), dtype=np.uint8)
    png = encode_png(rgba, text={"key": "value"})
    np.testing.assert_array_equal(read_png(png), rgba)
    assert png_text(png) == {"key": "value"}


def test_palette_png_round_trips_with_a_transparent_index():
    from layerwidget.render import TRANSPARENT, palette

    index = np.array([[0, 100, TRANSPARENT], [254, 7, 7]], np.uint8)
    pixels = read_png(encode_png(index, palette=palette("RdBu")))
    np.testing.assert_array_equal(pixels[..., :3][index != TRANSPARENT],
                                  LUTS["RdBu"][index[index != TRANSPARENT]])
    assert pixels[0, 2, 3] == 0 and (pixels[..., 3][index != TRANSPARENT] == 255).all()


def test_png_decodes_in_a_standard_decoder_when_one_is_installed():
    pil = pytest.importorskip("PIL.Image")
    import io

    rgba = np.random.default_rng(1).integers(0, 256, size=(6, 4, 4), dtype=np.uint8)
    decoded = np.asarray(pil.open(io.BytesIO(encode_png(rgba))).convert("RGBA"))
    np.testing.assert_array_equal(decoded, rgba)
    from layerwidget.render import palette

    index = np.random.default_rng(2).integers(0, 256, size=(5, 7), dtype=np.uint8)
    png = encode_png(index, palette=palette("Greys"))
    decoded = np.asarray(pil.open(io.BytesIO(png)).convert("RGBA"))
    np.testing.assert_array_equal(decoded, read_png(png))


def test_diverging_scale_is_red_below_zero_white_at_zero_blue_above():
    colours = colorize(np.array([-2.0, 0.0, 5.0]), -2.0, 5.0, diverging=True)
    red, white, blue = colours
    assert red[0] > red[2] and blue[2] > blue[0]
    np.testing.assert_array_equal(white, LUTS["RdBu"][len(LUTS["RdBu"]) // 2])
    assert (white > 240).all()
    assert (colorize(np.array([-2.0]), -2.0, 5.0, True) == LUTS["RdBu"][0]).all()
    assert (colorize(np.array([5.0]), -2.0, 5.0, True) == LUTS["RdBu"][-1]).all()


def test_sequential_scale_is_white_at_min_black_at_max():
    lo, hi = colorize(np.array([3.0, 9.0]), 3.0, 9.0, diverging=False)
    assert (lo == 255).all() and (hi == 0).all()


def test_paint_marks_gutters_transparent_and_shows_every_channel():
    maps = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3) - 8
    picture = paint(maps)
    pixels = read_png(picture.png)
    assert pixels.shape == (2, 3 * 4 - 1, 4)
    assert (pixels[:, 3, 3] == 0).all() and (pixels[:, 7, 3] == 0).all()  # gutters
    assert (pixels[:, :3, 3] == 255).all()
    assert picture.diverging and picture.lo == -8 and picture.hi == 9
    np.testing.assert_array_equal(picture.values, maps)


def test_paint_pages_channels_and_steps_through_large_maps():
    maps = np.zeros((300, 300, 100), np.float32)
    picture = paint(maps, channels=(64, 100))
    assert picture.channels == (64, 100)
    step = draw_step(300, 300, 36)
    assert picture.step == step > 1
    assert picture.values.shape == (len(range(0, 300, step)), len(range(0, 300, step)), 36)
    assert picture.values.size <= MAX_DRAWN_VALUES


def test_pictures_travel_as_data_urls_up_to_the_limit_and_round_trip():
    import ipywidgets

    from layerwidget._widgets import PICTURE_URL_MAX, picture_png, set_picture
    from layerwidget.png import data_url, png_from_data_url

    rng = np.random.default_rng(0)
    small = paint(rng.normal(size=(28, 28, 8)).astype(np.float32)).png
    noisy = rng.integers(0, 256, size=(300, 300, 4), dtype=np.uint8)
    large = encode_png(noisy)
    assert len(small) <= PICTURE_URL_MAX < len(large)
    image = ipywidgets.Image()
    set_picture(image, small)
    assert image.format == "url" and bytes(image.value).startswith(b"data:image/png;base64,")
    assert picture_png(image) == small
    set_picture(image, large)
    assert image.format == "png" and bytes(image.value) == large
    assert picture_png(image) == large
    assert png_from_data_url(data_url(b"\x89PNG")) == b"\x89PNG"
    with pytest.raises(ValueError, match="not a data: URL"):
        png_from_data_url(b"https://example.org/x.png")
    image.close()
