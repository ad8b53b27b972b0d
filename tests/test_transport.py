"""One message per update: every widget change an edit causes leaves in a single batch (with
a channel focused, the focused map's cell values follow in a second, "later" one).

Messages are recorded where ipywidgets hands them to the comm (``Widget._send``), so these
tests see exactly what would cross the websocket.
"""

import ipywidgets
import numpy as np
import pytest

from layerwidget import LayerExplorer


@pytest.fixture
def sent(monkeypatch):
    log = []
    original = ipywidgets.Widget._send

    def record(self, msg, buffers=None):
        log.append((self, msg, list(buffers or [])))
        return original(self, msg, buffers=buffers)

    monkeypatch.setattr(ipywidgets.Widget, "_send", record)
    return log


@pytest.fixture
def ex():
    explorer = LayerExplorer()
    yield explorer
    explorer.close()


def batches(log):
    return [(w, m, b) for w, m, b in log
            if m.get("method") == "custom" and m["content"].get("kind") == "layerwidget-batch"]


def test_a_panel_edit_sends_exactly_one_message(ex, sent):
    ex.panel.set_state({"seed": 1, "edit_seq": 1})
    assert len(sent) == 1, [m.get("method") for _, m, _ in sent]
    (widget, msg, buffers), = batches(sent)
    assert widget is ex.panel
    updates = msg["content"]["updates"]
    # New pictures for the three layer stages (the input did not change), their legends' new
    # numbers, and the panel's status, with the acknowledgement in the very last part. The
    # legends' bars keep their scales: no colour scale or axis is redrawn.
    assert sum(["value"] in u["buffer_paths"] for u in updates) == 3
    assert sum("labels" in u["state"] for u in updates) == 3
    assert not any({"min", "max", "tick_values"} & set(u["state"]) for u in updates)
    assert len(buffers) == sum(u["buffers"] for u in updates) == 3
    assert updates[-1]["id"] == ex.panel.model_id and updates[-1]["state"].get("ack") == 1
    assert all(u["method"] == "update" for u in updates)


def test_an_edit_sent_as_a_custom_message_is_applied_as_an_update(ex, sent):
    # js/flow.js sends edits as custom messages of the panel; the answer names the edit.
    ex.panel._handle_custom_msg({"kind": "edit", "state": {"seed": 4, "edit_seq": 7}}, [])
    assert ex.seed == 4 and ex.panel.ack == 7
    (widget, msg, _), = batches(sent)
    assert widget is ex.panel
    assert len(sent) == 1
    assert msg["content"]["ack"] == 7 and msg["content"]["carrier"] == ex.panel.model_id
    # A refused value is answered too: the error, in the same batch; the draft stays to fix.
    sent.clear()
    ex.panel._handle_custom_msg({"kind": "edit", "state": {"seed": -3, "edit_seq": 8}}, [])
    (_, msg, _), = batches(sent)
    assert ex.seed == 4 and ex.panel.seed == -3 and msg["content"]["ack"] == 8
    panel_state = [u["state"] for u in msg["content"]["updates"] if u["id"] == ex.panel.model_id]
    assert any("seed=-3 is out of range" in str(state.get("error")) for state in panel_state)
    # Other custom messages, and malformed edits, are not edits.
    sent.clear()
    ex.panel._handle_custom_msg({"kind": "edit", "state": "seed=5"}, [])
    ex.panel._handle_custom_msg({"kind": "other", "state": {"seed": 5}}, [])
    assert ex.seed == 4 and not batches(sent)


def test_a_python_edit_sends_one_message_and_a_shape_edit_too(ex, sent):
    ex.seed = 2
    assert len(sent) == len(batches(sent)) == 1
    sent.clear()
    ex.layers = [{**ex.layers[0], "filters": 64, "kernel_size": 5}, *ex.layers[1:]]
    # One update batch; the new mosaic's tile numbers follow in a later one (below).
    assert len(sent) == len(batches(sent)) == 2
    assert [m["content"].get("later", False) for _, m, _ in sent] == [False, True]


