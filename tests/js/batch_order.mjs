// Node check of js/batch.js: how update batches and "later" batches land on the widget models.
// Run by tests/test_batch_js.py; prints one JSON line with what each fake model received.
import { receiveBatches } from "../../js/batch.js";

globalThis.requestAnimationFrame = (fn) => setTimeout(fn, 5);

const received = {}; // id → list of {state, paths, buffers}
const fakeModel = (id) => ({
  async _handle_comm_msg(msg) {
    const { state, buffer_paths: paths } = msg.content.data;
    (received[id] = received[id] || []).push({
      state, paths, buffers: msg.buffers.map((b) => b.getUint8(0)) });
  },
});
const models = { panel: fakeModel("panel"), labels: fakeModel("labels"), cells: fakeModel("cells"),
  picture: fakeModel("picture") };
let onCustom = null;
const panel = {
  widget_manager: { get_model: async (id) => models[id] },
  on: (name, fn) => { if (name === "msg:custom") onCustom = fn; },
  off: () => {},
};
receiveBatches(panel);

const part = (id, state, paths = [], buffers = 0) =>
  ({ id, method: "update", state, buffer_paths: paths, buffers });
const buf = (n) => new DataView(new Uint8Array([n]).buffer);
const batch = (updates, extra = {}) => ({ kind: "layerwidget-batch", carrier: "panel", updates, ...extra });

// Update 1 empties the tile numbers; its later batch draws them and the cells' values.
onCustom(batch([part("picture", {}, [["value"]], 1), part("labels", { text: [] }),
  part("panel", { ack: 1 })], { ack: 1 }), [buf(1)]);
// (Its picture part has two binary keys; update 2 sets the first one again.)
onCustom(batch([part("labels", { text: ["0", "1"] }), part("cells", { color: "c1" }),
  part("picture", {}, [["value"], ["other"]], 2)], { later: true }), [buf(7), buf(8)]);
// Update 2 lands before that later batch (a fast drag): it empties the numbers again.
onCustom(batch([part("picture", {}, [["value"]], 1), part("labels", { text: [] }),
  part("panel", { ack: 2 })], { ack: 2 }), [buf(2)]);
onCustom(batch([part("labels", { text: ["0", "1", "2"] })], { later: true }), []);

await new Promise((resolve) => setTimeout(resolve, 100));
console.log(JSON.stringify(received));
