// Applies an update batch: the state changes of several widgets, sent by the kernel as one
// message of the panel (layerwidget/_transport.py) instead of one message per widget.
//
// Each part goes to its widget model through the same handler a comm message of that widget
// would reach (WidgetModel._handle_comm_msg: buffers put back, state deserialized, set), one
// after the other in the order the kernel made them, so the models end up exactly as if the
// messages had come separately.
//
// A batch also answers an edit: `content.ack` is the number of the last edit it answers. The
// answer is passed on as soon as the batch arrives, before its pictures are decoded and painted,
// so the panel's next edit travels and computes while this one paints. That edit has already
// set its values in the panel's model (the panel shows what it sent), and this batch holds the
// kernel's values from before it: those keys are left out of the panel's part here, and the
// next batch brings the kernel's verdict on them.

const channels = new Map(); // panel id → channel
const unnamed = new WeakMap(); // model → channel, for a model without a panel id

// The per-panel channel between the batches and the panel's flow control. anywidget hands
// `initialize` and `render` different proxies of the same model, so the channel is found by
// the panel's id (a synced trait), not by the object.
export function batchChannel(model) {
  const id = typeof model.get === "function" ? model.get("panel_id") : "";
  let channel = id ? channels.get(id) : unnamed.get(model);
  if (!channel) {
    channel = { onAck: new Set(), sentAt: new Map() }; // sentAt: key → number of its last edit
    if (id) channels.set(id, channel);
    else unnamed.set(model, channel);
  }
  return channel;
}

// `skip(id, key)`: leave out that key of that widget's part (a newer value is on the page).
export async function applyBatch(manager, content, buffers, skip = () => false) {
  const views = (buffers || []).map((b) => (b instanceof DataView ? b : new DataView(b.buffer || b)));
  let offset = 0;
  for (const part of content.updates) {
    let partBuffers = views.slice(offset, offset + part.buffers);
    offset += part.buffers;
    let model;
    try {
      model = await manager.get_model(part.id);
    } catch (err) {
      continue; // a widget closed meanwhile: nothing to update
    }
    if (!model) continue;
    let { state, buffer_paths: paths } = part;
    const kept = paths.map((path) => !skip(part.id, path[0]));
    state = Object.fromEntries(Object.entries(state).filter(([key]) => !skip(part.id, key)));
    paths = paths.filter((_, i) => kept[i]);
    partBuffers = partBuffers.filter((_, i) => kept[i]); // buffer i belongs to path i
    if (!Object.keys(state).length && !paths.length) continue;
    await model._handle_comm_msg({
      content: { data: { method: part.method, state, buffer_paths: paths } },
      buffers: partBuffers,
      parent_header: {},
    });
  }
}

// The keys each update batch set: "widget id key" → the number of the last batch that set it.
function keysOf(content) {
  const keys = [];
  for (const part of content.updates) {
    for (const key of Object.keys(part.state)) keys.push(`${part.id} ${key}`);
    for (const path of part.buffer_paths) keys.push(`${part.id} ${path[0]}`);
  }
  return keys;
}

// After the rendering work of the next frame (its style, layout and paint are done and handed
// to the compositor, which decodes and shows the new pictures without the main thread).
const afterNextFrame = () =>
  new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

// Listen for batches on the panel's model (once per model, whether or not a view is shown).
export function receiveBatches(model) {
  const channel = batchChannel(model);
  let queue = Promise.resolve();
  let later = Promise.resolve();
  let count = 0; // update batches received
  const setBy = new Map(); // "widget id key" → the number of the last update batch setting it
  const onMessage = (content, buffers) => {
    if (!content || content.kind !== "layerwidget-batch") return;
    const ack = typeof content.ack === "number" ? content.ack : null;
    const report = (err) => console.error("layerwidget: could not apply an update", err);
    if (content.later) {
      // What the reader does not see at once (a map's tooltip values) or can see a frame late
      // (tile numbers): after the batches before it have landed and their frame is drawn, so
      // it never delays their paint. Later batches keep their order; the next update's batch
      // does not wait for them, and a key a newer update batch has set already is left out (a
      // fast drag can land the next update before this batch).
      const before = queue;
      const after = count;
      const newer = (id, key) => (setBy.get(`${id} ${key}`) || 0) > after;
      const apply = () => applyBatch(model.widget_manager, content, buffers, newer);
      later = later.then(() => before).then(afterNextFrame).then(apply).catch(report);
      return;
    }
    count += 1;
    for (const key of keysOf(content)) setBy.set(key, count);
    // A key the panel edited after the edit this batch answers holds the newer value.
    const stale = (id, key) =>
      id === content.carrier && ack !== null && (channel.sentAt.get(key) || 0) > ack;
    const apply = () => applyBatch(model.widget_manager, content, buffers, stale);
    // Batches apply strictly in order, each after the previous one has fully landed.
    queue = queue.then(apply).catch(report);
    if (ack !== null) for (const fn of channel.onAck) fn(ack);
  };
  model.on("msg:custom", onMessage);
  // Batches carried by the kernel's idle status of an edit (js/flow.js) land the same way.
  channel.deliver = onMessage;
  return () => {
    model.off("msg:custom", onMessage);
    if (channel.deliver === onMessage) channel.deliver = null;
  };
}
