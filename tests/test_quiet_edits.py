"""The kernel leaves out its busy status for a panel's edits, and only for them; asked, it
answers an edit in its idle status.

A stand-in for ipykernel's kernel records what it publishes; the wrapper is installed on it as
on a live kernel (tests/browser/test_kernel_status.py checks the real one in JupyterLab).
"""

from __future__ import annotations

import asyncio

import ipywidgets
import pytest

from layerwidget import LayerExplorer, _quiet_edits
from layerwidget.panel import ControlPanel


class FakeKernel:
    def __init__(self):
        self.published = []
        self.parent = {}

    def _publish_status(self, status, channel, parent=None):
        self.published.append((status, channel, parent))

    def get_parent(self, channel="shell"):
        return self.parent


def comm_msg(comm_id, content):
    return {"header": {"msg_type": "comm_msg"},
            "content": {"comm_id": comm_id, "data": {"method": "custom", "content": content}}}


@pytest.fixture
def kernel(monkeypatch):
    fake = FakeKernel()
    monkeypatch.setattr(_quiet_edits, "_kernel", lambda: fake)
    monkeypatch.setattr(_quiet_edits, "_comm_ids", set())
    return fake


def statuses(kernel, parent):
    kernel.published.clear()
    kernel.parent = parent
    kernel._publish_status("busy", "shell")
    kernel._publish_status("idle", "shell")
    return [status for status, _, _ in kernel.published]


def test_an_edit_of_a_panel_has_only_its_idle_status(kernel):
    panel = ControlPanel()
    edit = comm_msg(panel.comm.comm_id, {"kind": "edit", "state": {"seed": 3, "edit_seq": 1}})
    assert statuses(kernel, edit) == ["idle"]
    # Installed once, however many panels.
    other = ControlPanel()
    assert statuses(kernel, comm_msg(other.comm.comm_id, {"kind": "edit", "state": {}})) == [
        "idle"]
    assert getattr(kernel._publish_status, _quiet_edits._MARK)
    panel.close()
    other.close()


@pytest.mark.parametrize("parent", [
    {"header": {"msg_type": "execute_request"}, "content": {"code": "1"}},
    {"header": {"msg_type": "comm_open"}, "content": {}},
    comm_msg("not-a-panel", {"kind": "edit", "state": {}}),
    None,
    {},
])
def test_everything_else_keeps_busy_and_idle(kernel, parent):
    panel = ControlPanel()
    assert statuses(kernel, parent) == ["busy", "idle"]
    panel.close()


def test_the_panels_other_commands_keep_busy_and_idle(kernel):
    panel = ControlPanel()
    for content in ({"kind": "train-stop", "n": 1}, {"kind": "nudge"}, "edit", None):
        assert statuses(kernel, comm_msg(panel.comm.comm_id, content)) == ["busy", "idle"]
    update = {"header": {"msg_type": "comm_msg"},
              "content": {"comm_id": panel.comm.comm_id,
                          "data": {"method": "update", "state": {"seed": 1}}}}
    assert statuses(kernel, update) == ["busy", "idle"]
    panel.close()


def test_a_closed_panels_edits_are_ordinary_again(kernel):
    panel = ControlPanel()
    comm_id = panel.comm.comm_id
    panel.close()
    assert statuses(kernel, comm_msg(comm_id, {"kind": "edit", "state": {}})) == [
        "busy", "idle"]


def test_statuses_with_an_explicit_parent_or_other_channel_are_kept(kernel):
    panel = ControlPanel()
    kernel.parent = comm_msg(panel.comm.comm_id, {"kind": "edit", "state": {}})
    kernel.published.clear()
    kernel._publish_status("busy", "control")
    kernel._publish_status("busy", "shell", {"header": {}})
    assert [s for s, _, _ in kernel.published] == ["busy", "busy"]
    panel.close()


def test_without_a_kernel_nothing_is_installed(monkeypatch):
    monkeypatch.setattr(_quiet_edits, "_kernel", lambda: None)
    assert _quiet_edits.quiet_edits_of("abc") is False


def test_a_kernel_without_the_hook_keeps_its_behaviour(monkeypatch):
    monkeypatch.setattr(_quiet_edits, "_kernel", lambda: object())
    assert _quiet_edits.quiet_edits_of("abc") is False


# ---- The answer on the idle status: one message per edit (see the module) ----

class Session:
    def __init__(self):
        self.sent = []

    def send(self, stream, msg_type, content, parent=None, ident=None, buffers=None):
        self.sent.append({"msg_type": msg_type, "content": content, "parent": parent,
                          "buffers": [bytes(b) for b in buffers or []]})


class IdleKernel(FakeKernel):
    """The stand-in, with what the idle status needs to carry batches."""

    def __init__(self):
        super().__init__()
        self.session = Session()
        self.iopub_socket = object()

    def _topic(self, topic):
        return f"kernel.fake.{topic}".encode()


