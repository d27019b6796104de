"""The 12-bit task of Shwartz-Ziv & Tishby (2017), generated exactly (SPEC 4 ``activations``, SPEC 5).

Inputs are all 4096 patterns of 12 bits; pattern r is r in binary, most significant bit first
(column 0), the row order of the original ``var_u.mat``.

The original task (``task="original"``, the default)
----------------------------------------------------
The labels of ``var_u.mat`` are given, all 4096 of them in the original row order, by a rule
measured on the original file. With k the number of active bits and n_anti, n_A, n_B the numbers
of active pairs (both bits 1) in three classes of the 66 pairs of bits,

    y = 1  iff  k - 0.33 n_anti - 0.2136 n_A + 0.0194 n_B > 4.17.

- ``ANTIPODAL_PAIRS`` (6 pairs): the antipodal vertices when the bits sit on an icosahedron;
- ``PAIRS_A``, ``PAIRS_B`` (30 pairs each, the rest): each is an icosahedron graph
  (every bit in 5 pairs, every pair in 2 triangles), and the antipodal pairs are at distance 3 in
  both. With the bits on an icosahedron whose edges are the A pairs, the B pairs are the second
  neighbours.

The weights are multiples of 1e-4, so :func:`original_score` counts in those units with integers and
the labels are exact (the closest pattern is 0.024 from the threshold). The three pair classes are
kept by the 120 bit permutations of :func:`twelve_bit_symmetries` (the symmetries of the
icosahedron, reflections included), so the label is a function of the pattern's orbit under them:
82 orbits (:func:`twelve_bit_orbits`; Burnside's count), which take 64 distinct values of
(k, n_anti, n_A, n_B).

The task is close to a threshold on the number of active bits: P(y=1 | k) is 0 for k <= 4, 0.076
at k = 5, 0.576 at 6, 0.924 at 7 and 1 for k >= 8; 2118 of 4096 patterns are positive, and a
logistic regression on the 12 bits (scikit-learn's defaults, fitted and scored on all 4096
patterns) gets 87.5% of them right.

The spherical alternative (``task="spherical"``)
------------------------------------------------
gib's earlier generated task, a different and harder one: the 12 bits sit on the 12 vertices
``u_1..u_12`` of a regular icosahedron (unit vectors, in the order of :data:`ICOSAHEDRON`, gib's
own order: its antipodes are not the pairs of ``ANTIPODAL_PAIRS``), and

- ``f(x) = |sum_i x_i u_i|^2 = sum_i sum_j x_i x_j (u_i . u_j)`` (:func:`spherical_score`), the
  squared length of the sum of the active vertices;
- ``y = 1`` when ``f(x) > theta``, with theta the cut between two consecutive values of f that
  brings the positive fraction closest to 1/2 (2036 of 4096 = 49.7%; f takes only 20 values).

The vertices sum to zero, so flipping all 12 bits maps the resultant ``s`` to ``-s`` and keeps
every label. Hence every bit alone is independent of y (flipping pairs the positives with
x_i = 1 and those with x_i = 0), and P(y=1 | k) is the same at k and 12 - k (0 at k <= 1,
0.576 at k = 6): no linear function of the bits beats chance (the same logistic regression gets
50.3% right). It is kept as a named alternative, not as the paper's task.

:func:`load_var_u_mat` reads the original file when the user has it.
"""

from __future__ import annotations

import functools
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._validation import one_of
from ._common import DataFormatError, DataNotFoundError, split_indices

N_BITS = 12
TWELVE_BIT_TASKS = ("original", "spherical")
_PLACE = 2 ** np.arange(N_BITS - 1, -1, -1)  # value of each bit in a pattern's code (its row)

#: Pairs of bits at antipodal vertices (SPEC 5 12-bit task; module docstring).
ANTIPODAL_PAIRS = ((0, 9), (1, 7), (2, 5), (3, 6), (4, 10), (8, 11))
#: The 30 pairs of the first icosahedron graph of the original task.
PAIRS_A = (
    (0, 2), (0, 4), (0, 6), (0, 7), (0, 8), (1, 5), (1, 6), (1, 8), (1, 9), (1, 10),
    (2, 6), (2, 7), (2, 10), (2, 11), (3, 4), (3, 5), (3, 7), (3, 9), (3, 11), (4, 5),
    (4, 7), (4, 8), (5, 8), (5, 9), (6, 8), (6, 10), (7, 11), (9, 10), (9, 11), (10, 11),
)
#: The other 30 of the 66 pairs: the second icosahedron graph.
PAIRS_B = tuple(
    pair for pair in itertools.combinations(range(N_BITS), 2)
    if pair not in ANTIPODAL_PAIRS and pair not in PAIRS_A
)
#: The rule in units of 1e-4, so that it is evaluated in integers: weight of each active bit, of
#: each active pair of ANTIPODAL_PAIRS, PAIRS_A, PAIRS_B, and the threshold (module docstring).
ORIGINAL_RULE = {"bit": 10000, "anti": -3300, "A": -2136, "B": 194, "threshold": 41700}
_ORIGINAL_RULE_TEXT = "y = [k - 0.33 n_anti - 0.2136 n_A + 0.0194 n_B > 4.17]"

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
        The task in words: the original one generated by gib's rule, the spherical alternative,
        or the ``var_u.mat`` file read (named by its file name).
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


