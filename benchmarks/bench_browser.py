"""End-to-end benchmark in a real browser: layerwidget against interact + matplotlib.

Starts its own JupyterLab (and Notebook 7 and Voilà for one case each) and headless Chromium (the browser
tests' recipe, tests/browser/jupyter_env.py), opens notebooks with the explorer and with the
peer (benchmarks/peer.py), and times edits made through each page's own controls: from the
control's change to the paint of every new picture (Element Timing), each edit starting at a
random point of the page's frame interval. Bytes
are the websocket frames the page received per edit, decoded from the Chrome DevTools Protocol
(benchmarks/wire.py); the update itself is one of them, the batch. Page-side helpers are in
benchmarks/bench_page.js, the cases in benchmarks/bench_cases.py and bench_steps.py; see
benchmarks/README.md for the method and the results.

Cases (--cases, comma-separated; default all): seed8, seed32, seed64 (in-place seed edits),
channels, shape, focus (a seed edit with a channel focused), tooltip (pointing at the focus
view), drag (the seed slider dragged across its range), remote and remote-big (through the
delay proxy of benchmarks/netem.py: 25 ms each way, 10 Mbit/s), peer (interact + matplotlib,
the counterparts of the cases run), big (224×224×3, 64 filters), model (model mode, once
LayerExplorer takes ``model=``), draw (strokes on the drawing pad, once js/draw.js exists),
start (first complete view in a fresh kernel against ``import tensorflow``), trace and trace-channels
(where a 32-filter seed edit's, or a channel edit's, time goes), nb7 and voila (the seed edit in Notebook 7 and in Voilà),
floor (the same pictures' round trip and paint without TensorFlow or bqplot, benchmarks/floor.py).

    python benchmarks/bench_browser.py [--edits 20] [--quick] [--cases seed32,drag,...]
                                       [--out benchmarks/results/browser.json]
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import inspect
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "browser"))

import jupyter_env
from bench_cases import CASES, GROUPS, REMOTE
from labpage import kernel_exec
from netem import DelayProxy
from wire import Wire

PAGE_JS = (HERE / "bench_page.js").read_text()

STACK = ("[{{'type': 'Conv2D', 'filters': {filters}, 'kernel_size': 3, 'strides': 1, "
         "'padding': 'same', 'activation': 'linear'}}, {{'type': 'ReLU'}}, "
         "{{'type': 'MaxPool2D', 'pool_size': 2, 'strides': 2, 'padding': 'same'}}]")
# Every explorer notebook logs the seeds the kernel computed, in order (for the drag).
LOG_SEEDS = "SEEN = []\nex.observe(lambda change: SEEN.append(change.new), names='seed')\n"
NOTEBOOKS = {
    "ours.ipynb": ["from layerwidget import LayerExplorer\n"
                   f"STACK = lambda f: {STACK.format(filters='f')}\n"
                   "ex = LayerExplorer(layers=STACK(32))\n" + LOG_SEEDS + "ex"],
    "peer.ipynb": ["from peer import peer_explorer\npeer_explorer()"],
    "floor.ipynb": ["from floor import floor_widget\nfloor_widget()"],
    "big.ipynb": ["import numpy as np\nfrom layerwidget import LayerExplorer\n"
                  "rgb = np.random.default_rng(0).integers(0, 256, size=(4, 224, 224, 3), "
                  "dtype=np.uint8)\n"
                  f"ex = LayerExplorer(images=rgb, layers={STACK.format(filters=64)})\nex"],
    "start.ipynb": ["from layerwidget import LayerExplorer", "ex = LayerExplorer()\nex",
                    "ex2 = LayerExplorer()\nex2",
                    "from layerwidget import LayerExplorer\nex3 = LayerExplorer()\nex3"],
    "model.ipynb": ["import layerwidget\nfrom layerwidget import LayerExplorer\n"
                    "ex = LayerExplorer(model=layerwidget.trained.mnist_model())\nex"],
}


class Page:
    """A notebook tab with the helpers installed and its websocket frames recorded."""

    def __init__(self, context, server, name):
        self.voila = server.app == "voila"  # Voilà runs the notebook itself, as it loads
        if self.voila:
            self.lab = jupyter_env.open_voila_page(context, server)
            self.lab.page.wait_for_function(  # the kernel hook() listens to
                "() => window.jupyterapp && window.jupyterapp.widgetManager && "
                "window.jupyterapp.widgetManager.kernel", timeout=120_000)
        else:
            self.lab = jupyter_env.open_lab_notebook(context, server, name)
        self.page = self.lab.page
        self.wire = Wire(context.new_cdp_session(self.page))
        self.page.evaluate(PAGE_JS)
        self.page.evaluate("() => window.__lw.hook()")

    def run_explorer(self, stages=4):
        if not self.voila:
            self.lab.run_all()
            assert self.lab.wait_kernel_idle() is True, "a benchmark notebook cell raised"
        self.page.locator(".layerwidget-panel").first.scroll_into_view_if_needed()
        self.page.wait_for_function(
            f"() => document.querySelectorAll('.layerwidget-stage image[href]').length >= {stages}",
            timeout=120_000)
        self.page.wait_for_timeout(500)

    def kernel(self, code):
        """Run ``code`` in the kernel; wait until whatever it changed has landed."""
        if self.voila:  # Voilà runs no code the page sends: its cases set nothing up
            assert not code, "Voilà cases start from the state the notebook leaves"
            return ""
        out = kernel_exec(self.lab, code)
        assert "ERROR" not in out, out
        self.page.wait_for_timeout(500)
        return out

    def settle(self, field, value):
        return self.page.evaluate("([f, v]) => window.__lw.settle(f, v)", [field, value])

    def edits(self, edits, stages, focus=(), numbers=False):
        """Timed edits; per edit the page's timings and the wire's summary (``numbers``: and
        when the tile numbers last changed)."""
        rows = []
        for field, value in edits:
            if focus:  # the focused map's tooltip before the edit (see bench_page.js)
                self.page.evaluate("() => window.__lw.probeBefore()")
            self.wire.clear()
            r = self.page.evaluate("([f, v, s, fo, nu]) => window.__lw.edit(f, v, s, fo, nu)",
                                   [field, value, list(stages), list(focus), numbers])
            if r is None:
                continue
            self.wire.wait_answer(self.page)
            rows.append({**r, **self.wire.summary()})
        return rows

    def close(self):
        self.lab.close()


def write_notebooks(root: Path):
    for name, cells in NOTEBOOKS.items():
        nb = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(c) for c in cells],
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}})
        nbformat.write(nb, root / name)
    for helper in ("peer.py", "floor.py"):
        shutil.copy(HERE / helper, root / helper)


# Not how layerwidget runs (it must hold on an unmodified Jupyter Server): a diagnosis of what
# the server's missing TCP_NODELAY costs. Patches the servers this script starts, nothing else.
NODELAY_CONFIG = """
from jupyter_server.services.kernels.websocket import KernelWebsocketHandler
_open = KernelWebsocketHandler.open
async def open(self, *args, **kwargs):
    self.set_nodelay(True)
    return await _open(self, *args, **kwargs)
