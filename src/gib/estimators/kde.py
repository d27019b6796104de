"""Kernel density estimators: ``kde`` (Appendix F.1) and ``kde_upper`` (Saxe et al.), SPEC 3.

Both reduce every information quantity to sums over pairs of samples of the form
``L_i = log sum_j w_j exp(-c * D_ij)``, where ``D_ij`` is a squared distance between samples
i and j over the columns of the variable and ``c`` depends only on how many columns it has.

The fast leave-one-out path (SPEC 3, last bullet)
-------------------------------------------------
Squared distances add over columns: ``D(X) = sum_k D_k`` with ``D_k`` the term of column k
(standardised by the column's sigma for ``kde``, raw for ``kde_upper``). So one pass builds
``D(X)`` for a block of rows, and then each feature i gives ``D(X_i) = D_i`` and
``D(X_-i) = D(X) - D_i`` by one subtraction; for a continuous V, ``D(X_S, V) = D(X_S) + D(V)``.
Distances are computed by direct summation (no ``|a|^2 + |b|^2 - 2ab`` expansion) so they carry
no cancellation error, and rows are processed in blocks so that memory stays at a few
``rows x N`` work arrays whatever N and n are. The exponentials, (2n + 1) N^2 of them per group
(twice that with a continuous V), dominate the cost.

Exponents are not shifted by each row's maximum (that costs two extra passes per matrix):
they are at most 0, and are clamped at -700 when they can go lower, because NumPy's ``exp`` is
~10x slower on arguments whose result is subnormal or zero. A clamped term is at most 1e-304,
so a row is exact unless its whole kernel sum is tiny; such rows (an isolated sample with no
neighbour within ~700 / c) are recomputed from their distances with the usual max-shift.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, NamedTuple

import numpy as np

from .._validation import positive_float
from .base import Estimator, LeaveOneOut, _is_tensor, check_device, register

_LN2 = math.log(2.0)
_LOG_2PI = math.log(2.0 * math.pi)
# Elements of one (rows x N) work array (1 MB, cache-sized); leave-one-out keeps at most five.
_BLOCK_ELEMENTS = 1 << 17
_EXP_FLOOR = -700.0  # exp(-700) ~ 1e-304 is still a normal float
_TINY_SUM = 1e-280  # kernel sums below this are recomputed with a shift


# -- shared with gcmi.py: constant columns, option checks -----------------------------------------
def non_negative_float(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0 or not np.isfinite(value):
        raise ValueError(f"`{name}` must be a non-negative finite number, got {value!r}.")
    return float(value)


def constant_columns(a: Any, w: np.ndarray | None) -> np.ndarray:
    """Boolean mask of the columns of ``a`` (array or tensor) that are constant over the samples
    of positive weight (all samples if ``w`` is None)."""
    if _is_tensor(a):
        from .torch_backend import constant_columns as on_device

        return on_device(a, w)
    ref = a if w is None or np.all(w > 0) else a[w > 0]
    return np.all(ref == ref[:1], axis=0)


def leave_one_out_varying(
    est: Estimator, X: Any, v: np.ndarray, w: np.ndarray | None, fast, v_continuous: bool
) -> LeaveOneOut:
    """``fast(X, v, w)`` on the columns of X (and, for a continuous V, of v) that vary over the
    samples of positive weight; constant columns filled in exactly.

    A constant column carries no information: ``I(X;V) = I(X_varying;V)``, so its single is 0
    and its complement is the joint. With every column of X (or of a continuous v) constant, all
    is 0. One varying column u: its single is the joint and its complement (all constant) 0.
    """
    n = X.shape[1]
    if v_continuous:
        v_varying = ~constant_columns(v, w)
        if not v_varying.any():
            return LeaveOneOut(0.0, np.zeros(n), np.zeros(n))
        if not v_varying.all():
            v = v[:, v_varying]
    varying = ~constant_columns(X, w)
    if varying.all():
        return fast(X, v, w)
    single, complement = np.zeros(n), np.zeros(n)
    keep = np.flatnonzero(varying)
    if len(keep) == 0:
        return LeaveOneOut(0.0, single, complement)
    if len(keep) == 1:
        x = X[:, keep]
        joint = float(est._mutual_information(x.cpu().numpy() if _is_tensor(x) else x, v, w))
        single[keep] = joint
    else:
        part = fast(X[:, keep] if not _is_tensor(X) else X[:, _torch_index(keep, X)], v, w)
        joint = part.joint
        single[keep], complement[keep] = part.single, part.complement
    complement[~varying] = joint
    return LeaveOneOut(float(joint), single, complement)


def _torch_index(idx: np.ndarray, like: Any) -> Any:
    import torch

    return torch.as_tensor(idx, device=like.device)


# -- pairwise sums ------------------------------------------------------------------------------
def _block_rows(n_samples: int) -> int:
    return max(1, min(n_samples, _BLOCK_ELEMENTS // n_samples))


def _squared_distances(xt: np.ndarray, start: int, stop: int, out: np.ndarray, tmp: np.ndarray) -> None:
    """``out[r, j] = sum_k (xt[k, start + r] - xt[k, j])^2`` (``xt`` is columns x samples)."""
    out.fill(0.0)
    for col in xt:
        np.subtract.outer(col[start:stop], col, out=tmp)
        np.square(tmp, out=tmp)
        out += tmp


class _Pairs:
    """The samples of one group (columns x samples, weights) and the pair sums over them."""

    def __init__(self, x: np.ndarray, w: np.ndarray, include_self: bool, y: np.ndarray | None = None):
        self.xt = np.ascontiguousarray(x.T)
        self.yt = None if y is None else np.ascontiguousarray(y.T)
        self.w = w
        self.include_self = include_self

    def row_sum(self, expo: np.ndarray, start: int, c: float, may_underflow: bool, cols, with_y) -> float:
        """``sum_i w_i L_i`` over the rows ``start..`` of an exponent block ``-c * D`` (consumed).

        ``L_i = log sum_{j != i} w_j exp(-c D_ij)``, plus the self term w_i if ``include_self``.
        ``cols`` (columns of x) and ``with_y`` name the subset, to recompute tiny rows exactly.
        """
        w = self.w
        k = len(expo)
        rows = np.arange(k)
        if may_underflow:
            np.maximum(expo, _EXP_FLOOR, out=expo)
        expo[rows, start + rows] = -np.inf
        np.exp(expo, out=expo)
        s = expo @ w
        if self.include_self:
            s += w[start : start + k]
        tiny = s < _TINY_SUM
        log_s = np.log(np.where(tiny, 1.0, s))
        if tiny.any():
            log_s[tiny] = self._shifted(start + np.flatnonzero(tiny), c, cols, with_y)
        return float(w[start : start + k] @ log_s)

    def _shifted(self, rows: np.ndarray, c: float, cols, with_y: bool) -> np.ndarray:
        """``L_i`` for a few rows, with each row's exponents shifted by their maximum."""
        N = self.xt.shape[1]
        dist, tmp = np.zeros((len(rows), N)), np.empty((len(rows), N))
        for col in [self.xt[cols]] + ([self.yt] if with_y else []):
            for values in np.atleast_2d(col):
                np.subtract.outer(values[rows], values, out=tmp)
                dist += np.square(tmp, out=tmp)
        expo = -c * dist
        diagonal = (np.arange(len(rows)), rows)
        expo[diagonal] = -np.inf
        top = expo.max(axis=1)
        expo = np.maximum(expo - top[:, None], _EXP_FLOOR)
        expo[diagonal] = -np.inf
        log_s = np.log(np.exp(expo) @ self.w) + top
        if self.include_self:
            log_s = np.logaddexp(log_s, np.log(self.w[rows]))
        return log_s


