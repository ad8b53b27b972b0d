// Applies an update batch: the state changes of several widgets, sent by the kernel as one
// message of the panel (layerwidget/_transport.py) instead of one message per widget.
//
// Each part goes to its widget model through the same handler a comm message of that widget
// would reach (WidgetModel._handle_comm_msg: buffers put back, state deserialized, set), one
// after the other in the order the kernel made them, so the models end up exactly as if the
// messages had come separately.

export async function applyBatch(manager, content, buffers) {
  const views = (buffers || []).map((b) => (b instanceof DataView ? b : new DataView(b.buffer || b)));
  let offset = 0;
  for (const part of content.updates) {
    const partBuffers = views.slice(offset, offset + part.buffers);
    offset += part.buffers;
    let model;
    try {
      model = await manager.get_model(part.id);
    } catch (err) {
      continue; // a widget closed meanwhile: nothing to update
    }
    if (!model) continue;
    await model._handle_comm_msg({
      content: {
        data: { method: part.method, state: part.state, buffer_paths: part.buffer_paths },
      },
      buffers: partBuffers,
      parent_header: {},
    });
  }
}

// Listen for batches on the panel's model (once per model, whether or not a view is shown).
export function receiveBatches(model) {
  let queue = Promise.resolve();
  const onMessage = (content, buffers) => {
    if (!content || content.kind !== "layerwidget-batch") return;
    // Batches apply strictly in order, each after the previous one has fully landed.
    queue = queue
      .then(() => applyBatch(model.widget_manager, content, buffers))
      .catch((err) => console.error("layerwidget: could not apply an update", err));
  };
  model.on("msg:custom", onMessage);
  return () => model.off("msg:custom", onMessage);
}
