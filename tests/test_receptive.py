"""Receptive fields, checked against the gradient of one unit with respect to an earlier stage.

With positive weights, positive inputs and no cancelling, the gradient of a unit is non-zero
exactly on the cells the unit depends on, so its bounding box must equal the computed field.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from layerwidget._tf import keras, tf
from layerwidget.errors import LayerSpecError, OptionError
from layerwidget.layers import normalize_stack
from layerwidget.receptive import (
    keras_padding,
    receptive_field,
    receptive_field_on,
    receptive_fields,
    receptive_geometry,
)
from layerwidget.shapes import output_shape, stack_shapes, window
from layerwidget.weights import build_layer, layer_weights


def positive_layers(stack, input_shape, rng):
    """Built Keras layers with kernels drawn from [0.5, 1.5] and zero biases."""
    layers, shape = [], tuple(input_shape)
    for spec in stack:
        weights = layer_weights(spec, seed=0, in_channels=shape[-1])
        if weights is not None:
            kernel = rng.uniform(0.5, 1.5, size=weights[0].shape).astype(np.float32)
            weights = [kernel, np.zeros_like(weights[1])]
        layers.append(build_layer(spec, seed=0, in_shape=shape, weights=weights))
        shape = output_shape(spec, shape)
    return layers


class GradientProbe:
    """Positive-weight Keras layers of one stack, built once, and the gradients of its units."""

    def __init__(self, stack, input_shape, seed=0):
        rng = np.random.default_rng(seed)
        self.stack, self.input_shape = stack, input_shape
        self.layers = positive_layers(stack, input_shape, rng)
        x = tf.constant(rng.uniform(0.5, 1.5, size=(1, *input_shape)).astype(np.float32))
        self.stages = [x]
        for layer in self.layers:
            self.stages.append(layer(self.stages[-1]))

    def support(self, stage, row, col, on_stage):
        """(H, W) bool: cells of ``on_stage`` where d(unit summed over channels)/d(cell) ≠ 0."""
        x = self.stages[on_stage]
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x
            for layer in self.layers[on_stage:stage]:
                y = layer(y)
            unit = tf.reduce_sum(y[0, row, col, :])
        grad = np.asarray(tape.gradient(unit, x))[0]
        return np.abs(grad).sum(axis=-1) > 0

    def check(self, stage, row, col, on_stage=0):
        """Assert the field equals the gradient's support (its bounding box; all of it when no
        stride skips cells); return the field."""
        support = self.support(stage, row, col, on_stage)
        field = receptive_field_on(self.stack, self.input_shape, stage, row, col, on_stage)
        assert bounding_box(support) == field
        specs = [s for s in self.stack[on_stage:stage] if s["type"] != "ReLU"]
        if all(window(s)[1] <= window(s)[0] for s in specs):
            (top, left), (bottom, right) = field
            assert support[top:bottom, left:right].all()
            assert support.sum() == (bottom - top) * (right - left)
        return field


def bounding_box(mask):
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    return (int(rows[0]), int(cols[0])), (int(rows[-1]) + 1, int(cols[-1]) + 1)


def conv(k, s, padding, filters=2):
    return {"type": "Conv2D", "filters": filters, "kernel_size": k, "strides": s,
            "padding": padding}


def avg(p, s, padding):
    return {"type": "AvgPool2D", "pool_size": p, "strides": s, "padding": padding}


def test_stage_0_is_the_pixel_itself():
    stack = normalize_stack([conv(3, 1, "same")])
    assert receptive_field(stack, (5, 6, 1), 0, 2, 4) == ((2, 4), (3, 5))


def test_default_like_stack_by_hand():
    # Conv 3×3 'same' (pads 1 before), ReLU, MaxPool 2×2 stride 2 on 28×28. Unit (5, 7) of the
    # pool reads rows 10–11, cols 14–15 of the ReLU; the conv widens each side by 1.
    stack = normalize_stack([conv(3, 1, "same"), {"type": "ReLU"},
                             {"type": "MaxPool2D", "pool_size": 2, "strides": 2}])
    assert receptive_field(stack, (28, 28, 1), 3, 5, 7) == ((9, 13), (13, 17))
    assert receptive_field_on(stack, (28, 28, 1), 3, 5, 7, 2) == ((10, 14), (12, 16))
    assert receptive_field(stack, (28, 28, 1), 3, 0, 0) == ((0, 0), (3, 3))  # clipped


@pytest.mark.parametrize("size", [7, 8, 9, 10])
@pytest.mark.parametrize("k, s", [(1, 2), (2, 2), (3, 2), (4, 2), (3, 3), (5, 3), (4, 1)])
def test_keras_same_padding_matches_explicit_zero_padding(size, k, s):
    spec = normalize_stack([conv(k, s, "same", filters=1)])[0]
    before, after = keras_padding(spec, size)
    assert before <= after <= before + 1  # the odd cell goes after (bottom/right)
    rng = np.random.default_rng(size * 100 + k * 10 + s)
    x = rng.normal(size=(1, size, size + 1, 1)).astype(np.float32)
    layer = build_layer(spec, seed=0, in_shape=x.shape[1:])
    kernel, bias = layer.get_weights()
    valid = keras.layers.Conv2D(1, k, strides=s, padding="valid")
    valid.build((1, size + before + after, size + 1 + sum(keras_padding(spec, size + 1)), 1))
    valid.set_weights([kernel, bias])
    bw, aw = keras_padding(spec, size + 1)
    padded = np.pad(x, ((0, 0), (before, after), (bw, aw), (0, 0)))
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(valid(padded)), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("size", [7, 8])
@pytest.mark.parametrize("k, s", [(3, 2), (2, 2), (4, 2), (3, 3), (5, 3)])
def test_strided_same_conv_fields_equal_gradient_support_at_every_unit(size, k, s):
    stack = normalize_stack([conv(k, s, "same")])
    h, w, _ = stack_shapes(stack, (size, size + 1, 1))[0]
    probe = GradientProbe(stack, (size, size + 1, 1))
    for row in range(h):
        for col in range(w):
            probe.check(1, row, col)


@pytest.mark.parametrize("stack", [
    [conv(3, 1, "same"), avg(2, 2, "valid"), conv(3, 2, "same"), avg(3, 1, "same")],
    [conv(5, 2, "valid"), conv(3, 3, "same"), avg(2, 1, "valid")],
    [{"type": "DepthwiseConv2D", "kernel_size": 4, "strides": 2, "padding": "same",
      "depth_multiplier": 2}, {"type": "ReLU"}, avg(3, 2, "same"), conv(2, 1, "same")],
    [conv(1, 3, "valid"), conv(3, 1, "same")],  # stride > window: gaps inside the box
])
def test_deep_stacks_fields_equal_gradient_support_corners_and_middle(stack):
    stack = normalize_stack(stack)
    shape = (13, 12, 2)
    shapes = stack_shapes(stack, shape)
    probe = GradientProbe(stack, shape)
    for stage in range(1, len(stack) + 1):
        h, w, _ = shapes[stage - 1]
        for row, col in {(0, 0), (h - 1, w - 1), (0, w - 1), (h - 1, 0), (h // 2, w // 2)}:
            for on_stage in range(stage):
                probe.check(stage, row, col, on_stage)


def test_valid_layer_that_drops_cells_clips_before_a_later_same_layer():
    # Conv 2×2 stride 2 'valid' on width 5 never reads column 4; the 'same' conv after it pads
    # past its 2 columns. The closed form's interval, clipped once, would include column 4.
    stack = normalize_stack([conv(2, 2, "valid"), conv(3, 1, "same")])
    field = GradientProbe(stack, (5, 5, 1)).check(2, 1, 1)
    assert field == ((0, 0), (4, 4))
    cols = receptive_geometry(stack, (5, 5, 1), 2)[1]
    assert cols.interval(1) == (-2 + 2 * 1, -2 + 2 * 1 + 6)  # [0, 6) before clipping


def test_receptive_fields_lists_the_field_on_every_earlier_stage():
    stack = normalize_stack([conv(3, 2, "same"), {"type": "ReLU"}, avg(2, 2, "same")])
    got = receptive_fields(stack, (11, 10, 1), 3, 2, 1)
    assert len(got) == 4 and got[3] == ((2, 1), (3, 2))
    for j in range(4):
        assert got[j] == receptive_field_on(stack, (11, 10, 1), 3, 2, 1, j)


def layer_strategy():
    k = st.integers(1, 4)
    s = st.integers(1, 3)
    pad = st.sampled_from(["valid", "same"])
    return st.one_of(
        st.builds(lambda k, s, p: conv(k, s, p, filters=1), k, s, pad),
        st.builds(lambda k, s, p: {"type": "DepthwiseConv2D", "kernel_size": k, "strides": s,
                                   "padding": p}, k, s, pad),
        st.builds(lambda k, s, p: avg(k, s, p), k, st.one_of(st.none(), s), pad),
        st.just({"type": "ReLU"}),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(stack=st.lists(layer_strategy(), min_size=1, max_size=3), h=st.integers(4, 11),
       w=st.integers(4, 11), data=st.data())
def test_random_stacks_fields_equal_gradient_support(stack, h, w, data):
    stack = normalize_stack(stack)
    try:
        shapes = stack_shapes(stack, (h, w, 1))
    except LayerSpecError:
        assume(False)  # a 'valid' window larger than its input: no field to check
    stage = data.draw(st.integers(1, len(stack)))
    on_stage = data.draw(st.integers(0, stage - 1))
    row = data.draw(st.integers(0, shapes[stage - 1][0] - 1))
    col = data.draw(st.integers(0, shapes[stage - 1][1] - 1))
    GradientProbe(stack, (h, w, 1)).check(stage, row, col, on_stage)


@settings(max_examples=60, deadline=None)
@given(stack=st.lists(layer_strategy(), min_size=1, max_size=4), h=st.integers(6, 20),
       w=st.integers(6, 20))
def test_geometry_follows_araujo_closed_form(stack, h, w):
    stack = normalize_stack(stack)
    try:
        shapes = [(h, w, 1), *stack_shapes(stack, (h, w, 1))]
    except LayerSpecError:
        return
    layers = [(1, 1) if s["type"] == "ReLU" else window(s)[:2] for s in stack]
    rows, cols = receptive_geometry(stack, (h, w, 1), len(stack))
    # Layers numbered from the input: r0 = 1 + Σ (k_l − 1) Π_{i<l} s_i, S = Π s_l, and
    # P = Σ p_l Π_{i<l} s_i with p_l the padding before layer l's input.
    r0, jump, pr, pc = 1, 1, 0, 0
    for (k, s), spec, shape in zip(layers, stack, shapes, strict=False):
        r0 += (k - 1) * jump
        pr += keras_padding(spec, shape[0])[0] * jump
        pc += keras_padding(spec, shape[1])[0] * jump
        jump *= s
    assert (rows.size, rows.jump, rows.offset) == (r0, jump, pr)
    assert (cols.size, cols.jump, cols.offset) == (r0, jump, pc)
    # The layer-by-layer field lies inside the closed-form interval clipped to the input.
    last_h, last_w, _ = shapes[-1]
    for row, col in [(0, 0), (last_h - 1, last_w - 1)]:
        (top, left), (bottom, right) = receptive_field(stack, (h, w, 1), len(stack), row, col)
        start, stop = rows.interval(row)
        assert max(start, 0) <= top and bottom <= min(stop, h)
        start, stop = cols.interval(col)
        assert max(start, 0) <= left and right <= min(stop, w)


@pytest.mark.parametrize("args, words", [
    ((4, 0, 0), ["stage=4", "0 (the input) to 3"]),
    ((-1, 0, 0), ["stage=-1", "from 0 to 3"]),
    ((1, 28, 0), ["row=28", "stage 1 (Conv2D)", "28×28×2", "0 to 27"]),
    ((3, 0, 14), ["col=14", "stage 3 (MaxPool2D)", "14×14×2", "0 to 13"]),
    ((2, 0, -1), ["col=-1", "0 to 27"]),
    ((True, 0, 0), ["stage=True", "whole number"]),
    ((1, 2.0, 0), ["row=2.0", "whole number"]),
])
def test_bad_focus_names_the_valid_range(args, words):
    stack = [conv(3, 1, "same"), {"type": "ReLU"}, {"type": "MaxPool2D"}]
    with pytest.raises(OptionError) as err:
        receptive_field(stack, (28, 28, 1), *args)
    assert err.value.field == "focus"
    for word in words:
        assert word in str(err.value)


def test_on_stage_later_than_the_unit_is_refused():
    stack = [conv(3, 1, "same"), {"type": "ReLU"}]
    with pytest.raises(OptionError, match=r"on_stage=2 .* from 0 to 1") as err:
        receptive_field_on(stack, (8, 8, 1), 1, 0, 0, 2)
    assert err.value.field == "focus"
    assert receptive_field_on(stack, (8, 8, 1), 1, 3, 4, 1) == ((3, 4), (4, 5))
