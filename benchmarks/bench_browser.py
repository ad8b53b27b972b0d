"""End-to-end benchmark in a real browser: layerwidget against interact + matplotlib.

Starts its own JupyterLab and headless Chromium (the browser tests' recipe, tests/browser/
jupyter_env.py), opens one notebook with the explorer and one with the peer (benchmarks/peer.py),
and times edits made through each page's own controls: from the control's change to the moment
every stage shows the new values (every changed stage's <image> repainted for the explorer, the
new PNG decoded for the peer). Bytes are the websocket frames the page received per edit.

    python benchmarks/bench_browser.py [--edits 20] [--quick] [--out benchmarks/results/browser.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "browser"))

import jupyter_env

STACK = """[{{'type': 'Conv2D', 'filters': {filters}, 'kernel_size': 3, 'strides': 1, 'padding': 'same', 'activation': 'linear'}},
 {{'type': 'ReLU'}}, {{'type': 'MaxPool2D', 'pool_size': 2, 'strides': 2, 'padding': 'same'}}]"""

NOTEBOOKS = {
    "ours.ipynb": ["from layerwidget import LayerExplorer\n"
                   f"ex = LayerExplorer(layers={STACK.format(filters=32)})\nex"],
    "peer.ipynb": ["from peer import peer_explorer\npeer_explorer()"],
    "big.ipynb": ["import numpy as np\nfrom layerwidget import LayerExplorer\n"
                  "rgb = np.random.default_rng(0).integers(0, 256, size=(2, 224, 224, 3), "
                  "dtype=np.uint8)\n"
                  f"ex = LayerExplorer(images=rgb, layers={STACK.format(filters=64)})\nex"],
    "start.ipynb": ["import time\nfrom layerwidget import LayerExplorer", "ex = LayerExplorer()\nex",
                    "ex2 = LayerExplorer()\nex2"],
}

# Page-side helpers: an edit is a control and a value; `until` says when the picture is new.
PAGE_JS = r"""
window.__lw = {
  frameBytes: 0,
  explorer(root) {
    const panel = root.querySelector('.layerwidget-panel');
    return {panel, images: () => Array.from(root.querySelectorAll('.layerwidget-stage image'))};
  },
  ourControl(panel, field) {
    if (field === 'seed') return panel.querySelector("input[id$='-seed']");
    if (field === 'image_index') return panel.querySelector("input[id$='-index']");
    return panel.querySelector(`fieldset[data-layer='0'] [data-field='${field}']`);
  },
  // The frame that paints a change: the next animation frame after it.
  frames: () => new Promise((r) => requestAnimationFrame(() => r())),
  // Resolve as soon as `done()` holds after a DOM change under `root` (no polling delay).
  until(root, done, t0, what) {
    return new Promise((resolve, reject) => {
      if (done()) return resolve();
      const observer = new MutationObserver(() => {
        if (done()) { observer.disconnect(); clearTimeout(timer); resolve(); }
      });
      observer.observe(root, {subtree: true, childList: true, attributes: true,
                              attributeFilter: ['href', 'src']});
      const timer = setTimeout(() => { observer.disconnect(); reject(new Error(what)); }, 120000);
    });
  },
  async ours(field, value, stages) {
    const {panel, images} = this.explorer(document.querySelector('.jp-Notebook'));
    const before = images().map((im) => im.getAttribute('href'));
    const control = this.ourControl(panel, field);
    if (control.value === String(value)) return 0;  // nothing would change
    const t0 = performance.now();
    control.value = String(value);
    if (control.tagName === 'SELECT') control.dispatchEvent(new Event('change', {bubbles: true}));
    else control.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
    await this.until(document.querySelector('.jp-Notebook'), () => {
      const now = images().map((im) => im.getAttribute('href'));
      return stages.every((i) => now[i] && now[i] !== before[i]);
    }, t0, 'no repaint of ' + field);
    await this.frames();
    return performance.now() - t0;
  },
  async peer(field, index) {
    const box = Array.from(document.querySelectorAll('.widget-dropdown'))
      .find((d) => d.querySelector('label') && d.querySelector('label').textContent.trim() === field);
    const select = box.querySelector('select');
    const img = () => document.querySelector('.widget-interact .jp-OutputArea-output img');
    const before = img() && img().getAttribute('src');
    if (select.selectedIndex === index) return 0;  // nothing would change
    const t0 = performance.now();
    select.selectedIndex = index;
    select.dispatchEvent(new Event('change', {bubbles: true}));
    await this.until(document.querySelector('.jp-Notebook'), () => {
      const now = img() && img().getAttribute('src');
      return now && now !== before;
    }, t0, 'no new figure');
    await img().decode();
    await this.frames();
    return performance.now() - t0;
  },
};
"""

PEER_INDEX = {"filters": {3: 0, 8: 1, 32: 2, 64: 3}, "kernel_size": {3: 0, 5: 1},
              "strides": {1: 0, 2: 1}, "padding": {"same": 0, "valid": 1},
              "activation": {"linear": 0, "tanh": 1}, "seed": {0: 0, 1: 1}}


def cycle(edits, n):
    return [edits[i % len(edits)] for i in range(n)]


def cases(n):
    """(name, filters to start from, edits); an edit is (field, value)."""
    out = []
    for f in (8, 32, 64):
        out.append((f"in-place (seed), {f} filters", f, cycle([("seed", 1), ("seed", 0)], n)))
    out.append(("channel count 8→32→64", 8,
                cycle([("filters", 32), ("filters", 64), ("filters", 8)], n)))
    out.append(("shape (kernel, strides, padding), 32", 32,
                cycle([("kernel_size", 5), ("kernel_size", 3), ("strides", 2), ("strides", 1),
                       ("padding", "valid"), ("padding", "same")], n)))
    return out


def stats(times):
    ordered = sorted(times)
    return {"median_ms": round(statistics.median(ordered), 1),
            "p90_ms": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1),
            "n": len(ordered)}


class Page:
    """A notebook page with the helpers installed and websocket bytes counted."""

    def __init__(self, context, server, name):
        self.lab = jupyter_env.open_lab_notebook(context, server, name)
        self.page = self.lab.page
        cdp = context.new_cdp_session(self.page)
        cdp.send("Network.enable")
        self.received = 0

        def frame(event):
            payload = event["response"]["payloadData"]
            # Binary frames (the widgets' buffers) arrive base64-encoded.
            self.received += len(payload) * 3 // 4 if event["response"]["opcode"] == 2 else len(payload)

        cdp.on("Network.webSocketFrameReceived", frame)
        self.page.evaluate(PAGE_JS)

    def run_all(self):
        self.lab.run_all()
        assert self.lab.wait_kernel_idle() is True, "a benchmark notebook cell raised"

    def timed(self, script, *args):
        self.received = 0
        ms = self.page.evaluate(script, list(args))
        return ms, self.received

    def close(self):
        self.lab.close()


def measure_ours(page, edits, stages):
    times, sizes = [], []
    for field, value in edits:
        ms, size = page.timed("([f, v, s]) => window.__lw.ours(f, v, s)", field, value, stages)
        times.append(ms)
        sizes.append(size)
    return {**stats(times), "bytes": int(statistics.median(sizes))}


def measure_peer(page, edits):
    times, sizes = [], []
    for field, value in edits:
        ms, size = page.timed("([f, i]) => window.__lw.peer(f, i)", field, PEER_INDEX[field][value])
        times.append(ms)
        sizes.append(size)
    return {**stats(times), "bytes": int(statistics.median(sizes))}


def start_times(page):
    """Cold (fresh kernel, TensorFlow not imported) and warm first complete view."""
    script = r"""async ([cell]) => {
      const app = window.jupyterapp, nb = app.shell.currentWidget;
      nb.content.activeCellIndex = cell;
      const t0 = performance.now();
      let sawProgress = false;
      app.commands.execute('notebook:run-cell');
      const node = () => nb.content.widgets[cell].node;
      await new Promise((resolve, reject) => {
        const check = () => {
          const busy = node().querySelector('.layerwidget-panel .lw-busy');
          if (busy && !busy.hidden && busy.textContent.includes('TensorFlow')) sawProgress = true;
          const imgs = Array.from(node().querySelectorAll('.layerwidget-stage image'));
          if (imgs.length === 4 && imgs.every((im) => im.getAttribute('href'))) resolve();
          else if (performance.now() - t0 > 120000) reject(new Error('no complete view'));
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      });
      await window.__lw.frames();
      return [performance.now() - t0, sawProgress];
    }"""
    page.lab.page.evaluate("async () => { const nb = window.jupyterapp.shell.currentWidget;"
                           " nb.content.activeCellIndex = 0;"
                           " await window.jupyterapp.commands.execute('notebook:run-cell'); }")
    page.lab.wait_kernel_idle()
    cold, progress = page.page.evaluate(script, [1])
    page.lab.wait_kernel_idle()
    warm, _ = page.page.evaluate(script, [2])
    return {"cold_ms": round(cold), "warm_ms": round(warm), "progress_shown": progress}


def write_notebooks(root: Path):
    for name, cells in NOTEBOOKS.items():
        nb = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(c) for c in cells],
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}})
        nbformat.write(nb, root / name)
    shutil.copy(HERE / "peer.py", root / "peer.py")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=20, help="edits per case (≥ 20 for the table)")
    parser.add_argument("--quick", action="store_true", help="5 edits per case, for a smoke run")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "browser.json")
    args = parser.parse_args(argv)
    n = 5 if args.quick else args.edits

    chromium = jupyter_env.find_chromium()
    if chromium is None:
        sys.exit("no Chromium found: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    results = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, headless Chromium, "
                          "JupyterLab", "edits_per_case": n, "cases": {}}
    base = Path(tempfile.mkdtemp(prefix="lw-bench-"))
    src = base / "src"
    src.mkdir()
    write_notebooks(src)
    server = jupyter_env.start_server(base / "server", src, app="lab")
    try:
        with sync_playwright() as pw:
            context = jupyter_env.launch_browser(pw, base / "profile", chromium)
            try:
                ours = Page(context, server, "ours.ipynb")
                ours.run_all()
                ours.page.locator(".layerwidget-panel").first.scroll_into_view_if_needed()
                ours.page.wait_for_function(
                    "() => document.querySelectorAll('.layerwidget-stage image[href]').length === 4",
                    timeout=120_000)
                for name, filters, edits in cases(n):
                    measure_ours(ours, [("filters", filters)], [1, 2, 3])  # start state
                    measure_ours(ours, edits[:3], [1, 2, 3])  # warm-up: layers built once
                    results["cases"].setdefault(name, {})["layerwidget"] = measure_ours(
                        ours, edits, [1, 2, 3])
                    print(name, "layerwidget", results["cases"][name]["layerwidget"], flush=True)
                ours.close()
                server.shutdown_kernels()

                peer = Page(context, server, "peer.ipynb")
                peer.run_all()
                peer.page.wait_for_selector(".widget-interact .jp-OutputArea-output img",
                                            state="attached", timeout=120_000)
                for name, filters, edits in cases(n):
                    measure_peer(peer, [("filters", filters)])
                    measure_peer(peer, edits[:2])
                    results["cases"][name]["peer"] = measure_peer(peer, edits)
                    print(name, "peer", results["cases"][name]["peer"], flush=True)
                peer.close()
                server.shutdown_kernels()

                big = Page(context, server, "big.ipynb")
                big.run_all()
                big.page.wait_for_function(
                    "() => document.querySelectorAll('.layerwidget-stage image[href]').length === 4",
                    timeout=120_000)
                edits = cycle([("image_index", 1), ("image_index", 0)], max(6, n // 2))
                measure_ours(big, edits[:2], [0, 1, 2, 3])
                results["cases"]["224×224×3, 64 filters (image edit)"] = {
                    "layerwidget": measure_ours(big, edits, [0, 1, 2, 3])}
                big.close()
                server.shutdown_kernels()

                start = Page(context, server, "start.ipynb")
                results["start"] = start_times(start)
                start.close()
                server.shutdown_kernels()
            finally:
                context.close()
    finally:
        jupyter_env.stop_server(server)
        shutil.rmtree(base, ignore_errors=True)

    print(f"\nEnd to end, {results['machine']}, {n} edits per case")
    print(f"{'case':40} {'ours med':>9} {'p90':>7} {'bytes':>9} {'peer med':>9} {'p90':>7} "
          f"{'peer/ours':>9}")
    for name, r in results["cases"].items():
        o, p = r["layerwidget"], r.get("peer")
        line = f"{name:40} {o['median_ms']:9.1f} {o['p90_ms']:7.1f} {o['bytes']:9,}"
        if p:
            r["ratio"] = round(p["median_ms"] / o["median_ms"], 1)
            line += f" {p['median_ms']:9.1f} {p['p90_ms']:7.1f} {r['ratio']:9.1f}"
        print(line)
    s = results["start"]
    print(f"first complete view: cold {s['cold_ms']} ms (progress shown: {s['progress_shown']}), "
          f"warm {s['warm_ms']} ms")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
