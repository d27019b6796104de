"""k-nearest-neighbour estimators, ``ksg`` (SPEC 3): Kraskov-Stoegbauer-Grassberger, Ross,
Kozachenko-Leonenko.

- Continuous V: KSG estimator 1 (Kraskov, Stoegbauer & Grassberger, "Estimating mutual
  information", Phys. Rev. E 69 (2004) 066138, eq. 8). With eps_i the distance from sample i
  to its k-th nearest neighbour in the joint space (max-norm), n_a(i) and n_b(i) the numbers of
  other samples strictly closer than eps_i in each marginal space,
  ``I = psi(k) + psi(N) - < psi(n_a + 1) + psi(n_b + 1) >``.
- Discrete V (class labels): Ross, "Mutual information between discrete and continuous data
  sets", PLoS ONE 9 (2014) e87357. With N_y the size of sample i's class, k_i = min(k, N_y - 1),
  d_i the distance to its k_i-th neighbour within its class, m_i = 1 + #{j != i : d_ij < d_i}
  over all samples, ``I = psi(N) + < psi(k_i) > - < psi(N_y) > - < psi(m_i) >``. Samples of a
  class of one are left out (N counts the others), as in Ross's and scikit-learn's code.
- Entropy: Kozachenko-Leonenko with the max-norm (KSG eq. 20, unit-ball volume 2^d):
  ``H = psi(N) - psi(k) + d < log(2 eps_i) >``.

Ties (documented rule): eps_i is the k-th smallest of the distances to the other samples,
ties counted with multiplicity; the marginal counts n_a, n_b and m_i count distances *strictly*
smaller than eps_i (KSG's "< eps"; scikit-learn's ``nextafter(eps, 0)`` radius). Exactly
repeated values (quantised activations, ReLU zeros) would then give eps_i = 0 and counts of 0,
an estimate inflated without bound (a Gaussian pair of 0.32 bits rounded to a grid of 0.5 gives
12 bits). So by default every continuous column gets a tiny seeded noise, as scikit-learn's
``_estimate_mi`` adds it: ``noise`` (1e-10) times ``max(sigma, mean |x|)`` standard normal
values (in standard deviations: 1e-10 times max(1, the mean absolute standardised value)), which
breaks the ties and moves no other distance past another but with probability ~N * 1e-10.
With ``noise=0`` the ties stay, and any estimate with a k-th neighbour at distance 0 warns
(``TiedNeighboursWarning``); the entropy raises there (it would be -inf).

Scale: the standard deviations and mean magnitudes are computed on each column divided by a
power of two near its largest magnitude (exact), so columns at 1e160 or 1e300 are standardised
like any other (their squares would overflow). Without standardisation (``entropy``, or
``standardize=False``) data beyond 2^+-500 are divided by one common power of two: the max-norm
distances then scale exactly, the k-NN structure is unchanged, and the entropy adds back
``d log2`` of the factor; columns whose magnitudes differ by more than float64 can hold at once
are refused.

The tree path
-------------
In few dimensions (a single feature against V, or any space of at most ``_TREE_MAX_DIM``
columns) with many samples (400 or more), k-d trees (``scipy.spatial.cKDTree``, max-norm ``p=inf``) replace
the pairwise distances: eps_i from a (k + 1)-nearest query (the sample itself at distance 0
first), the strict counts from ``query_ball_point(r=nextafter(eps, 0), return_length=True)``
less the sample itself (in one dimension, binary searches in the sorted values on the very
predicate ``|x_j - x_i| < eps_i``), O(N log N) time and O(N) memory. The tree computes the same max-norm
distances (``max |x_ad - x_bd|``) and the counts are summed in the same row blocks, so its
values equal the pairwise path's; the tests compare them. ``leave_one_out`` takes its singles
from trees then, and keeps the pairwise pass for the joint and the complements.

The fast leave-one-out path (SPEC 3, last bullet)
-------------------------------------------------
The max-norm distance of a pair over n dimensions is the largest of its n per-dimension gaps
|x_ad - x_bd|. Without dimension i it is still that largest gap, unless dimension i gives it;
then it is the second largest. So one pass over the dimensions keeps, per pair, the largest gap
L, the second largest S (equal to L on a tie) and the dimension A that gives L; then
``D(X_-i) = where(A == i, S, L)`` costs one pass per complement instead of n - 1, and
``D(X_i)`` is the gap of dimension i, seen during that same pass. With V joined,
``D(X_S, V) = max(D(X_S), D(V))``.

Candidates: a complement's distances lie between S and L, so its k-th neighbour distance is at
most the full X's, eps (within-class for Ross), and a pair with S > eps can neither be among
its k nearest nor be counted. Each block therefore keeps, for the complements, only the pairs
with S <= eps, compacted per row (padded with +inf); this is exact, and in more than a few
dimensions it leaves a few percent of the pairs (N = 2000, n = 16: 100-250 of 2000 per row).
Where more than half would stay, the block uses all pairs. The counts in a continuous V do not
depend on the subset: V's distances are sorted once per row, and n_v is a binary search.

Rows go in blocks of ``_BLOCK_ELEMENTS`` pair entries, so memory stays at about ten (rows x N)
work arrays whatever N and n are (NumPy: 2^18 entries, 2 MB each; N = 5000: ~45 MB traced at
peak). Each subset's k-th neighbour is one selection (``np.partition`` / ``torch.kthvalue``)
per row: the singles' and the joint's over all N, the complements' over the candidates. The
tests compare the fast path with the plain per-subset computation.

Continuous columns are divided by their standard deviation first (``standardize``), because the
max-norm mixes dimensions and would otherwise depend on their units (scikit-learn does the same).
The same code runs on NumPy arrays and on torch tensors on any device (``gib._xp``).
"""

