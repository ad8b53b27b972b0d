"""Kernel-free HTML export: one self-contained page with the explorer's maps, precomputed.

A teacher puts the page on a course site; a student opens it offline, from ``file://``, with no
kernel. The page stays explorable because every combination of a grid of parameter values the
author chooses (``vary``) is computed here, with the real tf.keras layers, and stored in the page:
each stage as a small PNG, the reader switching among them with ``<select>`` controls.

It runs stacks with :mod:`layerwidget.pipeline` and paints each stage with
:mod:`layerwidget.render`, the same NumPy + zlib code that paints the live widget's maps (no
Pillow), so the page shows what the widget shows; no notebook and no browser are needed.

Command line::

    python -m layerwidget.export OUT.html [--layers JSON] [--vary filters=3,5,8] ...
"""

from __future__ import annotations

import argparse
import base64
import difflib
import hashlib
import html
import itertools
import json
import logging
import math
import numbers
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .data import PIXEL_SCALES, ImageSet, as_image_set, sample_digits
from .errors import ImageError, LayerSpecError, LayerWidgetError
from .layers import DEFAULT_STACK, normalize_stack, stack_shapes
from .pipeline import Pipeline
from .render import paint, picture_notes, stage_title

__all__ = ["DEFAULT_VARY", "MAX_COMBINATIONS", "ExportReport", "ExportTooLargeError",
           "export_html", "main"]

log = logging.getLogger(__name__)

MAX_COMBINATIONS = 256
"""Most parameter combinations one page may hold; each is computed and stored."""
DEFAULT_VARY: dict[str, list] = {"filters": [3, 5, 8], "kernel_size": [3, 5], "strides": [1, 2]}
"""What ``vary=None`` varies: each of these fields the stack has."""
OPTIONS = ("image_index", "seed", "pixel_scale")
"""``vary`` keys that are not layer fields."""

_MAX_SEED = 2**32 - 1
MNIST_ATTRIBUTION = "MNIST by Yann LeCun, Corinna Cortes and Christopher J. C. Burges, CC BY-SA 3.0"

# Largest displayed size of one map cell and of a stage image, in CSS pixels (as the widget).
_MAX_CELL_PX, _MAX_IMG_W, _MAX_IMG_H = 11, 420, 300


