"""The cases of benchmarks/bench_browser.py: each a key, the page it runs in, a title and a
function ``run(page, results, title, n)`` that adds its numbers to ``results``.

Edits that change values cycle through at least three states after a warm-up cycle: a stage's
pictures alternate between two Image widgets in the kernel, so an edit back to the state before
the previous one (seed 0 → 1 → 0) would re-send no picture and flatter time and bytes.

Hooks for features being built: ``model`` runs once ``LayerExplorer`` takes ``model=``;
``draw`` (strokes on the drawing pad) is skipped while js/draw.js does not exist.
"""

from __future__ import annotations

import itertools
import statistics
from pathlib import Path

from bench_steps import start, traced
from bench_util import median, stats, summarize
from labpage import kernel_exec

REPO = Path(__file__).resolve().parents[1]
SEEDS = [("seed", s) for s in (0, 1, 2, 3)]
# Six distinct states, each unlike the one two edits before it.
SHAPES = [("kernel_size", 5), ("strides", 2), ("padding", "valid"), ("kernel_size", 3),
          ("strides", 1), ("padding", "same")]
PEER_INDEX = {"filters": {3: 0, 8: 1, 32: 2, 64: 3}, "kernel_size": {3: 0, 5: 1},
              "strides": {1: 0, 2: 1}, "padding": {"same": 0, "valid": 1},
              "activation": {"linear": 0, "tanh": 1}, "seed": {0: 0, 1: 1}}
REMOTE = {"latency_ms": 25, "mbit": 10}  # each way (50 ms round trip), through netem.py


def _fmt(stats):
    return {k: v for k, v in stats.items() if k != "timeline_ms"} if stats else stats


def timed_cycle(page, n, cycle, setup, focus=False, numbers=False):
    """Set up, land the first edit (what it changes is what later edits must change), one
    warm-up cycle, then ``n`` timed edits round the cycle (``numbers``: timing the tile
    numbers too)."""
    page.kernel(setup)
    changed = page.settle(*cycle[0])
    if not changed["stages"] and not changed["focus"]:  # the state held already: start later
        cycle = cycle[1:] + cycle[:1]
        changed = page.settle(*cycle[0])
    assert changed["stages"], f"{cycle[0]} changed no stage"
    focus_figs = changed["focus"] if focus else []
    if focus:
        assert focus_figs, "the focus view did not change"
    stages = changed["stages"]
    page.edits(cycle[1:] + cycle[:1], stages, focus_figs)
    rows = page.edits([cycle[(1 + i) % len(cycle)] for i in range(n)], stages, focus_figs,
                      numbers)
    out = summarize(rows)
    out["stages"], out["focus_figures"] = stages, focus_figs
    return out


def _ours(setup, cycle, focus=False, numbers=False):
    def run(page, results, title, n):
        r = timed_cycle(page, n, cycle, setup, focus, numbers)
        results["cases"].setdefault(title, {})["layerwidget"] = r
        print(title, _fmt(r), r.get("timeline_ms"), flush=True)
    return run


def _setup(filters, focus=None):
    code = f"ex.focus = None\nex.layers = STACK({filters})\nex.seed = 0\n"
    if focus:
        code += "ex.focus = (1, 0)\nex.unit = (10, 12)\n"
    return code


def _remote(setup, cycle):
    def run(page, results, title, n):
        r = timed_cycle(page, n, cycle, setup)
        r["network"] = REMOTE
        results["cases"].setdefault(title, {})["layerwidget"] = r
        print(title, _fmt(r), r.get("timeline_ms"), flush=True)
    return run


def tooltip(page, results, title, n):
    page.kernel("ex.seed = 0\nex.layers = STACK(32)\nex.focus = (1, 0)\nex.unit = (10, 12)")
    cell = page.page.locator(".layerwidget-focus .heatmapcell").first
    cell.wait_for(state="attached", timeout=30_000)
    cell.scroll_into_view_if_needed()
    times = []
    for i in range(max(n, 10) + 2):
        r = page.page.evaluate("(i) => window.__lw.tooltip(i)", (37 * i + 100) % 700)
        assert r is not None, "no tooltip"
        times.append(r["ms"])
    results["cases"].setdefault(title, {})["layerwidget"] = stats(times[2:])
    print(title, results["cases"][title], flush=True)
    page.kernel("ex.focus = None")