def _bits(patterns: np.ndarray, binary: bool = False) -> np.ndarray:
    """``patterns`` as an (N, 12) array, checked at the public edge (0/1 only if ``binary``)."""
    patterns = np.asarray(patterns)
    if patterns.ndim != 2 or patterns.shape[1] != N_BITS:
        raise ValueError(f"`patterns` has shape {patterns.shape}; pass (N, {N_BITS}) bits.")
    if binary and not np.isin(patterns, (0, 1)).all():
        raise ValueError("`patterns` must hold only 0 and 1 (active and inactive bits).")
    return patterns


def spherical_score(patterns: np.ndarray) -> np.ndarray:
    """f(x) = |sum_i x_i u_i|^2 for each row of ``patterns`` (N, 12), u_i the icosahedron vertices."""
    resultant = _bits(patterns).astype(np.float64) @ ICOSAHEDRON
    return np.einsum("nd,nd->n", resultant, resultant)


def _pair_matrix(pairs: tuple[tuple[int, int], ...]) -> np.ndarray:
    matrix = np.zeros((N_BITS, N_BITS), dtype=np.int64)
    for i, j in pairs:
        matrix[i, j] = matrix[j, i] = 1
    return matrix


def pair_counts(patterns: np.ndarray | None = None) -> np.ndarray:
    """Active bits and active pairs of each class of the original task (module docstring).

    Parameters
    ----------
    patterns : np.ndarray, optional
        0/1 patterns, shape (N, 12); None for all 4096 (:func:`twelve_bit_patterns` order).

    Returns
    -------
    np.ndarray
        int64 (N, 4): columns k, n_anti, n_A, n_B (pairs with both bits 1 in
        ``ANTIPODAL_PAIRS``, ``PAIRS_A``, ``PAIRS_B``).
    """
    patterns = twelve_bit_patterns() if patterns is None else _bits(patterns, binary=True)
    bits = patterns.astype(np.int64)
    # x^T M x counts each active pair of the class twice (M symmetric, zero diagonal)
    pairs = [np.einsum("ni,ij,nj->n", bits, _pair_matrix(p), bits) // 2
             for p in (ANTIPODAL_PAIRS, PAIRS_A, PAIRS_B)]
    return np.stack([bits.sum(axis=1), *pairs], axis=1)


def original_score(patterns: np.ndarray | None = None) -> np.ndarray:
    """k - 0.33 n_anti - 0.2136 n_A + 0.0194 n_B - 4.17 per pattern, in units of 1e-4 (int64).

    Positive exactly for the positive patterns of the original task; integers, so no rounding
    decides a label (module docstring).
    """
    weights = np.array([ORIGINAL_RULE[name] for name in ("bit", "anti", "A", "B")])
    return pair_counts(patterns) @ weights - ORIGINAL_RULE["threshold"]


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


def twelve_bit_labels(patterns: np.ndarray | None = None, task: str = "original") -> np.ndarray:
    """Labels of the 12-bit task as int64 0/1 (module docstring).

    Parameters
    ----------
    patterns : np.ndarray, optional
        0/1 patterns, shape (N, 12); None for all 4096 (:func:`twelve_bit_patterns` order).
    task : {"original", "spherical"}
        The original task of Shwartz-Ziv & Tishby, or gib's earlier bit-flip-symmetric one. The
        spherical threshold is fixed by all 4096 patterns, so a subset gets the same labels.

    Returns
    -------
    np.ndarray
        int64 (N,).

    Examples
    --------
    >>> int(twelve_bit_labels().sum()), int(twelve_bit_labels(task="spherical").sum())
    (2118, 2036)
    """
    one_of(task, "task", TWELVE_BIT_TASKS)
    if task == "original":
        return (original_score(patterns) > 0).astype(np.int64)
    threshold = balanced_threshold(spherical_score(twelve_bit_patterns()))
    patterns = twelve_bit_patterns() if patterns is None else patterns
    return (spherical_score(patterns) > threshold).astype(np.int64)


