"""The model runner: a user's own Keras model, inspected and run stage by stage.

Every result is compared with an independent computation: a Keras model built here from the
same layers' outputs, ``model.predict``, or NumPy arithmetic on the layer's weights.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from layerwidget._tf import keras, tf
from layerwidget.layers import MAX_STAGE_VALUES
from layerwidget.model_runner import ModelError, ModelRunner, inspect_model

L = keras.layers


def seed_weights(model, seed=0):
    """Deterministic, non-trivial weights; BatchNormalization statistics far from 0 and 1."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        if "moving_variance" in w.path:
            value = rng.uniform(0.5, 3.0, w.shape)
        elif "moving_mean" in w.path:
            value = rng.uniform(-1.0, 1.0, w.shape)
        else:
            value = rng.normal(0.0, 0.4, w.shape)
        w.assign(value.astype(np.float32))
    return model


def mnist_cnn():
    return seed_weights(keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(8, 3, activation="relu", name="conv"),
        L.MaxPool2D(name="pool"),
        L.BatchNormalization(name="bn"),
        L.Conv2D(16, 3, name="conv2"),
        L.ReLU(name="relu"),
        L.MaxPool2D(name="pool2"),
        L.Dropout(0.5, name="drop"),
        L.Flatten(name="flat"),
        L.Dense(10, activation="softmax", name="probs"),
    ], name="cnn"))


def branchy():
    """Two conv branches merged twice: once by a keras.ops addition, once by Concatenate."""
    inp = keras.Input((12, 12, 3), name="img")
    a = L.Conv2D(4, 3, padding="same", name="a")(inp)
    b = L.Conv2D(4, 1, name="b")(inp)
    b2 = L.Activation("tanh", name="b2")(b)
    added = a + b2
    cat = L.Concatenate(name="cat")([added, b])
    pooled = L.GlobalAveragePooling2D(name="gap")(cat)
    out = L.Dense(5, name="logits")(pooled)
    return seed_weights(keras.Model(inp, L.Softmax(name="soft")(out), name="branchy"), 1)


def image(shape, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (1, *shape)).astype(np.float32)


def reference_outputs(model, ops, x):
    """Every op's output, from a Keras model built independently of the runner."""
    ref = keras.Model(model.inputs[0], [op.output for op in ops])(x, training=False)
    return [np.asarray(t) for t in ref]


@pytest.fixture(scope="module")
def cnn():
    return mnist_cnn()


@pytest.fixture(scope="module")
def cnn_run(cnn):
    plan = inspect_model(cnn, (28, 28, 1))
    x = image((28, 28, 1))
    return plan, x, ModelRunner(plan).run(x)


def test_cnn_stage_outputs_equal_an_independent_intermediate_model(cnn, cnn_run):
    _plan, x, run = cnn_run
    expected = reference_outputs(cnn, cnn.layers, x)
    assert len(run.outputs) == len(expected) == 9
    for got, want in zip(run.outputs, expected, strict=True):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_cnn_stages_are_its_layers_with_names_types_params_and_shapes(cnn, cnn_run):
    plan = cnn_run[0]
    assert [s.name for s in plan.stages] == [layer.name for layer in cnn.layers]
    assert [s.type for s in plan.stages] == [type(layer).__name__ for layer in cnn.layers]
    assert [s.params for s in plan.stages] == [layer.count_params() for layer in cnn.layers]
    assert [s.output_shape for s in plan.stages] == [
        (1, *tuple(layer.output.shape[1:])) for layer in cnn.layers]
    assert [s.inputs for s in plan.stages] == [("input",)] + [
        (layer.name,) for layer in cnn.layers[:-1]]
    assert [s.spatial for s in plan.stages] == [True] * 7 + [False, False]
    assert [s.flat for s in plan.stages] == [False] * 7 + [True, True]
    assert [s.passthrough_at_inference for s in plan.stages] == [False] * 6 + [True] + [False] * 2
    assert plan.input_shape == (28, 28, 1) and plan.params == cnn.count_params()
    conv = plan.stages[0].settings
    assert conv["filters"] == 8 and conv["kernel_size"] == (3, 3)
    assert conv["activation"] == "relu" and conv["padding"] == "valid"
    assert plan.stages[6].settings == {"rate": 0.5}
    json.dumps([s.to_dict() for s in plan.stages])  # the panel receives these as JSON


