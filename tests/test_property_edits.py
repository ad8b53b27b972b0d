"""Random sequences of panel edits, valid or not, as the browser sends them.

After every edit: nothing escapes into the kernel, and either the explorer shows correct maps
(equal to an independent tf.keras computation, and equal to what the marks hold) or it shows an
error and keeps the last good maps.
"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_explorer import independent_outputs

from layerwidget import LAYER_TYPES, LayerExplorer
from layerwidget.options import page_channels

junk = st.one_of(
    st.none(), st.booleans(), st.text(max_size=6), st.floats(allow_nan=True),
    st.integers(-10, 10**12), st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
)


def field_values(field):
    if field.kind == "choice":
        good = st.sampled_from(field.choices)
    elif field.kind == "int":
        hi = int(field.maximum) if field.maximum is not None else 20
        good = st.integers(int(field.minimum), min(hi, 64))
    else:
        good = st.floats(-5, 300, allow_nan=False)
    if field.optional:
        good = st.one_of(st.none(), good)
    return st.one_of(good, good, good, junk)


@st.composite
def layer_specs(draw):
    name = draw(st.one_of(st.sampled_from(list(LAYER_TYPES)), st.sampled_from(list(LAYER_TYPES)),
                          st.sampled_from(list(LAYER_TYPES)), junk))
    spec = {"type": name}
    ltype = LAYER_TYPES.get(name) if isinstance(name, str) else None
    if ltype is not None:
        for field in ltype.fields:
            if draw(st.integers(0, 2)):  # sometimes omitted: Keras's default applies
                spec[field.name] = draw(field_values(field))
    if draw(st.integers(0, 19)) == 0:
        spec[draw(st.sampled_from(["filterz", "units", "", "kernel"]))] = 3
    if draw(st.integers(0, 29)) == 0:
        del spec["type"]
    return spec


edits = st.one_of(
    st.fixed_dictionaries({"layers": st.one_of(st.lists(layer_specs(), max_size=12),
                                               st.lists(layer_specs(), min_size=1, max_size=4),
                                               junk)}),
    st.fixed_dictionaries({"image_index": st.one_of(st.integers(-3, 1003), junk)}),
    st.fixed_dictionaries({"seed": st.one_of(st.integers(-2, 2**33), junk)}),
    st.fixed_dictionaries({"pixel_scale": st.one_of(st.sampled_from(["raw", "unit"]), junk)}),
    st.fixed_dictionaries({"channel_page": st.one_of(st.integers(-1, 4), junk)}),
)


def check_shows(ex, outputs):
    np.testing.assert_array_equal(ex.displayed(0), ex.input[0])
    for i, out in enumerate(outputs, start=1):
        step = ex.draw_steps[i]
        first, end = page_channels(ex.channel_page, out.shape[-1])
        np.testing.assert_array_equal(ex.displayed(i), out[0, ::step, ::step, first:end])


@settings(max_examples=500, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(edits, min_size=1, max_size=4))
def test_random_panel_edits_show_correct_maps_or_an_error(sequence):
    ex = LayerExplorer()
    try:
        good = [o.copy() for o in ex.outputs]
        for seq, edit in enumerate(sequence, start=1):
            ex.panel.set_state({**edit, "edit_seq": seq})  # raises only if something escaped
            assert ex.panel.ack == seq
            if ex.error:
                assert ex.panel.error["message"] == ex.error
                assert len(ex.outputs) == len(good)
                for got, kept in zip(ex.outputs, good, strict=True):
                    np.testing.assert_array_equal(got, kept)
            else:
                assert ex.panel.error == {}
                for got, want in zip(ex.outputs, independent_outputs(ex), strict=True):
                    np.testing.assert_array_equal(got, want)
                good = [o.copy() for o in ex.outputs]
            check_shows(ex, good)
    finally:
        ex.close()