@functools.cache
def _symmetries() -> np.ndarray:
    # Backtracking: bit n may go to c only if every pair (i, n) already placed keeps its class.
    # Images are fixed one bit at a time, so the search visits little more than the 120 answers.
    pair_class = np.full((N_BITS, N_BITS), -1)
    for label, pairs in enumerate((ANTIPODAL_PAIRS, PAIRS_A, PAIRS_B)):
        for i, j in pairs:
            pair_class[i, j] = pair_class[j, i] = label
    found = []

    def extend(image: list[int]) -> None:
        n = len(image)
        if n == N_BITS:
            found.append(tuple(image))
            return
        for c in range(N_BITS):
            if c not in image and all(pair_class[i, n] == pair_class[image[i], c] for i in range(n)):
                extend(image + [c])

    extend([])
    symmetries = np.array(found, dtype=np.int64)
    symmetries.flags.writeable = False
    return symmetries


def twelve_bit_symmetries() -> np.ndarray:
    """The bit permutations that keep the three pair classes of the original task.

    Returns
    -------
    np.ndarray
        int64 (120, 12), read-only; row g sends bit i to bit ``g[i]``, i.e. pattern x to x' with
        ``x'[:, g] = x``. The identity is row 0.
    """
    return _symmetries()


def twelve_bit_orbits(patterns: np.ndarray | None = None) -> np.ndarray:
    """Orbit of each pattern under :func:`twelve_bit_symmetries`, numbered 0..81.

    Orbits are numbered in the order of their smallest pattern code (row of
    :func:`twelve_bit_patterns`), so the empty pattern is orbit 0.

    Parameters
    ----------
    patterns : np.ndarray, optional
        0/1 patterns, shape (N, 12); None for all 4096.

    Returns
    -------
    np.ndarray
        int64 (N,).
    """
    patterns = twelve_bit_patterns() if patterns is None else _bits(patterns, binary=True)
    codes = patterns.astype(np.int64) @ _PLACE
    return _orbit_of_code()[codes]


@functools.cache
def _orbit_of_code() -> np.ndarray:
    table = twelve_bit_patterns().astype(np.int64)
    # code of x' = sum_i x_i 2^(11 - g[i]): the image of every pattern under every symmetry
    images = np.stack([table @ _PLACE[g] for g in twelve_bit_symmetries()])
    orbit = np.unique(images.min(axis=0), return_inverse=True)[1].astype(np.int64)
    orbit.flags.writeable = False
    return orbit


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
    data_path: str | os.PathLike | None = None, seed: int = 0, test_fraction: float = 0.2,
    task: str = "original",
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
    task : {"original", "spherical"}
        Generated labels: the original task of Shwartz-Ziv & Tishby, or gib's earlier
        bit-flip-symmetric one. A ``data_path`` file holds the original task, so it needs
        ``task="original"``.

    Returns
    -------
    TwelveBitTask
        Unpacks as ``x_train, y_train, x_test, y_test``; ``source`` names the task in words.

    Examples
    --------
    >>> x_train, y_train, x_test, y_test = twelve_bit_task(seed=0)
    >>> x_train.shape, x_test.shape
    ((3277, 12), (819, 12))
    """
    one_of(task, "task", TWELVE_BIT_TASKS)
    if data_path is not None and task != "original":
        raise ValueError(
            f"`task`={task!r} with `data_path`: var_u.mat holds the original task; drop `data_path` "
            "to generate the spherical one, or leave `task='original'`."
        )
    if data_path is None:
        patterns, labels = twelve_bit_patterns(), twelve_bit_labels(task=task)
        positive = f"{int(labels.sum())}/{len(labels)} positive"
        if task == "original":
            source = (
                "12-bit task of Shwartz-Ziv & Tishby (original labels, generated exactly by gib's rule: "
                f"{_ORIGINAL_RULE_TEXT}, k active bits, n_* active pairs of three icosahedron pair "
                f"classes; {positive})"
            )
        else:
            source = (
                "gib's spherical 12-bit task, not the original one (y = [|sum_i x_i u_i|^2 > theta], "
                f"u_i icosahedron vertices; unchanged when all bits flip; {positive})"
            )
    else:
        patterns, labels = load_var_u_mat(data_path)
        differ = int(np.sum(twelve_bit_labels(patterns) != labels))
        agreement = (
            f"labels equal to gib's rule on all {len(labels)} patterns" if differ == 0
            else f"labels differ from gib's rule on {differ} of {len(labels)} patterns"
        )
        # the name only: a report should not carry the path of the machine that made it
        source = (
            f"12-bit task of Shwartz-Ziv & Tishby read from {Path(data_path).name} "
            f"({int(labels.sum())}/{len(labels)} positive; {agreement})"
        )
    train_index, test_index = split_indices(len(patterns), test_fraction, seed)
    return TwelveBitTask(
        patterns[train_index], labels[train_index], patterns[test_index], labels[test_index],
        train_index, test_index, f"{source}; seed-{seed} split, test fraction {test_fraction}",
    )
