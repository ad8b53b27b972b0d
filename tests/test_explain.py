"""The arithmetic explain_unit shows equals what the tf.keras layers computed, unit by unit."""

import json

import numpy as np
import pytest

from layerwidget._tf import tf
from layerwidget.errors import OptionError
from layerwidget.explain import (
    AvgPoolExplanation,
    ConvExplanation,
    MaxPoolExplanation,
    ReLUExplanation,
    explain_unit,
)
from layerwidget.layers import normalize_stack
from layerwidget.shapes import output_shape
from layerwidget.weights import build_layer, layer_weights


def run(stack, x, seed=0, bias=True):
    """Stages and weights of ``stack`` on ``x``: Keras layers with random kernels and biases."""
    rng = np.random.default_rng(seed)
    stack = normalize_stack(stack)
    stages, weights, shape = [x], [], x.shape[1:]
    for spec in stack:
        w = layer_weights(spec, seed=seed, in_channels=shape[-1])
        if w is not None and bias:
            w = [w[0], rng.normal(size=w[1].shape).astype(np.float32)]
        layer = build_layer(spec, seed=seed, in_shape=shape, weights=w)
        stages.append(np.asarray(layer(tf.constant(stages[-1]))))
        weights.append(layer.get_weights() or None)
        shape = output_shape(spec, shape)
    return stack, stages, weights


def close(a, b, scale):
    """float32 sums in another order: equal to 1e-5 of the size of what was summed."""
    return abs(a - b) <= 1e-5 * max(scale, 1.0)


def check_every_unit(stack, stages, weights, stage):
    """Explain every unit of ``stage``; each explanation's value must be Keras's output."""
    h, w, c = stages[stage].shape[1:]
    found = []
    for row in range(h):
        for col in range(w):
            for channel in range(c):
                e = explain_unit(stack, stages, weights, stage, row, col, channel)
                assert e.output == stages[stage][0, row, col, channel]
                if isinstance(e, ConvExplanation):
                    scale = float(np.abs(e.products).sum() + abs(e.bias))
                    assert close(e.value, e.output, scale), (row, col, channel, e.text())
                    assert e.pre_activation == pytest.approx(e.total + e.bias)
                    assert e.total == pytest.approx(float(e.products.sum()))
                else:
                    assert close(e.value, e.output, float(np.abs(stages[stage - 1]).max()))
                json.dumps(e.to_dict(), allow_nan=False)
                found.append(e)
    return found


def test_unit_0_of_channel_0_can_be_checked_by_hand():
    x = np.arange(1, 17, dtype=np.float32).reshape(1, 4, 4, 1)  # 1 2 3 4 / 5 6 7 8 / ...
    kernel = np.arange(1, 10, dtype=np.float32).reshape(3, 3, 1, 1)  # 1 2 3 / 4 5 6 / 7 8 9
    spec = normalize_stack([{"type": "Conv2D", "filters": 1, "kernel_size": 3,
                             "padding": "same"}])
    layer = build_layer(spec[0], seed=0, in_shape=(4, 4, 1),
                        weights=[kernel, np.array([0.5], np.float32)])
    y = np.asarray(layer(tf.constant(x)))
    e = explain_unit(spec, [x, y], [layer.get_weights()], 1, 0, 0, 0)
    # 'same' pads one row above and one column left: the window of unit (0, 0) is
    #   pad pad pad          1 2 3
    #   pad  1   2    times  4 5 6   = 5·1 + 6·2 + 8·5 + 9·6 = 5 + 12 + 40 + 54 = 111,
    #   pad  5   6           7 8 9
    # plus the bias 0.5 = 111.5.
    assert e.origin == (-1, -1)
    assert e.patch[:, :, 0].tolist() == [[0, 0, 0], [0, 1, 2], [0, 5, 6]]
    assert e.padded.tolist() == [[True, True, True], [True, False, False],
                                 [True, False, False]]
    assert e.kernel[:, :, 0].tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert e.products[:, :, 0].tolist() == [[0, 0, 0], [0, 5, 12], [0, 40, 54]]
    assert (e.total, e.bias, e.pre_activation, e.value) == (111, 0.5, 111.5, 111.5)
    assert y[0, 0, 0, 0] == 111.5 == e.output
    assert e.text() == ("sum of 9 products (5 over padding, each 0) = 111.00, + bias 0.50 = "
                        "111.50; linear → 111.50")


@pytest.mark.parametrize("size", [(7, 9), (8, 8)])
@pytest.mark.parametrize("activation", ["linear", "relu", "tanh", "softmax"])
def test_conv2d_same_strided_several_channels_equals_keras(size, activation):
    x = np.random.default_rng(1).normal(size=(1, *size, 3)).astype(np.float32)
    stack, stages, weights = run([{"type": "Conv2D", "filters": 3, "kernel_size": 4,
                                   "strides": 2, "padding": "same",
                                   "activation": activation}], x)
    found = check_every_unit(stack, stages, weights, 1)
    assert any(e.padded.any() for e in found) and any(not e.padded.any() for e in found)
    assert all(e.patch.shape == (4, 4, 3) and e.in_channels == (0, 1, 2) for e in found)


