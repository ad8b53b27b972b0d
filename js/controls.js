// Form controls shared by the panel's sections: number boxes with sliders, choices, commits.
//
// Values typed are drafts: they go to the kernel, which accepts or refuses them; controls are
// then set to what the kernel holds, except the one the user is typing in.

import { h } from "./dom.js";

// What a number box holds, as the kernel should judge it: "" is null (None), a number is a
// number, anything else is sent as typed so the kernel can name it in its message.
export function readNumber(input) {
  const raw = input.value.trim();
  if (raw === "") return input.validity && input.validity.badInput ? raw : null;
  const num = Number(raw);
  return Number.isFinite(num) ? num : raw;
}

// Commit on change, and on Enter: JupyterLab keeps Enter from producing a change event.
export function onCommit(input, commit) {
  input.addEventListener("change", commit);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      event.stopPropagation();
      commit();
    }
  });
}

const SLIDER_KEYS = new Set([
  "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown",
]);

export function setControlValue(input, value) {
  if (document.activeElement === input) return; // never overwrite what the user is typing
  const text = value === null || value === undefined ? "" : String(value);
  if (input.value !== text) input.value = text;
}

// A number box, with a slider beside it when `spec.slider` = [min, max, step] is given.
// Dragging the slider commits on every step (the flow control keeps one edit in flight and
// merges the rest, so a drag never queues work in the kernel); the keyboard moves it too.
// Returns { el, box, slider, set(value) }.
export function numberControl(id, spec, value, commit) {
  const box = h("input", {
    id, type: "number", class: "lw-number", step: spec.kind === "float" ? "any" : "1",
  });
  if (spec.min !== null && spec.min !== undefined && spec.min > -1e8) box.min = String(spec.min);
  if (spec.max !== null && spec.max !== undefined && spec.max < 1e8) box.max = String(spec.max);
  if (spec.optional) box.placeholder = spec.none_means;
  if (spec.doc) box.title = spec.doc;
  box.dataset.field = spec.name;
  onCommit(box, () => {
    const typed = readNumber(box);
    if (slider && typeof typed === "number") slider.value = String(typed);
    commit(typed);
  });
  let slider = null;
  if (spec.slider) {
    const [lo, hi, step] = spec.slider;
    slider = h("input", {
      type: "range", class: "lw-slider", min: String(lo), max: String(hi), step: String(step),
      "aria-label": `${spec.name} slider`,
    });
    slider.dataset.field = spec.name;
    // JupyterLab binds the arrow keys in command mode and cancels them before a focused slider
    // steps; the keys that move a slider stay with it.
    slider.addEventListener("keydown", (event) => {
      if (SLIDER_KEYS.has(event.key)) event.stopPropagation();
    });
    slider.addEventListener("input", () => {
      const v = Number(slider.value);
      box.value = String(v);
      commit(v);
    });
  }
  const set = (v) => {
    setControlValue(box, v);
    if (slider && document.activeElement !== slider) {
      // None (the field's default behaviour) has no place on a slider: park it at the start.
      slider.value = String(typeof v === "number" ? v : spec.slider[0]);
      slider.classList.toggle("lw-none", typeof v !== "number");
    }
  };
  set(value);
  const el = h("span", { class: "lw-control" }, [box, slider]);
  return { el, box, slider, set };
}

// A <select> of `choices` = [[value, label], ...] (or plain values). Returns { el, box, set }.
export function choiceControl(id, spec, value, commit) {
  const box = h("select", { id });
  const setChoices = (choices) => {
    box.replaceChildren(
      ...choices.map((c) => (Array.isArray(c) ? c : [c, c])).map(([v, text]) =>
        h("option", { value: v, text })),
    );
  };
  setChoices(spec.choices || []);
  if (spec.doc) box.title = spec.doc;
  box.dataset.field = spec.name;
  box.addEventListener("change", () => commit(box.value));
  const set = (v) => {
    if (document.activeElement !== box && v !== null && v !== undefined) box.value = String(v);
  };
  set(value);
  return { el: box, box, set, setChoices };
}
