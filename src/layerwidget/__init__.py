"""layerwidget: see what tf.keras convolution layers do to an image, live, in a notebook.

>>> from layerwidget import LayerExplorer
>>> LayerExplorer()          # the last expression of a notebook cell shows the widget
"""

from importlib.metadata import PackageNotFoundError, version

from .codegen import to_code
from .data import as_image_set, load_mnist, sample_digits
from .errors import (
    DatasetUnavailableError,
    ImageError,
    LayerSpecError,
    LayerWidgetError,
    OptionError,
)
from .explorer import LayerExplorer
from .export import ExportReport, ExportTooLargeError, export_html
from .layers import DEFAULT_STACK, LAYER_TYPES, normalize_stack
from .pipeline import Pipeline
from .preprocess import mnist_preprocess
from .presets import KERNEL_PRESETS
from .shapes import stack_shapes
from .trained import mnist_model

__all__ = [
    "DEFAULT_STACK",
    "KERNEL_PRESETS",
    "LAYER_TYPES",
    "DatasetUnavailableError",
    "ExportReport",
    "ExportTooLargeError",
    "ImageError",
    "LayerExplorer",
    "LayerSpecError",
    "LayerWidgetError",
    "OptionError",
    "Pipeline",
    "as_image_set",
    "export_html",
    "load_mnist",
    "mnist_model",
    "mnist_preprocess",
    "normalize_stack",
    "sample_digits",
    "stack_shapes",
    "to_code",
]

try:
    __version__ = version("layerwidget")
except PackageNotFoundError:  # a source tree on sys.path without installing it
    __version__ = "unknown"