@pytest.fixture
def idle_kernel(monkeypatch):
    fake = IdleKernel()
    monkeypatch.setattr(_quiet_edits, "_kernel", lambda: fake)
    monkeypatch.setattr(_quiet_edits, "_comm_ids", set())
    monkeypatch.setattr(_quiet_edits, "_current", None)
    return fake


@pytest.fixture
def widget_sent(monkeypatch):
    log = []
    original = ipywidgets.Widget._send

    def record(self, msg, buffers=None):
        log.append((self, msg, [bytes(b) for b in buffers or []]))
        return original(self, msg, buffers=buffers)

    monkeypatch.setattr(ipywidgets.Widget, "_send", record)
    return log


def custom_batches(log):
    return [m["content"] for _, m, _ in log
            if m.get("method") == "custom" and m["content"].get("kind") == "layerwidget-batch"]


def handle_edit(kernel, panel, state, carry=True):
    """What ipykernel does with a panel's edit: the handler, then the idle status."""
    content = {"kind": "edit", "state": state, **({"carry": True} if carry else {})}
    kernel.parent = comm_msg(panel.comm.comm_id, content)
    kernel.published.clear()
    kernel._publish_status("busy", "shell")
    panel._edit_message(panel, content, [])
    kernel._publish_status("idle", "shell")


def carried(kernel):
    """The batches and buffers each idle status carried, in order."""
    out = []
    for msg in kernel.session.sent:
        assert msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"
        offset = 0
        for batch in msg["content"]["layerwidget_batches"]:
            out.append((batch, msg["buffers"][offset:offset + batch["buffers"]]))
            offset += batch["buffers"]
        assert offset == len(msg["buffers"])
    return out


def test_an_edit_that_asks_is_answered_in_its_idle_status(idle_kernel, widget_sent):
    ex = LayerExplorer()
    try:
        widget_sent.clear()
        handle_edit(idle_kernel, ex.panel, {"seed": 3, "edit_seq": 1})
        # No batch went as a message of its own, and ipykernel's own idle was replaced by one
        # that carries the update: the only status, with the edit as its parent.
        assert custom_batches(widget_sent) == []
        assert idle_kernel.published == []
        (msg,) = idle_kernel.session.sent
        assert msg["parent"] is idle_kernel.parent
        ((batch, buffers),) = carried(idle_kernel)
        assert batch["ack"] == 1 and batch["carrier"] == ex.panel.model_id
        assert ex.seed == 3
        # The Conv2D stage's new picture is among the buffers, byte for byte.
        conv = ex._stages.views[1]._image.image
        assert conv.model_id in [u["id"] for u in batch["updates"]]
        assert bytes(conv.value) in buffers
        # A Python-side change after the idle leaves as an ordinary message.
        widget_sent.clear()
        ex.seed = 4
        assert len(custom_batches(widget_sent)) == 1 and len(idle_kernel.session.sent) == 1
    finally:
        ex.close()


def test_a_channel_edit_carries_its_later_batch_after_the_update(idle_kernel, widget_sent):
    ex = LayerExplorer()
    try:
        layers = [dict(ex.layers[0], filters=8), *ex.layers[1:]]
        widget_sent.clear()
        handle_edit(idle_kernel, ex.panel, {"layers": layers, "edit_seq": 1})
        assert custom_batches(widget_sent) == []
        (first, _), (second, _) = carried(idle_kernel)
        assert first["ack"] == 1 and "later" not in first
        assert second["later"] is True and "ack" not in second
        numbers = {v._labels.model_id for v in ex._stages.views[1:]}
        assert numbers <= {u["id"] for u in second["updates"]}
    finally:
        ex.close()


def test_without_the_request_batches_and_idle_go_as_before(idle_kernel, widget_sent):
    ex = LayerExplorer()
    try:
        widget_sent.clear()
        handle_edit(idle_kernel, ex.panel, {"seed": 3, "edit_seq": 1}, carry=False)
        assert [b["ack"] for b in custom_batches(widget_sent)] == [1]
        assert idle_kernel.session.sent == [] and [s for s, _, _ in idle_kernel.published] == [
            "idle"]
    finally:
        ex.close()


def test_batches_whose_idle_never_comes_are_sent_right_after(idle_kernel, widget_sent):
    ex = LayerExplorer()
    try:
        content = {"kind": "edit", "state": {"seed": 5, "edit_seq": 1}, "carry": True}
        idle_kernel.parent = comm_msg(ex.panel.comm.comm_id, content)
        widget_sent.clear()

        async def handler_only():  # the idle status never passes the wrapper
            ex.panel._edit_message(ex.panel, content, [])
            assert custom_batches(widget_sent) == []  # kept for the idle...
            await asyncio.sleep(0)

        asyncio.run(handler_only())
        assert [b["ack"] for b in custom_batches(widget_sent)] == [1]  # ...then sent anyway
        assert idle_kernel.session.sent == []
    finally:
        ex.close()


CELL = {"header": {"msg_type": "execute_request", "msg_id": "the-cell"}, "content": {}}


