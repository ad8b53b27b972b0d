"""Each stage's colour legend reads its picture: the bar in the picture's palette, the picture's
min and max (and 0 on a red–blue scale) printed under the bar's ends (and middle).

The bar's own scale never follows the values (bqplot would redraw the axis three times an
edit); only the printed numbers do. These tests place the numbers from the figure's own layout
and scales, as bqplot does, not from the view's bookkeeping.
"""

import numpy as np
import pytest
from helpers import colorize, read_png, untile

from layerwidget import LayerExplorer
from layerwidget.captions import number

BAR_INSET_PX = 100  # bqplot's horizontal colour bar leaves 100 px at each end of the plot
# bqplot draws a Lines label at x = 3 px after the curve's last point, dy = 0.35 em below it;
# widget.css centres it (text-anchor: middle) at 10 px.
LABEL_DX_PX, LABEL_DY_PX = 3.0, 3.5
# The bar's tick labels' baseline: 49 px under the plot (bottom margin 58 − bar 20 − 2 em 24
# puts the bar at 14–34 px; tick 6 + padding 3 + 0.71 em of 10 px).
NUMBERS_BELOW_PX = 49


@pytest.fixture
def ex():
    explorer = LayerExplorer()
    yield explorer
    explorer.close()


def px(value: str) -> float:
    assert value.endswith("px"), value
    return float(value[:-2])


def drawn_numbers(view):
    """(text, place along the bar from 0 to 1) of each printed number, from the figure."""
    fig = view.figure
    plot_w = px(fig.layout.width) - fig.fig_margin["left"] - fig.fig_margin["right"]
    plot_h = px(fig.layout.height) - fig.fig_margin["top"] - fig.fig_margin["bottom"]
    lo, hi = view._x.min, view._x.max
    bottom, top = view._y.min, view._y.max
    numbers = view._numbers
    assert numbers.labels_visibility == "label"
    # One curve per number, its two points on the number's place (bqplot labels a curve at
    # its last point): nothing to stroke.
    assert numbers.x.shape == numbers.y.shape == (len(numbers.labels), 2)
    assert (numbers.x[:, 0] == numbers.x[:, 1]).all() and (numbers.y[:, 0] == numbers.y[:, 1]).all()
    out = []
    for text, (_, x), (_, y) in zip(numbers.labels, numbers.x, numbers.y, strict=True):
        at = (x - lo) / (hi - lo) * plot_w + LABEL_DX_PX
        baseline = (top - y) / (top - bottom) * plot_h + LABEL_DY_PX
        assert abs(baseline - plot_h - NUMBERS_BELOW_PX) < 1e-6, (baseline, plot_h)
        out.append((str(text), (at - BAR_INSET_PX) / (plot_w - 2 * BAR_INSET_PX)))
    return out


def check_reads_picture(view, values):
    lo, hi = float(values.min()), float(values.max())
    signed = lo < 0 < hi
    want = [(number(lo), 0.0), (number(0.0), 0.5), (number(hi), 1.0)] if signed else \
        [(number(lo), 0.0), (number(hi), 1.0)]
    got = drawn_numbers(view)
    assert [t for t, _ in got] == [t for t, _ in want]
    assert np.allclose([f for _, f in got], [f for _, f in want], atol=1e-6)
    assert view._numbers.visible and view._legend.visible
    assert [t for t, _ in view.legend()] == [t for t, _ in want]
    # The bar: the palette the picture was painted with, 0 in the middle of a red–blue one.
    colours = view._colours
    assert colours.mid == (0.0 if signed else None)
    assert list(view._legend.tick_values) == ([-1.0, 0.0, 1.0] if signed else [0.0, 1.0])
    assert (colours.min, colours.max) == ((-1.0, 1.0) if signed else (0.0, 1.0))
    assert view.picture.diverging == signed


def test_every_stage_prints_its_own_min_and_max(ex):
    for view, stats in zip(ex._stages.views, ex.stats, strict=True):
        shown = view.picture.values
        assert (float(shown.min()), float(shown.max())) == (stats.min, stats.max)
        check_reads_picture(view, shown)


def test_an_edit_changes_the_numbers_and_never_the_bar(ex):
    conv = ex._stages.views[1]
    bar = (conv._colours.min, conv._colours.max, list(conv._legend.tick_values))
    before = conv.legend()
    ex.seed = 5
    assert conv.legend() != before
    assert (conv._colours.min, conv._colours.max, list(conv._legend.tick_values)) == bar
    check_reads_picture(conv, conv.picture.values)


def test_the_bar_follows_the_sign_of_the_values(ex):
    conv = ex._stages.views[1]
    assert conv.picture.diverging  # a linear Conv2D of a digit: both signs
    layers = [dict(layer) for layer in ex.layers]
    layers[0]["activation"] = "relu"
    ex.layers = layers
    check_reads_picture(conv, conv.picture.values)  # all ≥ 0: the grey bar, two numbers
    layers[0]["activation"] = "linear"
    ex.layers = layers
    check_reads_picture(conv, conv.picture.values)


def test_a_wider_figure_moves_the_numbers_with_the_bar(ex):
    conv = ex._stages.views[1]
    width = conv.figure.layout.width
    layers = [dict(layer) for layer in ex.layers]
    layers[0]["filters"] = 16
    ex.layers = layers
    assert conv.figure.layout.width != width
    check_reads_picture(conv, conv.picture.values)


def test_a_constant_map_prints_its_one_value_at_both_ends(ex):
    ex.layers = [{"type": "Conv2D", "filters": 1, "kernel_size": 3, "padding": "same"}]
    ex.set_kernel(0, np.zeros((3, 3, 1, 1)), bias=np.zeros(1))
    conv = ex._stages.views[1]
    assert [t for t, _ in conv.legend()] == ["0.00", "0.00"]


