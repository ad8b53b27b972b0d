"""One more image for an explorer: a new :class:`~.data.ImageSet` with it added or replaced.

The old set is left untouched for whoever still reads it; labels stay an array of their kind
where they can (MNIST's uint8 labels stay uint8), and an image without a label has None.
"""

from __future__ import annotations

import numpy as np

from .data import ImageSet
from .errors import ImageError

__all__ = ["add_image", "replace_image"]


def _check_new_image(image_set: ImageSet, pixels) -> np.ndarray:
    """(1, H, W, C) float32 on the set's own scale, or ImageError."""
    arr = np.asarray(pixels)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.dtype != np.uint8 or arr.shape != image_set.shape:
        raise ImageError(f"the new image has dtype {arr.dtype} and shape {arr.shape}; the "
                         f"explorer's images are {image_set.shape}: pass uint8 pixels of that "
                         "shape, as fit_image returns them.", field="pixels")
    values = arr.astype(np.float32)[None]
    # A float set on the 0–1 scale gets the image on its scale; 8-bit sets and float sets
    # holding 0–255 values take the 0–255 values as they are.
    if not image_set.eight_bit and image_set.value_range[1] <= 1.0:
        values /= np.float32(255.0)
    return values


def _check_label(label):
    if label is not None and np.ndim(label) != 0:
        raise ImageError(f"label={label!r} is not one value; pass a number, a text or None.",
                         field="label")
    return label.item() if isinstance(label, np.generic) else label


def _label_array(labels: np.ndarray | None, values: list, label) -> np.ndarray | None:
    """``values`` (the old labels with the new ``label`` in place) as a label array.

    Integer or text labels keep an array of their kind (MNIST's uint8 labels stay uint8 while
    the new label fits). A missing label (None) among labels, or a label of another kind, needs
    an object array, whose ``None`` ImageSet.label returns as is. No labels at all stay None.
    """
    if all(v is None for v in values):
        return None
    if labels is not None and label is not None and labels.dtype.kind in "iuU":
        if labels.dtype.kind == "U" and isinstance(label, str):
            return np.asarray(values)
        if labels.dtype.kind in "iu" and isinstance(label, (int, np.integer)) \
                and not isinstance(label, bool):
            return np.asarray(values, np.result_type(labels.dtype, np.min_scalar_type(label)))
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _new_set(image_set: ImageSet, pixels: np.ndarray, labels) -> ImageSet:
    pixels.setflags(write=False)
    return ImageSet(pixels, labels, image_set.eight_bit)


def add_image(image_set: ImageSet, pixels, label=None) -> tuple[ImageSet, int]:
    """A new ImageSet with one more image at the end.

    Parameters
    ----------
    image_set : ImageSet
        The explorer's images; left untouched.
    pixels : np.ndarray
        uint8 of the set's shape (H, W, C) (or (H, W) for C = 1), as :func:`fit_image` returns.
        On a float set whose values lie within 0–1 it is divided by 255; otherwise stored as is.
    label : int, str or None, optional
        The new image's label; None: it has none (ImageSet.label returns None for it, while the
        other images keep theirs).

    Returns
    -------
    (ImageSet, int)
        The new set and the index of the added image.
    """
    values = _check_new_image(image_set, pixels)
    label = _check_label(label)
    n = len(image_set)
    old = [None] * n if image_set.labels is None else image_set.labels.tolist()
    labels = _label_array(image_set.labels, [*old, label], label)
    return _new_set(image_set, np.concatenate([image_set.pixels, values]), labels), n


def replace_image(image_set: ImageSet, index: int, pixels, label=None) -> ImageSet:
    """A new ImageSet with image ``index`` replaced (its label too: None means no label).

    Parameters as :func:`add_image`; ``index`` runs from 0 to ``len(image_set) - 1``.
    """
    n = len(image_set)
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < n:
        raise ImageError(f"index={index!r} is not an image of this set; pass 0 to {n - 1}.",
                         field="image_index")
    values = _check_new_image(image_set, pixels)
    label = _check_label(label)
    pixels = image_set.pixels.copy()
    pixels[int(index)] = values[0]
    labels = [None] * n if image_set.labels is None else image_set.labels.tolist()
    labels[int(index)] = label
    return _new_set(image_set, pixels, _label_array(image_set.labels, labels, label))
