// The focus section of the panel: which channel is drawn large, which unit is explained, the
// arithmetic as text, and the weight picked in the kernel view, editable.

import { numberControl, onCommit, readNumber } from "./controls.js";
import { fieldRow, h } from "./dom.js";

export function focusSection(model, flow, uid) {
  const stageSelect = h("select", { id: `${uid}-fstage` });
  const channel = numberControl(`${uid}-fchannel`, { name: "channel", kind: "int", min: 0 },
    0, (v) => flow.send("focus", [Number(stageSelect.value), v]));
  stageSelect.addEventListener("change", () => {
    flow.send("focus", [Number(stageSelect.value), 0]);
  });
  const row = h("input", { id: `${uid}-frow`, type: "number", step: "1", min: "0", class: "lw-small" });
  const col = h("input", { id: `${uid}-fcol`, type: "number", step: "1", min: "0", class: "lw-small",
    "aria-label": "unit column" });
  const sendUnit = () => {
    const r = readNumber(row);
    const c = readNumber(col);
    flow.send("unit", r === null && c === null ? null : [r, c]);
  };
  for (const box of [row, col]) onCommit(box, sendUnit);
  const clear = h("button", { type: "button", text: "Clear focus" });
  clear.addEventListener("click", () => flow.send("focus", null));
  const text = h("output", { class: "lw-explain", "aria-live": "polite" });
  let commands = 0;
  const weightLabel = h("label", { for: `${uid}-fweight`, text: "weight" });
  const weight = h("input", { id: `${uid}-fweight`, type: "number", step: "any", class: "lw-number" });
  const sendWeight = () => {
    const info = model.get("focus_info") || {};
    const w = info.weight;
    if (!w) return;
    flow.send("kernel_edit", { layer: w.layer, filter: w.filter, in: w.in, row: w.row,
      col: w.col, value: readNumber(weight), n: ++commands });
  };
  onCommit(weight, sendWeight);
  const weightRow = h("div", { class: "lw-field lw-weight" }, [weightLabel, weight]);
  const hint = h("div", {
    class: "lw-hint",
    text: "Click a map pixel to focus its channel and explain that value.",
  });
  const body = h("div", { class: "lw-focus-body" }, [
    fieldRow("stage", stageSelect),
    fieldRow("channel", channel.el, channel.box.id),
    h("div", { class: "lw-field" }, [
      h("label", { for: row.id, text: "unit row, col" }),
      h("span", { class: "lw-control" }, [row, col]),
    ]),
    text,
    weightRow,
    h("div", { class: "lw-row" }, [clear]),
  ]);
  const el = h("fieldset", { class: "lw-focus" }, [h("legend", { text: "Focus" }), hint, body]);

  function sync() {
    const stages = model.get("stages") || [];
    const names = stages.map((s) => s.name);
    if (Array.from(stageSelect.options, (o) => o.textContent).join("|") !== names.join("|")) {
      stageSelect.replaceChildren(...names.map((name, i) => h("option", { value: String(i), text: name })));
    }
    const info = model.get("focus_info");
    body.hidden = !info;
    hint.hidden = !!info;
    if (!info) return;
    stageSelect.value = String(info.stage);
    channel.set(info.channel);
    const shape = (stages[info.stage] || {}).shape || [];
    channel.box.max = String(Math.max(0, (shape[3] || 1) - 1));
    const unit = info.unit || [null, null];
    if (document.activeElement !== row) row.value = unit[0] === null ? "" : String(unit[0]);
    if (document.activeElement !== col) col.value = unit[1] === null ? "" : String(unit[1]);
    text.textContent = info.text || (info.unit ? "" : "Click a cell of the large map to explain it.");
    weightRow.hidden = !info.weight;
    if (info.weight) {
      const w = info.weight;
      weightLabel.textContent = `weight [${w.row}, ${w.col}] in ${w.in}, filter ${w.filter}`;
      if (document.activeElement !== weight) weight.value = String(w.value);
    }
  }

  return {
    el,
    sync,
    controls: { focus: stageSelect, unit: row },
    setLocked(locked) {
      for (const control of el.querySelectorAll("input, select, button")) control.disabled = locked;
    },
  };
}
