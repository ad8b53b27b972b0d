"""The trained MNIST network shipped with the package: accuracy, input scale, fresh models."""

from __future__ import annotations

import numpy as np
import pytest

from layerwidget import sample_digits, trained
from layerwidget.trained import HELD_OUT_ACCURACY, LAYER_NAMES, TRAINED_ON, mnist_model


@pytest.fixture(scope="module")
def model():
    return mnist_model()


@pytest.fixture(scope="module")
def digits():
    images, labels = sample_digits()
    return images[..., None], labels


@pytest.fixture(scope="module")
def raw_probabilities(model, digits):
    """The model's answer for the embedded digits, fed as a user would: raw uint8 pixels."""
    return model.predict(digits[0], batch_size=1000, verbose=0)


def _numpy_forward(pixels: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    """The documented network written out in NumPy: 0–255 pixels (N, 28, 28, 1) -> (N, 10)."""
    k1, b1, k2, b2, w, b = (np.asarray(a, dtype=np.float64) for a in weights)

    def conv_same_3x3(x, kernel, bias):
        padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        h, wd = x.shape[1:3]
        out = np.zeros((*x.shape[:3], kernel.shape[-1]))
        for di in range(3):
            for dj in range(3):
                out += padded[:, di : di + h, dj : dj + wd, :] @ kernel[di, dj]
        return out + bias

    def pool2(x):
        n, h, wd, c = x.shape
        return x.reshape(n, h // 2, 2, wd // 2, 2, c).max(axis=(2, 4))

    x = pixels.astype(np.float64) / 255
    x = pool2(np.maximum(conv_same_3x3(x, k1, b1), 0))
    x = pool2(np.maximum(conv_same_3x3(x, k2, b2), 0))
    logits = x.reshape(len(x), -1) @ w + b
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_shipped_weights_classify_the_embedded_digits_as_stored(raw_probabilities, digits):
    predicted = raw_probabilities.argmax(axis=1)
    measured = float(np.mean(predicted == digits[1]))
    assert measured >= 0.97
    assert measured == pytest.approx(HELD_OUT_ACCURACY, abs=1e-9)


def test_docstring_cites_the_stored_accuracy():
    assert f"{HELD_OUT_ACCURACY * 100:.1f} %" in mnist_model.__doc__
    assert f"{round(HELD_OUT_ACCURACY * 1000)} of 1,000" in mnist_model.__doc__
    assert "1,000–9,999" in TRAINED_ON and "0–999" in TRAINED_ON


def test_raw_uint8_pixels_give_probabilities_matching_a_numpy_forward_pass(
        model, digits, raw_probabilities):
    images, _ = digits
    assert images.dtype == np.uint8
    probabilities = raw_probabilities
    assert probabilities.shape == (len(images), 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    expected = _numpy_forward(images, model.get_weights())
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)


def test_rescaling_by_1_over_255_is_the_first_layer(model):
    first = model.layers[0]
    assert type(first).__name__ == "Rescaling"
    assert first.scale == pytest.approx(1 / 255)
    assert first.offset == 0
    assert model.input_shape == (None, 28, 28, 1)


def test_pixels_already_scaled_to_unit_give_different_wrong_answers(
        model, digits, raw_probabilities):
    # The model scales its input itself; 0–1 pixels reach conv1 as 0–1/255, a near-black image.
    images, labels = digits
    raw = raw_probabilities
    unit = np.asarray(model(images / 255.0, training=False))
    np.testing.assert_allclose(unit, _numpy_forward(images / 255.0, model.get_weights()),
                               atol=1e-5)
    assert not np.allclose(raw, unit, atol=1e-2)
    assert np.mean(unit.argmax(axis=1) == labels) < 0.5


def test_layers_have_the_documented_names_and_relu_is_separate(model):
    assert tuple(layer.name for layer in model.layers) == LAYER_NAMES
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Rescaling", "Conv2D", "ReLU", "MaxPooling2D", "Conv2D", "ReLU",
                     "MaxPooling2D", "Flatten", "Dense"]
    for conv in (model.get_layer("conv1"), model.get_layer("conv2")):
        assert conv.get_config()["activation"] == "linear"
    assert model.get_layer("probabilities").get_config()["activation"] == "softmax"
    for name in LAYER_NAMES:
        assert f"\n        {name} " in mnist_model.__doc__


def test_each_call_returns_a_fresh_model_with_its_own_weights():
    first, second = mnist_model(), mnist_model()
    assert first is not second
    shipped = first.get_layer("conv1").get_weights()[0].copy()
    kernel = first.get_layer("conv1").kernel
    kernel.assign(np.zeros(kernel.shape, dtype="float32"))
    assert not first.get_layer("conv1").get_weights()[0].any()
    np.testing.assert_array_equal(second.get_layer("conv1").get_weights()[0], shipped)
    np.testing.assert_array_equal(mnist_model().get_layer("conv1").get_weights()[0], shipped)


def test_weights_file_for_another_architecture_is_refused(monkeypatch):
    monkeypatch.setattr(trained, "ARCHITECTURE", "mnist-cnn-v0")
    trained._stored.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=r"train_mnist_model\.py"):
            mnist_model()
    finally:
        monkeypatch.undo()
        trained._stored.cache_clear()