def test_no_legend_on_a_colour_picture():
    rgb = np.random.default_rng(0).integers(0, 256, size=(2, 8, 8, 3), dtype=np.uint8)
    explorer = LayerExplorer(images=rgb, layers=[{"type": "ReLU"}])
    try:
        first = explorer._stages.views[0]
        assert first.legend() is None and not first._numbers.visible
        check_reads_picture(explorer._stages.views[1], explorer._stages.views[1].picture.values)
    finally:
        explorer.close()


def test_numbers_that_did_not_change_are_not_sent_again(ex, monkeypatch):
    import ipywidgets

    # A MaxPool2D of 3×3 instead of 2×2 (stride 2, same padding): another picture of the same
    # shape, whose min (0) and max (the ReLU's max) are the same numbers in the same places.
    pool = ex._stages.views[3]
    before = pool.legend()
    sent = []
    original = ipywidgets.Widget._send

    def record(self, msg, buffers=None):
        sent.append((self, msg))
        return original(self, msg, buffers=buffers)

    monkeypatch.setattr(ipywidgets.Widget, "_send", record)
    layers = [dict(layer) for layer in ex.layers]
    layers[2]["pool_size"] = 3
    ex.layers = layers
    assert pool.legend() == before and ex.outputs[2].shape == (1, 14, 14, 3)
    updated = {u["id"] for _, m in sent if m.get("method") == "custom"
               for u in m["content"].get("updates", [])}
    assert pool._image.image.model_id in updated  # the picture did change...
    assert pool._numbers.model_id not in updated  # ...its numbers did not


@pytest.mark.parametrize("filters", [1, 3, 8, 32])
def test_each_tile_number_names_its_channel_inside_its_tile_corner(ex, filters):
    ex.layers = [dict(ex.layers[0], filters=filters), *ex.layers[1:]]
    for view in ex._stages.views[1:]:
        layout, cell = view.picture.layout, view.size.cell_px
        rows = layout.size[0]
        numbers = view.tile_numbers()
        # One tile needs no number; otherwise each tile's channel, in order.
        assert [t for t, _, _ in numbers] == ([] if filters == 1 else
                                              [str(k) for k in range(filters)])
        for k, (_, x, y) in enumerate(numbers):
            r, c = divmod(k, layout.cols)
            left, top = c * (layout.w + 1), rows - r * (layout.h + 1)  # data units, y up
            # ~2 px right of the left edge; a 10 px text centred 10 px below the top.
            assert 1 <= (x - left) * cell <= 3, (k, x, left)
            assert 9 <= (top - y) * cell <= 11, (k, y, top)


# Strides 2 and a 2x2 pool: 14x14 maps, then 7x7 ones (35 px tiles at MNIST's 5 px a pixel).
SMALL_TILES = [{"type": "Conv2D", "filters": 16, "kernel_size": 3, "strides": 2,
                "padding": "same"}, {"type": "ReLU"},
               {"type": "MaxPool2D", "pool_size": 2, "strides": 2, "padding": "same"}]


def test_small_tiles_get_their_numbers_in_a_strip_above_them_that_covers_no_map():
    ex = LayerExplorer(layers=SMALL_TILES)
    try:
        pool = ex._stages.views[3]
        layout, step = pool.picture.layout, pool.picture.step
        cell = pool.size.cell_px * step
        assert (layout.h, cell) == (7, 5.0)
        assert layout.top == 3  # 15 px: room for a 10 px number
        # 14x14 tiles (70 px) keep their numbers in a corner: no strip.
        assert [v.picture.layout.top for v in ex._stages.views[1:3]] == [0, 0]
        rows = layout.size[0]
        numbers = pool.tile_numbers()
        assert [t for t, _, _ in numbers] == [str(k) for k in range(16)]
        for k, (_, x, y) in enumerate(numbers):
            row0, col0 = layout.origin(k)
            assert x == col0  # at the tile's left edge
            # bqplot centres the 11 px tall text on (x, y): 1 px clear of its tile, below the
            # gutter under the tiles above.
            centre = (y - (rows - row0)) * cell  # px above the tile's top edge
            assert centre - 5.5 >= 1 and centre + 5.5 <= layout.top * cell, (k, centre)
        # The strips are transparent; each tile is its channel of the pooled maps, in order.
        alpha = read_png(pool.picture.png)[:, :, 3]
        for k in range(16):
            row0, col0 = layout.origin(k)
            assert (alpha[row0 - layout.top:row0, col0:col0 + layout.w] == 0).all()
        tiles = untile(read_png(pool.picture.png), layout)  # (7, 7, 16, 4)
        expected = colorize(ex.outputs[2][0], pool.picture.lo, pool.picture.hi, False)
        np.testing.assert_array_equal(tiles[..., :3], expected)
        # Pointing at the picture: a tile's pixel is its channel's unit, the strip is nothing.
        for k, (r, c) in [(0, (0, 0)), (9, (3, 5)), (15, (6, 6))]:
            row0, col0 = layout.origin(k)
            assert pool.locate(col0 + c + 0.5, rows - (row0 + r + 0.5)) == (k, r, c)
            assert pool.locate(col0 + c + 0.5, rows - (row0 - 1.5)) is None
        # A receptive field's outline sits on the tile's pixels, not on the strip above.
        pool.show_field(((1, 2), (3, 5)), channel=9)
        row0, col0 = layout.origin(9)
        left, right, top, bottom = col0 + 2, col0 + 5, rows - row0 - 1, rows - row0 - 3
        np.testing.assert_allclose(np.ravel(pool.fields.x), [left, right, right, left, left])
        np.testing.assert_allclose(np.ravel(pool.fields.y), [top, top, bottom, bottom, top])
    finally:
        ex.close()
