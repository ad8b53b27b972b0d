"""The exported page: pictures stored once each, the data block, and the HTML around them.

The page's script and style are ``js/export.js`` and ``js/export.css`` (which reuse the panel's
``js/dom.js`` and ``js/widget.css``), inlined by :mod:`layerwidget._assets`, so the page loads
nothing: its Content-Security-Policy forbids every fetch, and it opens from ``file://``.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
from typing import Any

from .._assets import bundle_css, bundle_js
from ..captions import legend_ticks, number, picture_notes, stage_caption, stage_name
from ..png import data_url
from ..render import GREYS, RDBU, paint
from .grid import plain

__all__ = ["PALETTES", "ImageStore", "combination", "error_combination", "page_html"]

PALETTES = {"Greys": list(GREYS), "RdBu": list(RDBU)}
"""The colour anchors of the two scales, for the page's legends (as the pictures use them)."""

# Largest displayed size of one map cell and of a stage image, in CSS pixels.
_MAX_CELL_PX, _MAX_IMG_W, _MAX_IMG_H = 11, 420, 300

_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'")


def _display_size(width: int, height: int) -> list[int]:
    """CSS size of a stage image: whole-pixel upscaling (crisp cells), within the box."""
    scale = min(_MAX_CELL_PX, _MAX_IMG_W / width, _MAX_IMG_H / height)
    scale = math.floor(scale) if scale >= 1 else 1
    return [width * scale, height * scale]


class ImageStore:
    """PNG data URLs stored once each: the same picture in many combinations costs nothing."""

    def __init__(self):
        self.images: list[dict] = []
        self._index: dict[str, int] = {}
        self.bytes = 0

    def add(self, png: bytes, width: int, height: int, cell_px: int | None = None) -> int:
        """Store a picture once; ``cell_px`` fixes its display scale (default: fit the box)."""
        digest = hashlib.sha256(png).hexdigest()
        if digest not in self._index:
            src = data_url(png).decode("ascii")
            self._index[digest] = len(self.images)
            display = ([width * cell_px, height * cell_px] if cell_px
                       else _display_size(width, height))
            self.images.append({"src": src, "width": width, "height": height,
                                "display": display})
            self.bytes += len(src)
        return self._index[digest]


def _number(value: float) -> float | None:
    """JSON has no inf or NaN: those become null (the caption still spells them)."""
    return value if math.isfinite(value) else None


def label_json(label: Any) -> Any:
    """A label as JSON can carry it (text when it is neither a number nor text)."""
    label = plain(label)
    if label is None or isinstance(label, (str, bool, int)):
        return label
    if isinstance(label, float) and math.isfinite(label):
        return label
    return str(label)


def _focus(run, store: ImageStore) -> dict | None:
    """Channel 0 of the first Conv2D stage, large, with the kernel that made it, printed."""
    index = next((i for i, layer in enumerate(run.layers)
                  if type(layer).__name__ == "Conv2D"), None)
    if index is None:
        return None
    values = run.outputs[index][0, :, :, :1]
    picture = paint(values)
    height, width = picture.layout.size
    kernel, bias = run.layers[index].get_weights()
    return {
        "title": f"{stage_name(index + 1, run.stats[index + 1].name)} · channel 0, and the "
                 f"kernel of filter 0 (input channel 0) · bias {number(float(bias[0]))}",
        "image": store.add(picture.png, width, height, cell_px=8),
        "kernel": [[f"{float(v):.3g}" for v in row] for row in kernel[:, :, 0, 0]],
        "weights": [[float(v) for v in row] for row in kernel[:, :, 0, 0]],
        "legend": _legend(picture),
    }


def _legend(picture) -> dict:
    return {"palette": "RdBu" if picture.diverging else "Greys",
            "ticks": legend_ticks(picture.lo, picture.hi, picture.diverging)}


def combination(run, store: ImageStore, image_index: int, label: Any,
                messages: list[str] | None = None) -> dict:
    """The JSON of one valid combination: per stage its caption, facts, picture and legend.

    Each stage is painted by :func:`layerwidget.render.paint` and captioned by
    :func:`layerwidget.captions.stage_caption`, as the live widget does for its first page.
    """
    stages = []
    for i, (array, stats) in enumerate(zip([run.input, *run.outputs], run.stats, strict=True)):
        maps = array[0]
        picture = paint(maps, diverging=False if i == 0 else None)  # the input is always grey
        notes = picture_notes(picture.channels, maps.shape[-1], picture.step)
        height, width = picture.layout.size
        stages.append({
            "name": stage_name(i, stats.name), "shape": list(stats.shape),
            "min": _number(stats.min), "max": _number(stats.max),
            "caption": stage_caption(i, stats.name, stats.shape, stats.min, stats.max,
                                     label=label, notes=notes),
            "step": picture.step, "image": store.add(picture.png, width, height),
            "legend": _legend(picture),
        })
    return {"image_index": image_index, "label": label_json(label), "error": None,
            "stages": stages, "focus": _focus(run, store), "notes": list(messages or [])}


def error_combination(image_index: int, label: Any, message: str) -> dict:
    """The JSON of a combination that could not run: the page shows its message."""
    return {"image_index": image_index, "label": label_json(label), "error": message,
            "stages": []}


def _script_json(payload: dict) -> str:
    """JSON safe inside a <script> element: no text in it can end the element or open a comment."""
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "\\u003c!--")


def page_html(payload: dict, title: str, footer: list[str]) -> str:
    """The whole page: data block, the page's script and style inlined, nothing loaded."""
    lines = "".join(f"<p>{html.escape(line)}</p>" for line in footer)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        # An empty icon: otherwise the browser asks for /favicon.ico, which the CSP refuses.
        "<link rel=\"icon\" href=\"data:,\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{bundle_css('export.css')}</style>\n"
        "</head>\n<body class=\"layerwidget-page\">\n"
        f"<h1>{html.escape(title)}</h1>\n"
        "<noscript><p>This page needs JavaScript to show the feature maps.</p></noscript>\n"
        "<div class=\"lw-main\">\n"
        "<aside><form id=\"lw-panel\" class=\"layerwidget-panel\" "
        "aria-label=\"layer stack\" onsubmit=\"return false\"></form></aside>\n"
        # Above the maps, where the reader looks after a change, however long the panel is.
        "<div class=\"lw-view\"><div id=\"lw-error\" class=\"lw-page-error\" role=\"alert\" "
        "hidden></div>\n<div id=\"lw-note\" class=\"lw-page-note\" role=\"status\" hidden>"
        "</div>\n<section id=\"lw-stages\" class=\"lw-stages\" aria-label=\"stages\">"
        "</section></div>\n</div>\n"
        f"<footer>{lines}</footer>\n"
        f"<script type=\"application/json\" id=\"lw-data\">{_script_json(payload)}</script>\n"
        f"<script type=\"module\">{bundle_js('export.js')}</script>\n</body>\n</html>\n"
    )