def _pair_sum(x: np.ndarray, w: np.ndarray, c: float, include_self: bool) -> float:
    """``S = sum_i w_i L_i`` over all columns of ``x``: the plain, one-subset computation."""
    pairs = _Pairs(x, w, include_self)
    N = len(x)
    r = _block_rows(N)
    dist, tmp = np.empty((r, N)), np.empty((r, N))
    total = 0.0
    for start in range(0, N, r):
        stop = min(N, start + r)
        k = stop - start
        _squared_distances(pairs.xt, start, stop, dist[:k], tmp[:k])
        bound = c * dist[:k].max()
        dist[:k] *= -c
        total += pairs.row_sum(dist[:k], start, c, bound > -_EXP_FLOOR, slice(None), False)
    return total


class _Sums(NamedTuple):
    """``S = sum_i w_i L_i`` for X, each X_i, each X_-i and, with a continuous V, with V joined."""

    joint: float
    single: np.ndarray
    complement: np.ndarray
    v: float = 0.0
    joint_v: float = 0.0
    single_v: np.ndarray | None = None
    complement_v: np.ndarray | None = None


def _leave_one_out_sums(
    x: np.ndarray, w: np.ndarray, c: Callable[[int], float], include_self: bool, y: np.ndarray | None = None
) -> _Sums:
    """All the subset sums of one group by distance subtraction (see the module docstring).

    ``c(d)`` is the exponent's factor for a variable of d columns.
    """
    N, n = x.shape
    m = 0 if y is None else y.shape[1]
    pairs = _Pairs(x, w, include_self, y)
    c_joint, c_single, c_comp = c(n), c(1), c(n - 1)
    # Columns pre-scaled by sqrt(c_comp): a complement's exponents are then term_i - dist_x,
    # one subtraction, and every other subset rescales by its factor's ratio to c_comp.
    scale = math.sqrt(c_comp)
    xt = pairs.xt * scale
    yt = None if y is None else pairs.yt * scale
    # Exponents go below the clamp only if factor * distance can exceed 700: a single's
    # distances are bounded by its column's squared range, the others by D(X) (+ D(V)).
    range_sq = np.square(np.ptp(pairs.xt, axis=1))
    limit = -_EXP_FLOOR
    joint, single, comp = 0.0, np.zeros(n), np.zeros(n)
    if y is not None:
        c_v, c_joint_v, c_single_v, c_comp_v = c(m), c(n + m), c(1 + m), c(n - 1 + m)
        v, joint_v, single_v, comp_v = 0.0, 0.0, np.zeros(n), np.zeros(n)
    everything = np.arange(n)
    r = _block_rows(N)
    buffers = [np.empty((r, N)) for _ in range(3 if y is None else 5)]
    for start in range(0, N, r):
        stop = min(N, start + r)
        k = stop - start
        dist_x, term, work = (b[:k] for b in buffers[:3])
        _squared_distances(xt, start, stop, dist_x, term)
        bound = dist_x.max() / c_comp  # largest unscaled distance of the block

        def row_sum(expo, factor, cols, with_y, largest):
            return pairs.row_sum(expo, start, factor, factor * largest > limit, cols, with_y)

        if y is not None:
            dist_v, both = buffers[3][:k], buffers[4][:k]
            _squared_distances(yt, start, stop, dist_v, term)
            bound_v = dist_v.max() / c_comp
            np.multiply(dist_v, -c_v / c_comp, out=work)
            v += row_sum(work, c_v, [], True, bound_v)
            np.add(dist_x, dist_v, out=both)
            np.multiply(both, -c_joint_v / c_comp, out=work)
            joint_v += row_sum(work, c_joint_v, everything, True, bound + bound_v)
            both *= c_comp_v / c_comp
            dist_v *= c_single_v / c_comp
        np.multiply(dist_x, -c_joint / c_comp, out=work)
        joint += row_sum(work, c_joint, everything, False, bound)
        for i in range(n):
            rest = np.delete(everything, i)
            np.subtract.outer(xt[i, start:stop], xt[i], out=term)
            np.square(term, out=term)
            np.subtract(term, dist_x, out=work)
            comp[i] += row_sum(work, c_comp, rest, False, bound)
            if y is not None:
                # -c (D(X) - D_i + D(V)) and -c (D_i + D(V)) from the pre-scaled pieces
                np.multiply(term, c_comp_v / c_comp, out=work)
                work -= both
                comp_v[i] += row_sum(work, c_comp_v, rest, True, bound + bound_v)
                np.multiply(term, -c_single_v / c_comp, out=work)
                work -= dist_v
                single_v[i] += row_sum(work, c_single_v, [i], True, range_sq[i] + bound_v)
            term *= -c_single / c_comp  # last use of ``term``: becomes the single's exponents
            single[i] += row_sum(term, c_single, [i], False, range_sq[i])
    if y is None:
        return _Sums(joint, single, comp)
    return _Sums(joint, single, comp, v, joint_v, single_v, comp_v)


