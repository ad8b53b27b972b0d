"""Panel edits are answered without a "busy" status; every message still gets its "idle",
which carries the edit's answer once the panel asks for it.

The kernel leaves out the busy status for the panel's own edits (layerwidget/_quiet_edits.py):
the update is the first frame on the socket, and JupyterLab does not redraw its kernel
indicators twice per edit. What must hold in the real JupyterLab: no busy status and no busy
kernel state for an edit, exactly one idle for each edit message (the front end disposes the
message's callbacks on it, so nothing piles up), and cells keep busy and idle as before.

Where edits run: on the kernel's main thread, never on the subshell JupyterLab sends widget
messages over (layerwidget/_quiet_edits.on_the_main_shell). Beside a cell that awaits they are
answered at once (ipykernel 7 handles them beside it, with no status of their own, so their
answers come as messages of the panel); behind a cell that computes they wait, and the panel
says so.
"""

from __future__ import annotations

import json

from labpage import kernel_exec

RECORD_JS = """
() => {
  const kernel = window.__layerwidgetPanel.sessionContext.session.kernel;
  const log = { sent: [], statuses: [], states: [], batches: [] };
  window.__statusLog = log;
  kernel.anyMessage.connect((_, { msg, direction }) => {
    if (direction === 'send') {
      const data = msg.content && msg.content.data;
      const kind = data && data.method === 'custom' && data.content ? data.content.kind : null;
      const carry = Boolean(kind && data.content.carry);
      log.sent.push({ id: msg.header.msg_id, type: msg.header.msg_type, kind, carry });
    }
  });
  kernel.iopubMessage.connect((_, msg) => {
    if (msg.header.msg_type === 'status') {
      const carried = (msg.content.layerwidget_batches || []).map((b) => b.ack);
      log.statuses.push({ parent: msg.parent_header.msg_id, state: msg.content.execution_state,
                          carried, buffers: (msg.buffers || []).length });
    }
    const data = msg.content && msg.content.data;
    if (data && data.content && data.content.kind === 'layerwidget-batch') {
      log.batches.push({ parent: msg.parent_header.msg_id, ack: data.content.ack });
    }
  });
  kernel.statusChanged.connect((_, state) => log.states.push(state));
  return kernel.status;
}
"""

# Seed edits from the panel's number box, one after another; each waits until the answer is
# painted and, with `waitIdle`, until the edit's idle status is in too (it trails the answer
# when the answer came as a message of its own: the next edit is sent once the panel has seen
# an idle). Returns the status log and, per edit, how long it took and whether the async cell
# of the last test had ended by then.
EDIT_JS = """
async ([values, waitIdle]) => {
  const panel = document.querySelector('.layerwidget-panel');
  const input = panel.querySelector("input[data-field='seed'][type='number']");
  const root = panel.closest('.widget-hbox');
  const conv = () => root.querySelectorAll('.layerwidget-stage image')[1].getAttribute('href');
  const log = window.__statusLog;
  const answers = [];
  for (const v of values) {
    const before = conv();
    input.value = String(v);
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    const t0 = performance.now();
    const answered = () => {
      const edits = log.sent.filter((m) => m.kind === 'edit');
      const last = edits.length ? edits[edits.length - 1].id : null;
      return conv() !== before && (!waitIdle ||
        log.statuses.some((s) => s.parent === last && s.state === 'idle'));
    };
    while (!answered()) {
      if (performance.now() - t0 > 30000) throw new Error('no answer to seed ' + v);
      await new Promise((r) => setTimeout(r, 10));
    }
    answers.push({ ms: performance.now() - t0, cellDone: window.__cellDone });
  }
  if (waitIdle) await new Promise((r) => setTimeout(r, 500)); // the idles trail the updates
  return { log, answers };
}
"""


def open_walkthrough(lab_page):
    """The walkthrough's explorer, once its stages are drawn."""
    lab = lab_page("walkthrough.ipynb")
    lab.run_explorer()
    lab.explorer().locator(".layerwidget-stage image").nth(1).wait_for(
        state="attached", timeout=60_000)
    lab.page.wait_for_timeout(500)
    return lab


def test_edits_have_no_busy_status_and_one_idle_each(lab_page):
    lab = open_walkthrough(lab_page)
    assert lab.page.evaluate(RECORD_JS) == "idle"

    log = lab.page.evaluate(EDIT_JS, [[11, 12, 13, 14, 15], True])["log"]
    edits = [m["id"] for m in log["sent"] if m["type"] == "comm_msg" and m["kind"] == "edit"]
    assert len(edits) == 5, log["sent"]
    for edit in edits:
        states = [s["state"] for s in log["statuses"] if s["parent"] == edit]
        assert states == ["idle"], (edit, states)
    assert "busy" not in log["states"], log["states"]
    # Once the panel has seen an edit's idle status reach it, it asks for its answers on the
    # idle status (one message per edit: Nagle's algorithm then holds nothing back): the
    # update, pictures included, rides on it, and no batch comes as a message of its own.
    carrying = [m for m in log["sent"] if m["kind"] == "edit" and m["carry"]]
    assert [m["id"] for m in carrying] == edits[1:], log["sent"]
    for edit in edits[1:]:
        (idle,) = [s for s in log["statuses"] if s["parent"] == edit]
        assert len(idle["carried"]) == 1 and isinstance(idle["carried"][0], int), idle
        assert idle["buffers"] >= 3, idle  # at least the three new stage pictures
        assert not [b for b in log["batches"] if b["parent"] == edit], log["batches"]
    assert [b["parent"] for b in log["batches"] if b["parent"] in edits] == edits[:1]

    # A cell run outside the panel still shows busy, then idle.
    assert kernel_exec(lab, "print(6 * 7)").strip() == "42"
    log = lab.page.evaluate("() => window.__statusLog")
    execute = [m["id"] for m in log["sent"] if m["type"] == "execute_request"]
    assert len(execute) == 1
    assert [s["state"] for s in log["statuses"] if s["parent"] == execute[0]] == ["busy", "idle"]
    assert "busy" in log["states"]
    lab.assert_no_console_errors()


