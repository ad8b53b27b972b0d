"""The core's layer specs: validation, Keras's shape arithmetic, weights, code. No widgets."""

import numpy as np
import pytest

from layerwidget._tf import keras
from layerwidget.codegen import to_code
from layerwidget.errors import LayerSpecError
from layerwidget.layers import (
    ACTIVATIONS,
    DEFAULT_STACK,
    LAYER_TYPES,
    MAX_LAYERS,
    MAX_STAGE_VALUES,
    normalize_layer,
    normalize_stack,
    schema,
)
from layerwidget.shapes import stack_shapes
from layerwidget.weights import build_layer, layer_weights


def test_omitted_fields_take_keras_defaults():
    conv = normalize_layer({"type": "Conv2D", "filters": 5})
    assert conv == {"type": "Conv2D", "filters": 5, "kernel_size": 3, "strides": 1,
                    "padding": "valid", "activation": "linear", "id": None}
    assert normalize_layer({"type": "ReLU"}) == {
        "type": "ReLU", "max_value": None, "negative_slope": 0.0, "threshold": 0.0, "id": None}
    pool = normalize_layer({"type": "MaxPool2D"})
    assert pool["pool_size"] == 2 and pool["strides"] is None and pool["padding"] == "valid"


def test_defaults_agree_with_keras_signatures():
    import inspect

    for name, ltype in LAYER_TYPES.items():
        params = inspect.signature(getattr(keras.layers, name).__init__).parameters
        for f in ltype.fields:
            if f.name in ("filters", "kernel_size") or params[f.name].default is inspect._empty:
                continue  # Keras requires these; layerwidget defaults them to the walkthrough's
            keras_default = params[f.name].default
            if f.name == "activation":
                assert keras_default is None and f.default == "linear"
            elif f.name in ("strides", "pool_size") and isinstance(keras_default, tuple):
                assert keras_default == (f.default, f.default)
            else:
                assert keras_default == f.default, (name, f.name)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_offered_activation_is_accepted_by_keras(name):
    assert callable(keras.activations.get(name))


@pytest.mark.parametrize(
    "spec, words",
    [
        ({"type": "Conv2D", "filters": 0}, ["filters=0", "too small", "1 to 256"]),
        ({"type": "Conv2D", "filters": 300}, ["filters=300", "too large", "1 to 256"]),
        ({"type": "Conv2D", "filters": 2.5}, ["filters=2.5", "not a whole number"]),
        ({"type": "Conv2D", "filters": True}, ["filters=True", "not a number"]),
        ({"type": "Conv2D", "filters": "5"}, ["filters='5'", "not a number"]),
        ({"type": "Conv2D", "filters": None}, ["filters=None", "missing"]),
        ({"type": "Conv2D", "kernel_size": 12}, ["kernel_size=12", "1 to 11"]),
        ({"type": "Conv2D", "padding": "smae"}, ["padding='smae'", "'same'", "Did you mean 'same'"]),
        ({"type": "Conv2D", "activation": "rleu"}, ["activation='rleu'", "Did you mean 'relu'"]),
        ({"type": "ReLU", "max_value": -1}, ["max_value=-1", "≥ 0", "None"]),
        ({"type": "ReLU", "negative_slope": float("nan")}, ["negative_slope=nan", "not finite"]),
        ({"type": "MaxPool2D", "pool_size": 9}, ["pool_size=9", "1 to 8"]),
        ({"type": "MaxPool2D", "strides": 0}, ["strides=0", "= pool_size"]),
    ],
)
def test_bad_field_values_name_field_value_and_range(spec, words):
    with pytest.raises(LayerSpecError) as info:
        normalize_layer(spec, 1)
    message = str(info.value)
    assert f"{spec['type']} (layer 2)" in message
    for word in words:
        assert word in message
    assert info.value.layer == 1 and info.value.field is not None


def test_unknown_type_and_unknown_field_are_errors_with_a_suggestion():
    with pytest.raises(LayerSpecError, match=r"unknown type 'Conv2d'.*Did you mean 'Conv2D'"):
        normalize_layer({"type": "Conv2d"})
    with pytest.raises(LayerSpecError, match=r"no 'type'"):
        normalize_layer({"filters": 3})
    with pytest.raises(LayerSpecError, match=r"no field 'filter'.*Did you mean 'filters'"):
        normalize_layer({"type": "Conv2D", "filter": 3})
    with pytest.raises(LayerSpecError, match=r"must be a dict"):
        normalize_layer(["Conv2D"])


def test_a_fresh_stack_numbers_its_layers_from_one():
    stack = normalize_stack([{"type": "Conv2D"}, {"type": "ReLU"}, {"type": "MaxPool2D"}])
    assert [s["id"] for s in stack] == [1, 2, 3]


def test_layers_keep_their_ids_and_new_or_copied_layers_get_the_next_one():
    stack = normalize_stack([{"type": "ReLU", "id": 7}, {"type": "Conv2D", "id": 3},
                             {"type": "MaxPool2D"}, {"type": "ReLU", "id": 7}])
    # Kept as given; the new layer and the copy of layer 1 get the next ids after the largest.
    assert [s["id"] for s in stack] == [7, 3, 8, 9]


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3", True, 2**31])
def test_an_id_that_is_not_a_whole_number_from_one_is_refused(bad):
    with pytest.raises(LayerSpecError, match=r"id=.*is not a layer id.*Leave 'id' out") as info:
        normalize_stack([{"type": "ReLU", "id": bad}])
    assert info.value.field == "id" and info.value.layer == 0


