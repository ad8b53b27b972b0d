"""Kernel-side benchmark: what one edit costs before anything reaches the browser.

For each kind of edit, the time from the edit arriving (as the browser sends it, through the
panel's ``set_state``) to the last widget message sent, against the floor: calling the same
already-built tf.keras layers on the same input. Also messages and bytes per edit (each message
serialized to JSON as ipykernel would), a large input, a deep stack, 1,000-edit endurance and
cold/warm start.

    python benchmarks/bench_kernel.py [--repeat 30] [--out benchmarks/results/kernel.json]
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

HERE = Path(__file__).resolve().parent


class WireCounter:
    """Counts widget messages (updates and comm opens) and their bytes, each serialized to
    JSON as the kernel would, plus its binary buffers."""

    def __init__(self):
        import ipywidgets
        from ipywidgets import comm as widget_comm

        self.messages = 0
        self.bytes = 0
        self._patches = [(ipywidgets.Widget, "_send", ipywidgets.Widget._send),
                         (widget_comm, "create_comm", widget_comm.create_comm)]
        counter = self

        def count(data, buffers):
            counter.messages += 1
            counter.bytes += len(json.dumps(data, default=str))
            counter.bytes += sum(memoryview(b).nbytes for b in buffers or ())

        def send(widget, msg, buffers=None):
            count(msg, buffers)
            return self._patches[0][2](widget, msg, buffers)

        def create_comm(*args, **kwargs):
            count(kwargs.get("data"), kwargs.get("buffers"))
            return self._patches[1][2](*args, **kwargs)

        ipywidgets.Widget._send = send
        widget_comm.create_comm = create_comm

    def reset(self):
        self.messages = self.bytes = 0

    def close(self):
        for owner, name, original in self._patches:
            setattr(owner, name, original)


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
    times, messages, sizes = [], [], []
    for i in range(repeat):
        edit = edits[i % len(edits)]
        seq += 1
        wire.reset()
        start = time.perf_counter()
        ex.panel.set_state({**edit, "edit_seq": seq})
        times.append((time.perf_counter() - start) * 1000)
        messages.append(wire.messages)
        sizes.append(wire.bytes)
        assert not ex.error, ex.error
    med, p90 = median_p90(times)
    return {"median_ms": round(med, 2), "p90_ms": round(p90, 2),
            "messages": statistics.median(messages), "bytes": int(statistics.median(sizes))}


def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def start_times():
    """Cold (TensorFlow not imported) and warm LayerExplorer() construction, fresh process."""
    code = (
        "import time; t0 = time.perf_counter();"
        "from layerwidget import LayerExplorer; ex = LayerExplorer(); t1 = time.perf_counter();"
        "ex2 = LayerExplorer(); t2 = time.perf_counter();"
        "print((t1 - t0) * 1000, (t2 - t1) * 1000)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    cold, warm = (float(v) for v in out.stdout.split())
    return {"cold_ms": round(cold), "warm_ms": round(warm, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "kernel.json")
    args = parser.parse_args(argv)

    import ipywidgets

    from layerwidget import LayerExplorer

    wire = WireCounter()
    results = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                          f"Python {platform.python_version()}", "cases": {}}
    ex = LayerExplorer()
    rows = []

    def case(name, filters, edits):
        ex.layers = stack(filters)
        r = run_edits(ex, wire, edits, args.repeat)
        r["floor_ms"] = round(floor_ms(ex, args.repeat), 2)
        r["ratio_to_floor"] = round(r["median_ms"] / r["floor_ms"], 2)
        results["cases"][name] = r
        rows.append((name, r))

    for f in (8, 32, 64):
        case(f"in-place (seed) {f}", f, [{"seed": 0}, {"seed": 1}])
        case(f"in-place (activation) {f}", f,
             [{"layers": stack(f, activation="tanh")}, {"layers": stack(f)}])
    case("channel count 8↔32↔64", 32,
         [{"layers": stack(8)}, {"layers": stack(32)}, {"layers": stack(64)}, {"layers": stack(32)}])
    case("shape (kernel, strides, padding) 32", 32,
         [{"layers": stack(32, kernel_size=5)}, {"layers": stack(32, strides=2)},
          {"layers": stack(32, padding="valid")}, {"layers": stack(32)}])
    ex.close()

    # Scale: a 224×224 RGB input with 64 filters, and a 6-layer stack.
    rgb = np.random.default_rng(0).integers(0, 256, size=(2, 224, 224, 3), dtype=np.uint8)
    big = LayerExplorer(images=rgb, layers=stack(64))
    r = run_edits(big, wire, [{"image_index": 0}, {"image_index": 1}], max(6, args.repeat // 3))
    r["floor_ms"] = round(floor_ms(big, 5), 2)
    r["ratio_to_floor"] = round(r["median_ms"] / r["floor_ms"], 2)
    results["cases"]["224×224×3, 64 filters (image edit)"] = r
    rows.append(("224×224×3, 64 filters (image edit)", r))
    big.close()
    deep_stack = [{"type": "Conv2D", "filters": 16, "padding": "same"}, {"type": "ReLU"},
                  {"type": "MaxPool2D"}, {"type": "Conv2D", "filters": 32, "padding": "same"},
                  {"type": "ReLU"}, {"type": "MaxPool2D"}]
    deep = LayerExplorer(layers=deep_stack)
    r = run_edits(deep, wire, [{"seed": 0}, {"seed": 1}], args.repeat)
    r["floor_ms"] = round(floor_ms(deep, args.repeat), 2)
    r["ratio_to_floor"] = round(r["median_ms"] / r["floor_ms"], 2)
    results["cases"]["6-layer stack (seed edit)"] = r
    rows.append(("6-layer stack (seed edit)", r))
    deep.close()

    # Endurance: 1,000 edits; memory and live widgets before and after.
    ex = LayerExplorer()
    cycle = [{"layers": stack(f, kernel_size=k)} for f in (8, 32, 64) for k in (3, 5)]
    cycle += [{"image_index": i} for i in range(4)] + [{"seed": s} for s in (0, 1)]
    seq = 0
    for edit in cycle * 2:
        seq += 1
        ex.panel.set_state({**edit, "edit_seq": seq})
    gc.collect()
    before = (rss_mb(), len(ipywidgets.widgets.widget._instances))
    for i in range(1000):
        seq += 1
        ex.panel.set_state({**cycle[i % len(cycle)], "edit_seq": seq})
    gc.collect()
    after = (rss_mb(), len(ipywidgets.widgets.widget._instances))
    ex.close()
    results["endurance"] = {"rss_mb_before": round(before[0], 1), "rss_mb_after": round(after[0], 1),
                            "widgets_before": before[1], "widgets_after": after[1]}
    wire.close()
    results["start"] = start_times()

    print(f"\nKernel side, {results['machine']}")
    print(f"{'case':44} {'median':>8} {'p90':>8} {'floor':>7} {'×floor':>7} {'msgs':>5} {'bytes':>9}")
    for name, r in rows:
        print(f"{name:44} {r['median_ms']:8.2f} {r['p90_ms']:8.2f} {r['floor_ms']:7.2f} "
              f"{r['ratio_to_floor']:7.2f} {r['messages']:5.0f} {r['bytes']:9,}")
    e = results["endurance"]
    print(f"1,000 edits: RSS {e['rss_mb_before']} -> {e['rss_mb_after']} MB, "
          f"live widgets {e['widgets_before']} -> {e['widgets_after']}")
    s = results["start"]
    print(f"LayerExplorer(): cold (imports TensorFlow) {s['cold_ms']} ms, warm {s['warm_ms']} ms")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