def drag(page, results, title, n):
    """Drag the seed slider of a 32-filter explorer from its left end to its right end; count
    the views painted, and check they came in order and ended on the slider's value."""
    page.kernel(_setup(32) + "SEEN.clear()")
    page.page.evaluate("() => window.__lw.watchDrag('seed', 1)")
    # In the page, one input per animation frame: Playwright's mouse waits for each move to be
    # handled and, on a busy machine, sent fewer moves than the views the panel could show
    # (tests/browser/test_sliders.py drags with the real mouse and keyboard).
    page.page.evaluate("(ms) => window.__lw.scriptedDrag(ms)", 2000 if n < 20 else 4000)
    final = int(page.page.evaluate("() => window.__lw.control('seed', true).value"))
    for _ in range(200):
        if kernel_exec(page.lab, "print(SEEN[-1] if SEEN else None)").strip() == str(final):
            break
        page.page.wait_for_timeout(50)
    page.page.wait_for_timeout(500)
    rec = page.page.evaluate("() => window.__lw.endDrag()")
    rec["paints"].sort(key=lambda p: p[1])  # reported as each paint is, not always in order
    seen = [int(v) for v in kernel_exec(page.lab, "print(*SEEN)").split()]
    t_first, t_last_input = rec["inputs"][0][0], rec["inputs"][-1][0]
    t_end = rec["paints"][-1][1]
    gaps = [b[1] - a[1] for a, b in zip(rec["paints"], rec["paints"][1:], strict=False)]
    r = {"inputs": len(rec["inputs"]), "views_painted": len(rec["paints"]),
         "kernel_updates": len(seen), "final_value": final, "box_value": rec["box"],
         "kernel_final": seen[-1] if seen else None,
         "in_order": all(a < b for a, b in itertools.pairwise(seen)),
         "drag_s": round((t_last_input - t_first) / 1000, 2),
         "views_per_s": round(len(rec["paints"]) / ((t_end - t_first) / 1000), 1),
         "median_gap_ms": round(statistics.median(gaps), 1) if gaps else None,
         "last_input_to_final_view_ms": round(t_end - t_last_input, 1)}
    results["drag"] = r
    print(title, r, flush=True)


def peer(page, results, title, n):
    """The peer's counterparts of the cases already run (all of them if none was)."""
    page.lab.run_all()
    assert page.lab.wait_kernel_idle() is True, "the peer notebook raised"
    page.page.wait_for_selector(".widget-interact .jp-OutputArea-output img", state="attached",
                                timeout=120_000)
    plan = {"in-place (seed), 8 filters": (8, [("seed", 1), ("seed", 0)]),
            "in-place (seed), 32 filters": (32, [("seed", 1), ("seed", 0)]),
            "in-place (seed), 64 filters": (64, [("seed", 1), ("seed", 0)]),
            "channel count 8→32→64": (8, [("filters", 32), ("filters", 64), ("filters", 8)]),
            "shape (kernel, strides, padding), 32": (32, SHAPES)}
    wanted = [t for t in plan if t in results["cases"]] or list(plan)

    def go(edits):
        rows = []
        for field, value in edits:
            r = page.page.evaluate("([f, i]) => window.__lw.peer(f, i)",
                                   [field, PEER_INDEX[field][value]])
            if r is not None:
                rows.append(r)
        return rows

    for t in wanted:
        filters, cycle = plan[t]
        go([("filters", filters), ("seed", 0), ("kernel_size", 3), ("strides", 1),
            ("padding", "same")])
        go(cycle)  # warm-up
        rows = go([cycle[i % len(cycle)] for i in range(n)])
        r = stats(row["ms"] for row in rows)
        # The end point before 2026-11-27: the PNG decoded, then the next animation frame.
        r["framed_ms"] = median(row["framed"] for row in rows)
        results["cases"].setdefault(t, {})["peer"] = r
        print(t, "peer", r, flush=True)


