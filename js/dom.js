// DOM helpers shared by the panel (widget.js) and the exported page (export.js).
// Text from the model or the page's data is always set with textContent, never parsed as HTML.

// h("div", { class: "x", text: "hello", "aria-label": "..." }, [children]) -> element
export function h(tag, props = {}, children = []) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key in el && !key.startsWith("aria") && !key.startsWith("data")) el[key] = value;
    else el.setAttribute(key, value);
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

// A labelled control in a row, as both the panel and the page lay out a layer's fields.
// `forId` names the element the label describes (default: the control itself).
export function fieldRow(labelText, control, forId = control.id) {
  const label = h("label", { text: labelText });
  if (forId) label.htmlFor = forId;
  return h("div", { class: "lw-field" }, [label, control]);
}

// The same row for a value the reader cannot change.
export function fixedRow(labelText, valueText) {
  return h("div", { class: "lw-field" }, [
    h("span", { class: "lw-name", text: labelText }),
    h("output", { class: "lw-value", text: valueText }),
  ]);
}
