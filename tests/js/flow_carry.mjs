// Node check of js/flow.js with js/batch.js: one edit in flight, its answer found through the
// channel anywidget's two proxies of one model share (initialize and render get different
// objects), and an answer carried by the kernel's idle status landing like a custom message.
// Run by tests/test_batch_js.py; prints one JSON line.
import { receiveBatches } from "../../js/batch.js";
import { createFlow } from "../../js/flow.js";

globalThis.requestAnimationFrame = (fn) => setTimeout(fn, 5);

const received = []; // states the panel's model received from batches
const attrs = { panel_id: "p1", edit_seq: 0, ack: 0 };
const handlers = {};
const sent = []; // {content, callbacks}
const real = {
  get: (k) => attrs[k],
  set: (k, v) => { attrs[k] = v; },
  send: (content, callbacks) => sent.push({ content, callbacks }),
  on: (name, fn) => { (handlers[name] = handlers[name] || []).push(fn); },
  off: () => {},
  widget_manager: {
    get_model: async () => ({
      async _handle_comm_msg(msg) { received.push(msg.content.data.state); },
    }),
  },
};
// What anywidget hands each hook: a fresh object over the same model.
const proxy = () => ({ ...real });
receiveBatches(proxy());
const answers = [];
const flow = createFlow(proxy(), { onAnswer: () => answers.push(attrs.ack) });

const batch = (ack, seed) => ({ kind: "layerwidget-batch", carrier: "panel", ack,
  updates: [{ id: "panel", method: "update", state: { ack, seed }, buffer_paths: [], buffers: 0 }] });
const custom = (content, buffers = []) => handlers["msg:custom"].forEach((fn) => fn(content, buffers));
const idle = (i, batches) => sent[i].callbacks.iopub.status({
  header: { msg_type: "status" },
  content: { execution_state: "idle", ...(batches ? { layerwidget_batches: batches } : {}) },
  buffers: [],
});
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

flow.send("seed", 1);
flow.send("seed", 2); // waits: one edit in flight
const before = sent.length;
custom(batch(1, 1)); // the answer to edit 1, as a custom message
await tick();
const afterFirst = sent.length; // edit 2 left on that answer (found through the channel)
idle(0); // edit 1's idle: the page now asks for answers on idle statuses
custom(batch(2, 2));
idle(1);
await tick();
flow.send("seed", 3); // leaves at once, asking for its answer on its idle status
idle(2, [{ ...batch(3, 3), buffers: 0 }]); // which carries it
flow.send("seed", 4); // waits for that answer...
await tick();
console.log(JSON.stringify({
  before, afterFirst, final: sent.length, answers,
  carry: sent.map((s) => Boolean(s.content.carry)),
  seeds: sent.map((s) => s.content.state.seed),
  received,
}));
process.exit(0); // the flow's watchdog for the last edit would keep Node waiting 15 s
