"""The embedded MNIST sample and keras's MNIST loader."""

import hashlib
from importlib import resources

import numpy as np
import pytest

import layerwidget
from layerwidget import DatasetUnavailableError, load_mnist, sample_digits
from layerwidget._tf import keras


def test_sample_is_the_first_1000_real_mnist_test_digits():
    images, labels = sample_digits()
    assert images.shape == (1000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (1000,)
    # Facts published with the MNIST test set: its first ten labels.
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert images.min() == 0 and images.max() == 255
    assert not images.flags.writeable  # shared, so nobody can corrupt it for others


def test_sample_matches_the_shared_idx_files_when_they_are_beside_the_repo(request):
    import gzip
    from pathlib import Path

    source = Path(request.config.rootpath).parent / "shared" / "data" / "mnist"
    if not source.exists():
        pytest.skip(f"{source} is not beside this checkout")
    raw = gzip.decompress((source / "t10k-images-idx3-ubyte.gz").read_bytes())
    assert hashlib.md5(raw).hexdigest() == "2646ac647ad5339dbf082846283269ea"
    idx = np.frombuffer(raw, np.uint8, offset=16).reshape(10000, 28, 28)
    np.testing.assert_array_equal(sample_digits()[0], idx[:1000])


def test_attribution_ships_with_the_sample():
    text = resources.files(layerwidget).joinpath("data/MNIST-LICENSE.md").read_text("utf-8")
    assert "LeCun" in text and "CC BY-SA 3.0" in text


def test_load_mnist_returns_keras_data_when_keras_can_load_it(monkeypatch):
    fake = ((np.zeros((2, 28, 28), np.uint8), np.zeros(2)), (np.ones((1, 28, 28)), np.ones(1)))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: fake)
    assert load_mnist(download=True) is fake


def test_load_mnist_offline_says_what_to_use_instead(monkeypatch):
    def offline():
        raise Exception("URL fetch failure on https://example.invalid/mnist.npz: "
                        "[Errno -3] Temporary failure in name resolution\nmore lines")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(DatasetUnavailableError) as info:
        load_mnist(download=True)
    message = str(info.value)
    assert "sample_digits()" in message and "~/.keras/datasets/mnist.npz" in message
    assert "more lines" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_load_mnist_without_downloads_reads_only_the_keras_cache(monkeypatch, tmp_path):
    def must_not_download():
        raise AssertionError("load_data was called although downloads are off")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", must_not_download)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("LAYERWIDGET_NO_DOWNLOAD", "1")
    with pytest.raises(DatasetUnavailableError, match=r"not cached.*downloads are off"):
        load_mnist()
    (tmp_path / "datasets").mkdir()
    images, labels = sample_digits()
    np.savez(tmp_path / "datasets" / "mnist.npz", x_train=images[:5], y_train=labels[:5],
             x_test=images[5:7], y_test=labels[5:7])
    (x_train, _y_train), (_x_test, y_test) = load_mnist()
    assert x_train.shape == (5, 28, 28) and y_test.tolist() == labels[5:7].tolist()