# -- input preparation --------------------------------------------------------------------------
def _numbers(a: np.ndarray, name: str) -> np.ndarray:
    if a.dtype.kind in "US":
        raise TypeError(
            f"`{name}` holds labels (dtype {a.dtype}); the KDE estimators need numbers there. "
            "Labels belong in the second argument (`b` or `v`)."
        )
    return a.astype(np.float64, copy=False)


def _is_discrete(b: np.ndarray) -> bool:
    """Integer, bool and string data are class labels; floating-point data are continuous."""
    return b.dtype.kind in "biuUS"


def _groups(b: np.ndarray) -> np.ndarray:
    """Dense codes 0..K-1 of the distinct rows of ``b``."""
    return np.unique(b, axis=0, return_inverse=True)[1].ravel()


def _drop_unweighted(w: np.ndarray | None, N: int, *arrays: np.ndarray):
    """Uniform weights made explicit, and samples of zero weight dropped (they add nothing)."""
    if w is None:
        return np.full(N, 1.0 / N), arrays
    keep = w > 0
    n_kept = int(np.count_nonzero(keep))
    if n_kept < 2:
        raise ValueError(
            f"`weights` has {n_kept} positive value(s); the KDE estimators need at least 2 samples "
            "of positive weight."
        )
    if n_kept == N:
        return w, arrays
    w = w[keep]
    return w / w.sum(), tuple(a[keep] for a in arrays)


