"""The floor of an edit in this JupyterLab: one round trip that carries the pictures, then their
paint, with no TensorFlow and no bqplot (benchmarks/README.md, the ``floor`` case).

The issue's speed target names its floor: "one round trip plus decoding and painting the
pictures". ``floor_widget()`` is exactly that and nothing more. It is an anywidget whose panel
has a seed box like the explorer's (same selectors, so bench_page.js times it unchanged). An edit
leaves as the same custom message as the panel's. The kernel answers with the stage pictures
that a real 32-filter explorer painted for that seed: the same data: URLs, computed once at
start, and sent as one custom message, again without a busy status (layerwidget's own
``_quiet_edits``). The page sets them as the hrefs of SVG ``<image>`` elements of the explorer's
figure sizes. So the difference between this case and the explorer's seed edit is the kernel's
work (TensorFlow, painting, the widgets' state) plus bqplot's and the panel's work in the page.
"""

from __future__ import annotations

import anywidget
import traitlets

from layerwidget import LayerExplorer
from layerwidget._quiet_edits import quiet_edits_of

STACK = [{"type": "Conv2D", "filters": 32, "kernel_size": 3, "strides": 1, "padding": "same",
          "activation": "linear"}, {"type": "ReLU"},
         {"type": "MaxPool2D", "pool_size": 2, "strides": 2, "padding": "same"}]
SEEDS = (0, 1, 2, 3)

ESM = """
const SVG = "http://www.w3.org/2000/svg";
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "layerwidget";
  root.style.display = "flex";
  root.style.alignItems = "flex-start";
  const panel = document.createElement("div");
  panel.className = "layerwidget-panel";
  const fields = document.createElement("fieldset");
  fields.className = "lw-image";
  const box = document.createElement("input");
  box.type = "number";
  box.dataset.field = "seed";
  box.value = "0";
  const timing = document.createElement("span");
  timing.className = "lw-timing";
  fields.append(box, timing);
  panel.append(fields);
  const views = document.createElement("div");
  const images = model.get("figures").map((f) => {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "layerwidget-stage");
    svg.setAttribute("width", f.fig_w);
    svg.setAttribute("height", f.fig_h);
    svg.style.display = "block";
    const image = document.createElementNS(SVG, "image");
    for (const key of ["x", "y", "width", "height"]) image.setAttribute(key, f[key]);
    image.setAttribute("preserveAspectRatio", "none");
    image.style.imageRendering = "pixelated";
    image.setAttribute("href", f.href);
    svg.append(image);
    views.append(svg);
    return image;
  });
  root.append(panel, views);
  el.append(root);
  let seq = 0;
  box.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    event.stopPropagation();
    seq += 1;
    model.send({ kind: "edit", state: { seed: Number(box.value), edit_seq: seq } });
  });
  const text = new TextDecoder();
  model.on("msg:custom", (msg, buffers) => {
    if (msg.kind !== "layerwidget-batch") return;
    msg.stages.forEach((stage, k) => images[stage].setAttribute("href", text.decode(buffers[k])));
  });
}
export default { render };
"""


class Floor(anywidget.AnyWidget):
    """The seed box and the stage pictures of a 32-filter explorer, answered from a table."""

    _esm = ESM
    figures = traitlets.List().tag(sync=True)

    def __init__(self, pictures: dict[int, list[bytes]], figures: list[dict]):
        super().__init__(figures=figures)
        self._pictures = pictures
        self._shown = SEEDS[0]
        self.on_msg(self._edit)
        quiet_edits_of(self.comm.comm_id)

    def _edit(self, _widget, content, _buffers) -> None:
        if not isinstance(content, dict) or content.get("kind") != "edit":
            return
        state = content["state"]
        seed = int(state["seed"])
        old, new = self._pictures[self._shown], self._pictures[seed]
        stages = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
        self._shown = seed
        self.send({"kind": "layerwidget-batch", "ack": state["edit_seq"], "stages": stages},
                  buffers=[new[i] for i in stages])


def floor_widget() -> Floor:
    """A :class:`Floor` with the pictures a real explorer paints for seeds 0–3."""
    ex = LayerExplorer(layers=STACK)
    _ = ex.stats  # in a kernel the first run waits for the event loop; reading runs it now
    pictures = {}
    for seed in SEEDS:
        ex.seed = seed
        pictures[seed] = [bytes(view._image.image.value) for view in ex._stages.views]
    figures = []
    for view, href in zip(ex._stages.views, pictures[SEEDS[0]], strict=True):
        rows, cols, cell, plot_w = view._geometry[:4]
        margin = view.figure.fig_margin
        figures.append({
            "fig_w": float(view.figure.layout.width.removesuffix("px")),
            "fig_h": float(view.figure.layout.height.removesuffix("px")),
            "x": margin["left"] + (plot_w - cols * cell) / 2, "y": margin["top"],
            "width": cols * cell, "height": rows * cell, "href": href.decode(),
        })
    ex.close()
    return Floor(pictures, figures)
