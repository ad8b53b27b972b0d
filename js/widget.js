// layerwidget control panel (anywidget front end, vanilla ES module).
//
// The panel edits drafts: every commit sends the whole value to the kernel, which validates it
// and answers with the accepted state, the per-stage status, or an error. The kernel's verdict
// is the one shown, and every text about a stage is the kernel's. Everything from the model is
// rendered with textContent, never as HTML.

import { receiveBatches } from "./batch.js";
import { choiceControl, numberControl } from "./controls.js";
import { fieldRow, h } from "./dom.js";
import { drawSection } from "./draw.js";
import { createFlow } from "./flow.js";
import { focusSection } from "./focus.js";
import { stackSection } from "./stack.js";
import { trainSection } from "./train.js";

let instances = 0;

function render({ model, el }) {
  const uid = `lw${++instances}-${Math.random().toString(36).slice(2, 7)}`;
  el.classList.add("layerwidget-panel");

  let roundTrip = null; // ms from the last edit to the kernel's answer
  const flow = createFlow(model, {
    onAnswer: (ms) => {
      roundTrip = ms;
      syncTiming();
    },
    onSilence: (silent) => {
      waiting.hidden = !silent || disconnected();
    },
  });
  const send = (name, value) => flow.send(name, value);

  // ---- image and options ----
  const optionSpec = (name) => (model.get("option_schema") || {})[name] || {};
  const index = numberControl(
    `${uid}-index`,
    { name: "image_index", kind: "int", min: 0, max: optionSpec("image_index").max,
      slider: optionSpec("image_index").slider, doc: "which image to feed" },
    model.get("image_index"), (v) => send("image_index", v),
  );
  const stepImage = (delta) => {
    const n = model.get("n_images");
    const current = Number(flow.current("image_index")) || 0;
    const next = (((current + delta) % n) + n) % n;
    index.set(next);
    send("image_index", next);
  };
  const prev = h("button", { type: "button", text: "◀", "aria-label": "previous image" });
  const next = h("button", { type: "button", text: "▶", "aria-label": "next image" });
  prev.addEventListener("click", () => stepImage(-1));
  next.addEventListener("click", () => stepImage(1));
  const labelOut = h("output", { class: "lw-label", "aria-live": "polite" });
  const scale = choiceControl(
    `${uid}-scale`,
    { name: "pixel_scale", choices: optionSpec("pixel_scale").choices || [],
      doc: "how pixel values are fed to the first layer" },
    model.get("pixel_scale"), (v) => send("pixel_scale", v),
  );
  const seed = numberControl(
    `${uid}-seed`,
    { name: "seed", kind: "int", min: 0, max: optionSpec("seed").max,
      slider: optionSpec("seed").slider, doc: "seed of the layers' weights" },
    model.get("seed"), (v) => send("seed", v),
  );
  const seedRow = fieldRow("seed", seed.el, seed.box.id);
  const channelsBox = h("input", { id: `${uid}-inch`, type: "checkbox" });
  channelsBox.addEventListener("change", () => send("input_channels", channelsBox.checked));
  const channelsRow = fieldRow("input channels", channelsBox);

  const imageSet = h("fieldset", { class: "lw-image" }, [
    h("legend", { text: "Image" }),
    fieldRow("image index", index.el, index.box.id),
    h("div", { class: "lw-row lw-step" }, [prev, next, labelOut]),
    fieldRow("pixel scale", scale.el),
    seedRow,
    channelsRow,
  ]);
  const optionControls = {
    image_index: index.box, seed: seed.box, pixel_scale: scale.box, input_channels: channelsBox,
  };

  // ---- drawing pad, upload ----
  const draw = drawSection(model, flow, uid);
  Object.assign(optionControls, draw.controls);

  // ---- layer stack, focus ----
  const stack = stackSection(model, flow, uid);
  const focus = focusSection(model, flow, uid);
  Object.assign(optionControls, focus.controls);
  const histBox = h("input", { id: `${uid}-hist`, type: "checkbox" });
  histBox.addEventListener("change", () => send("histograms", histBox.checked));
  optionControls.histograms = histBox;
  const histRow = fieldRow("histograms", histBox);
  const training = trainSection(model, flow, uid);
  Object.assign(optionControls, training.controls);

  // ---- channels, status, code ----
  const pageSelect = h("select", { id: `${uid}-page` });
  pageSelect.addEventListener("change", () => send("channel_page", Number(pageSelect.value)));
  const pageRow = fieldRow("channels shown", pageSelect);
  optionControls.channel_page = pageSelect;
  const busy = h("div", { class: "lw-busy", role: "status" });
  const waiting = h("div", {
    class: "lw-busy lw-waiting", role: "status",
    text: "Waiting for the kernel… it is busy with another cell, or has stopped.",
  });
  waiting.hidden = true;
  const gone = h("div", {
    class: "lw-gone", role: "alert",
    text: "This explorer's kernel has restarted or stopped — run the cell again to explore. " +
      "What you see is its last view.",
  });
  gone.hidden = true;
  const errorBox = h("div", { class: "lw-error", role: "alert" });
  const noticeBox = h("div", { class: "lw-notice", role: "status" });
  const stageList = h("ol", { class: "lw-stages", start: "0" });
  const timing = h("div", { class: "lw-timing" });
  const codeBlock = h("pre", { class: "lw-code" });
  const codeBox = h("details", { class: "lw-code-box" }, [
    h("summary", { text: "tf.keras code" }), codeBlock,
  ]);

  function syncOptions() {
    const last = String(Math.max(0, model.get("n_images") - 1));
    index.box.max = last;
    if (index.slider) index.slider.max = last;
    index.set(model.get("image_index"));
    const label = model.get("label");
    labelOut.textContent = label === null || label === undefined ? "" : `label ${label}`;
    scale.set(model.get("pixel_scale"));
    seed.set(model.get("seed"));
    channelsBox.checked = !!model.get("input_channels");
    channelsRow.hidden = !optionSpec("input_channels").shown;
    histBox.checked = !!model.get("histograms");
    // A model's weights are its own: no seed to choose, and no Train button (the kernel
    // refuses ex.train() on a model with the reason).
    seedRow.hidden = !!model.get("model_info");
    training.el.hidden = !!model.get("model_info");
  }

  function syncNotice() {
    noticeBox.textContent = model.get("notice") || "";
    noticeBox.hidden = !model.get("notice");
  }

  // Page labels come from the kernel ("0–63", "64–99"), so they always match the real counts.
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
  // An edit that keeps the number of stages rewrites only the texts that changed (most edits
  // change the min/max only): no new elements to style and lay out while the pictures paint.
  const STAGE_TEXTS = [["lw-stage-name", "name"], ["lw-stage-shape", "shape_text"],
                       ["lw-stage-range", "range_text"]];
  function syncStatus() {
    const stages = model.get("stages");
    if (stageList.children.length !== stages.length) {
      stageList.replaceChildren(
        ...stages.map((stage, i) =>
          h("li", { "data-stage": String(i) },
            STAGE_TEXTS.map(([cls, key]) => h("span", { class: cls, text: stage[key] }))),
        ),
      );
    } else {
      stages.forEach((stage, i) => {
        const spans = stageList.children[i].children;
        STAGE_TEXTS.forEach(([, key], k) => {
          if (spans[k].textContent !== stage[key]) spans[k].textContent = stage[key];
        });
      });
    }
    syncTiming();
    const code = model.get("code");
    if (codeBlock.textContent !== code) codeBlock.textContent = code;
  }

  function syncTiming() {
    let text = `updated in ${model.get("elapsed_ms").toFixed(1)} ms in the kernel`;
    if (roundTrip !== null) text += `; last edit answered in ${roundTrip.toFixed(0)} ms`;
    timing.textContent = text;
  }

  // The kernel names the field to blame (and the layer, for a layer's field).
  function markError() {
    const error = model.get("error") || {};
    errorBox.textContent = error.message || "";
    errorBox.hidden = !error.message;
    el.querySelectorAll(".lw-invalid").forEach((node) => {
      node.classList.remove("lw-invalid");
      node.removeAttribute("aria-invalid");
    });
    if (!error.message) return;
    const target = error.layer !== null && error.layer !== undefined
      ? stack.controlFor(error.layer, error.field)
      : optionControls[error.field] || null;
    if (target) {
      target.classList.add("lw-invalid");
      target.setAttribute("aria-invalid", "true");
    }
  }

  function syncBusy() {
    busy.textContent = model.get("busy");
    busy.hidden = !model.get("busy");
  }

  // No kernel behind this view (restarted, shut down, or a saved notebook reopened): say so
  // and disable every control; the figures keep the last view.
  function disconnected() {
    return el.classList.contains("jupyter-widgets-disconnected") ||
      !!el.closest(".jupyter-widgets-disconnected");
  }
  function syncLive() {
    const dead = disconnected();
    gone.hidden = !dead;
    if (dead) waiting.hidden = true;
    for (const control of imageSet.querySelectorAll("input, select, button")) {
      control.disabled = dead;
    }
    pageSelect.disabled = dead;
    histBox.disabled = dead;
    stack.setLocked(dead);
    focus.setLocked(dead);
    draw.setLocked(dead);
    training.setLocked(dead);
  }

  el.replaceChildren(
    h("div", { class: "lw-title", text: "Layer explorer" }),
    gone,
    imageSet,
    draw.el,
    h("div", { class: "lw-stack-title", text: "Layers" }),
    stack.el,
    pageRow,
    histRow,
    focus.el,
    training.el,
    busy,
    waiting,
    errorBox,
    noticeBox,
    stageList,
    timing,
    codeBox,
  );

  stack.sync();
  markError();
  syncOptions();
  syncPages();
  syncStatus();
  syncBusy();
  syncNotice();
  focus.sync();
  draw.sync();
  training.sync();

  model.on("change:schema", () => {
    stack.rebuild();
    markError();
  });
  model.on("change:layers", () => {
    stack.sync();
    markError();
  });
  model.on("change:error", markError);
  model.on("change:notice", syncNotice);
  model.on("change:focus_info", focus.sync);
  model.on("change:stages", focus.sync);
  model.on("change:kernels", () => stack.syncKernels());
  model.on("change:drawing", draw.sync);
  model.on("change:training", training.sync);
  for (const name of ["image_index", "n_images", "label", "pixel_scale", "seed",
    "input_channels", "histograms", "option_schema"]) {
    model.on(`change:${name}`, syncOptions);
  }
  model.on("change:channel_pages", syncPages);
  model.on("change:channel_page", syncPages);
  model.on("change:update_id", syncStatus);
  model.on("change:busy", syncBusy);
  model.on("change:ack", () => flow.acknowledged());
  // ipywidgets marks the view disconnected when its kernel restarts or goes away.
  model.on("comm_live_update", () => setTimeout(syncLive, 0));
  const liveCheck = setTimeout(syncLive, 0);
  return () => {
    flow.dispose();
    clearTimeout(liveCheck);
  };
}

// Once per model, whether or not a view is shown: the kernel's update batches (one message
// carrying every widget's changes) must reach the figures even if the panel is not displayed.
function initialize({ model }) {
  return receiveBatches(model);
}

export default { initialize, render };
