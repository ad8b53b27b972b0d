"""Many edits and many explorers leave no growing number of widgets or Keras layers behind."""

import gc

import ipywidgets

from layerwidget import LayerExplorer
from layerwidget._tf import keras


def live_widgets():
    return len(ipywidgets.widgets.widget._instances)


def live_keras_layers():
    gc.collect()
    return sum(isinstance(o, keras.layers.Layer) for o in gc.get_objects())


def test_1000_panel_edits_keep_widget_and_layer_counts_bounded():
    ex = LayerExplorer()
    stacks = [
        [{"type": "Conv2D", "filters": f, "kernel_size": k, "padding": "same"}, {"type": "ReLU"},
         {"type": "MaxPool2D"}]
        for f in (1, 3, 8, 16, 32) for k in (1, 3, 5)
    ] + [[{"type": "ReLU"}], [{"type": "Conv2D"}] * 5]
    for seq in range(1, 61):  # warm up: every stack built and cached once
        ex.panel.set_state({"layers": stacks[seq % len(stacks)], "edit_seq": seq})
    widgets, layers = live_widgets(), live_keras_layers()
    for seq in range(61, 1061):
        edit = ({"layers": stacks[seq % len(stacks)]} if seq % 3 else
                {"image_index": seq % 1000})
        if seq % 97 == 0:
            edit = {"layers": [{"type": "Conv2D", "filters": -1}]}  # refused edits too
        ex.panel.set_state({**edit, "edit_seq": seq})
        assert ex.panel.ack == seq
    assert live_widgets() == widgets
    assert live_keras_layers() <= layers
    assert len(ex._pipeline._cache) <= ex._pipeline.cache_size
    ex.close()


def test_50_create_close_cycles_leave_nothing_behind():
    LayerExplorer().close()  # first use imports and caches what every later one shares
    widgets, layers = live_widgets(), live_keras_layers()
    for i in range(50):
        ex = LayerExplorer(image_index=i, layers=[{"type": "Conv2D", "filters": 4 + i % 5}])
        ex.close()
    assert live_widgets() == widgets
    assert live_keras_layers() <= layers


def test_focus_prediction_and_training_views_are_made_when_first_shown_and_closed_with_it():
    import numpy as np

    LayerExplorer().close()
    before = live_widgets()
    ex = LayerExplorer(layers=[{"type": "Conv2D", "filters": 2}, {"type": "MaxPool2D"}])
    plain = live_widgets() - before
    views = (ex._focus_area, ex._prediction, ex._training_view)
    assert not any(v.built for v in views) and all(v.box.children == () for v in views)

    ex.focus, ex.unit = (1, 1), (5, 6)
    assert ex._focus_area.built and ex._focus_area.box.children
    focused = live_widgets() - before
    assert focused > plain + 10, (plain, focused)  # the focus figures exist now
    np.testing.assert_array_equal(ex._focus_area.map.heat.color,
                                  ex.outputs[0][0, :, :, 1])
    ex.focus = None
    assert ex._focus_area.box.children == ()  # hidden, kept for the next focus

    images = np.tile(np.arange(24, dtype=np.uint8)[:, None, None] * 10, (1, 8, 8))
    small = LayerExplorer(images=images, labels=[0, 1] * 12,
                          layers=[{"type": "Conv2D", "filters": 1}])
    small.train(epochs=1, wait=True)
    assert small._training_view.built and small._prediction.built
    assert small._prediction.box.children and small._training_view.box.children
    small.close()
    ex.close()
    assert live_widgets() == before
