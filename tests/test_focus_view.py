"""The focus view's small figures keep their width while their title still fits: a new width
makes bqplot lay the figure out again in the page, and a title's numbers change on most edits."""

import numpy as np

from layerwidget.views.focus import GridView


def width(view):
    return int(view.figure.layout.width.removesuffix("px"))


def show(view, title):
    view.show(np.arange(9.0).reshape(3, 3), title, lo=0.0, hi=8.0, diverging=False, cell_px=14)


def test_a_title_a_few_characters_shorter_or_longer_keeps_the_width_a_long_one_widens_it():
    view = GridView()
    short, longer = "filter 0 · input 0 · bias 0.00", "filter 0 · input 0 · bias -0.0123"
    show(view, short)
    first = width(view)
    # The title always fits: the figure is at least as wide as the title's estimated text.
    assert first >= len(short) * 7.0 - 8
    show(view, longer)  # must widen to fit, and leaves a few characters spare when it does
    grown = width(view)
    assert grown >= len(longer) * 7.0 - 8 + 4 * 7.0 and grown > first
    for title in (short, "filter 0 · input 0 · bias 0.12", longer, short):
        show(view, title)  # every edit's title fits the grown width: no new layout
        assert width(view) == grown, title
    show(view, "f 0")  # far shorter than the slack allows: the figure shrinks
    assert width(view) < first


def test_a_map_narrower_than_its_title_is_centred_by_the_margins_with_equal_cells():
    # bqplot's GridHeatMap stretches its last column to the end of the column scale's range:
    # the scale spans the map exactly, and the figure's side margins centre it.
    view = GridView()
    for title in ("filter 0 · input 0 · bias 0.00 · a title far wider than the map", "k"):
        show(view, title)
        margin = view.figure.fig_margin
        plot_w = width(view) - margin["left"] - margin["right"]
        plot_h = int(view.figure.layout.height.removesuffix("px")) - margin["top"] - \
            margin["bottom"]
        assert (view._cols.min, view._cols.max, view._rows.min, view._rows.max) == (0, 3, 0, 3)
        assert plot_w == plot_h == 3 * 14  # three 14 px cells each way
        assert abs(margin["left"] - margin["right"]) <= 1 and margin["left"] >= 4
        assert width(view) >= len(title) * 7.0 - 8


def test_the_selected_cell_is_sent_only_when_it_moves():
    view = GridView(on_pick=lambda r, c: None)
    sent = []
    view.heat.observe(lambda change: sent.append(change["new"]), names="selected")
    values = np.arange(9.0).reshape(3, 3)
    for title in ("a", "b"):
        view.show(values + len(title), title, lo=0.0, hi=9.0, diverging=False, cell_px=14,
                  selected=(1, 2))
    assert len(sent) == 1 and sent[0].tolist() == [[1, 2]]
    view.show(values, "c", lo=0.0, hi=9.0, diverging=False, cell_px=14, selected=(0, 0))
    view.show(values, "d", lo=0.0, hi=9.0, diverging=False, cell_px=14, selected=None)
    assert [None if s is None else s.tolist() for s in sent[1:]] == [[[0, 0]], None]
    # A click in the page moves it there; drawing the same unit again keeps it.
    view.heat.selected = np.array([[2, 2]])
    sent.clear()
    view.show(values, "e", lo=0.0, hi=9.0, diverging=False, cell_px=14, selected=(2, 2))
    assert sent == []
    view.close()


def test_a_cell_clicked_in_the_page_picks_that_unit():
    from layerwidget import LayerExplorer

    ex = LayerExplorer()
    ex.focus, ex.unit = (1, 0), (10, 12)
    heat = ex._focus_area.map.heat
    # What bqplot's front end sends for a click on a cell: JSON lists, not an array buffer.
    heat.set_state({"selected": [[22, 16]]})
    assert ex.unit == (22, 16)
    assert heat.selected.tolist() == [[22, 16]]
    assert list(ex.panel.focus_info["unit"]) == [22, 16]  # the panel explains that unit
    heat.set_state({"selected": []})  # clicking it again clears the mark, keeps the unit
    assert ex.unit == (22, 16)
    ex.close()


