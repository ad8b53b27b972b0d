"""The kernel leaves out its busy status for a panel's edits, and only for them.

A stand-in for ipykernel's kernel records what it publishes; the wrapper is installed on it as
on a live kernel (tests/browser/test_kernel_status.py checks the real one in JupyterLab).
"""

from __future__ import annotations

import pytest

from layerwidget import _quiet_edits
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