def draw(page, results, title, n):
    """Strokes on the drawing pad (a 32-filter explorer): a vertical line drawn with the mouse
    in 12 moves, after Clear. Per stroke: views painted while drawing, and the time from the
    pointer's release to the view of the finished drawing."""
    if not (REPO / "js" / "draw.js").exists():
        results.setdefault("skipped", []).append("draw: no drawing pad (js/draw.js) yet")
        return
    page.kernel(_setup(32))
    pad = page.page.locator(".layerwidget-panel canvas.lw-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    clear = page.page.locator(".layerwidget-panel .lw-draw button", has_text="Clear")
    page.page.evaluate("() => window.__lw.watchPad(0)")
    mouse, rows = page.page.mouse, []
    for i in range(max(n, 5) + 1):  # the first stroke adds the drawing to the images: warm-up
        clear.click()
        page.page.evaluate("() => window.__lw.quiet()")
        x = box["x"] + box["width"] * (0.3 + 0.1 * (i % 5))
        y0, y1 = box["y"] + 0.15 * box["height"], box["y"] + 0.85 * box["height"]
        mouse.move(x, y0)
        mouse.down()
        for k in range(1, 13):
            mouse.move(x + 3 * (k % 2), y0 + (y1 - y0) * k / 12)
        mouse.up()
        page.page.evaluate("() => window.__lw.quiet()")
        rec = page.page.evaluate("() => window.__lw.pad")
        down, up = rec["downs"][-1], rec["ups"][-1]
        during = [t for t in rec["paints"] if down <= t <= up]
        after = [t for t in rec["paints"] if t > up]
        rows.append({"stroke_ms": up - down, "views_while_drawing": len(during),
                     "release_to_final_view_ms": (after[-1] - up) if after else None})
    rows = rows[1:]
    out = {"release_to_final_view": stats([r["release_to_final_view_ms"] for r in rows]),
           "stroke_ms": median([r["stroke_ms"] for r in rows]),
           "views_while_drawing": median([r["views_while_drawing"] for r in rows]),
           "rows": rows}
    results["cases"].setdefault(title, {})["layerwidget"] = out["release_to_final_view"]
    results["draw"] = out
    print(title, {k: v for k, v in out.items() if k != "rows"}, flush=True)


# Pages: group -> (app, notebook, stage pictures to wait for before the cases (0: none),
# the kernel websocket's path: None (direct), "remote" (netem.py's delay proxy, REMOTE) or
# "tap" (the same proxy without delay, logging when each frame passes)).
GROUPS = {
    "ours": ("lab", "ours.ipynb", 4, None),
    "peer": ("lab", "peer.ipynb", 0, None),
    "floor": ("lab", "floor.ipynb", 4, None),
    "big": ("lab", "big.ipynb", 4, None),
    "model": ("lab", "model.ipynb", 1, None),
    "start": ("lab", "start.ipynb", 0, None),
    "nb7": ("notebook", "ours.ipynb", 4, None),
    "voila": ("voila", "ours.ipynb", 4, None),
    "remote": ("lab", "ours.ipynb", 4, "remote"),
    "remote-big": ("lab", "big.ipynb", 4, "remote"),
    "trace": ("lab", "ours.ipynb", 4, "tap"),
}

CASES = {
    "seed8": ("ours", "in-place (seed), 8 filters", _ours(_setup(8), SEEDS)),
    "seed32": ("ours", "in-place (seed), 32 filters", _ours(_setup(32), SEEDS)),
    "seed64": ("ours", "in-place (seed), 64 filters", _ours(_setup(64), SEEDS)),
    "channels": ("ours", "channel count 8→32→64", _ours(
        _setup(8), [("filters", 32), ("filters", 64), ("filters", 8)], numbers=True)),
    "shape": ("ours", "shape (kernel, strides, padding), 32", _ours(_setup(32), SHAPES,
                                                                     numbers=True)),
    "focus": ("ours", "focus view (seed), 32 filters", _ours(_setup(32, focus=True), SEEDS,
                                                              focus=True)),
    "tooltip": ("ours", "tooltip on the focus view", tooltip),
    "drag": ("ours", "seed slider drag, 32 filters", drag),
    "remote": ("remote", "remote: in-place (seed), 32 filters", _remote(_setup(32), SEEDS)),
    "draw": ("ours", "drawing: a stroke", draw),
    "peer": ("peer", "the peer", peer),
    "big": ("big", "224×224×3, 64 filters (image edit)",
            _ours("ex.seed = 0", [("image_index", i) for i in (0, 1, 2, 3)])),
    "remote-big": ("remote-big", "remote: 224×224×3, 64 filters (image edit)",
                   _remote("ex.seed = 0", [("image_index", i) for i in (0, 1, 2, 3)])),
    # The explorer's HTML snapshot (refreshed 1 s after the last update; 835 kB here) shares
    # the link with the next edit when edits are over 1 s apart; the same case without it:
    "remote-big-nosnap": ("remote-big", "remote: 224×224×3, 64 filters, no snapshot refresh",
                          _remote("ex.seed = 0\nex._snapshot.schedule = lambda loop: None",
                                  [("image_index", i) for i in (0, 1, 2, 3)])),
    "model": ("model", "model mode (image edit)",
              _ours("ex.image_index = 0", [("image_index", i) for i in (0, 1, 2, 3)])),
    "start": ("start", "first complete view", start),
    "trace": ("trace", "where the time goes: in-place (seed), 32 filters",
              traced(_setup(32), [("seed", s) for s in (0, 1, 2, 3)], "trace")),
    "trace-channels": ("trace", "where the time goes: channel count 8→32→64",
                       traced(_setup(8), [("filters", 32), ("filters", 64), ("filters", 8)],
                              "trace-channels")),
    "nb7": ("nb7", "Notebook 7: in-place (seed), 32 filters", _ours(_setup(32), SEEDS)),
    # The notebook makes the 32-filter explorer at seed 0 (Voilà runs no code the page sends).
    "voila": ("voila", "Voilà: in-place (seed), 32 filters", _ours("", SEEDS)),
    # One round trip that carries the same pictures, and their paint: no TensorFlow, no bqplot.
    "floor": ("floor", "floor: the seed edit's pictures, round trip and paint", _ours("", SEEDS)),
}