ASYNC_CELL = "import asyncio\nawait asyncio.sleep(8)\nprint('cell done')"
# Runs a cell without waiting for it; window.__cellDone says when it has ended.
START_CELL_JS = """(code) => {
    const kernel = window.__layerwidgetPanel.sessionContext.session.kernel;
    window.__cellDone = false;
    kernel.requestExecute({ code }).done.then(() => { window.__cellDone = true; });
}"""
# The thread each seed the explorer takes runs on (JupyterLab sends widget messages over a
# subshell of its own; layerwidget has ipykernel hand its comms' messages to the main shell).
THREADS = ("import threading\nTHREADS = []\n"
           "ex.observe(lambda c: THREADS.append((c.new, threading.current_thread().name)), "
           "names='seed')")


def test_edits_run_on_the_main_thread_and_beside_an_async_cell(lab_page):
    lab = open_walkthrough(lab_page)
    kernel_exec(lab, THREADS)
    lab.page.evaluate(RECORD_JS)
    lab.page.evaluate(EDIT_JS, [[21, 22, 23], True])  # the panel has seen its idles: it carries
    concurrent = int(kernel_exec(lab, "import ipykernel\nprint(ipykernel.version_info[0])")) >= 7
    lab.page.evaluate(START_CELL_JS, ASYNC_CELL)
    lab.page.wait_for_timeout(500)  # the cell holds the shell, awaiting
    # ipykernel 7 handles these beside the cell, with no status: wait for the pictures only.
    answers = lab.page.evaluate(EDIT_JS, [[24, 25, 26], False])["answers"]
    if concurrent:  # ipykernel 7: the panel stays live while the cell awaits
        assert not any(a["cellDone"] for a in answers), answers
    lab.page.wait_for_function("() => window.__cellDone", timeout=30_000)
    lab.page.wait_for_timeout(500)
    # Every edit ran on the kernel's main thread, where cells and the explorer's callbacks run.
    seen = json.loads(kernel_exec(lab, "import json\nprint(json.dumps(THREADS))"))
    assert [s for s, _ in seen] == [21, 22, 23, 24, 25, 26], seen
    assert {name for _, name in seen} == {"MainThread"}, seen
    log = lab.page.evaluate("() => window.__statusLog")
    edits = {m["id"] for m in log["sent"] if m["kind"] == "edit"}
    # Every carried answer rode on its own edit's idle status, never on the cell's.
    for status in log["statuses"]:
        if status["carried"]:
            assert status["parent"] in edits, status
    # The page shows the kernel's picture for the last seed, byte for byte (the explorer sends
    # its pictures as data: URLs, _widgets.set_picture).
    href = lab.page.evaluate("() => document.querySelector('.layerwidget-panel')"
                             ".closest('.widget-hbox').querySelectorAll('.layerwidget-stage image')"
                             "[1].getAttribute('href')")
    kernel_url = kernel_exec(lab, "print(bytes(ex._stages.views[1]._image.image.value)"
                                  ".decode())").strip()
    assert href == kernel_url, (href[:80], kernel_url[:80])
    lab.assert_no_console_errors()


def test_an_edit_waits_for_a_computing_cell_and_the_panel_says_so(lab_page):
    """A cell that computes holds the kernel's main thread, where the panel's edits run: the
    edit waits, the panel says why after 4 s of silence, and the answer comes when the cell
    ends, the note gone."""
    lab = open_walkthrough(lab_page)
    lab.page.evaluate(RECORD_JS)
    lab.page.evaluate(START_CELL_JS, "import time\ntime.sleep(7)")
    lab.page.wait_for_timeout(300)
    seen = lab.page.evaluate("""async () => {
        const panel = document.querySelector('.layerwidget-panel');
        const note = panel.querySelector('.lw-waiting');
        const input = panel.querySelector("input[data-field='seed'][type='number']");
        const conv = () => panel.closest('.widget-hbox')
          .querySelectorAll('.layerwidget-stage image')[1].getAttribute('href');
        const shown = () => !note.hidden && getComputedStyle(note).display !== 'none';
        const before = conv();
        input.value = '31';
        input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
        const t0 = performance.now();
        let noteAt = null;
        while (conv() === before) {
          if (performance.now() - t0 > 30000) throw new Error('no answer to seed 31');
          if (noteAt === null && shown()) noteAt = performance.now() - t0;
          await new Promise((r) => setTimeout(r, 20));
        }
        const answeredAt = performance.now() - t0;
        await new Promise((r) => setTimeout(r, 200));
        return { noteAt, answeredAt, cellDone: window.__cellDone, text: note.textContent,
                 shownAfter: shown() };
    }""")
    assert seen["noteAt"] is not None and 3500 < seen["noteAt"] < 6500, seen
    assert "busy with another cell" in seen["text"], seen
    assert seen["cellDone"] and not seen["shownAfter"], seen
    assert kernel_exec(lab, "print(ex.seed)").strip() == "31"
