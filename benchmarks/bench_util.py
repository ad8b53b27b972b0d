"""Helpers shared by the benchmarks: statistics, and the kernel side's message counter."""

from __future__ import annotations

import json
import statistics


def stats(values):
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    return {"median_ms": round(statistics.median(ordered), 1),
            "p90_ms": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1),
            "n": len(ordered)}


def median(values, digits=1):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), digits) if values else None


def summarize(rows):
    """Median and p90 of the edits' times; medians of bytes and of the timeline."""
    out = stats([r["ms"] for r in rows])
    if out is None or "bytes" not in rows[0]:
        return out
    out["bytes"] = int(statistics.median(r["bytes"] for r in rows))
    out["batch_bytes"] = int(statistics.median(r["batch_bytes"] for r in rows))
    out["batches_per_edit"] = median([r["batches"] for r in rows])
    # Other messages received during edits: in how many edits, and the largest size seen.
    kinds = sorted({k for r in rows for k in r["other"]})
    out["other_messages"] = {k: {"edits": sum(k in r["other"] for r in rows),
                                 "max_bytes": max(r["other"].get(k, 0) for r in rows)}
                             for k in kinds}
    out["timeline_ms"] = {k: median([r[k] for r in rows]) for k in (
        "sent", "busy", "batch", "applied", "framed", "readout", "numbers", "placed", "kernel_ms", "wire_busy",
        "wire_batch", "wire_idle")}
    # Each edit's own times (ms after the edit): where its frame fell shows in them.
    out["edits"] = [{k: r.get(k) for k in ("ms", "phase", "batch", "applied", "framed", "kernel_ms")}
                    for r in rows]
    return out


class WireCounter:
    """Counts what leaves the kernel: every message ``ipywidgets.Widget._send`` sends (the
    batch included: it is the panel's custom message) and every comm open, each serialized to
    JSON as the kernel would, plus its binary buffers."""

    def __init__(self):
        import ipywidgets
        from ipywidgets import comm as widget_comm

        self.messages = 0
        self.bytes = 0
        self.kinds: list[str] = []
        self._patches = [(ipywidgets.Widget, "_send", ipywidgets.Widget._send),
                         (widget_comm, "create_comm", widget_comm.create_comm)]
        counter = self

        def count(kind, data, buffers):
            counter.messages += 1
            counter.kinds.append(kind)
            counter.bytes += len(json.dumps(data, default=str))
            counter.bytes += sum(memoryview(b).nbytes for b in buffers or ())

        def send(widget, msg, buffers=None):
            content = msg.get("content") if isinstance(msg, dict) else None
            kind = content.get("kind") if isinstance(content, dict) else None
            count(kind or msg.get("method", "?"), msg, buffers)
            return self._patches[0][2](widget, msg, buffers)

        def create_comm(*args, **kwargs):
            count("comm_open", kwargs.get("data"), kwargs.get("buffers"))
            return self._patches[1][2](*args, **kwargs)

        ipywidgets.Widget._send = send
        widget_comm.create_comm = create_comm

    def reset(self):
        self.messages = self.bytes = 0
        self.kinds = []

    def close(self):
        for owner, name, original in self._patches:
            setattr(owner, name, original)
