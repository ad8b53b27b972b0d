"""What crosses the kernel websocket, seen by Chromium (Chrome DevTools Protocol).

JupyterLab 4 and Notebook 7 speak the binary v1 kernel protocol over the websocket, so most
frames are binary (opcode 2, payload base64 in CDP events). Each frame is one kernel message:
a little-endian uint64 count of offsets, the offsets, then the channel name, header, parent
header, metadata, content and buffers. A frame is sized by its decoded payload and named by its
header's ``msg_type`` (a status frame also by its ``execution_state``); the explorer's update
is the comm message whose content is a ``layerwidget-batch``, or the idle status that carries
a panel edit's batches (``batch+idle``, src/layerwidget/_quiet_edits.py).
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass

BATCH = ("batch", "batch+idle")  # the frames that carry an update
_MSG_TYPE = re.compile(rb'"msg_type":\s*"(\w+)"')
_STATE = re.compile(rb'"execution_state":\s*"(\w+)"')


@dataclass
class Frame:
    direction: str  # "in" (kernel -> page) or "out"
    t: float  # CDP timestamp, seconds (monotonic)
    size: int  # bytes of the decoded payload
    kind: str  # msg_type, "status/busy", "batch", ...


def _v1_parts(raw: bytes) -> list[bytes] | None:
    """The parts of a binary v1 message (channel, header, ...), or None if it is not one."""
    if len(raw) < 16:
        return None
    n = int.from_bytes(raw[:8], "little")
    if not 2 <= n <= 1000 or 8 * (n + 1) > len(raw):
        return None
    offsets = [int.from_bytes(raw[8 * (i + 1):8 * (i + 2)], "little") for i in range(n)]
    if offsets[0] != 8 * (n + 1) or offsets != sorted(offsets) or offsets[-1] > len(raw):
        return None
    return [raw[a:b] for a, b in zip(offsets, [*offsets[1:], len(raw)], strict=True)]


def describe(raw: bytes) -> str:
    parts = _v1_parts(raw)
    header = parts[1] if parts and len(parts) > 1 else raw
    content = parts[4] if parts and len(parts) > 4 else raw
    try:
        msg_type = json.loads(header).get("msg_type", "?")
    except ValueError:  # JSON text frame (v0 protocol): the first msg_type is the header's
        m = _MSG_TYPE.search(raw)
        msg_type = m.group(1).decode() if m else "?"
    if msg_type == "status":
        if b"layerwidget_batches" in content[:4096]:
            return "batch+idle"  # an edit's answer carried by its idle status
        m = _STATE.search(content)
        return f"status/{m.group(1).decode()}" if m else "status"
    if msg_type == "comm_msg" and b"layerwidget-batch" in content[:4096]:
        return "batch"
    return msg_type


class Wire:
    """Records every websocket frame of one page (both directions)."""

    def __init__(self, cdp):
        self.cdp = cdp
        self.frames: list[Frame] = []
        cdp.send("Network.enable")
        cdp.on("Network.webSocketFrameReceived", lambda e: self._add("in", e))
        cdp.on("Network.webSocketFrameSent", lambda e: self._add("out", e))

    def _add(self, direction, event):
        r = event["response"]
        payload = r.get("payloadData", "")
        raw = base64.b64decode(payload) if r.get("opcode") == 2 else payload.encode()
        self.frames.append(Frame(direction, event["timestamp"], len(raw), describe(raw)))

    def clear(self):
        self.frames = []

    def wait_answer(self, page, timeout_s=5.0) -> bool:
        """Pump events until the kernel's idle status after a batch has arrived."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            kinds = [f.kind for f in self.frames if f.direction == "in"]
            if "batch+idle" in kinds or (
                    "batch" in kinds and "status/idle" in kinds[kinds.index("batch"):]):
                return True
            page.wait_for_timeout(5)
        return False

    def summary(self) -> dict:
        """Bytes received for the edit, the batch's size, and wire times (ms after the edit
        left the page) of the kernel's busy status, the batch and the idle status."""
        received = [f for f in self.frames if f.direction == "in"]
        out = next((f for f in self.frames if f.direction == "out" and f.kind == "comm_msg"),
                   None)

        def at(*kinds):
            f = next((f for f in received if f.kind in kinds), None)
            return None if f is None or out is None else round((f.t - out.t) * 1000, 2)

        return {"bytes": sum(f.size for f in received),
                "frames": len(received),
                "batches": sum(f.kind in BATCH for f in received),
                "batch_bytes": sum(f.size for f in received if f.kind in BATCH),
                "sent_bytes": sum(f.size for f in self.frames if f.direction == "out"),
                # Anything else the page received meanwhile (a display update, ...), by kind.
                "other": {f.kind: f.size for f in received
                          if f.kind not in BATCH and not f.kind.startswith("status")},
                "wire_busy": at("status/busy"), "wire_batch": at(*BATCH),
                "wire_idle": at("status/idle", "batch+idle")}
