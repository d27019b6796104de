"""The 12-bit task of Shwartz-Ziv & Tishby (2017), generated here (SPEC 4 ``activations``, SPEC 5).

Inputs are all 4096 patterns of 12 bits. The original task places the 12 bits evenly on a sphere
and labels each pattern by thresholding a spherically symmetric function of it, near 50% positives.
The original labels (``var_u.mat``) are not shipped, so the project fixes its own such function:

- the 12 bits sit on the 12 vertices ``u_1..u_12`` of a regular icosahedron (unit vectors, in the
  order of :data:`ICOSAHEDRON`);
- ``f(x) = |sum_i x_i u_i|^2 = sum_i sum_j x_i x_j (u_i . u_j)``, the squared length of the sum of
  the active vertices. It depends on the pattern only through the inner products of its vertices,
  so every rotation of the sphere that maps the vertices onto themselves leaves it unchanged;
- ``y = 1`` when ``f(x) > theta``, with theta the cut between two consecutive values of f that
  brings the positive fraction closest to 1/2 (2036 of 4096 = 49.7%; f takes only 20 values,
  so exactly 50% is out of reach).

Pattern k is the binary expansion of k, most significant bit first (column 0).
:func:`load_var_u_mat` reads the original file when the user has it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._common import DataFormatError, DataNotFoundError, split_indices

N_BITS = 12
_PHI = (1.0 + 5.0**0.5) / 2.0
#: Icosahedron vertices (0, ±1, ±phi), (±1, ±phi, 0), (±phi, 0, ±1), scaled to unit length.
ICOSAHEDRON = np.array(
    [
        (0.0, a, b * _PHI) if k == 0 else (a, b * _PHI, 0.0) if k == 1 else (b * _PHI, 0.0, a)
        for a in (-1.0, 1.0)
        for b in (-1.0, 1.0)
        for k in range(3)
    ]
) / np.sqrt(1.0 + _PHI**2)


@dataclass(frozen=True)
class TwelveBitTask:
    """A train/test split of the 12-bit task. Unpacks as ``x_train, y_train, x_test, y_test``.

    Attributes
    ----------
    x_train, x_test : np.ndarray
        float32 0/1 patterns, shape (N, 12).
    y_train, y_test : np.ndarray
        int64 0/1 labels, shape (N,).
    train_index, test_index : np.ndarray
        Rows of the full pattern table (:func:`twelve_bit_patterns` order) in each part.
    source : str
        Generated here, or the ``var_u.mat`` file read.
    """

    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    train_index: np.ndarray = field(repr=False)
    test_index: np.ndarray = field(repr=False)
    source: str

    def __iter__(self):
        return iter((self.x_train, self.y_train, self.x_test, self.y_test))


def twelve_bit_patterns() -> np.ndarray:
    """All 4096 binary patterns of 12 bits, row k = k in binary (MSB first), float32 (4096, 12)."""
    codes = np.arange(2**N_BITS)[:, None]
    return ((codes >> np.arange(N_BITS - 1, -1, -1)) & 1).astype(np.float32)


def spherical_score(patterns: np.ndarray) -> np.ndarray:
    """f(x) = |sum_i x_i u_i|^2 for each row of ``patterns`` (N, 12), u_i the icosahedron vertices."""
    patterns = np.asarray(patterns, dtype=np.float64)
    if patterns.ndim != 2 or patterns.shape[1] != N_BITS:
        raise ValueError(f"`patterns` has shape {patterns.shape}; pass (N, {N_BITS}) bits.")
    resultant = patterns @ ICOSAHEDRON
    return np.einsum("nd,nd->n", resultant, resultant)


def balanced_threshold(scores: np.ndarray) -> float:
    """The cut between consecutive distinct scores that makes ``mean(scores > cut)`` closest to 1/2.

    Ties in closeness go to the lower cut. Scores are rounded to 9 decimals first, so values equal
    up to float error count as one.
    """
    values = np.unique(np.round(np.asarray(scores, dtype=np.float64), 9))
    if len(values) < 2:
        raise ValueError("`scores` are all equal; no threshold can split them.")
    cuts = (values[:-1] + values[1:]) / 2.0
    positive = np.array([np.mean(scores > cut) for cut in cuts])
    return float(cuts[int(np.argmin(np.abs(positive - 0.5)))])


def twelve_bit_labels(patterns: np.ndarray | None = None) -> np.ndarray:
    """Labels of the generated task: ``f(x) > theta`` as int64 0/1 (module docstring).

    theta is fixed by the full set of 4096 patterns, so labelling a subset gives the same labels.
    """
    threshold = balanced_threshold(spherical_score(twelve_bit_patterns()))
    patterns = twelve_bit_patterns() if patterns is None else patterns
    return (spherical_score(patterns) > threshold).astype(np.int64)


def load_var_u_mat(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read the original ``var_u.mat`` of the Information Bottleneck code.

    Parameters
    ----------
    path : path
        The MATLAB file with ``F`` (4096 x 12 bit patterns) and ``y`` (4096 labels, any shape).

    Returns
    -------
    patterns : np.ndarray
        float32 (N, 12) 0/1.
    labels : np.ndarray
        int64 (N,) 0/1.
    """
    from scipy.io import loadmat  # scipy.io is slow to import; only this reader needs it

    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(
            f"`path` {path} does not exist. Pass the location of var_u.mat (from the original IB code), "
            "or leave `data_path=None` to use the generated task."
        )
    try:
        contents = loadmat(path)
    except Exception as error:  # scipy raises several kinds for a non-MATLAB file
        raise DataFormatError(
            f"{path} is not a readable MATLAB file ({type(error).__name__}: {error})."
        ) from error
    missing = [name for name in ("F", "y") if name not in contents]
    if missing:
        found = sorted(k for k in contents if not k.startswith("__"))
        raise DataFormatError(
            f"{path} lacks the field(s) {', '.join(missing)}; var_u.mat holds F (patterns) and y (labels). "
            f"Fields found: {found or 'none'}."
        )
    patterns, labels = np.asarray(contents["F"]), np.asarray(contents["y"]).ravel()
    if patterns.ndim == 2 and patterns.shape[1] != N_BITS and patterns.shape[0] == N_BITS:
        patterns = patterns.T
    if patterns.ndim != 2 or patterns.shape[1] != N_BITS:
        raise DataFormatError(f"{path}: F has shape {patterns.shape}; expected (N, {N_BITS}).")
    if len(labels) != len(patterns):
        raise DataFormatError(f"{path}: F has {len(patterns)} rows but y has {len(labels)} labels.")
    if not (np.isin(patterns, (0, 1)).all() and np.isin(labels, (0, 1)).all()):
        raise DataFormatError(f"{path}: F and y must hold only 0 and 1.")
    return patterns.astype(np.float32), labels.astype(np.int64)


