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
const noteBox = document.getElementById("lw-note");
const stagesBox = document.getElementById("lw-stages");

// A colour legend: the scale's colours left to right (as the picture was painted) and the
// tick labels the kernel wrote, placed where they belong along it.
function legend() {
  const bar = h("div", { class: "lw-legend-bar" });
  const ticks = h("div", { class: "lw-legend-ticks" });
  const el = h("div", { class: "lw-legend", role: "img" }, [bar, ticks]);
  return {
    el,
    set(info) {
      const colours = data.palettes[info.palette];
      bar.style.background = `linear-gradient(to right, ${colours.join(", ")})`;
      ticks.replaceChildren(...info.ticks.map(([text, at]) => {
        const tick = h("span", { text });
        tick.style.left = `${at * 100}%`;
        tick.classList.toggle("lw-tick-end", at === 1);
        tick.classList.toggle("lw-tick-mid", at > 0 && at < 1);
        return tick;
      }));
      el.setAttribute("aria-label", `colour scale from ${info.ticks[0][0]} to ` +
        `${info.ticks[info.ticks.length - 1][0]}`);
    },
  };
}

const figures = data.combos[data.base].stages.map((stage, i) => {
  const img = h("img", { class: "lw-map" });
  const caption = h("figcaption");
  const scale = legend();
  const figure = h("figure", { "data-stage": String(i) }, [img, scale.el, caption]);
  stagesBox.append(figure);
  return { img, caption, scale };
});

// The focus of the first Conv2D: its channel 0, large, and the kernel of filter 0, printed.
const focusImg = h("img", { class: "lw-map" });
const focusScale = legend();
const kernelTable = h("table", { class: "lw-kernel" });
const focusCaption = h("figcaption");
const focusBox = h("figure", { class: "lw-focus" }, [
  h("div", { class: "lw-focus-row" }, [focusImg, kernelTable]), focusScale.el, focusCaption,
]);
stagesBox.after(focusBox);

function showFocus(focus) {
  focusBox.hidden = !focus;
  if (!focus) return;
  const picture = data.images[focus.image];
  focusImg.src = picture.src;
  focusImg.width = picture.display[0];
  focusImg.height = picture.display[1];
  focusImg.alt = focus.title;
  focusScale.set(focus.legend);
  focusCaption.textContent = focus.title;
  const top = Math.max(...focus.weights.flat().map(Math.abs), 1e-12);
  kernelTable.replaceChildren(...focus.kernel.map((row, r) => h("tr", {}, row.map((text, c) => {
    const cell = h("td", { text });
    const w = focus.weights[r][c] / top; // -1..1: red for negative weights, blue for positive
    cell.style.background = w < 0 ? `rgba(178, 24, 43, ${-w * 0.8})` : `rgba(33, 102, 172, ${w * 0.8})`;
    return cell;
  }))));
}

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
  noteBox.textContent = (combo.notes || []).join(" ");
  noteBox.hidden = !(combo.notes || []).length;
  stagesBox.classList.remove("lw-stale");
  combo.stages.forEach((stage, i) => {
    const picture = data.images[stage.image];
    const { img, caption, scale } = figures[i];
    img.src = picture.src;
    img.width = picture.display[0];
    img.height = picture.display[1];
    img.alt = `feature maps of ${stage.name}`;
    caption.textContent = stage.caption;
    scale.set(stage.legend);
  });
  showFocus(combo.focus);
}

render();
