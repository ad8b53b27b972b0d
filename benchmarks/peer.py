"""The peer: how course notebooks show feature maps today (our own code, for the benchmark).

``ipywidgets.interact`` over the same parameters; each change builds the tf.keras layers,
runs them on the same digit and redraws a matplotlib figure with one subplot per channel and
one row per stage (inline backend: one PNG per update). The weights are seeded exactly as
layerwidget seeds them, so both sides compute the same maps.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib

matplotlib.use("module://matplotlib_inline.backend_inline")

import matplotlib.pyplot as plt
import numpy as np

from layerwidget import sample_digits
from layerwidget.layers import normalize_stack
from layerwidget.weights import build_layer

OPTIONS = {
    "filters": [3, 8, 32, 64],
    "kernel_size": [3, 5],
    "strides": [1, 2],
    "padding": ["same", "valid"],
    "activation": ["linear", "tanh", "relu"],
    "seed": [0, 1],
}


def stack(filters, kernel_size, strides, padding, activation):
    return normalize_stack([
        {"type": "Conv2D", "filters": filters, "kernel_size": kernel_size, "strides": strides,
         "padding": padding, "activation": activation},
        {"type": "ReLU"},
        {"type": "MaxPool2D", "pool_size": 2, "strides": 2, "padding": "same"},
    ])


def draw(x, filters=32, kernel_size=3, strides=1, padding="same", activation="linear", seed=0):
    """Build the layers, run them, and draw every channel of every stage."""
    arrays = [x]
    y = x
    for spec in stack(filters, kernel_size, strides, padding, activation):
        layer = build_layer(spec, seed=seed, in_shape=tuple(y.shape[1:]))
        y = np.asarray(layer(y))
        arrays.append(y)
    cols = max(a.shape[-1] for a in arrays)
    _fig, axes = plt.subplots(len(arrays), cols, figsize=(max(4, 0.6 * cols), 0.7 * len(arrays)),
                             squeeze=False)
    for row, array in enumerate(arrays):
        for col in range(cols):
            ax = axes[row][col]
            ax.axis("off")
            if col < array.shape[-1]:
                ax.imshow(array[0, :, :, col], cmap="gray" if row == 0 else "RdBu")
    plt.show()


def peer_explorer(image_index: int = 0):
    """The interact-based explorer, shown as a cell's output."""
    images, _ = sample_digits()
    x = images[image_index][None, :, :, None].astype(np.float32)
    controls = {name: widgets.Dropdown(options=values, value=values[0] if name != "filters"
                                       else 32, description=name)
                for name, values in OPTIONS.items()}
    return widgets.interactive(lambda **kw: draw(x, **kw), **controls)
