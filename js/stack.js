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

  // A Keras model's layers are its own: listed read-only, with their settings and parameters.
  function buildModel(info) {
    box.replaceChildren(h("fieldset", { class: "lw-model" }, [
      h("legend", { text: `model ${info.name} · ${info.params.toLocaleString()} parameters` }),
      h("ol", { class: "lw-model-stages" }, info.stages.map((stage, i) => {
        const show = (v) => (typeof v === "number" && !Number.isInteger(v)
          ? Number(v.toPrecision(3)) : v);
        const settings = Object.entries(stage.settings || {})
          .map(([k, v]) => `${k} ${Array.isArray(v) ? v.map(show).join("×") : show(v)}`)
          .join(", ");
        const note = stage.passthrough_at_inference ? " · unchanged at inference" : "";
        return h("li", { "data-stage": String(i + 1) }, [
          h("span", { class: "lw-stage-name", text: `${i + 1}. ${stage.name}` }),
          h("span", { text: ` ${stage.type}${note}` }),
          h("span", { class: "lw-model-settings", text: settings ? ` · ${settings}` : "" }),
          h("span", { class: "lw-model-params", text: ` · ${stage.params.toLocaleString()} params` }),
        ]);
      })),
    ]));
    addRow.hidden = true;
    structure = "model";
  }

  function build() {
    const info = model.get("model_info");
    if (info) {
      buildModel(info);
      return;
    }
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
      if (type === "Conv2D" || type === "DepthwiseConv2D") set.append(kernelRow(i, spec));
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

  // Presets for the layer's kernels: for every filter, or one. Each choice is a command the
  // kernel applies (and answers with the maps); "random (seeded)" goes back to the seeded
  // weights. What each filter holds now is listed under the choices.
  let commands = 0;
  const kernelSummaries = [];
  function kernelRow(i, spec) {
    const filters = spec.type === "Conv2D" ? Number(spec.filters) || 1
      : Number(spec.depth_multiplier) || 1;
    const which = h("select", { id: `${uid}-l${i}-kfilter`, "aria-label": `kernels of layer ${i + 1}: which filter` });
    which.append(h("option", { value: "", text: "all filters" }));
    for (let f = 0; f < filters; f++) {
      which.append(h("option", { value: String(f), text: `filter ${f}` }));
    }
    const preset = h("select", { id: `${uid}-l${i}-kpreset`, "aria-label": `kernels of layer ${i + 1}: preset` });
    preset.append(h("option", { value: "", text: "preset…" }));
    for (const name of model.get("presets") || []) preset.append(h("option", { value: name, text: name }));
    preset.addEventListener("change", () => {
      if (!preset.value) return;
      const filter = which.value === "" ? null : Number(which.value);
      flow.send("kernel_edit", { layer: i, filter, preset: preset.value, n: ++commands });
      preset.value = "";
    });
    const summary = h("div", { class: "lw-kernel-summary" });
    kernelSummaries[i] = summary;
    syncKernelSummary(i);
    return h("div", { class: "lw-kernels" }, [
      h("div", { class: "lw-field" }, [
        h("label", { for: which.id, text: "kernels" }),
        h("span", { class: "lw-control" }, [which, preset]),
      ]),
      summary,
    ]);
  }

  function syncKernelSummary(i) {
    const summary = kernelSummaries[i];
    if (!summary) return;
    const info = (model.get("kernels") || [])[i];
    if (!info || !info.labels) {
      summary.textContent = "seeded random (Glorot uniform)";
      return;
    }
    // "sobel x: 0, 1 · random: 2": which filter holds which kernel.
    const groups = new Map();
    info.labels.forEach((label, f) => groups.set(label, [...(groups.get(label) || []), f]));
    summary.textContent = Array.from(groups, ([label, fs]) => `${label}: ${fs.join(", ")}`)
      .join(" · ");
  }

  function buildAddTypes() {
    addType.replaceChildren();
    for (const [name, info] of Object.entries(model.get("schema") || {})) {
      addType.append(h("option", { value: name, text: name, title: info.doc }));
    }
  }

  function sync() {
    if (model.get("model_info")) return; // nothing editable
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
    syncKernels() {
      kernelSummaries.forEach((_, i) => syncKernelSummary(i));
    },
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
