"""Cases of benchmarks/bench_browser.py that follow one event step by step: the first complete
view of an explorer in a fresh kernel (against the bare TensorFlow import), and where the time
of an edit goes (a 32-filter seed edit, or a channel-count edit; page, socket and kernel stamps
on one clock)."""

from __future__ import annotations

import json
import statistics

from bench_util import median
from labpage import kernel_exec, run_cell

START_JS = r"""async ([cell]) => {
  const app = window.jupyterapp, nb = window.__layerwidgetPanel;
  const node = () => nb.content.widgets[cell].node;
  const old = node().querySelector('.layerwidget-panel');
  nb.content.activeCellIndex = cell;
  // Where the time goes (page clock, ms after t0): the request sent; the kernel's busy,
  // execute_input and first display (the note) received; the last widget message received.
  const kernel = nb.sessionContext.session.kernel, legs = {};
  const onMsg = (_k, {direction, msg}) => {
    const type = msg.header.msg_type;
    const key = `${direction}:${type}` +
      (type === 'status' ? `:${msg.content.execution_state}` : '');
    const at = Math.round((performance.now() - t0) * 10) / 10;
    if (type === 'comm_msg' && direction === 'recv') legs['recv:comm_msg:last'] = at;
    else if (!(key in legs)) legs[key] = at;
  };
  kernel.anyMessage.connect(onMsg);
  // Frames whose rendering waited behind scripts (Long Animation Frames), and when the note
  // entered the DOM: a note in the DOM is on screen at the next rendering.
  const held = [];
  const lo = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      held.push({start: Math.round(e.startTime - t0), render: Math.round(e.renderStart - t0),
                 scripts: e.scripts.map((x) => `${x.invoker} ${Math.round(x.duration)} ms`)});
    }
  });
  lo.observe({type: 'long-animation-frame', buffered: false});
  let inserted = null;
  const mo = new MutationObserver(() => {
    if (inserted === null && node().querySelector('.layerwidget-loading')) {
      inserted = Math.round((performance.now() - t0) * 10) / 10;
    }
  });
  mo.observe(node(), {subtree: true, childList: true});
  const t0 = performance.now();
  let progress = null;
  app.commands.execute('notebook:run-cell');
  await new Promise((resolve, reject) => {
    const check = () => {
      const panel = node().querySelector('.layerwidget-panel');
      const fresh = panel && panel !== old;
      const busy = fresh && panel.querySelector('.lw-busy');
      // Progress: "Loading TensorFlow…" on screen: the note sent before any widget, the
      // panel, or the plain-HTML output that follows it.
      const saying = Array.from(node().querySelectorAll(
        '.layerwidget-loading, .lw-busy, .layerwidget-snapshot'))
        .some((el) => el.textContent.includes('TensorFlow') && el.checkVisibility());
      if (progress === null && saying) progress = performance.now() - t0;
      const imgs = fresh ? Array.from(node().querySelectorAll('.layerwidget-stage image')) : [];
      // Complete: every stage drawn, none still a stand-in waiting for TensorFlow.
      const waiting = Array.from(node().querySelectorAll('.layerwidget-stage'))
        .some((fig) => fig.textContent.includes('waiting for TensorFlow'));
      if (imgs.length >= 4 && imgs.every((im) => im.getAttribute('href')) && !waiting &&
          busy && busy.hidden) resolve();
      else if (performance.now() - t0 > 120000) reject(new Error('no complete view'));
      else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  });
  await new Promise((r) => requestAnimationFrame(r));
  kernel.anyMessage.disconnect(onMsg);
  lo.disconnect();
  mo.disconnect();
  legs.note_in_dom = inserted;
  legs.frames_held = held.filter((f) => f.start < (progress ?? 0));
  return {view_ms: performance.now() - t0, progress_ms: progress, legs};
}"""
RESTART_JS = ("async () => { "
              "await window.__layerwidgetPanel.sessionContext.session.kernel.restart(); }")


def start(page, results, title, n):
    """Per round, in fresh kernels: the bare ``import tensorflow``; then the first complete
    view of ``LayerExplorer()`` (layerwidget imported, TensorFlow not), the import as that
    kernel timed it (``layerwidget._tf.IMPORT_SECONDS``), and a second explorer; then the
    import and the explorer in one cell. ``*_legs``: the messages' and the note's times."""
    rows = []
    for _ in range(1 if n < 20 else 3):
        page.page.evaluate(RESTART_JS)
        page.lab.wait_kernel_idle()
        out = kernel_exec(page.lab, "import time; _t = time.perf_counter(); import tensorflow; "
                                    "print('import took', (time.perf_counter() - _t) * 1000)")
        tf_ms = float(out.split("import took")[-1].split()[0])  # after TensorFlow's own logs
        page.page.evaluate(RESTART_JS)
        page.lab.wait_kernel_idle()
        run_cell(page.lab, 0)
        cold = page.page.evaluate(START_JS, [1])
        page.lab.wait_kernel_idle()
        # The same import, timed inside the kernel that made the cold view (a tree without
        # the stamp says -1).
        out = kernel_exec(page.lab, "from layerwidget import _tf; print('import took', "
                                    "getattr(_tf, 'IMPORT_SECONDS', -0.001) * 1000)")
        own_tf_ms = float(out.split("import took")[-1].split()[0])
        own_tf_ms = None if own_tf_ms < 0 else own_tf_ms
        warm = page.page.evaluate(START_JS, [2])
        page.lab.wait_kernel_idle()
        # The README's first cell: the import and the explorer together, in a fresh kernel.
        page.page.evaluate(RESTART_JS)
        page.lab.wait_kernel_idle()
        one = page.page.evaluate(START_JS, [3])
        page.lab.wait_kernel_idle()
        rows.append({"import_tensorflow_ms": tf_ms, "own_import_ms": own_tf_ms,
                     "cold_ms": cold["view_ms"],
                     "cold_minus_own_import_ms": own_tf_ms and cold["view_ms"] - own_tf_ms,
                     "progress_ms": cold["progress_ms"], "warm_ms": warm["view_ms"],
                     "one_cell_ms": one["view_ms"], "one_cell_progress_ms": one["progress_ms"],
                     "cold_legs": cold["legs"], "one_cell_legs": one["legs"]})
        print(rows[-1], flush=True)
    out = {k: round(statistics.median(r[k] for r in rows if r[k] is not None))
           if any(r[k] is not None for r in rows) else None
           for k in rows[0] if not k.endswith("_legs")}
    out["cold_minus_import_ms"] = out["cold_ms"] - out["import_tensorflow_ms"]
    out["rounds"] = rows
    results["start"] = out


