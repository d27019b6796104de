from pathlib import Path

import numpy as np
import pytest

from gib.data import DataNotFoundError, load_fashion_mnist
from gib.data import fashion_mnist

REAL_DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")


def test_debian_folder_is_the_default(tmp_path, write_mnist_folder, monkeypatch):
    folder = tmp_path / "usr-share"
    arrays = write_mnist_folder(folder)
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FOLDER", folder)
    data = load_fashion_mnist(split="test")
    np.testing.assert_array_equal(data.y, arrays["t10k"][1])
    assert data.x.shape == (4, 1, 28, 28) and str(folder) in data.source
    assert data.classes[9] == "Ankle boot"


def test_explicit_folder_raw_files(tmp_path, write_mnist_folder):
    write_mnist_folder(tmp_path, gz=False)
    assert len(load_fashion_mnist(tmp_path, "train")) == 6


def test_not_found_message(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load_fashion_mnist(split="train")
    message = str(info.value)
    assert "no-debian-package" in message and str(tmp_path / "cache" / "fashion-mnist") in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "path=" in message and "download=True" in message


@pytest.mark.skipif(
    not REAL_DEBIAN_FOLDER.is_dir(), reason="Debian package dataset-fashion-mnist is not installed"
)
def test_real_debian_files():
    data = load_fashion_mnist(REAL_DEBIAN_FOLDER, split="test")
    assert data.x.shape == (10000, 1, 28, 28)
    assert np.bincount(data.y).tolist() == [1000] * 10
