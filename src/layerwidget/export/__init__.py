"""Kernel-free HTML export: one self-contained page with the explorer's maps, precomputed.

A teacher puts the page on a course site; a student opens it offline, from ``file://``, with no
kernel. The page stays explorable because every combination of a grid of parameter values the
author chooses (``vary``, :mod:`.grid`) is computed here, with the real tf.keras layers, and
stored in the page (:mod:`.page`): each stage as a small PNG painted by the same code that paints
the live widget, the reader switching among them with ``<select>`` controls.

Command line (:mod:`.__main__`)::

    python -m layerwidget.export OUT.html [--layers JSON] [--vary filters=3,5,8] ...
"""

from __future__ import annotations

import logging
import math
import numbers
import os
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from pathlib import Path

import numpy as np

from ..data import ImageSet, as_image_set
from ..errors import LayerSpecError, LayerWidgetError
from ..layers import DEFAULT_STACK, normalize_stack
from ..pipeline import Pipeline
from ..shapes import stack_shapes
from ..weights import fitting_edits
from .grid import (
    DEFAULT_VARY,
    base_index,
    check_option,
    combinations,
    controls,
    default_vary,
    show,
)
from .page import PALETTES, ImageStore, combination, error_combination, page_html

__all__ = ["DEFAULT_VARY", "MAX_COMBINATIONS", "MNIST_ATTRIBUTION", "ExportReport",
           "ExportTooLargeError", "export_html"]

log = logging.getLogger(__name__)

MAX_COMBINATIONS = 256
"""Most parameter combinations one page may hold; each is computed and stored."""
MNIST_ATTRIBUTION = "MNIST by Yann LeCun, Corinna Cortes and Christopher J. C. Burges, CC BY-SA 3.0"


def version() -> str:
    """The installed package's version (from its metadata, the one place it is written)."""
    try:
        return _dist_version("layerwidget")
    except PackageNotFoundError:  # a source tree on sys.path without installing it
        return "unknown"


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


def export_html(path, *, layers=None, images=None, labels=None, image_set: ImageSet | None = None,
                image_index: int = 0, seed: int = 0, pixel_scale: str = "raw",
                vary: dict | None = None, title: str | None = None,
                max_bytes: int = 5_000_000,
                kernel_edits: dict[int, list] | None = None) -> ExportReport:
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
    kernel_edits : dict, optional
        Layer id -> [kernel, bias] replacing that layer's seeded weights (an explorer's edited
        kernels). A combination in which a layer's kernel has another shape uses its seeded
        weights and says so.

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
    base_options = {name: check_option(name, value, len(image_set)) for name, value in
                    (("image_index", image_index), ("seed", seed), ("pixel_scale", pixel_scale))}
    base_stack = normalize_stack([dict(s) for s in DEFAULT_STACK] if layers is None else layers)
    stack_shapes(base_stack, image_set.shape)
    if title is None:
        title = "layerwidget: " + " → ".join(s["type"] for s in base_stack)
    elif not isinstance(title, str):
        raise TypeError(f"title is {type(title).__name__}; pass text, or None for the default.")

    grid = controls(default_vary(base_stack) if vary is None else vary, base_stack,
                    base_options, len(image_set))
    count = math.prod(len(c.values) for c in grid)
    if count > MAX_COMBINATIONS:
        sizes = " × ".join(f"{len(c.values)} {c.key}" for c in grid)
        raise ExportTooLargeError(
            f"vary makes {sizes} = {count:,} combinations, more than the {MAX_COMBINATIONS} one "
            "page may hold; give fewer values (the stack's own value counts as one).")

    given_edits = _check_edits(kernel_edits)
    pipeline = Pipeline()  # one for the whole grid: combinations share built layers
    store = ImageStore()
    combos, invalid = [], 0
    base = base_index(grid)
    for n, (specs, combo_options) in enumerate(combinations(grid, base_stack, base_options)):
        index = combo_options["image_index"]
        label = image_set.label(index)
        try:
            stack = normalize_stack(specs)
            x = image_set.input(index, combo_options["pixel_scale"])
            channels = [s[-1] for s in [image_set.shape, *stack_shapes(stack, image_set.shape)]]
            edits, dropped, _ = fitting_edits(stack, channels[:-1], given_edits)
            run = pipeline.run(stack, x, seed=combo_options["seed"], edits=edits)
        except LayerSpecError as exc:
            if n == base:
                raise
            combos.append(error_combination(index, label, str(exc)))
            invalid += 1
            continue
        except Exception as exc:  # a TensorFlow failure is the reader's message, as in the widget
            if n == base:
                raise
            log.debug("combination %d failed in TensorFlow", n, exc_info=True)
            combos.append(error_combination(index, label,
                                            f"TensorFlow failed to run the stack: {exc}"))
            invalid += 1
            continue
        combos.append(combination(run, store, index, label, messages=dropped))
        if store.bytes > max_bytes:  # already over budget: stop computing, say so now
            raise ExportTooLargeError(
                f"the page would be larger than {store.bytes:,} bytes (its pictures alone, after "
                f"{n + 1} of {count} combinations), over max_bytes={max_bytes:,}; give vary fewer "
                "values, use a smaller image or fewer filters, or raise max_bytes.")

    footer = []
    if image_set.is_sample:
        footer.append(MNIST_ATTRIBUTION)
    footer.append(f"made with layerwidget {version()}")
    payload = {
        "title": title,
        # Shown as text, spelled as in Python (0.0, None), as the stack is written in a notebook.
        "stack": [{"type": spec["type"],
                   "fields": [[k, show(v)] for k, v in spec.items() if k not in ("type", "id")]}
                  for spec in base_stack],
        "options": {k: show(v) for k, v in base_options.items()},
        "controls": [c.to_json() for c in grid], "base": base, "palettes": PALETTES,
        "images": store.images, "combos": combos,
    }
    page = page_html(payload, title, footer).encode("utf-8")
    if len(page) > max_bytes:
        raise ExportTooLargeError(
            f"the page would be {len(page):,} bytes, over max_bytes={max_bytes:,}; give vary "
            "fewer values, use a smaller image or fewer filters, or raise max_bytes.")
    _write_atomically(path, page)
    log.debug("exported %d combinations (%d invalid, %d pictures) to %s in %.2f s", count,
              invalid, len(store.images), path, time.perf_counter() - start)
    return ExportReport(path, len(page), count, invalid)


def _check_edits(kernel_edits) -> dict:
    """{layer id: (0, [kernel, bias])} from ``kernel_edits``, checked."""
    if kernel_edits is None:
        return {}
    if not isinstance(kernel_edits, dict):
        raise TypeError(f"kernel_edits is {type(kernel_edits).__name__}; give a dict of layer id "
                        "-> [kernel, bias], as LayerExplorer.to_html passes it.")
    checked = {}
    for layer_id, weights in kernel_edits.items():
        try:
            kernel, bias = (np.asarray(w, np.float32) for w in weights)
        except (TypeError, ValueError):
            raise TypeError(f"kernel_edits[{layer_id!r}] is not [kernel, bias].") from None
        checked[layer_id] = (0, [kernel, bias])
    return checked


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
