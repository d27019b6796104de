"""CIFAR-10 (SPEC 5): the ``cifar-10-batches-py`` pickles from a path or a download, and an
offline stand-in built from Fashion-MNIST or MNIST.

No package ships CIFAR-10. :func:`load_image_dataset` returns the real data when it is found and
the stand-in otherwise, with ``ImageData.source`` saying which was used so run reports can tell.
"""

from __future__ import annotations

import os
import tarfile
import warnings
from pathlib import Path, PurePosixPath

import numpy as np

from ._common import (
    DataFormatError,
    DataNotFoundError,
    ImageData,
    StandInWarning,
    check_split,
    default_data_dir,
    download_file,
    load_array_pickle,
)
from .fashion_mnist import load_fashion_mnist
from .mnist import load_mnist

CIFAR10_URLS = ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",)
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"  #: of the published archive
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_BATCHES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
STANDIN_DATASETS = ("auto", "fashion-mnist", "mnist")


def find_cifar10_folder(path: str | os.PathLike) -> Path | None:
    """The ``cifar-10-batches-py`` folder at ``path`` or directly inside it, or None."""
    path = Path(path).expanduser()
    for folder in (path, path / CIFAR10_FOLDER):
        if any((folder / batch).is_file() for names in CIFAR10_BATCHES.values() for batch in names):
            return folder
    return None


