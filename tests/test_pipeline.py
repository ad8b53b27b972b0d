"""The pipeline's layer cache: a new seed reuses a built layer, never one still in use."""

from __future__ import annotations

import numpy as np

from layerwidget import pipeline as pipeline_module
from layerwidget.layers import normalize_stack
from layerwidget.pipeline import Pipeline
from layerwidget.weights import layer_weights

STACK = normalize_stack([{"type": "Conv2D", "filters": 8, "padding": "same"}, {"type": "ReLU"}])
X = np.random.default_rng(0).uniform(0, 255, size=(1, 28, 28, 1)).astype(np.float32)


def conv_reference(x, kernel, bias):
    from layerwidget._tf import tf

    return tf.nn.conv2d(x, kernel, strides=1, padding="SAME").numpy() + bias


def test_a_seed_drag_builds_few_layers_and_every_run_is_right(monkeypatch):
    built = []
    real = pipeline_module.build_layer

    def counting(*args, **kwargs):
        built.append(args[0]["type"])
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_module, "build_layer", counting)
    pipe = Pipeline()
    previous = []  # (run, its seed) of the last two runs
    for seed in range(12):
        run = pipe.run(STACK, X, seed=seed)
        kernel, bias = layer_weights(STACK[0], seed=seed, in_channels=1)
        np.testing.assert_allclose(run.outputs[0], conv_reference(X, kernel, bias),
                                   rtol=1e-5, atol=1e-3)
        np.testing.assert_array_equal(run.layers[0].get_weights()[0], kernel)
        # The two runs before this one still hold their own weights (a refused edit keeps
        # showing the last good run, whose layers must still match its maps).
        for old, old_seed in previous:
            np.testing.assert_array_equal(
                old.layers[0].get_weights()[0],
                layer_weights(STACK[0], seed=old_seed, in_channels=1)[0])
        previous = [*previous[-1:], (run, seed)]
    assert built.count("Conv2D") == 3  # then reused: set_weights instead of a build
    assert built.count("ReLU") == 1


def test_going_back_to_a_cached_seed_gives_its_weights_again():
    pipe = Pipeline()
    first = pipe.run(STACK, X, seed=1).outputs[0]
    for seed in range(2, 9):
        pipe.run(STACK, X, seed=seed)
    np.testing.assert_array_equal(pipe.run(STACK, X, seed=1).outputs[0], first)
    np.testing.assert_array_equal(pipe.run(STACK, X, seed=7).outputs[0],
                                  Pipeline().run(STACK, X, seed=7).outputs[0])


def test_an_edited_kernel_on_a_reused_layer_is_the_edit():
    pipe = Pipeline()
    for seed in range(4):
        pipe.run(STACK, X, seed=seed)
    kernel = np.zeros((3, 3, 1, 8), np.float32)
    kernel[1, 1, 0, :] = np.arange(8)
    bias = np.full(8, 0.5, np.float32)
    run = pipe.run(STACK, X, seed=9, edits={STACK[0]["id"]: (1, [kernel, bias])})
    np.testing.assert_allclose(run.outputs[0], X * np.arange(8) + 0.5, rtol=1e-6)
