// Flow control between the panel and the kernel: one edit in flight at a time.
//
// Edits made while the kernel works are merged into `pending` (latest value per trait wins)
// and sent together once the kernel acknowledges the previous edit, so a burst or a slider
// drag never piles up work in the kernel, and the last edit always lands.
//
// An edit travels as a custom message of the panel, not as a widget update: ipywidgets' front
// end holds a model's next update until the kernel has gone idle after the previous one, which
// would add the idle status's trip to every edit of a drag. The values are set in the model
// here (the panel shows what it sent); the kernel applies them exactly as an update
// (Panel.set_state) and its answer, the update batch, says which edit it answers (batch.js).

import { batchChannel } from "./batch.js";

export function createFlow(model, { onAnswer = () => {}, onSilence = () => {} } = {}) {
  let seq = 0;
  let inFlight = null; // { seq, started }
  let idleSeen = false; // the kernel's idle status for an edit reaches the panel here
  let pending = null; // { trait: value }
  let watchdog = null;
  let silence = null;
  const channel = batchChannel(model);

  const flush = () => {
    if (inFlight || !pending) return;
    const edits = pending;
    pending = null;
    seq = Math.max(seq, model.get("edit_seq") || 0, model.get("ack") || 0) + 1;
    inFlight = { seq, started: performance.now() };
    for (const [name, value] of Object.entries(edits)) {
      model.set(name, value);
      channel.sentAt.set(name, seq);
    }
    model.set("edit_seq", seq);
    // The kernel's idle status for this edit. Once one has reached the panel here (this host
    // passes a message's statuses to its callbacks), edits ask for their answer *in* it: one
    // message per edit instead of the batch and then the idle, the second of which Jupyter
    // Server's Nagle algorithm held until the browser's delayed ACK of the first, ~40 ms in
    // many of a drag's round trips (layerwidget/_quiet_edits.py, benchmarks/README.md).
    const status = (msg) => {
      const content = (msg && msg.content) || {};
      if (content.execution_state !== "idle") return;
      idleSeen = true;
      const carried = content.layerwidget_batches;
      if (!Array.isArray(carried) || !channel.deliver) return;
      const buffers = msg.buffers || [];
      let offset = 0;
      for (const batch of carried) {
        channel.deliver(batch, buffers.slice(offset, offset + batch.buffers));
        offset += batch.buffers;
      }
    };
    const edit = { kind: "edit", state: { ...edits, edit_seq: seq } };
    if (idleSeen && channel.deliver) edit.carry = true;
    model.send(edit, { iopub: { status } });
    clearTimeout(watchdog);
    clearTimeout(silence);
    // Say so when the kernel is slow to answer (another cell running, or no kernel at all)...
    silence = setTimeout(() => onSilence(true), 4000);
    // ...and never let a kernel that never answers lock the panel.
    watchdog = setTimeout(() => {
      inFlight = null;
      flush();
    }, 15000);
  };

  const flow = {
    send(name, value) {
      pending = pending || {};
      pending[name] = value;
      flush();
    },
    // The value the panel is about to send for `name`, else the model's.
    current(name) {
      return pending && name in pending ? pending[name] : model.get(name);
    },
    // The kernel has answered every edit up to `ack` (its results are on their way or shown).
    acknowledged(ack = model.get("ack")) {
      if (!inFlight || ack < inFlight.seq) return;
      const roundTrip = performance.now() - inFlight.started;
      inFlight = null;
      clearTimeout(watchdog);
      clearTimeout(silence);
      onSilence(false);
      onAnswer(roundTrip);
      flush();
    },
    dispose() {
      channel.onAck.delete(onAck);
      clearTimeout(watchdog);
      clearTimeout(silence);
    },
  };
  const onAck = (ack) => flow.acknowledged(ack);
  channel.onAck.add(onAck);
  return flow;
}
