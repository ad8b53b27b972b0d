// Front end of the kernel-free HTML export (vanilla ES module, inlined into the page).
//
// The page's data block holds every precomputed combination of the author's `vary` grid; the
// reader picks values with <select>s and the page shows that combination's pictures and
// captions, all written by the kernel. Everything from the data is shown with textContent.

import { fieldRow, fixedRow, h } from "./dom.js";

const data = JSON.parse(document.getElementById("lw-data").textContent);

// Combinations are stored in row-major order over the controls, the last varying fastest.
const strides = [];
let total = 1;
for (let k = data.controls.length - 1; k >= 0; k--) {
  strides[k] = total;
  total *= data.controls[k].labels.length;
}
const byTarget = new Map(
  data.controls.map((control, k) => [`${control.layer ?? ""}:${control.field}`, k]),
);
const selects = [];

function field(name, value, target) {
  const k = byTarget.get(target);
  if (k === undefined) return fixedRow(name, value);
  const control = data.controls[k];
  const select = h("select", { id: `lw-control-${k}`, name: control.key });
  control.labels.forEach((text, i) => select.append(h("option", { value: String(i), text })));
  select.selectedIndex = control.base;
  select.addEventListener("change", render);
  selects[k] = select;
  return fieldRow(name, select);
}

const panel = document.getElementById("lw-panel");
const labelRow = fixedRow("label", "");
const labelOut = labelRow.querySelector("output");
panel.append(
  h("fieldset", {}, [
    h("legend", { text: "input" }),
    field("image_index", data.options.image_index, ":image_index"),
    labelRow,
    field("seed", data.options.seed, ":seed"),
    field("pixel_scale", data.options.pixel_scale, ":pixel_scale"),
  ]),
);
data.stack.forEach((spec, i) => {
  const set = h("fieldset", {}, [h("legend", { text: `${i + 1}. ${spec.type}` })]);
  for (const [name, value] of spec.fields) set.append(field(name, value, `${i}:${name}`));
  panel.append(set);
});

const errorBox = document.getElementById("lw-error");
const stagesBox = document.getElementById("lw-stages");
const figures = data.combos[data.base].stages.map((stage, i) => {
  const img = h("img", { class: "lw-map" });
  const caption = h("figcaption");
  const figure = h("figure", { "data-stage": String(i) }, [img, caption]);
  stagesBox.append(figure);
  return { img, caption };
});

function current() {
  return selects.reduce((index, select, k) => index + select.selectedIndex * strides[k], 0);
}

function render() {
  const combo = data.combos[current()];
  labelOut.textContent = combo.label === null ? "(none)" : String(combo.label);
  if (combo.error) {
    // As in the live widget: the message, and the last good maps stay (dimmed).
    errorBox.textContent = combo.error;
    errorBox.hidden = false;
    stagesBox.classList.add("lw-stale");
    return;
  }
  errorBox.textContent = "";
  errorBox.hidden = true;
  stagesBox.classList.remove("lw-stale");
  combo.stages.forEach((stage, i) => {
    const picture = data.images[stage.image];
    const { img, caption } = figures[i];
    img.src = picture.src;
    img.width = picture.display[0];
    img.height = picture.display[1];
    img.alt = `feature maps of ${stage.name}`;
    caption.textContent = stage.caption;
  });
}

render();
