"""js/batch.js (and js/flow.js) run in Node on fake widget models: update batches land in
order, and a "later" batch (tile numbers, a map's cell values) never puts back a value a newer
update has replaced; the flow hears its answers, carried by idle statuses too.

A fast drag can land update n + 1 before update n's later batch, which the page applies only
after a frame; without the check the old tile numbers would be drawn over the new pictures.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent / "js"


def run_node(script: str) -> dict:
    """Run ``tests/js/<script>`` in Node; the JSON line it prints last."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("Node.js is needed for the front end's checks under CI")
        pytest.skip("Node.js runs the front end's checks")
    result = subprocess.run([node, str(JS / script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def received():
    return run_node("batch_order.mjs")


def test_update_batches_land_in_order_with_their_buffers(received):
    assert [r["buffers"] for r in received["picture"][:2]] == [[1], [2]]
    assert [r["state"].get("ack") for r in received["panel"]] == [1, 2]


def test_a_later_batch_leaves_out_what_a_newer_update_set(received):
    texts = [r["state"]["text"] for r in received["labels"]]
    # Update 1 and 2 emptied the numbers; the later batch of update 1 arrived before update 2
    # but is applied after it, so its numbers are stale and left out; update 2's are drawn.
    assert texts == [[], [], ["0", "1", "2"]]
    # What no newer update touched still lands (the cells' values of update 1).
    assert [r["state"] for r in received["cells"]] == [{"color": "c1"}]


def test_a_left_out_binary_key_takes_its_buffer_with_it(received):
    last = received["picture"][-1]
    assert last["paths"] == [["other"]] and last["buffers"] == [8]


@pytest.fixture(scope="module")
def flow_run():
    return run_node("flow_carry.mjs")


def test_the_flow_finds_its_answers_through_another_proxy_of_the_model(flow_run):
    # anywidget gives `initialize` (the batches) and `render` (the flow) different objects for
    # one model; the answer to edit 1 must still release edit 2, without a change:ack event.
    assert flow_run["before"] == 1 and flow_run["afterFirst"] == 2
    assert flow_run["seeds"][:2] == [1, 2]


def test_answers_carried_by_the_idle_status_land_like_messages(flow_run):
    # Once an edit's idle status has reached the panel, later edits ask for their answer on
    # it; that answer lands on the models and releases the next edit.
    assert flow_run["carry"] == [False, False, True, True]
    assert flow_run["final"] == 4 and flow_run["seeds"] == [1, 2, 3, 4]  # ...and then leaves
    assert [r["ack"] for r in flow_run["received"]] == [1, 2, 3]
    assert len(flow_run["answers"]) == 3


def test_an_answer_leaves_out_what_the_panel_edited_after_its_edit(flow_run):
    # Answers 1 and 3 came while edits 2 and 4 were on their way: their (older) seed is left
    # out and the panel keeps what it sent. That needs the flow's record of what it sent, on
    # the channel the batches read.
    assert [r.get("seed") for r in flow_run["received"]] == [None, 2, None]
