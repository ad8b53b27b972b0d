"""Train the MNIST network shipped with the package and write its weights file.

Offline only the 10,000 MNIST test digits exist (``../shared/data/mnist`` next to the repository
by default, checked against their published md5 sums). The network trains on test digits
1,000–9,999 and is measured on digits 0–999, exactly the 1,000 digits embedded in the package,
which it never sees in training. Seeds are fixed and TensorFlow's op determinism is on, so two
runs give the same weights and the same accuracy. Writes ``src/layerwidget/data/mnist_cnn.npz``
(or ``--out``): the weight arrays in order, plus the architecture version, the accuracy and a
sentence saying what the network was trained on.

    python scripts/train_mnist_model.py [--source DIR] [--out FILE] [--validate] [--full]

``--validate`` trains on digits 1,000–8,999 and reports the accuracy on 9,000–9,999 without
writing anything: settings are chosen that way, so digits 0–999 stay a true held-out set.
``--full`` trains on the 60,000 MNIST training digits instead (needs
``keras.datasets.mnist.load_data()`` to work, i.e. a network or a cached copy).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
from _mnist_idx import DEFAULT_SOURCE, ROOT, read_test_set

HELD_OUT = 1000  # digits 0–999 of the test set: the package's embedded sample
VALIDATION = 1000  # with --validate: the last 1,000 test digits


def shifted(images: np.ndarray, shift: int, rng: np.random.Generator) -> np.ndarray:
    """Copies of ``images`` (N, 28, 28) moved by random whole pixels in [-shift, shift] per axis.

    Pixels moved in from outside are 0 (background), as in MNIST itself.
    """
    if shift == 0:
        return images.copy()
    n, h, w = images.shape
    padded = np.pad(images, ((0, 0), (shift, shift), (shift, shift)))
    rows = rng.integers(0, 2 * shift + 1, size=n)
    cols = rng.integers(0, 2 * shift + 1, size=n)
    out = np.empty_like(images)
    for r in range(2 * shift + 1):
        for c in range(2 * shift + 1):
            pick = (rows == r) & (cols == c)
            out[pick] = padded[pick, r : r + h, c : c + w]
    return out


def accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``images`` (raw 0–255 pixels) whose most probable digit is the label."""
    probabilities = model.predict(images[..., None], batch_size=500, verbose=0)
    return float(np.mean(probabilities.argmax(axis=1) == labels))


def train(x: np.ndarray, y: np.ndarray, args: argparse.Namespace):
    """Train a fresh network on raw pixels ``x`` (N, 28, 28) and labels ``y``; return it."""
    from layerwidget._tf import keras, tf
    from layerwidget.trained import _architecture

    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
    model = _architecture()
    steps = args.epochs * -(-len(x) // args.batch)
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(args.seed)
    for epoch in range(args.epochs):
        # Shifting and shuffling here, in NumPy with its own seeded generator, keeps the data
        # order independent of TensorFlow's threading.
        order = rng.permutation(len(x))
        xs = shifted(x[order], args.shift, rng)
        history = model.fit(xs[..., None], y[order], batch_size=args.batch, epochs=1,
                            shuffle=False, verbose=0)
        logging.info("epoch %d/%d: loss %.4f, accuracy %.4f", epoch + 1, args.epochs,
                     history.history["loss"][-1], history.history["accuracy"][-1])
    return model


def describe(args: argparse.Namespace, n_train: int) -> str:
    """One sentence saying what the network was trained on and how."""
    digits = ("the 60,000 MNIST training digits" if args.full else
              f"MNIST test digits {HELD_OUT:,}–9,999 ({n_train:,} digits)")
    shifts = (f", each epoch on copies shifted by up to {args.shift} pixels in each direction"
              if args.shift else "")
    return (f"Trained on {digits} for {args.epochs} epochs with Adam (batch {args.batch}, "
            f"learning rate {args.learning_rate:g} with cosine decay){shifts}, seed {args.seed}; "
            f"accuracy measured on MNIST test digits 0–{HELD_OUT - 1:,}, never seen in training.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                        help="folder with the MNIST test set IDX files")
    parser.add_argument("--out", type=Path,
                        default=ROOT / "src" / "layerwidget" / "data" / "mnist_cnn.npz")
    parser.add_argument("--validate", action="store_true",
                        help="train on 1,000–8,999, report accuracy on 9,000–9,999, write nothing")
    parser.add_argument("--full", action="store_true",
                        help="train on the 60,000 training digits (needs keras.datasets)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=0.003)
    parser.add_argument("--shift", type=int, default=2, help="largest random shift, pixels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="log each epoch")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(message)s")

    images, labels = read_test_set(args.source)
    if args.full:
        from layerwidget._tf import keras

        try:
            (x_train, y_train), _ = keras.datasets.mnist.load_data()
        except Exception as exc:  # any failure means: no full MNIST here
            raise SystemExit(f"--full needs keras.datasets.mnist.load_data(), which failed: "
                             f"{exc}") from exc
    else:
        x_train, y_train = images[HELD_OUT:], labels[HELD_OUT:]
    x_test, y_test = images[:HELD_OUT], labels[:HELD_OUT]
    if args.validate:
        x_train, y_train = x_train[:-VALIDATION], y_train[:-VALIDATION]
        x_test, y_test = images[-VALIDATION:], labels[-VALIDATION:]

    start = time.perf_counter()
    model = train(x_train, y_train, args)
    seconds = time.perf_counter() - start
    score = accuracy(model, x_test, y_test)
    which = "validation digits 9,000–9,999" if args.validate else "held-out digits 0–999"
    print(f"trained on {len(x_train):,} digits in {seconds:.0f} s; "
          f"accuracy on {which}: {score:.4f} ({round(score * len(x_test))}/{len(x_test)})")
    if args.validate:
        return

    from layerwidget.trained import ARCHITECTURE

    weights = model.get_weights()
    np.savez_compressed(
        args.out,
        architecture=np.str_(ARCHITECTURE),
        trained_on=np.str_(describe(args, len(x_train))),
        held_out_accuracy=np.float64(score),
        weight_count=np.int64(len(weights)),
        **{f"weight_{i:02d}": w.astype(np.float32) for i, w in enumerate(weights)},
    )
    size = args.out.stat().st_size
    print(f"wrote {args.out}: {len(weights)} arrays, "
          f"{sum(w.size for w in weights):,} parameters, {size:,} bytes")


if __name__ == "__main__":
    main()
