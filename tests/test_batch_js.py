"""js/batch.js run in Node on fake widget models: update batches land in order, and a "later"
batch (tile numbers, a map's cell values) never puts back a value a newer update has replaced.

A fast drag can land update n + 1 before update n's later batch, which the page applies only
after a frame; without the check the old tile numbers would be drawn over the new pictures.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent / "js" / "batch_order.mjs"


@pytest.fixture(scope="module")
def received():
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("Node.js is needed for the front end's checks under CI")
        pytest.skip("Node.js runs the front end's checks")
    result = subprocess.run([node, str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


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
