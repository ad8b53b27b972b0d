"""layerwidget: see what tf.keras convolution layers do to an image, live, in a notebook.

>>> from layerwidget import LayerExplorer
>>> LayerExplorer()          # the last expression of a notebook cell shows the widget
"""

from .data import as_image_set, load_mnist, sample_digits
from .errors import DatasetUnavailableError, ImageError, LayerSpecError, LayerWidgetError
from .explorer import LayerExplorer
from .layers import DEFAULT_STACK, LAYER_TYPES, normalize_stack, stack_shapes, to_code
from .pipeline import Pipeline

__all__ = [
    "DEFAULT_STACK",
    "ExportReport",
    "ExportTooLargeError",
    "DatasetUnavailableError",
    "ImageError",
    "LAYER_TYPES",
    "LayerExplorer",
    "LayerSpecError",
    "LayerWidgetError",
    "Pipeline",
    "as_image_set",
    "export_html",
    "load_mnist",
    "normalize_stack",
    "sample_digits",
    "stack_shapes",
    "to_code",
]
__version__ = "0.1.0"


def __getattr__(name):
    # Lazy: `python -m layerwidget.export` must not find its module imported already.
    if name in ("export_html", "ExportReport", "ExportTooLargeError"):
        from . import export

        return getattr(export, name)
    raise AttributeError(f"module 'layerwidget' has no attribute {name!r}")
