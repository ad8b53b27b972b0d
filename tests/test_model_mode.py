"""LayerExplorer(model=m): every stage of a user's Keras model, the model left as it is."""

import numpy as np
import pytest

import layerwidget
from layerwidget import LayerExplorer, sample_digits
from layerwidget._tf import keras
from layerwidget.model_plan import ModelError


@pytest.fixture(scope="module")
def trained():
    return layerwidget.mnist_model()


def intermediate(model, x):
    layers = [layer for layer in model.layers
              if not isinstance(layer, keras.layers.InputLayer)]
    outs = keras.Model(model.inputs[0], [layer.output for layer in layers])(x, training=False)
    return [np.asarray(o) for o in outs]


def test_the_trained_network_opens_on_the_embedded_digits_and_predicts_them(trained):
    ex = LayerExplorer(model=trained)
    expected = intermediate(trained, ex.input)
    assert len(ex.outputs) == len(expected) == 9
    for got, want in zip(ex.outputs, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ex.prediction, trained.predict(ex.input, verbose=0)[0],
                               rtol=1e-5, atol=1e-6)
    _, labels = sample_digits()
    for index in (0, 1, 2, 3):
        ex.image_index = index
        assert ex.predicted_label == labels[index] == int(np.argmax(ex.prediction))
    assert [f.title.split(" (")[0] for f in ex.figures][1:3] == ["1. rescale · Rescaling",
                                                                 "2. conv1 · Conv2D"]
    assert ex.figures[8].title.startswith("8. flatten · Flatten (1, 784)")
    ex.close()


def branching_model():
    inputs = keras.Input((28, 28, 1))
    a = keras.layers.Conv2D(4, 3, padding="same", name="left")(inputs)
    b = keras.layers.Conv2D(4, 5, padding="same", name="right")(inputs)
    merged = keras.layers.Add(name="merge")([a, b])
    normed = keras.layers.BatchNormalization(name="norm")(merged)
    dropped = keras.layers.Dropout(0.5, name="drop")(normed)
    pooled = keras.layers.MaxPool2D(name="pool")(dropped)
    flat = keras.layers.Flatten(name="flat")(pooled)
    out = keras.layers.Dense(3, activation="softmax", name="out")(flat)
    model = keras.Model(inputs, out)
    norm = model.get_layer("norm")
    norm.set_weights([np.full(4, 2.0, np.float32), np.full(4, 0.5, np.float32),
                      np.linspace(-1, 1, 4).astype(np.float32), np.full(4, 3.0, np.float32)])
    return model


def test_a_branching_model_with_batchnorm_and_dropout_matches_keras_in_inference_mode():
    model = branching_model()
    ex = LayerExplorer(model=model, image_index=5)
    expected = intermediate(model, ex.input)
    for got, want in zip(ex.outputs, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    names = [f.title for f in ex.figures]
    assert "5. drop · Dropout · unchanged at inference" in names[5]
    np.testing.assert_array_equal(ex.outputs[4], ex.outputs[3])  # Dropout at inference
    assert ex.prediction.shape == (3,)
    ex.close()


def test_the_users_model_is_never_changed(trained):
    trained.get_layer("conv2").trainable = False
    before = [w.copy() for w in trained.get_weights()]
    flags = [layer.trainable for layer in trained.layers]
    optimizer, compiled = trained.optimizer, trained.compiled
    ex = LayerExplorer(model=trained)
    ex.image_index = 9
    ex.focus, ex.unit = (2, 1), (3, 4)
    _ = ex.code, ex.explanation, ex.kernel(1)
    for old, new in zip(before, trained.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    assert [layer.trainable for layer in trained.layers] == flags
    assert trained.optimizer is optimizer and trained.compiled == compiled
    trained.get_layer("conv2").trainable = True
    ex.close()


def test_reading_a_model_stage_explains_its_value_and_finds_its_field(trained):
    ex = LayerExplorer(model=trained)
    ex.focus, ex.unit = (2, 3), (12, 9)  # conv1, after Rescaling
    explained = ex.explanation
    assert explained.value == pytest.approx(float(ex.outputs[1][0, 12, 9, 3]), abs=1e-5)
    assert ex.receptive_field(2, 12, 9) == ((11, 8), (14, 11))
    assert ex.receptive_field(7, 2, 3) == ex.receptive_field(7, 2, 3)
    ex.focus, ex.unit = (9, 0), (0, 7)  # the probabilities, drawn as one row
    assert "value" in ex.panel.focus_info["text"]
    with pytest.raises(layerwidget.OptionError, match="cannot be worked out"):
        ex.receptive_field(9, 0, 7)
    ex.close()


def test_what_a_model_cannot_do_here_is_refused_with_the_reason(trained, tmp_path):
    with pytest.raises(TypeError, match="both model= and layers="):
        LayerExplorer(model=trained, layers=[{"type": "ReLU"}])
    ex = LayerExplorer(model=trained)
    for action, words in [(lambda: setattr(ex, "layers", [{"type": "ReLU"}]), "layers are its own"),
                          (lambda: ex.set_kernel(1, "identity"), "weights are its own"),
                          (lambda: ex.to_html(tmp_path / "x.html"), "not exported")]:
        with pytest.raises(ModelError, match=words):
            action()
    ex.close()


def test_a_model_that_does_not_fit_the_images_is_refused_before_anything_is_built():
    rgb = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(2, 3)])
    with pytest.raises(ModelError, match=r"\(32, 32, 3\).*\(28, 28, 1\)"):
        LayerExplorer(model=rgb)
    two = keras.Input((28, 28, 1)), keras.Input((28, 28, 1))
    joined = keras.Model(list(two), keras.layers.Add()(list(two)))
    with pytest.raises(ModelError, match="2 inputs"):
        LayerExplorer(model=joined)


def test_the_code_reads_the_same_stages_from_the_model(trained):
    ex = LayerExplorer(model=trained, image_index=2)
    namespace = {}
    exec(compile(ex.code, "ex.code", "exec"), namespace)  # the explorer's own generated code
    for got, want in zip(namespace["stages"], ex.outputs, strict=True):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6, atol=1e-6)
    ex.close()
