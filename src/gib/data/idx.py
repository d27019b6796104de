"""The IDX file format of MNIST and Fashion-MNIST: read and write, gzipped or raw.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the values in C order, big-endian.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from ._common import DataFormatError, DataNotFoundError, check_split

#: IDX type code -> big-endian NumPy dtype.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"

#: File-name stems of the two splits, as published (t10k = the 10,000 test images).
SPLIT_STEMS = {"train": "train", "test": "t10k"}


def _read_bytes(path: Path) -> bytes:
    """File contents, gunzipped when the file starts with the gzip magic (whatever its name)."""
    raw = path.read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as error:
        raise DataFormatError(
            f"{path} is a damaged gzip file ({error}); delete it and fetch it again."
        ) from error


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped or not; gzip is detected from the content, not the name).

    Parameters
    ----------
    path : path
        The file, e.g. ``train-images-idx3-ubyte.gz``.

    Returns
    -------
    np.ndarray
        The array in native byte order with the file's shape and type (uint8 for images/labels).

    Raises
    ------
    DataFormatError
        Bad magic number, unknown type code, or a size that does not match the header.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"`path` {path} does not exist or is not a file.")
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataFormatError(
            f"{path} is not an IDX file: it should start with two zero bytes, it starts with "
            f"{data[:4].hex() or 'nothing'}. Delete it and fetch it again."
        )
    type_code, n_dims = data[2], data[3]
    if type_code not in IDX_DTYPES:
        raise DataFormatError(
            f"{path} has the unknown IDX type code 0x{type_code:02x} (known: "
            f"{', '.join(f'0x{c:02x}' for c in IDX_DTYPES)})."
        )
    header_size = 4 + 4 * n_dims
    if len(data) < header_size:
        raise DataFormatError(f"{path} is truncated inside its header ({len(data)} bytes).")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=n_dims, offset=4))
    dtype = IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header_size != expected:
        raise DataFormatError(
            f"{path} holds {len(data) - header_size} data bytes, but its header (shape {shape}, "
            f"{dtype.name}) promises {expected}: the file is truncated or corrupt. Fetch it again."
        )
    values = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write an array as an IDX file.

    Parameters
    ----------
    path : path
        Destination file.
    array : array-like
        Values of a dtype IDX knows (uint8, int8, int16, int32, float32, float64), at least 1-D.
    compress : bool, optional
        Gzip the file; by default when ``path`` ends with ``.gz``.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    array = np.asarray(array)
    by_kind = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
    code = by_kind.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(
            f"`array` has dtype {array.dtype}, which IDX cannot hold; cast it to one of "
            "uint8, int8, int16, int32, float32, float64."
        )
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"`array` has {array.ndim} dimensions; IDX needs 1 to 255.")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(IDX_DTYPES[code]).tobytes(order="C")
    if compress is None:
        compress = path.suffix == ".gz"
    # mtime=0 keeps the bytes (and so any checksum) the same from run to run.
    path.write_bytes(gzip.compress(payload, mtime=0) if compress else payload)
    return path


def find_idx_file(folder: Path, split: str, kind: str) -> Path | None:
    """The IDX file of one split and kind ("images" or "labels") in ``folder``, or None.

    Accepts the published names (``train-images-idx3-ubyte``), the dotted variant some mirrors
    use (``train-images.idx3-ubyte``), each raw or ``.gz``.
    """
    stem, dims = SPLIT_STEMS[split], {"images": 3, "labels": 1}[kind]
    for sep in ("-", "."):
        for suffix in ("", ".gz"):
            candidate = folder / f"{stem}-{kind}{sep}idx{dims}-ubyte{suffix}"
            if candidate.is_file():
                return candidate
    return None


def expected_idx_names(split: str) -> list[str]:
    """The file names a folder of IDX files needs for ``split`` (gzipped form)."""
    stem = SPLIT_STEMS[split]
    return [f"{stem}-images-idx3-ubyte.gz", f"{stem}-labels-idx1-ubyte.gz"]


def read_idx_split(folder: str | os.PathLike, split: str) -> tuple[np.ndarray, np.ndarray, Path]:
    """Read the images and labels of one MNIST-style split from a folder of IDX files.

    Returns
    -------
    images : np.ndarray
        uint8, shape (N, rows, cols).
    labels : np.ndarray
        int64, shape (N,).
    image_file : Path
        The images file read (for the source string).

    Raises
    ------
    DataNotFoundError
        One of the two files is missing (the message lists the names looked for).
    DataFormatError
        The files are corrupt or do not fit together.
    """
    check_split(split)
    folder = Path(folder)
    images_file, labels_file = find_idx_file(folder, split, "images"), find_idx_file(folder, split, "labels")
    if images_file is None or labels_file is None:
        missing = [n for n, f in zip(expected_idx_names(split), (images_file, labels_file)) if f is None]
        raise DataNotFoundError(f"{folder} lacks {' and '.join(missing)} (raw or .gz).")
    images, labels = read_idx(images_file), read_idx(labels_file)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise DataFormatError(
            f"{images_file} holds {images.dtype} of shape {images.shape}; MNIST-style images are "
            "uint8 of shape (N, rows, cols)."
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataFormatError(
            f"{labels_file} holds {labels.dtype} of shape {labels.shape}; labels are uint8 of shape (N,)."
        )
    if len(images) != len(labels):
        raise DataFormatError(
            f"{images_file} has {len(images)} images but {labels_file} has {len(labels)} labels; "
            "the two files come from different sets. Fetch both again."
        )
    return images, labels.astype(np.int64), images_file
