"""Run a layer stack on one input with real tf.keras layers, reusing built layers.

Building a Keras layer and calling it for the first time costs ~10 ms; calling a built one ~2 ms.
Layers are therefore cached by everything that defines them (spec with its id, seed, input
channels), so changing the image, or going back to a stack seen before, only calls layers. A
new seed (or kernel edit) of a layer whose like is cached several times over takes the least
recently used of those and gives it the new weights (``set_weights``, ~0.2 ms) instead of
building another: a seed slider dragged across its range builds a layer twice, not per value.
The two most recently used layers of each kind are never reused this way, so the last good
run's layers (kept when an edit is refused) keep their weights.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .layers import LAYER_TYPES
from .shapes import stack_shapes
from .weights import build_layer, layer_weights

__all__ = ["Pipeline", "Run", "StageStats", "stage_histogram", "stage_stats"]


@dataclass(frozen=True)
class StageStats:
    """What the panel shows of one stage."""

    name: str
    shape: tuple[int, ...]  # as Keras reports it, batch included
    min: float
    max: float

    def to_dict(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "min": self.min, "max": self.max}


@dataclass(frozen=True)
class Run:
    """The result of one run of a stack."""

    input: np.ndarray
    outputs: tuple[np.ndarray, ...]
    layers: tuple
    stats: tuple[StageStats, ...]  # the input first, then one per layer
    seconds: float


def stage_histogram(array: np.ndarray, bins: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """(counts, edges) of every value of a stage, as ``np.histogram`` gives them.

    Non-finite values (an overflowing activation) are left out rather than breaking the bins.
    """
    values = np.asarray(array, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.zeros(bins, np.int64), np.linspace(0.0, 1.0, bins + 1)
    return np.histogram(values, bins=bins)


def stage_stats(name: str, array: np.ndarray) -> StageStats:
    return StageStats(name, tuple(int(v) for v in array.shape), float(array.min()),
                      float(array.max()))


class Pipeline:
    """Runs normalized stacks; keeps up to ``cache_size`` built layers for reuse."""

    def __init__(self, cache_size: int = 64):
        self.cache_size = cache_size
        self._cache: OrderedDict = OrderedDict()

    def layer(self, spec: dict, *, seed: int, in_shape: tuple[int, int, int],
              edit: tuple[int, list] | None = None):
        """The built Keras layer for ``spec``, from the cache when possible.

        ``edit`` = (version, [kernel, bias]) replaces the seeded weights (an edited kernel).
        """
        # The kernel shape depends on the input channels only, so H and W are not in the key:
        # a built Conv2D accepts any height and width. Layers without weights (ReLU, pooling)
        # accept any channel count and ignore the seed, so a filters or seed edit upstream
        # reuses them instead of building new ones.
        if LAYER_TYPES[spec["type"]].weight_fields:
            key = (seed, in_shape[-1], tuple(spec.items()), edit[0] if edit else None)
        else:
            key = tuple(spec.items())
        layer = self._cache.get(key)
        if layer is None:
            weights = edit[1] if edit else None
            layer = self._reusable(key)
            if layer is None:
                layer = build_layer(spec, seed=seed, in_shape=in_shape, weights=weights)
            else:
                if weights is None:
                    weights = layer_weights(spec, seed=seed, in_channels=in_shape[-1])
                layer.set_weights(weights)
            self._cache[key] = layer
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return layer

    def _reusable(self, key: tuple):
        """A cached layer like ``key``'s but with other weights, taken out of the cache (the
        least recently used one, when at least three are cached), or None."""
        if len(key) != 4:  # a layer without weights: nothing to gain
            return None
        like = [k for k in self._cache if len(k) == 4 and k[1:3] == key[1:3]]
        if len(like) < 3:
            return None
        return self._cache.pop(like[0])

    def clear(self) -> None:
        """Forget every cached layer."""
        self._cache.clear()

    def run(self, stack: list[dict], x: np.ndarray, *, seed: int,
            edits: dict[int, tuple[int, list]] | None = None) -> Run:
        """Run a normalized ``stack`` on ``x`` of shape (1, H, W, C).

        ``edits`` maps a layer id to (version, [kernel, bias]) used instead of its seeded
        weights. Raises LayerSpecError when the stack cannot produce a valid shape for this
        input, before any layer runs.
        """
        from ._tf import tf

        start = time.perf_counter()
        in_shape = tuple(int(v) for v in x.shape[1:])
        stack_shapes(stack, in_shape)
        layers, tensors = [], []
        current = tf.convert_to_tensor(x)
        for spec in stack:
            layer = self.layer(spec, seed=seed, in_shape=in_shape,
                               edit=(edits or {}).get(spec["id"]))
            # Layer.call is the layer's own forward computation. Layer.__call__ wraps it in
            # bookkeeping (input checks, name scopes, dtype policy) that costs more than the
            # op itself on 28x28 maps and that this pipeline does already (shapes validated by
            # stack_shapes, float32 throughout). Tests check the results equal __call__'s.
            current = layer.call(current)
            layers.append(layer)
            tensors.append(current)
            in_shape = tuple(int(v) for v in current.shape[1:])
        outputs = [np.asarray(t, dtype=np.float32) for t in tensors]
        stats = [stage_stats("input", x)]
        stats += [stage_stats(spec["type"], y) for spec, y in zip(stack, outputs, strict=True)]
        return Run(x, tuple(outputs), tuple(layers), tuple(stats), time.perf_counter() - start)