from __future__ import annotations

import math
import warnings
import zlib
from typing import Any, Callable

import numpy as np
from scipy import special

from .. import _xp
from .._validation import non_negative_float, positive_int
from ..exceptions import TiedNeighboursWarning
from .base import (Entropies, Estimator, LeaveOneOut, check_device, constant_columns, float_numbers, is_discrete,
                   leave_one_out_varying, register)

_LN2 = math.log(2.0)
# Pair entries (rows x N) of one work array, by backend; about ten such arrays live at once.
_BLOCK_ELEMENTS = {"numpy": 1 << 18, "cpu": 1 << 20, "cuda": 1 << 25}
# The complements use their compacted candidate pairs when these are at most this fraction of
# a block's pairs (module docstring); above it, compaction costs more than it saves.
_CANDIDATE_FRACTION = 0.5
# The tree path (module docstring): spaces of at most this many columns, at least this many samples.
_TREE_MAX_DIM = 4
_TREE_MIN_SAMPLES = 400
# Data beyond 2^+-_SAFE_EXPONENT are scaled by a power of two (module docstring, "Scale").
_SAFE_EXPONENT = 500


# -- distances -----------------------------------------------------------------------------------
def _rows_per_block(x: Any, N: int) -> int:
    budget = _BLOCK_ELEMENTS.get(_xp.device_type(x), _BLOCK_ELEMENTS["cpu"])
    return max(1, min(N, budget // N))


def _gap(xt: Any, d: int, start: int, stop: int) -> Any:
    """|x_ad - x_bd| for the rows a of the block and every sample b (``xt`` is columns x N)."""
    xp = _xp.namespace(xt)
    return xp.abs(xt[d, start:stop, None] - xt[d, None, :])


def _max_norm(xt: Any, start: int, stop: int) -> Any:
    """Max-norm distances from the block's rows to every sample, over all columns of ``xt``."""
    xp = _xp.namespace(xt)
    dist = _gap(xt, 0, start, stop)
    for d in range(1, xt.shape[0]):
        dist = xp.maximum(dist, _gap(xt, d, start, stop))
    return dist


def _no_self(dist: Any, start: int) -> Any:
    """``dist`` with the pairs (i, i) set to +inf: a sample is never its own neighbour."""
    xp = _xp.namespace(dist)
    rows = xp.arange(dist.shape[0], device=_xp.device(dist))
    dist[rows, start + rows] = math.inf
    return dist


# -- the tree path (module docstring) -------------------------------------------------------------
def _use_tree(x: Any, N: int, dim: int) -> bool:
    """Whether a space of ``dim`` columns over N samples goes by k-d trees (NumPy only)."""
    return _xp.is_numpy(x) and N >= _TREE_MIN_SAMPLES and dim <= _TREE_MAX_DIM


def _kth_distances(points: np.ndarray, k: int) -> np.ndarray:
    """Each sample's max-norm distance to its k-th nearest other sample, ties with multiplicity
    (the sample itself is the first of its k + 1 nearest, at distance 0)."""
    from scipy.spatial import cKDTree

    return cKDTree(points).query(points, k=k + 1, p=np.inf)[0][:, k]


def _strict_counts(points: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """#{j != i : d(i, j) < eps_i} in the max-norm, as float64 (0 where eps_i is 0): in one
    dimension by binary searches in the sorted values (``_counts_within_sorted``), else the
    points of a k-d tree within nextafter(eps_i, 0) of point i, less i itself."""
    if points.shape[1] == 1:
        counts = _counts_within_sorted(points[:, 0], eps)
    else:
        from scipy.spatial import cKDTree

        counts = cKDTree(points).query_ball_point(points, np.nextafter(eps, 0.0), p=np.inf, return_length=True)
    return np.where(eps > 0, np.asarray(counts, dtype=np.float64) - 1.0, 0.0)


def _counts_within_sorted(x: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """#{j : |x_j - x_i| < eps_i} (i itself included) for 1-D x, with the difference rounded
    as the pairwise path rounds it: in the sorted values, ``s_j - x_i`` (above x_i) and
    ``x_i - s_j`` (below) are monotone in j, so each side's count is one vectorised binary
    search on that very predicate (log2 N passes over the samples)."""
    s = np.sort(x)
    N = len(s)
    p = np.searchsorted(s, x, side="left")  # s[p_i:] >= x_i > s[:p_i]

    def first(lo: np.ndarray, hi: np.ndarray, is_after: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Per sample, the first index in [lo, hi) where ``is_after`` holds (it holds from there on)."""
        lo, hi = lo.copy(), hi.copy()
        while True:
            active = lo < hi
            if not active.any():
                return lo
            mid = (lo + hi) // 2
            after = is_after(np.minimum(mid, N - 1))
            hi = np.where(active & after, mid, hi)
            lo = np.where(active & ~after, mid + 1, lo)

    above = first(p, np.full(N, N), lambda m: ~(s[m] - x < eps)) - p
    below = p - first(np.zeros(N, dtype=p.dtype), p, lambda m: x - s[m] < eps)
    return above + below


def _block_total(values: np.ndarray, rows: int) -> float:
    """The sum of ``values`` as the pairwise path adds them: per block of ``rows``, then blocks in order."""
    full = len(values) - len(values) % rows
    sums = list(np.sum(values[:full].reshape(-1, rows), axis=1))
    if full < len(values):
        sums.append(np.sum(values[full:]))
    total = 0.0
    for part in sums:
        total += float(part)
    return total


# -- the digamma counts of one block -------------------------------------------------------------
class _ContinuousBlock:
    """KSG's counts for one block of rows against a continuous V: ``dist_v`` the block's
    distances in V (self pairs at +inf), kept sorted per row too, so that n_v is one binary
    search per row whatever the subset of X."""

    def __init__(self, k: int, dist_v: Any):
        self.k, self.dist_v = k, dist_v
        self.sorted_v = _xp.sort(dist_v, axis=1)

    def scores(self, dist: Any, part: Any = None) -> tuple[Any, Any]:
        """(the block's sum of ``psi(n_x + 1) + psi(n_v + 1)``, eps per row) for the distances D
        of a subset of X (self pairs at +inf); ``part``: V's distances of the same (compacted)
        pairs as ``dist`` (default: all pairs). Module docstring: the tie rule."""
        xp = _xp.namespace(dist)
        dist_v = self.dist_v if part is None else part
        eps = _xp.kth_smallest(xp.maximum(dist, dist_v), self.k)
        n_x = xp.astype(xp.sum(dist < eps[:, None], axis=1), xp.float64)
        n_v = xp.astype(_xp.count_less(self.sorted_v, eps), xp.float64)
        return xp.sum(_xp.digamma(n_x + 1.0) + _xp.digamma(n_v + 1.0)), eps

    def compact(self, index: Any, pad: Any) -> Any:
        xp = _xp.namespace(index)
        return xp.where(pad, math.inf, xp.take_along_axis(self.dist_v, index, axis=1))


class _ClassBlock:
    """Ross's counts for one block of rows: ``other_class`` marks the pairs of different
    classes, ``k_groups`` lists (k_i, the block's rows with that k_i; None: all rows)."""

    def __init__(self, other_class: Any, k_groups: list[tuple[int, Any]]):
        self.other_class, self.k_groups = other_class, k_groups

    def scores(self, dist: Any, part: Any = None) -> tuple[Any, Any]:
        """(the block's sum of ``psi(m_i)``, d_i per row) for the distances D of a subset of X
        (self pairs at +inf); ``part``: the class marks of the same (compacted) pairs."""
        xp = _xp.namespace(dist)
        within = xp.where(self.other_class if part is None else part, math.inf, dist)
        if len(self.k_groups) == 1:
            eps = _xp.kth_smallest(within, self.k_groups[0][0])
        else:
            eps = xp.empty(dist.shape[0], dtype=dist.dtype, device=_xp.device(dist))
            for k, rows in self.k_groups:
                eps[rows] = _xp.kth_smallest(within[rows], k)
        m = xp.astype(xp.sum(dist < eps[:, None], axis=1), xp.float64) + 1.0
        return xp.sum(_xp.digamma(m)), eps

    def compact(self, index: Any, pad: Any) -> Any:
        xp = _xp.namespace(index)
        return xp.where(pad, True, xp.take_along_axis(self.other_class, index, axis=1))


def _largest_gaps(xt: Any, start: int, stop: int, buffers: tuple, on_gap: Callable[[int, Any], None]):
    """One pass over the dimensions for the block's rows: the largest gap per pair, the second
    largest and the dimension of the largest (SPEC 3; module docstring), self pairs at +inf.

    ``buffers``: (largest, second, gap, smaller, arg) work arrays of at least ``stop - start``
    rows (``arg`` an integer dtype); ``on_gap(d, gap)`` sees dimension d's gaps (self pairs at
    +inf) before the next dimension overwrites them. Returns views into the buffers."""
    k = stop - start
    largest, second, gap, smaller, arg = (b[:k] for b in buffers)
    for d in range(xt.shape[0]):
        _xp.abs_(_xp.subtract_outer(xt[d, start:stop], xt[d], out=gap))
        if d == 0:
            largest[...], second[...], arg[...] = gap, 0.0, 0
        else:
            arg[gap > largest] = d
            # second = max(second, min(gap, largest)), then largest = max(largest, gap)
            _xp.maximum(second, _xp.minimum(gap, largest, out=smaller), out=second)
            _xp.maximum(largest, gap, out=largest)
        on_gap(d, _no_self(gap, start))
    return _no_self(largest, start), _no_self(second, start), arg


def _candidates(largest: Any, second: Any, arg: Any, eps: Any, block: Any = None) -> tuple[Any, Any, Any, Any] | None:
    """The complements' candidate pairs of a block, compacted, or None when they are more than
    ``_CANDIDATE_FRACTION`` of the pairs (module docstring, "Candidates").

    Every pair a complement's estimate can use has ``second <= eps`` (eps: the full X's
    distance, within-class for Ross): its k-th neighbour distance is at most the full one (a
    complement's distances are never larger) and its distances at least ``second``.
    Returns (largest, second, arg, the target's part) on the candidates, padded with +inf (the
    part is None without a target ``block``: the entropies).
    """
    xp = _xp.namespace(largest)
    mask = second <= eps[:, None]
    counts = xp.sum(mask, axis=1)
    c = int(xp.max(counts))
    if c > _CANDIDATE_FRACTION * largest.shape[1]:
        return None
    _, order = _xp.sort_with_indices(xp.astype(~mask, xp.uint8), axis=1, stable=True)
    index = order[:, :c]
    pad = xp.arange(c, device=_xp.device(largest))[None, :] >= counts[:, None]

    def take(a: Any, fill: Any) -> Any:
        return xp.where(pad, fill, xp.take_along_axis(a, index, axis=1))

    arg = xp.take_along_axis(arg, index, axis=1)
    part = None if block is None else block.compact(index, pad)
    return take(largest, math.inf), take(second, math.inf), arg, part


# -- input preparation --------------------------------------------------------------------------
def _numbers(a: Any, name: str) -> Any:
    return float_numbers(a, name, "ksg needs")


def _power_of_two_exponents(peak: np.ndarray) -> np.ndarray:
    """The exponent e of 2^e near each magnitude in ``peak`` that lies beyond 2^+-_SAFE_EXPONENT
    (0 elsewhere, and for 0): dividing by 2^e brings it near 1, exactly."""
    exponent = np.frexp(peak)[1].astype(np.int64)
    return np.where((peak > 0) & (np.abs(exponent) > _SAFE_EXPONENT), exponent, 0)


def _common_exponent(peaks: np.ndarray, name: str) -> int:
    """The exponent E of the one power of two that brings the largest of the columns'
    magnitudes ``peaks`` near 1 where it lies beyond 2^+-_SAFE_EXPONENT (else 0); columns that
    2^E would push out of float64's normal range are refused."""
    common = int(_power_of_two_exponents(np.max(peaks, initial=0.0, keepdims=True))[0])
    if common and np.any((peaks > 0) & (np.ldexp(peaks, -common) < 2.0 ** -(2 * _SAFE_EXPONENT))):
        small, large = float(peaks[peaks > 0].min()), float(peaks.max())
        raise ValueError(
            f"`{name}` mixes magnitudes from {small:.3g} to {large:.3g}: unstandardised max-norm "
            "distances of both cannot be held in float64. Set `standardize`=True (mutual "
            "information), or rescale the columns to comparable units."
        )
    return common


def _times_power_of_two(a: Any, exponent: np.ndarray) -> Any:
    """``a * 2^-exponent`` per column (exact: a power of two), in two factors so that none
    overflows; ``a`` itself where every exponent is 0."""
    if not np.any(exponent):
        return a
    half = -exponent // 2
    return a * _xp.asarray(np.ldexp(1.0, half), a) * _xp.asarray(np.ldexp(1.0, -exponent - half), a)


def _column_noise(a: np.ndarray, seed: int) -> np.ndarray:
    """Standard normal noise per column, seeded by ``seed`` and the column's own bytes, so that
    a column gets the same noise in every subset (the fast path equals the direct one)."""
    out = np.empty(a.shape)
    for d in range(a.shape[1]):
        tag = zlib.crc32(np.ascontiguousarray(a[:, d]).tobytes())
        out[:, d] = np.random.default_rng([seed, tag]).standard_normal(len(a))
    return out


class _Classes:
    """Ross's bookkeeping for labels ``v``: the samples kept (classes of two or more), their
    dense class codes, k_i = min(k, N_y - 1) and the constant part of the estimate (nats)."""

    def __init__(self, v: np.ndarray, k: int, name: str):
        codes = np.unique(v, axis=0, return_inverse=True)[1].ravel()
        sizes = np.bincount(codes)
        self.keep = sizes[codes] > 1
        if not self.keep.any():
            raise ValueError(
                f"every class of `{name}` has a single sample; the Ross estimator needs classes of "
                "at least 2 samples. Merge rare classes, or pass a continuous target as float."
            )
        self.codes = codes[self.keep]
        size = sizes[self.codes]
        self.k = np.minimum(k, size - 1)
        self.n = int(len(self.codes))
        self.constant = float(special.psi(self.n) + special.psi(self.k).mean() - special.psi(size).mean())

    def block(self, codes_dev: Any, start: int, stop: int) -> _ClassBlock:
        """Ross's counts for the block of rows start..stop-1."""
        other = codes_dev[start:stop, None] != codes_dev[None, :]
        ks = self.k[start:stop]
        if np.all(ks == ks[0]):
            return _ClassBlock(other, [(int(ks[0]), None)])
        return _ClassBlock(other, [(int(kv), _xp.asarray(np.flatnonzero(ks == kv), codes_dev)) for kv in np.unique(ks)])


@register
class KSGEstimator(Estimator):
    """k-nearest-neighbour estimates in the max-norm (SPEC 3; module docstring), in bits.

    ``mutual_information(a, b)``: KSG estimator 1 (Kraskov et al. 2004) for a floating-point
    ``b``; for class labels (integer, bool or string ``b``; several columns: each distinct row
    is a class) the Ross (2014) estimator. ``a`` is always continuous. ``entropy(a)``: the
    Kozachenko-Leonenko differential entropy of ``a`` in its own units (not standardised; the
    max-norm ball). The KSG mutual information is not H(A) + H(B) - H(A,B) of these entropies
    (it uses one neighbourhood size for all three), which is what makes its bias small.

    Parameters
    ----------
    k : int, default 3
        Neighbours (KSG's k). Larger k: lower variance, more bias toward 0 for strong dependence.
    standardize : bool, default True
        Divide each continuous column (of ``a``, of a continuous ``b``) by its standard
        deviation first, so the max-norm does not depend on units (as scikit-learn does). The
        estimate is invariant to one common scale, not to per-column scales; ``entropy`` never
        standardises.
    noise : float, default 1e-10
        Add ``noise * max(sigma, mean |x|)`` times standard normal noise to every continuous
        column (sigma its standard deviation), as scikit-learn does, to break exact ties
        (repeated values, ReLU zeros); 0: none, and a warning (``TiedNeighboursWarning``) where
        a k-th neighbour is then at distance 0 (module docstring, "Ties"). The noise of a column
        is seeded by ``seed`` and the column's values, so every subset of X sees the same noisy
        column.
    seed : int, default 0
        Seed of the noise.
    device : {None, "cpu", "cuda", "cuda:<index>"} or torch.device
        Run ``leave_one_out`` in torch on this device (a tensor X alone selects its own device);
        None: NumPy. ``entropy`` and ``mutual_information`` always run in NumPy.

    Notes
    -----
    - No sample weights: the estimate is a mean of digamma functions of neighbour counts, and
      a reweighted distribution has no counts to plug in. Weights other than uniform raise
      ``ValueError``; resample the rows by the weights instead, or use ``binning``, ``kde`` or
      ``gcmi``.
    - Biased toward 0 for strong dependence (the neighbourhoods cannot shrink as fast as the
      joint density concentrates) and, like every k-NN estimate, in high dimension; it needs no
      bins and so does not saturate at log2 N the way binning does. Values are not clipped at 0
      (scikit-learn clips): an independent pair gives values scattered around 0.
    - Columns constant over the samples carry no information and are dropped
      (``I(X_i;V) = 0``, ``I(X_-i;V) = I(X;V)``, as the other estimators).
    - Cost of ``leave_one_out``: n + 1 selections over N per sample, n over the candidates
      (module docstring), and n passes of gap updates over the N^2 pairs; memory bounded by
      row blocks. From 400 samples on, spaces of at most 4 columns (a single feature and V,
      ``entropy`` and ``mutual_information`` of few columns) go by k-d trees instead, in
      O(N log N) time and O(N) memory, with the same values (module docstring, "The tree path").
    - Any scale: columns at 1e160 or 1e300 are standardised as exactly as any other, and
      unstandardised data beyond 2^+-500 are divided by a common power of two (the entropy adds
      its logarithm back); module docstring, "Scale".
    """

    name = "ksg"
    array_api = True
    supports_weights = False  # a mean of digamma functions of neighbour counts (Notes)

    def __init__(self, k: int = 3, standardize: bool = True, noise: float = 1e-10, seed: int = 0, device: Any = None):
        self.k = positive_int(k, "k")
        if not isinstance(standardize, (bool, np.bool_)):
            raise ValueError(f"`standardize` must be True or False, got {standardize!r}.")
        self.standardize = bool(standardize)
        self.noise = non_negative_float(noise, "noise")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"`seed` must be a non-negative integer, got {seed!r}.")
        self.seed = int(seed)
        self.device = check_device(device)

    # -- pieces -------------------------------------------------------------------------------
    def _check_weights(self, w: np.ndarray | None) -> None:
        if w is not None and not np.allclose(w, w[0], rtol=1e-12, atol=0.0):
            raise ValueError(
                "`weights`: the ksg estimator takes no sample weights (its estimate is a mean of "
                "digamma functions of neighbour counts; a reweighted distribution has no counts). "
                "Pass weights=None, resample the rows by the weights, or use the 'binning', 'kde' "
                "or 'gcmi' estimator."
            )

    def _check_size(self, N: int, what: str) -> None:
        if N <= self.k:
            raise ValueError(f"{what} has {N} samples; `k`={self.k} needs more than k samples. Lower `k`.")

    def _prepare(self, a: Any, scale: bool, name: str = "a") -> tuple[Any, int]:
        """Noise and, if ``scale``, unit standard deviations (constant columns stay put); with
        the exponent E of the common power of two the data were divided by (module docstring,
        "Scale": 0 when ``scale`` is True or the data lie within 2^+-_SAFE_EXPONENT).

        The standard deviations are computed on the host, one contiguous column at a time, so
        that every subset, the direct computation and every backend divide a column by the very
        same number: data with ties (quantised values) give equal gaps whose order rounding
        decides, and that order must not change with the backend (a tensor X is copied to the
        host once for this). A column's noise is seeded by its own values as given."""
        given = np.ascontiguousarray(_xp.to_numpy(a).T)
        peak = np.max(np.abs(given), axis=1)
        common = 0
        if scale:
            exponent = _power_of_two_exponents(peak)  # each column on its own: divided by sigma anyway
        else:
            common = _common_exponent(peak, name)
            exponent = np.full(len(peak), common)
        host = given if not np.any(exponent) else np.ascontiguousarray(_times_power_of_two(given.T, exponent).T)
        a = _times_power_of_two(a, exponent)
        sigma = host.std(axis=1)
        sigma[~(sigma > 0)] = 1.0
        if self.noise > 0:
            # scikit-learn's amplitude (_estimate_mi): noise x max(1, mean |x| / sigma) standard deviations
            amplitude = self.noise * np.maximum(sigma, np.mean(np.abs(host), axis=1))
            a = a + _xp.asarray(amplitude * _column_noise(given.T, self.seed), a)
        return (a / _xp.asarray(sigma, a) if scale else a), common

    def _warn_ties(self, count: int, what: str) -> None:
        if count:
            warnings.warn(
                f"ksg: {count} estimate(s) of {what} have a sample whose k-th neighbour is at distance 0 "
                f"(values repeated at least k + 1 = {self.k + 1} times, e.g. quantised or ReLU activations): "
                f"their neighbour counts are 0 and the estimate is inflated. Set `noise` > 0 (the default "
                "1e-10 breaks the ties, as scikit-learn does), or use a discrete estimator.",
                TiedNeighboursWarning,
                stacklevel=4,
            )

    def _target(self, x: Any, v: np.ndarray, x_name: str, v_name: str):
        """(x without the samples Ross leaves out, the counts of a block of rows start..stop-1,
        the estimate's constant in nats, the tree path's per-sample terms and eps of given
        points): I = (constant - the blocks' total / N) / ln 2."""
        if is_discrete(v):
            classes = _Classes(v, self.k, v_name)
            x = _xp.rows(x, classes.keep)
            codes = _xp.asarray(classes.codes, x)

            def tree_terms(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                eps = np.empty(len(points))
                for label in np.unique(classes.codes):
                    idx = np.flatnonzero(classes.codes == label)
                    eps[idx] = _kth_distances(points[idx], int(classes.k[idx[0]]))  # within the class
                return special.psi(_strict_counts(points, eps) + 1.0), eps

            return x, lambda start, stop: classes.block(codes, start, stop), classes.constant, tree_terms
        self._check_size(x.shape[0], f"`{x_name}`")
        v_host = self._prepare(v, self.standardize, v_name)[0]
        vt = _xp.asarray(np.ascontiguousarray(v_host.T), x)

        def block(start: int, stop: int) -> _ContinuousBlock:
            return _ContinuousBlock(self.k, _no_self(_max_norm(vt, start, stop), start))

        def tree_terms(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            eps = _kth_distances(np.hstack([points, v_host]), self.k)
            return special.psi(_strict_counts(points, eps) + 1.0) + special.psi(_strict_counts(v_host, eps) + 1.0), eps

        return x, block, float(special.psi(self.k) + special.psi(x.shape[0])), tree_terms

    def _common_scale(self, a: Any, b: np.ndarray, discrete: bool, name: str) -> tuple[Any, np.ndarray]:
        """Without standardisation: a and a continuous b divided by one common power of two when
        they lie beyond 2^+-_SAFE_EXPONENT (the KSG estimate is invariant to a common scale)."""
        if self.standardize:
            return a, b
        peaks = np.max(np.abs(_xp.to_numpy(a)), axis=0)
        if not discrete:
            peaks = np.concatenate([peaks, np.max(np.abs(b), axis=0)])
        common = _common_exponent(peaks, name)
        if not common:
            return a, b
        a = _times_power_of_two(a, np.full(a.shape[1], common))
        return a, b if discrete else _times_power_of_two(b, np.full(b.shape[1], common))

    # -- the Estimator interface ---------------------------------------------------------------
    def _entropy(self, a, w):
        self._check_weights(w)
        a, common = self._prepare(_numbers(a, "a"), scale=False)
        N, d = a.shape
        self._check_size(N, "`a`")
        r = _rows_per_block(a, N)
        if _use_tree(a, N, d):
            eps = _kth_distances(a, self.k)
        else:
            at = np.ascontiguousarray(a.T)
            eps = np.concatenate([_xp.kth_smallest(_no_self(_max_norm(at, start, min(N, start + r)), start), self.k)
                                  for start in range(0, N, r)])
        if np.any(eps == 0):
            raise ValueError(
                f"`a` has samples repeated at least {self.k + 1} times (a k-th neighbour at "
                "distance 0): the Kozachenko-Leonenko entropy is -inf. Set `noise` (e.g. the default "
                "1e-10) to break the ties, or use a discrete estimator."
            )
        log_eps = _block_total(np.log(2.0 * eps), r)
        return (special.psi(N) - special.psi(self.k) + d * log_eps / N) / _LN2 + d * common

    def _mutual_information(self, a, b, w):
        self._check_weights(w)
        a = _numbers(a, "a")
        varying = ~constant_columns(a, None)
        discrete = is_discrete(b)
        if not discrete:
            b = b.astype(np.float64)
            b = b[:, ~constant_columns(b, None)]
        if not varying.any() or b.shape[1] == 0:
            return 0.0
        a, b = self._common_scale(a[:, varying], b, discrete, "a")
        a, block_of, constant, tree_terms = self._target(self._prepare(a, self.standardize)[0], b, "a", "b")
        N = len(a)
        r = _rows_per_block(a, N)
        if _use_tree(a, N, a.shape[1] + (0 if discrete else b.shape[1])):
            terms, eps = tree_terms(np.asarray(a))
            self._warn_ties(int(np.any(eps == 0)), "I(a;b)")
            return (constant - _block_total(terms, r) / N) / _LN2
        at = np.ascontiguousarray(a.T)
        total, ties = 0.0, 0
        for start in range(0, N, r):
            stop = min(N, start + r)
            part, eps = block_of(start, stop).scores(_no_self(_max_norm(at, start, stop), start))
            total += float(part)
            ties += int(np.any(eps == 0))
        self._warn_ties(min(ties, 1), "I(a;b)")
        return (constant - total / N) / _LN2

    def _leave_one_out(self, X, v, w):
        self._check_weights(w)
        discrete = is_discrete(v)
        if not discrete:
            v = v.astype(np.float64)
        return leave_one_out_varying(self, _numbers(X, "X"), v, None, self._leave_one_out_varying, not discrete)

    def _leave_one_out_varying(self, X, v, w):
        """Leave-one-out of X (on any device) and v without constant columns (module docstring)."""
        xp = _xp.namespace(X)
        discrete = is_discrete(v)
        X, v = self._common_scale(X, v, discrete, "X")
        X, block_of, constant, tree_terms = self._target(self._prepare(X, self.standardize, "X")[0], v, "X", "v")
        N, n = X.shape
        xt = _xp.contiguous(X.T)
        dev = _xp.device(X)
        index = xp.int16 if n < 2**15 else xp.int32
        joint = 0.0
        single = xp.zeros(n, dtype=xp.float64, device=dev)
        complement = xp.zeros(n, dtype=xp.float64, device=dev)
        r = _rows_per_block(X, N)
        # the singles from trees where they win (module docstring, "The tree path")
        tree_singles = _use_tree(X, N, 1 + (0 if discrete else v.shape[1]))
        ties = xp.zeros(n + 1, dtype=xp.bool, device=dev)  # which subsets had a k-th neighbour at 0
        if tree_singles:
            for d in range(n):
                terms, eps = tree_terms(np.ascontiguousarray(X[:, d : d + 1]))
                single[d] = _block_total(terms, r)
                ties[d] = bool(np.any(eps == 0))
        empty = lambda dtype=xp.float64: xp.empty((r, N), dtype=dtype, device=dev)  # noqa: E731
        buffers = (empty(), empty(), empty(), empty(), empty(index))
        complement_ties = xp.zeros(n, dtype=xp.bool, device=dev)
        for start in range(0, N, r):
            stop = min(N, start + r)
            block = block_of(start, stop)

            def on_gap(d: int, gap: Any) -> None:  # the singles' distances are the gaps themselves
                if not tree_singles:
                    part, eps = block.scores(gap)
                    single[d] += part
                    ties[d] |= xp.any(eps == 0)

            largest, second, arg = _largest_gaps(xt, start, stop, buffers, on_gap)
            total, eps = block.scores(largest)
            joint += float(total)
            ties[n] |= xp.any(eps == 0)
            # the complements need only the candidate pairs (module docstring)
            compact = _candidates(largest, second, arg, eps, block)
            part = None
            if compact is not None:
                largest, second, arg, part = compact
            for i in range(n):
                total, eps = block.scores(xp.where(arg == i, second, largest), part)
                complement[i] += total
                complement_ties[i] |= xp.any(eps == 0)
        self._warn_ties(int(xp.sum(ties)) + int(xp.sum(complement_ties)), "I(X;v), I(X_i;v) or I(X_-i;v)")
        to_bits = lambda total: (constant - total / N) / _LN2  # noqa: E731
        return LeaveOneOut(float(to_bits(joint)), to_bits(_xp.to_numpy(single)), to_bits(_xp.to_numpy(complement)))

    # -- subset entropies (the higher-order measures; SPEC 3) ------------------------------------
    def _entropies(self, X, w):
        """Kozachenko-Leonenko H(X), H(X_i), H(X_-i) from one pass of gaps per block (module
        docstring): X_-i's distances are ``where(A == i, S, L)``, exactly the max over the other
        dimensions, so every k-th neighbour distance equals the direct one's. Like ``entropy``,
        in X's own units (no standardisation), the complements on the candidate pairs."""
        self._check_weights(w)
        xp = _xp.namespace(X)
        X, common = self._prepare(_numbers(X, "X"), scale=False, name="X")
        N, n = X.shape
        self._check_size(N, "`X`")
        xt = _xp.contiguous(X.T)
        dev = _xp.device(X)
        r = _rows_per_block(X, N)
        empty = lambda dtype=xp.float64: xp.empty((r, N), dtype=dtype, device=dev)  # noqa: E731
        buffers = (empty(), empty(), empty(), empty(), empty(xp.int16 if n < 2**15 else xp.int32))
        # sums over the samples of log(2 eps): X, then X_i and X_-i
        log_joint = 0.0
        log_single = xp.zeros(n, dtype=xp.float64, device=dev)
        log_complement = xp.zeros(n, dtype=xp.float64, device=dev)

        def log_eps(dist: Any, subset: str) -> tuple[Any, Any]:
            eps = _xp.kth_smallest(dist, self.k)
            if bool(xp.any(eps == 0)):
                raise ValueError(
                    f"`X` ({subset}) has samples repeated at least {self.k + 1} times (a k-th "
                    "neighbour at distance 0): the Kozachenko-Leonenko entropy is -inf. Set `noise` "
                    "(e.g. the default 1e-10) to break the ties, or use a discrete estimator."
                )
            return xp.sum(xp.log(2.0 * eps)), eps

        for start in range(0, N, r):
            stop = min(N, start + r)

            def on_gap(d: int, gap: Any) -> None:
                log_single[d] += log_eps(gap, f"column {d}")[0]

            largest, second, arg = _largest_gaps(xt, start, stop, buffers, on_gap)
            total, eps = log_eps(largest, "all columns")
            log_joint += float(total)
            compact = _candidates(largest, second, arg, eps)
            if compact is not None:
                largest, second, arg, _ = compact
            for i in range(n):
                log_complement[i] += log_eps(xp.where(arg == i, second, largest), f"without column {i}")[0]
        base = float(special.psi(N) - special.psi(self.k))
        return Entropies(
            (base + n * log_joint / N) / _LN2 + n * common,
            (base + _xp.to_numpy(log_single) / N) / _LN2 + common,
            (base + (n - 1) * _xp.to_numpy(log_complement) / N) / _LN2 + (n - 1) * common,
        )