def test_the_batch_holds_the_same_state_the_widgets_hold(ex, sent):
    ex.panel.set_state({"layers": [{**ex.layers[0], "filters": 5}, *ex.layers[1:]],
                        "edit_seq": 1})
    by_id = {}
    for _, msg, buffers in batches(sent):  # the update's batch, then the tile numbers'
        offset = 0
        for part in msg["content"]["updates"]:
            by_id.setdefault(part["id"], {}).update(part["state"])
            for path in part["buffer_paths"]:
                by_id[part["id"]][path[0]] = bytes(buffers[offset])
                offset += 1
    image = ex.figures[1].marks[0].image
    assert by_id[image.model_id]["value"] == bytes(image.value)
    assert by_id[ex.figures[1].model_id]["title"] == ex.figures[1].title
    assert by_id[ex.panel.model_id]["stages"] == ex.panel.stages
    labels = ex.figures[1].marks[1]
    assert by_id[labels.model_id]["text"] == [str(k) for k in range(5)] == list(labels.text)
    assert by_id[labels.model_id]["visible"] is True
    assert by_id[labels.model_id]["x"] == labels.x.astype("float64").tobytes()


def test_a_refused_edit_sends_one_message_with_the_error(ex, sent):
    before = [v.copy() for v in ex.outputs]
    ex.panel.set_state({"seed": -1, "edit_seq": 1})
    (_, msg, _), = batches(sent)
    assert len(sent) == 1
    (part,) = msg["content"]["updates"]
    assert "seed=-1" in part["state"]["error"]["message"] and part["state"]["ack"] == 1
    for old, new in zip(before, ex.outputs, strict=True):
        np.testing.assert_array_equal(old, new)


def test_widgets_outside_the_explorer_and_edits_outside_updates_send_as_usual(ex, sent):
    other = ipywidgets.IntSlider()
    other.value = 3
    ex.figures[1].title = "set by hand"
    assert [w for w, _, _ in sent] == [other, ex.figures[1]]
    assert not batches(sent)
    other.close()


def test_a_focused_edit_sends_the_map_first_and_its_cell_values_in_a_later_batch(ex, sent):
    # The focused map's cells (a GridHeatMap: the page redraws all 784 on new values) come in
    # a second batch the page applies after drawing the first: the picture does not wait.
    ex.focus, ex.unit = (1, 0), (10, 12)
    sent.clear()
    ex.panel.set_state({"seed": 3, "edit_seq": 1})
    first, second = batches(sent)
    assert len(sent) == 2
    heat, image = ex._focus_area.map.heat, ex._focus_area.map.image
    ids = [u["id"] for u in first[1]["content"]["updates"]]
    assert heat.model_id not in ids and image.model_id in ids
    assert first[1]["content"]["updates"][-1]["state"].get("ack") == 1
    assert "later" not in first[1]["content"]
    later = second[1]["content"]
    assert later["later"] is True and "ack" not in later
    assert [u["id"] for u in later["updates"]] == [heat.model_id]
    assert set(later["updates"][0]["state"]) == {"color"}  # same shape, same unit
    np.testing.assert_array_equal(heat.color, ex.outputs[0][0, :, :, 0])
    # A new unit moves the selection in the later batch too; the outline goes at once, and
    # the unchanged map is neither painted nor sent again.
    sent.clear()
    ex.unit = (3, 4)
    first, second = batches(sent)
    ids = [u["id"] for u in first[1]["content"]["updates"]]
    assert ex._focus_area.map.outline.model_id in ids
    assert not {w.model_id for w in (image, *ex._focus_area.map._spare)} & set(ids)
    assert "selected" in second[1]["content"]["updates"][0]["state"]
    # No focus, no later batch.
    ex.focus = None
    sent.clear()
    ex.panel.set_state({"seed": 4, "edit_seq": 2})
    assert len(batches(sent)) == 1


def test_a_channel_edit_sends_the_tile_numbers_in_a_later_batch(ex, sent):
    # bqplot redraws a Label mark on new data with d3 transitions that read computed styles:
    # the old numbers are hidden with the new pictures, the new ones come in a batch the page
    # applies after drawing those.
    numbers = [v._labels for v in ex._stages.views[1:]]
    for change in ({"filters": 8}, {"strides": 2}):  # a new tile count, then tile size
        sent.clear()
        ex.panel.set_state({"layers": [dict(ex.layers[0], **change), *ex.layers[1:]],
                            "edit_seq": 1})
        first, second = batches(sent)
        assert len(sent) == 2
        main = {u["id"]: u for u in first[1]["content"]["updates"]}
        for label in numbers:
            assert main[label.model_id]["state"] == {"visible": False}
        later = second[1]["content"]
        assert later["later"] is True and "ack" not in later
        assert [u["id"] for u in later["updates"]] == [label.model_id for label in numbers]
        for u, view in zip(later["updates"], ex._stages.views[1:], strict=True):
            assert u["state"]["visible"] is True and {"x", "y"} <= set(u["state"])
            assert [t for t, _, _ in view.tile_numbers()] == [str(k) for k in range(8)]
            assert list(view._labels.text) == [str(k) for k in range(8)]
    # A seed edit keeps the mosaic, so the numbers are neither emptied nor sent again.
    sent.clear()
    ex.panel.set_state({"seed": 5, "edit_seq": 2})
    (only,) = batches(sent)
    assert not {label.model_id for label in numbers} & {
        u["id"] for u in only[1]["content"]["updates"]}