class ExportTooLargeError(LayerWidgetError):
    """The grid has too many combinations, or the page would exceed its size budget."""


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export_html` wrote.

    Attributes
    ----------
    path : pathlib.Path
        The HTML file.
    bytes : int
        Its size.
    combinations : int
        How many parameter combinations it holds (valid or not).
    invalid_combinations : int
        How many of them show an error message instead of maps.
    """

    path: Path
    bytes: int
    combinations: int
    invalid_combinations: int


# ---- the grid of parameter values ----


@dataclass(frozen=True)
class _Control:
    """One varied parameter: where it applies and the values the reader picks from."""

    key: str
    layer: int | None  # None for image_index, seed, pixel_scale
    field: str
    values: tuple
    base: int  # index in ``values`` of the author's own value

    def to_json(self) -> dict:
        return {"key": self.key, "layer": self.layer, "field": self.field,
                "labels": [_show(v) for v in self.values], "base": self.base}


def _show(value: Any) -> str:
    """A field value as the page shows it (Python spelling: None, not null)."""
    return value if isinstance(value, str) else repr(value)


def _plain(value: Any) -> Any:
    """NumPy scalars as Python ones, so values compare, print and go to JSON as users expect."""
    return value.item() if isinstance(value, np.generic) else value


def _allowed_keys(stack: list[dict]) -> list[str]:
    names = list(dict.fromkeys(f for spec in stack for f in spec if f != "type"))
    indexed = [f"{i}.{f}" for i, spec in enumerate(stack) for f in spec if f != "type"]
    return names + indexed + list(OPTIONS)


def _resolve_key(key: Any, stack: list[dict]) -> tuple[int | None, str]:
    """(layer index or None, field) that a ``vary`` key names, or a LayerSpecError with the fix."""
    allowed = _allowed_keys(stack)
    if not isinstance(key, str):
        raise LayerSpecError(f"vary key {key!r} is not text; use one of {', '.join(allowed)}.")
    if key in OPTIONS:
        return None, key
    head, dot, field = key.partition(".")
    if dot and head.isdigit():
        i = int(head)
        if i >= len(stack):
            raise LayerSpecError(
                f"vary key {key!r} names layer {i}, but the stack's layers are numbered 0 to "
                f"{len(stack) - 1} (0-based); use one of {', '.join(allowed)}.", field=key)
        names = [f for f in stack[i] if f != "type"]
        if field not in names:
            close = difflib.get_close_matches(field, names, n=1)
            hint = f" Did you mean '{i}.{close[0]}'?" if close else ""
            raise LayerSpecError(
                f"vary key {key!r}: {stack[i]['type']} (layer {i}) has no field {field!r}; its "
                f"fields are {', '.join(names)}.{hint}", layer=i, field=key)
        return i, field
    for i, spec in enumerate(stack):
        if key != "type" and key in spec:
            return i, key
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise LayerSpecError(
        f"vary has an unknown key {key!r}; use a field of the stack (the first layer with it), "
        f"'<i>.<field>' for layer i counted from 0, or an option: {', '.join(allowed)}.{hint}",
        field=key)


def _check_option(name: str, value: Any, n_images: int) -> Any:
    """A valid image_index, seed or pixel_scale, or a ValueError naming the fix."""
    if name == "pixel_scale":
        if value not in PIXEL_SCALES:
            raise ValueError(f"pixel_scale={value!r} is not allowed; use 'raw' (pixels 0–255 as "
                             "stored) or 'unit' (divided by 255 to 0–1).")
        return value
    hi, error = (n_images - 1, ImageError) if name == "image_index" else (_MAX_SEED, ValueError)
    fix = (f"there are {n_images:,} images, so use 0 to {hi}." if name == "image_index"
           else f"use a whole number from 0 to {hi}.")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise error(f"{name}={value!r} is not a whole number; {fix}")
    if not 0 <= int(value) <= hi:
        raise error(f"{name}={value} is out of range; {fix}")
    return int(value)


def _values(key: str, values: Any) -> list:
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if not isinstance(values, (list, tuple, range)):
        raise LayerSpecError(
            f"vary[{key!r}] is {type(values).__name__} {values!r:.60}; give a list of values, "
            f"e.g. vary={{{key!r}: [3, 5]}}.", field=key)
    values = [_plain(v) for v in values]
    if not values:
        raise LayerSpecError(f"vary[{key!r}] is empty; give at least one value, or leave "
                             f"{key!r} out of vary to keep the stack's value.", field=key)
    for v in values:
        if v is not None and not isinstance(v, (str, numbers.Real)):
            raise LayerSpecError(f"vary[{key!r}] holds {v!r} ({type(v).__name__}); its values "
                                 "must be numbers, text or None.", field=key)
    for i, v in enumerate(values):
        if any(_same(v, w) for w in values[:i]):
            raise LayerSpecError(f"vary[{key!r}] lists {v!r} twice; list each value once.",
                                 field=key)
    return values


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    """Equal as a reader means it: 3 and 3.0 are, True and 1 are not."""
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def _with_base(values: list, base: Any) -> tuple[tuple, int]:
    """The values with the author's own value among them; numbers sorted as a reader expects.

    A listed value equal to the author's (0 for 0.0) takes the author's spelling, so the first
    view is exactly the one given.
    """
    values = [base if _same(v, base) else v for v in values]
    if not any(v is base for v in values):
        values = [base, *values]
    if all(_is_number(v) for v in values):
        values = sorted(values)
    return tuple(values), next(i for i, v in enumerate(values) if v is base)


def _controls(vary: dict, stack: list[dict], options: dict, n_images: int) -> list[_Control]:
    if not isinstance(vary, dict):
        raise LayerSpecError(
            f"vary is {type(vary).__name__}; give a dict of parameter -> list of values, e.g. "
            '{"filters": [3, 5, 8], "kernel_size": [3, 5]}.')
    controls, targets = [], {}
    for key, values in vary.items():
        layer, field = _resolve_key(key, stack)
        if (layer, field) in targets:
            raise LayerSpecError(
                f"vary keys {targets[(layer, field)]!r} and {key!r} name the same field; keep "
                "one of them.", layer=layer, field=key)
        targets[(layer, field)] = key
        values = _values(key, values)
        if layer is None:
            values = [_check_option(field, v, n_images) for v in values]
            base = options[field]
        else:
            base = stack[layer][field]
        values, index = _with_base(values, base)
        controls.append(_Control(key, layer, field, values, index))
    return controls


def _default_vary(stack: list[dict]) -> dict:
    present = {f for spec in stack for f in spec}
    return {k: list(v) for k, v in DEFAULT_VARY.items() if k in present}


# ---- the pictures ----


def _display_size(width: int, height: int) -> list[int]:
    """CSS size of a stage image: whole-pixel upscaling (crisp cells), within the widget's box."""
    scale = min(_MAX_CELL_PX, _MAX_IMG_W / width, _MAX_IMG_H / height)
    scale = math.floor(scale) if scale >= 1 else 1
    return [width * scale, height * scale]


class _ImageStore:
    """PNG data URLs stored once each: the same picture in many combinations costs nothing."""

    def __init__(self):
        self.images: list[dict] = []
        self._index: dict[str, int] = {}
        self.bytes = 0

    def add(self, png: bytes, width: int, height: int) -> int:
        digest = hashlib.sha256(png).hexdigest()
        if digest not in self._index:
            src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            self._index[digest] = len(self.images)
            self.images.append({"src": src, "width": width, "height": height,
                                "display": _display_size(width, height)})
            self.bytes += len(src)
        return self._index[digest]


def _number(value: float) -> float | None:
    """JSON has no inf or NaN: those become null (the caption still spells them)."""
    return value if math.isfinite(value) else None


def _label_json(label: Any) -> Any:
    label = _plain(label)
    if label is None or isinstance(label, (str, bool, int)):
        return label
    if isinstance(label, float) and math.isfinite(label):
        return label
    return str(label)


def _combination(run, store: _ImageStore, image_index: int, label: Any) -> dict:
    """The JSON of one valid combination: per stage its caption, facts and picture.

    Each stage is painted by :func:`layerwidget.render.paint`, as the live widget paints its
    first channel page: same mosaic, gutters, colour scales and draw step.
    """
    stages = []
    arrays = [run.input, *run.outputs]
    for i, (array, stats) in enumerate(zip(arrays, run.stats)):
        maps = array[0]
        picture = paint(maps, diverging=False if i == 0 else None)  # the input is always grey
        name = "input" if i == 0 else f"{i}. {stats.name}"
        extra = f" · label {label}" if i == 0 and label is not None else ""
        caption = stage_title(name, stats.shape, stats.min, stats.max, extra)
        notes = picture_notes(picture, maps.shape[-1])  # the widget's figure titles say the same
        caption += "".join(f"  ·  {note}" for note in notes)
        channels = next((n for n in notes if n.startswith("channels")), "")
        height, width = picture.layout.size
        stages.append({
            "name": name, "shape": list(stats.shape), "min": _number(stats.min),
            "max": _number(stats.max), "caption": caption, "channels": channels,
            "step": picture.step, "image": store.add(picture.png, width, height),
        })
    return {"image_index": image_index, "label": _label_json(label), "error": None,
            "stages": stages}


def _is_sample(images: ImageSet) -> bool:
    """Whether the images are the embedded MNIST digits (so the page must credit MNIST)."""
    pixels, labels = sample_digits()
    return (images.pixels.shape == (*pixels.shape, 1) and images.labels is not None
            and np.array_equal(images.pixels[..., 0], pixels)
            and np.array_equal(images.labels, labels))


# ---- the page ----


def _script_json(payload: dict) -> str:
    """JSON safe inside a <script> element: no text in it can end the element or open a comment."""
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "\\u003c!--")


_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'")

_CSS = """
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1f1f1f; --muted: #5f5f5f; --border: #d0d0d0; --panel: #f6f6f6;
  --control: #ffffff; --error-bg: #fdecea; --error-fg: #8a1c1c; --error-border: #e0a0a0;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111111; --fg: #e8e8e8; --muted: #a8a8a8; --border: #444444; --panel: #1c1c1c;
    --control: #262626; --error-bg: #3a1414; --error-fg: #ffb4ab; --error-border: #7a2b2b;
  }
}
* { box-sizing: border-box; }
body { margin: 1.25rem; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 1.3rem; margin: 0 0 1rem; }
.lw-main { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.lw-aside { flex: 0 0 300px; max-width: 100%; }
.lw-panel { padding: 0.5rem; background: var(--panel);
  border: 1px solid var(--border); border-radius: 4px; }
.lw-panel fieldset { margin: 0 0 0.5rem; padding: 0.25rem 0.5rem 0.4rem;
  border: 1px solid var(--border); border-radius: 4px; }
.lw-panel legend { font-weight: 600; padding: 0 0.25rem; }
.lw-field { display: grid; grid-template-columns: 120px 1fr; align-items: center;
  margin: 0.2rem 0; }
.lw-name { color: var(--muted); }
.lw-panel select { font: inherit; color: var(--fg); background: var(--control);
  border: 1px solid var(--border); border-radius: 3px; padding: 1px 4px; }
.lw-view { flex: 1 1 400px; min-width: 0; }
.lw-error { margin: 0 0 0.75rem; padding: 0.4rem 0.6rem; color: var(--error-fg);
  background: var(--error-bg); border: 1px solid var(--error-border); border-radius: 4px; }
.lw-error[hidden] { display: none; }
.lw-stages { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: flex-start; }
.lw-stages.lw-stale figure { opacity: 0.35; }
figure { margin: 0; padding: 0.4rem; min-width: 300px; max-width: 100%;
  border: 1px solid var(--border); border-radius: 4px; text-align: center; }
figure img { display: block; margin: 0 auto 0.3rem; max-width: 100%; height: auto;
  outline: 1px solid var(--border); image-rendering: crisp-edges; image-rendering: pixelated; }
figcaption { font-size: 0.85rem; white-space: pre-wrap; }
footer { margin-top: 1.5rem; color: var(--muted); font-size: 0.8rem; }
"""

_JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("lw-data").textContent);

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function showLabel(value) {
    return value === null ? "(none)" : String(value);
  }

  // Combinations are stored in row-major order over the controls, the last varying fastest.
  var strides = [];
  var total = 1;
  for (var k = data.controls.length - 1; k >= 0; k--) {
    strides[k] = total;
    total *= data.controls[k].labels.length;
  }
  var selects = [];
  var byTarget = {};
  data.controls.forEach(function (control, k) {
    byTarget[(control.layer === null ? "" : control.layer) + ":" + control.field] = k;
  });

  function field(parent, name, value, target) {
    var row = make("div", "lw-field");
    var k = byTarget[target];
    if (k === undefined) {
      row.appendChild(make("span", "lw-name", name));
      var out = make("span", "lw-value", value);
      row.appendChild(out);
      parent.appendChild(row);
      return out;
    }
    var control = data.controls[k];
    var select = make("select");
    select.id = "lw-control-" + k;
    select.name = control.key;
    control.labels.forEach(function (text, i) {
      var option = make("option", null, text);
      option.value = String(i);
      select.appendChild(option);
    });
    select.selectedIndex = control.base;
    select.addEventListener("change", render);
    selects[k] = select;
    var label = make("label", "lw-name", name);
    label.htmlFor = select.id;
    row.appendChild(label);
    row.appendChild(select);
    parent.appendChild(row);
    return select;
  }

  var panel = document.getElementById("lw-panel");
  var input = make("fieldset");
  input.appendChild(make("legend", null, "input"));
  field(input, "image_index", data.options.image_index, ":image_index");
  var labelOut = field(input, "label", "", "label");
  field(input, "seed", data.options.seed, ":seed");
  field(input, "pixel_scale", data.options.pixel_scale, ":pixel_scale");
  panel.appendChild(input);
  data.stack.forEach(function (spec, i) {
    var set = make("fieldset");
    set.appendChild(make("legend", null, (i + 1) + ". " + spec.type));
    spec.fields.forEach(function (pair) {
      field(set, pair[0], pair[1], i + ":" + pair[0]);
    });
    panel.appendChild(set);
  });
  var errorBox = document.getElementById("lw-error");

  var stagesBox = document.getElementById("lw-stages");
  var figures = data.combos[data.base].stages.map(function (stage, i) {
    var figure = make("figure");
    figure.dataset.stage = String(i);
    var img = make("img", "lw-map");
    var caption = make("figcaption");
    figure.appendChild(img);
    figure.appendChild(caption);
    stagesBox.appendChild(figure);
    return {img: img, caption: caption};
  });

  function current() {
    var index = 0;
    selects.forEach(function (select, k) { index += select.selectedIndex * strides[k]; });
    return index;
  }

  function render() {
    var combo = data.combos[current()];
    labelOut.textContent = showLabel(combo.label);
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
    combo.stages.forEach(function (stage, i) {
      var picture = data.images[stage.image];
      var view = figures[i];
      view.img.src = picture.src;
      view.img.width = picture.display[0];
      view.img.height = picture.display[1];
      view.img.alt = "feature maps of " + stage.name;
      view.caption.textContent = stage.caption;
    });
  }

  render();
})();
"""


def _page(payload: dict, title: str, footer: list[str]) -> str:
    lines = "".join(f"<p>{html.escape(line)}</p>" for line in footer)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        # An empty icon: otherwise the browser asks for /favicon.ico, which the CSP refuses.
        "<link rel=\"icon\" href=\"data:,\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        "<noscript><p>This page needs JavaScript to show the feature maps.</p></noscript>\n"
        "<div class=\"lw-main\">\n"
        "<aside class=\"lw-aside\"><form id=\"lw-panel\" class=\"lw-panel\" "
        "aria-label=\"layer stack\" onsubmit=\"return false\"></form></aside>\n"
        # Above the maps, where the reader looks after a change, however long the panel is.
        "<div class=\"lw-view\"><div id=\"lw-error\" class=\"lw-error\" role=\"alert\" hidden>"
        "</div>\n<section id=\"lw-stages\" class=\"lw-stages\" aria-label=\"stages\"></section>"
        "</div>\n</div>\n"
        f"<footer>{lines}</footer>\n"
        f"<script type=\"application/json\" id=\"lw-data\">{_script_json(payload)}</script>\n"
        f"<script>{_JS}</script>\n</body>\n</html>\n"
    )


# ---- export ----


def export_html(path, *, layers=None, images=None, labels=None, image_set: ImageSet | None = None,
                image_index: int = 0, seed: int = 0, pixel_scale: str = "raw",
                vary: dict | None = None, title: str | None = None,
                max_bytes: int = 5_000_000) -> ExportReport:
    """Write one self-contained HTML page showing a layer stack's maps, explorable offline.

    Every combination of the ``vary`` grid is run with the real tf.keras layers and stored in
    the page as pictures; the reader switches among them with select controls. The page loads
    nothing (no network, no kernel, no CDN) and opens from ``file://``.

    Parameters
    ----------
    path : str or os.PathLike
        Where to write the page (overwritten).
    layers : list of dict, optional
        The stack, as ``LayerExplorer`` takes it. Default: Conv2D(3) → ReLU → MaxPool2D(2, 2).
    images, labels : array-like, optional
        As ``LayerExplorer`` takes them. Default: the embedded MNIST digits and labels.
    image_set : ImageSet, optional
        Already validated images (what an explorer holds), instead of ``images``/``labels``.
    image_index : int, default 0
        The image shown first.
    seed : int, default 0
        Seed of the weights shown first.
    pixel_scale : {'raw', 'unit'}, default 'raw'
        Pixel scale shown first.
    vary : dict, optional
        Parameter -> list of values to precompute, e.g. ``{"filters": [3, 5, 8]}``. A key is a
        layer field (of the first layer that has it), ``"<i>.<field>"`` for layer ``i``
        counted from 0 (``"2.pool_size"``), or ``image_index``, ``seed``, ``pixel_scale``. The
        value of the arguments above is added to its list when missing, so the first view is
        always the one given. Default: ``{"filters": [3, 5, 8], "kernel_size": [3, 5],
        "strides": [1, 2]}``, each where the stack has that field. ``{}``: a single view.
    title : str, optional
        Page title. Default: "layerwidget: " and the layer types.
    max_bytes : int, default 5_000_000
        Size budget of the page.

    Returns
    -------
    ExportReport
        Path, size in bytes, number of combinations and of invalid ones.

    Raises
    ------
    LayerSpecError
        The stack itself is invalid for the image, or a ``vary`` key or list is (the message
        lists the allowed keys and suggests a close one).
    ImageError, ValueError
        Bad images, labels, image_index, seed or pixel_scale.
    ExportTooLargeError
        More than MAX_COMBINATIONS combinations (nothing is computed), or a page larger than
        ``max_bytes`` (nothing is written).

    Notes
    -----
    A combination whose fields are invalid, or whose shapes are impossible, is stored with its
    error message and the page shows that message when the reader picks it, as the live widget
    would. Pictures repeated across combinations (the input, typically) are stored once.
    """
    start = time.perf_counter()
    path = Path(path)
    if not path.parent.is_dir():  # say so now, not after computing the whole grid
        raise FileNotFoundError(f"cannot write {path}: the folder {path.parent} does not exist; "
                                "create it first.")
    if image_set is not None:
        if images is not None or labels is not None:
            raise TypeError("export_html() takes either image_set or images/labels, not both.")
        if not isinstance(image_set, ImageSet):
            raise TypeError(f"image_set is {type(image_set).__name__}; pass an ImageSet (from "
                            "layerwidget.as_image_set), or images=... and labels=... instead.")
    else:
        image_set = as_image_set(images, labels)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, numbers.Integral) or max_bytes < 1:
        raise ValueError(f"max_bytes={max_bytes!r} is not allowed; use a positive whole number "
                         "of bytes, e.g. 5_000_000.")
    options = {name: _check_option(name, value, len(image_set)) for name, value in
               (("image_index", image_index), ("seed", seed), ("pixel_scale", pixel_scale))}
    base_stack = normalize_stack([dict(s) for s in DEFAULT_STACK] if layers is None else layers)
    stack_shapes(base_stack, image_set.shape)
    if title is None:
        title = "layerwidget: " + " → ".join(s["type"] for s in base_stack)
    elif not isinstance(title, str):
        raise TypeError(f"title is {type(title).__name__}; pass text, or None for the default.")

    controls = _controls(_default_vary(base_stack) if vary is None else vary, base_stack,
                         options, len(image_set))
    count = math.prod(len(c.values) for c in controls)
    if count > MAX_COMBINATIONS:
        sizes = " × ".join(f"{len(c.values)} {c.key}" for c in controls)
        raise ExportTooLargeError(
            f"vary makes {sizes} = {count:,} combinations, more than the {MAX_COMBINATIONS} one "
            "page may hold; give fewer values (the stack's own value counts as one).")

    pipeline = Pipeline()  # one for the whole grid: combinations share built layers
    store = _ImageStore()
    combos, invalid = [], 0
    base_index = sum(c.base * math.prod(len(d.values) for d in controls[k + 1:])
                     for k, c in enumerate(controls))
    for n, picks in enumerate(itertools.product(*(range(len(c.values)) for c in controls))):
        combo_options = dict(options)
        specs = [dict(s) for s in base_stack]
        for control, pick in zip(controls, picks):
            if control.layer is None:
                combo_options[control.field] = control.values[pick]
            else:
                specs[control.layer][control.field] = control.values[pick]
        index = combo_options["image_index"]
        label = image_set.label(index)
        try:
            stack = normalize_stack(specs)
            x = image_set.input(index, combo_options["pixel_scale"])
            run = pipeline.run(stack, x, seed=combo_options["seed"])
        except LayerSpecError as exc:
            if n == base_index:
                raise
            combos.append({"image_index": index, "label": _label_json(label),
                           "error": str(exc), "stages": []})
            invalid += 1
            continue
        except Exception as exc:  # a TensorFlow failure is the reader's message, as in the widget
            if n == base_index:
                raise
            log.debug("combination %d failed in TensorFlow", n, exc_info=True)
            combos.append({"image_index": index, "label": _label_json(label),
                           "error": f"TensorFlow failed to run the stack: {exc}", "stages": []})
            invalid += 1
            continue
        combos.append(_combination(run, store, index, label))
        if store.bytes > max_bytes:  # already over budget: stop computing, say so now
            raise ExportTooLargeError(
                f"the page would be larger than {store.bytes:,} bytes (its pictures alone, after "
                f"{n + 1} of {count} combinations), over max_bytes={max_bytes:,}; give vary fewer "
                "values, use a smaller image or fewer filters, or raise max_bytes.")

    footer = []
    if _is_sample(image_set):
        footer.append(MNIST_ATTRIBUTION)
    # Imported here: the package's __init__ may import this module before it sets __version__.
    from . import __version__

    footer.append(f"made with layerwidget {__version__}")
    payload = {
        "title": title,
        # Shown as text, spelled as in Python (0.0, None), as the stack is written in a notebook.
        "stack": [{"type": spec["type"],
                   "fields": [[k, _show(v)] for k, v in spec.items() if k != "type"]}
                  for spec in base_stack],
        "options": {k: _show(v) for k, v in options.items()},
        "controls": [c.to_json() for c in controls], "base": base_index,
        "images": store.images, "combos": combos,
    }
    page = _page(payload, title, footer).encode("utf-8")
    if len(page) > max_bytes:
        raise ExportTooLargeError(
            f"the page would be {len(page):,} bytes, over max_bytes={max_bytes:,}; give vary "
            "fewer values, use a smaller image or fewer filters, or raise max_bytes.")
    _write_atomically(path, page)
    log.debug("exported %d combinations (%d invalid, %d pictures) to %s in %.2f s", count,
              invalid, len(store.images), path, time.perf_counter() - start)
    return ExportReport(path, len(page), count, invalid)


def _write_atomically(path: Path, content: bytes) -> None:
    """Write via a temporary file in the same folder, so a failure never leaves half a page."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---- command line ----


class _UsageError(Exception):
    """A command-line mistake argparse found; main() reports it in one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print the usage block and exit itself
        raise _UsageError(f"{message} (see --help)")


def _scalar(text: str) -> Any:
    """A --vary value: int, else float, else None for 'None', else the text itself."""
    text = text.strip()
    if text in ("None", "none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _parse_vary(items: list[str] | None) -> dict | None:
    if not items:
        return None
    vary = {}
    for item in items:
        key, eq, values = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise _UsageError(f"--vary {item!r} needs the form key=v1,v2,… (e.g. filters=3,5,8)")
        if key in vary:
            raise _UsageError(f"--vary names {key!r} twice; give all its values at once, "
                              f"e.g. {key}=3,5")
        vary[key] = [_scalar(v) for v in values.split(",")] if values.strip() else []
    return vary


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m layerwidget.export",
        description="Write a self-contained HTML page with a layer stack's feature maps for a "
                    "grid of parameter values; it opens offline, with no kernel.")
    parser.add_argument("out", help="the .html file to write")
    parser.add_argument("--layers", metavar="JSON",
                        help='the stack as JSON, e.g. \'[{"type": "Conv2D", "filters": 5}]\' '
                             "(default: Conv2D → ReLU → MaxPool2D)")
    parser.add_argument("--vary", action="append", metavar="KEY=V1,V2",
                        help="values to precompute for one parameter; repeat for more "
                             "(default: filters=3,5,8 kernel_size=3,5 strides=1,2)")
    parser.add_argument("--no-vary", action="store_true", help="a single view, nothing varied")
    parser.add_argument("--image-index", type=int, default=0, metavar="N")
    parser.add_argument("--seed", type=int, default=0, metavar="N")
    parser.add_argument("--pixel-scale", choices=PIXEL_SCALES, default="raw")
    parser.add_argument("--title", metavar="T")
    parser.add_argument("--max-bytes", type=int, default=5_000_000, metavar="N")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0, or 2 after a one-line error)."""
    prog = "layerwidget.export"
    try:
        args = _parser().parse_args(argv)
        layers = None
        if args.layers is not None:
            try:
                layers = json.loads(args.layers)
            except json.JSONDecodeError as exc:
                raise _UsageError(f"--layers is not valid JSON ({exc}); e.g. "
                                  '\'[{"type": "Conv2D", "filters": 5}]\'') from None
        vary = {} if args.no_vary else _parse_vary(args.vary)
        report = export_html(args.out, layers=layers, image_index=args.image_index,
                             seed=args.seed, pixel_scale=args.pixel_scale, vary=vary,
                             title=args.title, max_bytes=args.max_bytes)
    except (_UsageError, LayerWidgetError, ValueError, TypeError, OSError) as exc:
        message = " ".join(str(exc).split())
        sys.stderr.write(f"{prog}: error: {message}\n")
        return 2
    invalid = f", {report.invalid_combinations} invalid" if report.invalid_combinations else ""
    sys.stdout.write(f"{report.path}: {report.bytes:,} bytes, {report.combinations} "
                     f"combination{'s' if report.combinations != 1 else ''}{invalid}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