def carried_edit(panel, seed):
    """A panel's edit that asks for its answer on its idle status, and its shell message."""
    content = {"kind": "edit", "state": {"seed": seed, "edit_seq": 1}, "carry": True}
    edit = comm_msg(panel.comm.comm_id, content)
    edit["header"]["msg_id"] = "the-edit"
    return content, edit


def edit_beside_a_cell(kernel, ex, seed, cell_goes_on=lambda: None):
    """ipykernel 7's order of events for an edit that comes while a cell holds the shell (an
    async cell, or one that yields): the edit's handler runs at once in a task of its own, with
    no busy and no idle; then the cell goes on (``cell_goes_on``) and ends with its own idle
    before the event loop turns."""
    content, edit = carried_edit(ex.panel, seed)

    async def cell_with_an_edit_beside_it():
        kernel.parent = edit
        ex.panel._edit_message(ex.panel, content, [])
        kernel.parent = CELL
        cell_goes_on()
        kernel._publish_status("idle", "shell")
        await asyncio.sleep(0)

    asyncio.run(cell_with_an_edit_beside_it())


def test_an_edit_handled_beside_a_running_cell_is_answered_in_messages_of_its_own(
        idle_kernel, widget_sent):
    """The next idle after an edit handled beside a cell is the cell's, addressed to the cell's
    request: were the edit's batches published in it, the panel would never see its update nor
    its answer."""
    ex = LayerExplorer()
    try:
        widget_sent.clear()
        idle_kernel.published.clear()
        edit_beside_a_cell(idle_kernel, ex, 5)
        # The cell's idle is its own, as ipykernel made it...
        assert idle_kernel.session.sent == []
        assert idle_kernel.published == [("idle", "shell", None)]
        # ...and the edit's update left as a message of the panel, with its answer.
        assert [b.get("ack") for b in custom_batches(widget_sent)] == [1]
        assert ex.seed == 5
    finally:
        ex.close()


def test_the_edits_own_idle_is_known_by_its_message_id(idle_kernel, widget_sent):
    """ipykernel hands out the request being handled as a dict; the wrapper knows the edit's
    idle by the request's message id, not only by the object."""
    ex = LayerExplorer()
    try:
        content, edit = carried_edit(ex.panel, 6)
        widget_sent.clear()
        idle_kernel.parent = edit
        ex.panel._edit_message(ex.panel, content, [])
        idle_kernel.parent = {**edit, "header": dict(edit["header"])}  # a copy of the request
        idle_kernel._publish_status("idle", "shell")
        assert custom_batches(widget_sent) == []
        ((batch, _),) = carried(idle_kernel)
        assert batch["ack"] == 1
    finally:
        ex.close()


def test_a_batch_made_after_an_unsent_answer_leaves_after_it(idle_kernel, widget_sent):
    """An edit handled beside a running cell keeps its answer for an idle status that never
    comes; should the cell change the explorer before the loop turns, the cell's newer batch must
    not overtake that answer (the page applies batches in the order they come: it would end on
    the edit's older state)."""
    ex = LayerExplorer()
    try:
        widget_sent.clear()
        edit_beside_a_cell(idle_kernel, ex, 5, cell_goes_on=lambda: setattr(ex, "seed", 9))
        batches = custom_batches(widget_sent)
        assert batches[0].get("ack") == 1, batches  # the edit's answer first...
        assert all("ack" not in b for b in batches[1:])  # ...then what the cell changed
        conv = ex._stages.views[1]._image
        last = [u for b in batches for u in b["updates"] if u["id"] == conv.model_id][-1]
        assert last["state"]["image"] == f"IPY_MODEL_{conv.image.model_id}"  # seed 9's picture
        assert ex.seed == 9 and idle_kernel.session.sent == []
    finally:
        ex.close()


def test_the_explorers_comms_are_handled_on_the_main_shell(monkeypatch):
    """ipykernel 7 routes the page's messages on a comm by its ``_reply_subshell_for``; every
    widget an explorer owns (its panel, its clickable marks) names the main shell (None), so
    that edits never run on a subshell's thread beside the cells."""

    class SubshellComm:  # ipykernel 7's hook: the subshell of the last answered request
        def _reply_subshell_for(self, data, default):
            return default

    comm = SubshellComm()
    _quiet_edits.on_the_main_shell(comm)
    assert comm._reply_subshell_for({"method": "custom"}, "subshell-1") is None
    _quiet_edits.on_the_main_shell(None)  # no comm, or one without the hook: left alone
    _quiet_edits.on_the_main_shell(object())

    handed = []
    monkeypatch.setattr(_quiet_edits, "on_the_main_shell", handed.append)
    ex = LayerExplorer()
    try:
        ids = {id(c) for c in handed}
        assert id(ex.panel.comm) in ids
        assert all(id(v._image.comm) in ids for v in ex._stages.views[1:])  # clicked tiles
    finally:
        ex.close()
