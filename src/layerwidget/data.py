"""Input images: the embedded MNIST sample, Keras's full MNIST, and user arrays.

Everything becomes an :class:`ImageSet`: float32 pixels of shape (N, H, W, C) plus optional
labels, validated once, so the pipeline can take ``(1, H, W, C)`` slices without checks.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from .errors import DatasetUnavailableError, ImageError

__all__ = ["MAX_IMAGES", "MAX_SIDE", "ImageSet", "as_image_set", "load_mnist", "sample_digits"]

log = logging.getLogger(__name__)

MAX_SIDE = 4096
"""Largest image side, in pixels, the explorer accepts."""
MAX_IMAGES = 100_000
"""Most images one explorer holds (the full MNIST set is 70,000)."""


@functools.lru_cache(maxsize=1)
def sample_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,000 MNIST test digits embedded in the package.

    Returns
    -------
    images : np.ndarray
        uint8, shape (1000, 28, 28), 0–255. Read-only.
    labels : np.ndarray
        uint8, shape (1000,), the digit each image shows.

    Notes
    -----
    MNIST by Yann LeCun, Corinna Cortes and Christopher J. C. Burges, CC BY-SA 3.0; see
    ``layerwidget/data/MNIST-LICENSE.md``.
    """
    with resources.files(__package__).joinpath("data/mnist_sample.npz").open("rb") as fh:
        with np.load(fh) as npz:
            images, labels = npz["images"], npz["labels"]
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_mnist(download: bool | None = None):
    """Keras's full MNIST: ``((x_train, y_train), (x_test, y_test))``, as ``keras.datasets``.

    Parameters
    ----------
    download : bool, optional
        Whether Keras may download the file (once, into ``~/.keras/datasets/mnist.npz``).
        Default: yes, unless the environment variable ``LAYERWIDGET_NO_DOWNLOAD`` is set to a
        non-empty value other than ``0`` (for classrooms behind a firewall, and for CI); then
        only an already cached copy is used.

    Raises
    ------
    DatasetUnavailableError
        When MNIST cannot be had (no network, no cached copy), with a short message saying
        what to use instead rather than a wall of traceback.
    """
    if download is None:
        download = os.environ.get("LAYERWIDGET_NO_DOWNLOAD", "") in ("", "0")
    instead = ("Offline, use layerwidget.sample_digits() (1,000 real MNIST test digits shipped "
               "with the package; LayerExplorer() uses them by default), or copy mnist.npz into "
               "~/.keras/datasets/.")
    if not download:
        cached = _keras_cache() / "datasets" / "mnist.npz"
        if not cached.exists():
            raise DatasetUnavailableError(
                f"MNIST is not cached at {cached} and downloads are off "
                f"(LAYERWIDGET_NO_DOWNLOAD is set). {instead}")
        with np.load(cached) as npz:
            return (npz["x_train"], npz["y_train"]), (npz["x_test"], npz["y_test"])

    from ._tf import keras

    try:
        return keras.datasets.mnist.load_data()
    except Exception as exc:  # network errors surface as several different types
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.debug("keras.datasets.mnist.load_data() failed", exc_info=True)
        raise DatasetUnavailableError(
            f"Keras could not load MNIST ({reason[:200]}). It downloads the file on first use "
            f"and caches it in ~/.keras/datasets/mnist.npz. {instead}"
        ) from None


def _keras_cache() -> Path:
    """Keras's cache folder: $KERAS_HOME, else ~/.keras (as keras.utils.get_file uses it)."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


@dataclass(frozen=True)
class ImageSet:
    """Validated images for the explorer.

    Attributes
    ----------
    pixels : np.ndarray
        float32, (N, H, W, C), as given (not rescaled).
    labels : np.ndarray or None
        One label per image, or None.
    eight_bit : bool
        True when the pixels are 0–255 values (integer input), which 'unit' scale divides by 255.
    """

    pixels: np.ndarray
    labels: np.ndarray | None
    eight_bit: bool

    def __len__(self) -> int:
        return self.pixels.shape[0]

    @property
    def shape(self) -> tuple[int, int, int]:
        """(H, W, C) of every image."""
        return tuple(int(v) for v in self.pixels.shape[1:])

    @functools.cached_property
    def value_range(self) -> tuple[float, float]:
        """(min, max) over every pixel of every image."""
        return float(self.pixels.min()), float(self.pixels.max())

    @functools.cached_property
    def is_sample(self) -> bool:
        """Whether these are exactly the embedded MNIST digits (to credit MNIST, and to name
        them in generated code)."""
        pixels, labels = sample_digits()
        return (self.pixels.shape == (*pixels.shape, 1) and self.labels is not None
                and np.array_equal(self.pixels[..., 0], pixels)
                and np.array_equal(self.labels, labels))

    def source(self, index: int, scale: str = "raw") -> str | None:
        """Python source of an expression giving ``input(index, scale)``, or None when the
        images are the user's own (not reproducible from code)."""
        if not self.is_sample:
            return None
        unit = " / 255" if scale == "unit" and self.eight_bit else ""
        return (f'layerwidget.sample_digits()[0][{index}].astype("float32")[None, :, :, None]'
                f"{unit}  # embedded MNIST digit {index}")

    @property
    def colour(self) -> bool:
        """Whether the images have 3 (RGB) or 4 (RGBA) channels."""
        return self.pixels.shape[-1] in (3, 4)

    def label(self, index: int):
        """Label of one image as a plain Python value, or None without labels."""
        if self.labels is None:
            return None
        value = self.labels[index]
        return value.item() if hasattr(value, "item") else value

    def input(self, index: int, scale: str = "raw") -> np.ndarray:
        """(1, H, W, C) float32 input for image ``index`` at pixel ``scale``."""
        x = self.pixels[index : index + 1]
        if scale == "unit" and self.eight_bit:
            x = x / np.float32(255.0)
        return np.ascontiguousarray(x, dtype=np.float32)