def test_depthwise_multiplier_2_reads_one_input_channel():
    x = np.random.default_rng(2).normal(size=(1, 8, 7, 3)).astype(np.float32)
    stack, stages, weights = run([{"type": "DepthwiseConv2D", "kernel_size": 3, "strides": 2,
                                   "padding": "same", "depth_multiplier": 2,
                                   "activation": "relu"}], x)
    found = check_every_unit(stack, stages, weights, 1)
    for e in found:
        assert e.in_channels == (e.channel // 2,) and e.patch.shape == (3, 3, 1)
        top, left = e.origin
        r0, c0 = max(top, 0), max(left, 0)
        assert e.patch[r0 - top, c0 - left, 0] == x[0, r0, c0, e.channel // 2]
        assert np.array_equal(e.kernel[:, :, 0], weights[0][0][:, :, e.channel // 2,
                                                               e.channel % 2])
    assert "input channel 2 only" in found[-1].text()


def test_max_pool_finds_every_tied_winner_and_ignores_padding():
    # Small whole numbers make ties; negative ones make a padding zero a wrong winner.
    x = np.random.default_rng(3).integers(-4, 2, size=(1, 7, 6, 2)).astype(np.float32)
    stack, stages, weights = run([{"type": "MaxPool2D", "pool_size": 3, "strides": 2,
                                   "padding": "same"}], x)
    found = check_every_unit(stack, stages, weights, 1)
    for e in found:
        assert isinstance(e, MaxPoolExplanation) and e.value == e.output
        top, left = e.origin
        real = x[0, max(top, 0):top + 3, max(left, 0):left + 3, e.channel]
        expected = {(int(r) + max(top, 0), int(c) + max(left, 0))
                    for r, c in zip(*np.nonzero(real == real.max()), strict=True)}
        assert set(e.winners) == expected
    tie = next(e for e in found if len(e.winners) == 2)
    first, second = tie.winners
    assert tie.text().endswith(f"at {first} and {second} (a 2-way tie)")
    assert any(e.padded.any() and e.value < 0 for e in found)


def test_avg_pool_at_a_padded_border_divides_by_real_values():
    x = np.random.default_rng(4).normal(size=(1, 7, 8, 2)).astype(np.float32)
    stack, stages, weights = run([{"type": "AvgPool2D", "pool_size": 3, "strides": 2,
                                   "padding": "same"}], x)
    found = check_every_unit(stack, stages, weights, 1)
    corner = next(e for e in found if (e.row, e.col, e.channel) == (3, 3, 1))
    assert isinstance(corner, AvgPoolExplanation)
    # Rows: 7 cells pad 2, one on each side, so row 3 reads rows 5, 6 (7 is padding).
    # Columns: 8 cells pad 1, after (right), so column 3 reads columns 6, 7 (8 is padding).
    assert corner.origin == (5, 6) and corner.count == int((~corner.padded).sum()) == 4
    assert corner.value == pytest.approx(x[0, 5:7, 6:8, 1].mean(), rel=1e-6)
    assert "padding cells not counted" in corner.text()


@pytest.mark.parametrize("settings", [
    {}, {"max_value": 6.0}, {"negative_slope": 0.1}, {"threshold": 0.5},
    {"max_value": 1.0, "negative_slope": 0.2, "threshold": 0.5},
    {"max_value": 2.0, "negative_slope": 0.3}, {"negative_slope": 1.5, "threshold": 3.0},
])
def test_relu_rule_equals_keras(settings):
    x = np.linspace(-8, 8, 7 * 7, dtype=np.float32).reshape(1, 7, 7, 1)
    stack, stages, weights = run([{"type": "ReLU", **settings}], x)
    for e in check_every_unit(stack, stages, weights, 1):
        assert isinstance(e, ReLUExplanation)
        assert e.value == e.output  # the same float32 steps: exact
        assert e.input == x[0, e.row, e.col, 0]


def test_deep_stack_every_stage_equals_keras():
    x = np.asarray(__import__("layerwidget").sample_digits()[0][7], np.float32)[None, :, :, None]
    x = x[:, 3:16, 5:17]  # a 13×12 crop keeps the test quick
    stack, stages, weights = run([
        {"type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": "same"},
        {"type": "ReLU", "max_value": 100.0},
        {"type": "MaxPool2D", "pool_size": 2, "padding": "same"},
        {"type": "DepthwiseConv2D", "kernel_size": 2, "strides": 1, "depth_multiplier": 2},
        {"type": "AvgPool2D", "pool_size": 2, "strides": 1, "padding": "same"},
    ], x)
    kinds = set()
    for stage in range(1, 6):
        kinds |= {type(e).__name__ for e in check_every_unit(stack, stages, weights, stage)}
    assert kinds == {"ConvExplanation", "ReLUExplanation", "MaxPoolExplanation",
                     "AvgPoolExplanation"}


def test_to_dict_is_json_with_lists_and_text():
    x = np.random.default_rng(5).normal(size=(1, 5, 5, 2)).astype(np.float32)
    stack, stages, weights = run([{"type": "Conv2D", "filters": 2, "kernel_size": 3}], x)
    d = explain_unit(stack, stages, weights, 1, 1, 2, 1).to_dict()
    assert d["kind"] == "Conv2D" and d["padded"] == [[False] * 3] * 3
    assert np.array_equal(np.array(d["kernel"], np.float32), weights[0][0][:, :, :, 1])
    assert d["text"].startswith("sum of 18 products = ")
    assert json.loads(json.dumps(d)) == d


@pytest.mark.parametrize("args, words", [
    ((0, 0, 0, 0), ["stage=0", "from 1 to 2"]),
    ((3, 0, 0, 0), ["stage=3", "from 1 to 2"]),
    ((1, 6, 0, 0), ["row=6", "stage 1 (Conv2D)", "0 to 5"]),
    ((2, 0, 0, 3), ["channel=3", "stage 2 (ReLU)", "0 to 2"]),
])
def test_bad_unit_names_the_valid_range(args, words):
    x = np.zeros((1, 6, 6, 1), np.float32)
    stack, stages, weights = run([{"type": "Conv2D", "filters": 3, "padding": "same"},
                                  {"type": "ReLU"}], x)
    with pytest.raises(OptionError) as err:
        explain_unit(stack, stages, weights, *args)
    assert err.value.field == "focus"
    for word in words:
        assert word in str(err.value)
