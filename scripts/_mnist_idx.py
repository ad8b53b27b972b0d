"""Read the MNIST test set from its original IDX files, checked against the published md5 sums.

Shared by the scripts that rebuild files shipped in the package (``make_mnist_sample.py``,
``train_mnist_model.py``), so both read the same bytes the same way.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "mnist"
"""Where the IDX files live next to the repository (``../shared/data/mnist``)."""
IMAGES = "t10k-images-idx3-ubyte.gz"
LABELS = "t10k-labels-idx1-ubyte.gz"
# md5 of the decompressed files, as published in the dataset copy's README.
MD5 = {
    IMAGES: "2646ac647ad5339dbf082846283269ea",
    LABELS: "27ae3e4e09519cfbb04c329615203637",
}


def read_idx(path: Path, magic: int) -> np.ndarray:
    """One IDX file as a uint8 array, after checking its md5 and magic number.

    Raises ``SystemExit`` with the file name when either check fails: these scripts stop
    rather than build package files from a corrupted or different copy.
    """
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


def read_test_set(source: Path = DEFAULT_SOURCE) -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 MNIST test digits: images uint8 (10000, 28, 28) and labels uint8 (10000,)."""
    images = read_idx(source / IMAGES, 2051)
    labels = read_idx(source / LABELS, 2049)
    if images.shape[0] != labels.shape[0]:
        raise SystemExit("image and label counts differ")
    return images, labels
