// Flow control between the panel and the kernel: one edit in flight at a time.
//
// Edits made while the kernel works are merged into `pending` (latest value per trait wins)
// and sent together once the kernel acknowledges the previous edit, so a burst or a slider
// drag never piles up work in the kernel, and the last edit always lands.

export function createFlow(model, { onAnswer = () => {}, onSilence = () => {} } = {}) {
  let seq = 0;
  let inFlight = null; // { seq, started }
  let pending = null; // { trait: value }
  let watchdog = null;
  let silence = null;

  const flush = () => {
    if (inFlight || !pending) return;
    const edits = pending;
    pending = null;
    seq = Math.max(seq, model.get("edit_seq") || 0, model.get("ack") || 0) + 1;
    inFlight = { seq, started: performance.now() };
    for (const [name, value] of Object.entries(edits)) model.set(name, value);
    model.set("edit_seq", seq);
    model.save_changes();
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

  return {
    send(name, value) {
      pending = pending || {};
      pending[name] = value;
      flush();
    },
    // The value the panel is about to send for `name`, else the model's.
    current(name) {
      return pending && name in pending ? pending[name] : model.get(name);
    },
    acknowledged() {
      if (!inFlight || model.get("ack") < inFlight.seq) return;
      const roundTrip = performance.now() - inFlight.started;
      inFlight = null;
      clearTimeout(watchdog);
      clearTimeout(silence);
      onSilence(false);
      onAnswer(roundTrip);
      flush();
    },
    dispose() {
      clearTimeout(watchdog);
      clearTimeout(silence);
    },
  };
}
