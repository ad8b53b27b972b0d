"""Diagnosis: what the browser's main thread does between a seed edit and its paint.

Opens the benchmark's 32-filter explorer notebook and the floor notebook (bench_browser.py) in
headless Chromium, makes seed edits through the page's own controls while Chrome records a
performance trace (CDP ``Tracing``, the devtools timeline categories), and sums the renderer
main thread's events between each edit and its paint. The frame that shows the answer is the
one after the answer arrived; its style, layout, pre-paint, paint and layerize times are
printed per notebook (medians over the edits).

    python benchmarks/trace_frame.py [--edits 20] [--css "RULES"] [--notebooks ours,floor]

``--css`` adds a style sheet to the page first (to try a CSS change without a build). Not part
of the benchmark table: tracing slows the page a little, so compare its runs with each other.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_browser  # puts tests/browser on the path, for jupyter_env
import jupyter_env

CATEGORIES = ("devtools.timeline,disabled-by-default-devtools.timeline,blink.user_timing,"
              "disabled-by-default-devtools.timeline.frame")
FRAME_PARTS = ("UpdateLayoutTree", "Layout", "PrePaint", "Paint", "Layerize")
SEEDS = [("seed", s) for s in (0, 1, 2, 3)]
# Each edit's start as a trace event: the page's commit of the control's value.
MARK_EDITS = """() => { const lw = window.__lw; if (lw._traceCommit) return;
  lw._traceCommit = lw.commit;
  lw.commit = (control, value) => { performance.mark('lw-edit'); return lw._traceCommit(control, value); };
}"""


def traced_edits(page, cdp, edits, stages):
    """``page.edits`` under a trace; returns their rows and the trace's events."""
    done = []
    cdp.on("Tracing.tracingComplete", lambda event: done.append(event))
    cdp.send("Tracing.start", {"categories": CATEGORIES, "transferMode": "ReturnAsStream"})
    page.page.evaluate(MARK_EDITS)
    rows = page.edits(edits, stages)
    cdp.send("Tracing.end")
    while not done:
        page.page.wait_for_timeout(100)
    handle, chunks = done[0]["stream"], []
    while True:
        part = cdp.send("IO.read", {"handle": handle, "size": 1 << 22})
        data = part["data"]
        chunks.append(base64.b64decode(data).decode() if part.get("base64Encoded") else data)
        if part.get("eof"):
            break
    cdp.send("IO.close", {"handle": handle})
    events = json.loads("".join(chunks))
    return rows, events["traceEvents"] if isinstance(events, dict) else events


def answer_frames(rows, events):
    """Per edit: its paint time, and the main thread's frame work after the answer arrived
    (events from the answer's decoding on, up to the paint)."""
    marks = [e for e in events if e.get("name") == "lw-edit"]
    pid, tid = marks[0]["pid"], marks[0]["tid"]
    main = [e for e in events if e.get("pid") == pid and e.get("tid") == tid and e.get("ph") == "X"]
    out = []
    for mark, row in zip(sorted(marks, key=lambda e: e["ts"]), rows, strict=False):
        t0 = mark["ts"]
        answer = t0 + (row["batch"] or 0) * 1000  # the answer decoded (page clock ≈ trace clock)
        painted = t0 + row["ms"] * 1000
        parts = defaultdict(float)
        for e in main:
            if answer <= e["ts"] < painted and e["name"] in FRAME_PARTS:
                parts[e["name"]] += e.get("dur", 0) / 1000
        out.append({"ms": row["ms"], **parts})
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--css", default="", help="a style sheet to add to the page first")
    parser.add_argument("--notebooks", default="ours,floor")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    base = Path(tempfile.mkdtemp(prefix="lw-trace-"))
    src = base / "src"
    src.mkdir()
    bench_browser.write_notebooks(src)
    server = jupyter_env.start_server(base / "lab", src, app="lab")
    results = {}
    try:
        with sync_playwright() as pw:
            context = jupyter_env.launch_browser(pw, base / "profile", jupyter_env.find_chromium())
            for name in args.notebooks.split(","):
                page = bench_browser.Page(context, server, f"{name}.ipynb")
                page.tap = []
                page.run_explorer(4)
                if args.css:
                    page.page.add_style_tag(content=args.css)
                if name == "ours":
                    page.kernel("ex.focus = None\nex.layers = STACK(32)\nex.seed = 0\n")
                page.settle(*SEEDS[0])
                stages = page.settle(*SEEDS[-1])["stages"]
                page.edits(SEEDS * 2, stages)  # warm
                cdp = context.new_cdp_session(page.page)
                rows, events = traced_edits(page, cdp, (SEEDS * 10)[:args.edits], stages)
                frames = answer_frames(rows, events)
                summary = {k: round(statistics.median(f.get(k, 0.0) for f in frames), 2)
                           for k in ("ms", *FRAME_PARTS)}
                results[name] = {"summary": summary, "edits": frames}
                print(name, json.dumps(summary), flush=True)
                page.close()
                server.shutdown_kernels()
            context.close()
    finally:
        jupyter_env.stop_server(server)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