# Kernel-side stamps for the trace (measurement only): status messages published, the panel's
# set_state entered, the batch flushed. Wall clock, as the page's and the tap's.
TRACE_KERNEL = """
import time as _time
TR = []
_K = get_ipython().kernel
if "_TRACE_ORIGINALS" not in globals():  # a second traced case wraps the originals again
    _TRACE_ORIGINALS = (_K._publish_status, ex.panel.set_state, ex.panel.batch._flush)
_publish, _set_state, _flush = _TRACE_ORIGINALS
def _status(status, *a, **k):
    TR.append((status, _time.time()))
    return _publish(status, *a, **k)
_K._publish_status = _status
def _traced_set_state(sync_data):
    TR.append(("set_state", _time.time()))
    _set_state(sync_data)
ex.panel.set_state = _traced_set_state
def _traced_flush(*a, **k):
    TR.append(("flush", _time.time()))
    _flush(*a, **k)
    TR.append(("flushed", _time.time()))
ex.panel.batch._flush = _traced_flush
"""


def traced(setup, cycle, key):
    """A case that follows one kind of edit step by step on one clock: the page's own stamps
    (dispatch, messages decoded, applied, painted), the tap proxy's (bytes crossing the
    socket) and the kernel's (status published, set_state entered, batch flushed); the
    results go under ``key``."""
    def case(page, results, title, n):
        page.kernel(setup)
        page.settle(*cycle[0])  # the setup may already show the cycle's last value
        stages = page.settle(*cycle[-1])["stages"]
        page.edits(cycle * 2, stages)
        page.kernel(TRACE_KERNEL)
        _trace_rows(page, results, key, cycle, stages, n)
    return case


def _trace_rows(page, results, key, cycle, stages, n):
    rows = []
    for i in range(max(n, 10)):
        page.tap.clear()
        (r,) = page.edits([cycle[i % len(cycle)]], stages)
        page.page.wait_for_timeout(100)

        def at(direction, kind, last=False, r=r):
            # A panel edit's answer may ride on its idle status: that frame is both.
            kinds = (kind, "batch+idle") if kind in ("batch", "status/idle") else (kind,)
            f = next((f for f in page.tap if f[2] == direction and f[4] in kinds), None)
            return None if f is None else round(f[1 if last else 0] * 1000 - r["t0_epoch"], 1)

        rows.append({"page: edit sent": r["sent"], "socket: edit up": at("up", "comm_msg", True),
                     "kernel: edit dispatched": None, "kernel: set_state": None,
                     "kernel: batch flush": None, "kernel: batch handed to zmq": None,
                     "socket: batch starts": at("down", "batch"),
                     "socket: batch ends": at("down", "batch", True),
                     "page: batch decoded": r["batch"],
                     "kernel: idle published": None,
                     "socket: idle down": at("down", "status/idle"),
                     "page: applied": r["applied"], "page: painted": r["ms"],
                     "kernel: update (elapsed_ms)": r["kernel_ms"],
                     "bytes": r["bytes"], "batch_bytes": r["batch_bytes"], "t0": r["t0_epoch"]})
    stamps = json.loads(kernel_exec(page.lab, "import json; print(json.dumps(TR))"))
    # ipykernel's busy status marks the dispatch (layerwidget leaves it out for edits; the
    # stamp is taken before that).
    names = {"busy": "kernel: edit dispatched", "set_state": "kernel: set_state",
             "flush": "kernel: batch flush", "flushed": "kernel: batch handed to zmq",
             "idle": "kernel: idle published"}
    for row in rows:
        for name, t in stamps:
            ms = t * 1000 - row["t0"]
            if 0 <= ms < 2000 and name in names and row[names[name]] is None:
                row[names[name]] = round(ms, 1)
        del row["t0"]
    out = {k: median([row[k] for row in rows]) for k in rows[0]}
    out["rows"] = rows
    results[key] = out
    for k, v in out.items():
        if k != "rows":
            print(f"  {k:32} {v}", flush=True)