def _as_array(images) -> np.ndarray:
    if isinstance(images, (str, bytes)):
        raise ImageError(
            f"images is a {type(images).__name__}, not pixel data; pass a NumPy array such as "
            "x_test[:100] of shape (N, H, W).")
    try:
        arr = np.asarray(images)
    except ValueError as exc:  # ragged nested lists
        raise ImageError(
            f"images could not be read as one array ({exc}); every image must have the same "
            "height and width: pass a NumPy array of shape (N, H, W) or (N, H, W, C).") from None
    if arr.dtype == object:
        raise ImageError(
            "images is ragged or holds non-numbers; every image must have the same height and "
            "width: pass a NumPy array of shape (N, H, W) or (N, H, W, C).")
    if arr.dtype.kind not in "biuf":
        raise ImageError(
            f"images has dtype {arr.dtype}, not numbers; pass uint8 (0–255) or float pixels.")
    return arr


def as_image_set(images=None, labels=None) -> ImageSet:
    """Validate images (and labels) and return an :class:`ImageSet`.

    Parameters
    ----------
    images : array-like, optional
        (N, H, W), (N, H, W, C), (H, W) or (H, W, C); uint8 or float. None: the embedded
        MNIST digits with their labels.
    labels : array-like, optional
        One label per image.
    """
    if images is None:
        if labels is not None:
            raise ImageError("labels were given without images; pass images=... as well, or "
                             "neither to use the embedded MNIST digits and their labels.")
        images, labels = sample_digits()
    arr = _as_array(images)
    if arr.ndim == 2:  # one grey image
        arr = arr[None, :, :, None]
    elif arr.ndim == 3:
        # (H, W, C) with few channels is one colour image; otherwise a batch of grey images.
        if arr.shape[-1] in (1, 3, 4) and arr.shape[0] > 4:
            arr = arr[None]
        else:
            arr = arr[..., None]
    if arr.ndim != 4:
        raise ImageError(
            f"images has shape {arr.shape}; use (N, H, W), (N, H, W, C), (H, W) or (H, W, C).")
    n, h, w, c = arr.shape
    if n == 0 or h == 0 or w == 0 or c == 0:
        raise ImageError(f"images has shape {arr.shape} and holds no pixels; pass at least one "
                         "image of at least 1×1 pixels.")
    if max(h, w) > MAX_SIDE:
        raise ImageError(
            f"images are {h}×{w} pixels; the explorer takes at most {MAX_SIDE} pixels a side. "
            "Resize or crop them first (e.g. tf.image.resize).")
    if n > MAX_IMAGES:
        raise ImageError(f"images holds {n:,} images; the explorer takes at most {MAX_IMAGES:,}. "
                         "Pass a slice such as x_test[:1000].")
    if c > 4:
        raise ImageError(
            f"images have {c} channels (shape {arr.shape}); use 1 (grey), 3 (RGB) or 4 (RGBA). "
            "For a batch of grey images pass shape (N, H, W).")
    eight_bit = arr.dtype.kind in "biu"
    pixels = arr.astype(np.float32)
    if not eight_bit and not np.isfinite(pixels).all():
        bad = int(np.size(pixels) - np.isfinite(pixels).sum())
        raise ImageError(f"images hold {bad:,} NaN or infinite values; replace them first, e.g. "
                         "np.nan_to_num(images).")
    if np.isfinite(arr.astype(np.float64)).all() and not np.isfinite(pixels).all():
        raise ImageError("images hold values too large for float32; rescale them first.")
    label_arr = None
    if labels is not None:
        label_arr = np.asarray(labels)
        if label_arr.ndim != 1 or label_arr.shape[0] != n:
            raise ImageError(
                f"labels has shape {label_arr.shape} but there are {n} images; pass one label "
                f"per image (shape ({n},)), or labels=None.")
    pixels.setflags(write=False)
    return ImageSet(pixels, label_arr, eight_bit)
