"""Kernel-side benchmark: what one edit costs before anything reaches the browser.

For each kind of edit, the time from the edit arriving (as the browser sends it, through the
panel's ``set_state``) to the last message sent, against the floor: calling the same
already-built tf.keras layers on the same input. Also messages and bytes per edit (every
message ``ipywidgets.Widget._send`` would send and every comm open, serialized to JSON as the
kernel would, plus binary buffers): with the update batch (``layerwidget._transport``) an edit
is exactly one message. Then a large input, a deep stack, 1,000-edit endurance and cold/warm
start.

Edits that change values cycle through at least three values (seeds 0, 1, 2, 3, ...), after
one warm-up cycle: a stage's pictures alternate between two Image widgets, so going back to the
value before the previous one would re-send no picture and flatter bytes and time.

    python benchmarks/bench_kernel.py [--repeat 30] [--quick] [--cases seed32,focus,...]
                                      [--out benchmarks/results/kernel.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from bench_util import WireCounter

HERE = Path(__file__).resolve().parent
SEEDS = [{"seed": s} for s in (0, 1, 2, 3)]


def stack(filters=32, kernel_size=3, strides=1, padding="same", activation="linear"):
    return [
        {"type": "Conv2D", "filters": filters, "kernel_size": kernel_size, "strides": strides,
         "padding": padding, "activation": activation},
        {"type": "ReLU"},
        {"type": "MaxPool2D", "pool_size": 2, "strides": 2, "padding": "same"},
    ]


def median_p90(values):
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def floor_ms(ex, repeat):
    """Bare built tf.keras layer calls on the same input: what any tool must pay."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        y = ex.input
        for layer in ex.keras_layers:
            y = np.asarray(layer(y))
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run_edits(ex, wire, edits, repeat):
    """Apply the edits round-robin (after one warm-up round); per-edit ms, messages, bytes."""
    seq = ex.panel.edit_seq
    for edit in edits:  # warm-up: builds and caches every layer the cycle needs
        seq += 1
        ex.panel.set_state({**edit, "edit_seq": seq})
    times, messages, sizes, kinds = [], [], [], set()
    for i in range(repeat):
        edit = edits[i % len(edits)]
        seq += 1
        wire.reset()
        start = time.perf_counter()
        ex.panel.set_state({**edit, "edit_seq": seq})
        times.append((time.perf_counter() - start) * 1000)
        messages.append(wire.messages)
        sizes.append(wire.bytes)
        kinds.update(wire.kinds)
        assert not ex.error, ex.error
    med, p90 = median_p90(times)
    return {"median_ms": round(med, 2), "p90_ms": round(p90, 2),
            "messages": statistics.median(messages), "max_messages": max(messages),
            "message_kinds": sorted(kinds), "bytes": int(statistics.median(sizes))}