def test_the_picked_cell_is_outlined_by_its_own_mark():
    # Not by a selection style: bqplot would clear and set it on every cell at every draw.
    view = GridView(on_pick=lambda r, c: None)
    values = np.arange(12.0).reshape(3, 4)
    view.show(values, "a", lo=0.0, hi=11.0, diverging=False, cell_px=14, selected=(1, 2))
    assert view.heat.selected_style == {}
    assert view.outline.visible and view.outline in view.figure.marks
    # A unit square around row 1, column 2, on the grid's own scales (rows run downwards).
    assert view.outline.scales == {"x": view._cols, "y": view._rows} and view._rows.reverse
    assert set(view.outline.x) == {2.0, 3.0} and set(view.outline.y) == {1.0, 2.0}
    corners = set(zip(view.outline.x, view.outline.y, strict=True))
    assert corners == {(2.0, 1.0), (3.0, 1.0), (3.0, 2.0), (2.0, 2.0)}
    view.show(values, "b", lo=0.0, hi=11.0, diverging=False, cell_px=14, selected=(0, 3))
    assert set(view.outline.x) == {3.0, 4.0} and set(view.outline.y) == {0.0, 1.0}
    view.heat.set_state({"selected": []})  # clicked again in the page: the outline goes
    assert not view.outline.visible
    view.show(values, "c", lo=0.0, hi=11.0, diverging=False, cell_px=14, selected=None)
    assert not view.outline.visible
    view.close()


def test_cell_text_is_styled_only_where_values_are_printed():
    printed, plain = GridView(printed=True), GridView(tooltip=True)
    assert printed.heat.font_style["fill"] and printed.heat.display_format
    assert plain.heat.font_style == {} and plain.heat.display_format is None
    printed.close()
    plain.close()


def test_an_outline_that_stays_is_not_sent_again(monkeypatch):
    import ipywidgets

    view = GridView(on_pick=lambda r, c: None)
    values = np.arange(9.0).reshape(3, 3)
    view.show(values, "a", lo=0.0, hi=9.0, diverging=False, cell_px=14, selected=(1, 1))
    sent = []
    monkeypatch.setattr(ipywidgets.Widget, "_send",
                        lambda self, msg, buffers=None: sent.append(self))
    view.show(values + 1, "b", lo=0.0, hi=10.0, diverging=False, cell_px=14, selected=(1, 1))
    assert view.heat in sent and view.outline not in sent
    view.close()


def test_the_focused_map_is_a_picture_on_the_stage_colours_under_cells_to_point_at():
    from layerwidget import LayerExplorer
    from layerwidget._widgets import picture_png
    from layerwidget.png import png_text
    from layerwidget.render import DIGEST_KEY, paint

    ex = LayerExplorer(layers=[{"type": "Conv2D", "filters": 4, "padding": "same"}])
    ex.focus, ex.unit = (1, 2), (5, 6)
    view = ex._focus_area.map
    channel = ex.outputs[0][0, :, :, 2]
    stage = ex.outputs[0]
    # The picture: exactly this channel, coloured on the whole stage's range (red–blue around
    # 0 for a map of both signs), as the stage figure colours it; its PNG names those values.
    assert view.picture.lo == stage.min() and view.picture.hi == stage.max()
    assert view.picture.diverging == (stage.min() < 0 < stage.max())
    np.testing.assert_array_equal(view.picture.values[:, :, 0], channel)
    png = picture_png(view.image.image)
    assert png_text(png)[DIGEST_KEY] == view.picture.digest
    assert png == paint(channel[:, :, None], diverging=view.picture.diverging,
                        domain=(float(stage.min()), float(stage.max()))).png
    # It covers the grid's cells, rows downwards; the cells above it are see-through and hold
    # the values the tooltip reads.
    assert view.figure.marks == [view.image, view.heat, view.outline]
    assert list(view.image.x) == [0.0, 28.0] and list(view.image.y) == [28.0, 0.0]
    assert view.image.scales == {"x": view._cols, "y": view._rows} and view._rows.reverse
    assert set(view._colour.colors) == {"rgba(0, 0, 0, 0)"}
    np.testing.assert_array_equal(view.heat.color, channel)
    assert view.heat.tooltip is not None and view.heat.interactions["click"] == "select"
    # A new seed: a new picture in the other Image widget (bqplot repaints on a new widget).
    before = view.image.image
    ex.seed = 1
    assert view.image.image is not before
    np.testing.assert_array_equal(view.heat.color, ex.outputs[0][0, :, :, 2])
    ex.close()
