"""A small convolutional network trained on real MNIST digits, shipped with the package.

:func:`mnist_model` rebuilds the network and loads the weights stored in
``layerwidget/data/mnist_cnn.npz``: no download, no training at import. The weights file also
carries what the network was trained on and the accuracy measured when it was built, read from
it (on first use) into two constants, so the numbers a README cites are the numbers that shipped:

``TRAINED_ON`` : str
    What the shipped weights were trained on, in one sentence.
``HELD_OUT_ACCURACY`` : float
    Fraction of the 1,000 embedded digits (:func:`layerwidget.sample_digits`) the shipped
    network classifies correctly; it never saw them in training.

``scripts/train_mnist_model.py`` rebuilds the file reproducibly from the MNIST IDX files.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

__all__ = ["ARCHITECTURE", "HELD_OUT_ACCURACY", "LAYER_NAMES", "TRAINED_ON", "mnist_model"]

ARCHITECTURE = "mnist-cnn-v1"
"""Version of the layer stack below; the weights file must name the same one."""

LAYER_NAMES = ("rescale", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten",
               "probabilities")
"""Names of the network's layers, input to output (the InputLayer is not counted)."""

# Read from the weights file on first use (see __getattr__ below), so the numbers cited are
# the ones that shipped; declared here for readers, type checkers and linters.
TRAINED_ON: str
HELD_OUT_ACCURACY: float

_WEIGHTS_FILE = "data/mnist_cnn.npz"
_META_CONSTANTS = {"TRAINED_ON": "trained_on", "HELD_OUT_ACCURACY": "held_out_accuracy"}
_FILTERS = (8, 16)


@functools.lru_cache(maxsize=1)
def _stored() -> tuple[dict[str, object], tuple[np.ndarray, ...]]:
    """Metadata and weight arrays of the shipped file, read once; arrays are read-only."""
    with resources.files(__package__).joinpath(_WEIGHTS_FILE).open("rb") as fh:
        with np.load(fh, allow_pickle=False) as npz:
            count = int(npz["weight_count"])
            weights = tuple(npz[f"weight_{i:02d}"] for i in range(count))
            meta = {
                "architecture": str(npz["architecture"]),
                "trained_on": str(npz["trained_on"]),
                "held_out_accuracy": float(npz["held_out_accuracy"]),
            }
    if meta["architecture"] != ARCHITECTURE:
        raise RuntimeError(
            f"layerwidget/{_WEIGHTS_FILE} holds weights for {meta['architecture']!r}, but this "
            f"version of layerwidget builds {ARCHITECTURE!r}; reinstall layerwidget, or rebuild "
            "the file with scripts/train_mnist_model.py")
    for array in weights:
        array.setflags(write=False)
    return meta, weights


def __getattr__(name: str):
    # TRAINED_ON and HELD_OUT_ACCURACY come from the weights file, read on first use: importing
    # this module costs nothing, and the training script can import it before the file exists.
    if name in _META_CONSTANTS:
        return _stored()[0][_META_CONSTANTS[name]]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _architecture():
    """The untrained network: same layers and names as :func:`mnist_model`, fresh weights.

    The training script builds its network here, so the shipped weights and the model that
    loads them cannot drift apart.
    """
    from ._tf import keras

    layers = keras.layers
    names = iter(LAYER_NAMES)
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1), name="pixels"),
            # Inside the model, so raw 0–255 pixels are the only scale that works.
            layers.Rescaling(1 / 255, name=next(names)),
            layers.Conv2D(_FILTERS[0], 3, padding="same", name=next(names)),
            layers.ReLU(name=next(names)),
            layers.MaxPool2D(2, name=next(names)),
            layers.Conv2D(_FILTERS[1], 3, padding="same", name=next(names)),
            layers.ReLU(name=next(names)),
            layers.MaxPool2D(2, name=next(names)),
            layers.Flatten(name=next(names)),
            layers.Dense(10, activation="softmax", name=next(names)),
        ],
        name="mnist_cnn",
    )


def mnist_model():
    """A small CNN trained on real MNIST digits, with the weights shipped in the package.

    Layers (names in :data:`LAYER_NAMES`)::

        pixels (28, 28, 1), raw 0–255
        rescale        Rescaling(1/255)                      -> 0–1
        conv1          Conv2D(8, 3, padding="same")          (28, 28, 8)
        relu1          ReLU
        pool1          MaxPool2D(2)                          (14, 14, 8)
        conv2          Conv2D(16, 3, padding="same")         (14, 14, 16)
        relu2          ReLU
        pool2          MaxPool2D(2)                          (7, 7, 16)
        flatten        Flatten                               (784,)
        probabilities  Dense(10, activation="softmax")       (10,)

    ReLU is a layer of its own, so the maps before and after it can be compared. 9,098
    parameters (35.5 kB as float32).

    Trained on MNIST *test* digits 1,000–9,999 (9,000 digits; the 60,000 training digits are
    not available offline): 20 epochs of Adam (batch 64, learning rate 0.003 decaying along a
    cosine to 0, sparse categorical cross-entropy), each epoch on copies shifted by a random
    whole number of pixels between -2 and 2 along each axis; seed 0, TensorFlow op determinism
    on (two runs give byte-identical weights). Settings were chosen on digits 9,000–9,999 with
    the network trained on 1,000–8,999. On test digits 0–999 — exactly the digits embedded in
    the package, :func:`layerwidget.sample_digits`, which the network never saw — it classifies
    98.2 % correctly (982 of 1,000; :data:`HELD_OUT_ACCURACY`, stored with the weights).

    Returns
    -------
    keras.Model
        A new ``keras.Sequential`` on every call, built, with the shipped weights loaded and
        compiled (Adam, sparse categorical cross-entropy, accuracy) so that
        ``model.evaluate(images[..., None], labels)`` works as it is. Changing its weights
        changes no other model. Input: raw pixels, shape (N, 28, 28, 1), values 0–255 (uint8
        or float); the model scales them itself. Pixels already scaled to 0–1 reach ``conv1``
        as a near-black image: the shipped network then answers 1 or 2 for every embedded
        digit (20.4 % correct). Output: shape (N, 10), the probability of each
        digit 0–9; each row sums to 1.

    Examples
    --------
    >>> from layerwidget import sample_digits
    >>> from layerwidget.trained import mnist_model
    >>> images, labels = sample_digits()
    >>> model = mnist_model()
    >>> predicted = model.predict(images[..., None], verbose=0).argmax(axis=1)
    """
    from ._tf import keras

    model = _architecture()
    model.set_weights(list(_stored()[1]))
    model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    # How to make this model again, for the code an explorer of it writes (ex.code).
    model._layerwidget_source = "layerwidget.trained.mnist_model()"
    return model
