// layerwidget control panel (anywidget front end, vanilla ES module).
//
// The panel edits drafts: every commit sends the whole value to the kernel, which validates it
// and answers with the accepted state, the per-stage status, or an error. The kernel's verdict
// is the one shown. Everything from the model is rendered with textContent, never as HTML.

import { receiveBatches } from "./batch.js";
import { fieldRow, h } from "./dom.js";

let instances = 0;

// What a number box holds, as the kernel should judge it: "" is null (None), a number is a
// number, anything else is sent as typed so the kernel can name it in its message.
function readNumber(input) {
  const raw = input.value.trim();
  if (raw === "") return input.validity && input.validity.badInput ? raw : null;
  const num = Number(raw);
  return Number.isFinite(num) ? num : raw;
}

// Commit on change, and on Enter: JupyterLab keeps Enter from producing a change event.
function onCommit(input, commit) {
  input.addEventListener("change", commit);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      event.stopPropagation();
      commit();
    }
  });
}

function fieldControl(id, field, value, commit) {
  let input;
  if (field.kind === "choice") {
    input = h("select", { id });
    for (const choice of field.choices) input.append(h("option", { value: choice, text: choice }));
    input.value = value;
    input.addEventListener("change", () => commit(input.value));
  } else {
    input = h("input", { id, type: "number", step: field.kind === "int" ? "1" : "any" });
    if (field.min !== null && field.min > -1e8) input.min = String(field.min);
    if (field.max !== null) input.max = String(field.max);
    if (field.optional) input.placeholder = field.none_means;
    input.value = value === null || value === undefined ? "" : String(value);
    onCommit(input, () => commit(readNumber(input)));
  }
  input.title = field.doc;
  input.dataset.field = field.name;
  return input;
}

function setControlValue(input, value) {
  if (document.activeElement === input) return; // never overwrite what the user is typing
  const text = value === null || value === undefined ? "" : String(value);
  if (input.value !== text) input.value = text;
}

