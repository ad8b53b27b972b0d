"""New images for an explorer: the panel's drawing pad and uploads, and ``ex.add_image``.

A mixin of :class:`~layerwidget.explorer.LayerExplorer` (wiring only: decoding, framing and the
new image sets are in :mod:`layerwidget.drawing`, :mod:`layerwidget.preprocess` and
:mod:`layerwidget.image_sets`). A drawing is added once and then replaced as it changes, so
drawing does not pile up images; each upload and each ``add_image`` adds one; either is shown.
"""

from __future__ import annotations

import numpy as np

from . import options
from .data import as_image_set
from .drawing import decode_drawing, decode_upload, fit_image
from .errors import ImageError, LayerWidgetError
from .image_sets import add_image, replace_image
from .preprocess import mnist_preprocess

__all__ = ["ImagesInMixin"]


class ImagesInMixin:
    """Drawings, uploads and added images."""

    _drawing_index: int | None = None

    def add_image(self, pixels, label=None, preprocess: str | None = None) -> int:
        """Add one image and show it; return its index.

        Parameters
        ----------
        pixels : array-like
            (H, W) or (H, W, C) pixels, uint8 or float, as ``images=`` takes them; of the
            explorer's own (H, W, C) unless ``preprocess="mnist"``.
        label : int, str or None, optional
            Its label (None: it has none).
        preprocess : {None, "mnist"}, optional
            ``"mnist"`` frames a grey image as MNIST's digits were made
            (:func:`layerwidget.mnist_preprocess`: strokes fitted into 20×20, centre of mass at
            the centre of 28×28) before adding it.
        """
        if preprocess not in (None, "mnist"):
            raise ImageError(f"preprocess={preprocess!r} is not allowed; use None (the pixels "
                             "as they are) or 'mnist'.", field="preprocess")
        if preprocess == "mnist":
            image = mnist_preprocess(pixels)
            image = fit_image(image, self._images.shape, mnist=False) \
                if self._images.shape != (28, 28, 1) else image[..., None]
        else:
            one = as_image_set(np.asarray(pixels)[None] if np.ndim(pixels) in (2, 3)
                               else pixels)
            if len(one) != 1 or one.shape != self._images.shape:
                raise ImageError(
                    f"the image has shape {one.shape if len(one) == 1 else np.shape(pixels)}; "
                    f"the explorer's images are {self._images.shape}: resize it, or pass "
                    "preprocess='mnist' for a drawing of a digit.", field="pixels")
            image = self._on_own_scale(one)
        images, index = add_image(self._images, image, label)
        self._take_images(images, index)
        return index

    def _on_own_scale(self, one) -> np.ndarray:
        """uint8 pixels of a validated one-image set, as add_image takes them."""
        pixels = one.pixels[0]
        if not one.eight_bit and one.value_range[1] <= 1.0:
            pixels = pixels * 255.0
        return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)

    def _mnist_like(self) -> bool:
        return self._images.shape == (28, 28, 1)

    def _from_drawing(self, change) -> None:
        """The pad's pixels: framed, then added once and replaced as the drawing changes."""
        try:
            grey = decode_drawing(change["new"])
            if grey is None:
                return  # the pad was cleared: the maps keep the last drawing until the next
            image = fit_image(grey, self._images.shape, mnist=self._mnist_like())
            if self._drawing_index is None or self._drawing_index >= len(self._images):
                images, index = add_image(self._images, image)
            else:
                index = self._drawing_index
                images = replace_image(self._images, index, image)
        except LayerWidgetError as exc:
            self._set_error(exc)
            return
        self._drawing_index = index
        self._take_images(images, index)

    def _from_upload(self, change) -> None:
        if change["new"] is None:
            return
        try:
            rgba = decode_upload(change["new"])
            image = fit_image(rgba, self._images.shape, mnist=self._mnist_like())
            images, index = add_image(self._images, image)
        except LayerWidgetError as exc:
            self._set_error(exc)
            return
        self._take_images(images, index)

    def _take_images(self, images, index: int) -> None:
        self._images = images
        with self.panel.batch.collect():
            self.panel.n_images = len(images)
            self.panel.option_schema = options.option_schema(
                len(images), images.eight_bit, images.value_range, images.colour)
            if self.image_index == index:
                self._update()  # same index, new pixels: no trait change to run the update
            else:
                self.image_index = index
