// The training section of the panel: epochs, Train / Stop / Reset, a progress bar, the last
// metrics and the kernel's message.
//
// Everything shown comes from the panel trait `training` (the kernel's TrainingSession.state()
// plus `trained`); the buttons send commands, and the kernel decides. Train and Reset go
// through the flow (one edit in flight, latest wins). Stop must work even while an edit is in
// flight, so it is also sent at once as a custom message, which bypasses that queue; the kernel
// treats a second stop, or a stop with nothing running, as nothing to do.

import { readNumber } from "./controls.js";
import { fieldRow, h } from "./dom.js";

const ACTIVE = new Set(["running", "stopping"]);

function percent(value) {
  return typeof value === "number" ? `${(100 * value).toFixed(1)}%` : "–";
}

function decimals(value) {
  return typeof value === "number" ? value.toFixed(3) : "–";
}

// `flow` sends commands; `uid` keeps ids unique per view. Returns the section's element,
// `sync()` (after `training` changes), `controls` and `setLocked(locked)` (no kernel behind
// the view: every control off, and a run shown as going on is said to have ended with it).
export function trainSection(model, flow, uid) {
  let commands = 0;
  let locked = false;

  const epochs = h("input", {
    id: `${uid}-epochs`, type: "number", class: "lw-number", min: "1", max: "100", step: "1",
    value: "3", title: "how many times training goes through the training images",
  });
  const train = h("button", { type: "button", text: "Train", class: "lw-train-go" });
  const stop = h("button", { type: "button", text: "Stop" });
  const reset = h("button", {
    type: "button", text: "Reset", title: "back to the seeded random weights",
  });
  const send = (action) =>
    flow.send("train_command", { action, epochs: readNumber(epochs), n: ++commands });
  train.addEventListener("click", () => send("train"));
  reset.addEventListener("click", () => send("reset"));
  stop.addEventListener("click", () => {
    model.send({ kind: "train-stop", n: ++commands });
    send("stop");
  });
  // Enter in the epochs box trains (JupyterLab would otherwise run the cell).
  epochs.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    event.stopPropagation();
    if (!train.disabled) send("train");
  });

  const bar = h("progress", { class: "lw-train-bar", max: 1, value: 0 });
  bar.id = `${uid}-trainbar`;
  const where = h("span", { class: "lw-train-where", "aria-live": "off" });
  const metrics = h("div", { class: "lw-train-metrics" });
  const message = h("div", { class: "lw-train-message", role: "status", "aria-live": "polite" });
  const progressRow = h("div", { class: "lw-train-progress" }, [
    h("label", { for: bar.id, text: "progress" }), bar, where,
  ]);

  const el = h("fieldset", { class: "lw-train" }, [
    h("legend", { text: "Training" }),
    fieldRow("epochs", epochs),
    h("div", { class: "lw-row" }, [train, stop, reset]),
    progressRow,
    metrics,
    message,
  ]);

  function sync() {
    const state = model.get("training") || {};
    const phase = state.phase || "idle";
    const active = ACTIVE.has(phase);
    const history = state.history || [];
    const nEpochs = state.epochs || 0;
    const perEpoch = state.batches || 0;

    train.disabled = locked || active;
    stop.disabled = locked || phase !== "running";
    reset.disabled = locked || active || !(state.trained || history.length);
    epochs.disabled = locked || active;
    if (active && nEpochs && document.activeElement !== epochs) epochs.value = String(nEpochs);

    progressRow.hidden = phase === "idle";
    if (active && !state.epoch) {
      bar.removeAttribute("value"); // indeterminate: the model is being built and traced
      where.textContent = "starting…";
    } else {
      const total = nEpochs * perEpoch;
      const done = state.epoch ? (state.epoch - 1) * perEpoch + (state.batch || 0) : 0;
      bar.value = phase === "done" ? 1 : total ? Math.min(1, done / total) : 0;
      where.textContent = state.epoch
        ? `epoch ${state.epoch}/${nEpochs} · batch ${state.batch || 0}/${perEpoch}` : "";
    }

    // The epoch's running training figures, and the last validation (held-out images).
    const scored = history.filter((entry) => typeof entry.val_accuracy === "number");
    const logs = state.logs || {};
    const lines = [];
    if (typeof logs.loss === "number") {
      lines.push(`training loss ${decimals(logs.loss)} · accuracy ${percent(logs.accuracy)}`);
    }
    if (scored.length) {
      const last = scored[scored.length - 1];
      lines.push(`validation loss ${decimals(last.val_loss)} · accuracy ${percent(last.val_accuracy)}`);
    }
    metrics.replaceChildren(...lines.map((text) => h("div", { text })));
    metrics.hidden = !lines.length;

    let text = state.message || "";
    if (locked && active) text = "No kernel: this training ended with it.";
    message.textContent = text;
    message.hidden = !text;
    el.classList.toggle("lw-train-failed", phase === "failed");
    el.classList.toggle("lw-train-active", active);
  }

  sync();
  return {
    el,
    sync,
    // For marking the control the kernel's error names (error.field === "epochs").
    controls: { epochs },
    setLocked(value) {
      locked = !!value;
      sync();
    },
  };
}