function render({ model, el }) {
  const uid = `lw${++instances}-${Math.random().toString(36).slice(2, 7)}`;
  el.classList.add("layerwidget-panel");

  // Flow control: one edit in flight at a time. Edits made while the kernel works are merged
  // into `pending` (latest value per trait wins) and sent together once the kernel acknowledges
  // the previous edit, so bursts never pile up in the kernel and the last edit always lands.
  let seq = 0;
  let inFlight = null; // {seq, started}
  let pending = null; // {trait: value}
  let roundTrip = null; // ms from the last edit to the kernel's answer
  let watchdog = null;

  const flush = () => {
    if (inFlight || !pending) return;
    const edits = pending;
    pending = null;
    seq = Math.max(seq, model.get("edit_seq") || 0, model.get("ack") || 0) + 1;
    inFlight = { seq, started: performance.now() };
    for (const [name, value] of Object.entries(edits)) model.set(name, value);
    model.set("edit_seq", seq);
    model.save_changes();
    // A kernel that never answers (restarted, interrupted) must not lock the panel.
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      inFlight = null;
      flush();
    }, 15000);
  };
  const send = (name, value) => {
    pending = pending || {};
    pending[name] = value;
    flush();
  };
  const onAck = () => {
    if (!inFlight || model.get("ack") < inFlight.seq) return;
    roundTrip = performance.now() - inFlight.started;
    inFlight = null;
    clearTimeout(watchdog);
    syncTiming();
    flush();
  };

  // ---- image and options ----
  const indexInput = h("input", { id: `${uid}-index`, type: "number", step: "1", min: "0" });
  onCommit(indexInput, () => send("image_index", readNumber(indexInput)));
  const step = (delta) => {
    const n = model.get("n_images");
    const shown = pending && "image_index" in pending ? pending.image_index : model.get("image_index");
    const current = Number(shown) || 0;
    send("image_index", (((current + delta) % n) + n) % n);
  };
  const prev = h("button", { type: "button", text: "◀", "aria-label": "previous image" });
  const next = h("button", { type: "button", text: "▶", "aria-label": "next image" });
  prev.addEventListener("click", () => step(-1));
  next.addEventListener("click", () => step(1));
  const labelOut = h("output", { class: "lw-label", "aria-live": "polite" });
  const scaleSelect = h("select", { id: `${uid}-scale` });
  scaleSelect.append(
    h("option", { value: "raw", text: "raw 0–255" }),
    h("option", { value: "unit", text: "unit 0–1" }),
  );
  scaleSelect.addEventListener("change", () => send("pixel_scale", scaleSelect.value));
  const seedInput = h("input", { id: `${uid}-seed`, type: "number", step: "1", min: "0" });
  onCommit(seedInput, () => send("seed", readNumber(seedInput)));

  const imageSet = h("fieldset", { class: "lw-image" }, [
    h("legend", { text: "Image" }),
    h("div", { class: "lw-row" }, [
      h("label", { for: indexInput.id, text: "image index" }),
      indexInput, prev, next, labelOut,
    ]),
    h("div", { class: "lw-row" }, [
      h("label", { for: scaleSelect.id, text: "pixel scale" }), scaleSelect,
      h("label", { for: seedInput.id, text: "seed" }), seedInput,
    ]),
  ]);

  // ---- layer stack ----
  const stackBox = h("div", { class: "lw-stack" });
  const addType = h("select", { id: `${uid}-addtype` });
  const addButton = h("button", { type: "button", text: "Add layer" });
  const addRow = h("div", { class: "lw-row lw-add" }, [
    h("label", { for: addType.id, text: "new layer" }), addType, addButton,
  ]);
  let controls = []; // controls[i][field] -> input element
  let structure = "";

  const currentLayers = () => {
    const layers = pending && "layers" in pending ? pending.layers : model.get("layers");
    return Array.isArray(layers) ? layers : [];
  };
  const editLayers = (mutate) => {
    const layers = currentLayers().map((spec) => ({ ...spec }));
    mutate(layers);
    send("layers", layers);
  };

  addButton.addEventListener("click", () => {
    const type = addType.value;
    const fields = (model.get("schema")[type] || { fields: [] }).fields;
    const spec = { type };
    for (const f of fields) spec[f.name] = f.default;
    editLayers((layers) => layers.push(spec));
  });

  function buildStack() {
    const schema = model.get("schema") || {};
    const layers = currentLayers();
    stackBox.replaceChildren();
    controls = [];
    layers.forEach((spec, i) => {
      const type = spec && typeof spec === "object" ? spec.type : undefined;
      const legendText = `${i + 1}. ${type}`;
      const set = h("fieldset", { class: "lw-layer", "data-layer": String(i) }, [
        h("legend", { text: legendText }),
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
        const input = fieldControl(id, field, spec[field.name], (value) =>
          editLayers((l) => {
            l[i][field.name] = value;
          }),
        );
        byField[field.name] = input;
        set.append(fieldRow(field.name, input));
      }
      controls.push(byField);
      stackBox.append(set);
    });
    structure = JSON.stringify(layers.map((s) => (s && s.type) || null));
  }

  function syncStack() {
    const layers = currentLayers();
    const shape = JSON.stringify(layers.map((s) => (s && s.type) || null));
    if (shape !== structure) buildStack();
    layers.forEach((spec, i) => {
      for (const [name, input] of Object.entries(controls[i] || {})) setControlValue(input, spec[name]);
    });
    markError();
  }

  function buildAddTypes() {
    addType.replaceChildren();
    for (const [name, info] of Object.entries(model.get("schema") || {})) {
      addType.append(h("option", { value: name, text: name, title: info.doc }));
    }
  }

  // ---- channels, status, code ----
  const pageSelect = h("select", { id: `${uid}-page` });
  pageSelect.addEventListener("change", () => send("channel_page", Number(pageSelect.value)));
  const pageRow = h("div", { class: "lw-row lw-pages" }, [
    h("label", { for: pageSelect.id, text: "channels shown" }), pageSelect,
  ]);
  const optionControls = {
    image_index: indexInput, seed: seedInput, pixel_scale: scaleSelect, channel_page: pageSelect,
  };
  const busy = h("div", { class: "lw-busy", role: "status" });
  const errorBox = h("div", { class: "lw-error", role: "alert" });
  const stageList = h("ol", { class: "lw-stages", start: "0" });
  const timing = h("div", { class: "lw-timing" });
  const codeBlock = h("pre", { class: "lw-code" });
  const codeBox = h("details", { class: "lw-code-box" }, [h("summary", { text: "tf.keras code" }), codeBlock]);

  function syncOptions() {
    setControlValue(indexInput, model.get("image_index"));
    indexInput.max = String(Math.max(0, model.get("n_images") - 1));
    const label = model.get("label");
    labelOut.textContent = label === null || label === undefined ? "" : `label ${label}`;
    scaleSelect.value = model.get("pixel_scale");
    setControlValue(seedInput, model.get("seed"));
  }

  // Page labels come from the kernel ("1–64", "65–100"), so they always match the real counts.
  function syncPages() {
    const labels = model.get("channel_pages") || [];
    pageRow.hidden = labels.length <= 1;
    const current = Array.from(pageSelect.options, (o) => o.textContent);
    if (JSON.stringify(current) !== JSON.stringify(labels)) {
      pageSelect.replaceChildren(
        ...labels.map((text, p) => h("option", { value: String(p), text })),
      );
    }
    pageSelect.value = String(model.get("channel_page"));
  }

  // Every text about a stage is written by the kernel (layerwidget.captions); shown as is.
  function syncStatus() {
    stageList.replaceChildren(
      ...model.get("stages").map((stage, i) =>
        h("li", { "data-stage": String(i) }, [
          h("span", { class: "lw-stage-name", text: stage.name }),
          h("span", { class: "lw-stage-shape", text: stage.shape_text }),
          h("span", { class: "lw-stage-range", text: stage.range_text }),
        ]),
      ),
    );
    syncTiming();
    codeBlock.textContent = model.get("code");
  }

  function syncTiming() {
    let text = `updated in ${model.get("elapsed_ms").toFixed(1)} ms in the kernel`;
    if (roundTrip !== null) text += `; last edit answered in ${roundTrip.toFixed(0)} ms`;
    timing.textContent = text;
  }

  function markError() {
    const error = model.get("error") || {};
    errorBox.textContent = error.message || "";
    errorBox.hidden = !error.message;
    el.querySelectorAll(".lw-invalid").forEach((node) => {
      node.classList.remove("lw-invalid");
      node.removeAttribute("aria-invalid");
    });
    if (!error.message) return;
    // The kernel names the field to blame (and the layer, for a layer's field).
    let target = null;
    if (error.layer !== null && error.layer !== undefined) {
      target = (controls[error.layer] || {})[error.field] || null;
    } else {
      target = optionControls[error.field] || null;
    }
    if (target) {
      target.classList.add("lw-invalid");
      target.setAttribute("aria-invalid", "true");
    }
  }

  function syncBusy() {
    busy.textContent = model.get("busy");
    busy.hidden = !model.get("busy");
  }

  el.replaceChildren(
    h("div", { class: "lw-title", text: "Layer explorer" }),
    imageSet,
    h("div", { class: "lw-stack-title", text: "Layers" }),
    stackBox,
    addRow,
    pageRow,
    busy,
    errorBox,
    stageList,
    timing,
    codeBox,
  );

  buildAddTypes();
  buildStack();
  syncStack();
  syncOptions();
  syncPages();
  syncStatus();
  syncBusy();

  model.on("change:schema", () => {
    buildAddTypes();
    buildStack();
    syncStack();
  });
  model.on("change:layers", syncStack);
  model.on("change:error", markError);
  for (const name of ["image_index", "n_images", "label", "pixel_scale", "seed"]) {
    model.on(`change:${name}`, syncOptions);
  }
  model.on("change:channel_pages", syncPages);
  model.on("change:channel_page", syncPages);
  model.on("change:update_id", syncStatus);
  model.on("change:busy", syncBusy);
  model.on("change:ack", onAck);
  return () => clearTimeout(watchdog);
}

// Once per model, whether or not a view is shown: the kernel's update batches (one message
// carrying every widget's changes) must reach the figures even if the panel is not displayed.
function initialize({ model }) {
  return receiveBatches(model);
}

export default { initialize, render };