def read_cifar10_batch(file: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 batch pickle.

    Parameters
    ----------
    file : path
        E.g. ``cifar-10-batches-py/data_batch_1``: a pickled dict with ``b"data"`` (uint8, shape
        (N, 3072): the red, green, blue 32x32 planes, row-major) and ``b"labels"`` (N ints).

    Returns
    -------
    images : np.ndarray
        uint8, shape (N, 3, 32, 32).
    labels : np.ndarray
        int64, shape (N,).
    """
    file = Path(file)
    if not file.is_file():
        raise DataNotFoundError(f"`file` {file} does not exist.")
    with open(file, "rb") as handle:
        batch = load_array_pickle(handle, "bytes", file, "CIFAR-10 batch")
    if not isinstance(batch, dict):
        raise DataFormatError(f"{file} holds a {type(batch).__name__}, not a CIFAR-10 batch dict.")
    # Keys are bytes in the published (Python 2) pickles, str in re-pickled copies.
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise DataFormatError(
            f"{file} lacks the b'data' or b'labels' entry (keys: {sorted(map(repr, batch))}); "
            "it is not a CIFAR-10 python batch. Fetch the archive again."
        )
    data, labels = np.asarray(data), np.asarray(labels)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or labels.shape != (len(data),):
        raise DataFormatError(
            f"{file} has data {data.dtype} {data.shape} and labels {labels.shape}; expected uint8 "
            "(N, 3072) and (N,)."
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataFormatError(f"{file} has labels in {labels.min()}..{labels.max()}; expected 0..9.")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def download_cifar10(folder: str | os.PathLike) -> Path:
    """Download the CIFAR-10 python archive (MD5 verified) into ``folder`` and unpack it there.

    Returns
    -------
    Path
        ``folder / "cifar-10-batches-py"``.
    """
    folder = Path(folder).expanduser()
    archive = folder / CIFAR10_ARCHIVE
    if not archive.is_file():
        download_file(CIFAR10_URLS, archive, md5=CIFAR10_MD5)
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            name = PurePosixPath(member.name)
            # Only the batch files, and never a path that climbs out of the folder.
            if not member.isfile() or name.is_absolute() or ".." in name.parts or name.parts[0] != CIFAR10_FOLDER:
                continue
            target = folder.joinpath(*name.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as source, open(target, "wb") as out:
                out.write(source.read())
    return folder / CIFAR10_FOLDER


def load_cifar10(path: str | os.PathLike | None = None, split: str = "train", download: bool = False) -> ImageData:
    """Load one split of CIFAR-10 from the ``cifar-10-batches-py`` pickles.

    Parameters
    ----------
    path : path, optional
        The ``cifar-10-batches-py`` folder or the folder holding it. None looks in
        ``default_data_dir("cifar10")`` (``$GIB_DATA_DIR/cifar10`` or ``~/.cache/gib/cifar10``).
    split : {"train", "test"}
        The 50,000 images of ``data_batch_1..5`` or the 10,000 of ``test_batch``.
    download : bool
        Fetch and unpack the archive (163 MB, MD5 verified) into ``path`` or the data directory
        when the batches are not found.

    Returns
    -------
    ImageData
        ``x`` float32 (N, 3, 32, 32) in [0, 1] (pixel / 255), ``y`` int64 0..9.
    """
    check_split(split)
    root = Path(path).expanduser() if path is not None else default_data_dir("cifar10")
    folder = find_cifar10_folder(root)
    note = ""
    if folder is None and download:
        folder = download_cifar10(root)
        note = f" (downloaded from {CIFAR10_URLS[0]})"
    if folder is None:
        raise DataNotFoundError(
            f"CIFAR-10 {split} data not found: no {CIFAR10_FOLDER} batches in {root} or {root / CIFAR10_FOLDER}.\n"
            "Fix one of:\n"
            f"  - pass `path=` the {CIFAR10_FOLDER} folder (data_batch_1..5, test_batch) or its parent\n"
            f"  - pass `download=True` to fetch {CIFAR10_URLS[0]} (MD5 verified) into {root}\n"
            "  - use the offline stand-in: `offline_standin()`, or "
            "`load_image_dataset('cifar10', allow_standin=True)`"
        )
    missing = [name for name in CIFAR10_BATCHES[split] if not (folder / name).is_file()]
    if missing:
        raise DataNotFoundError(
            f"{folder} lacks {', '.join(missing)} of the CIFAR-10 {split} split; the folder is incomplete. "
            "Unpack the archive again, or pass `download=True` with an empty `path=`."
        )
    parts = [read_cifar10_batch(folder / name) for name in CIFAR10_BATCHES[split]]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    x = images.astype(np.float32) / np.float32(255.0)
    return ImageData(x, labels, f"CIFAR-10 {split}: pickles in {folder}{note}", CIFAR10_CLASSES)


def pad_and_tile(x: np.ndarray, size: int = 32, channels: int = 3) -> np.ndarray:
    """Zero-pad (N, 1, H, W) images to (N, channels, size, size), the gray plane copied to each channel."""
    n, c, h, w = x.shape
    if c != 1 or h > size or w > size:
        raise ValueError(f"`x` has shape {x.shape}; pass single-channel images no larger than {size}x{size}.")
    top, left = (size - h) // 2, (size - w) // 2
    out = np.zeros((n, channels, size, size), dtype=np.float32)
    out[:, :, top : top + h, left : left + w] = x
    return out


def offline_standin(
    split: str = "train", dataset: str = "auto", path: str | os.PathLike | None = None
) -> ImageData:
    """CIFAR-10's offline stand-in: Fashion-MNIST or MNIST padded to 32x32 and tiled to 3 channels.

    Parameters
    ----------
    split : {"train", "test"}
    dataset : {"auto", "fashion-mnist", "mnist"}
        "auto" takes Fashion-MNIST when its files are found (SPEC 5's first choice), else MNIST.
    path : path, optional
        Passed to the chosen loader; only with an explicit ``dataset``.

    Returns
    -------
    ImageData
        ``x`` float32 (N, 3, 32, 32) in [0, 1]; ``classes`` are the stand-in's own; ``source`` says
        which data set stood in and from where.
    """
    check_split(split)
    if dataset not in STANDIN_DATASETS:
        raise ValueError(f"`dataset` is {dataset!r}; pass one of {', '.join(map(repr, STANDIN_DATASETS))}.")
    if dataset == "auto" and path is not None:
        raise ValueError("`path` needs an explicit `dataset` ('fashion-mnist' or 'mnist'), not 'auto'.")
    if dataset == "fashion-mnist":
        data = load_fashion_mnist(path, split)
    elif dataset == "mnist":
        data = load_mnist(path, split)
    else:
        try:
            data = load_fashion_mnist(None, split)
        except DataNotFoundError as fashion_error:
            try:
                data = load_mnist(None, split)
            except DataNotFoundError as mnist_error:
                raise DataNotFoundError(
                    f"no offline stand-in for CIFAR-10: neither Fashion-MNIST nor MNIST was found.\n"
                    f"{fashion_error}\n{mnist_error}"
                ) from mnist_error
    source = f"{data.source}, padded to 32x32 and tiled to 3 channels (offline stand-in for CIFAR-10)"
    return ImageData(pad_and_tile(data.x), data.y, source, data.classes)


_IMAGE_LOADERS = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist, "cifar10": load_cifar10}
_ALIASES = {
    "fashion_mnist": "fashion-mnist",
    "fashionmnist": "fashion-mnist",
    "cifar-10": "cifar10",
    "cifar_10": "cifar10",
}


def load_image_dataset(
    name: str,
    path: str | os.PathLike | None = None,
    split: str = "train",
    download: bool = False,
    allow_standin: bool = True,
) -> ImageData:
    """Load an image data set by name; for CIFAR-10, fall back to the offline stand-in.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist", "cifar10"}
    path, split, download
        As for the data set's own loader.
    allow_standin : bool
        For "cifar10" only: when ``path`` is None and the batches are not found (and
        ``download`` is False), return :func:`offline_standin` and warn (``StandInWarning``).
        An explicit ``path`` that holds no data, a failed download, or a corrupt file still raises.

    Returns
    -------
    ImageData
        With ``source`` naming the data actually used.
    """
    key = _ALIASES.get(str(name).lower(), str(name).lower())
    if key not in _IMAGE_LOADERS:
        raise ValueError(f"`name` is {name!r}; pass one of {', '.join(map(repr, _IMAGE_LOADERS))}.")
    if key != "cifar10" or not allow_standin or path is not None or download:
        return _IMAGE_LOADERS[key](path, split, download)
    check_split(split)
    try:
        return load_cifar10(None, split)
    except DataNotFoundError as error:
        standin = offline_standin(split)
        warnings.warn(
            f"CIFAR-10 not found ({str(error).splitlines()[0]}); using {standin.source}. "
            "Pass `path=` or `download=True` for the real data.",
            StandInWarning,
            stacklevel=2,
        )
        return standin