def test_stage_figures_lead_the_batch_so_their_relayout_comes_before_marks_move(ex, sent):
    # bqplot lays a figure out in the animation frame after its title changes, and its marks
    # move through d3 transitions in the frame d3 asked for first: if a mark's change came
    # first, that frame would show the new picture on the old plot size.
    ex.panel.set_state({"layers": [dict(ex.layers[0], strides=2), *ex.layers[1:]],
                        "edit_seq": 1})
    first = batches(sent)[0][1]["content"]["updates"]
    ids = [u["id"] for u in first]
    figures = [f.model_id for f in ex.figures]
    changed = [i for i, u in enumerate(first) if u["id"] in figures]
    assert len(changed) == 3 and all("title" in first[i]["state"] for i in changed)
    assert changed == list(range(3))  # ahead of everything else, in the stages' order
    assert [ids[i] for i in changed] == figures[1:]
    # Nothing else moved: the other parts keep the order they were made in.
    marks = [m.model_id for f in ex.figures[1:] for m in f.marks]
    assert set(marks) & set(ids[3:])


def test_the_histograms_figures_lead_the_batch_too(ex, sent):
    # Their width follows their stage's, and their title its values.
    ex.histograms = True
    sent.clear()
    ex.panel.set_state({"layers": [dict(ex.layers[0], strides=2), *ex.layers[1:]],
                        "edit_seq": 1})
    first = batches(sent)[0][1]["content"]["updates"]
    ids = [u["id"] for u in first]
    figures = {f.model_id for f in ex.figures} | {h.figure.model_id
                                                  for h in ex._stages.histograms}
    leading = [i for i, u in enumerate(first) if u["id"] in figures]
    assert leading == list(range(len(leading)))  # every figure ahead of everything else
    assert {h.figure.model_id for h in ex._stages.histograms[1:]} <= {ids[i] for i in leading}


def test_the_focused_maps_figure_leads_the_batch_too(ex, sent):
    # Its size follows the focused stage's (28×28, then 14×14 after the pooling).
    ex.focus = (1, 0)
    sent.clear()
    ex.focus = (3, 0)
    first = batches(sent)[0][1]["content"]["updates"]
    ids = [u["id"] for u in first]
    focus_map = ex._focus_area.map
    at = ids.index(focus_map.figure.model_id)
    assert "title" in first[at]["state"]
    assert at < ids.index(focus_map.image.model_id)
    leading = {f.model_id for f in ex.figures} | {focus_map.figure.model_id,
                                                   ex._focus_area.picture.figure.model_id}
    assert set(ids[:at + 1]) <= leading  # only leading figures ahead of it


def test_lead_puts_a_widgets_parts_first_until_released(ex, sent):
    batch = ex.panel.batch
    a, b = ipywidgets.IntSlider(), ipywidgets.IntSlider()
    batch.adopt(a, b)
    batch.lead(b)
    with batch.collect():
        a.value, b.value, a.max = 1, 2, 50
    (_, msg, _), = batches(sent)
    assert [(u["id"], u["state"]) for u in msg["content"]["updates"]] == [
        (b.model_id, {"value": 2}), (a.model_id, {"value": 1}), (a.model_id, {"max": 50})]
    batch.release(b)
    batch.adopt(b)
    sent.clear()
    with batch.collect():
        a.value, b.value = 3, 4
    (_, msg, _), = batches(sent)
    assert [u["id"] for u in msg["content"]["updates"]] == [a.model_id, b.model_id]


def test_a_deferred_update_that_fails_leaves_the_others_and_the_next_ones(ex, sent, caplog):
    calls = []

    def broken():
        raise ValueError("boom")

    with ex.panel.batch.collect():
        ex.panel.batch.after(broken)
        ex.panel.batch.after(lambda: calls.append(1))
    assert calls == [1] and "a deferred view update failed" in caplog.text
    with ex.panel.batch.collect():
        ex.panel.batch.after(lambda: calls.append(2))
    assert calls == [1, 2]
