"""Diagnosis: "Loading" for the first explorer in a fresh page, round after round.

The ``start`` case of bench_browser.py times the first explorer of its page in its first round
only; the rounds after it find anywidget's and bqplot's code loaded. This script opens a new
JupyterLab page per round (one server, one browser), runs ``from layerwidget import
LayerExplorer`` and then ``ex = LayerExplorer()`` in its fresh kernel, and records when
"Loading TensorFlow…" was on screen, when the note and the first comm open arrived (page clock,
ms after the run), and the complete view against that kernel's own TensorFlow import.

    python benchmarks/first_page.py [--rounds 12] [--out benchmarks/results/first_page.json]
"""

from __future__ import annotations

import argparse
import compileall
import json
import shutil
import statistics
import tempfile
from pathlib import Path

import bench_browser  # puts tests/browser on the path, for jupyter_env and labpage
import jupyter_env
from bench_steps import START_JS
from labpage import kernel_exec, run_cell

HERE = Path(__file__).resolve().parent


def one_round(context, server) -> dict:
    page = bench_browser.Page(context, server, "start.ipynb")
    try:
        page.lab.wait_kernel_idle()
        run_cell(page.lab, 0)
        page.lab.wait_kernel_idle()
        cold = page.page.evaluate(START_JS, [1])
        page.lab.wait_kernel_idle()
        out = kernel_exec(page.lab, "from layerwidget import _tf; "
                                    "print('import took', _tf.IMPORT_SECONDS * 1000)")
        own_import = float(out.split("import took")[-1].split()[0])
    finally:
        page.close()
        server.shutdown_kernels()
    legs = cold["legs"]
    return {"progress_ms": cold["progress_ms"], "view_ms": cold["view_ms"],
            "view_minus_own_import_ms": round(cold["view_ms"] - own_import, 1),
            "note_arrived": legs.get("recv:display_data"),
            "execute_input": legs.get("recv:execute_input"),
            "note_in_dom": legs.get("note_in_dom"),
            "first_comm_open": legs.get("recv:comm_open"), "legs": legs}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "first_page.json")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    import layerwidget  # its bytecode, as an installed wheel has it (see bench_browser.py)
    compileall.compile_dir(Path(layerwidget.__file__).parent, quiet=1)
    base = Path(tempfile.mkdtemp(prefix="lw-first-page-"))
    src = base / "src"
    src.mkdir()
    bench_browser.write_notebooks(src)
    server = jupyter_env.start_server(base / "lab", src, app="lab")
    rows = []
    try:
        with sync_playwright() as pw:
            context = jupyter_env.launch_browser(pw, base / "profile",
                                                 jupyter_env.find_chromium())
            try:
                for i in range(args.rounds):
                    rows.append(one_round(context, server))
                    shown = {k: v for k, v in rows[-1].items() if k != "legs"}
                    print(i, json.dumps(shown), flush=True)
            finally:
                context.close()
    finally:
        jupyter_env.stop_server(server)
        shutil.rmtree(base, ignore_errors=True)
    progress = [r["progress_ms"] for r in rows]
    summary = {"rounds": len(rows), "progress_median_ms": round(statistics.median(progress), 1),
               "progress_max_ms": round(max(progress), 1),
               "over_100_ms": sum(p > 100 for p in progress),
               "view_minus_own_import_median_ms": statistics.median(
                   r["view_minus_own_import_ms"] for r in rows)}
    print(json.dumps(summary))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "rounds": rows}, indent=1))


if __name__ == "__main__":
    main()