def test_batchnorm_stage_uses_moving_statistics(cnn, cnn_run):
    _, _, run = cnn_run
    bn = cnn.get_layer("bn")
    gamma, beta, mean, var = (w.numpy() for w in bn.weights)
    before = run.outputs[1]
    expected = (before - mean) / np.sqrt(var + bn.epsilon) * gamma + beta
    np.testing.assert_allclose(run.outputs[2], expected, rtol=1e-5, atol=1e-5)
    # What training mode (this image's own statistics) would show instead differs clearly.
    batch = ((before - before.mean(axis=(0, 1, 2))) / np.sqrt(before.var(axis=(0, 1, 2))
             + bn.epsilon) * gamma + beta)
    assert np.abs(batch - run.outputs[2]).max() > 0.1


def test_dropout_stage_equals_its_input(cnn_run):
    _, _, run = cnn_run
    np.testing.assert_array_equal(run.outputs[6], run.outputs[5])


def test_classifier_prediction_equals_model_predict(cnn, cnn_run):
    plan, x, run = cnn_run
    assert plan.classifier and plan.classes == 10
    expected = cnn.predict(x, verbose=0)[0]
    np.testing.assert_allclose(run.prediction, expected, rtol=0, atol=1e-6)
    assert run.predicted_label == int(np.argmax(expected))
    assert [s.name for s in run.stats] == ["input"] + [s.name for s in plan.stages]


def test_branches_and_merges_run_in_topological_order():
    model = branchy()
    plan = inspect_model(model, (12, 12, 3))
    ops = [op for op in model.operations if not isinstance(op, L.InputLayer)]
    assert [s.name for s in plan.stages] == [op.name for op in ops]
    seen = {"input"}
    for stage in plan.stages:
        assert set(stage.inputs) <= seen, f"{stage.name} comes before its inputs"
        seen.add(stage.name)
    by_name = {s.name: s for s in plan.stages}
    # Keras names the `a + b2` operation "add", "add_1", ... by how many it made before.
    (add,) = [op.name for op in ops if op.name.startswith("add")]
    assert by_name["cat"].inputs == (add, "b")
    assert by_name[add].type == "Add" and by_name[add].params == 0
    assert by_name["a"].params == 4 * 3 * 3 * 3 + 4
    x = image((12, 12, 3), seed=2)
    run = ModelRunner(plan).run(x)
    for got, want in zip(run.outputs, reference_outputs(model, ops, x), strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert plan.classifier and plan.classes == 5  # a Softmax layer at the end
    np.testing.assert_allclose(run.prediction, model.predict(x, verbose=0)[0], atol=1e-6)


@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1")
def test_model_without_softmax_output_is_not_a_classifier():
    logits = seed_weights(keras.Sequential([keras.Input((6, 6, 1)), L.Flatten(), L.Dense(4)]))
    one = seed_weights(keras.Sequential(
        [keras.Input((6, 6, 1)), L.Flatten(), L.Dense(1, activation="softmax")]))
    for model in (logits, one):
        plan = inspect_model(model)
        assert not plan.classifier and plan.classes is None
        run = ModelRunner(plan).run(image((6, 6, 1)))
        assert run.prediction is None and run.predicted_label is None


def test_noise_and_dropout_layers_pass_through_at_inference():
    model = seed_weights(keras.Sequential([
        keras.Input((6, 6, 2)), L.Conv2D(4, 3, name="c"), L.SpatialDropout2D(0.5),
        L.GaussianNoise(1.0), L.GaussianDropout(0.5), L.ActivityRegularization(0.1),
        L.Flatten()]))
    plan = inspect_model(model)
    assert [s.passthrough_at_inference for s in plan.stages] == [False] + [True] * 4 + [False]
    run = ModelRunner(plan).run(image((6, 6, 2)))
    for out in run.outputs[1:5]:
        np.testing.assert_array_equal(out, run.outputs[0])


def test_fully_convolutional_model_takes_any_image_size():
    model = seed_weights(keras.Sequential([
        keras.Input((None, None, 1)), L.Conv2D(3, 3, strides=2, name="c"),
        L.GlobalMaxPooling2D(name="g")]))
    assert inspect_model(model).stages[0].output_shape == (1, None, None, 3)
    plan = inspect_model(model, (28, 28, 1))
    assert plan.stages[0].output_shape == (1, 13, 13, 3)
    runner = ModelRunner(plan)
    for shape in ((28, 28, 1), (9, 15, 1)):
        x = image(shape)
        run = runner.run(x)
        assert run.outputs[0].shape == (1, (shape[0] - 1) // 2, (shape[1] - 1) // 2, 3)
        for got, want in zip(run.outputs, reference_outputs(model, model.layers, x), strict=True):
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_nested_model_is_one_stage():
    block = keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(3, 3), L.ReLU()], name="block")
    inp = keras.Input((8, 8, 1))
    model = seed_weights(keras.Model(inp, L.Flatten(name="f")(block(inp))))
    plan = inspect_model(model)
    assert [(s.name, s.type) for s in plan.stages] == [("block", "Sequential"), ("f", "Flatten")]
    assert plan.stages[0].params == block.count_params() == 30
    x = image((8, 8, 1))
    run = ModelRunner(plan).run(x)
    np.testing.assert_allclose(run.outputs[0], np.asarray(block(x)), atol=1e-6)


