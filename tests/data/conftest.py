"""Fixtures of the data tests: tiny files in each real format, and no real data directories."""

from __future__ import annotations

import io
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from gib.data import _common, fashion_mnist, write_idx


@pytest.fixture(autouse=True)
def isolated_data_dirs(tmp_path, monkeypatch):
    """Point the download folder and the Debian folder at empty places, so no test sees real data
    unless it asks for it by path."""
    monkeypatch.setenv("GIB_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(fashion_mnist, "DEBIAN_FOLDER", tmp_path / "no-debian-package")


@pytest.fixture
def write_mnist_folder():
    """Factory: write tiny MNIST-style IDX files (both splits) into a folder; returns the arrays."""

    def write(folder: Path, n_train: int = 6, n_test: int = 4, gz: bool = True, seed: int = 0) -> dict:
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(seed)
        suffix = ".gz" if gz else ""
        arrays = {}
        for stem, n in (("train", n_train), ("t10k", n_test)):
            images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
            labels = (np.arange(n) % 10).astype(np.uint8)
            write_idx(folder / f"{stem}-images-idx3-ubyte{suffix}", images)
            write_idx(folder / f"{stem}-labels-idx1-ubyte{suffix}", labels)
            arrays[stem] = (images, labels)
        return arrays

    return write


@pytest.fixture
def fake_web(monkeypatch):
    """Serve ``{url: bytes}`` to the downloader instead of the network; returns the dict and a log."""
    served: dict[str, bytes] = {}
    requested: list[str] = []

    def urlopen(url, timeout=None):
        requested.append(url)
        if url not in served:
            raise urllib.error.URLError(f"no route to {url} (test)")
        return io.BytesIO(served[url])

    monkeypatch.setattr(_common, "_urlopen", urlopen)
    return served, requested