KernelWebsocketHandler.open = open
"""


def nodelay_servers():
    prepare = jupyter_env.prepare_jupyter_dirs

    def with_nodelay(base):
        env = prepare(base)
        (Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.py").write_text(NODELAY_CONFIG)
        return env

    jupyter_env.prepare_jupyter_dirs = with_nodelay


def model_mode_available() -> bool:
    from layerwidget import LayerExplorer

    return "model" in inspect.signature(LayerExplorer.__init__).parameters


def print_table(results):
    print(f"\nEnd to end, {results['machine']}, {results['edits_per_case']} edits per case")
    print(f"{'case':44} {'ours med':>9} {'p90':>7} {'bytes':>9} {'peer med':>9} {'p90':>7} "
          f"{'peer/ours':>9}")
    for name, r in results["cases"].items():
        o, p = r.get("layerwidget"), r.get("peer")
        if not o:
            continue
        line = f"{name:44} {o['median_ms']:9.1f} {o['p90_ms']:7.1f} {o.get('bytes', 0):9,}"
        if p:
            r["ratio"] = round(p["median_ms"] / o["median_ms"], 1)
            line += f" {p['median_ms']:9.1f} {p['p90_ms']:7.1f} {r['ratio']:9.1f}"
        print(line)
    for key in ("drag", "draw", "start", "skipped", "failed"):  # trace: see the JSON
        if key in results:
            print(f"{key}: {json.dumps(results[key], ensure_ascii=False)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=20,
                        help="edits per case (≥ 20 for the table)")
    parser.add_argument("--quick", action="store_true", help="5 edits per case, for a smoke run")
    parser.add_argument("--cases", default="all",
                        help="comma-separated keys: " + ", ".join(CASES))
    parser.add_argument("--nodelay", action="store_true",
                        help="diagnosis only: Jupyter Server sets TCP_NODELAY on kernel websockets")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "browser.json")
    args = parser.parse_args(argv)
    keys = list(CASES) if args.cases == "all" else args.cases.split(",")
    unknown = [k for k in keys if k not in CASES]
    if unknown:
        parser.error(f"unknown cases {unknown}; choose from {', '.join(CASES)}")
    n = 5 if args.quick else args.edits

    chromium = jupyter_env.find_chromium()
    if chromium is None:
        sys.exit("no Chromium found: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    results = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, headless Chromium, "
                          "JupyterLab 4", "date": time.strftime("%Y-%m-%d %H:%M"),
               "load_before": os.getloadavg(), "edits_per_case": n, "quick": args.quick,
               "nodelay": args.nodelay,
               "cases": {}}
    if not model_mode_available():
        keys = [k for k in keys if k != "model"]
        results.setdefault("skipped", []).append("model: LayerExplorer has no model= yet")
    # The package's bytecode, as pip writes it for an installed wheel: in an environment with
    # PYTHONDONTWRITEBYTECODE set (this one's), an editable install would otherwise compile
    # every module in every fresh kernel (44 ms of `from layerwidget import ...` here).
    import layerwidget
    compileall.compile_dir(Path(layerwidget.__file__).parent, quiet=1)
    base = Path(tempfile.mkdtemp(prefix="lw-bench-"))
    src = base / "src"
    src.mkdir()
    write_notebooks(src)
    if args.nodelay:
        nodelay_servers()
    servers = {"lab": jupyter_env.start_server(base / "lab", src, app="lab")}
    try:
        with sync_playwright() as pw:
            context = jupyter_env.launch_browser(pw, base / "profile", chromium)
            try:
                for group, (app, notebook, stages, remote) in GROUPS.items():
                    todo = [k for k in keys if CASES[k][0] == group]
                    if not todo:
                        continue
                    if app not in servers:
                        servers[app] = jupyter_env.start_server(
                            base / app, src, app=app, notebook=notebook if app == "voila" else None)
                    server, proxy, tap = servers[app], None, []
                    if remote:
                        net = REMOTE if remote == "remote" else {"latency_ms": 0, "mbit": None}
                        proxy = DelayProxy(server.port, **net, log=tap)
                        server = dataclasses.replace(server, url=f"http://127.0.0.1:{proxy.port}")
                    page = None
                    try:
                        try:
                            page = Page(context, server, notebook)
                            page.tap = tap
                            if stages:
                                page.run_explorer(stages)
                        except Exception as exc:
                            # A host that did not come up fails its cases; the others' results
                            # are still written.
                            for key in todo:
                                results.setdefault("failed", {})[key] = (
                                    f"setup: {type(exc).__name__}: {exc}".splitlines()[0])
                            print(f"FAILED {group} setup: {exc}", flush=True)
                            if page is not None:  # what the page showed instead
                                args.out.parent.mkdir(parents=True, exist_ok=True)
                                page.page.screenshot(path=args.out.with_name(
                                    f"{args.out.stem}-{group}-failed.png"), full_page=True)
                            todo = []
                        for key in todo:
                            _, title, run = CASES[key]
                            print(f"-- {key}: {title}", flush=True)
                            try:
                                run(page, results, title, n)
                            except Exception as exc:
                                # One case that fails (a paint never reported) is recorded, and
                                # the run goes on: its other results are worth keeping.
                                results.setdefault("failed", {})[key] = f"{type(exc).__name__}: {exc}"
                                print(f"FAILED {key}: {exc}", flush=True)
                    finally:
                        if page is not None:
                            page.close()
                        servers[app].shutdown_kernels()
                        if proxy is not None:
                            proxy.close()
            finally:
                context.close()
    finally:
        for server in servers.values():
            jupyter_env.stop_server(server)
        shutil.rmtree(base, ignore_errors=True)

    results["load_after"] = os.getloadavg()
    print_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"wrote {args.out}")
    if results.get("failed"):
        sys.exit(f"{len(results['failed'])} case(s) failed: {', '.join(results['failed'])}")


if __name__ == "__main__":
    main()