def test_layer_also_called_outside_the_model_shows_this_models_output():
    conv = L.Conv2D(2, 3, name="conv")
    other = keras.Input((10, 10, 1))
    conv(other)  # the layer's first call, and so its .output, belongs to another graph
    inp = keras.Input((6, 6, 1))
    model = seed_weights(keras.Model(inp, L.Flatten(name="f")(conv(inp))))
    plan = inspect_model(model)
    assert plan.stages[0].output_shape == (1, 4, 4, 2) and plan.stages[0].inputs == ("input",)
    x = image((6, 6, 1))
    np.testing.assert_allclose(ModelRunner(plan).run(x).outputs[0], np.asarray(conv(x)),
                               atol=1e-6)


def snapshot(model):
    return {
        "weights": [w.numpy().copy() for w in model.weights],
        "trainable": [(layer.name, layer.trainable) for layer in model.layers],
        "model_trainable": model.trainable,
        "name": model.name,
        "layers": len(model.layers),
        "nodes": [len(layer._inbound_nodes) for layer in model.layers],
        "compiled": model.compiled,
        "optimizer": getattr(model, "optimizer", None),
        "iterations": int(model.optimizer.iterations.numpy()) if model.compiled else None,
        "loss": getattr(model, "loss", None),
        "metrics": [m.name for m in model.metrics],
        "compile_config": model.get_compile_config(),
    }


@pytest.mark.parametrize("compiled", [False, True])
def test_users_model_is_unchanged_by_inspect_and_run(compiled):
    model = mnist_cnn()
    model.get_layer("conv").trainable = False
    if compiled:
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    before = snapshot(model)
    plan = inspect_model(model, (28, 28, 1))
    ModelRunner(plan).run(image((28, 28, 1)))
    after = snapshot(model)
    assert after["compiled"] is compiled and after["optimizer"] is before["optimizer"]
    assert (after["optimizer"] is not None) is compiled
    for a, b in zip(before.pop("weights"), after.pop("weights"), strict=True):
        np.testing.assert_array_equal(a, b)
    assert after == before


def test_not_a_keras_model_is_refused_naming_its_type():
    for thing, kind in ((L.Dense(3), "Dense"), (np.zeros(3), "ndarray")):
        with pytest.raises(ModelError, match=f"model is a {kind} .*not a Keras 3 model") as err:
            inspect_model(thing)
        assert err.value.field == "model"


def test_unbuilt_sequential_is_refused_saying_how_to_build_it():
    with pytest.raises(ModelError, match=r"not built.*keras\.Input\(shape=.*model\.build"):
        inspect_model(keras.Sequential([L.Conv2D(2, 3)]))


def test_subclassed_model_is_refused():
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Tiny()
    model(np.zeros((1, 3), np.float32))
    with pytest.raises(ModelError, match=r"subclassed keras.Model \(Tiny\).*Sequential"):
        inspect_model(model)


def test_model_with_two_inputs_is_refused_with_the_count():
    a, b = keras.Input((4, 4, 1)), keras.Input((4, 4, 1))
    model = keras.Model([a, b], L.Add()([a, b]))
    with pytest.raises(ModelError, match="has 2 inputs"):
        inspect_model(model)