def test_stack_must_be_a_list_of_one_to_eight_layers():
    with pytest.raises(LayerSpecError, match="list of layer dicts"):
        normalize_stack({"type": "ReLU"})
    with pytest.raises(LayerSpecError, match="list of layer dicts"):
        normalize_stack("ReLU")
    with pytest.raises(LayerSpecError, match="0 layers"):
        normalize_stack([])
    with pytest.raises(LayerSpecError, match=f"1 to {MAX_LAYERS}"):
        normalize_stack([{"type": "ReLU"}] * (MAX_LAYERS + 1))
    assert len(normalize_stack([{"type": "ReLU"}] * MAX_LAYERS)) == MAX_LAYERS


def _keras_shape(spec, shape):
    layer = build_layer({**spec, "id": 1}, seed=0, in_shape=shape)
    return tuple(layer.compute_output_shape((1, *shape))[1:])


@pytest.mark.parametrize("kind", ["Conv2D", "MaxPool2D", "AvgPool2D", "DepthwiseConv2D"])
@pytest.mark.parametrize("size", [1, 2, 3, 5])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("side", [7, 28])
def test_shape_arithmetic_matches_keras(kind, size, stride, padding, side):
    window = "pool_size" if "Pool" in kind else "kernel_size"
    spec = normalize_layer({"type": kind, window: size, "strides": stride, "padding": padding})
    shape = (side, side + 3, 2)
    assert tuple(stack_shapes([spec], shape)[0]) == _keras_shape(spec, shape)


def test_walkthrough_maxpool_halves_28_to_14():
    stack = normalize_stack(list(DEFAULT_STACK))
    assert stack_shapes(stack, (28, 28, 1)) == [(28, 28, 3), (28, 28, 3), (14, 14, 3)]


def test_impossible_shape_names_the_layer_and_the_fix():
    stack = normalize_stack([
        {"type": "MaxPool2D"}, {"type": "MaxPool2D"},
        {"type": "Conv2D", "kernel_size": 9, "padding": "valid"},
    ])
    with pytest.raises(LayerSpecError) as info:
        stack_shapes(stack, (28, 28, 1))
    assert str(info.value) == (
        "Conv2D (layer 3).kernel_size=9 is larger than its 7×7 input with padding='valid'; "
        "use padding='same' or a kernel_size of at most 7.")
    assert (info.value.layer, info.value.field) == (2, "kernel_size")


def test_stage_size_cap_refuses_huge_outputs():
    stack = normalize_stack([{"type": "Conv2D", "filters": 256, "padding": "same"}])
    with pytest.raises(LayerSpecError, match="more than the"):
        stack_shapes(stack, (400, 400, 1))
    assert 400 * 400 * 256 > MAX_STAGE_VALUES


def test_weights_depend_only_on_seed_id_and_weight_shape():
    base = normalize_layer({"type": "Conv2D", "filters": 4, "kernel_size": 3, "id": 1})
    w = layer_weights(base, seed=0, in_channels=1)
    for change in ({"strides": 2}, {"padding": "same"}, {"activation": "relu"}):
        other = normalize_layer({**base, **change})
        np.testing.assert_array_equal(layer_weights(other, seed=0, in_channels=1)[0], w[0])
    assert not np.array_equal(layer_weights(base, seed=1, in_channels=1)[0], w[0])
    assert not np.array_equal(layer_weights({**base, "id": 2}, seed=0, in_channels=1)[0], w[0])
    assert not np.array_equal(layer_weights({**base, "filters": 5}, seed=0, in_channels=1)[0][
        ..., :4], w[0])
    assert w[0].shape == (3, 3, 1, 4) and w[0].dtype == np.float32
    limit = np.sqrt(6 / (9 * 1 + 9 * 4))  # Glorot uniform, as Keras's default initializer
    assert np.abs(w[0]).max() <= limit


def test_to_code_builds_the_same_layers_in_keras():
    stack = normalize_stack([
        {"type": "Conv2D", "filters": 5, "padding": "same", "activation": "relu"},
        {"type": "ReLU", "max_value": 6.0}, {"type": "MaxPool2D", "strides": 1},
    ])
    model = eval(to_code(stack), {"keras": keras})  # our own generated source, on purpose
    for spec, layer in zip(stack, model.layers, strict=True):
        assert type(layer) is getattr(keras.layers, spec["type"])
        config = layer.get_config()
        for key, value in spec.items():
            if key in ("type", "id"):
                continue
            if key in ("kernel_size", "strides", "pool_size") and value is not None:
                assert tuple(config[key]) == (value, value)
            else:
                assert config[key] == value


def test_schema_lists_every_type_and_field_for_the_panel():
    s = schema()
    assert set(s) == set(LAYER_TYPES)
    conv = {f["name"]: f for f in s["Conv2D"]["fields"]}
    assert conv["filters"]["min"] == 1 and conv["filters"]["max"] == 256
    assert conv["padding"]["choices"] == ["valid", "same"]
