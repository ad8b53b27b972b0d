"""Training the explorer's stack from Python and from the panel, headless.

A stand-in for the kernel's event loop collects what the training thread posts, and the test
runs it on its own thread, as the kernel would.
"""

import queue
import time

import numpy as np
import pytest

from layerwidget import LayerExplorer, LayerWidgetError, mnist_model
from layerwidget.weights import layer_weights

CONV8 = [{"type": "Conv2D", "filters": 8, "padding": "same"}, {"type": "ReLU"},
         {"type": "MaxPool2D"}]


class Loop:
    """call_soon_threadsafe into a queue, pumped by the test's thread."""

    def __init__(self):
        self.calls = queue.Queue()

    def call_soon_threadsafe(self, fn, *args):
        self.calls.put((fn, args))

    def pump_until(self, done, timeout=120.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                fn, args = self.calls.get(timeout=0.05)
            except queue.Empty:
                if done():
                    return True
                continue
            fn(*args)
        return False


def background(ex, monkeypatch):
    loop = Loop()
    monkeypatch.setattr("layerwidget._updating.kernel_loop", lambda: loop)
    return loop


def test_training_the_stack_learns_the_digits_and_the_head_predicts():
    ex = LayerExplorer(layers=CONV8, seed=0)
    seeded = ex.kernel(0)
    result = ex.train(epochs=5)
    accuracy = [round(h["val_accuracy"], 3) for h in ex.history]
    assert ex.trained and len(accuracy) == 5 and accuracy[-1] >= 0.90, accuracy
    assert not np.allclose(ex.kernel(0), seeded)  # the kernels learnt
    np.testing.assert_array_equal(ex.kernel(0), result.weights[0][0])
    assert ex.pixel_scale == "unit" and "0–1 pixels" in ex.panel.notice
    # The head on the explorer's own last stage gives the trained model's probabilities.
    np.testing.assert_allclose(ex.prediction, result.predict(ex.input * 255.0)[0], atol=1e-5)
    assert ex.predicted_label == int(np.argmax(ex.prediction))
    assert ex.panel.training["trained"] is True and ex.panel.kernels[0]["labels"][0] == "trained"
    # The code holds the trained kernels and the training itself.
    assert "model.fit(" in ex.code and "# edited in the explorer" in ex.code
    ex.close()


def test_reset_and_a_stack_edit_go_back_to_the_seeded_weights():
    ex = LayerExplorer(layers=CONV8, seed=3)
    seeded = ex.kernel(0)
    ex.train(epochs=1)
    assert ex.trained
    ex.reset_training()
    assert not ex.trained and ex.prediction is None and ex.history == []
    np.testing.assert_array_equal(ex.kernel(0), seeded)
    ex.train(epochs=1)
    ex.layers = [{**ex.layers[0], "strides": 2}, *ex.layers[1:]]
    assert not ex.trained and "trained weights no longer apply" in ex.panel.notice
    np.testing.assert_array_equal(ex.kernel(0), seeded)
    ex.close()


def test_in_the_background_edits_are_refused_and_stop_ends_it(monkeypatch):
    ex = LayerExplorer(layers=CONV8)
    loop = background(ex, monkeypatch)
    assert ex.train(epochs=20) is None  # returns at once; progress is posted to the loop
    assert loop.pump_until(lambda: ex.training["phase"] == "running" and ex.training["batch"])
    with pytest.raises(LayerWidgetError, match="training is running"):
        ex.layers = CONV8[:2]
    with pytest.raises(LayerWidgetError, match="training is running"):
        ex.set_kernel(0, "identity")
    ex.panel.set_state({"seed": 9, "edit_seq": 1})
    assert "training is running" in ex.error
    ex.panel.set_state({"train_command": {"action": "train", "epochs": 2, "n": 1},
                        "edit_seq": 2})
    assert "already running" in ex.error
    ex.image_index = 4  # the input may change: the maps follow
    stopped_at = time.monotonic()
    ex.panel._handle_custom_msg({"kind": "train-stop"}, [])
    assert loop.pump_until(lambda: ex.training["phase"] in ("stopped", "done"))
    assert time.monotonic() - stopped_at < 5
    assert ex.training["phase"] == "stopped" and ex.training["epoch"] < 20
    assert ex.seed == 0 and ex.layers[0]["filters"] == 8
    ex.seed = 1  # the kernel answers edits after training
    assert ex.error == ""
    ex.close()


def test_the_panel_trains_and_resets(monkeypatch):
    ex = LayerExplorer(layers=CONV8)
    loop = background(ex, monkeypatch)
    ex.panel.set_state({"train_command": {"action": "train", "epochs": 1, "n": 1},
                        "edit_seq": 1})
    assert loop.pump_until(lambda: ex.training["phase"] == "done")
    assert ex.trained and ex.panel.training["trained"] and len(ex.panel.training["history"]) == 1
    assert ex._training_view.box.children  # the curves are shown
    ex.panel.set_state({"train_command": {"action": "reset", "n": 2}, "edit_seq": 2})
    assert not ex.trained and ex.error == ""
    ex.close()


@pytest.mark.parametrize("images, labels, words", [
    (np.zeros((30, 8, 8), np.uint8), None, "no labels"),
    (np.random.default_rng(0).integers(0, 255, (30, 8, 8)), [3] * 30, "one class"),
])
def test_training_needs_labels_of_two_classes(images, labels, words):
    ex = LayerExplorer(images=images, labels=labels,
                       layers=[{"type": "Conv2D", "filters": 2, "padding": "same"}])
    with pytest.raises(LayerWidgetError, match=words):
        ex.train(epochs=1)
    assert not ex.trained
    ex.close()


@pytest.mark.parametrize("epochs", [0, -1, 101, 2.5, "3"])
def test_absurd_epochs_are_refused_with_the_range(epochs):
    ex = LayerExplorer(layers=CONV8)
    with pytest.raises(LayerWidgetError, match="epochs"):
        ex.train(epochs=epochs)
    assert not ex.trained
    ex.close()


def test_a_model_is_not_trained_here():
    ex = LayerExplorer(model=mnist_model())
    with pytest.raises(LayerWidgetError, match=r"model\.fit"):
        ex.train()
    ex.close()


def test_training_starts_from_the_seeded_or_edited_kernels():
    ex = LayerExplorer(layers=CONV8, seed=5)
    spec = ex.layers[0]
    seeded = layer_weights(spec, seed=5, in_channels=1)[0]
    np.testing.assert_array_equal(ex._current_weights()[0][0], seeded)
    ex.set_kernel(0, "sobel x")
    assert ex._current_weights()[0][0][1, 0, 0, 0] == -2.0
    ex.close()