def test_model_on_images_without_channel_axis_is_refused_with_its_shape():
    model = keras.Sequential([keras.Input((28, 28)), L.Flatten(), L.Dense(10)])
    with pytest.raises(ModelError, match=r"inputs of shape \(28, 28\).*keras\.Input\(shape="):
        inspect_model(model)


def test_image_shape_mismatch_names_both_shapes_and_the_fixes(cnn):
    with pytest.raises(ModelError) as err:
        inspect_model(cnn, (32, 32, 3))
    message = str(err.value)
    for fact in ("takes (28, 28, 1) images", "holds (32, 32, 3) images", "(N, 28, 28, 1)",
                 "tf.image.resize", "rgb_to_grayscale", "pixel_scale"):
        assert fact in message
    inspect_model(cnn, (28, 28, 1))  # the same model fits the right images
    with pytest.raises(ModelError, match=r"1 channel instead of 3") as err:
        inspect_model(cnn, (28, 28, 3))
    assert "resize" not in str(err.value)  # only what is wrong gets a fix


def test_runner_refuses_an_image_of_another_size(cnn_run):
    plan = cnn_run[0]
    with pytest.raises(ModelError, match=r"takes \(28, 28, 1\).*holds \(20, 20, 1\)"):
        ModelRunner(plan).run(image((20, 20, 1)))


def test_stage_over_the_cap_is_refused_before_running():
    model = keras.Sequential([keras.Input((1024, 1024, 1)), L.Conv2D(64, 1, name="wide")])
    with pytest.raises(ModelError, match=f"'wide' \\(Conv2D\\).*{MAX_STAGE_VALUES:,}") as err:
        inspect_model(model)
    assert err.value.layer == 0


def test_cap_applies_to_the_image_size_of_a_fully_convolutional_model():
    model = keras.Sequential([keras.Input((None, None, 1)), L.Conv2D(64, 1, name="wide")])
    plan = inspect_model(model, (28, 28, 1))
    with pytest.raises(ModelError, match=f"'wide'.*{MAX_STAGE_VALUES:,}"):
        inspect_model(model, (1024, 1024, 1))
    runner = ModelRunner(plan)
    with pytest.raises(ModelError, match=f"'wide'.*{MAX_STAGE_VALUES:,}"):
        runner.run(np.zeros((1, 1024, 1024, 1), np.float32))


def test_rank_three_output_is_refused_naming_the_layer():
    model = keras.Sequential([keras.Input((4, 4, 1)), L.Conv2D(2, 1, name="c"),
                              L.Reshape((4, 8), name="squash"), L.Flatten()])
    with pytest.raises(ModelError, match=r"'squash' \(Reshape\) outputs shape \(4, 8\)") as err:
        inspect_model(model)
    assert "model.get_layer('c').output" in str(err.value) and err.value.layer == 1


def test_layer_called_twice_is_refused():
    inp = keras.Input((5, 5, 2))
    shared = L.Conv2D(2, 1, name="shared")
    model = keras.Model(inp, shared(shared(inp)))
    with pytest.raises(ModelError, match="'shared' \\(Conv2D\\) is called 2 times"):
        inspect_model(model)


def test_layer_failing_at_run_time_is_named_with_tensorflows_message():
    def guarded(t):
        tf.debugging.assert_less(t, 5.0, message="too bright")
        return t

    model = keras.Sequential([keras.Input((4, 4, 1)), L.Conv2D(2, 1, name="c"),
                              L.Lambda(guarded, output_shape=(4, 4, 2), name="guard"),
                              L.Flatten(name="f")])
    model.get_layer("c").set_weights([np.ones((1, 1, 1, 2), np.float32), np.zeros(2)])
    runner = ModelRunner(inspect_model(model, (4, 4, 1)))
    with pytest.raises(ModelError, match=r"'guard' \(Lambda\) failed.*too bright") as err:
        runner.run(np.full((1, 4, 4, 1), 9.0, np.float32))
    assert err.value.layer == 1
    run = runner.run(np.full((1, 4, 4, 1), 1.0, np.float32))  # the runner still works
    np.testing.assert_array_equal(run.outputs[2], np.ones((1, 32), np.float32))
