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