def _label(b: np.ndarray, index: int) -> object:
    """The class of sample ``index`` as a plain value (a tuple for a multi-column ``b``)."""
    row = b[index].tolist()
    return row[0] if len(row) == 1 else tuple(row)


def _class_parts(codes: np.ndarray, w: np.ndarray):
    """Per class: (p(b), sample indices, class-normalised weights) for classes of positive mass."""
    mass = np.bincount(codes, weights=w)
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes))
    parts = []
    for k, idx in enumerate(np.split(order, bounds[:-1])):
        if mass[k] > 0:
            parts.append((float(mass[k]), idx, w[idx] / mass[k]))
    return parts


# -- kde -----------------------------------------------------------------------------------------
class _Standardised(NamedTuple):
    """One group of samples, each column centred and scaled by its weighted sigma."""

    z: np.ndarray
    log_sigma: np.ndarray  # (columns,)
    n_eff: float  # Kish's effective sample size 1 / sum w^2 (N for uniform weights)
    log1m_w: float  # sum_i w_i log(1 - w_i): the leave-one-out normaliser


def _weighted_var(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and reliability-weighted variance (the N - 1 denominator for uniform w)."""
    mean = w @ x
    return mean, (w @ np.square(x - mean)) / (1.0 - float(w @ w))


def _standardise(
    x: np.ndarray, w: np.ndarray, name: str, label: object = None, floor: np.ndarray | None = None
) -> _Standardised:
    """Centre and scale each column by its weighted sigma, floored at ``floor`` (per column)
    if given; a constant column without a floor raises ``ValueError``."""
    constant = np.flatnonzero(np.all(x == x[0], axis=0)) if floor is None else []
    if len(constant):
        where = "" if label is None else f" within the samples of class {label!r}"
        raise ValueError(
            f"`{name}` has constant column(s) {constant.tolist()}{where}: Scott's bandwidth is 0 "
            "there and the kernel density degenerates. Drop the constant columns first (or use the "
            "'binning' or 'gcmi' estimator)."
        )
    mean, var = _weighted_var(x, w)
    if floor is not None:
        var = np.maximum(var, np.square(floor))
    sum_w2 = float(w @ w)
    n_eff = float(len(x)) if np.all(w == w[0]) else 1.0 / sum_w2
    return _Standardised((x - mean) / np.sqrt(var), 0.5 * np.log(var), n_eff, float(w @ np.log1p(-w)))


@register
class KDEEstimator(Estimator):
    """Gaussian-kernel density estimates with Scott's bandwidth (SPEC 3, Appendix F.1).

    Entropies are leave-one-out resubstitution estimates ``H = -sum_i w_i log p_-i(x_i)`` with a
    Gaussian product kernel of per-column bandwidth ``h_d = scale * sigma_d * N^(-1/(d + 4))``
    (Scott's rule, sigma_d with the N - 1 denominator), where d is the number of columns of the
    variable estimated (so X, X_i and X_-i each get their own factor).
    ``I(A;B) = H(A) + H(B) - H(A,B)`` for a floating-point B; for class labels (integer, bool or
    string B) ``I(A;B) = H(A) - sum_b p(b) H(A | B=b)``, each class's entropy with Scott's rule
    on that class's samples. Pass labels as integers: float labels are treated as continuous.

    Parameters
    ----------
    bandwidth_scale : float, default 1.0
        Multiplies Scott's factor (values below 1 sharpen, above 1 smooth the densities).
    min_class_sigma : float, default 1e-3
        For a discrete B (and V), the floor of each class's sigma of a column, as a fraction of
        the column's sigma over all samples: ``sigma_b,d = max(sigma_b,d, min_class_sigma *
        sigma_d)`` (ours). A column constant within a class (a ReLU unit dead for that class)
        has a class sigma of 0, a zero bandwidth and an infinite I(A;B); the floor caps its
        share at about ``p(b) * log2(1 / min_class_sigma)`` bits (~10 bits times p(b) at
        1e-3). Classes whose sigmas exceed the floor are computed exactly as without it.
        0 turns the floor off: such a column then raises ``ValueError``.
    device : {None, "cpu", "cuda", "cuda:<index>"} or torch.device
        Run ``leave_one_out`` in torch on this device (a tensor X alone selects its own device);
        None: NumPy. ``entropy`` and ``mutual_information`` always run in NumPy.

    Notes
    -----
    - A class with fewer than 2 samples (of positive weight) has no leave-one-out density; it is
      taken to carry no information, ``H(A | B=b) = H(A)`` (ours), which biases I(A;B) down.
    - Columns constant over all samples (of positive weight) carry no information and are
      dropped: ``I(A;B)`` and ``leave_one_out`` are those of the varying columns (a constant
      column i of X gets ``I(X_i;V) = 0`` and ``I(X_-i;V) = I(X;V)``), and 0 if no column of A
      (or of a floating-point B) varies. ``entropy`` of a constant column, a differential
      entropy of -inf, raises ``ValueError``.
    - Scott's rule assumes roughly unimodal data: for strongly clustered A it oversmooths H(A),
      and I(A;B) for class labels B can then exceed H(B).
    - Sample weights give a weighted KDE: weighted kernel sums, a weighted average of the log
      densities, weighted sigmas and Kish's effective N in Scott's rule. Unlike the plug-in
      estimators this is an approximation to the reweighted distribution, not an exact estimate.
    """

    name = "kde"
    torch_backend = True

    def __init__(self, bandwidth_scale: float = 1.0, min_class_sigma: float = 1e-3, device: Any = None):
        self.bandwidth_scale = positive_float(bandwidth_scale, "bandwidth_scale")
        self.min_class_sigma = non_negative_float(min_class_sigma, "min_class_sigma")
        self.device = check_device(device)

    def _factor(self, n_eff: float, d: int) -> float:
        return self.bandwidth_scale * n_eff ** (-1.0 / (d + 4))

    def _exponent(self, n_eff: float) -> Callable[[int], float]:
        # the Gaussian kernel's exponent on standardised distances is -D / (2 f_d^2)
        return lambda d: 0.5 / self._factor(n_eff, d) ** 2

    def _nats(self, s: float | np.ndarray, g: _Standardised, d: int, log_sigma) -> float | np.ndarray:
        """Entropy (nats) from a pair sum: log p_-i(x_i) = L_i - log(1 - w_i) + log K_d(0)."""
        log_norm = -0.5 * d * _LOG_2PI - log_sigma - d * math.log(self._factor(g.n_eff, d))
        return -(s + log_norm - g.log1m_w)

    def class_floor(self, g: _Standardised) -> np.ndarray | None:
        """Per-column floor of the class sigmas, from the standardisation of all samples."""
        return None if self.min_class_sigma == 0 else self.min_class_sigma * np.exp(g.log_sigma)

    def _group_entropy(self, g: _Standardised, w: np.ndarray) -> float:
        d = g.z.shape[1]
        s = _pair_sum(g.z, w, self._exponent(g.n_eff)(d), include_self=False)
        return float(self._nats(s, g, d, g.log_sigma.sum()))

    def _entropy(self, a, w):
        a = _numbers(a, "a")
        w, (a,) = _drop_unweighted(w, len(a), a)
        return self._group_entropy(_standardise(a, w, "a"), w) / _LN2

    def _mutual_information(self, a, b, w):
        a = _numbers(a, "a")
        w, (a, b) = _drop_unweighted(w, len(a), a, b)
        discrete = _is_discrete(b)
        # Constant columns carry no information (class docstring).
        a = a[:, ~constant_columns(a, None)]
        if not discrete:
            b = b.astype(np.float64)[:, ~constant_columns(b, None)]
        if a.shape[1] == 0 or b.shape[1] == 0:
            return 0.0
        g = _standardise(a, w, "a")
        h_a = self._group_entropy(g, w)
        if discrete:
            floor = self.class_floor(g)
            conditional = 0.0
            for p, idx, wb in _class_parts(_groups(b), w):
                if np.count_nonzero(wb) < 2:
                    conditional += p * h_a  # too few samples: no information (class docstring)
                else:
                    gb = _standardise(a[idx], wb, "a", _label(b, idx[0]), floor)
                    conditional += p * self._group_entropy(gb, wb)
            return (h_a - conditional) / _LN2
        h_b = self._group_entropy(_standardise(b, w, "b"), w)
        return (h_a + h_b - self._group_entropy(_standardise(np.hstack([a, b]), w, "a"), w)) / _LN2

    def _group_leave_one_out(self, g: _Standardised, w, y=None):
        """Entropies (nats) of X, X_i, X_-i (and H(V), H(X,V), H(X_i,V), H(X_-i,V) with y)."""
        n = g.z.shape[1]
        gy = None if y is None else _standardise(y, w, "v")
        s = _leave_one_out_sums(g.z, w, self._exponent(g.n_eff), False, None if gy is None else gy.z)
        total = g.log_sigma.sum()
        h = [
            self._nats(s.joint, g, n, total),
            self._nats(s.single, g, 1, g.log_sigma),
            self._nats(s.complement, g, n - 1, total - g.log_sigma),
        ]
        if gy is not None:
            m, total_v = y.shape[1], gy.log_sigma.sum()
            h += [
                self._nats(s.v, g, m, total_v),
                self._nats(s.joint_v, g, n + m, total + total_v),
                self._nats(s.single_v, g, 1 + m, g.log_sigma + total_v),
                self._nats(s.complement_v, g, n - 1 + m, total - g.log_sigma + total_v),
            ]
        return h

    def _leave_one_out(self, X, v, w):
        if not _is_tensor(X):
            X = _numbers(X, "X")
        return leave_one_out_varying(self, X, v, w, self._leave_one_out_varying, not _is_discrete(v))

    def _leave_one_out_varying(self, X, v, w):
        """Leave-one-out of X and v without constant columns."""
        if _is_tensor(X):
            from .torch_backend import kde_leave_one_out

            return kde_leave_one_out(self, X, v, w)
        w, (X, v) = _drop_unweighted(w, len(X), X, v)
        g = _standardise(X, w, "X")
        if not _is_discrete(v):
            y = v.astype(np.float64)
            h_x, h_xi, h_xc, h_v, h_xv, h_xiv, h_xcv = self._group_leave_one_out(g, w, y=y)
            mi = (h_x + h_v - h_xv, h_xi + h_v - h_xiv, h_xc + h_v - h_xcv)
        else:
            h_all = self._group_leave_one_out(g, w)
            floor = self.class_floor(g)
            conditional = [0.0, np.zeros(X.shape[1]), np.zeros(X.shape[1])]
            for p, idx, wb in _class_parts(_groups(v), w):
                if np.count_nonzero(wb) < 2:
                    h_b = h_all  # too few samples: no information (class docstring)
                else:
                    gb = _standardise(X[idx], wb, "X", _label(v, idx[0]), floor)
                    h_b = self._group_leave_one_out(gb, wb)
                conditional = [acc + p * h for acc, h in zip(conditional, h_b)]
            mi = tuple(h - hc for h, hc in zip(h_all, conditional))
        joint, single, complement = (x / _LN2 for x in mi)
        return LeaveOneOut(float(joint), single, complement)


# -- kde_upper -----------------------------------------------------------------------------------
@register
class KDEUpperEstimator(Estimator):
    """Pairwise-distance upper bound on the entropy of a variable with Gaussian noise added
    (Kolchinsky & Tracey; Saxe et al.), SPEC 3.

    For ``A + N(0, s2 I)`` with A of d columns,
    ``H <= -sum_i w_i log[sum_j w_j exp(-|a_i - a_j|^2 / (2 s2))] + (d/2) log(2 pi e s2)``
    (j runs over all samples, i included). ``entropy(a)`` returns this bound for the noisy A.
    ``mutual_information(a, b)`` adds the noise to the FIRST argument only and returns
    ``I(A + noise; B) = H(A) - sum_b p(b) H(A | B=b)``, grouping the samples by the distinct rows
    of ``b`` (whatever its dtype). With ``a = T = h(X)`` and ``b = X`` of distinct rows this is
    Saxe et al.'s bound ``I(X;T) <= -(1/N) sum_i log[(1/N) sum_j exp(-|h_i - h_j|^2 / (2 s2))]``;
    with ``b`` the class labels it is their I(T;Y). ``leave_one_out(X, v)`` adds the noise to X
    and its subsets.

    Parameters
    ----------
    noise_variance : float, default 1e-3
        The noise variance s2 (Saxe et al.: 1e-3 for the 12-bit task, 0.1 for MNIST).
    device : {None, "cpu", "cuda", "cuda:<index>"} or torch.device
        Run ``leave_one_out`` in torch on this device (a tensor X alone selects its own device);
        None: NumPy. ``entropy`` and ``mutual_information`` always run in NumPy.

    Notes
    -----
    Sample weights enter as weighted means over i and j (and class masses p(b)); this is an
    approximation for a reweighted distribution, not an exact bound for it.

    Examples
    --------
    >>> t = np.arange(8.0)  # eight well-separated points: I(X;T) = log2(8)
    >>> KDEUpperEstimator().mutual_information(t, np.arange(8))
    3.0
    """

    name = "kde_upper"
    torch_backend = True

    def __init__(self, noise_variance: float = 1e-3, device: Any = None):
        self.noise_variance = positive_float(noise_variance, "noise_variance")
        self.device = check_device(device)

    def _exponent(self, d: int) -> float:
        return 0.5 / self.noise_variance

    def _entropy(self, a, w):
        a = _numbers(a, "a")
        w, (a,) = _drop_unweighted(w, len(a), a)
        d = a.shape[1]
        s = _pair_sum(a, w, self._exponent(d), include_self=True)
        return (-s + 0.5 * d * math.log(2.0 * math.pi * math.e * self.noise_variance)) / _LN2

    def _mutual_information(self, a, b, w):
        a = _numbers(a, "a")
        w, (a, b) = _drop_unweighted(w, len(a), a, b)
        c = self._exponent(a.shape[1])
        # The (d/2) log(2 pi e s2) terms cancel; a single-sample class has a pair sum of 0.
        mi = -_pair_sum(a, w, c, include_self=True)
        for p, idx, wb in _class_parts(_groups(b), w):
            if len(idx) > 1:
                mi += p * _pair_sum(a[idx], wb, c, include_self=True)
        return mi / _LN2

    def _leave_one_out(self, X, v, w):
        if _is_tensor(X):
            from .torch_backend import kde_upper_leave_one_out

            return kde_upper_leave_one_out(self, X, v, w)
        X = _numbers(X, "X")
        w, (X, v) = _drop_unweighted(w, len(X), X, v)
        s = _leave_one_out_sums(X, w, self._exponent, include_self=True)
        mi = [-s.joint, -s.single, -s.complement]
        for p, idx, wb in _class_parts(_groups(v), w):
            if len(idx) > 1:
                sb = _leave_one_out_sums(X[idx], wb, self._exponent, include_self=True)
                mi = [acc + p * x for acc, x in zip(mi, sb[:3])]
        joint, single, complement = (x / _LN2 for x in mi)
        return LeaveOneOut(float(joint), single, complement)
