"""Rebuild the MNIST sample embedded in the package.

Reads the original IDX files of the MNIST test set (``../shared/data/mnist`` next to the
repository by default), checks them against the md5 sums published with that copy, and writes
the first ``--count`` digits and their labels to ``src/layerwidget/data/mnist_sample.npz``.

    python scripts/make_mnist_sample.py [--source DIR] [--count 1000]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
IMAGES = "t10k-images-idx3-ubyte.gz"
LABELS = "t10k-labels-idx1-ubyte.gz"
# md5 of the decompressed files, as published in the dataset copy's README.
MD5 = {
    IMAGES: "2646ac647ad5339dbf082846283269ea",
    LABELS: "27ae3e4e09519cfbb04c329615203637",
}


def _read_idx(path: Path, magic: int) -> np.ndarray:
    raw = gzip.decompress(path.read_bytes())
    digest = hashlib.md5(raw).hexdigest()
    if digest != MD5[path.name]:
        raise SystemExit(f"{path}: md5 {digest} does not match the published {MD5[path.name]}")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise SystemExit(f"{path}: IDX magic {found}, expected {magic}")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(dims)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()

    images = _read_idx(args.source / IMAGES, 2051)
    labels = _read_idx(args.source / LABELS, 2049)
    if images.shape[0] != labels.shape[0]:
        raise SystemExit("image and label counts differ")
    out = ROOT / "src" / "layerwidget" / "data" / "mnist_sample.npz"
    np.savez_compressed(out, images=images[: args.count], labels=labels[: args.count])
    print(f"wrote {out.relative_to(ROOT)}: {args.count} digits, {out.stat().st_size:,} bytes")
    print("first ten labels:", " ".join(str(v) for v in labels[:10]))


if __name__ == "__main__":
    main()
