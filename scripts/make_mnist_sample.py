"""Rebuild the MNIST sample embedded in the package.

Reads the original IDX files of the MNIST test set (``../shared/data/mnist`` next to the
repository by default), checks them against the md5 sums published with that copy, and writes
the first ``--count`` digits and their labels to ``src/layerwidget/data/mnist_sample.npz``
(or to ``--out``).

    python scripts/make_mnist_sample.py [--source DIR] [--count 1000] [--out FILE]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from _mnist_idx import DEFAULT_SOURCE, ROOT, read_test_set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--out", type=Path,
                        default=ROOT / "src" / "layerwidget" / "data" / "mnist_sample.npz")
    args = parser.parse_args()

    images, labels = read_test_set(args.source)
    out = args.out.resolve()
    np.savez_compressed(out, images=images[: args.count], labels=labels[: args.count])
    shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    print(f"wrote {shown}: {args.count} digits, {out.stat().st_size:,} bytes")
    print("first ten labels:", " ".join(str(v) for v in labels[:10]))


if __name__ == "__main__":
    main()
