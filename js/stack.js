// The layer stack section of the panel: one fieldset per layer, controls named as Keras names
// the fields, tools to move and remove layers, and a row to add one.

import { choiceControl, numberControl } from "./controls.js";
import { fieldRow, h } from "./dom.js";

// `flow` sends edits; `uid` keeps ids unique per view. Returns the section's element and
// `sync()` (after the model's layers change) and `controlFor(layer, field)` (to mark errors).
export function stackSection(model, flow, uid) {
  const box = h("div", { class: "lw-stack" });
  const addType = h("select", { id: `${uid}-addtype` });
  const addButton = h("button", { type: "button", text: "Add layer" });
  const addRow = h("div", { class: "lw-row lw-add" }, [
    h("label", { for: addType.id, text: "new layer" }), addType, addButton,
  ]);
  let controls = []; // controls[i][field] -> control
  let structure = "";
  let locked = false;

  const currentLayers = () => {
    const layers = flow.current("layers");
    return Array.isArray(layers) ? layers : [];
  };
  const editLayers = (mutate) => {
    const layers = currentLayers().map((spec) => ({ ...spec }));
    mutate(layers);
    flow.send("layers", layers);
  };

  // A new layer carries no id: the kernel gives it the next one.
  addButton.addEventListener("click", () => {
    const type = addType.value;
    const fields = (model.get("schema")[type] || { fields: [] }).fields;
    const spec = { type };
    for (const f of fields) spec[f.name] = f.default;
    editLayers((layers) => layers.push(spec));
  });

  function build() {
    const schema = model.get("schema") || {};
    const layers = currentLayers();
    box.replaceChildren();
    controls = [];
    layers.forEach((spec, i) => {
      const type = spec && typeof spec === "object" ? spec.type : undefined;
      const set = h("fieldset", { class: "lw-layer", "data-layer": String(i) }, [
        h("legend", { text: `${i + 1}. ${type}` }),
      ]);
      const tools = h("div", { class: "lw-tools" });
      const tool = (text, label, action, disabled) => {
        const b = h("button", { type: "button", text, "aria-label": `${label} layer ${i + 1}` });
        b.disabled = disabled;
        b.addEventListener("click", action);
        tools.append(b);
      };
      tool("↑", "move up", () => editLayers((l) => l.splice(i - 1, 0, l.splice(i, 1)[0])), i === 0);
      tool("↓", "move down", () => editLayers((l) => l.splice(i + 1, 0, l.splice(i, 1)[0])),
        i === layers.length - 1);
      tool("✕", "remove", () => editLayers((l) => l.splice(i, 1)), layers.length === 1);
      set.append(tools);
      const byField = {};
      for (const field of (schema[type] || { fields: [] }).fields) {
        const id = `${uid}-l${i}-${field.name}`;
        const commit = (value) => editLayers((l) => {
          l[i][field.name] = value;
        });
        const control = field.kind === "choice"
          ? choiceControl(id, field, spec[field.name], commit)
          : numberControl(id, field, spec[field.name], commit);
        byField[field.name] = control;
        set.append(fieldRow(field.name, control.el, id));
      }
      controls.push(byField);
      box.append(set);
    });
    structure = JSON.stringify(layers.map((s) => (s && s.type) || null));
    if (locked) lock();
  }

  function lock() {
    for (const el of [addType, addButton, ...box.querySelectorAll("input, select, button")]) {
      el.disabled = true;
    }
  }

  function buildAddTypes() {
    addType.replaceChildren();
    for (const [name, info] of Object.entries(model.get("schema") || {})) {
      addType.append(h("option", { value: name, text: name, title: info.doc }));
    }
  }

  function sync() {
    const layers = currentLayers();
    const shape = JSON.stringify(layers.map((s) => (s && s.type) || null));
    if (shape !== structure) build();
    layers.forEach((spec, i) => {
      for (const [name, control] of Object.entries(controls[i] || {})) control.set(spec[name]);
    });
  }

  // Locked: every control disabled (no kernel to answer); unlocking rebuilds the controls.
  function setLocked(value) {
    if (value === locked) return;
    locked = value;
    if (locked) {
      lock();
    } else {
      addType.disabled = false;
      addButton.disabled = false;
      build();
      sync();
    }
  }

  buildAddTypes();
  build();
  return {
    el: h("div", {}, [box, addRow]),
    sync,
    rebuild() {
      buildAddTypes();
      build();
      sync();
    },
    controlFor(layer, field) {
      const control = (controls[layer] || {})[field];
      return control ? control.box : null;
    },
    setLocked,
  };
}
