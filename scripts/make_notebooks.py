"""Write the example notebooks in examples/ from the cells in this file.

    python scripts/make_notebooks.py           # rewrite examples/*.ipynb
    python scripts/make_notebooks.py --check   # exit 1 when a stored notebook differs

Edit the notebooks here, not in JupyterLab: they are stored without outputs and with fixed
cell ids, so this script's output is byte for byte reproducible, and tests/test_notebooks.py
checks that every stored notebook equals what this script writes. The tests also run each
notebook and check the numbers its prose relies on; cell ids name the cells they read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from textwrap import dedent

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# Without a kernelspec JupyterLab asks which kernel to start; nbclient and the browser tests
# start "python3".
METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
}


def md(cell_id: str, text: str):
    return new_markdown_cell(dedent(text).strip("\n"), id=cell_id)


def code(cell_id: str, text: str):
    return new_code_cell(dedent(text).strip("\n"), id=cell_id)


# --------------------------------------------------------------------------------------------
# walkthrough.ipynb
#
# The browser tests drive the FIRST explorer on the page: it must be `ex = LayerExplorer()`
# (the default stack), displayed by its own cell, and no later cell may change `ex`. Each later
# step has its own explorer.
# --------------------------------------------------------------------------------------------

WALKTHROUGH = [
    md("title", """
        # What do convolution layers do to a digit?

        This notebook retells the classic Keras walkthrough — one MNIST digit through `Conv2D`,
        `ReLU` and `MaxPool2D` — with live explorers. An explorer runs real tf.keras layers in
        this kernel and draws every stage's feature maps, with the shape Keras reports and the
        min/max of the values. Edit a layer in its panel and everything is recomputed and redrawn.
        Everything the panel shows is also reachable from Python, and the cells below print it.

        *Run all cells (Run ▸ Run All Cells), then play with the panels.* It works offline.
        """),
    code("data", """
        import numpy as np

        import layerwidget
        from layerwidget import LayerExplorer

        images, labels = layerwidget.sample_digits()
        print("digits:", images.shape, images.dtype, "pixels", images.min(), "to", images.max())
        print("first labels:", labels[:10])
        """),
    md("full-mnist-note", """
        These 1,000 digits are the first 1,000 images of the MNIST test set; they ship inside the
        package, so nothing is downloaded. The full set — 60,000 training and 10,000 test digits,
        as `keras.datasets.mnist.load_data()` returns them — comes from `layerwidget.load_mnist()`.
        It downloads about 11 MB once and caches them in `~/.keras/datasets/`. Offline (or with
        the environment variable `LAYERWIDGET_NO_DOWNLOAD=1`, for a classroom behind a firewall)
        it raises `DatasetUnavailableError`, whose message says what to use instead; the cell
        below prints that message rather than failing. To explore more digits:
        `LayerExplorer(x_test[:5000], y_test[:5000])`.
        """),
    code("full-mnist", """
        try:
            (x_train, y_train), (x_test, y_test) = layerwidget.load_mnist()
            print("x_train:", x_train.shape, "x_test:", x_test.shape)
            print("the embedded digits are x_test[:1000]:", np.array_equal(x_test[:1000], images))
        except layerwidget.DatasetUnavailableError as err:
            print(err)
        """),
    md("digit-note", """
        ## One digit and its label

        An MNIST image is 28×28 pixels of 8-bit grey: 0 is the background, 255 full ink. Here is
        image 0 as text (`#` for bright ink, `+` for faint ink, `.` for background):
        """),
    code("digit", """
        digit, label = images[0], labels[0]
        print("label:", label, "- shape:", digit.shape)
        for row in digit:
            print("".join("#" if p > 127 else "+" if p > 0 else "." for p in row))
        """),
    md("explorer-note", """
        ## The explorer

        `LayerExplorer()` runs the walkthrough's stack on that digit: `Conv2D` with 3 filters of
        3×3 and `padding='same'`, then `ReLU`, then `MaxPool2D` 2×2 with stride 2. The first map
        is the input digit with its label; each layer's output follows, one heatmap per channel.
        The weights are random (Glorot-uniform, Keras's default) but seeded, so everyone sees the
        same maps; nothing here is trained.

        Try it: set `filters` to 5, step through the images with ◀ ▶, type a `kernel_size` of 12
        and read how a bad value is refused while the last good maps stay.
        """),
    code("explorer", """
        ex = LayerExplorer()
        ex
        """),
    md("from-code-note", """
        ## The same, from code

        `ex.layers` is the stack the panel edits (a list of dicts, with Keras's argument names),
        `ex.stats` the name, shape and min/max of every stage, and `ex.outputs[i]` the array
        layer `i` returned. The cells below only *read* `ex`, so the explorer above stays yours to
        play with (if you edit it first, the numbers printed here follow your edits). Each step
        below gets an explorer of its own.
        """),
    code("stats", """
        print("label:", ex.label)
        print("first layer:", ex.layers[0])
        for s in ex.stats:
            print(f"{s.name:10} {str(s.shape):15} min {s.min:7.1f}   max {s.max:6.1f}")
        """),
    md("conv-note", """
        ## Step 1 — Conv2D: one output channel per filter

        A `Conv2D` layer slides each of its `filters` kernels (3×3 here) over the image and, at
        each position, sums the pixels times the kernel's weights. Each filter makes one output
        channel. With `padding='same'` the border is padded with zeros, so the maps stay 28×28.
        Keras reports shapes as `(batch, height, width, channels)`: one image, 28×28, one channel
        per filter. The kernel holds 3×3 weights per input channel (1, grey) and filter.
        """),
    code("conv", """
        conv = LayerExplorer(layers=[{"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same"}])
        print("Conv2D, 3 filters:", conv.outputs[0].shape)

        conv.layers = [{"type": "Conv2D", "filters": 5, "kernel_size": 3, "padding": "same"}]
        print("Conv2D, 5 filters:", conv.outputs[0].shape)
        print("kernel shape:", tuple(conv.keras_layers[0].kernel.shape))
        conv
        """),
    md("relu-note", """
        ## Step 2 — ReLU: negatives become 0

        The kernels hold negative weights too, so the convolution's maps hold negative values.
        `ReLU` computes `max(x, 0)` for every value: negatives become 0, positives pass unchanged.
        So the minimum goes to 0.0 and the maximum stays where it was. (Same seed and same
        `Conv2D` as in step 1, so the same five maps go in.)
        """),
    code("relu", """
        act = LayerExplorer(layers=[{"type": "Conv2D", "filters": 5, "padding": "same"}, {"type": "ReLU"}])
        before, after = act.outputs
        print(f"before ReLU: min {before.min():.1f}, max {before.max():.1f}")
        print(f"after ReLU:  min {after.min():.1f}, max {after.max():.1f}")
        print("negative values before:", int((before < 0).sum()), "- after:", int((after < 0).sum()))
        print("positive values unchanged:", np.array_equal(after[before > 0], before[before > 0]))
        act
        """),
    md("pool-note", """
        ## Step 3 — MaxPool2D: 28 → 14

        `MaxPool2D(pool_size=2, strides=2)` cuts each map into 2×2 blocks and keeps the largest
        value of each block. Height and width halve, 28 → 14; the 5 channels stay; and the
        overall maximum survives, because it is the largest value of its own block.
        """),
    code("pool", """
        pool = LayerExplorer(layers=[
            {"type": "Conv2D", "filters": 5, "padding": "same"},
            {"type": "ReLU"},
            {"type": "MaxPool2D", "pool_size": 2, "strides": 2},
        ])
        print("before pooling:", pool.outputs[1].shape)
        print("after pooling: ", pool.outputs[2].shape)
        print(f"max before and after pooling: {pool.stats[2].max:.1f}, {pool.stats[3].max:.1f}")
        pool
        """),
    md("slip-note", """
        > **A slip in the classic walkthrough.** Its pooling step prints the shape *before*
        > pooling — the ReLU output, `(1, 28, 28, 5)` — where it means the shape *after*
        > pooling, so pooling looks as if it changed nothing. The pooling layer's own output is
        > `(1, 14, 14, 5)`: print the output of `MaxPool2D` (`pool.outputs[2]` above), not its
        > input (`pool.outputs[1]`).
        """),
    md("code-note", """
        ## The stack as plain tf.keras

        `pool.code` is tf.keras source for the same stack (weights aside), to paste into a
        model; the panel shows it under "tf.keras code".
        """),
    code("keras-code", """
        print(pool.code)
        """),
    md("next", """
        ## Where next

        - [strides_and_padding.ipynb](strides_and_padding.ipynb): how kernel size, strides and
          padding decide the output size, with the formula checked against Keras.
        - [pooling_and_activations.ipynb](pooling_and_activations.ipynb): max vs average
          pooling, and what ReLU, tanh, sigmoid and friends do to the values, in numbers.
        """),
]


# --------------------------------------------------------------------------------------------
# strides_and_padding.ipynb
# --------------------------------------------------------------------------------------------

STRIDES = [
    md("title", """
        # Strides and padding: how big is the output?

        A convolution or pooling layer slides a k×k window over an n×n input, moving it s pixels
        at a time (`strides`). How many positions it visits is the output size, and `padding`
        decides which positions count:

        - `padding='valid'` adds nothing: the window must lie inside the input, so
          **out = floor((n − k) / s) + 1**.
        - `padding='same'` pads the border (with zeros for a convolution; pooling ignores the
          padded pixels) so that every s-th position counts, so **out = ceil(n / s)**, whatever
          k is. With s = 1 the size stays the same.

        Pooling layers follow the same rules, with `pool_size` as k (and `strides` defaulting to
        `pool_size`). For example, k = 5 and s = 2 on 28 pixels: the window starts at
        0, 2, …, 22, so 'valid' gives floor(23 / 2) + 1 = 12; 'same' gives ceil(28 / 2) = 14.
        """),
    code("formula", """
        import math

        import layerwidget
        from layerwidget import LayerExplorer


        def out_size(n, k, s, padding):
            \"\"\"Output side of a k×k window moved s pixels at a time over n pixels.\"\"\"
            if padding == "valid":
                return (n - k) // s + 1
            return math.ceil(n / s)


        print("k=5, s=2, valid:", out_size(28, 5, 2, "valid"))
        print("k=5, s=2, same: ", out_size(28, 5, 2, "same"))
        """),
    md("table-note", """
        ## The formula against Keras

        For each case on a 28×28 digit the table gives the formula's size,
        `layerwidget.stack_shapes` (the explorer's own shape arithmetic, which runs no layer) and
        the shape the real tf.keras layer returned (`ex.outputs[0].shape`). A pooling layer's
        `strides=None` means "same as `pool_size`".
        """),
    code("table", """
        cases = [  # (layer, window k, stride s, padding)
            ("Conv2D", 3, 1, "valid"),
            ("Conv2D", 3, 1, "same"),
            ("Conv2D", 5, 1, "valid"),
            ("Conv2D", 5, 2, "valid"),
            ("Conv2D", 5, 2, "same"),
            ("Conv2D", 3, 3, "valid"),
            ("Conv2D", 3, 3, "same"),
            ("Conv2D", 11, 5, "valid"),
            ("Conv2D", 11, 5, "same"),
            ("MaxPool2D", 2, 2, "valid"),
            ("MaxPool2D", 3, 2, "valid"),
            ("MaxPool2D", 3, 2, "same"),
            ("MaxPool2D", 3, None, "valid"),
        ]


        def layer_spec(layer, k, s, padding):
            if layer == "Conv2D":
                return {"type": "Conv2D", "filters": 1, "kernel_size": k, "strides": s, "padding": padding}
            return {"type": layer, "pool_size": k, "strides": s, "padding": padding}


        ex = LayerExplorer(layers=[layer_spec(*cases[0])])
        agree = 0
        print("layer       k  strides  padding  formula  stack_shapes  Keras")
        for layer, k, s, padding in cases:
            stack = layerwidget.normalize_stack([layer_spec(layer, k, s, padding)])
            predicted = layerwidget.stack_shapes(stack, (28, 28, 1))[0]
            ex.layers = stack                   # runs the real tf.keras layer
            keras_shape = ex.outputs[0].shape
            formula = out_size(28, k, s or k, padding)
            agree += formula == predicted[0] == keras_shape[1] == keras_shape[2]
            print(f"{layer:10} {k:2}  {str(s):>7}  {padding:7} {formula:8}  {str(predicted):12}  {keras_shape}")
        print(f"the formula matches Keras in {agree} of {len(cases)} cases")
        """),
    md("table-notes", """
        Things to notice:

        - 'same' with stride 1 keeps 28; with stride s it gives ceil(28 / s) for any kernel.
        - 'valid' loses k − 1 pixels before striding: a 3×3 kernel takes 28 to 26.
        - A stride larger than 1 skips positions, and 'valid' may leave the last pixels unvisited:
          k = 3, s = 3 covers pixels 0–26 and never looks at pixel 27.
        """),
    md("live-note", """
        ## Try it live

        The explorer below pools twice, 28 → 14 → 7, then runs a 3×3 `Conv2D` with
        `padding='valid'`: 7 → 5. Change the `Conv2D`'s `kernel_size`, `strides` and `padding`
        (or the pooling layers') in the panel; predict each size with the formula first, then
        read it in the panel's status list and above each map.
        """),
    code("live", """
        ex.layers = [
            {"type": "MaxPool2D", "pool_size": 2},
            {"type": "MaxPool2D", "pool_size": 2},
            {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "valid"},
        ]
        print("sizes:", " → ".join(str(s.shape[1]) for s in ex.stats))
        ex
        """),
    md("impossible-note", """
        ## An impossible stack

        After the two poolings the `Conv2D` sees 7×7. A 9×9 kernel with `padding='valid'` does
        not fit: the formula gives (7 − 9) // 1 + 1 = −1, less than one position. The explorer
        checks every shape before running anything and refuses such a stack with a message that
        names the layer, the field and the fix; the assignment raises `LayerSpecError` and
        changes nothing. (Typed in the panel, the same message appears there, and the last good
        maps stay.)
        """),
    code("impossible", """
        impossible = [
            {"type": "MaxPool2D", "pool_size": 2},
            {"type": "MaxPool2D", "pool_size": 2},
            {"type": "Conv2D", "filters": 4, "kernel_size": 9, "padding": "valid"},
        ]
        print("formula for k=9 on 7 pixels, valid:", out_size(7, 9, 1, "valid"))
        try:
            ex.layers = impossible
        except layerwidget.LayerSpecError as err:
            print("LayerSpecError:", err)
        print("the explorer still runs:", " → ".join(str(s.shape[1]) for s in ex.stats))
        """),
    md("fixes-note", """
        The message names both fixes. Each one, checked with `stack_shapes`:
        """),
    code("fixes", """
        for fix in ({"padding": "same"}, {"kernel_size": 7}):
            stack = layerwidget.normalize_stack(impossible[:2] + [{**impossible[2], **fix}])
            sizes = [28] + [h for h, w, c in layerwidget.stack_shapes(stack, (28, 28, 1))]
            print(f"{str(fix):22} sizes:", " → ".join(map(str, sizes)))
        """),
]


# --------------------------------------------------------------------------------------------
# pooling_and_activations.ipynb
# --------------------------------------------------------------------------------------------

POOLING = [
    md("title", """
        # Pooling and activations, in numbers

        Between convolutions a CNN pools (shrinks the maps) and applies activation functions
        (bends the values). This notebook measures both on one MNIST digit, computing every number
        from the arrays the real tf.keras layers return (`ex.outputs`), and leaves an explorer
        after each part to play with.
        """),
    code("setup", """
        import numpy as np

        from layerwidget import LayerExplorer

        # The convolution every part starts from: 3 filters of 3×3, zero-padded to keep 28×28.
        conv = {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same"}
        """),
    md("pool-note", """
        ## 1. Max pooling vs average pooling

        `MaxPool2D` keeps the largest value of each window, `AvgPool2D` the mean. With 2×2
        windows and stride 2 (`strides=None` means "same as `pool_size`") both halve the height
        and width. Below, the same `Conv2D` → `ReLU` runs with each pooling layer in turn (the
        weights depend only on the seed, the layer's position and the kernel's shape, so they
        stay the same), and both
        results are checked against NumPy: reshape each 28×28 map into 14×14 blocks of 2×2 and
        take each block's max or mean.
        """),
    code("pool-compare", """
        pool = LayerExplorer(layers=[conv, {"type": "ReLU"}, {"type": "MaxPool2D", "pool_size": 2}])
        relu, max_pooled = pool.outputs[1], pool.outputs[2]
        pool.layers = [conv, {"type": "ReLU"}, {"type": "AvgPool2D", "pool_size": 2}]
        avg_pooled = pool.outputs[2]

        blocks = relu.reshape(1, 14, 2, 14, 2, relu.shape[-1])  # axes 2 and 4: inside each 2×2 block
        print("shapes:", relu.shape, "→", max_pooled.shape, "and", avg_pooled.shape)
        print("MaxPool2D = max of each block: ", np.allclose(max_pooled, blocks.max(axis=(2, 4))))
        print("AvgPool2D = mean of each block:", np.allclose(avg_pooled, blocks.mean(axis=(2, 4)), atol=1e-3))
        print("max-pooled ≥ avg-pooled everywhere:", bool((max_pooled >= avg_pooled).all()))
        print(f"max:  before {relu.max():.1f}, max-pooled {max_pooled.max():.1f}, avg-pooled {avg_pooled.max():.1f}")
        print(f"mean: before {relu.mean():.2f}, max-pooled {max_pooled.mean():.2f}, avg-pooled {avg_pooled.mean():.2f}")
        """),
    md("pool-explain", """
        Max pooling keeps the strongest response of each window, so the maximum survives and the
        mean goes up; average pooling keeps the mean exactly and lowers the peaks. Below is the
        average-pooled stack: switch the last layer between `MaxPool2D` and `AvgPool2D` (✕ to
        remove it, "Add layer" to add the other) and compare the maps, then try `pool_size` 3
        with `strides` 1 (windows overlap; 28 → 26) or `padding='same'`.
        """),
    code("pool-explorer", """
        pool
        """),
    md("relu-note", """
        ## 2. What ReLU does, counted

        `ReLU` sets negative values to 0. How many? Most pixels of a digit are background (0), a
        3×3 patch of zeros convolves to 0 (the biases are 0), so many values are already 0
        before ReLU. The counts below keep the two apart.
        """),
    code("relu-numbers", """
        act = LayerExplorer(layers=[conv, {"type": "ReLU"}])
        z, r = act.outputs  # z: the Conv2D's output, r: after ReLU
        n = z.size
        negative, zero, zero_after = int((z < 0).sum()), int((z == 0).sum()), int((r == 0).sum())
        print(f"values per stage:      {n}")
        print(f"negative before ReLU:  {negative} ({negative / n:.1%}), set to 0 by ReLU")
        print(f"already 0 before ReLU: {zero} ({zero / n:.1%}), mostly background")
        print(f"0 after ReLU:          {zero_after} ({zero_after / n:.1%})")
        print(f"before ReLU: min {z.min():.1f}, max {z.max():.1f}")
        print(f"after ReLU:  min {r.min():.1f}, max {r.max():.1f}")
        print("ReLU equals np.maximum(z, 0):", np.array_equal(r, np.maximum(z, 0)))
        """),
    md("knobs-note", """
        ## 3. The ReLU layer's three fields

        Keras's `ReLU` layer takes `max_value`, `negative_slope` and `threshold`, and computes

        - `max_value` if x ≥ `max_value` (a cap; None means no cap),
        - x if `threshold` ≤ x < `max_value`,
        - `negative_slope` × (x − `threshold`) if x < `threshold`.

        The defaults (None, 0, 0) give the plain ReLU; `negative_slope` > 0 is a "leaky" ReLU,
        which keeps a small signal for negatives. Each variant below runs on the same `Conv2D`
        output `z` and is checked against that formula in NumPy.
        """),
    code("relu-knobs", """
        def relu_formula(x, max_value=None, negative_slope=0.0, threshold=0.0):
            y = np.where(x >= threshold, x, negative_slope * (x - threshold))
            return y if max_value is None else np.minimum(y, max_value)


        variants = [{}, {"max_value": 100.0}, {"negative_slope": 0.1}, {"threshold": 50.0}]
        for fields in variants:
            act.layers = [conv, {"type": "ReLU", **fields}]
            y = act.outputs[1]
            print(f"{str(fields):25} min {y.min():6.1f}  max {y.max():6.1f}  zeros {(y == 0).mean():6.1%}"
                  f"  formula: {np.allclose(y, relu_formula(z, **fields))}")
        """),
    md("knobs-explain", """
        The cap lowers the max to 100; the leaky slope keeps a tenth of each negative (the min is
        a tenth of `z`'s) so fewer values are exactly 0; the threshold also zeroes the weak
        positive responses below 50. The explorer below is a leaky ReLU: edit its three fields.
        """),
    code("relu-explorer", """
        act.layers = [conv, {"type": "ReLU", "negative_slope": 0.1}]
        act
        """),
    md("activations-note", """
        ## 4. Activations inside Conv2D

        `Conv2D(activation=...)` applies the function to the convolution's output itself. The
        weights do not depend on the activation, so each result is that function applied to the
        same `z` as above — checked against NumPy again.
        """),
    code("activations", """
        numpy_versions = {
            "linear": lambda x: x,
            "relu": lambda x: np.maximum(x, 0),
            "tanh": np.tanh,
            "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
            "softplus": lambda x: np.logaddexp(0, x),
            "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
        }
        fn = LayerExplorer(layers=[conv])
        for name, f in numpy_versions.items():
            fn.layers = [{**conv, "activation": name}]
            y = fn.outputs[0]
            same = np.allclose(y, f(z.astype(np.float64)), rtol=1e-4, atol=1e-5)
            print(f"{name:9} min {y.min():8.3f}  max {y.max():8.3f}  zeros {(y == 0).mean():6.1%}  = NumPy: {same}")
        """),
    md("activations-explain", """
        Each activation keeps the shape and changes only the values. tanh squeezes them into
        (−1, 1) and elu bends only the negatives, towards −1; both keep 0 at 0. sigmoid(0) = 0.5
        and softplus(0) = log 2 ≈ 0.69, so with them the background is no longer 0: the few exact
        zeros left come from values so negative (below about −87) that float32 rounds the
        result to 0.
        """),
    md("saturation-note", """
        ## 5. Why scale pixels to 0–1: saturation

        tanh and sigmoid are flat far from 0: tanh(5) is already 0.9999. With raw 0–255 pixels
        the convolution's values reach a few hundred, so on the digit's strokes tanh is pinned to
        ±1 (*saturated*) and a change of the input barely changes the output — in training, the
        gradient there is almost 0. Dividing the pixels by 255 (`pixel_scale='unit'`, as
        `x / 255.0` in most Keras tutorials) divides every value of the linear `Conv2D` by 255 and
        brings tanh back to its useful range. Counted over the values the digit touches (≠ 0):
        """),
    code("saturation", """
        fn.layers = [{**conv, "activation": "tanh"}]
        for scale in ("raw", "unit"):
            fn.pixel_scale = scale
            y = fn.outputs[0]
            touched = y[y != 0]
            saturated = (np.abs(touched) > 0.99).mean()
            print(f"pixel_scale={scale!r}: input max {fn.input.max():5.1f}, "
                  f"tanh saturated (|y| > 0.99) in {saturated:.1%} of {touched.size} values")
        fn
        """),
    md("end", """
        Above, tanh on unit-scaled pixels. In its panel, try `sigmoid`, `relu`, `elu`,
        `softplus` under `activation`, and switch *pixel scale* between raw 0–255 and unit 0–1:
        the shapes never change, only the values — which is why each map's min/max is shown.
        """),
]


NOTEBOOKS = {
    "walkthrough.ipynb": WALKTHROUGH,
    "strides_and_padding.ipynb": STRIDES,
    "pooling_and_activations.ipynb": POOLING,
}


def build(cells) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells, metadata=METADATA)
    nbformat.validate(nb)
    return nb


def render(cells) -> str:
    """The notebook's file contents, exactly as :func:`main` writes them."""
    text = nbformat.writes(build(cells))
    return text if text.endswith("\n") else text + "\n"


def rendered() -> dict[str, str]:
    """File name -> contents, for every example notebook."""
    return {name: render(cells) for name, cells in NOTEBOOKS.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when a stored notebook differs")
    args = parser.parse_args(argv)
    stale = []
    for name, text in rendered().items():
        path = EXAMPLES / name
        current = path.read_bytes().decode("utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(text, encoding="utf-8", newline="\n")
            print(f"wrote {path.relative_to(EXAMPLES.parent)}")
    if args.check and stale:
        print("out of date: " + ", ".join(stale) + "; run python scripts/make_notebooks.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