def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def start_times():
    """Cold (TensorFlow not imported) and warm LayerExplorer() construction, fresh process;
    and the bare ``import tensorflow`` in another fresh process, for comparison."""
    code = (
        "import time; t0 = time.perf_counter();"
        "from layerwidget import LayerExplorer; ex = LayerExplorer(); t1 = time.perf_counter();"
        "ex2 = LayerExplorer(); t2 = time.perf_counter();"
        "print((t1 - t0) * 1000, (t2 - t1) * 1000)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    cold, warm = (float(v) for v in out.stdout.split())
    code = ("import time; t0 = time.perf_counter(); import tensorflow;"
            "print((time.perf_counter() - t0) * 1000)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {"cold_ms": round(cold), "warm_ms": round(warm, 1),
            "import_tensorflow_ms": round(float(out.stdout.split()[-1]))}


# --- cases ------------------------------------------------------------------------------
# Each case: key -> (title, function(ctx) -> result dict). `ctx` holds the shared explorer,
# the wire counter and the repeat count.


def _on_default(ctx, filters, edits):
    ex = ctx["ex"]
    ex.focus = None
    ex.layers = stack(filters)
    r = run_edits(ex, ctx["wire"], edits, ctx["repeat"])
    r["floor_ms"] = round(floor_ms(ex, ctx["repeat"]), 2)
    return r


def _seed(filters):
    return lambda ctx: _on_default(ctx, filters, SEEDS)


def _activation(filters):
    return lambda ctx: _on_default(ctx, filters, [{"layers": stack(filters, activation=a)}
                                                  for a in ("linear", "tanh", "sigmoid")])


def _channels(ctx):
    return _on_default(ctx, 32, [{"layers": stack(f)} for f in (8, 32, 64)])


def _shape(ctx):
    return _on_default(ctx, 32, [{"layers": stack(32, kernel_size=5)},
                                 {"layers": stack(32, strides=2)},
                                 {"layers": stack(32, padding="valid")}, {"layers": stack(32)}])


def _focus(ctx):
    """A seed edit at 32 filters with channel 0 of the Conv2D stage focused and a unit picked:
    the focus view (map, kernel, the unit's arithmetic) is redrawn too."""
    ex = ctx["ex"]
    ex.layers = stack(32)
    ex.focus = (1, 0)
    ex.unit = (10, 12)
    try:
        r = run_edits(ex, ctx["wire"], SEEDS, ctx["repeat"])
        r["floor_ms"] = round(floor_ms(ex, ctx["repeat"]), 2)
    finally:
        ex.focus = None
    return r


def _big(ctx):
    from layerwidget import LayerExplorer

    rgb = np.random.default_rng(0).integers(0, 256, size=(4, 224, 224, 3), dtype=np.uint8)
    big = LayerExplorer(images=rgb, layers=stack(64))
    try:
        r = run_edits(big, ctx["wire"], [{"image_index": i} for i in range(4)],
                      max(6, ctx["repeat"] // 3))
        r["floor_ms"] = round(floor_ms(big, 5), 2)
    finally:
        big.close()
    return r


def _deep(ctx):
    from layerwidget import LayerExplorer

    deep = LayerExplorer(layers=[
        {"type": "Conv2D", "filters": 16, "padding": "same"}, {"type": "ReLU"},
        {"type": "MaxPool2D"}, {"type": "Conv2D", "filters": 32, "padding": "same"},
        {"type": "ReLU"}, {"type": "MaxPool2D"}])
    try:
        r = run_edits(deep, ctx["wire"], SEEDS, ctx["repeat"])
        r["floor_ms"] = round(floor_ms(deep, ctx["repeat"]), 2)
    finally:
        deep.close()
    return r


def _model(ctx):
    """HOOK (model mode): LayerExplorer(model=layerwidget.trained.mnist_model()), image edits.
    Skipped until LayerExplorer takes ``model=``."""
    import inspect

    import layerwidget
    from layerwidget import LayerExplorer

    if "model" not in inspect.signature(LayerExplorer.__init__).parameters:
        return None
    ex = LayerExplorer(model=layerwidget.trained.mnist_model())
    try:
        r = run_edits(ex, ctx["wire"], [{"image_index": i} for i in range(4)], ctx["repeat"])
        r["floor_ms"] = round(floor_ms(ex, ctx["repeat"]), 2)
    finally:
        ex.close()
    return r


CASES = {
    "seed8": ("in-place (seed) 8", _seed(8)),
    "activation8": ("in-place (activation) 8", _activation(8)),
    "seed32": ("in-place (seed) 32", _seed(32)),
    "activation32": ("in-place (activation) 32", _activation(32)),
    "seed64": ("in-place (seed) 64", _seed(64)),
    "activation64": ("in-place (activation) 64", _activation(64)),
    "channels": ("channel count 8→32→64", _channels),
    "shape": ("shape (kernel, strides, padding) 32", _shape),
    "focus": ("focus view (seed) 32", _focus),
    "big": ("224×224×3, 64 filters (image edit)", _big),
    "deep": ("6-layer stack (seed edit)", _deep),
    "model": ("model mode (image edit)", _model),
}
EXTRAS = ("endurance", "start")


def endurance(results, n=1000):
    import ipywidgets

    from layerwidget import LayerExplorer

    ex = LayerExplorer()
    cycle = [{"layers": stack(f, kernel_size=k)} for f in (8, 32, 64) for k in (3, 5)]
    cycle += [{"image_index": i} for i in range(4)] + SEEDS
    seq = 0
    for edit in cycle * 2:
        seq += 1
        ex.panel.set_state({**edit, "edit_seq": seq})
    gc.collect()
    before = (rss_mb(), len(ipywidgets.widgets.widget._instances))
    for i in range(n):
        seq += 1
        ex.panel.set_state({**cycle[i % len(cycle)], "edit_seq": seq})
    gc.collect()
    after = (rss_mb(), len(ipywidgets.widgets.widget._instances))
    ex.close()
    results["endurance"] = {"edits": n, "rss_mb_before": round(before[0], 1),
                            "rss_mb_after": round(after[0], 1),
                            "widgets_before": before[1], "widgets_after": after[1]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=60, help="edits per case")
    parser.add_argument("--quick", action="store_true",
                        help="12 edits per case, 100 endurance edits: a smoke run")
    parser.add_argument("--cases", default="all",
                        help="comma-separated keys: " + ", ".join([*CASES, *EXTRAS]))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "kernel.json")
    args = parser.parse_args(argv)
    keys = [*CASES, *EXTRAS] if args.cases == "all" else args.cases.split(",")
    unknown = [k for k in keys if k not in CASES and k not in EXTRAS]
    if unknown:
        parser.error(f"unknown cases {unknown}; choose from {', '.join([*CASES, *EXTRAS])}")
    repeat = 12 if args.quick else args.repeat

    from layerwidget import LayerExplorer

    wire = WireCounter()
    results = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                          f"Python {platform.python_version()}",
               "edits_per_case": repeat, "cases": {}}
    ctx = {"ex": LayerExplorer(), "wire": wire, "repeat": repeat}
    rows = []
    for key in keys:
        if key not in CASES:
            continue
        title, run = CASES[key]
        r = run(ctx)
        if r is None:
            print(f"{title}: skipped (not built yet)", flush=True)
            continue
        r["ratio_to_floor"] = round(r["median_ms"] / r["floor_ms"], 2)
        results["cases"][title] = r
        rows.append((title, r))
        print(title, r, flush=True)
    ctx["ex"].close()
    if "endurance" in keys:
        endurance(results, 100 if args.quick else 1000)
    wire.close()
    if "start" in keys:
        results["start"] = start_times()

    print(f"\nKernel side, {results['machine']}, {repeat} edits per case")
    print(f"{'case':44} {'median':>8} {'p90':>8} {'floor':>7} {'×floor':>7} {'msgs':>5} "
          f"{'bytes':>9}")
    for name, r in rows:
        print(f"{name:44} {r['median_ms']:8.2f} {r['p90_ms']:8.2f} {r['floor_ms']:7.2f} "
              f"{r['ratio_to_floor']:7.2f} {r['messages']:5.0f} {r['bytes']:9,}")
    if "endurance" in results:
        e = results["endurance"]
        print(f"{e['edits']:,} edits: RSS {e['rss_mb_before']} -> {e['rss_mb_after']} MB, "
              f"live widgets {e['widgets_before']} -> {e['widgets_after']}")
    if "start" in results:
        s = results["start"]
        print(f"LayerExplorer(): cold (imports TensorFlow) {s['cold_ms']} ms, warm "
              f"{s['warm_ms']} ms; bare import tensorflow {s['import_tensorflow_ms']} ms")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