def twelve_bit_task(
    data_path: str | os.PathLike | None = None, seed: int = 0, test_fraction: float = 0.2
) -> TwelveBitTask:
    """The 12-bit task, split into train and test parts.

    Parameters
    ----------
    data_path : path, optional
        The original ``var_u.mat``; None generates the task (module docstring).
    seed : int
        Seed of the split; the same seed gives the same split.
    test_fraction : float
        Fraction of the patterns held out (819 of 4096 for 0.2).

    Returns
    -------
    TwelveBitTask
        Unpacks as ``x_train, y_train, x_test, y_test``.

    Examples
    --------
    >>> x_train, y_train, x_test, y_test = twelve_bit_task(seed=0)
    >>> x_train.shape, x_test.shape
    ((3277, 12), (819, 12))
    """
    if data_path is None:
        patterns, labels = twelve_bit_patterns(), twelve_bit_labels()
        source = (
            "12-bit task generated by gib: y = [|sum_i x_i u_i|^2 > theta], u_i icosahedron vertices, "
            f"{int(labels.sum())}/{len(labels)} positive"
        )
    else:
        patterns, labels = load_var_u_mat(data_path)
        source = f"12-bit task from {Path(data_path).expanduser()}"
    train_index, test_index = split_indices(len(patterns), test_fraction, seed)
    return TwelveBitTask(
        patterns[train_index], labels[train_index], patterns[test_index], labels[test_index],
        train_index, test_index, f"{source}; seed-{seed} split, test fraction {test_fraction}",
    )
